//! The one error type of the stats crate. Every message is a sentence a user can act on:
//! it names the file and, where known, the row and column.

use std::path::PathBuf;

/// Errors from reading data or handling profiles.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be found, read or decoded.
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },

    /// The arguments or options describe something impossible (no file named, etc.).
    #[error("{0}")]
    Usage(String),

    /// A stored profile is malformed or incompatible with another.
    #[error("{path}: {message}")]
    Profile { path: PathBuf, message: String },

    /// The input holds no data rows (a header-only CSV, a zero-row Parquet file): a
    /// variant of its own so that a checking command can report it as a finding.
    #[error("{path}: {message}")]
    NoRows { path: PathBuf, message: String },

    /// DataFusion failed in a way no file can be blamed for.
    #[error("query engine: {0}")]
    Engine(String),
}

impl Error {
    pub(crate) fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Input {
            path: path.into(),
            message: one_line(&message.into()),
        }
    }
}

impl Error {
    /// The same error, marked as an input without data rows.
    pub(crate) fn into_no_rows(self) -> Self {
        match self {
            Self::Input { path, message } => Self::NoRows { path, message },
            e => e,
        }
    }
}

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        Self::Engine(one_line(&e.to_string()))
    }
}

impl From<arrow::error::ArrowError> for Error {
    fn from(e: arrow::error::ArrowError) -> Self {
        Self::Engine(one_line(&e.to_string()))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Error messages from the engine can span lines and quote whole rows; users get one line.
pub(crate) fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    const MAX: usize = 400;
    if flat.chars().count() > MAX {
        let cut: String = flat.chars().take(MAX).collect();
        format!("{cut}...")
    } else {
        flat
    }
}
