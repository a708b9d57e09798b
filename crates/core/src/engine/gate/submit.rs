//! Submitting a decision: what the operator typed checked against the proposal, and the
//! events it writes with the evidence behind it; ticking a checklist item.

use super::actions::decision_role;
use super::{Proposal, Verdict};
use crate::engine::abort::AUTO_ABORT;
use crate::engine::action::*;
use crate::engine::event::Event;
use crate::engine::state::*;
use crate::runbook::{PoolName, Runbook};

/// The values behind a decision.
pub fn evidence(st: &State, rb: &Runbook) -> Evidence {
    Evidence {
        rollout_percent: st.traffic_share(rb),
        active_pool: st.pools.active,
        green_share: st.pools.green_share,
        flags: st.flags.clone(),
        pools: [PoolName::Blue, PoolName::Green]
            .into_iter()
            .map(|p| {
                let (ok, n) = st.pools.healthy(p);
                (p.to_string(), format!("{ok}/{n}"))
            })
            .collect(),
        metrics: rb
            .metrics
            .iter()
            .map(|m| {
                let id = m.id.value.clone();
                let value = st.metrics.get(&id).and_then(|s| s.last);
                let state = st.metric_level(rb, &id).as_str().to_string();
                (id, MetricEvidence { value, state })
            })
            .collect(),
        alerts_firing: st
            .firing()
            .map(|a| format!("{} {}", a.metric, a.level.as_str()))
            .collect(),
        migration_version: st.migration.as_ref().and_then(|m| m.version),
        migration_dirty: st.migration.as_ref().map(|m| m.dirty),
        phase: st.current_phase().map(|i| rb.phases[i].id.value.clone()),
    }
}

/// What the operator submitted in the dialog.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// The phrase typed: the confirmation phrase, or the override phrase when overriding.
    pub typed: String,
    /// Overriding failing checks: the reason (real words).
    pub override_reason: Option<String>,
    /// The reason an action asks for (a NO-GO, skipping a failed step).
    pub reason: Option<String>,
    /// The dry run the dialog showed, recorded with the request.
    pub preview: Vec<String>,
}

/// Why a submission was refused: nothing is recorded, the dialog says this and stays open.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SubmitError {
    #[error("type `{expected}` exactly to confirm")]
    WrongPhrase { expected: String },
    /// A reason must be a few real words, not a letter or two.
    #[error(
        "give a reason in words (at least two words), e.g. \"error rate is a known false positive\""
    )]
    ReasonRequired,
    /// A failing check that no override may pass.
    #[error("no override may pass: {}", .checks.join(", "))]
    NotOverridable { checks: Vec<String> },
}

/// A reason made of real words: at least two words of two or more letters, and more than a
/// handful of letters in all.
pub fn is_reason(s: &str) -> bool {
    let words = s
        .split_whitespace()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .count();
    let letters = s.chars().filter(|c| c.is_alphabetic()).count();
    words >= 2 && letters >= 6
}

/// Turn the operator's decision into events, in the order they are written. Returns the events
/// and whether steps must run after they are committed (then the action's id is the
/// `ActionRequested` one).
pub fn submit(
    st: &State,
    rb: &Runbook,
    p: &Proposal,
    operator: &str,
    sub: &Submission,
) -> Result<Vec<Event>, SubmitError> {
    let verdict = p.verdict();
    let evidence = evidence(st, rb);
    let overriding = verdict == Verdict::Blocked && sub.override_reason.is_some();
    if verdict == Verdict::Blocked && !overriding {
        // The gate said no; the attempt is evidence too. Nothing runs.
        return Ok(vec![Event::ActionBlocked {
            action: p.action.clone(),
            operator: operator.to_string(),
            checks: p.checks.clone(),
            evidence,
            preview: sub.preview.clone(),
        }]);
    }
    if overriding {
        let hard: Vec<String> = p
            .checks
            .iter()
            .filter(|c| !c.pass && !c.overridable)
            .map(|c| c.name.clone())
            .collect();
        if !hard.is_empty() {
            return Err(SubmitError::NotOverridable { checks: hard });
        }
        let expected = p.override_phrase();
        if sub.typed.trim() != expected {
            return Err(SubmitError::WrongPhrase { expected });
        }
        if !sub.override_reason.as_deref().is_some_and(is_reason) {
            return Err(SubmitError::ReasonRequired);
        }
    } else if let Some(expected) = &p.phrase
        && sub.typed.trim() != expected
    {
        return Err(SubmitError::WrongPhrase {
            expected: expected.clone(),
        });
    }
    let reason = if p.reason_required {
        // Overriding an action that asks for a reason (skipping a failed step): the one reason
        // typed for the override is the action's reason too; the dialog asks only once.
        let given = sub.reason.as_deref().or(if overriding {
            sub.override_reason.as_deref()
        } else {
            None
        });
        match given.map(str::trim) {
            Some(r) if is_reason(r) => Some(r.to_string()),
            _ => return Err(SubmitError::ReasonRequired),
        }
    } else {
        None
    };
    let id = st.next_action_id();
    let mut out = Vec::new();
    // A rollback by hand ends an auto-abort countdown: the lead did what it would have done.
    if let Action::Rollback { procedure } = &p.action
        && let Some(c) = &st.abort
        && operator != AUTO_ABORT
    {
        out.push(Event::AbortCancelled {
            rule: c.rule,
            operator: operator.to_string(),
            reason: format!("rollback {procedure} (#{id}) requested by hand"),
        });
    }
    // A rollback takes over from whatever runs: that action is cancelled first.
    if let Action::Rollback { procedure } = &p.action
        && let Some(running) = st.running()
    {
        out.push(Event::ActionCancelled {
            id: running.id,
            operator: operator.to_string(),
            reason: format!("rollback {procedure} (#{id}) took over"),
        });
    }
    out.push(Event::ActionRequested {
        id,
        action: p.action.clone(),
        operator: operator.to_string(),
        checks: p.checks.clone(),
        evidence,
        steps: p.steps.clone(),
        preview: sub.preview.clone(),
        reason: reason.clone(),
        optional: p
            .optional
            .iter()
            .filter(|o| o.chosen)
            .map(|o| o.name.clone())
            .collect(),
    });
    if overriding {
        out.push(Event::ActionConfirmed {
            id,
            phrase: p.override_phrase(),
        });
        out.push(Event::ActionOverridden {
            id,
            reason: sub
                .override_reason
                .as_deref()
                .unwrap_or_default()
                .trim()
                .to_string(),
        });
    } else if let Some(phrase) = &p.phrase {
        out.push(Event::ActionConfirmed {
            id,
            phrase: phrase.clone(),
        });
    }
    // Two-person rule: the request waits for another operator; nothing of it takes effect.
    if crate::engine::needs_approval(rb, &p.action) {
        out.push(Event::ApprovalRequested {
            id,
            operator: operator.to_string(),
        });
        return Ok(out);
    }
    out.extend(taken(
        rb,
        id,
        &p.action,
        operator,
        reason,
        p.steps.is_empty(),
    ));
    Ok(out)
}

/// What an action without steps writes when it takes effect (with its request, or once a
/// second operator approved it): changes that touch no external system.
pub(crate) fn taken(
    rb: &Runbook,
    id: u64,
    action: &Action,
    operator: &str,
    reason: Option<String>,
    no_steps: bool,
) -> Vec<Event> {
    let mut out = Vec::new();
    match action {
        Action::GoNoGo { go } => {
            out.push(Event::Decision {
                go: *go,
                operator: operator.to_string(),
                role: decision_role(rb),
                reason,
            });
        }
        Action::PhaseChange { from, to } => {
            if let Some(f) = from {
                out.push(Event::PhaseCompleted { phase: f.clone() });
            }
            if let Some(t) = to {
                out.push(Event::PhaseStarted { phase: t.clone() });
            }
        }
        _ => {}
    }
    if no_steps {
        out.push(Event::ActionSucceeded {
            id,
            detail: "recorded".into(),
        });
    }
    out
}

/// Ticking or unticking a checklist item. Unticking an item of a checklist that a GO was
/// signed on, before the deployment started, withdraws the GO.
pub fn tick(st: &State, rb: &Runbook, list: &str, item: &str, operator: &str) -> Vec<Event> {
    if st.ticked(list, item).is_none() {
        return vec![Event::ChecklistTicked {
            checklist: list.to_string(),
            item: item.to_string(),
            operator: operator.to_string(),
        }];
    }
    let mut out = vec![Event::ChecklistUnticked {
        checklist: list.to_string(),
        item: item.to_string(),
        operator: operator.to_string(),
    }];
    let signed_on = rb
        .go_no_go
        .as_ref()
        .is_some_and(|g| g.requires.iter().any(|r| r.value == list));
    let started = st.phases.iter().any(|p| p.status != PhaseStatus::Pending);
    if signed_on && !started && st.decision.as_ref().is_some_and(|d| d.is_go()) {
        out.push(Event::DecisionWithdrawn {
            operator: operator.to_string(),
            reason: format!("{list}/{item} unticked by {operator}"),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::seed;

    /// Skipping a failed step asks for a reason; when a failing check makes the lead override,
    /// the override's reason is the skip's reason too, and the skip goes through (it used to
    /// ask for a second reason the dialog never asked for, so it could never be confirmed).
    #[test]
    fn an_overridden_skip_takes_the_override_reason() {
        let rb = seed();
        let st = State::new(&rb);
        let p = Proposal {
            action: Action::SkipStep {
                phase: rb.phases[0].id.value.clone(),
                step: 0,
            },
            checks: vec![Check {
                name: "no critical alert firing".into(),
                pass: false,
                evidence: "error rate 2.4 %".into(),
                key: None,
                overridable: true,
            }],
            phrase: Some("skip".into()),
            steps: Vec::new(),
            preview: Vec::new(),
            target: None,
            reason_required: true,
            optional: Vec::new(),
        };
        let why = "marker check is obsolete since release four";
        let sub = Submission {
            typed: p.override_phrase(),
            override_reason: Some(why.into()),
            ..Default::default()
        };
        let evs = submit(&st, &rb, &p, "alice", &sub).expect("the override goes through");
        assert!(
            evs.iter()
                .any(|e| matches!(e, Event::ActionRequested { reason: Some(r), .. } if r == why)),
            "{evs:#?}"
        );
        // Without an override, the reason is still required.
        let plain = Submission {
            typed: "skip".into(),
            ..Default::default()
        };
        let ok = Proposal {
            checks: Vec::new(),
            ..p.clone()
        };
        assert!(matches!(
            submit(&st, &rb, &ok, "alice", &plain),
            Err(SubmitError::ReasonRequired)
        ));
    }

    #[test]
    fn what_the_dialog_says_when_a_submission_is_refused() {
        let wrong = SubmitError::WrongPhrase {
            expected: "rollout 100".into(),
        };
        assert_eq!(wrong.to_string(), "type `rollout 100` exactly to confirm");
        assert_eq!(
            SubmitError::ReasonRequired.to_string(),
            "give a reason in words (at least two words), e.g. \"error rate is a known false positive\""
        );
        let hard = SubmitError::NotOverridable {
            checks: vec!["no other action running".into(), "procedure exists".into()],
        };
        assert_eq!(
            hard.to_string(),
            "no override may pass: no other action running, procedure exists"
        );
    }
}
