//! The profile as a DataFusion aggregate function, `preflight_profile(c1, ..., ck)`: what a
//! query engine that only runs plans (a Ballista cluster, `GROUP BY` slices) needs to
//! compute a profile next to the data.
//!
//! - Input: any columns, any types [`ColumnState`] reads; output: one `Binary` value, the
//!   serialised [`ProfileBuilder`] of those columns ([`decode`] reads it back).
//! - State: one `Binary` value, the same serialisation of the partial builder, so a
//!   partial aggregate on one machine merges on another.
//! - `merge_batch` buffers the partial states and `evaluate` merges them in a fixed order
//!   (sorted by their bytes), whatever order they arrived in: the same partial states
//!   give the same profile, bit for bit.
//! - A state row holds every column of its call: callers split wide tables into calls of
//!   at most [`COLUMNS_PER_CALL`] columns (Ballista's messages are capped at 16 MiB and a
//!   row cannot be split). [`profile_query`] does, and reassembles the columns.
//!
//! The local `preflight profile` reads the same partitions as the partial aggregate of
//! this function would (`source::Inputs::profile_partitions`), with its own workers and
//! builders (faster: no state per call, wide batches shared among threads), and merges
//! them with [`merge_states`]: a Ballista cluster's profile is the local one, bit for bit.
//! The function is for plans that must run elsewhere, and for per-group profiles
//! ([`profile_by`]).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryArray};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Column, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility,
};
use serde::{Deserialize, Serialize};

use super::{ColumnState, ProfileBuilder};
use crate::error::{Error, Result};

/// The function's name in SQL and in plans (Ballista resolves it by name).
pub const NAME: &str = "preflight_profile";

/// Columns per call of the function: a state row of 64 columns stays well under Ballista's
/// 16 MiB message cap (a column's state is at most ~100 kB of JSON: exact counts of 1,024
/// values, a t-digest of k = 200, an HLL and a frequent-items sketch).
pub const COLUMNS_PER_CALL: usize = 64;

/// The aggregate function `preflight_profile`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ProfileUdaf {
    signature: Signature,
}

impl Default for ProfileUdaf {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// The function, ready to register (`ctx.register_udaf(profile_udaf())`).
pub fn profile_udaf() -> AggregateUDF {
    AggregateUDF::from(ProfileUdaf::default())
}

impl AggregateUDFImpl for ProfileUdaf {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Binary)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        let columns = args
            .expr_fields
            .iter()
            .map(|f| ColumnState::new(f.name(), f.data_type()))
            .collect();
        Ok(Box::new(ProfileAccumulator {
            builder: ProfileBuilder { rows: 0, columns },
            parts: Vec::new(),
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[state]", args.name),
            DataType::Binary,
            true,
        ))])
    }
}

/// The serialised builder: its row count and column states ([`ImageRef`] writes it
/// without copying the states).
#[derive(Deserialize)]
struct Image {
    rows: u64,
    columns: Vec<ColumnState>,
}

#[derive(Serialize)]
struct ImageRef<'a> {
    rows: u64,
    columns: &'a [ColumnState],
}

fn encode(b: &ProfileBuilder) -> DfResult<Vec<u8>> {
    encode_state(b).map_err(|e| DataFusionError::Execution(e.to_string()))
}

/// A builder as `preflight_profile` serialises its state and result ([`decode`] reads it).
pub fn encode_state(b: &ProfileBuilder) -> Result<Vec<u8>> {
    serde_json::to_vec(&ImageRef {
        rows: b.rows,
        columns: &b.columns,
    })
    .map_err(|e| Error::Engine(format!("{NAME}: cannot encode a state: {e}")))
}

/// Read a value of `preflight_profile` (its result or its state) back; the states'
/// invariants are checked, since the bytes may come from another process.
pub fn decode(bytes: &[u8]) -> Result<ProfileBuilder> {
    let image: Image = serde_json::from_slice(bytes)
        .map_err(|e| Error::Engine(format!("{NAME}: invalid state: {e}")))?;
    let b = ProfileBuilder {
        rows: image.rows,
        columns: image.columns,
    };
    b.check()
        .map_err(|e| Error::Engine(format!("{NAME}: invalid state: {e}")))?;
    Ok(b)
}

#[derive(Debug)]
struct ProfileAccumulator {
    /// Rows this accumulator read itself.
    builder: ProfileBuilder,
    /// Partial states received, merged in [`Accumulator::evaluate`].
    parts: Vec<Vec<u8>>,
}

impl ProfileAccumulator {
    /// Everything seen so far as one builder: its own rows, then the partial states
    /// ([`merge_states`]).
    fn merged(&mut self) -> DfResult<ProfileBuilder> {
        if self.parts.is_empty() {
            return Ok(self.builder.clone());
        }
        // A final aggregate reads no rows itself: its empty builder is left out, so that
        // its result is the merge of the partial states alone, as a local run computes it.
        let own = (self.builder.rows > 0).then(|| self.builder.clone());
        merge_states(own, &mut self.parts).map_err(|e| DataFusionError::External(Box::new(e)))
    }
}

/// Partial states (the bytes of [`encode_state`]) and a builder of rows read directly,
/// merged in one fixed order: the builder first, then the states sorted by their bytes
/// ([`ProfileBuilder::merge_many`]). The same states give the same bits whatever
/// order they arrived in; a local profile merges its partitions with this function too, so
/// that it equals a cluster's, bit for bit ([`crate::source`]).
pub fn merge_states(own: Option<ProfileBuilder>, parts: &mut [Vec<u8>]) -> Result<ProfileBuilder> {
    parts.sort_unstable();
    let mut all: Vec<ProfileBuilder> = own.into_iter().collect();
    for part in parts.iter() {
        all.push(decode(part)?);
    }
    ProfileBuilder::merge_many(all)
}

impl Accumulator for ProfileAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let rows = values.first().map_or(0, |a| a.len());
        self.builder.rows += rows as u64;
        for (state, array) in self.builder.columns.iter_mut().zip(values) {
            state
                .update(array)
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let Some(states) = states.first() else {
            return Ok(());
        };
        let states: &BinaryArray = states
            .as_binary_opt()
            .ok_or_else(|| DataFusionError::Internal(format!("{NAME}: a state is not binary")))?;
        for s in states.iter().flatten() {
            self.parts.push(s.to_vec());
        }
        Ok(())
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let merged = self.merged()?;
        Ok(vec![ScalarValue::Binary(Some(encode(&merged)?))])
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        let merged = self.merged()?;
        Ok(ScalarValue::Binary(Some(encode(&merged)?)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self.parts.iter().map(Vec::capacity).sum::<usize>()
            + self.builder.columns.len() * std::mem::size_of::<ColumnState>()
    }
}

/// The calls of `preflight_profile` that profile `names`, [`COLUMNS_PER_CALL`] columns
/// each, aliased `__profile_0`, `__profile_1`, ...
pub fn calls(names: &[String]) -> Vec<Expr> {
    let udaf = Arc::new(profile_udaf());
    names
        .chunks(COLUMNS_PER_CALL.max(1))
        .enumerate()
        .map(|(i, group)| {
            let args = group
                .iter()
                .map(|n| Expr::Column(Column::new_unqualified(n)))
                .collect();
            udaf.call(args).alias(format!("__profile_{i}"))
        })
        .collect()
}

/// Reassemble one output row's calls (`row` of the `__profile_*` columns `groups`) into
/// the builder of every column, in order.
fn assemble(groups: &[&BinaryArray], row: usize) -> Result<ProfileBuilder> {
    let mut out: Option<ProfileBuilder> = None;
    for g in groups {
        if g.is_null(row) {
            return Err(Error::Engine(format!("{NAME}: a group has no value")));
        }
        let b = decode(g.value(row))?;
        match &mut out {
            None => out = Some(b),
            Some(o) => {
                if o.rows != b.rows {
                    return Err(Error::Engine(format!(
                        "{NAME}: column groups saw {} and {} rows",
                        o.rows, b.rows
                    )));
                }
                o.columns.extend(b.columns);
            }
        }
    }
    Ok(out.unwrap_or(ProfileBuilder {
        rows: 0,
        columns: Vec::new(),
    }))
}

fn binary_columns(
    batch: &arrow::record_batch::RecordBatch,
    from: usize,
) -> Result<Vec<&BinaryArray>> {
    batch.columns()[from..]
        .iter()
        .map(|c| {
            c.as_binary_opt::<i32>()
                .ok_or_else(|| Error::Engine(format!("{NAME}: a result is not binary")))
        })
        .collect()
}

/// Profile every column of `df` with `preflight_profile` (wherever `df`'s session runs
/// its plans). The session must have the function registered (plans name it).
pub async fn profile_query(df: DataFrame) -> Result<ProfileBuilder> {
    // The aggregate without keys: one output row.
    let mut rows = profile_by(df, &[]).await?.into_iter().map(|(_, b)| b);
    let mut out = rows
        .next()
        .ok_or_else(|| Error::Engine(format!("{NAME}: the aggregate returned no row")))?;
    for b in rows {
        out.merge(&b)?;
    }
    Ok(out)
}

/// One profile per distinct value of the columns `by` (the slice key, each part as text,
/// null as `None`), sorted by key: `preflight_profile` under `GROUP BY`. The key columns
/// are profiled too, as in the whole profile.
pub async fn profile_by(
    df: DataFrame,
    by: &[String],
) -> Result<Vec<(Vec<Option<String>>, ProfileBuilder)>> {
    let names: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let keys: Vec<Expr> = by
        .iter()
        .map(|n| Expr::Column(Column::new_unqualified(n)))
        .collect();
    let batches = df.aggregate(keys, calls(&names))?.collect().await?;
    let mut out = Vec::new();
    for batch in &batches {
        let groups = binary_columns(batch, by.len())?;
        let key_text: Vec<ArrayRef> = batch.columns()[..by.len()]
            .iter()
            .map(|c| arrow::compute::cast(c, &DataType::Utf8))
            .collect::<std::result::Result<_, _>>()?;
        for row in 0..batch.num_rows() {
            let key: Vec<Option<String>> = key_text
                .iter()
                .map(|k| {
                    let k = k.as_string::<i32>();
                    (!k.is_null(row)).then(|| k.value(row).to_string())
                })
                .collect();
            out.push((key, assemble(&groups, row)?));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
    use arrow::array::{Float64Array, StringArray};

    use super::*;

    fn accumulator() -> ProfileAccumulator {
        ProfileAccumulator {
            builder: ProfileBuilder {
                rows: 0,
                columns: vec![
                    ColumnState::new("x", &DataType::Float64),
                    ColumnState::new("s", &DataType::Utf8),
                ],
            },
            parts: Vec::new(),
        }
    }

    fn state_of(xs: &[f64]) -> ScalarValue {
        let mut a = accumulator();
        let s: Vec<String> = xs.iter().map(|x| format!("v{}", (*x as i64) % 7)).collect();
        a.update_batch(&[
            Arc::new(Float64Array::from(xs.to_vec())),
            Arc::new(StringArray::from(s)),
        ])
        .unwrap();
        a.state().unwrap().remove(0)
    }

    #[test]
    fn partial_states_merge_to_the_same_bits_in_any_order() {
        let xs: Vec<f64> = (0..5000).map(|i| f64::from(i).sin() * 1e3 + 0.1).collect();
        let parts: Vec<ScalarValue> = xs.chunks(700).map(state_of).collect();
        let evaluate = |order: &[usize]| {
            let mut f = accumulator();
            let states: Vec<ScalarValue> = order.iter().map(|&i| parts[i].clone()).collect();
            f.merge_batch(&[ScalarValue::iter_to_array(states).unwrap()])
                .unwrap();
            match f.evaluate().unwrap() {
                ScalarValue::Binary(Some(b)) => b,
                other => panic!("{other:?}"),
            }
        };
        let forward: Vec<usize> = (0..parts.len()).collect();
        let mut backward = forward.clone();
        backward.reverse();
        let a = evaluate(&forward);
        assert_eq!(a, evaluate(&backward));
        assert_eq!(a, evaluate(&[3, 0, 6, 1, 5, 2, 4, 7]));
        // The merged statistics are those of all the rows (two-pass mean).
        let b = decode(&a).unwrap();
        assert_eq!(b.rows, 5000);
        let p = b.finish(Vec::new());
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let got = p.columns[0].numeric.as_ref().unwrap().mean.unwrap();
        assert!(
            (got - mean).abs() < 1e-9 * mean.abs().max(1.0),
            "{got} vs {mean}"
        );
        // A state that is not one is an error, not a panic.
        assert!(decode(b"{\"rows\": 3}").is_err());
        assert!(decode(b"\xff").is_err());
    }
}
