//! merge(profile(a), profile(b)) == profile(a ++ b): exactly for counts, min and max, to
//! 1e-9 relative for mean and variance, and within the sketches' stated error for
//! quantiles, distinct counts and top values. Profiles also survive a JSON round trip.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use preflight_stats::profile::{ColumnProfile, Profile, ProfileBuilder};
use proptest::prelude::*;

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("f", DataType::Float64, true),
        Field::new("i", DataType::Int64, true),
        Field::new("s", DataType::Utf8, true),
    ]))
}

fn batch(f: &[Option<f64>], i: &[Option<i64>], s: &[Option<String>]) -> RecordBatch {
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Float64Array::from(f.to_vec())) as ArrayRef,
            Arc::new(Int64Array::from(i.to_vec())),
            Arc::new(StringArray::from(s.to_vec())),
        ],
    )
    .unwrap()
}

fn profile_of(batches: &[RecordBatch]) -> ProfileBuilder {
    let mut b = ProfileBuilder::new(&schema());
    for x in batches {
        b.update(x).unwrap();
    }
    b
}

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    a == b || (a - b).abs() <= tol * a.abs().max(b.abs())
}

fn assert_same_exact_parts(m: &ColumnProfile, w: &ColumnProfile) {
    assert_eq!(m.count, w.count);
    assert_eq!(m.missing, w.missing);
    assert_eq!(m.distinct, w.distinct);
    if let (Some(a), Some(b)) = (&m.numeric, &w.numeric) {
        assert_eq!(a.finite, b.finite);
        assert_eq!(
            (a.nan, a.pos_inf, a.neg_inf, a.zeros),
            (b.nan, b.pos_inf, b.neg_inf, b.zeros)
        );
        assert_eq!(a.min, b.min);
        assert_eq!(a.max, b.max);
        if let (Some(x), Some(y)) = (a.mean, b.mean) {
            assert!(
                rel_close(x, y, 1e-9) || (x - y).abs() < 1e-9,
                "mean {x} vs {y}"
            );
        }
        if let (Some(x), Some(y)) = (a.std_dev, b.std_dev) {
            let (vx, vy) = (x * x, y * y);
            assert!(
                rel_close(vx, vy, 1e-9) || (vx - vy).abs() < 1e-9,
                "variance {vx} vs {vy}"
            );
        }
    }
}

fn opt_f64() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        6 => (-1e6f64..1e6).prop_map(Some),
        2 => (-5i32..5).prop_map(|v| Some(f64::from(v))),
        1 => Just(None),
        1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(-0.0)].prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn merge_equals_whole(
        rows in prop::collection::vec((opt_f64(), prop::option::of(-1000i64..1000), prop::option::of("[a-e]{1,3}")), 1..3000),
        cut in 0.0f64..1.0,
    ) {
        let f: Vec<_> = rows.iter().map(|r| r.0).collect();
        let i: Vec<_> = rows.iter().map(|r| r.1).collect();
        let s: Vec<_> = rows.iter().map(|r| r.2.clone()).collect();
        let k = (cut * rows.len() as f64) as usize;
        let whole = profile_of(&[batch(&f, &i, &s)]);
        // Every state built from data, and every merge of them, holds the invariants a
        // stored profile is checked for (issue 12), and reads back from its JSON.
        prop_assert_eq!(whole.check(), Ok(()));
        let whole = whole.finish(vec![]);
        let mut left = profile_of(&[batch(&f[..k], &i[..k], &s[..k])]);
        let right = profile_of(&[batch(&f[k..], &i[k..], &s[k..])]);
        prop_assert_eq!(right.check(), Ok(()));
        left.merge(&right).unwrap();
        prop_assert_eq!(left.check(), Ok(()));
        let merged = left.finish(vec![]);
        let json = serde_json::to_vec(&merged).unwrap();
        let back = Profile::from_json(&json, std::path::Path::new("mem"));
        prop_assert!(back.is_ok(), "{:?}", back.err());
        prop_assert_eq!(merged.row_count, whole.row_count);
        for (m, w) in merged.columns.iter().zip(&whole.columns) {
            assert_same_exact_parts(m, w);
            // Below the exact limits, top values and quantiles are exact too.
            if m.top_values_exact == Some(true) && w.top_values_exact == Some(true) {
                prop_assert_eq!(&m.top_values, &w.top_values);
            } else {
                // Above them, both are estimates that overstate a count by at most the
                // stated error: a value listed by both must agree within the two errors.
                let err = m.top_values_max_error.unwrap() + w.top_values_max_error.unwrap();
                for t in &m.top_values {
                    if let Some(u) = w.top_values.iter().find(|u| u.value == t.value) {
                        prop_assert!(t.count.abs_diff(u.count) <= err, "{t:?} vs {u:?}, error {err}");
                    }
                }
            }
            if let (Some(a), Some(b)) = (&m.numeric, &w.numeric)
                && a.quantiles_exact
                && b.quantiles_exact
            {
                prop_assert_eq!(a.median, b.median);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Partitions are merged in a fixed order, but profiles merged by `preflight merge`
    /// come in any grouping and order: (a + b) + c, a + (b + c) and c + (b + a) must
    /// agree exactly on counts, min and max, and to 1e-9 on mean and variance.
    #[test]
    fn merge_is_associative_and_commutative(
        rows in prop::collection::vec((opt_f64(), prop::option::of(-1000i64..1000), prop::option::of("[a-e]{1,3}")), 3..600),
        cuts in (0.0f64..1.0, 0.0f64..1.0),
    ) {
        let f: Vec<_> = rows.iter().map(|r| r.0).collect();
        let i: Vec<_> = rows.iter().map(|r| r.1).collect();
        let s: Vec<_> = rows.iter().map(|r| r.2.clone()).collect();
        let (lo, hi) = if cuts.0 <= cuts.1 { cuts } else { (cuts.1, cuts.0) };
        let (j, k) = ((lo * rows.len() as f64) as usize, (hi * rows.len() as f64) as usize);
        let part = |r: std::ops::Range<usize>| profile_of(&[batch(&f[r.clone()], &i[r.clone()], &s[r])]);
        let (a, b, c) = (part(0..j), part(j..k), part(k..rows.len()));
        let mut left = a.clone();
        left.merge(&b).unwrap();
        left.merge(&c).unwrap();
        let mut bc = b.clone();
        bc.merge(&c).unwrap();
        let mut right = a.clone();
        right.merge(&bc).unwrap();
        let mut reversed = c.clone();
        reversed.merge(&b).unwrap();
        reversed.merge(&a).unwrap();
        let left = left.finish(vec![]);
        for other in [right.finish(vec![]), reversed.finish(vec![])] {
            prop_assert_eq!(other.row_count, rows.len() as u64);
            prop_assert_eq!(other.row_count, left.row_count);
            for (m, w) in other.columns.iter().zip(&left.columns) {
                assert_same_exact_parts(m, w);
                if m.top_values_exact == Some(true) && w.top_values_exact == Some(true) {
                    prop_assert_eq!(&m.top_values, &w.top_values);
                }
            }
        }
    }
}

/// Past the exact limits: the merged sketches stay within their stated errors of the truth.
#[test]
fn merged_sketches_within_stated_error() {
    let n = 200_000usize;
    let mut state = 42u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let f: Vec<Option<f64>> = (0..n)
        .map(|_| Some((next() % 1_000_000) as f64 / 7.0))
        .collect();
    let i: Vec<Option<i64>> = (0..n)
        .map(|k| {
            Some(if k % 3 == 0 {
                7
            } else {
                (next() % 50_000) as i64
            })
        })
        .collect();
    let s: Vec<Option<String>> = (0..n)
        .map(|k| {
            Some(if k % 4 == 0 {
                "hot".into()
            } else {
                format!("v{}", next() % 30_000)
            })
        })
        .collect();
    // Four parts, profiled apart, merged.
    let parts: Vec<ProfileBuilder> = (0..4)
        .map(|p| {
            let r = p * n / 4..(p + 1) * n / 4;
            let batches: Vec<RecordBatch> = r
                .clone()
                .step_by(8192)
                .map(|start| {
                    let end = (start + 8192).min(r.end);
                    batch(&f[start..end], &i[start..end], &s[start..end])
                })
                .collect();
            profile_of(&batches)
        })
        .collect();
    let mut merged = parts[0].clone();
    for p in &parts[1..] {
        merged.merge(p).unwrap();
    }
    let merged = merged.finish(vec![]);
    // Through JSON and back, as `preflight merge` does.
    let json = serde_json::to_vec(&merged).unwrap();
    let merged = Profile::from_json(&json, std::path::Path::new("mem")).unwrap();

    // Quantiles: rank error of the merged digest <= 1% (t-digest k=200 is far tighter in
    // the middle; 1% is the bound TFDV's own sketch is read at).
    let mut sorted: Vec<f64> = f.iter().map(|x| x.unwrap()).collect();
    sorted.sort_by(f64::total_cmp);
    let fcol = &merged.columns[0];
    let num = fcol.numeric.as_ref().unwrap();
    assert!(!num.quantiles_exact);
    for (pct, q) in num.percentiles.iter().enumerate().skip(1).take(99) {
        let rank = sorted.partition_point(|v| v < q) as f64 / n as f64;
        let want = pct as f64 / 100.0;
        assert!(
            (rank - want).abs() <= 0.01,
            "p{pct}: value {q} has true rank {rank}"
        );
    }
    // Distinct counts: HLL lg_k=12, relative standard error 1.6%; allow 3 sigma.
    let true_distinct = |v: Vec<String>| {
        let mut v = v;
        v.sort();
        v.dedup();
        v.len() as f64
    };
    let td = true_distinct(s.iter().map(|x| x.clone().unwrap()).collect());
    let got = merged.columns[2].distinct.unwrap() as f64;
    assert!((got - td).abs() / td <= 0.05, "distinct {got} vs {td}");
    assert_eq!(merged.columns[2].distinct_exact, Some(false));
    // Top values: the heavy hitters are found, counts within the sketch's max error.
    let hot = &merged.columns[2].top_values[0];
    assert_eq!(hot.value, "hot");
    let err = 35 * n as u64 / 10_000; // 3.5 / 1024 of the stream, rounded up
    assert!(
        hot.count.abs_diff((n / 4) as u64) <= err,
        "hot: {}",
        hot.count
    );
    let seven = &merged.columns[1].top_values[0];
    assert_eq!(seven.value, 7);
    let true_sevens = i.iter().filter(|x| **x == Some(7)).count() as u64;
    assert!(
        seven.count.abs_diff(true_sevens) <= err,
        "{} vs {}",
        seven.count,
        true_sevens
    );
}
