//! Profiles per slice: one [`Profile`] per value (or combination of values) of the `by`
//! columns, in the same streaming pass, as TFDV's feature-value slicer does. Each batch's
//! rows are grouped by their slice key and fed to that slice's [`ProfileBuilder`]; the
//! builders of a partition merge like whole profiles (partition order, deterministic).
//! The `max_slices` slices with the most rows are kept (ties by key) and the rest merged
//! into `__other__`; the whole dataset's profile is the merge of every slice.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::DataType;
use arrow::row::{RowConverter, SortField};
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
    /// The key as text, made once, when the slice's first row is seen.
    key: SliceKey,
    builder: ProfileBuilder,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
}

const FLUSH_ROWS: usize = 8192;

/// Partitions of a sliced scan: every partition keeps a builder per slice, whose cost
/// (sketches set up, filled with few rows, merged) grows with partitions times slices.
/// Fixed, as the profile's ([`crate::source::PROFILE_PARTITIONS`]), so that the slices do
/// not depend on the machine. Measured on the 3M-row table by a 50-value column (release,
/// 2 cores): 16 partitions 2.98x the unsliced profile, 8 3.4x (before the end-of-partition
/// flush), 4 2.10x, 2 2.06x. Eighth session, by a 100-value column: 4 partitions 0.81 to
/// 0.86 s, 2 0.76 to 0.77 s; by 500 keys 2.50 s against 1.78 s; by 50 values 0.59 s
/// against 0.61 s. So 2: the per-slice work, not the scan, is what a sliced profile
/// spends, and on 2 cores fewer builders per slice win. The price is on larger machines,
/// where a sliced scan now uses 2 threads (the merge, finishing and JSON after it use
/// all of them).
const SLICE_PARTITIONS: usize = 2;

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

/// FxHash's mixing (rustc's hasher): slice keys are short byte strings hashed once per
/// row, where SipHash's cost shows. Not collision-resistant against crafted input, which
/// costs a slower map, never a wrong one.
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type KeyMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// A partition's slices, keyed by the native encoding of their `by` values (arrow's row
/// format): rows are grouped without turning values into text, which is done once per
/// slice for its key.
#[derive(Default)]
struct Builders {
    converter: Option<RowConverter>,
    slices: KeyMap<Vec<u8>, SliceState>,
    /// Batches grouped since every slice was last flushed (see [`PIN_BATCHES`]).
    since_flush: usize,
}

/// A batch's rows are put in slice order with one copy, and each slice queues a
/// zero-copy piece of it; a queued piece keeps the whole batch alive, so every slice is
/// flushed after this many batches: what waits is at most this many batches per
/// partition, however many slices there are (a copy per slice and batch cost more in
/// allocations than the copy itself).
const PIN_BATCHES: usize = 32;

/// The text of row `row` of each `by` column (`None` for missing).
fn text_key(cols: &[ArrayRef], row: usize) -> Result<SliceKey> {
    let mut key = Vec::with_capacity(cols.len());
    for c in cols {
        let one = cast(&c.slice(row, 1), &DataType::Utf8).map_err(Error::Arrow)?;
        let Some(s) = one.as_any().downcast_ref::<StringArray>() else {
            return Err(Error::Engine("a slice column did not cast to text".into()));
        };
        key.push((!s.is_null(0)).then(|| s.value(0).to_string()));
    }
    Ok(key)
}

/// Group one batch's rows by slice key and queue them for each key's builder.
fn update(state: &mut Builders, batch: &RecordBatch, by: &[usize]) -> Result<()> {
    let n = batch.num_rows();
    if n == 0 {
        return Ok(());
    }
    let cols: Vec<ArrayRef> = by.iter().map(|&i| batch.column(i).clone()).collect();
    let converter = match &state.converter {
        Some(c) => c,
        None => {
            let fields = (cols.iter())
                .map(|c| SortField::new(c.data_type().clone()))
                .collect();
            state
                .converter
                .insert(RowConverter::new(fields).map_err(Error::Arrow)?)
        }
    };
    let rows = converter.convert_columns(&cols).map_err(Error::Arrow)?;
    // Each row's group in this batch (groups in order of first row); a row with the key
    // of the row before it (sorted or clustered data) skips the hash.
    let mut group_of: KeyMap<&[u8], u32> = KeyMap::default();
    let mut first: Vec<usize> = Vec::new();
    let mut group: Vec<u32> = Vec::with_capacity(n);
    let mut last: (&[u8], u32) = (&[], u32::MAX);
    for r in 0..n {
        let key = rows.row(r).data();
        if last.1 != u32::MAX && key == last.0 {
            group.push(last.1);
            continue;
        }
        let next = first.len() as u32;
        let g = *group_of.entry(key).or_insert_with(|| {
            first.push(r);
            next
        });
        group.push(g);
        last = (key, g);
    }
    // Each group's rows, in row order, one after the other.
    let groups = first.len();
    let mut starts = vec![0usize; groups + 1];
    for &g in &group {
        starts[g as usize + 1] += 1;
    }
    for g in 0..groups {
        starts[g + 1] += starts[g];
    }
    let sorted = if groups == 1 {
        batch.clone()
    } else {
        let mut at = starts.clone();
        let mut order = vec![0u32; n];
        for (r, &g) in group.iter().enumerate() {
            order[at[g as usize]] = r as u32;
            at[g as usize] += 1;
        }
        take_record_batch(batch, &UInt32Array::from(order)).map_err(Error::Arrow)?
    };
    let schema = batch.schema();
    for g in 0..groups {
        let bytes = rows.row(first[g]).data();
        if !state.slices.contains_key(bytes) {
            let st = SliceState {
                key: text_key(&cols, first[g])?,
                builder: ProfileBuilder::new(&schema),
                pending: Vec::new(),
                pending_rows: 0,
            };
            state.slices.insert(bytes.to_vec(), st);
        }
        let Some(st) = state.slices.get_mut(bytes) else {
            return Err(Error::Engine("a slice vanished from its map".into()));
        };
        let sub = sorted.slice(starts[g], starts[g + 1] - starts[g]);
        st.pending_rows += sub.num_rows();
        st.pending.push(sub);
        if st.pending_rows >= FLUSH_ROWS {
            st.flush()?;
        }
    }
    state.since_flush += 1;
    if state.since_flush >= PIN_BATCHES {
        for st in state.slices.values_mut() {
            st.flush()?;
        }
        state.since_flush = 0;
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
    /// A stored `__other__` (keys unknown): always part of this side's `__other__`.
    other: Option<ProfileBuilder>,
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
        .scan_with_partitions(
            SLICE_PARTITIONS,
            || (Builders::default(), None::<Error>),
            move |(state, err): &mut (Builders, Option<Error>), batch: &RecordBatch| {
                if err.is_none()
                    && let Err(e) = update(state, batch, &idx)
                {
                    *err = Some(e);
                }
            },
            // The rows still queued are profiled in the partition's task, in parallel:
            // with many slices most of them wait until the end (a slice's share of a
            // partition is often below FLUSH_ROWS), and flushed after the scan they took
            // two thirds of `profile --by`'s time on the main thread alone.
            |(state, err): &mut (Builders, Option<Error>)| {
                if err.is_none() {
                    for st in state.slices.values_mut() {
                        if let Err(e) = st.flush() {
                            *err = Some(e);
                            return;
                        }
                    }
                }
            },
        )
        .await?;
    // Merge the partitions' builders per key, in partition order (and in key order
    // within one, where two native keys have one text: NaNs of different bits); keys on
    // all threads, as a slice's merge does not depend on another's (it was a tenth of
    // `profile --by` of 100 slices, on the main thread alone).
    let mut per_key: HashMap<SliceKey, Vec<ProfileBuilder>> = HashMap::new();
    for (part, err) in parts {
        if let Some(e) = err {
            return Err(e);
        }
        let mut states: Vec<SliceState> = part.slices.into_values().collect();
        states.sort_by(|a, b| a.key.cmp(&b.key));
        for mut st in states {
            st.flush()?;
            let k = std::mem::take(&mut st.key);
            per_key.entry(k).or_default().push(st.builder);
        }
    }
    let merged: HashMap<SliceKey, ProfileBuilder> = crate::work::par_map(
        per_key.into_iter().collect(),
        crate::work::machine_threads(),
        |(k, builders)| {
            let mut it = builders.into_iter();
            let first = it
                .next()
                .ok_or_else(|| Error::Engine("a slice without a builder".into()));
            first.and_then(|mut m| {
                it.try_for_each(|b| m.merge(&b))?;
                Ok((k, m))
            })
        },
    )
    .into_iter()
    .collect::<Result<_>>()?;
    Ok(SliceBuilders {
        by: by.to_vec(),
        builders: merged,
        sources: ds.sources().to_vec(),
        other: None,
    })
}

impl SliceBuilders {
    /// The slices of a stored sliced profile (`profile --by`), as the slices of data
    /// sliced by `by` are: each kept slice by its key, its `__other__` (whose keys are
    /// unknown) always merged into `__other__`.
    pub fn from_sliced(s: &Sliced, by: &[String], sources: &[String]) -> Result<Self> {
        if s.by != by {
            return Err(Error::Usage(format!(
                "{}: the stored profile is sliced by [{}], not by [{}]",
                sources.join(" "),
                s.by.join(", "),
                by.join(", ")
            )));
        }
        let mut builders = HashMap::new();
        let mut other = None;
        for slice in &s.slices {
            if slice.key == OTHER && slice.values.is_empty() {
                other = Some(slice.profile.builder());
                continue;
            }
            let key: SliceKey = by
                .iter()
                .map(|b| slice.values.get(b).cloned().flatten())
                .collect();
            builders.insert(key, slice.profile.builder());
        }
        Ok(Self {
            by: by.to_vec(),
            builders,
            sources: sources.to_vec(),
            other,
        })
    }

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
        // Each kept slice's profile finished on all threads (independent of each other).
        let kept: Vec<(SliceKey, Option<ProfileBuilder>)> = keep
            .iter()
            .map(|k| (k.clone(), self.builders.remove(k)))
            .collect();
        let (by, sources) = (&self.by, &self.sources);
        out.extend(crate::work::par_map(
            kept,
            crate::work::machine_threads(),
            |(k, b)| {
                let slice = b.map(|b| Slice {
                    key: key_text(by, &k),
                    values: by.iter().cloned().zip(k.iter().cloned()).collect(),
                    rows: b.rows,
                    profile: b.finish(sources.clone()),
                });
                (k, slice)
            },
        ));
        let mut rest: Vec<(SliceKey, ProfileBuilder)> = self.builders.into_iter().collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        // A stored `__other__` last (an empty key sorts first among real ones).
        if let Some(o) = self.other {
            rest.push((Vec::new(), o));
        }
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
        let keep = largest(
            self.builders.iter().map(|(k, b)| (k, b.rows)).collect(),
            max_slices,
        );
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

/// The `n` keys with the most rows, ties by key.
fn largest(mut keys: Vec<(&SliceKey, u64)>, n: usize) -> Vec<SliceKey> {
    keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    keys.into_iter().take(n).map(|(k, _)| k.clone()).collect()
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
    let keep = largest(rows.into_iter().collect(), max_slices);
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

/// The whole dataset's profile from its slices (their merge), each source named once.
pub fn whole_of(slices: &[Slice]) -> Result<Profile> {
    let parts: Vec<(String, Profile)> = slices
        .iter()
        .map(|s| (s.key.clone(), s.profile.clone()))
        .collect();
    let mut whole = Profile::merge_all(&parts)?;
    let mut seen = std::collections::HashSet::new();
    whole.sources.retain(|s| seen.insert(s.clone()));
    Ok(whole)
}

/// A stored `profile --by --format json` document: `None` when `bytes` are not one (a
/// whole profile, say). Each slice's profile is read and checked as a stored profile is.
pub fn sliced_from_json(bytes: &[u8], path: &std::path::Path) -> Result<Option<Sliced>> {
    let bad = |message: String| Error::Profile {
        path: path.to_path_buf(),
        message,
        source: None,
    };
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(None);
    };
    let (Some(by), Some(slices)) = (doc.get("by"), doc.get("slices")) else {
        return Ok(None);
    };
    let by: Vec<String> = serde_json::from_value(by.clone())
        .map_err(|e| bad(format!("`by` is not a list of column names: {e}")))?;
    let slices = slices
        .as_array()
        .ok_or_else(|| bad("`slices` is not a list".into()))?;
    let number = |name: &str| doc.get(name).and_then(serde_json::Value::as_u64);
    let mut out = Vec::with_capacity(slices.len());
    for (i, s) in slices.iter().enumerate() {
        let key = s
            .get("key")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| bad(format!("slice {i} has no key")))?
            .to_string();
        let values: BTreeMap<String, Option<String>> =
            serde_json::from_value(s.get("values").cloned().unwrap_or_default())
                .map_err(|e| bad(format!("slice {key}: values: {e}")))?;
        // Each kept slice has a value (or null) for every `by` column: a missing one would
        // be taken as null and pair the slice with another.
        if key != OTHER && !by.iter().all(|b| values.contains_key(b)) {
            return Err(bad(format!(
                "slice {key}: its values do not name every `by` column ({})",
                by.join(", ")
            )));
        }
        let profile = s
            .get("profile")
            .ok_or_else(|| bad(format!("slice {key} has no profile")))?;
        let text = serde_json::to_vec(profile).map_err(|e| bad(e.to_string()))?;
        let profile = Profile::from_json(&text, path).map_err(|e| match e {
            Error::Profile { message, .. } => bad(format!("slice {key}: {message}")),
            other => other,
        })?;
        out.push(Slice {
            key,
            values,
            rows: profile.row_count,
            profile,
        });
    }
    Ok(Some(Sliced {
        by,
        max_slices: number("max_slices").map_or(out.len(), |n| n as usize),
        distinct_slices: number("distinct_slices").map_or(out.len(), |n| n as usize),
        slices: out,
    }))
}

impl Sliced {
    /// Merge stored sliced profiles of parts (days, partitions) slice by slice, as whole
    /// profiles merge: the same key's profiles are merged, then the `max_slices` (the
    /// largest of the parts') slices with the most rows are kept and the rest merged into
    /// `__other__`. Returned with warnings: a key one part kept and another part did not,
    /// while that part has an `__other__`, may have rows hidden in that `__other__`, which
    /// a merge cannot take back out.
    pub fn merge_all(parts: &[(String, Sliced)]) -> Result<(Sliced, Vec<String>)> {
        let Some((first_name, first)) = parts.first() else {
            return Err(Error::Usage("no profiles to merge".into()));
        };
        for (name, p) in parts {
            if p.by != first.by {
                return Err(Error::Profile {
                    path: name.into(),
                    message: format!(
                        "sliced by [{}], where {first_name} is sliced by [{}]",
                        p.by.join(", "),
                        first.by.join(", ")
                    ),
                    source: None,
                });
            }
        }
        type Entry = (BTreeMap<String, Option<String>>, Vec<(String, Profile)>);
        let mut by_key: BTreeMap<String, Entry> = BTreeMap::new();
        for (name, p) in parts {
            for s in &p.slices {
                let e = by_key
                    .entry(s.key.clone())
                    .or_insert_with(|| (s.values.clone(), Vec::new()));
                e.1.push((name.clone(), s.profile.clone()));
            }
        }
        let mut warnings = Vec::new();
        for (name, p) in parts {
            if !p.slices.iter().any(|s| s.key == OTHER) {
                continue;
            }
            let missing: Vec<&str> = by_key
                .keys()
                .filter(|k| k.as_str() != OTHER && !p.slices.iter().any(|s| &s.key == *k))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                warnings.push(format!(
                    "{name} did not keep slice{} {} apart: {} rows there are in its `{OTHER}`, \
                     so the merged slice{} may lack some rows",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", "),
                    if missing.len() == 1 { "its" } else { "their" },
                    if missing.len() == 1 { "" } else { "s" },
                ));
            }
        }
        let mut other: Vec<(String, Profile)> = Vec::new();
        let mut kept = Vec::new();
        for (key, (values, profiles)) in by_key {
            let profile = Profile::merge_all(&profiles)?;
            if key == OTHER {
                other.push((key, profile));
            } else {
                kept.push(Slice {
                    key,
                    values,
                    rows: profile.row_count,
                    profile,
                });
            }
        }
        kept.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.key.cmp(&b.key)));
        let max_slices = parts.iter().map(|(_, p)| p.max_slices).max().unwrap_or(1);
        let distinct = parts
            .iter()
            .map(|(_, p)| p.distinct_slices)
            .max()
            .unwrap_or(0)
            .max(kept.len());
        for s in kept.split_off(max_slices.min(kept.len())) {
            other.push((s.key, s.profile));
        }
        if !other.is_empty() {
            let profile = Profile::merge_all(&other)?;
            kept.push(Slice {
                key: OTHER.into(),
                values: BTreeMap::new(),
                rows: profile.row_count,
                profile,
            });
        }
        Ok((
            Sliced {
                by: first.by.clone(),
                max_slices,
                distinct_slices: distinct,
                slices: kept,
            },
            warnings,
        ))
    }
}
