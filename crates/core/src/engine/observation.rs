//! Observations: what the sources read (metric values, pools, flags, migrations, their own
//! failures), as one `observed` audit record each.

use crate::runbook::PoolName;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn is_false(b: &bool) -> bool {
    !*b
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
