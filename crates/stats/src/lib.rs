//! preflight-stats: data sources and the mergeable profile.
//!
//! - [`source::Dataset`] resolves files, globs and partitioned directories and reads them
//!   through one DataFusion `SessionContext`.
//! - [`drift`]: distances and tests between two samples or histograms (scipy-checked).
//! - [`labels`]: confident learning and annotator agreement (cleanlab-checked).
//! - [`profile::ProfileBuilder`] folds record batches into per-column
//!   [`profile::ColumnState`]s in one streaming pass; [`profile::Profile`] is the finished,
//!   versioned, mergeable JSON document every other command reads.

mod precheck;
mod concat;
pub mod drift;
pub mod error;
mod infer;
pub mod labels;
pub mod number;
pub mod profile;
pub mod severity;
pub mod source;
mod typed;

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
