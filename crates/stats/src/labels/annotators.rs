//! The audit of a table labelled by several annotators: agreement (Krippendorff's alpha,
//! Fleiss' and Cohen's kappa), a consensus label per item (CROWDLAB with probabilities,
//! else weighted agreement or the majority vote), a quality score per annotator, the most
//! disputed items, and gold labels that disagree with the consensus. [`annotator_audit`]
//! returns a typed [`AnnotatorAudit`] whose serde form is the `labels --format json`
//! document of annotator input; fields are in alphabetical order, the document's key order.

use std::collections::BTreeMap;

use serde::Serialize;

use super::audit::{
    AuditCheck, AuditError, IssueReason, JSON_VERSION, Table, count_check, no_errors, opt_num,
    pred_probs_rows, probability_matrix, round6,
};
use super::features::sort_classes;
use super::{
    Annotations, ConsensusMethod, MIN_PAIR_ITEMS, ProbMatrix, agreement_report, check_class_count,
};
use crate::Severity;

/// Disputed items listed.
pub const DISPUTED_ITEMS: usize = 20;
/// Krippendorff's lowest alpha for tentative conclusions.
pub const MIN_ALPHA: f64 = 0.667;

/// How the annotations are laid out in the table.
#[derive(Debug, Clone, PartialEq)]
pub enum AnnotatorLayout {
    /// One row per item, one column per annotator (blanks = not labelled).
    Wide(Vec<String>),
    /// One row per annotation: the item, annotator and label columns.
    Long {
        item: String,
        annotator: String,
        label: String,
    },
}

/// What to audit.
#[derive(Debug, Clone)]
pub struct AnnotatorSpec {
    pub layout: AnnotatorLayout,
    /// The gold label column, if any.
    pub gold: Option<String>,
    /// Out-of-sample probabilities, one numeric column per class: one row per data row
    /// (wide), or one row per item matched by the item column (long). Enables CROWDLAB.
    pub pred_probs: Option<Table>,
    /// More issues than this fail the `label_issues` check (an error); `None`: never.
    pub max_issues: Option<usize>,
}

/// The `labels --format json` document of annotator input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnotatorAudit {
    pub agreement: Agreement,
    /// Best first (by quality, then name).
    pub annotators: Vec<AnnotatorSummary>,
    pub classes: Vec<String>,
    pub consensus: Vec<ItemConsensus>,
    pub consensus_method: ConsensusMethod,
    /// Items with two or more labels that do not all agree, least agreement first (at most
    /// [`DISPUTED_ITEMS`]).
    pub disputed: Vec<DisputedItem>,
    pub gold: Option<GoldSummary>,
    pub input: String,
    /// The gold label column.
    pub label: Option<String>,
    /// Items whose gold label disagrees with the consensus, lowest score first.
    pub label_issues: Vec<GoldIssue>,
    pub max_issues: Option<usize>,
    pub n_issues: usize,
    pub n_items: usize,
    pub n_rows: usize,
    pub notes: Vec<String>,
    pub passed: bool,
    pub version: &'static str,
    /// The checks behind `passed`, in order (not part of the document).
    #[serde(skip)]
    pub checks: Vec<AuditCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    pub cohen_kappa: Vec<PairSummary>,
    pub fleiss_kappa: Option<f64>,
    pub krippendorff_alpha: Option<f64>,
    pub mean_labels_per_item: f64,
    pub n_items_multi_labelled: usize,
    pub n_labels: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairSummary {
    pub a: String,
    pub b: String,
    pub kappa: Option<f64>,
    pub n_items: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnotatorSummary {
    pub accuracy_vs_gold: Option<f64>,
    pub agreement_with_consensus: Option<f64>,
    pub agreement_with_majority: Option<f64>,
    pub crowdlab_weight: Option<f64>,
    pub estimated_accuracy: Option<f64>,
    pub n_gold: usize,
    pub n_labelled: usize,
    pub name: String,
    /// The agreement with the consensus.
    pub quality: Option<f64>,
    pub weight: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemConsensus {
    pub agreement: Option<f64>,
    pub item: String,
    pub label: Option<String>,
    pub row: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisputedItem {
    pub agreement: f64,
    pub consensus: Option<String>,
    pub item: String,
    pub row: usize,
    /// Labels given to the item, by class.
    pub votes: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoldSummary {
    pub crowdlab_accuracy: Option<f64>,
    pub majority_vote_accuracy: Option<f64>,
    pub n_items: usize,
    pub weighted_agreement_accuracy: Option<f64>,
}

/// An item whose gold label disagrees with the consensus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoldIssue {
    pub given: Option<String>,
    pub item: String,
    pub reason: IssueReason,
    pub reasons: Vec<IssueReason>,
    pub row: usize,
    /// Share of the item's annotators that chose the gold label.
    pub score: f64,
    pub suggested: Option<String>,
}

/// Annotations read from the table: item names, annotator names, item-major labels, gold.
struct AnnotatorInput {
    items: Vec<String>,
    annotators: Vec<String>,
    labels: Vec<Vec<Option<String>>>,
    gold: Option<Vec<Option<String>>>,
}

fn annotator_input(spec: &AnnotatorSpec, data: &Table) -> Result<AnnotatorInput, AuditError> {
    let col = |name: &str| data.labels(name);
    let gold_col = || -> Result<Option<Vec<Option<String>>>, AuditError> {
        match &spec.gold {
            Some(g) => {
                data.require_column(g, "--label")?;
                Ok(Some(col(g)?))
            }
            None => Ok(None),
        }
    };
    let (item_c, ann_c, label_c) = match &spec.layout {
        AnnotatorLayout::Wide(annotators) => {
            for a in annotators {
                data.require_column(a, "--annotators")?;
            }
            if annotators.len() < 2 {
                return Err(AuditError::Invalid(format!(
                    "--annotators needs at least two columns, got {}",
                    annotators.len()
                )));
            }
            let cols: Vec<Vec<Option<String>>> = annotators
                .iter()
                .map(|a| col(a))
                .collect::<Result<_, _>>()?;
            let labels = (0..data.n_rows)
                .map(|i| cols.iter().map(|c| c[i].clone()).collect())
                .collect();
            return Ok(AnnotatorInput {
                items: (0..data.n_rows).map(|i| i.to_string()).collect(),
                annotators: annotators.clone(),
                labels,
                gold: gold_col()?,
            });
        }
        AnnotatorLayout::Long {
            item,
            annotator,
            label,
        } => (item, annotator, label),
    };
    for c in [item_c, ann_c, label_c] {
        data.require_column(c, "--long")?;
    }
    let (items_v, anns_v, labels_v) = (col(item_c)?, col(ann_c)?, col(label_c)?);
    let gold_v = gold_col()?;
    let mut item_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut items = Vec::new();
    let mut annotators: Vec<String> = anns_v.iter().flatten().cloned().collect();
    annotators.sort();
    annotators.dedup();
    let mut labels: Vec<Vec<Option<String>>> = Vec::new();
    let mut gold: Vec<Option<String>> = Vec::new();
    for r in 0..data.n_rows {
        let (Some(item), Some(ann)) = (&items_v[r], &anns_v[r]) else {
            return Err(AuditError::Invalid(format!(
                "{}: row {r}: the item or annotator is missing",
                data.name
            )));
        };
        let i = *item_index.entry(item.clone()).or_insert_with(|| {
            items.push(item.clone());
            labels.push(vec![None; annotators.len()]);
            gold.push(None);
            items.len() - 1
        });
        let a = annotators.binary_search(ann).unwrap_or(0);
        if let Some(prev) = &labels[i][a]
            && Some(prev) != labels_v[r].as_ref()
        {
            return Err(AuditError::Invalid(format!(
                "{}: row {r}: annotator {ann:?} labels item {item:?} twice, differently",
                data.name
            )));
        }
        if labels_v[r].is_some() {
            labels[i][a] = labels_v[r].clone();
        }
        if let Some(g) = gold_v.as_ref().and_then(|g| g[r].clone()) {
            gold[i].get_or_insert(g);
        }
    }
    Ok(AnnotatorInput {
        items,
        annotators,
        labels,
        gold: gold_v.map(|_| gold),
    })
}

/// Probabilities for long annotator input: one row per item, matched by the item column
/// (named as in the layout), one numeric column per class; returned in `items` order.
fn item_probs(
    data: &Table,
    classes: &[String],
    items: &[String],
    item_col: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<f64>, AuditError> {
    let file = data.name.as_str();
    if !data.columns.iter().any(|c| c == item_col) {
        return Err(AuditError::Invalid(format!(
            "{file}: no item column {item_col:?}; with --long the probabilities need it to match rows to items (columns: {})",
            data.columns.join(", ")
        )));
    }
    let names = data.labels(item_col)?;
    let p = probability_matrix(data, classes, Some(item_col), notes)?;
    let k = classes.len();
    let mut row_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (r, name) in names.iter().enumerate() {
        let Some(name) = name.as_deref() else {
            return Err(AuditError::Invalid(format!(
                "{file}: row {r}, column {item_col:?}: the item is missing"
            )));
        };
        if let Some(first) = row_of.insert(name, r) {
            return Err(AuditError::Invalid(format!(
                "{file}: row {r}: item {name:?} has probabilities twice (first at row {first})"
            )));
        }
    }
    let mut out = Vec::with_capacity(items.len() * k);
    for item in items {
        let Some(&r) = row_of.get(item.as_str()) else {
            return Err(AuditError::Invalid(format!(
                "{file}: no probabilities for item {item:?}"
            )));
        };
        out.extend_from_slice(&p[r * k..(r + 1) * k]);
    }
    if row_of.len() > items.len() {
        let extra = row_of
            .keys()
            .find(|name| !items.iter().any(|i| i == *name))
            .map_or(String::new(), |n| format!(" (e.g. {n:?})"));
        return Err(AuditError::Invalid(format!(
            "{file}: {} items have probabilities but no annotations{extra}",
            row_of.len() - items.len()
        )));
    }
    Ok(out)
}

/// Audits the annotations of `table` as `spec` says: agreement statistics, a consensus per
/// item, a score per annotator, the most disputed items and, with gold labels, the items
/// whose gold label the annotators' consensus contradicts. Items of wide input are its rows
/// (named by their row number); items of long input are named by the item column.
pub fn annotator_audit(table: &Table, spec: &AnnotatorSpec) -> Result<AnnotatorAudit, AuditError> {
    let name = table.name.as_str();
    let input = annotator_input(spec, table)?;
    let mut classes: Vec<String> = input
        .labels
        .iter()
        .flatten()
        .flatten()
        .chain(input.gold.iter().flatten().flatten())
        .cloned()
        .collect();
    classes.sort();
    classes.dedup();
    sort_classes(&mut classes);
    let k = classes.len();
    if k < 2 {
        return Err(AuditError::Invalid(format!(
            "{name}: the annotations have {k} distinct label{}; agreement needs at least 2 classes",
            if k == 1 { "" } else { "s" }
        )));
    }
    // Before anything of size classes x classes is allocated.
    let given = input.labels.iter().flatten().flatten().count();
    check_class_count(k, given)
        .map_err(|e| AuditError::Invalid(format!("{name}: the annotations have {e}")))?;
    let id = |s: &Option<String>| s.as_ref().and_then(|s| classes.iter().position(|c| c == s));
    let rows: Vec<Vec<Option<usize>>> = input
        .labels
        .iter()
        .map(|r| r.iter().map(id).collect())
        .collect();
    let ann = Annotations::from_rows(&rows, k).map_err(AuditError::label(name))?;
    let gold: Option<Vec<Option<usize>>> = input.gold.as_ref().map(|g| g.iter().map(id).collect());
    let mut notes = Vec::new();
    let probs: Option<Vec<f64>> = match (&spec.pred_probs, &spec.layout) {
        (Some(file), AnnotatorLayout::Wide(_)) => Some(pred_probs_rows(
            file,
            &classes,
            input.items.len(),
            &mut notes,
        )?),
        (Some(file), AnnotatorLayout::Long { item, .. }) => {
            Some(item_probs(file, &classes, &input.items, item, &mut notes)?)
        }
        (None, _) => None,
    };
    let pm = match &probs {
        Some(p) => Some(ProbMatrix::new(p, input.items.len(), k)?),
        None => None,
    };
    let rep = agreement_report(&ann, pm, gold.as_deref()).map_err(AuditError::label(name))?;
    let consensus = rep.consensus();
    let method = rep.consensus_method();
    match method {
        ConsensusMethod::WeightedAgreement => notes.push(format!(
            "consensus by weighted_agreement: no probabilities were given and the annotators \
             overlap enough (three or more whose pairs each share >= {MIN_PAIR_ITEMS} items), so \
             each annotator's accuracy is estimated from pairwise agreement (one-coin model) and \
             its vote weighs ln((K-1) a / (1 - a)); it assumes independent mistakes"
        )),
        ConsensusMethod::MajorityVote => notes.push(format!(
            "consensus by majority vote: the annotators do not overlap enough to weigh them \
             (that needs three annotators whose pairs each share >= {MIN_PAIR_ITEMS} items and \
             agree above chance); give --pred-probs for CROWDLAB"
        )),
        ConsensusMethod::Crowdlab => {}
    }
    let per_item = ann.labels_per_item();
    let mut annotators: Vec<AnnotatorSummary> = rep
        .annotators
        .iter()
        .map(|a| AnnotatorSummary {
            name: input.annotators[a.annotator].clone(),
            quality: opt_num(a.agreement_with_consensus),
            n_labelled: a.n_labelled,
            agreement_with_consensus: opt_num(a.agreement_with_consensus),
            agreement_with_majority: opt_num(a.agreement_with_majority),
            crowdlab_weight: opt_num(a.crowdlab_weight),
            weight: opt_num(a.weight),
            estimated_accuracy: opt_num(a.estimated_accuracy),
            accuracy_vs_gold: opt_num(a.accuracy_vs_gold),
            n_gold: a.n_gold,
        })
        .collect();
    annotators.sort_by(|a, b| {
        let q = |v: &AnnotatorSummary| v.quality.unwrap_or(-1.0);
        q(b).total_cmp(&q(a)).then_with(|| a.name.cmp(&b.name))
    });
    let label = |c: Option<usize>| c.map(|c| classes[c].clone());
    let mut disputed: Vec<(usize, f64)> = (0..input.items.len())
        .filter(|&i| per_item[i] >= 2)
        .filter_map(|i| rep.item_agreement[i].filter(|&a| a < 1.0).map(|a| (i, a)))
        .collect();
    disputed.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let disputed: Vec<DisputedItem> = disputed
        .iter()
        .take(DISPUTED_ITEMS)
        .map(|&(i, a)| {
            let mut votes: BTreeMap<String, usize> = BTreeMap::new();
            for l in ann.item_labels(i) {
                *votes.entry(classes[l].clone()).or_default() += 1;
            }
            DisputedItem {
                row: i,
                item: input.items[i].clone(),
                agreement: round6(a),
                votes,
                consensus: label(consensus[i]),
            }
        })
        .collect();
    // Issues: items whose gold label disagrees with the annotators' consensus.
    let mut issues: Vec<GoldIssue> = Vec::new();
    if let Some(g) = &gold {
        let mut rows: Vec<(usize, f64)> = (0..input.items.len())
            .filter(|&i| g[i].is_some() && consensus[i].is_some() && g[i] != consensus[i])
            .map(|i| {
                let agree = ann
                    .item_labels(i)
                    .iter()
                    .filter(|&&l| Some(l) == g[i])
                    .count();
                (i, agree as f64 / per_item[i].max(1) as f64)
            })
            .collect();
        rows.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        for (i, score) in rows {
            issues.push(GoldIssue {
                row: i,
                item: input.items[i].clone(),
                given: label(g[i]),
                suggested: label(consensus[i]),
                score: round6(score),
                reason: IssueReason::GoldDisagreesWithConsensus,
                reasons: vec![IssueReason::GoldDisagreesWithConsensus],
            });
        }
    }
    let checks = vec![
        count_check(
            issues.len(),
            spec.max_issues,
            "items whose gold label disagrees with the annotators' consensus",
        ),
        match rep.krippendorff_alpha {
            Some(a) if a < MIN_ALPHA => AuditCheck {
                column: None,
                kind: "annotator_agreement",
                failure: Some((
                    Severity::Warning,
                    format!(
                        "Krippendorff's alpha {a:.3} is below 0.667, the lowest Krippendorff accepts for tentative conclusions"
                    ),
                )),
            },
            _ => AuditCheck {
                column: None,
                kind: "annotator_agreement",
                failure: None,
            },
        },
    ];
    Ok(AnnotatorAudit {
        version: JSON_VERSION,
        input: table.name.clone(),
        label: spec.gold.clone(),
        n_rows: table.n_rows,
        n_items: input.items.len(),
        n_issues: issues.len(),
        max_issues: spec.max_issues,
        passed: no_errors(&checks),
        label_issues: issues,
        agreement: Agreement {
            krippendorff_alpha: opt_num(rep.krippendorff_alpha),
            fleiss_kappa: opt_num(rep.fleiss_kappa),
            cohen_kappa: rep
                .cohen_kappa
                .iter()
                .map(|p| PairSummary {
                    a: input.annotators[p.a].clone(),
                    b: input.annotators[p.b].clone(),
                    kappa: opt_num(p.kappa),
                    n_items: p.n_items,
                })
                .collect(),
            n_labels: rep.n_labels,
            mean_labels_per_item: round6(rep.mean_labels_per_item),
            n_items_multi_labelled: rep.n_items_multi_labelled,
        },
        consensus_method: method,
        annotators,
        consensus: (0..input.items.len())
            .map(|i| ItemConsensus {
                row: i,
                item: input.items[i].clone(),
                label: label(consensus[i]),
                agreement: opt_num(rep.item_agreement[i]),
            })
            .collect(),
        disputed,
        gold: rep.gold.as_ref().map(|g| GoldSummary {
            n_items: g.n_items,
            majority_vote_accuracy: opt_num(g.majority_vote_accuracy),
            crowdlab_accuracy: opt_num(g.crowdlab_accuracy),
            weighted_agreement_accuracy: opt_num(g.weighted_agreement_accuracy),
        }),
        notes,
        classes,
        checks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::audit::tests::{table, text};

    /// Three annotators, six items; they agree on all but item 4; the gold label of item 0
    /// is not what they all said.
    fn wide() -> Table {
        table(vec![
            (
                "r1",
                text(&[
                    Some("x"),
                    Some("x"),
                    Some("y"),
                    Some("y"),
                    Some("x"),
                    Some("y"),
                ]),
            ),
            (
                "r2",
                text(&[Some("x"), Some("x"), Some("y"), Some("y"), Some("y"), None]),
            ),
            (
                "r3",
                text(&[
                    Some("x"),
                    Some("x"),
                    Some("y"),
                    Some("y"),
                    Some("y"),
                    Some("y"),
                ]),
            ),
            (
                "gold",
                text(&[Some("y"), Some("x"), Some("y"), None, Some("y"), Some("y")]),
            ),
        ])
    }

    fn wide_spec() -> AnnotatorSpec {
        AnnotatorSpec {
            layout: AnnotatorLayout::Wide(vec!["r1".into(), "r2".into(), "r3".into()]),
            gold: Some("gold".into()),
            pred_probs: None,
            max_issues: None,
        }
    }

    #[test]
    fn gold_labels_against_the_consensus() {
        let a = annotator_audit(&wide(), &wide_spec()).unwrap();
        assert_eq!(a.classes, ["x", "y"]);
        assert_eq!((a.n_items, a.n_rows), (6, 6));
        assert_eq!(a.consensus_method, ConsensusMethod::MajorityVote);
        let labels: Vec<&str> = a
            .consensus
            .iter()
            .map(|c| c.label.as_deref().unwrap())
            .collect();
        assert_eq!(labels, ["x", "x", "y", "y", "y", "y"]);
        assert_eq!(a.label_issues.len(), 1);
        let i = &a.label_issues[0];
        assert_eq!((i.row, i.item.as_str()), (0, "0"));
        assert_eq!(
            (i.given.as_deref(), i.suggested.as_deref()),
            (Some("y"), Some("x"))
        );
        assert_eq!(i.score, 0.0, "no annotator chose the gold label");
        // Item 4 is the only disputed one: 2 of 3 chose y.
        assert_eq!(a.disputed.len(), 1);
        assert_eq!(a.disputed[0].row, 4);
        assert_eq!(a.disputed[0].agreement, round6(2.0 / 3.0));
        assert_eq!(
            a.disputed[0].votes,
            BTreeMap::from([("x".into(), 1), ("y".into(), 2)])
        );
        // r1 disagreed once: last.
        assert_eq!(a.annotators.last().unwrap().name, "r1");
        assert!(a.passed);
        let direct = serde_json::to_string(&a).unwrap();
        assert_eq!(direct, serde_json::to_value(&a).unwrap().to_string());
    }

    #[test]
    fn long_input_gives_the_same_agreement() {
        let mut item = Vec::new();
        let mut who = Vec::new();
        let mut label = Vec::new();
        let cols = [
            ["x", "x", "y", "y", "x", "y"],
            ["x", "x", "y", "y", "y", ""],
            ["x", "x", "y", "y", "y", "y"],
        ];
        let items = ["i0", "i1", "i2", "i3", "i4", "i5"];
        for (a, col) in cols.iter().enumerate() {
            for (i, l) in col.iter().enumerate() {
                if !l.is_empty() {
                    item.push(Some(items[i]));
                    who.push(Some(["r1", "r2", "r3"][a]));
                    label.push(Some(*l));
                }
            }
        }
        let t = table(vec![
            ("item", text(&item)),
            ("who", text(&who)),
            ("label", text(&label)),
        ]);
        let spec = AnnotatorSpec {
            layout: AnnotatorLayout::Long {
                item: "item".into(),
                annotator: "who".into(),
                label: "label".into(),
            },
            gold: None,
            pred_probs: None,
            max_issues: Some(0),
        };
        let l = annotator_audit(&t, &spec).unwrap();
        let w = annotator_audit(&wide(), &wide_spec()).unwrap();
        assert_eq!(l.n_items, 6);
        assert_eq!(l.consensus[4].item, "i4");
        assert_eq!(l.agreement, w.agreement);
        assert!(l.label_issues.is_empty() && l.passed && l.gold.is_none());
    }

    #[test]
    fn an_annotator_labelling_an_item_twice_differently_is_an_error_with_the_row() {
        let t = table(vec![
            ("item", text(&[Some("i0"), Some("i0"), Some("i1")])),
            ("who", text(&[Some("r1"), Some("r1"), Some("r2")])),
            ("label", text(&[Some("x"), Some("y"), Some("x")])),
        ]);
        let spec = AnnotatorSpec {
            layout: AnnotatorLayout::Long {
                item: "item".into(),
                annotator: "who".into(),
                label: "label".into(),
            },
            gold: None,
            pred_probs: None,
            max_issues: None,
        };
        let e = annotator_audit(&t, &spec).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv: row 1: annotator \"r1\" labels item \"i0\" twice, differently"
        );
    }
}
