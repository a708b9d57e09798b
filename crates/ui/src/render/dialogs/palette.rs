//! The command palette (`:`): every action the keymap has, with its key, filtered as one types.

use crate::render::prelude::*;

pub(crate) fn draw(f: &mut Frame, area: Rect, mode: Mode, team: bool, d: &Dialog, th: &Theme) {
    let Dialog::Palette { typed, sel } = d else {
        return;
    };
    let items = keymap::palette(mode, typed, team);
    let sel = (*sel).min(items.len().saturating_sub(1));
    let mut lines = vec![
        Line::from(vec![
            Span::styled(": ", th.get(StyleName::Key)),
            Span::styled(format!("{typed}▏"), th.get(StyleName::Input)),
        ]),
        Line::from(""),
    ];
    for (i, b) in items.iter().enumerate() {
        let here = i == sel;
        let style = if here {
            th.get(StyleName::Selected)
        } else {
            th.get(StyleName::Text)
        };
        lines.push(Line::from(vec![
            Span::styled(if here { "▸ " } else { "  " }, th.get(StyleName::Key)),
            Span::styled(format!("{}  ", right(b.label, 9)), th.get(StyleName::Key)),
            Span::styled(b.help, style),
        ]));
    }
    if items.is_empty() {
        lines.push(Line::from(Span::styled(
            "no command matches",
            th.get(StyleName::Muted),
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "type to filter · ↑/↓ choose · Enter runs it (as its key would) · Esc closes",
        th.get(StyleName::Muted),
    )));
    let w = lines.iter().map(|l| l.width()).max().unwrap_or(0) as u16 + 2;
    let r = area.centered(
        Constraint::Length(w.max(60)),
        Constraint::Length(lines.len() as u16 + 2),
    );
    f.render_widget(Clear, r);
    f.render_widget(
        Rows::new(lines)
            .style(th.get(StyleName::Dialog))
            .block(block("Commands", true, th)),
        r,
    );
}
