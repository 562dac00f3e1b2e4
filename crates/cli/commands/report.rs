//! `preflight report`: a self-contained HTML page of one dataset's profile, or of a dataset
//! beside a baseline with per-column drift.

use std::path::{Path, PathBuf};

use anyhow::Result;
use preflight_schema::validate::Anomaly;
use preflight_stats::Severity;
use preflight_stats::drift::compare::{
    ColumnDrift, ColumnSample, CompareOptions, Skipped, compare_column,
};
use preflight_stats::profile::Profile;

use super::drift::{MethodArgs, Side, config, default_skip, drift_checks, load};
use super::profile::InputArgs;
use crate::ExitStatus;
use crate::gate::{self, Check, FailOn};
use crate::html::{self, DatasetInfo, Finding, Page, Verdict};

/// Write an HTML report of a dataset's profile, or of a dataset beside a baseline.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Write a self-contained HTML report (inline CSS and SVG charts, no network \
requests): one card per column with its type, missing share, distinct count, range and a \
histogram or top-values chart; with --baseline both distributions overlaid and each column's \
drift (the same methods and thresholds as `preflight drift`, computed from the two profiles). \
Findings (drifted columns, columns only on one side) come first. Either side may be data \
(files, globs, directories) or stored profiles (`*.profile.json`).

Exit status: 0 written (1 with --baseline when the dataset drifted, or with --fail-on \
warning when any column drifted or a column is missing on one side); 2 could not run.

Validation, drift, skew and label results have their own pages: `preflight validate ... \
--html FILE`, `preflight labels ... --html FILE`.

Examples:
  preflight report train.parquet -o train.html
  preflight report serving.parquet --baseline train.profile.json -o compare.html"
)]
pub struct Args {
    /// The data to report on: files, globs, directories or *.profile.json.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// Compare with this baseline (repeatable): data or *.profile.json.
    #[arg(long, value_name = "PATH")]
    pub baseline: Vec<String>,
    /// Write the page to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub methods: MethodArgs,
    /// The lowest severity that fails the run (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub input: InputArgs,
}

fn source(s: &Side) -> &'static str {
    if s.dataset.is_some() {
        "data"
    } else {
        "stored profile"
    }
}

pub fn run(args: Args) -> Result<ExitStatus> {
    crate::output::check_outputs(
        [args.output.as_deref()],
        args.paths.iter().chain(&args.baseline),
    )?;
    let cfg = config(&args.methods)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let current = runtime.block_on(load(&args.paths, &args.input))?;
    let title = format!("report {}", args.paths.join(" "));
    if args.baseline.is_empty() {
        let mut page = Page::new(title);
        page.datasets = vec![DatasetInfo::of_profile(
            "data",
            &current.profile,
            source(&current),
        )];
        page.profile = Some(&current.profile);
        write(args.output.as_ref(), &page)?;
        return Ok(ExitStatus::Success);
    }
    let baseline = runtime.block_on(load(&args.baseline, &args.input))?;

    // Columns on one side only are findings, not errors: the page shows what there is.
    let mut skipped = Vec::new();
    let mut results: Vec<ColumnDrift> = Vec::new();
    let mut sides: Vec<Check> = Vec::new();
    for b in &baseline.profile.columns {
        let Some(c) = current.profile.column(&b.name) else {
            sides.push(Check::failed(
                Some(b.name.clone()),
                "missing_column",
                Severity::Warning,
                format!("column `{}` is in the baseline but not in the data", b.name),
            ));
            continue;
        };
        if let Some(reason) = default_skip(b.kind) {
            skipped.push(Skipped {
                column: b.name.clone(),
                reason: reason.into(),
            });
            continue;
        }
        let (rs, cs) = (ColumnSample::from_profile(b), ColumnSample::from_profile(c));
        for m in &cfg.methods {
            let opts = CompareOptions {
                method: *m,
                threshold: cfg.threshold,
                reference_rows: baseline.profile.row_count,
            };
            match compare_column(&rs, &cs, &opts) {
                Ok(d) => results.push(d),
                Err(s) if !skipped.contains(&s) => skipped.push(s),
                Err(_) => {}
            }
        }
    }
    for c in &current.profile.columns {
        if baseline.profile.column(&c.name).is_none() {
            sides.push(Check::failed(
                Some(c.name.clone()),
                "new_column",
                Severity::Warning,
                format!("column `{}` is in the data but not in the baseline", c.name),
            ));
        }
    }
    let pairs: Vec<_> = results.iter().map(|d| (d, None)).collect();
    let mut checks = drift_checks(&pairs, cfg.drift_share).checks;
    checks.extend(sides);
    let page = drift_page(
        title,
        [("baseline", &baseline), ("data", &current)],
        results.iter().collect(),
        &skipped,
        &checks,
        args.fail_on,
    );
    write(args.output.as_ref(), &page)?;
    Ok(gate::status(&checks, args.fail_on))
}

fn write(output: Option<&PathBuf>, page: &Page) -> Result<()> {
    match output {
        Some(p) => html::write(p, page),
        None => crate::output::emit(None, |w| {
            w.write_all(html::render(page).as_bytes())?;
            Ok(())
        }),
    }
}

/// The page of a comparison: `sides` is (name, side) of the reference, then the current
/// data. Drift results show on the cards; the findings list the dataset verdict and
/// checks other than per-column drift (already on the cards and in the drifted list).
pub(crate) fn drift_page<'a>(
    title: String,
    sides: [(&str, &'a Side); 2],
    results: Vec<&'a ColumnDrift>,
    skipped: &[Skipped],
    checks: &[Check],
    fail_on: FailOn,
) -> Page<'a> {
    let [(ref_name, reference), (cur_name, current)] = sides;
    let mut page = Page::new(title);
    page.verdict = Some(Verdict::from_checks(checks, fail_on));
    page.datasets = vec![
        DatasetInfo::of_profile(cur_name, &current.profile, source(current)),
        DatasetInfo::of_profile(ref_name, &reference.profile, source(reference)),
    ];
    page.findings = Finding::from_checks(checks)
        .into_iter()
        .filter(|f| !f.kind.starts_with("drift ("))
        .collect();
    page.profile = Some(&current.profile);
    page.baseline = Some(&reference.profile);
    let exact = results.iter().filter(|d| d.exact).count();
    if !results.is_empty() {
        page.notes.push(format!(
            "Drift: {} column results, {exact} exact (every value), {} from the profiles' sketches.",
            results.len(),
            results.len() - exact
        ));
    }
    page.drift = results;
    if !skipped.is_empty() {
        let shown: Vec<String> = skipped
            .iter()
            .take(10)
            .map(|s| format!("{} ({})", s.column, s.reason))
            .collect();
        let more = if skipped.len() > 10 {
            format!(" and {} more", skipped.len() - 10)
        } else {
            String::new()
        };
        page.notes
            .push(format!("Not compared: {}{more}.", shown.join("; ")));
    }
    page
}

/// The page of `validate --html`: the profile validated, with each anomaly on its column's
/// card (missing columns get a card of their own) and all of them at the top.
pub(crate) fn validation_page<'a>(
    title: String,
    profile: &'a Profile,
    schema: &Path,
    anomalies: &[&Anomaly],
    checks: &[Check],
    fail_on: FailOn,
) -> Page<'a> {
    let mut page = Page::new(title);
    page.verdict = Some(Verdict::from_checks(checks, fail_on));
    page.datasets = vec![DatasetInfo::of_profile("data", profile, "data")];
    page.notes.push(format!(
        "Validated against the schema {}.",
        schema.display()
    ));
    page.findings = Finding::from_anomalies(anomalies);
    page.profile = Some(profile);
    page
}

/// A page of any command's checks: the verdict, the failed checks at the top and on a
/// card per column (e.g. `skew --html`).
pub(crate) fn checks_page<'a>(
    title: String,
    inputs: [(&str, &[String]); 2],
    checks: &[Check],
    fail_on: FailOn,
) -> Page<'a> {
    let mut page = Page::new(title);
    page.verdict = Some(Verdict::from_checks(checks, fail_on));
    page.datasets = inputs
        .iter()
        .map(|(role, files)| DatasetInfo {
            role: (*role).to_string(),
            inputs: files.to_vec(),
            rows: None,
            columns: None,
            source: "data",
        })
        .collect();
    page.findings = Finding::from_checks(checks);
    page
}
