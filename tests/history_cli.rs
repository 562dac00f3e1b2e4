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
}
