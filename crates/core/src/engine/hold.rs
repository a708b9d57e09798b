//! Holds: a condition on a metric that must hold for a time without a break — a phase's exit
//! gate ("replication lag below 1 s for 10m") and what a `wait_until` step waits for. Time is
//! data: since when each condition has held is folded from the readings (`track`), and how
//! long it has held is read against the state's clock, never the screen's.

use super::action::*;
use super::event::*;
use super::gate::fmt_num;
use super::state::*;
use crate::runbook::{Hold, Runbook, StepKind, WaitUntil, fmt_duration};
use std::time::Duration;

/// Every condition the runbook holds on a metric: the phases' exit gates and the `wait_until`
/// steps of the phases and the procedures.
fn declared(rb: &Runbook) -> impl Iterator<Item = Hold> + '_ {
    let gates = rb
        .phases
        .iter()
        .flat_map(|p| p.exit_gate.iter().map(|h| h.value.clone()));
    let steps = rb
        .phases
        .iter()
        .flat_map(|p| p.on_start.iter())
        .chain(rb.procedures.iter().flat_map(|p| p.steps.iter()))
        .filter_map(|s| s.wait_until.as_ref().map(|w| w.value.hold()));
    gates.chain(steps)
}

/// Fold one reading of metric `id` into the holds on it: a reading that meets a condition
/// starts its hold (if it was not holding), one that does not — or a missing value — breaks it.
pub(super) fn track(st: &mut State, rb: &Runbook, at: Time, id: &str, v: Option<f64>) {
    for h in declared(rb).filter(|h| h.metric == id) {
        if v.is_some_and(|v| h.met(v)) {
            st.holding.entry(h.key()).or_insert(at);
        } else {
            st.holding.remove(&h.key());
        }
    }
}

/// How a hold stands now.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldProgress {
    pub hold: Hold,
    /// How long it has held without a break (counted from `from` at the earliest).
    pub held: Duration,
    /// Whether the last reading meets it and is fresh.
    pub holding: bool,
    /// The metric's last value, unless stale.
    pub value: Option<f64>,
}

impl HoldProgress {
    pub fn done(&self) -> bool {
        self.holding && self.held >= self.hold.r#for
    }

    /// How long it must still hold, if it holds now.
    pub fn left(&self) -> Option<Duration> {
        self.holding
            .then(|| self.hold.r#for.saturating_sub(self.held))
    }

    /// What it stands at, in words: `held 4m of 10m (now 0.21 %)`, `not met: now 2.10 %`.
    pub fn evidence(&self, rb: &Runbook) -> String {
        let unit = rb
            .metric(&self.hold.metric)
            .map(|m| m.unit.as_str())
            .unwrap_or("");
        let now = self
            .value
            .map(|v| format!("now {} {unit}", fmt_num(v)).trim_end().to_string());
        match (&now, self.holding) {
            (None, _) => "no fresh value (stale)".to_string(),
            (Some(n), false) => format!("not met: {n}"),
            (Some(n), true) if self.done() => format!("held {} ({n})", fmt_duration(self.held)),
            (Some(n), true) => format!(
                "held {} of {} ({n})",
                fmt_duration(self.held),
                fmt_duration(self.hold.r#for)
            ),
        }
    }
}

/// The condition in words, with the metric's name and unit: `Replication lag < 1 s`.
pub fn condition_words(rb: &Runbook, h: &Hold) -> String {
    let (name, unit) = rb
        .metric(&h.metric)
        .map(|m| (m.name.as_str(), m.unit.as_str()))
        .unwrap_or((h.metric.as_str(), ""));
    // The threshold as the runbook writes it (0.001 stays 0.001).
    let mut parts = vec![name.to_string()];
    if let Some(b) = h.below {
        parts.push(format!("< {b} {unit}").trim_end().to_string());
    }
    if let Some(a) = h.above {
        parts.push(format!("> {a} {unit}").trim_end().to_string());
    }
    parts.join(" ")
}

/// How hold `h` stands now, counted from `from` (a phase's start, a step's) at the earliest.
pub fn hold_progress(st: &State, rb: &Runbook, h: &Hold, from: Option<Time>) -> HoldProgress {
    let fresh = st
        .metrics
        .get(&h.metric)
        .filter(|m| !st.is_stale(rb, m))
        .and_then(|m| m.last);
    let since = st.holding.get(&h.key()).copied();
    let holding = fresh.is_some() && since.is_some();
    let start = match (since, from) {
        (Some(s), Some(f)) => Some(s.max(f)),
        (s, _) => s,
    };
    HoldProgress {
        hold: h.clone(),
        held: if holding {
            st.age(start).unwrap_or_default()
        } else {
            Duration::ZERO
        },
        holding,
        value: fresh,
    }
}

/// How each condition of phase `i`'s exit gate stands, counted from the phase's start.
pub fn exit_gate_progress(st: &State, rb: &Runbook, i: usize) -> Vec<HoldProgress> {
    let (Some(p), Some(s)) = (rb.phases.get(i), st.phases.get(i)) else {
        return Vec::new();
    };
    p.exit_gate
        .iter()
        .map(|h| hold_progress(st, rb, &h.value, s.started))
        .collect()
}

/// A running action at a `wait_until` step: what it waits for and how it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub id: u64,
    /// The step's index among the action's steps.
    pub step: usize,
    pub name: String,
    pub wait: WaitUntil,
    pub progress: HoldProgress,
    /// How long the step has waited so far.
    pub waited: Duration,
}

impl Waiting {
    pub fn timed_out(&self) -> bool {
        !self.progress.done() && self.waited >= self.wait.timeout
    }

    /// How long until it times out.
    pub fn timeout_left(&self) -> Duration {
        self.wait.timeout.saturating_sub(self.waited)
    }

    /// The progress line: `Checkout errors < 0.5 % — held 20s of 1m (now 0.12 %); times out in 14m`.
    pub fn words(&self, rb: &Runbook) -> String {
        format!(
            "{} — {}; times out in {}",
            condition_words(rb, &self.progress.hold),
            self.progress.evidence(rb),
            fmt_duration(self.timeout_left())
        )
    }
}

/// The running action's `wait_until` step, when it is at one.
pub fn waiting(st: &State, rb: &Runbook) -> Option<Waiting> {
    let a = st.running()?;
    let step = a.steps_done.len();
    let s = a.steps.get(step)?;
    let StepKind::WaitUntil(w) = &s.kind else {
        return None;
    };
    let from = a.step_started.unwrap_or(a.requested_at);
    Some(Waiting {
        id: a.id,
        step,
        name: s.name.clone(),
        wait: w.clone(),
        progress: hold_progress(st, rb, &w.hold(), Some(from)),
        waited: st.age(Some(from)).unwrap_or_default(),
    })
}

/// When the running action's wait times out, if it is at one.
pub fn wait_deadline(st: &State) -> Option<Time> {
    let a = st.running()?;
    let s = a.steps.get(a.steps_done.len())?;
    let StepKind::WaitUntil(w) = &s.kind else {
        return None;
    };
    let from = a.step_started.unwrap_or(a.requested_at);
    Some(from + chrono::Duration::from_std(w.timeout).unwrap_or_default())
}

/// The events a `wait_until` step makes due: its end when the condition has held for its
/// time (and the action's success, when it was the last step), or its failure at the timeout.
/// Decided on the state ahead, like the alert transitions, so none is written twice.
pub fn wait_transitions(st: &State, rb: &Runbook) -> Vec<Event> {
    let Some(w) = waiting(st, rb) else {
        return Vec::new();
    };
    let Some(a) = st.running() else {
        return Vec::new();
    };
    let cond = condition_words(rb, &w.progress.hold);
    if w.progress.done() {
        let mut out = vec![Event::StepFinished {
            id: w.id,
            step: w.step,
            name: w.name.clone(),
            ok: true,
            output: format!("{cond}: {}", w.progress.evidence(rb)),
        }];
        if w.step + 1 == a.steps.len() {
            out.push(Event::ActionSucceeded {
                id: w.id,
                detail: format!("{} step(s) done", a.steps.len()),
            });
        }
        return out;
    }
    if w.timed_out() {
        let output = format!(
            "timed out after {} waiting for {cond}: {}",
            fmt_duration(w.wait.timeout),
            w.progress.evidence(rb)
        );
        return vec![
            Event::StepFinished {
                id: w.id,
                step: w.step,
                name: w.name.clone(),
                ok: false,
                output: output.clone(),
            },
            Event::ActionFailed {
                id: w.id,
                error: format!("step {} failed: {output}", w.name),
            },
        ];
    }
    Vec::new()
}

/// Whether a step is one the engine ends (a `wait_until`), not an adapter.
pub fn engine_step(s: &PlannedStep) -> bool {
    matches!(s.kind, StepKind::WaitUntil(_))
}
