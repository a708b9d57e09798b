//! `warroom status` logic: one round of every configured source, the JSON of issue 4, the
//! text, and the exit code; with sources up, critical, and all down (bounded, never a hang).

mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use support::*;
use warroom::engine::State;
use warroom::real::Endpoints;
use warroom::runbook::{self, Loaded};
use warroom::status;

fn local_lab() -> Loaded {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/local-lab.yaml");
    runbook::load(&p).unwrap_or_else(|e| panic!("runbooks/local-lab.yaml must load: {e}"))
}

/// A Prometheus whose answer depends on the query: the error ratio is `error_ratio`, every
/// other query 0.05 (50 ms for latencies, 5 % for ratios).
async fn prometheus(error_ratio: &'static str) -> Server {
    Server::start(move |r| {
        let value = if r.query.contains("5..") {
            error_ratio
        } else {
            "0.05"
        };
        Resp::json(
            200,
            json!({"status": "success", "data": {"resultType": "vector",
                "result": [{"metric": {}, "value": [1.7e9, value]}]}}),
        )
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_every_source_and_exits_1_on_a_critical_metric() {
    let flags = Server::start(|_| {
        Resp::json(
            200,
            json!({"unified_attributes_enabled": true, "unified_attributes_percentage": 25,
                   "dual_write_enabled": true, "fallback_enabled": true}),
        )
    })
    .await;
    let lb = Server::start(|_| {
        Resp::json(
            200,
            json!({"active": "blue", "weights": {"blue": 75, "green": 25}}),
        )
    })
    .await;
    let healthy = Server::start(|_| Resp::text(200, "ok")).await;
    let sick = Server::start(|_| Resp::text(500, "no db")).await;
    let prom = prometheus("0.02").await; // 2 %: critical (> 1 %)
    let env = BTreeMap::from([
        ("WARROOM_FLAGS_URL".to_string(), flags.url()),
        ("WARROOM_LB_URL".to_string(), lb.url()),
        ("WARROOM_PROMETHEUS_URL".to_string(), prom.url()),
        ("WARROOM_BLUE_SERVERS".to_string(), healthy.host_port()),
        (
            "WARROOM_GREEN_SERVERS".to_string(),
            format!("{},{}", healthy.host_port(), sick.host_port()),
        ),
    ]);
    let loaded = local_lab();
    let rb = &loaded.runbook;
    let ep = Endpoints::resolve(rb, &|k| env.get(k).cloned());
    let r = status::collect_with(rb, State::new(rb), &ep, Duration::from_secs(2)).await;
    let j = status::to_json(&r);

    assert_eq!(status::exit_code(&r), 1, "{j:#}");
    assert_eq!(j["phase"], Value::Null);
    assert_eq!(j["rollout_percent"], 25);
    assert_eq!(j["flags"]["unified_attributes_enabled"], true);
    assert_eq!(j["pools"]["blue"]["active"], true);
    assert_eq!(j["pools"]["blue"]["weight"], 75);
    assert_eq!(j["pools"]["green"]["active"], false);
    assert_eq!(j["pools"]["green"]["weight"], 25);
    let green = j["pools"]["green"]["servers"].as_array().expect("servers");
    assert_eq!(green.len(), 2);
    assert_eq!(green[0]["healthy"], true);
    assert!(green[0]["latency_ms"].is_number());
    assert_eq!(green[1]["healthy"], false);
    assert_eq!(green[1]["address"], sick.host_port());
    assert!(
        green[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("500"))
    );
    assert_eq!(j["metrics"]["error_rate"]["value"], 2.0);
    assert_eq!(j["metrics"]["error_rate"]["unit"], "%");
    assert_eq!(j["metrics"]["error_rate"]["state"], "critical");
    assert_eq!(j["metrics"]["error_rate"]["age_seconds"], 0.0);
    assert_eq!(j["metrics"]["latency_p95"]["value"], 50.0);
    assert_eq!(j["metrics"]["latency_p95"]["state"], "ok");
    assert_eq!(j["metrics"]["cache_hit_rate"]["value"], 5.0);
    // Replication lag comes from the database, which is not configured: stale, unknown.
    assert_eq!(j["metrics"]["replication_lag"]["state"], "stale");
    assert_eq!(j["metrics"]["replication_lag"]["age_seconds"], Value::Null);
    assert_eq!(j["replication_lag_seconds"], Value::Null);
    assert_eq!(j["migrations"]["version"], Value::Null);
    let alerts = j["alerts"].as_array().expect("alerts");
    assert!(
        alerts.iter().any(|a| a["metric"] == "error_rate"
            && a["level"] == "critical"
            && a["threshold"] == 1.0),
        "{alerts:?}"
    );
    let errors: Vec<&str> = j["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["source"].as_str())
        .collect();
    assert!(
        errors.contains(&"postgres") && errors.contains(&"kube"),
        "{errors:?}"
    );

    let text = status::to_text(&r);
    assert!(text.contains("rollout flag: 25 %"), "{text}");
    assert!(text.contains("CRITICAL error_rate 2"), "{text}");
    assert!(text.contains("kube: not configured"), "{text}");
    assert!(text.contains("1/2 healthy"), "{text}");
}

/// local-lab with a rollout gate that needs no database (its replication lag is read from
/// PostgreSQL, which these tests do not start).
fn local_lab_without_db_gate(dir: &tempfile::TempDir) -> Loaded {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/local-lab.yaml");
    let text = std::fs::read_to_string(&p).expect("read local-lab");
    let gate = "gate: [error_rate, green_error_rate, latency_p95, replication_lag]";
    assert!(text.contains(gate), "the local-lab gate changed");
    let copy = dir.path().join("local-lab.yaml");
    std::fs::write(
        &copy,
        text.replace(gate, "gate: [error_rate, green_error_rate, latency_p95]"),
    )
    .expect("write");
    runbook::load(&copy).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_sources_exit_0() {
    let prom = prometheus("0.001").await;
    let flags = Server::start(|_| {
        Resp::json(
            200,
            json!({"unified_attributes_enabled": true, "unified_attributes_percentage": 10}),
        )
    })
    .await;
    let lb = Server::start(|_| {
        Resp::json(
            200,
            json!({"active": "blue", "weights": {"blue": 90, "green": 10}}),
        )
    })
    .await;
    let healthy = Server::start(|_| Resp::text(200, "ok")).await;
    let env = BTreeMap::from([
        ("WARROOM_PROMETHEUS_URL".to_string(), prom.url()),
        ("WARROOM_FLAGS_URL".to_string(), flags.url()),
        ("WARROOM_LB_URL".to_string(), lb.url()),
        ("WARROOM_BLUE_SERVERS".to_string(), healthy.host_port()),
        ("WARROOM_GREEN_SERVERS".to_string(), healthy.host_port()),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let loaded = local_lab_without_db_gate(&dir);
    let rb = &loaded.runbook;
    let ep = Endpoints::resolve(rb, &|k| env.get(k).cloned());
    let r = status::collect_with(rb, State::new(rb), &ep, Duration::from_secs(2)).await;
    assert_eq!(status::exit_code(&r), 0, "{:#}", status::to_json(&r));
    assert_eq!(status::to_json(&r)["metrics"]["error_rate"]["state"], "ok");
    assert_eq!(status::to_json(&r)["rollout_percent"], 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_prometheus_up_is_not_healthy() {
    // The metrics are fine, but the flags, the load balancer and the pools cannot be read:
    // the rollout gate cannot be judged, and status says so with exit 1.
    let prom = prometheus("0.001").await;
    let env = BTreeMap::from([("WARROOM_PROMETHEUS_URL".to_string(), prom.url())]);
    let dir = tempfile::tempdir().expect("tempdir");
    let loaded = local_lab_without_db_gate(&dir);
    let rb = &loaded.runbook;
    let ep = Endpoints::resolve(rb, &|k| env.get(k).cloned());
    let r = status::collect_with(rb, State::new(rb), &ep, Duration::from_secs(2)).await;
    assert_eq!(status::exit_code(&r), 1, "{:#}", status::to_json(&r));
    let text = status::to_text(&r);
    assert!(
        text.contains("GATE UNKNOWN: cannot read flags")
            && text.contains("load balancer")
            && text.contains("green pool health"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_source_down_or_slow_is_reported_within_the_timeout() {
    let slow = Server::start(|_| Resp::json(200, json!({})).after(Duration::from_secs(20))).await;
    let dead = dead_url().await;
    let env = BTreeMap::from([
        ("WARROOM_FLAGS_URL".to_string(), slow.url()),
        ("WARROOM_LB_URL".to_string(), dead.clone()),
        ("WARROOM_PROMETHEUS_URL".to_string(), slow.url()),
        (
            "WARROOM_DATABASE_URL".to_string(),
            format!(
                "postgres://app:TopSecret9@{}/app",
                dead.trim_start_matches("http://")
            ),
        ),
        ("WARROOM_BLUE_SERVERS".to_string(), slow.host_port()),
        (
            "WARROOM_GREEN_SERVERS".to_string(),
            dead.trim_start_matches("http://").to_string(),
        ),
    ]);
    let loaded = local_lab();
    let rb = &loaded.runbook;
    let ep = Endpoints::resolve(rb, &|k| env.get(k).cloned());
    let r = status::collect_with(rb, State::new(rb), &ep, Duration::from_millis(800)).await;
    let j = status::to_json(&r);
    assert_eq!(
        status::exit_code(&r),
        1,
        "everything down: the rollout gate cannot be judged"
    );
    assert!(
        j["metrics"]
            .as_object()
            .expect("metrics")
            .values()
            .all(|m| m["state"] == "stale" && m["value"].is_null()),
        "{j:#}"
    );
    assert_eq!(j["flags"], json!({}));
    assert_eq!(j["pools"]["blue"]["active"], Value::Null);
    assert_eq!(j["pools"]["blue"]["servers"][0]["healthy"], false);
    let sources: Vec<String> = r.errors.iter().map(|e| e.source.to_string()).collect();
    for s in ["flags", "lb", "prometheus", "postgres", "kube"] {
        assert!(
            sources.iter().any(|x| x == s),
            "{s} missing from {sources:?}"
        );
    }
    let text = status::to_text(&r);
    assert!(!text.contains("TopSecret9") && !j.to_string().contains("TopSecret9"));
}
