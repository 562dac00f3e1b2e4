//! One execution plan for the per-batch steps of preflight's own tables: its input's
//! batches, each mapped by a function (typing CSV text in [`crate::typed`], matching a
//! file's columns by name in [`crate::concat`]). Partitioning and order are the input's.

use std::fmt;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
    SendableRecordBatchStream,
};
use futures::StreamExt;

/// What a [`MapExec`] does to each batch; the result has the plan's schema.
pub(crate) type BatchFn = Arc<dyn Fn(&RecordBatch) -> Result<RecordBatch> + Send + Sync>;

/// Its input's batches mapped by `map`, named `name` in plans (`TypedExec: 12 columns`).
pub(crate) struct MapExec {
    name: &'static str,
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    map: BatchFn,
    properties: Arc<PlanProperties>,
}

impl MapExec {
    pub(crate) fn new(
        name: &'static str,
        input: Arc<dyn ExecutionPlan>,
        schema: SchemaRef,
        map: BatchFn,
    ) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            input.output_partitioning().clone(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Self {
            name,
            input,
            schema,
            map,
            properties: Arc::new(properties),
        }
    }
}

impl fmt::Debug for MapExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(self.name)
            .field("input", &self.input)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl DisplayAs for MapExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {} columns", self.name, self.schema.fields().len())
    }
}

impl ExecutionPlan for MapExec {
    fn name(&self) -> &str {
        self.name
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    /// As DataFusion's projection that each of these replaces: a large file is split into
    /// byte ranges read in parallel.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![true]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(input) = children.pop() else {
            return Err(DataFusionError::Internal(format!(
                "{} needs its input",
                self.name
            )));
        };
        Ok(Arc::new(Self::new(
            self.name,
            input,
            self.schema.clone(),
            self.map.clone(),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let map = self.map.clone();
        let stream = input.map(move |b| map(&b?));
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream,
        )))
    }
}
