//! Operator actions as the gate sees them and the audit log records them: the action, the
//! checks its gate ran, the steps it plans and the evidence snapshotted with the decision.

use crate::runbook::{CheckKey, PoolName, StepKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An operator action, as the gate sees it and the audit log records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Move the canary to rollout step `step` (1-based) at `percent`.
    RolloutStep {
        step: usize,
        percent: u32,
    },
    /// Complete phase `from` (if any) and start phase `to` (if any). Recorded as `advance` in
    /// logs written before the glossary named it.
    #[serde(alias = "advance")]
    PhaseChange {
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
            Action::PhaseChange { from, to } => match (from, to) {
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

    /// Why its dialog asks for a typed phrase: a GO is a signature, the rest are guarded
    /// because they change production in a way that is hard to take back.
    pub fn phrase_reason(&self) -> &'static str {
        match self {
            Action::GoNoGo { .. } => "A signed decision",
            _ => "Destructive",
        }
    }

    /// The word an override phrase names the action by: `override <word>`.
    pub fn word(&self) -> String {
        match self {
            Action::RolloutStep { percent, .. } => format!("rollout {percent}"),
            Action::PhaseChange { .. } => "advance".into(),
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
    /// runbook's `no_override` uses. Absent in logs written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<CheckKey>,
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

/// A step an action will run through an adapter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedStep {
    pub name: String,
    /// What the step does (`action` in logs written before the glossary named it).
    #[serde(alias = "action")]
    pub kind: StepKind,
}

/// The values behind a decision, snapshotted into the audit record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Evidence {
    pub rollout_percent: u32,
    pub active_pool: Option<PoolName>,
    /// The share of traffic green takes, as the load balancer reports it (`green_weight` in
    /// logs written before the glossary named it).
    #[serde(alias = "green_weight")]
    pub green_share: Option<u32>,
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

impl Evidence {
    /// What the room stood at when the decision was taken, in words: the traffic share, the
    /// active pool, each pool's health, the alerts firing, the phase and the migration.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!("rollout {} %", self.rollout_percent)];
        if let Some(p) = self.active_pool {
            parts.push(format!("active {}", p.as_str().to_uppercase()));
        }
        if !self.pools.is_empty() {
            let pools: Vec<String> = self
                .pools
                .iter()
                .map(|(p, h)| format!("{p} {h} healthy"))
                .collect();
            parts.push(pools.join(", "));
        }
        parts.push(if self.alerts_firing.is_empty() {
            "no alert firing".to_string()
        } else {
            format!("alerts firing: {}", self.alerts_firing.join(", "))
        });
        if let Some(p) = &self.phase {
            parts.push(format!("phase {p}"));
        }
        if let Some(v) = self.migration_version {
            let dirty = if self.migration_dirty == Some(true) {
                "DIRTY"
            } else {
                "clean"
            };
            parts.push(format!("migration {v} {dirty}"));
        }
        parts.join(" · ")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricEvidence {
    pub value: Option<f64>,
    pub state: String,
}
