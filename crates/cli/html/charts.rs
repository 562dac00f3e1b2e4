//! Inline SVG charts, drawn with the same escaping templates as the page. Each series is
//! one `<path>` (a bar is `M x y v -h h w v h z`), which keeps a card near 1 KB at 5,000
//! features. Colours come from CSS classes (`cur`, `base`), so dark mode restyles them.

use std::fmt::Write as _;

use maud::{Markup, html};
use preflight_stats::profile::Bucket;

/// Chart width and height in SVG units; CSS scales it to the card.
const W: f64 = 320.0;
const H: f64 = 112.0;
/// Plot area.
const X0: f64 = 2.0;
const X1: f64 = 318.0;
const Y0: f64 = 16.0;
const Y1: f64 = 92.0;
/// Bins of the common grid when two histograms are overlaid.
const OVERLAY_BINS: usize = 20;

/// A bar: left edge, width, share of the side's values.
type Bar = (f64, f64, f64);

/// One side of a histogram: its equal-width buckets and how to print its ends.
pub struct HistSide<'a> {
    pub buckets: &'a [Bucket],
    pub min_text: String,
    pub max_text: String,
}

/// Bars (left edge, width, share) as closed step outlines on the axis; a new outline
/// starts wherever bars are not adjacent.
fn steps(bars: &[Bar], scale: f64) -> String {
    let mut d = String::new();
    let mut end: Option<f64> = None;
    for &(x, w, v) in bars {
        if w <= 0.0 {
            continue;
        }
        let y = Y1 - v * scale;
        match end {
            Some(e) if (e - x).abs() < 0.05 => {}
            Some(_) => {
                let _ = write!(d, "V{Y1}ZM{x:.1} {Y1}");
            }
            None => {
                let _ = write!(d, "M{x:.1} {Y1}");
            }
        }
        let _ = write!(d, "V{y:.1}H{:.1}", x + w);
        end = Some(x + w);
    }
    if end.is_some() {
        let _ = write!(d, "V{Y1}Z");
    }
    d
}

/// Spread bucket counts over `bins` equal bins on [lo, hi], uniformly within each bucket
/// (a point bucket falls in one bin); returns shares of the side's total.
fn rebin(buckets: &[Bucket], lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    let mut out = vec![0.0; bins];
    let total: f64 = buckets.iter().map(|b| b.count).sum();
    if total <= 0.0 || bins == 0 {
        return out;
    }
    let span = hi - lo;
    let index = |x: f64| -> usize {
        if span <= 0.0 {
            0
        } else {
            (((x - lo) / span * bins as f64).floor().max(0.0) as usize).min(bins - 1)
        }
    };
    for b in buckets {
        if b.count <= 0.0 {
            continue;
        }
        if b.high <= b.low || span <= 0.0 {
            out[index(b.low)] += b.count;
            continue;
        }
        let step = span / bins as f64;
        let (first, last) = (index(b.low), index(b.high));
        for (i, slot) in out.iter_mut().enumerate().take(last + 1).skip(first) {
            let a = lo + step * i as f64;
            let overlap = (b.high.min(a + step) - b.low.max(a)).max(0.0);
            *slot += b.count * overlap / (b.high - b.low);
        }
    }
    out.iter().map(|c| c / total).collect()
}

/// A histogram of one side, or two overlaid on a common grid (`cur` first colour, `base`
/// second), heights as shares of each side's values so sides of different sizes compare.
pub fn histogram(cur: Option<&HistSide>, base: Option<&HistSide>) -> Option<Markup> {
    let sides: Vec<(&HistSide, &str)> = [(cur, "cur"), (base, "base")]
        .into_iter()
        .filter_map(|(s, c)| s.filter(|s| !s.buckets.is_empty()).map(|s| (s, c)))
        .collect();
    if sides.is_empty() {
        return None;
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut lo_text, mut hi_text) = (String::new(), String::new());
    for (s, _) in &sides {
        let (a, b) = (s.buckets[0].low, s.buckets[s.buckets.len() - 1].high);
        if a < lo {
            lo = a;
            lo_text.clone_from(&s.min_text);
        }
        if b > hi {
            hi = b;
            hi_text.clone_from(&s.max_text);
        }
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return None;
    }
    let width = X1 - X0;
    let mut series: Vec<(Vec<Bar>, &str)> = Vec::new();
    if sides.len() == 1 {
        // One side: its own buckets as they are.
        let (s, class) = &sides[0];
        let total: f64 = s.buckets.iter().map(|b| b.count).sum();
        if total <= 0.0 {
            return None;
        }
        let span = hi - lo;
        let bars = s
            .buckets
            .iter()
            .map(|b| {
                if span > 0.0 {
                    let x = X0 + (b.low - lo) / span * width;
                    (x, (b.high - b.low) / span * width, b.count / total)
                } else {
                    (X0 + width * 0.4, width * 0.2, b.count / total)
                }
            })
            .collect();
        series.push((bars, class));
    } else {
        let bins = if hi > lo { OVERLAY_BINS } else { 1 };
        let step = width / bins as f64;
        for (s, class) in &sides {
            let shares = rebin(s.buckets, lo, hi, bins);
            let bars = shares
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    if bins == 1 {
                        (X0 + width * 0.4, width * 0.2, *v)
                    } else {
                        (X0 + step * i as f64, step, *v)
                    }
                })
                .collect();
            series.push((bars, class));
        }
    }
    let top = series
        .iter()
        .flat_map(|(b, _)| b.iter().map(|t| t.2))
        .fold(0.0_f64, f64::max);
    if top <= 0.0 {
        return None;
    }
    let scale = (Y1 - Y0) / top;
    // Adjacent bars as one step outline (`V y H x` per bar): a third of the bytes of
    // separate rectangles, which matters at 5,000 cards.
    let paths: Vec<(String, &str)> = series
        .iter()
        .map(|(bars, class)| (steps(bars, scale), *class))
        .collect();
    let peak = format!("{:.0}%", top * 100.0);
    Some(html! {
        svg.chart viewBox={"0 0 " (W) " " (H)} role="img" {
            text.ax x=(X0) y="12" { "max " (peak) }
            @for (d, class) in &paths {
                path class=(class) d=(d) {}
            }
            text.ax x=(X0) y=(H - 4.0) { (super::clip(&lo_text, 26)) }
            text.ax x=(X1) y=(H - 4.0) text-anchor="end" { (super::clip(&hi_text, 26)) }
        }
    })
}

/// One row of a bar chart: a category and its share on each side.
pub struct BarRow {
    pub label: String,
    pub cur: Option<f64>,
    pub base: Option<f64>,
}

const LABEL_W: f64 = 112.0;
const BAR_X: f64 = 116.0;
const BAR_W: f64 = 140.0;

fn pct(x: f64) -> String {
    if x > 0.0 && x < 0.01 {
        "<1%".into()
    } else {
        format!("{:.0}%", x * 100.0)
    }
}

/// Horizontal bars of category shares (top values), one bar per side.
pub fn bars(rows: &[BarRow]) -> Option<Markup> {
    if rows.is_empty() {
        return None;
    }
    let two = rows.iter().any(|r| r.base.is_some()) && rows.iter().any(|r| r.cur.is_some());
    let row_h = if two { 20.0 } else { 15.0 };
    let bar_h = if two { 8.0 } else { 11.0 };
    let top = rows
        .iter()
        .flat_map(|r| [r.cur.unwrap_or(0.0), r.base.unwrap_or(0.0)])
        .fold(0.0_f64, f64::max);
    if top <= 0.0 {
        return None;
    }
    let scale = BAR_W / top;
    let mut cur_d = String::new();
    let mut base_d = String::new();
    for (i, r) in rows.iter().enumerate() {
        let y = 2.0 + row_h * i as f64;
        let mut y_bar = y + (row_h - if two { 2.0 * bar_h } else { bar_h }) / 2.0;
        for (v, d) in [(r.cur, &mut cur_d), (r.base, &mut base_d)] {
            if let Some(v) = v
                && v > 0.0
            {
                let w = (v * scale).max(1.0);
                let _ = write!(d, "M{BAR_X} {y_bar:.1}h{w:.1}v{bar_h}h-{w:.1}z");
            }
            if two {
                y_bar += bar_h;
            }
        }
    }
    let height = 4.0 + row_h * rows.len() as f64;
    let text_of = |r: &BarRow| -> String {
        match (r.cur, r.base) {
            (Some(c), Some(b)) if two => format!("{} / {}", pct(c), pct(b)),
            (Some(c), None) => pct(c),
            (None, Some(b)) if two => format!("– / {}", pct(b)),
            (None, Some(b)) => pct(b),
            (Some(c), Some(_)) => pct(c),
            (None, None) => String::new(),
        }
    };
    Some(html! {
        svg.chart viewBox={"0 0 " (W) " " (height)} role="img" {
            @for (i, r) in rows.iter().enumerate() {
                @let y = 2.0 + row_h * i as f64 + row_h / 2.0 + 3.5;
                @let clipped = super::clip(&r.label, 18);
                text.lb x=(LABEL_W) y=(y) text-anchor="end" {
                    @if clipped != r.label { title { (r.label) } }
                    (clipped)
                }
                text.ax x=(W - 1.0) y=(y) text-anchor="end" { (text_of(r)) }
            }
            @if !base_d.is_empty() { path.base d=(base_d) {} }
            @if !cur_d.is_empty() { path.cur d=(cur_d) {} }
        }
    })
}

/// A heat map of a K x K matrix (rows given, columns true label), shares as percentages.
pub fn heatmap(classes: &[String], m: &[Vec<f64>]) -> Option<Markup> {
    let k = classes.len();
    if k == 0 || m.len() != k || m.iter().any(|r| r.len() != k) {
        return None;
    }
    let cell = if k <= 6 {
        48.0
    } else if k <= 12 {
        34.0
    } else {
        18.0
    };
    let label_w = 96.0;
    let top = 28.0;
    let width = label_w + cell * k as f64 + 4.0;
    let height = top + cell * k as f64 + 4.0;
    let peak = m.iter().flatten().fold(0.0_f64, |a, b| a.max(*b));
    let show_text = k <= 12;
    let level = |v: f64| if peak > 0.0 { (v / peak).sqrt() } else { 0.0 };
    Some(html! {
        svg.heat viewBox={"0 0 " (width) " " (height)} width=(width) role="img"
            aria-label="estimated joint distribution of given and true labels" {
            @for (j, c) in classes.iter().enumerate() {
                text.ax x=(label_w + cell * (j as f64 + 0.5)) y=(top - 8.0) text-anchor="middle" {
                    title { (c) } (super::clip(c, if k <= 6 { 8 } else { 4 }))
                }
            }
            @for (i, row) in m.iter().enumerate() {
                text.lb x=(label_w - 4.0) y=(top + cell * (i as f64 + 0.5) + 3.5) text-anchor="end" {
                    title { (classes[i]) } (super::clip(&classes[i], 14))
                }
                @for (j, v) in row.iter().enumerate() {
                    @let x = label_w + cell * j as f64;
                    @let y = top + cell * i as f64;
                    rect class=(if i == j { "hd" } else { "ho" }) x=(x) y=(y)
                        width=(cell - 1.0) height=(cell - 1.0)
                        fill-opacity=(format!("{:.3}", 0.06 + 0.94 * level(*v))) {
                        title { (classes[i]) " → " (classes[j]) ": " (format!("{:.2}%", v * 100.0)) }
                    }
                    @if show_text && *v > 0.0 {
                        text.hv x=(x + cell / 2.0) y=(y + cell / 2.0 + 3.5) text-anchor="middle" {
                            (format!("{:.1}", v * 100.0))
                        }
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(low: f64, high: f64, count: f64) -> Bucket {
        Bucket { low, high, count }
    }

    #[test]
    fn rebin_keeps_mass_and_splits_uniformly() {
        let got = rebin(&[b(0.0, 10.0, 4.0), b(10.0, 20.0, 4.0)], 0.0, 40.0, 4);
        assert_eq!(got, vec![0.5, 0.5, 0.0, 0.0]);
        let got = rebin(&[b(0.0, 10.0, 2.0)], 0.0, 20.0, 4);
        assert_eq!(got, vec![0.5, 0.5, 0.0, 0.0]);
        let point = rebin(&[b(5.0, 5.0, 3.0)], 0.0, 10.0, 2);
        assert_eq!(point, vec![0.0, 1.0]);
    }

    #[test]
    fn adjacent_bars_are_one_outline() {
        let d = steps(
            &[(0.0, 10.0, 0.5), (10.0, 10.0, 0.25), (30.0, 10.0, 1.0)],
            10.0,
        );
        assert_eq!(d, "M0.0 92V87.0H10.0V89.5H20.0V92ZM30.0 92V82.0H40.0V92Z");
    }

    #[test]
    fn labels_are_escaped_inside_svg() {
        let rows = [BarRow {
            label: "<script>x</script>".into(),
            cur: Some(0.5),
            base: None,
        }];
        let svg = bars(&rows).map(Markup::into_string).unwrap_or_default();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
    }
}
