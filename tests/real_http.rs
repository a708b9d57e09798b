//! The HTTP adapters (feature flags, load balancer, pool health) against loopback servers
//! served by the test: normal answers, read-back disagreements, and faults (down, slower
//! than the timeout, HTTP 500, malformed JSON). A fault is a reported failure, never a panic
//! or a hang.

mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;
use warroom::real::flags::FlagApi;
use warroom::real::health::Health;
use warroom::real::lb::LoadBalancer;
use warroom::real::{Endpoints, Source};
use warroom::runbook::PoolName;

const T: Duration = Duration::from_millis(600);

/// The flags of runbooks/local-lab.yaml.
fn flags() -> Vec<warroom::runbook::Flag> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/local-lab.yaml");
    match warroom::runbook::load(&p) {
        Ok(l) => l.runbook.flags,
        Err(e) => panic!("runbooks/local-lab.yaml must load: {e}"),
    }
}

/// A JSON object of `n` bytes or more: the flags plus a long string.
fn huge_flags(n: usize) -> Resp {
    Resp::json(
        200,
        json!({"unified_attributes_enabled": true, "padding": "x".repeat(n)}),
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Ok,
    /// Accepts writes and ignores them.
    Lying,
    Slow,
    Fail,
    Malformed,
}

/// The seed's flag API: GET returns the flags, POST merges a JSON object into them.
async fn flag_server(mode: Arc<Mutex<Mode>>) -> (Server, Arc<Mutex<BTreeMap<String, Value>>>) {
    let flags = Arc::new(Mutex::new(BTreeMap::from([
        ("unified_attributes_enabled".to_string(), json!(false)),
        ("unified_attributes_percentage".to_string(), json!(0)),
    ])));
    let f = flags.clone();
    let s = Server::start(move |r| {
        if r.path != "/internal/feature-flags" {
            return Resp::json(404, json!({"error": "not found"}));
        }
        let m = *mode.lock().expect("mode");
        match m {
            Mode::Slow => return Resp::json(200, json!({})).after(Duration::from_secs(3)),
            Mode::Fail => return Resp::text(500, "internal error"),
            Mode::Malformed => return Resp::malformed(),
            _ => {}
        }
        let mut flags = f.lock().expect("flags");
        if r.method == "POST" {
            let Value::Object(changes) = r.json() else {
                return Resp::json(400, json!({"error": "expected an object"}));
            };
            if m == Mode::Ok {
                for (k, v) in changes {
                    flags.insert(k, v);
                }
            }
            return Resp::json(200, json!({"ok": true}));
        }
        Resp::json(200, json!(*flags))
    })
    .await;
    (s, flags)
}

#[tokio::test]
async fn flags_are_read_written_and_read_back() {
    let mode = Arc::new(Mutex::new(Mode::Ok));
    let (srv, state) = flag_server(mode.clone()).await;
    let api = FlagApi::new(&srv.url(), T, &flags()).expect("client");

    let read = api.read().await.expect("read");
    assert_eq!(read.get("unified_attributes_enabled"), Some(&json!(false)));

    let (out, back) = api
        .write("unified_attributes_enabled", &json!(true))
        .await
        .expect("write sent");
    let out = out.expect("agreed");
    assert!(
        out.contains("wrote unified_attributes_enabled=true")
            && out.contains("read back unified_attributes_enabled=true"),
        "{out}"
    );
    assert_eq!(
        back.and_then(|b| b.get("unified_attributes_enabled").cloned()),
        Some(json!(true))
    );
    assert_eq!(
        state
            .lock()
            .expect("state")
            .get("unified_attributes_enabled"),
        Some(&json!(true))
    );

    // A server that accepts the write and keeps the old value: the disagreement is the error.
    *mode.lock().expect("mode") = Mode::Lying;
    let (out, _) = api
        .write("unified_attributes_percentage", &json!(25))
        .await
        .expect("write sent");
    assert_eq!(
        out.expect_err("disagreement"),
        "wrote unified_attributes_percentage=25, read back unified_attributes_percentage=0"
    );
}

#[tokio::test]
async fn flag_faults_are_errors() {
    let mode = Arc::new(Mutex::new(Mode::Fail));
    let (srv, _) = flag_server(mode.clone()).await;
    let api = FlagApi::new(&srv.url(), T, &flags()).expect("client");

    let o = Source::read(&api).await;
    assert_eq!(o.flags, None);
    assert_eq!(o.errors.len(), 1);
    assert_eq!(o.errors[0].source.to_string(), "flags");
    assert!(o.errors[0].message.contains("500"), "{:?}", o.errors);
    let e = api
        .write("unified_attributes_enabled", &json!(true))
        .await
        .expect_err("500 on write");
    assert!(e.contains("500"), "{e}");

    *mode.lock().expect("mode") = Mode::Malformed;
    let e = api.read().await.expect_err("malformed");
    assert!(e.contains("malformed JSON"), "{e}");

    *mode.lock().expect("mode") = Mode::Slow;
    let e = api.read().await.expect_err("slow");
    assert!(e.contains("timed out after"), "the timeout held: {e}");

    let down = FlagApi::new(&dead_url().await, T, &flags()).expect("client");
    let e = down.read().await.expect_err("down");
    assert!(e.contains("cannot connect"), "{e}");
    let e = down
        .write("x", &json!(true))
        .await
        .expect_err("down on write");
    assert!(e.contains("cannot connect"), "{e}");
}

/// The seed's load balancer: switch-to-blue/green, weights, status.
async fn lb_server(mode: Arc<Mutex<Mode>>) -> Server {
    let st = Arc::new(Mutex::new(("blue".to_string(), 100u32, 0u32)));
    Server::start(move |r| {
        let m = *mode.lock().expect("mode");
        match m {
            Mode::Slow => return Resp::json(200, json!({})).after(Duration::from_secs(3)),
            Mode::Fail => return Resp::json(500, json!({"error": "backend exploded"})),
            Mode::Malformed => return Resp::malformed(),
            _ => {}
        }
        let mut s = st.lock().expect("lb");
        let honest = m == Mode::Ok;
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/status") => Resp::json(
                200,
                json!({"active": s.0, "weights": {"blue": s.1, "green": s.2}}),
            ),
            ("POST", "/switch-to-blue") | ("POST", "/switch-to-green") => {
                if honest {
                    let to = r.path.trim_start_matches("/switch-to-").to_string();
                    *s = if to == "green" {
                        (to, 0, 100)
                    } else {
                        (to, 100, 0)
                    };
                }
                Resp::json(200, json!({"ok": true}))
            }
            ("POST", "/weights") => {
                let g = r.json()["green"].as_u64().unwrap_or(0) as u32;
                if honest {
                    s.2 = g;
                    s.1 = 100 - g.min(100);
                }
                Resp::json(200, json!({"ok": true}))
            }
            _ => Resp::json(404, json!({"error": "no route"})),
        }
    })
    .await
}

#[tokio::test]
async fn load_balancer_switches_and_weights_are_read_back() {
    let mode = Arc::new(Mutex::new(Mode::Ok));
    let srv = lb_server(mode.clone()).await;
    let lb = LoadBalancer::new(&srv.url(), T).expect("client");

    let o = Source::read(&lb).await;
    let pools = o.pools.expect("pools");
    assert_eq!(pools.active, Some(PoolName::Blue));
    assert_eq!(pools.green_share, Some(0));

    let (out, back) = lb.set_weights(25).await.expect("sent");
    let out = out.expect("agreed");
    assert!(
        out.contains("read back active blue, weights blue 75 / green 25"),
        "{out}"
    );
    assert_eq!(back.map(|b| b.green_percent()), Some(25));

    let (out, back) = lb.switch(PoolName::Green).await.expect("sent");
    assert!(out.expect("agreed").contains("switched to green"));
    assert_eq!(back.map(|b| b.active), Some(PoolName::Green));

    *mode.lock().expect("mode") = Mode::Lying;
    let (out, _) = lb.switch(PoolName::Blue).await.expect("sent");
    let e = out.expect_err("the LB did not switch");
    assert!(
        e.contains("switched to blue, read back active green"),
        "{e}"
    );
    let (out, _) = lb.set_weights(50).await.expect("sent");
    assert!(
        out.expect_err("weights not applied")
            .contains("wrote weights green=50, read back active green, weights blue 0 / green 100")
    );
}

#[tokio::test]
async fn load_balancer_faults_are_errors() {
    let mode = Arc::new(Mutex::new(Mode::Fail));
    let srv = lb_server(mode.clone()).await;
    let lb = LoadBalancer::new(&srv.url(), T).expect("client");

    let o = Source::read(&lb).await;
    assert_eq!(o.pools, None);
    assert_eq!(o.errors[0].source.to_string(), "lb");
    assert!(
        o.errors[0].message.contains("backend exploded"),
        "{:?}",
        o.errors
    );
    assert!(lb.switch(PoolName::Green).await.is_err());

    *mode.lock().expect("mode") = Mode::Malformed;
    assert!(
        lb.status()
            .await
            .expect_err("malformed")
            .contains("malformed JSON")
    );

    *mode.lock().expect("mode") = Mode::Slow;
    let e = lb.set_weights(10).await.expect_err("slow");
    assert!(e.contains("timed out after"), "the timeout held: {e}");

    let down = LoadBalancer::new(&dead_url().await, T).expect("client");
    let o = Source::read(&down).await;
    assert!(
        o.errors[0].message.contains("cannot connect"),
        "{:?}",
        o.errors
    );
}

#[tokio::test]
async fn a_status_that_lies_about_its_shape_is_an_error() {
    let srv = Server::start(|_| Resp::json(200, json!({"active": "purple", "weights": {}}))).await;
    let lb = LoadBalancer::new(&srv.url(), T).expect("client");
    let e = lb.status().await.expect_err("unknown pool");
    assert!(e.contains("unknown active pool `purple`"), "{e}");
}

#[tokio::test]
async fn health_checks_run_concurrently_with_status_latency_and_timeout() {
    let gauge = Arc::new(Gauge::default());
    let ok = Server::start_gauged(
        |r| {
            assert_eq!(r.path, "/health");
            Resp::json(200, json!({"status": "ok"})).after(Duration::from_millis(300))
        },
        gauge.clone(),
    )
    .await;
    let ok2 = Server::start_gauged(
        |_| Resp::text(200, "ok").after(Duration::from_millis(300)),
        gauge.clone(),
    )
    .await;
    let failing = Server::start(|_| Resp::text(500, "db down")).await;
    let slow = Server::start_gauged(
        |_| Resp::text(200, "late").after(Duration::from_secs(3)),
        gauge.clone(),
    )
    .await;
    let down = dead_url().await.trim_start_matches("http://").to_string();

    let ep = Endpoints {
        blue: vec![ok.host_port(), ok2.host_port()],
        green: vec![failing.host_port(), slow.host_port(), down.clone()],
        blue_health_path: "/health".into(),
        green_health_path: "/health".into(),
        ..Default::default()
    };
    let h = Health::new(&ep, T).expect("client");
    let (blue, green) = h.check_all().await;
    // The checks are sent at once: the three slow servers had their requests together.
    assert_eq!(gauge.max(), 3, "the health checks ran one after another");

    assert!(blue.iter().all(|s| s.healthy && s.error.is_none()));
    assert!(
        blue.iter()
            .all(|s| s.latency_ms.is_some_and(|l| l >= 250.0))
    );
    assert_eq!(blue[0].address, ok.host_port());

    assert!(!green[0].healthy);
    assert!(green[0].error.as_deref().is_some_and(|e| e.contains("500")));
    assert!(green[0].latency_ms.is_some());
    assert!(!green[1].healthy);
    assert_eq!(green[1].error.as_deref(), Some("timed out after 600ms"));
    assert!(!green[2].healthy);
    assert_eq!(green[2].address, down);
    assert!(
        green[2]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("cannot connect")),
        "{:?}",
        green[2]
    );
}

#[tokio::test]
async fn replies_over_1_mib_are_refused_by_every_http_source() {
    let big = Server::start(|r| match r.path.as_str() {
        "/status" => Resp::json(
            200,
            json!({"active": "blue", "weights": {"blue": 100, "green": 0}, "padding": "x".repeat(2 << 20)}),
        ),
        "/switch-to-green" => Resp::text(500, &"e".repeat(2 << 20)),
        "/health" => Resp::text(200, &"ok".repeat(1 << 20)),
        _ => huge_flags(2 << 20),
    })
    .await;
    let api = FlagApi::new(&big.url(), T, &flags()).expect("client");
    let o = Source::read(&api).await;
    assert_eq!(o.flags, None);
    assert!(
        o.errors[0].message.contains("reply larger than 1 MiB"),
        "{:?}",
        o.errors
    );
    let lb = LoadBalancer::new(&big.url(), T).expect("client");
    let o = Source::read(&lb).await;
    assert_eq!(o.pools, None);
    assert!(
        o.errors[0].message.contains("reply larger than 1 MiB"),
        "{:?}",
        o.errors
    );
    let e = lb.switch(PoolName::Green).await.expect_err("500");
    assert!(
        e.contains("HTTP 500") && e.contains("reply larger than 1 MiB"),
        "{e}"
    );
    let ep = Endpoints {
        blue: vec![big.host_port()],
        blue_health_path: "/health".into(),
        ..Default::default()
    };
    let (blue, _) = Health::new(&ep, T).expect("client").check_all().await;
    assert!(!blue[0].healthy);
    assert_eq!(blue[0].error.as_deref(), Some("reply larger than 1 MiB"));

    // Just under the cap is read.
    let fits = Server::start(|_| huge_flags(1_000_000)).await;
    let api = FlagApi::new(&fits.url(), T, &flags()).expect("client");
    assert_eq!(
        api.read()
            .await
            .expect("read")
            .get("unified_attributes_enabled"),
        Some(&json!(true))
    );
}

#[tokio::test]
async fn only_the_runbooks_flags_are_kept_and_a_percent_reads_as_a_number() {
    for spelled in [json!(10.0), json!("10"), json!(10)] {
        let answer = json!({
            "unified_attributes_enabled": true,
            "unified_attributes_percentage": spelled,
            "some_other_teams_flag": "x",
            "\u{202e}evil": 1,
        });
        let srv = Server::start(move |_| Resp::json(200, answer.clone())).await;
        let api = FlagApi::new(&srv.url(), T, &flags()).expect("client");
        let o = Source::read(&api).await;
        let got = o.flags.expect("flags");
        assert_eq!(
            got.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "unified_attributes_enabled",
                "unified_attributes_percentage"
            ],
            "{spelled}"
        );
        assert_eq!(got["unified_attributes_percentage"], json!(10), "{spelled}");
        assert_eq!(
            got["unified_attributes_percentage"].as_u64(),
            Some(10),
            "the engine reads it as 10"
        );
    }
}

/// A flag API and a control API at other paths than the seed system's, as the runbook says
/// (`targets.flags.path`, `targets.load_balancer.status_path` / `weights_path` /
/// `switch_path`): the clients built from the runbook read, write and read back there, and
/// `check` refuses a path that is not one.
#[tokio::test]
async fn the_runbook_says_where_the_flag_and_balancer_apis_are() {
    let flags_state = Arc::new(Mutex::new(BTreeMap::from([("pct".to_string(), json!(0))])));
    let f = flags_state.clone();
    let flag_srv = Server::start(move |r| {
        if r.path != "/api/v2/toggles" {
            return Resp::json(404, json!({"error": "not here"}));
        }
        let mut flags = f.lock().expect("flags");
        if r.method == "POST" {
            if let Value::Object(changes) = r.json() {
                flags.extend(changes);
            }
            return Resp::json(200, json!({"ok": true}));
        }
        Resp::json(200, json!(*flags))
    })
    .await;
    let lb_state = Arc::new(Mutex::new(("blue".to_string(), 0u32)));
    let l = lb_state.clone();
    let lb_srv = Server::start(move |r| {
        let mut s = l.lock().expect("lb");
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/v1/state") => Resp::json(
                200,
                json!({"active": s.0, "weights": {"blue": 100 - s.1, "green": s.1}}),
            ),
            ("POST", "/v1/split") => {
                s.1 = r.json()["green"].as_u64().unwrap_or(0) as u32;
                Resp::json(200, json!({"ok": true}))
            }
            ("POST", p) if p.starts_with("/v1/route/") => {
                s.0 = p.trim_start_matches("/v1/route/").to_string();
                s.1 = if s.0 == "green" { 100 } else { 0 };
                Resp::json(200, json!({"ok": true}))
            }
            _ => Resp::json(404, json!({"error": "no route"})),
        }
    })
    .await;
    let minimal = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minimal.yaml"),
    )
    .expect("fixture");
    let text = format!(
        "{minimal}\ntargets:\n  flags: {{ url: \"{}\", path: /api/v2/toggles }}\n  load_balancer: {{ url: \"{}\", status_path: /v1/state, weights_path: /v1/split, switch_path: \"/v1/route/{{pool}}\" }}\n",
        flag_srv.url(),
        lb_srv.url()
    );
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("paths.yaml");
    std::fs::write(&file, &text).expect("write");
    let rb = warroom::runbook::load(&file)
        .expect("the runbook loads")
        .runbook;
    let ep = Endpoints::resolve(&rb, &|_| None);
    let sources = warroom::real::Sources::new(&rb, &ep, T);

    let flags = sources.flags.as_ref().expect("the flag API");
    let o = Source::read(flags).await;
    assert_eq!(o.flags.expect("flags read").get("pct"), Some(&json!(0)));
    let (out, _) = flags.write("pct", &json!(25)).await.expect("sent");
    assert!(out.expect("read back").contains("read back pct=25"));
    assert_eq!(
        flags_state.lock().expect("state").get("pct"),
        Some(&json!(25))
    );

    let lb = sources.lb.as_ref().expect("the balancer");
    let (out, _) = lb.set_weights(10).await.expect("sent");
    assert!(out.expect("read back").contains("green 10"));
    let (out, _) = lb.switch(PoolName::Green).await.expect("sent");
    assert!(out.expect("read back").contains("switched to green"));
    assert_eq!(lb_state.lock().expect("lb").0, "green");

    // `check` says what a path must look like.
    let bad = text.replace(
        "switch_path: \"/v1/route/{pool}\"",
        "switch_path: /v1/route",
    );
    std::fs::write(
        &file,
        bad.replace("path: /api/v2/toggles", "path: api/v2/toggles"),
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("check")
        .arg(&file)
        .output()
        .expect("warroom runs");
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("targets.flags.path `api/v2/toggles` is not a path")
            && said.contains("does not say where the pool goes"),
        "{said}"
    );
}
