//! Drift benchmark (release build): `cargo bench --bench drift`.
//!
//! Generates, once, two 3-million-row tables with the profile benchmark's generator
//! (different seeds: same distributions, different rows) under target/bench-data, then
//! times, with the built `preflight` binary, each in a fresh process, best of three:
//! - profiling both tables (`preflight profile a`, then `preflight profile b`);
//! - `preflight drift a b` with the defaults (3M rows is above --exact-max-rows, so the
//!   profiles' sketches are compared);
//! - `preflight drift a b --exact-max-rows 3000000` (every numeric value read and sorted:
//!   scipy-equal statistics);
//! - `preflight skew a b --key id` (3M matched pairs, every feature compared) unlimited and
//!   under `--memory-limit 128MB` (the sorts, joins and key counts spill): the cost of
//!   spilling as a ratio.
//!
//! Target (issue "Training/serving skew and drift"): drift <= 2x profiling both.
#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is the right behaviour

mod common;

use common::{data_dir, long_parquet, preflight_best};

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
    let pa = preflight_best(&["profile", a, "--format", "json", "-o", "/dev/null"]);
    let pb = preflight_best(&["profile", b, "--format", "json", "-o", "/dev/null"]);
    let profile_both = pa + pb;
    let sketch = preflight_best(&["drift", a, b, "--format", "json", "-o", "/dev/null"]);
    let exact = preflight_best(&[
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
    let skew = |limit: &str| {
        preflight_best(&[
            "skew",
            a,
            b,
            "--key",
            "id",
            "--memory-limit",
            limit,
            "--format",
            "json",
            "-o",
            "/dev/null",
        ])
    };
    let (skew_unlimited, skew_small) = (skew("unlimited"), skew("128MB"));
    println!("profile a + b (3M rows each): {profile_both:.3} s ({pa:.3} + {pb:.3})");
    println!(
        "drift, sketches (default):    {sketch:.3} s  ratio {:.2}x (target <= 2x)",
        sketch / profile_both
    );
    println!(
        "drift, exact (all values):    {exact:.3} s  ratio {:.2}x",
        exact / profile_both
    );
    println!("skew --key id, unlimited:     {skew_unlimited:.3} s");
    println!(
        "skew --key id, 128MB limit:   {skew_small:.3} s  ratio {:.2}x (spilling)",
        skew_small / skew_unlimited
    );
}
