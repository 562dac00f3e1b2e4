//! End-to-end: the inputs a user meets (formats, compression, globs, partitioned
//! directories, type overrides) and every kind of bad input. Bad input must exit 2 with
//! one line naming the file, never a panic, never a partial output file.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::fs;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use common::{column, fixture, profile_json, run, write};
use tempfile::TempDir;

fn batch(offset: i64, n: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("x", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
    ]));
    let ids: Vec<i64> = (offset..offset + n).collect();
    let xs: Vec<Option<f64>> = ids
        .iter()
        .map(|i| (i % 5 != 0).then_some(*i as f64 / 2.0))
        .collect();
    let ss: Vec<Option<String>> = ids.iter().map(|i| Some(format!("s{}", i % 3))).collect();
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids)) as ArrayRef,
            Arc::new(Float64Array::from(xs)),
            Arc::new(StringArray::from(ss)),
        ],
    )
    .unwrap()
}

fn write_parquet(path: &Path, b: &RecordBatch) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, b.schema(), None).unwrap();
    w.write(b).unwrap();
    w.close().unwrap();
}

/// Runs `profile` with `-o`, expects exit 2, one stderr line naming `names`, no output.
fn assert_bad(args: &[&str], names: &str, mentions: &str) {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out.json");
    let mut all = vec!["profile"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", out.to_str().unwrap()]);
    let r = run(&all);
    assert_eq!(r.code, 2, "{args:?}: expected exit 2, stderr: {}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{args:?}: expected one line, got {:?}",
        r.stderr
    );
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    assert!(
        lines[0].contains(names),
        "{args:?}: error should name {names}: {}",
        lines[0]
    );
    assert!(
        lines[0].to_lowercase().contains(&mentions.to_lowercase()),
        "{args:?}: error should mention `{mentions}`: {}",
        lines[0]
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(!out.exists(), "no output file may be written on error");
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary file left behind"
    );
}

#[test]
fn nonexistent_path() {
    assert_bad(
        &["/nonexistent/flights.parquet"],
        "/nonexistent/flights.parquet",
        "no such file",
    );
}

#[test]
fn unreadable_path_dangling_symlink() {
    // Tests run as root in CI, where permission bits do not stop reads; a link to nowhere
    // is the unreadable file we can make.
    let d = TempDir::new().unwrap();
    let link = d.path().join("gone.csv");
    std::os::unix::fs::symlink(d.path().join("missing.csv"), &link).unwrap();
    assert_bad(&[link.to_str().unwrap()], "gone.csv", "no such file");
}

#[test]
fn empty_file() {
    let d = TempDir::new().unwrap();
    let p = write(d.path(), "empty.csv", b"");
    assert_bad(&[&p], "empty.csv", "empty");
}

#[test]
fn header_only_csv() {
    let d = TempDir::new().unwrap();
    let p = write(d.path(), "header.csv", b"a,b,c\n");
    assert_bad(&[&p], "header.csv", "no data rows");
}

#[test]
fn ragged_rows_name_the_line() {
    let d = TempDir::new().unwrap();
    let p = write(d.path(), "ragged.csv", b"a,b,c\n1,2,3\n4,5,6\n7,8\n");
    assert_bad(&[&p], "ragged.csv", "line 4");
}

#[test]
fn invalid_utf8_names_the_line() {
    let d = TempDir::new().unwrap();
    let p = write(d.path(), "latin1.csv", b"name,n\nabc,1\ncaf\xe9,2\n");
    assert_bad(&[&p], "latin1.csv", "UTF-8");
}

#[test]
fn corrupt_parquet_footer() {
    let d = TempDir::new().unwrap();
    let good = fs::read(fixture("nycflights13_flights.parquet")).unwrap();
    let mut bad = good[..good.len() - 100].to_vec();
    bad.extend_from_slice(&[0u8; 92]);
    bad.extend_from_slice(b"PAR1PAR1");
    let p = write(d.path(), "broken.parquet", &bad);
    assert_bad(&[&p], "broken.parquet", "parquet");
}

#[test]
fn corrupt_parquet_among_good_files_is_named() {
    let d = TempDir::new().unwrap();
    write_parquet(&d.path().join("a.parquet"), &batch(0, 10));
    write(d.path(), "b.parquet", b"PAR1 this is not parquet PAR1");
    let glob = format!("{}/*.parquet", d.path().display());
    assert_bad(&[&glob], "b.parquet", "parquet");
}

#[test]
fn directory_with_mixed_formats() {
    let d = TempDir::new().unwrap();
    write_parquet(&d.path().join("data/part-0.parquet"), &batch(0, 10));
    write(d.path(), "data/part-1.csv", b"id,x,s\n1,2,a\n");
    let dir = d.path().join("data");
    assert_bad(&[dir.to_str().unwrap()], "data", "mix formats");
}

/// A semicolon file (as spreadsheets with a decimal comma write them) read with the
/// default `,` is one text column: the run goes on, but says so on stderr, naming the
/// file and the flag; with `--delimiter ';'` it has its columns and no warning.
#[test]
fn one_column_that_another_delimiter_would_split_is_a_warning() {
    let d = TempDir::new().unwrap();
    let iris = fs::read_to_string(fixture("iris.csv")).unwrap();
    let width = iris.lines().next().unwrap().split(',').count();
    assert!(width >= 5, "{width}");
    for (name, delim, spelled) in [("iris_semi.csv", ";", ";"), ("iris_tab.csv", "\t", "\\t")] {
        let text = iris.replace(',', delim);
        let p = write(d.path(), name, text.as_bytes());
        let r = run(&["profile", &p, "--format", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["columns"].as_array().unwrap().len(), 1);
        let want = format!(
            "warning: {p}: the first line is one column, which `{spelled}` would split into {width}; if `{spelled}` separates the fields, pass --delimiter '{spelled}'"
        );
        assert_eq!(r.stderr.trim(), want);
        let r = run(&["-q", "profile", &p, "--format", "json"]);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""));
        // As the warning says: every column, and nothing to warn of.
        let r = run(&["profile", &p, "--format", "json", "--delimiter", spelled]);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""));
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["columns"].as_array().unwrap().len(), width);
        // Every command that reads data says it, once, though `drift` opens it twice.
        let schema = d.path().join("s.yaml");
        let s = schema.to_str().unwrap();
        for args in [
            vec!["infer", &p, "-o", s],
            vec!["validate", &p, "--schema", s, "--format", "json"],
            vec!["drift", &p, &p, "--format", "json"],
        ] {
            let r = run(&args);
            assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
            assert_eq!(r.stderr.trim(), want, "{args:?}");
        }
    }
    // One column and no other delimiter in it: nothing to say.
    let p = write(d.path(), "one.csv", b"species\nsetosa\nvirginica\n");
    let r = run(&["profile", &p, "--format", "json"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
}

#[test]
fn duplicate_column_names() {
    let d = TempDir::new().unwrap();
    let p = write(d.path(), "dup.csv", b"a,b,a\n1,2,3\n");
    assert_bad(&[&p], "dup.csv", "appears twice");
}

#[test]
fn unknown_extension_asks_for_input_format() {
    let d = TempDir::new().unwrap();
    let p = write(d.path(), "data.dat", b"a,b\n1,2\n");
    assert_bad(&[&p], "data.dat", "--input-format");
    let r = run(&["profile", &p, "--input-format", "csv", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn type_override_of_missing_column() {
    assert_bad(
        &[
            fixture("iris.csv").to_str().unwrap(),
            "--type",
            "nope=int64",
        ],
        "iris.csv",
        "nope",
    );
}

#[test]
fn glob_with_no_match() {
    assert_bad(
        &["/tmp/definitely-not-here-*.parquet"],
        "definitely-not-here",
        "no files match",
    );
}

#[test]
fn mixed_values_become_a_string_column_not_an_error() {
    // Type inference reads the first 1000 rows; a text value further down must not
    // break the run or be silently dropped.
    let d = TempDir::new().unwrap();
    let mut csv = String::from("n,code\n");
    for i in 0..1500 {
        csv.push_str(&format!("{i},{}\n", i % 10));
    }
    csv.push_str("1500,A7\n");
    let p = write(d.path(), "mixed.csv", csv.as_bytes());
    let prof = profile_json(&[&p]);
    assert_eq!(prof["row_count"], 1501);
    let code = column(&prof, "code");
    assert_eq!(code["type"], "string");
    assert_eq!(code["distinct"], 11);
    assert_eq!(column(&prof, "n")["type"], "int64");
}

#[test]
fn type_override_and_null_strings() {
    let d = TempDir::new().unwrap();
    let p = write(
        d.path(),
        "zips.csv",
        b"zip,v\n02134,NA\n10001,1.5\n,2.5\nNULL,n/a\n",
    );
    let prof = profile_json(&[&p, "--type", "zip=string"]);
    let zip = column(&prof, "zip");
    assert_eq!(zip["type"], "string");
    assert_eq!(zip["missing"], 2);
    assert_eq!(zip["top_values"].as_array().unwrap().len(), 2);
    let v = column(&prof, "v");
    assert_eq!(v["type"], "double");
    assert_eq!(v["missing"], 2);
    assert_eq!(v["numeric"]["mean"], 2.0);
}

#[test]
fn hive_partitions_become_columns() {
    let d = TempDir::new().unwrap();
    let root = d.path().join("events");
    write_parquet(
        &root.join("year=2023/month=1/part-0.parquet"),
        &batch(0, 100),
    );
    write_parquet(
        &root.join("year=2023/month=2/part-0.parquet"),
        &batch(100, 50),
    );
    write_parquet(
        &root.join("year=2024/month=1/part-0.parquet"),
        &batch(150, 25),
    );
    write(&root, "_SUCCESS", b"");
    let prof = profile_json(&[root.to_str().unwrap()]);
    assert_eq!(prof["row_count"], 175);
    let year = column(&prof, "year");
    assert_eq!(year["distinct"], 2);
    assert_eq!(year["top_values"][0]["value"], "2023");
    assert_eq!(year["top_values"][0]["count"], 150);
    let month = column(&prof, "month");
    assert_eq!(month["top_values"][0]["count"], 125);
    assert_eq!(column(&prof, "x")["missing"], 35);
}

#[test]
fn globs_several_paths_compression_ndjson_and_arrow_ipc() {
    let d = TempDir::new().unwrap();
    let b = batch(0, 1000);
    // Parquet via glob + explicit path
    write_parquet(&d.path().join("p/a.parquet"), &batch(0, 600));
    write_parquet(&d.path().join("p/b.parquet"), &batch(600, 400));
    let glob = format!("{}/p/*.parquet", d.path().display());
    let from_glob = profile_json(&[&glob]);
    let a = d.path().join("p/a.parquet");
    let bb = d.path().join("p/b.parquet");
    let from_paths = profile_json(&[a.to_str().unwrap(), bb.to_str().unwrap()]);
    for prof in [&from_glob, &from_paths] {
        assert_eq!(prof["row_count"], 1000);
        assert_eq!(column(prof, "x")["missing"], 200);
        assert_eq!(column(prof, "id")["numeric"]["max"], 999.0);
    }
    // CSV gzip
    let mut csv = Vec::new();
    {
        let mut w = arrow::csv::WriterBuilder::new()
            .with_header(true)
            .build(&mut csv);
        w.write(&b).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &csv).unwrap();
    let gz_path = write(d.path(), "t.csv.gz", &gz.finish().unwrap());
    // NDJSON
    let mut js = Vec::new();
    {
        let mut w = arrow::json::LineDelimitedWriter::new(&mut js);
        w.write(&b).unwrap();
        w.finish().unwrap();
    }
    let js_path = write(d.path(), "t.ndjson", &js);
    // Arrow IPC file
    let ipc_path = d.path().join("t.arrow");
    {
        let f = fs::File::create(&ipc_path).unwrap();
        let mut w = arrow::ipc::writer::FileWriter::try_new(f, &b.schema()).unwrap();
        w.write(&b).unwrap();
        w.finish().unwrap();
    }
    for p in [
        gz_path.as_str(),
        js_path.as_str(),
        ipc_path.to_str().unwrap(),
    ] {
        let prof = profile_json(&[p]);
        assert_eq!(prof["row_count"], 1000, "{p}");
        let x = column(&prof, "x");
        assert_eq!(x["missing"], 200, "{p}");
        assert_eq!(x["numeric"]["mean"], 250.0, "{p}"); // mean of i/2 over i % 5 != 0, i < 1000
        assert_eq!(column(&prof, "s")["distinct"], 3, "{p}");
    }
}

#[test]
fn table_output_and_broken_pipe() {
    let r = run(&["profile", fixture("penguins.csv").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for needle in [
        "species",
        "string",
        "Adelie (152)",
        "body_mass_g",
        "3.2%",
        "344 rows, 8 columns",
    ] {
        assert!(
            r.stdout.contains(needle),
            "table lacks `{needle}`:\n{}",
            r.stdout
        );
    }
    // A reader that goes away early: exit 0, no error message.
    let mut child = common::bin()
        .args(["profile", fixture("digits.csv").to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn output_is_deterministic() {
    let f = fixture("nycflights13_flights.parquet");
    let a = run(&["profile", f.to_str().unwrap(), "--format", "json"]);
    let b = run(&["profile", f.to_str().unwrap(), "--format", "json"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(a.stdout == b.stdout, "two runs on the same input differ");
}

/// `-o` naming a device or FIFO (`-o /dev/null`, a pipe) writes into it. The atomic
/// temp-file-and-rename used for regular files would replace the FIFO with a file, and,
/// run as root with `-o /dev/null`, replace /dev/null itself (seen on this project's CI
/// machine: later readers of /dev/null got old error messages).
#[cfg(unix)]
#[test]
fn output_to_a_fifo_is_written_in_place() {
    use std::os::unix::fs::FileTypeExt;
    use std::process::{Command, Stdio};

    let d = tempfile::TempDir::new().unwrap();
    let fifo = d.path().join("out.pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo failed");
    // The reader: blocks until preflight opens the FIFO for writing.
    let mut cat = Command::new("cat")
        .arg(&fifo)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pen = common::fixture("penguins.csv");
    let r = common::run(&[
        "profile",
        pen.to_str().unwrap(),
        "--format",
        "json",
        "-o",
        fifo.to_str().unwrap(),
    ]);
    let still_fifo = std::fs::metadata(&fifo).unwrap().file_type().is_fifo();
    if !still_fifo {
        cat.kill().ok();
    }
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(still_fifo, "the FIFO was replaced by a regular file");
    let out = cat.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["row_count"], 344);
}

/// A file large enough for DataFusion to split into byte ranges (over 10 MB, 12 row
/// groups) profiles to the same bytes every time. DataFusion 55 lets a partition's stream
/// take ranges its siblings have not opened, which made the rows behind each partition
/// state, and so the merged digests and moments, depend on timing.
#[test]
fn a_split_file_profiles_to_the_same_bytes_every_time() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("big.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("x", DataType::Float64, false),
        Field::new("s", DataType::Utf8, false),
    ]));
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(50_000))
        .build();
    let file = fs::File::create(&path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for g in 0..12i64 {
        let ids: Vec<i64> = (g * 50_000..(g + 1) * 50_000).collect();
        let xs: Vec<f64> = ids
            .iter()
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64 * 1e6
            })
            .collect();
        let ss: Vec<String> = ids
            .iter()
            .map(|i| {
                if i % 20 == 0 {
                    "heavy".into()
                } else {
                    format!("v{}", i * 7919 % 400_000)
                }
            })
            .collect();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(Float64Array::from(xs)),
            Arc::new(StringArray::from(ss)),
        ];
        w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap())
            .unwrap();
    }
    w.close().unwrap();
    assert!(
        fs::metadata(&path).unwrap().len() > 10 << 20,
        "must be split by DataFusion"
    );
    let p = path.to_str().unwrap();
    let first = run(&["profile", p, "--format", "json", "--partitions", "2"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    for _ in 0..3 {
        let again = run(&["profile", p, "--format", "json", "--partitions", "2"]);
        assert!(
            again.stdout == first.stdout,
            "profile output changed between runs"
        );
    }
}

/// The table shows a sketched top value only when its count is above the sketch's error
/// bound: an all-distinct column's "top value" is noise, a heavy hitter is not.
#[test]
fn table_hides_top_values_within_the_sketch_error() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("t.csv");
    let mut text = String::from("unique,heavy\n");
    for i in 0..20_000 {
        let heavy = if i % 5 == 0 { 7 } else { 100_000 + i };
        text.push_str(&format!("{i},{heavy}\n"));
    }
    fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    let table = run(&["profile", p]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let row = |name: &str| {
        table
            .stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{}", table.stdout))
            .to_string()
    };
    let json = profile_json(&[p]);
    let unique = column(&json, "unique");
    assert!(
        !unique["top_values"].as_array().unwrap().is_empty(),
        "the JSON keeps them"
    );
    assert!(!row("unique").contains('('), "{}", row("unique"));
    // Counts are grouped by thousands, values from the data are not: the median (107,500
    // exactly; the t-digest's is within 0.2% of the range) is printed without a comma.
    assert!(row("heavy").contains("7 (4,000)"), "{}", row("heavy"));
    let median = row("heavy")
        .split_whitespace()
        .filter_map(|t| t.parse::<i64>().ok())
        .find(|v| (107_260..=107_740).contains(v));
    assert!(median.is_some(), "{}", row("heavy"));
    assert!(!row("heavy").contains("107,"), "{}", row("heavy"));
}

/// Issue 17: wide CSV must cost linear in the number of columns. Two 20,000-column files
/// whose headers differ (the second reversed, lacking every third column, with a column
/// of its own) are matched by name. Planning that as one DataFusion expression per column
/// was quadratic (two 16,000-column files: 27 s in a debug build before the first row);
/// this test does not time anything, but a quadratic path makes it take minutes.
#[test]
fn wide_csv_files_with_different_headers_are_matched_by_name() {
    let n = 20_000;
    let dir = TempDir::new().unwrap();
    let a_cells = |c: usize| {
        if c.is_multiple_of(2) {
            (c % 101).to_string()
        } else {
            format!("v{}", c % 17)
        }
    };
    let header: Vec<String> = (0..n).map(|c| format!("c{c}")).collect();
    let row: Vec<String> = (0..n).map(a_cells).collect();
    let a = write(
        dir.path(),
        "a.csv",
        format!("{}\n{}\n", header.join(","), row.join(",")).as_bytes(),
    );
    let in_b: Vec<usize> = (0..n).rev().filter(|c| !c.is_multiple_of(3)).collect();
    let mut header: Vec<String> = in_b.iter().map(|c| format!("c{c}")).collect();
    let mut row: Vec<String> = in_b
        .iter()
        .map(|c| {
            if c.is_multiple_of(2) {
                "1.5".into()
            } else {
                "w".into()
            }
        })
        .collect();
    header.push("extra".into());
    row.push("7".into());
    let b = write(
        dir.path(),
        "b.csv",
        format!("{}\n{}\n", header.join(","), row.join(",")).as_bytes(),
    );
    let prof = profile_json(&[&a, &b]);
    assert_eq!(prof["row_count"], 2);
    let cols = prof["columns"].as_array().unwrap();
    assert_eq!(cols.len(), n + 1);
    for (c, col) in cols.iter().take(n).enumerate() {
        assert_eq!(col["name"], format!("c{c}"));
        let (ty, missing) = match (c.is_multiple_of(2), c.is_multiple_of(3)) {
            (true, true) => ("int64", 1),
            (true, false) => ("double", 0),
            (false, true) => ("string", 1),
            (false, false) => ("string", 0),
        };
        assert_eq!(col["type"], ty, "c{c}");
        assert_eq!(col["count"], 2, "c{c}");
        assert_eq!(col["missing"], missing, "c{c}");
        if c.is_multiple_of(3) {
            assert_eq!(col["absent_in"], serde_json::json!([b]), "c{c}");
        } else {
            assert!(col.get("absent_in").is_none(), "c{c}");
        }
    }
    let extra = &cols[n];
    assert_eq!(extra["name"], "extra");
    assert_eq!(extra["type"], "int64");
    assert_eq!(extra["missing"], 1);
    assert_eq!(extra["absent_in"], serde_json::json!([a]));
}
