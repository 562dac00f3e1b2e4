//! The schema's checks over time: each `history` check judges one metric of the new run
//! against the same metric in past runs with one strategy
//! ([`preflight_stats::history::strategy`]); `freshness` bounds a timestamp column's
//! newest value relative to the run's time. [`default_checks`] is what `infer
//! --history-checks` writes.
//!
//! Too little history is never a silent pass: the check is a `not_compared` warning
//! saying how many past runs there were and how many it needs.

use preflight_stats::Severity;
use preflight_stats::history::store::{History, format_time};
use preflight_stats::history::{Metric, RunMetrics, newest_ms};
use preflight_stats::profile::{Kind, Profile};
use serde_json::json;

use crate::model::{
    BatchNormalSpec, ChangeSpec, Feature, HistoryCheck, Schema, SodaChangeSpec, parse_duration,
};
use crate::validate::{Anomaly, AnomalyKind, Outcome};

/// What the history checks need of the run: its time and its metrics.
pub struct Run<'a> {
    pub at_ms: i64,
    pub profile: &'a Profile,
    pub metrics: &'a RunMetrics,
}

/// Whether the schema declares any check that reads the history.
pub fn has_checks(schema: &Schema) -> bool {
    !schema.dataset.history.is_empty() || schema.features.iter().any(|f| !f.history.is_empty())
}

/// How many past runs the schema's history checks look at most (`None`: one of them has
/// no `last`, so all of them).
pub fn window(schema: &Schema) -> Option<usize> {
    let checks =
        (schema.dataset.history.iter()).chain(schema.features.iter().flat_map(|f| &f.history));
    let mut most = 0;
    for h in checks {
        most = most.max(h.last?);
        most = most.max(h.min_history.unwrap_or(0));
    }
    Some(most)
}

/// Whether the schema declares a freshness check.
pub fn has_freshness(schema: &Schema) -> bool {
    schema.features.iter().any(|f| f.freshness.is_some())
}

/// The metrics the schema's history checks read (for reading only those).
pub fn metrics(schema: &Schema) -> Vec<Metric> {
    let mut out: Vec<Metric> = schema
        .dataset
        .history
        .iter()
        .map(|_| Metric::Rows)
        .collect();
    for f in &schema.features {
        for h in &f.history {
            if let Ok(m) = Metric::of_column(&f.name, &h.metric) {
                out.push(m);
            }
        }
    }
    out
}

fn expected_here(f: &Feature, env: Option<&str>) -> bool {
    env.is_none_or(|e| f.environments.is_empty() || f.environments.iter().any(|x| x == e))
}

/// Judge the run against `history` (the past runs, oldest first, already chosen by tag
/// and time). `history` is `None` when no history was given: only freshness is checked
/// (the caller notes the history checks it could not run).
pub fn check(
    schema: &Schema,
    run: &Run<'_>,
    history: Option<&History<'_>>,
    environment: Option<&str>,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    for h in schema.dataset.history.iter().filter(|_| history.is_some()) {
        out.push(judge(h, &Metric::Rows, None, run, history));
    }
    let index: std::collections::HashMap<&str, usize> = (run.metrics.columns.iter())
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    for f in &schema.features {
        if !expected_here(f, environment) || !index.contains_key(f.name.as_str()) {
            // A missing column is validation's `missing_column`; not checked twice.
            continue;
        }
        for h in f.history.iter().filter(|_| history.is_some()) {
            let Ok(metric) = Metric::of_column(&f.name, &h.metric) else {
                continue; // Schema::load checked it.
            };
            out.push(judge_at(h, &metric, Some(&f.name), run, history, &index));
        }
        if let Some(fr) = &f.freshness {
            out.push(freshness(f, fr, run));
        }
    }
    out
}

fn judge(
    h: &HistoryCheck,
    metric: &Metric,
    column: Option<&str>,
    run: &Run<'_>,
    history: Option<&History<'_>>,
) -> Outcome {
    judge_at(
        h,
        metric,
        column,
        run,
        history,
        &std::collections::HashMap::new(),
    )
}

fn judge_at(
    h: &HistoryCheck,
    metric: &Metric,
    column: Option<&str>,
    run: &Run<'_>,
    history: Option<&History<'_>>,
    index: &std::collections::HashMap<&str, usize>,
) -> Outcome {
    let name = metric.text();
    let check = format!("history:{}", h.metric);
    let outcome = |anomaly: Option<Anomaly>| Outcome {
        column: column.map(str::to_string),
        check: check.clone(),
        anomaly,
        scan: None,
    };
    let not_compared = |why: String| {
        let mut a = Anomaly::new(
            column,
            AnomalyKind::NotCompared,
            Severity::Warning,
            format!("`{name}` was not checked against the history: {why}"),
        );
        a.metric = Some(name.clone());
        outcome(Some(a))
    };
    let strategy = match h.strategy() {
        Ok(s) => s,
        Err(e) => return not_compared(e),
    };
    let Some(history) = history else {
        return not_compared("no history was given (--history DIR)".into());
    };
    let value = if index.is_empty() {
        run.metrics.get(metric)
    } else {
        run.metrics.get_at(metric, |c| index.get(c).copied())
    };
    let Some(value) = value else {
        return not_compared(format!("this run has no `{}` value", h.metric));
    };
    let mut series: Vec<f64> = history.series(metric).iter().map(|p| p.value).collect();
    if let Some(n) = h.last
        && series.len() > n
    {
        series.drain(..series.len() - n);
    }
    let need = h.min_history.unwrap_or(0).max(strategy.min_history());
    if series.len() < need {
        return not_compared(format!(
            "{} past run{} with a value, {} needs {need}",
            series.len(),
            if series.len() == 1 { "" } else { "s" },
            strategy.name()
        ));
    }
    let point = match strategy.judge(&series, value) {
        Ok(p) => p,
        Err(e) => return not_compared(e),
    };
    if !point.anomalous {
        return outcome(None);
    }
    let interval = match (point.lower, point.upper) {
        (None, None) => "no defined interval".to_string(),
        (l, u) => format!(
            "[{}, {}]",
            l.map_or("-inf".to_string(), num),
            u.map_or("inf".to_string(), num)
        ),
    };
    let mut a = Anomaly::new(
        column,
        AnomalyKind::MetricAnomaly,
        h.severity,
        format!(
            "`{name}` is {} in this run, outside the expected interval {interval} ({} over the last {} runs)",
            num(value),
            strategy.name(),
            series.len()
        ),
    )
    .with(
        json!(value),
        json!({"lower": point.lower, "upper": point.upper}),
    );
    a.metric = Some(name);
    a.strategy = Some(strategy.name().to_string());
    a.history_runs = Some(series.len());
    outcome(Some(a))
}

fn freshness(f: &Feature, fr: &crate::model::Freshness, run: &Run<'_>) -> Outcome {
    let name = f.name.as_str();
    let max_age = parse_duration(&fr.max_age).unwrap_or(i64::MAX);
    let fail = |message: String, observed: serde_json::Value| Outcome {
        column: Some(name.to_string()),
        check: "freshness".into(),
        anomaly: Some(
            Anomaly::new(Some(name), AnomalyKind::Freshness, fr.severity, message)
                .with(observed, json!({"max_age": fr.max_age})),
        ),
        scan: None,
    };
    let Some(newest) = newest_ms(run.profile, name) else {
        let why = match run.profile.column(name) {
            Some(c) if !c.kind.is_temporal() || c.kind == Kind::Time => {
                format!("is not a date or timestamp column ({})", c.type_name)
            }
            _ => "has no values".to_string(),
        };
        return fail(
            format!("freshness of `{name}` cannot be judged: the column {why}"),
            serde_json::Value::Null,
        );
    };
    let age = run.at_ms.saturating_sub(newest);
    if age > max_age {
        return fail(
            format!(
                "`{name}` is stale: its newest value ({}) is {} old at the run's time {}, more than {}",
                format_time(newest),
                duration_text(age),
                format_time(run.at_ms),
                fr.max_age
            ),
            json!(format_time(newest)),
        );
    }
    Outcome::pass(name, "freshness")
}

/// One point of a series walked with a check: as validating each run in turn would have
/// judged it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WalkedPoint {
    pub time: String,
    pub value: f64,
    /// Whether there was history enough to judge it.
    pub judged: bool,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub anomalous: bool,
}

/// The check `history --metric` draws when the schema gives none: the row count's
/// default, batch normal with 3 standard deviations over the last 14 runs, after 7.
pub fn display_check(metric: &str) -> HistoryCheck {
    HistoryCheck {
        metric: metric.to_string(),
        last: Some(14),
        min_history: Some(7),
        threshold: None,
        absolute_change: None,
        relative_change: None,
        online_normal: None,
        batch_normal: Some(BatchNormalSpec {
            lower: Some(3.0),
            upper: Some(3.0),
        }),
        holt_winters: None,
        change: None,
        severity: Severity::Warning,
    }
}

/// Judge each point of `series` (oldest first) against the points before it, as
/// `validate --history` would have run by run: a point found anomalous is left out of
/// the later baselines.
pub fn walk(
    check: &HistoryCheck,
    series: &[preflight_stats::history::store::SeriesPoint],
) -> std::result::Result<Vec<WalkedPoint>, String> {
    let strategy = check.strategy()?;
    let need = check.min_history.unwrap_or(0).max(strategy.min_history());
    let mut kept: Vec<f64> = Vec::new();
    let mut out = Vec::with_capacity(series.len());
    for p in series {
        let window = match check.last {
            Some(n) if kept.len() > n => &kept[kept.len() - n..],
            _ => &kept[..],
        };
        let judged = (window.len() >= need)
            .then(|| strategy.judge(window, p.value).ok())
            .flatten();
        let w = WalkedPoint {
            time: format_time(p.time_ms),
            value: p.value,
            judged: judged.is_some(),
            lower: judged.as_ref().and_then(|j| j.lower),
            upper: judged.as_ref().and_then(|j| j.upper),
            anomalous: judged.as_ref().is_some_and(|j| j.anomalous),
        };
        if !w.anomalous {
            kept.push(p.value);
        }
        out.push(w);
    }
    Ok(out)
}

/// A duration in ms as `1d2h3m4s` (largest units, zeros left out).
pub fn duration_text(ms: i64) -> String {
    let mut s = ms.max(0) / 1000;
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if s >= size {
            out.push_str(&format!("{}{unit}", s / size));
            s %= size;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// A metric's value: whole numbers (row counts, distinct counts) as they are.
fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        preflight_stats::number::stat(x)
    }
}

/// The history checks `infer --history-checks` writes, from the first batch's profile:
/// - the row count within 3 standard deviations of the last 14 runs (batch normal, after
///   at least 7 runs): the volume check;
/// - each column's missing fraction at most 5 points above its average over the last 7
///   runs (Soda's change, `avg`);
/// - a number's mean within 4 standard deviations of its means over the last 30 runs
///   (batch normal, after 7 runs): a batch's mean moves little, so a shift by a fraction
///   of the column's spread stands out, and 4 keeps false alarms rare over many columns;
/// - a category column's distinct count (exact, at most 50 values) not below the previous
///   run's (absolute change): a category that disappears.
///
/// Checks are warnings, as Deequ's anomaly checks are by default; they are added to any a
/// feature has already.
pub fn default_checks(schema: &mut Schema, profile: &Profile) {
    let check = |metric: &str| HistoryCheck {
        metric: metric.to_string(),
        last: None,
        min_history: None,
        threshold: None,
        absolute_change: None,
        relative_change: None,
        online_normal: None,
        batch_normal: None,
        holt_winters: None,
        change: None,
        severity: Severity::Warning,
    };
    schema.dataset.history.push(HistoryCheck {
        last: Some(14),
        min_history: Some(7),
        batch_normal: Some(BatchNormalSpec {
            lower: Some(3.0),
            upper: Some(3.0),
        }),
        ..check("rows")
    });
    for f in &mut schema.features {
        let Some(c) = profile.column(&f.name) else {
            continue;
        };
        f.history.push(HistoryCheck {
            last: Some(7),
            change: Some(SodaChangeSpec {
                aggregate: preflight_stats::history::strategy::Aggregate::Avg,
                percent: false,
                min: None,
                max: Some(0.05),
            }),
            ..check("missing_fraction")
        });
        if matches!(c.kind, Kind::Integer | Kind::Float | Kind::Decimal)
            && c.numeric.as_ref().is_some_and(|n| n.mean.is_some())
        {
            f.history.push(HistoryCheck {
                last: Some(30),
                min_history: Some(7),
                batch_normal: Some(BatchNormalSpec {
                    lower: Some(4.0),
                    upper: Some(4.0),
                }),
                ..check("mean")
            });
        }
        if matches!(c.kind, Kind::String | Kind::Boolean)
            && c.distinct_exact == Some(true)
            && c.distinct.is_some_and(|d| (2..=50).contains(&d))
        {
            f.history.push(HistoryCheck {
                last: Some(7),
                absolute_change: Some(ChangeSpec {
                    max_decrease: Some(0.0),
                    max_increase: None,
                    order: 1,
                }),
                ..check("distinct")
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1d2h").unwrap(), 93_600_000);
        assert_eq!(parse_duration("90m").unwrap(), 5_400_000);
        assert!(parse_duration("2 days").is_err());
        assert!(parse_duration("5").is_err());
        assert_eq!(duration_text(93_600_000 + 61_000), "1d2h1m1s");
    }
}
