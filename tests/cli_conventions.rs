//! The CLI conventions users expect (issue 16): completions and man pages, `-o -`, the
//! output format from `-o`'s extension, `report`'s default file, `-q`/`-v` and colour.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::Path;
use std::process::Command;

use common::{bin, fixture, run};
use tempfile::TempDir;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A schema inferred from penguins, and a copy of penguins with a column the schema does
/// not know (a failed `new_column`... as a warning) and `bill_length_mm` gone (an error).
fn penguins_case(d: &Path) -> (String, String) {
    let schema = d.join("s.yaml");
    let r = run(&["infer", s(&fixture("penguins.csv")), "-o", s(&schema)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(fixture("penguins.csv")).unwrap();
    let broken: String = text
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(2);
            cells.join(",") + "\n"
        })
        .collect();
    let data = d.join("broken.csv");
    std::fs::write(&data, broken).unwrap();
    (s(&schema).to_string(), s(&data).to_string())
}

#[test]
fn completions_for_every_shell_and_bash_accepts_its_script() {
    for (shell, marker) in [
        ("bash", "_preflight()"),
        ("zsh", "#compdef preflight"),
        ("fish", "complete -c preflight"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains(marker), "{shell}: no {marker}");
        for word in ["validate", "drift", "fail-on"] {
            assert!(r.stdout.contains(word), "{shell} completes {word}");
        }
        // Flag values too, where the shell's script lists them.
        if shell != "powershell" {
            assert!(r.stdout.contains("prune_by_noise_rate"), "{shell}");
        }
    }
    let d = TempDir::new().unwrap();
    let script = d.path().join("preflight.bash");
    std::fs::write(&script, run(&["completions", "bash"]).stdout).unwrap();
    let ok = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(ok.success(), "bash -n rejects the completion script");
    let r = run(&["completions", "tcsh"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn man_pages_for_the_tool_and_each_command() {
    let r = run(&["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(".TH preflight 1"), "{}", &r.stdout[..200]);
    assert!(r.stdout.contains("validate"));
    let d = TempDir::new().unwrap();
    let dir = d.path().join("man1");
    let r = run(&["man", "--dir", s(&dir)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for cmd in [
        "profile", "merge", "infer", "validate", "drift", "skew", "labels", "report",
    ] {
        let page = std::fs::read_to_string(dir.join(format!("preflight-{cmd}.1")))
            .unwrap_or_else(|e| panic!("preflight-{cmd}.1: {e}"));
        assert!(page.contains(&format!(".TH preflight-{cmd} 1")), "{cmd}");
    }
    let validate = std::fs::read_to_string(dir.join("preflight-validate.1")).unwrap();
    assert!(
        validate.contains("fail\\-on"),
        "the options are on the page"
    );
    // man itself renders the page, where it is installed.
    if Path::new("/usr/bin/man").exists() {
        let out = Command::new("man")
            .args(["-l", s(&dir.join("preflight-validate.1"))])
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if out.status.success() {
            assert!(text.contains("--fail-on"), "{text}");
        }
    }
}

#[test]
fn the_output_file_extension_picks_the_format() {
    let d = TempDir::new().unwrap();
    let (schema, data) = penguins_case(d.path());
    let out = |name: &str| d.path().join(name);
    let validate = |extra: &[&str]| {
        let mut a = vec!["validate", data.as_str(), "--schema", schema.as_str()];
        a.extend_from_slice(extra);
        run(&a)
    };
    let r = validate(&["-o", s(&out("v.md"))]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let md = std::fs::read_to_string(out("v.md")).unwrap();
    assert!(md.starts_with('#') && md.contains('|'), "Markdown: {md}");
    assert!(!md.trim_start().starts_with('{'));

    let r = validate(&["-o", s(&out("v.xml"))]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let xml = std::fs::read_to_string(out("v.xml")).unwrap();
    assert!(
        xml.starts_with("<?xml") && xml.contains("<testsuite"),
        "{xml}"
    );

    let r = validate(&["-o", s(&out("v.json"))]);
    assert_eq!(r.code, 1);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out("v.json")).unwrap()).unwrap();
    assert_eq!(json["passed"], false);

    // An extension the format does not name keeps today's default: JSON in a file.
    let r = validate(&["-o", s(&out("v.out"))]);
    assert_eq!(r.code, 1);
    assert!(
        std::fs::read_to_string(out("v.out"))
            .unwrap()
            .starts_with('{')
    );

    // --format wins where the extension does not say otherwise, and may not contradict it.
    let r = validate(&["--format", "junit", "-o", s(&out("v.report"))]);
    assert_eq!(r.code, 1);
    let r = validate(&["--format", "json", "-o", s(&out("x.md"))]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("--format json contradicts -o") && r.stderr.contains("markdown"),
        "{}",
        r.stderr
    );
    assert!(!out("x.md").exists(), "nothing written on exit 2");

    // -o page.html is the HTML report, as --html; the table still goes to stdout.
    let r = validate(&["-o", s(&out("v.html"))]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let page = std::fs::read_to_string(out("v.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..100]);
    assert!(r.stdout.contains("failed"), "{}", r.stdout);
    let r = validate(&["-o", s(&out("w.html")), "--html", s(&out("w2.html"))]);
    assert_eq!(r.code, 2, "{}", r.stderr);

    // A command that cannot write what the extension names says so.
    let r = run(&[
        "profile",
        s(&fixture("penguins.csv")),
        "-o",
        s(&out("p.md")),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("`preflight profile` cannot write Markdown (.md)")
            && r.stderr.contains("table, json"),
        "{}",
        r.stderr
    );
    assert!(!out("p.md").exists());
}

#[test]
fn dash_is_stdout() {
    let d = TempDir::new().unwrap();
    let (schema, data) = penguins_case(d.path());
    let r = run(&["validate", &data, "--schema", &schema, "-o", "-"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("failed"), "the table: {}", r.stdout);
    assert!(!d.path().join("-").exists() && !Path::new("-").exists());
    let r = run(&[
        "profile",
        s(&fixture("penguins.csv")),
        "--format",
        "json",
        "-o",
        "-",
    ]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["row_count"], 344);
}

#[test]
fn report_without_output_writes_a_file_named_after_the_input() {
    let d = TempDir::new().unwrap();
    let out = bin()
        .current_dir(d.path())
        .args(["report", s(&fixture("penguins.csv"))])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "no HTML in the terminal");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "wrote penguins.html\n"
    );
    let page = std::fs::read_to_string(d.path().join("penguins.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    // -q: the file, and nothing said.
    std::fs::remove_file(d.path().join("penguins.html")).unwrap();
    let out = bin()
        .current_dir(d.path())
        .args(["report", s(&fixture("penguins.csv")), "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    assert!(d.path().join("penguins.html").exists());
    // -o - is the page on stdout.
    let r = run(&["report", s(&fixture("penguins.csv")), "-o", "-"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("<!DOCTYPE html>"));
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let d = TempDir::new().unwrap();
    let (schema, data) = penguins_case(d.path());
    let args = ["validate", data.as_str(), "--schema", schema.as_str()];
    // Not a terminal: no colour, whatever NO_COLOR says.
    let r = run(&args);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains('\x1b'), "{}", r.stdout);
    let mut always = args.to_vec();
    always.extend(["--color", "always"]);
    let r = run(&always);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("\x1b[1;31mfailed\x1b[0m"), "{}", r.stdout);
    assert!(
        r.stdout.contains("│ \x1b[1;31merror\x1b[0m "),
        "{}",
        r.stdout
    );
    // JSON is never coloured.
    always.extend(["--format", "json"]);
    let r = run(&always);
    assert!(!r.stdout.contains('\x1b'));
    serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap();
    // Errors on stderr too; never with --color never.
    let r = run(&["profile", "missing.csv", "--color", "always"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("\x1b[1;31merror:\x1b[0m "),
        "{}",
        r.stderr
    );
    let r = run(&["profile", "missing.csv", "--color", "never"]);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
}

#[test]
fn verbose_says_time_and_memory_quiet_conflicts_with_it() {
    let r = run(&["profile", s(&fixture("penguins.csv")), "-v"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let info = r.stderr.lines().last().unwrap_or_default();
    assert!(
        info.starts_with("info: took ")
            && info.contains(" s, peak memory ")
            && info.ends_with(" MB"),
        "{}",
        r.stderr
    );
    let r = run(&["profile", s(&fixture("penguins.csv")), "-q", "-v"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn the_profile_table_fits_the_terminal_without_wrapping_a_row() {
    let pen = fixture("penguins.csv");
    // A pipe, no COLUMNS: the whole table.
    let out = bin()
        .args(["profile", s(&pen)])
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    let full = String::from_utf8(out.stdout).unwrap();
    assert!(full.contains("top value") && full.contains("median"));
    let widest = full.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest > 90, "penguins' table is {widest} wide");
    for columns in [90usize, 60, 40] {
        let out = bin()
            .args(["profile", s(&pen)])
            .env("COLUMNS", columns.to_string())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        let table: Vec<&str> = text.lines().filter(|l| !l.starts_with('(')).collect();
        for l in &table {
            assert!(l.chars().count() <= columns, "{columns}: {l}");
        }
        // Every column of the data keeps its row (8 columns + 4 border lines).
        assert_eq!(
            table.iter().filter(|l| l.starts_with('│')).count(),
            9,
            "{text}"
        );
        assert!(!table[1].contains("top value"), "{text}");
        let note = text.lines().last().unwrap();
        assert!(
            note.starts_with("(not shown: ")
                && note.contains("top value")
                && note.ends_with("; --format json has all)"),
            "{text}"
        );
    }
    // A file gets every column, whatever the terminal.
    let d = TempDir::new().unwrap();
    let file = d.path().join("p.txt");
    let out = bin()
        .args(["profile", s(&pen), "--format", "table", "-o", s(&file)])
        .env("COLUMNS", "40")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), full);
}

/// Runs preflight with `input` on standard input and `TMPDIR` in `tmp`.
fn with_stdin(args: &[&str], input: &[u8], tmp: &Path) -> (i32, String, String) {
    use std::io::Write;
    let mut child = bin()
        .args(args)
        .env("TMPDIR", tmp)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let bytes = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dash_reads_standard_input_in_every_format() {
    let d = TempDir::new().unwrap();
    let tmp = d.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let csv = std::fs::read(fixture("penguins.csv")).unwrap();
    let (code, out, err) = with_stdin(&["profile", "-", "--format", "json"], &csv, &tmp);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["row_count"], 344);
    assert_eq!(
        v["sources"],
        serde_json::json!(["-"]),
        "named as the user named it"
    );
    // The same profile as from the file, but for the source's name.
    let from_file = run(&["profile", s(&fixture("penguins.csv")), "--format", "json"]);
    let mut f: serde_json::Value = serde_json::from_str(&from_file.stdout).unwrap();
    f["sources"] = serde_json::json!(["-"]);
    assert_eq!(v, f);

    // Parquet needs to seek: buffered to a file, sniffed by its magic bytes.
    let parquet = std::fs::read(fixture("nycflights13_flights.parquet")).unwrap();
    let (code, out, err) = with_stdin(&["profile", "-", "--format", "json"], &parquet, &tmp);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["row_count"], 336776);

    // NDJSON, sniffed by its first `{`.
    let ndjson = b"{\"a\": 1, \"b\": \"x\"}\n{\"a\": 2, \"b\": \"y\"}\n";
    let (code, out, err) = with_stdin(&["profile", "-", "--format", "json"], ndjson, &tmp);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["columns"][0]["name"], "a");

    // A checking command, and an error naming `-` (not the temporary file).
    let (schema, data) = penguins_case(d.path());
    let broken = std::fs::read(&data).unwrap();
    let (code, out, _) = with_stdin(&["validate", "-", "--schema", &schema], &broken, &tmp);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("-: failed"), "{out}");
    let (code, _, err) = with_stdin(&["profile", "-"], b"a,b\n1,2\n3\n", &tmp);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: -: "), "{err}");
    assert!(!err.contains("preflight-stdin"), "{err}");
    let (code, _, err) = with_stdin(&["drift", "-", "-"], &csv, &tmp);
    assert_eq!(code, 2);
    assert!(err.contains("once"), "{err}");
    // Nothing left behind.
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_config_file_sets_defaults_that_flags_override() {
    let d = TempDir::new().unwrap();
    let project = d.path().join("project");
    let sub = project.join("data");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        project.join("preflight.toml"),
        "# team defaults\nnull-value = [\"NA\", \"?\"]\n[profile]\nformat = \"json\"\n",
    )
    .unwrap();
    let pen = fixture("penguins.csv");
    let in_dir = |dir: &Path, args: &[&str]| {
        let out = bin()
            .current_dir(dir)
            .env_remove("PREFLIGHT_CONFIG")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Found from a subdirectory upwards: JSON by default now.
    let (code, out, err) = in_dir(&sub, &["profile", s(&pen)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with('{'), "{out}");
    // A flag overrides the file; --no-config ignores it.
    let (_, out, _) = in_dir(&sub, &["profile", s(&pen), "--format", "table"]);
    assert!(out.starts_with('┌'), "{out}");
    let (_, out, _) = in_dir(&sub, &["profile", s(&pen), "--no-config"]);
    assert!(out.starts_with('┌'), "{out}");
    // The null strings apply: `?` is missing, as NA is.
    let csv = sub.join("q.csv");
    std::fs::write(&csv, "x\n1\n?\nNA\n4\n").unwrap();
    let (_, out, err) = in_dir(&sub, &["profile", s(&csv)]);
    let v: serde_json::Value = serde_json::from_str(&out).expect(&err);
    assert_eq!(v["columns"][0]["missing"], 2);
    assert_eq!(v["columns"][0]["type"], "int64");
    // `preflight config` says what applies and where from.
    let (code, out, _) = in_dir(&sub, &["config"]);
    assert_eq!(code, 0);
    assert!(out.contains("preflight.toml"), "{out}");
    assert!(
        out.contains("--format json    (preflight profile)"),
        "{out}"
    );
    assert!(
        out.contains("--null-value NA ?    (every command)"),
        "{out}"
    );
    let (_, out, _) = in_dir(d.path(), &["config"]);
    assert!(out.starts_with("no config file"), "{out}");

    // pyproject.toml's [tool.preflight], and --config naming a file.
    let py = d.path().join("py");
    std::fs::create_dir(&py).unwrap();
    std::fs::write(
        py.join("pyproject.toml"),
        "[project]\nname = \"x\"\n[tool.preflight.profile]\nformat = \"json\"\n",
    )
    .unwrap();
    let (_, out, _) = in_dir(&py, &["profile", s(&pen)]);
    assert!(out.starts_with('{'), "{out}");
    let (_, out, _) = in_dir(
        d.path(),
        &[
            "profile",
            s(&pen),
            "--config",
            s(&project.join("preflight.toml")),
        ],
    );
    assert!(out.starts_with('{'), "{out}");

    // A typo is an error naming the file and the key, not ignored.
    std::fs::write(
        project.join("preflight.toml"),
        "[profile]\nformt = \"json\"\n",
    )
    .unwrap();
    let (code, _, err) = in_dir(&sub, &["profile", s(&pen)]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("preflight.toml: `formt` is not an option of `preflight profile`"),
        "{err}"
    );
    std::fs::write(
        project.join("preflight.toml"),
        "[profiel]\nformat = \"json\"\n",
    )
    .unwrap();
    let (code, _, err) = in_dir(&sub, &["profile", s(&pen)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("[profiel] is not a preflight command"),
        "{err}"
    );
    std::fs::write(project.join("preflight.toml"), "format = \n").unwrap();
    let (code, _, err) = in_dir(&sub, &["profile", s(&pen)]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn help_states_each_default_once_and_flags_share_names() {
    let help = run(&["profile", "--help"]).stdout;
    let at = help.find("--partitions").unwrap();
    let part = &help[at..help[at..].find("\n\n").map_or(help.len(), |e| at + e + 40)];
    assert_eq!(part.matches("[default").count(), 1, "{part}");
    let merge = run(&["merge", "--help"]).stdout;
    assert!(!merge.contains("(the default)"), "{merge}");
    assert!(merge.contains("[default: json]"));
    // -s is --schema wherever a command takes one.
    for cmd in ["validate", "drift", "labels"] {
        let help = run(&[cmd, "--help"]).stdout;
        assert!(help.contains("-s, --schema <SCHEMA>"), "{cmd}: {help}");
    }
    // --fail-on on every checking command.
    for cmd in ["validate", "drift", "skew", "labels", "report"] {
        let help = run(&[cmd, "--help"]).stdout;
        assert!(help.contains("--fail-on <FAIL_ON>"), "{cmd}");
    }
}

#[test]
fn the_github_action_steps_run_as_a_script() {
    let d = TempDir::new().unwrap();
    let (schema, broken) = penguins_case(d.path());
    let summary = d.path().join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let script = common::root().join("ci/validate-action.sh");
    let action = std::fs::read_to_string(common::root().join("action.yml")).unwrap();
    assert!(
        action.contains("ci/validate-action.sh"),
        "the action runs the script"
    );
    for var in ["PREFLIGHT_DATA", "PREFLIGHT_SCHEMA", "PREFLIGHT_FAIL_ON"] {
        assert!(action.contains(var), "the action sets {var}");
    }
    let step = |data: &str| {
        Command::new("bash")
            .arg(&script)
            .env("PREFLIGHT_BIN", env!("CARGO_BIN_EXE_preflight"))
            .env("PREFLIGHT_DATA", data)
            .env("PREFLIGHT_SCHEMA", &schema)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env_remove("PREFLIGHT_FAIL_ON")
            .output()
            .unwrap()
    };
    let out = step(&broken);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("::error "), "{stdout}");
    assert!(stdout.contains("bill_length_mm"), "{stdout}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("# earlier step\n"), "appended, not replaced");
    assert!(md.contains("bill_length_mm") && md.contains('|'), "{md}");
    // Clean data passes the step.
    let out = step(s(&fixture("penguins.csv")));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}
