//! How numbers read in messages a person sees (anomaly and check messages, tables).
//!
//! The binary's tables and pages format through `render::number` in preflight-cli, which
//! builds on these; the library's own messages (anomalies, drift checks) use them directly,
//! so a p-value reads the same in a message and in the table beside it.

/// A statistic, distance, p-value or threshold: 4 decimals; scientific notation below
/// 1e-3 and from 1e6 (`1.234e-7`), so that a tiny p-value is not shown as `0.0000`.
pub fn stat(x: f64) -> String {
    if x != 0.0 && x.is_finite() && (x.abs() < 1e-3 || x.abs() >= 1e6) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// A count with its digits grouped by thousands: `336776` reads `336,776`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count and its noun, singular for one: `1 column`, `0 columns`, `2,500 rows`. The noun
/// is given in the singular and takes an `s`.
pub fn counted(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", count(n), if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_nouns_are_singular_for_one() {
        assert_eq!(counted(1, "column"), "1 column");
        assert_eq!(counted(0, "column"), "0 columns");
        assert_eq!(counted(2_500, "row"), "2,500 rows");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        let got: Vec<String> = [0, 7, 999, 1_000, 12_345, 336_776, 1_000_000, u64::MAX]
            .into_iter()
            .map(count)
            .collect();
        assert_eq!(
            got,
            [
                "0",
                "7",
                "999",
                "1,000",
                "12,345",
                "336,776",
                "1,000,000",
                "18,446,744,073,709,551,615"
            ]
        );
    }

    #[test]
    fn statistics_keep_small_values_visible() {
        assert_eq!(stat(0.0), "0.0000");
        assert_eq!(stat(0.05), "0.0500");
        assert_eq!(stat(0.12345), "0.1235");
        assert_eq!(stat(1.5e-7), "1.500e-7");
        assert_eq!(stat(-2.5e6), "-2.500e6");
        assert_eq!(stat(999_999.0), "999999.0000");
        assert_eq!(stat(f64::INFINITY), "inf");
    }
}
