//! Tests and distances on category counts: the 2 x K table of reference and current
//! counts. The free functions take two aligned count vectors (so binned numeric columns
//! can use them too); [`Contingency`] aligns two maps of category -> count first.

use super::DriftError;
use super::distance::{self, proportions};
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};
use std::collections::BTreeMap;

/// A chi-square statistic with its p-value and degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChiSquareResult {
    pub statistic: f64,
    pub p_value: f64,
    pub dof: u64,
    /// Whether Yates' continuity correction was applied.
    pub yates: bool,
}

/// Result of [`z_test`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ZTestResult {
    /// `(p_ref - p_cur) / se` for the first category.
    pub z: f64,
    pub p_value: f64,
}

/// Result of [`l_infinity`]: the largest gap between the two normalised distributions
/// and the (index of the) category where it peaks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LInfinity {
    pub distance: f64,
    pub index: usize,
    /// Set by [`Contingency::l_infinity`].
    pub category: Option<String>,
}

fn check_counts(reference: &[f64], current: &[f64]) -> Result<(f64, f64), DriftError> {
    if reference.len() != current.len() {
        return Err(DriftError::LengthMismatch {
            reference: reference.len(),
            current: current.len(),
        });
    }
    if reference
        .iter()
        .chain(current)
        .any(|c| !c.is_finite() || *c < 0.0)
    {
        return Err(DriftError::InvalidCount);
    }
    let (r, c): (f64, f64) = (reference.iter().sum(), current.iter().sum());
    if r <= 0.0 || c <= 0.0 {
        return Err(DriftError::EmptySample);
    }
    Ok((r, c))
}

fn chi2_sf(statistic: f64, dof: u64) -> f64 {
    if statistic.is_infinite() {
        return 0.0;
    }
    match ChiSquared::new(dof as f64) {
        Ok(d) => d.sf(statistic),
        Err(_) => f64::NAN,
    }
}

/// Pearson's chi-square test of independence on the 2 x K table (reference row, current
/// row), as `scipy.stats.chi2_contingency(table)` with its default `correction=True`:
/// Yates' correction is applied only when dof == 1 (K == 2), moving each observed count
/// towards its expected count by at most 0.5. `yates = false` gives
/// `chi2_contingency(table, correction=False)`.
///
/// Categories with a zero count on both sides must be dropped first ([`Contingency`]
/// does); scipy refuses such a table. A single category gives statistic 0, p = 1, dof 0.
pub fn chi2_contingency(
    reference: &[f64],
    current: &[f64],
    yates: bool,
) -> Result<ChiSquareResult, DriftError> {
    let (r_tot, c_tot) = check_counts(reference, current)?;
    let total = r_tot + c_tot;
    let k = reference.len();
    let dof = (k as u64).saturating_sub(1);
    if dof == 0 {
        return Ok(ChiSquareResult {
            statistic: 0.0,
            p_value: 1.0,
            dof,
            yates: false,
        });
    }
    let yates = yates && dof == 1;
    let mut statistic = 0.0;
    for (r, c) in reference.iter().zip(current) {
        let col = r + c;
        if col == 0.0 {
            return Err(DriftError::EmptySample);
        }
        for (observed, row) in [(*r, r_tot), (*c, c_tot)] {
            let expected = row * col / total;
            let mut o = observed;
            if yates {
                let diff = expected - o;
                o += diff.signum() * diff.abs().min(0.5);
            }
            statistic += (o - expected).powi(2) / expected;
        }
    }
    Ok(ChiSquareResult {
        statistic,
        p_value: chi2_sf(statistic, dof),
        dof,
        yates,
    })
}

/// Evidently's `chisquare` drift test: goodness of fit of the current counts against
/// the reference counts rescaled to the current total (`ref * n_cur / n_ref`), dof K-1,
/// i.e. `scipy.stats.chisquare(cur, ref * n_cur / n_ref)`. A category absent from the
/// reference but present now gives an infinite statistic and p = 0, as in scipy.
/// A single category gives p = 1 (scipy: NaN).
pub fn chi2_goodness_of_fit(
    reference: &[f64],
    current: &[f64],
) -> Result<ChiSquareResult, DriftError> {
    let (r_tot, c_tot) = check_counts(reference, current)?;
    let dof = (reference.len() as u64).saturating_sub(1);
    let scale = c_tot / r_tot;
    let mut statistic = 0.0;
    for (r, c) in reference.iter().zip(current) {
        let expected = r * scale;
        statistic += if expected == 0.0 {
            if *c == 0.0 { 0.0 } else { f64::INFINITY }
        } else {
            (c - expected).powi(2) / expected
        };
    }
    let p_value = if dof == 0 {
        1.0
    } else {
        chi2_sf(statistic, dof)
    };
    Ok(ChiSquareResult {
        statistic,
        p_value,
        dof,
        yates: false,
    })
}

/// Evidently's `z` drift test for at most two categories: two-proportion z-test with a
/// pooled proportion, `z = (p_ref - p_cur) / sqrt(P (1 - P) (1/n_ref + 1/n_cur))` for the
/// first category, two-sided `p = 2 sf(|z|)`. When every value on both sides is the same
/// category there is nothing to test: z = 0, p = 1 (Evidently's special case).
pub fn z_test(reference: &[f64], current: &[f64]) -> Result<ZTestResult, DriftError> {
    let (n1, n2) = check_counts(reference, current)?;
    if reference.len() > 2 {
        return Err(DriftError::TooManyCategories(reference.len()));
    }
    let (p1, p2) = (reference[0] / n1, current[0] / n2);
    let pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
    let var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    if var <= 0.0 {
        return Ok(ZTestResult {
            z: 0.0,
            p_value: 1.0,
        });
    }
    let z = (p1 - p2) / var.sqrt();
    let p_value = Normal::standard().sf(z.abs()) * 2.0;
    Ok(ZTestResult {
        z,
        p_value: p_value.min(1.0),
    })
}

/// Cramér's V of the 2 x K table, `sqrt(chi2 / (N (min(2, K) - 1)))` from the chi-square
/// statistic *without* Yates' correction, as `scipy.stats.contingency.association`.
/// 0 for a single category (no association can be measured).
pub fn cramers_v(reference: &[f64], current: &[f64]) -> Result<f64, DriftError> {
    let (r_tot, c_tot) = check_counts(reference, current)?;
    if reference.len() < 2 {
        return Ok(0.0);
    }
    let chi2 = chi2_contingency(reference, current, false)?.statistic;
    Ok((chi2 / (r_tot + c_tot)).sqrt())
}

/// TFDV's L-infinity distance: each side normalised by its own total,
/// `max |p_i - q_i|` and where it peaks. On ties the last category wins, as in TFDV
/// (which compares with `>=` while walking its sorted map).
pub fn l_infinity(reference: &[f64], current: &[f64]) -> Result<LInfinity, DriftError> {
    let (p, q) = proportions(reference, current)?;
    let mut best = LInfinity {
        distance: 0.0,
        index: 0,
        category: None,
    };
    for (i, (p, q)) in p.iter().zip(&q).enumerate() {
        let d = (p - q).abs();
        if d >= best.distance {
            best.distance = d;
            best.index = i;
        }
    }
    Ok(best)
}

/// Total variation distance, `0.5 sum |p_i - q_i|` over the normalised distributions.
pub fn total_variation(reference: &[f64], current: &[f64]) -> Result<f64, DriftError> {
    let (p, q) = proportions(reference, current)?;
    Ok(0.5 * p.iter().zip(&q).map(|(p, q)| (p - q).abs()).sum::<f64>())
}

/// Reference and current counts aligned on the union of their categories (sorted), so a
/// category seen on one side only keeps its own row with a 0 on the other side.
/// Categories whose count is 0 on both sides are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contingency {
    pub categories: Vec<String>,
    pub reference: Vec<u64>,
    pub current: Vec<u64>,
}

impl Contingency {
    pub fn from_maps(reference: &BTreeMap<String, u64>, current: &BTreeMap<String, u64>) -> Self {
        let mut rows: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for (k, v) in reference {
            rows.entry(k).or_default().0 += v;
        }
        for (k, v) in current {
            rows.entry(k).or_default().1 += v;
        }
        let mut out = Self {
            categories: Vec::with_capacity(rows.len()),
            reference: Vec::with_capacity(rows.len()),
            current: Vec::with_capacity(rows.len()),
        };
        for (k, (r, c)) in rows {
            if r + c > 0 {
                out.categories.push(k.to_string());
                out.reference.push(r);
                out.current.push(c);
            }
        }
        out
    }

    /// Like [`Contingency::from_maps`]; repeated categories are summed.
    pub fn from_pairs(reference: &[(String, u64)], current: &[(String, u64)]) -> Self {
        let collect = |pairs: &[(String, u64)]| {
            let mut m: BTreeMap<String, u64> = BTreeMap::new();
            for (k, v) in pairs {
                *m.entry(k.clone()).or_default() += v;
            }
            m
        };
        Self::from_maps(&collect(reference), &collect(current))
    }

    pub fn reference_f64(&self) -> Vec<f64> {
        self.reference.iter().map(|c| *c as f64).collect()
    }

    pub fn current_f64(&self) -> Vec<f64> {
        self.current.iter().map(|c| *c as f64).collect()
    }

    /// [`chi2_contingency`] with scipy's default (Yates only when dof == 1).
    pub fn chi2_contingency(&self) -> Result<ChiSquareResult, DriftError> {
        chi2_contingency(&self.reference_f64(), &self.current_f64(), true)
    }

    /// [`chi2_goodness_of_fit`] (Evidently's `chisquare`).
    pub fn chi2_goodness_of_fit(&self) -> Result<ChiSquareResult, DriftError> {
        chi2_goodness_of_fit(&self.reference_f64(), &self.current_f64())
    }

    /// [`z_test`] (Evidently's `z`); the sign of z refers to `categories[0]`.
    pub fn z_test(&self) -> Result<ZTestResult, DriftError> {
        z_test(&self.reference_f64(), &self.current_f64())
    }

    pub fn cramers_v(&self) -> Result<f64, DriftError> {
        cramers_v(&self.reference_f64(), &self.current_f64())
    }

    /// [`l_infinity`] with the category name filled in.
    pub fn l_infinity(&self) -> Result<LInfinity, DriftError> {
        let mut r = l_infinity(&self.reference_f64(), &self.current_f64())?;
        r.category = self.categories.get(r.index).cloned();
        Ok(r)
    }

    pub fn total_variation(&self) -> Result<f64, DriftError> {
        total_variation(&self.reference_f64(), &self.current_f64())
    }

    /// Jensen-Shannon distance, natural log (Evidently's `jensenshannon`).
    pub fn jensen_shannon(&self) -> Result<f64, DriftError> {
        distance::jensen_shannon_distance(&self.reference_f64(), &self.current_f64(), None)
    }

    pub fn psi(&self) -> Result<f64, DriftError> {
        distance::psi(&self.reference_f64(), &self.current_f64())
    }

    pub fn kl_divergence(&self) -> Result<f64, DriftError> {
        distance::kl_divergence(&self.reference_f64(), &self.current_f64())
    }

    pub fn hellinger(&self) -> Result<f64, DriftError> {
        distance::hellinger(&self.reference_f64(), &self.current_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{assert_close, load};
    use super::*;

    #[test]
    fn categorical_tests_match_scipy() {
        for c in &load().categorical {
            let t = Contingency::from_maps(&c.reference, &c.cur);
            let name = &c.name;
            assert_eq!(t.categories, c.keys, "{name}: categories");

            let chi = t.chi2_contingency().unwrap();
            assert_close(chi.statistic, c.chi2, &format!("{name}: chi2"));
            assert_close(chi.p_value, c.chi2_p, &format!("{name}: chi2 p"));
            assert_eq!(chi.dof, c.chi2_dof, "{name}: dof");
            assert_eq!(chi.yates, c.chi2_dof == 1, "{name}: yates");

            let (r, cur) = (t.reference_f64(), t.current_f64());
            let nc = chi2_contingency(&r, &cur, false).unwrap();
            assert_close(
                nc.statistic,
                c.chi2_nc,
                &format!("{name}: chi2 uncorrected"),
            );
            assert_close(
                nc.p_value,
                c.chi2_nc_p,
                &format!("{name}: chi2 uncorrected p"),
            );

            let gof = t.chi2_goodness_of_fit().unwrap();
            assert_close(gof.statistic, c.gof_chi2, &format!("{name}: gof"));
            assert_close(gof.p_value, c.gof_p, &format!("{name}: gof p"));

            assert_close(t.cramers_v().unwrap(), c.cramer_v, &format!("{name}: V"));
            let linf = t.l_infinity().unwrap();
            assert_close(linf.distance, c.linf, &format!("{name}: linf"));
            assert_eq!(
                linf.category.as_deref(),
                Some(c.linf_key.as_str()),
                "{name}"
            );
            assert_close(t.total_variation().unwrap(), c.tvd, &format!("{name}: tvd"));
            assert_close(t.jensen_shannon().unwrap(), c.js, &format!("{name}: js"));
            assert_close(t.psi().unwrap(), c.psi, &format!("{name}: psi"));
            assert_close(t.kl_divergence().unwrap(), c.kl, &format!("{name}: kl"));
            assert_close(
                t.hellinger().unwrap(),
                c.hellinger,
                &format!("{name}: hellinger"),
            );

            match (c.z, c.z_p) {
                (Some(z), Some(p)) => {
                    let zt = t.z_test().unwrap();
                    assert_close(zt.z, z, &format!("{name}: z"));
                    assert_close(zt.p_value, p, &format!("{name}: z p"));
                }
                _ => assert!(t.z_test().is_err(), "{name}: z-test needs <= 2 categories"),
            }
        }
    }

    #[test]
    fn unseen_categories_keep_their_own_rows() {
        let t = Contingency::from_pairs(
            &[("a".into(), 3), ("b".into(), 0), ("a".into(), 2)],
            &[("c".into(), 4), ("zero".into(), 0)],
        );
        assert_eq!(t.categories, ["a", "c"]);
        assert_eq!(t.reference, [5, 0]);
        assert_eq!(t.current, [0, 4]);
        let gof = t.chi2_goodness_of_fit().unwrap();
        assert!(gof.statistic.is_infinite());
        assert_eq!(gof.p_value, 0.0);
    }

    #[test]
    fn degenerate_tables() {
        let one = Contingency::from_pairs(&[("a".into(), 5)], &[("a".into(), 7)]);
        let chi = one.chi2_contingency().unwrap();
        assert_eq!((chi.statistic, chi.p_value, chi.dof), (0.0, 1.0, 0));
        assert_eq!(one.chi2_goodness_of_fit().unwrap().p_value, 1.0);
        assert_eq!(
            one.z_test().unwrap(),
            ZTestResult {
                z: 0.0,
                p_value: 1.0
            }
        );
        assert_eq!(one.cramers_v().unwrap(), 0.0);
        let empty = Contingency::from_pairs(&[("a".into(), 5)], &[]);
        assert_eq!(empty.chi2_contingency(), Err(DriftError::EmptySample));
        assert_eq!(empty.z_test(), Err(DriftError::EmptySample));
        assert_eq!(
            z_test(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]),
            Err(DriftError::TooManyCategories(3))
        );
    }

    #[test]
    fn l_infinity_ties_go_to_the_last_category() {
        let r = l_infinity(&[1.0, 0.0, 1.0], &[0.0, 1.0, 1.0]).unwrap();
        assert_eq!(r.index, 1);
        assert_eq!(r.distance, 0.5);
    }

    #[test]
    fn two_halves_of_one_categorical_sample_do_not_drift() {
        use super::super::{Method, drifted};
        let mut state = 12345u64;
        let mut halves = [BTreeMap::new(), BTreeMap::new()];
        for i in 0..6000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Skewed categories: small indices far more common than large ones.
            let k = ((state >> 33) % 1000).pow(2) / 40_000;
            *halves[i % 2].entry(format!("c{k}")).or_insert(0u64) += 1;
        }
        let t = Contingency::from_maps(&halves[0], &halves[1]);
        let js = t.jensen_shannon().unwrap();
        assert!(!drifted(js, Method::JensenShannon, 0.1), "js {js}");
        for (m, v) in [
            (Method::Psi, t.psi().unwrap()),
            (Method::KlDiv, t.kl_divergence().unwrap()),
            (Method::Hellinger, t.hellinger().unwrap()),
        ] {
            assert!(!drifted(v, m, m.default_threshold()), "{m}: {v}");
        }
    }
}
