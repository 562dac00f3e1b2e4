//! A stored profile is user input (issue 12 item 16: `merge` trusted stored counts). Every
//! number of a real stored profile is set, one at a time and in random groups of up to three, to values
//! at the edges (0, 1, u64::MAX, half of it, negative, huge, off by one): reading it either
//! fails with an error or gives a profile that summarises, merges with itself and with the
//! original (or refuses to, with an error) and reads back from what it writes. Never a
//! panic, and never a missing fraction above 1 or a distinct count above the present one.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use preflight_stats::profile::{Profile, ProfileBuilder};
use serde_json::Value;

/// A profile with every kind of state: exact and sketched counts and quantiles, NaN and
/// infinities, nulls, strings, booleans.
fn stored_profile(n: usize) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("f", DataType::Float64, true),
        Field::new("i", DataType::Int64, true),
        Field::new("few", DataType::Int64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("b", DataType::Boolean, true),
    ]));
    let f: Vec<Option<f64>> = (0..n)
        .map(|k| match k % 97 {
            0 => None,
            1 => Some(f64::NAN),
            2 => Some(f64::INFINITY),
            _ => Some((k as f64 * 0.37).sin() * 100.0),
        })
        .collect();
    let i: Vec<Option<i64>> = (0..n)
        .map(|k| (k % 13 != 0).then_some(k as i64 * 7 % 2003))
        .collect();
    let few: Vec<Option<i64>> = (0..n).map(|k| Some(k as i64 % 5)).collect();
    let s: Vec<Option<String>> = (0..n)
        .map(|k| (k % 11 != 0).then(|| format!("v{}", k % 1500)))
        .collect();
    let b: Vec<Option<bool>> = (0..n).map(|k| (k % 3 != 0).then_some(k % 2 == 0)).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Float64Array::from(f)) as ArrayRef,
            Arc::new(Int64Array::from(i)),
            Arc::new(Int64Array::from(few)),
            Arc::new(StringArray::from(s)),
            Arc::new(BooleanArray::from(b)),
        ],
    )
    .unwrap();
    let mut builder = ProfileBuilder::new(&schema);
    for start in (0..n).step_by(1024) {
        builder
            .update(&batch.slice(start, 1024.min(n - start)))
            .unwrap();
    }
    serde_json::to_vec(&builder.finish(vec!["mem".into()])).unwrap()
}

/// Paths to every number in the document's `state` parts and `row_count`.
fn number_paths(v: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match v {
        Value::Number(_) => out.push(path.clone()),
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                path.push(Value::from(i));
                number_paths(x, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, x) in map {
                path.push(Value::from(k.as_str()));
                number_paths(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |v, p| match p {
        Value::String(k) => &mut v[k.as_str()],
        Value::Number(i) => &mut v[i.as_u64().unwrap() as usize],
        _ => unreachable!(),
    })
}

fn edge_values(old: &Value) -> Vec<Value> {
    let mut vals = vec![
        Value::from(0u64),
        Value::from(1u64),
        Value::from(u64::MAX),
        Value::from(u64::MAX / 2 + 1),
        Value::from(-1i64),
        Value::from(1e308),
        Value::from(-1e308),
        Value::from(0.5),
    ];
    if let Some(x) = old.as_u64() {
        vals.push(Value::from(x.saturating_add(1)));
        vals.push(Value::from(x.saturating_sub(1)));
        vals.push(Value::from(x.saturating_mul(1 << 40)));
    }
    if let Some(x) = old.as_f64() {
        vals.push(Value::from(x * 2.0 + 1.0));
        vals.push(Value::from(-x));
    }
    vals
}

/// Read, summarise, merge and round-trip a mutated document; panics are the failure.
fn exercise(doc: &Value, original: &Profile) {
    let bytes = serde_json::to_vec(doc).unwrap();
    let Ok(p) = Profile::from_json(&bytes, Path::new("m.profile.json")) else {
        return;
    };
    for c in &p.columns {
        assert!(
            c.missing_fraction <= 1.0,
            "{}: missing fraction {}",
            c.name,
            c.missing_fraction
        );
        if let Some(d) = c.distinct {
            assert!(d <= c.present, "{}: distinct {d} > {}", c.name, c.present);
        }
    }
    for other in [&p, original] {
        let both = [
            ("a".to_string(), p.clone()),
            ("b".to_string(), other.clone()),
        ];
        if let Ok(m) = Profile::merge_all(&both) {
            let back = serde_json::to_vec(&m).unwrap();
            let read = Profile::from_json(&back, Path::new("merged.profile.json"));
            assert!(read.is_ok(), "a merge does not read back: {:?}", read.err());
        }
    }
}

/// Sketched states (3,000 rows: the sketches are binary images, left to the fuzz
/// targets; their counts around them are mutated here) and exact ones (120 rows: value
/// counts and quantiles kept as numbers).
#[test]
fn mutated_stored_profiles_give_errors_or_sound_profiles_never_panics() {
    for rows in [3000, 120] {
        mutate(&stored_profile(rows));
    }
}

fn mutate(bytes: &[u8]) {
    let bytes = bytes.to_vec();
    let original = Profile::from_json(&bytes, Path::new("orig.profile.json")).unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let mut paths = Vec::new();
    number_paths(&doc, &mut Vec::new(), &mut paths);
    // Summaries are re-derived from the states on reading: mutate what is read.
    paths.retain(|p| p[0] == "row_count" || p.iter().any(|x| x == "state"));
    assert!(paths.len() > 50, "{} numbers", paths.len());
    // PREFLIGHT_MUTATIONS=N runs N random groups (and a seed of its own) to explore further.
    let extra: Option<u64> = std::env::var("PREFLIGHT_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut seed = 0x2545_f491_4f6c_dd1du64 ^ extra.unwrap_or(0);
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Every number once, with a random edge value; then random pairs.
    for path in &paths {
        let mut d = doc.clone();
        let slot = at(&mut d, path);
        let vals = edge_values(slot);
        *slot = vals[next() as usize % vals.len()].clone();
        exercise(&d, &original);
    }
    for _ in 0..extra.unwrap_or(2000) {
        let mut d = doc.clone();
        for _ in 0..1 + next() % 3 {
            let path = &paths[next() as usize % paths.len()];
            let slot = at(&mut d, path);
            let vals = edge_values(slot);
            *slot = vals[next() as usize % vals.len()].clone();
        }
        exercise(&d, &original);
    }
}
