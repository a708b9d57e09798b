//! `apply`: the one function that changes state. Live, replay, resume and export all use it.

use super::action::*;
use super::event::*;
use super::observation::*;
use super::state::*;
use crate::runbook::{PoolName, Runbook, StepAction};

/// Apply one recorded event at its recorded time.
pub fn apply(st: &mut State, rb: &Runbook, at: Time, ev: &Event) {
    st.events += 1;
    if st.now.is_none_or(|n| at > n) {
        st.now = Some(at);
    }
    match ev {
        Event::SessionStarted {
            operator,
            mode,
            scenario,
            ..
        } => {
            st.operator = operator.clone();
            st.mode = mode.clone();
            st.scenario = scenario.clone();
            st.sessions += 1;
            if st.session_started.is_none() {
                st.session_started = Some(at);
            }
        }
        Event::SessionEnded { .. } => {}
        Event::Observed(o) if o.unchanged => {
            if let Some(last) = st.last_reading.get(&o.source).cloned() {
                observe(st, rb, at, &last);
            }
        }
        Event::Observed(o) => {
            observe(st, rb, at, o);
            if o.history.is_empty() {
                st.last_reading.insert(o.source.clone(), o.clone());
            }
        }
        Event::ChecklistTicked {
            checklist,
            item,
            by,
        } => {
            st.ticks.insert(
                (checklist.clone(), item.clone()),
                Tick { by: by.clone(), at },
            );
        }
        Event::ChecklistUnticked {
            checklist, item, ..
        } => {
            st.ticks.remove(&(checklist.clone(), item.clone()));
        }
        Event::ActionRequested {
            id,
            action,
            by,
            checks,
            steps,
            reason,
            ..
        } => {
            st.actions.push(ActionRecord {
                id: *id,
                action: action.clone(),
                by: by.clone(),
                requested_at: at,
                finished_at: None,
                checks: checks.clone(),
                steps: steps.clone(),
                steps_done: Vec::new(),
                confirmed: None,
                override_reason: None,
                reason: reason.clone(),
                outcome: Outcome::Running,
                acknowledged: false,
            });
            if let Action::Rollback { .. } = action {
                // A rollback undoes the canary: the next step starts again from the first,
                // and a countdown that was running has done its job.
                if st.rollout_step > 0 || st.traffic_share(rb) > 0 {
                    st.rearm = true;
                }
                st.rollout_step = 0;
                st.rollout_step_at = None;
                if let Some(c) = st.abort.take() {
                    st.abort_latched.insert(c.rule, at);
                }
            }
        }
        Event::ActionConfirmed { id, phrase } => {
            if let Some(a) = find(st, *id) {
                a.confirmed = Some(phrase.clone());
            }
        }
        Event::ActionOverridden { id, reason } => {
            if let Some(a) = find(st, *id) {
                a.override_reason = Some(reason.clone());
            }
        }
        Event::ActionBlocked { .. } => st.blocked += 1,
        Event::StepFinished {
            id,
            name,
            ok,
            output,
            step,
        } => {
            let mut effect = None;
            if let Some(a) = find(st, *id) {
                a.steps_done.push((name.clone(), *ok, output.clone()));
                if *ok {
                    effect = a.steps.get(*step).map(|s| s.action.clone());
                }
            }
            // A step that succeeded changes what we believe until the next observation says
            // otherwise, so the screen does not lag behind the action.
            if let Some(effect) = effect {
                believe(st, &effect);
            }
        }
        Event::ActionSucceeded { id, detail } => {
            let action = find(st, *id).map(|a| {
                a.outcome = Outcome::Succeeded(detail.clone());
                a.finished_at = Some(at);
                (a.action.clone(), a.steps.clone())
            });
            match action {
                Some((Action::RolloutStep { step, percent }, _)) => {
                    st.rollout_max = st.rollout_max.max(percent);
                    st.rollout_step = step;
                    st.rollout_step_at = Some(at);
                    st.rearm = false;
                }
                Some((Action::RetryPhase { phase, .. } | Action::SkipStep { phase, .. }, _)) => {
                    if let Some(i) = rb.phase_index(&phase) {
                        st.phases[i].failed = None;
                    }
                }
                Some((Action::Rollback { .. }, steps)) => {
                    reopen_migration_phase(st, rb, *id, &steps)
                }
                _ => {}
            }
        }
        Event::ActionFailed { id, error } => {
            if let Some(a) = find(st, *id) {
                a.outcome = Outcome::Failed(error.clone());
                a.finished_at = Some(at);
            }
            phase_step_failed(st, rb, *id, error);
        }
        Event::ActionCancelled { id, reason, .. } => {
            if let Some(a) = find(st, *id) {
                a.outcome = Outcome::Cancelled(reason.clone());
                a.finished_at = Some(at);
            }
            phase_step_failed(st, rb, *id, &format!("cancelled: {reason}"));
        }
        Event::ActionOutcomeUnknown { id } => {
            if let Some(a) = find(st, *id) {
                a.outcome = Outcome::Unknown;
            }
            phase_step_failed(st, rb, *id, "outcome unknown after a restart: verify");
        }
        Event::Decision {
            go,
            by,
            role,
            reason,
        } => {
            st.decision = Some(Decision {
                go: *go,
                by: by.clone(),
                role: role.clone(),
                at,
                reason: reason.clone(),
                withdrawn: None,
            });
        }
        Event::DecisionWithdrawn { reason, .. } => {
            if let Some(d) = st.decision.as_mut() {
                d.withdrawn = Some(reason.clone());
            }
        }
        Event::AbortArmed {
            rule,
            procedure,
            cause,
            countdown_secs,
        } => {
            st.abort = Some(Countdown {
                rule: *rule,
                procedure: procedure.clone(),
                cause: cause.clone(),
                armed_at: at,
                deadline: at + chrono::Duration::seconds(*countdown_secs as i64),
            });
        }
        Event::AbortCancelled { rule, .. } | Event::AbortExpired { rule } => {
            if st.abort.as_ref().is_some_and(|c| c.rule == *rule) {
                st.abort = None;
            }
            st.abort_latched.insert(*rule, at);
        }
        Event::RollbackAcknowledged { id, .. } => {
            if let Some(a) = find(st, *id) {
                a.acknowledged = true;
            }
        }
        Event::ServerDown {
            pool,
            address,
            error,
        } => {
            st.servers_down.insert(
                address.clone(),
                ServerDown {
                    pool: *pool,
                    since: at,
                    error: error.clone(),
                },
            );
        }
        Event::ServerUp { address, .. } => {
            st.servers_down.remove(address);
        }
        Event::PhaseStarted { phase } => {
            if let Some(i) = rb.phase_index(phase) {
                st.phases[i].status = PhaseStatus::Active;
                st.phases[i].started = Some(at);
                st.phases[i].failed = None;
            }
        }
        Event::PhaseCompleted { phase } => {
            if let Some(i) = rb.phase_index(phase) {
                st.phases[i].status = PhaseStatus::Done;
                st.phases[i].ended = Some(at);
            }
        }
        Event::AlertFired {
            metric,
            level,
            value,
            threshold,
        } => {
            // A critical supersedes the warning of the same metric.
            close_alerts(st, metric, at);
            st.alerts.push(AlertRecord {
                metric: metric.clone(),
                level: *level,
                fired_at: at,
                value: *value,
                threshold: *threshold,
                resolved_at: None,
            });
            if let Some(m) = st.metrics.get_mut(metric) {
                m.firing = *level;
            }
        }
        Event::AlertResolved { metric, level, .. } => {
            close_alerts(st, metric, at);
            if let Some(m) = st.metrics.get_mut(metric) {
                // Resolving a critical may leave the warning of the same metric firing; the
                // next evaluation fires it again if it still holds.
                if m.firing == *level {
                    m.firing = Level::Ok;
                }
            }
        }
    }
}

fn find(st: &mut State, id: u64) -> Option<&mut ActionRecord> {
    st.actions.iter_mut().rev().find(|a| a.id == id)
}

/// An action that runs a phase's steps did not finish: the phase is failed at the step that
/// failed (or was running), until it is retried or skipped.
fn phase_step_failed(st: &mut State, rb: &Runbook, id: u64, error: &str) {
    let Some(a) = st.actions.iter().rev().find(|a| a.id == id) else {
        return;
    };
    if a.steps.is_empty() {
        return;
    }
    let (phase, offset) = match &a.action {
        Action::Advance { to: Some(t), .. } => (t.clone(), 0),
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
fn reopen_migration_phase(st: &mut State, rb: &Runbook, id: u64, steps: &[PlannedStep]) {
    let Some(down_to) = steps
        .iter()
        .filter_map(|s| match &s.action {
            StepAction::Run(r) => r.expect_migration_version,
            _ => None,
        })
        .min()
    else {
        return;
    };
    let Some(i) = rb.phases.iter().position(|p| {
        p.on_start.iter().any(|s| {
            matches!(s.action(), StepAction::Run(r) if r.expect_migration_version.is_some_and(|v| v > down_to))
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

fn close_alerts(st: &mut State, metric: &str, at: Time) {
    for a in st.alerts.iter_mut() {
        if a.metric == metric && a.resolved_at.is_none() {
            a.resolved_at = Some(at);
        }
    }
}

/// What a successful step implies about the systems.
fn believe(st: &mut State, effect: &StepAction) {
    match effect {
        StepAction::SetFlag(f) => {
            st.flags.insert(f.flag.clone(), f.value.clone());
        }
        StepAction::SwitchPool(p) => {
            st.pools.active = Some(*p);
            st.pools.green_weight = Some(match p {
                crate::runbook::PoolName::Green => 100,
                crate::runbook::PoolName::Blue => 0,
            });
        }
        StepAction::SetWeights { green } => st.pools.green_weight = Some(*green),
        // A migration step succeeds only at its expected version.
        StepAction::Run(r) => {
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

fn observe(st: &mut State, rb: &Runbook, at: Time, o: &Observation) {
    for (id, past) in &o.history {
        if let Some(m) = st.metrics.get_mut(id) {
            // Older than anything read since the session started: in front.
            for v in past.iter().rev() {
                m.history.push_front(v.filter(|x| x.is_finite()));
            }
            while m.history.len() > HISTORY {
                m.history.pop_front();
            }
        }
    }
    for (id, v) in &o.metrics {
        let Some(def) = rb.metric(id) else { continue };
        let Some(m) = st.metrics.get_mut(id) else {
            continue;
        };
        let v = v.filter(|x| x.is_finite());
        m.history.push_back(v);
        while m.history.len() > HISTORY {
            m.history.pop_front();
        }
        m.last = v;
        m.last_at = Some(at);
        let level = v.map(|v| level_of(def, v)).unwrap_or(Level::Ok);
        // A missing value neither starts nor ends a breach: it is unknown, shown as stale.
        if v.is_some() {
            if level >= Level::Warning {
                m.warning_since.get_or_insert(at);
            } else {
                m.warning_since = None;
            }
            if level >= Level::Critical {
                m.critical_since.get_or_insert(at);
            } else {
                m.critical_since = None;
            }
        }
    }
    if let Some(p) = &o.pools {
        let conv = |v: &Vec<ServerObs>| {
            v.iter()
                .map(|s| ServerState {
                    address: s.address.clone(),
                    healthy: s.healthy,
                    latency_ms: s.latency_ms,
                    error: s.error.clone(),
                })
                .collect()
        };
        if p.active.is_some() {
            st.pools.active = p.active;
        }
        if p.green_weight.is_some() {
            st.pools.green_weight = p.green_weight;
        }
        if p.complete.contains(&PoolName::Blue) || !p.blue.is_empty() {
            st.pools.blue = conv(&p.blue);
        }
        if p.complete.contains(&PoolName::Green) || !p.green.is_empty() {
            st.pools.green = conv(&p.green);
        }
        st.pools.observed_at = Some(at);
    }
    if let Some(f) = &o.flags {
        for (k, v) in f {
            st.flags.insert(k.clone(), v.clone());
        }
        st.flags_at = Some(at);
    }
    if let Some(m) = &o.migration {
        st.migration = Some(m.clone());
    }
    if let Some(b) = &o.backup {
        st.backup = Some(b.clone());
    }
    // Each observation replaces the error list of the sources it covers.
    // Each reading replaces the errors that its own source reported before (the simulator
    // reports `flags` errors, Prometheus `prometheus:<metric>` ones); others stay.
    st.source_errors.retain(|_, (_, _, by)| *by != o.source);
    for e in &o.errors {
        st.source_errors
            .insert(e.source.clone(), (e.message.clone(), at, o.source.clone()));
    }
}

/// Alert transitions that are due at `st.now`: an alert fires when its threshold has been
/// breached for the metric's `for` duration, and resolves when the value is back; a server
/// that stops answering its health check is down until it answers again.
pub fn alert_transitions(st: &State, rb: &Runbook) -> Vec<Event> {
    let Some(now) = st.now else { return Vec::new() };
    let mut out = server_transitions(st);
    for def in &rb.metrics {
        let Some(m) = st.metrics.get(&def.id.value) else {
            continue;
        };
        let due = super::alert_due(def, m, now);
        if due == m.firing {
            continue;
        }
        // A metric whose source is down keeps its alert as it was: unknown is not resolved.
        if m.last.is_none() {
            continue;
        }
        if due > m.firing {
            let threshold = super::threshold(def, due).unwrap_or(f64::NAN);
            out.push(Event::AlertFired {
                metric: def.id.value.clone(),
                level: due,
                value: m.last,
                threshold,
            });
        } else {
            out.push(Event::AlertResolved {
                metric: def.id.value.clone(),
                level: m.firing,
                value: m.last,
            });
        }
    }
    out
}

/// Servers that went down or came back since the last transition.
fn server_transitions(st: &State) -> Vec<Event> {
    let mut out = Vec::new();
    for pool in [PoolName::Blue, PoolName::Green] {
        for s in st.pools.servers(pool) {
            let down = st.servers_down.contains_key(&s.address);
            if !s.healthy && !down {
                out.push(Event::ServerDown {
                    pool,
                    address: s.address.clone(),
                    error: s
                        .error
                        .clone()
                        .unwrap_or_else(|| "health check failed".into()),
                });
            } else if s.healthy && down {
                out.push(Event::ServerUp {
                    pool,
                    address: s.address.clone(),
                });
            }
        }
    }
    out
}
