//! The post-mortem's charts: a metric (or the traffic share) over the whole log, with its
//! thresholds and the moments that mattered marked on it — rollout steps, alerts, overrides,
//! blocked attempts and rollbacks, as a dashboard's annotations — drawn by plotters to an SVG
//! string that the page embeds. Every mark carries its words, not only a colour.
//!
//! Text is measured by plotters' own estimate (no system font is read: the `ttf` feature and
//! its fontconfig/freetype are left out); the browser draws it with its own fonts.

use super::data::hms;
use crate::engine::Time;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// What a mark stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MarkKind {
    /// A rollout step took effect.
    Step,
    /// An alert fired (a band until it resolved).
    Alert,
    /// A gate was overridden.
    Override,
    /// An attempt was blocked by its gate.
    Blocked,
    /// A rollback ran (a band from its request to its end).
    Rollback,
}

impl MarkKind {
    fn color(self) -> RGBColor {
        match self {
            MarkKind::Step => RGBColor(31, 90, 180),
            MarkKind::Alert => RGBColor(200, 30, 30),
            MarkKind::Override => RGBColor(190, 110, 0),
            MarkKind::Blocked => RGBColor(90, 90, 90),
            MarkKind::Rollback => RGBColor(120, 40, 160),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Mark {
    pub kind: MarkKind,
    pub from: Time,
    /// The end of a band (an alert until resolved, a rollback until finished).
    pub until: Option<Time>,
    /// What it says on the chart (already cleaned; plotters escapes it for SVG).
    pub label: String,
}

/// A horizontal line: a threshold.
pub struct Threshold {
    pub label: String,
    pub value: f64,
    pub critical: bool,
}

pub struct Chart<'a> {
    pub points: &'a [(Time, f64)],
    pub thresholds: Vec<Threshold>,
    pub marks: Vec<Mark>,
    /// The whole log: every chart has the same time axis.
    pub span: (Time, Time),
    /// Drawn as steps (a share that holds until it changes) rather than a line.
    pub steps: bool,
}

pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 300;

const INK: RGBColor = RGBColor(30, 30, 30);
const WARNING: RGBColor = RGBColor(200, 120, 0);
const CRITICAL: RGBColor = RGBColor(200, 30, 30);

fn label_style(color: &RGBColor) -> TextStyle<'_> {
    ("sans-serif", 13).into_font().color(color)
}

fn minutes(span: (Time, Time), t: Time) -> f64 {
    (t - span.0).num_milliseconds() as f64 / 60_000.0
}

/// At most two points per pixel column: a long log's readings thinned to each column's lowest
/// and highest (in their order), so that the page stays small and no peak is lost.
fn thin(points: &[(Time, f64)]) -> Vec<(Time, f64)> {
    let columns = WIDTH as usize;
    if points.len() <= columns * 2 {
        return points.to_vec();
    }
    let per = points.len().div_ceil(columns);
    points
        .chunks(per)
        .flat_map(|chunk| {
            let lo = chunk
                .iter()
                .copied()
                .reduce(|a, b| if b.1 < a.1 { b } else { a });
            let hi = chunk
                .iter()
                .copied()
                .reduce(|a, b| if b.1 > a.1 { b } else { a });
            match (lo, hi) {
                (Some(lo), Some(hi)) if lo.0 > hi.0 => vec![hi, lo],
                (Some(lo), Some(hi)) if lo.0 < hi.0 => vec![lo, hi],
                (Some(p), _) => vec![p],
                _ => Vec::new(),
            }
        })
        .collect()
}

/// The chart as an SVG document (`<svg …>…</svg>`).
pub fn svg(c: &Chart) -> Result<String, String> {
    let mut out = String::new();
    draw(c, &mut out).map_err(|e| format!("drawing a chart: {e}"))?;
    Ok(out)
}

fn draw(c: &Chart, out: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(out, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let span = c.span;
    let x_max = minutes(span, span.1).max(1.0);
    let values = c
        .points
        .iter()
        .map(|p| p.1)
        .chain(c.thresholds.iter().map(|t| t.value));
    let (lo, hi) = values.fold((0.0f64, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let hi = if hi <= lo { lo + 1.0 } else { hi };
    // Room above the highest value for the marks' labels.
    let y_top = hi + (hi - lo) * 0.45;
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..x_max, lo..y_top)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .x_labels(10)
        .y_labels(6)
        .x_label_formatter(&|m| hms(span.0 + chrono::Duration::seconds((m * 60.0) as i64)))
        .y_label_formatter(&|v| crate::engine::fmt_num(*v))
        .label_style(("sans-serif", 13))
        .draw()?;

    let row = (y_top - hi) / 4.0;
    // Four rows of labels between the highest value and the top, each clear of the next.
    let label_y = |i: usize| y_top - row * (0.15 + (i % 4) as f64);
    for (i, m) in c.marks.iter().enumerate() {
        let x0 = minutes(span, m.from).clamp(0.0, x_max);
        let color = m.kind.color();
        match m.until {
            Some(until) => {
                let x1 = minutes(span, until)
                    .clamp(x0, x_max)
                    .max(x0 + x_max / 400.0);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, lo), (x1, hi)],
                    color.mix(0.15).filled(),
                )))?;
            }
            None => {
                chart.draw_series(LineSeries::new([(x0, lo), (x0, hi)], color.stroke_width(2)))?;
            }
        }
        chart.draw_series(std::iter::once(PathElement::new(
            [(x0, label_y(i)), (x0, hi)],
            color.mix(0.5).stroke_width(1),
        )))?;
        // A mark in the last third of the chart has its label end at it, not run off the edge.
        let style = if x0 > x_max * 0.66 {
            label_style(&color).pos(Pos::new(HPos::Right, VPos::Top))
        } else {
            label_style(&color)
        };
        chart.draw_series(std::iter::once(Text::new(
            m.label.clone(),
            (x0, label_y(i)),
            style,
        )))?;
    }
    for t in &c.thresholds {
        let color = if t.critical { CRITICAL } else { WARNING };
        chart.draw_series(DashedLineSeries::new(
            [(0.0, t.value), (x_max, t.value)],
            8,
            5,
            color.stroke_width(2),
        ))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{} {}", t.label, crate::engine::fmt_num(t.value)),
            (x_max * 0.86, t.value),
            label_style(&color),
        )))?;
    }
    let mut line: Vec<(f64, f64)> = Vec::with_capacity(c.points.len() * 2);
    for (t, v) in thin(c.points) {
        let x = minutes(span, t);
        if c.steps
            && let Some(&(_, prev)) = line.last()
        {
            line.push((x, prev));
        }
        line.push((x, v));
    }
    if c.steps
        && let Some(&(_, v)) = line.last()
    {
        line.push((x_max, v));
    }
    chart.draw_series(LineSeries::new(line, INK.stroke_width(2)))?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_log_is_thinned_without_losing_a_peak_or_the_order() {
        let t0 = chrono::DateTime::UNIX_EPOCH;
        let points: Vec<(Time, f64)> = (0..10_000)
            .map(|i| {
                let v = match i {
                    4_321 => 99.0,
                    7_000 => -5.0,
                    _ => (i % 7) as f64,
                };
                (t0 + chrono::Duration::seconds(i), v)
            })
            .collect();
        let thinned = thin(&points);
        assert!(thinned.len() <= WIDTH as usize * 2, "{}", thinned.len());
        assert!(thinned.contains(&points[4_321]) && thinned.contains(&points[7_000]));
        assert!(thinned.windows(2).all(|w| w[0].0 < w[1].0), "in time order");
        let short = &points[..100];
        assert_eq!(thin(short), short.to_vec(), "a short log is drawn whole");
    }
}
