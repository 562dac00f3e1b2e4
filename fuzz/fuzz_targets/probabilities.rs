//! Predicted probabilities and labels as `labels --pred-probs` hands them to the library
//! (the CSV itself is read by DataFusion): any matrix (NaN, negative, rows that do not
//! sum to 1, labels out of range, any shape) is refused with an error or audited without
//! a panic, under every filter and score.
//!
//! Input: byte 0 = classes (2..=9), byte 1 = options, then one label byte and `classes`
//! probability bytes per row (a byte b is b / 253, except 254 = -0.5 and 255 = NaN).
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight_stats::labels::{
    ConfidentLearningOptions, FilterBy, ProbMatrix, ScoreMethod, find_label_issues,
    label_quality_scores,
};

fuzz_target!(|data: &[u8]| {
    let [k, opts, rest @ ..] = data else {
        return;
    };
    let k = 2 + usize::from(*k % 8);
    let rows: Vec<&[u8]> = rest.chunks_exact(k + 1).collect();
    let labels: Vec<usize> = rows.iter().map(|r| usize::from(r[0] % 10)).collect();
    let probs: Vec<f64> = rows
        .iter()
        .flat_map(|r| r[1..].iter())
        .map(|&b| match b {
            255 => f64::NAN,
            254 => -0.5,
            b => f64::from(b) / 253.0,
        })
        .collect();
    let Ok(matrix) = ProbMatrix::new(&probs, rows.len(), k) else {
        return;
    };
    let filter_by = FilterBy::ALL[usize::from(opts % 5)];
    let rank_by = match (opts / 5) % 3 {
        0 => ScoreMethod::SelfConfidence,
        1 => ScoreMethod::NormalizedMargin,
        _ => ScoreMethod::ConfidenceWeightedEntropy,
    };
    let options = ConfidentLearningOptions {
        filter_by,
        rank_by,
        min_examples_per_class: usize::from((opts / 15) % 4),
        row_sum_tolerance: if opts & 0x80 == 0 { Some(1e-3) } else { None },
    };
    let _ = find_label_issues(&labels, matrix, &options);
    let _ = label_quality_scores(&labels, matrix, rank_by);
});
