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

/// A slice's key: the value of each `by` column as text (`None` for missing).
pub type SliceKey = Vec<Option<String>>;

/// Every slice's builder after the pass, before any is cut to `max_slices`: what
/// [`profile_slices`] finishes, and what [`pair_slices`] pairs with another dataset's.
#[derive(Debug, Clone)]
pub struct SliceBuilders {
    by: Vec<String>,
    builders: HashMap<SliceKey, ProfileBuilder>,
    sources: Vec<String>,
}

/// The slice of one key on the two sides of a comparison; `None` where a side has no
/// row of it.
#[derive(Debug, Clone)]
pub struct SlicePair {
    pub key: String,
    /// The slice's value of each `by` column; empty for `__other__`.
    pub values: BTreeMap<String, Option<String>>,
    pub reference: Option<Slice>,
    pub current: Option<Slice>,
}

/// The slices of one dataset, one builder per key, in one pass.
pub async fn slice_builders(ds: &Dataset, by: &[String]) -> Result<SliceBuilders> {
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
    let mut merged: HashMap<SliceKey, ProfileBuilder> = HashMap::new();
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
    Ok(SliceBuilders {
        by: by.to_vec(),
        builders: merged,
        sources: ds.sources().to_vec(),
    })
}

impl SliceBuilders {
    /// The `by` columns.
    pub fn by(&self) -> &[String] {
        &self.by
    }

    /// Distinct slice keys found.
    pub fn len(&self) -> usize {
        self.builders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.builders.is_empty()
    }

    /// Rows of the slice of `key` (0 when there is none).
    pub fn rows(&self, key: &SliceKey) -> u64 {
        self.builders.get(key).map_or(0, |b| b.rows)
    }

    /// The slices of `keep`, in that order (a key without rows gives no slice), then
    /// every other slice merged into `__other__` (in key order, so deterministic).
    fn cut(mut self, keep: &[SliceKey]) -> Result<Vec<(SliceKey, Option<Slice>)>> {
        let mut out = Vec::with_capacity(keep.len() + 1);
        for k in keep {
            let slice = self.builders.remove(k).map(|b| Slice {
                key: key_text(&self.by, k),
                values: self.by.iter().cloned().zip(k.iter().cloned()).collect(),
                rows: b.rows,
                profile: b.finish(self.sources.clone()),
            });
            out.push((k.clone(), slice));
        }
        let mut rest: Vec<(SliceKey, ProfileBuilder)> = self.builders.into_iter().collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(((_, first), others)) = rest.split_first() {
            let mut b = first.clone();
            for (_, o) in others {
                b.merge(o)?;
            }
            out.push((
                Vec::new(),
                Some(Slice {
                    key: OTHER.into(),
                    values: BTreeMap::new(),
                    rows: b.rows,
                    profile: b.finish(self.sources.clone()),
                }),
            ));
        }
        Ok(out)
    }

    /// The `max_slices` slices with the most rows (ties by key), then `__other__`.
    pub fn into_sliced(self, max_slices: usize) -> Result<Sliced> {
        let mut keys: Vec<(&SliceKey, u64)> =
            self.builders.iter().map(|(k, b)| (k, b.rows)).collect();
        keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let keep: Vec<SliceKey> = keys
            .into_iter()
            .take(max_slices)
            .map(|(k, _)| k.clone())
            .collect();
        let by = self.by.clone();
        let distinct = self.builders.len();
        let slices = self
            .cut(&keep)?
            .into_iter()
            .filter_map(|(_, s)| s)
            .collect();
        Ok(Sliced {
            by,
            max_slices,
            distinct_slices: distinct,
            slices,
        })
    }
}

/// Pair the slices of a reference and a current dataset (the same `by` columns): the
/// `max_slices` keys with the most rows on both sides together (ties by key), so that a
/// slice that vanished from the current data still ranks by its reference rows; then one
/// `__other__` pair of every other key, merged alike on both sides, so that the two
/// `__other__` slices hold the same keys. A key one side lacks is paired with `None`.
pub fn pair_slices(
    reference: SliceBuilders,
    current: SliceBuilders,
    max_slices: usize,
) -> Result<Vec<SlicePair>> {
    let mut rows: HashMap<&SliceKey, u64> = HashMap::new();
    for (k, b) in reference.builders.iter().chain(current.builders.iter()) {
        *rows.entry(k).or_default() += b.rows;
    }
    let mut keys: Vec<(&SliceKey, u64)> = rows.into_iter().collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let keep: Vec<SliceKey> = keys
        .into_iter()
        .take(max_slices)
        .map(|(k, _)| k.clone())
        .collect();
    let by = current.by.clone();
    let mut r = reference.cut(&keep)?;
    let mut c = current.cut(&keep)?;
    // `cut` gives the kept keys in order, then `__other__` when a side has more.
    let other_r = (r.len() > keep.len()).then(|| r.pop()).flatten();
    let other_c = (c.len() > keep.len()).then(|| c.pop()).flatten();
    let mut pairs: Vec<SlicePair> = keep
        .iter()
        .zip(r.into_iter().zip(c))
        .map(|(k, ((_, rs), (_, cs)))| SlicePair {
            key: key_text(&by, k),
            values: by.iter().cloned().zip(k.iter().cloned()).collect(),
            reference: rs,
            current: cs,
        })
        .collect();
    if other_r.is_some() || other_c.is_some() {
        pairs.push(SlicePair {
            key: OTHER.into(),
            values: BTreeMap::new(),
            reference: other_r.and_then(|(_, s)| s),
            current: other_c.and_then(|(_, s)| s),
        });
    }
    Ok(pairs)
}

/// Profile `ds` per slice of the `by` columns in one pass.
pub async fn profile_slices(ds: &Dataset, by: &[String], max_slices: usize) -> Result<Sliced> {
    slice_builders(ds, by).await?.into_sliced(max_slices)
}
