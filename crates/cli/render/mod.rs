//! Terminal renderings: one comfy-table set-up and one number format ([`number`]) for
//! every command's table. Each command's table lives in the submodule named after the command; the HTML
//! pages live in `crate::html`.

pub mod drift;
pub mod history;
pub mod labels;
pub mod number;
pub mod profile;
pub mod skew;
pub mod validate;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

pub use profile::profile_table;

/// A table in preflight's style with the given header. Rows keep their width (a cell
/// is never wrapped), so a table that is wider than the terminal scrolls rather than
/// breaking a value in two.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}

/// The width to fit terminal tables to: `COLUMNS` when set (to 20 or more), else the
/// terminal's width when stdout is a terminal; `None` (the whole table) for a file or pipe.
pub fn terminal_width() -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&c| c >= 20);
    columns.or_else(|| {
        use std::io::IsTerminal;
        std::io::stdout()
            .is_terminal()
            .then(terminal_size::terminal_size)
            .flatten()
            .map(|(w, _)| usize::from(w.0))
    })
}

/// Fits a table of `header` and `rows` into `width` display columns without wrapping a
/// row: drops whole columns in `drop` order until it fits, then shortens the cells of
/// column `shrink` (ending them with `…`, to no fewer than 8 characters). Returns the
/// indices of the columns kept; `rows` are shortened in place.
pub fn fit(
    header: &[&str],
    rows: &mut [Vec<String>],
    width: usize,
    drop: &[usize],
    shrink: usize,
) -> Vec<usize> {
    use unicode_width::UnicodeWidthStr;
    let cell = |s: &str| s.lines().map(UnicodeWidthStr::width).max().unwrap_or(0);
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| cell(c)))
                .chain([cell(header[i])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // The preset draws `│ cell ┆ cell │`: three characters a column and one more.
    let total = |kept: &[usize]| 1 + kept.iter().map(|&i| widths[i] + 3).sum::<usize>();
    let mut kept: Vec<usize> = (0..header.len()).collect();
    for d in drop {
        if total(&kept) <= width {
            break;
        }
        kept.retain(|i| i != d);
    }
    let over = total(&kept).saturating_sub(width);
    if over > 0 && kept.contains(&shrink) {
        let max = widths[shrink]
            .saturating_sub(over)
            .max(8)
            .max(cell(header[shrink]));
        for r in rows.iter_mut() {
            if let Some(c) = r.get_mut(shrink)
                && cell(c) > max
            {
                *c = truncate_width(c, max);
            }
        }
    }
    kept
}

/// `s` cut to `max` display columns, the last one `…`.
pub fn truncate_width(s: &str, max: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            out.push('…');
            return out;
        }
        used += w;
        out.push(c);
    }
    out
}

/// Right-aligns the given columns (numbers).
pub fn align_right(t: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<String>> {
        vec![
            vec![
                "a_rather_long_column_name".into(),
                "double".into(),
                "1.5".into(),
                "Adelie (152)".into(),
            ],
            vec![
                "b".into(),
                "string".into(),
                "".into(),
                "Biscoe (168)".into(),
            ],
        ]
    }

    #[test]
    fn a_table_that_fits_is_left_alone() {
        let mut r = rows();
        let kept = fit(
            &["column", "type", "mean", "top value"],
            &mut r,
            200,
            &[3, 2],
            0,
        );
        assert_eq!(kept, [0, 1, 2, 3]);
        assert_eq!(r, rows());
    }

    #[test]
    fn columns_are_dropped_in_order_then_names_shortened() {
        let header = ["column", "type", "mean", "top value"];
        // Widths 25, 6, 4, 12: 1 + 28 + 9 + 7 + 15 = 60.
        let mut r = rows();
        assert_eq!(fit(&header, &mut r, 45, &[3, 2], 0), [0, 1, 2]);
        assert_eq!(r, rows(), "dropping was enough");
        let mut r = rows();
        assert_eq!(fit(&header, &mut r, 30, &[3, 2], 0), [0, 1]);
        // 1 + (w + 3) + 9 <= 30: the name column gets 17.
        assert_eq!(r[0][0], "a_rather_long_co…");
        assert_eq!(r[1][0], "b");
        let mut t = table(&["column", "type"]);
        t.add_row(vec![r[0][0].clone(), r[0][1].clone()]);
        let text = t.to_string();
        assert!(
            text.lines()
                .all(|l| unicode_width::UnicodeWidthStr::width(l) <= 30),
            "{text}"
        );
    }

    #[test]
    fn truncation_counts_display_columns() {
        assert_eq!(truncate_width("abcdef", 4), "abc…");
        assert_eq!(truncate_width("日本語です", 5), "日本…");
        assert_eq!(truncate_width("abc", 4), "abc");
    }
}
