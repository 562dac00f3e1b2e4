//! Replays every committed fuzz input (`fuzz/corpus/<target>/`: seeds and the corpus the
//! fuzzer grew, minimised; `fuzz/regressions/<target>/`: inputs that once crashed) through
//! the fuzz target bodies in the ordinary test build. The fuzzer itself needs nightly and an
//! instrumented build of every dependency; this keeps what it found checked in CI at the
//! cost of no second build.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[allow(dead_code, clippy::all)]
#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut seen = 0;
    for dir in ["corpus", "regressions"] {
        let dir = root.join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            if std::panic::catch_unwind(|| body(&data)).is_err() {
                panic!("fuzz target {target} panics on {}", file.display());
            }
            seen += 1;
        }
    }
    assert!(seen > 0, "no committed inputs for fuzz target {target}");
}

#[test]
fn csv() {
    replay("csv", targets::csv);
}

#[test]
fn ndjson() {
    replay("ndjson", targets::ndjson);
}

#[test]
fn parquet() {
    replay("parquet", targets::parquet);
}

#[test]
fn stored_profile() {
    replay("stored_profile", targets::stored_profile);
}

#[test]
fn schema_yaml() {
    replay("schema_yaml", targets::schema_yaml);
}

#[test]
fn label_probs() {
    replay("label_probs", targets::label_probs);
}
