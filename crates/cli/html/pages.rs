//! The pages of the commands: a comparison of two sides (`drift --html`, `report
//! --baseline`), a validation (`validate --html`), and a plain list of checks (`skew
//! --html`).

use std::path::Path;

use preflight_schema::validate::Anomaly;
use preflight_stats::drift::compare::{ColumnDrift, Skipped};
use preflight_stats::profile::Profile;

use super::{DatasetInfo, Finding, Page, SliceCards, Verdict};
use crate::checks::{Check, FailOn};
use crate::load::Side;

/// How a page names where a side came from.
pub(crate) fn source(s: &Side) -> &'static str {
    if s.dataset.is_some() {
        "data"
    } else {
        "stored profile"
    }
}

/// The page of a comparison: `sides` is (name, side) of the reference, then the current
/// data. Drift results show on the cards; the findings list the dataset verdict and
/// checks other than per-column drift (already on the cards and in the drifted list).
pub(crate) fn drift_page<'a>(
    title: String,
    sides: [(&str, &'a Side); 2],
    results: Vec<&'a ColumnDrift>,
    skipped: &[Skipped],
    checks: &[Check],
    fail_on: FailOn,
) -> Page<'a> {
    let [(ref_name, reference), (cur_name, current)] = sides;
    let mut page = Page::new(title);
    page.verdict = Some(Verdict::from_checks(checks, fail_on));
    page.datasets = vec![
        DatasetInfo::of_profile(cur_name, &current.profile, source(current)),
        DatasetInfo::of_profile(ref_name, &reference.profile, source(reference)),
    ];
    page.findings = Finding::from_checks(checks)
        .into_iter()
        .filter(|f| !f.kind.starts_with("drift ("))
        .collect();
    page.profile = Some(&current.profile);
    page.baseline = Some(&reference.profile);
    let exact = results.iter().filter(|d| d.exact).count();
    if !results.is_empty() {
        page.notes.push(format!(
            "Drift: {} column results, {exact} exact (every value), {} from the profiles' sketches.",
            results.len(),
            results.len() - exact
        ));
    }
    page.drift = results;
    if !skipped.is_empty() {
        let shown: Vec<String> = skipped
            .iter()
            .take(10)
            .map(|s| format!("{} ({})", s.column, s.reason))
            .collect();
        let more = if skipped.len() > 10 {
            format!(" and {} more", skipped.len() - 10)
        } else {
            String::new()
        };
        page.notes
            .push(format!("Not compared: {}{more}.", shown.join("; ")));
    }
    page
}

/// The page of `validate --html`: the profile validated, with each anomaly on its column's
/// card (missing columns get a card of their own) and all of them at the top.
pub(crate) fn validation_page<'a>(
    title: String,
    profile: &'a Profile,
    schema: &Path,
    anomalies: &[&Anomaly],
    checks: &[Check],
    fail_on: FailOn,
) -> Page<'a> {
    let mut page = Page::new(title);
    page.verdict = Some(Verdict::from_checks(checks, fail_on));
    page.datasets = vec![DatasetInfo::of_profile("data", profile, "data")];
    page.notes.push(format!(
        "Validated against the schema {}.",
        schema.display()
    ));
    page.findings = Finding::from_anomalies(anomalies);
    page.profile = Some(profile);
    page
}

/// A page of any command's checks: the verdict, the failed checks at the top and on a
/// card per column (e.g. `skew --html`).
pub(crate) fn checks_page<'a>(
    title: String,
    inputs: [(&str, &[String]); 2],
    checks: &[Check],
    fail_on: FailOn,
) -> Page<'a> {
    let mut page = Page::new(title);
    page.verdict = Some(Verdict::from_checks(checks, fail_on));
    page.datasets = inputs
        .iter()
        .map(|(role, files)| DatasetInfo {
            role: (*role).to_string(),
            inputs: files.to_vec(),
            rows: None,
            columns: None,
            source: "data",
        })
        .collect();
    page.findings = Finding::from_checks(checks);
    page
}

/// The cards of each slice of a comparison (`drift --by`, `report --baseline --by`).
pub(crate) fn drift_slices(s: &crate::slices::SlicedDrift) -> Vec<SliceCards<'_>> {
    s.slices
        .iter()
        .map(|x| SliceCards {
            key: x.slice.clone(),
            rows: x.current_rows,
            baseline_rows: Some(x.reference_rows),
            profile: x.current.as_ref().map(|s| &s.profile),
            baseline: x.reference.as_ref().map(|s| &s.profile),
            drift: x.results.iter().map(|r| &r.drift).collect(),
        })
        .collect()
}

/// The cards of each slice of one dataset (`report --by`).
pub(crate) fn profile_slices(s: &preflight_stats::slice::Sliced) -> Vec<SliceCards<'_>> {
    s.slices
        .iter()
        .map(|x| SliceCards {
            key: x.key.clone(),
            rows: x.rows,
            baseline_rows: None,
            profile: Some(&x.profile),
            baseline: None,
            drift: Vec::new(),
        })
        .collect()
}
