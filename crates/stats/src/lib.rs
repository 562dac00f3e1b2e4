//! preflight-stats: data sources, the mergeable profile, and the statistics every command
//! computes from them, as library functions with typed results (the CLI, and later a
//! cluster engine or a Python API, only turn arguments into a spec, call, and render).
//!
//! - [`source::Dataset`] resolves files, globs and partitioned directories and reads them
//!   through one DataFusion `SessionContext`; a private `precheck` module looks at each
//!   file first for what DataFusion would get wrong or panic on (corrupt Parquet footers,
//!   duplicate CSV headers, a NDJSON key that changes type), and names the file and place.
//! - [`profile::ProfileBuilder`] folds record batches into per-column
//!   [`profile::ColumnState`]s in one streaming pass; [`profile::Profile`] is the finished,
//!   versioned, mergeable JSON document every other command reads.
//! - [`drift`]: distances and tests between two samples or histograms (scipy-checked);
//!   [`drift::plan::compare_profiles`] compares two whole profiles (pairing, skip rules,
//!   methods, ordering) for `drift`, `report --baseline` and the schema's comparators;
//!   [`drift::skew`] joins two datasets on a key.
//! - [`labels`]: confident learning and annotator agreement (cleanlab-checked);
//!   [`labels::audit()`] and [`labels::annotator_audit`] are the whole `labels` command as
//!   functions returning [`labels::LabelAudit`] / [`labels::AnnotatorAudit`].
//! - [`history`]: the metrics history (one record per run in a directory) and the
//!   anomaly strategies that judge a run against it.
//! - [`slice::profile_slices`]: one profile per value of the `--by` columns, same pass.
//! - [`error::Error`]: one error type; a DataFusion, Arrow or I/O cause is kept as the
//!   source (so callers match kinds, e.g. [`error::Error::is_resources_exhausted`], never
//!   message text). [`number`]: how statistics and counts read in messages.

#[cfg(feature = "cluster")]
pub mod cluster;
mod concat;
pub mod drift;
pub mod error;
pub mod history;
mod infer;
pub mod labels;
mod map_exec;
pub mod number;
mod precheck;
pub mod profile;
pub mod remote;
pub mod severity;
pub mod slice;
pub mod source;
mod typed;
pub mod work;

pub use error::{Error, Result};

/// Deterministic uniform numbers in [0, 1) for unit tests (xorshift64).
#[cfg(test)]
pub(crate) fn test_uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}
pub use severity::Severity;
