//! One table over inputs read apart: the files of a dataset whose columns differ (CSV
//! headers in another order, an Arrow file with a column more), each read with its own
//! layout and projected by name onto the dataset's columns ([`ByNameTable`]).
//!
//! The projection by name is planned once, as a list of column indices, and applied to
//! each batch with arrow kernels. A DataFusion projection of one expression per column did
//! the same work, but planning it resolved every expression by a linear search of the
//! schema, and the optimizer walked it again: time quadratic in the number of columns
//! (two 16,000-column CSV files with different headers took 27 s before the first row).
//!
//! DataFusion's `UnionExec` would do for a parallel scan, but its partitions run at once,
//! so a one-partition read (row numbers, the label audit) would interleave the files. A
//! scan planned for one partition therefore reads the parts one after the other
//! ([`ConcatExec`]): rows come in file order, as from one `ListingTable`.

use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::common::format::DEFAULT_CAST_OPTIONS;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{ColumnarValue, Expr};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties, SendableRecordBatchStream,
};
use futures::StreamExt;

use crate::map_exec::MapExec;

/// Tables of the same schema, read as one: in order when scanned for one partition.
#[derive(Debug)]
pub(crate) struct ConcatTable {
    schema: SchemaRef,
    parts: Vec<Arc<dyn TableProvider>>,
}

impl ConcatTable {
    pub(crate) fn new(schema: SchemaRef, parts: Vec<Arc<dyn TableProvider>>) -> Self {
        Self { schema, parts }
    }
}

#[async_trait]
impl TableProvider for ConcatTable {
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
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut plans = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            plans.push(part.scan(state, projection, filters, limit).await?);
        }
        if state.config().target_partitions() <= 1 {
            let schema = match plans.first() {
                Some(p) => p.schema(),
                None => self.schema.clone(),
            };
            Ok(Arc::new(ConcatExec::new(plans, schema)))
        } else {
            UnionExec::try_new(plans)
        }
    }
}

/// Its inputs' partitions, one after the other, as one partition.
#[derive(Debug)]
pub(crate) struct ConcatExec {
    inputs: Vec<Arc<dyn ExecutionPlan>>,
    properties: Arc<PlanProperties>,
}

impl ConcatExec {
    fn new(inputs: Vec<Arc<dyn ExecutionPlan>>, schema: SchemaRef) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Self {
            inputs,
            properties: Arc::new(properties),
        }
    }
}

impl DisplayAs for ConcatExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "ConcatExec: {} inputs", self.inputs.len())
    }
}

impl ExecutionPlan for ConcatExec {
    fn name(&self) -> &str {
        "ConcatExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.inputs.iter().collect()
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false; self.inputs.len()]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(Self::new(children, self.schema())))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(datafusion::error::DataFusionError::Internal(format!(
                "ConcatExec has one partition, asked for partition {partition}"
            )));
        }
        // Each input partition is opened only when the one before it is done.
        let parts: Vec<(Arc<dyn ExecutionPlan>, usize)> = self
            .inputs
            .iter()
            .flat_map(|p| {
                let n = p.output_partitioning().partition_count();
                (0..n).map(move |i| (p.clone(), i))
            })
            .collect();
        let stream = futures::stream::iter(parts)
            .map(move |(plan, i)| match plan.execute(i, context.clone()) {
                Ok(s) => s.boxed(),
                Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
            })
            .flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            stream,
        )))
    }
}

/// Where a column of a [`ByNameTable`] comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// The file's column at this index, cast to the column's type when the file's differs
    /// (as DataFusion's `CAST` would: same kernel, same options).
    Column(usize),
    /// The same value in every row: null for a column the file lacks, or the file's hive
    /// partition value.
    Constant(ScalarValue),
}

/// One file's table with its columns matched by name onto the dataset's: `sources[i]`
/// says where column `i` of `schema` comes from.
#[derive(Debug)]
pub(crate) struct ByNameTable {
    file: Arc<dyn TableProvider>,
    schema: SchemaRef,
    sources: Vec<Source>,
}

impl ByNameTable {
    /// `file`'s columns named as `target`'s are matched by a hash map (`target` names are
    /// unique); the others of `target` are null; `constants` (partition columns) follow.
    pub(crate) fn new(
        file: Arc<dyn TableProvider>,
        target: &Schema,
        constants: Vec<(Field, ScalarValue)>,
    ) -> Result<Self> {
        let own = file.schema();
        let index: std::collections::HashMap<&str, usize> = own
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name().as_str(), i))
            .collect();
        let mut fields: Vec<Field> = Vec::with_capacity(target.fields().len() + constants.len());
        let mut sources = Vec::with_capacity(fields.capacity());
        // Nullable as the projection it replaces said: as in the file, or for a constant,
        // when it is null.
        for t in target.fields() {
            let (source, nullable) = match index.get(t.name().as_str()) {
                Some(&i) => (Source::Column(i), own.field(i).is_nullable()),
                None => (
                    Source::Constant(ScalarValue::try_from(t.data_type())?),
                    true,
                ),
            };
            fields.push(t.as_ref().clone().with_nullable(nullable));
            sources.push(source);
        }
        for (field, value) in constants {
            let value = value.cast_to_with_options(field.data_type(), &DEFAULT_CAST_OPTIONS)?;
            fields.push(field.with_nullable(value.is_null()));
            sources.push(Source::Constant(value));
        }
        Ok(Self {
            file,
            schema: Arc::new(Schema::new(fields)),
            sources,
        })
    }
}

#[async_trait]
impl TableProvider for ByNameTable {
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
        let wanted: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.sources.len()).collect(),
        };
        // Read only the file columns the wanted columns come from, in file order.
        let mut read: Vec<usize> = wanted
            .iter()
            .filter_map(|&i| match self.sources.get(i) {
                Some(Source::Column(c)) => Some(*c),
                _ => None,
            })
            .collect();
        read.sort_unstable();
        read.dedup();
        let mut at = vec![usize::MAX; self.file.schema().fields().len()];
        for (k, &c) in read.iter().enumerate() {
            at[c] = k;
        }
        let mut sources = Vec::with_capacity(wanted.len());
        for &i in &wanted {
            sources.push(match self.sources.get(i) {
                Some(Source::Column(c)) => Source::Column(at[*c]),
                Some(s) => s.clone(),
                None => {
                    return Err(datafusion::error::DataFusionError::Internal(format!(
                        "column {i} asked of a table of {} columns",
                        self.sources.len()
                    )));
                }
            });
        }
        let input = self.file.scan(state, Some(&read), &[], limit).await?;
        let schema = Arc::new(self.schema.project(&wanted)?);
        let plan_schema = schema.clone();
        Ok(Arc::new(MapExec::new(
            "ByNameExec",
            input,
            plan_schema,
            Arc::new(move |b| by_name(b, &schema, &sources)),
        )))
    }
}

fn by_name(batch: &RecordBatch, schema: &SchemaRef, sources: &[Source]) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(sources.len());
    for (field, source) in schema.fields().iter().zip(sources) {
        columns.push(match source {
            Source::Column(c) => {
                let array = batch.column(*c);
                if array.data_type() == field.data_type() {
                    array.clone()
                } else {
                    ColumnarValue::Array(array.clone())
                        .cast_to(field.data_type(), None)?
                        .into_array(n)?
                }
            }
            Source::Constant(v) => v.to_array_of_size(n)?,
        });
    }
    let options = RecordBatchOptions::new().with_row_count(Some(n));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &options,
    )?)
}
