//! The HTML report: one self-contained file (inline CSS, inline SVG charts drawn here, one
//! small inline script, no network requests) that any command can write.
//!
//! A command fills a [`Page`]: the verdict, the datasets, its findings, and whichever of
//! the profile, a baseline profile, drift results and a label audit it has. [`render`]
//! turns it into HTML with `maud`, which escapes every interpolated value: column names and
//! values from the data can never become markup. Charts are built with the same templates
//! (`charts`), so they are escaped the same way.
//!
//! Speed at 5,000 features: one card per feature, each `content-visibility: auto` so the
//! browser lays out only the cards on screen; charts are one `<path>` per series to keep
//! the file small (about 1 KB per card).

mod charts;
mod history;
pub(crate) mod labels;
mod page;
mod pages;

pub(crate) use history::page as history_page;
pub(crate) use pages::{
    checks_page, drift_page, drift_slices, profile_slices, source, validation_page,
};

use std::path::Path;

use anyhow::Result;
use preflight_schema::validate::Anomaly;
use preflight_stats::Severity;
use preflight_stats::drift::compare::ColumnDrift;
use preflight_stats::profile::Profile;
use serde_json::Value;

use crate::checks::{self, Check, FailOn};
use crate::output::emit;

/// Findings listed at the top of the page; each card lists its own in full.
pub(crate) const TOP_FINDINGS: usize = 1_000;

/// One thing found: an anomaly, a drifted column, a failed check.
#[derive(Debug, Clone)]
pub struct Finding {
    /// `None` for dataset-level findings.
    pub column: Option<String>,
    pub kind: String,
    pub severity: Severity,
    pub message: String,
    /// Example rows or values, already as text.
    pub examples: Vec<String>,
    /// The slice it was found in (`--by`), `None` for the whole data.
    pub slice: Option<String>,
}

impl Finding {
    /// The failed checks of a command, as findings.
    pub fn from_checks(checks: &[Check]) -> Vec<Finding> {
        checks
            .iter()
            .filter_map(|c| {
                c.failure.as_ref().map(|f| Finding {
                    column: c.column.clone(),
                    kind: c.kind.clone(),
                    severity: f.severity,
                    message: f.message.clone(),
                    examples: Vec::new(),
                    slice: c.slice.clone(),
                })
            })
            .collect()
    }

    /// Validation anomalies, with their unexpected values and example rows.
    pub fn from_anomalies(anomalies: &[&Anomaly]) -> Vec<Finding> {
        anomalies
            .iter()
            .map(|a| {
                let mut examples: Vec<String> = a
                    .unexpected_values
                    .iter()
                    .take(10)
                    .map(|v| format!("{} ({} rows)", value_text(&v.value), v.count))
                    .collect();
                examples.extend(a.examples.iter().take(10).map(|e| match &e.value {
                    Value::Null => format!("row {}", e.row),
                    v => format!("row {}: {}", e.row, value_text(v)),
                }));
                Finding {
                    column: a.column.clone(),
                    kind: a.kind.as_str().to_string(),
                    severity: a.severity,
                    message: a.message.clone(),
                    examples,
                    slice: a.slice.clone(),
                }
            })
            .collect()
    }
}

/// The verdict line: `passed`, or `failed: 2 errors, 1 warning`.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub text: String,
    pub failed: bool,
    pub checks: usize,
}

impl Verdict {
    pub fn from_checks(checks: &[Check], fail_on: FailOn) -> Self {
        Self {
            text: checks::verdict(checks, fail_on),
            failed: checks::status(checks, fail_on) == crate::ExitStatus::Failure,
            checks: checks.len(),
        }
    }
}

/// One input of the page (the data, the baseline).
#[derive(Debug, Clone)]
pub struct DatasetInfo {
    /// `data`, `baseline`, `reference`, `current`, `A`, `B`...
    pub role: String,
    pub inputs: Vec<String>,
    pub rows: Option<u64>,
    pub columns: Option<usize>,
    /// `data` or `stored profile`.
    pub source: &'static str,
}

impl DatasetInfo {
    pub fn of_profile(role: &str, p: &Profile, source: &'static str) -> Self {
        Self {
            role: role.to_string(),
            inputs: p.sources.clone(),
            rows: Some(p.row_count),
            columns: Some(p.columns.len()),
            source,
        }
    }
}

/// Everything a page shows; commands fill what they have.
pub struct Page<'a> {
    /// What ran, e.g. `validate serving.csv`.
    pub title: String,
    /// `None` when nothing was checked (a profile report of one dataset).
    pub verdict: Option<Verdict>,
    pub datasets: Vec<DatasetInfo>,
    pub findings: Vec<Finding>,
    /// The data the page is about.
    pub profile: Option<&'a Profile>,
    /// The data it is compared with (drawn in the second colour).
    pub baseline: Option<&'a Profile>,
    pub drift: Vec<&'a ColumnDrift>,
    /// Short remarks (skipped columns, how drift was computed).
    pub notes: Vec<String>,
    /// The label audit.
    pub labels: Option<labels::Audit<'a>>,
    /// `--by`: a set of cards per slice, which a selector shows instead of the whole
    /// data's; findings go to the set of their slice.
    pub slices: Vec<SliceCards<'a>>,
}

/// One slice's cards: its profile, and for a comparison the baseline's same slice and the
/// drift between them. A side without rows of the slice is `None`.
pub struct SliceCards<'a> {
    pub key: String,
    pub rows: u64,
    /// For a comparison: the slice's rows in the baseline.
    pub baseline_rows: Option<u64>,
    pub profile: Option<&'a Profile>,
    pub baseline: Option<&'a Profile>,
    pub drift: Vec<&'a ColumnDrift>,
}

impl<'a> Page<'a> {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            verdict: None,
            datasets: Vec::new(),
            findings: Vec::new(),
            profile: None,
            baseline: None,
            drift: Vec::new(),
            notes: Vec::new(),
            labels: None,
            slices: Vec::new(),
        }
    }
}

/// The whole page as a string. Control characters from the data (a column named with an
/// escape sequence, a bidi override in a value) are shown as visible escapes (`\u{1b}`),
/// as in the terminal: maud escapes HTML, not these, and the page's own text holds none
/// but line breaks and tabs.
pub fn render(page: &Page) -> String {
    let html = page::page(page).into_string();
    match crate::display::escape_keeping_lines(&html) {
        std::borrow::Cow::Borrowed(_) => html,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

/// Render and write atomically.
pub fn write(path: &Path, page: &Page) -> Result<()> {
    let html = render(page);
    emit(Some(path), |w| {
        w.write_all(html.as_bytes())?;
        Ok(())
    })
}

/// A JSON value from the data as plain text; a string with blanks at either end or
/// control characters in double quotes, escaped (`"Biscoe "` and `Biscoe` are two bars
/// that must not look the same).
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => crate::display::value(s).into_owned(),
        Value::Number(n) => n
            .as_f64()
            .map(crate::render::number::value)
            .unwrap_or_else(|| n.to_string()),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// Cut long text for a label; the full text goes in a tooltip.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}
