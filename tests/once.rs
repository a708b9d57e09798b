//! One-shot SQL checks (`once: true`) on the simulator: run when the operator asks to complete
//! their phase, answered as a reading, and a gate check on completing it with the answer as
//! evidence — through the console's keys in virtual time, on the second shipped plan.

mod common;
use common::console::Console;
use ratatui::crossterm::event::KeyCode;
use std::path::Path;
use warroom::engine::{self, Action, Check, Event, PhaseStatus, Verdict};
use warroom::runbook::{self, CheckKey};
use warroom::sim::Scenario;

async fn plan(dir: &Path, edit: Option<(&str, &str)>) -> Console {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/checkout-v2.yaml");
    let mut text = std::fs::read_to_string(p).expect("the second plan reads");
    if let Some((from, to)) = edit {
        assert!(text.contains(from), "the plan no longer says {from:?}");
        text = text.replacen(from, to, 1);
    }
    let path = dir.join("plan.yaml");
    std::fs::write(&path, text).expect("write");
    let loaded = runbook::load(&path).expect("the plan loads");
    Console::demo_with(&loaded, &dir.join("once.audit"), Scenario::Healthy, 1.0).await
}

/// Follow the plan until `retire-v1` runs with its steps done and its checklist ticked.
async fn to_last_phase(c: &mut Console) {
    c.follow_plan(6 * 3600, |st| {
        st.phases[2].status == PhaseStatus::Active && st.running().is_none()
    })
    .await;
    c.tick_shown().await;
}

fn sql_check(c: &Console) -> Option<Check> {
    let p = c.ui.proposal(&c.s.st, &c.s.rb)?;
    p.checks
        .into_iter()
        .find(|x| x.key == Some(CheckKey::SqlCheck))
}

#[tokio::test(start_paused = true)]
async fn a_one_shot_sql_check_runs_when_the_phase_completes_and_gates_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = plan(dir.path(), None).await;
    to_last_phase(&mut c).await;
    // Not polled: no answer while the phase ran.
    assert!(c.s.st.metrics["v1_pending_checkouts"].last_at.is_none());
    // The Next line does not call it blocked: `a` is what runs it.
    let next = engine::next_move(&c.s.st, &c.s.rb);
    assert_eq!(
        (next.text.as_str(), next.key),
        ("complete retire-v1 (last phase)", Some("a"))
    );
    c.press(KeyCode::Char('a'));
    let asked = sql_check(&c).expect("the dialog's SQL check");
    assert!(
        !asked.pass && asked.evidence.starts_with("not answered yet"),
        "{asked:?}"
    );
    assert_eq!(asked.name, "Checkouts pending on v1 < 1 (SQL, once)");
    // The simulated database answers at once; the gate reads the answer.
    assert!(
        c.until(60, |s, ui| ui
            .proposal(&s.st, &s.rb)
            .is_some_and(|p| p.verdict() != Verdict::Blocked))
            .await
    );
    let answered = sql_check(&c).expect("check");
    assert!(
        answered.pass && answered.evidence.starts_with("answered 0 at "),
        "{answered:?}"
    );
    assert!(c.confirm().await);
    assert!(c.idle(60).await);
    assert!(c.s.st.phases.iter().all(|p| p.status == PhaseStatus::Done));
    // The answer is in the audit log as a reading, and as the check's evidence.
    let evs = c.events();
    assert!(evs.iter().any(|e| matches!(e, Event::Observed(o)
        if o.source.to_string() == "sim:once:v1_pending_checkouts"
            && o.metrics.get("v1_pending_checkouts") == Some(&Some(0.0)))));
    assert!(evs.iter().any(|e| matches!(e, Event::ActionRequested {
        action: Action::PhaseChange { from: Some(f), to: None }, checks, ..
    } if f == "retire-v1" && checks.iter().any(|x| x.key == Some(CheckKey::SqlCheck) && x.pass))));
}

#[tokio::test(start_paused = true)]
async fn a_one_shot_sql_check_whose_answer_fails_blocks_with_the_answer() {
    let dir = tempfile::tempdir().expect("tmp");
    // Answered by the simulator's error rate (about 0.1), never below 0.001.
    let mut c = plan(
        dir.path(),
        Some((
            "    once: true\n    phase: retire-v1\n    below: 1\n",
            "    once: true\n    phase: retire-v1\n    below: 0.001\n    sim: error_rate\n",
        )),
    )
    .await;
    to_last_phase(&mut c).await;
    c.press(KeyCode::Char('a'));
    assert!(
        c.until(60, |s, ui| ui
            .proposal(&s.st, &s.rb)
            .and_then(|p| p
                .checks
                .into_iter()
                .find(|x| x.key == Some(CheckKey::SqlCheck)))
            .is_some_and(|x| x.evidence.starts_with("answered")))
            .await
    );
    let x = sql_check(&c).expect("check");
    assert!(!x.pass && x.evidence.ends_with(": not met"), "{x:?}");
    assert_eq!(c.verdict(), Some(Verdict::Blocked));
    // Asked again with each completion asked: a new dialog asks again.
    let n = c
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Observed(o) if o.source.to_string().ends_with("once:v1_pending_checkouts")))
        .count();
    c.press(KeyCode::Esc);
    c.press(KeyCode::Char('a'));
    let count = |c: &Console| {
        c.events()
            .iter()
            .filter(|e| matches!(e, Event::Observed(o) if o.source.to_string().ends_with("once:v1_pending_checkouts")))
            .count()
    };
    for _ in 0..100 {
        if count(&c) > n {
            break;
        }
        let e = c.s.st.events;
        c.until(5, |s, _| s.st.events > e).await;
    }
    assert_eq!(count(&c), n + 1, "a new dialog runs it once more");
}

#[test]
fn check_points_at_a_one_shot_check_s_unknown_phase() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["check", "tests/fixtures/bad/once-unknown-phase.yaml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("warroom runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("once-unknown-phase.yaml:67:12: error: metric `orphans` phase names unknown phase `backfil`"),
        "{err}"
    );
}
