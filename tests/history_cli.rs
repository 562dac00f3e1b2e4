//! The metrics history end to end: `profile`/`validate --history`, the schema's checks
//! over time, `preflight history`, concurrent writers and bad records.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::Path;

use common::batches::{self, INCIDENTS};
use serde_json::Value;

/// Run the command line in this process (the library the binary runs): 120 runs of a
/// debug binary would spend most of their time starting up.
fn inproc(args: &[&str]) -> (u8, Option<String>) {
    let mut v: Vec<OsString> = vec!["preflight".into()];
    v.extend(args.iter().map(OsString::from));
    let (status, error) =
        preflight::run_with_tables(&v, preflight_stats::source::MemoryTables::default());
    (status.code(), error)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read output")).expect("JSON")
}

/// 60 daily batches resampled from a real table with a trend and a weekly seasonality,
/// four incidents on known days; each day profiled into the history, then validated with
/// the default checks `infer --history-checks` writes. Every incident must be flagged on
/// its day (the metric named), with at most 2 false alarms over the 60 days.
#[test]
fn incidents_are_flagged_on_their_day_with_few_false_alarms() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let hist = dir.join("metrics");
    let hist = hist.to_str().unwrap();
    let schema = dir.join("s.yaml");
    let schema = schema.to_str().unwrap();
    let day0 = batches::write_day(dir, 0, 240, 42);
    let (code, err) = inproc(&["infer", &day0, "--history-checks", "-o", schema]);
    assert_eq!(code, 0, "{err:?}");
    let mut flagged_days = Vec::new();
    let mut false_alarms = Vec::new();
    let mut collateral = Vec::new();
    let mut not_compared_days = 0;
    for day in 0..60 {
        let data = batches::write_day(dir, day, 240, 42);
        let at = batches::date(day);
        let (code, err) = inproc(&[
            "profile",
            &data,
            "--history",
            hist,
            "--tag",
            "dataset=penguins",
            "--at",
            &at,
            "--format",
            "json",
            "-o",
            &format!("{}/p.json", dir.display()),
        ]);
        assert_eq!(code, 0, "profile day {day}: {err:?}");
        let out = dir.join(format!("v{day}.json"));
        let (code, err) = inproc(&[
            "validate",
            &data,
            "--schema",
            schema,
            "--history",
            hist,
            "--tag",
            "dataset=penguins",
            "--at",
            &at,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(code <= 1, "validate day {day}: {err:?}");
        let v = read_json(&out);
        common::assert_matches_schema("validate.schema.json", &v, "validate output");
        let anomalies = v["anomalies"].as_array().unwrap();
        if anomalies.iter().any(|a| a["kind"] == "not_compared") {
            not_compared_days += 1;
        }
        let fired: BTreeSet<String> = anomalies
            .iter()
            .filter(|a| a["kind"] == "metric_anomaly")
            .map(|a| a["metric"].as_str().unwrap().to_string())
            .collect();
        let incident = INCIDENTS.iter().find(|(d, _)| *d == day).map(|(_, i)| *i);
        match incident {
            Some(i) => {
                if fired.contains(i.metric()) {
                    flagged_days.push(day);
                }
                collateral.extend(
                    fired
                        .iter()
                        .filter(|m| *m != i.metric())
                        .map(|m| format!("day {day}: {m}")),
                );
            }
            None => false_alarms.extend(fired.iter().map(|m| format!("day {day}: {m}"))),
        }
    }
    let missed: Vec<usize> = INCIDENTS
        .iter()
        .map(|(d, _)| *d)
        .filter(|d| !flagged_days.contains(d))
        .collect();
    println!(
        "incidents: {} flagged ({flagged_days:?}), {} missed ({missed:?}), {} false alarms {false_alarms:?} over 60 days; \
         other metrics flagged on incident days: {collateral:?}; {not_compared_days} days with checks not compared (short history)",
        flagged_days.len(),
        missed.len(),
        false_alarms.len()
    );
    assert!(missed.is_empty(), "missed incidents on days {missed:?}");
    assert!(
        false_alarms.len() <= 2,
        "{} false alarms: {false_alarms:?}",
        false_alarms.len()
    );
    // The first week is too short a history for the volume check: said, not passed.
    assert!(not_compared_days >= 7, "{not_compared_days}");
    // Each day was recorded twice (profile, then validate), and nothing was lost.
    let runs = std::fs::read_dir(format!("{hist}/runs")).unwrap().count();
    assert_eq!(runs, 120);

    // `history` lists the runs, with the metrics validate flagged.
    let r = common::run(&[
        "history",
        hist,
        "--tag",
        "dataset=penguins",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listing: Value = serde_json::from_str(&r.stdout).unwrap();
    let listed = listing["runs"].as_array().unwrap();
    assert_eq!(listed.len(), 120);
    let day20 = batches::date(20);
    assert!(listed.iter().any(|run| {
        run["time"].as_str().unwrap().starts_with(&day20)
            && run["command"] == "validate"
            && run["flagged"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "rows")
    }));
    // The row count's series with the schema's check: the halved day is the anomaly,
    // drawn in the HTML chart.
    let html = dir.join("rows.html");
    let r = common::run(&[
        "history",
        hist,
        "--metric",
        "rows",
        "--schema",
        schema,
        "--format",
        "json",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["strategy"], "batch_normal");
    let points = s["points"].as_array().unwrap();
    assert_eq!(points.len(), 60, "one point per day");
    let anomalous: Vec<&str> = points
        .iter()
        .filter(|p| p["anomalous"] == true)
        .map(|p| p["time"].as_str().unwrap())
        .collect();
    assert_eq!(anomalous.len(), 1, "{anomalous:?}");
    assert!(anomalous[0].starts_with(&day20));
    assert!(points[..7].iter().all(|p| p["judged"] == false));
    assert!(points[30]["lower"].as_f64().unwrap() < points[30]["value"].as_f64().unwrap());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<svg") && page.contains("class=\"band\"") && page.contains("class=\"an\"")
    );
    // A metric's series as a table.
    let r = common::run(&[
        "history",
        hist,
        "--metric",
        "flipper_length_mm.missing_fraction",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("anomaly"), "{}", r.stdout);
}

/// Two processes appending 100 runs each leave 200 readable records: one file per
/// record, written to a temporary name and linked into place, so writers never
/// interleave and a reader never sees half a record.
#[test]
fn two_concurrent_writers_lose_no_record() {
    let tmp = tempfile::tempdir().unwrap();
    let data = common::write(tmp.path(), "small.csv", b"a,b\n1,x\n2,y\n3,\n");
    let hist = tmp.path().join("h");
    // Each writer is one shell process running the binary 100 times in a row.
    let writer = |who: &str| {
        let script = format!(
            "for i in $(seq 1 100); do \"$0\" profile \"$1\" --history \"$2\" --tag writer={who} --tag n=$i -o /dev/null --format json || exit 1; done"
        );
        std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_preflight"))
            .arg(&data)
            .arg(&hist)
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (writer("a"), writer("b"));
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let r = common::run(&["history", hist.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 200);
    for who in ["a", "b"] {
        let mut ns: Vec<u64> = runs
            .iter()
            .filter(|r| r["tags"]["writer"] == who)
            .map(|r| r["tags"]["n"].as_str().unwrap().parse().unwrap())
            .collect();
        ns.sort_unstable();
        assert_eq!(ns, (1..=100).collect::<Vec<u64>>(), "writer {who}");
    }
    assert!(runs.iter().all(|r| r["rows"] == 3));
    // Every record's profile is there too, and nothing temporary is left behind.
    let profiles = std::fs::read_dir(hist.join("profiles")).unwrap().count();
    assert_eq!(profiles, 200);
    let leftovers = std::fs::read_dir(hist.join("runs"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(leftovers, 0);
}

/// A history with a few runs of `rows`.
fn small_history(dir: &Path, days: usize) -> (String, String) {
    let data = common::write(dir, "d.csv", b"a,b\n1,x\n2,y\n3,z\n");
    let hist = dir.join("h").to_str().unwrap().to_string();
    for day in 0..days {
        let r = common::run(&[
            "profile",
            &data,
            "--history",
            &hist,
            "--at",
            &batches::date(day),
            "-o",
            "/dev/null",
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    (data, hist)
}

fn one_record(hist: &str) -> std::path::PathBuf {
    std::fs::read_dir(Path::new(hist).join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap()
}

#[test]
fn a_corrupt_record_is_named_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, hist) = small_history(tmp.path(), 3);
    let bad = one_record(&hist);
    let text = std::fs::read_to_string(&bad).unwrap();
    std::fs::write(&bad, &text[..text.len() / 2]).unwrap();
    let schema = common::write(
        tmp.path(),
        "s.yaml",
        b"version: 1\ndataset:\n  history:\n    - {metric: rows, absolute_change: {max_increase: 10}}\nfeatures: []\n",
    );
    for args in [
        vec!["history", hist.as_str()],
        vec![
            "validate",
            data.as_str(),
            "-s",
            schema.as_str(),
            "--history",
            hist.as_str(),
        ],
    ] {
        let r = common::run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.contains(&bad.display().to_string())
                && r.stderr.contains("not a readable history record"),
            "{}",
            r.stderr
        );
    }
    // Nothing else was touched: the other records read once the bad one is gone.
    std::fs::remove_file(&bad).unwrap();
    let r = common::run(&["history", &hist, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["runs"].as_array().unwrap().len(), 2);
}

#[test]
fn a_record_of_a_newer_version_is_named_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, hist) = small_history(tmp.path(), 2);
    let rec = one_record(&hist);
    let text = std::fs::read_to_string(&rec).unwrap();
    std::fs::write(&rec, text.replacen("\"version\":1", "\"version\":2", 1)).unwrap();
    let r = common::run(&["history", &hist, "--metric", "rows"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&rec.display().to_string())
            && r.stderr.contains("version 2")
            && r.stderr.contains("newer preflight"),
        "{}",
        r.stderr
    );
}

#[test]
fn tags_with_odd_characters_round_trip_and_bad_tags_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let data = common::write(tmp.path(), "d.csv", b"a\n1\n2\n");
    let hist = tmp.path().join("h");
    let hist = hist.to_str().unwrap();
    for tag in ["a=b/c d", "path=../../etc/passwd", "ünï=cödé \"q\""] {
        let r = common::run(&[
            "profile",
            &data,
            "--history",
            hist,
            "--tag",
            tag,
            "-o",
            "/dev/null",
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 0, "{tag}: {}", r.stderr);
        let r = common::run(&["history", hist, "--tag", tag, "--format", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        let runs = v["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1, "{tag}");
        let (k, val) = tag.split_once('=').unwrap();
        assert_eq!(runs[0]["tags"][k], val);
    }
    // Nothing was written outside the history.
    assert!(!tmp.path().join("etc").exists());
    for bad in ["novalue", "=v", "a=b\nc"] {
        let r = common::run(&["profile", &data, "--history", hist, "--tag", bad]);
        assert_eq!(r.code, 2, "{bad:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains("--tag"), "{}", r.stderr);
    }
    let r = common::run(&["profile", &data, "--history", hist, "--at", "yesterday"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--at"), "{}", r.stderr);
}

#[test]
fn short_history_is_not_compared_never_a_silent_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, hist) = small_history(tmp.path(), 2);
    let schema = common::write(
        tmp.path(),
        "s.yaml",
        b"version: 1\ndataset:\n  history:\n    - {metric: rows, holt_winters: {period: 7}, severity: error}\nfeatures:\n  - name: a\n    type: int64\n    history:\n      - {metric: mean, online_normal: {}}\n",
    );
    let r = common::run(&[
        "validate",
        &data,
        "-s",
        &schema,
        "--history",
        &hist,
        "--at",
        "2026-12-01",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    common::assert_matches_schema("validate.schema.json", &v, "validate output");
    let nc: Vec<&Value> = v["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "not_compared")
        .collect();
    assert_eq!(nc.len(), 1, "{v:#}");
    assert_eq!(nc[0]["metric"], "rows");
    assert!(
        nc[0]["message"]
            .as_str()
            .unwrap()
            .contains("2 past runs with a value, holt_winters needs 14"),
        "{}",
        nc[0]["message"]
    );
    // Without --history the checks are not run, and the report says so.
    let r = common::run(&["validate", &data, "-s", &schema, "--format", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("2 history checks, not checked: give --history DIR"),
        "{v:#}"
    );
}

/// A relative rate of change fires in every output format, at the check's severity.
#[test]
fn a_metric_anomaly_reaches_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, hist) = small_history(tmp.path(), 3);
    // Deequ's documented example: 2 rows then 5 with max increase 2.0 fires; here 3 rows
    // then 7 (ratio 2.33).
    let big = common::write(
        tmp.path(),
        "big.csv",
        b"a,b\n1,x\n2,y\n3,z\n4,z\n5,z\n6,z\n7,z\n",
    );
    let schema = common::write(
        tmp.path(),
        "s.yaml",
        b"version: 1\ndataset:\n  history:\n    - {metric: rows, relative_change: {max_increase: 2.0}, severity: error}\nfeatures: []\n",
    );
    let base = [
        "validate",
        big.as_str(),
        "-s",
        schema.as_str(),
        "--history",
        hist.as_str(),
    ];
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(&["--at", "2026-12-01"]);
        a.extend_from_slice(extra);
        common::run(&a)
    };
    let r = run(&["--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    common::assert_matches_schema("validate.schema.json", &v, "validate output");
    let a = &v["anomalies"][0];
    assert_eq!(a["kind"], "metric_anomaly");
    assert_eq!(a["severity"], "error");
    assert_eq!(a["metric"], "rows");
    assert_eq!(a["strategy"], "relative_change");
    assert_eq!(a["observed"], 7.0);
    assert_eq!(a["expected"]["upper"], 6.0);
    for (format, needle) in [
        ("junit", "outside the expected interval [-inf, 6]"),
        ("github", "::error"),
        ("markdown", "outside the expected interval"),
        ("table", "metric_anomaly"),
    ] {
        let r = run(&["--format", format]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(r.stdout.contains(needle), "{format}: {}", r.stdout);
        assert!(r.stdout.contains("rows"), "{format}: {}", r.stdout);
    }
    let html = tmp.path().join("v.html");
    let r = run(&["--html", html.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("metric_anomaly") && page.contains("relative_change"));
}

#[test]
fn freshness_is_relative_to_the_run_time() {
    let tmp = tempfile::tempdir().unwrap();
    let data = common::write(
        tmp.path(),
        "events.csv",
        b"id,ts\n1,2026-12-01T08:00:00\n2,2026-12-02T06:00:00\n3,\n",
    );
    let schema = common::write(
        tmp.path(),
        "s.yaml",
        b"version: 1\nfeatures:\n  - name: id\n    type: int64\n  - name: ts\n    type: timestamp[us]\n    freshness: {max_age: 1d2h}\n",
    );
    let at = |t: &str| {
        common::run(&[
            "validate", &data, "-s", &schema, "--at", t, "--format", "json",
        ])
    };
    let r = at("2026-12-03T08:00:00Z");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = at("2026-12-03T08:00:01Z");
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    common::assert_matches_schema("validate.schema.json", &v, "validate output");
    let a = &v["anomalies"][0];
    assert_eq!(a["kind"], "freshness");
    assert_eq!(a["column"], "ts");
    assert!(
        a["message"].as_str().unwrap().contains("is 1d2h1s old"),
        "{}",
        a["message"]
    );
}

#[test]
fn history_filters_runs_by_time_and_tag() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, hist) = small_history(tmp.path(), 5);
    // `history --format json` with `extra`, which must succeed: each element of `list`.
    let listed = |extra: &[&str], list: &str| -> Vec<Value> {
        let mut a = vec!["history", hist.as_str(), "--format", "json"];
        a.extend_from_slice(extra);
        let r = common::run(&a);
        assert_eq!(r.code, 0, "{a:?}: {}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        v[list].as_array().unwrap().clone()
    };
    let runs = |extra: &[&str]| {
        (listed(extra, "runs").iter())
            .map(|r| r["time"].as_str().unwrap()[..10].to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(runs(&[]).len(), 5);
    let (d1, d3) = (batches::date(1), batches::date(3));
    assert_eq!(
        runs(&["--since", &d1, "--until", &d3]),
        [batches::date(1), batches::date(2), batches::date(3)]
    );
    assert!(runs(&["--tag", "dataset=other"]).is_empty());
    // A malformed metric is a usage error naming the flag.
    let r = common::run(&["history", &hist, "--metric", "a.average"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--metric"), "{}", r.stderr);
    // A column no run has is an error naming the closest column, not an empty series.
    let r = common::run(&["history", &hist, "--metric", "A.mean"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr.trim(),
        format!(
            "error: --metric A.mean: no run of {hist} (5 runs) has a column `A` (did you mean `a`?); the newest run's columns: a, b"
        )
    );
    // A column only a later run has is a series of that run's point; no run chosen is an
    // empty series, as asked.
    let later = common::write(tmp.path(), "c.csv", b"a,c\n1,7\n2,9\n");
    let r = common::run(&[
        "profile",
        &later,
        "--history",
        &hist,
        "--at",
        &batches::date(5),
        "-o",
        "/dev/null",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let points = |extra: &[&str]| {
        (listed(extra, "points").iter())
            .map(|p| p["value"].as_f64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(points(&["--metric", "c.mean"]), [8.0]);
    assert_eq!(points(&["--metric", "b.distinct"]), [3.0; 5]);
    assert!(points(&["--metric", "zz.mean", "--tag", "dataset=other"]).is_empty());
}

/// The records directory is a JSON Lines table DataFusion reads as it is (here through
/// `preflight profile`, which reads NDJSON with DataFusion): one row per run, every
/// array of one type.
#[test]
fn the_runs_directory_reads_as_a_json_lines_table() {
    let tmp = tempfile::tempdir().unwrap();
    let penguins = common::fixture("penguins.csv");
    let hist = tmp.path().join("h");
    let hist = hist.to_str().unwrap();
    for day in 0..3 {
        let r = common::run(&[
            "profile",
            penguins.to_str().unwrap(),
            "--history",
            hist,
            "--tag",
            "dataset=p",
            "--at",
            &batches::date(day),
            "-o",
            "/dev/null",
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let runs = format!("{hist}/runs/");
    let p = common::profile_json(&[&runs, "--input-format", "ndjson"]);
    assert_eq!(p["row_count"], 3);
    let rows = common::column(&p, "rows");
    assert_eq!(rows["numeric"]["max"], 344.0);
    assert!(
        common::column(&p, "top_values")["type"]
            .as_str()
            .unwrap()
            .contains("shares: list<double>, values: list<string>"),
        "{p:#}"
    );
    // A share of a category is a metric like any other.
    let r = common::run(&[
        "history",
        hist,
        "--metric",
        "species.share:Adelie",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let share = v["points"][0]["value"].as_f64().unwrap();
    assert!((share - 152.0 / 344.0).abs() < 1e-12, "{share}");
}

/// `profile --by --history`: the whole dataset's run, then one run per slice tagged
/// `slice=KEY`. The slices' runs stay out of the whole dataset's series (a listing, and so
/// the checks of `validate --history`, by the run's own tags), and each slice's series is
/// there by its tag, with the slice's rows.
#[test]
fn sliced_profiles_are_recorded_as_their_own_series() {
    let dir = tempfile::tempdir().unwrap();
    let hist = dir.path().join("hist");
    let hist = hist.to_str().unwrap();
    let penguins = common::fixture("penguins.csv");
    for day in ["2026-12-01", "2026-12-02"] {
        let r = common::run(&[
            "profile",
            penguins.to_str().unwrap(),
            "--by",
            "species",
            "--history",
            hist,
            "--tag",
            "dataset=penguins",
            "--at",
            day,
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let listing = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec!["history", hist, "--tag", "dataset=penguins"];
        args.extend_from_slice(extra);
        args.extend(["--format", "json"]);
        let r = common::run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        v["runs"].as_array().unwrap().clone()
    };
    // 344 penguins in 3 species: the whole runs hold every row.
    let whole = listing(&[]);
    assert_eq!(whole.len(), 2);
    assert!(whole.iter().all(|r| r["rows"] == 344), "{whole:?}");
    let adelie = listing(&["--tag", "slice=species_Adelie"]);
    assert_eq!(adelie.len(), 2);
    assert!(adelie.iter().all(|r| r["rows"] == 152), "{adelie:?}");
    let gentoo = listing(&["--tag", "slice=species_Gentoo"]);
    assert!(gentoo.iter().all(|r| r["rows"] == 124), "{gentoo:?}");
    // Every run was written: 2 days x (the whole + 3 slices).
    let files = std::fs::read_dir(Path::new(hist).join("runs"))
        .unwrap()
        .count();
    assert_eq!(files, 8);
}

/// `validate --by --history`: each slice is checked against its own series. Penguins
/// every day for 14 days, then a day with three quarters of the Adelie rows gone: the
/// row-count check fires for the Adelie slice (and the whole data), not for the others.
#[test]
fn history_checks_run_per_slice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let hist = dir.join("metrics");
    let hist = hist.to_str().unwrap();
    let schema = dir.join("s.yaml");
    let schema = schema.to_str().unwrap();
    let text = std::fs::read_to_string(common::fixture("penguins.csv")).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let normal = dir.join("normal.csv");
    std::fs::write(&normal, &text).unwrap();
    let mut adelie = 0;
    let thinned: Vec<&str> = rows
        .lines()
        .filter(|l| {
            if !l.starts_with("Adelie,") {
                return true;
            }
            adelie += 1;
            adelie % 4 == 0
        })
        .collect();
    let incident = dir.join("incident.csv");
    std::fs::write(&incident, format!("{header}\n{}\n", thinned.join("\n"))).unwrap();
    let normal = normal.to_str().unwrap();
    let (code, err) = inproc(&["infer", normal, "--history-checks", "-o", schema]);
    assert_eq!(code, 0, "{err:?}");
    let validate = |data: &str, day: usize| -> Value {
        let at = format!("2026-11-{:02}", day + 1);
        let out = dir.join(format!("v{day}.json"));
        let out = out.to_str().unwrap();
        let (code, err) = inproc(&[
            "validate",
            data,
            "--schema",
            schema,
            "--by",
            "species",
            "--history",
            hist,
            "--tag",
            "dataset=penguins",
            "--at",
            &at,
            "--format",
            "json",
            "-o",
            out,
        ]);
        assert!(code <= 1, "{err:?}");
        read_json(Path::new(out))
    };
    let rows_anomalies = |v: &Value| -> Vec<Option<String>> {
        let mut out: Vec<Option<String>> = v["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "metric_anomaly" && a["metric"] == "rows")
            .map(|a| a["slice"].as_str().map(str::to_string))
            .collect();
        out.sort();
        out
    };
    for day in 0..14 {
        let v = validate(normal, day);
        assert!(rows_anomalies(&v).is_empty(), "day {day}: {v}");
    }
    let v = validate(incident.to_str().unwrap(), 14);
    assert_eq!(
        rows_anomalies(&v),
        [None, Some("species_Adelie".to_string())],
        "{v}"
    );
    // Each slice's runs are in its own series: 15 days of the Adelie slice.
    let r = common::run(&[
        "history",
        hist,
        "--tag",
        "dataset=penguins",
        "--tag",
        "slice=species_Adelie",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(listed["runs"].as_array().unwrap().len(), 15);
}
