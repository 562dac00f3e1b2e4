//! History benchmark (release build): `cargo bench --bench history`.
//!
//! Checking a new run of a 5,000-column table against 365 prior runs with the default
//! checks `infer --history-checks` writes (row count, each column's missing fraction and
//! mean: 10,001 checks): read the records (only the metrics the checks use), pick the
//! runs before the new one, judge every check. Target < 1 s. Printed against two
//! baselines measured in the same run: reading the 365 record files' bytes (the I/O
//! floor) and parsing every record whole.
//!
//! Slicing: `profile --by` on the 3-million-row table of `cargo bench --bench profile`
//! with a 100-value column `store` added (`long-store.parquet`, generated under
//! bench-data if absent) by `store` (issue 15's case: target at most 1.5x), by `qty` (50
//! values) and by `category,qty` (500 slice keys, the top 100 kept), against the unsliced
//! profile of the same file; and the floor of a builder per slice: the same rows, grouped
//! by `store` in memory before the clock starts, profiled as 100 tables against one.
#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is the right behaviour

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use preflight_schema::Schema;
use preflight_schema::history::{self, Run};
use preflight_stats::history::store::{self, History, NewRun, Selection};
use preflight_stats::history::{METRICS, RunMetrics, TopShares};
use preflight_stats::profile::{PROFILE_VERSION, Profile};

const COLUMNS: usize = 5_000;
const RUNS: usize = 365;

/// A run's metrics: every column numeric, values that wander a little day to day.
fn metrics(day: usize) -> RunMetrics {
    let columns: Vec<String> = (0..COLUMNS).map(|i| format!("feature_{i:04}")).collect();
    let mut values = BTreeMap::new();
    for (k, m) in METRICS.iter().enumerate() {
        let v = (0..COLUMNS)
            .map(|i| {
                let wobble = ((day * 31 + i * 17 + k * 7) % 101) as f64 / 1000.0;
                Some(match *m {
                    "missing_fraction" => 0.01 + wobble / 10.0,
                    "distinct" => 1000.0 + (day % 7) as f64,
                    _ => i as f64 + k as f64 + wobble,
                })
            })
            .collect();
        values.insert((*m).to_string(), v);
    }
    RunMetrics {
        rows: 100_000 + (day % 7) as u64 * 500,
        columns,
        values,
        top_values: vec![TopShares::default(); COLUMNS],
    }
}

fn schema_text() -> String {
    let mut s = String::from(
        "version: 1\ndataset:\n  history:\n    - {metric: rows, last: 14, min_history: 7, batch_normal: {lower: 3, upper: 3}}\nfeatures:\n",
    );
    for i in 0..COLUMNS {
        s.push_str(&format!(
            "  - name: feature_{i:04}\n    type: double\n    history:\n      - {{metric: missing_fraction, last: 7, change: {{aggregate: avg, max: 0.05}}}}\n      - {{metric: mean, last: 30, min_history: 7, batch_normal: {{lower: 4, upper: 4}}}}\n"
        ));
    }
    s
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return; // `cargo test --benches` smoke run: nothing to time
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // `cargo bench --bench history -- slices`: the slicing half only.
    if std::env::args().any(|a| a == "slices") {
        slicing(dir);
        return;
    }
    let tags: BTreeMap<String, String> = [("dataset".to_string(), "wide".to_string())].into();
    let day_ms = 86_400_000i64;
    let t0 = store::parse_time("2025-01-01").unwrap();
    let started = Instant::now();
    for day in 0..RUNS {
        store::append(
            dir,
            NewRun {
                time_ms: t0 + day as i64 * day_ms,
                command: "profile",
                tags: &tags,
                inputs: &["wide.parquet".to_string()],
                flagged: Vec::new(),
            },
            &metrics(day),
            b"{}",
        )
        .unwrap();
    }
    let bytes: u64 = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    println!(
        "history: {RUNS} records of {COLUMNS} columns written in {:.2} s ({:.1} MB, {:.0} KB a record)",
        started.elapsed().as_secs_f64(),
        bytes as f64 / 1e6,
        bytes as f64 / 1e3 / RUNS as f64
    );
    let schema = Schema::parse(&schema_text(), std::path::Path::new("wide.yaml")).unwrap();
    let new_run = metrics(RUNS);
    let profile = Profile {
        version: PROFILE_VERSION,
        row_count: new_run.rows,
        sources: Vec::new(),
        columns: Vec::new(),
    };
    let at = t0 + RUNS as i64 * day_ms;

    let time = |f: &mut dyn FnMut()| -> f64 {
        let mut t: Vec<f64> = (0..5)
            .map(|_| {
                let s = Instant::now();
                f();
                s.elapsed().as_secs_f64()
            })
            .collect();
        t.sort_by(f64::total_cmp);
        t[2]
    };
    let read_bytes = time(&mut || {
        let mut n = 0;
        for e in std::fs::read_dir(dir.join("runs")).unwrap() {
            n += std::fs::read(e.unwrap().path()).unwrap().len();
        }
        assert!(n > 0);
    });
    let parse_all = time(&mut || {
        let r = store::read(dir, &Selection::All).unwrap();
        assert_eq!(r.len(), RUNS);
    });
    let mut outcomes = 0;
    let mut anomalies = 0;
    let mut check_with = |window: Option<usize>| {
        time(&mut || {
            let wanted = history::metrics(&schema);
            let records =
                store::read_history(dir, &Selection::of(&wanted), &tags, at, window).unwrap();
            let chosen = store::select(&records, &tags, Some(at), None, None);
            let past = History::new(&chosen);
            let run = Run {
                at_ms: at,
                profile: &profile,
                metrics: &new_run,
            };
            let out = history::check(&schema, &run, Some(&past), None);
            outcomes = out.len();
            anomalies = out.iter().filter(|o| o.anomaly.is_some()).count();
        })
    };
    // The default checks look 30 runs back at most: only the newest records are parsed.
    let check = check_with(history::window(&schema));
    // Every record parsed (what a check without `last`, e.g. holt_winters, needs).
    let check_all = check_with(None);
    println!(
        "check a new run against {RUNS} runs x {COLUMNS} columns ({outcomes} checks, {anomalies} anomalies): {check:.3} s with the default checks' windows (target < 1 s: {}); {check_all:.3} s reading all {RUNS} records (target: {})",
        if check < 1.0 { "met" } else { "NOT met" },
        if check_all < 1.0 { "met" } else { "NOT met" }
    );
    println!(
        "  baseline: reading the record files' bytes {read_bytes:.3} s (all records checked = {:.1}x); parsing every record whole {parse_all:.3} s (= {:.2}x)",
        check_all / read_bytes,
        check_all / parse_all
    );

    slicing(dir);
}

/// `profile --by` (the builder per slice) and `Dataset::profile_slices` (the profile's
/// aggregate function under GROUP BY) against the unsliced profile, in the same run.
fn slicing(dir: &std::path::Path) {
    // The profile bench's table plus a 100-value column, `store`.
    let long = common::data_dir().join("long-store.parquet");
    common::long_store_parquet(&long, 7);
    let long = long.to_str().unwrap();
    let out = dir.join("p.json");
    let out = out.to_str().unwrap();
    let whole = common::preflight_best(&["profile", long, "--format", "json", "-o", out]);
    println!("profile of {} rows: {whole:.2} s", common::ROWS);
    for by in ["store", "qty", "category,qty"] {
        let t =
            common::preflight_best(&["profile", long, "--by", by, "--format", "json", "-o", out]);
        println!(
            "  profile --by {by}: {t:.2} s = {:.2}x the unsliced profile (target <= 1.5x)",
            t / whole
        );
    }
    // The other way to slice: the profile's aggregate function under GROUP BY
    // (`Dataset::profile_slices`), in process, against the in-process unsliced profile.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let opts = preflight_stats::source::SourceOptions::default();
    let time = |f: &dyn Fn() -> usize| {
        (0..3)
            .map(|_| {
                let t = std::time::Instant::now();
                assert!(f() > 0);
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let open = || {
        rt.block_on(preflight_stats::source::Dataset::open(
            &[long.to_string()],
            &opts,
        ))
        .unwrap()
    };
    let scan = time(&|| {
        let mut ds = open();
        let rows = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        rt.block_on(ds.profile(rows)).unwrap().columns.len()
    });
    per_slice_floor(long);
    for by in ["store", "qty", "category,qty"] {
        let keys: Vec<String> = by.split(',').map(String::from).collect();
        let t = time(&|| {
            rt.block_on(preflight_stats::slice::profile_slices(
                &mut open(),
                &keys,
                100,
                preflight_stats::slice::MAX_DISTINCT_SLICES,
            ))
            .unwrap()
            .slices
            .len()
        });
        println!(
            "  slice::profile_slices({by}) (a builder per slice, in process): {t:.2} s = {:.2}x the in-process profile ({scan:.2} s)",
            t / scan
        );
        let t = time(&|| rt.block_on(open().profile_slices(&keys)).unwrap().len());
        println!(
            "  Dataset::profile_slices({by}) (preflight_profile under GROUP BY, in process): {t:.2} s = {:.2}x the in-process profile ({scan:.2} s)",
            t / scan
        );
    }
}

/// The floor of any profile per slice: the rows, read and grouped by `store` in memory
/// before the clock starts, profiled as 100 tables (a builder per slice, fed its rows in
/// batches of 8,192, finished), against the same rows profiled as one table; both on
/// every core (slices shared out; the one table in halves merged). No read, no grouping,
/// no output: what is left is the cost of 100 sets of sketches, each filled from its
/// own exact counts.
fn per_slice_floor(path: &str) {
    use arrow::array::{Array, Int64Array, RecordBatch};
    use preflight_stats::profile::ProfileBuilder;
    let file = std::fs::File::open(path).unwrap();
    let batches: Vec<RecordBatch> =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .with_batch_size(8192)
            .build()
            .unwrap()
            .map(|b| b.unwrap())
            .collect();
    let schema = batches[0].schema();
    let store = schema.index_of("store").unwrap();
    let mut per_store: BTreeMap<i64, Vec<RecordBatch>> = BTreeMap::new();
    for b in &batches {
        let s = b
            .column(store)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        let mut rows: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
        for i in 0..s.len() {
            rows.entry(s.value(i)).or_default().push(i as u32);
        }
        for (k, r) in rows {
            let taken =
                arrow::compute::take_record_batch(b, &arrow::array::UInt32Array::from(r)).unwrap();
            per_store.entry(k).or_default().push(taken);
        }
    }
    let slices: Vec<RecordBatch> = per_store
        .into_values()
        .flat_map(|bs| {
            let all = arrow::compute::concat_batches(&schema, &bs).unwrap();
            (0..all.num_rows())
                .step_by(8192)
                .map(move |at| all.slice(at, 8192.min(all.num_rows() - at)))
                .collect::<Vec<_>>()
        })
        .collect();
    let threads = preflight_stats::work::machine_threads();
    let whole = || {
        let halves: Vec<&[RecordBatch]> = batches.chunks(batches.len().div_ceil(threads)).collect();
        let parts = preflight_stats::work::par_map(halves, threads, |bs| {
            let mut b = ProfileBuilder::new(&schema);
            bs.iter().for_each(|x| b.update(x).unwrap());
            b
        });
        let merged = ProfileBuilder::merge_many(parts).unwrap();
        assert!(merged.finish(Vec::new()).row_count > 0);
    };
    // The slices' batches, grouped again by store (they are in store order).
    let mut groups: Vec<Vec<&RecordBatch>> = Vec::new();
    let mut last = None;
    for b in &slices {
        let s = b
            .column(store)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0);
        if last != Some(s) {
            groups.push(Vec::new());
            last = Some(s);
        }
        groups.last_mut().unwrap().push(b);
    }
    let sliced = || {
        let done = preflight_stats::work::par_map(groups.clone(), threads, |bs| {
            let mut b = ProfileBuilder::new(&schema);
            bs.iter().for_each(|x| b.update(x).unwrap());
            b.finish(Vec::new()).row_count
        });
        assert_eq!(done.len(), 100);
    };
    // Alternately, best of seven each: on this shared machine one run of either moves by
    // half, and three runs of one then three of the other gave 1.03x to 1.87x.
    let (mut whole_s, mut sliced_s) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..7 {
        let t = Instant::now();
        whole();
        whole_s = whole_s.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        sliced();
        sliced_s = sliced_s.min(t.elapsed().as_secs_f64());
    }
    let (whole, sliced) = (whole_s, sliced_s);
    println!(
        "  floor: the same rows grouped by store in memory, 100 profiles {sliced:.2} s = {:.2}x one profile of them ({whole:.2} s)",
        sliced / whole
    );
}
