//! Team mode's rules for what an operator who does not lead may write (a remark, an alert
//! acknowledged, an approval), and the two-person rule: an action the runbook marks
//! `approval: two-person` waits for another operator's approval before the lead's console
//! carries it out.

use super::action::*;
use super::event::Event;
use super::gate::propose;
use super::rules::may_act;
use super::state::*;
use crate::runbook::{Approval, Runbook};

/// The longest remark, in characters.
pub const COMMENT_MAX: usize = 500;

/// Whether the runbook asks a second operator to approve `action` (`approval: two-person` on
/// the phase it starts, the rollout step, the flag, or the rollback's procedure).
pub fn needs_approval(rb: &Runbook, action: &Action) -> bool {
    let marked = match action {
        Action::RolloutStep { step, .. } => step
            .checked_sub(1)
            .and_then(|i| rb.rollout.steps.get(i))
            .and_then(|s| s.approval),
        Action::PhaseChange { to: Some(to), .. } => rb
            .phase_index(to)
            .and_then(|i| rb.phases.get(i))
            .and_then(|p| p.approval),
        Action::FlipFlag { flag, .. } => rb
            .flags
            .iter()
            .find(|f| &f.id.value == flag)
            .and_then(|f| f.approval),
        Action::Rollback { procedure } => rb
            .procedures
            .iter()
            .find(|p| &p.id.value == procedure)
            .and_then(|p| p.approval),
        _ => None,
    };
    marked == Some(Approval::TwoPerson)
}

/// The gate's check for an action that needs a second operator: passes in team mode (a lead
/// is recorded: other consoles follow the rollout and may approve), fails — no override
/// passes it — on a console alone, which says how to get a second operator.
pub(crate) fn approval_check(st: &State, rb: &Runbook, action: &Action) -> Option<Check> {
    if !needs_approval(rb, action) {
        return None;
    }
    let team = st.lead.is_some();
    Some(Check {
        name: "a second operator approves".into(),
        pass: team,
        evidence: if team {
            "two-person rule: it waits for another operator's approval (A on their console)".into()
        } else {
            "two-person rule: this needs a second operator's approval — open the rollout in team mode (--store postgres://…) and approve it from another console (warroom watch … then A)".into()
        },
        key: None,
        overridable: false,
    })
}

/// Whether any operator of a rollout may write this event, lead or not: an observer's
/// console writes these itself.
pub fn anyone_may_write(ev: &Event) -> bool {
    matches!(
        ev,
        Event::Commented { .. }
            | Event::AlertAcknowledged { .. }
            | Event::ApprovalGiven { .. }
            | Event::ApprovalRejected { .. }
    )
}

/// Whether `operator` may write `events` now: the lead anything (`may_act`); any operator a
/// remark, an alert acknowledged or an approval — each only when it holds (an alert still
/// firing, a request still waiting, and never their own request).
pub fn may_write(st: &State, operator: &str, events: &[Event]) -> Result<(), String> {
    if events.is_empty() || !events.iter().all(anyone_may_write) {
        return may_act(st, operator);
    }
    for e in events {
        let (Event::Commented { operator: who, .. }
        | Event::AlertAcknowledged { operator: who, .. }
        | Event::ApprovalGiven { operator: who, .. }
        | Event::ApprovalRejected { operator: who, .. }) = e
        else {
            continue;
        };
        if who != operator {
            return Err(format!("{operator} cannot write in {who}'s name"));
        }
        match e {
            Event::Commented { text, .. } if text.trim().is_empty() => {
                return Err("an empty remark: type some words".into());
            }
            Event::Commented { text, .. } if text.chars().count() > COMMENT_MAX => {
                return Err(format!("a remark is at most {COMMENT_MAX} characters"));
            }
            Event::AlertAcknowledged { metric, level, .. }
                if !st
                    .unacknowledged_alerts()
                    .any(|a| &a.metric == metric && a.level == *level) =>
            {
                return Err(format!(
                    "the {} alert on {metric} is not firing unacknowledged",
                    level.as_str()
                ));
            }
            Event::ApprovalGiven { id, .. } | Event::ApprovalRejected { id, .. } => {
                awaiting(st, *id, operator)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The action awaiting approval, if `operator` may decide it (not its requester); else why not.
pub fn awaiting_for<'a>(st: &'a State, operator: &str) -> Result<&'a ActionRecord, String> {
    let a = st.awaiting_approval().ok_or("no action awaits approval")?;
    awaiting(st, a.id, operator)
}

/// The action `id` if it awaits approval and `operator` may decide it: not its requester.
fn awaiting<'a>(st: &'a State, id: u64, operator: &str) -> Result<&'a ActionRecord, String> {
    let a = st
        .awaiting_approval()
        .filter(|a| a.id == id)
        .ok_or_else(|| format!("#{id} does not await approval"))?;
    if a.operator == operator {
        return Err(format!(
            "{operator} requested #{id}: another operator approves it (two-person rule)"
        ));
    }
    Ok(a)
}

/// The phrases that approve and reject an action awaiting approval.
pub fn approval_phrases(a: &Action) -> (String, String) {
    (
        format!("approve {}", a.word()),
        format!("reject {}", a.word()),
    )
}

/// The gate's checks for an awaiting action as they stand now, on the approver's console (the
/// action itself not counted as another one running).
pub fn approval_checks(st: &State, rb: &Runbook, id: u64) -> Vec<Check> {
    let mut probe = st.clone();
    let Some(a) = probe.actions.iter_mut().rev().find(|a| a.id == id) else {
        return Vec::new();
    };
    a.outcome = Outcome::Unknown;
    let action = a.action.clone();
    propose(&probe, rb, action).checks
}

/// An operator's decision on the action awaiting approval, from what they typed: the approve
/// phrase gives an `ApprovalGiven` with their console's checks, the reject phrase an
/// `ApprovalRejected`. Refused, with why, when nothing awaits, when it is their own request,
/// when another phrase was typed, and when approving a gate that now fails (unless the request
/// overrode those checks, and no override may pass none of them).
pub fn decide_approval(
    st: &State,
    rb: &Runbook,
    operator: &str,
    typed: &str,
) -> Result<Event, String> {
    let a = st.awaiting_approval().ok_or("no action awaits approval")?;
    let a = awaiting(st, a.id, operator)?;
    let (approve, reject) = approval_phrases(&a.action);
    let typed = typed.trim();
    if typed == reject {
        return Ok(Event::ApprovalRejected {
            id: a.id,
            operator: operator.to_string(),
        });
    }
    if typed != approve {
        return Err(format!(
            "type `{approve}` to approve, or `{reject}` to reject"
        ));
    }
    let checks = approval_checks(st, rb, a.id);
    let failing: Vec<&Check> = checks.iter().filter(|c| !c.pass).collect();
    let overridden = a.override_reason.is_some();
    if failing.iter().any(|c| !c.overridable) || (!failing.is_empty() && !overridden) {
        let names: Vec<&str> = failing.iter().map(|c| c.name.as_str()).collect();
        return Err(format!(
            "the gate does not pass now ({}): reject it with `{reject}`",
            names.join(", ")
        ));
    }
    Ok(Event::ApprovalGiven {
        id: a.id,
        operator: operator.to_string(),
        checks,
    })
}

/// What the lead's console writes once an action was approved, when the action has no steps
/// to run (a phase change, a GO): its effects, as they would have gone with its request. An
/// action with steps is carried out by running them (`None`: not approved, or already done).
pub fn approved_effects(st: &State, rb: &Runbook, id: u64) -> Option<Vec<Event>> {
    let a = st.running().filter(|a| a.id == id)?;
    if !matches!(a.approval, Some(ApprovalState::Approved { .. })) || !a.steps.is_empty() {
        return None;
    }
    Some(super::gate::taken(
        rb,
        id,
        &a.action,
        &a.operator,
        a.reason.clone(),
        true,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::{seed, t};
    use crate::engine::{Submission, apply, submit};

    /// The seed with its first procedure's rollback and its first flag marked two-person.
    fn marked() -> Runbook {
        let mut rb = seed();
        rb.flags[0].approval = Some(Approval::TwoPerson);
        rb
    }

    fn flip(rb: &Runbook) -> Action {
        Action::FlipFlag {
            flag: rb.flags[0].id.value.clone(),
            to: serde_json::Value::Bool(true),
        }
    }

    #[test]
    fn a_marked_action_waits_and_only_another_operator_decides_it() {
        let rb = marked();
        let mut st = State::new(&rb);
        assert!(needs_approval(&rb, &flip(&rb)));
        let rollback = Action::Rollback {
            procedure: rb.procedures[0].id.value.clone(),
        };
        assert!(
            !needs_approval(&rb, &rollback),
            "rollbacks never wait unmarked"
        );
        // Alone (no lead recorded): blocked, no override passes, and it says how.
        let c = approval_check(&st, &rb, &flip(&rb)).expect("a check");
        assert!(!c.pass && !c.overridable && c.evidence.contains("team mode"));
        apply(
            &mut st,
            &rb,
            t(0),
            &Event::LeadTaken {
                operator: "alice".into(),
                previous: None,
            },
        );
        let p = propose(&st, &rb, flip(&rb));
        let sub = Submission {
            typed: p.phrase.clone().unwrap_or_default(),
            ..Default::default()
        };
        let evs = submit(&st, &rb, &p, "alice", &sub).expect("submitted");
        assert!(matches!(evs.last(), Some(Event::ApprovalRequested { .. })));
        assert!(
            !evs.iter()
                .any(|e| matches!(e, Event::ActionSucceeded { .. }))
        );
        for e in &evs {
            apply(&mut st, &rb, t(1), e);
        }
        let id = st.awaiting_approval().map(|a| a.id).expect("awaiting");
        // Nobody else acts meanwhile (but a rollback, which takes over): the gate says what
        // waits.
        let other = propose(
            &st,
            &rb,
            Action::SwitchPool {
                to: crate::runbook::PoolName::Green,
            },
        );
        assert!(
            other
                .checks
                .iter()
                .any(|c| !c.pass && c.evidence.contains("awaits approval")),
            "{:?}",
            other.checks
        );
        let taking_over = propose(&st, &rb, rollback);
        assert!(
            taking_over
                .checks
                .iter()
                .all(|c| !c.evidence.contains("awaits"))
        );
        // Her own request: refused, by the rule and by what she may write.
        let e = decide_approval(&st, &rb, "alice", "anything").expect_err("self");
        assert!(e.contains("another operator approves"), "{e}");
        let own = Event::ApprovalGiven {
            id,
            operator: "alice".into(),
            checks: Vec::new(),
        };
        assert!(may_write(&st, "alice", &[own]).is_err());
        // Bob: a wrong phrase says the right ones; the right one approves with his checks.
        let (yes, no) = approval_phrases(&flip(&rb));
        let e = decide_approval(&st, &rb, "bob", "yes").expect_err("phrase");
        assert!(e.contains(&yes) && e.contains(&no), "{e}");
        let given = decide_approval(&st, &rb, "bob", &yes).expect("approved");
        let Event::ApprovalGiven { checks, .. } = &given else {
            panic!("{given:?}")
        };
        assert!(
            !checks.is_empty() && checks.iter().all(|c| c.pass),
            "{checks:?}"
        );
        assert_eq!(may_write(&st, "bob", std::slice::from_ref(&given)), Ok(()));
        // Rejected instead: not taken.
        let mut rejected = st.clone();
        let r = decide_approval(&st, &rb, "bob", &no).expect("rejected");
        apply(&mut rejected, &rb, t(2), &r);
        assert!(rejected.running().is_none());
        assert!(matches!(
            rejected.actions.last().map(|a| &a.outcome),
            Some(Outcome::Cancelled(_))
        ));
        // Approved: a flip has steps, which the lead's console runs (no effects written here).
        apply(&mut st, &rb, t(2), &given);
        assert!(st.awaiting_approval().is_none() && st.running().is_some());
        assert_eq!(approved_effects(&st, &rb, id), None);
        // Only the first decision counts: a late rejection or a second approval (two
        // observers at once) changes nothing.
        let before = st.actions.clone();
        for late in [
            Event::ApprovalRejected {
                id,
                operator: "carol".into(),
            },
            Event::ApprovalGiven {
                id,
                operator: "carol".into(),
                checks: Vec::new(),
            },
        ] {
            apply(&mut st, &rb, t(3), &late);
        }
        assert_eq!(st.actions, before);
        // An observer writes a remark, never an action.
        let remark = Event::Commented {
            operator: "bob".into(),
            text: "looks fine".into(),
        };
        assert_eq!(may_write(&st, "bob", &[remark]), Ok(()));
        let tick = Event::ChecklistTicked {
            checklist: "x".into(),
            item: "y".into(),
            operator: "bob".into(),
        };
        assert!(may_write(&st, "bob", &[tick]).is_err());
    }
}
