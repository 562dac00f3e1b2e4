//! Drift of two whole profiles: which columns are paired, which are skipped, which methods
//! run on each, and in what order the results come. `preflight drift`, `preflight report
//! --baseline` and the schema's drift/skew comparators all call [`compare_profiles`] (or
//! [`compare_profiles_with`]); only the plan differs.
//!
//! The function is pure: where a caller can read every value of a column (both sides are
//! small data), it hands in a [`Refine`] hook, called only for the columns whose profiles
//! kept sketches, and the library stays free of I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::compare::{
    Categories, ColumnDrift, ColumnSample, CompareOptions, NumericData, Skipped, compare_column,
    nothing_compared,
};
use super::{Method, MethodKind};
use crate::Severity;
use crate::profile::{Kind, Profile};

/// String columns with at most this many distinct values (the profile's estimate) are
/// counted exactly through [`Refine::category_counts`]; ID-like columns with more stay
/// with the sketch: a GROUP BY over millions of singletons costs more than the profile
/// itself and their per-value distribution says little.
pub const EXACT_MAX_CATEGORIES: u64 = 100_000;

/// Why a column is not compared unless it is named: Evidently leaves date/time columns out
/// too; binary, list, struct and null columns have no drift method.
pub fn default_skip(kind: Kind) -> Option<&'static str> {
    match kind {
        k if k.is_temporal() => {
            Some("date/time column: not compared by default (name it with --columns to compare it)")
        }
        Kind::Binary | Kind::List | Kind::Struct | Kind::Null | Kind::Other => {
            Some("no drift method for this column type")
        }
        _ => None,
    }
}

/// How the results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// The label first, then drifted before stable, most severe first (how far past its
    /// threshold); ties by column name, method and threshold (`preflight drift`).
    #[default]
    Severity,
    /// As planned: the label, then the selected columns in the reference's order, and per
    /// column the methods, then the comparators (`report`, the schema's comparators).
    Planned,
}

/// A comparison asked for one column besides the plan's methods: a schema's drift or skew
/// comparator. Its result carries the severity; one equal to a method's result (same
/// method and threshold) marks that result instead of adding another.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparator {
    pub column: String,
    pub method: Method,
    pub threshold: f64,
    pub severity: Severity,
}

/// What to compare and how: the input of [`compare_profiles`].
#[derive(Debug, Clone, Default)]
pub struct DriftPlan {
    /// Methods run on every compared column; `None` is Evidently's automatic choice.
    /// Empty: only the [`DriftPlan::comparators`] run.
    pub methods: Vec<Option<Method>>,
    /// Threshold of the methods (not of the comparators) [default: each method's].
    pub threshold: Option<f64>,
    /// Compare only these columns (each must be on both sides); empty: every column of
    /// the reference.
    pub columns: Vec<String>,
    /// The label column: compared like the others (a date/time label too), named in the
    /// results and first in [`Order::Severity`]. It must be on both sides.
    pub label: Option<String>,
    /// Extra comparisons of single columns; those of columns not compared are ignored.
    pub comparators: Vec<Comparator>,
    /// Without named columns, both sides must have the same columns (a profile of another
    /// table is a mistake worth stopping); when false, the columns of one side only are
    /// listed in the result instead.
    pub same_columns: bool,
    /// Skip columns by type ([`default_skip`]) unless named (date/time columns only).
    pub skip_by_kind: bool,
    pub order: Order,
    /// How the reference and the current data are named in errors (their paths).
    pub names: [String; 2],
}

/// A column the plan cannot pair: the run stops.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A named column (or, with named columns, the label) is missing on one side, whose
    /// columns are `columns` (the first 20, and how many more: see [`column_list`]).
    #[error("{side}: no column `{column}` (columns: {columns})")]
    NoColumn {
        side: String,
        column: String,
        columns: String,
    },
    /// The label column is missing on one side.
    #[error("{side}: no label column `{column}` (columns: {columns})")]
    NoLabel {
        side: String,
        column: String,
        columns: String,
    },
    /// [`DriftPlan::same_columns`] and the sides' columns differ.
    #[error(
        "{current}: columns differ from the reference {reference}: missing [{}], extra [{}] (compare the common ones with --columns)",
        missing.join(", "),
        extra.join(", ")
    )]
    ColumnsDiffer {
        reference: String,
        current: String,
        missing: Vec<String>,
        extra: Vec<String>,
    },
    /// Values read again for an exact comparison are not as many as the profile counted:
    /// they are not the rows profiled, and comparing them would answer for other data.
    #[error(
        "{side}: column `{column}`: {read} values read for an exact comparison, where its profile counted {counted}; not compared on other rows"
    )]
    ValuesDiffer {
        side: String,
        column: String,
        read: u64,
        counted: u64,
    },
}

/// One result: a column compared under one method.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnResult {
    #[serde(flatten)]
    pub drift: ColumnDrift,
    /// Whether the column is the plan's label.
    pub label: bool,
    /// Set when a [`Comparator`] asked for this result: a drift then fails at this
    /// severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_severity: Option<Severity>,
}

/// What [`compare_profiles`] found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DriftComparison {
    pub results: Vec<ColumnResult>,
    /// Columns not compared, with the reason (each reason once per column).
    pub skipped: Vec<Skipped>,
    /// Columns of the reference missing from the current data (reference order), when
    /// the plan allows different columns.
    pub only_in_reference: Vec<String>,
    /// Columns of the current data missing from the reference (current order).
    pub only_in_current: Vec<String>,
    /// Why no column was compared, when none was: a check that compared nothing must not
    /// pass silently (issue 12).
    pub nothing_compared: Option<String>,
}

/// The dataset-level verdict of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DriftSummary {
    /// Columns with at least one result.
    pub compared: usize,
    /// Columns with at least one drifted result.
    pub drifted: usize,
    /// `drifted / compared` (0 when nothing was compared).
    pub share: f64,
    /// Whether `share` reached the dataset threshold (never when nothing was compared).
    pub dataset_drift: bool,
}

impl DriftComparison {
    /// The dataset verdict: drift when at least `drift_share` of the compared columns
    /// drifted under any of their methods.
    pub fn summary(&self, drift_share: f64) -> DriftSummary {
        let compared: BTreeSet<&str> = self
            .results
            .iter()
            .map(|r| r.drift.column.as_str())
            .collect();
        let drifted: BTreeSet<&str> = (self.results.iter())
            .filter(|r| r.drift.drifted)
            .map(|r| r.drift.column.as_str())
            .collect();
        let share = if compared.is_empty() {
            0.0
        } else {
            drifted.len() as f64 / compared.len() as f64
        };
        DriftSummary {
            compared: compared.len(),
            drifted: drifted.len(),
            share,
            dataset_drift: !compared.is_empty() && share >= drift_share,
        }
    }

    /// The result of `column` under `method` with `threshold`, if there is one.
    pub fn result(&self, column: &str, method: Method, threshold: f64) -> Option<&ColumnResult> {
        self.results.iter().find(|r| {
            r.drift.column == column && r.drift.method == method && r.drift.threshold == threshold
        })
    }
}

/// Reads what the profiles only sketched: every value, or exact category counts, of the
/// same column on both sides. A caller whose sides are small data implements it; each
/// answer is (reference, current), and `None` keeps what the profiles knew.
pub trait Refine {
    type Error: From<PlanError>;

    /// The non-null values of numeric (or date/time) columns, one `(reference, current)`
    /// pair per column of `columns`, in that order; NaN and infinities may be kept.
    fn numeric_values(&mut self, columns: &[String]) -> Result<Option<ColumnValues>, Self::Error>;

    /// Exact value counts of a string column on both sides.
    fn category_counts(&mut self, column: &str) -> Result<Option<CategoryCounts>, Self::Error>;
}

/// What a [`Refine`] hook read of one column: (reference, current).
pub type SidesOf<T> = (T, T);

/// [`Refine::numeric_values`]: the values of each column asked for, on both sides.
pub type ColumnValues = Vec<SidesOf<Vec<f64>>>;

/// [`Refine::category_counts`]: value counts on both sides.
pub type CategoryCounts = SidesOf<BTreeMap<String, u64>>;

/// No refinement: the profiles' knowledge only.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProfilesOnly;

impl Refine for ProfilesOnly {
    type Error = PlanError;

    fn numeric_values(&mut self, _: &[String]) -> Result<Option<ColumnValues>, PlanError> {
        Ok(None)
    }

    fn category_counts(&mut self, _: &str) -> Result<Option<CategoryCounts>, PlanError> {
        Ok(None)
    }
}

/// Compare two profiles column by column under `plan`, from what the profiles know
/// (exact while they kept every value or exact counts, sketches beyond).
pub fn compare_profiles(
    reference: &Profile,
    current: &Profile,
    plan: &DriftPlan,
) -> Result<DriftComparison, PlanError> {
    compare_profiles_with(reference, current, plan, &mut ProfilesOnly)
}

/// [`compare_profiles`], with `refine` asked for the values of the columns whose profiles
/// kept only sketches (numeric columns on either side; string columns with at most
/// [`EXACT_MAX_CATEGORIES`] distinct values).
pub fn compare_profiles_with<R: Refine>(
    reference: &Profile,
    current: &Profile,
    plan: &DriftPlan,
    refine: &mut R,
) -> Result<DriftComparison, R::Error> {
    let mut out = DriftComparison::default();
    let selected = select(reference, current, plan, &mut out)?;

    // Pair the selected columns; skip those of no comparable type.
    let explicit = !plan.columns.is_empty();
    let mut pairs: Vec<(ColumnSample, ColumnSample)> = Vec::new();
    for name in &selected {
        let (Some(rc), Some(cc)) = (reference.column(name), current.column(name)) else {
            continue;
        };
        let named = explicit || plan.label.as_deref() == Some(name.as_str());
        if plan.skip_by_kind
            && let Some(reason) = default_skip(rc.kind)
            && !(named && rc.kind.is_temporal())
        {
            out.skipped.push(Skipped {
                column: name.clone(),
                reason: reason.into(),
            });
            continue;
        }
        if plan.methods.is_empty() && !plan.comparators.iter().any(|c| &c.column == name) {
            continue;
        }
        pairs.push((
            ColumnSample::from_profile(rc),
            ColumnSample::from_profile(cc),
        ));
    }
    refine_pairs(&mut pairs, refine, &plan.names)?;

    for (r, c) in &pairs {
        let planned = plan.methods.iter().map(|m| {
            let opts = CompareOptions {
                method: *m,
                threshold: plan.threshold,
                reference_rows: reference.row_count,
            };
            (opts, None)
        });
        let comparators = (plan.comparators.iter())
            .filter(|cmp| cmp.column == r.name)
            .map(|cmp| {
                let opts = CompareOptions {
                    method: Some(cmp.method),
                    threshold: Some(cmp.threshold),
                    reference_rows: reference.row_count,
                };
                (opts, Some(cmp.severity))
            });
        for (opts, severity) in planned.chain(comparators) {
            match compare_column(r, c, &opts) {
                Ok(d) => {
                    let same = out.results.iter_mut().find(|o| {
                        o.drift.column == d.column
                            && o.drift.method == d.method
                            && o.drift.threshold == d.threshold
                    });
                    if let Some(same) = same {
                        same.schema_severity = same.schema_severity.or(severity);
                        continue;
                    }
                    out.results.push(ColumnResult {
                        label: plan.label.as_ref() == Some(&d.column),
                        drift: d,
                        schema_severity: severity,
                    });
                }
                Err(s) => {
                    if !out.skipped.contains(&s) {
                        out.skipped.push(s);
                    }
                }
            }
        }
    }
    if plan.order == Order::Severity {
        out.results.sort_by(|a, b| {
            let (la, lb) = (a.label, b.label);
            let (a, b) = (&a.drift, &b.drift);
            lb.cmp(&la)
                .then_with(|| b.drifted.cmp(&a.drifted))
                .then_with(|| severity_score(b).total_cmp(&severity_score(a)))
                .then_with(|| a.column.cmp(&b.column))
                .then_with(|| a.method.as_str().cmp(b.method.as_str()))
                .then_with(|| a.threshold.total_cmp(&b.threshold))
        });
    }
    out.nothing_compared = nothing_compared(out.summary(1.0).compared, &out.skipped);
    Ok(out)
}

/// A profile's column names for a message (see [`crate::error::column_list`]).
fn column_list(p: &Profile) -> String {
    crate::error::column_list(p.columns.iter().map(|c| c.name.as_str()))
}

/// The columns to compare, label first; checks that named columns exist and, with
/// `same_columns`, that both sides have the same columns. Columns of one side only go to
/// `out`.
fn select(
    reference: &Profile,
    current: &Profile,
    plan: &DriftPlan,
    out: &mut DriftComparison,
) -> Result<Vec<String>, PlanError> {
    let [ref_name, cur_name] = &plan.names;
    let ref_cols: Vec<&str> = reference.columns.iter().map(|c| c.name.as_str()).collect();
    let cur_cols: BTreeSet<&str> = current.columns.iter().map(|c| c.name.as_str()).collect();
    let ref_set: BTreeSet<&str> = ref_cols.iter().copied().collect();
    let mut named: Vec<String> = plan.columns.clone();
    if let Some(l) = &plan.label
        && !named.is_empty()
        && !named.contains(l)
    {
        named.push(l.clone());
    }
    let sides = [
        (ref_name, &ref_set, reference),
        (cur_name, &cur_cols, current),
    ];
    for c in &named {
        for (side, cols, profile) in sides {
            if !cols.contains(c.as_str()) {
                return Err(PlanError::NoColumn {
                    side: side.clone(),
                    column: c.clone(),
                    columns: column_list(profile),
                });
            }
        }
    }
    if named.is_empty() {
        if let Some(l) = &plan.label {
            for (side, cols, profile) in sides {
                if !cols.contains(l.as_str()) {
                    return Err(PlanError::NoLabel {
                        side: side.clone(),
                        column: l.clone(),
                        columns: column_list(profile),
                    });
                }
            }
        }
        let missing: Vec<String> = ref_cols
            .iter()
            .filter(|c| !cur_cols.contains(*c))
            .map(|c| (*c).to_string())
            .collect();
        let extra: Vec<String> = (current.columns.iter())
            .map(|c| c.name.clone())
            .filter(|c| !ref_set.contains(c.as_str()))
            .collect();
        if plan.same_columns && !(missing.is_empty() && extra.is_empty()) {
            let sorted = |mut v: Vec<String>| {
                v.sort();
                v.dedup();
                v
            };
            return Err(PlanError::ColumnsDiffer {
                reference: ref_name.clone(),
                current: cur_name.clone(),
                missing: sorted(missing),
                extra: sorted(extra),
            });
        }
        out.only_in_reference = missing;
        out.only_in_current = extra;
    }
    let mut selected: Vec<String> = (ref_cols.iter())
        .filter(|c| named.is_empty() || named.iter().any(|n| n == *c))
        .map(|c| (*c).to_string())
        .collect();
    if let Some(l) = &plan.label
        && let Some(i) = selected.iter().position(|c| c == l)
    {
        let l = selected.remove(i);
        selected.insert(0, l);
    }
    Ok(selected)
}

/// Ask `refine` for what the profiles only sketched.
fn refine_pairs<R: Refine>(
    pairs: &mut [(ColumnSample, ColumnSample)],
    refine: &mut R,
    sides: &[String; 2],
) -> Result<(), R::Error> {
    // What is read must be the rows the profiles counted (every present value), or the
    // comparison would silently be of other data.
    let same = |s: &ColumnSample, side: &String, read: u64| {
        let counted = s.count.saturating_sub(s.missing);
        if read == counted {
            Ok(())
        } else {
            Err(PlanError::ValuesDiffer {
                side: side.clone(),
                column: s.name.clone(),
                read,
                counted,
            })
        }
    };
    let sketched = |s: &ColumnSample| {
        (s.numeric.as_ref()).is_some_and(|n| !matches!(n.data, NumericData::Values(_)))
    };
    // A column numeric on one side only is not compared (`compare_column` says why): its
    // values are not read, as numbers would drop the other side's words.
    let comparable = |r: &ColumnSample, c: &ColumnSample| r.is_numeric() == c.is_numeric();
    let wanted: Vec<usize> = (0..pairs.len())
        .filter(|&i| {
            let (r, c) = &pairs[i];
            comparable(r, c) && (sketched(r) || sketched(c))
        })
        .collect();
    if !wanted.is_empty() {
        let names: Vec<String> = wanted.iter().map(|&i| pairs[i].0.name.clone()).collect();
        let values = refine.numeric_values(&names)?.unwrap_or_default();
        for (&i, (r, c)) in wanted.iter().zip(values) {
            let (a, b) = pairs[i].clone();
            same(&a, &sides[0], r.len() as u64)?;
            same(&b, &sides[1], c.len() as u64)?;
            pairs[i] = (a.with_values(r), b.with_values(c));
        }
    }
    for (r, c) in pairs.iter_mut() {
        if !comparable(r, c) {
            continue;
        }
        let inexact = |s: &ColumnSample| {
            s.numeric.is_none() && s.categories.as_ref().is_some_and(|c| !c.is_exact())
        };
        if !(inexact(r) || inexact(c)) || r.distinct.max(c.distinct) > EXACT_MAX_CATEGORIES {
            continue;
        }
        let Some((rc, cc)) = refine.category_counts(&r.name)? else {
            continue;
        };
        same(r, &sides[0], rc.values().sum())?;
        same(c, &sides[1], cc.values().sum())?;
        for (side, counts) in [(r, rc), (c, cc)] {
            side.categories = Some(Categories {
                counts,
                other: 0,
                max_error: 0,
            });
        }
    }
    Ok(())
}

/// How far past its threshold a result is (> 1 drifted), for sorting by severity.
fn severity_score(d: &ColumnDrift) -> f64 {
    match d.method.kind() {
        MethodKind::PValue => {
            let p = d.p_value.unwrap_or(0.0);
            if p <= 0.0 {
                f64::INFINITY
            } else {
                d.threshold / p
            }
        }
        MethodKind::Distance => match d.statistic {
            Some(s) if d.threshold > 0.0 => s / d.threshold,
            _ => f64::INFINITY,
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use arrow::array::{ArrayRef, BinaryArray, Date32Array, Float64Array, StringArray};
    use arrow::datatypes::{Field, Schema};
    use arrow::record_batch::RecordBatch;

    use super::*;
    use crate::profile::ProfileBuilder;

    /// A real profile of the given columns (all of one length).
    fn profile(columns: Vec<(&str, ArrayRef)>) -> Profile {
        let fields: Vec<Field> = (columns.iter())
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let arrays = columns.into_iter().map(|(_, a)| a).collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
        let mut b = ProfileBuilder::new(&schema);
        b.update(&batch).unwrap();
        b.finish(vec!["test".into()])
    }

    fn floats(v: impl IntoIterator<Item = f64>) -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(v))
    }

    fn strings(v: impl IntoIterator<Item = String>) -> ArrayRef {
        Arc::new(StringArray::from_iter_values(v))
    }

    fn plan(methods: Vec<Option<Method>>) -> DriftPlan {
        DriftPlan {
            methods,
            same_columns: true,
            skip_by_kind: true,
            names: ["ref.csv".into(), "cur.csv".into()],
            ..DriftPlan::default()
        }
    }

    /// 200 rows: `x` shifts by 25 in the current data, `s` and `y` keep their distribution.
    fn pair() -> (Profile, Profile) {
        let side = |shift: f64| {
            profile(vec![
                ("x", floats((0..200).map(|i| f64::from(i % 50) + shift))),
                ("s", strings((0..200).map(|i| format!("c{}", i % 4)))),
                ("y", strings((0..200).map(|i| format!("k{}", i % 2)))),
            ])
        };
        (side(0.0), side(25.0))
    }

    fn order(c: &DriftComparison) -> Vec<(&str, &str)> {
        (c.results.iter())
            .map(|r| (r.drift.column.as_str(), r.drift.method.as_str()))
            .collect()
    }

    #[test]
    fn results_put_the_label_first_then_the_drifted() {
        let (r, c) = pair();
        let mut p = plan(vec![None]);
        p.label = Some("y".into());
        let out = compare_profiles(&r, &c, &p).unwrap();
        // 200 reference rows: ks for numbers, chisquare for categories (Evidently).
        assert_eq!(order(&out), [("y", "z"), ("x", "ks"), ("s", "chisquare")]);
        assert!(out.results[0].label && !out.results[1].label);
        assert!(out.results[1].drift.drifted && !out.results[2].drift.drifted);
        assert!(out.results.iter().all(|r| r.drift.exact));
        assert_eq!(out.nothing_compared, None);
        let s = out.summary(0.5);
        assert_eq!((s.compared, s.drifted, s.dataset_drift), (3, 1, false));
        assert!((s.share - 1.0 / 3.0).abs() < 1e-12);
        assert!(out.summary(0.3).dataset_drift);

        p.order = Order::Planned;
        let planned = compare_profiles(&r, &c, &p).unwrap();
        assert_eq!(
            order(&planned),
            [("y", "z"), ("x", "ks"), ("s", "chisquare")]
        );
        p.label = None;
        let planned = compare_profiles(&r, &c, &p).unwrap();
        assert_eq!(
            order(&planned),
            [("x", "ks"), ("s", "chisquare"), ("y", "z")]
        );
    }

    #[test]
    fn pairing_checks_columns_by_name() {
        let (r, _) = pair();
        let other = profile(vec![
            ("x", floats((0..10).map(f64::from))),
            ("z", floats((0..10).map(f64::from))),
        ]);
        let e = compare_profiles(&r, &other, &plan(vec![None])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cur.csv: columns differ from the reference ref.csv: missing [s, y], extra [z] \
             (compare the common ones with --columns)"
        );
        let mut p = plan(vec![None]);
        p.columns = vec!["x".into(), "z".into()];
        let e = compare_profiles(&r, &other, &p).unwrap_err();
        assert_eq!(e.to_string(), "ref.csv: no column `z` (columns: x, s, y)");
        p.columns = vec![];
        p.label = Some("s".into());
        let e = compare_profiles(&r, &other, &p).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cur.csv: no label column `s` (columns: x, z)"
        );

        // Named: only those, whatever else differs.
        p.label = None;
        p.columns = vec!["x".into()];
        let out = compare_profiles(&r, &other, &p).unwrap();
        assert_eq!(order(&out), [("x", "ks")]);
        // Allowed to differ: the common columns, the others listed.
        let mut p = plan(vec![None]);
        p.same_columns = false;
        let out = compare_profiles(&r, &other, &p).unwrap();
        assert_eq!(order(&out), [("x", "ks")]);
        assert_eq!(out.only_in_reference, ["s", "y"]);
        assert_eq!(out.only_in_current, ["z"]);
    }

    #[test]
    fn dates_and_binaries_are_skipped_unless_named() {
        let side = || {
            profile(vec![
                (
                    "d",
                    Arc::new(Date32Array::from_iter_values(0..20)) as ArrayRef,
                ),
                (
                    "b",
                    Arc::new(BinaryArray::from_iter_values((0..20u8).map(|i| [i]))),
                ),
            ])
        };
        let (r, c) = (side(), side());
        let out = compare_profiles(&r, &c, &plan(vec![None])).unwrap();
        assert!(out.results.is_empty());
        assert_eq!(
            out.skipped,
            [
                Skipped {
                    column: "d".into(),
                    reason: "date/time column: not compared by default (name it with --columns \
                             to compare it)"
                        .into()
                },
                Skipped {
                    column: "b".into(),
                    reason: "no drift method for this column type".into()
                },
            ]
        );
        assert_eq!(
            out.nothing_compared.as_deref(),
            Some(
                "no column was compared: all 2 columns were skipped (`d`: date/time column: not \
                 compared by default (name it with --columns to compare it); `b`: no drift \
                 method for this column type); nothing was compared"
            )
        );
        let mut p = plan(vec![None]);
        p.columns = vec!["d".into(), "b".into()];
        let out = compare_profiles(&r, &c, &p).unwrap();
        assert_eq!(order(&out), [("d", "ks")]);
        assert_eq!(out.skipped.len(), 1);
        assert_eq!(out.nothing_compared, None);
        // Without the type rule (the schema's comparators), every column is tried.
        let mut p = plan(vec![Some(Method::Psi)]);
        p.skip_by_kind = false;
        let out = compare_profiles(&r, &c, &p).unwrap();
        assert_eq!(order(&out), [("d", "psi")]);
        assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
        assert_eq!(out.skipped[0].column, "b");
    }

    #[test]
    fn comparators_mark_equal_results_and_add_others() {
        let (r, c) = pair();
        let mut p = plan(vec![Some(Method::Ks)]);
        p.columns = vec!["x".into()];
        p.order = Order::Planned;
        p.comparators = vec![
            Comparator {
                column: "x".into(),
                method: Method::Ks,
                threshold: 0.05,
                severity: Severity::Error,
            },
            Comparator {
                column: "x".into(),
                method: Method::Psi,
                threshold: 0.2,
                severity: Severity::Warning,
            },
            // Not compared: ignored.
            Comparator {
                column: "s".into(),
                method: Method::Linf,
                threshold: 0.1,
                severity: Severity::Error,
            },
        ];
        let out = compare_profiles(&r, &c, &p).unwrap();
        assert_eq!(order(&out), [("x", "ks"), ("x", "psi")]);
        assert_eq!(out.results[0].schema_severity, Some(Severity::Error));
        assert_eq!(out.results[1].schema_severity, Some(Severity::Warning));
        assert_eq!(out.results[1].drift.threshold, 0.2);
        assert!(out.result("x", Method::Psi, 0.2).is_some());
        assert!(out.result("x", Method::Psi, 0.1).is_none());
        // Comparators only: the columns without one are not compared.
        let mut p = plan(vec![]);
        p.comparators = vec![Comparator {
            column: "s".into(),
            method: Method::Linf,
            threshold: 0.1,
            severity: Severity::Error,
        }];
        let out = compare_profiles(&r, &c, &p).unwrap();
        assert_eq!(order(&out), [("s", "linf")]);
        assert!(!out.results[0].drift.drifted);
    }

    /// Records what it was asked, and answers with the values it was built from.
    struct Recorder {
        numeric: Vec<Vec<String>>,
        categories: Vec<String>,
        values: (Vec<f64>, Vec<f64>),
    }

    impl Refine for Recorder {
        type Error = PlanError;

        fn numeric_values(
            &mut self,
            columns: &[String],
        ) -> Result<Option<ColumnValues>, PlanError> {
            self.numeric.push(columns.to_vec());
            Ok(Some(vec![self.values.clone(); columns.len()]))
        }

        fn category_counts(&mut self, column: &str) -> Result<Option<CategoryCounts>, PlanError> {
            self.categories.push(column.to_string());
            // As many values as the profiles counted (3,000 rows, none missing).
            let counts = BTreeMap::from([("a".to_string(), 2250), ("b".to_string(), 750)]);
            Ok(Some((counts.clone(), counts)))
        }
    }

    #[test]
    fn refinement_is_asked_only_for_sketched_columns() {
        // 3,000 distinct values: beyond the profile's exact stores (2,048 values, 1,024
        // distinct), so `big` and `ids` keep sketches; `small` is exact.
        let side = |shift: f64| {
            profile(vec![
                ("small", floats((0..3000).map(|i| f64::from(i % 7) + shift))),
                ("big", floats((0..3000).map(|i| f64::from(i) * 0.5 + shift))),
                ("ids", strings((0..3000).map(|i| format!("id{i}")))),
                ("few", strings((0..3000).map(|i| format!("c{}", i % 3)))),
            ])
        };
        let (r, c) = (side(0.0), side(1.0));
        let sketched = compare_profiles(&r, &c, &plan(vec![None])).unwrap();
        let exact: Vec<(&str, bool)> = (sketched.results.iter())
            .map(|r| (r.drift.column.as_str(), r.drift.exact))
            .collect();
        assert!(exact.contains(&("big", false)) && exact.contains(&("ids", false)));
        assert!(exact.contains(&("small", true)) && exact.contains(&("few", true)));

        let four: Vec<f64> = (0..3000).map(|i| f64::from(i % 4 + 1)).collect();
        let mut hook = Recorder {
            numeric: vec![],
            categories: vec![],
            values: (four.clone(), four.clone()),
        };
        let out = compare_profiles_with(&r, &c, &plan(vec![None]), &mut hook).unwrap();
        assert_eq!(hook.numeric, [vec!["big".to_string()]]);
        assert_eq!(hook.categories, ["ids"]);
        assert!(out.results.iter().all(|r| r.drift.exact), "{out:?}");
        // The hook's values replaced the sketch: identical sides, no drift.
        let big = (out.results.iter())
            .find(|r| r.drift.column == "big")
            .unwrap();
        assert_eq!(big.drift.statistic, Some(0.0));
        assert!(!big.drift.drifted);

        // Values read again that are not as many as the profile counted are other rows:
        // an error naming the side and column, never a comparison of them.
        let mut short = Recorder {
            numeric: vec![],
            categories: vec![],
            values: (four.clone(), four[..2999].to_vec()),
        };
        let e = compare_profiles_with(&r, &c, &plan(vec![None]), &mut short).unwrap_err();
        assert!(
            matches!(&e, PlanError::ValuesDiffer { column, read: 2999, counted: 3000, .. } if column == "big"),
            "{e}"
        );
    }

    #[test]
    fn drift_error_messages() {
        use crate::drift::DriftError;
        assert_eq!(
            DriftError::LengthMismatch {
                reference: 3,
                current: 4
            }
            .to_string(),
            "reference has 3 bins but current has 4: bins must be aligned"
        );
        assert_eq!(
            DriftError::TooManyCategories(3).to_string(),
            "the z-test compares two categories, got 3"
        );
        assert_eq!(
            DriftError::EmptySample.to_string(),
            "a sample is empty: nothing to compare"
        );
    }
}
