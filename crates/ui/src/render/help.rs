//! The help overlay: built from the keymap, as the hint bar and dispatch are.

use crate::render::prelude::*;

pub(crate) fn help(f: &mut Frame, area: Rect, ui: &Ui, th: &Theme) {
    let mode = ui.mode;
    let mut lines = Vec::new();
    if let Some(why) = &ui.read_only {
        lines.push(Line::from(Span::styled(
            format!("Read-only: {} — only the lead's console acts", clean(why)),
            th.get(StyleName::GateConfirm),
        )));
        lines.push(Line::from(""));
    }
    for b in keymap::help_lines(mode, ui.read_only.is_some()) {
        lines.push(Line::from(vec![
            Span::styled(format!("{}  ", right(b.label, 10)), th.get(StyleName::Key)),
            Span::styled(b.help, th.get(StyleName::Text)),
        ]));
    }
    lines.push(Line::from(""));
    if mode == Mode::Live && ui.read_only.is_none() {
        for (k, what) in [
            (
                "Enter",
                "in a dialog: confirm (on a blocked action: record the attempt)",
            ),
            (
                "Ctrl-o",
                "in a blocked dialog: override (type `override …`, then a reason)",
            ),
            ("Esc", "close a dialog: nothing is done"),
        ] {
            lines.push(Line::from(vec![
                Span::styled(format!("{}  ", right(k, 10)), th.get(StyleName::Key)),
                Span::styled(what, th.get(StyleName::Text)),
            ]));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "In a dialog, letters only type into its field: no letter is a command there.",
            th.get(StyleName::Muted),
        )));
    }
    lines.push(Line::from(Span::styled(
        "Press ? or Esc to close.",
        th.get(StyleName::Muted),
    )));
    let r = area.centered(
        Constraint::Length(84),
        Constraint::Length(lines.len() as u16 + 2),
    );
    f.render_widget(Clear, r);
    let title = if mode == Mode::Replay {
        "Keys — replay"
    } else {
        "Keys"
    };
    f.render_widget(
        Paragraph::new(lines)
            .style(th.get(StyleName::Dialog))
            .block(block(title, true, th)),
        r,
    );
}
