//! Trust under pressure with real steps: a phase whose command fails stops there until the
//! step is retried or skipped with a reason, and a rollback cancels a long-running step at
//! once, killing its process group. Real commands run on the real clock here (no network);
//! no assertion depends on how fast the machine is.

mod common;

use common::console::Console;
use ratatui::crossterm::event::KeyCode;
use std::path::Path;
use warroom::engine::{Action, Event, Outcome, Verdict};
use warroom::real::Endpoints;
use warroom::runbook::CheckKey;
use warroom::ui::app::{Dialog, Stage};

/// A small plan whose phases run shell commands under `dir`.
fn plan(dir: &Path) -> warroom::runbook::Loaded {
    let d = dir.display();
    let text = format!(
        r#"
name: Shell plan
teams:
  - {{ id: ops, name: Ops }}
pools:
  blue: {{ servers: ["${{TRUST_NO_SERVERS:-}}"] }}
  green: {{ servers: ["${{TRUST_NO_SERVERS:-}}"] }}
flags:
  - {{ id: pct, kind: percent, initial: 0 }}
rollout:
  flag: pct
  pool: green
  phase: canary
  steps:
    - {{ percent: 100, bake: 0s }}
phases:
  - id: prepare
    name: Prepare
    day: 1
    duration: 1h
    owner: ops
    on_start:
      - name: Check the marker
        run: {{ argv: ["sh", "-c", "test -f {d}/marker"] }}
      - name: Note it
        run: {{ argv: ["sh", "-c", "echo done > {d}/noted"] }}
  - id: long
    name: Long
    day: 1
    duration: 1h
    owner: ops
    on_start:
      - name: Wait a long time
        run: {{ argv: ["sh", "-c", "echo $$$$ > {d}/pid; exec sleep 600"], timeout: 20m }}
  - id: canary
    name: Canary
    day: 1
    duration: 1h
    owner: ops
metrics:
  - {{ id: error_rate, name: Error rate, group: app, unit: "%", critical: 1 }}
procedures:
  - id: back
    name: Back
    target: 1m
    steps:
      - name: Say so
        run: {{ argv: ["sh", "-c", "echo back > {d}/back"] }}
"#
    );
    let p = dir.join("plan.yaml");
    std::fs::write(&p, text).expect("write plan");
    match warroom::runbook::load(&p) {
        Ok(l) => l,
        Err(e) => panic!("the plan must load: {e}"),
    }
}

async fn console(dir: &tempfile::TempDir) -> Console {
    let loaded = plan(dir.path());
    let ep = Endpoints::resolve(&loaded.runbook, &|_| None);
    Console::real(&loaded, &dir.path().join("a.audit"), ep).await
}

/// Press `a` and take the dialog: Enter (or Ctrl-O override path is not used here).
async fn advance(c: &mut Console) {
    c.press(KeyCode::Char('a'));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("a dialog");
    // Nothing is configured here but shell steps: those route checks do not exist.
    assert_ne!(
        p.verdict(),
        Verdict::Blocked,
        "{:#?}",
        p.checks.iter().filter(|x| !x.pass).collect::<Vec<_>>()
    );
    if let Some(ph) = &p.phrase {
        c.type_str(ph);
    }
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_none(), "{:?}", c.dialog_error());
    c.settle().await;
}

#[tokio::test]
async fn a_failed_step_stops_its_phase_until_retried_or_skipped() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = console(&dir).await;
    advance(&mut c).await; // start prepare: its first step fails (no marker)
    assert!(c.idle(60).await);
    let failed = c.s.st.phases[0].failed.clone().expect("the phase failed");
    assert_eq!(failed.step, 0);
    assert!(c.s.log.iter().any(|l| l.contains("FAILED")));
    assert!(
        !dir.path().join("noted").exists(),
        "the steps after it did not run"
    );
    // Completing it is blocked, and no override passes that.
    c.press(KeyCode::Char('a'));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("a dialog");
    assert_eq!(p.verdict(), Verdict::Blocked);
    assert!(
        p.checks
            .iter()
            .any(|x| x.key == Some(CheckKey::PhaseSteps) && !x.pass && !x.overridable)
    );
    c.ctrl('o');
    assert_eq!(c.stage(), Some(Stage::Review));
    c.press(KeyCode::Esc);
    // Retry: fails again while the marker is missing.
    c.press(KeyCode::Char('R'));
    assert!(matches!(c.ui.dialog, Some(Dialog::Choose { .. })));
    c.press(KeyCode::Enter); // retry from step 1
    c.press(KeyCode::Enter); // confirm
    c.settle().await;
    assert!(c.idle(60).await);
    assert!(c.s.st.phases[0].failed.is_some());
    // Skip it, with a reason: the step after it runs and the phase is clear.
    c.press(KeyCode::Char('R'));
    c.press(KeyCode::Down);
    c.press(KeyCode::Enter);
    assert_eq!(c.stage(), Some(Stage::Reason));
    c.type_str("marker check is obsolete since release 4");
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_none(), "{:?}", c.dialog_error());
    c.settle().await;
    assert!(c.idle(60).await);
    assert!(c.s.st.phases[0].failed.is_none());
    assert!(dir.path().join("noted").exists());
    let skip =
        c.s.st
            .actions
            .iter()
            .find(|a| matches!(a.action, Action::SkipStep { .. }))
            .expect("the skip is recorded");
    assert_eq!(
        skip.reason.as_deref(),
        Some("marker check is obsolete since release 4")
    );
}

#[tokio::test]
async fn a_rollback_cancels_a_running_step_at_once_and_kills_its_processes() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("marker"), "").expect("marker");
    let mut c = console(&dir).await;
    advance(&mut c).await; // prepare
    assert!(c.idle(60).await);
    advance(&mut c).await; // complete prepare, start long: `sleep 600`
    let pid_file = dir.path().join("pid");
    let read_pid = || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
    };
    assert!(c.until(30, |_, _| read_pid().is_some()).await);
    let running = c.running().expect("the long step runs");
    let pid = read_pid().expect("a pid");
    // The rollback is offered while it runs, and takes over.
    c.press(KeyCode::Char('r'));
    c.press(KeyCode::Enter);
    assert_eq!(c.stage(), Some(Stage::Phrase));
    c.type_str("rollback back");
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_none(), "{:?}", c.dialog_error());
    assert!(
        c.until(30, |s, _| s.st.actions.iter().any(|a| matches!(
            a.action,
            Action::Rollback { .. }
        ) && matches!(
            a.outcome,
            Outcome::Succeeded(_)
        )))
        .await,
        "the rollback ran while the long step was running"
    );
    let cancelled = c.s.st.actions.iter().find(|a| a.id == running).expect("it");
    assert!(
        matches!(cancelled.outcome, Outcome::Cancelled(_)),
        "{:?}",
        cancelled.outcome
    );
    assert!(dir.path().join("back").exists());
    assert!(
        c.events()
            .iter()
            .any(|e| matches!(e, Event::ActionCancelled { id, .. } if *id == running))
    );
    // The `sleep` is gone with its process group.
    let gone = c
        .until(10, |_, _| {
            // SAFETY: signal 0 only checks that the process exists.
            unsafe { libc::kill(pid, 0) != 0 }
        })
        .await;
    assert!(gone, "sleep {pid} survived the cancel");
}
