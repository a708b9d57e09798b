//! Metrics against their thresholds, with sparklines and state words.

use crate::render::prelude::*;

pub(crate) fn metrics_pane(
    f: &mut Frame,
    area: Rect,
    rb: &Runbook,
    st: &State,
    ui: &Ui,
    th: &Theme,
    big: bool,
) {
    let focused = ui.focus == Pane::Metrics;
    let rows = area.height.saturating_sub(2) as usize;
    // Stable order, but when the pane is short, metrics that are not ok come first. A
    // one-shot SQL check is not read over time: its answer is its gate check's evidence.
    let mut order: Vec<usize> = (0..rb.metrics.len())
        .filter(|&i| !rb.metrics[i].is_once())
        .collect();
    let polled = order.len();
    if rows < order.len() {
        order.sort_by_key(|&i| match st.metric_level(rb, &rb.metrics[i].id.value) {
            MetricLevel::Critical => 0,
            MetricLevel::Warning => 1,
            MetricLevel::Stale => 2,
            MetricLevel::Ok => 3,
        });
    }
    // The state word and the value always; the sparkline goes first, then the thresholds,
    // then the name shortens (keeping its last word: "p95" stays "p95").
    const WORD_W: usize = 9; // " CRITICAL"
    const VALUE_W: usize = 13;
    const THR_W: usize = 18;
    let desired = if big { 30 } else { 22 };
    let w = area.width.saturating_sub(2) as usize;
    let avail = w.saturating_sub(WORD_W + VALUE_W);
    let (name_w, thr_w, spark_w) = if avail >= desired + THR_W + 4 {
        (desired, THR_W, avail - desired - THR_W)
    } else if avail >= desired + THR_W {
        (desired, THR_W, 0)
    } else {
        (avail.min(desired), 0, 0)
    };
    let mut shown = Vec::new();
    let skip = ui
        .metric_scroll
        .min(order.len().saturating_sub(rows.max(1)));
    for &i in order.iter().skip(skip).take(rows) {
        let m = &rb.metrics[i];
        let ms = st.metrics.get(&m.id.value);
        let level = st.metric_level(rb, &m.id.value);
        let style = th.get(match level {
            MetricLevel::Ok => StyleName::MetricOk,
            MetricLevel::Warning => StyleName::MetricWarning,
            MetricLevel::Critical => StyleName::MetricCritical,
            MetricLevel::Stale => StyleName::MetricStale,
        });
        let value = match ms.and_then(|s| s.last) {
            Some(v) if level != MetricLevel::Stale => format!("{} {}", fmt_num(v), m.unit),
            _ => {
                // Read recently but without a value (source error, NaN): say so rather than
                // show a fresh-looking age.
                match ms {
                    Some(s) if s.last.is_none() && s.last_at.is_some() => "no value".into(),
                    Some(s) => st
                        .age(s.last_at)
                        .map(|a| format!("stale {}", fmt_duration(a)))
                        .unwrap_or_else(|| "no data".into()),
                    None => "no data".into(),
                }
            }
        };
        let cmp = if m.direction == Direction::Below {
            "<"
        } else {
            ">"
        };
        let thr = match (&m.warning, &m.critical) {
            (Some(w), Some(c)) => format!("w{cmp}{} c{cmp}{}", fmt_num(w.value), fmt_num(c.value)),
            (Some(w), None) => format!("w{cmp}{}", fmt_num(w.value)),
            (None, Some(c)) => format!("c{cmp}{}", fmt_num(c.value)),
            (None, None) => String::new(),
        };
        let hist: Vec<Option<f64>> = ms
            .map(|s| s.history.iter().copied().collect())
            .unwrap_or_default();
        let spark = if spark_w > 0 {
            sparkline(&hist, spark_w, m.critical.as_ref().map(|c| c.value))
        } else {
            String::new()
        };
        let mut head = vec![
            Span::styled(
                fit(&fit_name(&m.name, name_w), name_w),
                th.get(StyleName::Text),
            ),
            Span::styled(format!("{} ", right(&value, VALUE_W - 1)), style),
        ];
        if thr_w > 0 {
            head.push(Span::styled(fit(&thr, thr_w), th.get(StyleName::Muted)));
        }
        shown.push(Row {
            head: Line::from(head),
            spark,
            word: Span::styled(format!(" {}", level.as_str().to_uppercase()), style),
            style,
        });
    }
    let title = format!("Metrics ({} of {polled})", shown.len());
    let b = block(&title, focused, th);
    let inner = b.inner(area);
    f.render_widget(b, area);
    // Written cell by cell: the sparklines are most of the pane's cells, each one column
    // wide, and composing them as text cost a third of the frame.
    let buf = f.buffer_mut();
    let right = inner.right();
    for (row, y) in shown.iter().zip(inner.top()..inner.bottom()) {
        let (mut x, _) = buf.set_line(inner.x, y, &row.head, inner.width);
        for c in row.spark.chars() {
            if x >= right {
                break;
            }
            if let Some(cell) = buf.cell_mut((x, y)) {
                cell.set_char(c).set_style(row.style);
            }
            x += 1;
        }
        buf.set_span(x, y, &row.word, right.saturating_sub(x));
    }
}

/// One metric's row: its name, value and thresholds, its sparkline, its state word.
struct Row {
    head: Line<'static>,
    spark: String,
    word: Span<'static>,
    style: Style,
}
