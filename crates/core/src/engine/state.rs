//! The state of a deployment: a fold of events over the runbook. `apply` is the only writer.

use super::action::*;
use super::alerts::{MetricLevel, level_of};
use super::event::*;
use super::observation::*;
use crate::runbook::{PoolName, Runbook};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// Samples kept per metric for the sparklines.
pub const HISTORY: usize = 120;

/// A map whose keys are not strings, serialised as a list of `[key, value]` pairs (a state
/// snapshot is JSON, whose object keys are strings).
mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        m: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PhaseStatus {
    Pending,
    Active,
    Done,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhaseState {
    pub status: PhaseStatus,
    pub started: Option<Time>,
    pub ended: Option<Time>,
    /// A step the phase runs failed (or never finished): the phase cannot be completed until
    /// the step is retried or skipped.
    pub failed: Option<PhaseFailure>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhaseFailure {
    /// The step's index among the phase's planned steps.
    pub step: usize,
    pub name: String,
    pub error: String,
}

/// An auto-abort countdown on the banner.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Countdown {
    pub rule: usize,
    pub procedure: String,
    pub cause: String,
    pub armed_at: Time,
    pub deadline: Time,
}

/// A pool server that stopped answering.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ServerDown {
    pub pool: PoolName,
    pub since: Time,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tick {
    pub operator: String,
    pub at: Time,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct MetricState {
    pub history: VecDeque<Option<f64>>,
    pub last: Option<f64>,
    pub last_at: Option<Time>,
    /// When the value went beyond the warning and the critical threshold (cleared when back).
    pub warning_since: Option<Time>,
    pub critical_since: Option<Time>,
    /// The alert level that is firing (after its `for` duration).
    pub firing: Level,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ServerState {
    pub address: String,
    pub healthy: bool,
    pub latency_ms: Option<f64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct PoolsState {
    pub active: Option<PoolName>,
    pub green_share: Option<u32>,
    pub blue: Vec<ServerState>,
    pub green: Vec<ServerState>,
    /// What each pool took since the load balancer's last change, as it counted.
    pub served: Option<Served>,
    pub observed_at: Option<Time>,
    /// Whose reading each pool's server rows are (blue, green), and when it came: the rows
    /// of one source win over another's by `observe::rows_rank`.
    pub rows_from: [Option<(SourceId, Time)>; 2],
}

impl PoolsState {
    pub fn servers(&self, p: PoolName) -> &[ServerState] {
        match p {
            PoolName::Blue => &self.blue,
            PoolName::Green => &self.green,
        }
    }
    pub fn healthy(&self, p: PoolName) -> (usize, usize) {
        let s = self.servers(p);
        (s.iter().filter(|s| s.healthy).count(), s.len())
    }
    /// The share of traffic (percent) that the pool takes.
    pub fn traffic(&self, p: PoolName) -> Option<u32> {
        let g = self.green_share?;
        Some(match p {
            PoolName::Green => g,
            PoolName::Blue => 100 - g.min(100),
        })
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlertRecord {
    pub metric: String,
    pub level: Level,
    pub fired_at: Time,
    pub value: Option<f64>,
    pub threshold: f64,
    pub resolved_at: Option<Time>,
    /// Who acknowledged it (saw it fire), if anyone.
    pub acknowledged_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    Running,
    Succeeded(String),
    Failed(String),
    /// Stopped before it finished (a rollback took over).
    Cancelled(String),
    Unknown,
}

/// An action the gate refused, recorded when the operator pressed Enter on it: what was
/// asked, by whom, when, and each check with its evidence as the dialog showed them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BlockedAttempt {
    pub action: Action,
    pub operator: String,
    pub at: Time,
    pub checks: Vec<Check>,
    /// The values behind the decision, as recorded.
    pub evidence: Evidence,
    /// What the dialog's dry run showed (empty when it had none or had not answered).
    pub preview: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActionRecord {
    pub id: u64,
    pub action: Action,
    pub operator: String,
    pub requested_at: Time,
    pub finished_at: Option<Time>,
    pub checks: Vec<Check>,
    /// The values behind the decision, as recorded with the request.
    pub evidence: Evidence,
    /// What the dialog's dry run showed, recorded with the request.
    pub preview: Vec<String>,
    pub steps: Vec<PlannedStep>,
    pub steps_done: Vec<(String, bool, String)>,
    /// When the step in progress started (the request, then each step's end).
    pub step_started: Option<Time>,
    pub confirmed: Option<String>,
    pub override_reason: Option<String>,
    /// The operator's reason, for actions that ask for one.
    pub reason: Option<String>,
    pub outcome: Outcome,
    /// The lead saw how it ended (rollbacks stay on the banner until then).
    pub acknowledged: bool,
    /// Two-person rule: where its approval by a second operator stands (`None`: it needs none).
    pub approval: Option<ApprovalState>,
}

/// Where an action's approval by a second operator stands (the two-person rule).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ApprovalState {
    /// Waiting for another operator: nothing of the action runs meanwhile.
    Awaiting,
    /// Approved, with the gate's checks as the approver's console showed them.
    Approved {
        operator: String,
        at: Time,
        checks: Vec<Check>,
        /// The lead's console that carries it out (`approval_carried_out`), once it does.
        carried_out_by: Option<String>,
    },
    /// Rejected: the action is not taken.
    Rejected { operator: String, at: Time },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    pub go: bool,
    pub operator: String,
    pub role: String,
    pub at: Time,
    pub reason: Option<String>,
    /// Why a GO no longer holds (an item it was signed on was unticked).
    pub withdrawn: Option<String>,
}

impl Decision {
    /// A GO that still holds.
    pub fn is_go(&self) -> bool {
        self.go && self.withdrawn.is_none()
    }
}

/// Team mode: the console that leads the rollout (writes its log), and since when.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Lead {
    pub operator: String,
    pub since: Time,
    /// Its session ended (the console quit): nobody leads until the next console opens.
    pub ended: bool,
    /// It handed the lead to this operator (who leads once their console opens as lead).
    pub handed_to: Option<String>,
}

/// The whole state. Clone is cheap enough for replay snapshots.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct State {
    pub now: Option<Time>,
    pub session_started: Option<Time>,
    pub operator: String,
    pub mode: String,
    pub scenario: Option<String>,
    pub sessions: usize,
    /// Team mode: who leads the rollout (`None` in a log no lead was ever taken in: a file
    /// written by one console).
    pub lead: Option<Lead>,
    pub phases: Vec<PhaseState>,
    /// `(checklist id, item id)` → who ticked it and when. Phase checklists use the phase id.
    #[serde(with = "pairs")]
    pub ticks: BTreeMap<(String, String), Tick>,
    pub decision: Option<Decision>,
    /// Rollout steps completed: 0 before the first, `steps.len()` at 100 %.
    pub rollout_step: usize,
    pub rollout_step_at: Option<Time>,
    /// A rollback undid the canary: the next rollout step re-arms it from the first step.
    pub rearm: bool,
    /// The highest rollout step's percent that succeeded.
    pub rollout_max: u32,
    /// The auto-abort countdown running now.
    pub abort: Option<Countdown>,
    /// Auto-abort rules that fired or were cancelled, and when: such a rule arms again only
    /// on an alert that fired after that.
    pub abort_latched: BTreeMap<usize, Time>,
    /// Servers that stopped answering: address → since when and why.
    pub servers_down: BTreeMap<String, ServerDown>,
    /// Each source's last reading, which an `unchanged` reading repeats.
    pub last_reading: BTreeMap<SourceRef, Observation>,
    /// Time spent at each rollout step index (for the post-mortem).
    pub flags: BTreeMap<String, serde_json::Value>,
    pub flags_at: Option<Time>,
    /// What the flag server says of each flag's feature (Unleash), as last read.
    pub flag_views: BTreeMap<String, FlagView>,
    pub pools: PoolsState,
    pub metrics: BTreeMap<String, MetricState>,
    /// Since when each condition the runbook holds on a metric (an exit gate's, a
    /// `wait_until`'s; keyed by `Hold::key`) has been met by every reading, without a break.
    pub holding: BTreeMap<String, Time>,
    /// When each one-shot SQL check was last asked for (`sql_check_asked`): only an answer
    /// after that counts.
    pub sql_asked: BTreeMap<String, Time>,
    pub alerts: Vec<AlertRecord>,
    pub migration: Option<MigrationObs>,
    pub backup: Option<String>,
    /// Failing sources: name → (message, since, the observation source that reported it).
    pub source_errors: BTreeMap<SourceRef, (String, Time, SourceRef)>,
    pub actions: Vec<ActionRecord>,
    pub blocked: usize,
    /// Each blocked attempt, with the checks the operator saw.
    pub blocked_attempts: Vec<BlockedAttempt>,
    pub events: u64,
}

impl State {
    pub fn new(rb: &Runbook) -> State {
        State {
            now: None,
            session_started: None,
            operator: String::new(),
            mode: String::new(),
            scenario: None,
            sessions: 0,
            lead: None,
            phases: rb
                .phases
                .iter()
                .map(|_| PhaseState {
                    status: PhaseStatus::Pending,
                    started: None,
                    ended: None,
                    failed: None,
                })
                .collect(),
            ticks: BTreeMap::new(),
            decision: None,
            rollout_step: 0,
            rollout_step_at: None,
            rearm: false,
            rollout_max: 0,
            abort: None,
            abort_latched: Default::default(),
            servers_down: BTreeMap::new(),
            last_reading: BTreeMap::new(),
            flags: rb
                .flags
                .iter()
                .map(|f| (f.id.value.clone(), f.initial.value.clone()))
                .collect(),
            flags_at: None,
            flag_views: BTreeMap::new(),
            pools: PoolsState::default(),
            metrics: rb
                .metrics
                .iter()
                .map(|m| (m.id.value.clone(), MetricState::default()))
                .collect(),
            holding: BTreeMap::new(),
            sql_asked: BTreeMap::new(),
            alerts: Vec::new(),
            migration: None,
            backup: None,
            source_errors: BTreeMap::new(),
            actions: Vec::new(),
            blocked: 0,
            blocked_attempts: Vec::new(),
            events: 0,
        }
    }

    /// The phase that is running, if any.
    pub fn current_phase(&self) -> Option<usize> {
        self.phases
            .iter()
            .position(|p| p.status == PhaseStatus::Active)
    }

    /// The rollout percent as the rollout flag says it (`10`, `10.0` and `"10"` alike).
    pub fn rollout_percent(&self, rb: &Runbook) -> u32 {
        self.flags
            .get(&rb.rollout.flag.value)
            .and_then(percent_of)
            .unwrap_or(0)
    }

    /// The share of traffic the rollout's pool takes: what the load balancer reports (or a
    /// step's read-back), else the rollout flag; under a flag-only canary (`split: flag`), the
    /// flag until the pool is made active.
    pub fn traffic_share(&self, rb: &Runbook) -> u32 {
        if self.split_by_flag(rb) {
            return self.rollout_percent(rb);
        }
        self.pools
            .traffic(rb.rollout.pool)
            .unwrap_or_else(|| self.rollout_percent(rb))
    }

    /// Whether the rollout flag, not the load balancer, splits the traffic now: a flag-only
    /// canary (`split: flag`) until its pool is made the load balancer's active one. The
    /// screen then says the share is "by flag" and the active pool is the load balancer's.
    pub fn split_by_flag(&self, rb: &Runbook) -> bool {
        rb.rollout.split == crate::runbook::Split::Flag
            && self.pools.active != Some(rb.rollout.pool)
    }

    /// Whether the pools' reading is recent (three monitoring intervals).
    pub fn pools_fresh(&self, rb: &Runbook) -> bool {
        self.age(self.pools.observed_at)
            .is_some_and(|a| a <= rb.monitoring.every() * 3)
    }

    /// The action that has been requested and has no outcome yet.
    pub fn running(&self) -> Option<&ActionRecord> {
        self.actions
            .iter()
            .rev()
            .find(|a| a.outcome == Outcome::Running)
    }

    /// The action that waits for a second operator's approval, if one does.
    pub fn awaiting_approval(&self) -> Option<&ActionRecord> {
        self.running()
            .filter(|a| a.approval == Some(ApprovalState::Awaiting))
    }

    /// The firing alerts nobody has acknowledged yet.
    pub fn unacknowledged_alerts(&self) -> impl Iterator<Item = &AlertRecord> {
        self.alerts
            .iter()
            .filter(|a| a.resolved_at.is_none() && a.acknowledged_by.is_none())
    }

    pub fn next_action_id(&self) -> u64 {
        self.actions.last().map(|a| a.id + 1).unwrap_or(1)
    }

    pub fn ticked(&self, list: &str, item: &str) -> Option<&Tick> {
        self.ticks.get(&(list.to_string(), item.to_string()))
    }

    /// The state of a metric now: ok, warning, critical (by value) or stale.
    pub fn metric_level(&self, rb: &Runbook, id: &str) -> MetricLevel {
        let (Some(m), Some(st)) = (rb.metric(id), self.metrics.get(id)) else {
            return MetricLevel::Stale;
        };
        // A one-shot SQL check is read once, not polled: its answer does not go stale.
        if self.is_stale(rb, st) && !(m.is_once() && st.last.is_some()) {
            return MetricLevel::Stale;
        }
        match st.last {
            None => MetricLevel::Stale,
            Some(v) => match level_of(m, v) {
                Level::Ok => MetricLevel::Ok,
                Level::Warning => MetricLevel::Warning,
                Level::Critical => MetricLevel::Critical,
            },
        }
    }

    /// A value is stale when its source failed or it is older than three intervals.
    pub fn is_stale(&self, rb: &Runbook, st: &MetricState) -> bool {
        match (st.last_at, self.now) {
            (Some(at), Some(now)) => {
                st.last.is_none()
                    || (now - at).to_std().unwrap_or_default() > rb.monitoring.every() * 3
            }
            _ => true,
        }
    }

    pub fn age(&self, at: Option<Time>) -> Option<Duration> {
        Some((self.now? - at?).to_std().unwrap_or_default())
    }

    /// How long phase `i` took, or has taken so far while it runs.
    pub fn phase_took(&self, i: usize) -> Option<Duration> {
        let p = self.phases.get(i)?;
        let end = match p.status {
            PhaseStatus::Active => self.now,
            _ => p.ended,
        };
        Some((end? - p.started?).to_std().unwrap_or_default())
    }

    /// The last rollback, once it has ended, until the lead acknowledges how it ended.
    pub fn unacknowledged_rollback(&self) -> Option<&ActionRecord> {
        self.actions
            .iter()
            .rev()
            .find(|a| matches!(a.action, Action::Rollback { .. }))
            .filter(|a| a.outcome != Outcome::Running && !a.acknowledged)
    }

    pub fn firing(&self) -> impl Iterator<Item = &AlertRecord> {
        self.alerts.iter().filter(|a| a.resolved_at.is_none())
    }

    pub fn critical_firing(&self) -> impl Iterator<Item = &AlertRecord> {
        self.firing().filter(|a| a.level == Level::Critical)
    }

    /// What quitting the console now would leave unattended, in words: an action still
    /// running, an auto-abort counting down, a critical alert firing. `None` when nothing is in
    /// flight and quitting needs no second thought.
    pub fn in_flight(&self, rb: &Runbook) -> Option<String> {
        if let Some(a) = self.running() {
            return Some(format!("`{}` is still running", a.action.word()));
        }
        if self.abort.is_some() {
            return Some("an auto-abort is counting down".into());
        }
        let a = self.critical_firing().next()?;
        let name = rb
            .metric(&a.metric)
            .map_or(a.metric.as_str(), |m| m.name.as_str());
        Some(format!("{name} is critical"))
    }
}

/// A percentage as a flag API may send it: `10`, `10.0`, `"10"`.
pub fn percent_of(v: &serde_json::Value) -> Option<u32> {
    let f = match v {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok()?,
        _ => return None,
    };
    (f.is_finite() && f >= 0.0).then(|| f.round().min(100.0) as u32)
}
