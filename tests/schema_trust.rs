//! Schema files are trusted with nothing: their SQL checks only read `data`, a check that
//! cannot run on the data is a finding rather than the end of the report, an empty batch
//! fails, hostile YAML is refused in bounded time, and `infer --update` changes only what
//! the new data violates, in place, keeping the author's comments.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{fixture, run};
use serde_json::Value;
use tempfile::TempDir;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// The penguins schema as `infer` writes it, in `dir`.
fn penguins_schema(dir: &Path) -> String {
    let out = dir.join("schema.yaml");
    let r = run(&[
        "infer",
        fixture("penguins.csv").to_str().unwrap(),
        "--label",
        "species",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    out.to_str().unwrap().to_string()
}

/// A copy of the penguins data in `dir`.
fn penguins_copy(dir: &Path) -> String {
    let text = fs::read_to_string(fixture("penguins.csv")).unwrap();
    write(dir, "penguins.csv", &text)
}

fn with_checks(schema: &str, checks: &str) {
    let mut text = fs::read_to_string(schema).unwrap();
    text.push_str("checks:\n");
    text.push_str(checks);
    fs::write(schema, text).unwrap();
}

fn validate_json(data: &str, schema: &str) -> (i32, Value, String) {
    let r = run(&["validate", data, "--schema", schema, "--format", "json"]);
    let v = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
    (r.code, v, r.stderr)
}

fn kinds(v: &Value, kind: &str) -> Vec<Value> {
    v["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == kind)
        .cloned()
        .collect()
}

#[test]
fn sql_check_copy_to_the_data_file_is_refused_and_the_data_unchanged() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    let data = penguins_copy(d.path());
    let before = fs::read(&data).unwrap();
    with_checks(
        &schema,
        &format!("  - name: wipe\n    sql: COPY (SELECT 1 AS a) TO '{data}' STORED AS CSV\n"),
    );
    let r = run(&["validate", &data, "--schema", &schema]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("schema.yaml")
            && r.stderr
                .contains("check 'wipe': only read-only SELECT queries over 'data' are allowed"),
        "{}",
        r.stderr
    );
    assert_eq!(
        fs::read(&data).unwrap(),
        before,
        "the data file was changed"
    );
}

#[test]
fn sql_check_create_external_table_is_refused() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    with_checks(
        &schema,
        "  - name: peek\n    sql: CREATE EXTERNAL TABLE p (line VARCHAR) STORED AS CSV LOCATION '/etc/passwd'\n",
    );
    let r = run(&[
        "validate",
        fixture("penguins.csv").to_str().unwrap(),
        "--schema",
        &schema,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("check 'peek': only read-only"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("root:"), "{}", r.stderr);
}

#[test]
fn checks_that_smuggle_statements_or_read_other_tables_are_refused() {
    let d = TempDir::new().unwrap();
    let data = penguins_copy(d.path());
    let before = fs::read(&data).unwrap();
    let cases = [
        // A second statement after a `where` expression, closing the generated select.
        format!(
            "  - name: smuggle\n    where: \"1 = 1), false) AS x FROM data; COPY (SELECT 1 AS a) TO '{data}' STORED AS CSV; SELECT (1\"\n"
        ),
        format!("  - name: two\n    sql: \"SELECT true; COPY (SELECT 1 AS a) TO '{data}' STORED AS CSV\"\n"),
        "  - name: series\n    sql: SELECT count(*) > 0 FROM generate_series(1, 1000000000000)\n".into(),
        "  - name: insert\n    sql: INSERT INTO data SELECT * FROM data\n".into(),
        "  - name: loop\n    sql: WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) > 0 FROM t\n".into(),
    ];
    for checks in cases {
        let schema = penguins_schema(d.path());
        with_checks(&schema, &checks);
        let started = Instant::now();
        let r = run(&["validate", &data, "--schema", &schema]);
        assert_eq!(r.code, 2, "{checks}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains("check '"), "{checks}: {}", r.stderr);
        assert!(started.elapsed() < Duration::from_secs(20), "{checks}");
        assert_eq!(fs::read(&data).unwrap(), before, "{checks}: data changed");
    }
}

#[test]
fn custom_check_on_a_missing_column_is_a_failed_check_beside_the_other_anomalies() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    with_checks(
        &schema,
        "  - name: wing_ratio\n    sql: SELECT avg(wing_span_mm) < 100 FROM data\n  \
         - name: wing_positive\n    where: wing_span_mm > 0\n  \
         - name: heavy_enough\n    where: body_mass_g IS NULL OR body_mass_g > 0\n  \
         - name: species_number\n    where: CAST(species AS INT) > 0\n",
    );
    // The data lacks `sex`, which the schema has, and the checks' `wing_span_mm`.
    let text = fs::read_to_string(fixture("penguins.csv")).unwrap();
    let cut: Vec<String> = text
        .lines()
        .map(|l| {
            let mut c: Vec<&str> = l.split(',').collect();
            c.remove(6);
            c.join(",")
        })
        .collect();
    let data = write(d.path(), "nosex.csv", &(cut.join("\n") + "\n"));
    let (code, v, stderr) = validate_json(&data, &schema);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(kinds(&v, "missing_column").len(), 1, "{v:#}");
    let custom = kinds(&v, "custom_check");
    let msg = |name: &str| -> String {
        custom
            .iter()
            .find(|a| a["message"].as_str().unwrap().contains(name))
            .unwrap_or_else(|| panic!("no failed check {name} in {v:#}"))["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for name in ["wing_ratio", "wing_positive"] {
        let m = msg(name);
        assert!(m.contains("wing_span_mm"), "{m}");
        assert!(!m.contains('\n'), "{m}");
        assert!(m.len() < 300, "{m}");
    }
    // A cast that fails on a value: that check fails with the reason, the rest still run.
    let m = msg("species_number");
    assert!(m.to_lowercase().contains("cast"), "{m}");
    assert!(!m.contains('\n'), "{m}");
    // The check that can run still runs, and passes.
    assert!(
        !custom
            .iter()
            .any(|a| a["message"].as_str().unwrap().contains("heavy_enough")),
        "{v:#}"
    );
}

#[test]
fn custom_sql_syntax_error_is_one_line_exit_2() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    with_checks(
        &schema,
        "  - name: typo\n    sql: SELEC count(*) FROM data\n",
    );
    let r = run(&[
        "validate",
        fixture("penguins.csv").to_str().unwrap(),
        "--schema",
        &schema,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("check 'typo'"), "{}", r.stderr);
}

#[test]
fn header_only_csv_is_a_row_count_anomaly_not_a_crash() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    let header = fs::read_to_string(fixture("penguins.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let data = write(d.path(), "empty.csv", &format!("{header}\n"));
    let (code, v, stderr) = validate_json(&data, &schema);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(v["passed"], false);
    assert_eq!(v["rows"], 0);
    common::assert_matches_schema("validate.schema.json", &v, "validate output");
    let rc = kinds(&v, "row_count");
    assert_eq!(rc.len(), 1, "{v:#}");
    assert_eq!(rc[0]["severity"], "error");
    assert!(
        rc[0]["message"].as_str().unwrap().contains("no rows"),
        "{v:#}"
    );
    // The table form says so too.
    let r = run(&["validate", &data, "--schema", &schema]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("row_count"), "{}", r.stdout);
    // Even with no row bound in the schema, an empty batch never passes.
    let text = fs::read_to_string(&schema).unwrap();
    let unbounded = write(
        d.path(),
        "unbounded.yaml",
        &text.replace("  rows:\n    min: 1\n    severity: error\n", ""),
    );
    assert!(!fs::read_to_string(&unbounded).unwrap().contains("rows:"));
    let (code, v, _) = validate_json(&data, &unbounded);
    assert_eq!(code, 1);
    assert_eq!(kinds(&v, "row_count").len(), 1, "{v:#}");
}

fn refused_quickly(text: &str, expected: &str) {
    let d = TempDir::new().unwrap();
    let schema = write(d.path(), "hostile.yaml", text);
    let started = Instant::now();
    let r = run(&[
        "validate",
        fixture("penguins.csv").to_str().unwrap(),
        "--schema",
        &schema,
    ]);
    let took = started.elapsed();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("hostile.yaml"), "{}", r.stderr);
    assert!(r.stderr.contains(expected), "{}", r.stderr);
    assert!(!r.stderr.contains("panick"), "{}", r.stderr);
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn deeply_nested_yaml_is_refused_in_well_under_a_second() {
    let depth = 100_000;
    refused_quickly(
        &format!(
            "version: 1\nfeatures: {}{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
        "nested more than",
    );
    refused_quickly(
        &format!("version: 1\nfeatures: {}\n", "{a: ".repeat(depth)),
        "nested more than",
    );
    refused_quickly(
        &format!("version: 1\nfeatures:\n{}x\n", "- ".repeat(depth)),
        "nested more than",
    );
    let mut block = String::from("version: 1\nfeatures:\n");
    for i in 0..600 {
        block.push_str(&" ".repeat(i));
        block.push_str("a:\n");
    }
    refused_quickly(&block, "nested more than");
}

#[test]
fn yaml_alias_bomb_is_refused_quickly() {
    let mut text = String::from("version: 1\n");
    text.push_str("x0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "x{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    text.push_str("features: *a9\n");
    refused_quickly(&text, "hostile.yaml");
    // Aliases in a field the schema has, not an unknown one.
    let text = text.replace("x0:", "description:").replace(
        "version: 1\n",
        "version: 1\ndataset:\n  environments: *a9\n",
    );
    refused_quickly(&text, "hostile.yaml");
}

#[test]
fn oversized_schema_file_is_refused_before_it_is_read() {
    let d = TempDir::new().unwrap();
    let mut text = String::from("version: 1\nfeatures: []\n");
    let filler = format!("# {}\n", "x".repeat(1022));
    while text.len() <= 33 << 20 {
        text.push_str(&filler);
    }
    let schema = write(d.path(), "big.yaml", &text);
    let started = Instant::now();
    let r = run(&[
        "validate",
        fixture("penguins.csv").to_str().unwrap(),
        "--schema",
        &schema,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("big.yaml") && r.stderr.contains("32 MB"),
        "{}",
        r.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn sql_check_that_returns_null_or_no_row_is_a_failed_check() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    with_checks(
        &schema,
        "  - name: no_giants\n    sql: SELECT max(body_mass_g) < 7000 FROM data WHERE body_mass_g > 99999\n  \
         - name: first_giant\n    sql: SELECT body_mass_g > 0 FROM data WHERE body_mass_g > 99999 LIMIT 1\n",
    );
    let (code, v, stderr) = validate_json(fixture("penguins.csv").to_str().unwrap(), &schema);
    assert_eq!(code, 1, "{stderr}");
    let custom = kinds(&v, "custom_check");
    assert_eq!(custom.len(), 2, "{v:#}");
    assert!(
        custom[1]["message"]
            .as_str()
            .unwrap()
            .contains("returned no rows"),
        "{v:#}"
    );
    assert!(
        custom[0]["message"]
            .as_str()
            .unwrap()
            .contains("returned null"),
        "{v:#}"
    );
}

#[test]
fn huge_pattern_regex_is_a_clean_error() {
    refused_quickly(
        "version: 1\nfeatures:\n  - name: species\n    type: string\n    pattern: {regex: '(\\w{1000}){1000}'}\n",
        "pattern.regex",
    );
}

#[test]
fn catastrophic_backtracking_pattern_runs_in_linear_time() {
    let d = TempDir::new().unwrap();
    let mut text = String::from("id,s\n");
    for i in 0..2000 {
        text.push_str(&format!("{i},{}b\n", "a".repeat(200)));
    }
    let data = write(d.path(), "a.csv", &text);
    let schema = write(
        d.path(),
        "s.yaml",
        "version: 1\nfeatures:\n  - name: id\n    type: int64\n  - name: s\n    type: string\n    \
         pattern: {regex: '^(a+)+$'}\n",
    );
    let started = Instant::now();
    let (code, v, stderr) = validate_json(&data, &schema);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(kinds(&v, "pattern_mismatch").len(), 1, "{v:#}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn update_with_clean_data_leaves_the_file_byte_identical() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    // A hand-edited file: full-line and inline comments.
    let text = fs::read_to_string(&schema)
        .unwrap()
        .replace("features:\n", "# reviewed by the data team\nfeatures:\n")
        .replace("  type: string\n", "  type: string  # text\n");
    fs::write(&schema, &text).unwrap();
    // A random half of the same rows validates clean.
    let all = fs::read_to_string(fixture("penguins.csv")).unwrap();
    let mut lines = all.lines();
    let header = lines.next().unwrap();
    let half: Vec<&str> = lines.step_by(2).collect();
    let data = write(
        d.path(),
        "half.csv",
        &format!("{header}\n{}\n", half.join("\n")),
    );
    let r = run(&["validate", &data, "--schema", &schema]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = run(&["infer", &data, "--update", &schema]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("unchanged"), "{}", r.stdout);
    assert_eq!(fs::read_to_string(&schema).unwrap(), text);
}

#[test]
fn update_with_a_new_domain_value_changes_only_that_line_and_keeps_comments() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    let text = fs::read_to_string(&schema)
        .unwrap()
        .replace("features:\n", "# reviewed by the data team\nfeatures:\n")
        .replace("  - Biscoe\n", "  - Biscoe  # the largest\n");
    assert!(text.contains("# the largest"), "{text}");
    fs::write(&schema, &text).unwrap();
    let all = fs::read_to_string(fixture("penguins.csv")).unwrap();
    let data = write(
        d.path(),
        "atlantis.csv",
        &all.replacen(",Torgersen,", ",Atlantis,", 2),
    );
    let r = run(&["infer", &data, "--update", &schema]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert!(r.stdout.contains("+    - Atlantis"), "{}", r.stdout);
    let after = fs::read_to_string(&schema).unwrap();
    let added: Vec<&str> = after
        .lines()
        .filter(|l| !text.lines().any(|t| t == *l))
        .collect();
    let removed: Vec<&str> = text
        .lines()
        .filter(|l| !after.lines().any(|t| t == *l))
        .collect();
    assert_eq!(added, vec!["    - Atlantis"], "{after}");
    assert!(removed.is_empty(), "{removed:?}");
    assert_eq!(after.lines().count(), text.lines().count() + 1);
    assert_eq!(run(&["validate", &data, "--schema", &schema]).code, 0);
}

#[test]
fn update_of_a_flow_style_schema_warns_that_comments_were_dropped() {
    let d = TempDir::new().unwrap();
    let schema = write(
        d.path(),
        "flow.yaml",
        "# flow style\nversion: 1\nfeatures: [{name: year, type: int64, range: {min: 2008}}]\n",
    );
    let r = run(&[
        "infer",
        fixture("penguins.csv").to_str().unwrap(),
        "--update",
        &schema,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.starts_with("warning: "), "{}", r.stderr);
    assert!(r.stderr.contains("comments"), "{}", r.stderr);
    assert!(fs::read_to_string(&schema).unwrap().contains("2007"));
}

/// `infer --update s.yaml data | head`: the diff used to be printed before the schema was
/// written, so a reader that had gone (a closed pipe) ended the run with the file unchanged.
#[test]
fn update_whose_diff_reader_has_gone_still_writes_the_schema() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    let before = fs::read_to_string(&schema).unwrap();
    let all = fs::read_to_string(fixture("penguins.csv")).unwrap();
    let data = write(
        d.path(),
        "atlantis.csv",
        &all.replacen(",Torgersen,", ",Atlantis,", 2),
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["infer", &data, "--update", &schema])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before anything is written
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = fs::read_to_string(&schema).unwrap();
    assert_ne!(after, before, "the schema was not updated");
    assert!(after.contains("- Atlantis"), "{after}");
}

/// A schema inferred from a `key=value` partitioned CSV directory validates that directory:
/// the partition column (a dictionary of strings) is text already, not a column of the
/// files to force to text (which failed with "--type names column `k`").
#[test]
fn a_partitioned_csv_directory_validates_against_its_own_schema() {
    let d = TempDir::new().unwrap();
    let data = d.path().join("events");
    for (k, rows) in [("1", "a,b\n1,x\n2,y\n"), ("2", "a,b\n3,z\n4,w\n")] {
        std::fs::create_dir_all(data.join(format!("k={k}"))).unwrap();
        std::fs::write(data.join(format!("k={k}/part.csv")), rows).unwrap();
    }
    let schema = d.path().join("s.yaml");
    let r = run(&[
        "infer",
        data.to_str().unwrap(),
        "-o",
        schema.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&[
        "validate",
        data.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("passed"), "{}", r.stdout);
}
