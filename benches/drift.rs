//! Drift benchmark (release build): `cargo bench --bench drift`.
//!
//! Generates, once, two 3-million-row tables with the profile benchmark's generator
//! (different seeds: same distributions, different rows) under target/bench-data, then
//! times, with the built `preflight` binary, each in a fresh process, best of three:
//! - profiling both tables (`preflight profile a`, then `preflight profile b`);
//! - `preflight drift a b` with the defaults (3M rows is above --exact-max-rows, so the
//!   profiles' sketches are compared);
//! - `preflight drift a b --exact-max-rows 3000000` (every numeric value read and sorted:
//!   scipy-equal statistics).
//!
//! Target (issue "Training/serving skew and drift"): drift <= 2x profiling both.
#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is the right behaviour

mod common;

use std::process::Command;
use std::time::Instant;

use common::{data_dir, long_parquet};

fn time(args: &[&str]) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
            .args(args)
            .output()
            .unwrap();
        let secs = t.elapsed().as_secs_f64();
        // drift exits 1 when it finds drift; 2 would be a failure to run.
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        best = best.min(secs);
    }
    best
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return; // `cargo test --benches` smoke run: nothing to time
    }
    let dir = data_dir();
    let a = dir.join("drift_a.parquet");
    let b = dir.join("drift_b.parquet");
    long_parquet(&a, 0xa11ce);
    long_parquet(&b, 0xb0b);
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let pa = time(&["profile", a, "--format", "json", "-o", "/dev/null"]);
    let pb = time(&["profile", b, "--format", "json", "-o", "/dev/null"]);
    let profile_both = pa + pb;
    let sketch = time(&["drift", a, b, "--format", "json", "-o", "/dev/null"]);
    let exact = time(&[
        "drift",
        a,
        b,
        "--format",
        "json",
        "-o",
        "/dev/null",
        "--exact-max-rows",
        "3000000",
    ]);
    println!("profile a + b (3M rows each): {profile_both:.3} s ({pa:.3} + {pb:.3})");
    println!(
        "drift, sketches (default):    {sketch:.3} s  ratio {:.2}x (target <= 2x)",
        sketch / profile_both
    );
    println!(
        "drift, exact (all values):    {exact:.3} s  ratio {:.2}x",
        exact / profile_both
    );
}
