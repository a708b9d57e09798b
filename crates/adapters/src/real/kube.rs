//! Kubernetes (kube 5, k8s-openapi): what kubectl does for the runbook's steps.
//!
//! - `set_image`: strategic-merge patch of the named container's image (`kubectl set image`).
//! - `set_env`: strategic-merge patch of the named container's env (`kubectl set env`).
//! - `restart`: patch `kubectl.kubernetes.io/restartedAt` on the pod template.
//! - `wait_rollout`: read the Deployment until it is rolled out (`kubectl rollout status`),
//!   failing on `ProgressDeadlineExceeded`, bounded by the progress deadline.
//!
//! Every write reads its result back, and can be previewed with a server-side dry run
//! (`dryRun=All`): nothing is persisted and the answer says what would change.

use super::{Endpoints, NOT_CONFIGURED, Source, fmt_secs};
use crate::engine::{Observation, SourceError};
use crate::runbook::{PoolName, StepAction, redact};
use ::kube::api::{Api, Patch, PatchParams};
use ::kube::config::{KubeConfigOptions, Kubeconfig};
use ::kube::{Client, Config};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long a watch request may stay open (`timeoutSeconds`) before the watcher renews it.
pub const WATCH_SECONDS: u32 = 60;

pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
const FIELD_MANAGER: &str = "warroom";

#[derive(Clone)]
pub struct Kube {
    client: Client,
    namespace: String,
    timeout: Duration,
    poll_every: Duration,
    service: Option<ServiceTarget>,
}

/// The Service whose selector points at the active pool, and each pool's labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceTarget {
    pub name: String,
    pub blue: BTreeMap<String, String>,
    pub green: BTreeMap<String, String>,
}

impl ServiceTarget {
    pub fn labels(&self, pool: PoolName) -> &BTreeMap<String, String> {
        match pool {
            PoolName::Blue => &self.blue,
            PoolName::Green => &self.green,
        }
    }
}

/// `app=backend,color=green`, or `(none)`.
pub fn fmt_selector(sel: &BTreeMap<String, String>) -> String {
    if sel.is_empty() {
        return "(none)".into();
    }
    sel.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn selector(s: &Service) -> BTreeMap<String, String> {
    s.spec
        .as_ref()
        .and_then(|sp| sp.selector.clone())
        .unwrap_or_default()
}

impl std::fmt::Debug for Kube {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kube")
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// Where a rollout stands, as `kubectl rollout status` judges it.
#[derive(Debug, Clone, PartialEq)]
pub enum Rollout {
    Done(String),
    Waiting(String),
    Failed(String),
}

/// Judge a Deployment's rollout from its spec and status.
pub fn rollout_state(d: &Deployment) -> Rollout {
    let name = d.metadata.name.clone().unwrap_or_default();
    let generation = d.metadata.generation.unwrap_or(0);
    let Some(st) = &d.status else {
        return Rollout::Waiting(format!("deployment/{name}: no status yet"));
    };
    if st.observed_generation.unwrap_or(0) < generation {
        return Rollout::Waiting(format!(
            "deployment/{name}: waiting for the spec update to be observed"
        ));
    }
    if let Some(c) = st.conditions.as_ref().and_then(|cs| {
        cs.iter()
            .find(|c| c.type_.as_deref() == Some("Progressing"))
    }) && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    {
        return Rollout::Failed(format!(
            "deployment/{name} exceeded its progress deadline{}",
            c.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ));
    }
    let want = d.spec.replicas.unwrap_or(1);
    let updated = st.updated_replicas.unwrap_or(0);
    let total = st.replicas.unwrap_or(0);
    let ready = st.ready_replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    if updated < want {
        return Rollout::Waiting(format!(
            "deployment/{name}: {updated} of {want} new replicas updated"
        ));
    }
    if total > updated {
        return Rollout::Waiting(format!(
            "deployment/{name}: {} old replicas pending termination",
            total - updated
        ));
    }
    if ready < want {
        return Rollout::Waiting(format!(
            "deployment/{name}: {ready} of {want} replicas ready"
        ));
    }
    if available < updated {
        return Rollout::Waiting(format!(
            "deployment/{name}: {available} of {updated} updated replicas available"
        ));
    }
    Rollout::Done(format!(
        "deployment/{name} rolled out: {updated} updated, {ready} ready, {available} available of {want}"
    ))
}

pub(crate) fn kube_error(what: &str, e: ::kube::Error) -> String {
    let msg = match e {
        ::kube::Error::Api(s) => {
            let mut m = format!("HTTP {}", s.code);
            if !s.reason.is_empty() {
                m.push_str(&format!(" {}", s.reason));
            }
            if !s.message.is_empty() {
                m.push_str(&format!(
                    ": {}",
                    s.message.chars().take(300).collect::<String>()
                ));
            }
            m
        }
        other => {
            let mut m = other.to_string();
            let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&other);
            let mut last = None;
            while let Some(s) = src {
                last = Some(s.to_string());
                src = s.source();
            }
            if let Some(l) = last
                && !m.contains(&l)
            {
                m.push_str(&format!(": {l}"));
            }
            m
        }
    };
    redact(&format!("{what}: {msg}"))
}

fn container_names(d: &Deployment) -> Vec<String> {
    d.spec
        .template
        .spec
        .as_ref()
        .map(|p| p.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default()
}

fn container<'a>(
    d: &'a Deployment,
    name: &str,
) -> Option<&'a k8s_openapi::api::core::v1::Container> {
    d.spec
        .template
        .spec
        .as_ref()?
        .containers
        .iter()
        .find(|c| c.name == name)
}

fn env_value(d: &Deployment, cont: &str, var: &str) -> Option<String> {
    container(d, cont)?
        .env
        .as_ref()?
        .iter()
        .find(|e| e.name == var)
        .map(|e| {
            e.value
                .clone()
                .unwrap_or_else(|| "(from a reference)".to_string())
        })
}

fn restarted_at(d: &Deployment) -> Option<String> {
    d.spec
        .template
        .metadata
        .as_ref()?
        .annotations
        .as_ref()?
        .get(RESTARTED_AT)
        .cloned()
}

impl Kube {
    /// A client from the endpoints' kubeconfig files (merged, current context) or the
    /// in-cluster service account. Every request is bounded by `timeout`.
    pub async fn connect(ep: &Endpoints, timeout: Duration) -> Result<Kube, String> {
        Kube::connect_with(ep, timeout, timeout).await
    }

    /// A client for long-running watches: requests connect within `timeout`, but a watch may
    /// stay quiet for up to [`WATCH_SECONDS`]; a connection silent for longer than that (plus
    /// `timeout`) is dead, and the watcher reconnects.
    pub async fn connect_for_watch(ep: &Endpoints, timeout: Duration) -> Result<Kube, String> {
        Kube::connect_with(
            ep,
            timeout,
            Duration::from_secs(WATCH_SECONDS as u64 + 5) + timeout,
        )
        .await
    }

    async fn connect_with(
        ep: &Endpoints,
        timeout: Duration,
        read_timeout: Duration,
    ) -> Result<Kube, String> {
        let mut config = if !ep.kubeconfig.is_empty() {
            let mut merged: Option<Kubeconfig> = None;
            for p in &ep.kubeconfig {
                let k = Kubeconfig::read_from(p)
                    .map_err(|e| redact(&format!("kubeconfig {}: {e}", p.display())))?;
                merged = Some(match merged {
                    None => k,
                    Some(m) => m
                        .merge(k)
                        .map_err(|e| redact(&format!("kubeconfig {}: {e}", p.display())))?,
                });
            }
            let kc = merged.ok_or_else(|| NOT_CONFIGURED.to_string())?;
            tokio::time::timeout(
                timeout,
                Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()),
            )
            .await
            .map_err(|_| format!("kubeconfig: no credentials within {}", fmt_secs(timeout)))?
            .map_err(|e| redact(&format!("kubeconfig: {e}")))?
        } else if ep.in_cluster {
            Config::incluster().map_err(|e| redact(&format!("in-cluster config: {e}")))?
        } else {
            return Err(NOT_CONFIGURED.into());
        };
        config.connect_timeout = Some(timeout);
        config.read_timeout = Some(read_timeout);
        config.write_timeout = Some(timeout);
        config.reset_reader_on_write = true;
        config.default_retry = false;
        let namespace = ep
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let client = Client::try_from(config).map_err(|e| kube_error("kube client", e))?;
        Ok(Kube {
            client,
            namespace,
            timeout,
            poll_every: Duration::from_secs(2),
            service: None,
        })
    }

    /// The Service that `SwitchPool` steps (and their previews) repoint.
    pub fn with_service(mut self, service: Option<ServiceTarget>) -> Kube {
        self.service = service;
        self
    }

    pub fn service(&self) -> Option<&ServiceTarget> {
        self.service.as_ref()
    }

    /// How often `wait_rollout` reads the Deployment (2 s by default).
    pub fn with_poll_interval(mut self, every: Duration) -> Kube {
        self.poll_every = every.max(Duration::from_millis(10));
        self
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn api(&self) -> Api<Deployment> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    async fn bounded<T>(
        &self,
        what: &str,
        f: impl std::future::Future<Output = Result<T, ::kube::Error>>,
    ) -> Result<T, String> {
        match tokio::time::timeout(self.timeout + Duration::from_millis(500), f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(kube_error(what, e)),
            Err(_) => Err(format!(
                "{what}: no answer within {}",
                fmt_secs(self.timeout)
            )),
        }
    }

    pub async fn get(&self, name: &str) -> Result<Deployment, String> {
        self.bounded(&format!("get deployment/{name}"), self.api().get(name))
            .await
    }

    async fn patch(
        &self,
        name: &str,
        body: serde_json::Value,
        dry_run: bool,
    ) -> Result<Deployment, String> {
        let params = PatchParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        self.bounded(
            &format!("patch deployment/{name}"),
            self.api().patch(name, &params, &Patch::Strategic(body)),
        )
        .await
    }

    fn check_container(d: &Deployment, name: &str, cont: &str) -> Result<(), String> {
        if container(d, cont).is_some() {
            return Ok(());
        }
        let names = container_names(d);
        Err(format!(
            "deployment/{name} has no container `{cont}` (containers: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ))
    }

    fn suffix(dry_run: bool, d: &Deployment) -> String {
        if dry_run {
            " (dry run: nothing changed)".into()
        } else {
            format!(
                " (generation {})",
                d.metadata.generation.unwrap_or_default()
            )
        }
    }

    /// `kubectl set image deployment/NAME CONTAINER=IMAGE`.
    pub async fn set_image(
        &self,
        name: &str,
        cont: &str,
        image: &str,
        dry_run: bool,
    ) -> Result<String, String> {
        let before = self.get(name).await?;
        Self::check_container(&before, name, cont)?;
        let old = container(&before, cont)
            .and_then(|c| c.image.clone())
            .unwrap_or_else(|| "(none)".into());
        let body = serde_json::json!({"spec": {"template": {"spec": {"containers": [
            {"name": cont, "image": image}
        ]}}}});
        let after = self.patch(name, body, dry_run).await?;
        let new = container(&after, cont).and_then(|c| c.image.clone());
        if new.as_deref() != Some(image) {
            return Err(format!(
                "set deployment/{name} {cont} image {image}, read back {}",
                new.unwrap_or_else(|| "(none)".into())
            ));
        }
        Ok(format!(
            "deployment/{name}: container {cont} image {old} → {image}{}",
            Self::suffix(dry_run, &after)
        ))
    }

    /// `kubectl set env deployment/NAME VAR=VALUE`: every container of the Deployment.
    pub async fn set_env_all(&self, name: &str, var: &str, value: &str) -> Result<String, String> {
        let d = self.get(name).await?;
        let names = container_names(&d);
        if names.is_empty() {
            return Err(format!("deployment/{name} has no containers"));
        }
        let mut out = Vec::new();
        for c in names {
            out.push(self.set_env(name, &c, var, value, false).await?);
        }
        Ok(out.join("; "))
    }

    /// `kubectl set env deployment/NAME -c CONTAINER VAR=VALUE`.
    pub async fn set_env(
        &self,
        name: &str,
        cont: &str,
        var: &str,
        value: &str,
        dry_run: bool,
    ) -> Result<String, String> {
        let before = self.get(name).await?;
        Self::check_container(&before, name, cont)?;
        let old = env_value(&before, cont, var).unwrap_or_else(|| "(unset)".into());
        let body = serde_json::json!({"spec": {"template": {"spec": {"containers": [
            {"name": cont, "env": [{"name": var, "value": value}]}
        ]}}}});
        let after = self.patch(name, body, dry_run).await?;
        let new = env_value(&after, cont, var);
        if new.as_deref() != Some(value) {
            return Err(format!(
                "set deployment/{name} {cont} env {var}={value}, read back {var}={}",
                new.unwrap_or_else(|| "(unset)".into())
            ));
        }
        Ok(format!(
            "deployment/{name}: container {cont} env {var} {old} → {value}{}",
            Self::suffix(dry_run, &after)
        ))
    }

    /// `kubectl rollout restart deployment/NAME`.
    pub async fn restart(&self, name: &str, dry_run: bool) -> Result<String, String> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let body = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {
            RESTARTED_AT: now
        }}}}});
        let after = self.patch(name, body, dry_run).await?;
        match restarted_at(&after) {
            Some(at) if at == now => Ok(format!(
                "deployment/{name}: restarted at {now}{}",
                Self::suffix(dry_run, &after)
            )),
            other => Err(format!(
                "restart deployment/{name}: wrote {RESTARTED_AT}={now}, read back {}",
                other.unwrap_or_else(|| "(none)".into())
            )),
        }
    }

    /// `kubectl rollout status deployment/NAME`: read until rolled out, failed, or `limit`
    /// (default: the Deployment's progress deadline, 600 s unless set, plus 30 s).
    pub async fn wait_rollout(
        &self,
        name: &str,
        limit: Option<Duration>,
    ) -> Result<String, String> {
        let started = Instant::now();
        let mut last: String;
        let mut limit = limit;
        loop {
            match self.get(name).await {
                Ok(d) => {
                    if limit.is_none() {
                        let deadline =
                            d.spec.progress_deadline_seconds.unwrap_or(600).max(1) as u64;
                        limit = Some(Duration::from_secs(deadline + 30));
                    }
                    match rollout_state(&d) {
                        Rollout::Done(s) => {
                            return Ok(format!("{s} in {}", fmt_secs(round(started.elapsed()))));
                        }
                        Rollout::Failed(s) => return Err(s),
                        Rollout::Waiting(s) => last = s,
                    }
                }
                // A read that fails is retried until the limit: the API server may blip.
                Err(e) => last = e,
            }
            let bound = limit.unwrap_or(Duration::from_secs(630));
            if started.elapsed() + self.poll_every > bound {
                return Err(format!(
                    "deployment/{name} not rolled out within {}: {last}",
                    fmt_secs(bound)
                ));
            }
            tokio::time::sleep(self.poll_every).await;
        }
    }

    /// What a step would do, from a server-side dry run; `None` for steps that write nothing
    /// to Kubernetes.
    pub async fn preview(&self, step: &StepAction) -> Option<Result<String, String>> {
        Some(match step {
            StepAction::SetImage(s) => {
                self.set_image(&s.deployment, &s.container, &s.image, true)
                    .await
            }
            StepAction::SetEnv(s) => {
                self.set_env(&s.deployment, &s.container, &s.name, &s.value, true)
                    .await
            }
            StepAction::Restart { deployment } => self.restart(deployment, true).await,
            StepAction::SwitchPool(p) => {
                let svc = self.service.as_ref()?;
                self.switch_service(&svc.name, svc.labels(*p), true).await
            }
            _ => return None,
        })
    }

    pub(crate) fn pods(&self) -> Api<k8s_openapi::api::core::v1::Pod> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn services(&self) -> Api<Service> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub async fn get_service(&self, name: &str) -> Result<Service, String> {
        self.bounded(&format!("get service/{name}"), self.services().get(name))
            .await
    }

    /// Point a Service at a pool: a strategic-merge patch of `spec.selector` to `labels`
    /// (keys that the selector has and `labels` lacks are removed), then the Service read back.
    /// A dry run (`dryRun=All`) changes nothing and is judged on the patch's answer.
    pub async fn switch_service(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<String, String> {
        if labels.is_empty() {
            return Err(format!(
                "service/{name}: the pool has no labels to select its pods"
            ));
        }
        let before = selector(&self.get_service(name).await?);
        let mut sel = serde_json::Map::new();
        for k in before.keys().filter(|k| !labels.contains_key(*k)) {
            sel.insert(k.clone(), serde_json::Value::Null);
        }
        for (k, v) in labels {
            sel.insert(k.clone(), serde_json::Value::String(v.clone()));
        }
        let body = serde_json::json!({"spec": {"selector": sel}});
        let params = PatchParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let patched = self
            .bounded(
                &format!("patch service/{name}"),
                self.services()
                    .patch(name, &params, &Patch::Strategic(body)),
            )
            .await?;
        let after = if dry_run {
            selector(&patched)
        } else {
            selector(&self.get_service(name).await?)
        };
        if &after != labels {
            return Err(format!(
                "set service/{name} selector {}, read back selector {}",
                fmt_selector(labels),
                fmt_selector(&after)
            ));
        }
        Ok(format!(
            "service/{name}: selector {} → {}{}",
            fmt_selector(&before),
            fmt_selector(&after),
            if dry_run {
                " (dry run: nothing changed)"
            } else {
                " (read back)"
            }
        ))
    }
}

fn round(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64 / 100 * 100)
}

/// Reads the pools' Deployments every interval so that an unreachable API server shows as
/// a `kube` source error before an action needs it.
pub struct KubeSource {
    kube: Kube,
    deployments: Vec<String>,
}

impl KubeSource {
    pub fn new(kube: Kube, deployments: Vec<String>) -> KubeSource {
        KubeSource { kube, deployments }
    }
}

impl Source for KubeSource {
    fn name(&self) -> &'static str {
        "kube"
    }

    async fn read(&self) -> Observation {
        let mut errors = Vec::new();
        for d in &self.deployments {
            match self.kube.get(d).await {
                Ok(dep) => {
                    if let Rollout::Failed(s) = rollout_state(&dep) {
                        errors.push(SourceError {
                            source: format!("kube:{d}"),
                            message: s,
                        });
                    }
                }
                Err(e) => errors.push(SourceError {
                    source: format!("kube:{d}"),
                    message: e,
                }),
            }
        }
        Observation {
            source: "kube".into(),
            errors,
            ..Default::default()
        }
    }

    fn failed(&self, message: String) -> Observation {
        super::failure("kube", &message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dep(v: serde_json::Value) -> Deployment {
        match serde_json::from_value(v) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn judges_rollouts_like_kubectl() {
        let base = |status: serde_json::Value| {
            dep(json!({
                "metadata": {"name": "web", "generation": 3},
                "spec": {"replicas": 3, "selector": {}, "template": {}},
                "status": status
            }))
        };
        let done = base(
            json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 3,
            "readyReplicas": 3, "availableReplicas": 3}),
        );
        assert!(matches!(rollout_state(&done), Rollout::Done(_)));
        let stale = base(
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3,
            "readyReplicas": 3, "availableReplicas": 3}),
        );
        assert!(matches!(rollout_state(&stale), Rollout::Waiting(_)));
        let halfway = base(
            json!({"observedGeneration": 3, "replicas": 4, "updatedReplicas": 2,
            "readyReplicas": 3, "availableReplicas": 3}),
        );
        assert_eq!(
            rollout_state(&halfway),
            Rollout::Waiting("deployment/web: 2 of 3 new replicas updated".into())
        );
        let stuck = base(
            json!({"observedGeneration": 3, "replicas": 4, "updatedReplicas": 1,
            "conditions": [{"type": "Progressing", "status": "False",
                "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet web-2 has timed out progressing."}]}),
        );
        assert!(
            matches!(rollout_state(&stuck), Rollout::Failed(m) if m.contains("progress deadline"))
        );
    }
}
