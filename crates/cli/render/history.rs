//! The tables of `preflight history`: the runs of a history, and one metric's series with
//! its expected band and anomalies.

use anyhow::Result;

use super::number::{count, value};
use super::{align_right, table};
use crate::commands::history::{RunsReport, SeriesReport};

/// One row per run: time, command, rows, columns, and its tags, inputs and flagged metrics.
pub fn runs_table(w: &mut dyn std::io::Write, r: &RunsReport) -> Result<()> {
    let w: &mut dyn std::io::Write = &mut crate::display::Escaping::new(w);
    writeln!(w, "{}: {} runs", r.history, r.runs.len())?;
    if r.runs.is_empty() {
        return Ok(());
    }
    let mut t = table(&[
        "time",
        "command",
        "rows",
        "columns",
        "tags / inputs / flagged",
    ]);
    for run in &r.runs {
        let tags: Vec<String> = run.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut tail = tags.join(" ");
        if !run.inputs.is_empty() {
            tail.push_str(&format!("  [{}]", run.inputs.join(" ")));
        }
        if !run.flagged.is_empty() {
            tail.push_str(&format!("  flagged: {}", run.flagged.join(", ")));
        }
        t.add_row(vec![
            run.time.to_string(),
            run.command.to_string(),
            count(run.rows),
            count(run.columns as u64),
            crate::display::one_line(&tail),
        ]);
    }
    align_right(&mut t, &[2, 3]);
    writeln!(w, "{t}")?;
    Ok(())
}

/// One row per point: its time, value, expected interval, and whether it is an anomaly
/// (or was not judged for want of history).
pub fn series_table(w: &mut dyn std::io::Write, r: &SeriesReport, check_text: &str) -> Result<()> {
    let w: &mut dyn std::io::Write = &mut crate::display::Escaping::new(w);
    writeln!(
        w,
        "{} in {}: {} points, {} anomal{} ({check_text})",
        r.metric,
        r.history,
        r.points.len(),
        r.anomalies,
        if r.anomalies == 1 { "y" } else { "ies" }
    )?;
    let mut t = table(&["time", "value", "expected from", "to", ""]);
    for p in r.points {
        let mark = if p.anomalous {
            "anomaly"
        } else if !p.judged {
            "(not judged: short history)"
        } else {
            ""
        };
        t.add_row(vec![
            p.time.clone(),
            value(p.value),
            p.lower.map(value).unwrap_or_default(),
            p.upper.map(value).unwrap_or_default(),
            mark.to_string(),
        ]);
    }
    align_right(&mut t, &[1, 2, 3]);
    writeln!(w, "{t}")?;
    Ok(())
}
