//! Schema benchmark (release build): `cargo bench --bench schema`.
//!
//! Times whole `preflight` processes, as CI runs them:
//! - `validate` of a 1,032-row CSV (penguins, three copies) against its inferred schema
//!   (target < 150 ms), with the ratio to `profile` of the same file (the floor: validate
//!   is one profile pass plus the checks);
//! - `infer` + `validate` of the 5,000-column x 100k-row Parquet table that
//!   `cargo bench --bench profile` generates (target < 10 s together), with the ratio to
//!   profiling it once; and `validate` alone against decoding the file (a validation
//!   keeps only a summary of the columns it checks for range and presence).
#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is the right behaviour

mod common;

use std::path::{Path, PathBuf};

use common::preflight_once;

/// Median of `n` runs.
fn median(n: usize, args: &[&str]) -> f64 {
    let mut t: Vec<f64> = (0..n).map(|_| preflight_once(args)).collect();
    t.sort_by(f64::total_cmp);
    t[n / 2]
}

fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target").into())
        .into()
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return; // `cargo test --benches` smoke run: nothing to time
    }
    let dir = target_dir().join("bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let small = dir.join("penguins_x3.csv");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/penguins.csv"
    ))
    .unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    std::fs::write(&small, format!("{header}\n{rows}{rows}{rows}")).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let schema = dir.join("penguins.schema.yaml");
    preflight_once(&["infer", &s(&small), "--label", "species", "-o", &s(&schema)]);
    let v = median(
        11,
        &[
            "validate",
            &s(&small),
            "--schema",
            &s(&schema),
            "--format",
            "json",
            "-o",
            &s(&dir.join("v.json")),
        ],
    );
    let p = median(
        11,
        &[
            "profile",
            &s(&small),
            "--format",
            "json",
            "-o",
            &s(&dir.join("p.json")),
        ],
    );
    println!(
        "{:<44} {:>9} {:>9} {:>7}",
        "case", "time s", "floor s", "ratio"
    );
    println!(
        "{:<44} {:>9.3} {:>9.3} {:>6.2}x   (target < 0.150 s; floor = profile)",
        "validate 1,032-row CSV (whole process)",
        v,
        p,
        v / p
    );

    let wide = dir.join("wide-rg10k.parquet"); // written by benches/profile.rs
    if !wide.exists() {
        println!(
            "(skipped 5,000 columns: run `cargo bench --bench profile` first to generate {})",
            wide.display()
        );
        return;
    }
    let wschema = dir.join("wide.schema.yaml");
    let i = preflight_once(&["infer", &s(&wide), "-o", &s(&wschema)]);
    let v = preflight_once(&[
        "validate",
        &s(&wide),
        "--schema",
        &s(&wschema),
        "--format",
        "json",
        "-o",
        &s(&dir.join("wv.json")),
    ]);
    let p = preflight_once(&[
        "profile",
        &s(&wide),
        "--format",
        "json",
        "-o",
        &s(&dir.join("wp.json")),
    ]);
    let d = decode_as_profiled(&wide);
    println!(
        "{:<44} {:>9.3} {:>9.3} {:>6.2}x   (validate against reading every batch and dropping it as the profile reads, in this process; profile {p:.2} s, {:.2}x)",
        "validate 5,000 cols x 100k rows",
        v,
        d,
        v / d,
        p / d
    );
    println!(
        "{:<44} {:>9.3} {:>9.3} {:>6.2}x   (target < 10 s; floor = two reads of the file, {:.2} s; infer {i:.2} s + validate {v:.2} s)",
        "infer + validate 5,000 cols x 100k rows",
        i + v,
        p,
        (i + v) / p,
        2.0 * d
    );
}

/// Seconds to read every batch of `path` and drop it, as the profile reads it (a wide
/// table by column groups): the floor of any command that reads the file.
fn decode_as_profiled(path: &Path) -> f64 {
    use preflight_stats::source::{Dataset, SourceOptions};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t = std::time::Instant::now();
    rt.block_on(async {
        let ds = Dataset::open(
            &[path.to_string_lossy().into_owned()],
            &SourceOptions::default(),
        )
        .await
        .unwrap();
        ds.decode_as_profiled().await.unwrap()
    });
    t.elapsed().as_secs_f64()
}
