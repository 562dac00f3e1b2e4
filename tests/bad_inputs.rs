//! The bad-input corpus (issue 12): every malformed or hostile input in
//! `tests/bad_inputs/files/` (written once by `make_corpus.py`, committed) plus a few large
//! or odd ones generated here, run through the built binary. For each case the test checks
//! what the README's "Exit codes" section guarantees:
//!
//! - the documented exit code (2 for input preflight cannot read, 1 for data that fails a
//!   check, 0 for odd but valid input);
//! - on exit 2, exactly one line on stderr, `error: ...`, naming the file and, where the
//!   case says so, the place (line, column, check);
//! - no panic, and no raw terminal escapes (ESC, C1 controls, bidi overrides, NUL) in
//!   anything printed;
//! - inputs unchanged (every file of the corpus is hashed before and after);
//! - no output file and no temporary file left when the run fails;
//! - bounded time and memory (each run under a wall-clock limit and an address-space limit).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fixture;

/// One run of the binary. In `args`, `{c}` is the corpus copy's directory and `{o}` a path
/// in an empty output directory.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    code: i32,
    /// Fragments the single error line must contain (case-insensitive), exit 2 only.
    error_has: &'static [&'static str],
    /// Fragments stdout must contain (exit 0 or 1).
    stdout_has: &'static [&'static str],
    /// Fragments neither stdout nor any output file may contain.
    output_lacks: &'static [&'static str],
}

const fn bad(
    name: &'static str,
    args: &'static [&'static str],
    error_has: &'static [&'static str],
) -> Case {
    Case {
        name,
        args,
        code: 2,
        error_has,
        stdout_has: &[],
        output_lacks: &[],
    }
}

const fn ok(name: &'static str, args: &'static [&'static str], code: i32) -> Case {
    Case {
        name,
        args,
        code,
        error_has: &[],
        stdout_has: &[],
        output_lacks: &[],
    }
}

impl Case {
    const fn stdout_has(mut self, s: &'static [&'static str]) -> Self {
        self.stdout_has = s;
        self
    }
    const fn output_lacks(mut self, s: &'static [&'static str]) -> Self {
        self.output_lacks = s;
        self
    }
}

const PENGUINS: &str = "{c}/penguins.csv";

fn cases() -> Vec<Case> {
    vec![
        // ---- CSV ----
        bad(
            "csv empty file",
            &["profile", "{c}/csv/empty.csv", "-o", "{o}"],
            &["empty.csv"],
        ),
        bad(
            "csv only newlines",
            &["profile", "{c}/csv/only_newlines.csv", "-o", "{o}"],
            &["only_newlines.csv"],
        ),
        bad(
            "csv header only",
            &["profile", "{c}/csv/header_only.csv", "-o", "{o}"],
            &["header_only.csv", "no data rows"],
        ),
        bad(
            "csv ragged row",
            &["profile", "{c}/csv/ragged.csv", "-o", "{o}"],
            &["ragged.csv", "line 3"],
        ),
        bad(
            "csv latin-1 bytes",
            &["profile", "{c}/csv/latin1.csv", "-o", "{o}"],
            &["latin1.csv", "utf-8", "line 3"],
        ),
        ok(
            "csv byte order mark",
            &["profile", "{c}/csv/bom.csv", "--format", "json"],
            0,
        )
        .stdout_has(&["\"name\": \"a\""])
        .output_lacks(&["\u{feff}"]),
        ok(
            "csv CRLF line ends",
            &["profile", "{c}/csv/crlf.csv", "--format", "json"],
            0,
        )
        .output_lacks(&["\\r"]),
        bad(
            "csv unterminated quote",
            &["profile", "{c}/csv/unterminated_quote.csv", "-o", "{o}"],
            &["unterminated_quote.csv", "line 2", "quote"],
        ),
        ok(
            "csv NUL bytes in a cell",
            &["profile", "{c}/csv/nul_bytes.csv", "--format", "table"],
            0,
        ),
        bad(
            "csv duplicate column names",
            &["profile", "{c}/csv/duplicate_columns.csv", "-o", "{o}"],
            &["duplicate_columns.csv", "'a'"],
        ),
        ok(
            "csv empty column name",
            &[
                "profile",
                "{c}/csv/empty_column_name.csv",
                "--format",
                "json",
            ],
            0,
        ),
        ok(
            "csv letters late in a number column",
            &[
                "profile",
                "{c}/csv/mixed_types_late.csv",
                "--format",
                "json",
            ],
            0,
        )
        .stdout_has(&["\"type\": \"string\""]),
        ok(
            "csv integers beyond i64",
            &[
                "profile",
                "{c}/csv/integers_beyond_i64.csv",
                "--format",
                "json",
            ],
            0,
        )
        .output_lacks(&["\"type\": \"int64\""]),
        ok(
            "csv impossible date late in the file",
            &[
                "profile",
                "{c}/csv/impossible_date_late.csv",
                "--format",
                "json",
            ],
            0,
        )
        .stdout_has(&["2024-02-31"]),
        ok(
            "csv infinity spellings are floats",
            &["profile", "{c}/csv/infinity.csv", "--format", "json"],
            0,
        )
        .stdout_has(&["\"type\": \"double\""]),
        ok(
            "csv quote inside an unquoted field",
            &[
                "profile",
                "{c}/csv/quote_inside_field.csv",
                "--format",
                "json",
            ],
            0,
        ),
        ok(
            "csv hostile names, table",
            &["profile", "{c}/csv/hostile_names.csv", "--format", "table"],
            0,
        ),
        ok(
            "csv hostile names, json",
            &["profile", "{c}/csv/hostile_names.csv", "--format", "json"],
            0,
        ),
        ok(
            "csv hostile names, html report",
            &["report", "{c}/csv/hostile_names.csv", "-o", "{o}.html"],
            0,
        )
        .output_lacks(&["<script>alert(1)</script>", "\u{1b}"]),
        ok(
            "csv values with blanks are told apart",
            &[
                "profile",
                "{c}/csv/whitespace_values.csv",
                "--format",
                "table",
            ],
            0,
        )
        .stdout_has(&["\"Biscoe \""]),
        bad(
            "csv: a Parquet file named .csv",
            &["profile", "{c}/csv/parquet_named.csv", "-o", "{o}"],
            &["parquet_named.csv"],
        ),
        bad(
            "csv truncated gzip",
            &["profile", "{c}/csv/truncated.csv.gz", "-o", "{o}"],
            &["truncated.csv.gz"],
        ),
        ok(
            "csv columns matched by header name",
            &["profile", "{c}/csv/swapped_headers", "--format", "json"],
            0,
        ),
        ok(
            "csv different headers are a union",
            &["profile", "{c}/csv/different_headers", "--format", "json"],
            0,
        )
        .stdout_has(&["\"name\": \"x\"", "\"name\": \"b\""]),
        // As within one file: a column whose values do not share a type is text.
        ok(
            "csv conflicting column types across files",
            &["profile", "{c}/csv/conflicting_types", "--format", "json"],
            0,
        )
        .stdout_has(&["\"type\": \"string\""]),
        ok(
            "csv name with brackets is a file, not a glob",
            &["profile", "{c}/csv/br[1].csv", "--format", "json"],
            0,
        ),
        bad(
            "csv 10 MB cell, then a ragged row",
            &["profile", "{c}/gen/big_cell.csv", "-o", "{o}"],
            &["big_cell.csv", "line 3"],
        ),
        ok(
            "csv 100,000-column header",
            &[
                "profile",
                "{c}/gen/wide_header.csv",
                "--format",
                "json",
                "-o",
                "{o}",
            ],
            0,
        ),
        bad(
            "symbolic link loop",
            &["profile", "{c}/gen/loop.csv", "-o", "{o}"],
            &["loop.csv", "link"],
        ),
        bad(
            "missing file with control characters in its name",
            &["profile", "{c}/gen/evil\u{1b}[31m\nname.csv", "-o", "{o}"],
            &["evil", "name.csv"],
        ),
        bad(
            "--type of a missing column",
            &[
                "profile",
                "{c}/csv/crlf.csv",
                "--type",
                "nope=int",
                "-o",
                "{o}",
            ],
            &["nope"],
        ),
        bad(
            "--type with a newline in the column name",
            &[
                "profile",
                "{c}/csv/crlf.csv",
                "--type",
                "a\nb=int",
                "-o",
                "{o}",
            ],
            &["crlf.csv"],
        ),
        bad(
            "--type with an unknown type",
            &[
                "profile",
                "{c}/csv/crlf.csv",
                "--type",
                "a=integr",
                "-o",
                "{o}",
            ],
            &["integr"],
        ),
        bad(
            "--partitions far too many",
            &[
                "profile",
                "{c}/csv/crlf.csv",
                "--partitions",
                "1000000",
                "-o",
                "{o}",
            ],
            &["partitions"],
        ),
        // ---- Parquet ----
        bad(
            "parquet empty file",
            &["profile", "{c}/parquet/empty.parquet", "-o", "{o}"],
            &["empty.parquet"],
        ),
        bad(
            "parquet: text named .parquet",
            &["profile", "{c}/parquet/text_named.parquet", "-o", "{o}"],
            &["text_named.parquet"],
        ),
        bad(
            "parquet truncated",
            &["profile", "{c}/parquet/truncated.parquet", "-o", "{o}"],
            &["truncated.parquet"],
        ),
        bad(
            "parquet corrupt footer",
            &["profile", "{c}/parquet/corrupt_footer.parquet", "-o", "{o}"],
            &["corrupt_footer.parquet"],
        ),
        bad(
            "parquet: embedded Arrow schema with an impossible type (fuzz crash)",
            &[
                "profile",
                "{c}/parquet/bad_arrow_schema.parquet",
                "-o",
                "{o}",
            ],
            &["bad_arrow_schema.parquet", "ARROW:schema"],
        ),
        bad(
            "parquet: column chunk at a negative offset (fuzz crash)",
            &[
                "profile",
                "{c}/parquet/negative_chunk_offset.parquet",
                "-o",
                "{o}",
            ],
            &[
                "negative_chunk_offset.parquet",
                "column chunk 1 (`island`) of row group 0",
                "outside the file",
            ],
        ),
        bad(
            "parquet: a row group with a negative row count (fuzz crash)",
            &[
                "profile",
                "{c}/parquet/impossible_row_count.parquet",
                "-o",
                "{o}",
            ],
            &[
                "impossible_row_count.parquet",
                "row group 0 claims a negative row count",
            ],
        ),
        bad(
            "parquet zero rows",
            &["profile", "{c}/parquet/zero_rows.parquet", "-o", "{o}"],
            &["zero_rows.parquet", "no rows"],
        ),
        ok(
            "parquet nested columns",
            &["profile", "{c}/parquet/nested.parquet", "--format", "json"],
            0,
        ),
        ok(
            "parquet decimal column",
            &["profile", "{c}/parquet/decimal.parquet", "--format", "json"],
            0,
        ),
        ok(
            "parquet dictionary column",
            &[
                "profile",
                "{c}/parquet/dictionary.parquet",
                "--format",
                "json",
            ],
            0,
        ),
        bad(
            "parquet duplicate column names",
            &[
                "profile",
                "{c}/parquet/duplicate_columns.parquet",
                "-o",
                "{o}",
            ],
            &["duplicate_columns.parquet", "'a'"],
        ),
        ok(
            "parquet schema evolution",
            &["profile", "{c}/parquet/evolution", "--format", "json"],
            0,
        )
        .stdout_has(&["\"name\": \"extra\"", "\"row_count\": 4"]),
        bad(
            "parquet conflicting types",
            &["profile", "{c}/parquet/conflicting", "-o", "{o}"],
            &["part-0.parquet", "part-1.parquet", "'v'"],
        ),
        // ---- NDJSON ----
        bad(
            "ndjson empty file",
            &["profile", "{c}/ndjson/empty.ndjson", "-o", "{o}"],
            &["empty.ndjson"],
        ),
        bad(
            "ndjson broken record on line 3",
            &["profile", "{c}/ndjson/broken_line3.ndjson", "-o", "{o}"],
            &["broken_line3.ndjson", "line 3"],
        ),
        bad(
            "ndjson lines that are not objects",
            &["profile", "{c}/ndjson/not_objects.ndjson", "-o", "{o}"],
            &["not_objects.ndjson", "line 1"],
        ),
        bad(
            "ndjson mixed types",
            &["profile", "{c}/ndjson/mixed_types.ndjson", "-o", "{o}"],
            &[
                "mixed_types.ndjson",
                "key `a` holds a string (\"x\") at line 2 but a number (1) at line 1",
            ],
        ),
        bad(
            "ndjson key that is a number, then an object",
            &[
                "profile",
                "{c}/ndjson/scalar_then_object.ndjson",
                "-o",
                "{o}",
            ],
            &[
                "scalar_then_object.ndjson",
                "key `a` holds an object ({\"q\":1}) at line 2",
            ],
        ),
        bad(
            "ndjson nested 5,000 deep",
            &["profile", "{c}/ndjson/deep.ndjson", "-o", "{o}"],
            &["deep.ndjson", "line 1"],
        ),
        bad(
            "ndjson truncated gzip",
            &["profile", "{c}/ndjson/truncated.ndjson.gz", "-o", "{o}"],
            &["truncated.ndjson.gz"],
        ),
        ok(
            "ndjson keeps the key order",
            &[
                "profile",
                "{c}/ndjson/key_order.ndjson",
                "--format",
                "table",
            ],
            0,
        ),
        // ---- Arrow IPC ----
        bad(
            "arrow truncated",
            &["profile", "{c}/ipc/truncated.arrow", "-o", "{o}"],
            &["truncated.arrow"],
        ),
        bad(
            "arrow magic only",
            &["profile", "{c}/ipc/magic_only.arrow", "-o", "{o}"],
            &["magic_only.arrow"],
        ),
        bad(
            "arrow crafted lengths",
            &["profile", "{c}/ipc/crafted_length.arrow", "-o", "{o}"],
            &["crafted_length.arrow"],
        ),
        // ---- schema files ----
        bad(
            "schema malformed YAML",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/schema/malformed.yaml",
                "-o",
                "{o}",
            ],
            &["malformed.yaml", "line 3"],
        ),
        bad(
            "schema unknown field",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/schema/unknown_field.yaml",
                "-o",
                "{o}",
            ],
            &["unknown_field.yaml", "colour"],
        ),
        bad(
            "schema wrong version",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/schema/wrong_version.yaml",
                "-o",
                "{o}",
            ],
            &["wrong_version.yaml", "version"],
        ),
        bad(
            "schema empty file",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/schema/empty.yaml",
                "-o",
                "{o}",
            ],
            &["empty.yaml"],
        ),
        bad(
            "schema alias bomb",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/schema/alias_bomb.yaml",
                "-o",
                "{o}",
            ],
            &["alias_bomb.yaml"],
        ),
        bad(
            "schema nested 100,000 deep",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/gen/deep.yaml",
                "-o",
                "{o}",
            ],
            &["deep.yaml"],
        ),
        ok(
            "schema catastrophic regex runs in linear time",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/schema/catastrophic_regex.yaml",
                "--format",
                "json",
            ],
            1,
        ),
        bad(
            "schema regex over the size limit",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/schema/huge_regex.yaml",
                "-o",
                "{o}",
            ],
            &["huge_regex.yaml", "island"],
        ),
        bad(
            "schema SQL check that writes a file",
            &[
                "validate",
                "{c}/gen/victim.csv",
                "--schema",
                "{c}/schema/sql_copy.yaml",
                "-o",
                "{o}",
            ],
            &["sql_copy.yaml", "sneaky"],
        ),
        bad(
            "schema SQL check that reads any file",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/schema/sql_external_table.yaml",
                "-o",
                "{o}",
            ],
            &["sql_external_table.yaml", "peek"],
        ),
        bad(
            "schema where clause with a second statement",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/schema/sql_second_statement.yaml",
                "-o",
                "{o}",
            ],
            &["sql_second_statement.yaml", "two"],
        ),
        ok(
            "schema check on a missing column is a finding",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/schema/sql_missing_column.yaml",
                "--format",
                "json",
            ],
            1,
        )
        .stdout_has(&["missing_column", "custom_check"]),
        bad(
            "schema that is a stored profile",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/schema/profile_as_schema.json",
                "-o",
                "{o}",
            ],
            &["profile_as_schema.json"],
        ),
        ok(
            "validate a header-only batch is a finding",
            &[
                "validate",
                "{c}/csv/header_only.csv",
                "--schema",
                "{c}/gen/abc.schema.yaml",
                "--format",
                "json",
            ],
            1,
        )
        .stdout_has(&["row_count"]),
        bad(
            "validate a stored profile given as data",
            &[
                "validate",
                "{c}/gen/penguins.profile.json",
                "--schema",
                "{c}/gen/abc.schema.yaml",
                "-o",
                "{o}",
            ],
            &["penguins.profile.json", "profile"],
        ),
        // ---- labels ----
        bad(
            "labels one class",
            &[
                "labels",
                "{c}/labels/one_class.csv",
                "--label",
                "y",
                "-o",
                "{o}",
            ],
            &["one_class.csv", "'y'"],
        ),
        bad(
            "labels one row",
            &[
                "labels",
                "{c}/labels/one_row.csv",
                "--label",
                "y",
                "-o",
                "{o}",
            ],
            &["one_row.csv"],
        ),
        bad(
            "labels all null",
            &[
                "labels",
                "{c}/labels/all_null_labels.csv",
                "--label",
                "y",
                "-o",
                "{o}",
            ],
            &["all_null_labels.csv", "'y'"],
        ),
        bad(
            "labels float column as the label",
            &[
                "labels",
                "{c}/labels/float_label.csv",
                "--label",
                "y",
                "-o",
                "{o}",
            ],
            &["float_label.csv", "'y'"],
        ),
        bad(
            "labels missing label column",
            &[
                "labels",
                "{c}/labels/data.csv",
                "--label",
                "nope",
                "-o",
                "{o}",
            ],
            &["data.csv", "nope"],
        ),
        bad(
            "labels probabilities with the wrong row count",
            &[
                "labels",
                "{c}/labels/data.csv",
                "--label",
                "y",
                "--pred-probs",
                "{c}/labels/probs_wrong_rows.csv",
                "-o",
                "{o}",
            ],
            &["probs_wrong_rows.csv", "39"],
        ),
        bad(
            "labels probabilities with NaN",
            &[
                "labels",
                "{c}/labels/data.csv",
                "--label",
                "y",
                "--pred-probs",
                "{c}/labels/probs_nan.csv",
                "-o",
                "{o}",
            ],
            &["probs_nan.csv", "row 10"],
        ),
        bad(
            "labels negative probabilities",
            &[
                "labels",
                "{c}/labels/data.csv",
                "--label",
                "y",
                "--pred-probs",
                "{c}/labels/probs_negative.csv",
                "-o",
                "{o}",
            ],
            &["probs_negative.csv", "row 10"],
        ),
        bad(
            "labels probabilities not summing to one",
            &[
                "labels",
                "{c}/labels/data.csv",
                "--label",
                "y",
                "--pred-probs",
                "{c}/labels/probs_unnormalised.csv",
                "-o",
                "{o}",
            ],
            &["probs_unnormalised.csv", "row 10"],
        ),
        // ---- stored profiles ----
        bad(
            "merge a truncated profile",
            &["merge", "{c}/gen/truncated.profile.json", "-o", "{o}"],
            &["truncated.profile.json"],
        ),
        bad(
            "merge a validate report",
            &["merge", "{c}/gen/validate_report.json", "-o", "{o}"],
            &["validate_report.json", "report of `preflight validate`"],
        ),
        bad(
            "drift on a validate report",
            &[
                "drift",
                "{c}/gen/validate_report.json",
                PENGUINS,
                "-o",
                "{o}",
            ],
            &["validate_report.json", "report of `preflight validate`"],
        ),
        bad(
            "merge an inconsistent profile",
            &["merge", "{c}/gen/inconsistent.profile.json", "-o", "{o}"],
            &["inconsistent.profile.json", "missing"],
        ),
        bad(
            "merge counts that overflow",
            &[
                "merge",
                "{c}/gen/huge.profile.json",
                "{c}/gen/huge.profile.json",
                "-o",
                "{o}",
            ],
            &["huge.profile.json"],
        ),
        bad(
            "merge a profile of a newer version",
            &["merge", "{c}/gen/future.profile.json", "-o", "{o}"],
            &["future.profile.json", "version"],
        ),
        // ---- outputs and arguments ----
        bad(
            "-o naming the input",
            &[
                "profile",
                "{c}/gen/self.csv",
                "--format",
                "json",
                "-o",
                "{c}/gen/self.csv",
            ],
            &["self.csv"],
        ),
        bad(
            "report -o naming the input",
            &["report", "{c}/gen/self.csv", "-o", "{c}/gen/./self.csv"],
            &["self.csv"],
        ),
        bad(
            "validate -o naming its schema",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/gen/self.schema.yaml",
                "-o",
                "{c}/gen/self.schema.yaml",
            ],
            &["self.schema.yaml"],
        ),
        bad(
            "-o into a missing directory",
            &["profile", "{c}/csv/crlf.csv", "-o", "{o}/nope/out.json"],
            &["nope"],
        ),
        bad(
            "--format xml",
            &[
                "validate",
                PENGUINS,
                "--schema",
                "{c}/gen/abc.schema.yaml",
                "--format",
                "xml",
            ],
            &["xml"],
        ),
        bad("unknown subcommand", &["profiel", PENGUINS], &["profiel"]),
        bad(
            "skew without --key",
            &["skew", PENGUINS, PENGUINS],
            &["--key"],
        ),
        bad(
            "skew --max-mismatch-rate -1",
            &[
                "skew",
                PENGUINS,
                PENGUINS,
                "--key",
                "rowid",
                "--max-mismatch-rate",
                "-1",
            ],
            &["max-mismatch-rate"],
        ),
        ok(
            "skew that matches no rows fails",
            &[
                "skew",
                "{c}/gen/dup_keys.csv",
                "{c}/gen/dup_keys.csv",
                "--key",
                "k",
                "--format",
                "json",
            ],
            1,
        ),
    ]
}

/// Files too large or too odd to commit, written into the corpus copy before the runs.
fn generate(c: &Path) {
    let g = c.join("gen");
    fs::create_dir_all(&g).unwrap();
    // A 10 MB cell, then a ragged row on line 3: the reader must get past the cell.
    let mut big = String::from("a,b\n1,");
    big.push_str(&"x".repeat(10 << 20));
    big.push_str("\n2\n");
    fs::write(g.join("big_cell.csv"), big).unwrap();
    // 100,000 columns, two rows.
    let n = 100_000;
    let header: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let row: Vec<String> = (0..n).map(|i| (i % 7).to_string()).collect();
    fs::write(
        g.join("wide_header.csv"),
        format!(
            "{}\n{}\n{}\n",
            header.join(","),
            row.join(","),
            row.join(",")
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(g.join("loop.csv"), g.join("loop2.csv")).unwrap();
        std::os::unix::fs::symlink(g.join("loop2.csv"), g.join("loop.csv")).unwrap();
    }
    // 100,000 nested flow sequences.
    fs::write(
        g.join("deep.yaml"),
        format!(
            "version: 1\nfeatures: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    )
    .unwrap();
    fs::write(
        g.join("abc.schema.yaml"),
        "version: 1\nfeatures:\n  - name: a\n    type: string\n  - name: b\n    type: string\n  - name: c\n    type: string\n",
    )
    .unwrap();
    // Victims of the cases that would overwrite an input: their own copies, so that a
    // failure does not spread to the other cases.
    fs::copy(c.join("penguins.csv"), g.join("victim.csv")).unwrap();
    fs::copy(c.join("csv/crlf.csv"), g.join("self.csv")).unwrap();
    fs::copy(g.join("abc.schema.yaml"), g.join("self.schema.yaml")).unwrap();
    // Every key twice: a skew by key matches no row.
    fs::write(g.join("dup_keys.csv"), "k,v\n1,a\n1,b\n2,c\n2,d\n").unwrap();
    // SQL check that would overwrite the data it validates.
    let copy = c.join("schema/sql_copy.yaml");
    let text = fs::read_to_string(&copy).unwrap();
    fs::write(
        &copy,
        text.replace("DATA_PATH", g.join("victim.csv").to_str().unwrap()),
    )
    .unwrap();
    // Stored profiles: a real one, then broken variants of it.
    let valid = g.join("penguins.profile.json");
    let r = common::run(&[
        "profile",
        c.join("penguins.csv").to_str().unwrap(),
        "--format",
        "json",
        "-o",
        valid.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "profiling penguins: {}", r.stderr);
    let text = fs::read_to_string(&valid).unwrap();
    fs::write(g.join("truncated.profile.json"), &text[..text.len() / 2]).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut bad = doc.clone();
    // Summaries are re-derived from the stored state, so the state is what is broken.
    bad["columns"][0]["state"]["missing"] = serde_json::json!(20_000);
    fs::write(g.join("inconsistent.profile.json"), bad.to_string()).unwrap();
    let mut huge = doc.clone();
    let near_max = u64::MAX / 2 + 1;
    huge["row_count"] = serde_json::json!(near_max);
    for col in huge["columns"].as_array_mut().unwrap() {
        // A consistent state (missing rows make up the difference) whose double overflows.
        let present = col["state"]["count"].as_u64().unwrap();
        col["state"]["missing"] = serde_json::json!(near_max - present);
    }
    fs::write(g.join("huge.profile.json"), huge.to_string()).unwrap();
    let mut future = doc.clone();
    future["version"] = serde_json::json!(999);
    fs::write(g.join("future.profile.json"), future.to_string()).unwrap();
    let r = common::run(&[
        "validate",
        c.join("penguins.csv").to_str().unwrap(),
        "--schema",
        g.join("abc.schema.yaml").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "validate penguins against abc: {}", r.stderr);
    fs::write(g.join("validate_report.json"), r.stdout).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Every regular file below `dir` with its contents' hash (symlinks are not followed).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, u64> {
    use std::hash::{Hash, Hasher};
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                fs::read(e.path()).unwrap().hash(&mut h);
                out.insert(e.path(), h.finish());
            } else {
                out.insert(e.path(), 0);
            }
        }
    }
    out
}

/// Characters that must never reach a terminal raw.
fn raw_escape(s: &str) -> Option<char> {
    s.chars().find(|&ch| {
        (ch.is_control() && ch != '\n' && ch != '\t')
            || matches!(ch, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
    })
}

/// Whether `text` contains `frag`; a fragment in single quotes (`'y'`) names a column or
/// check and may be quoted in any of the usual ways ('y', "y", `y`).
fn mentions(text: &str, frag: &str) -> bool {
    match frag.strip_prefix('\'').and_then(|f| f.strip_suffix('\'')) {
        Some(name) => ['\'', '"', '`']
            .iter()
            .any(|q| text.contains(&format!("{q}{name}{q}"))),
        None => text.contains(frag),
    }
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

const TIME_LIMIT: Duration = Duration::from_secs(120);
/// Address-space limit of each run (KiB): far below what the unbounded cases reached
/// (2 GB for a 108-byte Arrow file, 16 GB for a million partitions).
const MEMORY_LIMIT_KIB: u64 = 6 << 20;

fn execute(args: &[String], cwd: &Path) -> Outcome {
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_preflight"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break -9;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        code,
        stdout: String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned(),
        elapsed: start.elapsed(),
    }
}

fn check(case: &Case, corpus: &Path, scratch: &Path) -> Vec<String> {
    let out_dir = scratch.join(format!("out-{}", case.name.replace([' ', '/', ','], "_")));
    fs::create_dir_all(&out_dir).unwrap();
    let o = out_dir.join("out");
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| {
            a.replace("{c}", corpus.to_str().unwrap())
                .replace("{o}", o.to_str().unwrap())
        })
        .collect();
    let before = snapshot(corpus);
    let r = execute(&args, scratch);
    let mut failures = Vec::new();
    let mut fail = |what: String| failures.push(format!("[{}] {what}", case.name));
    if r.code == -9 {
        fail(format!("did not finish within {TIME_LIMIT:?}"));
        return failures;
    }
    if r.code != case.code {
        fail(format!(
            "exit {} (expected {}); stderr: {}",
            r.code,
            case.code,
            r.stderr.trim_end()
        ));
    }
    if r.stderr.contains("panicked") || r.stderr.contains("internal error") {
        fail(format!("panic: {}", r.stderr.trim_end()));
    }
    for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        if let Some(ch) = raw_escape(text) {
            fail(format!("raw {ch:?} on {stream}"));
        }
    }
    if case.code == 2 {
        let lines: Vec<&str> = r.stderr.lines().collect();
        if lines.len() != 1 || !lines[0].starts_with("error: ") {
            fail(format!("stderr is not one `error:` line: {:?}", r.stderr));
        }
        let lower = r.stderr.to_lowercase();
        for frag in case.error_has {
            if !mentions(&lower, &frag.to_lowercase()) {
                fail(format!(
                    "error does not mention {frag:?}: {}",
                    r.stderr.trim_end()
                ));
            }
        }
        let left: Vec<_> = fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        if !left.is_empty() {
            fail(format!("output left behind after exit 2: {left:?}"));
        }
    } else {
        for frag in case.stdout_has {
            if !r.stdout.contains(frag) {
                fail(format!("stdout lacks {frag:?}"));
            }
        }
    }
    let mut outputs = vec![r.stdout.clone()];
    for e in fs::read_dir(&out_dir).unwrap() {
        outputs.push(String::from_utf8_lossy(&fs::read(e.unwrap().path()).unwrap()).into_owned());
    }
    for frag in case.output_lacks {
        if outputs.iter().any(|o| o.contains(frag)) {
            fail(format!("output contains {frag:?}"));
        }
    }
    let after = snapshot(corpus);
    if before != after {
        let changed: Vec<_> = before
            .iter()
            .filter(|(k, v)| after.get(*k) != Some(v))
            .map(|(k, _)| k.clone())
            .chain(after.keys().filter(|k| !before.contains_key(*k)).cloned())
            .collect();
        fail(format!("inputs changed: {changed:?}"));
    }
    let _ = r.elapsed;
    failures
}

#[test]
fn every_bad_input_gets_its_documented_outcome() {
    let tmp = tempfile::TempDir::new().unwrap();
    let corpus = tmp.path().join("corpus");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs/files"),
        &corpus,
    );
    fs::copy(fixture("penguins.csv"), corpus.join("penguins.csv")).unwrap();
    generate(&corpus);
    let scratch = tmp.path().join("scratch");
    fs::create_dir_all(&scratch).unwrap();
    let cases = cases();
    assert!(cases.len() >= 60, "the corpus has {} cases", cases.len());
    // Two runs at a time (the machines have two cores).
    let failures: Vec<String> = std::thread::scope(|s| {
        let (a, b): (Vec<_>, Vec<_>) = cases.iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let handles: Vec<_> = [a, b]
            .into_iter()
            .map(|half| {
                let (corpus, scratch) = (&corpus, &scratch);
                s.spawn(move || {
                    half.into_iter()
                        .flat_map(|(_, c)| check(c, corpus, scratch))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
