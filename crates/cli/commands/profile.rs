//! `preflight profile`: statistics of every column in one streaming pass.

use std::path::PathBuf;

use anyhow::Result;

use crate::ExitStatus;
use crate::args::InputArgs;
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
  preflight profile batch.parquet --history metrics/ --tag dataset=orders --at 2026-12-01"
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
