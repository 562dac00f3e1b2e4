//! The tables of `fixtures/reference/labels_noise.json` (and the cases of
//! `labels_noise_wide.json`, which have the same fields) with their injected label flips,
//! read and encoded as `preflight labels` does: shared by `cargo bench --bench labels` and
//! the detection tests in tests/labels_cli.rs (`#[path]`-included by both).
#![allow(dead_code)]
#![allow(clippy::unwrap_used)]

use std::path::Path;

use arrow::array::RecordBatch;
use preflight_stats::labels::features::{FeatureMatrix, RawColumn, decode_column, encode};
use preflight_stats::source::{Dataset, SourceOptions};
use serde_json::Value;

/// A file opened to be read by one partition, so row numbers are the file's.
pub async fn open_one_partition(path: &Path) -> Dataset {
    let opts = SourceOptions {
        partitions: 1,
        ..SourceOptions::default()
    };
    Dataset::open(&[path.to_string_lossy().into_owned()], &opts)
        .await
        .unwrap()
}

/// Every batch of a file, in the file's row order.
pub fn read(rt: &tokio::runtime::Runtime, path: &Path) -> Vec<RecordBatch> {
    rt.block_on(async {
        open_one_partition(path)
            .await
            .context()
            .unwrap()
            .table("data")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap()
    })
}

/// A column's values as text (numbers printed), `None` for nulls.
pub fn strings(batches: &[RecordBatch], name: &str) -> Vec<Option<String>> {
    match decode_column(batches, name).unwrap().unwrap() {
        RawColumn::Categorical(v) => v,
        RawColumn::Numeric(v) => v.into_iter().map(|x| x.map(|x| x.to_string())).collect(),
    }
}

/// One table with its flipped labels, ready for a model.
pub struct NoisyTable {
    pub name: String,
    /// The flipped labels as class indices.
    pub labels: Vec<usize>,
    /// Whether each row's label was flipped.
    pub truth: Vec<bool>,
    pub n_classes: usize,
    /// The other columns, encoded as the built-in model sees them.
    pub x: FeatureMatrix,
}

/// Read table `t` (one entry of `labels_noise.json`'s `tables`, or of
/// `labels_noise_wide.json`'s `cases`) from `fixtures`, check that each flipped row's label
/// in the file is the flip's `true` class, apply its flips and encode its feature columns.
pub fn load(rt: &tokio::runtime::Runtime, fixtures: &Path, t: &Value) -> NoisyTable {
    let batches = read(rt, &fixtures.join(t["file"].as_str().unwrap()));
    let label = t["label"].as_str().unwrap();
    let mut given: Vec<String> = strings(&batches, label)
        .into_iter()
        .map(|v| v.unwrap())
        .collect();
    let n = given.len();
    if let Some(rows) = t["n_rows"].as_u64() {
        assert_eq!(n as u64, rows, "{}: rows of {}", t["table"], t["file"]);
    }
    let mut truth = vec![false; n];
    for f in t["flips"].as_array().unwrap() {
        let row = f["row"].as_u64().unwrap() as usize;
        // The file holds the true label; the flip gives another class.
        assert_eq!(
            given[row],
            f["true"].as_str().unwrap(),
            "{}: row {row}",
            t["table"]
        );
        assert_ne!(f["given"], f["true"], "{}: row {row}", t["table"]);
        given[row] = f["given"].as_str().unwrap().to_string();
        truth[row] = true;
    }
    let classes: Vec<&str> = t["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let labels: Vec<usize> = given
        .iter()
        .map(|g| classes.iter().position(|c| c == g).unwrap())
        .collect();
    let skip: Vec<&str> = t["not_features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .chain([label])
        .collect();
    let cols: Vec<(String, RawColumn)> = batches[0]
        .schema()
        .fields()
        .iter()
        .filter(|f| !skip.contains(&f.name().as_str()))
        .map(|f| {
            let c = decode_column(&batches, f.name()).unwrap().unwrap();
            (f.name().clone(), c)
        })
        .collect();
    NoisyTable {
        name: t["table"].as_str().unwrap().to_string(),
        x: encode(&cols, n).unwrap(),
        labels,
        truth,
        n_classes: classes.len(),
    }
}
