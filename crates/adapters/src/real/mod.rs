//! The real-system adapters (`warroom run`): Prometheus, the feature-flag and load-balancer
//! HTTP APIs, pool health checks, PostgreSQL, Kubernetes and shell steps.
//!
//! Like the simulator, they are tasks that receive `Job`s and send `Report`s. Each source is
//! read by its own poller task, so a slow or dead system only makes its own data stale; jobs
//! run one at a time on the executor task, never behind a poll.
//!
//! Source names (in `Observation::source` and `SourceError::source`) are `prometheus`,
//! `flags`, `lb`, `health`, `postgres` and `kube`; the gates look for `flags` and `lb`.
//! Every message that leaves this module goes through [`crate::runbook::redact`].

pub mod balancer;
pub mod flags;
pub mod haproxy;
pub mod health;
pub mod kube;
pub mod lb;
pub mod nginx;
pub mod pods;
pub mod postgres;
pub mod prometheus;
pub mod shell;

use crate::adapters::{Job, Report};
use crate::clock::Clock;
use crate::engine::{Observation, SourceError, State};
use crate::runbook::{PoolName, Runbook, StepAction, expand, redact};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

/// What a source says when it has no target.
pub const NOT_CONFIGURED: &str = "not configured";

/// The endpoints of a runbook's targets after `${VAR}` expansion. A target that expands to
/// the empty string is `None` ("not configured").
#[derive(Clone, Default)]
pub struct Endpoints {
    pub prometheus: Option<String>,
    pub flags: Option<String>,
    pub load_balancer: Option<String>,
    /// A load balancer of kind `haproxy` or `nginx` (`load_balancer` is the `http` kind's URL).
    pub balancer: Option<balancer::LbConfig>,
    /// A connection URL with a password in it: never print it, use `redact`.
    pub database: Option<String>,
    /// Kubeconfig files (`targets.kubeconfig`, else `KUBECONFIG`, which may list several).
    pub kubeconfig: Vec<PathBuf>,
    /// Use the in-cluster service account (no kubeconfig, `KUBERNETES_SERVICE_HOST` set).
    pub in_cluster: bool,
    pub namespace: Option<String>,
    /// `host:port` of each server, `${VAR}` expanded and split on commas.
    pub blue: Vec<String>,
    pub green: Vec<String>,
    pub blue_health_path: String,
    pub green_health_path: String,
    /// Targets that could not be expanded: `(source, message)`.
    pub problems: Vec<SourceError>,
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints")
            .field("prometheus", &self.prometheus.as_deref().map(redact))
            .field("flags", &self.flags.as_deref().map(redact))
            .field("load_balancer", &self.load_balancer.as_deref().map(redact))
            .field(
                "balancer",
                &self.balancer.as_ref().map(|b| redact(&format!("{b:?}"))),
            )
            .field("database", &self.database.as_deref().map(redact))
            .field("kubeconfig", &self.kubeconfig)
            .field("in_cluster", &self.in_cluster)
            .field("namespace", &self.namespace)
            .field("blue", &self.blue)
            .field("green", &self.green)
            .finish()
    }
}

impl Endpoints {
    /// Expand the runbook's targets and pool servers with `lookup` (the process environment
    /// in production).
    pub fn resolve(rb: &Runbook, lookup: &dyn Fn(&str) -> Option<String>) -> Endpoints {
        let mut problems = Vec::new();
        let mut one = |source: &str, v: &Option<String>| -> Option<String> {
            let v = v.as_deref()?;
            match expand(v, lookup) {
                Ok(e) => Some(e.value.trim().to_string()).filter(|s| !s.is_empty()),
                Err(e) => {
                    problems.push(SourceError {
                        source: source.into(),
                        message: redact(&e),
                    });
                    None
                }
            }
        };
        let t = &rb.targets;
        let prometheus = one(
            "prometheus",
            &t.prometheus.as_ref().map(|v| v.value.clone()),
        );
        let flags = one("flags", &t.flags.as_ref().map(|v| v.value.clone()));
        let (load_balancer, balancer) = match t.load_balancer.as_ref().map(|v| &v.value) {
            None => (None, None),
            Some(crate::runbook::LbTarget::Url(u)) => (one("lb", &Some(u.clone())), None),
            Some(crate::runbook::LbTarget::Spec(spec)) => match spec.kind.as_deref() {
                None | Some("http") => (one("lb", &spec.url), None),
                Some(_) => (None, Some(balancer::LbConfig::resolve(spec, lookup))),
            },
        };
        let database = one("postgres", &t.database.as_ref().map(|v| v.value.clone()));
        let namespace = one("kube", &t.namespace.as_ref().map(|v| v.value.clone()));
        let kubeconfig = match one("kube", &t.kubeconfig.as_ref().map(|v| v.value.clone())) {
            Some(p) => vec![PathBuf::from(p)],
            None => lookup("KUBECONFIG")
                .unwrap_or_default()
                .split(':')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect(),
        };
        let in_cluster = kubeconfig.is_empty()
            && lookup("KUBERNETES_SERVICE_HOST").is_some_and(|h| !h.is_empty());
        let balancer = match balancer {
            Some(Err(e)) => {
                problems.push(SourceError {
                    source: "lb".into(),
                    message: redact(&e),
                });
                None
            }
            Some(Ok(c)) => Some(c),
            None => None,
        };
        let mut servers = |pool: PoolName| -> Vec<String> {
            let mut out = Vec::new();
            for s in &rb.pools.get(pool).servers {
                match expand(s, lookup) {
                    Ok(e) => out.extend(
                        e.value
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(String::from),
                    ),
                    Err(e) => problems.push(SourceError {
                        source: "health".into(),
                        message: format!("pools.{pool}.servers: {}", redact(&e)),
                    }),
                }
            }
            out
        };
        let blue = servers(PoolName::Blue);
        let green = servers(PoolName::Green);
        Endpoints {
            prometheus,
            flags,
            load_balancer,
            balancer,
            database,
            kubeconfig,
            in_cluster,
            namespace,
            blue,
            green,
            blue_health_path: rb.pools.blue.health_path.clone(),
            green_health_path: rb.pools.green.health_path.clone(),
            problems,
        }
    }

    /// From the process environment.
    pub fn from_env(rb: &Runbook) -> Endpoints {
        Endpoints::resolve(rb, &|k| std::env::var(k).ok())
    }

    pub fn kube_configured(&self) -> bool {
        !self.kubeconfig.is_empty() || self.in_cluster
    }
}

/// How long one reading of a source may take: most of an interval, within 0.5 to 10 s, so
/// that rounds do not pile up behind a slow source.
pub fn poll_timeout(interval: Duration) -> Duration {
    interval
        .mul_f64(0.8)
        .clamp(Duration::from_millis(500), Duration::from_secs(10))
}

/// How long a single write (flag, load balancer) may take.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// A source that can be read once. Pollers read it every interval; `warroom status` reads
/// each once.
pub trait Source: Send + Sync + 'static {
    /// The source's name, as the observation and its errors carry it.
    fn name(&self) -> &'static str;
    /// One reading. Failures are in the observation's `errors`, never a panic.
    fn read(&self) -> impl Future<Output = Observation> + Send;
    /// What to report when a reading did not finish in time: every value it covers unknown.
    fn failed(&self, message: String) -> Observation;
}

/// One reading, bounded by `limit`: a source that hangs gives `failed`.
pub async fn read_within<S: Source>(src: &S, limit: Duration) -> Observation {
    match tokio::time::timeout(limit, src.read()).await {
        Ok(o) => o,
        Err(_) => src.failed(format!("no answer within {}", fmt_secs(limit))),
    }
}

/// A source that is named in the runbook but has no target: reported once.
pub fn not_configured(source: &str) -> Observation {
    failure(source, NOT_CONFIGURED)
}

/// A reading of `source` that failed: its one error, with any secret redacted.
pub fn failure(source: &str, message: &str) -> Observation {
    Observation {
        source: source.into(),
        errors: vec![SourceError {
            source: source.into(),
            message: redact(message),
        }],
        ..Default::default()
    }
}

/// Read `src` every `interval` and report what it says, until the session stops listening.
pub async fn poll<S: Source>(
    src: Arc<S>,
    clock: Clock,
    interval: Duration,
    out: UnboundedSender<Report>,
) {
    let mut tick = tokio::time::interval(interval.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A little more than the source's own request timeout, as a backstop.
    let limit = poll_timeout(interval) + Duration::from_secs(1);
    loop {
        tick.tick().await;
        let observation = read_within(src.as_ref(), limit).await;
        if out
            .send(Report::Observed {
                at: clock.now(),
                observation,
            })
            .is_err()
        {
            return;
        }
    }
}

/// The sources a runbook's targets configure, ready to read.
pub struct Sources {
    pub prometheus: Option<prometheus::Prometheus>,
    pub flags: Option<flags::FlagApi>,
    pub lb: Option<balancer::Balancer>,
    pub health: Option<health::Health>,
    pub postgres: Option<postgres::Postgres>,
    /// Sources that are not configured or could not be set up: reported once.
    pub unavailable: Vec<SourceError>,
}

impl Sources {
    /// Build the clients (no IO yet: the database connects on first use). Kubernetes is
    /// handled apart (its client is built asynchronously).
    pub fn new(rb: &Runbook, ep: &Endpoints, timeout: Duration) -> Sources {
        let mut unavailable: Vec<SourceError> = ep.problems.clone();
        let mut missing = |source: &str, message: String| {
            if !unavailable.iter().any(|e| e.source == source) {
                unavailable.push(SourceError {
                    source: source.into(),
                    message,
                });
            }
        };
        let queries = prometheus::queries(rb);
        let prometheus = match &ep.prometheus {
            Some(url) if !queries.is_empty() => {
                match prometheus::Prometheus::new(url, timeout, queries) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        missing("prometheus", e);
                        None
                    }
                }
            }
            Some(_) => None,
            None => {
                if !queries.is_empty() {
                    missing("prometheus", NOT_CONFIGURED.into());
                }
                None
            }
        };
        let flags = match &ep.flags {
            Some(url) => match flags::FlagApi::new(url, timeout, &rb.flags) {
                Ok(f) => Some(f),
                Err(e) => {
                    missing("flags", e);
                    None
                }
            },
            None => {
                missing("flags", NOT_CONFIGURED.into());
                None
            }
        };
        let lb = match balancer::Balancer::new(
            ep.load_balancer.as_deref(),
            ep.balancer.as_ref(),
            timeout,
        ) {
            Some(Ok(l)) => Some(l),
            Some(Err(e)) => {
                missing("lb", e);
                None
            }
            None => {
                missing("lb", NOT_CONFIGURED.into());
                None
            }
        };
        let health = if ep.blue.is_empty() && ep.green.is_empty() {
            // Pools whose pods are watched need no HTTP checks.
            if !(ep.kube_configured() && pods::pod_pools(rb, &ep.blue, &ep.green).len() == 2) {
                missing("health", "no pool servers after expansion".into());
            }
            None
        } else {
            match health::Health::new(ep, timeout) {
                Ok(h) => Some(h),
                Err(e) => {
                    missing("health", e);
                    None
                }
            }
        };
        let postgres = match &ep.database {
            Some(url) => match postgres::Postgres::new(url, timeout, postgres::metric_ids(rb))
                .map(|p| p.with_checks(postgres::sql_checks(rb)))
            {
                Ok(p) => Some(p),
                Err(e) => {
                    missing("postgres", e);
                    None
                }
            },
            None => {
                missing("postgres", NOT_CONFIGURED.into());
                None
            }
        };
        Sources {
            prometheus,
            flags,
            lb,
            health,
            postgres,
            unavailable,
        }
    }
}

/// Start the pollers and the job executor on the real systems, on the real clock. Targets come
/// from the runbook, expanded with the process environment.
pub fn spawn(
    rb: &Runbook,
    _st: &State,
    jobs: UnboundedReceiver<Job>,
    reports: UnboundedSender<Report>,
) -> (Clock, Vec<JoinHandle<()>>) {
    spawn_with(rb, Endpoints::from_env(rb), jobs, reports)
}

/// `spawn` with endpoints already resolved (tests point them at loopback servers).
pub fn spawn_with(
    rb: &Runbook,
    ep: Endpoints,
    jobs: UnboundedReceiver<Job>,
    reports: UnboundedSender<Report>,
) -> (Clock, Vec<JoinHandle<()>>) {
    let clock = Clock::real();
    let interval = rb.monitoring.interval.max(Duration::from_millis(100));
    let timeout = poll_timeout(interval);
    let sources = Sources::new(rb, &ep, timeout);
    let mut tasks = Vec::new();
    let mut unavailable = sources.unavailable.clone();
    if !ep.kube_configured() {
        unavailable.push(SourceError {
            source: "kube".into(),
            message: NOT_CONFIGURED.into(),
        });
    }
    // Each unavailable source once, under its own name, so that it stays listed.
    for e in &unavailable {
        let _ = reports.send(Report::Observed {
            at: clock.now(),
            observation: Observation {
                source: e.source.clone(),
                errors: vec![e.clone()],
                ..Default::default()
            },
        });
    }
    if let Some(p) = sources.prometheus.clone() {
        // Fill the sparklines from a range query at start, on its own task so that a slow
        // Prometheus delays neither the first readings nor anything else.
        let (hp, out) = (p.clone(), reports.clone());
        tasks.push(tokio::spawn(async move {
            let fetch = hp.history(clock.now(), interval, crate::engine::HISTORY);
            if let Ok(history) = tokio::time::timeout(Duration::from_secs(15), fetch).await
                && !history.is_empty()
            {
                let observation = Observation {
                    source: "prometheus:history".into(),
                    history,
                    ..Default::default()
                };
                let _ = out.send(Report::Observed {
                    at: clock.now(),
                    observation,
                });
            }
        }));
        tasks.push(tokio::spawn(poll(
            Arc::new(p),
            clock,
            interval,
            reports.clone(),
        )));
    }
    if let Some(f) = sources.flags.clone() {
        tasks.push(tokio::spawn(poll(
            Arc::new(f),
            clock,
            interval,
            reports.clone(),
        )));
    }
    if let Some(l) = sources.lb.clone() {
        tasks.push(tokio::spawn(poll(
            Arc::new(l),
            clock,
            interval,
            reports.clone(),
        )));
    }
    if let Some(h) = sources.health.clone() {
        tasks.push(tokio::spawn(poll(
            Arc::new(h),
            clock,
            interval,
            reports.clone(),
        )));
    }
    if let Some(p) = sources.postgres.clone() {
        tasks.push(tokio::spawn(poll(
            Arc::new(p),
            clock,
            interval,
            reports.clone(),
        )));
    }
    let exec = Executor {
        flag_env: rb
            .flags
            .iter()
            .filter_map(|f| f.env.clone().map(|e| (f.id.value.clone(), e)))
            .collect(),
        deployments: deployments(rb),
        flags: sources.flags,
        lb: sources.lb,
        postgres: sources.postgres,
        kube: tokio::sync::OnceCell::new(),
        service: service_target(rb),
        ep: ep.clone(),
        clock,
        out: reports.clone(),
    };
    tasks.push(tokio::spawn(exec.run(jobs)));
    if ep.kube_configured() {
        let deps = deployments(rb);
        let pod_pools = pods::pod_pools(rb, &ep.blue, &ep.green);
        let out = reports;
        tasks.push(tokio::spawn(async move {
            let kube = match kube::Kube::connect(&ep, timeout).await {
                Ok(k) => k,
                Err(e) => {
                    let _ = out.send(Report::Observed {
                        at: clock.now(),
                        observation: Observation {
                            source: "kube".into(),
                            errors: vec![SourceError {
                                source: "kube".into(),
                                message: e,
                            }],
                            ..Default::default()
                        },
                    });
                    return;
                }
            };
            let src = kube::KubeSource::new(kube, deps);
            let watch = async {
                if pod_pools.is_empty() {
                    return;
                }
                match kube::Kube::connect_for_watch(&ep, timeout).await {
                    Ok(k) => pods::watch(k, pod_pools, interval, clock, out.clone()).await,
                    Err(e) => {
                        let _ = out.send(Report::Observed {
                            at: clock.now(),
                            observation: Observation {
                                source: pods::SOURCE.into(),
                                errors: vec![SourceError {
                                    source: pods::SOURCE.into(),
                                    message: e,
                                }],
                                ..Default::default()
                            },
                        });
                    }
                }
            };
            tokio::join!(poll(Arc::new(src), clock, interval, out.clone()), watch);
        }));
    }
    (clock, tasks)
}

/// The Deployments the pools name.
fn deployments(rb: &Runbook) -> Vec<String> {
    [&rb.pools.blue, &rb.pools.green]
        .iter()
        .filter_map(|p| p.deployment.clone())
        .collect()
}

/// The Service that switching pools repoints, with each pool's labels (`pools.service`).
fn service_target(rb: &Runbook) -> Option<kube::ServiceTarget> {
    let name = rb.pools.service.clone()?.trim().to_string();
    if name.is_empty() {
        return None;
    }
    Some(kube::ServiceTarget {
        name,
        blue: rb.pools.blue.labels.clone(),
        green: rb.pools.green.labels.clone(),
    })
}

/// Runs actions one at a time, each step through its adapter; answers dry runs at once,
/// even while an action runs; drops the running action when it is cancelled (a rollback took
/// over), which kills a running command's process group.
struct Executor {
    /// Flags with an environment-variable twin, and the Deployments that carry it: where a
    /// flag is set when there is no flag API.
    flag_env: std::collections::BTreeMap<String, String>,
    deployments: Vec<String>,
    flags: Option<flags::FlagApi>,
    lb: Option<balancer::Balancer>,
    postgres: Option<postgres::Postgres>,
    kube: tokio::sync::OnceCell<Result<kube::Kube, String>>,
    service: Option<kube::ServiceTarget>,
    ep: Endpoints,
    clock: Clock,
    out: UnboundedSender<Report>,
}

type Running = std::pin::Pin<Box<dyn Future<Output = bool> + Send>>;

impl Executor {
    async fn run(self, mut jobs: UnboundedReceiver<Job>) {
        let this = Arc::new(self);
        let mut queue: std::collections::VecDeque<(u64, Vec<crate::engine::PlannedStep>)> =
            Default::default();
        // The action in progress. Dropping it stops it where it is.
        let mut current: Option<(u64, Running)> = None;
        loop {
            if current.is_none()
                && let Some((id, steps)) = queue.pop_front()
            {
                let me = this.clone();
                current = Some((id, Box::pin(async move { me.job(id, steps).await })));
            }
            tokio::select! {
                job = jobs.recv() => match job {
                    None => return,
                    Some(Job::Run { id, steps }) => queue.push_back((id, steps)),
                    Some(Job::Preview { id, steps }) => {
                        // Dry runs only read: answered on their own task.
                        let me = this.clone();
                        tokio::spawn(async move { me.preview(id, steps).await });
                    }
                    Some(Job::Cancel { id }) => {
                        if current.as_ref().is_some_and(|(c, _)| *c == id) {
                            current = None;
                        }
                        queue.retain(|(q, _)| *q != id);
                    }
                },
                alive = async { match current.as_mut() { Some((_, f)) => f.await, None => std::future::pending().await } } => {
                    current = None;
                    if !alive {
                        return;
                    }
                }
            }
        }
    }

    async fn preview(&self, id: u64, steps: Vec<crate::engine::PlannedStep>) -> bool {
        let mut lines = Vec::with_capacity(steps.len());
        let has_service = self.service.is_some();
        for s in &steps {
            // A balancer that can show what a change would do (nginx: the file's diff).
            let share = match &s.action {
                StepAction::SetWeights { green } => Some(*green),
                StepAction::SwitchPool(PoolName::Blue) => Some(0),
                StepAction::SwitchPool(PoolName::Green) => Some(100),
                _ => None,
            };
            let lb_line = match (share, &self.lb) {
                (Some(g), Some(lb)) => lb.preview(g).await,
                _ => None,
            };
            // A switch also repoints the Service, when there is one: show both.
            let service_too = has_service && matches!(s.action, StepAction::SwitchPool(_));
            if let Some(p) = &lb_line
                && !service_too
            {
                lines.push(format!("{}: {}", s.name.clone(), redact(p)));
                continue;
            }
            let line = match self.kube().await {
                Ok(k) => match k.preview(&s.action).await {
                    Some(Ok(o)) => o,
                    Some(Err(e)) => format!("dry run failed: {e}"),
                    None => "no dry run for this step (not a Kubernetes write)".into(),
                },
                Err(_)
                    if !(matches!(
                        s.action,
                        StepAction::SetImage(_)
                            | StepAction::SetEnv(_)
                            | StepAction::Restart { .. }
                    ) || matches!(s.action, StepAction::SwitchPool(_)) && has_service) =>
                {
                    "no dry run for this step (not a Kubernetes write)".into()
                }
                Err(e) => format!("no dry run: {e}"),
            };
            let line = match lb_line {
                Some(p) => format!("{p}; {line}"),
                None => line,
            };
            lines.push(format!("{}: {}", s.name.clone(), redact(&line)));
        }
        self.out.send(Report::Previewed { id, lines }).is_ok()
    }

    /// Run one action's steps; false when nobody listens any more.
    async fn job(&self, id: u64, steps: Vec<crate::engine::PlannedStep>) -> bool {
        if steps.is_empty() {
            return self
                .out
                .send(Report::Finished {
                    id,
                    at: self.clock.now(),
                    ok: true,
                    detail: "nothing to run".into(),
                })
                .is_ok();
        }
        for (i, step) in steps.iter().enumerate() {
            let result = self.step(&step.action).await;
            let ok = result.is_ok();
            let output = redact(match &result {
                Ok(s) | Err(s) => s,
            });
            let sent = self.out.send(Report::StepFinished {
                id,
                at: self.clock.now(),
                step: i,
                name: step.name.clone(),
                ok,
                output: output.clone(),
            });
            if sent.is_err() {
                return false;
            }
            if !ok {
                return self
                    .out
                    .send(Report::Finished {
                        id,
                        at: self.clock.now(),
                        ok: false,
                        detail: format!("step {} failed: {output}", step.name),
                    })
                    .is_ok();
            }
        }
        self.out
            .send(Report::Finished {
                id,
                at: self.clock.now(),
                ok: true,
                detail: format!("{} step(s) done", steps.len()),
            })
            .is_ok()
    }

    /// Report what a write read back, so the screen follows without waiting for a poll.
    fn observed(&self, observation: Observation) {
        let _ = self.out.send(Report::Observed {
            at: self.clock.now(),
            observation,
        });
    }

    async fn kube(&self) -> Result<&kube::Kube, String> {
        if !self.ep.kube_configured() {
            return Err(format!("kube: {NOT_CONFIGURED}"));
        }
        let k = self
            .kube
            .get_or_init(|| async {
                kube::Kube::connect(&self.ep, WRITE_TIMEOUT)
                    .await
                    .map(|k| k.with_service(self.service.clone()))
            })
            .await;
        k.as_ref().map_err(|e| format!("kube: {e}"))
    }

    async fn step(&self, action: &StepAction) -> Result<String, String> {
        match action {
            StepAction::SetFlag(f) => {
                let Some(api) = &self.flags else {
                    // No flag API: a flag that lives as an environment variable on the
                    // Deployments is set there (`kubectl set env`), each read back.
                    let Some(var) = self.flag_env.get(&f.flag).cloned() else {
                        return Err(format!("flags: {NOT_CONFIGURED}"));
                    };
                    if !self.ep.kube_configured() || self.deployments.is_empty() {
                        return Err(format!(
                            "flags: {NOT_CONFIGURED}, and {var} has no Deployment to be set on (kube: {NOT_CONFIGURED})"
                        ));
                    }
                    let value = match &f.value {
                        serde_json::Value::String(s) => s.clone(),
                        v => v.to_string(),
                    };
                    let deployments = self.deployments.clone();
                    let k = self.kube().await?;
                    let mut done = Vec::new();
                    for d in &deployments {
                        done.push(k.set_env_all(d, &var, &value).await?);
                    }
                    return Ok(done.join("; "));
                };
                let (out, back) = api.write(&f.flag, &f.value).await?;
                if let Some(back) = back {
                    self.observed(Observation {
                        source: "flags".into(),
                        flags: Some(back),
                        ..Default::default()
                    });
                }
                out
            }
            StepAction::SwitchPool(p) => {
                let service = self.service.clone().filter(|_| self.ep.kube_configured());
                if self.lb.is_none() && service.is_none() {
                    return Err(format!("lb: {NOT_CONFIGURED}"));
                }
                // The load balancer first, then the Service; the step reports both.
                let mut done = Vec::new();
                if let Some(lb) = &self.lb {
                    let (out, back) = lb.switch(*p).await?;
                    if let Some(b) = back {
                        self.observed(b);
                    }
                    done.push(out?);
                }
                if let Some(svc) = service {
                    let r = match self.kube().await {
                        Ok(k) => k.switch_service(&svc.name, svc.labels(*p), false).await,
                        Err(e) => Err(e),
                    };
                    match r {
                        Ok(o) => done.push(o),
                        Err(e) => {
                            done.push(e);
                            return Err(done.join("; "));
                        }
                    }
                }
                Ok(done.join("; "))
            }
            StepAction::SetWeights { green } => {
                let Some(lb) = &self.lb else {
                    return Err(format!("lb: {NOT_CONFIGURED}"));
                };
                let (out, back) = lb.set_weights(*green).await?;
                if let Some(b) = back {
                    self.observed(b);
                }
                out
            }
            StepAction::SetImage(s) => {
                let k = self.kube().await?;
                k.set_image(&s.deployment, &s.container, &s.image, false)
                    .await
            }
            StepAction::SetEnv(s) => {
                let k = self.kube().await?;
                k.set_env(&s.deployment, &s.container, &s.name, &s.value, false)
                    .await
            }
            StepAction::Restart { deployment } => {
                let k = self.kube().await?;
                k.restart(deployment, false).await
            }
            StepAction::WaitRollout { deployment } => {
                let k = self.kube().await?;
                k.wait_rollout(deployment, None).await
            }
            StepAction::Run(r) => {
                shell::run(r, &|k| std::env::var(k).ok(), self.postgres.as_ref()).await
            }
        }
    }
}

/// Text a server sent, safe for the screen, the log and the audit log: no control, bidi or
/// zero-width character, no secret, at most `max` characters.
pub(crate) fn server_text(s: &str, max: usize) -> String {
    redact(&crate::text::clean(s.trim()))
        .chars()
        .take(max)
        .collect()
}

/// `2s`, `1.5s`, `250ms`.
pub fn fmt_secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// A reqwest client for one source: bounded connect and request times, no redirects to
/// elsewhere (a redirect could carry a token to another host).
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {}", http_error(&e, timeout)))
}

/// A base URL, checked, without its trailing slash.
pub(crate) fn base_url(source: &str, s: &str) -> Result<String, String> {
    let trimmed = s.trim().trim_end_matches('/');
    match reqwest::Url::parse(trimmed) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(trimmed.to_string()),
        Ok(u) => Err(format!(
            "{source}: `{}` is not an http(s) URL (scheme {})",
            redact(trimmed),
            u.scheme()
        )),
        Err(e) => Err(format!("{source}: `{}` is not a URL: {e}", redact(trimmed))),
    }
}

/// A transport error in a few words, without the URL: "timed out after 2s",
/// "cannot connect: Connection refused (os error 111)".
pub(crate) fn http_error(e: &reqwest::Error, timeout: Duration) -> String {
    let root = {
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
        let mut last = None;
        while let Some(s) = src {
            last = Some(s.to_string());
            src = s.source();
        }
        last
    };
    let msg = if e.is_timeout() {
        format!("timed out after {}", fmt_secs(timeout))
    } else if e.is_connect() {
        format!(
            "cannot connect: {}",
            root.unwrap_or_else(|| "connection failed".into())
        )
    } else if e.is_decode() || e.is_body() {
        format!(
            "bad response body: {}",
            root.unwrap_or_else(|| e.to_string())
        )
    } else {
        match root {
            Some(r) => format!("{}: {r}", e.without_url_ref()),
            None => e.without_url_ref(),
        }
    };
    redact(&msg)
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let s = self.to_string();
        // "error sending request for url (http://…)": drop the URL part.
        match s.find(" for url (") {
            Some(i) => s[..i].to_string(),
            None => s,
        }
    }
}

/// GET a URL and parse its JSON body; errors name the status or what is wrong with the body.
pub(crate) async fn get_json(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Result<serde_json::Value, String> {
    let resp = client
        .get(url)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| http_error(&e, timeout))?;
    json_body(resp, timeout).await
}

/// The most any HTTP source may answer. Replies are read up to this and no further: a server
/// that answers more is an error, not a reason to fill memory (or the audit log).
pub const MAX_REPLY: usize = 1 << 20;

/// The error for a reply over [`MAX_REPLY`].
pub const TOO_LARGE: &str = "reply larger than 1 MiB";

/// The body of a response, at most [`MAX_REPLY`] bytes.
pub(crate) async fn body_capped(
    mut resp: reqwest::Response,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    if resp.content_length().is_some_and(|n| n > MAX_REPLY as u64) {
        return Err(TOO_LARGE.into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| http_error(&e, timeout))? {
        if body.len() + chunk.len() > MAX_REPLY {
            return Err(TOO_LARGE.into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of an error reply's body, for a message (the caller redacts it).
pub(crate) async fn reply_text(resp: reqwest::Response, timeout: Duration) -> String {
    match body_capped(resp, timeout).await {
        Ok(body) => String::from_utf8_lossy(&body)
            .trim()
            .chars()
            .take(200)
            .collect(),
        Err(e) => format!("({e})"),
    }
}

/// The JSON body of a response, or an error naming the HTTP status.
pub(crate) async fn json_body(
    resp: reqwest::Response,
    timeout: Duration,
) -> Result<serde_json::Value, String> {
    let status = resp.status();
    if !status.is_success() {
        let text = reply_text(resp, timeout).await;
        return Err(redact(&if text.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {text}")
        }));
    }
    let body = body_capped(resp, timeout).await?;
    serde_json::from_slice(&body).map_err(|e| format!("malformed JSON from the server: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_timeout_is_bounded() {
        assert_eq!(
            poll_timeout(Duration::from_secs(10)),
            Duration::from_secs(8)
        );
        assert_eq!(
            poll_timeout(Duration::from_millis(100)),
            Duration::from_millis(500)
        );
        assert_eq!(
            poll_timeout(Duration::from_secs(60)),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn base_url_rejects_non_http() {
        assert!(base_url("flags", "ftp://x").is_err());
        assert!(base_url("flags", "not a url").is_err());
        assert_eq!(
            base_url("flags", "http://127.0.0.1:8080/").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        let e = base_url("db", "nope://u:secret@h").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
    }
}
