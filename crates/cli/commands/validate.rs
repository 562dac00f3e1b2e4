//! `preflight validate`: check data against a stored schema; exit 1 when a check fails.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::Result;
use arrow::datatypes::DataType;
use preflight_schema::compare::{self, Comparison};
use preflight_schema::validate::{Validation, environment, needs_full_profile, no_rows, validate};
use preflight_schema::{Schema, data, types};
use preflight_stats::profile::{Kind, Profile};
use preflight_stats::source::{Dataset, SourceOptions};

use crate::ExitStatus;
use crate::args::{InputArgs, OutputArgs};
use crate::checks::{self, Check, CheckFormat};
use crate::load::{Side, SideInfo, load_profiles};
use crate::output::{emit, write_json};
use crate::progress::Progress;
use crate::render::validate::{Summary, ValidateReport, validate_table};

/// The `validate --format json` document's version.
const REPORT_VERSION: u32 = 1;

/// Validate data against a schema file.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Validate data against a schema file (see `preflight infer`): missing and new \
columns, types, presence, domains, ranges, NaN/inf, uniqueness, string lengths and patterns, \
row counts, custom SQL checks, and which environment a feature belongs to. One profile pass \
answers the schema checks; rows are read again only for uniqueness, patterns, custom checks \
and the example rows of anomalies found.

Drift and skew (TFDV's comparators): a feature's `drift: {method, threshold}` in the schema \
is checked against --baseline (the previous batch), its `skew: {...}` against --training \
(the training data, when validating serving data). Either is data or a stored profile \
(`*.profile.json`, e.g. from `preflight profile -o train.profile.json`). The method is a \
`preflight drift --method` name: TFDV uses `linf` (L-infinity) for categories and \
`js_divergence` (log2 Jensen-Shannon divergence on histograms) for numbers, which \
`preflight infer --drift-threshold` writes. Statistics come from the two profiles: exact \
while a profile kept every value (<= 2048) or exact counts (<= 1024 distinct values), from \
sketches beyond (`exact: false`). A distance at or above the threshold, or a p-value below \
it, is a `drift_exceeded` / `skew_exceeded` anomaly at the comparator's severity; a column \
that cannot be compared is a `not_compared` warning. Without --baseline / --training the \
comparators are not checked (the table says so).

Exit codes: 0 passed, 1 an error-severity anomaly (or a warning with --fail-on warning), 2 \
could not run (bad schema file: the message names the line and field).

Examples:
  preflight validate serving.csv --schema schemas/penguins.schema.yaml --environment serving
  preflight validate 'batch/*.parquet' --schema s.yaml --format junit -o report.xml
  preflight validate batch.csv --schema s.yaml --format github
  preflight validate batch.csv --schema s.yaml --format markdown >> \"$GITHUB_STEP_SUMMARY\"
  preflight validate today.csv --schema s.yaml --baseline yesterday.profile.json
  preflight validate serving.csv --schema s.yaml --environment serving --training train.profile.json
  preflight validate batch.parquet --schema s.yaml --history metrics/ --tag dataset=orders
  preflight validate events.parquet --schema s.yaml --by country

Checks over time (`validate --history DIR`): a feature's or the dataset's `history` checks \
judge a metric of this run (rows, missing_fraction, mean, std_dev, min, max, median, p1..p99, \
distinct, share:<value>) against the same metric in the past runs of DIR with these tags, \
before --at: Deequ's strategies (threshold, absolute_change, relative_change, online_normal, \
batch_normal, holt_winters) or Soda's `change`. A firing is a `metric_anomaly` at the check's \
severity (warning by default); too little history is a `not_compared` warning. The run is \
then added to DIR, with the metrics found anomalous, which later runs leave out of their \
baselines. A feature's `freshness: {max_age: 1d}` bounds a timestamp column's newest value \
relative to --at (or now); `preflight infer --history-checks` writes default checks."
)]
pub struct Args {
    /// Files, globs or directories to validate (all of one format).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// The schema file (YAML or JSON).
    #[arg(long, short = 's', value_name = "SCHEMA")]
    pub schema: PathBuf,
    /// The environment to check for (e.g. serving) [default: the schema's].
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
    /// Check the schema's `drift` comparators against this data or stored profile (the
    /// previous batch); repeat for several paths.
    #[arg(long, value_name = "PATH")]
    pub baseline: Vec<String>,
    /// Check the schema's `skew` comparators against this training data or stored
    /// profile; repeat for several paths.
    #[arg(long, value_name = "PATH")]
    pub training: Vec<String>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub history: crate::history::HistoryArgs,
    /// Also check each slice: per value of COL (or combination of several,
    /// comma-separated), the value checks a profile answers (presence, domain, range,
    /// finite, length); anomalies name their slice.
    #[arg(long, value_name = "COL[,COL]", value_delimiter = ',')]
    pub by: Vec<String>,
    /// Check this many slices (most rows first); the rest are one slice, `__other__`.
    #[arg(long, value_name = "N", default_value_t = 100, requires = "by")]
    pub max_slices: usize,
    #[command(flatten)]
    pub distinct_slices: crate::slices::DistinctSlicesArg,
}

/// CSV has no types: read the columns the schema calls strings as strings (digits stay
/// text), and let every other column be inferred so that bad cells show as anomalies.
fn csv_types(schema: &Schema, ds: &Dataset, opts: &SourceOptions) -> Vec<(String, DataType)> {
    let mut types = opts.types.clone();
    let file = ds.schema();
    for f in &schema.features {
        if types::family(&f.type_name) != Some(Kind::String)
            || types.iter().any(|(n, _)| *n == f.name)
        {
            continue;
        }
        // Already text: plain strings, or a dictionary of them (the hive partition
        // columns of a `key=value` directory, which no --type can name).
        let text = |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8);
        if let Ok(field) = file.field_with_name(&f.name)
            && !text(field.data_type())
            && !matches!(field.data_type(), DataType::Dictionary(_, v) if text(v))
        {
            types.push((f.name.clone(), DataType::Utf8));
        }
    }
    types
}

/// Open data for validation against `schema`, with its CSV string columns read as text.
async fn open(paths: &[String], schema: &Schema, opts: &SourceOptions) -> Result<Dataset> {
    let ds = crate::load::open(paths, opts).await?;
    if ds.format() == preflight_stats::source::Format::Csv {
        let types = csv_types(schema, &ds, opts);
        if types.len() > opts.types.len() {
            let opts = SourceOptions {
                types,
                ..opts.clone()
            };
            return Ok(crate::load::open(paths, &opts).await?);
        }
    }
    Ok(ds)
}

/// The columns whose checks need only a profile's summary (every column but those
/// [`needs_full_profile`] names). `None` (a full profile) when the profile goes further:
/// into an HTML page, or a history that records its metrics.
fn summary_only(
    schema: &Schema,
    args: &Args,
    history: &crate::history::HistoryPlan,
    ds: &Dataset,
) -> Option<Arc<HashSet<String>>> {
    if args.out.html.is_some() || history.dir.is_some() {
        return None;
    }
    let full: HashSet<&str> = (schema.features.iter())
        .filter(|f| needs_full_profile(f, !args.baseline.is_empty(), !args.training.is_empty()))
        .map(|f| f.name.as_str())
        .collect();
    let names = (ds.schema().fields().iter())
        .map(|f| f.name())
        .filter(|n| !full.contains(n.as_str()))
        .cloned()
        .collect();
    Some(Arc::new(names))
}

/// A baseline or training side: stored profiles, or data profiled as the schema reads it.
async fn load_side(paths: &[String], schema: &Schema, opts: &SourceOptions) -> Result<Side> {
    if let Some(side) = load_profiles(paths)? {
        return Ok(side);
    }
    Side::profiled(paths, open(paths, schema, opts).await?).await
}

fn is_no_rows(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<preflight_stats::Error>(),
        Some(preflight_stats::Error::NoRows { .. })
    )
}

/// The report of data without rows: one `row_count` anomaly, nothing compared.
fn empty(
    schema: &Schema,
    env: Option<&str>,
    sources: &[String],
) -> (Validation, Vec<String>, [Option<SideInfo>; 2], Profile) {
    let profile = Profile {
        version: preflight_stats::profile::PROFILE_VERSION,
        row_count: 0,
        sources: sources.to_vec(),
        columns: Vec::new(),
    };
    (
        no_rows(schema, env),
        sources.to_vec(),
        [None, None],
        profile,
    )
}

/// Comparators the run cannot check, said in a note rather than failed.
fn unchecked_notes(schema: &Schema, args: &Args) -> Vec<String> {
    let mut notes = Vec::new();
    if args.history.history.is_none() && preflight_schema::history::has_checks(schema) {
        let n = preflight_schema::history::metrics(schema).len();
        notes.push(format!(
            "{n} history check{}, not checked: give --history DIR to check {}",
            if n == 1 { "" } else { "s" },
            if n == 1 { "it" } else { "them" }
        ));
    }
    for (which, given, flag) in [
        (Comparison::Drift, !args.baseline.is_empty(), "--baseline"),
        (Comparison::Skew, !args.training.is_empty(), "--training"),
    ] {
        let n = compare::features(schema, which).len();
        if n > 0 && !given {
            notes.push(format!(
                "{n} feature{} {} a {} comparator, not checked: give {flag} to check {}",
                if n == 1 { "" } else { "s" },
                if n == 1 { "has" } else { "have" },
                which.as_str(),
                if n == 1 { "it" } else { "them" }
            ));
        }
    }
    notes
}

pub fn run(mut args: Args) -> Result<ExitStatus> {
    crate::inputs::read_stdin(&mut args.paths, args.input.input_format)?;
    args.out = args.out.checked("validate")?;
    crate::output::check_outputs(
        [args.out.output.as_deref(), args.out.html.as_deref()],
        (args
            .paths
            .iter()
            .chain(&args.baseline)
            .chain(&args.training))
        .map(std::path::Path::new)
        .chain([args.schema.as_path()]),
    )?;
    crate::inputs::require_data(
        &args.paths,
        "validate",
        " (a stored profile can be the --baseline or --training side)",
    )?;
    crate::slices::check_max_slices(args.max_slices)?;
    let max_distinct = args.distinct_slices.get()?;
    let schema = Schema::load(&args.schema)?;
    if let Some(e) = &args.environment
        && !schema.dataset.environments.is_empty()
        && !schema.dataset.environments.contains(e)
    {
        anyhow::bail!(
            "--environment `{e}` is not declared in {} (environments: {})",
            args.schema.display(),
            schema.dataset.environments.join(", ")
        );
    }
    let opts = args.input.to_options()?;
    let history = args.history.plan()?;
    let runtime = crate::load::runtime()?;
    let mut sliced = None;
    let (validation, sources, sides, profile) = runtime.block_on(async {
        let env = environment(&schema, args.environment.as_deref());
        // No data rows is a finding, not a failure to run: an empty batch must fail the
        // gate with a report like any other, never pass or crash.
        let opened = match open(&args.paths, &schema, &opts).await {
            Ok(ds) => Some(ds),
            Err(e) if is_no_rows(&e) => None,
            Err(e) => return Err(e),
        };
        let Some(mut ds) = opened else {
            return anyhow::Ok(empty(&schema, env, &args.paths));
        };
        let rows = Arc::new(AtomicU64::new(0));
        let progress = Progress::start(
            format!("validating {}", args.paths.join(" ")),
            rows.clone(),
            ds.known_rows(),
        );
        let summary_only = summary_only(&schema, &args, &history, &ds);
        let profiled = ds.profile_summarising(rows, summary_only).await;
        drop(progress);
        let profile = match profiled {
            Ok(p) => p,
            Err(preflight_stats::Error::NoRows { .. }) => {
                return anyhow::Ok(empty(&schema, env, ds.sources()));
            }
            Err(e) => return Err(e.into()),
        };
        let mut v = validate(&schema, &profile, env);
        let mut sides = [None, None];
        for (slot, which, paths) in [
            (0, Comparison::Drift, &args.baseline),
            (1, Comparison::Skew, &args.training),
        ] {
            if paths.is_empty() {
                continue;
            }
            let side = load_side(paths, &schema, &opts).await?;
            let (outcomes, results) =
                compare::compare(&schema, which, &side.profile, &profile, env);
            v.outcomes.extend(outcomes);
            v.comparisons.extend(results);
            sides[slot] = Some(side.info());
        }
        if data::needed(&schema, &v) {
            let ctx = ds.ordered_context()?;
            data::run(&schema, &args.schema, &mut v, &ctx).await?;
        }
        check_history(&schema, &history, &profile, env, &mut v)?;
        if !args.by.is_empty() {
            let sliced_profiles = preflight_stats::slice::profile_slices(
                &mut ds,
                &args.by,
                args.max_slices,
                max_distinct,
            )
            .await?;
            let slices: Vec<(&str, &Profile)> = (sliced_profiles.slices.iter())
                .map(|s| (s.key.as_str(), &s.profile))
                .collect();
            v.outcomes
                .extend(preflight_schema::validate::validate_slices(
                    &schema, &slices, env,
                ));
            // Checks over time per slice: each kept slice against its own series
            // (`slice=KEY`, as `profile --by --history` records it), then recorded in it.
            if history.dir.is_some() {
                for s in (sliced_profiles.slices.iter())
                    .filter(|s| s.key != preflight_stats::slice::OTHER)
                {
                    let plan = history.for_slice(&s.key);
                    let outcomes = history_outcomes(&schema, &plan, &s.profile, env)?;
                    v.outcomes.extend(
                        (outcomes.into_iter())
                            .map(|o| preflight_schema::validate::in_slice(o, &s.key)),
                    );
                }
            }
            sliced = Some(sliced_profiles);
        }
        anyhow::Ok((v, ds.sources().to_vec(), sides, profile))
    })?;
    let [baseline, training] = sides;
    let checks = validation_checks(&validation);
    let status = checks::status(&checks, args.out.fail_on);
    let format = args.out.format();
    let suite = format!("validate {}", args.paths.join(" "));
    let file = args.paths.first().map_or("", String::as_str);
    emit(args.out.output.as_deref(), |w| {
        if checks::render(w, format, &suite, file, &checks, args.out.fail_on)? {
            return Ok(());
        }
        let anomalies = validation.anomalies();
        let (errors, warnings) = checks::tally(&checks);
        let report = ValidateReport {
            version: REPORT_VERSION,
            passed: status == ExitStatus::Success,
            schema: args.schema.display().to_string(),
            sources: &sources,
            environment: validation.environment.as_deref(),
            rows: validation.rows,
            baseline,
            training,
            summary: Summary {
                checks: checks.len(),
                errors,
                warnings,
            },
            anomalies,
            comparisons: &validation.comparisons,
            notes: unchecked_notes(&schema, &args),
        };
        match format {
            CheckFormat::Json => write_json(w, &report),
            _ => validate_table(w, &report, &checks, args.out.fail_on),
        }
    })?;
    if let Some(path) = &args.out.html {
        let anomalies = validation.anomalies();
        let mut page = crate::html::validation_page(
            suite,
            &profile,
            &args.schema,
            &anomalies,
            &checks,
            args.out.fail_on,
        );
        if let Some(s) = &sliced {
            page.slices = crate::html::profile_slices(s);
        }
        crate::html::write(path, &page)?;
    }
    Ok(status)
}

/// The schema's checks over time: against the runs of `--history` before this one (with
/// its tags), then this run added to the history with the metrics found anomalous.
/// Freshness needs only the run's time and is checked with or without a history.
fn check_history(
    schema: &Schema,
    plan: &crate::history::HistoryPlan,
    profile: &Profile,
    env: Option<&str>,
    v: &mut Validation,
) -> Result<()> {
    let outcomes = history_outcomes(schema, plan, profile, env)?;
    v.outcomes.extend(outcomes);
    Ok(())
}

/// [`check_history`]'s outcomes, the run recorded.
fn history_outcomes(
    schema: &Schema,
    plan: &crate::history::HistoryPlan,
    profile: &Profile,
    env: Option<&str>,
) -> Result<Vec<preflight_schema::validate::Outcome>> {
    use preflight_schema::history as checks_over_time;
    use preflight_stats::history::store;
    let metrics = preflight_stats::history::RunMetrics::from_profile(profile);
    let run = checks_over_time::Run {
        at_ms: plan.at_ms,
        profile,
        metrics: &metrics,
    };
    let records = match &plan.dir {
        Some(dir) if checks_over_time::has_checks(schema) => {
            let wanted = checks_over_time::metrics(schema);
            store::read_history(
                dir,
                &store::Selection::of(&wanted),
                &plan.filter,
                plan.at_ms,
                checks_over_time::window(schema),
            )?
        }
        _ => Vec::new(),
    };
    let selected = store::select(&records, &plan.filter, Some(plan.at_ms), None, None);
    let past = store::History::new(&selected);
    let outcomes = checks_over_time::check(schema, &run, plan.dir.as_ref().map(|_| &past), env);
    let flagged: Vec<String> = (outcomes.iter())
        .filter_map(|o| o.anomaly.as_ref())
        .filter(|a| a.kind == preflight_schema::validate::AnomalyKind::MetricAnomaly)
        .filter_map(|a| a.metric.clone())
        .collect();
    plan.record(
        "validate",
        &profile.sources,
        profile,
        Some(&metrics),
        flagged,
    )?;
    Ok(outcomes)
}

/// One check per outcome: JUnit's testcases, GitHub's annotations. Missing columns
/// come first, as in the table and the JSON: the renderers order failures by severity only,
/// so with 5,000 features the missing ones would sit among the others in column order.
fn validation_checks(v: &Validation) -> Vec<Check> {
    let mut outcomes: Vec<_> = v.outcomes.iter().collect();
    outcomes.sort_by_key(|o| !o.anomaly.as_ref().is_some_and(|a| a.kind.is_missing()));
    outcomes
        .into_iter()
        .map(|o| match &o.anomaly {
            None => Check::passed(o.column.clone(), o.check.clone()),
            Some(a) => Check::failed(
                o.column.clone(),
                o.check.clone(),
                a.severity,
                a.message.clone(),
            ),
        })
        .collect()
}
