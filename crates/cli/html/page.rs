//! The page template: header with the verdict, datasets, findings, the label audit, then
//! one card per feature (issues first) under a filter and sort bar.

use std::collections::HashMap;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use preflight_stats::Severity;
use preflight_stats::drift::MethodKind;
use preflight_stats::drift::compare::ColumnDrift;
use preflight_stats::profile::{ColumnProfile, Kind, Profile};

use super::charts::{self, BarRow, HistSide};
use super::{Finding, Page, TOP_FINDINGS, clip, value_text};
use crate::render::number::{count, duration_value, percent, temporal_cells, value as num};

pub(crate) const CSS: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("script.js");
/// Rows of a bar chart of top values.
const BAR_ROWS: usize = 10;

/// One feature's card: its profile on each side, drift results and findings.
struct Feature<'a> {
    name: &'a str,
    cur: Option<&'a ColumnProfile>,
    base: Option<&'a ColumnProfile>,
    drift: Vec<&'a ColumnDrift>,
    findings: Vec<&'a Finding>,
}

impl Feature<'_> {
    /// 0: an error, 1: a warning or drift, 2: nothing found.
    fn rank(&self) -> u8 {
        if self.findings.iter().any(|f| f.severity == Severity::Error) {
            0
        } else if !self.findings.is_empty() || self.drift.iter().any(|d| d.drifted) {
            1
        } else {
            2
        }
    }

    /// How far past its threshold the worst drift result is (> 1 drifted); -1 without.
    fn drift_score(&self) -> f64 {
        self.drift
            .iter()
            .map(|d| drift_score(d))
            .fold(-1.0, f64::max)
    }

    fn missing(&self) -> f64 {
        self.cur.or(self.base).map_or(0.0, |c| c.missing_fraction)
    }
}

fn drift_score(d: &ColumnDrift) -> f64 {
    let score = match d.method.kind() {
        MethodKind::PValue => match d.p_value {
            Some(p) if p > 0.0 => d.threshold / p,
            _ => f64::MAX,
        },
        MethodKind::Distance => match d.statistic {
            Some(s) if d.threshold > 0.0 => s / d.threshold,
            _ => f64::MAX,
        },
    };
    score.min(1e9)
}

/// The cards of the whole data: the findings of no slice.
fn features<'a>(page: &'a Page) -> Vec<Feature<'a>> {
    features_of(
        page.profile,
        page.baseline,
        &page.drift,
        page.findings.iter().filter(|f| f.slice.is_none()),
    )
}

/// One card per column of either side, with its drift results and findings; issues
/// first, each group in column order.
fn features_of<'a>(
    profile: Option<&'a Profile>,
    baseline: Option<&'a Profile>,
    drift: &[&'a ColumnDrift],
    findings: impl Iterator<Item = &'a Finding>,
) -> Vec<Feature<'a>> {
    let mut out: Vec<Feature<'a>> = Vec::new();
    let mut at: HashMap<&'a str, usize> = HashMap::new();
    let mut slot = |name: &'a str, out: &mut Vec<Feature<'a>>| -> usize {
        *at.entry(name).or_insert_with(|| {
            out.push(Feature {
                name,
                cur: None,
                base: None,
                drift: Vec::new(),
                findings: Vec::new(),
            });
            out.len() - 1
        })
    };
    if let Some(p) = profile {
        for c in &p.columns {
            let i = slot(&c.name, &mut out);
            out[i].cur = Some(c);
        }
    }
    if let Some(p) = baseline {
        for c in &p.columns {
            let i = slot(&c.name, &mut out);
            out[i].base = Some(c);
        }
    }
    for d in drift {
        let i = slot(&d.column, &mut out);
        out[i].drift.push(d);
    }
    for f in findings {
        if let Some(c) = &f.column {
            let i = slot(c, &mut out);
            out[i].findings.push(f);
        }
    }
    // Issues first, each group in column order (the sort is stable).
    out.sort_by_key(Feature::rank);
    out
}

/// A slice's key in a URL fragment (`#slice=...`): every byte but letters, digits and
/// `-_.` percent-encoded, as `URLSearchParams` decodes it.
fn fragment_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A slice's set of cards and what the selector and the slice table say of it.
struct SliceSet<'a> {
    key: &'a str,
    rows: u64,
    baseline_rows: Option<u64>,
    feats: Vec<Feature<'a>>,
    errors: usize,
    warnings: usize,
    drifted: usize,
    /// Whether the page holds its cards (see [`MAX_SLICE_CARDS`]).
    shown: bool,
}

/// The slices' cards on one page at most: beyond, a slice is listed in the slice table
/// without cards (5,000 features by 100 slices would be half a million cards).
const MAX_SLICE_CARDS: usize = 100_000;

fn slice_sets<'a>(page: &'a Page) -> Vec<SliceSet<'a>> {
    page.slices
        .iter()
        .map(|s| {
            let mine = || {
                page.findings
                    .iter()
                    .filter(|f| f.slice.as_deref() == Some(&s.key))
            };
            let errors = mine().filter(|f| f.severity == Severity::Error).count();
            let warnings = mine().count() - errors;
            let feats = features_of(s.profile, s.baseline, &s.drift, mine());
            let drifted = feats
                .iter()
                .filter(|f| f.drift.iter().any(|d| d.drifted))
                .count();
            SliceSet {
                key: &s.key,
                rows: s.rows,
                baseline_rows: s.baseline_rows,
                feats,
                errors,
                warnings,
                drifted,
                shown: true,
            }
        })
        .scan(0usize, |cards, mut set: SliceSet<'a>| {
            *cards += set.feats.len();
            if *cards > MAX_SLICE_CARDS {
                set.shown = false;
                set.feats.clear();
            }
            Some(set)
        })
        .collect()
}

fn rows_text(rows: u64, baseline: Option<u64>) -> String {
    match baseline {
        Some(b) => format!("{} / {} rows", count(rows), count(b)),
        None => format!("{} rows", count(rows)),
    }
}

/// Pages with more features than this render card bodies lazily (see `card`); smaller
/// pages are plain HTML, which prints and reads without the script.
pub const LAZY_ABOVE: usize = 200;

pub fn page(page: &Page) -> Markup {
    let feats = features(page);
    let sets = slice_sets(page);
    let lazy = feats.len() + sets.iter().map(|s| s.feats.len()).sum::<usize>() > LAZY_ABOVE;
    let card_of: HashMap<&str, usize> =
        feats.iter().enumerate().map(|(i, f)| (f.name, i)).collect();
    let names = side_names(page);
    let two = page.baseline.is_some();
    let mut findings: Vec<&Finding> = page.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let drifted: Vec<&&ColumnDrift> = page.drift.iter().filter(|d| d.drifted).collect();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { "preflight: " (page.title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header.top {
                    h1 { "preflight " span.cmd { (page.title) } }
                    @if let Some(v) = &page.verdict {
                        p.verdict.fail[v.failed].pass[!v.failed] {
                            (if v.failed { "✗ " } else { "✓ " }) (v.text)
                            span.muted { " (" (v.checks) " checks)" }
                        }
                    } @else if let Some(p) = page.profile {
                        p.verdict.info { (profile_verdict(p)) }
                    }
                    @if !page.datasets.is_empty() {
                        table.ds {
                            thead { tr { th { "" } th { "inputs" } th.r { "rows" } th.r { "columns" } th { "from" } } }
                            tbody {
                                @for (i, d) in page.datasets.iter().enumerate() {
                                    tr {
                                        td { @if two && i < 2 { span.key.cur[i == 0].base[i == 1] {} } " " (d.role) }
                                        td.src { (d.inputs.join(" ")) }
                                        td.r { (d.rows.map(count).unwrap_or_default()) }
                                        td.r { (d.columns.map(|c| count(c as u64)).unwrap_or_default()) }
                                        td { (d.source) }
                                    }
                                }
                            }
                        }
                    }
                    @for n in &page.notes { p.note { (n) } }
                }
                @if !findings.is_empty() || !drifted.is_empty() {
                    section #findings {
                        h2 { "Findings" }
                        @if !findings.is_empty() {
                            table.fd {
                                thead { tr { th { "severity" } th { "column" } th { "check" } th { "message" } } }
                                tbody {
                                    @for f in findings.iter().take(TOP_FINDINGS) {
                                        tr {
                                            td { span class={"sev " (f.severity)} { (f.severity) } }
                                            td { @if f.slice.is_some() { (f.column.as_deref().unwrap_or("(dataset)")) } @else { (column_link(f.column.as_deref(), &card_of)) } }
                                            td { code { (f.kind) } }
                                            td { (f.message) (examples(&f.examples)) }
                                        }
                                    }
                                }
                            }
                            @if findings.len() > TOP_FINDINGS {
                                p.note { (findings.len() - TOP_FINDINGS) " more findings are listed on their features' cards." }
                            }
                        }
                        @if !drifted.is_empty() {
                            p { b { "Drifted: " } (drifted.len()) " column results"
                                @if page.drift.len() > drifted.len() { " of " (page.drift.len()) }
                                ": "
                                @for (i, d) in drifted.iter().take(50).enumerate() {
                                    @if i > 0 { ", " }
                                    (column_link(Some(&d.column), &card_of))
                                }
                                @if drifted.len() > 50 { ", …" }
                            }
                        }
                    }
                }
                @if !sets.is_empty() {
                    section #slices {
                        h2 { "Slices" }
                        @let cut = sets.iter().filter(|s| !s.shown).count();
                        @if cut > 0 {
                            p.note { "The cards of " (cut) " slices are left out: the page would hold more than " (count(MAX_SLICE_CARDS as u64)) " cards. `preflight profile --by --format json` has every slice's profile." }
                        }
                        table.fd {
                            thead { tr { th { "slice" } th.r { @if two { "rows (data / baseline)" } @else { "rows" } } th.r { "errors" } th.r { "warnings" } @if two { th.r { "drifted columns" } } } }
                            tbody {
                                tr {
                                    td { a href="#slice=" { "whole data" } }
                                    td.r { (rows_text(page.profile.map_or(0, |p| p.row_count), page.baseline.map(|p| p.row_count))) }
                                    td.r {} td.r {} @if two { td.r { (drifted.len()) } }
                                }
                                @for s in &sets {
                                    tr {
                                        td { @if s.shown { a href={"#slice=" (fragment_value(s.key))} { (s.key) } } @else { (s.key) } }
                                        td.r { (rows_text(s.rows, s.baseline_rows)) }
                                        td.r { (s.errors) } td.r { (s.warnings) }
                                        @if two { td.r { (s.drifted) } }
                                    }
                                }
                            }
                        }
                    }
                }
                @if let Some(l) = page.labels { (super::labels::section(l)) }
                @if !feats.is_empty() || !sets.is_empty() {
                    section #features {
                        h2 { "Features" }
                        div.tools {
                            @if !sets.is_empty() {
                                label { "Slice " select #slice aria-label="slice" {
                                    option value="" { "whole data (" (rows_text(page.profile.map_or(0, |p| p.row_count), page.baseline.map(|p| p.row_count))) ")" }
                                    @for s in sets.iter().filter(|s| s.shown) { option value=(s.key) { (s.key) " (" (rows_text(s.rows, s.baseline_rows)) ")" } }
                                } }
                            }
                            input #q type="search" placeholder="Filter features by name" aria-label="filter features";
                            label { "Sort " select #sort {
                                option value="i" { "issues first" }
                                option value="n" { "name" }
                                option value="m" { "missing %" }
                                @if !page.drift.is_empty() { option value="d" { "drift" } }
                            } }
                            label { input #only type="checkbox"; " only with findings" }
                            span #shown.muted { (feats.len()) " features" }
                            @if two {
                                span.legend { span.key.cur {} " " (names.0) " " span.key.base {} " " (names.1) }
                            }
                        }
                        div #cards .cards data-slice="" {
                            @for (i, f) in feats.iter().enumerate() { (card(&format!("c{i}"), f, two, &names, lazy)) }
                        }
                        @for (j, s) in sets.iter().enumerate().filter(|(_, s)| s.shown) {
                            div.cards data-slice=(s.key) hidden {
                                @for (i, f) in s.feats.iter().enumerate() { (card(&format!("s{j}c{i}"), f, two, &names, lazy)) }
                            }
                        }
                    }
                }
                footer.muted { "Written by preflight " (env!("CARGO_PKG_VERSION")) ". Self-contained: no network requests." }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

/// The line a profile report shows where a checking command shows its verdict: nothing
/// was checked, but these are what a reader looks for first.
fn profile_verdict(p: &Profile) -> String {
    let columns = |f: &dyn Fn(&ColumnProfile) -> bool| p.columns.iter().filter(|c| f(c)).count();
    let with_missing = columns(&|c| c.missing > 0);
    let all_missing = columns(&|c| c.count > 0 && c.missing == c.count);
    let constant = columns(&|c| c.present > 0 && c.distinct == Some(1));
    let mut parts = vec![format!(
        "{} rows, {} columns; nothing checked",
        count(p.row_count),
        count(p.columns.len() as u64)
    )];
    parts.push(format!("{with_missing} with missing values"));
    if all_missing > 0 {
        parts.push(format!("{all_missing} entirely missing"));
    }
    if constant > 0 {
        parts.push(format!("{constant} constant"));
    }
    parts.join(" · ")
}

fn side_names(page: &Page) -> (String, String) {
    let role = |i: usize, d: &str| {
        page.datasets
            .get(i)
            .map_or_else(|| d.to_string(), |x| x.role.clone())
    };
    (role(0, "current"), role(1, "baseline"))
}

fn column_link(column: Option<&str>, card_of: &HashMap<&str, usize>) -> Markup {
    html! {
        @match column {
            None => { span.muted { "(dataset)" } }
            Some(c) => {
                @match card_of.get(c) {
                    Some(i) => { a href={"#c" (i)} { (c) } }
                    None => { (c) }
                }
            }
        }
    }
}

fn examples(ex: &[String]) -> Markup {
    html! {
        @if !ex.is_empty() {
            span.ex { " e.g. " (ex.join("; ")) }
        }
    }
}

/// The statistics rows of a column: (label, text).
fn stats(c: &ColumnProfile) -> Vec<(&'static str, String)> {
    let mut s = vec![(
        "missing",
        format!("{} ({})", count(c.missing), percent(c.missing_fraction)),
    )];
    if let Some(d) = c.distinct {
        let approx = if c.distinct_exact == Some(false) {
            "~"
        } else {
            ""
        };
        s.push(("distinct", format!("{approx}{}", count(d))));
    }
    if let Some([min, median, max]) = temporal_cells(c) {
        s.push(("min", min));
        s.push(("median", median));
        s.push(("max", max));
    } else if let Some(n) = &c.numeric {
        let o = |x: Option<f64>| x.map(num).unwrap_or_default();
        s.push(("min", o(n.min)));
        s.push(("median", o(n.median)));
        s.push(("max", o(n.max)));
        s.push(("mean", o(n.mean)));
        s.push(("std dev", o(n.std_dev)));
        if n.zeros > 0 {
            s.push(("zeros", n.zeros.to_string()));
        }
        if n.nan + n.pos_inf + n.neg_inf > 0 {
            s.push((
                "NaN / ±inf",
                format!("{} / {} / {}", n.nan, n.pos_inf, n.neg_inf),
            ));
        }
    }
    if let Some(l) = c.string.as_ref().or(c.binary.as_ref()) {
        let o = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_default();
        s.push((
            "length",
            format!(
                "{}–{} (avg {})",
                o(l.min_length),
                o(l.max_length),
                l.avg_length.map(num).unwrap_or_default()
            ),
        ));
    }
    if let Some(l) = &c.list {
        s.push((
            "values/row",
            format!(
                "{}–{}",
                l.min_values.map(|v| v.to_string()).unwrap_or_default(),
                l.max_values.map(|v| v.to_string()).unwrap_or_default()
            ),
        ));
    }
    if c.numeric.is_none()
        && let Some(t) = c.top_values.first()
    {
        s.push((
            "top",
            format!("{} ({})", clip(&value_text(&t.value), 24), count(t.count)),
        ));
    }
    s
}

fn hist_side(c: &ColumnProfile) -> Option<HistSide<'_>> {
    let n = c.numeric.as_ref()?;
    if n.histogram.is_empty() {
        return None;
    }
    let (min_text, max_text) = match temporal_cells(c) {
        Some([min, _, max]) => (min, max),
        None => (
            n.min.map(num).unwrap_or_default(),
            n.max.map(num).unwrap_or_default(),
        ),
    };
    Some(HistSide {
        buckets: &n.histogram,
        min_text,
        max_text,
    })
}

/// Shares of the most frequent values on each side (union, largest first), plus the rest.
fn bar_rows(cur: Option<&ColumnProfile>, base: Option<&ColumnProfile>) -> Vec<BarRow> {
    let shares = |c: Option<&ColumnProfile>| -> Vec<(String, f64)> {
        c.filter(|c| c.present > 0)
            .map(|c| {
                c.top_values
                    .iter()
                    .map(|t| {
                        let text =
                            duration_value(c, &t.value).unwrap_or_else(|| value_text(&t.value));
                        (text, t.count as f64 / c.present as f64)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (a, b) = (shares(cur), shares(base));
    let mut labels: Vec<(String, f64)> = Vec::new();
    for (l, v) in a.iter().chain(b.iter()) {
        match labels.iter_mut().find(|(x, _)| x == l) {
            Some(e) => e.1 = e.1.max(*v),
            None => labels.push((l.clone(), *v)),
        }
    }
    labels.sort_by(|x, y| y.1.total_cmp(&x.1));
    labels.truncate(BAR_ROWS);
    let find = |side: &[(String, f64)], present: bool, l: &str| -> Option<f64> {
        if !present {
            return None;
        }
        Some(side.iter().find(|(x, _)| x == l).map_or(0.0, |(_, v)| *v))
    };
    let (has_a, has_b) = (cur.is_some(), base.is_some());
    let mut rows: Vec<BarRow> = labels
        .iter()
        .map(|(l, _)| BarRow {
            label: l.clone(),
            cur: find(&a, has_a, l),
            base: find(&b, has_b, l),
        })
        .collect();
    let rest = |side: &[(String, f64)], present: bool| -> Option<f64> {
        present.then(|| {
            let shown: f64 = side
                .iter()
                .filter(|(x, _)| labels.iter().any(|(l, _)| l == x))
                .map(|(_, v)| v)
                .sum();
            let distinct = side.len();
            // Values beyond the top list, when the column has more than were listed.
            if distinct == 0 {
                0.0
            } else {
                (1.0 - shown).max(0.0)
            }
        })
    };
    let (ra, rb) = (rest(&a, has_a), rest(&b, has_b));
    if ra.unwrap_or(0.0) > 0.005 || rb.unwrap_or(0.0) > 0.005 {
        rows.push(BarRow {
            label: "(other values)".into(),
            cur: ra,
            base: rb,
        });
    }
    rows
}

fn chart(f: &Feature) -> Option<Markup> {
    let numeric = |c: &ColumnProfile| c.kind.is_numeric() && c.numeric.is_some();
    let (cur, base) = (f.cur, f.base);
    if cur.is_some_and(numeric) || base.is_some_and(numeric) {
        let a = cur.filter(|c| numeric(c)).and_then(hist_side);
        let b = base.filter(|c| numeric(c)).and_then(hist_side);
        if let Some(h) = charts::histogram(a.as_ref(), b.as_ref()) {
            return Some(h);
        }
    }
    let categorical = |c: &ColumnProfile| {
        !c.top_values.is_empty() && matches!(c.kind, Kind::String | Kind::Boolean)
    };
    if cur.is_some_and(categorical) || base.is_some_and(categorical) {
        return charts::bars(&bar_rows(cur, base));
    }
    None
}

fn drift_line(d: &ColumnDrift) -> Markup {
    let f = |x: Option<f64>| match x {
        None => "∞".to_string(),
        Some(v) if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) => format!("{v:.2e}"),
        Some(v) => format!("{v:.4}"),
    };
    html! {
        li class=[d.drifted.then_some("drifted")] {
            b { (if d.drifted { "drifted" } else { "stable" }) } " · " (d.method.as_str()) ": "
            @match d.method.kind() {
                MethodKind::PValue => {
                    "p-value " (f(d.p_value)) (if d.drifted { " < " } else { " ≥ " }) "threshold " (d.threshold)
                    @if d.statistic.is_some() { " (statistic " (f(d.statistic)) ")" }
                }
                MethodKind::Distance => {
                    "distance " (f(d.statistic)) (if d.drifted { " ≥ " } else { " < " }) "threshold " (d.threshold)
                }
            }
            @if !d.exact { span.muted { " · from sketches" @if let Some(e) = d.sketch_error { " (±" (f(Some(e))) ")" } } }
            @if let Some(u) = d.unseen_count { span.muted { " · " (u) " rows in unseen categories" } }
        }
    }
}

/// A number for sorting, in few bytes.
fn short(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn card(id: &str, f: &Feature, two: bool, names: &(String, String), lazy: bool) -> Markup {
    let rank = f.rank();
    let kind = f.cur.or(f.base).map(|c| c.type_name.as_str()).unwrap_or("");
    let cur_stats = f.cur.map(stats);
    let base_stats = f.base.map(stats);
    // Row labels in order, from whichever side has more.
    let mut labels: Vec<&str> = Vec::new();
    for s in [&cur_stats, &base_stats].into_iter().flatten() {
        for (l, _) in s {
            if !labels.contains(l) {
                labels.push(l);
            }
        }
    }
    let cell = |s: &Option<Vec<(&str, String)>>, l: &str| -> String {
        s.as_ref()
            .and_then(|s| s.iter().find(|(x, _)| *x == l).map(|(_, v)| v.clone()))
            .unwrap_or_default()
    };
    let errors = f
        .findings
        .iter()
        .filter(|x| x.severity == Severity::Error)
        .count();
    let warnings = f.findings.len() - errors;
    let drifted = f.drift.iter().any(|d| d.drifted);
    let body = html! {
        @if let Some(c) = chart(f) { div.v { (c) } }
        @if !labels.is_empty() {
            table.s {
                @if two { tr { th {} th title=(names.0) { span.key.cur {} } th title=(names.1) { span.key.base {} } } }
                @for l in &labels {
                    tr {
                        th { (l) }
                        td { (cell(&cur_stats, l)) }
                        @if two { td { (cell(&base_stats, l)) } }
                    }
                }
            }
        }
        @if !f.drift.is_empty() { ul.dr { @for d in &f.drift { (drift_line(d)) } } }
        @if !f.findings.is_empty() {
            ul.f {
                @for x in &f.findings {
                    li class=(x.severity) { b { (x.kind) } ": " (x.message) (examples(&x.examples)) }
                }
            }
        }
    };
    // Lazily: the body waits as an inert data block (the parser only scans it for its end
    // tag) until the script shows the card. Escaped data cannot contain `</script` or
    // `<!--`; if the markup ever did, the card stays inline.
    let body = body.into_string();
    let lazy = lazy && {
        let lower = body.to_ascii_lowercase();
        !lower.contains("</script") && !lower.contains("<!--")
    };
    html! {
        article.card.lz[lazy] id=(id) data-n=(f.name.to_lowercase()) data-m=(short(f.missing()))
            data-d=(short(f.drift_score())) data-r=(rank) {
            header {
                h3 title=(f.name) { (f.name) }
                span.t { (kind) }
                @if errors > 0 { span.sev.error { (errors) " error" @if errors > 1 { "s" } } }
                @if warnings > 0 { span.sev.warning { (warnings) " warning" @if warnings > 1 { "s" } } }
                @if drifted { span.sev.drift { "drifted" } }
                @if two && f.cur.is_none() && f.base.is_some() { span.sev.warning { "only in baseline" } }
                @if two && f.base.is_none() && f.cur.is_some() { span.sev.warning { "new" } }
            }
            @if lazy {
                script type="text/x-card" { (PreEscaped(&body)) }
            } @else {
                (PreEscaped(&body))
            }
        }
    }
}
