//! Drawing: a pure function of the runbook, the state, the UI state and the theme. It never
//! awaits and never changes domain state.

use super::app::{Dialog, Pane, Stage, Ui, current_checklist};
use super::keymap::{self, Mode};
use super::theme::Theme;
use crate::engine::{self, Level, MetricLevel, PhaseStatus, State, Verdict, fmt_num};
use crate::runbook::{Direction, PoolName, Runbook, fmt_duration};
use crate::text::clean;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

/// What the frame shows besides the state: where the log is, its head, the clock.
pub struct Chrome<'a> {
    pub audit: &'a str,
    pub head: &'a str,
    /// `SIM ×30`, `LIVE`, `REPLAY 120/480 ×10 ▶`.
    pub clock: String,
    /// The log pane's lines; `None` shows the live tracing log (tui-logger).
    pub log: Option<&'a [String]>,
    /// The source clock now (live); `None` shows the time of the last event (replay).
    pub now: Option<crate::engine::Time>,
}

pub fn render(f: &mut Frame, rb: &Runbook, st: &State, ui: &Ui, th: &Theme, ch: &Chrome) {
    let area = f.area();
    f.render_widget(
        Block::default().style(
            Style::default()
                .bg(th.background)
                .fg(th.get("text").fg.unwrap_or_default()),
        ),
        area,
    );
    let big = area.height >= 55 && area.width >= 200;
    // A short screen gives the log fewer rows before anything else loses one.
    let log_h = if big {
        14
    } else if area.height < 30 {
        4
    } else {
        7
    };
    let urgent = emergency(rb, st, th);
    let [title, urgent_area, banner, body, log, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(urgent.is_some())),
        Constraint::Length(1),
        Constraint::Min(10),
        Constraint::Length(log_h),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    title_bar(f, title, rb, st, th, ui);
    if let Some(line) = urgent {
        f.render_widget(Paragraph::new(line), urgent_area);
    }
    alert_banner(f, banner, rb, st, th);
    let left_w = if big {
        70
    } else {
        (area.width * 38 / 100).max(40)
    };
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_w), Constraint::Min(40)]).areas(body);
    let phases_h = rb.phases.len() as u16 * if big { 2 } else { 1 } + 2;
    // Pools sit under the checklist; flags take the right column's width under the metrics.
    // Room for every server the runbook names or the sources report (a `${VAR}` list in the
    // runbook expands to several).
    let servers = |n: usize, seen: usize| n.max(seen) as u16;
    let pools_h = 2
        + servers(rb.pools.blue.servers.len(), st.pools.blue.len())
        + servers(rb.pools.green.servers.len(), st.pools.green.len())
        + if big { 3 } else { 2 };
    let [phases, checklist, pools] = Layout::vertical([
        Constraint::Length(phases_h),
        Constraint::Min(5),
        Constraint::Length(pools_h),
    ])
    .areas(left);
    let flags_h = rb.flags.len() as u16 + if big { 6 } else { 5 };
    let [metrics, flags] =
        Layout::vertical([Constraint::Min(8), Constraint::Length(flags_h)]).areas(right);
    phase_pane(f, phases, rb, st, th, big);
    checklist_pane(f, checklist, rb, st, ui, th);
    metrics_pane(f, metrics, rb, st, ui, th, big);
    pools_pane(f, pools, rb, st, th, big);
    flags_pane(f, flags, rb, st, ui, th);
    log_pane(f, log, ui, th, ch);
    status_bar(f, status, st, ui, th, ch);
    hint_bar(f, hints, ui, th);
    if let Some(d) = &ui.dialog {
        dialog(f, area, rb, st, ui, d, th);
    }
    if ui.help {
        help(f, area, ui.mode, th);
    }
}

fn block<'a>(title: &'a str, focused: bool, th: &Theme) -> Block<'a> {
    Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(th.get(if focused { "border.focus" } else { "border" }))
        .title(Span::styled(format!(" {title} "), th.get("title")))
}

fn hms(t: Option<engine::Time>) -> String {
    t.map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_else(|| "--:--:--".into())
}

fn title_bar(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, th: &Theme, ui: &Ui) {
    let active = st.pools.active.unwrap_or(rb.pools.active);
    let sep = || Span::styled(" │ ", th.get("border"));
    // What must always show, in order: the traffic share, the active pool, the go/no-go.
    // The phase and then the plan's name get what room is left.
    let mut tail = vec![
        sep(),
        Span::styled(
            format!("Rollout {} %", st.traffic_share(rb)),
            th.get("title"),
        ),
        sep(),
        Span::styled("Active ", th.get("muted")),
        Span::styled(active.as_str().to_uppercase(), th.get(pool_style(active))),
    ];
    if let Some(d) = &st.decision {
        tail.push(sep());
        tail.push(Span::styled(
            match (d.go, d.withdrawn.is_some()) {
                (true, false) => "GO signed",
                (true, true) => "GO WITHDRAWN",
                (false, _) => "NO-GO signed",
            },
            th.get(if d.is_go() {
                "gate.pass"
            } else {
                "gate.blocked"
            }),
        ));
    }
    let mut head = vec![];
    if ui.mode == Mode::Replay {
        head.push(Span::styled(" REPLAY ", th.get("replay")));
    }
    head.push(Span::styled(" WARROOM ", th.get("pool.active")));
    let used = |spans: &[Span]| spans.iter().map(|s| s.width()).sum::<usize>();
    let room = (area.width as usize).saturating_sub(used(&head) + used(&tail));
    let (phase, phase_short) = match st.current_phase() {
        Some(i) => (
            format!("Phase {}/{} {}", i + 1, rb.phases.len(), rb.phases[i].name),
            format!("Phase {}/{}", i + 1, rb.phases.len()),
        ),
        None if st.phases.iter().all(|p| p.status == PhaseStatus::Done) => {
            ("All phases done".to_string(), "Done".to_string())
        }
        None => ("Not started".to_string(), "Not started".to_string()),
    };
    let phase_w = phase.chars().count() + 3;
    let mut middle = Vec::new();
    if room >= phase_w + 12 {
        // The plan's name, shortened to what is left after the phase.
        let name_w = (room - phase_w - 3).min(if area.width >= 200 { 80 } else { 40 });
        middle.push(Span::styled(
            format!(" {} ", short_name(&rb.name, name_w)),
            th.get("title"),
        ));
        middle.push(sep());
        middle.push(Span::styled(phase, th.get("phase.active")));
    } else if room >= phase_w {
        middle.push(sep());
        middle.push(Span::styled(phase, th.get("phase.active")));
    } else if room >= phase_short.chars().count() + 3 {
        middle.push(sep());
        middle.push(Span::styled(phase_short, th.get("phase.active")));
    }
    let mut spans = head;
    spans.extend(middle);
    spans.extend(tail);
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `2h47m`, `29m`, `45s`: a duration in at most two units.
fn short_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// The runbook's name, cut at a word boundary (or a colon) to fit.
fn short_name(name: &str, max: usize) -> String {
    let head = name.split(':').next().unwrap_or(name).trim();
    if head.chars().count() <= max {
        return head.to_string();
    }
    let mut out = String::new();
    for w in head.split_whitespace() {
        if out.chars().count() + w.chars().count() + 1 > max.saturating_sub(1) {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out.push('…');
    out
}

fn pool_style(p: PoolName) -> &'static str {
    match p {
        PoolName::Blue => "pool.blue",
        PoolName::Green => "pool.green",
    }
}

fn alert_banner(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, th: &Theme) {
    let mut spans = Vec::new();
    let firing: Vec<_> = st.firing().collect();
    let worst = firing.iter().map(|a| a.level).max().unwrap_or(Level::Ok);
    let style = th.get(match worst {
        Level::Critical => "alert.critical",
        Level::Warning => "alert.warning",
        Level::Ok => "alert.none",
    });
    if firing.is_empty() {
        spans.push(Span::styled(" ✓ No alerts firing ", style));
    } else {
        let mut sorted = firing.clone();
        sorted.sort_by_key(|a| std::cmp::Reverse(a.level));
        for a in sorted {
            let m = rb.metric(&a.metric);
            let name = m.map(|m| m.name.as_str()).unwrap_or(&a.metric);
            let unit = m.map(|m| m.unit.as_str()).unwrap_or("");
            let cmp = if m.is_some_and(|m| m.direction == Direction::Below) {
                "<"
            } else {
                ">"
            };
            let cur = st.metrics.get(&a.metric).and_then(|s| s.last).or(a.value);
            let since = st
                .age(Some(a.fired_at))
                .map(fmt_duration)
                .unwrap_or_default();
            spans.push(Span::styled(
                format!(
                    " {} {} {} {} {} {cmp} {} {} for {since} ",
                    if a.level == Level::Critical {
                        "● CRITICAL"
                    } else {
                        "▲ WARNING"
                    },
                    name,
                    "",
                    cur.map(fmt_num).unwrap_or_else(|| "?".into()),
                    unit,
                    fmt_num(a.threshold),
                    unit
                ),
                th.get(if a.level == Level::Critical {
                    "alert.critical"
                } else {
                    "alert.warning"
                }),
            ));
            spans.push(Span::raw(" "));
        }
    }
    // Found on start: an action that was requested but whose outcome was never recorded.
    // It stays on the banner until the next action is requested.
    if let Some(a) = st
        .actions
        .last()
        .filter(|a| a.outcome == crate::engine::Outcome::Unknown)
    {
        spans.push(Span::styled(
            format!(
                " ⚠ #{} {}: outcome unknown — verify ",
                a.id,
                a.action.label()
            ),
            th.get("alert.warning"),
        ));
    }
    for (addr, d) in st
        .servers_down
        .iter()
        .filter(|(a, d)| st.pools.servers(d.pool).iter().any(|s| &s.address == *a))
    {
        spans.push(Span::styled(
            format!(
                " ▲ SERVER DOWN {} ({}): {} ",
                clean(addr),
                d.pool,
                clean(&d.error)
            ),
            th.get("alert.warning"),
        ));
    }
    if let Some(i) = st.current_phase()
        && let Some(fail) = &st.phases[i].failed
    {
        spans.push(Span::styled(
            format!(
                " ✗ PHASE FAILED at step {} ({}): retry or skip (R) ",
                fail.step + 1,
                fail.name
            ),
            th.get("alert.critical"),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `m:ss`: a stopwatch reading.
fn mmss(d: std::time::Duration) -> String {
    format!("{}:{:02}", d.as_secs() / 60, d.as_secs() % 60)
}

/// The emergency line above the alerts: an auto-abort countdown, a running rollback's
/// stopwatch, or how the last rollback ended until the lead acknowledges it. `None` when there
/// is nothing of the kind.
pub fn emergency(rb: &Runbook, st: &State, th: &Theme) -> Option<Line<'static>> {
    if let Some(c) = &st.abort {
        let left = (c.deadline - st.now?).to_std().unwrap_or_default();
        // The key comes before the cause: on a narrow screen the cause is what is cut.
        return Some(Line::from(vec![
            Span::styled(
                format!(" ⚠ AUTO-ABORT in {} ", mmss(left)),
                th.get("alert.critical").add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!(" rollback {} ", c.procedure),
                th.get("alert.critical"),
            ),
            Span::styled(" c cancel ", th.get("key")),
            Span::styled(format!(" {} ", clean(&c.cause)), th.get("alert.critical")),
        ]));
    }
    if let Some(a) = st.running()
        && let engine::Action::Rollback { procedure } = &a.action
        && let Some(timing) = engine::rollback_timing(st, rb, a)
    {
        let (took, target, over) = (timing.took, timing.target, timing.over_target());
        return Some(Line::from(Span::styled(
            format!(
                " ⏱ ROLLBACK {} running {}{}{} ",
                procedure.to_uppercase(),
                mmss(took),
                target
                    .map(|t| format!(" / target {}", mmss(t)))
                    .unwrap_or_default(),
                if over { " — OVER TARGET" } else { "" }
            ),
            th.get(if over {
                "alert.warning"
            } else {
                "action.running"
            }),
        )));
    }
    let a = st.unacknowledged_rollback()?;
    let engine::Action::Rollback { procedure } = &a.action else {
        return None;
    };
    let timing = engine::rollback_timing(st, rb, a)?;
    let (took, target, within) = (timing.took, timing.target, !timing.over_target());
    let (word, ok) = match &a.outcome {
        engine::Outcome::Succeeded(_) => ("rolled back in", true),
        engine::Outcome::Failed(_) => ("rollback FAILED after", false),
        engine::Outcome::Cancelled(_) => ("rollback CANCELLED after", false),
        _ => ("rollback outcome unknown after", false),
    };
    let mark = if ok && within { "✓" } else { "✗" };
    Some(Line::from(vec![
        Span::styled(
            format!(
                " {mark} {procedure}: {word} {}{} {mark} ",
                mmss(took),
                target
                    .map(|t| format!(" / target {}", mmss(t)))
                    .unwrap_or_default()
            ),
            th.get(if ok && within {
                "gate.pass"
            } else {
                "alert.critical"
            }),
        ),
        Span::styled(" x acknowledge ", th.get("key")),
    ]))
}

fn phase_pane(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, th: &Theme, big: bool) {
    let mut lines = Vec::new();
    for (i, (p, s)) in rb.phases.iter().zip(&st.phases).enumerate() {
        let (mark, style) = match s.status {
            PhaseStatus::Pending => ("○", "phase.pending"),
            PhaseStatus::Active => ("▶", "phase.active"),
            PhaseStatus::Done => ("✓", "phase.done"),
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
            (area.width as usize).saturating_sub(28).clamp(8, 36)
        };
        let name: String = p.name.chars().take(name_w).collect();
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} {} ", i + 1), th.get(style)),
            Span::styled(format!("{name:<name_w$}"), th.get(style)),
            Span::styled(
                format!(" D{:<2} {:>3} ", p.day, fmt_duration(p.duration)),
                th.get("muted"),
            ),
            Span::styled(actual, th.get(if over { "phase.overrun" } else { style })),
            Span::styled(if over { " OVERRUN" } else { "" }, th.get("phase.overrun")),
        ]));
        if big {
            let team = rb.team_name(&p.owner.value);
            let tasks: Vec<&str> = p.tasks.iter().map(|t| t.as_str()).collect();
            lines.push(Line::from(Span::styled(
                format!("     {team}: {}", tasks.join(" · ")),
                th.get("muted"),
            )));
        }
    }
    f.render_widget(
        Paragraph::new(lines).block(block("Phases  planned │ actual", false, th)),
        area,
    );
}

fn checklist_pane(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, ui: &Ui, th: &Theme) {
    let (list_title, items) = current_checklist(st, rb);
    let done = items
        .iter()
        .filter(|(l, i, _)| st.ticked(l, i).is_some())
        .count();
    let title = format!("Checklist — {list_title} {done}/{}", items.len());
    let focused = ui.focus == Pane::Checklist;
    let inner_h = area.height.saturating_sub(2) as usize;
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
    let w = area.width.saturating_sub(4) as usize;
    let mut lines = Vec::new();
    for (n, (list, item, text)) in items.iter().enumerate().skip(offset).take(inner_h) {
        let tick = st.ticked(list, item);
        let who = tick
            .map(|t| format!(" {} {}", t.by, t.at.format("%H:%M")))
            .unwrap_or_default();
        let room = w.saturating_sub(4 + who.chars().count());
        let text: String = text.chars().take(room).collect();
        let mut style = th.get(if tick.is_some() { "phase.done" } else { "text" });
        if focused && n == sel {
            style = style.patch(th.get("selected"));
        }
        let pad = room.saturating_sub(text.chars().count());
        lines.push(Line::from(vec![
            Span::styled(if tick.is_some() { "[x] " } else { "[ ] " }, style),
            Span::styled(format!("{text}{}", " ".repeat(pad)), style),
            Span::styled(who, th.get("muted")),
        ]));
    }
    if items.is_empty() {
        lines.push(Line::from(Span::styled(
            "no checklist for this phase",
            th.get("muted"),
        )));
    }
    f.render_widget(
        Paragraph::new(lines).block(block(&title, focused, th)),
        area,
    );
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline as text, scaled between the window's minimum and maximum (and the critical
/// threshold, so a value near it reads high).
pub fn sparkline(values: &[Option<f64>], width: usize, critical: Option<f64>) -> String {
    let vals: Vec<Option<f64>> = values.iter().rev().take(width).rev().copied().collect();
    let known = vals.iter().flatten();
    let (mut lo, mut hi) = known.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(*v), h.max(*v))
    });
    if let Some(c) = critical {
        hi = hi.max(c);
        lo = lo.min(c * 0.5);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return " ".repeat(width);
    }
    let span = (hi - lo).max(f64::EPSILON);
    let mut s: String = vals
        .iter()
        .map(|v| match v {
            Some(v) => BARS[(((v - lo) / span) * 7.0).round().clamp(0.0, 7.0) as usize],
            None => '·',
        })
        .collect();
    while s.chars().count() < width {
        s.insert(0, ' ');
    }
    s
}

fn metrics_pane(
    f: &mut Frame,
    area: Rect,
    rb: &Runbook,
    st: &State,
    ui: &Ui,
    th: &Theme,
    big: bool,
) {
    let focused = ui.focus == Pane::Metrics;
    let rows = area.height.saturating_sub(2) as usize;
    // Stable order, but when the pane is short, metrics that are not ok come first.
    let mut order: Vec<usize> = (0..rb.metrics.len()).collect();
    if rows < order.len() {
        order.sort_by_key(|&i| match st.metric_level(rb, &rb.metrics[i].id.value) {
            MetricLevel::Critical => 0,
            MetricLevel::Warning => 1,
            MetricLevel::Stale => 2,
            MetricLevel::Ok => 3,
        });
    }
    let name_w = if big { 30 } else { 22 };
    let w = area.width.saturating_sub(2) as usize;
    let spark_w = w.saturating_sub(name_w + 12 + 18 + 10).max(4);
    let mut lines = Vec::new();
    let skip = ui
        .metric_scroll
        .min(order.len().saturating_sub(rows.max(1)));
    for &i in order.iter().skip(skip).take(rows) {
        let m = &rb.metrics[i];
        let ms = st.metrics.get(&m.id.value);
        let level = st.metric_level(rb, &m.id.value);
        let style = th.get(match level {
            MetricLevel::Ok => "metric.ok",
            MetricLevel::Warning => "metric.warning",
            MetricLevel::Critical => "metric.critical",
            MetricLevel::Stale => "metric.stale",
        });
        let value = match ms.and_then(|s| s.last) {
            Some(v) if level != MetricLevel::Stale => format!("{} {}", fmt_num(v), m.unit),
            _ => {
                // Read recently but without a value (source error, NaN): say so rather than
                // show a fresh-looking age.
                match ms {
                    Some(s) if s.last.is_none() && s.last_at.is_some() => "no value".into(),
                    Some(s) => st
                        .age(s.last_at)
                        .map(|a| format!("stale {}", fmt_duration(a)))
                        .unwrap_or_else(|| "no data".into()),
                    None => "no data".into(),
                }
            }
        };
        let cmp = if m.direction == Direction::Below {
            "<"
        } else {
            ">"
        };
        let thr = match (&m.warning, &m.critical) {
            (Some(w), Some(c)) => format!("w{cmp}{} c{cmp}{}", fmt_num(w.value), fmt_num(c.value)),
            (Some(w), None) => format!("w{cmp}{}", fmt_num(w.value)),
            (None, Some(c)) => format!("c{cmp}{}", fmt_num(c.value)),
            (None, None) => String::new(),
        };
        let hist: Vec<Option<f64>> = ms
            .map(|s| s.history.iter().copied().collect())
            .unwrap_or_default();
        let spark = sparkline(&hist, spark_w, m.critical.as_ref().map(|c| c.value));
        let name: String = m.name.chars().take(name_w).collect();
        lines.push(Line::from(vec![
            Span::styled(format!("{name:<name_w$}"), th.get("text")),
            Span::styled(format!("{value:>12} "), style),
            Span::styled(format!("{thr:<17} "), th.get("muted")),
            Span::styled(spark, style),
            Span::styled(format!(" {}", level.as_str().to_uppercase()), style),
        ]));
    }
    let title = format!("Metrics ({} of {})", lines.len(), rb.metrics.len());
    f.render_widget(
        Paragraph::new(lines).block(block(&title, focused, th)),
        area,
    );
}

fn pools_pane(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, th: &Theme, big: bool) {
    let mut lines = Vec::new();
    let addr_w = (area.width as usize).saturating_sub(16).clamp(10, 40);
    let active = st.pools.active.unwrap_or(rb.pools.active);
    for p in [PoolName::Blue, PoolName::Green] {
        let (ok, n) = st.pools.healthy(p);
        let traffic = st
            .pools
            .traffic(p)
            .map(|t| format!("{t:>3} %"))
            .unwrap_or_else(|| "  ? %".into());
        let mut head = vec![
            Span::styled(
                format!("{:<6}", p.as_str().to_uppercase()),
                th.get(pool_style(p)),
            ),
            Span::styled(format!(" {traffic} "), th.get("text")),
            Span::styled(
                format!(" {ok}/{n} healthy "),
                th.get(if engine::pool_healthy(st, p) {
                    "pool.healthy"
                } else {
                    "pool.down"
                }),
            ),
        ];
        if p == active {
            head.push(Span::styled(" ACTIVE ", th.get("pool.active")));
        } else if p == rb.rollout.pool {
            head.push(Span::styled(" CANARY", th.get("muted")));
        }
        lines.push(Line::from(head));
        for s in st.pools.servers(p) {
            let detail = match (&s.error, s.latency_ms) {
                (Some(e), _) => clean(e).into_owned(),
                (None, Some(l)) => format!("{:.0}ms", l),
                (None, None) => String::new(),
            };
            lines.push(Line::from(vec![
                Span::styled(
                    if s.healthy { "  ● " } else { "  ✗ " },
                    th.get(if s.healthy {
                        "pool.healthy"
                    } else {
                        "pool.down"
                    }),
                ),
                Span::styled(
                    format!(
                        "{:<addr_w$} ",
                        clean(&s.address).chars().take(addr_w).collect::<String>()
                    ),
                    th.get("text"),
                ),
                Span::styled(
                    detail,
                    th.get(if s.healthy { "muted" } else { "pool.down" }),
                ),
            ]));
        }
        if st.pools.servers(p).is_empty() {
            lines.push(Line::from(Span::styled(
                "  no health reading yet",
                th.get("metric.stale"),
            )));
        }
    }
    if big && let Some(rule) = &rb.pools.canary_rule {
        lines.push(Line::from(Span::styled(
            format!("canary rule: {rule}"),
            th.get("muted"),
        )));
    }
    let age = st
        .age(st.pools.observed_at)
        .map(|a| format!(" ({} ago)", fmt_duration(a)))
        .unwrap_or_default();
    let title = format!("Pools  traffic · health{age}");
    f.render_widget(Paragraph::new(lines).block(block(&title, false, th)), area);
}

fn flags_pane(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, ui: &Ui, th: &Theme) {
    let focused = ui.focus == Pane::Flags;
    let name_w = (area.width as usize).saturating_sub(10).clamp(8, 40);
    let mut lines = Vec::new();
    for (i, fl) in rb.flags.iter().enumerate() {
        let v = st.flags.get(&fl.id.value);
        let (text, style) = match v {
            Some(serde_json::Value::Bool(true)) => ("ON".to_string(), "flag.on"),
            Some(serde_json::Value::Bool(false)) => ("OFF".to_string(), "flag.off"),
            Some(x) if x.is_number() => (format!("{x} %"), "flag.on"),
            Some(x) => (clean(&x.to_string()).into_owned(), "text"),
            None => ("?".into(), "metric.stale"),
        };
        let mut name_style = th.get("text");
        if focused && i == ui.flag_sel {
            name_style = name_style.patch(th.get("selected"));
        }
        lines.push(Line::from(vec![
            Span::styled(if i == ui.flag_sel { "▸ " } else { "  " }, th.get("key")),
            Span::styled(
                format!(
                    "{:<name_w$}",
                    fl.id.value.chars().take(name_w).collect::<String>()
                ),
                name_style,
            ),
            Span::styled(format!("{text:>5}"), th.get(style)),
        ]));
    }
    if let Some(m) = &st.migration {
        let v = m
            .version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "none".into());
        lines.push(Line::from(vec![
            Span::styled("  migration ", th.get("muted")),
            Span::styled(v, th.get("text")),
            Span::styled(
                if m.dirty { " DIRTY" } else { " clean" },
                th.get(if m.dirty {
                    "metric.critical"
                } else {
                    "metric.ok"
                }),
            ),
        ]));
    }
    if let Some(b) = &st.backup {
        lines.push(Line::from(Span::styled(
            format!("  backup: {b}"),
            th.get("muted"),
        )));
    }
    for (src, (msg, at, _)) in &st.source_errors {
        let age = st.age(Some(*at)).map(fmt_duration).unwrap_or_default();
        lines.push(Line::from(Span::styled(
            format!("  {src}: {msg} ({age} ago)"),
            th.get("metric.critical"),
        )));
    }
    let age = st
        .age(st.flags_at)
        .map(|a| format!(" ({} ago)", fmt_duration(a)))
        .unwrap_or_default();
    let title = format!("Flags{age}");
    f.render_widget(
        Paragraph::new(lines).block(block(&title, focused, th)),
        area,
    );
}

fn log_pane(f: &mut Frame, area: Rect, ui: &Ui, th: &Theme, ch: &Chrome) {
    let focused = ui.focus == Pane::Log;
    match ch.log {
        Some(lines) => {
            let h = area.height.saturating_sub(2) as usize;
            let end = lines.len().saturating_sub(ui.log_scroll.min(lines.len()));
            let start = end.saturating_sub(h);
            let shown: Vec<Line> = lines[start..end]
                .iter()
                .map(|l| Line::from(Span::styled(l.clone(), th.get("text"))))
                .collect();
            f.render_widget(Paragraph::new(shown).block(block("Log", focused, th)), area);
        }
        None => {
            let w = tui_logger::TuiLoggerWidget::default()
                .block(block("Log", focused, th))
                .style(th.get("text"))
                .style_error(th.get("metric.critical"))
                .style_warn(th.get("metric.warning"))
                .style_info(th.get("text"))
                .output_separator(' ')
                .output_timestamp(None)
                .output_level(None)
                .output_target(false)
                .output_file(false)
                .output_line(false);
            f.render_widget(w, area);
        }
    }
}

fn status_bar(f: &mut Frame, area: Rect, st: &State, ui: &Ui, th: &Theme, ch: &Chrome) {
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

fn hint_bar(f: &mut Frame, area: Rect, ui: &Ui, th: &Theme) {
    let mut spans = Vec::new();
    for b in keymap::bindings(ui.mode).filter(|b| b.hint) {
        spans.push(Span::styled(format!(" {} ", b.label), th.get("key")));
        spans.push(Span::styled(format!("{} ", b.short()), th.get("muted")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Rows that lines take once wrapped at `width` columns.
fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    let w = width.max(1) as usize;
    lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(w) as u16)
        .sum()
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(r);
    r
}

fn dialog(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, ui: &Ui, d: &Dialog, th: &Theme) {
    let w = (area.width * 7 / 10)
        .max(100)
        .min(area.width.saturating_sub(2));
    let dstyle = th.get("dialog");
    match d {
        Dialog::Quit => {
            let r = centered(area, 60, 5);
            f.render_widget(Clear, r);
            let p = Paragraph::new(vec![
                Line::from("An action is still running. Quit anyway?"),
                Line::from(Span::styled(
                    "y quit (the action's outcome is verified on restart) · any other key: stay",
                    th.get("muted"),
                )),
            ])
            .style(dstyle)
            .wrap(Wrap { trim: true })
            .block(block("Quit", true, th));
            f.render_widget(p, r);
        }
        Dialog::Jump { typed, error } => {
            let r = centered(area, 50, 5);
            f.render_widget(Clear, r);
            let mut lines = vec![Line::from(vec![
                Span::raw("time (HH:MM[:SS]): "),
                Span::styled(format!("{typed}▏"), th.get("input")),
            ])];
            if let Some(e) = error {
                lines.push(Line::from(Span::styled(e.clone(), th.get("gate.blocked"))));
            }
            f.render_widget(
                Paragraph::new(lines)
                    .style(dstyle)
                    .block(block("Jump to", true, th)),
                r,
            );
        }
        Dialog::Choose { title, items, sel } => {
            let r = centered(area, w.min(80), items.len() as u16 + 4);
            f.render_widget(Clear, r);
            let mut lines: Vec<Line> = items
                .iter()
                .enumerate()
                .map(|(i, (label, _))| {
                    let s = if i == *sel {
                        th.get("selected")
                    } else {
                        th.get("text")
                    };
                    Line::from(Span::styled(
                        format!("{} {label}", if i == *sel { "▸" } else { " " }),
                        s,
                    ))
                })
                .collect();
            lines.push(Line::from(Span::styled(
                "↑/↓ choose · Enter preview · Esc cancel",
                th.get("muted"),
            )));
            f.render_widget(
                Paragraph::new(lines)
                    .style(dstyle)
                    .block(block(title, true, th)),
                r,
            );
        }
        Dialog::Confirm {
            stage,
            reason,
            typed,
            error,
            ..
        } => {
            let Some(p) = ui.proposal(st, rb) else { return };
            let verdict = p.verdict();
            let mut head: Vec<Line> = Vec::new();
            head.push(Line::from(Span::styled(
                "What will be done",
                th.get("dialog.title"),
            )));
            for l in &p.preview {
                head.push(Line::from(Span::styled(
                    clean(l).into_owned(),
                    th.get("text"),
                )));
            }
            if let Dialog::Confirm { dry_run, .. } = d {
                match dry_run {
                    super::app::DryRun::NotAsked => {}
                    super::app::DryRun::Waiting(_) => head.push(Line::from(Span::styled(
                        "Dry run: asking the systems…",
                        th.get("muted"),
                    ))),
                    super::app::DryRun::Answered(lines) => {
                        head.push(Line::from(Span::styled(
                            "Dry run (nothing was changed)",
                            th.get("dialog.title"),
                        )));
                        for l in lines {
                            head.push(Line::from(Span::styled(
                                format!("  {}", clean(l)),
                                th.get("text"),
                            )));
                        }
                    }
                }
            }
            head.push(Line::from(""));
            head.push(Line::from(Span::styled(
                "Gate checks",
                th.get("dialog.title"),
            )));
            let name_w = p
                .checks
                .iter()
                .map(|c| c.name.chars().count())
                .max()
                .unwrap_or(0)
                + 2;
            let check_line = |c: &crate::engine::Check| {
                Line::from(vec![
                    Span::styled(
                        if c.pass { " ✓ PASS " } else { " ✗ FAIL " },
                        th.get(if c.pass { "gate.pass" } else { "gate.blocked" }),
                    ),
                    Span::styled(format!("{:<name_w$}", c.name), th.get("text")),
                    Span::styled(clean(&c.evidence).into_owned(), th.get("muted")),
                ])
            };
            let all_checks: Vec<Line> = p.checks.iter().map(check_line).collect();
            // The verdict, the field and the keys: always drawn, at the dialog's foot.
            let mut tail: Vec<Line> = vec![Line::from("")];
            let field = |label: String, text: &str| {
                Line::from(vec![
                    Span::styled(label, th.get("text")),
                    Span::styled(format!("{text}▏"), th.get("input")),
                ])
            };
            let keys = |s: &str| Line::from(Span::styled(s.to_string(), th.get("muted")));
            match verdict {
                Verdict::Blocked => {
                    let n = p.checks.iter().filter(|c| !c.pass).count();
                    tail.push(Line::from(Span::styled(
                        format!("BLOCKED by {n} failing check(s)."),
                        th.get("gate.blocked"),
                    )));
                }
                Verdict::NeedsConfirmation { .. } => tail.push(Line::from(Span::styled(
                    "Destructive: type the phrase to confirm.",
                    th.get("gate.confirm"),
                ))),
                Verdict::Allowed => tail.push(Line::from(Span::styled(
                    "All checks pass.",
                    th.get("gate.pass"),
                ))),
            }
            match stage {
                Stage::Review if verdict == Verdict::Blocked => {
                    if p.overridable() {
                        tail.push(keys(
                            "Enter record the attempt and close · Ctrl-o override · Esc cancel",
                        ));
                    } else {
                        tail.push(keys("Enter record the attempt and close · Esc cancel · no override may pass a check marked so by the runbook"));
                    }
                }
                Stage::Review => tail.push(keys("Enter confirm · Esc cancel")),
                Stage::Override => {
                    tail.push(field(
                        format!("type `{}` to override: ", p.override_phrase()),
                        typed,
                    ));
                    tail.push(keys("Enter continue to the reason · Esc cancel"));
                }
                Stage::OverrideReason => {
                    tail.push(field("override reason (words): ".into(), reason));
                    tail.push(keys("Enter override and run · Esc cancel · the reason is recorded in the audit log"));
                }
                Stage::Phrase => {
                    tail.push(field(
                        format!(
                            "type `{}` to confirm: ",
                            p.phrase.clone().unwrap_or_default()
                        ),
                        typed,
                    ));
                    tail.push(keys("Enter confirm · Esc cancel"));
                }
                Stage::Reason => {
                    tail.push(field("reason (words): ".into(), reason));
                    tail.push(keys(
                        "Enter confirm · Esc cancel · the reason is recorded in the audit log",
                    ));
                }
            }
            if let Some(e) = error {
                tail.push(Line::from(Span::styled(e.clone(), th.get("gate.blocked"))));
            }
            let inner_w = w.saturating_sub(2);
            let tail_h = wrapped_height(&tail, inner_w);
            // The body fits what is left: failing checks always show; passing ones fold into
            // one line, then the preview folds.
            let room = (area.height.saturating_sub(2 + tail_h)) as usize;
            let mut checks = all_checks;
            let body_h = |head: &[Line], checks: &[Line]| {
                wrapped_height(head, inner_w) as usize + wrapped_height(checks, inner_w) as usize
            };
            if body_h(&head, &checks) > room {
                let passing = p.checks.iter().filter(|c| c.pass).count();
                checks = p
                    .checks
                    .iter()
                    .filter(|c| !c.pass)
                    .map(check_line)
                    .collect();
                if passing > 0 {
                    checks.push(Line::from(Span::styled(
                        format!(" ✓ {passing} more check(s) pass (all shown on a taller screen)"),
                        th.get("gate.pass"),
                    )));
                }
            }
            if body_h(&head, &checks) > room {
                // Fold the preview from its end; the checks' title stays.
                let title = head.pop();
                let checks_h = wrapped_height(&checks, inner_w) as usize;
                let budget = room.saturating_sub(checks_h + 2);
                let mut dropped = 0;
                while wrapped_height(&head, inner_w) as usize > budget && head.len() > 1 {
                    head.pop();
                    dropped += 1;
                }
                if dropped > 0 {
                    head.push(Line::from(Span::styled(
                        format!("  … {dropped} more line(s) on a taller screen"),
                        th.get("muted"),
                    )));
                }
                head.extend(title);
            }
            let mut body = head;
            body.extend(checks);
            let want = body_h(&body, &[]) as u16 + tail_h + 2;
            let h = want.min(area.height);
            let r = centered(area, w, h);
            f.render_widget(Clear, r);
            let title = format!(
                "{} — {}",
                p.action.label(),
                match verdict {
                    Verdict::Allowed => "allowed",
                    Verdict::NeedsConfirmation { .. } => "needs confirmation",
                    Verdict::Blocked => "BLOCKED",
                }
            );
            let outer = block(&title, true, th).style(dstyle);
            let inner = outer.inner(r);
            f.render_widget(outer, r);
            let [top, foot] =
                Layout::vertical([Constraint::Min(0), Constraint::Length(tail_h)]).areas(inner);
            f.render_widget(
                Paragraph::new(body)
                    .style(dstyle)
                    .wrap(Wrap { trim: false }),
                top,
            );
            f.render_widget(
                Paragraph::new(tail)
                    .style(dstyle)
                    .wrap(Wrap { trim: false }),
                foot,
            );
        }
        Dialog::CancelAbort { reason, error } => {
            let Some(c) = &st.abort else { return };
            let mut lines = vec![
                Line::from(Span::styled(
                    format!(
                        "Auto-abort will run rollback {} — {}.",
                        c.procedure, c.cause
                    ),
                    th.get("alert.critical"),
                )),
                Line::from(vec![
                    Span::styled("why cancel it (words): ", th.get("text")),
                    Span::styled(format!("{reason}▏"), th.get("input")),
                ]),
                Line::from(Span::styled(
                    "Enter cancel the countdown (recorded) · Esc keep it running",
                    th.get("muted"),
                )),
            ];
            if let Some(e) = error {
                lines.push(Line::from(Span::styled(e.clone(), th.get("gate.blocked"))));
            }
            let h = wrapped_height(&lines, w.min(90).saturating_sub(2)) + 2;
            let r = centered(area, w.min(90), h);
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(lines)
                    .style(dstyle)
                    .wrap(Wrap { trim: false })
                    .block(block("Cancel auto-abort", true, th)),
                r,
            );
        }
    }
}

fn help(f: &mut Frame, area: Rect, mode: Mode, th: &Theme) {
    let mut lines = Vec::new();
    for b in keymap::help_lines(mode) {
        lines.push(Line::from(vec![
            Span::styled(format!("{:>10}  ", b.label), th.get("key")),
            Span::styled(b.help, th.get("text")),
        ]));
    }
    lines.push(Line::from(""));
    if mode == Mode::Live {
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
                Span::styled(format!("{k:>10}  "), th.get("key")),
                Span::styled(what, th.get("text")),
            ]));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "In a dialog, letters only type into its field: no letter is a command there.",
            th.get("muted"),
        )));
    }
    lines.push(Line::from(Span::styled(
        "Press ? or Esc to close.",
        th.get("muted"),
    )));
    let r = centered(area, 84, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    let title = if mode == Mode::Replay {
        "Keys — replay"
    } else {
        "Keys"
    };
    f.render_widget(
        Paragraph::new(lines)
            .style(th.get("dialog"))
            .block(block(title, true, th)),
        r,
    );
}
