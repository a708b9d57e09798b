//! Trust under pressure: the moments a war room exists for — a blocked gate, an override, a
//! rollback, an auto-abort — driven through the console's own path: a real session (store and
//! simulator) and key presses through `Ui::on_key`. The simulator runs 600× real time, so an
//! hour of bake takes seconds; waits have generous limits (a guard against a hang, not a speed
//! assertion) and every assertion is about what happened, never about how fast.

mod common;

use common::console::Console;
use ratatui::crossterm::event::KeyCode;
use warroom::engine::{Action, Event, Outcome, PhaseStatus, SourceId, SourceRef, Verdict};
use warroom::runbook::{CheckKey, PoolName};
use warroom::sim::Scenario;
use warroom::ui::app::{Dialog, Stage};

/// Simulated seconds per real second.
const SPEED: f64 = 600.0;

fn audit(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("trust.audit")
}

fn overrides(c: &Console) -> usize {
    c.events()
        .iter()
        .filter(|e| matches!(e, Event::ActionOverridden { .. }))
        .count()
}

/// Follow the plan by keys until the canary has taken its first `n` steps.
async fn canary(c: &mut Console, n: usize) {
    c.follow_plan(600, |st| st.rollout_step >= n).await;
}

#[tokio::test(start_paused = true)]
async fn typing_into_a_blocked_dialog_never_overrides() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::Healthy, SPEED).await;
    canary(&mut c, 1).await;
    // 25 % before the 10 % step has baked: blocked.
    c.press(KeyCode::Char('a'));
    assert_eq!(c.verdict(), Some(Verdict::Blocked));
    assert_eq!(c.stage(), Some(Stage::Review));
    // Everything a hurried lead might type: no letter is a command here, `o` included.
    c.type_str("override rollout 25 because we are late");
    assert_eq!(
        c.stage(),
        Some(Stage::Review),
        "letters never open the override"
    );
    c.press(KeyCode::Enter);
    c.settle().await;
    assert!(c.ui.dialog.is_none());
    assert_eq!(c.s.st.rollout_step, 1, "nothing moved");
    assert_eq!(overrides(&c), 0);
    assert_eq!(c.s.st.blocked, 1, "the attempt is recorded as blocked");
    // The log says what failed and what was found.
    assert!(
        c.s.log.iter().any(|l| l.contains("BLOCKED rollout to 25 %")
            && l.contains("bake at 10 % for 15m failed (baked")),
        "{:#?}",
        &c.s.log[c.s.log.len().saturating_sub(3)..]
    );
}

#[tokio::test(start_paused = true)]
async fn overriding_takes_ctrl_o_its_own_phrase_and_a_reason_in_words() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::Healthy, SPEED).await;
    canary(&mut c, 1).await;
    c.press(KeyCode::Char('a'));
    assert_eq!(c.verdict(), Some(Verdict::Blocked));
    c.ctrl('o');
    assert_eq!(
        c.stage(),
        Some(Stage::Override),
        "{:?} ahead running {:?} st running {:?}",
        c.dialog_error(),
        c.s.ahead.running().map(|a| (a.id, a.action.label())),
        c.s.st.running().map(|a| (a.id, a.action.label()))
    );
    c.type_str("rollout 25");
    c.press(KeyCode::Enter);
    assert_eq!(
        c.stage(),
        Some(Stage::Override),
        "the wrong phrase does not pass"
    );
    assert!(
        c.dialog_error()
            .is_some_and(|e| e.contains("override rollout 25"))
    );
    for _ in 0.."rollout 25".len() {
        c.press(KeyCode::Backspace);
    }
    c.type_str("override rollout 25");
    c.press(KeyCode::Enter);
    assert_eq!(c.stage(), Some(Stage::OverrideReason));
    c.type_str("x");
    c.press(KeyCode::Enter);
    assert_eq!(
        c.stage(),
        Some(Stage::OverrideReason),
        "a one-letter reason is refused"
    );
    c.press(KeyCode::Backspace);
    c.type_str("bake shortened by the incident commander");
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_none());
    c.settle().await;
    let evs = c.events();
    let reason = evs.iter().find_map(|e| match e {
        Event::ActionOverridden { reason, .. } => Some(reason.clone()),
        _ => None,
    });
    assert_eq!(
        reason.as_deref(),
        Some("bake shortened by the incident commander")
    );
    assert!(evs.iter().any(
        |e| matches!(e, Event::ActionConfirmed { phrase, .. } if phrase == "override rollout 25")
    ));
    assert!(c.idle(600).await);
    assert_eq!(c.s.st.rollout_step, 2);
}

#[tokio::test(start_paused = true)]
async fn a_signed_no_go_asks_a_reason_and_no_override_passes_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::Healthy, SPEED).await;
    c.press(KeyCode::Char('g'));
    c.press(KeyCode::Down);
    c.press(KeyCode::Enter);
    assert_eq!(c.stage(), Some(Stage::Reason), "NO-GO asks for its reason");
    c.type_str("no");
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_some(), "one word is not a reason");
    c.type_str(" search latency regression in staging");
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_none());
    c.settle().await;
    let d = c.s.st.decision.clone().expect("a decision");
    assert!(!d.go);
    assert_eq!(
        d.reason.as_deref(),
        Some("no search latency regression in staging")
    );
    // The seed runbook says no override passes a missing GO.
    c.press(KeyCode::Char('a'));
    assert_eq!(c.verdict(), Some(Verdict::Blocked));
    c.ctrl('o');
    assert_eq!(c.stage(), Some(Stage::Review));
    assert!(
        c.dialog_error()
            .is_some_and(|e| e.contains("no override may pass"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_verdict_that_changes_while_typing_clears_the_field() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::Healthy, SPEED).await;
    canary(&mut c, 1).await;
    // Wait out the bake with the dialog for 25 % open: blocked, then allowed.
    c.press(KeyCode::Char('a'));
    assert_eq!(c.verdict(), Some(Verdict::Blocked));
    assert!(
        c.until(600, |_, ui| matches!(
            &ui.dialog,
            Some(Dialog::Confirm { blocked: false, .. })
        ))
        .await
    );
    assert!(
        c.dialog_error()
            .is_some_and(|e| e.contains("now allowed") && e.contains("cleared")),
        "{:?}",
        c.dialog_error()
    );
}

#[tokio::test(start_paused = true)]
async fn switching_traffic_passes_the_same_checks_as_the_canary() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::BadCanary, SPEED).await;
    // The simulated canary goes bad as soon as green takes traffic (the first step).
    canary(&mut c, 1).await;
    // Green goes critical once it takes canary traffic.
    assert!(
        c.until(600, |s, _| s
            .st
            .critical_firing()
            .any(|a| a.metric == "green_error_rate"))
            .await
    );
    c.press(KeyCode::Char('s'));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("the switch dialog");
    assert_eq!(
        p.action,
        Action::SwitchPool {
            to: PoolName::Green
        }
    );
    assert_eq!(p.verdict(), Verdict::Blocked);
    let failing: Vec<&str> = p
        .checks
        .iter()
        .filter(|x| !x.pass)
        .filter_map(|x| x.key.map(|k| k.name()))
        .collect();
    assert!(failing.contains(&"no_critical_alert"), "{failing:?}");
    assert!(failing.contains(&"metric"), "{failing:?}");
}

async fn rollback(c: &mut Console, procedure: &str) {
    c.press(KeyCode::Char('r'));
    let Some(Dialog::Choose { items, .. }) = &c.ui.dialog else {
        panic!("the rollback menu")
    };
    let i = items
        .iter()
        .position(|(_, a)| matches!(a, Action::Rollback { procedure: p } if p == procedure))
        .expect("the procedure in the menu");
    for _ in 0..i {
        c.press(KeyCode::Down);
    }
    c.press(KeyCode::Enter);
    assert_eq!(c.stage(), Some(Stage::Phrase));
    c.type_str(&format!("rollback {procedure}"));
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_none(), "{:?}", c.dialog_error());
    c.settle().await;
}

#[tokio::test(start_paused = true)]
async fn an_instant_rollback_resets_the_canary_and_rearming_starts_again() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::Healthy, SPEED).await;
    canary(&mut c, 3).await;
    assert_eq!(c.s.st.traffic_share(&c.s.rb), 50);
    rollback(&mut c, "instant").await;
    assert!(c.idle(600).await);
    let st = &c.s.st;
    assert_eq!(st.traffic_share(&c.s.rb), 0, "the header reads 0 %");
    assert_eq!(st.pools.active, Some(PoolName::Blue));
    assert_eq!(st.rollout_step, 0);
    assert!(st.rearm);
    // Once the result is acknowledged, the Next line names the re-arm, not a plain step.
    c.press(KeyCode::Char('x'));
    c.settle().await;
    let n = warroom::engine::next_move(&c.s.st, &c.s.rb);
    assert_eq!(
        (n.text.as_str(), n.key),
        ("re-arm the canary at 10 %", Some("a"))
    );
    // `a` offers the first step again, with a typed phrase.
    c.press(KeyCode::Char('a'));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("a dialog");
    assert_eq!(
        p.action,
        Action::RolloutStep {
            step: 1,
            percent: 10
        }
    );
    assert_eq!(p.phrase.as_deref(), Some("rearm 10"));
    assert_ne!(
        p.verdict(),
        Verdict::Blocked,
        "{:#?}",
        p.checks.iter().filter(|x| !x.pass).collect::<Vec<_>>()
    );
    c.type_str("rearm 10");
    c.press(KeyCode::Enter);
    assert!(c.idle(600).await);
    assert_eq!(c.s.st.rollout_step, 1);
    assert!(!c.s.st.rearm);
    // A fresh bake: 25 % waits again.
    c.press(KeyCode::Char('a'));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("a dialog");
    assert!(
        p.checks
            .iter()
            .any(|x| x.key == Some(CheckKey::Bake) && !x.pass)
    );
}

#[tokio::test(start_paused = true)]
async fn a_database_rollback_reopens_the_migration_phase() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::Healthy, SPEED).await;
    canary(&mut c, 1).await;
    rollback(&mut c, "database").await;
    assert!(c.idle(600).await);
    let rb = c.s.rb.clone();
    let mig = rb
        .phases
        .iter()
        .position(|p| warroom::engine::migration_target(&rb, &p.id.value).is_some())
        .expect("the seed has a migration phase");
    let st = &c.s.st;
    assert_eq!(st.phases[mig].status, PhaseStatus::Active);
    assert!(st.phases[mig].failed.is_some());
    assert!(
        st.phases[mig + 1..]
            .iter()
            .all(|p| p.status == PhaseStatus::Pending)
    );
    c.press(KeyCode::Char('a'));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("a dialog");
    assert_eq!(p.verdict(), Verdict::Blocked);
    assert!(
        p.checks
            .iter()
            .any(|x| x.key == Some(CheckKey::MigrationVersion) && !x.pass)
    );
    c.press(KeyCode::Esc);
    // Run the migrations again (R → retry): the phase can complete.
    c.press(KeyCode::Char('R'));
    c.press(KeyCode::Enter);
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_none(), "{:?}", c.dialog_error());
    c.settle().await;
    assert!(c.idle(600).await);
    assert!(c.s.st.phases[mig].failed.is_none());
    c.press(KeyCode::Char('a'));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("a dialog");
    assert!(
        p.checks
            .iter()
            .any(|x| x.key == Some(CheckKey::MigrationVersion) && x.pass)
    );
}

#[tokio::test(start_paused = true)]
async fn unticking_an_item_withdraws_the_go() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::Healthy, SPEED).await;
    c.follow_plan(600, |st| st.decision.as_ref().is_some_and(|d| d.go))
        .await;
    c.ui.checklist_sel = 3;
    c.press(KeyCode::Char(' '));
    c.settle().await;
    let d = c.s.st.decision.clone().expect("decision");
    assert!(d.withdrawn.is_some(), "the GO is withdrawn");
    assert!(
        c.events()
            .iter()
            .any(|e| matches!(e, Event::DecisionWithdrawn { .. }))
    );
    c.press(KeyCode::Char('a'));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("a dialog");
    assert!(
        p.checks
            .iter()
            .any(|x| x.key == Some(CheckKey::GoSigned) && !x.pass)
    );
    assert!(!p.overridable(), "the seed marks go_signed no_override");
}

#[tokio::test(start_paused = true)]
async fn a_server_that_stops_answering_raises_an_alert_naming_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::ServerDown, SPEED).await;
    canary(&mut c, 1).await;
    assert!(c.until(600, |s, _| !s.st.servers_down.is_empty()).await);
    let (addr, down) = c.s.st.servers_down.iter().next().expect("a server down");
    assert_eq!(down.pool, PoolName::Green);
    assert!(
        c.s.log
            .iter()
            .any(|l| l.contains("SERVER DOWN") && l.contains(addr.as_str()))
    );
    // Green is not healthy: the next step is blocked on it.
    c.press(KeyCode::Char('a'));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("a dialog");
    assert!(
        p.checks
            .iter()
            .any(|x| x.key == Some(CheckKey::PoolHealthy) && !x.pass)
    );
}

#[tokio::test(start_paused = true)]
async fn an_alert_is_fired_once_however_many_readings_are_in_flight() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::Healthy, SPEED).await;
    // Critical readings arriving faster than the store commits: every one is queued before
    // the first is committed.
    let now = c.s.clock.now();
    for i in 0..20 {
        let o = warroom::engine::Observation {
            source: SourceRef::part(SourceId::Prometheus, "test"),
            metrics: [("error_rate".to_string(), Some(5.0 + i as f64))].into(),
            ..Default::default()
        };
        c.s.observe_at(now + chrono::Duration::seconds(10 * i), o);
    }
    c.settle().await;
    let fired = c
        .events()
        .iter()
        .filter(|e| matches!(e, Event::AlertFired { metric, .. } if metric == "error_rate"))
        .count();
    assert_eq!(fired, 1, "one alert, not one per batch in flight");
}

#[tokio::test(start_paused = true)]
async fn auto_abort_counts_down_and_runs_the_rollback() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::BadCanary, SPEED).await;
    // The simulated canary goes bad as soon as green takes traffic (the first step).
    canary(&mut c, 1).await;
    assert!(c.until(600, |s, _| s.st.abort.is_some()).await, "armed");
    let armed = c.s.st.abort.clone().expect("countdown");
    assert_eq!(armed.procedure, "instant");
    // The lead opens the cancel dialog and hesitates: when the countdown runs out the dialog
    // closes (it must not keep taking keys with nothing on screen).
    c.press(KeyCode::Char('c'));
    assert!(matches!(c.ui.dialog, Some(Dialog::CancelAbort { .. })));
    c.type_str("let me th");
    // Left alone, the procedure runs at zero, as if confirmed, and finishes within target.
    assert!(
        c.until(600, |s, _| s.st.actions.iter().any(
            |a| matches!(&a.action, Action::Rollback { procedure } if procedure == "instant")
        ))
        .await
    );
    assert!(c.idle(600).await);
    assert!(
        c.ui.dialog.is_none(),
        "the cancel dialog closed with the countdown"
    );
    let a =
        c.s.st
            .actions
            .iter()
            .rev()
            .find(|a| matches!(a.action, Action::Rollback { .. }))
            .expect("the rollback")
            .clone();
    assert_eq!(a.operator, warroom::engine::AUTO_ABORT);
    assert_eq!(a.confirmed, None, "nobody typed a phrase for it");
    assert!(
        matches!(a.outcome, Outcome::Succeeded(_)),
        "{:?}",
        a.outcome
    );
    let took = (a.finished_at.expect("finished") - a.requested_at)
        .to_std()
        .expect("positive");
    assert!(took <= std::time::Duration::from_secs(60), "{took:?}");
    let kinds: Vec<&str> = c.events().iter().map(|e| e.kind()).collect();
    let armed_at = kinds
        .iter()
        .position(|k| *k == "abort_armed")
        .expect("armed");
    let expired_at = kinds
        .iter()
        .position(|k| *k == "abort_expired")
        .expect("expired");
    assert!(armed_at < expired_at);
    assert_eq!(c.s.st.traffic_share(&c.s.rb), 0);
}

#[tokio::test(start_paused = true)]
async fn the_lead_can_cancel_the_countdown_with_a_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::BadCanary, SPEED).await;
    // The simulated canary goes bad as soon as green takes traffic (the first step).
    canary(&mut c, 1).await;
    assert!(c.until(600, |s, _| s.st.abort.is_some()).await, "armed");
    c.press(KeyCode::Char('c'));
    c.type_str("ok");
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_some(), "one word is not a reason");
    c.type_str(" known noisy canary host, draining it");
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_none());
    c.settle().await;
    assert!(c.s.st.abort.is_none());
    // The same alert does not arm it again.
    let before = c.s.st.now.expect("now");
    // Twenty simulated minutes later, the same alert still firing: not armed again.
    assert!(
        !c.until(2, |s, _| s.st.abort.is_some()).await,
        "re-armed on the alert it was cancelled for"
    );
    assert!(
        c.s.st.critical_firing().next().is_some(),
        "the alert still fires"
    );
    assert!(c.s.st.now.expect("now") > before);
    assert!(
        !c.s.st
            .actions
            .iter()
            .any(|a| matches!(a.action, Action::Rollback { .. }))
    );
    assert!(c.events().iter().any(|e| matches!(e, Event::AbortCancelled { reason, .. } if reason == "ok known noisy canary host, draining it")));
}

#[tokio::test(start_paused = true)]
async fn a_finished_rollback_stays_on_screen_until_acknowledged() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::Healthy, SPEED).await;
    canary(&mut c, 1).await;
    rollback(&mut c, "instant").await;
    assert!(c.idle(600).await);
    let line = warroom::ui::render::emergency(&c.s.rb, &c.s.st, &theme())
        .expect("the result line")
        .to_string();
    assert!(line.contains("rolled back in 0:"), "{line}");
    assert!(line.contains("/ target 1:00 ✓"), "{line}");
    // Time passes (ten simulated minutes): it stays.
    assert!(
        !c.until(1, |s, _| s.st.unacknowledged_rollback().is_none())
            .await
    );
    c.press(KeyCode::Char('x'));
    c.settle().await;
    assert!(c.s.st.unacknowledged_rollback().is_none());
    assert!(warroom::ui::render::emergency(&c.s.rb, &c.s.st, &theme()).is_none());
}

fn theme() -> warroom::ui::theme::Theme {
    match warroom::ui::theme::Theme::load("default") {
        Ok(t) => t,
        Err(e) => panic!("the default theme: {e}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_reading_that_did_not_change_is_not_stored_again() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::Healthy, SPEED).await;
    let flags: std::collections::BTreeMap<String, serde_json::Value> =
        [("dual_write_enabled".to_string(), serde_json::json!(true))].into();
    let reading = || warroom::engine::Observation {
        source: SourceRef::part(SourceId::Flags, "test"),
        flags: Some(flags.clone()),
        ..Default::default()
    };
    let now = c.s.clock.now();
    c.s.observe_at(now, reading());
    c.s.observe_at(now, reading());
    c.settle().await;
    let stored: Vec<bool> = c
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::Observed(o) if o.source == SourceRef::part(SourceId::Flags, "test") => {
                Some(o.unchanged)
            }
            _ => None,
        })
        .collect();
    assert_eq!(stored, vec![false, true], "the repeat is a small marker");
    // The marker still says the source answered: the flags' reading is fresh.
    assert!(c.s.st.flags_at.is_some());
}

/// The simulator on tokio's paused clock: a step takes its simulated time, and a cancelled
/// step never takes effect. No store, so nothing runs on real time.
#[tokio::test(start_paused = true)]
async fn the_simulator_runs_on_a_clock_tests_can_pause_and_drops_a_cancelled_step() {
    use warroom::adapters::{Job, Report};
    use warroom::engine::PlannedStep;
    use warroom::runbook::StepKind;
    let rb = common::seed().runbook;
    let start = chrono::Utc::now();
    let clock = warroom::clock::Clock::new(start, 1.0);
    let world = warroom::sim::World::new(&rb, Scenario::Healthy, 7);
    let ((job_tx, job_rx), (rep_tx, mut rep_rx)) = warroom::adapters::channels();
    let task = tokio::spawn(warroom::sim::run(
        world,
        clock,
        rb.monitoring.interval,
        job_rx,
        rep_tx,
    ));
    let step = |kind| PlannedStep {
        name: "step".into(),
        kind,
    };
    job_tx
        .send(Job::Run {
            id: 1,
            steps: vec![step(StepKind::WaitRollout {
                deployment: "backend-green".into(),
            })],
        })
        .await
        .expect("send");
    let finished_at = loop {
        match rep_rx.recv().await.expect("a report") {
            Report::Finished { id: 1, at, ok, .. } => {
                assert!(ok);
                break at;
            }
            _ => continue,
        }
    };
    let took = (finished_at - start).to_std().expect("later");
    assert!(took >= std::time::Duration::from_secs(40), "{took:?}");
    // A switch that is cancelled before it is due never happens.
    job_tx
        .send(Job::Run {
            id: 2,
            steps: vec![step(StepKind::SwitchPool(PoolName::Green))],
        })
        .await
        .expect("send");
    job_tx.send(Job::Cancel { id: 2 }).await.expect("send");
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    let mut active = None;
    while let Ok(r) = rep_rx.try_recv() {
        match r {
            Report::StepFinished { id: 2, .. } | Report::Finished { id: 2, .. } => {
                panic!("the cancelled step ran")
            }
            Report::Observed { observation, .. } => {
                if let Some(p) = observation.pools {
                    active = p.active;
                }
            }
            _ => {}
        }
    }
    assert_eq!(active, Some(PoolName::Blue), "traffic never moved");
    task.abort();
}

/// `s` cannot skip the canary's ladder: all traffic to the rollout's pool waits for its last
/// step (an override can pass it, on the record); switching back is never held by it.
#[tokio::test(start_paused = true)]
async fn switching_all_traffic_to_the_canary_pool_waits_for_the_ladder() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&audit(&dir), Scenario::Healthy, SPEED).await;
    canary(&mut c, 1).await;
    c.press(KeyCode::Char('s'));
    assert_eq!(c.verdict(), Some(Verdict::Blocked));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("the switch dialog");
    let failing: Vec<_> = p.checks.iter().filter(|x| !x.pass).collect();
    assert!(
        failing.len() == 1
            && failing[0].key == Some(CheckKey::RolloutComplete)
            && failing[0].evidence.contains("step 1 of"),
        "{failing:#?}"
    );
}
