//! Distinct counts and most frequent values: exact while a column has few distinct values,
//! sketches beyond.
//!
//! Below [`EXACT_LIMIT`] distinct values we keep an exact value -> count map: small
//! categorical columns (the ones users read top values and enums from) get exact answers.
//! Past it the map is replayed, in a fixed order so the result is deterministic, into a
//! frequent-items sketch (Misra-Gries, `datasketches::frequencies`) and an HLL sketch
//! (`datasketches::hll`), and both carry on from there.

use std::hash::Hash;

use ahash::AHashMap as HashMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use datasketches::frequencies::{ErrorType, FrequentItemValue, FrequentItemsSketch};
use datasketches::hll::{HllSketch, HllType, HllUnion};
use serde::{Deserialize, Serialize};

/// Distinct values kept exactly before switching to sketches.
pub const EXACT_LIMIT: usize = 1024;
/// Frequent-items map size: error at most 3.5 / 1024 of the column's count.
const FREQ_MAP_SIZE: usize = 1024;
/// HLL precision: relative standard error 1.04 / sqrt(4096) = 1.6%.
const HLL_LG_K: u8 = 12;

/// A value that can be counted: hashable for the exact map and the HLL, storable in the
/// frequent-items sketch, and ordered so that replays and ties are deterministic.
pub trait CountKey: Clone + Eq + Hash + Ord + FrequentItemValue {}
impl<T: Clone + Eq + Hash + Ord + FrequentItemValue> CountKey for T {}

/// One of the two states; see the module docs.
#[derive(Debug, Clone)]
pub enum ValueCounts<K: CountKey> {
    Exact(HashMap<K, u64>),
    Sketch {
        /// `None` once [`ValueCounts::drop_top`] said top values are not wanted (floats and
        /// timestamps with many distinct values: TFDV reports none, and the sketch is a
        /// fifth of the profile's time).
        freq: Option<FrequentItemsSketch<K>>,
        hll: HllSketch,
        /// Batches whose values seen only once in the batch were left out of `freq` (see
        /// [`ValueCounts::add_runs`]): any count is short by at most one per such batch.
        skipped: u64,
    },
}

impl<K: CountKey> Default for ValueCounts<K> {
    fn default() -> Self {
        Self::Exact(HashMap::default())
    }
}

/// The summary a profile reports.
#[derive(Debug, Clone, PartialEq)]
pub struct CountsSummary<K> {
    pub distinct: u64,
    pub distinct_exact: bool,
    /// Most frequent first, ties by value; counts are exact when `top_exact`.
    pub top: Vec<(K, u64)>,
    pub top_exact: bool,
    /// Upper bound on the error of any count in `top` (0 when exact).
    pub top_max_error: u64,
}

impl<K> CountsSummary<K> {
    /// The estimates held to what is known exactly (issue 12: 3,001 rows showed `~3030`
    /// distinct values). Of `n` counted values there are at most `n` distinct, at least one
    /// if any, at least one per reported top value, and more than [`EXACT_LIMIT`] once the
    /// exact counts spilled (they spill only past it); no value occurs more than `n` times.
    #[must_use]
    pub fn clamped(mut self, n: u64) -> Self {
        if !self.distinct_exact {
            let mut floor = (self.top.len() as u64).max(u64::from(n > 0));
            if n > EXACT_LIMIT as u64 {
                floor = floor.max(EXACT_LIMIT as u64 + 1);
            }
            self.distinct = self.distinct.max(floor).min(n);
        }
        for (_, count) in &mut self.top {
            *count = (*count).min(n);
        }
        self
    }
}

fn new_freq<K: CountKey>() -> FrequentItemsSketch<K> {
    #[allow(clippy::expect_used)] // a constant, valid map size
    FrequentItemsSketch::new(FREQ_MAP_SIZE).expect("valid frequent-items map size")
}

/// An empty HLL sketch already in its register-array mode and marked out of order, so
/// that it estimates with the composite estimator and keeps no HIP accumulator.
///
/// Why: a fresh sketch keeps the HIP estimate, which costs a floating-point division on
/// every register that grows. A young sketch grows a register on most updates, and a
/// sliced profile keeps a young sketch per slice and partition: the HIP updates were
/// 4.5 times the unsliced profile's HLL time on 50 slices, for an estimate that was then
/// thrown away, since a union (every merge of partitions) estimates with the composite
/// estimator anyway. With this every HLL estimates one way, merged or not.
///
/// The datasketches crate has no constructor for it, so it is made once from its own
/// serialised image: an array-mode sketch's image with every register zeroed, the HIP
/// accumulator and `kxq` sums set to an empty array's, and the out-of-order flag set
/// (the DataSketches HLL wire format: flags at byte 5; HIP accumulator, kxq0, kxq1 and the
/// zero count at bytes 8 to 36; registers from byte 40). A unit test checks it estimates
/// as a fresh sketch fed the same values would after a union.
fn new_hll() -> HllSketch {
    static EMPTY: std::sync::OnceLock<Option<HllSketch>> = std::sync::OnceLock::new();
    let template = EMPTY.get_or_init(|| {
        #[allow(clippy::expect_used)] // a constant, valid precision
        let mut s = HllSketch::new(HLL_LG_K, HllType::Hll8).expect("valid HLL precision");
        let k = 1usize << HLL_LG_K;
        for i in 0..(4 * k) as u64 {
            s.update(i);
        }
        let mut image = s.serialize();
        // Array mode (mode byte's low bits 2), HLL8, the 40-byte preamble and k registers.
        if image.len() != 40 + k || image[7] & 0x3 != 2 {
            return None;
        }
        image[5] |= 16; // out of order: composite estimates only
        image[8..16].copy_from_slice(&0f64.to_le_bytes()); // HIP accumulator
        image[16..24].copy_from_slice(&(k as f64).to_le_bytes()); // kxq0: k times 2^-0
        image[24..32].copy_from_slice(&0f64.to_le_bytes()); // kxq1
        image[32..36].copy_from_slice(&(k as u32).to_le_bytes()); // registers at zero
        image[40..].fill(0);
        HllSketch::deserialize(&image).ok()
    });
    match template {
        Some(t) => t.clone(),
        // Not expected with the pinned crate; a plain sketch is correct, only slower.
        #[allow(clippy::expect_used)] // a constant, valid precision
        None => HllSketch::new(HLL_LG_K, HllType::Hll8).expect("valid HLL precision"),
    }
}

impl<K: CountKey> ValueCounts<K> {
    /// Count one occurrence of a value given by reference (no allocation on a repeat).
    ///
    /// Returns the exact counts, in key order, at the moment this value made the column
    /// switch to sketches (the caller may want them, e.g. to seed a quantile sketch).
    #[inline]
    pub fn add_ref<Q>(&mut self, value: &Q) -> Option<Vec<(K, u64)>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
    {
        if self.add_exact_n(value, 1) {
            return None;
        }
        match self {
            // A new value when the exact counts are full: it makes the column switch.
            Self::Exact(map) => {
                map.insert(value.to_owned(), 1);
                self.spill()
            }
            Self::Sketch { freq, hll, .. } => {
                if let Some(f) = freq {
                    f.update_ref(value);
                }
                hll.update(value);
                None
            }
        }
    }

    /// Count `n` occurrences of a value while the counts are exact and have room for it
    /// (at most [`EXACT_LIMIT`] values once it is in): then the same counts as `n` calls
    /// of [`ValueCounts::add_ref`]. False, with nothing counted, otherwise.
    #[inline]
    pub fn add_exact_n<Q>(&mut self, value: &Q, n: u64) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
    {
        match self {
            Self::Exact(map) => {
                if let Some(c) = map.get_mut(value) {
                    *c += n;
                    true
                } else if map.len() < EXACT_LIMIT {
                    map.insert(value.to_owned(), n);
                    true
                } else {
                    false
                }
            }
            Self::Sketch { .. } => false,
        }
    }

    /// Count one batch past exact counts, given as (value, times seen in the batch) runs.
    ///
    /// Values seen once in the batch go to the distinct count but not to the frequent-items
    /// sketch: in a column with many distinct values they are most of its input and all of
    /// its purges, and leaving them out makes any count short by at most one per batch,
    /// which `top_max_error` adds (about 370 for 3M rows in batches of 8,192, where the
    /// sketch's own bound is 3.5 / 1,024 of the rows: 10,000). A value frequent enough to
    /// be reported is seen many times in a batch.
    ///
    /// Still exact: the runs are counted as they are (no spill is reported to the caller).
    pub fn add_runs<Q, V>(&mut self, runs: impl Iterator<Item = (V, u64)>)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
        V: std::borrow::Borrow<Q>,
    {
        match self {
            Self::Exact(map) => {
                for (v, c) in runs {
                    let v = v.borrow();
                    match map.get_mut(v) {
                        Some(n) => *n += c,
                        None => {
                            map.insert(v.to_owned(), c);
                        }
                    }
                }
                if map.len() > EXACT_LIMIT {
                    self.spill();
                }
            }
            Self::Sketch { freq, hll, skipped } => {
                let mut left_out = false;
                for (v, c) in runs {
                    let v = v.borrow();
                    hll.update(v);
                    match freq {
                        Some(f) if c > 1 => f.update_with_count_ref(v, c),
                        Some(_) => left_out = true,
                        None => {}
                    }
                }
                *skipped += u64::from(left_out);
            }
        }
    }

    /// Stop tracking most frequent values once the column is past exact counts; distinct
    /// counts carry on.
    pub fn drop_top(&mut self) {
        if let Self::Sketch { freq, .. } = self {
            *freq = None;
        }
    }

    /// Replay the exact map into sketches, in key order so the outcome never depends on
    /// hash-map iteration order. Returns the replayed entries.
    fn spill(&mut self) -> Option<Vec<(K, u64)>> {
        let Self::Exact(map) = self else {
            return None;
        };
        let mut entries: Vec<(K, u64)> = map.drain().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut freq = new_freq();
        let mut hll = new_hll();
        for (k, c) in &entries {
            hll.update(k);
            freq.update_with_count(k.clone(), *c);
        }
        *self = Self::Sketch {
            freq: Some(freq),
            hll,
            skipped: 0,
        };
        Some(entries)
    }

    pub fn merge(&mut self, other: &Self) {
        match (&mut *self, other) {
            (Self::Exact(a), Self::Exact(b)) => {
                for (k, c) in b {
                    *a.entry(k.clone()).or_insert(0) += c;
                }
                if a.len() > EXACT_LIMIT {
                    self.spill();
                }
            }
            (Self::Sketch { freq, hll, .. }, Self::Exact(b)) => {
                let mut entries: Vec<(&K, &u64)> = b.iter().collect();
                entries.sort_unstable_by(|x, y| x.0.cmp(y.0));
                for (k, c) in entries {
                    hll.update(k);
                    if let Some(f) = freq {
                        f.update_with_count(k.clone(), *c);
                    }
                }
            }
            (Self::Exact(_), Self::Sketch { .. }) => {
                let mut merged = other.clone();
                merged.merge(self);
                *self = merged;
            }
            (
                Self::Sketch { freq, hll, skipped },
                Self::Sketch {
                    freq: f2,
                    hll: h2,
                    skipped: s2,
                },
            ) => {
                // Bounded by the counted values in a checked state; saturate all the same.
                *skipped = skipped.saturating_add(*s2);
                match (&mut *freq, f2) {
                    (Some(a), Some(b)) => a.merge(b),
                    // Either side stopped tracking top values: so does the merge.
                    _ => *freq = None,
                }
                let mut union = HllUnion::new(HLL_LG_K).unwrap_or_else(|_| unreachable!());
                union.update(hll);
                union.update(h2);
                *hll = union.to_sketch(HllType::Hll8);
            }
        }
    }

    /// Whether most frequent values are still tracked (exact counts or a sketch of them).
    pub fn tracks_top(&self) -> bool {
        matches!(self, Self::Exact(_) | Self::Sketch { freq: Some(_), .. })
    }

    /// How many values the counts hold, and whether that is every value counted: the
    /// exact map's total (`None` on overflow), or the frequent-items sketch's stream weight
    /// (which leaves out values seen once in a batch, see [`ValueCounts::add_runs`]).
    pub fn weight(&self) -> (Option<u64>, bool) {
        match self {
            Self::Exact(map) => (map.values().try_fold(0u64, |t, c| t.checked_add(*c)), true),
            Self::Sketch { freq, .. } => {
                (Some(freq.as_ref().map_or(0, |f| f.total_weight())), false)
            }
        }
    }

    /// Batches whose once-seen values the frequent-items sketch left out (0 while exact).
    pub fn skipped_batches(&self) -> u64 {
        match self {
            Self::Exact(_) => 0,
            Self::Sketch { skipped, .. } => *skipped,
        }
    }

    /// The exact map, while the column has few distinct values.
    pub fn exact(&self) -> Option<&HashMap<K, u64>> {
        match self {
            Self::Exact(m) => Some(m),
            Self::Sketch { .. } => None,
        }
    }

    pub fn summary(&self, top_n: usize) -> CountsSummary<K> {
        match self {
            Self::Exact(map) => {
                let mut top: Vec<(K, u64)> = map.iter().map(|(k, c)| (k.clone(), *c)).collect();
                top.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                top.truncate(top_n);
                CountsSummary {
                    distinct: map.len() as u64,
                    distinct_exact: true,
                    top,
                    top_exact: true,
                    top_max_error: 0,
                }
            }
            Self::Sketch { freq, hll, skipped } => {
                let mut top: Vec<(K, u64)> = freq
                    .iter()
                    // No false negatives: every true heavy hitter is listed, ranked by its
                    // estimate; `top_max_error` bounds how far any count may be off.
                    .flat_map(|f| f.frequent_items(ErrorType::NoFalseNegatives))
                    .map(|r| (r.item().clone(), r.estimate()))
                    .collect();
                top.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                top.truncate(top_n);
                CountsSummary {
                    // The composite estimator reads only the registers, so a merged sketch
                    // reports exactly what one sketch of the whole would (HIP, the default,
                    // depends on insertion order and is dropped by unions).
                    distinct: hll.composite_estimate().round() as u64,
                    distinct_exact: false,
                    top,
                    top_exact: false,
                    top_max_error: freq
                        .as_ref()
                        .map_or(0, |f| f.maximum_error().saturating_add(*skipped)),
                }
            }
        }
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if signature
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Serialized form: the exact map as sorted pairs (readable, diffable), sketches as
/// base64 of their standard DataSketches binary images.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CountsRepr<K> {
    Exact(Vec<(K, u64)>),
    Sketch {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        frequent_items: Option<String>,
        hll: String,
        #[serde(default, skip_serializing_if = "is_zero")]
        skipped: u64,
    },
}

impl<K: CountKey + Serialize> Serialize for ValueCounts<K> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let repr = match self {
            Self::Exact(map) => {
                let mut v: Vec<(K, u64)> = map.iter().map(|(k, c)| (k.clone(), *c)).collect();
                v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                CountsRepr::Exact(v)
            }
            Self::Sketch { freq, hll, skipped } => CountsRepr::Sketch {
                frequent_items: freq.as_ref().map(|f| B64.encode(f.serialize())),
                hll: B64.encode(hll.serialize()),
                skipped: *skipped,
            },
        };
        repr.serialize(s)
    }
}

impl<'de, K: CountKey + Deserialize<'de>> Deserialize<'de> for ValueCounts<K> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        Ok(match CountsRepr::<K>::deserialize(d)? {
            CountsRepr::Exact(v) => Self::Exact(v.into_iter().collect()),
            CountsRepr::Sketch {
                frequent_items,
                hll,
                skipped,
            } => {
                let freq = match frequent_items {
                    Some(f) => {
                        let fb = B64.decode(f).map_err(D::Error::custom)?;
                        Some(FrequentItemsSketch::deserialize(&fb).map_err(D::Error::custom)?)
                    }
                    None => None,
                };
                let hb = B64.decode(hll).map_err(D::Error::custom)?;
                Self::Sketch {
                    freq,
                    hll: HllSketch::deserialize(&hb).map_err(D::Error::custom)?,
                    skipped,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_hll_estimates_as_the_composite_estimator_of_a_fresh_sketch() {
        let empty = new_hll();
        assert_eq!(empty.estimate(), 0.0);
        for n in [1_u64, 100, 1_025, 5_000, 60_000, 1_000_000] {
            let mut ours = new_hll();
            let mut fresh = HllSketch::new(HLL_LG_K, HllType::Hll8).unwrap();
            for i in 0..n {
                ours.update(i * 7 + 3);
                fresh.update(i * 7 + 3);
            }
            // Past the exact counts (the only place it is used) a fresh sketch is in its
            // array mode too: the same registers, estimated without HIP, give exactly the
            // fresh sketch's composite estimate. Below, the fresh one still lists coupons.
            if n > EXACT_LIMIT as u64 {
                assert_eq!(ours.estimate(), fresh.composite_estimate(), "n = {n}");
            }
            let rel = (ours.estimate() - n as f64).abs() / n as f64;
            assert!(rel < 0.05, "n = {n}: estimate {}", ours.estimate());
            // It survives the stored profile's round trip.
            let back = HllSketch::deserialize(&ours.serialize()).unwrap();
            assert_eq!(back.estimate(), ours.estimate());
        }
    }

    #[test]
    fn exact_below_limit_and_sketch_beyond() {
        let mut c = ValueCounts::<String>::default();
        for i in 0..100 {
            for _ in 0..(i % 7 + 1) {
                c.add_ref(format!("v{i}").as_str());
            }
        }
        let s = c.summary(3);
        assert!(s.distinct_exact);
        assert_eq!(s.distinct, 100);
        assert_eq!(s.top[0].1, 7);

        let mut big = ValueCounts::<i64>::default();
        for i in 0..50_000i64 {
            big.add_ref(&(i % 20_000));
            big.add_ref(&-1); // a heavy hitter
        }
        let s = big.summary(1);
        assert!(!s.distinct_exact);
        let rel = (s.distinct as f64 - 20_001.0).abs() / 20_001.0;
        assert!(rel < 0.05, "HLL estimate {} too far from 20001", s.distinct);
        assert_eq!(s.top[0].0, -1);
        assert!(s.top[0].1.abs_diff(50_000) <= s.top_max_error);
    }

    /// Issue 12 item 8: estimates are held to what is known exactly.
    #[test]
    fn clamped_estimates_respect_exact_bounds() {
        let sketch = |distinct, top: Vec<(i64, u64)>| CountsSummary {
            distinct,
            distinct_exact: false,
            top,
            top_exact: false,
            top_max_error: 9,
        };
        // 3,001 present values cannot have ~3030 distinct ones, nor a value 3,010 times.
        let c = sketch(3030, vec![(1, 3010), (2, 5)]).clamped(3001);
        assert_eq!(c.distinct, 3001);
        assert_eq!(c.top, vec![(1, 3001), (2, 5)]);
        // Spilled exact counts saw more than EXACT_LIMIT distinct values.
        assert_eq!(sketch(1000, vec![]).clamped(5000).distinct, 1025);
        assert_eq!(sketch(0, vec![]).clamped(0).distinct, 0);
        // Exact counts are left as they are.
        let exact = CountsSummary {
            distinct: 3,
            distinct_exact: true,
            top: vec![(1, 2)],
            top_exact: true,
            top_max_error: 0,
        };
        assert_eq!(exact.clone().clamped(10), exact);
        // Real sketches: every value distinct, the HLL estimate never above the count.
        for n in [1025u64, 1500, 3001, 5003] {
            let mut v = ValueCounts::<i64>::default();
            (0..n as i64).for_each(|i| {
                v.add_ref(&(i * 7919));
            });
            let c = v.summary(3).clamped(n);
            assert!(c.distinct <= n && c.distinct > 1024, "{n}: {}", c.distinct);
        }
    }

    #[test]
    fn merge_and_round_trip() {
        let mut a = ValueCounts::<i64>::default();
        let mut b = ValueCounts::<i64>::default();
        for i in 0..3000i64 {
            a.add_ref(&(i % 1500));
            b.add_ref(&(i % 10));
        }
        a.merge(&b);
        let json = serde_json::to_string(&a).unwrap();
        let back: ValueCounts<i64> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.summary(5), a.summary(5));
        assert!(!a.summary(1).distinct_exact);
    }
}
