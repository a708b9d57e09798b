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
    // An item's label may go on over several lines (a procedure's steps): the first is the
    // choice, the rest say what it does.
    let mut lines: Vec<Line> = Vec::new();
    for (i, (label, _)) in items.iter().enumerate() {
        let s = if i == *sel {
            th.get(StyleName::Selected)
        } else {
            th.get(StyleName::Text)
        };
        let mut rows = label.lines();
        let first = rows.next().unwrap_or_default();
        lines.push(Line::from(Span::styled(
            format!("{} {first}", if i == *sel { "▸" } else { " " }),
            s,
        )));
        for more in rows {
            lines.push(Line::from(Span::styled(
                format!("  {more}"),
                th.get(StyleName::Muted),
            )));
        }
    }
    let widest = lines.iter().map(|l| l.width()).max().unwrap_or(0) as u16 + 2;
    let r = area.centered(
        Constraint::Length(w.min(widest.max(80))),
        Constraint::Length(lines.len() as u16 + 3),
    );
    f.render_widget(Clear, r);
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
