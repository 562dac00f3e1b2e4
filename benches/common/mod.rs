//! Shared by the benchmarks: a seeded generator of realistic 3M-row tables and where the
//! generated data lives.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

pub const ROWS: usize = 3_000_000;

pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub fn long_batch(rng: &mut Rng, start: usize, n: usize) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("qty", DataType::Int64, false),
        Field::new("price", DataType::Float64, true),
        Field::new("score", DataType::Float64, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("user", DataType::Utf8, true),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]));
    let ids: Vec<i64> = (start..start + n).map(|i| i as i64).collect();
    let qty: Vec<i64> = (0..n).map(|_| (rng.next() % 50) as i64).collect();
    let price: Vec<Option<f64>> = (0..n)
        .map(|_| (!rng.next().is_multiple_of(20)).then(|| (rng.unit() * 1000.0).round() / 100.0))
        .collect();
    let score: Vec<f64> = (0..n)
        .map(|_| {
            // roughly normal: sum of uniforms
            (0..4).map(|_| rng.unit()).sum::<f64>() * 10.0 - 20.0
        })
        .collect();
    let cats = [
        "books", "toys", "garden", "music", "food", "tools", "games", "baby", "sport", "home",
    ];
    let category: Vec<&str> = (0..n).map(|_| cats[(rng.next() % 10) as usize]).collect();
    let user: Vec<Option<String>> = (0..n)
        .map(|_| {
            (!rng.next().is_multiple_of(50)).then(|| format!("user_{:07}", rng.next() % 1_000_000))
        })
        .collect();
    let ts: Vec<i64> = ids
        .iter()
        .map(|i| 1_700_000_000_000_000 + i * 1_000_000)
        .collect();
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids)) as ArrayRef,
            Arc::new(Int64Array::from(qty)),
            Arc::new(Float64Array::from(price)),
            Arc::new(Float64Array::from(score)),
            Arc::new(StringArray::from(category)),
            Arc::new(StringArray::from(user)),
            Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
        ],
    )
    .unwrap()
}

pub fn data_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target").into());
    let d = Path::new(&target).join("bench-data");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Parquet writer settings of the generated tables.
pub fn props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap()))
        .set_max_row_group_row_count(Some(250_000))
        .build()
}

/// Write `ROWS` rows of [`long_batch`] from `seed` to `path` as Parquet, once.
pub fn long_parquet(path: &Path, seed: u64) {
    write_long(path, seed, |b| b);
}

/// [`long_parquet`]'s table with one more column, `store`: 100 values spread over the
/// rows by a multiplicative hash of `id` (what issue 15's slicing target names: the
/// 3M-row table by a 100-value column). Written once.
#[allow(dead_code)]
pub fn long_store_parquet(path: &Path, seed: u64) {
    write_long(path, seed, |b: RecordBatch| {
        let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let store: Int64Array = ids
            .values()
            .iter()
            .map(|&i| ((i as u64).wrapping_mul(2_654_435_761) % (1 << 32) % 100) as i64)
            .collect();
        let mut fields: Vec<Field> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new("store", DataType::Int64, false));
        let mut cols = b.columns().to_vec();
        cols.push(Arc::new(store));
        RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
    });
}

/// `ROWS` rows of [`long_batch`] from `seed`, each batch through `map`, to `path` as
/// Parquet, once.
fn write_long(path: &Path, seed: u64, map: impl Fn(RecordBatch) -> RecordBatch) {
    if path.exists() {
        return;
    }
    eprintln!("generating {ROWS}-row table {}", path.display());
    let mut rng = Rng(seed);
    let tmp = path.with_extension("tmp");
    let first = map(long_batch(&mut Rng(1), 0, 1));
    let mut w = ArrowWriter::try_new(
        std::fs::File::create(&tmp).unwrap(),
        first.schema(),
        Some(props()),
    )
    .unwrap();
    for start in (0..ROWS).step_by(100_000) {
        w.write(&map(long_batch(&mut rng, start, 100_000))).unwrap();
    }
    w.close().unwrap();
    std::fs::rename(tmp, path).unwrap();
}

/// Wall time of one run of the built `preflight` binary; exit code 2 (cannot run) fails.
pub fn preflight_once(args: &[&str]) -> f64 {
    preflight_once_with(&[], args)
}

/// [`preflight_once`] with `env` set.
pub fn preflight_once_with(env: &[(&str, String)], args: &[&str]) -> f64 {
    let t = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_preflight"))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(args)
        .output()
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    // 1 is a finding (drift, anomalies); 2 would be a failure to run.
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "preflight {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    secs
}

/// Best of three runs: the machine is shared with builds and other work.
pub fn preflight_best(args: &[&str]) -> f64 {
    preflight_best_with(&[], args)
}

/// [`preflight_best`] with `env` set.
pub fn preflight_best_with(env: &[(&str, String)], args: &[&str]) -> f64 {
    (0..3)
        .map(|_| preflight_once_with(env, args))
        .fold(f64::INFINITY, f64::min)
}

/// The generated rows as 16 Parquet files, `dir/part=NN/data.parquet`, once.
pub fn split16(dir: &Path) -> Vec<PathBuf> {
    let rows = ROWS / 16;
    let mut rng = Rng(7);
    (0..16)
        .map(|i| {
            let path = dir.join(format!("part={i:02}/data.parquet"));
            if !path.exists() {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                let batch = long_batch(&mut rng, i * rows, rows);
                let mut w = ArrowWriter::try_new(
                    std::fs::File::create(&path).unwrap(),
                    batch.schema(),
                    Some(props()),
                )
                .unwrap();
                w.write(&batch).unwrap();
                w.close().unwrap();
            }
            path
        })
        .collect()
}

/// The server process, stopped when dropped: at the end, or when a measurement panics.
pub struct Stop(pub std::process::Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
