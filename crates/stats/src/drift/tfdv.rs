//! TFDV's approximate Jensen-Shannon divergence between two numeric histograms, for
//! drift computed from sketches or stored profiles rather than raw values.
//!
//! As TFDV (`anomalies/metrics.cc`, release 1.21), reimplemented from its description:
//! - buckets with an infinite bound are pooled per histogram into one bucket that the
//!   other histogram never shares (so infinities on both sides still count as a
//!   difference), and NaN counts likewise;
//! - zero-width buckets (`low == high`) are point masses, matched by value;
//! - the other buckets are split onto the union of both histograms' boundaries, assuming
//!   the mass is spread uniformly inside each bucket;
//! - both sides are normalised, `JS = (KL(P||M) + KL(Q||M)) / 2` with `M = (P+Q)/2`,
//!   log base 2, capped at 1.0.
//!
//! This is a divergence (TFDV's threshold applies to it), not scipy's square-rooted
//! distance.

use super::DriftError;
use serde::{Deserialize, Serialize};

/// One histogram bucket `[low, high]` holding `count` values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistogramBucket {
    pub low: f64,
    pub high: f64,
    pub count: f64,
}

/// A numeric histogram as TFDV keeps it: buckets plus a NaN count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TfdvHistogram {
    pub buckets: Vec<HistogramBucket>,
    pub num_nan: f64,
}

/// The parts of a histogram that are handled separately before rebucketing.
struct Split {
    ranged: Vec<HistogramBucket>,
    points: Vec<(f64, f64)>,
    infinite: f64,
}

fn split(h: &TfdvHistogram) -> Result<Split, DriftError> {
    let mut s = Split {
        ranged: Vec::new(),
        points: Vec::new(),
        infinite: 0.0,
    };
    for b in &h.buckets {
        if b.low.is_nan() || b.high.is_nan() || !b.count.is_finite() || b.count < 0.0 {
            return Err(DriftError::InvalidCount);
        }
        if !b.low.is_finite() || !b.high.is_finite() {
            s.infinite += b.count;
        } else if b.low == b.high {
            s.points.push((b.low, b.count));
        } else {
            // A reversed bucket would distribute negative mass.
            s.ranged.push(HistogramBucket {
                low: b.low.min(b.high),
                high: b.low.max(b.high),
                count: b.count,
            });
        }
    }
    Ok(s)
}

/// Mass of `buckets` falling in each cell `[bounds[i], bounds[i+1]]`, uniform inside a
/// bucket. Every bucket edge is one of `bounds`, so a cell is either inside a bucket
/// or outside it.
fn rebucket(buckets: &[HistogramBucket], bounds: &[f64]) -> Vec<f64> {
    let mut cells = vec![0.0; bounds.len().saturating_sub(1)];
    for b in buckets {
        let start = bounds.partition_point(|x| *x < b.low);
        let width = b.high - b.low;
        for i in start..cells.len() {
            if bounds[i + 1] > b.high {
                break;
            }
            cells[i] += (bounds[i + 1] - bounds[i]) / width * b.count;
        }
    }
    cells
}

/// TFDV's approximate Jensen-Shannon divergence (log2, capped at 1) between two
/// histograms whose buckets need not line up. Errors when one side holds no mass.
pub fn tfdv_jensen_shannon(a: &TfdvHistogram, b: &TfdvHistogram) -> Result<f64, DriftError> {
    if !a.num_nan.is_finite() || !b.num_nan.is_finite() || a.num_nan < 0.0 || b.num_nan < 0.0 {
        return Err(DriftError::InvalidCount);
    }
    let (sa, sb) = (split(a)?, split(b)?);

    let mut bounds: Vec<f64> = sa
        .ranged
        .iter()
        .chain(&sb.ranged)
        .flat_map(|b| [b.low, b.high])
        .collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    let mut pa = rebucket(&sa.ranged, &bounds);
    let mut pb = rebucket(&sb.ranged, &bounds);

    let mut points: Vec<f64> = sa.points.iter().chain(&sb.points).map(|p| p.0).collect();
    points.sort_by(f64::total_cmp);
    points.dedup();
    let mass_at = |list: &[(f64, f64)], v: f64| -> f64 {
        list.iter().filter(|p| p.0 == v).map(|p| p.1).sum()
    };
    for v in points {
        pa.push(mass_at(&sa.points, v));
        pb.push(mass_at(&sb.points, v));
    }
    // Deliberately unmatched: TFDV never lets infinite or NaN mass of one side cancel
    // that of the other.
    for (x, y) in [
        (sa.infinite, 0.0),
        (0.0, sb.infinite),
        (a.num_nan, 0.0),
        (0.0, b.num_nan),
    ] {
        if x != 0.0 || y != 0.0 {
            pa.push(x);
            pb.push(y);
        }
    }

    let (ta, tb): (f64, f64) = (pa.iter().sum(), pb.iter().sum());
    if ta <= 0.0 || tb <= 0.0 {
        return Err(DriftError::EmptySample);
    }
    let kl = |p: &[f64], m: &[f64]| -> f64 {
        p.iter()
            .zip(m)
            .filter(|(p, m)| **p > 0.0 && **m > 0.0)
            .map(|(p, m)| p * (p / m).log2())
            .sum()
    };
    let p: Vec<f64> = pa.iter().map(|x| x / ta).collect();
    let q: Vec<f64> = pb.iter().map(|x| x / tb).collect();
    let m: Vec<f64> = p.iter().zip(&q).map(|(p, q)| (p + q) / 2.0).collect();
    Ok(((kl(&p, &m) + kl(&q, &m)) / 2.0).min(1.0))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn hist(buckets: &[(f64, f64, f64)], num_nan: f64) -> TfdvHistogram {
        TfdvHistogram {
            buckets: buckets
                .iter()
                .map(|&(low, high, count)| HistogramBucket { low, high, count })
                .collect(),
            num_nan,
        }
    }

    /// log2 Jensen-Shannon divergence of two count vectors, written out.
    pub(crate) fn js_log2(p: &[f64], q: &[f64]) -> f64 {
        let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
        let mut s = 0.0;
        for (p, q) in p.iter().zip(q) {
            let (p, q) = (p / sp, q / sq);
            let m = (p + q) / 2.0;
            if p > 0.0 {
                s += p * (p / m).log2();
            }
            if q > 0.0 {
                s += q * (q / m).log2();
            }
        }
        s / 2.0
    }

    #[test]
    fn identical_histograms_have_zero_divergence() {
        let h = hist(&[(0.0, 1.0, 5.0), (1.0, 2.0, 3.0), (2.0, 2.0, 4.0)], 0.0);
        assert_eq!(tfdv_jensen_shannon(&h, &h).unwrap(), 0.0);
        // TFDV's quirk, kept: NaN mass on both sides still counts as a difference.
        let with_nan = TfdvHistogram {
            num_nan: 1.0,
            ..h.clone()
        };
        let got = tfdv_jensen_shannon(&with_nan, &with_nan).unwrap();
        let want = js_log2(&[5.0, 3.0, 4.0, 1.0, 0.0], &[5.0, 3.0, 4.0, 0.0, 1.0]);
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    }

    #[test]
    fn disjoint_histograms_are_capped_at_one() {
        let a = hist(&[(0.0, 1.0, 10.0)], 0.0);
        let b = hist(&[(5.0, 6.0, 10.0)], 0.0);
        assert_eq!(tfdv_jensen_shannon(&a, &b).unwrap(), 1.0);
    }

    #[test]
    fn rebucketing_spreads_mass_uniformly() {
        // a: [0, 2] with 4; b: [0, 1] with 1 and [1, 2] with 3.
        // On the union {0, 1, 2}: a -> (2, 2), b -> (1, 3).
        let a = hist(&[(0.0, 2.0, 4.0)], 0.0);
        let b = hist(&[(0.0, 1.0, 1.0), (1.0, 2.0, 3.0)], 0.0);
        let got = tfdv_jensen_shannon(&a, &b).unwrap();
        let want = js_log2(&[2.0, 2.0], &[1.0, 3.0]);
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");

        // Offset buckets: a [0, 10] x 10, b [5, 15] x 10 -> cells [0,5],[5,10],[10,15].
        let a = hist(&[(0.0, 10.0, 10.0)], 0.0);
        let b = hist(&[(5.0, 15.0, 10.0)], 0.0);
        let got = tfdv_jensen_shannon(&a, &b).unwrap();
        let want = js_log2(&[5.0, 5.0, 0.0], &[0.0, 5.0, 5.0]);
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        assert!((got - 0.5).abs() < 1e-15);
    }

    #[test]
    fn points_infinities_and_nan() {
        // Point masses at equal values match; NaN and infinite mass never match.
        let a = hist(
            &[
                (1.0, 1.0, 2.0),
                (0.0, 1.0, 2.0),
                (f64::NEG_INFINITY, 0.0, 1.0),
            ],
            1.0,
        );
        let b = hist(
            &[(1.0, 1.0, 2.0), (0.0, 1.0, 2.0), (1.0, f64::INFINITY, 1.0)],
            1.0,
        );
        let got = tfdv_jensen_shannon(&a, &b).unwrap();
        let want = js_log2(
            &[2.0, 2.0, 1.0, 0.0, 1.0, 0.0],
            &[2.0, 2.0, 0.0, 1.0, 0.0, 1.0],
        );
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    }

    #[test]
    fn empty_or_invalid_histograms_are_errors() {
        let e = TfdvHistogram::default();
        let h = hist(&[(0.0, 1.0, 1.0)], 0.0);
        assert_eq!(tfdv_jensen_shannon(&e, &h), Err(DriftError::EmptySample));
        let bad = hist(&[(0.0, 1.0, -1.0)], 0.0);
        assert_eq!(tfdv_jensen_shannon(&bad, &h), Err(DriftError::InvalidCount));
    }
}
