//! `warroom run` end to end without a terminal: runbooks/local-lab.yaml pointed at loopback
//! flag, load-balancer and health servers (and a Prometheus that takes 10 s to answer), driven
//! through the same session, gates and audit log as the console. A flag flip and a pool
//! switch go through the gates and the audit log records them with their read-back; a slow
//! source never holds a job up; unset targets are "not configured", not a crash.

mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;
use warroom::audit;
use warroom::engine::{
    self, Action, Event, Outcome, SourceId, SourceRef, State, Submission, Verdict,
};
use warroom::real::{self, Endpoints};
use warroom::runbook::{self, CheckKey, Loaded, PoolName};
use warroom::session::{Session, Start};

fn local_lab() -> Loaded {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/local-lab.yaml");
    runbook::load(&p).unwrap_or_else(|e| panic!("runbooks/local-lab.yaml must load: {e}"))
}

async fn until(s: &mut Session, secs: u64, mut cond: impl FnMut(&State) -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while !cond(&s.st) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let _ = tokio::time::timeout(left, s.next()).await;
    }
    true
}

/// Submit an action the gate allows (with its phrase) and wait for its outcome.
async fn act(s: &mut Session, action: Action) -> Outcome {
    let p = engine::propose(&s.st, &s.rb, action.clone());
    assert_ne!(
        p.verdict(),
        Verdict::Blocked,
        "gate blocked {action:?}: {:#?}",
        p.checks.iter().filter(|c| !c.pass).collect::<Vec<_>>()
    );
    let evs = engine::submit(
        &s.st,
        &s.rb,
        &p,
        &s.operator.clone(),
        &Submission {
            typed: p.phrase.clone().unwrap_or_default(),
            override_reason: None,
            ..Default::default()
        },
    )
    .expect("submit");
    let id = s.st.next_action_id();
    s.write(evs);
    assert!(
        until(s, 20, |st| st
            .actions
            .iter()
            .any(|a| a.id == id && a.outcome != Outcome::Running))
        .await,
        "no outcome for {action:?}"
    );
    s.st.actions
        .iter()
        .find(|a| a.id == id)
        .map(|a| a.outcome.clone())
        .unwrap_or(Outcome::Unknown)
}

struct Lab {
    flags: Server,
    lb: Server,
    servers: Vec<Server>,
    prometheus: Server,
    flag_state: Arc<Mutex<BTreeMap<String, Value>>>,
    lb_state: Arc<Mutex<(String, u32)>>,
}

impl Lab {
    async fn start() -> Lab {
        let flag_state = Arc::new(Mutex::new(BTreeMap::from([
            ("unified_attributes_enabled".to_string(), json!(false)),
            ("unified_attributes_percentage".to_string(), json!(0)),
            ("dual_write_enabled".to_string(), json!(true)),
            ("fallback_enabled".to_string(), json!(true)),
        ])));
        let fs = flag_state.clone();
        let flags = Server::start(move |r| {
            let mut f = fs.lock().expect("flags");
            if r.method == "POST" {
                if let Value::Object(m) = r.json() {
                    for (k, v) in m {
                        // This flag API quietly refuses to change the fallback.
                        if k != "fallback_enabled" {
                            f.insert(k, v);
                        }
                    }
                }
                return Resp::json(200, json!({"ok": true}));
            }
            Resp::json(200, json!(*f))
        })
        .await;
        let lb_state = Arc::new(Mutex::new(("blue".to_string(), 0u32)));
        let ls = lb_state.clone();
        let lb = Server::start(move |r| {
            let mut s = ls.lock().expect("lb");
            match r.path.as_str() {
                "/switch-to-green" => *s = ("green".into(), 100),
                "/switch-to-blue" => *s = ("blue".into(), 0),
                "/weights" => s.1 = r.json()["green"].as_u64().unwrap_or(0) as u32,
                _ => {}
            }
            Resp::json(
                200,
                json!({"active": s.0, "weights": {"blue": 100 - s.1, "green": s.1}}),
            )
        })
        .await;
        let mut servers = Vec::new();
        for _ in 0..4 {
            servers.push(Server::start(|_| Resp::json(200, json!({"status": "ok"}))).await);
        }
        // A Prometheus that takes 10 s for every query.
        let prometheus = Server::start(|_| {
            Resp::json(
                200,
                json!({"status": "success", "data": {"resultType": "scalar", "result": [0, "1"]}}),
            )
            .after(Duration::from_secs(10))
        })
        .await;
        Lab {
            flags,
            lb,
            servers,
            prometheus,
            flag_state,
            lb_state,
        }
    }

    /// The environment `warroom run` would see.
    fn env(&self) -> BTreeMap<String, String> {
        let list = |s: &[Server]| {
            s.iter()
                .map(|x| x.host_port())
                .collect::<Vec<_>>()
                .join(", ")
        };
        BTreeMap::from([
            ("WARROOM_FLAGS_URL".to_string(), self.flags.url()),
            ("WARROOM_LB_URL".to_string(), self.lb.url()),
            ("WARROOM_PROMETHEUS_URL".to_string(), self.prometheus.url()),
            ("WARROOM_BLUE_SERVERS".to_string(), list(&self.servers[..2])),
            (
                "WARROOM_GREEN_SERVERS".to_string(),
                list(&self.servers[2..]),
            ),
        ])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flag_flip_and_pool_switch_through_the_gates_with_read_back_in_the_audit_log() {
    let lab = Lab::start().await;
    let loaded = local_lab();
    let env = lab.env();
    let ep = Endpoints::resolve(&loaded.runbook, &|k| env.get(k).cloned());
    // `${WARROOM_BLUE_SERVERS}` is one entry that expands to a comma-separated list.
    assert_eq!(ep.blue.len(), 2);
    assert_eq!(ep.green.len(), 2);
    assert!(ep.database.is_none() && !ep.kube_configured());

    let dir = tempfile::tempdir().expect("tempdir");
    let audit_path = dir.path().join("run.audit");
    let rb = loaded.runbook.clone();
    let at = audit_path.as_path().into();
    let how = Start {
        loaded: &loaded,
        audit: &at,
        operator: "alice",
        mode: "run",
        scenario: None,
        speed: None,
        virtual_time: false,
    };
    let mut s = Session::start(how, move |_st, jobs, reports| {
        real::spawn_with(&rb, ep, jobs, reports)
    })
    .await
    .expect("session");

    // The first readings: flags, the load balancer, every server healthy; the database and
    // Kubernetes are not configured.
    assert!(
        until(&mut s, 10, |st| st.flags_at.is_some()
            && st.pools.active == Some(PoolName::Blue)
            && st.pools.healthy(PoolName::Green) == (2, 2)
            && st.pools.healthy(PoolName::Blue) == (2, 2)
            && st.source_errors.contains_key(&SourceId::Kube.into())
            && st.source_errors.contains_key(&SourceId::Postgres.into()))
        .await,
        "first readings: {:?} {:?}",
        s.st.pools,
        s.st.source_errors
    );
    assert_eq!(
        s.st.source_errors[&SourceId::Kube.into()].0,
        "not configured"
    );
    assert_eq!(
        s.st.source_errors[&SourceId::Postgres.into()].0,
        "not configured"
    );

    // Prometheus is still answering its first round (10 s); the flip does not wait for it:
    // it is done before any Prometheus reading has come back.
    let out = act(
        &mut s,
        Action::FlipFlag {
            flag: "unified_attributes_enabled".into(),
            to: json!(true),
        },
    )
    .await;
    assert!(matches!(out, Outcome::Succeeded(_)), "{out:?}");
    assert!(
        s.st.metrics.values().all(|m| m.last_at.is_none()),
        "the flip waited for a slow source"
    );
    assert_eq!(
        lab.flag_state.lock().expect("flags")["unified_attributes_enabled"],
        json!(true)
    );

    // Sending all traffic to green passes the canary's traffic checks: with Prometheus not
    // answering, green's gate metrics are unknown and the switch is blocked. The lead
    // overrides it, deliberately.
    let switch = Action::SwitchPool {
        to: PoolName::Green,
    };
    let p = engine::propose(&s.st, &s.rb, switch.clone());
    assert_eq!(p.verdict(), Verdict::Blocked);
    assert!(
        p.checks
            .iter()
            .any(|c| c.key == Some(CheckKey::Metric) && !c.pass && c.evidence.contains("stale")),
        "{:#?}",
        p.checks
    );
    let evs = engine::submit(
        &s.st,
        &s.rb,
        &p,
        "alice",
        &Submission {
            typed: p.override_phrase(),
            override_reason: Some("metrics watched on the Grafana board".into()),
            ..Default::default()
        },
    )
    .expect("override");
    let id = s.ahead.next_action_id();
    s.write(evs);
    assert!(
        until(&mut s, 20, |st| st.actions.iter().any(
            |a| a.id == id && matches!(a.outcome, Outcome::Succeeded(_))
        ))
        .await,
        "the switch"
    );
    assert_eq!(lab.lb_state.lock().expect("lb").0, "green");
    assert!(until(&mut s, 5, |st| st.pools.active == Some(PoolName::Green)).await);

    // A flag API that does not apply the write: the read-back disagreement fails the action.
    let out = act(
        &mut s,
        Action::FlipFlag {
            flag: "fallback_enabled".into(),
            to: json!(false),
        },
    )
    .await;
    match out {
        Outcome::Failed(e) => assert!(
            e.contains("wrote fallback_enabled=false, read back fallback_enabled=true"),
            "{e}"
        ),
        other => panic!("expected a failure, got {other:?}"),
    }

    s.close().await;

    // The audit log: both actions with their read-back, and the disagreement.
    let records = audit::read_all(&audit_path).expect("read audit");
    let steps: Vec<(bool, String)> = records
        .iter()
        .filter_map(|r| match r.event() {
            Ok(Event::StepFinished { ok, output, .. }) => Some((ok, output)),
            _ => None,
        })
        .collect();
    assert!(
        steps
            .iter()
            .any(|(ok, o)| *ok && o.contains(
                "wrote unified_attributes_enabled=true, read back unified_attributes_enabled=true"
            )),
        "{steps:#?}"
    );
    assert!(
        steps
            .iter()
            .any(|(ok, o)| *ok && o.contains("switched to green; read back active green")),
        "{steps:#?}"
    );
    assert!(
        steps
            .iter()
            .any(|(ok, o)| !*ok
                && o == "wrote fallback_enabled=false, read back fallback_enabled=true"),
        "{steps:#?}"
    );
    let kinds: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
    assert!(kinds.contains(&"action_requested") && kinds.contains(&"action_succeeded"));
    assert!(kinds.contains(&"action_failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_on_unconfigured_systems_fail_and_a_dead_flag_api_blocks_the_flip() {
    let loaded = local_lab();
    let dead = dead_url().await;
    let env = BTreeMap::from([("WARROOM_FLAGS_URL".to_string(), dead)]);
    let ep = Endpoints::resolve(&loaded.runbook, &|k| env.get(k).cloned());
    let dir = tempfile::tempdir().expect("tempdir");
    let audit_path = dir.path().join("run.audit");
    let rb = loaded.runbook.clone();
    let at = audit_path.as_path().into();
    let how = Start {
        loaded: &loaded,
        audit: &at,
        operator: "bob",
        mode: "run",
        scenario: None,
        speed: None,
        virtual_time: false,
    };
    let mut s = Session::start(how, move |_st, jobs, reports| {
        real::spawn_with(&rb, ep, jobs, reports)
    })
    .await
    .expect("session");
    assert!(
        until(&mut s, 10, |st| {
            ["flags", "lb", "prometheus", "kube", "postgres", "health"]
                .iter()
                .all(|k| {
                    st.source_errors
                        .contains_key(&SourceRef::try_from(k.to_string()).expect("a source"))
                })
        })
        .await,
        "{:?}",
        s.st.source_errors
    );
    assert!(
        s.st.source_errors[&SourceId::Flags.into()]
            .0
            .contains("cannot connect")
    );
    assert_eq!(s.st.source_errors[&SourceId::Lb.into()].0, "not configured");
    // The gate sees the dead flag API.
    let p = engine::propose(
        &s.st,
        &s.rb,
        Action::FlipFlag {
            flag: "unified_attributes_enabled".into(),
            to: json!(true),
        },
    );
    assert_eq!(p.verdict(), Verdict::Blocked);

    // The instant rollback, overridden: its first step needs the load balancer, which is not
    // configured; the action fails with that, nothing panics.
    let p = engine::propose(
        &s.st,
        &s.rb,
        Action::Rollback {
            procedure: "instant".into(),
        },
    );
    let evs = engine::submit(
        &s.st,
        &s.rb,
        &p,
        "bob",
        &Submission {
            typed: p.override_phrase(),
            override_reason: Some("drill of the instant rollback".into()),
            ..Default::default()
        },
    )
    .expect("submit");
    let id = s.st.next_action_id();
    s.write(evs);
    assert!(
        until(&mut s, 10, |st| st
            .actions
            .iter()
            .any(|a| a.id == id && a.outcome != Outcome::Running))
        .await
    );
    let a = s.st.actions.iter().find(|a| a.id == id).expect("action");
    assert_eq!(
        a.outcome,
        Outcome::Failed(
            "step Switch traffic back to blue (lb-control /switch-to-blue) failed: lb: not configured"
                .into()
        )
    );
    s.close().await;
}
