//! The arguments several commands share, declared once: how to read inputs
//! ([`InputArgs`]), the output flags of the checking commands ([`OutputArgs`]) and the
//! drift methods ([`MethodArgs`]). Flags with a fixed set of choices are clap value enums,
//! so the choices are written once and a bad value is a usage error (exit 2) naming them.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::ValueEnum;
use clap::builder::PossibleValue;
use preflight_stats::drift::Method;
use preflight_stats::labels::FilterBy;
use preflight_stats::labels::model::Model;
use preflight_stats::source::{CsvOptions, Format, SourceOptions, parse_type};

use crate::checks::{CheckFormat, FailOn};

/// `--input-format`: the file formats preflight reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    #[value(alias = "tsv")]
    Csv,
    Parquet,
    #[value(aliases = ["json", "jsonl"])]
    Ndjson,
    #[value(aliases = ["ipc", "feather"])]
    Arrow,
}

impl InputFormat {
    pub fn format(self) -> Format {
        match self {
            Self::Csv => Format::Csv,
            Self::Parquet => Format::Parquet,
            Self::Ndjson => Format::Json,
            Self::Arrow => Format::Arrow,
        }
    }
}

/// How to read inputs; shared by every command that reads data.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// Input format, when the file extension does not tell.
    #[arg(long, value_name = "FORMAT", value_enum, ignore_case = true)]
    pub input_format: Option<InputFormat>,
    /// CSV field delimiter (`\t` for a tab) [default: ',' or tab for .tsv].
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// CSV quote character.
    #[arg(long, value_name = "CHAR", default_value = "\"")]
    pub quote: String,
    /// CSV files have no header row (columns are named column_1, column_2, ...).
    #[arg(long)]
    pub no_header: bool,
    /// A cell text that means missing, in addition to the empty cell (repeatable). Replaces
    /// the default list: NA, N/A, n/a, NULL, null, None, <NA>, #N/A, #NA, -NaN, -nan.
    #[arg(long = "null-value", value_name = "TEXT")]
    pub null_values: Vec<String>,
    /// Force a column's type: `--type zip=string` (repeatable). Types: int8..int64,
    /// uint8..uint64, float, double, string, bool, date, timestamp, decimal(p,s).
    #[arg(long = "type", value_name = "COL=TYPE")]
    pub types: Vec<String>,
    /// Partitions read in parallel [default: one per core]. The output does not depend on
    /// it: the data is split the same way whatever the number.
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub partitions: usize,
    /// Compute the profile on a Ballista cluster: its scheduler's `df://HOST:PORT`, started
    /// with `preflight cluster scheduler` (Parquet and NDJSON inputs the executors see).
    #[arg(long, value_name = "URL")]
    pub cluster: Option<String>,
}

impl InputArgs {
    /// Check the raw arguments and turn them into reader options before any work starts.
    pub fn to_options(&self) -> Result<SourceOptions> {
        let format = self.input_format.map(InputFormat::format);
        let one_byte = |flag: &str, s: &str| -> Result<u8> {
            let s = if s == "\\t" { "\t" } else { s };
            match s.as_bytes() {
                [b] => Ok(*b),
                _ => bail!("{flag} must be a single ASCII character, got `{s}`"),
            }
        };
        let mut csv = CsvOptions {
            delimiter: self
                .delimiter
                .as_deref()
                .map(|d| one_byte("--delimiter", d))
                .transpose()?,
            quote: one_byte("--quote", &self.quote)?,
            has_header: !self.no_header,
            ..CsvOptions::default()
        };
        if !self.null_values.is_empty() {
            csv.null_values = self.null_values.clone();
        }
        let mut types = Vec::new();
        for t in &self.types {
            let Some((col, ty)) = t.split_once('=') else {
                bail!("--type expects COL=TYPE, got `{t}`");
            };
            let dt = parse_type(ty).map_err(|e| anyhow::anyhow!("--type {t}: {e}"))?;
            types.push((col.to_string(), dt));
        }
        if let Some(url) = &self.cluster {
            check_cluster_url(url)?;
        }
        Ok(SourceOptions {
            format,
            csv,
            types,
            partitions: self.partitions,
            memory: memory_tables(),
            cluster: self.cluster.clone(),
        })
    }
}

/// A `--cluster` URL is checked before any input is opened.
#[cfg(feature = "cluster")]
fn check_cluster_url(url: &str) -> Result<()> {
    preflight_stats::cluster::scheduler_address(url)?;
    Ok(())
}

#[cfg(not(feature = "cluster"))]
fn check_cluster_url(url: &str) -> Result<()> {
    bail!("--cluster {url}: this preflight was built without the `cluster` feature")
}

/// The tables in memory of the run in progress (see `crate::run_with_tables`).
static MEMORY: std::sync::RwLock<Option<preflight_stats::source::MemoryTables>> =
    std::sync::RwLock::new(None);

pub fn set_memory_tables(tables: preflight_stats::source::MemoryTables) {
    let mut m = MEMORY
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *m = Some(tables);
}

fn memory_tables() -> preflight_stats::source::MemoryTables {
    MEMORY
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
        .unwrap_or_default()
}

/// The output flags every checking command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output format [default: from -o's extension (.json, .md, .xml), else table on
    /// stdout and json in a file].
    #[arg(long, value_enum)]
    pub format: Option<CheckFormat>,
    /// Write to FILE (atomically) instead of stdout (`-` is stdout). An .html FILE is the
    /// HTML report (as --html).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The lowest severity that fails the run (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Also write a self-contained HTML report to FILE (atomically).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

impl OutputArgs {
    /// Check the flags together, before any work: `-o report.html` is the HTML report
    /// (as `--html`), `-o -` is stdout, and the format follows `-o`'s extension unless
    /// `--format` says otherwise (a contradiction is an error). After this, `format` is set.
    pub fn checked(mut self, command: &str) -> Result<Self> {
        let html_ext = |p: &PathBuf| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
        };
        if let Some(out) = self.output.take_if(|p| html_ext(p)) {
            if let Some(f) = self.format {
                bail!(
                    "--format {} contradicts -o {} (an .html file is the HTML report); drop one of them",
                    f.to_possible_value()
                        .map_or_else(String::new, |v| v.get_name().to_string()),
                    out.display()
                );
            }
            if let Some(h) = &self.html {
                bail!(
                    "-o {} and --html {} both ask for the HTML report; give one",
                    out.display(),
                    h.display()
                );
            }
            self.html = Some(out);
        }
        if self.output.as_deref() == Some(std::path::Path::new("-")) {
            self.output = None;
        }
        self.format = Some(crate::output::pick_format(
            command,
            self.format,
            self.output.as_deref(),
        )?);
        Ok(self)
    }

    /// The format (see [`Self::checked`]).
    pub fn format(&self) -> CheckFormat {
        self.format.unwrap_or(CheckFormat::Table)
    }
}

/// One `--method` value: a drift method, or `auto` (Evidently's choice per column). The
/// names and aliases are the library's ([`Method::as_str`], [`Method::aliases`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodChoice(pub Option<Method>);

/// `auto`, then every method in [`Method::ALL`]'s order.
const METHOD_CHOICES: [MethodChoice; 13] = {
    let mut all = [MethodChoice(None); 13];
    let mut i = 0;
    while i < Method::ALL.len() {
        all[i + 1] = MethodChoice(Some(Method::ALL[i]));
        i += 1;
    }
    all
};

impl clap::ValueEnum for MethodChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &METHOD_CHOICES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self.0 {
            None => PossibleValue::new("auto"),
            Some(m) => PossibleValue::new(m.as_str()).aliases(m.aliases().iter().copied()),
        })
    }
}

/// A library enum as a clap value enum: `$name(pub $lib)` whose choices are `$lib::ALL`,
/// named by `as_str` with `about` as each one's help, so the choices are written once, in
/// the library.
macro_rules! library_choice {
    ($(#[$doc:meta])* $name:ident($lib:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(pub $lib);

        impl clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                const N: usize = <$lib>::ALL.len();
                const ALL: [$name; N] = {
                    let mut all = [$name(<$lib>::ALL[0]); N];
                    let mut i = 0;
                    while i < N {
                        all[i] = $name(<$lib>::ALL[i]);
                        i += 1;
                    }
                    all
                };
                &ALL
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new(self.0.as_str()).help(self.0.about()))
            }
        }
    };
}

library_choice!(
    /// `labels --filter-by`: which rows count as label issues (cleanlab's `filter_by`).
    FilterByChoice(FilterBy)
);

library_choice!(
    /// `labels --model`: the built-in model that gives out-of-sample probabilities.
    ModelChoice(Model)
);

/// The method flags `drift` and `report --baseline` share.
#[derive(Debug, Clone, clap::Args)]
pub struct MethodArgs {
    /// Method(s), comma-separated or repeated. Several methods give one result per column
    /// and method; a column drifts when any of them says so.
    #[arg(
        long,
        value_name = "METHOD",
        value_delimiter = ',',
        value_enum,
        ignore_case = true,
        default_value = "auto"
    )]
    pub method: Vec<MethodChoice>,
    /// Drift threshold for every column [default: the method's, 0.05 for p-values, 0.1
    /// for distances].
    #[arg(long, value_name = "X")]
    pub threshold: Option<f64>,
    /// Dataset drift when the share of drifted columns is at least this.
    #[arg(long, value_name = "SHARE", default_value_t = 0.5)]
    pub drift_share: f64,
}

/// Checked [`MethodArgs`].
pub struct Methods {
    /// `None` = auto; duplicates dropped.
    pub methods: Vec<Option<Method>>,
    pub threshold: Option<f64>,
    pub drift_share: f64,
}

impl MethodArgs {
    /// Check the values clap cannot (ranges) and drop repeated methods.
    pub fn check(&self) -> Result<Methods> {
        let mut methods = Vec::new();
        for m in &self.method {
            if !methods.contains(&m.0) {
                methods.push(m.0);
            }
        }
        if let Some(t) = self.threshold
            && !(t.is_finite() && t >= 0.0)
        {
            bail!("--threshold must be a non-negative number, got {t}");
        }
        if !(self.drift_share > 0.0 && self.drift_share <= 1.0) {
            bail!("--drift-share must be in (0, 1], got {}", self.drift_share);
        }
        Ok(Methods {
            methods,
            threshold: self.threshold,
            drift_share: self.drift_share,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn method_choices_are_the_librarys_names_and_aliases() {
        assert_eq!(MethodChoice::from_str("auto", true), Ok(MethodChoice(None)));
        for m in Method::ALL {
            assert_eq!(
                MethodChoice::from_str(m.as_str(), true),
                Ok(MethodChoice(Some(m)))
            );
        }
        assert_eq!(
            MethodChoice::from_str("KL", true),
            Ok(MethodChoice(Some(Method::KlDiv)))
        );
        assert_eq!(
            MethodChoice::from_str("tfdv_js", true),
            Ok(MethodChoice(Some(Method::JsDivergence)))
        );
        assert!(MethodChoice::from_str("magic", true).is_err());
        assert_eq!(
            InputFormat::from_str("jsonl", true),
            Ok(InputFormat::Ndjson)
        );
        assert_eq!(InputFormat::Ndjson.format(), Format::Json);
    }
}
