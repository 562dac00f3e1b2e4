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

/// Profile a small CSV of our own into `dir/name` and return the JSON.
fn stored_profile(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, Value) {
    let csv = dir.join(format!("{name}.csv"));
    std::fs::write(&csv, "x,s,b\n1.5,a,true\n,b,false\n2.5,,true\n0,c,\n").unwrap();
    let out = dir.join(name);
    let r = run(&[
        "profile",
        csv.to_str().unwrap(),
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    (out, doc)
}

fn state_mut<'a>(doc: &'a mut Value, column: &str) -> &'a mut Value {
    let cols = doc["columns"].as_array_mut().unwrap();
    let c = cols.iter_mut().find(|c| c["name"] == column).unwrap();
    &mut c["state"]
}

/// Issue 12 item 16: a stored profile whose state says more values are missing than were
/// counted gave missing_fraction 19999.98 and exit 0. Every loaded state's invariants are
/// checked; a broken one is an error naming the file and the column.
#[test]
fn merge_rejects_stored_profile_with_missing_above_count() {
    let d = TempDir::new().unwrap();
    let (good, _) = stored_profile(d.path(), "good.profile.json");
    let (bad, mut doc) = stored_profile(d.path(), "a.profile.json");
    state_mut(&mut doc, "x")["missing"] = Value::from(20_000u64);
    std::fs::write(&bad, serde_json::to_string(&doc).unwrap()).unwrap();
    let r = run(&["merge", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(r.code, 2, "stdout {} stderr {}", r.stdout, r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("a.profile.json: column 'x': missing (20000) exceeds count (4)"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());

    // Other broken invariants, each named: finite counts above the present count, zeros
    // above the finite count, min above max, true + false above present, a row count the
    // columns disagree with, exact value counts that do not add up.
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit, &str); 7] = [
        (
            "nan",
            |d| state_mut(d, "x")["numeric"]["nan"] = Value::from(7u64),
            "column 'x': finite (3), NaN (7)",
        ),
        (
            "zeros",
            |d| state_mut(d, "x")["numeric"]["zeros"] = Value::from(9u64),
            "column 'x': zeros (9) exceed the finite count (3)",
        ),
        (
            "minmax",
            |d| state_mut(d, "x")["numeric"]["min"] = Value::from(99.0),
            "column 'x': min (99) and max (2.5)",
        ),
        (
            "bool",
            |d| state_mut(d, "b")["boolean"]["true_count"] = Value::from(5u64),
            "column 'b': true (5) and false (1) counts exceed the present count (3)",
        ),
        (
            "rows",
            |d| d["row_count"] = Value::from(5u64),
            "column 'x': count (4) differs from the profile's row_count (5)",
        ),
        (
            "counts",
            |d| state_mut(d, "s")["string"]["counts"]["exact"][0][1] = Value::from(4u64),
            "column 's': value counts hold 6 values where the present count is 3",
        ),
        (
            "lengths",
            |d| state_mut(d, "s")["string"]["lengths"]["total"] = Value::from(1000u64),
            "column 's': total length (1000) is impossible for 3 values between 1 and 1",
        ),
    ];
    for (name, edit, want) in cases {
        let (path, mut doc) = stored_profile(d.path(), &format!("{name}.profile.json"));
        edit(&mut doc);
        std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
        let r = run(&["merge", good.to_str().unwrap(), path.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("{name}.profile.json: {want}")),
            "{name}: {}",
            r.stderr
        );
    }
}

/// Issue 12 item 16: merging a (consistent) profile with itself near u64::MAX wrapped the
/// counts. Overflow is an exit-2 error naming the file and the column.
#[test]
fn merge_of_counts_near_u64_max_overflows_with_an_error() {
    let d = TempDir::new().unwrap();
    let (path, mut doc) = stored_profile(d.path(), "big.profile.json");
    let rows = u64::MAX / 2 + 10;
    doc["row_count"] = Value::from(rows);
    for c in doc["columns"].as_array_mut().unwrap() {
        let s = &mut c["state"];
        let present = s["count"].as_u64().unwrap() - s["missing"].as_u64().unwrap();
        s["count"] = Value::from(rows);
        s["missing"] = Value::from(rows - present);
    }
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    // Alone it is consistent and reads.
    let r = run(&["merge", path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&["merge", path.to_str().unwrap(), path.to_str().unwrap()]);
    assert_eq!(r.code, 2, "stdout {}", r.stdout);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("big.profile.json")
            && r.stderr.contains("overflows when merged")
            && !r.stderr.contains("internal error"),
        "{}",
        r.stderr
    );
}

/// Issue 12: a truncated stored profile and a JSON file of another kind (a validate
/// report) fed to merge give one line naming the file and saying what is wrong.
#[test]
fn merge_names_truncated_profiles_and_reports_of_another_kind() {
    let d = TempDir::new().unwrap();
    let (good, _) = stored_profile(d.path(), "good.profile.json");
    let bytes = std::fs::read(&good).unwrap();
    let cut = d.path().join("cut.profile.json");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let r = run(&["merge", good.to_str().unwrap(), cut.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("cut.profile.json") && r.stderr.contains("truncated"),
        "{}",
        r.stderr
    );

    let schema = d.path().join("s.yaml");
    let penguins = fixture("penguins.csv");
    let r = run(&[
        "infer",
        penguins.to_str().unwrap(),
        "-o",
        schema.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = d.path().join("validate_out.json");
    let r = run(&[
        "validate",
        penguins.to_str().unwrap(),
        "-s",
        schema.to_str().unwrap(),
        "--format",
        "json",
        "-o",
        report.to_str().unwrap(),
    ]);
    assert!(r.code <= 1, "{}", r.stderr);
    let r = run(&["merge", good.to_str().unwrap(), report.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("validate_out.json")
            && r.stderr.contains("report of `preflight validate`"),
        "{}",
        r.stderr
    );
}

/// Issue 12 item 8: 3,001 rows showed a distinct count of `~3030`. Sketch estimates are
/// held to what is known exactly: distinct <= present (non-null) values, top-value counts
/// <= present, quantiles within [min, max]; in a profile and after a merge.
#[test]
fn distinct_count_never_exceeds_the_present_count() {
    let d = TempDir::new().unwrap();
    let rows = 3001usize;
    let header = "id,code,ratio,word,half";
    let line = |i: usize| {
        format!(
            "{},{},{},w{:05}x,{}",
            i,
            i * 7919 % 100_003,
            i as f64 * 0.37 + 0.001,
            i * 31,
            if i.is_multiple_of(2) {
                i.to_string()
            } else {
                String::new()
            }
        )
    };
    let write = |name: &str, range: std::ops::Range<usize>| {
        let p = d.path().join(name);
        let body: Vec<String> = range.map(line).collect();
        std::fs::write(&p, format!("{header}\n{}\n", body.join("\n"))).unwrap();
        p
    };
    let whole = write("whole.csv", 0..rows);
    let (a, b) = (write("a.csv", 0..1500), write("b.csv", 1500..rows));
    let profile = |csv: &std::path::Path| {
        let out = csv.with_extension("profile.json");
        let r = run(&[
            "profile",
            csv.to_str().unwrap(),
            "--format",
            "json",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        out
    };
    let (pw, pa, pb) = (profile(&whole), profile(&a), profile(&b));
    let merged: Value = {
        let r = run(&["merge", pa.to_str().unwrap(), pb.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        serde_json::from_str(&r.stdout).unwrap()
    };
    let whole: Value = serde_json::from_str(&std::fs::read_to_string(&pw).unwrap()).unwrap();
    for (what, p) in [("profile", &whole), ("merge", &merged)] {
        assert_eq!(p["row_count"], rows as u64);
        for c in p["columns"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            let present = c["present"].as_u64().unwrap();
            let distinct = c["distinct"].as_u64().unwrap();
            assert!(
                distinct <= present,
                "{what} {name}: distinct {distinct} above the {present} present values"
            );
            if c["distinct_exact"] == false {
                assert!(distinct > 1024, "{what} {name}: {distinct}");
            }
            for t in c["top_values"].as_array().into_iter().flatten() {
                assert!(t["count"].as_u64().unwrap() <= present, "{what} {name}");
            }
            if let Some(n) = c["numeric"].as_object() {
                let (lo, hi) = (n["min"].as_f64().unwrap(), n["max"].as_f64().unwrap());
                for q in n["percentiles"].as_array().unwrap() {
                    let q = q.as_f64().unwrap();
                    assert!(
                        lo <= q && q <= hi,
                        "{what} {name}: {q} outside [{lo}, {hi}]"
                    );
                }
            }
        }
    }
}

/// Found by mutating stored profiles (crates/stats/tests/stored_profile_mutations.rs): a
/// column of finite values near f64::MAX overflowed the mean and the sum of squared
/// deviations to infinity, which JSON writes as `null`, so the profile of ordinary (if
/// extreme) data could not be read back by merge (exit 2). The mean stays finite and the
/// sum saturates; the stored profile merges.
#[test]
fn profile_of_values_near_f64_max_reads_back_and_merges() {
    let d = TempDir::new().unwrap();
    let csv = d.path().join("huge.csv");
    std::fs::write(
        &csv,
        "spread,high\n1e200,1.7e308\n-1e200,1.7e308\n3,1.6e308\n",
    )
    .unwrap();
    let stored = d.path().join("huge.profile.json");
    let r = run(&[
        "profile",
        csv.to_str().unwrap(),
        "-o",
        stored.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&stored).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    for name in ["spread", "high"] {
        let m = &column(&doc, name)["state"]["numeric"]["moments"];
        assert!(m["mean"].is_f64() && m["m2"].is_f64(), "{name}: {m}");
    }
    let high = column(&doc, "high")["numeric"]["mean"].as_f64().unwrap();
    assert!((1.6e308..=1.7e308).contains(&high), "{high}");
    let r = run(&["merge", stored.to_str().unwrap(), stored.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let merged: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(merged["row_count"], 6);
}

/// Stored sliced profiles (`profile --by`) merge slice by slice, as whole ones do: two
/// halves of penguins, each profiled by species, merge into the slices of the whole
/// table; a whole profile with sliced ones is refused; a part that folded a slice into
/// `__other__` is said, since those rows cannot be taken back out.
#[test]
fn sliced_profiles_merge_slice_by_slice() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::fixture("penguins.csv")).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let rows: Vec<&str> = rows.lines().collect();
    let (a, b) = rows.split_at(rows.len() / 2);
    let write = |name: &str, part: &[&str]| {
        let p = dir.path().join(name);
        std::fs::write(&p, format!("{header}\n{}\n", part.join("\n"))).unwrap();
        p.to_str().unwrap().to_string()
    };
    let (pa, pb) = (write("a.csv", a), write("b.csv", b));
    let sliced = |input: &str, out: &str, extra: &[&str]| {
        let out = dir.path().join(out).to_str().unwrap().to_string();
        let mut args = vec!["profile", input, "--by", "species", "-o", &out];
        args.extend_from_slice(extra);
        let r = common::run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        out
    };
    let (sa, sb) = (sliced(&pa, "a.json", &[]), sliced(&pb, "b.json", &[]));
    let whole = common::fixture("penguins.csv");
    let expected = sliced(whole.to_str().unwrap(), "all.json", &[]);
    let r = common::run(&["merge", &sa, &sb]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let merged: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    common::assert_matches_schema("sliced-profile.schema.json", &merged, "merge of --by");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&expected).unwrap()).unwrap();
    let slices = |v: &serde_json::Value| -> Vec<(String, u64)> {
        v["slices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["key"].as_str().unwrap().to_string(),
                    s["rows"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(slices(&merged), slices(&expected));
    assert_eq!(merged["by"], expected["by"]);
    for (m, e) in merged["slices"]
        .as_array()
        .unwrap()
        .iter()
        .zip(expected["slices"].as_array().unwrap())
    {
        let (m, e) = (
            common::column(&m["profile"], "body_mass_g"),
            common::column(&e["profile"], "body_mass_g"),
        );
        for stat in ["min", "max"] {
            assert_eq!(m["numeric"][stat], e["numeric"][stat], "{stat}");
        }
        assert_eq!(m["missing"], e["missing"]);
        let (x, y) = (
            m["numeric"]["mean"].as_f64().unwrap(),
            e["numeric"]["mean"].as_f64().unwrap(),
        );
        assert!((x - y).abs() < 1e-9 * y.abs(), "{x} vs {y}");
    }
    // A whole profile among sliced ones: exit 2, one line naming it.
    let plain = dir.path().join("plain.json");
    let r = common::run(&["profile", &pa, "-o", plain.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = common::run(&["merge", &sa, plain.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("plain.json") && r.stderr.contains("sliced"),
        "{}",
        r.stderr
    );
    // A slice without its `by` value would be taken as the null slice: refused, naming it.
    let mut broken = merged.clone();
    broken["slices"][0]["values"] = serde_json::json!({});
    let broken_path = dir.path().join("broken.json");
    std::fs::write(&broken_path, broken.to_string()).unwrap();
    let r = common::run(&["merge", broken_path.to_str().unwrap(), &sa]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("broken.json") && r.stderr.contains("do not name every `by` column"),
        "{}",
        r.stderr
    );
    // A part that kept one slice: the others are in its `__other__`, which is said.
    let one = sliced(&pb, "b1.json", &["--max-slices", "1"]);
    let r = common::run(&["merge", &sa, &one]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("__other__"), "{}", r.stderr);
}
