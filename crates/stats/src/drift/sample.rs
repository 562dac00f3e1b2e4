//! Every finite value of some numeric columns, for exact drift: one streaming DataFusion
//! pass over the dataset's partitions in parallel.
//!
//! Memory is 8 bytes per non-null value of the columns asked for; callers bound it by only
//! asking when the dataset is small enough (the CLI's `--exact-max-rows`).

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};
use datafusion::physical_plan::execute_stream_partitioned;
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::profile::Kind;
use crate::source::Dataset;

/// Quote an SQL identifier for DataFusion (`"a ""b"""`).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn to_f64(array: &ArrayRef) -> Result<ArrayRef> {
    let array = match array.data_type() {
        DataType::Dictionary(_, v) => cast(array, v)?,
        DataType::RunEndEncoded(_, v) => cast(array, v.data_type())?,
        _ => array.clone(),
    };
    Ok(match array.data_type() {
        DataType::Float64 => array,
        dt if Kind::of(dt).is_temporal() => {
            cast(&cast(&array, &DataType::Int64)?, &DataType::Float64)?
        }
        _ => cast(&array, &DataType::Float64)?,
    })
}

/// The SQL predicate of a slice's rows: each `by` column's value as text (what a slice
/// key holds: arrow's cast to text, as DataFusion's `CAST(.. AS VARCHAR)` is), or null.
pub fn slice_predicate(values: &std::collections::BTreeMap<String, Option<String>>) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|(col, v)| match v {
            Some(v) => format!(
                "CAST({} AS VARCHAR) = '{}'",
                quote_ident(col),
                v.replace('\'', "''")
            ),
            None => format!("{} IS NULL", quote_ident(col)),
        })
        .collect();
    if parts.is_empty() {
        "TRUE".into()
    } else {
        parts.join(" AND ")
    }
}

/// The non-null values of `columns` (numeric or temporal, as the profile encodes them),
/// in no particular order, of every row or of those an SQL predicate over the table
/// `data` keeps (a slice's: [`slice_predicate`]). NaN and infinities are kept; the
/// comparison drops them.
pub async fn numeric_values(
    ds: &Dataset,
    columns: &[String],
    filter: Option<&str>,
) -> Result<Vec<Vec<f64>>> {
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let ctx = ds.context()?;
    let list: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let filter = filter.map(|f| format!(" WHERE {f}")).unwrap_or_default();
    let df = ctx
        .sql(&format!("SELECT {} FROM data{filter}", list.join(", ")))
        .await?;
    let plan = df.create_physical_plan().await?;
    let streams = execute_stream_partitioned(plan, ctx.task_ctx())?;
    let width = columns.len();
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let mut out: Vec<Vec<f64>> = vec![Vec::new(); width];
                while let Some(batch) = s.next().await {
                    let batch = batch.map_err(Error::from)?;
                    for (dst, col) in out.iter_mut().zip(batch.columns()) {
                        let arr = to_f64(col)?;
                        let arr = arr.as_primitive::<Float64Type>();
                        if arr.null_count() == 0 {
                            dst.extend_from_slice(arr.values());
                        } else {
                            dst.extend(arr.iter().flatten());
                        }
                    }
                }
                Ok::<_, Error>(out)
            })
        })
        .collect();
    let mut all: Vec<Vec<f64>> = vec![Vec::new(); width];
    for t in tasks {
        let part = t.await.map_err(|e| Error::Engine(e.to_string()))??;
        for (dst, mut src) in all.iter_mut().zip(part) {
            if dst.is_empty() {
                *dst = src;
            } else {
                dst.append(&mut src);
            }
        }
    }
    Ok(all)
}

/// Exact value counts of one column as text (nulls left out), of every row or of those an
/// SQL predicate over the table `data` keeps: a DataFusion aggregation, memory
/// proportional to the distinct values. For categorical columns whose profile kept only a
/// frequent-items sketch.
pub async fn category_counts(
    ds: &Dataset,
    column: &str,
    filter: Option<&str>,
) -> Result<std::collections::BTreeMap<String, u64>> {
    let ctx = ds.context()?;
    let c = quote_ident(column);
    let filter = filter.map(|f| format!(" AND ({f})")).unwrap_or_default();
    let batches = ctx
        .sql(&format!(
            "SELECT CAST({c} AS VARCHAR) AS v, COUNT(*) AS n FROM data WHERE {c} IS NOT NULL{filter} GROUP BY 1"
        ))
        .await?
        .collect()
        .await?;
    let mut out = std::collections::BTreeMap::new();
    for b in batches {
        let v = cast(b.column(0), &DataType::Utf8)?;
        let n = cast(b.column(1), &DataType::Int64)?;
        let (v, n) = (
            v.as_string::<i32>(),
            n.as_primitive::<arrow::datatypes::Int64Type>(),
        );
        for i in 0..b.num_rows() {
            if v.is_valid(i) {
                *out.entry(v.value(i).to_string()).or_insert(0) += n.value(i).max(0) as u64;
            }
        }
    }
    Ok(out)
}
