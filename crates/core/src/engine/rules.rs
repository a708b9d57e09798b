//! Domain rules the screen, the replay, `warroom status` and the post-mortem all need: one
//! function each, so that the UI and the export only format what the engine decided.
//! Alert rules are in alerts.rs and the Next line in next.rs.

use super::action::*;
use super::alerts::MetricLevel;
use super::event::*;
use super::state::*;
use crate::engine::SourceId;
use crate::runbook::{Criterion, Direction, Metric, PoolName, Runbook};
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
    let failing = |source| super::gate::source_error(st, source).map(str::to_string);
    if let Some(e) = failing(SourceId::Flags) {
        out.push(Unreadable::Flags(Some(e)));
    } else if st.flags_at.is_none() {
        out.push(Unreadable::Flags(None));
    }
    if rb.targets.load_balancer.is_some() {
        if let Some(e) = failing(SourceId::Lb) {
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

/// One metric's readings over a whole log, oldest first: every value a source gave (not only
/// the sparkline's last samples). The post-mortem judges peaks and success criteria on them.
pub type Readings = [(Time, f64)];

/// Whether `a` is worse than `b` for this metric: higher for `direction: above` (error rate,
/// latency), lower for `direction: below` (cache hit rate, throughput).
pub fn worse(def: &Metric, a: f64, b: f64) -> bool {
    match def.direction {
        Direction::Above => a > b,
        Direction::Below => a < b,
    }
}

/// The worst reading from `from` to `to` (both included; to the last reading when `to` is
/// `None`), and when it was read; the first of equal values.
pub fn peak(
    def: &Metric,
    readings: &Readings,
    from: Time,
    to: Option<Time>,
) -> Option<(Time, f64)> {
    readings
        .iter()
        .filter(|(t, _)| *t >= from && to.is_none_or(|end| *t <= end))
        .fold(None, |best: Option<(Time, f64)>, &(t, v)| match best {
            Some((_, b)) if !worse(def, v, b) => best,
            _ => Some((t, v)),
        })
}

/// How bad an alert got: the worst of its value at firing and every reading while it fired.
pub fn alert_peak(rb: &Runbook, readings: &Readings, a: &AlertRecord) -> Option<(Time, f64)> {
    let def = rb.metric(&a.metric)?;
    let during = peak(def, readings, a.fired_at, a.resolved_at);
    match (a.value, during) {
        (Some(v), Some((_, p))) if !worse(def, p, v) => Some((a.fired_at, v)),
        (_, Some(p)) => Some(p),
        (Some(v), None) => Some((a.fired_at, v)),
        (None, None) => None,
    }
}

/// A measurable success criterion, judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CriterionVerdict {
    pub met: bool,
    /// The reading that decided: the worst one in the window, or the last one without a window.
    pub value: f64,
    pub at: Time,
    /// How many readings were judged.
    pub readings: usize,
    /// The runbook's window (`window:`), when it states one.
    pub window: Option<Duration>,
    /// The stretch judged: from the first to the last reading taken into account.
    pub from: Time,
    pub to: Time,
}

/// Judge a measurable success criterion on its metric's readings: over the runbook's
/// `window` ending at the last reading (every reading in it must pass), or, without a window,
/// by the last reading. `None` when it is for the team to judge or its metric has no reading.
pub fn judge_criterion(c: &Criterion, readings: &Readings) -> Option<CriterionVerdict> {
    c.metric.as_ref()?;
    let &(last_at, _) = readings.last()?;
    let window = c.window.as_ref().map(|w| w.value.0);
    let judged: &Readings = match window {
        Some(w) => {
            // Readings are in the log's order, which is the order of time.
            let since = chrono::Duration::from_std(w)
                .ok()
                .and_then(|d| last_at.checked_sub_signed(d));
            let i = since.map_or(0, |s| readings.partition_point(|(t, _)| *t < s));
            &readings[i..]
        }
        None => &readings[readings.len() - 1..],
    };
    let passes = |v: f64| c.below.is_none_or(|b| v < b) && c.above.is_none_or(|a| v > a);
    // The deciding reading: the first that fails, by how far it fails; else the one nearest
    // to failing.
    let badness = |v: f64| {
        let over = c.below.map(|b| v - b).unwrap_or(f64::MIN);
        let under = c.above.map(|a| a - v).unwrap_or(f64::MIN);
        over.max(under)
    };
    let &(at, value) = judged
        .iter()
        .fold(None, |best: Option<&(Time, f64)>, r| match best {
            Some(b) if badness(r.1) <= badness(b.1) => best,
            _ => Some(r),
        })?;
    Some(CriterionVerdict {
        met: judged.iter().all(|&(_, v)| passes(v)),
        value,
        at,
        readings: judged.len(),
        window,
        from: judged.first().map(|r| r.0).unwrap_or(last_at),
        to: last_at,
    })
}

/// The highest traffic share the rollout's pool took, and when it first took it, from the
/// shares read over a log (oldest first).
pub fn highest_share(shares: &[(Time, u32)]) -> Option<(Time, u32)> {
    shares.iter().fold(None, |best, &(t, s)| match best {
        Some((_, b)) if s <= b => best,
        _ => Some((t, s)),
    })
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

impl RolloutPeriod {
    /// How long it lasted; one still lasting, until `now`.
    pub fn lasted(&self, now: Time) -> Duration {
        (self.until.unwrap_or(now) - self.from)
            .to_std()
            .unwrap_or_default()
    }
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

/// The bake at the rollout step the canary is at: how long it has baked of its time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bake {
    /// The step's percent.
    pub percent: u32,
    /// How long it has baked so far (never more than `bake`).
    pub baked: Duration,
    /// The step's bake time.
    pub bake: Duration,
}

impl Bake {
    pub fn done(&self) -> bool {
        self.baked >= self.bake
    }

    pub fn left(&self) -> Duration {
        self.bake.saturating_sub(self.baked)
    }
}

/// The bake of the rollout step the canary is at; `None` before the first step and at a step
/// with no bake time (the last). The gate's `bake` check and the Next line read the same.
pub fn bake_progress(st: &State, rb: &Runbook) -> Option<Bake> {
    let step = rb.rollout.steps.get(st.rollout_step.checked_sub(1)?)?;
    if step.bake.is_zero() {
        return None;
    }
    Some(Bake {
        percent: step.percent.value,
        baked: st
            .age(st.rollout_step_at)
            .unwrap_or_default()
            .min(step.bake),
        bake: step.bake,
    })
}

/// Where a rung of the canary ladder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rung {
    Done,
    /// The step the canary is at.
    Current,
    /// The step `a` takes next.
    Next,
    Later,
}

/// The canary ladder: 0 and each rollout step's percent, in order, each with where it stands.
pub fn rollout_ladder(st: &State, rb: &Runbook) -> Vec<(u32, Rung)> {
    let at = st.rollout_step.min(rb.rollout.steps.len());
    std::iter::once(0)
        .chain(rb.rollout.steps.iter().map(|s| s.percent.value))
        .enumerate()
        .map(|(i, p)| {
            let rung = match i.cmp(&at) {
                std::cmp::Ordering::Less => Rung::Done,
                std::cmp::Ordering::Equal => Rung::Current,
                std::cmp::Ordering::Greater if i == at + 1 => Rung::Next,
                std::cmp::Ordering::Greater => Rung::Later,
            };
            (p, rung)
        })
        .collect()
}

/// The procedure the rollback menu suggests, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub procedure: String,
    /// `risk "Compatibility issues": Green error rate critical`.
    pub why: String,
}

/// The rollback the menu suggests: for the alerts firing (critical first, then the oldest),
/// the procedure of a risk that names the alert's metric, else of an `abort_on` rule that
/// does. `None` when no alert fires or none is tied to a procedure.
pub fn suggested_procedure(st: &State, rb: &Runbook) -> Option<Suggestion> {
    let mut firing: Vec<&AlertRecord> = st.firing().collect();
    firing.sort_by_key(|a| (std::cmp::Reverse(a.level), a.fired_at));
    for a in firing {
        let metric = rb
            .metric(&a.metric)
            .map(|m| m.name.as_str())
            .unwrap_or(&a.metric);
        let level = if a.level == Level::Critical {
            "critical"
        } else {
            "warning"
        };
        let names = |ms: &[crate::runbook::Ref]| ms.iter().any(|m| m.value == a.metric);
        let by_risk = rb.risks.iter().find_map(|r| {
            let p = r.procedure.as_ref().filter(|_| names(&r.metrics))?;
            Some(Suggestion {
                procedure: p.value.clone(),
                why: format!("risk \"{}\": {metric} {level}", r.name),
            })
        });
        let by_rule = || {
            rb.abort_on
                .iter()
                .find(|r| names(&r.metrics))
                .map(|r| Suggestion {
                    procedure: r.procedure.value.clone(),
                    why: format!("auto-abort rule: {metric} {level}"),
                })
        };
        if let Some(s) = by_risk.or_else(by_rule) {
            return Some(s);
        }
    }
    None
}

/// Where the last action stands, for the status bar: from its request to its end, then for
/// `AFTER` (source time) how it ended, then nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionStatus {
    /// `None` for a blocked attempt (it has no id).
    pub id: Option<u64>,
    pub label: String,
    pub stage: ActionStage,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ActionStage {
    /// Requested under the two-person rule: waiting for another operator's approval.
    AwaitingApproval,
    /// Requested, `done` of its `of` steps finished.
    Running {
        done: usize,
        of: usize,
    },
    Succeeded,
    Failed(String),
    Cancelled(String),
    Unknown,
    Blocked,
}

/// How long the status bar keeps how an action ended, in the source's time.
pub const STATUS_AFTER: Duration = Duration::from_secs(60);

pub fn action_status(st: &State) -> Option<ActionStatus> {
    if let Some(a) = st.running() {
        return Some(ActionStatus {
            id: Some(a.id),
            label: a.action.label(),
            stage: if a.approval == Some(ApprovalState::Awaiting) {
                ActionStage::AwaitingApproval
            } else {
                ActionStage::Running {
                    done: a.steps_done.len(),
                    of: a.steps.len(),
                }
            },
        });
    }
    let recent = |at: Time| st.age(Some(at)).is_some_and(|d| d <= STATUS_AFTER);
    let ended = st
        .actions
        .iter()
        .rev()
        .find_map(|a| a.finished_at.map(|t| (a, t)))
        .filter(|(_, t)| recent(*t));
    let blocked = st.blocked_attempts.last().filter(|b| recent(b.at));
    match (ended, blocked) {
        (Some((_, t)), Some(b)) if b.at >= t => Some(blocked_status(&b.action)),
        (None, Some(b)) => Some(blocked_status(&b.action)),
        (Some((a, _)), _) => Some(ActionStatus {
            id: Some(a.id),
            label: a.action.label(),
            stage: match &a.outcome {
                Outcome::Succeeded(_) => ActionStage::Succeeded,
                Outcome::Failed(e) => ActionStage::Failed(e.clone()),
                Outcome::Cancelled(e) => ActionStage::Cancelled(e.clone()),
                Outcome::Running | Outcome::Unknown => ActionStage::Unknown,
            },
        }),
        (None, None) => None,
    }
}

fn blocked_status(action: &Action) -> ActionStatus {
    ActionStatus {
        id: None,
        label: action.label(),
        stage: ActionStage::Blocked,
    }
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
            source: SourceId::Flags.into(),
            errors: vec![SourceError {
                source: SourceId::Flags.into(),
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

    fn criterion(yaml: &str) -> Criterion {
        match serde_saphyr::from_str(yaml) {
            Ok(c) => c,
            Err(e) => panic!("{yaml}: {e}"),
        }
    }

    #[test]
    fn a_peak_is_the_worst_reading_by_the_metrics_direction() {
        let rb = seed();
        let above = rb.metrics.iter().find(|m| m.direction == Direction::Above);
        let below = rb.metrics.iter().find(|m| m.direction == Direction::Below);
        let (Some(above), Some(below)) = (above, below) else {
            panic!("the seed has metrics of both directions");
        };
        let r = [
            (t(0), 1.0),
            (t(10), 3.0),
            (t(20), 0.5),
            (t(30), 3.0),
            (t(40), 9.0),
        ];
        assert_eq!(peak(above, &r, t(0), Some(t(30))), Some((t(10), 3.0)));
        assert_eq!(peak(below, &r, t(0), Some(t(30))), Some((t(20), 0.5)));
        assert_eq!(peak(above, &r, t(0), None), Some((t(40), 9.0)));
        assert_eq!(peak(above, &r, t(41), None), None);
        // An alert's peak is never below its value at firing.
        let a = AlertRecord {
            metric: above.id.value.clone(),
            level: Level::Critical,
            fired_at: t(10),
            value: Some(4.0),
            threshold: 1.0,
            resolved_at: Some(t(30)),
            acknowledged_by: None,
        };
        assert_eq!(alert_peak(&rb, &r, &a), Some((t(10), 4.0)));
        let a = AlertRecord {
            resolved_at: None,
            ..a
        };
        assert_eq!(alert_peak(&rb, &r, &a), Some((t(40), 9.0)));
    }

    #[test]
    fn a_criterion_is_judged_over_its_window_or_by_the_last_reading() {
        let r = [
            (t(0), 0.5),
            (t(600), 0.05),
            (t(1200), 0.08),
            (t(1800), 0.02),
        ];
        let last = criterion("{text: x, group: g, metric: m, below: 0.1}");
        let v = judge_criterion(&last, &r).expect("judged");
        assert!(v.met && v.value == 0.02 && v.readings == 1 && v.window.is_none());
        let w = criterion("{text: x, group: g, metric: m, below: 0.1, window: 20m}");
        let v = judge_criterion(&w, &r).expect("judged");
        assert!(v.met, "{v:?}");
        assert_eq!(
            (v.readings, v.value, v.at, v.from),
            (3, 0.08, t(1200), t(600))
        );
        let w = criterion("{text: x, group: g, metric: m, below: 0.1, window: 30m}");
        let v = judge_criterion(&w, &r).expect("judged");
        assert!(!v.met && v.value == 0.5 && v.at == t(0), "{v:?}");
        let above = criterion("{text: x, group: g, metric: m, above: 0.03, window: 1h}");
        let v = judge_criterion(&above, &r).expect("judged");
        assert!(!v.met && v.value == 0.02, "{v:?}");
        assert_eq!(judge_criterion(&w, &[]), None, "no reading");
        let people = criterion("{text: x, group: g}");
        assert_eq!(judge_criterion(&people, &r), None, "for the team to judge");
    }

    #[test]
    fn the_highest_share_is_first_reached_when() {
        let s = [(t(0), 0), (t(5), 10), (t(9), 25), (t(12), 0), (t(20), 25)];
        assert_eq!(highest_share(&s), Some((t(9), 25)));
        assert_eq!(highest_share(&[]), None);
    }

    #[test]
    fn the_rollback_suggested_is_the_one_whose_risk_names_the_firing_metric() {
        let rb = seed();
        let mut st = State::new(&rb);
        assert_eq!(suggested_procedure(&st, &rb), None, "nothing fires");
        // Each risk with metrics and a procedure: its alert suggests its procedure.
        for r in rb.risks.iter().filter(|r| r.procedure.is_some()) {
            for m in &r.metrics {
                st.alerts = vec![AlertRecord {
                    metric: m.value.clone(),
                    level: Level::Critical,
                    fired_at: t(0),
                    value: Some(1.0),
                    threshold: 0.5,
                    resolved_at: None,
                    acknowledged_by: None,
                }];
                let s = suggested_procedure(&st, &rb).expect("a suggestion");
                assert_eq!(Some(&s.procedure), r.procedure.as_ref().map(|p| &p.value));
                assert!(
                    s.why.contains(&r.name) && s.why.contains("critical"),
                    "{s:?}"
                );
            }
        }
        // A critical alert wins over a warning that fired before it.
        let with_risk = |id: &str| {
            rb.risks
                .iter()
                .find(|r| r.metrics.iter().any(|m| m.value == id))
                .and_then(|r| r.procedure.clone())
        };
        let tied: Vec<&str> = rb
            .risks
            .iter()
            .flat_map(|r| r.metrics.iter().map(|m| m.value.as_str()))
            .collect();
        if let [a, .., b] = tied.as_slice()
            && with_risk(a) != with_risk(b)
        {
            let alert = |m: &str, level, at| AlertRecord {
                metric: m.into(),
                level,
                fired_at: t(at),
                value: None,
                threshold: 0.0,
                resolved_at: None,
                acknowledged_by: None,
            };
            st.alerts = vec![alert(a, Level::Warning, 0), alert(b, Level::Critical, 10)];
            let s = suggested_procedure(&st, &rb).expect("a suggestion");
            assert_eq!(Some(s.procedure), with_risk(b).map(|p| p.value));
        }
        // Resolved alerts suggest nothing.
        for a in &mut st.alerts {
            a.resolved_at = Some(t(20));
        }
        assert_eq!(suggested_procedure(&st, &rb), None);
    }

    #[test]
    fn the_ladder_and_the_bake_follow_the_rollout_steps() {
        let rb = seed();
        let mut st = State::new(&rb);
        let first = rb.rollout.steps[0].percent.value;
        let ladder = rollout_ladder(&st, &rb);
        assert_eq!(ladder.len(), rb.rollout.steps.len() + 1);
        assert_eq!(ladder[0], (0, Rung::Current));
        assert_eq!(ladder[1], (first, Rung::Next));
        assert!(ladder[2..].iter().all(|(_, r)| *r == Rung::Later));
        assert_eq!(
            bake_progress(&st, &rb),
            None,
            "no step taken, nothing bakes"
        );
        st.rollout_step = 1;
        st.rollout_step_at = Some(t(0));
        st.now = Some(t(120));
        let ladder = rollout_ladder(&st, &rb);
        assert_eq!(ladder[0].1, Rung::Done);
        assert_eq!(ladder[1], (first, Rung::Current));
        assert_eq!(ladder[2].1, Rung::Next);
        let b = bake_progress(&st, &rb).expect("the first step bakes");
        assert_eq!(b.percent, first);
        assert_eq!(b.baked, Duration::from_secs(120));
        assert_eq!(b.bake, rb.rollout.steps[0].bake);
        assert!(!b.done());
        st.now = Some(t(1_000_000));
        let b = bake_progress(&st, &rb).expect("still the first step");
        assert!(b.done() && b.baked == b.bake && b.left().is_zero());
        // At the last step: nothing after it, no bake to show.
        st.rollout_step = rb.rollout.steps.len();
        let ladder = rollout_ladder(&st, &rb);
        assert_eq!(ladder.last().map(|l| l.1), Some(Rung::Current));
        assert!(ladder.iter().all(|(_, r)| *r != Rung::Next));
        assert_eq!(bake_progress(&st, &rb), None);
    }
}
