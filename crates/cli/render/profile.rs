//! The profile as a terminal table.

use std::io::Write;

use anyhow::Result;
use preflight_stats::profile::{ColumnProfile, Profile};
use serde_json::Value;

use super::number::{count, counted, duration_value, percent, temporal_cells, value};

/// One row per column with the numbers a person scans first. With a `width` (a terminal),
/// the table is fitted to it: the top value, median, distinct count and min go first,
/// then long column names are shortened; a line says what is not shown.
pub fn profile_table(w: &mut dyn Write, p: &Profile, width: Option<usize>) -> Result<()> {
    let w: &mut dyn std::io::Write = &mut crate::display::Escaping::new(w);
    let header = [
        "column",
        "type",
        "missing",
        "min",
        "median",
        "max",
        "distinct",
        "top value",
    ];
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(p.columns.len());
    for c in &p.columns {
        let (min, med, max) = range_cells(c);
        let distinct = match (c.distinct, c.distinct_exact) {
            (Some(d), Some(false)) => format!("~{}", count(d)),
            (Some(d), _) => count(d),
            _ => String::new(),
        };
        // A sketched count within the sketch's error bound says nothing about the value
        // (in an all-distinct column every value is such noise): the JSON keeps it with
        // its bound, the table leaves the cell empty.
        let top = c
            .top_values
            .first()
            .filter(|t| t.count > c.top_values_max_error.unwrap_or(0))
            .map(|t| {
                let text = duration_value(c, &t.value).unwrap_or_else(|| value_text(&t.value));
                format!("{text} ({})", count(t.count))
            })
            .unwrap_or_default();
        rows.push(vec![
            crate::display::escape(&c.name).into_owned(),
            c.type_name.clone(),
            percent(c.missing_fraction),
            min,
            med,
            max,
            distinct,
            truncate(&top, 40),
        ]);
    }
    let kept = match width {
        Some(width) => super::fit(&header, &mut rows, width, &[7, 4, 6, 3], 0),
        None => (0..header.len()).collect(),
    };
    let mut t = super::table(&kept.iter().map(|&i| header[i]).collect::<Vec<_>>());
    for r in rows {
        t.add_row(kept.iter().map(|&i| r[i].clone()).collect::<Vec<_>>());
    }
    let right: Vec<usize> = (kept.iter().enumerate())
        .filter(|(_, i)| (2..=6).contains(*i))
        .map(|(pos, _)| pos)
        .collect();
    super::align_right(&mut t, &right);
    writeln!(w, "{t}")?;
    writeln!(
        w,
        "{}, {}",
        counted(p.row_count, "row"),
        counted(p.columns.len() as u64, "column")
    )?;
    let dropped: Vec<&str> = (0..header.len())
        .filter(|i| !kept.contains(i))
        .map(|i| header[i])
        .collect();
    if !dropped.is_empty() {
        writeln!(
            w,
            "(not shown: {}; --format json has all)",
            dropped.join(", ")
        )?;
    }
    Ok(())
}

fn range_cells(c: &ColumnProfile) -> (String, String, String) {
    if let Some([min, median, max]) = temporal_cells(c) {
        let s = |x: String| crate::display::escape(&x).into_owned();
        return (s(min), s(median), s(max));
    }
    if let Some(n) = &c.numeric {
        let f = |x: Option<f64>| x.map(value).unwrap_or_default();
        return (f(n.min), f(n.median), f(n.max));
    }
    if let Some(s) = c.string.as_ref().or(c.binary.as_ref()) {
        let f = |x: Option<u64>| x.map(|v| format!("len {v}")).unwrap_or_default();
        return (f(s.min_length), String::new(), f(s.max_length));
    }
    Default::default()
}

/// A value from the data: quoted when blanks at either end or control characters would
/// hide what it is (`"Biscoe "`).
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => crate::display::value(s).into_owned(),
        Value::Number(n) => n.as_f64().map(value).unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}
