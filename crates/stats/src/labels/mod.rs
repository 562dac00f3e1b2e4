//! Label quality: pure functions over labels and (optionally) model probabilities. No I/O.
//!
//! Three parts, each in its own submodule and re-exported here:
//!
//! - [`confident`]: confident learning as cleanlab 2.9 implements it
//!   (`shared/reference/labels.md`, steps 1-8). [`find_label_issues`] mirrors
//!   `cleanlab.filter.find_label_issues` (every `filter_by` method, `min_examples_per_class`,
//!   ranking by `return_indices_ranked_by`); [`compute_confident_joint`] mirrors
//!   `cleanlab.count.compute_confident_joint`, [`estimate_joint`] `cleanlab.count.estimate_joint`,
//!   [`confident_thresholds`] `cleanlab.count.get_confident_thresholds` and
//!   [`label_quality_scores`] `cleanlab.rank.get_label_quality_scores`. The result,
//!   [`LabelIssues`], also carries a suggested label per row (argmax of the probabilities).
//! - [`agreement`]: several annotators per item, missing labels allowed ([`Annotations`]).
//!   Krippendorff's alpha (nominal), Fleiss' kappa, Cohen's kappa per annotator pair
//!   (as `sklearn.metrics.cohen_kappa_score`), majority-vote consensus, CROWDLAB-style
//!   weighted consensus when model probabilities exist, accuracy against gold labels; all
//!   gathered by [`agreement_report`].
//! - [`audit`]: the whole audit of a labelled [`Table`] ([`audit()`]: probabilities given or
//!   from the built-in model, label-leak detection, confident learning, conflicting exact
//!   and near duplicates, the label's domain, imbalance, null labels) as a typed
//!   [`LabelAudit`], the `labels --format json` document; [`annotators`]: the same for
//!   several annotators ([`annotator_audit`] -> [`AnnotatorAudit`]).
//! - [`checks`]: model-free checks. [`conflicting_labels`] (identical feature rows, given as
//!   row hashes, with different labels), [`class_imbalance`] and [`typo_classes`] (class
//!   names that are probably misspellings of a larger class's).
//!
//! Probabilities are passed as a borrowed row-major matrix, [`ProbMatrix`], so a million rows
//! are never copied. Every function validates its input and returns [`LabelError`] instead
//! of panicking.
//!
//! Reference values: `fixtures/reference/labels_cleanlab.json` and `labels_agreement.json`,
//! written by the `gen_labels_*.py` scripts beside them; the tests in each submodule compare
//! against them.

pub mod agreement;
pub mod annotators;
pub mod audit;
pub mod checks;
pub mod confident;
pub mod features;
pub mod forest;
pub mod model;
mod numeric;

pub use agreement::{
    AgreementReport, Annotations, AnnotatorStats, ConsensusMethod, Crowdlab, GoldAccuracy,
    MIN_PAIR_ITEMS, PairKappa, WeightedAgreement, agreement_report, cohen_kappa, crowdlab,
    fleiss_kappa, fleiss_kappa_from_counts, krippendorff_alpha_nominal, majority_vote,
    weighted_agreement,
};
pub use annotators::{AnnotatorAudit, AnnotatorLayout, AnnotatorSpec, annotator_audit};
pub use audit::{
    AuditCheck, AuditError, AuditSpec, IssueReason, LabelAudit, LabelDomain, ProbabilitySource,
    Table, audit,
};
pub use checks::{
    ClassImbalance, ConflictGroup, ConflictReport, TypoMatch, TypoRule, class_imbalance,
    conflicting_labels, typo_classes, typo_key,
};
pub use confident::{
    ConfidentLearningOptions, DEFAULT_ROW_SUM_TOLERANCE, FilterBy, LabelIssues, NumpySort,
    ScoreMethod, compute_confident_joint, confident_thresholds, estimate_joint, find_label_issues,
    label_quality_scores,
};

/// Why label-quality input was rejected. Every variant names the offending row (item),
/// column (class or annotator) and value where there is one, so a message can point at it;
/// [`LabelError::map_row`] renumbers the row when the caller passed a subset of its rows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabelError {
    /// No rows (or items) at all.
    #[error("no rows to check")]
    Empty,
    /// Fewer than two classes: confident learning and kappa statistics need a choice.
    #[error("label checks need at least 2 classes, got {n_classes}")]
    TooFewClasses { n_classes: usize },
    /// The flat probability slice does not hold `n_rows x n_classes` values.
    #[error(
        "probability matrix has {values} values, expected {n_rows} rows x {n_classes} classes = {}",
        n_rows.saturating_mul(*n_classes)
    )]
    ShapeMismatch {
        values: usize,
        n_rows: usize,
        n_classes: usize,
    },
    /// Two inputs that must describe the same rows have different lengths.
    #[error("{what}: expected {expected} entries, got {got}")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// A label is not a class index `0..n_classes` (cleanlab: "pred_probs must have at least
    /// `label + 1` columns").
    #[error(
        "row {row}: label {label} is not a class index below {n_classes} (probabilities need at least {} columns)",
        label.saturating_add(1)
    )]
    LabelOutOfRange {
        row: usize,
        label: usize,
        n_classes: usize,
    },
    /// A probability is NaN or infinite.
    #[error("row {row}, class {class}: probability is NaN or infinite")]
    NotFinite { row: usize, class: usize },
    /// A probability is outside `[0, 1]` (cleanlab's own check).
    #[error("row {row}, class {class}: probability {value} is outside [0, 1]")]
    OutOfUnitRange {
        row: usize,
        class: usize,
        value: f64,
    },
    /// A row of probabilities does not sum to 1 within the tolerance.
    #[error(
        "row {row}: probabilities sum to {sum}, not 1 (tolerance {tolerance}); pass predicted probabilities, not scores or logits"
    )]
    RowSum {
        row: usize,
        sum: f64,
        tolerance: f64,
    },
    /// An option is out of its domain (e.g. a negative tolerance).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// More classes than a classification label has (see [`check_class_count`]): a
    /// continuous column (a regression target) given as the label.
    #[error("{}", too_many_classes(*n_classes, *n_rows))]
    TooManyClasses { n_classes: usize, n_rows: usize },
}

impl LabelError {
    /// The row this error names, if any.
    pub fn row(&self) -> Option<usize> {
        match self {
            Self::LabelOutOfRange { row, .. }
            | Self::NotFinite { row, .. }
            | Self::OutOfUnitRange { row, .. }
            | Self::RowSum { row, .. } => Some(*row),
            _ => None,
        }
    }

    /// The same error with its row (if it names one) replaced by `f(row)`: a caller that
    /// passed a subset of its rows (e.g. the labelled ones) maps positions back to its own
    /// row numbers.
    pub fn map_row(mut self, f: impl FnOnce(usize) -> usize) -> Self {
        if let Self::LabelOutOfRange { row, .. }
        | Self::NotFinite { row, .. }
        | Self::OutOfUnitRange { row, .. }
        | Self::RowSum { row, .. } = &mut self
        {
            *row = f(*row);
        }
        self
    }
}

fn too_many_classes(n_classes: usize, n_rows: usize) -> String {
    if n_classes > MAX_CLASSES {
        format!(
            "{n_classes} distinct values; a label audit needs a classification label (at most {MAX_CLASSES} classes); is it a regression target?"
        )
    } else {
        format!(
            "{n_classes} distinct values in {n_rows} rows; a label audit needs a classification label (classes that repeat: at most one class per two rows); is it a regression target?"
        )
    }
}

/// Most classes a label audit takes. Its structures grow with the square of the classes
/// (the confident joint and the per-class thresholds over every row's probabilities, the
/// model's one-vs-rest weights, the annotators' confusion matrices): a float column given
/// as the label, one class per row, took 2.9 GB at 6,000 rows and aborted at 12,000.
pub const MAX_CLASSES: usize = 1000;

/// Below this many classes a label may have fewer rows than twice its classes (small
/// tables with many small classes); above it, such a label is refused.
pub const FEW_CLASSES: usize = 50;

/// Refuse a label that is not a classification label before anything of size classes x
/// classes (or rows x classes) is allocated: more than [`MAX_CLASSES`] classes, or more
/// than [`FEW_CLASSES`] classes with most rows in a class of their own (more classes than
/// half the rows).
pub fn check_class_count(n_classes: usize, n_rows: usize) -> Result<(), LabelError> {
    let mostly_singletons = n_classes > FEW_CLASSES && n_classes.saturating_mul(2) > n_rows;
    if n_classes > MAX_CLASSES || mostly_singletons {
        return Err(LabelError::TooManyClasses { n_classes, n_rows });
    }
    Ok(())
}

/// A borrowed, row-major `n_rows x n_classes` matrix of predicted probabilities
/// (out-of-sample: each row predicted by a model that did not train on it).
#[derive(Debug, Clone, Copy)]
pub struct ProbMatrix<'a> {
    data: &'a [f64],
    n_rows: usize,
    n_classes: usize,
}

impl<'a> ProbMatrix<'a> {
    /// Wraps `data` (row `i` is `data[i * n_classes..(i + 1) * n_classes]`). Only the shape is
    /// checked here; values are checked by the functions that use them.
    pub fn new(data: &'a [f64], n_rows: usize, n_classes: usize) -> Result<Self, LabelError> {
        if n_rows.checked_mul(n_classes) != Some(data.len()) {
            return Err(LabelError::ShapeMismatch {
                values: data.len(),
                n_rows,
                n_classes,
            });
        }
        Ok(Self {
            data,
            n_rows,
            n_classes,
        })
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Row `i`. Callers index rows below `n_rows` only; out of range gives an empty slice
    /// rather than a panic.
    pub fn row(&self, i: usize) -> &'a [f64] {
        let k = self.n_classes;
        self.data.get(i * k..(i + 1) * k).unwrap_or(&[])
    }

    /// The row-major values.
    pub fn as_slice(&self) -> &'a [f64] {
        self.data
    }

    /// Checks every value is finite and in `[0, 1]`, and (when `row_sum_tolerance` is given)
    /// that each row sums to 1 within it. cleanlab itself checks only the `[0, 1]` range and
    /// lets NaN through (it then silently flags fewer rows); we reject NaN and, by default,
    /// rows that are not distributions, because scores or logits passed by mistake would
    /// otherwise give confident-looking nonsense.
    pub fn validate(&self, row_sum_tolerance: Option<f64>) -> Result<(), LabelError> {
        if let Some(tol) = row_sum_tolerance
            && !(tol >= 0.0 && tol.is_finite())
        {
            return Err(LabelError::InvalidOption(format!(
                "row-sum tolerance must be a non-negative number, got {tol}"
            )));
        }
        for (row, values) in self.data.chunks_exact(self.n_classes.max(1)).enumerate() {
            let mut sum = 0.0;
            for (class, &value) in values.iter().enumerate() {
                if !value.is_finite() {
                    return Err(LabelError::NotFinite { row, class });
                }
                if !(0.0..=1.0).contains(&value) {
                    return Err(LabelError::OutOfUnitRange { row, class, value });
                }
                sum += value;
            }
            if let Some(tolerance) = row_sum_tolerance
                && (sum - 1.0).abs() > tolerance
            {
                return Err(LabelError::RowSum {
                    row,
                    sum,
                    tolerance,
                });
            }
        }
        Ok(())
    }
}

/// Index of the first maximum, as `numpy.argmax` (ties go to the lowest index). `values`
/// must be non-empty and NaN-free (validated before this is called).
pub(crate) fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (k, &v) in values.iter().enumerate().skip(1) {
        if v > values[best] {
            best = k;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prob_matrix_shape_and_validation() {
        let data = [0.2, 0.8, 0.5, 0.5];
        let p = ProbMatrix::new(&data, 2, 2).unwrap();
        assert_eq!(p.row(1), &[0.5, 0.5]);
        assert!(p.row(2).is_empty());
        assert!(p.validate(Some(1e-3)).is_ok());
        assert!(matches!(
            ProbMatrix::new(&data, 3, 2),
            Err(LabelError::ShapeMismatch { .. })
        ));
        let bad = [0.2, 0.8, f64::NAN, 0.5];
        let e = ProbMatrix::new(&bad, 2, 2).unwrap().validate(None);
        assert_eq!(e, Err(LabelError::NotFinite { row: 1, class: 0 }));
        let bad = [0.2, 0.9, 0.5, 0.5];
        let e = ProbMatrix::new(&bad, 2, 2).unwrap().validate(Some(1e-3));
        assert!(matches!(e, Err(LabelError::RowSum { row: 0, .. })));
        assert!(ProbMatrix::new(&bad, 2, 2).unwrap().validate(None).is_ok());
        let bad = [1.5, -0.5, 0.5, 0.5];
        let e = ProbMatrix::new(&bad, 2, 2).unwrap().validate(None);
        assert!(matches!(
            e,
            Err(LabelError::OutOfUnitRange {
                row: 0,
                class: 0,
                ..
            })
        ));
        let e = ProbMatrix::new(&data, 2, 2).unwrap().validate(Some(-1.0));
        assert!(matches!(e, Err(LabelError::InvalidOption(_))));
        // every message is one readable line
        let msg = LabelError::LabelOutOfRange {
            row: 3,
            label: 4,
            n_classes: 3,
        }
        .to_string();
        assert!(msg.contains("row 3") && msg.contains("5 columns"), "{msg}");
    }

    #[test]
    fn argmax_takes_first_maximum() {
        assert_eq!(argmax(&[0.5, 0.5, 0.0]), 0);
        assert_eq!(argmax(&[0.1, 0.5, 0.5]), 1);
        assert_eq!(argmax(&[0.7]), 0);
    }
}
