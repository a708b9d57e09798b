//! The sections about what happened: the timeline of operator actions, the alerts, the time at
//! each rollout step and the rollbacks with their steps.

use super::{Block, Item, Line, NONE, Section, Span, or_none};
use crate::engine::{self, Action, Event, Outcome};
use crate::export::data::{Postmortem, dur, failing, ts};
use crate::runbook::fmt_duration;

pub(super) fn timeline(pm: &Postmortem) -> Section {
    let rb = pm.rb;
    let mut items = Vec::new();
    for r in pm.records {
        let (Ok(ev), Ok(at)) = (r.event(), r.time()) else {
            continue;
        };
        let who = r.operator.as_str();
        let line = match &ev {
            Event::SessionStarted { mode, .. } => {
                Line::new(format!("session started by {who} ({mode})"))
            }
            Event::SessionEnded { .. } => Line::new(format!("session ended by {who}")),
            Event::Decision {
                go, role, reason, ..
            } => Line::new("go/no-go: ")
                .and_strong(if *go { "GO" } else { "NO-GO" })
                .and(format!(
                    " signed by {who} for {role}{}",
                    reason
                        .as_ref()
                        .map(|r| format!(": \"{r}\""))
                        .unwrap_or_default()
                )),
            Event::ActionRequested {
                id,
                action,
                checks,
                evidence,
                ..
            } => {
                let failing = failing(checks);
                let mut rest = format!(
                    " requested by {who}; rollout {} %",
                    evidence.rollout_percent
                );
                if !evidence.alerts_firing.is_empty() {
                    rest.push_str(&format!(
                        "; alerts firing: {}",
                        evidence.alerts_firing.join(", ")
                    ));
                }
                if failing.is_empty() {
                    rest.push_str(&format!("; all {} checks passed", checks.len()));
                } else {
                    rest.push_str(&format!("; failing checks: {}", failing.join("; ")));
                }
                Line::new(format!("#{id} "))
                    .and_strong(action.label())
                    .and(rest)
            }
            Event::ActionOverridden { id, reason } => Line::new(format!("#{id} gate "))
                .and_strong("overridden")
                .and(format!(": \"{reason}\"")),
            Event::ActionBlocked { action, checks, .. } => {
                let failing = failing(checks);
                Line::strong(action.label()).and(format!(
                    " attempted by {who} and blocked: {}",
                    failing.join("; ")
                ))
            }
            Event::ActionSucceeded { id, detail } => {
                Line::new(format!("#{id} succeeded: {detail}"))
            }
            Event::ActionFailed { id, error } => Line::new(format!("#{id} "))
                .and_strong("failed")
                .and(format!(": {error}")),
            Event::ActionOutcomeUnknown { id } => {
                Line::new(format!("#{id} outcome unknown after restart — verify"))
            }
            Event::PhaseStarted { phase } => Line::new(format!("phase {phase} started")),
            Event::PhaseCompleted { phase } => Line::new(format!("phase {phase} completed")),
            Event::ActionCancelled { .. }
            | Event::DecisionWithdrawn { .. }
            | Event::AbortArmed { .. }
            | Event::AbortCancelled { .. }
            | Event::AbortExpired { .. }
            | Event::ServerDown { .. }
            | Event::Commented { .. }
            | Event::AlertAcknowledged { .. }
            | Event::ApprovalRequested { .. }
            | Event::ApprovalGiven { .. }
            | Event::ApprovalRejected { .. }
            | Event::ApprovalCarriedOut { .. }
            | Event::ApprovalExpired { .. } => match engine::describe(rb, &ev) {
                Some(l) => Line::new(l),
                None => continue,
            },
            _ => continue,
        };
        let mut line = line;
        line.0.insert(0, Span::Plain(format!("{} — ", ts(at))));
        items.push(Item::new(line));
    }
    Section {
        id: "timeline",
        title: "Timeline of operator actions",
        blocks: vec![Block::List(items)],
    }
}

pub(super) fn alerts(pm: &Postmortem) -> Section {
    let st = &pm.st;
    let blocks = if st.alerts.is_empty() {
        vec![Block::Para(Line::new("No alert fired."))]
    } else {
        let rows = st
            .alerts
            .iter()
            .map(|a| {
                let peak = engine::alert_peak(pm.rb, pm.readings(&a.metric), a);
                vec![
                    Line::new(a.metric.clone()),
                    Line::new(a.level.as_str()),
                    or_none(a.value.map(engine::fmt_num)),
                    match peak {
                        Some((at, v)) => {
                            Line::strong(engine::fmt_num(v)).and(format!(" at {}", ts(at)))
                        }
                        None => Line::new(NONE),
                    },
                    Line::new(engine::fmt_num(a.threshold)),
                    Line::new(ts(a.fired_at)),
                    match a.resolved_at {
                        Some(t) => Line::new(format!("{} (after {})", ts(t), dur(a.fired_at, t))),
                        None => Line::strong("still firing"),
                    },
                ]
            })
            .collect();
        vec![Block::Table {
            head: vec![
                "Metric",
                "Level",
                "At firing",
                "Peak",
                "Threshold",
                "Fired",
                "Resolved",
            ],
            rows,
        }]
    };
    Section {
        id: "alerts",
        title: "Alerts",
        blocks,
    }
}

pub(super) fn rollout_steps(pm: &Postmortem) -> Section {
    let periods = engine::rollout_periods(&pm.st);
    let end = pm.end();
    let blocks = if periods.is_empty() {
        vec![Block::Para(Line::new("The rollout did not start."))]
    } else {
        let rows = periods
            .iter()
            .map(|p| {
                vec![
                    Line::new(format!("{} %", p.percent)),
                    Line::new(ts(p.from)),
                    match p.until {
                        Some(t) => Line::new(ts(t)),
                        None => Line::new("the end of the log"),
                    },
                    Line::new(fmt_duration(p.lasted(end))),
                    match (&p.ended_by, p.until) {
                        (Some(r), _) => Line::new("rollback ").and_strong(r.clone()),
                        (None, Some(_)) => Line::new("the next step"),
                        (None, None) => Line::new("still at this step"),
                    },
                ]
            })
            .collect();
        vec![Block::Table {
            head: vec!["Step", "From", "Until", "Lasted", "Ended by"],
            rows,
        }]
    };
    Section {
        id: "rollout-steps",
        title: "Time at each rollout step",
        blocks,
    }
}

pub(super) fn rollbacks(pm: &Postmortem) -> Section {
    let (st, rb) = (&pm.st, pm.rb);
    let mut blocks = Vec::new();
    for a in &st.actions {
        let Action::Rollback { procedure } = &a.action else {
            continue;
        };
        let timing = engine::rollback_timing(st, rb, a);
        let target = timing.and_then(|t| t.target);
        let took = timing.filter(|t| t.finished).map(|t| t.took);
        let verdict = match timing {
            Some(t) if t.finished && t.target.is_some() && !t.over_target() => {
                Line::new("within target")
            }
            Some(t) if t.finished && t.target.is_some() => Line::strong("missed target"),
            Some(t) if t.finished => Line::new("no target"),
            _ => Line::strong("did not finish"),
        };
        let outcome = match &a.outcome {
            Outcome::Succeeded(_) => "succeeded".to_string(),
            Outcome::Failed(e) => format!("failed ({e})"),
            Outcome::Running => "running".into(),
            Outcome::Cancelled(e) => format!("cancelled ({e})"),
            Outcome::Unknown => "unknown".into(),
        };
        let mut line = Line::new(format!(
            "Rollback {procedure} by {} at {}: took {} against a target of {} — ",
            a.operator,
            ts(a.requested_at),
            took.map(fmt_duration).unwrap_or_else(|| NONE.into()),
            target.map(fmt_duration).unwrap_or_else(|| NONE.into()),
        ));
        line.0.extend(verdict.0);
        line = line.and(format!("; outcome: {outcome}"));
        if let Some(r) = &a.override_reason {
            line = line.and(format!("; override reason: \"{r}\""));
        }
        blocks.push(Block::Para(line));
        let mut rows: Vec<Vec<Line>> = a
            .steps_done
            .iter()
            .enumerate()
            .map(|(n, (name, ok, output))| {
                let at = pm.step_at.get(&(a.id, n)).copied();
                vec![
                    Line::new((n + 1).to_string()),
                    Line::new(name.clone()),
                    if *ok {
                        Line::new("ok")
                    } else {
                        Line::strong("FAILED")
                    },
                    Line::new(if output.trim().is_empty() {
                        NONE.to_string()
                    } else {
                        output.clone()
                    }),
                    or_none(at.map(|t| format!("{} (+{})", ts(t), dur(a.requested_at, t)))),
                ]
            })
            .collect();
        for (n, s) in a.steps.iter().enumerate().skip(a.steps_done.len()) {
            rows.push(vec![
                Line::new((n + 1).to_string()),
                Line::new(s.name.clone()),
                Line::strong("not run"),
                Line::new(NONE),
                Line::new(NONE),
            ]);
        }
        blocks.push(Block::Table {
            head: vec!["#", "Step", "Result", "Answered", "At"],
            rows,
        });
    }
    if blocks.is_empty() {
        blocks.push(Block::Para(Line::new("No rollback.")));
    }
    Section {
        id: "rollbacks",
        title: "Rollbacks",
        blocks,
    }
}
