//! `preflight profile`: statistics of every column in one streaming pass.

use std::path::PathBuf;

use anyhow::Result;

use crate::ExitStatus;
use crate::args::InputArgs;
use crate::history::HistoryPlan;
use crate::output::{Format, emit, write_json};
use crate::render;

/// Profile datasets: counts, missing values, ranges, quantiles, histograms, distinct and
/// most frequent values of every column, in one streaming pass.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Profile datasets: counts, missing values, ranges, quantiles, histograms, \
distinct and most frequent values of every column, in one streaming pass.

Inputs are CSV (also .csv.gz/.zst/.bz2/.xz), Parquet, NDJSON or Arrow IPC files, globs, or \
directories; `key=value` directories (hive partitions) become columns.

Examples:
  preflight profile fixtures/penguins.csv
  preflight profile 'data/*.parquet' --format json -o train.profile.json
  preflight profile partitioned/dir/ --format json
  preflight profile raw.txt --input-format csv --delimiter ';' --type zip=string
  preflight profile batch.parquet --history metrics/ --tag dataset=orders --at 2026-12-01
  preflight profile events.parquet --by country --format json"
)]
pub struct Args {
    /// Files, globs or directories to profile (all of one format).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format [default: json for -o *.json or any other file, table on stdout].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub history: crate::history::HistoryArgs,
    /// One profile per slice: per value of COL (or combination of values of several,
    /// comma-separated), in the same pass, most rows first.
    /// With --history, the whole dataset's run is recorded, then each slice's, tagged
    /// `slice=KEY` (see them with `preflight history DIR --tag slice=KEY`).
    #[arg(long, value_name = "COL[,COL]", value_delimiter = ',')]
    pub by: Vec<String>,
    /// Keep this many slices (most rows first); the rest are merged into `__other__`.
    #[arg(long, value_name = "N", default_value_t = 100, requires = "by")]
    pub max_slices: usize,
    #[command(flatten)]
    pub distinct_slices: crate::slices::DistinctSlicesArg,
}

pub fn run(mut args: Args) -> Result<ExitStatus> {
    crate::inputs::read_stdin(&mut args.paths, args.input.input_format)?;
    let format = crate::output::pick_format("profile", args.format, args.output.as_deref())?;
    crate::output::check_outputs([args.output.as_deref()], &args.paths)?;
    crate::inputs::require_data(
        &args.paths,
        "profile",
        " (`preflight merge` combines profiles)",
    )?;
    let history = args.history.plan()?;
    if !args.by.is_empty() {
        return sliced(&args, format, &history);
    }
    let profile = crate::load::profile_inputs(&args.paths, &args.input)?;
    history.record("profile", &args.paths, &profile, None, Vec::new())?;
    // A table on stdout fits the terminal; one in a file keeps every column.
    let to_terminal = args
        .output
        .as_deref()
        .is_none_or(|p| p == std::path::Path::new("-"));
    emit(args.output.as_deref(), |w| match format {
        Format::Json => write_json(w, &profile),
        Format::Table => render::profile_table(
            w,
            &profile,
            to_terminal.then(render::terminal_width).flatten(),
        ),
    })?;
    Ok(ExitStatus::Success)
}

/// `--by`: one profile per slice, in one pass.
fn sliced(args: &Args, format: Format, history: &HistoryPlan) -> Result<ExitStatus> {
    crate::slices::check_max_slices(args.max_slices)?;
    let max_distinct = args.distinct_slices.get()?;
    let opts = args.input.to_options()?;
    let sliced = crate::load::runtime()?.block_on(async {
        let mut ds = crate::load::open(&args.paths, &opts).await?;
        anyhow::Ok(
            preflight_stats::slice::profile_slices(
                &mut ds,
                &args.by,
                args.max_slices,
                max_distinct,
            )
            .await?,
        )
    })?;
    history.record_slices(&args.paths, &sliced.slices)?;
    crate::slices::emit_sliced(args.output.as_deref(), format, &sliced)?;
    Ok(ExitStatus::Success)
}
