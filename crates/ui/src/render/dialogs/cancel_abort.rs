//! Cancel the auto-abort countdown, with a reason.

use crate::render::prelude::*;

pub(crate) fn draw(f: &mut Frame, area: Rect, st: &State, d: &Dialog, th: &Theme) {
    let w = (area.width * 7 / 10)
        .max(100)
        .min(area.width.saturating_sub(2));
    let dstyle = th.get(StyleName::Dialog);
    let Dialog::CancelAbort { reason, error } = d else {
        return;
    };
    let Some(c) = &st.abort else { return };
    let mut lines = vec![
        Line::from(Span::styled(
            format!(
                "Auto-abort will run rollback {} — {}.",
                c.procedure, c.cause
            ),
            th.get(StyleName::AlertCritical),
        )),
        Line::from(vec![
            Span::styled("why cancel it (words): ", th.get(StyleName::Text)),
            Span::styled(format!("{reason}▏"), th.get(StyleName::Input)),
        ]),
        Line::from(Span::styled(
            "Enter cancel the countdown (recorded) · Esc keep it running",
            th.get(StyleName::Muted),
        )),
    ];
    if let Some(e) = error {
        lines.push(Line::from(Span::styled(
            e.clone(),
            th.get(StyleName::GateBlocked),
        )));
    }
    let h = wrapped_height(&lines, w.min(90).saturating_sub(2)) + 2;
    let r = area.centered(Constraint::Length(w.min(90)), Constraint::Length(h));
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .style(dstyle)
            .wrap(Wrap { trim: false })
            .block(block("Cancel auto-abort", true, th)),
        r,
    );
}
