//! `preflight skew`: per-example feature skew between two datasets joined on a key.

use anyhow::{Result, bail};
use preflight_stats::Severity;
use preflight_stats::drift::skew::{SkewReport, skew};
use serde::Serialize;

use crate::ExitStatus;
use crate::args::{InputArgs, OutputArgs};
use crate::checks::{Check, CheckFormat, render, status};
use crate::output::{emit, write_json};

/// Version of the `skew --format json` document.
pub const SKEW_VERSION: u32 = 1;

/// Feature skew: join two datasets on a key and compare every feature value by value.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Feature skew (TFDV's skew detector): join two datasets (e.g. the features \
logged at serving time and the training rows built for the same requests) on a key column \
and report, per feature, the rows only in A, only in B, the matched pairs, the mismatched \
pairs, the mismatch rate and up to 20 example pairs.

The first INPUT is A, all others are B. The join runs as SQL in DataFusion (sort-merge \
joins); preflight collects no table. DataFusion's memory is held to --memory-limit (1GB by \
default): beyond it the sorts, joins and key counts spill to temporary files (in TMPDIR), \
so inputs larger than memory work, at the cost of disk I/O.

Duplicate keys: a key present more than once on either side has no single partner; such \
keys are counted (keys and rows per side, with up to 20 examples) and not compared. Null \
keys are counted and not compared. Values are compared exactly with IS DISTINCT FROM (null \
equals null); a feature whose type differs between the sides is compared as text.

Exit status: 1 when a feature's mismatch rate is above --max-mismatch-rate (default 0: any \
mismatch fails), or when nothing was compared (no key present exactly once on both sides, or \
no feature column in common) unless --allow-empty is given; 2 when the inputs cannot be read or the key column is missing.

Examples:
  preflight skew train.parquet serving.parquet --key request_id
  preflight skew a.csv b.csv --key id --format json -o skew.json
  preflight skew big_a/ big_b/ --key id --memory-limit 4GB"
)]
pub struct Args {
    /// A, then B: files, globs or directories (data, not profiles).
    #[arg(required = true, num_args = 2.., value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// The column identifying an example on both sides.
    #[arg(long, value_name = "COL")]
    pub key: String,
    /// A feature fails when its mismatch rate is above this.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    pub max_mismatch_rate: f64,
    /// Memory for DataFusion's sorts, joins and key counts; beyond it they spill to
    /// temporary files (TMPDIR). A size in bytes with an optional unit, K/KB/KiB, M/MB/MiB,
    /// G/GB/GiB, T/TB/TiB (all powers of 1024), e.g. 512MB, 2GB; or `unlimited`.
    #[arg(long, value_name = "SIZE", default_value = "1GB")]
    pub memory_limit: String,
    /// Accept a run that compared nothing (no key present exactly once on both sides, or
    /// no feature column in common): a warning instead of a failed check.
    #[arg(long)]
    pub allow_empty: bool,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    a: Vec<String>,
    b: Vec<String>,
    max_mismatch_rate: f64,
    skewed_features: usize,
    /// Why nothing was compared, when nothing was (the run fails unless --allow-empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    nothing_compared: Option<String>,
    #[serde(flatten)]
    report: &'a SkewReport,
}

/// `--memory-limit`: bytes, `None` for `unlimited`.
fn parse_size(text: &str) -> Result<Option<usize>> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    let not_a_size = || {
        anyhow::anyhow!("--memory-limit: `{text}` is not a size (use e.g. 512MB, 2GB or unlimited)")
    };
    if number.is_empty() {
        return Err(not_a_size());
    }
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => {
            bail!("--memory-limit: `{text}` has an unknown unit (use e.g. 512MB, 2GB or unlimited)")
        }
    };
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(not_a_size)?;
    let bytes = value * scale as f64;
    if bytes < 1.0 || bytes > usize::MAX as f64 {
        bail!("--memory-limit: `{text}` is out of range (at least 1 byte, or unlimited)");
    }
    Ok(Some(bytes as usize))
}

pub fn run(mut args: Args) -> Result<ExitStatus> {
    crate::inputs::read_stdin(&mut args.inputs, args.input.input_format)?;
    args.out = args.out.checked("skew")?;
    crate::output::check_outputs(
        [args.out.output.as_deref(), args.out.html.as_deref()],
        &args.inputs,
    )?;
    if !(args.max_mismatch_rate.is_finite() && (0.0..=1.0).contains(&args.max_mismatch_rate)) {
        bail!(
            "--max-mismatch-rate must be in [0, 1], got {}",
            args.max_mismatch_rate
        );
    }
    let (a_paths, b_paths) = args.inputs.split_at(1);
    crate::inputs::require_data(&args.inputs, "skew", " (it compares rows by key)")?;
    let memory_limit = parse_size(&args.memory_limit)?;
    let opts = args.input.to_options()?;
    let runtime = crate::load::runtime()?;
    let (a_name, b_name) = (a_paths.join(" "), b_paths.join(" "));
    let progress = crate::progress::Progress::spinner(format!("joining on `{}`", args.key));
    let report = runtime.block_on(async {
        let a = crate::load::open(a_paths, &opts).await?;
        let b = crate::load::open(b_paths, &opts).await?;
        match skew(&a, &b, &args.key, (&a_name, &b_name), memory_limit).await {
            Err(e) if e.is_resources_exhausted() => bail!(
                "skew needs more memory than --memory-limit {} even when spilling to disk; \
                 raise it ({e})",
                args.memory_limit
            ),
            r => Ok::<_, anyhow::Error>(r?),
        }
    })?;
    drop(progress);
    let mut checks = Vec::with_capacity(report.features.len() + 1);
    // Nothing compared (disjoint or all-duplicated keys, no common feature) is a failed
    // check: a gate that compared nothing must not pass (--allow-empty: a warning).
    let nothing_compared = report.nothing_compared();
    checks.push(match &nothing_compared {
        Some(reason) => Check::failed(
            None,
            "nothing_compared",
            if args.allow_empty {
                Severity::Warning
            } else {
                Severity::Error
            },
            if args.allow_empty {
                reason.clone()
            } else {
                format!("{reason} (--allow-empty accepts this)")
            },
        ),
        None => Check::passed(None, "nothing_compared"),
    });
    let mut skewed = 0;
    for f in &report.features {
        if f.mismatch_rate > args.max_mismatch_rate {
            skewed += 1;
            let ex = f
                .examples
                .first()
                .map(|e| {
                    format!(
                        "; e.g. key {}: {} vs {}",
                        e.key,
                        e.a.as_deref().unwrap_or("null"),
                        e.b.as_deref().unwrap_or("null")
                    )
                })
                .unwrap_or_default();
            checks.push(Check::failed(
                Some(f.feature.clone()),
                "skew",
                Severity::Error,
                format!(
                    "{} of {} matched pairs differ (rate {:.4} above {}){ex}",
                    f.mismatched, f.matched, f.mismatch_rate, args.max_mismatch_rate
                ),
            ));
        } else {
            checks.push(Check::passed(Some(f.feature.clone()), "skew"));
        }
    }
    let out = Report {
        version: SKEW_VERSION,
        a: a_paths.to_vec(),
        b: b_paths.to_vec(),
        max_mismatch_rate: args.max_mismatch_rate,
        skewed_features: skewed,
        nothing_compared,
        report: &report,
    };
    let format = args.out.format();
    let suite = format!("skew {a_name} vs {b_name} on {}", args.key);
    emit(args.out.output.as_deref(), |w| match format {
        CheckFormat::Json => write_json(w, &out),
        CheckFormat::Table => {
            crate::render::skew::skew_table(w, &report, &checks, args.out.fail_on)
        }
        _ => render(w, format, &suite, &b_name, &checks, args.out.fail_on).map(|_| ()),
    })?;
    if let Some(path) = &args.out.html {
        let page = crate::html::checks_page(
            suite,
            [("A", a_paths), ("B", b_paths)],
            &checks,
            args.out.fail_on,
        );
        crate::html::write(path, &page)?;
    }
    Ok(status(&checks, args.out.fail_on))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("1GB").ok(), Some(Some(1 << 30)));
        assert_eq!(parse_size("512MB").ok(), Some(Some(512 << 20)));
        assert_eq!(parse_size("512 mib").ok(), Some(Some(512 << 20)));
        assert_eq!(parse_size("1.5G").ok(), Some(Some(3 << 29)));
        assert_eq!(parse_size("4096").ok(), Some(Some(4096)));
        assert_eq!(parse_size("Unlimited").ok(), Some(None));
        for bad in ["", "GB", "0", "0.1", "-1GB", "12XB", "1..2MB", "1e3", "inf"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
