//! Validate a profile against a schema: every check that the profile can answer, with no
//! pass over the data. Checks the profile cannot answer (uniqueness, patterns, custom
//! SQL) and example rows for anomalies found here are [`crate::data`]'s job.

use std::collections::HashSet;

use preflight_stats::Severity;
use preflight_stats::profile::{ColumnProfile, Kind, Profile};
use serde::Serialize;
use serde_json::{Value, json};

use crate::compare::ComparatorResult;
use crate::model::{DomainValue, Feature, NewColumns, Role, Schema};
use crate::types::{compatible, family, family_name};

/// Anomaly kinds: stable snake_case names scripts match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    MissingColumn,
    LabelMissing,
    LabelUnexpected,
    UnexpectedInEnvironment,
    NewColumn,
    TypeMismatch,
    AllNull,
    LowPresence,
    OutOfDomain,
    OutOfRange,
    NonFinite,
    NotUnique,
    StringLength,
    PatternMismatch,
    RowCount,
    CustomCheck,
    DriftExceeded,
    SkewExceeded,
    NotCompared,
    MetricAnomaly,
    Freshness,
}

impl AnomalyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingColumn => "missing_column",
            Self::LabelMissing => "label_missing",
            Self::LabelUnexpected => "label_unexpected",
            Self::UnexpectedInEnvironment => "unexpected_in_environment",
            Self::NewColumn => "new_column",
            Self::TypeMismatch => "type_mismatch",
            Self::AllNull => "all_null",
            Self::LowPresence => "low_presence",
            Self::OutOfDomain => "out_of_domain",
            Self::OutOfRange => "out_of_range",
            Self::NonFinite => "non_finite",
            Self::NotUnique => "not_unique",
            Self::StringLength => "string_length",
            Self::PatternMismatch => "pattern_mismatch",
            Self::RowCount => "row_count",
            Self::CustomCheck => "custom_check",
            Self::DriftExceeded => "drift_exceeded",
            Self::SkewExceeded => "skew_exceeded",
            Self::NotCompared => "not_compared",
            Self::MetricAnomaly => "metric_anomaly",
            Self::Freshness => "freshness",
        }
    }

    /// Missing columns (and a missing label) come first in every report.
    pub fn is_missing(self) -> bool {
        matches!(self, Self::MissingColumn | Self::LabelMissing)
    }
}

/// A value counted among the unexpected ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueCount {
    pub value: Value,
    pub count: u64,
}

/// An example row: 0-based position in the input's row order, and the offending value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    pub row: u64,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    pub column: Option<String>,
    pub kind: AnomalyKind,
    pub severity: Severity,
    /// One sentence with the observed and the expected values.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    /// Rows whose value broke the check, and their share of the present values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexpected_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexpected_share: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unexpected_values: Vec<ValueCount>,
    /// Up to 20 example rows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Example>,
    /// Drift and skew: the comparison that exceeded its threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<ComparatorResult>,
    /// History checks: the metric (`rows`, `price.mean`), the strategy, and how many past
    /// runs it was judged against; `observed` is the value, `expected` the interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history_runs: Option<usize>,
    /// `validate --by`: the slice (`country_US`) the anomaly was found in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice: Option<String>,
}

impl Anomaly {
    pub fn new(
        column: Option<&str>,
        kind: AnomalyKind,
        severity: Severity,
        message: String,
    ) -> Self {
        Self {
            column: column.map(str::to_string),
            kind,
            severity,
            message,
            observed: None,
            expected: None,
            unexpected_count: None,
            unexpected_share: None,
            unexpected_values: Vec::new(),
            examples: Vec::new(),
            comparison: None,
            metric: None,
            strategy: None,
            history_runs: None,
            slice: None,
        }
    }

    pub(crate) fn with(mut self, observed: Value, expected: Value) -> Self {
        self.observed = Some(observed);
        self.expected = Some(expected);
        self
    }
}

/// What `data` must look for in the rows to count and show an anomaly's examples.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Text of the value not among these.
    NotIn(HashSet<String>),
    /// Text of the value among these (the repeated values of a unique column): finds
    /// their rows.
    In(HashSet<String>),
    OutOfRange {
        min: Option<f64>,
        max: Option<f64>,
    },
    NonFinite,
    /// Does not convert to the expected type (its name as the schema spells it).
    NotParse(String),
    /// A number with a fractional part (or NaN, infinite) where integers are expected.
    NotInteger,
    Length {
        min: Option<u64>,
        max: Option<u64>,
    },
    Pattern(String),
}

/// One check and its result.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub column: Option<String>,
    /// What was checked: `column`, `type`, `presence`, `domain`, `range`, `finite`,
    /// `unique`, `length`, `pattern`, `rows`, `new_columns`, or a custom check's name.
    pub check: String,
    pub anomaly: Option<Anomaly>,
    /// Set when the rows must be read: to find examples (and exact counts) for the
    /// anomaly, or to decide the check at all (`pattern`: `anomaly` is then `None` until
    /// the rows are read). `mostly` is the passing fraction the scan compares with.
    pub scan: Option<(Matcher, Option<f64>)>,
}

impl Outcome {
    pub(crate) fn pass(column: &str, check: &str) -> Self {
        Self {
            column: Some(column.to_string()),
            check: check.to_string(),
            anomaly: None,
            scan: None,
        }
    }

    fn fail(column: &str, check: &str, a: Anomaly, scan: Option<Matcher>) -> Self {
        Self {
            column: Some(column.to_string()),
            check: check.to_string(),
            anomaly: Some(a),
            scan: scan.map(|m| (m, None)),
        }
    }
}

/// The result of validating one dataset.
#[derive(Debug, Clone)]
pub struct Validation {
    pub rows: u64,
    pub environment: Option<String>,
    pub outcomes: Vec<Outcome>,
    /// Drift and skew comparators checked ([`crate::compare`]), passed or not.
    pub comparisons: Vec<ComparatorResult>,
}

impl Validation {
    /// The anomalies, missing columns first (one per feature), then by severity, then in
    /// schema order.
    pub fn anomalies(&self) -> Vec<&Anomaly> {
        let mut a: Vec<(usize, &Anomaly)> = self
            .outcomes
            .iter()
            .filter_map(|o| o.anomaly.as_ref())
            .enumerate()
            .collect();
        a.sort_by_key(|(i, x)| (!x.kind.is_missing(), std::cmp::Reverse(x.severity), *i));
        a.into_iter().map(|(_, x)| x).collect()
    }
}

/// A fraction as a percentage, with more digits below 1%.
pub(crate) fn pct(x: f64) -> String {
    let p = 100.0 * x;
    if p == 0.0 || p >= 1.0 || p <= -1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.3}%")
    }
}

/// The environment features are checked for: the one asked for, else the schema's default.
pub fn environment<'a>(schema: &'a Schema, asked: Option<&'a str>) -> Option<&'a str> {
    asked.or(schema.dataset.default_environment.as_deref())
}

/// Whether checking `f` needs more of its column than a profile's summary (counts,
/// extremes, moments, NaN and infinities; see
/// `preflight_stats::source::Dataset::profile_summarising`): a domain is checked on value
/// counts, and a `drift` or `skew` comparator in use (`drift`, `skew`: its other side is
/// given) compares distributions. Presence, type, range and finiteness need only the
/// summary; uniqueness and patterns read the rows.
pub fn needs_full_profile(f: &Feature, drift: bool, skew: bool) -> bool {
    f.domain.is_some() || (drift && f.drift.is_some()) || (skew && f.skew.is_some())
}

/// Check `profile` against `schema` in `environment`.
pub fn validate(schema: &Schema, profile: &Profile, environment: Option<&str>) -> Validation {
    let mut outcomes = Vec::new();
    for f in &schema.features {
        check_feature(f, profile.column(&f.name), environment, &mut outcomes);
    }
    if schema.dataset.new_columns != NewColumns::Allow {
        let severity = if schema.dataset.new_columns == NewColumns::Error {
            Severity::Error
        } else {
            Severity::Warning
        };
        for c in &profile.columns {
            if schema.feature(&c.name).is_none() {
                let a = Anomaly::new(
                    Some(&c.name),
                    AnomalyKind::NewColumn,
                    severity,
                    format!("column `{}` ({}) is not in the schema", c.name, c.type_name),
                )
                .with(json!(c.type_name), Value::Null);
                outcomes.push(Outcome::fail(&c.name, "new_columns", a, None));
            }
        }
    }
    if let Some(r) = &schema.dataset.rows {
        let n = profile.row_count;
        let low = r.min.is_some_and(|m| n < m);
        let high = r.max.is_some_and(|m| n > m);
        let bounds = match (r.min, r.max) {
            (Some(a), Some(b)) => format!("between {a} and {b}"),
            (Some(a), None) => format!("at least {a}"),
            (None, Some(b)) => format!("at most {b}"),
            (None, None) => "any number".into(),
        };
        outcomes.push(Outcome {
            column: None,
            check: "rows".into(),
            anomaly: (low || high).then(|| {
                Anomaly::new(
                    None,
                    AnomalyKind::RowCount,
                    r.severity,
                    format!("the data has {n} rows, expected {bounds}"),
                )
                .with(json!(n), json!({"min": r.min, "max": r.max}))
            }),
            scan: None,
        });
    }
    Validation {
        rows: profile.row_count,
        environment: environment.map(str::to_string),
        outcomes,
        comparisons: Vec::new(),
    }
}

/// `validate --by`: the value checks a profile answers (presence, domain, range,
/// finiteness, string length, all null), checked in each slice (`(key, profile)`). Each
/// anomaly names its slice; what concerns the dataset as a whole (missing or new columns,
/// types, row counts) is reported once, by the whole data's validation.
pub fn validate_slices(
    schema: &Schema,
    slices: &[(&str, &Profile)],
    environment: Option<&str>,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    for (key, profile) in slices {
        let v = validate(schema, profile, environment);
        for o in v.outcomes {
            let keep = o.anomaly.as_ref().is_none_or(|a| {
                matches!(
                    a.kind,
                    AnomalyKind::LowPresence
                        | AnomalyKind::OutOfDomain
                        | AnomalyKind::OutOfRange
                        | AnomalyKind::NonFinite
                        | AnomalyKind::StringLength
                        | AnomalyKind::AllNull
                )
            });
            if !keep
                || !matches!(
                    o.check.as_str(),
                    "presence" | "domain" | "range" | "finite" | "length"
                )
            {
                continue;
            }
            out.push(in_slice(o, key));
        }
    }
    out
}

/// An outcome of one slice's checks, named after the slice: the check `presence@key`, the
/// anomaly's message and `slice`. Counts of the slice only: its example rows are not
/// looked for.
pub fn in_slice(mut o: Outcome, key: &str) -> Outcome {
    o.check = format!("{}@{key}", o.check);
    o.scan = None;
    if let Some(a) = &mut o.anomaly {
        a.message = format!("slice `{key}`: {}", a.message);
        a.slice = Some(key.to_string());
        a.examples.clear();
    }
    o
}

/// Data without a single row: no feature check can run, and an empty batch must never
/// pass. A `row_count` anomaly at error severity whatever the schema's bound (its severity
/// was chosen for a short batch, not for one with nothing to check); a schema that
/// allows empty data explicitly (`rows: {min: 0}`) gets it as a warning.
pub fn no_rows(schema: &Schema, environment: Option<&str>) -> Validation {
    let rows = schema.dataset.rows.as_ref();
    let (min, max) = (rows.and_then(|r| r.min), rows.and_then(|r| r.max));
    let allowed = min == Some(0);
    let severity = if allowed {
        Severity::Warning
    } else {
        Severity::Error
    };
    let a = Anomaly::new(
        None,
        AnomalyKind::RowCount,
        severity,
        format!(
            "the data has no rows, expected at least {}; none of the {} features could be checked",
            min.unwrap_or(1),
            schema.features.len()
        ),
    )
    .with(json!(0), json!({"min": min.unwrap_or(1), "max": max}));
    Validation {
        rows: 0,
        environment: environment.map(str::to_string),
        outcomes: vec![Outcome {
            column: None,
            check: "rows".into(),
            anomaly: Some(a),
            scan: None,
        }],
        comparisons: Vec::new(),
    }
}

fn check_feature(
    f: &Feature,
    col: Option<&ColumnProfile>,
    env: Option<&str>,
    out: &mut Vec<Outcome>,
) {
    let name = f.name.as_str();
    let expected_here = match env {
        Some(e) => f.environments.is_empty() || f.environments.iter().any(|x| x == e),
        None => true,
    };
    let is_label = f.role == Role::Label;
    if !expected_here {
        let env = env.unwrap_or_default();
        let anomaly = col.map(|_| {
            let (kind, severity, what) = if is_label {
                (AnomalyKind::LabelUnexpected, Severity::Error, "label")
            } else {
                (
                    AnomalyKind::UnexpectedInEnvironment,
                    Severity::Warning,
                    "column",
                )
            };
            Anomaly::new(
                Some(name),
                kind,
                severity,
                format!(
                    "{what} `{name}` is present in environment `{env}`, where the schema \
                     expects it only in {}",
                    f.environments.join(", ")
                ),
            )
        });
        out.push(Outcome {
            column: Some(name.into()),
            check: "column".into(),
            anomaly,
            scan: None,
        });
        return;
    }
    let Some(c) = col else {
        let (kind, what) = if is_label {
            (AnomalyKind::LabelMissing, "label")
        } else {
            (AnomalyKind::MissingColumn, "column")
        };
        let env = env
            .map(|e| format!(" (environment `{e}`)"))
            .unwrap_or_default();
        let a = Anomaly::new(
            Some(name),
            kind,
            f.severity,
            format!(
                "{what} `{name}` ({}) is missing from the data{env}",
                f.type_name
            ),
        )
        .with(Value::Null, json!(f.type_name));
        out.push(Outcome::fail(name, "column", a, None));
        return;
    };
    out.push(Outcome::pass(name, "column"));

    // Type: a mismatch makes the value checks meaningless; presence still counts.
    let observed = c.state.kind;
    let expected = family(&f.type_name).unwrap_or(Kind::Other);
    let type_ok = compatible(expected, observed);
    if type_ok {
        out.push(Outcome::pass(name, "type"));
    } else {
        let a = Anomaly::new(
            Some(name),
            AnomalyKind::TypeMismatch,
            f.severity,
            format!(
                "column `{name}` holds {} values ({}), expected {} ({})",
                family_name(observed),
                c.type_name,
                family_name(expected),
                f.type_name
            ),
        )
        .with(json!(c.type_name), json!(f.type_name));
        // Text where numbers were expected: find the cells that do not convert; fractions
        // where integers were: find the cells that are not whole numbers.
        let scan = match observed {
            Kind::String => Some(Matcher::NotParse(f.type_name.clone())),
            Kind::Float | Kind::Decimal if expected == Kind::Integer => Some(Matcher::NotInteger),
            _ => None,
        };
        out.push(Outcome::fail(name, "type", a, scan));
    }

    if c.count > 0 && c.present == 0 {
        let a = Anomaly::new(
            Some(name),
            AnomalyKind::AllNull,
            f.severity,
            format!("column `{name}` is null in all {} rows", c.count),
        )
        .with(
            json!(0.0),
            json!(f.presence.as_ref().map(|p| p.min_fraction)),
        );
        out.push(Outcome::fail(name, "presence", a, None));
        return;
    }
    if let Some(p) = &f.presence {
        let fraction = if c.count == 0 {
            1.0
        } else {
            c.present as f64 / c.count as f64
        };
        if fraction < p.min_fraction {
            let a = Anomaly::new(
                Some(name),
                AnomalyKind::LowPresence,
                p.severity,
                format!(
                    "column `{name}` is present in {} of rows ({} of {}), expected at least {}",
                    pct(fraction),
                    c.present,
                    c.count,
                    pct(p.min_fraction)
                ),
            )
            .with(json!(fraction), json!(p.min_fraction));
            out.push(Outcome::fail(name, "presence", a, None));
        } else {
            out.push(Outcome::pass(name, "presence"));
        }
    }
    if !type_ok {
        return;
    }
    if let Some(d) = &f.domain {
        out.push(check_domain(f, d, c));
    }
    if let (Some(r), Some(n)) = (&f.range, &c.numeric)
        && !observed.is_temporal()
    {
        let low = r.min.is_some_and(|m| n.min.is_some_and(|x| x < m));
        let high = r.max.is_some_and(|m| n.max.is_some_and(|x| x > m));
        if low || high {
            let bounds = format!(
                "[{}, {}]",
                r.min.map_or("-inf".into(), |x| x.to_string()),
                r.max.map_or("inf".into(), |x| x.to_string())
            );
            let a = Anomaly::new(
                Some(name),
                AnomalyKind::OutOfRange,
                r.severity,
                format!(
                    "column `{name}` has values outside {bounds}: observed min {}, max {}",
                    fmt_num(n.min),
                    fmt_num(n.max)
                ),
            )
            .with(
                json!({"min": n.min, "max": n.max}),
                json!({"min": r.min, "max": r.max}),
            );
            let m = Matcher::OutOfRange {
                min: r.min,
                max: r.max,
            };
            out.push(Outcome::fail(name, "range", a, Some(m)));
        } else {
            out.push(Outcome::pass(name, "range"));
        }
    }
    if let Some(sev) = f.finite {
        let bad = c
            .numeric
            .as_ref()
            .map_or(0, |n| n.nan + n.pos_inf + n.neg_inf);
        if bad > 0 {
            let n = c.numeric.as_ref();
            let mut a = Anomaly::new(
                Some(name),
                AnomalyKind::NonFinite,
                sev,
                format!(
                    "column `{name}` has {bad} non-finite values (NaN {}, +inf {}, -inf {}), \
                     expected none",
                    n.map_or(0, |n| n.nan),
                    n.map_or(0, |n| n.pos_inf),
                    n.map_or(0, |n| n.neg_inf)
                ),
            )
            .with(json!(bad), json!(0));
            a.unexpected_count = Some(bad);
            a.unexpected_share = Some(bad as f64 / c.present.max(1) as f64);
            out.push(Outcome::fail(name, "finite", a, Some(Matcher::NonFinite)));
        } else {
            out.push(Outcome::pass(name, "finite"));
        }
    }
    if let (Some(l), Some(s)) = (&f.length, &c.string) {
        let short = l.min.is_some_and(|m| s.min_length.is_some_and(|x| x < m));
        let long = l.max.is_some_and(|m| s.max_length.is_some_and(|x| x > m));
        if short || long {
            let a = Anomaly::new(
                Some(name),
                AnomalyKind::StringLength,
                l.severity,
                format!(
                    "column `{name}` has strings of {}..{} characters, expected {}..{}",
                    s.min_length.unwrap_or(0),
                    s.max_length.unwrap_or(0),
                    l.min.map_or(String::new(), |x| x.to_string()),
                    l.max.map_or(String::new(), |x| x.to_string())
                ),
            )
            .with(
                json!({"min": s.min_length, "max": s.max_length}),
                json!({"min": l.min, "max": l.max}),
            );
            let m = Matcher::Length {
                min: l.min,
                max: l.max,
            };
            out.push(Outcome::fail(name, "length", a, Some(m)));
        } else {
            out.push(Outcome::pass(name, "length"));
        }
    }
    if let Some(p) = &f.pattern
        && observed == Kind::String
    {
        out.push(Outcome {
            column: Some(name.into()),
            check: "pattern".into(),
            anomaly: None,
            scan: Some((Matcher::Pattern(p.regex.clone()), Some(p.mostly))),
        });
    }
}

fn fmt_num(x: Option<f64>) -> String {
    x.map_or("none".into(), |v| v.to_string())
}

/// Domain membership from the profile's value counts: exact while the column has few
/// distinct values (the usual case for an enum), estimated from the top-values sketch
/// otherwise (then the rows are read for exact counts).
fn check_domain(f: &Feature, d: &crate::model::Domain, c: &ColumnProfile) -> Outcome {
    let name = f.name.as_str();
    let allowed: HashSet<String> = d.values.iter().map(DomainValue::text).collect();
    let state = &c.state;
    let counts: Option<Vec<(String, u64)>> = match state.kind {
        Kind::String => state
            .string
            .as_ref()
            .and_then(|s| s.counts.exact())
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect()),
        Kind::Integer => numeric_counts(state).map(|m| {
            m.into_iter()
                .map(|(x, v)| ((x as i64).to_string(), v))
                .collect()
        }),
        Kind::Boolean => state.boolean.as_ref().map(|b| {
            vec![
                ("true".to_string(), b.true_count),
                ("false".to_string(), b.false_count),
            ]
        }),
        _ => None,
    };
    let present = c.present.max(1);
    let (mut unexpected, exact): (Vec<(String, u64)>, bool) = match counts {
        Some(all) => (
            all.into_iter()
                .filter(|(k, n)| *n > 0 && !allowed.contains(k))
                .collect(),
            true,
        ),
        None => (
            c.top_values
                .iter()
                .map(|t| (value_text(&t.value), t.count))
                .filter(|(k, _)| !allowed.contains(k))
                .collect(),
            false,
        ),
    };
    // Sketched: more distinct values than the domain has means some are outside it.
    let sketched_outside = !exact && c.distinct.is_some_and(|n| n as usize > allowed.len());
    let bad: u64 = unexpected.iter().map(|(_, n)| n).sum();
    let share = bad as f64 / present as f64;
    let fails = 1.0 - share < d.min_mass || (sketched_outside && d.min_mass >= 1.0);
    if !fails {
        return Outcome::pass(name, "domain");
    }
    unexpected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    unexpected.truncate(20);
    let listed: Vec<String> = unexpected
        .iter()
        .take(5)
        // Quoted and escaped (`"Biscoe "`) when blanks or control characters would hide it.
        .map(|(k, _)| {
            if k.is_empty() || k.trim() != k || k.chars().any(char::is_control) {
                format!("{k:?}")
            } else {
                format!("`{k}`")
            }
        })
        .collect();
    let mut a = Anomaly::new(
        Some(name),
        AnomalyKind::OutOfDomain,
        d.severity,
        format!(
            "column `{name}` has {}{} values outside its domain of {} ({}{}), expected at most {}",
            if exact { "" } else { "about " },
            pct(share),
            d.values.len(),
            listed.join(", "),
            if unexpected.len() > listed.len() {
                ", ..."
            } else {
                ""
            },
            pct(1.0 - d.min_mass)
        ),
    )
    .with(json!(share), json!(1.0 - d.min_mass));
    a.unexpected_count = Some(bad);
    a.unexpected_share = Some(share);
    a.unexpected_values = unexpected
        .into_iter()
        .map(|(value, count)| ValueCount {
            value: Value::String(value),
            count,
        })
        .collect();
    Outcome::fail(name, "domain", a, Some(Matcher::NotIn(allowed)))
}

/// Exact counts of a numeric column's values, while it has few distinct ones (the
/// profile keys them by the f64's bits).
pub fn numeric_counts(state: &preflight_stats::profile::ColumnState) -> Option<Vec<(f64, u64)>> {
    let m = state.numeric.as_ref()?.counts.exact()?;
    Some(
        m.iter()
            .map(|(bits, n)| (f64::from_bits(*bits as u64), *n))
            .collect(),
    )
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
    use std::path::Path;
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    };
    use arrow::datatypes::{Field, Schema as ArrowSchema};
    use preflight_stats::profile::ProfileBuilder;

    use super::*;

    /// The profile of one batch of these columns.
    fn profile(columns: Vec<(&str, ArrayRef)>) -> Profile {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        let schema = Arc::new(ArrowSchema::new(fields));
        let arrays = columns.into_iter().map(|(_, a)| a).collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
        let mut b = ProfileBuilder::new(&schema);
        b.update(&batch).unwrap();
        b.finish(vec!["test".into()])
    }

    fn ints(v: &[Option<i64>]) -> ArrayRef {
        Arc::new(Int64Array::from(v.to_vec()))
    }

    fn floats(v: &[Option<f64>]) -> ArrayRef {
        Arc::new(Float64Array::from(v.to_vec()))
    }

    fn strings(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    fn schema(yaml: &str) -> Schema {
        Schema::parse(yaml, Path::new("s.yaml")).unwrap()
    }

    /// The one anomaly of this kind.
    fn only(v: &Validation, kind: AnomalyKind) -> Anomaly {
        let found: Vec<&Anomaly> = v
            .anomalies()
            .into_iter()
            .filter(|a| a.kind == kind)
            .collect();
        assert_eq!(found.len(), 1, "{kind:?} in {:#?}", v.anomalies());
        found[0].clone()
    }

    fn outcome<'a>(v: &'a Validation, column: &str, check: &str) -> &'a Outcome {
        v.outcomes
            .iter()
            .find(|o| o.column.as_deref() == Some(column) && o.check == check)
            .unwrap_or_else(|| panic!("no {check} outcome for {column}: {:#?}", v.outcomes))
    }

    #[test]
    fn missing_columns_and_labels_come_first() {
        let s = schema(
            "version: 1
features:
  - name: x
    type: int64
    range: {max: 5, severity: warning}
  - name: gone
    type: string
  - name: y
    type: string
    role: label
",
        );
        let p = profile(vec![("x", ints(&[Some(1), Some(9)]))]);
        let v = validate(&s, &p, None);
        let kinds: Vec<(Option<&str>, AnomalyKind)> = v
            .anomalies()
            .iter()
            .map(|a| (a.column.as_deref(), a.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (Some("gone"), AnomalyKind::MissingColumn),
                (Some("y"), AnomalyKind::LabelMissing),
                (Some("x"), AnomalyKind::OutOfRange),
            ]
        );
        let gone = only(&v, AnomalyKind::MissingColumn);
        assert_eq!(
            gone.message,
            "column `gone` (string) is missing from the data"
        );
        assert_eq!(gone.severity, Severity::Error);
        assert_eq!(gone.expected, Some(json!("string")));
        assert_eq!(
            only(&v, AnomalyKind::LabelMissing).message,
            "label `y` (string) is missing from the data"
        );
        assert_eq!(v.rows, 2);
    }

    #[test]
    fn range_reports_the_observed_extremes_and_asks_for_the_rows() {
        let s = schema(
            "version: 1
features:
  - name: x
    type: int64
    range: {min: 0, max: 5}
  - name: ok
    type: double
    range: {min: 0}
",
        );
        let p = profile(vec![
            ("x", ints(&[Some(1), Some(9), None, Some(-2)])),
            ("ok", floats(&[Some(0.0), Some(1.5), Some(2.0), None])),
        ]);
        let v = validate(&s, &p, None);
        let a = only(&v, AnomalyKind::OutOfRange);
        assert_eq!(
            a.message,
            "column `x` has values outside [0, 5]: observed min -2, max 9"
        );
        assert_eq!(a.observed, Some(json!({"min": -2.0, "max": 9.0})));
        assert_eq!(a.expected, Some(json!({"min": 0.0, "max": 5.0})));
        let o = outcome(&v, "x", "range");
        assert!(matches!(
            o.scan,
            Some((Matcher::OutOfRange { min: Some(lo), max: Some(hi) }, None)) if lo == 0.0 && hi == 5.0
        ));
        assert!(outcome(&v, "ok", "range").anomaly.is_none());
        assert!(outcome(&v, "ok", "type").anomaly.is_none());
    }

    #[test]
    fn type_mismatch_stops_the_value_checks_and_says_what_to_scan() {
        let s = schema(
            "version: 1
features:
  - name: n
    type: int64
    range: {max: 0}
  - name: f
    type: int64
",
        );
        let p = profile(vec![
            ("n", strings(&[Some("1"), Some("x")])),
            ("f", floats(&[Some(1.0), Some(2.5)])),
        ]);
        let v = validate(&s, &p, None);
        let mismatches: Vec<&Anomaly> = v
            .anomalies()
            .into_iter()
            .filter(|a| a.kind == AnomalyKind::TypeMismatch)
            .collect();
        assert_eq!(mismatches.len(), 2);
        let m = &mismatches[0].message;
        assert!(
            m.starts_with("column `n` holds string values (")
                && m.ends_with("), expected integer (int64)"),
            "{m}"
        );
        assert!(
            mismatches[1]
                .message
                .starts_with("column `f` holds float values ("),
            "{}",
            mismatches[1].message
        );
        assert!(
            matches!(&outcome(&v, "n", "type").scan, Some((Matcher::NotParse(t), None)) if t == "int64")
        );
        assert!(matches!(
            outcome(&v, "f", "type").scan,
            Some((Matcher::NotInteger, None))
        ));
        // No range check on a column of the wrong type.
        assert!(!v.outcomes.iter().any(|o| o.check == "range"));
    }

    #[test]
    fn domain_counts_are_exact_for_few_values() {
        let yaml = |min_mass: f64| {
            format!(
                "version: 1
features:
  - name: s
    type: string
    domain: {{values: [a, b], min_mass: {min_mass}}}
  - name: year
    type: int64
    domain: {{values: [2007, 2008]}}
"
            )
        };
        let p = profile(vec![
            (
                "s",
                strings(&[Some("a"), Some("a"), Some("b"), Some("c"), Some(" c"), None]),
            ),
            (
                "year",
                ints(&[Some(2007), Some(2008), Some(2007), None, None, Some(2008)]),
            ),
        ]);
        let v = validate(&schema(&yaml(1.0)), &p, None);
        let a = only(&v, AnomalyKind::OutOfDomain);
        assert_eq!(a.column.as_deref(), Some("s"));
        assert_eq!(
            a.message,
            "column `s` has 40.0% values outside its domain of 2 (\" c\", `c`), expected at most 0.0%"
        );
        assert_eq!(a.unexpected_count, Some(2));
        assert_eq!(a.unexpected_share, Some(0.4));
        let values: Vec<(String, u64)> = a
            .unexpected_values
            .iter()
            .map(|v| (v.value.as_str().unwrap().to_string(), v.count))
            .collect();
        assert_eq!(values, [(" c".to_string(), 1), ("c".to_string(), 1)]);
        match &outcome(&v, "s", "domain").scan {
            Some((Matcher::NotIn(allowed), None)) => {
                let mut allowed: Vec<&String> = allowed.iter().collect();
                allowed.sort();
                assert_eq!(allowed, ["a", "b"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(outcome(&v, "year", "domain").anomaly.is_none());
        // 60% inside passes a domain that asks for 55%, not one that asks for 65%.
        let v = validate(&schema(&yaml(0.55)), &p, None);
        assert!(outcome(&v, "s", "domain").anomaly.is_none());
        let v = validate(&schema(&yaml(0.65)), &p, None);
        assert!(outcome(&v, "s", "domain").anomaly.is_some());
    }

    #[test]
    fn presence_all_null_and_low_presence() {
        let s = schema(
            "version: 1
features:
  - name: half
    type: double
    presence: {min_fraction: 0.75, severity: warning}
  - name: empty
    type: double
    range: {max: 1}
",
        );
        let p = profile(vec![
            ("half", floats(&[Some(1.0), None, Some(3.0), None])),
            ("empty", floats(&[None, None, None, None])),
        ]);
        let v = validate(&s, &p, None);
        let low = only(&v, AnomalyKind::LowPresence);
        assert_eq!(
            low.message,
            "column `half` is present in 50.0% of rows (2 of 4), expected at least 75.0%"
        );
        assert_eq!(low.severity, Severity::Warning);
        assert_eq!(low.observed, Some(json!(0.5)));
        let all = only(&v, AnomalyKind::AllNull);
        assert_eq!(all.message, "column `empty` is null in all 4 rows");
        // Nothing else is checked on a column without values.
        assert!(
            !v.outcomes
                .iter()
                .any(|o| o.column.as_deref() == Some("empty") && o.check == "range")
        );
    }

    #[test]
    fn non_finite_length_and_pattern() {
        let s = schema(
            "version: 1
features:
  - name: f
    type: double
    finite: warning
  - name: s
    type: string
    length: {min: 2, max: 4}
    pattern: {regex: '^[a-z]+$', mostly: 0.9}
",
        );
        let p = profile(vec![
            (
                "f",
                floats(&[Some(1.0), Some(f64::NAN), Some(f64::INFINITY), None]),
            ),
            ("s", strings(&[Some("ab"), Some("abcdef"), Some("x"), None])),
        ]);
        let v = validate(&s, &p, None);
        let nf = only(&v, AnomalyKind::NonFinite);
        assert_eq!(
            nf.message,
            "column `f` has 2 non-finite values (NaN 1, +inf 1, -inf 0), expected none"
        );
        assert_eq!(nf.unexpected_count, Some(2));
        assert_eq!(nf.unexpected_share, Some(2.0 / 3.0));
        assert_eq!(nf.severity, Severity::Warning);
        let len = only(&v, AnomalyKind::StringLength);
        assert_eq!(
            len.message,
            "column `s` has strings of 1..6 characters, expected 2..4"
        );
        // The pattern is decided by the row scan: no anomaly yet, a request to read.
        let o = outcome(&v, "s", "pattern");
        assert!(o.anomaly.is_none());
        assert!(
            matches!(&o.scan, Some((Matcher::Pattern(p), Some(m))) if p == "^[a-z]+$" && *m == 0.9)
        );
    }

    #[test]
    fn new_columns_and_row_count() {
        let p = profile(vec![
            ("x", ints(&[Some(1), Some(2), Some(3)])),
            ("extra", strings(&[Some("a"), None, None])),
        ]);
        let with = |dataset: &str| {
            schema(&format!(
                "version: 1
dataset: {dataset}
features:
  - name: x
    type: int64
"
            ))
        };
        let v = validate(&with("{new_columns: error, rows: {min: 10}}"), &p, None);
        let new = only(&v, AnomalyKind::NewColumn);
        assert_eq!(new.message, "column `extra` (string) is not in the schema");
        assert_eq!(new.severity, Severity::Error);
        let rows = only(&v, AnomalyKind::RowCount);
        assert_eq!(rows.message, "the data has 3 rows, expected at least 10");
        assert_eq!(rows.observed, Some(json!(3)));
        let v = validate(
            &with("{new_columns: allow, rows: {min: 1, max: 3}}"),
            &p,
            None,
        );
        assert!(v.anomalies().is_empty(), "{:#?}", v.anomalies());
        let v = validate(&with("{rows: {max: 2, severity: warning}}"), &p, None);
        assert_eq!(
            only(&v, AnomalyKind::RowCount).message,
            "the data has 3 rows, expected at most 2"
        );
        // The default for a new column is a warning.
        assert_eq!(only(&v, AnomalyKind::NewColumn).severity, Severity::Warning);
    }

    #[test]
    fn environments_restrict_where_a_column_belongs() {
        let s = schema(
            "version: 1
dataset:
  environments: [training, serving]
  default_environment: serving
features:
  - name: y
    type: int64
    role: label
    environments: [training]
  - name: debug
    type: int64
    environments: [training]
  - name: later
    type: int64
    environments: [training]
",
        );
        assert_eq!(environment(&s, None), Some("serving"));
        assert_eq!(environment(&s, Some("training")), Some("training"));
        let p = profile(vec![("y", ints(&[Some(1)])), ("debug", ints(&[Some(1)]))]);
        let v = validate(&s, &p, Some("serving"));
        assert_eq!(v.environment.as_deref(), Some("serving"));
        let label = only(&v, AnomalyKind::LabelUnexpected);
        assert_eq!(label.severity, Severity::Error);
        assert_eq!(
            label.message,
            "label `y` is present in environment `serving`, where the schema expects it only in training"
        );
        let debug = only(&v, AnomalyKind::UnexpectedInEnvironment);
        assert_eq!(debug.severity, Severity::Warning);
        // Absent where it is not expected: nothing to say.
        assert!(outcome(&v, "later", "column").anomaly.is_none());
        // In training, the absent column is missing.
        let v = validate(&s, &p, Some("training"));
        assert_eq!(
            only(&v, AnomalyKind::MissingColumn).message,
            "column `later` (int64) is missing from the data (environment `training`)"
        );
    }

    #[test]
    fn no_rows_is_an_error_unless_the_schema_allows_it() {
        let s = schema(
            "version: 1
features:
  - name: x
    type: int64
  - name: y
    type: int64
",
        );
        let v = no_rows(&s, None);
        assert_eq!(v.rows, 0);
        let a = only(&v, AnomalyKind::RowCount);
        assert_eq!(a.severity, Severity::Error);
        assert_eq!(
            a.message,
            "the data has no rows, expected at least 1; none of the 2 features could be checked"
        );
        let s = schema(
            "version: 1
dataset: {rows: {min: 0, max: 9}}
features:
  - name: x
    type: int64
",
        );
        let a = only(&no_rows(&s, Some("serving")), AnomalyKind::RowCount);
        assert_eq!(a.severity, Severity::Warning);
        assert_eq!(a.expected, Some(json!({"min": 0, "max": 9})));
    }

    #[test]
    fn anomalies_sort_missing_then_severity_then_schema_order() {
        let s = schema(
            "version: 1
features:
  - name: a
    type: int64
    range: {max: 0, severity: warning}
  - name: b
    type: int64
    range: {max: 0}
  - name: c
    type: int64
    severity: warning
",
        );
        let p = profile(vec![("a", ints(&[Some(1)])), ("b", ints(&[Some(1)]))]);
        let v = validate(&s, &p, None);
        let order: Vec<(&str, Severity)> = v
            .anomalies()
            .iter()
            .map(|a| (a.column.as_deref().unwrap(), a.severity))
            .collect();
        assert_eq!(
            order,
            [
                ("c", Severity::Warning),
                ("b", Severity::Error),
                ("a", Severity::Warning)
            ]
        );
    }

    #[test]
    fn booleans_check_their_domain_from_exact_counts() {
        let s = schema(
            "version: 1
features:
  - name: flag
    type: bool
    domain: {values: [true]}
",
        );
        let p = profile(vec![(
            "flag",
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                Some(true),
                Some(true),
            ])) as ArrayRef,
        )]);
        let a = only(&validate(&s, &p, None), AnomalyKind::OutOfDomain);
        assert_eq!(a.unexpected_count, Some(1));
        assert_eq!(a.unexpected_share, Some(0.25));
    }

    #[test]
    fn percentages_keep_digits_below_one_percent() {
        assert_eq!(pct(0.5), "50.0%");
        assert_eq!(pct(0.0), "0.0%");
        assert_eq!(pct(0.001), "0.100%");
        assert_eq!(pct(0.01), "1.0%");
        assert_eq!(AnomalyKind::OutOfDomain.as_str(), "out_of_domain");
        assert_eq!(
            serde_json::to_value(AnomalyKind::NotUnique).unwrap(),
            json!(AnomalyKind::NotUnique.as_str())
        );
    }
}
