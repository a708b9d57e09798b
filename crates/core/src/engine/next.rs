//! The next move: what the Next line says, with the key that makes it. Decided from the same
//! gates the dialogs use, never guessed by the screen.

use super::action::*;
use super::rules::current_checklist;
use super::state::*;
use crate::runbook::{CheckKey, Runbook};

/// The next move, in words, with the key that makes it: what the Next line says. Decided from
/// the same gates the dialogs use, never guessed by the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct NextMove {
    pub text: String,
    /// The key, as the hint bar writes it; `None` when the move is to wait, or when the text
    /// names its keys itself.
    pub key: Option<&'static str>,
    /// Other keys the text names ("r rolls back"): the hint bar keeps them however narrow
    /// the screen.
    pub also: &'static [&'static str],
    /// The key another operator's console (an observer) presses for it: `A` for an action
    /// awaiting a second operator's approval; `None` when the move is the lead's alone.
    pub others_key: Option<&'static str>,
}

fn next(text: impl Into<String>, key: Option<&'static str>) -> NextMove {
    NextMove {
        text: text.into(),
        key,
        also: &[],
        others_key: None,
    }
}

impl NextMove {
    fn for_others(mut self, key: &'static str) -> NextMove {
        self.others_key = Some(key);
        self
    }
}

pub fn next_move(st: &State, rb: &Runbook) -> NextMove {
    use crate::runbook::fmt_duration;
    if let Some(c) = &st.abort {
        // Both ways out: rolling back now does not wait for the countdown.
        let left = st
            .now
            .map(|now| (c.deadline - now).to_std().unwrap_or_default())
            .unwrap_or_default();
        // The text names both keys; the hint bar keeps `r` beside it.
        return NextMove {
            also: &["r"],
            ..next(
                format!(
                    "auto-abort in {}: r rolls back, c cancels",
                    fmt_duration(left)
                ),
                None,
            )
        };
    }
    if let Some(a) = st.awaiting_approval() {
        return next(
            format!(
                "#{} {} awaiting approval by another operator",
                a.id,
                a.action.label()
            ),
            None,
        )
        .for_others("A");
    }
    if let Some(w) = super::waiting(st, rb) {
        return next(
            format!(
                "wait: #{} step {} waits until {}",
                w.id,
                w.step + 1,
                w.words(rb)
            ),
            None,
        );
    }
    if let Some(a) = st.running() {
        return next(
            format!("wait: #{} {} is running", a.id, a.action.label()),
            None,
        );
    }
    if st.unacknowledged_rollback().is_some() {
        return next("acknowledge the rollback's result", Some("x"));
    }
    if let Some(i) = st.current_phase()
        && let Some(f) = &st.phases[i].failed
    {
        return next(
            format!("phase failed at step {}: retry or skip", f.step + 1),
            Some("R"),
        );
    }
    // A critical alert once the canary has taken traffic: the move is a rollback, not the next
    // step (which its gate would block anyway).
    if let Some(a) = st.critical_firing().next()
        && (st.rollout_step > 0 || st.traffic_share(rb) > 0)
    {
        let metric = rb
            .metric(&a.metric)
            .map_or(a.metric.as_str(), |m| m.name.as_str());
        return next(
            match super::suggested_procedure(st, rb) {
                Some(s) => format!("{metric} critical: roll back ({} suggested)", s.procedure),
                None => format!("{metric} critical: roll back or hold"),
            },
            Some("r"),
        );
    }
    let Some(action) = super::next_advance(st, rb) else {
        return next("every phase is done: the deployment is finished", None);
    };
    // The checklist shown stands before signing GO and before completing a phase (not before
    // a rollout step: the canary runs inside its phase).
    if !matches!(action, Action::RolloutStep { .. }) {
        let (_, items) = current_checklist(st, rb);
        let open = items
            .iter()
            .filter(|(l, i, _)| st.ticked(l, i).is_none())
            .count();
        if open > 0 {
            return next(
                format!("tick {open} item{}", if open == 1 { "" } else { "s" }),
                Some("Space"),
            );
        }
    }
    let started = st.phases.iter().any(|p| p.status != PhaseStatus::Pending);
    if !started && rb.go_no_go.is_some() && !st.decision.as_ref().is_some_and(|d| d.is_go()) {
        return next("sign GO", Some("g"));
    }
    if let Action::RolloutStep { percent, step } = &action {
        // Flags the rollout needs, flipped first.
        if let Some((flag, _)) = rb
            .rollout
            .requires_flags
            .iter()
            .find(|(f, v)| st.flags.get(*f) != Some(*v) && v.is_boolean())
        {
            return next(format!("flip {flag}"), Some("f"));
        }
        let p = super::propose(st, rb, action.clone());
        let mut failing = p.checks.iter().filter(|c| !c.pass).peekable();
        // Only the bake stands in the way: say when.
        if failing.peek().is_some()
            && p.checks
                .iter()
                .filter(|c| !c.pass)
                .all(|c| c.key == Some(CheckKey::Bake))
        {
            let left = super::bake_progress(st, rb)
                .map(|b| b.left())
                .unwrap_or_default();
            return next(
                format!("{percent} % possible in {}", fmt_duration(left)),
                None,
            );
        }
        if let Some(c) = p.checks.iter().find(|c| !c.pass) {
            return next(
                format!("{percent} % blocked: {} — {}", c.name, c.evidence),
                None,
            );
        }
        // After a rollback the first step re-arms the canary (its dialog asks for `rearm N`).
        if st.rearm && *step == 1 {
            return next(format!("re-arm the canary at {percent} %"), Some("a"));
        }
        return next(format!("go to {percent} %"), Some("a"));
    }
    let p = super::propose(st, rb, action.clone());
    // Only the phase's exit gate stands in the way, and each of its conditions holds now:
    // say when the last of them will have held its time.
    let mut failing = p
        .checks
        .iter()
        .filter(|c| !c.pass && c.key != Some(CheckKey::Idle))
        .peekable();
    if failing.peek().is_some()
        && failing.all(|c| c.key == Some(CheckKey::ExitGate))
        && let Some(i) = st.current_phase()
    {
        let holds = super::exit_gate_progress(st, rb, i);
        if holds.iter().all(|h| h.holding) {
            let left = holds
                .iter()
                .filter_map(|h| h.left())
                .max()
                .unwrap_or_default();
            return next(
                format!("{} possible in {}", action.label(), fmt_duration(left)),
                None,
            );
        }
    }
    // A one-shot SQL check is run when the completion is asked: not answered yet, it does not
    // stand in the way of pressing `a`.
    let unanswered = |c: &Check| {
        c.key == Some(CheckKey::SqlCheck)
            && st.current_phase().is_some_and(|i| {
                rb.once_checks(&rb.phases[i].id.value)
                    .any(|m| !super::gate::once_answered(st, &m.id.value, st.phases[i].started))
            })
    };
    match p.checks.iter().find(|c| !c.pass && !unanswered(c)) {
        Some(c) if c.key != Some(CheckKey::Idle) => next(
            format!("{} blocked: {} — {}", action.label(), c.name, c.evidence),
            None,
        ),
        _ => next(action.label(), Some("a")),
    }
}
