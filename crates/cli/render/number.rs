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

pub use preflight_stats::number::{count, counted, stat};

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
}
