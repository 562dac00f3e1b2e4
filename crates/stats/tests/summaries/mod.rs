//! Two profiles (their JSON) hold the same statistics, computed from other splits of the
//! same rows: shared by `udaf.rs` and the root's `tests/cluster.rs` (which includes this
//! file by its path).
#![allow(dead_code, clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use serde_json::Value;

/// Compare two profiles' summaries (not their `state`, whose sketches hold the same
/// information in another layout): integers and text exactly; floats to `rel` relative;
/// where a column's quantiles come from a t-digest (`quantiles_exact: false`), its
/// quantiles and equal-count histogram to 1% of the column's range (k = 200's rank error
/// is ~1% at the median, a value error of at most that share of the range here), and its
/// equal-width bucket counts (differences of two of the digest's ranks) to 2% of the values; top
/// values from a frequent-items sketch are not compared.
pub fn same_summaries(a: &Value, b: &Value, rel: f64) {
    let (ca, cb) = (
        a["columns"].as_array().unwrap(),
        b["columns"].as_array().unwrap(),
    );
    assert_eq!(ca.len(), cb.len());
    assert_eq!(a["row_count"], b["row_count"]);
    for (x, y) in ca.iter().zip(cb) {
        let name = x["name"].as_str().unwrap();
        let n = &x["numeric"];
        let range = match (n["min"].as_f64(), n["max"].as_f64()) {
            (Some(lo), Some(hi)) => hi - lo,
            _ => 0.0,
        };
        let approx = n["quantiles_exact"] == Value::Bool(false);
        let present = x["present"].as_f64().unwrap_or(0.0);
        if x["top_values_exact"] == Value::Bool(false) {
            // A frequent-items sketch's list depends on how the rows were split: both
            // runs say so, with their error bound.
            assert_eq!(x["top_values_exact"], y["top_values_exact"], "{name}");
            let (mut x, mut y) = (x.clone(), y.clone());
            for v in [&mut x, &mut y] {
                let m = v.as_object_mut().unwrap();
                m.remove("top_values");
                m.remove("top_values_max_error");
            }
            walk(name, &x, &y, rel, approx, (range * 0.01, present));
            continue;
        }
        walk(name, x, y, rel, approx, (range * 0.01, present));
    }
}

fn walk(path: &str, x: &Value, y: &Value, rel: f64, approx: bool, scale: (f64, f64)) {
    match (x, y) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: Vec<&String> = a.keys().filter(|k| *k != "state").collect();
            assert_eq!(
                keys,
                b.keys().filter(|k| *k != "state").collect::<Vec<_>>(),
                "{path}"
            );
            for k in keys {
                walk(&format!("{path}.{k}"), &a[k], &b[k], rel, approx, scale);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}");
            for (i, (p, q)) in a.iter().zip(b).enumerate() {
                walk(&format!("{path}[{i}]"), p, q, rel, approx, scale);
            }
        }
        (Value::Number(p), Value::Number(q)) if p.is_f64() || q.is_f64() => {
            let (p, q) = (p.as_f64().unwrap(), q.as_f64().unwrap());
            let quantile = [".percentiles", ".median", ".quantile_histogram"]
                .iter()
                .any(|k| path.contains(k));
            // Equal-width bucket counts are differences of two of the digest's ranks, each
            // within 1% of the values: 2%.
            let bucket_count = path.contains(".histogram[") && path.ends_with(".count");
            let tol = if approx && bucket_count {
                0.02 * scale.1
            } else if approx && quantile {
                scale.0
            } else {
                rel * p.abs().max(q.abs()).max(1e-300)
            };
            assert!((p - q).abs() <= tol, "{path}: {p} vs {q} (tolerance {tol})");
        }
        // A digest's temporal quantiles as text render the numeric ones compared above.
        (Value::String(_), Value::String(_)) if approx && path.contains(".temporal.") => {}
        _ => assert_eq!(x, y, "{path}"),
    }
}
