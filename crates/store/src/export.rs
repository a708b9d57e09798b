//! `warroom audit export`: JSON lines (one record per line, with hashes) and a markdown
//! post-mortem draft built by folding the log with the same `apply` as the console.

use super::Record;
use crate::engine::{self, Action, Event, Outcome, PhaseStatus, State};
use crate::runbook::{Runbook, fmt_duration};
use std::fmt::Write;

/// One line of the markdown, through [`crate::text::clean`]: what the log or the runbook
/// says can neither add a line (a heading, a forged record) nor carry a control, bidi or
/// zero-width character.
macro_rules! md {
    ($o:expr) => {
        $o.push('\n')
    };
    ($o:expr, $($arg:tt)*) => {{
        $o.push_str(&crate::text::clean(&format!($($arg)*)));
        $o.push('\n');
    }};
}

pub fn jsonl(records: &[Record]) -> String {
    let mut out = String::new();
    for r in records {
        let payload: serde_json::Value = serde_json::from_str(&r.payload)
            .unwrap_or(serde_json::Value::String(r.payload.clone()));
        let line = serde_json::json!({
            "seq": r.seq, "at": r.at, "operator": r.operator, "kind": r.kind,
            "payload": payload, "prev_hash": r.prev_hash, "hash": r.hash,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// Fold records into the state, as the console does.
pub fn fold(rb: &Runbook, records: &[Record]) -> Result<State, String> {
    let mut st = State::new(rb);
    for r in records {
        engine::apply(&mut st, rb, r.time()?, &r.event()?);
    }
    Ok(st)
}

fn dur(a: engine::Time, b: engine::Time) -> String {
    fmt_duration((b - a).to_std().unwrap_or_default())
}

fn hm(t: engine::Time) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn markdown(rb: &Runbook, records: &[Record]) -> Result<String, String> {
    let st = fold(rb, records)?;
    let mut o = String::new();
    let first = records.first().and_then(|r| r.time().ok());
    let last = records.last().and_then(|r| r.time().ok());
    let operators: std::collections::BTreeSet<&str> =
        records.iter().map(|r| r.operator.as_str()).collect();
    md!(o, "# Post-mortem draft: {}", rb.name);
    md!(o);
    md!(o, "## Summary");
    md!(o);
    if let (Some(a), Some(b)) = (first, last) {
        md!(o, "- Window: {} → {} ({})", hm(a), hm(b), dur(a, b));
    }
    md!(
        o,
        "- Operators: {}",
        operators.into_iter().collect::<Vec<_>>().join(", ")
    );
    md!(
        o,
        "- Mode: {}{}",
        st.mode,
        st.scenario
            .as_ref()
            .map(|s| format!(" (scenario {s})"))
            .unwrap_or_default()
    );
    let done = st
        .phases
        .iter()
        .filter(|p| p.status == PhaseStatus::Done)
        .count();
    md!(o, "- Phases completed: {done} of {}", rb.phases.len());
    md!(
        o,
        "- Rollout reached: {} % (at the end: {} %)",
        st.rollout_max,
        st.traffic_share(rb)
    );
    let rollbacks = st
        .actions
        .iter()
        .filter(|a| matches!(a.action, Action::Rollback { .. }))
        .count();
    md!(
        o,
        "- Operator actions: {} ({} rollback(s), {} blocked attempt(s))",
        st.actions.len(),
        rollbacks,
        st.blocked
    );
    md!(o, "- Alerts fired: {}", st.alerts.len());
    if let Some(r) = records.last() {
        md!(o, "- Audit head: seq {} hash {}", r.seq, r.hash);
    }
    md!(o);

    md!(o, "## Phases");
    md!(o);
    md!(
        o,
        "| Phase | Planned | Actual start | Actual end | Took | Status |"
    );
    md!(o, "|---|---|---|---|---|---|");
    for (i, (p, s)) in rb.phases.iter().zip(&st.phases).enumerate() {
        let took = match st.phase_took(i) {
            Some(d) => {
                let over = if engine::phase_overrun(&st, rb, i) {
                    " (overrun)"
                } else {
                    ""
                };
                format!("{}{over}", fmt_duration(d))
            }
            None => "—".into(),
        };
        md!(
            o,
            "| {} | Day {}, {} | {} | {} | {} | {} |",
            p.name,
            p.day,
            fmt_duration(p.duration),
            s.started.map(hm).unwrap_or_else(|| "—".into()),
            s.ended.map(hm).unwrap_or_else(|| "—".into()),
            took,
            match s.status {
                PhaseStatus::Pending => "not started",
                PhaseStatus::Active => "in progress",
                PhaseStatus::Done => "done",
            }
        );
    }
    md!(o);

    md!(o, "## Timeline of operator actions");
    md!(o);
    for r in records {
        let Ok(ev) = r.event() else { continue };
        let line = match &ev {
            Event::SessionStarted { operator, mode, .. } => {
                format!("session started by {operator} ({mode})")
            }
            Event::SessionEnded { operator } => format!("session ended by {operator}"),
            Event::Decision {
                go,
                operator,
                role,
                reason,
                ..
            } => format!(
                "go/no-go: **{}** signed by {operator} for {role}{}",
                if *go { "GO" } else { "NO-GO" },
                reason
                    .as_ref()
                    .map(|r| format!(": \"{r}\""))
                    .unwrap_or_default()
            ),
            Event::ActionRequested {
                id,
                action,
                operator,
                checks,
                evidence,
                ..
            } => {
                let failing: Vec<String> = checks
                    .iter()
                    .filter(|c| !c.pass)
                    .map(|c| format!("{} ({})", c.name, c.evidence))
                    .collect();
                let mut s = format!(
                    "#{id} **{}** requested by {operator}; rollout {} %",
                    action.label(),
                    evidence.rollout_percent
                );
                if !evidence.alerts_firing.is_empty() {
                    let _ = write!(s, "; alerts firing: {}", evidence.alerts_firing.join(", "));
                }
                if failing.is_empty() {
                    let _ = write!(s, "; all {} checks passed", checks.len());
                } else {
                    let _ = write!(s, "; failing checks: {}", failing.join("; "));
                }
                s
            }
            Event::ActionOverridden { id, reason } => {
                format!("#{id} gate **overridden**: \"{reason}\"")
            }
            Event::ActionBlocked {
                action,
                operator,
                checks,
                ..
            } => {
                let failing: Vec<String> = checks
                    .iter()
                    .filter(|c| !c.pass)
                    .map(|c| format!("{} ({})", c.name, c.evidence))
                    .collect();
                format!(
                    "**{}** attempted by {operator} and blocked: {}",
                    action.label(),
                    failing.join("; ")
                )
            }
            Event::ActionSucceeded { id, detail } => format!("#{id} succeeded: {detail}"),
            Event::ActionFailed { id, error } => format!("#{id} **failed**: {error}"),
            Event::ActionOutcomeUnknown { id } => {
                format!("#{id} outcome unknown after restart — verify")
            }
            Event::PhaseStarted { phase } => format!("phase {phase} started"),
            Event::PhaseCompleted { phase } => format!("phase {phase} completed"),
            Event::ActionCancelled { .. }
            | Event::DecisionWithdrawn { .. }
            | Event::AbortArmed { .. }
            | Event::AbortCancelled { .. }
            | Event::AbortExpired { .. }
            | Event::ServerDown { .. } => match crate::engine::describe(rb, &ev) {
                Some(l) => l,
                None => continue,
            },
            _ => continue,
        };
        md!(o, "- {} — {line}", r.at);
    }
    md!(o);

    md!(o, "## Alerts");
    md!(o);
    if st.alerts.is_empty() {
        md!(o, "No alert fired.");
    } else {
        md!(
            o,
            "| Metric | Level | Value | Threshold | Fired | Resolved |"
        );
        md!(o, "|---|---|---|---|---|---|");
        for a in &st.alerts {
            md!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                a.metric,
                a.level.as_str(),
                a.value.map(engine::fmt_num).unwrap_or_else(|| "—".into()),
                engine::fmt_num(a.threshold),
                hm(a.fired_at),
                a.resolved_at
                    .map(|t| format!("{} (after {})", hm(t), dur(a.fired_at, t)))
                    .unwrap_or_else(|| "still firing".into())
            );
        }
    }
    md!(o);

    md!(o, "## Time at each rollout step");
    md!(o);
    let periods = engine::rollout_periods(&st);
    if periods.is_empty() {
        md!(o, "The rollout did not start.");
    }
    for p in &periods {
        let end = p.until.or(last).unwrap_or(p.from);
        let ended = p
            .ended_by
            .as_ref()
            .map(|r| format!(", ended by rollback {r}"))
            .unwrap_or_default();
        md!(
            o,
            "- {} %: from {} for {}{ended}",
            p.percent,
            hm(p.from),
            dur(p.from, end)
        );
    }
    md!(o);

    md!(o, "## Rollbacks");
    md!(o);
    let mut any = false;
    for a in &st.actions {
        let Action::Rollback { procedure } = &a.action else {
            continue;
        };
        any = true;
        let timing = engine::rollback_timing(&st, rb, a);
        let target = timing.and_then(|t| t.target);
        let took = timing.filter(|t| t.finished).map(|t| t.took);
        let verdict = match timing {
            Some(t) if t.finished && t.target.is_some() && !t.over_target() => "within target",
            Some(t) if t.finished && t.target.is_some() => "**missed target**",
            _ => "did not finish",
        };
        md!(
            o,
            "- {} by {} at {}: took {} against a target of {} — {verdict}; outcome: {}",
            procedure,
            a.operator,
            hm(a.requested_at),
            took.map(fmt_duration).unwrap_or_else(|| "—".into()),
            target.map(fmt_duration).unwrap_or_else(|| "—".into()),
            match &a.outcome {
                Outcome::Succeeded(_) => "succeeded".to_string(),
                Outcome::Failed(e) => format!("failed ({e})"),
                Outcome::Running => "running".into(),
                Outcome::Cancelled(e) => format!("cancelled ({e})"),
                Outcome::Unknown => "unknown".into(),
            }
        );
        if let Some(r) = &a.override_reason {
            md!(o, "  - override reason: {r}");
        }
    }
    if !any {
        md!(o, "No rollback.");
    }
    md!(o);

    md!(o, "## Success criteria");
    md!(o);
    for c in &rb.success_criteria {
        let verdict = match &c.metric {
            Some(_) => match engine::criterion_met(&st, c) {
                Some((ok, v)) => {
                    format!(
                        "{} (last {})",
                        if ok { "met" } else { "**missed**" },
                        engine::fmt_num(v)
                    )
                }
                None => "no value recorded".into(),
            },
            None => "to be judged by the team".into(),
        };
        md!(o, "- [{}] {} — {verdict}", c.group, c.text);
    }
    Ok(o)
}
