//! `preflight drift`: per-column drift between a reference and a current dataset, either
//! side data or a stored profile, and the dataset-level verdict.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::{Context, Result, bail};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};
use preflight_schema::Schema;
use preflight_schema::model::Role;
use preflight_stats::Severity;
use preflight_stats::drift::compare::{
    Categories, ColumnDrift, ColumnSample, CompareOptions, NumericData, Skipped, compare_column,
    nothing_compared,
};
use preflight_stats::drift::sample::{category_counts, numeric_values};
use preflight_stats::drift::{AUTO_METHOD_HELP, Method, MethodKind};
use preflight_stats::profile::{Kind, Profile};
use preflight_stats::source::Dataset;
use serde::Serialize;

use crate::ExitStatus;
use crate::commands::profile::InputArgs;
use crate::gate::{Check, CheckFormat, FailOn, ReportArgs, render, status, verdict};
use crate::output::{emit, write_json};
use crate::progress::Progress;

/// Categorical columns with at most this many distinct values (the profile's HLL estimate)
/// are counted exactly with a GROUP BY when both sides are small data.
const EXACT_MAX_CATEGORIES: u64 = 100_000;

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
  preflight drift train.csv serving.csv --schema s.yaml     # the schema's label, reported first"
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
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// The method flags `drift` and `report --baseline` share.
#[derive(Debug, Clone, clap::Args)]
pub struct MethodArgs {
    /// Method(s), comma-separated or repeated: auto, ks, wasserstein, jensenshannon, psi,
    /// kl_div (kl), hellinger, chisquare, chi2_contingency, z (ztest), linf, tvd, js_divergence (tfdv_js).
    /// Several methods give one result per column and method; a column drifts when any
    /// of them says so.
    #[arg(
        long,
        value_name = "METHOD",
        value_delimiter = ',',
        default_value = "auto"
    )]
    pub method: Vec<String>,
    /// Drift threshold for every column [default: the method's, 0.05 for p-values, 0.1
    /// for distances].
    #[arg(long, value_name = "X")]
    pub threshold: Option<f64>,
    /// Dataset drift when the share of drifted columns is at least this.
    #[arg(long, value_name = "SHARE", default_value_t = 0.5)]
    pub drift_share: f64,
}

/// Checked arguments.
pub(crate) struct Config {
    /// `None` = auto.
    pub methods: Vec<Option<Method>>,
    pub threshold: Option<f64>,
    pub drift_share: f64,
}

/// `--method` values: `None` is auto; duplicates dropped.
fn parse_methods(list: &[String]) -> Result<Vec<Option<Method>>> {
    let mut methods = Vec::new();
    for m in list {
        let m = m.trim();
        let parsed = if m.eq_ignore_ascii_case("auto") {
            None
        } else {
            Some(m.parse::<Method>().map_err(anyhow::Error::msg)?)
        };
        if !methods.contains(&parsed) {
            methods.push(parsed);
        }
    }
    Ok(methods)
}

pub(crate) fn config(args: &MethodArgs) -> Result<Config> {
    let methods = parse_methods(&args.method)?;
    if let Some(t) = args.threshold
        && !(t.is_finite() && t >= 0.0)
    {
        bail!("--threshold must be a non-negative number, got {t}");
    }
    if !(args.drift_share > 0.0 && args.drift_share <= 1.0) {
        bail!("--drift-share must be in (0, 1], got {}", args.drift_share);
    }
    Ok(Config {
        methods,
        threshold: args.threshold,
        drift_share: args.drift_share,
    })
}

/// One side: its profile and, for data, the opened dataset.
pub(crate) struct Side {
    pub inputs: Vec<String>,
    pub profile: Profile,
    pub dataset: Option<Dataset>,
}

impl Side {
    pub fn name(&self) -> String {
        self.inputs.join(" ")
    }

    /// For the JSON report.
    pub fn info(&self) -> SideInfo {
        SideInfo {
            inputs: self.inputs.clone(),
            source: if self.dataset.is_some() {
                "data"
            } else {
                "profile"
            },
            rows: self.profile.row_count,
        }
    }

    /// Profile an opened dataset.
    pub async fn profiled(paths: &[String], mut ds: Dataset) -> Result<Self> {
        let rows = Arc::new(AtomicU64::new(0));
        let _progress = Progress::start(format!("profiling {}", paths.join(" ")), rows.clone());
        let profile = ds.profile(rows).await?;
        Ok(Self {
            inputs: paths.to_vec(),
            profile,
            dataset: Some(ds),
        })
    }
}

/// The side when `paths` are stored profiles (several are merged), `None` when they are
/// data; mixing both is an error.
pub(crate) fn load_profiles(paths: &[String]) -> Result<Option<Side>> {
    if !crate::inputs::profiles_or_data(paths)? {
        return Ok(None);
    }
    let mut loaded = Vec::new();
    for p in paths {
        let bytes = std::fs::read(p).with_context(|| format!("{p}: cannot read profile"))?;
        loaded.push((p.clone(), Profile::from_json(&bytes, Path::new(p))?));
    }
    let profile = if loaded.len() == 1 {
        loaded.remove(0).1
    } else {
        Profile::merge_all(&loaded)?
    };
    Ok(Some(Side {
        inputs: paths.to_vec(),
        profile,
        dataset: None,
    }))
}

/// Load one side: stored profiles (merged) or data (opened and profiled).
pub(crate) async fn load(paths: &[String], input: &InputArgs) -> Result<Side> {
    if let Some(side) = load_profiles(paths)? {
        return Ok(side);
    }
    let opts = input.to_options()?;
    let ds = Dataset::open(paths, &opts).await?;
    Side::profiled(paths, ds).await
}

/// Columns not compared unless named: Evidently leaves date/time columns out too.
pub(crate) fn default_skip(kind: Kind) -> Option<&'static str> {
    match kind {
        k if k.is_temporal() => {
            Some("date/time column: not compared by default (name it with --columns to compare it)")
        }
        Kind::Binary | Kind::List | Kind::Struct | Kind::Null | Kind::Other => {
            Some("no drift method for this column type")
        }
        _ => None,
    }
}

#[derive(Serialize)]
pub(crate) struct SideInfo {
    pub inputs: Vec<String>,
    /// `data` or `profile`.
    pub source: &'static str,
    pub rows: u64,
}

#[derive(Serialize)]
struct ColumnOut {
    #[serde(flatten)]
    drift: ColumnDrift,
    label: bool,
    /// Set when the threshold is the schema's drift comparator (`--schema`): a drift then
    /// fails the run at this severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_severity: Option<Severity>,
}

#[derive(Serialize)]
struct Report {
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
    nothing_compared: Option<String>,
    label: Option<String>,
    columns: Vec<ColumnOut>,
    skipped: Vec<Skipped>,
}

/// How far past its threshold a result is (> 1 drifted), for sorting by severity.
fn severity_score(d: &ColumnDrift) -> f64 {
    match d.method.kind() {
        MethodKind::PValue => {
            let p = d.p_value.unwrap_or(0.0);
            if p <= 0.0 {
                f64::INFINITY
            } else {
                d.threshold / p
            }
        }
        MethodKind::Distance => match d.statistic {
            Some(s) if d.threshold > 0.0 => s / d.threshold,
            Some(_) => f64::INFINITY,
            None => f64::INFINITY,
        },
    }
}

pub(crate) fn fmt_num(x: Option<f64>) -> String {
    match x {
        None => "-".into(),
        Some(v) if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) => format!("{v:.3e}"),
        Some(v) => format!("{v:.4}"),
    }
}

fn notes(d: &ColumnDrift) -> String {
    let mut n = Vec::new();
    if !d.exact {
        n.push(format!("from sketches (error {})", fmt_num(d.sketch_error)));
    }
    if let Some(u) = d.unseen_count {
        let mut names = (d.unseen_categories.iter())
            .map(|c| crate::display::value(c))
            .collect::<Vec<_>>()
            .join(", ");
        if names.chars().count() > 40 {
            names = names.chars().take(40).collect::<String>() + "...";
        }
        n.push(format!("{u} rows in unseen categories: {names}"));
    }
    if let Some(o) = d.out_of_range
        && o.below + o.above > 0
    {
        n.push(format!(
            "{} below, {} above the reference range",
            o.below, o.above
        ));
    }
    n.join("; ")
}

fn table(w: &mut dyn std::io::Write, r: &Report, checks: &[Check], fail_on: FailOn) -> Result<()> {
    let w: &mut dyn std::io::Write = &mut crate::display::Escaping::new(w);
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header([
            "column",
            "method",
            "statistic",
            "p-value",
            "threshold",
            "result",
            "notes",
        ]);
    for c in &r.columns {
        let d = &c.drift;
        let name = if c.label {
            format!("{} (label)", d.column)
        } else {
            d.column.clone()
        };
        let name = crate::display::escape(&name).into_owned();
        let stat = if d.statistic.is_none() && d.p_value.is_some() {
            "inf".to_string()
        } else {
            fmt_num(d.statistic)
        };
        t.add_row(vec![
            name,
            d.method.to_string(),
            stat,
            fmt_num(d.p_value),
            fmt_num(Some(d.threshold)),
            match (d.drifted, c.schema_severity) {
                (true, Some(sev)) => format!("drifted (schema, {sev})"),
                (false, Some(_)) => "stable (schema)".to_string(),
                (true, None) => "drifted".to_string(),
                (false, None) => "stable".to_string(),
            },
            notes(d),
        ]);
    }
    for i in 2..=4 {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    writeln!(w, "{t}")?;
    for s in &r.skipped {
        writeln!(w, "skipped {}: {}", s.column, s.reason)?;
    }
    if let Some(reason) = &r.nothing_compared {
        writeln!(w, "{reason}")?;
    }
    writeln!(
        w,
        "dataset drift: {} ({} of {} columns drifted, {:.0}%; threshold {:.0}%)",
        if r.dataset_drift { "yes" } else { "no" },
        r.drifted_columns,
        r.compared_columns,
        r.share_drifted * 100.0,
        r.drift_share * 100.0
    )?;
    writeln!(w, "{}", verdict(checks, fail_on))?;
    Ok(())
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

/// The dataset verdict and one gate check per result: what `drift` and `report --baseline`
/// decide from the same results. A result with a schema severity is a schema comparator.
pub(crate) struct DriftChecks {
    pub compared: usize,
    pub drifted: usize,
    pub share: f64,
    pub dataset_drift: bool,
    pub checks: Vec<Check>,
}

pub(crate) fn drift_checks(
    results: &[(&ColumnDrift, Option<Severity>)],
    drift_share: f64,
) -> DriftChecks {
    let compared: BTreeSet<&str> = results.iter().map(|(d, _)| d.column.as_str()).collect();
    let drifted: BTreeSet<&str> = results
        .iter()
        .filter(|(d, _)| d.drifted)
        .map(|(d, _)| d.column.as_str())
        .collect();
    let share = if compared.is_empty() {
        0.0
    } else {
        drifted.len() as f64 / compared.len() as f64
    };
    let dataset_drift = !compared.is_empty() && share >= drift_share;

    let mut checks: Vec<Check> = Vec::with_capacity(results.len() + 1);
    checks.push(if dataset_drift {
        Check::failed(
            None,
            "dataset_drift",
            Severity::Error,
            format!(
                "{} of {} columns drifted ({:.0}%), at or above the {:.0}% share that means dataset drift",
                drifted.len(),
                compared.len(),
                share * 100.0,
                drift_share * 100.0
            ),
        )
    } else {
        Check::passed(None, "dataset_drift")
    });
    for &(d, schema_severity) in results {
        // A schema comparator fails at its severity; other results are warnings that fail
        // the run only through dataset drift (or --fail-on warning).
        let (kind, severity) = match schema_severity {
            Some(sev) => (format!("drift ({}, schema)", d.method), sev),
            None => (format!("drift ({})", d.method), Severity::Warning),
        };
        checks.push(if d.drifted {
            let what = match d.method.kind() {
                MethodKind::PValue => format!(
                    "p-value {} below threshold {}",
                    fmt_num(d.p_value),
                    d.threshold
                ),
                MethodKind::Distance => format!(
                    "distance {} at or above threshold {}",
                    fmt_num(d.statistic),
                    d.threshold
                ),
            };
            let extra = notes(d);
            Check::failed(
                Some(d.column.clone()),
                kind,
                severity,
                if extra.is_empty() {
                    format!("drifted: {what}")
                } else {
                    format!("drifted: {what}; {extra}")
                },
            )
        } else {
            Check::passed(Some(d.column.clone()), kind)
        });
    }

    DriftChecks {
        compared: compared.len(),
        drifted: drifted.len(),
        share,
        dataset_drift,
        checks,
    }
}

pub fn run(args: Args) -> Result<ExitStatus> {
    crate::output::check_outputs(
        [args.report.output.as_deref(), args.report.html.as_deref()],
        args.inputs
            .iter()
            .map(Path::new)
            .chain(args.schema.as_deref()),
    )?;
    let cfg = config(&args.methods)?;
    let schema = args.schema.as_deref().map(Schema::load).transpose()?;
    let label = label(&args, schema.as_ref())?;
    let (ref_paths, cur_paths) = args.inputs.split_at(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (reference, current) = runtime.block_on(async {
        let r = load(ref_paths, &args.input).await?;
        let c = load(cur_paths, &args.input).await?;
        Ok::<_, anyhow::Error>((r, c))
    })?;

    // Which columns: named ones must exist on both sides; otherwise both sides must have
    // the same columns (a stored profile of another table is a mistake worth stopping).
    let ref_cols: Vec<&str> = reference
        .profile
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let cur_cols: BTreeSet<&str> = current
        .profile
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let mut named: Vec<String> = args.columns.clone();
    if let Some(l) = &label
        && !named.is_empty()
        && !named.contains(l)
    {
        named.push(l.clone());
    }
    for c in &named {
        if !ref_cols.contains(&c.as_str()) {
            bail!("{}: no column `{c}`", reference.name());
        }
        if !cur_cols.contains(c.as_str()) {
            bail!("{}: no column `{c}`", current.name());
        }
    }
    if named.is_empty() {
        if let Some(l) = &label {
            if !ref_cols.contains(&l.as_str()) {
                bail!("{}: no label column `{l}`", reference.name());
            }
            if !cur_cols.contains(l.as_str()) {
                bail!("{}: no label column `{l}`", current.name());
            }
        }
        let ref_set: BTreeSet<&str> = ref_cols.iter().copied().collect();
        if ref_set != cur_cols {
            let missing: Vec<&str> = ref_set.difference(&cur_cols).copied().collect();
            let extra: Vec<&str> = cur_cols.difference(&ref_set).copied().collect();
            bail!(
                "{}: columns differ from the reference {}: missing [{}], extra [{}] (compare the common ones with --columns)",
                current.name(),
                reference.name(),
                missing.join(", "),
                extra.join(", ")
            );
        }
    }
    let explicit = !args.columns.is_empty();
    let mut selected: Vec<String> = if explicit {
        ref_cols
            .iter()
            .filter(|c| named.iter().any(|n| n == *c))
            .map(|c| (*c).to_string())
            .collect()
    } else {
        ref_cols.iter().map(|c| (*c).to_string()).collect()
    };
    if let Some(l) = &label
        && let Some(i) = selected.iter().position(|c| c == l)
    {
        let l = selected.remove(i);
        selected.insert(0, l);
    }

    let mut skipped = Vec::new();
    let mut pairs: Vec<(ColumnSample, ColumnSample)> = Vec::new();
    for name in &selected {
        let (Some(rc), Some(cc)) = (reference.profile.column(name), current.profile.column(name))
        else {
            continue;
        };
        let named_here = explicit || label.as_deref() == Some(name.as_str());
        if let Some(reason) = default_skip(rc.kind)
            && !(named_here && rc.kind.is_temporal())
        {
            skipped.push(Skipped {
                column: name.clone(),
                reason: reason.into(),
            });
            continue;
        }
        pairs.push((
            ColumnSample::from_profile(rc),
            ColumnSample::from_profile(cc),
        ));
    }

    // Exact values where both sides are data and small enough.
    let both_data = reference.dataset.is_some() && current.dataset.is_some();
    let small = reference.profile.row_count <= args.exact_max_rows
        && current.profile.row_count <= args.exact_max_rows;
    if both_data && small {
        let wanted: Vec<usize> = pairs
            .iter()
            .enumerate()
            .filter(|(_, (r, c))| {
                let partial = |s: &ColumnSample| {
                    s.numeric
                        .as_ref()
                        .is_some_and(|n| !matches!(n.data, NumericData::Values(_)))
                };
                partial(r) || partial(c)
            })
            .map(|(i, _)| i)
            .collect();
        if !wanted.is_empty() {
            let names: Vec<String> = wanted.iter().map(|i| pairs[*i].0.name.clone()).collect();
            let (rv, cv) = runtime.block_on(async {
                let mut out = Vec::with_capacity(2);
                for side in [&reference, &current] {
                    out.push(match side.dataset.as_ref() {
                        Some(ds) => numeric_values(ds, &names).await?,
                        None => Vec::new(),
                    });
                }
                let c = out.pop().unwrap_or_default();
                let r = out.pop().unwrap_or_default();
                Ok::<_, anyhow::Error>((r, c))
            })?;
            for ((i, r), c) in wanted.iter().zip(rv).zip(cv) {
                let (a, b) = pairs[*i].clone();
                pairs[*i] = (a.with_values(r), b.with_values(c));
            }
        }
    }

    // Exact category counts for string columns whose profiles kept only a sketch.
    if both_data && small {
        for (r, c) in &mut pairs {
            let inexact = |s: &ColumnSample| {
                s.numeric.is_none() && s.categories.as_ref().is_some_and(|c| !c.is_exact())
            };
            // ID-like columns (more distinct values than this) stay with the sketch: a
            // GROUP BY over millions of singletons costs more than the profile itself and
            // their per-value distribution says little.
            if !(inexact(r) || inexact(c)) || r.distinct.max(c.distinct) > EXACT_MAX_CATEGORIES {
                continue;
            }
            let name = r.name.clone();
            let (rc, cc) = runtime.block_on(async {
                let mut out = Vec::with_capacity(2);
                for side in [&reference, &current] {
                    out.push(match side.dataset.as_ref() {
                        Some(ds) => category_counts(ds, &name).await?,
                        None => Default::default(),
                    });
                }
                let c = out.pop().unwrap_or_default();
                let r = out.pop().unwrap_or_default();
                Ok::<_, anyhow::Error>((r, c))
            })?;
            for (side, counts) in [(r, rc), (c, cc)] {
                side.categories = Some(Categories {
                    counts,
                    other: 0,
                    max_error: 0,
                });
            }
        }
    }

    let mut results: Vec<ColumnOut> = Vec::new();
    for (r, c) in &pairs {
        let mut push = |opts: CompareOptions, schema_severity: Option<Severity>| {
            match compare_column(r, c, &opts) {
                Ok(d) => {
                    // A schema comparator equal to a --method result marks that one.
                    if let Some(same) = results.iter_mut().find(|o| {
                        o.drift.column == d.column
                            && o.drift.method == d.method
                            && o.drift.threshold == d.threshold
                    }) {
                        same.schema_severity = same.schema_severity.or(schema_severity);
                        return;
                    }
                    results.push(ColumnOut {
                        label: Some(&d.column) == label.as_ref(),
                        drift: d,
                        schema_severity,
                    });
                }
                Err(s) => {
                    if !skipped.contains(&s) {
                        skipped.push(s);
                    }
                }
            }
        };
        for m in &cfg.methods {
            push(
                CompareOptions {
                    method: *m,
                    threshold: cfg.threshold,
                    reference_rows: reference.profile.row_count,
                },
                None,
            );
        }
        if let Some(cmp) = schema
            .as_ref()
            .and_then(|s| s.feature(&r.name))
            .and_then(|f| f.drift.as_ref())
        {
            let method = cmp.method.parse::<Method>().map_err(anyhow::Error::msg)?;
            push(
                CompareOptions {
                    method: Some(method),
                    threshold: Some(cmp.threshold),
                    reference_rows: reference.profile.row_count,
                },
                Some(cmp.severity),
            );
        }
    }
    // Label first, then most severe first; ties by column name and method.
    results.sort_by(|a, b| {
        let (a, b) = (&a.drift, &b.drift);
        let la = Some(&a.column) == label.as_ref();
        let lb = Some(&b.column) == label.as_ref();
        lb.cmp(&la)
            .then_with(|| b.drifted.cmp(&a.drifted))
            .then_with(|| severity_score(b).total_cmp(&severity_score(a)))
            .then_with(|| a.column.cmp(&b.column))
            .then_with(|| a.method.as_str().cmp(b.method.as_str()))
            .then_with(|| a.threshold.total_cmp(&b.threshold))
    });
    let pairs: Vec<(&ColumnDrift, Option<Severity>)> = results
        .iter()
        .map(|o| (&o.drift, o.schema_severity))
        .collect();
    let DriftChecks {
        compared,
        drifted,
        share,
        dataset_drift,
        mut checks,
    } = drift_checks(&pairs, cfg.drift_share);
    // A gate that compared no column must not pass (--allow-empty: a warning).
    let nothing_compared = nothing_compared(compared, &skipped);
    if let Some(reason) = &nothing_compared {
        checks.push(if args.allow_empty {
            Check::failed(None, "nothing_compared", Severity::Warning, reason.clone())
        } else {
            Check::failed(
                None,
                "nothing_compared",
                Severity::Error,
                format!("{reason} (--allow-empty accepts this)"),
            )
        });
    }

    let label_name = label.clone();
    let report = Report {
        version: DRIFT_VERSION,
        reference: reference.info(),
        current: current.info(),
        drift_share: cfg.drift_share,
        compared_columns: compared,
        drifted_columns: drifted,
        share_drifted: share,
        dataset_drift,
        nothing_compared,
        label: label_name.clone(),
        columns: results,
        skipped,
    };
    let format = args.report.format();
    let suite = format!("drift {} vs {}", reference.name(), current.name());
    let file = current.inputs.first().cloned().unwrap_or_default();
    emit(args.report.output.as_deref(), |w| match format {
        CheckFormat::Json => write_json(w, &report),
        CheckFormat::Table => table(w, &report, &checks, args.report.fail_on),
        _ => render(w, format, &suite, &file, &checks, args.report.fail_on).map(|_| ()),
    })?;
    if let Some(path) = &args.report.html {
        let results: Vec<&ColumnDrift> = report.columns.iter().map(|c| &c.drift).collect();
        let page = super::report::drift_page(
            suite,
            [("reference", &reference), ("current", &current)],
            results,
            &report.skipped,
            &checks,
            args.report.fail_on,
        );
        crate::html::write(path, &page)?;
    }
    Ok(status(&checks, args.report.fail_on))
}
