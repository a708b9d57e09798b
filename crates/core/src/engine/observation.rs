//! Observations: what the sources read (metric values, pools, flags, migrations, their own
//! failures), as one `observed` audit record each.

use crate::runbook::PoolName;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn is_false(b: &bool) -> bool {
    !*b
}

/// A source: something read every interval. Recorded by its snake_case name (`prometheus`,
/// `flags`, `lb`, …), as logs have always named it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SourceId {
    /// Metrics by PromQL.
    Prometheus,
    /// The flag API.
    Flags,
    /// The load balancer (its API, HAProxy's socket or nginx's configuration).
    Lb,
    /// Pool servers' health endpoints.
    Health,
    /// Metrics by SQL.
    Postgres,
    /// Kubernetes (pods, Deployments, Services).
    Kube,
    /// The simulator.
    #[default]
    Sim,
}

impl SourceId {
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Where a reading or an error comes from: the source, and the part of it when it is one of
/// several (a Deployment of `kube`, a check of `postgres`, Prometheus's `history`). Recorded as
/// one string, `kube` or `kube:backend-green`, as logs have always written it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SourceRef {
    pub source: SourceId,
    pub part: Option<String>,
}

impl SourceRef {
    pub fn part(source: SourceId, part: impl Into<String>) -> SourceRef {
        SourceRef {
            source,
            part: Some(part.into()),
        }
    }
}

impl From<SourceId> for SourceRef {
    fn from(source: SourceId) -> SourceRef {
        SourceRef { source, part: None }
    }
}

impl TryFrom<String> for SourceRef {
    type Error = String;
    fn try_from(s: String) -> Result<SourceRef, String> {
        let (id, part) = match s.split_once(':') {
            Some((id, part)) => (id, Some(part.to_string())),
            None => (s.as_str(), None),
        };
        let source = id
            .parse()
            .map_err(|_| format!("unknown source `{id}` in a source error"))?;
        Ok(SourceRef { source, part })
    }
}

impl From<SourceRef> for String {
    fn from(e: SourceRef) -> String {
        e.to_string()
    }
}

impl Default for SourceRef {
    fn default() -> SourceRef {
        SourceId::default().into()
    }
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.part {
            Some(p) => write!(f, "{}:{p}", self.source),
            None => write!(f, "{}", self.source),
        }
    }
}

/// One reading of the sources.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Observation {
    pub source: SourceRef,
    /// Metric id → value; `None` when the source failed for it.
    #[serde(default)]
    pub metrics: BTreeMap<String, Option<f64>>,
    #[serde(default)]
    pub pools: Option<PoolsObs>,
    #[serde(default)]
    pub flags: Option<BTreeMap<String, serde_json::Value>>,
    /// What a flag server says of each flag's feature beyond its value (Unleash: the
    /// environment, on or off, the rollout), by flag id. Absent from older logs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flag_views: BTreeMap<String, FlagView>,
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
    pub fn unchanged(source: SourceRef) -> Observation {
        Observation {
            source,
            unchanged: true,
            ..Default::default()
        }
    }
}

/// A flag's feature as its flag server sees it (Unleash: a feature in one environment).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FlagView {
    /// The flag server's kind (`unleash`).
    pub server: String,
    pub feature: String,
    pub environment: String,
    /// The feature is on in the environment.
    pub enabled: bool,
    /// The rollout of its `flexibleRollout` strategy, in percent; `None` without one.
    #[serde(default)]
    pub rollout: Option<u32>,
}

impl FlagView {
    /// `on, rollout 25 %` (or `off, no rollout strategy`): what the server says of the
    /// feature, in the words the flags pane and `warroom status` share.
    pub fn state(&self) -> String {
        format!(
            "{}, {}",
            if self.enabled { "on" } else { "off" },
            match self.rollout {
                Some(r) => format!("rollout {r} %"),
                None => "no rollout strategy".into(),
            }
        )
    }

    /// `unleash production`: which server and environment.
    pub fn place(&self) -> String {
        format!("{} {}", self.server, self.environment)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceError {
    pub source: SourceRef,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PoolsObs {
    pub active: Option<PoolName>,
    /// The share of traffic green takes, as the load balancer reports it (`green_weight` in
    /// logs written before the glossary named it).
    #[serde(alias = "green_weight")]
    pub green_share: Option<u32>,
    #[serde(default)]
    pub blue: Vec<ServerObs>,
    #[serde(default)]
    pub green: Vec<ServerObs>,
    /// The pools whose server list is a whole reading: for them an empty list means the pool
    /// has no servers (all its pods went away). For the others (a load balancer's reading,
    /// older logs) an empty list means the source does not report servers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub complete: Vec<PoolName>,
    /// What each pool really took since the load balancer's last change (HAProxy's backend
    /// session counters), when it counts; absent from older logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served: Option<Served>,
}

/// Sessions (requests, for HTTP) each pool took over a span, as the load balancer counted.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Served {
    pub blue: u64,
    pub green: u64,
}

impl Served {
    /// Green's part of what both took, in percent; `None` when they took nothing.
    pub fn green_percent(&self) -> Option<f64> {
        let total = self.blue + self.green;
        (total > 0).then(|| self.green as f64 * 100.0 / total as f64)
    }

    pub fn of(&self, p: PoolName) -> u64 {
        match p {
            PoolName::Blue => self.blue,
            PoolName::Green => self.green,
        }
    }
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
