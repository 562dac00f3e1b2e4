//! One column's accumulator: `update(array)`, `merge(other)`, `to_bytes`/`from_bytes`.
//!
//! The state is independent of what drives it (DESIGN.md): a loop over DataFusion
//! partition streams today, an aggregate function with a binary state tomorrow.

use arrow::array::{Array, ArrayAccessor, ArrayRef, AsArray, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit};
use serde::{Deserialize, Serialize};

use ahash::AHashMap as HashMap;
use std::collections::hash_map::Entry;

use super::counts::ValueCounts;
use super::quantiles::{Moments, Quantiles, min_max};
use crate::error::{Error, Result};

/// What family of statistics a column gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Integer,
    Float,
    Decimal,
    Date,
    Timestamp,
    Time,
    Duration,
    String,
    Boolean,
    Binary,
    List,
    Struct,
    Null,
    Other,
}

impl Kind {
    pub fn of(dt: &DataType) -> Self {
        use DataType as D;
        match dt {
            D::Int8 | D::Int16 | D::Int32 | D::Int64 => Self::Integer,
            D::UInt8 | D::UInt16 | D::UInt32 | D::UInt64 => Self::Integer,
            D::Float16 | D::Float32 | D::Float64 => Self::Float,
            D::Decimal32(..) | D::Decimal64(..) | D::Decimal128(..) | D::Decimal256(..) => {
                Self::Decimal
            }
            D::Date32 | D::Date64 => Self::Date,
            D::Timestamp(..) => Self::Timestamp,
            D::Time32(_) | D::Time64(_) => Self::Time,
            D::Duration(_) => Self::Duration,
            D::Utf8 | D::LargeUtf8 | D::Utf8View => Self::String,
            D::Boolean => Self::Boolean,
            D::Binary | D::LargeBinary | D::BinaryView | D::FixedSizeBinary(_) => Self::Binary,
            D::List(_) | D::LargeList(_) | D::FixedSizeList(..) | D::ListView(_) => Self::List,
            D::LargeListView(_) => Self::List,
            D::Struct(_) | D::Map(..) | D::Union(..) => Self::Struct,
            D::Null => Self::Null,
            D::Dictionary(_, v) => Self::of(v),
            D::RunEndEncoded(_, v) => Self::of(v.data_type()),
            _ => Self::Other,
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Self::Integer
                | Self::Float
                | Self::Decimal
                | Self::Date
                | Self::Timestamp
                | Self::Time
                | Self::Duration
        )
    }

    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            Self::Date | Self::Timestamp | Self::Time | Self::Duration
        )
    }
}

/// The user-facing type name, in pyarrow's spelling (`int64`, `double`, `string`,
/// `timestamp[ns, tz=UTC]`) since that is what data people read in schemas and manifests.
/// Dictionary and view encodings are storage details and show as their value type.
pub fn type_name(dt: &DataType) -> String {
    use DataType as D;
    let unit = |u: &TimeUnit| match u {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    };
    match dt {
        D::Null => "null".into(),
        D::Boolean => "bool".into(),
        D::Int8 => "int8".into(),
        D::Int16 => "int16".into(),
        D::Int32 => "int32".into(),
        D::Int64 => "int64".into(),
        D::UInt8 => "uint8".into(),
        D::UInt16 => "uint16".into(),
        D::UInt32 => "uint32".into(),
        D::UInt64 => "uint64".into(),
        D::Float16 => "halffloat".into(),
        D::Float32 => "float".into(),
        D::Float64 => "double".into(),
        D::Utf8 | D::LargeUtf8 | D::Utf8View => "string".into(),
        D::Binary | D::LargeBinary | D::BinaryView => "binary".into(),
        D::FixedSizeBinary(n) => format!("fixed_size_binary[{n}]"),
        D::Date32 => "date32[day]".into(),
        D::Date64 => "date64[ms]".into(),
        D::Timestamp(u, None) => format!("timestamp[{}]", unit(u)),
        D::Timestamp(u, Some(tz)) => format!("timestamp[{}, tz={tz}]", unit(u)),
        D::Time32(u) => format!("time32[{}]", unit(u)),
        D::Time64(u) => format!("time64[{}]", unit(u)),
        D::Duration(u) => format!("duration[{}]", unit(u)),
        D::Decimal32(p, s) => format!("decimal32({p}, {s})"),
        D::Decimal64(p, s) => format!("decimal64({p}, {s})"),
        D::Decimal128(p, s) => format!("decimal128({p}, {s})"),
        D::Decimal256(p, s) => format!("decimal256({p}, {s})"),
        D::List(f) | D::LargeList(f) | D::ListView(f) | D::LargeListView(f) => {
            format!("list<{}>", type_name(f.data_type()))
        }
        D::FixedSizeList(f, n) => format!("fixed_size_list<{}>[{n}]", type_name(f.data_type())),
        D::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.name(), type_name(f.data_type())))
                .collect();
            format!("struct<{}>", inner.join(", "))
        }
        D::Dictionary(_, v) => type_name(v),
        D::RunEndEncoded(_, v) => type_name(v.data_type()),
        other => other.to_string().to_lowercase(),
    }
}

/// Temporal columns are profiled on their integer encoding; this says how to print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemporalUnit {
    Days,
    Seconds,
    Milliseconds,
    Microseconds,
    Nanoseconds,
}

/// Statistics over the numeric values of a column (the encoded integer for temporal ones).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NumericState {
    pub nan: u64,
    pub pos_inf: u64,
    pub neg_inf: u64,
    pub zeros: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub moments: Moments,
    pub quantiles: Quantiles,
    pub counts: ValueCounts<i64>,
    /// Only the summary above is kept (counts, extremes, moments): no value counts, distinct
    /// count or quantiles, whose sketches are most of a numeric column's cost. What
    /// `validate` asks of a column whose checks are presence, type, range and finiteness.
    /// The value counts and quantile sketch stay empty, and a merge with a full state keeps
    /// only the summary.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub summary_only: bool,
}

/// String and binary lengths (characters for strings, bytes for binary).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LengthState {
    pub min: Option<u64>,
    pub max: Option<u64>,
    pub total: u64,
}

impl LengthState {
    fn add(&mut self, len: u64) {
        self.add_n(len, 1);
    }
    /// `n` values of length `len`.
    fn add_n(&mut self, len: u64, n: u64) {
        self.min = Some(self.min.map_or(len, |m| m.min(len)));
        self.max = Some(self.max.map_or(len, |m| m.max(len)));
        self.total += len * n;
    }
    /// Min and max of a merge; the caller adds the totals with overflow checked.
    fn merge_extremes(&mut self, o: &Self) {
        self.min = opt_min_u(self.min, o.min);
        self.max = opt_max_u(self.max, o.max);
    }

    /// `n` values were measured: extremes present exactly when there are values, in
    /// order, and a total between n * min and n * max.
    fn check(&self, n: u64, what: &str) -> std::result::Result<(), String> {
        match (self.min, self.max) {
            (None, None) if n == 0 && self.total == 0 => Ok(()),
            (Some(lo), Some(hi)) if n > 0 && lo <= hi => {
                let low = u128::from(lo) * u128::from(n);
                let high = u128::from(hi) * u128::from(n);
                if (low..=high).contains(&u128::from(self.total)) {
                    Ok(())
                } else {
                    Err(format!(
                        "total {what} ({}) is impossible for {n} values between {lo} and {hi}",
                        self.total
                    ))
                }
            }
            (lo, hi) => Err(format!(
                "{what} extremes ({}, {}) do not fit {n} values with total {}",
                opt_text(lo),
                opt_text(hi),
                self.total
            )),
        }
    }
}

fn opt_text<T: std::fmt::Display>(x: Option<T>) -> String {
    x.map_or_else(|| "none".to_string(), |v| v.to_string())
}

/// Value counts of `n` values: exact counts sum to `n`; a frequent-items sketch has seen
/// at most `n` (values seen once in a batch are left out of it).
fn check_counts<K: super::counts::CountKey>(
    counts: &ValueCounts<K>,
    n: u64,
    what: &str,
) -> std::result::Result<(), String> {
    if counts.exact().is_some_and(|m| m.values().any(|c| *c == 0)) {
        return Err("value counts hold a value counted 0 times".to_string());
    }
    // A left-out batch left out at least one value.
    if counts.skipped_batches() > n {
        return Err(format!(
            "value counts left out {} batches of {n} values",
            counts.skipped_batches()
        ));
    }
    let (seen, exact) = counts.weight();
    match seen {
        Some(w) if (exact && w == n) || (!exact && w <= n) => Ok(()),
        Some(w) => Err(format!(
            "value counts hold {w} values where the {what} count is {n}"
        )),
        None => Err("value counts overflow".to_string()),
    }
}

fn opt_min_u(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
fn opt_max_u(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
fn opt_min_f(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
fn opt_max_f(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StringState {
    pub lengths: LengthState,
    pub counts: ValueCounts<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BoolState {
    pub true_count: u64,
    pub false_count: u64,
}

/// Values per row of a list column (TFDV's num_values) and a profile of the flattened
/// element values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListState {
    pub values_per_row: LengthState,
    pub elements: Box<ColumnState>,
}

/// The whole accumulator of one column.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnState {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub kind: Kind,
    /// Rows seen, missing or not.
    pub count: u64,
    /// Null rows.
    pub missing: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal_unit: Option<TemporalUnit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric: Option<NumericState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string: Option<StringState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<LengthState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boolean: Option<BoolState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListState>,
}

fn temporal_unit(dt: &DataType) -> Option<TemporalUnit> {
    use DataType as D;
    let of = |u: &TimeUnit| match u {
        TimeUnit::Second => TemporalUnit::Seconds,
        TimeUnit::Millisecond => TemporalUnit::Milliseconds,
        TimeUnit::Microsecond => TemporalUnit::Microseconds,
        TimeUnit::Nanosecond => TemporalUnit::Nanoseconds,
    };
    match dt {
        D::Date32 => Some(TemporalUnit::Days),
        D::Date64 => Some(TemporalUnit::Milliseconds),
        D::Timestamp(u, _) | D::Duration(u) | D::Time32(u) | D::Time64(u) => Some(of(u)),
        D::Dictionary(_, v) => temporal_unit(v),
        _ => None,
    }
}

impl ColumnState {
    pub fn new(name: &str, dt: &DataType) -> Self {
        let kind = Kind::of(dt);
        let element_type = match dt {
            DataType::List(f)
            | DataType::LargeList(f)
            | DataType::ListView(f)
            | DataType::LargeListView(f)
            | DataType::FixedSizeList(f, _) => Some(f.data_type().clone()),
            _ => None,
        };
        Self {
            name: name.to_string(),
            type_name: type_name(dt),
            kind,
            count: 0,
            missing: 0,
            temporal_unit: temporal_unit(dt),
            numeric: kind.is_numeric().then(NumericState::default),
            string: (kind == Kind::String).then(StringState::default),
            binary: (kind == Kind::Binary).then(LengthState::default),
            boolean: (kind == Kind::Boolean).then(BoolState::default),
            list: element_type.map(|et| ListState {
                values_per_row: LengthState::default(),
                elements: Box::new(ColumnState::new(&format!("{name}[]"), &et)),
            }),
        }
    }

    /// Fold one array of this column into the state.
    pub fn update(&mut self, array: &ArrayRef) -> Result<()> {
        self.count += array.len() as u64;
        self.missing += array.logical_null_count() as u64;
        if array.logical_null_count() == array.len() {
            return Ok(());
        }
        // Dictionary and run-end encodings are storage: profile the decoded values.
        let decoded;
        let array = match array.data_type() {
            DataType::Dictionary(_, v) => {
                decoded = cast(array, v)?;
                &decoded
            }
            DataType::RunEndEncoded(_, v) => {
                decoded = cast(array, v.data_type())?;
                &decoded
            }
            _ => array,
        };
        if let Some(num) = &mut self.numeric {
            // Integers keep a frequent-items sketch past exact counts (a sentinel such as -1
            // in an id column is worth seeing); floats and times do not (TFDV gives them no
            // top values, and the sketch was a fifth of the profile's time).
            update_numeric(num, array, self.kind == Kind::Integer)?;
        } else if let Some(s) = &mut self.string {
            match array.data_type() {
                DataType::Utf8 => update_strings(s, array.as_string::<i32>(), None),
                DataType::LargeUtf8 => update_strings(s, array.as_string::<i64>(), None),
                DataType::Utf8View => {
                    let a = array.as_string_view();
                    update_strings(s, a, Some(a.views()))
                }
                other => return Err(unexpected(other)),
            }
        } else if let Some(b) = &mut self.boolean {
            let arr = array.as_boolean();
            let t = arr.true_count() as u64;
            b.true_count += t;
            b.false_count += (arr.len() - arr.null_count()) as u64 - t;
        } else if let Some(l) = &mut self.binary {
            update_binary(l, array)?;
        } else if let Some(list) = &mut self.list {
            update_list(list, array)?;
        }
        Ok(())
    }

    /// Fold another state of the same column in. Every count is added with overflow
    /// checked (stored profiles can claim any count); on an error the state is left partly
    /// merged and must be dropped. Sketch weights need no check of their own: for states
    /// that pass [`ColumnState::check`] they are bounded by counts checked here.
    pub fn merge(&mut self, o: &Self) -> Result<()> {
        if self.name != o.name || self.type_name != o.type_name {
            return Err(Error::Usage(format!(
                "cannot merge column `{}` ({}) with column `{}` ({})",
                self.name, self.type_name, o.name, o.type_name
            )));
        }
        let name = self.name.clone();
        let add = |a: u64, b: u64, what: &str| -> Result<u64> {
            a.checked_add(b).ok_or_else(|| {
                Error::Usage(format!(
                    "column '{name}': {what} overflows when merged ({a} + {b} is more than {})",
                    u64::MAX
                ))
            })
        };
        self.count = add(self.count, o.count, "count")?;
        self.missing = add(self.missing, o.missing, "missing")?;
        if let (Some(a), Some(b)) = (&mut self.numeric, &o.numeric) {
            a.nan = add(a.nan, b.nan, "nan")?;
            a.pos_inf = add(a.pos_inf, b.pos_inf, "pos_inf")?;
            a.neg_inf = add(a.neg_inf, b.neg_inf, "neg_inf")?;
            a.zeros = add(a.zeros, b.zeros, "zeros")?;
            add(a.moments.n, b.moments.n, "the finite count")?;
            a.merge(b);
        }
        if let (Some(a), Some(b)) = (&mut self.string, &o.string) {
            a.lengths.total = add(a.lengths.total, b.lengths.total, "total length")?;
            a.lengths.merge_extremes(&b.lengths);
            a.counts.merge(&b.counts);
        }
        if let (Some(a), Some(b)) = (&mut self.binary, &o.binary) {
            a.total = add(a.total, b.total, "total length")?;
            a.merge_extremes(b);
        }
        if let (Some(a), Some(b)) = (&mut self.boolean, &o.boolean) {
            a.true_count = add(a.true_count, b.true_count, "true count")?;
            a.false_count = add(a.false_count, b.false_count, "false count")?;
        }
        if let (Some(a), Some(b)) = (&mut self.list, &o.list) {
            let v = &mut a.values_per_row;
            v.total = add(v.total, b.values_per_row.total, "total values")?;
            v.merge_extremes(&b.values_per_row);
            a.elements.merge(&b.elements)?;
        }
        Ok(())
    }

    /// Check the invariants that every state built by `update` and `merge` holds. A stored
    /// profile that breaks one was edited or corrupted: summarising or merging it would give
    /// wrong answers (a missing fraction above 1) or overflow. The error is a sentence
    /// naming the column.
    pub fn check(&self) -> std::result::Result<(), String> {
        let col = &self.name;
        let fail = |what: String| Err(format!("column '{col}': {what}"));
        if self.missing > self.count {
            return fail(format!(
                "missing ({}) exceeds count ({})",
                self.missing, self.count
            ));
        }
        let present = self.count - self.missing;
        let kind = self.kind;
        let shape = [
            ("numeric", self.numeric.is_some(), kind.is_numeric()),
            ("string", self.string.is_some(), kind == Kind::String),
            ("binary", self.binary.is_some(), kind == Kind::Binary),
            ("boolean", self.boolean.is_some(), kind == Kind::Boolean),
            ("list", self.list.is_some(), kind == Kind::List),
        ];
        for (part, has, wants) in shape {
            if has != wants {
                let kind = serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                return fail(if has {
                    format!("a {kind} column has {part} statistics")
                } else {
                    format!("a {kind} column lacks its {part} statistics")
                });
            }
        }
        if let Some(n) = &self.numeric {
            n.check(present).or_else(fail)?;
        }
        if let Some(s) = &self.string {
            s.lengths.check(present, "length").or_else(fail)?;
            check_counts(&s.counts, present, "present").or_else(fail)?;
        }
        if let Some(b) = &self.binary {
            b.check(present, "length").or_else(fail)?;
        }
        if let Some(b) = &self.boolean {
            let both = b.true_count.checked_add(b.false_count);
            if both.is_none_or(|t| t > present) {
                return fail(format!(
                    "true ({}) and false ({}) counts exceed the present count ({present})",
                    b.true_count, b.false_count
                ));
            }
        }
        if let Some(l) = &self.list {
            l.values_per_row
                .check(present, "values per row")
                .or_else(fail)?;
            if l.elements.count != l.values_per_row.total {
                return fail(format!(
                    "element count ({}) differs from the total values ({})",
                    l.elements.count, l.values_per_row.total
                ));
            }
            l.elements.check()?;
        }
        Ok(())
    }

    /// A self-describing binary image of the state (for an aggregate function's state).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Read a state written by [`ColumnState::to_bytes`]; its invariants are checked
    /// (see [`ColumnState::check`]) since the bytes may come from anywhere.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let state: Self = serde_json::from_slice(bytes)
            .map_err(|e| Error::Usage(format!("invalid column state: {e}")))?;
        state
            .check()
            .map_err(|e| Error::Usage(format!("invalid column state: {e}")))?;
        Ok(state)
    }
}

fn unexpected(dt: &DataType) -> Error {
    Error::Engine(format!("unexpected array type {dt} for this column"))
}

/// Numeric and temporal arrays as f64. Temporal values go through their integer
/// encoding (days, or time units since the epoch).
fn to_f64(array: &ArrayRef) -> Result<Float64Array> {
    let a = match array.data_type() {
        DataType::Float64 => array.clone(),
        dt if Kind::of(dt).is_temporal() => {
            cast(&cast(array, &DataType::Int64)?, &DataType::Float64)?
        }
        _ => cast(array, &DataType::Float64)?,
    };
    Ok(a.as_primitive::<arrow::datatypes::Float64Type>().clone())
}

/// The non-null values as f64, straight from the buffer of 64-bit integers and temporal
/// columns (no intermediate array); anything else through a cast to Float64.
fn finite_values(s: &mut NumericState, array: &ArrayRef) -> Result<Vec<f64>> {
    use DataType as D;
    match array.data_type() {
        D::Int64 | D::Timestamp(..) | D::Date64 | D::Time64(_) | D::Duration(_) => {
            let data = array.to_data();
            let values = &data.buffer::<i64>(0)[..array.len()];
            let mut out = Vec::with_capacity(array.len() - array.null_count());
            match array.nulls().filter(|n| n.null_count() > 0) {
                Some(nulls) => out.extend(nulls.valid_indices().map(|i| values[i] as f64)),
                None => out.extend(values.iter().map(|x| *x as f64)),
            }
            Ok(out)
        }
        _ => Ok(finite_floats(s, &to_f64(array)?)),
    }
}

fn finite_floats(s: &mut NumericState, arr: &Float64Array) -> Vec<f64> {
    let mut finite = Vec::with_capacity(arr.len() - arr.null_count());
    let mut push = |x: f64| {
        if x.is_finite() {
            finite.push(if x == 0.0 { 0.0 } else { x }); // -0.0 and 0.0 are one value
        } else if x.is_nan() {
            s.nan += 1;
        } else if x > 0.0 {
            s.pos_inf += 1;
        } else {
            s.neg_inf += 1;
        }
    };
    if arr.null_count() == 0 && arr.values().iter().all(|x| x.is_finite()) {
        // The usual case, without a branch per value: adding 0.0 turns -0.0 into 0.0.
        finite.extend(arr.values().iter().map(|x| x + 0.0));
    } else if let Some(nulls) = arr.nulls().filter(|n| n.null_count() > 0) {
        let values = arr.values();
        nulls.valid_indices().for_each(|i| push(values[i]));
    } else {
        arr.values().iter().for_each(|x| push(*x));
    }
    finite
}

fn update_numeric(s: &mut NumericState, array: &ArrayRef, keep_top: bool) -> Result<()> {
    let mut finite = finite_values(s, array)?;
    s.zeros += finite.iter().filter(|x| **x == 0.0).count() as u64;
    // The summary: what every state keeps.
    let extremes = min_max(&finite);
    if let Some((lo, hi)) = extremes {
        s.min = opt_min_f(s.min, Some(lo));
        s.max = opt_max_f(s.max, Some(hi));
    }
    s.moments.merge(&Moments::of(&finite));
    if s.summary_only {
        return Ok(());
    }
    // While the value counts are exact they determine the quantiles, and the quantile
    // sketch is left empty; when they switch to sketches, everything counted so far seeds
    // it and the rest of the batch follows.
    let mut sketch_from = 0;
    if s.counts.exact().is_some() {
        sketch_from = finite.len();
        if count_small_span(&mut s.counts, &finite, extremes) {
            // Counted at once; no spill was possible.
        } else {
            for (i, &x) in finite.iter().enumerate() {
                if let Some(seen) = s.counts.add_ref(&(x.to_bits() as i64)) {
                    s.quantiles = Quantiles::from_counts(bits_to_f64(seen));
                    sketch_from = i + 1;
                    break;
                }
            }
        }
    }
    if !keep_top {
        s.counts.drop_top();
    }
    // Infinities are counted, not sketched: they have no place among the quantiles.
    // The frequent-items sketch takes sorted runs (a radix sort); the quantile sketch does
    // not need them.
    let rest = &mut finite[sketch_from..];
    let mut sorted = rest.is_sorted_by(|a, b| a <= b); // ids and event times often are
    if !sorted && s.counts.tracks_top() {
        radsort::sort(rest);
        sorted = true;
    }
    if !sorted {
        // Distinct counts only: the quantile sketch does without a sort.
        s.counts
            .add_runs::<i64, i64>(rest.iter().map(|x| (x.to_bits() as i64, 1)));
        // The batch's extremes are those of `rest` unless exact counts took a prefix.
        let rest_extremes = if sketch_from == 0 {
            extremes
        } else {
            min_max(rest)
        };
        if let Some(e) = rest_extremes {
            s.quantiles.extend_unsorted(rest, e);
        }
        return Ok(());
    }
    // Past exact counts (the only way `rest` is not empty), the sorted batch gives each
    // value's count in the batch for free.
    s.counts.add_runs::<i64, i64>(
        rest.chunk_by(|a, b| a == b)
            .map(|run| (run[0].to_bits() as i64, run.len() as u64)),
    );
    s.quantiles.extend_sorted(rest);
    Ok(())
}

/// Widest span of whole numbers a batch is counted over densely (an array of counts).
const DENSE_SPAN: usize = 4096;

/// Count a batch of whole numbers within [`DENSE_SPAN`] of each other (small integer
/// codes, enums, ages, months: the columns whose values are counted exactly) in an array
/// indexed by value, then add each distinct value once: one increment per row instead of
/// a hash-map lookup. Only when the counts cannot spill in this batch (those counted plus
/// the batch's distinct values stay within [`super::EXACT_LIMIT`]), so that the counts
/// are those of one lookup per row, to the value. False, with nothing counted, otherwise.
fn count_small_span(
    counts: &mut ValueCounts<i64>,
    values: &[f64],
    extremes: Option<(f64, f64)>,
) -> bool {
    const WHOLE: f64 = 4_503_599_627_370_496.0; // 2^52: every whole number up to it is exact
    let Some(map_len) = counts.exact().map(|m| m.len()) else {
        return false;
    };
    if values.len() < 64 {
        return false;
    }
    let Some((lo, hi)) = extremes else {
        return false;
    };
    if !(lo.abs() < WHOLE && hi.abs() < WHOLE && hi - lo < DENSE_SPAN as f64) {
        return false;
    }
    let mut dense = vec![0u32; (hi - lo) as usize + 1];
    let mut whole = true;
    for &x in values {
        let d = x - lo;
        let i = d as usize;
        whole &= i as f64 == d;
        // In range whatever `d` is (`as` saturates; a fraction is caught above).
        if let Some(c) = dense.get_mut(i) {
            *c += 1;
        }
    }
    let distinct = dense.iter().filter(|c| **c > 0).count();
    if !whole || map_len + distinct > super::EXACT_LIMIT {
        return false;
    }
    counts.add_runs::<i64, i64>(
        (dense.iter().enumerate())
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| ((lo + i as f64).to_bits() as i64, u64::from(*c))),
    );
    true
}

fn bits_to_f64(counts: Vec<(i64, u64)>) -> Vec<(f64, u64)> {
    counts
        .into_iter()
        .map(|(bits, c)| (f64::from_bits(bits as u64), c))
        .collect()
}

impl NumericState {
    /// Append this part's finite values to `runs` as (value, weight) runs: its exact value
    /// counts while they are exact and the sketch lags behind them, else its kept values or
    /// its t-digest's centroids. False if the digest could not be read.
    pub(crate) fn quantile_runs(&self, runs: &mut Vec<(f64, u64)>) -> bool {
        if let Some(map) = self.counts.exact() {
            let total: u64 = map.values().sum();
            if self.quantiles.weight() != total {
                runs.extend(bits_to_f64(map.iter().map(|(k, c)| (*k, *c)).collect()));
                return true;
            }
        }
        self.quantiles.runs(runs)
    }

    /// Make the quantile sketch hold every finite value, as it must before a merge can
    /// leave the value counts inexact. A no-op once it does.
    fn seed_quantiles(&mut self) {
        if let Some(map) = self.counts.exact() {
            let total: u64 = map.values().sum();
            if self.quantiles.weight() != total {
                self.quantiles = Quantiles::from_counts(bits_to_f64(
                    map.iter().map(|(k, c)| (*k, *c)).collect(),
                ));
            }
        }
    }

    /// See [`ColumnState::check`]; `present` is the column's non-null count.
    fn check(&self, present: u64) -> std::result::Result<(), String> {
        let n = self.moments.n;
        let sum = [self.nan, self.pos_inf, self.neg_inf]
            .into_iter()
            .try_fold(n, u64::checked_add);
        if sum.is_none_or(|s| s > present) {
            return Err(format!(
                "finite ({n}), NaN ({}) and infinite ({} + {}) counts exceed the present count ({present})",
                self.nan, self.pos_inf, self.neg_inf
            ));
        }
        if self.zeros > n {
            return Err(format!(
                "zeros ({}) exceed the finite count ({n})",
                self.zeros
            ));
        }
        let (lo, hi) = match (self.min, self.max) {
            (None, None) if n == 0 => (f64::NAN, f64::NAN),
            (Some(lo), Some(hi)) if n > 0 && lo.is_finite() && hi.is_finite() && lo <= hi => {
                (lo, hi)
            }
            (lo, hi) => {
                return Err(format!(
                    "min ({}) and max ({}) do not fit {n} finite values",
                    opt_text(lo),
                    opt_text(hi)
                ));
            }
        };
        let Moments { mean, m2, .. } = self.moments;
        if n > 0 {
            // The mean of values in [lo, hi], up to rounding (generously: a long sum's
            // rounding grows with the count).
            let slack = 1e-6 * (hi - lo).max(lo.abs()).max(hi.abs());
            if !(mean >= lo - slack && mean <= hi + slack && m2 >= 0.0 && m2.is_finite()) {
                return Err(format!(
                    "mean ({mean}) or sum of squared deviations ({m2}) impossible for values between {lo} and {hi}"
                ));
            }
        }
        if self.summary_only {
            let empty = self.counts.exact().is_some_and(|m| m.is_empty());
            if !empty || self.quantiles.weight() != 0 {
                return Err("a summary-only state holds value counts or quantiles".into());
            }
            return Ok(());
        }
        check_counts(&self.counts, n, "finite")?;
        if let Some(map) = self.counts.exact()
            && let Some(bad) = map
                .keys()
                .map(|b| f64::from_bits(*b as u64))
                .find(|x| !(x.is_finite() && *x >= lo && *x <= hi))
        {
            return Err(format!(
                "a counted value ({bad}) lies outside min ({lo}) and max ({hi})"
            ));
        }
        // While value counts are exact the quantile sketch may lag behind them (it is
        // seeded when they spill); past them it holds every finite value.
        let weight = self.quantiles.weight();
        let fits = if self.counts.exact().is_some() {
            weight <= n
        } else {
            weight == n
        };
        if !fits {
            return Err(format!(
                "the quantile sketch holds {weight} values where the finite count is {n}"
            ));
        }
        if weight > 0
            && let Some((qlo, qhi)) = self.quantiles.extremes()
            && !(qlo >= lo && qhi <= hi)
        {
            return Err(format!(
                "the quantile sketch spans {qlo} to {qhi}, outside min ({lo}) and max ({hi})"
            ));
        }
        Ok(())
    }

    /// Everything but the NaN, infinity and zero counts, which the caller adds with
    /// overflow checked.
    fn merge(&mut self, b: &Self) {
        self.min = opt_min_f(self.min, b.min);
        self.max = opt_max_f(self.max, b.max);
        self.moments.merge(&b.moments);
        if self.summary_only || b.summary_only {
            // Counts of only some of the rows would be wrong: keep neither.
            self.summary_only = true;
            self.counts = ValueCounts::default();
            self.quantiles = Quantiles::default();
            return;
        }
        let len = |c: &ValueCounts<i64>| c.exact().map(|m| m.len());
        match (len(&self.counts), len(&b.counts)) {
            // Both exact and certain to stay so: the counts alone carry the quantiles.
            (Some(x), Some(y)) if x + y <= super::EXACT_LIMIT => {}
            _ => {
                self.seed_quantiles();
                let mut seeded;
                let mut other = &b.quantiles;
                if b.counts.exact().is_some() {
                    seeded = b.clone();
                    seeded.seed_quantiles();
                    other = &seeded.quantiles;
                }
                self.quantiles.merge(other);
            }
        }
        self.counts.merge(&b.counts);
    }
}

/// Most distinct values a batch of strings is counted over in a short list (a category,
/// a country, a status) before its values go to the counts: comparing a short string with
/// a few others costs less than hashing it.
const FEW_STRINGS: usize = 16;

/// A batch of strings with at most [`FEW_STRINGS`] distinct values, each with its count
/// in the batch, in order of first appearance; `None` when there are more. `views`, for a
/// string view array, are compared first: equal views are equal strings (a string of up to
/// 12 bytes is all in its view), so most rows need no string comparison.
fn few_strings<'a>(
    rows: impl Iterator<Item = usize>,
    value: impl Fn(usize) -> &'a str,
    views: Option<&[u128]>,
) -> Option<Vec<(&'a str, u64)>> {
    // (view or 0, value, count)
    let mut few: Vec<(u128, &str, u64)> = Vec::with_capacity(FEW_STRINGS);
    let mut last = 0;
    for i in rows {
        let view = views.map_or(0, |v| v[i]);
        if views.is_some() && !few.is_empty() {
            // Runs of one value (sorted or clustered data) skip the search.
            if few[last].0 == view {
                few[last].2 += 1;
                continue;
            }
            if let Some(k) = few.iter().position(|e| e.0 == view) {
                few[k].2 += 1;
                last = k;
                continue;
            }
        }
        let v = value(i);
        match few.iter().position(|e| e.1 == v) {
            Some(k) => {
                few[k].2 += 1;
                last = k;
            }
            None if few.len() < FEW_STRINGS => {
                last = few.len();
                few.push((view, v, 1));
            }
            None => return None,
        }
    }
    Some(few.into_iter().map(|(_, v, n)| (v, n)).collect())
}

/// A string's length in characters (bytes when it is ASCII, which is the same).
fn string_length(v: &str) -> u64 {
    (if v.is_ascii() {
        v.len()
    } else {
        v.chars().count()
    }) as u64
}

/// Fold a batch of strings in; `views` are the array's views when it is a string view
/// array (see [`few_strings`]).
fn update_strings<'a, A>(s: &mut StringState, arr: A, views: Option<&[u128]>)
where
    A: ArrayAccessor<Item = &'a str> + Array + Copy,
{
    let rows = move || (0..arr.len()).filter(move |i| arr.is_valid(*i));
    // While the counts are exact and cannot spill in this batch, a batch of few distinct
    // values is counted in a short list first: the same counts and lengths as one value
    // at a time, without hashing each.
    let room = (s.counts.exact()).is_some_and(|m| m.len() + FEW_STRINGS <= super::EXACT_LIMIT);
    if room && let Some(few) = few_strings(rows(), |i| arr.value(i), views) {
        for (v, n) in few {
            s.lengths.add_n(string_length(v), n);
            // With room (above) every value is taken; were one not, it is still counted.
            if !s.counts.add_exact_n(v, n) {
                (0..n).for_each(|_| {
                    s.counts.add_ref(v);
                });
            }
        }
        return;
    }
    let mut past_exact = Vec::new();
    for v in rows().map(|i| arr.value(i)) {
        s.lengths.add(string_length(v));
        if s.counts.exact().is_some() {
            s.counts.add_ref(v);
        } else {
            past_exact.push(v);
        }
    }
    if past_exact.is_empty() {
        return;
    }
    // Past exact counts the sketches take each value once with its count in the batch, in
    // order of first appearance (deterministic, unlike a hash map's order).
    let mut first_seen: HashMap<&str, usize> = HashMap::with_capacity(past_exact.len());
    let mut runs: Vec<(&str, u64)> = Vec::with_capacity(past_exact.len());
    for v in past_exact {
        match first_seen.entry(v) {
            Entry::Occupied(e) => runs[*e.get()].1 += 1,
            Entry::Vacant(e) => {
                e.insert(runs.len());
                runs.push((v, 1));
            }
        }
    }
    s.counts.add_runs::<str, &str>(runs.into_iter());
}

fn update_binary(l: &mut LengthState, array: &ArrayRef) -> Result<()> {
    let lens: Vec<usize> = match array.data_type() {
        DataType::Binary => array
            .as_binary::<i32>()
            .iter()
            .flatten()
            .map(<[u8]>::len)
            .collect(),
        DataType::LargeBinary => array
            .as_binary::<i64>()
            .iter()
            .flatten()
            .map(<[u8]>::len)
            .collect(),
        DataType::BinaryView => array
            .as_binary_view()
            .iter()
            .flatten()
            .map(<[u8]>::len)
            .collect(),
        DataType::FixedSizeBinary(n) => {
            vec![*n as usize; array.len() - array.null_count()]
        }
        other => return Err(unexpected(other)),
    };
    lens.into_iter().for_each(|n| l.add(n as u64));
    Ok(())
}

fn update_list(list: &mut ListState, array: &ArrayRef) -> Result<()> {
    let (lens, values): (Vec<usize>, ArrayRef) = match array.data_type() {
        DataType::List(_) => {
            let a = array.as_list::<i32>();
            let off = a.value_offsets();
            let lens = (0..a.len())
                .filter(|i| a.is_valid(*i))
                .map(|i| (off[i + 1] - off[i]) as usize)
                .collect();
            let (start, end) = (off[0] as usize, off[a.len()] as usize);
            (lens, a.values().slice(start, end - start))
        }
        DataType::LargeList(_) => {
            let a = array.as_list::<i64>();
            let off = a.value_offsets();
            let lens = (0..a.len())
                .filter(|i| a.is_valid(*i))
                .map(|i| (off[i + 1] - off[i]) as usize)
                .collect();
            let (start, end) = (off[0] as usize, off[a.len()] as usize);
            (lens, a.values().slice(start, end - start))
        }
        DataType::FixedSizeList(_, n) => {
            let a = array.as_fixed_size_list();
            let n = *n as usize;
            let lens = vec![n; a.len() - a.null_count()];
            (lens, a.values().slice(a.offset() * n, a.len() * n))
        }
        other => return Err(unexpected(other)),
    };
    lens.into_iter()
        .for_each(|n| list.values_per_row.add(n as u64));
    list.elements.update(&values)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::profile::QuantileView;

    /// Counted one lookup per value, as before the dense path: the reference.
    fn counted_one_by_one(values: &[f64]) -> String {
        let mut c = ValueCounts::<i64>::default();
        for x in values {
            c.add_ref(&(x.to_bits() as i64));
        }
        serde_json::to_string(&c).unwrap()
    }

    /// Whole numbers within a small span are counted in an array, and the counts are
    /// those of one lookup per value: small codes, negative values, a batch that brings
    /// the column past exact counts (which falls back to lookups, and spills at the same
    /// value), fractions and spans too wide (lookups).
    #[test]
    fn dense_counts_equal_one_lookup_per_value() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let codes: Vec<f64> = (0..5_000).map(|_| (next() % 12) as f64).collect();
        let signed: Vec<f64> = (0..5_000)
            .map(|_| (next() % 3_000) as f64 - 1_500.0)
            .collect();
        let halves: Vec<f64> = (0..5_000).map(|_| (next() % 40) as f64 / 2.0).collect();
        let wide: Vec<f64> = (0..5_000).map(|_| (next() % 100_000) as f64).collect();
        for (name, values, dense) in [
            ("codes", &codes, true),
            ("signed", &signed, false), // 3,000 distinct values: past exact counts
            ("halves", &halves, false),
            ("wide", &wide, false),
        ] {
            let mut c = ValueCounts::<i64>::default();
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(
                count_small_span(&mut c, values, Some((lo, hi))),
                dense,
                "{name}"
            );
            // Through the column update, in batches, as a profile counts.
            let mut s = NumericState::default();
            for part in values.chunks(1_000) {
                let arr: ArrayRef = Arc::new(Float64Array::from(part.to_vec()));
                update_numeric(&mut s, &arr, true).unwrap();
            }
            let by_update = serde_json::to_string(&s.counts).unwrap();
            if dense || name == "halves" {
                // Still exact: the same counts as one lookup per value, to the value.
                assert!(s.counts.exact().is_some(), "{name}");
                assert_eq!(by_update, counted_one_by_one(values), "{name}");
            } else {
                assert!(s.counts.exact().is_none(), "{name}");
            }
        }
        // 1,000 values counted, then a batch of 100 more: no room, so value by value, and
        // the spill comes at the same value as with lookups alone.
        let first: Vec<f64> = (0..1_000).map(f64::from).collect();
        let more: Vec<f64> = (1_000..1_100).map(f64::from).collect();
        let mut s = NumericState::default();
        for part in [&first, &more] {
            let arr: ArrayRef = Arc::new(Float64Array::from(part.to_vec()));
            update_numeric(&mut s, &arr, true).unwrap();
        }
        assert!(s.counts.exact().is_none());
        assert_eq!(s.moments.n, 1_100);
    }

    fn state_of(kind: DataType, values: &[f64]) -> ColumnState {
        let mut s = ColumnState::new("x", &kind);
        let arr: ArrayRef = Arc::new(Float64Array::from(values.to_vec()));
        s.update(&cast(&arr, &kind).unwrap()).unwrap();
        s
    }

    fn median(s: &ColumnState) -> f64 {
        let num = s.numeric.as_ref().unwrap();
        let view = match num.counts.exact() {
            Some(m) => QuantileView::weighted(
                m.iter()
                    .map(|(b, c)| (f64::from_bits(*b as u64), *c))
                    .collect(),
            ),
            None => num.quantiles.view(),
        };
        view.quantile(0.5).unwrap()
    }

    /// Past exact counts, values seen once in a batch skip the frequent-items sketch: a
    /// heavy hitter hidden among a million distinct values is still found, in strings and
    /// integers, and the reported error bound covers what was skipped.
    #[test]
    fn heavy_hitters_survive_batches_of_mostly_distinct_values() {
        let rows = 400_000usize;
        let batch = 8192;
        // Every 50th row is the heavy hitter; the rest are distinct.
        let value = |i: usize| if i % 50 == 7 { 0 } else { 1_000_000 + i as i64 };
        let mut strings = ColumnState::new("s", &DataType::Utf8);
        let mut ints = ColumnState::new("i", &DataType::Int64);
        for start in (0..rows).step_by(batch) {
            let end = (start + batch).min(rows);
            let v: Vec<i64> = (start..end).map(value).collect();
            let s: ArrayRef = Arc::new(arrow::array::StringArray::from(
                v.iter().map(|x| format!("u{x}")).collect::<Vec<_>>(),
            ));
            strings.update(&s).unwrap();
            ints.update(&(Arc::new(arrow::array::Int64Array::from(v)) as ArrayRef))
                .unwrap();
        }
        let want = rows.div_ceil(50) as u64;
        let batches = rows.div_ceil(batch) as u64;
        let distinct = (rows as u64 - want + 1) as f64;
        let string_top = strings.string.as_ref().unwrap().counts.summary(1);
        let int_top = ints.numeric.as_ref().unwrap().counts.summary(1);
        assert_eq!(string_top.top[0].0, "u0");
        assert_eq!(f64::from_bits(int_top.top[0].0 as u64), 0.0);
        for (count, max_error, estimate) in [
            (
                string_top.top[0].1,
                string_top.top_max_error,
                string_top.distinct,
            ),
            (int_top.top[0].1, int_top.top_max_error, int_top.distinct),
        ] {
            assert!(
                count.abs_diff(want) <= max_error,
                "{count} vs {want} +- {max_error}"
            );
            assert!(max_error >= batches, "the skipped batches are in the bound");
            assert!(
                (estimate as f64 - distinct).abs() / distinct < 0.05,
                "distinct {estimate}"
            );
        }
    }

    /// The quantile sketch stays empty while exact counts carry the quantiles, and takes
    /// over with every value when they spill, in an update or in a merge.
    #[test]
    fn quantiles_follow_counts_through_spills_and_merges() {
        // 6,000 values over 10 distinct: exact counts, no sketch work.
        let few: Vec<f64> = (0..6000).map(|i| f64::from(i % 10)).collect();
        let a = state_of(DataType::Float64, &few);
        assert_eq!(a.numeric.as_ref().unwrap().quantiles.weight(), 0);
        assert_eq!(median(&a), 4.5);

        // 5,000 distinct values: spills mid-batch; the sketch holds all of them.
        let many: Vec<f64> = (0..5000).map(|i| f64::from(i) * 0.5 + 100.0).collect();
        let b = state_of(DataType::Float64, &many);
        let nb = b.numeric.as_ref().unwrap();
        assert!(nb.counts.exact().is_none());
        assert_eq!(nb.quantiles.weight(), 5000);

        // Merged either way round, equal to the whole.
        let whole: Vec<f64> = few.iter().chain(&many).copied().collect();
        let w = state_of(DataType::Float64, &whole);
        let mut ab = a.clone();
        ab.merge(&b).unwrap();
        let mut ba = b.clone();
        ba.merge(&a).unwrap();
        for m in [&ab, &ba] {
            assert_eq!(m.numeric.as_ref().unwrap().quantiles.weight(), 11_000);
            let (got, want) = (median(m), median(&w));
            // t-digest, 11k values: median within 1% of rank.
            assert!((got - want).abs() <= 0.01 * 2500.0, "{got} vs {want}");
        }

        // Two exact sides whose union spills in the merge.
        let c = state_of(DataType::Float64, &many[..800]);
        let d = state_of(DataType::Float64, &many[800..1600]);
        let mut cd = c.clone();
        cd.merge(&d).unwrap();
        assert_eq!(cd.numeric.as_ref().unwrap().quantiles.weight(), 1600);
        assert_eq!(
            median(&cd),
            median(&state_of(DataType::Float64, &many[..1600]))
        );
    }

    #[test]
    fn top_values_kept_for_integers_only_past_exact_counts() {
        let vals: Vec<f64> = (0..20_000).map(|i| f64::from(i % 3000)).collect();
        let ints = state_of(DataType::Int64, &vals);
        let floats = state_of(DataType::Float64, &vals);
        let top = |s: &ColumnState| s.numeric.as_ref().unwrap().counts.summary(5);
        assert_eq!(top(&ints).top.len(), 5);
        assert!(top(&floats).top.is_empty());
        // Distinct counts carry on for both.
        assert!(top(&floats).distinct.abs_diff(3000) < 150);
        // A merge with a side that dropped top values drops them too.
        let mut m = ints.clone();
        let mut f_as_int = floats.clone();
        f_as_int.type_name = m.type_name.clone();
        m.merge(&f_as_int).unwrap();
        assert!(top(&m).top.is_empty());
    }

    /// Strings counted one value at a time, as before the short list: the reference for
    /// the exact counts and lengths.
    fn strings_one_by_one(
        batches: &[Vec<Option<&str>>],
    ) -> (std::collections::BTreeMap<String, u64>, LengthState) {
        let mut counts = std::collections::BTreeMap::new();
        let mut lengths = LengthState::default();
        for v in batches.iter().flatten().flatten() {
            *counts.entry(v.to_string()).or_insert(0) += 1;
            lengths.add(v.chars().count() as u64);
        }
        (counts, lengths)
    }

    fn string_column(batches: &[Vec<Option<&str>>]) -> ColumnState {
        let mut c = ColumnState::new("s", &DataType::Utf8);
        for b in batches {
            let a: ArrayRef = Arc::new(arrow::array::StringArray::from(b.clone()));
            c.update(&a).unwrap();
        }
        c
    }

    /// Each batch but its first row (a slice, as a reader's batches often are: the
    /// views and offsets start past the array's start), as strings or string views.
    fn string_column_sliced(batches: &[Vec<Option<&str>>], dt: &DataType) -> ColumnState {
        let mut c = ColumnState::new("s", dt);
        for b in batches {
            let a: ArrayRef = match dt {
                DataType::Utf8View => Arc::new(arrow::array::StringViewArray::from(b.clone())),
                _ => Arc::new(arrow::array::StringArray::from(b.clone())),
            };
            c.update(&a.slice(1, a.len() - 1)).unwrap();
        }
        c
    }

    /// Batches of 3, 16 and 17 distinct values (the short list, its limit, and one past
    /// it), with missing values, runs and characters beyond ASCII, as strings and as
    /// string views (some longer than a view holds, so that equal values have other
    /// views): the same exact counts and lengths as counting each value alone.
    #[test]
    fn strings_in_a_short_list_are_counted_as_one_by_one() {
        let words: Vec<String> = (0..17)
            .map(|i| format!("w{i}-é{}", "x".repeat((i % 4) * 5)))
            .collect();
        let batch = |distinct: usize, seed: usize| -> Vec<Option<&str>> {
            (0..500)
                .map(|r| {
                    let k = (r * 7 + seed) % 23;
                    (k != 0).then(|| words[(r / 3 + seed) % distinct].as_str())
                })
                .collect()
        };
        let batches = vec![
            batch(3, 1),
            batch(16, 2),
            batch(17, 3),
            batch(16, 4),
            batch(1, 5),
        ];
        let seen: Vec<Vec<Option<&str>>> = batches.iter().map(|b| b[1..].to_vec()).collect();
        let (want, lengths) = strings_one_by_one(&seen);
        for dt in [DataType::Utf8, DataType::Utf8View] {
            let c = string_column_sliced(&batches, &dt);
            let st = c.string.as_ref().unwrap();
            let got: std::collections::BTreeMap<String, u64> = (st.counts.exact().unwrap().iter())
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            assert_eq!(got, want, "{dt}");
            assert_eq!(st.lengths.min, lengths.min, "{dt}");
            assert_eq!(st.lengths.max, lengths.max, "{dt}");
            assert_eq!(st.lengths.total, lengths.total, "{dt}");
            let present: u64 = want.values().sum();
            assert_eq!(c.count - c.missing, present, "{dt}");
        }
    }

    /// The short list is used only where the exact counts cannot spill in the batch: a
    /// column of 1,008 values takes a batch of 16 new ones in the list (1,024, still
    /// exact), and switches to sketches at the next new value, as one value at a time does.
    #[test]
    fn strings_switch_to_sketches_at_the_same_value_either_way() {
        let names: Vec<String> = (0..1_025).map(|i| format!("v{i}")).collect();
        let first: Vec<Option<&str>> = names[..1_008].iter().map(|n| Some(n.as_str())).collect();
        let sixteen: Vec<Option<&str>> = (names[1_008..1_024].iter())
            .cycle()
            .take(64)
            .map(|n| Some(n.as_str()))
            .collect();
        let mut c = string_column(&[first, sixteen]);
        let exact = c.string.as_ref().unwrap().counts.exact().unwrap();
        assert_eq!(exact.len(), 1_024);
        assert_eq!(exact["v1010"], 4);
        let a: ArrayRef = Arc::new(arrow::array::StringArray::from(vec![names[1_024].as_str()]));
        c.update(&a).unwrap();
        assert!(c.string.as_ref().unwrap().counts.exact().is_none());
    }
}
