//! Events: every change of state, as recorded in the audit log. The `kind` tag is the audit
//! record's kind, so code, screen and log use one name for one thing.

use super::action::{Action, Check, Evidence, PlannedStep};
use super::observation::Observation;
use crate::runbook::PoolName;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
