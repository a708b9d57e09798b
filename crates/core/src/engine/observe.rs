//! Readings folded into the state: metric values and their breaches, pools, flags, the
//! migration, and which sources are failing.

use super::alerts::level_of;
use super::event::*;
use super::observation::*;
use super::state::*;
use crate::runbook::{PoolName, Runbook};

pub(super) fn observe(st: &mut State, rb: &Runbook, at: Time, o: &Observation) {
    for (id, past) in &o.history {
        if let Some(m) = st.metrics.get_mut(id) {
            // Older than anything read since the session started: in front.
            for v in past.iter().rev() {
                m.history.push_front(v.filter(|x| x.is_finite()));
            }
            while m.history.len() > HISTORY {
                m.history.pop_front();
            }
        }
    }
    for (id, v) in &o.metrics {
        let Some(def) = rb.metric(id) else { continue };
        let Some(m) = st.metrics.get_mut(id) else {
            continue;
        };
        let v = v.filter(|x| x.is_finite());
        m.history.push_back(v);
        while m.history.len() > HISTORY {
            m.history.pop_front();
        }
        m.last = v;
        m.last_at = Some(at);
        super::hold::track(st, rb, at, id, v);
        let Some(m) = st.metrics.get_mut(id) else {
            continue;
        };
        let level = v.map(|v| level_of(def, v)).unwrap_or(Level::Ok);
        // A missing value neither starts nor ends a breach: it is unknown, shown as stale.
        if v.is_some() {
            if level >= Level::Warning {
                m.warning_since.get_or_insert(at);
            } else {
                m.warning_since = None;
            }
            if level >= Level::Critical {
                m.critical_since.get_or_insert(at);
            } else {
                m.critical_since = None;
            }
        }
    }
    if let Some(p) = &o.pools {
        let conv = |v: &Vec<ServerObs>| {
            v.iter()
                .map(|s| ServerState {
                    address: s.address.clone(),
                    healthy: s.healthy,
                    latency_ms: s.latency_ms,
                    error: s.error.clone(),
                })
                .collect()
        };
        if p.active.is_some() {
            st.pools.active = p.active;
        }
        if p.green_share.is_some() {
            st.pools.green_share = p.green_share;
        }
        if p.served.is_some() {
            st.pools.served = p.served;
        }
        let stale_after = rb.monitoring.every() * 3;
        for (i, pool, rows) in [(0, PoolName::Blue, &p.blue), (1, PoolName::Green, &p.green)] {
            if !p.complete.contains(&pool) && rows.is_empty() {
                continue;
            }
            let by = st.pools.rows_from[i];
            let target = match pool {
                PoolName::Blue => &mut st.pools.blue,
                PoolName::Green => &mut st.pools.green,
            };
            if rows_kept(by, o.source.source, at, stale_after) {
                add_latency(target, rows);
            } else {
                let mut new: Vec<ServerState> = conv(rows);
                // A server's latency stays until a reading measures it again (the balancer's
                // reading measures none).
                for r in new.iter_mut().filter(|r| r.latency_ms.is_none()) {
                    if let Some(old) = target.iter().find(|o| same_server(&r.address, &o.address)) {
                        r.latency_ms = old.latency_ms;
                    }
                }
                *target = new;
                st.pools.rows_from[i] = Some((o.source.source, at));
            }
        }
        st.pools.observed_at = Some(at);
    }
    if let Some(f) = &o.flags {
        for (k, v) in f {
            st.flags.insert(k.clone(), v.clone());
        }
        st.flags_at = Some(at);
    }
    for (k, v) in &o.flag_views {
        st.flag_views.insert(k.clone(), v.clone());
    }
    if let Some(m) = &o.migration {
        st.migration = Some(m.clone());
    }
    if let Some(b) = &o.backup {
        st.backup = Some(b.clone());
    }
    // Each observation replaces the error list of the sources it covers.
    // Each reading replaces the errors that its own source reported before (the simulator
    // reports `flags` errors, Prometheus `prometheus:<metric>` ones); others stay.
    st.source_errors.retain(|_, (_, _, from)| *from != o.source);
    for e in &o.errors {
        st.source_errors
            .insert(e.source.clone(), (e.message.clone(), at, o.source.clone()));
    }
}

/// How much a source's reading of a pool's servers counts when two report them: the load
/// balancer's (HAProxy's `show stat`) first, since it decides which server takes traffic — a
/// server it holds in maintenance or drain takes none, however its health endpoint answers;
/// then Kubernetes' pods; then the health probe; the simulator alone. One reading wins, so the
/// rows do not alternate between two views of one server.
pub fn rows_rank(source: SourceId) -> u8 {
    match source {
        SourceId::Lb => 3,
        SourceId::Kube => 2,
        SourceId::Health => 1,
        _ => 0,
    }
}

/// Whether a pool's rows, read by `by`, stay when `from` reports the pool at `at`: they were
/// read by a higher-ranked source, recently (within `stale_after`: three monitoring
/// intervals; past that the lower-ranked reading takes over rather than show old rows).
fn rows_kept(
    by: Option<(SourceId, Time)>,
    from: SourceId,
    at: Time,
    stale_after: std::time::Duration,
) -> bool {
    by.is_some_and(|(by, t)| {
        rows_rank(by) > rows_rank(from) && (at - t).to_std().unwrap_or_default() <= stale_after
    })
}

/// A lower-ranked reading of rows that stay: only the latency it measured, on the row of the
/// same server.
fn add_latency(rows: &mut [ServerState], lower: &[ServerObs]) {
    for r in rows.iter_mut() {
        if let Some(s) = lower.iter().find(|s| same_server(&r.address, &s.address)) {
            r.latency_ms = s.latency_ms;
        }
    }
}

/// Whether two rows name one server: the balancer names it `backend/name ADDRESS`, the health
/// checks `ADDRESS`.
fn same_server(a: &str, b: &str) -> bool {
    let ends = |long: &str, short: &str| {
        long.strip_suffix(short)
            .is_some_and(|head| head.ends_with(' '))
    };
    a == b || ends(a, b) || ends(b, a)
}
