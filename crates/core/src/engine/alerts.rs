//! Metric levels and alerts: how a value reads against its thresholds, when an alert is due
//! (its breach held for the metric's `for`), which breaches are pending, and the transitions
//! that fire and resolve alerts and mark servers down or up, decided ahead of the store.

use super::event::*;
use super::state::*;
use crate::runbook::{Direction, Metric, PoolName, Runbook};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricLevel {
    Ok,
    Warning,
    Critical,
    Stale,
}

impl MetricLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricLevel::Ok => "ok",
            MetricLevel::Warning => "warning",
            MetricLevel::Critical => "critical",
            MetricLevel::Stale => "stale",
        }
    }
}

/// Which threshold a value is beyond.
pub fn level_of(m: &Metric, v: f64) -> Level {
    let beyond = |t: f64| match m.direction {
        Direction::Above => v > t,
        Direction::Below => v < t,
    };
    if m.critical.as_ref().is_some_and(|c| beyond(c.value)) {
        Level::Critical
    } else if m.warning.as_ref().is_some_and(|w| beyond(w.value)) {
        Level::Warning
    } else {
        Level::Ok
    }
}

/// The value of a metric's threshold for `level`: the critical one, else the warning one.
pub fn threshold(def: &Metric, level: Level) -> Option<f64> {
    match level {
        Level::Critical => def.critical.as_ref(),
        _ => def.warning.as_ref(),
    }
    .map(|t| t.value)
}

/// How long a breach that began at `since` has held at `now`.
fn held(since: Time, now: Time) -> Duration {
    (now - since).to_std().unwrap_or_default()
}

/// The alert level due for a metric at `now`: the highest threshold its value has been beyond
/// for the metric's `for` duration. `alert_transitions` fires and resolves alerts by it.
pub fn alert_due(def: &Metric, m: &MetricState, now: Time) -> Level {
    let held_for = |since: Option<Time>| since.is_some_and(|s| held(s, now) >= def.r#for);
    if def.critical.is_some() && held_for(m.critical_since) {
        Level::Critical
    } else if def.warning.is_some() && held_for(m.warning_since) {
        Level::Warning
    } else {
        Level::Ok
    }
}

/// A threshold a metric's fresh value is beyond now while no alert at that level fires: the
/// alert fires once the breach has held for the metric's `for` duration.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingAlert {
    pub metric: String,
    pub level: Level,
    pub value: f64,
    pub threshold: f64,
    /// How long the value must stay beyond the threshold before the alert fires.
    pub fires_in: Duration,
}

/// Every pending alert at `st.now`, in the runbook's order of metrics.
pub fn pending_alerts(st: &State, rb: &Runbook) -> Vec<PendingAlert> {
    let Some(now) = st.now else {
        return Vec::new();
    };
    rb.metrics
        .iter()
        .filter_map(|def| {
            let m = st.metrics.get(&def.id.value)?;
            let (level, since) = match st.metric_level(rb, &def.id.value) {
                MetricLevel::Critical => (Level::Critical, m.critical_since),
                MetricLevel::Warning => (Level::Warning, m.warning_since),
                MetricLevel::Ok | MetricLevel::Stale => return None,
            };
            if level <= m.firing {
                return None;
            }
            Some(PendingAlert {
                metric: def.id.value.clone(),
                level,
                value: m.last?,
                threshold: threshold(def, level)?,
                fires_in: def.r#for.saturating_sub(held(since?, now)),
            })
        })
        .collect()
}

/// The value to show beside a firing alert: the metric's value now, else the one it fired at.
pub fn alert_value(st: &State, a: &AlertRecord) -> Option<f64> {
    st.metrics.get(&a.metric).and_then(|m| m.last).or(a.value)
}

/// Alert transitions that are due at `st.now`: an alert fires when its threshold has been
/// breached for the metric's `for` duration, and resolves when the value is back; a server
/// that stops answering its health check is down until it answers again.
pub fn alert_transitions(st: &State, rb: &Runbook) -> Vec<Event> {
    let Some(now) = st.now else { return Vec::new() };
    let mut out = server_transitions(st);
    for def in &rb.metrics {
        let Some(m) = st.metrics.get(&def.id.value) else {
            continue;
        };
        let due = alert_due(def, m, now);
        if due == m.firing {
            continue;
        }
        // A metric whose source is down keeps its alert as it was: unknown is not resolved.
        if m.last.is_none() {
            continue;
        }
        if due > m.firing {
            let threshold = threshold(def, due).unwrap_or(f64::NAN);
            out.push(Event::AlertFired {
                metric: def.id.value.clone(),
                level: due,
                value: m.last,
                threshold,
            });
        } else {
            out.push(Event::AlertResolved {
                metric: def.id.value.clone(),
                level: m.firing,
                value: m.last,
            });
        }
    }
    out
}

/// Servers that went down or came back since the last transition.
fn server_transitions(st: &State) -> Vec<Event> {
    let mut out = Vec::new();
    for pool in [PoolName::Blue, PoolName::Green] {
        for s in st.pools.servers(pool) {
            let down = st.servers_down.contains_key(&s.address);
            if !s.healthy && !down {
                out.push(Event::ServerDown {
                    pool,
                    address: s.address.clone(),
                    error: s
                        .error
                        .clone()
                        .unwrap_or_else(|| "health check failed".into()),
                });
            } else if s.healthy && down {
                out.push(Event::ServerUp {
                    pool,
                    address: s.address.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SourceId;
    use crate::engine::test_support::{seed, t};
    use crate::engine::{Observation, apply};

    fn error_rate(v: f64) -> Event {
        Event::Observed(Observation {
            source: SourceId::Prometheus.into(),
            metrics: [("error_rate".to_string(), Some(v))].into_iter().collect(),
            ..Default::default()
        })
    }

    #[test]
    fn an_alert_is_due_once_its_breach_held_for_the_metric_for_duration() {
        let rb = seed();
        let Some(def) = rb.metric("error_rate") else {
            panic!("error_rate")
        };
        assert_eq!(def.r#for, Duration::from_secs(30));
        assert_eq!(threshold(def, Level::Critical), Some(1.0));
        assert_eq!(threshold(def, Level::Warning), Some(0.5));
        let m = MetricState {
            warning_since: Some(t(0)),
            critical_since: Some(t(20)),
            ..Default::default()
        };
        assert_eq!(alert_due(def, &m, t(29)), Level::Ok);
        assert_eq!(alert_due(def, &m, t(30)), Level::Warning);
        assert_eq!(alert_due(def, &m, t(50)), Level::Critical);
        assert_eq!(alert_due(def, &MetricState::default(), t(50)), Level::Ok);
    }

    #[test]
    fn a_breach_is_pending_until_its_alert_fires() {
        let rb = seed();
        let mut st = State::new(&rb);
        apply(&mut st, &rb, t(0), &error_rate(2.0));
        apply(&mut st, &rb, t(10), &error_rate(2.5));
        let pending = pending_alerts(&st, &rb);
        assert_eq!(
            pending,
            vec![PendingAlert {
                metric: "error_rate".into(),
                level: Level::Critical,
                value: 2.5,
                threshold: 1.0,
                fires_in: Duration::from_secs(20),
            }]
        );
        assert_eq!(alert_transitions(&st, &rb), vec![]);
        apply(&mut st, &rb, t(30), &error_rate(2.5));
        for e in alert_transitions(&st, &rb) {
            apply(&mut st, &rb, t(30), &e);
        }
        assert_eq!(st.firing().count(), 1);
        assert_eq!(pending_alerts(&st, &rb), vec![], "fired: no longer pending");
        let Some(a) = st.firing().next() else {
            panic!("firing")
        };
        assert_eq!(alert_value(&st, a), Some(2.5));
        // Back below every threshold: nothing pending.
        apply(&mut st, &rb, t(40), &error_rate(0.1));
        assert_eq!(pending_alerts(&st, &rb), vec![]);
    }
}
