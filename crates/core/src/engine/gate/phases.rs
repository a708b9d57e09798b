//! The proposals of the actions on the plan's phases: advance (complete one phase, start the
//! next), and retrying or skipping a phase's failed step; what `a` does now; the steps a phase
//! runs and the migration it brings the database to.

use super::checks::{check, checklist_check, hard, no_critical, once_check};
use super::{Draft, OptionalStep};
use crate::engine::action::{Action, PlannedStep};
use crate::engine::hold::{condition_words, exit_gate_progress};
use crate::engine::state::{PhaseStatus, State};
use crate::runbook::{CheckKey, ProcedureStep, Runbook, StepKind, fmt_duration};

/// What `a` (advance) does now: the next rollout step, or the next phase.
pub fn next_advance(st: &State, rb: &Runbook) -> Option<Action> {
    match st.current_phase() {
        None => {
            let to = st
                .phases
                .iter()
                .position(|p| p.status == PhaseStatus::Pending)?;
            Some(Action::PhaseChange {
                from: None,
                to: Some(rb.phases[to].id.value.clone()),
            })
        }
        Some(i) => {
            if rb.phases[i].id.value == rb.rollout.phase.value
                && st.rollout_step < rb.rollout.steps.len()
            {
                let step = st.rollout_step + 1;
                return Some(Action::RolloutStep {
                    step,
                    percent: rb.step_percent(step),
                });
            }
            let to = st
                .phases
                .iter()
                .enumerate()
                .skip(i + 1)
                .find(|(_, p)| p.status == PhaseStatus::Pending)
                .map(|(j, _)| rb.phases[j].id.value.clone());
            Some(Action::PhaseChange {
                from: Some(rb.phases[i].id.value.clone()),
                to,
            })
        }
    }
}

/// Complete phase `from` (if any) and start phase `to` (if any).
pub(super) fn advance(
    st: &State,
    rb: &Runbook,
    from: &Option<String>,
    to: &Option<String>,
    chosen: &[String],
) -> Draft {
    let mut plan = Draft::default();
    if let Some(f) = from {
        plan.preview
            .push(format!("Complete phase {}.", rb.phase_name(f)));
        if let Some(i) = rb.phase_index(f) {
            plan.checks.push(checklist_check(
                st,
                f,
                rb.phases[i].checklist.iter().map(|x| x.id.value.as_str()),
            ));
            let failed = st.phases[i].failed.as_ref();
            plan.checks.push(hard(check(
                CheckKey::PhaseSteps,
                "the phase's steps succeeded",
                failed.is_none(),
                match failed {
                    Some(x) => format!(
                        "step {} ({}) failed: {} — retry it or skip it (R)",
                        x.step + 1,
                        x.name,
                        x.error
                    ),
                    None => "all done".to_string(),
                },
            )));
            if let Some(v) = migration_target(rb, f) {
                let have = st.migration.as_ref().and_then(|m| m.version);
                let dirty = st.migration.as_ref().is_some_and(|m| m.dirty);
                plan.checks.push(check(
                    CheckKey::MigrationVersion,
                    format!("database at migration {v}"),
                    have.is_some_and(|h| h >= v) && !dirty,
                    match have {
                        Some(h) => {
                            format!("version {h}{}", if dirty { ", dirty" } else { "" })
                        }
                        None => "version unknown (no reading)".to_string(),
                    },
                ));
            }
            for m in rb.once_checks(f) {
                plan.checks
                    .push(once_check(st, rb, m, st.phases[i].started));
            }
            for h in exit_gate_progress(st, rb, i) {
                plan.checks.push(check(
                    CheckKey::ExitGate,
                    format!(
                        "{} for {}",
                        condition_words(rb, &h.hold),
                        fmt_duration(h.hold.r#for)
                    ),
                    h.done(),
                    h.evidence(rb),
                ));
            }
        }
        if *f == rb.rollout.phase.value {
            let done = st.rollout_step >= rb.rollout.steps.len();
            plan.checks.push(check(
                CheckKey::RolloutComplete,
                "rollout complete",
                done,
                format!("rollout at {} %", st.traffic_share(rb)),
            ));
        }
    }
    match to {
        Some(t) => {
            plan.preview
                .push(format!("Start phase {}.", rb.phase_name(t)));
            if let Some(i) = rb.phase_index(t) {
                (plan.steps, plan.optional) = planned(&rb.phases[i].on_start, chosen);
                optional_preview(&plan.optional, &mut plan.preview);
            }
            if let Some(i) = rb.phase_index(t)
                && rb.phases[i].confirm
            {
                plan.phrase = Some(format!("start {t}"));
            }
            if from.is_none()
                && st.phases.iter().all(|p| p.status == PhaseStatus::Pending)
                && let Some(g) = &rb.go_no_go
            {
                plan.checks.push(check(
                    CheckKey::GoSigned,
                    format!("go/no-go signed GO by {}", rb.team_name(&g.by.value)),
                    st.decision.as_ref().is_some_and(|d| d.is_go()),
                    match &st.decision {
                        Some(d) => match (&d.withdrawn, d.go) {
                            (Some(w), _) => format!("GO by {} withdrawn: {w}", d.operator),
                            (None, true) => format!("GO by {}", d.operator),
                            (None, false) => format!(
                                "NO-GO by {}{}",
                                d.operator,
                                d.reason
                                    .as_ref()
                                    .map(|r| format!(": {r}"))
                                    .unwrap_or_default()
                            ),
                        },
                        None => "not signed (press g)".into(),
                    },
                ));
            }
        }
        None => plan
            .preview
            .push("This is the last phase: the deployment is finished.".into()),
    }
    plan.checks.push(no_critical(st, rb));
    plan
}

/// Run a failed phase's steps again from step `from`, or (`skip`) skip it with a reason and
/// run the ones after it.
pub(super) fn retry_or_skip(
    st: &State,
    rb: &Runbook,
    phase: &str,
    from: usize,
    skip: bool,
) -> Draft {
    let mut plan = Draft::default();
    // The steps as the phase's start planned them (with the optional ones chosen then): the
    // failed step's index is among those.
    let all = st
        .actions
        .iter()
        .rev()
        .find(|a| matches!(&a.action, Action::PhaseChange { to: Some(t), .. } if t == phase))
        .map(|a| a.steps.clone())
        .unwrap_or_else(|| phase_steps(rb, phase));
    let failed = rb
        .phase_index(phase)
        .and_then(|i| st.phases[i].failed.clone());
    plan.checks.push(hard(check(
        CheckKey::PhaseSteps,
        format!("phase {} has a failed step", rb.phase_name(phase)),
        failed.is_some(),
        match &failed {
            Some(f) => format!("step {} ({}): {}", f.step + 1, f.name, f.error),
            None => "nothing failed".to_string(),
        },
    )));
    let first = if skip { from + 1 } else { from };
    if skip {
        plan.preview.push(format!(
            "Skip step {} ({}) with a reason, and run the steps after it.",
            from + 1,
            all.get(from).map(|s| s.name.as_str()).unwrap_or("?")
        ));
        plan.reason_required = true;
    } else {
        plan.preview.push(format!(
            "Run the phase's steps again from step {}.",
            from + 1
        ));
    }
    plan.steps = all.into_iter().skip(first).collect();
    if plan.steps.is_empty() {
        plan.preview
            .push("No steps after it: the phase is clear.".into());
    }
    plan
}

/// The steps a phase runs when it starts, with no optional step chosen.
pub fn phase_steps(rb: &Runbook, phase: &str) -> Vec<PlannedStep> {
    rb.phase_index(phase)
        .map(|i| planned(&rb.phases[i].on_start, &[]).0)
        .unwrap_or_default()
}

/// The steps that run, in order — every step but the optional ones not named in `chosen` —
/// and the optional steps with whether each was chosen.
pub fn planned(
    steps: &[ProcedureStep],
    chosen: &[String],
) -> (Vec<PlannedStep>, Vec<OptionalStep>) {
    let mut run = Vec::new();
    let mut optional = Vec::new();
    for s in steps {
        let name = s.name.value.clone();
        if s.optional {
            let on = chosen.contains(&name);
            optional.push(OptionalStep {
                name: name.clone(),
                chosen: on,
            });
            if !on {
                continue;
            }
        }
        run.push(PlannedStep {
            name,
            kind: s.kind(),
        });
    }
    (run, optional)
}

/// The preview's line for each optional step: chosen to run, or not run.
pub(super) fn optional_preview(optional: &[OptionalStep], preview: &mut Vec<String>) {
    for o in optional {
        preview.push(if o.chosen {
            format!("  (optional, chosen to run: {})", o.name)
        } else {
            format!("  (optional, not run: {})", o.name)
        });
    }
}

/// The migration version a phase's steps bring the database to, if it runs migrations.
pub fn migration_target(rb: &Runbook, phase: &str) -> Option<i64> {
    let i = rb.phase_index(phase)?;
    rb.phases[i]
        .on_start
        .iter()
        .filter_map(|s| match s.kind() {
            StepKind::Run(r) => r.expect_migration_version,
            _ => None,
        })
        .max()
}
