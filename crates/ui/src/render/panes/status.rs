//! The status bar and the key-hint bar.

use crate::render::prelude::*;

pub(crate) fn status_bar(f: &mut Frame, area: Rect, st: &State, ui: &Ui, th: &Theme, ch: &Chrome) {
    // What just happened first, after the operator: a narrow screen cuts the log's path, not
    // the news.
    let mut news = Vec::new();
    if let Some(i) = st.current_phase()
        && st.phases[i].failed.is_some()
    {
        news.push(Span::styled(
            " ✗ PHASE FAILED: R retry/skip ",
            th.get(StyleName::AlertCritical),
        ));
    }
    if let Some(m) = &ui.message {
        news.push(Span::styled(
            format!(" {m} "),
            th.get(StyleName::GateConfirm),
        ));
    } else if let Some(a) = engine::action_status(st) {
        // The last action, followed to its end, then cleared (the engine says how long).
        let id = a.id.map(|i| format!("#{i} ")).unwrap_or_default();
        let (text, style) = match &a.stage {
            engine::ActionStage::AwaitingApproval => (
                format!("⏸ {id}{} AWAITING APPROVAL by another operator", a.label),
                StyleName::GateConfirm,
            ),
            engine::ActionStage::Running { done, of } => (
                format!("▶ {id}{} running, step {done}/{of}", a.label),
                StyleName::ActionRunning,
            ),
            engine::ActionStage::Succeeded => {
                (format!("✓ {id}{} succeeded", a.label), StyleName::GatePass)
            }
            engine::ActionStage::Failed(e) => (
                format!("✗ {id}{} FAILED: {}", a.label, clean(e)),
                StyleName::ActionFailed,
            ),
            engine::ActionStage::Cancelled(e) => (
                format!("✗ {id}{} CANCELLED: {}", a.label, clean(e)),
                StyleName::ActionFailed,
            ),
            engine::ActionStage::Unknown => (
                format!("⚠ {id}{}: outcome unknown", a.label),
                StyleName::AlertWarning,
            ),
            engine::ActionStage::Blocked => (
                format!("✗ {} BLOCKED (the attempt is recorded)", a.label),
                StyleName::GateBlocked,
            ),
        };
        news.push(Span::styled(format!(" {text} "), th.get(style)));
    }
    let mut spans = vec![Span::styled(
        format!(
            " operator {} ",
            if st.operator.is_empty() {
                "?"
            } else {
                &st.operator
            }
        ),
        th.get(StyleName::Status),
    )];
    if !news.is_empty() {
        spans.push(Span::styled("│", th.get(StyleName::Status)));
        spans.extend(news);
    }
    spans.extend([
        Span::styled(format!("│ audit {} ", ch.audit), th.get(StyleName::Status)),
        Span::styled(format!("│ head {} ", ch.head), th.get(StyleName::Status)),
        Span::styled(
            format!("│ {} {} ", ch.clock, hms(ch.now.or(st.now))),
            th.get(if ui.mode == Mode::Replay {
                StyleName::Replay
            } else {
                StyleName::Status
            }),
        ),
    ]);
    f.render_widget(
        Rows::new(Line::from(spans)).style(th.get(StyleName::Status)),
        area,
    );
}

/// The Next line (live only) and the keys. `next` is the engine's next move, computed once a
/// frame by the caller (presentation mode shows it twice); `None` in replay.
pub(crate) fn hint_bar(
    f: &mut Frame,
    area: Rect,
    next: Option<&engine::NextMove>,
    ui: &Ui,
    th: &Theme,
) {
    let mut spans = Vec::new();
    let read_only = ui.read_only.is_some();
    // The keys, as many as fit; help and quit always stay (they come last in the table). An
    // observer's hints leave out the keys that act.
    let hints: Vec<_> = keymap::bindings(ui.mode)
        .filter(|b| b.hint && !(read_only && b.cmd.acts()))
        .collect();
    let width = |b: &keymap::Binding| b.label.width() + b.short().width() + 3;
    // Help and quit always stay, and so do the keys the Next line names besides its own.
    let always = |b: &keymap::Binding| {
        matches!(b.cmd, keymap::Cmd::Help | keymap::Cmd::Quit)
            || next.is_some_and(|n| !read_only && n.also.contains(&b.label))
    };
    let keep = hints
        .iter()
        .filter(|b| always(b))
        .map(|b| width(b))
        .sum::<usize>();
    if let Some(n) = next {
        // What to do next, first: the engine says it, from the same gates as the dialogs. An
        // observer reads it as the lead's next move, without the lead's key — with its own
        // when the move is another operator's (approving, `A`).
        let label = if read_only { " LEAD NEXT " } else { " NEXT " };
        let key = if read_only { n.others_key } else { n.key }
            .map(|k| format!("({k}) "))
            .unwrap_or_default();
        // The text gets what the label, its key and the keys that always stay leave: cut with
        // an ellipsis, never the keys.
        let room = (area.width as usize).saturating_sub(label.width() + key.width() + keep + 3);
        let text = cut(&clean(&n.text), room);
        spans.push(Span::styled(label, th.get(StyleName::Next)));
        spans.push(Span::styled(" ", th.get(StyleName::Text)));
        spans.push(Span::styled(text, th.get(StyleName::NextText)));
        spans.push(Span::styled(" ", th.get(StyleName::Text)));
        if !key.is_empty() {
            spans.push(Span::styled(key, th.get(StyleName::Key)));
        }
        spans.push(Span::styled("│", th.get(StyleName::Border)));
    }
    let mut room =
        (area.width as usize).saturating_sub(spans.iter().map(|s| s.width()).sum::<usize>() + keep);
    for b in hints {
        if !always(b) {
            if width(b) > room {
                continue;
            }
            room -= width(b);
        }
        spans.push(Span::styled(
            format!(" {} ", b.label),
            th.get(StyleName::Key),
        ));
        spans.push(Span::styled(
            format!("{} ", b.short()),
            th.get(StyleName::Muted),
        ));
    }
    f.render_widget(Rows::new(Line::from(spans)), area);
}
