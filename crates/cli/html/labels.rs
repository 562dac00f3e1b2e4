//! The label audit section, from the typed audit (`preflight_stats::labels`): suspicious
//! rows, the noise matrix as a heat map, duplicates, class balance, and annotator
//! agreement; and [`page`], the page of `labels --html`. A section with nothing to show is
//! left out.

use maud::{Markup, html};
use preflight_stats::labels::{AnnotatorAudit, LabelAudit};

use super::charts::{self, BarRow};
use super::{DatasetInfo, Finding, Page, Verdict};
use crate::checks::{Check, FailOn};

/// Rows of a long table shown; the JSON has them all.
const ROWS: usize = 500;

/// The audit a page shows: of a labelled table, or of several annotators.
#[derive(Debug, Clone, Copy)]
pub enum Audit<'a> {
    Model(&'a LabelAudit),
    Annotators(&'a AnnotatorAudit),
}

/// The page of `labels --html`: the verdict, the data, the checks and the audit.
pub(crate) fn page<'a>(
    title: String,
    input: &str,
    audit: Audit<'a>,
    checks: &[Check],
    fail_on: FailOn,
) -> Page<'a> {
    let mut page = Page::new(title);
    page.verdict = Some(Verdict::from_checks(checks, fail_on));
    page.datasets = vec![DatasetInfo {
        role: "data".into(),
        inputs: vec![input.to_string()],
        rows: Some(match audit {
            Audit::Model(a) => a.n_rows,
            Audit::Annotators(a) => a.n_rows,
        } as u64),
        columns: None,
        source: "data",
    }];
    page.findings = Finding::from_checks(checks);
    page.labels = Some(audit);
    page
}

/// Text from the data, as everywhere on the page.
fn text(s: &str) -> String {
    crate::display::value(s).into_owned()
}

fn opt_text(s: Option<&str>) -> String {
    s.map_or_else(|| "–".into(), text)
}

/// A count (grouped by thousands); row numbers stay plain, as in the JSON.
fn int(n: usize) -> String {
    crate::render::number::count(n as u64)
}

fn num(x: Option<f64>, digits: usize) -> String {
    x.filter(|x| x.is_finite())
        .map_or_else(|| "–".into(), |x| format!("{x:.digits$}"))
}

fn more(total: usize) -> Markup {
    html! {
        @if total > ROWS { p.note { "Showing " (ROWS) " of " (total) "; the JSON output has them all." } }
    }
}

fn rows_text(items: Vec<String>) -> String {
    let n = items.len();
    let rows: Vec<String> = items.into_iter().take(12).collect();
    if n > 12 {
        format!("{}, … ({n} rows)", rows.join(", "))
    } else {
        rows.join(", ")
    }
}

fn row_list(rows: &[usize]) -> String {
    rows_text(rows.iter().map(|r| r.to_string()).collect())
}

fn label_list(labels: &[String]) -> String {
    rows_text(labels.iter().map(|l| text(l)).collect())
}

/// One row of the issue table: row, given, suggested, score, reasons.
struct IssueRow<'a> {
    row: usize,
    given: Option<&'a str>,
    suggested: Option<&'a str>,
    score: f64,
    reasons: String,
}

pub fn section(audit: Audit<'_>) -> Markup {
    let (model, ann) = match audit {
        Audit::Model(a) => (Some(a), None),
        Audit::Annotators(a) => (None, Some(a)),
    };
    let (n_rows, label, classes, n_issues, notes) = match audit {
        Audit::Model(a) => (
            a.n_rows,
            Some(a.label.as_str()),
            &a.classes,
            a.n_issues,
            &a.notes,
        ),
        Audit::Annotators(a) => (
            a.n_rows,
            a.label.as_deref(),
            &a.classes,
            a.n_issues,
            &a.notes,
        ),
    };
    let reasons = |r: &[preflight_stats::labels::IssueReason]| {
        r.iter()
            .map(|r| text(r.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let issues: Vec<IssueRow> = match audit {
        Audit::Model(a) => a
            .label_issues
            .iter()
            .map(|i| IssueRow {
                row: i.row,
                given: Some(&i.given),
                suggested: i.suggested.as_deref(),
                score: i.score,
                reasons: reasons(&i.reasons),
            })
            .collect(),
        Audit::Annotators(a) => a
            .label_issues
            .iter()
            .map(|i| IssueRow {
                row: i.row,
                given: i.given.as_deref(),
                suggested: i.suggested.as_deref(),
                score: i.score,
                reasons: reasons(&i.reasons),
            })
            .collect(),
    };
    let class_names: Vec<String> = classes.iter().map(|c| text(c)).collect();
    let joint: &[Vec<f64>] = model.map_or(&[], |m| &m.noise.joint);
    let per_class = model.map_or(&[][..], |m| &m.noise.per_class);
    let groups = model.map_or(&[][..], |m| &m.duplicates.conflicting_groups);
    let near = model.map_or(&[][..], |m| &m.near_duplicates.conflicting_pairs);
    let counts = model.map_or(&[][..], |m| &m.class_imbalance.counts);
    let total: f64 = counts.iter().map(|c| c.count as f64).sum();
    let balance: Vec<BarRow> = counts
        .iter()
        .take(30)
        .map(|c| BarRow {
            label: text(&c.class),
            cur: Some(if total > 0.0 {
                c.count as f64 / total
            } else {
                0.0
            }),
            base: None,
        })
        .collect();
    let annotators = ann.map_or(&[][..], |a| &a.annotators);
    let cohen = ann.map_or(&[][..], |a| &a.agreement.cohen_kappa);
    let disputed = ann.map_or(&[][..], |a| &a.disputed);
    html! {
        section #labels {
            h2 { "Label audit" }
            p {
                (int(n_rows)) " rows"
                @if let Some(l) = label { ", label " code { (l) } }
                @if !classes.is_empty() { ", " (classes.len()) " classes" }
                ", " b { (int(n_issues)) " issues" }
                @if let Some(h) = model.map(|m| m.health.label_health_score).filter(|h| h.is_finite()) {
                    " · label health " (format!("{:.1}%", h * 100.0))
                }
                @if let Some(m) = model.and_then(|m| match &m.probabilities {
                    preflight_stats::labels::audit::Probabilities::BuiltIn { model, .. } => Some((m.probabilities.source(), model.as_str())),
                    _ => None,
                }) {
                    span.muted { " · probabilities: " (text(m.0)) " (" (m.1) ")" }
                }
            }
            @for n in notes { p.note { (text(n)) } }
            @for e in model.map_or(&[][..], |m| &m.excluded_columns) {
                p.note { "Excluded " code { (text(&e.column)) } ": " (text(&e.reason)) }
            }
            @if !issues.is_empty() {
                h3 { "Likely mislabelled rows" }
                table.lt {
                    thead { tr { th.r { "row" } th { "given" } th { "suggested" } th.r { "score" } th { "reason" } } }
                    tbody {
                        @for i in issues.iter().take(ROWS) {
                            tr {
                                td.r { (i.row) }
                                td { (opt_text(i.given)) }
                                td { (opt_text(i.suggested)) }
                                td.r { (num(Some(i.score), 4)) }
                                td { (i.reasons) }
                            }
                        }
                    }
                }
                (more(issues.len()))
            }
            @if let Some(h) = charts::heatmap(&class_names, joint) {
                h3 { "Estimated noise (joint of given and true labels, % of rows)" }
                p.muted { "Rows: given label; columns: true label. Off the diagonal: rows likely mislabelled." }
                div.hm { (h) }
            }
            @if !per_class.is_empty() {
                table.lt {
                    thead { tr { th { "class" } th.r { "rows" } th.r { "share" } th.r { "est. noise rate" } th.r { "issues" } } }
                    tbody {
                        @for c in per_class {
                            tr {
                                td { (text(&c.class)) }
                                td.r { (int(c.count)) }
                                td.r { (num(Some(c.share), 3)) }
                                td.r { (num(Some(c.estimated_noise_rate), 3)) }
                                td.r { (int(c.issues)) }
                            }
                        }
                    }
                }
            }
            @if let Some(b) = charts::bars(&balance) {
                h3 { "Class balance" }
                @if let Some(ci) = model.map(|m| &m.class_imbalance).filter(|ci| ci.imbalanced) {
                    p.sev.warning { "Imbalanced: rarest class " (text(&ci.rarest_class))
                        " has " (num(Some(ci.rarest_share), 3)) " of rows" }
                }
                div.v.wide { (b) }
            }
            @if !groups.is_empty() {
                h3 { "Conflicting duplicates" }
                table.lt {
                    thead { tr { th { "rows" } th { "labels" } th { "suggested" } } }
                    tbody {
                        @for g in groups.iter().take(ROWS) {
                            tr { td { (row_list(&g.rows)) } td { (label_list(&g.labels)) } td { (text(&g.suggested)) } }
                        }
                    }
                }
                (more(groups.len()))
            }
            @if !near.is_empty() {
                h3 { "Near duplicates with different labels" }
                table.lt {
                    thead { tr { th { "rows" } th { "labels" } th.r { "distance" } } }
                    tbody {
                        @for g in near.iter().take(ROWS) {
                            tr { td { (row_list(&g.rows)) } td { (label_list(&g.labels)) } td.r { (num(Some(g.distance), 4)) } }
                        }
                    }
                }
                (more(near.len()))
            }
            @if let Some(m) = model && !m.null_labels.rows.is_empty() {
                p { b { (m.null_labels.count) " rows without a label: " } (row_list(&m.null_labels.rows)) }
            }
            @if let Some(a) = ann {
                h3 { "Annotator agreement" }
                table.lt {
                    tbody {
                        tr { th { "Krippendorff's alpha" } td.r { (num(a.agreement.krippendorff_alpha, 3)) } }
                        tr { th { "Fleiss' kappa" } td.r { (num(a.agreement.fleiss_kappa, 3)) } }
                        tr { th { "items" } td.r { (int(a.n_items)) } }
                        tr { th { "labels per item (mean)" } td.r { (num(Some(a.agreement.mean_labels_per_item), 2)) } }
                        tr { th { "consensus by" } td.r { (text(a.consensus_method.as_str())) } }
                    }
                }
            }
            @if !cohen.is_empty() {
                h4 { "Cohen's kappa per pair" }
                table.lt {
                    thead { tr { th { "annotator" } th { "annotator" } th.r { "kappa" } th.r { "items" } } }
                    tbody {
                        @for c in cohen.iter().take(ROWS) {
                            tr { td { (text(&c.a)) } td { (text(&c.b)) } td.r { (num(c.kappa, 3)) } td.r { (int(c.n_items)) } }
                        }
                    }
                }
            }
            @if !annotators.is_empty() {
                h4 { "Annotators (best first)" }
                table.lt {
                    thead { tr { th { "annotator" } th.r { "quality" } th.r { "labels" } th.r { "agrees with consensus" } th.r { "weight" } th.r { "accuracy vs gold" } } }
                    tbody {
                        @for a in annotators.iter().take(ROWS) {
                            tr {
                                td { (text(&a.name)) }
                                td.r { (num(a.quality, 3)) }
                                td.r { (int(a.n_labelled)) }
                                td.r { (num(a.agreement_with_consensus, 3)) }
                                td.r { (num(a.weight, 3)) }
                                td.r { (num(a.accuracy_vs_gold, 3)) }
                            }
                        }
                    }
                }
            }
            @if !disputed.is_empty() {
                h4 { "Most disputed items" }
                table.lt {
                    thead { tr { th.r { "row" } th { "item" } th { "consensus" } th.r { "agreement" } th { "votes" } } }
                    tbody {
                        @for d in disputed.iter().take(ROWS) {
                            tr {
                                td.r { (d.row) }
                                td { (text(&d.item)) }
                                td { (opt_text(d.consensus.as_deref())) }
                                td.r { (num(Some(d.agreement), 2)) }
                                td {
                                    (d.votes.iter().map(|(k, n)| format!("{k}: {}", int(*n))).collect::<Vec<_>>().join(", "))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
