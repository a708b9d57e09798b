//! Gates: what an action would do, each check with its evidence, and the events a decision
//! writes. Pure functions of (state, runbook, action).

use super::event::*;
use super::state::*;
use crate::runbook::{FlagKind, PoolName, Runbook, StepAction};
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
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Allowed,
    NeedsConfirmation { phrase: String },
    Blocked,
}

impl Proposal {
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

/// Build the proposal for an action: its checks, steps and confirmation.
pub fn propose(st: &State, rb: &Runbook, action: Action) -> Proposal {
    let mut checks = Vec::new();
    let mut steps = Vec::new();
    let mut preview = Vec::new();
    let mut phrase = None;
    let mut target = None;
    let running = st.running();
    let idle_check = Check {
        name: "no other action running".into(),
        pass: running.is_none(),
        evidence: match running {
            Some(a) => format!("#{} {} is running", a.id, a.action.label()),
            None => "idle".into(),
        },
    };
    match &action {
        Action::RolloutStep { step, percent } => {
            let ro = &rb.rollout;
            let pool = ro.pool;
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
            checks.push(Check {
                name: format!("phase {} active", ro.phase.value),
                pass: cur == Some(ro.phase.value.as_str()),
                evidence: format!("current phase: {}", cur.unwrap_or("none")),
            });
            if *step > 1
                && let Some(prev) = ro.steps.get(step - 2)
            {
                let baked = st.age(st.rollout_step_at).unwrap_or_default();
                checks.push(Check {
                    name: format!(
                        "bake at {} % for {}",
                        prev.percent.value,
                        crate::runbook::fmt_duration(prev.bake)
                    ),
                    pass: baked >= prev.bake,
                    evidence: format!(
                        "baked {} of {}",
                        crate::runbook::fmt_duration(baked),
                        crate::runbook::fmt_duration(prev.bake)
                    ),
                });
            }
            for (flag, want) in &ro.requires_flags {
                let have = st.flags.get(flag);
                checks.push(Check {
                    name: format!("flag {flag} = {want}"),
                    pass: have == Some(want),
                    evidence: format!(
                        "{flag} is {}",
                        have.map(|v| v.to_string())
                            .unwrap_or_else(|| "unknown".into())
                    ),
                });
            }
            for m in &ro.gate {
                checks.push(metric_check(st, rb, &m.value));
            }
            checks.push(pool_check(st, pool));
            checks.push(source_check(st, "flags"));
            checks.push(no_critical(st));
            checks.push(idle_check);
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
                }
                if *f == rb.rollout.phase.value {
                    let done = st.rollout_step >= rb.rollout.steps.len();
                    checks.push(Check {
                        name: "rollout complete".into(),
                        pass: done,
                        evidence: format!("rollout at {} %", st.rollout_percent(rb)),
                    });
                }
            }
            match to {
                Some(t) => {
                    preview.push(format!("Start phase {}.", rb.phase_name(t)));
                    if let Some(i) = rb.phase_index(t) {
                        let p = &rb.phases[i];
                        for s in p.on_start.iter().filter(|s| !s.optional) {
                            steps.push(PlannedStep {
                                name: s.name.value.clone(),
                                action: s.action(),
                            });
                        }
                        if p.confirm {
                            phrase = Some(format!("start {}", p.id.value));
                        }
                    }
                    if from.is_none()
                        && st.phases.iter().all(|p| p.status == PhaseStatus::Pending)
                        && let Some(g) = &rb.go_no_go
                    {
                        checks.push(Check {
                            name: format!("go/no-go signed GO by {}", rb.team_name(&g.by.value)),
                            pass: st.decision.as_ref().is_some_and(|d| d.go),
                            evidence: match &st.decision {
                                Some(d) => {
                                    format!("{} by {}", if d.go { "GO" } else { "NO-GO" }, d.by)
                                }
                                None => "not signed (press g)".into(),
                            },
                        });
                    }
                }
                None => preview.push("This is the last phase: the deployment is finished.".into()),
            }
            checks.push(no_critical(st));
            checks.push(idle_check);
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
                    checks.push(Check {
                        name: "a bool flag".into(),
                        pass: false,
                        evidence: format!("{flag} is a percent flag: it moves with advance (a)"),
                    });
                }
                if f.confirm {
                    phrase = Some(format!("set {flag} {to}"));
                }
            }
            checks.push(source_check(st, "flags"));
            checks.push(idle_check);
        }
        Action::SwitchPool { to } => {
            preview.push(format!(
                "Point the load balancer at {to}: all traffic to {to}."
            ));
            steps.push(PlannedStep {
                name: format!("switch traffic to {to}"),
                action: StepAction::SwitchPool(*to),
            });
            checks.push(pool_check(st, *to));
            checks.push(source_check(st, "lb"));
            checks.push(idle_check);
            phrase = Some(format!("switch to {to}"));
        }
        Action::Rollback { procedure } => {
            if let Some(p) = rb.procedure(procedure) {
                target = Some(p.target);
                preview.push(format!(
                    "{} — target under {}.",
                    p.name,
                    crate::runbook::fmt_duration(p.target)
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
                        checks.push(pool_check(st, pool));
                    }
                }
            } else {
                checks.push(Check {
                    name: "procedure exists".into(),
                    pass: false,
                    evidence: format!("no procedure `{procedure}` in the runbook"),
                });
            }
            checks.push(idle_check);
            phrase = Some(format!("rollback {procedure}"));
        }
        Action::GoNoGo { go } => {
            let role = rb
                .go_no_go
                .as_ref()
                .map(|g| rb.team_name(&g.by.value))
                .unwrap_or_else(|| "Product".into());
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
                checks.push(no_critical(st));
                phrase = Some("go".into());
            } else {
                preview.push(format!(
                    "Record the {role} decision: NO-GO. The deployment does not start."
                ));
            }
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
    }
}

fn checklist_check<'a>(st: &State, list: &str, items: impl Iterator<Item = &'a str>) -> Check {
    let items: Vec<&str> = items.collect();
    let missing: Vec<&str> = items
        .iter()
        .copied()
        .filter(|i| st.ticked(list, i).is_none())
        .collect();
    Check {
        name: format!("checklist {list} complete"),
        pass: missing.is_empty(),
        evidence: if missing.is_empty() {
            format!("{}/{} ticked", items.len(), items.len())
        } else {
            format!(
                "{}/{} ticked; open: {}",
                items.len() - missing.len(),
                items.len(),
                missing.join(", ")
            )
        },
    }
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
    Check {
        name: format!("{name} not critical"),
        pass: matches!(level, MetricLevel::Ok | MetricLevel::Warning),
        evidence: match value {
            Some(v) if level != MetricLevel::Stale => format!("{} {unit}{crit}", fmt_num(v)),
            _ => "no fresh value (stale)".into(),
        },
    }
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

fn pool_check(st: &State, pool: PoolName) -> Check {
    let (ok, n) = st.pools.healthy(pool);
    Check {
        name: format!("{pool} pool healthy"),
        pass: n > 0 && ok == n,
        evidence: if n == 0 {
            "no health reading yet".into()
        } else {
            format!("{ok}/{n} healthy")
        },
    }
}

fn source_check(st: &State, source: &str) -> Check {
    let err = st
        .source_errors
        .iter()
        .find(|(k, _)| k.as_str() == source || k.starts_with(&format!("{source}:")));
    Check {
        name: format!("{source} API answering"),
        pass: err.is_none(),
        evidence: match err {
            Some((_, (msg, _, _))) => msg.clone(),
            None => "ok at last reading".into(),
        },
    }
}

fn no_critical(st: &State) -> Check {
    let firing: Vec<String> = st
        .critical_firing()
        .map(|a| format!("{} {}", a.metric, a.value.map(fmt_num).unwrap_or_default()))
        .collect();
    Check {
        name: "no critical alert firing".into(),
        pass: firing.is_empty(),
        evidence: if firing.is_empty() {
            "none firing".into()
        } else {
            format!("firing: {}", firing.join(", "))
        },
    }
}

/// The values behind a decision.
pub fn evidence(st: &State, rb: &Runbook) -> Evidence {
    Evidence {
        rollout_percent: st.rollout_percent(rb),
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
    pub typed: String,
    pub override_reason: Option<String>,
    /// The dry run the dialog showed, recorded with the request.
    pub preview: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SubmitError {
    WrongPhrase { expected: String },
    ReasonRequired,
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubmitError::WrongPhrase { expected } => {
                write!(f, "type `{expected}` exactly to confirm")
            }
            SubmitError::ReasonRequired => write!(f, "a blocked action needs a reason to override"),
        }
    }
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
    if let Some(expected) = &p.phrase
        && sub.typed.trim() != expected
    {
        // Recording an attempt on a blocked action needs no phrase.
        if !(verdict == Verdict::Blocked && sub.override_reason.is_none()) {
            return Err(SubmitError::WrongPhrase {
                expected: expected.clone(),
            });
        }
    }
    let evidence = evidence(st, rb);
    if verdict == Verdict::Blocked {
        match &sub.override_reason {
            Some(r) if !r.trim().is_empty() => {}
            Some(_) => return Err(SubmitError::ReasonRequired),
            None => {
                return Ok(vec![Event::ActionBlocked {
                    action: p.action.clone(),
                    by: by.to_string(),
                    checks: p.checks.clone(),
                    evidence,
                }]);
            }
        }
    }
    let id = st.next_action_id();
    let mut out = vec![Event::ActionRequested {
        id,
        action: p.action.clone(),
        by: by.to_string(),
        checks: p.checks.clone(),
        evidence,
        steps: p.steps.clone(),
        preview: sub.preview.clone(),
    }];
    if let Some(phrase) = &p.phrase {
        out.push(Event::ActionConfirmed {
            id,
            phrase: phrase.clone(),
        });
    }
    if verdict == Verdict::Blocked
        && let Some(r) = &sub.override_reason
    {
        out.push(Event::ActionOverridden {
            id,
            reason: r.trim().to_string(),
        });
    }
    // Changes that touch no external system take effect with the request.
    match &p.action {
        Action::GoNoGo { go } => {
            let role = rb
                .go_no_go
                .as_ref()
                .map(|g| rb.team_name(&g.by.value))
                .unwrap_or_else(|| "Product".into());
            out.push(Event::Decision {
                go: *go,
                by: by.to_string(),
                role,
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
