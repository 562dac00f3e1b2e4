//! `preflight profile` on every real table in fixtures/ (copied from shared/data with its
//! MANIFEST.json): counts and null counts equal the manifest; min, max, mean and standard
//! deviation equal an independent two-pass computation over values read without
//! DataFusion (hand-split CSV, the parquet crate's own reader).
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;
use std::fs::File;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use common::{column, fixture, profile_json};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

/// Non-null numeric values per column, read independently of preflight.
fn reference_values(file: &str) -> BTreeMap<String, Vec<f64>> {
    let path = fixture(file);
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    if file.ends_with(".csv") {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let mut numeric = vec![true; header.len()];
        let mut cols: Vec<Vec<f64>> = vec![Vec::new(); header.len()];
        for line in lines {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(
                cells.len(),
                header.len(),
                "{file}: fixture has quoted commas"
            );
            for (i, cell) in cells.iter().enumerate() {
                if cell.is_empty() {
                    continue;
                }
                match cell.parse::<f64>() {
                    Ok(v) => cols[i].push(v),
                    Err(_) => numeric[i] = false,
                }
            }
        }
        for (i, name) in header.iter().enumerate() {
            if numeric[i] {
                out.insert(name.to_string(), std::mem::take(&mut cols[i]));
            }
        }
    } else {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
                if !matches!(field.data_type(), DataType::Int64 | DataType::Float64) {
                    continue;
                }
                let f = arrow::compute::cast(array, &DataType::Float64).unwrap();
                let f = f.as_primitive::<Float64Type>();
                let v = out.entry(field.name().clone()).or_default();
                v.extend((0..f.len()).filter(|i| f.is_valid(*i)).map(|i| f.value(i)));
            }
        }
    }
    out
}

fn two_pass(v: &[f64]) -> (f64, f64, f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let min = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    (min, max, mean, var.sqrt())
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn every_shared_table_matches_manifest_and_two_pass_reference() {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("MANIFEST.json")).unwrap()).unwrap();
    let tables = manifest.as_array().unwrap();
    assert_eq!(
        tables.len(),
        12,
        "MANIFEST lists the seven shared tables and the five of the wide label benchmark"
    );
    for t in tables {
        let file = t["file"].as_str().unwrap();
        let path = fixture(file);
        let p = profile_json(&[path.to_str().unwrap()]);
        assert_eq!(p["row_count"], t["rows"], "{file}: row count");
        let cols = p["columns"].as_array().unwrap();
        assert_eq!(
            cols.len() as u64,
            t["cols"].as_u64().unwrap(),
            "{file}: column count"
        );
        let schema = t["schema"].as_object().unwrap();
        for (name, ty) in schema {
            let c = column(&p, name);
            assert_eq!(c["count"], t["rows"], "{file}.{name}: count");
            let nulls = t["nulls_by_col"][name].as_u64().unwrap_or(0);
            assert_eq!(
                c["missing"].as_u64().unwrap(),
                nulls,
                "{file}.{name}: missing"
            );
            let ty = ty.as_str().unwrap();
            let got = c["type"].as_str().unwrap();
            if ty.starts_with("timestamp") {
                assert!(
                    got.starts_with("timestamp"),
                    "{file}.{name}: type {got}, manifest {ty}"
                );
                if !file.ends_with(".csv") {
                    // Parquet stores the zone; a CSV cell without an offset has none.
                    assert!(got.contains("tz="), "{file}.{name}: time zone kept ({got})");
                }
            } else if file.ends_with(".csv") && ty == "string" && got == "int64" {
                // Digits stored as text (digits.csv's target_name) read as integers from
                // CSV, which has no types; the user's override must give the text back.
                let arg = format!("{name}=string");
                let p = profile_json(&[path.to_str().unwrap(), "--type", &arg]);
                assert_eq!(column(&p, name)["type"], "string", "{file}.{name}: --type");
            } else {
                assert_eq!(got, ty, "{file}.{name}: type");
            }
        }
        let reference = reference_values(file);
        assert!(!reference.is_empty(), "{file}: no numeric columns read");
        for (name, values) in &reference {
            let c = column(&p, name);
            let n = &c["numeric"];
            let (min, max, mean, std) = two_pass(values);
            assert_eq!(
                n["finite"].as_u64().unwrap(),
                values.len() as u64,
                "{file}.{name}"
            );
            assert_eq!(n["min"].as_f64().unwrap(), min, "{file}.{name}: min");
            assert_eq!(n["max"].as_f64().unwrap(), max, "{file}.{name}: max");
            let got_mean = n["mean"].as_f64().unwrap();
            assert!(
                close(got_mean, mean, 1e-9),
                "{file}.{name}: mean {got_mean} vs {mean}"
            );
            let got_std = n["std_dev"].as_f64().unwrap();
            assert!(
                close(got_std, std, 1e-9) || (std == 0.0 && got_std.abs() < 1e-12),
                "{file}.{name}: std {got_std} vs {std}"
            );
        }
    }
}

#[test]
fn penguins_categorical_and_quantiles_are_exact_on_small_data() {
    let p = profile_json(&[fixture("penguins.csv").to_str().unwrap()]);
    let species = column(&p, "species");
    assert_eq!(species["distinct"], 3);
    assert_eq!(species["distinct_exact"], true);
    assert_eq!(species["top_values"][0]["value"], "Adelie");
    assert_eq!(species["top_values"][0]["count"], 152);
    let sex = column(&p, "sex");
    assert_eq!(sex["missing"], 11);
    assert_eq!(sex["distinct"], 2);
    // body_mass_g: 342 values; numpy.median of them is 4050.0, p25 3550.0, p75 4750.0
    let mass = &column(&p, "body_mass_g")["numeric"];
    assert_eq!(mass["quantiles_exact"], true);
    assert_eq!(mass["median"], 4050.0);
    assert_eq!(mass["percentiles"][25], 3550.0);
    assert_eq!(mass["percentiles"][75], 4750.0);
    let hist: f64 = mass["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_f64().unwrap())
        .sum();
    assert_eq!(hist, 342.0, "equal-width histogram counts every value once");
    let year = column(&p, "year");
    assert_eq!(year["top_values"].as_array().unwrap().len(), 3);
}
