//! The table of `preflight drift`: one row per column and method, the skipped columns and
//! the dataset verdict.

use std::io::Write;

use anyhow::Result;
use preflight_stats::drift::compare::{ColumnDrift, Skipped};
use preflight_stats::drift::plan::{ColumnResult, DriftSummary};

use super::number::opt_stat;
use super::{align_right, table};
use crate::checks::{Check, FailOn, verdict};

/// What the table shows: a comparison's results and its dataset verdict.
pub struct DriftTable<'a> {
    pub columns: &'a [ColumnResult],
    pub skipped: &'a [Skipped],
    /// Why no column was compared, when none was.
    pub nothing_compared: Option<&'a str>,
    pub summary: DriftSummary,
    /// The share of drifted columns that means dataset drift (`--drift-share`).
    pub drift_share: f64,
    /// `--by`: each slice's comparison, shown after the whole data's.
    pub slices: &'a [crate::slices::SliceDrift],
}

/// What a result's row adds: sketch error, unseen categories, values out of range.
pub fn notes(d: &ColumnDrift) -> String {
    let mut n = Vec::new();
    if !d.exact {
        n.push(format!(
            "from sketches (error {})",
            opt_stat(d.sketch_error)
        ));
    }
    if let Some(u) = d.unseen_count {
        let mut names = (d.unseen_categories.iter())
            .map(|c| crate::display::value(c))
            .collect::<Vec<_>>()
            .join(", ");
        if names.chars().count() > 40 {
            names = names.chars().take(40).collect::<String>() + "...";
        }
        n.push(format!("{u} rows in unseen categories: {names}"));
    }
    if let Some(o) = d.out_of_range
        && o.below + o.above > 0
    {
        n.push(format!(
            "{} below, {} above the reference range",
            o.below, o.above
        ));
    }
    n.join("; ")
}

/// One row per result (label first, then most severe), the skipped columns, the
/// dataset verdict; then, with `--by`, the same per slice.
pub fn drift_table(
    w: &mut dyn Write,
    r: &DriftTable,
    checks: &[Check],
    fail_on: FailOn,
) -> Result<()> {
    let w: &mut dyn Write = &mut crate::display::Escaping::new(w);
    results(w, r.columns)?;
    for s in r.skipped {
        writeln!(w, "skipped {}: {}", s.column, s.reason)?;
    }
    if let Some(reason) = r.nothing_compared {
        writeln!(w, "{reason}")?;
    }
    let s = &r.summary;
    writeln!(
        w,
        "dataset drift: {} ({} of {} columns drifted, {:.0}%; threshold {:.0}%)",
        if s.dataset_drift { "yes" } else { "no" },
        s.drifted,
        s.compared,
        s.share * 100.0,
        r.drift_share * 100.0
    )?;
    for s in r.slices {
        use crate::slices::SliceStatus;
        let key = crate::display::escape(&s.slice).into_owned();
        writeln!(w)?;
        match s.status {
            SliceStatus::OnlyInReference => {
                writeln!(
                    w,
                    "slice {key}: {} reference rows, none in the current data: not compared",
                    s.reference_rows
                )?;
                continue;
            }
            SliceStatus::OnlyInCurrent => {
                writeln!(
                    w,
                    "slice {key}: {} current rows, none in the reference: not compared",
                    s.current_rows
                )?;
                continue;
            }
            SliceStatus::Compared => {}
        }
        writeln!(
            w,
            "slice {key} ({} reference rows, {} current rows): dataset drift {} ({} of {} columns drifted, {:.0}%)",
            s.reference_rows,
            s.current_rows,
            if s.dataset_drift { "yes" } else { "no" },
            s.drifted_columns,
            s.compared_columns,
            s.share_drifted * 100.0
        )?;
        results(w, &s.results)?;
        for k in &s.skipped {
            writeln!(w, "skipped {}: {}", k.column, k.reason)?;
        }
        if let Some(reason) = &s.nothing_compared {
            writeln!(w, "{reason}")?;
        }
    }
    writeln!(w, "{}", verdict(checks, fail_on))?;
    Ok(())
}

/// The table of a comparison's results.
fn results(w: &mut dyn Write, columns: &[ColumnResult]) -> Result<()> {
    let mut t = table(&[
        "column",
        "method",
        "statistic",
        "p-value",
        "threshold",
        "result",
        "notes",
    ]);
    for c in columns {
        let d = &c.drift;
        let name = if c.label {
            format!("{} (label)", d.column)
        } else {
            d.column.clone()
        };
        let name = crate::display::escape(&name).into_owned();
        let stat = if d.statistic.is_none() && d.p_value.is_some() {
            "inf".to_string()
        } else {
            opt_stat(d.statistic)
        };
        t.add_row(vec![
            name,
            d.method.to_string(),
            stat,
            opt_stat(d.p_value),
            opt_stat(Some(d.threshold)),
            match (d.drifted, c.schema_severity) {
                (true, Some(sev)) => format!("drifted (schema, {sev})"),
                (false, Some(_)) => "stable (schema)".to_string(),
                (true, None) => "drifted".to_string(),
                (false, None) => "stable".to_string(),
            },
            notes(d),
        ]);
    }
    align_right(&mut t, &[2, 3, 4]);
    writeln!(w, "{t}")?;
    Ok(())
}
