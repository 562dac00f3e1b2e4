//! preflight-stats: data sources and the mergeable profile.
//!
//! - [`source::Dataset`] resolves files, globs and partitioned directories and reads them
//!   through one DataFusion `SessionContext`.
//! - [`profile::ProfileBuilder`] folds record batches into per-column
//!   [`profile::ColumnState`]s in one streaming pass; [`profile::Profile`] is the finished,
//!   versioned, mergeable JSON document every other command reads.

pub mod error;
pub mod profile;
pub mod source;

pub use error::{Error, Result};
