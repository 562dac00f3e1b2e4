//! The schema file: what good data looks like, per feature and for the dataset.
//!
//! YAML is the primary form (comments survive hand edits, diffs read line by line, and a
//! feature is a short block); JSON with the same fields is accepted too, since YAML 1.2 is
//! a superset of JSON. `schemas/preflight-schema.schema.json` describes the file for
//! editors. Every check carries its own `severity`.

use std::path::Path;

use preflight_stats::Severity;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The schema file format version this build reads and writes.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub dataset: DatasetRules,
    pub features: Vec<Feature>,
    /// Custom SQL checks, run by DataFusion over the table `data`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CustomCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetRules {
    /// Row-count bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<RowBounds>,
    /// Columns the schema does not name: `error` or `warning` (a closed column set), or
    /// `allow` (open).
    #[serde(default)]
    pub new_columns: NewColumns,
    /// The environments features may be restricted to (e.g. training, serving).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    /// The environment used when `validate` is not given `--environment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_environment: Option<String>,
    /// Checks of dataset metrics (`rows`) against the history (`validate --history`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryCheck>,
}

impl Default for DatasetRules {
    fn default() -> Self {
        Self {
            rows: None,
            new_columns: NewColumns::Warning,
            environments: Vec::new(),
            default_environment: None,
            history: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewColumns {
    Error,
    #[default]
    Warning,
    Allow,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowBounds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    #[serde(default = "error")]
    pub severity: Severity,
}

fn error() -> Severity {
    Severity::Error
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Feature,
    Label,
    Id,
    Weight,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    pub name: String,
    /// Arrow type as `preflight profile` prints it: int64, double, string, bool,
    /// date32[day], timestamp[us, tz=UTC], decimal128(10, 2), ... Integers are accepted
    /// where a float is expected; anything else of another family is a type mismatch.
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(default, skip_serializing_if = "is_default")]
    pub role: Role,
    /// Severity of the column-level checks: missing column, type mismatch, all null.
    #[serde(default = "error", skip_serializing_if = "is_error")]
    pub severity: Severity,
    /// The environments this feature belongs to; empty means all. In an environment not
    /// listed the column must be absent (e.g. the label at serving).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<Presence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Domain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<Range>,
    /// NaN and infinities are not allowed (float columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finite: Option<Severity>,
    /// Every non-null value differs from every other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<Severity>,
    /// String length bounds, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<Length>,
    /// A regular expression every non-null string must match (searched, so anchor it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<Pattern>,
    /// Drift threshold (`preflight drift`, `validate --baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<Comparator>,
    /// Training/serving skew threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skew: Option<Comparator>,
    /// Checks of this column's metrics against the history (`validate --history`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryCheck>,
    /// A timestamp or date column's newest value must be at most this old at the run's
    /// time (`validate --at`, or now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness: Option<Freshness>,
}

/// A metric checked against past runs by one strategy (give exactly one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryCheck {
    /// `rows` for the dataset; for a feature `missing_fraction`, `mean`, `std_dev`,
    /// `min`, `max`, `median`, `p1`..`p99` (p1, p5, p10, p25, p50, p75, p90, p95, p99),
    /// `distinct`, or `share:<value>`.
    pub metric: String,
    /// Only the last N runs (by time) are the history; all of them when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<usize>,
    /// Fewer past runs than this and the check is a `not_compared` warning [default: what
    /// the strategy needs: 1, `order` for changes, two periods for Holt-Winters].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_history: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdSpec>,
    #[serde(
        default,
        alias = "rate_of_change",
        skip_serializing_if = "Option::is_none"
    )]
    pub absolute_change: Option<ChangeSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_change: Option<ChangeSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_normal: Option<OnlineNormalSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_normal: Option<BatchNormalSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holt_winters: Option<HoltWintersSpec>,
    /// Soda's change over time: from the previous run, or the avg/min/max of the `last`
    /// runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<SodaChangeSpec>,
    /// Deequ's anomaly checks default to warnings.
    #[serde(default = "warning")]
    pub severity: Severity,
}

fn warning() -> Severity {
    Severity::Warning
}

/// Deequ's SimpleThresholdStrategy: the value within `[min, max]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    pub max: f64,
}

/// Deequ's AbsoluteChangeStrategy (bounds on the order-n difference) or
/// RelativeRateOfChangeStrategy (bounds on the ratio to the value `order` runs back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_decrease: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_increase: Option<f64>,
    #[serde(default = "one_usize")]
    pub order: usize,
}

fn one_usize() -> usize {
    1
}

fn three() -> Option<f64> {
    Some(3.0)
}

/// Deequ's OnlineNormalStrategy (defaults: factors 3, ignore_start 0.1,
/// ignore_anomalies true).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnlineNormalSpec {
    #[serde(default = "three")]
    pub lower: Option<f64>,
    #[serde(default = "three")]
    pub upper: Option<f64>,
    #[serde(default = "tenth")]
    pub ignore_start: f64,
    #[serde(default = "yes")]
    pub ignore_anomalies: bool,
}

fn tenth() -> f64 {
    0.1
}

fn yes() -> bool {
    true
}

/// Deequ's BatchNormalStrategy over the past runs (defaults: factors 3). `null` opens a
/// side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchNormalSpec {
    #[serde(default = "three")]
    pub lower: Option<f64>,
    #[serde(default = "three")]
    pub upper: Option<f64>,
}

/// Deequ's HoltWinters: `period` 7 for daily runs with weekly seasonality (24: hourly
/// and daily, 12: monthly and yearly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoltWintersSpec {
    #[serde(default = "seven")]
    pub period: usize,
}

fn seven() -> usize {
    7
}

/// Soda's `change [avg|min|max last N] [percent] for <metric> between min and max`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SodaChangeSpec {
    /// How the past values are aggregated; `min` of the last 1 (the previous run) when
    /// not given, as Soda does.
    #[serde(default = "aggregate_min")]
    pub aggregate: preflight_stats::history::strategy::Aggregate,
    /// The change in percent of the historic value instead of absolute.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub percent: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

fn aggregate_min() -> preflight_stats::history::strategy::Aggregate {
    preflight_stats::history::strategy::Aggregate::Min
}

/// The newest value no older than `max_age` (`1d2h`, `36h`, `90m`, `30s`; units summed)
/// at the run's time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freshness {
    pub max_age: String,
    #[serde(default = "error")]
    pub severity: Severity,
}

/// A duration as Soda writes it: `1d2h`, `36h`, `90m`, `45s` (units summed), in ms.
pub fn parse_duration(text: &str) -> std::result::Result<i64, String> {
    let bad = || format!("`{text}` is not a duration like 1d2h, 36h, 90m or 45s");
    let mut total: i64 = 0;
    let mut num = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit: i64 = match c {
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' => 60_000,
            's' => 1_000,
            _ => return Err(bad()),
        };
        let n: i64 = num.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        num.clear();
        any = true;
    }
    if !num.is_empty() || !any {
        return Err(bad());
    }
    Ok(total)
}

impl HistoryCheck {
    /// The strategy declared, with Deequ's defaults filled in; an error when none or
    /// several are given, or the parameters break the strategy's requirements.
    pub fn strategy(
        &self,
    ) -> std::result::Result<preflight_stats::history::strategy::Strategy, String> {
        use preflight_stats::history::strategy::Strategy as S;
        let mut found = Vec::new();
        if let Some(t) = &self.threshold {
            found.push(S::SimpleThreshold {
                lower: t.min.unwrap_or(f64::MIN),
                upper: t.max,
            });
        }
        if let Some(c) = &self.absolute_change {
            found.push(S::AbsoluteChange {
                max_decrease: c.max_decrease,
                max_increase: c.max_increase,
                order: c.order,
            });
        }
        if let Some(c) = &self.relative_change {
            found.push(S::RelativeChange {
                max_decrease: c.max_decrease,
                max_increase: c.max_increase,
                order: c.order,
            });
        }
        if let Some(o) = &self.online_normal {
            found.push(S::OnlineNormal {
                lower: o.lower,
                upper: o.upper,
                ignore_start: o.ignore_start,
                ignore_anomalies: o.ignore_anomalies,
            });
        }
        if let Some(b) = &self.batch_normal {
            found.push(S::BatchNormal {
                lower: b.lower,
                upper: b.upper,
                include_interval: false,
            });
        }
        if let Some(h) = &self.holt_winters {
            found.push(S::HoltWinters { period: h.period });
        }
        if let Some(c) = &self.change {
            found.push(S::Change {
                aggregate: c.aggregate,
                last: self.last.unwrap_or(1),
                percent: c.percent,
                min: c.min,
                max: c.max,
            });
        }
        if found.len() != 1 {
            return Err(format!(
                "give exactly one strategy (threshold, absolute_change, relative_change, online_normal, batch_normal, holt_winters, change), found {}",
                found.len()
            ));
        }
        let s = found.remove(0);
        s.check()?;
        Ok(s)
    }
}

fn is_error(s: &Severity) -> bool {
    *s == Severity::Error
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Presence {
    /// Minimum fraction of rows where the value is present (not null).
    pub min_fraction: f64,
    #[serde(default = "error")]
    pub severity: Severity,
}

/// A value of a domain: integers and strings (YAML keeps `007` and `no` as strings when
/// quoted; unquoted `no` is a string too in YAML 1.2).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DomainValue {
    Int(i64),
    Bool(bool),
    Str(String),
}

impl DomainValue {
    /// The value as text, the way a CSV cell or `CAST(x AS VARCHAR)` shows it.
    pub fn text(&self) -> String {
        match self {
            Self::Int(i) => i.to_string(),
            Self::Bool(b) => b.to_string(),
            Self::Str(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub values: Vec<DomainValue>,
    /// Fraction of present values that must be in the domain (TFDV's min_domain_mass).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub min_mass: f64,
    #[serde(default = "error")]
    pub severity: Severity,
}

fn one() -> f64 {
    1.0
}

#[allow(clippy::float_cmp)]
fn is_one(v: &f64) -> bool {
    *v == 1.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default = "error")]
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Length {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    #[serde(default = "error")]
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    pub regex: String,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub mostly: f64,
    #[serde(default = "error")]
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparator {
    /// A `preflight drift --method` name (psi, jensenshannon, linf, ks, ...).
    pub method: String,
    pub threshold: f64,
    #[serde(default = "error")]
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomCheck {
    pub name: String,
    /// A boolean SQL expression over one row (`age >= 0 AND age < 130`). A row passes
    /// when it is TRUE; NULL fails, as in a WHERE clause.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub where_: Option<String>,
    /// A dataset-level query over table `data` returning one value: a boolean (true
    /// passes) or a count of failing rows (compared with `mostly`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// Fraction of rows that must pass.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub mostly: f64,
    #[serde(default = "error")]
    pub severity: Severity,
}

impl Schema {
    pub fn feature(&self, name: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.name == name)
    }

    /// Parse a schema file's text; errors name the file, the line and the field.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        // Bounded before the YAML parser sees it: a 200 KB file nested thousands deep took
        // the parser 20 s to reject.
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(Error::schema(path, too_large(Some(text.len() as u64))));
        }
        if let Some(line) = too_deep(text) {
            return Err(Error::schema(
                path,
                format!(
                    "line {line}: nested more than {MAX_DEPTH} levels deep; a schema file needs \
                     a handful (is this a preflight schema file?)"
                ),
            ));
        }
        let schema: Schema = serde_yaml_ng::from_str(text).map_err(|e| {
            let place = e
                .location()
                .map(|l| format!("line {} column {}: ", l.line(), l.column()))
                .unwrap_or_default();
            // serde_yaml_ng ends with "at line L column C"; the place leads instead.
            let msg = e.to_string();
            let msg = match (e.location(), msg.rfind(" at line ")) {
                (Some(_), Some(i)) => msg[..i].to_string(),
                _ => msg,
            };
            Error::schema(path, format!("{place}{}", readable(&msg))).caused_by(e)
        })?;
        schema.check(text, path)?;
        Ok(schema)
    }

    pub fn load(path: &Path) -> Result<Self> {
        if preflight_stats::remote::is_remote_path(path) {
            // Read no further than the limit: a URL to a large object is refused without
            // downloading it.
            use std::io::Read;
            let mut bytes = Vec::new();
            preflight_stats::remote::open_path(path)?
                .take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| Error::schema(path, format!("cannot read: {e}")))?;
            if bytes.len() as u64 > MAX_FILE_BYTES {
                return Err(Error::schema(path, too_large(None)));
            }
            let text = String::from_utf8(bytes)
                .map_err(|e| Error::schema(path, format!("cannot read: {e}")))?;
            return Self::parse(&text, path);
        }
        if let Ok(m) = std::fs::metadata(path)
            && m.is_file()
            && m.len() > MAX_FILE_BYTES
        {
            return Err(Error::schema(path, too_large(Some(m.len()))));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::schema(path, format!("cannot read: {e}")).caused_by(e))?;
        Self::parse(&text, path)
    }

    /// The file text: a comment header, then YAML.
    pub fn to_yaml(&self) -> Result<String> {
        let body = serde_yaml_ng::to_string(self)?;
        Ok(format!(
            "# preflight schema: what good data looks like. Edit freely; `preflight validate`\n\
             # checks new data against it. Reference: schemas/preflight-schema.schema.json\n{body}"
        ))
    }

    /// Checks serde cannot express; errors name the feature, its line and the field.
    fn check(&self, text: &str, path: &Path) -> Result<()> {
        let fail = |what: &str, name: Option<&str>, msg: String| -> Error {
            let line = name.and_then(|n| line_of(text, n));
            let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
            Error::schema(path, format!("{at}{what}: {msg}"))
        };
        if self.version != VERSION {
            return Err(fail(
                "version",
                None,
                format!(
                    "this preflight reads schema version {VERSION}, the file has {}",
                    self.version
                ),
            ));
        }
        if let Some(RowBounds {
            min: Some(lo),
            max: Some(hi),
            ..
        }) = &self.dataset.rows
            && lo > hi
        {
            return Err(fail("dataset.rows", None, format!("min {lo} > max {hi}")));
        }
        for (j, h) in self.dataset.history.iter().enumerate() {
            let at = format!("dataset.history[{j}]");
            if let Err(e) = h.strategy() {
                return Err(fail(&at, None, e));
            }
            if h.metric != "rows" {
                return Err(fail(
                    &format!("{at}.metric"),
                    None,
                    format!(
                        "`{}` is not a dataset metric (`rows`); column metrics go under the feature's history",
                        h.metric
                    ),
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, f) in self.features.iter().enumerate() {
            let at = format!("features[{i}] (`{}`)", f.name);
            let n = Some(f.name.as_str());
            if !seen.insert(f.name.as_str()) {
                return Err(fail(&at, n, "the feature is listed twice".into()));
            }
            if preflight_stats::source::parse_type(&f.type_name).is_err()
                && crate::types::family(&f.type_name).is_none()
            {
                return Err(fail(
                    &format!("{at}.type"),
                    n,
                    format!("unknown type `{}`", f.type_name),
                ));
            }
            if let Some(p) = &f.presence
                && !(0.0..=1.0).contains(&p.min_fraction)
            {
                return Err(fail(
                    &format!("{at}.presence.min_fraction"),
                    n,
                    format!("{} is not a fraction in [0, 1]", p.min_fraction),
                ));
            }
            if let Some(d) = &f.domain
                && !(0.0..=1.0).contains(&d.min_mass)
            {
                return Err(fail(
                    &format!("{at}.domain.min_mass"),
                    n,
                    format!("{} is not a fraction in [0, 1]", d.min_mass),
                ));
            }
            if let Some(Range {
                min: Some(lo),
                max: Some(hi),
                ..
            }) = &f.range
                && lo > hi
            {
                return Err(fail(
                    &format!("{at}.range"),
                    n,
                    format!("min {lo} > max {hi}"),
                ));
            }
            if let Some(Length {
                min: Some(lo),
                max: Some(hi),
                ..
            }) = &f.length
                && lo > hi
            {
                return Err(fail(
                    &format!("{at}.length"),
                    n,
                    format!("min {lo} > max {hi}"),
                ));
            }
            if let Some(p) = &f.pattern
                && let Err(e) = regex::Regex::new(&p.regex)
            {
                return Err(fail(
                    &format!("{at}.pattern.regex"),
                    n,
                    one_line(&e.to_string()),
                ));
            }
            // Unchecked, a `mostly` above 1 failed every batch and one below 0 passed any.
            if let Some(p) = &f.pattern
                && !(0.0..=1.0).contains(&p.mostly)
            {
                return Err(fail(
                    &format!("{at}.pattern.mostly"),
                    n,
                    format!("{} is not a fraction in [0, 1]", p.mostly),
                ));
            }
            for (which, c) in [("drift", &f.drift), ("skew", &f.skew)] {
                let Some(c) = c else { continue };
                if let Err(e) = c.method.parse::<preflight_stats::drift::Method>() {
                    return Err(fail(&format!("{at}.{which}.method"), n, e.to_string()));
                }
                if !(c.threshold.is_finite() && c.threshold >= 0.0) {
                    return Err(fail(
                        &format!("{at}.{which}.threshold"),
                        n,
                        format!("{} is not a non-negative number", c.threshold),
                    ));
                }
            }
            for (j, h) in f.history.iter().enumerate() {
                let at = format!("{at}.history[{j}]");
                if let Err(e) = h.strategy() {
                    return Err(fail(&at, n, e));
                }
                if h.metric == "rows" {
                    return Err(fail(
                        &format!("{at}.metric"),
                        n,
                        "`rows` is a dataset metric: declare it under dataset.history".into(),
                    ));
                }
                if let Err(e) = preflight_stats::history::Metric::of_column(&f.name, &h.metric) {
                    return Err(fail(&format!("{at}.metric"), n, e));
                }
            }
            if let Some(fr) = &f.freshness
                && let Err(e) = parse_duration(&fr.max_age)
            {
                return Err(fail(&format!("{at}.freshness.max_age"), n, e));
            }
            for env in &f.environments {
                if !self.dataset.environments.is_empty() && !self.dataset.environments.contains(env)
                {
                    return Err(fail(
                        &format!("{at}.environments"),
                        n,
                        format!(
                            "`{env}` is not declared in dataset.environments ({})",
                            self.dataset.environments.join(", ")
                        ),
                    ));
                }
            }
        }
        for (i, c) in self.checks.iter().enumerate() {
            let at = format!("checks[{i}] (`{}`)", c.name);
            let n = Some(c.name.as_str());
            if c.where_.is_some() == c.sql.is_some() {
                return Err(fail(&at, n, "give exactly one of `where` or `sql`".into()));
            }
            // A schema file can come from a pull request: its SQL may only read `data`.
            let text_ok = match (&c.sql, &c.where_) {
                (Some(sql), _) => crate::sql::check_query(sql),
                (None, Some(expr)) => crate::sql::check_where(expr),
                (None, None) => Ok(()),
            };
            if let Err(e) = text_ok {
                return Err(fail(&format!("check '{}'", c.name), n, e));
            }
            if !(0.0..=1.0).contains(&c.mostly) {
                return Err(fail(
                    &format!("{at}.mostly"),
                    n,
                    format!("{} is not a fraction in [0, 1]", c.mostly),
                ));
            }
        }
        Ok(())
    }
}

/// The largest schema file read: 5,000 features with domains of 100 values take about
/// 10 MB.
pub const MAX_FILE_BYTES: u64 = 32 << 20;

/// The deepest nesting a schema file may have: a feature's domain values sit at depth 5.
pub const MAX_DEPTH: usize = 32;

/// `bytes`, when the whole size is known (a remote file is read only up to the limit).
fn too_large(bytes: Option<u64>) -> String {
    let size = bytes.map_or_else(String::new, |b| format!("{b} bytes, "));
    format!(
        "{size}more than the {} MB a schema file may have (is this a preflight schema file?)",
        MAX_FILE_BYTES >> 20
    )
}

/// The 1-based line where the nesting first goes deeper than [`MAX_DEPTH`], from a cheap
/// scan: open flow brackets (`[`, `{`) outside quotes and comments, plus the block
/// levels (the stack of indentations, and each `- ` or `key: ` that opens a nested
/// collection on the same line). It counts a little more than YAML does where a plain
/// value holds `: ` or ` - `; what matters is that thousands of levels cannot pass, in
/// one pass over the bytes.
fn too_deep(text: &str) -> Option<usize> {
    let mut flow = 0usize;
    let mut indents: Vec<usize> = Vec::new();
    let mut quote: Option<u8> = None;
    for (n, line) in text.lines().enumerate() {
        let b = line.as_bytes();
        let start = b.iter().take_while(|c| **c == b' ').count();
        if quote.is_none() && flow == 0 && start < b.len() && b[start] != b'#' {
            while indents.last().is_some_and(|&i| i >= start) {
                indents.pop();
            }
            indents.push(start);
        }
        let mut inline = 0usize;
        let mut peak = flow;
        let mut prev = b' ';
        for (i, &c) in b.iter().enumerate().skip(start) {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    b'#' if prev == b' ' || i == start => break,
                    b'"' | b'\'' if flow > 0 || matches!(prev, b' ' | b'[' | b'{' | b',') => {
                        quote = Some(c);
                    }
                    b'[' | b'{' => {
                        flow += 1;
                        peak = peak.max(flow);
                    }
                    b']' | b'}' => flow = flow.saturating_sub(1),
                    b'-' if flow == 0
                        && prev == b' '
                        && b.get(i + 1).is_none_or(|x| *x == b' ') =>
                    {
                        inline += 1;
                    }
                    b':' if flow == 0 && b.get(i + 1).is_some_and(|x| *x == b' ') => inline += 1,
                    _ => {}
                },
            }
            prev = c;
        }
        if indents.len() + inline + peak > MAX_DEPTH {
            return Some(n + 1);
        }
    }
    None
}

/// The 1-based line where `name:` introduces the feature or check called `name`.
fn line_of(text: &str, name: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ").trim_start();
            t.strip_prefix("name:").is_some_and(|v| {
                let v = v.trim();
                v == name || v.trim_matches(['"', '\'']) == name
            })
        })
        .map(|i| i + 1)
}

/// serde's message made for a person: the top-level type is named by the keys a schema
/// file has, not by the Rust struct, and a quoted value is cut short. A data file given
/// as `--schema` by mistake parses as one long YAML string, which serde quotes whole.
fn readable(msg: &str) -> String {
    const KEEP: usize = 60;
    let msg = msg.replace(
        "expected struct Schema",
        "expected a mapping with `version` and `features` (is this a preflight schema file?)",
    );
    if let (Some(a), Some(b)) = (msg.find('"'), msg.rfind('"'))
        && b > a
        && msg[a + 1..b].chars().count() > KEEP
    {
        let head: String = msg[a + 1..b].chars().take(KEEP).collect();
        return format!("{}\"{head}...\"{}", &msg[..a], &msg[b + 1..]);
    }
    msg
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const GOOD: &str = "version: 1
dataset:
  rows: {min: 10}
  environments: [training, serving]
features:
  - name: species
    type: string
    role: label
    environments: [training]
    domain: {values: [Adelie, Gentoo, 'no']}
  - name: year
    type: int64
    domain: {values: [2007, 2008], severity: warning}
    range: {min: 2000, max: 2030}
checks:
  - name: positive_mass
    where: body_mass_g > 0
    mostly: 0.99
";

    #[test]
    fn round_trips_through_yaml() {
        let s = Schema::parse(GOOD, Path::new("s.yaml")).unwrap();
        assert_eq!(s.features[0].role, Role::Label);
        assert_eq!(
            s.features[0].domain.as_ref().unwrap().values[2],
            DomainValue::Str("no".into())
        );
        assert_eq!(
            s.features[1].domain.as_ref().unwrap().values[0],
            DomainValue::Int(2007)
        );
        assert_eq!(s.dataset.new_columns, NewColumns::Warning);
        let again = Schema::parse(&s.to_yaml().unwrap(), Path::new("s.yaml")).unwrap();
        assert_eq!(s, again);
    }

    fn err(text: &str) -> String {
        Schema::parse(text, Path::new("s.yaml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = err(&GOOD.replace("type: int64", "type: int64\n    colour: red"));
        assert!(
            e.starts_with("s.yaml: line 13 column 5: features[1]: unknown field `colour`"),
            "{e}"
        );
        let e = err(&GOOD.replace("type: int64", "type: integr"));
        assert_eq!(
            e,
            "s.yaml: line 11: features[1] (`year`).type: unknown type `integr`"
        );
        let e = err(&GOOD.replace("min: 2000", "min: 3000"));
        assert_eq!(
            e,
            "s.yaml: line 11: features[1] (`year`).range: min 3000 > max 2030"
        );
        let e = err(&GOOD.replace("[training]", "[scoring]"));
        assert!(
            e.contains("line 6: features[0] (`species`).environments: `scoring` is not declared"),
            "{e}"
        );
        let e = err(&GOOD.replace("mostly: 0.99", "mostly: 1.5"));
        assert!(
            e.contains("line 16: checks[0] (`positive_mass`).mostly"),
            "{e}"
        );
        let e = err(&GOOD.replace("version: 1", "version: 7"));
        assert!(
            e.contains("version: this preflight reads schema version 1"),
            "{e}"
        );
        let e = err("version: 1\nfeatures: [\n");
        assert!(e.starts_with("s.yaml: line "), "{e}");
        let e = err("- a\n- b\n");
        assert_eq!(
            e,
            "s.yaml: line 1 column 1: invalid type: sequence, expected a mapping with \
             `version` and `features` (is this a preflight schema file?)"
        );
    }
}
