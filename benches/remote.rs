//! Remote inputs (release build): `cargo bench --bench remote`.
//!
//! Profiles the 3M-row generated table (one 66 MB Parquet file, and the same rows as 16
//! files in a `part=N` directory) from moto's S3-compatible server on 127.0.0.1 and from
//! local disk, in the same run, and prints the ratio. moto is Python and holds objects in
//! memory: the ratio is an upper bound of the object-store path's own cost (listing,
//! ranged reads, HTTP) over a real S3 endpoint's bandwidth. Needs a Python with moto and
//! boto3 (`PREFLIGHT_TEST_PYTHON`, else ci/test's venv in the target directory); skips,
//! saying so, without one.
#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is the right behaviour

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Stop, data_dir, long_parquet, preflight_best_with, split16};

fn python() -> Option<PathBuf> {
    [
        std::env::var_os("PREFLIGHT_TEST_PYTHON").map(PathBuf::from),
        Some(data_dir().join("../py-venv/bin/python")),
    ]
    .into_iter()
    .flatten()
    .find(|p| {
        Command::new(p)
            .args(["-c", "import moto.server, boto3"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return; // `cargo test --benches` smoke run: nothing to time
    }
    let Some(py) = python() else {
        println!(
            "remote: skipped (no Python with moto and boto3; run ci/test or set PREFLIGHT_TEST_PYTHON)"
        );
        return;
    };
    let dir = data_dir();
    let one = dir.join("long.parquet");
    long_parquet(&one, 42);
    let split_dir = dir.join("long16");
    let parts = split16(&split_dir);

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Stop(
        Command::new(&py)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut script = format!(
        "import boto3\ns3 = boto3.client('s3', endpoint_url='{endpoint}', aws_access_key_id='b', \
         aws_secret_access_key='b', region_name='us-east-1')\ns3.create_bucket(Bucket='bench')\n\
         s3.upload_file({:?}, 'bench', 'long.parquet')\n",
        one.display().to_string()
    );
    for (i, p) in parts.iter().enumerate() {
        script.push_str(&format!(
            "s3.upload_file({:?}, 'bench', 'long16/part={i:02}/data.parquet')\n",
            p.display().to_string()
        ));
    }
    assert!(
        Command::new(&py)
            .args(["-c", &script])
            .status()
            .unwrap()
            .success()
    );
    let env = [
        ("AWS_ACCESS_KEY_ID", "b".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "b".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ENDPOINT_URL", endpoint),
    ];
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let json = ["--format", "json", "-o", "/dev/null", "--no-config"];
    let profile = |input: &str| {
        let mut a = vec!["profile", input];
        a.extend_from_slice(&json);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |env: &[(&str, String)], input: &str| {
        let args = profile(input);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        preflight_best_with(env, &args)
    };
    println!(
        "{:<52} {:>9} {:>9} {:>7}",
        "case (3M rows, 2 cores, best of 3)", "S3 s", "disk s", "ratio"
    );
    for (name, remote, local) in [
        (
            "profile one 66 MB Parquet file",
            "s3://bench/long.parquet".to_string(),
            s(&one),
        ),
        (
            "profile 16 Parquet files (part=NN/)",
            "s3://bench/long16/".to_string(),
            s(&split_dir),
        ),
    ] {
        let r = run(&env, &remote);
        let l = run(&[], &local);
        println!(
            "{name:<52} {r:>9.3} {l:>9.3} {:>6.2}x   (moto on 127.0.0.1 vs local disk)",
            r / l
        );
    }
}
