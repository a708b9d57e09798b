//! What an action's steps and outcome imply, folded into the state: a step that succeeded
//! changes what we believe about the systems until the next reading; an action that did not
//! finish fails its phase at the step; a rollback below a phase's migration re-opens it.

use super::action::*;
use super::observation::MigrationObs;
use super::state::*;
use crate::runbook::{Runbook, StepKind};

/// An action that runs a phase's steps did not finish: the phase is failed at the step that
/// failed (or was running), until it is retried or skipped.
pub(super) fn phase_step_failed(st: &mut State, rb: &Runbook, id: u64, error: &str) {
    let Some(a) = st.actions.iter().rev().find(|a| a.id == id) else {
        return;
    };
    if a.steps.is_empty() {
        return;
    }
    let (phase, offset) = match &a.action {
        Action::PhaseChange { to: Some(t), .. } => (t.clone(), 0),
        Action::RetryPhase { phase, from } => (phase.clone(), *from),
        Action::SkipStep { phase, step } => (phase.clone(), step + 1),
        _ => return,
    };
    let at = a
        .steps_done
        .iter()
        .position(|(_, ok, _)| !ok)
        .unwrap_or(a.steps_done.len());
    let name = a.steps.get(at).map(|s| s.name.clone()).unwrap_or_default();
    if let Some(i) = rb.phase_index(&phase) {
        st.phases[i].failed = Some(PhaseFailure {
            step: offset + at,
            name,
            error: error.to_string(),
        });
    }
}

/// A rollback that took the database back below a phase's migration re-opens that phase:
/// it runs again, and completing it needs the migration's version again. Phases after it go
/// back to pending.
pub(super) fn reopen_migration_phase(st: &mut State, rb: &Runbook, id: u64, steps: &[PlannedStep]) {
    let Some(down_to) = steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Run(r) => r.expect_migration_version,
            _ => None,
        })
        .min()
    else {
        return;
    };
    let Some(i) = rb.phases.iter().position(|p| {
        p.on_start.iter().any(|s| {
            matches!(s.kind(), StepKind::Run(r) if r.expect_migration_version.is_some_and(|v| v > down_to))
        })
    }) else {
        return;
    };
    if st.phases[i].status == PhaseStatus::Pending {
        return;
    }
    st.phases[i].status = PhaseStatus::Active;
    st.phases[i].ended = None;
    st.phases[i].failed = Some(PhaseFailure {
        step: 0,
        name: "migrations".into(),
        error: format!(
            "re-opened by rollback #{id}: the database is back at version {down_to}; run the phase's steps again (R)"
        ),
    });
    for p in st.phases.iter_mut().skip(i + 1) {
        *p = PhaseState {
            status: PhaseStatus::Pending,
            started: None,
            ended: None,
            failed: None,
        };
    }
}

/// What a successful step implies about the systems.
pub(super) fn believe(st: &mut State, effect: &StepKind) {
    match effect {
        StepKind::SetFlag(f) => {
            st.flags.insert(f.flag.clone(), f.value.clone());
        }
        StepKind::SwitchPool(p) => {
            st.pools.active = Some(*p);
            st.pools.green_share = Some(match p {
                crate::runbook::PoolName::Green => 100,
                crate::runbook::PoolName::Blue => 0,
            });
        }
        StepKind::SetWeights { green } => st.pools.green_share = Some(*green),
        // A migration step succeeds only at its expected version.
        StepKind::Run(r) => {
            if let Some(v) = r.expect_migration_version {
                st.migration = Some(MigrationObs {
                    version: Some(v),
                    dirty: false,
                    in_progress: false,
                });
            }
        }
        _ => {}
    }
}
