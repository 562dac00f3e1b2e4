//! The one error type of the stats crate. Every message is a sentence a user can act on:
//! it names the file and, where known, the row and column.
//!
//! Each message is complete on one line: where an error has a cause (a DataFusion or
//! Arrow error, an I/O error), the message already says what the cause says, cleaned up,
//! and the cause is kept as the error's [`source`](std::error::Error::source) for programs
//! that need to tell errors apart ([`Error::is_resources_exhausted`]), not to be printed
//! again after the message.

use std::path::PathBuf;

use arrow::error::ArrowError;
use datafusion::error::DataFusionError;

/// The cause kept behind an [`Error::Input`], [`Error::NoRows`] or [`Error::Profile`]
/// message.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors from reading data or handling profiles.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be found, read or decoded. `message` is the cause cleaned up
    /// for the user (one line, the line number counted from the file's start); `source`
    /// is the cause itself, where there is one.
    #[error("{path}: {message}")]
    Input {
        path: PathBuf,
        message: String,
        #[source]
        source: Option<Source>,
    },

    /// The arguments or options describe something impossible (no file named, etc.).
    #[error("{0}")]
    Usage(String),

    /// A stored profile is malformed or incompatible with another; `source` is the JSON
    /// parser's error where there is one.
    #[error("{path}: {message}")]
    Profile {
        path: PathBuf,
        message: String,
        #[source]
        source: Option<Source>,
    },

    /// The input holds no data rows (a header-only CSV, a zero-row Parquet file): a
    /// variant of its own so that a checking command can report it as a finding.
    #[error("{path}: {message}")]
    NoRows {
        path: PathBuf,
        message: String,
        #[source]
        source: Option<Source>,
    },

    /// A record of a metrics history is unreadable, malformed or of a newer format
    /// version; or the history directory cannot be read or written.
    #[error("{path}: {message}")]
    History { path: PathBuf, message: String },

    /// DataFusion failed in a way no file can be blamed for.
    #[error("query engine: {}", one_line(&.0.to_string()))]
    DataFusion(#[source] DataFusionError),

    /// DataFusion could not get the memory (or disk space) a query needs: under a memory
    /// limit, an operator that cannot spill, or spilling disabled. Told apart from
    /// [`Error::DataFusion`] by the error's kind, looked for through DataFusion's wrappers.
    #[error("query engine: {}", one_line(&.0.to_string()))]
    ResourcesExhausted(#[source] DataFusionError),

    /// An Arrow kernel (a cast, a batch) failed outside a query.
    #[error("query engine: {}", one_line(&.0.to_string()))]
    Arrow(#[source] ArrowError),

    /// A worker task of the engine panicked or was cancelled.
    #[error("query engine: {0}")]
    Task(#[from] tokio::task::JoinError),

    /// The engine failed with no error value to keep: a worker that panicked, a query
    /// that returned no batch, an array of a type the code did not expect.
    #[error("query engine: {0}")]
    Engine(String),
}

impl Error {
    /// A history file or directory that could not be read or written.
    pub(crate) fn io(path: &std::path::Path, e: std::io::Error) -> Self {
        Self::History {
            path: path.to_path_buf(),
            message: one_line(&e.to_string()),
        }
    }

    pub(crate) fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        let path: PathBuf = path.into();
        // A URL is named without its credentials or query (crate::remote::redact).
        let path = match path.to_str() {
            Some(p) if crate::remote::is_remote(p) => PathBuf::from(crate::remote::redact(p)),
            _ => path,
        };
        Self::Input {
            path,
            message: one_line(&message.into()),
            source: None,
        }
    }

    /// The same error with `cause` kept as its source (an [`Error::Input`] or
    /// [`Error::NoRows`]; other variants hold their cause already and are returned as
    /// they are).
    pub(crate) fn caused_by(self, cause: impl Into<Source>) -> Self {
        match self {
            Self::Input { path, message, .. } => Self::Input {
                path,
                message,
                source: Some(cause.into()),
            },
            Self::NoRows { path, message, .. } => Self::NoRows {
                path,
                message,
                source: Some(cause.into()),
            },
            e => e,
        }
    }

    /// The same error, marked as an input without data rows.
    pub(crate) fn into_no_rows(self) -> Self {
        match self {
            Self::Input {
                path,
                message,
                source,
            } => Self::NoRows {
                path,
                message,
                source,
            },
            e => e,
        }
    }

    /// The cause to keep behind a message built from this error: the engine's own error
    /// where this one only wraps it, else this error.
    pub(crate) fn into_source(self) -> Source {
        match self {
            Self::DataFusion(e) | Self::ResourcesExhausted(e) => Box::new(e),
            Self::Arrow(e) => Box::new(e),
            Self::Task(e) => Box::new(e),
            e => Box::new(e),
        }
    }

    /// Whether the query engine ran out of memory or disk space: the
    /// [`Error::ResourcesExhausted`] variant, or any error whose causes hold a
    /// `DataFusionError::ResourcesExhausted`, however wrapped (`Context`, `Shared`,
    /// `External`, `ArrowError`). A caller can then say which limit to raise.
    pub fn is_resources_exhausted(&self) -> bool {
        if matches!(self, Self::ResourcesExhausted(_)) {
            return true;
        }
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = cause {
            if e.downcast_ref::<DataFusionError>().is_some_and(exhausted) {
                return true;
            }
            cause = e.source();
        }
        false
    }

    /// Whether a value in the data did not parse as its column's type: an Arrow
    /// `ParseError` or `CastError` anywhere among the causes, however DataFusion wrapped
    /// it. (CSV and NDJSON types are guessed from the first rows; this is the sign that
    /// the guess does not hold further down.)
    pub fn is_parse_error(&self) -> bool {
        let parse =
            |e: &ArrowError| matches!(e, ArrowError::ParseError(_) | ArrowError::CastError(_));
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = cause {
            if e.downcast_ref::<ArrowError>().is_some_and(parse) {
                return true;
            }
            if let Some(DataFusionError::ArrowError(a, _)) = e
                .downcast_ref::<DataFusionError>()
                .map(DataFusionError::find_root)
                && parse(a)
            {
                return true;
            }
            cause = e.source();
        }
        false
    }

    /// The cause's own text, for messages that clean it up themselves: a DataFusion or
    /// Arrow error's message without the `query engine:` prefix this type adds.
    pub(crate) fn engine_text(&self) -> String {
        match self {
            Self::DataFusion(e) | Self::ResourcesExhausted(e) => e.to_string(),
            Self::Arrow(e) => e.to_string(),
            Self::Task(e) => e.to_string(),
            e => e.to_string(),
        }
    }
}

/// Whether the deepest DataFusion error below `e` is `ResourcesExhausted`.
fn exhausted(e: &DataFusionError) -> bool {
    matches!(e.find_root(), DataFusionError::ResourcesExhausted(_))
}

impl From<DataFusionError> for Error {
    fn from(e: DataFusionError) -> Self {
        if exhausted(&e) {
            Self::ResourcesExhausted(e)
        } else {
            Self::DataFusion(e)
        }
    }
}

impl From<ArrowError> for Error {
    fn from(e: ArrowError) -> Self {
        Self::Arrow(e)
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

/// Column names for a message (`(columns: a, b, c)`): the first 20, then how many more
/// (`a, b, ..., t, and 5 more`), so that a wide table's error stays one readable line.
pub fn column_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    const SHOWN: usize = 20;
    let mut names = names.into_iter();
    let mut shown: Vec<String> = names.by_ref().take(SHOWN).map(str::to_string).collect();
    let more = names.count();
    if more > 0 {
        shown.push(format!("and {more} more"));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::sync::Arc;

    use super::*;

    fn oom() -> DataFusionError {
        DataFusionError::ResourcesExhausted("Failed to allocate 1024 bytes".into())
    }

    #[test]
    fn resources_exhausted_is_found_through_every_wrapper() {
        let wrapped = [
            oom(),
            oom().context("sorting"),
            DataFusionError::Shared(Arc::new(oom())),
            DataFusionError::External(Box::new(oom().context("spill"))),
            DataFusionError::ArrowError(Box::new(ArrowError::ExternalError(Box::new(oom()))), None),
        ];
        for e in wrapped {
            let shown = format!("{e}");
            let err = Error::from(e);
            assert!(
                matches!(err, Error::ResourcesExhausted(_)),
                "{shown}: {err:?}"
            );
            assert!(err.is_resources_exhausted(), "{shown}");
            // The message is the one the engine gave, on one line, as before.
            assert_eq!(
                err.to_string(),
                format!("query engine: {}", one_line(&shown))
            );
        }
    }

    #[test]
    fn other_engine_errors_are_not_resources_exhausted() {
        let plan = Error::from(DataFusionError::Plan("no field named x".into()));
        assert!(matches!(plan, Error::DataFusion(_)));
        assert!(!plan.is_resources_exhausted());
        assert_eq!(
            plan.to_string(),
            "query engine: Error during planning: no field named x"
        );
        // Text alone does not make an error one: the kind does.
        let said = Error::from(DataFusionError::Execution(
            "Resources exhausted: said by a user function".into(),
        ));
        assert!(!said.is_resources_exhausted());
        let arrow = Error::from(ArrowError::CastError("cannot cast".into()));
        assert!(matches!(arrow, Error::Arrow(_)));
        assert!(!arrow.is_resources_exhausted());
        assert_eq!(arrow.to_string(), "query engine: Cast error: cannot cast");
    }

    #[test]
    fn an_input_error_keeps_its_cause() {
        let e = Error::input("data.csv", "out of memory while reading\n  at line 3")
            .caused_by(oom().context("reading data.csv"));
        assert_eq!(
            e.to_string(),
            "data.csv: out of memory while reading at line 3"
        );
        let source = e.source().expect("the cause is kept");
        assert!(source.downcast_ref::<DataFusionError>().is_some());
        assert!(e.is_resources_exhausted());
        // Marking it as an input without rows keeps the cause too.
        let e = e.into_no_rows();
        assert!(matches!(
            e,
            Error::NoRows {
                source: Some(_),
                ..
            }
        ));
        assert!(e.is_resources_exhausted());
        let plain = Error::input("data.csv", "file is empty");
        assert!(plain.source().is_none());
        assert!(!plain.is_resources_exhausted());
    }

    #[test]
    fn parse_errors_are_found_by_kind_however_wrapped() {
        let parse = ArrowError::ParseError("Error while parsing value 'x' as type Int64".into());
        let wrapped = DataFusionError::Context(
            "reading".into(),
            Box::new(DataFusionError::ArrowError(Box::new(parse), None)),
        );
        assert!(Error::from(wrapped).is_parse_error());
        let cast = ArrowError::CastError("Cannot cast string 'x' to value of Int64 type".into());
        assert!(Error::from(cast).is_parse_error());
        let shared = DataFusionError::Shared(std::sync::Arc::new(DataFusionError::ArrowError(
            Box::new(ArrowError::CastError("x".into())),
            None,
        )));
        assert!(Error::from(shared).is_parse_error());
        // The words alone do not make a parse error; other kinds are not one.
        let text = DataFusionError::Execution("Error while parsing value 'x'".into());
        assert!(!Error::from(text).is_parse_error());
        let io = ArrowError::IoError("disk".into(), std::io::Error::other("disk"));
        assert!(!Error::from(io).is_parse_error());
    }

    #[test]
    fn engine_text_is_the_cause_without_the_prefix() {
        let e = Error::from(DataFusionError::Execution("bad\nvalue".into()));
        assert_eq!(e.engine_text(), "Execution error: bad\nvalue");
        assert_eq!(e.to_string(), "query engine: Execution error: bad value");
        assert_eq!(
            Error::input("a.csv", "x").engine_text(),
            "a.csv: x",
            "errors without an engine cause read as they display"
        );
    }

    #[test]
    fn column_lists_stop_at_twenty() {
        assert_eq!(super::column_list(["a", "b"]), "a, b");
        let names: Vec<String> = (0..23).map(|i| format!("c{i}")).collect();
        let text = super::column_list(names.iter().map(String::as_str));
        assert!(text.starts_with("c0, c1, "), "{text}");
        assert!(text.ends_with("c18, c19, and 3 more"), "{text}");
    }
}
