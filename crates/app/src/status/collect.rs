//! The IO of `warroom status`: every source the runbook's targets configure, read once and
//! all at once, each bounded by the timeout. The clients are the adapters' own
//! (`real::Sources`, read through `real::read_within`), built the way the console's pollers
//! build them; nothing here interprets a reading.

use crate::engine::Observation;
use crate::engine::SourceId;
use crate::real::{self, Endpoints, Source, Sources, haproxy::Split};
use crate::runbook::Runbook;
use std::time::Duration;

/// What one round of every source said.
pub(super) struct Readings {
    /// One observation per source (or per failure), in no meaningful order.
    pub observations: Vec<Observation>,
    /// The replication lag in seconds: the database's, else the lag metric Prometheus read.
    pub lag: Option<f64>,
    /// What HAProxy counts each backend served since it started; `None` for other balancers.
    pub served: Option<Split>,
}

/// One reading of `src` when it is configured, bounded by `limit`.
async fn read_once<S: Source>(src: Option<&S>, limit: Duration) -> Option<Observation> {
    match src {
        Some(s) => Some(real::read_within(s, limit).await),
        None => None,
    }
}

/// One round of every configured source in `ep`, each bounded by `timeout` (and a second
/// more as a backstop, as the pollers do).
pub(super) async fn read(rb: &Runbook, ep: &Endpoints, timeout: Duration) -> Readings {
    let sources = Sources::new(rb, ep, timeout);
    let limit = timeout + Duration::from_secs(1);
    let mut observations: Vec<Observation> = sources
        .unavailable
        .iter()
        .map(|e| Observation {
            source: e.source.clone(),
            errors: vec![e.clone()],
            ..Default::default()
        })
        .collect();
    // The database is read apart: its reading carries the lag even when no metric asks for it.
    let db = async {
        let p = sources.postgres.as_ref()?;
        Some(match tokio::time::timeout(limit, p.reading()).await {
            Ok(r) => (p.observation(&r), r.lag.as_ref().ok().copied()),
            Err(_) => (
                p.failed(format!("no answer within {}", real::fmt_secs(limit))),
                None,
            ),
        })
    };
    let (prom, flags, lb, health, db, kube) = tokio::join!(
        read_once(sources.prometheus.as_ref(), limit),
        read_once(sources.flags.as_ref(), limit),
        read_once(sources.lb.as_ref(), limit),
        read_once(sources.health.as_ref(), limit),
        db,
        read_kube(rb, ep, timeout, limit),
    );
    // The replication lag is PostgreSQL's own reading (`targets.database`), whatever metric
    // the runbook shows it as.
    let mut lag = None;
    if let Some((o, l)) = db {
        lag = l;
        observations.push(o);
    }
    observations.extend([prom, flags, lb, health].into_iter().flatten());
    observations.extend(kube);
    // HAProxy counts what each backend served: the split as served, beside the share asked.
    let served = match &sources.lb {
        Some(real::balancer::Balancer::Haproxy(h)) => h.since_start(),
        _ => None,
    };
    Readings {
        observations,
        lag,
        served,
    }
}

/// Kubernetes, when configured: the pools' Deployments, and the pods' readiness of the pools
/// that list no servers.
async fn read_kube(
    rb: &Runbook,
    ep: &Endpoints,
    timeout: Duration,
    limit: Duration,
) -> Vec<Observation> {
    if !ep.kube_configured() {
        return vec![real::not_configured(SourceId::Kube)];
    }
    // The same Deployments `real::spawn` polls (its list is private to the adapters).
    let deployments: Vec<String> = [&rb.pools.blue, &rb.pools.green]
        .iter()
        .filter_map(|p| p.deployment.clone())
        .collect();
    let k = match real::kube::Kube::connect(ep, timeout).await {
        Ok(k) => k,
        Err(e) => return vec![real::failure(SourceId::Kube, &e)],
    };
    let mut out = Vec::new();
    // Pools without servers: their pods' readiness, read once. (After the deployments'
    // reading, which would otherwise clear its errors.)
    let pools = real::pods::pod_pools(rb, &ep.blue, &ep.green);
    let pods = if pools.is_empty() {
        None
    } else {
        Some(real::pods::read_once(&k, &pools, limit).await)
    };
    if !deployments.is_empty() {
        let src = real::kube::KubeSource::new(k, deployments);
        out.push(real::read_within(&src, limit).await);
    }
    out.extend(pods);
    out
}
