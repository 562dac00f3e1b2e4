//! Profiles per slice: one [`Profile`] per value (or combination of values) of the `by`
//! columns, in the same streaming pass, as TFDV's feature-value slicer does. Each batch's
//! rows are grouped by their slice key and fed to that slice's [`ProfileBuilder`]; the
//! builders of a partition merge like whole profiles (partition order, deterministic).
//! The `max_slices` slices with the most rows are kept (ties by key) and the rest merged
//! into `__other__`; the whole dataset's profile is the merge of every slice.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::DataType;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::profile::{Profile, ProfileBuilder};
use crate::source::Dataset;

/// The slice that gathers every slice beyond `max_slices`.
pub const OTHER: &str = "__other__";

/// One slice: its key (TFDV's form, `country_US_state_CA`: the `by` columns in the order
/// given, each `name_value`), the values, its rows and its profile.
#[derive(Debug, Clone, Serialize)]
pub struct Slice {
    pub key: String,
    /// The slice's value of each `by` column (`null` for missing); empty for `__other__`.
    pub values: BTreeMap<String, Option<String>>,
    pub rows: u64,
    pub profile: Profile,
}

/// Every slice of a dataset, most rows first, `__other__` last.
#[derive(Debug, Clone, Serialize)]
pub struct Sliced {
    pub by: Vec<String>,
    pub max_slices: usize,
    /// Distinct slice keys found (before `max_slices`).
    pub distinct_slices: usize,
    pub slices: Vec<Slice>,
}

/// A slice's builder and the rows waiting for it: a batch's rows of one slice are few
/// when there are many slices, and a profile update has a cost per call, so rows are
/// gathered until [`FLUSH_ROWS`] and fed as one batch.
struct SliceState {
    builder: ProfileBuilder,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
}

const FLUSH_ROWS: usize = 8192;

impl SliceState {
    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = if self.pending.len() == 1 {
            self.pending.remove(0)
        } else {
            let schema = self.pending[0].schema();
            arrow::compute::concat_batches(&schema, &self.pending).map_err(Error::Arrow)?
        };
        self.pending.clear();
        self.pending_rows = 0;
        self.builder.update(&batch)
    }
}

type Builders = HashMap<Vec<Option<String>>, SliceState>;

/// Group one batch's rows by slice key and queue them for each key's builder.
fn update(state: &mut Builders, batch: &RecordBatch, by: &[usize]) -> Result<()> {
    let mut keys: Vec<StringArray> = Vec::with_capacity(by.len());
    for &i in by {
        let col = cast(batch.column(i), &DataType::Utf8).map_err(Error::Arrow)?;
        let Some(s) = col.as_any().downcast_ref::<StringArray>() else {
            return Err(Error::Engine("a slice column did not cast to text".into()));
        };
        keys.push(s.clone());
    }
    // Rows to groups without allocating per row: the key's cells borrowed from the
    // batch; an owned key is made once per group.
    let mut group_of: HashMap<Vec<Option<&str>>, usize> = HashMap::new();
    let mut groups: Vec<(Vec<Option<&str>>, Vec<u32>)> = Vec::new();
    let mut key: Vec<Option<&str>> = Vec::with_capacity(keys.len());
    for row in 0..batch.num_rows() {
        key.clear();
        key.extend(keys.iter().map(|k| (!k.is_null(row)).then(|| k.value(row))));
        match group_of.get(&key) {
            Some(&g) => groups[g].1.push(row as u32),
            None => {
                group_of.insert(key.clone(), groups.len());
                groups.push((key.clone(), vec![row as u32]));
            }
        }
    }
    let schema = batch.schema();
    for (key, rows) in groups {
        let sub = if rows.len() == batch.num_rows() {
            batch.clone()
        } else {
            take_record_batch(batch, &UInt32Array::from(rows)).map_err(Error::Arrow)?
        };
        let owned: Vec<Option<String>> = key.iter().map(|k| k.map(str::to_string)).collect();
        let st = state.entry(owned).or_insert_with(|| SliceState {
            builder: ProfileBuilder::new(&schema),
            pending: Vec::new(),
            pending_rows: 0,
        });
        st.pending_rows += sub.num_rows();
        st.pending.push(sub);
        if st.pending_rows >= FLUSH_ROWS {
            st.flush()?;
        }
    }
    Ok(())
}

fn key_text(by: &[String], values: &[Option<String>]) -> String {
    by.iter()
        .zip(values)
        .map(|(b, v)| format!("{b}_{}", v.as_deref().unwrap_or("__null__")))
        .collect::<Vec<_>>()
        .join("_")
}

/// Profile `ds` per slice of the `by` columns in one pass.
pub async fn profile_slices(ds: &Dataset, by: &[String], max_slices: usize) -> Result<Sliced> {
    let schema = ds.schema();
    let mut idx = Vec::with_capacity(by.len());
    for b in by {
        match schema.index_of(b) {
            Ok(i) => idx.push(i),
            Err(_) => {
                return Err(Error::Usage(format!(
                    "--by: no column `{b}` in the data (columns: {})",
                    schema
                        .fields()
                        .iter()
                        .take(20)
                        .map(|f| f.name().as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    let parts = ds
        .scan_with(
            || (Builders::new(), None::<Error>),
            move |(state, err): &mut (Builders, Option<Error>), batch: &RecordBatch| {
                if err.is_none()
                    && let Err(e) = update(state, batch, &idx)
                {
                    *err = Some(e);
                }
            },
        )
        .await?;
    // Merge the partitions' builders per key, in partition order.
    let mut merged: HashMap<Vec<Option<String>>, ProfileBuilder> = HashMap::new();
    for (part, err) in parts {
        if let Some(e) = err {
            return Err(e);
        }
        let mut keys: Vec<_> = part.into_iter().collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, mut st) in keys {
            st.flush()?;
            let b = st.builder;
            match merged.get_mut(&k) {
                Some(m) => m.merge(&b)?,
                None => {
                    merged.insert(k, b);
                }
            }
        }
    }
    let distinct = merged.len();
    let mut all: Vec<(Vec<Option<String>>, ProfileBuilder)> = merged.into_iter().collect();
    all.sort_by(|a, b| b.1.rows.cmp(&a.1.rows).then_with(|| a.0.cmp(&b.0)));
    let rest = all.split_off(all.len().min(max_slices));
    let sources = ds.sources().to_vec();
    let mut slices: Vec<Slice> = all
        .into_iter()
        .map(|(k, b)| Slice {
            key: key_text(by, &k),
            values: by.iter().cloned().zip(k).collect(),
            rows: b.rows,
            profile: b.finish(sources.clone()),
        })
        .collect();
    if let Some(((_, first), others)) = rest.split_first() {
        let mut b = first.clone();
        for (_, o) in others {
            b.merge(o)?;
        }
        slices.push(Slice {
            key: OTHER.into(),
            values: BTreeMap::new(),
            rows: b.rows,
            profile: b.finish(sources.clone()),
        });
    }
    Ok(Sliced {
        by: by.to_vec(),
        max_slices,
        distinct_slices: distinct,
        slices,
    })
}
