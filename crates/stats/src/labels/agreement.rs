//! Several annotators per item (labels.md, "Several annotators"). Missing labels allowed.
//!
//! - [`Annotations`]: an items x annotators table of optional class ids (build it from ids
//!   or from strings).
//! - [`krippendorff_alpha_nominal`]: Krippendorff's alpha, nominal metric, via the
//!   coincidence matrix (as the `krippendorff` PyPI package).
//! - [`fleiss_kappa`] / [`fleiss_kappa_from_counts`]: Fleiss' kappa, only when every item has
//!   the same number (>= 2) of ratings.
//! - [`cohen_kappa`]: two raters on the items both labelled (as
//!   `sklearn.metrics.cohen_kappa_score`).
//! - [`majority_vote`]: consensus per item (as `cleanlab.multiannotator.get_majority_vote_label`
//!   when model probabilities are given).
//! - [`crowdlab`]: CROWDLAB's weighted consensus and annotator weights (labels.md; the model
//!   weight's `sqrt(mean labels per item)` factor is the CROWDLAB paper's).
//! - [`weighted_agreement`]: without probabilities, a vote weighted by each annotator's
//!   accuracy estimated from pairwise agreement (one-coin model, triplet method).
//! - [`agreement_report`]: all of the above plus per-annotator agreement and accuracy
//!   against gold labels.
//!
//! Every statistic that can be undefined (no pairs, a single category, ...) is an `Option`.

use std::collections::HashMap;

use serde::Serialize;

use super::{LabelError, ProbMatrix, argmax};

/// Floor of every CROWDLAB weight and of the most-likely-class error, so a weight is never
/// zero or negative and nothing divides by zero.
const CROWDLAB_FLOOR: f64 = 1e-6;

/// An items x annotators table of class ids in `0..n_classes`; `None` = not labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotations {
    n_items: usize,
    n_annotators: usize,
    n_classes: usize,
    /// Item-major: item i's labels are `labels[i * n_annotators..(i + 1) * n_annotators]`.
    labels: Vec<Option<u32>>,
}

impl Annotations {
    /// From item-major labels (`labels[i * n_annotators + j]` = annotator j's label of item i).
    pub fn new(
        labels: &[Option<usize>],
        n_items: usize,
        n_annotators: usize,
        n_classes: usize,
    ) -> Result<Self, LabelError> {
        if n_items.checked_mul(n_annotators) != Some(labels.len()) {
            return Err(LabelError::LengthMismatch {
                what: "annotations (items x annotators)",
                expected: n_items.saturating_mul(n_annotators),
                got: labels.len(),
            });
        }
        if n_items == 0 || n_annotators == 0 {
            return Err(LabelError::Empty);
        }
        if n_classes == 0 || u32::try_from(n_classes).is_err() {
            return Err(LabelError::InvalidOption(format!(
                "number of classes must be between 1 and {}, got {n_classes}",
                u32::MAX
            )));
        }
        let mut out = Vec::with_capacity(labels.len());
        for (pos, &label) in labels.iter().enumerate() {
            match label {
                None => out.push(None),
                Some(l) if l < n_classes => out.push(Some(l as u32)),
                Some(l) => {
                    return Err(LabelError::LabelOutOfRange {
                        row: pos / n_annotators,
                        label: l,
                        n_classes,
                    });
                }
            }
        }
        Ok(Self {
            n_items,
            n_annotators,
            n_classes,
            labels: out,
        })
    }

    /// From one row per item (all rows the same length: one entry per annotator).
    pub fn from_rows(rows: &[Vec<Option<usize>>], n_classes: usize) -> Result<Self, LabelError> {
        let n_annotators = rows.first().map_or(0, Vec::len);
        let mut flat = Vec::with_capacity(rows.len() * n_annotators);
        for row in rows {
            if row.len() != n_annotators {
                return Err(LabelError::LengthMismatch {
                    what: "annotators per item",
                    expected: n_annotators,
                    got: row.len(),
                });
            }
            flat.extend_from_slice(row);
        }
        Self::new(&flat, rows.len(), n_annotators, n_classes)
    }

    /// From string labels: classes are the distinct strings in sorted order (so ids are
    /// deterministic); returns the table and the class names.
    pub fn from_str_rows(rows: &[Vec<Option<&str>>]) -> Result<(Self, Vec<String>), LabelError> {
        let mut names: Vec<&str> = rows.iter().flatten().flatten().copied().collect();
        names.sort_unstable();
        names.dedup();
        let ids: Vec<Vec<Option<usize>>> = rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| v.and_then(|s| names.binary_search(&s).ok()))
                    .collect()
            })
            .collect();
        let table = Self::from_rows(&ids, names.len().max(1))?;
        Ok((table, names.into_iter().map(str::to_owned).collect()))
    }

    pub fn n_items(&self) -> usize {
        self.n_items
    }

    pub fn n_annotators(&self) -> usize {
        self.n_annotators
    }

    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Annotator `annotator`'s label of `item`, if any (out-of-range indices give `None`).
    pub fn get(&self, item: usize, annotator: usize) -> Option<usize> {
        if annotator >= self.n_annotators {
            return None;
        }
        self.labels
            .get(item * self.n_annotators + annotator)
            .copied()
            .flatten()
            .map(|l| l as usize)
    }

    /// One annotator's labels over all items.
    pub fn annotator(&self, annotator: usize) -> Vec<Option<usize>> {
        (0..self.n_items).map(|i| self.get(i, annotator)).collect()
    }

    fn item(&self, item: usize) -> &[Option<u32>] {
        &self.labels[item * self.n_annotators..(item + 1) * self.n_annotators]
    }

    /// The labels item `item` received, in annotator order (empty for out-of-range items).
    pub fn item_labels(&self, item: usize) -> Vec<usize> {
        self.labels
            .get(item * self.n_annotators..(item + 1) * self.n_annotators)
            .unwrap_or(&[])
            .iter()
            .flatten()
            .map(|&l| l as usize)
            .collect()
    }

    /// Number of labels each item received.
    pub fn labels_per_item(&self) -> Vec<usize> {
        (0..self.n_items)
            .map(|i| self.item(i).iter().flatten().count())
            .collect()
    }

    /// Per item, the count of each class (item-major, `n_items x n_classes`).
    fn class_counts(&self) -> Vec<usize> {
        let k = self.n_classes;
        let mut counts = vec![0usize; self.n_items * k];
        for i in 0..self.n_items {
            for &l in self.item(i).iter().flatten() {
                counts[i * k + l as usize] += 1;
            }
        }
        counts
    }
}

/// Krippendorff's alpha for nominal data with missing values. Units with fewer than two
/// labels are not pairable and are skipped. `None` when fewer than two pairable values
/// exist or every pairable value is the same category (expected disagreement 0).
pub fn krippendorff_alpha_nominal(annotations: &Annotations) -> Option<f64> {
    let k = annotations.n_classes;
    let counts = annotations.class_counts();
    // coincidence matrix o[c][k]
    let mut o = vec![0.0f64; k * k];
    let mut present: Vec<usize> = Vec::with_capacity(k);
    for unit in counts.chunks_exact(k) {
        let m: usize = unit.iter().sum();
        if m < 2 {
            continue;
        }
        present.clear();
        present.extend((0..k).filter(|&c| unit[c] > 0));
        let scale = 1.0 / (m - 1) as f64;
        for &c in &present {
            for &d in &present {
                let pairs = if c == d {
                    unit[c] * (unit[c] - 1)
                } else {
                    unit[c] * unit[d]
                };
                o[c * k + d] += pairs as f64 * scale;
            }
        }
    }
    let n_c: Vec<f64> = o.chunks_exact(k).map(|row| row.iter().sum()).collect();
    let n: f64 = n_c.iter().sum();
    let disagreement: f64 = (0..k)
        .flat_map(|c| (0..k).filter(move |&d| d != c).map(move |d| (c, d)))
        .map(|(c, d)| o[c * k + d])
        .sum();
    let expected = n * n - n_c.iter().map(|v| v * v).sum::<f64>();
    if n < 2.0 || expected <= 0.0 {
        return None;
    }
    Some(1.0 - (n - 1.0) * disagreement / expected)
}

/// Fleiss' kappa from an items x categories count table (`counts[i][j]` = raters putting
/// item i in category j). `None` unless every item has the same number `n >= 2` of ratings,
/// or when all ratings fall in one category.
pub fn fleiss_kappa_from_counts(counts: &[Vec<usize>]) -> Option<f64> {
    let first = counts.first()?;
    let n: usize = first.iter().sum();
    if n < 2
        || counts
            .iter()
            .any(|row| row.iter().sum::<usize>() != n || row.len() != first.len())
    {
        return None;
    }
    let n_items = counts.len() as f64;
    let n_f = n as f64;
    let mut p = vec![0.0f64; first.len()];
    let mut p_bar = 0.0;
    for row in counts {
        let mut agree = 0usize;
        for (j, &c) in row.iter().enumerate() {
            p[j] += c as f64;
            agree += c * c.saturating_sub(1);
        }
        p_bar += agree as f64 / (n_f * (n_f - 1.0));
    }
    p_bar /= n_items;
    let p_e: f64 = p.iter().map(|&s| (s / (n_items * n_f)).powi(2)).sum();
    if p_e >= 1.0 {
        return None;
    }
    Some((p_bar - p_e) / (1.0 - p_e))
}

/// Fleiss' kappa of the table; `None` unless every item has the same number (>= 2) of
/// labels (Fleiss' kappa assumes a fixed number of raters per item; use Krippendorff's
/// alpha otherwise).
pub fn fleiss_kappa(annotations: &Annotations) -> Option<f64> {
    let k = annotations.n_classes;
    let counts: Vec<Vec<usize>> = annotations
        .class_counts()
        .chunks_exact(k)
        .map(<[usize]>::to_vec)
        .collect();
    fleiss_kappa_from_counts(&counts)
}

/// Cohen's kappa of two raters over the items both labelled, computed as sklearn's
/// `cohen_kappa_score`: `1 - observed disagreement / expected disagreement`. Labels may be
/// any ids. `Ok(None)` when no item is labelled by both or the expected disagreement is 0
/// (both raters always use one and the same category; sklearn returns NaN).
pub fn cohen_kappa(a: &[Option<usize>], b: &[Option<usize>]) -> Result<Option<f64>, LabelError> {
    if a.len() != b.len() {
        return Err(LabelError::LengthMismatch {
            what: "second rater's labels",
            expected: a.len(),
            got: b.len(),
        });
    }
    let pairs: Vec<(usize, usize)> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
        .collect();
    if pairs.is_empty() {
        return Ok(None);
    }
    // compact ids so arbitrary label values never size a matrix
    let mut classes: Vec<usize> = pairs.iter().flat_map(|&(x, y)| [x, y]).collect();
    classes.sort_unstable();
    classes.dedup();
    let k = classes.len();
    let id = |v: usize| classes.binary_search(&v).unwrap_or(0);
    let mut row = vec![0usize; k];
    let mut col = vec![0usize; k];
    let mut agree = 0usize;
    for &(x, y) in &pairs {
        let (x, y) = (id(x), id(y));
        row[x] += 1;
        col[y] += 1;
        agree += usize::from(x == y);
    }
    let n = pairs.len() as f64;
    let observed = (pairs.len() - agree) as f64;
    let mut expected = 0.0;
    for (x, &r) in row.iter().enumerate() {
        for (y, &c) in col.iter().enumerate() {
            if x != y {
                expected += r as f64 * c as f64 / n;
            }
        }
    }
    if expected <= 0.0 {
        return Ok(None);
    }
    Ok(Some(1.0 - observed / expected))
}

/// Cohen's kappa of one annotator pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairKappa {
    pub a: usize,
    pub b: usize,
    /// Items labelled by both.
    pub n_items: usize,
    pub kappa: Option<f64>,
}

fn check_probs(annotations: &Annotations, probs: &ProbMatrix<'_>) -> Result<(), LabelError> {
    if probs.n_rows() != annotations.n_items {
        return Err(LabelError::LengthMismatch {
            what: "probability rows vs annotated items",
            expected: annotations.n_items,
            got: probs.n_rows(),
        });
    }
    if probs.n_classes() != annotations.n_classes {
        return Err(LabelError::LengthMismatch {
            what: "probability columns vs annotation classes",
            expected: annotations.n_classes,
            got: probs.n_classes(),
        });
    }
    probs.validate(Some(super::confident::DEFAULT_ROW_SUM_TOLERANCE))
}

/// Majority-vote label per item (`None` for items nobody labelled). Ties are broken, in
/// order, by the model's probability when `probs` is given (as cleanlab's
/// `get_majority_vote_label(pred_probs=...)`), then by the class's frequency over all
/// annotations, then by the lowest class id.
pub fn majority_vote(
    annotations: &Annotations,
    probs: Option<ProbMatrix<'_>>,
) -> Result<Vec<Option<usize>>, LabelError> {
    if let Some(p) = &probs {
        check_probs(annotations, p)?;
    }
    Ok(majority_vote_unchecked(annotations, probs.as_ref()))
}

fn majority_vote_unchecked(
    annotations: &Annotations,
    probs: Option<&ProbMatrix<'_>>,
) -> Vec<Option<usize>> {
    let k = annotations.n_classes;
    let counts = annotations.class_counts();
    let mut overall = vec![0usize; k];
    for unit in counts.chunks_exact(k) {
        for (o, &c) in overall.iter_mut().zip(unit) {
            *o += c;
        }
    }
    counts
        .chunks_exact(k)
        .enumerate()
        .map(|(i, unit)| {
            let top = unit.iter().copied().max().unwrap_or(0);
            if top == 0 {
                return None;
            }
            let mut best: Option<usize> = None;
            for c in (0..k).filter(|&c| unit[c] == top) {
                best = Some(match best {
                    None => c,
                    Some(b) => {
                        let by_model = probs
                            .map(|p| p.row(i)[c].partial_cmp(&p.row(i)[b]))
                            .unwrap_or(Some(std::cmp::Ordering::Equal));
                        match by_model {
                            Some(std::cmp::Ordering::Greater) => c,
                            Some(std::cmp::Ordering::Less) => b,
                            _ if overall[c] > overall[b] => c,
                            _ => b,
                        }
                    }
                });
            }
            best
        })
        .collect()
}

/// CROWDLAB's consensus (labels.md, "Consensus and annotator quality"), with these
/// definitions where labels.md leaves room:
/// - the initial consensus is [`majority_vote`] with the model breaking ties;
/// - "multi-labelled" items are those with >= 2 labels (all labelled items if none is);
/// - `p_correct` = mean over multi-labelled items of the share of their annotators choosing
///   the majority label;
/// - annotator j's agreement `A_j` = mean over multi-labelled items j labelled of the share of
///   the *other* annotators giving j's label (`None` if j never shares an item; its weight
///   then uses the mean of the others' agreements);
/// - `most_likely_class_error` = 1 - share of the most common majority label among the
///   multi-labelled items (floored at 1e-6);
/// - weights `w_j = max(1 - (1 - A_j) / mlce, 1e-6)`; the model's `A_M` is its argmax
///   accuracy against the majority label on multi-labelled items, and its weight is
///   `max(1 - (1 - A_M) / mlce, 1e-6) * sqrt(mean labels per item)` (the CROWDLAB paper's
///   factor; without it the consensus disagrees with cleanlab's on ~5% of items);
/// - posterior `(w_M P_ik + sum_j w_j L_j(k)) / (w_M + sum_j w_j)` with `L_j(k) = p_correct`
///   if j chose k, else `(1 - p_correct) / (K - 1)`; consensus = argmax (lowest class on ties).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Crowdlab {
    /// Consensus label per item (items nobody labelled get the model's choice).
    pub consensus: Vec<usize>,
    /// Posterior probability of the consensus label: a per-item confidence.
    pub consensus_quality: Vec<f64>,
    /// `A_j` per annotator.
    pub annotator_agreement: Vec<Option<f64>>,
    pub annotator_weight: Vec<f64>,
    pub model_agreement: f64,
    pub model_weight: f64,
    pub p_correct: f64,
    pub most_likely_class_error: f64,
}

/// CROWDLAB consensus from annotations and out-of-sample model probabilities (one row per
/// item). See [`Crowdlab`] for the exact definitions.
pub fn crowdlab(annotations: &Annotations, probs: ProbMatrix<'_>) -> Result<Crowdlab, LabelError> {
    check_probs(annotations, &probs)?;
    let majority = majority_vote_unchecked(annotations, Some(&probs));
    Ok(crowdlab_with_majority(annotations, &probs, &majority))
}

fn crowdlab_with_majority(
    annotations: &Annotations,
    probs: &ProbMatrix<'_>,
    majority: &[Option<usize>],
) -> Crowdlab {
    let k = annotations.n_classes;
    let n_ann = annotations.n_annotators;
    let per_item = annotations.labels_per_item();
    let any_multi = per_item.iter().any(|&m| m >= 2);
    let min_labels = if any_multi { 2 } else { 1 };
    let is_multi = |i: usize| per_item[i] >= min_labels;

    // p_correct, class shares of the majority label, model accuracy: over multi-labelled items
    let mut share_sum = 0.0;
    let mut n_multi = 0usize;
    let mut majority_counts = vec![0usize; k];
    let mut model_hits = 0usize;
    for i in (0..annotations.n_items).filter(|&i| is_multi(i)) {
        let Some(m) = majority[i] else { continue };
        let agree = annotations
            .item(i)
            .iter()
            .flatten()
            .filter(|&&l| l as usize == m)
            .count();
        share_sum += agree as f64 / per_item[i] as f64;
        n_multi += 1;
        majority_counts[m] += 1;
        model_hits += usize::from(argmax(probs.row(i)) == m);
    }
    let denom = n_multi.max(1) as f64;
    let p_correct = if n_multi == 0 { 1.0 } else { share_sum / denom };
    let top_share = majority_counts.iter().copied().max().unwrap_or(0) as f64 / denom;
    let mlce = (1.0 - top_share).max(CROWDLAB_FLOOR);
    let model_agreement = model_hits as f64 / denom;

    // A_j: share of the other annotators agreeing with j, averaged over j's shared items
    let mut agreement_sum = vec![0.0f64; n_ann];
    let mut agreement_n = vec![0usize; n_ann];
    for (i, &m) in per_item.iter().enumerate() {
        if m < 2 {
            continue;
        }
        let item = annotations.item(i);
        for (j, label) in item.iter().enumerate() {
            let Some(l) = label else { continue };
            let same = item.iter().flatten().filter(|&&o| o == *l).count() - 1;
            agreement_sum[j] += same as f64 / (m - 1) as f64;
            agreement_n[j] += 1;
        }
    }
    let annotator_agreement: Vec<Option<f64>> = (0..n_ann)
        .map(|j| (agreement_n[j] > 0).then(|| agreement_sum[j] / agreement_n[j] as f64))
        .collect();
    let known: Vec<f64> = annotator_agreement.iter().flatten().copied().collect();
    let fallback = if known.is_empty() {
        p_correct
    } else {
        known.iter().sum::<f64>() / known.len() as f64
    };
    let weight = |a: f64| (1.0 - (1.0 - a) / mlce).max(CROWDLAB_FLOOR);
    let annotator_weight: Vec<f64> = annotator_agreement
        .iter()
        .map(|a| weight(a.unwrap_or(fallback)))
        .collect();
    let mean_labels = per_item.iter().sum::<usize>() as f64 / annotations.n_items.max(1) as f64;
    let model_weight = weight(model_agreement) * mean_labels.sqrt().max(CROWDLAB_FLOOR);

    let other = if k > 1 {
        (1.0 - p_correct) / (k - 1) as f64
    } else {
        0.0
    };
    let mut posterior = vec![0.0f64; k];
    let mut consensus = Vec::with_capacity(annotations.n_items);
    let mut consensus_quality = Vec::with_capacity(annotations.n_items);
    for i in 0..annotations.n_items {
        let p = probs.row(i);
        let mut total = model_weight;
        for (dst, &v) in posterior.iter_mut().zip(p) {
            *dst = model_weight * v;
        }
        for (j, label) in annotations.item(i).iter().enumerate() {
            let Some(l) = label else { continue };
            let w = annotator_weight[j];
            total += w;
            for (c, dst) in posterior.iter_mut().enumerate() {
                *dst += w * if c == *l as usize { p_correct } else { other };
            }
        }
        let best = argmax(&posterior);
        consensus.push(best);
        consensus_quality.push(posterior[best] / total);
    }
    Crowdlab {
        consensus,
        consensus_quality,
        annotator_agreement,
        annotator_weight,
        model_agreement,
        model_weight,
        p_correct,
        most_likely_class_error: mlce,
    }
}

/// Co-labelled items a pair of annotators needs before its agreement enters
/// [`weighted_agreement`]: the share agreeing then has a standard error of at most
/// `0.5 / sqrt(20)` = 0.11.
pub const MIN_PAIR_ITEMS: usize = 20;

/// Triplets for an annotator are formed among its this-many neighbours sharing the most
/// items, so many annotators cost at most `MAX_NEIGHBOURS^2 / 2` triplets each.
const MAX_NEIGHBOURS: usize = 50;

/// Cap on an estimated accuracy, so a log-odds weight stays finite.
const MAX_ACCURACY: f64 = 0.999;

/// Consensus from the annotations alone, when no model probabilities exist: each
/// annotator's accuracy is estimated from pairwise agreement, then each item's label is a
/// vote weighted by those accuracies. Definitions:
/// - the one-coin model (Dawid-Skene with one accuracy `a_j` per annotator, errors spread
///   evenly over the other `K - 1` classes, annotators independent given the true label):
///   two annotators agree with probability `a_i a_j + (1 - a_i)(1 - a_j)/(K - 1)`, so their
///   agreement above chance `c_ij = (K P_ij - 1)/(K - 1)` equals `b_i b_j` with the skill
///   `b = (K a - 1)/(K - 1)`;
/// - `P_ij` is measured on the items both labelled, and only for pairs with at least
///   [`MIN_PAIR_ITEMS`] of them;
/// - for annotator i, every triplet (i, j, k) among i's 50 neighbours sharing the most items
///   whose three pairs are measured and `c_jk > 0` gives `b_i^2 = c_ij c_ik / c_jk` (the triplet method); `b_i` is the square
///   root of the median over those triplets, clamped to `[0, 1]`; `a_i = (1 + (K - 1) b_i)/K`,
///   at most 0.999;
/// - the weight is the one-coin model's optimal vote weight, the log-odds
///   `w_i = ln((K - 1) a_i / (1 - a_i))` (0 for an annotator at chance);
/// - annotators in no usable triplet get the mean weight of the others;
/// - consensus = the class with the largest summed weight; ties (within 1e-12) go to the
///   class with more votes, then as [`majority_vote`] breaks them (class frequency over all
///   annotations, then lowest id), so an item whose annotators all weigh 0 gets its
///   majority vote;
///   closed form, no iteration, so the result is deterministic.
///
/// `None` ("not enough overlap") unless some triplet is usable and some weight is > 0: with
/// only pairs, agreement cannot tell which of two annotators is wrong. The model assumes
/// independent errors: annotators who share their mistakes look reliable to it (and to
/// any weighting from the labels alone).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightedAgreement {
    /// Consensus label per item (`None` for items nobody labelled).
    pub consensus: Vec<Option<usize>>,
    /// Share of the item's summed weight behind the consensus label.
    pub consensus_quality: Vec<Option<f64>>,
    /// Estimated accuracy per annotator (`None`: in no usable triplet).
    pub annotator_accuracy: Vec<Option<f64>>,
    pub annotator_weight: Vec<f64>,
}

/// [`WeightedAgreement`] of a table, or `None` without enough overlap.
pub fn weighted_agreement(annotations: &Annotations) -> Option<WeightedAgreement> {
    let k = annotations.n_classes;
    let n_ann = annotations.n_annotators;
    if k < 2 || n_ann < 3 {
        return None;
    }
    let kf = k as f64;
    // agreement above chance per pair (None: too few shared items)
    // co-labelled items and agreements per pair, from each item's annotators (sparse: the
    // cost is the sum over items of their labels squared, not annotators squared x items)
    let mut pair: HashMap<(usize, usize), (usize, usize)> = HashMap::new();
    let mut labelled: Vec<(usize, u32)> = Vec::new();
    for i in 0..annotations.n_items {
        labelled.clear();
        labelled.extend(
            annotations
                .item(i)
                .iter()
                .enumerate()
                .filter_map(|(j, l)| l.map(|l| (j, l))),
        );
        for (x, &(a, la)) in labelled.iter().enumerate() {
            for &(b, lb) in &labelled[x + 1..] {
                let e = pair.entry((a, b)).or_default();
                e.0 += 1;
                e.1 += usize::from(la == lb);
            }
        }
    }
    // agreement above chance of the pairs sharing enough items, and each annotator's
    // neighbours (most shared items first, then lowest index)
    let mut c: HashMap<(usize, usize), f64> = HashMap::new();
    let mut neighbours: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n_ann];
    for (&(a, b), &(n, same)) in &pair {
        if n >= MIN_PAIR_ITEMS {
            let v = (kf * (same as f64 / n as f64) - 1.0) / (kf - 1.0);
            c.insert((a, b), v);
            c.insert((b, a), v);
            neighbours[a].push((b, n));
            neighbours[b].push((a, n));
        }
    }
    for list in &mut neighbours {
        list.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        list.truncate(MAX_NEIGHBOURS);
    }
    let max_skill = (kf * MAX_ACCURACY - 1.0) / (kf - 1.0);
    let annotator_accuracy: Vec<Option<f64>> = (0..n_ann)
        .map(|i| {
            let mut est = Vec::new();
            let near = &neighbours[i];
            for (x, &(j, _)) in near.iter().enumerate() {
                for &(l, _) in &near[x + 1..] {
                    let (Some(cij), Some(cil), Some(&cjl)) =
                        (c.get(&(i, j)), c.get(&(i, l)), c.get(&(j, l)))
                    else {
                        continue;
                    };
                    if cjl > 0.0 {
                        est.push(cij * cil / cjl);
                    }
                }
            }
            let b2 = median(&mut est)?;
            let b = b2.clamp(0.0, 1.0).sqrt().min(max_skill);
            Some((1.0 + (kf - 1.0) * b) / kf)
        })
        .collect();
    let known: Vec<f64> = annotator_accuracy
        .iter()
        .flatten()
        .map(|&a| ((kf - 1.0) * a / (1.0 - a)).ln().max(0.0))
        .collect();
    if known.len() < 3 || known.iter().all(|&w| w <= 0.0) {
        return None;
    }
    let fallback = known.iter().sum::<f64>() / known.len() as f64;
    let annotator_weight: Vec<f64> = annotator_accuracy
        .iter()
        .map(|a| a.map_or(fallback, |a| ((kf - 1.0) * a / (1.0 - a)).ln().max(0.0)))
        .collect();

    let counts = annotations.class_counts();
    let mut overall = vec![0usize; k];
    for unit in counts.chunks_exact(k) {
        for (o, &n) in overall.iter_mut().zip(unit) {
            *o += n;
        }
    }
    let mut score = vec![0.0f64; k];
    let mut consensus = Vec::with_capacity(annotations.n_items);
    let mut consensus_quality = Vec::with_capacity(annotations.n_items);
    for i in 0..annotations.n_items {
        score.iter_mut().for_each(|s| *s = 0.0);
        let mut any = false;
        for (j, label) in annotations.item(i).iter().enumerate() {
            if let Some(l) = label {
                score[*l as usize] += annotator_weight[j];
                any = true;
            }
        }
        if !any {
            consensus.push(None);
            consensus_quality.push(None);
            continue;
        }
        let unit = &counts[i * k..(i + 1) * k];
        let top = score.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let tol = 1e-12 * top.abs().max(1.0);
        // only classes somebody chose compete (all weights 0 on an item: plain majority)
        let top_count = (0..k)
            .filter(|&c| (top - score[c]).abs() <= tol)
            .map(|c| unit[c])
            .max()
            .unwrap_or(0);
        let best = (0..k)
            .filter(|&c| unit[c] > 0 && (top - score[c]).abs() <= tol && unit[c] == top_count)
            .fold(None::<usize>, |best, c| match best {
                Some(b) if overall[b] >= overall[c] => Some(b),
                _ => Some(c),
            });
        let total: f64 = score.iter().sum();
        consensus.push(best);
        consensus_quality.push(best.map(|b| if total > 0.0 { score[b] / total } else { 0.0 }));
    }
    Some(WeightedAgreement {
        consensus,
        consensus_quality,
        annotator_accuracy,
        annotator_weight,
    })
}

/// Median of the values (sorted in place); `None` when empty.
fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// One annotator's numbers in an [`AgreementReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnotatorStats {
    pub annotator: usize,
    pub n_labelled: usize,
    /// Share of this annotator's labels equal to the majority vote, over items with >= 2
    /// labels (on single-labelled items the agreement would be trivially 1).
    pub agreement_with_majority: Option<f64>,
    /// CROWDLAB's `A_j` (share of other annotators agreeing, averaged over shared items);
    /// present only when model probabilities were given.
    pub agreement_with_others: Option<f64>,
    /// CROWDLAB weight; present only when model probabilities were given.
    pub crowdlab_weight: Option<f64>,
    /// [`weighted_agreement`]'s estimated accuracy; present only when that consensus was used.
    pub estimated_accuracy: Option<f64>,
    /// The weight of this annotator's votes in the consensus: CROWDLAB's or
    /// [`weighted_agreement`]'s, `None` for a plain majority vote.
    pub weight: Option<f64>,
    /// Share of this annotator's labels equal to the final consensus (CROWDLAB when model
    /// probabilities were given, else [`weighted_agreement`] when the annotators overlap
    /// enough, else the majority vote), over all items it labelled.
    pub agreement_with_consensus: Option<f64>,
    /// Accuracy against the gold labels, over items with both.
    pub accuracy_vs_gold: Option<f64>,
    pub n_gold: usize,
}

/// Consensus accuracy against gold labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoldAccuracy {
    /// Items with a gold label.
    pub n_items: usize,
    pub majority_vote_accuracy: Option<f64>,
    pub crowdlab_accuracy: Option<f64>,
    pub weighted_agreement_accuracy: Option<f64>,
}

/// Everything [`agreement_report`] computes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgreementReport {
    pub n_items: usize,
    pub n_annotators: usize,
    pub n_classes: usize,
    pub n_labels: usize,
    pub mean_labels_per_item: f64,
    /// Items with at least two labels (the ones agreement is measured on).
    pub n_items_multi_labelled: usize,
    pub krippendorff_alpha: Option<f64>,
    pub fleiss_kappa: Option<f64>,
    pub cohen_kappa: Vec<PairKappa>,
    pub majority_vote: Vec<Option<usize>>,
    /// Share of each item's annotators that chose its majority label.
    pub item_agreement: Vec<Option<f64>>,
    pub annotators: Vec<AnnotatorStats>,
    pub crowdlab: Option<Crowdlab>,
    /// Present when no probabilities were given and the annotators overlap enough.
    pub weighted: Option<WeightedAgreement>,
    pub gold: Option<GoldAccuracy>,
}

/// How [`AgreementReport`]'s consensus was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsensusMethod {
    MajorityVote,
    Crowdlab,
    WeightedAgreement,
}

impl ConsensusMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MajorityVote => "majority_vote",
            Self::Crowdlab => "crowdlab",
            Self::WeightedAgreement => "weighted_agreement",
        }
    }
}

impl AgreementReport {
    /// The consensus used: CROWDLAB's, else [`weighted_agreement`]'s, else the majority vote.
    pub fn consensus(&self) -> Vec<Option<usize>> {
        match (&self.crowdlab, &self.weighted) {
            (Some(c), _) => c.consensus.iter().map(|&l| Some(l)).collect(),
            (None, Some(w)) => w.consensus.clone(),
            (None, None) => self.majority_vote.clone(),
        }
    }

    pub fn consensus_method(&self) -> ConsensusMethod {
        match (&self.crowdlab, &self.weighted) {
            (Some(_), _) => ConsensusMethod::Crowdlab,
            (None, Some(_)) => ConsensusMethod::WeightedAgreement,
            (None, None) => ConsensusMethod::MajorityVote,
        }
    }
}

fn share(hits: usize, n: usize) -> Option<f64> {
    (n > 0).then(|| hits as f64 / n as f64)
}

/// All agreement statistics of a table. `probs` (one row per item, out-of-sample) enables
/// CROWDLAB; `gold` (one entry per item, `None` = unknown) enables accuracies.
pub fn agreement_report(
    annotations: &Annotations,
    probs: Option<ProbMatrix<'_>>,
    gold: Option<&[Option<usize>]>,
) -> Result<AgreementReport, LabelError> {
    if let Some(p) = &probs {
        check_probs(annotations, p)?;
    }
    if let Some(g) = gold
        && g.len() != annotations.n_items
    {
        return Err(LabelError::LengthMismatch {
            what: "gold labels vs annotated items",
            expected: annotations.n_items,
            got: g.len(),
        });
    }
    let n_items = annotations.n_items;
    let n_ann = annotations.n_annotators;
    let per_item = annotations.labels_per_item();
    let n_labels: usize = per_item.iter().sum();

    let majority = majority_vote_unchecked(annotations, probs.as_ref());
    let crowd = probs
        .as_ref()
        .map(|p| crowdlab_with_majority(annotations, p, &majority));
    let weighted = if crowd.is_none() {
        weighted_agreement(annotations)
    } else {
        None
    };
    let consensus: Vec<Option<usize>> = match (&crowd, &weighted) {
        (Some(c), _) => c.consensus.iter().map(|&l| Some(l)).collect(),
        (None, Some(w)) => w.consensus.clone(),
        (None, None) => majority.clone(),
    };

    let item_agreement = (0..n_items)
        .map(|i| {
            let m = majority[i]?;
            let agree = annotations
                .item(i)
                .iter()
                .flatten()
                .filter(|&&l| l as usize == m)
                .count();
            share(agree, per_item[i])
        })
        .collect();

    let mut cohen = Vec::new();
    let columns: Vec<Vec<Option<usize>>> = (0..n_ann).map(|j| annotations.annotator(j)).collect();
    for a in 0..n_ann {
        for b in a + 1..n_ann {
            let both = columns[a]
                .iter()
                .zip(&columns[b])
                .filter(|(x, y)| x.is_some() && y.is_some())
                .count();
            cohen.push(PairKappa {
                a,
                b,
                n_items: both,
                kappa: cohen_kappa(&columns[a], &columns[b])?,
            });
        }
    }

    let annotators = (0..n_ann)
        .map(|j| {
            let col = &columns[j];
            let mut n_labelled = 0;
            let (mut maj_hits, mut maj_n) = (0, 0);
            let mut cons_hits = 0;
            let (mut gold_hits, mut gold_n) = (0, 0);
            for (i, label) in col.iter().enumerate() {
                let Some(l) = *label else { continue };
                n_labelled += 1;
                if per_item[i] >= 2 {
                    maj_n += 1;
                    maj_hits += usize::from(majority[i] == Some(l));
                }
                cons_hits += usize::from(consensus[i] == Some(l));
                if let Some(g) = gold.and_then(|g| g[i]) {
                    gold_n += 1;
                    gold_hits += usize::from(g == l);
                }
            }
            AnnotatorStats {
                annotator: j,
                n_labelled,
                agreement_with_majority: share(maj_hits, maj_n),
                agreement_with_others: crowd.as_ref().and_then(|c| c.annotator_agreement[j]),
                crowdlab_weight: crowd.as_ref().map(|c| c.annotator_weight[j]),
                estimated_accuracy: weighted.as_ref().and_then(|w| w.annotator_accuracy[j]),
                weight: crowd
                    .as_ref()
                    .map(|c| c.annotator_weight[j])
                    .or_else(|| weighted.as_ref().map(|w| w.annotator_weight[j])),
                agreement_with_consensus: share(cons_hits, n_labelled),
                accuracy_vs_gold: share(gold_hits, gold_n),
                n_gold: gold_n,
            }
        })
        .collect();

    let gold_accuracy = gold.map(|g| {
        let with_gold: Vec<(usize, usize)> = g
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, v)))
            .collect();
        let hits = |labels: &[Option<usize>]| {
            let scored: Vec<bool> = with_gold
                .iter()
                .filter_map(|&(i, v)| labels[i].map(|l| l == v))
                .collect();
            share(scored.iter().filter(|&&b| b).count(), scored.len())
        };
        GoldAccuracy {
            n_items: with_gold.len(),
            majority_vote_accuracy: hits(&majority),
            crowdlab_accuracy: crowd.as_ref().and_then(|_| hits(&consensus)),
            weighted_agreement_accuracy: weighted.as_ref().and_then(|_| hits(&consensus)),
        }
    });

    Ok(AgreementReport {
        n_items,
        n_annotators: n_ann,
        n_classes: annotations.n_classes,
        n_labels,
        mean_labels_per_item: n_labels as f64 / n_items as f64,
        n_items_multi_labelled: per_item.iter().filter(|&&m| m >= 2).count(),
        krippendorff_alpha: krippendorff_alpha_nominal(annotations),
        fleiss_kappa: fleiss_kappa(annotations),
        cohen_kappa: cohen,
        majority_vote: majority,
        item_agreement,
        annotators,
        crowdlab: crowd,
        weighted,
        gold: gold_accuracy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Fixture {
        cases: Vec<Case>,
        crowd: Vec<Crowd>,
    }

    #[derive(Deserialize)]
    struct Case {
        name: String,
        n_classes: usize,
        matrix: Vec<Vec<i64>>,
        krippendorff_alpha: Option<f64>,
        fleiss_kappa: Option<f64>,
        cohen: Vec<Pair>,
    }

    #[derive(Deserialize)]
    struct Pair {
        a: usize,
        b: usize,
        n_items: usize,
        kappa: Option<f64>,
    }

    #[derive(Deserialize)]
    struct Crowd {
        name: String,
        n_classes: usize,
        matrix: Vec<Vec<i64>>,
        truth: Vec<usize>,
        pred_probs: Vec<f64>,
        cleanlab_majority_vote: Vec<usize>,
        cleanlab_crowdlab_consensus: Vec<usize>,
        crowdlab_accuracy: f64,
    }

    fn fixture() -> Fixture {
        serde_json::from_str(include_str!(
            "../../../../fixtures/reference/labels_agreement.json"
        ))
        .unwrap()
    }

    fn table(matrix: &[Vec<i64>], k: usize) -> Annotations {
        let rows: Vec<Vec<Option<usize>>> = matrix
            .iter()
            .map(|r| r.iter().map(|&v| usize::try_from(v).ok()).collect())
            .collect();
        Annotations::from_rows(&rows, k).unwrap()
    }

    fn close(a: Option<f64>, b: Option<f64>, tol: f64) -> bool {
        match (a, b) {
            (Some(x), Some(y)) => (x - y).abs() <= tol,
            (None, None) => true,
            _ => false,
        }
    }

    /// Wikipedia's worked example of Fleiss' kappa: 10 subjects, 14 raters, 5 categories.
    #[test]
    fn fleiss_wikipedia_example() {
        let counts = vec![
            vec![0, 0, 0, 0, 14],
            vec![0, 2, 6, 4, 2],
            vec![0, 0, 3, 5, 6],
            vec![0, 3, 9, 2, 0],
            vec![2, 2, 8, 1, 1],
            vec![7, 7, 0, 0, 0],
            vec![3, 2, 6, 3, 0],
            vec![2, 5, 3, 2, 2],
            vec![6, 5, 2, 1, 0],
            vec![0, 2, 2, 3, 7],
        ];
        let kappa = fleiss_kappa_from_counts(&counts).unwrap();
        assert!((kappa - 0.210).abs() < 5e-4, "{kappa}");
        assert!((kappa - 0.209_930_704_421_955_2).abs() < 1e-12, "{kappa}");
        // the same data as an items x raters table gives the same kappa
        let rows: Vec<Vec<Option<usize>>> = counts
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .flat_map(|(c, &n)| std::iter::repeat_n(Some(c), n))
                    .collect()
            })
            .collect();
        let t = Annotations::from_rows(&rows, 5).unwrap();
        assert_eq!(fleiss_kappa(&t), Some(kappa));
        // unequal ratings per item: undefined
        let mut uneven = rows.clone();
        uneven[0][0] = None;
        assert_eq!(
            fleiss_kappa(&Annotations::from_rows(&uneven, 5).unwrap()),
            None
        );
    }

    /// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": coders A-D,
    /// units 1-12, "*" missing; nominal alpha 0.743.
    #[test]
    fn krippendorff_2011_example() {
        const M: i64 = -1;
        let coders = [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, M, M, M],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, M, 3],
            [M, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, M],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, M],
        ];
        let items: Vec<Vec<i64>> = (0..12)
            .map(|u| coders.iter().map(|c| c[u]).collect())
            .collect();
        let alpha = krippendorff_alpha_nominal(&table(&items, 6)).unwrap();
        assert!((alpha - 0.743).abs() < 5e-4, "{alpha}");
        // the krippendorff package: 0.743421052631579
        assert!((alpha - 0.743_421_052_631_579).abs() < 1e-12, "{alpha}");
    }

    #[test]
    fn agreement_metrics_match_sklearn_and_krippendorff() {
        let f = fixture();
        assert!(f.cases.len() >= 5);
        for c in &f.cases {
            let t = table(&c.matrix, c.n_classes);
            let alpha = krippendorff_alpha_nominal(&t);
            assert!(
                close(alpha, c.krippendorff_alpha, 1e-9),
                "{}: alpha {alpha:?} vs {:?}",
                c.name,
                c.krippendorff_alpha
            );
            let fleiss = fleiss_kappa(&t);
            assert!(
                close(fleiss, c.fleiss_kappa, 1e-9),
                "{}: fleiss {fleiss:?} vs {:?}",
                c.name,
                c.fleiss_kappa
            );
            let report = agreement_report(&t, None, None).unwrap();
            assert_eq!(report.cohen_kappa.len(), c.cohen.len());
            for (got, want) in report.cohen_kappa.iter().zip(&c.cohen) {
                assert_eq!((got.a, got.b, got.n_items), (want.a, want.b, want.n_items));
                assert!(
                    close(got.kappa, want.kappa, 1e-9),
                    "{} pair {}-{}: {:?} vs {:?}",
                    c.name,
                    want.a,
                    want.b,
                    got.kappa,
                    want.kappa
                );
            }
            assert_eq!(report.krippendorff_alpha, alpha);
        }
    }

    #[test]
    fn majority_vote_and_crowdlab_match_cleanlab() {
        for c in fixture().crowd {
            let t = table(&c.matrix, c.n_classes);
            let p = ProbMatrix::new(&c.pred_probs, c.truth.len(), c.n_classes).unwrap();
            let mv: Vec<usize> = majority_vote(&t, Some(p))
                .unwrap()
                .into_iter()
                .map(Option::unwrap)
                .collect();
            assert_eq!(mv, c.cleanlab_majority_vote, "{}", c.name);
            let truth: Vec<Option<usize>> = c.truth.iter().map(|&v| Some(v)).collect();
            let r = agreement_report(&t, Some(p), Some(&truth)).unwrap();
            let crowd = r.crowdlab.as_ref().unwrap();
            let same = crowd
                .consensus
                .iter()
                .zip(&c.cleanlab_crowdlab_consensus)
                .filter(|(a, b)| a == b)
                .count();
            let n = c.truth.len();
            // labels.md's description, not cleanlab's code: nearly, not exactly, the same
            assert!(
                same * 100 >= n * 99,
                "{}: {same}/{n} agree with cleanlab",
                c.name
            );
            let g = r.gold.as_ref().unwrap();
            let acc = g.crowdlab_accuracy.unwrap();
            assert!(
                (acc - c.crowdlab_accuracy).abs() <= 0.01,
                "{}: {acc}",
                c.name
            );
            // (CROWDLAB is not always better than majority vote: on seed 12 cleanlab's own
            // consensus is 0.770 accurate against 0.777 for majority vote)
            assert!(g.majority_vote_accuracy.unwrap() > 0.7, "{}", c.name);
            assert!(
                crowd
                    .consensus_quality
                    .iter()
                    .all(|&q| (0.0..=1.0).contains(&q))
            );
            // more accurate annotators get more weight
            let w = &crowd.annotator_weight;
            assert!(w[w.len() - 1] > w[0], "{w:?}");
        }
    }

    #[test]
    fn cohen_kappa_edge_cases() {
        // perfect agreement, and chance-level agreement
        let a = [Some(0), Some(1), Some(0), Some(1)];
        assert_eq!(cohen_kappa(&a, &a).unwrap(), Some(1.0));
        let b = [Some(0), Some(0), Some(1), Some(1)];
        assert_eq!(cohen_kappa(&a, &b).unwrap(), Some(0.0));
        // one category only: undefined (sklearn: NaN); no shared items: undefined
        let same = [Some(3), Some(3)];
        assert_eq!(cohen_kappa(&same, &same).unwrap(), None);
        assert_eq!(
            cohen_kappa(&[Some(1), None], &[None, Some(1)]).unwrap(),
            None
        );
        assert!(cohen_kappa(&a, &b[..3]).is_err());
        // arbitrary ids never size a matrix
        let big = [Some(usize::MAX), Some(0)];
        assert_eq!(cohen_kappa(&big, &big).unwrap(), Some(1.0));
    }

    #[test]
    fn string_labels_missing_values_and_tie_break() {
        let rows = vec![
            vec![Some("cat"), Some("dog"), None],
            vec![Some("dog"), Some("dog"), Some("cat")],
            vec![None, None, None],
            vec![Some("bird"), None, Some("bird")],
        ];
        let (t, names) = Annotations::from_str_rows(&rows).unwrap();
        assert_eq!(names, vec!["bird", "cat", "dog"]);
        assert_eq!(t.get(0, 1), Some(2));
        assert_eq!(t.get(2, 0), None);
        // item 0 ties cat/dog: overall, dog (3 labels) beats cat (2)
        let mv = majority_vote(&t, None).unwrap();
        assert_eq!(mv, vec![Some(2), Some(2), None, Some(0)]);
        // with a model, its probability breaks the tie
        let probs = [0.1, 0.6, 0.3, 0.2, 0.2, 0.6, 0.4, 0.3, 0.3, 0.8, 0.1, 0.1];
        let p = ProbMatrix::new(&probs, 4, 3).unwrap();
        assert_eq!(majority_vote(&t, Some(p)).unwrap()[0], Some(1));
        let r = agreement_report(&t, Some(p), None).unwrap();
        assert_eq!(r.n_labels, 7);
        assert_eq!(r.n_items_multi_labelled, 3);
        assert_eq!(r.item_agreement[1], Some(2.0 / 3.0));
        assert_eq!(r.item_agreement[2], None);
        let crowd = r.crowdlab.unwrap();
        assert_eq!(crowd.consensus.len(), 4);
        // the unlabelled item gets the model's label
        assert_eq!(crowd.consensus[2], 0);
        assert_eq!(r.fleiss_kappa, None);
        assert!(r.gold.is_none());
        // errors, not panics
        assert!(Annotations::from_rows(&[vec![Some(0)], vec![Some(0), None]], 2).is_err());
        assert!(Annotations::from_rows(&[vec![Some(5)]], 2).is_err());
        assert!(Annotations::from_rows(&[], 2).is_err());
        let wrong = ProbMatrix::new(&probs[..9], 3, 3).unwrap();
        assert!(agreement_report(&t, Some(wrong), None).is_err());
        assert!(agreement_report(&t, None, Some(&[Some(0)])).is_err());
    }

    /// Three annotators on 60 items: 0 always right, 1 wrong on every 4th item, 2 on the
    /// item after. Pairwise agreement 0.75, 0.75, 0.5 gives skills above chance
    /// c = 0.625, 0.625, 0.25, so b_1^2 = 0.625 * 0.25 / 0.625: accuracy 2/3, weight ln 4;
    /// annotator 0's b^2 = 1.5625 is clamped to the 0.999 accuracy cap.
    #[test]
    fn weighted_agreement_exact_triplet_estimate() {
        let truth: Vec<usize> = (0..60).map(|i| i % 3).collect();
        let rows: Vec<Vec<Option<usize>>> = truth
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let u1 = if i % 4 == 0 { (t + 1) % 3 } else { t };
                let u2 = if i % 4 == 1 { (t + 2) % 3 } else { t };
                vec![Some(t), Some(u1), Some(u2)]
            })
            .collect();
        let t = Annotations::from_rows(&rows, 3).unwrap();
        let w = weighted_agreement(&t).unwrap();
        let a = &w.annotator_accuracy;
        assert!((a[0].unwrap() - 0.999).abs() < 1e-12, "{a:?}");
        assert!((a[1].unwrap() - 2.0 / 3.0).abs() < 1e-12, "{a:?}");
        assert!((a[2].unwrap() - 2.0 / 3.0).abs() < 1e-12, "{a:?}");
        assert!((w.annotator_weight[1] - 4f64.ln()).abs() < 1e-12);
        assert!((w.annotator_weight[0] - 1998f64.ln()).abs() < 1e-9);
        let want: Vec<Option<usize>> = truth.iter().map(|&c| Some(c)).collect();
        assert_eq!(w.consensus, want);
        let r = agreement_report(&t, None, Some(&want)).unwrap();
        assert_eq!(r.consensus_method(), ConsensusMethod::WeightedAgreement);
        assert_eq!(r.gold.unwrap().weighted_agreement_accuracy, Some(1.0));
        assert_eq!(r.annotators[1].weight, Some(w.annotator_weight[1]));

        // only 19 items: no pair shares enough, so majority vote
        let few = Annotations::from_rows(&rows[..19], 3).unwrap();
        assert!(weighted_agreement(&few).is_none());
        let r = agreement_report(&few, None, None).unwrap();
        assert_eq!(r.consensus_method(), ConsensusMethod::MajorityVote);
        assert_eq!(r.consensus(), r.majority_vote);
        assert!(r.annotators.iter().all(|a| a.weight.is_none()));
        // two annotators: agreement cannot say which one is wrong
        let two: Vec<Vec<Option<usize>>> = rows.iter().map(|r| r[..2].to_vec()).collect();
        assert!(weighted_agreement(&Annotations::from_rows(&two, 3).unwrap()).is_none());
        // everyone at chance (all labels independent of each other): all weights 0, None
        let chance: Vec<Vec<Option<usize>>> = (0..81)
            .map(|i| vec![Some(i % 3), Some((i / 3) % 3), Some((i / 9) % 3)])
            .collect();
        assert!(weighted_agreement(&Annotations::from_rows(&chance, 3).unwrap()).is_none());
    }

    /// cleanlab's synthetic crowds (8 annotators of accuracy 0.35-0.9, ~2.5 labels per
    /// item) without the model: the agreement-weighted consensus beats majority vote
    /// (measured: 0.753 / 0.780 / 0.740 against 0.683 / 0.687 / 0.680) and the estimated
    /// accuracies follow the true ones.
    #[test]
    fn weighted_agreement_beats_majority_on_cleanlab_crowds() {
        for c in fixture().crowd {
            let t = table(&c.matrix, c.n_classes);
            let truth: Vec<Option<usize>> = c.truth.iter().map(|&v| Some(v)).collect();
            let r = agreement_report(&t, None, Some(&truth)).unwrap();
            assert_eq!(r.consensus_method(), ConsensusMethod::WeightedAgreement);
            let g = r.gold.as_ref().unwrap();
            let (w, m) = (
                g.weighted_agreement_accuracy.unwrap(),
                g.majority_vote_accuracy.unwrap(),
            );
            assert!(w >= m + 0.04, "{}: weighted {w} vs majority {m}", c.name);
            let mut err = 0.0;
            for a in &r.annotators {
                let est = a.estimated_accuracy.unwrap();
                let real = a.accuracy_vs_gold.unwrap();
                assert!((est - real).abs() < 0.15, "{}: {est} vs {real}", c.name);
                err += (est - real).abs() / r.annotators.len() as f64;
            }
            assert!(err < 0.08, "{}: mean error {err}", c.name);
        }
    }

    #[test]
    fn alpha_undefined_without_pairable_variation() {
        let t = table(&[vec![0, 0], vec![0, 0], vec![0, -1]], 2);
        assert_eq!(krippendorff_alpha_nominal(&t), None);
        let t = table(&[vec![0, -1], vec![1, -1]], 2);
        assert_eq!(krippendorff_alpha_nominal(&t), None);
    }
}
