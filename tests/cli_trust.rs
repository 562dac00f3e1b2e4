//! End-to-end: the binary's plumbing on hostile and careless use (issue 12): a closed
//! pipe, output files (modes, symlinks, an output naming an input, unwritable places),
//! control characters from the data on the terminal, values whose blanks are invisible,
//! one-line usage errors, and misleading messages about stored profiles and reports.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{bin, fixture, run};
use tempfile::TempDir;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A CSV of `cols` numeric and string columns and `rows` rows.
fn wide_csv(dir: &Path, name: &str, cols: usize, rows: usize) -> PathBuf {
    let mut text = (0..cols)
        .map(|c| format!("c{c}"))
        .collect::<Vec<_>>()
        .join(",");
    text.push('\n');
    for r in 0..rows {
        let row: Vec<String> = (0..cols)
            .map(|c| {
                if c % 2 == 0 {
                    format!("{}", (r * 7 + c * 13) % 101)
                } else {
                    format!("v{}", (r + c) % 17)
                }
            })
            .collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

/// Run with stdout a pipe whose reader reads a few bytes and closes it, as `| head -c 100`
/// does. Returns (exit code, stderr).
fn run_into_closed_pipe(args: &[&str]) -> (i32, String) {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 100];
    out.read_exact(&mut buf).unwrap();
    drop(out);
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// stderr is exactly one line.
fn assert_one_line(stderr: &str, what: &str) {
    assert_eq!(
        stderr.trim_end_matches('\n').lines().count(),
        1,
        "{what}: stderr is not one line:\n{stderr}"
    );
    assert!(stderr.starts_with("error: "), "{what}: {stderr}");
}

// ---- item 18: usage errors -----------------------------------------------------------

#[test]
fn usage_errors_are_one_line_with_a_hint() {
    let penguins = fixture("penguins.csv");
    let p = s(&penguins);
    let r = run(&["validate", p, "--schema", "s.yaml", "--format", "xml"]);
    assert_eq!(r.code, 2);
    assert_one_line(&r.stderr, "--format xml");
    assert!(r.stderr.contains("invalid value 'xml'"), "{}", r.stderr);
    assert!(
        r.stderr.contains("possible values: table, json"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("'preflight validate --help'"),
        "{}",
        r.stderr
    );

    let r = run(&["frobnicate", p]);
    assert_eq!(r.code, 2);
    assert_one_line(&r.stderr, "unknown subcommand");
    assert!(r.stderr.contains("frobnicate"), "{}", r.stderr);

    let r = run(&["skew", p, p]);
    assert_eq!(r.code, 2);
    assert_one_line(&r.stderr, "missing --key");
    assert!(r.stderr.contains("--key"), "{}", r.stderr);
    assert!(r.stderr.contains("'preflight skew --help'"), "{}", r.stderr);
}

#[test]
fn help_and_version_are_unchanged() {
    let r = run(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.lines().count() > 5 && r.stdout.contains("Usage:"));
    let r = run(&["validate", "--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Examples:"));
    let r = run(&["--version"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("preflight "));
}

#[test]
fn negative_number_is_a_value_out_of_range_not_a_flag() {
    let penguins = fixture("penguins.csv");
    let p = s(&penguins);
    let r = run(&[
        "skew",
        p,
        p,
        "--key",
        "species",
        "--max-mismatch-rate",
        "-1",
    ]);
    assert_eq!(r.code, 2);
    assert_one_line(&r.stderr, "--max-mismatch-rate -1");
    assert!(
        r.stderr
            .contains("--max-mismatch-rate must be in [0, 1], got -1"),
        "{}",
        r.stderr
    );
    // An unsigned count: clap's own parser, with a range message.
    let r = run(&["labels", p, "--label", "species", "--folds", "-3"]);
    assert_eq!(r.code, 2);
    assert_one_line(&r.stderr, "--folds -3");
    assert!(r.stderr.contains("must not be negative"), "{}", r.stderr);
}

#[test]
fn datafusion_error_chain_is_one_line() {
    let d = TempDir::new().unwrap();
    let data = d.path().join("d.csv");
    fs::write(&data, "a,b\n1,2\n3,4\n").unwrap();
    let schema = d.path().join("s.yaml");
    // DataFusion's message: "Optimizer rule ... failed\ncaused by\nArrow error: Cast error".
    fs::write(
        &schema,
        "version: 1\nfeatures:\n  - name: a\n    type: int64\n  - name: b\n    type: int64\n\
         checks:\n  - name: c1\n    sql: SELECT count(*) FROM data WHERE a = 'x'\n",
    )
    .unwrap();
    let r = run(&["validate", s(&data), "--schema", s(&schema)]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    if r.code == 2 {
        assert_one_line(&r.stderr, "DataFusion caused-by chain");
        assert!(r.stderr.contains("Cannot cast string 'x'"), "{}", r.stderr);
    }
}

// ---- item 2: broken pipe -------------------------------------------------------------

#[test]
fn broken_pipe_exits_quietly() {
    let d = TempDir::new().unwrap();
    let wide = wide_csv(d.path(), "wide.csv", 300, 50);
    let w = s(&wide);
    let (code, stderr) = run_into_closed_pipe(&["profile", w, "--format", "json"]);
    assert_eq!(
        (code, stderr.as_str()),
        (0, ""),
        "profile --format json | head"
    );
    let (code, stderr) = run_into_closed_pipe(&["profile", w]);
    assert_eq!((code, stderr.as_str()), (0, ""), "profile | head");

    let prof = d.path().join("wide.profile.json");
    let r = run(&["profile", w, "-o", s(&prof)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (code, stderr) = run_into_closed_pipe(&["merge", s(&prof), s(&prof)]);
    assert_eq!((code, stderr.as_str()), (0, ""), "merge | head");
    let (code, stderr) = run_into_closed_pipe(&["drift", w, w, "--format", "json"]);
    assert_eq!((code, stderr.as_str()), (0, ""), "drift | head");
}

#[test]
fn broken_pipe_keeps_a_failed_checks_exit_code() {
    let d = TempDir::new().unwrap();
    let wide = wide_csv(d.path(), "wide.csv", 300, 50);
    let schema = d.path().join("wide.schema.yaml");
    let r = run(&["infer", s(&wide), "-o", s(&schema)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Other column names: 300 missing columns, an output far beyond a pipe's buffer.
    let text = fs::read_to_string(&wide).unwrap().replacen('c', "x", 300);
    let other = d.path().join("other.csv");
    fs::write(&other, text).unwrap();
    for format in ["json", "table", "markdown"] {
        let (code, stderr) = run_into_closed_pipe(&[
            "validate",
            s(&other),
            "--schema",
            s(&schema),
            "--format",
            format,
        ]);
        assert_eq!(
            (code, stderr.as_str()),
            (1, ""),
            "validate --format {format} | head: the verdict is kept"
        );
    }
}

// ---- item 15: terminal escape injection ------------------------------------------------

const ESC: char = '\u{1b}';
const RLO: char = '\u{202e}';

fn assert_no_raw_controls(text: &str, what: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| {
            (c.is_control() && *c != '\n')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
        })
        .collect();
    assert!(bad.is_empty(), "{what}: raw {bad:?} in output:\n{text}");
}

/// A CSV with an escape sequence and a bidi override in its header and cells.
fn hostile_csv(dir: &Path) -> PathBuf {
    let p = dir.join("hostile.csv");
    let text = format!(
        "id,\"red{ESC}[31mname\",\"x{RLO}gnp.exe\"\n\
         1,{ESC}]8;;http://evil{ESC}\\,a{RLO}b\n\
         2,{ESC}[2J,plain\n\
         3,ok,\"two\nlines\"\n"
    );
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn escape_sequences_from_the_data_never_reach_the_terminal() {
    let d = TempDir::new().unwrap();
    let csv = hostile_csv(d.path());
    let c = s(&csv);
    let r = run(&["profile", c]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_no_raw_controls(&r.stdout, "profile table");
    assert!(r.stdout.contains("red\\u{1b}[31mname"), "{}", r.stdout);
    assert!(r.stdout.contains("x\\u{202e}gnp.exe"), "{}", r.stdout);

    // JSON keeps the raw names (JSON escapes what it must).
    let r = run(&["profile", c, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["columns"][1]["name"], format!("red{ESC}[31mname"));

    let r = run(&["drift", c, c]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_no_raw_controls(&r.stdout, "drift table");
    let r = run(&["skew", c, c, "--key", "id"]);
    assert_no_raw_controls(&r.stdout, "skew table");
    assert_no_raw_controls(&r.stderr, "skew stderr");

    // validate: the missing columns' anomaly messages name them.
    let schema = d.path().join("s.yaml");
    let r = run(&["infer", c, "-o", s(&schema)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let plain = d.path().join("plain.csv");
    fs::write(&plain, "id\n1\n2\n").unwrap();
    for format in ["table", "github", "markdown"] {
        let r = run(&[
            "validate",
            s(&plain),
            "--schema",
            s(&schema),
            "--format",
            format,
        ]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_no_raw_controls(&r.stdout, &format!("validate --format {format}"));
    }
    let r = run(&["labels", c, "--label", "id"]);
    assert_no_raw_controls(&r.stdout, "labels table");
    assert_no_raw_controls(&r.stderr, "labels stderr");
}

#[test]
fn error_naming_a_hostile_column_is_one_escaped_line() {
    let d = TempDir::new().unwrap();
    let csv = hostile_csv(d.path());
    // The error lists the columns: one has an escape sequence, one a bidi override.
    let r = run(&["labels", s(&csv), "--label", "nosuch"]);
    assert_eq!(r.code, 2);
    assert_one_line(&r.stderr, "labels --label nosuch");
    assert_no_raw_controls(&r.stderr, "error line");
    assert!(r.stderr.contains("\\u{1b}"), "{}", r.stderr);

    // A newline in a column name stays on the line, visible.
    let nl = d.path().join("nl.csv");
    fs::write(&nl, "\"first\nsecond\",b\n1,2\n").unwrap();
    let r = run(&["labels", s(&nl), "--label", "nosuch"]);
    assert_eq!(r.code, 2);
    assert_one_line(&r.stderr, "newline in a column name");
    assert!(r.stderr.contains("first\\nsecond"), "{}", r.stderr);
}

// ---- item 7: invisible whitespace ----------------------------------------------------

#[test]
fn values_with_trailing_blanks_are_visible() {
    let d = TempDir::new().unwrap();
    let csv = d.path().join("islands.csv");
    let mut text = String::from("island,n\n");
    for i in 0..30 {
        // The most frequent value has a trailing blank.
        text.push_str(if i % 3 == 0 {
            "Biscoe,1\n"
        } else {
            "Biscoe ,1\n"
        });
    }
    fs::write(&csv, text).unwrap();
    let r = run(&["profile", s(&csv)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\"Biscoe \" (20)"), "{}", r.stdout);

    // HTML: the top-values bars of the two values differ.
    let html = d.path().join("r.html");
    let r = run(&["report", s(&csv), "-o", s(&html)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("&quot;Biscoe &quot;"),
        "no quoted value in the HTML"
    );

    // validate: the unexpected value in the anomaly message.
    let schema = d.path().join("s.yaml");
    fs::write(
        &schema,
        "version: 1\nfeatures:\n  - name: island\n    type: string\n    domain: {values: [Biscoe]}\n  - name: n\n    type: int64\n",
    )
    .unwrap();
    let r = run(&[
        "validate",
        s(&csv),
        "--schema",
        s(&schema),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let msg = v["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "out_of_domain")
        .map(|a| a["message"].as_str().unwrap().to_string())
        .unwrap();
    assert!(msg.contains("\"Biscoe \""), "{msg}");
}

// ---- item 9, 19: stored profiles and reports where they do not belong -----------------

#[test]
fn stored_profile_given_as_data_is_named() {
    let d = TempDir::new().unwrap();
    let penguins = fixture("penguins.csv");
    let prof = d.path().join("p.profile.json");
    let r = run(&["profile", s(&penguins), "-o", s(&prof)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let schema = d.path().join("s.yaml");
    let r = run(&["infer", s(&penguins), "-o", s(&schema)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&["validate", s(&prof), "--schema", s(&schema)]);
    assert_eq!(r.code, 2);
    assert_one_line(&r.stderr, "validate x.profile.json");
    assert!(r.stderr.contains("is a stored profile"), "{}", r.stderr);
    assert!(r.stderr.contains("--baseline"), "{}", r.stderr);
    assert!(!r.stderr.contains("Not valid JSON"), "{}", r.stderr);

    // A report where data or a profile is expected.
    let report = d.path().join("validate_out.json");
    let r = run(&[
        "validate",
        s(&penguins),
        "--schema",
        s(&schema),
        "-o",
        s(&report),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&["drift", s(&report), s(&penguins)]);
    assert_eq!(r.code, 2);
    assert_one_line(&r.stderr, "drift validate_out.json");
    assert!(
        r.stderr
            .contains("validate_out.json: is the JSON report of `preflight validate`"),
        "{}",
        r.stderr
    );

    let r = run(&["merge", s(&report), s(&prof)]);
    assert_eq!(r.code, 2);
    assert_one_line(&r.stderr, "merge validate_out.json");
    assert!(
        r.stderr.contains("report of `preflight validate`"),
        "{}",
        r.stderr
    );

    // A stored profile under another name is still a profile (by its content).
    let renamed = d.path().join("baseline.json");
    fs::copy(&prof, &renamed).unwrap();
    let r = run(&["drift", s(&renamed), s(&penguins), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["reference"]["source"], "profile");
}

// ---- item 3: output files ------------------------------------------------------------

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Run the binary under `sh` with a umask.
#[cfg(unix)]
fn run_with_umask(umask: &str, args: &[&str]) -> i32 {
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_preflight"))
        .args(args)
        .status()
        .unwrap();
    status.code().unwrap_or(-1)
}

#[cfg(unix)]
#[test]
fn output_files_honour_the_umask_keep_modes_and_follow_symlinks() {
    use std::os::unix::fs::PermissionsExt;
    let d = TempDir::new().unwrap();
    let penguins = fixture("penguins.csv");
    let p = s(&penguins);
    let out = d.path().join("new.json");
    assert_eq!(run_with_umask("022", &["profile", p, "-o", s(&out)]), 0);
    assert_eq!(mode(&out), 0o644, "a new file gets 0666 less the umask");
    let out2 = d.path().join("new2.html");
    assert_eq!(run_with_umask("027", &["report", p, "-o", s(&out2)]), 0);
    assert_eq!(mode(&out2), 0o640);

    // Overwriting keeps the existing file's mode.
    fs::set_permissions(&out, fs::Permissions::from_mode(0o664)).unwrap();
    assert_eq!(run_with_umask("077", &["profile", p, "-o", s(&out)]), 0);
    assert_eq!(mode(&out), 0o664, "overwriting keeps the mode");

    // A symlink is written through: the link stays, its target gets the output.
    let target = d.path().join("target.html");
    fs::write(&target, "old").unwrap();
    let link = d.path().join("link.html");
    std::os::unix::fs::symlink("target.html", &link).unwrap();
    let r = run(&["report", p, "-o", s(&link)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::read_to_string(&target)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
    // No temporary file is left beside it.
    let names: Vec<String> = fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains("tmp")),
        "leftover temporary files: {names:?}"
    );
}

#[test]
fn temporary_files_of_killed_runs_are_named_after_the_output_and_cleaned() {
    let d = TempDir::new().unwrap();
    let out = d.path().join("out.json");
    // What a run killed while writing left: old, and one of a run writing now.
    let stale = d.path().join(".out.json.preflight-tmp-AbC123");
    let fresh = d.path().join(".out.json.preflight-tmp-XyZ789");
    let other = d.path().join(".other.json.preflight-tmp-Old000");
    for p in [&stale, &fresh, &other] {
        fs::write(p, "partial").unwrap();
    }
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for p in [&stale, &other] {
        fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }
    let r = run(&["profile", s(&fixture("penguins.csv")), "-o", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !stale.exists(),
        "a stale temporary file of the output is removed"
    );
    assert!(
        fresh.exists(),
        "a recent one may be another run's and is kept"
    );
    assert!(
        other.exists(),
        "another output's temporary file is not touched"
    );
}

#[test]
fn output_naming_an_input_is_refused_before_any_work() {
    let d = TempDir::new().unwrap();
    let data = d.path().join("self.csv");
    fs::copy(fixture("penguins.csv"), &data).unwrap();
    let before = fs::read(&data).unwrap();
    let x = s(&data);
    let refused = |args: &[&str], what: &str| {
        let r = run(args);
        assert_eq!(r.code, 2, "{what}: {}", r.stderr);
        assert_one_line(&r.stderr, what);
        assert!(
            r.stderr.contains("is an input of this run"),
            "{what}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{what}: {}", r.stdout);
    };
    refused(
        &["profile", x, "--format", "json", "-o", x],
        "profile -o self",
    );
    refused(&["report", x, "-o", x], "report -o self");
    // Through another path to the same file.
    let dotted = format!("{}/./self.csv", s(d.path()));
    refused(&["profile", x, "-o", &dotted], "profile -o ./self");
    #[cfg(unix)]
    {
        let hard = d.path().join("hard.csv");
        fs::hard_link(&data, &hard).unwrap();
        refused(&["profile", x, "-o", s(&hard)], "profile -o hard link");
        let link = d.path().join("link.csv");
        std::os::unix::fs::symlink(&data, &link).unwrap();
        refused(&["profile", x, "-o", s(&link)], "profile -o symlink");
    }
    assert_eq!(fs::read(&data).unwrap(), before, "the input is unchanged");

    // validate -o onto its schema.
    let schema = d.path().join("s.yaml");
    assert_eq!(run(&["infer", x, "-o", s(&schema)]).code, 0);
    let schema_before = fs::read(&schema).unwrap();
    refused(
        &["validate", x, "--schema", s(&schema), "-o", s(&schema)],
        "validate -o schema",
    );
    refused(
        &["validate", x, "--schema", s(&schema), "--html", s(&schema)],
        "validate --html schema",
    );
    assert_eq!(fs::read(&schema).unwrap(), schema_before);

    // An output the input directory or glob would read.
    let dir = d.path().join("parts");
    fs::create_dir(&dir).unwrap();
    fs::copy(fixture("penguins.csv"), dir.join("a.csv")).unwrap();
    let inside = dir.join("profile.json");
    refused(
        &["profile", s(&dir), "-o", s(&inside)],
        "profile dir/ -o dir/x",
    );
    let glob = format!("{}/*.csv", s(&dir));
    refused(
        &["profile", &glob, "-o", s(&dir.join("a.csv"))],
        "profile dir/*.csv -o dir/a.csv",
    );
    // Hidden and `_` files are not read: allowed.
    let hidden = dir.join("_profile.json");
    let r = run(&["profile", s(&dir), "-o", s(&hidden)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn unwritable_output_fails_before_the_report_is_printed() {
    let penguins = fixture("penguins.csv");
    let p = s(&penguins);
    let d = TempDir::new().unwrap();
    let schema = d.path().join("s.yaml");
    assert_eq!(run(&["infer", p, "-o", s(&schema)]).code, 0);
    // A directory that takes no new file: read-only for a user; /proc even for root.
    let ro = d.path().join("ro");
    fs::create_dir(&ro).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    }
    let mut places = vec![];
    if fs::write(ro.join("probe"), "x").is_err() {
        places.push(ro.join("report.html"));
    }
    if Path::new("/proc").is_dir() && fs::write("/proc/preflight-probe", "x").is_err() {
        places.push(PathBuf::from("/proc/preflight-report.html"));
    }
    assert!(!places.is_empty(), "no unwritable directory to test with");
    for html in places {
        let r = run(&["validate", p, "--schema", s(&schema), "--html", s(&html)]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stdout.is_empty(), "printed before failing: {}", r.stdout);
        assert_one_line(&r.stderr, "unwritable directory");
        assert!(r.stderr.contains(s(&html)), "{}", r.stderr);
    }
}

#[cfg(target_os = "linux")]
#[test]
fn full_device_is_named() {
    let penguins = fixture("penguins.csv");
    let r = run(&[
        "profile",
        s(&penguins),
        "--format",
        "json",
        "-o",
        "/dev/full",
    ]);
    assert_eq!(r.code, 2);
    assert_one_line(&r.stderr, "-o /dev/full");
    assert!(r.stderr.contains("/dev/full"), "{}", r.stderr);
}
