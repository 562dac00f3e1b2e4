//! `preflight report`: a self-contained HTML page of one dataset's profile, or of a dataset
//! beside a baseline with per-column drift.

use std::path::{Path, PathBuf};

use anyhow::Result;
use preflight_stats::Severity;
use preflight_stats::drift::plan::{DriftPlan, Order, compare_profiles};

use crate::ExitStatus;
use crate::args::{InputArgs, MethodArgs};
use crate::checks::{self, Check, FailOn, drift_checks, nothing_compared_check};
use crate::html::{self, DatasetInfo, Page};
use crate::load::load;

/// Write an HTML report of a dataset's profile, or of a dataset beside a baseline.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Write a self-contained HTML report (inline CSS and SVG charts, no network \
requests): one card per column with its type, missing share, distinct count, range and a \
histogram or top-values chart; with --baseline both distributions overlaid and each column's \
drift (the same methods and thresholds as `preflight drift`, computed from the two profiles). \
Findings (drifted columns, columns only on one side) come first. Either side may be data \
(files, globs, directories) or stored profiles (`*.profile.json`).

Exit status: 0 written (1 with --baseline when the dataset drifted, when no column was \
compared (no column in common, or every one skipped) unless --allow-empty is given, or with \
--fail-on warning when any column drifted or a column is missing on one side); 2 could not \
run.

Validation, drift, skew and label results have their own pages: `preflight validate ... \
--html FILE`, `preflight labels ... --html FILE`.

Slices (--by COL[,COL]): the page also holds a set of cards per slice (per value of COL, or \
combination of values; the --max-slices with the most rows, the rest as `__other__`), and a \
selector that shows the whole data's cards or a slice's. With --baseline each slice is \
compared with the baseline's same slice as `preflight drift --by` does (both sides must then \
be data); a slice on one side only is a warning, and the exit status follows the worst slice.

Examples:
  preflight report train.parquet -o train.html
  preflight report serving.parquet --baseline train.profile.json -o compare.html
  preflight report penguins.csv --by species,island -o penguins.html
  preflight report serving.parquet --baseline train.parquet --by country -o compare.html"
)]
pub struct Args {
    /// The data to report on: files, globs, directories or *.profile.json.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// Compare with this baseline (repeatable): data or *.profile.json.
    #[arg(long, value_name = "PATH")]
    pub baseline: Vec<String>,
    /// Write the page to FILE (atomically) [default: <input name>.html in the current
    /// directory; `-` is stdout].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub methods: MethodArgs,
    /// With --baseline: accept a comparison that compared no column (no column in common,
    /// or every column skipped): a warning instead of a failed check.
    #[arg(long)]
    pub allow_empty: bool,
    /// The lowest severity that fails the run (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Also show each slice: per value of COL (or combination of values of several,
    /// comma-separated), chosen on the page with a selector.
    #[arg(long, value_name = "COL[,COL]", value_delimiter = ',')]
    pub by: Vec<String>,
    /// Show this many slices (most rows first); the rest are one slice, `__other__`.
    #[arg(long, value_name = "N", default_value_t = 100, requires = "by")]
    pub max_slices: usize,
    #[command(flatten)]
    pub distinct_slices: crate::slices::DistinctSlicesArg,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(mut args: Args) -> Result<ExitStatus> {
    crate::inputs::read_stdin(&mut args.paths, args.input.input_format)?;
    // A page of HTML is no use in a terminal: without -o it goes to `<input name>.html`.
    let named = args.output.is_none();
    let output = args
        .output
        .take()
        .unwrap_or_else(|| default_output(&args.paths));
    let output = (output != Path::new("-")).then_some(output);
    crate::output::check_outputs([output.as_deref()], args.paths.iter().chain(&args.baseline))?;
    let methods = args.methods.check()?;
    crate::slices::check_max_slices(args.max_slices)?;
    let max_distinct = args.distinct_slices.get()?;
    let runtime = crate::load::runtime()?;
    let mut current = runtime.block_on(load(&args.paths, &args.input))?;
    let title = format!("report {}", args.paths.join(" "));
    if args.baseline.is_empty() {
        let sliced = if args.by.is_empty() {
            None
        } else {
            let Some(ds) = &mut current.dataset else {
                anyhow::bail!(
                    "--by needs data: {} is a stored profile, which has no rows to slice",
                    current.name()
                );
            };
            Some(runtime.block_on(preflight_stats::slice::profile_slices(
                ds,
                &args.by,
                args.max_slices,
                max_distinct,
            ))?)
        };
        let mut page = Page::new(title);
        page.datasets = vec![DatasetInfo::of_profile(
            "data",
            &current.profile,
            html::source(&current),
        )];
        page.profile = Some(&current.profile);
        if let Some(s) = &sliced {
            page.slices = html::profile_slices(s);
        }
        write(output.as_ref(), &page, named)?;
        return Ok(ExitStatus::Success);
    }
    let baseline = runtime.block_on(load(&args.baseline, &args.input))?;

    // Columns on one side only are findings, not errors: the page shows what there is.
    let plan = DriftPlan {
        methods: methods.methods,
        threshold: methods.threshold,
        same_columns: false,
        skip_by_kind: true,
        order: Order::Planned,
        names: [baseline.name(), current.name()],
        ..DriftPlan::default()
    };
    let comparison = compare_profiles(&baseline.profile, &current.profile, &plan)?;
    let summary = comparison.summary(methods.drift_share);
    let mut checks = drift_checks(&comparison.results, &summary, methods.drift_share);
    // A comparison that compared nothing must not pass, as in `drift` (issue 12).
    checks.extend(nothing_compared_check(
        comparison.nothing_compared.as_deref(),
        args.allow_empty,
    ));
    for name in &comparison.only_in_reference {
        checks.push(Check::failed(
            Some(name.clone()),
            "missing_column",
            Severity::Warning,
            format!("column `{name}` is in the baseline but not in the data"),
        ));
    }
    for name in &comparison.only_in_current {
        checks.push(Check::failed(
            Some(name.clone()),
            "new_column",
            Severity::Warning,
            format!("column `{name}` is in the data but not in the baseline"),
        ));
    }
    let sliced = if args.by.is_empty() {
        None
    } else {
        let s = runtime.block_on(crate::slices::compare_slices(
            &baseline,
            &current,
            &args.by,
            args.max_slices,
            max_distinct,
            &plan,
            methods.drift_share,
            args.allow_empty,
            None,
        ))?;
        checks.extend(s.checks.iter().cloned());
        Some(s)
    };
    let mut page = html::drift_page(
        title,
        [("baseline", &baseline), ("data", &current)],
        comparison.results.iter().map(|r| &r.drift).collect(),
        &comparison.skipped,
        &checks,
        args.fail_on,
    );
    if let Some(s) = &sliced {
        page.slices = html::drift_slices(s);
    }
    write(output.as_ref(), &page, named)?;
    Ok(checks::status(&checks, args.fail_on))
}

/// `<name>.html` in the current directory, named after the first input: its file name
/// without the extension (`train` for `data/train.csv` or `train.profile.json`), a
/// directory's name, or for a glob the last part of it without pattern characters.
fn default_output(paths: &[String]) -> PathBuf {
    let first = paths.first().map(String::as_str).unwrap_or("report");
    let path = Path::new(first.trim_end_matches('/'));
    let literal = path
        .ancestors()
        .find(|p| {
            !p.as_os_str().is_empty() && !p.to_string_lossy().chars().any(|c| "*?[{".contains(c))
        })
        .unwrap_or(Path::new("report"));
    let name = literal
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    // A compressed file's name loses both extensions (`archive.csv.gz` -> `archive`).
    let plain = [".gz", ".zst", ".bz2", ".xz"]
        .iter()
        .find_map(|z| name.strip_suffix(z))
        .unwrap_or(&name);
    let stem = name
        .strip_suffix(".profile.json")
        .map(str::to_string)
        .or_else(|| {
            Path::new(plain)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .filter(|s| !s.is_empty() && s != "." && s != "..")
        .unwrap_or_else(|| "report".into());
    PathBuf::from(format!("{stem}.html"))
}

/// Writes the page; a file named by default is said on stderr, since nobody asked for it.
fn write(output: Option<&PathBuf>, page: &Page, named: bool) -> Result<()> {
    match output {
        Some(p) => {
            html::write(p, page)?;
            if named {
                crate::ui::note(&format!("wrote {}", p.display()));
            }
            Ok(())
        }
        None => crate::output::emit(None, |w| {
            w.write_all(html::render(page).as_bytes())?;
            Ok(())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::default_output;

    #[test]
    fn the_default_page_is_named_after_the_first_input() {
        let name = |p: &str| default_output(&[p.to_string()]).display().to_string();
        assert_eq!(name("data/train.csv"), "train.html");
        assert_eq!(name("train.profile.json"), "train.html");
        assert_eq!(name("events/"), "events.html");
        assert_eq!(name("data/2026-*/part-*.parquet"), "data.html");
        assert_eq!(name("*.csv"), "report.html");
        assert_eq!(name("/"), "report.html");
        assert_eq!(name("archive.csv.gz"), "archive.html");
    }
}
