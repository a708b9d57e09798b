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
        if p.complete.contains(&PoolName::Blue) || !p.blue.is_empty() {
            st.pools.blue = conv(&p.blue);
        }
        if p.complete.contains(&PoolName::Green) || !p.green.is_empty() {
            st.pools.green = conv(&p.green);
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
