//! Every number in the binary's tables and pages, in one place, so that a count, a value
//! from the data and a statistic read the same in every command:
//!
//! - [`count`]: how many (rows, columns, distinct values, issues): grouped by thousands,
//!   `336,776`.
//! - [`value`]: a value from the data or a summary of values (min, median, max, a top
//!   value): whole numbers in full and *not* grouped (a year `2007` or an id must not read
//!   `2,007`), others to 4 significant digits.
//! - [`stat`] / [`opt_stat`]: a statistic, distance, p-value, score or threshold: 4
//!   decimals, scientific notation below 1e-3 and from 1e6 (shared with the library's
//!   messages through `preflight_stats::number`).
//! - [`percent`]: a share as a percentage that never shows a non-zero share as `0.0%`.
//! - [`temporal_cells`] / [`duration_value`]: dates, times and instants as the profile
//!   writes them; durations (which the JSON holds as counts of their unit) as `1h30m0s`.

pub use preflight_stats::number::{count, counted, stat};
use preflight_stats::profile::{ColumnProfile, Kind, TemporalUnit};

/// A temporal column's min, median and max as text: the profile's own (ISO 8601) for
/// dates, times and instants; [`duration_text`] of the numbers for durations.
pub fn temporal_cells(c: &ColumnProfile) -> Option<[String; 3]> {
    let t = c.temporal.as_ref()?;
    if let (Some(unit), Some(n)) = (duration_unit(c), &c.numeric) {
        let f = |x: Option<f64>| x.map(|v| duration_text(v, unit)).unwrap_or_default();
        return Some([f(n.min), f(n.median), f(n.max)]);
    }
    let s = |x: &Option<String>| x.clone().unwrap_or_default();
    Some([s(&t.min), s(&t.median), s(&t.max)])
}

/// A value of a duration column (a count of its unit in the JSON) as a duration; `None`
/// for any other column.
pub fn duration_value(c: &ColumnProfile, v: &serde_json::Value) -> Option<String> {
    Some(duration_text(v.as_f64()?, duration_unit(c)?))
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
pub fn duration_text(v: f64, unit: TemporalUnit) -> String {
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

/// A statistic that may be absent: `-` for none.
pub fn opt_stat(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), stat)
}

/// A value from the data: whole numbers in full, others to 4 significant digits,
/// scientific notation below 1e-3 and from 1e6; `-` when not finite.
pub fn value(x: f64) -> String {
    if !x.is_finite() {
        "-".into()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else if x.abs() >= 1e-3 && x.abs() < 1e6 {
        let digits = 4 - (x.abs().log10().floor() as i32 + 1);
        format!("{:.*}", digits.clamp(0, 6) as usize, x)
    } else {
        format!("{x:.3e}")
    }
}

/// A share in [0, 1] as a percentage with one decimal; a share that rounds to nothing
/// but is not zero reads `<0.1%` (one missing value in a million rows is not `0.0%`),
/// and one that rounds to all but is not all reads `>99.9%`.
pub fn percent(x: f64) -> String {
    let p = x * 100.0;
    if p > 0.0 && p < 0.05 {
        "<0.1%".into()
    } else if (99.95..100.0).contains(&p) {
        ">99.9%".into()
    } else {
        format!("{p:.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_not_grouped() {
        assert_eq!(value(2007.0), "2007");
        assert_eq!(value(-3.0), "-3");
        assert_eq!(value(39.1), "39.10");
        assert_eq!(value(0.123456), "0.1235");
        assert_eq!(value(4321.5), "4322");
        assert_eq!(value(1.5e-5), "1.500e-5");
        assert_eq!(value(2.5e6 + 0.5), "2.500e6");
        assert_eq!(value(f64::NAN), "-");
    }

    #[test]
    fn percentages_never_hide_a_small_share() {
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(1e-6), "<0.1%");
        assert_eq!(percent(0.0005), "0.1%");
        assert_eq!(percent(0.25), "25.0%");
        assert_eq!(percent(0.99999), ">99.9%");
        assert_eq!(percent(1.0), "100.0%");
    }

    #[test]
    fn absent_statistics_are_a_dash() {
        assert_eq!(opt_stat(None), "-");
        assert_eq!(opt_stat(Some(0.5)), "0.5000");
    }

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
