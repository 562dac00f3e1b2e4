//! `preflight infer`: a schema file from data (or a stored profile), or `--update` an
//! existing one so that new data passes it, showing the diff.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use preflight_schema::edit::{Updated, update_text};
use preflight_schema::infer::{InferOptions, id_candidates, infer, infers_from_summary, relax};
use preflight_schema::{Schema, data};
use preflight_stats::profile::{Kind, Profile};
use preflight_stats::source::Dataset;

use crate::ExitStatus;
use crate::args::InputArgs;
use crate::output::emit;

/// Infer a schema (types, presence, domains, ranges, ids, environments) from data.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Infer a schema from data: each feature's type, minimum presence (not TFDV's \
1.0: the observed fraction's 99.9% Wilson lower bound, less room for a --presence-batch-rows \
batch's own sampling noise, so that a batch like this data passes), string and integer domains \
(<= --max-domain-size values, <= --max-domain-ratio of rows, every value seen >= 5 times), \
non-negativity, NaN bans for floats, id-like columns (unique, no nulls) and the label's \
environments; with --drift-threshold / --skew-threshold, TFDV's drift and skew comparators \
(L-infinity for categories, Jensen-Shannon divergence for numbers). The file is YAML, meant \
to be read and edited.

Examples:
  preflight infer train.parquet --label species -o schemas/penguins.schema.yaml
  preflight infer new.csv --update schemas/penguins.schema.yaml   # relax, print the diff
  preflight infer train.csv --label species --drift-threshold 0.1 --skew-threshold 0.1 -o s.yaml"
)]
pub struct Args {
    /// Files, globs or directories (or one stored `.profile.json`).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub input: InputArgs,
    /// The label column: role `label`, expected in the `training` environment only.
    #[arg(long, value_name = "COL")]
    pub label: Option<String>,
    /// Largest domain (enum) inferred.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub max_domain_size: usize,
    /// Largest ratio of distinct values to present rows for a domain, in [0, 1].
    #[arg(long, default_value_t = 0.1, value_name = "R")]
    pub max_domain_ratio: f64,
    /// Confidence of the presence lower bound (one-sided Wilson), in [0.5, 1).
    #[arg(long, default_value_t = 0.999, value_name = "P")]
    pub presence_confidence: f64,
    /// Rows of the smallest batch the schema should pass when it is like this data: the
    /// presence bound also leaves room for such a batch's sampling noise (the bound is
    /// the observed fraction's Wilson lower bound minus z standard deviations of an
    /// N-row batch's fraction).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub presence_batch_rows: u64,
    /// Also infer min/max ranges (observed +-10% of the span, warning severity).
    #[arg(long)]
    pub ranges: bool,
    /// Write a drift comparator with this threshold on every feature (TFDV's: `linf` for
    /// strings, booleans and integer enums, `js_divergence` for other numbers; not ids or
    /// dates), checked by `validate --baseline`.
    #[arg(long, value_name = "X")]
    pub drift_threshold: Option<f64>,
    /// Likewise a skew comparator, checked by `validate --training`.
    #[arg(long, value_name = "X")]
    pub skew_threshold: Option<f64>,
    /// Also write default checks over time, checked by `validate --history DIR`: row count
    /// within 3 sd of the last 14 runs; each missing fraction at most 5 points above its
    /// average over the last 7; each numeric mean within 4 sd of the last 30; a category
    /// column's distinct count not below the previous run's.
    #[arg(long)]
    pub history_checks: bool,
    /// Relax this schema to accept the data: print the diff and rewrite the file (or
    /// write the result to -o).
    #[arg(long, value_name = "SCHEMA")]
    pub update: Option<PathBuf>,
    /// Write the schema to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn is_profile(paths: &[String]) -> bool {
    paths.len() == 1 && crate::inputs::is_stored_profile(&paths[0])
}

/// The profile, the columns to call ids (exactly unique, no nulls), and the columns
/// verified unique in the data among those and the ones `old` (the schema being updated)
/// marks `unique`: relaxing drops `unique` only where the data repeats a value.
struct Profiled {
    profile: Profile,
    ids: BTreeSet<String>,
    unique: BTreeSet<String>,
}

/// The columns inference draws from a profile's summary alone ([`infers_from_summary`]),
/// unless the schema being updated gives one a domain, which is checked on value counts.
fn summary_only(ds: &Dataset, old: Option<&Schema>) -> Option<Arc<HashSet<String>>> {
    let counted: HashSet<&str> = (old.iter().flat_map(|s| s.features.iter()))
        .filter(|f| f.domain.is_some())
        .map(|f| f.name.as_str())
        .collect();
    let names = (ds.schema().fields().iter())
        .filter(|f| infers_from_summary(Kind::of(f.data_type())))
        .map(|f| f.name())
        .filter(|n| !counted.contains(n.as_str()))
        .cloned()
        .collect();
    Some(Arc::new(names))
}

/// Profile the inputs, or read the stored profile; with data, also find the columns that
/// are exactly unique (one `count(DISTINCT)` query per 64 candidates).
fn profile_and_ids(args: &Args, old: Option<&Schema>) -> Result<Profiled> {
    let marked: Vec<String> = old
        .map(|s| {
            s.features
                .iter()
                .filter(|f| f.unique.is_some())
                .map(|f| f.name.clone())
                .collect()
        })
        .unwrap_or_default();
    if !is_profile(&args.paths) {
        crate::inputs::require_data(&args.paths, "infer", " (or one stored profile)")?;
    }
    if is_profile(&args.paths) {
        let path = Path::new(&args.paths[0]);
        let bytes = crate::load::read_file(path)?;
        let p = Profile::from_json(&bytes, path)?;
        // Without the rows, only exactly counted columns can be called unique.
        let exactly_unique = |name: &String| {
            p.column(name)
                .is_some_and(|c| c.distinct_exact == Some(true) && c.distinct == Some(c.present))
        };
        let ids = id_candidates(&p)
            .into_iter()
            .filter(exactly_unique)
            .collect();
        // ... and only exactly counted ones shown to repeat a value.
        let unique = marked
            .into_iter()
            .filter(|name| {
                p.column(name)
                    .is_none_or(|c| c.distinct_exact != Some(true) || exactly_unique(name))
            })
            .collect();
        return Ok(Profiled {
            profile: p,
            ids,
            unique,
        });
    }
    let opts = args.input.to_options()?;
    crate::load::runtime()?.block_on(async {
        let mut ds = crate::load::open(&args.paths, &opts).await?;
        let summary_only = summary_only(&ds, old);
        let profile = crate::load::profile_summarising(&args.paths, &mut ds, summary_only).await?;
        // Exact uniqueness of the candidates, many columns per query: one pass each.
        let ctx = ds.context()?;
        let id_like = id_candidates(&profile);
        let mut candidates: Vec<String> = id_like.clone();
        for name in marked {
            if profile.column(&name).is_some() && !candidates.contains(&name) {
                candidates.push(name);
            }
        }
        let mut unique = BTreeSet::new();
        for chunk in candidates.chunks(64) {
            let exprs: Vec<String> = chunk
                .iter()
                .map(|name| {
                    let q = data::quote(name);
                    format!("count(DISTINCT {q}) = count({q})")
                })
                .collect();
            let batches = ctx
                .sql(&format!("SELECT {} FROM data", exprs.join(", ")))
                .await?
                .collect()
                .await?;
            if let Some(b) = batches.iter().find(|b| b.num_rows() > 0) {
                for (i, name) in chunk.iter().enumerate() {
                    if arrow::array::AsArray::as_boolean(b.column(i)).value(0) {
                        unique.insert(name.clone());
                    }
                }
            }
        }
        let ids = unique
            .iter()
            .filter(|n| id_like.contains(n))
            .cloned()
            .collect();
        Ok(Profiled {
            profile,
            ids,
            unique,
        })
    })
}

pub fn run(mut args: Args) -> Result<ExitStatus> {
    crate::inputs::read_stdin(&mut args.paths, args.input.input_format)?;
    crate::output::check_outputs([args.output.as_deref()], &args.paths)?;
    for (flag, t) in [
        ("--drift-threshold", args.drift_threshold),
        ("--skew-threshold", args.skew_threshold),
    ] {
        if let Some(t) = t
            && !(t.is_finite() && t >= 0.0)
        {
            anyhow::bail!("{flag} must be a non-negative number, got {t}");
        }
    }
    // Unchecked, NaN panicked in the normal quantile ("internal error") and values
    // outside the range were clamped without a word (1.5 became 0.999999, 0 became 0.5).
    let c = args.presence_confidence;
    if !(c.is_finite() && (0.5..1.0).contains(&c)) {
        anyhow::bail!("--presence-confidence must be in [0.5, 1), got {c}");
    }
    if args.presence_batch_rows == 0 {
        anyhow::bail!("--presence-batch-rows must be at least 1, got 0");
    }
    let r = args.max_domain_ratio;
    if !(r.is_finite() && (0.0..=1.0).contains(&r)) {
        anyhow::bail!("--max-domain-ratio must be in [0, 1], got {r}");
    }
    let old = args.update.as_deref().map(Schema::load).transpose()?;
    let Profiled {
        profile,
        ids: unique_columns,
        unique,
    } = profile_and_ids(&args, old.as_ref())?;
    if let Some(label) = &args.label
        && profile.column(label).is_none()
    {
        anyhow::bail!(
            "{}: --label names column `{label}`, which is not in the data",
            args.paths.join(" ")
        );
    }
    let opts = InferOptions {
        label: args.label.clone(),
        max_domain_size: args.max_domain_size,
        max_domain_ratio: args.max_domain_ratio,
        presence_confidence: args.presence_confidence,
        presence_batch_rows: args.presence_batch_rows,
        ranges: args.ranges,
        unique_columns,
        drift_threshold: args.drift_threshold,
        skew_threshold: args.skew_threshold,
    };
    let mut inferred = infer(&profile, &opts);
    if args.history_checks {
        preflight_schema::history::default_checks(&mut inferred, &profile);
    }
    let Some((old, old_path)) = old.zip(args.update.as_deref()) else {
        let text = inferred.to_yaml()?;
        emit(
            args.output.as_deref(),
            |w| Ok(w.write_all(text.as_bytes())?),
        )?;
        return Ok(ExitStatus::Success);
    };
    // Relaxing compares against the new data's own ranges, whatever the old schema had.
    let relaxed = relax(&old, &inferred, &profile, &unique);
    if relaxed == old {
        // Not rewritten at all: the file stays byte for byte what its author wrote.
        emit(None, |w| {
            Ok(writeln!(
                w,
                "{}: unchanged; the data already passes it",
                old_path.display()
            )?)
        })?;
        return Ok(ExitStatus::Success);
    }
    let before = String::from_utf8(crate::load::read_file(old_path)?)
        .with_context(|| format!("{}: is not UTF-8 text", old_path.display()))?;
    let after = match update_text(&before, &old, &relaxed)? {
        Updated::Edited(text) => text,
        Updated::Regenerated { text, reason } => {
            crate::ui::warn(&format!(
                "{}: written anew from the updated schema, so its comments and \
                 formatting are dropped ({reason})",
                old_path.display()
            ));
            text
        }
    };
    let diff = similar::TextDiff::from_lines(&before, &after);
    let target = args.output.as_deref().unwrap_or(old_path);
    // The schema first, then the diff: a reader that stops early (`| head`) must not keep
    // the schema from being written.
    emit(Some(target), |w| Ok(w.write_all(after.as_bytes())?))?;
    emit(None, |w| {
        Ok(write!(
            w,
            "{}",
            diff.unified_diff().context_radius(2).header(
                &old_path.display().to_string(),
                &target.display().to_string()
            )
        )?)
    })?;
    Ok(ExitStatus::Success)
}
