//! What is watched: the metrics with their thresholds and `for`, the success criteria, and how
//! often the sources are read (`monitoring`).

use super::Ref;
use super::dur;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Higher is worse (error rate, latency).
    #[default]
    Above,
    /// Lower is worse (cache hit rate, throughput).
    Below,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub id: Spanned<String>,
    pub name: String,
    pub group: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub direction: Direction,
    #[serde(default)]
    pub warning: Option<Spanned<f64>>,
    #[serde(default)]
    pub critical: Option<Spanned<f64>>,
    /// How long a threshold must be breached before its alert fires.
    #[serde(default = "default_for", with = "dur")]
    pub r#for: Duration,
    /// The simulator's signal for this metric (e.g. `error_rate`, `green.error_rate`).
    #[serde(default)]
    pub sim: Option<Spanned<String>>,
    /// A signal of the runbook's own for the simulator, when no built-in `sim:` fits.
    #[serde(default)]
    pub simulate: Option<Spanned<super::Simulate>>,
    /// The PromQL expression for this metric (`warroom run`).
    #[serde(default)]
    pub query: Option<String>,
    /// A read-only SQL query on `targets.database` that returns one number (`warroom run`),
    /// e.g. the difference of two row counts for "no data loss". Run in a read-only
    /// transaction.
    #[serde(default)]
    pub sql: Option<Spanned<String>>,
    /// Multiply the query's value by this (e.g. 100 for a ratio shown in %).
    #[serde(default = "one")]
    pub scale: f64,
    /// Where the value comes from when it is neither a `query` nor `sql`: a reading warroom
    /// takes itself (`postgres_replication`: how far the replica is behind, in seconds).
    #[serde(default)]
    pub from: Option<Spanned<Builtin>>,
    /// A one-shot SQL check: `sql` is run once, when the operator completes `phase`, not
    /// polled; its answer must meet `below` or `above` (a gate check on completing the phase).
    #[serde(default)]
    pub once: Option<Spanned<bool>>,
    /// The phase a one-shot SQL check is scoped to.
    #[serde(default)]
    pub phase: Option<Ref>,
    /// A one-shot SQL check passes when its answer is below this (strictly).
    #[serde(default)]
    pub below: Option<f64>,
    /// A one-shot SQL check passes when its answer is above this (strictly).
    #[serde(default)]
    pub above: Option<f64>,
}

/// A value warroom reads itself, named by a metric's `from`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Builtin {
    /// The replica's replay lag in seconds, from `targets.database` (PostgreSQL's
    /// `pg_stat_replication` on the primary, or the replay timestamp on a replica).
    PostgresReplication,
}

/// The id a replication-lag metric had to have, before `from:` said where a value comes from.
pub const LEGACY_LAG_ID: &str = "replication_lag";

impl Metric {
    /// Whether this is a one-shot SQL check (`once: true`): run when its phase completes,
    /// never polled.
    pub fn is_once(&self) -> bool {
        self.once.as_ref().is_some_and(|o| o.value)
    }

    /// A one-shot SQL check's phase and the condition its answer must meet.
    pub fn once_check(&self) -> Option<(&str, super::Hold)> {
        if !self.is_once() {
            return None;
        }
        Some((
            self.phase.as_ref()?.value.as_str(),
            super::Hold {
                metric: self.id.value.clone(),
                below: self.below,
                above: self.above,
                r#for: Duration::ZERO,
            },
        ))
    }

    /// The built-in reading this metric takes, if any: its `from`, or for a runbook written
    /// before `from` existed, a metric with the old lag id and neither `query` nor `sql`.
    pub fn builtin(&self) -> Option<Builtin> {
        match &self.from {
            Some(f) => Some(f.value),
            None if self.legacy_lag() => Some(Builtin::PostgresReplication),
            None => None,
        }
    }

    /// Read from PostgreSQL's replication only because of its id (a warning in `check`).
    pub fn legacy_lag(&self) -> bool {
        self.from.is_none()
            && self.id.value == LEGACY_LAG_ID
            && self.query.as_deref().is_none_or(|q| q.trim().is_empty())
            && self.sql.is_none()
    }
}

fn one() -> f64 {
    1.0
}

fn default_for() -> Duration {
    Duration::from_secs(60)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub text: String,
    pub group: String,
    /// A metric the criterion is measured on; without one it is judged by people.
    #[serde(default)]
    pub metric: Option<Ref>,
    #[serde(default)]
    pub below: Option<f64>,
    #[serde(default)]
    pub above: Option<f64>,
    /// Judge the criterion over every reading of this last stretch of the log (e.g. `30m`:
    /// met only if each reading in the last 30 minutes is); without one, by the last reading.
    #[serde(default)]
    pub window: Option<Spanned<Window>>,
}

/// A success criterion's window: a duration as the runbook writes it (`30m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window(pub Duration);

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        dur::deserialize(d).map(Window)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// How often sources are read (simulated or real clock).
    #[serde(default = "default_interval", with = "dur")]
    pub interval: Duration,
}

fn default_interval() -> Duration {
    Duration::from_secs(10)
}

/// The shortest interval sources are read at: a shorter one (zero included) reads at this.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

impl Monitoring {
    /// How often sources are read: the runbook's interval, never below `MIN_INTERVAL`.
    pub fn every(&self) -> Duration {
        self.interval.max(MIN_INTERVAL)
    }
}

impl Default for Monitoring {
    fn default() -> Self {
        Monitoring {
            interval: default_interval(),
        }
    }
}
