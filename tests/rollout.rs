//! End to end on the simulator: the same session, store, engine and gates as the console.

mod common;
use common::*;
use warroom::audit;
use warroom::engine::{self, Action, Level, Outcome, PhaseStatus, Verdict};
use warroom::session::Session;
use warroom::sim::Scenario;

async fn start_and_sign(s: &mut Session) {
    let rb = s.rb.clone();
    let pre = rb
        .checklist("pre-deployment-checklist")
        .expect("pre-deployment checklist");
    let items: Vec<String> = pre
        .sections
        .iter()
        .flat_map(|x| x.items.iter().map(|i| i.id.value.clone()))
        .collect();
    tick_all(s, "pre-deployment-checklist", &items).await;
    assert!(matches!(
        act(s, Action::GoNoGo { go: true }, 5).await,
        Outcome::Succeeded(_)
    ));
}

async fn complete_phase_checklist(s: &mut Session) {
    let rb = s.rb.clone();
    let i = s.st.current_phase().expect("a phase is active");
    let items: Vec<String> = rb.phases[i]
        .checklist
        .iter()
        .map(|c| c.id.value.clone())
        .collect();
    let id = rb.phases[i].id.value.clone();
    tick_all(s, &id, &items).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_rollout_zero_to_hundred_is_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = tmp_audit(&dir, "rollout.audit");
    let loaded = seed();
    let mut s = Session::start_demo(&loaded, &path, "alice", 1000.0, Scenario::Healthy)
        .await
        .expect("start");
    start_and_sign(&mut s).await;

    // Phases 1..4, then the rollout in phase 5, then finalization.
    while let Some(a) = engine::next_advance(&s.st, &s.rb) {
        if s.st.current_phase().is_some() && matches!(a, Action::PhaseChange { .. }) {
            complete_phase_checklist(&mut s).await;
        }
        if let Action::RolloutStep { step: 1, .. } = a {
            // The feature must be on before the canary takes traffic (rollout.requires_flags).
            let out = act(
                &mut s,
                Action::FlipFlag {
                    flag: "unified_attributes_enabled".into(),
                    to: serde_json::json!(true),
                },
                10,
            )
            .await;
            assert!(matches!(out, Outcome::Succeeded(_)), "{out:?}");
        }
        let out = act(&mut s, a.clone(), 30).await;
        assert!(matches!(out, Outcome::Succeeded(_)), "{a:?}: {out:?}");
    }
    assert_eq!(s.st.rollout_percent(&s.rb), 100);
    assert!(s.st.phases.iter().all(|p| p.status == PhaseStatus::Done));
    assert_eq!(s.st.pools.active, Some(warroom::runbook::PoolName::Green));
    let live = s.st.clone();
    s.close().await;

    let records = audit::read_all(&path).expect("read");
    assert!(matches!(
        audit::verify(&records, None, audit::read_head(&path)),
        audit::Verdict::Ok { .. }
    ));
    let count = |k: &str| records.iter().filter(|r| r.kind == k).count();
    assert_eq!(count("session_started"), 1);
    assert_eq!(count("session_ended"), 1);
    assert_eq!(count("decision"), 1);
    assert_eq!(count("phase_started"), 6);
    assert_eq!(count("phase_completed"), 6);
    assert_eq!(count("checklist_ticked"), 16 + s_items(&live));
    assert!(count("observed") > 10);
    // Every rollout step went through the gate with its evidence, then succeeded.
    let steps: Vec<u32> = records
        .iter()
        .filter_map(|r| match r.event().ok()? {
            engine::Event::ActionRequested {
                action: Action::RolloutStep { percent, .. },
                checks,
                evidence,
                ..
            } => {
                assert!(
                    checks.iter().all(|c| c.pass),
                    "rollout to {percent} passed every check"
                );
                assert!(evidence.metrics.contains_key("green_error_rate"));
                Some(percent)
            }
            _ => None,
        })
        .collect();
    assert_eq!(steps, vec![10, 25, 50, 100]);
    // Going to 100 % is destructive: its confirmation phrase is on record.
    assert!(
        records
            .iter()
            .any(|r| r.kind == "action_confirmed" && r.payload.contains("rollout 100"))
    );
    // Replaying the log rebuilds the state the console had.
    let mut replayed = audit::export::fold(&loaded.runbook, &records).expect("fold");
    // The session end is recorded after the live state was taken.
    replayed.events = live.events;
    replayed.now = live.now;
    assert_eq!(replayed.phases, live.phases);
    assert_eq!(replayed.flags, live.flags);
    assert_eq!(replayed.rollout_step, live.rollout_step);
    assert_eq!(replayed.actions, live.actions);
}

fn s_items(st: &engine::State) -> usize {
    st.ticks
        .keys()
        .filter(|(l, _)| l != "pre-deployment-checklist")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_canary_trips_a_critical_alert_that_blocks_advancing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = tmp_audit(&dir, "bad.audit");
    let mut s = Session::start_demo(&seed(), &path, "bob", 1000.0, Scenario::BadCanary)
        .await
        .expect("start");
    start_and_sign(&mut s).await;
    // Up to the rollout phase.
    while s
        .st
        .current_phase()
        .map(|i| s.rb.phases[i].id.value.as_str())
        != Some("green-deployment")
    {
        let a = engine::next_advance(&s.st, &s.rb).expect("advance");
        if s.st.current_phase().is_some() {
            complete_phase_checklist(&mut s).await;
        }
        assert!(matches!(act(&mut s, a, 30).await, Outcome::Succeeded(_)));
    }
    act(
        &mut s,
        Action::FlipFlag {
            flag: "unified_attributes_enabled".into(),
            to: serde_json::json!(true),
        },
        10,
    )
    .await;
    // Green takes its first share of traffic: 10 %.
    let a = engine::next_advance(&s.st, &s.rb).expect("step");
    assert!(matches!(act(&mut s, a, 30).await, Outcome::Succeeded(_)));
    assert_eq!(s.st.rollout_percent(&s.rb), 10);
    // Green's error rate passes 1 % and stays there for the alert's `for`.
    let fired = until(&mut s, 30, |st| {
        st.critical_firing().any(|a| a.metric == "green_error_rate")
    })
    .await;
    assert!(fired, "critical alert on green_error_rate fired");
    let next = engine::next_advance(&s.st, &s.rb).expect("next step");
    let p = engine::propose(&s.st, &s.rb, next.clone());
    assert_eq!(p.verdict(), Verdict::Blocked);
    let failing: Vec<&str> = p
        .checks
        .iter()
        .filter(|c| !c.pass)
        .map(|c| c.name.as_str())
        .collect();
    assert!(failing.contains(&"no critical alert firing"), "{failing:?}");
    assert!(
        failing.iter().any(|f| f.starts_with("Green error rate")),
        "{failing:?}"
    );
    // Pressing Enter on a blocked action records the attempt and runs nothing.
    let evs = engine::submit(&s.st, &s.rb, &p, "bob", &Default::default()).expect("blocked submit");
    assert!(matches!(
        evs.as_slice(),
        [engine::Event::ActionBlocked { .. }]
    ));
    s.write(evs);
    settle(&mut s).await;
    assert_eq!(s.st.rollout_percent(&s.rb), 10);

    // The feature-flag rollback turns the new path off; the alert resolves.
    let out = act(
        &mut s,
        Action::Rollback {
            procedure: "feature-flag".into(),
        },
        5,
    )
    .await;
    assert!(matches!(out, Outcome::Succeeded(_)), "{out:?}");
    let rb_rec =
        s.st.actions
            .iter()
            .rev()
            .find(|a| matches!(a.action, Action::Rollback { .. }))
            .expect("rollback");
    let took = (rb_rec.finished_at.expect("finished") - rb_rec.requested_at)
        .to_std()
        .unwrap_or_default();
    assert!(
        took <= std::time::Duration::from_secs(30),
        "feature-flag rollback within its 30 s target, took {took:?}"
    );
    assert!(
        until(&mut s, 30, |st| st
            .metrics
            .get("green_error_rate")
            .is_some_and(|m| m.firing == Level::Ok))
        .await
    );
    s.close().await;

    let records = audit::read_all(&path).expect("read");
    let kinds: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
    assert!(
        kinds.contains(&"alert_fired")
            && kinds.contains(&"alert_resolved")
            && kinds.contains(&"action_blocked")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_says_what_would_change_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = tmp_audit(&dir, "dry.audit");
    let mut s = Session::start_demo(&seed(), &path, "alice", 100.0, Scenario::Healthy)
        .await
        .expect("start");
    let p = engine::propose(
        &s.st,
        &s.rb,
        Action::FlipFlag {
            flag: "unified_attributes_enabled".into(),
            to: serde_json::json!(true),
        },
    );
    let id = s.preview(p.steps.clone());
    let mut lines = None;
    for _ in 0..100 {
        if let Ok(warroom::session::Wake::Previewed(got, l)) =
            tokio::time::timeout(std::time::Duration::from_secs(5), s.next()).await
            && got == id
        {
            lines = Some(l);
            break;
        }
    }
    let lines = lines.expect("the dry run answered");
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].contains("read back unified_attributes_enabled = true")
            && lines[0].contains("dry run"),
        "{lines:?}"
    );
    // Nothing changed: the next reading still has the feature off.
    let n = s.st.events;
    assert!(until(&mut s, 10, |st| st.events > n + 2).await);
    assert_eq!(
        s.st.flags.get("unified_attributes_enabled"),
        Some(&serde_json::json!(false))
    );
    // What the dialog showed is recorded with the request.
    let sub = engine::Submission {
        typed: p.phrase.clone().unwrap_or_default(),
        preview: lines.clone(),
        ..Default::default()
    };
    let evs = engine::submit(&s.st, &s.rb, &p, "alice", &sub).expect("submit");
    assert!(matches!(&evs[0], engine::Event::ActionRequested { preview, .. } if *preview == lines));
    s.close().await;
}

/// The second plan's own scenario `v2-server-down` starts with its `retire-v1` phase: when that
/// phase switches the pool, one v2 server stops answering; before it, every server answers.
/// Its own `simulate:` signal (orders per minute) reads around its base all along.
#[tokio::test(start_paused = true)]
async fn a_plans_own_scenario_starts_with_the_phase_it_names() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/checkout-v2.yaml");
    let loaded = warroom::runbook::load(&p).expect("checkout-v2");
    let scenario = Scenario::find("v2-server-down", &loaded.runbook).expect("declared");
    let audit = dir.path().join("down.audit");
    let mut c = console::Console::demo_with(&loaded, &audit, scenario, 600.0).await;
    let retire = loaded.runbook.phase_index("retire-v1").expect("phase");
    c.follow_plan(1800, |st| st.phases[retire].status != PhaseStatus::Pending)
        .await;
    assert!(
        c.until(120, |s, _| s
            .st
            .pools
            .healthy(warroom::runbook::PoolName::Green)
            .0
            == 1)
            .await,
        "one of v2's two servers stops answering: {:?}",
        c.s.st.pools
    );
    let orders = c.s.st.metrics["orders_per_minute"].last.expect("a reading");
    assert!((35.0..50.0).contains(&orders), "{orders}");
    // Before the phase, nothing was down: no record of a server going down before it started.
    let started = c.s.st.phases[retire].started.expect("started");
    assert!(
        c.s.st.servers_down.values().all(|d| d.since >= started),
        "{:?}",
        c.s.st.servers_down
    );
}
