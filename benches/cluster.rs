//! The cluster (release build): `cargo bench --bench cluster`.
//!
//! Profiles the 3M-row generated table as 16 Parquet files on a cluster of this build's
//! processes on 127.0.0.1 (`preflight cluster scheduler` and two executors of one task
//! slot each) and in one local process with two partitions, the same data and the same
//! two cores, best of three whole runs each; prints the ratio and each executor's peak
//! resident memory (VmHWM). The same table read from an S3-compatible server against
//! local disk is `cargo bench --bench remote`.
#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is the right behaviour

mod common;
#[path = "../tests/common/readyz.rs"]
mod readyz;

use std::net::TcpListener;
use std::process::{Command, Stdio};

use common::{Stop, data_dir, preflight_best, split16};
use readyz::wait_ready;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(args: &[String]) -> Stop {
    Stop(
        Command::new(env!("CARGO_BIN_EXE_preflight"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Peak resident memory of a process, in MB.
fn peak_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return; // `cargo test --benches` smoke run: nothing to time
    }
    let dir = data_dir().join("long16");
    split16(&dir);
    let port = free_port();
    let s = |v: &str| v.to_string();
    let _scheduler = spawn(&[
        s("cluster"),
        s("scheduler"),
        s("--port"),
        port.to_string(),
        s("--min-executors"),
        s("2"),
    ]);
    let executors: Vec<Stop> = (0..2)
        .map(|_| {
            spawn(&[
                s("cluster"),
                s("executor"),
                s("--scheduler"),
                format!("127.0.0.1:{port}"),
                s("--port"),
                free_port().to_string(),
                s("--grpc-port"),
                free_port().to_string(),
                s("--concurrent-tasks"),
                s("1"),
            ])
        })
        .collect();
    wait_ready(port);
    let url = format!("df://127.0.0.1:{port}");
    let input = dir.to_str().unwrap();
    let out = ["--format", "json", "-o", "/dev/null", "--no-config"];
    let mut local = vec!["profile", input, "--partitions", "2"];
    local.extend_from_slice(&out);
    let mut cluster = vec!["profile", input, "--cluster", &url];
    cluster.extend_from_slice(&out);
    let l = preflight_best(&local);
    let c = preflight_best(&cluster);
    println!(
        "{:<56} {:>9} {:>9} {:>7}",
        "case (3M rows in 16 Parquet files, 2 cores, best of 3)", "cluster s", "local s", "ratio"
    );
    println!(
        "{:<56} {c:>9.3} {l:>9.3} {:>6.2}x   (target <= 1.5x)",
        "profile: 1 scheduler + 2 executors vs one process",
        c / l
    );
    for (i, e) in executors.iter().enumerate() {
        println!(
            "executor {i}: peak RSS {:.0} MB (target < 300 MB)",
            peak_mb(e.0.id())
        );
    }
}
