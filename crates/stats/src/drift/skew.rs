//! Feature skew by key (TFDV's feature-skew detector, without Beam): join two datasets on
//! an identifier column with DataFusion SQL and count, per feature, the matched pairs
//! whose values differ.
//!
//! Everything runs as SQL over the two registered tables (aggregations and joins in
//! DataFusion, sort-merge joins preferred); only counts and
//! at most [`MAX_EXAMPLES`] example pairs per feature reach Rust.
//!
//! Duplicate keys: a key that occurs more than once on either side has no single partner
//! to compare with, and comparing every pair would multiply rows. Such keys are counted
//! (keys and rows, per side, with up to 20 examples) and left out of the feature
//! comparison; `matched` counts keys present exactly once on each side. Null keys are
//! counted and left out too.
//!
//! Values are compared with `IS DISTINCT FROM` (null equals null; floats exactly); when a
//! feature's types differ between the sides both are compared as text.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type};
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
    /// Whether the two sides' types differ (compared as text).
    pub compared_as_text: bool,
    /// Up to 20 mismatched pairs, in key order.
    pub examples: Vec<Example>,
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

async fn one_row(ctx: &datafusion::prelude::SessionContext, sql: &str) -> Result<RecordBatch> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let schema = batches
        .first()
        .map(RecordBatch::schema)
        .ok_or_else(|| Error::Engine("query returned no batch".into()))?;
    Ok(arrow::compute::concat_batches(&schema, &batches)?)
}

async fn rows(ctx: &datafusion::prelude::SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    Ok(ctx.sql(sql).await?.collect().await?)
}

/// Compare `a` and `b` joined on `key`. `names` are the user's names of the two inputs
/// (for error messages).
pub async fn skew(a: &Dataset, b: &Dataset, key: &str, names: (&str, &str)) -> Result<SkewReport> {
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
    };
    let ka = sa.field_with_name(key).map_err(|_| missing(names.0, &sa))?;
    let kb = sb.field_with_name(key).map_err(|_| missing(names.1, &sb))?;
    let ctx = a.context()?;
    let provider = b.context()?.table_provider("data").await?;
    if ctx.table_exist("skew_b")? {
        ctx.deregister_table("skew_b")?;
    }
    ctx.register_table("skew_b", provider)?;
    // Sort-merge joins could spill to disk, hash joins hold the build side in memory. No
    // spilling happens yet: the session's memory pool is unbounded, and with a bounded
    // FairSpillPool (tried: 128 MB, nycflights13 with a unique key) the GROUP BY key
    // counts fail with "Resources exhausted" instead of spilling.
    ctx.sql("SET datafusion.optimizer.prefer_hash_join = false")
        .await?
        .collect()
        .await?;

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
            Ok(g) => features.push((f.name().clone(), f.data_type() != g.data_type())),
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
    let value = |t: &str, f: &str, as_text: bool| {
        if as_text {
            format!("CAST({t}.{} AS VARCHAR)", quote_ident(f))
        } else {
            format!("{t}.{}", quote_ident(f))
        }
    };
    let differs = |f: &str, as_text: bool| {
        format!(
            "{} IS DISTINCT FROM {}",
            value("ua", f, as_text),
            value("ub", f, as_text)
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
    for (i, (f, as_text)) in features.iter().enumerate() {
        let mismatched = int(&b, i + 1)?;
        let mut examples = Vec::new();
        if mismatched > 0 {
            let sql = format!(
                "WITH {pairs} SELECT CAST(ua.skew_key AS VARCHAR) AS key_text, CAST({} AS VARCHAR) AS a_text, CAST({} AS VARCHAR) AS b_text \
                 FROM ua JOIN ub ON ua.skew_key = ub.skew_key WHERE {} \
                 ORDER BY ua.skew_key LIMIT {MAX_EXAMPLES}",
                value("ua", f, false),
                value("ub", f, false),
                differs(f, *as_text)
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
            compared_as_text: *as_text,
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
