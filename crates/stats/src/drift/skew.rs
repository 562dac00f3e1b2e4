//! Feature skew by key (TFDV's feature-skew detector, without Beam): join two datasets on
//! an identifier column with DataFusion SQL and count, per feature, the matched pairs
//! whose values differ.
//!
//! Everything runs as SQL over the two registered tables (aggregations and joins in
//! DataFusion, sort-merge joins); only counts and at most [`MAX_EXAMPLES`] example pairs
//! per feature reach Rust.
//!
//! Larger than memory: the queries run in a session of their own whose memory pool is
//! bounded (a [`FairSpillPool`] of the caller's limit) and whose disk manager writes
//! temporary files, and every operator they plan can spill in DataFusion 55: sorts,
//! sort-merge joins (hash joins, which cannot, are never planned: the session prefers
//! sort-merge joins and always has at least two partitions, below which DataFusion plans
//! a collect-left hash join), and the final stage of the `GROUP BY key` counts (the
//! partial stage emits its groups early instead). Counts without GROUP BY and the top-20
//! example queries hold constant memory. Under a limit the session's batches, the memory
//! each sort keeps for merging and the spill files merged per pass are scaled down with
//! it (see [`skew_with_runtime`]); a limit far too small for the partitions and row width
//! still fails with "Resources exhausted" (on 2 partitions and nycflights13's 20 columns
//! 32 MB works, 16 MB does not).
//!
//! Duplicate keys: a key that occurs more than once on either side has no single partner
//! to compare with, and comparing every pair would multiply rows. Such keys are counted
//! (keys and rows, per side, with up to 20 examples) and left out of the feature
//! comparison; `matched` counts keys present exactly once on each side. Null keys are
//! counted and left out too.
//!
//! Values are compared with `IS DISTINCT FROM` (null equals null; floats exactly); when a
//! feature's types differ between the sides both are compared as text.

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{FairSpillPool, MemoryLimit};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::SessionContext;
use serde::Serialize;

use super::sample::quote_ident;
use crate::error::{Error, Result};
use crate::source::Dataset;

/// Example pairs reported per feature (and duplicate keys per side).
pub const MAX_EXAMPLES: usize = 20;

/// Key-level counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KeyCounts {
    pub rows_a: u64,
    pub rows_b: u64,
    pub null_keys_a: u64,
    pub null_keys_b: u64,
    /// Distinct keys found only in A, and the rows of A holding them.
    pub only_in_a_keys: u64,
    pub only_in_a_rows: u64,
    pub only_in_b_keys: u64,
    pub only_in_b_rows: u64,
    /// Keys present exactly once on each side: the pairs compared.
    pub matched: u64,
    /// Keys present on both sides but more than once on at least one: not compared.
    pub ambiguous: u64,
    /// Keys occurring more than once within A (and the rows holding them).
    pub duplicate_keys_a: u64,
    pub duplicate_rows_a: u64,
    pub duplicate_keys_b: u64,
    pub duplicate_rows_b: u64,
    /// Up to 20 duplicated keys of each side, in key order.
    pub duplicate_examples_a: Vec<String>,
    pub duplicate_examples_b: Vec<String>,
}

/// One mismatched pair; values as text, `null` when missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    pub key: String,
    pub a: Option<String>,
    pub b: Option<String>,
}

/// Skew of one feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureSkew {
    pub feature: String,
    /// Rows whose key is only in A (B): the feature could not be compared there.
    pub only_in_a: u64,
    pub only_in_b: u64,
    pub matched: u64,
    pub mismatched: u64,
    /// mismatched / matched, 0 when nothing matched.
    pub mismatch_rate: f64,
    /// Whether the two sides' types differ so that values were compared as text (numbers
    /// of different types are compared as numbers).
    pub compared_as_text: bool,
    /// Up to 20 mismatched pairs, in key order.
    pub examples: Vec<Example>,
}

/// How a feature's values are compared when the two sides' types differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    /// Same type: as they are.
    Same,
    /// Integers of different widths or signs: as exact decimals (no u64 overflows).
    Integer,
    /// Numbers of which one is not an integer (`181` and `181.0`, as a column with missing
    /// values becomes float in pandas): as doubles, so equal numbers are equal.
    Number,
    /// Anything else (a number against text, dates against text): as text.
    Text,
}

impl Compare {
    fn of(a: &DataType, b: &DataType) -> Self {
        if a == b {
            Self::Same
        } else if a.is_integer() && b.is_integer() {
            Self::Integer
        } else if a.is_numeric() && b.is_numeric() {
            Self::Number
        } else {
            Self::Text
        }
    }
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkewReport {
    pub key: String,
    pub keys: KeyCounts,
    pub features: Vec<FeatureSkew>,
    /// Columns only one side has (not compared).
    pub only_in_a_columns: Vec<String>,
    pub only_in_b_columns: Vec<String>,
}

impl SkewReport {
    /// Why no value was compared, when none was: no key present exactly once on both
    /// sides, or no feature column besides the key on both sides. A check that compared
    /// nothing must not pass silently (issue 12); the sentence says which case it is.
    pub fn nothing_compared(&self) -> Option<String> {
        let k = &self.keys;
        let key = &self.key;
        if k.matched == 0 {
            let why = if k.rows_a == 0 || k.rows_b == 0 {
                match (k.rows_a == 0, k.rows_b == 0) {
                    (true, true) => "neither side has rows".to_string(),
                    (true, _) => "A has no rows".to_string(),
                    _ => "B has no rows".to_string(),
                }
            } else if k.null_keys_a == k.rows_a || k.null_keys_b == k.rows_b {
                format!(
                    "every key `{key}` is null on {}",
                    if k.null_keys_a == k.rows_a { "A" } else { "B" }
                )
            } else if k.ambiguous > 0 {
                let keys = |n: u64| format!("{n} key{}", if n == 1 { "" } else { "s" });
                format!(
                    "every key present on both sides is duplicated ({}; A has {} duplicated in {} rows, \
                     B {} in {} rows), and a duplicated key has no single partner to compare",
                    keys(k.ambiguous),
                    keys(k.duplicate_keys_a),
                    k.duplicate_rows_a,
                    keys(k.duplicate_keys_b),
                    k.duplicate_rows_b
                )
            } else {
                format!(
                    "A and B have no key `{key}` in common ({} keys only in A, {} only in B)",
                    k.only_in_a_keys, k.only_in_b_keys
                )
            };
            return Some(format!(
                "0 rows matched on `{key}`: {why}; nothing was compared"
            ));
        }
        if self.features.is_empty() {
            return Some(format!(
                "{} rows matched on `{key}`, but A and B have no column besides the key in common \
                 (only in A: [{}], only in B: [{}]); nothing was compared",
                k.matched,
                self.only_in_a_columns.join(", "),
                self.only_in_b_columns.join(", ")
            ));
        }
        None
    }
}

fn int(batch: &RecordBatch, i: usize) -> Result<u64> {
    let col = cast(batch.column(i), &DataType::Int64)?;
    let arr = col.as_primitive::<Int64Type>();
    Ok(if arr.is_empty() || arr.is_null(0) {
        0
    } else {
        arr.value(0).max(0) as u64
    })
}

fn texts(batch: &RecordBatch, i: usize) -> Result<Vec<Option<String>>> {
    let col = cast(batch.column(i), &DataType::Utf8)?;
    let arr = col.as_string::<i32>();
    Ok(arr.iter().map(|v| v.map(str::to_string)).collect())
}

async fn one_row(ctx: &SessionContext, sql: &str) -> Result<RecordBatch> {
    let batches = rows(ctx, sql).await?;
    let schema = batches
        .first()
        .map(RecordBatch::schema)
        .ok_or_else(|| Error::Engine("query returned no batch".into()))?;
    Ok(arrow::compute::concat_batches(&schema, &batches)?)
}

async fn rows(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    Ok(ctx.sql(sql).await?.collect().await?)
}

/// Spill files a sort merges per pass under a memory limit.
const MERGE_FAN_IN: usize = 4;

/// The runtime [`skew`] uses: a [`FairSpillPool`] of `memory_limit` bytes (unbounded
/// when `None`) and, with `spill`, the default disk manager (spill files in the OS
/// temporary directory, `TMPDIR` on Unix). Without `spill` no temporary file may be
/// written, so an operator that would spill fails with "Resources exhausted" instead (the
/// tests show with it that a limit binds).
pub fn skew_runtime(memory_limit: Option<usize>, spill: bool) -> Result<Arc<RuntimeEnv>> {
    let mut disk = DiskManagerBuilder::default();
    if !spill {
        disk = disk.with_mode(DiskManagerMode::Disabled);
    }
    let mut builder: RuntimeEnvBuilder = crate::remote::runtime_env();
    if let Some(bytes) = memory_limit {
        builder = builder.with_memory_pool(Arc::new(FairSpillPool::new(bytes)));
        // A sort merging its spill files reserves a batch per file it reads, outside the
        // spillable share, and with no cap takes as many files as the pool allows,
        // starving the other operators: merge at most MERGE_FAN_IN files per pass.
        disk = disk.with_max_spill_merge_fan_in(MERGE_FAN_IN);
    }
    builder = builder.with_disk_manager_builder(disk);
    Ok(builder.build_arc()?)
}

/// Estimated bytes of one row in memory: fixed-width types by width, others 32 bytes.
fn row_bytes(schema: &arrow::datatypes::Schema) -> usize {
    schema
        .fields()
        .iter()
        .map(|f| f.data_type().primitive_width().unwrap_or(32) + 1)
        .sum::<usize>()
        .max(1)
}

fn memory_limit_of(runtime: &RuntimeEnv) -> Option<usize> {
    match runtime.memory_pool.memory_limit() {
        MemoryLimit::Finite(n) => Some(n),
        MemoryLimit::Infinite | MemoryLimit::Unknown => None,
    }
}

/// Compare `a` and `b` joined on `key`, DataFusion's memory held to `memory_limit` bytes
/// (spilling to temporary files beyond it; `None`: no limit). `names` are the user's
/// names of the two inputs (for error messages).
pub async fn skew(
    a: &Dataset,
    b: &Dataset,
    key: &str,
    names: (&str, &str),
    memory_limit: Option<usize>,
) -> Result<SkewReport> {
    skew_with_runtime(a, b, key, names, skew_runtime(memory_limit, true)?).await
}

/// [`skew`] in a runtime of the caller's (memory pool, disk manager).
/// A session of its own over both tables for the join: A's settings, the caller's runtime.
async fn join_session(
    a: &Dataset,
    b: &Dataset,
    (sa, sb): (&arrow::datatypes::Schema, &arrow::datatypes::Schema),
    runtime: Arc<RuntimeEnv>,
) -> Result<SessionContext> {
    let base = a.context()?;
    let mut config = base.copied_config();
    let partitions = config.target_partitions().max(2);
    config = config
        .with_target_partitions(partitions)
        .with_repartition_joins(true);
    config.options_mut().optimizer.prefer_hash_join = false;
    // Under a limit, two settings are scaled to it. Every sort holds
    // `sort_spill_reservation_bytes` (10 MB by default) outside the spillable share, to
    // merge its spill files; and the FairSpillPool gives each spillable operator (the
    // pairs query has about ten per partition: sorts, aggregates, repartitions) an equal
    // share, in which a sort must hold a batch twice over. So the reservation is a 16th of
    // a partition's memory and a batch (8192 rows by default) a quarter of the reservation,
    // at least 256 rows, by the rows' estimated width.
    if let Some(limit) = memory_limit_of(&runtime) {
        let reservation = (limit / (16 * partitions)).max(1);
        let row_bytes = row_bytes(sa).max(row_bytes(sb));
        let batch = config
            .batch_size()
            .min((reservation / 4 / row_bytes).max(256));
        config = config.with_batch_size(batch);
        let execution = &mut config.options_mut().execution;
        execution.sort_spill_reservation_bytes =
            execution.sort_spill_reservation_bytes.min(reservation);
    }
    let ctx = &SessionContext::new_with_config_rt(config, runtime);
    ctx.register_table("data", base.table_provider("data").await?)?;
    ctx.register_table("skew_b", b.context()?.table_provider("data").await?)?;
    Ok(ctx.clone())
}

pub async fn skew_with_runtime(
    a: &Dataset,
    b: &Dataset,
    key: &str,
    names: (&str, &str),
    runtime: Arc<RuntimeEnv>,
) -> Result<SkewReport> {
    let (sa, sb) = (a.schema(), b.schema());
    let missing = |name: &str, schema: &arrow::datatypes::Schema| Error::Input {
        path: name.into(),
        message: format!(
            "no key column `{key}` (columns: {})",
            schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        source: None,
    };
    let ka = sa.field_with_name(key).map_err(|_| missing(names.0, &sa))?;
    let kb = sb.field_with_name(key).map_err(|_| missing(names.1, &sb))?;
    // A session of its own over both tables: A's settings, the caller's runtime. Sort-merge
    // joins spill, hash joins hold their build side in memory; with one target partition
    // DataFusion plans a collect-left hash join whatever the preference, hence two at least.
    // On a cluster (`--cluster`), its session runs the join (Ballista plans sort-merge
    // joins, which spill on the executors); here, a session of its own.
    let ctx = &match a.cluster_session() {
        Some(_) => {
            // `a.context()` is this session, with A registered as `data`.
            let c = a.context()?;
            c.deregister_table("skew_b")?;
            c.register_table("skew_b", b.context()?.table_provider("data").await?)?;
            c.clone()
        }
        None => join_session(a, b, (&sa, &sb), runtime).await?,
    };

    let k = quote_ident(key);
    let key_expr = |t: &str| {
        if ka.data_type() == kb.data_type() {
            format!("{t}.{k}")
        } else {
            format!("CAST({t}.{k} AS VARCHAR)")
        }
    };
    let (kxa, kxb) = (key_expr("data"), key_expr("skew_b"));

    let mut keys = KeyCounts::default();
    for (table, rows_, nulls) in [
        ("data", &mut keys.rows_a, &mut keys.null_keys_a),
        ("skew_b", &mut keys.rows_b, &mut keys.null_keys_b),
    ] {
        let b = one_row(
            ctx,
            &format!("SELECT COUNT(*), COUNT({table}.{k}) FROM {table}"),
        )
        .await?;
        *rows_ = int(&b, 0)?;
        *nulls = rows_.saturating_sub(int(&b, 1)?);
    }
    let groups = format!(
        "ka AS (SELECT {kxa} AS k, COUNT(*) AS n FROM data WHERE data.{k} IS NOT NULL GROUP BY {kxa}), \
         kb AS (SELECT {kxb} AS k, COUNT(*) AS n FROM skew_b WHERE skew_b.{k} IS NOT NULL GROUP BY {kxb})"
    );
    let b = one_row(
        ctx,
        &format!(
            "WITH {groups} SELECT \
             SUM(CASE WHEN kb.k IS NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN kb.k IS NULL THEN ka.n ELSE 0 END), \
             SUM(CASE WHEN ka.k IS NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN ka.k IS NULL THEN kb.n ELSE 0 END), \
             SUM(CASE WHEN ka.n = 1 AND kb.n = 1 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN ka.k IS NOT NULL AND kb.k IS NOT NULL AND (ka.n > 1 OR kb.n > 1) THEN 1 ELSE 0 END), \
             SUM(CASE WHEN ka.n > 1 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN ka.n > 1 THEN ka.n ELSE 0 END), \
             SUM(CASE WHEN kb.n > 1 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN kb.n > 1 THEN kb.n ELSE 0 END) \
             FROM ka FULL OUTER JOIN kb ON ka.k = kb.k"
        ),
    )
    .await?;
    keys.only_in_a_keys = int(&b, 0)?;
    keys.only_in_a_rows = int(&b, 1)?;
    keys.only_in_b_keys = int(&b, 2)?;
    keys.only_in_b_rows = int(&b, 3)?;
    keys.matched = int(&b, 4)?;
    keys.ambiguous = int(&b, 5)?;
    keys.duplicate_keys_a = int(&b, 6)?;
    keys.duplicate_rows_a = int(&b, 7)?;
    keys.duplicate_keys_b = int(&b, 8)?;
    keys.duplicate_rows_b = int(&b, 9)?;
    for (g, dst) in [
        ("ka", &mut keys.duplicate_examples_a),
        ("kb", &mut keys.duplicate_examples_b),
    ] {
        for batch in rows(
            ctx,
            &format!(
                "WITH {groups} SELECT CAST(k AS VARCHAR) AS key_text FROM {g} WHERE n > 1 ORDER BY k LIMIT {MAX_EXAMPLES}"
            ),
        )
        .await?
        {
            dst.extend(texts(&batch, 0)?.into_iter().flatten());
        }
    }

    // Features: columns both sides have, in A's order.
    let mut features = Vec::new();
    let mut only_a = Vec::new();
    for f in sa.fields() {
        if f.name() == key {
            continue;
        }
        match sb.field_with_name(f.name()) {
            Ok(g) => features.push((f.name().clone(), Compare::of(f.data_type(), g.data_type()))),
            Err(_) => only_a.push(f.name().clone()),
        }
    }
    let only_b: Vec<String> = sb
        .fields()
        .iter()
        .filter(|f| f.name() != key && sa.field_with_name(f.name()).is_err())
        .map(|f| f.name().clone())
        .collect();

    // Pairs: keys exactly once on each side.
    let pairs = format!(
        "{groups}, \
         ua AS (SELECT data.*, {kxa} AS skew_key FROM data WHERE {kxa} IN (SELECT k FROM ka WHERE n = 1)), \
         ub AS (SELECT skew_b.*, {kxb} AS skew_key FROM skew_b WHERE {kxb} IN (SELECT k FROM kb WHERE n = 1))"
    );
    let value = |t: &str, f: &str, how: Compare| {
        let col = format!("{t}.{}", quote_ident(f));
        match how {
            Compare::Same => col,
            Compare::Integer => format!("CAST({col} AS DECIMAL(20, 0))"),
            Compare::Number => format!("CAST({col} AS DOUBLE)"),
            Compare::Text => format!("CAST({col} AS VARCHAR)"),
        }
    };
    let differs = |f: &str, how: Compare| {
        format!(
            "{} IS DISTINCT FROM {}",
            value("ua", f, how),
            value("ub", f, how)
        )
    };
    let mut select = vec!["COUNT(*)".to_string()];
    select.extend(
        features
            .iter()
            .map(|(f, t)| format!("SUM(CASE WHEN {} THEN 1 ELSE 0 END)", differs(f, *t))),
    );
    let b = one_row(
        ctx,
        &format!(
            "WITH {pairs} SELECT {} FROM ua JOIN ub ON ua.skew_key = ub.skew_key",
            select.join(", ")
        ),
    )
    .await?;
    let matched = int(&b, 0)?;
    let mut out = Vec::with_capacity(features.len());
    for (i, (f, how)) in features.iter().enumerate() {
        let mismatched = int(&b, i + 1)?;
        let mut examples = Vec::new();
        if mismatched > 0 {
            let sql = format!(
                "WITH {pairs} SELECT CAST(ua.skew_key AS VARCHAR) AS key_text, CAST({} AS VARCHAR) AS a_text, CAST({} AS VARCHAR) AS b_text \
                 FROM ua JOIN ub ON ua.skew_key = ub.skew_key WHERE {} \
                 ORDER BY ua.skew_key LIMIT {MAX_EXAMPLES}",
                value("ua", f, Compare::Same),
                value("ub", f, Compare::Same),
                differs(f, *how)
            );
            for batch in rows(ctx, &sql).await? {
                let (k, va, vb) = (texts(&batch, 0)?, texts(&batch, 1)?, texts(&batch, 2)?);
                for ((k, a), b) in k.into_iter().zip(va).zip(vb) {
                    examples.push(Example {
                        key: k.unwrap_or_default(),
                        a,
                        b,
                    });
                }
            }
        }
        out.push(FeatureSkew {
            feature: f.clone(),
            only_in_a: keys.only_in_a_rows,
            only_in_b: keys.only_in_b_rows,
            matched,
            mismatched,
            mismatch_rate: if matched == 0 {
                0.0
            } else {
                mismatched as f64 / matched as f64
            },
            compared_as_text: *how == Compare::Text,
            examples,
        });
    }
    Ok(SkewReport {
        key: key.to_string(),
        keys,
        features: out,
        only_in_a_columns: only_a,
        only_in_b_columns: only_b,
    })
}
