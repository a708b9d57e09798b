//! Domain rules the screen, the replay, `warroom status` and the post-mortem all need: one
//! function each, so that the UI and the export only format what the engine decided.

use super::event::*;
use super::state::*;
use crate::runbook::{Criterion, PoolName, Runbook};
use std::time::Duration;

/// A pool is healthy when a reading lists servers and every one answers.
pub fn pool_healthy(st: &State, pool: PoolName) -> bool {
    let (ok, n) = st.pools.healthy(pool);
    n > 0 && ok == n
}

/// Whether phase `i` has taken (or, running, is taking) longer than planned.
pub fn phase_overrun(st: &State, rb: &Runbook, i: usize) -> bool {
    match (st.phase_took(i), rb.phases.get(i)) {
        (Some(took), Some(p)) => took > p.duration,
        _ => false,
    }
}

/// A rollback's time against its procedure's target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollbackTiming {
    /// How long it took, or has taken so far.
    pub took: Duration,
    pub target: Option<Duration>,
    pub finished: bool,
}

impl RollbackTiming {
    pub fn over_target(&self) -> bool {
        self.target.is_some_and(|t| self.took > t)
    }
}

/// The timing of a rollback action; `None` for other actions.
pub fn rollback_timing(st: &State, rb: &Runbook, a: &ActionRecord) -> Option<RollbackTiming> {
    let Action::Rollback { procedure } = &a.action else {
        return None;
    };
    let end = a.finished_at.or(st.now)?;
    Some(RollbackTiming {
        took: (end - a.requested_at).to_std().unwrap_or_default(),
        target: rb.procedure(procedure).map(|p| p.target),
        finished: a.finished_at.is_some(),
    })
}

/// Whether a measurable success criterion is met by the metric's last value; `None` when it
/// is for the team to judge or has no value.
pub fn criterion_met(st: &State, c: &Criterion) -> Option<(bool, f64)> {
    let m = c.metric.as_ref()?;
    let v = st.metrics.get(&m.value)?.last?;
    Some((
        c.below.is_none_or(|b| v < b) && c.above.is_none_or(|a| v > a),
        v,
    ))
}

/// The checklist shown now: before the first phase, the go/no-go checklists; during a phase,
/// its validation checklist. Items are `(checklist id, item id, text)`; section headers are
/// not items.
pub fn current_items(st: &State, rb: &Runbook) -> Vec<(String, String, String)> {
    current_checklist(st, rb).1
}

pub fn current_checklist(st: &State, rb: &Runbook) -> (String, Vec<(String, String, String)>) {
    let phase = st.current_phase().or_else(|| {
        st.phases
            .iter()
            .rposition(|p| p.status == PhaseStatus::Done)
    });
    match phase {
        Some(i) => {
            let p = &rb.phases[i];
            (
                format!("{} validation", p.name),
                p.checklist
                    .iter()
                    .map(|it| (p.id.value.clone(), it.id.value.clone(), it.text.clone()))
                    .collect(),
            )
        }
        None => {
            let ids: Vec<&str> = rb
                .go_no_go
                .as_ref()
                .map(|g| g.requires.iter().map(|r| r.value.as_str()).collect())
                .unwrap_or_else(|| rb.checklists.iter().map(|c| c.id.value.as_str()).collect());
            let mut title = String::new();
            let mut items = Vec::new();
            for id in ids {
                if let Some(c) = rb.checklist(id) {
                    if title.is_empty() {
                        title = c.name.clone();
                    }
                    for s in &c.sections {
                        for it in &s.items {
                            items.push((
                                c.id.value.clone(),
                                it.id.value.clone(),
                                format!("{}: {}", s.name, it.text),
                            ));
                        }
                    }
                }
            }
            (title, items)
        }
    }
}

/// A stretch of time at one rollout step.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutPeriod {
    pub percent: u32,
    pub from: Time,
    /// When the next step succeeded or a rollback began; `None` while it lasts.
    pub until: Option<Time>,
    /// The rollback procedure that ended it, if one did.
    pub ended_by: Option<String>,
}

/// Each stretch at a rollout step, in order: from the step's success to the next step's
/// success, or to the rollback that undid it.
pub fn rollout_periods(st: &State) -> Vec<RolloutPeriod> {
    let mut out: Vec<RolloutPeriod> = Vec::new();
    for a in &st.actions {
        match (&a.action, &a.outcome, a.finished_at) {
            (Action::RolloutStep { percent, .. }, Outcome::Succeeded(_), Some(t)) => {
                if let Some(p) = out.last_mut().filter(|p| p.until.is_none()) {
                    p.until = Some(t);
                }
                out.push(RolloutPeriod {
                    percent: *percent,
                    from: t,
                    until: None,
                    ended_by: None,
                });
            }
            (Action::Rollback { procedure }, _, _) => {
                if let Some(p) = out.last_mut().filter(|p| p.until.is_none()) {
                    p.until = Some(a.requested_at);
                    p.ended_by = Some(procedure.clone());
                }
            }
            _ => {}
        }
    }
    out
}
