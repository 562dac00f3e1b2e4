//! `preflight merge` end to end: profiles of parts merge into the profile of the whole,
//! and the JSON output validates against schemas/profile.schema.json.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use common::{assert_matches_schema, column, fixture, profile_json, run};
use serde_json::Value;
use tempfile::TempDir;

#[test]
fn every_fixture_profile_matches_the_json_schema() {
    for f in [
        "penguins.csv",
        "iris.csv",
        "nycflights13_flights.parquet",
        "nycflights13_weather.csv",
    ] {
        let p = profile_json(&[fixture(f).to_str().unwrap()]);
        assert_matches_schema("profile.schema.json", &p, f);
    }
}

#[test]
fn merged_halves_equal_the_whole() {
    let d = TempDir::new().unwrap();
    let text = std::fs::read_to_string(fixture("nycflights13_weather.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let (a, b) = rows.split_at(rows.len() / 3);
    let write = |name: &str, part: &[&str]| {
        let p = d.path().join(name);
        std::fs::write(&p, format!("{header}\n{}\n", part.join("\n"))).unwrap();
        p
    };
    let (pa, pb) = (write("a.csv", a), write("b.csv", b));
    let (ja, jb, jm) = (
        d.path().join("a.json"),
        d.path().join("b.json"),
        d.path().join("all.json"),
    );
    for (src, dst) in [(&pa, &ja), (&pb, &jb)] {
        let r = run(&[
            "profile",
            src.to_str().unwrap(),
            "-o",
            dst.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.is_empty(), "-o writes nothing to stdout");
    }
    let r = run(&[
        "merge",
        ja.to_str().unwrap(),
        jb.to_str().unwrap(),
        "-o",
        jm.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&jm).unwrap()).unwrap();
    assert_matches_schema("profile.schema.json", &merged, "merged profile");
    let whole = profile_json(&[fixture("nycflights13_weather.csv").to_str().unwrap()]);
    assert_eq!(merged["row_count"], whole["row_count"]);
    assert_eq!(merged["sources"].as_array().unwrap().len(), 2);
    for c in whole["columns"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let m = column(&merged, name);
        for key in ["count", "missing", "distinct", "distinct_exact"] {
            assert_eq!(m[key], c[key], "{name}.{key}");
        }
        if c["numeric"].is_object() {
            for key in ["finite", "min", "max", "zeros", "nan"] {
                assert_eq!(m["numeric"][key], c["numeric"][key], "{name}.numeric.{key}");
            }
            for key in ["mean", "std_dev"] {
                let (x, y) = (
                    m["numeric"][key].as_f64().unwrap(),
                    c["numeric"][key].as_f64().unwrap(),
                );
                assert!(
                    (x - y).abs() <= 1e-9 * y.abs().max(1e-12),
                    "{name}.{key}: {x} vs {y}"
                );
            }
        }
        if c["top_values_exact"] == true {
            assert_eq!(m["top_values"], c["top_values"], "{name}.top_values");
        }
    }
}

#[test]
fn merge_rejects_profiles_of_different_columns() {
    let d = TempDir::new().unwrap();
    let (ja, jb, out) = (
        d.path().join("a.json"),
        d.path().join("b.json"),
        d.path().join("m.json"),
    );
    assert_eq!(
        run(&[
            "profile",
            fixture("iris.csv").to_str().unwrap(),
            "-o",
            ja.to_str().unwrap()
        ])
        .code,
        0
    );
    assert_eq!(
        run(&[
            "profile",
            fixture("wine.csv").to_str().unwrap(),
            "-o",
            jb.to_str().unwrap()
        ])
        .code,
        0
    );
    let r = run(&[
        "merge",
        ja.to_str().unwrap(),
        jb.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("b.json") && r.stderr.contains("columns differ"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    // Not a profile at all: named, with line and column.
    let junk = d.path().join("junk.json");
    std::fs::write(&junk, "{\"version\": 1, \"rows\": [").unwrap();
    let r = run(&["merge", ja.to_str().unwrap(), junk.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("junk.json") && r.stderr.contains("line 1"),
        "{}",
        r.stderr
    );
}
