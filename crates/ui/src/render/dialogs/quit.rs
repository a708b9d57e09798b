//! Quit while an action runs?

use crate::render::prelude::*;

pub(crate) fn draw(f: &mut Frame, area: Rect, th: &Theme) {
    let dstyle = th.get(StyleName::Dialog);
    let r = area.centered(Constraint::Length(60), Constraint::Length(5));
    f.render_widget(Clear, r);
    let p = Paragraph::new(vec![
        Line::from("An action is still running. Quit anyway?"),
        Line::from(Span::styled(
            "y quit (the action's outcome is verified on restart) · any other key: stay",
            th.get(StyleName::Muted),
        )),
    ])
    .style(dstyle)
    .wrap(Wrap { trim: true })
    .block(block("Quit", true, th));
    f.render_widget(p, r);
}
