//! The log: the audit log's lines (its history after a resume too), repeats folded
//! (`… ×12`); focused, a cursor that k/j, PgUp/PgDn and g/G move and Enter opens.

use crate::app::fold_log;
use crate::render::prelude::*;

pub(crate) fn log_pane(f: &mut Frame, area: Rect, ui: &Ui, th: &Theme, ch: &Chrome) {
    let focused = ui.focus == Pane::Log;
    match ch.log {
        Some(lines) => {
            let h = area.height.saturating_sub(2) as usize;
            let folded = ui.log_lines(lines);
            let n = folded.len();
            let (start, end, sel) = ui.log_window(n, h, focused);
            let shown: Vec<Line> = folded[start..end]
                .iter()
                .enumerate()
                .map(|(i, (l, count))| {
                    let mut style = th.get(StyleName::Text);
                    let here = focused && start + i == sel;
                    if here {
                        style = style.patch(th.get(StyleName::Selected));
                    }
                    let mut spans = Vec::new();
                    if focused {
                        spans.push(Span::styled(
                            if here { "▸" } else { " " },
                            th.get(StyleName::Key),
                        ));
                    }
                    spans.push(Span::styled(*l, style));
                    if *count > 1 {
                        spans.push(Span::styled(
                            format!(" … ×{count}"),
                            th.get(StyleName::Muted),
                        ));
                    }
                    Line::from(spans)
                })
                .collect();
            let note = filter_note(ui, Pane::Log, n, fold_log(lines).len());
            let title = if focused && n > 0 {
                // The cursor's `k/n` counts the lines the filter shows: the note is its text.
                let text = note.rsplit_once(' ').map_or("", |(t, _)| t);
                format!("Log{text}  {}/{n} · Enter opens its record", sel + 1)
            } else {
                format!("Log{note}")
            };
            f.render_widget(Rows::new(shown).block(block(&title, focused, th)), area);
        }
        None => {
            // What was logged since the last frame, from the logger's intake to its buffer (in
            // memory; no thread does it in the background).
            tui_logger::move_events();
            let w = tui_logger::TuiLoggerWidget::default()
                .block(block("Log", focused, th))
                .style(th.get(StyleName::Text))
                .style_error(th.get(StyleName::MetricCritical))
                .style_warn(th.get(StyleName::MetricWarning))
                .style_info(th.get(StyleName::Text))
                .output_separator(' ')
                .output_timestamp(None)
                .output_level(None)
                .output_target(false)
                .output_file(false)
                .output_line(false);
            f.render_widget(w, area);
        }
    }
}
