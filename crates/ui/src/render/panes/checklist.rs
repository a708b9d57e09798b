//! The checklist shown now, with who ticked what.

use crate::render::prelude::*;

pub(crate) fn checklist_pane(
    f: &mut Frame,
    area: Rect,
    rb: &Runbook,
    st: &State,
    ui: &Ui,
    th: &Theme,
) {
    let (list_title, items) = current_checklist(st, rb);
    let done = items
        .iter()
        .filter(|(l, i, _)| st.ticked(l, i).is_some())
        .count();
    // The count first: a cut title keeps it.
    let count = format!("Checklist {done}/{} — ", items.len());
    let room = (area.width as usize).saturating_sub(4 + count.width());
    let title = format!("{count}{}", fit_name(&list_title, room));
    let focused = ui.focus == Pane::Checklist;
    // The running phase's exit gate under its checklist: each condition with its hold, as the
    // engine counts it.
    let holds = st
        .current_phase()
        .map(|i| engine::exit_gate_progress(st, rb, i))
        .unwrap_or_default();
    let inner_h = (area.height.saturating_sub(2) as usize)
        .saturating_sub(holds.len())
        .max(1);
    // A checklist the cursor has not been on yet starts at its first open item (as the next
    // key will find it).
    let sel = if list_title != ui.checklist_title {
        items
            .iter()
            .position(|(l, i, _)| st.ticked(l, i).is_none())
            .unwrap_or(0)
    } else {
        ui.checklist_sel.min(items.len().saturating_sub(1))
    };
    let offset = sel.saturating_sub(inner_h.saturating_sub(1));
    let w = area.width.saturating_sub(5) as usize;
    let mut lines = Vec::new();
    for (n, (list, item, text)) in items.iter().enumerate().skip(offset).take(inner_h) {
        let tick = st.ticked(list, item);
        let who = tick
            .map(|t| format!(" {} {}", t.operator, t.at.format("%H:%M")))
            .unwrap_or_default();
        let room = w.saturating_sub(4 + who.width());
        let mut style = th.get(if tick.is_some() {
            StyleName::PhaseDone
        } else {
            StyleName::Text
        });
        if focused && n == sel {
            style = style.patch(th.get(StyleName::Selected));
        }
        // The cursor is a glyph too (Space ticks the item it is on), not only a tint.
        lines.push(Line::from(vec![
            Span::styled(if n == sel { "▸" } else { " " }, th.get(StyleName::Key)),
            Span::styled(if tick.is_some() { "[x] " } else { "[ ] " }, style),
            Span::styled(fit(&cut(text, room), room), style),
            Span::styled(who, th.get(StyleName::Muted)),
        ]));
    }
    if items.is_empty() {
        lines.push(Line::from(Span::styled(
            "no checklist for this phase",
            th.get(StyleName::Muted),
        )));
    }
    for h in &holds {
        let (mark, words, style) = hold_row(rb, h);
        lines.push(Line::from(vec![
            Span::styled(format!(" {mark}  "), th.get(style)),
            Span::styled(
                fit(&cut(&words, w.saturating_sub(4)), w.saturating_sub(4)),
                th.get(style),
            ),
        ]));
    }
    f.render_widget(Rows::new(lines).block(block(&title, focused, th)), area);
}
