//! Profile benchmark (release build): `cargo bench --bench profile`.
//!
//! Generates, once, a 3-million-row table (ints, floats with nulls, low- and
//! high-cardinality strings, timestamps) as Parquet and CSV, a 5,000-column x 100k-row
//! table as Parquet and as CSV, and CSV files of 1,000 to 100,000 columns with a few rows,
//! under target/bench-data. Each measurement runs in a fresh child process so its peak
//! RSS (VmHWM) is its own. Prints the profile time against decoding the same file with
//! the same reader in the same run; the wide CSV against the same table as Parquet
//! (decode plus profile); the few-row wide CSVs as the cost per column, 10,000 and 100,000
//! columns against 1,000 (1.0x is linear).
//!
//! Targets (issue "The workspace and the profile engine"): Parquet profile <= 1.5x
//! decode-only; peak RSS < 300 MB at 3M rows; 5,000 columns x 100k rows < 10 s on 2 cores.
//! Issue 17, target 3: the long CSV's profile ahead of `xan stats` on the same file (run
//! side by side when xan is installed; see [`xan`]).
//! Issue 17, target 2: wide CSV linear in the columns: 10,000 columns x 1 row < 1 s,
//! 100,000 columns x 10 rows < 10 s, 5,000 x 100k <= 1.5x the same table as Parquet.
#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is the right behaviour

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use common::{ROWS, Rng, data_dir, long_batch};
use datasketches::hll::{HllSketch, HllType};
use parquet::arrow::ArrowWriter;
use preflight_stats::source::{Dataset, SourceOptions};

const WIDE_COLS: usize = 5_000;
const WIDE_ROWS: usize = 100_000;
/// The wide table's file name under bench-data (benches/schema.rs reads it too).
const WIDE_FILE: &str = "wide-rg10k.parquet";
/// The same table as CSV (arrow's writer: floats in shortest round-trip form, nulls empty).
const WIDE_CSV: &str = "wide.csv";
/// Few-row CSV files of many columns: (columns, rows). The first is the per-column
/// baseline the others are compared with.
const WIDE_CSV_SHAPES: [(usize, usize); 3] = [(1_000, 1), (10_000, 1), (100_000, 10)];

fn shape_name((cols, rows): (usize, usize)) -> String {
    format!("wide-{}k-x{rows}.csv", cols / 1000)
}

/// A CSV of `cols` columns and `rows` rows: floats, ints and short strings in turn, one
/// float column in ten with empty (missing) cells.
fn write_shape(path: &Path, (cols, rows): (usize, usize)) {
    use std::io::Write;
    let mut rng = Rng(0xc5f);
    let tmp = path.with_extension("tmp");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp).unwrap());
    let names: Vec<String> = (0..cols).map(|c| format!("c{c}")).collect();
    writeln!(w, "{}", names.join(",")).unwrap();
    for _ in 0..rows {
        let cells: Vec<String> = (0..cols)
            .map(|c| match c % 10 {
                0..=3 => format!("{}", rng.unit() * 100.0),
                4 if rng.next().is_multiple_of(3) => String::new(),
                4 | 5 => format!("{}", rng.unit()),
                6..=8 => (rng.next() % 12).to_string(),
                _ => ["a", "bb", "ccc"][(rng.next() % 3) as usize].to_string(),
            })
            .collect();
        writeln!(w, "{}", cells.join(",")).unwrap();
    }
    w.into_inner().unwrap().sync_all().unwrap();
    std::fs::rename(tmp, path).unwrap();
}

fn wide_batch(rng: &mut Rng, n: usize) -> RecordBatch {
    let mut fields = Vec::with_capacity(WIDE_COLS);
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(WIDE_COLS);
    for c in 0..WIDE_COLS {
        match c % 10 {
            // 40% continuous floats, 20% floats with 10% nulls, 30% small ints, 10% strings
            0..=3 => {
                fields.push(Field::new(format!("f{c}"), DataType::Float64, false));
                cols.push(Arc::new(Float64Array::from(
                    (0..n).map(|_| rng.unit() * 100.0).collect::<Vec<_>>(),
                )));
            }
            4 | 5 => {
                fields.push(Field::new(format!("g{c}"), DataType::Float64, true));
                cols.push(Arc::new(Float64Array::from(
                    (0..n)
                        .map(|_| (!rng.next().is_multiple_of(10)).then(|| rng.unit()))
                        .collect::<Vec<_>>(),
                )));
            }
            6..=8 => {
                fields.push(Field::new(format!("i{c}"), DataType::Int64, false));
                cols.push(Arc::new(Int64Array::from(
                    (0..n).map(|_| (rng.next() % 12) as i64).collect::<Vec<_>>(),
                )));
            }
            _ => {
                fields.push(Field::new(format!("s{c}"), DataType::Utf8, false));
                let v = ["a", "bb", "ccc", "dddd", "e"];
                cols.push(Arc::new(StringArray::from(
                    (0..n)
                        .map(|_| v[(rng.next() % 5) as usize])
                        .collect::<Vec<_>>(),
                )));
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

fn generate(dir: &Path) {
    let pq = dir.join("long.parquet");
    let csv = dir.join("long.csv");
    // Row groups of 10k rows (400 MB of values here): a writer with Spark's 128 MB blocks
    // would make them smaller still. One 4 GB row group made DataFusion hold it whole.
    let wide = dir.join(WIDE_FILE);
    let props = common::props;
    if !pq.exists() || !csv.exists() {
        eprintln!("generating {ROWS}-row tables in {}", dir.display());
        let mut rng = Rng(0x5eed);
        let tmp_pq = dir.join("long.parquet.tmp");
        let tmp_csv = dir.join("long.csv.tmp");
        let first = long_batch(&mut Rng(1), 0, 1);
        let mut w = ArrowWriter::try_new(
            std::fs::File::create(&tmp_pq).unwrap(),
            first.schema(),
            Some(props()),
        )
        .unwrap();
        let mut c =
            arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(std::io::BufWriter::new(
                    std::fs::File::create(&tmp_csv).unwrap(),
                ));
        for start in (0..ROWS).step_by(100_000) {
            let b = long_batch(&mut rng, start, 100_000);
            w.write(&b).unwrap();
            c.write(&b).unwrap();
        }
        w.close().unwrap();
        drop(c);
        std::fs::rename(tmp_pq, &pq).unwrap();
        std::fs::rename(tmp_csv, &csv).unwrap();
    }
    if !wide.exists() {
        eprintln!("generating {WIDE_COLS} x {WIDE_ROWS} table");
        let mut rng = Rng(0xfeed);
        let tmp = dir.join("wide.parquet.tmp");
        let mut w: Option<ArrowWriter<std::fs::File>> = None;
        for _ in 0..(WIDE_ROWS / 10_000) {
            let b = wide_batch(&mut rng, 10_000);
            let writer = w.get_or_insert_with(|| {
                ArrowWriter::try_new(
                    std::fs::File::create(&tmp).unwrap(),
                    b.schema(),
                    Some(
                        props()
                            .into_builder()
                            .set_max_row_group_row_count(Some(10_000))
                            .build(),
                    ),
                )
                .unwrap()
            });
            writer.write(&b).unwrap();
        }
        w.unwrap().close().unwrap();
        std::fs::rename(tmp, &wide).unwrap();
    }
    let wide_csv = dir.join(WIDE_CSV);
    if !wide_csv.exists() {
        eprintln!("generating {WIDE_COLS} x {WIDE_ROWS} table as CSV");
        // The same seed and batches as the Parquet file: the same values.
        let mut rng = Rng(0xfeed);
        let tmp = dir.join("wide.csv.tmp");
        let mut c =
            arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(std::io::BufWriter::new(
                    std::fs::File::create(&tmp).unwrap(),
                ));
        for _ in 0..(WIDE_ROWS / 10_000) {
            c.write(&wide_batch(&mut rng, 10_000)).unwrap();
        }
        drop(c);
        std::fs::rename(tmp, &wide_csv).unwrap();
    }
    for shape in WIDE_CSV_SHAPES {
        let path = dir.join(shape_name(shape));
        if !path.exists() {
            write_shape(&path, shape);
        }
    }
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Child: run one phase, print "seconds peak_mb rows".
fn child(phase: &str, path: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = Instant::now();
    let rows = rt.block_on(async {
        let mut ds = Dataset::open(&[path.to_string()], &SourceOptions::default())
            .await
            .unwrap();
        if phase == "decode" {
            ds.decode_only().await.unwrap()
        } else if phase == "decode-groups" {
            ds.decode_as_profiled().await.unwrap()
        } else if phase == "hll" || phase == "sketch" {
            let batch = if phase == "hll" {
                hll_batch
            } else {
                sketch_batch
            };
            ds.scan_with(|| (0u64, Vec::new()), batch)
                .await
                .unwrap()
                .iter()
                .map(|(rows, _)| rows)
                .sum()
        } else if phase.ends_with("-groups") {
            let batch = match phase {
                "hll-groups" => hll_batch,
                "sketch-groups" => sketch_batch,
                _ => past_exact_batch,
            };
            ds.scan_as_profiled_with(|| (0u64, Vec::new()), batch)
                .await
                .unwrap()
                .iter()
                .filter(|(first, _)| *first)
                .map(|(_, (rows, _))| rows)
                .sum()
        } else {
            ds.profile(Arc::new(AtomicU64::new(0)))
                .await
                .unwrap()
                .row_count
        }
    });
    println!("{} {} {}", t.elapsed().as_secs_f64(), peak_rss_mb(), rows);
}

/// The two sketches a profile cannot skip, done plainly: [`hll_batch`], and a radix sort of
/// each batch's numbers (the profile sorts before its t-digest). Not a floor: the profile's
/// own code does both with less work (runs, exact counts for few distinct values).
fn sketch_batch(state: &mut (u64, Vec<HllSketch>), b: &RecordBatch) {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::DataType as D;
    hll_batch(state, b);
    let mut v: Vec<f64> = Vec::with_capacity(b.num_rows());
    for col in b.columns() {
        v.clear();
        match col.data_type() {
            D::Float64 => v.extend(
                col.as_primitive::<arrow::datatypes::Float64Type>()
                    .iter()
                    .flatten()
                    .filter(|x| x.is_finite()),
            ),
            D::Int64 => v.extend(
                col.as_primitive::<arrow::datatypes::Int64Type>()
                    .iter()
                    .flatten()
                    .map(|x| x as f64),
            ),
            _ => continue,
        }
        radsort::sort(&mut v);
        std::hint::black_box(&v);
    }
}

/// Count a batch's rows into `state` and give its HLL per column (made at the first batch).
fn rows_and_hlls<'s>(state: &'s mut (u64, Vec<HllSketch>), b: &RecordBatch) -> &'s mut [HllSketch] {
    let (rows, hlls) = state;
    *rows += b.num_rows() as u64;
    if hlls.is_empty() {
        *hlls = (0..b.num_columns())
            .map(|_| HllSketch::new(12, HllType::Hll8).unwrap())
            .collect();
    }
    hlls
}

/// The sketches a profile cannot skip for the columns whose values outrun its exact counts
/// (more than 1,024 distinct: in the wide table its floats; its whole numbers and strings
/// have 12 and 5 values, counted exactly, no sketch needed), done plainly: an HLL of each
/// such column's values and a radix sort of them (a quantile sketch orders its values).
fn past_exact_batch(state: &mut (u64, Vec<HllSketch>), b: &RecordBatch) {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::DataType as D;
    let hlls = rows_and_hlls(state, b);
    let mut v: Vec<f64> = Vec::with_capacity(b.num_rows());
    for (h, col) in hlls.iter_mut().zip(b.columns()) {
        if *col.data_type() != D::Float64 {
            continue;
        }
        v.clear();
        v.extend(
            col.as_primitive::<arrow::datatypes::Float64Type>()
                .iter()
                .flatten()
                .filter(|x| x.is_finite()),
        );
        v.iter().for_each(|x| h.update(x.to_bits() as i64));
        radsort::sort(&mut v);
        std::hint::black_box(&v);
    }
}

/// The least work a profile with distinct counts must do: decode, and hash every value of
/// every column into a DataSketches HLL, as the profile does (numbers by their f64 bits,
/// strings by their text; nulls are hashed too, which only flatters this floor).
fn hll_batch(state: &mut (u64, Vec<HllSketch>), b: &RecordBatch) {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::DataType as D;
    let hlls = rows_and_hlls(state, b);
    for (h, col) in hlls.iter_mut().zip(b.columns()) {
        match col.data_type() {
            D::Utf8View => col
                .as_string_view()
                .iter()
                .flatten()
                .for_each(|v| h.update(v)),
            D::Utf8 => col
                .as_string::<i32>()
                .iter()
                .flatten()
                .for_each(|v| h.update(v)),
            D::Float64 => col
                .as_primitive::<arrow::datatypes::Float64Type>()
                .values()
                .iter()
                .for_each(|v| h.update(v.to_bits() as i64)),
            _ => {
                let data = col.to_data();
                data.buffer::<i64>(0)[..col.len()]
                    .iter()
                    .for_each(|v| h.update((*v as f64).to_bits() as i64));
            }
        }
    }
}

/// `xan`, when installed where the bench looks: `PREFLIGHT_XAN`, else
/// `$CARGO_TARGET_DIR/xan/bin/xan` (`cargo install xan --root $CARGO_TARGET_DIR/xan`), else
/// `xan` on the PATH. Not a dependency: without it the line says how to get it.
fn xan() -> Option<std::path::PathBuf> {
    let candidates = [
        std::env::var_os("PREFLIGHT_XAN").map(Into::into),
        Some(data_dir().join("../xan/bin/xan")),
        Some("xan".into()),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|x: &std::path::PathBuf| {
            Command::new(x)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Issue 17, target 3: the long CSV's profile against `xan stats` on the same file, in
/// the same run, both as whole processes writing their output (best of five each; xan's
/// fastest mode, its parallel one when it has it).
fn xan_side_by_side(path: &Path) {
    let Some(xan) = xan() else {
        println!(
            "{:<28} not installed: `cargo install xan --root $CARGO_TARGET_DIR/xan` (or set PREFLIGHT_XAN) to run `xan stats` side by side",
            "  long.csv vs xan stats"
        );
        return;
    };
    let version = Command::new(&xan)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let help = Command::new(&xan)
        .args(["stats", "--help"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let file = path.to_str().unwrap();
    let profile_secs = (0..5)
        .map(|_| common::preflight_once(&["profile", file, "--format", "json", "-o", "/dev/null"]))
        .fold(f64::INFINITY, f64::min);
    // `xan stats` as the issue names it, and `xan stats -A` (cardinality, modes and
    // quartiles: what a profile also computes), each in its faster mode.
    for (label, extra) in [("xan stats", None), ("xan stats -A", Some("-A"))] {
        let mut modes: Vec<Vec<&str>> = vec![vec!["stats"]];
        if help.contains("--parallel") {
            modes.push(vec!["stats", "--parallel"]);
        }
        let mut best = (f64::INFINITY, String::new());
        for mode in &mut modes {
            mode.extend(extra);
            for _ in 0..5 {
                let t = Instant::now();
                let out = Command::new(&xan)
                    .args(mode.iter())
                    .arg(path)
                    .stdout(std::process::Stdio::null())
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let secs = t.elapsed().as_secs_f64();
                if secs < best.0 {
                    best = (secs, mode.join(" "));
                }
            }
        }
        println!(
            "{:<28} {:>10.3} {:>10.3} {:>7.2}x   (`xan {}`, {version}, against `preflight profile` as a process; target < 1.0x)",
            format!("  long.csv vs {label}"),
            best.0,
            profile_secs,
            profile_secs / best.0,
            best.1
        );
    }
}

fn measure(phase: &str, path: &Path) -> (f64, f64, u64) {
    // Best of five: the machine is shared with the build and other work, and a 0.15 s
    // decode varies by 10% from run to run.
    let mut best = (f64::INFINITY, 0.0, 0);
    for _ in 0..5 {
        let out = Command::new(std::env::current_exe().unwrap())
            .env(
                "PREFLIGHT_BENCH_CHILD",
                format!("{phase}:{}", path.display()),
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s = String::from_utf8_lossy(&out.stdout);
        let v: Vec<&str> = s.split_whitespace().collect();
        let (secs, mb, rows): (f64, f64, u64) = (
            v[0].parse().unwrap(),
            v[1].parse().unwrap(),
            v[2].parse().unwrap(),
        );
        if secs < best.0 {
            best = (secs, mb, rows);
        }
    }
    best
}

fn main() {
    if let Ok(spec) = std::env::var("PREFLIGHT_BENCH_CHILD") {
        let (phase, path) = spec.split_once(':').unwrap();
        child(phase, path);
        return;
    }
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return; // `cargo test --benches` smoke run: nothing to time
    }
    let dir = data_dir();
    generate(&dir);
    println!(
        "{:<28} {:>10} {:>10} {:>8} {:>10}",
        "input", "decode s", "profile s", "ratio", "peak MB"
    );
    // `cargo bench --bench profile -- wide` runs only the inputs whose name contains "wide".
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    // The wide Parquet table's profile (decode included): the wide CSV's baseline.
    let mut wide_parquet: Option<f64> = None;
    for name in ["long.parquet", "long.csv", WIDE_FILE, WIDE_CSV] {
        if !wanted(name) {
            continue;
        }
        let path = dir.join(name);
        let (d, dmb, drows) = measure("decode", &path);
        let (p, pmb, prows) = measure("profile", &path);
        assert_eq!(drows, prows);
        println!(
            "{:<28} {:>10.3} {:>10.3} {:>7.2}x {:>10.0}   (decode-only peak {:.0} MB, {} rows)",
            name,
            d,
            p,
            p / d,
            pmb,
            dmb,
            prows
        );
        if name == WIDE_FILE {
            wide_parquet = Some(p);
            let (g, gmb, grows) = measure("decode-groups", &path);
            assert_eq!(drows, grows);
            println!(
                "{:<28} {:>10.3} {:>10.3} {:>7.2}x {:>10.0}   (decode-only as the profile reads: by \
                 column groups, not by rows; the profile against it)",
                "  wide decode by groups",
                g,
                p,
                p / g,
                gmb
            );
            // The floors read as the profile reads (by column groups): what the
            // 1.3x target, against that decode, leaves for the sketches.
            for (phase, what) in [
                ("hll-groups", "an HLL of every column"),
                (
                    "sketch-groups",
                    "an HLL of every column + the radix sort of every numeric batch",
                ),
                (
                    "past-exact-groups",
                    "an HLL and a radix sort of only the columns past exact counts (the floats)",
                ),
            ] {
                let (f, _, frows) = measure(phase, &path);
                assert_eq!(drows, frows);
                println!(
                    "{:<28} {:>10.3} {:>10.3} {:>7.2}x   (decode by column groups + {what}, done \
                     plainly; the profile takes {:.2}x this; target of the profile <= 1.3x decode)",
                    format!("  wide {phase}"),
                    g,
                    f,
                    f / g,
                    p / f
                );
            }
            let (f, _, frows) = measure("sketch", &path);
            assert_eq!(drows, frows);
            println!(
                "{:<28} {:>10.3} {:>10.3} {:>7.2}x   (decode + an HLL of every column + the radix sort \
                 of every numeric batch, done plainly: the two sketches a profile cannot skip; the \
                 profile, which does both and more, takes {:.2}x this)",
                "  wide HLL + sort only",
                d,
                f,
                f / d,
                p / f
            );
        }
        if name == WIDE_CSV {
            let pq = wide_parquet.unwrap_or_else(|| measure("profile", &dir.join(WIDE_FILE)).0);
            println!(
                "{:<28} {:>10.3} {:>10.3} {:>7.2}x   (the same table as Parquet, decode plus \
                 profile; target <= 1.5x)",
                "  wide.csv vs Parquet",
                pq,
                p,
                p / pq
            );
        }
        if name == "long.csv" {
            xan_side_by_side(&path);
        }
        if name == "long.parquet" {
            let (h, _, hrows) = measure("hll", &path);
            assert_eq!(drows, hrows);
            println!(
                "{:<28} {:>10.3} {:>10.3} {:>7.2}x   (decode + an HLL of every column: the least a \
                 profile with distinct counts does)",
                "  long.parquet HLL only",
                d,
                h,
                h / d
            );
        }
    }
    // Few rows, many columns: the cost must be linear in the columns.
    let shapes: Vec<(usize, usize)> = WIDE_CSV_SHAPES
        .into_iter()
        .filter(|&s| wanted(&shape_name(s)))
        .collect();
    if shapes.is_empty() {
        return;
    }
    println!(
        "{:<28} {:>10} {:>10} {:>8} {:>10}",
        "wide CSV, few rows", "profile s", "us/column", "ratio", "peak MB"
    );
    let mut base: Option<f64> = None;
    for shape in shapes {
        let (p, mb, rows) = measure("profile", &dir.join(shape_name(shape)));
        assert_eq!(rows, shape.1 as u64);
        let per_col = p / shape.0 as f64 * 1e6;
        let b = *base.get_or_insert(per_col);
        println!(
            "{:<28} {:>10.3} {:>10.1} {:>7.2}x {:>10.0}   (cost per column against the first line; \
             1.0x is linear)",
            format!("{} x {}", shape.0, shape.1),
            p,
            per_col,
            per_col / b,
            mb
        );
    }
}
