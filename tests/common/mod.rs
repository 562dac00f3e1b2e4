//! Shared helpers for the end-to-end tests: run the built binary on real files.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The built binary, with the environment that changes its text output removed (a
/// `COLUMNS` exported by the shell would fit tables to it; `NO_COLOR`).
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_preflight"));
    c.env_remove("COLUMNS").env_remove("NO_COLOR");
    c
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Write `content` to `dir/name` (creating directories); returns the path as a string.
pub fn write(dir: &Path, name: &str, content: &[u8]) -> String {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("create directory");
    }
    std::fs::write(&p, content).expect("write file");
    p.to_str().expect("UTF-8 path").to_string()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(args: &[&str]) -> Run {
    let out: Output = bin().args(args).output().expect("run preflight");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Profile paths as JSON and parse it; panics with stderr on failure.
pub fn profile_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["profile"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let r = run(&all);
    assert_eq!(r.code, 0, "preflight {all:?} failed: {}", r.stderr);
    serde_json::from_str(&r.stdout).expect("profile output is JSON")
}

pub fn column<'a>(p: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    p["columns"]
        .as_array()
        .expect("columns array")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// Assert that `doc` satisfies `schemas/<schema>` (the output contract); `what` names the
/// document in the failure message.
pub fn assert_matches_schema(schema: &str, doc: &serde_json::Value, what: &str) {
    let text = std::fs::read_to_string(root().join("schemas").join(schema)).expect("schema file");
    let schema_doc: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    let v = jsonschema::validator_for(&schema_doc).expect("valid JSON Schema");
    let errors: Vec<String> = v
        .iter_errors(doc)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what} violates {schema}: {errors:#?}");
}

/// TFDV's Jensen-Shannon divergence written out from the raw values: ten equal-width
/// buckets per side over its own range, each spread uniformly over the cells between the
/// union of both sides' boundaries, log2.
pub fn tfdv_js(a: &[f64], b: &[f64]) -> f64 {
    let hist = |v: &[f64]| -> Vec<(f64, f64, f64)> {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w = (hi - lo) / 10.0;
        let mut counts = [0.0; 10];
        for x in v {
            counts[(((x - lo) / w) as usize).min(9)] += 1.0;
        }
        let edge = |i: usize| if i == 10 { hi } else { lo + i as f64 * w };
        (0..10).map(|i| (edge(i), edge(i + 1), counts[i])).collect()
    };
    let (ha, hb) = (hist(a), hist(b));
    let mut bounds: Vec<f64> = ha.iter().chain(&hb).flat_map(|h| [h.0, h.1]).collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    let cells = |h: &[(f64, f64, f64)]| -> Vec<f64> {
        bounds
            .windows(2)
            .map(|c| {
                h.iter()
                    .filter(|b| b.0 <= c[0] && c[1] <= b.1)
                    .map(|b| b.2 * (c[1] - c[0]) / (b.1 - b.0))
                    .sum()
            })
            .collect()
    };
    let (p, q) = (cells(&ha), cells(&hb));
    let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
    let mut js = 0.0;
    for (p, q) in p.iter().zip(&q) {
        let (p, q) = (p / sp, q / sq);
        let m = (p + q) / 2.0;
        if p > 0.0 {
            js += p * (p / m).log2() / 2.0;
        }
        if q > 0.0 {
            js += q * (q / m).log2() / 2.0;
        }
    }
    js.min(1.0)
}

/// Every batch of a Parquet file.
pub fn read_parquet(path: &Path) -> Vec<arrow::array::RecordBatch> {
    let file = std::fs::File::open(path).expect("open parquet");
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet footer")
        .build()
        .expect("parquet reader")
        .map(|b| b.expect("parquet batch"))
        .collect()
}

/// Write batches (of one schema) as a Parquet file.
pub fn write_parquet(path: &Path, batches: &[arrow::array::RecordBatch]) {
    let file = std::fs::File::create(path).expect("create parquet");
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batches[0].schema(), None)
        .expect("parquet writer");
    for b in batches {
        w.write(b).expect("write batch");
    }
    w.close().expect("close parquet");
}

/// The formats of the checking commands and their snapshot file extensions.
pub const CHECK_FORMATS: [(&str, &str); 5] = [
    ("table", "txt"),
    ("json", "json"),
    ("junit", "xml"),
    ("github", "txt"),
    ("markdown", "md"),
];

/// Compare `got` with `tests/snapshots/<name>`; `PREFLIGHT_UPDATE_SNAPSHOTS=1` rewrites the
/// file instead (then review the diff before committing). A mismatch fails with a unified
/// diff of the two. (A hand-rolled `insta::assert_snapshot!`: insta is not among the locked
/// dependencies, and the snapshots are plain files any diff tool reads.)
pub fn assert_snapshot(name: &str, got: &str) {
    let p = root().join("tests/snapshots").join(name);
    if std::env::var_os("PREFLIGHT_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&p).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run with PREFLIGHT_UPDATE_SNAPSHOTS=1 and review it",
            p.display()
        )
    });
    if got != want {
        let diff = similar::TextDiff::from_lines(want.as_str(), got)
            .unified_diff()
            .context_radius(3)
            .header(&format!("tests/snapshots/{name}"), "output")
            .to_string();
        panic!(
            "{name} changed (PREFLIGHT_UPDATE_SNAPSHOTS=1 rewrites it; review the diff):\n{diff}"
        );
    }
}
pub mod batches;
pub mod readyz;

/// A port free on 127.0.0.1 now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// A server process started by a test on 127.0.0.1, ready once its port accepts
/// connections; killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Server {
    pub fn start(mut cmd: Command, port: u16, log: PathBuf) -> Self {
        let out = std::fs::File::create(&log).expect("server log");
        let err = out.try_clone().expect("server log");
        let child = cmd
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("start server");
        let mut server = Server { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("server exited ({status}): {}", server.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "server did not start: {}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The flights table split by month into `dir/month-MM.parquet` (12 files), and the rows
/// of months `from..=to` only.
pub fn flights_by_month(dir: &Path, months: std::ops::RangeInclusive<i32>) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let batches = read_parquet(&fixture("nycflights13_flights.parquet"));
    for m in months {
        let parts: Vec<arrow::array::RecordBatch> = batches
            .iter()
            .map(|b| {
                let month = b.column_by_name("month").unwrap();
                let month =
                    arrow::compute::cast(month, &arrow::datatypes::DataType::Int32).unwrap();
                use arrow::array::AsArray;
                let keep: arrow::array::BooleanArray = month
                    .as_primitive::<arrow::datatypes::Int32Type>()
                    .iter()
                    .map(|v| Some(v == Some(m)))
                    .collect();
                arrow::compute::filter_record_batch(b, &keep).unwrap()
            })
            .filter(|b| b.num_rows() > 0)
            .collect();
        assert!(!parts.is_empty(), "month {m} has rows");
        write_parquet(&dir.join(format!("month-{m:02}.parquet")), &parts);
    }
    dir.to_path_buf()
}
