//! The proposals of the actions that are not about phases: a rollout step, a flag flip, a
//! pool switch, a rollback and the go/no-go. Each says what its action plans, asks and checks
//! of its own; `propose` adds the checks every action passes.

use super::Draft;
use super::checks::{check, checklist_check, hard, no_critical, pool_check};
use crate::engine::action::PlannedStep;
use crate::engine::state::State;
use crate::runbook::{
    CheckKey, FlagKind, PoolName, Runbook, SetFlag, Split, StepKind, fmt_duration,
};

/// Move the canary to rollout step `step` at `percent`: set the rollout flag and the weights
/// (at 100 %, switch to the pool); the rollout's phase runs, the step before has baked, the
/// flags it requires hold.
pub(super) fn rollout_step(st: &State, rb: &Runbook, step: usize, percent: u32) -> Draft {
    let mut plan = Draft::default();
    let ro = &rb.rollout;
    let pool = ro.pool;
    if st.rearm && step == 1 {
        plan.preview.push(format!(
            "Re-arm the canary after the rollback: start again at {percent} %, with a fresh bake."
        ));
        plan.phrase = Some(format!("rearm {percent}"));
    }
    plan.preview.push(match ro.split {
        Split::Weights => format!(
            "Set flag {} to {percent} % and send {percent} % of traffic to {pool}.",
            ro.flag.value
        ),
        Split::Flag => format!(
            "Set flag {} to {percent} %: the flag alone sends {percent} % of requests to the new path.",
            ro.flag.value
        ),
    });
    plan.steps.push(PlannedStep {
        name: format!("set {} = {percent}", ro.flag.value),
        kind: StepKind::SetFlag(SetFlag {
            flag: ro.flag.value.clone(),
            value: serde_json::json!(percent),
        }),
    });
    if percent >= 100 {
        plan.phrase = Some(format!("rollout {percent}"));
    }
    if percent >= 100 && ro.last_step_switches {
        plan.preview
            .push(format!("{pool} becomes the active pool."));
        plan.steps.push(PlannedStep {
            name: format!("switch traffic to {pool}"),
            kind: StepKind::SwitchPool(pool),
        });
    } else if ro.split == Split::Weights {
        if percent >= 100 {
            plan.preview.push(format!(
                "The active pool stays as it is: the plan switches to {pool} in its own step."
            ));
        }
        let green = match pool {
            PoolName::Green => percent,
            PoolName::Blue => 100 - percent,
        };
        plan.steps.push(PlannedStep {
            name: format!("weights green {green} / blue {}", 100 - green),
            kind: StepKind::SetWeights { green },
        });
    }
    let cur = st.current_phase().map(|i| rb.phases[i].id.value.as_str());
    plan.checks.push(check(
        CheckKey::PhaseActive,
        format!("phase {} active", ro.phase.value),
        cur == Some(ro.phase.value.as_str()),
        format!("current phase: {}", cur.unwrap_or("none")),
    ));
    if step > 1
        && let Some(prev) = ro.steps.get(step - 2)
    {
        let baked = st.age(st.rollout_step_at).unwrap_or_default();
        plan.checks.push(check(
            CheckKey::Bake,
            format!(
                "bake at {} % for {}",
                prev.percent.value,
                fmt_duration(prev.bake)
            ),
            baked >= prev.bake,
            format!(
                "baked {} of {}",
                fmt_duration(baked),
                fmt_duration(prev.bake)
            ),
        ));
    }
    for (flag, want) in &ro.requires_flags {
        let have = st.flags.get(flag);
        plan.checks.push(check(
            CheckKey::Flag,
            format!("flag {flag} = {want}"),
            have == Some(want),
            format!(
                "{flag} is {}",
                have.map(|v| v.to_string())
                    .unwrap_or_else(|| "unknown".into())
            ),
        ));
    }
    plan
}

/// Set a bool flag (a percent flag moves with advance).
pub(super) fn flip_flag(rb: &Runbook, flag: &str, to: &serde_json::Value) -> Draft {
    let mut plan = Draft::default();
    plan.preview
        .push(format!("Set flag {flag} to {to} and read it back."));
    plan.steps.push(PlannedStep {
        name: format!("set {flag} = {to}"),
        kind: StepKind::SetFlag(SetFlag {
            flag: flag.to_string(),
            value: to.clone(),
        }),
    });
    if let Some(f) = rb.flag(flag) {
        if f.kind == FlagKind::Percent {
            plan.checks.push(hard(check(
                CheckKey::Flag,
                "a bool flag",
                false,
                format!("{flag} is a percent flag: it moves with advance (a)"),
            )));
        }
        if f.confirm {
            plan.phrase = Some(format!("set {flag} {to}"));
        }
    }
    plan
}

/// Send all traffic to a pool.
pub(super) fn switch_pool(st: &State, rb: &Runbook, to: PoolName) -> Draft {
    let mut plan = Draft::default();
    // All traffic to the rollout's pool is the canary's last rung: not before the ladder's
    // steps are taken (a switch back, away from it, is never held).
    if to == rb.rollout.pool {
        let n = rb.rollout.steps.len();
        plan.checks.push(check(
            CheckKey::RolloutComplete,
            "rollout complete",
            st.rollout_step >= n,
            format!(
                "rollout at {} % (step {} of {n})",
                st.traffic_share(rb),
                st.rollout_step.min(n)
            ),
        ));
    }
    plan.preview.push(format!(
        "Point the load balancer at {to}: all traffic to {to}."
    ));
    plan.steps.push(PlannedStep {
        name: format!("switch traffic to {to}"),
        kind: StepKind::SwitchPool(to),
    });
    plan.phrase = Some(format!("switch to {to}"));
    plan
}

/// Run a rollback procedure, within its time target. It takes over from whatever runs.
pub(super) fn rollback(st: &State, rb: &Runbook, procedure: &str, chosen: &[String]) -> Draft {
    let mut plan = Draft::default();
    if let Some(p) = rb.procedure(procedure) {
        plan.target = Some(p.target);
        plan.preview.push(format!(
            "{} — target under {}.",
            p.name,
            fmt_duration(p.target)
        ));
        (plan.steps, plan.optional) = super::phases::planned(&p.steps, chosen);
        super::phases::optional_preview(&plan.optional, &mut plan.preview);
        for s in &plan.steps {
            if let StepKind::SwitchPool(pool) = s.kind {
                plan.checks.push(pool_check(st, rb, pool));
            }
        }
        if let Some(a) = st.running() {
            plan.preview.push(format!(
                "Cancels #{} {} (running): it stops where it is.",
                a.id,
                a.action.label()
            ));
        }
    } else {
        plan.checks.push(hard(check(
            CheckKey::Procedure,
            "procedure exists",
            false,
            format!("no procedure `{procedure}` in the runbook"),
        )));
    }
    plan.phrase = Some(format!("rollback {procedure}"));
    plan
}

/// Sign the go/no-go: a GO needs its checklists complete and no critical alert; a NO-GO
/// asks for a reason.
pub(super) fn go_no_go(st: &State, rb: &Runbook, go: bool) -> Draft {
    let mut plan = Draft::default();
    let role = decision_role(rb);
    if go {
        plan.preview
            .push(format!("Record the {role} decision: GO."));
        if let Some(g) = &rb.go_no_go {
            for r in &g.requires {
                if let Some(c) = rb.checklist(&r.value) {
                    plan.checks.push(checklist_check(
                        st,
                        &c.id.value,
                        c.sections
                            .iter()
                            .flat_map(|s| s.items.iter().map(|i| i.id.value.as_str())),
                    ));
                }
            }
        }
        plan.checks.push(no_critical(st, rb));
        plan.phrase = Some("go".into());
    } else {
        plan.preview.push(format!(
            "Record the {role} decision: NO-GO. The deployment does not start."
        ));
        plan.reason_required = true;
    }
    plan
}

/// The role that signs the go/no-go.
pub(super) fn decision_role(rb: &Runbook) -> String {
    rb.go_no_go
        .as_ref()
        .map(|g| rb.team_name(&g.by.value))
        .unwrap_or_else(|| "Product".into())
}
