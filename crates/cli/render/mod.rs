//! Terminal renderings: one comfy-table set-up and one number format ([`number`]) for
//! every command's table. Each command's table lives in the submodule named after the command; the HTML
//! pages live in `crate::html`.

pub mod drift;
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

/// Right-aligns the given columns (numbers).
pub fn align_right(t: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}
