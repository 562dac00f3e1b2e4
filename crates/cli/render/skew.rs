//! The table of `preflight skew`: the key counts, one row per feature (most skewed
//! first) and the verdict.

use anyhow::Result;
use preflight_stats::drift::skew::SkewReport;

use super::number::{count, stat};
use super::{align_right, table};
use crate::checks::{Check, FailOn, verdict};

/// The key counts, one row per feature (most skewed first), the verdict.
pub fn skew_table(
    w: &mut dyn std::io::Write,
    r: &SkewReport,
    checks: &[Check],
    fail_on: FailOn,
) -> Result<()> {
    let w: &mut dyn std::io::Write = &mut crate::display::Escaping::new(w);
    let k = &r.keys;
    writeln!(
        w,
        "key `{}`: {} matched; only in A {} keys ({} rows), only in B {} keys ({} rows); \
         duplicated in A {} keys ({} rows), in B {} keys ({} rows), {} not compared; null keys A {}, B {}",
        r.key,
        count(k.matched),
        count(k.only_in_a_keys),
        count(k.only_in_a_rows),
        count(k.only_in_b_keys),
        count(k.only_in_b_rows),
        count(k.duplicate_keys_a),
        count(k.duplicate_rows_a),
        count(k.duplicate_keys_b),
        count(k.duplicate_rows_b),
        count(k.ambiguous),
        count(k.null_keys_a),
        count(k.null_keys_b)
    )?;
    if let Some(reason) = r.nothing_compared() {
        writeln!(w, "{reason}")?;
    }
    let mut t = table(&[
        "feature",
        "matched",
        "mismatched",
        "rate",
        "result",
        "example (key: A | B)",
    ]);
    let mut rows: Vec<_> = r.features.iter().collect();
    rows.sort_by(|a, b| {
        b.mismatch_rate
            .total_cmp(&a.mismatch_rate)
            .then_with(|| a.feature.cmp(&b.feature))
    });
    for f in rows {
        let ex = f
            .examples
            .first()
            .map(|e| {
                let show = |v: &Option<String>| match v {
                    Some(v) => crate::display::value(v).into_owned(),
                    None => "null".to_string(),
                };
                format!(
                    "{}: {} | {}",
                    crate::display::value(&e.key),
                    show(&e.a),
                    show(&e.b)
                )
            })
            .unwrap_or_default();
        t.add_row(vec![
            crate::display::escape(&f.feature).into_owned(),
            count(f.matched),
            count(f.mismatched),
            stat(f.mismatch_rate),
            if f.matched == 0 {
                "no pairs"
            } else if f.mismatched > 0 {
                "skewed"
            } else {
                "same"
            }
            .to_string(),
            ex,
        ]);
    }
    align_right(&mut t, &[1, 2, 3]);
    writeln!(w, "{t}")?;
    if !r.only_in_a_columns.is_empty() || !r.only_in_b_columns.is_empty() {
        writeln!(
            w,
            "not compared: columns only in A [{}], only in B [{}]",
            r.only_in_a_columns.join(", "),
            r.only_in_b_columns.join(", ")
        )?;
    }
    writeln!(w, "{}", verdict(checks, fail_on))?;
    Ok(())
}
