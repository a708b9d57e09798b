//! The log.

use crate::render::prelude::*;

pub(crate) fn log_pane(f: &mut Frame, area: Rect, ui: &Ui, th: &Theme, ch: &Chrome) {
    let focused = ui.focus == Pane::Log;
    match ch.log {
        Some(lines) => {
            let h = area.height.saturating_sub(2) as usize;
            let end = lines.len().saturating_sub(ui.log_scroll.min(lines.len()));
            let start = end.saturating_sub(h);
            let shown: Vec<Line> = lines[start..end]
                .iter()
                .map(|l| Line::from(Span::styled(l.clone(), th.get(StyleName::Text))))
                .collect();
            f.render_widget(Rows::new(shown).block(block("Log", focused, th)), area);
        }
        None => {
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
