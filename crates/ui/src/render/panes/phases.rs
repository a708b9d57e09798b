//! The phase timeline: planned against actual, as a `Table`: its columns keep the planned and
//! the actual times apart, and the selected row has the `▸` glyph as well as the tint.

use crate::render::prelude::*;
use ratatui::widgets::{Cell, HighlightSpacing, Row, Table, TableState};

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
    let n = rb.phases.len();
    // Too short for every phase (the compact layout): one line, the phase selected when the
    // pane has the focus, else the phase now (else the next to start, else the last), `5/6`.
    let height = area.height.saturating_sub(2) as usize;
    let only = (height < n * if big { 2 } else { 1 }).then(|| {
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
    // Each shown phase's cells, measured before the columns are sized.
    struct Shown<'a> {
        number: String,
        style: StyleName,
        name: std::borrow::Cow<'a, str>,
        owner: Option<String>,
        planned: String,
        actual: String,
        over: bool,
    }
    let mut shown = Vec::new();
    let mut selected = None;
    for (i, (p, s)) in rb.phases.iter().zip(&st.phases).enumerate() {
        if !ui.phase_shown(rb, i) || only.is_some_and(|o| o != i) {
            continue;
        }
        if focused && i == ui.phase_sel {
            selected = Some(shown.len());
        }
        let (mark, style) = match s.status {
            PhaseStatus::Pending => ("○", StyleName::PhasePending),
            PhaseStatus::Active => ("▶", StyleName::PhaseActive),
            PhaseStatus::Done => ("✓", StyleName::PhaseDone),
        };
        let actual = match (s.started, st.phase_took(i)) {
            (Some(a), Some(t)) if big => format!("{}→{}", a.format("%H:%M"), short_duration(t)),
            (Some(_), Some(t)) => short_duration(t),
            _ => "—".into(),
        };
        // The wall's second line: the owner, and the tasks when the phase lists any.
        let owner = big.then(|| {
            let team = rb.team_name(&p.owner.value);
            let words = if p.tasks.is_empty() {
                team.to_string()
            } else {
                let tasks: Vec<&str> = p.tasks.iter().map(|t| t.as_str()).collect();
                format!("{team}: {}", tasks.join(" · "))
            };
            clean(&words).into_owned()
        });
        shown.push(Shown {
            number: if only.is_some() {
                format!("{mark} {}/{n} ", i + 1)
            } else {
                format!("{mark} {} ", i + 1)
            },
            style,
            name: clean(&p.name),
            owner,
            // Planned and actual in their own columns: `2h │ 2m`, never `2h 2m`.
            planned: format!(" D{:<2} {:>3} │ ", p.day, fmt_duration(p.duration)),
            actual,
            over: engine::phase_overrun(st, rb, i),
        });
    }
    let widest = |w: &dyn Fn(&Shown) -> usize| shown.iter().map(w).max().unwrap_or(0);
    let number_w = widest(&|s| s.number.width());
    let planned_w = widest(&|s| s.planned.width());
    // Room for a phase's time as it grows (`1h05`; on the wall `10:21→1h05`), so the columns
    // stay where they are while phases run; only an OVERRUN takes more.
    let actual_w =
        widest(&|s| s.actual.width() + if s.over { 8 } else { 0 }).max(if big { 10 } else { 4 });
    // The name takes what the other columns leave (the cursor's column too while focused),
    // at most 36 columns.
    let cursor_w = usize::from(focused);
    let inner_w = area.width.saturating_sub(2) as usize;
    let name_w = inner_w
        .saturating_sub(cursor_w + number_w + planned_w + actual_w)
        .max(8);
    let rows: Vec<Row> = shown
        .iter()
        .map(|s| {
            Row::new(vec![
                Cell::from(Span::styled(s.number.as_str(), th.get(s.style))),
                // A cut name says so.
                Cell::from(Span::styled(cut(&s.name, name_w.min(36)), th.get(s.style))),
                Cell::from(Span::styled(s.planned.as_str(), th.get(StyleName::Muted))),
                Cell::from(Line::from(vec![
                    Span::styled(
                        s.actual.as_str(),
                        th.get(if s.over {
                            StyleName::PhaseOverrun
                        } else {
                            s.style
                        }),
                    ),
                    Span::styled(
                        if s.over { " OVERRUN" } else { "" },
                        th.get(StyleName::PhaseOverrun),
                    ),
                ])),
            ])
            .height(if big { 2 } else { 1 })
        })
        .collect();
    let title = format!(
        "Phases{}  planned │ actual",
        filter_note(ui, Pane::Phases, rows.len(), rb.phases.len())
    );
    // The name's column ends where the longest name does (at most 36), so the times sit
    // beside the names.
    let longest = shown
        .iter()
        .map(|s| s.name.width())
        .max()
        .unwrap_or(0)
        .min(36)
        .min(name_w);
    let widths = [
        Constraint::Length(number_w as u16),
        Constraint::Length(longest as u16),
        Constraint::Length(planned_w as u16),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .column_spacing(0)
        .block(block(&title, focused, th))
        // Focused, every row keeps the cursor's column, so the rows stay aligned.
        .highlight_symbol("▸")
        .highlight_spacing(if focused {
            HighlightSpacing::Always
        } else {
            HighlightSpacing::Never
        })
        .row_highlight_style(th.get(StyleName::Selected));
    let mut state = TableState::default().with_selected(selected);
    f.render_stateful_widget(table, area, &mut state);
    // The wall's owner lines run from the name's column to the pane's edge, under the times
    // too (a table's cell ends at its column): written on each row's empty second line.
    let inner = area.inner(ratatui::layout::Margin::new(1, 1));
    let x = inner.x + (cursor_w + number_w) as u16;
    let w = inner.right().saturating_sub(x) as usize;
    for (k, s) in shown.iter().skip(state.offset()).enumerate() {
        let y = inner.y + 2 * k as u16 + 1;
        if let (Some(owner), true) = (&s.owner, y < inner.bottom()) {
            let line = Line::from(Span::styled(cut(owner, w), th.get(StyleName::Muted)));
            f.buffer_mut().set_line(x, y, &line, w as u16);
        }
    }
}
