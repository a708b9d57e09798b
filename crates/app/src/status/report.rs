//! The report of `warroom status`: what the engine's state says after one reading, as a tree of
//! plain values. Its derived `Serialize` is the JSON output, the keys of issue 4:
//! `{"phase", "rollout_percent", "flags", "pools", "metrics", "alerts", "migrations",
//! "replication_lag_seconds"}`, plus `"errors"` (the sources that failed) and `"unreadable"`.
//! `format` renders the same tree as text. Nothing here reads a source.

use crate::engine::{
    self, FlagView, Level, MetricLevel, MigrationObs, SourceError, State, Time, Unreadable,
};
use crate::runbook::{PoolName, Runbook, redact};
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// What `warroom status` says: the JSON, and the text's material.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReport {
    #[serde(skip)]
    pub runbook: String,
    #[serde(skip)]
    pub at: Time,
    pub phase: Option<String>,
    pub rollout_percent: Option<u32>,
    /// The flags as the flag API said them (or as last recorded); empty when never read.
    pub flags: BTreeMap<String, Value>,
    /// What the flag server itself says of each flag's feature (Unleash: environment, on or
    /// off, rollout), by flag id; absent for a server that says no more than the values.
    #[serde(rename = "flag_server", skip_serializing_if = "BTreeMap::is_empty")]
    pub flag_views: BTreeMap<String, FlagView>,
    /// Blue then green; an object keyed by pool name in the JSON.
    #[serde(serialize_with = "by_key")]
    pub pools: Vec<PoolStatus>,
    /// In the runbook's order; an object keyed by metric id in the JSON.
    #[serde(serialize_with = "by_key")]
    pub metrics: Vec<MetricStatus>,
    pub alerts: Vec<AlertStatus>,
    #[serde(rename = "migrations", serialize_with = "migrations")]
    pub migration: Option<MigrationObs>,
    #[serde(serialize_with = "round3")]
    pub replication_lag_seconds: Option<f64>,
    /// Sources that failed or are not configured, their secrets redacted.
    pub errors: Vec<SourceError>,
    /// What the rollout gate needs and this reading could not give, in words.
    pub unreadable: Vec<String>,
    /// Team mode (a rollout read from PostgreSQL, `--store`): who leads it, as the log says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead: Option<LeadStatus>,
    /// Team mode: the action waiting for a second operator's approval, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub awaiting_approval: Option<AwaitingStatus>,
}

/// Who leads a rollout, as its log says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadStatus {
    pub operator: String,
    #[serde(serialize_with = "rfc3339")]
    pub since: Option<Time>,
    /// The lead's console quit (`session_ended`): nobody leads until the next one opens.
    pub ended: bool,
}

/// An action awaiting a second operator's approval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AwaitingStatus {
    pub id: u64,
    pub action: String,
    pub requested_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolStatus {
    #[serde(skip)]
    pub name: PoolName,
    /// Whether the load balancer sends traffic to this pool; `None` when it was not read.
    pub active: Option<bool>,
    /// The pool's share of the traffic in percent; `None` when it was not read.
    pub weight: Option<u32>,
    pub servers: Vec<ServerStatus>,
    /// How many of `servers` answer their health check, as the engine counts them.
    #[serde(skip)]
    pub healthy: usize,
    /// What the load balancer really sent this pool since it started (HAProxy's session
    /// counters), when it counts: beside `weight`, the split as served.
    #[serde(rename = "served_since_start", skip_serializing_if = "Option::is_none")]
    pub served: Option<u64>,
    /// What the load balancer sent this pool since its last change (the state's reading),
    /// when it counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_since_change: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerStatus {
    pub address: String,
    pub healthy: bool,
    #[serde(serialize_with = "round3")]
    pub latency_ms: Option<f64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricStatus {
    #[serde(skip)]
    pub id: String,
    #[serde(skip)]
    pub name: String,
    pub value: Option<f64>,
    pub unit: String,
    pub state: MetricLevel,
    /// Seconds since the value was read; `None` when it never was.
    #[serde(serialize_with = "round3")]
    pub age_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertStatus {
    pub metric: String,
    pub level: Level,
    pub value: Option<f64>,
    pub threshold: f64,
    /// When it fired; `None` for a threshold crossed now whose alert has not fired yet.
    #[serde(serialize_with = "rfc3339")]
    pub since: Option<Time>,
    /// For a threshold crossed now: how long the value must stay beyond it before the alert
    /// fires (the metric's `for`, less what it has held). Not in the JSON.
    #[serde(skip)]
    pub fires_in: Option<Duration>,
}

impl StatusReport {
    /// Describe `st`, the state with this reading folded in.
    pub(super) fn new(
        rb: &Runbook,
        st: &State,
        replication_lag_seconds: Option<f64>,
        at: Time,
    ) -> StatusReport {
        let now = st.now.unwrap_or(at);
        // The flags as read, in this reading or earlier in an audit log; not the runbook's
        // initial values when they never were.
        let flags = if st.flags_at.is_some() {
            st.flags.clone()
        } else {
            BTreeMap::new()
        };
        let rollout_percent = flags
            .get(&rb.rollout.flag.value)
            .and_then(engine::percent_of);
        let metrics: Vec<MetricStatus> = rb
            .metrics
            .iter()
            .map(|m| {
                let ms = st.metrics.get(&m.id.value);
                MetricStatus {
                    id: m.id.value.clone(),
                    name: m.name.clone(),
                    value: ms.and_then(|s| s.last),
                    unit: m.unit.clone(),
                    state: st.metric_level(rb, &m.id.value),
                    age_seconds: ms
                        .and_then(|s| s.last_at)
                        .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0),
                }
            })
            .collect();
        let alerts = alerts(rb, st);
        let mut errors: Vec<SourceError> = st
            .source_errors
            .iter()
            .map(|(source, (message, _, _))| SourceError {
                source: source.clone(),
                message: redact(message),
            })
            .collect();
        errors.sort_by(|a, b| a.source.cmp(&b.source));
        let unreadable = engine::gate_unreadable(st, rb).iter().map(words).collect();
        StatusReport {
            runbook: rb.name.clone(),
            at: now,
            phase: st.current_phase().map(|i| rb.phases[i].id.value.clone()),
            rollout_percent,
            flags,
            flag_views: if st.flags_at.is_some() {
                st.flag_views.clone()
            } else {
                BTreeMap::new()
            },
            pools: [PoolName::Blue, PoolName::Green]
                .into_iter()
                .map(|p| pool(st, p))
                .collect(),
            metrics,
            alerts,
            migration: st.migration.clone(),
            replication_lag_seconds,
            errors,
            unreadable,
            lead: st.lead.as_ref().map(|l| LeadStatus {
                operator: l.operator.clone(),
                since: Some(l.since),
                ended: l.ended,
            }),
            awaiting_approval: st.awaiting_approval().map(|a| AwaitingStatus {
                id: a.id,
                action: a.action.label(),
                requested_by: a.operator.clone(),
            }),
        }
    }

    /// 0 when healthy; 1 when a metric is critical, a critical alert fires, or what the
    /// rollout gate needs cannot be read.
    pub fn exit_code(&self) -> u8 {
        let critical = self
            .metrics
            .iter()
            .any(|m| m.state == MetricLevel::Critical)
            || self
                .alerts
                .iter()
                .any(|a| a.level == Level::Critical && a.since.is_some());
        u8::from(critical || !self.unreadable.is_empty())
    }
}

fn pool(st: &State, p: PoolName) -> PoolStatus {
    PoolStatus {
        name: p,
        active: st.pools.active.map(|a| a == p),
        weight: st.pools.traffic(p),
        servers: st
            .pools
            .servers(p)
            .iter()
            .map(|s| ServerStatus {
                address: s.address.clone(),
                healthy: s.healthy,
                latency_ms: s.latency_ms,
                error: s.error.clone(),
            })
            .collect(),
        healthy: st.pools.healthy(p).0,
        served: None,
        served_since_change: st.pools.served.map(|s| s.of(p)),
    }
}

/// The alerts the engine has firing (each after its metric's `for`), with the metric's value
/// now; then the thresholds crossed now whose alert has not fired yet.
fn alerts(rb: &Runbook, st: &State) -> Vec<AlertStatus> {
    let firing = st.firing().map(|a| AlertStatus {
        metric: a.metric.clone(),
        level: a.level,
        value: engine::alert_value(st, a),
        threshold: a.threshold,
        since: Some(a.fired_at),
        fires_in: None,
    });
    let pending = engine::pending_alerts(st, rb)
        .into_iter()
        .map(|p| AlertStatus {
            metric: p.metric,
            level: p.level,
            value: Some(p.value),
            threshold: p.threshold,
            since: None,
            fires_in: Some(p.fires_in),
        });
    firing.chain(pending).collect()
}

/// What the rollout gate cannot read, in words, its errors redacted.
fn words(u: &Unreadable) -> String {
    let why = |e: &Option<String>| e.as_deref().map_or("never read".into(), redact);
    match u {
        Unreadable::Metric(id) => format!("metric {id} (no fresh value)"),
        Unreadable::Flags(e) => format!("flags ({})", why(e)),
        Unreadable::LoadBalancer(e) => format!("load balancer ({})", why(e)),
        Unreadable::PoolHealth(pool) => format!("{pool} pool health (no reading)"),
    }
}

// How some fields are written in the JSON.

/// A list as an object, each item under its own key.
trait Keyed {
    fn key(&self) -> &str;
}

impl Keyed for PoolStatus {
    fn key(&self) -> &str {
        self.name.as_str()
    }
}

impl Keyed for MetricStatus {
    fn key(&self) -> &str {
        &self.id
    }
}

fn by_key<T: Keyed + Serialize, S: Serializer>(items: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(items.iter().map(|i| (i.key(), i)))
}

/// To the thousandth (a non-finite value is `null`, as every number here).
fn round3<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    v.map(|x| (x * 1000.0).round() / 1000.0).serialize(s)
}

/// RFC 3339 with `+00:00`, as `to_rfc3339` writes it (chrono's own `Serialize` writes `Z`).
fn rfc3339<S: Serializer>(t: &Option<Time>, s: S) -> Result<S::Ok, S::Error> {
    t.map(|t| t.to_rfc3339()).serialize(s)
}

/// `{"version", "dirty"}`, both `null` when the database was not read.
fn migrations<S: Serializer>(m: &Option<MigrationObs>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Migrations {
        version: Option<i64>,
        dirty: Option<bool>,
    }
    Migrations {
        version: m.as_ref().and_then(|m| m.version),
        dirty: m.as_ref().map(|m| m.dirty),
    }
    .serialize(s)
}
