//! Numeric distances on samples (Wasserstein), distances between two binned
//! distributions (PSI, KL, Jensen-Shannon, Hellinger), and Evidently's binning rule.
//!
//! The binned functions take two aligned vectors of counts or probabilities; each side
//! is normalised by its own total first, so raw counts and proportions give the same
//! result.

use super::DriftError;
use serde::Serialize;

/// Evidently floors the reference standard deviation at this value before dividing the
/// Wasserstein distance by it, so that a constant reference column does not divide by 0.
pub const WASSERSTEIN_STD_FLOOR: f64 = 0.001;

/// Evidently bins a numeric column by value when the reference has at most this many
/// distinct values, and into Sturges bins otherwise.
pub const VALUE_BIN_MAX_DISTINCT: usize = 20;

/// First Wasserstein distance between two empirical distributions:
/// `scipy.stats.wasserstein_distance(u, v)` = the area between their CDFs.
pub fn wasserstein_distance(u: &[f64], v: &[f64]) -> Result<f64, DriftError> {
    check_sample(u)?;
    check_sample(v)?;
    let mut us = u.to_vec();
    let mut vs = v.to_vec();
    us.sort_by(f64::total_cmp);
    vs.sort_by(f64::total_cmp);
    let mut all: Vec<f64> = us.iter().chain(&vs).copied().collect();
    all.sort_by(f64::total_cmp);
    let (nu, nv) = (us.len() as f64, vs.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut total = 0.0;
    for w in all.windows(2) {
        let x = w[0];
        while i < us.len() && us[i] <= x {
            i += 1;
        }
        while j < vs.len() && vs[j] <= x {
            j += 1;
        }
        total += (i as f64 / nu - j as f64 / nv).abs() * (w[1] - w[0]);
    }
    Ok(total)
}

/// Evidently's normalised Wasserstein distance: [`wasserstein_distance`] divided by the
/// population standard deviation (ddof = 0, numpy's default) of the reference, floored
/// at [`WASSERSTEIN_STD_FLOOR`].
pub fn wasserstein_distance_norm(reference: &[f64], current: &[f64]) -> Result<f64, DriftError> {
    let w = wasserstein_distance(reference, current)?;
    Ok(w / wasserstein_scale(reference))
}

/// What Evidently divides the Wasserstein distance by: the reference's population
/// standard deviation (ddof = 0), floored at [`WASSERSTEIN_STD_FLOOR`].
pub fn wasserstein_scale(reference: &[f64]) -> f64 {
    let n = reference.len() as f64;
    let mean = reference.iter().sum::<f64>() / n;
    let var = reference.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    var.sqrt().max(WASSERSTEIN_STD_FLOOR)
}

fn check_sample(x: &[f64]) -> Result<(), DriftError> {
    if x.is_empty() {
        return Err(DriftError::EmptySample);
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(DriftError::NonFinite);
    }
    Ok(())
}

/// Validates two aligned count vectors and returns them divided by their own totals.
pub(super) fn proportions(
    reference: &[f64],
    current: &[f64],
) -> Result<(Vec<f64>, Vec<f64>), DriftError> {
    if reference.len() != current.len() {
        return Err(DriftError::LengthMismatch {
            reference: reference.len(),
            current: current.len(),
        });
    }
    Ok((normalise(reference)?, normalise(current)?))
}

fn normalise(counts: &[f64]) -> Result<Vec<f64>, DriftError> {
    if counts.iter().any(|c| !c.is_finite() || *c < 0.0) {
        return Err(DriftError::InvalidCount);
    }
    let total: f64 = counts.iter().sum();
    if total <= 0.0 {
        return Err(DriftError::EmptySample);
    }
    Ok(counts.iter().map(|c| c / total).collect())
}

/// Evidently's rule for empty bins before PSI and KL (`feel_zeroes`): each zero
/// proportion becomes `min_nonzero / 1e6` when the smallest non-zero proportion is at
/// most 1e-4, and 1e-4 otherwise. Without it an empty bin makes both infinite. The
/// floored vector is not renormalised (PSI uses it as is).
pub fn evidently_floor(props: &mut [f64]) {
    let min_nonzero = props
        .iter()
        .copied()
        .filter(|p| *p != 0.0)
        .fold(f64::INFINITY, f64::min);
    if !min_nonzero.is_finite() {
        return;
    }
    let floor = if min_nonzero <= 1e-4 {
        min_nonzero / 1e6
    } else {
        1e-4
    };
    for p in props.iter_mut().filter(|p| **p == 0.0) {
        *p = floor;
    }
}

/// Population stability index, Evidently's `psi`:
/// `sum (r - c) ln(r / c)` over proportions with [`evidently_floor`] applied to each side.
pub fn psi(reference: &[f64], current: &[f64]) -> Result<f64, DriftError> {
    let (mut r, mut c) = proportions(reference, current)?;
    evidently_floor(&mut r);
    evidently_floor(&mut c);
    Ok(r.iter().zip(&c).map(|(r, c)| (r - c) * (r / c).ln()).sum())
}

/// Kullback-Leibler divergence KL(reference || current) in nats, Evidently's `kl_div`:
/// [`evidently_floor`] on both sides, then `scipy.stats.entropy(r, c)`, which
/// renormalises the floored vectors to sum to 1.
pub fn kl_divergence(reference: &[f64], current: &[f64]) -> Result<f64, DriftError> {
    let (mut r, mut c) = proportions(reference, current)?;
    evidently_floor(&mut r);
    evidently_floor(&mut c);
    let (r, c) = (normalise(&r)?, normalise(&c)?);
    Ok(r.iter().zip(&c).map(|(p, q)| rel_entr(*p, *q)).sum())
}

/// scipy.special.rel_entr: `x ln(x/y)`, 0 when x == 0.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x == 0.0 && y >= 0.0 {
        0.0
    } else if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else {
        f64::INFINITY
    }
}

/// Jensen-Shannon *distance*, `scipy.spatial.distance.jensenshannon(p, q, base)`: the
/// square root of the JS divergence, natural log unless `base` is given (base 2 bounds
/// it by 1). Evidently's `jensenshannon` test is this with the default base, no floor.
pub fn jensen_shannon_distance(
    reference: &[f64],
    current: &[f64],
    base: Option<f64>,
) -> Result<f64, DriftError> {
    let (p, q) = proportions(reference, current)?;
    let mut left = 0.0;
    let mut right = 0.0;
    for (p, q) in p.iter().zip(&q) {
        let m = (p + q) / 2.0;
        left += rel_entr(*p, m);
        right += rel_entr(*q, m);
    }
    let mut js = left + right;
    if let Some(base) = base {
        js /= base.ln();
    }
    // Rounding can leave -1e-17 for identical inputs; scipy would return NaN there.
    Ok((js / 2.0).max(0.0).sqrt())
}

/// Hellinger distance between the two normalised distributions,
/// `sqrt(sum (sqrt p - sqrt q)^2) / sqrt 2`, in [0, 1]. No floor: empty bins are harmless.
pub fn hellinger(reference: &[f64], current: &[f64]) -> Result<f64, DriftError> {
    let (p, q) = proportions(reference, current)?;
    let s: f64 = p
        .iter()
        .zip(&q)
        .map(|(p, q)| (p.sqrt() - q.sqrt()).powi(2))
        .sum();
    Ok(s.sqrt() / std::f64::consts::SQRT_2)
}

/// `numpy.histogram_bin_edges(np.concatenate([a, b]), bins='sturges')`: equal-width bins
/// over the range of both samples, `ceil(range / (range / (log2 n + 1)))` of them; a
/// zero range becomes `[v - 0.5, v + 0.5]` with one bin.
pub fn sturges_edges(a: &[f64], b: &[f64]) -> Result<Vec<f64>, DriftError> {
    let n = a.len() + b.len();
    if n == 0 {
        return Err(DriftError::EmptySample);
    }
    if a.iter().chain(b).any(|v| !v.is_finite()) {
        return Err(DriftError::NonFinite);
    }
    let lo = a.iter().chain(b).copied().fold(f64::INFINITY, f64::min);
    let hi = a.iter().chain(b).copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(sturges_edges_range(lo, hi, n as u64))
}

/// [`sturges_edges`] from the range and size alone (what a profile knows): the same
/// arithmetic, so a profile and its data give the same edges. `lo <= hi`, finite, `n > 0`.
pub fn sturges_edges_range(lo: f64, hi: f64, n: u64) -> Vec<f64> {
    let width = (hi - lo) / ((n as f64).log2() + 1.0);
    let (first, last) = if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    let bins = if width != 0.0 {
        ((last - first) / width).ceil() as usize
    } else {
        1
    };
    linspace(first, last, bins)
}

/// numpy.linspace(start, stop, bins + 1), endpoint included, same arithmetic as numpy so
/// that values on an edge fall into the same bin.
fn linspace(start: f64, stop: f64, bins: usize) -> Vec<f64> {
    let div = bins as f64;
    let delta = stop - start;
    let step = delta / div;
    let mut edges: Vec<f64> = (0..=bins)
        .map(|i| {
            if step == 0.0 {
                i as f64 / div * delta + start
            } else {
                i as f64 * step + start
            }
        })
        .collect();
    if let Some(last) = edges.last_mut() {
        *last = stop;
    }
    edges
}

/// `numpy.histogram(values, edges)[0]`: bin i counts `edges[i] <= v < edges[i+1]`, the
/// last bin also counts `v == edges[last]`; values outside the edges (and NaN) are not
/// counted. Edges must be sorted ascending.
pub fn histogram(values: &[f64], edges: &[f64]) -> Vec<u64> {
    let bins = edges.len().saturating_sub(1);
    let mut counts = vec![0u64; bins];
    if bins == 0 {
        return counts;
    }
    let (first, last) = (edges[0], edges[bins]);
    for &v in values {
        if v.is_nan() || v < first || v > last {
            continue;
        }
        let idx = edges.partition_point(|e| *e <= v).saturating_sub(1);
        counts[idx.min(bins - 1)] += 1;
    }
    counts
}

/// Number of distinct values (NaN ignored; -0.0 and 0.0 are one value, as in pandas).
pub fn distinct_count(values: &[f64]) -> usize {
    sorted_distinct(values.iter().copied()).len()
}

fn sorted_distinct(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| a == b);
    v
}

/// How [`bin_numeric`] binned a column.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bins {
    /// Sturges bin edges over both samples (`len = bins + 1`).
    Edges(Vec<f64>),
    /// One bin per distinct value of either sample, ascending.
    Values(Vec<f64>),
}

/// Aligned counts of the reference and current samples over the same bins.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Binned {
    pub bins: Bins,
    pub reference: Vec<u64>,
    pub current: Vec<u64>,
}

impl Binned {
    pub fn reference_f64(&self) -> Vec<f64> {
        self.reference.iter().map(|c| *c as f64).collect()
    }

    pub fn current_f64(&self) -> Vec<f64> {
        self.current.iter().map(|c| *c as f64).collect()
    }
}

/// Evidently's `get_binned_data` for a numeric column: more than
/// [`VALUE_BIN_MAX_DISTINCT`] distinct reference values -> [`sturges_edges`] over both
/// samples and [`histogram`]; otherwise one bin per distinct value of either sample (so
/// a value seen only in the current sample keeps its own bin). NaN must be removed first.
pub fn bin_numeric(reference: &[f64], current: &[f64]) -> Result<Binned, DriftError> {
    check_sample(reference)?;
    check_sample(current)?;
    if distinct_count(reference) > VALUE_BIN_MAX_DISTINCT {
        let edges = sturges_edges(reference, current)?;
        let r = histogram(reference, &edges);
        let c = histogram(current, &edges);
        return Ok(Binned {
            bins: Bins::Edges(edges),
            reference: r,
            current: c,
        });
    }
    let keys = sorted_distinct(reference.iter().chain(current).copied());
    let count = |sample: &[f64]| {
        let mut counts = vec![0u64; keys.len()];
        for v in sample {
            let idx = keys.partition_point(|k| k < v);
            if let Some(c) = counts.get_mut(idx) {
                *c += 1;
            }
        }
        counts
    };
    Ok(Binned {
        reference: count(reference),
        current: count(current),
        bins: Bins::Values(keys),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{GenSpec, assert_close, lcg_values, load};
    use super::*;

    #[test]
    fn wasserstein_matches_scipy() {
        for c in &load().numeric {
            let (a, b) = (c.a.values(), c.b.values());
            assert_close(
                wasserstein_distance(&a, &b).unwrap(),
                c.wasserstein,
                &format!("{}: wasserstein", c.name),
            );
            assert_close(
                wasserstein_distance_norm(&a, &b).unwrap(),
                c.wasserstein_norm,
                &format!("{}: wasserstein_norm (ref std {})", c.name, c.ref_std),
            );
        }
    }

    #[test]
    fn binning_matches_numpy_and_evidently() {
        for c in &load().numeric {
            let (a, b) = (c.a.values(), c.b.values());
            let binned = bin_numeric(&a, &b).unwrap();
            match (&binned.bins, &c.bins.edges_bits, &c.bins.values) {
                (Bins::Edges(got), Some(want), None) => {
                    let want: Vec<f64> = want.iter().map(|b| f64::from_bits(*b)).collect();
                    assert_eq!(got, &want, "{}: sturges edges", c.name);
                }
                (Bins::Values(got), None, Some(want)) => {
                    assert_eq!(got, want, "{}: value bins", c.name);
                }
                _ => panic!("{}: wrong kind of bins {:?}", c.name, binned.bins),
            }
            let (rp, cp) = proportions(&binned.reference_f64(), &binned.current_f64()).unwrap();
            for (got, want) in rp
                .iter()
                .zip(&c.ref_props)
                .chain(cp.iter().zip(&c.cur_props))
            {
                assert_close(*got, *want, &format!("{}: bin proportion", c.name));
            }
        }
    }

    fn check_binned(name: &str, r: &[f64], c: &[f64], want: [f64; 5]) {
        let got = [
            psi(r, c).unwrap(),
            kl_divergence(r, c).unwrap(),
            jensen_shannon_distance(r, c, None).unwrap(),
            jensen_shannon_distance(r, c, Some(2.0)).unwrap(),
            hellinger(r, c).unwrap(),
        ];
        for (what, (g, w)) in ["psi", "kl", "js", "js base 2", "hellinger"]
            .iter()
            .zip(got.iter().zip(want))
        {
            assert_close(*g, w, &format!("{name}: {what}"));
        }
    }

    #[test]
    fn binned_distances_match_scipy_and_numpy_formulas() {
        let fx = load();
        for c in &fx.numeric {
            let want = [c.psi, c.kl, c.js, c.js_base2, c.hellinger];
            check_binned(&c.name, &c.ref_props, &c.cur_props, want);
        }
        for c in &fx.categorical {
            let want = [c.psi, c.kl, c.js, c.js_base2, c.hellinger];
            check_binned(&c.name, &c.ref_props, &c.cur_props, want);
        }
    }

    #[test]
    fn counts_and_proportions_give_the_same_distances() {
        let counts = [3.0, 0.0, 10.0, 7.0];
        let cur = [1.0, 4.0, 4.0, 1.0];
        let props = [0.15, 0.0, 0.5, 0.35];
        let cur_props = [0.1, 0.4, 0.4, 0.1];
        for f in [psi, kl_divergence, hellinger] {
            let (x, y) = (f(&counts, &cur).unwrap(), f(&props, &cur_props).unwrap());
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }

    #[test]
    fn evidently_floor_rule() {
        let mut p = [0.5, 0.0, 0.5];
        evidently_floor(&mut p);
        assert_eq!(p, [0.5, 1e-4, 0.5]);
        let mut p = [0.99995, 0.0, 0.00005];
        evidently_floor(&mut p);
        assert_eq!(p[1], 0.00005 / 1e6);
        let mut p = [0.0, 0.0];
        evidently_floor(&mut p);
        assert_eq!(p, [0.0, 0.0]);
    }

    #[test]
    fn histogram_closes_the_last_bin_only() {
        let edges = [0.0, 1.0, 2.0, 3.0];
        let counts = histogram(&[-0.1, 0.0, 0.5, 1.0, 2.999, 3.0, 3.1, f64::NAN], &edges);
        assert_eq!(counts, vec![2, 1, 2]);
        assert_eq!(histogram(&[1.0], &[1.0]), Vec::<u64>::new());
    }

    #[test]
    fn sturges_edges_of_a_constant_sample() {
        assert_eq!(sturges_edges(&[2.0; 5], &[2.0]).unwrap(), vec![1.5, 2.5]);
        assert_eq!(sturges_edges(&[], &[]), Err(DriftError::EmptySample));
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        assert_eq!(
            wasserstein_distance(&[], &[1.0]),
            Err(DriftError::EmptySample)
        );
        assert_eq!(
            wasserstein_distance(&[f64::INFINITY], &[1.0]),
            Err(DriftError::NonFinite)
        );
        assert_eq!(
            psi(&[1.0, 2.0], &[1.0]),
            Err(DriftError::LengthMismatch {
                reference: 2,
                current: 1
            })
        );
        assert_eq!(psi(&[0.0, 0.0], &[1.0, 1.0]), Err(DriftError::EmptySample));
        assert_eq!(
            hellinger(&[-1.0, 2.0], &[1.0, 1.0]),
            Err(DriftError::InvalidCount)
        );
        assert_eq!(
            jensen_shannon_distance(&[], &[], None),
            Err(DriftError::EmptySample)
        );
        assert_eq!(bin_numeric(&[], &[1.0]), Err(DriftError::EmptySample));
    }

    #[test]
    fn two_halves_of_one_sample_do_not_drift_at_default_thresholds() {
        use super::super::{Method, drifted};
        for (seed, n, modulus) in [(101, 4000, 1000), (202, 3000, 9), (303, 50_000, 100_000)] {
            let all = lcg_values(GenSpec {
                seed,
                n,
                terms: 4,
                modulus,
                offset: 0,
                scale: 1000.0,
            });
            let reference: Vec<f64> = all.iter().step_by(2).copied().collect();
            let current: Vec<f64> = all.iter().skip(1).step_by(2).copied().collect();
            let b = bin_numeric(&reference, &current).unwrap();
            let (r, c) = (b.reference_f64(), b.current_f64());
            let checks = [
                (
                    Method::Wasserstein,
                    wasserstein_distance_norm(&reference, &current).unwrap(),
                ),
                (Method::Psi, psi(&r, &c).unwrap()),
                (Method::KlDiv, kl_divergence(&r, &c).unwrap()),
                (
                    Method::JensenShannon,
                    jensen_shannon_distance(&r, &c, None).unwrap(),
                ),
                (Method::Hellinger, hellinger(&r, &c).unwrap()),
            ];
            for (method, value) in checks {
                assert!(
                    !drifted(value, method, method.default_threshold()),
                    "seed {seed}: {method:?} = {value} flags drift between two halves"
                );
            }
        }
    }
}
