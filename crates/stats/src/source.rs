//! Data sources: resolve what the user named (files, globs, directories with hive-style
//! `key=value` partitions) and read it through one DataFusion `SessionContext`.
//!
//! Everything that can be checked before reading is checked here, so that a bad input
//! fails with one sentence naming the file: missing paths, empty files, unknown or mixed
//! formats, duplicate column names. Errors raised while decoding are traced back to the
//! file (and line) by re-reading the inputs one at a time, which costs nothing on the
//! happy path.
//!
//! A path may also be a URL (`s3://`, `gs://`, `az://`, `http(s)://`): it is listed,
//! globbed and pre-checked through [`crate::remote`], and read by the same DataFusion
//! tables; only the Arrow IPC pre-check is left out for remote files.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::arrow::ArrowFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::context::{SessionConfig, SessionContext};
use datafusion::physical_plan::{
    SendableRecordBatchStream, execute_stream, execute_stream_partitioned,
};
use futures::StreamExt;

use crate::concat::{ByNameTable, ConcatTable};
use crate::error::{Error, Result, one_line};
use crate::infer;
use crate::precheck;
use crate::profile::{Profile, ProfileBuilder};
use crate::remote;
use crate::typed::TypedTable;

/// File formats preflight reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    Json,
    Arrow,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Parquet => "parquet",
            Self::Json => "ndjson",
            Self::Arrow => "arrow",
        }
    }

    /// The format a file name implies, ignoring a compression suffix.
    pub fn from_path(path: &Path) -> Option<(Self, Compression)> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let (stem, compression) = Compression::strip(&name);
        let ext = stem.rsplit_once('.').map(|(_, e)| e)?;
        let format = match ext {
            "csv" | "tsv" | "txt" => Self::Csv,
            "parquet" | "pq" => Self::Parquet,
            "json" | "jsonl" | "ndjson" => Self::Json,
            "arrow" | "ipc" | "feather" | "arrows" => Self::Arrow,
            _ => return None,
        };
        Some((format, compression))
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "csv" | "tsv" => Ok(Self::Csv),
            "parquet" => Ok(Self::Parquet),
            "json" | "ndjson" | "jsonl" => Ok(Self::Json),
            "arrow" | "ipc" | "feather" => Ok(Self::Arrow),
            other => Err(format!(
                "unknown input format `{other}` (expected csv, parquet, ndjson or arrow)"
            )),
        }
    }
}

/// Compression of a text input, from its last extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

impl Compression {
    fn strip(name: &str) -> (&str, Self) {
        for (suffix, c) in [
            (".gz", Self::Gzip),
            (".gzip", Self::Gzip),
            (".zst", Self::Zstd),
            (".zstd", Self::Zstd),
            (".bz2", Self::Bzip2),
            (".xz", Self::Xz),
        ] {
            if let Some(stem) = name.strip_suffix(suffix) {
                return (stem, c);
            }
        }
        (name, Self::None)
    }

    pub(crate) fn to_datafusion(self) -> FileCompressionType {
        match self {
            Self::None => FileCompressionType::UNCOMPRESSED,
            Self::Gzip => FileCompressionType::GZIP,
            Self::Zstd => FileCompressionType::ZSTD,
            Self::Bzip2 => FileCompressionType::BZIP2,
            Self::Xz => FileCompressionType::XZ,
        }
    }
}

/// CSV dialect.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// `None`: comma, or tab for `.tsv` files.
    pub delimiter: Option<u8>,
    pub quote: u8,
    pub escape: Option<u8>,
    pub has_header: bool,
    /// Cell texts read as missing, besides the empty cell.
    pub null_values: Vec<String>,
}

/// pandas' default NA strings minus the NaN spellings: a float NaN is a value, and we
/// count it apart from missing.
pub const DEFAULT_NULL_VALUES: &[&str] = &[
    "NA", "N/A", "n/a", "NULL", "null", "None", "<NA>", "#N/A", "#NA", "-NaN", "-nan",
];

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: None,
            quote: b'"',
            escape: None,
            has_header: true,
            null_values: DEFAULT_NULL_VALUES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// How to read the inputs.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Overrides the format implied by file extensions.
    pub format: Option<Format>,
    pub csv: CsvOptions,
    /// Column types forced by the user (`--type col=int64`).
    pub types: Vec<(String, DataType)>,
    /// Partitions read in parallel; 0 means one per core.
    pub partitions: usize,
    /// Tables already in memory, read in place of a path that names them.
    pub memory: MemoryTables,
    /// A Ballista scheduler (`df://host:port`) that computes the profile instead of this
    /// process (`--cluster`; [`crate::cluster`]).
    pub cluster: Option<String>,
}

/// Tables already in memory (the Python API's data frames, imported through the Arrow C
/// stream interface without a copy), each read in place of the path that is its name.
#[derive(Clone, Default)]
pub struct MemoryTables(Arc<std::collections::HashMap<String, MemoryTable>>);

/// One table in memory: its schema and its batches in row order.
#[derive(Clone)]
pub struct MemoryTable {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl MemoryTables {
    pub fn new(tables: impl IntoIterator<Item = (String, MemoryTable)>) -> Self {
        Self(Arc::new(tables.into_iter().collect()))
    }

    pub fn get(&self, name: &str) -> Option<&MemoryTable> {
        self.0.get(name)
    }
}

impl std::fmt::Debug for MemoryTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// Parse a user-facing type name (`int64`, `double`, `string`, `bool`, `date`,
/// `timestamp`, `decimal(10,2)`).
pub fn parse_type(s: &str) -> Result<DataType, String> {
    let t = s.trim().to_ascii_lowercase();
    Ok(match t.as_str() {
        "int8" => DataType::Int8,
        "int16" => DataType::Int16,
        "int32" => DataType::Int32,
        "int64" | "int" | "integer" => DataType::Int64,
        "uint8" => DataType::UInt8,
        "uint16" => DataType::UInt16,
        "uint32" => DataType::UInt32,
        "uint64" => DataType::UInt64,
        "float32" | "float" => DataType::Float32,
        "float64" | "double" => DataType::Float64,
        "string" | "utf8" | "str" | "text" => DataType::Utf8,
        "bool" | "boolean" => DataType::Boolean,
        "date" | "date32" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, None),
        "timestamptz" | "timestamp_utc" => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        _ => {
            if let Some(inner) = t.strip_prefix("decimal(").and_then(|r| r.strip_suffix(')')) {
                let (p, sc) = inner
                    .split_once(',')
                    .ok_or_else(|| format!("expected decimal(precision,scale), got `{s}`"))?;
                let p: u8 = p
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad precision in `{s}`"))?;
                let sc: i8 = sc
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad scale in `{s}`"))?;
                DataType::Decimal128(p, sc)
            } else {
                return Err(format!(
                    "unknown type `{s}` (expected int64, double, string, bool, date, timestamp, decimal(p,s), ...)"
                ));
            }
        }
    })
}

/// The inputs, resolved and opened; ready to be profiled or queried.
pub struct Dataset {
    inputs: Inputs,
    table: Table,
    /// A Ballista client session (`--cluster`): the profile and the queries of
    /// [`Dataset::context`] run on the cluster.
    cluster: Option<SessionContext>,
    /// What the user should hear of before trusting the result (see
    /// [`Dataset::warnings`]).
    warnings: Vec<String>,
}

/// Resolved inputs and how to read them; builds the DataFusion table.
struct Inputs {
    ctx: SessionContext,
    files: Vec<PathBuf>,
    format: Format,
    compression: Compression,
    /// The inputs as the user named them.
    sources: Vec<String>,
    opts: SourceOptions,
    dir_input: Option<PathBuf>,
    /// Partitions read at once: one per core unless `--partitions` says otherwise.
    workers: usize,
    /// Rows per batch (see [`batch_size`]).
    batch_size: usize,
    /// The row count, when the inputs say it before they are read (Parquet footers, a
    /// table in memory).
    known_rows: Option<u64>,
}

/// The data as DataFusion sees it.
///
/// DataFusion 55's CSV reader applies the null-value pattern while inferring types but
/// not while reading, so `NA` in a number column would fail the read. CSV is therefore
/// read as text (`raw`) and `view` turns the null spellings into nulls and casts each
/// column to its inferred (or forced) type, in the same streaming plan.
struct Table {
    raw: Arc<dyn TableProvider>,
    view: Arc<dyn TableProvider>,
    /// Column types of the file columns as the user will see them.
    typed: SchemaRef,
    /// Each file's own columns, in the order of `Inputs::files`.
    file_schemas: Vec<SchemaRef>,
    /// Columns some files lack, with those files.
    absent: Vec<(String, Vec<String>)>,
}

impl Table {
    /// The data is read by a provider of ours (typed CSV, files with other columns, a
    /// table in memory), not by DataFusion's listing table a cluster can be sent.
    fn is_custom(&self) -> bool {
        !self.view.is::<ListingTable>()
    }
}

/// What one user-named path resolved to.
#[derive(Debug)]
struct Resolved {
    files: Vec<PathBuf>,
    is_dir: bool,
}

fn resolve(path: &str) -> Result<Resolved> {
    // A file may be named `br[1].csv`: a path that exists is taken literally.
    let exists = std::fs::symlink_metadata(path).is_ok();
    if !exists && path.contains(['*', '?', '[']) {
        let entries = glob::glob(path)
            .map_err(|e| Error::input(path, format!("bad glob pattern: {e}")).caused_by(e))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(std::result::Result::ok)
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::input(path, "no files match this pattern"));
        }
        return Ok(Resolved {
            files,
            is_dir: false,
        });
    }
    let p = Path::new(path);
    let meta = std::fs::metadata(p).map_err(|e| Error::input(path, io_message(&e)).caused_by(e))?;
    if meta.is_dir() {
        let mut files = Vec::new();
        walk(p, &mut Vec::new(), &mut files)?;
        files.sort();
        if files.is_empty() {
            return Err(Error::input(path, "directory contains no data files"));
        }
        Ok(Resolved {
            files,
            is_dir: true,
        })
    } else {
        Ok(Resolved {
            files: vec![p.to_path_buf()],
            is_dir: false,
        })
    }
}

/// Data files below a directory; hidden and `_`-prefixed entries (`_SUCCESS`, `.crc`) are
/// bookkeeping of the tools that wrote them. Symbolic links are followed, but a link back
/// to a directory being walked (`ancestors`, by device and inode) is a loop, not data.
fn walk(dir: &Path, ancestors: &mut Vec<(u64, u64)>, out: &mut Vec<PathBuf>) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let err = |p: &Path, e: std::io::Error| Error::input(p, io_message(&e)).caused_by(e);
    let meta = std::fs::metadata(dir).map_err(|e| err(dir, e))?;
    let id = (meta.dev(), meta.ino());
    if ancestors.contains(&id) {
        return Err(Error::input(dir, "symbolic link loop"));
    }
    ancestors.push(id);
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| err(dir, e))? {
        entries.push(entry.map_err(|e| err(dir, e))?);
    }
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let path = entry.path();
        let meta = std::fs::metadata(&path).map_err(|e| err(&path, e))?;
        if meta.is_dir() {
            walk(&path, ancestors, out)?;
        } else {
            out.push(path);
        }
    }
    ancestors.pop();
    Ok(())
}

fn io_message(e: &std::io::Error) -> String {
    // ELOOP (std's ErrorKind::FilesystemLoop is not stable).
    const ELOOP: i32 = if cfg!(target_os = "linux") { 40 } else { 62 };
    if e.raw_os_error() == Some(ELOOP) {
        return "symbolic link loop".into();
    }
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn null_regex(values: &[String]) -> String {
    let alts: Vec<String> = values.iter().map(|v| regex_escape(v)).collect();
    format!("^(|{})$", alts.join("|"))
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Dataset {
    /// Resolve and open the inputs. Fails before reading any data when a path is missing,
    /// empty, of an unknown or mixed format, or has duplicate column names.
    pub async fn open(paths: &[String], opts: &SourceOptions) -> Result<Self> {
        if paths.is_empty() {
            return Err(Error::Usage("no input files given".into()));
        }
        if opts.partitions > MAX_PARTITIONS {
            // Every partition holds a profile state per column: a million of them is
            // gigabytes before the first row.
            return Err(Error::Usage(format!(
                "--partitions {} is out of range: give 1 to {MAX_PARTITIONS}, or 0 for one per core",
                opts.partitions
            )));
        }
        if let Some(i) = paths.iter().position(|p| opts.memory.get(p).is_some()) {
            if paths.len() > 1 {
                return Err(Error::input(
                    &paths[i],
                    "a table in memory must be the only input of its side; concatenate the tables first",
                ));
            }
            if let Some(table) = opts.memory.get(&paths[i]) {
                return Self::in_memory(&paths[i], table, opts);
            }
        }
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        // Remote files (crate::remote) and their sizes, from the listing.
        let mut remote_sizes: HashMap<PathBuf, u64> = HashMap::new();
        for p in paths {
            if remote::is_remote(p) {
                let listed = remote::list(p).await?;
                if listed.is_dir {
                    dirs.push(PathBuf::from(p));
                }
                for (url, size) in listed.files {
                    remote_sizes.insert(PathBuf::from(&url), size);
                    files.push(PathBuf::from(url));
                }
                continue;
            }
            let r = resolve(p)?;
            if r.is_dir {
                dirs.push(PathBuf::from(p));
            }
            files.extend(r.files);
        }
        let mut kinds = Vec::with_capacity(files.len());
        for f in &files {
            let detected = Format::from_path(f);
            let (format, compression) = match (opts.format, detected) {
                (Some(fmt), Some((_, c))) => (fmt, c),
                (Some(fmt), None) => (fmt, Compression::None),
                (None, Some(d)) => d,
                (None, None) => {
                    return Err(Error::input(
                        f,
                        "cannot tell the file format from its extension; name it with --input-format csv|parquet|ndjson|arrow",
                    ));
                }
            };
            let len = match remote_sizes.get(f) {
                Some(&size) => size,
                None => {
                    let meta = std::fs::metadata(f)
                        .map_err(|e| Error::input(f, io_message(&e)).caused_by(e))?;
                    std::fs::File::open(f)
                        .map_err(|e| Error::input(f, io_message(&e)).caused_by(e))?;
                    meta.len()
                }
            };
            if len == 0 {
                return Err(Error::input(f, "file is empty"));
            }
            kinds.push((format, compression));
        }
        let (format, compression) = kinds[0];
        if let Some(i) = kinds.iter().position(|k| *k != kinds[0]) {
            let name = |k: (Format, Compression)| {
                format!(
                    "{}{}",
                    k.0.name(),
                    if k.1 == Compression::None {
                        ""
                    } else {
                        " (compressed)"
                    }
                )
            };
            let where_ = dirs.first().cloned().unwrap_or_else(|| files[i].clone());
            return Err(Error::input(
                where_,
                format!(
                    "inputs mix formats: {} is {} but {} is {}; profile them separately",
                    files[0].display(),
                    name(kinds[0]),
                    files[i].display(),
                    name(kinds[i])
                ),
            ));
        }
        // Checks DataFusion would get wrong or panic on, file by file.
        let mut widest = 0usize;
        let mut warnings = Vec::new();
        let mut known_rows = (format == Format::Parquet).then_some(0u64);
        for f in &files {
            match format {
                Format::Parquet => {
                    let rows = match remote_sizes.get(f) {
                        Some(&len) => precheck::parquet_footer_remote(f, len).await?,
                        None => precheck::parquet_footer(f)?,
                    };
                    known_rows = known_rows.map(|n| n.saturating_add(rows));
                }
                // A remote Arrow file is not pre-checked: its checks seek through the file.
                Format::Arrow
                    if compression == Compression::None && !remote_sizes.contains_key(f) =>
                {
                    precheck::arrow_ipc(f)?;
                }
                Format::Csv => {
                    let delimiter = delimiter_for(opts, f);
                    let header = precheck::csv_header(
                        f,
                        compression,
                        delimiter,
                        opts.csv.quote,
                        opts.csv.has_header,
                    )?;
                    widest = widest.max(header.width);
                    warnings.extend(header.warning);
                    precheck::csv_quotes(
                        f,
                        compression,
                        delimiter,
                        opts.csv.quote,
                        opts.csv.escape,
                    )?;
                }
                _ => {}
            }
        }
        let dir_input = (paths.len() == 1 && dirs.len() == 1).then(|| dirs[0].clone());
        let partitions = workers(opts);
        let batch_size = batch_size(format, widest);
        let inputs = Inputs {
            ctx: session(partitions, batch_size)?,
            files,
            format,
            compression,
            sources: paths.to_vec(),
            opts: opts.clone(),
            dir_input,
            workers: partitions,
            batch_size,
            known_rows,
        };
        let table = inputs.build_table(false).await?;
        let cluster = match &opts.cluster {
            Some(url) => Some(cluster_session(url, &table, inputs.batch_size).await?),
            None => None,
        };
        Ok(Self {
            inputs,
            table,
            cluster,
            warnings,
        })
    }

    /// A table in memory, named `name` in messages and outputs. Its batches are sliced (not
    /// copied) into batches of the usual size and shared among partitions in row order.
    fn in_memory(name: &str, table: &MemoryTable, opts: &SourceOptions) -> Result<Self> {
        let names: Vec<&str> = table
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        if let Some((a, i, j)) = precheck::duplicate_names(&names) {
            return Err(Error::input(
                name,
                format!("column name `{a}` appears twice (columns {i} and {j}); rename one"),
            ));
        }
        let workers = workers(opts);
        let batch_size = batch_size(Format::Arrow, 0);
        let mut slices = Vec::new();
        for b in &table.batches {
            let mut at = 0;
            while at < b.num_rows() {
                let n = batch_size.min(b.num_rows() - at);
                slices.push(b.slice(at, n));
                at += n;
            }
        }
        // As a scan of files is split (see `Inputs::scan_streams`): a fixed number of
        // partitions, each a run of consecutive batches.
        let split = if names.len() >= WIDE {
            WIDE_PARTITIONS
        } else {
            PROFILE_PARTITIONS
        };
        let n_parts = split.clamp(1, slices.len().max(1));
        let mut parts = vec![Vec::new(); n_parts];
        let n = slices.len();
        for (i, b) in slices.into_iter().enumerate() {
            parts[i * n_parts / n.max(1)].push(b);
        }
        let view: Arc<dyn TableProvider> = Arc::new(
            datafusion::datasource::MemTable::try_new(table.schema.clone(), parts)
                .map_err(|e| Error::input(name, e.to_string()).caused_by(e))?,
        );
        let inputs = Inputs {
            ctx: session(workers, batch_size)?,
            files: Vec::new(),
            format: Format::Arrow,
            compression: Compression::None,
            sources: vec![name.to_string()],
            opts: opts.clone(),
            dir_input: None,
            workers,
            batch_size,
            known_rows: Some(table.batches.iter().map(|b| b.num_rows() as u64).sum()),
        };
        let table = Table {
            raw: view.clone(),
            view,
            typed: table.schema.clone(),
            file_schemas: vec![table.schema.clone()],
            absent: Vec::new(),
        };
        if let Some(url) = &opts.cluster {
            return Err(Error::Usage(format!(
                "--cluster {url}: a table in memory cannot be sent to a cluster; write it to Parquet where the cluster reads it"
            )));
        }
        Ok(Self {
            inputs,
            table,
            cluster: None,
            warnings: Vec::new(),
        })
    }

    /// The table in memory these inputs are, if they are one (`Dataset::open` reads a
    /// single path that names a table in memory as that table).
    fn memory_table(&self) -> Option<&MemoryTable> {
        match (self.inputs.files.as_slice(), self.inputs.sources.as_slice()) {
            ([], [name]) => self.inputs.opts.memory.get(name),
            _ => None,
        }
    }

    /// The columns as profiled: file columns with their types, then partition columns.
    pub fn schema(&self) -> SchemaRef {
        self.table.view.schema()
    }

    pub fn format(&self) -> Format {
        self.inputs.format
    }

    /// The row count, when the inputs say it before they are read: Parquet files (from
    /// their footers) and tables in memory. For a progress display's estimate.
    pub fn known_rows(&self) -> Option<u64> {
        self.inputs.known_rows
    }

    pub fn files(&self) -> &[PathBuf] {
        &self.inputs.files
    }

    /// The inputs as the user named them.
    /// Doubts about how the inputs are read, found while opening them, each a line naming
    /// its file: a CSV file whose first line is one column that another common delimiter
    /// would split. The commands print them as warnings; they do not stop a run.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn sources(&self) -> &[String] {
        &self.inputs.sources
    }

    /// `base` with the configuration a profile's plan is made with for this data
    /// ([`profile_config`] with the reader's batch size): a cluster session made with it
    /// profiles as the local scan does, byte for byte.
    pub fn plan_config(&self, base: SessionConfig) -> SessionConfig {
        profile_config(base, self.inputs.batch_size)
    }

    /// The Ballista client session of a `--cluster` run.
    pub fn cluster_session(&self) -> Option<&SessionContext> {
        self.cluster.as_ref()
    }

    /// The session, with the data registered as table `data` (for SQL checks).
    pub fn context(&self) -> Result<&SessionContext> {
        let ctx = self.cluster.as_ref().unwrap_or(&self.inputs.ctx);
        if !ctx.table_exist("data")? {
            ctx.register_table("data", self.table.view.clone())?;
        }
        Ok(ctx)
    }

    /// A session over the same table, as typed for the profile, that reads it with one
    /// partition: batches arrive in the input's row order (files in order, rows in file
    /// order), so row numbers can be counted. Registered as table `data`.
    pub fn ordered_context(&self) -> Result<SessionContext> {
        let config = SessionConfig::new()
            .with_target_partitions(1)
            .with_batch_size(self.inputs.batch_size);
        let ctx = context(config)?;
        // A table in memory is split into partitions: read its batches, in order, as one.
        let view = match self.memory_table() {
            Some(t) => Arc::new(datafusion::datasource::MemTable::try_new(
                t.schema.clone(),
                vec![t.batches.clone()],
            )?),
            None => self.table.view.clone(),
        };
        ctx.register_table("data", view)?;
        Ok(ctx)
    }

    /// Read every batch and drop it: the decode-only floor that benchmarks compare the
    /// profile against (same reader, same partitions). Returns the row count.
    pub async fn decode_only(&self) -> Result<u64> {
        let counts = self
            .scan_with(|| 0u64, |n, b| *n += b.num_rows() as u64)
            .await?;
        Ok(counts.into_iter().sum())
    }

    /// [`Dataset::decode_only`], reading as the profile reads: a wide Parquet table by
    /// column groups ([`Inputs::column_streams`]; `decode_only` reads it by rows, all
    /// columns of a row group at once), anything else as `decode_only` does.
    pub async fn decode_as_profiled(&self) -> Result<u64> {
        let inp = &self.inputs;
        if !inp.reads_by_columns(&self.table) {
            return self.decode_only().await;
        }
        let groups =
            (self.scan_as_profiled_with(|| 0u64, |n, b| *n += b.num_rows() as u64)).await?;
        Ok(groups
            .into_iter()
            .filter(|(first, _)| *first)
            .map(|(_, n)| n)
            .sum())
    }

    /// [`Dataset::scan_with`], reading as the profile reads ([`Dataset::decode_as_profiled`]):
    /// a wide Parquet table by column groups, one state per group, each paired with whether
    /// it is the first group (whose rows are every row once). For benchmarks that time a
    /// part of the profile's work against the reader the profile uses.
    pub async fn scan_as_profiled_with<S, I, F>(&self, init: I, f: F) -> Result<Vec<(bool, S)>>
    where
        S: Send + 'static,
        I: Fn() -> S + Clone + Send + Sync + 'static,
        F: Fn(&mut S, &RecordBatch) + Clone + Send + Sync + 'static,
    {
        let inp = &self.inputs;
        if !inp.reads_by_columns(&self.table) {
            let states = self.scan_with(init, f).await?;
            return Ok(states.into_iter().map(|s| (true, s)).collect());
        }
        let streams = inp.column_streams(&self.table).await?;
        run_partitions(streams, inp.workers, move |(first, mut s)| {
            let (init, f) = (init.clone(), f.clone());
            async move {
                let mut state = init();
                while let Some(b) = s.next().await {
                    f(&mut state, &b?);
                }
                Ok((first, state))
            }
        })
        .await
    }

    /// Read every batch through the profile's scan (same partitions, same workers) and fold
    /// it into one state per partition, returned in partition order. For benchmarks that
    /// time a part of the profile's work against the same reader.
    pub async fn scan_with<S, I, F>(&self, init: I, f: F) -> Result<Vec<S>>
    where
        S: Send + 'static,
        I: Fn() -> S + Clone + Send + Sync + 'static,
        F: Fn(&mut S, &RecordBatch) + Clone + Send + Sync + 'static,
    {
        let f = move |s: &mut S, b: &RecordBatch| {
            f(s, b);
            std::ops::ControlFlow::Continue(())
        };
        self.scan_with_partitions(PROFILE_PARTITIONS, init, f, |_: &mut S| {})
            .await
    }

    /// As [`Dataset::scan_with`], with a narrow table split into `partitions` partitions
    /// (a fixed number, so that the states, and what is made of them, do not depend on the
    /// machine): fewer suit work whose cost grows with the partitions, such as one
    /// profile per slice in each. `done` runs on each state at the end of its partition,
    /// still in the partition's task (in parallel with the others). A partition stops
    /// reading when `f` breaks.
    pub async fn scan_with_partitions<S, I, F, D>(
        &self,
        partitions: usize,
        init: I,
        f: F,
        done: D,
    ) -> Result<Vec<S>>
    where
        S: Send + 'static,
        I: Fn() -> S + Clone + Send + Sync + 'static,
        F: Fn(&mut S, &RecordBatch) -> std::ops::ControlFlow<()> + Clone + Send + Sync + 'static,
        D: Fn(&mut S) + Clone + Send + Sync + 'static,
    {
        let streams = self.inputs.scan_streams_in(&self.table, partitions).await?;
        run_partitions(streams, self.inputs.workers, move |mut s| {
            let (init, f, done) = (init.clone(), f.clone(), done.clone());
            async move {
                let mut state = init();
                while let Some(b) = s.next().await {
                    if f(&mut state, &b?).is_break() {
                        break;
                    }
                }
                done(&mut state);
                Ok(state)
            }
        })
        .await
    }

    /// Profile the data in one streaming pass, DataFusion partitions in parallel.
    /// `rows_read` is advanced as batches arrive (for a progress display).
    pub async fn profile(&mut self, rows_read: Arc<AtomicU64>) -> Result<Profile> {
        self.profile_summarising(rows_read, None).await
    }

    /// [`Dataset::profile`], keeping only the summary of the numeric columns in
    /// `summary_only` (row, missing, NaN and infinity counts, min, max, mean, standard
    /// deviation; no distinct count, top values or quantiles): what checks of presence,
    /// type, range and finiteness need, at a fraction of the sketches' cost. On a cluster
    /// every column is profiled in full.
    pub async fn profile_summarising(
        &mut self,
        rows_read: Arc<AtomicU64>,
        summary_only: Option<Arc<HashSet<String>>>,
    ) -> Result<Profile> {
        if let (Some(url), Some(ctx)) = (&self.inputs.opts.cluster, &self.cluster) {
            return self.profile_on_cluster(url, ctx).await;
        }
        let builder = self
            .read_retyping(|ds| {
                rows_read.store(0, Ordering::Relaxed);
                Box::pin(ds.inputs.profile_table(
                    &ds.table,
                    rows_read.clone(),
                    summary_only.clone(),
                ))
            })
            .await?;
        self.finish(builder)
    }

    /// Run `read`, a pass over the data, as the profile runs its own: when CSV or JSON
    /// types guessed from the first rows do not hold further down, infer them from every
    /// row, once, and read again, rather than fail or guess silently (a value that fits
    /// no type but text, an impossible date, makes its column text; a column forced with
    /// --type keeps its type, and its bad cell is reported); any other failure is
    /// diagnosed to name the file and place.
    pub async fn read_retyping<T>(
        &mut self,
        read: impl for<'a> Fn(&'a Dataset) -> futures::future::BoxFuture<'a, Result<T>>,
    ) -> Result<T> {
        match read(self).await {
            Ok(t) => Ok(t),
            // The read's own usage errors name the inputs; no file is to blame.
            Err(e @ Error::Usage(_)) => Err(e),
            Err(first)
                if matches!(self.inputs.format, Format::Csv | Format::Json)
                    && first.is_parse_error() =>
            {
                self.table = self.inputs.build_table(true).await?;
                match read(self).await {
                    Ok(t) => Ok(t),
                    Err(e @ Error::Usage(_)) => Err(e),
                    Err(e) => Err(self.inputs.diagnose_read(&self.table, e).await),
                }
            }
            Err(e) => Err(self.inputs.diagnose_read(&self.table, e).await),
        }
    }

    /// The profile computed by a Ballista cluster (`--cluster`): `preflight_profile` in a
    /// plan the cluster runs ([`crate::cluster`]), planned as the local profile's
    /// partitions are: a narrow table's profile is the local one, bit for bit; a wide
    /// one's (read by column groups locally) agrees within the sketches' error.
    async fn profile_on_cluster(&self, url: &str, ctx: &SessionContext) -> Result<Profile> {
        let inp = &self.inputs;
        let builder = watch_cluster(url, async {
            self.profile_builder_in(ctx)
                .await
                .map_err(|e| Error::Usage(format!("--cluster {url}: {e}")))
        })
        .await?;
        check_cluster_rows(url, builder.rows, inp.known_rows, inp.files.len())?;
        self.finish(builder)
    }

    /// The profile computed by `preflight_profile` in a plan of the session `ctx`, which
    /// has the function registered: a Ballista session ([`crate::cluster::session_state`])
    /// runs it on its cluster.
    pub async fn profile_in(&self, ctx: &SessionContext) -> Result<Profile> {
        let builder = self.profile_builder_in(ctx).await?;
        self.finish(builder)
    }

    async fn profile_builder_in(&self, ctx: &SessionContext) -> Result<ProfileBuilder> {
        let df = ctx
            .read_table(self.table.view.clone())
            .map_err(|e| self.inputs.blame_engine(e.into()))?;
        crate::profile::udaf::profile_query(df).await
    }

    /// A finished profile from the builder of every row: a table without rows is an
    /// error; columns some files lack name those files.
    fn finish(&self, builder: ProfileBuilder) -> Result<Profile> {
        let inp = &self.inputs;
        if builder.rows == 0 {
            let what = if inp.format == Format::Csv && inp.opts.csv.has_header {
                "has a header but no data rows"
            } else {
                "contains no rows"
            };
            return Err(inp.blame(what).into_no_rows());
        }
        let mut profile = builder.finish(inp.sources.clone());
        // By a map of names: a search per absent column was quadratic in wide inputs.
        let at: std::collections::HashMap<&str, usize> = self
            .table
            .absent
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.as_str(), i))
            .collect();
        for c in &mut profile.columns {
            if let Some(&i) = at.get(c.name.as_str()) {
                c.absent_in.clone_from(&self.table.absent[i].1);
            }
        }
        Ok(profile)
    }

    /// The data as a DataFrame of the session its queries run in, with
    /// `preflight_profile` registered ([`crate::profile::udaf`]).
    pub fn dataframe(&self) -> Result<(SessionContext, datafusion::dataframe::DataFrame)> {
        let ctx = match &self.cluster {
            Some(c) => c.clone(),
            // Planned as the profile's partitions are (see `Inputs::profile_partitions`):
            // a narrow table's profile by query is then the tuned scan's, to the bit.
            None => self.inputs.profile_context(PROFILE_PARTITIONS),
        };
        ctx.register_udaf(crate::profile::udaf::profile_udaf());
        let df = ctx.read_table(self.table.view.clone())?;
        Ok((ctx, df))
    }

    /// The profile computed by the aggregate function `preflight_profile` in a plan, as
    /// an engine that only runs plans computes it (a cluster): for a narrow table
    /// [`Dataset::profile`]'s, bit for bit (the same partitions, merged alike); for a wide
    /// one the same statistics, sketches within their error.
    pub async fn profile_by_query(&self) -> Result<Profile> {
        let (_ctx, df) = self.dataframe()?;
        let builder = crate::profile::udaf::profile_query(df)
            .await
            .map_err(|e| self.inputs.blame_engine(e))?;
        self.finish(builder)
    }

    /// One profile per distinct value of the columns `by` (a slice), from
    /// `preflight_profile` under `GROUP BY`, sorted by key (each key part as text; `None`
    /// for null).
    pub async fn profile_slices(
        &self,
        by: &[String],
    ) -> Result<Vec<(Vec<Option<String>>, Profile)>> {
        let names = self.schema();
        for b in by {
            if names.field_with_name(b).is_err() {
                return Err(self
                    .inputs
                    .blame(&format!("no column named `{b}` to slice by")));
            }
        }
        let (_ctx, df) = self.dataframe()?;
        let slices = crate::profile::udaf::profile_by(df, by)
            .await
            .map_err(|e| self.inputs.blame_engine(e))?;
        slices
            .into_iter()
            .map(|(key, b)| Ok((key, b.finish(self.inputs.sources.clone()))))
            .collect()
    }
}

/// A client session on the cluster at `url` for `table`, which must be one a cluster can
/// be sent (DataFusion's listing table of Parquet, NDJSON or Arrow files).
#[cfg(feature = "cluster")]
async fn cluster_session(url: &str, table: &Table, batch_size: usize) -> Result<SessionContext> {
    if table.is_custom() {
        return Err(Error::Usage(format!(
            "--cluster {url}: CSV inputs, and files that disagree on their columns, are read by preflight's own reader, which a cluster cannot run; convert them to Parquet or NDJSON, or drop --cluster"
        )));
    }
    crate::cluster::connect(url, batch_size).await
}

#[cfg(not(feature = "cluster"))]
async fn cluster_session(url: &str, _table: &Table, _batch_size: usize) -> Result<SessionContext> {
    Err(Error::Usage(format!(
        "--cluster {url}: this preflight was built without the `cluster` feature"
    )))
}

#[cfg(feature = "cluster")]
use crate::cluster::{check_rows as check_cluster_rows, watched as watch_cluster};

#[cfg(not(feature = "cluster"))]
async fn watch_cluster<T>(
    _url: &str,
    job: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    job.await
}

#[cfg(not(feature = "cluster"))]
fn check_cluster_rows(_url: &str, _got: u64, _known: Option<u64>, _files: usize) -> Result<()> {
    Ok(())
}

/// Rows of each CSV or NDJSON file its column types are inferred from (DataFusion's
/// default); when a later value does not fit, the types are inferred again from every row.
const INFER_ROWS: usize = 1000;

/// Cells of one CSV batch the reader holds at most (see [`batch_size`]).
const CSV_BATCH_CELLS: usize = 1 << 23;

/// Rows per batch: DataFusion's 8,192, fewer for wide CSV files. arrow-csv reserves room
/// for every cell of a batch before reading it (two 8-byte words per cell), so 8,192 rows
/// of a 100,000-column header asked for 13 GB, zeroed, for a file of two rows.
fn batch_size(format: Format, columns: usize) -> usize {
    const DEFAULT: usize = 8192;
    if format == Format::Csv && columns > 0 {
        (CSV_BATCH_CELLS / columns).clamp(1, DEFAULT)
    } else {
        DEFAULT
    }
}

/// Partitions read at once: one per core unless `--partitions` says otherwise.
fn workers(opts: &SourceOptions) -> usize {
    if opts.partitions == 0 {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    } else {
        opts.partitions
    }
}

/// The session every query on the inputs runs in.
fn session(partitions: usize, batch_size: usize) -> Result<SessionContext> {
    let mut config = SessionConfig::new()
        .with_target_partitions(partitions)
        .with_batch_size(batch_size);
    // DataFusion lets a partition's stream take byte ranges or files that sibling streams
    // have not opened yet, so which rows a partition reads depends on timing, and so do
    // the partition states a profile merges (digests, moments to the last bit). Our
    // workers balance the load themselves (`run_partitions`), so keep partitions fixed:
    // the same input gives the same output, byte for byte.
    config
        .options_mut()
        .execution
        .enable_file_stream_work_stealing = false;
    context(config)
}

/// The configuration a profile's plan is made with, locally and on a cluster: a fixed
/// number of partitions ([`PROFILE_PARTITIONS`]), large files split into byte ranges,
/// no round-robin repartition or work stealing (both make which rows a partition reads
/// depend on timing), and the batch size of the input's reader.
pub fn profile_config(config: SessionConfig, batch_size: usize) -> SessionConfig {
    let mut config = config
        .with_target_partitions(PROFILE_PARTITIONS)
        .with_batch_size(batch_size)
        .with_repartition_file_scans(true)
        .with_round_robin_repartition(false);
    config
        .options_mut()
        .execution
        .enable_file_stream_work_stealing = false;
    config
}

/// The input of the lowest aggregate in `plan`.
fn aggregate_input(
    plan: &Arc<dyn datafusion::physical_plan::ExecutionPlan>,
) -> Option<Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
    use datafusion::physical_plan::ExecutionPlan;
    use datafusion::physical_plan::aggregates::AggregateExec;
    plan.children()
        .into_iter()
        .find_map(aggregate_input)
        .or_else(|| {
            (plan.as_ref() as &dyn ExecutionPlan)
                .downcast_ref::<AggregateExec>()
                .map(|a| a.input().clone())
        })
}

/// A session with `config` that reads remote URLs too ([`crate::remote`]).
fn context(config: SessionConfig) -> Result<SessionContext> {
    Ok(SessionContext::new_with_config_rt(
        config,
        crate::remote::runtime_env().build_arc()?,
    ))
}

/// A wide table's scans plan without the files' statistics, which a scan of every row
/// does not use: DataFusion 55 builds them per scan (no cache is set) from the Parquet
/// footer, looking each column up by name among all of them, so that each of the 20
/// column-group scans of a 5,000-column file cost 5,000 x 5,000 name comparisons per row
/// group. Perf put it at a tenth of the benchmark table's validation.
fn no_file_statistics(state: &mut datafusion::execution::SessionState) {
    state
        .config_mut()
        .options_mut()
        .execution
        .collect_statistics = false;
}

/// The most partitions `--partitions` may ask for.
pub const MAX_PARTITIONS: usize = 1024;

/// Columns of a group when a wide Parquet table is read by column groups (see
/// [`Inputs::column_streams`]).
const GROUP_COLUMNS: usize = 256;

/// Scan partitions of a narrow table's profile (see [`Inputs::profile_partitions`]): a
/// fixed number, not one per core, since the profile's bits depend on how rows are split
/// among partial states (float sums, t-digests, frequent items). The same input gives the
/// same profile on any machine, with any `--partitions`, and on a Ballista cluster, which
/// is planned with the same number ([`profile_config`]). Finer than the workers, so that a
/// worker whose share is done takes the next partition instead of waiting; 16 is 8 on
/// 2 cores as before (4 per worker) and lets up to 16 cores share a large input.
pub const PROFILE_PARTITIONS: usize = 16;
/// Scan partitions of a wide table's profile, fixed for the same reason; the columns of
/// each batch are shared among the workers instead (see [`WIDE`]).
const WIDE_PARTITIONS: usize = 2;
/// From this many columns on, a table is read with one partition per worker, and each
/// batch's columns are shared among the workers instead: every partition's state costs
/// a warm-up per column (exact counts, sketches filling), which 5,000 columns times 8
/// partitions made a fifth of the profile's time.
const WIDE: usize = 64;

/// Run `f` on every stream with `workers` tasks that each take the next stream in turn.
/// Results come back in stream order, however the work was shared.
async fn run_partitions<S, T, F, Fut>(streams: Vec<S>, workers: usize, f: F) -> Result<Vec<T>>
where
    S: Send + 'static,
    T: Send + 'static,
    F: Fn(S) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<T>> + Send,
{
    let n = streams.len();
    let queue = Arc::new(std::sync::Mutex::new(
        streams
            .into_iter()
            .enumerate()
            .collect::<std::collections::VecDeque<_>>(),
    ));
    let mut tasks = Vec::new();
    for _ in 0..workers.clamp(1, n.max(1)) {
        let queue = queue.clone();
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                // A poisoned lock means another worker panicked; its join error reports it.
                let next = queue.lock().map_or(None, |mut q| q.pop_front());
                let Some((i, stream)) = next else { break };
                done.push((i, f(stream).await?));
            }
            Ok::<_, Error>(done)
        }));
    }
    let mut results: Vec<(usize, T)> = Vec::with_capacity(n);
    for t in tasks {
        results.extend(t.await??);
    }
    results.sort_unstable_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

fn delimiter_for(opts: &SourceOptions, f: &Path) -> u8 {
    let tsv = f
        .to_str()
        .is_some_and(|n| n.to_ascii_lowercase().contains(".tsv"));
    opts.csv.delimiter.unwrap_or(if tsv { b'\t' } else { b',' })
}

impl Inputs {
    fn file_format(&self, infer_all_rows: bool) -> Arc<dyn FileFormat> {
        let c = self.compression.to_datafusion();
        match self.format {
            Format::Csv => {
                let delimiter = self
                    .files
                    .first()
                    .map_or(b',', |f| delimiter_for(&self.opts, f));
                let mut f = CsvFormat::default()
                    .with_has_header(self.opts.csv.has_header)
                    .with_delimiter(delimiter)
                    .with_quote(self.opts.csv.quote)
                    .with_escape(self.opts.csv.escape)
                    .with_null_regex(Some(null_regex(&self.opts.csv.null_values)))
                    .with_file_compression_type(c);
                if infer_all_rows {
                    f = f.with_schema_infer_max_rec(usize::MAX);
                }
                Arc::new(f)
            }
            Format::Json => {
                let mut f = JsonFormat::default().with_file_compression_type(c);
                if infer_all_rows {
                    f = f.with_schema_infer_max_rec(usize::MAX);
                }
                Arc::new(f)
            }
            Format::Parquet => Arc::new(ParquetFormat::default()),
            Format::Arrow => Arc::new(ArrowFormat),
        }
    }

    /// Common file-name suffix for DataFusion's listing filter ("" when names differ).
    fn extension(&self) -> String {
        let ext_of = |p: &PathBuf| -> String {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            name.find('.')
                .map(|i| name[i..].to_string())
                .unwrap_or_default()
        };
        let first = self.files.first().map(ext_of).unwrap_or_default();
        if self.files.iter().all(|f| ext_of(f) == first) {
            first
        } else {
            String::new()
        }
    }

    fn urls(&self) -> Result<Vec<ListingTableUrl>> {
        match &self.dir_input {
            Some(dir) if remote::is_remote_path(dir) => {
                let mut s = dir.to_string_lossy().to_string();
                if !s.ends_with('/') {
                    s.push('/');
                }
                Ok(vec![ListingTableUrl::parse(&s).map_err(|e| {
                    Error::input(dir, e.to_string()).caused_by(e)
                })?])
            }
            Some(dir) => {
                let mut s = std::path::absolute(dir)
                    .map_err(|e| Error::input(dir, io_message(&e)).caused_by(e))?
                    .to_string_lossy()
                    .to_string();
                if !s.ends_with('/') {
                    s.push('/');
                }
                Ok(vec![ListingTableUrl::parse(&s).map_err(|e| {
                    Error::input(dir, e.to_string()).caused_by(e)
                })?])
            }
            None => self.files.iter().map(|f| file_url(f)).collect(),
        }
    }

    /// Each file's columns as the file has them, from its own header, keys or footer.
    async fn file_schemas(&self, infer_all: bool) -> Result<Vec<SchemaRef>> {
        let max_rows = if infer_all { usize::MAX } else { INFER_ROWS };
        let mut out = Vec::with_capacity(self.files.len());
        for f in &self.files {
            let schema = match self.format {
                Format::Csv => {
                    let dialect = infer::CsvDialect {
                        delimiter: delimiter_for(&self.opts, f),
                        quote: self.opts.csv.quote,
                        escape: self.opts.csv.escape,
                        has_header: self.opts.csv.has_header,
                        nulls: &self.opts.csv.null_values,
                    };
                    infer::csv_schema(f, self.compression, &dialect, max_rows)?
                }
                Format::Json => infer::json_schema(f, self.compression, max_rows)?,
                Format::Parquet | Format::Arrow => {
                    let options =
                        ListingOptions::new(self.file_format(false)).with_file_extension("");
                    let config = ListingTableConfig::new(file_url(f)?)
                        .with_listing_options(options)
                        .infer_schema(&self.ctx.state())
                        .await
                        .map_err(|e| engine_input(f, e))?;
                    config
                        .file_schema
                        .map_or_else(Schema::empty, |s| s.as_ref().clone())
                }
            };
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            if let Some((a, i, j)) = precheck::duplicate_names(&names) {
                return Err(Error::input(
                    f,
                    format!("column name `{a}` appears twice (columns {i} and {j}); rename one"),
                ));
            }
            out.push(Arc::new(schema));
        }
        Ok(out)
    }

    /// Hive partition columns (`key=value` directories) of a directory input.
    async fn partition_cols(&self) -> Result<Vec<(String, DataType)>> {
        if self.dir_input.is_none() {
            return Ok(Vec::new());
        }
        let options =
            ListingOptions::new(self.file_format(false)).with_file_extension(self.extension());
        let config = ListingTableConfig::new_with_multi_paths(self.urls()?)
            .with_listing_options(options)
            .infer_partitions_from_path(&self.ctx.state())
            .await
            .map_err(|e| self.blame_engine(e.into()))?;
        Ok(config
            .options
            .map(|o| o.table_partition_cols)
            .unwrap_or_default())
    }

    async fn build_table(&self, infer_all: bool) -> Result<Table> {
        let file_schemas = self.file_schemas(infer_all).await?;
        let merged = infer::merge(self.format, &self.files, &file_schemas, &self.opts.types)?;
        let typed = self.apply_overrides(&merged.schema)?;
        let partition_cols = self.partition_cols().await?;
        let csv = self.format == Format::Csv;
        // One listing of all files when DataFusion reads them right: Parquet and NDJSON
        // columns are matched by name, CSV columns by position (so the headers must agree),
        // Arrow files are read with their own schema (so the schemas must).
        let uniform = match self.format {
            Format::Parquet | Format::Json => true,
            Format::Csv => file_schemas.iter().all(|s| {
                s.fields().len() == typed.fields().len()
                    && s.fields()
                        .iter()
                        .zip(typed.fields())
                        .all(|(a, b)| a.name() == b.name())
            }),
            Format::Arrow => file_schemas.iter().all(|s| s.fields() == typed.fields()),
        };
        let raw: Arc<dyn TableProvider> = if uniform {
            let options = ListingOptions::new(self.file_format(infer_all))
                .with_file_extension(self.extension())
                .with_table_partition_cols(partition_cols.clone());
            let schema = if csv {
                text_schema(&typed)
            } else {
                typed.clone()
            };
            let config = ListingTableConfig::new_with_multi_paths(self.urls()?)
                .with_listing_options(options)
                .with_schema(schema);
            Arc::new(ListingTable::try_new(config).map_err(|e| self.blame_engine(e.into()))?)
        } else {
            self.per_file_table(&file_schemas, &typed, &partition_cols)?
        };
        let absent = typed
            .fields()
            .iter()
            .zip(&merged.absent)
            .filter(|(_, files)| !files.is_empty())
            .map(|(f, files)| {
                let names = files
                    .iter()
                    .map(|&i| self.files[i].display().to_string())
                    .collect();
                (f.name().clone(), names)
            })
            .collect();
        let mut table = Table {
            view: raw.clone(),
            raw,
            typed: typed.clone(),
            file_schemas,
            absent,
        };
        if !csv {
            return Ok(table);
        }
        // Typed batch by batch (see `typed`): the file columns come first, in the order of
        // `typed`, then the partition columns, passed through.
        let raw_schema = table.raw.schema();
        let mut fields: Vec<Field> = typed.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.extend(
            raw_schema
                .fields()
                .iter()
                .skip(typed.fields().len())
                .map(|f| f.as_ref().clone()),
        );
        let is_typed = (0..fields.len())
            .map(|i| i < typed.fields().len())
            .collect();
        table.view = Arc::new(TypedTable::new(
            table.raw.clone(),
            Arc::new(Schema::new(fields)),
            is_typed,
            self.opts.csv.null_values.clone(),
        ));
        Ok(table)
    }

    /// Files whose columns differ, each read with its own layout and projected by name
    /// onto the dataset's columns (a column a file lacks is null there), then read as one
    /// table in file order.
    fn per_file_table(
        &self,
        file_schemas: &[SchemaRef],
        typed: &SchemaRef,
        partition_cols: &[(String, DataType)],
    ) -> Result<Arc<dyn TableProvider>> {
        let csv = self.format == Format::Csv;
        let target = if csv {
            text_schema(typed)
        } else {
            typed.clone()
        };
        let mut parts: Vec<Arc<dyn TableProvider>> = Vec::with_capacity(self.files.len());
        for (f, schema) in self.files.iter().zip(file_schemas) {
            let own = if csv {
                text_schema(schema)
            } else {
                schema.clone()
            };
            let options = ListingOptions::new(self.file_format(false)).with_file_extension("");
            let config = ListingTableConfig::new(file_url(f)?)
                .with_listing_options(options)
                .with_schema(own.clone());
            let table = ListingTable::try_new(config).map_err(|e| engine_input(f, e))?;
            let values = self.partition_values(f);
            let constants = partition_cols
                .iter()
                .map(|(name, dt)| {
                    let v = values
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone());
                    (Field::new(name, dt.clone(), true), ScalarValue::Utf8(v))
                })
                .collect();
            parts.push(Arc::new(ByNameTable::new(
                Arc::new(table),
                &target,
                constants,
            )?));
        }
        let schema = parts.first().map_or_else(|| target.clone(), |p| p.schema());
        Ok(Arc::new(ConcatTable::new(schema, parts)))
    }

    /// The `key=value` directories between the input directory and a file.
    fn partition_values(&self, f: &Path) -> Vec<(String, String)> {
        let Some(dir) = &self.dir_input else {
            return Vec::new();
        };
        let Ok(rel) = f.strip_prefix(dir) else {
            return Vec::new();
        };
        rel.parent()
            .into_iter()
            .flat_map(Path::components)
            .filter_map(|c| {
                let c = c.as_os_str().to_str()?;
                let (k, v) = c.split_once('=')?;
                Some((k.to_string(), v.to_string()))
            })
            .collect()
    }

    fn apply_overrides(&self, schema: &Schema) -> Result<SchemaRef> {
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        if self.format == Format::Csv {
            // A CSV column with no values at all is text with every cell missing.
            for f in &mut fields {
                if *f.data_type() == DataType::Null {
                    *f = Field::new(f.name(), DataType::Utf8, true);
                }
            }
        }
        for (name, dt) in &self.opts.types {
            let Some(f) = fields.iter_mut().find(|f| f.name() == name) else {
                return Err(self.blame(&format!(
                    "--type names column `{name}`, which is not in the data (columns: {})",
                    crate::error::column_list(schema.fields().iter().map(|f| f.name().as_str()))
                )));
            };
            *f = Field::new(f.name(), dt.clone(), true);
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    /// An error that cannot be traced to one file names the inputs as a whole.
    fn blame(&self, message: &str) -> Error {
        let who = match (&self.dir_input, self.files.as_slice()) {
            (Some(d), _) => d.clone(),
            (None, [one]) => one.clone(),
            _ => PathBuf::from(self.sources.join(" ")),
        };
        Error::input(who, message)
    }

    /// [`Inputs::blame`] for an engine error: its message cleaned up, the error kept as
    /// the cause.
    fn blame_engine(&self, e: Error) -> Error {
        self.blame(&clean_engine_message(&e.engine_text()))
            .caused_by(e.into_source())
    }

    async fn profile_table(
        &self,
        table: &Table,
        rows_read: Arc<AtomicU64>,
        summary_only: Option<Arc<HashSet<String>>>,
    ) -> Result<ProfileBuilder> {
        let new_builder = move |schema: &Schema| match &summary_only {
            Some(which) => ProfileBuilder::new(schema).summary_only(which),
            None => ProfileBuilder::new(schema),
        };
        if self.reads_by_columns(table) {
            return self.profile_by_columns(table, rows_read, new_builder).await;
        }
        let streams = self.scan_streams(table).await?;
        let Some(schema) = streams.first().map(|s| s.schema()) else {
            return Err(Error::Engine("the scan has no partitions".into()));
        };
        // Wide tables: the columns of each batch are shared among the workers (see WIDE).
        let threads = if schema.fields().len() >= WIDE {
            self.workers
        } else {
            1
        };
        let parts = run_partitions(streams, self.workers, {
            let schema = schema.clone();
            let new_builder = new_builder.clone();
            move |mut stream| {
                let schema = schema.clone();
                let rows_read = rows_read.clone();
                let new_builder = new_builder.clone();
                async move {
                    let mut builder = new_builder(&schema);
                    while let Some(batch) = stream.next().await {
                        let batch = batch?;
                        rows_read.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                        builder.update_with_threads(&batch, threads)?;
                    }
                    Ok(builder)
                }
            }
        })
        .await?;
        // Never in completion order: the same bits on any machine. A narrow table's
        // partitions merge as `preflight_profile` merges its partial states (through
        // their bytes), so that a cluster's profile is this one; a wide table's, which a
        // cluster reads another way anyway, merge in partition order without serialising
        // thousands of column states twice.
        if schema.fields().len() >= WIDE {
            return ProfileBuilder::merge_many(parts);
        }
        let mut states = parts
            .iter()
            .map(crate::profile::udaf::encode_state)
            .collect::<Result<Vec<_>>>()?;
        crate::profile::udaf::merge_states(None, &mut states)
    }

    /// Whether the profile reads `table` by column groups ([`Inputs::profile_by_columns`]):
    /// a wide Parquet table, whose column chunks can be read apart.
    fn reads_by_columns(&self, table: &Table) -> bool {
        table.view.schema().fields().len() >= WIDE && self.format == Format::Parquet
    }

    /// A wide Parquet table, profiled by column groups ([`Inputs::column_streams`]): each
    /// worker reads every row of a group of columns at a time (Parquet reads only the
    /// column chunks it is asked for), and the groups' states are put side by side, not
    /// merged. Read by rows, each worker held a
    /// whole row group of every column (250 MB compressed for 10,000 rows of 5,000
    /// doubles) and a batch of every column, and a third set of states was merged from
    /// the workers': 3.1 GB at peak for the 5,000-column benchmark table, 1.6 GB with one
    /// worker. By groups of 256 columns: 370 MB (debug build).
    async fn profile_by_columns(
        &self,
        table: &Table,
        rows_read: Arc<AtomicU64>,
        new_builder: impl Fn(&Schema) -> ProfileBuilder + Clone + Send + Sync + 'static,
    ) -> Result<ProfileBuilder> {
        let streams = self.column_streams(table).await?;
        let parts = run_partitions(streams, self.workers, move |(first, mut stream)| {
            let rows_read = rows_read.clone();
            let new_builder = new_builder.clone();
            async move {
                let mut builder = new_builder(&stream.schema());
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    // Every group reads every row: count them once.
                    if first {
                        rows_read.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                    }
                    builder.update(&batch)?;
                }
                Ok(builder)
            }
        })
        .await?;
        let mut parts = parts.into_iter();
        let mut all = parts
            .next()
            .ok_or_else(|| Error::Engine("the scan has no column groups".into()))?;
        for part in parts {
            if part.rows != all.rows {
                return Err(Error::Engine(format!(
                    "column groups read {} and {} rows",
                    all.rows, part.rows
                )));
            }
            all.columns.extend(part.columns);
        }
        Ok(all)
    }

    /// The table's columns in contiguous groups (at least two per worker, so that a worker
    /// done early takes another), each read as one stream of all rows; `true` marks the
    /// first group.
    async fn column_streams(
        &self,
        table: &Table,
    ) -> Result<Vec<(bool, SendableRecordBatchStream)>> {
        let mut state = self.ctx.state();
        let n = table.view.schema().fields().len();
        // Memory follows the columns being read at once (their row group's chunks, a
        // decompressed page and a batch of each): two groups per worker at least, and at
        // most GROUP_COLUMNS columns a group. For the 5,000-column benchmark table: 4
        // groups 960 MB at peak, 8 groups 550 MB, 20 groups 370 MB, 40 groups 310 MB, each
        // group reading the footer again.
        let groups = (self.workers * 2).max(n.div_ceil(GROUP_COLUMNS));
        let size = n.div_ceil(groups.clamp(1, n.max(1))).max(1);
        state.config_mut().options_mut().execution.target_partitions = 1;
        no_file_statistics(&mut state);
        let mut out = Vec::new();
        for start in (0..n).step_by(size) {
            let projection: Vec<usize> = (start..(start + size).min(n)).collect();
            let plan = physical_scan(table, &state, Some(&projection)).await?;
            out.push((start == 0, execute_stream(plan, state.task_ctx())?));
        }
        Ok(out)
    }

    /// The table's scan as partition streams, in a fixed number of partitions (see
    /// [`PROFILE_PARTITIONS`]) that the workers take in turn. Only this scan is split so:
    /// the SQL queries on the same session keep one partition per worker.
    async fn scan_streams(&self, table: &Table) -> Result<Vec<SendableRecordBatchStream>> {
        self.scan_streams_in(table, PROFILE_PARTITIONS).await
    }

    /// As [`Inputs::scan_streams`], a narrow table in `partitions` partitions.
    async fn scan_streams_in(
        &self,
        table: &Table,
        partitions: usize,
    ) -> Result<Vec<SendableRecordBatchStream>> {
        if table.view.schema().fields().len() < WIDE {
            return self.profile_partitions(table, partitions).await;
        }
        let mut state = self.ctx.state();
        state.config_mut().options_mut().execution.target_partitions = WIDE_PARTITIONS;
        no_file_statistics(&mut state);
        let plan = physical_scan(table, &state, None).await?;
        Ok(execute_stream_partitioned(plan, state.task_ctx())?)
    }

    /// The partitions of a narrow table's profile: the input of `preflight_profile`'s
    /// partial aggregate in the plan of [`profile_config`], which is the plan a Ballista
    /// cluster runs (its scheduler plans with the same configuration), so the partitions,
    /// and the batches in each, are the cluster's. Read with our own workers and builders;
    /// merged as the function merges its partial states.
    async fn profile_partitions(
        &self,
        table: &Table,
        partitions: usize,
    ) -> Result<Vec<SendableRecordBatchStream>> {
        let ctx = self.profile_context(partitions);
        ctx.register_udaf(crate::profile::udaf::profile_udaf());
        let names: Vec<String> = table
            .view
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let plan = ctx
            .read_table(table.view.clone())?
            .aggregate(vec![], crate::profile::udaf::calls(&names))?
            .create_physical_plan()
            .await?;
        let input = aggregate_input(&plan)
            .ok_or_else(|| Error::Engine("the profile's plan has no aggregate".into()))?;
        let found: Vec<String> = input
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        if found != names {
            return Err(Error::Engine(format!(
                "the profile's plan reads the columns {found:?}, not the table's"
            )));
        }
        Ok(execute_stream_partitioned(input, ctx.task_ctx())?)
    }

    /// A session on this one's runtime (object stores) planned with [`profile_config`],
    /// in `partitions` partitions.
    fn profile_context(&self, partitions: usize) -> SessionContext {
        let mut state = self.ctx.state();
        *state.config_mut() = profile_config(self.ctx.copied_config(), self.batch_size)
            .with_target_partitions(partitions.max(1));
        SessionContext::new_with_state(state)
    }

    /// A read failed: re-read the files one at a time, unsplit, so the error names the
    /// file and a line number that counts from its start. The error returned keeps the
    /// engine's error as its cause.
    async fn diagnose_read(&self, table: &Table, e: Error) -> Error {
        if matches!(self.format, Format::Csv | Format::Json) || self.files.len() > 1 {
            for (f, own) in self.files.iter().zip(&table.file_schemas) {
                if self.format == Format::Json {
                    // arrow-json counts lines within a batch; find the record ourselves.
                    if let Err(e) = infer::json_keys(f, self.compression, usize::MAX) {
                        return e;
                    }
                    if let Err(e) = precheck::ndjson_kinds(f, self.compression) {
                        return e;
                    }
                }
                let schema = match self.format {
                    Format::Csv => text_schema(own),
                    Format::Arrow => own.clone(),
                    // Read by name, as the dataset reads them.
                    Format::Parquet | Format::Json => table.typed.clone(),
                };
                if let Err(found) = self.read_one(f, schema, &table.typed).await {
                    return found;
                }
            }
        }
        self.blame_engine(e)
    }

    /// Read one file alone; its first error, as the error [`Inputs::diagnose_read`]
    /// returns (naming `f`).
    async fn read_one(&self, f: &Path, schema: SchemaRef, typed: &Schema) -> Result<()> {
        let config = SessionConfig::new()
            .with_batch_size(self.batch_size)
            .with_target_partitions(1)
            .with_repartition_file_scans(false);
        let ctx = context(config)?;
        let options = ListingOptions::new(self.file_format(false)).with_file_extension("");
        let fail = |e: Error| engine_input(f, e);
        let cfg = ListingTableConfig::new(file_url(f).map_err(fail)?)
            .with_listing_options(options)
            .with_schema(schema);
        let table = ListingTable::try_new(cfg).map_err(|e| fail(e.into()))?;
        let df = ctx
            .read_table(Arc::new(table))
            .map_err(|e| fail(e.into()))?;
        let mut stream = df.execute_stream().await.map_err(|e| fail(e.into()))?;
        let mut row = 0usize;
        let header = usize::from(self.opts.csv.has_header);
        while let Some(b) = stream.next().await {
            let b = b.map_err(|e| fail(e.into()))?;
            if self.format == Format::Csv {
                precheck::typed_cells(&b, typed, &self.opts.csv.null_values, row + header)
                    .map_err(|m| Error::input(f, clean_engine_message(&m)))?;
            }
            row += b.num_rows();
        }
        Ok(())
    }
}

/// The table's own scan of `projection` (every column when `None`), without a logical plan
/// around it: nothing to optimize in a scan, and the optimizer's checks of a plan cost time
/// that grows faster than the number of columns (100,000 of them took seconds per check).
/// The physical rules still run: they split a large file into byte ranges.
async fn physical_scan(
    table: &Table,
    state: &datafusion::execution::SessionState,
    projection: Option<&Vec<usize>>,
) -> Result<Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
    let mut plan = table.view.scan(state, projection, &[], None).await?;
    let options = state.config_options().clone();
    for rule in state.physical_optimizers() {
        plan = rule.optimize(plan, &options)?;
    }
    Ok(plan)
}

/// An engine error while reading `f`: its message cleaned up, the error kept as the cause.
fn engine_input(f: &Path, e: impl Into<Error>) -> Error {
    let e = e.into();
    Error::input(f, clean_engine_message(&e.engine_text())).caused_by(e.into_source())
}

fn file_url(f: &Path) -> Result<ListingTableUrl> {
    if let Some(url) = f.to_str().filter(|s| remote::is_remote(s)) {
        // Listed by `remote::list`: a key, percent-encoded where it must be.
        return ListingTableUrl::parse(url)
            .map_err(|e| Error::input(f, e.to_string()).caused_by(e));
    }
    let abs = std::path::absolute(f).map_err(|e| Error::input(f, io_message(&e)).caused_by(e))?;
    let abs = abs.to_string_lossy();
    // DataFusion takes a path with glob characters for a pattern; a `file://` URL is taken
    // as it is (`br[1].csv` names one file).
    let text = if abs.contains(['*', '?', '[', ']', '{', '}', '%', '#']) {
        let mut url = String::from("file://");
        for b in abs.bytes() {
            if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
                url.push(char::from(b));
            } else {
                url.push_str(&format!("%{b:02X}"));
            }
        }
        url
    } else {
        abs.into_owned()
    };
    ListingTableUrl::parse(text).map_err(|e| Error::input(f, e.to_string()).caused_by(e))
}

/// The same columns, all text: how CSV is read before typing (see [`Table`]).
fn text_schema(typed: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        typed
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

/// DataFusion wraps causes in layers ("External error: Arrow error: Parser error: ...") and
/// arrow-csv counts lines from 0 without the header; users want the cause, with the line
/// number they would see in an editor.
fn clean_engine_message(msg: &str) -> String {
    let mut m = one_line(msg);
    // Each `ArrowError(` unwrapped leaves one `)` at the end; other parentheses are text.
    let wrapped = m.matches("ArrowError(").count();
    for prefix in [
        "External error: ",
        "Arrow error: ",
        "ArrowError(",
        "Parser error: ",
        "Csv error: ",
        "Parquet error: ",
        "Object Store error: ",
        "Execution error: ",
        "Error during planning: ",
        "Schema error: ",
    ] {
        while let Some(i) = m.find(prefix) {
            m.replace_range(i..i + prefix.len(), "");
        }
    }
    if let Some(i) = m.find(". Row data: ") {
        m.truncate(i);
    }
    // An object store's error (a remote input): its kind, never its request and body.
    if m.starts_with("Generic ") && m.contains(" error: ") {
        return remote::short(&m);
    }
    // arrow-csv: "Encountered invalid UTF-8 data for line 3 and field 2"
    if let Some(rest) = m
        .find("Encountered invalid UTF-8 data for line ")
        .map(|i| m[i + 40..].to_string())
        && let Some((line, field)) = rest.split_once(" and field ")
    {
        let field: String = field.chars().take_while(char::is_ascii_digit).collect();
        m = format!("invalid UTF-8 at line {line}, column {field}");
        return m;
    }
    for _ in 0..wrapped {
        if m.ends_with(')') {
            m.pop();
        }
    }
    m
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
    use std::fs;

    use arrow::array::{Int64Array, StringArray};

    use super::*;

    /// Write `files` (relative path, content) below a new temporary directory.
    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        dir
    }

    fn path(dir: &tempfile::TempDir, name: &str) -> String {
        dir.path().join(name).to_str().unwrap().to_string()
    }

    /// File names relative to `dir`.
    fn names(dir: &tempfile::TempDir, files: &[PathBuf]) -> Vec<String> {
        files
            .iter()
            .map(|f| {
                f.strip_prefix(dir.path())
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    async fn open(paths: &[String], opts: &SourceOptions) -> Result<Dataset> {
        Dataset::open(paths, opts).await
    }

    async fn profile(paths: &[String], opts: &SourceOptions) -> Profile {
        let mut ds = open(paths, opts).await.unwrap();
        ds.profile(Arc::new(AtomicU64::new(0))).await.unwrap()
    }

    #[test]
    fn formats_come_from_the_last_extension_before_compression() {
        let f = |n: &str| Format::from_path(Path::new(n));
        assert_eq!(f("a.csv"), Some((Format::Csv, Compression::None)));
        assert_eq!(f("dir/A.TSV.GZ"), Some((Format::Csv, Compression::Gzip)));
        assert_eq!(f("x.parquet"), Some((Format::Parquet, Compression::None)));
        assert_eq!(f("x.jsonl.zst"), Some((Format::Json, Compression::Zstd)));
        assert_eq!(f("x.ndjson.bz2"), Some((Format::Json, Compression::Bzip2)));
        assert_eq!(f("x.feather"), Some((Format::Arrow, Compression::None)));
        assert_eq!(f("x.csv.xz"), Some((Format::Csv, Compression::Xz)));
        assert_eq!(f("x.gz"), None);
        assert_eq!(f("README"), None);
        assert_eq!(f("x.xlsx"), None);
        assert_eq!("NDJSON".parse::<Format>(), Ok(Format::Json));
        assert_eq!("ipc".parse::<Format>(), Ok(Format::Arrow));
        assert_eq!(
            "xls".parse::<Format>(),
            Err("unknown input format `xls` (expected csv, parquet, ndjson or arrow)".into())
        );
        assert_eq!(Format::Json.name(), "ndjson");
    }

    #[test]
    fn type_names() {
        assert_eq!(parse_type(" Int "), Ok(DataType::Int64));
        assert_eq!(parse_type("double"), Ok(DataType::Float64));
        assert_eq!(parse_type("text"), Ok(DataType::Utf8));
        assert_eq!(
            parse_type("decimal(10, 2)"),
            Ok(DataType::Decimal128(10, 2))
        );
        assert_eq!(
            parse_type("timestamptz"),
            Ok(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into())
            ))
        );
        assert_eq!(
            parse_type("decimal(10)"),
            Err("expected decimal(precision,scale), got `decimal(10)`".into())
        );
        assert_eq!(
            parse_type("decimal(x,2)"),
            Err("bad precision in `decimal(x,2)`".into())
        );
        assert!(
            parse_type("blob")
                .unwrap_err()
                .starts_with("unknown type `blob`")
        );
    }

    #[test]
    fn globs_sort_their_matches_and_a_literal_name_wins() {
        let dir = tree(&[
            ("b.csv", "x\n1\n"),
            ("a.csv", "x\n2\n"),
            ("c.txt.bak", "x\n3\n"),
            ("br[1].csv", "x\n4\n"),
        ]);
        let r = resolve(&path(&dir, "*.csv")).unwrap();
        assert!(!r.is_dir);
        assert_eq!(names(&dir, &r.files), ["a.csv", "b.csv", "br[1].csv"]);
        // An existing file whose name looks like a pattern is that file.
        let r = resolve(&path(&dir, "br[1].csv")).unwrap();
        assert_eq!(names(&dir, &r.files), ["br[1].csv"]);
        let e = resolve(&path(&dir, "*.parquet")).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("*.parquet: no files match this pattern"),
            "{e}"
        );
        let e = resolve(&path(&dir, "[.csv")).unwrap_err();
        assert!(e.to_string().contains("bad glob pattern"), "{e}");
        assert!(
            std::error::Error::source(&e).is_some(),
            "the glob error is kept"
        );
        let e = resolve(&path(&dir, "missing.csv")).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("missing.csv: no such file or directory"),
            "{e}"
        );
        let io = std::error::Error::source(&e).unwrap();
        assert_eq!(
            io.downcast_ref::<std::io::Error>().unwrap().kind(),
            std::io::ErrorKind::NotFound
        );
    }

    #[test]
    fn directories_skip_bookkeeping_files_and_detect_loops() {
        let dir = tree(&[
            ("d/year=2007/part-0.csv", "x\n1\n"),
            ("d/year=2008/part-0.csv", "x\n2\n"),
            ("d/_SUCCESS", ""),
            ("d/.part-0.csv.crc", "crc"),
            ("d/_tmp/part-9.csv", "x\n9\n"),
            ("empty/.keep", ""),
        ]);
        let r = resolve(&path(&dir, "d")).unwrap();
        assert!(r.is_dir);
        assert_eq!(
            names(&dir, &r.files),
            ["d/year=2007/part-0.csv", "d/year=2008/part-0.csv"]
        );
        let e = resolve(&path(&dir, "empty")).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("empty: directory contains no data files"),
            "{e}"
        );
        std::os::unix::fs::symlink(dir.path().join("d"), dir.path().join("d/year=2008/back"))
            .unwrap();
        let e = resolve(&path(&dir, "d")).unwrap_err();
        assert!(e.to_string().ends_with(": symbolic link loop"), "{e}");
    }

    #[test]
    fn helpers_for_the_reader() {
        assert_eq!(null_regex(&["NA".into(), "n/a".into()]), "^(|NA|n/a)$");
        assert_eq!(regex_escape("a.b*(c)-#"), "a\\.b\\*\\(c\\)\\-\\#");
        assert_eq!(batch_size(Format::Parquet, 100_000), 8192);
        assert_eq!(batch_size(Format::Csv, 0), 8192);
        assert_eq!(batch_size(Format::Csv, 100_000), (1 << 23) / 100_000);
        assert_eq!(batch_size(Format::Csv, 1 << 24), 1);
        let opts = SourceOptions::default();
        assert_eq!(delimiter_for(&opts, Path::new("a.tsv.gz")), b'\t');
        assert_eq!(delimiter_for(&opts, Path::new("a.csv")), b',');
        let semicolon = SourceOptions {
            csv: CsvOptions {
                delimiter: Some(b';'),
                ..CsvOptions::default()
            },
            ..SourceOptions::default()
        };
        assert_eq!(delimiter_for(&semicolon, Path::new("a.tsv")), b';');
        let e = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(io_message(&e), "permission denied");
        assert_eq!(
            io_message(&std::io::Error::from_raw_os_error(40)),
            "symbolic link loop"
        );
    }

    #[test]
    fn engine_messages_are_cleaned_for_users() {
        assert_eq!(
            clean_engine_message(
                "External error: Arrow error: Parser error: Error while parsing value 'x' as \
                 type 'Int64' for column 0 at line 3. Row data: '[x]'"
            ),
            "Error while parsing value 'x' as type 'Int64' for column 0 at line 3"
        );
        assert_eq!(
            clean_engine_message(
                "ArrowError(Csv error: Encountered invalid UTF-8 data for line 3 and field 2)"
            ),
            "invalid UTF-8 at line 3, column 2"
        );
        assert_eq!(
            clean_engine_message("ArrowError(ExternalError(bad (x)))"),
            "ExternalError(bad (x))",
            "one `)` goes with each `ArrowError(` taken off"
        );
    }

    #[test]
    fn a_file_url_takes_pattern_characters_literally() {
        let dir = tree(&[("br[1] 100%.csv", "x\n1\n")]);
        let url = file_url(&dir.path().join("br[1] 100%.csv")).unwrap();
        assert!(
            url.as_str().ends_with("br%5B1%5D%20100%25.csv"),
            "{}",
            url.as_str()
        );
        let plain = file_url(&dir.path().join("a.csv")).unwrap();
        assert!(plain.as_str().starts_with("file:///"), "{}", plain.as_str());
    }

    #[tokio::test]
    async fn open_refuses_what_it_cannot_read_before_reading() {
        let dir = tree(&[
            ("a.csv", "x\n1\n"),
            ("b.parquet", "PAR1"),
            ("empty.csv", ""),
            ("notes.xyz", "x\n1\n"),
        ]);
        let opts = SourceOptions::default();
        let msg = |r: Result<Dataset>| r.err().unwrap().to_string();
        assert_eq!(msg(open(&[], &opts).await), "no input files given");
        let many = SourceOptions {
            partitions: MAX_PARTITIONS + 1,
            ..SourceOptions::default()
        };
        assert!(
            msg(open(&[path(&dir, "a.csv")], &many).await)
                .starts_with("--partitions 1025 is out of range")
        );
        assert!(
            msg(open(&[path(&dir, "notes.xyz")], &opts).await)
                .ends_with("notes.xyz: cannot tell the file format from its extension; name it with --input-format csv|parquet|ndjson|arrow")
        );
        assert!(
            msg(open(&[path(&dir, "empty.csv")], &opts).await)
                .ends_with("empty.csv: file is empty")
        );
        let mixed = msg(open(&[path(&dir, "a.csv"), path(&dir, "b.parquet")], &opts).await);
        assert!(
            mixed.contains("inputs mix formats:")
                && mixed.ends_with("is parquet; profile them separately"),
            "{mixed}"
        );
        // --input-format names the format of a file without a known extension.
        let csv = SourceOptions {
            format: Some(Format::Csv),
            ..SourceOptions::default()
        };
        let ds = open(&[path(&dir, "notes.xyz")], &csv).await.unwrap();
        assert_eq!(ds.format(), Format::Csv);
        assert_eq!(ds.schema().field(0).name(), "x");
        assert_eq!(ds.decode_only().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn csv_options_nulls_and_forced_types() {
        let dir = tree(&[
            (
                "t.tsv",
                "id\tname\tscore\n1\tann\t1.5\n2\tNA\t\n3\tbob\t2\n",
            ),
            ("s.csv", "id;v\n1;x\n2;-\n"),
        ]);
        let p = profile(&[path(&dir, "t.tsv")], &SourceOptions::default()).await;
        assert_eq!(p.row_count, 3);
        let names: Vec<&str> = p.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "name", "score"]);
        let col = |p: &Profile, n: &str| p.column(n).unwrap().clone();
        assert_eq!(col(&p, "name").missing, 1, "NA is missing");
        assert_eq!(col(&p, "score").missing, 1, "an empty cell is missing");
        assert_eq!(col(&p, "id").type_name, "int64");
        // A delimiter and null spelling of one's own, and a forced type.
        let opts = SourceOptions {
            csv: CsvOptions {
                delimiter: Some(b';'),
                null_values: vec!["-".into()],
                ..CsvOptions::default()
            },
            types: vec![("id".into(), DataType::Utf8)],
            ..SourceOptions::default()
        };
        let p = profile(&[path(&dir, "s.csv")], &opts).await;
        assert_eq!(col(&p, "v").missing, 1);
        assert_eq!(col(&p, "id").type_name, "string");
        let wrong = SourceOptions {
            types: vec![("nosuch".into(), DataType::Int64)],
            ..SourceOptions::default()
        };
        let e = open(&[path(&dir, "t.tsv")], &wrong).await.err().unwrap();
        assert!(
            e.to_string().ends_with(
                "--type names column `nosuch`, which is not in the data (columns: id, name, score)"
            ),
            "{e}"
        );
    }

    /// A table in memory (the Python API's data frames) is read in place of the path that
    /// names it: its profile is that of the same rows in a file, whatever its batches;
    /// `ordered_context` gives its rows in order; it must be its side's only input.
    #[tokio::test]
    async fn tables_in_memory_read_as_the_same_rows_in_a_file() {
        let n = 50_000;
        let x: Int64Array = (0..n)
            .map(|i| (i % 7 != 0).then_some(i * 3 % 1000))
            .collect();
        let c: StringArray = (0..n)
            .map(|i| Some(["a", "b", "c"][i as usize % 3]))
            .collect();
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Int64, true),
            Field::new("c", DataType::Utf8, true),
        ]));
        let whole = RecordBatch::try_new(schema.clone(), vec![Arc::new(x), Arc::new(c)]).unwrap();
        let mut text = String::from("x,c\n");
        for i in 0..n {
            let x = if i % 7 == 0 {
                String::new()
            } else {
                (i * 3 % 1000).to_string()
            };
            text.push_str(&format!("{x},{}\n", ["a", "b", "c"][i as usize % 3]));
        }
        let dir = tree(&[("t.csv", &text)]);
        let from_file = profile(&[path(&dir, "t.csv")], &SourceOptions::default()).await;
        // One batch, and the same rows in uneven batches.
        let uneven = vec![
            whole.slice(0, 1),
            whole.slice(1, 30_000),
            whole.slice(30_001, 19_999),
        ];
        for batches in [vec![whole.clone()], uneven] {
            let opts = SourceOptions {
                memory: MemoryTables::new([(
                    "<frame>".to_string(),
                    MemoryTable {
                        schema: schema.clone(),
                        batches,
                    },
                )]),
                ..SourceOptions::default()
            };
            let p = profile(&["<frame>".to_string()], &opts).await;
            assert_eq!(p.sources, ["<frame>"]);
            assert_eq!(p.row_count, from_file.row_count);
            for (a, b) in p.columns.iter().zip(&from_file.columns) {
                assert_eq!(
                    (&a.name, a.missing, a.distinct),
                    (&b.name, b.missing, b.distinct)
                );
                assert_eq!(a.top_values, b.top_values);
            }
            let ds = open(&["<frame>".to_string()], &opts).await.unwrap();
            let rows = ds
                .ordered_context()
                .unwrap()
                .sql("SELECT x FROM data")
                .await
                .unwrap()
                .collect()
                .await
                .unwrap();
            let xs: Vec<Option<i64>> = rows
                .iter()
                .flat_map(|b| {
                    b.column(0)
                        .as_any()
                        .downcast_ref::<Int64Array>()
                        .unwrap()
                        .iter()
                        .collect::<Vec<_>>()
                })
                .collect();
            let expected: Vec<Option<i64>> = (0..n)
                .map(|i| (i % 7 != 0).then_some(i * 3 % 1000))
                .collect();
            assert_eq!(xs, expected);
            let both = open(&["<frame>".to_string(), path(&dir, "t.csv")], &opts).await;
            assert_eq!(
                both.err().unwrap().to_string(),
                "<frame>: a table in memory must be the only input of its side; concatenate the tables first"
            );
        }
    }

    #[tokio::test]
    async fn partitioned_directories_add_their_key_columns() {
        let dir = tree(&[
            ("d/year=2007/a.csv", "x\n1\n2\n"),
            ("d/year=2008/a.csv", "x\n3\n"),
        ]);
        let opts = SourceOptions::default();
        let ds = open(&[path(&dir, "d")], &opts).await.unwrap();
        let fields: Vec<String> = ds
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(fields, ["x", "year"]);
        assert_eq!(ds.files().len(), 2);
        assert_eq!(ds.sources(), [path(&dir, "d")]);
        let p = profile(&[path(&dir, "d")], &opts).await;
        assert_eq!(p.row_count, 3);
        let year = p.column("year").unwrap();
        assert_eq!(year.missing, 0);
        assert_eq!(year.distinct, Some(2));
        // Read in order with one partition: rows of 2007 first.
        let ctx = ds.ordered_context().unwrap();
        let batches = ctx
            .sql("SELECT x, CAST(year AS VARCHAR) AS y FROM data")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let mut rows = Vec::new();
        for b in &batches {
            let x = arrow::compute::cast(b.column(0), &DataType::Int64).unwrap();
            let x = x.as_any().downcast_ref::<Int64Array>().unwrap();
            let y = arrow::compute::cast(b.column(1), &DataType::Utf8).unwrap();
            let y = y.as_any().downcast_ref::<StringArray>().unwrap();
            for i in 0..b.num_rows() {
                rows.push((x.value(i), y.value(i).to_string()));
            }
        }
        assert_eq!(
            rows,
            [
                (1, "2007".to_string()),
                (2, "2007".to_string()),
                (3, "2008".to_string())
            ]
        );
    }

    #[tokio::test]
    async fn files_with_different_columns_read_as_one_table() {
        let dir = tree(&[
            ("a.csv", "x,y\n1,a\n"),
            ("b.csv", "y,z\nb,2.5\n"),
            ("c.ndjson", "{\"x\": 1, \"s\": \"a\"}\n{\"x\": 2}\n"),
        ]);
        let p = profile(
            &[path(&dir, "a.csv"), path(&dir, "b.csv")],
            &SourceOptions::default(),
        )
        .await;
        assert_eq!(p.row_count, 2);
        let x = p.column("x").unwrap();
        assert_eq!((x.count, x.missing), (2, 1));
        assert_eq!(x.absent_in, [path(&dir, "b.csv")]);
        assert_eq!(p.column("y").unwrap().missing, 0);
        let p = profile(&[path(&dir, "c.ndjson")], &SourceOptions::default()).await;
        assert_eq!(p.row_count, 2);
        assert_eq!(p.column("s").unwrap().missing, 1);
    }

    #[tokio::test]
    async fn a_header_without_rows_is_marked_as_no_rows() {
        let dir = tree(&[("h.csv", "x,y\n")]);
        let e = open(&[path(&dir, "h.csv")], &SourceOptions::default())
            .await
            .err()
            .unwrap();
        assert!(matches!(e, Error::NoRows { .. }), "{e:?}");
        assert!(
            e.to_string()
                .ends_with("h.csv: no data rows: the file holds only a header line"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_bad_cell_is_blamed_on_its_file_and_line() {
        let mut text = String::from("n\n");
        for i in 0..1500 {
            text.push_str(&format!("{i}\n"));
        }
        text.push_str("oops\n");
        let dir = tree(&[("ok.csv", "n\n1\n"), ("bad.csv", &text)]);
        let opts = SourceOptions {
            types: vec![("n".into(), DataType::Int64)],
            ..SourceOptions::default()
        };
        let mut ds = open(&[path(&dir, "ok.csv"), path(&dir, "bad.csv")], &opts)
            .await
            .unwrap();
        let e = ds.profile(Arc::new(AtomicU64::new(0))).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: line 1502, column `n`: `oops` is not a valid int64",
                path(&dir, "bad.csv")
            )
        );
    }
}
