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

/// Whether the runbook asks a second operator to approve `action` (`approval: two-person`):
/// the phase it starts — or whose failed steps it retries or skips —, the rollout step, the
/// flag, the pool a switch sends all traffic to, the go/no-go (a GO; a NO-GO never waits), or
/// the rollback's procedure.
pub fn needs_approval(rb: &Runbook, action: &Action) -> bool {
    let phase = |id: &str| {
        rb.phase_index(id)
            .and_then(|i| rb.phases.get(i))
            .and_then(|p| p.approval)
    };
    let marked = match action {
        Action::RolloutStep { step, .. } => step
            .checked_sub(1)
            .and_then(|i| rb.rollout.steps.get(i))
            .and_then(|s| s.approval),
        Action::PhaseChange { to: Some(to), .. } => phase(to),
        Action::PhaseChange { to: None, .. } => None,
        Action::RetryPhase { phase: p, .. } | Action::SkipStep { phase: p, .. } => phase(p),
        Action::FlipFlag { flag, .. } => rb
            .flags
            .iter()
            .find(|f| &f.id.value == flag)
            .and_then(|f| f.approval),
        Action::SwitchPool { to } => rb.pools.get(*to).approval.as_ref().map(|a| a.value),
        Action::GoNoGo { go: true } => rb.go_no_go.as_ref().and_then(|g| g.approval),
        Action::GoNoGo { go: false } => None,
        Action::Rollback { procedure } => rb
            .procedures
            .iter()
            .find(|p| &p.id.value == procedure)
            .and_then(|p| p.approval),
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

/// What the lead's console writes once the action `id` was approved, before anything of it
/// runs: `approval_carried_out` with its name — and, for an action without steps (a GO, a
/// phase change with none), its effects and its success, as they would have gone with its
/// request; for one with steps, the phase it starts (its steps then run once this is
/// committed). `None` when it is not approved, or already carried out.
pub fn carry_out(st: &State, rb: &Runbook, id: u64, operator: &str) -> Option<Vec<Event>> {
    let a = st.running().filter(|a| a.id == id)?;
    if !matches!(
        a.approval,
        Some(ApprovalState::Approved {
            carried_out_by: None,
            ..
        })
    ) {
        return None;
    }
    let mut out = vec![Event::ApprovalCarriedOut {
        id,
        operator: operator.to_string(),
    }];
    out.extend(super::gate::taken(
        rb,
        id,
        &a.action,
        &a.operator,
        a.reason.clone(),
        a.steps.is_empty(),
    ));
    Some(out)
}

/// Whether the action's steps may run now: it needs no approval, or its approval was
/// carried out by the lead's console.
pub fn may_run(a: &ActionRecord) -> bool {
    match &a.approval {
        None => true,
        Some(ApprovalState::Approved { carried_out_by, .. }) => carried_out_by.is_some(),
        Some(_) => false,
    }
}

/// What a console that opens a log writes about the actions still running in it: an approval
/// that no lead's console carried out (given while none ran) expires — production must not
/// change under a console that is only opening, on a gate judged at another time; the action
/// may be requested again —, an action still awaiting approval keeps waiting, and any other
/// was cut off with its outcome unknown (`action_outcome_unknown`: verify).
pub fn found_on_open(st: &State, operator: &str) -> Vec<Event> {
    let mut out = Vec::new();
    for a in st.actions.iter().filter(|a| a.outcome == Outcome::Running) {
        match &a.approval {
            Some(ApprovalState::Awaiting) => {}
            Some(ApprovalState::Approved {
                operator: approver,
                at,
                carried_out_by: None,
                ..
            }) if a.steps_done.is_empty() => out.push(Event::ApprovalExpired {
                id: a.id,
                operator: operator.to_string(),
                reason: format!(
                    "approved by {approver} at {} while no lead's console ran to carry it out; not taken — request it again if it is still wanted",
                    at.format("%H:%M:%S UTC")
                ),
            }),
            _ => out.push(Event::ActionOutcomeUnknown { id: a.id }),
        }
    }
    out
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

    /// An approved phase change with steps starts its phase when the lead's console carries
    /// it out (its steps then run): the phase is not left pending while they do.
    #[test]
    fn carrying_out_an_approved_phase_start_with_steps_starts_the_phase() {
        let rb = seed();
        let i = rb
            .phases
            .iter()
            .position(|p| !p.on_start.is_empty())
            .expect("a phase with steps");
        let phase = rb.phases[i].id.value.clone();
        let action = Action::PhaseChange {
            from: None,
            to: Some(phase.clone()),
        };
        let steps = crate::engine::phase_steps(&rb, &phase);
        let mut st = State::new(&rb);
        for e in [
            Event::ActionRequested {
                id: 1,
                action,
                operator: "alice".into(),
                checks: Vec::new(),
                evidence: Default::default(),
                steps,
                preview: Vec::new(),
                reason: None,
                optional: Vec::new(),
            },
            Event::ApprovalRequested {
                id: 1,
                operator: "alice".into(),
            },
            Event::ApprovalGiven {
                id: 1,
                operator: "bob".into(),
                checks: Vec::new(),
            },
        ] {
            apply(&mut st, &rb, t(1), &e);
        }
        let out = carry_out(&st, &rb, 1, "alice").expect("carried out");
        assert!(
            matches!(out.as_slice(), [Event::ApprovalCarriedOut { .. }, Event::PhaseStarted { phase: p }] if *p == phase),
            "{out:?}"
        );
        for e in &out {
            apply(&mut st, &rb, t(2), e);
        }
        assert_eq!(st.phases[i].status, PhaseStatus::Active);
        assert!(st.running().is_some_and(may_run), "its steps run now");
    }

    /// Every action a runbook can mark waits the same way: a GO (not a NO-GO), a switch to a
    /// marked pool (not back to the other), retrying and skipping a marked phase's steps as
    /// well as starting it. Unmarked, none waits.
    #[test]
    fn every_action_the_runbook_marks_waits_and_nothing_else_does() {
        let mut rb = seed();
        let phase = rb.phases[1].id.value.clone();
        let actions = [
            Action::GoNoGo { go: true },
            Action::SwitchPool {
                to: crate::runbook::PoolName::Green,
            },
            Action::RetryPhase {
                phase: phase.clone(),
                from: 0,
            },
            Action::SkipStep {
                phase: phase.clone(),
                step: 0,
            },
            Action::PhaseChange {
                from: None,
                to: Some(phase.clone()),
            },
        ];
        let never = [
            Action::GoNoGo { go: false },
            Action::SwitchPool {
                to: crate::runbook::PoolName::Blue,
            },
        ];
        for a in actions.iter().chain(&never) {
            assert!(!needs_approval(&rb, a), "{a:?} waits unmarked");
        }
        if let Some(g) = rb.go_no_go.as_mut() {
            g.approval = Some(Approval::TwoPerson);
        }
        let unknown = serde_saphyr::Location::UNKNOWN;
        rb.pools.green.approval = Some(serde_saphyr::Spanned::new(
            Approval::TwoPerson,
            unknown,
            unknown,
        ));
        rb.phases[1].approval = Some(Approval::TwoPerson);
        for a in &actions {
            assert!(needs_approval(&rb, a), "{a:?} does not wait");
            // Alone, the gate says how to get a second operator; no override passes it.
            let c = approval_check(&State::new(&rb), &rb, a).expect("a check");
            assert!(!c.pass && !c.overridable, "{a:?}: {c:?}");
        }
        for a in &never {
            assert!(!needs_approval(&rb, a), "{a:?} waits");
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
        let carried = carry_out(&st, &rb, id, "alice").expect("carried out");
        assert!(
            matches!(carried.as_slice(), [Event::ApprovalCarriedOut { .. }]),
            "{carried:?}"
        );
        assert!(
            !st.running().is_some_and(may_run),
            "not before it is carried out"
        );
        // Had no lead's console run to carry it out, the next one finds it and says why.
        let found = found_on_open(&st, "carol");
        assert!(
            matches!(found.as_slice(), [Event::ApprovalExpired { reason, .. }] if reason.contains("approved by bob")),
            "{found:?}"
        );
        let mut expired = st.clone();
        apply(&mut expired, &rb, t(3), &found[0]);
        assert!(expired.running().is_none());
        for e in &carried {
            apply(&mut st, &rb, t(2), e);
        }
        assert!(st.running().is_some_and(may_run));
        assert_eq!(carry_out(&st, &rb, id, "alice"), None, "carried out once");
        assert!(
            matches!(
                found_on_open(&st, "carol").as_slice(),
                [Event::ActionOutcomeUnknown { .. }]
            ),
            "carried out: its steps may have run"
        );
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
