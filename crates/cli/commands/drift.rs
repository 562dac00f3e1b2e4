//! `preflight drift`: per-column drift between a reference and a current dataset, either
//! side data or a stored profile, and the dataset-level verdict.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use preflight_schema::Schema;
use preflight_schema::model::Role;
use preflight_stats::drift::compare::Skipped;
use preflight_stats::drift::plan::{
    ColumnResult, Comparator, DriftPlan, Order, compare_profiles_with,
};
use preflight_stats::drift::{AUTO_METHOD_HELP, Method};
use serde::Serialize;

use crate::ExitStatus;
use crate::args::{InputArgs, MethodArgs, OutputArgs};
use crate::checks::{CheckFormat, drift_checks, nothing_compared_check, render, status};
use crate::load::{DataValues, SideInfo, load};
use crate::output::{emit, write_json};
use crate::render::drift::{DriftTable, drift_table};
use crate::slices::SliceDrift;

/// Version of the `drift --format json` document.
pub const DRIFT_VERSION: u32 = 1;

fn long_about() -> String {
    format!(
        "Compare the distribution of every column of a current dataset with a reference \
(training data, last week), column by column, and decide whether the dataset drifted.

The first INPUT is the reference, all others are the current data. Either side may be data \
files (CSV, Parquet, NDJSON, Arrow IPC; globs, directories) or stored profiles \
(`*.profile.json`, written by `preflight profile --format json`; several are merged), so a \
baseline profiled once is reused.

Exact or from sketches: when both sides are data with at most --exact-max-rows rows, every \
value is read (8 bytes per numeric value, in one extra streaming pass; string columns with \
1025 to 100,000 distinct values are counted with a GROUP BY) and the statistics equal scipy's. Columns whose profile kept every value or exact counts (<= 2048 values or \
<= 1024 distinct values) are exact from a profile too. Otherwise the profile's t-digest and \
frequent-items sketches are used and the result says `exact: false` with the sketch error.

Categories seen only in the current data keep their own bin and are named; numeric values \
outside the reference range are counted. Null values are not compared (their counts are \
reported). Date/time, binary, list and struct columns are skipped unless named with \
--columns (date/time columns are then compared on their integer encoding).

Exit status: 1 when the dataset drifted (share of drifted columns >= --drift-share), when a \
column exceeds a --schema drift comparator of severity error, or, with --fail-on warning, when \
any column drifted, or when no column was compared (every column skipped) unless \
--allow-empty is given; 2 when the inputs cannot be read or \
compared.

{AUTO_METHOD_HELP}
Examples:
  preflight drift train.parquet serving.parquet
  preflight drift last_week.profile.json today/*.parquet --method psi --threshold 0.2
  preflight drift a.csv b.csv --method ks --format json
  preflight drift train.csv serving.csv --label species --format markdown
  preflight drift train.csv serving.csv --schema s.yaml     # the schema's label, reported first
  preflight drift train.parquet serving.parquet --by country  # and each country's slice

Slices (--by COL[,COL]): each slice of the current data (per value of COL, or combination of \
values) is also compared with the same slice of the reference, from the two slice profiles \
(exact while a slice's profile kept every value or exact counts; a larger kept slice is read \
again when both sides are within --exact-max-rows; from sketches beyond). The \
--max-slices slices with the most rows on both sides are kept, the rest compared as one \
`__other__` slice holding the same keys on both sides. A slice on one side only is a \
`missing_slice` or `new_slice` warning. Every result names its slice (JSON: `slice`, null for \
the whole data); the exit status follows the worst slice."
    )
}

/// Per-column drift between a reference and current data (data or stored profiles).
#[derive(Debug, clap::Args)]
#[command(long_about = long_about())]
pub struct Args {
    /// The reference, then the current data: files, globs, directories or *.profile.json.
    #[arg(required = true, num_args = 2.., value_name = "INPUT")]
    pub inputs: Vec<String>,
    #[command(flatten)]
    pub methods: MethodArgs,
    /// Compare only these columns (comma-separated or repeated).
    #[arg(long, value_name = "COL", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// The label (target) column: compared like the others and reported first.
    #[arg(long, value_name = "COL")]
    pub label: Option<String>,
    /// A schema file (`preflight infer`): its label feature (`role: label`) is the label
    /// unless --label names one, and each feature's `drift` comparator is checked too
    /// (its method and threshold); one exceeded fails the run at the comparator's severity.
    #[arg(long, short = 's', value_name = "SCHEMA")]
    pub schema: Option<PathBuf>,
    /// Read every value (exact statistics) when both sides are data with at most this many
    /// rows; beyond, use the profiles' sketches.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub exact_max_rows: u64,
    /// Accept a run that compared no column (every column skipped): a warning instead of
    /// a failed check.
    #[arg(long)]
    pub allow_empty: bool,
    /// Also compare each slice: per value of COL (or combination of values of several,
    /// comma-separated), the current data's slice against the reference's.
    #[arg(long, value_name = "COL[,COL]", value_delimiter = ',')]
    pub by: Vec<String>,
    /// Compare this many slices (most rows on both sides first); the rest are one slice,
    /// `__other__`.
    #[arg(long, value_name = "N", default_value_t = 100, requires = "by")]
    pub max_slices: usize,
    #[command(flatten)]
    pub distinct_slices: crate::slices::DistinctSlicesArg,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    reference: SideInfo,
    current: SideInfo,
    drift_share: f64,
    compared_columns: usize,
    drifted_columns: usize,
    share_drifted: f64,
    dataset_drift: bool,
    /// Why no column was compared, when none was (the run fails unless --allow-empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    nothing_compared: Option<&'a str>,
    label: Option<String>,
    /// The whole data's results (`slice` null), then each slice's.
    columns: Vec<SlicedResult<'a>>,
    skipped: &'a [Skipped],
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_slices: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slices: Option<&'a [SliceDrift]>,
}

/// A result and the slice it is of (`None`: the whole data).
#[derive(Serialize)]
struct SlicedResult<'a> {
    #[serde(flatten)]
    result: &'a ColumnResult,
    slice: Option<&'a str>,
}

/// The label column: --label, else the schema's label feature.
fn label(args: &Args, schema: Option<&Schema>) -> Result<Option<String>> {
    if args.label.is_some() {
        return Ok(args.label.clone());
    }
    let (Some(path), Some(schema)) = (&args.schema, schema) else {
        return Ok(None);
    };
    let mut labels = schema.features.iter().filter(|f| f.role == Role::Label);
    let first = labels.next().map(|f| f.name.clone());
    if let Some(second) = labels.next() {
        bail!(
            "{}: more than one feature has role label (`{}`, `{}`); name one with --label",
            path.display(),
            first.unwrap_or_default(),
            second.name
        );
    }
    Ok(first)
}

/// The plan of the run: the methods, the columns, the label and the schema's comparators.
fn plan(
    args: &Args,
    methods: crate::args::Methods,
    label: Option<String>,
    schema: Option<&Schema>,
    names: [String; 2],
) -> Result<DriftPlan> {
    let mut comparators = Vec::new();
    for f in schema.map(|s| s.features.as_slice()).unwrap_or_default() {
        if let Some(cmp) = &f.drift {
            comparators.push(Comparator {
                column: f.name.clone(),
                method: cmp.method.parse::<Method>().map_err(anyhow::Error::msg)?,
                threshold: cmp.threshold,
                severity: cmp.severity,
            });
        }
    }
    Ok(DriftPlan {
        methods: methods.methods,
        threshold: methods.threshold,
        columns: args.columns.clone(),
        label,
        comparators,
        same_columns: true,
        skip_by_kind: true,
        order: Order::Severity,
        names,
    })
}

pub fn run(mut args: Args) -> Result<ExitStatus> {
    crate::inputs::read_stdin(&mut args.inputs, args.input.input_format)?;
    args.out = args.out.checked("drift")?;
    crate::slices::check_max_slices(args.max_slices)?;
    let max_distinct = args.distinct_slices.get()?;
    crate::output::check_outputs(
        [args.out.output.as_deref(), args.out.html.as_deref()],
        args.inputs
            .iter()
            .map(Path::new)
            .chain(args.schema.as_deref()),
    )?;
    let methods = args.methods.check()?;
    let drift_share = methods.drift_share;
    let schema = args.schema.as_deref().map(Schema::load).transpose()?;
    let label = label(&args, schema.as_ref())?;
    let (ref_paths, cur_paths) = args.inputs.split_at(1);
    let runtime = crate::load::runtime()?;
    let (reference, current) = runtime.block_on(async {
        let r = load(ref_paths, &args.input).await?;
        let c = load(cur_paths, &args.input).await?;
        Ok::<_, anyhow::Error>((r, c))
    })?;
    let plan = plan(
        &args,
        methods,
        label.clone(),
        schema.as_ref(),
        [reference.name(), current.name()],
    )?;

    // Every value where both sides are data and small enough; the profiles otherwise.
    let small = reference.profile.row_count <= args.exact_max_rows
        && current.profile.row_count <= args.exact_max_rows;
    let comparison = match (&reference.dataset, &current.dataset) {
        (Some(r), Some(c)) if small => runtime.block_on(async {
            let mut read = DataValues {
                sides: [r, c],
                filter: None,
            };
            compare_profiles_with(&reference.profile, &current.profile, &plan, &mut read)
        })?,
        _ => preflight_stats::drift::plan::compare_profiles(
            &reference.profile,
            &current.profile,
            &plan,
        )?,
    };
    let summary = comparison.summary(drift_share);
    let mut checks = drift_checks(&comparison.results, &summary, drift_share);
    checks.extend(nothing_compared_check(
        comparison.nothing_compared.as_deref(),
        args.allow_empty,
    ));
    let sliced = if args.by.is_empty() {
        None
    } else {
        let s = runtime.block_on(crate::slices::compare_slices(
            &reference,
            &current,
            &args.by,
            args.max_slices,
            max_distinct,
            &plan,
            drift_share,
            args.allow_empty,
            Some(args.exact_max_rows),
        ))?;
        checks.extend(s.checks.iter().cloned());
        Some(s)
    };
    let mut columns: Vec<SlicedResult> = (comparison.results.iter())
        .map(|result| SlicedResult {
            result,
            slice: None,
        })
        .collect();
    for s in sliced.iter().flat_map(|s| &s.slices) {
        columns.extend(s.results.iter().map(|result| SlicedResult {
            result,
            slice: Some(&s.slice),
        }));
    }

    let report = Report {
        version: DRIFT_VERSION,
        reference: reference.info(),
        current: current.info(),
        drift_share,
        compared_columns: summary.compared,
        drifted_columns: summary.drifted,
        share_drifted: summary.share,
        dataset_drift: summary.dataset_drift,
        nothing_compared: comparison.nothing_compared.as_deref(),
        label,
        columns,
        skipped: &comparison.skipped,
        by: sliced.as_ref().map(|s| s.by.as_slice()),
        max_slices: sliced.as_ref().map(|s| s.max_slices),
        slices: sliced.as_ref().map(|s| s.slices.as_slice()),
    };
    let format = args.out.format();
    let suite = format!("drift {} vs {}", reference.name(), current.name());
    let file = current.inputs.first().cloned().unwrap_or_default();
    let fail_on = args.out.fail_on;
    emit(args.out.output.as_deref(), |w| match format {
        CheckFormat::Json => write_json(w, &report),
        CheckFormat::Table => {
            let view = DriftTable {
                columns: &comparison.results,
                skipped: &comparison.skipped,
                nothing_compared: comparison.nothing_compared.as_deref(),
                summary,
                drift_share,
                slices: sliced.as_ref().map_or(&[], |s| s.slices.as_slice()),
            };
            drift_table(w, &view, &checks, fail_on)
        }
        _ => render(w, format, &suite, &file, &checks, fail_on).map(|_| ()),
    })?;
    if let Some(path) = &args.out.html {
        let results = comparison.results.iter().map(|c| &c.drift).collect();
        let mut page = crate::html::drift_page(
            suite,
            [("reference", &reference), ("current", &current)],
            results,
            &comparison.skipped,
            &checks,
            fail_on,
        );
        if let Some(s) = &sliced {
            page.slices = crate::html::drift_slices(s);
        }
        crate::html::write(path, &page)?;
    }
    Ok(status(&checks, fail_on))
}
