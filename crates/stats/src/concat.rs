//! One table over inputs read apart: the files of a dataset whose columns differ (CSV
//! headers in another order, an Arrow file with a column more), each read with its own
//! layout and projected by name onto the dataset's columns.
//!
//! DataFusion's `UnionExec` would do for a parallel scan, but its partitions run at once,
//! so a one-partition read (row numbers, the label audit) would interleave the files. A
//! scan planned for one partition therefore reads the parts one after the other
//! ([`ConcatExec`]): rows come in file order, as from one `ListingTable`.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties, SendableRecordBatchStream,
};
use futures::StreamExt;

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
