//! The status bar and the key-hint bar.

use crate::render::prelude::*;

pub(crate) fn status_bar(f: &mut Frame, area: Rect, st: &State, ui: &Ui, th: &Theme, ch: &Chrome) {
    let mut spans = vec![
        Span::styled(
            format!(
                " operator {} ",
                if st.operator.is_empty() {
                    "?"
                } else {
                    &st.operator
                }
            ),
            th.get("status"),
        ),
        Span::styled(format!("│ audit {} ", ch.audit), th.get("status")),
        Span::styled(format!("│ head {} ", ch.head), th.get("status")),
        Span::styled(
            format!("│ {} {} ", ch.clock, hms(ch.now.or(st.now))),
            th.get(if ui.mode == Mode::Replay {
                "replay"
            } else {
                "status"
            }),
        ),
    ];
    if let Some(i) = st.current_phase()
        && st.phases[i].failed.is_some()
    {
        spans.push(Span::styled(
            " ✗ PHASE FAILED: R retry/skip ",
            th.get("alert.critical"),
        ));
    }
    if let Some(m) = &ui.message {
        spans.push(Span::styled(format!(" {m}"), th.get("gate.confirm")));
    }
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(th.get("status")),
        area,
    );
}

pub(crate) fn hint_bar(f: &mut Frame, area: Rect, ui: &Ui, th: &Theme) {
    let mut spans = Vec::new();
    for b in keymap::bindings(ui.mode).filter(|b| b.hint) {
        spans.push(Span::styled(format!(" {} ", b.label), th.get("key")));
        spans.push(Span::styled(format!("{} ", b.short()), th.get("muted")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
