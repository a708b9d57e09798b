//! Presentation mode (`p`): the figures the room reads from across it, in block letters
//! (tui-big-text) — the traffic share, the active pool, a countdown or stopwatch (else the
//! bake), the rollout gate's metrics against their thresholds — then the canary ladder, the
//! alerts (critical first), the Next line and the status bar. Every figure has its word or
//! glyph beside it; colour only repeats it.

use super::panes::{banner, header, pools, status};
use crate::render::prelude::*;
use tui_big_text::{BigText, PixelSize};

/// How big the block letters are: cells a character takes, across and down.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Size {
    /// 8×8 cells a character.
    Full,
    /// 8×4.
    HalfHeight,
    /// 4×4.
    Quadrant,
    /// Plain text.
    Text,
}

impl Size {
    fn cells(self) -> (usize, u16) {
        match self {
            Size::Full => (8, 8),
            Size::HalfHeight => (8, 4),
            Size::Quadrant => (4, 4),
            Size::Text => (1, 1),
        }
    }

    /// The largest size, not above `max`, at which `text` fits in `area`.
    fn fitting(max: Size, text: &str, area: Rect) -> Size {
        let n = text.width();
        [Size::Full, Size::HalfHeight, Size::Quadrant, Size::Text]
            .into_iter()
            .skip_while(|s| *s != max)
            .find(|s| {
                let (w, h) = s.cells();
                n * w <= area.width as usize && h <= area.height
            })
            .unwrap_or(Size::Text)
    }
}

/// Big `text` centred in `area` (block letters as large as fit, up to `max`).
fn figure(f: &mut Frame, area: Rect, text: &str, style: Style, max: Size) {
    let size = Size::fitting(max, text, area);
    let (_, h) = size.cells();
    let [_, area, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(h),
        Constraint::Fill(1),
    ])
    .areas(area);
    // Block letters in the style's signal colour: a banner's background becomes the
    // letters' colour (a solid box of it would hide them).
    let style = match style.bg {
        Some(bg) => Style::new().fg(bg).add_modifier(Modifier::BOLD),
        None => style,
    };
    let px = match size {
        Size::Full => PixelSize::Full,
        Size::HalfHeight => PixelSize::HalfHeight,
        Size::Quadrant => PixelSize::Quadrant,
        Size::Text => {
            let line = Line::from(Span::styled(text.to_string(), style)).centered();
            f.render_widget(Rows::new(line), area);
            return;
        }
    };
    let big = BigText::builder()
        .pixel_size(px)
        .style(style)
        .lines(vec![Line::from(text.to_string())])
        .centered()
        .build();
    f.render_widget(big, area);
}

/// A box with a caption on top, a big figure and a line of words under it.
struct Card {
    caption: String,
    figure: String,
    words: Vec<Span<'static>>,
    style: Style,
}

fn card(f: &mut Frame, area: Rect, c: Card, max: Size, th: &Theme) {
    // A caption too long for its box ends in `…`, as a cut does everywhere.
    let caption = cut(&c.caption, (area.width as usize).saturating_sub(4));
    let b = block(&caption, false, th).border_style(c.style);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let [big, words] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    figure(f, big, &c.figure, c.style, max);
    f.render_widget(Rows::new(Line::from(c.words).centered()), words);
}

pub(crate) fn presentation(
    f: &mut Frame,
    area: Rect,
    rb: &Runbook,
    st: &State,
    ui: &Ui,
    th: &Theme,
    ch: &Chrome,
) {
    let urgent = banner::emergency(rb, st, th);
    // The block letters' size follows the screen: 8 rows a letter on a tall one.
    let (fig_max, fig_h) = if area.height >= 36 {
        (Size::Full, 11)
    } else {
        (Size::Quadrant, 7)
    };
    let (met_max, met_h) = if area.height >= 55 {
        (Size::Full, 12)
    } else if area.height >= 30 {
        (Size::HalfHeight, 8)
    } else {
        (Size::Text, 5)
    };
    let [
        title,
        urgent_area,
        figures,
        metrics,
        ladder,
        next_area,
        alerts,
        status_area,
        hints,
    ] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(urgent.is_some())),
        Constraint::Length(fig_h),
        Constraint::Length(met_h),
        Constraint::Length(1),
        // On a tall wall the Next line in block letters too (when it fits), else one bold line.
        Constraint::Length(if area.height >= 55 { 6 } else { 3 }),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    header::title_bar(f, title, rb, st, th, ui);
    if let Some(line) = urgent {
        f.render_widget(Rows::new(line), urgent_area);
    }
    figures_band(f, figures, rb, st, th, fig_max);
    metrics_band(f, metrics, rb, st, th, met_max);
    let mut lad = vec![Span::styled(" Canary  ", th.get(StyleName::Muted))];
    lad.extend(pools::ladder(rb, st, th, ladder.width.saturating_sub(9)).spans);
    f.render_widget(Rows::new(Line::from(lad)), ladder);
    let next = engine::next_move(st, rb);
    next_box(f, next_area, &next, ui, th);
    alerts_list(f, alerts, rb, st, th);
    status::status_bar(f, status_area, st, ui, th, ch);
    status::hint_bar(f, hints, (ui.mode == Mode::Live).then_some(&next), ui, th);
}

/// The traffic share, the active pool, and what the clock says: an auto-abort countdown, a
/// rollback's stopwatch or result, else the bake.
fn figures_band(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, th: &Theme, max: Size) {
    let [share, pool, clock] = Layout::horizontal([
        Constraint::Percentage(30),
        Constraint::Percentage(37),
        Constraint::Fill(1),
    ])
    .areas(area);
    let muted = th.get(StyleName::Muted);
    let next = engine::rollout_ladder(st, rb)
        .into_iter()
        .find(|(_, r)| *r == engine::Rung::Next)
        .map(|(p, _)| format!("next {p} %"))
        .unwrap_or_else(|| "last step".into());
    card(
        f,
        share,
        Card {
            caption: if st.split_by_flag(rb) {
                format!("Rollout ({}, by flag)", rb.rollout.pool.as_str())
            } else {
                format!("Rollout ({})", rb.rollout.pool.as_str())
            },
            // "100%" without a space: four letters fit the card in full size at 120 columns,
            // so the figure does not shrink as the rollout reaches 100.
            figure: format!("{}%", st.traffic_share(rb)),
            words: vec![Span::styled(next, muted)],
            style: th.get(StyleName::Title),
        },
        max,
        th,
    );
    let active = st.pools.active.unwrap_or(rb.pools.active);
    let (ok, n) = st.pools.healthy(active);
    let healthy = engine::pool_healthy(st, active);
    card(
        f,
        pool,
        Card {
            caption: if st.split_by_flag(rb) {
                "Load balancer's active pool".into()
            } else {
                "Active pool".into()
            },
            figure: active.as_str().to_uppercase(),
            words: vec![Span::styled(
                format!("{} {ok}/{n} healthy", if healthy { "✓" } else { "✗ NOT" }),
                th.get(if healthy {
                    StyleName::PoolHealthy
                } else {
                    StyleName::PoolDown
                }),
            )],
            style: th.get(pool_style(active)),
        },
        max,
        th,
    );
    card(f, clock, clock_card(rb, st, th), max, th);
}

fn clock_card(rb: &Runbook, st: &State, th: &Theme) -> Card {
    if let Some(c) = &st.abort {
        let left = st
            .now
            .map(|now| (c.deadline - now).to_std().unwrap_or_default())
            .unwrap_or_default();
        return Card {
            caption: "⚠ AUTO-ABORT".into(),
            figure: mmss(left),
            words: vec![
                Span::styled(
                    format!("rollback {} ", c.procedure),
                    th.get(StyleName::AlertCritical),
                ),
                Span::styled(" c cancel ", th.get(StyleName::Key)),
            ],
            style: th.get(StyleName::AlertCritical),
        };
    }
    let rollback = st
        .running()
        .filter(|a| matches!(a.action, engine::Action::Rollback { .. }))
        .or_else(|| st.unacknowledged_rollback());
    if let Some(a) = rollback
        && let engine::Action::Rollback { procedure } = &a.action
        && let Some(t) = engine::rollback_timing(st, rb, a)
    {
        let target = t
            .target
            .map(|t| format!(" / target {}", mmss(t)))
            .unwrap_or_default();
        let (word, bad) = match (&a.outcome, t.over_target()) {
            (engine::Outcome::Running, false) => ("⏱ running", false),
            (engine::Outcome::Running, true) => ("⏱ OVER TARGET", true),
            (engine::Outcome::Succeeded(_), false) => ("✓ rolled back", false),
            (engine::Outcome::Succeeded(_), true) => ("✗ rolled back, OVER TARGET", true),
            _ => ("✗ FAILED", true),
        };
        return Card {
            caption: format!("Rollback {procedure}"),
            figure: mmss(t.took),
            words: vec![Span::styled(
                format!("{word}{target}"),
                th.get(if bad {
                    StyleName::AlertCritical
                } else {
                    StyleName::GatePass
                }),
            )],
            style: th.get(if bad {
                StyleName::AlertCritical
            } else {
                StyleName::ActionRunning
            }),
        };
    }
    // A critical alert comes before the bake: the room reads what is wrong, not how long a
    // step the gate now refuses has left.
    if let Some(a) = st.critical_firing().next() {
        let banner::AlertParts {
            name,
            unit,
            cmp,
            now,
        } = banner::alert_parts(rb, st, a);
        let held = st
            .age(Some(a.fired_at))
            .map(|d| format!(" for {}", short_duration(d)))
            .unwrap_or_default();
        let n = st.critical_firing().count();
        return Card {
            caption: if n > 1 {
                format!("● CRITICAL (1 of {n})")
            } else {
                "● CRITICAL".into()
            },
            figure: now
                .map(|v| format!("{}{unit}", engine::fmt_num(v)))
                .unwrap_or_else(|| "?".into()),
            words: vec![Span::styled(
                format!(
                    "● {} {cmp} {}{held}",
                    clean(name),
                    engine::fmt_num(a.threshold)
                ),
                th.get(StyleName::AlertCritical),
            )],
            style: th.get(StyleName::AlertCritical),
        };
    }
    if let Some(b) = engine::bake_progress(st, rb) {
        return Card {
            // The figure counts down: what the room waits for is the time left (once done,
            // the bake it took).
            caption: if b.done() {
                format!("Bake at {} %", b.percent)
            } else {
                format!("Bake at {} % — left", b.percent)
            },
            figure: short_duration(if b.done() { b.bake } else { b.left() }),
            words: vec![Span::styled(
                if b.done() {
                    format!("✓ bake done ({})", short_duration(b.bake))
                } else {
                    format!(
                        "▶ {} baked of {} {}",
                        short_duration(b.baked),
                        short_duration(b.bake),
                        header::gauge(&b, 8)
                    )
                },
                th.get(if b.done() {
                    StyleName::GatePass
                } else {
                    StyleName::Muted
                }),
            )],
            style: th.get(StyleName::Title),
        };
    }
    let (figure, words) = match st.current_phase() {
        Some(i) => (
            format!("{}/{}", i + 1, rb.phases.len()),
            format!("▶ {}", rb.phases[i].name),
        ),
        // Block letters are ASCII (font8x8's basic set): no dash or tick among them.
        None if st.phases.iter().all(|p| p.status == PhaseStatus::Done) => (
            format!("{0}/{0}", rb.phases.len()),
            "✓ every phase done".into(),
        ),
        None => (format!("0/{}", rb.phases.len()), "○ not started".into()),
    };
    Card {
        caption: "Phase".into(),
        figure,
        words: vec![Span::styled(words, th.get(StyleName::PhaseActive))],
        style: th.get(StyleName::Title),
    }
}

/// The metrics the rollout gate reads that have thresholds (any metric with one when the gate
/// names none), not ok first when they do not all fit.
fn shown_metrics<'a>(rb: &'a Runbook, st: &State, room: usize) -> Vec<&'a crate::runbook::Metric> {
    let thresholds = |m: &&crate::runbook::Metric| m.warning.is_some() || m.critical.is_some();
    let mut v: Vec<_> = rb
        .rollout
        .gate
        .iter()
        .filter_map(|id| rb.metric(&id.value))
        .filter(thresholds)
        .collect();
    if v.is_empty() {
        v = rb.metrics.iter().filter(thresholds).collect();
    }
    if v.len() > room {
        v.sort_by_key(|m| level_rank(st.metric_level(rb, &m.id.value)));
        v.truncate(room);
    }
    v
}

fn level_rank(l: MetricLevel) -> u8 {
    match l {
        MetricLevel::Critical => 0,
        MetricLevel::Warning => 1,
        MetricLevel::Stale => 2,
        MetricLevel::Ok => 3,
    }
}

/// The metric cards: name, value in block letters, state (glyph and word) and thresholds.
fn metrics_band(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, th: &Theme, max: Size) {
    const MIN_W: u16 = 26;
    let room = (area.width / MIN_W).max(1) as usize;
    let shown = shown_metrics(rb, st, room);
    if shown.is_empty() {
        return;
    }
    let cols = Layout::horizontal(vec![Constraint::Fill(1); shown.len()]).split(area);
    for (m, &col) in shown.iter().zip(cols.iter()) {
        let level = st.metric_level(rb, &m.id.value);
        let ms = st.metrics.get(&m.id.value);
        let (mark, style) = match level {
            MetricLevel::Ok => ("✓", StyleName::MetricOk),
            MetricLevel::Warning => ("▲", StyleName::MetricWarning),
            MetricLevel::Critical => ("●", StyleName::MetricCritical),
            MetricLevel::Stale => ("?", StyleName::MetricStale),
        };
        let figure = match ms.and_then(|s| s.last) {
            Some(v) if level != MetricLevel::Stale => fmt_num(v),
            _ => "--".into(),
        };
        let cmp = if m.direction == Direction::Below {
            "<"
        } else {
            ">"
        };
        let mut thr = Vec::new();
        if let Some(c) = &m.critical {
            thr.push(format!("c{cmp}{}", fmt_num(c.value)));
        }
        if let Some(w) = &m.warning {
            thr.push(format!("w{cmp}{}", fmt_num(w.value)));
        }
        let inner_w = col.width.saturating_sub(2) as usize;
        let word = format!("{mark} {} ", level.as_str().to_uppercase());
        let thr = thr.join(" ");
        // The state word always; the thresholds as room allows.
        let mut words = vec![Span::styled(word.clone(), th.get(style))];
        if word.width() + thr.width() <= inner_w {
            words.push(Span::styled(thr, th.get(StyleName::Muted)));
        }
        let unit = if m.unit.is_empty() {
            String::new()
        } else {
            format!(" ({})", m.unit)
        };
        card(
            f,
            col,
            Card {
                caption: format!(
                    "{}{unit}",
                    fit_name(&m.name, inner_w.saturating_sub(2 + unit.width()))
                ),
                figure,
                words,
                style: th.get(style),
            },
            max,
            th,
        );
    }
}

/// The alerts firing, critical first, one a line.
/// The engine's next move, boxed and bold (in block letters when there is room and the text
/// is plain ASCII, which the block font draws), with its key unless this console only watches.
fn next_box(f: &mut Frame, area: Rect, n: &engine::NextMove, ui: &Ui, th: &Theme) {
    let key = n
        .key
        .filter(|_| ui.read_only.is_none())
        .map(|k| format!(" ({k})"))
        .unwrap_or_default();
    let text = format!("{}{key}", clean(&n.text));
    // The hint bar's word, in capitals: the amber border has its word.
    let caption = if ui.read_only.is_some() {
        "LEAD NEXT"
    } else {
        "NEXT"
    };
    let b = block(caption, false, th).border_style(th.get(StyleName::GateConfirm));
    let inner = b.inner(area);
    f.render_widget(b, area);
    let style = th.get(StyleName::Title).add_modifier(Modifier::BOLD);
    if inner.height >= 4 && text.is_ascii() && text.len() * 4 <= inner.width as usize {
        figure(f, inner, &text, style, Size::Quadrant);
        return;
    }
    let [line] = Layout::vertical([Constraint::Length(1)])
        .flex(ratatui::layout::Flex::Center)
        .areas(inner);
    let text = cut(&text, inner.width as usize);
    f.render_widget(
        Rows::new(Line::from(Span::styled(text, style)).centered()),
        line,
    );
}

fn alerts_list(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, th: &Theme) {
    let firing = banner::firing_by_level(st);
    let mut lines: Vec<Line> = firing
        .iter()
        .map(|a| {
            let (text, style) = banner::alert_text(rb, st, a);
            Line::from(Span::styled(format!(" {text} "), th.get(style)))
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            " ✓ No alerts firing ",
            th.get(StyleName::AlertNone),
        )));
    }
    let title = format!("Alerts ({} firing)", firing.len());
    f.render_widget(Rows::new(lines).block(block(&title, false, th)), area);
}
