//! Choose one of several actions (rollback procedures, go/no-go, retry or skip).

use crate::render::prelude::*;

pub(crate) fn draw(f: &mut Frame, area: Rect, d: &Dialog, th: &Theme) {
    let w = (area.width * 7 / 10)
        .max(100)
        .min(area.width.saturating_sub(2));
    let dstyle = th.get(StyleName::Dialog);
    let Dialog::Choose { title, items, sel } = d else {
        return;
    };
    let r = area.centered(
        Constraint::Length(w.min(80)),
        Constraint::Length(items.len() as u16 + 4),
    );
    f.render_widget(Clear, r);
    let mut lines: Vec<Line> = items
        .iter()
        .enumerate()
        .map(|(i, (label, _))| {
            let s = if i == *sel {
                th.get(StyleName::Selected)
            } else {
                th.get(StyleName::Text)
            };
            Line::from(Span::styled(
                format!("{} {label}", if i == *sel { "▸" } else { " " }),
                s,
            ))
        })
        .collect();
    lines.push(Line::from(Span::styled(
        "↑/↓ choose · Enter preview · Esc cancel",
        th.get(StyleName::Muted),
    )));
    f.render_widget(
        Paragraph::new(lines)
            .style(dstyle)
            .block(block(title, true, th)),
        r,
    );
}
