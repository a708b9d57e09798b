//! Replay: jump to a time.

use crate::render::prelude::*;

pub(crate) fn draw(f: &mut Frame, area: Rect, d: &Dialog, th: &Theme) {
    let dstyle = th.get(StyleName::Dialog);
    let Dialog::Jump { typed, error } = d else {
        return;
    };
    let r = area.centered(Constraint::Length(50), Constraint::Length(5));
    f.render_widget(Clear, r);
    let mut lines = vec![Line::from(vec![
        Span::raw("time (HH:MM[:SS]): "),
        Span::styled(format!("{typed}▏"), th.get(StyleName::Input)),
    ])];
    if let Some(e) = error {
        lines.push(Line::from(Span::styled(
            e.clone(),
            th.get(StyleName::GateBlocked),
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .style(dstyle)
            .block(block("Jump to", true, th)),
        r,
    );
}
