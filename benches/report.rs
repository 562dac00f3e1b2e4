//! HTML report benchmark (release build): `cargo bench --bench report`.
//!
//! Builds, in process, two profiles of 5,000 columns x 2,000 rows (40% floats, 20% floats
//! with nulls, 30% small integers, 10% strings; the second side shifted) and stores them as
//! profile JSON under target/bench-data. Then, with the built `preflight` binary, each in a
//! fresh process, best of three:
//! - `preflight merge a.profile.json -o a.json`: read the profile and write it as JSON (the
//!   baseline: the same input, serialised instead of rendered);
//! - `preflight report a.profile.json -o a.html`: one dataset;
//! - `preflight report b.profile.json --baseline a.profile.json -o ab.html`: a comparison
//!   with drift on every column.
//!
//! Prints file sizes and the ratios, and the in-process time of `serde_json` on the same
//! profile. With chromium installed, also the time the browser takes to parse the page and
//! run its script (`data-ms`), and its wall time against an empty page.
//!
//! Targets (issue 6): at 5,000 features the page opens in under 2 s and stays under 10 MB.
#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is the right behaviour

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use common::{Rng, data_dir, preflight_best};
use preflight_stats::profile::{Profile, ProfileBuilder};

const COLS: usize = 5_000;
const ROWS: usize = 2_000;

fn wide_profile(seed: u64, shift: f64) -> Profile {
    let mut rng = Rng(seed);
    let mut fields = Vec::with_capacity(COLS);
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(COLS);
    for c in 0..COLS {
        match c % 10 {
            0..=3 => {
                fields.push(Field::new(format!("f{c}"), DataType::Float64, false));
                let v: Vec<f64> = (0..ROWS).map(|_| rng.unit() * 100.0 + shift).collect();
                cols.push(Arc::new(Float64Array::from(v)));
            }
            4 | 5 => {
                fields.push(Field::new(format!("g{c}"), DataType::Float64, true));
                let v: Vec<Option<f64>> = (0..ROWS)
                    .map(|_| (!rng.next().is_multiple_of(10)).then(|| rng.unit()))
                    .collect();
                cols.push(Arc::new(Float64Array::from(v)));
            }
            6..=8 => {
                fields.push(Field::new(format!("i{c}"), DataType::Int64, false));
                let v: Vec<i64> = (0..ROWS).map(|_| (rng.next() % 12) as i64).collect();
                cols.push(Arc::new(Int64Array::from(v)));
            }
            _ => {
                fields.push(Field::new(format!("s{c}"), DataType::Utf8, false));
                let words = ["a", "bb", "ccc", "dddd", "e"];
                let v: Vec<&str> = (0..ROWS)
                    .map(|_| words[(rng.next() % 5) as usize])
                    .collect();
                cols.push(Arc::new(StringArray::from(v)));
            }
        }
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let mut b = ProfileBuilder::new(&schema);
    b.update(&batch).unwrap();
    b.finish(vec![format!("generated-{seed}")])
}

fn size(p: &Path) -> f64 {
    std::fs::metadata(p).unwrap().len() as f64 / 1e6
}

/// Best of three: (script-end time reported by the page in ms, wall seconds).
fn chromium(page: &Path) -> Option<(f64, f64)> {
    let chrome = Path::new("/usr/bin/chromium");
    if !chrome.exists() {
        return None;
    }
    let mut best: Option<(f64, f64)> = None;
    for _ in 0..3 {
        let profile = tempfile::TempDir::new().unwrap();
        let t = Instant::now();
        let out = Command::new(chrome)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("file://{}", page.display()))
            .output()
            .ok()?;
        let wall = t.elapsed().as_secs_f64();
        let dom = String::from_utf8_lossy(&out.stdout);
        let ms = dom
            .find("data-ms=\"")
            .and_then(|i| {
                let rest = &dom[i + 9..];
                rest[..rest.find('"')?].parse::<f64>().ok()
            })
            .unwrap_or(f64::NAN);
        if best.is_none_or(|(_, w)| wall < w) {
            best = Some((ms, wall));
        }
    }
    best
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return; // `cargo test --benches` smoke run: nothing to time
    }
    let dir = data_dir().join("report");
    std::fs::create_dir_all(&dir).unwrap();
    let a = wide_profile(0xa11ce, 0.0);
    let b = wide_profile(0xb0b, 3.0);
    let t = Instant::now();
    let a_json = serde_json::to_vec(&a).unwrap();
    let serialise = t.elapsed().as_secs_f64();
    let pa = dir.join("a.profile.json");
    let pb = dir.join("b.profile.json");
    std::fs::write(&pa, &a_json).unwrap();
    std::fs::write(&pb, serde_json::to_vec(&b).unwrap()).unwrap();
    let (ja, one, two) = (dir.join("a.json"), dir.join("a.html"), dir.join("ab.html"));
    let s = |p: &Path| p.to_str().unwrap().to_string();

    let merge = preflight_best(&["merge", &s(&pa), "-o", &s(&ja)]);
    let report = preflight_best(&["report", &s(&pa), "-o", &s(&one)]);
    let compare = preflight_best(&["report", &s(&pb), "--baseline", &s(&pa), "-o", &s(&two)]);

    println!("HTML report of a {COLS}-column profile ({ROWS} rows), best of 3, fresh processes:");
    println!(
        "  profile JSON: {:.1} MB; serde_json in process {:.3} s",
        size(&ja),
        serialise
    );
    println!("  merge (read + write JSON)           {merge:.3} s  (baseline)");
    println!(
        "  report, one dataset                 {report:.3} s  {:.2}x   {:.2} MB",
        report / merge,
        size(&one)
    );
    println!(
        "  report --baseline (drift per column) {compare:.3} s  {:.2}x   {:.2} MB",
        compare / merge,
        size(&two)
    );
    let tiny = dir.join("tiny.html");
    std::fs::write(
        &tiny,
        "<!DOCTYPE html><html><body><script>document.body.setAttribute('data-ms', \
         Math.round(performance.now()))</script></body></html>",
    )
    .unwrap();
    match (chromium(&tiny), chromium(&one), chromium(&two)) {
        (Some((_, empty)), Some((ms1, w1)), Some((ms2, w2))) => {
            println!(
                "  chromium: parse + script {ms1:.0} ms (one dataset), {ms2:.0} ms (comparison); \
                 wall {w1:.2} s / {w2:.2} s against {empty:.2} s for an empty page"
            );
        }
        _ => println!("  chromium: not installed (/usr/bin/chromium), browser load not measured"),
    }
}
