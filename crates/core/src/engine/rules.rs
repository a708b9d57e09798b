//! Domain rules the screen, the replay, `warroom status` and the post-mortem all need: one
//! function each, so that the UI and the export only format what the engine decided.
//!
//! Over 400 lines with its unit tests (the rules themselves are under 380): the rules stay
//! in one file, which is where ARCHITECTURE.md sends a newcomer looking for one.

use super::action::*;
use super::event::*;
use super::state::*;
use crate::runbook::{Criterion, Metric, PoolName, Runbook};
use std::time::Duration;

/// A pool is healthy when a reading lists servers and every one answers.
pub fn pool_healthy(st: &State, pool: PoolName) -> bool {
    let (ok, n) = st.pools.healthy(pool);
    n > 0 && ok == n
}

/// The value of a metric's threshold for `level`: the critical one, else the warning one.
pub fn threshold(def: &Metric, level: Level) -> Option<f64> {
    match level {
        Level::Critical => def.critical.as_ref(),
        _ => def.warning.as_ref(),
    }
    .map(|t| t.value)
}

/// How long a breach that began at `since` has held at `now`.
fn held(since: Time, now: Time) -> Duration {
    (now - since).to_std().unwrap_or_default()
}

/// The alert level due for a metric at `now`: the highest threshold its value has been beyond
/// for the metric's `for` duration. `alert_transitions` fires and resolves alerts by it.
pub fn alert_due(def: &Metric, m: &MetricState, now: Time) -> Level {
    let held_for = |since: Option<Time>| since.is_some_and(|s| held(s, now) >= def.r#for);
    if def.critical.is_some() && held_for(m.critical_since) {
        Level::Critical
    } else if def.warning.is_some() && held_for(m.warning_since) {
        Level::Warning
    } else {
        Level::Ok
    }
}

/// A threshold a metric's fresh value is beyond now while no alert at that level fires: the
/// alert fires once the breach has held for the metric's `for` duration.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingAlert {
    pub metric: String,
    pub level: Level,
    pub value: f64,
    pub threshold: f64,
    /// How long the value must stay beyond the threshold before the alert fires.
    pub fires_in: Duration,
}

/// Every pending alert at `st.now`, in the runbook's order of metrics.
pub fn pending_alerts(st: &State, rb: &Runbook) -> Vec<PendingAlert> {
    let Some(now) = st.now else {
        return Vec::new();
    };
    rb.metrics
        .iter()
        .filter_map(|def| {
            let m = st.metrics.get(&def.id.value)?;
            let (level, since) = match st.metric_level(rb, &def.id.value) {
                MetricLevel::Critical => (Level::Critical, m.critical_since),
                MetricLevel::Warning => (Level::Warning, m.warning_since),
                MetricLevel::Ok | MetricLevel::Stale => return None,
            };
            if level <= m.firing {
                return None;
            }
            Some(PendingAlert {
                metric: def.id.value.clone(),
                level,
                value: m.last?,
                threshold: threshold(def, level)?,
                fires_in: def.r#for.saturating_sub(held(since?, now)),
            })
        })
        .collect()
}

/// The value to show beside a firing alert: the metric's value now, else the one it fired at.
pub fn alert_value(st: &State, a: &AlertRecord) -> Option<f64> {
    st.metrics.get(&a.metric).and_then(|m| m.last).or(a.value)
}

/// Something the rollout gate reads that has no usable reading: the gate cannot be judged,
/// and unknown is not healthy.
#[derive(Debug, Clone, PartialEq)]
pub enum Unreadable {
    /// A metric the gate names has no fresh value.
    Metric(String),
    /// The flag source is failing (its error), or was never read (`None`).
    Flags(Option<String>),
    /// The load balancer is failing (its error), or was never read (`None`).
    LoadBalancer(Option<String>),
    /// No reading lists the servers of the pool the canary goes to.
    PoolHealth(PoolName),
}

/// What the rollout gate needs that cannot be read now: each metric it names, the flags, the
/// load balancer (when the runbook has one) and the health of the rollout's pool.
pub fn gate_unreadable(st: &State, rb: &Runbook) -> Vec<Unreadable> {
    let mut out: Vec<Unreadable> = rb
        .rollout
        .gate
        .iter()
        .filter(|m| st.metric_level(rb, &m.value) == MetricLevel::Stale)
        .map(|m| Unreadable::Metric(m.value.clone()))
        .collect();
    let failing = |source: &str| super::gate::source_error(st, source).map(str::to_string);
    if let Some(e) = failing("flags") {
        out.push(Unreadable::Flags(Some(e)));
    } else if st.flags_at.is_none() {
        out.push(Unreadable::Flags(None));
    }
    if rb.targets.load_balancer.is_some() {
        if let Some(e) = failing("lb") {
            out.push(Unreadable::LoadBalancer(Some(e)));
        } else if st.pools.active.is_none() {
            out.push(Unreadable::LoadBalancer(None));
        }
    }
    if st.pools.healthy(rb.rollout.pool).1 == 0 {
        out.push(Unreadable::PoolHealth(rb.rollout.pool));
    }
    out
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

/// The next move, in words, with the key that makes it: what the Next line says. Decided from
/// the same gates the dialogs use, never guessed by the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct NextMove {
    pub text: String,
    /// The key, as the hint bar writes it; `None` when the move is to wait.
    pub key: Option<&'static str>,
}

fn next(text: impl Into<String>, key: Option<&'static str>) -> NextMove {
    NextMove {
        text: text.into(),
        key,
    }
}

pub fn next_move(st: &State, rb: &Runbook) -> NextMove {
    use crate::runbook::fmt_duration;
    if let Some(c) = &st.abort {
        return next(
            format!("auto-abort runs rollback {} unless cancelled", c.procedure),
            Some("c"),
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
    if let Action::RolloutStep { percent, .. } = &action {
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
        if failing.peek().is_some() && p.checks.iter().filter(|c| !c.pass).all(|c| c.key == "bake")
        {
            let prev = rb.rollout.steps.get(st.rollout_step.saturating_sub(1));
            let left = prev
                .map(|s| {
                    s.bake
                        .saturating_sub(st.age(st.rollout_step_at).unwrap_or_default())
                })
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
        return next(format!("go to {percent} %"), Some("a"));
    }
    let p = super::propose(st, rb, action.clone());
    match p.checks.iter().find(|c| !c.pass) {
        Some(c) if c.key != "idle" => next(
            format!("{} blocked: {} — {}", action.label(), c.name, c.evidence),
            None,
        ),
        _ => next(action.label(), Some("a")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Observation, SourceError, alert_transitions, apply};

    fn seed() -> Runbook {
        let path = std::path::Path::new(crate::runbook::BUILTIN_PATH);
        match crate::runbook::load_or_builtin(path) {
            Ok(l) => l.runbook,
            Err(e) => panic!("{e}"),
        }
    }

    fn t(s: i64) -> Time {
        chrono::DateTime::UNIX_EPOCH + chrono::Duration::seconds(s)
    }

    fn error_rate(v: f64) -> Event {
        Event::Observed(Observation {
            source: "prometheus".into(),
            metrics: [("error_rate".to_string(), Some(v))].into_iter().collect(),
            ..Default::default()
        })
    }

    #[test]
    fn an_alert_is_due_once_its_breach_held_for_the_metric_for_duration() {
        let rb = seed();
        let Some(def) = rb.metric("error_rate") else {
            panic!("error_rate")
        };
        assert_eq!(def.r#for, Duration::from_secs(30));
        assert_eq!(threshold(def, Level::Critical), Some(1.0));
        assert_eq!(threshold(def, Level::Warning), Some(0.5));
        let m = MetricState {
            warning_since: Some(t(0)),
            critical_since: Some(t(20)),
            ..Default::default()
        };
        assert_eq!(alert_due(def, &m, t(29)), Level::Ok);
        assert_eq!(alert_due(def, &m, t(30)), Level::Warning);
        assert_eq!(alert_due(def, &m, t(50)), Level::Critical);
        assert_eq!(alert_due(def, &MetricState::default(), t(50)), Level::Ok);
    }

    #[test]
    fn a_breach_is_pending_until_its_alert_fires() {
        let rb = seed();
        let mut st = State::new(&rb);
        apply(&mut st, &rb, t(0), &error_rate(2.0));
        apply(&mut st, &rb, t(10), &error_rate(2.5));
        let pending = pending_alerts(&st, &rb);
        assert_eq!(
            pending,
            vec![PendingAlert {
                metric: "error_rate".into(),
                level: Level::Critical,
                value: 2.5,
                threshold: 1.0,
                fires_in: Duration::from_secs(20),
            }]
        );
        assert_eq!(alert_transitions(&st, &rb), vec![]);
        apply(&mut st, &rb, t(30), &error_rate(2.5));
        for e in alert_transitions(&st, &rb) {
            apply(&mut st, &rb, t(30), &e);
        }
        assert_eq!(st.firing().count(), 1);
        assert_eq!(pending_alerts(&st, &rb), vec![], "fired: no longer pending");
        let Some(a) = st.firing().next() else {
            panic!("firing")
        };
        assert_eq!(alert_value(&st, a), Some(2.5));
        // Back below every threshold: nothing pending.
        apply(&mut st, &rb, t(40), &error_rate(0.1));
        assert_eq!(pending_alerts(&st, &rb), vec![]);
    }

    #[test]
    fn what_the_rollout_gate_cannot_read() {
        let rb = seed();
        let mut st = State::new(&rb);
        let pool = rb.rollout.pool;
        let gate: Vec<Unreadable> = rb
            .rollout
            .gate
            .iter()
            .map(|m| Unreadable::Metric(m.value.clone()))
            .collect();
        let mut never = gate.clone();
        never.push(Unreadable::Flags(None));
        if rb.targets.load_balancer.is_some() {
            never.push(Unreadable::LoadBalancer(None));
        }
        never.push(Unreadable::PoolHealth(pool));
        assert_eq!(gate_unreadable(&st, &rb), never, "nothing read yet");
        let failed = Observation {
            source: "flags".into(),
            errors: vec![SourceError {
                source: "flags".into(),
                message: "HTTP 503".into(),
            }],
            ..Default::default()
        };
        apply(&mut st, &rb, t(0), &Event::Observed(failed));
        assert!(
            gate_unreadable(&st, &rb).contains(&Unreadable::Flags(Some("HTTP 503".into()))),
            "{:?}",
            gate_unreadable(&st, &rb)
        );
    }
}
