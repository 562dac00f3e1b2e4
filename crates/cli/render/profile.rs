//! The profile as a terminal table.

use std::io::Write;

use anyhow::Result;
use preflight_stats::profile::{ColumnProfile, Kind, Profile, TemporalUnit};
use serde_json::Value;

use super::number::{count, counted, percent, value};

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
                let text = match (duration_unit(c), t.value.as_f64()) {
                    (Some(unit), Some(v)) => duration_text(v, unit),
                    _ => value_text(&t.value),
                };
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
    if let (Some(unit), Some(n)) = (duration_unit(c), &c.numeric) {
        let f = |x: Option<f64>| x.map(|v| duration_text(v, unit)).unwrap_or_default();
        return (f(n.min), f(n.median), f(n.max));
    }
    if let Some(t) = &c.temporal {
        let s =
            |x: &Option<String>| crate::display::escape(x.as_deref().unwrap_or("")).into_owned();
        return (s(&t.min), s(&t.median), s(&t.max));
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

/// The unit of a duration column, whose JSON holds its values as counts of the unit.
fn duration_unit(c: &ColumnProfile) -> Option<TemporalUnit> {
    (c.kind == Kind::Duration)
        .then(|| c.temporal.as_ref().map(|t| t.unit))
        .flatten()
}

/// A duration of `v` units as a person reads it, in Go's `time.Duration` form: `1h30m0s`,
/// `1m30.5s`, `250ms`, `12µs`, `-2h0m0s`; whole days stay hours (`49h0m0s`), as a day
/// is not always 24 hours of a calendar.
fn duration_text(v: f64, unit: TemporalUnit) -> String {
    let per = match unit {
        TemporalUnit::Days => 86_400e9,
        TemporalUnit::Seconds => 1e9,
        TemporalUnit::Milliseconds => 1e6,
        TemporalUnit::Microseconds => 1e3,
        TemporalUnit::Nanoseconds => 1.0,
    };
    let ns = (v * per).round();
    if !ns.is_finite() || ns.abs() >= 9.2e18 {
        return value(v);
    }
    let sign = if ns < 0.0 { "-" } else { "" };
    let ns = ns.abs() as u64;
    // A fraction with its trailing zeros dropped: 1.500 -> 1.5, 2.000 -> 2.
    let frac = |whole: u64, part: u64, digits: usize| {
        let f = format!("{part:0digits$}");
        let f = f.trim_end_matches('0');
        if f.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{f}")
        }
    };
    if ns < 1_000 {
        return format!("{sign}{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{sign}{}µs", frac(ns / 1_000, ns % 1_000, 3));
    }
    if ns < 1_000_000_000 {
        return format!("{sign}{}ms", frac(ns / 1_000_000, ns % 1_000_000, 6));
    }
    let secs = ns / 1_000_000_000;
    let s = frac(secs % 60, ns % 1_000_000_000, 9);
    let (m, h) = ((secs / 60) % 60, secs / 3600);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
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

#[cfg(test)]
mod tests {
    use super::{TemporalUnit, duration_text};

    #[test]
    fn durations_read_as_go_writes_them() {
        let us = TemporalUnit::Microseconds;
        for (v, unit, want) in [
            (5_400_000_000.0, us, "1h30m0s"),
            (3_600_000_000.0, us, "1h0m0s"),
            (90_500_000.0, us, "1m30.5s"),
            (1_500_000.0, us, "1.5s"),
            (250_000.0, us, "250ms"),
            (12.0, us, "12µs"),
            (0.0, us, "0ns"),
            (-7_200.0, TemporalUnit::Seconds, "-2h0m0s"),
            (176_400.0, TemporalUnit::Seconds, "49h0m0s"),
            (1_234_567.0, TemporalUnit::Nanoseconds, "1.234567ms"),
            (1.0, TemporalUnit::Days, "24h0m0s"),
        ] {
            assert_eq!(duration_text(v, unit), want, "{v} {unit:?}");
        }
    }
}
