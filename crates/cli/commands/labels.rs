//! `preflight labels`: likely mislabelled rows, conflicting duplicates, class imbalance,
//! null labels and annotator agreement.
//!
//! The audit needs every row at once (cross-validation, nearest neighbours), so the table is
//! collected in memory, read with one partition so row numbers follow the input order; it
//! refuses inputs above `--max-rows` (DESIGN.md allows this for the label audit).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use arrow::array::RecordBatch;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use preflight_stats::Severity;
use preflight_stats::labels::features::{
    RawColumn, decode_column, decode_labels, encode, row_hashes, sort_classes,
};
use preflight_stats::labels::model::{KNN_MAX_ROWS, Model, out_of_sample_probabilities};
use preflight_stats::labels::{
    Annotations, ConfidentLearningOptions, ConsensusMethod, FilterBy, MIN_PAIR_ITEMS, ProbMatrix,
    agreement_report, class_imbalance, conflicting_labels, find_label_issues,
};
use preflight_stats::source::{Dataset, SourceOptions};
use serde_json::{Value, json};

use super::profile::InputArgs;
use crate::ExitStatus;
use crate::gate::{self, Check, CheckFormat, FailOn};
use crate::output::{emit, write_json};

/// Version of the `labels --format json` document (schemas/labels.schema.json).
const JSON_VERSION: &str = "1";
/// A categorical feature that agrees with the label on this share of rows, one value per
/// class, is another encoding of the label (e.g. `target` next to `target_name`).
const LABEL_COPY_AGREEMENT: f64 = 0.8;
/// Rows shown in the terminal table (JSON has them all).
const TABLE_ROWS: usize = 30;
/// Near duplicates: closer than this times the median nearest-neighbour distance
/// (cleanlab Datalab's near-duplicate rule).
const NEAR_DUPLICATE_FACTOR: f64 = 0.13;
/// Disputed items listed.
const DISPUTED_ITEMS: usize = 20;

/// Audit labels: likely mislabelled rows (confident learning), conflicting duplicates,
/// class imbalance, null labels, and agreement between several annotators.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Audit labels: likely mislabelled rows (confident learning on out-of-sample \
probabilities), rows with identical or nearly identical features but different labels, class \
imbalance, null labels; with several annotators, their agreement (Krippendorff's alpha, \
Fleiss' and Cohen's kappa), a consensus label per item and a quality score per annotator.

Without --pred-probs or --prob-columns, probabilities come from a built-in model trained \
out of sample on the other columns (leave-one-out k-NN; or logistic regression in \
stratified, seeded k-fold cross-validation). \
The table is loaded in memory (at most --max-rows rows).

Exit codes: 0 ran (issues are reported but do not fail unless --max-issues is given), \
1 more issues than --max-issues, 2 could not run.

Examples:
  preflight labels train.csv --label species
  preflight labels train.csv --label y --pred-probs oof_probs.csv
  preflight labels train.csv --label y --prob-columns 'p_*'
  preflight labels train.csv --label y --schema s.yaml          # labels outside the schema's domain
  preflight labels train.csv --label y --classes cat,dog,bird
  preflight labels votes.csv --annotators ann_1,ann_2,ann_3 --label gold
  preflight labels votes.csv --long item,annotator,label
  preflight labels votes.csv --long item,annotator,label --pred-probs item_probs.csv
  preflight labels train.csv --label y --format json --max-issues 0"
)]
pub struct Args {
    /// Files, globs or directories with one row per example (or per item / annotation).
    #[arg(required = true, value_name = "DATA")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub input: InputArgs,
    /// The label column (with annotators: the gold label, optional).
    #[arg(long, value_name = "COL")]
    pub label: Option<String>,
    /// Out-of-sample predicted probabilities: a file with one row per data row and one
    /// numeric column per class (named as the classes, or in sorted class order). With
    /// --long: one row per item, with the item column (as named in --long) matching rows to
    /// items; the consensus is then CROWDLAB's.
    #[arg(long, value_name = "FILE", conflicts_with = "prob_columns")]
    pub pred_probs: Option<String>,
    /// Columns of DATA holding the probabilities, as a glob (`p_*`); the part matched by
    /// `*` names the class, else columns are taken in sorted class order.
    #[arg(long, value_name = "GLOB")]
    pub prob_columns: Option<String>,
    /// Annotator columns, one per annotator (wide input; blanks = not labelled).
    #[arg(
        long,
        value_name = "A,B,..",
        value_delimiter = ',',
        conflicts_with = "long"
    )]
    pub annotators: Vec<String>,
    /// Long annotator input: the item, annotator and label columns.
    #[arg(long, value_name = "ITEM,ANNOTATOR,LABEL", value_delimiter = ',')]
    pub long: Vec<String>,
    /// The label's domain from a schema file (`preflight infer`): the `domain` of the
    /// --label feature (or of the feature with `role: label`). Rows with a label outside it
    /// are `label_out_of_domain` issues, left out of the model.
    #[arg(long, value_name = "SCHEMA")]
    pub schema: Option<PathBuf>,
    /// The label's domain as a list (overrides --schema's).
    #[arg(long, value_name = "A,B,..", value_delimiter = ',')]
    pub classes: Vec<String>,
    /// Columns that are not features (ids, other targets); excluded from the built-in model
    /// and the duplicate checks.
    #[arg(long, value_name = "COL,..", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Which rows count as issues: prune_by_noise_rate, prune_by_class, both,
    /// confident_learning, predicted_neq_given.
    #[arg(long, value_name = "METHOD", default_value = "prune_by_noise_rate")]
    pub filter_by: String,
    /// Built-in model: auto (leave-one-out k-NN up to 20,000 rows, logistic regression
    /// above), knn, logistic (k-fold), ensemble (mean of both).
    #[arg(long, value_name = "MODEL", default_value = "auto")]
    pub model: String,
    /// Cross-validation folds of the built-in model.
    #[arg(long, value_name = "K", default_value_t = 5)]
    pub folds: usize,
    /// Seed of the fold split.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Exit 1 when more than N issues are found [default: never fail].
    #[arg(long, value_name = "N")]
    pub max_issues: Option<usize>,
    /// Refuse inputs with more rows than this (the audit holds the table in memory).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_rows: usize,
    /// Output format [default: table, or json with -o].
    #[arg(long, value_enum)]
    pub format: Option<CheckFormat>,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write a self-contained HTML report to FILE (atomically).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Checked arguments.
struct Config {
    filter_by: FilterBy,
    model: Model,
    folds: usize,
}

struct Loaded {
    name: String,
    batches: Vec<RecordBatch>,
    columns: Vec<String>,
    n_rows: usize,
}

fn load(paths: &[String], mut opts: SourceOptions, max_rows: usize) -> Result<Loaded> {
    // One partition: rows come back in input order, so row numbers mean what DESIGN.md says.
    opts.partitions = 1;
    let name = paths.join(" ");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let batches = runtime.block_on(async {
        let ds = Dataset::open(paths, &opts).await?;
        let df = ds.context()?.table("data").await?;
        let batches = df.collect().await?;
        Ok::<_, anyhow::Error>(batches)
    })?;
    let n_rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if n_rows > max_rows {
        bail!(
            "{name}: {n_rows} rows exceed --max-rows {max_rows}; the label audit holds the table in memory, so sample the data or raise --max-rows"
        );
    }
    let columns = batches
        .first()
        .map(|b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        })
        .unwrap_or_default();
    Ok(Loaded {
        name,
        batches,
        columns,
        n_rows,
    })
}

fn require_column(data: &Loaded, col: &str, flag: &str) -> Result<()> {
    if !data.columns.iter().any(|c| c == col) {
        bail!(
            "{}: {flag} column {col:?} not found (columns: {})",
            data.name,
            data.columns.join(", ")
        );
    }
    Ok(())
}

/// `*` and `?` wildcards; returns what the first `*` matched.
fn glob_match(pattern: &str, text: &str) -> Option<String> {
    fn go(p: &[char], t: &[char], cap: &mut Option<String>) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len()).any(|n| {
                let mut c = cap.clone();
                if c.is_none() {
                    c = Some(t[..n].iter().collect());
                }
                if go(&p[1..], &t[n..], &mut c) {
                    *cap = c;
                    true
                } else {
                    false
                }
            }),
            Some('?') => !t.is_empty() && go(&p[1..], &t[1..], cap),
            Some(ch) => t.first() == Some(ch) && go(&p[1..], &t[1..], cap),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let mut cap = None;
    go(&p, &t, &mut cap).then(|| cap.unwrap_or_default())
}

pub fn run(args: Args) -> Result<ExitStatus> {
    crate::output::check_outputs(
        [args.output.as_deref(), args.html.as_deref()],
        (args.paths.iter().chain(&args.pred_probs))
            .map(std::path::Path::new)
            .chain(args.schema.as_deref()),
    )?;
    let config = Config {
        filter_by: args
            .filter_by
            .parse()
            .map_err(|e| anyhow!("--filter-by: {e}"))?,
        model: args.model.parse().map_err(|e| anyhow!("--model: {e}"))?,
        folds: args.folds,
    };
    if config.folds < 2 {
        bail!("--folds must be at least 2, got {}", config.folds);
    }
    if !args.long.is_empty() && args.long.len() != 3 {
        bail!(
            "--long expects three columns ITEM,ANNOTATOR,LABEL, got {}",
            args.long.len()
        );
    }
    let domain = label_domain(&args)?;
    let schema_label = domain.as_ref().and_then(|d| d.label.clone());
    if args.label.is_none()
        && schema_label.is_none()
        && args.annotators.is_empty()
        && args.long.is_empty()
    {
        bail!(
            "give the label column with --label, or annotator columns with --annotators or --long"
        );
    }
    crate::inputs::require_data(&args.paths, "labels", "")?;
    let opts = args.input.to_options()?;
    let data = load(&args.paths, opts, args.max_rows)?;
    if data.n_rows == 0 {
        bail!("{}: no rows", data.name);
    }
    let report = if !args.annotators.is_empty() || !args.long.is_empty() {
        annotator_audit(&args, &data)?
    } else {
        model_audit(&args, &config, &data, domain.as_ref())?
    };
    let format = gate::resolve_format(args.format, args.output.is_some());
    let suite = format!("labels {}{}", data.name, report.suite_note);
    emit(args.output.as_deref(), |w| {
        if gate::render(w, format, &suite, &data.name, &report.checks, FailOn::Error)? {
            return Ok(());
        }
        match format {
            CheckFormat::Json => write_json(w, &report.json),
            _ => {
                std::io::Write::write_all(
                    &mut crate::display::Escaping::new(w),
                    report.table.as_bytes(),
                )?;
                Ok(())
            }
        }
    })?;
    if let Some(path) = &args.html {
        let page = super::report::labels_page(
            suite,
            &data.name,
            &report.json,
            &report.checks,
            FailOn::Error,
        );
        crate::html::write(path, &page)?;
    }
    Ok(gate::status(&report.checks, FailOn::Error))
}

struct Report {
    json: Value,
    table: String,
    checks: Vec<Check>,
    /// Appended to the CI formats' suite name (the annotator audit's consensus method).
    suite_note: String,
}

/// The issue-count check that decides the exit code.
fn count_check(n_issues: usize, max_issues: Option<usize>, what: &str) -> Check {
    match max_issues {
        Some(max) if n_issues > max => Check::failed(
            None,
            "label_issues",
            Severity::Error,
            format!("{n_issues} {what}, more than --max-issues {max}"),
        ),
        _ if n_issues > 0 => Check::failed(
            None,
            "label_issues",
            Severity::Warning,
            format!("{n_issues} {what}"),
        ),
        _ => Check::passed(None, "label_issues"),
    }
}

fn round6(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1e6).round() / 1e6
    } else {
        x
    }
}

fn opt_num(x: Option<f64>) -> Value {
    x.filter(|v| v.is_finite())
        .map_or(Value::Null, |v| json!(round6(v)))
}

fn rows_text(rows: &[usize]) -> String {
    let shown: Vec<String> = rows.iter().take(10).map(usize::to_string).collect();
    if rows.len() > 10 {
        format!("{}, ... ({} rows)", shown.join(", "), rows.len())
    } else {
        shown.join(", ")
    }
}

/// One row of the ranked issue list.
struct Issue {
    row: usize,
    given: usize,
    suggested: usize,
    score: f64,
    reasons: Vec<&'static str>,
}

/// The declared classes of the label (--classes, or the schema's domain of the label).
struct LabelDomain {
    values: Vec<String>,
    /// `classes` or the schema file.
    source: String,
    /// The schema's label feature, when --label was not given.
    label: Option<String>,
}

fn label_domain(args: &Args) -> Result<Option<LabelDomain>> {
    let label = if let Some(path) = &args.schema {
        let schema = preflight_schema::Schema::load(path)?;
        let feature = match &args.label {
            Some(l) => schema.feature(l).ok_or_else(|| {
                anyhow!(
                    "{}: no feature `{l}` (the --label column) in the schema",
                    path.display()
                )
            })?,
            None => {
                let mut labels = schema
                    .features
                    .iter()
                    .filter(|f| f.role == preflight_schema::model::Role::Label);
                match (labels.next(), labels.next()) {
                    (Some(f), None) => f,
                    (None, _) => bail!(
                        "{}: no feature has role label; name the label column with --label",
                        path.display()
                    ),
                    (Some(a), Some(b)) => bail!(
                        "{}: features `{}` and `{}` both have role label; name one with --label",
                        path.display(),
                        a.name,
                        b.name
                    ),
                }
            }
        };
        let name = (args.label.is_none()).then(|| feature.name.clone());
        if args.classes.is_empty() {
            let Some(d) = &feature.domain else {
                bail!(
                    "{}: feature `{}` has no domain to check the labels against (add `domain: {{values: [...]}}` or give --classes)",
                    path.display(),
                    feature.name
                );
            };
            return Ok(Some(LabelDomain {
                values: d.values.iter().map(|v| v.text()).collect(),
                source: path.display().to_string(),
                label: name,
            }));
        }
        name
    } else {
        None
    };
    if args.classes.is_empty() {
        return Ok(None);
    }
    let values: Vec<String> = args.classes.iter().map(|c| c.trim().to_string()).collect();
    if values.iter().any(String::is_empty) {
        bail!(
            "--classes: empty class name in {:?}",
            args.classes.join(",")
        );
    }
    Ok(Some(LabelDomain {
        values,
        source: "--classes".into(),
        label,
    }))
}

/// A domain value equal to `given` but for case and surrounding blanks: the likely intent.
fn closest_domain_value(given: &str, domain: &[String]) -> Option<String> {
    let g = given.trim().to_lowercase();
    domain
        .iter()
        .find(|d| d.trim().to_lowercase() == g)
        .cloned()
}

fn model_audit(
    args: &Args,
    config: &Config,
    data: &Loaded,
    domain: Option<&LabelDomain>,
) -> Result<Report> {
    let Some(label_col) = args
        .label
        .as_deref()
        .or(domain.and_then(|d| d.label.as_deref()))
    else {
        bail!("--label is required");
    };
    require_column(data, label_col, "--label")?;
    for c in &args.exclude {
        require_column(data, c, "--exclude")?;
    }
    let mut notes: Vec<String> = vec![format!(
        "{} rows loaded in memory (cap --max-rows {})",
        data.n_rows, args.max_rows
    )];
    let raw_labels =
        decode_labels(&data.batches, label_col).map_err(|e| anyhow!("{}: {e}", data.name))?;
    let null_rows: Vec<usize> = (0..data.n_rows)
        .filter(|&i| raw_labels[i].is_none())
        .collect();
    // Labels outside the declared domain are issues, and left out of the model like nulls:
    // a typo is not a class.
    let in_domain = |l: &str| domain.is_none_or(|d| d.values.iter().any(|v| v == l));
    let out_of_domain: Vec<usize> = (0..data.n_rows)
        .filter(|&i| raw_labels[i].as_deref().is_some_and(|l| !in_domain(l)))
        .collect();
    let kept: Vec<usize> = (0..data.n_rows)
        .filter(|&i| raw_labels[i].as_deref().is_some_and(in_domain))
        .collect();
    let mut classes: Vec<String> = kept.iter().filter_map(|&i| raw_labels[i].clone()).collect();
    classes.sort();
    classes.dedup();
    sort_classes(&mut classes);
    let k = classes.len();
    if k < 2 {
        bail!(
            "{}: label column {label_col:?} has {} class{} ({}); a label audit needs at least 2",
            data.name,
            k,
            if k == 1 { "" } else { "es" },
            match (classes.first(), domain) {
                (Some(c), None) => format!("every label is {c:?}"),
                (Some(c), Some(d)) => format!("every label in the domain of {} is {c:?}", d.source),
                (None, Some(d)) if !out_of_domain.is_empty() => format!(
                    "no label is in the domain of {}: {}",
                    d.source,
                    d.values.join(", ")
                ),
                (None, _) => "every label is null".to_string(),
            }
        );
    }
    // Before anything of size classes x classes (or rows x classes) is allocated.
    preflight_stats::labels::check_class_count(k, kept.len())
        .map_err(|e| anyhow!("{}: label column '{label_col}' has {e}", data.name))?;
    let class_of = |s: &str| classes.iter().position(|c| c == s).unwrap_or(0);
    let labels: Vec<usize> = kept
        .iter()
        .map(|&i| raw_labels[i].as_deref().map_or(0, class_of))
        .collect();
    let n = labels.len();
    let mut counts = vec![0usize; k];
    for &y in &labels {
        counts[y] += 1;
    }

    // Probability columns inside DATA.
    let mut prob_cols: Vec<String> = Vec::new();
    if let Some(pattern) = &args.prob_columns {
        let matched: Vec<(String, String)> = data
            .columns
            .iter()
            .filter_map(|c| glob_match(pattern, c).map(|cap| (c.clone(), cap)))
            .collect();
        if matched.is_empty() {
            bail!(
                "{}: --prob-columns {pattern:?} matches no column",
                data.name
            );
        }
        if matched.len() != k {
            bail!(
                "{}: --prob-columns {pattern:?} matches {} columns ({}), but the label has {k} classes ({})",
                data.name,
                matched.len(),
                matched
                    .iter()
                    .map(|m| m.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                classes.join(", ")
            );
        }
        let by_name: Option<Vec<String>> = classes
            .iter()
            .map(|c| matched.iter().find(|m| &m.1 == c).map(|m| m.0.clone()))
            .collect();
        prob_cols = match by_name {
            Some(cols) => cols,
            None => {
                let cols: Vec<String> = matched.iter().map(|m| m.0.clone()).collect();
                notes.push(by_position(
                    &format!("{}: --prob-columns {pattern:?}", data.name),
                    &cols,
                    &classes,
                ));
                cols
            }
        };
    }

    // Feature columns.
    let mut not_features: Vec<&str> = vec![label_col];
    not_features.extend(args.exclude.iter().map(String::as_str));
    not_features.extend(prob_cols.iter().map(String::as_str));
    let mut raw: Vec<(String, RawColumn)> = Vec::new();
    let mut excluded: Vec<Value> = Vec::new();
    for c in data
        .columns
        .iter()
        .filter(|c| !not_features.contains(&c.as_str()))
    {
        match decode_column(&data.batches, c).map_err(|e| anyhow!("{}: {e}", data.name))? {
            Some(col) => {
                let col = filter_rows(&col, &kept);
                if let Some(agree) = label_copy(&col, &labels, k) {
                    excluded.push(json!({"column": c, "reason": format!("another encoding of the label ({:.1}% of rows map one-to-one); pass it to --exclude to silence this", agree * 100.0)}));
                    continue;
                }
                raw.push((c.clone(), col));
            }
            None => excluded.push(json!({"column": c, "reason": "type not usable as a feature"})),
        }
    }

    // Probabilities.
    let mut neighbours = None;
    let (probs, model_info): (Vec<f64>, Value) = if let Some(file) = &args.pred_probs {
        let p = read_pred_probs(file, &classes, data.n_rows, args.max_rows, &mut notes)?;
        (
            kept.iter()
                .flat_map(|&i| p[i * k..(i + 1) * k].to_vec())
                .collect(),
            json!({"source": "pred_probs", "file": file}),
        )
    } else if !prob_cols.is_empty() {
        let mut p = vec![0.0; n * k];
        for (c, name) in prob_cols.iter().enumerate() {
            let col = match decode_column(&data.batches, name)
                .map_err(|e| anyhow!("{}: {e}", data.name))?
            {
                Some(RawColumn::Numeric(v)) => v,
                _ => bail!("{}: probability column {name:?} is not numeric", data.name),
            };
            for (r, &i) in kept.iter().enumerate() {
                match col[i] {
                    Some(v) => p[r * k + c] = v,
                    None => bail!(
                        "{}: row {i}, column {name:?}: probability is missing",
                        data.name
                    ),
                }
            }
        }
        (p, json!({"source": "prob_columns", "columns": prob_cols}))
    } else {
        if raw.is_empty() {
            bail!(
                "{}: no feature columns besides the label {label_col:?}; give probabilities with --pred-probs or --prob-columns",
                data.name
            );
        }
        let x = encode(&raw, n).map_err(|e| anyhow!("{}: {e}", data.name))?;
        for (c, why) in &x.skipped {
            excluded.push(json!({"column": c, "reason": why}));
        }
        let smallest = counts.iter().copied().min().unwrap_or(0);
        let mut folds = config.folds;
        let uses_folds = config.model.resolve(n) != Model::Knn;
        if uses_folds && smallest < folds {
            folds = smallest.max(2);
            let rare = classes[counts.iter().position(|&c| c == smallest).unwrap_or(0)].clone();
            notes.push(format!(
                "class {rare:?} has only {smallest} row{}, fewer than --folds {}: used {folds} folds{}",
                if smallest == 1 { "" } else { "s" },
                config.folds,
                if smallest < 2 { " (a class with one row can never be predicted out of sample; its row is judged by the other classes only)" } else { "" }
            ));
        }
        let oof = out_of_sample_probabilities(&x, &labels, k, config.model, folds, args.seed)
            .map_err(|e| anyhow!("{}: {e}", data.name))?;
        if smallest < 2 && !uses_folds {
            notes.push(
                "a class has a single row: leave-one-out k-NN can never predict that row's label"
                    .to_string(),
            );
        }
        if config.model == Model::Auto && n > KNN_MAX_ROWS {
            notes.push(format!(
                "{n} rows > {KNN_MAX_ROWS}: k-NN and the near-duplicate check skipped, logistic regression only"
            ));
        }
        let info = json!({
            "source": "built_in",
            "model": oof.model.as_str(),
            "folds": oof.folds,
            "seed": args.seed,
            "features": x.n_features,
        });
        neighbours = oof.neighbours;
        (oof.probs, info)
    };
    let pm = ProbMatrix::new(&probs, n, k).map_err(|e| anyhow!("{}: {e}", data.name))?;
    let options = ConfidentLearningOptions {
        filter_by: config.filter_by,
        ..ConfidentLearningOptions::default()
    };
    let source_name = args.pred_probs.clone().unwrap_or_else(|| data.name.clone());
    let cl = find_label_issues(&labels, pm, &options).map_err(|e| {
        // Rows here are positions among labelled rows; map back to input rows.
        let msg = e.to_string();
        anyhow!("{source_name}: {}", remap_row(&msg, &kept))
    })?;

    // Model-free checks.
    let raw_refs: Vec<&RawColumn> = raw.iter().map(|(_, c)| c).collect();
    let conflicts = if raw_refs.is_empty() {
        None
    } else {
        let hashes = row_hashes(&raw_refs, n);
        Some(conflicting_labels(&hashes, &labels).map_err(|e| anyhow!("{e}"))?)
    };
    let imbalance = class_imbalance(&labels, k).map_err(|e| anyhow!("{e}"))?;

    let mut issues: BTreeMap<usize, Issue> = BTreeMap::new();
    for &r in &cl.ranked_issues {
        issues.insert(
            r,
            Issue {
                row: kept[r],
                given: labels[r],
                suggested: cl.suggested_label[r],
                score: cl.scores[r],
                reasons: vec!["low_confidence"],
            },
        );
    }
    let mut dup_groups = Vec::new();
    if let Some(report) = &conflicts {
        for g in &report.groups {
            // The group's label: the most frequent, ties by the model's summed probability.
            let mut votes = vec![(0usize, 0.0f64); k];
            for &r in &g.rows {
                votes[labels[r]].0 += 1;
                for (c, v) in votes.iter_mut().enumerate() {
                    v.1 += pm.row(r)[c];
                }
            }
            let best = (0..k)
                .max_by(|&a, &b| {
                    votes[a]
                        .0
                        .cmp(&votes[b].0)
                        .then(votes[a].1.total_cmp(&votes[b].1))
                        .then(b.cmp(&a))
                })
                .unwrap_or(0);
            for &r in g.rows.iter().filter(|&&r| labels[r] != best) {
                let e = issues.entry(r).or_insert(Issue {
                    row: kept[r],
                    given: labels[r],
                    suggested: best,
                    score: cl.scores[r],
                    reasons: Vec::new(),
                });
                e.reasons.push("conflicting_duplicate");
            }
            dup_groups.push(json!({
                "rows": g.rows.iter().map(|&r| kept[r]).collect::<Vec<_>>(),
                "labels": g.labels.iter().map(|&l| classes[l].clone()).collect::<Vec<_>>(),
                "suggested": classes[best],
            }));
        }
    }
    // Near duplicates with conflicting labels (k-NN graph, when it was built).
    let mut near = Vec::new();
    let mut near_threshold = None;
    if let Some(nb) = &neighbours {
        let mut d1: Vec<f64> = nb
            .iter()
            .filter_map(|v| v.first().map(|x| x.1))
            .filter(|&d| d > 0.0)
            .collect();
        d1.sort_by(f64::total_cmp);
        if let Some(&median) = d1.get(d1.len() / 2) {
            let threshold = NEAR_DUPLICATE_FACTOR * median;
            near_threshold = Some(threshold);
            let exact: std::collections::HashSet<(usize, usize)> = conflicts
                .iter()
                .flat_map(|c| c.groups.iter())
                .flat_map(|g| {
                    g.rows
                        .iter()
                        .flat_map(move |&a| g.rows.iter().map(move |&b| (a, b)))
                })
                .collect();
            for (i, v) in nb.iter().enumerate() {
                for &(j, d) in v {
                    if d > threshold {
                        break;
                    }
                    if i < j && labels[i] != labels[j] && !exact.contains(&(i, j)) {
                        // The row whose given label the model believes less is the issue.
                        let (bad, good) = if pm.row(i)[labels[i]] <= pm.row(j)[labels[j]] {
                            (i, j)
                        } else {
                            (j, i)
                        };
                        let e = issues.entry(bad).or_insert(Issue {
                            row: kept[bad],
                            given: labels[bad],
                            suggested: labels[good],
                            score: cl.scores[bad],
                            reasons: Vec::new(),
                        });
                        e.reasons.push("conflicting_near_duplicate");
                        near.push(json!({
                            "rows": [kept[i], kept[j]],
                            "labels": [classes[labels[i]], classes[labels[j]]],
                            "distance": round6(d),
                        }));
                    }
                }
            }
        }
    }
    let mut ranked: Vec<Issue> = issues.into_values().collect();
    ranked.sort_by(|a, b| a.score.total_cmp(&b.score).then(a.row.cmp(&b.row)));

    // Noise summary from the estimated joint.
    let per_class: Vec<Value> = (0..k)
        .map(|c| {
            let row_sum: f64 = cl.joint[c].iter().sum();
            let noise = if row_sum > 0.0 {
                1.0 - cl.joint[c][c] / row_sum
            } else {
                0.0
            };
            json!({
                "class": classes[c],
                "count": counts[c],
                "share": round6(counts[c] as f64 / n as f64),
                "estimated_noise_rate": round6(noise),
                "issues": ranked.iter().filter(|i| i.given == c).count(),
            })
        })
        .collect();
    let mut pairs = Vec::new();
    for g in 0..k {
        for t in (0..k).filter(|&t| t != g) {
            if cl.joint[g][t] > 0.0 {
                pairs.push((g, t, cl.joint[g][t]));
            }
        }
    }
    pairs.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    let health = cl.joint.iter().enumerate().map(|(c, r)| r[c]).sum::<f64>();

    let n_issues = ranked.len() + null_rows.len() + out_of_domain.len();
    let mut checks = vec![count_check(
        n_issues,
        args.max_issues,
        "label issues (likely mislabelled, conflicting duplicates, labels outside the domain, null labels)",
    )];
    checks.push(
        if ranked.iter().any(|i| i.reasons.contains(&"low_confidence")) {
            let rows: Vec<usize> = ranked
                .iter()
                .filter(|i| i.reasons.contains(&"low_confidence"))
                .map(|i| i.row)
                .collect();
            Check::failed(
                Some(label_col.to_string()),
                "likely_mislabelled",
                Severity::Warning,
                format!("{} rows look mislabelled: {}", rows.len(), rows_text(&rows)),
            )
        } else {
            Check::passed(Some(label_col.to_string()), "likely_mislabelled")
        },
    );
    checks.push(match conflicts.as_ref().filter(|c| !c.groups.is_empty()) {
        Some(c) => Check::failed(
            Some(label_col.to_string()),
            "conflicting_duplicates",
            Severity::Warning,
            format!(
                "{} groups of identical feature rows carry different labels ({} rows)",
                c.groups.len(),
                c.n_rows_in_conflict
            ),
        ),
        None => Check::passed(Some(label_col.to_string()), "conflicting_duplicates"),
    });
    checks.push(if imbalance.is_imbalanced {
        Check::failed(
            Some(label_col.to_string()),
            "class_imbalance",
            Severity::Warning,
            format!(
                "class {:?} has {:.2}% of rows, below 0.1/K = {:.2}%",
                classes[imbalance.rarest_class],
                imbalance.rarest_share * 100.0,
                imbalance.threshold * 100.0
            ),
        )
    } else {
        Check::passed(Some(label_col.to_string()), "class_imbalance")
    });
    // Unexpected values with their counts and rows, most frequent first.
    let mut unexpected: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in &out_of_domain {
        if let Some(l) = raw_labels[i].as_deref() {
            unexpected.entry(l).or_default().push(i);
        }
    }
    let mut unexpected: Vec<(&str, Vec<usize>)> = unexpected.into_iter().collect();
    unexpected.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    if let Some(d) = domain {
        checks.push(if out_of_domain.is_empty() {
            Check::passed(Some(label_col.to_string()), "label_out_of_domain")
        } else {
            let values: Vec<String> = unexpected
                .iter()
                .take(5)
                .map(|(v, rows)| format!("{v:?} ({})", rows_text(rows)))
                .collect();
            Check::failed(
                Some(label_col.to_string()),
                "label_out_of_domain",
                Severity::Warning,
                format!(
                    "{} rows have a label outside the {} classes of {}: {}{}",
                    out_of_domain.len(),
                    d.values.len(),
                    d.source,
                    values.join("; "),
                    if unexpected.len() > 5 { "; ..." } else { "" }
                ),
            )
        });
    }
    checks.push(if null_rows.is_empty() {
        Check::passed(Some(label_col.to_string()), "null_labels")
    } else {
        Check::failed(
            Some(label_col.to_string()),
            "null_labels",
            Severity::Warning,
            format!(
                "{} rows have no label: {}",
                null_rows.len(),
                rows_text(&null_rows)
            ),
        )
    });

    // Out-of-domain labels are certainly wrong: score 0, first.
    let mut issue_json: Vec<Value> = out_of_domain
        .iter()
        .map(|&i| {
            let given = raw_labels[i].clone().unwrap_or_default();
            json!({
                "row": i,
                "suggested": domain.and_then(|d| closest_domain_value(&given, &d.values)),
                "given": given,
                "score": 0.0,
                "reason": "label_out_of_domain",
                "reasons": ["label_out_of_domain"],
            })
        })
        .collect();
    issue_json.extend(ranked.iter().map(|i| {
        json!({
            "row": i.row,
            "given": classes[i.given],
            "suggested": classes[i.suggested],
            "score": round6(i.score),
            "reason": i.reasons.first().copied().unwrap_or("low_confidence"),
            "reasons": i.reasons,
        })
    }));
    let json = json!({
        "version": JSON_VERSION,
        "input": data.name,
        "label": label_col,
        "n_rows": data.n_rows,
        "n_labelled": n,
        "classes": classes,
        "probabilities": model_info,
        "filter_by": config.filter_by.as_str(),
        "score": cl.rank_by.as_str(),
        "n_issues": n_issues,
        "max_issues": args.max_issues,
        "passed": gate::status(&checks, FailOn::Error) == ExitStatus::Success,
        "label_issues": issue_json,
        "noise": {
            "per_class": per_class,
            "pairs": pairs.iter().map(|&(g, t, r)| json!({"given": classes[g], "true": classes[t], "rate": round6(r)})).collect::<Vec<_>>(),
            "joint": cl.joint.iter().map(|r| r.iter().map(|&v| round6(v)).collect::<Vec<_>>()).collect::<Vec<_>>(),
        },
        "health": {
            "label_health_score": round6(health),
            "issue_share": round6(ranked.len() as f64 / n as f64),
            "mean_self_confidence": round6((0..n).map(|r| pm.row(r)[labels[r]]).sum::<f64>() / n as f64),
        },
        "duplicates": {
            "conflicting_groups": dup_groups,
            "n_duplicate_groups": conflicts.as_ref().map_or(0, |c| c.n_duplicate_groups),
            "n_rows_in_conflict": conflicts.as_ref().map_or(0, |c| c.n_rows_in_conflict),
        },
        "near_duplicates": {
            "rule": "standardised Euclidean distance to one of the 10 nearest rows <= 0.13 x the median positive nearest-neighbour distance",
            "threshold": opt_num(near_threshold),
            "checked": neighbours.is_some(),
            "conflicting_pairs": near,
        },
        "class_imbalance": {
            "counts": classes.iter().zip(&counts).map(|(c, &n)| json!({"class": c, "count": n})).collect::<Vec<_>>(),
            "rarest_class": classes[imbalance.rarest_class],
            "rarest_share": round6(imbalance.rarest_share),
            "threshold": round6(imbalance.threshold),
            "imbalance_ratio": opt_num(imbalance.imbalance_ratio),
            "imbalanced": imbalance.is_imbalanced,
        },
        "null_labels": {"count": null_rows.len(), "rows": null_rows},
        "label_domain": domain.map(|d| json!({
            "source": d.source,
            "values": d.values,
            "count": out_of_domain.len(),
            "rows": out_of_domain,
            "unexpected": unexpected.iter().map(|(v, rows)| json!({"value": v, "count": rows.len(), "rows": rows})).collect::<Vec<_>>(),
        })),
        "excluded_columns": excluded,
        "notes": notes,
    });
    let table = model_table(&json, &checks);
    Ok(Report {
        json,
        table,
        checks,
        suite_note: String::new(),
    })
}

/// Replace a "row N" (position among labelled rows) with the input row number.
fn remap_row(msg: &str, kept: &[usize]) -> String {
    if let Some(rest) = msg.strip_prefix("row ")
        && let Some((num, tail)) = rest.split_once([':', ','])
        && let Ok(r) = num.parse::<usize>()
        && let Some(&orig) = kept.get(r)
    {
        let sep = &rest[num.len()..num.len() + 1];
        return format!("row {orig}{sep}{tail}");
    }
    msg.to_string()
}

fn filter_rows(col: &RawColumn, kept: &[usize]) -> RawColumn {
    match col {
        RawColumn::Numeric(v) => RawColumn::Numeric(kept.iter().map(|&i| v[i]).collect()),
        RawColumn::Categorical(v) => {
            RawColumn::Categorical(kept.iter().map(|&i| v[i].clone()).collect())
        }
    }
}

/// `Some(agreement)` when a column has exactly one value per class (K values, no nulls) and
/// that one-to-one mapping matches the label on at least [`LABEL_COPY_AGREEMENT`] of rows.
fn label_copy(col: &RawColumn, labels: &[usize], k: usize) -> Option<f64> {
    let keys: Vec<Option<String>> = match col {
        RawColumn::Numeric(v) => v.iter().map(|x| x.map(|x| x.to_string())).collect(),
        RawColumn::Categorical(v) => v.clone(),
    };
    if keys.iter().any(Option::is_none) {
        return None;
    }
    let mut table: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (key, &y) in keys.iter().zip(labels) {
        let e = table
            .entry(key.as_deref().unwrap_or(""))
            .or_insert_with(|| vec![0; k]);
        e[y] += 1;
    }
    if table.len() != k {
        return None;
    }
    let mut used = vec![false; k];
    let mut agree = 0;
    for counts in table.values() {
        let (best, &c) = counts.iter().enumerate().max_by_key(|(_, c)| **c)?;
        if used[best] {
            return None;
        }
        used[best] = true;
        agree += c;
    }
    let share = agree as f64 / labels.len().max(1) as f64;
    (share >= LABEL_COPY_AGREEMENT).then_some(share)
}

/// The note for probability columns that do not name the classes and so are taken in
/// order: a wrong order would silently swap classes, so the mapping is spelled out.
fn by_position(what: &str, cols: &[String], classes: &[String]) -> String {
    let pairs: Vec<String> = cols
        .iter()
        .zip(classes)
        .map(|(c, k)| format!("{c} = {k}"))
        .collect();
    format!(
        "{what} do not name the classes; matched by position to the sorted classes: {} (name them after the classes to match by name)",
        pairs.join(", ")
    )
}

/// Reads `--pred-probs`: one row per data row, one numeric column per class.
fn read_pred_probs(
    file: &str,
    classes: &[String],
    n_rows: usize,
    max_rows: usize,
    notes: &mut Vec<String>,
) -> Result<Vec<f64>> {
    let data = load(&[file.to_string()], SourceOptions::default(), max_rows)
        .with_context(|| format!("--pred-probs {file}"))?;
    if data.n_rows != n_rows {
        bail!(
            "{file}: {} rows of probabilities, but the data has {n_rows} rows",
            data.n_rows
        );
    }
    probability_matrix(file, &data, classes, None, notes)
}

/// Reads `--pred-probs` for long annotator input: one row per item, matched by the item
/// column (named as in --long), one numeric column per class; returned in `items` order.
fn read_item_probs(
    file: &str,
    classes: &[String],
    items: &[String],
    item_col: &str,
    max_rows: usize,
    notes: &mut Vec<String>,
) -> Result<Vec<f64>> {
    let data = load(&[file.to_string()], SourceOptions::default(), max_rows)
        .with_context(|| format!("--pred-probs {file}"))?;
    if !data.columns.iter().any(|c| c == item_col) {
        bail!(
            "{file}: no item column {item_col:?}; with --long the probabilities need it to match rows to items (columns: {})",
            data.columns.join(", ")
        );
    }
    let names = decode_labels(&data.batches, item_col).map_err(|e| anyhow!("{file}: {e}"))?;
    let p = probability_matrix(file, &data, classes, Some(item_col), notes)?;
    let k = classes.len();
    let mut row_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (r, name) in names.iter().enumerate() {
        let Some(name) = name.as_deref() else {
            bail!("{file}: row {r}, column {item_col:?}: the item is missing");
        };
        if let Some(first) = row_of.insert(name, r) {
            bail!("{file}: row {r}: item {name:?} has probabilities twice (first at row {first})");
        }
    }
    let mut out = Vec::with_capacity(items.len() * k);
    for item in items {
        let Some(&r) = row_of.get(item.as_str()) else {
            bail!("{file}: no probabilities for item {item:?}");
        };
        out.extend_from_slice(&p[r * k..(r + 1) * k]);
    }
    if row_of.len() > items.len() {
        let extra = row_of
            .keys()
            .find(|name| !items.iter().any(|i| i == *name))
            .map_or(String::new(), |n| format!(" (e.g. {n:?})"));
        bail!(
            "{file}: {} items have probabilities but no annotations{extra}",
            row_of.len() - items.len()
        );
    }
    Ok(out)
}

/// The class columns of a probability file as a row-major matrix, checked (numbers, rows
/// summing to 1): columns named as the classes, else all columns but `skip` in sorted class
/// order.
fn probability_matrix(
    file: &str,
    data: &Loaded,
    classes: &[String],
    skip: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<Vec<f64>> {
    let k = classes.len();
    let n_rows = data.n_rows;
    let others: Vec<String> = data
        .columns
        .iter()
        .filter(|c| Some(c.as_str()) != skip)
        .cloned()
        .collect();
    let cols: Vec<String> = if classes.iter().all(|c| data.columns.contains(c)) {
        classes.to_vec()
    } else if others.len() == k {
        notes.push(by_position(
            &format!("{file}: probability columns"),
            &others,
            classes,
        ));
        others
    } else {
        bail!(
            "{file}: {} probability columns ({}), but the label has {k} classes ({}); name the columns after the classes or give exactly {k}",
            others.len(),
            others.join(", "),
            classes.join(", ")
        );
    };
    let mut p = vec![0.0; n_rows * k];
    for (c, name) in cols.iter().enumerate() {
        match decode_column(&data.batches, name).map_err(|e| anyhow!("{file}: {e}"))? {
            Some(RawColumn::Numeric(v)) => {
                for (i, x) in v.iter().enumerate() {
                    match x {
                        Some(x) => p[i * k + c] = *x,
                        None => bail!("{file}: row {i}, column {name:?}: probability is missing"),
                    }
                }
            }
            Some(RawColumn::Categorical(v)) => {
                let (i, bad) = v
                    .iter()
                    .enumerate()
                    .find(|(_, s)| {
                        s.as_deref()
                            .is_none_or(|s| s.trim().parse::<f64>().is_err())
                    })
                    .map_or((0, String::new()), |(i, s)| {
                        (i, s.clone().unwrap_or_default())
                    });
                bail!("{file}: row {i}, column {name:?}: {bad:?} is not a number");
            }
            None => bail!("{file}: column {name:?} is not numeric"),
        }
    }
    let m = ProbMatrix::new(&p, n_rows, k).map_err(|e| anyhow!("{file}: {e}"))?;
    m.validate(Some(preflight_stats::labels::DEFAULT_ROW_SUM_TOLERANCE))
        .map_err(|e| anyhow!("{file}: {e}"))?;
    Ok(p)
}

fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}

/// A table with one row per JSON object: column `i` shows field `fields[i]`.
fn field_table<'a>(
    header: &[&str],
    fields: &[&str],
    items: impl IntoIterator<Item = &'a Value>,
) -> Table {
    debug_assert_eq!(header.len(), fields.len());
    let mut t = new_table(header);
    for x in items {
        t.add_row(fields.iter().map(|f| text(&x[*f])).collect::<Vec<_>>());
    }
    t
}

fn text(v: &Value) -> String {
    match v {
        // Values from the data: blanks and control characters visible.
        Value::String(s) => crate::display::value(s).into_owned(),
        Value::Null => "-".to_string(),
        Value::Number(n) => n.as_f64().map_or_else(
            || n.to_string(),
            |f| {
                if f.fract() == 0.0 && f.abs() < 1e15 {
                    format!("{f:.0}")
                } else {
                    format!("{f:.4}")
                }
            },
        ),
        other => other.to_string(),
    }
}

fn model_table(j: &Value, checks: &[Check]) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "labels: {} ({} rows, label {}, {} classes) -- {}\n",
        text(&j["input"]),
        j["n_rows"],
        text(&j["label"]),
        j["classes"].as_array().map_or(0, Vec::len),
        gate::verdict(checks, FailOn::Error)
    ));
    let p = &j["probabilities"];
    s.push_str(&match text(&p["source"]).as_str() {
        "built_in" if p["folds"].is_null() => format!(
            "probabilities: built-in {} model, leave-one-out\n",
            text(&p["model"])
        ),
        "built_in" => format!(
            "probabilities: built-in {} model, {} folds, seed {}\n",
            text(&p["model"]),
            text(&p["folds"]),
            text(&p["seed"])
        ),
        other => format!("probabilities: {other}\n"),
    });
    let issues = j["label_issues"].as_array().cloned().unwrap_or_default();
    s.push_str(&format!(
        "\n{} label issues (filter {}), lowest {} first; label health {}\n",
        issues.len(),
        text(&j["filter_by"]),
        text(&j["score"]),
        text(&j["health"]["label_health_score"])
    ));
    if !issues.is_empty() {
        let mut t = new_table(&["row", "given", "suggested", "score", "reason"]);
        for i in issues.iter().take(TABLE_ROWS) {
            t.add_row(vec![
                text(&i["row"]),
                text(&i["given"]),
                text(&i["suggested"]),
                text(&i["score"]),
                i["reasons"]
                    .as_array()
                    .map(|r| r.iter().map(text).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default(),
            ]);
        }
        s.push_str(&format!("{t}\n"));
        if issues.len() > TABLE_ROWS {
            s.push_str(&format!(
                "... {} more (use --format json for all)\n",
                issues.len() - TABLE_ROWS
            ));
        }
    }
    let t = field_table(
        &["class", "rows", "share", "est. noise rate", "issues"],
        &["class", "count", "share", "estimated_noise_rate", "issues"],
        j["noise"]["per_class"].as_array().into_iter().flatten(),
    );
    s.push_str(&format!("\nper class\n{t}\n"));
    let pairs = j["noise"]["pairs"].as_array().cloned().unwrap_or_default();
    if !pairs.is_empty() {
        s.push_str("most likely confusions (given -> true: share of rows): ");
        let top: Vec<String> = pairs
            .iter()
            .take(5)
            .map(|p| {
                format!(
                    "{} -> {}: {}",
                    text(&p["given"]),
                    text(&p["true"]),
                    text(&p["rate"])
                )
            })
            .collect();
        s.push_str(&top.join("; "));
        s.push('\n');
    }
    s.push('\n');
    for c in checks {
        match &c.failure {
            Some(f) => s.push_str(&format!("{}: {} -- {}\n", f.severity, c.kind, f.message)),
            None => s.push_str(&format!("ok: {}\n", c.kind)),
        }
    }
    for e in j["excluded_columns"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "note: column {} not used as a feature: {}\n",
            text(&e["column"]),
            text(&e["reason"])
        ));
    }
    for n in j["notes"].as_array().into_iter().flatten() {
        s.push_str(&format!("note: {}\n", text(n)));
    }
    s
}

/// Annotator table: (item names, annotator names, item-major labels as strings, gold).
struct AnnotatorInput {
    items: Vec<String>,
    annotators: Vec<String>,
    labels: Vec<Vec<Option<String>>>,
    gold: Option<Vec<Option<String>>>,
}

fn annotator_input(args: &Args, data: &Loaded) -> Result<AnnotatorInput> {
    let col = |name: &str| -> Result<Vec<Option<String>>> {
        decode_labels(&data.batches, name).map_err(|e| anyhow!("{}: {e}", data.name))
    };
    if !args.annotators.is_empty() {
        for a in &args.annotators {
            require_column(data, a, "--annotators")?;
        }
        if args.annotators.len() < 2 {
            bail!(
                "--annotators needs at least two columns, got {}",
                args.annotators.len()
            );
        }
        let cols: Vec<Vec<Option<String>>> = args
            .annotators
            .iter()
            .map(|a| col(a))
            .collect::<Result<_>>()?;
        let labels = (0..data.n_rows)
            .map(|i| cols.iter().map(|c| c[i].clone()).collect())
            .collect();
        let gold = match &args.label {
            Some(g) => {
                require_column(data, g, "--label")?;
                Some(col(g)?)
            }
            None => None,
        };
        return Ok(AnnotatorInput {
            items: (0..data.n_rows).map(|i| i.to_string()).collect(),
            annotators: args.annotators.clone(),
            labels,
            gold,
        });
    }
    let (item_c, ann_c, label_c) = (&args.long[0], &args.long[1], &args.long[2]);
    for c in [item_c, ann_c, label_c] {
        require_column(data, c, "--long")?;
    }
    let (items_v, anns_v, labels_v) = (col(item_c)?, col(ann_c)?, col(label_c)?);
    let gold_v = match &args.label {
        Some(g) => {
            require_column(data, g, "--label")?;
            Some(col(g)?)
        }
        None => None,
    };
    let mut item_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut items = Vec::new();
    let mut annotators: Vec<String> = anns_v.iter().flatten().cloned().collect();
    annotators.sort();
    annotators.dedup();
    let mut labels: Vec<Vec<Option<String>>> = Vec::new();
    let mut gold: Vec<Option<String>> = Vec::new();
    for r in 0..data.n_rows {
        let (Some(item), Some(ann)) = (&items_v[r], &anns_v[r]) else {
            bail!("{}: row {r}: the item or annotator is missing", data.name);
        };
        let i = *item_index.entry(item.clone()).or_insert_with(|| {
            items.push(item.clone());
            labels.push(vec![None; annotators.len()]);
            gold.push(None);
            items.len() - 1
        });
        let a = annotators.binary_search(ann).unwrap_or(0);
        if let Some(prev) = &labels[i][a]
            && Some(prev) != labels_v[r].as_ref()
        {
            bail!(
                "{}: row {r}: annotator {ann:?} labels item {item:?} twice, differently",
                data.name
            );
        }
        if labels_v[r].is_some() {
            labels[i][a] = labels_v[r].clone();
        }
        if let Some(g) = gold_v.as_ref().and_then(|g| g[r].clone()) {
            gold[i].get_or_insert(g);
        }
    }
    Ok(AnnotatorInput {
        items,
        annotators,
        labels,
        gold: gold_v.map(|_| gold),
    })
}

fn annotator_audit(args: &Args, data: &Loaded) -> Result<Report> {
    let input = annotator_input(args, data)?;
    let mut classes: Vec<String> = input
        .labels
        .iter()
        .flatten()
        .flatten()
        .chain(input.gold.iter().flatten().flatten())
        .cloned()
        .collect();
    classes.sort();
    classes.dedup();
    sort_classes(&mut classes);
    let k = classes.len();
    if k < 2 {
        bail!(
            "{}: the annotations have {k} distinct label{}; agreement needs at least 2 classes",
            data.name,
            if k == 1 { "" } else { "s" }
        );
    }
    // Before anything of size classes x classes is allocated.
    let given = input.labels.iter().flatten().flatten().count();
    preflight_stats::labels::check_class_count(k, given)
        .map_err(|e| anyhow!("{}: the annotations have {e}", data.name))?;
    let id = |s: &Option<String>| s.as_ref().and_then(|s| classes.iter().position(|c| c == s));
    let rows: Vec<Vec<Option<usize>>> = input
        .labels
        .iter()
        .map(|r| r.iter().map(id).collect())
        .collect();
    let ann = Annotations::from_rows(&rows, k).map_err(|e| anyhow!("{}: {e}", data.name))?;
    let gold: Option<Vec<Option<usize>>> = input.gold.as_ref().map(|g| g.iter().map(id).collect());
    let mut notes = vec![format!(
        "{} rows loaded in memory (cap --max-rows {})",
        data.n_rows, args.max_rows
    )];
    let probs: Option<Vec<f64>> = match (args.pred_probs.as_deref(), args.long.first()) {
        (Some(file), None) => Some(read_pred_probs(
            file,
            &classes,
            input.items.len(),
            args.max_rows,
            &mut notes,
        )?),
        (Some(file), Some(item_col)) => Some(read_item_probs(
            file,
            &classes,
            &input.items,
            item_col,
            args.max_rows,
            &mut notes,
        )?),
        _ => None,
    };
    let pm = match &probs {
        Some(p) => Some(ProbMatrix::new(p, input.items.len(), k).map_err(|e| anyhow!("{e}"))?),
        None => None,
    };
    let rep =
        agreement_report(&ann, pm, gold.as_deref()).map_err(|e| anyhow!("{}: {e}", data.name))?;
    let consensus = rep.consensus();
    let method = rep.consensus_method();
    match method {
        ConsensusMethod::WeightedAgreement => notes.push(format!(
            "consensus by weighted_agreement: no probabilities were given and the annotators \
             overlap enough (three or more whose pairs each share >= {MIN_PAIR_ITEMS} items), so \
             each annotator's accuracy is estimated from pairwise agreement (one-coin model) and \
             its vote weighs ln((K-1) a / (1 - a)); it assumes independent mistakes"
        )),
        ConsensusMethod::MajorityVote => notes.push(format!(
            "consensus by majority vote: the annotators do not overlap enough to weigh them \
             (that needs three annotators whose pairs each share >= {MIN_PAIR_ITEMS} items and \
             agree above chance); give --pred-probs for CROWDLAB"
        )),
        ConsensusMethod::Crowdlab => {}
    }
    let per_item = ann.labels_per_item();
    let mut annotators: Vec<Value> = rep
        .annotators
        .iter()
        .map(|a| {
            json!({
                "name": input.annotators[a.annotator],
                "quality": opt_num(a.agreement_with_consensus),
                "n_labelled": a.n_labelled,
                "agreement_with_consensus": opt_num(a.agreement_with_consensus),
                "agreement_with_majority": opt_num(a.agreement_with_majority),
                "crowdlab_weight": opt_num(a.crowdlab_weight),
                "weight": opt_num(a.weight),
                "estimated_accuracy": opt_num(a.estimated_accuracy),
                "accuracy_vs_gold": opt_num(a.accuracy_vs_gold),
                "n_gold": a.n_gold,
            })
        })
        .collect();
    annotators.sort_by(|a, b| {
        let q = |v: &Value| v["quality"].as_f64().unwrap_or(-1.0);
        q(b).total_cmp(&q(a))
            .then_with(|| text(&a["name"]).cmp(&text(&b["name"])))
    });
    let mut disputed: Vec<(usize, f64)> = (0..input.items.len())
        .filter(|&i| per_item[i] >= 2)
        .filter_map(|i| rep.item_agreement[i].filter(|&a| a < 1.0).map(|a| (i, a)))
        .collect();
    disputed.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let disputed_json: Vec<Value> = disputed
        .iter()
        .take(DISPUTED_ITEMS)
        .map(|&(i, a)| {
            let mut votes: BTreeMap<String, usize> = BTreeMap::new();
            for l in ann.item_labels(i) {
                *votes.entry(classes[l].clone()).or_default() += 1;
            }
            json!({"row": i, "item": input.items[i], "agreement": round6(a), "votes": votes, "consensus": consensus[i].map(|c| classes[c].clone())})
        })
        .collect();
    // Issues: items whose gold label disagrees with the annotators' consensus.
    let mut issues: Vec<Value> = Vec::new();
    if let Some(g) = &gold {
        let mut rows: Vec<(usize, f64)> = (0..input.items.len())
            .filter(|&i| g[i].is_some() && consensus[i].is_some() && g[i] != consensus[i])
            .map(|i| {
                let agree = ann
                    .item_labels(i)
                    .iter()
                    .filter(|&&l| Some(l) == g[i])
                    .count();
                (i, agree as f64 / per_item[i].max(1) as f64)
            })
            .collect();
        rows.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        for (i, score) in rows {
            issues.push(json!({
                "row": i,
                "item": input.items[i],
                "given": g[i].map(|c| classes[c].clone()),
                "suggested": consensus[i].map(|c| classes[c].clone()),
                "score": round6(score),
                "reason": "gold_disagrees_with_consensus",
                "reasons": ["gold_disagrees_with_consensus"],
            }));
        }
    }
    let mut checks = vec![count_check(
        issues.len(),
        args.max_issues,
        "items whose gold label disagrees with the annotators' consensus",
    )];
    checks.push(match rep.krippendorff_alpha {
        Some(a) if a < 0.667 => Check::failed(None, "annotator_agreement", Severity::Warning, format!("Krippendorff's alpha {a:.3} is below 0.667, the lowest Krippendorff accepts for tentative conclusions")),
        _ => Check::passed(None, "annotator_agreement"),
    });
    let json = json!({
        "version": JSON_VERSION,
        "input": data.name,
        "label": args.label,
        "n_rows": data.n_rows,
        "n_items": input.items.len(),
        "classes": classes,
        "n_issues": issues.len(),
        "max_issues": args.max_issues,
        "passed": gate::status(&checks, FailOn::Error) == ExitStatus::Success,
        "label_issues": issues,
        "agreement": {
            "krippendorff_alpha": opt_num(rep.krippendorff_alpha),
            "fleiss_kappa": opt_num(rep.fleiss_kappa),
            "cohen_kappa": rep.cohen_kappa.iter().map(|p| json!({"a": input.annotators[p.a], "b": input.annotators[p.b], "kappa": opt_num(p.kappa), "n_items": p.n_items})).collect::<Vec<_>>(),
            "n_labels": rep.n_labels,
            "mean_labels_per_item": round6(rep.mean_labels_per_item),
            "n_items_multi_labelled": rep.n_items_multi_labelled,
        },
        "consensus_method": method.as_str(),
        "annotators": annotators,
        "consensus": (0..input.items.len()).map(|i| json!({
            "row": i,
            "item": input.items[i],
            "label": consensus[i].map(|c| classes[c].clone()),
            "agreement": opt_num(rep.item_agreement[i]),
        })).collect::<Vec<_>>(),
        "disputed": disputed_json,
        "gold": rep.gold.as_ref().map(|g| json!({"n_items": g.n_items, "majority_vote_accuracy": opt_num(g.majority_vote_accuracy), "crowdlab_accuracy": opt_num(g.crowdlab_accuracy), "weighted_agreement_accuracy": opt_num(g.weighted_agreement_accuracy)})),
        "notes": notes,
    });
    let table = annotator_table(&json, &checks);
    Ok(Report {
        json,
        table,
        checks,
        suite_note: format!(" (consensus by {})", method.as_str()),
    })
}

fn annotator_table(j: &Value, checks: &[Check]) -> String {
    let mut s = format!(
        "labels: {} ({} items, {} annotators, consensus by {}) -- {}\n",
        text(&j["input"]),
        j["n_items"],
        j["annotators"].as_array().map_or(0, Vec::len),
        text(&j["consensus_method"]),
        gate::verdict(checks, FailOn::Error)
    );
    let a = &j["agreement"];
    s.push_str(&format!(
        "Krippendorff's alpha {} | Fleiss' kappa {} | {} labels, {} per item\n",
        text(&a["krippendorff_alpha"]),
        text(&a["fleiss_kappa"]),
        text(&a["n_labels"]),
        text(&a["mean_labels_per_item"])
    ));
    let t = field_table(
        &[
            "annotator",
            "quality",
            "labelled",
            "agrees w/ majority",
            "weight",
            "accuracy vs gold",
        ],
        &[
            "name",
            "quality",
            "n_labelled",
            "agreement_with_majority",
            "weight",
            "accuracy_vs_gold",
        ],
        j["annotators"].as_array().into_iter().flatten(),
    );
    s.push_str(&format!("\nannotators (best first)\n{t}\n"));
    for n in j["notes"].as_array().into_iter().flatten() {
        if let Some(n) = n.as_str().filter(|n| n.starts_with("consensus by")) {
            s.push_str(&format!("{n}\n"));
        }
    }
    if let Some(g) = j["gold"].as_object() {
        s.push_str(&format!(
            "consensus accuracy vs gold: majority vote {}{}{}\n",
            text(&g["majority_vote_accuracy"]),
            if g["crowdlab_accuracy"].is_number() {
                format!(", CROWDLAB {}", text(&g["crowdlab_accuracy"]))
            } else {
                String::new()
            },
            if g["weighted_agreement_accuracy"].is_number() {
                format!(
                    ", weighted agreement {}",
                    text(&g["weighted_agreement_accuracy"])
                )
            } else {
                String::new()
            },
        ));
    }
    let t = field_table(
        &["a", "b", "Cohen's kappa", "items"],
        &["a", "b", "kappa", "n_items"],
        a["cohen_kappa"].as_array().into_iter().flatten(),
    );
    s.push_str(&format!("\npairs\n{t}\n"));
    let disputed = j["disputed"].as_array().cloned().unwrap_or_default();
    if !disputed.is_empty() {
        let mut t = new_table(&["row", "item", "agreement", "votes", "consensus"]);
        for d in &disputed {
            t.add_row(vec![
                text(&d["row"]),
                text(&d["item"]),
                text(&d["agreement"]),
                d["votes"].to_string(),
                text(&d["consensus"]),
            ]);
        }
        s.push_str(&format!("\nmost disputed items\n{t}\n"));
    }
    let issues = j["label_issues"].as_array().cloned().unwrap_or_default();
    if !issues.is_empty() {
        let t = field_table(
            &["row", "item", "gold", "consensus", "score"],
            &["row", "item", "given", "suggested", "score"],
            issues.iter().take(TABLE_ROWS),
        );
        s.push_str(&format!("\ngold label disagrees with consensus\n{t}\n"));
    }
    s.push('\n');
    for c in checks {
        match &c.failure {
            Some(f) => s.push_str(&format!("{}: {} -- {}\n", f.severity, c.kind, f.message)),
            None => s.push_str(&format!("ok: {}\n", c.kind)),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_captures_the_star() {
        assert_eq!(glob_match("p_*", "p_setosa").as_deref(), Some("setosa"));
        assert_eq!(glob_match("p_*", "q_setosa"), None);
        assert_eq!(glob_match("prob[*]", "prob[a]").as_deref(), Some("a"));
        assert_eq!(glob_match("p?", "p1").as_deref(), Some(""));
    }

    #[test]
    fn remap_row_maps_labelled_positions_back() {
        assert_eq!(remap_row("row 1: bad", &[0, 5, 6]), "row 5: bad");
        assert_eq!(
            remap_row("row 2, class 0: x", &[0, 5, 9]),
            "row 9, class 0: x"
        );
        assert_eq!(remap_row("other", &[0]), "other");
    }
}
