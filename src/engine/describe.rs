//! Events in words: one line each, for the log pane, the tracing log and replay.

use super::{Event, Time, fmt_num};
use crate::runbook::Runbook;

/// A log line for an event: its time (the source clock's) and what happened; `None` for
/// readings that went well.
pub fn log_line(rb: &Runbook, at: Time, ev: &Event) -> Option<String> {
    describe(rb, ev).map(|l| format!("{} {l}", at.format("%H:%M:%S")))
}

/// One line for the log pane and the tracing log.
pub fn describe(rb: &Runbook, ev: &Event) -> Option<String> {
    Some(match ev {
        Event::SessionStarted {
            operator,
            mode,
            scenario,
            ..
        } => format!(
            "session started by {operator} ({mode}{})",
            scenario
                .as_ref()
                .map(|s| format!(", scenario {s}"))
                .unwrap_or_default()
        ),
        Event::SessionEnded { operator } => format!("session ended by {operator}"),
        Event::Observed(o) => {
            if o.errors.is_empty() {
                return None;
            }
            o.errors
                .iter()
                .map(|e| format!("{}: {}", e.source, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        }
        Event::ChecklistTicked {
            checklist,
            item,
            by,
        } => format!("{by} ticked {checklist}/{item}"),
        Event::ChecklistUnticked {
            checklist,
            item,
            by,
        } => format!("{by} unticked {checklist}/{item}"),
        Event::ActionRequested {
            id,
            action,
            by,
            checks,
            ..
        } => {
            let failing = checks.iter().filter(|c| !c.pass).count();
            format!(
                "#{id} {} requested by {by} ({} checks, {failing} failing)",
                action.label(),
                checks.len()
            )
        }
        Event::ActionConfirmed { id, phrase } => format!("#{id} confirmed: typed \"{phrase}\""),
        Event::ActionOverridden { id, reason } => format!("#{id} OVERRIDE: {reason}"),
        Event::ActionBlocked {
            action, by, checks, ..
        } => {
            let failing: Vec<&str> = checks
                .iter()
                .filter(|c| !c.pass)
                .map(|c| c.name.as_str())
                .collect();
            format!("BLOCKED {} ({by}): {}", action.label(), failing.join(", "))
        }
        Event::StepFinished {
            id,
            name,
            ok,
            output,
            ..
        } => {
            format!(
                "#{id} {} {name}: {}",
                if *ok { "✓" } else { "✗" },
                output.lines().last().unwrap_or("")
            )
        }
        Event::ActionSucceeded { id, detail } => format!("#{id} succeeded: {detail}"),
        Event::ActionFailed { id, error } => format!("#{id} FAILED: {error}"),
        Event::ActionOutcomeUnknown { id } => {
            format!("#{id} outcome unknown — verify (no outcome recorded before the restart)")
        }
        Event::Decision { go, by, role } => format!(
            "go/no-go: {} signed by {by} for {role}",
            if *go { "GO" } else { "NO-GO" }
        ),
        Event::PhaseStarted { phase } => format!("phase {} started", rb.phase_name(phase)),
        Event::PhaseCompleted { phase } => format!("phase {} completed", rb.phase_name(phase)),
        Event::AlertFired {
            metric,
            level,
            value,
            threshold,
        } => format!(
            "ALERT {} {metric} = {} (threshold {})",
            level.as_str().to_uppercase(),
            value.map(fmt_num).unwrap_or_else(|| "?".into()),
            fmt_num(*threshold)
        ),
        Event::AlertResolved { metric, level, .. } => {
            format!("resolved {} {metric}", level.as_str())
        }
    })
}
