//! Shared helpers for the end-to-end tests: run the built binary on real files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_preflight"))
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(args: &[&str]) -> Run {
    let out: Output = bin().args(args).output().expect("run preflight");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Profile paths as JSON and parse it; panics with stderr on failure.
pub fn profile_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["profile"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let r = run(&all);
    assert_eq!(r.code, 0, "preflight {all:?} failed: {}", r.stderr);
    serde_json::from_str(&r.stdout).expect("profile output is JSON")
}

pub fn column<'a>(p: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    p["columns"]
        .as_array()
        .expect("columns array")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// Assert that `doc` satisfies `schemas/<schema>` (the output contract); `what` names the
/// document in the failure message.
pub fn assert_matches_schema(schema: &str, doc: &serde_json::Value, what: &str) {
    let text = std::fs::read_to_string(root().join("schemas").join(schema)).expect("schema file");
    let schema_doc: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    let v = jsonschema::validator_for(&schema_doc).expect("valid JSON Schema");
    let errors: Vec<String> = v
        .iter_errors(doc)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what} violates {schema}: {errors:#?}");
}
