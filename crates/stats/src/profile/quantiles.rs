//! Quantiles: exact while a column is small, a t-digest beyond.
//!
//! Why not KLL: `datasketches`' KLL compactor draws its coin from a thread-local generator
//! seeded from the OS, so the same input gives different quantiles on every run, and
//! DESIGN.md promises byte-identical output for identical input. Its t-digest
//! (`datasketches::tdigest`) is deterministic for a given input order, mergeable,
//! serialisable, and measured more accurate than KLL at the same size (see
//! `tests/profile_accuracy.rs`). Up to [`EXACT_VALUES`] finite values are kept as they are,
//! so small tables get exact quantiles and histograms (numpy's "linear" interpolation).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use datasketches::tdigest::{TDigest, TDigestMut};
use serde::{Deserialize, Serialize};

/// Finite values kept verbatim before switching to the t-digest.
pub const EXACT_VALUES: usize = 2048;
/// t-digest compression; the library's default accuracy class.
const TDIGEST_K: u16 = 200;

#[derive(Debug, Clone)]
pub enum Quantiles {
    Exact(Vec<f64>),
    Digest(TDigestMut),
}

impl Default for Quantiles {
    fn default() -> Self {
        Self::Exact(Vec::new())
    }
}

fn new_digest() -> TDigestMut {
    TDigestMut::new(TDIGEST_K).unwrap_or_else(|_| unreachable!("k >= 10"))
}

impl Quantiles {
    /// Add finite values (the caller filters NaN and infinities).
    pub fn extend(&mut self, values: impl Iterator<Item = f64>) {
        match self {
            Self::Exact(v) => {
                v.extend(values);
                if v.len() > EXACT_VALUES {
                    self.spill();
                }
            }
            Self::Digest(d) => values.for_each(|x| d.update(x)),
        }
    }

    fn spill(&mut self) {
        if let Self::Exact(v) = self {
            let mut d = new_digest();
            v.iter().for_each(|x| d.update(*x));
            *self = Self::Digest(d);
        }
    }

    pub fn merge(&mut self, other: &Self) {
        match (&mut *self, other) {
            (Self::Exact(a), Self::Exact(b)) => {
                a.extend_from_slice(b);
                if a.len() > EXACT_VALUES {
                    self.spill();
                }
            }
            (Self::Digest(a), Self::Exact(b)) => b.iter().for_each(|x| a.update(*x)),
            (Self::Exact(_), Self::Digest(_)) => {
                self.spill();
                self.merge(other);
            }
            (Self::Digest(a), Self::Digest(b)) => a.merge(b),
        }
    }

    pub fn is_exact(&self) -> bool {
        matches!(self, Self::Exact(_))
    }

    /// Number of values held.
    pub fn weight(&self) -> u64 {
        match self {
            Self::Exact(v) => v.len() as u64,
            Self::Digest(d) => d.total_weight(),
        }
    }

    /// The values of exact value counts, fed in ascending order (deterministic, and the
    /// digest's sort of an ordered run is linear).
    pub fn from_counts(mut counts: Vec<(f64, u64)>) -> Self {
        counts.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut q = Self::default();
        q.extend(
            counts
                .into_iter()
                .flat_map(|(x, c)| std::iter::repeat_n(x, c as usize)),
        );
        q
    }

    /// A frozen, queryable view.
    pub fn view(&self) -> QuantileView {
        match self {
            Self::Exact(v) => {
                let mut s = v.clone();
                s.sort_unstable_by(f64::total_cmp);
                QuantileView::Exact(s)
            }
            Self::Digest(d) => QuantileView::Digest(d.clone().freeze()),
        }
    }
}

/// Read-only quantile and rank queries.
pub enum QuantileView {
    Exact(Vec<f64>),
    /// Distinct values in ascending order with their cumulative counts: exact quantiles of
    /// a column with few distinct values however many rows it has.
    Weighted {
        values: Vec<f64>,
        cumulative: Vec<u64>,
    },
    Digest(TDigest),
}

impl QuantileView {
    /// Quantile at rank `q` in [0, 1]; `None` when there are no values.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        match self {
            Self::Exact(s) => {
                if s.is_empty() {
                    return None;
                }
                // numpy.quantile(method="linear")
                let pos = q * (s.len() - 1) as f64;
                let lo = pos.floor() as usize;
                let hi = pos.ceil() as usize;
                let frac = pos - lo as f64;
                Some(s[lo] + (s[hi] - s[lo]) * frac)
            }
            Self::Weighted { values, cumulative } => {
                let n = *cumulative.last()?;
                let pos = q * (n - 1) as f64;
                let at = |i: u64| values[cumulative.partition_point(|c| *c <= i)];
                let (lo, hi) = (pos.floor() as u64, pos.ceil() as u64);
                let (a, b) = (at(lo), at(hi));
                Some(a + (b - a) * (pos - lo as f64))
            }
            Self::Digest(d) => d.quantile(q.clamp(0.0, 1.0)).ok().flatten(),
        }
    }

    /// A view over exact value counts (finite values only).
    pub fn weighted(mut counts: Vec<(f64, u64)>) -> Self {
        counts.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut total = 0;
        let (values, cumulative) = counts
            .into_iter()
            .map(|(v, c)| {
                total += c;
                (v, total)
            })
            .unzip();
        Self::Weighted { values, cumulative }
    }

    /// Number of values <= x (a fraction times n for the digest).
    pub fn count_le(&self, x: f64, n: u64) -> f64 {
        match self {
            Self::Exact(s) => s.partition_point(|v| *v <= x) as f64,
            Self::Weighted { values, cumulative } => {
                let i = values.partition_point(|v| *v <= x);
                if i == 0 {
                    0.0
                } else {
                    cumulative[i - 1] as f64
                }
            }
            Self::Digest(d) => d.rank(x).ok().flatten().unwrap_or(0.0) * n as f64,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum QuantilesRepr {
    Exact(Vec<f64>),
    Tdigest(String),
}

impl Serialize for Quantiles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Exact(v) => QuantilesRepr::Exact(v.clone()),
            Self::Digest(d) => QuantilesRepr::Tdigest(B64.encode(d.clone().serialize())),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Quantiles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        Ok(match QuantilesRepr::deserialize(d)? {
            QuantilesRepr::Exact(v) => Self::Exact(v),
            QuantilesRepr::Tdigest(b) => {
                let bytes = B64.decode(b).map_err(D::Error::custom)?;
                Self::Digest(TDigestMut::deserialize(&bytes).map_err(D::Error::custom)?)
            }
        })
    }
}

/// Mean and sum of squared deviations, merged with Chan et al.'s parallel formula so that
/// merge(a, b) equals a single pass over a ++ b up to rounding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    pub n: u64,
    pub mean: f64,
    pub m2: f64,
}

impl Moments {
    /// Two-pass moments of one batch: more accurate than Welford per value, and as fast.
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let m2 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
        Self {
            n: n as u64,
            mean,
            m2,
        }
    }

    pub fn merge(&mut self, o: &Self) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let delta = o.mean - self.mean;
        let (na, nb, nf) = (self.n as f64, o.n as f64, n as f64);
        self.mean += delta * nb / nf;
        self.m2 += o.m2 + delta * delta * na * nb / nf;
        self.n = n;
    }

    /// Population standard deviation (ddof = 0, as TFDV reports).
    pub fn std_dev(&self) -> Option<f64> {
        (self.n > 0).then(|| (self.m2 / self.n as f64).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_merge_equals_one_pass() {
        let a: Vec<f64> = (0..1000)
            .map(|i| (i as f64 * 0.37).sin() * 1e3 + 5e6)
            .collect();
        let (l, r) = a.split_at(377);
        let mut m = Moments::of(l);
        m.merge(&Moments::of(r));
        let whole = Moments::of(&a);
        assert!((m.mean - whole.mean).abs() <= 1e-9 * whole.mean.abs());
        assert!((m.m2 - whole.m2).abs() <= 1e-9 * whole.m2.abs());
    }

    #[test]
    fn exact_quantiles_match_numpy_linear() {
        let mut q = Quantiles::default();
        q.extend([1.0, 2.0, 3.0, 4.0].into_iter());
        let v = q.view();
        // numpy.quantile([1,2,3,4], [0.5, 0.25]) == [2.5, 1.75]
        assert_eq!(v.quantile(0.5), Some(2.5));
        assert_eq!(v.quantile(0.25), Some(1.75));
        assert_eq!(v.count_le(2.0, 4), 2.0);
        // The same data as value counts, and a skewed one:
        // numpy.quantile([1,1,1,2,5,5], [0.5, 0.9, 0.1]) == [1.5, 5.0, 1.0]
        let w = QuantileView::weighted(vec![(2.0, 1), (1.0, 3), (5.0, 2)]);
        assert_eq!(w.quantile(0.5), Some(1.5));
        assert_eq!(w.quantile(0.9), Some(5.0));
        assert_eq!(w.quantile(0.1), Some(1.0));
        assert_eq!(w.count_le(2.0, 6), 4.0);
        assert_eq!(w.count_le(0.5, 6), 0.0);
        let w4 = QuantileView::weighted(vec![(1.0, 1), (2.0, 1), (3.0, 1), (4.0, 1)]);
        assert_eq!(w4.quantile(0.25), Some(1.75));
    }

    #[test]
    fn digest_is_deterministic_and_round_trips() {
        let make = || {
            let mut q = Quantiles::default();
            q.extend((0..100_000).map(|i| ((i * 7919) % 100_003) as f64));
            q
        };
        let (a, b) = (make(), make());
        let ja = serde_json::to_string(&a).unwrap();
        assert_eq!(ja, serde_json::to_string(&b).unwrap());
        let back: Quantiles = serde_json::from_str(&ja).unwrap();
        let med = back.view().quantile(0.5).unwrap();
        assert!((med - 50_000.0).abs() < 1_000.0, "median {med}");
    }
}
