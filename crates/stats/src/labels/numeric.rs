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

    #[test]
    fn rounding_is_half_even() {
        assert_eq!(round_even(2.5), 2.0);
        assert_eq!(round_even(3.5), 4.0);
        assert_eq!(round_even(-0.5), -0.0);
    }
}
