//! The runbook's safety rules: the gate checks no override may pass (`no_override`, with the
//! kinds of check and action it names) and the auto-abort rules (`abort_on`).

use super::Ref;
use super::dur;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::time::Duration;
use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

/// Who must agree before an action runs (`approval:` on a phase, a rollout step, a flag, a
/// pool, the go/no-go or a procedure): `two-person`, a second operator approves it from their
/// own console (team mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Approval {
    #[serde(rename = "two-person")]
    TwoPerson,
}

/// The kind of a gate check: what a runbook's `no_override` names and what the audit log
/// records as a check's `key`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumIter,
    EnumString,
    IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CheckKey {
    NoCriticalAlert,
    GoSigned,
    Checklist,
    Bake,
    Metric,
    PoolHealthy,
    Flag,
    Route,
    PhaseActive,
    RolloutComplete,
    PhaseSteps,
    MigrationVersion,
    /// A condition of the phase's exit gate has held for its time.
    ExitGate,
    /// A one-shot SQL check of the phase, run when completing it, met its condition.
    SqlCheck,
    /// No other action is running. Never overridable, so never named by `no_override`.
    Idle,
    /// The procedure asked for exists. Never overridable, so never named by `no_override`.
    Procedure,
}

impl CheckKey {
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// What a check of this kind asks, in words.
    pub fn meaning(self) -> &'static str {
        match self {
            CheckKey::NoCriticalAlert => "no critical alert is firing",
            CheckKey::GoSigned => "the go/no-go is signed GO (and not withdrawn)",
            CheckKey::Checklist => "a checklist is complete",
            CheckKey::Bake => "the previous rollout step has baked for its time",
            CheckKey::Metric => "a gate metric is not critical nor stale",
            CheckKey::PoolHealthy => "the pool that takes traffic is healthy, by a fresh reading",
            CheckKey::Flag => "a flag the rollout requires has its value",
            CheckKey::Route => "a system that can make the change is answering",
            CheckKey::PhaseActive => "the rollout's phase is running",
            CheckKey::RolloutComplete => "the rollout reached its last step",
            CheckKey::PhaseSteps => "the phase's steps all succeeded",
            CheckKey::MigrationVersion => "the database is at the phase's migration version",
            CheckKey::ExitGate => "a condition of the phase's exit gate has held for its time",
            CheckKey::SqlCheck => "a one-shot SQL check of the phase answered within its condition",
            CheckKey::Idle => "no other action is running",
            CheckKey::Procedure => "the procedure exists",
        }
    }

    /// The kinds a runbook's `no_override` may name: the others are never overridable.
    pub fn nameable() -> impl Iterator<Item = CheckKey> {
        CheckKey::iter().filter(|k| !matches!(k, CheckKey::Idle | CheckKey::Procedure))
    }
}

/// The kind of an operator action, as a runbook's `no_override` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, EnumString, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum ActionKind {
    Rollout,
    /// A phase change: the word is the key's (`a` advance).
    #[strum(serialize = "advance")]
    PhaseChange,
    Flip,
    Switch,
    Rollback,
    Go,
    Retry,
    Skip,
}

impl ActionKind {
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// A gate check that no override may pass while it fails.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoOverride {
    /// The kind of check (a `CheckKey`; checked by validation, kept as written for its place).
    pub check: Spanned<String>,
    /// Only for this kind of action (an `ActionKind`); default: every action.
    #[serde(default)]
    pub action: Option<Spanned<String>>,
    /// Only for rollout steps to this percent or more.
    #[serde(default)]
    pub percent: Option<u32>,
}

impl NoOverride {
    /// The kind of check it names (`None` only in a runbook that did not validate).
    pub fn key(&self) -> Option<CheckKey> {
        self.check.value.parse().ok()
    }

    /// The kind of action it is limited to, if any (`Some(None)` for an unknown name).
    pub fn action_kind(&self) -> Option<Option<ActionKind>> {
        self.action.as_ref().map(|a| a.value.parse().ok())
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum AbortLevel {
    Warning,
    #[default]
    Critical,
}

/// Auto-abort: when an alert at `level` has fired on one of `metrics` for `for`, during one of
/// `phases` (default: any) and at one of the rollout `percents` (default: any), a countdown
/// of `countdown` starts; at zero `procedure` runs as if the lead had confirmed it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbortRule {
    pub metrics: Vec<Ref>,
    #[serde(default)]
    pub level: AbortLevel,
    /// How long the alert must have been firing.
    #[serde(rename = "for", with = "dur", default = "zero")]
    pub r#for: Duration,
    #[serde(default)]
    pub phases: Vec<Ref>,
    /// Rollout steps (by percent) during which the rule holds.
    #[serde(default)]
    pub percents: Vec<u32>,
    pub procedure: Ref,
    #[serde(with = "dur", default = "one_minute")]
    pub countdown: Duration,
}

fn zero() -> Duration {
    Duration::ZERO
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}
