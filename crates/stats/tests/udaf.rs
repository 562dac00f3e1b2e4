//! The profile as an aggregate function (`preflight_profile`, profile/udaf.rs): in a plan
//! it gives the statistics of the tuned scan on real tables; its partial states merge to
//! the same bits in any order; under `GROUP BY` each slice's profile is the profile of
//! that slice's rows.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod summaries;

mod fixtures_dir;

use fixtures_dir::fixture;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use preflight_stats::profile::Profile;
use preflight_stats::source::{Dataset, SourceOptions};
use serde_json::Value;
use summaries::same_summaries;

async fn open(path: &str) -> Dataset {
    Dataset::open(&[path.to_string()], &SourceOptions::default())
        .await
        .unwrap()
}

async fn scan_profile(path: &str) -> Profile {
    open(path)
        .await
        .profile(Arc::new(AtomicU64::new(0)))
        .await
        .unwrap()
}

fn json(p: &Profile) -> Value {
    serde_json::to_value(p).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_profiles_as_the_tuned_scan_does() {
    for name in [
        "nycflights13_flights.parquet",
        "penguins.csv",
        "nycflights13_weather_5k.csv",
    ] {
        let path = fixture(name);
        let scanned = scan_profile(&path).await;
        let ds = open(&path).await;
        let planned = ds.profile_by_query().await.unwrap();
        // Narrow tables: the plan reads the scan's partitions, and its partial states merge
        // as the scan's do, so the profile is the same to the bit.
        assert_eq!(json(&scanned), json(&planned), "{name}");
        // The same plan twice: the same bits (partial states merge in the order of their
        // bytes, not of their arrival).
        let again = ds.profile_by_query().await.unwrap();
        assert_eq!(json(&planned), json(&again), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slices_are_the_profiles_of_their_rows() {
    let text = std::fs::read_to_string(fixture("penguins.csv")).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ds = open(&fixture("penguins.csv")).await;
    let slices = ds.profile_slices(&["species".into()]).await.unwrap();
    let keys: Vec<&str> = slices
        .iter()
        .map(|(k, _)| k[0].as_deref().unwrap())
        .collect();
    assert_eq!(keys, ["Adelie", "Chinstrap", "Gentoo"]);
    let total: u64 = slices.iter().map(|(_, p)| p.row_count).sum();
    assert_eq!(total, 344);
    for (key, sliced) in &slices {
        let species = key[0].as_deref().unwrap();
        // The slice's rows as a file of their own, profiled by the scan.
        let own: Vec<&str> = rows
            .lines()
            .filter(|l| l.split(',').next() == Some(species))
            .collect();
        let path = dir.path().join(format!("{species}.csv"));
        std::fs::write(&path, format!("{header}\n{}\n", own.join("\n"))).unwrap();
        let alone = scan_profile(path.to_str().unwrap()).await;
        assert_eq!(sliced.row_count, own.len() as u64);
        same_summaries(&json(&alone), &json(sliced), 1e-12);
    }
    // Two key columns: their cross, nulls kept as a slice of their own.
    let both = ds
        .profile_slices(&["island".into(), "sex".into()])
        .await
        .unwrap();
    assert!(
        both.iter().any(|(k, _)| k[1].is_none()),
        "a null sex is a slice"
    );
    assert_eq!(both.iter().map(|(_, p)| p.row_count).sum::<u64>(), 344);
    let err = ds.profile_slices(&["nope".into()]).await.unwrap_err();
    assert!(err.to_string().contains("no column named `nope`"), "{err}");
}

/// A Parquet table of `cols` columns (doubles with nulls, integers, strings) and `rows`
/// rows in row groups of 7,000, values from a fixed generator.
fn wide_parquet(path: &std::path::Path, cols: usize, rows: usize) -> Vec<Vec<Option<f64>>> {
    use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    let mut doubles = Vec::new();
    for c in 0..cols {
        match c % 3 {
            0 => {
                let v: Vec<Option<f64>> = (0..rows)
                    .map(|_| {
                        let r = next();
                        (r % 17 != 0).then(|| (r >> 11) as f64 / (1u64 << 53) as f64 * 100.0 - 20.0)
                    })
                    .collect();
                fields.push(Field::new(format!("d{c}"), DataType::Float64, true));
                arrays.push(Arc::new(Float64Array::from(v.clone())));
                doubles.push(v);
            }
            1 => {
                let v: Vec<i64> = (0..rows).map(|_| (next() % 5000) as i64).collect();
                fields.push(Field::new(format!("i{c}"), DataType::Int64, false));
                arrays.push(Arc::new(Int64Array::from(v)));
            }
            _ => {
                let v: Vec<String> = (0..rows).map(|_| format!("s{}", next() % 40)).collect();
                fields.push(Field::new(format!("s{c}"), DataType::Utf8, false));
                arrays.push(Arc::new(StringArray::from(v)));
            }
        }
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(7000))
        .build();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(path).unwrap(),
        batch.schema(),
        Some(props),
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    doubles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wide_parquet_table_is_profiled_by_column_groups() {
    // 150 columns (above the 64 from which a Parquet table is read by column groups),
    // 20,000 rows in three row groups.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.parquet");
    let doubles = wide_parquet(&path, 150, 20_000);
    let path = path.to_str().unwrap().to_string();
    let scanned = scan_profile(&path).await;
    assert_eq!(scanned.row_count, 20_000);
    assert_eq!(scanned.columns.len(), 150);
    let names: Vec<&str> = scanned.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        &names[..4],
        ["d0", "i1", "s2", "d3"],
        "columns keep their order"
    );
    let planned = open(&path).await.profile_by_query().await.unwrap();
    same_summaries(&json(&scanned), &json(&planned), 1e-9);
    // Against a two-pass computation of every double column's moments.
    for (c, values) in doubles.iter().enumerate() {
        let col = &scanned.columns[c * 3];
        let present: Vec<f64> = values.iter().flatten().copied().collect();
        let n = present.len() as f64;
        let mean = present.iter().sum::<f64>() / n;
        let var = present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let num = col.numeric.as_ref().unwrap();
        assert_eq!(
            col.missing,
            (values.len() - present.len()) as u64,
            "{}",
            col.name
        );
        assert!(
            (num.mean.unwrap() - mean).abs() < 1e-9 * mean.abs().max(1.0),
            "{}",
            col.name
        );
        assert!(
            (num.std_dev.unwrap() - var.sqrt()).abs() < 1e-9 * var.sqrt(),
            "{}",
            col.name
        );
    }
    // The same bits on every run: groups are put side by side in column order.
    assert_eq!(json(&scanned), json(&scan_profile(&path).await));
}
