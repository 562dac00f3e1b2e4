//! Confident learning (Northcutt et al.) exactly as cleanlab 2.9 computes it; the steps are
//! numbered as in `shared/reference/labels.md`.
//!
//! - [`find_label_issues`] mirrors `cleanlab.filter.find_label_issues(labels, pred_probs,
//!   filter_by=..., min_examples_per_class=..., return_indices_ranked_by=...)` and returns a
//!   [`LabelIssues`] with the mask, the ranked rows, the per-row scores, the suggested label,
//!   the confident joint (raw and calibrated), the prune matrix and the estimated joint.
//! - [`confident_thresholds`], [`compute_confident_joint`], [`estimate_joint`] and
//!   [`label_quality_scores`] mirror the cleanlab functions of the same names.
//!
//! Ties. Where cleanlab picks among equal values it uses numpy's default `argsort`, whose
//! order among equal keys is not specified and depends on the CPU: numpy 2.x on x86-64
//! with AVX2 or AVX-512 dispatches to a SIMD sorting network, elsewhere (or with
//! `NPY_DISABLE_CPU_FEATURES`) to its portable introsort, stable on up to 16 values.
//! [`NumpySort`] chooses which to reproduce; the default is the SIMD order, emulated
//! exactly for arrays of up to 256 values (`numeric::simd_argsort`). It matters in two
//! places: rounding each calibrated row of the confident joint (K values; this moved
//! flagged rows on real data, issue 18's digits repro) and choosing which rows of a class
//! to flag when several tie at the cut (the class's rows). Beyond 256 rows per class
//! (SIMD) or 16 (portable) numpy's sorts are quicksorts whose tie order we do not
//! reproduce; we take the lowest row first, so when several rows of a large class tie
//! exactly at a cut (e.g. many rows with `P_ik = 0.0`), cleanlab may flag other, equally
//! ranked rows than we do: the same number, different row ids. In a differential run on 400
//! random matrices (8-decimal probabilities, K = 2..12, N up to 400) 5950 of 5961 masks were
//! identical and all 11 differences were such ties. Reference data for both orders:
//! `labels_cleanlab.json` (portable) and `labels_cleanlab_simd.json` (SIMD), plus the repro
//! in `fixtures/reference/cleanlab_parity`.
//!
//! Cost: O(N K) time plus one O(n_k) selection per (class, class) pair with a non-zero
//! prune count, and a sort of the flagged rows only. Extra memory is O(N) (the per-row
//! outputs and one index permutation); the probability matrix is only borrowed.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::numeric::{SIMD_NETWORK_MAX, pairwise_sum, round_even, simd_argsort};
use super::{LabelError, ProbMatrix, argmax};

/// cleanlab's `FLOATING_POINT_COMPARISON`: a probability this close below a threshold
/// still counts as confident, and the given label wins an argmax tie by this much.
const FLOAT_TOLERANCE: f64 = 1e-6;
/// cleanlab's `CONFIDENT_THRESHOLDS_LOWER_BOUND`: thresholds never drop below this.
const THRESHOLD_LOWER_BOUND: f64 = 2.0 * FLOAT_TOLERANCE;
/// Threshold of a class nobody is labelled with: above any probability, so no row is ever
/// confidently in it.
const EMPTY_CLASS_THRESHOLD: f64 = 2.0;
/// Default tolerance on row sums (cleanlab does not check them; see [`ProbMatrix::validate`]).
pub const DEFAULT_ROW_SUM_TOLERANCE: f64 = 1e-3;

/// Which rows count as label issues: cleanlab's `filter_by` methods, and one of
/// preflight's ([`FilterBy::PruneByNoiseRatePooled`], the built-in model's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterBy {
    /// For each given class k and other class j, the `M[j][k]` rows labelled k with the
    /// largest margin `P_ij - P_ik` (union over j). cleanlab's default.
    #[default]
    PruneByNoiseRate,
    /// For each class k, the `n_k - M[k][k]` rows labelled k with the smallest `P_ik`.
    PruneByClass,
    /// Rows flagged by both of the above.
    Both,
    /// The off-diagonal rows of the (uncalibrated) confident joint.
    ConfidentLearning,
    /// Rows whose argmax prediction differs from the given label.
    PredictedNeqGiven,
    /// As many rows as [`FilterBy::PruneByNoiseRate`] flags, but the rows with the lowest
    /// `rank_by` score over the whole table instead of the largest margins within each
    /// (given, true) class pair, within its limits per class (a class of at most
    /// `min_examples_per_class` rows is never pruned, nor left with fewer than that): the
    /// estimate of *how many* labels are wrong is confident learning's, the choice of
    /// *which* is the score's. Not a cleanlab method (its `low_self_confidence` takes the
    /// same lowest scores but as many as the uncalibrated confident joint's off-diagonal,
    /// fewer and measured worse). The built-in model's default: on the wide detection
    /// benchmark under 10 fold seeds (README) it raised every model's F1, e.g. the mean of
    /// all three models from 0.685 to 0.713 mean median F1, because a per-pair count is a
    /// small, noisy estimate that forces rows out of every pair, while the total is
    /// steadier.
    PruneByNoiseRatePooled,
}

impl FilterBy {
    pub const ALL: [FilterBy; 6] = [
        Self::PruneByNoiseRate,
        Self::PruneByClass,
        Self::Both,
        Self::ConfidentLearning,
        Self::PredictedNeqGiven,
        Self::PruneByNoiseRatePooled,
    ];

    /// cleanlab's methods (the ones its `find_label_issues` has, with its results).
    pub const CLEANLAB: [FilterBy; 5] = [
        Self::PruneByNoiseRate,
        Self::PruneByClass,
        Self::Both,
        Self::ConfidentLearning,
        Self::PredictedNeqGiven,
    ];

    /// cleanlab's name for the method.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PruneByNoiseRate => "prune_by_noise_rate",
            Self::PruneByClass => "prune_by_class",
            Self::Both => "both",
            Self::ConfidentLearning => "confident_learning",
            Self::PredictedNeqGiven => "predicted_neq_given",
            Self::PruneByNoiseRatePooled => "prune_by_noise_rate_pooled",
        }
    }

    /// One line saying which rows the method flags (the CLI's help for each choice).
    pub fn about(self) -> &'static str {
        match self {
            Self::PruneByNoiseRate => {
                "for each pair of classes, the rows most likely of the other class, as many as the estimated noise (cleanlab's default)"
            }
            Self::PruneByClass => "for each class, the rows least likely of their given class",
            Self::Both => "rows flagged by both of the above",
            Self::ConfidentLearning => "the off-diagonal rows of the confident joint",
            Self::PredictedNeqGiven => "rows whose most likely class is not the given one",
            Self::PruneByNoiseRatePooled => {
                "as many rows as prune_by_noise_rate, the lowest-scoring over the whole table (the built-in model's default)"
            }
        }
    }
}

impl fmt::Display for FilterBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FilterBy {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = Self::ALL.iter().map(|m| m.as_str()).collect();
                LabelError::InvalidOption(format!(
                    "unknown filter method {s:?}; expected one of {}",
                    all.join(", ")
                ))
            })
    }
}

/// Per-row label-quality score (cleanlab's `get_label_quality_scores(method=...)`); lower
/// means more likely mislabelled. All lie in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreMethod {
    /// `P[i, y_i]`. cleanlab's default.
    #[default]
    SelfConfidence,
    /// `(P[i, y_i] - max_{k != y_i} P[i, k] + 1) / 2`.
    NormalizedMargin,
    /// `ln(x + 1) / max(x, 1e-6)` with `x = H_i / max(P[i, y_i], 1e-6)`, `H_i` the entropy
    /// of row i normalised by `ln K`.
    ConfidenceWeightedEntropy,
}

impl ScoreMethod {
    pub const ALL: [ScoreMethod; 3] = [
        Self::SelfConfidence,
        Self::NormalizedMargin,
        Self::ConfidenceWeightedEntropy,
    ];

    /// cleanlab's name for the method.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SelfConfidence => "self_confidence",
            Self::NormalizedMargin => "normalized_margin",
            Self::ConfidenceWeightedEntropy => "confidence_weighted_entropy",
        }
    }
}

impl fmt::Display for ScoreMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ScoreMethod {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                LabelError::InvalidOption(format!(
                    "unknown score method {s:?}; expected self_confidence, normalized_margin or confidence_weighted_entropy"
                ))
            })
    }
}

/// Which sort cleanlab's numpy uses, which decides how equal values are ordered where
/// cleanlab calls `np.argsort` without `kind=` (the default, unstable quicksort). The one
/// place this changes results on real data is rounding the calibrated confident joint
/// (step 3): a row such as `[164.4, 2.47, 2.47, 1.24, 0, 2.47, 0, 2.47, 1.24, 1.24]` has
/// four equal rounding residuals of which three are rounded up, and which three depends on
/// the sort; one cell moved between classes changes the prune counts, hence the rows
/// flagged by `prune_by_noise_rate` and `both`. numpy 2.x picks its sort by CPU at run time:
///
/// - [`Simd`](Self::Simd): x86-64 with AVX2 or AVX-512 (practically every x86 machine of
///   the last ten years): Intel's x86-simd-sort, a bitonic network for up to 256 values.
///   Its 8-lane (AVX-512) and 4-lane (AVX2) forms gave the same order on every array we
///   compared (`fixtures/reference/numpy_argsort.json`).
/// - [`Portable`](Self::Portable): numpy's own introsort (other CPUs, e.g. ARM, or
///   `NPY_DISABLE_CPU_FEATURES` hiding the SIMD targets), which on up to 16 values is an
///   insertion sort: stable, lowest index first.
///
/// The network order is reproduced exactly for up to 256 values (every row of the confident
/// joint unless there are more than 256 classes); beyond that, and in the per-class row
/// selections of step 5 (see the module docs), ties are broken lowest index first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumpySort {
    /// The default: cleanlab on an x86-64 machine with AVX2 or AVX-512, where the reference
    /// repro (`fixtures/reference/cleanlab_parity`) was generated.
    #[default]
    Simd,
    Portable,
}

impl NumpySort {
    pub const ALL: [NumpySort; 2] = [Self::Simd, Self::Portable];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simd => "simd",
            Self::Portable => "portable",
        }
    }

    /// Ascending order of `values` as numpy's default `argsort` returns it.
    fn argsort(self, values: &[f64]) -> Vec<usize> {
        if self == Self::Simd
            && let Some(order) = simd_argsort(values, 8)
        {
            return order;
        }
        let mut order: Vec<usize> = (0..values.len()).collect();
        // stable: lowest index first among equal values
        order.sort_by(|&a, &b| cmp_f64(values[a], values[b]));
        order
    }
}

impl fmt::Display for NumpySort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NumpySort {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                LabelError::InvalidOption(format!(
                    "unknown numpy sort {s:?}; expected simd or portable"
                ))
            })
    }
}

/// Options of [`find_label_issues`]; `Default` gives cleanlab's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfidentLearningOptions {
    pub filter_by: FilterBy,
    /// Score used for [`LabelIssues::scores`] and the order of [`LabelIssues::ranked_issues`].
    pub rank_by: ScoreMethod,
    /// Classes with at most this many given labels are never pruned by the `prune_by_*`
    /// methods, and the prune matrix keeps at least this many rows of each class. cleanlab's
    /// `find_label_issues` defaults to 1; its Datalab uses 10.
    pub min_examples_per_class: usize,
    /// Reject rows whose probabilities do not sum to 1 within this; `None` skips the check
    /// (cleanlab's behaviour).
    pub row_sum_tolerance: Option<f64>,
    /// Whose tie order to reproduce; see [`NumpySort`].
    pub numpy_sort: NumpySort,
}

impl Default for ConfidentLearningOptions {
    fn default() -> Self {
        Self {
            filter_by: FilterBy::default(),
            rank_by: ScoreMethod::default(),
            min_examples_per_class: 1,
            row_sum_tolerance: Some(DEFAULT_ROW_SUM_TOLERANCE),
            numpy_sort: NumpySort::default(),
        }
    }
}

/// [`FilterBy::PruneByNoiseRatePooled`]'s rows: the `count` rows of lowest score (ties by
/// row), keeping prune_by_noise_rate's limits per class: a class of at most
/// `min_per_class` rows (`counts` per class) is never pruned, and no class loses more than
/// its rows minus that many. In ascending score order.
fn lowest_within_class_limits(
    scores: &[f64],
    labels: &[usize],
    counts: &[usize],
    min_per_class: usize,
    count: usize,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| cmp_f64(scores[a], scores[b]).then(a.cmp(&b)));
    let mut room: Vec<usize> = (counts.iter())
        .map(|&c| c.saturating_sub(min_per_class))
        .collect();
    let mut taken = Vec::with_capacity(count);
    for i in order {
        if taken.len() == count {
            break;
        }
        if room[labels[i]] > 0 {
            room[labels[i]] -= 1;
            taken.push(i);
        }
    }
    taken
}

/// Result of [`find_label_issues`]. Matrices are `K x K` nested vectors, indexed
/// `[given label][guessed true label]` unless said otherwise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelIssues {
    pub n_rows: usize,
    pub n_classes: usize,
    pub filter_by: FilterBy,
    pub rank_by: ScoreMethod,
    pub min_examples_per_class: usize,
    /// Number of rows given each label.
    pub class_counts: Vec<usize>,
    /// Step 1: per-class confidence thresholds.
    pub thresholds: Vec<f64>,
    /// Step 2: the confident joint before calibration (diagonal already raised to >= 1),
    /// as `compute_confident_joint(calibrate=False)`.
    pub confident_joint_uncalibrated: Vec<Vec<usize>>,
    /// Step 3: the calibrated confident joint (row j sums to about `n_j`, total `N`), as
    /// `compute_confident_joint()`.
    pub confident_joint: Vec<Vec<usize>>,
    /// Step 4: `M[j][k]` = rows labelled k believed truly j, after keeping
    /// `min_examples_per_class` on the diagonal.
    pub prune_matrix: Vec<Vec<usize>>,
    /// Step 8: estimated joint distribution of (given, true) labels, `C_cal / sum(C_cal)`,
    /// as `estimate_joint`; off-diagonal cells are the estimated noise rate of each class pair.
    pub joint: Vec<Vec<f64>>,
    /// Steps 5-6: one flag per row.
    pub is_issue: Vec<bool>,
    /// Step 7: the flagged rows, lowest score first (ties: lowest row first).
    pub ranked_issues: Vec<usize>,
    /// Step 7: the `rank_by` score of every row.
    pub scores: Vec<f64>,
    /// argmax of each row's probabilities (first maximum on ties): the label to suggest.
    pub suggested_label: Vec<usize>,
}

impl LabelIssues {
    /// Number of flagged rows.
    pub fn n_issues(&self) -> usize {
        self.ranked_issues.len()
    }
}

/// Checked inputs plus the rows grouped by given label (a counting sort: `members` holds
/// the row numbers of class k, ascending, at `starts[k]..starts[k + 1]`).
struct Prepared<'a> {
    labels: &'a [usize],
    probs: ProbMatrix<'a>,
    counts: Vec<usize>,
    starts: Vec<usize>,
    members: Vec<usize>,
}

impl<'a> Prepared<'a> {
    fn new(
        labels: &'a [usize],
        probs: ProbMatrix<'a>,
        row_sum_tolerance: Option<f64>,
    ) -> Result<Self, LabelError> {
        let k = probs.n_classes();
        if labels.len() != probs.n_rows() {
            return Err(LabelError::LengthMismatch {
                what: "labels vs probability rows",
                expected: probs.n_rows(),
                got: labels.len(),
            });
        }
        let counts = super::checks::class_counts(labels, k)?;
        probs.validate(row_sum_tolerance)?;
        let mut starts = Vec::with_capacity(k + 1);
        let mut acc = 0;
        starts.push(0);
        for &c in &counts {
            acc += c;
            starts.push(acc);
        }
        let mut next = starts.clone();
        let mut members = vec![0usize; labels.len()];
        for (i, &label) in labels.iter().enumerate() {
            members[next[label]] = i;
            next[label] += 1;
        }
        Ok(Self {
            labels,
            probs,
            counts,
            starts,
            members,
        })
    }

    fn k(&self) -> usize {
        self.probs.n_classes()
    }

    fn class_rows(&self, class: usize) -> &[usize] {
        &self.members[self.starts[class]..self.starts[class + 1]]
    }

    /// Step 1. The mean is numpy's (pairwise sum over the class's rows in row order, then
    /// one division) so thresholds match cleanlab to the last bit: a row sitting exactly on
    /// a threshold must fall on the same side.
    fn thresholds(&self) -> Vec<f64> {
        let mut buf = Vec::with_capacity(self.counts.iter().copied().max().unwrap_or(0));
        (0..self.k())
            .map(|class| {
                let rows = self.class_rows(class);
                let t = if rows.is_empty() {
                    EMPTY_CLASS_THRESHOLD
                } else {
                    buf.clear();
                    buf.extend(rows.iter().map(|&i| self.probs.row(i)[class]));
                    pairwise_sum(&buf) / rows.len() as f64
                };
                t.max(THRESHOLD_LOWER_BOUND)
            })
            .collect()
    }

    /// Step 2: the confident joint (flat, row-major) with the diagonal raised to at least 1,
    /// and, when asked, which rows fell off the diagonal (for `confident_learning`).
    fn confident_joint(
        &self,
        thresholds: &[f64],
        want_off_diagonal: bool,
    ) -> (Vec<usize>, Vec<bool>) {
        let k = self.k();
        let cut: Vec<f64> = thresholds.iter().map(|t| t - FLOAT_TOLERANCE).collect();
        let mut joint = vec![0usize; k * k];
        let mut off = if want_off_diagonal {
            vec![false; self.labels.len()]
        } else {
            Vec::new()
        };
        for (i, &given) in self.labels.iter().enumerate() {
            let p = self.probs.row(i);
            let mut n_confident = 0usize;
            let mut only = 0usize;
            for (class, (&pk, &c)) in p.iter().zip(&cut).enumerate() {
                if pk >= c {
                    n_confident += 1;
                    only = class;
                }
            }
            let guess = match n_confident {
                0 => continue,
                1 => only,
                // several confident classes: cleanlab takes the argmax over ALL classes,
                // which need not be one of the confident ones
                _ => argmax(p),
            };
            joint[given * k + guess] += 1;
            if want_off_diagonal && guess != given {
                off[i] = true;
            }
        }
        for class in 0..k {
            let d = &mut joint[class * k + class];
            *d = (*d).max(1);
        }
        (joint, off)
    }
}

/// Step 3: scale row j to `n_j`, the whole to `N`, then round each row keeping its rounded
/// total (`calibrate_confident_joint` + `round_preserving_row_totals`).
fn calibrate(joint: &[usize], counts: &[usize], sort: NumpySort) -> Vec<usize> {
    let k = counts.len();
    let mut scaled = vec![0.0f64; k * k];
    for (j, &n_j) in counts.iter().enumerate() {
        let row = &joint[j * k..(j + 1) * k];
        // >= 1 because the diagonal was raised
        let row_sum: usize = row.iter().sum();
        for (dst, &c) in scaled[j * k..(j + 1) * k].iter_mut().zip(row) {
            *dst = c as f64 / row_sum as f64 * n_j as f64;
        }
    }
    let total = pairwise_sum(&scaled);
    let n: usize = counts.iter().sum();
    for v in &mut scaled {
        *v = *v / total * n as f64;
    }
    let mut out = Vec::with_capacity(k * k);
    for row in scaled.chunks_exact(k) {
        out.extend(round_preserving_sum(row, sort));
    }
    out
}

/// Rounds `values` so the result sums to the rounded sum of `values`: round each (half to
/// even, as numpy), then add 1 to the entries with the largest residuals `v - round(v)` or
/// subtract 1 from those with the smallest, taking them from the top or the bottom of the
/// ascending order numpy's default `argsort` gives the residuals. Which of several equal
/// residuals get the +1 therefore depends on `sort`: with [`NumpySort::Portable`] (stable)
/// additions go to the highest indices and subtractions to the lowest; with the SIMD
/// networks it is the network's order. This is the step where preflight departed from
/// cleanlab on AVX-512 machines before `sort` existed (see `NumpySort`).
fn round_preserving_sum(values: &[f64], sort: NumpySort) -> Vec<usize> {
    let total = round_even(pairwise_sum(values));
    let rounded: Vec<f64> = values.iter().map(|&v| round_even(v)).collect();
    let diff = total - pairwise_sum(&rounded);
    let residuals: Vec<f64> = values.iter().zip(&rounded).map(|(v, r)| v - r).collect();
    let order = sort.argsort(&residuals);
    let mut out: Vec<i64> = rounded.iter().map(|&r| r as i64).collect();
    let steps = (diff.abs() as usize).min(values.len());
    if diff > 0.0 {
        for &i in order.iter().rev().take(steps) {
            out[i] += 1;
        }
    } else if diff < 0.0 {
        for &i in order.iter().take(steps) {
            out[i] -= 1;
        }
    }
    out.into_iter().map(|v| v.max(0) as usize).collect()
}

/// Step 4: `M = C_cal^T`, then cleanlab's `_keep_at_least_n_per_class`: raise each diagonal
/// entry `M[k][k]` to `n`, take the increase back evenly from column k's non-zero
/// off-diagonal entries (the divisor is "non-zero entries in the column minus one", at least
/// 1 — which counts a zero diagonal as if it were non-zero, as cleanlab does), clip at 0 and
/// truncate to integers.
fn prune_matrix(calibrated: &[usize], k: usize, n: usize) -> Vec<usize> {
    let mut m = vec![0usize; k * k];
    for j in 0..k {
        for c in 0..k {
            m[j * k + c] = calibrated[c * k + j];
        }
    }
    let mut out = m.clone();
    for col in 0..k {
        let diag = m[col * k + col] as f64;
        let new_diag = diag.max(n as f64);
        let increase = new_diag - diag;
        let nonzero = (0..k).filter(|&j| m[j * k + col] != 0).count();
        let divisor = (nonzero as f64 - 1.0).max(1.0);
        for j in 0..k {
            let v = if j == col {
                new_diag
            } else {
                (m[j * k + col] as f64 - increase / divisor).max(0.0)
            };
            out[j * k + col] = v.trunc() as usize;
        }
    }
    out
}

/// Partial order on validated (NaN-free) floats that treats -0.0 and 0.0 as equal, like
/// numpy's comparisons.
fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

/// Marks the `take` rows of `rows` (one class's rows, ascending) that come first in
/// numpy's default `argsort` of the key (`ascending = true`) or of the negated key, which is
/// how cleanlab picks them. Only ties are at stake: with [`NumpySort::Simd`] and at most
/// 256 rows, the SIMD network's order; otherwise "row ascending" among equal keys, which is
/// the portable sort's order on up to 16 rows (numpy's introsort is unstable beyond that,
/// as is x86-simd-sort's quicksort beyond 256; see the module docs). `buf` is scratch space
/// reused across calls so the per-class loops allocate nothing in the common case.
fn mark_extreme(
    rows: &[usize],
    key: impl Fn(usize) -> f64,
    take: usize,
    ascending: bool,
    sort: NumpySort,
    buf: &mut Vec<(f64, usize)>,
    mask: &mut [bool],
) {
    let take = take.min(rows.len());
    if take == 0 {
        return;
    }
    if sort == NumpySort::Simd && take < rows.len() && rows.len() <= SIMD_NETWORK_MAX {
        let keys: Vec<f64> = rows
            .iter()
            .map(|&i| if ascending { key(i) } else { -key(i) })
            .collect();
        if let Some(order) = simd_argsort(&keys, 8) {
            for &pos in &order[..take] {
                mask[rows[pos]] = true;
            }
            return;
        }
    }
    buf.clear();
    buf.extend(rows.iter().map(|&i| (key(i), i)));
    let cmp = |a: &(f64, usize), b: &(f64, usize)| {
        let by_key = if ascending {
            cmp_f64(a.0, b.0)
        } else {
            cmp_f64(b.0, a.0)
        };
        by_key.then(a.1.cmp(&b.1))
    };
    if take < buf.len() {
        // linear-time selection: only the chosen rows matter, not their order
        buf.select_nth_unstable_by(take - 1, cmp);
    }
    for &(_, i) in &buf[..take] {
        mask[i] = true;
    }
}

fn to_matrix<T: Copy>(flat: &[T], k: usize) -> Vec<Vec<T>> {
    flat.chunks_exact(k.max(1)).map(<[T]>::to_vec).collect()
}

/// Step 6: cleanlab never flags a row whose given label is the argmax once the given
/// label's probability gets a 1e-6 head start.
fn given_label_wins(p: &[f64], given: usize) -> bool {
    let mut best = 0;
    let mut best_v = f64::NEG_INFINITY;
    for (class, &v) in p.iter().enumerate() {
        let v = if class == given {
            v + FLOAT_TOLERANCE
        } else {
            v
        };
        if v > best_v {
            best = class;
            best_v = v;
        }
    }
    best == given
}

/// Score of one row (step 7); `scratch` has room for one row of terms.
fn score_row(p: &[f64], given: usize, method: ScoreMethod, scratch: &mut Vec<f64>) -> f64 {
    let py = p[given];
    match method {
        ScoreMethod::SelfConfidence => py,
        ScoreMethod::NormalizedMargin => {
            let other = p
                .iter()
                .enumerate()
                .filter(|&(c, _)| c != given)
                .map(|(_, &v)| v)
                .fold(f64::NEG_INFINITY, f64::max);
            (py - other + 1.0) / 2.0
        }
        ScoreMethod::ConfidenceWeightedEntropy => {
            let sc = py.max(FLOAT_TOLERANCE);
            scratch.clear();
            // 0 ln 0 = 0
            scratch.extend(p.iter().map(|&v| if v > 0.0 { v * v.ln() } else { 0.0 }));
            let entropy = -pairwise_sum(scratch) / (p.len() as f64).ln();
            let x = entropy / sc;
            (x + 1.0).ln() / x.max(FLOAT_TOLERANCE)
        }
    }
}

fn scores_of(prep: &Prepared<'_>, method: ScoreMethod) -> Vec<f64> {
    let mut scratch = Vec::with_capacity(prep.k());
    prep.labels
        .iter()
        .enumerate()
        .map(|(i, &given)| score_row(prep.probs.row(i), given, method, &mut scratch))
        .collect()
}

/// Step 1 alone: per-class thresholds, as `cleanlab.count.get_confident_thresholds`.
pub fn confident_thresholds(
    labels: &[usize],
    probs: ProbMatrix<'_>,
) -> Result<Vec<f64>, LabelError> {
    let prep = Prepared::new(labels, probs, Some(DEFAULT_ROW_SUM_TOLERANCE))?;
    Ok(prep.thresholds())
}

/// Steps 1-3: the confident joint, as `cleanlab.count.compute_confident_joint(labels,
/// pred_probs, calibrate=...)`. Indexed `[given label][guessed true label]`.
pub fn compute_confident_joint(
    labels: &[usize],
    probs: ProbMatrix<'_>,
    calibrate_joint: bool,
    numpy_sort: NumpySort,
) -> Result<Vec<Vec<usize>>, LabelError> {
    let prep = Prepared::new(labels, probs, Some(DEFAULT_ROW_SUM_TOLERANCE))?;
    let (raw, _) = prep.confident_joint(&prep.thresholds(), false);
    let flat = if calibrate_joint {
        calibrate(&raw, &prep.counts, numpy_sort)
    } else {
        raw
    };
    Ok(to_matrix(&flat, prep.k()))
}

fn joint_from_calibrated(calibrated: &[usize], k: usize) -> Vec<Vec<f64>> {
    let total: usize = calibrated.iter().sum();
    let total = total.max(1) as f64;
    let flat: Vec<f64> = calibrated.iter().map(|&c| c as f64 / total).collect();
    to_matrix(&flat, k)
}

/// Step 8: the estimated joint distribution `p(given, true)` = calibrated confident joint
/// divided by its sum, as `cleanlab.count.estimate_joint`.
pub fn estimate_joint(
    labels: &[usize],
    probs: ProbMatrix<'_>,
    numpy_sort: NumpySort,
) -> Result<Vec<Vec<f64>>, LabelError> {
    let prep = Prepared::new(labels, probs, Some(DEFAULT_ROW_SUM_TOLERANCE))?;
    let (raw, _) = prep.confident_joint(&prep.thresholds(), false);
    Ok(joint_from_calibrated(
        &calibrate(&raw, &prep.counts, numpy_sort),
        prep.k(),
    ))
}

/// Step 7 alone: one score per row, as `cleanlab.rank.get_label_quality_scores(labels,
/// pred_probs, method=...)`.
pub fn label_quality_scores(
    labels: &[usize],
    probs: ProbMatrix<'_>,
    method: ScoreMethod,
) -> Result<Vec<f64>, LabelError> {
    let prep = Prepared::new(labels, probs, Some(DEFAULT_ROW_SUM_TOLERANCE))?;
    Ok(scores_of(&prep, method))
}

/// Steps 1-8: which rows look mislabelled, as `cleanlab.filter.find_label_issues` (with
/// `frac_noise=1`, no `num_to_remove_per_class`, single-label). `labels[i]` is row i's given
/// class in `0..K`; `probs` holds out-of-sample predicted probabilities.
pub fn find_label_issues(
    labels: &[usize],
    probs: ProbMatrix<'_>,
    options: &ConfidentLearningOptions,
) -> Result<LabelIssues, LabelError> {
    let prep = Prepared::new(labels, probs, options.row_sum_tolerance)?;
    let k = prep.k();
    let n = labels.len();
    let min_per_class = options.min_examples_per_class;
    let sort = options.numpy_sort;

    let thresholds = prep.thresholds();
    let want_off = options.filter_by == FilterBy::ConfidentLearning;
    let (raw, off_diagonal) = prep.confident_joint(&thresholds, want_off);
    let calibrated = calibrate(&raw, &prep.counts, options.numpy_sort);
    let prune = prune_matrix(&calibrated, k, min_per_class);

    // Step 5.
    let by_noise = matches!(
        options.filter_by,
        FilterBy::PruneByNoiseRate | FilterBy::Both | FilterBy::PruneByNoiseRatePooled
    );
    let by_class = matches!(options.filter_by, FilterBy::PruneByClass | FilterBy::Both);
    let mut mask_noise = if by_noise { vec![false; n] } else { Vec::new() };
    let mut mask_class = if by_class { vec![false; n] } else { Vec::new() };
    let mut buf: Vec<(f64, usize)> = Vec::new();
    if by_noise || by_class {
        for class in 0..k {
            let n_k = prep.counts[class];
            if n_k <= min_per_class {
                continue;
            }
            let rows = prep.class_rows(class);
            if by_class {
                let take = n_k.saturating_sub(prune[class * k + class]);
                let key = |i: usize| probs.row(i)[class];
                mark_extreme(rows, key, take, true, sort, &mut buf, &mut mask_class);
            }
            if by_noise {
                for other in (0..k).filter(|&j| j != class) {
                    let take = prune[other * k + class];
                    if take == 0 {
                        continue;
                    }
                    let key = |i: usize| {
                        let p = probs.row(i);
                        p[other] - p[class]
                    };
                    mark_extreme(rows, key, take, false, sort, &mut buf, &mut mask_noise);
                }
            }
        }
    }
    drop(buf);

    let mut is_issue: Vec<bool> = match options.filter_by {
        FilterBy::PruneByNoiseRate | FilterBy::PruneByNoiseRatePooled => mask_noise,
        FilterBy::PruneByClass => mask_class,
        FilterBy::Both => mask_noise
            .iter()
            .zip(&mask_class)
            .map(|(&a, &b)| a && b)
            .collect(),
        FilterBy::ConfidentLearning => off_diagonal,
        FilterBy::PredictedNeqGiven => labels
            .iter()
            .enumerate()
            .map(|(i, &given)| argmax(probs.row(i)) != given)
            .collect(),
    };
    // Step 6.
    for (i, flag) in is_issue.iter_mut().enumerate() {
        if *flag && given_label_wins(probs.row(i), labels[i]) {
            *flag = false;
        }
    }

    // Step 7: only the flagged rows are sorted.
    let scores = scores_of(&prep, options.rank_by);
    let ranked_issues: Vec<usize> = if options.filter_by == FilterBy::PruneByNoiseRatePooled {
        // Already in ranking order.
        let count = is_issue.iter().filter(|&&f| f).count();
        let taken = lowest_within_class_limits(&scores, labels, &prep.counts, min_per_class, count);
        is_issue = vec![false; n];
        for &i in &taken {
            is_issue[i] = true;
        }
        taken
    } else {
        let mut flagged: Vec<usize> = (0..n).filter(|&i| is_issue[i]).collect();
        flagged.sort_by(|&a, &b| cmp_f64(scores[a], scores[b]).then(a.cmp(&b)));
        flagged
    };

    let suggested_label = (0..n).map(|i| argmax(probs.row(i))).collect();

    Ok(LabelIssues {
        n_rows: n,
        n_classes: k,
        filter_by: options.filter_by,
        rank_by: options.rank_by,
        min_examples_per_class: min_per_class,
        thresholds,
        confident_joint_uncalibrated: to_matrix(&raw, k),
        joint: joint_from_calibrated(&calibrated, k),
        confident_joint: to_matrix(&calibrated, k),
        prune_matrix: to_matrix(&prune, k),
        class_counts: prep.counts,
        is_issue,
        ranked_issues,
        scores,
        suggested_label,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    /// `labels_cleanlab.json` was generated with numpy's portable sort (see
    /// `gen_labels_cleanlab.py`), so the tests against it ask for that tie order.
    const PORTABLE: NumpySort = NumpySort::Portable;

    #[derive(Deserialize)]
    struct Fixture {
        meta: serde_json::Value,
        cases: Vec<Case>,
    }

    #[derive(Deserialize)]
    struct Case {
        name: String,
        n_rows: usize,
        n_classes: usize,
        labels: Vec<usize>,
        pred_probs: Vec<f64>,
        thresholds: Vec<f64>,
        confident_joint_uncalibrated: Vec<Vec<usize>>,
        confident_joint: Vec<Vec<usize>>,
        estimate_joint: Vec<Vec<f64>>,
        /// "method/min_examples_per_class" -> flagged rows, or {"error": ...}
        issues: BTreeMap<String, serde_json::Value>,
        scores: BTreeMap<String, Vec<f64>>,
        ranked: BTreeMap<String, Vec<usize>>,
    }

    fn fixture() -> Fixture {
        serde_json::from_str(include_str!(
            "../../../../fixtures/reference/labels_cleanlab.json"
        ))
        .unwrap()
    }

    /// The same cases run through cleanlab with numpy's SIMD sort (`--native-sort` on an
    /// AVX-512 machine), paired with the tie order each was generated with.
    fn fixtures() -> [(Fixture, NumpySort); 2] {
        let simd = serde_json::from_str(include_str!(
            "../../../../fixtures/reference/labels_cleanlab_simd.json"
        ))
        .unwrap();
        [(fixture(), PORTABLE), (simd, NumpySort::Simd)]
    }

    fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: length");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tol, "{what}[{i}]: {x} vs {y}");
        }
    }

    #[test]
    fn fixture_was_generated_with_cleanlab_2_9() {
        let f = fixture();
        let v = f.meta["cleanlab"].as_str().unwrap();
        assert!(v.starts_with("2.9"), "{v}");
        assert!(f.cases.len() >= 5);
    }

    #[test]
    fn thresholds_and_joints_match_cleanlab() {
        for (f, sort) in fixtures() {
            assert_eq!(
                f.meta["npy_disable_cpu_features"].is_null(),
                sort == NumpySort::Simd
            );
            for c in f.cases {
                let name = format!("{} {sort}", c.name);
                let p = ProbMatrix::new(&c.pred_probs, c.n_rows, c.n_classes).unwrap();
                let t = confident_thresholds(&c.labels, p).unwrap();
                assert_close(&t, &c.thresholds, 0.0, &format!("{name} thresholds"));
                let raw = compute_confident_joint(&c.labels, p, false, sort).unwrap();
                assert_eq!(raw, c.confident_joint_uncalibrated, "{name} raw joint");
                let cal = compute_confident_joint(&c.labels, p, true, sort).unwrap();
                assert_eq!(cal, c.confident_joint, "{name} calibrated joint");
                let joint = estimate_joint(&c.labels, p, sort).unwrap();
                for (a, b) in joint.iter().zip(&c.estimate_joint) {
                    assert_close(a, b, 1e-15, &format!("{name} estimate_joint"));
                }
            }
        }
    }

    #[test]
    fn scores_match_cleanlab() {
        for c in fixture().cases {
            let p = ProbMatrix::new(&c.pred_probs, c.n_rows, c.n_classes).unwrap();
            for m in ScoreMethod::ALL {
                let s = label_quality_scores(&c.labels, p, m).unwrap();
                assert_close(&s, &c.scores[m.as_str()], 1e-12, &format!("{} {m}", c.name));
            }
        }
    }

    #[test]
    fn masks_match_cleanlab_for_every_method() {
        let mut compared = 0;
        for (c, sort) in fixtures()
            .into_iter()
            .flat_map(|(f, sort)| f.cases.into_iter().map(move |c| (c, sort)))
        {
            let p = ProbMatrix::new(&c.pred_probs, c.n_rows, c.n_classes).unwrap();
            for (key, expected) in &c.issues {
                let (method, mepc) = key.split_once('/').unwrap();
                let Some(expected) = expected.as_array() else {
                    // cleanlab refused (fewer than 2 classes given); we do not.
                    continue;
                };
                let expected: Vec<usize> = expected
                    .iter()
                    .map(|v| v.as_u64().unwrap() as usize)
                    .collect();
                let options = ConfidentLearningOptions {
                    filter_by: method.parse().unwrap(),
                    min_examples_per_class: mepc.parse().unwrap(),
                    numpy_sort: sort,
                    ..Default::default()
                };
                let r = find_label_issues(&c.labels, p, &options).unwrap();
                let got: Vec<usize> = (0..c.n_rows).filter(|&i| r.is_issue[i]).collect();
                assert_eq!(got, expected, "{} {key} {sort}", c.name);
                compared += 1;
            }
        }
        assert!(compared >= 100, "{compared}");
    }

    /// cleanlab orders equal scores with numpy's unstable sort; we take the lower row first.
    /// So: the same rows, and position by position the same score.
    #[test]
    fn ranking_matches_cleanlab_up_to_ties() {
        for (c, sort) in fixtures()
            .into_iter()
            .flat_map(|(f, sort)| f.cases.into_iter().map(move |c| (c, sort)))
        {
            let p = ProbMatrix::new(&c.pred_probs, c.n_rows, c.n_classes).unwrap();
            for m in ScoreMethod::ALL {
                let options = ConfidentLearningOptions {
                    rank_by: m,
                    numpy_sort: sort,
                    ..Default::default()
                };
                let r = find_label_issues(&c.labels, p, &options).unwrap();
                let expected = &c.ranked[m.as_str()];
                let mut a = r.ranked_issues.clone();
                let mut b = expected.clone();
                a.sort_unstable();
                b.sort_unstable();
                assert_eq!(a, b, "{} {m}: flagged rows", c.name);
                for (x, y) in r.ranked_issues.iter().zip(expected) {
                    assert_eq!(
                        r.scores[*x], r.scores[*y],
                        "{} {m}: rows {x} vs {y}",
                        c.name
                    );
                }
                if !c.name.contains("ties") {
                    assert_eq!(&r.ranked_issues, expected, "{} {m}", c.name);
                }
            }
        }
    }

    #[test]
    fn output_struct_is_consistent() {
        let f = fixture();
        let c = f.cases.iter().find(|c| c.name == "iris").unwrap();
        let p = ProbMatrix::new(&c.pred_probs, c.n_rows, c.n_classes).unwrap();
        let options = ConfidentLearningOptions {
            numpy_sort: PORTABLE,
            ..Default::default()
        };
        let r = find_label_issues(&c.labels, p, &options).unwrap();
        assert_eq!(r.confident_joint, c.confident_joint);
        assert_eq!(r.class_counts.iter().sum::<usize>(), c.n_rows);
        assert_eq!(r.n_issues(), r.is_issue.iter().filter(|&&b| b).count());
        // calibrated rows sum to the class counts, and the prune matrix is its transpose
        // when every diagonal already exceeds min_examples_per_class
        for (j, row) in r.confident_joint.iter().enumerate() {
            assert_eq!(row.iter().sum::<usize>(), r.class_counts[j]);
            for (k, &v) in row.iter().enumerate() {
                assert_eq!(r.prune_matrix[k][j], v);
            }
        }
        let total: f64 = r.joint.iter().flatten().sum();
        assert!((total - 1.0).abs() < 1e-12);
        for (i, &s) in r.suggested_label.iter().enumerate() {
            assert_eq!(s, argmax(p.row(i)));
        }
        // every flagged row has a suggestion different from its label (step 6)
        for &i in &r.ranked_issues {
            assert_ne!(r.suggested_label[i], c.labels[i]);
        }
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["filter_by"], "prune_by_noise_rate");
    }

    #[test]
    fn rounding_preserves_row_totals_with_documented_ties() {
        // values probed against cleanlab.internal.util.round_preserving_sum (portable sort)
        let third = 1.0 / 3.0;
        assert_eq!(
            round_preserving_sum(&[third, third, third], PORTABLE),
            vec![0, 0, 1]
        );
        assert_eq!(
            round_preserving_sum(&[2.0 * third; 3], PORTABLE),
            vec![0, 1, 1]
        );
        assert_eq!(
            round_preserving_sum(&[0.6; 5], PORTABLE),
            vec![0, 0, 1, 1, 1]
        );
        assert_eq!(round_preserving_sum(&[0.5; 4], PORTABLE), vec![0, 0, 1, 1]);
        assert_eq!(
            round_preserving_sum(&[1.5, 1.5, 0.0, 0.0], PORTABLE),
            vec![1, 2, 0, 0]
        );
        assert_eq!(
            round_preserving_sum(&[3.3, 2.2, 2.2, 3.3, 0.0], PORTABLE),
            vec![3, 2, 2, 4, 0]
        );
        assert_eq!(
            round_preserving_sum(&[3.5, 2.5, 1.0, 0.0], PORTABLE),
            vec![4, 2, 1, 0]
        );
    }

    /// The repro of issue 18 (`fixtures/reference/cleanlab_parity`): digits with 180
    /// flipped labels, 5-fold logistic-regression probabilities, and the rows cleanlab 2.9
    /// flags on an AVX-512 machine. Before [`NumpySort`], prune_by_noise_rate and both
    /// differed by five rows (cleanlab: 93, 496, 1573; preflight: 1078, 1742) because three
    /// calibrated rows rounded tied residuals the other way.
    fn parity_repro() -> (Vec<usize>, Vec<f64>, usize, serde_json::Value) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/reference/cleanlab_parity");
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        let probs_csv = read("digits_noisy_probs.csv");
        let mut lines = probs_csv.lines();
        let classes: Vec<&str> = lines.next().unwrap().split(',').collect();
        let probs: Vec<f64> = lines
            .flat_map(|l| l.split(','))
            .map(|v| v.parse().unwrap())
            .collect();
        let data = read("digits_noisy.csv");
        let mut lines = data.lines();
        let at = lines
            .next()
            .unwrap()
            .split(',')
            .position(|c| c == "label")
            .unwrap();
        let labels: Vec<usize> = lines
            .map(|l| {
                let v = l.split(',').nth(at).unwrap();
                classes.iter().position(|c| *c == v).unwrap()
            })
            .collect();
        let expected: serde_json::Value = serde_json::from_str(&read("expected.json")).unwrap();
        (labels, probs, classes.len(), expected)
    }

    /// `prune_by_noise_rate_pooled`: prune_by_noise_rate's count, the lowest
    /// self-confidence over all rows, but never the only row of a class (a class of at
    /// most `min_examples_per_class` rows is not pruned).
    #[test]
    fn pooled_takes_the_noise_rate_count_of_the_lowest_scores_within_class_limits() {
        let (n, k) = (90usize, 3usize);
        let mut x: u64 = 7;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        // Rows 0..89: classes 0 and 1 alternate, a tenth of them "flipped" (the model
        // prefers the other class); the last row is class 2's only row, which the model
        // doubts most of all.
        let mut labels = Vec::with_capacity(n);
        let mut probs = Vec::with_capacity(n * k);
        for i in 0..n {
            if i == n - 1 {
                labels.push(2);
                probs.extend([0.5, 0.49, 0.01]);
                continue;
            }
            let y = i % 2;
            let sure = 0.55 + 0.4 * next();
            let p_y = if i % 10 == 3 { 1.0 - sure } else { sure };
            let mut row = [0.0; 3];
            row[y] = p_y * 0.98;
            row[1 - y] = (1.0 - p_y) * 0.98;
            row[2] = 0.02;
            labels.push(y);
            probs.extend(row);
        }
        let p = ProbMatrix::new(&probs, n, k).unwrap();
        let run = |filter_by| {
            let options = ConfidentLearningOptions {
                filter_by,
                ..Default::default()
            };
            find_label_issues(&labels, p, &options).unwrap()
        };
        let by_noise = run(FilterBy::PruneByNoiseRate);
        let pooled = run(FilterBy::PruneByNoiseRatePooled);
        let count = by_noise.n_issues();
        assert!(count >= 5, "{count}");
        assert_eq!(pooled.n_issues(), count);
        assert!(!pooled.is_issue[n - 1], "class 2's only row");
        let mut eligible: Vec<usize> = (0..n - 1).collect();
        eligible.sort_by(|&a, &b| probs[a * k + labels[a]].total_cmp(&probs[b * k + labels[b]]));
        let mut want: Vec<usize> = eligible[..count].to_vec();
        want.sort_unstable();
        let got: Vec<usize> = (0..n).filter(|&i| pooled.is_issue[i]).collect();
        assert_eq!(got, want);
        // Ranked lowest score first.
        let scores: Vec<f64> = pooled
            .ranked_issues
            .iter()
            .map(|&i| pooled.scores[i])
            .collect();
        assert!(scores.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn cleanlab_parity_repro_every_filter_by() {
        let (labels, probs, k, expected) = parity_repro();
        assert_eq!(labels.len(), 1797);
        let p = ProbMatrix::new(&probs, labels.len(), k).unwrap();
        for filter_by in FilterBy::CLEANLAB {
            let options = ConfidentLearningOptions {
                filter_by,
                ..Default::default()
            };
            let r = find_label_issues(&labels, p, &options).unwrap();
            let got: Vec<usize> = (0..labels.len()).filter(|&i| r.is_issue[i]).collect();
            let want: Vec<usize> = expected["flagged_rows"][filter_by.as_str()]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(got, want, "{filter_by}");
        }
    }

    /// The departure itself: row 0 of the calibrated joint. Residuals tie at classes 1, 2,
    /// 5 and 7 and three of them get the +1; the SIMD sort picks 1, 5 and 7, the portable
    /// (stable) sort 2, 5 and 7. Values from `cleanlab.count.compute_confident_joint` with
    /// and without `NPY_DISABLE_CPU_FEATURES`.
    #[test]
    fn cleanlab_parity_repro_calibrated_row_depends_on_numpy_sort() {
        let (labels, probs, k, _) = parity_repro();
        let p = ProbMatrix::new(&probs, labels.len(), k).unwrap();
        let simd = compute_confident_joint(&labels, p, true, NumpySort::Simd).unwrap();
        let portable = compute_confident_joint(&labels, p, true, PORTABLE).unwrap();
        assert_eq!(simd[0], vec![164, 3, 2, 1, 0, 3, 0, 3, 1, 1]);
        assert_eq!(portable[0], vec![164, 2, 3, 1, 0, 3, 0, 3, 1, 1]);
        assert_eq!(simd[1], vec![3, 157, 1, 2, 5, 1, 4, 0, 5, 3]);
        assert_eq!(portable[1], vec![3, 157, 1, 1, 5, 2, 4, 0, 5, 3]);
    }

    #[test]
    fn keep_at_least_n_matches_cleanlab_probes() {
        // (calibrated joint C, n) -> prune matrix, probed on cleanlab's
        // _keep_at_least_n_per_class (which receives C^T)
        let t = |m: [[usize; 3]; 3]| -> Vec<usize> {
            let mut c = vec![0; 9];
            for j in 0..3 {
                for k in 0..3 {
                    c[k * 3 + j] = m[j][k]; // the probe's input is M = C^T
                }
            }
            c
        };
        let flat = |m: [[usize; 3]; 3]| m.iter().flatten().copied().collect::<Vec<_>>();
        let m = [[1, 2, 3], [2, 5, 0], [4, 0, 5]];
        assert_eq!(
            prune_matrix(&t(m), 3, 3),
            flat([[3, 2, 3], [1, 5, 0], [3, 0, 5]])
        );
        assert_eq!(
            prune_matrix(&t(m), 3, 10),
            flat([[10, 0, 0], [0, 10, 0], [0, 0, 10]])
        );
        let m = [[0, 2, 3], [2, 5, 0], [4, 0, 0]];
        assert_eq!(
            prune_matrix(&t(m), 3, 3),
            flat([[3, 2, 0], [0, 5, 0], [1, 0, 3]])
        );
        let m = [[2, 1, 1], [1, 5, 0], [1, 0, 5]];
        assert_eq!(
            prune_matrix(&t(m), 3, 3),
            flat([[3, 1, 1], [0, 5, 0], [0, 0, 5]])
        );
        let m = [[1, 1, 1], [4, 5, 2], [4, 0, 5]];
        assert_eq!(
            prune_matrix(&t(m), 3, 4),
            flat([[4, 1, 1], [2, 5, 2], [2, 0, 5]])
        );
    }

    #[test]
    fn invalid_inputs_are_errors_not_panics() {
        let probs = [0.9, 0.1, 0.2, 0.8, 0.5, 0.5];
        let p = ProbMatrix::new(&probs, 3, 2).unwrap();
        let o = ConfidentLearningOptions::default();
        assert!(matches!(
            find_label_issues(&[0, 1], p, &o),
            Err(LabelError::LengthMismatch { .. })
        ));
        assert_eq!(
            find_label_issues(&[0, 2, 1], p, &o).unwrap_err(),
            LabelError::LabelOutOfRange {
                row: 1,
                label: 2,
                n_classes: 2
            }
        );
        let empty = ProbMatrix::new(&[], 0, 2).unwrap();
        assert_eq!(
            find_label_issues(&[], empty, &o).unwrap_err(),
            LabelError::Empty
        );
        let one = ProbMatrix::new(&[1.0, 1.0], 2, 1).unwrap();
        assert!(matches!(
            find_label_issues(&[0, 0], one, &o),
            Err(LabelError::TooFewClasses { n_classes: 1 })
        ));
        let nan = [0.9, 0.1, f64::NAN, 0.8];
        let p = ProbMatrix::new(&nan, 2, 2).unwrap();
        assert!(matches!(
            find_label_issues(&[0, 1], p, &o),
            Err(LabelError::NotFinite { row: 1, class: 0 })
        ));
        let logits = [2.0, -1.0, 0.5, 0.5];
        let p = ProbMatrix::new(&logits, 2, 2).unwrap();
        assert!(matches!(
            find_label_issues(&[0, 1], p, &o),
            Err(LabelError::OutOfUnitRange { .. })
        ));
        let unnormalised = [0.5, 0.4, 0.5, 0.5];
        let p = ProbMatrix::new(&unnormalised, 2, 2).unwrap();
        assert!(matches!(
            find_label_issues(&[0, 1], p, &o),
            Err(LabelError::RowSum { row: 0, .. })
        ));
        // cleanlab's own rule (range only) when the row-sum check is switched off
        let lenient = ConfidentLearningOptions {
            row_sum_tolerance: None,
            ..Default::default()
        };
        assert!(find_label_issues(&[0, 1], p, &lenient).is_ok());
        assert!("prune_by_magic".parse::<FilterBy>().is_err());
        assert_eq!("both".parse::<FilterBy>().unwrap(), FilterBy::Both);
        assert_eq!(
            "normalized_margin".parse::<ScoreMethod>().unwrap(),
            ScoreMethod::NormalizedMargin
        );
    }

    /// A deterministic N x K matrix: a noisy "model" that mostly agrees with the labels.
    fn synthetic(n: usize, k: usize) -> (Vec<usize>, Vec<f64>) {
        let mut next = crate::test_uniform(0x9E37_79B9_7F4A_7C15);
        let mut labels = Vec::with_capacity(n);
        let mut probs = Vec::with_capacity(n * k);
        for _ in 0..n {
            let truth = ((next() * k as f64) as usize).min(k - 1);
            let given = if next() < 0.1 {
                ((next() * k as f64) as usize).min(k - 1)
            } else {
                truth
            };
            labels.push(given);
            let start = probs.len();
            let mut sum = 0.0;
            for c in 0..k {
                let v = next() + if c == truth { 2.0 * next() } else { 0.0 };
                probs.push(v);
                sum += v;
            }
            for v in &mut probs[start..] {
                *v /= sum;
            }
        }
        (labels, probs)
    }

    #[test]
    fn empty_class_is_never_pruned_and_has_threshold_two() {
        let (mut labels, probs) = synthetic(500, 4);
        for l in &mut labels {
            if *l == 3 {
                *l = 0;
            }
        }
        let p = ProbMatrix::new(&probs, 500, 4).unwrap();
        let r = find_label_issues(&labels, p, &ConfidentLearningOptions::default()).unwrap();
        assert_eq!(r.thresholds[3], 2.0);
        assert_eq!(r.confident_joint[3], vec![0, 0, 0, 0]);
        assert_eq!(r.confident_joint_uncalibrated[3][3], 1);
        assert!(r.n_issues() > 0);
    }

    /// Run with `cargo test --release -- --ignored` to time 1M x 10.
    #[test]
    #[ignore = "timing; run in release"]
    fn million_rows_ten_classes_is_fast() {
        let (labels, probs) = synthetic(1_000_000, 10);
        let p = ProbMatrix::new(&probs, 1_000_000, 10).unwrap();
        for filter_by in FilterBy::ALL {
            let options = ConfidentLearningOptions {
                filter_by,
                rank_by: ScoreMethod::ConfidenceWeightedEntropy,
                ..Default::default()
            };
            let start = std::time::Instant::now();
            let r = find_label_issues(&labels, p, &options).unwrap();
            let secs = start.elapsed().as_secs_f64();
            eprintln!("{filter_by}: {} issues in {secs:.3} s", r.n_issues());
            assert!(secs < 2.0, "{filter_by} took {secs} s");
        }
    }
}
