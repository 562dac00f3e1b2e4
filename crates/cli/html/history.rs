//! The page of `history --html`: one metric's series as an inline SVG line chart with
//! its expected band and its anomalies, and the points as a table. Same stylesheet and
//! escaping as the other pages.

use std::fmt::Write as _;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use preflight_schema::history::WalkedPoint;

use crate::render::number::value as num;

const W: f64 = 760.0;
const H: f64 = 260.0;
const X0: f64 = 56.0;
const X1: f64 = 748.0;
const Y0: f64 = 14.0;
const Y1: f64 = 226.0;

const EXTRA_CSS: &str = ".series .band{fill:var(--base);fill-opacity:.25;stroke:none}\
.series .line{fill:none;stroke:var(--cur);stroke-width:1.5}\
.series .pt{fill:var(--cur)}.series .an{fill:var(--err);stroke:var(--err)}\
.series .grid{stroke:var(--line);stroke-width:1}";

/// The chart: the band of judged points as one closed path (upper edge forward, lower
/// edge back; a gap where a point was not judged or a side is open), the values as one
/// line, each anomaly as a red dot.
fn chart(points: &[WalkedPoint]) -> Markup {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in points {
        for v in [Some(p.value), p.lower, p.upper].into_iter().flatten() {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi <= lo {
        (lo, hi) = (lo - 1.0, hi + 1.0);
    }
    let n = points.len().max(2) - 1;
    let x = |i: usize| X0 + (X1 - X0) * i as f64 / n as f64;
    let y = |v: f64| Y1 - (Y1 - Y0) * ((v.clamp(lo, hi) - lo) / (hi - lo));
    // Band segments: runs of consecutive points with both sides known.
    let mut band = String::new();
    let mut seg: Vec<(usize, f64, f64)> = Vec::new();
    let flush = |seg: &mut Vec<(usize, f64, f64)>, band: &mut String| {
        if seg.len() >= 2 {
            for (k, (i, _, u)) in seg.iter().enumerate() {
                let _ = write!(
                    band,
                    "{}{:.1} {:.1}",
                    if k == 0 { "M" } else { "L" },
                    x(*i),
                    y(*u)
                );
            }
            for (i, l, _) in seg.iter().rev() {
                let _ = write!(band, "L{:.1} {:.1}", x(*i), y(*l));
            }
            band.push('Z');
        }
        seg.clear();
    };
    for (i, p) in points.iter().enumerate() {
        match (p.judged, p.lower, p.upper) {
            (true, Some(l), Some(u)) => seg.push((i, l, u)),
            _ => flush(&mut seg, &mut band),
        }
    }
    flush(&mut seg, &mut band);
    let mut line = String::new();
    for (i, p) in points.iter().enumerate() {
        let _ = write!(
            line,
            "{}{:.1} {:.1}",
            if i == 0 { "M" } else { "L" },
            x(i),
            y(p.value)
        );
    }
    let first = points
        .first()
        .map(|p| p.time.get(..10).unwrap_or(&p.time).to_string());
    let last = points
        .last()
        .map(|p| p.time.get(..10).unwrap_or(&p.time).to_string());
    html! {
        svg.chart.series viewBox={"0 0 " (W) " " (H)} role="img" aria-label="the metric over time with its expected band" {
            path.grid d={"M" (X0) " " (Y0) "H" (X1) "M" (X0) " " (Y1) "H" (X1)} {}
            text.ax x=(X0 - 4.0) y=(Y0 + 4.0) text-anchor="end" { (num(hi)) }
            text.ax x=(X0 - 4.0) y=(Y1 + 4.0) text-anchor="end" { (num(lo)) }
            @if let Some(f) = &first { text.ax x=(X0) y=(H - 16.0) { (f) } }
            @if let Some(l) = &last { text.ax x=(X1) y=(H - 16.0) text-anchor="end" { (l) } }
            @if !band.is_empty() { path.band d=(band) {} }
            path.line d=(line) {}
            @for (i, p) in points.iter().enumerate() {
                @if p.anomalous {
                    circle.an cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(p.value))) r="4" {
                        title { (p.time) ": " (num(p.value)) " (anomaly)" }
                    }
                } @else if points.len() <= 120 {
                    circle.pt cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(p.value))) r="1.8" {}
                }
            }
        }
    }
}

/// The whole page.
pub(crate) fn page(
    dir: &str,
    metric: &str,
    check_text: &str,
    points: &[WalkedPoint],
    runs: usize,
) -> String {
    let anomalies = points.iter().filter(|p| p.anomalous).count();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { "preflight history: " (metric) }
                style { (PreEscaped(super::page::CSS)) (PreEscaped(EXTRA_CSS)) }
            }
            body {
                header.top {
                    h1 { "preflight " span.cmd { "history " (dir) } }
                    p.verdict.fail[anomalies > 0].pass[anomalies == 0] {
                        code { (metric) } ": " (anomalies) " anomal" (if anomalies == 1 { "y" } else { "ies" })
                        span.muted { " in " (points.len()) " points (" (runs) " runs)" }
                    }
                    p.note { "Band: " (check_text) ". A point is judged against the points before it, as validating each run in turn would have; an anomaly is left out of later baselines." }
                }
                section {
                    div.v.wide style="max-width:none" { (chart(points)) }
                    table.fd {
                        thead { tr { th { "time" } th.r { "value" } th.r { "expected from" } th.r { "to" } th { "" } } }
                        tbody {
                            @for p in points {
                                tr {
                                    td { (p.time) }
                                    td.r { (num(p.value)) }
                                    td.r { (p.lower.map(num).unwrap_or_default()) }
                                    td.r { (p.upper.map(num).unwrap_or_default()) }
                                    td {
                                        @if p.anomalous { span class="sev error" { "anomaly" } }
                                        @else if !p.judged { span.muted { "not judged (short history)" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let html = markup.into_string();
    match crate::display::escape_keeping_lines(&html) {
        std::borrow::Cow::Borrowed(_) => html,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}
