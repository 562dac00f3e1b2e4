//! The `preflight validate` report: its JSON document and its table (the verdict, the
//! notes, every comparator checked, then the anomalies).

use std::io::Write;

use anyhow::Result;
use comfy_table::ContentArrangement;
use preflight_schema::compare::{ComparatorResult, Comparison};
use preflight_schema::validate::Anomaly;
use serde::Serialize;

use super::number::{count, opt_stat};
use super::table;
use crate::checks::{Check, FailOn, verdict};
use crate::load::SideInfo;

/// The `validate --format json` document (schemas/), which the table reads too.
#[derive(Serialize)]
pub struct ValidateReport<'a> {
    pub version: u32,
    pub passed: bool,
    pub schema: String,
    pub sources: &'a [String],
    pub environment: Option<&'a str>,
    pub rows: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<SideInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training: Option<SideInfo>,
    pub summary: Summary,
    pub anomalies: Vec<&'a Anomaly>,
    /// Every drift and skew comparator checked, passed or not.
    pub comparisons: &'a [ComparatorResult],
    pub notes: Vec<String>,
}

/// How many checks ran, and how many failed at each severity.
#[derive(Serialize)]
pub struct Summary {
    pub checks: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// The verdict line, the notes, the comparators checked and the anomalies.
pub fn validate_table(
    w: &mut dyn Write,
    r: &ValidateReport,
    checks: &[Check],
    fail_on: FailOn,
) -> Result<()> {
    let w: &mut dyn std::io::Write = &mut crate::display::Escaping::new(w);
    writeln!(
        w,
        "{}: {} ({} rows, {} checks{})",
        r.sources.join(" "),
        verdict(checks, fail_on),
        count(r.rows),
        checks.len(),
        r.environment
            .map(|e| format!(", environment {e}"))
            .unwrap_or_default()
    )?;
    for n in &r.notes {
        writeln!(w, "note: {n}")?;
    }
    if !r.comparisons.is_empty() {
        comparisons_table(w, r)?;
    }
    if r.anomalies.is_empty() {
        return Ok(());
    }
    let mut t = table(&["severity", "column", "anomaly", "message"]);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    for a in &r.anomalies {
        let mut message = a.message.clone();
        if !a.examples.is_empty() {
            let shown: Vec<String> = a
                .examples
                .iter()
                .take(3)
                .map(|e| match &e.value {
                    serde_json::Value::Null => format!("row {}", e.row),
                    serde_json::Value::String(s) => format!("row {}: {s:?}", e.row),
                    v => format!("row {}: {v}", e.row),
                })
                .collect();
            message = format!("{message} (e.g. {})", shown.join("; "));
        }
        t.add_row([
            a.severity.to_string(),
            crate::display::escape(a.column.as_deref().unwrap_or("(dataset)")).into_owned(),
            a.kind.as_str().to_string(),
            crate::display::escape(&message).into_owned(),
        ]);
    }
    writeln!(w, "{t}")?;
    Ok(())
}

/// Every comparator checked, with its statistic and threshold (TFDV reports them all).
fn comparisons_table(w: &mut dyn Write, r: &ValidateReport) -> Result<()> {
    let against = |which: Comparison| {
        let side = match which {
            Comparison::Drift => r.baseline.as_ref(),
            Comparison::Skew => r.training.as_ref(),
        };
        side.map(|s| s.inputs.join(" ")).unwrap_or_default()
    };
    let mut t = table(&[
        "column",
        "check",
        "against",
        "method",
        "statistic",
        "threshold",
        "result",
    ]);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    for c in r.comparisons {
        let decided = match (c.p_value, c.statistic) {
            (Some(p), _) => format!("p = {}", opt_stat(Some(p))),
            (None, Some(s)) => opt_stat(Some(s)),
            (None, None) => "inf".into(),
        };
        t.add_row([
            crate::display::escape(&c.column).into_owned(),
            c.comparator.as_str().to_string(),
            against(c.comparator),
            c.method.clone(),
            if c.exact {
                decided
            } else {
                format!("~{decided}")
            },
            opt_stat(Some(c.threshold)),
            if c.exceeded {
                format!("exceeded ({})", c.severity)
            } else {
                "ok".into()
            },
        ]);
    }
    writeln!(w, "{t}")?;
    Ok(())
}
