//! Gates: what an action would do, each check with its evidence, and the events a decision
//! writes. Pure functions of (state, runbook, action).
//!
//! Here: the proposal, its verdict, and `propose`, which adds the checks every action passes
//! to what the action's own rules drafted (`actions.rs`, `phases.rs`). The checks are in
//! `checks.rs`, the routes a step can take in `routes.rs`, and submitting a decision in
//! `submit.rs`.

mod actions;
mod checks;
mod phases;
mod routes;
mod submit;

pub use checks::{fmt_num, once_answered, once_part};
pub use phases::{migration_target, next_advance, phase_steps, planned};
pub use routes::routes;
pub(in crate::engine) use routes::source_error;
pub(crate) use submit::taken;
pub use submit::{Submission, SubmitError, evidence, is_reason, submit, tick};

use super::action::*;
use super::state::*;
use crate::runbook::{ActionKind, Runbook};
use checks::{idle_check, traffic_checks, traffic_to};
use routes::route_checks;
use std::time::Duration;

/// What the dialog shows and the audit record stores.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub action: Action,
    pub checks: Vec<Check>,
    /// The phrase to type when the action is destructive.
    pub phrase: Option<String>,
    pub steps: Vec<PlannedStep>,
    /// Lines describing what will be done, in the operator's words.
    pub preview: Vec<String>,
    /// The time the action must finish within (rollbacks).
    pub target: Option<Duration>,
    /// The action asks for the operator's reason (a NO-GO, skipping a failed step).
    pub reason_required: bool,
    /// The optional steps the action could run, in order, each with whether it was chosen
    /// (run only when chosen; the choice is recorded with the request).
    pub optional: Vec<OptionalStep>,
}

/// An optional step of a phase's start or a procedure, and whether the operator chose it.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionalStep {
    pub name: String,
    pub chosen: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Allowed,
    NeedsConfirmation { phrase: String },
    Blocked,
}

impl Proposal {
    /// Whether every failing check may be overridden.
    pub fn overridable(&self) -> bool {
        self.checks.iter().all(|c| c.pass || c.overridable)
    }

    /// What to type to override failing checks: `override <action>`.
    pub fn override_phrase(&self) -> String {
        format!("override {}", self.action.word())
    }

    pub fn verdict(&self) -> Verdict {
        if self.checks.iter().any(|c| !c.pass) {
            Verdict::Blocked
        } else if let Some(p) = &self.phrase {
            Verdict::NeedsConfirmation { phrase: p.clone() }
        } else {
            Verdict::Allowed
        }
    }
}

/// What an action's own rules make of its proposal, before the checks every action passes.
#[derive(Debug, Default)]
struct Draft {
    checks: Vec<Check>,
    steps: Vec<PlannedStep>,
    preview: Vec<String>,
    phrase: Option<String>,
    target: Option<Duration>,
    reason_required: bool,
    optional: Vec<OptionalStep>,
}

/// The kind of an action, as a runbook's `no_override` names it.
pub fn action_kind(a: &Action) -> ActionKind {
    match a {
        Action::RolloutStep { .. } => ActionKind::Rollout,
        Action::PhaseChange { .. } => ActionKind::PhaseChange,
        Action::FlipFlag { .. } => ActionKind::Flip,
        Action::SwitchPool { .. } => ActionKind::Switch,
        Action::Rollback { .. } => ActionKind::Rollback,
        Action::GoNoGo { .. } => ActionKind::Go,
        Action::RetryPhase { .. } => ActionKind::Retry,
        Action::SkipStep { .. } => ActionKind::Skip,
    }
}

/// Build the proposal for an action: its checks, steps and confirmation (no optional step
/// chosen).
pub fn propose(st: &State, rb: &Runbook, action: Action) -> Proposal {
    propose_chosen(st, rb, action, &[])
}

/// Build the proposal for an action with the optional steps named in `chosen` run too (a
/// phase's start, a rollback; other actions have none).
pub fn propose_chosen(st: &State, rb: &Runbook, action: Action, chosen: &[String]) -> Proposal {
    let Draft {
        mut checks,
        steps,
        mut preview,
        phrase,
        target,
        reason_required,
        optional,
    } = match &action {
        Action::RolloutStep { step, percent } => actions::rollout_step(st, rb, *step, *percent),
        Action::PhaseChange { from, to } => phases::advance(st, rb, from, to, chosen),
        Action::FlipFlag { flag, to } => actions::flip_flag(rb, flag, to),
        Action::SwitchPool { to } => actions::switch_pool(st, rb, *to),
        Action::Rollback { procedure } => actions::rollback(st, rb, procedure, chosen),
        Action::GoNoGo { go } => actions::go_no_go(st, rb, *go),
        Action::RetryPhase { phase, from } => phases::retry_or_skip(st, rb, phase, *from, false),
        Action::SkipStep { phase, step } => phases::retry_or_skip(st, rb, phase, *step, true),
    };
    // Every action that moves traffic passes the same traffic checks, except a rollback,
    // which must never be held back by the state it is there to undo.
    if !matches!(action, Action::Rollback { .. }) {
        let mut seen = Vec::new();
        for s in &steps {
            if let Some(to) = traffic_to(&s.kind, rb)
                && !seen.contains(&to)
            {
                seen.push(to);
                for c in traffic_checks(st, rb, to) {
                    if !checks.iter().any(|x| x.name == c.name) {
                        checks.push(c);
                    }
                }
            }
        }
        checks.extend(route_checks(st, rb, &steps));
        checks.push(idle_check(st));
    }
    checks.extend(crate::engine::approval::approval_check(st, rb, &action));
    let kind = action_kind(&action);
    let percent = match &action {
        Action::RolloutStep { percent, .. } => Some(*percent),
        _ => None,
    };
    for c in checks.iter_mut() {
        if rb.no_override.iter().any(|n| {
            c.key.is_some_and(|k| n.key() == Some(k))
                && n.action_kind().is_none_or(|a| a == Some(kind))
                && n.percent.is_none_or(|p| percent.is_some_and(|x| x >= p))
        }) {
            c.overridable = false;
        }
    }
    preview.extend(
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("  {}. {}", i + 1, s.name)),
    );
    Proposal {
        action,
        checks,
        phrase,
        steps,
        preview,
        target,
        reason_required,
        optional,
    }
}
