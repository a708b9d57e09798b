//! Quit while something is in flight?

use crate::render::prelude::*;

pub(crate) fn draw(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, th: &Theme) {
    let dstyle = th.get(StyleName::Dialog);
    let r = area.centered(Constraint::Length(64), Constraint::Length(6));
    f.render_widget(Clear, r);
    // The engine says what would be left unattended; the dialog only words the keys.
    let why = st
        .in_flight(rb)
        .unwrap_or_else(|| "nothing is in flight now".into());
    let after = if st.running().is_some() {
        "the action's outcome is verified on restart"
    } else {
        "the log keeps everything; starting again resumes it"
    };
    let p = Paragraph::new(vec![
        Line::from(format!("{}. Quit anyway?", clean(&why))),
        Line::from(Span::styled(
            format!("y quit ({after}) · any other key: stay"),
            th.get(StyleName::Muted),
        )),
    ])
    .style(dstyle)
    .wrap(Wrap { trim: true })
    .block(block("Quit", true, th));
    f.render_widget(p, r);
}
