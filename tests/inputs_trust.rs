//! End-to-end regressions of issue 12 on the input side: files a user meets whose reading
//! used to give a wrong answer with exit 0, a misleading error, or unbounded resources.
//! Each test is named after the bug it pins down.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::fs;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use common::{column, profile_json, run, write};
use tempfile::TempDir;

/// Runs `preflight <args>`, expects exit 2 and one stderr line naming `names` and
/// mentioning `mentions`; returns that line.
fn bad(args: &[&str], names: &str, mentions: &str) -> String {
    let r = run(args);
    assert_eq!(r.code, 2, "{args:?}: expected exit 2, stderr: {}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{args:?}: expected one line: {:?}",
        r.stderr
    );
    let line = lines[0];
    assert!(line.starts_with("error: "), "{line}");
    assert!(
        line.contains(names),
        "{args:?}: should name {names}: {line}"
    );
    assert!(
        line.to_lowercase().contains(&mentions.to_lowercase()),
        "{args:?}: should mention `{mentions}`: {line}"
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    line.to_string()
}

fn write_batch_parquet(path: &Path, b: &RecordBatch) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, b.schema(), None).unwrap();
    w.write(b).unwrap();
    w.close().unwrap();
}

fn columns(names_types: &[(&str, DataType)], arrays: Vec<ArrayRef>) -> RecordBatch {
    let fields: Vec<Field> = names_types
        .iter()
        .map(|(n, t)| Field::new(*n, t.clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

// ---- item 11: an unterminated quote swallowed the rest of the file ----

#[test]
fn unterminated_quote_fails_naming_the_line_where_it_opened() {
    let d = TempDir::new().unwrap();
    let p = write(
        d.path(),
        "quote.csv",
        b"id,name\n1,ok\n2,\"unclosed\n3,lost\n4,lost too\n",
    );
    let line = bad(&["profile", &p], "quote.csv", "unterminated quote");
    assert!(line.contains("line 3"), "{line}");
    // validate reads through the same path
    let schema = write(d.path(), "s.yaml", b"version: 1\nfeatures: []\n");
    let _ = schema;
}

#[test]
fn quotes_inside_unquoted_cells_are_not_an_unterminated_quote() {
    let d = TempDir::new().unwrap();
    let p = write(
        d.path(),
        "height.csv",
        b"name,height\nann,5'11\"\nbob,\"6'1\"\"\"\ncy,\"multi\nline\"\n",
    );
    let prof = profile_json(&[&p]);
    assert_eq!(prof["row_count"], 3);
}

// ---- item 12: a duplicated Parquet column name was dropped silently ----

#[test]
fn duplicate_parquet_column_name_is_rejected() {
    let d = TempDir::new().unwrap();
    let b = columns(
        &[("a", DataType::Int64), ("a", DataType::Int64)],
        vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(Int64Array::from(vec![3, 4])),
        ],
    );
    let p = d.path().join("dup.parquet");
    write_batch_parquet(&p, &b);
    bad(
        &["profile", p.to_str().unwrap()],
        "dup.parquet",
        "column name `a` appears twice",
    );
}

// ---- item 1: files of one dataset are matched by column name, not position ----

fn col_num(prof: &serde_json::Value, name: &str, stat: &str) -> f64 {
    column(prof, name)["numeric"][stat].as_f64().unwrap()
}

#[test]
fn csv_files_with_headers_in_another_order_are_matched_by_name() {
    let d = TempDir::new().unwrap();
    write(d.path(), "data/jan.csv", b"price,weight\n100,1\n200,2\n");
    write(d.path(), "data/feb.csv", b"weight,price\n3,300\n");
    let dir = d.path().join("data");
    for extra in [&[][..], &["--partitions", "1"][..]] {
        let mut args = vec![dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        let prof = profile_json(&args);
        assert_eq!(prof["row_count"], 3);
        assert_eq!(col_num(&prof, "price", "min"), 100.0);
        assert_eq!(col_num(&prof, "price", "max"), 300.0);
        assert_eq!(col_num(&prof, "weight", "max"), 3.0);
        for c in ["price", "weight"] {
            assert!(column(&prof, c).get("absent_in").is_none(), "{prof}");
        }
    }
}

#[test]
fn csv_files_with_different_columns_are_profiled_as_their_union() {
    let d = TempDir::new().unwrap();
    let a = write(d.path(), "a.csv", b"a,b\n1,2\n3,4\n");
    let x = write(d.path(), "x.csv", b"x,y,a\n5,6,7\n");
    let prof = profile_json(&[&a, &x]);
    let names: Vec<&str> = prof["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "x", "y"]);
    assert_eq!(prof["row_count"], 3);
    assert_eq!(column(&prof, "a")["missing"], 0);
    assert_eq!(col_num(&prof, "a", "max"), 7.0);
    assert!(column(&prof, "a").get("absent_in").is_none());
    assert_eq!(column(&prof, "b")["missing"], 1);
    assert_eq!(column(&prof, "b")["absent_in"], serde_json::json!([x]));
    assert_eq!(column(&prof, "x")["missing"], 2);
    assert_eq!(column(&prof, "y")["absent_in"], serde_json::json!([a]));
    common::assert_matches_schema("profile.schema.json", &prof, "profile with absent_in");
    // The same bytes every time.
    let r1 = run(&["profile", &a, &x, "--format", "json"]);
    let r2 = run(&["profile", &a, &x, "--format", "json"]);
    assert_eq!(r1.stdout, r2.stdout);
}

#[test]
fn csv_files_whose_types_differ_make_the_column_text_as_one_file_would() {
    let d = TempDir::new().unwrap();
    let a = write(d.path(), "a.csv", b"code,n\n1,1\n2,2\n");
    let b = write(d.path(), "b.csv", b"n,code\n2.5,A7\n");
    let prof = profile_json(&[&a, &b]);
    assert_eq!(column(&prof, "code")["type"], "string");
    assert_eq!(column(&prof, "code")["distinct"], 3);
    assert_eq!(column(&prof, "n")["type"], "double");
    assert_eq!(col_num(&prof, "n", "max"), 2.5);
}

#[test]
fn hive_partitions_with_differing_csv_headers_keep_their_values() {
    let d = TempDir::new().unwrap();
    write(d.path(), "ev/year=2023/a.csv", b"a,b\n1,10\n");
    write(d.path(), "ev/year=2024/b.csv", b"b,a\n20,2\n30,3\n");
    let dir = d.path().join("ev");
    let prof = profile_json(&[dir.to_str().unwrap()]);
    assert_eq!(prof["row_count"], 3);
    assert_eq!(col_num(&prof, "a", "max"), 3.0);
    assert_eq!(col_num(&prof, "b", "min"), 10.0);
    assert_eq!(column(&prof, "year")["distinct"], 2);
    assert_eq!(column(&prof, "year")["missing"], 0);
}

#[test]
fn ndjson_files_are_matched_by_key_in_first_seen_order() {
    let d = TempDir::new().unwrap();
    let a = write(
        d.path(),
        "a.ndjson",
        b"{\"z\":1,\"a\":2}\n{\"z\":3,\"a\":4}\n",
    );
    let b = write(d.path(), "b.ndjson", b"{\"m\":\"x\",\"a\":6.5}\n");
    let prof = profile_json(&[&a, &b]);
    let names: Vec<&str> = prof["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["z", "a", "m"]);
    assert_eq!(column(&prof, "a")["type"], "double");
    assert_eq!(col_num(&prof, "a", "max"), 6.5);
    assert_eq!(column(&prof, "m")["absent_in"], serde_json::json!([a]));
    assert_eq!(column(&prof, "z")["absent_in"], serde_json::json!([b]));
}

#[test]
fn parquet_schema_evolution_added_column_and_widened_int() {
    let d = TempDir::new().unwrap();
    let old = columns(
        &[("id", DataType::Int32), ("v", DataType::Int64)],
        vec![
            Arc::new(Int32Array::from(vec![1, 2])),
            Arc::new(Int64Array::from(vec![10, 20])),
        ],
    );
    let new = columns(
        &[
            ("v", DataType::Int64),
            ("id", DataType::Int64),
            ("note", DataType::Utf8),
        ],
        vec![
            Arc::new(Int64Array::from(vec![30])),
            Arc::new(Int64Array::from(vec![5_000_000_000])),
            Arc::new(StringArray::from(vec!["hi"])),
        ],
    );
    write_batch_parquet(&d.path().join("ds/part-0.parquet"), &old);
    write_batch_parquet(&d.path().join("ds/part-1.parquet"), &new);
    let dir = d.path().join("ds");
    let prof = profile_json(&[dir.to_str().unwrap()]);
    assert_eq!(prof["row_count"], 3);
    assert_eq!(column(&prof, "id")["type"], "int64");
    assert_eq!(col_num(&prof, "id", "max"), 5_000_000_000.0);
    assert_eq!(col_num(&prof, "v", "max"), 30.0);
    assert_eq!(column(&prof, "note")["missing"], 2);
    let part0 = d.path().join("ds/part-0.parquet");
    assert_eq!(
        column(&prof, "note")["absent_in"],
        serde_json::json!([part0.to_str().unwrap()])
    );
}

#[test]
fn parquet_files_whose_column_types_conflict_name_both_files() {
    let d = TempDir::new().unwrap();
    let a = columns(
        &[("x", DataType::Int64)],
        vec![Arc::new(Int64Array::from(vec![1]))],
    );
    let b = columns(
        &[("x", DataType::Utf8)],
        vec![Arc::new(StringArray::from(vec!["one"]))],
    );
    write_batch_parquet(&d.path().join("ds/a.parquet"), &a);
    write_batch_parquet(&d.path().join("ds/b.parquet"), &b);
    let dir = d.path().join("ds");
    let line = bad(
        &["profile", dir.to_str().unwrap()],
        "b.parquet",
        "column `x`",
    );
    assert!(line.contains("a.parquet"), "{line}");
}

#[test]
fn arrow_ipc_files_with_different_columns_are_matched_by_name() {
    let d = TempDir::new().unwrap();
    let write_ipc = |name: &str, b: &RecordBatch| {
        let p = d.path().join(name);
        let f = fs::File::create(&p).unwrap();
        let mut w = arrow::ipc::writer::FileWriter::try_new(f, &b.schema()).unwrap();
        w.write(b).unwrap();
        w.finish().unwrap();
        p.to_str().unwrap().to_string()
    };
    let a = write_ipc(
        "a.arrow",
        &columns(
            &[("p", DataType::Int64), ("w", DataType::Int64)],
            vec![
                Arc::new(Int64Array::from(vec![100, 200])),
                Arc::new(Int64Array::from(vec![1, 2])),
            ],
        ),
    );
    let b = write_ipc(
        "b.arrow",
        &columns(
            &[("w", DataType::Int32), ("p", DataType::Int64)],
            vec![
                Arc::new(Int32Array::from(vec![3])),
                Arc::new(Int64Array::from(vec![300])),
            ],
        ),
    );
    let prof = profile_json(&[&a, &b]);
    assert_eq!(prof["row_count"], 3);
    assert_eq!(col_num(&prof, "p", "max"), 300.0);
    assert_eq!(col_num(&prof, "w", "max"), 3.0);
}

// ---- item 13: one impossible date late in a file refused the whole file ----

fn dates_csv(bad: &str) -> Vec<u8> {
    let mut s = String::from("d,n\n");
    for i in 0..1500 {
        s.push_str(&format!("2024-01-{:02},{i}\n", i % 28 + 1));
    }
    s.push_str(&format!("{bad},1500\n"));
    s.into_bytes()
}

#[test]
fn impossible_date_late_in_a_csv_makes_the_column_text() {
    let d = TempDir::new().unwrap();
    for (name, bad_value) in [
        ("date.csv", "2024-02-31"),
        ("time.csv", "2024-01-01 25:00:00"),
    ] {
        let p = write(d.path(), name, &dates_csv(bad_value));
        let prof = profile_json(&[&p]);
        assert_eq!(prof["row_count"], 1501, "{name}");
        assert_eq!(column(&prof, "d")["type"], "string", "{name}");
        assert_eq!(column(&prof, "n")["type"], "int64", "{name}");
    }
    // A type the user forced is kept, and the cell that does not fit it is named.
    let p = write(d.path(), "forced.csv", &dates_csv("2024-02-31"));
    let line = bad(
        &["profile", &p, "--type", "d=date"],
        "forced.csv",
        "line 1502",
    );
    assert!(line.contains("2024-02-31"), "{line}");
}

#[test]
fn validate_reports_an_impossible_date_as_a_type_mismatch() {
    let d = TempDir::new().unwrap();
    let good = write(d.path(), "good.csv", &dates_csv("2024-02-28"));
    let schema = d.path().join("schema.yaml");
    let r = run(&["infer", &good, "-o", schema.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let badf = write(d.path(), "bad.csv", &dates_csv("2024-02-31"));
    let r = run(&[
        "validate",
        &badf,
        "--schema",
        schema.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "stderr: {}\nstdout: {}", r.stderr, r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let hit = v["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["column"] == "d" && a["kind"] == "type_mismatch");
    assert!(hit, "{}", r.stdout);
}

// ---- item 19: misleading reads ----

#[test]
fn infinity_spellings_are_floats_not_strings() {
    let d = TempDir::new().unwrap();
    let p = write(
        d.path(),
        "inf.csv",
        b"x\n1.5\nInfinity\n-Infinity\nINF\ninf\n-inf\nNaN\n",
    );
    let prof = profile_json(&[&p]);
    let x = column(&prof, "x");
    assert_eq!(x["type"], "double", "{x}");
    assert_eq!(x["numeric"]["pos_inf"], 3);
    assert_eq!(x["numeric"]["neg_inf"], 2);
    assert_eq!(x["numeric"]["nan"], 1);
}

#[test]
fn broken_ndjson_record_is_reported_at_its_line() {
    let d = TempDir::new().unwrap();
    let p = write(
        d.path(),
        "b.ndjson",
        b"{\"a\":1}\n{\"a\":2}\n{\"a\":\n{\"a\":3}\n",
    );
    bad(&["profile", &p], "b.ndjson", "line 3");
    // beyond the rows types are inferred from
    let mut s = String::new();
    for i in 0..1500 {
        s.push_str(&format!("{{\"a\":{i}}}\n"));
    }
    s.push_str("{\"a\": tru}\n");
    let p = write(d.path(), "late.ndjson", s.as_bytes());
    bad(&["profile", &p], "late.ndjson", "line 1501");
}

// ---- item 9: errors that mislead ----

#[test]
fn small_ragged_csv_names_the_file_and_line_as_the_readme_says() {
    let d = TempDir::new().unwrap();
    let p = write(d.path(), "r.csv", b"a,b,c\n1,2,3\n4,5\n");
    let line = bad(&["profile", &p], "r.csv", "line 3");
    assert_eq!(
        line,
        format!("error: {p}: incorrect number of fields for line 3, expected 3 got 2")
    );
}

#[test]
fn small_latin1_csv_says_invalid_utf8_at_its_line() {
    let d = TempDir::new().unwrap();
    let p = write(d.path(), "l.csv", b"name,n\nabc,1\ncaf\xe9,2\n");
    let line = bad(&["profile", &p], "l.csv", "invalid UTF-8 at line 3");
    assert!(line.starts_with(&format!("error: {p}: ")), "{line}");
    // beyond the rows types are inferred from
    let mut s = b"name,n\n".to_vec();
    for i in 0..1500 {
        s.extend_from_slice(format!("abc,{i}\n").as_bytes());
    }
    s.extend_from_slice(b"caf\xe9,2\n");
    let p = write(d.path(), "late.csv", &s);
    bad(&["profile", &p], "late.csv", "invalid UTF-8 at line 1502");
}

#[test]
fn type_override_of_a_missing_column_keeps_its_closing_parenthesis() {
    let d = TempDir::new().unwrap();
    let p = write(d.path(), "t.csv", b"a,b\n1,2\n");
    let line = bad(&["profile", &p, "--type", "foo=int"], "t.csv", "foo");
    assert!(line.ends_with("(columns: a, b)"), "{line}");
}

// ---- item 17: paths ----

#[test]
fn an_existing_file_named_like_a_glob_is_read_literally() {
    let d = TempDir::new().unwrap();
    let p = write(d.path(), "br[1].csv", b"a\n1\n2\n");
    let prof = profile_json(&[&p]);
    assert_eq!(prof["row_count"], 2);
}

#[test]
fn symbolic_link_loops_are_named_not_followed() {
    let d = TempDir::new().unwrap();
    write(d.path(), "data/a.csv", b"a\n1\n");
    std::os::unix::fs::symlink(d.path().join("data"), d.path().join("data/again")).unwrap();
    let dir = d.path().join("data");
    bad(
        &["profile", dir.to_str().unwrap()],
        "again",
        "symbolic link loop",
    );
    let l = d.path().join("self.csv");
    std::os::unix::fs::symlink(&l, &l).unwrap();
    bad(
        &["profile", l.to_str().unwrap()],
        "self.csv",
        "symbolic link loop",
    );
}

// ---- item 14: unbounded resources ----

fn ipc_bytes() -> Vec<u8> {
    let b = columns(
        &[("v", DataType::Int64)],
        vec![Arc::new(Int64Array::from(vec![1, 2, 3]))],
    );
    let mut out = Vec::new();
    {
        let mut w = arrow::ipc::writer::FileWriter::try_new(&mut out, &b.schema()).unwrap();
        w.write(&b).unwrap();
        w.finish().unwrap();
    }
    out
}

/// Run preflight with its address space capped, so an allocation of gigabytes fails the
/// test instead of passing unnoticed.
fn run_capped(args: &[&str]) -> common::Run {
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 4000000; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_preflight"))
        .args(args);
    let out = cmd.output().unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn truncated_and_crafted_arrow_ipc_files_fail_cleanly() {
    let d = TempDir::new().unwrap();
    let good = ipc_bytes();
    let ok = write(d.path(), "ok.arrow", &good);
    assert_eq!(run_capped(&["profile", &ok, "--format", "json"]).code, 0);
    // Truncated: the footer is gone, and the reader took the magic for a length.
    let cut = write(d.path(), "cut.arrow", &good[..good.len() / 2]);
    // Crafted: a stream whose first message declares 2 GB of metadata.
    let mut crafted = vec![0xFF, 0xFF, 0xFF, 0xFF, 0xF0, 0xFF, 0xFF, 0x7F];
    crafted.extend_from_slice(&[0u8; 100]);
    let crafted = write(d.path(), "crafted.arrow", &crafted);
    for (p, name) in [(&cut, "cut.arrow"), (&crafted, "crafted.arrow")] {
        let r = run_capped(&["profile", p]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        let line = r.stderr.trim_end();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains(name) && line.contains("Arrow IPC"), "{line}");
        assert!(!line.to_lowercase().contains("bug"), "{line}");
    }
}

#[test]
fn partitions_beyond_the_limit_are_refused_with_the_range() {
    let d = TempDir::new().unwrap();
    let p = write(d.path(), "t.csv", b"a\n1\n");
    let r = run(&["profile", &p, "--partitions", "1000000"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("1 to 1024"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1);
}

// ---- a 100,000-column header must not hang ----

#[test]
fn a_100000_column_csv_profiles_in_bounded_time() {
    let d = TempDir::new().unwrap();
    let n = 100_000;
    let header: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let row: Vec<String> = (0..n).map(|i| (i % 7).to_string()).collect();
    let text = format!(
        "{}\n{}\n{}\n",
        header.join(","),
        row.join(","),
        row.join(",")
    );
    let p = write(d.path(), "wide.csv", text.as_bytes());
    let started = std::time::Instant::now();
    let r = run(&[
        "profile",
        &p,
        "--format",
        "json",
        "-o",
        d.path().join("o.json").to_str().unwrap(),
    ]);
    let took = started.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(took.as_secs() < 30, "took {took:?}");
}
