//! Gates: what an action would do, each check with its evidence, and the events a decision
//! writes. Pure functions of (state, runbook, action).

use super::action::*;
use super::alerts::MetricLevel;
use super::event::*;
use super::state::*;
use crate::runbook::{FlagKind, PoolName, Runbook, StepAction, fmt_duration};
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

/// What `a` (advance) does now: the next rollout step, or the next phase.
pub fn next_advance(st: &State, rb: &Runbook) -> Option<Action> {
    match st.current_phase() {
        None => {
            let to = st
                .phases
                .iter()
                .position(|p| p.status == PhaseStatus::Pending)?;
            Some(Action::Advance {
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
            Some(Action::Advance {
                from: Some(rb.phases[i].id.value.clone()),
                to,
            })
        }
    }
}

/// A check of kind `key` (see `runbook::CHECK_KEYS`).
fn check(key: &str, name: impl Into<String>, pass: bool, evidence: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        pass,
        evidence: evidence.into(),
        key: key.into(),
        overridable: true,
    }
}

/// A check that no override may ever pass: what it guards cannot be wished away (another
/// action running, a procedure that does not exist).
fn hard(mut c: Check) -> Check {
    c.overridable = false;
    c
}

/// The kind of an action, as a runbook's `no_override` names it.
pub fn action_kind(a: &Action) -> &'static str {
    match a {
        Action::RolloutStep { .. } => "rollout",
        Action::Advance { .. } => "advance",
        Action::FlipFlag { .. } => "flip",
        Action::SwitchPool { .. } => "switch",
        Action::Rollback { .. } => "rollback",
        Action::GoNoGo { .. } => "go",
        Action::RetryPhase { .. } => "retry",
        Action::SkipStep { .. } => "skip",
    }
}

/// The steps a phase runs when it starts (its planned steps; optional ones are not run).
pub fn phase_steps(rb: &Runbook, phase: &str) -> Vec<PlannedStep> {
    rb.phase_index(phase)
        .map(|i| {
            rb.phases[i]
                .on_start
                .iter()
                .filter(|s| !s.optional)
                .map(|s| PlannedStep {
                    name: s.name.value.clone(),
                    action: s.action(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Where a step moves traffic: the pool that gains it.
fn traffic_to(step: &StepAction, rb: &Runbook) -> Option<PoolName> {
    match step {
        StepAction::SwitchPool(p) => Some(*p),
        StepAction::SetWeights { green } => Some(if *green > 0 {
            PoolName::Green
        } else {
            PoolName::Blue
        }),
        StepAction::SetFlag(f) if f.flag == rb.rollout.flag.value => {
            Some(if crate::engine::percent_of(&f.value).unwrap_or(0) > 0 {
                rb.rollout.pool
            } else {
                rb.rollout.pool.other()
            })
        }
        _ => None,
    }
}

/// The checks every move of traffic passes, whichever key asked for it (a rollout step, a
/// switch, a phase that switches): the pool that gains traffic is healthy by a fresh reading
/// and, when it is the rollout's pool, its gate metrics are not critical and no critical alert
/// is firing.
fn traffic_checks(st: &State, rb: &Runbook, to: PoolName) -> Vec<Check> {
    let mut checks = vec![pool_check(st, rb, to)];
    if to == rb.rollout.pool {
        for m in &rb.rollout.gate {
            checks.push(metric_check(st, rb, &m.value));
        }
        checks.push(no_critical(st, rb));
    }
    checks
}

/// The systems that can carry out a step, in order of preference: a capability, not a source
/// name. Flags are set through the flag API, or on the pools' Deployments when the flag has an
/// environment-variable twin; traffic moves through the load balancer, or a Service selector.
pub fn routes(step: &StepAction, rb: &Runbook) -> Option<(&'static str, Vec<&'static str>)> {
    let deployments = rb.pools.blue.deployment.is_some() || rb.pools.green.deployment.is_some();
    Some(match step {
        StepAction::SetFlag(f) => {
            let mut r = vec!["flags"];
            if deployments && rb.flag(&f.flag).is_some_and(|x| x.env.is_some()) {
                r.push("kube");
            }
            ("flags can be set", r)
        }
        StepAction::SwitchPool(_) => {
            let mut r = vec!["lb"];
            if rb.pools.service.is_some() {
                r.push("kube");
            }
            ("traffic can be switched", r)
        }
        StepAction::SetWeights { .. } => ("traffic can be split", vec!["lb"]),
        StepAction::SetImage(_)
        | StepAction::SetEnv(_)
        | StepAction::Restart { .. }
        | StepAction::WaitRollout { .. } => ("Kubernetes answering", vec!["kube"]),
        StepAction::Run(_) => return None,
    })
}

/// The error a source reported last, if it is failing.
pub(super) fn source_error<'a>(st: &'a State, source: &str) -> Option<&'a str> {
    st.source_errors
        .iter()
        .find(|(k, _)| {
            k.as_str() == source
                || k.strip_prefix(source)
                    .is_some_and(|rest| rest.starts_with(':'))
        })
        .map(|(_, (msg, _, _))| msg.as_str())
}

/// One check per capability the steps need: passes when one of its routes is answering.
fn route_checks(st: &State, rb: &Runbook, steps: &[PlannedStep]) -> Vec<Check> {
    let mut out: Vec<Check> = Vec::new();
    for s in steps {
        let Some((name, routes)) = routes(&s.action, rb) else {
            continue;
        };
        if out.iter().any(|c| c.name == name) {
            continue;
        }
        let via = routes.iter().find(|r| source_error(st, r).is_none());
        out.push(check(
            "route",
            name,
            via.is_some(),
            match via {
                Some(r) => format!("through {r}"),
                None => routes
                    .iter()
                    .map(|r| format!("{r}: {}", source_error(st, r).unwrap_or("?")))
                    .collect::<Vec<_>>()
                    .join("; "),
            },
        ));
    }
    out
}

fn idle_check(st: &State) -> Check {
    let running = st.running();
    hard(check(
        "idle",
        "no other action running",
        running.is_none(),
        match running {
            Some(a) => format!("#{} {} is running", a.id, a.action.label()),
            None => "idle".to_string(),
        },
    ))
}

/// Build the proposal for an action: its checks, steps and confirmation.
pub fn propose(st: &State, rb: &Runbook, action: Action) -> Proposal {
    let mut checks = Vec::new();
    let mut steps = Vec::new();
    let mut preview = Vec::new();
    let mut phrase = None;
    let mut target = None;
    let mut reason_required = false;
    match &action {
        Action::RolloutStep { step, percent } => {
            let ro = &rb.rollout;
            let pool = ro.pool;
            if st.rearm && *step == 1 {
                preview.push(format!(
                    "Re-arm the canary after the rollback: start again at {percent} %, with a fresh bake."
                ));
                phrase = Some(format!("rearm {percent}"));
            }
            preview.push(format!(
                "Set flag {} to {percent} % and send {percent} % of traffic to {pool}.",
                ro.flag.value
            ));
            steps.push(PlannedStep {
                name: format!("set {} = {percent}", ro.flag.value),
                action: StepAction::SetFlag(crate::runbook::SetFlag {
                    flag: ro.flag.value.clone(),
                    value: serde_json::json!(percent),
                }),
            });
            if *percent >= 100 {
                preview.push(format!("{pool} becomes the active pool."));
                steps.push(PlannedStep {
                    name: format!("switch traffic to {pool}"),
                    action: StepAction::SwitchPool(pool),
                });
                phrase = Some(format!("rollout {percent}"));
            } else {
                let green = match pool {
                    PoolName::Green => *percent,
                    PoolName::Blue => 100 - percent,
                };
                steps.push(PlannedStep {
                    name: format!("weights green {green} / blue {}", 100 - green),
                    action: StepAction::SetWeights { green },
                });
            }
            let cur = st.current_phase().map(|i| rb.phases[i].id.value.as_str());
            checks.push(check(
                "phase_active",
                format!("phase {} active", ro.phase.value),
                cur == Some(ro.phase.value.as_str()),
                format!("current phase: {}", cur.unwrap_or("none")),
            ));
            if *step > 1
                && let Some(prev) = ro.steps.get(step - 2)
            {
                let baked = st.age(st.rollout_step_at).unwrap_or_default();
                checks.push(check(
                    "bake",
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
                checks.push(check(
                    "flag",
                    format!("flag {flag} = {want}"),
                    have == Some(want),
                    format!(
                        "{flag} is {}",
                        have.map(|v| v.to_string())
                            .unwrap_or_else(|| "unknown".into())
                    ),
                ));
            }
        }
        Action::Advance { from, to } => {
            if let Some(f) = from {
                preview.push(format!("Complete phase {}.", rb.phase_name(f)));
                if let Some(i) = rb.phase_index(f) {
                    checks.push(checklist_check(
                        st,
                        f,
                        rb.phases[i].checklist.iter().map(|x| x.id.value.as_str()),
                    ));
                    let failed = st.phases[i].failed.as_ref();
                    checks.push(hard(check(
                        "phase_steps",
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
                        checks.push(check(
                            "migration_version",
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
                }
                if *f == rb.rollout.phase.value {
                    let done = st.rollout_step >= rb.rollout.steps.len();
                    checks.push(check(
                        "rollout_complete",
                        "rollout complete",
                        done,
                        format!("rollout at {} %", st.traffic_share(rb)),
                    ));
                }
            }
            match to {
                Some(t) => {
                    preview.push(format!("Start phase {}.", rb.phase_name(t)));
                    steps = phase_steps(rb, t);
                    if let Some(i) = rb.phase_index(t)
                        && rb.phases[i].confirm
                    {
                        phrase = Some(format!("start {t}"));
                    }
                    if from.is_none()
                        && st.phases.iter().all(|p| p.status == PhaseStatus::Pending)
                        && let Some(g) = &rb.go_no_go
                    {
                        checks.push(check(
                            "go_signed",
                            format!("go/no-go signed GO by {}", rb.team_name(&g.by.value)),
                            st.decision.as_ref().is_some_and(|d| d.is_go()),
                            match &st.decision {
                                Some(d) => match (&d.withdrawn, d.go) {
                                    (Some(w), _) => format!("GO by {} withdrawn: {w}", d.by),
                                    (None, true) => format!("GO by {}", d.by),
                                    (None, false) => format!(
                                        "NO-GO by {}{}",
                                        d.by,
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
                None => preview.push("This is the last phase: the deployment is finished.".into()),
            }
            checks.push(no_critical(st, rb));
        }
        Action::FlipFlag { flag, to } => {
            preview.push(format!("Set flag {flag} to {to} and read it back."));
            steps.push(PlannedStep {
                name: format!("set {flag} = {to}"),
                action: StepAction::SetFlag(crate::runbook::SetFlag {
                    flag: flag.clone(),
                    value: to.clone(),
                }),
            });
            if let Some(f) = rb.flag(flag) {
                if f.kind == FlagKind::Percent {
                    checks.push(hard(check(
                        "flag",
                        "a bool flag",
                        false,
                        format!("{flag} is a percent flag: it moves with advance (a)"),
                    )));
                }
                if f.confirm {
                    phrase = Some(format!("set {flag} {to}"));
                }
            }
        }
        Action::SwitchPool { to } => {
            preview.push(format!(
                "Point the load balancer at {to}: all traffic to {to}."
            ));
            steps.push(PlannedStep {
                name: format!("switch traffic to {to}"),
                action: StepAction::SwitchPool(*to),
            });
            phrase = Some(format!("switch to {to}"));
        }
        Action::Rollback { procedure } => {
            if let Some(p) = rb.procedure(procedure) {
                target = Some(p.target);
                preview.push(format!(
                    "{} — target under {}.",
                    p.name,
                    fmt_duration(p.target)
                ));
                for s in &p.steps {
                    if s.optional {
                        preview.push(format!("  (optional, not run: {})", s.name.value));
                        continue;
                    }
                    steps.push(PlannedStep {
                        name: s.name.value.clone(),
                        action: s.action(),
                    });
                }
                for s in &steps {
                    if let StepAction::SwitchPool(pool) = s.action {
                        checks.push(pool_check(st, rb, pool));
                    }
                }
                if let Some(a) = st.running() {
                    preview.push(format!(
                        "Cancels #{} {} (running): it stops where it is.",
                        a.id,
                        a.action.label()
                    ));
                }
            } else {
                checks.push(hard(check(
                    "procedure",
                    "procedure exists",
                    false,
                    format!("no procedure `{procedure}` in the runbook"),
                )));
            }
            phrase = Some(format!("rollback {procedure}"));
        }
        Action::GoNoGo { go } => {
            let role = decision_role(rb);
            if *go {
                preview.push(format!("Record the {role} decision: GO."));
                if let Some(g) = &rb.go_no_go {
                    for r in &g.requires {
                        if let Some(c) = rb.checklist(&r.value) {
                            checks.push(checklist_check(
                                st,
                                &c.id.value,
                                c.sections
                                    .iter()
                                    .flat_map(|s| s.items.iter().map(|i| i.id.value.as_str())),
                            ));
                        }
                    }
                }
                checks.push(no_critical(st, rb));
                phrase = Some("go".into());
            } else {
                preview.push(format!(
                    "Record the {role} decision: NO-GO. The deployment does not start."
                ));
                reason_required = true;
            }
        }
        Action::RetryPhase { phase, from } | Action::SkipStep { phase, step: from } => {
            let skip = matches!(action, Action::SkipStep { .. });
            let all = phase_steps(rb, phase);
            let failed = rb
                .phase_index(phase)
                .and_then(|i| st.phases[i].failed.clone());
            checks.push(hard(check(
                "phase_steps",
                format!("phase {} has a failed step", rb.phase_name(phase)),
                failed.is_some(),
                match &failed {
                    Some(f) => format!("step {} ({}): {}", f.step + 1, f.name, f.error),
                    None => "nothing failed".to_string(),
                },
            )));
            let first = if skip { from + 1 } else { *from };
            if skip {
                preview.push(format!(
                    "Skip step {} ({}) with a reason, and run the steps after it.",
                    from + 1,
                    all.get(*from).map(|s| s.name.as_str()).unwrap_or("?")
                ));
                reason_required = true;
            } else {
                preview.push(format!(
                    "Run the phase's steps again from step {}.",
                    from + 1
                ));
            }
            steps = all.into_iter().skip(first).collect();
            if steps.is_empty() {
                preview.push("No steps after it: the phase is clear.".into());
            }
        }
    }
    // Every action that moves traffic passes the same traffic checks, except a rollback,
    // which must never be held back by the state it is there to undo.
    if !matches!(action, Action::Rollback { .. }) {
        let mut seen = Vec::new();
        for s in &steps {
            if let Some(to) = traffic_to(&s.action, rb)
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
    let kind = action_kind(&action);
    let percent = match &action {
        Action::RolloutStep { percent, .. } => Some(*percent),
        _ => None,
    };
    for c in checks.iter_mut() {
        if rb.no_override.iter().any(|n| {
            n.check.value == c.key
                && n.action.as_ref().is_none_or(|a| a.value == kind)
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
    }
}

/// The role that signs the go/no-go.
fn decision_role(rb: &Runbook) -> String {
    rb.go_no_go
        .as_ref()
        .map(|g| rb.team_name(&g.by.value))
        .unwrap_or_else(|| "Product".into())
}

/// The migration version a phase's steps bring the database to, if it runs migrations.
pub fn migration_target(rb: &Runbook, phase: &str) -> Option<i64> {
    let i = rb.phase_index(phase)?;
    rb.phases[i]
        .on_start
        .iter()
        .filter_map(|s| match s.action() {
            StepAction::Run(r) => r.expect_migration_version,
            _ => None,
        })
        .max()
}

fn checklist_check<'a>(st: &State, list: &str, items: impl Iterator<Item = &'a str>) -> Check {
    let items: Vec<&str> = items.collect();
    let missing: Vec<&str> = items
        .iter()
        .copied()
        .filter(|i| st.ticked(list, i).is_none())
        .collect();
    check(
        "checklist",
        format!("checklist {list} complete"),
        missing.is_empty(),
        if missing.is_empty() {
            format!("{}/{} ticked", items.len(), items.len())
        } else {
            format!(
                "{}/{} ticked; open: {}",
                items.len() - missing.len(),
                items.len(),
                missing.join(", ")
            )
        },
    )
}

fn metric_check(st: &State, rb: &Runbook, id: &str) -> Check {
    let def = rb.metric(id);
    let level = st.metric_level(rb, id);
    let value = st.metrics.get(id).and_then(|m| m.last);
    let name = def.map(|d| d.name.as_str()).unwrap_or(id);
    let unit = def.map(|d| d.unit.as_str()).unwrap_or("");
    let crit = def
        .and_then(|d| d.critical.as_ref())
        .map(|c| format!(" (critical {} {} {unit})", cmp_word(def), fmt_num(c.value)))
        .unwrap_or_default();
    check(
        "metric",
        format!("{name} not critical"),
        matches!(level, MetricLevel::Ok | MetricLevel::Warning),
        match value {
            Some(v) if level != MetricLevel::Stale => format!("{} {unit}{crit}", fmt_num(v)),
            _ => "no fresh value (stale)".into(),
        },
    )
}

fn cmp_word(def: Option<&crate::runbook::Metric>) -> &'static str {
    match def.map(|d| d.direction) {
        Some(crate::runbook::Direction::Below) => "<",
        _ => ">",
    }
}

pub fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A pool is healthy when a fresh reading lists servers and every one answers.
fn pool_check(st: &State, rb: &Runbook, pool: PoolName) -> Check {
    let (ok, n) = st.pools.healthy(pool);
    let fresh = st.pools_fresh(rb);
    let age = st
        .age(st.pools.observed_at)
        .map(|a| format!(", read {} ago (stale)", fmt_duration(a)))
        .unwrap_or_default();
    check(
        "pool_healthy",
        format!("{pool} pool healthy"),
        fresh && super::pool_healthy(st, pool),
        match (st.pools.observed_at, fresh) {
            (None, _) => "no health reading yet".to_string(),
            (Some(_), true) => format!("{ok}/{n} healthy"),
            (Some(_), false) => format!("{ok}/{n} healthy{age}"),
        },
    )
}

/// No critical alert firing: each with the metric's value now, not at firing.
fn no_critical(st: &State, rb: &Runbook) -> Check {
    let firing: Vec<String> = st
        .critical_firing()
        .map(|a| {
            let now = super::alert_value(st, a);
            let unit = rb.metric(&a.metric).map(|m| m.unit.as_str()).unwrap_or("");
            format!(
                "{} {}{}{unit}",
                a.metric,
                now.map(fmt_num).unwrap_or_else(|| "?".into()),
                if unit.is_empty() { "" } else { " " }
            )
            .trim_end()
            .to_string()
        })
        .collect();
    check(
        "no_critical_alert",
        "no critical alert firing",
        firing.is_empty(),
        if firing.is_empty() {
            "none firing".into()
        } else {
            format!("firing: {}", firing.join(", "))
        },
    )
}

/// The values behind a decision.
pub fn evidence(st: &State, rb: &Runbook) -> Evidence {
    Evidence {
        rollout_percent: st.traffic_share(rb),
        active_pool: st.pools.active,
        green_weight: st.pools.green_weight,
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

#[derive(Debug, Clone, PartialEq)]
pub enum SubmitError {
    WrongPhrase {
        expected: String,
    },
    /// A reason must be a few real words, not a letter or two.
    ReasonRequired,
    /// A failing check that no override may pass.
    NotOverridable {
        checks: Vec<String>,
    },
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubmitError::WrongPhrase { expected } => {
                write!(f, "type `{expected}` exactly to confirm")
            }
            SubmitError::ReasonRequired => write!(
                f,
                "give a reason in words (at least two words), e.g. \"error rate is a known false positive\""
            ),
            SubmitError::NotOverridable { checks } => {
                write!(f, "no override may pass: {}", checks.join(", "))
            }
        }
    }
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
    by: &str,
    sub: &Submission,
) -> Result<Vec<Event>, SubmitError> {
    let verdict = p.verdict();
    let evidence = evidence(st, rb);
    let overriding = verdict == Verdict::Blocked && sub.override_reason.is_some();
    if verdict == Verdict::Blocked && !overriding {
        // The gate said no; the attempt is evidence too. Nothing runs.
        return Ok(vec![Event::ActionBlocked {
            action: p.action.clone(),
            by: by.to_string(),
            checks: p.checks.clone(),
            evidence,
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
        match sub.reason.as_deref().map(str::trim) {
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
        && by != super::AUTO_ABORT
    {
        out.push(Event::AbortCancelled {
            rule: c.rule,
            by: by.to_string(),
            reason: format!("rollback {procedure} (#{id}) requested by hand"),
        });
    }
    // A rollback takes over from whatever runs: that action is cancelled first.
    if let Action::Rollback { procedure } = &p.action
        && let Some(running) = st.running()
    {
        out.push(Event::ActionCancelled {
            id: running.id,
            by: by.to_string(),
            reason: format!("rollback {procedure} (#{id}) took over"),
        });
    }
    out.push(Event::ActionRequested {
        id,
        action: p.action.clone(),
        by: by.to_string(),
        checks: p.checks.clone(),
        evidence,
        steps: p.steps.clone(),
        preview: sub.preview.clone(),
        reason: reason.clone(),
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
    // Changes that touch no external system take effect with the request.
    match &p.action {
        Action::GoNoGo { go } => {
            out.push(Event::Decision {
                go: *go,
                by: by.to_string(),
                role: decision_role(rb),
                reason,
            });
        }
        Action::Advance { from, to } => {
            if let Some(f) = from {
                out.push(Event::PhaseCompleted { phase: f.clone() });
            }
            if let Some(t) = to {
                out.push(Event::PhaseStarted { phase: t.clone() });
            }
        }
        _ => {}
    }
    if p.steps.is_empty() {
        out.push(Event::ActionSucceeded {
            id,
            detail: "recorded".into(),
        });
    }
    Ok(out)
}

/// Ticking or unticking a checklist item. Unticking an item of a checklist that a GO was
/// signed on, before the deployment started, withdraws the GO.
pub fn tick(st: &State, rb: &Runbook, list: &str, item: &str, by: &str) -> Vec<Event> {
    if st.ticked(list, item).is_none() {
        return vec![Event::ChecklistTicked {
            checklist: list.to_string(),
            item: item.to_string(),
            by: by.to_string(),
        }];
    }
    let mut out = vec![Event::ChecklistUnticked {
        checklist: list.to_string(),
        item: item.to_string(),
        by: by.to_string(),
    }];
    let signed_on = rb
        .go_no_go
        .as_ref()
        .is_some_and(|g| g.requires.iter().any(|r| r.value == list));
    let started = st.phases.iter().any(|p| p.status != PhaseStatus::Pending);
    if signed_on && !started && st.decision.as_ref().is_some_and(|d| d.is_go()) {
        out.push(Event::DecisionWithdrawn {
            by: by.to_string(),
            reason: format!("{list}/{item} unticked by {by}"),
        });
    }
    out
}
