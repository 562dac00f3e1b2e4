//! Label checks that need no model (labels.md, "Model-free label checks" and Datalab's class
//! imbalance).
//!
//! - [`conflicting_labels`]: rows with identical features but different labels. The caller
//!   hashes each row's feature values (nulls included as a value) to a `u64`; rows are
//!   grouped by hash, so two different rows that collide on a 64-bit hash would be grouped
//!   together: use a good hash (the chance is about N^2 / 2^65).
//! - [`class_imbalance`]: the rarest class's share against cleanlab Datalab's `0.1 / K`
//!   threshold, and the max/min count ratio.

use serde::Serialize;

use super::LabelError;

/// Rows sharing one feature-row hash whose labels disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConflictGroup {
    pub row_hash: u64,
    /// Row numbers, ascending.
    pub rows: Vec<usize>,
    /// The distinct labels among them, ascending (at least two).
    pub labels: Vec<usize>,
}

/// Result of [`conflicting_labels`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictReport {
    pub n_rows: usize,
    /// Groups of two or more identical rows (consistent or not).
    pub n_duplicate_groups: usize,
    /// Rows that have at least one identical other row.
    pub n_duplicate_rows: usize,
    /// Groups whose labels disagree, ordered by their first row.
    pub groups: Vec<ConflictGroup>,
    /// Rows in those groups.
    pub n_rows_in_conflict: usize,
    /// `n_rows_in_conflict / n_rows` (0 for no rows).
    pub share_in_conflict: f64,
}

/// Groups rows by feature hash and reports groups with more than one distinct label.
/// `row_hashes[i]` and `labels[i]` describe row i; labels may be any class ids.
pub fn conflicting_labels(
    row_hashes: &[u64],
    labels: &[usize],
) -> Result<ConflictReport, LabelError> {
    if row_hashes.len() != labels.len() {
        return Err(LabelError::LengthMismatch {
            what: "labels vs row hashes",
            expected: row_hashes.len(),
            got: labels.len(),
        });
    }
    let n = labels.len();
    // Sorting (hash, row) pairs groups equal rows without a hash map and leaves each
    // group's rows ascending.
    let mut order: Vec<(u64, usize)> = row_hashes.iter().copied().zip(0..n).collect();
    order.sort_unstable();
    let mut groups = Vec::new();
    let mut n_duplicate_groups = 0;
    let mut n_duplicate_rows = 0;
    let mut n_rows_in_conflict = 0;
    for run in order.chunk_by(|a, b| a.0 == b.0) {
        if run.len() < 2 {
            continue;
        }
        n_duplicate_groups += 1;
        n_duplicate_rows += run.len();
        let first = labels[run[0].1];
        if run.iter().all(|&(_, i)| labels[i] == first) {
            continue;
        }
        let rows: Vec<usize> = run.iter().map(|&(_, i)| i).collect();
        let mut distinct: Vec<usize> = rows.iter().map(|&i| labels[i]).collect();
        distinct.sort_unstable();
        distinct.dedup();
        n_rows_in_conflict += rows.len();
        groups.push(ConflictGroup {
            row_hash: run[0].0,
            rows,
            labels: distinct,
        });
    }
    groups.sort_by_key(|g| g.rows[0]);
    Ok(ConflictReport {
        n_rows: n,
        n_duplicate_groups,
        n_duplicate_rows,
        groups,
        n_rows_in_conflict,
        share_in_conflict: if n == 0 {
            0.0
        } else {
            n_rows_in_conflict as f64 / n as f64
        },
    })
}

/// Result of [`class_imbalance`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassImbalance {
    pub n_rows: usize,
    pub n_classes: usize,
    pub counts: Vec<usize>,
    pub shares: Vec<f64>,
    /// The class with the smallest count (lowest id on ties); empty classes included.
    pub rarest_class: usize,
    pub rarest_share: f64,
    /// cleanlab Datalab's threshold `0.1 / K`.
    pub threshold: f64,
    /// `rarest_share < threshold`.
    pub is_imbalanced: bool,
    /// Classes nobody is labelled with.
    pub empty_classes: Vec<usize>,
    /// Largest count / smallest count over all K classes; `None` when a class is empty
    /// (the ratio is infinite; see `empty_classes`).
    pub imbalance_ratio: Option<f64>,
}

/// Rows per class of `labels` over classes `0..n_classes`; errors on no rows, fewer
/// than two classes, or a label outside the classes (naming its row).
pub fn class_counts(labels: &[usize], n_classes: usize) -> Result<Vec<usize>, LabelError> {
    if labels.is_empty() {
        return Err(LabelError::Empty);
    }
    if n_classes < 2 {
        return Err(LabelError::TooFewClasses { n_classes });
    }
    let mut counts = vec![0usize; n_classes];
    for (row, &label) in labels.iter().enumerate() {
        match counts.get_mut(label) {
            Some(c) => *c += 1,
            None => {
                return Err(LabelError::LabelOutOfRange {
                    row,
                    label,
                    n_classes,
                });
            }
        }
    }
    Ok(counts)
}

/// Class shares of `labels` over classes `0..n_classes`.
pub fn class_imbalance(labels: &[usize], n_classes: usize) -> Result<ClassImbalance, LabelError> {
    let counts = class_counts(labels, n_classes)?;
    let n = labels.len() as f64;
    let shares: Vec<f64> = counts.iter().map(|&c| c as f64 / n).collect();
    let mut rarest_class = 0;
    for (class, &c) in counts.iter().enumerate() {
        if c < counts[rarest_class] {
            rarest_class = class;
        }
    }
    let threshold = 0.1 / n_classes as f64;
    let min = counts[rarest_class];
    let max = counts.iter().copied().max().unwrap_or(0);
    Ok(ClassImbalance {
        n_rows: labels.len(),
        n_classes,
        rarest_share: shares[rarest_class],
        is_imbalanced: shares[rarest_class] < threshold,
        rarest_class,
        threshold,
        empty_classes: (0..n_classes).filter(|&c| counts[c] == 0).collect(),
        imbalance_ratio: (min > 0).then(|| max as f64 / min as f64),
        shares,
        counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicting_labels_groups_rows() {
        // rows 0, 3, 5 identical (labels 1, 1, 2): conflict; rows 1, 4 identical (0, 0):
        // duplicate but consistent; row 2 unique; rows 6, 7 identical (2, 0): conflict.
        let hashes = [10, 20, 30, 10, 20, 10, 99, 99];
        let labels = [1, 0, 1, 1, 0, 2, 2, 0];
        let r = conflicting_labels(&hashes, &labels).unwrap();
        assert_eq!(r.n_duplicate_groups, 3);
        assert_eq!(r.n_duplicate_rows, 7);
        assert_eq!(
            r.groups,
            vec![
                ConflictGroup {
                    row_hash: 10,
                    rows: vec![0, 3, 5],
                    labels: vec![1, 2]
                },
                ConflictGroup {
                    row_hash: 99,
                    rows: vec![6, 7],
                    labels: vec![0, 2]
                },
            ]
        );
        assert_eq!(r.n_rows_in_conflict, 5);
        assert!((r.share_in_conflict - 5.0 / 8.0).abs() < 1e-15);
        assert!(matches!(
            conflicting_labels(&hashes, &labels[..3]),
            Err(LabelError::LengthMismatch { .. })
        ));
        let none = conflicting_labels(&[], &[]).unwrap();
        assert_eq!(none.share_in_conflict, 0.0);
    }

    #[test]
    fn class_imbalance_flags_rare_class() {
        // K = 3: threshold 0.0333; class 2 has 1 of 40 = 0.025
        let mut labels = vec![0; 25];
        labels.extend(vec![1; 14]);
        labels.push(2);
        let r = class_imbalance(&labels, 3).unwrap();
        assert_eq!(r.counts, vec![25, 14, 1]);
        assert_eq!(r.rarest_class, 2);
        assert!(r.is_imbalanced);
        assert_eq!(r.imbalance_ratio, Some(25.0));
        let balanced = class_imbalance(&[0, 1, 2, 0, 1, 2], 3).unwrap();
        assert!(!balanced.is_imbalanced);
        assert_eq!(balanced.imbalance_ratio, Some(1.0));
        let empty = class_imbalance(&[0, 1, 0, 1], 3).unwrap();
        assert_eq!(empty.empty_classes, vec![2]);
        assert_eq!(empty.imbalance_ratio, None);
        assert!(empty.is_imbalanced);
        assert!(class_imbalance(&[0, 3], 3).is_err());
        assert!(class_imbalance(&[], 3).is_err());
        assert!(class_imbalance(&[0], 1).is_err());
    }
}
