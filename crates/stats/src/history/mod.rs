//! The metrics history: one record per run in a directory, and the anomaly strategies
//! that judge a new run against the past ones.
//!
//! - [`RunMetrics`]: the metrics of a run, taken from its [`Profile`]: the row count,
//!   and per column the missing fraction, mean, standard deviation, min, max, quantiles,
//!   distinct count and top-value shares ([`METRICS`]).
//! - [`store`]: records on disk. `DIR/runs/<id>.json` is one JSON line per run (time,
//!   tags, inputs, the metrics column-major), `DIR/profiles/<id>.profile.json` the run's
//!   whole stored profile, from which any other metric can be recomputed.
//! - [`strategy::Strategy`]: Deequ's anomaly strategies and Soda's change over time.

pub mod store;
pub mod strategy;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::profile::{Kind, Profile, TemporalUnit};

/// The per-column metrics a record keeps, in the order they are written.
pub const METRICS: &[&str] = &[
    "missing_fraction",
    "mean",
    "std_dev",
    "min",
    "max",
    "p1",
    "p5",
    "p10",
    "p25",
    "p50",
    "p75",
    "p90",
    "p95",
    "p99",
    "distinct",
];

/// How many top values a record keeps per column (their shares of the present values).
pub const TOP_SHARES: usize = 10;

/// What a metric name in a check or `history --metric` means.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// The dataset's row count (`rows`).
    Rows,
    /// A column's metric from [`METRICS`] (`median` is `p50`).
    Column(String, &'static str),
    /// The share of one value among a column's present values (`share:<value>`); 0 when
    /// the column's top values are exact and the value is not among them.
    Share(String, String),
}

impl Metric {
    /// A column metric's name (`mean`, `p95`, `share:x`) for column `column`.
    pub fn of_column(column: &str, name: &str) -> Result<Self, String> {
        if let Some(v) = name.strip_prefix("share:") {
            return Ok(Self::Share(column.to_string(), v.to_string()));
        }
        let name = if name == "median" { "p50" } else { name };
        METRICS
            .iter()
            .find(|m| **m == name)
            .map(|m| Self::Column(column.to_string(), m))
            .ok_or_else(|| {
                format!(
                    "unknown metric `{name}` (known: {}, median, share:<value>)",
                    METRICS.join(", ")
                )
            })
    }

    /// `rows`, or `column.metric`: the column is the longest prefix that leaves a known
    /// metric after a dot (a column name may hold dots).
    pub fn parse(text: &str) -> Result<Self, String> {
        if text == "rows" || text == "row_count" {
            return Ok(Self::Rows);
        }
        // Metric names hold no dot: after the last one, unless it is a share's value.
        if let Some(i) = text.rfind('.')
            && i > 0
            && !text[i + 1..].starts_with("share:")
            && let Ok(m) = Self::of_column(&text[..i], &text[i + 1..])
            && !matches!(m, Self::Share(..))
        {
            return Ok(m);
        }
        if let Some(i) = text.find(".share:")
            && i > 0
        {
            return Self::of_column(&text[..i], &text[i + 1..]);
        }
        Err(format!(
            "`{text}` is not a metric: `rows`, or `<column>.<metric>` with a metric among {}, median, share:<value>",
            METRICS.join(", ")
        ))
    }

    /// The text [`Metric::parse`] reads.
    pub fn text(&self) -> String {
        match self {
            Self::Rows => "rows".into(),
            Self::Column(c, m) => format!("{c}.{m}"),
            Self::Share(c, v) => format!("{c}.share:{v}"),
        }
    }

    /// The record field this metric is read from (`rows`, a [`METRICS`] name, or
    /// `top_values`).
    pub fn field(&self) -> &'static str {
        match self {
            Self::Rows => "rows",
            Self::Column(_, m) => m,
            Self::Share(..) => "top_values",
        }
    }
}

/// The metrics of one run, column-major: `values[metric][i]` belongs to `columns[i]`.
/// Column-major keeps a 5,000-column record one short line per metric, and lets a
/// reader parse only the metrics its checks use.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RunMetrics {
    pub rows: u64,
    pub columns: Vec<String>,
    pub values: BTreeMap<String, Vec<Option<f64>>>,
    /// Per column: up to [`TOP_SHARES`] values (as text) with their share of the present
    /// values, and whether the list is exact (every value, or counted exactly).
    pub top_values: Vec<TopShares>,
}

/// A column's top values (as text) and their shares of the present values, in two
/// arrays of one type each (JSON readers that infer Arrow types refuse `[text, number]`
/// pairs), and whether the list is exact (every value, or counted exactly).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct TopShares {
    pub exact: bool,
    pub values: Vec<String>,
    pub shares: Vec<f64>,
}

impl TopShares {
    /// The share of `value`: 0 when the list is complete and the value not in it.
    pub fn share(&self, value: &str) -> Option<f64> {
        match self.values.iter().position(|x| x == value) {
            Some(i) => self.shares.get(i).copied(),
            None if self.exact || self.values.len() < TOP_SHARES => Some(0.0),
            None => None,
        }
    }
}

/// Finite, or none: JSON has no NaN or infinity.
fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

impl RunMetrics {
    pub fn from_profile(p: &Profile) -> Self {
        let mut values: BTreeMap<String, Vec<Option<f64>>> = METRICS
            .iter()
            .map(|m| ((*m).to_string(), Vec::with_capacity(p.columns.len())))
            .collect();
        let mut top_values = Vec::with_capacity(p.columns.len());
        for c in &p.columns {
            let num = c.numeric.as_ref();
            let pct = |k: usize| finite(num.and_then(|n| n.percentiles.get(k).copied()));
            for m in METRICS {
                let v = match *m {
                    "missing_fraction" => Some(c.missing_fraction),
                    "mean" => num.and_then(|n| n.mean),
                    "std_dev" => num.and_then(|n| n.std_dev),
                    "min" => num.and_then(|n| n.min),
                    "max" => num.and_then(|n| n.max),
                    "distinct" => c.distinct.map(|d| d as f64),
                    p => p[1..].parse::<usize>().ok().and_then(pct),
                };
                if let Some(list) = values.get_mut(*m) {
                    list.push(finite(v));
                }
            }
            let present = c.present.max(1) as f64;
            let top = c.top_values.iter().take(TOP_SHARES);
            top_values.push(TopShares {
                exact: c.top_values_exact.unwrap_or(false),
                values: top.clone().map(|t| value_text(&t.value)).collect(),
                shares: top.map(|t| t.count as f64 / present).collect(),
            });
        }
        Self {
            rows: p.row_count,
            columns: p.columns.iter().map(|c| c.name.clone()).collect(),
            values,
            top_values,
        }
    }

    fn index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }

    /// The metric's value in this run; `None` when the column is not there or the metric
    /// has no value for it (a mean of strings, of an all-null column).
    pub fn get(&self, metric: &Metric) -> Option<f64> {
        self.get_at(metric, |c| self.index(c))
    }

    /// [`RunMetrics::get`] with the column's index found by `index` (a reader checking
    /// thousands of columns keeps a map).
    pub fn get_at(&self, metric: &Metric, index: impl Fn(&str) -> Option<usize>) -> Option<f64> {
        match metric {
            Metric::Rows => Some(self.rows as f64),
            Metric::Column(c, m) => {
                let i = index(c)?;
                self.values.get(*m)?.get(i).copied().flatten()
            }
            Metric::Share(c, v) => self.top_values.get(index(c)?)?.share(v),
        }
    }
}

/// A top value as text: a string as it is, anything else as JSON.
fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The newest value of a temporal column as milliseconds since the epoch (UTC), for
/// freshness. A date counts as its last moment (23:59:59.999), as Soda does: data of
/// today is fresh all day. `None` when the column is not temporal or has no values.
pub fn newest_ms(p: &Profile, column: &str) -> Option<i64> {
    let c = p.column(column)?;
    if !c.kind.is_temporal() || c.kind == Kind::Time {
        return None;
    }
    let unit = c.temporal.as_ref()?.unit;
    let max = c.numeric.as_ref()?.max?;
    let ms = match unit {
        TemporalUnit::Days => max * 86_400_000.0 + 86_399_999.0,
        TemporalUnit::Seconds => max * 1_000.0,
        TemporalUnit::Milliseconds => max,
        TemporalUnit::Microseconds => (max / 1_000.0).floor(),
        TemporalUnit::Nanoseconds => (max / 1_000_000.0).floor(),
    };
    Some(ms as i64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn metric_names_parse_with_dots_in_columns() {
        assert_eq!(Metric::parse("rows").unwrap(), Metric::Rows);
        assert_eq!(
            Metric::parse("price.mean").unwrap(),
            Metric::Column("price".into(), "mean")
        );
        assert_eq!(
            Metric::parse("a.b.median").unwrap(),
            Metric::Column("a.b".into(), "p50")
        );
        assert_eq!(
            Metric::parse("species.share:Adelie").unwrap(),
            Metric::Share("species".into(), "Adelie".into())
        );
        assert_eq!(
            Metric::parse("x.share:1.5").unwrap(),
            Metric::Share("x".into(), "1.5".into())
        );
        assert!(Metric::parse("price.average").is_err());
        assert!(Metric::parse("price").is_err());
    }
}
