//! Records on disk: `DIR/runs/<id>.json`, one JSON line per run, and
//! `DIR/profiles/<id>.profile.json`, the run's stored profile.
//!
//! Why one file per record, JSON Lines: a record is written to a temporary name in the
//! same directory and renamed, so a reader never sees half a record and two writers never
//! interleave (an append to one shared file is atomic only below PIPE_BUF, and a
//! 5,000-column record is far above it). Nothing is ever rewritten: the history is
//! append-only. Each file is one JSON line, so the directory is a JSON Lines dataset
//! that DataFusion (`CREATE EXTERNAL TABLE runs STORED AS JSON LOCATION 'DIR/runs/'`),
//! DuckDB's `read_json` or `jq` read as it is; the metrics are column-major (one array per
//! metric), which keeps a wide table's record short and lets a check parse only the
//! metrics it uses. The profile is written before the record that names it: a record
//! always has its profile.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::{Metric, RunMetrics, TopShares};
use crate::error::{Error, Result};

/// The record format version this build writes and reads.
pub const RECORD_VERSION: u32 = 1;
/// The `format` field of every record.
pub const RECORD_FORMAT: &str = "preflight-history";

/// One run: when, what, its tags and its metrics.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Record {
    pub format: String,
    pub version: u32,
    pub id: String,
    /// The run's time (`--at`, a `date`/`time` tag, or when it ran), RFC 3339 UTC.
    pub time: String,
    /// The same, as milliseconds since the epoch: what the history sorts on.
    pub time_ms: i64,
    /// When the record was written (orders records of the same time).
    pub written: String,
    /// The command that wrote it: `profile` or `validate`.
    pub command: String,
    pub tags: BTreeMap<String, String>,
    pub inputs: Vec<String>,
    /// The stored profile, relative to the history directory.
    pub profile: String,
    pub rows: u64,
    pub columns: Vec<String>,
    pub metrics: BTreeMap<String, Vec<Option<f64>>>,
    pub top_values: Vec<TopShares>,
    /// Metrics a check of this run found anomalous (`validate`); later runs leave the
    /// value out of their baselines, so one bad batch does not widen the band.
    #[serde(default)]
    pub flagged: Vec<String>,
    /// The record's file (not written).
    #[serde(skip)]
    pub path: PathBuf,
}

impl Record {
    pub fn metrics(&self) -> RunMetrics {
        RunMetrics {
            rows: self.rows,
            columns: self.columns.clone(),
            values: self.metrics.clone(),
            top_values: self.top_values.clone(),
        }
    }

    /// Whether every `filter` pair is among the record's tags (Deequ's tag filter). A
    /// slice's run (tagged [`SLICE_TAG`] by `profile --by --history`) belongs to its
    /// slice's series only: it matches a filter that names a slice, never the whole
    /// dataset's series, whose row counts and means it would corrupt.
    pub fn has_tags(&self, filter: &BTreeMap<String, String>) -> bool {
        if self.tags.contains_key(SLICE_TAG) && !filter.contains_key(SLICE_TAG) {
            return false;
        }
        filter.iter().all(|(k, v)| self.tags.get(k) == Some(v))
    }
}

/// Which metrics a reader needs: parsing a 5,000-column record's unused metrics would
/// cost most of the read.
#[derive(Debug, Clone, Default)]
pub enum Selection {
    #[default]
    All,
    /// Only these record fields ([`Metric::field`]); `rows` is always read.
    Fields(HashSet<String>),
    /// No metrics (listing runs; the column names are still read).
    None,
}

impl Selection {
    pub fn of(metrics: &[Metric]) -> Self {
        Self::Fields(metrics.iter().map(|m| m.field().to_string()).collect())
    }

    fn wants(&self, field: &str) -> bool {
        match self {
            Self::All => true,
            Self::Fields(f) => f.contains(field),
            Self::None => false,
        }
    }
}

/// A run's time: RFC 3339 (`2026-12-01T06:00:00Z`, an offset), `2026-12-01T06:00:00`
/// (UTC), or a date (`2026-12-01`, midnight UTC). Gives milliseconds since the epoch.
pub fn parse_time(text: &str) -> std::result::Result<i64, String> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp_millis());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(d.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        && let Some(d) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(d.and_utc().timestamp_millis());
    }
    Err(format!(
        "`{text}` is not a time: give RFC 3339 (2026-12-01T06:00:00Z), 2026-12-01T06:00:00 (UTC) or a date (2026-12-01)"
    ))
}

/// Milliseconds since the epoch as RFC 3339 UTC.
pub fn format_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The tag of a slice's run: its key (`country_US`), as `profile --by` names the slice.
pub const SLICE_TAG: &str = "slice";

/// A slice key as a tag value: control characters (which a tag may not hold, and data
/// may) written as escapes.
pub fn slice_tag_value(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A `k=v` tag: the key is non-empty and has no control characters; the value may hold
/// anything but control characters (`a=b/c d` is fine: tags live inside the record, not
/// in its file name).
pub fn parse_tag(text: &str) -> std::result::Result<(String, String), String> {
    let Some((k, v)) = text.split_once('=') else {
        return Err(format!("tag `{text}` is not `key=value`"));
    };
    let k = k.trim();
    if k.is_empty() {
        return Err(format!("tag `{text}` has an empty key"));
    }
    if text.chars().any(char::is_control) {
        return Err(format!(
            "tag {text:?} holds a control character (a newline, a tab, an escape)"
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

fn runs_dir(dir: &Path) -> PathBuf {
    dir.join("runs")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A record id: the run's time (so file names sort by time), then what makes two
/// writers' ids differ (process, nanoseconds, a per-process counter, hashed).
fn new_id(time_ms: i64) -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(nanos);
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let stamp = chrono::DateTime::from_timestamp_millis(time_ms)
        .map(|d| d.format("%Y%m%dT%H%M%S%3fZ").to_string())
        .unwrap_or_else(|| time_ms.to_string());
    format!("{stamp}-{:016x}", h.finish())
}

/// Write `bytes` to `path` through a temporary file in the same directory and a rename
/// that never replaces an existing file. On an object store (`s3://...`): one PUT of a
/// new key, which appears whole or not at all; the key holds the record id, unique per
/// writer and run, so two writers never write one key.
fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    if crate::remote::is_remote_path(path) {
        return crate::remote::write(&path.to_string_lossy(), bytes.to_vec());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".tmp-{}", name.unwrap_or_default()));
    let io = |e: std::io::Error, p: &Path| Error::io(p, e);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| io(e, &tmp))?;
    f.write_all(bytes).map_err(|e| io(e, &tmp))?;
    f.sync_all().map_err(|e| io(e, &tmp))?;
    drop(f);
    // A hard link fails if the name exists: no record is ever overwritten.
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked.map_err(|e| io(e, path))
}

/// What a new record says besides its metrics.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub time_ms: i64,
    pub command: &'a str,
    pub tags: &'a BTreeMap<String, String>,
    pub inputs: &'a [String],
    pub flagged: Vec<String>,
}

/// Append a run: its profile (`profile_json`, as `preflight profile --format json`
/// writes it), then its record. Gives the record written.
pub fn append(
    dir: &Path,
    run: NewRun<'_>,
    metrics: &RunMetrics,
    profile_json: &[u8],
) -> Result<Record> {
    let runs = runs_dir(dir);
    let profiles = dir.join("profiles");
    // An object store has no directories to make.
    if !crate::remote::is_remote_path(dir) {
        for d in [&runs, &profiles] {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
    }
    let id = new_id(run.time_ms);
    let profile_rel = format!("profiles/{id}.profile.json");
    write_new(&dir.join(&profile_rel), profile_json)?;
    let record = Record {
        format: RECORD_FORMAT.into(),
        version: RECORD_VERSION,
        id: id.clone(),
        time: format_time(run.time_ms),
        time_ms: run.time_ms,
        written: chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.9fZ")
            .to_string(),
        command: run.command.into(),
        tags: run.tags.clone(),
        inputs: run.inputs.to_vec(),
        profile: profile_rel,
        rows: metrics.rows,
        columns: metrics.columns.clone(),
        metrics: metrics.values.clone(),
        top_values: metrics.top_values.clone(),
        flagged: run.flagged,
        path: runs.join(format!("{id}.json")),
    };
    let mut line = serde_json::to_vec(&record).map_err(|e| Error::Usage(e.to_string()))?;
    line.push(b'\n');
    write_new(&record.path, &line)?;
    Ok(record)
}

/// Read every record of `dir` (oldest first: by time, then by when written), with the
/// metrics `selection` asks for. A missing directory is an empty history. A record that
/// is not one, or of a newer format version, is an error naming its file.
pub fn read(dir: &Path, selection: &Selection) -> Result<Vec<Record>> {
    let paths = record_paths(dir)?;
    let mut records = parse_all(&paths, selection)?;
    sort(&mut records);
    Ok(records)
}

fn sort(records: &mut [Record]) {
    records.sort_by(|a, b| (a.time_ms, &a.written, &a.id).cmp(&(b.time_ms, &b.written, &b.id)));
}

/// Whether `dir` holds a history: its `runs/` directory, or on an object store any object
/// under `runs/` (a prefix exists only while something is under it).
pub fn exists(dir: &Path) -> Result<bool> {
    if crate::remote::is_remote_path(dir) {
        return Ok(!record_paths(dir)?.is_empty());
    }
    Ok(runs_dir(dir).is_dir())
}

/// The record files of `dir`, sorted by name (a missing directory has none).
fn record_paths(dir: &Path) -> Result<Vec<PathBuf>> {
    let runs = runs_dir(dir);
    if crate::remote::is_remote_path(dir) {
        // The objects under `runs/` (a prefix no object is under lists nothing: an empty
        // history, as a missing directory is).
        let prefix = format!("{}/", runs.to_string_lossy().trim_end_matches('/'));
        let mut paths: Vec<PathBuf> = (crate::remote::list_under(&prefix)?.into_iter())
            .filter(|url| {
                let name = url.rsplit('/').next().unwrap_or_default();
                !name.starts_with('.') && name.ends_with(".json")
            })
            .map(PathBuf::from)
            .collect();
        paths.sort();
        return Ok(paths);
    }
    let entries = match std::fs::read_dir(&runs) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&runs, e)),
    };
    let mut paths = Vec::new();
    for e in entries {
        let e = e.map_err(|e| Error::io(&runs, e))?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        paths.push(e.path());
    }
    paths.sort();
    Ok(paths)
}

/// Parse `paths`, spread over the cores (parsing is most of the time), in their order.
fn parse_all(paths: &[PathBuf], selection: &Selection) -> Result<Vec<Record>> {
    crate::work::par_map(
        paths.iter().collect(),
        crate::work::machine_threads(),
        |p| read_one(p, selection),
    )
    .into_iter()
    .collect()
}

/// The time stamp a record file's name starts with (`20261201T000000000Z-...`), as
/// written by [`append`]; `None` for a name of another form.
fn name_time(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    let stamp = name.get(..19)?;
    let t = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S%3fZ").ok()?;
    Some(t.and_utc().timestamp_millis())
}

/// The history of a run at `before_ms` with `tags`: the records [`select`] would choose
/// from [`read`], but when the checks look at most `needed` runs back, only the newest
/// records are parsed. File names start with the run's time, so the newest are read
/// first, a chunk at a time, until `needed` distinct run times are found beyond every
/// record with flagged metrics (those values are left out of a series, so more runs may
/// be needed); a name of another form makes every record be read.
pub fn read_history(
    dir: &Path,
    selection: &Selection,
    tags: &BTreeMap<String, String>,
    before_ms: i64,
    needed: Option<usize>,
) -> Result<Vec<Record>> {
    let keep = |mut all: Vec<Record>| {
        all.retain(|r| r.has_tags(tags) && r.time_ms < before_ms);
        sort(&mut all);
        all
    };
    let paths = record_paths(dir)?;
    let times: Option<Vec<i64>> = paths.iter().map(|p| name_time(p)).collect();
    let (Some(needed), Some(times)) = (needed, times) else {
        return Ok(keep(parse_all(&paths, selection)?));
    };
    // Candidates: names before the run's time, newest last.
    let end = times.partition_point(|t| *t < before_ms);
    let candidates = &paths[..end];
    let chunk = (2 * needed).max(64);
    let mut hi = candidates.len();
    let mut out: Vec<Record> = Vec::new();
    while hi > 0 {
        let lo = hi.saturating_sub(chunk);
        out.extend(parse_all(&candidates[lo..hi], selection)?);
        hi = lo;
        out.retain(|r| r.has_tags(tags) && r.time_ms < before_ms);
        let distinct: std::collections::BTreeSet<i64> = out.iter().map(|r| r.time_ms).collect();
        let flagged = out.iter().filter(|r| !r.flagged.is_empty()).count();
        if distinct.len() >= needed + flagged {
            // The oldest time read may be missing records of the same time in the chunk
            // before: read that time's files too.
            if let Some(&oldest) = distinct.iter().next() {
                let mut k = hi;
                while k > 0 && times[k - 1] >= oldest {
                    k -= 1;
                }
                out.extend(parse_all(&candidates[k..hi], selection)?);
                out.retain(|r| r.has_tags(tags) && r.time_ms < before_ms);
            }
            break;
        }
    }
    sort(&mut out);
    Ok(out)
}

fn corrupt(path: &Path, what: impl fmt::Display) -> Error {
    Error::History {
        path: path.to_path_buf(),
        message: format!("not a readable history record: {what}"),
    }
}

/// Read one record file.
pub fn read_one(path: &Path, selection: &Selection) -> Result<Record> {
    let bytes = if crate::remote::is_remote_path(path) {
        crate::remote::read(&path.to_string_lossy())?
    } else {
        std::fs::read(path).map_err(|e| Error::io(path, e))?
    };
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let record = RecordSeed { selection, path }
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|()| r));
    match record {
        Ok(mut r) => {
            r.path = path.to_path_buf();
            Ok(r)
        }
        Err(e) => {
            let msg = e.to_string();
            if let Some(v) = msg.strip_prefix(NEWER) {
                let v = v.split_whitespace().next().unwrap_or(v);
                return Err(Error::History {
                    path: path.to_path_buf(),
                    message: format!(
                        "history record version {v} was written by a newer preflight (this one reads version {RECORD_VERSION}); upgrade preflight to read it"
                    ),
                });
            }
            Err(corrupt(path, msg))
        }
    }
}

const NEWER: &str = "newer record version ";

struct RecordSeed<'a> {
    selection: &'a Selection,
    path: &'a Path,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Record;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Record, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Record;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a preflight history record (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Record, A::Error> {
        let mut r = Record {
            format: String::new(),
            version: 0,
            id: String::new(),
            time: String::new(),
            time_ms: i64::MIN,
            written: String::new(),
            command: String::new(),
            tags: BTreeMap::new(),
            inputs: Vec::new(),
            profile: String::new(),
            rows: 0,
            columns: Vec::new(),
            metrics: BTreeMap::new(),
            top_values: Vec::new(),
            flagged: Vec::new(),
            path: self.path.to_path_buf(),
        };
        let mut has_rows = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => r.format = map.next_value()?,
                // Written first: a newer record is refused before the rest is read.
                "version" => {
                    r.version = map.next_value()?;
                    if r.version > RECORD_VERSION {
                        return Err(de::Error::custom(format!("{NEWER}{}", r.version)));
                    }
                }
                "id" => r.id = map.next_value()?,
                "time" => r.time = map.next_value()?,
                "time_ms" => r.time_ms = map.next_value()?,
                "written" => r.written = map.next_value()?,
                "command" => r.command = map.next_value()?,
                "tags" => r.tags = map.next_value()?,
                "inputs" => r.inputs = map.next_value()?,
                "profile" => r.profile = map.next_value()?,
                "rows" => {
                    r.rows = map.next_value()?;
                    has_rows = true;
                }
                "columns" => r.columns = map.next_value()?,
                "metrics" => {
                    r.metrics = map.next_value_seed(MetricsSeed(self.selection))?;
                }
                "top_values" if self.selection.wants("top_values") => {
                    r.top_values = map.next_value()?;
                }
                "flagged" => r.flagged = map.next_value()?,
                // Fields a later minor version may add are skipped.
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if r.format != RECORD_FORMAT {
            return Err(de::Error::custom(format!(
                "`format` is {:?}, expected {RECORD_FORMAT:?}",
                r.format
            )));
        }
        if r.version == 0 {
            return Err(de::Error::missing_field("version"));
        }
        if r.time_ms == i64::MIN {
            return Err(de::Error::missing_field("time_ms"));
        }
        if !has_rows {
            return Err(de::Error::missing_field("rows"));
        }
        for (m, v) in &r.metrics {
            if v.len() != r.columns.len() {
                return Err(de::Error::custom(format!(
                    "metric `{m}` has {} values for {} columns",
                    v.len(),
                    r.columns.len()
                )));
            }
        }
        Ok(r)
    }
}

struct MetricsSeed<'a>(&'a Selection);

impl<'de> DeserializeSeed<'de> for MetricsSeed<'_> {
    type Value = BTreeMap<String, Vec<Option<f64>>>;
    fn deserialize<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MetricsSeed<'_> {
    type Value = BTreeMap<String, Vec<Option<f64>>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object of metric arrays")
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.0.wants(&key) {
                out.insert(key, map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

/// Records that may serve as a run's history: tags include `tags`, time strictly before
/// `before_ms` (when given) and within `since..=until`.
pub fn select<'a>(
    records: &'a [Record],
    tags: &BTreeMap<String, String>,
    before_ms: Option<i64>,
    since: Option<i64>,
    until: Option<i64>,
) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|r| {
            r.has_tags(tags)
                && before_ms.is_none_or(|b| r.time_ms < b)
                && since.is_none_or(|s| r.time_ms >= s)
                && until.is_none_or(|u| r.time_ms <= u)
        })
        .collect()
}

/// A `metric` of a column that none of the runs `chosen` (from `dir`) has is a typo more
/// often than a column yet to come: the message names the newest run's columns and the
/// closest one, for an error rather than an empty series. `rows`, a column that some
/// chosen run has, and no chosen run at all (an empty series, as asked) are fine.
pub fn check_metric_column(
    chosen: &[&Record],
    metric: &Metric,
    dir: &Path,
) -> std::result::Result<(), String> {
    let (Metric::Column(column, _) | Metric::Share(column, _)) = metric else {
        return Ok(());
    };
    let Some(newest) = chosen.iter().max_by_key(|r| r.time_ms) else {
        return Ok(());
    };
    if chosen.iter().any(|r| r.columns.iter().any(|c| c == column)) {
        return Ok(());
    }
    let closest = (newest.columns.iter())
        .map(|c| {
            let d = strsim::levenshtein(&c.to_lowercase(), &column.to_lowercase());
            (d, c)
        })
        .filter(|(d, c)| *d <= 2.max(c.chars().count() / 4))
        .min();
    Err(format!(
        "no run of {}{} has a column `{column}`{}; the newest run's columns: {}",
        dir.display(),
        if chosen.len() == 1 {
            String::new()
        } else {
            format!(" ({} runs)", chosen.len())
        },
        closest.map_or(String::new(), |(_, c)| format!(" (did you mean `{c}`?)")),
        crate::error::column_list(newest.columns.iter().map(String::as_str))
    ))
}

/// One point of a metric's series: the run's time and the value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub time_ms: i64,
    pub value: f64,
}

/// The runs a new run is judged against, indexed for reading many metrics' series:
/// runs of one time count once (the record written last: a `validate` after a `profile`
/// of the same batch), and each record's column positions are looked up by name (records
/// with the same columns as the one before share the map).
pub struct History<'a> {
    records: Vec<&'a Record>,
    maps: Vec<std::collections::HashMap<&'a str, usize>>,
    map_of: Vec<usize>,
}

impl<'a> History<'a> {
    /// `records` sorted oldest first (as [`read`] and [`select`] give them).
    pub fn new(records: &[&'a Record]) -> Self {
        let mut kept: Vec<&'a Record> = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            if records.get(i + 1).is_some_and(|n| n.time_ms == r.time_ms) {
                continue;
            }
            kept.push(r);
        }
        let mut maps: Vec<std::collections::HashMap<&'a str, usize>> = Vec::new();
        let mut map_of = Vec::with_capacity(kept.len());
        for (i, r) in kept.iter().enumerate() {
            if i > 0 && kept[i - 1].columns == r.columns {
                map_of.push(maps.len() - 1);
                continue;
            }
            maps.push(
                (r.columns.iter().enumerate())
                    .map(|(j, c)| (c.as_str(), j))
                    .collect(),
            );
            map_of.push(maps.len() - 1);
        }
        Self {
            records: kept,
            maps,
            map_of,
        }
    }

    /// The runs, one per time, oldest first.
    pub fn runs(&self) -> &[&'a Record] {
        &self.records
    }

    /// A metric's series (oldest first), without the runs where it has no value or was
    /// flagged anomalous.
    pub fn series(&self, metric: &Metric) -> Vec<SeriesPoint> {
        (self.series_flagged(metric).into_iter())
            .filter(|(_, flagged)| !flagged)
            .map(|(p, _)| p)
            .collect()
    }

    /// A metric's series (oldest first) with the runs where it was flagged anomalous,
    /// each said so; runs without a value are left out.
    pub fn series_flagged(&self, metric: &Metric) -> Vec<(SeriesPoint, bool)> {
        let name = metric.text();
        let mut out = Vec::with_capacity(self.records.len());
        for (i, r) in self.records.iter().enumerate() {
            let index = |c: &str| self.maps[self.map_of[i]].get(c).copied();
            let value = match metric {
                Metric::Rows => Some(r.rows as f64),
                Metric::Column(c, f) => index(c)
                    .and_then(|j| r.metrics.get(*f).and_then(|v| v.get(j).copied().flatten())),
                Metric::Share(c, v) => index(c).and_then(|j| r.top_values.get(j)?.share(v)),
            };
            if let Some(value) = value {
                out.push((
                    SeriesPoint {
                        time_ms: r.time_ms,
                        value,
                    },
                    r.flagged.contains(&name),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn metrics(rows: u64, mean: f64) -> RunMetrics {
        RunMetrics {
            rows,
            columns: vec!["x".into()],
            values: [("mean".to_string(), vec![Some(mean)])].into(),
            top_values: vec![TopShares::default()],
        }
    }

    #[test]
    fn appends_and_reads_back_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let tags: BTreeMap<String, String> = [("a".to_string(), "b/c d".to_string())].into();
        for (day, rows) in [(3, 30), (1, 10), (2, 20)] {
            let t = parse_time(&format!("2026-12-0{day}")).unwrap();
            append(
                dir.path(),
                NewRun {
                    time_ms: t,
                    command: "profile",
                    tags: &tags,
                    inputs: &["x.csv".to_string()],
                    flagged: Vec::new(),
                },
                &metrics(rows, rows as f64 / 10.0),
                b"{}",
            )
            .unwrap();
        }
        let all = read(dir.path(), &Selection::All).unwrap();
        assert_eq!(all.iter().map(|r| r.rows).collect::<Vec<_>>(), [10, 20, 30]);
        assert_eq!(all[0].tags["a"], "b/c d");
        assert_eq!(all[0].time, "2026-12-01T00:00:00.000Z");
        assert!(dir.path().join(&all[0].profile).exists());
        let sel = select(&all, &tags, Some(all[2].time_ms), None, None);
        let s = History::new(&sel).series(&Metric::Column("x".into(), "mean"));
        assert_eq!(s.iter().map(|p| p.value).collect::<Vec<_>>(), [1.0, 2.0]);
        // A selection reads only what it names.
        let few = read(dir.path(), &Selection::None).unwrap();
        assert!(few[0].metrics.is_empty() && few[0].rows == 10);
        let other: BTreeMap<String, String> = [("a".to_string(), "z".to_string())].into();
        assert!(select(&all, &other, None, None, None).is_empty());
    }

    #[test]
    fn a_window_reads_only_the_newest_records_and_agrees_with_reading_all() {
        let dir = tempfile::tempdir().unwrap();
        let a: BTreeMap<String, String> = [("k".to_string(), "a".to_string())].into();
        let b: BTreeMap<String, String> = [("k".to_string(), "b".to_string())].into();
        for day in 0..200i64 {
            let tags = if day % 3 == 0 { &b } else { &a };
            let flagged = if day % 17 == 0 {
                vec!["rows".to_string()]
            } else {
                Vec::new()
            };
            append(
                dir.path(),
                NewRun {
                    time_ms: day * 86_400_000,
                    command: "profile",
                    tags,
                    inputs: &[],
                    flagged,
                },
                &metrics(day as u64, 1.0),
                b"{}",
            )
            .unwrap();
        }
        let before = 190 * 86_400_000;
        let all = read(dir.path(), &Selection::All).unwrap();
        let chosen = select(&all, &a, Some(before), None, None);
        let full = History::new(&chosen).series(&Metric::Rows);
        let window = read_history(dir.path(), &Selection::All, &a, before, Some(10)).unwrap();
        assert!(window.len() < 100, "{}", window.len());
        let refs: Vec<&Record> = window.iter().collect();
        let part = History::new(&refs).series(&Metric::Rows);
        assert!(part.len() >= 10);
        assert_eq!(part[part.len() - 10..], full[full.len() - 10..]);
        // Without a window, everything before the time with the tags.
        let every = read_history(dir.path(), &Selection::All, &a, before, None).unwrap();
        assert_eq!(every.len(), chosen.len());
    }

    #[test]
    fn newer_and_corrupt_records_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("runs")).unwrap();
        let p = dir.path().join("runs/a.json");
        std::fs::write(&p, r#"{"format":"preflight-history","version":9,"x":1}"#).unwrap();
        let e = read(dir.path(), &Selection::All).unwrap_err().to_string();
        assert!(
            e.contains("a.json") && e.contains("version 9") && e.contains("newer"),
            "{e}"
        );
        std::fs::write(&p, r#"{"format":"preflight-history","version":1,"#).unwrap();
        let e = read(dir.path(), &Selection::All).unwrap_err().to_string();
        assert!(
            e.contains("a.json") && e.contains("not a readable history record"),
            "{e}"
        );
    }

    #[test]
    fn runs_of_one_time_count_once_and_flagged_values_are_left_out() {
        let mk = |t: i64, w: &str, rows: u64, flagged: &[&str]| Record {
            format: RECORD_FORMAT.into(),
            version: 1,
            id: w.into(),
            time: String::new(),
            time_ms: t,
            written: w.into(),
            command: String::new(),
            tags: BTreeMap::new(),
            inputs: Vec::new(),
            profile: String::new(),
            rows,
            columns: Vec::new(),
            metrics: BTreeMap::new(),
            top_values: Vec::new(),
            flagged: flagged.iter().map(|s| s.to_string()).collect(),
            path: PathBuf::new(),
        };
        let recs = [
            mk(1, "a", 10, &[]),
            mk(1, "b", 11, &[]),
            mk(2, "c", 99, &["rows"]),
            mk(3, "d", 12, &[]),
        ];
        let refs: Vec<&Record> = recs.iter().collect();
        let s = History::new(&refs).series(&Metric::Rows);
        assert_eq!(s.iter().map(|p| p.value).collect::<Vec<_>>(), [11.0, 12.0]);
    }

    #[test]
    fn times_and_tags_parse() {
        assert_eq!(parse_time("1970-01-02").unwrap(), 86_400_000);
        assert_eq!(parse_time("1970-01-01T00:00:01Z").unwrap(), 1000);
        assert_eq!(parse_time("1970-01-01T01:00:00+01:00").unwrap(), 0);
        assert_eq!(parse_time("1970-01-01T00:00:02").unwrap(), 2000);
        assert!(parse_time("yesterday").is_err());
        assert_eq!(parse_tag("a=b/c d").unwrap(), ("a".into(), "b/c d".into()));
        assert_eq!(parse_tag("k=x=y").unwrap(), ("k".into(), "x=y".into()));
        assert!(parse_tag("novalue").is_err());
        assert!(parse_tag("=v").is_err());
        assert!(parse_tag("a=b\nc").is_err());
    }
}
