//! `preflight history`: the runs of a metrics history, or one metric's series with its
//! expected band and anomalies (table, JSON, HTML chart).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, bail};
use preflight_schema::Schema;
use preflight_schema::history::{WalkedPoint, display_check, walk};
use preflight_stats::history::Metric;
use preflight_stats::history::store::{self, History, Selection, parse_tag, parse_time};
use serde::Serialize;

use crate::ExitStatus;
use crate::output::{Format, emit, write_json};

/// The `history --format json` document's version.
const REPORT_VERSION: u32 = 1;

/// Show a metrics history: its runs, or one metric's series with its expected band and
/// anomalies.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Show a metrics history (the DIR of `profile --history DIR` and `validate \
--history DIR`): its runs (time, command, tags, rows, columns, metrics flagged), or with \
--metric one metric's series, each point judged against the points before it by the \
metric's check from --schema (default: batch_normal, 3 standard deviations over the last 14 \
runs, after 7), with its expected interval and whether it is an anomaly.

Metrics: rows, or <column>.<metric> with missing_fraction, mean, std_dev, min, max, median, \
p1, p5, p10, p25, p50, p75, p90, p95, p99, distinct, share:<value>.

Records are JSON lines in DIR/runs/ (one file per run), readable by other tools: \
`CREATE EXTERNAL TABLE runs STORED AS JSON LOCATION 'DIR/runs/'` in DataFusion.

Examples:
  preflight history metrics/ --tag dataset=orders
  preflight history metrics/ --metric rows --since 2026-11-01 --format json
  preflight history metrics/ --metric 'price.mean' --html price.html
  preflight history metrics/ --metric 'price.mean' --schema s.yaml"
)]
pub struct Args {
    /// The history directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Only runs with this tag (repeatable; all must match).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Only runs at or after this time (2026-12-01, RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only runs at or before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Show this metric's series: `rows`, `price.mean`, `species.share:Adelie`.
    #[arg(long, value_name = "METRIC")]
    pub metric: Option<String>,
    /// Judge the series with the metric's history check in this schema file.
    #[arg(long, short = 's', value_name = "SCHEMA", requires = "metric")]
    pub schema: Option<PathBuf>,
    /// Output format [default: table on stdout, json in a file].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write an HTML page with the series' chart (the metric `rows` without
    /// --metric).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(Serialize)]
pub(crate) struct RunRow<'a> {
    id: &'a str,
    pub time: &'a str,
    pub command: &'a str,
    pub tags: &'a BTreeMap<String, String>,
    pub inputs: &'a [String],
    pub rows: u64,
    pub columns: usize,
    pub flagged: &'a [String],
    profile: &'a str,
}

#[derive(Serialize)]
pub(crate) struct RunsReport<'a> {
    version: u32,
    pub history: String,
    pub runs: Vec<RunRow<'a>>,
}

#[derive(Serialize)]
pub(crate) struct SeriesReport<'a> {
    version: u32,
    pub history: String,
    pub metric: String,
    strategy: &'a str,
    check: &'a preflight_schema::model::HistoryCheck,
    pub points: &'a [WalkedPoint],
    pub anomalies: usize,
}

pub fn run(args: Args) -> Result<ExitStatus> {
    let format = crate::output::pick_format("history", args.format, args.output.as_deref())?;
    crate::output::check_outputs(
        [args.output.as_deref(), args.html.as_deref()],
        [args.dir.as_path()],
    )?;
    let mut tags = BTreeMap::new();
    for t in &args.tags {
        let (k, v) = parse_tag(t).map_err(|e| anyhow::anyhow!("--tag: {e}"))?;
        tags.insert(k, v);
    }
    let time = |flag: &str, t: &Option<String>| -> Result<Option<i64>> {
        t.as_deref()
            .map(|t| parse_time(t).map_err(|e| anyhow::anyhow!("{flag}: {e}")))
            .transpose()
    };
    let (since, until) = (time("--since", &args.since)?, time("--until", &args.until)?);
    let metric_text = args
        .metric
        .clone()
        .or_else(|| args.html.is_some().then(|| "rows".to_string()));
    let metric = metric_text
        .as_deref()
        .map(|m| Metric::parse(m).map_err(|e| anyhow::anyhow!("--metric: {e}")))
        .transpose()?;
    // The check that draws the band: the schema's for this metric, else the default.
    let check = match (&metric, &args.schema) {
        (Some(m), Some(path)) => {
            let schema = Schema::load(path)?;
            let found = match m {
                Metric::Rows => schema.dataset.history.first().cloned(),
                Metric::Column(c, _) | Metric::Share(c, _) => (schema.feature(c))
                    .and_then(|f| {
                        f.history
                            .iter()
                            .find(|h| Metric::of_column(c, &h.metric).is_ok_and(|x| x == *m))
                    })
                    .cloned(),
            };
            match found {
                Some(c) => Some(c),
                None => bail!(
                    "{} declares no history check of `{}`",
                    path.display(),
                    m.text()
                ),
            }
        }
        (Some(m), None) => Some(display_check(&m.text())),
        _ => None,
    };
    if !preflight_stats::history::store::exists(&args.dir)? {
        bail!(
            "{}: not a metrics history (no runs/ directory; `preflight profile --history {}` makes one)",
            args.dir.display(),
            args.dir.display()
        );
    }
    let selection = match &metric {
        Some(m) => Selection::of(std::slice::from_ref(m)),
        None => Selection::None,
    };
    let records = store::read(&args.dir, &selection)?;
    let chosen = store::select(&records, &tags, None, since, until);
    let dir_text = args.dir.display().to_string();
    if let (Some(m), Some(text)) = (&metric, &metric_text) {
        store::check_metric_column(&chosen, m, &args.dir)
            .map_err(|e| anyhow::anyhow!("--metric {text}: {e}"))?;
    }
    let (Some(metric), Some(check)) = (metric, check) else {
        let runs: Vec<RunRow> = chosen
            .iter()
            .map(|r| RunRow {
                id: &r.id,
                time: &r.time,
                command: &r.command,
                tags: &r.tags,
                inputs: &r.inputs,
                rows: r.rows,
                columns: r.columns.len(),
                flagged: &r.flagged,
                profile: &r.profile,
            })
            .collect();
        let report = RunsReport {
            version: REPORT_VERSION,
            history: dir_text,
            runs,
        };
        emit(args.output.as_deref(), |w| match format {
            Format::Json => write_json(w, &report),
            Format::Table => crate::render::history::runs_table(w, &report),
        })?;
        return Ok(ExitStatus::Success);
    };
    let past = History::new(&chosen);
    let series: Vec<_> = past
        .series_flagged(&metric)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let points = walk(&check, &series).map_err(|e| anyhow::anyhow!("{e}"))?;
    let strategy = check.strategy().map_err(|e| anyhow::anyhow!("{e}"))?;
    let check_text = describe(&check, strategy.name());
    let report = SeriesReport {
        version: REPORT_VERSION,
        history: dir_text.clone(),
        metric: metric.text(),
        strategy: strategy.name(),
        check: &check,
        points: &points,
        anomalies: points.iter().filter(|p| p.anomalous).count(),
    };
    emit(args.output.as_deref(), |w| match format {
        Format::Json => write_json(w, &report),
        Format::Table => crate::render::history::series_table(w, &report, &check_text),
    })?;
    if let Some(path) = &args.html {
        let html = crate::html::history_page(
            &dir_text,
            &metric.text(),
            &check_text,
            &points,
            past.runs().len(),
        );
        emit(Some(path), |w| Ok(w.write_all(html.as_bytes())?))?;
    }
    Ok(ExitStatus::Success)
}

fn describe(c: &preflight_schema::model::HistoryCheck, strategy: &str) -> String {
    let window = c.last.map_or("all past runs".to_string(), |n| {
        format!("the last {n} runs")
    });
    let need = c
        .min_history
        .map(|n| format!(", judged from {n} runs on"))
        .unwrap_or_default();
    format!("{strategy} over {window}{need}")
}
