//! Evidently's choice of drift method per column and its drift decision rule.
//!
//! The rules are kept in one place, [`AUTO_METHOD_HELP`], which both the docs of
//! [`auto_method`] and the CLI's `--help` show.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The rules table, as a macro so that it can be both a `const` and a doc attribute.
macro_rules! auto_method_rules {
    () => {
        "Default method (rows = rows of the reference set; distinct = distinct non-null values\n\
over both sets together):\n\
\n\
| reference rows | column | distinct values | method | default threshold | drift when |\n\
| --- | --- | --- | --- | --- | --- |\n\
| <= 1000 | numeric | <= 2 | z-test (`z`) | 0.05 | p < threshold |\n\
| <= 1000 | numeric | 3 to 5 | chi-square (`chisquare`) | 0.05 | p < threshold |\n\
| <= 1000 | numeric | > 5 | Kolmogorov-Smirnov (`ks`) | 0.05 | p <= threshold |\n\
| <= 1000 | categorical | <= 2 | z-test (`z`) | 0.05 | p < threshold |\n\
| <= 1000 | categorical | > 2 | chi-square (`chisquare`) | 0.05 | p < threshold |\n\
| > 1000 | numeric | <= 5 | Jensen-Shannon distance (`jensenshannon`) | 0.1 | distance >= threshold |\n\
| > 1000 | numeric | > 5 | normalised Wasserstein (`wasserstein`) | 0.1 | distance >= threshold |\n\
| > 1000 | categorical | any | Jensen-Shannon distance (`jensenshannon`) | 0.1 | distance >= threshold |\n\
\n\
Methods only chosen by hand: PSI (`psi`), KL divergence (`kl_div`), Hellinger\n\
(`hellinger`), TFDV's Jensen-Shannon divergence (`js_divergence`: log2, on ten\n\
equal-width buckets per side rebucketed onto their union for numbers, on proportions\n\
for categories; not square-rooted), and for categories TFDV's L-infinity (`linf`) and\n\
the total variation distance (`tvd`); all distances with threshold 0.1, drift when the\n\
distance >= threshold.\n\
Aliases: `kl` = `kl_div`, `ztest` = `z`, `tfdv_js` = `js_divergence`.\n"
    };
}

/// Evidently's default method choice and drift rules, as a Markdown table that also
/// reads well in a terminal (for `--help`).
pub const AUTO_METHOD_HELP: &str = auto_method_rules!();

/// A drift method, named as in Evidently (`stattest=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Two-sample Kolmogorov-Smirnov, p-value ([`super::ks_2samp`]).
    Ks,
    /// Chi-square goodness of fit against the rescaled reference, p-value
    /// ([`super::chi2_goodness_of_fit`]).
    ChiSquare,
    /// Chi-square test of independence on the 2 x K table of counts, p-value, as
    /// `scipy.stats.chi2_contingency` ([`super::chi2_contingency`]).
    Chi2Contingency,
    /// Two-proportion z-test, p-value ([`super::z_test`]).
    ZTest,
    /// Wasserstein distance over the reference std ([`super::wasserstein_distance_norm`]).
    Wasserstein,
    /// Jensen-Shannon distance, natural log ([`super::jensen_shannon_distance`]).
    JensenShannon,
    /// Population stability index ([`super::psi`]).
    Psi,
    /// Kullback-Leibler divergence ([`super::kl_divergence`]).
    KlDiv,
    /// Hellinger distance ([`super::hellinger`]).
    Hellinger,
    /// TFDV's L-infinity distance on category proportions ([`super::l_infinity`]).
    Linf,
    /// Total variation distance on category proportions ([`super::total_variation`]).
    Tvd,
    /// TFDV's Jensen-Shannon divergence, log2 ([`super::tfdv_jensen_shannon`] on equal-width
    /// histograms for numbers; on proportions for categories).
    JsDivergence,
}

/// Whether a method yields a p-value (small = drift) or a distance (large = drift).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    PValue,
    Distance,
}

impl Method {
    pub const ALL: [Method; 12] = [
        Method::Ks,
        Method::ChiSquare,
        Method::Chi2Contingency,
        Method::ZTest,
        Method::Wasserstein,
        Method::JensenShannon,
        Method::Psi,
        Method::KlDiv,
        Method::Hellinger,
        Method::Linf,
        Method::Tvd,
        Method::JsDivergence,
    ];

    pub fn kind(self) -> MethodKind {
        match self {
            Method::Ks | Method::ChiSquare | Method::Chi2Contingency | Method::ZTest => {
                MethodKind::PValue
            }
            _ => MethodKind::Distance,
        }
    }

    /// Evidently's defaults: 0.05 for p-value tests, 0.1 for distances. TFDV has no
    /// default for L-infinity (a check runs only where a schema sets one); 0.1 here too.
    pub fn default_threshold(self) -> f64 {
        match self.kind() {
            MethodKind::PValue => 0.05,
            MethodKind::Distance => 0.1,
        }
    }

    /// Evidently's name for the method.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Ks => "ks",
            Method::ChiSquare => "chisquare",
            Method::Chi2Contingency => "chi2_contingency",
            Method::ZTest => "z",
            Method::Wasserstein => "wasserstein",
            Method::JensenShannon => "jensenshannon",
            Method::Psi => "psi",
            Method::KlDiv => "kl_div",
            Method::Hellinger => "hellinger",
            Method::Linf => "linf",
            Method::Tvd => "tvd",
            Method::JsDivergence => "js_divergence",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of [`Method::from_str`]: the name is not one of [`Method::as_str`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMethod(pub String);

impl fmt::Display for UnknownMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
        write!(
            f,
            "unknown drift method '{}': expected one of {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownMethod {}

impl Method {
    /// Other names accepted for the method (lower case; [`Method::from_str`] ignores case).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Method::KlDiv => &["kl"],
            Method::ZTest => &["ztest", "z_test"],
            Method::Linf => &["l_infinity", "linfty"],
            Method::ChiSquare => &["chi2", "chi_square"],
            Method::Chi2Contingency => &["contingency"],
            Method::JsDivergence => &["tfdv_js", "jensen_shannon_divergence"],
            _ => &[],
        }
    }
}

impl FromStr for Method {
    type Err = UnknownMethod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| {
                m.as_str().eq_ignore_ascii_case(s)
                    || m.aliases().iter().any(|a| a.eq_ignore_ascii_case(s))
            })
            .ok_or_else(|| UnknownMethod(s.to_string()))
    }
}

/// Evidently's default method for a column: `reference_rows` is the row count of the
/// reference set, `n_unique_both` the distinct non-null values over reference and
/// current together.
///
#[doc = auto_method_rules!()]
pub fn auto_method(reference_rows: u64, n_unique_both: u64, is_numeric: bool) -> Method {
    if reference_rows <= 1000 {
        if is_numeric && n_unique_both > 5 {
            Method::Ks
        } else if n_unique_both > 2 {
            Method::ChiSquare
        } else {
            Method::ZTest
        }
    } else if is_numeric && n_unique_both > 5 {
        Method::Wasserstein
    } else {
        Method::JensenShannon
    }
}

/// Evidently's drift decision: KS drifts when `p <= threshold`, the other p-value tests
/// when `p < threshold`, distances when `distance >= threshold`. NaN never drifts.
pub fn drifted(stat_or_p: f64, method: Method, threshold: f64) -> bool {
    match (method, method.kind()) {
        (Method::Ks, _) => stat_or_p <= threshold,
        (_, MethodKind::PValue) => stat_or_p < threshold,
        (_, MethodKind::Distance) => stat_or_p >= threshold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_method_follows_evidentlys_table() {
        let cases = [
            // (reference rows, distinct, numeric, expected)
            (10, 1, true, Method::ZTest),
            (1000, 2, true, Method::ZTest),
            (1000, 3, true, Method::ChiSquare),
            (500, 5, true, Method::ChiSquare),
            (500, 6, true, Method::Ks),
            (1000, 900, true, Method::Ks),
            (200, 2, false, Method::ZTest),
            (200, 3, false, Method::ChiSquare),
            (1000, 50, false, Method::ChiSquare),
            (1001, 1, true, Method::JensenShannon),
            (1001, 5, true, Method::JensenShannon),
            (1001, 6, true, Method::Wasserstein),
            (1_000_000, 999_999, true, Method::Wasserstein),
            (1001, 2, false, Method::JensenShannon),
            (5000, 300, false, Method::JensenShannon),
        ];
        for (rows, distinct, numeric, want) in cases {
            assert_eq!(
                auto_method(rows, distinct, numeric),
                want,
                "rows={rows} distinct={distinct} numeric={numeric}"
            );
        }
    }

    #[test]
    fn help_table_agrees_with_auto_method() {
        let mut rows = 0;
        for line in AUTO_METHOD_HELP.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, refs, column, distinct, method, threshold, _, _] = cells[..] else {
                continue;
            };
            let Some(name) = method.split('`').nth(1) else {
                continue;
            };
            let method: Method = name.parse().unwrap();
            assert_eq!(
                threshold.parse::<f64>().unwrap(),
                method.default_threshold()
            );
            let ref_rows: &[u64] = if refs == "<= 1000" {
                &[1, 1000]
            } else {
                &[1001, 10_000_000]
            };
            let distinct: Vec<u64> = match distinct {
                "<= 2" => vec![1, 2],
                "3 to 5" => vec![3, 5],
                "> 2" => vec![3, 100],
                "<= 5" => vec![1, 5],
                "> 5" => vec![6, 1000],
                "any" => vec![1, 2, 6, 1000],
                other => panic!("unknown distinct spec {other}"),
            };
            for &r in ref_rows {
                for &d in &distinct {
                    assert_eq!(auto_method(r, d, column == "numeric"), method, "{line}");
                }
            }
            rows += 1;
        }
        assert_eq!(rows, 8);
    }

    #[test]
    fn drift_rule_boundaries() {
        assert!(drifted(0.05, Method::Ks, 0.05));
        assert!(!drifted(0.05, Method::ChiSquare, 0.05));
        assert!(!drifted(0.05, Method::ZTest, 0.05));
        assert!(drifted(0.049, Method::ZTest, 0.05));
        for m in [
            Method::Wasserstein,
            Method::JensenShannon,
            Method::Psi,
            Method::KlDiv,
            Method::Hellinger,
            Method::Linf,
            Method::Tvd,
            Method::JsDivergence,
        ] {
            assert!(drifted(0.1, m, m.default_threshold()));
            assert!(!drifted(0.0999, m, m.default_threshold()));
        }
        for m in Method::ALL {
            assert!(!drifted(f64::NAN, m, m.default_threshold()));
        }
    }

    #[test]
    fn names_round_trip() {
        for m in Method::ALL {
            assert_eq!(m.as_str().parse::<Method>(), Ok(m));
        }
        assert!("nope".parse::<Method>().is_err());
        assert_eq!("kl".parse::<Method>(), Ok(Method::KlDiv));
        assert_eq!("ztest".parse::<Method>(), Ok(Method::ZTest));
        assert_eq!("tfdv_js".parse::<Method>(), Ok(Method::JsDivergence));
        assert_eq!(Method::KlDiv.default_threshold(), 0.1);
        assert_eq!(Method::Ks.default_threshold(), 0.05);
    }
}
