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
//!
//! The writes are in `kube/deployment.rs`, the Service switch in `kube/service.rs`, and the
//! rollout judgement and wait in `kube/rollout.rs`; this file holds the client and the source.

mod deployment;
mod rollout;
mod service;

pub use deployment::RESTARTED_AT;
pub use rollout::{Rollout, rollout_state};
pub use service::{ServiceTarget, fmt_selector};

use super::{Endpoints, NOT_CONFIGURED, Source, fmt_secs};
use crate::engine::{Observation, SourceError};
use crate::engine::{SourceId, SourceRef};
use crate::runbook::redact;
use ::kube::api::Api;
use ::kube::config::{KubeConfigOptions, Kubeconfig};
use ::kube::{Client, Config};
use k8s_openapi::api::apps::v1::Deployment;
use std::time::Duration;

/// How long a watch request may stay open (`timeoutSeconds`) before the watcher renews it.
pub const WATCH_SECONDS: u32 = 60;

const FIELD_MANAGER: &str = "warroom";

#[derive(Clone)]
pub struct Kube {
    client: Client,
    namespace: String,
    timeout: Duration,
    poll_every: Duration,
    service: Option<ServiceTarget>,
}

impl std::fmt::Debug for Kube {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kube")
            .field("namespace", &self.namespace)
            .finish()
    }
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
            // Reading the files blocks: off the runtime's threads.
            let paths = ep.kubeconfig.clone();
            let kc = tokio::task::spawn_blocking(move || read_kubeconfigs(&paths))
                .await
                .map_err(|e| format!("kubeconfig: reading stopped: {e}"))??;
            tokio::time::timeout(
                timeout,
                Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()),
            )
            .await
            .map_err(|_| format!("kubeconfig: no credentials within {}", fmt_secs(timeout)))?
            .map_err(|e| redact(&format!("kubeconfig: {e}")))?
        } else if ep.in_cluster {
            tokio::task::spawn_blocking(Config::incluster)
                .await
                .map_err(|e| format!("in-cluster config: reading stopped: {e}"))?
                .map_err(|e| redact(&format!("in-cluster config: {e}")))?
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

    pub(crate) fn pods(&self) -> Api<k8s_openapi::api::core::v1::Pod> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }
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
    fn name(&self) -> SourceId {
        SourceId::Kube
    }

    async fn read(&self) -> Observation {
        let mut errors = Vec::new();
        for d in &self.deployments {
            match self.kube.get(d).await {
                Ok(dep) => {
                    if let Rollout::Failed(s) = rollout_state(&dep) {
                        errors.push(SourceError {
                            source: SourceRef::part(SourceId::Kube, d.to_string()),
                            message: s,
                        });
                    }
                }
                Err(e) => errors.push(SourceError {
                    source: SourceRef::part(SourceId::Kube, d.to_string()),
                    message: e,
                }),
            }
        }
        Observation {
            source: SourceId::Kube.into(),
            errors,
            ..Default::default()
        }
    }

    fn failed(&self, message: String) -> Observation {
        super::failure(SourceId::Kube, &message)
    }
}

/// The kubeconfig files, merged in order (as `KUBECONFIG` lists them).
fn read_kubeconfigs(paths: &[std::path::PathBuf]) -> Result<Kubeconfig, String> {
    let mut merged: Option<Kubeconfig> = None;
    for p in paths {
        let k = Kubeconfig::read_from(p)
            .map_err(|e| redact(&format!("kubeconfig {}: {e}", p.display())))?;
        merged = Some(match merged {
            None => k,
            Some(m) => m
                .merge(k)
                .map_err(|e| redact(&format!("kubeconfig {}: {e}", p.display())))?,
        });
    }
    merged.ok_or_else(|| NOT_CONFIGURED.to_string())
}
