//! The label audit section, read from the `labels --format json` document
//! (schemas/labels.schema.json): suspicious rows, the noise matrix as a heat map, duplicates,
//! class balance, and annotator agreement. Fields are read leniently: a missing one hides
//! its table, it never fails the page.

use maud::{Markup, html};
use serde_json::Value;

use super::charts::{self, BarRow};
use super::value_text;

/// Rows of a long table shown; the JSON has them all.
const ROWS: usize = 500;

fn text(v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        other => value_text(other),
    }
}

fn num(v: &Value, digits: usize) -> String {
    v.as_f64()
        .map_or_else(|| "–".into(), |x| format!("{x:.digits$}"))
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

fn more(total: usize) -> Markup {
    html! {
        @if total > ROWS { p.note { "Showing " (ROWS) " of " (total) "; the JSON output has them all." } }
    }
}

fn rows_text(v: &Value) -> String {
    let rows: Vec<String> = arr(v).iter().take(12).map(text).collect();
    let n = arr(v).len();
    if n > 12 {
        format!("{}, … ({n} rows)", rows.join(", "))
    } else {
        rows.join(", ")
    }
}

pub fn section(j: &Value) -> Markup {
    let issues = arr(&j["label_issues"]);
    let classes: Vec<String> = arr(&j["classes"]).iter().map(text).collect();
    let joint: Vec<Vec<f64>> = arr(&j["noise"]["joint"])
        .iter()
        .map(|r| arr(r).iter().map(|x| x.as_f64().unwrap_or(0.0)).collect())
        .collect();
    let per_class = arr(&j["noise"]["per_class"]);
    let groups = arr(&j["duplicates"]["conflicting_groups"]);
    let near = arr(&j["near_duplicates"]["conflicting_pairs"]);
    let counts = arr(&j["class_imbalance"]["counts"]);
    let total: f64 = counts.iter().filter_map(|c| c["count"].as_f64()).sum();
    let balance: Vec<BarRow> = counts
        .iter()
        .take(30)
        .map(|c| BarRow {
            label: text(&c["class"]),
            cur: c["count"]
                .as_f64()
                .map(|n| if total > 0.0 { n / total } else { 0.0 }),
            base: None,
        })
        .collect();
    let annotators = arr(&j["annotators"]);
    let cohen = arr(&j["agreement"]["cohen_kappa"]);
    let disputed = arr(&j["disputed"]);
    html! {
        section #labels {
            h2 { "Label audit" }
            p {
                (text(&j["n_rows"])) " rows"
                @if let Some(l) = j["label"].as_str() { ", label " code { (l) } }
                @if !classes.is_empty() { ", " (classes.len()) " classes" }
                ", " b { (text(&j["n_issues"])) " issues" }
                @if let Some(h) = j["health"]["label_health_score"].as_f64() {
                    " · label health " (format!("{:.1}%", h * 100.0))
                }
                @if let Some(m) = j["probabilities"]["model"].as_str() {
                    span.muted { " · probabilities: " (text(&j["probabilities"]["source"])) " (" (m) ")" }
                }
            }
            @for n in arr(&j["notes"]) { p.note { (text(n)) } }
            @for e in arr(&j["excluded_columns"]) {
                p.note { "Excluded " code { (text(&e["column"])) } ": " (text(&e["reason"])) }
            }
            @if !issues.is_empty() {
                h3 { "Likely mislabelled rows" }
                table.lt {
                    thead { tr { th.r { "row" } th { "given" } th { "suggested" } th.r { "score" } th { "reason" } } }
                    tbody {
                        @for i in issues.iter().take(ROWS) {
                            tr {
                                td.r { (text(&i["row"])) }
                                td { (text(&i["given"])) }
                                td { (text(&i["suggested"])) }
                                td.r { (num(&i["score"], 4)) }
                                td { (arr(&i["reasons"]).iter().map(text).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                    }
                }
                (more(issues.len()))
            }
            @if let Some(h) = charts::heatmap(&classes, &joint) {
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
                                td { (text(&c["class"])) }
                                td.r { (text(&c["count"])) }
                                td.r { (num(&c["share"], 3)) }
                                td.r { (num(&c["estimated_noise_rate"], 3)) }
                                td.r { (text(&c["issues"])) }
                            }
                        }
                    }
                }
            }
            @if let Some(b) = charts::bars(&balance) {
                h3 { "Class balance" }
                @if j["class_imbalance"]["imbalanced"].as_bool() == Some(true) {
                    p.sev.warning { "Imbalanced: rarest class " (text(&j["class_imbalance"]["rarest_class"]))
                        " has " (num(&j["class_imbalance"]["rarest_share"], 3)) " of rows" }
                }
                div.v.wide { (b) }
            }
            @if !groups.is_empty() {
                h3 { "Conflicting duplicates" }
                table.lt {
                    thead { tr { th { "rows" } th { "labels" } th { "suggested" } } }
                    tbody {
                        @for g in groups.iter().take(ROWS) {
                            tr { td { (rows_text(&g["rows"])) } td { (rows_text(&g["labels"])) } td { (text(&g["suggested"])) } }
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
                            tr { td { (rows_text(&g["rows"])) } td { (rows_text(&g["labels"])) } td.r { (num(&g["distance"], 4)) } }
                        }
                    }
                }
                (more(near.len()))
            }
            @if let Some(nl) = j["null_labels"]["count"].as_u64() && nl > 0 {
                p { b { (nl) " rows without a label: " } (rows_text(&j["null_labels"]["rows"])) }
            }
            @if j["agreement"].is_object() {
                h3 { "Annotator agreement" }
                table.lt {
                    tbody {
                        tr { th { "Krippendorff's alpha" } td.r { (num(&j["agreement"]["krippendorff_alpha"], 3)) } }
                        tr { th { "Fleiss' kappa" } td.r { (num(&j["agreement"]["fleiss_kappa"], 3)) } }
                        tr { th { "items" } td.r { (text(&j["n_items"])) } }
                        tr { th { "labels per item (mean)" } td.r { (num(&j["agreement"]["mean_labels_per_item"], 2)) } }
                        tr { th { "consensus by" } td.r { (text(&j["consensus_method"])) } }
                    }
                }
            }
            @if !cohen.is_empty() {
                h4 { "Cohen's kappa per pair" }
                table.lt {
                    thead { tr { th { "annotator" } th { "annotator" } th.r { "kappa" } th.r { "items" } } }
                    tbody {
                        @for c in cohen.iter().take(ROWS) {
                            tr { td { (text(&c["a"])) } td { (text(&c["b"])) } td.r { (num(&c["kappa"], 3)) } td.r { (text(&c["n_items"])) } }
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
                                td { (text(&a["name"])) }
                                td.r { (num(&a["quality"], 3)) }
                                td.r { (text(&a["n_labelled"])) }
                                td.r { (num(&a["agreement_with_consensus"], 3)) }
                                td.r { (num(&a["weight"], 3)) }
                                td.r { (num(&a["accuracy_vs_gold"], 3)) }
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
                                td.r { (text(&d["row"])) }
                                td { (text(&d["item"])) }
                                td { (text(&d["consensus"])) }
                                td.r { (num(&d["agreement"], 2)) }
                                td {
                                    @if let Some(v) = d["votes"].as_object() {
                                        (v.iter().map(|(k, n)| format!("{k}: {}", text(n))).collect::<Vec<_>>().join(", "))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
