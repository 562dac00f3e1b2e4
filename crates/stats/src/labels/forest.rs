//! A random forest for the built-in model: out-of-fold class probabilities from bagged,
//! histogram-split classification trees (Breiman's random forest as scikit-learn's
//! `RandomForestClassifier` defaults it: bootstrap samples, `sqrt(features)` candidates per
//! split, Gini impurity, trees grown until pure; probabilities are the mean of the leaves'
//! class shares).
//!
//! Differences from scikit-learn, each for speed or determinism:
//! - numeric features are cut into at most [`MAX_BINS`] quantile bins once, on all rows
//!   (label-free, as the encoding's standardisation), and splits are searched between bins;
//! - a one-hot group (a categorical input column) is one candidate feature whose splits
//!   are "category c against the rest", which is what a tree over the group's one-hot
//!   columns can do in one split;
//! - each tree has its own seeded generator (from the seed, fold and tree number) and the
//!   leaves' shares are summed in fixed point, so the probabilities are bit-identical
//!   whatever the number of threads and the order the trees finish in.
//!
//! Written here rather than taken from a crate: see the module docs of [`super::model`]
//! and the README's label-audit section for the comparison with smartcore's forest.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::features::FeatureMatrix;
use super::model::SplitMix64;
use crate::work::Work;

/// Trees per fold.
pub const FOREST_TREES: usize = 100;
/// Quantile bins per numeric feature.
pub const MAX_BINS: usize = 255;
/// Leaves hold at least this many (bootstrap-weighted) rows. 1 is scikit-learn's default;
/// see [`ForestOptions::min_leaf`].
pub const FOREST_MIN_LEAF: u32 = 1;

/// How the forest is grown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForestOptions {
    pub trees: usize,
    /// Rows (counted with their bootstrap multiplicity) a leaf must keep.
    pub min_leaf: u32,
    pub seed: u64,
}

impl Default for ForestOptions {
    fn default() -> Self {
        Self {
            trees: FOREST_TREES,
            min_leaf: FOREST_MIN_LEAF,
            seed: 0,
        }
    }
}

/// The features as the trees read them: one byte per row and feature, feature-major.
pub(crate) struct Binned {
    n: usize,
    /// Per feature: `n` bin (or category) codes.
    codes: Vec<Vec<u8>>,
    /// Per feature: whether its codes are categories (split one against the rest) rather
    /// than ordered bins (split at a threshold).
    categorical: Vec<bool>,
}

impl Binned {
    pub(crate) fn new(x: &FeatureMatrix) -> Self {
        let n = x.n_rows;
        let mut codes = Vec::new();
        let mut categorical = Vec::new();
        for &f in &x.dense {
            let values: Vec<f64> = (0..n)
                .map(|i| x.data[i * x.n_features + f])
                .map(|v| if v.is_finite() { v } else { 0.0 })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            sorted.dedup();
            // Upper edges of every bin but the last: value v goes to the number of edges below it.
            let edges: Vec<f64> = if sorted.len() <= MAX_BINS {
                sorted[..sorted.len().saturating_sub(1)].to_vec()
            } else {
                let mut all = values.clone();
                all.sort_by(f64::total_cmp);
                let mut e: Vec<f64> = (1..MAX_BINS)
                    .map(|q| all[(q * n / MAX_BINS).min(n - 1)])
                    .collect();
                e.dedup();
                // The largest value must be a bin of its own side of every edge.
                if e.last() == all.last() {
                    e.pop();
                }
                e
            };
            codes.push(
                values
                    .iter()
                    .map(|&v| edges.partition_point(|&e| e < v) as u8)
                    .collect(),
            );
            categorical.push(false);
        }
        for g in &x.groups {
            codes.push(g.code.iter().map(|&c| c.min(255) as u8).collect());
            categorical.push(true);
        }
        Self {
            n,
            codes,
            categorical,
        }
    }

    fn n_features(&self) -> usize {
        self.codes.len()
    }
}

#[derive(Debug, Clone, Copy)]
enum Node {
    /// Go left when the row's code is `<= code` (ordered) or `== code` (categorical).
    Split {
        feature: u32,
        code: u8,
        categorical: bool,
        left: u32,
        right: u32,
    },
    /// Class shares start at `leaf * k` in the tree's `shares`.
    Leaf(u32),
}

struct Tree {
    nodes: Vec<Node>,
    shares: Vec<f64>,
}

impl Tree {
    fn leaf_of(&self, b: &Binned, i: usize) -> usize {
        let mut at = 0usize;
        loop {
            match self.nodes[at] {
                Node::Leaf(l) => return l as usize,
                Node::Split {
                    feature,
                    code,
                    categorical,
                    left,
                    right,
                } => {
                    let c = b.codes[feature as usize][i];
                    let go_left = if categorical { c == code } else { c <= code };
                    at = if go_left { left } else { right } as usize;
                }
            }
        }
    }
}

/// Scratch space of one tree's split search.
struct Scratch {
    /// 256 codes x k weighted class counts.
    hist: Vec<f64>,
    touched: Vec<u8>,
    seen: [bool; 256],
    left: Vec<f64>,
    features: Vec<usize>,
}

/// Grows one tree on rows with bootstrap weights `weight` (rows of weight 0 are not in the
/// sample).
fn grow(
    b: &Binned,
    rows: &[usize],
    weight: &[u32],
    labels: &[usize],
    k: usize,
    min_leaf: u32,
    rng: &mut SplitMix64,
) -> Tree {
    let p = b.n_features();
    let mtry = ((p as f64).sqrt().floor() as usize).clamp(1, p.max(1));
    let mut idx: Vec<usize> = rows.iter().copied().filter(|&i| weight[i] > 0).collect();
    let mut nodes = Vec::new();
    let mut shares = Vec::new();
    let mut sc = Scratch {
        hist: vec![0.0; 256 * k],
        touched: Vec::new(),
        seen: [false; 256],
        left: vec![0.0; k],
        features: (0..p).collect(),
    };
    // (node index to fill, start, end) of `idx`.
    nodes.push(Node::Leaf(0));
    let mut stack = vec![(0usize, 0usize, idx.len())];
    let min_leaf = f64::from(min_leaf.max(1));
    let mut counts = vec![0.0; k];
    while let Some((at, start, end)) = stack.pop() {
        let part = &mut idx[start..end];
        counts.iter_mut().for_each(|c| *c = 0.0);
        for &i in part.iter() {
            counts[labels[i]] += f64::from(weight[i]);
        }
        let total: f64 = counts.iter().sum();
        let pure = counts.iter().filter(|&&c| c > 0.0).count() <= 1;
        let split = if pure || total < 2.0 * min_leaf {
            None
        } else {
            best_split(
                b, part, weight, labels, k, &counts, min_leaf, mtry, rng, &mut sc,
            )
        };
        match split {
            None => {
                let leaf = shares.len() / k;
                shares.extend(counts.iter().map(|c| c / total.max(1.0)));
                nodes[at] = Node::Leaf(leaf as u32);
            }
            Some((feature, code, categorical)) => {
                let col = &b.codes[feature];
                // Partition in place: left rows first, in their current order.
                let mut mid = 0;
                for j in 0..part.len() {
                    let c = col[part[j]];
                    if (categorical && c == code) || (!categorical && c <= code) {
                        part.swap(mid, j);
                        mid += 1;
                    }
                }
                let (left, right) = (nodes.len(), nodes.len() + 1);
                nodes.push(Node::Leaf(0));
                nodes.push(Node::Leaf(0));
                nodes[at] = Node::Split {
                    feature: feature as u32,
                    code,
                    categorical,
                    left: left as u32,
                    right: right as u32,
                };
                stack.push((right, start + mid, end));
                stack.push((left, start, start + mid));
            }
        }
    }
    Tree { nodes, shares }
}

/// `sum_c n_c^2 / n`: the larger, the purer (Gini impurity is `1 - that / n`).
fn purity(counts: &[f64], n: f64) -> f64 {
    if n <= 0.0 {
        return 0.0;
    }
    counts.iter().map(|c| c * c).sum::<f64>() / n
}

/// The best split of `part` over `mtry` features drawn at random: (feature, code,
/// categorical), or `None` when no drawn feature splits the rows with `min_leaf` rows a
/// side and a lower impurity.
fn best_split(
    b: &Binned,
    part: &[usize],
    weight: &[u32],
    labels: &[usize],
    k: usize,
    counts: &[f64],
    min_leaf: f64,
    mtry: usize,
    rng: &mut SplitMix64,
    sc: &mut Scratch,
) -> Option<(usize, u8, bool)> {
    let p = sc.features.len();
    let total: f64 = counts.iter().sum();
    let parent = purity(counts, total);
    let mut best: Option<(f64, usize, u8, bool)> = None;
    // A partial Fisher-Yates shuffle draws mtry distinct features.
    for t in 0..mtry.min(p) {
        let j = t + rng.below(p - t);
        sc.features.swap(t, j);
        let f = sc.features[t];
        let col = &b.codes[f];
        for &i in part {
            let c = col[i];
            if !sc.seen[c as usize] {
                sc.seen[c as usize] = true;
                sc.touched.push(c);
            }
            sc.hist[c as usize * k + labels[i]] += f64::from(weight[i]);
        }
        if sc.touched.len() > 1 {
            sc.touched.sort_unstable();
            let categorical = b.categorical[f];
            sc.left.iter_mut().for_each(|v| *v = 0.0);
            let mut n_left = 0.0;
            let last = sc.touched.len() - 1;
            for (r, &c) in sc.touched.iter().enumerate() {
                let h = &sc.hist[c as usize * k..(c as usize + 1) * k];
                let (score, nl) = if categorical {
                    let nl: f64 = h.iter().sum();
                    let right: f64 = h.iter().zip(counts).map(|(a, t)| (t - a) * (t - a)).sum();
                    (purity(h, nl) + right / (total - nl).max(1e-300), nl)
                } else {
                    if r == last {
                        break;
                    }
                    for (l, v) in sc.left.iter_mut().zip(h) {
                        *l += v;
                    }
                    n_left += h.iter().sum::<f64>();
                    let right: f64 = sc
                        .left
                        .iter()
                        .zip(counts)
                        .map(|(a, t)| (t - a) * (t - a))
                        .sum();
                    (
                        purity(&sc.left, n_left) + right / (total - n_left).max(1e-300),
                        n_left,
                    )
                };
                if nl < min_leaf || total - nl < min_leaf {
                    continue;
                }
                // Strictly better than the parent and than the best so far: ties keep the
                // first (features in draw order, codes ascending).
                if score > parent + 1e-12 * total && best.is_none_or(|bb| score > bb.0) {
                    best = Some((score, f, c, categorical));
                }
            }
        }
        for &c in &sc.touched {
            sc.seen[c as usize] = false;
            sc.hist[c as usize * k..(c as usize + 1) * k].fill(0.0);
        }
        sc.touched.clear();
    }
    best.map(|(_, f, c, cat)| (f, c, cat))
}

/// Fixed-point scale of the summed leaf shares (exact sums in any order; 2^40 keeps 12
/// decimals and leaves room for 2^23 trees).
const SCALE: f64 = (1u64 << 40) as f64;

/// Out-of-fold random-forest probabilities (row-major N x K): for each fold, a forest
/// grown on the other folds predicts it. Trees of all folds are shared among threads.
pub fn forest_oof(
    x: &FeatureMatrix,
    labels: &[usize],
    n_classes: usize,
    folds: &[usize],
    n_folds: usize,
    opts: &ForestOptions,
) -> Vec<f64> {
    forest_oof_in(
        &Binned::new(x),
        labels,
        n_classes,
        folds,
        n_folds,
        opts,
        &Work::default(),
    )
}

/// [`forest_oof`] over binned features, counting trees grown in `work`.
pub(crate) fn forest_oof_in(
    b: &Binned,
    labels: &[usize],
    n_classes: usize,
    folds: &[usize],
    n_folds: usize,
    opts: &ForestOptions,
    work: &Work,
) -> Vec<f64> {
    let (n, k) = (b.n, n_classes);
    let trees = opts.trees.max(1);
    work.begin("random forest trees", (n_folds * trees) as u64);
    let train: Vec<Vec<usize>> = (0..n_folds)
        .map(|f| (0..n).filter(|&i| folds[i] != f).collect())
        .collect();
    let test: Vec<Vec<usize>> = (0..n_folds)
        .map(|f| (0..n).filter(|&i| folds[i] == f).collect())
        .collect();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let sums: Vec<Vec<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut acc = vec![0u64; n * k];
                    let mut weight = vec![0u32; n];
                    loop {
                        let item = next.fetch_add(1, Ordering::Relaxed);
                        if item >= n_folds * trees {
                            break;
                        }
                        let (f, t) = (item / trees, item % trees);
                        let mut rng = SplitMix64::new(
                            opts.seed
                                ^ (f as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                                ^ (t as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
                        );
                        let rows = &train[f];
                        weight.iter_mut().for_each(|w| *w = 0);
                        for _ in 0..rows.len() {
                            weight[rows[rng.below(rows.len())]] += 1;
                        }
                        let tree = grow(b, rows, &weight, labels, k, opts.min_leaf, &mut rng);
                        for &i in &test[f] {
                            let l = tree.leaf_of(b, i);
                            for (a, &s) in acc[i * k..(i + 1) * k]
                                .iter_mut()
                                .zip(&tree.shares[l * k..(l + 1) * k])
                            {
                                *a += (s * SCALE).round() as u64;
                            }
                        }
                        work.add(1);
                    }
                    acc
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut probs = vec![0.0; n * k];
    for (i, row) in probs.chunks_mut(k).enumerate() {
        let summed: Vec<u64> = (0..k)
            .map(|c| sums.iter().map(|s| s[i * k + c]).sum())
            .collect();
        let total: u64 = summed.iter().sum();
        for (p, &s) in row.iter_mut().zip(&summed) {
            *p = if total == 0 {
                1.0 / k as f64
            } else {
                s as f64 / total as f64
            };
        }
    }
    probs
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::labels::model::stratified_folds;

    fn matrix(rows: &[Vec<f64>]) -> FeatureMatrix {
        let d = rows[0].len();
        FeatureMatrix {
            n_rows: rows.len(),
            n_features: d,
            data: rows.iter().flatten().copied().collect(),
            names: (0..d).map(|j| format!("f{j}")).collect(),
            skipped: vec![],
            groups: vec![],
            dense: (0..d).collect(),
        }
    }

    #[test]
    fn bins_keep_order_and_few_values_exactly() {
        let rows: Vec<Vec<f64>> = (0..1000)
            .map(|i| vec![(i % 7) as f64, (i as f64 * 0.37).sin()])
            .collect();
        let b = Binned::new(&matrix(&rows));
        // Seven distinct values: seven bins, in order.
        for i in 0..1000 {
            assert_eq!(b.codes[0][i] as usize, i % 7);
        }
        // Many values: at most MAX_BINS bins, monotone in the value.
        let mut pairs: Vec<(f64, u8)> = (0..1000).map(|i| (rows[i][1], b.codes[1][i])).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(pairs.windows(2).all(|w| w[0].1 <= w[1].1));
        assert!((pairs.last().unwrap().1 as usize) < MAX_BINS);
        assert!(pairs.last().unwrap().1 > 200, "{:?}", pairs.last());
    }

    #[test]
    fn a_tree_on_separable_data_is_pure_and_a_forest_predicts_out_of_fold() {
        let mut rng = SplitMix64::new(3);
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..300 {
            let c = i % 3;
            let a = c as f64 * 2.0 + rng.below(1000) as f64 / 1000.0;
            rows.push(vec![a, rng.below(1000) as f64]);
            labels.push(c);
        }
        let x = matrix(&rows);
        let folds = stratified_folds(&labels, 3, 5, 0);
        let opts = ForestOptions {
            trees: 20,
            ..ForestOptions::default()
        };
        let p = forest_oof(&x, &labels, 3, &folds, 5, &opts);
        let mut hits = 0;
        for (i, &y) in labels.iter().enumerate() {
            let row = &p[i * 3..i * 3 + 3];
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            hits += usize::from(row[y] > 0.5);
        }
        // One candidate feature per split (sqrt of 2), half of them the noise column, and
        // trees grown until pure: a few rows land in leaves that noise splits made.
        assert!(hits >= 270, "{hits} of 300");
        // Same seed, same bits; another seed, other trees.
        assert_eq!(p, forest_oof(&x, &labels, 3, &folds, 5, &opts));
        let other = ForestOptions { seed: 1, ..opts };
        assert_ne!(p, forest_oof(&x, &labels, 3, &folds, 5, &other));
    }
}
