//! What `drift --by` and `report --by` share: each slice of the current data compared
//! with the same slice of the reference, the checks of each slice (named after it), and a
//! slice that one side lacks reported as such rather than skipped.
//!
//! The slices of both sides are paired by [`preflight_stats::slice::pair_slices`]: the
//! `--max-slices` keys with the most rows on both sides together, then `__other__` holding
//! the same keys on both sides. Each pair is compared from its two slice profiles (exact
//! while a slice's profile kept every value or exact counts). Beyond, a kept slice of two
//! datasets within `--exact-max-rows` is read again through its SQL predicate (a pass
//! per slice and comparison that needs values, bounded as the whole data's); otherwise,
//! and for `__other__`, from sketches.
//!
//! Also how a sliced profile is written (`profile --by`, and `merge` of sliced profiles).

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use preflight_stats::Severity;
use preflight_stats::drift::compare::Skipped;
use preflight_stats::drift::plan::{
    ColumnResult, DriftPlan, compare_profiles, compare_profiles_with,
};
use preflight_stats::drift::sample::slice_predicate;
use preflight_stats::slice::{Slice, SliceBuilders, pair_slices, slice_builders};
use serde::Serialize;

use crate::checks::{Check, drift_checks, nothing_compared_check};
use crate::load::{DataValues, Side};
use crate::output::{Format, emit, write_json};
use crate::render;

/// Whether both sides of a slice have rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SliceStatus {
    Compared,
    /// The slice has rows in the reference only: it vanished from the current data.
    OnlyInReference,
    /// The slice has rows in the current data only: it is new.
    OnlyInCurrent,
}

/// One slice's comparison (`drift --format json`'s `slices`).
#[derive(Debug, Serialize)]
pub struct SliceDrift {
    pub slice: String,
    /// The slice's value of each `by` column (`null` for missing); empty for `__other__`.
    pub values: BTreeMap<String, Option<String>>,
    pub status: SliceStatus,
    pub reference_rows: u64,
    pub current_rows: u64,
    pub compared_columns: usize,
    pub drifted_columns: usize,
    pub share_drifted: f64,
    pub dataset_drift: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nothing_compared: Option<String>,
    pub skipped: Vec<Skipped>,
    /// The slice's results (in the document's `columns`, with `slice` set).
    #[serde(skip)]
    pub results: Vec<ColumnResult>,
    #[serde(skip)]
    pub reference: Option<Slice>,
    #[serde(skip)]
    pub current: Option<Slice>,
}

/// Every slice compared, and the checks of all of them.
pub struct SlicedDrift {
    pub by: Vec<String>,
    pub max_slices: usize,
    pub slices: Vec<SliceDrift>,
    pub checks: Vec<Check>,
}

/// A side's slices: its data sliced in one pass, or the slices of its stored sliced
/// profiles (`profile --by`, sliced by the same columns). A plain stored profile has no
/// rows to slice.
async fn builders_of(
    side: &Side,
    role: &str,
    by: &[String],
    max_distinct: usize,
) -> Result<SliceBuilders> {
    match (&side.dataset, &side.sliced) {
        (Some(ds), _) => Ok(slice_builders(ds, by, max_distinct).await?),
        (None, Some(s)) => Ok(SliceBuilders::from_sliced(s, by, &side.inputs)?),
        (None, None) => bail!(
            "--by needs data or sliced profiles on both sides: the {role} {} is a stored profile of the whole data, which has no rows to slice (store one with `preflight profile DATA --by {} --format json`)",
            side.name(),
            by.join(",")
        ),
    }
}

/// `--max-distinct-slices`, on every command with `--by`.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct DistinctSlicesArg {
    /// Stop with an error (exit 2) when the data holds more than N distinct slices: each
    /// keeps a profile in memory until the data is read (about 3 KB per column), so a
    /// column with a value per row (an id, a timestamp) is refused early rather than
    /// filling the memory.
    #[arg(
        long = "max-distinct-slices",
        value_name = "N",
        default_value_t = preflight_stats::slice::MAX_DISTINCT_SLICES,
        requires = "by"
    )]
    pub max_distinct_slices: usize,
}

impl DistinctSlicesArg {
    /// The limit; 0 is a usage error.
    pub fn get(&self) -> Result<usize> {
        if self.max_distinct_slices == 0 {
            bail!("--max-distinct-slices must be at least 1");
        }
        Ok(self.max_distinct_slices)
    }
}

/// `--max-slices 0` would keep no slice but `__other__`: refused as a usage error.
pub fn check_max_slices(max_slices: usize) -> Result<()> {
    if max_slices == 0 {
        bail!("--max-slices must be at least 1");
    }
    Ok(())
}

/// Compare each slice of `current` with the same slice of `reference` under `plan` (the
/// plan's column selection, methods and comparators, per slice).
pub async fn compare_slices(
    reference: &Side,
    current: &Side,
    by: &[String],
    max_slices: usize,
    max_distinct: usize,
    plan: &DriftPlan,
    drift_share: f64,
    allow_empty: bool,
    exact_max_rows: Option<u64>,
) -> Result<SlicedDrift> {
    // Every value of a kept slice, as for the whole data, when both sides are data small
    // enough (`drift --exact-max-rows`: the same bound on what is held); `__other__`, whose
    // keys are many, from its sketches.
    let exact = match (&reference.dataset, &current.dataset, exact_max_rows) {
        (Some(r), Some(c), Some(max))
            if reference.profile.row_count <= max && current.profile.row_count <= max =>
        {
            Some([r, c])
        }
        _ => None,
    };
    let r = builders_of(reference, "reference", by, max_distinct).await?;
    let c = builders_of(current, "current data", by, max_distinct).await?;
    let pairs = pair_slices(r, c, max_slices)?;
    let mut slices = Vec::with_capacity(pairs.len());
    let mut checks = Vec::new();
    for p in pairs {
        let rows = |s: &Option<Slice>| s.as_ref().map_or(0, |s| s.rows);
        let (reference_rows, current_rows) = (rows(&p.reference), rows(&p.current));
        let mut s = SliceDrift {
            slice: p.key.clone(),
            values: p.values,
            status: SliceStatus::Compared,
            reference_rows,
            current_rows,
            compared_columns: 0,
            drifted_columns: 0,
            share_drifted: 0.0,
            dataset_drift: false,
            nothing_compared: None,
            skipped: Vec::new(),
            results: Vec::new(),
            reference: None,
            current: None,
        };
        match (&p.reference, &p.current) {
            (Some(rs), Some(cs)) => {
                let mut plan = plan.clone();
                plan.names = [
                    format!("{} (slice {})", plan.names[0], p.key),
                    format!("{} (slice {})", plan.names[1], p.key),
                ];
                let cmp = match exact {
                    Some(sides) if p.key != preflight_stats::slice::OTHER => {
                        let mut read = DataValues {
                            sides,
                            filter: Some(slice_predicate(&s.values)),
                        };
                        compare_profiles_with(&rs.profile, &cs.profile, &plan, &mut read)?
                    }
                    _ => compare_profiles(&rs.profile, &cs.profile, &plan)?,
                };
                let summary = cmp.summary(drift_share);
                let mut these = drift_checks(&cmp.results, &summary, drift_share);
                these.extend(nothing_compared_check(
                    cmp.nothing_compared.as_deref(),
                    allow_empty,
                ));
                checks.extend(these.into_iter().map(|c| c.in_slice(&p.key)));
                s.compared_columns = summary.compared;
                s.drifted_columns = summary.drifted;
                s.share_drifted = summary.share;
                s.dataset_drift = summary.dataset_drift;
                s.nothing_compared = cmp.nothing_compared;
                s.skipped = cmp.skipped;
                s.results = cmp.results;
            }
            (Some(_), None) => {
                s.status = SliceStatus::OnlyInReference;
                checks.push(
                    Check::failed(
                        None,
                        "missing_slice",
                        Severity::Warning,
                        format!(
                            "in the reference ({reference_rows} rows) but not in the current data: not compared"
                        ),
                    )
                    .in_slice(&p.key),
                );
            }
            (None, Some(_)) => {
                s.status = SliceStatus::OnlyInCurrent;
                checks.push(
                    Check::failed(
                        None,
                        "new_slice",
                        Severity::Warning,
                        format!(
                            "in the current data ({current_rows} rows) but not in the reference: not compared"
                        ),
                    )
                    .in_slice(&p.key),
                );
            }
            (None, None) => continue,
        }
        s.reference = p.reference;
        s.current = p.current;
        slices.push(s);
    }
    Ok(SlicedDrift {
        by: by.to_vec(),
        max_slices,
        slices,
        checks,
    })
}

/// Write slices as `profile --by` does (`merge` of sliced profiles too): the JSON
/// document, or a table per slice.
pub fn emit_sliced(
    output: Option<&std::path::Path>,
    format: Format,
    sliced: &preflight_stats::slice::Sliced,
) -> Result<()> {
    let doc = SlicedDocument {
        version: preflight_stats::profile::PROFILE_VERSION,
        by: &sliced.by,
        max_slices: sliced.max_slices,
        distinct_slices: sliced.distinct_slices,
        slices: &sliced.slices,
    };
    let to_terminal = output.is_none_or(|p| p == std::path::Path::new("-"));
    emit(output, |w| match format {
        Format::Json => Ok(w.write_all(&sliced_json(&doc)?)?),
        Format::Table => {
            writeln!(
                w,
                "{} slices by {} ({} distinct, at most {} kept)",
                sliced.slices.len(),
                sliced.by.join(", "),
                sliced.distinct_slices,
                sliced.max_slices
            )?;
            for s in &sliced.slices {
                writeln!(w, "\n== slice {} ({} rows)", s.key, s.rows)?;
                render::profile_table(
                    w,
                    &s.profile,
                    to_terminal.then(render::terminal_width).flatten(),
                )?;
            }
            Ok(())
        }
    })?;
    Ok(())
}

/// `write_json` of the document, with its slices serialised on all threads: the bytes
/// are the same (a test holds them so), and on 100 slices the serialisation alone was a
/// tenth of `profile --by`, on one thread. Each slice is written by the same pretty,
/// terminal-safe formatter on its own, its lines indented to their depth in the
/// document (a JSON string holds no raw line break), and spliced into the document
/// written with no slices.
fn sliced_json(doc: &SlicedDocument<'_>) -> Result<Vec<u8>> {
    let mut head = Vec::new();
    write_json(
        &mut head,
        &SlicedDocument {
            slices: &[],
            ..*doc
        },
    )?;
    const EMPTY: &[u8] = b"\"slices\": []\n}\n";
    if doc.slices.is_empty() || !head.ends_with(EMPTY) {
        let mut out = Vec::new();
        write_json(&mut out, doc)?;
        return Ok(out);
    }
    let parts = preflight_stats::work::par_map(
        doc.slices.iter().collect(),
        preflight_stats::work::machine_threads(),
        |slice| -> Result<Vec<u8>> {
            let mut raw = Vec::new();
            let mut ser =
                serde_json::Serializer::with_formatter(&mut raw, crate::json::TerminalSafe::new());
            serde::Serialize::serialize(slice, &mut ser)?;
            let mut out = Vec::with_capacity(raw.len() + raw.len() / 8);
            for (i, line) in raw.split(|b| *b == b'\n').enumerate() {
                if i > 0 {
                    out.extend_from_slice(b"\n    ");
                }
                out.extend_from_slice(line);
            }
            Ok(out)
        },
    );
    head.truncate(head.len() - EMPTY.len());
    head.extend_from_slice(b"\"slices\": [");
    for (i, part) in parts.into_iter().enumerate() {
        head.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
        head.extend_from_slice(&part?);
    }
    head.extend_from_slice(b"\n  ]\n}\n");
    Ok(head)
}

/// `profile --by --format json`: the slices, each with its whole profile (a stored
/// profile any command reads once cut out, and that merges with the others).
#[derive(serde::Serialize, Clone, Copy)]
struct SlicedDocument<'a> {
    version: u32,
    by: &'a [String],
    max_slices: usize,
    distinct_slices: usize,
    slices: &'a [preflight_stats::slice::Slice],
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use preflight_stats::profile::ProfileBuilder;

    use super::*;

    #[test]
    fn sliced_json_is_write_json_of_the_document_byte_for_byte() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("x", DataType::Float64, true),
        ]));
        // Strings a terminal would act on, quotes and a backslash, nulls, two slices and
        // none: every path of the splice.
        let slice = |key: &str, names: Vec<Option<&str>>| {
            let n = names.len();
            let xs: Vec<Option<f64>> = (0..n)
                .map(|i| (i % 3 != 0).then_some(i as f64 * 1.5))
                .collect();
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringArray::from(names)) as ArrayRef,
                    Arc::new(Float64Array::from(xs)),
                ],
            )
            .unwrap();
            let mut b = ProfileBuilder::new(&schema);
            b.update(&batch).unwrap();
            Slice {
                key: format!("name_{key}"),
                values: [("name".to_string(), Some(key.to_string()))].into(),
                rows: b.rows,
                profile: b.finish(vec!["a \u{202e} b.csv".into()]),
            }
        };
        let slices = [
            slice(
                "left\u{202e}right",
                vec![Some("a\"b\\c"), None, Some("\u{1b}[31m"), Some("x")],
            ),
            slice("plain", vec![Some("p"); 7]),
        ];
        let by = vec!["name".to_string()];
        for slices in [&slices[..], &slices[..1], &[]] {
            let doc = SlicedDocument {
                version: preflight_stats::profile::PROFILE_VERSION,
                by: &by,
                max_slices: 100,
                distinct_slices: slices.len(),
                slices,
            };
            let mut want = Vec::new();
            write_json(&mut want, &doc).unwrap();
            let got = sliced_json(&doc).unwrap();
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap(),
                "{} slices",
                slices.len()
            );
        }
    }
}
