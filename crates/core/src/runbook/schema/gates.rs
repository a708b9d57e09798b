//! The runbook's safety rules: the gate checks no override may pass (`no_override`, with the
//! kinds of check and action it names) and the auto-abort rules (`abort_on`).

use super::Ref;
use super::dur;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::time::Duration;

/// The kinds of gate check, as `no_override` names them.
pub const CHECK_KEYS: &[(&str, &str)] = &[
    ("no_critical_alert", "no critical alert is firing"),
    ("go_signed", "the go/no-go is signed GO (and not withdrawn)"),
    ("checklist", "a checklist is complete"),
    ("bake", "the previous rollout step has baked for its time"),
    ("metric", "a gate metric is not critical nor stale"),
    (
        "pool_healthy",
        "the pool that takes traffic is healthy, by a fresh reading",
    ),
    ("flag", "a flag the rollout requires has its value"),
    ("route", "a system that can make the change is answering"),
    ("phase_active", "the rollout's phase is running"),
    ("rollout_complete", "the rollout reached its last step"),
    ("phase_steps", "the phase's steps all succeeded"),
    (
        "migration_version",
        "the database is at the phase's migration version",
    ),
];

/// The operator actions, as `no_override` names them.
pub const ACTION_KINDS: &[&str] = &[
    "rollout", "advance", "flip", "switch", "rollback", "go", "retry", "skip",
];

/// A gate check that no override may pass while it fails.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoOverride {
    /// The kind of check (see `CHECK_KEYS`).
    pub check: Spanned<String>,
    /// Only for this kind of action (see `ACTION_KINDS`); default: every action.
    #[serde(default)]
    pub action: Option<Spanned<String>>,
    /// Only for rollout steps to this percent or more.
    #[serde(default)]
    pub percent: Option<u32>,
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
