//! `preflight validate`: check data against a stored schema; exit 1 when a check fails.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::Result;
use arrow::datatypes::DataType;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use preflight_schema::validate::{Validation, environment, validate};
use preflight_schema::{Schema, data, types};
use preflight_stats::profile::Kind;
use preflight_stats::source::{Dataset, SourceOptions};
use serde::Serialize;

use super::profile::InputArgs;
use crate::ExitStatus;
use crate::gate::{self, Check, CheckFormat, FailOn, ReportArgs};
use crate::output::{emit, write_json};
use crate::progress::Progress;

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

Exit codes: 0 passed, 1 an error-severity anomaly (or a warning with --fail-on warning), 2 \
could not run (bad schema file: the message names the line and field).

Examples:
  preflight validate serving.csv --schema schemas/penguins.schema.yaml --environment serving
  preflight validate 'batch/*.parquet' --schema s.yaml --format junit -o report.xml
  preflight validate batch.csv --schema s.yaml --format github
  preflight validate batch.csv --schema s.yaml --format markdown >> \"$GITHUB_STEP_SUMMARY\""
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
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    passed: bool,
    schema: String,
    sources: &'a [String],
    environment: Option<&'a str>,
    rows: u64,
    summary: Summary,
    anomalies: Vec<&'a preflight_schema::validate::Anomaly>,
}

#[derive(Serialize)]
struct Summary {
    checks: usize,
    errors: usize,
    warnings: usize,
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
        if let Ok(field) = file.field_with_name(&f.name)
            && !matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8)
        {
            types.push((f.name.clone(), DataType::Utf8));
        }
    }
    types
}

pub fn run(args: Args) -> Result<ExitStatus> {
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
    let mut opts = args.input.to_options()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (validation, sources, profile) = runtime.block_on(async {
        let mut ds = Dataset::open(&args.paths, &opts).await?;
        if ds.format() == preflight_stats::source::Format::Csv {
            let types = csv_types(&schema, &ds, &opts);
            if types.len() > opts.types.len() {
                opts.types = types;
                ds = Dataset::open(&args.paths, &opts).await?;
            }
        }
        let rows = Arc::new(AtomicU64::new(0));
        let progress =
            Progress::start(format!("validating {}", args.paths.join(" ")), rows.clone());
        let profile = ds.profile(rows).await?;
        let env = environment(&schema, args.environment.as_deref());
        let mut v = validate(&schema, &profile, env);
        if data::needed(&schema, &v) {
            let ctx = ds.ordered_context()?;
            data::run(&schema, &args.schema, &mut v, &ctx).await?;
        }
        drop(progress);
        anyhow::Ok((v, ds.sources().to_vec(), profile))
    })?;
    let checks = gate_checks(&validation);
    let status = gate::status(&checks, args.report.fail_on);
    let format = args.report.format();
    let suite = format!("validate {}", args.paths.join(" "));
    let file = args.paths.first().map_or("", String::as_str);
    emit(args.report.output.as_deref(), |w| {
        if gate::render(w, format, &suite, file, &checks, args.report.fail_on)? {
            return Ok(());
        }
        let anomalies = validation.anomalies();
        let (errors, warnings) = gate::tally(&checks);
        let report = Report {
            version: REPORT_VERSION,
            passed: status == ExitStatus::Success,
            schema: args.schema.display().to_string(),
            sources: &sources,
            environment: validation.environment.as_deref(),
            rows: validation.rows,
            summary: Summary {
                checks: checks.len(),
                errors,
                warnings,
            },
            anomalies,
        };
        match format {
            CheckFormat::Json => write_json(w, &report),
            _ => table(w, &report, &checks, args.report.fail_on),
        }
    })?;
    if let Some(path) = &args.report.html {
        let anomalies = validation.anomalies();
        let page = super::report::validation_page(
            suite,
            &profile,
            &args.schema,
            &anomalies,
            &checks,
            args.report.fail_on,
        );
        crate::html::write(path, &page)?;
    }
    Ok(status)
}

/// One gate check per outcome: JUnit's testcases, GitHub's annotations.
fn gate_checks(v: &Validation) -> Vec<Check> {
    v.outcomes
        .iter()
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

fn table(w: &mut dyn Write, r: &Report, checks: &[Check], fail_on: FailOn) -> Result<()> {
    writeln!(
        w,
        "{}: {} ({} rows, {} checks{})",
        r.sources.join(" "),
        gate::verdict(checks, fail_on),
        r.rows,
        checks.len(),
        r.environment
            .map(|e| format!(", environment {e}"))
            .unwrap_or_default()
    )?;
    if r.anomalies.is_empty() {
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["severity", "column", "anomaly", "message"]);
    for a in &r.anomalies {
        let mut message = a.message.clone();
        if !a.examples.is_empty() {
            let shown: Vec<String> = a
                .examples
                .iter()
                .take(3)
                .map(|e| match &e.value {
                    serde_json::Value::Null => format!("row {}", e.row),
                    serde_json::Value::String(s) => format!("row {}: {s:?}", e.row),
                    v => format!("row {}: {v}", e.row),
                })
                .collect();
            message = format!("{message} (e.g. {})", shown.join("; "));
        }
        t.add_row([
            a.severity.to_string(),
            a.column.clone().unwrap_or_else(|| "(dataset)".into()),
            a.kind.as_str().to_string(),
            message,
        ]);
    }
    writeln!(w, "{t}")?;
    Ok(())
}
