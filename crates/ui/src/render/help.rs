//! The help overlay: built from the keymap (the keys the console dispatches, the keys a dialog
//! takes), as the hint bar and dispatch are, and a legend of the glyphs the screen draws.

use crate::render::prelude::*;

/// Every glyph and mark the screen uses to say a state without colour.
const LEGEND: &[(&str, &str)] = &[
    ("✓", "done, ok, passed; a healthy server"),
    ("▶", "running now, the current step"),
    ("○", "pending, a step still to come"),
    ("●", "critical alert"),
    ("✗", "failed, a server down"),
    ("▲", "warning"),
    ("⚠", "auto-abort, outcome unknown"),
    ("⏱", "a rollback running"),
    ("▸", "the selected row"),
    ("w> c>", "warning / critical threshold"),
    ("w< c<", "the same, lower is worse"),
    ("STALE", "no reading for 3 intervals"),
    ("OVERRUN", "a phase past its planned time"),
    ("▰▱", "bake done / to go"),
];

pub(crate) fn help(f: &mut Frame, area: Rect, ui: &Ui, th: &Theme) {
    let (mode, scroll) = (ui.mode, ui.help_scroll);
    let key = |k: &str| Span::styled(format!("{}  ", right(k, 13)), th.get(StyleName::Key));
    let mut keys: Vec<Line> = Vec::new();
    // An observer's console: the keys that act are left out, and the help says why.
    if let Some(why) = &ui.read_only {
        keys.push(Line::from(Span::styled(
            format!(
                "Read-only: {} — only the lead's console acts; you may comment (C), acknowledge alerts (X), approve (A)",
                clean(why)
            ),
            th.get(StyleName::GateConfirm),
        )));
    }
    keys.extend(
        keymap::help_keys(mode, ui.read_only.is_some(), ui.team)
            .into_iter()
            .map(|(k, what)| {
                Line::from(vec![key(&k), Span::styled(what, th.get(StyleName::Text))])
            }),
    );
    match mode {
        Mode::Live if ui.read_only.is_some() => {}
        Mode::Live => {
            for (k, what) in keymap::DIALOG_KEYS {
                keys.push(Line::from(vec![
                    key(k),
                    Span::styled(*what, th.get(StyleName::Text)),
                ]));
            }
            keys.push(Line::from(Span::styled(
                "In a dialog, letters only type into its field: no letter is a command there.",
                th.get(StyleName::Muted),
            )));
        }
        Mode::Replay => {
            // The live action keys, refused here.
            let refused: Vec<&str> = keymap::bindings(Mode::Live)
                .filter(|b| b.cmd.acts())
                .filter(|b| {
                    b.keys
                        .iter()
                        .all(|k| keymap::command(plain(*k), Mode::Replay).is_none())
                })
                .map(|b| b.label)
                .collect();
            keys.push(Line::from(vec![
                key(&refused.join(" ")),
                Span::styled(
                    "read-only replay: no action is taken",
                    th.get(StyleName::Text),
                ),
            ]));
        }
    }
    let mut legend = vec![Line::from(Span::styled(
        "Legend",
        th.get(StyleName::DialogTitle),
    ))];
    for (g, what) in LEGEND {
        legend.push(Line::from(vec![
            Span::styled(format!("{}  ", right(g, 7)), th.get(StyleName::Key)),
            Span::styled(*what, th.get(StyleName::Text)),
        ]));
    }
    let footer = Line::from(Span::styled(
        "Press ? or Esc to close.",
        th.get(StyleName::Muted),
    ));
    // Side by side when the screen is wide enough, else the legend under the keys.
    let keys_w = keys.iter().map(|l| l.width()).max().unwrap_or(0) as u16;
    let legend_w = legend.iter().map(|l| l.width()).max().unwrap_or(0) as u16;
    let side = area.width >= keys_w + legend_w + 5;
    if !side {
        // Under the keys, the legend takes two entries a line when they fit the keys' width.
        let entry_w = legend.iter().skip(1).map(|l| l.width()).max().unwrap_or(0);
        if 2 * entry_w + 2 <= keys_w as usize {
            let mut rest = legend.split_off(1).into_iter();
            while let Some(mut a) = rest.next() {
                if let Some(b) = rest.next() {
                    let pad = entry_w + 2 - a.width();
                    a.spans.push(Span::raw(" ".repeat(pad)));
                    a.spans.extend(b.spans);
                }
                legend.push(a);
            }
        }
    }
    let (w, h) = if side {
        (
            keys_w + legend_w + 5,
            keys.len().max(legend.len()) as u16 + 3,
        )
    } else {
        // The keys, a blank line, the legend, the footer and the borders.
        (
            keys_w.max(legend_w) + 2,
            (keys.len() + legend.len()) as u16 + 4,
        )
    };
    let r = area.centered(Constraint::Length(w), Constraint::Length(h));
    f.render_widget(Clear, r);
    // Taller than the screen: j/k scroll it.
    let cut = h > r.height;
    let title = match (mode, cut) {
        (Mode::Replay, false) => "Keys — replay",
        (Mode::Replay, true) => "Keys — replay (j/k scroll)",
        (Mode::Live, false) => "Keys",
        (Mode::Live, true) => "Keys (j/k scroll)",
    };
    let b = block(title, true, th).style(th.get(StyleName::Dialog));
    let inner = b.inner(r);
    f.render_widget(b, r);
    let [body, foot] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    if side {
        let [k, _, l] = Layout::horizontal([
            Constraint::Length(keys_w),
            Constraint::Length(3),
            Constraint::Min(1),
        ])
        .areas(body);
        f.render_widget(Rows::new(keys), k);
        f.render_widget(Rows::new(legend), l);
    } else {
        keys.push(Line::from(""));
        keys.extend(legend);
        let skip = scroll.min(keys.len().saturating_sub(body.height as usize));
        f.render_widget(Rows::new(keys.split_off(skip)), body);
    }
    f.render_widget(Rows::new(footer), foot);
}

fn plain(code: ratatui::crossterm::event::KeyCode) -> ratatui::crossterm::event::KeyEvent {
    ratatui::crossterm::event::KeyEvent::new(code, ratatui::crossterm::event::KeyModifiers::NONE)
}
