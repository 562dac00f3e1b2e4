//! Anomaly strategies over a metric's series of past runs: Deequ's (simple threshold,
//! absolute change, relative rate of change, online normal, batch normal, Holt-Winters)
//! with their semantics and defaults, and Soda's change over the last runs. Written from
//! the descriptions in shared/reference/history.md, not from either project's code.
//!
//! Every strategy judges the points of a half-open index interval `[start, end)` of the
//! series, as Deequ's `detect(series, (start, end))` does; [`Strategy::evaluate`] gives
//! every judged point with its expected interval (what a report and a chart show),
//! [`Strategy::detect`] only the anomalous ones. Validation judges the newest point: the
//! interval is `[n, n + 1)` over the history plus the new value.

use serde::Serialize;

/// How Soda's `change` aggregates the historic values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    Avg,
    Min,
    Max,
}

/// A strategy and its parameters (see each variant for its Deequ or Soda meaning).
#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    /// Flag `v < lower || v > upper` (Deequ's SimpleThresholdStrategy; lower defaults
    /// to `f64::MIN`).
    SimpleThreshold { lower: f64, upper: f64 },
    /// The order-n difference (first difference applied n times) outside
    /// `[max_decrease, max_increase]` (a missing bound is open). The first `order` points
    /// are never flagged. Deequ's AbsoluteChangeStrategy (and RateOfChangeStrategy).
    AbsoluteChange {
        max_decrease: Option<f64>,
        max_increase: Option<f64>,
        order: usize,
    },
    /// The lag-n ratio `x[i] / x[i - order]` outside the bounds (ratios: 0.9 and 1.1 are
    /// -/+10%). IEEE division: `x / 0` is infinite, NaN never flagged. Deequ's
    /// RelativeRateOfChangeStrategy.
    RelativeChange {
        max_decrease: Option<f64>,
        max_increase: Option<f64>,
        order: usize,
    },
    /// A running mean and population standard deviation that include the point judged;
    /// flagged outside `mean -/+ factor * sd`. Points before `ignore_start * len` are never
    /// flagged; with `ignore_anomalies` a flagged point leaves the running statistics as
    /// they were (later updates still divide by the index + 1, as Deequ does).
    OnlineNormal {
        lower: Option<f64>,
        upper: Option<f64>,
        ignore_start: f64,
        ignore_anomalies: bool,
    },
    /// Mean and sample standard deviation of the points outside the judged interval (or
    /// of all of them with `include_interval`); flagged outside `mean -/+ factor * sd`.
    BatchNormal {
        lower: Option<f64>,
        upper: Option<f64>,
        include_interval: bool,
    },
    /// Additive Holt-Winters with seasonal period `period`, fitted on `[0, start)`;
    /// flagged where `|x - forecast| > 1.96 * sd` (sd: sample standard deviation of the
    /// absolute in-sample residuals). Needs two full periods before `start`.
    HoltWinters { period: usize },
    /// Soda's change over time: the change from the aggregate of the previous `last`
    /// values (`current - historic`, or `100 * (current - historic) / historic` with
    /// `percent`) outside `[min, max]`.
    Change {
        aggregate: Aggregate,
        last: usize,
        percent: bool,
        min: Option<f64>,
        max: Option<f64>,
    },
}

/// One judged point: its value, the interval it was expected in, and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub index: usize,
    pub value: f64,
    /// `None`: open on that side (or, for a ratio from a zero base, unknown).
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub anomalous: bool,
}

impl Strategy {
    /// The snake_case name used in schema files and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SimpleThreshold { .. } => "threshold",
            Self::AbsoluteChange { .. } => "absolute_change",
            Self::RelativeChange { .. } => "relative_change",
            Self::OnlineNormal { .. } => "online_normal",
            Self::BatchNormal { .. } => "batch_normal",
            Self::HoltWinters { .. } => "holt_winters",
            Self::Change { .. } => "change",
        }
    }

    /// Deequ's requirements on the parameters, as a sentence.
    pub fn check(&self) -> Result<(), String> {
        let bounds = |dec: &Option<f64>, inc: &Option<f64>| match (dec, inc) {
            (None, None) => Err("give max_decrease, max_increase or both".to_string()),
            (Some(d), Some(i)) if d > i => {
                Err(format!("max_decrease {d} is above max_increase {i}"))
            }
            _ => Ok(()),
        };
        let factors = |l: &Option<f64>, u: &Option<f64>| match (l, u) {
            (None, None) => Err("give a lower factor, an upper factor or both".to_string()),
            _ if l.is_some_and(|x| x.is_nan() || x < 0.0)
                || u.is_some_and(|x| x.is_nan() || x < 0.0) =>
            {
                Err("factors must be non-negative".to_string())
            }
            _ => Ok(()),
        };
        match self {
            Self::SimpleThreshold { lower, upper } => {
                if lower > upper {
                    return Err(format!("lower bound {lower} is above upper bound {upper}"));
                }
                Ok(())
            }
            Self::AbsoluteChange {
                max_decrease,
                max_increase,
                ..
            } => bounds(max_decrease, max_increase),
            Self::RelativeChange {
                max_decrease,
                max_increase,
                order,
            } => {
                if *order == 0 {
                    return Err("order must be at least 1".into());
                }
                bounds(max_decrease, max_increase)
            }
            Self::OnlineNormal {
                lower,
                upper,
                ignore_start,
                ..
            } => {
                if !(0.0..=1.0).contains(ignore_start) {
                    return Err(format!("ignore_start {ignore_start} is not in [0, 1]"));
                }
                factors(lower, upper)
            }
            Self::BatchNormal { lower, upper, .. } => factors(lower, upper),
            Self::HoltWinters { period } => {
                if *period < 2 {
                    return Err(format!("period {period} must be at least 2"));
                }
                Ok(())
            }
            Self::Change { last, min, max, .. } => {
                if *last == 0 {
                    return Err("last must be at least 1".into());
                }
                match (min, max) {
                    (None, None) => Err("give min, max or both".into()),
                    (Some(a), Some(b)) if a > b => Err(format!("min {a} is above max {b}")),
                    _ => Ok(()),
                }
            }
        }
    }

    /// The fewest past values the newest point can be judged against: Deequ's own
    /// requirement (a non-empty history for the normal strategies; `order` points for a
    /// change of order n; two full periods for Holt-Winters; none for a threshold).
    pub fn min_history(&self) -> usize {
        match self {
            Self::SimpleThreshold { .. } => 0,
            // Order 0 compares the raw value with the bounds: no history needed.
            Self::AbsoluteChange { order, .. } | Self::RelativeChange { order, .. } => *order,
            Self::HoltWinters { period } => 2 * period,
            _ => 1,
        }
    }

    /// Judge the newest value against `history` (oldest first).
    pub fn judge(&self, history: &[f64], value: f64) -> Result<Point, String> {
        let mut series = Vec::with_capacity(history.len() + 1);
        series.extend_from_slice(history);
        series.push(value);
        let n = history.len();
        let points = self.evaluate(&series, n, n + 1)?;
        points
            .into_iter()
            .find(|p| p.index == n)
            .ok_or_else(|| format!("{} judged no point", self.name()))
    }

    /// The anomalous points of `[start, end)` (Deequ's `detect`).
    pub fn detect(&self, series: &[f64], start: usize, end: usize) -> Result<Vec<Point>, String> {
        Ok(self
            .evaluate(series, start, end)?
            .into_iter()
            .filter(|p| p.anomalous)
            .collect())
    }

    /// Every point of `[start, end)` the strategy judges, with its expected interval.
    pub fn evaluate(&self, series: &[f64], start: usize, end: usize) -> Result<Vec<Point>, String> {
        self.check()?;
        let end = end.min(series.len());
        if start > end {
            return Err(format!("interval [{start}, {end}) is empty"));
        }
        Ok(match self {
            Self::SimpleThreshold { lower, upper } => (start..end)
                .map(|i| {
                    let v = series[i];
                    Point {
                        index: i,
                        value: v,
                        lower: Some(*lower),
                        upper: Some(*upper),
                        anomalous: v < *lower || v > *upper,
                    }
                })
                .collect(),
            Self::AbsoluteChange {
                max_decrease,
                max_increase,
                order,
            } => absolute_change(series, start, end, *max_decrease, *max_increase, *order),
            Self::RelativeChange {
                max_decrease,
                max_increase,
                order,
            } => (start.max(*order)..end)
                .map(|i| {
                    let (v, base) = (series[i], series[i - order]);
                    let ratio = v / base;
                    let (mut lo, mut hi) = (
                        max_decrease.map(|d| d * base),
                        max_increase.map(|u| u * base),
                    );
                    if base < 0.0 {
                        std::mem::swap(&mut lo, &mut hi);
                    }
                    let unknown = base == 0.0;
                    Point {
                        index: i,
                        value: v,
                        lower: if unknown { None } else { lo },
                        upper: if unknown { None } else { hi },
                        anomalous: max_decrease.is_some_and(|d| ratio < d)
                            || max_increase.is_some_and(|u| ratio > u),
                    }
                })
                .collect(),
            Self::OnlineNormal {
                lower,
                upper,
                ignore_start,
                ignore_anomalies,
            } => online_normal(
                series,
                start,
                end,
                *lower,
                *upper,
                *ignore_start,
                *ignore_anomalies,
            ),
            Self::BatchNormal {
                lower,
                upper,
                include_interval,
            } => {
                if series.is_empty() {
                    return Err("batch_normal needs a non-empty series".into());
                }
                if !include_interval && end - start >= series.len() {
                    return Err("batch_normal needs points outside the judged interval".to_string());
                }
                let sample: Vec<f64> = if *include_interval {
                    series.to_vec()
                } else {
                    (series.iter().enumerate())
                        .filter(|(i, _)| *i < start || *i >= end)
                        .map(|(_, v)| *v)
                        .collect()
                };
                let (mean, sd) = mean_sample_sd(&sample);
                let lo = lower.map(|f| mean - f * sd);
                let hi = upper.map(|f| mean + f * sd);
                (start..end)
                    .map(|i| {
                        let v = series[i];
                        Point {
                            index: i,
                            value: v,
                            lower: lo,
                            upper: hi,
                            anomalous: hi.is_some_and(|h| v > h) || lo.is_some_and(|l| v < l),
                        }
                    })
                    .collect()
            }
            Self::HoltWinters { period } => holt_winters(series, start, end, *period)?,
            Self::Change {
                aggregate,
                last,
                percent,
                min,
                max,
            } => (start..end)
                .filter_map(|i| {
                    let past = &series[i.saturating_sub(*last)..i];
                    if past.is_empty() {
                        return None;
                    }
                    let historic = match aggregate {
                        Aggregate::Avg => past.iter().sum::<f64>() / past.len() as f64,
                        Aggregate::Min => past.iter().copied().fold(f64::INFINITY, f64::min),
                        Aggregate::Max => past.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    };
                    let v = series[i];
                    let diff = v - historic;
                    // Soda: from a zero historic value the percentage is 0 when nothing
                    // changed and undefined (here: anomalous, no interval) otherwise.
                    let change = if *percent {
                        if historic == 0.0 {
                            (diff == 0.0).then_some(0.0)
                        } else {
                            Some(diff / historic * 100.0)
                        }
                    } else {
                        Some(diff)
                    };
                    let to_value = |c: f64| {
                        if *percent {
                            historic + historic * c / 100.0
                        } else {
                            historic + c
                        }
                    };
                    let (mut lo, mut hi) = if *percent && historic == 0.0 {
                        (None, None)
                    } else {
                        (min.map(to_value), max.map(to_value))
                    };
                    if *percent && historic < 0.0 {
                        std::mem::swap(&mut lo, &mut hi);
                    }
                    let anomalous = match change {
                        Some(c) => min.is_some_and(|m| c < m) || max.is_some_and(|m| c > m),
                        None => true,
                    };
                    Some(Point {
                        index: i,
                        value: v,
                        lower: lo,
                        upper: hi,
                        anomalous,
                    })
                })
                .collect(),
        })
    }
}

/// Mean and sample standard deviation (n - 1; 0 for one value), as breeze's
/// `meanAndVariance` that Deequ's batch normal strategy uses.
fn mean_sample_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, 0.0);
    }
    let ss: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, (ss / (n - 1) as f64).sqrt())
}

/// The binomial coefficients of an order-n difference: d_i = sum_k (-1)^k C(n,k) x_{i-k}.
fn difference_weights(order: usize) -> Vec<f64> {
    let mut w = vec![1.0];
    for _ in 0..order {
        let mut next = vec![0.0; w.len() + 1];
        for (k, c) in w.iter().enumerate() {
            next[k] += c;
            next[k + 1] -= c;
        }
        w = next;
    }
    w
}

fn absolute_change(
    series: &[f64],
    start: usize,
    end: usize,
    dec: Option<f64>,
    inc: Option<f64>,
    order: usize,
) -> Vec<Point> {
    // Deequ differences the slice [max(start - order, 0), end) recursively and reports
    // difference j at index j + startPoint + order: the points judged are those from
    // max(start, order) on. The recursive difference equals the binomial sum.
    let w = difference_weights(order);
    (start.max(order)..end)
        .map(|i| {
            let d: f64 = (0..=order).map(|k| w[k] * series[i - k]).sum();
            // The value at which the difference would be 0: the interval is around it.
            let base: f64 = (1..=order).map(|k| -w[k] * series[i - k]).sum();
            Point {
                index: i,
                value: series[i],
                lower: dec.map(|x| base + x),
                upper: inc.map(|x| base + x),
                anomalous: dec.is_some_and(|x| d < x) || inc.is_some_and(|x| d > x),
            }
        })
        .collect()
}

fn online_normal(
    series: &[f64],
    start: usize,
    end: usize,
    lf: Option<f64>,
    uf: Option<f64>,
    ignore_start: f64,
    ignore_anomalies: bool,
) -> Vec<Point> {
    let len = series.len() as f64;
    let mut out = Vec::new();
    let (mut mean, mut s) = (0.0f64, 0.0f64);
    for (i, &x) in series.iter().enumerate() {
        let (prev_mean, prev_s) = (mean, s);
        if i == 0 {
            mean = x;
        } else {
            mean = prev_mean + (x - prev_mean) / (i + 1) as f64;
        }
        s += (x - prev_mean) * (x - mean);
        let sd = (s / (i + 1) as f64).sqrt();
        let lo = lf.map(|f| mean - f * sd);
        let hi = uf.map(|f| mean + f * sd);
        let judged = i >= start && i < end && (i as f64) >= len * ignore_start;
        let outside = lo.is_some_and(|l| x < l) || hi.is_some_and(|h| x > h);
        let anomalous = judged && outside;
        if judged {
            out.push(Point {
                index: i,
                value: x,
                lower: lo,
                upper: hi,
                anomalous,
            });
        }
        if anomalous && ignore_anomalies {
            mean = prev_mean;
            s = prev_s;
        }
    }
    out
}

/// The additive Holt-Winters recursion over `y` with period `p`: the one-step residuals
/// (`y - forecast`), and the state after the last point (level, trend, seasonal terms
/// indexed by time, `p` beyond the series).
struct HwRun {
    residuals: Vec<f64>,
    level: f64,
    trend: f64,
    seasonal: Vec<f64>,
}

fn hw_run(y: &[f64], p: usize, alpha: f64, beta: f64, gamma: f64) -> HwRun {
    let n = y.len();
    let level0 = y[..p].iter().sum::<f64>() / p as f64;
    let trend0 = (y[p..2 * p].iter().sum::<f64>() - y[..p].iter().sum::<f64>()) / (p * p) as f64;
    let mut seasonal = vec![0.0; n + p];
    for j in 0..p {
        seasonal[j] = y[j] - level0;
    }
    let (mut level, mut trend) = (level0, trend0);
    let mut residuals = Vec::with_capacity(n);
    for t in 0..n {
        let forecast = level + trend + seasonal[t];
        residuals.push(y[t] - forecast);
        let next_level = alpha * (y[t] - seasonal[t]) + (1.0 - alpha) * (level + trend);
        let next_trend = beta * (next_level - level) + (1.0 - beta) * trend;
        seasonal[t + p] = gamma * (y[t] - level - trend) + (1.0 - gamma) * seasonal[t];
        level = next_level;
        trend = next_trend;
    }
    HwRun {
        residuals,
        level,
        trend,
        seasonal,
    }
}

fn sse(y: &[f64], p: usize, x: [f64; 3]) -> f64 {
    hw_run(y, p, x[0], x[1], x[2])
        .residuals
        .iter()
        .map(|r| r * r)
        .sum()
}

/// Minimise `f` on the unit cube from `x0`: projected gradient descent with a central
/// finite-difference gradient and Armijo backtracking. Deequ uses breeze's L-BFGS-B; for
/// three parameters in a box a projected gradient reaches the same minimum (to the
/// tolerance that matters for a forecast) in a few dozen evaluations of the recursion.
pub(crate) fn minimise_box(f: impl Fn([f64; 3]) -> f64, x0: [f64; 3]) -> [f64; 3] {
    const H: f64 = 1e-6;
    let project = |x: [f64; 3]| x.map(|v| v.clamp(0.0, 1.0));
    let mut x = project(x0);
    let mut fx = f(x);
    let mut step = 1.0f64;
    for _ in 0..200 {
        let mut g = [0.0; 3];
        for k in 0..3 {
            let (mut a, mut b) = (x, x);
            a[k] = (x[k] + H).min(1.0);
            b[k] = (x[k] - H).max(0.0);
            let width = a[k] - b[k];
            if width > 0.0 {
                g[k] = (f(a) - f(b)) / width;
            }
        }
        // The projected gradient: zero where a bound blocks the descent.
        let pg: f64 = (0..3)
            .map(|k| {
                let moved = (x[k] - g[k]).clamp(0.0, 1.0) - x[k];
                moved * moved
            })
            .sum::<f64>()
            .sqrt();
        if pg.is_nan() || pg <= 1e-9 {
            break;
        }
        let scale = g.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1e-300);
        let mut t = step;
        let mut improved = false;
        for _ in 0..60 {
            let cand = project([
                x[0] - t * g[0] / scale,
                x[1] - t * g[1] / scale,
                x[2] - t * g[2] / scale,
            ]);
            let fc = f(cand);
            let decrease: f64 = (0..3).map(|k| g[k] * (x[k] - cand[k])).sum();
            if fc.is_finite() && fc <= fx - 1e-4 * decrease.max(0.0) && fc < fx {
                x = cand;
                fx = fc;
                improved = true;
                step = (t * 2.0).min(1.0);
                break;
            }
            t *= 0.5;
        }
        if !improved {
            break;
        }
    }
    x
}

fn holt_winters(series: &[f64], start: usize, end: usize, p: usize) -> Result<Vec<Point>, String> {
    if series.is_empty() {
        return Err("holt_winters needs a non-empty series".into());
    }
    if start >= end {
        return Err("holt_winters needs a non-empty interval".into());
    }
    if start < 2 * p {
        return Err(format!(
            "holt_winters needs at least two full cycles of data ({} points before the judged one, has {start})",
            2 * p
        ));
    }
    let train = &series[..start.min(series.len())];
    let x = minimise_box(|x| sse(train, p, x), [0.3, 0.1, 0.1]);
    let run = hw_run(train, p, x[0], x[1], x[2]);
    let abs: Vec<f64> = run.residuals.iter().map(|r| r.abs()).collect();
    let (_, sd) = mean_sample_sd(&abs);
    let n = train.len();
    let horizon = if start >= series.len() {
        1
    } else {
        end.min(series.len()) - start
    };
    let mut out = Vec::new();
    for h in 1..=horizon {
        let i = start + h - 1;
        if i >= series.len() {
            break;
        }
        let forecast = run.level + h as f64 * run.trend + run.seasonal[n + (h - 1) % p];
        let v = series[i];
        let band = 1.96 * sd;
        out.push(Point {
            index: i,
            value: v,
            lower: Some(forecast - band),
            upper: Some(forecast + band),
            anomalous: (v - forecast).abs() > band,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn flagged(s: &Strategy, series: &[f64], start: usize, end: usize) -> Vec<usize> {
        s.detect(series, start, end)
            .unwrap()
            .iter()
            .map(|p| p.index)
            .collect()
    }

    const ALL: usize = usize::MAX;

    #[test]
    fn simple_threshold_deequ_vectors() {
        let s = Strategy::SimpleThreshold {
            lower: f64::MIN,
            upper: 1.0,
        };
        assert_eq!(flagged(&s, &[-1.0, 2.0, 3.0, 0.5], 0, ALL), vec![1, 2]);
        let s = Strategy::SimpleThreshold {
            lower: -0.5,
            upper: 1.0,
        };
        assert_eq!(flagged(&s, &[-1.0, 2.0, 3.0, 0.5], 0, ALL), vec![0, 1, 2]);
        assert!(
            Strategy::SimpleThreshold {
                lower: 2.0,
                upper: 1.0
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn difference_of_order_n_is_the_recursive_difference() {
        // Deequ's vectors: [1,2,4,1,2,8] order 1 = [1,2,-3,1,6], order 2 = [1,-5,4,5].
        let x = [1.0, 2.0, 4.0, 1.0, 2.0, 8.0];
        for (order, want) in [
            (1, vec![1.0, 2.0, -3.0, 1.0, 6.0]),
            (2, vec![1.0, -5.0, 4.0, 5.0]),
        ] {
            let w = difference_weights(order);
            let got: Vec<f64> = (order..x.len())
                .map(|i| (0..=order).map(|k| w[k] * x[i - k]).sum())
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn absolute_change_deequ_vectors() {
        let s = Strategy::AbsoluteChange {
            max_decrease: None,
            max_increase: Some(8.0),
            order: 2,
        };
        let x = [0.0, 1.0, 3.0, 6.0, 18.0, 72.0];
        assert_eq!(flagged(&s, &x, 0, ALL), vec![4, 5]);
        assert_eq!(flagged(&s, &x, 5, 6), vec![5]);
        let s = Strategy::AbsoluteChange {
            max_decrease: Some(-2.0),
            max_increase: Some(2.0),
            order: 1,
        };
        assert_eq!(flagged(&s, &[1.0, -1.0, 4.0, -7.0], 0, ALL), vec![2, 3]);
        // The interval for the value: previous value + [-2, 2].
        let p = s.judge(&[1.0, -1.0, 4.0], -7.0).unwrap();
        assert_eq!(
            (p.lower, p.upper, p.anomalous),
            (Some(2.0), Some(6.0), true)
        );
        // The first `order` points are never flagged.
        assert!(flagged(&s, &[100.0], 0, ALL).is_empty());
        // Order 0 is the raw value against the bounds, judged without history.
        let s0 = Strategy::AbsoluteChange {
            max_decrease: None,
            max_increase: Some(5.0),
            order: 0,
        };
        assert_eq!(s0.min_history(), 0);
        assert!(s0.judge(&[], 6.0).unwrap().anomalous);
        assert!(!s0.judge(&[], 5.0).unwrap().anomalous);
    }

    #[test]
    fn relative_change_deequ_vectors() {
        let x = [1.0, 2.0, 4.0, 1.0, 2.0, 8.0];
        let ratios =
            |order: usize| -> Vec<f64> { (order..x.len()).map(|i| x[i] / x[i - order]).collect() };
        assert_eq!(ratios(1), vec![2.0, 2.0, 0.25, 2.0, 4.0]);
        assert_eq!(ratios(2), vec![4.0, 0.5, 0.5, 8.0]);
        let s = Strategy::RelativeChange {
            max_decrease: None,
            max_increase: Some(8.0),
            order: 2,
        };
        // 3 / 0 is infinite (flagged), 72 / 6 = 12.
        assert_eq!(
            flagged(&s, &[0.0, 1.0, 3.0, 6.0, 18.0, 72.0], 0, ALL),
            vec![2, 5]
        );
        // Deequ's example: Size() 2 rows then 5, max increase 2.0: 2.5 > 2.
        let s = Strategy::RelativeChange {
            max_decrease: None,
            max_increase: Some(2.0),
            order: 1,
        };
        let p = s.judge(&[2.0], 5.0).unwrap();
        assert!(p.anomalous);
        assert_eq!(p.upper, Some(4.0));
        assert!(!s.judge(&[2.0], 4.0).unwrap().anomalous);
        // NaN (0 / 0) is never flagged.
        assert!(!s.judge(&[0.0], 0.0).unwrap().anomalous);
        assert!(
            Strategy::RelativeChange {
                max_decrease: Some(0.9),
                max_increase: None,
                order: 0
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn batch_normal_deequ_vector() {
        let s = Strategy::BatchNormal {
            lower: Some(3.0),
            upper: Some(3.0),
            include_interval: false,
        };
        let x = [1.0, 1.0, 1.0, 1000.0, 500.0, 1.0];
        assert_eq!(flagged(&s, &x, 3, 5), vec![3, 4]);
        // Hand computed: others [1, 2, 3] have mean 2, sample sd 1: band [-1, 5].
        let p = s.judge(&[1.0, 2.0, 3.0], 5.0).unwrap();
        assert_eq!(
            (p.lower, p.upper, p.anomalous),
            (Some(-1.0), Some(5.0), false)
        );
        assert!(s.judge(&[1.0, 2.0, 3.0], 5.01).unwrap().anomalous);
        // The whole series judged with nothing outside the interval is an error.
        assert!(s.evaluate(&x, 0, 6).is_err());
    }

    #[test]
    fn online_normal_deequ_vector() {
        let s = Strategy::OnlineNormal {
            lower: Some(1.5),
            upper: Some(1.5),
            ignore_start: 0.2,
            ignore_anomalies: true,
        };
        let x = [1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0];
        assert_eq!(flagged(&s, &x, 0, ALL), vec![3]);
        // Over the whole series the final statistics exclude the anomaly: mean 1, sd 0.
        let all = s.evaluate(&x, 0, 7).unwrap();
        let last = all.last().unwrap();
        assert_eq!((last.lower, last.upper), (Some(1.0), Some(1.0)));
        // Hand computed at index 3: mean 1.25, population sd sqrt(0.1875).
        let p = &s.evaluate(&x, 3, 4).unwrap()[0];
        let sd = 0.1875f64.sqrt();
        assert!((p.upper.unwrap() - (1.25 + 1.5 * sd)).abs() < 1e-12);
        // Without ignoring anomalies the final mean is the whole series' mean.
        let s = Strategy::OnlineNormal {
            lower: Some(1.5),
            upper: Some(1.5),
            ignore_start: 0.2,
            ignore_anomalies: false,
        };
        let all = s.evaluate(&x, 0, 7).unwrap();
        let last = all.last().unwrap();
        let mean = x.iter().sum::<f64>() / 7.0;
        let mid = (last.lower.unwrap() + last.upper.unwrap()) / 2.0;
        assert!((mid - mean).abs() < 1e-12);
    }

    #[test]
    fn holt_winters_deequ_vectors() {
        let s = Strategy::HoltWinters { period: 7 };
        let mut x = vec![1.0; 20];
        x.push(0.0);
        assert_eq!(flagged(&s, &x, 14, ALL), vec![20]);
        assert!(flagged(&s, &[1.0; 21], 14, ALL).is_empty());
        let mut x = Vec::new();
        for _ in 0..2 {
            x.extend([0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        }
        x.extend([1.0; 7]);
        assert_eq!(flagged(&s, &x, 14, 21), vec![14]);
        // Two full cycles are needed.
        assert!(s.evaluate(&x, 13, 14).is_err());
    }

    #[test]
    fn holt_winters_follows_a_seasonal_trend() {
        // A weekly pattern on a linear trend with a little noise: the next value in
        // pattern passes, one 30% low is flagged.
        let mut u = crate::test_uniform(7);
        let pattern = [1.0, 1.1, 1.2, 1.1, 1.0, 0.7, 0.6];
        let x: Vec<f64> = (0..35)
            .map(|t| 100.0 * pattern[t % 7] + 0.5 * t as f64 + (u() - 0.5))
            .collect();
        let s = Strategy::HoltWinters { period: 7 };
        let next = 100.0 * pattern[35 % 7] + 0.5 * 35.0;
        assert!(!s.judge(&x, next).unwrap().anomalous);
        assert!(s.judge(&x, next * 0.7).unwrap().anomalous);
    }

    #[test]
    fn minimiser_finds_a_box_minimum() {
        // Minimum at (0.2, 1.0 clamped from 1.5, 0.0 clamped from -0.3).
        let f = |x: [f64; 3]| (x[0] - 0.2).powi(2) + (x[1] - 1.5).powi(2) + (x[2] + 0.3).powi(2);
        let x = minimise_box(f, [0.3, 0.1, 0.1]);
        assert!((x[0] - 0.2).abs() < 1e-4, "{x:?}");
        assert!((x[1] - 1.0).abs() < 1e-9, "{x:?}");
        assert!(x[2].abs() < 1e-9, "{x:?}");
    }

    #[test]
    fn soda_change_over_time() {
        // `change avg last 3 for m between -10 and +50`: historic avg of [10, 20, 30] = 20.
        let s = Strategy::Change {
            aggregate: Aggregate::Avg,
            last: 3,
            percent: false,
            min: Some(-10.0),
            max: Some(50.0),
        };
        let p = s.judge(&[99.0, 10.0, 20.0, 30.0], 71.0).unwrap();
        assert_eq!(
            (p.lower, p.upper, p.anomalous),
            (Some(10.0), Some(70.0), true)
        );
        assert!(!s.judge(&[99.0, 10.0, 20.0, 30.0], 70.0).unwrap().anomalous);
        // Percent from the minimum of the last 2: historic 10, +25% = 12.5.
        let s = Strategy::Change {
            aggregate: Aggregate::Min,
            last: 2,
            percent: true,
            min: Some(-10.0),
            max: Some(25.0),
        };
        assert!(!s.judge(&[10.0, 30.0], 12.5).unwrap().anomalous);
        assert!(s.judge(&[10.0, 30.0], 12.6).unwrap().anomalous);
        assert!(s.judge(&[10.0, 30.0], 8.9).unwrap().anomalous);
        // From 0: no change is 0%, any change is undefined (flagged).
        assert!(!s.judge(&[0.0], 0.0).unwrap().anomalous);
        assert!(s.judge(&[0.0], 1.0).unwrap().anomalous);
        // Max of the previous value only (Soda's default is last 1).
        let s = Strategy::Change {
            aggregate: Aggregate::Max,
            last: 1,
            percent: false,
            min: None,
            max: Some(0.0),
        };
        assert!(s.judge(&[50.0, 3.0], 4.0).unwrap().anomalous);
    }
}
