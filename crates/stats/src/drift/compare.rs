//! Drift of one column between a reference and a current dataset, from whatever each side
//! knows about it: every value (exact), or a stored profile's sketches (approximate).
//!
//! A side is a [`ColumnSample`], built from a profile column
//! ([`ColumnSample::from_profile`]) and, when the data was read and small enough, given
//! every finite value ([`ColumnSample::with_values`]). [`compare_column`] then picks the
//! method (Evidently's rules, [`super::auto_method`]) and computes it:
//!
//! - **Exact** when both sides know their whole distribution: all values (read from the
//!   data, or the profile's exact store of up to 2048 values), or exact value counts
//!   (<= 1024 distinct values). Then the scipy-mirroring functions of this module run on
//!   the values and the result equals scipy's.
//! - **From sketches** otherwise (a t-digest for quantiles, a frequent-items sketch for
//!   categories): CDFs are evaluated on a grid of 1001 quantiles of each side, histograms
//!   from CDF differences. The result says `exact: false` and carries the sketch's error:
//!   for numeric columns the sum of both sides' rank errors plus the grid step (which
//!   bounds the error of the KS statistic), for categories the sum of both sides'
//!   largest count error as a fraction of their size (which bounds the error of each
//!   category proportion, hence of L-infinity).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{
    Contingency, DriftError, HistogramBucket, Method, TfdvHistogram, VALUE_BIN_MAX_DISTINCT,
    WASSERSTEIN_STD_FLOOR, auto_method, bin_numeric, distinct_count, drifted, hellinger,
    jensen_shannon_distance, kl_divergence, kolmogorov_sf, ks_2samp, psi, sturges_edges_range,
    tfdv_jensen_shannon, wasserstein_distance, wasserstein_scale,
};
use crate::profile::{ColumnProfile, EXACT_LIMIT, Kind, QuantileView, Quantiles};

/// Value counts of one side are expanded to a list of values (so that the scipy-equal
/// functions can run on them) up to this many values: 16 MB of f64 per side.
pub const EXPAND_MAX_VALUES: u64 = 2_000_000;

/// Rank error assumed for the profile's t-digest (compression 200). Measured well below
/// this on the fixtures (`tests/drift_cli.rs` checks sketch against exact results).
pub const TDIGEST_RANK_ERROR: f64 = 0.005;

/// Quantile points per side at which sketch CDFs are compared.
const GRID: usize = 1000;

/// Unseen categories named in a result (the count covers all of them).
pub const MAX_NAMED: usize = 20;

/// A shared, read-only quantile view (cheap to clone).
#[derive(Clone)]
pub struct View(pub std::sync::Arc<QuantileView>);

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QuantileView")
    }
}

impl View {
    pub fn new(v: QuantileView) -> Self {
        Self(std::sync::Arc::new(v))
    }
}

/// What one side knows about a numeric column's finite values.
#[derive(Debug, Clone)]
pub enum NumericData {
    /// Every finite value, ascending.
    Values(Vec<f64>),
    /// Exact counts of too many values to expand, or a t-digest.
    Sketch {
        view: View,
        /// (value, count) ascending when the counts are exact.
        weighted: Option<Vec<(f64, u64)>>,
        rank_error: f64,
    },
}

/// One side of a numeric column.
#[derive(Debug, Clone)]
pub struct NumericSide {
    /// Finite values.
    pub n: u64,
    pub min: f64,
    pub max: f64,
    /// Population standard deviation (ddof 0), exact in both modes.
    pub std: f64,
    pub data: NumericData,
    /// NaN and infinite values, not in `n`: only TFDV's Jensen-Shannon divergence counts
    /// them (as buckets of their own).
    pub nan: u64,
    pub infinite: u64,
}

impl NumericSide {
    /// From values in any order; NaN and infinities are dropped (Evidently drops NaN; the
    /// distances need finite values).
    pub fn from_values(values: Vec<f64>) -> Option<Self> {
        let all = values.len();
        let nan = values.iter().filter(|x| x.is_nan()).count() as u64;
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        let infinite = (all - v.len()) as u64 - nan;
        if v.is_empty() {
            return None;
        }
        v.sort_unstable_by(f64::total_cmp);
        let n = v.len() as u64;
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        Some(Self {
            n,
            min: v[0],
            max: v[v.len() - 1],
            std: var.sqrt(),
            data: NumericData::Values(v),
            nan,
            infinite,
        })
    }

    pub fn is_exact(&self) -> bool {
        match &self.data {
            NumericData::Values(_) => true,
            NumericData::Sketch { rank_error, .. } => *rank_error == 0.0,
        }
    }

    fn rank_error(&self) -> f64 {
        match &self.data {
            NumericData::Values(_) => 0.0,
            NumericData::Sketch { rank_error, .. } => *rank_error,
        }
    }

    /// Fraction of values <= x.
    fn cdf(&self, x: f64) -> f64 {
        let le = match &self.data {
            NumericData::Values(v) => v.partition_point(|y| *y <= x) as f64,
            NumericData::Sketch { view, .. } => {
                if x < self.min {
                    0.0
                } else if x >= self.max {
                    self.n as f64
                } else {
                    view.0.count_le(x, self.n)
                }
            }
        };
        le / self.n as f64
    }

    fn quantile(&self, q: f64) -> f64 {
        match &self.data {
            NumericData::Values(v) => {
                let i = ((q * (v.len() - 1) as f64).round() as usize).min(v.len() - 1);
                v[i]
            }
            NumericData::Sketch { view, .. } => view
                .0
                .quantile(q)
                .unwrap_or(self.min)
                .clamp(self.min, self.max),
        }
    }

    /// Distinct values, when known.
    pub fn distinct(&self) -> Option<u64> {
        match &self.data {
            NumericData::Values(v) => Some(distinct_count(v) as u64),
            NumericData::Sketch {
                weighted: Some(w), ..
            } => Some(w.len() as u64),
            NumericData::Sketch { .. } => None,
        }
    }
}

/// One side of a column seen as categories (strings, booleans, or numbers with exact
/// value counts).
#[derive(Debug, Clone, Default)]
pub struct Categories {
    pub counts: BTreeMap<String, u64>,
    /// Values not in `counts`: the frequent-items sketch keeps only the frequent ones.
    pub other: u64,
    /// Upper bound of the error of any count (0 when exact).
    pub max_error: u64,
}

impl Categories {
    pub fn is_exact(&self) -> bool {
        self.other == 0 && self.max_error == 0
    }

    fn total(&self) -> u64 {
        self.counts.values().sum::<u64>() + self.other
    }
}

/// Everything one side knows about one column.
#[derive(Debug, Clone)]
pub struct ColumnSample {
    pub name: String,
    pub type_name: String,
    pub kind: Kind,
    /// Rows, missing or not.
    pub count: u64,
    pub missing: u64,
    /// Distinct non-null values (estimated when `distinct_exact` is false).
    pub distinct: u64,
    pub distinct_exact: bool,
    pub numeric: Option<NumericSide>,
    pub categories: Option<Categories>,
}

/// Label for the category of a numeric value: integers without a fraction, others as
/// Rust prints them (shortest round-trip form).
fn number_label(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Name of the bucket holding what the frequent-items sketch did not keep.
pub const OTHER_BUCKET: &str = "(other values)";

impl ColumnSample {
    /// What a profile column knows: exact values or counts where it kept them, sketches
    /// beyond.
    pub fn from_profile(c: &ColumnProfile) -> Self {
        let state = &c.state;
        let mut s = Self {
            name: c.name.clone(),
            type_name: c.type_name.clone(),
            kind: c.kind,
            count: c.count,
            missing: c.missing,
            distinct: c.distinct.unwrap_or(0),
            distinct_exact: c.distinct_exact.unwrap_or(false),
            numeric: None,
            categories: None,
        };
        if let Some(num) = &state.numeric {
            // NaN and infinities are not compared; the profile counts them in distinct.
            s.distinct = num.counts.summary(0).clamped(num.moments.n).distinct;
            let weighted: Option<Vec<(f64, u64)>> = num.counts.exact().map(|m| {
                let mut w: Vec<(f64, u64)> = m
                    .iter()
                    .map(|(bits, c)| (f64::from_bits(*bits as u64), *c))
                    .collect();
                w.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                w
            });
            let n = num.moments.n;
            if let (true, Some(min), Some(max)) = (n > 0, num.min, num.max) {
                let std = num.moments.std_dev().unwrap_or(0.0);
                let data = match (&num.quantiles, &weighted) {
                    (Quantiles::Exact(v), _) if v.len() as u64 == n => {
                        let mut v = v.clone();
                        v.sort_unstable_by(f64::total_cmp);
                        NumericData::Values(v)
                    }
                    (_, Some(w)) if n <= EXPAND_MAX_VALUES => NumericData::Values(
                        w.iter()
                            .flat_map(|(x, c)| std::iter::repeat_n(*x, *c as usize))
                            .collect(),
                    ),
                    (_, Some(w)) => NumericData::Sketch {
                        view: View::new(QuantileView::weighted(w.clone())),
                        weighted: Some(w.clone()),
                        rank_error: 0.0,
                    },
                    (q, None) => NumericData::Sketch {
                        view: View::new(q.view()),
                        weighted: None,
                        rank_error: if q.is_exact() {
                            0.0
                        } else {
                            TDIGEST_RANK_ERROR
                        },
                    },
                };
                s.numeric = Some(NumericSide {
                    n,
                    min,
                    max,
                    std,
                    data,
                    nan: num.nan,
                    infinite: num.pos_inf + num.neg_inf,
                });
            }
            if let Some(w) = &weighted {
                s.categories = Some(Categories {
                    counts: w.iter().map(|(x, c)| (number_label(*x), *c)).collect(),
                    other: 0,
                    max_error: 0,
                });
            }
        } else if let Some(st) = &state.string {
            s.categories = Some(match st.counts.exact() {
                Some(m) => Categories {
                    counts: m.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                    other: 0,
                    max_error: 0,
                },
                None => {
                    let sum = st.counts.summary(EXACT_LIMIT).clamped(c.present);
                    let counts: BTreeMap<String, u64> = sum.top.into_iter().collect();
                    let kept: u64 = counts.values().sum();
                    Categories {
                        other: c.present.saturating_sub(kept),
                        counts,
                        max_error: sum.top_max_error,
                    }
                }
            });
        } else if let Some(b) = &state.boolean {
            let mut counts = BTreeMap::new();
            for (k, v) in [("false", b.false_count), ("true", b.true_count)] {
                if v > 0 {
                    counts.insert(k.to_string(), v);
                }
            }
            s.categories = Some(Categories {
                counts,
                other: 0,
                max_error: 0,
            });
        }
        s
    }

    /// Replace what the profile knew of a numeric column with every value read from the
    /// data (nulls already removed; NaN and infinities are dropped here).
    #[must_use]
    pub fn with_values(mut self, values: Vec<f64>) -> Self {
        if let Some(old) = &self.numeric {
            let (nan, infinite) = (old.nan, old.infinite);
            self.numeric = NumericSide::from_values(values).map(|mut n| {
                // The profile counted them exactly, whatever the reader kept.
                n.nan = nan;
                n.infinite = infinite;
                n
            });
        }
        self
    }

    pub fn is_numeric(&self) -> bool {
        self.kind.is_numeric()
    }
}

/// Numeric values outside the reference range, counted in the current data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OutOfRange {
    /// Current values below the reference minimum.
    pub below: u64,
    /// Current values above the reference maximum.
    pub above: u64,
    pub reference_min: f64,
    pub reference_max: f64,
}

/// The drift of one column under one method.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnDrift {
    pub column: String,
    #[serde(rename = "type")]
    pub type_name: String,
    /// Evidently's name of the method (`ks`, `chisquare`, `z`, `jensenshannon`, ...).
    #[serde(serialize_with = "method_name")]
    pub method: Method,
    /// The test statistic or distance; `null` when infinite (chi-square with a category
    /// unseen in the reference).
    pub statistic: Option<f64>,
    /// p-value for tests (`ks`, `chisquare`, `z`), `null` for distances.
    pub p_value: Option<f64>,
    pub threshold: f64,
    pub drifted: bool,
    /// Whether both sides' whole distributions were used (else sketches).
    pub exact: bool,
    /// For sketch results: the bound on the error of the CDF values (numeric: both
    /// sides' rank errors plus the grid step) or of the category proportions.
    pub sketch_error: Option<f64>,
    /// Non-null values compared on each side.
    pub reference_values: u64,
    pub current_values: u64,
    pub reference_missing: u64,
    pub current_missing: u64,
    /// Categories seen in the current data but not in the reference (at most 20 named,
    /// most frequent first), and how many current rows hold them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unseen_categories: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unseen_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_range: Option<OutOfRange>,
    /// Where a KS or L-infinity statistic peaks (a value or a category).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak: Option<serde_json::Value>,
    /// Cramér's V of the reference/current table (categorical tests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cramers_v: Option<f64>,
    /// `wasserstein` only: the raw distance (`scipy.stats.wasserstein_distance`, in the
    /// column's units), which `statistic` divides by the reference's standard deviation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasserstein_distance: Option<f64>,
}

fn method_name<S: serde::Serializer>(m: &Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

/// Why a column was not compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub column: String,
    pub reason: String,
}

/// Why a drift comparison compared no column at all, when it did not: every column
/// skipped (its reason given, up to three), or no column to compare. A check that
/// compared nothing must not pass silently (issue 12); `compared` is the number of
/// columns with a result.
pub fn nothing_compared(compared: usize, skipped: &[Skipped]) -> Option<String> {
    if compared > 0 {
        return None;
    }
    if skipped.is_empty() {
        return Some("no column to compare: nothing was compared".to_string());
    }
    let shown: Vec<String> = skipped
        .iter()
        .take(3)
        .map(|s| format!("`{}`: {}", s.column, s.reason))
        .collect();
    let more = skipped.len().saturating_sub(shown.len());
    let columns: std::collections::BTreeSet<&str> =
        skipped.iter().map(|s| s.column.as_str()).collect();
    Some(format!(
        "no column was compared: {} skipped ({}{}); nothing was compared",
        if columns.len() == 1 {
            "the only column was".to_string()
        } else {
            format!("all {} columns were", columns.len())
        },
        shown.join("; "),
        if more > 0 {
            format!("; {more} more")
        } else {
            String::new()
        }
    ))
}

/// How to compare: the method (None = Evidently's auto choice), a threshold overriding
/// the method's default, and the reference row count the auto rules look at.
#[derive(Debug, Clone, Copy)]
pub struct CompareOptions {
    pub method: Option<Method>,
    pub threshold: Option<f64>,
    pub reference_rows: u64,
}

fn err(column: &str, e: impl std::fmt::Display) -> Skipped {
    Skipped {
        column: column.to_string(),
        reason: e.to_string(),
    }
}

/// Distinct values over both sides together, as the auto rules want; exact where both
/// sides' values are known, else the larger side's estimate (a lower bound, and far above
/// the rules' cut-offs of 2 and 5 whenever the sketches are in use).
fn distinct_both(r: &ColumnSample, c: &ColumnSample) -> u64 {
    if let (Some(a), Some(b)) = (&r.categories, &c.categories)
        && a.is_exact()
        && b.is_exact()
    {
        return a
            .counts
            .keys()
            .chain(b.counts.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .len() as u64;
    }
    if let (
        Some(NumericSide {
            data: NumericData::Values(a),
            ..
        }),
        Some(NumericSide {
            data: NumericData::Values(b),
            ..
        }),
    ) = (&r.numeric, &c.numeric)
    {
        let mut all: Vec<f64> = Vec::with_capacity(a.len() + b.len());
        all.extend_from_slice(a);
        all.extend_from_slice(b);
        return distinct_count(&all) as u64;
    }
    r.distinct.max(c.distinct)
}

/// The method [`compare_column`] would use for this pair under `opts`.
pub fn choose_method(r: &ColumnSample, c: &ColumnSample, opts: &CompareOptions) -> Method {
    opts.method
        .unwrap_or_else(|| auto_method(opts.reference_rows, distinct_both(r, c), r.is_numeric()))
}

/// Compare one column. Errors are reasons to skip it (wrong kind for the method, no
/// values on one side), reported next to the results.
pub fn compare_column(
    r: &ColumnSample,
    c: &ColumnSample,
    opts: &CompareOptions,
) -> Result<ColumnDrift, Skipped> {
    let name = r.name.as_str();
    if r.kind.is_numeric() != c.kind.is_numeric() {
        return Err(err(
            name,
            format!(
                "type {} in the reference but {} in the current data",
                r.type_name, c.type_name
            ),
        ));
    }
    let method = choose_method(r, c, opts);
    let threshold = opts.threshold.unwrap_or_else(|| method.default_threshold());
    let mut out = ColumnDrift {
        column: name.to_string(),
        type_name: r.type_name.clone(),
        method,
        statistic: None,
        p_value: None,
        threshold,
        drifted: false,
        exact: true,
        sketch_error: None,
        reference_values: r.count - r.missing,
        current_values: c.count - c.missing,
        reference_missing: r.missing,
        current_missing: c.missing,
        unseen_categories: Vec::new(),
        unseen_count: None,
        out_of_range: None,
        peak: None,
        cramers_v: None,
        wasserstein_distance: None,
    };
    let categorical_method = matches!(
        method,
        Method::ChiSquare | Method::Chi2Contingency | Method::ZTest | Method::Linf | Method::Tvd
    );
    let use_numeric = r.is_numeric() && !categorical_method;
    if use_numeric {
        let (Some(a), Some(b)) = (&r.numeric, &c.numeric) else {
            return Err(err(
                name,
                "no finite values on one side: nothing to compare",
            ));
        };
        numeric(a, b, r.distinct, method, &mut out).map_err(|e| err(name, e))?;
        out.out_of_range = Some(out_of_range(a, b));
    } else {
        if matches!(method, Method::Ks | Method::Wasserstein) {
            return Err(err(
                name,
                format!(
                    "method {method} needs a numeric column, this one is {}",
                    r.type_name
                ),
            ));
        }
        let (Some(a), Some(b)) = (&r.categories, &c.categories) else {
            return Err(err(
                name,
                format!(
                    "method {method} compares categories, and this numeric column has more than {EXACT_LIMIT} distinct values"
                ),
            ));
        };
        categorical(a, b, method, &mut out).map_err(|e| err(name, e))?;
    }
    let decide = match method.kind() {
        super::MethodKind::PValue => out.p_value,
        super::MethodKind::Distance => out.statistic,
    };
    out.drifted = match decide {
        Some(v) => drifted(v, method, threshold),
        // An infinite chi-square statistic: p = 0, drifted.
        None => matches!(method, Method::ChiSquare | Method::Chi2Contingency),
    };
    Ok(out)
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn out_of_range(r: &NumericSide, c: &NumericSide) -> OutOfRange {
    let below = (c.cdf(r.min.next_down()) * c.n as f64).round() as u64;
    let above = c.n - ((c.cdf(r.max) * c.n as f64).round() as u64).min(c.n);
    OutOfRange {
        below,
        above,
        reference_min: r.min,
        reference_max: r.max,
    }
}

fn numeric(
    r: &NumericSide,
    c: &NumericSide,
    ref_distinct: u64,
    method: Method,
    out: &mut ColumnDrift,
) -> Result<(), DriftError> {
    if method == Method::JsDivergence {
        // TFDV compares the profiles' ten-bucket histograms; exact when both are.
        if !(r.is_exact() && c.is_exact()) {
            out.exact = false;
            out.sketch_error = Some(r.rank_error() + c.rank_error());
        }
        out.statistic = Some(tfdv_jensen_shannon(&tfdv_histogram(r), &tfdv_histogram(c))?);
        return Ok(());
    }
    if let (NumericData::Values(a), NumericData::Values(b)) = (&r.data, &c.data) {
        match method {
            Method::Ks => {
                let k = ks_2samp(a, b)?;
                out.statistic = Some(k.statistic);
                out.p_value = Some(k.p_value);
                out.peak = finite(k.location).map(serde_json::Value::from);
            }
            Method::Wasserstein => {
                let w = wasserstein_distance(a, b)?;
                out.wasserstein_distance = Some(w);
                out.statistic = Some(w / wasserstein_scale(a));
            }
            _ => {
                let binned = bin_numeric(a, b)?;
                out.statistic = Some(distance(
                    method,
                    &binned.reference_f64(),
                    &binned.current_f64(),
                )?);
            }
        }
        return Ok(());
    }
    // From sketches: CDFs on a grid of quantiles of both sides.
    out.exact = false;
    let grid_step = 1.0 / GRID as f64;
    out.sketch_error = Some(r.rank_error() + c.rank_error() + 2.0 * grid_step);
    let mut points: Vec<f64> = Vec::with_capacity(2 * GRID + 6);
    for side in [r, c] {
        points.extend((0..=GRID).map(|i| side.quantile(i as f64 * grid_step)));
        points.extend([side.min, side.max]);
        if let NumericData::Sketch {
            weighted: Some(w), ..
        } = &side.data
        {
            points.extend(w.iter().map(|(x, _)| *x));
        }
    }
    points.retain(|x| x.is_finite());
    points.sort_unstable_by(f64::total_cmp);
    points.dedup();
    match method {
        Method::Ks => {
            let mut best = (0.0, f64::NAN);
            for &x in &points {
                let d = (r.cdf(x) - c.cdf(x)).abs();
                if d > best.0 {
                    best = (d, x);
                }
            }
            let (m, n) = (r.n.max(c.n) as f64, r.n.min(c.n) as f64);
            let en = (m * n / (m + n)).round_ties_even();
            out.statistic = Some(best.0);
            out.p_value = Some(kolmogorov_sf(en as u64, best.0).clamp(0.0, 1.0));
            out.peak = finite(best.1).map(serde_json::Value::from);
        }
        Method::Wasserstein => {
            // Area between the CDFs; they are steps (or nearly linear) between points.
            let mut area = 0.0;
            for w in points.windows(2) {
                let (x0, x1) = (w[0], w[1]);
                let mid = x0 + (x1 - x0) / 2.0;
                let d0 = (r.cdf(x0) - c.cdf(x0)).abs();
                let dm = (r.cdf(mid) - c.cdf(mid)).abs();
                area += (x1 - x0) * (d0 + dm) / 2.0;
            }
            out.wasserstein_distance = Some(area);
            out.statistic = Some(area / r.std.max(WASSERSTEIN_STD_FLOOR));
        }
        _ => {
            let (a, b) = sketch_bins(r, c, ref_distinct);
            out.statistic = Some(distance(method, &a, &b)?);
        }
    }
    Ok(())
}

/// Buckets of TFDV's STANDARD histogram, as the profile keeps it.
pub const TFDV_BUCKETS: usize = 10;

/// TFDV's STANDARD histogram of one side: [`TFDV_BUCKETS`] equal-width buckets over its own
/// finite `[min, max]` (numpy's rule: half-open but the last closed; one point bucket when
/// min == max), counted from every value or from the sketch's CDF, plus its infinite
/// values as one bucket with infinite bounds and its NaN count.
pub fn tfdv_histogram(s: &NumericSide) -> TfdvHistogram {
    let mut buckets = Vec::with_capacity(TFDV_BUCKETS + 1);
    if s.min == s.max {
        buckets.push(HistogramBucket {
            low: s.min,
            high: s.max,
            count: s.n as f64,
        });
    } else {
        let width = (s.max - s.min) / TFDV_BUCKETS as f64;
        let edge = |i: usize| {
            if i == TFDV_BUCKETS {
                s.max
            } else {
                s.min + i as f64 * width
            }
        };
        let counts: Vec<f64> = match &s.data {
            NumericData::Values(v) => {
                let mut c = vec![0.0; TFDV_BUCKETS];
                for x in v {
                    let i = (((x - s.min) / width) as usize).min(TFDV_BUCKETS - 1);
                    c[i] += 1.0;
                }
                c
            }
            NumericData::Sketch { .. } => {
                let n = s.n as f64;
                let mut prev = 0.0;
                (0..TFDV_BUCKETS)
                    .map(|i| {
                        let upto = if i == TFDV_BUCKETS - 1 {
                            n
                        } else {
                            (s.cdf(edge(i + 1).next_down()) * n).max(prev)
                        };
                        let c = upto - prev;
                        prev = upto;
                        c
                    })
                    .collect()
            }
        };
        buckets.extend(
            counts
                .into_iter()
                .enumerate()
                .map(|(i, count)| HistogramBucket {
                    low: edge(i),
                    high: edge(i + 1),
                    count,
                }),
        );
    }
    if s.infinite > 0 {
        buckets.push(HistogramBucket {
            low: f64::NEG_INFINITY,
            high: f64::INFINITY,
            count: s.infinite as f64,
        });
    }
    TfdvHistogram {
        buckets,
        num_nan: s.nan as f64,
    }
}

/// Histogram counts of both sides as [`bin_numeric`] would make them, from sketches:
/// one bin per value when the reference has at most 20 distinct values and both sides'
/// value counts are known, else Sturges edges over both ranges with counts from the CDFs.
fn sketch_bins(r: &NumericSide, c: &NumericSide, ref_distinct: u64) -> (Vec<f64>, Vec<f64>) {
    if ref_distinct as usize <= VALUE_BIN_MAX_DISTINCT
        && let (
            NumericData::Sketch {
                weighted: Some(wa), ..
            },
            NumericData::Sketch {
                weighted: Some(wb), ..
            },
        ) = (&r.data, &c.data)
    {
        let mut keys: Vec<f64> = wa.iter().chain(wb).map(|(x, _)| *x).collect();
        keys.sort_unstable_by(f64::total_cmp);
        keys.dedup();
        let count = |w: &[(f64, u64)]| {
            let mut v = vec![0.0; keys.len()];
            for (x, n) in w {
                let i = keys.partition_point(|k| k < x);
                if let Some(slot) = v.get_mut(i) {
                    *slot += *n as f64;
                }
            }
            v
        };
        return (count(wa), count(wb));
    }
    let lo = r.min.min(c.min);
    let hi = r.max.max(c.max);
    let edges = sturges_edges_range(lo, hi, r.n + c.n);
    let hist = |s: &NumericSide| {
        let n = s.n as f64;
        let mut prev = 0.0;
        let last = edges.len() - 2;
        (0..=last)
            .map(|i| {
                let upto = if i == last {
                    n
                } else {
                    s.cdf(edges[i + 1].next_down()) * n
                };
                let v = (upto - prev).max(0.0);
                prev = upto.max(prev);
                v
            })
            .collect::<Vec<f64>>()
    };
    (hist(r), hist(c))
}

fn distance(method: Method, a: &[f64], b: &[f64]) -> Result<f64, DriftError> {
    match method {
        Method::Psi => psi(a, b),
        Method::KlDiv => kl_divergence(a, b),
        Method::Hellinger => hellinger(a, b),
        Method::Linf => super::l_infinity(a, b).map(|l| l.distance),
        Method::Tvd => super::total_variation(a, b),
        // Jensen-Shannon is the default for binned and categorical data.
        _ => jensen_shannon_distance(a, b, None),
    }
}

fn categorical(
    r: &Categories,
    c: &Categories,
    method: Method,
    out: &mut ColumnDrift,
) -> Result<(), DriftError> {
    if !(r.is_exact() && c.is_exact()) {
        out.exact = false;
        let frac = |x: &Categories| {
            let t = x.total();
            if t == 0 {
                0.0
            } else {
                x.max_error as f64 / t as f64
            }
        };
        out.sketch_error = Some(frac(r) + frac(c));
    }
    // A category only one frequent-items sketch kept may well be in the other sketch's
    // "other" mass: pool it there on both sides. A category kept by one side that the
    // other side counted exactly is compared as is (0 on the exact side is a true 0).
    let keep = |k: &String| {
        (r.counts.contains_key(k) && c.counts.contains_key(k))
            || (r.is_exact() && c.is_exact())
            || (r.is_exact() && !r.counts.contains_key(k))
            || (c.is_exact() && !c.counts.contains_key(k))
    };
    let pool = |x: &Categories| {
        let mut m = BTreeMap::new();
        let mut other = x.other;
        for (k, v) in &x.counts {
            if keep(k) {
                m.insert(k.clone(), *v);
            } else {
                other += v;
            }
        }
        (m, other)
    };
    let (mut ra, r_other) = pool(r);
    let (mut ca, c_other) = pool(c);
    let (r, c) = (
        &Categories {
            counts: BTreeMap::new(),
            other: r_other,
            max_error: r.max_error,
        },
        &Categories {
            counts: BTreeMap::new(),
            other: c_other,
            max_error: c.max_error,
        },
    );
    if r.other > 0 || c.other > 0 {
        ra.insert(OTHER_BUCKET.to_string(), r.other);
        ca.insert(OTHER_BUCKET.to_string(), c.other);
    }
    let table = Contingency::from_maps(&ra, &ca);
    // Unseen: current categories the reference never had (the sketch's "other" bucket is
    // not a category).
    let mut unseen: Vec<(&String, u64)> = table
        .categories
        .iter()
        .zip(table.reference.iter().zip(&table.current))
        .filter(|(k, (rc, cc))| **rc == 0 && **cc > 0 && k.as_str() != OTHER_BUCKET)
        .map(|(k, (_, cc))| (k, *cc))
        .collect();
    if !unseen.is_empty() {
        out.unseen_count = Some(unseen.iter().map(|u| u.1).sum());
        unseen.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        out.unseen_categories = unseen.iter().take(MAX_NAMED).map(|u| u.0.clone()).collect();
    }
    out.cramers_v = table.cramers_v().ok();
    match method {
        Method::ChiSquare => {
            let t = table.chi2_goodness_of_fit()?;
            out.statistic = finite(t.statistic);
            out.p_value = Some(t.p_value);
        }
        Method::Chi2Contingency => {
            let t = table.chi2_contingency()?;
            out.statistic = finite(t.statistic);
            out.p_value = Some(t.p_value);
        }
        Method::ZTest => {
            if table.categories.len() > 2 {
                return Err(DriftError::TooManyCategories(table.categories.len()));
            }
            let t = table.z_test()?;
            out.statistic = Some(t.z);
            out.p_value = Some(t.p_value);
        }
        Method::Linf => {
            let l = table.l_infinity()?;
            out.statistic = Some(l.distance);
            out.peak = l.category.map(serde_json::Value::from);
        }
        Method::Tvd => out.statistic = Some(table.total_variation()?),
        Method::Psi => out.statistic = Some(table.psi()?),
        Method::KlDiv => out.statistic = Some(table.kl_divergence()?),
        Method::Hellinger => out.statistic = Some(table.hellinger()?),
        Method::JensenShannon => out.statistic = Some(table.jensen_shannon()?),
        Method::JsDivergence => {
            let d =
                jensen_shannon_distance(&table.reference_f64(), &table.current_f64(), Some(2.0))?;
            out.statistic = Some(d * d);
        }
        Method::Ks | Method::Wasserstein => return Err(DriftError::InvalidCount),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn num(name: &str, values: Vec<f64>) -> ColumnSample {
        let n = values.len() as u64;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for v in &values {
            *counts.entry(number_label(*v)).or_default() += 1;
        }
        let side = NumericSide::from_values(values).unwrap();
        let categories = (counts.len() <= EXACT_LIMIT).then_some(Categories {
            counts,
            other: 0,
            max_error: 0,
        });
        ColumnSample {
            name: name.into(),
            type_name: "double".into(),
            kind: Kind::Float,
            count: n,
            missing: 0,
            distinct: side.distinct().unwrap(),
            distinct_exact: true,
            numeric: Some(side),
            categories,
        }
    }

    fn cat(name: &str, pairs: &[(&str, u64)]) -> ColumnSample {
        let counts: BTreeMap<String, u64> = pairs.iter().map(|(k, v)| ((*k).into(), *v)).collect();
        ColumnSample {
            name: name.into(),
            type_name: "string".into(),
            kind: Kind::String,
            count: counts.values().sum(),
            missing: 0,
            distinct: counts.len() as u64,
            distinct_exact: true,
            numeric: None,
            categories: Some(Categories {
                counts,
                other: 0,
                max_error: 0,
            }),
        }
    }

    fn opts(method: Option<Method>, rows: u64) -> CompareOptions {
        CompareOptions {
            method,
            threshold: None,
            reference_rows: rows,
        }
    }

    #[test]
    fn unseen_categories_are_named_and_counted() {
        let r = cat("c", &[("a", 50), ("b", 50)]);
        let c = cat("c", &[("a", 40), ("b", 40), ("new", 15), ("newer", 5)]);
        let d = compare_column(&r, &c, &opts(Some(Method::JensenShannon), 100)).unwrap();
        assert_eq!(d.unseen_categories, vec!["new", "newer"]);
        assert_eq!(d.unseen_count, Some(20));
        assert!(d.exact);
        // chi-square with an unseen category: infinite statistic, p = 0, drifted.
        let d = compare_column(&r, &c, &opts(Some(Method::ChiSquare), 100)).unwrap();
        assert_eq!(d.statistic, None);
        assert_eq!(d.p_value, Some(0.0));
        assert!(d.drifted);
    }

    #[test]
    fn categories_kept_by_one_sketch_only_are_pooled_not_unseen() {
        // Both sides' frequent-items sketches kept "a"; only the current one kept "b",
        // which the reference may hold in its "other" mass: not an unseen category.
        let sketch = |pairs: &[(&str, u64)], other: u64| {
            let mut s = cat("c", pairs);
            if let Some(c) = &mut s.categories {
                c.other = other;
                c.max_error = 3;
            }
            s
        };
        let r = sketch(&[("a", 500)], 500);
        let c = sketch(&[("a", 500), ("b", 60)], 440);
        let d = compare_column(&r, &c, &opts(Some(Method::JensenShannon), 5000)).unwrap();
        assert!(!d.exact);
        assert!(d.unseen_categories.is_empty(), "{d:?}");
        assert_eq!(d.statistic, Some(0.0));
        assert!((d.sketch_error.unwrap() - (3.0 / 1000.0 + 3.0 / 1000.0)).abs() < 1e-12);
        // Against an exact reference, a category it lacks is truly unseen.
        let exact = cat("c", &[("a", 1000)]);
        let d = compare_column(&exact, &c, &opts(Some(Method::JensenShannon), 5000)).unwrap();
        assert_eq!(d.unseen_categories, vec!["b"]);
    }

    #[test]
    fn out_of_range_values_are_counted() {
        let r = num("x", (0..100).map(f64::from).collect());
        let c = num("x", (-5..110).map(f64::from).collect());
        let d = compare_column(&r, &c, &opts(None, 100)).unwrap();
        assert_eq!(d.method, Method::Ks);
        let o = d.out_of_range.unwrap();
        assert_eq!((o.below, o.above), (5, 10));
    }

    #[test]
    fn auto_picks_by_reference_rows_and_kind() {
        let small = num("x", (0..100).map(f64::from).collect());
        assert_eq!(choose_method(&small, &small, &opts(None, 100)), Method::Ks);
        assert_eq!(
            choose_method(&small, &small, &opts(None, 5000)),
            Method::Wasserstein
        );
        let two = cat("c", &[("a", 3), ("b", 4)]);
        assert_eq!(choose_method(&two, &two, &opts(None, 7)), Method::ZTest);
        let three = cat("c", &[("a", 3), ("b", 4), ("z", 1)]);
        // distinct is over both sides together: 2 + 1 new = 3 -> chi-square.
        assert_eq!(
            choose_method(&two, &three, &opts(None, 7)),
            Method::ChiSquare
        );
        assert_eq!(
            choose_method(&two, &three, &opts(None, 7000)),
            Method::JensenShannon
        );
    }

    #[test]
    fn wrong_kind_for_the_method_is_skipped_with_a_reason() {
        let c = cat("c", &[("a", 3), ("b", 4)]);
        let e = compare_column(&c, &c, &opts(Some(Method::Ks), 7)).unwrap_err();
        assert!(e.reason.contains("needs a numeric column"), "{}", e.reason);
    }

    #[test]
    fn identical_samples_do_not_drift_under_any_method() {
        let x = num("x", (0..500).map(|i| f64::from(i % 37)).collect());
        for m in Method::ALL {
            if m == Method::ZTest {
                continue;
            }
            let d = compare_column(&x, &x, &opts(Some(m), 500)).unwrap();
            assert!(!d.drifted, "{m}: {d:?}");
        }
    }

    #[test]
    fn js_divergence_follows_tfdv_on_histograms_and_categories() {
        // a: 0..=99 -> ten buckets of 10 over [0, 99]; b: 50..=149 over [50, 149]. On the
        // union of the boundaries (0, 9.9, ..., 99, 59.9, ...) mass is spread uniformly.
        let a = num("x", (0..100).map(f64::from).collect());
        let b = num("x", (50..150).map(f64::from).collect());
        let d = compare_column(&a, &b, &opts(Some(Method::JsDivergence), 100)).unwrap();
        assert!(d.exact);
        let ha = tfdv_histogram(a.numeric.as_ref().unwrap());
        assert_eq!(ha.buckets.len(), 10);
        assert!(ha.buckets.iter().all(|b| b.count == 10.0), "{ha:?}");
        assert_eq!(ha.buckets[9].high, 99.0);
        let want =
            super::super::tfdv_jensen_shannon(&ha, &tfdv_histogram(b.numeric.as_ref().unwrap()))
                .unwrap();
        assert_eq!(d.statistic, Some(want));
        // Half the mass overlaps, uniformly: cells [0,50) only in a, [50,99] shared at
        // density 10/9.9 on a's side and 10/9.9 on b's, (99,149] only in b.
        let shared = 49.0 / 99.0; // a's share in [50, 99]; b's in [50, 99] is 49/99 too
        let want2 = super::super::tfdv::tests::js_log2(
            &[1.0 - shared, shared, 0.0],
            &[0.0, shared, 1.0 - shared],
        );
        assert!((want - want2).abs() < 1e-12, "{want} vs {want2}");
        assert!(d.drifted);
        // Categories: log2 JS on proportions.
        let r = cat("c", &[("a", 30), ("b", 10)]);
        let c = cat("c", &[("a", 10), ("b", 10), ("z", 20)]);
        let d = compare_column(&r, &c, &opts(Some(Method::JsDivergence), 40)).unwrap();
        let want = super::super::tfdv::tests::js_log2(&[30.0, 10.0, 0.0], &[10.0, 10.0, 20.0]);
        assert!((d.statistic.unwrap() - want).abs() < 1e-12);
        // NaN counts as a bucket of its own, never matched (TFDV).
        let mut n = a.clone();
        n.numeric.as_mut().unwrap().nan = 10;
        let d = compare_column(&n, &a, &opts(Some(Method::JsDivergence), 100)).unwrap();
        let want = super::super::tfdv::tests::js_log2(
            &[10.0; 11],
            &[
                10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 0.0,
            ],
        );
        assert!((d.statistic.unwrap() - want).abs() < 1e-12);
    }

    #[test]
    fn sketch_ks_is_within_its_stated_error_of_the_exact_one() {
        let a: Vec<f64> = (0..20_000)
            .map(|i| f64::from((i * 7919) % 10_007) / 10.0)
            .collect();
        let b: Vec<f64> = (0..15_000)
            .map(|i| f64::from((i * 104_729) % 10_009) / 9.0 + 30.0)
            .collect();
        let exact = compare_column(
            &num("x", a.clone()),
            &num("x", b.clone()),
            &opts(Some(Method::Ks), 20_000),
        )
        .unwrap();
        let sketch = |v: &[f64]| {
            let mut q = Quantiles::default();
            q.extend(v.iter().copied());
            let mut s = num("x", v.to_vec());
            if let Some(n) = &mut s.numeric {
                n.data = NumericData::Sketch {
                    view: View::new(q.view()),
                    weighted: None,
                    rank_error: TDIGEST_RANK_ERROR,
                };
            }
            s
        };
        for m in [
            Method::Ks,
            Method::Wasserstein,
            Method::Psi,
            Method::JensenShannon,
        ] {
            let e = compare_column(
                &num("x", a.clone()),
                &num("x", b.clone()),
                &opts(Some(m), 20_000),
            )
            .unwrap();
            let s = compare_column(&sketch(&a), &sketch(&b), &opts(Some(m), 20_000)).unwrap();
            assert!(!s.exact);
            let err = s.sketch_error.unwrap();
            let (es, ss) = (e.statistic.unwrap(), s.statistic.unwrap());
            let tol = if m == Method::Ks {
                err
            } else {
                0.05 * es.max(0.1)
            };
            assert!(
                (es - ss).abs() <= tol,
                "{m}: exact {es} sketch {ss} err {err}"
            );
        }
        assert!(exact.exact);
    }
}
