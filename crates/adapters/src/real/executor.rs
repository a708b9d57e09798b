//! The executor: runs an action's steps one at a time, each through the adapter that carries
//! it out (flag API, load balancer, Kubernetes, shell), answers dry runs, and stops an action
//! that a rollback took over.

use super::poll::report;
use super::{
    Endpoints, NOT_CONFIGURED, Sources, WRITE_TIMEOUT, balancer, flag_server::FlagServer, kube,
    postgres, shell,
};
use crate::adapters::{Job, Report};
use crate::clock::Clock;
use crate::engine::Observation;
use crate::engine::SourceId;
use crate::runbook::{PoolName, Runbook, StepKind, redact};
use std::future::Future;
use std::sync::Arc;

/// What a dry run says of a `wait_until` step.
pub(crate) const WAIT_PREVIEW: &str =
    "changes nothing: waits for the readings to meet its condition";
/// A `wait_until` step asked of an adapter (never: the executor stops before it).
const WAIT_IS_THE_ENGINES: &str =
    "a wait_until step is ended by the engine from the readings, not run by an adapter";

/// The Deployments the pools name.
pub(super) fn deployments(rb: &Runbook) -> Vec<String> {
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
pub(super) struct Executor {
    /// Flags with an environment-variable twin, and the Deployments that carry it: where a
    /// flag is set when there is no flag API.
    flag_env: std::collections::BTreeMap<String, String>,
    deployments: Vec<String>,
    flags: Option<FlagServer>,
    lb: Option<balancer::Balancer>,
    postgres: Option<postgres::Postgres>,
    kube: tokio::sync::OnceCell<Result<kube::Kube, String>>,
    service: Option<kube::ServiceTarget>,
    /// The one-shot SQL checks, by metric id: run when asked (`Job::Once`).
    once: std::collections::BTreeMap<String, String>,
    ep: Endpoints,
    clock: Clock,
    out: crate::adapters::ReportTx,
}

type Running = std::pin::Pin<Box<dyn Future<Output = bool> + Send>>;

impl Executor {
    /// The executor for `rb`'s steps, writing through the sources that can write.
    pub(super) fn new(
        rb: &Runbook,
        sources: Sources,
        ep: Endpoints,
        clock: Clock,
        out: crate::adapters::ReportTx,
    ) -> Executor {
        Executor {
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
            once: postgres::once_checks(rb),
            ep,
            clock,
            out,
        }
    }

    /// Take jobs until the session stops sending them (or listening).
    pub(super) async fn run(self, mut jobs: crate::adapters::JobRx) {
        let this = Arc::new(self);
        let mut queue: std::collections::VecDeque<(u64, Vec<crate::engine::PlannedStep>, usize)> =
            Default::default();
        // The action in progress. Dropping it stops it where it is.
        let mut current: Option<(u64, Running)> = None;
        loop {
            if current.is_none()
                && let Some((id, steps, from)) = queue.pop_front()
            {
                let me = this.clone();
                current = Some((id, Box::pin(async move { me.job(id, steps, from).await })));
            }
            tokio::select! {
                job = jobs.recv() => match job {
                    None => return,
                    Some(Job::Run { id, steps }) => queue.push_back((id, steps, 0)),
                    Some(Job::Continue { id, steps, from }) => queue.push_back((id, steps, from)),
                    Some(Job::Preview { id, steps }) => {
                        // Dry runs only read: answered on their own task.
                        let me = this.clone();
                        tokio::spawn(async move { me.preview(id, steps).await });
                    }
                    Some(Job::Once { metrics }) => {
                        // Reads only: answered on their own task, like a dry run.
                        let me = this.clone();
                        tokio::spawn(async move { me.once(metrics).await });
                    }
                    Some(Job::Cancel { id }) => {
                        if current.as_ref().is_some_and(|(c, _)| *c == id) {
                            current = None;
                        }
                        queue.retain(|(q, _, _)| *q != id);
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
            if crate::engine::engine_step(s) {
                lines.push(format!("{}: {WAIT_PREVIEW}", s.name));
                continue;
            }
            // A balancer that can show what a change would do (nginx: the file's diff).
            let share = match &s.kind {
                StepKind::SetWeights { green } => Some(*green),
                StepKind::SwitchPool(PoolName::Blue) => Some(0),
                StepKind::SwitchPool(PoolName::Green) => Some(100),
                _ => None,
            };
            let lb_line = match (share, &self.lb) {
                (Some(g), Some(lb)) => lb.preview(g).await,
                _ => None,
            };
            // A flag server that can say what a write would do (Unleash: from the feature now).
            if let (StepKind::SetFlag(f), Some(FlagServer::Unleash(u))) = (&s.kind, &self.flags) {
                let line = u.preview(&f.flag, &f.value).await;
                lines.push(format!("{}: {}", s.name.clone(), redact(&line)));
                continue;
            }
            // A switch also repoints the Service, when there is one: show both.
            let service_too = has_service && matches!(s.kind, StepKind::SwitchPool(_));
            if let Some(p) = &lb_line
                && !service_too
            {
                lines.push(format!("{}: {}", s.name.clone(), redact(p)));
                continue;
            }
            let line = match self.kube().await {
                Ok(k) => match k.preview(&s.kind).await {
                    Some(Ok(o)) => o,
                    Some(Err(e)) => format!("dry run failed: {e}"),
                    None => "no dry run for this step (not a Kubernetes write)".into(),
                },
                Err(_)
                    if !(matches!(
                        s.kind,
                        StepKind::SetImage(_) | StepKind::SetEnv(_) | StepKind::Restart { .. }
                    ) || matches!(s.kind, StepKind::SwitchPool(_)) && has_service) =>
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
        self.out.send(Report::Previewed { id, lines }).await.is_ok()
    }

    /// Run one-shot SQL checks on `targets.database` (read-only), each answer reported as a
    /// reading.
    async fn once(&self, metrics: Vec<String>) {
        for id in metrics {
            let answer = match (self.once.get(&id), &self.postgres) {
                (None, _) => Err(format!("`{id}` is not a one-shot SQL check")),
                (Some(_), None) => Err(format!("postgres: {NOT_CONFIGURED}")),
                (Some(q), Some(pg)) => pg.check(q).await.map_err(|e| redact(&e)),
            };
            let o = postgres::once_observation(SourceId::Postgres, &id, answer);
            if !report(&self.out, self.clock, o).await {
                return;
            }
        }
    }

    /// Run one action's steps from step `from`; false when nobody listens any more. A step
    /// the engine ends (`wait_until`) stops the job there: its outcome is the engine's, and
    /// the rest comes back as `Job::Continue`.
    async fn job(&self, id: u64, steps: Vec<crate::engine::PlannedStep>, from: usize) -> bool {
        if steps.is_empty() {
            return self.finished(id, true, "nothing to run".into()).await;
        }
        for (i, step) in steps.iter().enumerate().skip(from) {
            if crate::engine::engine_step(step) {
                return true;
            }
            let result = self.step(&step.kind).await;
            let ok = result.is_ok();
            let output = redact(match &result {
                Ok(s) | Err(s) => s,
            });
            let sent = self
                .out
                .send(Report::StepFinished {
                    id,
                    at: self.clock.now(),
                    step: i,
                    name: step.name.clone(),
                    ok,
                    output: output.clone(),
                })
                .await;
            if sent.is_err() {
                return false;
            }
            if !ok {
                return self
                    .finished(id, false, format!("step {} failed: {output}", step.name))
                    .await;
            }
        }
        self.finished(id, true, format!("{} step(s) done", steps.len()))
            .await
    }

    /// Report what a write read back, so the screen follows without waiting for a poll.
    async fn observed(&self, observation: Observation) {
        let _ = report(&self.out, self.clock, observation).await;
    }

    /// Report that action `id` ended; false when nobody listens any more.
    async fn finished(&self, id: u64, ok: bool, detail: String) -> bool {
        self.out
            .send(Report::Finished {
                id,
                at: self.clock.now(),
                ok,
                detail,
            })
            .await
            .is_ok()
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

    async fn step(&self, action: &StepKind) -> Result<String, String> {
        match action {
            StepKind::SetFlag(f) => {
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
                    self.observed(back).await;
                }
                out
            }
            StepKind::SwitchPool(p) => {
                let service = self.service.clone().filter(|_| self.ep.kube_configured());
                if self.lb.is_none() && service.is_none() {
                    return Err(format!("lb: {NOT_CONFIGURED}"));
                }
                // The load balancer first, then the Service; the step reports both.
                let mut done = Vec::new();
                if let Some(lb) = &self.lb {
                    let (out, back) = lb.switch(*p).await?;
                    if let Some(b) = back {
                        self.observed(b).await;
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
            StepKind::SetWeights { green } => {
                let Some(lb) = &self.lb else {
                    return Err(format!("lb: {NOT_CONFIGURED}"));
                };
                let (out, back) = lb.set_weights(*green).await?;
                if let Some(b) = back {
                    self.observed(b).await;
                }
                out
            }
            StepKind::ServerState(s) => {
                let Some(lb) = &self.lb else {
                    return Err(format!("lb: {NOT_CONFIGURED}"));
                };
                let (out, back) = lb.server_state(s).await?;
                if let Some(b) = back {
                    self.observed(b).await;
                }
                out
            }
            StepKind::SetImage(s) => {
                let k = self.kube().await?;
                k.set_image(&s.deployment, &s.container, &s.image, false)
                    .await
            }
            StepKind::SetEnv(s) => {
                let k = self.kube().await?;
                k.set_env(&s.deployment, &s.container, &s.name, &s.value, false)
                    .await
            }
            StepKind::Restart { deployment } => {
                let k = self.kube().await?;
                k.restart(deployment, false).await
            }
            StepKind::WaitRollout { deployment } => {
                let k = self.kube().await?;
                k.wait_rollout(deployment, None).await
            }
            StepKind::Run(r) => {
                shell::run(r, &|k| std::env::var(k).ok(), self.postgres.as_ref()).await
            }
            // `job` stops before it: the engine ends it from the readings.
            StepKind::WaitUntil(_) => Err(WAIT_IS_THE_ENGINES.into()),
        }
    }
}
