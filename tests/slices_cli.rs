//! `profile --by` and `validate --by`: one profile per slice in one pass, the top slices
//! by rows and the rest as `__other__`, slice profiles that merge into the whole, and
//! anomalies that name their slice.
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
        r.stderr.contains("--by: no column `colour`"),
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
}
