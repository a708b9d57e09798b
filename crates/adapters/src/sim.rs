//! The embedded simulated production: two pools behind a load balancer, a flag API, a
//! database with migrations and a replica. It is an adapter like any other: it answers jobs
//! and reports observations over channels, on a clock that may run faster than real time.
//!
//! One file, over 400 lines (about 850): the world's model — built-in signals, the plan's own
//! signals and scenarios, steps — and the task that drives it. Not yet split: the signals and
//! scenarios (a `sim/world.rs` beside `sim/task.rs`) are the seam where it should.

use crate::adapters::{Job, Report};
use crate::clock::Clock;
use crate::engine::SourceId;
use crate::engine::percent_of;
use crate::engine::{
    MigrationObs, Observation, PlannedStep, PoolsObs, ServerObs, SourceError, Time,
};
use crate::runbook::{PoolName, Runbook, Split, StepKind};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

pub use warroom_core::sim_signals::{SCENARIOS, SIGNALS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Everything behaves.
    Healthy,
    /// Green's error rate passes the critical threshold as soon as it takes traffic (the
    /// plan's first rollout step, whatever its percent).
    BadCanary,
    /// The replica falls behind once the data migration has run.
    ReplicaLag,
    /// The flag API fails about a third of reads and writes.
    FlakyFlags,
    /// p95 latency climbs on green once it takes traffic.
    LatencySpike,
    /// One green server stops answering its health check once the canary starts.
    ServerDown,
    /// The runbook's own scenario at this index of its `scenarios:`.
    Declared(usize),
}

/// The built-in scenarios, in the order `--help` lists them.
const BUILT_IN: [Scenario; 6] = [
    Scenario::Healthy,
    Scenario::BadCanary,
    Scenario::ReplicaLag,
    Scenario::FlakyFlags,
    Scenario::LatencySpike,
    Scenario::ServerDown,
];

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthy => "healthy",
            Scenario::BadCanary => "bad-canary",
            Scenario::ReplicaLag => "replica-lag",
            Scenario::FlakyFlags => "flaky-flags",
            Scenario::LatencySpike => "latency-spike",
            Scenario::ServerDown => "server-down",
            Scenario::Declared(_) => "declared",
        }
    }

    /// The scenario `--scenario NAME` names: a built-in one, else one of the runbook's own.
    pub fn find(name: &str, rb: &Runbook) -> Result<Scenario, String> {
        if let Some(s) = BUILT_IN.into_iter().find(|s| s.name() == name) {
            return Ok(s);
        }
        if let Some(i) = rb.scenarios.iter().position(|s| s.name.value == name) {
            return Ok(Scenario::Declared(i));
        }
        let own: Vec<&str> = rb.scenarios.iter().map(|s| s.name.value.as_str()).collect();
        Err(format!(
            "no scenario `{name}`: built-in {}{}",
            SCENARIOS.join(", "),
            if own.is_empty() {
                "; the runbook declares none (`scenarios:`)".to_string()
            } else {
                format!("; the runbook's own: {}", own.join(", "))
            }
        ))
    }

    /// Its name as the audit's session line and the screen say it.
    pub fn label(self, rb: &Runbook) -> String {
        match self {
            Scenario::Declared(i) => rb
                .scenarios
                .get(i)
                .map(|s| s.name.value.clone())
                .unwrap_or_else(|| "declared".into()),
            s => s.name().into(),
        }
    }
}

/// What the chosen scenario of the runbook's own plays, and since when.
#[derive(Debug, Clone)]
struct Play {
    metric: Option<String>,
    add: f64,
    times: f64,
    server_down: Option<PoolName>,
    /// The step whose run starts it (the `from:` phase's first step that always runs); `None`:
    /// when green first takes traffic.
    from_step: Option<String>,
    /// That phase's index, to know after a resume whether it has started.
    from_phase: Option<usize>,
    started: bool,
}

impl Play {
    fn effect(&self, v: f64) -> f64 {
        (v + self.add) * self.times
    }
}

/// The first `on_start` step of phase `id` that always runs (an optional one runs only when
/// chosen).
fn first_step(rb: &Runbook, id: &str) -> Option<String> {
    let i = rb.phase_index(id)?;
    first_run(&rb.phases[i])
}

fn first_run(p: &crate::runbook::Phase) -> Option<String> {
    p.on_start
        .iter()
        .find(|s| !s.optional)
        .map(|s| s.name.value.clone())
}

/// Where the built-in replica-lag starts: the first phase that runs a migration (a step that
/// expects a schema version), else the first phase that runs any step.
fn lag_from(rb: &Runbook) -> Option<String> {
    let migrates = |p: &crate::runbook::Phase| {
        p.on_start.iter().any(|s| {
            s.run
                .as_ref()
                .is_some_and(|r| r.expect_migration_version.is_some())
        })
    };
    rb.phases
        .iter()
        .find(|p| migrates(p))
        .or_else(|| rb.phases.iter().find(|p| first_run(p).is_some()))
        .and_then(first_run)
}

/// The simulated systems. Deterministic for a given seed and sequence of calls.
#[derive(Debug, Clone)]
pub struct World {
    scenario: Scenario,
    rng: u64,
    flags: BTreeMap<String, serde_json::Value>,
    /// The bool flag that switches the new code path on (from the rollout's requires_flags).
    feature_flag: Option<String>,
    active: PoolName,
    green_share: u32,
    migration: i64,
    /// The runbook names a database (`infrastructure.database`): only then are a migration
    /// version and a backup reported.
    database: bool,
    baseline: i64,
    dirty: bool,
    lag_since: Option<Time>,
    blue: Vec<String>,
    green: Vec<String>,
    images: BTreeMap<String, String>,
    metric_signals: Vec<(String, String)>,
    /// Metrics with a signal of the runbook's own (`simulate:`).
    own_signals: Vec<(String, crate::runbook::Simulate)>,
    /// The runbook's own scenario, when it is the one playing.
    play: Option<Play>,
    /// The step whose run starts the built-in replica-lag.
    lag_step: Option<String>,
    /// Environment-variable twin → flag id.
    flag_env: BTreeMap<String, String>,
    /// The one-shot SQL checks: metric id → its `sim` signal (if any) and its condition.
    once: BTreeMap<String, (Option<String>, crate::runbook::Hold)>,
    /// The rollout's percent flag, and whether it alone splits the traffic.
    rollout_flag: String,
    split: Split,
}

/// A simulated pool's servers: the runbook's, expanded from the environment as `run` does;
/// an entry that cannot be expanded is shown as written.
fn sim_servers(entries: &[String]) -> Vec<String> {
    crate::runbook::server_list(entries, &|k| std::env::var(k).ok())
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| entries.to_vec())
}

impl World {
    pub fn new(rb: &Runbook, scenario: Scenario, seed: u64) -> World {
        let baseline = rb
            .infrastructure
            .database
            .as_ref()
            .and_then(|d| d.baseline_version)
            .unwrap_or(0);
        World {
            scenario,
            rng: seed | 1,
            flags: rb
                .flags
                .iter()
                .map(|f| (f.id.value.clone(), f.initial.value.clone()))
                .collect(),
            feature_flag: rb
                .rollout
                .requires_flags
                .iter()
                .find(|(_, v)| v.as_bool() == Some(true))
                .map(|(k, _)| k.clone()),
            active: rb.pools.active,
            green_share: match rb.pools.active {
                PoolName::Blue => 0,
                PoolName::Green => 100,
            },
            migration: baseline,
            database: rb.infrastructure.database.is_some(),
            baseline,
            dirty: false,
            lag_since: None,
            // `${VAR}` and `${VAR:-a,b}` expand as they do for `run`.
            blue: sim_servers(&rb.pools.blue.servers),
            green: sim_servers(&rb.pools.green.servers),
            images: BTreeMap::new(),
            rollout_flag: rb.rollout.flag.value.clone(),
            split: rb.rollout.split,
            flag_env: rb
                .flags
                .iter()
                .filter_map(|f| f.env.clone().map(|e| (e, f.id.value.clone())))
                .collect(),
            own_signals: rb
                .metrics
                .iter()
                .filter(|m| !m.is_once())
                .filter_map(|m| {
                    m.simulate
                        .as_ref()
                        .map(|s| (m.id.value.clone(), s.value.clone()))
                })
                .collect(),
            play: match scenario {
                Scenario::Declared(i) => rb.scenarios.get(i).map(|sc| Play {
                    metric: sc.metric.as_ref().map(|m| m.value.clone()),
                    add: sc.add,
                    times: sc.times,
                    server_down: sc.server_down,
                    from_step: sc.from.as_ref().and_then(|p| first_step(rb, &p.value)),
                    from_phase: sc.from.as_ref().and_then(|p| rb.phase_index(&p.value)),
                    started: false,
                }),
                _ => None,
            },
            lag_step: lag_from(rb),
            once: rb
                .metrics
                .iter()
                .filter_map(|m| {
                    let (_, h) = m.once_check()?;
                    Some((
                        m.id.value.clone(),
                        (m.sim.as_ref().map(|s| s.value.clone()), h),
                    ))
                })
                .collect(),
            // A one-shot check is answered when asked, not at every reading.
            metric_signals: rb
                .metrics
                .iter()
                .filter(|m| !m.is_once())
                .filter_map(|m| {
                    m.sim
                        .as_ref()
                        .map(|s| (m.id.value.clone(), s.value.clone()))
                })
                .collect(),
        }
    }

    /// Continue from a state rebuilt from the audit log (resume after a restart).
    pub fn resume(&mut self, st: &crate::engine::State) {
        for (k, v) in &st.flags {
            self.flags.insert(k.clone(), v.clone());
        }
        if let Some(a) = st.pools.active {
            self.active = a;
        }
        if let Some(g) = st.pools.green_share {
            self.green_share = g;
        }
        if let Some(v) = st.migration.as_ref().and_then(|m| m.version) {
            self.migration = v;
            if v > self.baseline {
                self.lag_since = st.now;
            }
        }
        if let Some(p) = self.play.as_mut()
            && let Some(i) = p.from_phase
        {
            p.started = st
                .phases
                .get(i)
                .is_some_and(|ph| ph.status != crate::engine::PhaseStatus::Pending);
        }
    }

    fn rand(&mut self) -> f64 {
        // xorshift64*: small, fast, deterministic.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Noise around a base value: ±`frac` of it.
    fn around(&mut self, base: f64, frac: f64) -> f64 {
        base * (1.0 + frac * (2.0 * self.rand() - 1.0))
    }

    fn feature_on(&self) -> bool {
        match &self.feature_flag {
            Some(f) => self.flags.get(f).and_then(|v| v.as_bool()).unwrap_or(false),
            None => true,
        }
    }

    /// The rollout flag's percent, when it holds one.
    fn rollout_flag_percent(&self) -> Option<u32> {
        self.flags.get(&self.rollout_flag).and_then(percent_of)
    }

    /// The share of traffic green's servers take: the load balancer's weights, or under a
    /// flag-only canary what the rollout flag sends there (until a switch makes green active).
    fn green_traffic(&self) -> u32 {
        match self.split {
            Split::Flag if self.active == PoolName::Blue => {
                if self.feature_on() {
                    self.rollout_flag_percent().unwrap_or(0).min(100)
                } else {
                    0
                }
            }
            _ => self.green_share,
        }
    }

    /// Whether green serves the new code: the feature flag is on and the rollout flag is not
    /// at 0 (a rollback that sets it to 0 takes the new path out of service).
    fn new_code_live(&self) -> bool {
        self.feature_on() && self.rollout_flag_percent() != Some(0)
    }

    /// The server of `pool` that stops answering, by its index: the built-in server-down's
    /// second green server once green takes traffic, or the runbook's own scenario's.
    fn down(&self, pool: PoolName) -> Option<usize> {
        let servers = match pool {
            PoolName::Blue => &self.blue,
            PoolName::Green => &self.green,
        };
        let built_in = pool == PoolName::Green
            && self.scenario == Scenario::ServerDown
            && self.green_traffic() > 0;
        let own = self
            .play
            .as_ref()
            .is_some_and(|p| p.server_down == Some(pool) && self.playing(p));
        (built_in || own).then(|| usize::from(servers.len() > 1))
    }

    /// Whether the runbook's own scenario plays now: from its phase's first step, or once green
    /// takes traffic with the new code live.
    fn playing(&self, p: &Play) -> bool {
        match p.from_step {
            Some(_) => p.started,
            None => self.new_code_live() && self.green_traffic() > 0,
        }
    }

    /// A metric's signal of the runbook's own: blue's and green's values blended by green's
    /// share, the playing scenario's effect on green's part (or on the whole reading when the
    /// signal has no green of its own).
    fn own_signal(&mut self, id: &str, sig: &crate::runbook::Simulate, g: f64) -> f64 {
        let blue = self.around(sig.base, sig.noise);
        match sig.green {
            Some(green) => {
                let green = self.around(green, sig.noise);
                blue * (1.0 - g) + self.moved(id, green) * g
            }
            None => self.moved(id, blue),
        }
    }

    /// `v`, moved by the runbook's own scenario when it plays now on metric `id`.
    fn moved(&self, id: &str, v: f64) -> f64 {
        match &self.play {
            Some(p) if p.metric.as_deref() == Some(id) && self.playing(p) => p.effect(v),
            _ => v,
        }
    }

    /// Every simulated signal's value now.
    fn signals(&mut self, now: Time) -> BTreeMap<&'static str, f64> {
        let green_traffic = self.green_traffic();
        let g = green_traffic as f64 / 100.0;
        let bad_canary =
            self.scenario == Scenario::BadCanary && self.new_code_live() && green_traffic > 0;
        let slow_green =
            self.scenario == Scenario::LatencySpike && self.new_code_live() && green_traffic > 0;
        let blue_err = self.around(0.12, 0.3);
        let green_err = self.around(0.10, 0.3)
            + if bad_canary {
                self.around(2.4, 0.15)
            } else {
                0.0
            };
        let blue_p95 = self.around(44.0, 0.08);
        let green_p95 = self.around(38.0, 0.08)
            + if slow_green {
                self.around(85.0, 0.1)
            } else {
                0.0
            };
        let lag = match (self.scenario, self.lag_since) {
            (Scenario::ReplicaLag, Some(at)) => {
                let mins = (now - at).num_seconds().max(0) as f64 / 60.0;
                (0.2 + mins * 0.4).min(6.0) + self.around(0.05, 0.5)
            }
            _ => self.around(0.08, 0.5),
        };
        let p95 = blue_p95 * (1.0 - g) + green_p95 * g;
        let rate = self.around(1250.0, 0.05);
        let mut v: BTreeMap<&str, f64> = BTreeMap::new();
        v.insert("request_rate", rate);
        v.insert("blue.error_rate", blue_err);
        v.insert("green.error_rate", green_err);
        v.insert("error_rate", blue_err * (1.0 - g) + green_err * g);
        v.insert("blue.latency_p95", blue_p95);
        v.insert("green.latency_p95", green_p95);
        v.insert("latency_p95", p95);
        v.insert("latency_p50", p95 * 0.42);
        v.insert("latency_p99", p95 * 1.7);
        v.insert("active_connections", self.around(850.0, 0.06));
        v.insert("db_query_time", self.around(3.1, 0.15));
        v.insert("db_pool_usage", self.around(36.0, 0.1));
        v.insert("replication_lag", lag);
        v.insert("lock_wait", self.around(1.8, 0.3));
        v.insert("business_rate", self.around(42.0, 0.1));
        v.insert("success_ratio", self.around(99.3, 0.003));
        v.insert(
            "new_path_share",
            if self.new_code_live() { g * 100.0 } else { 0.0 },
        );
        v.insert("active_users", self.around(5200.0, 0.05));
        v.insert("cache_hit_rate", self.around(78.0, 0.02));
        v.insert("read_throughput", self.around(3400.0, 0.05));
        v.insert("query_throughput", self.around(1236.0, 0.05));
        v.insert("cpu", self.around(46.0 + 8.0 * g, 0.08));
        v.insert("memory", self.around(63.0, 0.03));
        v.insert("disk", self.around(71.0, 0.005));
        v
    }

    /// One reading of every signal, the pools, the flags and the database.
    pub fn sample(&mut self, now: Time) -> Observation {
        let green_traffic = self.green_traffic();
        let g = green_traffic as f64 / 100.0;
        let v = self.signals(now);
        // The runbook's own scenario moves a built-in signal's whole reading.
        let mut metrics: BTreeMap<String, Option<f64>> = self
            .metric_signals
            .iter()
            .map(|(id, sig)| {
                let v = v.get(sig.as_str()).map(|&v| self.moved(id, v));
                (id.clone(), v)
            })
            .collect();
        for (id, sig) in self.own_signals.clone() {
            let v = self.own_signal(&id, &sig, g);
            metrics.insert(id, Some(v));
        }

        let mut errors = Vec::new();
        let flags = if self.scenario == Scenario::FlakyFlags && self.rand() < 0.33 {
            errors.push(SourceError {
                source: SourceId::Flags.into(),
                message: "flag API: 503 Service Unavailable".into(),
            });
            None
        } else {
            Some(self.flags.clone())
        };
        let (blue_down, green_down) = (self.down(PoolName::Blue), self.down(PoolName::Green));
        let (blue_names, green_names) = (self.blue.clone(), self.green.clone());
        let mut servers = |names: &[String], pool: PoolName, base: f64| -> Vec<ServerObs> {
            names
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let is_down = match pool {
                        PoolName::Blue => blue_down == Some(i),
                        PoolName::Green => green_down == Some(i),
                    };
                    ServerObs {
                        address: a.clone(),
                        healthy: !is_down,
                        latency_ms: if is_down {
                            None
                        } else {
                            Some(self.around(base, 0.2))
                        },
                        error: is_down.then(|| "health check timed out after 2s".to_string()),
                    }
                })
                .collect()
        };
        let blue = servers(&blue_names, PoolName::Blue, 4.0);
        let green = servers(&green_names, PoolName::Green, 3.5);
        Observation {
            source: SourceId::Sim.into(),
            metrics,
            pools: Some(PoolsObs {
                active: Some(self.active),
                // The load balancer's weights: under a flag-only canary the flag's share
                // goes to green inside the application, not through the balancer.
                green_share: Some(self.green_share),
                blue,
                green,
                complete: vec![PoolName::Blue, PoolName::Green],
                served: None,
            }),
            flags,
            flag_views: BTreeMap::new(),
            migration: self.database.then_some(MigrationObs {
                version: Some(self.migration),
                dirty: self.dirty,
                in_progress: false,
            }),
            backup: self.database.then(|| "full backup 02:00, verified".into()),
            errors,
            history: BTreeMap::new(),
            unchanged: false,
        }
    }

    /// The answer to a one-shot SQL check: its `sim` signal's value when it names one, else
    /// the simulated database's healthy answer — one that meets the condition (0 below a
    /// positive bound, one past the bound otherwise).
    pub fn once(&mut self, id: &str, now: Time) -> Result<f64, String> {
        let Some((signal, h)) = self.once.get(id).cloned() else {
            return Err(format!("`{id}` is not a one-shot SQL check"));
        };
        if let Some(sig) = signal {
            return self
                .signals(now)
                .get(sig.as_str())
                .copied()
                .ok_or_else(|| format!("no simulated signal `{sig}`"));
        }
        Ok(match (h.below, h.above) {
            (Some(b), _) if b > 0.0 => 0.0,
            (Some(b), _) => b - 1.0,
            (None, Some(a)) => a + 1.0,
            (None, None) => 0.0,
        })
    }

    /// How long a step takes in the simulated world.
    pub fn duration(step: &StepKind) -> Duration {
        Duration::from_secs(match step {
            StepKind::SwitchPool(_) => 2,
            StepKind::SetFlag(_) | StepKind::SetWeights { .. } | StepKind::ServerState(_) => 1,
            StepKind::SetImage(_) | StepKind::SetEnv(_) => 5,
            StepKind::Restart { .. } => 30,
            StepKind::WaitRollout { .. } => 40,
            StepKind::Run(_) => 60,
            // Ended by the engine from the readings.
            StepKind::WaitUntil(_) => 0,
        })
    }

    /// Carry out one step; the answer is what the system said.
    pub fn execute(&mut self, planned: &PlannedStep, now: Time) -> Result<String, String> {
        // A phase's first step starts what the scenario ties to it.
        if self.lag_step.as_deref() == Some(planned.name.as_str()) {
            self.lag_since.get_or_insert(now);
        }
        if let Some(p) = self.play.as_mut()
            && p.from_step.as_deref() == Some(planned.name.as_str())
        {
            p.started = true;
        }
        match &planned.kind {
            StepKind::SwitchPool(p) => {
                self.active = *p;
                self.green_share = if *p == PoolName::Green { 100 } else { 0 };
                Ok(format!(
                    "lb: active {p}, weights blue {} / green {}",
                    100 - self.green_share,
                    self.green_share
                ))
            }
            StepKind::SetWeights { green } => {
                self.green_share = (*green).min(100);
                Ok(format!(
                    "lb: weights blue {} / green {}",
                    100 - self.green_share,
                    self.green_share
                ))
            }
            StepKind::SetFlag(f) => {
                if self.scenario == Scenario::FlakyFlags && self.rand() < 0.33 {
                    return Err("flag API: 503 Service Unavailable".into());
                }
                self.flags.insert(f.flag.clone(), f.value.clone());
                let back = self.flags.get(&f.flag).cloned().unwrap_or_default();
                Ok(format!("flag API: ok; read back {} = {back}", f.flag))
            }
            StepKind::ServerState(s) => Ok(format!("lb: {} {}", s.server, s.state.as_str())),
            StepKind::SetImage(s) => {
                self.images.insert(s.deployment.clone(), s.image.clone());
                Ok(format!(
                    "deployment/{} image {}={}",
                    s.deployment, s.container, s.image
                ))
            }
            StepKind::SetEnv(s) => {
                // A flag's environment-variable twin sets the flag (the runbook says which).
                if let Some(flag) = self.flag_env.get(&s.name).cloned() {
                    let v = match self.flags.get(&flag) {
                        Some(serde_json::Value::Bool(_)) => serde_json::Value::Bool(matches!(
                            s.value.trim(),
                            "true" | "1" | "on" | "yes"
                        )),
                        _ => serde_json::from_str(&s.value)
                            .unwrap_or_else(|_| serde_json::Value::String(s.value.clone())),
                    };
                    self.flags.insert(flag, v);
                }
                Ok(format!(
                    "deployment/{} env {}={}",
                    s.deployment, s.name, s.value
                ))
            }
            StepKind::Restart { deployment } => Ok(format!("deployment/{deployment} restarted")),
            StepKind::WaitRollout { deployment } => Ok(format!(
                "deployment \"{deployment}\" successfully rolled out (3/3 updated, ready, available)"
            )),
            StepKind::WaitUntil(_) => Ok(crate::real::WAIT_PREVIEW.into()),
            StepKind::Run(r) => {
                if let Some(v) = r.expect_migration_version {
                    self.migration = v;
                    self.dirty = false;
                    // Rolled back to the version before the plan: the replica catches up.
                    if v <= self.baseline {
                        self.lag_since = None;
                    }
                    Ok(format!(
                        "$ {}\nexit 0; schema version {v}",
                        r.argv.join(" ")
                    ))
                } else {
                    Ok(format!("$ {}\nexit 0", r.argv.join(" ")))
                }
            }
        }
    }
}

/// The simulator task: samples every `interval` of simulated time and runs jobs one at a time,
/// each step taking its simulated duration. It sleeps until the next thing is due, so a high
/// speed stays exact.
pub async fn run(
    mut world: World,
    clock: Clock,
    interval: Duration,
    mut jobs: crate::adapters::JobRx,
    out: crate::adapters::ReportTx,
) {
    let mut queue: VecDeque<(u64, Vec<PlannedStep>, usize)> = VecDeque::new();
    // The job in progress, the index of its step, and when that step is done.
    let mut current: Option<((u64, Vec<PlannedStep>), usize, Time)> = None;
    let mut next_sample = clock.now();
    let step_len =
        |s: &StepKind| chrono::Duration::from_std(World::duration(s)).unwrap_or_default();
    loop {
        let now = clock.now();
        if current.is_none()
            && let Some((id, steps, from)) = queue.pop_front()
        {
            match steps.get(from) {
                // A step the engine ends (`wait_until`): the job stops here, and its rest
                // comes back as `Job::Continue` once the engine has ended it.
                Some(s) if crate::engine::engine_step(s) => {}
                None if from > 0 => {}
                None => {
                    let _ = out
                        .send(Report::Finished {
                            id,
                            at: now,
                            ok: true,
                            detail: "nothing to run".into(),
                        })
                        .await;
                }
                Some(first) => {
                    let due = now + step_len(&first.kind);
                    current = Some(((id, steps), from, due));
                }
            }
            continue;
        }
        if let Some((job, i, due)) = current.take() {
            if now >= due {
                let (id, steps) = &job;
                let id = *id;
                let Some(step) = steps.get(i) else {
                    continue;
                };
                let result = world.execute(step, due);
                let ok = result.is_ok();
                let output = match &result {
                    Ok(s) | Err(s) => s.clone(),
                };
                let sent = out
                    .send(Report::StepFinished {
                        id,
                        at: due,
                        step: i,
                        name: step.name.clone(),
                        ok,
                        output: output.clone(),
                    })
                    .await;
                if sent.is_err() {
                    return;
                }
                if !ok {
                    let _ = out
                        .send(Report::Finished {
                            id,
                            at: due,
                            ok: false,
                            detail: format!("step {} failed: {output}", step.name),
                        })
                        .await;
                } else if let Some(next) = steps.get(i + 1)
                    && crate::engine::engine_step(next)
                {
                    // The engine ends it from the readings; the rest comes back as a job.
                } else if let Some(next) = steps.get(i + 1) {
                    let next_due = due + step_len(&next.kind);
                    current = Some((job, i + 1, next_due));
                } else {
                    let _ = out
                        .send(Report::Finished {
                            id,
                            at: due,
                            ok: true,
                            detail: format!("{} step(s) done", steps.len()),
                        })
                        .await;
                }
                continue;
            }
            current = Some((job, i, due));
        }
        if now >= next_sample {
            if out
                .send(Report::Observed {
                    at: now,
                    observation: world.sample(now),
                })
                .await
                .is_err()
            {
                return;
            }
            next_sample = now + chrono::Duration::from_std(interval).unwrap_or_default();
        }
        let wake = current
            .as_ref()
            .map(|c| c.2)
            .unwrap_or(next_sample)
            .min(next_sample);
        let wait = clock
            .real_for((wake - clock.now()).to_std().unwrap_or_default())
            .max(Duration::from_millis(1));
        tokio::select! {
            job = jobs.recv() => match job {
                // A dry run: the steps on a copy of the world, answered at once.
                Some(Job::Preview { id, steps }) => {
                    let mut copy = world.clone();
                    let now = clock.now();
                    let lines = steps
                        .iter()
                        .map(|s| match copy.execute(s, now) {
                            Ok(o) | Err(o) => format!("{}: {} (simulated dry run)", s.name, o.lines().last().unwrap_or("")),
                        })
                        .collect();
                    if out.send(Report::Previewed { id, lines }).await.is_err() {
                        return;
                    }
                }
                Some(Job::Run { id, steps }) => queue.push_back((id, steps, 0)),
                Some(Job::Continue { id, steps, from }) => queue.push_back((id, steps, from)),
                // One-shot SQL checks, answered at once by the simulated database.
                Some(Job::Once { metrics }) => {
                    let now = clock.now();
                    for id in metrics {
                        let answer = world.once(&id, now);
                        let observation =
                            crate::real::postgres::once_observation(SourceId::Sim, &id, answer);
                        if out.send(Report::Observed { at: now, observation }).await.is_err() {
                            return;
                        }
                    }
                }
                // The step in progress is abandoned: it never takes effect.
                Some(Job::Cancel { id }) => {
                    if current.as_ref().is_some_and(|((c, _), _, _)| *c == id) {
                        current = None;
                    }
                    queue.retain(|(q, _, _)| *q != id);
                }
                None => return,
            },
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check` validates scenario names against the core's list; it names the simulator's.
    #[test]
    fn the_core_lists_the_simulators_built_in_scenarios() {
        assert_eq!(BUILT_IN.map(Scenario::name).as_slice(), SCENARIOS);
    }
}
