//! What the room tells the company chat: which recorded events a webhook hears (its topic)
//! and the words it posts. Decided here, from the state the event was applied to; the
//! webhook adapter only formats and delivers.

use super::action::Action;
use super::event::Event;
use super::state::{Outcome, State};
use crate::runbook::{Runbook, Topic, fmt_duration};

/// The topic and words of a committed event, as a webhook posts them; `None` for events no
/// webhook hears. `st` is the state with the event applied.
pub fn notification(st: &State, rb: &Runbook, ev: &Event) -> Option<(Topic, String)> {
    let name = |plan: &str| {
        rb.phase_index(plan)
            .and_then(|i| rb.phases.get(i))
            .map_or(plan.to_string(), |p| p.name.clone())
    };
    let (topic, text) = match ev {
        Event::PhaseStarted { phase } => (Topic::Phase, format!("phase started: {}", name(phase))),
        Event::PhaseCompleted { phase } => {
            (Topic::Phase, format!("phase completed: {}", name(phase)))
        }
        Event::ActionRequested {
            id,
            action,
            operator,
            ..
        } => match action {
            Action::RolloutStep { percent, .. } => (
                Topic::RolloutStep,
                format!("rollout step to {percent} % requested by {operator} (#{id})"),
            ),
            Action::Rollback { procedure } => (
                Topic::Rollback,
                format!("ROLLBACK {procedure} requested by {operator} (#{id})"),
            ),
            _ => return None,
        },
        Event::ActionBlocked {
            action,
            operator,
            checks,
            ..
        } => {
            let failing: Vec<&str> = checks
                .iter()
                .filter(|c| !c.pass)
                .map(|c| c.name.as_str())
                .collect();
            (
                Topic::Blocked,
                format!(
                    "{} by {operator} BLOCKED: {}",
                    action.label(),
                    failing.join(", ")
                ),
            )
        }
        Event::ActionOverridden { id, reason } => {
            let a = st.actions.iter().rev().find(|a| a.id == *id)?;
            (
                Topic::Overridden,
                format!(
                    "{} by {}: gate OVERRIDDEN — \"{reason}\"",
                    a.action.label(),
                    a.operator
                ),
            )
        }
        Event::AlertFired { metric, level, .. } => (
            Topic::Alert,
            format!(
                "alert {}: {}",
                level.as_str().to_uppercase(),
                rb.metric(metric)
                    .map_or(metric.as_str(), |m| m.name.as_str())
            ),
        ),
        Event::AlertResolved { metric, level, .. } => (
            Topic::Alert,
            format!(
                "alert resolved ({}): {}",
                level.as_str(),
                rb.metric(metric)
                    .map_or(metric.as_str(), |m| m.name.as_str())
            ),
        ),
        Event::ActionSucceeded { id, .. } | Event::ActionFailed { id, .. } => {
            let a = st.actions.iter().rev().find(|a| a.id == *id)?;
            let Action::Rollback { procedure } = &a.action else {
                return None;
            };
            let took = (a.finished_at? - a.requested_at)
                .to_std()
                .unwrap_or_default();
            let target = rb
                .procedures
                .iter()
                .find(|p| &p.id.value == procedure)
                .map(|p| p.target);
            let against = target.map_or(String::new(), |t| {
                format!(
                    " / target {} {}",
                    fmt_duration(t),
                    if took <= t { "✓" } else { "OVER TARGET" }
                )
            });
            let how = match &a.outcome {
                Outcome::Succeeded(_) => "rolled back".to_string(),
                Outcome::Failed(e) => format!("rollback FAILED ({e})"),
                _ => return None,
            };
            (
                Topic::Rollback,
                format!("{how}: {procedure} in {}{against}", fmt_duration(took)),
            )
        }
        Event::Decision {
            go,
            operator,
            role,
            reason,
        } => (
            Topic::GoNoGo,
            format!(
                "{} signed by {operator} for {role}{}",
                if *go { "GO" } else { "NO-GO" },
                reason
                    .as_ref()
                    .map(|r| format!(": \"{r}\""))
                    .unwrap_or_default()
            ),
        ),
        Event::LeadTaken { operator, previous } => (
            Topic::Lead,
            match previous {
                Some(p) => format!("{operator} took the lead from {p}"),
                None => format!("{operator} leads the rollout"),
            },
        ),
        Event::LeadHandedOver { operator, to } => {
            (Topic::Lead, format!("{operator} handed the lead to {to}"))
        }
        _ => return None,
    };
    Some((
        topic,
        crate::text::clean(&format!("{}: {text}", rb.name)).into_owned(),
    ))
}
