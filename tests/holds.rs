//! Holds: a phase's exit gate on metrics held for a time, and a `wait_until` step — driven
//! through the console's keys on the simulator in virtual time, on the second shipped plan
//! (runbooks/checkout-v2.yaml) and variants of it, and through `warroom check`.

mod common;
use common::console::Console;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use std::path::Path;
use std::process::Command;
use warroom::engine::{self, Event, Outcome, PhaseStatus};
use warroom::runbook::{self, CheckKey, Loaded};
use warroom::sim::Scenario;
use warroom::ui::render::{Chrome, render};
use warroom::ui::theme::Theme;

const PLAN: &str = "runbooks/checkout-v2.yaml";

fn plan_text() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(PLAN);
    std::fs::read_to_string(&p).expect("the second plan reads")
}

/// The second plan, with `edit` applied to its text (each `(from, to)` must be found).
fn variant(dir: &Path, edits: &[(&str, &str)]) -> Loaded {
    let mut text = plan_text();
    for (from, to) in edits {
        assert!(text.contains(from), "the plan no longer says {from:?}");
        text = text.replacen(from, to, 1);
    }
    let p = dir.join("plan.yaml");
    std::fs::write(&p, text).expect("write the variant");
    match runbook::load(&p) {
        Ok(l) => l,
        Err(e) => panic!("the variant must load: {e}"),
    }
}

/// The console on a variant of the second plan (`edits` as for `variant`), healthy.
async fn console(dir: &Path, edits: &[(&str, &str)], name: &str) -> Console {
    let loaded = variant(dir, edits);
    Console::demo_with(&loaded, &dir.join(name), Scenario::Healthy, 1.0).await
}

/// The exit gate's check in the open dialog's proposal.
fn exit_gate_check(c: &Console) -> warroom::engine::Check {
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("the advance dialog");
    let found = p.checks.iter().find(|x| x.key == Some(CheckKey::ExitGate));
    found.cloned().expect("the exit gate's check")
}

fn screen(c: &Console) -> String {
    let th = Theme::load("default").expect("theme");
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let chrome = Chrome {
        audit: "plan.audit",
        head: "",
        clock: "SIM".into(),
        log: Some(&c.s.log),
        now: None,
    };
    term.draw(|f| render(f, &c.s.rb, &c.s.st, &c.ui, &th, &chrome))
        .expect("draw");
    let buf = term.backend().buffer().clone();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Sign GO and start the first phase (shadow), by keys.
async fn start_shadow(c: &mut Console) {
    c.follow_plan(3600, |st| st.phases[0].status == PhaseStatus::Active)
        .await;
    c.tick_shown().await;
}

#[tokio::test(start_paused = true)]
async fn completing_a_phase_waits_for_its_exit_gate_to_hold_and_says_when() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = console(dir.path(), &[], "a.audit").await;
    start_shadow(&mut c).await;
    // A few readings into the phase: the hold runs, the gate blocks with its progress.
    let started = c.s.st.phases[0].started.expect("started");
    assert!(
        c.until(600, |s, _| s
            .st
            .now
            .is_some_and(|n| (n - started).num_seconds() >= 120))
            .await
    );
    c.press(KeyCode::Char('a'));
    let gate = exit_gate_check(&c);
    assert!(!gate.pass, "{gate:?}");
    assert_eq!(gate.name, "Checkout p99 < 800 ms for 15m");
    assert!(gate.evidence.starts_with("held 2m"), "{gate:?}");
    assert!(gate.evidence.contains(" of 15m (now "), "{gate:?}");
    // The Next line says when the phase can complete; the checklist pane shows the hold.
    let next = engine::next_move(&c.s.st, &c.s.rb);
    assert!(
        next.text
            .starts_with("complete shadow, start canary possible in 1")
            && next.key.is_none(),
        "{next:?}"
    );
    c.press(KeyCode::Esc);
    let text = screen(&c);
    assert!(
        text.contains("▶  Checkout p99 < 800 ms held 2m / 15m"),
        "{text}"
    );
    // Pressed once the hold has run its time: the phase completes, the check passing with
    // the hold as evidence in the audit log.
    c.press(KeyCode::Char('a'));
    assert!(
        c.until(1800, |s, ui| ui
            .proposal(&s.st, &s.rb)
            .is_some_and(|p| p.checks.iter().all(|x| x.pass)))
            .await
    );
    assert!(c.confirm().await, "the gate opens once the hold has run");
    assert!(c.idle(600).await);
    assert_eq!(c.s.st.phases[0].status, PhaseStatus::Done);
    let held = c
        .events()
        .iter()
        .find_map(|e| match e {
            Event::ActionRequested { checks, .. } => checks
                .iter()
                .find(|x| x.key == Some(CheckKey::ExitGate))
                .cloned(),
            _ => None,
        })
        .expect("the request records the exit gate's check");
    assert!(
        held.pass && held.evidence.starts_with("held 15m"),
        "{held:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_exit_gate_that_does_not_hold_blocks_with_the_value_and_the_next_line_says_so() {
    let dir = tempfile::tempdir().expect("tmp");
    // p99 is never below 10 ms on the simulator.
    let edits = &[(
        "{ metric: checkout_p99, below: 800, for: 15m }",
        "{ metric: checkout_p99, below: 10, for: 15m }",
    )];
    let mut c = console(dir.path(), edits, "b.audit").await;
    start_shadow(&mut c).await;
    assert!(
        c.until(600, |s, _| s.st.metrics["checkout_p99"].last.is_some())
            .await
    );
    c.press(KeyCode::Char('a'));
    let gate = exit_gate_check(&c);
    assert!(
        !gate.pass && gate.evidence.starts_with("not met: now "),
        "{gate:?}"
    );
    c.press(KeyCode::Esc);
    let next = engine::next_move(&c.s.st, &c.s.rb);
    assert!(
        next.text
            .contains("blocked: Checkout p99 < 10 ms for 15m — not met"),
        "{next:?}"
    );
    let text = screen(&c);
    assert!(text.contains("✗  Checkout p99 < 10 ms — now "), "{text}");
}

/// The second plan to its last rollout step, then (by keys) complete the canary and start
/// `retire-v1`, whose steps then run: returns with them under way.
async fn to_retire(c: &mut Console) {
    let last = c.s.rb.rollout.steps.len();
    c.follow_plan(6 * 3600, |st| st.rollout_step == last).await;
    c.tick_shown().await;
    c.press(KeyCode::Char('a'));
    assert!(c.confirm().await, "canary completes: its exit gate held");
    assert_eq!(c.s.st.phases[2].status, PhaseStatus::Active);
}

#[tokio::test(start_paused = true)]
async fn a_wait_until_step_ends_when_its_condition_has_held_and_the_next_line_shows_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let edits = &[(
        "below: 0.5, for: 2m, timeout: 15m",
        "below: 0.5, for: 5m, timeout: 15m",
    )];
    let mut c = console(dir.path(), edits, "c.audit").await;
    to_retire(&mut c).await;
    // The switch ran; the wait is the engine's: the Next line is its progress line.
    assert!(
        c.until(600, |s, _| engine::waiting(&s.st, &s.rb).is_some())
            .await
    );
    assert!(
        c.until(600, |s, _| engine::waiting(&s.st, &s.rb).is_some_and(|w| w
            .progress
            .held
            .as_secs()
            >= 60))
            .await
    );
    let next = engine::next_move(&c.s.st, &c.s.rb);
    assert!(
        next.text
            .contains("step 2 waits until Checkout error rate < 0.5 % — held 1m")
            && next.text.contains("of 5m (now ")
            && next.text.contains("; times out in "),
        "{next:?}"
    );
    assert!(c.idle(3600).await);
    let a = c.s.st.actions.last().expect("the phase change");
    assert_eq!(a.outcome, Outcome::Succeeded("2 step(s) done".into()));
    let (name, ok, out) = &a.steps_done[1];
    assert_eq!(name, "Checkout errors settle on the v2 pool");
    assert!(
        *ok && out.starts_with("Checkout error rate < 0.5 %: held 5m"),
        "{out}"
    );
    assert!(c.s.st.phases[2].failed.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_wait_until_step_that_times_out_fails_the_phase_at_that_step() {
    let dir = tempfile::tempdir().expect("tmp");
    // Checkout errors are never below 0.001 % on the simulator.
    let edits = &[(
        "below: 0.5, for: 2m, timeout: 15m",
        "below: 0.001, for: 2m, timeout: 10m",
    )];
    let mut c = console(dir.path(), edits, "d.audit").await;
    to_retire(&mut c).await;
    assert!(c.idle(3600).await);
    let a = c.s.st.actions.last().expect("the phase change");
    match &a.outcome {
        Outcome::Failed(e) => assert!(
            e.contains(
                "timed out after 10m waiting for Checkout error rate < 0.001 %: not met: now "
            ),
            "{e}"
        ),
        o => panic!("the wait should time out: {o:?}"),
    }
    // It timed out at its deadline, not later (time is the readings' and the session's).
    let waited = a.finished_at.expect("finished") - a.requested_at;
    assert!(
        waited.num_seconds() >= 600 && waited.num_seconds() < 600 + 15,
        "{waited}"
    );
    let f = c.s.st.phases[2]
        .failed
        .as_ref()
        .expect("the phase failed at the wait");
    assert_eq!(
        (f.step, f.name.as_str()),
        (1, "Checkout errors settle on the v2 pool")
    );
    let next = engine::next_move(&c.s.st, &c.s.rb);
    assert_eq!(next.text, "phase failed at step 2: retry or skip");
}

#[test]
fn the_second_plan_rehearses_with_its_holds_and_its_log_records_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let (code, text, evs) =
        common::rehearse_log(&[PLAN, "--format", "json"], &dir.path().join("r.audit"));
    assert_eq!(code, Some(0), "{text}");
    let r: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(r["completed"], true);
    let holds = evs
        .iter()
        .filter(|e| {
            matches!(e, Event::ActionRequested { checks, .. }
            if checks.iter().any(|c| c.key == Some(CheckKey::ExitGate) && c.pass))
        })
        .count();
    assert_eq!(holds, 2, "shadow's and canary's exit gates");
    assert!(
        evs.iter()
            .any(|e| matches!(e, Event::StepFinished { name, ok: true, .. }
        if name == "Checkout errors settle on the v2 pool"))
    );
}

fn check(file: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["check", file])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("warroom runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn check_points_at_the_exit_gate_and_the_wait_until_that_are_wrong() {
    let (code, err) = check("tests/fixtures/bad/exit-gate-unknown-metric.yaml");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("exit-gate-unknown-metric.yaml:36:9: error: phase `prepare` exit_gate names unknown metric `error_rat`"), "{err}");
    let (code, err) = check("tests/fixtures/bad/wait-until-times-out-first.yaml");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("wait-until-times-out-first.yaml:43:11: error: phase `canary` on_start, step `Errors settle`: wait_until must hold for 10m but times out after 5m"), "{err}");
}
