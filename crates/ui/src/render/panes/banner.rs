//! The emergency line (auto-abort countdown, rollback stopwatch and result) and the alert banner.

use crate::render::prelude::*;

pub(crate) fn alert_banner(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, th: &Theme) {
    let mut spans = Vec::new();
    let firing: Vec<_> = st.firing().collect();
    let worst = firing.iter().map(|a| a.level).max().unwrap_or(Level::Ok);
    let style = th.get(match worst {
        Level::Critical => StyleName::AlertCritical,
        Level::Warning => StyleName::AlertWarning,
        Level::Ok => StyleName::AlertNone,
    });
    if firing.is_empty() {
        spans.push(Span::styled(" ✓ No alerts firing ", style));
    } else {
        for a in firing_by_level(st) {
            let (text, style) = alert_text(rb, st, a);
            spans.push(Span::styled(format!(" {text} "), th.get(style)));
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
            th.get(StyleName::AlertWarning),
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
            th.get(StyleName::AlertWarning),
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
            th.get(StyleName::AlertCritical),
        ));
    }
    f.render_widget(Rows::new(Line::from(spans)), area);
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
                th.get(StyleName::AlertCritical)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!(" rollback {} ", c.procedure),
                th.get(StyleName::AlertCritical),
            ),
            Span::styled(" c cancel ", th.get(StyleName::Key)),
            Span::styled(
                format!(" {} ", clean(&c.cause)),
                th.get(StyleName::AlertCritical),
            ),
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
                StyleName::AlertWarning
            } else {
                StyleName::ActionRunning
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
                StyleName::GatePass
            } else {
                StyleName::AlertCritical
            }),
        ),
        Span::styled(" x acknowledge ", th.get(StyleName::Key)),
    ]))
}

/// The alerts firing, critical first (then in the order they fired).
pub(crate) fn firing_by_level(st: &State) -> Vec<&engine::AlertRecord> {
    let mut v: Vec<_> = st.firing().collect();
    v.sort_by_key(|a| std::cmp::Reverse(a.level));
    v
}

/// One alert in words, `● CRITICAL Green error rate  2.43 % > 1.00 % for 14m20s`, and its
/// style.
/// What an alert says, in parts: its metric's name and unit, the comparison its threshold
/// makes, the value now (else at firing). The banner and the wall word it alike.
pub(crate) struct AlertParts<'a> {
    pub name: &'a str,
    pub unit: &'a str,
    pub cmp: &'static str,
    pub now: Option<f64>,
}

pub(crate) fn alert_parts<'a>(
    rb: &'a Runbook,
    st: &State,
    a: &'a engine::AlertRecord,
) -> AlertParts<'a> {
    let m = rb.metric(&a.metric);
    AlertParts {
        name: m.map(|m| m.name.as_str()).unwrap_or(&a.metric),
        unit: m.map(|m| m.unit.as_str()).unwrap_or(""),
        cmp: if m.is_some_and(|m| m.direction == Direction::Below) {
            "<"
        } else {
            ">"
        },
        now: st.metrics.get(&a.metric).and_then(|s| s.last).or(a.value),
    }
}

pub(crate) fn alert_text(rb: &Runbook, st: &State, a: &engine::AlertRecord) -> (String, StyleName) {
    let AlertParts {
        name,
        unit,
        cmp,
        now: cur,
    } = alert_parts(rb, st, a);
    let since = st
        .age(Some(a.fired_at))
        .map(fmt_duration)
        .unwrap_or_default();
    let (word, style) = if a.level == Level::Critical {
        ("● CRITICAL", StyleName::AlertCritical)
    } else {
        ("▲ WARNING", StyleName::AlertWarning)
    };
    (
        format!(
            "{word} {name}  {} {unit} {cmp} {} {unit} for {since}",
            cur.map(fmt_num).unwrap_or_else(|| "?".into()),
            fmt_num(a.threshold),
        ),
        style,
    )
}
