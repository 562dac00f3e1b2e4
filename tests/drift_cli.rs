//! `preflight drift` and `preflight skew` end to end, on real fixtures: statistics equal to
//! scipy's (fixtures/reference/drift_penguins.json), no false alarms on random halves of
//! nycflights13, a clear January-vs-July shift, sketch results within their stated error,
//! skew by key with duplicate and one-sided keys, bad input, and the JSON Schemas.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, Float64Array, Int64Array, RecordBatch};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema};
use common::{assert_matches_schema, fixture, run, tfdv_js, write_parquet};
use serde_json::Value;
use tempfile::TempDir;

fn json_run(args: &[&str], want_code: i32) -> Value {
    let r = run(args);
    assert_eq!(r.code, want_code, "preflight {args:?}: {}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    if args[0] == "drift" {
        assert_matches_schema("drift.schema.json", &v, "drift output");
    } else {
        assert_matches_schema("skew.schema.json", &v, "skew output");
    }
    v
}

fn results<'a>(v: &'a Value, column: &str) -> Vec<&'a Value> {
    v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["column"] == column)
        .collect()
}

fn result<'a>(v: &'a Value, column: &str, method: &str) -> &'a Value {
    results(v, column)
        .into_iter()
        .find(|c| c["method"] == method)
        .unwrap_or_else(|| panic!("no {method} result for {column}"))
}

/// 1e-6 relative, 1e-12 absolute (the tolerance).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 || (a - b).abs() <= 1e-6 * b.abs()
}

/// penguins.csv rows of one year, written as CSV.
fn penguins_year(dir: &Path, year: &str) -> PathBuf {
    let text = std::fs::read_to_string(fixture("penguins.csv")).unwrap();
    let mut lines = text.lines();
    let mut out = String::from(lines.next().unwrap());
    out.push('\n');
    for l in lines {
        if l.ends_with(&format!(",{year}")) {
            out.push_str(l);
            out.push('\n');
        }
    }
    let p = dir.join(format!("penguins_{year}.csv"));
    std::fs::write(&p, out).unwrap();
    p
}

const ALL_METHODS: &str =
    "ks,wasserstein,jensenshannon,psi,kl_div,hellinger,chisquare,chi2_contingency,z,linf,tvd";

#[test]
fn every_method_equals_scipy_on_penguins_2007_vs_2009() {
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("reference/drift_penguins.json")).unwrap(),
    )
    .unwrap();
    let dir = TempDir::new().unwrap();
    let a = penguins_year(dir.path(), "2007");
    let b = penguins_year(dir.path(), "2009");
    let cols = "bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,species,island,sex";
    let v = json_run(
        &[
            "drift",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--method",
            ALL_METHODS,
            "--columns",
            cols,
            "--format",
            "json",
        ],
        // Several columns drift (the penguins of 2009 are heavier): exit 1.
        1,
    );
    let mut checked = 0;
    for (group, _) in [("numeric", ()), ("categorical", ())] {
        for (col, methods) in reference[group].as_object().unwrap() {
            for (method, want) in methods.as_object().unwrap() {
                if method == "cramers_v" {
                    let got = result(&v, col, "chisquare")["cramers_v"].as_f64().unwrap();
                    assert!(
                        close(got, want.as_f64().unwrap()),
                        "{col} cramers_v {got} vs {want}"
                    );
                    checked += 1;
                    continue;
                }
                let got = result(&v, col, method);
                assert_eq!(got["exact"], true, "{col} {method}");
                match want {
                    Value::Object(o) => {
                        for (field, key) in [("statistic", "statistic"), ("p_value", "p_value")] {
                            let (g, w) = (got[field].as_f64().unwrap(), o[key].as_f64().unwrap());
                            assert!(close(g, w), "{col} {method} {field}: {g} vs scipy {w}");
                        }
                    }
                    w => {
                        let (g, w) = (got["statistic"].as_f64().unwrap(), w.as_f64().unwrap());
                        assert!(close(g, w), "{col} {method}: {g} vs scipy {w}");
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 52, "only {checked} values checked");
    // Methods that do not apply are reported as skipped, with a reason.
    let skipped = v["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["column"] == "species" && s["reason"].as_str().unwrap().contains("numeric")),
        "{skipped:?}"
    );
}

#[test]
fn auto_rules_on_real_tables() {
    // iris: 150 reference rows -> small-sample rules.
    let iris = fixture("iris.csv");
    let v = json_run(
        &[
            "drift",
            iris.to_str().unwrap(),
            iris.to_str().unwrap(),
            "--format",
            "json",
        ],
        0,
    );
    assert_eq!(result(&v, "sepal length (cm)", "ks")["p_value"], 1.0);
    result(&v, "target", "chisquare"); // numeric, 3 distinct values
    result(&v, "target_name", "chisquare"); // categorical, 3 values
    // penguins sex: 2 values -> z-test; 344 rows.
    let p = fixture("penguins.csv");
    let v = json_run(
        &[
            "drift",
            p.to_str().unwrap(),
            p.to_str().unwrap(),
            "--format",
            "json",
            "--columns",
            "sex,year",
        ],
        0,
    );
    result(&v, "sex", "z");
    result(&v, "year", "chisquare"); // numeric with 3 distinct values
    // nycflights13: > 1000 rows -> distances.
    let f = fixture("nycflights13_flights.parquet");
    let v = json_run(
        &[
            "drift",
            f.to_str().unwrap(),
            f.to_str().unwrap(),
            "--format",
            "json",
            "--columns",
            "dep_delay,origin,year,carrier",
        ],
        0,
    );
    result(&v, "dep_delay", "wasserstein");
    result(&v, "origin", "jensenshannon");
    result(&v, "year", "jensenshannon"); // numeric, 1 distinct value
    result(&v, "carrier", "jensenshannon");
}

fn read_flights() -> Vec<RecordBatch> {
    common::read_parquet(&fixture("nycflights13_flights.parquet"))
}

/// Write the rows of the flights for which `keep(global row index, batch, row)` holds.
fn write_flights(path: &Path, keep: impl Fn(usize, &RecordBatch, usize) -> bool) {
    let mut out = Vec::new();
    let mut offset = 0;
    for b in read_flights() {
        let mask: BooleanArray = (0..b.num_rows())
            .map(|i| Some(keep(offset + i, &b, i)))
            .collect();
        offset += b.num_rows();
        out.push(filter_record_batch(&b, &mask).unwrap());
    }
    write_parquet(path, &out);
}

/// splitmix64 of the row index with a fixed seed: a reproducible random half.
fn in_first_half(row: usize) -> bool {
    let mut z = (row as u64) ^ 0x5EED_2026;
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) & 1 == 0
}

#[test]
fn no_false_alarms_on_two_random_halves_of_nycflights13() {
    let dir = TempDir::new().unwrap();
    let a = dir.path().join("a.parquet");
    let b = dir.path().join("b.parquet");
    write_flights(&a, |row, _, _| in_first_half(row));
    write_flights(&b, |row, _, _| !in_first_half(row));
    for method in [
        "auto",
        "wasserstein",
        "jensenshannon",
        "psi",
        "kl_div",
        "hellinger",
        "linf",
        "tvd",
    ] {
        let v = json_run(
            &[
                "drift",
                a.to_str().unwrap(),
                b.to_str().unwrap(),
                "--method",
                method,
                "--format",
                "json",
            ],
            0,
        );
        let drifted: Vec<&Value> = v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["drifted"] == true)
            .collect();
        assert!(drifted.is_empty(), "{method}: false alarms {drifted:#?}");
        assert!(v["compared_columns"].as_u64().unwrap() >= 4, "{method}");
        assert_eq!(v["dataset_drift"], false);
    }
    // tailnum has 4,000 distinct values: exact counts from the data (a GROUP BY), the
    // frequent-items sketch from stored profiles; neither raises an alarm.
    let v = json_run(
        &[
            "drift",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--columns",
            "tailnum",
            "--format",
            "json",
        ],
        0,
    );
    let exact = result(&v, "tailnum", "jensenshannon").clone();
    assert_eq!(exact["exact"], true);
    let (pa, pb) = (
        dir.path().join("a.profile.json"),
        dir.path().join("b.profile.json"),
    );
    for (d, p) in [(&a, &pa), (&b, &pb)] {
        assert_eq!(
            run(&["profile", d.to_str().unwrap(), "-o", p.to_str().unwrap()]).code,
            0
        );
    }
    let v = json_run(
        &[
            "drift",
            pa.to_str().unwrap(),
            pb.to_str().unwrap(),
            "--columns",
            "tailnum",
            "--format",
            "json",
        ],
        0,
    );
    let sketch = result(&v, "tailnum", "jensenshannon");
    assert_eq!(sketch["exact"], false);
    assert_eq!(sketch["drifted"], false);
    assert!(sketch["statistic"].as_f64().unwrap() <= exact["statistic"].as_f64().unwrap() + 0.01);
}

fn month_of(b: &RecordBatch, i: usize) -> i64 {
    let m = cast(b.column_by_name("month").unwrap(), &DataType::Int64).unwrap();
    m.as_any().downcast_ref::<Int64Array>().unwrap().value(i)
}

#[test]
fn january_vs_july_delays_drift_clearly() {
    let dir = TempDir::new().unwrap();
    let jan = dir.path().join("jan.parquet");
    let jul = dir.path().join("jul.parquet");
    write_flights(&jan, |_, b, i| month_of(b, i) == 1);
    write_flights(&jul, |_, b, i| month_of(b, i) == 7);
    let v = json_run(
        &[
            "drift",
            jan.to_str().unwrap(),
            jul.to_str().unwrap(),
            "--columns",
            "dep_delay,arr_delay",
            "--method",
            "auto,ks",
            "--format",
            "json",
        ],
        1,
    );
    assert_eq!(v["dataset_drift"], true);
    for col in ["dep_delay", "arr_delay"] {
        let w = result(&v, col, "wasserstein");
        assert_eq!(w["drifted"], true, "{w}");
        assert!(w["statistic"].as_f64().unwrap() > 0.15, "{w}");
        let ks = result(&v, col, "ks");
        assert!(ks["p_value"].as_f64().unwrap() < 1e-10, "{ks}");
        // (PSI and JS on Evidently's Sturges bins are blunt here: the delays' long tail
        // puts almost every value in the first two of 17 equal-width bins.)
    }
    // The table says it in words, most severe first, and exits 1.
    let r = run(&[
        "drift",
        jan.to_str().unwrap(),
        jul.to_str().unwrap(),
        "--columns",
        "dep_delay,arr_delay",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("drifted"), "{}", r.stdout);
    assert!(r.stdout.contains("dataset drift: yes"), "{}", r.stdout);
}

/// nycflights13's hourly weather of one month, as CSV (the fixture's own lines).
fn weather_month(dir: &Path, month: &str) -> PathBuf {
    let text = std::fs::read_to_string(fixture("nycflights13_weather.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let at = header.split(',').position(|h| h == "month").unwrap();
    let mut out = format!("{header}\n");
    for l in lines.filter(|l| l.split(',').nth(at) == Some(month)) {
        out.push_str(l);
        out.push('\n');
    }
    let p = dir.join(format!("weather_{month}.csv"));
    std::fs::write(&p, out).unwrap();
    p
}

/// Regression: for samples of unequal size the exact KS p-value was computed as
/// `1 - P(path stays inside the band)`, which cancels: every p-value below ~1e-16 came out
/// as 0 or rounding noise (humidity: 0 for scipy's 8e-46; wind gusts: 9e-16 for 5e-29).
/// Also: the raw Wasserstein distance, reported next to the normalised statistic.
#[test]
fn ks_p_values_and_raw_wasserstein_equal_scipy_on_weather_january_vs_july() {
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("reference/drift_weather.json")).unwrap(),
    )
    .unwrap();
    let dir = TempDir::new().unwrap();
    let jan = weather_month(dir.path(), "1");
    let jul = weather_month(dir.path(), "7");
    let want = reference["columns"].as_object().unwrap();
    let cols: Vec<&str> = want.keys().map(String::as_str).collect();
    let v = json_run(
        &[
            "drift",
            jan.to_str().unwrap(),
            jul.to_str().unwrap(),
            "--columns",
            &cols.join(","),
            "--method",
            "ks,wasserstein",
            "--format",
            "json",
        ],
        1,
    );
    let mut tiny = 0;
    for (col, w) in want {
        let ks = result(&v, col, "ks");
        assert_eq!(ks["exact"], true, "{col}");
        assert_eq!(ks["reference_values"], w["reference_values"], "{col}");
        assert_eq!(ks["current_values"], w["current_values"], "{col}");
        let (got, p) = (
            ks["p_value"].as_f64().unwrap(),
            w["ks"]["p_value"].as_f64().unwrap(),
        );
        // Relative, however small: an absolute tolerance would pass 0 for 8e-46.
        assert!(
            (got == p) || ((got - p) / p).abs() <= 1e-6,
            "{col} ks p-value: {got:e} vs scipy {p:e}"
        );
        if p > 0.0 && p < 1e-16 {
            tiny += 1;
        }
        let stat = ks["statistic"].as_f64().unwrap();
        assert!(close(stat, w["ks"]["statistic"].as_f64().unwrap()), "{col}");
        let ws = result(&v, col, "wasserstein");
        for (field, key) in [
            ("statistic", "wasserstein"),
            ("wasserstein_distance", "wasserstein_distance"),
        ] {
            let (g, e) = (ws[field].as_f64().unwrap(), w[key].as_f64().unwrap());
            assert!(close(g, e), "{col} {field}: {g} vs scipy {e}");
        }
    }
    assert!(
        tiny >= 4,
        "the case that matters: p-values below 1e-16 ({tiny})"
    );
}

/// A real-valued column with more values than the profile keeps exactly (t-digest).
fn write_generated(path: &Path, n: usize, shift: f64, seed: u64) {
    let mut s = seed;
    let mut next = || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let x: Vec<f64> = (0..n)
        .map(|_| (0..4).map(|_| next()).sum::<f64>() * 10.0 + shift)
        .collect();
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, false)]));
    let batch = RecordBatch::try_new(schema, vec![Arc::new(Float64Array::from(x))]).unwrap();
    write_parquet(path, &[batch]);
}

#[test]
fn sketch_results_are_within_their_stated_error_of_exact_ones() {
    let dir = TempDir::new().unwrap();
    let a = dir.path().join("a.parquet");
    let b = dir.path().join("b.parquet");
    write_generated(&a, 60_000, 0.0, 1);
    write_generated(&b, 40_000, 1.5, 2);
    let pa = dir.path().join("a.profile.json");
    let pb = dir.path().join("b.profile.json");
    for (data, prof) in [(&a, &pa), (&b, &pb)] {
        let r = run(&[
            "profile",
            data.to_str().unwrap(),
            "-o",
            prof.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let methods = "ks,wasserstein,jensenshannon,psi,hellinger";
    let exact = json_run(
        &[
            "drift",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--method",
            methods,
            "--format",
            "json",
        ],
        1,
    );
    let sketch = json_run(
        &[
            "drift",
            pa.to_str().unwrap(),
            pb.to_str().unwrap(),
            "--method",
            methods,
            "--format",
            "json",
        ],
        1,
    );
    // A profile on one side only is also a sketch comparison.
    let mixed = json_run(
        &[
            "drift",
            pa.to_str().unwrap(),
            b.to_str().unwrap(),
            "--method",
            "ks",
            "--format",
            "json",
        ],
        1,
    );
    assert_eq!(result(&mixed, "x", "ks")["exact"], false);
    for m in methods.split(',') {
        let e = result(&exact, "x", m);
        let s = result(&sketch, "x", m);
        assert_eq!(e["exact"], true, "{m}");
        assert_eq!(s["exact"], false, "{m}");
        let err = s["sketch_error"].as_f64().unwrap();
        let (ev, sv) = (
            e["statistic"].as_f64().unwrap(),
            s["statistic"].as_f64().unwrap(),
        );
        // KS: the stated error bounds the statistic. The binned distances move by at most
        // that much per bin proportion; allow it relative to the value, documented here.
        let tol = if m == "ks" { err } else { ev.max(0.05) * 0.05 };
        assert!(
            (ev - sv).abs() <= tol,
            "{m}: exact {ev} sketch {sv} (error {err})"
        );
        assert_eq!(e["drifted"], s["drifted"], "{m}: decisions differ");
    }
}

#[test]
fn label_is_reported_first_and_ci_formats_render() {
    let p = fixture("penguins.csv");
    let dir = TempDir::new().unwrap();
    let a = penguins_year(dir.path(), "2007");
    let b = penguins_year(dir.path(), "2009");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let cols = ["--columns", "flipper_length_mm,island"];
    let v = json_run(
        &[
            "drift", a, b, "--label", "species", cols[0], cols[1], "--format", "json",
        ],
        0,
    );
    assert_eq!(v["columns"][0]["column"], "species");
    assert_eq!(v["columns"][0]["label"], true);
    // Then by severity: the drifted flipper length before the stable island.
    assert_eq!(v["columns"][1]["column"], "flipper_length_mm");
    assert_eq!(v["columns"][1]["drifted"], true);
    assert_eq!(v["drifted_columns"], 1);
    let _ = p;
    // 1 of 3 columns drifted: dataset drift at a 0.3 share.
    let share = [
        "--label",
        "species",
        cols[0],
        cols[1],
        "--drift-share",
        "0.3",
    ];
    let with = |fmt: &str| {
        let mut args = vec!["drift", a, b, "--format", fmt];
        args.extend_from_slice(&share);
        run(&args)
    };
    let r = with("junit");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("<testsuites") && r.stdout.contains("flipper_length_mm"),
        "{}",
        r.stdout
    );
    let r = with("github");
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("::error") && r.stdout.contains("dataset_drift"),
        "{}",
        r.stdout
    );
    let r = with("markdown");
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("| ") && r.stdout.contains("flipper_length_mm"),
        "{}",
        r.stdout
    );
    let r = with("table");
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("species (label)") && r.stdout.contains("drifted"),
        "{}",
        r.stdout
    );
    // --fail-on warning: a single drifted column fails even without dataset drift.
    let r = run(&[
        "drift",
        a,
        b,
        "--label",
        "species",
        cols[0],
        cols[1],
        "--fail-on",
        "warning",
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let r = run(&["drift", a, b, "--label", "species", cols[0], cols[1]]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn label_from_the_schema_is_reported_first() {
    let dir = TempDir::new().unwrap();
    let a = penguins_year(dir.path(), "2007");
    let b = penguins_year(dir.path(), "2009");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let schema = dir.path().join("s.yaml");
    let r = run(&[
        "infer",
        a,
        "--label",
        "species",
        "-o",
        schema.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = schema.to_str().unwrap();
    let v = json_run(
        &[
            "drift",
            a,
            b,
            "--schema",
            s,
            "--columns",
            "flipper_length_mm,island",
            "--format",
            "json",
        ],
        0,
    );
    assert_eq!(v["label"], "species");
    assert_eq!(v["columns"][0]["column"], "species");
    assert_eq!(v["columns"][0]["label"], true);
    assert_eq!(v["compared_columns"], 3);
    // Without --columns too; --label overrides the schema's.
    let v = json_run(&["drift", a, b, "--schema", s, "--format", "json"], 0);
    assert_eq!(v["columns"][0]["column"], "species");
    assert_eq!(v["compared_columns"], 8);
    let v = json_run(
        &[
            "drift", a, b, "--schema", s, "--label", "island", "--format", "json",
        ],
        0,
    );
    assert_eq!(v["columns"][0]["column"], "island");
    assert_eq!(v["label"], "island");
    // A schema that cannot be read is exit 2, naming it.
    let r = run(&["drift", a, b, "--schema", "/nonexistent/s.yaml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/nonexistent/s.yaml"), "{}", r.stderr);
}

#[test]
fn js_divergence_method_is_tfdvs_on_real_data_and_from_profiles() {
    let dir = TempDir::new().unwrap();
    let a = penguins_year(dir.path(), "2007");
    let b = penguins_year(dir.path(), "2009");
    let values = |p: &Path| -> Vec<f64> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').nth(4).and_then(|c| c.parse().ok()))
            .collect()
    };
    let want = tfdv_js(&values(&a), &values(&b));
    let (sa, sb) = (a.to_str().unwrap(), b.to_str().unwrap());
    let v = json_run(
        &[
            "drift",
            sa,
            sb,
            "--method",
            "js_divergence",
            "--columns",
            "flipper_length_mm,island",
            "--format",
            "json",
        ],
        1,
    );
    let got = result(&v, "flipper_length_mm", "js_divergence");
    assert_eq!(got["exact"], true);
    assert!(
        (got["statistic"].as_f64().unwrap() - want).abs() < 1e-12,
        "{got} vs {want}"
    );
    assert_eq!(got["drifted"], true, "{got}"); // 0.105 >= 0.1
    // Categories: log2 JS on the proportions; the same from stored profiles (exact there:
    // fewer than 2,048 values).
    let island = result(&v, "island", "js_divergence")["statistic"]
        .as_f64()
        .unwrap();
    let (pa, pb) = (
        dir.path().join("a.profile.json"),
        dir.path().join("b.profile.json"),
    );
    for (d, p) in [(sa, &pa), (sb, &pb)] {
        assert_eq!(run(&["profile", d, "-o", p.to_str().unwrap()]).code, 0);
    }
    let v = json_run(
        &[
            "drift",
            pa.to_str().unwrap(),
            pb.to_str().unwrap(),
            "--method",
            "tfdv_js",
            "--columns",
            "flipper_length_mm,island",
            "--format",
            "json",
        ],
        1,
    );
    let from_profile = result(&v, "flipper_length_mm", "js_divergence");
    assert_eq!(from_profile["statistic"], got["statistic"]);
    assert_eq!(
        result(&v, "island", "js_divergence")["statistic"]
            .as_f64()
            .unwrap(),
        island
    );
}

#[test]
fn schema_drift_comparators_fail_the_run_at_their_severity() {
    let dir = TempDir::new().unwrap();
    let a = penguins_year(dir.path(), "2007");
    let b = penguins_year(dir.path(), "2009");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let schema = dir.path().join("s.yaml");
    let write = |flipper_severity: &str| {
        std::fs::write(
            &schema,
            format!(
                "version: 1
features:
  - name: flipper_length_mm
    type: double
    drift: {{method: js_divergence, threshold: 0.1, severity: {flipper_severity}}}
  - name: island
    type: string
    drift: {{method: linf, threshold: 0.2}}
"
            ),
        )
        .unwrap();
    };
    write("error");
    let s = schema.to_str().unwrap();
    let args = [
        "drift",
        a,
        b,
        "--schema",
        s,
        "--columns",
        "flipper_length_mm,island",
        "--method",
        "linf",
        "--drift-share",
        "0.9",
        "--format",
        "json",
    ];
    // One of two columns drifted: no dataset drift, but the schema's error threshold fails.
    let v = json_run(&args, 1);
    assert_eq!(v["dataset_drift"], false);
    let flipper = result(&v, "flipper_length_mm", "js_divergence");
    assert_eq!(flipper["schema_severity"], "error");
    assert_eq!(flipper["drifted"], true);
    assert_eq!(flipper["threshold"], 0.1);
    let island: Vec<&Value> = results(&v, "island");
    assert_eq!(
        island.len(),
        2,
        "--method linf at 0.1 and the schema's linf at 0.2"
    );
    let schema_island = island.iter().find(|c| c["threshold"] == 0.2).unwrap();
    assert_eq!(schema_island["schema_severity"], "error");
    assert_eq!(schema_island["drifted"], false);
    let r = run(&args[..args.len() - 2]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("drifted (schema, error)") && r.stdout.contains("stable (schema)"),
        "{}",
        r.stdout
    );
    let mut gh = args[..args.len() - 2].to_vec();
    gh.extend(["--format", "github"]);
    let r = run(&gh);
    assert!(
        r.stdout.contains("::error ")
            && r.stdout.contains("flipper_length_mm%3A drift (js_divergence%2C schema)::drifted: distance 0.1054 at or above threshold 0.1"),
        "{}",
        r.stdout
    );
    // At warning severity the same drift passes, unless warnings fail.
    write("warning");
    assert_eq!(
        json_run(&args, 0)["columns"][0]["schema_severity"],
        "warning"
    );
    let mut strict = args.to_vec();
    strict.extend(["--fail-on", "warning"]);
    assert_eq!(run(&strict).code, 1);
}

#[test]
fn unseen_categories_are_named() {
    let dir = TempDir::new().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    std::fs::write(&a, "color,size\nred,1\nblue,2\nred,3\nblue,4\nred,5\n").unwrap();
    std::fs::write(&b, "color,size\nred,1\ngreen,2\ngreen,30\nblue,4\nred,-5\n").unwrap();
    let v = json_run(
        &[
            "drift",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--method",
            "jensenshannon",
            "--format",
            "json",
        ],
        1,
    );
    let c = result(&v, "color", "jensenshannon");
    assert_eq!(c["unseen_categories"], serde_json::json!(["green"]));
    assert_eq!(c["unseen_count"], 2);
    let s = result(&v, "size", "jensenshannon");
    assert_eq!(s["out_of_range"]["below"], 1);
    assert_eq!(s["out_of_range"]["above"], 1);
}

#[test]
fn bad_input_exits_2_with_one_line_naming_the_file() {
    let iris = fixture("iris.csv");
    let iris = iris.to_str().unwrap();
    let pen = fixture("penguins.csv");
    let pen = pen.to_str().unwrap();
    let dir = TempDir::new().unwrap();
    let prof = dir.path().join("penguins.profile.json");
    assert_eq!(run(&["profile", pen, "-o", prof.to_str().unwrap()]).code, 0);
    let garbage = dir.path().join("bad.profile.json");
    std::fs::write(&garbage, "{not json").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["drift", iris, "/nonexistent/x.csv"],
            "/nonexistent/x.csv",
        ),
        (vec!["drift", prof.to_str().unwrap(), iris], iris),
        (
            vec!["drift", garbage.to_str().unwrap(), iris],
            "bad.profile.json",
        ),
        (vec!["drift", iris, iris, "--columns", "nope"], "nope"),
        (vec!["drift", iris, iris, "--method", "magic"], "magic"),
        (vec!["skew", iris, pen, "--key", "target"], pen),
        (
            vec!["skew", iris, "/nonexistent/y.csv", "--key", "target"],
            "/nonexistent/y.csv",
        ),
    ];
    for (args, name) in cases {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(name), "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("error:"), "{}", r.stderr);
    }
}

#[test]
fn skew_counts_duplicates_one_sided_keys_and_mismatches() {
    let dir = TempDir::new().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    // Keys: 1..=6 in A with 5 duplicated; B has 1..=4, 5 once, 7, 8 twice, and a null key.
    std::fs::write(
        &a,
        "id,x,c,only_a\n1,1.5,u,0\n2,2.0,v,0\n3,3.0,w,0\n4,,x,0\n5,5.0,y,0\n5,5.5,y,0\n6,6.0,z,0\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "id,x,c,only_b\n1,1.5,u,1\n2,2.5,v,1\n3,3.0,W,1\n4,,x,1\n5,5.0,y,1\n7,7.0,q,1\n8,8.0,q,1\n8,8.0,q,1\n,9.0,q,1\n",
    )
    .unwrap();
    let v = json_run(
        &[
            "skew",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--key",
            "id",
            "--format",
            "json",
        ],
        1,
    );
    let k = &v["keys"];
    assert_eq!(k["rows_a"], 7);
    assert_eq!(k["rows_b"], 9);
    assert_eq!(k["null_keys_b"], 1);
    assert_eq!(k["matched"], 4); // 1, 2, 3, 4
    assert_eq!(k["ambiguous"], 1); // 5: twice in A
    assert_eq!(k["only_in_a_keys"], 1); // 6
    assert_eq!(k["only_in_b_keys"], 2); // 7, 8
    assert_eq!(k["only_in_b_rows"], 3);
    assert_eq!(k["duplicate_keys_a"], 1);
    assert_eq!(k["duplicate_rows_a"], 2);
    assert_eq!(k["duplicate_examples_a"], serde_json::json!(["5"]));
    assert_eq!(k["duplicate_examples_b"], serde_json::json!(["8"]));
    let f = |name: &str| {
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["feature"] == name)
            .unwrap()
            .clone()
    };
    let x = f("x");
    assert_eq!(x["matched"], 4);
    assert_eq!(x["mismatched"], 1); // key 2; key 4 is null on both sides: equal
    assert_eq!(x["mismatch_rate"], 0.25);
    assert_eq!(x["examples"][0]["key"], "2");
    assert_eq!(x["examples"][0]["a"], "2.0");
    assert_eq!(x["examples"][0]["b"], "2.5");
    let c = f("c");
    assert_eq!(c["mismatched"], 1);
    assert_eq!(c["examples"][0]["b"], "W");
    assert_eq!(v["only_in_a_columns"], serde_json::json!(["only_a"]));
    assert_eq!(v["only_in_b_columns"], serde_json::json!(["only_b"]));
    assert_eq!(v["skewed_features"], 2);
    // Identical inputs: nothing skewed, exit 0, and the table says so.
    let r = run(&[
        "skew",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "--key",
        "id",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("same"), "{}", r.stdout);
    // A tolerated mismatch rate.
    let r = run(&[
        "skew",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--key",
        "id",
        "--max-mismatch-rate",
        "0.3",
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    // iris on `target`: every key is duplicated, so nothing is compared: a failed check
    // (issue 12), a warning with --allow-empty.
    let iris = fixture("iris.csv");
    let iris = iris.to_str().unwrap();
    let r = run(&["skew", iris, iris, "--key", "target"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("no pairs") && r.stdout.contains("0 rows matched"),
        "{}",
        r.stdout
    );
    let r = run(&["skew", iris, iris, "--key", "target", "--allow-empty"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("1 warning"), "{}", r.stdout);
    let r = run(&[
        "skew",
        iris,
        iris,
        "--key",
        "target",
        "--allow-empty",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
}

/// Issue 12 item 5: `skew` where every key is duplicated matched 0 pairs and passed with
/// exit 0. Nothing compared fails (exit 1) with a finding that says 0 rows matched and
/// why, unless --allow-empty; the same for disjoint keys and for no common feature.
#[test]
fn skew_that_compared_nothing_fails_unless_allow_empty() {
    let dir = TempDir::new().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let dup = write("dup.csv", "id,x\n1,1.0\n1,2.0\n2,3.0\n2,4.0\n");
    let low = write("low.csv", "id,x\n1,1.0\n2,2.0\n");
    let high = write("high.csv", "id,x\n3,1.0\n4,2.0\n");
    let other = write("other.csv", "id,y\n1,1.0\n2,2.0\n");
    let cases = [
        (&dup, &dup, "duplicated"),
        (&low, &high, "no key `id` in common"),
        (&low, &other, "no column besides the key in common"),
    ];
    for (a, b, why) in cases {
        let args = [
            "skew",
            a.as_str(),
            b.as_str(),
            "--key",
            "id",
            "--format",
            "json",
        ];
        let v = json_run(&args, 1);
        let reason = v["nothing_compared"].as_str().unwrap_or_default();
        assert!(reason.contains(why), "{a} vs {b}: {v}");
        if why != "no column besides the key in common" {
            assert!(reason.contains("0 rows matched"), "{reason}");
        }
        // The table says why too; --allow-empty accepts it as a warning.
        let r = run(&args[..5]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(r.stdout.contains(why), "{}", r.stdout);
        let r = run(&[&args[..5], &["--allow-empty"]].concat());
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("1 warning"), "{}", r.stdout);
    }
    // Something compared: no finding, no field.
    let v = json_run(
        &[
            "skew",
            low.as_str(),
            low.as_str(),
            "--key",
            "id",
            "--format",
            "json",
        ],
        0,
    );
    assert!(v.get("nothing_compared").is_none(), "{v}");
}

/// Issue 12 item 5, for drift: when no column is compared at all (every column skipped)
/// the run does not pass silently: exit 1 unless --allow-empty.
#[test]
fn drift_that_compared_no_column_fails_unless_allow_empty() {
    let dir = TempDir::new().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let a = write("a.csv", "d\n2024-01-01\n2024-01-02\n2024-01-03\n");
    let b = write("b.csv", "d\n2024-03-01\n2024-03-02\n2024-03-05\n");
    let v = json_run(&["drift", &a, &b, "--format", "json"], 1);
    assert_eq!(v["compared_columns"], 0);
    let reason = v["nothing_compared"].as_str().unwrap_or_default();
    assert!(
        reason.contains("no column was compared") && reason.contains("`d`"),
        "{v}"
    );
    let r = run(&["drift", &a, &b]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("no column was compared"), "{}", r.stdout);
    let r = run(&["drift", &a, &b, "--allow-empty"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Named with --columns the date column is compared: no finding.
    let r = run(&["drift", &a, &b, "--columns", "d", "--format", "json"]);
    assert!(r.code <= 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["compared_columns"], 1, "{v}");
    assert!(v.get("nothing_compared").is_none(), "{v}");
}

/// nycflights13's flights with a row number key `row_id` (unique), as Parquet.
fn write_flights_with_row_id(a: &Path) {
    let mut out = Vec::new();
    let mut offset = 0i64;
    for b in read_flights() {
        let n = b.num_rows();
        let ids: Int64Array = (offset..offset + n as i64).collect();
        offset += n as i64;
        let mut fields: Vec<Field> = vec![Field::new("row_id", DataType::Int64, false)];
        fields.extend(b.schema().fields().iter().map(|f| f.as_ref().clone()));
        let mut cols: Vec<Arc<dyn Array>> = vec![Arc::new(ids)];
        cols.extend(b.columns().iter().cloned());
        out.push(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap());
    }
    write_parquet(a, &out);
}

#[test]
fn skew_on_a_real_table_against_itself_matches_every_row() {
    let dir = TempDir::new().unwrap();
    let a = dir.path().join("a.parquet");
    write_flights_with_row_id(&a);
    let v = json_run(
        &[
            "skew",
            a.to_str().unwrap(),
            a.to_str().unwrap(),
            "--key",
            "row_id",
            "--format",
            "json",
        ],
        0,
    );
    assert_eq!(v["keys"]["matched"], 336_776);
    assert!(
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["mismatched"] == 0)
    );
}

/// A column that is integer on one side and float on the other (pandas makes an integer
/// column with a missing value float) holds equal numbers: `181` and `181.0` match. They
/// were compared as text, and every row was reported skewed. Text against a number is
/// still compared as text.
#[test]
fn skew_compares_integers_and_floats_as_numbers() {
    let dir = TempDir::new().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    std::fs::write(&a, "id,n,w,t\n1,181,7,x\n2,186,8,1\n3,,9,2\n4,200,10,3\n").unwrap();
    std::fs::write(
        &b,
        "id,n,w,t\n1,181.0,7,1\n2,186.0,8,1\n3,,9,2\n4,200.5,1e1,3\n",
    )
    .unwrap();
    let v = json_run(
        &[
            "skew",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--key",
            "id",
            "--format",
            "json",
        ],
        1,
    );
    let feature = |name: &str| {
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["feature"] == name)
            .unwrap()
            .clone()
    };
    let n = feature("n");
    assert_eq!(
        (n["matched"].as_u64(), n["mismatched"].as_u64()),
        (Some(4), Some(1))
    );
    assert_eq!(n["compared_as_text"], false);
    assert_eq!(n["examples"][0]["key"], "4");
    // 10 and 1e1 are the same number.
    assert_eq!(feature("w")["mismatched"], 0);
    let t = feature("t");
    assert_eq!(t["compared_as_text"], true);
    assert_eq!(t["mismatched"], 1);
}

/// Every output format of `drift`, byte for byte (tests/snapshots/; see
/// `every_validate_format_matches_its_snapshot` in schema_cli.rs): penguins of 2007 against
/// 2009, the label first, dataset drift at a 0.25 share.
#[test]
fn every_drift_format_matches_its_snapshot() {
    let dir = TempDir::new().unwrap();
    penguins_year(dir.path(), "2007");
    penguins_year(dir.path(), "2009");
    for (format, ext) in common::CHECK_FORMATS {
        let out = common::bin()
            .current_dir(dir.path())
            .args([
                "drift",
                "penguins_2007.csv",
                "penguins_2009.csv",
                "--label",
                "species",
                "--drift-share",
                "0.25",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(out.stderr.is_empty(), "{format}");
        let text = String::from_utf8(out.stdout).unwrap();
        if format == "json" {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_matches_schema("drift.schema.json", &v, "drift output");
        }
        common::assert_snapshot(&format!("drift_penguins_2007_2009.{format}.{ext}"), &text);
    }
}

/// A column that is text in the current data (a word in a number column, early or far down
/// where the CSV's types are guessed again from every row) is skipped with the type change
/// named, whole and by slice; the other columns are compared. It was an error: `humid` has
/// 2,500 distinct values, so its profile keeps a sketch and drift reads every value again,
/// as numbers, which took the word for a missing value and counted one value fewer than
/// the profile did.
#[test]
fn drift_names_a_column_that_became_text_and_compares_the_rest() {
    let dir = TempDir::new().unwrap();
    let reference = fixture("nycflights13_weather.csv");
    let text = std::fs::read_to_string(&reference).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let humid = lines[0].split(',').position(|c| c == "humid").unwrap();
    for row in [1, lines.len() - 1] {
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            let mut f: Vec<&str> = l.split(',').collect();
            if i == row {
                f[humid] = "unknown";
            }
            out.push_str(&f.join(","));
            out.push('\n');
        }
        let cur = dir.path().join(format!("cur{row}.csv"));
        std::fs::write(&cur, out).unwrap();
        let (a, b) = (reference.to_str().unwrap(), cur.to_str().unwrap());
        for by in [None, Some("origin")] {
            let mut args = vec!["drift", a, b, "--format", "json"];
            args.extend(by.map(|s| ["--by", s]).into_iter().flatten());
            let v = json_run(&args, 0);
            let skipped = v["skipped"].as_array().unwrap();
            let skip = skipped.iter().find(|s| s["column"] == "humid");
            let reason = skip.and_then(|s| s["reason"].as_str()).unwrap_or("");
            assert!(
                reason.contains("double in the reference but string in the current data"),
                "row {row}, by {by:?}: {v}"
            );
            assert!(results(&v, "humid").is_empty(), "{v}");
            for col in ["temp", "dewp", "pressure", "origin"] {
                let r = results(&v, col);
                assert!(
                    r.iter().any(|r| r["exact"] == true),
                    "{col} compared exactly: {v}"
                );
            }
            if by.is_some() {
                assert_eq!(v["slices"].as_array().unwrap().len(), 3, "{v}");
            }
        }
    }
}
