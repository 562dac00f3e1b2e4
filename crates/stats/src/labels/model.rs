//! The built-in model: out-of-sample predicted probabilities from features alone, for
//! confident learning when the user has no model of their own.
//!
//! Two small models, hand-written (see the crate's README section for why no ML crate):
//! - [`knn_loo`]: leave-one-out k-nearest neighbours (k = 10, Euclidean distance on the
//!   standardised features, as cleanlab's Datalab): each row is predicted from its k nearest
//!   *other* rows (excluded by index, so exact duplicates still count). Probabilities are the
//!   smoothed vote shares `(votes_c + 1/K) / (k + 1)`. Brute force, O(N^2 d): used up to
//!   [`KNN_MAX_ROWS`] rows.
//! - [`logistic_oof`]: multinomial logistic regression (softmax, L2 penalty as scikit-learn's
//!   `C = 1`, intercept unpenalised) fitted by L-BFGS, out of fold over a stratified, seeded
//!   k-fold split ([`stratified_folds`]); folds run in parallel.
//! - [`Model::Ensemble`]: the mean of the two.
//!
//! Chosen by measurement (benches/labels.rs, `fixtures/reference/labels_noise.json`): see
//! [`Model::Auto`]. No ML crate: neither linfa nor smartcore offers leave-one-out k-NN
//! probabilities that exclude the row by index, and the logistic regression is ~150 lines.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::LabelError;
use super::features::FeatureMatrix;
use super::forest::{Binned, ForestOptions, forest_oof_in};
use crate::work::Work;

/// Neighbours per row in the k-NN model and the near-duplicate check.
pub const KNN_K: usize = 10;
/// Above this many rows the O(N^2) neighbour search is skipped: `auto` uses logistic
/// regression alone and the near-duplicate check is not run.
pub const KNN_MAX_ROWS: usize = 20_000;
/// Above this many rows `auto` does not grow the random forest (an explicit `--model
/// forest` still does): see the README's speed figures.
pub const FOREST_MAX_ROWS: usize = 10_000;

/// Which built-in model gives the probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Up to [`KNN_MAX_ROWS`] rows, k-NN, logistic regression and (up to
    /// [`FOREST_MAX_ROWS`]) the random forest are all run and the mean of their
    /// probabilities is used; logistic regression alone above. Each of
    /// [`AUTO_CANDIDATES`]' out-of-sample log loss of the given labels is reported.
    ///
    /// History (issue 18): `auto` used to choose one candidate by that log loss (the
    /// lowest; then logistic regression unless another was 2 standard errors lower). On
    /// the wide detection benchmark under 10 fold seeds (README), with the built-in
    /// model's filter ([`super::FilterBy::PruneByNoiseRatePooled`]), the plain mean of the
    /// three had the highest mean median F1 (0.713) and was at or above cleanlab's median
    /// on 38 of 40 cases; choosing by log loss gave 0.698 and 36, and a stacked mean
    /// weighted to fit the given labels best 0.706 and 38 (lower on iris: the local
    /// models fit systematic label flips, which lowers their loss of the *given* labels
    /// without making them better judges of which are wrong).
    #[default]
    Auto,
    Knn,
    Logistic,
    Ensemble,
    /// A random forest out of fold ([`super::forest`]).
    Forest,
    /// The mean of k-NN's and the forest's probabilities.
    #[serde(rename = "knn+forest")]
    KnnForest,
    /// The mean of logistic regression's and the forest's probabilities.
    #[serde(rename = "logistic+forest")]
    LogisticForest,
    /// The mean of all three models' probabilities.
    #[serde(rename = "knn+logistic+forest")]
    Mean3,
}

impl Model {
    pub const ALL: [Model; 8] = [
        Self::Auto,
        Self::Knn,
        Self::Logistic,
        Self::Ensemble,
        Self::Forest,
        Self::KnnForest,
        Self::LogisticForest,
        Self::Mean3,
    ];

    /// The models whose probabilities this one averages (itself for a single model).
    pub fn members(self) -> &'static [Model] {
        match self {
            Self::Auto => &[],
            Self::Knn => &[Self::Knn],
            Self::Logistic => &[Self::Logistic],
            Self::Forest => &[Self::Forest],
            Self::Ensemble => &[Self::Knn, Self::Logistic],
            Self::KnnForest => &[Self::Knn, Self::Forest],
            Self::LogisticForest => &[Self::Logistic, Self::Forest],
            Self::Mean3 => &[Self::Knn, Self::Logistic, Self::Forest],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Knn => "knn",
            Self::Logistic => "logistic",
            Self::Ensemble => "ensemble",
            Self::Forest => "forest",
            Self::KnnForest => "knn+forest",
            Self::LogisticForest => "logistic+forest",
            Self::Mean3 => "knn+logistic+forest",
        }
    }

    /// One line saying what the model is (the CLI's help for each choice).
    pub fn about(self) -> &'static str {
        match self {
            Self::Auto => {
                "up to 20,000 rows the mean of k-NN, logistic regression and the random forest (up to 10,000 rows); logistic regression above"
            }
            Self::Knn => "leave-one-out k-NN",
            Self::Logistic => "logistic regression in stratified k-fold cross-validation",
            Self::Ensemble => "the mean of k-NN's and logistic regression's probabilities",
            Self::Forest => "random forest (100 trees) in stratified k-fold cross-validation",
            Self::KnnForest => "the mean of k-NN's and the random forest's probabilities",
            Self::LogisticForest => {
                "the mean of logistic regression's and the random forest's probabilities"
            }
            Self::Mean3 => "the mean of k-NN's, logistic regression's and the random forest's",
        }
    }

    /// The models `Auto` runs at `n_rows` (all three; above [`FOREST_MAX_ROWS`] the
    /// forest is left out and their mean is `Ensemble`).
    pub fn resolve(self, n_rows: usize) -> Self {
        match self {
            Self::Auto if n_rows <= KNN_MAX_ROWS => Self::Mean3,
            Self::Auto => Self::Logistic,
            m => m,
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Model {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                LabelError::InvalidOption(format!(
                    "unknown model {s:?}; expected auto, knn, logistic, ensemble, forest, knn+forest, logistic+forest or knn+logistic+forest"
                ))
            })
    }
}

/// SplitMix64: a tiny seeded generator, enough for shuffling folds reproducibly.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by rejection so there is no modulo bias.
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let v = self.next_u64();
            if v < zone {
                return (v % n) as usize;
            }
        }
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Fold id (`0..n_folds`) per row: each class's rows are shuffled with `seed` and dealt
/// round-robin, continuing where the previous class stopped, so every fold gets
/// `n_k / n_folds` (+-1) rows of each class and the folds differ in size by at most one.
pub fn stratified_folds(
    labels: &[usize],
    n_classes: usize,
    n_folds: usize,
    seed: u64,
) -> Vec<usize> {
    let n_folds = n_folds.max(1);
    let mut rng = SplitMix64::new(seed);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &y) in labels.iter().enumerate() {
        if let Some(rows) = by_class.get_mut(y) {
            rows.push(i);
        }
    }
    let mut folds = vec![0; labels.len()];
    let mut next = 0;
    for rows in &mut by_class {
        rng.shuffle(rows);
        for &i in rows.iter() {
            folds[i] = next;
            next = (next + 1) % n_folds;
        }
    }
    folds
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The `k` nearest other rows of every row (ascending distance, ties by lower row), with
/// their Euclidean distances. O(N^2 (d + g)) time for d numeric features and g one-hot
/// groups (a group costs one term per pair, whatever its categories: see [`Design`]), rows
/// split across threads, candidates taken in cache-sized blocks.
pub fn nearest_neighbours(x: &FeatureMatrix, k: usize) -> Vec<Vec<(usize, f64)>> {
    neighbours_in(&Design::new(x), k, &Work::default())
}

/// Candidate rows whose distances are computed together: a block of distances and of each
/// numeric feature's values stays in the L1 cache.
const KNN_BLOCK: usize = 1024;

/// [`nearest_neighbours`] over a [`Design`], counting rows done in `work`.
fn neighbours_in(design: &Design<'_>, k: usize, work: &Work) -> Vec<Vec<(usize, f64)>> {
    let n = design.x.n_rows;
    work.begin("nearest neighbours", n as u64);
    let k = k.min(n.saturating_sub(1));
    let mut out: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    if k == 0 {
        return out;
    }
    let chunk = n.div_ceil(threads()).max(1);
    std::thread::scope(|s| {
        for (c, slot) in out.chunks_mut(chunk).enumerate() {
            s.spawn(move || {
                let mut dist = vec![0.0; KNN_BLOCK];
                for (off, neigh) in slot.iter_mut().enumerate() {
                    let i = c * chunk + off;
                    // The k best so far, sorted: (squared distance, row).
                    let mut best: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
                    for start in (0..n).step_by(KNN_BLOCK) {
                        let d = &mut dist[..KNN_BLOCK.min(n - start)];
                        design.squared_distances(i, start, d);
                        for (o, &dv) in d.iter().enumerate() {
                            let j = start + o;
                            if j == i || (best.len() == k && dv >= best[k - 1].0) {
                                continue;
                            }
                            let pos =
                                best.partition_point(|&(bd, bj)| bd < dv || (bd == dv && bj < j));
                            best.insert(pos, (dv, j));
                            best.truncate(k);
                        }
                    }
                    *neigh = best.into_iter().map(|(d, j)| (j, d.sqrt())).collect();
                    work.add(1);
                }
            });
        }
    });
    out
}

/// The feature matrix as the models read it: the numeric features apart (row-major for
/// scores, feature-major for distances), and each one-hot group as its rows' codes.
///
/// A group's standardised columns are all non-zero, but a row is in exactly one category:
/// two rows of the same category do not differ in the group at all, and rows of categories
/// `a != b` differ in two columns, by `1/sd_a` and `-1/sd_b`. So the group adds
/// `1/sd_a^2 + 1/sd_b^2` to a squared distance, and `w_a / sd_a` minus a constant to a
/// linear score: one term per group instead of one per category.
struct Design<'a> {
    x: &'a FeatureMatrix,
    /// Numeric features per row (n x dd).
    rows: Vec<f64>,
    /// The same, feature by feature (dd x n).
    cols: Vec<f64>,
    dd: usize,
    /// Per group: per category, `1 / sd^2` of its column (0 for a dropped column).
    inv_var: Vec<Vec<f64>>,
}

impl<'a> Design<'a> {
    fn new(x: &'a FeatureMatrix) -> Self {
        let (n, dd) = (x.n_rows, x.dense.len());
        let mut rows = Vec::with_capacity(n * dd);
        let mut cols = vec![0.0; n * dd];
        for i in 0..n {
            let xi = x.row(i);
            for (q, &f) in x.dense.iter().enumerate() {
                let v = xi.get(f).copied().unwrap_or(0.0);
                rows.push(v);
                cols[q * n + i] = v;
            }
        }
        let inv_var = x
            .groups
            .iter()
            .map(|g| {
                g.cols
                    .iter()
                    .map(|c| c.map_or(0.0, |(_, _, sd)| 1.0 / (sd * sd)))
                    .collect()
            })
            .collect();
        Self {
            x,
            rows,
            cols,
            dd,
            inv_var,
        }
    }

    /// Squared distances from row `i` to rows `start..start + out.len()`, into `out`.
    fn squared_distances(&self, i: usize, start: usize, out: &mut [f64]) {
        let n = self.x.n_rows;
        out.fill(0.0);
        for q in 0..self.dd {
            let col = &self.cols[q * n..(q + 1) * n];
            let a = col[i];
            for (o, &v) in out.iter_mut().zip(&col[start..]) {
                let t = v - a;
                *o += t * t;
            }
        }
        for (g, inv) in self.x.groups.iter().zip(&self.inv_var) {
            let ci = g.code[i];
            let a = inv[ci as usize];
            for (o, &cj) in out.iter_mut().zip(&g.code[start..]) {
                if cj != ci {
                    *o += a + inv[cj as usize];
                }
            }
        }
    }

    fn dense_row(&self, i: usize) -> &[f64] {
        &self.rows[i * self.dd..(i + 1) * self.dd]
    }
}

/// Leave-one-out k-NN probabilities (row-major N x K) from precomputed neighbours.
pub fn knn_loo(neighbours: &[Vec<(usize, f64)>], labels: &[usize], n_classes: usize) -> Vec<f64> {
    let kk = n_classes as f64;
    let mut probs = vec![0.0; labels.len() * n_classes];
    for (i, neigh) in neighbours.iter().enumerate() {
        let row = &mut probs[i * n_classes..(i + 1) * n_classes];
        for &(j, _) in neigh {
            if let Some(p) = row.get_mut(labels[j]) {
                *p += 1.0;
            }
        }
        let denom = neigh.len() as f64 + 1.0;
        for p in row.iter_mut() {
            *p = (*p + 1.0 / kk) / denom;
        }
    }
    probs
}

/// Multinomial logistic regression fitted on `rows` of `x`. Weights are `(d + 1) x K`
/// (last row: intercept), over every encoded feature.
struct Logistic {
    k: usize,
    w: Vec<f64>,
}

/// A model's weights as [`Design`] scores with them: the score every row starts from (the
/// intercept, less each group's constant), and per group and category what it adds.
struct Folded {
    base: Vec<f64>,
    /// Per group: category-major, `k` per category.
    terms: Vec<Vec<f64>>,
}

impl Folded {
    fn new(design: &Design<'_>, w: &[f64], k: usize) -> Self {
        let d = design.x.n_features;
        let mut base = w[d * k..(d + 1) * k].to_vec();
        let terms = design
            .x
            .groups
            .iter()
            .map(|g| {
                let mut t = vec![0.0; g.cols.len() * k];
                for (c, col) in g.cols.iter().enumerate() {
                    if let Some((f, mean, sd)) = *col {
                        for kk in 0..k {
                            let v = w[f * k + kk] / sd;
                            t[c * k + kk] = v;
                            base[kk] -= v * mean;
                        }
                    }
                }
                t
            })
            .collect();
        Self { base, terms }
    }

    /// Row `i`'s scores (before the softmax) into `out`.
    fn scores(&self, design: &Design<'_>, w: &[f64], i: usize, out: &mut [f64]) {
        let k = out.len();
        out.copy_from_slice(&self.base);
        for (&f, &v) in design.x.dense.iter().zip(design.dense_row(i)) {
            if v != 0.0 {
                for (o, &wv) in out.iter_mut().zip(&w[f * k..(f + 1) * k]) {
                    *o += v * wv;
                }
            }
        }
        for (g, t) in design.x.groups.iter().zip(&self.terms) {
            let c = g.code[i] as usize;
            for (o, &tv) in out.iter_mut().zip(&t[c * k..(c + 1) * k]) {
                *o += tv;
            }
        }
    }
}

impl Logistic {
    fn predict_into(&self, design: &Design<'_>, folded: &Folded, i: usize, out: &mut [f64]) {
        folded.scores(design, &self.w, i, out);
        softmax(out);
    }
}

fn softmax(z: &mut [f64]) {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    for v in z.iter_mut() {
        *v /= s;
    }
}

/// Mean cross-entropy plus `lambda / 2 * |W without intercept|^2`, and its gradient. A
/// group's gradient is summed per category and unfolded at the end (see [`Design`]): the
/// gradient of column `c` is `(sum over rows of category c of r - mean_c * sum of r) / sd_c`.
fn loss_grad(
    design: &Design<'_>,
    rows: &[usize],
    labels: &[usize],
    k: usize,
    lambda: f64,
    w: &[f64],
    grad: &mut [f64],
) -> f64 {
    let x = design.x;
    let d = x.n_features;
    let folded = Folded::new(design, w, k);
    grad.iter_mut().for_each(|g| *g = 0.0);
    let mut by_category: Vec<Vec<f64>> = x
        .groups
        .iter()
        .map(|g| vec![0.0; g.cols.len() * k])
        .collect();
    let mut total = vec![0.0; k];
    let mut p = vec![0.0; k];
    let mut loss = 0.0;
    for &i in rows {
        folded.scores(design, w, i, &mut p);
        softmax(&mut p);
        let y = labels[i];
        loss -= p[y].max(1e-300).ln();
        p[y] -= 1.0;
        for (&f, &v) in x.dense.iter().zip(design.dense_row(i)) {
            if v != 0.0 {
                for (gg, &r) in grad[f * k..(f + 1) * k].iter_mut().zip(&p) {
                    *gg += v * r;
                }
            }
        }
        for (g, acc) in x.groups.iter().zip(by_category.iter_mut()) {
            let c = g.code[i] as usize;
            for (a, &r) in acc[c * k..(c + 1) * k].iter_mut().zip(&p) {
                *a += r;
            }
        }
        for (t, &r) in total.iter_mut().zip(&p) {
            *t += r;
        }
    }
    for (g, acc) in x.groups.iter().zip(&by_category) {
        for (c, col) in g.cols.iter().enumerate() {
            if let Some((f, mean, sd)) = *col {
                for kk in 0..k {
                    grad[f * k + kk] = (acc[c * k + kk] - mean * total[kk]) / sd;
                }
            }
        }
    }
    grad[d * k..(d + 1) * k].copy_from_slice(&total);
    let n = rows.len().max(1) as f64;
    loss /= n;
    grad.iter_mut().for_each(|g| *g /= n);
    for (g, &wv) in grad.iter_mut().zip(w).take(d * k) {
        *g += lambda * wv;
        loss += 0.5 * lambda * wv * wv;
    }
    loss
}

/// scikit-learn's LogisticRegression stops L-BFGS at a projected-gradient max-norm of
/// `tol` = 1e-4 of the same mean loss; 1e-5 took about twice the iterations (20,000 encoded
/// flights: 1.1 s) for probabilities that differ in the fourth decimal.
const GRADIENT_TOL: f64 = 1e-4;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// L-BFGS (memory 10) with a backtracking Armijo line search; stops when the gradient's
/// max-norm is below [`GRADIENT_TOL`] or after `max_iter` iterations.
fn fit_logistic(
    design: &Design<'_>,
    rows: &[usize],
    labels: &[usize],
    k: usize,
    max_iter: usize,
) -> Logistic {
    let d = design.x.n_features;
    let dim = (d + 1) * k;
    // scikit-learn: C * sum(loss) + |w|^2 / 2 with C = 1, i.e. mean loss + |w|^2 / (2 n).
    let lambda = 1.0 / rows.len().max(1) as f64;
    let mut w = vec![0.0; dim];
    let mut g = vec![0.0; dim];
    let mut f = loss_grad(design, rows, labels, k, lambda, &w, &mut g);
    let m = 10;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut g_new = vec![0.0; dim];
    for _ in 0..max_iter {
        if g.iter().fold(0.0f64, |a, v| a.max(v.abs())) < GRADIENT_TOL {
            break;
        }
        // Two-loop recursion: direction = -H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(s_hist.len());
        for (s, y) in s_hist.iter().zip(&y_hist).rev() {
            let rho = 1.0 / dot(y, s);
            let a = rho * dot(s, &q);
            for (qi, yi) in q.iter_mut().zip(y) {
                *qi -= a * yi;
            }
            alphas.push((rho, a));
        }
        let gamma = match (s_hist.last(), y_hist.last()) {
            (Some(s), Some(y)) => dot(s, y) / dot(y, y),
            _ => 1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12),
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y), (rho, a)) in s_hist.iter().zip(&y_hist).zip(alphas.into_iter().rev()) {
            let b = rho * dot(y, &q);
            for (qi, si) in q.iter_mut().zip(s) {
                *qi += (a - b) * si;
            }
        }
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&g, &dir);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            dir = g.iter().map(|v| -v).collect();
            slope = dot(&g, &dir);
        }
        let mut step = 1.0;
        let mut w_new = vec![0.0; dim];
        let mut f_new;
        let mut tries = 0;
        loop {
            for ((wn, wv), dv) in w_new.iter_mut().zip(&w).zip(&dir) {
                *wn = wv + step * dv;
            }
            f_new = loss_grad(design, rows, labels, k, lambda, &w_new, &mut g_new);
            if f_new <= f + 1e-4 * step * slope || tries >= 30 {
                break;
            }
            step *= 0.5;
            tries += 1;
        }
        let s: Vec<f64> = w_new.iter().zip(&w).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let improvement = f - f_new;
        w.clone_from(&w_new);
        g.clone_from(&g_new);
        f = f_new;
        if dot(&s, &y) > 1e-12 {
            s_hist.push(s);
            y_hist.push(y);
            if s_hist.len() > m {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        if improvement.abs() < 1e-10 * (1.0 + f.abs()) {
            break;
        }
    }
    Logistic { k, w }
}

/// Out-of-fold logistic-regression probabilities (row-major N x K): for each fold, fit on
/// the other folds and predict it. Folds are fitted in parallel.
pub fn logistic_oof(
    x: &FeatureMatrix,
    labels: &[usize],
    n_classes: usize,
    folds: &[usize],
    n_folds: usize,
) -> Vec<f64> {
    logistic_oof_in(
        &Design::new(x),
        labels,
        n_classes,
        folds,
        n_folds,
        &Work::default(),
    )
}

/// [`logistic_oof`] over a [`Design`], counting folds fitted in `work`.
fn logistic_oof_in(
    design: &Design<'_>,
    labels: &[usize],
    n_classes: usize,
    folds: &[usize],
    n_folds: usize,
    work: &Work,
) -> Vec<f64> {
    work.begin("logistic regression folds", n_folds as u64);
    let k = n_classes;
    let n = labels.len();
    let max_iter = 200;
    let fitted: Vec<(Vec<usize>, Logistic)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n_folds)
            .map(|f| {
                s.spawn(move || {
                    let train: Vec<usize> = (0..n).filter(|&i| folds[i] != f).collect();
                    let test: Vec<usize> = (0..n).filter(|&i| folds[i] == f).collect();
                    let model = fit_logistic(design, &train, labels, k, max_iter);
                    work.add(1);
                    (test, model)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut probs = vec![1.0 / k as f64; n * k];
    for (test, model) in fitted {
        let folded = Folded::new(design, &model.w, model.k);
        for i in test {
            model.predict_into(design, &folded, i, &mut probs[i * k..(i + 1) * k]);
        }
    }
    probs
}

/// What [`out_of_sample_probabilities`] produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutOfSample {
    /// Row-major N x K.
    #[serde(skip)]
    pub probs: Vec<f64>,
    /// The concrete model used.
    pub model: Model,
    /// Folds actually used by logistic regression (`None` for k-NN alone).
    pub folds: Option<usize>,
    /// Nearest neighbours (when the k-NN search ran), for the near-duplicate check.
    #[serde(skip)]
    pub neighbours: Option<Vec<Vec<(usize, f64)>>>,
    /// For `auto`: each candidate's out-of-sample evidence (see [`candidate_evidence`]).
    /// Empty when one model was asked for.
    pub candidates: Vec<Candidate>,
}

/// Out-of-sample probabilities from the built-in model. `n_folds` must be at least 2.
pub fn out_of_sample_probabilities(
    x: &FeatureMatrix,
    labels: &[usize],
    n_classes: usize,
    model: Model,
    n_folds: usize,
    seed: u64,
) -> Result<OutOfSample, LabelError> {
    out_of_sample_probabilities_with(x, labels, n_classes, model, n_folds, seed, &Work::default())
}

/// [`out_of_sample_probabilities`], reporting its steps in `work`.
pub fn out_of_sample_probabilities_with(
    x: &FeatureMatrix,
    labels: &[usize],
    n_classes: usize,
    model: Model,
    n_folds: usize,
    seed: u64,
    work: &Work,
) -> Result<OutOfSample, LabelError> {
    if labels.len() != x.n_rows {
        return Err(LabelError::LengthMismatch {
            what: "labels vs feature rows",
            expected: x.n_rows,
            got: labels.len(),
        });
    }
    if labels.is_empty() {
        return Err(LabelError::Empty);
    }
    if n_classes < 2 {
        return Err(LabelError::TooFewClasses { n_classes });
    }
    if n_folds < 2 {
        return Err(LabelError::InvalidOption(format!(
            "cross-validation needs at least 2 folds, got {n_folds}"
        )));
    }
    let n = x.n_rows;
    // `auto` up to KNN_MAX_ROWS: every model, their mean used, every candidate's evidence
    // reported (see [`Model::Auto`]).
    let all_models = model == Model::Auto && n <= KNN_MAX_ROWS;
    // Built once, for whichever models run.
    let design = Design::new(x);
    let single = model.resolve(n);
    let forest_in_auto = all_models && n <= FOREST_MAX_ROWS;
    let needs = |m: Model| {
        if all_models {
            m != Model::Forest || forest_in_auto
        } else {
            single.members().contains(&m)
        }
    };
    let neighbours = needs(Model::Knn).then(|| neighbours_in(&design, KNN_K, work));
    let knn = neighbours.as_ref().map(|nb| knn_loo(nb, labels, n_classes));
    let folds = (needs(Model::Logistic) || needs(Model::Forest))
        .then(|| stratified_folds(labels, n_classes, n_folds, seed));
    let logistic = match (&folds, needs(Model::Logistic)) {
        (Some(f), true) => Some(logistic_oof_in(
            &design, labels, n_classes, f, n_folds, work,
        )),
        _ => None,
    };
    let forest = match (&folds, needs(Model::Forest)) {
        (Some(f), true) => {
            let opts = ForestOptions {
                seed,
                ..ForestOptions::default()
            };
            Some(forest_oof_in(
                &Binned::new(x),
                labels,
                n_classes,
                f,
                n_folds,
                &opts,
                work,
            ))
        }
        _ => None,
    };
    let base = |m: Model| match m {
        Model::Knn => knn.as_ref(),
        Model::Logistic => logistic.as_ref(),
        Model::Forest => forest.as_ref(),
        _ => None,
    };
    // A model's probabilities: its own, or the mean of its members' (None when a member
    // did not run).
    let probs_of = |m: Model| -> Option<Vec<f64>> {
        let parts: Option<Vec<&Vec<f64>>> = m.members().iter().map(|&b| base(b)).collect();
        let parts = parts?;
        let first = parts.first()?;
        if parts.len() == 1 {
            return Some((*first).clone());
        }
        let w = 1.0 / parts.len() as f64;
        Some(
            (0..first.len())
                .map(|i| parts.iter().map(|p| p[i]).sum::<f64>() * w)
                .collect(),
        )
    };
    let (probs, model, candidates) = if all_models {
        let runs: Vec<(Model, Vec<f64>)> = AUTO_CANDIDATES
            .iter()
            .filter_map(|&m| probs_of(m).map(|p| (m, p)))
            .collect();
        let candidates = candidate_evidence(&runs, labels, n_classes);
        // The mean of every model run: see [`Model::Auto`].
        let all = if forest_in_auto {
            Model::Mean3
        } else {
            Model::Ensemble
        };
        let probs = runs
            .into_iter()
            .find(|(m, _)| *m == all)
            .map(|(_, p)| p)
            .unwrap_or_default();
        (probs, all, candidates)
    } else {
        match probs_of(single) {
            Some(p) => (p, single, Vec::new()),
            None => return Err(LabelError::InvalidOption("no model".to_string())),
        }
    };
    Ok(OutOfSample {
        probs,
        model,
        folds: (model != Model::Knn).then_some(n_folds),
        neighbours,
        candidates,
    })
}

/// The candidates whose out-of-sample evidence `auto` reports, simplest first: the three
/// models and the equal-weight means of each pair and of all three (the last is what
/// `auto` uses). The forest and its means are left out above [`FOREST_MAX_ROWS`] rows.
pub const AUTO_CANDIDATES: [Model; 7] = [
    Model::Knn,
    Model::Logistic,
    Model::Forest,
    Model::Ensemble,
    Model::KnnForest,
    Model::LogisticForest,
    Model::Mean3,
];

/// One model `auto` compared, with the evidence: its out-of-sample log loss of the given
/// labels, and how it differs from logistic regression's row by row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Candidate {
    pub model: Model,
    pub log_loss: f64,
    /// Mean over rows of this model's log loss minus logistic regression's (negative:
    /// lower than logistic regression's).
    pub vs_logistic: f64,
    /// The standard error of that mean (the rows' differences' standard deviation over
    /// the square root of the row count).
    pub vs_logistic_se: f64,
}

/// Each candidate's out-of-sample log loss of the given labels, and its per-row
/// difference from logistic regression's (mean and standard error): the evidence `auto`
/// reports beside the mean it uses (see [`Model::Auto`]), for a user who wants to force
/// one model. Without logistic regression among the runs the differences are 0.
fn candidate_evidence(
    runs: &[(Model, Vec<f64>)],
    labels: &[usize],
    n_classes: usize,
) -> Vec<Candidate> {
    let n = labels.len();
    let row_loss = |p: &[f64]| -> Vec<f64> {
        labels
            .iter()
            .enumerate()
            .map(|(i, &y)| -p[i * n_classes + y].max(1e-15).ln())
            .collect()
    };
    let losses: Vec<(Model, Vec<f64>)> = runs.iter().map(|(m, p)| (*m, row_loss(p))).collect();
    let reference = losses
        .iter()
        .find(|(m, _)| *m == Model::Logistic)
        .map(|(_, l)| l.clone());
    let nf = n.max(1) as f64;
    losses
        .iter()
        .map(|(m, l)| {
            let log_loss = l.iter().sum::<f64>() / nf;
            let (vs, se) = match &reference {
                Some(r) if n > 1 => {
                    let d: Vec<f64> = l.iter().zip(r).map(|(a, b)| a - b).collect();
                    let mean = d.iter().sum::<f64>() / nf;
                    let var = d.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (nf - 1.0);
                    (mean, (var / nf).sqrt())
                }
                _ => (0.0, 0.0),
            };
            Candidate {
                model: *m,
                log_loss,
                vs_logistic: vs,
                vs_logistic_se: se,
            }
        })
        .collect()
}

/// Mean negative log probability of each row's given label (row-major N x K), each
/// probability floored at 1e-15 as scikit-learn's `log_loss` clips.
pub fn log_loss(probs: &[f64], labels: &[usize], n_classes: usize) -> f64 {
    let n = labels.len().max(1) as f64;
    labels
        .iter()
        .enumerate()
        .map(|(i, &y)| -probs[i * n_classes + y].max(1e-15).ln())
        .sum::<f64>()
        / n
}

/// How well flagged rows match known-bad rows (injected noise).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Detection {
    pub flagged: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Area under the ROC curve of `-score` against the truth (ties count one half).
    pub auroc: f64,
}

/// Precision, recall and F1 of `flagged` against `truth`, and the AUROC of `scores` (lower
/// score = more likely bad). All three slices have one entry per row.
pub fn detection(flagged: &[bool], truth: &[bool], scores: &[f64]) -> Detection {
    let tp = flagged
        .iter()
        .zip(truth)
        .filter(|(f, t)| **f && **t)
        .count() as f64;
    let n_flagged = flagged.iter().filter(|f| **f).count();
    let n_true = truth.iter().filter(|t| **t).count();
    let precision = if n_flagged == 0 {
        0.0
    } else {
        tp / n_flagged as f64
    };
    let recall = if n_true == 0 { 0.0 } else { tp / n_true as f64 };
    let f1 = if tp == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    // Mann-Whitney U with average ranks for ties.
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += (i..=j).filter(|&r| truth[order[r]]).count() as f64 * avg;
        i = j + 1;
    }
    let (pos, neg) = (n_true as f64, (truth.len() - n_true) as f64);
    let auroc = if pos == 0.0 || neg == 0.0 {
        f64::NAN
    } else {
        (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
    };
    Detection {
        flagged: n_flagged,
        precision,
        recall,
        f1,
        auroc,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn matrix(rows: &[[f64; 2]]) -> FeatureMatrix {
        FeatureMatrix {
            n_rows: rows.len(),
            n_features: 2,
            data: rows.iter().flatten().copied().collect(),
            names: vec!["a".into(), "b".into()],
            skipped: vec![],
            groups: vec![],
            dense: vec![0, 1],
        }
    }

    /// A table like the label audit's: two numbers (one with missing values) and two
    /// categorical columns (one with a null and more values than MAX_CATEGORIES keeps).
    fn mixed(n: usize) -> FeatureMatrix {
        use crate::labels::features::{MAX_CATEGORIES, RawColumn, encode};
        let mut rng = SplitMix64::new(11);
        let num = |rng: &mut SplitMix64, miss: bool| -> Vec<Option<f64>> {
            (0..n)
                .map(|_| (!miss || rng.below(9) > 0).then(|| rng.below(1000) as f64 / 7.0))
                .collect()
        };
        let a = num(&mut rng, false);
        let b = num(&mut rng, true);
        let c: Vec<Option<String>> = (0..n)
            .map(|_| (rng.below(20) > 0).then(|| ["x", "y", "z"][rng.below(3)].to_string()))
            .collect();
        let many: Vec<Option<String>> = (0..n)
            .map(|_| Some(format!("v{}", rng.below(MAX_CATEGORIES + 20))))
            .collect();
        let cols = vec![
            ("a".to_string(), RawColumn::Numeric(a)),
            ("c".to_string(), RawColumn::Categorical(c)),
            ("b".to_string(), RawColumn::Numeric(b)),
            ("many".to_string(), RawColumn::Categorical(many)),
        ];
        encode(&cols, n).unwrap()
    }

    /// The loss and gradient over every dense column, as computed before the one-hot
    /// groups were folded: the reference for [`loss_grad`].
    fn dense_loss_grad(
        x: &FeatureMatrix,
        rows: &[usize],
        labels: &[usize],
        k: usize,
        lambda: f64,
        w: &[f64],
        grad: &mut [f64],
    ) -> f64 {
        let d = x.n_features;
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut loss = 0.0;
        for &i in rows {
            let xi = x.row(i);
            let mut p = w[d * k..].to_vec();
            for (f, &v) in xi.iter().enumerate() {
                for kk in 0..k {
                    p[kk] += v * w[f * k + kk];
                }
            }
            softmax(&mut p);
            loss -= p[labels[i]].ln();
            p[labels[i]] -= 1.0;
            for (f, &v) in xi.iter().enumerate() {
                for kk in 0..k {
                    grad[f * k + kk] += v * p[kk];
                }
            }
            for kk in 0..k {
                grad[d * k + kk] += p[kk];
            }
        }
        let n = rows.len() as f64;
        loss /= n;
        grad.iter_mut().for_each(|g| *g /= n);
        for (g, &wv) in grad.iter_mut().zip(w).take(d * k) {
            *g += lambda * wv;
            loss += 0.5 * lambda * wv * wv;
        }
        loss
    }

    #[test]
    fn folded_groups_give_the_dense_distances_scores_and_gradients() {
        let n = 400;
        let x = mixed(n);
        // c: x, y, z and null; many: 50 values and "other".
        assert_eq!(x.groups.len(), 2);
        assert_eq!(x.groups[1].cols.len(), 51);
        assert_eq!(
            x.dense.len(),
            3,
            "a, b and b's missing indicator: {:?}",
            x.names
        );
        let design = Design::new(&x);
        let dense_sq = |i: usize, j: usize| -> f64 {
            x.row(i)
                .iter()
                .zip(x.row(j))
                .map(|(a, b)| (a - b) * (a - b))
                .sum()
        };
        let mut d = vec![0.0; n];
        for i in [0, 17, 233, n - 1] {
            design.squared_distances(i, 0, &mut d);
            for (j, &dv) in d.iter().enumerate() {
                let want = dense_sq(i, j);
                assert!(
                    (dv - want).abs() <= 1e-9 * (1.0 + want),
                    "{i} {j}: {dv} vs {want}"
                );
            }
            // A block further on gives the same distances.
            let mut part = vec![0.0; 50];
            design.squared_distances(i, 300, &mut part);
            assert_eq!(part, d[300..350]);
        }
        let k = 3;
        let mut rng = SplitMix64::new(5);
        let labels: Vec<usize> = (0..n).map(|_| rng.below(k)).collect();
        let w: Vec<f64> = (0..(x.n_features + 1) * k)
            .map(|_| rng.below(2001) as f64 / 1000.0 - 1.0)
            .collect();
        let rows: Vec<usize> = (0..n).filter(|i| i % 5 != 2).collect();
        let (mut g1, mut g2) = (vec![0.0; w.len()], vec![0.0; w.len()]);
        let l1 = loss_grad(&design, &rows, &labels, k, 0.01, &w, &mut g1);
        let l2 = dense_loss_grad(&x, &rows, &labels, k, 0.01, &w, &mut g2);
        assert!((l1 - l2).abs() < 1e-9 * l2.abs(), "{l1} vs {l2}");
        for (f, (a, b)) in g1.iter().zip(&g2).enumerate() {
            assert!(
                (a - b).abs() < 1e-9 * (1.0 + b.abs()),
                "gradient {f}: {a} vs {b}"
            );
        }
        // The neighbours found are the nearest by the dense distance.
        let nb = nearest_neighbours(&x, 5);
        for i in [3, 99, 398] {
            let mut all: Vec<f64> = (0..n).filter(|&j| j != i).map(|j| dense_sq(i, j)).collect();
            all.sort_by(f64::total_cmp);
            for (r, &(_, dist)) in nb[i].iter().enumerate() {
                assert!((dist * dist - all[r]).abs() < 1e-9 * (1.0 + all[r]));
            }
        }
    }

    #[test]
    fn detection_metrics() {
        let d = detection(
            &[true, true, false, false],
            &[true, false, true, false],
            &[0.1, 0.2, 0.3, 0.9],
        );
        assert_eq!(d.flagged, 2);
        assert!((d.precision - 0.5).abs() < 1e-12 && (d.recall - 0.5).abs() < 1e-12);
        // positives at scores 0.1 and 0.3, negatives 0.2 and 0.9: 3 of 4 pairs ordered.
        assert!((d.auroc - 0.75).abs() < 1e-12, "{}", d.auroc);
    }

    #[test]
    fn folds_are_stratified_balanced_and_seeded() {
        let labels: Vec<usize> = (0..103).map(|i| usize::from(i % 10 == 0)).collect();
        let f = stratified_folds(&labels, 2, 5, 7);
        assert_eq!(f, stratified_folds(&labels, 2, 5, 7));
        assert_ne!(f, stratified_folds(&labels, 2, 5, 8));
        for fold in 0..5 {
            let size = f.iter().filter(|&&x| x == fold).count();
            assert!((20..=21).contains(&size), "{size}");
            let ones = (0..103).filter(|&i| f[i] == fold && labels[i] == 1).count();
            assert!((2..=3).contains(&ones), "{ones}");
        }
    }

    #[test]
    fn knn_excludes_self_by_index_and_keeps_duplicates() {
        let x = matrix(&[[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [5.1, 5.0]]);
        let nb = nearest_neighbours(&x, 2);
        assert_eq!(nb[0][0], (1, 0.0));
        assert_eq!(nb[1][0], (0, 0.0));
        assert_eq!(nb[2][0].0, 3);
        let nb1 = nearest_neighbours(&x, 1);
        let p = knn_loo(&nb1, &[0, 0, 1, 1], 2);
        // row 0's one neighbour is its duplicate, row 1 (class 0)
        assert!((p[0] + p[1] - 1.0).abs() < 1e-12);
        assert!(p[0] > p[1]);
    }

    #[test]
    fn logistic_separates_separable_classes_out_of_fold() {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        let mut rng = SplitMix64::new(1);
        for i in 0..120 {
            let c = i % 3;
            let jitter = (rng.below(1000) as f64) / 1000.0 - 0.5;
            rows.push([c as f64 * 3.0 + jitter, -(c as f64) + jitter * 0.5]);
            labels.push(c);
        }
        let x = matrix(&rows);
        let folds = stratified_folds(&labels, 3, 5, 0);
        let p = logistic_oof(&x, &labels, 3, &folds, 5);
        for (i, &y) in labels.iter().enumerate() {
            let row = &p[i * 3..i * 3 + 3];
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            assert_eq!(super::super::argmax(row), y, "row {i}: {row:?}");
        }
    }
}
