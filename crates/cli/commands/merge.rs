//! `preflight merge`: combine stored profiles of the same columns into one.

use std::path::PathBuf;

use anyhow::Result;
use preflight_stats::profile::Profile;

use crate::ExitStatus;
use crate::output::{Format, emit, write_json};
use crate::render;

/// Merge profiles of parts (partitions, days, machines) into the profile of the whole.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Merge profiles of parts (partitions, days, machines) into the profile of \
the whole, without reading the data again. Counts, min, max, mean and variance merge exactly; \
quantiles, distinct counts and top values within their sketches' stated error.

Example:
  preflight merge part1.profile.json part2.profile.json -o all.profile.json"
)]
pub struct Args {
    /// Profile JSON files written by `preflight profile --format json`, or all sliced
    /// ones (`profile --by`), which merge slice by slice.
    #[arg(required = true, num_args = 1.., value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
    /// Output format [default: json].
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitStatus> {
    crate::output::check_outputs([args.output.as_deref()], &args.profiles)?;
    let mut profiles = Vec::with_capacity(args.profiles.len());
    let mut sliced = Vec::new();
    for path in &args.profiles {
        crate::inputs::refuse_report(&path.to_string_lossy())?;
        let name = path.display().to_string();
        match crate::load::read_stored(path)? {
            crate::load::Stored::Sliced(s) => sliced.push((name, s)),
            crate::load::Stored::Whole(p) => profiles.push((name, p)),
        }
    }
    if !sliced.is_empty() {
        if let Some((whole, _)) = profiles.first() {
            anyhow::bail!(
                "{whole}: a whole profile cannot be merged with sliced ones (`profile --by`, such as {}); merge each kind apart",
                sliced[0].0
            );
        }
        // Slice by slice, as whole profiles merge.
        let (merged, warnings) = preflight_stats::slice::Sliced::merge_all(&sliced)?;
        for w in warnings {
            eprintln!("warning: {w}");
        }
        crate::slices::emit_sliced(args.output.as_deref(), args.format, &merged)?;
        return Ok(ExitStatus::Success);
    }
    let merged = Profile::merge_all(&profiles)?;
    // A table on stdout fits the terminal; one in a file keeps every column.
    let to_terminal = args
        .output
        .as_deref()
        .is_none_or(|p| p == std::path::Path::new("-"));
    emit(args.output.as_deref(), |w| match args.format {
        Format::Json => write_json(w, &merged),
        Format::Table => render::profile_table(
            w,
            &merged,
            to_terminal.then(render::terminal_width).flatten(),
        ),
    })?;
    Ok(ExitStatus::Success)
}
