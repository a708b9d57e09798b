//! The phase timeline: planned against actual.

use crate::render::prelude::*;

pub(crate) fn phase_pane(
    f: &mut Frame,
    area: Rect,
    rb: &Runbook,
    st: &State,
    ui: &Ui,
    th: &Theme,
    big: bool,
) {
    let focused = ui.focus == Pane::Phases;
    let mut lines = Vec::new();
    let mut shown = 0;
    let n = rb.phases.len();
    // Too short for every phase (the compact layout): one line, the phase selected when the
    // pane has the focus, else the phase now (else the next to start, else the last), `5/6`.
    let rows = area.height.saturating_sub(2) as usize;
    let only = (rows < n * if big { 2 } else { 1 }).then(|| {
        if focused {
            ui.phase_sel
        } else {
            st.current_phase()
                .or_else(|| {
                    st.phases
                        .iter()
                        .position(|p| p.status == PhaseStatus::Pending)
                })
                .unwrap_or(n.saturating_sub(1))
        }
    });
    for (i, (p, s)) in rb.phases.iter().zip(&st.phases).enumerate() {
        if !ui.phase_shown(rb, i) || only.is_some_and(|o| o != i) {
            continue;
        }
        shown += 1;
        let (mark, style) = match s.status {
            PhaseStatus::Pending => ("○", StyleName::PhasePending),
            PhaseStatus::Active => ("▶", StyleName::PhaseActive),
            PhaseStatus::Done => ("✓", StyleName::PhaseDone),
        };
        let took = st.phase_took(i);
        let over = engine::phase_overrun(st, rb, i);
        let actual = match (s.started, took) {
            (Some(a), Some(t)) if big => format!("{}→{}", a.format("%H:%M"), short_duration(t)),
            (Some(_), Some(t)) => short_duration(t),
            _ => "—".into(),
        };
        let name_w = if big {
            36
        } else {
            // `5/6` takes two more columns than `5`.
            (area.width as usize)
                .saturating_sub(if only.is_some() { 32 } else { 30 })
                .clamp(8, 36)
        };
        let here = focused && i == ui.phase_sel;
        // Focused, every row keeps the cursor's column, so the rows stay aligned.
        let cursor = match (here, focused) {
            (true, _) => "▸",
            (false, true) => " ",
            _ => "",
        };
        let name_style = if here {
            th.get(style).patch(th.get(StyleName::Selected))
        } else {
            th.get(style)
        };
        lines.push(Line::from(vec![
            Span::styled(
                if only.is_some() {
                    format!("{}{mark} {}/{n} ", cursor, i + 1)
                } else {
                    format!("{}{mark} {} ", cursor, i + 1)
                },
                th.get(style),
            ),
            // A cut name says so.
            Span::styled(fit(&cut(&p.name, name_w), name_w), name_style),
            // Planned and actual in their own columns: `2h │ 2m`, never `2h 2m`.
            Span::styled(
                format!(" D{:<2} {:>3} │ ", p.day, fmt_duration(p.duration)),
                th.get(StyleName::Muted),
            ),
            Span::styled(
                actual,
                th.get(if over { StyleName::PhaseOverrun } else { style }),
            ),
            Span::styled(
                if over { " OVERRUN" } else { "" },
                th.get(StyleName::PhaseOverrun),
            ),
        ]));
        if big {
            let team = rb.team_name(&p.owner.value);
            let tasks: Vec<&str> = p.tasks.iter().map(|t| t.as_str()).collect();
            // The owner, and the tasks when the phase lists any (no dangling colon).
            let line = if tasks.is_empty() {
                format!("     {team}")
            } else {
                format!("     {team}: {}", tasks.join(" · "))
            };
            lines.push(Line::from(Span::styled(line, th.get(StyleName::Muted))));
        }
    }
    let title = format!(
        "Phases{}  planned │ actual",
        filter_note(ui, Pane::Phases, shown, rb.phases.len())
    );
    f.render_widget(Rows::new(lines).block(block(&title, focused, th)), area);
}
