//! What every checking command (validate, drift, labels) shares: the check list, the CI
//! formats (JUnit XML, GitHub workflow annotations, Markdown) and the exit-code rule.
//!
//! A command turns its findings into [`Check`]s, one per thing it checked (passed or not),
//! and hands them to [`render`] for the CI formats; its own JSON and table stay its own.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;
use preflight_stats::Severity;
use preflight_stats::drift::MethodKind;
use preflight_stats::drift::plan::{ColumnResult, DriftSummary};

use crate::ExitStatus;
use crate::render::number::opt_stat;

/// Output formats of the checking commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// A table for people.
    Table,
    /// The stable machine contract (see schemas/).
    Json,
    /// JUnit XML: one testcase per check, failures for errors (GitLab, Jenkins).
    Junit,
    /// GitHub Actions workflow commands (`::error ...`), one per failed check.
    Github,
    /// A Markdown summary, e.g. for `$GITHUB_STEP_SUMMARY`.
    Markdown,
}

impl crate::output::Formats for CheckFormat {
    fn by_extension(ext: &str) -> Option<Self> {
        match ext {
            "json" => Some(Self::Json),
            "md" | "markdown" => Some(Self::Markdown),
            "xml" => Some(Self::Junit),
            _ => None,
        }
    }
    const STDOUT: Self = Self::Table;
    const FILE: Self = Self::Json;
}

/// Which severity makes the run fail (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    #[default]
    Error,
    Warning,
}

impl FailOn {
    pub fn fails(self, s: Severity) -> bool {
        match self {
            Self::Error => s == Severity::Error,
            Self::Warning => true,
        }
    }
}

/// One thing a command checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The column checked, or `None` for dataset-level checks.
    pub column: Option<String>,
    /// Stable snake_case name of the check (`missing_column`, `drift`, ...).
    pub kind: String,
    /// `None` when the check passed.
    pub failure: Option<Failure>,
    /// The slice checked (`--by`: `species_Adelie`), or `None` for the whole data.
    pub slice: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub severity: Severity,
    /// One sentence with observed and expected values.
    pub message: String,
}

impl Check {
    pub fn passed(column: Option<String>, kind: impl Into<String>) -> Self {
        Self {
            column,
            kind: kind.into(),
            failure: None,
            slice: None,
        }
    }

    pub fn failed(
        column: Option<String>,
        kind: impl Into<String>,
        severity: Severity,
        message: impl Into<String>,
    ) -> Self {
        Self {
            column,
            kind: kind.into(),
            failure: Some(Failure {
                severity,
                message: message.into(),
            }),
            slice: None,
        }
    }

    /// The same check, of one slice: its name and message say which.
    pub fn in_slice(mut self, slice: &str) -> Self {
        if let Some(f) = &mut self.failure {
            f.message = format!("slice `{slice}`: {}", f.message);
        }
        self.slice = Some(slice.to_string());
        self
    }

    fn name(&self) -> String {
        let name = match &self.column {
            Some(c) => format!("{c}: {}", self.kind),
            None => self.kind.clone(),
        };
        match &self.slice {
            Some(s) => format!("{s} / {name}"),
            None => name,
        }
    }
}

/// Exit status for a finished run: `Failure` when any check fails at `fail_on`.
pub fn status(checks: &[Check], fail_on: FailOn) -> ExitStatus {
    let failing = checks
        .iter()
        .filter_map(|c| c.failure.as_ref())
        .any(|f| fail_on.fails(f.severity));
    if failing {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// The checks of a drift comparison (`drift`, `report --baseline`): the dataset verdict
/// first, then one per result. A result with a schema severity is a schema comparator and
/// fails at that severity; the others are warnings that fail the run only through dataset
/// drift (or --fail-on warning).
pub fn drift_checks(
    results: &[ColumnResult],
    summary: &DriftSummary,
    drift_share: f64,
) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::with_capacity(results.len() + 1);
    checks.push(if summary.dataset_drift {
        Check::failed(
            None,
            "dataset_drift",
            Severity::Error,
            format!(
                "{} of {} columns drifted ({:.0}%), at or above the {:.0}% share that means dataset drift",
                summary.drifted,
                summary.compared,
                summary.share * 100.0,
                drift_share * 100.0
            ),
        )
    } else {
        Check::passed(None, "dataset_drift")
    });
    for r in results {
        let d = &r.drift;
        let (kind, severity) = match r.schema_severity {
            Some(sev) => (format!("drift ({}, schema)", d.method), sev),
            None => (format!("drift ({})", d.method), Severity::Warning),
        };
        checks.push(if d.drifted {
            let what = match d.method.kind() {
                MethodKind::PValue => format!(
                    "p-value {} below threshold {}",
                    opt_stat(d.p_value),
                    d.threshold
                ),
                MethodKind::Distance => format!(
                    "distance {} at or above threshold {}",
                    opt_stat(d.statistic),
                    d.threshold
                ),
            };
            let extra = crate::render::drift::notes(d);
            Check::failed(
                Some(d.column.clone()),
                kind,
                severity,
                if extra.is_empty() {
                    format!("drifted: {what}")
                } else {
                    format!("drifted: {what}; {extra}")
                },
            )
        } else {
            Check::passed(Some(d.column.clone()), kind)
        });
    }
    checks
}

/// The check of a comparison that compared nothing, when it did not: a gate that
/// compared nothing must not pass (issue 12); `allow_empty` makes it a warning.
pub fn nothing_compared_check(reason: Option<&str>, allow_empty: bool) -> Option<Check> {
    let reason = reason?;
    Some(if allow_empty {
        Check::failed(None, "nothing_compared", Severity::Warning, reason)
    } else {
        Check::failed(
            None,
            "nothing_compared",
            Severity::Error,
            format!("{reason} (--allow-empty accepts this)"),
        )
    })
}

/// Counts of failed checks by severity: (errors, warnings).
pub fn tally(checks: &[Check]) -> (usize, usize) {
    checks
        .iter()
        .filter_map(|c| c.failure.as_ref())
        .fold((0, 0), |(e, w), f| match f.severity {
            Severity::Error => (e + 1, w),
            Severity::Warning => (e, w + 1),
        })
}

/// One line a person reads first: `passed`, or `failed: 2 errors, 1 warning`.
pub fn verdict(checks: &[Check], fail_on: FailOn) -> String {
    let (e, w) = tally(checks);
    let plural = |n: usize, s: &str| format!("{n} {s}{}", if n == 1 { "" } else { "s" });
    let word = if status(checks, fail_on) == ExitStatus::Failure {
        "failed"
    } else {
        "passed"
    };
    if e + w == 0 {
        word.to_string()
    } else {
        format!("{word}: {}, {}", plural(e, "error"), plural(w, "warning"))
    }
}

/// Write the CI formats (`Junit`, `Github`, `Markdown`). `suite` names the run (the
/// command and its input), `file` is the input the annotations point at. Table and JSON
/// belong to each command and return `false` here.
pub fn render(
    w: &mut dyn Write,
    format: CheckFormat,
    suite: &str,
    file: &str,
    checks: &[Check],
    fail_on: FailOn,
) -> Result<bool> {
    let text = match format {
        CheckFormat::Junit => junit(suite, checks, fail_on),
        CheckFormat::Github => github(file, checks),
        CheckFormat::Markdown => markdown(suite, checks, fail_on),
        CheckFormat::Table | CheckFormat::Json => return Ok(false),
    };
    // Column names and messages carry the data's text: no escape sequence reaches a CI
    // log or a terminal raw.
    crate::display::Escaping::new(w).write_all(text.as_bytes())?;
    Ok(true)
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even when escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: errors (and warnings under `--fail-on warning`) are `<failure>`s; other
/// warnings are passing testcases with the message in `<system-out>`.
pub fn junit(suite: &str, checks: &[Check], fail_on: FailOn) -> String {
    let failures = checks
        .iter()
        .filter_map(|c| c.failure.as_ref())
        .filter(|f| fail_on.fails(f.severity))
        .count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let suite = xml_escape(suite);
    let _ = writeln!(
        s,
        "<testsuites name=\"preflight\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\">\n  \
         <testsuite name=\"{suite}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        n = checks.len()
    );
    for c in checks {
        let name = xml_escape(&c.name());
        let class = xml_escape(c.column.as_deref().unwrap_or("dataset"));
        match &c.failure {
            None => {
                let _ = writeln!(s, "    <testcase name=\"{name}\" classname=\"{class}\"/>");
            }
            Some(f) => {
                let _ = writeln!(s, "    <testcase name=\"{name}\" classname=\"{class}\">");
                let msg = xml_escape(&f.message);
                if fail_on.fails(f.severity) {
                    let _ = writeln!(
                        s,
                        "      <failure message=\"{msg}\" type=\"{}\">{}: {msg}</failure>",
                        f.severity, f.severity
                    );
                } else {
                    let _ = writeln!(s, "      <system-out>{}: {msg}</system-out>", f.severity);
                }
                s.push_str("    </testcase>\n");
            }
        }
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

/// GitHub's workflow-command escaping for the message and for property values.
fn gh_escape(s: &str, property: bool) -> String {
    let mut out = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

/// `::error file=F,title=T::message` per failed check, errors first.
pub fn github(file: &str, checks: &[Check]) -> String {
    let mut failed: Vec<(&Check, &Failure)> = checks
        .iter()
        .filter_map(|c| c.failure.as_ref().map(|f| (c, f)))
        .collect();
    failed.sort_by_key(|(_, f)| std::cmp::Reverse(f.severity));
    let mut s = String::new();
    for (c, f) in failed {
        let _ = writeln!(
            s,
            "::{} file={},title={}::{}",
            f.severity,
            gh_escape(file, true),
            gh_escape(&format!("preflight {}", c.name()), true),
            gh_escape(&f.message, false)
        );
    }
    s
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A verdict line and a table of the failed checks, errors first.
pub fn markdown(suite: &str, checks: &[Check], fail_on: FailOn) -> String {
    let mut s = String::new();
    let icon = if status(checks, fail_on) == ExitStatus::Failure {
        "❌"
    } else {
        "✅"
    };
    let _ = writeln!(
        s,
        "### {icon} preflight {}: {}\n",
        md_cell(suite),
        verdict(checks, fail_on)
    );
    let _ = writeln!(s, "{} checks run.\n", checks.len());
    let mut failed: Vec<(&Check, &Failure)> = checks
        .iter()
        .filter_map(|c| c.failure.as_ref().map(|f| (c, f)))
        .collect();
    if failed.is_empty() {
        return s;
    }
    failed.sort_by_key(|(_, f)| std::cmp::Reverse(f.severity));
    s.push_str("| severity | column | check | message |\n|---|---|---|---|\n");
    for (c, f) in failed {
        let _ = writeln!(
            s,
            "| {} | {} | `{}` | {} |",
            f.severity,
            md_cell(c.column.as_deref().unwrap_or("(dataset)")),
            c.kind,
            md_cell(&f.message)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use preflight_stats::drift::Method;
    use preflight_stats::drift::compare::ColumnDrift;

    use super::*;

    fn sample() -> Vec<Check> {
        vec![
            Check::passed(Some("bill_length_mm".into()), "type"),
            Check::failed(
                Some("a<b>&\"c\"".into()),
                "missing_column",
                Severity::Error,
                "column `a<b>` is missing, 100%\nof rows",
            ),
            Check::failed(
                None,
                "row_count",
                Severity::Warning,
                "rows: 3, expected >= 10",
            ),
        ]
    }

    #[test]
    fn exit_status_follows_fail_on() {
        let c = sample();
        assert_eq!(status(&c, FailOn::Error), ExitStatus::Failure);
        assert_eq!(status(&c[2..], FailOn::Error), ExitStatus::Success);
        assert_eq!(status(&c[2..], FailOn::Warning), ExitStatus::Failure);
        assert_eq!(verdict(&c, FailOn::Error), "failed: 1 error, 1 warning");
        assert_eq!(verdict(&c[..1], FailOn::Error), "passed");
    }

    #[test]
    fn junit_snapshot() {
        let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="preflight" tests="3" failures="1" errors="0">
  <testsuite name="validate x.csv" tests="3" failures="1" errors="0" skipped="0">
    <testcase name="bill_length_mm: type" classname="bill_length_mm"/>
    <testcase name="a&lt;b&gt;&amp;&quot;c&quot;: missing_column" classname="a&lt;b&gt;&amp;&quot;c&quot;">
      <failure message="column `a&lt;b&gt;` is missing, 100%
of rows" type="error">error: column `a&lt;b&gt;` is missing, 100%
of rows</failure>
    </testcase>
    <testcase name="row_count" classname="dataset">
      <system-out>warning: rows: 3, expected &gt;= 10</system-out>
    </testcase>
  </testsuite>
</testsuites>
"#;
        assert_eq!(junit("validate x.csv", &sample(), FailOn::Error), expected);
    }

    #[test]
    fn github_snapshot() {
        let expected = "::error file=data/x.csv,title=preflight a<b>&\"c\"%3A missing_column::column `a<b>` is missing, 100%25%0Aof rows\n\
                        ::warning file=data/x.csv,title=preflight row_count::rows: 3, expected >= 10\n";
        assert_eq!(github("data/x.csv", &sample()), expected);
    }

    #[test]
    fn markdown_snapshot() {
        let expected = "### ❌ preflight validate x.csv: failed: 1 error, 1 warning\n\n3 checks run.\n\n\
| severity | column | check | message |\n|---|---|---|---|\n\
| error | a<b>&\"c\" | `missing_column` | column `a<b>` is missing, 100% of rows |\n\
| warning | (dataset) | `row_count` | rows: 3, expected >= 10 |\n";
        assert_eq!(
            markdown("validate x.csv", &sample(), FailOn::Error),
            expected
        );
    }

    fn drift(column: &str, method: Method, stat: f64, drifted: bool) -> ColumnDrift {
        ColumnDrift {
            column: column.into(),
            type_name: "double".into(),
            method,
            statistic: Some(stat),
            p_value: (method.kind() == MethodKind::PValue).then_some(0.01),
            threshold: 0.1,
            drifted,
            exact: true,
            sketch_error: None,
            reference_values: 10,
            current_values: 10,
            reference_missing: 0,
            current_missing: 0,
            unseen_categories: vec![],
            unseen_count: None,
            out_of_range: None,
            peak: None,
            cramers_v: None,
            wasserstein_distance: None,
        }
    }

    #[test]
    fn drift_checks_put_the_verdict_first_and_fail_schema_comparators_at_their_severity() {
        let results = vec![
            ColumnResult {
                drift: drift("a", Method::Psi, 0.25, true),
                label: false,
                schema_severity: Some(Severity::Error),
            },
            ColumnResult {
                drift: drift("b", Method::Ks, 0.3, true),
                label: false,
                schema_severity: None,
            },
            ColumnResult {
                drift: drift("c", Method::Psi, 0.05, false),
                label: false,
                schema_severity: None,
            },
        ];
        let summary = DriftSummary {
            compared: 3,
            drifted: 2,
            share: 2.0 / 3.0,
            dataset_drift: true,
        };
        let checks = drift_checks(&results, &summary, 0.5);
        assert_eq!(checks.len(), 4);
        assert_eq!(
            checks[0].failure.as_ref().unwrap().message,
            "2 of 3 columns drifted (67%), at or above the 50% share that means dataset drift"
        );
        assert_eq!(checks[1].kind, "drift (psi, schema)");
        assert_eq!(
            checks[1].failure,
            Some(Failure {
                severity: Severity::Error,
                message: "drifted: distance 0.2500 at or above threshold 0.1".into()
            })
        );
        assert_eq!(checks[2].kind, "drift (ks)");
        assert_eq!(
            checks[2].failure.as_ref().unwrap().message,
            "drifted: p-value 0.0100 below threshold 0.1"
        );
        assert_eq!(
            checks[2].failure.as_ref().unwrap().severity,
            Severity::Warning
        );
        assert_eq!(checks[3], Check::passed(Some("c".into()), "drift (psi)"));

        assert_eq!(nothing_compared_check(None, false), None);
        let c = nothing_compared_check(Some("nothing"), false).unwrap();
        assert_eq!(
            c.failure.unwrap(),
            Failure {
                severity: Severity::Error,
                message: "nothing (--allow-empty accepts this)".into()
            }
        );
        let c = nothing_compared_check(Some("nothing"), true).unwrap();
        assert_eq!(c.failure.unwrap().severity, Severity::Warning);
    }
}
