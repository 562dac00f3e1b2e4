//! The label audit of one labelled table, end to end: class discovery, the label's domain,
//! probabilities (given as a file, as columns of the table, or from the built-in model
//! trained out of sample), label-leak detection, confident learning, conflicting exact and
//! near duplicates, class imbalance and null labels. [`audit`] returns a typed
//! [`LabelAudit`] whose serde form is the `labels --format json` document
//! (schemas/labels.schema.json).
//!
//! Reading files is the caller's: the table (and a probability file) come in as
//! [`Table`]s, record batches in input order, so row numbers mean what DESIGN.md says.
//!
//! Struct fields are declared in alphabetical order: that is the document's key order
//! (serde_json's maps are sorted), so serialising the structs directly gives the same bytes
//! as the document always had.

use std::collections::{BTreeMap, HashSet};

use arrow::array::RecordBatch;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::features::{RawColumn, decode_column, decode_labels, encode, row_hashes, sort_classes};
use super::model::{
    Candidate, FOREST_MAX_ROWS, KNN_MAX_ROWS, Model, out_of_sample_probabilities_with,
};

/// What `auto` uses (the document's `probabilities.chosen_by`).
pub const CHOSEN_BY: &str = "the mean of every model run (k-NN, logistic regression and, up to 10,000 rows, the random forest); the candidates' out-of-sample log losses of the given labels are evidence for forcing one with --model";
use super::{
    ConfidentLearningOptions, ConflictReport, DEFAULT_ROW_SUM_TOLERANCE, FilterBy, LabelError,
    ProbMatrix, ScoreMethod, TypoRule, check_class_count, class_imbalance, conflicting_labels,
    find_label_issues, typo_classes,
};
use crate::Severity;

/// Version of the `labels --format json` document (schemas/labels.schema.json).
pub const JSON_VERSION: &str = "1";
/// A categorical feature that agrees with the label on this share of rows, one value per
/// class, is another encoding of the label (e.g. `target` next to `target_name`).
pub const LABEL_COPY_AGREEMENT: f64 = 0.8;
/// Near duplicates: closer than this times the median nearest-neighbour distance
/// (cleanlab Datalab's near-duplicate rule).
pub const NEAR_DUPLICATE_FACTOR: f64 = 0.13;
const NEAR_DUPLICATE_RULE: &str = "standardised Euclidean distance to one of the 10 nearest rows <= 0.13 x the median positive nearest-neighbour distance";

/// A table held in memory: its record batches in input order and its column names.
#[derive(Debug, Clone)]
pub struct Table {
    /// What the table is called in messages and in the document's `input` (its paths).
    pub name: String,
    pub batches: Vec<RecordBatch>,
    pub columns: Vec<String>,
    pub n_rows: usize,
}

impl Table {
    /// Wraps `batches` (all with one schema); the columns are the first batch's.
    pub fn new(name: impl Into<String>, batches: Vec<RecordBatch>) -> Self {
        let n_rows = batches.iter().map(RecordBatch::num_rows).sum();
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
        Self {
            name: name.into(),
            batches,
            columns,
            n_rows,
        }
    }

    /// Errors unless column `col` exists; `flag` says which option named it.
    pub fn require_column(&self, col: &str, flag: &str) -> Result<(), AuditError> {
        if !self.columns.iter().any(|c| c == col) {
            return Err(AuditError::Invalid(format!(
                "{}: {flag} column {col:?} not found (columns: {})",
                self.name,
                self.columns.join(", ")
            )));
        }
        Ok(())
    }

    pub(crate) fn labels(&self, col: &str) -> Result<Vec<Option<String>>, AuditError> {
        decode_labels(&self.batches, col)
            .map_err(|e| AuditError::Invalid(format!("{}: {e}", self.name)))
    }

    pub(crate) fn column(&self, col: &str) -> Result<Option<RawColumn>, AuditError> {
        decode_column(&self.batches, col)
            .map_err(|e| AuditError::Invalid(format!("{}: {e}", self.name)))
    }
}

/// Why an audit could not run. Messages name the input and, where there is one, the row
/// (as a field: [`AuditError::MissingProbability`], [`AuditError::NotANumber`], and the
/// rows inside [`LabelError`], already mapped to the input's row numbers).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The input does not fit the spec (a column not found, too few classes, ...); the
    /// message says how.
    #[error("{0}")]
    Invalid(String),
    /// A label statistic rejected the input named by `input`.
    #[error("{input}")]
    Label {
        input: String,
        #[source]
        source: LabelError,
    },
    /// A label statistic rejected its input (no file to name).
    #[error(transparent)]
    Stats(#[from] LabelError),
    /// An empty cell where a probability belongs.
    #[error("{input}: row {row}, column {column:?}: probability is missing")]
    MissingProbability {
        input: String,
        row: usize,
        column: String,
    },
    /// Text that is not a number in a probability column.
    #[error("{input}: row {row}, column {column:?}: {value:?} is not a number")]
    NotANumber {
        input: String,
        row: usize,
        column: String,
        value: String,
    },
}

impl AuditError {
    pub(crate) fn label(input: &str) -> impl FnOnce(LabelError) -> Self + '_ {
        move |source| Self::Label {
            input: input.to_string(),
            source,
        }
    }
}

/// The declared classes of the label (a list, or a schema's domain of the label).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelDomain {
    pub values: Vec<String>,
    /// Where the values come from (`--classes` or the schema file), for messages.
    pub source: String,
}

/// Where the audit's probabilities come from.
#[derive(Debug, Clone)]
pub enum ProbabilitySource {
    /// The built-in model, trained out of sample on the other columns.
    BuiltIn {
        model: Model,
        folds: usize,
        seed: u64,
        /// How far the model has got (for a progress line).
        work: std::sync::Arc<crate::work::Work>,
    },
    /// A table with one row per data row and one numeric column per class (named as the
    /// classes, or in sorted class order).
    File(Table),
    /// Columns of the data matched by a glob (`p_*`); the part matched by `*` names the
    /// class, else the columns are taken in sorted class order.
    Columns(String),
}

/// The built-in model's filter when none is asked for (see
/// [`ProbabilitySource::default_filter`]).
pub const BUILT_IN_FILTER: FilterBy = FilterBy::PruneByNoiseRatePooled;

impl ProbabilitySource {
    /// The filter used when none is asked for: given probabilities get cleanlab's default
    /// (`prune_by_noise_rate`, so that the rows are cleanlab's), the built-in model
    /// [`FilterBy::PruneByNoiseRatePooled`] (measured better for it: see there).
    pub fn default_filter(&self) -> FilterBy {
        match self {
            Self::BuiltIn { .. } => BUILT_IN_FILTER,
            Self::File(_) | Self::Columns(_) => FilterBy::PruneByNoiseRate,
        }
    }
}

/// What to audit and how.
#[derive(Debug, Clone)]
pub struct AuditSpec {
    /// The label column.
    pub label: String,
    /// Labels outside it are `label_out_of_domain` issues, left out of the model.
    pub domain: Option<LabelDomain>,
    /// Columns that are not features (ids, other targets).
    pub exclude: Vec<String>,
    pub probabilities: ProbabilitySource,
    /// Which rows count as issues; `None`: [`ProbabilitySource::default_filter`].
    pub filter_by: Option<FilterBy>,
    /// More issues than this fail the `label_issues` check (an error); `None`: never.
    pub max_issues: Option<usize>,
}

/// One thing the audit checked, for a front end's verdict and CI formats.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditCheck {
    /// The label column, or `None` for table-level checks.
    pub column: Option<String>,
    /// Stable snake_case name (`likely_mislabelled`, `null_labels`, ...).
    pub kind: &'static str,
    /// `None` when the check passed.
    pub failure: Option<(Severity, String)>,
}

impl AuditCheck {
    fn passed(column: Option<&str>, kind: &'static str) -> Self {
        Self {
            column: column.map(str::to_string),
            kind,
            failure: None,
        }
    }

    fn failed(
        column: Option<&str>,
        kind: &'static str,
        severity: Severity,
        message: String,
    ) -> Self {
        Self {
            column: column.map(str::to_string),
            kind,
            failure: Some((severity, message)),
        }
    }
}

/// Why a row is a label issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueReason {
    /// Flagged by confident learning.
    LowConfidence,
    /// In a group of identical feature rows, labelled unlike the group's vote.
    ConflictingDuplicate,
    /// Nearly identical to a row with another label, and the less believed of the two.
    ConflictingNearDuplicate,
    /// A label outside the declared domain.
    LabelOutOfDomain,
    /// Without a domain: a label whose class is probably a misspelling of a larger class
    /// (`label_typo_class`); `suggested` is that class unless the model believes another.
    TypoClass,
    /// A gold label unlike the annotators' consensus.
    GoldDisagreesWithConsensus,
}

impl IssueReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LowConfidence => "low_confidence",
            Self::ConflictingDuplicate => "conflicting_duplicate",
            Self::ConflictingNearDuplicate => "conflicting_near_duplicate",
            Self::LabelOutOfDomain => "label_out_of_domain",
            Self::TypoClass => "typo_class",
            Self::GoldDisagreesWithConsensus => "gold_disagrees_with_consensus",
        }
    }
}

/// The `labels --format json` document of a labelled table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelAudit {
    pub class_imbalance: ImbalanceSummary,
    pub classes: Vec<String>,
    pub duplicates: Duplicates,
    /// Columns not used as features, with the reason.
    pub excluded_columns: Vec<ExcludedColumn>,
    pub filter_by: FilterBy,
    pub health: Health,
    pub input: String,
    pub label: String,
    pub label_domain: Option<DomainSummary>,
    /// Out-of-domain labels first (score 0), then the others, lowest score first.
    pub label_issues: Vec<LabelIssue>,
    pub max_issues: Option<usize>,
    pub n_issues: usize,
    pub n_labelled: usize,
    pub n_rows: usize,
    pub near_duplicates: NearDuplicates,
    pub noise: Noise,
    pub notes: Vec<String>,
    pub null_labels: NullLabels,
    /// No check failed with an error (only `max_issues` can).
    pub passed: bool,
    pub probabilities: Probabilities,
    /// The score issues are ranked by.
    pub score: ScoreMethod,
    /// Without a domain: classes that are probably misspellings of a larger class, merged
    /// into it (see [`Labelled`]); empty with a domain (they are out of the domain then).
    pub typo_classes: Vec<TypoClassSummary>,
    pub version: &'static str,
    /// The checks behind `passed`, in order (not part of the document).
    #[serde(skip)]
    pub checks: Vec<AuditCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImbalanceSummary {
    pub counts: Vec<ClassCount>,
    pub imbalance_ratio: Option<f64>,
    pub imbalanced: bool,
    pub rarest_class: String,
    pub rarest_share: f64,
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassCount {
    pub class: String,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Duplicates {
    pub conflicting_groups: Vec<DuplicateGroup>,
    pub n_duplicate_groups: usize,
    pub n_rows_in_conflict: usize,
}

/// Identical feature rows with different labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateGroup {
    /// The distinct labels among them.
    pub labels: Vec<String>,
    pub rows: Vec<usize>,
    /// The group's vote: the most frequent label, ties by the summed probabilities.
    pub suggested: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExcludedColumn {
    pub column: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub issue_share: f64,
    /// The estimated joint's diagonal sum: the share of rows believed correctly labelled.
    pub label_health_score: f64,
    pub mean_self_confidence: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainSummary {
    /// Rows with a label outside the domain.
    pub count: usize,
    pub rows: Vec<usize>,
    pub source: String,
    /// The unexpected values, most frequent first.
    pub unexpected: Vec<UnexpectedValue>,
    pub values: Vec<String>,
}

/// A class that is probably a misspelling of `suggested` (`label_typo_class`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypoClassSummary {
    pub class: String,
    pub count: usize,
    /// Damerau-Levenshtein distance between the normalised names (0: they differ only in
    /// case, blanks or Unicode form).
    pub distance: usize,
    pub rows: Vec<usize>,
    pub rule: TypoRule,
    pub suggested: String,
}

/// Rows without a label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NullLabels {
    pub count: usize,
    pub rows: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnexpectedValue {
    pub count: usize,
    pub rows: Vec<usize>,
    pub value: String,
}

/// One row of the ranked issue list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelIssue {
    pub given: String,
    /// The first of `reasons`.
    pub reason: IssueReason,
    pub reasons: Vec<IssueReason>,
    pub row: usize,
    pub score: f64,
    /// `None` for an out-of-domain label with no domain value close to it.
    pub suggested: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearDuplicates {
    /// Whether the k-NN graph was built (the built-in k-NN model ran).
    pub checked: bool,
    pub conflicting_pairs: Vec<NearPair>,
    pub rule: &'static str,
    pub threshold: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearPair {
    pub distance: f64,
    pub labels: [String; 2],
    pub rows: [usize; 2],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Noise {
    /// The estimated joint of (given, true) labels, `[given][true]`.
    pub joint: Vec<Vec<f64>>,
    /// Off-diagonal cells above 0, largest first.
    pub pairs: Vec<NoisePair>,
    pub per_class: Vec<ClassNoise>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoisePair {
    pub given: String,
    pub rate: f64,
    #[serde(rename = "true")]
    pub true_label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassNoise {
    pub class: String,
    pub count: usize,
    pub estimated_noise_rate: f64,
    pub issues: usize,
    pub share: f64,
}

/// Where the probabilities came from, as the document's `probabilities` object.
#[derive(Debug, Clone, PartialEq)]
pub enum Probabilities {
    BuiltIn {
        /// The concrete model (never `auto`).
        model: Model,
        /// `None` for leave-one-out k-NN.
        folds: Option<usize>,
        seed: u64,
        /// Encoded feature columns.
        features: usize,
        /// For `auto`: each candidate's out-of-sample evidence (see
        /// [`super::model::Candidate`]); empty otherwise.
        candidates: Vec<Candidate>,
    },
    PredProbs {
        file: String,
    },
    ProbColumns {
        columns: Vec<String>,
    },
}

impl Probabilities {
    pub fn source(&self) -> &'static str {
        match self {
            Self::BuiltIn { .. } => "built_in",
            Self::PredProbs { .. } => "pred_probs",
            Self::ProbColumns { .. } => "prob_columns",
        }
    }
}

impl Serialize for Probabilities {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Keys in sorted order, `source` among them.
        let mut m = s.serialize_map(None)?;
        match self {
            Self::BuiltIn {
                model,
                folds,
                seed,
                features,
                candidates,
            } => {
                if !candidates.is_empty() {
                    // Why `auto` chose its model.
                    let c: Vec<serde_json::Value> = candidates
                        .iter()
                        .map(|c| {
                            serde_json::json!({
                                "model": c.model,
                                "log_loss": c.log_loss,
                                "vs_logistic": c.vs_logistic,
                                "vs_logistic_se": c.vs_logistic_se,
                            })
                        })
                        .collect();
                    m.serialize_entry("candidates", &c)?;
                    m.serialize_entry("chosen_by", CHOSEN_BY)?;
                }
                m.serialize_entry("features", features)?;
                m.serialize_entry("folds", folds)?;
                m.serialize_entry("model", model)?;
                m.serialize_entry("seed", seed)?;
            }
            Self::PredProbs { file } => m.serialize_entry("file", file)?,
            Self::ProbColumns { columns } => m.serialize_entry("columns", columns)?,
        }
        m.serialize_entry("source", self.source())?;
        m.end()
    }
}

pub(crate) fn round6(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1e6).round() / 1e6
    } else {
        x
    }
}

/// Finite values rounded to 6 digits; NaN and infinities as `None` (JSON null).
pub(crate) fn opt_num(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite()).map(round6)
}

/// Up to ten rows, then the count.
pub(crate) fn rows_text(rows: &[usize]) -> String {
    let shown: Vec<String> = rows.iter().take(10).map(usize::to_string).collect();
    if rows.len() > 10 {
        format!("{}, ... ({} rows)", shown.join(", "), rows.len())
    } else {
        shown.join(", ")
    }
}

/// The issue-count check: an error above `max_issues`, else a warning when there are any.
pub(crate) fn count_check(n_issues: usize, max_issues: Option<usize>, what: &str) -> AuditCheck {
    match max_issues {
        Some(max) if n_issues > max => AuditCheck::failed(
            None,
            "label_issues",
            Severity::Error,
            format!("{n_issues} {what}, more than --max-issues {max}"),
        ),
        _ if n_issues > 0 => AuditCheck::failed(
            None,
            "label_issues",
            Severity::Warning,
            format!("{n_issues} {what}"),
        ),
        _ => AuditCheck::passed(None, "label_issues"),
    }
}

pub(crate) fn no_errors(checks: &[AuditCheck]) -> bool {
    !checks
        .iter()
        .any(|c| matches!(c.failure, Some((Severity::Error, _))))
}

/// An issue being collected: positions among the labelled rows.
struct Issue {
    row: usize,
    given: usize,
    suggested: usize,
    score: f64,
    reasons: Vec<IssueReason>,
}

/// Audits the labels of `table` as `spec` says: the rows likely mislabelled (confident
/// learning on out-of-sample probabilities), conflicting exact and near duplicates, labels
/// outside the domain, class imbalance and null labels. Row numbers in the result and in
/// errors are the table's (0-based, input order).
pub fn audit(table: &Table, spec: &AuditSpec) -> Result<LabelAudit, AuditError> {
    let name = table.name.as_str();
    let label_col = spec.label.as_str();
    let domain = spec.domain.as_ref();
    table.require_column(label_col, "--label")?;
    for c in &spec.exclude {
        table.require_column(c, "--exclude")?;
    }
    let mut notes: Vec<String> = Vec::new();
    let lab = read_labels(table, label_col, domain)?;
    let (classes, labels, kept) = (&lab.classes, &lab.labels, &lab.kept);
    let (n, k) = (labels.len(), classes.len());
    let prob_cols = match &spec.probabilities {
        ProbabilitySource::Columns(pattern) => {
            match_prob_columns(table, pattern, &lab.source_classes, &mut notes)?
        }
        _ => Vec::new(),
    };
    let (raw, mut excluded) = feature_columns(table, spec, &prob_cols, &lab)?;
    let probs = probabilities(
        table,
        spec,
        &lab,
        &prob_cols,
        &raw,
        &mut excluded,
        &mut notes,
    )?;
    let pm = ProbMatrix::new(&probs.probs, n, k).map_err(AuditError::label(name))?;
    let filter_by = (spec.filter_by).unwrap_or_else(|| spec.probabilities.default_filter());
    let options = ConfidentLearningOptions {
        filter_by,
        ..ConfidentLearningOptions::default()
    };
    let source_name = match &spec.probabilities {
        ProbabilitySource::File(file) => file.name.as_str(),
        _ => name,
    };
    // Rows given to confident learning are positions among the labelled rows; an error
    // names the input's row.
    let cl = find_label_issues(labels, pm, &options).map_err(|e| AuditError::Label {
        input: source_name.to_string(),
        source: e.map_row(|r| kept.get(r).copied().unwrap_or(r)),
    })?;

    // Model-free checks.
    let raw_refs: Vec<&RawColumn> = raw.iter().map(|(_, c)| c).collect();
    let conflicts = if raw_refs.is_empty() {
        None
    } else {
        let hashes = row_hashes(&raw_refs, n);
        Some(conflicting_labels(&hashes, labels)?)
    };
    let imbalance = class_imbalance(labels, k)?;

    let mut issues: BTreeMap<usize, Issue> = BTreeMap::new();
    for &r in &cl.ranked_issues {
        issues.insert(
            r,
            Issue {
                row: kept[r],
                given: labels[r],
                suggested: cl.suggested_label[r],
                score: cl.scores[r],
                reasons: vec![IssueReason::LowConfidence],
            },
        );
    }
    let dup_groups = match &conflicts {
        Some(report) => vote_duplicates(report, &lab, pm, &cl.scores, &mut issues),
        None => Vec::new(),
    };
    let (near, near_threshold) = match &probs.neighbours {
        Some(nb) => near_duplicates(nb, conflicts.as_ref(), &lab, pm, &cl.scores, &mut issues),
        None => (Vec::new(), None),
    };
    // Rows of typo classes are issues whatever the model says; what it says is kept.
    let mut typo_issues: Vec<LabelIssue> = Vec::new();
    for (r, t) in lab.typo_of.iter().enumerate() {
        let Some(t) = *t else { continue };
        let model = issues.remove(&r);
        let mut reasons = vec![IssueReason::TypoClass];
        let mut suggested = lab.typos[t].suggested.clone();
        if let Some(m) = model {
            reasons.extend(m.reasons);
            suggested = classes[m.suggested].clone();
        }
        typo_issues.push(LabelIssue {
            row: kept[r],
            given: lab.typos[t].class.clone(),
            suggested: Some(suggested),
            score: 0.0,
            reason: IssueReason::TypoClass,
            reasons,
        });
    }
    let mut ranked: Vec<Issue> = issues.into_values().collect();
    ranked.sort_by(|a, b| a.score.total_cmp(&b.score).then(a.row.cmp(&b.row)));

    // Unexpected values with their counts and rows, most frequent first.
    let mut unexpected: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in &lab.out_of_domain {
        if let Some(l) = lab.raw[i].as_deref() {
            unexpected.entry(l).or_default().push(i);
        }
    }
    let mut unexpected: Vec<(&str, Vec<usize>)> = unexpected.into_iter().collect();
    unexpected.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));

    let n_issues = ranked.len() + typo_issues.len() + lab.null_rows.len() + lab.out_of_domain.len();
    let checks = model_checks(&ModelCheckInput {
        label_col,
        n_issues,
        max_issues: spec.max_issues,
        ranked: &ranked,
        conflicts: conflicts
            .as_ref()
            .map(|c| (c.groups.len(), c.n_rows_in_conflict)),
        imbalance: (
            imbalance.is_imbalanced,
            &classes[imbalance.rarest_class],
            imbalance.rarest_share,
            imbalance.threshold,
        ),
        domain,
        out_of_domain: &lab.out_of_domain,
        unexpected: &unexpected,
        typos: domain.is_none().then_some(lab.typos.as_slice()),
        null_rows: &lab.null_rows,
    });

    // Out-of-domain labels are certainly wrong: score 0, first.
    let mut label_issues: Vec<LabelIssue> = lab
        .out_of_domain
        .iter()
        .map(|&i| {
            let given = lab.raw[i].clone().unwrap_or_default();
            LabelIssue {
                row: i,
                suggested: domain.and_then(|d| closest_domain_value(&given, &d.values)),
                given,
                score: 0.0,
                reason: IssueReason::LabelOutOfDomain,
                reasons: vec![IssueReason::LabelOutOfDomain],
            }
        })
        .collect();
    // Then typo classes' rows (also certain: a misspelt class), then the model's.
    label_issues.extend(typo_issues.iter().cloned());
    label_issues.extend(ranked.iter().map(|i| {
        LabelIssue {
            row: i.row,
            given: classes[i.given].clone(),
            suggested: Some(classes[i.suggested].clone()),
            score: round6(i.score),
            reason: i
                .reasons
                .first()
                .copied()
                .unwrap_or(IssueReason::LowConfidence),
            reasons: i.reasons.clone(),
        }
    }));
    let health = cl.joint.iter().enumerate().map(|(c, r)| r[c]).sum::<f64>();
    Ok(LabelAudit {
        version: JSON_VERSION,
        input: table.name.clone(),
        label: label_col.to_string(),
        n_rows: table.n_rows,
        n_labelled: n,
        probabilities: probs.info,
        filter_by,
        score: cl.rank_by,
        n_issues,
        max_issues: spec.max_issues,
        passed: no_errors(&checks),
        label_issues,
        noise: noise(&cl.joint, &lab, &ranked),
        health: Health {
            label_health_score: round6(health),
            issue_share: round6((ranked.len() + typo_issues.len()) as f64 / n as f64),
            mean_self_confidence: round6(
                (0..n).map(|r| pm.row(r)[labels[r]]).sum::<f64>() / n as f64,
            ),
        },
        duplicates: Duplicates {
            conflicting_groups: dup_groups,
            n_duplicate_groups: conflicts.as_ref().map_or(0, |c| c.n_duplicate_groups),
            n_rows_in_conflict: conflicts.as_ref().map_or(0, |c| c.n_rows_in_conflict),
        },
        near_duplicates: NearDuplicates {
            rule: NEAR_DUPLICATE_RULE,
            threshold: opt_num(near_threshold),
            checked: probs.neighbours.is_some(),
            conflicting_pairs: near,
        },
        class_imbalance: ImbalanceSummary {
            counts: classes
                .iter()
                .zip(&lab.counts)
                .map(|(c, &n)| ClassCount {
                    class: c.clone(),
                    count: n,
                })
                .collect(),
            rarest_class: classes[imbalance.rarest_class].clone(),
            rarest_share: round6(imbalance.rarest_share),
            threshold: round6(imbalance.threshold),
            imbalance_ratio: opt_num(imbalance.imbalance_ratio),
            imbalanced: imbalance.is_imbalanced,
        },
        label_domain: domain.map(|d| DomainSummary {
            source: d.source.clone(),
            values: d.values.clone(),
            count: lab.out_of_domain.len(),
            rows: lab.out_of_domain.clone(),
            unexpected: unexpected
                .iter()
                .map(|(v, rows)| UnexpectedValue {
                    value: (*v).to_string(),
                    count: rows.len(),
                    rows: rows.clone(),
                })
                .collect(),
        }),
        null_labels: NullLabels {
            count: lab.null_rows.len(),
            rows: lab.null_rows.clone(),
        },
        excluded_columns: excluded,
        notes,
        typo_classes: lab.typos.clone(),
        classes: lab.classes.clone(),
        checks,
    })
}

/// The label column read and split into null labels, labels outside the domain, and the
/// rows the model sees (labelled, in the domain) with their class ids.
///
/// Typo classes (no domain only; [`typo_classes`]) are MERGED into the class they are
/// probably a misspelling of: their rows keep their place among the kept rows but carry the
/// suggested class's id, and given probabilities of the typo class are added to the
/// suggested class's. Why merge rather than leave them out (as out-of-domain rows are):
/// without a domain we only call a class a typo when we have a specific class to suggest,
/// so the rows most likely belong to it; merging keeps them (a case variant such as
/// `"ADELIE"` can hold many rows), keeps given probability files usable (their columns
/// still sum to 1 after adding two of them), and still lets confident learning judge each
/// row under the suggested class (a typo row that is really another species is flagged
/// `low_confidence` as well). Either way the typo class no longer counts as a class, which
/// is what kept a single `"adelie "` row from inflating Adelie's estimated noise (issue 18).
struct Labelled {
    /// The label of every input row.
    raw: Vec<Option<String>>,
    null_rows: Vec<usize>,
    out_of_domain: Vec<usize>,
    /// The input rows the model sees, in order; position `r` among them is "row `r`" for
    /// the statistics.
    kept: Vec<usize>,
    /// Sorted (numerically when every class is a number).
    classes: Vec<String>,
    /// Class id of each kept row.
    labels: Vec<usize>,
    /// Kept rows per class.
    counts: Vec<usize>,
    /// The classes as written in the data (typo classes included), sorted: what given
    /// probability columns are matched against. Equal to `classes` without typo classes.
    source_classes: Vec<String>,
    /// `source_classes[s]` is merged into `classes[class_of_source[s]]`.
    class_of_source: Vec<usize>,
    /// The typo classes, by name.
    typos: Vec<TypoClassSummary>,
    /// For each kept position, the index in `typos` of its class, if a typo class.
    typo_of: Vec<Option<usize>>,
}

fn read_labels(
    table: &Table,
    label_col: &str,
    domain: Option<&LabelDomain>,
) -> Result<Labelled, AuditError> {
    let name = &table.name;
    let raw = table.labels(label_col)?;
    let null_rows: Vec<usize> = (0..table.n_rows).filter(|&i| raw[i].is_none()).collect();
    // Labels outside the declared domain are issues, and left out of the model like nulls:
    // a typo is not a class.
    let in_domain = |l: &str| domain.is_none_or(|d| d.values.iter().any(|v| v == l));
    let out_of_domain: Vec<usize> = (0..table.n_rows)
        .filter(|&i| raw[i].as_deref().is_some_and(|l| !in_domain(l)))
        .collect();
    let kept: Vec<usize> = (0..table.n_rows)
        .filter(|&i| raw[i].as_deref().is_some_and(in_domain))
        .collect();
    let mut classes: Vec<String> = kept.iter().filter_map(|&i| raw[i].clone()).collect();
    classes.sort();
    classes.dedup();
    sort_classes(&mut classes);
    let k = classes.len();
    if k < 2 {
        return Err(AuditError::Invalid(format!(
            "{name}: label column {label_col:?} has {} class{} ({}); a label audit needs at least 2",
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
        )));
    }
    // Before anything of size classes x classes (or rows x classes) is allocated.
    check_class_count(k, kept.len())
        .map_err(|e| AuditError::Invalid(format!("{name}: label column '{label_col}' has {e}")))?;
    let class_of = |s: &str| classes.iter().position(|c| c == s).unwrap_or(0);
    let source_labels: Vec<usize> = kept
        .iter()
        .map(|&i| raw[i].as_deref().map_or(0, class_of))
        .collect();
    let mut source_counts = vec![0usize; k];
    for &y in &source_labels {
        source_counts[y] += 1;
    }
    let source_classes = classes;
    let matches = if domain.is_none() {
        typo_classes(&source_classes, &source_counts)
    } else {
        Vec::new()
    };
    // Merging must leave a choice of two classes, else the audit could not run at all.
    let matches = if k - matches.len() >= 2 {
        matches
    } else {
        Vec::new()
    };
    let mut typo_index: Vec<Option<usize>> = vec![None; k];
    for (t, m) in matches.iter().enumerate() {
        typo_index[m.class] = Some(t);
    }
    let classes: Vec<String> = (0..k)
        .filter(|&c| typo_index[c].is_none())
        .map(|c| source_classes[c].clone())
        .collect();
    let mut class_of_source: Vec<usize> = Vec::with_capacity(k);
    let mut next = 0;
    for t in &typo_index {
        class_of_source.push(next);
        if t.is_none() {
            next += 1;
        }
    }
    for m in &matches {
        class_of_source[m.class] = class_of_source[m.suggested];
    }
    let labels: Vec<usize> = source_labels.iter().map(|&s| class_of_source[s]).collect();
    let mut counts = vec![0usize; classes.len()];
    for &y in &labels {
        counts[y] += 1;
    }
    let typo_of: Vec<Option<usize>> = source_labels.iter().map(|&s| typo_index[s]).collect();
    let typos: Vec<TypoClassSummary> = matches
        .iter()
        .map(|m| TypoClassSummary {
            class: source_classes[m.class].clone(),
            count: source_counts[m.class],
            distance: m.distance,
            rows: (0..kept.len())
                .filter(|&r| source_labels[r] == m.class)
                .map(|r| kept[r])
                .collect(),
            rule: m.rule,
            suggested: source_classes[m.suggested].clone(),
        })
        .collect();
    Ok(Labelled {
        raw,
        null_rows,
        out_of_domain,
        kept,
        classes,
        labels,
        counts,
        source_classes,
        class_of_source,
        typos,
        typo_of,
    })
}

/// Adds the probability columns of typo classes to those of the classes they merge into:
/// `p` has one row per kept row and one column per source class.
fn merge_typo_columns(p: Vec<f64>, lab: &Labelled) -> Vec<f64> {
    if lab.typos.is_empty() {
        return p;
    }
    let (ks, k) = (lab.source_classes.len(), lab.classes.len());
    let mut out = vec![0.0; lab.kept.len() * k];
    for (src, dst) in p.chunks_exact(ks).zip(out.chunks_exact_mut(k)) {
        for (s, &v) in src.iter().enumerate() {
            dst[lab.class_of_source[s]] += v;
        }
    }
    out
}

/// Named columns restricted to the kept rows.
type FeatureColumns = Vec<(String, RawColumn)>;

/// The feature columns (all but the label, the excluded and the probability columns) on
/// the kept rows, and the columns left out with the reason: types that cannot be features,
/// and copies of the label (which would leak it into the model).
fn feature_columns(
    table: &Table,
    spec: &AuditSpec,
    prob_cols: &[String],
    lab: &Labelled,
) -> Result<(FeatureColumns, Vec<ExcludedColumn>), AuditError> {
    let mut not_features: Vec<&str> = vec![spec.label.as_str()];
    not_features.extend(spec.exclude.iter().map(String::as_str));
    not_features.extend(prob_cols.iter().map(String::as_str));
    let mut raw: Vec<(String, RawColumn)> = Vec::new();
    let mut excluded: Vec<ExcludedColumn> = Vec::new();
    for c in table
        .columns
        .iter()
        .filter(|c| !not_features.contains(&c.as_str()))
    {
        match table.column(c)? {
            Some(col) => {
                let col = filter_rows(&col, &lab.kept);
                if let Some(agree) = label_copy(&col, &lab.labels, lab.classes.len()) {
                    excluded.push(ExcludedColumn {
                        column: c.clone(),
                        reason: format!(
                            "another encoding of the label ({:.1}% of rows map one-to-one); pass it to --exclude to silence this",
                            agree * 100.0
                        ),
                    });
                    continue;
                }
                raw.push((c.clone(), col));
            }
            None => excluded.push(ExcludedColumn {
                column: c.clone(),
                reason: "type not usable as a feature".into(),
            }),
        }
    }
    Ok((raw, excluded))
}

/// The kept rows' probabilities (row-major, kept rows x classes) and where they came from.
struct ModelProbs {
    probs: Vec<f64>,
    info: Probabilities,
    /// The built-in k-NN's neighbours, for the near-duplicate check.
    neighbours: Option<Vec<Vec<(usize, f64)>>>,
}

fn probabilities(
    table: &Table,
    spec: &AuditSpec,
    lab: &Labelled,
    prob_cols: &[String],
    raw: &[(String, RawColumn)],
    excluded: &mut Vec<ExcludedColumn>,
    notes: &mut Vec<String>,
) -> Result<ModelProbs, AuditError> {
    let name = table.name.as_str();
    let (kept, classes, labels, counts) = (&lab.kept, &lab.classes, &lab.labels, &lab.counts);
    let (n, k) = (labels.len(), classes.len());
    match &spec.probabilities {
        ProbabilitySource::File(file) => {
            let ks = lab.source_classes.len();
            let p = pred_probs_rows(file, &lab.source_classes, table.n_rows, notes)?;
            let p = kept
                .iter()
                .flat_map(|&i| p[i * ks..(i + 1) * ks].to_vec())
                .collect();
            Ok(ModelProbs {
                probs: merge_typo_columns(p, lab),
                info: Probabilities::PredProbs {
                    file: file.name.clone(),
                },
                neighbours: None,
            })
        }
        ProbabilitySource::Columns(_) => {
            let ks = lab.source_classes.len();
            let mut p = vec![0.0; n * ks];
            for (c, col_name) in prob_cols.iter().enumerate() {
                let col = match table.column(col_name)? {
                    Some(RawColumn::Numeric(v)) => v,
                    _ => {
                        return Err(AuditError::Invalid(format!(
                            "{name}: probability column {col_name:?} is not numeric"
                        )));
                    }
                };
                for (r, &i) in kept.iter().enumerate() {
                    match col[i] {
                        Some(v) => p[r * ks + c] = v,
                        None => {
                            return Err(AuditError::MissingProbability {
                                input: name.to_string(),
                                row: i,
                                column: col_name.clone(),
                            });
                        }
                    }
                }
            }
            Ok(ModelProbs {
                probs: merge_typo_columns(p, lab),
                info: Probabilities::ProbColumns {
                    columns: prob_cols.to_vec(),
                },
                neighbours: None,
            })
        }
        ProbabilitySource::BuiltIn {
            model,
            folds,
            seed,
            work,
        } => {
            let (model, folds, seed) = (*model, *folds, *seed);
            if raw.is_empty() {
                return Err(AuditError::Invalid(format!(
                    "{name}: no feature columns besides the label {:?}; give probabilities with --pred-probs or --prob-columns",
                    spec.label
                )));
            }
            let x = encode(raw, n).map_err(AuditError::label(name))?;
            for (c, why) in &x.skipped {
                excluded.push(ExcludedColumn {
                    column: c.clone(),
                    reason: why.clone(),
                });
            }
            // Fold fallback: stratified folds need a row of every class in each fold.
            let smallest = counts.iter().copied().min().unwrap_or(0);
            let mut used_folds = folds;
            let uses_folds = model.resolve(n) != Model::Knn;
            if uses_folds && smallest < folds {
                used_folds = smallest.max(2);
                let rare = &classes[counts.iter().position(|&c| c == smallest).unwrap_or(0)];
                notes.push(format!(
                    "class {rare:?} has only {smallest} row{}, fewer than --folds {folds}: used {used_folds} folds{}",
                    if smallest == 1 { "" } else { "s" },
                    if smallest < 2 { " (a class with one row can never be predicted out of sample; its row is judged by the other classes only)" } else { "" }
                ));
            }
            let oof =
                out_of_sample_probabilities_with(&x, labels, k, model, used_folds, seed, work)
                    .map_err(AuditError::label(name))?;
            if smallest < 2 && !uses_folds {
                notes.push(
                    "a class has a single row: leave-one-out k-NN can never predict that row's label"
                        .to_string(),
                );
            }
            if model == Model::Auto && n > FOREST_MAX_ROWS && n <= KNN_MAX_ROWS {
                notes.push(format!(
                    "{n} rows > {FOREST_MAX_ROWS}: the random forest skipped (--model forest grows it at any size)"
                ));
            }
            if model == Model::Auto && n > KNN_MAX_ROWS {
                notes.push(format!(
                    "{n} rows > {KNN_MAX_ROWS}: k-NN and the near-duplicate check skipped, logistic regression only"
                ));
            }
            Ok(ModelProbs {
                info: Probabilities::BuiltIn {
                    model: oof.model,
                    folds: oof.folds,
                    seed,
                    features: x.n_features,
                    candidates: oof.candidates,
                },
                probs: oof.probs,
                neighbours: oof.neighbours,
            })
        }
    }
}

/// Each group of identical feature rows with different labels votes for its label (the
/// most frequent, ties by the model's summed probability); rows labelled otherwise become
/// `conflicting_duplicate` issues. Returns the groups in input rows.
fn vote_duplicates(
    report: &ConflictReport,
    lab: &Labelled,
    pm: ProbMatrix<'_>,
    scores: &[f64],
    issues: &mut BTreeMap<usize, Issue>,
) -> Vec<DuplicateGroup> {
    let (kept, labels, classes) = (&lab.kept, &lab.labels, &lab.classes);
    let k = classes.len();
    let mut groups = Vec::new();
    for g in &report.groups {
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
                score: scores[r],
                reasons: Vec::new(),
            });
            e.reasons.push(IssueReason::ConflictingDuplicate);
        }
        groups.push(DuplicateGroup {
            rows: g.rows.iter().map(|&r| kept[r]).collect(),
            labels: g.labels.iter().map(|&l| classes[l].clone()).collect(),
            suggested: classes[best].clone(),
        });
    }
    groups
}

/// Pairs of rows closer than [`NEAR_DUPLICATE_FACTOR`] times the median positive
/// nearest-neighbour distance with different labels (exact duplicates left to
/// [`vote_duplicates`]); of each pair, the row whose label the model believes less becomes
/// a `conflicting_near_duplicate` issue. Returns the pairs and the distance threshold.
fn near_duplicates(
    neighbours: &[Vec<(usize, f64)>],
    conflicts: Option<&ConflictReport>,
    lab: &Labelled,
    pm: ProbMatrix<'_>,
    scores: &[f64],
    issues: &mut BTreeMap<usize, Issue>,
) -> (Vec<NearPair>, Option<f64>) {
    let (kept, labels, classes) = (&lab.kept, &lab.labels, &lab.classes);
    let mut d1: Vec<f64> = neighbours
        .iter()
        .filter_map(|v| v.first().map(|x| x.1))
        .filter(|&d| d > 0.0)
        .collect();
    d1.sort_by(f64::total_cmp);
    let Some(&median) = d1.get(d1.len() / 2) else {
        return (Vec::new(), None);
    };
    let threshold = NEAR_DUPLICATE_FACTOR * median;
    let exact: HashSet<(usize, usize)> = conflicts
        .iter()
        .flat_map(|c| c.groups.iter())
        .flat_map(|g| {
            g.rows
                .iter()
                .flat_map(move |&a| g.rows.iter().map(move |&b| (a, b)))
        })
        .collect();
    let mut near = Vec::new();
    for (i, v) in neighbours.iter().enumerate() {
        for &(j, d) in v {
            if d > threshold {
                break;
            }
            if i < j && labels[i] != labels[j] && !exact.contains(&(i, j)) {
                let (bad, good) = if pm.row(i)[labels[i]] <= pm.row(j)[labels[j]] {
                    (i, j)
                } else {
                    (j, i)
                };
                let e = issues.entry(bad).or_insert(Issue {
                    row: kept[bad],
                    given: labels[bad],
                    suggested: labels[good],
                    score: scores[bad],
                    reasons: Vec::new(),
                });
                e.reasons.push(IssueReason::ConflictingNearDuplicate);
                near.push(NearPair {
                    rows: [kept[i], kept[j]],
                    labels: [classes[labels[i]].clone(), classes[labels[j]].clone()],
                    distance: round6(d),
                });
            }
        }
    }
    (near, Some(threshold))
}

/// The noise summary from the estimated joint: per class its count, share, estimated
/// noise rate and issues; the off-diagonal pairs, largest first; the joint itself.
fn noise(joint: &[Vec<f64>], lab: &Labelled, ranked: &[Issue]) -> Noise {
    let (classes, counts) = (&lab.classes, &lab.counts);
    let (n, k) = (lab.labels.len(), classes.len());
    let per_class: Vec<ClassNoise> = (0..k)
        .map(|c| {
            let row_sum: f64 = joint[c].iter().sum();
            let noise = if row_sum > 0.0 {
                1.0 - joint[c][c] / row_sum
            } else {
                0.0
            };
            ClassNoise {
                class: classes[c].clone(),
                count: counts[c],
                share: round6(counts[c] as f64 / n as f64),
                estimated_noise_rate: round6(noise),
                issues: ranked.iter().filter(|i| i.given == c).count(),
            }
        })
        .collect();
    let mut pairs = Vec::new();
    for (g, row) in joint.iter().enumerate() {
        for (t, &v) in row.iter().enumerate() {
            if t != g && v > 0.0 {
                pairs.push((g, t, v));
            }
        }
    }
    pairs.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    Noise {
        per_class,
        pairs: pairs
            .iter()
            .map(|&(g, t, r)| NoisePair {
                given: classes[g].clone(),
                true_label: classes[t].clone(),
                rate: round6(r),
            })
            .collect(),
        joint: joint
            .iter()
            .map(|r| r.iter().map(|&v| round6(v)).collect())
            .collect(),
    }
}

/// What the checks of a labelled table are computed from.
struct ModelCheckInput<'a> {
    label_col: &'a str,
    n_issues: usize,
    max_issues: Option<usize>,
    ranked: &'a [Issue],
    /// (conflicting groups, rows in them), when the duplicate check ran.
    conflicts: Option<(usize, usize)>,
    /// (imbalanced, rarest class, its share, threshold).
    imbalance: (bool, &'a str, f64, f64),
    domain: Option<&'a LabelDomain>,
    out_of_domain: &'a [usize],
    unexpected: &'a [(&'a str, Vec<usize>)],
    /// Without a domain: the typo classes found (the check runs); `None` with one.
    typos: Option<&'a [TypoClassSummary]>,
    null_rows: &'a [usize],
}

fn model_checks(m: &ModelCheckInput<'_>) -> Vec<AuditCheck> {
    let col = Some(m.label_col);
    let mut checks = vec![count_check(
        m.n_issues,
        m.max_issues,
        "label issues (likely mislabelled, conflicting duplicates, labels outside the domain, null labels)",
    )];
    let low: Vec<usize> = m
        .ranked
        .iter()
        .filter(|i| i.reasons.contains(&IssueReason::LowConfidence))
        .map(|i| i.row)
        .collect();
    checks.push(if low.is_empty() {
        AuditCheck::passed(col, "likely_mislabelled")
    } else {
        AuditCheck::failed(
            col,
            "likely_mislabelled",
            Severity::Warning,
            format!(
                "{} {} mislabelled: {}",
                crate::number::counted(low.len() as u64, "row"),
                if low.len() == 1 { "looks" } else { "look" },
                rows_text(&low)
            ),
        )
    });
    checks.push(match m.conflicts.filter(|c| c.0 > 0) {
        Some((groups, rows)) => AuditCheck::failed(
            col,
            "conflicting_duplicates",
            Severity::Warning,
            format!(
                "{groups} groups of identical feature rows carry different labels ({rows} rows)"
            ),
        ),
        None => AuditCheck::passed(col, "conflicting_duplicates"),
    });
    let (imbalanced, rarest, share, threshold) = m.imbalance;
    checks.push(if imbalanced {
        AuditCheck::failed(
            col,
            "class_imbalance",
            Severity::Warning,
            format!(
                "class {rarest:?} has {:.2}% of rows, below 0.1/K = {:.2}%",
                share * 100.0,
                threshold * 100.0
            ),
        )
    } else {
        AuditCheck::passed(col, "class_imbalance")
    });
    if let Some(d) = m.domain {
        checks.push(if m.out_of_domain.is_empty() {
            AuditCheck::passed(col, "label_out_of_domain")
        } else {
            let values: Vec<String> = m
                .unexpected
                .iter()
                .take(5)
                .map(|(v, rows)| format!("{v:?} ({})", rows_text(rows)))
                .collect();
            AuditCheck::failed(
                col,
                "label_out_of_domain",
                Severity::Warning,
                format!(
                    "{} rows have a label outside the {} classes of {}: {}{}",
                    m.out_of_domain.len(),
                    d.values.len(),
                    d.source,
                    values.join("; "),
                    if m.unexpected.len() > 5 { "; ..." } else { "" }
                ),
            )
        });
    }
    if let Some(typos) = m.typos {
        checks.push(if typos.is_empty() {
            AuditCheck::passed(col, "label_typo_class")
        } else {
            let each: Vec<String> = typos
                .iter()
                .take(5)
                .map(|t| {
                    format!(
                        "class {:?} ({} row{}: {}) is probably {:?} ({})",
                        t.class,
                        t.count,
                        if t.count == 1 { "" } else { "s" },
                        rows_text(&t.rows[..t.rows.len().min(5)]),
                        t.suggested,
                        match t.rule {
                            TypoRule::CaseBlanksOrUnicode =>
                                "differs only in case, blanks or Unicode form".to_string(),
                            TypoRule::EditDistance => format!(
                                "{} edit{} apart",
                                t.distance,
                                if t.distance == 1 { "" } else { "s" }
                            ),
                        }
                    )
                })
                .collect();
            AuditCheck::failed(
                col,
                "label_typo_class",
                Severity::Warning,
                format!(
                    "{} class {}, merged into the suggested class for the model and the noise estimate: {}{}",
                    typos.len(),
                    if typos.len() == 1 {
                        "name looks like a typo"
                    } else {
                        "names look like typos"
                    },
                    each.join("; "),
                    if typos.len() > 5 { "; ..." } else { "" }
                ),
            )
        });
    }
    checks.push(if m.null_rows.is_empty() {
        AuditCheck::passed(col, "null_labels")
    } else {
        AuditCheck::failed(
            col,
            "null_labels",
            Severity::Warning,
            format!(
                "{} rows have no label: {}",
                m.null_rows.len(),
                rows_text(m.null_rows)
            ),
        )
    });
    checks
}

/// The columns matched by `pattern`, in class order: by the part matched by `*` when it
/// names every class, else in sorted class order (with a note saying which is which).
fn match_prob_columns(
    table: &Table,
    pattern: &str,
    classes: &[String],
    notes: &mut Vec<String>,
) -> Result<Vec<String>, AuditError> {
    let name = &table.name;
    let k = classes.len();
    let matched: Vec<(String, String)> = table
        .columns
        .iter()
        .filter_map(|c| glob_match(pattern, c).map(|cap| (c.clone(), cap)))
        .collect();
    if matched.is_empty() {
        return Err(AuditError::Invalid(format!(
            "{name}: --prob-columns {pattern:?} matches no column"
        )));
    }
    if matched.len() != k {
        return Err(AuditError::Invalid(format!(
            "{name}: --prob-columns {pattern:?} matches {} columns ({}), but the label has {k} classes ({})",
            matched.len(),
            matched
                .iter()
                .map(|m| m.0.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            classes.join(", ")
        )));
    }
    let by_name: Option<Vec<String>> = classes
        .iter()
        .map(|c| matched.iter().find(|m| &m.1 == c).map(|m| m.0.clone()))
        .collect();
    Ok(match by_name {
        Some(cols) => cols,
        None => {
            let cols: Vec<String> = matched.iter().map(|m| m.0.clone()).collect();
            notes.push(by_position(
                &format!("{name}: --prob-columns {pattern:?}"),
                &cols,
                classes,
            ));
            cols
        }
    })
}

/// `*` and `?` wildcards; returns what the first `*` matched.
pub fn glob_match(pattern: &str, text: &str) -> Option<String> {
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

/// A domain value equal to `given` but for case and surrounding blanks: the likely intent.
fn closest_domain_value(given: &str, domain: &[String]) -> Option<String> {
    let g = given.trim().to_lowercase();
    domain
        .iter()
        .find(|d| d.trim().to_lowercase() == g)
        .cloned()
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
/// that one-to-one mapping matches the label on at least [`LABEL_COPY_AGREEMENT`] of rows:
/// another encoding of the label, which would leak it into the model.
pub fn label_copy(col: &RawColumn, labels: &[usize], k: usize) -> Option<f64> {
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

/// A probability table with one row per data row (`n_rows` of them), one numeric column per
/// class; row-major.
pub(crate) fn pred_probs_rows(
    file: &Table,
    classes: &[String],
    n_rows: usize,
    notes: &mut Vec<String>,
) -> Result<Vec<f64>, AuditError> {
    if file.n_rows != n_rows {
        return Err(AuditError::Invalid(format!(
            "{}: {} rows of probabilities, but the data has {n_rows} rows",
            file.name, file.n_rows
        )));
    }
    probability_matrix(file, classes, None, notes)
}

/// The class columns of a probability table as a row-major matrix, checked (numbers, rows
/// summing to 1): columns named as the classes, else all columns but `skip` in sorted class
/// order.
pub(crate) fn probability_matrix(
    data: &Table,
    classes: &[String],
    skip: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<Vec<f64>, AuditError> {
    let file = data.name.as_str();
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
        return Err(AuditError::Invalid(format!(
            "{file}: {} probability columns ({}), but the label has {k} classes ({}); name the columns after the classes or give exactly {k}",
            others.len(),
            others.join(", "),
            classes.join(", ")
        )));
    };
    let mut p = vec![0.0; n_rows * k];
    for (c, name) in cols.iter().enumerate() {
        match data.column(name)? {
            Some(RawColumn::Numeric(v)) => {
                for (i, x) in v.iter().enumerate() {
                    match x {
                        Some(x) => p[i * k + c] = *x,
                        None => {
                            return Err(AuditError::MissingProbability {
                                input: file.to_string(),
                                row: i,
                                column: name.clone(),
                            });
                        }
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
                return Err(AuditError::NotANumber {
                    input: file.to_string(),
                    row: i,
                    column: name.clone(),
                    value: bad,
                });
            }
            None => {
                return Err(AuditError::Invalid(format!(
                    "{file}: column {name:?} is not numeric"
                )));
            }
        }
    }
    let m = ProbMatrix::new(&p, n_rows, k).map_err(AuditError::label(file))?;
    m.validate(Some(DEFAULT_ROW_SUM_TOLERANCE))
        .map_err(AuditError::label(file))?;
    Ok(p)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, StringArray};

    use super::*;

    /// A table of the given columns: `Some(text)` columns are strings, numbers are floats.
    pub(crate) fn table(cols: Vec<(&str, ArrayRef)>) -> Table {
        let batch = RecordBatch::try_from_iter(cols).unwrap();
        Table::new("t.csv", vec![batch])
    }

    pub(crate) fn text(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    pub(crate) fn nums(v: &[Option<f64>]) -> ArrayRef {
        Arc::new(Float64Array::from(v.to_vec()))
    }

    fn spec(probabilities: ProbabilitySource) -> AuditSpec {
        AuditSpec {
            label: "y".into(),
            domain: None,
            exclude: Vec::new(),
            probabilities,
            filter_by: None,
            max_issues: None,
        }
    }

    /// 20 rows, 10 of class a then 10 of b, probabilities 0.9 on the true class; row 3 is
    /// labelled b but the model is sure of a.
    /// Labels, then the probabilities of a and of b.
    type Given = (
        Vec<Option<&'static str>>,
        Vec<Option<f64>>,
        Vec<Option<f64>>,
    );

    fn given_probabilities() -> Given {
        let mut y = Vec::new();
        let (mut pa, mut pb) = (Vec::new(), Vec::new());
        for i in 0..20 {
            let a = i < 10;
            y.push(Some(if a { "a" } else { "b" }));
            pa.push(Some(if a { 0.9 } else { 0.1 }));
            pb.push(Some(if a { 0.1 } else { 0.9 }));
        }
        y[3] = Some("b");
        pa[3] = Some(0.95);
        pb[3] = Some(0.05);
        (y, pa, pb)
    }

    #[test]
    fn a_mislabelled_row_is_found_with_probability_columns() {
        let (y, pa, pb) = given_probabilities();
        let t = table(vec![
            ("y", text(&y)),
            ("p_a", nums(&pa)),
            ("p_b", nums(&pb)),
        ]);
        let a = audit(&t, &spec(ProbabilitySource::Columns("p_*".into()))).unwrap();
        assert_eq!(a.classes, ["a", "b"]);
        assert_eq!(a.n_labelled, 20);
        assert_eq!(a.label_issues.len(), 1, "{:?}", a.label_issues);
        let i = &a.label_issues[0];
        assert_eq!((i.row, i.given.as_str()), (3, "b"));
        assert_eq!(i.suggested.as_deref(), Some("a"));
        assert_eq!(i.reasons, [IssueReason::LowConfidence]);
        assert_eq!(i.score, 0.05);
        assert_eq!(
            a.probabilities,
            Probabilities::ProbColumns {
                columns: vec!["p_a".into(), "p_b".into()]
            }
        );
        // One warning (the issue count), no error: passed.
        assert!(a.passed);
        assert_eq!(a.checks[1].kind, "likely_mislabelled");
        assert_eq!(
            a.checks[1].failure,
            Some((Severity::Warning, "1 row looks mislabelled: 3".into()))
        );
        // --max-issues 0 makes the count an error.
        let strict = AuditSpec {
            max_issues: Some(0),
            ..spec(ProbabilitySource::Columns("p_*".into()))
        };
        assert!(!audit(&t, &strict).unwrap().passed);
    }

    #[test]
    fn a_probability_file_is_matched_to_the_rows() {
        let (y, pa, pb) = given_probabilities();
        let x: Vec<Option<f64>> = (0..20).map(|i| Some(i as f64)).collect();
        let data = table(vec![("y", text(&y)), ("x", nums(&x))]);
        let probs = table(vec![("a", nums(&pa)), ("b", nums(&pb))]);
        let a = audit(&data, &spec(ProbabilitySource::File(probs))).unwrap();
        assert_eq!(a.label_issues.len(), 1);
        assert_eq!(a.label_issues[0].row, 3);
        assert!(a.notes.is_empty(), "named columns: {:?}", a.notes);
        assert_eq!(
            a.probabilities,
            Probabilities::PredProbs {
                file: "t.csv".into()
            }
        );
    }

    #[test]
    fn errors_name_the_input_row_not_the_position_among_labelled_rows() {
        let (mut y, mut pa, pb) = given_probabilities();
        // Row 1 has no label, so input row 7 is the 7th labelled row (position 6).
        y[1] = None;
        pa[7] = Some(0.5);
        let t = table(vec![
            ("y", text(&y)),
            ("p_a", nums(&pa)),
            ("p_b", nums(&pb)),
        ]);
        let e = audit(&t, &spec(ProbabilitySource::Columns("p_*".into()))).unwrap_err();
        match &e {
            AuditError::Label { input, source } => {
                assert_eq!(input, "t.csv");
                assert_eq!(source.row(), Some(7));
                assert!(matches!(source, LabelError::RowSum { .. }));
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string() == "t.csv", "the row is in the source: {e}");
        // A missing probability: the row is a field.
        let mut pa = given_probabilities().1;
        pa[9] = None;
        let t = table(vec![
            ("y", text(&y)),
            ("p_a", nums(&pa)),
            ("p_b", nums(&pb)),
        ]);
        let e = audit(&t, &spec(ProbabilitySource::Columns("p_*".into()))).unwrap_err();
        assert!(
            matches!(&e, AuditError::MissingProbability { row: 9, column, .. } if column == "p_a"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "t.csv: row 9, column \"p_a\": probability is missing"
        );
    }

    #[test]
    fn map_row_renumbers_only_errors_with_a_row() {
        let e = LabelError::RowSum {
            row: 2,
            sum: 1.5,
            tolerance: 1e-3,
        };
        assert_eq!(e.map_row(|r| [0, 5, 9][r]).row(), Some(9));
        assert_eq!(LabelError::Empty.map_row(|r| r + 1), LabelError::Empty);
    }

    /// 15 rows of class a near x = 0..15, 15 of class b near x = 100..115, and row 30: row
    /// 5's features labelled b. `code` spells the label another way.
    fn with_duplicate() -> Table {
        let mut y = Vec::new();
        let mut x = Vec::new();
        let mut code = Vec::new();
        for i in 0..30 {
            let a = i < 15;
            y.push(Some(if a { "a" } else { "b" }));
            code.push(Some(if a { "A" } else { "B" }));
            x.push(Some(if a { i as f64 } else { 100.0 + i as f64 }));
        }
        // Row 30 repeats row 5's features with the other label; its code follows the
        // features, so the code matches the label on 30 of 31 rows.
        y.push(Some("b"));
        code.push(Some("A"));
        x.push(Some(5.0));
        table(vec![
            ("y", text(&y)),
            ("x", nums(&x)),
            ("code", text(&code)),
        ])
    }

    fn knn() -> ProbabilitySource {
        ProbabilitySource::BuiltIn {
            model: Model::Knn,
            folds: 5,
            seed: 0,
            work: Default::default(),
        }
    }

    #[test]
    fn identical_rows_with_different_labels_vote() {
        let a = audit(&with_duplicate(), &spec(knn())).unwrap();
        let d = &a.duplicates;
        assert_eq!(d.conflicting_groups.len(), 1, "{d:?}");
        let g = &d.conflicting_groups[0];
        assert_eq!(g.rows, [5, 30]);
        assert_eq!(g.labels, ["a", "b"]);
        assert_eq!(g.suggested, "a", "the model's neighbours are class a");
        assert_eq!(d.n_rows_in_conflict, 2);
        let issue = a.label_issues.iter().find(|i| i.row == 30).unwrap();
        assert!(issue.reasons.contains(&IssueReason::ConflictingDuplicate));
        assert_eq!(issue.suggested.as_deref(), Some("a"));
        assert!(a.near_duplicates.checked);
        assert!(matches!(
            a.probabilities,
            Probabilities::BuiltIn {
                model: Model::Knn,
                folds: None,
                ..
            }
        ));
    }

    #[test]
    fn a_copy_of_the_label_is_not_a_feature() {
        let a = audit(&with_duplicate(), &spec(knn())).unwrap();
        let ex: Vec<&str> = a
            .excluded_columns
            .iter()
            .map(|e| e.column.as_str())
            .collect();
        assert_eq!(ex, ["code"]);
        assert!(
            a.excluded_columns[0]
                .reason
                .starts_with("another encoding of the label (96.8% of rows"),
            "{}",
            a.excluded_columns[0].reason
        );
        // Excluded on purpose: no note.
        let quiet = AuditSpec {
            exclude: vec!["code".into()],
            ..spec(knn())
        };
        assert!(
            audit(&with_duplicate(), &quiet)
                .unwrap()
                .excluded_columns
                .is_empty()
        );
        assert_eq!(
            label_copy(&RawColumn::Numeric(vec![Some(1.0), Some(2.0)]), &[0, 0], 2),
            None,
            "two values for one class"
        );
    }

    #[test]
    fn labels_outside_the_domain_are_issues_and_left_out_of_the_model() {
        let (mut y, pa, pb) = given_probabilities();
        y[12] = Some("B ");
        y[13] = Some("c");
        let t = table(vec![
            ("y", text(&y)),
            ("p_a", nums(&pa)),
            ("p_b", nums(&pb)),
        ]);
        let s = AuditSpec {
            domain: Some(LabelDomain {
                values: vec!["a".into(), "b".into()],
                source: "--classes".into(),
            }),
            ..spec(ProbabilitySource::Columns("p_*".into()))
        };
        let a = audit(&t, &s).unwrap();
        assert_eq!(a.classes, ["a", "b"]);
        assert_eq!(a.n_labelled, 18);
        let d = a.label_domain.as_ref().unwrap();
        assert_eq!((d.count, d.rows.as_slice()), (2, &[12, 13][..]));
        let first: Vec<(usize, Option<&str>, f64)> = a.label_issues[..2]
            .iter()
            .map(|i| (i.row, i.suggested.as_deref(), i.score))
            .collect();
        assert_eq!(first, [(12, Some("b"), 0.0), (13, None, 0.0)]);
        assert_eq!(a.label_issues[2].row, 3, "then the model's issue");
        assert_eq!(a.n_issues, 3);
        let check = a
            .checks
            .iter()
            .find(|c| c.kind == "label_out_of_domain")
            .unwrap();
        assert_eq!(
            check.failure.as_ref().unwrap().1,
            "2 rows have a label outside the 2 classes of --classes: \"B \" (12); \"c\" (13)"
        );
        // Without the domain "B " is a typo class merged into b, but "c" (one letter, no
        // edit-distance rule) is a class of its own: 3 classes, 2 probability columns.
        let plain = audit(&t, &spec(ProbabilitySource::Columns("p_*".into())));
        assert!(plain.is_err(), "3 classes, 2 probability columns");
    }

    /// 40 rows of "alpha" (x near 0) and 40 of "beta" (x near 100); then the rows given.
    fn two_classes_and(extra: &[(&'static str, f64)]) -> Table {
        let mut y = Vec::new();
        let mut x = Vec::new();
        for i in 0..80 {
            let alpha = i < 40;
            y.push(Some(if alpha { "alpha" } else { "beta" }));
            x.push(Some(
                if alpha { 0.0 } else { 100.0 } + (i % 40) as f64 * 0.1,
            ));
        }
        for &(label, v) in extra {
            y.push(Some(label));
            x.push(Some(v));
        }
        table(vec![("y", text(&y)), ("x", nums(&x))])
    }

    fn typo_check(a: &LabelAudit) -> Option<&(Severity, String)> {
        a.checks
            .iter()
            .find(|c| c.kind == "label_typo_class")
            .expect("the check runs without a domain")
            .failure
            .as_ref()
    }

    #[test]
    fn a_class_differing_in_case_or_blanks_is_a_typo_merged_into_the_larger() {
        let clean = audit(&two_classes_and(&[]), &spec(knn())).unwrap();
        assert!(clean.typo_classes.is_empty());
        assert_eq!(typo_check(&clean), None, "passed");
        let t = two_classes_and(&[("Alpha ", 0.5), ("beta", 100.5)]);
        let a = audit(&t, &spec(knn())).unwrap();
        assert_eq!(a.classes, ["alpha", "beta"]);
        assert_eq!(a.n_labelled, 82, "merged, not left out");
        assert_eq!(
            a.typo_classes,
            [TypoClassSummary {
                class: "Alpha ".into(),
                count: 1,
                distance: 0,
                rows: vec![80],
                rule: TypoRule::CaseBlanksOrUnicode,
                suggested: "alpha".into(),
            }]
        );
        let (severity, message) = typo_check(&a).unwrap();
        assert_eq!(*severity, Severity::Warning);
        assert_eq!(
            message,
            "1 class name looks like a typo, merged into the suggested class for the model and the noise estimate: class \"Alpha \" (1 row: 80) is probably \"alpha\" (differs only in case, blanks or Unicode form)"
        );
        let i = &a.label_issues[0];
        assert_eq!(
            (i.row, i.given.as_str(), i.suggested.as_deref(), i.score),
            (80, "Alpha ", Some("alpha"), 0.0)
        );
        assert_eq!(i.reasons, [IssueReason::TypoClass]);
        assert_eq!(a.n_issues, 1);
        // The typo row counts as alpha: the noise estimate is the clean table's.
        assert_eq!(a.noise.per_class[0].count, 41);
        assert_eq!(a.noise.per_class[0].estimated_noise_rate, 0.0);
        assert_eq!(a.health.label_health_score, clean.health.label_health_score);
        assert!(a.passed, "a warning");
    }

    #[test]
    fn a_rare_class_one_edit_from_a_large_one_is_a_typo_and_the_model_still_judges_it() {
        // "alpah" sits among the beta rows: a typo of alpha by its name, but the model
        // believes beta, so that is the suggestion and low_confidence is a reason too.
        let t = two_classes_and(&[("alpah", 101.0)]);
        let a = audit(&t, &spec(knn())).unwrap();
        assert_eq!(a.classes, ["alpha", "beta"]);
        let typo = &a.typo_classes[0];
        assert_eq!(
            (
                typo.class.as_str(),
                typo.suggested.as_str(),
                typo.rule,
                typo.distance
            ),
            ("alpah", "alpha", TypoRule::EditDistance, 1)
        );
        assert!(typo_check(&a).unwrap().1.contains("(1 edit apart)"));
        let i = &a.label_issues[0];
        assert_eq!((i.row, i.given.as_str()), (80, "alpah"));
        assert_eq!(i.suggested.as_deref(), Some("beta"));
        assert_eq!(i.reasons[0], IssueReason::TypoClass);
        assert!(i.reasons.contains(&IssueReason::LowConfidence), "{i:?}");
        assert_eq!(
            a.label_issues.iter().filter(|i| i.row == 80).count(),
            1,
            "one entry per row"
        );
        // Two rare classes far from every name stay classes (and no check fails).
        let t = two_classes_and(&[("gamma", 50.0), ("gamma", 50.5)]);
        let a = audit(&t, &spec(knn())).unwrap();
        assert_eq!(a.classes, ["alpha", "beta", "gamma"]);
        assert_eq!(typo_check(&a), None);
    }

    #[test]
    fn given_probabilities_of_a_typo_class_are_added_to_the_suggested_class() {
        let (mut y, pa, pb) = given_probabilities();
        y[12] = Some("B ");
        // the probability file has a column for every class in the data, "B " included
        let mut p_typo = vec![Some(0.0); 20];
        let mut pb = pb;
        p_typo[12] = Some(0.5);
        pb[12] = Some(0.4);
        let data = table(vec![("y", text(&y))]);
        let probs = table(vec![
            ("a", nums(&pa)),
            ("b", nums(&pb)),
            ("B ", nums(&p_typo)),
        ]);
        let a = audit(&data, &spec(ProbabilitySource::File(probs))).unwrap();
        assert_eq!(a.classes, ["a", "b"]);
        assert_eq!(a.typo_classes[0].class, "B ");
        assert_eq!(a.typo_classes[0].suggested, "b");
        let first = &a.label_issues[0];
        assert_eq!(
            (first.row, first.reason, first.suggested.as_deref()),
            (12, IssueReason::TypoClass, Some("b"))
        );
        // row 12 is b with 0.9 after merging (0.4 + 0.5), so only row 3 is the model's
        assert_eq!(a.label_issues.len(), 2);
        assert_eq!(a.label_issues[1].row, 3);
    }

    #[test]
    fn with_a_domain_typos_are_out_of_domain_not_typo_classes() {
        let t = two_classes_and(&[("Alpha ", 0.5)]);
        let s = AuditSpec {
            domain: Some(LabelDomain {
                values: vec!["alpha".into(), "beta".into()],
                source: "--classes".into(),
            }),
            ..spec(knn())
        };
        let a = audit(&t, &s).unwrap();
        assert!(a.typo_classes.is_empty());
        assert!(a.checks.iter().all(|c| c.kind != "label_typo_class"));
        assert_eq!(a.label_issues[0].reason, IssueReason::LabelOutOfDomain);
        assert_eq!(a.n_labelled, 80, "left out, as out-of-domain rows are");
    }

    #[test]
    fn one_class_is_refused_with_the_reason() {
        let t = table(vec![
            ("y", text(&[Some("a"), Some("a"), None])),
            ("x", nums(&[Some(1.0), Some(2.0), Some(3.0)])),
        ]);
        let e = audit(&t, &spec(knn())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv: label column \"y\" has 1 class (every label is \"a\"); a label audit needs at least 2"
        );
    }

    #[test]
    fn fields_are_in_the_documents_key_order() {
        // serde_json's map sorts keys: the struct must serialise the same bytes directly.
        let a = audit(&with_duplicate(), &spec(knn())).unwrap();
        let direct = serde_json::to_string(&a).unwrap();
        let sorted = serde_json::to_value(&a).unwrap().to_string();
        assert_eq!(direct, sorted);
        let (y, pa, pb) = given_probabilities();
        let t = table(vec![
            ("y", text(&y)),
            ("p_a", nums(&pa)),
            ("p_b", nums(&pb)),
        ]);
        let s = AuditSpec {
            domain: Some(LabelDomain {
                values: vec!["a".into(), "b".into()],
                source: "s.yaml".into(),
            }),
            ..spec(ProbabilitySource::Columns("p_*".into()))
        };
        let a = audit(&t, &s).unwrap();
        let direct = serde_json::to_string(&a).unwrap();
        assert_eq!(direct, serde_json::to_value(&a).unwrap().to_string());
    }

    #[test]
    fn glob_captures_the_star() {
        assert_eq!(glob_match("p_*", "p_setosa").as_deref(), Some("setosa"));
        assert_eq!(glob_match("p_*", "q_setosa"), None);
        assert_eq!(glob_match("prob[*]", "prob[a]").as_deref(), Some("a"));
        assert_eq!(glob_match("p?", "p1").as_deref(), Some(""));
    }
}
