//! `apply`: the one function that changes state. Live, replay, resume and export all use it.

use super::action::*;
use super::effects::{believe, phase_step_failed, reopen_migration_phase};
use super::event::*;
use super::observe::observe;
use super::state::*;
use crate::runbook::Runbook;

/// Apply one recorded event at its recorded time.
pub fn apply(st: &mut State, rb: &Runbook, at: Time, ev: &Event) {
    st.events += 1;
    if st.now.is_none_or(|n| at > n) {
        st.now = Some(at);
    }
    match ev {
        Event::SessionStarted {
            operator,
            mode,
            scenario,
            ..
        } => {
            st.operator = operator.clone();
            st.mode = mode.clone();
            st.scenario = scenario.clone();
            st.sessions += 1;
            if st.session_started.is_none() {
                st.session_started = Some(at);
            }
        }
        Event::SessionEnded { operator } => {
            if let Some(l) = st.lead.as_mut().filter(|l| l.operator == *operator) {
                l.ended = true;
            }
        }
        Event::LeadTaken { operator, .. } => {
            st.lead = Some(Lead {
                operator: operator.clone(),
                since: at,
                ended: false,
                handed_to: None,
            });
        }
        Event::SqlCheckAsked { metrics, .. } => {
            for m in metrics {
                st.sql_asked.insert(m.clone(), at);
            }
        }
        Event::LeadHandedOver { operator, to } => {
            if let Some(l) = st.lead.as_mut().filter(|l| l.operator == *operator) {
                l.ended = true;
                l.handed_to = Some(to.clone());
            }
        }
        Event::Observed(o) if o.unchanged => {
            if let Some(last) = st.last_reading.get(&o.source).cloned() {
                observe(st, rb, at, &last);
            }
        }
        Event::Observed(o) => {
            observe(st, rb, at, o);
            if o.history.is_empty() {
                st.last_reading.insert(o.source.clone(), o.clone());
            }
        }
        Event::ChecklistTicked {
            checklist,
            item,
            operator,
        } => {
            st.ticks.insert(
                (checklist.clone(), item.clone()),
                Tick {
                    operator: operator.clone(),
                    at,
                },
            );
        }
        Event::ChecklistUnticked {
            checklist, item, ..
        } => {
            st.ticks.remove(&(checklist.clone(), item.clone()));
        }
        Event::ActionRequested {
            id,
            action,
            operator,
            checks,
            evidence,
            steps,
            preview,
            reason,
            ..
        } => {
            st.actions.push(ActionRecord {
                id: *id,
                action: action.clone(),
                operator: operator.clone(),
                requested_at: at,
                finished_at: None,
                checks: checks.clone(),
                evidence: evidence.clone(),
                preview: preview.clone(),
                steps: steps.clone(),
                steps_done: Vec::new(),
                step_started: Some(at),
                confirmed: None,
                override_reason: None,
                reason: reason.clone(),
                outcome: Outcome::Running,
                acknowledged: false,
                approval: None,
            });
            if let Action::Rollback { .. } = action {
                // A rollback undoes the canary: the next step starts again from the first,
                // and a countdown that was running has done its job.
                if st.rollout_step > 0 || st.traffic_share(rb) > 0 {
                    st.rearm = true;
                }
                st.rollout_step = 0;
                st.rollout_step_at = None;
                if let Some(c) = st.abort.take() {
                    st.abort_latched.insert(c.rule, at);
                }
            }
        }
        Event::ActionConfirmed { id, phrase } => {
            if let Some(a) = find(st, *id) {
                a.confirmed = Some(phrase.clone());
            }
        }
        Event::ActionOverridden { id, reason } => {
            if let Some(a) = find(st, *id) {
                a.override_reason = Some(reason.clone());
            }
        }
        Event::ActionBlocked {
            action,
            checks,
            evidence,
            preview,
            ..
        } => {
            st.blocked += 1;
            // The session's operator is who pressed Enter on it (one console per log).
            st.blocked_attempts.push(BlockedAttempt {
                action: action.clone(),
                operator: st.operator.clone(),
                at,
                checks: checks.clone(),
                evidence: evidence.clone(),
                preview: preview.clone(),
            });
        }
        Event::StepFinished {
            id,
            name,
            ok,
            output,
            step,
        } => {
            let mut effect = None;
            if let Some(a) = find(st, *id) {
                a.steps_done.push((name.clone(), *ok, output.clone()));
                a.step_started = Some(at);
                if *ok {
                    effect = a.steps.get(*step).map(|s| s.kind.clone());
                }
            }
            // A step that succeeded changes what we believe until the next observation says
            // otherwise, so the screen does not lag behind the action.
            if let Some(effect) = effect {
                believe(st, &effect);
            }
        }
        Event::ActionSucceeded { id, detail } => {
            let action = find(st, *id).map(|a| {
                a.outcome = Outcome::Succeeded(detail.clone());
                a.finished_at = Some(at);
                (a.action.clone(), a.steps.clone())
            });
            match action {
                Some((Action::RolloutStep { step, percent }, _)) => {
                    st.rollout_max = st.rollout_max.max(percent);
                    st.rollout_step = step;
                    st.rollout_step_at = Some(at);
                    st.rearm = false;
                }
                Some((Action::RetryPhase { phase, .. } | Action::SkipStep { phase, .. }, _)) => {
                    if let Some(i) = rb.phase_index(&phase) {
                        st.phases[i].failed = None;
                    }
                }
                Some((Action::Rollback { .. }, steps)) => {
                    reopen_migration_phase(st, rb, *id, &steps)
                }
                _ => {}
            }
        }
        Event::ActionFailed { id, error } => {
            if let Some(a) = find(st, *id) {
                a.outcome = Outcome::Failed(error.clone());
                a.finished_at = Some(at);
            }
            phase_step_failed(st, rb, *id, error);
        }
        Event::ActionCancelled { id, reason, .. } => {
            if let Some(a) = find(st, *id) {
                a.outcome = Outcome::Cancelled(reason.clone());
                a.finished_at = Some(at);
            }
            phase_step_failed(st, rb, *id, &format!("cancelled: {reason}"));
        }
        Event::ActionOutcomeUnknown { id } => {
            if let Some(a) = find(st, *id) {
                a.outcome = Outcome::Unknown;
            }
            phase_step_failed(st, rb, *id, "outcome unknown after a restart: verify");
        }
        Event::Decision {
            go,
            operator,
            role,
            reason,
        } => {
            st.decision = Some(Decision {
                go: *go,
                operator: operator.clone(),
                role: role.clone(),
                at,
                reason: reason.clone(),
                withdrawn: None,
            });
        }
        Event::DecisionWithdrawn { reason, .. } => {
            if let Some(d) = st.decision.as_mut() {
                d.withdrawn = Some(reason.clone());
            }
        }
        Event::AbortArmed {
            rule,
            procedure,
            cause,
            countdown_secs,
        } => {
            st.abort = Some(Countdown {
                rule: *rule,
                procedure: procedure.clone(),
                cause: cause.clone(),
                armed_at: at,
                deadline: at + chrono::Duration::seconds(*countdown_secs as i64),
            });
        }
        Event::AbortCancelled { rule, .. } | Event::AbortExpired { rule } => {
            if st.abort.as_ref().is_some_and(|c| c.rule == *rule) {
                st.abort = None;
            }
            st.abort_latched.insert(*rule, at);
        }
        Event::RollbackAcknowledged { id, .. } => {
            if let Some(a) = find(st, *id) {
                a.acknowledged = true;
            }
        }
        Event::ServerDown {
            pool,
            address,
            error,
        } => {
            st.servers_down.insert(
                address.clone(),
                ServerDown {
                    pool: *pool,
                    since: at,
                    error: error.clone(),
                },
            );
        }
        Event::ServerUp { address, .. } => {
            st.servers_down.remove(address);
        }
        Event::PhaseStarted { phase } => {
            if let Some(i) = rb.phase_index(phase) {
                st.phases[i].status = PhaseStatus::Active;
                st.phases[i].started = Some(at);
                st.phases[i].failed = None;
            }
        }
        Event::PhaseCompleted { phase } => {
            if let Some(i) = rb.phase_index(phase) {
                st.phases[i].status = PhaseStatus::Done;
                st.phases[i].ended = Some(at);
            }
        }
        Event::AlertFired {
            metric,
            level,
            value,
            threshold,
        } => {
            // A critical supersedes the warning of the same metric.
            close_alerts(st, metric, at);
            st.alerts.push(AlertRecord {
                metric: metric.clone(),
                level: *level,
                fired_at: at,
                value: *value,
                threshold: *threshold,
                resolved_at: None,
                acknowledged_by: None,
            });
            if let Some(m) = st.metrics.get_mut(metric) {
                m.firing = *level;
            }
        }
        Event::Commented { .. } | Event::NotificationSent { .. } => {}
        Event::AlertAcknowledged { .. }
        | Event::ApprovalRequested { .. }
        | Event::ApprovalGiven { .. }
        | Event::ApprovalRejected { .. }
        | Event::ApprovalCarriedOut { .. }
        | Event::ApprovalExpired { .. } => apply_team(st, at, ev),
        Event::AlertResolved { metric, level, .. } => {
            close_alerts(st, metric, at);
            if let Some(m) = st.metrics.get_mut(metric) {
                // Resolving a critical may leave the warning of the same metric firing; the
                // next evaluation fires it again if it still holds.
                if m.firing == *level {
                    m.firing = Level::Ok;
                }
            }
        }
    }
}

/// Team mode's records: remarks, acknowledged alerts, and the two-person rule's approvals.
fn apply_team(st: &mut State, at: Time, ev: &Event) {
    match ev {
        Event::AlertAcknowledged {
            metric,
            level,
            operator,
        } => {
            if let Some(a) = st
                .alerts
                .iter_mut()
                .rev()
                .find(|a| &a.metric == metric && a.level == *level && a.resolved_at.is_none())
            {
                a.acknowledged_by.get_or_insert_with(|| operator.clone());
            }
        }
        Event::ApprovalRequested { id, .. } => {
            if let Some(a) = find(st, *id) {
                a.approval = Some(ApprovalState::Awaiting);
            }
        }
        // Only the first decision counts: two operators approving at once, or a rejection
        // after an approval, change nothing.
        Event::ApprovalGiven {
            id,
            operator,
            checks,
        } => {
            if let Some(a) = find(st, *id)
                && a.approval == Some(ApprovalState::Awaiting)
            {
                a.approval = Some(ApprovalState::Approved {
                    operator: operator.clone(),
                    at,
                    checks: checks.clone(),
                    carried_out_by: None,
                });
            }
        }
        Event::ApprovalCarriedOut { id, operator } => {
            if let Some(a) = find(st, *id)
                && let Some(ApprovalState::Approved { carried_out_by, .. }) = &mut a.approval
            {
                carried_out_by.get_or_insert_with(|| operator.clone());
            }
        }
        // Not carried out: the action is not taken (as a rejection leaves it), and no phase
        // step failed, since none ran.
        Event::ApprovalExpired { id, reason, .. } => {
            if let Some(a) = find(st, *id)
                && a.outcome == Outcome::Running
            {
                a.outcome = Outcome::Cancelled(format!("approval expired: {reason}"));
                a.finished_at = Some(at);
            }
        }
        Event::ApprovalRejected { id, operator } => {
            if let Some(a) = find(st, *id)
                && a.approval == Some(ApprovalState::Awaiting)
                && a.outcome == Outcome::Running
            {
                a.approval = Some(ApprovalState::Rejected {
                    operator: operator.clone(),
                    at,
                });
                a.outcome = Outcome::Cancelled(format!("rejected by {operator}: not taken"));
                a.finished_at = Some(at);
            }
        }
        _ => {}
    }
}

fn find(st: &mut State, id: u64) -> Option<&mut ActionRecord> {
    st.actions.iter_mut().rev().find(|a| a.id == id)
}

fn close_alerts(st: &mut State, metric: &str, at: Time) {
    for a in st.alerts.iter_mut() {
        if a.metric == metric && a.resolved_at.is_none() {
            a.resolved_at = Some(at);
        }
    }
}
