//! The header: the traffic share, the active pool and the go/no-go first, then the phase and the plan.

use crate::render::prelude::*;

pub(crate) fn title_bar(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, th: &Theme, ui: &Ui) {
    let active = st.pools.active.unwrap_or(rb.pools.active);
    let sep = || Span::styled(" │ ", th.get(StyleName::Border));
    // What must always show, in order: the traffic share, the active pool, the go/no-go.
    // The phase and then the plan's name get what room is left.
    // A flag-only canary: the share is the flag's and the active pool the load balancer's,
    // said so that "Rollout 100 %" beside "Active BLUE" is not a contradiction.
    let (by_flag, active_word) = if st.split_by_flag(rb) {
        (" by flag", "LB active ")
    } else {
        ("", "Active ")
    };
    let mut tail = vec![
        sep(),
        Span::styled(
            format!("Rollout {} %{by_flag}", st.traffic_share(rb)),
            th.get(StyleName::Title),
        ),
    ];
    // The bake beside the share: how long this step has baked of its time, in words; the
    // bar is added below when there is room.
    let bake = engine::bake_progress(st, rb);
    if let Some(b) = &bake {
        tail.push(Span::styled(
            format!(" · {}", bake_words(b)),
            th.get(if b.done() {
                StyleName::GatePass
            } else {
                StyleName::Muted
            }),
        ));
    }
    let gauge_at = tail.len();
    tail.extend([
        sep(),
        Span::styled(active_word, th.get(StyleName::Muted)),
        Span::styled(active.as_str().to_uppercase(), th.get(pool_style(active))),
    ]);
    if let Some(d) = &st.decision {
        tail.push(sep());
        tail.push(Span::styled(
            match (d.go, d.withdrawn.is_some()) {
                (true, false) => "GO signed",
                (true, true) => "GO WITHDRAWN",
                (false, _) => "NO-GO signed",
            },
            th.get(if d.is_go() {
                StyleName::GatePass
            } else {
                StyleName::GateBlocked
            }),
        ));
    }
    let mut head = vec![];
    if ui.mode == Mode::Replay {
        head.push(Span::styled(" REPLAY ", th.get(StyleName::Replay)));
    }
    head.push(Span::styled(" WARROOM ", th.get(StyleName::PoolActive)));
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
    let phase_w = phase.width() + 3;
    // The bake's bar comes after the phase and before the plan's name.
    let room = match &bake {
        Some(b) if room > phase_w + GAUGE => {
            tail.insert(
                gauge_at,
                Span::styled(format!(" {}", gauge(b, GAUGE)), th.get(StyleName::Muted)),
            );
            room - GAUGE - 1
        }
        _ => room,
    };
    let mut middle = Vec::new();
    if room >= phase_w + 12 {
        // The plan's name, shortened to what is left after the phase.
        let name_w = (room - phase_w - 3).min(if area.width >= 200 { 80 } else { 40 });
        middle.push(Span::styled(
            format!(" {} ", short_name(&rb.name, name_w)),
            th.get(StyleName::Title),
        ));
        middle.push(sep());
        middle.push(Span::styled(phase, th.get(StyleName::PhaseActive)));
    } else if room >= phase_w {
        middle.push(sep());
        middle.push(Span::styled(phase, th.get(StyleName::PhaseActive)));
    } else if room >= phase_short.width() + 3 {
        middle.push(sep());
        middle.push(Span::styled(phase_short, th.get(StyleName::PhaseActive)));
    }
    let mut spans = head;
    spans.extend(middle);
    spans.extend(tail);
    f.render_widget(Rows::new(Line::from(spans)), area);
}

const GAUGE: usize = 10;

/// `bake 18m / 30m`, or `baked 30m ✓` once the step has baked its time.
pub(crate) fn bake_words(b: &engine::Bake) -> String {
    if b.done() {
        format!("baked {} ✓", short_duration(b.bake))
    } else {
        format!(
            "bake {} / {}",
            short_duration(b.baked),
            short_duration(b.bake)
        )
    }
}

/// The bake as a bar of `w` cells: `▰▰▰▱▱▱`.
pub(crate) fn gauge(b: &engine::Bake, w: usize) -> String {
    let total = b.bake.as_secs().max(1);
    let full = ((b.baked.as_secs() * w as u64) / total).min(w as u64) as usize;
    format!("{}{}", "▰".repeat(full), "▱".repeat(w - full))
}
