//! Events: every change of state, as recorded in the audit log. The `kind` tag is the audit
//! record's kind, so code, screen and log use one name for one thing.

use crate::runbook::{PoolName, StepAction};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type Time = DateTime<Utc>;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    SessionStarted {
        operator: String,
        mode: String,
        runbook: String,
        runbook_sha256: String,
        #[serde(default)]
        scenario: Option<String>,
        #[serde(default)]
        speed: Option<f64>,
        /// The log did not verify and was continued knowingly (`--continue-unverified`):
        /// what verify said, and where the old head file went.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        continued_unverified: Option<String>,
    },
    SessionEnded {
        operator: String,
    },
    /// What the sources reported: metric values, pools, flags, migrations.
    Observed(Observation),
    ChecklistTicked {
        checklist: String,
        item: String,
        by: String,
    },
    ChecklistUnticked {
        checklist: String,
        item: String,
        by: String,
    },
    /// Intent: written before the action runs, with the gate's checks and the evidence.
    ActionRequested {
        id: u64,
        action: Action,
        by: String,
        checks: Vec<Check>,
        evidence: Evidence,
        /// What will run, in order.
        steps: Vec<PlannedStep>,
        /// What a dry run said the steps would change, as the dialog showed it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        preview: Vec<String>,
        /// The operator's reason, for actions that ask for one (skipping a failed step).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The operator typed the confirmation phrase.
    ActionConfirmed {
        id: u64,
        phrase: String,
    },
    /// The operator overrode failing checks, with a reason.
    ActionOverridden {
        id: u64,
        reason: String,
    },
    /// A running action was stopped before it finished (a rollback took over); the steps
    /// recorded before this are what was done.
    ActionCancelled {
        id: u64,
        by: String,
        reason: String,
    },
    /// The operator tried an action whose gate failed; nothing ran.
    ActionBlocked {
        action: Action,
        by: String,
        checks: Vec<Check>,
        evidence: Evidence,
    },
    StepFinished {
        id: u64,
        step: usize,
        name: String,
        ok: bool,
        output: String,
    },
    ActionSucceeded {
        id: u64,
        detail: String,
    },
    ActionFailed {
        id: u64,
        error: String,
    },
    /// Found on start: an action was requested but no outcome was recorded.
    ActionOutcomeUnknown {
        id: u64,
    },
    /// Go/no-go signed.
    Decision {
        go: bool,
        by: String,
        role: String,
        /// Why (a NO-GO asks for one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The GO no longer holds: an item of a checklist it was signed on was unticked.
    DecisionWithdrawn {
        by: String,
        reason: String,
    },
    /// An auto-abort rule's condition held: its procedure runs when the countdown ends,
    /// unless the lead cancels it.
    AbortArmed {
        rule: usize,
        procedure: String,
        /// What triggered it, in words (metric, value, threshold).
        cause: String,
        countdown_secs: u64,
    },
    /// The lead stopped the countdown, with a reason.
    AbortCancelled {
        rule: usize,
        by: String,
        reason: String,
    },
    /// The countdown ran out: the procedure's request follows.
    AbortExpired {
        rule: usize,
    },
    /// The lead saw how a rollback ended (clears its result from the banner).
    RollbackAcknowledged {
        id: u64,
        by: String,
    },
    /// A pool server stopped answering its health check.
    ServerDown {
        pool: PoolName,
        address: String,
        error: String,
    },
    /// A server that was down answers again.
    ServerUp {
        pool: PoolName,
        address: String,
    },
    PhaseStarted {
        phase: String,
    },
    PhaseCompleted {
        phase: String,
    },
    AlertFired {
        metric: String,
        level: Level,
        value: Option<f64>,
        threshold: f64,
    },
    AlertResolved {
        metric: String,
        level: Level,
        value: Option<f64>,
    },
}

impl Event {
    /// The audit kind, as stored in the `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::SessionStarted { .. } => "session_started",
            Event::SessionEnded { .. } => "session_ended",
            Event::Observed(_) => "observed",
            Event::ChecklistTicked { .. } => "checklist_ticked",
            Event::ChecklistUnticked { .. } => "checklist_unticked",
            Event::ActionRequested { .. } => "action_requested",
            Event::ActionConfirmed { .. } => "action_confirmed",
            Event::ActionOverridden { .. } => "action_overridden",
            Event::ActionCancelled { .. } => "action_cancelled",
            Event::ActionBlocked { .. } => "action_blocked",
            Event::StepFinished { .. } => "step_finished",
            Event::ActionSucceeded { .. } => "action_succeeded",
            Event::ActionFailed { .. } => "action_failed",
            Event::ActionOutcomeUnknown { .. } => "action_outcome_unknown",
            Event::Decision { .. } => "decision",
            Event::DecisionWithdrawn { .. } => "decision_withdrawn",
            Event::AbortArmed { .. } => "abort_armed",
            Event::AbortCancelled { .. } => "abort_cancelled",
            Event::AbortExpired { .. } => "abort_expired",
            Event::RollbackAcknowledged { .. } => "rollback_acknowledged",
            Event::ServerDown { .. } => "server_down",
            Event::ServerUp { .. } => "server_up",
            Event::PhaseStarted { .. } => "phase_started",
            Event::PhaseCompleted { .. } => "phase_completed",
            Event::AlertFired { .. } => "alert_fired",
            Event::AlertResolved { .. } => "alert_resolved",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Ok,
    Warning,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }
}

/// An operator action, as the gate sees it and the audit log records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Move the canary to rollout step `step` (1-based) at `percent`.
    RolloutStep {
        step: usize,
        percent: u32,
    },
    /// Complete phase `from` (if any) and start phase `to` (if any).
    Advance {
        from: Option<String>,
        to: Option<String>,
    },
    FlipFlag {
        flag: String,
        to: serde_json::Value,
    },
    SwitchPool {
        to: PoolName,
    },
    Rollback {
        procedure: String,
    },
    GoNoGo {
        go: bool,
    },
    /// Run a failed phase's steps again, from step `from` (0-based, of its planned steps).
    RetryPhase {
        phase: String,
        from: usize,
    },
    /// Skip a failed phase's step `step` (with a reason) and run the ones after it.
    SkipStep {
        phase: String,
        step: usize,
    },
}

impl Action {
    /// A short label for the screen and the post-mortem.
    pub fn label(&self) -> String {
        match self {
            Action::RolloutStep { percent, .. } => format!("rollout to {percent} %"),
            Action::Advance { from, to } => match (from, to) {
                (None, Some(t)) => format!("start phase {t}"),
                (Some(f), Some(t)) => format!("complete {f}, start {t}"),
                (Some(f), None) => format!("complete {f} (last phase)"),
                (None, None) => "advance".to_string(),
            },
            Action::FlipFlag { flag, to } => format!("set {flag} = {to}"),
            Action::SwitchPool { to } => format!("switch traffic to {to}"),
            Action::Rollback { procedure } => format!("rollback {procedure}"),
            Action::GoNoGo { go } => {
                if *go {
                    "sign GO".to_string()
                } else {
                    "sign NO-GO".to_string()
                }
            }
            Action::RetryPhase { phase, from } => {
                format!("retry {phase} from step {}", from + 1)
            }
            Action::SkipStep { phase, step } => format!("skip step {} of {phase}", step + 1),
        }
    }

    /// The word an override phrase names the action by: `override <word>`.
    pub fn word(&self) -> String {
        match self {
            Action::RolloutStep { percent, .. } => format!("rollout {percent}"),
            Action::Advance { .. } => "advance".into(),
            Action::FlipFlag { flag, .. } => format!("flip {flag}"),
            Action::SwitchPool { to } => format!("switch {to}"),
            Action::Rollback { procedure } => format!("rollback {procedure}"),
            Action::GoNoGo { go: true } => "go".into(),
            Action::GoNoGo { go: false } => "no-go".into(),
            Action::RetryPhase { phase, .. } => format!("retry {phase}"),
            Action::SkipStep { phase, .. } => format!("skip {phase}"),
        }
    }
}

/// One gate check with its evidence (the value and the threshold behind the verdict).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Check {
    pub name: String,
    pub pass: bool,
    pub evidence: String,
    /// What kind of check this is (`no_critical_alert`, `bake`, `go_signed` …): the name a
    /// runbook's `no_override` uses. Empty in logs written before it existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// False when no override may pass this check while it fails.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub overridable: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A step an action will run through an adapter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedStep {
    pub name: String,
    pub action: StepAction,
}

/// The values behind a decision, snapshotted into the audit record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Evidence {
    pub rollout_percent: u32,
    pub active_pool: Option<PoolName>,
    pub green_weight: Option<u32>,
    pub flags: BTreeMap<String, serde_json::Value>,
    /// Healthy servers of each pool, as `healthy/total`.
    pub pools: BTreeMap<String, String>,
    /// Each metric's last value and its state (ok, warning, critical, stale).
    pub metrics: BTreeMap<String, MetricEvidence>,
    pub alerts_firing: Vec<String>,
    pub migration_version: Option<i64>,
    pub migration_dirty: Option<bool>,
    pub phase: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricEvidence {
    pub value: Option<f64>,
    pub state: String,
}

/// One reading of the sources.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Observation {
    pub source: String,
    /// Metric id → value; `None` when the source failed for it.
    #[serde(default)]
    pub metrics: BTreeMap<String, Option<f64>>,
    #[serde(default)]
    pub pools: Option<PoolsObs>,
    #[serde(default)]
    pub flags: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub migration: Option<MigrationObs>,
    #[serde(default)]
    pub backup: Option<String>,
    /// Source failures: `(source, message)`.
    #[serde(default)]
    pub errors: Vec<SourceError>,
    /// Earlier samples, oldest first, that fill a metric's sparkline when a session starts
    /// (from a Prometheus range query). They set no current value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub history: BTreeMap<String, Vec<Option<f64>>>,
    /// The source answered exactly what it answered last time: its last reading holds again,
    /// now. (Unchanged readings are not stored twice.)
    #[serde(default, skip_serializing_if = "is_false")]
    pub unchanged: bool,
}

impl Observation {
    /// The same reading, told again.
    pub fn unchanged(source: &str) -> Observation {
        Observation {
            source: source.to_string(),
            unchanged: true,
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceError {
    pub source: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PoolsObs {
    pub active: Option<PoolName>,
    pub green_weight: Option<u32>,
    #[serde(default)]
    pub blue: Vec<ServerObs>,
    #[serde(default)]
    pub green: Vec<ServerObs>,
    /// The pools whose server list is a whole reading: for them an empty list means the pool
    /// has no servers (all its pods went away). For the others (a load balancer's reading,
    /// older logs) an empty list means the source does not report servers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub complete: Vec<PoolName>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServerObs {
    pub address: String,
    pub healthy: bool,
    pub latency_ms: Option<f64>,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MigrationObs {
    pub version: Option<i64>,
    pub dirty: bool,
    #[serde(default)]
    pub in_progress: bool,
}
