//! Floating-point helpers that reproduce numpy's arithmetic where cleanlab's results depend
//! on the last bit: a mean that lands a hair above or below a probability decides whether
//! a row is "confident", and a calibrated count of 2.5 vs 2.4999999999999996 rounds
//! differently.

/// Sum in numpy's order (`numpy.add.reduce` on a contiguous 1-D array, i.e. `np.sum`,
/// `np.mean`): fewer than 8 values are added left to right; up to 128 go into 8 interleaved
/// accumulators combined as a tree; longer runs are split in two at a multiple of 8 and
/// summed recursively. Besides matching numpy bit for bit, this has pairwise summation's
/// O(log n) error growth, which matters for a million-row class mean.
pub(crate) fn pairwise_sum(values: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = values.len();
    if n < 8 {
        let mut s = 0.0;
        for &v in values {
            s += v;
        }
        s
    } else if n <= BLOCK {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&values[..8]);
        let mut chunks = values[8..].chunks_exact(8);
        for c in &mut chunks {
            for (acc, &v) in r.iter_mut().zip(c) {
                *acc += v;
            }
        }
        let mut s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in chunks.remainder() {
            s += v;
        }
        s
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
    }
}

/// `numpy.round`: halves go to the even neighbour.
pub(crate) fn round_even(x: f64) -> f64 {
    x.round_ties_even()
}

/// Largest array numpy's SIMD argsort sorts with a sorting network alone; longer arrays go
/// through a vectorised quicksort whose tie order we do not reproduce.
pub(crate) const SIMD_NETWORK_MAX: usize = 256;

/// The permutation numpy 2.x's default `argsort` (`kind="quicksort"`) returns for `values`
/// (finite, at most [`SIMD_NETWORK_MAX`] of them) on an x86-64 CPU where it dispatches to
/// Intel's x86-simd-sort (BSD-3-Clause): `lanes` = 8 with AVX-512 (`zmm` registers of eight
/// f64), 4 with AVX2. `None` when the array is too long to be sorted by the network alone.
///
/// Only the order among equal keys matters here (any sort agrees on the rest), and it is a
/// property of the network, not of the data: x86-simd-sort first returns the identity when
/// the array is already sorted; otherwise it pads the array with +inf to a power-of-two
/// number of registers (the fewest that hold it, at least one), sorts each register with a
/// fixed bitonic network, then merges registers pairwise, in fours, and so on. Every step is
/// a lane-wise compare-exchange in which a lane keeps its own index unless its key changed,
/// so equal keys never swap within one step, yet end up in an order that is neither stable
/// nor reversed (for example residuals tied at positions 1, 2, 5 and 7 of a ten-element
/// row come out as 2, 1, 7, 5). Checked against `np.argsort` of numpy 2.4 on tie-heavy
/// arrays of 2 to 256 elements for both lane widths (AVX-512, and AVX2 with
/// `NPY_DISABLE_CPU_FEATURES` hiding AVX-512): identical permutations, and the two widths
/// agree with each other (`fixtures/reference/numpy_argsort.json`, from
/// `gen_numpy_argsort.py`).
pub(crate) fn simd_argsort(values: &[f64], lanes: usize) -> Option<Vec<usize>> {
    let n = values.len();
    if n > SIMD_NETWORK_MAX {
        return None;
    }
    if n <= 1 || values.windows(2).all(|w| w[1] >= w[0]) {
        return Some((0..n).collect());
    }
    let mut regs = SIMD_NETWORK_MAX / lanes;
    while regs > 1 && n * 2 <= regs * lanes {
        regs /= 2;
    }
    let width = regs * lanes;
    // padding lanes: +inf keys, and an index past the end (numpy loads u64::MAX there)
    let mut keys: Vec<f64> = (0..width)
        .map(|i| values.get(i).copied().unwrap_or(f64::INFINITY))
        .collect();
    let mut idx: Vec<usize> = (0..width).collect();
    let (in_register, merge_register) = if lanes == 8 {
        (SORT_8_LANES.as_slice(), MERGE_8_LANES.as_slice())
    } else {
        (SORT_4_LANES.as_slice(), MERGE_4_LANES.as_slice())
    };
    for r in 0..regs {
        let span = r * lanes..(r + 1) * lanes;
        register_network(&mut keys[span.clone()], &mut idx[span], in_register);
    }
    let mut group = 2;
    while group <= regs {
        for first in (0..regs).step_by(group) {
            merge_registers(&mut keys, &mut idx, lanes, first, group, merge_register);
        }
        group *= 2;
    }
    idx.truncate(n);
    Some(idx)
}

/// One in-register network step: lane `i` is compared with lane `i ^ xor` and keeps the
/// larger key where bit `i` of `max_mask` is set, the smaller elsewhere.
type RegisterStep = (usize, u32);
/// x86-simd-sort's `sort_reg_8lanes` (reverse pairs, reverse fours, swap pairs, reverse
/// eights, swap fours, swap pairs).
const SORT_8_LANES: [RegisterStep; 6] = [
    (1, 0xAA),
    (3, 0xCC),
    (1, 0xAA),
    (7, 0xF0),
    (2, 0xCC),
    (1, 0xAA),
];
/// `bitonic_merge_reg_8lanes`: half cleaners of 8, 4 and 2 lanes.
const MERGE_8_LANES: [RegisterStep; 3] = [(4, 0xF0), (2, 0xCC), (1, 0xAA)];
/// `sort_reg_4lanes`.
const SORT_4_LANES: [RegisterStep; 3] = [(1, 0xA), (3, 0xC), (1, 0xA)];
/// `bitonic_merge_reg_4lanes`.
const MERGE_4_LANES: [RegisterStep; 2] = [(2, 0xC), (1, 0xA)];

fn register_network(keys: &mut [f64], idx: &mut [usize], steps: &[RegisterStep]) {
    let lanes = keys.len();
    let mut new_keys = [0.0f64; 8];
    let mut new_idx = [0usize; 8];
    for &(xor, max_mask) in steps {
        for lane in 0..lanes {
            let partner = lane ^ xor;
            let (own, other) = (keys[lane], keys[partner]);
            let v = if max_mask >> lane & 1 == 1 {
                own.max(other)
            } else {
                own.min(other)
            };
            new_keys[lane] = v;
            new_idx[lane] = if v == own { idx[lane] } else { idx[partner] };
        }
        keys.copy_from_slice(&new_keys[..lanes]);
        idx.copy_from_slice(&new_idx[..lanes]);
    }
}

/// `COEX` of two whole registers `a < b`: lane-wise min to `a`, max to `b`; a lane's index
/// moves only when its key did.
fn coex(keys: &mut [f64], idx: &mut [usize], lanes: usize, a: usize, b: usize) {
    for lane in 0..lanes {
        let (i, j) = (a * lanes + lane, b * lanes + lane);
        let (ka, kb) = (keys[i], keys[j]);
        let lo = ka.min(kb);
        if lo != ka {
            keys.swap(i, j);
            idx.swap(i, j);
        }
    }
}

fn reverse_register(keys: &mut [f64], idx: &mut [usize], lanes: usize, r: usize) {
    keys[r * lanes..(r + 1) * lanes].reverse();
    idx[r * lanes..(r + 1) * lanes].reverse();
}

/// `bitonic_merge_n_vec`: merge `group` sorted registers starting at `first` (two sorted
/// halves) into one sorted run.
fn merge_registers(
    keys: &mut [f64],
    idx: &mut [usize],
    lanes: usize,
    first: usize,
    group: usize,
    merge_register: &[RegisterStep],
) {
    for i in 0..group / 2 {
        let mirror = first + group - 1 - i;
        reverse_register(keys, idx, lanes, mirror);
        coex(keys, idx, lanes, first + i, mirror);
        reverse_register(keys, idx, lanes, mirror);
    }
    let mut num = group / 2;
    while num >= 2 {
        for j in (0..group).step_by(num) {
            for i in 0..num / 2 {
                coex(keys, idx, lanes, first + i + j, first + i + j + num / 2);
            }
        }
        num /= 2;
    }
    for r in first..first + group {
        let span = r * lanes..(r + 1) * lanes;
        register_network(&mut keys[span.clone()], &mut idx[span], merge_register);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_matches_plain_sum_on_exact_values() {
        for n in [0usize, 1, 7, 8, 9, 16, 127, 128, 129, 1000, 4097] {
            let v: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let expected = (n * n.saturating_sub(1) / 2) as f64;
            assert_eq!(pairwise_sum(&v), expected, "n = {n}");
        }
    }

    #[test]
    fn pairwise_sum_follows_numpy_order() {
        // np.sum([0.1] * 10) == 1.0 (8 accumulators, then tree) while a left-to-right sum
        // gives 0.9999999999999999.
        let v = [0.1; 10];
        assert_eq!(pairwise_sum(&v), 1.0);
        assert_ne!(v.iter().sum::<f64>(), 1.0);
    }

    #[derive(serde::Deserialize)]
    struct ArgsortCase {
        values: Vec<f64>,
        avx512: Vec<usize>,
        avx2: Vec<usize>,
        portable: Vec<usize>,
    }

    fn argsort_cases() -> Vec<ArgsortCase> {
        #[derive(serde::Deserialize)]
        struct File {
            cases: Vec<ArgsortCase>,
        }
        let f: File = serde_json::from_str(include_str!(
            "../../../../fixtures/reference/numpy_argsort.json"
        ))
        .unwrap();
        f.cases
    }

    #[test]
    fn simd_argsort_matches_numpy_on_avx512_and_avx2() {
        let cases = argsort_cases();
        assert!(cases.len() >= 300);
        let mut tie_orders_differ = 0;
        for (i, c) in cases.iter().enumerate() {
            assert_eq!(simd_argsort(&c.values, 8).unwrap(), c.avx512, "case {i}");
            assert_eq!(simd_argsort(&c.values, 4).unwrap(), c.avx2, "case {i}");
            // the portable sort is a different order on ties, so the fixture tests something
            if c.avx512 != c.portable {
                tie_orders_differ += 1;
            }
        }
        assert!(tie_orders_differ > 200, "{tie_orders_differ}");
    }

    #[test]
    fn simd_argsort_edge_cases() {
        // sorted input (ties included) is returned as is, like x86-simd-sort's early exit
        assert_eq!(simd_argsort(&[1.0, 1.0, 2.0], 8).unwrap(), vec![0, 1, 2]);
        assert_eq!(simd_argsort(&[], 8).unwrap(), Vec::<usize>::new());
        assert_eq!(simd_argsort(&[3.0, 1.0], 8).unwrap(), vec![1, 0]);
        assert!(simd_argsort(&[0.0; SIMD_NETWORK_MAX + 1], 8).is_none());
        // the residuals of the repro's first calibrated row: four ties at 0.4722
        let r = [
            0.402778, 0.472222, 0.472222, 0.236111, 0.0, 0.472222, 0.0, 0.472222,
        ];
        let r: Vec<f64> = r.iter().chain(&[0.236111, 0.236111]).copied().collect();
        assert_eq!(
            simd_argsort(&r, 8).unwrap(),
            vec![6, 4, 3, 8, 9, 0, 2, 1, 7, 5]
        );
    }

    #[test]
    fn rounding_is_half_even() {
        assert_eq!(round_even(2.5), 2.0);
        assert_eq!(round_even(3.5), 4.0);
        assert_eq!(round_even(-0.5), -0.0);
    }
}
