//! Turning table columns into a dense feature matrix for the built-in label model, and
//! hashing raw feature rows for the exact-duplicate check.
//!
//! Encoding (the same for every model, fitted on all rows: only the label is out of sample
//! in cross-validation, and these unsupervised transforms never see it):
//! - numeric (integers, floats, decimals, dates, timestamps): NaN/inf and nulls imputed by
//!   the column mean, plus a 0/1 "missing" indicator column when any value was missing;
//!   then standardised to mean 0, standard deviation 1. Constant columns are dropped.
//! - categorical (strings, booleans, dictionaries): one-hot over the values, null being a
//!   value of its own; at most [`MAX_CATEGORIES`] most frequent values get a column, the rest
//!   share one "other" column. A column whose values are nearly all distinct (an id or a
//!   free-text field: more than half the rows distinct and more than [`MAX_CATEGORIES`]
//!   values) carries no class signal and is skipped, with a note.
//! - other types (lists, structs, binary) are skipped with a note.
//!   One-hot columns are standardised like numeric ones, so distances weigh every encoded
//!   column alike.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use arrow::array::{ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};

use super::LabelError;

/// Categorical columns keep at most this many one-hot columns (most frequent values).
pub const MAX_CATEGORIES: usize = 50;

/// One input column's values, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum RawColumn {
    /// Numbers; `None` = null. NaN and infinities are kept (treated as missing when encoding).
    Numeric(Vec<Option<f64>>),
    /// Text or booleans; `None` = null.
    Categorical(Vec<Option<String>>),
}

impl RawColumn {
    pub fn len(&self) -> usize {
        match self {
            Self::Numeric(v) => v.len(),
            Self::Categorical(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of null (or non-finite) values.
    pub fn n_missing(&self) -> usize {
        match self {
            Self::Numeric(v) => v.iter().filter(|x| !x.is_some_and(f64::is_finite)).count(),
            Self::Categorical(v) => v.iter().filter(|x| x.is_none()).count(),
        }
    }
}

/// Decodes column `name` of `batches` (in order): numbers as [`RawColumn::Numeric`], text and
/// booleans as [`RawColumn::Categorical`]; `None` for types the label audit cannot use.
pub fn decode_column(batches: &[RecordBatch], name: &str) -> Result<Option<RawColumn>, String> {
    let Some(first) = batches.first() else {
        return Ok(Some(RawColumn::Numeric(Vec::new())));
    };
    let idx = first
        .schema()
        .index_of(name)
        .map_err(|_| format!("no column named {name:?}"))?;
    let dt = first.schema().field(idx).data_type().clone();
    let kind = match &dt {
        t if t.is_numeric() => Kind::Number,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _) => Kind::Temporal,
        DataType::Boolean
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Dictionary(_, _) => Kind::Text,
        DataType::Null => Kind::Text,
        _ => return Ok(None),
    };
    let arrays: Vec<&ArrayRef> = batches.iter().map(|b| b.column(idx)).collect();
    let err = |e: arrow::error::ArrowError| format!("column {name:?}: {e}");
    Ok(Some(match kind {
        Kind::Number | Kind::Temporal => {
            let mut out = Vec::new();
            for a in arrays {
                let a = if kind == Kind::Temporal {
                    cast(&cast(a, &DataType::Int64).map_err(err)?, &DataType::Float64)
                } else {
                    cast(a, &DataType::Float64)
                }
                .map_err(err)?;
                let a = a.as_primitive::<Float64Type>();
                out.extend(a.iter());
            }
            RawColumn::Numeric(out)
        }
        Kind::Text => {
            let mut out = Vec::new();
            for a in arrays {
                let a = cast(a, &DataType::Utf8).map_err(err)?;
                let a = a.as_string::<i32>();
                out.extend(a.iter().map(|v| v.map(str::to_owned)));
            }
            RawColumn::Categorical(out)
        }
    }))
}

/// Decodes column `name` as text for use as labels (numbers as their decimal text).
pub fn decode_labels(batches: &[RecordBatch], name: &str) -> Result<Vec<Option<String>>, String> {
    let mut out = Vec::new();
    for b in batches {
        let idx = b
            .schema()
            .index_of(name)
            .map_err(|_| format!("no column named {name:?}"))?;
        let a = cast(b.column(idx), &DataType::Utf8)
            .map_err(|e| format!("column {name:?} cannot be read as labels: {e}"))?;
        out.extend(a.as_string::<i32>().iter().map(|v| v.map(str::to_owned)));
    }
    Ok(out)
}

/// Sorts class names: numerically when every name is a number, else as text.
pub fn sort_classes(names: &mut [String]) {
    let numeric: Option<Vec<f64>> = names.iter().map(|s| s.trim().parse::<f64>().ok()).collect();
    if numeric.is_some_and(|v| v.iter().all(|x| x.is_finite())) {
        names.sort_by(|a, b| {
            let (x, y) = (
                a.trim().parse::<f64>().unwrap_or(0.0),
                b.trim().parse::<f64>().unwrap_or(0.0),
            );
            x.total_cmp(&y).then_with(|| a.cmp(b))
        });
    } else {
        names.sort();
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Temporal,
    Text,
}

/// A dense, row-major, standardised feature matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    pub n_rows: usize,
    pub n_features: usize,
    /// Row i is `data[i * n_features..(i + 1) * n_features]`.
    pub data: Vec<f64>,
    /// Name of every encoded column (`col`, `col=value`, `col (missing)`).
    pub names: Vec<String>,
    /// Input columns that were skipped, with the reason.
    pub skipped: Vec<(String, String)>,
    /// The one-hot columns of each categorical input column, as codes (see
    /// [`OneHotGroup`]).
    pub groups: Vec<OneHotGroup>,
    /// The features in no group (numbers and their missing indicators), ascending.
    pub dense: Vec<usize>,
}

/// A categorical input column's one-hot columns. Every row has exactly one category, so a
/// model computes the group's part of a distance or a linear score from the row's code
/// (one term) instead of from the group's standardised columns (one term each, none of
/// them zero): a column `c` holds `(1[code = c] - mean_c) / sd_c`.
#[derive(Debug, Clone, PartialEq)]
pub struct OneHotGroup {
    /// Each row's category: an index into `cols`.
    pub code: Vec<u32>,
    /// Per category: its feature index, and its 0/1 column's mean and standard deviation
    /// before standardising; `None` when the column was dropped as constant.
    pub cols: Vec<Option<(usize, f64, f64)>>,
}

impl FeatureMatrix {
    pub fn row(&self, i: usize) -> &[f64] {
        self.data
            .get(i * self.n_features..(i + 1) * self.n_features)
            .unwrap_or(&[])
    }
}

/// An encoded column before standardising.
enum Encoded {
    Values(Vec<f64>),
    /// The 0/1 column of category `code` of a categorical input column
    /// (`pending[group]`), with its count of ones; its values come from the rows' codes.
    OneHot {
        group: usize,
        code: u32,
        ones: usize,
    },
}

/// A kept feature: its standardised values, or a one-hot column's group, category code,
/// and mean and standard deviation (its values come from the codes).
enum Standardised {
    Values(Vec<f64>),
    OneHot {
        group: usize,
        code: u32,
        mean: f64,
        sd: f64,
    },
}

/// Encodes named columns as described in the module docs. Every column must have `n_rows`
/// values. Errors when nothing usable remains (all columns skipped, constant or null).
pub fn encode(columns: &[(String, RawColumn)], n_rows: usize) -> Result<FeatureMatrix, LabelError> {
    let mut encoded: Vec<(String, Encoded)> = Vec::new();
    let mut skipped = Vec::new();
    // Per categorical column: the rows' codes, and each category's index in `encoded`.
    let mut pending: Vec<(Vec<u32>, Vec<usize>)> = Vec::new();
    for (name, col) in columns {
        if col.len() != n_rows {
            return Err(LabelError::LengthMismatch {
                what: "feature column rows",
                expected: n_rows,
                got: col.len(),
            });
        }
        match col {
            RawColumn::Numeric(values) => {
                let finite: Vec<f64> = values
                    .iter()
                    .flatten()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                if finite.is_empty() {
                    skipped.push((name.clone(), "every value is missing".to_string()));
                    continue;
                }
                let mean = finite.iter().sum::<f64>() / finite.len() as f64;
                let filled: Vec<f64> = values
                    .iter()
                    .map(|v| v.filter(|x| x.is_finite()).unwrap_or(mean))
                    .collect();
                if finite.len() < n_rows {
                    let ind = values
                        .iter()
                        .map(|v| {
                            if v.is_some_and(f64::is_finite) {
                                0.0
                            } else {
                                1.0
                            }
                        })
                        .collect();
                    encoded.push((format!("{name} (missing)"), Encoded::Values(ind)));
                }
                encoded.push((name.clone(), Encoded::Values(filled)));
            }
            RawColumn::Categorical(values) => {
                let mut counts: HashMap<Option<&str>, usize> = HashMap::new();
                for v in values {
                    *counts.entry(v.as_deref()).or_default() += 1;
                }
                if counts.len() > MAX_CATEGORIES && counts.len() * 2 > n_rows {
                    skipped.push((
                        name.clone(),
                        format!(
                            "{} distinct values in {n_rows} rows: an identifier or free text, not a feature",
                            counts.len()
                        ),
                    ));
                    continue;
                }
                let mut by_freq: Vec<(Option<&str>, usize)> = counts.into_iter().collect();
                by_freq.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                let kept: Vec<Option<&str>> =
                    by_freq.iter().take(MAX_CATEGORIES).map(|x| x.0).collect();
                let other = by_freq.len() > MAX_CATEGORIES;
                let index: HashMap<Option<&str>, u32> = kept
                    .iter()
                    .enumerate()
                    .map(|(c, v)| (*v, c as u32))
                    .collect();
                let code: Vec<u32> = values
                    .iter()
                    .map(|v| {
                        index
                            .get(&v.as_deref())
                            .copied()
                            .unwrap_or(kept.len() as u32)
                    })
                    .collect();
                // The one-hot columns are not materialised: a column is known by its
                // category and the rows' codes (see `OneHotGroup`).
                let n_codes = kept.len() + usize::from(other);
                let mut count = vec![0usize; n_codes];
                for &c in &code {
                    count[c as usize] += 1;
                }
                let first = encoded.len();
                let group = pending.len();
                for (c, value) in kept.iter().enumerate() {
                    let label = value
                        .map_or_else(|| format!("{name} (missing)"), |s| format!("{name}={s}"));
                    encoded.push((
                        label,
                        Encoded::OneHot {
                            group,
                            code: c as u32,
                            ones: count[c],
                        },
                    ));
                }
                if other {
                    let (code, ones) = (kept.len() as u32, count[kept.len()]);
                    encoded.push((
                        format!("{name}=(other)"),
                        Encoded::OneHot { group, code, ones },
                    ));
                }
                pending.push((code, (first..encoded.len()).collect()));
            }
        }
    }
    // Standardise; drop constant columns. `kept[e]`: where encoded column e went, with its
    // mean and standard deviation.
    let mut names = Vec::new();
    // Each kept feature: its standardised values, or (one-hot) its group, code, mean, sd.
    let mut cols: Vec<Standardised> = Vec::new();
    let mut kept: Vec<Option<(usize, f64, f64)>> = Vec::with_capacity(encoded.len());
    let n = n_rows.max(1) as f64;
    for (name, col) in encoded {
        let (mean, var) = match &col {
            Encoded::Values(v) => {
                let mean = v.iter().sum::<f64>() / n;
                (
                    mean,
                    v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n,
                )
            }
            // A 0/1 column with `ones` ones: mean p, variance p (1 - p).
            &Encoded::OneHot { ones, .. } => {
                let p = ones as f64 / n;
                (p, p * (1.0 - p))
            }
        };
        let sd = var.sqrt();
        if sd.is_nan() || sd <= 1e-12 * (1.0 + mean.abs()) {
            kept.push(None);
            continue;
        }
        kept.push(Some((cols.len(), mean, sd)));
        names.push(name);
        cols.push(match col {
            Encoded::Values(mut v) => {
                for x in &mut v {
                    *x = (*x - mean) / sd;
                }
                Standardised::Values(v)
            }
            Encoded::OneHot { group, code, .. } => Standardised::OneHot {
                group,
                code,
                mean,
                sd,
            },
        });
    }
    if cols.is_empty() {
        return Err(LabelError::InvalidOption(
            "no usable feature columns: every feature column is missing, constant or skipped"
                .to_string(),
        ));
    }
    let d = cols.len();
    let mut data = vec![0.0; n_rows * d];
    for (j, col) in cols.iter().enumerate() {
        match col {
            Standardised::Values(values) => {
                for (i, &v) in values.iter().enumerate() {
                    data[i * d + j] = v;
                }
            }
            &Standardised::OneHot {
                group,
                code: c,
                mean,
                sd,
            } => {
                let (off, on) = (-mean / sd, (1.0 - mean) / sd);
                for (i, &code) in pending[group].0.iter().enumerate() {
                    data[i * d + j] = if code == c { on } else { off };
                }
            }
        }
    }
    let groups: Vec<OneHotGroup> = pending
        .into_iter()
        .map(|(code, members)| OneHotGroup {
            code,
            cols: members.iter().map(|&e| kept[e]).collect(),
        })
        .filter(|g| g.cols.iter().any(Option::is_some))
        .collect();
    let mut in_group = vec![false; cols.len()];
    for g in &groups {
        for &(f, _, _) in g.cols.iter().flatten() {
            in_group[f] = true;
        }
    }
    let dense = (0..cols.len()).filter(|&f| !in_group[f]).collect();
    Ok(FeatureMatrix {
        n_rows,
        n_features: d,
        data,
        names,
        skipped,
        groups,
        dense,
    })
}

/// One 64-bit hash per row of the raw feature values (null hashed as a value of its own,
/// -0.0 as 0.0, every NaN alike), for [`super::conflicting_labels`]. SipHash with fixed keys:
/// the same on every run and machine.
pub fn row_hashes(columns: &[&RawColumn], n_rows: usize) -> Vec<u64> {
    let mut hashers: Vec<std::hash::DefaultHasher> = (0..n_rows)
        .map(|_| std::hash::DefaultHasher::new())
        .collect();
    for col in columns {
        match col {
            RawColumn::Numeric(values) => {
                for (h, v) in hashers.iter_mut().zip(values) {
                    match v {
                        None => 0u8.hash(h),
                        Some(x) => {
                            1u8.hash(h);
                            let x = if *x == 0.0 { 0.0 } else { *x };
                            let bits = if x.is_nan() {
                                f64::NAN.to_bits()
                            } else {
                                x.to_bits()
                            };
                            bits.hash(h);
                        }
                    }
                }
            }
            RawColumn::Categorical(values) => {
                for (h, v) in hashers.iter_mut().zip(values) {
                    match v {
                        None => 0u8.hash(h),
                        Some(s) => {
                            1u8.hash(h);
                            s.hash(h);
                        }
                    }
                }
            }
        }
    }
    hashers.into_iter().map(|h| h.finish()).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn encodes_numeric_with_missing_and_one_hot() {
        let cols = vec![
            (
                "x".to_string(),
                RawColumn::Numeric(vec![Some(1.0), None, Some(3.0), Some(f64::NAN)]),
            ),
            (
                "c".to_string(),
                RawColumn::Categorical(vec![
                    Some("a".into()),
                    Some("b".into()),
                    None,
                    Some("a".into()),
                ]),
            ),
            ("k".to_string(), RawColumn::Numeric(vec![Some(5.0); 4])),
        ];
        let m = encode(&cols, 4).unwrap();
        assert_eq!(
            m.names,
            ["x (missing)", "x", "c=a", "c (missing)", "c=b"],
            "constant k dropped"
        );
        // x imputed with the mean 2.0 -> standardised column has mean 0.
        let x: Vec<f64> = (0..4).map(|i| m.row(i)[1]).collect();
        assert!(x.iter().sum::<f64>().abs() < 1e-12);
        assert_eq!(x[1], x[3]);
        assert!(x[0] < x[1] && x[1] < x[2]);
    }

    #[test]
    fn all_missing_features_are_an_error_and_ids_are_skipped() {
        let cols = vec![("x".to_string(), RawColumn::Numeric(vec![None, None]))];
        assert!(encode(&cols, 2).is_err());
        let ids: Vec<Option<String>> = (0..200).map(|i| Some(format!("id{i}"))).collect();
        let cols = vec![
            ("id".to_string(), RawColumn::Categorical(ids)),
            (
                "x".to_string(),
                RawColumn::Numeric((0..200).map(|i| Some(f64::from(i))).collect()),
            ),
        ];
        let m = encode(&cols, 200).unwrap();
        assert_eq!(m.names, ["x"]);
        assert_eq!(m.skipped.len(), 1);
    }

    #[test]
    fn row_hashes_group_identical_rows() {
        let a = RawColumn::Numeric(vec![Some(1.0), Some(1.0), Some(-0.0), Some(0.0), None]);
        let b = RawColumn::Categorical(vec![Some("x".into()), Some("x".into()), None, None, None]);
        let h = row_hashes(&[&a, &b], 5);
        assert_eq!(h[0], h[1]);
        assert_eq!(h[2], h[3]);
        assert_ne!(h[0], h[2]);
        assert_ne!(h[3], h[4]);
    }
}
