//! CSV columns typed from text, batch by batch.
//!
//! DataFusion 55's CSV reader applies the null-value pattern while inferring types but
//! not while reading, so CSV is read as text and typed here: a cell spelled as missing
//! (`""`, `NA`, ...) becomes null, then the column is cast to its inferred (or forced)
//! type, strictly, so a value that does not fit fails the read (and the types are
//! inferred again from every row). Done with arrow kernels on each batch rather than
//! as a projection of one DataFusion expression per column: planning such a projection
//! costs time quadratic in the number of columns (a 100,000-column header took minutes).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, RecordBatchOptions};
use arrow::buffer::BooleanBuffer;
use arrow::compute::{CastOptions, cast_with_options, nullif};
use arrow::datatypes::{ArrowNativeType, DataType, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use crate::map_exec::MapExec;

/// The text columns of `raw` typed as `schema` says; `typed[i]` is false for columns
/// passed through as they are (hive partition columns).
#[derive(Debug)]
pub(crate) struct TypedTable {
    raw: Arc<dyn TableProvider>,
    schema: SchemaRef,
    typed: Vec<bool>,
    nulls: Arc<Vec<String>>,
}

impl TypedTable {
    pub(crate) fn new(
        raw: Arc<dyn TableProvider>,
        schema: SchemaRef,
        typed: Vec<bool>,
        nulls: Vec<String>,
    ) -> Self {
        Self {
            raw,
            schema,
            typed,
            nulls: Arc::new(nulls),
        }
    }
}

#[async_trait]
impl TableProvider for TypedTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = self.raw.scan(state, projection, &[], limit).await?;
        let (schema, typed) = match projection {
            Some(p) => (
                Arc::new(self.schema.project(p)?),
                p.iter().map(|&i| self.typed[i]).collect(),
            ),
            None => (self.schema.clone(), self.typed.clone()),
        };
        let nulls = self.nulls.clone();
        let plan_schema = schema.clone();
        Ok(Arc::new(MapExec::new(
            "TypedExec",
            input,
            plan_schema,
            Arc::new(move |b| type_batch(b, &schema, &typed, &nulls)),
        )))
    }
}

fn type_batch(
    batch: &RecordBatch,
    schema: &SchemaRef,
    typed: &[bool],
    nulls: &[String],
) -> Result<RecordBatch> {
    let strict = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    let longest = nulls.iter().map(String::len).max().unwrap_or(0);
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for ((array, field), &typed) in batch.columns().iter().zip(schema.fields()).zip(typed) {
        if !typed || !matches!(array.data_type(), DataType::Utf8) {
            columns.push(array.clone());
            continue;
        }
        let text = array.as_string::<i32>();
        // A bit per cell from the offsets: most cells are longer than any null spelling
        // and cost one comparison.
        let (offsets, bytes) = (text.value_offsets(), text.value_data());
        let missing = BooleanBuffer::collect_bool(text.len(), |i| {
            if text.is_null(i) {
                return false;
            }
            let cell = &bytes[offsets[i].as_usize()..offsets[i + 1].as_usize()];
            cell.is_empty() || (cell.len() <= longest && nulls.iter().any(|n| n.as_bytes() == cell))
        });
        let missing = BooleanArray::new(missing, None);
        let cleaned = if missing.true_count() == 0 {
            array.clone()
        } else {
            nullif(array, &missing)?
        };
        columns.push(if field.data_type() == &DataType::Utf8 {
            cleaned
        } else {
            cast_with_options(&cleaned, field.data_type(), &strict)?
        });
    }
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &options,
    )?)
}
