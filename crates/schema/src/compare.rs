//! The schema's drift and skew comparators, checked on two profiles: TFDV's
//! `validate_statistics` with previous-span statistics (`drift`: this batch against the
//! last one) or training statistics (`skew`: serving data against the training data).
//!
//! A feature's [`Comparator`] names a `preflight drift` method and a threshold; the
//! distance (or p-value) comes from [`preflight_stats::drift::plan::compare_profiles`]
//! (the comparators are its plan) on what each profile knows of the column: exact while a profile kept every value or
//! exact counts (<= 2,048 values, <= 1,024 distinct), its sketches beyond (the result
//! then says `exact: false`). As in TFDV a check runs only where the schema sets a
//! threshold, and every comparison is reported, passed or not.

use preflight_stats::Severity;
use preflight_stats::drift::compare::ColumnDrift;
use preflight_stats::drift::plan::{self, DriftPlan, Order, compare_profiles};
use preflight_stats::drift::{Method, MethodKind};
use preflight_stats::profile::Profile;
use serde::Serialize;
use serde_json::json;

use crate::model::{Comparator, Feature, Schema};
use crate::validate::{Anomaly, AnomalyKind, Outcome};

/// Which comparator of a feature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// `drift`: the validated data against a previous batch (`validate --baseline`).
    Drift,
    /// `skew`: the validated (serving) data against the training data (`validate
    /// --training`).
    Skew,
}

impl Comparison {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Drift => "drift",
            Self::Skew => "skew",
        }
    }

    /// The feature's comparator of this kind.
    pub fn of(self, f: &Feature) -> Option<&Comparator> {
        match self {
            Self::Drift => f.drift.as_ref(),
            Self::Skew => f.skew.as_ref(),
        }
    }

    fn exceeded(self) -> AnomalyKind {
        match self {
            Self::Drift => AnomalyKind::DriftExceeded,
            Self::Skew => AnomalyKind::SkewExceeded,
        }
    }

    /// What the other side is called in messages.
    fn other_side(self) -> &'static str {
        match self {
            Self::Drift => "the baseline",
            Self::Skew => "the training data",
        }
    }
}

/// One comparator checked: what was measured against what threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparatorResult {
    pub column: String,
    pub comparator: Comparison,
    pub method: String,
    /// The distance or test statistic; `null` when infinite.
    pub statistic: Option<f64>,
    /// For tests (`ks`, `chisquare`, `z`): the p-value, which the threshold applies to.
    pub p_value: Option<f64>,
    pub threshold: f64,
    /// Distance >= threshold, or p-value below it (the rule of `preflight drift`).
    pub exceeded: bool,
    pub severity: Severity,
    /// Whether both profiles knew the whole distribution (else sketches).
    pub exact: bool,
    /// For sketch results: the bound on the error of CDF values or category proportions.
    pub sketch_error: Option<f64>,
    /// Where an L-infinity or KS statistic peaks (a category or a value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak: Option<serde_json::Value>,
}

/// Features with a comparator of this kind (schema order).
pub fn features(schema: &Schema, which: Comparison) -> Vec<&Feature> {
    schema
        .features
        .iter()
        .filter(|f| which.of(f).is_some())
        .collect()
}

/// Check every `which` comparator of `schema` between `other` (the baseline or the
/// training data) and `current` (the validated data), for the features expected in
/// `environment`. A feature absent from the current data is not compared (validation
/// reports the missing column); absent from `other`, or of a kind the method cannot
/// compare, it is a `not_compared` warning. The comparison itself is
/// [`compare_profiles`]'s, with the comparators as the plan.
pub fn compare(
    schema: &Schema,
    which: Comparison,
    other: &Profile,
    current: &Profile,
    environment: Option<&str>,
) -> (Vec<Outcome>, Vec<ComparatorResult>) {
    let check = which.as_str();
    let not_compared = |f: &Feature, reason: String| {
        let a = Anomaly::new(
            Some(&f.name),
            AnomalyKind::NotCompared,
            Severity::Warning,
            format!(
                "{check} of `{}` was not checked against {}: {reason}",
                f.name,
                which.other_side()
            ),
        );
        Outcome {
            column: Some(f.name.clone()),
            check: check.to_string(),
            anomaly: Some(a),
            scan: None,
        }
    };
    // The comparators to run, each with its feature (or why it cannot run), schema order.
    let mut planned: Vec<(&Feature, &Comparator, Result<Method, String>)> = Vec::new();
    for f in features(schema, which) {
        let Some(cmp) = which.of(f) else { continue };
        let expected_here = environment
            .is_none_or(|e| f.environments.is_empty() || f.environments.iter().any(|x| x == e));
        if current.column(&f.name).is_none() || !expected_here {
            continue;
        }
        let method = if other.column(&f.name).is_none() {
            Err("the column is not there".to_string())
        } else {
            // Schema::load checked the name.
            (cmp.method.parse::<Method>()).map_err(|_| format!("unknown method `{}`", cmp.method))
        };
        planned.push((f, cmp, method));
    }
    let plan = DriftPlan {
        comparators: (planned.iter())
            .filter_map(|(f, cmp, method)| {
                Some(plan::Comparator {
                    column: f.name.clone(),
                    method: *method.as_ref().ok()?,
                    threshold: cmp.threshold,
                    severity: cmp.severity,
                })
            })
            .collect(),
        order: Order::Planned,
        ..DriftPlan::default()
    };
    // Neither named columns nor the same-columns rule: pairing cannot fail.
    let comparison = compare_profiles(other, current, &plan).unwrap_or_default();

    let mut outcomes = Vec::new();
    let mut results = Vec::new();
    for (f, cmp, method) in planned {
        let method = match method {
            Ok(m) => m,
            Err(reason) => {
                outcomes.push(not_compared(f, reason));
                continue;
            }
        };
        let Some(d) = comparison
            .result(&f.name, method, cmp.threshold)
            .map(|r| &r.drift)
        else {
            let reason = (comparison.skipped.iter())
                .find(|s| s.column == f.name)
                .map_or_else(|| "not compared".to_string(), |s| s.reason.clone());
            outcomes.push(not_compared(f, reason));
            continue;
        };
        let result = ComparatorResult {
            column: f.name.clone(),
            comparator: which,
            method: method.as_str().to_string(),
            statistic: d.statistic,
            p_value: d.p_value,
            threshold: cmp.threshold,
            exceeded: d.drifted,
            severity: cmp.severity,
            exact: d.exact,
            sketch_error: d.sketch_error,
            peak: d.peak.clone(),
        };
        let anomaly = d.drifted.then(|| exceeded(which, cmp, d, &result));
        outcomes.push(Outcome {
            column: Some(f.name.clone()),
            check: check.to_string(),
            anomaly,
            scan: None,
        });
        results.push(result);
    }
    (outcomes, results)
}

/// A statistic in an anomaly's message; none is an infinite distance.
fn fmt(x: Option<f64>) -> String {
    x.map_or_else(|| "infinite".into(), preflight_stats::number::stat)
}

fn exceeded(which: Comparison, cmp: &Comparator, d: &ColumnDrift, r: &ComparatorResult) -> Anomaly {
    let (observed, what) = match d.method.kind() {
        MethodKind::PValue => (
            d.p_value,
            format!(
                "{} p-value {} is below the threshold {}",
                d.method,
                fmt(d.p_value),
                cmp.threshold
            ),
        ),
        MethodKind::Distance => (
            d.statistic,
            format!(
                "{} {} is at or above the threshold {}",
                d.method,
                fmt(d.statistic),
                cmp.threshold
            ),
        ),
    };
    let mut notes = Vec::new();
    if let Some(p) = &d.peak {
        notes.push(format!("peak at {p}"));
    }
    if !d.unseen_categories.is_empty() {
        notes.push(format!("unseen: {}", d.unseen_categories.join(", ")));
    }
    if !d.exact {
        notes.push(format!("from sketches, error {}", fmt(d.sketch_error)));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    let mut a = Anomaly::new(
        Some(&d.column),
        which.exceeded(),
        cmp.severity,
        format!(
            "{} of `{}` from {}: {what}{notes}",
            which.as_str(),
            d.column,
            which.other_side()
        ),
    );
    a.observed = Some(observed.map_or(json!(null), |v| json!(v)));
    a.expected = Some(json!(cmp.threshold));
    a.comparison = Some(r.clone());
    a
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::path::Path;
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, StringArray};
    use arrow::datatypes::{Field, Schema as ArrowSchema};
    use arrow::record_batch::RecordBatch;
    use preflight_stats::profile::ProfileBuilder;

    use super::*;

    /// A real profile of string (`&str` values) and double columns, 100 rows.
    fn profile(columns: &[(&str, ArrayRef)]) -> Profile {
        let fields: Vec<Field> = (columns.iter())
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        let schema = Arc::new(ArrowSchema::new(fields));
        let arrays = columns.iter().map(|(_, a)| a.clone()).collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
        let mut b = ProfileBuilder::new(&schema);
        b.update(&batch).unwrap();
        b.finish(vec!["test".into()])
    }

    fn strings(f: impl Fn(usize) -> &'static str) -> ArrayRef {
        Arc::new(StringArray::from_iter_values((0..100).map(f)))
    }

    fn floats(f: impl Fn(usize) -> f64) -> ArrayRef {
        Arc::new(Float64Array::from_iter_values((0..100).map(f)))
    }

    const SCHEMA: &str = "version: 1
dataset:
  environments: [training, serving]
features:
  - name: c
    type: string
    drift: {method: linf, threshold: 0.1}
  - name: x
    type: double
    drift: {method: psi, threshold: 0.2, severity: warning}
    skew: {method: ks, threshold: 0.05}
  - name: gone
    type: string
    drift: {method: linf, threshold: 0.1}
  - name: fresh
    type: string
    drift: {method: linf, threshold: 0.1}
  - name: s
    type: string
    drift: {method: ks, threshold: 0.05}
  - name: t
    type: string
    environments: [training]
    drift: {method: linf, threshold: 0.1}
";

    /// The baseline: `c` all `a`; the current data: `c` half `b`, `x` unchanged.
    fn sides() -> (Profile, Profile) {
        let x = floats(|i| (i % 10) as f64);
        let baseline = profile(&[
            ("c", strings(|_| "a")),
            ("x", x.clone()),
            ("gone", strings(|_| "g")),
            ("s", strings(|_| "a")),
            ("t", strings(|_| "a")),
        ]);
        let current = profile(&[
            ("t", strings(|i| if i % 2 == 0 { "a" } else { "b" })),
            ("s", strings(|_| "a")),
            ("fresh", strings(|_| "f")),
            ("x", x),
            ("c", strings(|i| if i % 2 == 0 { "a" } else { "b" })),
        ]);
        (baseline, current)
    }

    fn schema() -> Schema {
        Schema::parse(SCHEMA, Path::new("s.yaml")).unwrap()
    }

    #[test]
    fn every_comparator_is_reported_in_schema_order() {
        let (baseline, current) = sides();
        let (outcomes, results) = compare(&schema(), Comparison::Drift, &baseline, &current, None);
        let summary: Vec<(&str, Option<AnomalyKind>)> = (outcomes.iter())
            .map(|o| {
                (
                    o.column.as_deref().unwrap(),
                    o.anomaly.as_ref().map(|a| a.kind),
                )
            })
            .collect();
        // `gone` is not in the current data: validation reports it, not the comparator.
        assert_eq!(
            summary,
            [
                ("c", Some(AnomalyKind::DriftExceeded)),
                ("x", None),
                ("fresh", Some(AnomalyKind::NotCompared)),
                ("s", Some(AnomalyKind::NotCompared)),
                ("t", Some(AnomalyKind::DriftExceeded)),
            ]
        );
        assert!(outcomes.iter().all(|o| o.check == "drift"));
        let c = &outcomes[0].anomaly.as_ref().unwrap();
        assert_eq!(c.severity, Severity::Error);
        assert_eq!(
            c.message,
            "drift of `c` from the baseline: linf 0.5000 is at or above the threshold 0.1 \
             (peak at \"b\"; unseen: b)"
        );
        assert_eq!(c.observed, Some(json!(0.5)));
        assert_eq!(c.expected, Some(json!(0.1)));
        assert_eq!(
            outcomes[2].anomaly.as_ref().unwrap().message,
            "drift of `fresh` was not checked against the baseline: the column is not there"
        );
        assert_eq!(
            outcomes[3].anomaly.as_ref().unwrap().severity,
            Severity::Warning
        );
        let checked: Vec<(&str, &str, bool, bool)> = (results.iter())
            .map(|r| (r.column.as_str(), r.method.as_str(), r.exceeded, r.exact))
            .collect();
        assert_eq!(
            checked,
            [
                ("c", "linf", true, true),
                ("x", "psi", false, true),
                ("t", "linf", true, true)
            ]
        );
        assert_eq!(results[1].severity, Severity::Warning);
        assert_eq!(results[1].statistic, Some(0.0));
        assert_eq!(results[0].comparator, Comparison::Drift);
    }

    #[test]
    fn environment_and_comparison_choose_the_comparators() {
        let (baseline, current) = sides();
        // `t` is expected in training only.
        let (outcomes, _) = compare(
            &schema(),
            Comparison::Drift,
            &baseline,
            &current,
            Some("serving"),
        );
        assert!(outcomes.iter().all(|o| o.column.as_deref() != Some("t")));
        assert_eq!(outcomes.len(), 4);
        // Skew: only `x` has a skew comparator (ks, a p-value: identical data passes).
        let (outcomes, results) = compare(&schema(), Comparison::Skew, &baseline, &current, None);
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].check, "skew");
        assert!(outcomes[0].anomaly.is_none());
        assert_eq!(results[0].method, "ks");
        assert_eq!(results[0].p_value, Some(1.0));
        assert_eq!(features(&schema(), Comparison::Skew).len(), 1);
    }

    #[test]
    fn an_unknown_method_is_not_compared() {
        let (baseline, current) = sides();
        let mut s = schema();
        s.features[0].drift.as_mut().unwrap().method = "magic".into();
        let (outcomes, results) = compare(&s, Comparison::Drift, &baseline, &current, None);
        assert_eq!(
            outcomes[0].anomaly.as_ref().unwrap().message,
            "drift of `c` was not checked against the baseline: unknown method `magic`"
        );
        assert!(results.iter().all(|r| r.column != "c"));
    }
}
