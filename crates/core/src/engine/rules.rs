//! Domain rules the screen, the replay, `warroom status` and the post-mortem all need: one
//! function each, so that the UI and the export only format what the engine decided.
//! Alert rules are in alerts.rs and the Next line in next.rs.

use super::action::*;
use super::alerts::MetricLevel;
use super::event::*;
use super::state::*;
use crate::runbook::{Criterion, PoolName, Runbook};
use std::time::Duration;

/// A pool is healthy when a reading lists servers and every one answers.
pub fn pool_healthy(st: &State, pool: PoolName) -> bool {
    let (ok, n) = st.pools.healthy(pool);
    n > 0 && ok == n
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

/// Whether `operator` may act on the rollout: in team mode only the lead does (an observer,
/// or a console whose lead was taken over, is refused here, whatever its keys allow). A log
/// in which no lead was ever taken (one console on a file) has no such rule.
pub fn may_act(st: &State, operator: &str) -> Result<(), String> {
    match &st.lead {
        Some(l) if l.operator != operator || l.ended => Err(format!(
            "{} leads this rollout (since {}){}: {operator} may watch, not act",
            l.operator,
            l.since.format("%H:%M:%S"),
            if l.ended { ", and has quit" } else { "" }
        )),
        _ => Ok(()),
    }
}

/// The lead a new console takes over from: one whose session never ended (its console was
/// killed or lost its connection), when it is not this operator.
pub fn lead_to_take_over<'a>(st: &'a State, operator: &str) -> Option<&'a Lead> {
    st.lead
        .as_ref()
        .filter(|l| !l.ended && l.operator != operator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::{seed, t};
    use crate::engine::{Observation, SourceError, apply};

    #[test]
    fn only_the_lead_may_act_once_a_lead_is_taken() {
        let rb = seed();
        let mut st = State::new(&rb);
        // A log no lead was ever taken in: whoever has it open acts.
        assert_eq!(may_act(&st, "alice"), Ok(()));
        let lead = |who: &str, previous: Option<&str>| Event::LeadTaken {
            operator: who.into(),
            previous: previous.map(String::from),
        };
        apply(&mut st, &rb, t(0), &lead("alice", None));
        assert_eq!(may_act(&st, "alice"), Ok(()));
        let e = may_act(&st, "bob").expect_err("bob does not lead");
        assert!(
            e.contains("alice leads") && e.contains("bob may watch"),
            "{e}"
        );
        // Alice's console stopped without ending: bob takes over from her.
        assert_eq!(
            lead_to_take_over(&st, "bob").map(|l| l.operator.as_str()),
            Some("alice")
        );
        assert_eq!(lead_to_take_over(&st, "alice"), None);
        apply(&mut st, &rb, t(60), &lead("bob", Some("alice")));
        assert!(may_act(&st, "alice").is_err());
        assert_eq!(may_act(&st, "bob"), Ok(()));
        // Bob quits: nobody leads, nobody acts until a console takes the lead again.
        apply(
            &mut st,
            &rb,
            t(120),
            &Event::SessionEnded {
                operator: "bob".into(),
            },
        );
        assert!(may_act(&st, "bob").is_err());
        assert_eq!(lead_to_take_over(&st, "carol"), None);
        // Carol leads, and hands over to dave, who asked: carol no longer acts.
        apply(&mut st, &rb, t(180), &lead("carol", None));
        apply(
            &mut st,
            &rb,
            t(200),
            &Event::LeadHandedOver {
                operator: "carol".into(),
                to: "dave".into(),
            },
        );
        assert!(may_act(&st, "carol").is_err());
        assert_eq!(
            st.lead.as_ref().and_then(|l| l.handed_to.as_deref()),
            Some("dave")
        );
        assert_eq!(lead_to_take_over(&st, "dave"), None);
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
