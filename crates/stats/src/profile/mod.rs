//! The profile: per-column statistics from one streaming pass, mergeable and serialisable.
//!
//! [`ProfileBuilder`] holds one [`ColumnState`] per column and folds record batches into
//! them; builders of different partitions merge. [`Profile`] is the finished, versioned
//! JSON document: readable summaries per column plus the `state` they were derived from,
//! so that `preflight merge` can combine stored profiles without the data.

mod column;
mod counts;
mod quantiles;
pub mod udaf;

use std::collections::HashSet;
use std::path::Path;

use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use column::{ColumnState, Kind, TemporalUnit, type_name};
pub use counts::{CountsSummary, EXACT_LIMIT, ValueCounts};
pub use quantiles::{EXACT_VALUES, Moments, QuantileView, Quantiles};

use crate::error::{Error, Result};

/// Version of the profile JSON document; bumped on any incompatible change.
pub const PROFILE_VERSION: u32 = 1;
/// Most frequent values reported per column (TFDV's default).
pub const TOP_VALUES: usize = 20;
/// Buckets of each histogram (TFDV's default).
pub const HISTOGRAM_BUCKETS: usize = 10;

/// Accumulates a profile from record batches.
#[derive(Debug, Clone)]
pub struct ProfileBuilder {
    pub rows: u64,
    pub columns: Vec<ColumnState>,
}

impl ProfileBuilder {
    pub fn new(schema: &Schema) -> Self {
        Self {
            rows: 0,
            columns: schema
                .fields()
                .iter()
                .map(|f| ColumnState::new(f.name(), f.data_type()))
                .collect(),
        }
    }

    /// Keep only the summary of the numeric columns `which` names (see
    /// [`column::NumericState::summary_only`]); other columns are unchanged.
    pub fn summary_only(mut self, which: &HashSet<String>) -> Self {
        for c in &mut self.columns {
            if let Some(n) = c.numeric.as_mut().filter(|_| which.contains(&c.name)) {
                n.summary_only = true;
            }
        }
        self
    }

    pub fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        self.update_with_threads(batch, 1)
    }

    /// As [`ProfileBuilder::update`], with the columns shared among `threads` threads
    /// (contiguous groups of columns; each column's state is still updated by one thread
    /// in batch order, so the result is the same as with one thread).
    pub fn update_with_threads(&mut self, batch: &RecordBatch, threads: usize) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        let group = self.columns.len().div_ceil(threads.max(1)).max(1);
        if threads <= 1 || group == self.columns.len() {
            for (state, array) in self.columns.iter_mut().zip(batch.columns()) {
                state.update(array)?;
            }
            return Ok(());
        }
        let update = |states: &mut [ColumnState], arrays: &[arrow::array::ArrayRef]| {
            states
                .iter_mut()
                .zip(arrays)
                .try_for_each(|(state, array)| state.update(array))
        };
        std::thread::scope(|scope| {
            let mut groups = self
                .columns
                .chunks_mut(group)
                .zip(batch.columns().chunks(group));
            let first = groups.next();
            let others: Vec<_> = groups
                .map(|(states, arrays)| scope.spawn(move || update(states, arrays)))
                .collect();
            let mut result = first.map_or(Ok(()), |(states, arrays)| update(states, arrays));
            for handle in others {
                let r = handle
                    .join()
                    .unwrap_or_else(|_| Err(Error::Engine("a profile thread panicked".into())));
                result = result.and(r);
            }
            result
        })
    }

    /// Check the invariants every profile built from data holds (see
    /// [`ColumnState::check`]): each column saw every row.
    pub fn check(&self) -> std::result::Result<(), String> {
        for c in &self.columns {
            if c.count != self.rows {
                return Err(format!(
                    "column '{}': count ({}) differs from the profile's row_count ({})",
                    c.name, c.count, self.rows
                ));
            }
            c.check()?;
        }
        Ok(())
    }

    /// The builders of several parts merged into one: pairwise in a balanced tree, in the
    /// order given (each state goes through log2(n) merges, not up to n), then every
    /// t-digest rebuilt from all parts at once ([`ProfileBuilder::remerge_quantiles`]).
    pub fn merge_many(parts: Vec<ProfileBuilder>) -> Result<ProfileBuilder> {
        let mut level = parts.clone();
        while level.len() > 1 {
            let mut next = Vec::with_capacity(level.len().div_ceil(2));
            let mut it = level.into_iter();
            while let Some(mut a) = it.next() {
                if let Some(b) = it.next() {
                    a.merge(&b)?;
                }
                next.push(a);
            }
            level = next;
        }
        let mut merged = level
            .pop()
            .ok_or_else(|| Error::Usage("no profiles to merge".into()))?;
        if parts.len() > 1 {
            merged.remerge_quantiles(&parts.iter().collect::<Vec<_>>());
        }
        Ok(merged)
    }

    /// Replace each t-digest of `self`, the merge of `parts`, by one compression of every
    /// part's centroids and exact values together. A chain of pairwise merges compresses
    /// again at every step: 12 monthly digests of `time_hour` merged pairwise in a tree put
    /// its 25th percentile 0.9% of the range away from the exact one; merged at once, six
    /// percentiles are all within 0.06% (`tests/cluster.rs`). Columns whose quantiles come
    /// from exact value counts are left alone.
    pub fn remerge_quantiles(&mut self, parts: &[&ProfileBuilder]) {
        for (i, column) in self.columns.iter_mut().enumerate() {
            let Some(num) = column.numeric.as_mut() else {
                continue;
            };
            if num.counts.exact().is_some() || num.quantiles.is_exact() {
                continue;
            }
            let mut runs = Vec::new();
            let mut ok = true;
            for p in parts {
                match p.columns.get(i).and_then(|c| c.numeric.as_ref()) {
                    Some(n) => ok &= n.quantile_runs(&mut runs),
                    None => ok = false,
                }
            }
            if !ok {
                continue;
            }
            let Some(extremes) = num.quantiles.extremes() else {
                continue;
            };
            if let Some(q) = Quantiles::of_runs(runs, num.quantiles.weight(), extremes) {
                num.quantiles = q;
            }
        }
    }

    /// Fold in the builder of another part. Counts are added with overflow checked; on an
    /// error `self` is left partly merged and must be dropped.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        if self.columns.len() != other.columns.len() {
            return Err(Error::Usage(format!(
                "cannot merge profiles with {} and {} columns",
                self.columns.len(),
                other.columns.len()
            )));
        }
        self.rows = self.rows.checked_add(other.rows).ok_or_else(|| {
            Error::Usage(format!(
                "row_count overflows when merged ({} + {} is more than {})",
                self.rows,
                other.rows,
                u64::MAX
            ))
        })?;
        for (a, b) in self.columns.iter_mut().zip(&other.columns) {
            a.merge(b)?;
        }
        Ok(())
    }

    pub fn finish(self, sources: Vec<String>) -> Profile {
        Profile {
            version: PROFILE_VERSION,
            row_count: self.rows,
            sources,
            columns: self
                .columns
                .into_iter()
                .map(ColumnProfile::from_state)
                .collect(),
        }
    }
}

/// A finished profile: the JSON contract of `preflight profile --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub version: u32,
    pub row_count: u64,
    /// The inputs profiled (or merged), as the user named them.
    pub sources: Vec<String>,
    pub columns: Vec<ColumnProfile>,
}

#[derive(Deserialize)]
struct ProfileFile {
    version: u32,
    row_count: u64,
    #[serde(default)]
    sources: Vec<String>,
    columns: Vec<ColumnFile>,
}

#[derive(Deserialize)]
struct ColumnFile {
    state: ColumnState,
    #[serde(default)]
    absent_in: Vec<String>,
}

impl Profile {
    /// Read a stored profile. Summaries are re-derived from the states so they can never
    /// disagree with what a merge would use.
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<Self> {
        let err = |message: String| Error::Profile {
            path: path.to_path_buf(),
            message,
            source: None,
        };
        let file: ProfileFile = serde_json::from_slice(bytes).map_err(|e| Error::Profile {
            path: path.to_path_buf(),
            message: not_a_profile(bytes, &e),
            source: Some(e.into()),
        })?;
        if file.version != PROFILE_VERSION {
            return Err(err(format!(
                "profile version {} is not supported (this build reads version {PROFILE_VERSION})",
                file.version
            )));
        }
        let absent: Vec<Vec<String>> = file.columns.iter().map(|c| c.absent_in.clone()).collect();
        let builder = ProfileBuilder {
            rows: file.row_count,
            columns: file.columns.into_iter().map(|c| c.state).collect(),
        };
        builder.check().map_err(err)?;
        let mut profile = builder.finish(file.sources);
        for (c, a) in profile.columns.iter_mut().zip(absent) {
            c.absent_in = a;
        }
        Ok(profile)
    }

    pub fn builder(&self) -> ProfileBuilder {
        ProfileBuilder {
            rows: self.row_count,
            columns: self.columns.iter().map(|c| c.state.clone()).collect(),
        }
    }

    /// Merge profiles of the same columns (e.g. partitions profiled apart).
    pub fn merge_all(profiles: &[(String, Profile)]) -> Result<Profile> {
        let Some(((first_name, first), rest)) = profiles.split_first() else {
            return Err(Error::Usage("no profiles to merge".into()));
        };
        let mut builder = first.builder();
        let builders: Vec<ProfileBuilder> = profiles.iter().map(|(_, p)| p.builder()).collect();
        let parts: Vec<&ProfileBuilder> = builders.iter().collect();
        let mut sources = first.sources.clone();
        let signature = |p: &Profile| -> Vec<(String, String)> {
            p.columns
                .iter()
                .map(|c| (c.name.clone(), c.type_name.clone()))
                .collect()
        };
        let want = signature(first);
        for (k, (name, p)) in rest.iter().enumerate() {
            let got = signature(p);
            if got != want {
                let missing: Vec<String> = want
                    .iter()
                    .filter(|c| !got.contains(c))
                    .map(|(n, t)| format!("{n} ({t})"))
                    .collect();
                let extra: Vec<String> = got
                    .iter()
                    .filter(|c| !want.contains(c))
                    .map(|(n, t)| format!("{n} ({t})"))
                    .collect();
                return Err(Error::Profile {
                    path: name.into(),
                    message: format!(
                        "columns differ from {first_name}: missing [{}], extra [{}]{}",
                        missing.join(", "),
                        extra.join(", "),
                        if missing.is_empty() && extra.is_empty() {
                            " (order differs)"
                        } else {
                            ""
                        }
                    ),
                    source: None,
                });
            }
            builder.merge(parts[k + 1]).map_err(|e| match e {
                Error::Usage(message) => Error::Profile {
                    path: name.into(),
                    message,
                    source: None,
                },
                other => other,
            })?;
            sources.extend(p.sources.iter().cloned());
        }
        builder.remerge_quantiles(&parts);
        let mut merged = builder.finish(sources);
        // A column absent from some files of a part is absent from them in the whole.
        for (i, c) in merged.columns.iter_mut().enumerate() {
            for (_, p) in profiles {
                for f in &p.columns[i].absent_in {
                    if !c.absent_in.contains(f) {
                        c.absent_in.push(f.clone());
                    }
                }
            }
        }
        Ok(merged)
    }

    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Why a file is not a stored profile, in words: cut short, not JSON at all, or JSON of
/// another kind (the reports other commands write are the usual mix-up).
fn not_a_profile(bytes: &[u8], e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let (line, column) = (e.line(), e.column());
    match e.classify() {
        Category::Eof => format!(
            "not a complete stored profile: the JSON ends early at line {line}, column {column} (truncated?)"
        ),
        Category::Syntax | Category::Io => {
            format!("not a stored profile: not valid JSON at line {line}, column {column}")
        }
        Category::Data => {
            let doc: Option<Value> = serde_json::from_slice(bytes).ok();
            let has = |key: &str| doc.as_ref().is_some_and(|d| d.get(key).is_some());
            let kind = document_kind(has).filter(|k| *k != "profile");
            let detail = one_line_serde(e);
            match kind {
                Some(kind) => format!(
                    "not a stored profile: this JSON looks like a `{kind}` report; `preflight profile --format json` writes profiles"
                ),
                None if doc.as_ref().is_some_and(|d| !d.is_object()) => {
                    "not a stored profile: the JSON is not an object".to_string()
                }
                None => format!("not a stored profile: {detail}"),
            }
        }
    }
}

/// Which preflight document a JSON object is, from its top-level keys (`has`): `"profile"`
/// for a stored profile, else the command whose report it is (`"validate"`, `"drift"`,
/// `"skew"`, `"labels"`), or `None`. The one rule for telling them apart.
pub fn document_kind(has: impl Fn(&str) -> bool) -> Option<&'static str> {
    if has("version") && ((has("row_count") && has("columns")) || (has("by") && has("slices"))) {
        // A sliced profile (`profile --by`) is a stored profile too.
        Some("profile")
    } else if has("passed") && has("anomalies") {
        Some("validate")
    } else if has("dataset_drift") {
        Some("drift")
    } else if has("skewed_features") {
        Some("skew")
    } else if has("label_issues") {
        Some("labels")
    } else {
        None
    }
}

/// serde_json's message without its own " at line L column C" (we say where ourselves).
fn one_line_serde(e: &serde_json::Error) -> String {
    let s = e.to_string();
    let cut = s.rfind(" at line ").map_or(s.as_str(), |i| &s[..i]);
    format!("{cut} (line {}, column {})", e.line(), e.column())
}

/// One column's statistics as users and other tools read them.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnProfile {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub kind: Kind,
    /// Input files that lack this column (it is null in their rows): files of one
    /// dataset whose columns differ. Left out when every file has it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub absent_in: Vec<String>,
    /// Rows, missing or not.
    pub count: u64,
    /// Null (missing) rows.
    pub missing: u64,
    /// Non-null rows.
    pub present: u64,
    pub missing_fraction: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct_exact: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub top_values: Vec<TopValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_values_exact: Option<bool>,
    /// How far any top-value count may be above the true count (0 when exact).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_values_max_error: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numeric: Option<NumericSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporal: Option<TemporalSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string: Option<LengthSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary: Option<LengthSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boolean: Option<BoolSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<ListSummary>,
    /// The mergeable accumulator state the summary was derived from.
    pub state: ColumnState,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopValue {
    pub value: Value,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NumericSummary {
    /// Finite values summarised below (NaN and infinities excluded, counted apart).
    pub finite: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    /// Population standard deviation (ddof = 0), as TFDV.
    pub std_dev: Option<f64>,
    pub zeros: u64,
    pub nan: u64,
    pub pos_inf: u64,
    pub neg_inf: u64,
    pub median: Option<f64>,
    /// Percentiles p0..p100 (index = percent); empty when there are no finite values.
    pub percentiles: Vec<f64>,
    /// True when quantiles and histograms are exact; false when they come from the t-digest.
    pub quantiles_exact: bool,
    /// Ten equal-width buckets over [min, max] (TFDV's STANDARD histogram).
    pub histogram: Vec<Bucket>,
    /// Ten equal-count buckets (TFDV's QUANTILES histogram).
    pub quantile_histogram: Vec<Bucket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    pub low: f64,
    pub high: f64,
    pub count: f64,
}

/// Temporal columns: the numeric summary is on the integer encoding (see `unit`); these
/// are the same points as ISO 8601 text.
#[derive(Debug, Clone, Serialize)]
pub struct TemporalSummary {
    pub unit: TemporalUnit,
    pub min: Option<String>,
    pub median: Option<String>,
    pub max: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LengthSummary {
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub avg_length: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoolSummary {
    pub true_count: u64,
    pub false_count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListSummary {
    pub min_values: Option<u64>,
    pub max_values: Option<u64>,
    pub avg_values: Option<f64>,
    pub total_values: u64,
    /// Profile of the flattened element values.
    pub elements: Box<ColumnProfile>,
}

fn lengths(l: &column::LengthState, n: u64) -> LengthSummary {
    LengthSummary {
        min_length: l.min,
        max_length: l.max,
        avg_length: (n > 0).then(|| l.total as f64 / n as f64),
    }
}

impl ColumnProfile {
    pub fn from_state(state: ColumnState) -> Self {
        // Stored states are checked on reading (missing <= count); saturate all the same.
        let present = state.count.saturating_sub(state.missing);
        let mut p = Self {
            name: state.name.clone(),
            type_name: state.type_name.clone(),
            kind: state.kind,
            absent_in: Vec::new(),
            count: state.count,
            missing: state.missing,
            present,
            missing_fraction: if state.count == 0 {
                0.0
            } else {
                state.missing as f64 / state.count as f64
            },
            distinct: None,
            distinct_exact: None,
            top_values: Vec::new(),
            top_values_exact: None,
            top_values_max_error: None,
            numeric: None,
            temporal: None,
            string: None,
            binary: None,
            boolean: None,
            list: None,
            state: ColumnState::new("", &arrow::datatypes::DataType::Null),
        };
        // A summary-only state counted no values: no distinct count or top values.
        if let Some(num) = state.numeric.as_ref().filter(|n| !n.summary_only) {
            let c = num.counts.summary(TOP_VALUES).clamped(num.moments.n);
            // NaN is a value too: counted apart from the map, it adds one distinct value.
            p.distinct = Some(
                c.distinct
                    + u64::from(num.nan > 0)
                    + u64::from(num.pos_inf > 0)
                    + u64::from(num.neg_inf > 0),
            );
            p.distinct_exact = Some(c.distinct_exact);
            p.top_values_exact = Some(c.top_exact);
            p.top_values_max_error = Some(c.top_max_error);
            p.top_values = c
                .top
                .iter()
                .map(|(bits, count)| TopValue {
                    value: numeric_value(f64::from_bits(*bits as u64), &state),
                    count: *count,
                })
                .collect();
        }
        if let Some(num) = &state.numeric {
            let s = numeric_summary(num);
            if let Some(unit) = state.temporal_unit {
                // An interpolated instant is shown to the second: its nanoseconds mean nothing.
                let median = if s.quantiles_exact {
                    s.median
                } else {
                    s.median.map(|m| round_to_second(m, unit))
                };
                let fmt =
                    |x: Option<f64>| x.and_then(|v| format_temporal(v, unit, &state.type_name));
                p.temporal = Some(TemporalSummary {
                    unit,
                    min: fmt(s.min),
                    median: fmt(median),
                    max: fmt(s.max),
                });
            }
            p.numeric = Some(s);
        }
        if let Some(st) = &state.string {
            let c = st.counts.summary(TOP_VALUES).clamped(present);
            p.distinct = Some(c.distinct);
            p.distinct_exact = Some(c.distinct_exact);
            p.top_values_exact = Some(c.top_exact);
            p.top_values_max_error = Some(c.top_max_error);
            p.top_values = c
                .top
                .into_iter()
                .map(|(v, count)| TopValue {
                    value: Value::String(v),
                    count,
                })
                .collect();
            p.string = Some(lengths(&st.lengths, present));
        }
        if let Some(b) = &state.binary {
            p.binary = Some(lengths(b, present));
        }
        if let Some(b) = &state.boolean {
            let mut top: Vec<TopValue> = [(true, b.true_count), (false, b.false_count)]
                .into_iter()
                .filter(|(_, c)| *c > 0)
                .map(|(v, count)| TopValue {
                    value: Value::Bool(v),
                    count,
                })
                .collect();
            top.sort_by_key(|t| std::cmp::Reverse(t.count));
            p.distinct = Some(top.len() as u64);
            p.distinct_exact = Some(true);
            p.top_values = top;
            p.top_values_exact = Some(true);
            p.top_values_max_error = Some(0);
            p.boolean = Some(BoolSummary {
                true_count: b.true_count,
                false_count: b.false_count,
            });
        }
        if let Some(l) = &state.list {
            let n = present;
            p.list = Some(ListSummary {
                min_values: l.values_per_row.min,
                max_values: l.values_per_row.max,
                avg_values: (n > 0).then(|| l.values_per_row.total as f64 / n as f64),
                total_values: l.values_per_row.total,
                elements: Box::new(ColumnProfile::from_state((*l.elements).clone())),
            });
        }
        p.state = state;
        p
    }
}

/// Integers print as integers; temporal values as ISO text.
fn numeric_value(x: f64, state: &ColumnState) -> Value {
    if let Some(s) = state
        .temporal_unit
        .and_then(|unit| format_temporal(x, unit, &state.type_name))
    {
        return Value::String(s);
    }
    if state.kind == Kind::Integer && x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
        return Value::from(x as i64);
    }
    Value::from(x)
}

fn numeric_summary(num: &column::NumericState) -> NumericSummary {
    let n = num.moments.n;
    // Few distinct values: exact quantiles from the value counts, however many rows.
    let (view, exact) = match num.counts.exact() {
        Some(map) => (
            QuantileView::weighted(
                map.iter()
                    .map(|(bits, c)| (f64::from_bits(*bits as u64), *c))
                    .collect(),
            ),
            true,
        ),
        _ => (num.quantiles.view(), num.quantiles.is_exact()),
    };
    // Sketch quantiles and the rounded moments are held to what is known exactly: every
    // quantile lies in [min, max], and a standard deviation is at most half the range.
    let (lo, hi) = (
        num.min.unwrap_or(f64::NEG_INFINITY),
        num.max.unwrap_or(f64::INFINITY),
    );
    let within = |x: f64| if lo <= hi { x.clamp(lo, hi) } else { x };
    let quantile = |q: f64| view.quantile(q).map(within);
    // A summary-only state kept no values to take quantiles of: none is claimed.
    let quantiled = n > 0 && !num.summary_only;
    let percentiles: Vec<f64> = if !quantiled {
        Vec::new()
    } else {
        (0..=100)
            .filter_map(|i| quantile(f64::from(i) / 100.0))
            .collect()
    };
    let median = quantile(0.5).filter(|_| quantiled);
    let histogram = match (num.min, num.max) {
        (Some(lo), Some(hi)) if quantiled => equal_width(&view, lo, hi, n),
        _ => Vec::new(),
    };
    let quantile_histogram = if !quantiled {
        Vec::new()
    } else {
        let b = HISTOGRAM_BUCKETS;
        (0..b)
            .filter_map(|i| {
                let low = quantile(i as f64 / b as f64)?;
                let high = quantile((i + 1) as f64 / b as f64)?;
                Some(Bucket {
                    low,
                    high,
                    count: n as f64 / b as f64,
                })
            })
            .collect()
    };
    NumericSummary {
        finite: n,
        min: num.min,
        max: num.max,
        mean: (n > 0).then(|| within(num.moments.mean)),
        std_dev: num.moments.std_dev().map(|s| match (num.min, num.max) {
            (Some(a), Some(b)) if b >= a => s.min((b - a) / 2.0),
            _ => s,
        }),
        zeros: num.zeros,
        nan: num.nan,
        pos_inf: num.pos_inf,
        neg_inf: num.neg_inf,
        median,
        percentiles,
        quantiles_exact: exact && !num.summary_only,
        histogram,
        quantile_histogram,
    }
}

fn equal_width(view: &QuantileView, lo: f64, hi: f64, n: u64) -> Vec<Bucket> {
    if lo == hi {
        return vec![Bucket {
            low: lo,
            high: hi,
            count: n as f64,
        }];
    }
    let b = HISTOGRAM_BUCKETS;
    let width = (hi - lo) / b as f64;
    let edge = |i: usize| if i == b { hi } else { lo + width * i as f64 };
    let mut prev = 0.0;
    (0..b)
        .map(|i| {
            let upto = if i + 1 == b {
                n as f64
            } else {
                view.count_le(edge(i + 1), n).round()
            };
            let count = (upto - prev).max(0.0);
            prev = upto.max(prev);
            Bucket {
                low: edge(i),
                high: edge(i + 1),
                count,
            }
        })
        .collect()
}

fn round_to_second(v: f64, unit: TemporalUnit) -> f64 {
    let per_second = match unit {
        TemporalUnit::Days | TemporalUnit::Seconds => return v.round(),
        TemporalUnit::Milliseconds => 1e3,
        TemporalUnit::Microseconds => 1e6,
        TemporalUnit::Nanoseconds => 1e9,
    };
    (v / per_second).round() * per_second
}

fn format_temporal(v: f64, unit: TemporalUnit, type_name: &str) -> Option<String> {
    use chrono::{DateTime, NaiveDate};
    let v = v.round() as i64;
    let dt = match unit {
        TemporalUnit::Days => {
            let d = NaiveDate::from_num_days_from_ce_opt(i32::try_from(v).ok()? + 719_163)?;
            return Some(d.to_string());
        }
        TemporalUnit::Seconds => DateTime::from_timestamp(v, 0)?,
        TemporalUnit::Milliseconds => DateTime::from_timestamp_millis(v)?,
        TemporalUnit::Microseconds => DateTime::from_timestamp_micros(v)?,
        TemporalUnit::Nanoseconds => DateTime::from_timestamp_nanos(v),
    };
    if type_name.starts_with("time32") || type_name.starts_with("time64") {
        return Some(dt.format("%H:%M:%S%.f").to_string());
    }
    if type_name.starts_with("duration") {
        return None;
    }
    if type_name.contains("tz=") {
        Some(dt.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    } else {
        Some(dt.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    /// Twelve parts holding disjoint ranges of a skewed column (as monthly files hold
    /// timestamps): merged at once, the t-digest's percentiles stay within 0.1% of the
    /// range of the exact ones (one compression's error; here 0.025%, a chain of pairwise
    /// merges 0.015%, a tree of them on the flights' `time_hour` 0.9%), and the result
    /// does not depend on the order of the parts.
    #[test]
    fn many_digests_merged_at_once_stay_accurate() {
        let schema = Schema::new(vec![Field::new("x", DataType::Float64, false)]);
        // 12 x 5,000 distinct values: every part keeps a digest, not exact counts.
        let mut all = Vec::new();
        let parts: Vec<ProfileBuilder> = (0..12)
            .map(|m| {
                let values: Vec<f64> = (0..5_000)
                    .map(|i| {
                        let u = f64::from(m * 5_000 + i) / 60_000.0;
                        u * u * 1e6
                    })
                    .collect();
                all.extend_from_slice(&values);
                let mut b = ProfileBuilder::new(&schema);
                let batch = RecordBatch::try_new(
                    Arc::new(schema.clone()),
                    vec![Arc::new(Float64Array::from(values)) as ArrayRef],
                )
                .unwrap();
                b.update(&batch).unwrap();
                b
            })
            .collect();
        all.sort_by(f64::total_cmp);
        let range = all[all.len() - 1] - all[0];
        let worst = |b: ProfileBuilder| -> f64 {
            let p = b.finish(Vec::new());
            let n = p.columns[0].numeric.as_ref().unwrap();
            assert!(!n.quantiles_exact);
            (1..100)
                .map(|q| {
                    let exact = all[q * (all.len() - 1) / 100];
                    (n.percentiles[q] - exact).abs() / range
                })
                .fold(0.0, f64::max)
        };
        let at_once = ProfileBuilder::merge_many(parts.clone()).unwrap();
        let reversed = ProfileBuilder::merge_many(parts.iter().rev().cloned().collect()).unwrap();
        let once = worst(at_once.clone());
        assert!(once < 0.001, "merged at once: {once}");
        let q = |b: &ProfileBuilder| {
            b.clone().finish(Vec::new()).columns[0]
                .numeric
                .clone()
                .unwrap()
                .percentiles
        };
        let (a, r) = (q(&at_once), q(&reversed));
        for (x, y) in a.iter().zip(&r) {
            assert!(
                (x - y).abs() <= 1e-9 * range,
                "order changed a percentile: {x} vs {y}"
            );
        }
    }

    /// Sharing a batch's columns among threads gives the states one thread gives, to the
    /// byte, and an error in any group still reaches the caller.
    #[test]
    fn columns_shared_among_threads_give_the_same_states() {
        let fields: Vec<Field> = (0..70)
            .map(|i| {
                let t = if i % 2 == 0 {
                    DataType::Float64
                } else {
                    DataType::Int64
                };
                Field::new(format!("c{i}"), t, false)
            })
            .collect();
        let schema = Schema::new(fields);
        let batch = |seed: u64| {
            let cols: Vec<ArrayRef> = (0..70u64)
                .map(|i| -> ArrayRef {
                    let v = (0..5000u64).map(move |r| (r * 7919 + i * 31 + seed) % 3001);
                    if i % 2 == 0 {
                        Arc::new(Float64Array::from_iter_values(v.map(|x| x as f64 / 7.0)))
                    } else {
                        Arc::new(Int64Array::from_iter_values(v.map(|x| x as i64)))
                    }
                })
                .collect();
            RecordBatch::try_new(Arc::new(schema.clone()), cols).unwrap()
        };
        let (mut one, mut three) = (ProfileBuilder::new(&schema), ProfileBuilder::new(&schema));
        for seed in 0..4 {
            one.update(&batch(seed)).unwrap();
            three.update_with_threads(&batch(seed), 3).unwrap();
        }
        assert_eq!(one.rows, three.rows);
        for (a, b) in one.columns.iter().zip(&three.columns) {
            assert_eq!(a.to_bytes(), b.to_bytes(), "column {}", a.name);
        }
        // A column in the last group that does not fit its state (a string column given
        // integers) is an error returned to the caller, not a panic.
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields[69] = Field::new("c69", DataType::Utf8, false);
        let strings = Schema::new(fields);
        assert!(ProfileBuilder::new(&strings).update(&batch(9)).is_err());
        let mut shared = ProfileBuilder::new(&strings);
        assert!(shared.update_with_threads(&batch(9), 3).is_err());
    }
}
