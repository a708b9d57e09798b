//! The runbook file's types. Keys are the plan's own words: phase, step, gate, check, pool,
//! flag, procedure. Unknown keys are errors so that a typo never silently disables a gate.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::time::Duration;

/// A reference to another thing in the runbook (a flag, a metric, a team …), with the place it
/// was written so that `warroom check` can point at it.
pub type Ref = Spanned<String>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runbook {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub objectives: Vec<String>,
    #[serde(default)]
    pub teams: Vec<Team>,
    #[serde(default)]
    pub infrastructure: Infrastructure,
    pub pools: Pools,
    pub flags: Vec<Flag>,
    pub rollout: Rollout,
    pub phases: Vec<Phase>,
    #[serde(default)]
    pub checklists: Vec<Checklist>,
    #[serde(default)]
    pub go_no_go: Option<GoNoGo>,
    pub metrics: Vec<Metric>,
    #[serde(default)]
    pub success_criteria: Vec<Criterion>,
    #[serde(default)]
    pub procedures: Vec<Procedure>,
    #[serde(default)]
    pub timeline: Vec<TimelineDay>,
    #[serde(default)]
    pub post_deployment: Vec<PostDeployment>,
    #[serde(default)]
    pub risks: Vec<Risk>,
    #[serde(default)]
    pub dashboards: Vec<Link>,
    #[serde(default)]
    pub communication: Communication,
    #[serde(default)]
    pub monitoring: Monitoring,
    /// Where the real systems are (`warroom run`); the simulator ignores it.
    #[serde(default)]
    pub targets: Targets,
    /// Gate checks that no override may pass while they fail.
    #[serde(default)]
    pub no_override: Vec<NoOverride>,
    /// Auto-abort: rollback procedures that start by themselves when a rule holds, after a
    /// countdown the lead can cancel.
    #[serde(default)]
    pub abort_on: Vec<AbortRule>,
}

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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub id: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub responsibilities: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Infrastructure {
    #[serde(default)]
    pub database: Option<Database>,
    #[serde(default)]
    pub application: Vec<EnvVar>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub master: String,
    #[serde(default)]
    pub replica: Option<String>,
    #[serde(default)]
    pub backup: Option<String>,
    #[serde(default)]
    pub migrations: Vec<String>,
    #[serde(default)]
    pub rollback_scripts: Vec<String>,
    /// The schema version once every migration is applied (e.g. 35).
    #[serde(default)]
    pub target_version: Option<i64>,
    /// The schema version before this deployment (e.g. 33).
    #[serde(default)]
    pub baseline_version: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoolName {
    Blue,
    Green,
}

impl PoolName {
    pub fn other(self) -> Self {
        match self {
            PoolName::Blue => PoolName::Green,
            PoolName::Green => PoolName::Blue,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PoolName::Blue => "blue",
            PoolName::Green => "green",
        }
    }
}

impl std::fmt::Display for PoolName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pools {
    pub blue: Pool,
    pub green: Pool,
    /// The pool serving production traffic before the deployment.
    #[serde(default = "default_active")]
    pub active: PoolName,
    /// How a request is routed to the canary pool, as the load balancer says it.
    #[serde(default)]
    pub canary_rule: Option<String>,
    /// A Kubernetes Service whose selector points at the active pool (`warroom run`): switching
    /// pools patches its selector to the pool's `labels`.
    #[serde(default)]
    pub service: Option<String>,
}

fn default_active() -> PoolName {
    PoolName::Blue
}

impl Pools {
    pub fn get(&self, name: PoolName) -> &Pool {
        match name {
            PoolName::Blue => &self.blue,
            PoolName::Green => &self.green,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    /// `host:port` of each server; `${VAR}` expands to a comma-separated list. May be empty
    /// when the pool has a `deployment` (its pods are then its servers).
    #[serde(default)]
    pub servers: Vec<String>,
    #[serde(default = "default_health_path")]
    pub health_path: String,
    /// The Kubernetes Deployment behind this pool, if any. Without `servers`, the pool's
    /// health is its pods' readiness, watched through the Kubernetes API.
    #[serde(default)]
    pub deployment: Option<String>,
    /// The labels that select this pool's pods (e.g. `{app: backend, color: green}`): the
    /// Service selector when switching to it, and the pod selector for its health.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

fn default_health_path() -> String {
    "/health".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlagKind {
    Bool,
    Percent,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    pub id: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub kind: FlagKind,
    /// `true`/`false` for a bool flag, 0..=100 for a percent flag.
    pub initial: serde_json::Value,
    /// The environment variable on the Deployment that mirrors this flag.
    #[serde(default)]
    pub env: Option<String>,
    /// Flipping this flag is destructive: the dialog asks for a typed phrase.
    #[serde(default)]
    pub confirm: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// The percent flag that drives the canary.
    pub flag: Ref,
    /// The pool that takes the canary traffic.
    pub pool: PoolName,
    /// The phase during which the rollout runs.
    pub phase: Ref,
    pub steps: Vec<RolloutStep>,
    /// Metrics that must not be critical (nor stale) to advance a step.
    #[serde(default)]
    pub gate: Vec<Ref>,
    /// Flags that must hold these values before a step (e.g. the feature switched on).
    #[serde(default)]
    pub requires_flags: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutStep {
    pub percent: Spanned<u32>,
    /// How long to watch the step before the next may start.
    #[serde(with = "dur")]
    pub bake: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub id: Spanned<String>,
    pub name: String,
    /// The plan's day number (Day 13 …).
    pub day: u32,
    #[serde(with = "dur")]
    pub duration: Duration,
    pub owner: Ref,
    #[serde(default)]
    pub tasks: Vec<String>,
    /// Timed steps within the phase (e.g. the optimizations deployment).
    #[serde(default)]
    pub steps: Vec<PhaseStep>,
    /// The phase's validation: every item must be ticked before the phase completes.
    #[serde(default)]
    pub checklist: Vec<Item>,
    #[serde(default)]
    pub success_criteria: Vec<String>,
    /// Steps run through the adapters when the phase starts (migrations, deploys).
    #[serde(default)]
    pub on_start: Vec<ProcedureStep>,
    /// Starting this phase is destructive: typed confirmation.
    #[serde(default)]
    pub confirm: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseStep {
    pub name: String,
    #[serde(with = "dur")]
    pub duration: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: Spanned<String>,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    pub id: Spanned<String>,
    pub name: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub name: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoNoGo {
    /// The team that signs the decision.
    pub by: Ref,
    /// Checklists that must be complete before the decision can be GO.
    #[serde(default)]
    pub requires: Vec<Ref>,
}

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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    pub id: Spanned<String>,
    pub name: String,
    /// The time the procedure must finish within.
    #[serde(with = "dur")]
    pub target: Duration,
    pub steps: Vec<ProcedureStep>,
}

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
    pub set_flag: Option<SetFlag>,
    /// Percent of traffic the load balancer sends to green.
    #[serde(default)]
    pub set_weights: Option<u32>,
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
}

impl ProcedureStep {
    /// The step's actions; a valid runbook has exactly one.
    pub fn actions(&self) -> Vec<StepAction> {
        let mut v = Vec::new();
        if let Some(p) = self.switch_pool {
            v.push(StepAction::SwitchPool(p));
        }
        if let Some(f) = &self.set_flag {
            v.push(StepAction::SetFlag(f.clone()));
        }
        if let Some(g) = self.set_weights {
            v.push(StepAction::SetWeights { green: g });
        }
        if let Some(x) = &self.set_image {
            v.push(StepAction::SetImage(x.clone()));
        }
        if let Some(x) = &self.set_env {
            v.push(StepAction::SetEnv(x.clone()));
        }
        if let Some(d) = &self.restart {
            v.push(StepAction::Restart {
                deployment: d.clone(),
            });
        }
        if let Some(d) = &self.wait_rollout {
            v.push(StepAction::WaitRollout {
                deployment: d.clone(),
            });
        }
        if let Some(r) = &self.run {
            v.push(StepAction::Run(r.clone()));
        }
        v
    }

    pub fn action(&self) -> StepAction {
        // validate() guarantees exactly one action; an empty step is a no-op run.
        self.actions()
            .into_iter()
            .next()
            .unwrap_or(StepAction::Run(RunStep {
                argv: Vec::new(),
                env: Default::default(),
                timeout: default_timeout(),
                expect_migration_version: None,
            }))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SetFlag {
    pub flag: String,
    pub value: serde_json::Value,
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
pub enum StepAction {
    /// Point the load balancer at a pool.
    SwitchPool(PoolName),
    /// Write a flag through the flag API.
    SetFlag(SetFlag),
    /// Set the load balancer's weights: `green` percent to green, the rest to blue.
    SetWeights { green: u32 },
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineDay {
    pub day: u32,
    #[serde(default)]
    pub title: Option<String>,
    pub slots: Vec<Slot>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    pub from: String,
    pub to: String,
    pub what: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostDeployment {
    pub when: String,
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    pub name: String,
    pub mitigation: String,
    pub recovery: String,
    #[serde(default)]
    pub procedure: Option<Ref>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Communication {
    #[serde(default)]
    pub internal: Vec<Channel>,
    #[serde(default)]
    pub external: Vec<Channel>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub kind: String,
    pub address: String,
    #[serde(default)]
    pub when: Option<String>,
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

impl Default for Monitoring {
    fn default() -> Self {
        Monitoring {
            interval: default_interval(),
        }
    }
}

/// Endpoints of the real systems. Values accept `${VAR}` and `${VAR:-default}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    #[serde(default)]
    pub prometheus: Option<Spanned<String>>,
    #[serde(default)]
    pub flags: Option<Spanned<String>>,
    /// A URL (the `http` kind) or a mapping with `kind: http | haproxy | nginx`.
    #[serde(default)]
    pub load_balancer: Option<Spanned<LbTarget>>,
    #[serde(default)]
    pub database: Option<Spanned<String>>,
    #[serde(default)]
    pub kubeconfig: Option<Spanned<String>>,
    #[serde(default)]
    pub namespace: Option<Spanned<String>>,
}

/// `targets.load_balancer`: the old URL string (the `http` kind), or a mapping whose `kind`
/// says which balancer it is and what it needs. Which keys a kind needs is checked by
/// `warroom check` (validate.rs), so that a missing key is named, not a YAML type error.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum LbTarget {
    Url(String),
    Spec(Box<LbSpec>),
}

/// The load balancer kinds, as `check` lists them.
pub const LB_KINDS: &[&str] = &["http", "haproxy", "nginx"];

impl LbTarget {
    /// The kind: `http` for a bare URL.
    pub fn kind(&self) -> &str {
        match self {
            LbTarget::Url(_) => "http",
            LbTarget::Spec(s) => s.kind.as_deref().unwrap_or("http"),
        }
    }
}

/// The mapping form of `targets.load_balancer`. Every value accepts `${VAR}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LbSpec {
    #[serde(default)]
    pub kind: Option<String>,
    /// http: the control API's base URL.
    #[serde(default)]
    pub url: Option<String>,
    /// haproxy: the runtime API's unix socket.
    #[serde(default)]
    pub socket: Option<String>,
    /// haproxy: the map file whose `map_key` holds green's share in percent.
    #[serde(default)]
    pub map: Option<String>,
    #[serde(default)]
    pub map_key: Option<String>,
    #[serde(default)]
    pub blue_backend: Option<String>,
    #[serde(default)]
    pub green_backend: Option<String>,
    /// haproxy: where server states are saved (`show servers state`), optional.
    #[serde(default)]
    pub state_file: Option<String>,
    /// nginx: the included file warroom owns.
    #[serde(default)]
    pub include: Option<String>,
    /// nginx: the main configuration, for `nginx -t`.
    #[serde(default)]
    pub config: Option<String>,
    /// nginx: the reload command, as an argv.
    #[serde(default)]
    pub reload: Option<Vec<String>>,
    /// nginx: the configuration test command, as an argv.
    #[serde(default)]
    pub test: Option<Vec<String>>,
    /// nginx: a URL whose `X-Config-Version` response header names the serving config.
    #[serde(default)]
    pub version_url: Option<String>,
    /// Keys no kind knows: reported by `check` (untagged enums cannot deny them by name).
    #[serde(flatten)]
    pub unknown: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Durations are written as the plan writes them: `30s`, `15m`, `4h`, `1h30m`.
pub mod dur {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }

    pub fn serialize<S: Serializer>(v: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::super::fmt_duration(*v))
    }

    pub fn parse(s: &str) -> Result<Duration, String> {
        humantime::parse_duration(s.trim())
            .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. 30s, 15m, 4h or 1h30m"))
    }
}
