//! preflight-schema: schema files (the model), inference from a profile, and validation
//! of new data against a stored schema.
//!
//! - [`model::Schema`]: the human-editable YAML file, versioned, with a JSON Schema in
//!   `schemas/preflight-schema.schema.json`.
//! - [`infer::infer`]: a schema from a profile; [`infer::relax`] widens one to accept new data,
//!   and [`edit::update_text`] writes the change into the file's text, comments kept.
//! - [`validate::validate`]: every check a profile can answer, with no pass over the data;
//!   [`data::run`]: uniqueness, patterns, custom SQL and example rows through DataFusion;
//!   [`sql`]: the guard that keeps custom checks to read-only queries over `data`;
//!   [`compare::compare`]: the drift and skew comparators against a baseline profile.
//!
//! The crate knows nothing of terminals: the CLI renders [`validate::Validation`].

pub mod compare;
pub mod data;
pub mod edit;
pub mod infer;
pub mod model;
pub mod sql;
pub mod types;
pub mod validate;

use std::path::{Path, PathBuf};

pub use model::Schema;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The schema file is unreadable or malformed; the message names the line and field.
    #[error("{}: {message}", path.display())]
    Schema { path: PathBuf, message: String },
    #[error(transparent)]
    Data(#[from] preflight_stats::Error),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn schema(path: &Path, message: impl Into<String>) -> Self {
        Self::Schema {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
