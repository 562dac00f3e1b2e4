//! Fuzz target bodies (issue 12). Each takes arbitrary bytes and must never panic, hang or
//! allocate without bound: bad input is an `Err`, good input a profile that survives a JSON
//! round trip. The same functions run in two places:
//!
//! - `fuzz/fuzz_targets/*.rs`, one libFuzzer target each (`cargo +nightly fuzz run csv`);
//! - `tests/fuzz_replay.rs` in the root package, which includes this file with `#[path]` and
//!   replays every committed input under `fuzz/corpus/<target>/` and `fuzz/regressions/`
//!   in the ordinary debug test build, so CI checks them without a second (nightly,
//!   instrumented) build of DataFusion.
//!
//! The readers are the arrow-rs / parquet readers DataFusion's file formats wrap, fed the
//! bytes directly (no session, no files), so that an execution takes microseconds.

use std::io::Cursor;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use arrow::datatypes::Schema as ArrowSchema;
use arrow::record_batch::RecordBatch;
use preflight_stats::labels::{ConfidentLearningOptions, FilterBy, ProbMatrix, find_label_issues};
use preflight_stats::profile::{Profile, ProfileBuilder};

/// At most this many rows of one input are profiled: the fuzzer looks for crashes, not
/// for long inputs.
const MAX_BATCHES: usize = 64;

/// Profiles the batches and checks the profile's JSON reads back to the same bytes.
fn profile_batches(
    schema: &ArrowSchema,
    batches: impl Iterator<Item = Result<RecordBatch, arrow::error::ArrowError>>,
) {
    let mut builder = ProfileBuilder::new(schema);
    for batch in batches.take(MAX_BATCHES) {
        let Ok(batch) = batch else { return };
        if builder.update(&batch).is_err() {
            return;
        }
    }
    round_trip(&builder.finish(vec!["fuzz".into()]));
}

/// A stored profile must read back as itself: what `merge` and `drift` read is what
/// `profile` wrote.
fn round_trip(profile: &Profile) {
    let Ok(json) = serde_json::to_vec(profile) else {
        panic!("a profile that does not serialise");
    };
    match Profile::from_json(&json, Path::new("fuzz.profile.json")) {
        Ok(back) => {
            let again = serde_json::to_vec(&back).unwrap_or_default();
            // A frequent-items sketch's binary image lists its items in hash-table order,
            // which a read-back sketch may not keep; the items and counts it answers with
            // (the `top_values` beside it) must still be the same.
            if again != json && without_sketch_images(&again) != without_sketch_images(&json) {
                let at = json.iter().zip(&again).take_while(|(a, b)| a == b).count();
                let around = |v: &[u8]| {
                    String::from_utf8_lossy(&v[at.saturating_sub(80)..(at + 80).min(v.len())])
                        .into_owned()
                };
                panic!(
                    "a stored profile reads back differently at byte {at}:\nwritten: {}\nread back: {}",
                    around(&json),
                    around(&again)
                );
            }
        }
        Err(e) => panic!("a profile preflight wrote does not read back: {e}"),
    }
}

/// The JSON with every `frequent_items` image left out.
fn without_sketch_images(json: &[u8]) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("frequent_items");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::from_slice(json).unwrap_or(serde_json::Value::Null);
    strip(&mut v);
    v
}

/// CSV with a header, schema inferred from the first 100 rows (as `profile` does).
pub fn csv(data: &[u8]) {
    let format = arrow::csv::reader::Format::default().with_header(true);
    let Ok((schema, _)) = format.infer_schema(Cursor::new(data), Some(100)) else {
        return;
    };
    let schema = Arc::new(schema);
    let Ok(reader) = arrow::csv::ReaderBuilder::new(schema.clone())
        .with_format(format)
        .with_batch_size(64)
        .build(Cursor::new(data))
    else {
        return;
    };
    profile_batches(&schema, reader);
}

/// Newline-delimited JSON, schema inferred from the first 100 records.
pub fn ndjson(data: &[u8]) {
    let Ok((schema, _)) = arrow::json::reader::infer_json_schema(
        std::io::BufReader::new(Cursor::new(data)),
        Some(100),
    ) else {
        return;
    };
    let schema = Arc::new(schema);
    let Ok(reader) = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(64)
        .build(Cursor::new(data))
    else {
        return;
    };
    profile_batches(&schema, reader);
}

/// A Parquet file.
pub fn parquet(data: &[u8]) {
    // A footer that claims more than the file holds is refused before any allocation.
    let bytes = bytes::Bytes::copy_from_slice(data);
    let Ok(builder) = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
    else {
        return;
    };
    let schema = builder.schema().clone();
    let Ok(reader) = builder.with_batch_size(64).build() else {
        return;
    };
    profile_batches(&schema, reader);
}

/// A stored profile (`profile --format json`), merged with itself as `merge a a` would.
pub fn stored_profile(data: &[u8]) {
    let Ok(profile) = Profile::from_json(data, Path::new("fuzz.profile.json")) else {
        return;
    };
    round_trip(&profile);
    let both = [
        ("a".to_string(), profile.clone()),
        ("b".to_string(), profile),
    ];
    if let Ok(merged) = Profile::merge_all(&both) {
        round_trip(&merged);
    }
}

/// The profile the schema target validates against: penguins, a real table with strings,
/// integers, floats and missing values.
fn penguins() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    PROFILE.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = if path.join("fixtures").is_dir() {
            path.join("fixtures/penguins.csv")
        } else {
            path.join("../fixtures/penguins.csv")
        };
        let data = std::fs::read(&path).unwrap_or_default();
        let format = arrow::csv::reader::Format::default().with_header(true);
        let (schema, _) = format
            .infer_schema(Cursor::new(&data), None)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let schema = Arc::new(schema);
        let reader = arrow::csv::ReaderBuilder::new(schema.clone())
            .with_format(format)
            .build(Cursor::new(&data))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut builder = ProfileBuilder::new(&schema);
        for batch in reader {
            let batch = batch.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            builder
                .update(&batch)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        builder.finish(vec!["penguins.csv".into()])
    })
}

/// A schema file, validated against the penguins profile (every check a profile answers).
pub fn schema_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(schema) = preflight_schema::Schema::parse(text, Path::new("fuzz.schema.yaml")) else {
        return;
    };
    let env = preflight_schema::validate::environment(&schema, None);
    let validation = preflight_schema::validate::validate(&schema, penguins(), env);
    for anomaly in validation.anomalies() {
        let _ = serde_json::to_vec(anomaly);
    }
}

/// Labels and probabilities, as `labels --pred-probs` hands them to confident learning:
/// byte 0 picks the number of classes (2 to 7), byte 1 the method and whether rows are
/// normalised; then each row is a label byte and one weight byte per class (a weight of 255
/// reads as NaN, to reach the value checks).
pub fn label_probs(data: &[u8]) {
    let (Some(&k), Some(&mode)) = (data.first(), data.get(1)) else {
        return;
    };
    let k = 2 + usize::from(k) % 6;
    let methods = [
        FilterBy::PruneByNoiseRate,
        FilterBy::PruneByClass,
        FilterBy::Both,
        FilterBy::ConfidentLearning,
        FilterBy::PredictedNeqGiven,
    ];
    let filter_by = methods[usize::from(mode) % methods.len()];
    let normalise = mode & 0x80 == 0;
    let mut labels = Vec::new();
    let mut probs = Vec::new();
    for row in data[2..].chunks_exact(k + 1) {
        labels.push(usize::from(row[0]) % k);
        let weights: Vec<f64> = row[1..]
            .iter()
            .map(|&b| if b == 255 { f64::NAN } else { f64::from(b) })
            .collect();
        let sum: f64 = weights.iter().sum();
        probs.extend(weights.iter().map(|w| {
            if normalise && sum > 0.0 {
                w / sum
            } else {
                w / 254.0
            }
        }));
    }
    let Ok(matrix) = ProbMatrix::new(&probs, labels.len(), k) else {
        return;
    };
    let options = ConfidentLearningOptions {
        filter_by,
        ..ConfidentLearningOptions::default()
    };
    if let Ok(issues) = find_label_issues(&labels, matrix, &options) {
        assert!(issues.n_rows == labels.len(), "issues of another table");
        let _ = serde_json::to_vec(&issues);
    }
}
