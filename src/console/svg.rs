//! Charts drawn on the server as SVG: no script, no library. Only numbers and fixed labels
//! go into the markup (every label is escaped anyway).

#![expect(
    clippy::cast_precision_loss,
    reason = "chart coordinates: a few significant digits are all a chart draws"
)]

use std::fmt::Write as _;

use quick_xml::escape::escape;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;

/// A line per series over evenly spaced points (oldest first), with a y axis from 0 to the
/// largest value, labelled with `unit`. `title` names the chart for screen readers.
pub fn lines(id: &str, title: &str, unit: &str, series: &[(&str, &str, Vec<f64>)]) -> String {
    let max = series
        .iter()
        .flat_map(|(_, _, values)| values.iter().copied())
        .fold(0.0_f64, f64::max);
    let top = nice(max);
    let points = series.iter().map(|(_, _, v)| v.len()).max().unwrap_or(0);
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title"><title id="{id}-title">{}</title>"#,
        escape(title)
    );
    for step in 0..=4 {
        let y = TOP + plot_h * (1.0 - f64::from(step) / 4.0);
        let value = top * f64::from(step) / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#d8dde3" stroke-width="1"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#5b6673">{} {}</text>"##,
            WIDTH - 8.0,
            LEFT - 6.0,
            y + 4.0,
            short(value),
            escape(unit)
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{LEFT}" y="{:.1}" font-size="11" fill="#5b6673">1 hour ago</text><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#5b6673">now</text>"##,
        HEIGHT - 6.0,
        WIDTH - 8.0,
        HEIGHT - 6.0
    );
    for (_, color, values) in series {
        if values.is_empty() {
            continue;
        }
        let mut path = String::new();
        // Right-aligned: the newest point at "now", an hour of slots across.
        let slots = 360.0_f64.max(points as f64);
        let offset = slots - values.len() as f64;
        for (i, v) in values.iter().enumerate() {
            let x = LEFT + plot_w * (offset + i as f64) / (slots - 1.0).max(1.0);
            let y = TOP + plot_h * (1.0 - if top > 0.0 { v / top } else { 0.0 });
            let _ = write!(path, "{x:.1},{y:.1} ");
        }
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            escape(*color),
            path.trim_end()
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, one per `(label, value)`, for sizes.
pub fn bars(id: &str, title: &str, rows: &[(String, u64)]) -> String {
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let row_h = 22.0;
    let height = row_h * rows.len().max(1) as f64 + 4.0;
    let label_w = 180.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-title"><title id="{id}-title">{}</title>"#,
        escape(title)
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 2.0 + row_h * i as f64;
        let w = (WIDTH - label_w - 90.0) * (*value as f64) / (max as f64);
        let shown: String = label.chars().take(26).collect();
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12" fill="#1d232b">{}</text><rect x="{label_w}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="#1f5fbf"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#1d232b">{}</text>"##,
            label_w - 6.0,
            y + 15.0,
            escape(&shown),
            y + 3.0,
            row_h - 6.0,
            label_w + w + 6.0,
            y + 15.0,
            escape(super::size(*value))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `max` (at least 1).
fn nice(max: f64) -> f64 {
    if max <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|v| *v >= max)
        .unwrap_or(max)
}

/// A number for an axis: `0.5`, `12`, `3.4k`, `2.1M`.
fn short(v: f64) -> String {
    match v {
        v if v >= 1e6 => format!("{:.1}M", v / 1e6),
        v if v >= 1e3 => format!("{:.1}k", v / 1e3),
        v if v.fract() == 0.0 => format!("{v:.0}"),
        v => format!("{v:.1}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_escaped_labels_and_no_script() {
        let chart = lines(
            "r",
            "Requests <per> second",
            "req/s",
            &[("all", "#1f5fbf", vec![0.0, 5.0, 12.0])],
        );
        assert!(chart.starts_with("<svg") && chart.ends_with("</svg>"));
        assert!(chart.contains("Requests &lt;per&gt; second"));
        assert!(chart.contains("<polyline"));
        assert!(
            chart.contains("20 req/s"),
            "the axis tops at a round number: {chart}"
        );
        let bars = bars(
            "b",
            "Storage",
            &[("<b>".to_owned(), 2048), ("x".to_owned(), 0)],
        );
        assert!(bars.contains("&lt;b&gt;") && bars.contains("2.0 KiB"));
        assert!(!chart.contains("script") && !bars.contains("style="));
        for (max, top) in [(0.3, 1.0), (7.0, 10.0), (120.0, 200.0)] {
            assert!((nice(max) - top).abs() < 1e-9, "{max} -> {}", nice(max));
        }
    }
}
