//! Pool health from the pods, by watch: for a pool named by its Deployment and labels but
//! with no servers listed, a `kube_runtime` watcher on its pods (label selector from the
//! pool's labels) reports one server per pod on every change: healthy when the pod's `Ready`
//! condition is true, otherwise with why not (`CrashLoopBackOff`, the condition's reason).
//!
//! A failing watch is a `kube:pods` source error; the watcher retries with kube_runtime's
//! default backoff and re-lists when it must.

use super::kube::{Kube, WATCH_SECONDS, kube_error};
use super::poll::{report, ticker};
use crate::clock::Clock;
use crate::engine::{Observation, PoolsObs, ServerObs, SourceError};
use crate::engine::{SourceId, SourceRef};
use crate::runbook::{PoolName, Runbook, redact};
use ::kube::api::{Api, ListParams};
use ::kube::runtime::WatchStreamExt;
use ::kube::runtime::watcher;
use k8s_openapi::api::core::v1::Pod;
use std::collections::BTreeMap;
use std::time::Duration;

/// The source name of the pod watch and of its errors.
/// The pod watch: a part of `kube`.
pub fn source() -> SourceRef {
    SourceRef::part(SourceId::Kube, "pods")
}

/// A pool whose health comes from its pods.
#[derive(Debug, Clone, PartialEq)]
pub struct PodPool {
    pub pool: PoolName,
    /// A label selector: `app=backend,color=green`.
    pub selector: String,
}

/// The pools to watch: a `deployment` and `labels`, and no servers after expansion.
pub fn pod_pools(rb: &Runbook, blue_servers: &[String], green_servers: &[String]) -> Vec<PodPool> {
    [
        (PoolName::Blue, blue_servers),
        (PoolName::Green, green_servers),
    ]
    .into_iter()
    .filter_map(|(pool, servers)| {
        let p = rb.pools.get(pool);
        if !servers.is_empty() || p.deployment.is_none() || p.labels.is_empty() {
            return None;
        }
        Some(PodPool {
            pool,
            selector: p
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
        })
    })
    .collect()
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}

/// One pod as a pool server: its name, healthy when `Ready` is true.
pub fn pod_server(p: &Pod) -> ServerObs {
    let address = p.metadata.name.clone().unwrap_or_default();
    let status = p.status.as_ref();
    let ready_cond = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"));
    let ready = ready_cond.is_some_and(|c| c.status == "True");
    if ready && p.metadata.deletion_timestamp.is_none() {
        return ServerObs {
            address,
            healthy: true,
            latency_ms: None,
            error: None,
        };
    }
    let with_message = |reason: &str, message: Option<&String>| match message {
        Some(m) if !m.is_empty() => clip(&format!("{reason}: {m}")),
        _ => clip(reason),
    };
    let containers = status
        .into_iter()
        .flat_map(|s| {
            s.init_container_statuses
                .iter()
                .flatten()
                .chain(s.container_statuses.iter().flatten())
        })
        .filter(|c| !c.ready);
    let mut why = None;
    for c in containers {
        let st = c.state.as_ref();
        if let Some(w) = st.and_then(|s| s.waiting.as_ref())
            && let Some(r) = w.reason.as_deref()
        {
            why = Some(with_message(r, w.message.as_ref()));
            break;
        }
        if let Some(t) = st.and_then(|s| s.terminated.as_ref())
            && let Some(r) = t.reason.as_deref()
        {
            why = Some(with_message(r, t.message.as_ref()));
            break;
        }
    }
    let why = if p.metadata.deletion_timestamp.is_some() {
        "terminating".to_string()
    } else if let Some(w) = why {
        w
    } else if let Some(r) = ready_cond.and_then(|c| c.reason.as_deref()) {
        with_message(r, ready_cond.and_then(|c| c.message.as_ref()))
    } else {
        match status.and_then(|s| s.phase.as_deref()) {
            Some(ph) if ph != "Running" => ph.to_string(),
            _ => "not ready".to_string(),
        }
    };
    ServerObs {
        address,
        healthy: false,
        latency_ms: None,
        error: Some(redact(&why)),
    }
}

type PodEvent = Result<watcher::Event<Pod>, watcher::Error>;

fn pod_stream(
    api: Api<Pod>,
    selector: &str,
) -> impl WatchStreamExt<Item = PodEvent> + Unpin + Send {
    let config = watcher::Config::default()
        .labels(selector)
        .timeout(WATCH_SECONDS);
    Box::pin(watcher(api, config).default_backoff())
}

/// The next item of a stream, or `None` at its end or when there is no stream.
async fn next<S: WatchStreamExt + Unpin>(s: Option<&mut S>) -> Option<S::Item> {
    let s = s?;
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *s).poll_next(cx)).await
}

/// A watch failure in a few words: `watch pods: HTTP 500 InternalError: …`.
fn watch_error(e: watcher::Error) -> String {
    match e {
        watcher::Error::InitialListFailed(e) => kube_error("list pods", e),
        watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => {
            kube_error("watch pods", e)
        }
        watcher::Error::WatchError(s) => redact(&clip(&format!(
            "watch pods: HTTP {} {}: {}",
            s.code, s.reason, s.message
        ))),
        other => redact(&clip(&other.to_string())),
    }
}

#[derive(Default)]
struct PoolPods {
    watched: bool,
    pods: BTreeMap<String, ServerObs>,
    /// Pods listed since the watch (re)started, until the list is complete.
    init: Option<BTreeMap<String, ServerObs>>,
    synced: bool,
    error: Option<String>,
}

impl PoolPods {
    /// Apply one event; true when there is something new to report.
    fn apply(&mut self, pool: PoolName, ev: PodEvent) -> bool {
        match ev {
            Ok(watcher::Event::Init) => {
                self.init = Some(BTreeMap::new());
                false
            }
            Ok(watcher::Event::InitApply(p)) => {
                let s = pod_server(&p);
                self.init
                    .get_or_insert_with(BTreeMap::new)
                    .insert(s.address.clone(), s);
                false
            }
            Ok(watcher::Event::InitDone) => {
                self.pods = self.init.take().unwrap_or_default();
                self.synced = true;
                self.error = None;
                true
            }
            Ok(watcher::Event::Apply(p)) => {
                let s = pod_server(&p);
                self.pods.insert(s.address.clone(), s);
                self.error = None;
                self.synced
            }
            Ok(watcher::Event::Delete(p)) => {
                self.pods
                    .remove(&p.metadata.name.clone().unwrap_or_default());
                self.error = None;
                self.synced
            }
            Err(e) => {
                self.error = Some(format!("{pool}: {}", watch_error(e)));
                true
            }
        }
    }

    fn servers(&self) -> Vec<ServerObs> {
        if self.synced {
            self.pods.values().cloned().collect()
        } else {
            Vec::new()
        }
    }
}

/// Watch the pools' pods until nobody listens, reporting on every change.
///
/// While a pool's watch is failing, its pods are also listed (one item) every `every`: the
/// watcher says nothing when a watch restarts quietly, so a list that succeeds is what clears
/// the error.
pub async fn watch(
    kube: Kube,
    pools: Vec<PodPool>,
    every: Duration,
    clock: Clock,
    out: crate::adapters::ReportTx,
) {
    let mut probe = ticker(every);
    let api: Api<Pod> = kube.pods();
    let mut blue = None;
    let mut green = None;
    let mut state = [PoolPods::default(), PoolPods::default()];
    for p in &pools {
        let s = Some(pod_stream(api.clone(), &p.selector));
        match p.pool {
            PoolName::Blue => {
                blue = s;
                state[0].watched = true;
            }
            PoolName::Green => {
                green = s;
                state[1].watched = true;
            }
        }
    }
    loop {
        let failing = state.iter().any(|s| s.error.is_some());
        let changed = tokio::select! {
            Some(ev) = next(blue.as_mut()) => state[0].apply(PoolName::Blue, ev),
            Some(ev) = next(green.as_mut()) => state[1].apply(PoolName::Green, ev),
            _ = probe.tick(), if failing => {
                let mut cleared = false;
                for p in &pools {
                    let i = match p.pool {
                        PoolName::Blue => 0,
                        PoolName::Green => 1,
                    };
                    if state[i].error.is_none() {
                        continue;
                    }
                    let lp = ListParams::default().labels(&p.selector).limit(1);
                    if let Ok(Ok(_)) = tokio::time::timeout(every, api.list(&lp)).await {
                        state[i].error = None;
                        cleared = true;
                    }
                }
                cleared
            }
            else => return,
        };
        if !changed {
            continue;
        }
        let message = state
            .iter()
            .filter_map(|s| s.error.clone())
            .collect::<Vec<_>>()
            .join("; ");
        let errors = if message.is_empty() {
            Vec::new()
        } else {
            vec![SourceError {
                source: source(),
                message: message.clone(),
            }]
        };
        let observation = Observation {
            source: source(),
            pools: Some(PoolsObs {
                active: None,
                green_share: None,
                blue: state[0].servers(),
                green: state[1].servers(),
                // A synced watch's list is whole: no pods means no servers.
                complete: [PoolName::Blue, PoolName::Green]
                    .into_iter()
                    .zip(&state)
                    .filter(|(_, s)| s.watched && s.synced)
                    .map(|(p, _)| p)
                    .collect(),
                served: None,
            }),
            errors,
            ..Default::default()
        };
        if !report(&out, clock, observation).await {
            return;
        }
    }
}

/// One reading of the pools' pods (a list each), for `warroom status`: the same servers and
/// errors that the watch reports, without watching.
pub async fn read_once(kube: &Kube, pools: &[PodPool], limit: Duration) -> Observation {
    let api: Api<Pod> = kube.pods();
    let mut lists: [Vec<ServerObs>; 2] = [Vec::new(), Vec::new()];
    let mut complete_lists = Vec::new();
    let mut errors = Vec::new();
    for p in pools {
        let lp = ListParams::default().labels(&p.selector);
        let i = match p.pool {
            PoolName::Blue => 0,
            PoolName::Green => 1,
        };
        match tokio::time::timeout(limit, api.list(&lp)).await {
            Ok(Ok(list)) => {
                lists[i] = list.items.iter().map(pod_server).collect();
                complete_lists.push(p.pool);
            }
            Ok(Err(e)) => errors.push(format!("{}: {}", p.pool, kube_error("list pods", e))),
            Err(_) => errors.push(format!(
                "{}: list pods: no answer within {}",
                p.pool,
                super::fmt_secs(limit)
            )),
        }
    }
    let [blue, green] = lists;
    Observation {
        source: source(),
        pools: Some(PoolsObs {
            active: None,
            green_share: None,
            blue,
            green,
            complete: complete_lists,
            served: None,
        }),
        errors: if errors.is_empty() {
            Vec::new()
        } else {
            vec![SourceError {
                source: source(),
                message: errors.join("; "),
            }]
        },
        ..Default::default()
    }
}
