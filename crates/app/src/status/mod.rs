//! `warroom status`: one reading of every configured source, without the console, for
//! scripts and chat bots.
//!
//! The reading is folded into the engine's state like any observation, so metric states
//! (ok, warning, critical, stale) are the ones the console would show. `exit_code` is 0 when
//! healthy and 1 when a metric is critical (or a critical alert is firing in the audit log
//! the state was rebuilt from) or when what the rollout gate needs cannot be read (its
//! metrics, the flags, the load balancer, the canary pool's health): unknown is not healthy.
//! A configuration error (2) is the caller's to report.
//!
//! This file is the entry point: `collect` reads the sources (the IO), `report` is what the
//! state says (and, serialised, the JSON), `format` its text.

mod collect;
mod format;
mod report;

pub use report::{AlertStatus, MetricStatus, PoolStatus, ServerStatus, StatusReport};

use crate::engine::{self, Event, Observation, State, Time};
use crate::real::Endpoints;
use crate::runbook::{Loaded, PoolName, Runbook};
use serde_json::Value;
use std::time::Duration;

/// How long each source may take to answer `warroom status`.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// One round of every source the runbook's targets configure (from the environment).
pub async fn collect(loaded: &Loaded) -> StatusReport {
    let rb = &loaded.runbook;
    collect_with(rb, State::new(rb), &Endpoints::from_env(rb), TIMEOUT).await
}

/// One round of every configured source in `ep`, each bounded by `timeout`, folded into
/// `base` (a fresh state, or one rebuilt from an audit log for the phase and the alerts).
pub async fn collect_with(
    rb: &Runbook,
    base: State,
    ep: &Endpoints,
    timeout: Duration,
) -> StatusReport {
    let readings = collect::read(rb, ep, timeout).await;
    let mut r = report(
        rb,
        base,
        readings.observations,
        readings.lag,
        chrono::Utc::now(),
    );
    if let Some(split) = readings.served {
        for p in &mut r.pools {
            p.served = Some(match p.name {
                PoolName::Blue => split.blue,
                PoolName::Green => split.green,
            });
        }
    }
    r
}

/// Fold observations taken at `at` into `st`, then the alert transitions the engine makes due
/// (an alert fires once its breach has held for the metric's `for`, as in the console), and
/// describe the result.
pub fn report(
    rb: &Runbook,
    mut st: State,
    observations: Vec<Observation>,
    replication_lag_seconds: Option<f64>,
    at: Time,
) -> StatusReport {
    for o in observations {
        engine::apply(&mut st, rb, at, &Event::Observed(o));
    }
    // A level that resolves can let a lower one fire in the same instant: until none is due.
    let now = st.now.unwrap_or(at);
    for _ in 0..4 {
        let due = engine::alert_transitions(&st, rb);
        if due.is_empty() {
            break;
        }
        for e in &due {
            engine::apply(&mut st, rb, now, e);
        }
    }
    StatusReport::new(rb, &st, replication_lag_seconds, at)
}

/// The JSON of issue 4: the report serialised (see [`StatusReport`] for its keys).
pub fn to_json(r: &StatusReport) -> Value {
    serde_json::to_value(r)
        .unwrap_or_else(|e| Value::String(format!("the report could not be serialised: {e}")))
}

/// 0 when healthy; 1 when a metric is critical, a critical alert fires, or what the rollout
/// gate needs cannot be read.
pub fn exit_code(r: &StatusReport) -> u8 {
    r.exit_code()
}

/// A few lines for a terminal or a chat message, every one cleaned of control, bidi and
/// zero-width characters.
pub fn to_text(r: &StatusReport) -> String {
    format::text(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{PoolsObs, ServerObs, SourceId};
    use crate::real;
    use std::path::Path;

    fn seed() -> Runbook {
        let p =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../runbooks/unified-attributes.yaml");
        match crate::runbook::load(&p) {
            Ok(l) => l.runbook,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_critical_metric_exits_1_and_shapes_the_json() {
        let rb = seed();
        let at = chrono::Utc::now();
        let obs = vec![
            prometheus(&[("error_rate", 2.5)]),
            lb(PoolName::Blue, 10),
            real::not_configured(SourceId::Kube),
        ];
        let r = report(&rb, State::new(&rb), obs, None, at);
        assert_eq!(exit_code(&r), 1);
        let j = to_json(&r);
        assert_eq!(j["metrics"]["error_rate"]["state"], "critical");
        assert_eq!(j["metrics"]["error_rate"]["value"], 2.5);
        assert_eq!(j["metrics"]["latency_p95"]["state"], "stale");
        assert_eq!(j["metrics"]["latency_p95"]["value"], Value::Null);
        assert_eq!(j["pools"]["blue"]["active"], true);
        assert_eq!(j["pools"]["green"]["weight"], 10);
        assert_eq!(j["alerts"][0]["metric"], "error_rate");
        assert_eq!(j["alerts"][0]["level"], "critical");
        assert_eq!(j["rollout_percent"], Value::Null);
        assert_eq!(j["errors"][0]["source"], "kube");
        for k in [
            "phase",
            "rollout_percent",
            "flags",
            "pools",
            "metrics",
            "alerts",
            "migrations",
            "replication_lag_seconds",
        ] {
            assert!(j.get(k).is_some(), "missing {k}");
        }
        let t = to_text(&r);
        assert!(t.contains("CRITICAL error_rate 2.5"), "{t}");
        assert!(t.contains("kube: not configured"), "{t}");
    }

    /// Prometheus's reading of `values`.
    fn prometheus(values: &[(&str, f64)]) -> Observation {
        Observation {
            source: SourceId::Prometheus.into(),
            metrics: values
                .iter()
                .map(|(k, v)| (k.to_string(), Some(*v)))
                .collect(),
            ..Default::default()
        }
    }

    /// The load balancer's reading: `active` takes traffic, green takes `green` percent.
    fn lb(active: PoolName, green: u32) -> Observation {
        Observation {
            source: SourceId::Lb.into(),
            pools: Some(PoolsObs {
                active: Some(active),
                green_share: Some(green),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Every reading the rollout gate needs, healthy.
    fn healthy(rb: &Runbook) -> Vec<Observation> {
        let gate: Vec<(&str, f64)> = rb
            .rollout
            .gate
            .iter()
            .map(|m| (m.value.as_str(), 0.1))
            .collect();
        let server = |a: &str| ServerObs {
            address: a.into(),
            healthy: true,
            latency_ms: Some(1.0),
            error: None,
        };
        vec![
            prometheus(&gate),
            Observation {
                source: SourceId::Flags.into(),
                flags: Some(
                    rb.flags
                        .iter()
                        .map(|f| (f.id.value.clone(), f.initial.value.clone()))
                        .collect(),
                ),
                ..Default::default()
            },
            lb(PoolName::Blue, 0),
            Observation {
                source: SourceId::Health.into(),
                pools: Some(PoolsObs {
                    active: None,
                    green_share: None,
                    blue: vec![server("10.0.0.1:80")],
                    green: vec![server("10.0.0.2:80")],
                    complete: Vec::new(),
                    served: None,
                }),
                ..Default::default()
            },
        ]
    }

    #[test]
    fn healthy_readings_exit_0() {
        let rb = seed();
        let r = report(
            &rb,
            State::new(&rb),
            healthy(&rb),
            Some(0.2),
            chrono::Utc::now(),
        );
        assert_eq!(exit_code(&r), 0, "{:#}", to_json(&r));
        assert_eq!(to_json(&r)["replication_lag_seconds"], 0.2);
        assert!(!to_text(&r).contains("GATE UNKNOWN"), "{}", to_text(&r));
    }

    #[test]
    fn a_gate_source_that_cannot_be_read_exits_1() {
        let rb = seed();
        let all = healthy(&rb);
        for (i, what) in [
            (0, "metric"),
            (1, "flags"),
            (2, "load balancer"),
            (3, "pool health"),
        ] {
            let mut obs = all.clone();
            let source = obs[i].source.clone();
            obs[i] = real::failure(source.source, "cannot connect: Connection refused");
            let r = report(&rb, State::new(&rb), obs, Some(0.2), chrono::Utc::now());
            assert_eq!(exit_code(&r), 1, "{what}: {:#}", to_json(&r));
            assert!(
                r.unreadable.iter().any(|u| u.contains(what)),
                "{what}: {:?}",
                r.unreadable
            );
            assert!(
                to_text(&r).contains("GATE UNKNOWN: cannot read"),
                "{}",
                to_text(&r)
            );
        }
        // Nothing configured at all: unknown, not healthy.
        let none = vec![
            real::not_configured(SourceId::Prometheus),
            real::not_configured(SourceId::Flags),
            real::not_configured(SourceId::Lb),
        ];
        let r = report(&rb, State::new(&rb), none, None, chrono::Utc::now());
        assert_eq!(exit_code(&r), 1);
    }

    #[test]
    fn an_alert_fires_only_once_its_breach_held_for_the_metric_for_duration() {
        let rb = seed();
        let at = chrono::Utc::now();
        // error_rate: warning 0.5 %, critical 1 %, `for: 30s`.
        let fresh = report(
            &rb,
            State::new(&rb),
            vec![prometheus(&[("error_rate", 0.7)])],
            None,
            at,
        );
        let j = to_json(&fresh);
        assert_eq!(j["alerts"][0]["level"], "warning", "{j:#}");
        assert_eq!(j["alerts"][0]["since"], Value::Null, "crossed now: pending");
        assert!(
            to_text(&fresh).contains("pending: fires in 30s"),
            "{}",
            to_text(&fresh)
        );
        // The same breach, already 40 s old in the state: the alert fires now.
        let mut st = State::new(&rb);
        let before = at - chrono::Duration::seconds(40);
        engine::apply(
            &mut st,
            &rb,
            before,
            &Event::Observed(prometheus(&[("error_rate", 0.6)])),
        );
        let held = report(
            &rb,
            st.clone(),
            vec![prometheus(&[("error_rate", 0.7)])],
            None,
            at,
        );
        assert_eq!(held.alerts.len(), 1, "{:?}", held.alerts);
        assert_eq!(held.alerts[0].since, Some(at));
        assert_eq!(held.alerts[0].value, Some(0.7));
        assert!(!to_text(&held).contains("pending"), "{}", to_text(&held));
        // Back below the threshold: nothing fires and nothing is pending.
        let back = report(&rb, st, vec![prometheus(&[("error_rate", 0.1)])], None, at);
        assert_eq!(back.alerts, vec![]);
    }

    #[test]
    fn text_output_carries_no_control_bidi_or_zero_width_character() {
        let rb = seed();
        let evil = "ok\u{1b}[2J\u{1b}]0;pwned\u{7}\nFAKE LINE\u{202E}gnp.exe\u{200B}\u{2066}";
        let health = Observation {
            source: SourceId::Health.into(),
            pools: Some(PoolsObs {
                active: None,
                green_share: None,
                blue: vec![],
                green: vec![ServerObs {
                    address: "10.0.0.2:80".into(),
                    healthy: false,
                    latency_ms: None,
                    error: Some(evil.into()),
                }],
                complete: Vec::new(),
                served: None,
            }),
            ..Default::default()
        };
        let obs = vec![health, real::failure(SourceId::Postgres, evil)];
        let r = report(&rb, State::new(&rb), obs, None, chrono::Utc::now());
        let text = to_text(&r);
        assert!(
            !text.chars().any(|c| c != '\n' && crate::text::is_unsafe(c)),
            "{text:?}"
        );
        assert!(!text.lines().any(|l| l.starts_with("FAKE")), "{text}");
        assert!(text.contains("ok[2J]0;pwned FAKE LINEgnp.exe"), "{text}");
    }
}
