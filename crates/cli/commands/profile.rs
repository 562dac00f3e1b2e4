//! `preflight profile`: statistics of every column in one streaming pass.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::{Result, bail};
use preflight_stats::source::{
    CsvOptions, Dataset, Format as InputFormat, SourceOptions, parse_type,
};

use crate::ExitStatus;
use crate::output::{Format, emit, write_json};
use crate::progress::Progress;
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
  preflight profile raw.txt --input-format csv --delimiter ';' --type zip=string"
)]
pub struct Args {
    /// Files, globs or directories to profile (all of one format).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format [default: table, or json with -o].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// How to read inputs; shared by every command that reads data.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// Input format, when the file extension does not tell (csv, parquet, ndjson, arrow).
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<String>,
    /// CSV field delimiter [default: ',' or tab for .tsv].
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// CSV quote character.
    #[arg(long, value_name = "CHAR", default_value = "\"")]
    pub quote: String,
    /// CSV files have no header row (columns are named column_1, column_2, ...).
    #[arg(long)]
    pub no_header: bool,
    /// A cell text that means missing, in addition to the empty cell (repeatable). Replaces
    /// the default list: NA, N/A, n/a, NULL, null, None, <NA>, #N/A, #NA, -NaN, -nan.
    #[arg(long = "null-value", value_name = "TEXT")]
    pub null_values: Vec<String>,
    /// Force a column's type: `--type zip=string` (repeatable). Types: int8..int64,
    /// uint8..uint64, float, double, string, bool, date, timestamp, decimal(p,s).
    #[arg(long = "type", value_name = "COL=TYPE")]
    pub types: Vec<String>,
    /// Partitions read in parallel [default: one per core].
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub partitions: usize,
}

impl InputArgs {
    /// Check the raw arguments and turn them into reader options before any work starts.
    pub fn to_options(&self) -> Result<SourceOptions> {
        let format = match &self.input_format {
            Some(f) => Some(f.parse::<InputFormat>().map_err(anyhow::Error::msg)?),
            None => None,
        };
        let one_byte = |flag: &str, s: &str| -> Result<u8> {
            let s = if s == "\\t" { "\t" } else { s };
            match s.as_bytes() {
                [b] => Ok(*b),
                _ => bail!("{flag} must be a single ASCII character, got `{s}`"),
            }
        };
        let mut csv = CsvOptions {
            delimiter: self
                .delimiter
                .as_deref()
                .map(|d| one_byte("--delimiter", d))
                .transpose()?,
            quote: one_byte("--quote", &self.quote)?,
            has_header: !self.no_header,
            ..CsvOptions::default()
        };
        if !self.null_values.is_empty() {
            csv.null_values = self.null_values.clone();
        }
        let mut types = Vec::new();
        for t in &self.types {
            let Some((col, ty)) = t.split_once('=') else {
                bail!("--type expects COL=TYPE, got `{t}`");
            };
            let dt = parse_type(ty).map_err(|e| anyhow::anyhow!("--type {t}: {e}"))?;
            types.push((col.to_string(), dt));
        }
        Ok(SourceOptions {
            format,
            csv,
            types,
            partitions: self.partitions,
        })
    }
}

/// Open and profile inputs with a progress line; shared with commands that profile.
pub fn profile_inputs(
    paths: &[String],
    input: &InputArgs,
) -> Result<preflight_stats::profile::Profile> {
    let opts = input.to_options()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut ds = Dataset::open(paths, &opts).await?;
        let rows = Arc::new(AtomicU64::new(0));
        let _progress = Progress::start(format!("profiling {}", paths.join(" ")), rows.clone());
        Ok(ds.profile(rows).await?)
    })
}

pub fn run(args: Args) -> Result<ExitStatus> {
    crate::output::check_outputs([args.output.as_deref()], &args.paths)?;
    crate::inputs::require_data(
        &args.paths,
        "profile",
        " (`preflight merge` combines profiles)",
    )?;
    let profile = profile_inputs(&args.paths, &args.input)?;
    let format = args.format.unwrap_or(if args.output.is_some() {
        Format::Json
    } else {
        Format::Table
    });
    emit(args.output.as_deref(), |w| match format {
        Format::Json => write_json(w, &profile),
        Format::Table => render::profile_table(w, &profile),
    })?;
    Ok(ExitStatus::Success)
}
