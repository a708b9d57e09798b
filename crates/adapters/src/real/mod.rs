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
//!
//! This file only wires them together (`spawn`). Where the rest lives:
//! - `endpoints.rs`: the runbook's targets, expanded, and the source clients they configure;
//! - `poll.rs`: the `Source` trait, one bounded reading, the poller, the time limits;
//! - `executor.rs`: running an action's steps, dry runs, cancelling;
//! - `http.rs`: what the HTTP sources share (client, URLs, errors, size-limited replies);
//! - `reply.rs`: how a server's JSON reply is read into types without trusting its shape;
//! - `files.rs`: files an adapter owns on disk, replaced atomically;
//! - one file per system (`prometheus.rs`, `flags.rs`, `unleash.rs`, `lb.rs`, …);
//! - `flag_server.rs` and `balancer.rs`: the flag server and the load balancer by kind.

pub mod balancer;
pub mod flag_server;
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
pub mod unleash;
pub mod webhook;

mod endpoints;
mod executor;
mod files;
mod http;
mod poll;
mod reply;

pub use endpoints::{Endpoints, Sources};
pub(crate) use executor::WAIT_PREVIEW;
pub use http::{MAX_REPLY, TOO_LARGE};
pub use poll::{
    NOT_CONFIGURED, Source, WRITE_TIMEOUT, failure, fmt_secs, not_configured, poll, poll_timeout,
    read_within,
};

use crate::clock::Clock;
use crate::engine::{Observation, SourceError, State};
use crate::engine::{SourceId, SourceRef};
use crate::runbook::Runbook;
use poll::{only_error, report, report_now};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Start the pollers and the job executor on the real systems, on the real clock. Targets come
/// from the runbook, expanded with the process environment.
pub fn spawn(
    rb: &Runbook,
    _st: &State,
    jobs: crate::adapters::JobRx,
    reports: crate::adapters::ReportTx,
) -> (Clock, Vec<JoinHandle<()>>) {
    spawn_with(rb, Endpoints::from_env(rb), jobs, reports)
}

/// `spawn` with endpoints already resolved (tests point them at loopback servers).
pub fn spawn_with(
    rb: &Runbook,
    ep: Endpoints,
    jobs: crate::adapters::JobRx,
    reports: crate::adapters::ReportTx,
) -> (Clock, Vec<JoinHandle<()>>) {
    let clock = Clock::real();
    let interval = rb.monitoring.every();
    let timeout = poll_timeout(interval);
    let sources = Sources::new(rb, &ep, timeout);
    let mut tasks = Vec::new();
    let mut unavailable = sources.unavailable.clone();
    if !ep.kube_configured() {
        unavailable.push(SourceError {
            source: SourceId::Kube.into(),
            message: NOT_CONFIGURED.into(),
        });
    }
    // Each unavailable source once, under its own name, so that it stays listed.
    for e in unavailable {
        report_now(&reports, clock, only_error(e));
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
                    source: SourceRef::part(SourceId::Prometheus, "history"),
                    history,
                    ..Default::default()
                };
                let _ = report(&out, clock, observation).await;
            }
        }));
        tasks.push(tokio::spawn(poll(
            Arc::new(p),
            clock,
            interval,
            reports.clone(),
        )));
    }
    tasks.extend(poller(sources.flags.clone(), clock, interval, &reports));
    tasks.extend(poller(sources.lb.clone(), clock, interval, &reports));
    tasks.extend(poller(sources.health.clone(), clock, interval, &reports));
    tasks.extend(poller(sources.postgres.clone(), clock, interval, &reports));
    let exec = executor::Executor::new(rb, sources, ep.clone(), clock, reports.clone());
    tasks.push(tokio::spawn(exec.run(jobs)));
    if ep.kube_configured() {
        let deps = executor::deployments(rb);
        let pod_pools = pods::pod_pools(rb, &ep.blue, &ep.green);
        let out = reports;
        tasks.push(tokio::spawn(async move {
            let kube = match kube::Kube::connect(&ep, timeout).await {
                Ok(k) => k,
                Err(e) => {
                    let error = SourceError {
                        source: SourceId::Kube.into(),
                        message: e,
                    };
                    let _ = report(&out, clock, only_error(error)).await;
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
                        let error = SourceError {
                            source: pods::source(),
                            message: e,
                        };
                        let _ = report(&out, clock, only_error(error)).await;
                    }
                }
            };
            tokio::join!(poll(Arc::new(src), clock, interval, out.clone()), watch);
        }));
    }
    (clock, tasks)
}

/// A poller task for `src`, when it is configured.
fn poller<S: Source>(
    src: Option<S>,
    clock: Clock,
    interval: Duration,
    out: &crate::adapters::ReportTx,
) -> Option<JoinHandle<()>> {
    src.map(|s| tokio::spawn(poll(Arc::new(s), clock, interval, out.clone())))
}
