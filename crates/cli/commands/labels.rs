//! `preflight labels`: likely mislabelled rows, conflicting duplicates, class imbalance,
//! null labels and annotator agreement.
//!
//! Arguments become an [`AuditSpec`] or [`AnnotatorSpec`]; the table is loaded here and
//! audited by `preflight_stats::labels`; the typed result is rendered by
//! `crate::render::labels` (table), `checks` (CI formats) and `crate::html::labels` (page).
//! The audit needs every row at once (cross-validation, nearest neighbours), so the table is
//! collected in memory, read with one partition so row numbers follow the input order; it
//! refuses inputs above `--max-rows` (DESIGN.md allows this for the label audit).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use preflight_stats::labels::model::Model;
use preflight_stats::labels::{
    AnnotatorAudit, AnnotatorLayout, AnnotatorSpec, AuditCheck, AuditSpec, LabelAudit, LabelDomain,
    ProbabilitySource, annotator_audit, audit,
};
use preflight_stats::source::SourceOptions;

use crate::ExitStatus;
use crate::args::{FilterByChoice, InputArgs, ModelChoice, OutputArgs};
use crate::checks::{self, Check, CheckFormat};
use crate::html::labels::Audit;
use crate::load::load_table;
use crate::output::{emit, write_json};

/// Audit labels: likely mislabelled rows (confident learning), conflicting duplicates,
/// class imbalance, null labels, and agreement between several annotators.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Audit labels: likely mislabelled rows (confident learning on out-of-sample \
probabilities), rows with identical or nearly identical features but different labels, class \
imbalance, null labels; with several annotators, their agreement (Krippendorff's alpha, \
Fleiss' and Cohen's kappa), a consensus label per item and a quality score per annotator.

Without --pred-probs or --prob-columns, probabilities come from a built-in model trained \
out of sample on the other columns: by default (--model auto) up to 20,000 rows the mean of \
leave-one-out k-NN, logistic regression and a random forest (these two in stratified, seeded \
k-fold cross-validation; the forest up to 10,000 rows), logistic regression alone above. \
With it, the rows flagged are as many as cleanlab's prune_by_noise_rate flags, the lowest \
self-confidence over the whole table (--filter-by prune_by_noise_rate_pooled); given \
probabilities get cleanlab's own prune_by_noise_rate. \
The table is loaded in memory (at most --max-rows rows).

Exit codes: 0 ran (issues are reported but do not fail unless --max-issues is given), \
1 more issues than --max-issues (with --fail-on warning: any issue), 2 could not run.

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
    #[arg(long, short = 's', value_name = "SCHEMA")]
    pub schema: Option<PathBuf>,
    /// The label's domain as a list (overrides --schema's).
    #[arg(long, value_name = "A,B,..", value_delimiter = ',')]
    pub classes: Vec<String>,
    /// Columns that are not features (ids, other targets); excluded from the built-in model
    /// and the duplicate checks.
    #[arg(long, value_name = "COL,..", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Which rows count as issues (cleanlab's filter_by, or prune_by_noise_rate_pooled)
    /// [default: prune_by_noise_rate_pooled with the built-in model, cleanlab's
    /// prune_by_noise_rate with --pred-probs or --prob-columns].
    #[arg(long, value_enum, value_name = "METHOD")]
    pub filter_by: Option<FilterByChoice>,
    /// Built-in model.
    #[arg(long, value_enum, value_name = "MODEL", default_value_t = ModelChoice(Model::Auto))]
    pub model: ModelChoice,
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
    #[command(flatten)]
    pub out: OutputArgs,
}

/// The typed audit, either kind.
enum Audited {
    Model(Box<LabelAudit>),
    Annotators(Box<AnnotatorAudit>),
}

pub fn run(mut args: Args) -> Result<ExitStatus> {
    crate::inputs::read_stdin(&mut args.paths, args.input.input_format)?;
    args.out = args.out.checked("labels")?;
    let out = &args.out;
    crate::output::check_outputs(
        [out.output.as_deref(), out.html.as_deref()],
        (args.paths.iter().chain(&args.pred_probs))
            .map(std::path::Path::new)
            .chain(args.schema.as_deref()),
    )?;
    if args.folds < 2 {
        bail!("--folds must be at least 2, got {}", args.folds);
    }
    if !args.long.is_empty() && args.long.len() != 3 {
        bail!(
            "--long expects three columns ITEM,ANNOTATOR,LABEL, got {}",
            args.long.len()
        );
    }
    let (domain, schema_label) = label_domain(&args)?;
    let annotators = !args.annotators.is_empty() || !args.long.is_empty();
    if args.label.is_none() && schema_label.is_none() && !annotators {
        bail!(
            "give the label column with --label, or annotator columns with --annotators or --long"
        );
    }
    crate::inputs::require_data(&args.paths, "labels", "")?;
    let opts = args.input.to_options()?;
    let memory = opts.memory.clone();
    let data = load_table(&args.paths, opts, args.max_rows)?;
    if data.n_rows == 0 {
        bail!("{}: no rows", data.name);
    }
    let pred_probs = match &args.pred_probs {
        Some(file) => Some(
            load_table(
                std::slice::from_ref(file),
                SourceOptions {
                    memory,
                    ..SourceOptions::default()
                },
                args.max_rows,
            )
            .with_context(|| format!("--pred-probs {file}"))?,
        ),
        None => None,
    };
    let note = format!(
        "{} rows loaded in memory (cap --max-rows {})",
        data.n_rows, args.max_rows
    );
    let report = if annotators {
        let layout = match args.long.as_slice() {
            [item, annotator, label] => AnnotatorLayout::Long {
                item: item.clone(),
                annotator: annotator.clone(),
                label: label.clone(),
            },
            _ => AnnotatorLayout::Wide(args.annotators.clone()),
        };
        let spec = AnnotatorSpec {
            layout,
            gold: args.label.clone(),
            pred_probs,
            max_issues: args.max_issues,
        };
        let progress = crate::progress::Progress::spinner(format!("auditing {}", data.name));
        let mut a = annotator_audit(&data, &spec)?;
        drop(progress);
        a.notes.insert(0, note);
        Audited::Annotators(Box::new(a))
    } else {
        let Some(label) = args.label.clone().or(schema_label) else {
            bail!("--label is required");
        };
        let work = std::sync::Arc::new(preflight_stats::work::Work::default());
        let probabilities = match (pred_probs, &args.prob_columns) {
            (Some(file), _) => ProbabilitySource::File(file),
            (None, Some(glob)) => ProbabilitySource::Columns(glob.clone()),
            (None, None) => ProbabilitySource::BuiltIn {
                model: args.model.0,
                folds: args.folds,
                seed: args.seed,
                work: work.clone(),
            },
        };
        let spec = AuditSpec {
            label,
            domain,
            exclude: args.exclude.clone(),
            probabilities,
            filter_by: args.filter_by.map(|f| f.0),
            max_issues: args.max_issues,
        };
        let progress = crate::progress::Progress::steps(
            format!("auditing labels of {} ({} rows)", data.name, data.n_rows),
            work,
        );
        let mut a = audit(&data, &spec)?;
        drop(progress);
        a.notes.insert(0, note);
        Audited::Model(Box::new(a))
    };
    render(&args, &data.name, report)
}

fn to_check(c: &AuditCheck) -> Check {
    match &c.failure {
        Some((severity, message)) => Check::failed(c.column.clone(), c.kind, *severity, message),
        None => Check::passed(c.column.clone(), c.kind),
    }
}

/// Writes the audit in the asked format (and the HTML page); the exit status.
fn render(args: &Args, input: &str, mut report: Audited) -> Result<ExitStatus> {
    let out = &args.out;
    let fail_on = out.fail_on;
    let (checks, suite_note): (Vec<Check>, String) = match &report {
        Audited::Model(a) => (a.checks.iter().map(to_check).collect(), String::new()),
        Audited::Annotators(a) => (
            a.checks.iter().map(to_check).collect(),
            format!(" (consensus by {})", a.consensus_method.as_str()),
        ),
    };
    let status = checks::status(&checks, fail_on);
    match &mut report {
        Audited::Model(a) => a.passed = status == ExitStatus::Success,
        Audited::Annotators(a) => a.passed = status == ExitStatus::Success,
    }
    let audit = match &report {
        Audited::Model(a) => Audit::Model(a),
        Audited::Annotators(a) => Audit::Annotators(a),
    };
    let format = out.format();
    let suite = format!("labels {input}{suite_note}");
    emit(out.output.as_deref(), |w| {
        if checks::render(w, format, &suite, input, &checks, fail_on)? {
            return Ok(());
        }
        match (format, audit) {
            (CheckFormat::Json, Audit::Model(a)) => write_json(w, a),
            (CheckFormat::Json, Audit::Annotators(a)) => write_json(w, a),
            (_, audit) => {
                let table = match audit {
                    Audit::Model(a) => crate::render::labels::model_table(a, &checks, fail_on),
                    Audit::Annotators(a) => {
                        crate::render::labels::annotator_table(a, &checks, fail_on)
                    }
                };
                std::io::Write::write_all(&mut crate::display::Escaping::new(w), table.as_bytes())?;
                Ok(())
            }
        }
    })?;
    if let Some(path) = &out.html {
        let page = crate::html::labels::page(suite, input, audit, &checks, fail_on);
        crate::html::write(path, &page)?;
    }
    Ok(status)
}

/// The label's declared classes (--classes, or the schema's domain of the label), and the
/// schema's label feature when --label was not given.
fn label_domain(args: &Args) -> Result<(Option<LabelDomain>, Option<String>)> {
    let label = if let Some(path) = &args.schema {
        let schema = preflight_schema::Schema::load(path)?;
        let feature = match &args.label {
            Some(l) => schema.feature(l).with_context(|| {
                format!(
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
            let domain = LabelDomain {
                values: d.values.iter().map(|v| v.text()).collect(),
                source: path.display().to_string(),
            };
            return Ok((Some(domain), name));
        }
        name
    } else {
        None
    };
    if args.classes.is_empty() {
        return Ok((None, label));
    }
    let values: Vec<String> = args.classes.iter().map(|c| c.trim().to_string()).collect();
    if values.iter().any(String::is_empty) {
        bail!(
            "--classes: empty class name in {:?}",
            args.classes.join(",")
        );
    }
    let domain = LabelDomain {
        values,
        source: "--classes".into(),
    };
    Ok((Some(domain), label))
}
