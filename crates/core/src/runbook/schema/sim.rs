//! What the simulator plays for a plan (`warroom demo`, `warroom rehearse`): a metric's own
//! signal (`simulate:`) when no built-in one fits, and the plan's own scenarios (`scenarios:`)
//! next to the built-in ones. `warroom run` ignores both.

use super::{PoolName, Ref, Runbook};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// A metric's simulated signal, as the runbook describes it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Simulate {
    /// The value at rest: blue's, and green's unless `green` says otherwise.
    pub base: f64,
    /// How much a reading moves around its value: ± this fraction of it.
    #[serde(default = "default_noise")]
    pub noise: f64,
    /// Green's own value. A reading blends blue's and green's by the share of traffic green
    /// takes (the rollout flag's share under a flag-only canary).
    #[serde(default)]
    pub green: Option<f64>,
}

fn default_noise() -> f64 {
    0.05
}

fn one() -> f64 {
    1.0
}

/// A fault of the plan's own (`warroom demo --scenario NAME`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: Spanned<String>,
    /// One line on what it plays, for `--help`-like listings and the audit's session line.
    #[serde(default)]
    pub about: String,
    /// The metric it moves: its reading (green's part, when its signal has one) becomes
    /// `(value + add) × times` while the scenario plays.
    #[serde(default)]
    pub metric: Option<Ref>,
    #[serde(default)]
    pub add: f64,
    #[serde(default = "one")]
    pub times: f64,
    /// A pool one of whose servers stops answering its health checks while it plays.
    #[serde(default)]
    pub server_down: Option<PoolName>,
    /// The phase whose start starts it (the simulator sees a phase start by its first
    /// `on_start` step). By default it starts when green first takes traffic.
    #[serde(default)]
    pub from: Option<Ref>,
}

impl Runbook {
    /// The plan's own scenario called `name`.
    pub fn scenario(&self, name: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.name.value == name)
    }
}
