//! `warroom status`: one reading of every configured source, without the console, for
//! scripts and chat bots.
//!
//! The reading is folded into the engine's state like any observation, so metric states
//! (ok, warning, critical, stale) are the ones the console would show. `exit_code` is 0 when
//! healthy and 1 when a metric is critical (or a critical alert is firing in the audit log
//! the state was rebuilt from) or when what the rollout gate needs cannot be read (its
//! metrics, the flags, the load balancer, the canary pool's health): unknown is not healthy.
//! A configuration error (2) is the caller's to report.

use crate::engine::{
    self, Event, Level, MetricLevel, MigrationObs, Observation, ServerObs, SourceError, State,
    Time, fmt_num, level_of,
};
use crate::real::{self, Endpoints, Source, Sources};
use crate::runbook::{Loaded, PoolName, Runbook, redact};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long each source may take to answer `warroom status`.
pub const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq)]
pub struct PoolStatus {
    pub name: PoolName,
    /// Whether the load balancer sends traffic to this pool; `None` when it was not read.
    pub active: Option<bool>,
    /// The pool's share of the traffic in percent; `None` when it was not read.
    pub weight: Option<u32>,
    pub servers: Vec<ServerObs>,
    /// What the load balancer really sent this pool since it started (HAProxy's session
    /// counters), when it counts: beside `weight`, the split as served.
    pub served: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricStatus {
    pub id: String,
    pub name: String,
    pub value: Option<f64>,
    pub unit: String,
    pub state: MetricLevel,
    /// Seconds since the value was read; `None` when it never was.
    pub age_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertStatus {
    pub metric: String,
    pub level: Level,
    pub value: Option<f64>,
    pub threshold: f64,
    /// When it fired (alerts from the audit log); `None` for a threshold crossed right now.
    pub since: Option<Time>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub runbook: String,
    pub at: Time,
    pub phase: Option<String>,
    pub rollout_percent: Option<u32>,
    /// The flags as the flag API said them (or as last recorded); empty when never read.
    pub flags: BTreeMap<String, Value>,
    pub pools: Vec<PoolStatus>,
    pub metrics: Vec<MetricStatus>,
    pub alerts: Vec<AlertStatus>,
    pub migration: Option<MigrationObs>,
    pub replication_lag_seconds: Option<f64>,
    /// Sources that failed or are not configured.
    pub errors: Vec<SourceError>,
    /// What the rollout gate needs and this reading could not give, in words.
    pub unreadable: Vec<String>,
}

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
    let prom = async {
        match &sources.prometheus {
            Some(p) => Some(real::read_within(p, limit).await),
            None => None,
        }
    };
    let flags = async {
        match &sources.flags {
            Some(f) => Some(real::read_within(f, limit).await),
            None => None,
        }
    };
    let lb = async {
        match &sources.lb {
            Some(l) => Some(real::read_within(l, limit).await),
            None => None,
        }
    };
    let health = async {
        match &sources.health {
            Some(h) => Some(real::read_within(h, limit).await),
            None => None,
        }
    };
    let db = async {
        match &sources.postgres {
            Some(p) => match tokio::time::timeout(limit, p.reading()).await {
                Ok(r) => {
                    let lag = r.lag.as_ref().ok().copied();
                    Some((p.observation(&r), lag))
                }
                Err(_) => Some((
                    p.failed(format!("no answer within {}", real::fmt_secs(limit))),
                    None,
                )),
            },
            None => None,
        }
    };
    let kube = async {
        if !ep.kube_configured() {
            return vec![real::not_configured("kube")];
        }
        let deployments: Vec<String> = [&rb.pools.blue, &rb.pools.green]
            .iter()
            .filter_map(|p| p.deployment.clone())
            .collect();
        match real::kube::Kube::connect(ep, timeout).await {
            Err(e) => vec![Observation {
                source: "kube".into(),
                errors: vec![SourceError {
                    source: "kube".into(),
                    message: e,
                }],
                ..Default::default()
            }],
            Ok(k) => {
                let mut out = Vec::new();
                // Pools without servers: their pods' readiness, read once. (After the
                // deployments' reading, which would otherwise clear its errors.)
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
        }
    };
    let (prom, flags, lb, health, db, kube) = tokio::join!(prom, flags, lb, health, db, kube);
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

    // With a lag metric read from Prometheus instead, its value is the lag.
    if lag.is_none() {
        lag = observations
            .iter()
            .find_map(|o| o.metrics.get(real::postgres::LAG_METRIC).copied().flatten());
    }
    let mut r = report(rb, base, observations, lag, chrono::Utc::now());
    if let Some(split) = served {
        for p in &mut r.pools {
            p.served = Some(match p.name {
                PoolName::Blue => split.blue,
                PoolName::Green => split.green,
            });
        }
    }
    r
}

/// Fold observations taken at `at` into `st` and describe the result.
pub fn report(
    rb: &Runbook,
    mut st: State,
    observations: Vec<Observation>,
    replication_lag_seconds: Option<f64>,
    at: Time,
) -> StatusReport {
    let flags_before = st.flags_at;
    for o in observations {
        engine::apply(&mut st, rb, at, &Event::Observed(o));
    }
    let now = st.now.unwrap_or(at);
    let flags_read = st.flags_at.is_some() || flags_before.is_some();
    let flags = if flags_read {
        st.flags.clone()
    } else {
        BTreeMap::new()
    };
    let rollout_percent = if flags_read {
        flags
            .get(&rb.rollout.flag.value)
            .and_then(Value::as_f64)
            .map(|v| v.clamp(0.0, 100.0) as u32)
    } else {
        None
    };
    let pools = [PoolName::Blue, PoolName::Green]
        .into_iter()
        .map(|p| {
            let servers = st
                .pools
                .servers(p)
                .iter()
                .map(|s| ServerObs {
                    address: s.address.clone(),
                    healthy: s.healthy,
                    latency_ms: s.latency_ms,
                    error: s.error.clone(),
                })
                .collect();
            PoolStatus {
                name: p,
                active: st.pools.active.map(|a| a == p),
                weight: st.pools.traffic(p),
                servers,
                served: None,
            }
        })
        .collect();
    let metrics: Vec<MetricStatus> = rb
        .metrics
        .iter()
        .map(|m| {
            let ms = st.metrics.get(&m.id.value);
            let state = st.metric_level(rb, &m.id.value);
            MetricStatus {
                id: m.id.value.clone(),
                name: m.name.clone(),
                value: ms.and_then(|s| s.last),
                unit: m.unit.clone(),
                state,
                age_seconds: ms
                    .and_then(|s| s.last_at)
                    .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0),
            }
        })
        .collect();
    let mut alerts: Vec<AlertStatus> = Vec::new();
    for m in &metrics {
        let Some(def) = rb.metric(&m.id) else {
            continue;
        };
        let (Some(v), true) = (
            m.value,
            matches!(m.state, MetricLevel::Warning | MetricLevel::Critical),
        ) else {
            continue;
        };
        let level = level_of(def, v);
        let threshold = match level {
            Level::Critical => def.critical.as_ref().map(|t| t.value),
            _ => def.warning.as_ref().map(|t| t.value),
        };
        if let Some(threshold) = threshold {
            alerts.push(AlertStatus {
                metric: m.id.clone(),
                level,
                value: Some(v),
                threshold,
                since: None,
            });
        }
    }
    for a in st.firing() {
        if let Some(cur) = alerts.iter_mut().find(|x| x.metric == a.metric) {
            cur.since = Some(a.fired_at);
        } else {
            alerts.push(AlertStatus {
                metric: a.metric.clone(),
                level: a.level,
                value: a.value,
                threshold: a.threshold,
                since: Some(a.fired_at),
            });
        }
    }
    let mut errors: Vec<SourceError> = st
        .source_errors
        .iter()
        .map(|(source, (message, _, _))| SourceError {
            source: source.clone(),
            message: redact(message),
        })
        .collect();
    errors.sort_by(|a, b| a.source.cmp(&b.source));
    let unreadable = gate_unreadable(rb, &st, &errors);
    StatusReport {
        runbook: rb.name.clone(),
        at: now,
        phase: st.current_phase().map(|i| rb.phases[i].id.value.clone()),
        rollout_percent,
        flags,
        pools,
        metrics,
        alerts,
        migration: st.migration.clone(),
        replication_lag_seconds,
        errors,
        unreadable,
    }
}

/// What the rollout gate reads that this reading could not: each metric it names (a fresh
/// value), the flag source, the load balancer (when the runbook has one) and the health of
/// the pool the canary goes to.
fn gate_unreadable(rb: &Runbook, st: &State, errors: &[SourceError]) -> Vec<String> {
    let failed = |source: &str| {
        errors
            .iter()
            .find(|e| e.source == source || e.source.starts_with(&format!("{source}:")))
            .map(|e| e.message.clone())
    };
    let mut out = Vec::new();
    for m in &rb.rollout.gate {
        if st.metric_level(rb, &m.value) == MetricLevel::Stale {
            out.push(format!("metric {} (no fresh value)", m.value));
        }
    }
    match failed("flags") {
        Some(e) => out.push(format!("flags ({e})")),
        None if st.flags_at.is_none() => out.push("flags (never read)".into()),
        None => {}
    }
    if rb.targets.load_balancer.is_some() {
        match failed("lb") {
            Some(e) => out.push(format!("load balancer ({e})")),
            None if st.pools.active.is_none() => out.push("load balancer (never read)".into()),
            None => {}
        }
    }
    let pool = rb.rollout.pool;
    if st.pools.healthy(pool).1 == 0 {
        out.push(format!("{pool} pool health (no reading)"));
    }
    out
}

fn num(v: Option<f64>) -> Value {
    v.filter(|x| x.is_finite())
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The JSON of issue 4: `{"phase", "rollout_percent", "flags", "pools", "metrics", "alerts",
/// "migrations", "replication_lag_seconds"}`, plus `"errors"`: the sources that failed.
pub fn to_json(r: &StatusReport) -> Value {
    let pools: serde_json::Map<String, Value> = r
        .pools
        .iter()
        .map(|p| {
            (p.name.as_str().to_string(), {
                let mut v = json!({
                    "active": p.active,
                    "weight": p.weight,
                    "servers": p.servers.iter().map(|s| json!({
                        "address": s.address,
                        "healthy": s.healthy,
                        "latency_ms": num(s.latency_ms.map(round3)),
                        "error": s.error,
                    })).collect::<Vec<_>>(),
                });
                if let (Some(n), Some(o)) = (p.served, v.as_object_mut()) {
                    o.insert("served_since_start".into(), json!(n));
                }
                v
            })
        })
        .collect();
    let metrics: serde_json::Map<String, Value> = r
        .metrics
        .iter()
        .map(|m| {
            (
                m.id.clone(),
                json!({
                    "value": num(m.value),
                    "unit": m.unit,
                    "state": m.state.as_str(),
                    "age_seconds": num(m.age_seconds.map(round3)),
                }),
            )
        })
        .collect();
    json!({
        "phase": r.phase,
        "rollout_percent": r.rollout_percent,
        "flags": r.flags,
        "pools": pools,
        "metrics": metrics,
        "alerts": r.alerts.iter().map(|a| json!({
            "metric": a.metric,
            "level": a.level.as_str(),
            "value": num(a.value),
            "threshold": num(Some(a.threshold)),
            "since": a.since.map(|t| t.to_rfc3339()),
        })).collect::<Vec<_>>(),
        "migrations": match &r.migration {
            Some(m) => json!({"version": m.version, "dirty": m.dirty}),
            None => json!({"version": null, "dirty": null}),
        },
        "replication_lag_seconds": num(r.replication_lag_seconds.map(round3)),
        "errors": r.errors.iter().map(|e| json!({"source": e.source, "message": e.message})).collect::<Vec<_>>(),
        "unreadable": r.unreadable,
    })
}

/// 0 when healthy; 1 when a metric is critical, a critical alert fires, or what the rollout
/// gate needs cannot be read.
pub fn exit_code(r: &StatusReport) -> u8 {
    let critical = r.metrics.iter().any(|m| m.state == MetricLevel::Critical)
        || r.alerts.iter().any(|a| a.level == Level::Critical);
    u8::from(critical || !r.unreadable.is_empty())
}

/// A few lines for a terminal or a chat message. Every line passes through
/// [`crate::text::clean`]: what a server, the runbook or the log says can neither add a line
/// nor carry a control, bidi or zero-width character.
pub fn to_text(r: &StatusReport) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&crate::text::clean(&s));
        out.push('\n');
    };
    line(format!(
        "{} — {}",
        r.runbook,
        r.at.format("%Y-%m-%d %H:%M:%S UTC")
    ));
    line(format!(
        "phase: {}   rollout: {}",
        r.phase.as_deref().unwrap_or("none started"),
        r.rollout_percent
            .map(|p| format!("{p} %"))
            .unwrap_or_else(|| "unknown".into())
    ));
    if r.flags.is_empty() {
        line("flags: unknown".into());
    } else {
        line(format!(
            "flags: {}",
            r.flags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    line("pools:".into());
    for p in &r.pools {
        let healthy = p.servers.iter().filter(|s| s.healthy).count();
        line(format!(
            "  {:<6}{:<8}weight {:<7}{}",
            p.name.as_str(),
            match p.active {
                Some(true) => "ACTIVE",
                Some(false) => "",
                None => "?",
            },
            p.weight
                .map(|w| format!("{w} %"))
                .unwrap_or_else(|| "?".into()),
            if p.servers.is_empty() {
                "no health reading".to_string()
            } else {
                format!("{healthy}/{} healthy", p.servers.len())
            }
        ));
        if let Some(n) = p.served {
            let total: u64 = r.pools.iter().filter_map(|q| q.served).sum();
            line(format!(
                "    served {n} since the load balancer started{}",
                if total > 0 {
                    format!(" ({:.0} % of its traffic)", n as f64 * 100.0 / total as f64)
                } else {
                    String::new()
                }
            ));
        }
        for s in &p.servers {
            line(format!(
                "    {:<24}{:<6}{}",
                s.address,
                if s.healthy { "ok" } else { "DOWN" },
                match (&s.error, s.latency_ms) {
                    (Some(e), _) => e.clone(),
                    (None, Some(l)) => format!("{l:.1} ms"),
                    (None, None) => String::new(),
                }
            ));
        }
    }
    line("metrics:".into());
    let w = r.metrics.iter().map(|m| m.id.len()).max().unwrap_or(0);
    for m in &r.metrics {
        let value = match m.value {
            Some(v) if m.state != MetricLevel::Stale => format!("{} {}", fmt_num(v), m.unit),
            _ => "—".into(),
        };
        line(format!(
            "  {:<w$}  {:<16}{}",
            m.id,
            value.trim_end(),
            m.state.as_str().to_uppercase()
        ));
    }
    if r.alerts.is_empty() {
        line("alerts: none".into());
    } else {
        line("alerts:".into());
        for a in &r.alerts {
            let unit = r
                .metrics
                .iter()
                .find(|m| m.id == a.metric)
                .map(|m| format!(" {}", m.unit))
                .unwrap_or_default();
            line(format!(
                "  {} {} {}{unit} (threshold {}{unit})",
                a.level.as_str().to_uppercase(),
                a.metric,
                a.value.map(fmt_num).unwrap_or_else(|| "—".into()),
                fmt_num(a.threshold)
            ));
        }
    }
    line(format!(
        "migrations: {}   replication lag: {}",
        match &r.migration {
            Some(m) => format!(
                "version {}{}{}",
                m.version
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "none".into()),
                if m.dirty { " DIRTY" } else { "" },
                if m.in_progress {
                    " (migration in progress)"
                } else {
                    ""
                }
            ),
            None => "unknown".into(),
        },
        r.replication_lag_seconds
            .map(|l| format!("{} s", fmt_num(l)))
            .unwrap_or_else(|| "unknown".into())
    ));
    if !r.unreadable.is_empty() {
        line(format!(
            "GATE UNKNOWN: cannot read {}",
            r.unreadable.join(", ")
        ));
    }
    if !r.errors.is_empty() {
        line("sources:".into());
        for e in &r.errors {
            line(format!("  {}: {}", e.source, e.message));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::PoolsObs;
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
            Observation {
                source: "prometheus".into(),
                metrics: [("error_rate".to_string(), Some(2.5))]
                    .into_iter()
                    .collect(),
                ..Default::default()
            },
            Observation {
                source: "lb".into(),
                pools: Some(PoolsObs {
                    active: Some(PoolName::Blue),
                    green_weight: Some(10),
                    ..Default::default()
                }),
                ..Default::default()
            },
            real::not_configured("kube"),
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

    /// Every reading the rollout gate needs, healthy.
    fn healthy(rb: &Runbook) -> Vec<Observation> {
        let metrics = rb
            .rollout
            .gate
            .iter()
            .map(|m| (m.value.clone(), Some(0.1)))
            .collect();
        let server = |a: &str| ServerObs {
            address: a.into(),
            healthy: true,
            latency_ms: Some(1.0),
            error: None,
        };
        vec![
            Observation {
                source: "prometheus".into(),
                metrics,
                ..Default::default()
            },
            Observation {
                source: "flags".into(),
                flags: Some(
                    rb.flags
                        .iter()
                        .map(|f| (f.id.value.clone(), f.initial.clone()))
                        .collect(),
                ),
                ..Default::default()
            },
            Observation {
                source: "lb".into(),
                pools: Some(PoolsObs {
                    active: Some(PoolName::Blue),
                    green_weight: Some(0),
                    blue: vec![],
                    green: vec![],
                    complete: Vec::new(),
                }),
                ..Default::default()
            },
            Observation {
                source: "health".into(),
                pools: Some(PoolsObs {
                    active: None,
                    green_weight: None,
                    blue: vec![server("10.0.0.1:80")],
                    green: vec![server("10.0.0.2:80")],
                    complete: Vec::new(),
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
            obs[i] = real::failure(&source, "cannot connect: Connection refused");
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
            real::not_configured("prometheus"),
            real::not_configured("flags"),
            real::not_configured("lb"),
        ];
        let r = report(&rb, State::new(&rb), none, None, chrono::Utc::now());
        assert_eq!(exit_code(&r), 1);
    }

    #[test]
    fn text_output_carries_no_control_bidi_or_zero_width_character() {
        let rb = seed();
        let evil = "ok\u{1b}[2J\u{1b}]0;pwned\u{7}\nFAKE LINE\u{202E}gnp.exe\u{200B}\u{2066}";
        let health = Observation {
            source: "health".into(),
            pools: Some(PoolsObs {
                active: None,
                green_weight: None,
                blue: vec![],
                green: vec![ServerObs {
                    address: "10.0.0.2:80".into(),
                    healthy: false,
                    latency_ms: None,
                    error: Some(evil.into()),
                }],
                complete: Vec::new(),
            }),
            ..Default::default()
        };
        let obs = vec![health, real::failure("postgres", evil)];
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
