//! `--cluster`: profile, infer, validate and drift computed by a real Ballista cluster of
//! this binary's processes (`preflight cluster scheduler` and two `preflight cluster
//! executor`s on 127.0.0.1 ports), compared with the same commands run locally, on a
//! partitioned real table (nycflights13 flights in 12 Parquet files, one per month).
//! Also: a scheduler nobody listens on, and a cluster that cannot see the input (its
//! processes run in a mount namespace where the data directory is an empty tmpfs:
//! apache/datafusion-ballista#353's silent empty scan) both fail with exit 2.
#![cfg(feature = "cluster")]
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use arrow::array::{AsArray, RecordBatch};
use common::readyz::wait_ready;
use common::{Server, bin, fixture, flights_by_month, free_port, read_parquet, run, write_parquet};
use serde_json::Value;

/// A scheduler and its executors, stopped when dropped.
struct Cluster {
    url: String,
    _scheduler: Server,
    executors: Vec<Server>,
}

/// `preflight` itself, or under `unshare` in a mount namespace where `hide` is an empty
/// directory.
fn preflight(hide: Option<&Path>, args: &[String]) -> Command {
    match hide {
        None => {
            let mut c = bin();
            c.args(args);
            c
        }
        Some(dir) => {
            let mut c = Command::new("unshare");
            let script = format!(
                "mount -t tmpfs none '{}' && exec \"$0\" \"$@\"",
                dir.display()
            );
            c.args([
                "--mount",
                "sh",
                "-c",
                &script,
                env!("CARGO_BIN_EXE_preflight"),
            ])
            .args(args);
            c
        }
    }
}

fn start_cluster(dir: &Path, executors: usize, hide: Option<&Path>) -> Cluster {
    let port = free_port();
    let s = |v: &str| v.to_string();
    let scheduler = Server::start(
        preflight(
            hide,
            &[
                s("cluster"),
                s("scheduler"),
                s("--port"),
                port.to_string(),
                s("--min-executors"),
                executors.to_string(),
                s("--executor-timeout"),
                s("5"),
            ],
        ),
        port,
        dir.join(format!("scheduler-{port}.log")),
    );
    let executors = (0..executors)
        .map(|i| {
            let (flight, grpc) = (free_port(), free_port());
            let work = dir.join(format!("executor-{port}-{i}"));
            std::fs::create_dir_all(&work).unwrap();
            Server::start(
                preflight(
                    hide,
                    &[
                        s("cluster"),
                        s("executor"),
                        s("--scheduler"),
                        format!("127.0.0.1:{port}"),
                        s("--port"),
                        flight.to_string(),
                        s("--grpc-port"),
                        grpc.to_string(),
                        s("--concurrent-tasks"),
                        s("2"),
                        s("--heartbeat"),
                        s("1"),
                        s("--work-dir"),
                        work.display().to_string(),
                    ],
                ),
                flight,
                dir.join(format!("executor-{port}-{i}.log")),
            )
        })
        .collect();
    let cluster = Cluster {
        url: format!("df://127.0.0.1:{port}"),
        _scheduler: scheduler,
        executors,
    };
    wait_ready(port);
    cluster
}

/// The flights table with an `id` column (the row number) in 4 Parquet files; with
/// `shift`, every 10th row's `dep_delay` is one minute later.
fn keyed_flights(dir: &Path, shift: bool) -> PathBuf {
    use arrow::array::{Float64Array, Int64Array};
    std::fs::create_dir_all(dir).unwrap();
    let batches = read_parquet(&fixture("nycflights13_flights.parquet"));
    let mut id = 0i64;
    let keyed: Vec<RecordBatch> = batches
        .iter()
        .map(|b| {
            let ids: Vec<i64> = (id..id + b.num_rows() as i64).collect();
            id += b.num_rows() as i64;
            let delay = b.column_by_name("dep_delay").unwrap();
            let delay = arrow::compute::cast(delay, &arrow::datatypes::DataType::Float64).unwrap();
            let delay: Float64Array = delay
                .as_primitive::<arrow::datatypes::Float64Type>()
                .iter()
                .zip(&ids)
                .map(|(v, i)| v.map(|v| if shift && i % 10 == 0 { v + 1.0 } else { v }))
                .collect();
            let mut fields: Vec<_> = b.schema().fields().iter().cloned().collect();
            let mut columns = b.columns().to_vec();
            let at = b.schema().index_of("dep_delay").unwrap();
            fields[at] = std::sync::Arc::new(arrow::datatypes::Field::new(
                "dep_delay",
                arrow::datatypes::DataType::Float64,
                true,
            ));
            columns[at] = std::sync::Arc::new(delay);
            fields.push(std::sync::Arc::new(arrow::datatypes::Field::new(
                "id",
                arrow::datatypes::DataType::Int64,
                false,
            )));
            columns.push(std::sync::Arc::new(Int64Array::from(ids)));
            RecordBatch::try_new(
                std::sync::Arc::new(arrow::datatypes::Schema::new(fields)),
                columns,
            )
            .unwrap()
        })
        .collect();
    let per = keyed.len().div_ceil(4);
    for (i, part) in keyed.chunks(per).enumerate() {
        write_parquet(&dir.join(format!("part-{i}.parquet")), part);
    }
    dir.to_path_buf()
}

fn json(args: &[&str]) -> (i32, Value, String) {
    let r = run(args);
    assert!(
        r.code == 0 || r.code == 1,
        "preflight {args:?}: exit {}: {}",
        r.code,
        r.stderr
    );
    (r.code, serde_json::from_str(&r.stdout).unwrap(), r.stdout)
}

/// Two JSON documents agree: the same keys, arrays and text; integers equal; floats to
/// `rel` relative (or 1e-12 absolute near zero). `path` names the place of a difference.
fn agree(path: &str, a: &Value, b: &Value, rel: f64) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let (kx, ky): (Vec<_>, Vec<_>) = (x.keys().collect(), y.keys().collect());
            assert_eq!(kx, ky, "{path}: keys differ");
            for (k, v) in x {
                agree(&format!("{path}.{k}"), v, &y[k], rel);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: lengths differ");
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                agree(&format!("{path}[{i}]"), u, v, rel);
            }
        }
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (u, v) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (u - v).abs() <= rel * u.abs().max(v.abs()) || (u - v).abs() < 1e-12,
                "{path}: {u} vs {v}"
            );
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

#[test]
fn cluster_runs_equal_local_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let all = flights_by_month(&tmp.path().join("flights"), 1..=12);
    let train = flights_by_month(&tmp.path().join("train"), 1..=6);
    let serve = flights_by_month(&tmp.path().join("serve"), 7..=12);
    let cluster = start_cluster(tmp.path(), 2, None);
    assert_eq!(cluster.executors.len(), 2);
    let url = cluster.url.as_str();
    let dir = all.to_str().unwrap();

    // profile: computed on the executors, byte for byte the local profile (the cluster
    // plans the local run's partitions, and partial states merge in one fixed order).
    let (_, local, local_text) = json(&["profile", dir, "--format", "json"]);
    let (_, remote, remote_text) = json(&["profile", dir, "--format", "json", "--cluster", url]);
    assert_eq!(remote["row_count"], 336_776);
    agree("profile", &local, &remote, 0.0);
    assert!(
        local_text == remote_text,
        "the cluster's profile JSON is not the local one's"
    );
    // The cluster's digest quantiles against the exact ones (a sort of every value):
    // `time_hour` has more distinct values than the profile keeps exactly, and its 12
    // partial digests cover disjoint months.
    let mut times: Vec<i64> = read_parquet(&fixture("nycflights13_flights.parquet"))
        .iter()
        .flat_map(|b| {
            let t = b.column_by_name("time_hour").unwrap();
            let t = arrow::compute::cast(t, &arrow::datatypes::DataType::Int64).unwrap();
            t.as_primitive::<arrow::datatypes::Int64Type>()
                .iter()
                .flatten()
                .collect::<Vec<_>>()
        })
        .collect();
    times.sort_unstable();
    let time_hour = remote["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "time_hour")
        .unwrap();
    let range = (times[times.len() - 1] - times[0]) as f64;
    for q in [10usize, 25, 50, 64, 75, 90] {
        let got = time_hour["numeric"]["percentiles"][q].as_f64().unwrap();
        let exact = times[(q * (times.len() - 1)) / 100] as f64;
        eprintln!(
            "time_hour p{q}: {:.3}% of the range",
            100.0 * (got - exact).abs() / range
        );
        assert!(
            (got - exact).abs() < 0.002 * range,
            "time_hour p{q}: {got} against {exact} exactly"
        );
    }
    // Two cluster runs: the same bytes (partial states merge in a fixed order).
    let (_, _, again) = json(&["profile", dir, "--format", "json", "--cluster", url]);
    assert!(remote_text == again, "two cluster runs differ");

    // infer + validate: the schema the cluster infers is the local one, and serving data
    // checked against it gives the same anomalies.
    let schema_local = tmp.path().join("local.yaml");
    let schema_remote = tmp.path().join("remote.yaml");
    for (out, extra) in [(&schema_local, None), (&schema_remote, Some(url))] {
        let mut args = vec![
            "infer",
            train.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ];
        if let Some(u) = extra {
            args.extend(["--cluster", u]);
        }
        let r = run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    assert_eq!(
        std::fs::read_to_string(&schema_local).unwrap(),
        std::fs::read_to_string(&schema_remote).unwrap()
    );
    let s = schema_local.to_str().unwrap();
    let serve = serve.to_str().unwrap();
    let (code_l, local, _) = json(&["validate", serve, "--schema", s, "--format", "json"]);
    let (code_r, remote, _) = json(&[
        "validate",
        serve,
        "--schema",
        s,
        "--format",
        "json",
        "--cluster",
        url,
    ]);
    assert_eq!(code_l, code_r);
    let anomalies = |v: &Value| -> Vec<(String, String, String)> {
        v["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["kind"].as_str().unwrap_or("").to_string(),
                    a["column"].as_str().unwrap_or("").to_string(),
                    a["severity"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    assert!(
        !anomalies(&local).is_empty(),
        "summer flights differ from winter ones"
    );
    assert_eq!(anomalies(&local), anomalies(&remote));

    // drift between the halves: the same verdicts and distances.
    let train = train.to_str().unwrap();
    let (code_l, local, _) = json(&["drift", train, serve, "--format", "json"]);
    let (code_r, remote, _) = json(&["drift", train, serve, "--format", "json", "--cluster", url]);
    assert_eq!(code_l, code_r);
    agree("drift", &local, &remote, 1e-6);

    // skew by key: the cluster runs the join; the same mismatches.
    let a = keyed_flights(&tmp.path().join("keyed-a"), false);
    let b = keyed_flights(&tmp.path().join("keyed-b"), true);
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let (code_l, local, _) = json(&["skew", a, b, "--key", "id", "--format", "json"]);
    let (code_r, remote, _) = json(&[
        "skew",
        a,
        b,
        "--key",
        "id",
        "--format",
        "json",
        "--cluster",
        url,
    ]);
    assert_eq!(code_l, code_r);
    let text = local.to_string();
    assert!(text.contains("dep_delay"), "{text}");
    agree("skew", &local, &remote, 1e-9);
}

#[test]
fn a_scheduler_nobody_listens_on_is_one_line_and_exit_2() {
    let port = free_port();
    let url = format!("df://127.0.0.1:{port}");
    let started = Instant::now();
    let r = run(&[
        "profile",
        fixture("nycflights13_flights.parquet").to_str().unwrap(),
        "--cluster",
        &url,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&url) && r.stderr.contains("cannot reach the Ballista scheduler"),
        "{}",
        r.stderr
    );
    let r = run(&["profile", "x.parquet", "--cluster", "localhost:50050"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("expected df://HOST:PORT"), "{}", r.stderr);
}

#[test]
fn a_cluster_that_cannot_see_the_data_is_an_error_not_an_empty_table() {
    let probe = Command::new("unshare")
        .args(["--mount", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !probe {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: `unshare --mount` is needed to hide the data from the cluster"
        );
        eprintln!("skipped: `unshare --mount` is not permitted here");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = flights_by_month(&tmp.path().join("data"), 1..=2);
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let cluster = start_cluster(&logs, 1, Some(&data));
    let r = run(&[
        "profile",
        data.to_str().unwrap(),
        "--cluster",
        &cluster.url,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the cluster read 0 rows where the 2 input files hold")
            && r.stderr.contains("must see the input at the same path"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_executor_that_stops_mid_query_gives_the_profile_or_one_line_in_bounded_time() {
    let tmp = tempfile::tempdir().unwrap();
    let data = flights_by_month(&tmp.path().join("data"), 1..=12);
    let cluster = start_cluster(tmp.path(), 2, None);
    let (_, _, local_text) = json(&["profile", data.to_str().unwrap(), "--format", "json"]);
    // One executor frozen (SIGSTOP) before the job: the tasks it is given never finish,
    // and its heartbeats stop, so the scheduler takes it as dead 5 s later.
    let frozen = cluster.executors[0].child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-STOP", &frozen])
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    let client = bin()
        .args(["profile", data.to_str().unwrap(), "--format", "json"])
        .args(["--cluster", &cluster.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = client.wait_with_output().unwrap();
    let (code, stdout, stderr) = (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    // Ballista runs the dead executor's tasks again on the other one, or fails the job:
    // either the profile the local run gives, or exit 2 with one line: preflight gives the
    // job up 30 s after the scheduler counts fewer executors (Ballista 55 was seen waiting
    // for the lost tasks without end).
    assert!(started.elapsed() < Duration::from_secs(90), "{stderr}");
    eprintln!(
        "an executor stopped: exit {code} after {:.1} s {}",
        started.elapsed().as_secs_f64(),
        stderr.trim()
    );
    match code {
        // Tasks run again elsewhere read the same partitions: the same bytes.
        0 => assert!(
            stdout == local_text,
            "the profile differs from the local one"
        ),
        2 => {
            assert!(stdout.is_empty(), "{stdout}");
            assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
            assert!(stderr.contains("--cluster"), "{stderr}");
        }
        other => panic!("exit {other}: {stderr}"),
    }
}
