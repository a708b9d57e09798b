//! Steps: what a phase's `on_start` or a procedure asks a system to do, one action key each.

use super::PoolName;
use super::dur;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::time::Duration;

/// One step of a procedure: a name and exactly one action key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureStep {
    pub name: Spanned<String>,
    /// Skip this step unless the operator asks for it ("restore from backup if needed").
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub switch_pool: Option<PoolName>,
    #[serde(default)]
    pub set_flag: Option<SetFlagWritten>,
    /// Percent of traffic the load balancer sends to green.
    #[serde(default)]
    pub set_weights: Option<u32>,
    /// A load balancer server's admin state: `{ server: BACKEND/SERVER, state: drain }`.
    #[serde(default)]
    pub server_state: Option<ServerState>,
    #[serde(default)]
    pub set_image: Option<SetImage>,
    #[serde(default)]
    pub set_env: Option<SetEnv>,
    #[serde(default)]
    pub restart: Option<String>,
    #[serde(default)]
    pub wait_rollout: Option<String>,
    #[serde(default)]
    pub run: Option<RunStep>,
    /// Wait until a metric's condition has held for a time, failing the step at its timeout.
    #[serde(default)]
    pub wait_until: Option<Spanned<WaitUntil>>,
}

impl ProcedureStep {
    /// What the step does; a valid runbook names exactly one kind.
    pub fn kinds(&self) -> Vec<StepKind> {
        let mut v = Vec::new();
        if let Some(p) = self.switch_pool {
            v.push(StepKind::SwitchPool(p));
        }
        if let Some(f) = &self.set_flag {
            v.push(StepKind::SetFlag(f.step()));
        }
        if let Some(g) = self.set_weights {
            v.push(StepKind::SetWeights { green: g });
        }
        if let Some(x) = &self.server_state {
            v.push(StepKind::ServerState(x.clone()));
        }
        if let Some(x) = &self.set_image {
            v.push(StepKind::SetImage(x.clone()));
        }
        if let Some(x) = &self.set_env {
            v.push(StepKind::SetEnv(x.clone()));
        }
        if let Some(d) = &self.restart {
            v.push(StepKind::Restart {
                deployment: d.clone(),
            });
        }
        if let Some(d) = &self.wait_rollout {
            v.push(StepKind::WaitRollout {
                deployment: d.clone(),
            });
        }
        if let Some(r) = &self.run {
            v.push(StepKind::Run(r.clone()));
        }
        if let Some(w) = &self.wait_until {
            v.push(StepKind::WaitUntil(w.value.clone()));
        }
        v
    }

    pub fn kind(&self) -> StepKind {
        // validate() guarantees exactly one kind; an empty step is a no-op run.
        self.kinds()
            .into_iter()
            .next()
            .unwrap_or(StepKind::Run(RunStep {
                argv: Vec::new(),
                env: Default::default(),
                timeout: default_timeout(),
                expect_migration_version: None,
            }))
    }
}

/// A step's `set_flag` as written: each part with its place, so that `check` points at the
/// flag or the value at fault however the mapping is written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetFlagWritten {
    pub flag: Spanned<String>,
    pub value: Spanned<serde_json::Value>,
}

impl SetFlagWritten {
    /// What the step does.
    pub fn step(&self) -> SetFlag {
        SetFlag {
            flag: self.flag.value.clone(),
            value: self.value.value.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SetFlag {
    pub flag: String,
    pub value: serde_json::Value,
}

/// A load balancer server put in or out of service by an operator (HAProxy's
/// `set server BACKEND/SERVER state …`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerState {
    /// `BACKEND/SERVER`, as the load balancer names it.
    pub server: String,
    pub state: AdminState,
}

/// What an operator makes of a server: back in service, draining (no new sessions, the
/// current ones finish), or in maintenance (out).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AdminState {
    Ready,
    Drain,
    Maint,
}

impl AdminState {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminState::Ready => "ready",
            AdminState::Drain => "drain",
            AdminState::Maint => "maint",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SetImage {
    pub deployment: String,
    pub container: String,
    pub image: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SetEnv {
    pub deployment: String,
    pub container: String,
    pub name: String,
    pub value: String,
}

/// What a procedure step does. Each maps to one adapter call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Point the load balancer at a pool.
    SwitchPool(PoolName),
    /// Write a flag through the flag API.
    SetFlag(SetFlag),
    /// Set the load balancer's weights: `green` percent to green, the rest to blue.
    SetWeights { green: u32 },
    /// Drain a load balancer's server, put it in maintenance, or back in service.
    ServerState(ServerState),
    /// `kubectl set image`.
    SetImage(SetImage),
    /// `kubectl set env`.
    SetEnv(SetEnv),
    /// `kubectl rollout restart`.
    Restart { deployment: String },
    /// `kubectl rollout status`.
    WaitRollout { deployment: String },
    /// A shell command, as an argv list.
    Run(RunStep),
    /// Wait until a metric's condition has held for its time (decided by the engine from the
    /// readings, never by an adapter); failed at the timeout.
    WaitUntil(WaitUntil),
}

/// A condition on a metric, held for a time without a break: a phase's `exit_gate` entry, and
/// what a `wait_until` step waits for. Exactly one of `below` and `above`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Hold {
    pub metric: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    /// How long every reading must meet it (0: one reading is enough).
    #[serde(rename = "for", with = "dur", default = "zero")]
    pub r#for: Duration,
}

/// A `wait_until` step: a metric's condition, how long it must hold, and how long to wait.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WaitUntil {
    pub metric: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    #[serde(rename = "for", with = "dur", default = "zero")]
    pub r#for: Duration,
    /// The step fails when the condition has not held for `for` by then.
    #[serde(with = "dur")]
    pub timeout: Duration,
}

impl WaitUntil {
    /// The condition the step waits for.
    pub fn hold(&self) -> Hold {
        Hold {
            metric: self.metric.clone(),
            below: self.below,
            above: self.above,
            r#for: self.r#for,
        }
    }
}

impl Hold {
    /// Whether a value meets the condition (`below` and `above` are strict).
    pub fn met(&self, v: f64) -> bool {
        self.below.is_none_or(|b| v < b) && self.above.is_none_or(|a| v > a)
    }

    /// The condition without its time, as the state keys what has held since when:
    /// `replication_lag<1`.
    pub fn key(&self) -> String {
        let mut k = self.metric.clone();
        if let Some(b) = self.below {
            k.push_str(&format!("<{b}"));
        }
        if let Some(a) = self.above {
            k.push_str(&format!(">{a}"));
        }
        k
    }
}

fn zero() -> Duration {
    Duration::ZERO
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunStep {
    pub argv: Vec<String>,
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    #[serde(default = "default_timeout", with = "dur")]
    pub timeout: Duration,
    /// The schema version the command leaves behind, checked after it ran.
    #[serde(default)]
    pub expect_migration_version: Option<i64>,
}

fn default_timeout() -> Duration {
    Duration::from_secs(300)
}
