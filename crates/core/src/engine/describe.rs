//! Events in words: one line each, for the log pane, the tracing log and replay.

use super::{Event, Time, fmt_num};
use crate::runbook::Runbook;

/// A log line for an event: its time (the source clock's) and what happened; `None` for
/// readings that went well.
pub fn log_line(rb: &Runbook, at: Time, ev: &Event) -> Option<String> {
    describe(rb, ev).map(|l| format!("{} {l}", at.format("%H:%M:%S")))
}

/// One line for the log pane and the tracing log, without any character from elsewhere that
/// could steer a terminal or hide text (`text::clean`).
pub fn describe(rb: &Runbook, ev: &Event) -> Option<String> {
    words(rb, ev).map(|l| crate::text::clean(&l).into_owned())
}

fn words(rb: &Runbook, ev: &Event) -> Option<String> {
    Some(match ev {
        Event::SessionStarted {
            operator,
            mode,
            scenario,
            continued_unverified,
            ..
        } => format!(
            "session started by {operator} ({mode}{}){}",
            scenario
                .as_ref()
                .map(|s| format!(", scenario {s}"))
                .unwrap_or_default(),
            continued_unverified
                .as_ref()
                .map(|n| format!(" — continuing a log that does not verify ({n})"))
                .unwrap_or_default()
        ),
        Event::SessionEnded { operator } => format!("session ended by {operator}"),
        Event::LeadTaken {
            operator,
            previous: None,
        } => format!("{operator} leads the rollout"),
        Event::LeadTaken {
            operator,
            previous: Some(p),
        } => format!("{operator} took the lead from {p}, whose console had stopped"),
        Event::LeadHandedOver { operator, to } => {
            format!("{operator} handed the lead to {to}, who asked for it")
        }
        Event::Commented { operator, text } => format!("{operator} says: {text}"),
        Event::AlertAcknowledged {
            metric,
            level,
            operator,
        } => format!(
            "{} alert on {} acknowledged by {operator}",
            level.as_str(),
            rb.metric(metric)
                .map_or(metric.as_str(), |m| m.name.as_str())
        ),
        Event::ApprovalRequested { id, operator } => format!(
            "#{id} awaiting approval by another operator (requested by {operator}; two-person rule)"
        ),
        Event::ApprovalGiven {
            id,
            operator,
            checks,
        } => {
            let failing = checks.iter().filter(|c| !c.pass).count();
            format!(
                "#{id} approved by {operator} ({} checks on their console, {failing} failing)",
                checks.len()
            )
        }
        Event::ApprovalRejected { id, operator } => {
            format!("#{id} rejected by {operator}: not taken")
        }
        Event::ApprovalCarriedOut { id, operator } => {
            format!("#{id} approved: carried out by {operator}'s console")
        }
        Event::ApprovalExpired {
            id,
            operator,
            reason,
        } => format!("#{id} approval expired (found by {operator}'s console): {reason}"),
        Event::NotificationSent {
            target,
            seq,
            ok,
            attempts,
            detail,
        } => format!(
            "webhook {target} (seq {seq}): {} after {attempts} attempt{}{}",
            if *ok { "delivered" } else { "NOT DELIVERED" },
            if *attempts == 1 { "" } else { "s" },
            if detail.is_empty() {
                String::new()
            } else {
                format!(" — {detail}")
            }
        ),
        Event::SqlCheckAsked { metrics, operator } => {
            format!(
                "{operator} asked the one-shot SQL checks {}",
                metrics.join(", ")
            )
        }
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
            operator,
        } => format!("{operator} ticked {checklist}/{item}"),
        Event::ChecklistUnticked {
            checklist,
            item,
            operator,
        } => format!("{operator} unticked {checklist}/{item}"),
        Event::ActionRequested {
            id,
            action,
            operator,
            checks,
            optional,
            ..
        } => {
            let failing = checks.iter().filter(|c| !c.pass).count();
            let n = checks.len();
            let chosen = if optional.is_empty() {
                String::new()
            } else {
                format!("; optional steps chosen: {}", optional.join(", "))
            };
            format!(
                "#{id} {} requested by {operator} ({n} check{}, {failing} failing{chosen})",
                action.label(),
                if n == 1 { "" } else { "s" }
            )
        }
        Event::ActionConfirmed { id, phrase } => format!("#{id} confirmed: typed \"{phrase}\""),
        Event::ActionOverridden { id, reason } => format!("#{id} OVERRIDE: {reason}"),
        Event::ActionCancelled {
            id,
            operator,
            reason,
        } => {
            format!("#{id} CANCELLED by {operator}: {reason}")
        }
        Event::ActionBlocked {
            action,
            operator,
            checks,
            ..
        } => {
            // Each failing check with what was found, not only what was wanted.
            let failing: Vec<String> = checks
                .iter()
                .filter(|c| !c.pass)
                .map(|c| format!("{} failed ({})", c.name, c.evidence))
                .collect();
            format!(
                "BLOCKED {} ({operator}): {}",
                action.label(),
                failing.join("; ")
            )
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
        Event::Decision {
            go,
            operator,
            role,
            reason,
        } => format!(
            "go/no-go: {} signed by {operator} for {role}{}",
            if *go { "GO" } else { "NO-GO" },
            reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
        Event::DecisionWithdrawn { reason, .. } => format!("GO WITHDRAWN: {reason}"),
        Event::AbortArmed {
            procedure,
            cause,
            countdown_secs,
            ..
        } => format!(
            "AUTO-ABORT armed: rollback {procedure} in {countdown_secs}s unless cancelled ({cause})"
        ),
        Event::AbortCancelled {
            operator, reason, ..
        } => {
            format!("auto-abort cancelled by {operator}: {reason}")
        }
        Event::AbortExpired { .. } => "AUTO-ABORT countdown ran out: the rollback starts".into(),
        Event::RollbackAcknowledged { id, operator } => {
            format!("#{id} result acknowledged by {operator}")
        }
        Event::ServerDown {
            pool,
            address,
            error,
        } => format!("SERVER DOWN {address} ({pool}): {error}"),
        Event::ServerUp { pool, address } => format!("server {address} ({pool}) answers again"),
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
