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
//!   [`compare::compare`]: the drift and skew comparators against a baseline profile;
//!   [`history::check`]: the checks over time against a metrics history.
//!
//! The crate knows nothing of terminals: the CLI renders [`validate::Validation`].

pub mod compare;
pub mod data;
pub mod edit;
pub mod history;
pub mod infer;
pub mod model;
pub mod sql;
pub mod types;
pub mod validate;

use std::path::{Path, PathBuf};

pub use model::Schema;

/// Errors of the schema crate. Each message is complete on one line; where there is a
/// cause (a YAML, regex, I/O, DataFusion or Arrow error) it is kept as the
/// [`source`](std::error::Error::source), for programs, and not printed again.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The schema file is unreadable or malformed; the message names the line and field.
    #[error("{}: {message}", path.display())]
    Schema {
        path: PathBuf,
        message: String,
        #[source]
        source: Option<preflight_stats::error::Source>,
    },
    /// Reading the data failed (see [`preflight_stats::Error`]).
    #[error(transparent)]
    Data(#[from] preflight_stats::Error),
    /// DataFusion failed on a query preflight generated (a uniqueness count, the row scan).
    #[error("{0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// An Arrow cast of the scanned values failed.
    #[error("{0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A schema could not be written as YAML.
    #[error("{0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    /// A failure with no error value to keep (a query's result was not what it asked for).
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn schema(path: &Path, message: impl Into<String>) -> Self {
        Self::Schema {
            path: path.to_path_buf(),
            message: message.into(),
            source: None,
        }
    }

    /// The same error with `cause` kept as its source (for [`Error::Schema`]; the other
    /// variants hold their cause already and are returned as they are).
    pub fn caused_by(self, cause: impl Into<preflight_stats::error::Source>) -> Self {
        match self {
            Self::Schema { path, message, .. } => Self::Schema {
                path,
                message,
                source: Some(cause.into()),
            },
            e => e,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
