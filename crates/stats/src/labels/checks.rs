//! Label checks that need no model (labels.md, "Model-free label checks" and Datalab's class
//! imbalance).
//!
//! - [`conflicting_labels`]: rows with identical features but different labels. The caller
//!   hashes each row's feature values (nulls included as a value) to a `u64`; rows are
//!   grouped by hash, so two different rows that collide on a 64-bit hash would be grouped
//!   together: use a good hash (the chance is about N^2 / 2^65).
//! - [`class_imbalance`]: the rarest class's share against cleanlab Datalab's `0.1 / K`
//!   threshold, and the max/min count ratio.
//! - [`typo_classes`]: classes whose name is probably a misspelling of a larger class's
//!   (`"adelie "` next to `"Adelie"`).

use std::collections::HashMap;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

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

/// Why [`typo_classes`] took a class for a misspelling of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TypoRule {
    /// The names are equal after NFKC normalisation, trimming blanks and lowercasing.
    CaseBlanksOrUnicode,
    /// A rare class within a small Damerau-Levenshtein distance of a much larger class.
    EditDistance,
}

impl TypoRule {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CaseBlanksOrUnicode => "case_blanks_or_unicode",
            Self::EditDistance => "edit_distance",
        }
    }
}

/// A class [`typo_classes`] believes is a misspelling of `suggested`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypoMatch {
    pub class: usize,
    pub suggested: usize,
    pub rule: TypoRule,
    /// Damerau-Levenshtein distance between the normalised names (0 for
    /// [`TypoRule::CaseBlanksOrUnicode`]).
    pub distance: usize,
}

/// A class this rare or rarer can be a typo by edit distance: `max(2, 0.5%)` of the rows.
pub fn typo_rare_max(n_rows: usize) -> usize {
    (n_rows / 200).max(2)
}

/// A typo by edit distance needs a target with at least this many times its rows.
pub const TYPO_TARGET_RATIO: usize = 10;

/// Above this many classes the edit-distance rule is skipped (it compares rare classes with
/// large ones pairwise); the case/blank/Unicode rule always runs.
pub const TYPO_MAX_CLASSES: usize = 2000;

/// Largest Damerau-Levenshtein distance accepted between normalised names whose shorter one
/// has `len` characters: none under 3 characters (codes such as `A`/`B` or `1`/`7` are one
/// edit apart and mean different things), 1 up to 7, 2 from 8.
fn max_typo_distance(len: usize) -> usize {
    match len {
        0..=2 => 0,
        3..=7 => 1,
        _ => 2,
    }
}

/// The form under which names that differ only in case, surrounding blanks or Unicode
/// normalisation compare equal: NFKC (so a precomposed `é` equals `e` + combining accent,
/// and a full-width `Ａ` equals `A`), trimmed, lowercased.
pub fn typo_key(name: &str) -> String {
    let nfkc: String = name.nfkc().collect();
    nfkc.trim().to_lowercase()
}

/// Classes that are probably misspellings of another class, which is then suggested.
/// `classes[c]` has `counts[c]` rows. A class is a typo of a LARGER class (more rows, so
/// of two spellings the rarer one is the suspect) when
///
/// - [`TypoRule::CaseBlanksOrUnicode`]: the two are equal under [`typo_key`], whatever the
///   sizes (`"adelie "`, `"ADELIE"` and `"Adelie"` are one class); or
/// - [`TypoRule::EditDistance`]: it has at most [`typo_rare_max`] rows, the other at least
///   [`TYPO_TARGET_RATIO`] times as many, the two keys are within a Damerau-Levenshtein
///   distance of 1 (shorter key of 3-7 characters) or 2 (8 or more), and the two names are
///   not both numbers (`"10"` is not a typo of `"1"`).
///
/// Classes are visited from the largest down, and only a class that is not itself a typo
/// can be suggested, so chains resolve to the largest spelling. Among several candidates:
/// the case/blank/Unicode rule first, then the smallest distance, the most rows, the name.
/// Equal-sized spellings are left alone: neither is the larger.
pub fn typo_classes(classes: &[String], counts: &[usize]) -> Vec<TypoMatch> {
    let k = classes.len().min(counts.len());
    let n_rows: usize = counts.iter().take(k).sum();
    let rare_max = typo_rare_max(n_rows);
    let keys: Vec<String> = classes.iter().take(k).map(|c| typo_key(c)).collect();
    let chars: Vec<Vec<char>> = keys.iter().map(|c| c.chars().collect()).collect();
    let numeric: Vec<bool> = classes
        .iter()
        .take(k)
        .map(|c| c.trim().parse::<f64>().is_ok())
        .collect();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(classes[a].cmp(&classes[b])));
    // the largest non-typo class of each key seen so far
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    // non-typo classes with at least TYPO_TARGET_RATIO rows, largest first
    let mut large: Vec<usize> = Vec::new();
    let mut found = Vec::new();
    for &c in &order {
        let same_key = by_key
            .get(keys[c].as_str())
            .copied()
            .filter(|&t| counts[t] > counts[c]);
        let hit = match same_key {
            Some(t) => Some(TypoMatch {
                class: c,
                suggested: t,
                rule: TypoRule::CaseBlanksOrUnicode,
                distance: 0,
            }),
            None if counts[c] <= rare_max && k <= TYPO_MAX_CLASSES => large
                .iter()
                .filter(|&&t| counts[t] >= TYPO_TARGET_RATIO * counts[c].max(1))
                .filter(|&&t| !(numeric[c] && numeric[t]))
                .filter_map(|&t| {
                    let limit = max_typo_distance(chars[c].len().min(chars[t].len()));
                    if limit == 0 || chars[c].len().abs_diff(chars[t].len()) > limit {
                        return None;
                    }
                    let d = strsim::generic_damerau_levenshtein(&chars[c], &chars[t]);
                    (d <= limit).then_some((d, t))
                })
                .min_by(|a, b| {
                    a.0.cmp(&b.0)
                        .then(counts[b.1].cmp(&counts[a.1]))
                        .then(classes[a.1].cmp(&classes[b.1]))
                })
                .map(|(d, t)| TypoMatch {
                    class: c,
                    suggested: t,
                    rule: TypoRule::EditDistance,
                    distance: d,
                }),
            None => None,
        };
        match hit {
            Some(m) => found.push(m),
            None => {
                by_key.entry(keys[c].as_str()).or_insert(c);
                if counts[c] >= TYPO_TARGET_RATIO {
                    large.push(c);
                }
            }
        }
    }
    found.sort_by_key(|m| m.class);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn typo_classes_by_case_blanks_unicode_and_edit_distance() {
        // "adelie " and "ADELIE" fold to Adelie; "Gentooo" is one edit from Gentoo and rare;
        // "Chinstrap" is a class of its own.
        let c = names(&[
            "Adelie",
            "adelie ",
            "ADELIE",
            "Gentoo",
            "Gentooo",
            "Chinstrap",
        ]);
        let m = typo_classes(&c, &[150, 1, 30, 120, 1, 68]);
        let got: Vec<(usize, usize, TypoRule, usize)> = m
            .iter()
            .map(|m| (m.class, m.suggested, m.rule, m.distance))
            .collect();
        assert_eq!(
            got,
            [
                (1, 0, TypoRule::CaseBlanksOrUnicode, 0),
                (2, 0, TypoRule::CaseBlanksOrUnicode, 0),
                (4, 3, TypoRule::EditDistance, 1),
            ]
        );
        // Unicode: a decomposed "é" and a full-width letter fold onto the plain forms.
        let c = names(&["caf\u{e9}", "cafe\u{301}", "\u{ff21}pple", "Apple"]);
        let m = typo_classes(&c, &[40, 3, 2, 50]);
        assert_eq!(m.len(), 2, "{m:?}");
        assert_eq!((m[0].class, m[0].suggested), (1, 0));
        assert_eq!((m[1].class, m[1].suggested), (2, 3));
    }

    #[test]
    fn typo_classes_leave_real_classes_alone() {
        // equal sizes: neither spelling is the larger
        assert!(typo_classes(&names(&["Yes", "yes"]), &[10, 10]).is_empty());
        // not rare enough (3 rows > max(2, 0.5% of 263)), or the large class not 10x larger
        assert!(typo_classes(&names(&["Gentoo", "Gentooo"]), &[260, 3]).is_empty());
        assert!(typo_classes(&names(&["Gentoo", "Gentooo"]), &[9, 1]).is_empty());
        // numbers and short codes are one edit apart by nature
        assert!(typo_classes(&names(&["1", "7"]), &[500, 1]).is_empty());
        assert!(typo_classes(&names(&["10", "1"]), &[500, 1]).is_empty());
        assert!(typo_classes(&names(&["A", "B"]), &[500, 1]).is_empty());
        // two edits on a short name
        assert!(typo_classes(&names(&["Adelie", "Adeloe2"]), &[500, 1]).is_empty());
        // two edits on a long name are accepted; a transposition is one edit
        let m = typo_classes(
            &names(&["Chinstrap", "Chinstarp", "Chnstrapp"]),
            &[500, 1, 1],
        );
        assert_eq!(m.iter().map(|m| m.distance).collect::<Vec<_>>(), [1, 2]);
    }

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
