//! Profiles that keep only the summary of numeric columns (`Dataset::profile_summarising`,
//! what `validate` asks for): on real tables, narrow (merged through the states' bytes) and
//! wide (read by column groups), every count, extreme and moment is the full profile's to
//! the bit, and nothing the summary did not keep (distinct count, top values, quantiles,
//! histograms) is claimed.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod fixtures_dir;

use fixtures_dir::fixture;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use preflight_stats::profile::{ColumnProfile, ColumnState, Profile};
use preflight_stats::source::{Dataset, SourceOptions};
use serde_json::Value;

async fn profiles(path: &str, summary_only: Option<HashSet<String>>) -> Profile {
    let mut ds = Dataset::open(&[path.to_string()], &SourceOptions::default())
        .await
        .unwrap();
    let which = summary_only.map(|w| {
        if w.is_empty() {
            // Every column.
            (ds.schema().fields().iter())
                .map(|f| f.name().clone())
                .collect()
        } else {
            w
        }
    });
    ds.profile_summarising(Arc::new(AtomicU64::new(0)), which.map(Arc::new))
        .await
        .unwrap()
}

/// What a summary keeps of a numeric column, as JSON (bit-exact through `{:?}` of f64).
fn kept(c: &ColumnProfile) -> Value {
    let n = c.numeric.as_ref().unwrap();
    serde_json::json!({
        "count": c.count, "missing": c.missing, "present": c.present,
        "finite": n.finite, "min": format!("{:?}", n.min), "max": format!("{:?}", n.max),
        "mean": format!("{:?}", n.mean), "std_dev": format!("{:?}", n.std_dev),
        "zeros": n.zeros, "nan": n.nan, "pos_inf": n.pos_inf, "neg_inf": n.neg_inf,
        "temporal": c.temporal.as_ref().map(|t| (t.min.clone(), t.max.clone())),
    })
}

fn assert_summaries_agree(full: &Profile, summary: &Profile, what: &str) {
    assert_eq!(full.row_count, summary.row_count, "{what}");
    assert_eq!(full.columns.len(), summary.columns.len(), "{what}");
    let mut numeric = 0;
    for (f, s) in full.columns.iter().zip(&summary.columns) {
        assert_eq!(f.name, s.name, "{what}");
        if f.numeric.is_none() {
            // Text, booleans: profiled in full either way.
            assert_eq!(
                serde_json::to_value(f).unwrap(),
                serde_json::to_value(s).unwrap(),
                "{what}: {}",
                f.name
            );
            continue;
        }
        numeric += 1;
        assert_eq!(kept(f), kept(s), "{what}: {}", f.name);
        // The full profile has these; the summary claims none of them.
        assert!(f.distinct.is_some(), "{what}: {}", f.name);
        let n = s.numeric.as_ref().unwrap();
        assert_eq!(s.distinct, None, "{what}: {}", s.name);
        assert_eq!(s.distinct_exact, None, "{what}: {}", s.name);
        assert!(s.top_values.is_empty(), "{what}: {}", s.name);
        assert!(
            n.median.is_none() && n.percentiles.is_empty() && !n.quantiles_exact,
            "{what}: {}",
            s.name
        );
        assert!(
            n.histogram.is_empty() && n.quantile_histogram.is_empty(),
            "{what}: {}",
            s.name
        );
        if let Some(t) = &s.temporal {
            assert_eq!(t.median, None, "{what}: {}", s.name);
        }
        // The state says what it is, through its bytes too (how a narrow table's
        // partitions merge), and passes the stored-state checks.
        let back = ColumnState::from_bytes(&s.state.to_bytes()).unwrap();
        assert!(back.numeric.as_ref().unwrap().summary_only, "{}", s.name);
        assert!(
            !f.state.numeric.as_ref().unwrap().summary_only,
            "{}",
            f.name
        );
    }
    assert!(numeric >= 10, "{what}: {numeric} numeric columns");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_summary_is_the_full_profile_less_its_sketches() {
    for name in ["nycflights13_flights.parquet", "nycflights13_weather.csv"] {
        let path = fixture(name);
        let full = profiles(&path, None).await;
        let summary = profiles(&path, Some(HashSet::new())).await;
        assert_summaries_agree(&full, &summary, name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_named_columns_are_summarised() {
    let path = fixture("nycflights13_flights.parquet");
    let full = profiles(&path, None).await;
    let which: HashSet<String> = ["dep_delay", "time_hour"].map(String::from).into();
    let some = profiles(&path, Some(which.clone())).await;
    for (f, s) in full.columns.iter().zip(&some.columns) {
        if which.contains(&f.name) {
            assert_eq!(s.distinct, None, "{}", f.name);
            assert_eq!(kept(f), kept(s), "{}", f.name);
        } else {
            assert_eq!(
                serde_json::to_value(f).unwrap(),
                serde_json::to_value(s).unwrap(),
                "{}",
                f.name
            );
        }
    }
}

/// Merged with a full state of the same column, a summary stays a summary: value counts
/// of only some of the rows would be wrong counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_summary_merged_with_a_full_profile_is_a_summary() {
    let path = fixture("nycflights13_weather.csv");
    let full = profiles(&path, None).await;
    let summary = profiles(&path, Some(HashSet::new())).await;
    let merged = Profile::merge_all(&[
        ("full".to_string(), full.clone()),
        ("summary".to_string(), summary),
    ])
    .unwrap();
    let temp = merged.column("temp").unwrap();
    assert_eq!(temp.distinct, None);
    assert!(temp.numeric.as_ref().unwrap().percentiles.is_empty());
    assert_eq!(temp.count, 2 * full.column("temp").unwrap().count);
    let (a, b) = (
        full.column("temp").unwrap().numeric.as_ref().unwrap(),
        temp.numeric.as_ref().unwrap(),
    );
    assert_eq!((a.min, a.max), (b.min, b.max));
    assert!((a.mean.unwrap() - b.mean.unwrap()).abs() < 1e-9);
}

/// A table of 76 columns (the flights' 19, four times over, under new names) is read by
/// column groups, where each group's builder is made apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wide_table_is_summarised_by_column_groups_alike() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = std::fs::File::open(fixture("nycflights13_flights.parquet")).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let path = dir.path().join("wide.parquet");
    let mut writer = None;
    for batch in reader {
        let batch = batch.unwrap();
        let (mut fields, mut cols) = (Vec::new(), Vec::new());
        for copy in 0..4 {
            for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
                fields.push(Field::new(
                    format!("{}_{copy}", f.name()),
                    f.data_type().clone(),
                    true,
                ));
                cols.push(c.clone());
            }
        }
        let wide = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
        writer
            .get_or_insert_with(|| {
                ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), wide.schema(), None)
                    .unwrap()
            })
            .write(&wide)
            .unwrap();
    }
    writer.unwrap().close().unwrap();
    let path = path.to_string_lossy().into_owned();
    // The benchmarks' floors: read by rows, and by column groups as the profile reads.
    let ds = Dataset::open(std::slice::from_ref(&path), &SourceOptions::default())
        .await
        .unwrap();
    assert_eq!(ds.decode_only().await.unwrap(), 336_776);
    assert_eq!(ds.decode_as_profiled().await.unwrap(), 336_776);
    let full = profiles(&path, None).await;
    let summary = profiles(&path, Some(HashSet::new())).await;
    assert_eq!(full.columns.len(), 76);
    assert_summaries_agree(&full, &summary, "wide");
}
