//! The terminal tables of `preflight labels`: the label audit of a labelled table and the
//! audit of several annotators, read from the typed audits.

use comfy_table::Table;
use preflight_stats::labels::{AnnotatorAudit, LabelAudit};

use super::number::{count, opt_stat, stat, value};
use crate::checks::{self, Check, FailOn};

/// Rows shown in the terminal table (JSON has them all).
pub const TABLE_ROWS: usize = 30;

/// Text from the data: blanks and control characters visible.
fn text(s: &str) -> String {
    crate::display::value(s).into_owned()
}

fn opt_text(s: Option<&str>) -> String {
    s.map_or_else(|| "-".to_string(), text)
}

fn push_checks(s: &mut String, checks: &[Check]) {
    for c in checks {
        match &c.failure {
            Some(f) => s.push_str(&format!("{}: {} -- {}\n", f.severity, c.kind, f.message)),
            None => s.push_str(&format!("ok: {}\n", c.kind)),
        }
    }
}

fn more(s: &mut String, total: usize) {
    if total > TABLE_ROWS {
        s.push_str(&format!(
            "... {} more (use --format json for all)\n",
            total - TABLE_ROWS
        ));
    }
}

/// The label audit of a labelled table: header, probabilities, ranked issues, per-class
/// noise, likely confusions, the checks and notes.
pub fn model_table(a: &LabelAudit, checks: &[Check], fail_on: FailOn) -> String {
    use preflight_stats::labels::audit::Probabilities;
    let mut s = String::new();
    s.push_str(&format!(
        "labels: {} ({} rows, label {}, {} classes) -- {}\n",
        text(&a.input),
        count(a.n_rows as u64),
        text(&a.label),
        count(a.classes.len() as u64),
        checks::verdict(checks, fail_on)
    ));
    s.push_str(&match &a.probabilities {
        Probabilities::BuiltIn {
            model, folds: None, ..
        } => format!(
            "probabilities: built-in {} model, leave-one-out\n",
            text(model.as_str())
        ),
        Probabilities::BuiltIn {
            model,
            folds: Some(folds),
            seed,
            ..
        } => format!(
            "probabilities: built-in {} model, {folds} folds, seed {}\n",
            text(model.as_str()),
            // As the document's number reads back (a seed above 2^53 loses digits).
            value(*seed as f64)
        ),
        other => format!("probabilities: {}\n", other.source()),
    });
    if let Probabilities::BuiltIn { candidates, .. } = &a.probabilities
        && !candidates.is_empty()
    {
        let each: Vec<String> = candidates
            .iter()
            .map(|c| format!("{} {}", c.model.as_str(), stat(c.log_loss)))
            .collect();
        s.push_str(&format!(
            "  --model auto uses the mean of the models run; out-of-sample log losses (for --model): {}\n",
            each.join(", ")
        ));
    }
    let issues = &a.label_issues;
    s.push_str(&format!(
        "\n{} label issues (filter {}), lowest {} first; label health {}\n",
        count(issues.len() as u64),
        a.filter_by.as_str(),
        a.score.as_str(),
        stat(a.health.label_health_score)
    ));
    if !issues.is_empty() {
        let mut t = super::table(&["row", "given", "suggested", "score", "reason"]);
        for i in issues.iter().take(TABLE_ROWS) {
            t.add_row(vec![
                i.row.to_string(),
                text(&i.given),
                opt_text(i.suggested.as_deref()),
                stat(i.score),
                i.reasons
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ]);
        }
        s.push_str(&format!("{t}\n"));
        more(&mut s, issues.len());
    }
    let mut t = super::table(&["class", "rows", "share", "est. noise rate", "issues"]);
    for c in &a.noise.per_class {
        t.add_row(vec![
            text(&c.class),
            count(c.count as u64),
            stat(c.share),
            stat(c.estimated_noise_rate),
            count(c.issues as u64),
        ]);
    }
    s.push_str(&format!("\nper class\n{t}\n"));
    if !a.noise.pairs.is_empty() {
        s.push_str("most likely confusions (given -> true: share of rows): ");
        let top: Vec<String> = a
            .noise
            .pairs
            .iter()
            .take(5)
            .map(|p| {
                format!(
                    "{} -> {}: {}",
                    text(&p.given),
                    text(&p.true_label),
                    stat(p.rate)
                )
            })
            .collect();
        s.push_str(&top.join("; "));
        s.push('\n');
    }
    s.push('\n');
    push_checks(&mut s, checks);
    for e in &a.excluded_columns {
        s.push_str(&format!(
            "note: column {} not used as a feature: {}\n",
            text(&e.column),
            text(&e.reason)
        ));
    }
    for n in &a.notes {
        s.push_str(&format!("note: {}\n", text(n)));
    }
    s
}

/// The audit of several annotators: agreement, annotators best first, pairs, the most
/// disputed items, gold labels that disagree with the consensus, the checks.
pub fn annotator_table(a: &AnnotatorAudit, checks: &[Check], fail_on: FailOn) -> String {
    let method = a.consensus_method.as_str();
    let mut s = format!(
        "labels: {} ({} items, {} annotators, consensus by {}) -- {}\n",
        text(&a.input),
        count(a.n_items as u64),
        count(a.annotators.len() as u64),
        text(method),
        checks::verdict(checks, fail_on)
    );
    let g = &a.agreement;
    s.push_str(&format!(
        "Krippendorff's alpha {} | Fleiss' kappa {} | {} labels, {} per item\n",
        opt_stat(g.krippendorff_alpha),
        opt_stat(g.fleiss_kappa),
        count(g.n_labels as u64),
        stat(g.mean_labels_per_item)
    ));
    let mut t = super::table(&[
        "annotator",
        "quality",
        "labelled",
        "agrees w/ majority",
        "weight",
        "accuracy vs gold",
    ]);
    for x in &a.annotators {
        t.add_row(vec![
            text(&x.name),
            opt_stat(x.quality),
            count(x.n_labelled as u64),
            opt_stat(x.agreement_with_majority),
            opt_stat(x.weight),
            opt_stat(x.accuracy_vs_gold),
        ]);
    }
    s.push_str(&format!("\nannotators (best first)\n{t}\n"));
    for n in a.notes.iter().filter(|n| n.starts_with("consensus by")) {
        s.push_str(&format!("{n}\n"));
    }
    if let Some(gold) = &a.gold {
        s.push_str(&format!(
            "consensus accuracy vs gold: majority vote {}{}{}\n",
            opt_stat(gold.majority_vote_accuracy),
            gold.crowdlab_accuracy
                .map_or(String::new(), |x| format!(", CROWDLAB {}", stat(x))),
            gold.weighted_agreement_accuracy
                .map_or(String::new(), |x| format!(
                    ", weighted agreement {}",
                    stat(x)
                )),
        ));
    }
    let mut t = super::table(&["a", "b", "Cohen's kappa", "items"]);
    for p in &g.cohen_kappa {
        t.add_row(vec![
            text(&p.a),
            text(&p.b),
            opt_stat(p.kappa),
            count(p.n_items as u64),
        ]);
    }
    s.push_str(&format!("\npairs\n{t}\n"));
    if !a.disputed.is_empty() {
        let mut t = super::table(&["row", "item", "agreement", "votes", "consensus"]);
        for d in &a.disputed {
            t.add_row(vec![
                d.row.to_string(),
                text(&d.item),
                stat(d.agreement),
                serde_json::to_string(&d.votes).unwrap_or_default(),
                opt_text(d.consensus.as_deref()),
            ]);
        }
        s.push_str(&format!("\nmost disputed items\n{t}\n"));
    }
    if !a.label_issues.is_empty() {
        let mut t: Table = super::table(&["row", "item", "gold", "consensus", "score"]);
        for i in a.label_issues.iter().take(TABLE_ROWS) {
            t.add_row(vec![
                i.row.to_string(),
                text(&i.item),
                opt_text(i.given.as_deref()),
                opt_text(i.suggested.as_deref()),
                stat(i.score),
            ]);
        }
        s.push_str(&format!("\ngold label disagrees with consensus\n{t}\n"));
    }
    s.push('\n');
    push_checks(&mut s, checks);
    s
}
