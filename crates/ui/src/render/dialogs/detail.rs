//! A phase's or a pool's detail (Enter on the focused phases or pools): for a phase, its owner,
//! day, planned and actual duration, tasks, checklist with who ticked what, and the steps its
//! start ran with what each answered; for a pool, its share, health, each server and the
//! servers down since when. Drawn from the state, so it follows it.

use crate::app::Detail;
use crate::render::prelude::*;

pub(crate) fn draw(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, d: &Dialog, th: &Theme) {
    let Dialog::Detail { what, scroll } = d else {
        return;
    };
    let (title, lines) = match *what {
        Detail::Phase(i) => phase(rb, st, i, th),
        Detail::Pool(p) => pool(rb, st, p, th),
    };
    super::scrolling_text(f, area, &title, lines, *scroll, th);
}

fn heading(text: String, th: &Theme) -> Line<'static> {
    Line::from(Span::styled(text, th.get(StyleName::DialogTitle)))
}

fn phase(rb: &Runbook, st: &State, i: usize, th: &Theme) -> (String, Vec<Line<'static>>) {
    let (Some(p), Some(s)) = (rb.phases.get(i), st.phases.get(i)) else {
        return ("Phase".into(), vec![Line::from("no such phase")]);
    };
    let text = th.get(StyleName::Text);
    let (mark, word, style) = match s.status {
        PhaseStatus::Pending => ("○", "pending", StyleName::PhasePending),
        PhaseStatus::Active => ("▶", "running", StyleName::PhaseActive),
        PhaseStatus::Done => ("✓", "done", StyleName::PhaseDone),
    };
    let took = st
        .phase_took(i)
        .map(|t| {
            format!(
                "{}{}",
                short_duration(t),
                if engine::phase_overrun(st, rb, i) {
                    " — OVERRUN"
                } else {
                    ""
                }
            )
        })
        .unwrap_or_else(|| "not started".into());
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{mark} {word}"), th.get(style)),
            Span::styled(
                format!(
                    " · owner {} · {} · planned {} · actual {took}",
                    rb.team_name(&p.owner.value),
                    rb.day_words(p.day),
                    fmt_duration(p.duration)
                ),
                text,
            ),
        ]),
        Line::from(""),
        heading(format!("Tasks ({})", p.tasks.len()), th),
    ];
    lines.extend(
        p.tasks
            .iter()
            .map(|t| Line::from(Span::styled(format!("  · {t}"), text))),
    );
    lines.push(Line::from(""));
    lines.push(heading(format!("Checklist ({})", p.checklist.len()), th));
    for it in &p.checklist {
        let tick = st.ticked(&p.id.value, &it.id.value);
        lines.push(Line::from(vec![
            Span::styled(
                if tick.is_some() { "  [x] " } else { "  [ ] " },
                th.get(if tick.is_some() {
                    StyleName::PhaseDone
                } else {
                    StyleName::Text
                }),
            ),
            Span::styled(it.text.clone(), text),
            Span::styled(
                tick.map(|t| format!("  {} {}", t.operator, hms(Some(t.at))))
                    .unwrap_or_default(),
                th.get(StyleName::Muted),
            ),
        ]));
    }
    if !p.exit_gate.is_empty() {
        lines.push(Line::from(""));
        lines.push(heading(format!("Exit gate ({})", p.exit_gate.len()), th));
        // Its holds now while it runs; otherwise what it asks (the record of its completion
        // has the check's evidence).
        for h in engine::exit_gate_progress(st, rb, i) {
            let (mark, words, style) = if s.status == PhaseStatus::Active {
                hold_row(rb, &h)
            } else {
                (
                    "·",
                    format!(
                        "{} for {}",
                        engine::condition_words(rb, &h.hold),
                        fmt_duration(h.hold.r#for)
                    ),
                    StyleName::Text,
                )
            };
            lines.push(Line::from(Span::styled(
                format!("  {mark} {words}"),
                th.get(style),
            )));
        }
    }
    // The steps its start ran (or a retry), with what each answered.
    let ran = st.actions.iter().rev().find(|a| match &a.action {
        engine::Action::PhaseChange { to, .. } => to.as_deref() == Some(p.id.value.as_str()),
        engine::Action::RetryPhase { phase, .. } => *phase == p.id.value,
        _ => false,
    });
    lines.push(Line::from(""));
    lines.push(heading(format!("Steps ({})", p.on_start.len()), th));
    for (n, step) in p.on_start.iter().enumerate() {
        let done = ran.and_then(|a| {
            a.steps
                .iter()
                .position(|s| s.name == step.name.value)
                .and_then(|k| a.steps_done.get(k))
        });
        let (mark, answer, style) = match done {
            Some((_, true, out)) => ("✓", out.clone(), StyleName::GatePass),
            Some((_, false, out)) => ("✗", out.clone(), StyleName::GateBlocked),
            None => ("○", "not run".to_string(), StyleName::PhasePending),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {mark} {}. ", n + 1), th.get(style)),
            Span::styled(format!("{}: {answer}", step.name.value), text),
        ]));
    }
    // The plan's own notes for this phase: its day's schedule, who to tell, and after the
    // last phase what follows it.
    if let Some(day) = rb.schedule(p.day) {
        lines.push(Line::from(""));
        let title = day
            .title
            .as_deref()
            .map(|t| format!(": {t}"))
            .unwrap_or_default();
        let day_title = format!("{}{title}", rb.day_words(p.day));
        lines.push(heading(day_title, th));
        lines.extend(day.slots.iter().map(|s| {
            Line::from(Span::styled(
                format!("  {}–{}  {}", s.from, s.to, s.what),
                text,
            ))
        }));
    }
    let channels: Vec<_> = rb
        .communication
        .internal
        .iter()
        .map(|c| ("internal", c))
        .chain(rb.communication.external.iter().map(|c| ("external", c)))
        .collect();
    if !channels.is_empty() {
        lines.push(Line::from(""));
        lines.push(heading(format!("Communication ({})", channels.len()), th));
        lines.extend(channels.iter().map(|(side, c)| {
            let when = c
                .when
                .as_deref()
                .map(|w| format!(" — {w}"))
                .unwrap_or_default();
            Line::from(Span::styled(
                format!("  · {side} {}: {}{when}", c.kind, c.address),
                text,
            ))
        }));
    }
    if i + 1 == rb.phases.len() && !rb.post_deployment.is_empty() {
        lines.push(Line::from(""));
        lines.push(heading("After the last phase".into(), th));
        for pd in &rb.post_deployment {
            lines.push(Line::from(Span::styled(format!("  {}", pd.when), text)));
            lines.extend(
                pd.items
                    .iter()
                    .map(|t| Line::from(Span::styled(format!("    · {t}"), text))),
            );
        }
    }
    (format!("Phase {} — {}", i + 1, p.name), lines)
}

fn pool(rb: &Runbook, st: &State, p: PoolName, th: &Theme) -> (String, Vec<Line<'static>>) {
    let text = th.get(StyleName::Text);
    let active = st.pools.active.unwrap_or(rb.pools.active);
    let (ok, n) = st.pools.healthy(p);
    let role = if p == active {
        "ACTIVE"
    } else if p == rb.rollout.pool {
        "CANARY"
    } else {
        "standby"
    };
    let share = st
        .pools
        .traffic(p)
        .map(|t| format!("{t} %"))
        .unwrap_or_else(|| "? %".into());
    let healthy = engine::pool_healthy(st, p);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!(
                    "{role} · {}traffic {share} · ",
                    if st.split_by_flag(rb) { "LB " } else { "" }
                ),
                text,
            ),
            Span::styled(
                format!("{} {ok}/{n} healthy", if healthy { "✓" } else { "✗ NOT" }),
                th.get(if healthy {
                    StyleName::PoolHealthy
                } else {
                    StyleName::PoolDown
                }),
            ),
        ]),
        Line::from(""),
        heading(format!("Servers ({})", st.pools.servers(p).len()), th),
    ];
    for s in st.pools.servers(p) {
        let detail = match (&s.error, s.latency_ms) {
            (Some(e), _) => e.clone(),
            (None, Some(l)) => format!("{l:.0} ms"),
            (None, None) => String::new(),
        };
        lines.push(Line::from(vec![
            Span::styled(
                if s.healthy {
                    "  ✓ up   "
                } else {
                    "  ✗ DOWN "
                },
                th.get(if s.healthy {
                    StyleName::PoolHealthy
                } else {
                    StyleName::PoolDown
                }),
            ),
            Span::styled(format!("{}  {detail}", s.address), text),
        ]));
    }
    let down: Vec<_> = st
        .servers_down
        .iter()
        .filter(|(_, d)| d.pool == p)
        .collect();
    lines.push(Line::from(""));
    lines.push(heading(format!("Down now ({})", down.len()), th));
    for (addr, d) in down {
        lines.push(Line::from(Span::styled(
            format!("  ✗ {} since {}: {}", addr, hms(Some(d.since)), d.error),
            th.get(StyleName::PoolDown),
        )));
    }
    if let Some(rule) = rb
        .pools
        .canary_rule
        .as_ref()
        .filter(|_| p == rb.rollout.pool)
    {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            format!("canary rule: {rule}"),
            th.get(StyleName::Muted),
        )));
    }
    (format!("Pool {}", p.as_str().to_uppercase()), lines)
}
