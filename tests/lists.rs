//! The screen's lists and records, pressed as a user presses keys (the console driver, and
//! replay's own key path): a gate decision's record shows the dry run the dialog showed.

mod common;

use common::console::Console;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use warroom::engine::{PhaseStatus, State};
use warroom::runbook::Runbook;
use warroom::sim::Scenario;
use warroom::ui::app::{Dialog, DryRun, Pane, Ui, current_items, fold_log};
use warroom::ui::keymap::Mode;

use warroom::ui::replay::Replay;

fn frame(rb: &Runbook, st: &State, log: &[String], ui: &Ui, w: u16, h: u16) -> String {
    format!(
        "{}",
        common::draw(rb, st, log, ui, "default", w, h).backend()
    )
}

/// How many lines back from the newest the newest line holding `what` is (as `k` counts).
fn lines_back(log: &[String], what: &str) -> usize {
    let folded = fold_log(log);
    let at = folded
        .iter()
        .rposition(|(l, _)| l.contains(what))
        .unwrap_or_else(|| panic!("`{what}` in the log: {folded:#?}"));
    folded.len() - 1 - at
}

/// A phase change that runs steps: its dialog dry-runs them; the record of its log line shows
/// what that dry run said, the evidence and the checks — live, and in replay of the same log.
#[tokio::test(start_paused = true)]
async fn a_decisions_record_shows_the_dry_run_the_dialog_showed_live_and_in_replay() {
    let dir = tempfile::tempdir().expect("tmp");
    let audit = dir.path().join("record.audit");
    let mut c = Console::demo(&audit, Scenario::Healthy, 600.0).await;
    let rb = c.s.rb.clone();
    // Phase 1 running with its validation checklist ticked: the next `a` starts phase 2,
    // whose start runs the migrations.
    c.follow_plan(600, |st| {
        st.phases[0].status == PhaseStatus::Active
            && current_items(st, &rb)
                .iter()
                .all(|(l, i, _)| st.ticked(l, i).is_some())
    })
    .await;
    c.press(KeyCode::Char('a'));
    assert!(
        c.until(600, |_, ui| matches!(
            &ui.dialog,
            Some(Dialog::Confirm {
                dry_run: DryRun::Answered(_),
                ..
            })
        ))
        .await,
        "the dialog's dry run answers"
    );
    let Some(Dialog::Confirm {
        dry_run: DryRun::Answered(shown),
        ..
    }) = c.ui.dialog.clone()
    else {
        panic!("the dialog is open")
    };
    assert!(!shown.is_empty(), "the dry run says something");
    assert!(c.confirm().await, "the phase change is confirmed");
    let a = c.s.st.actions.last().expect("the phase change").clone();
    assert_eq!(
        a.preview, shown,
        "the request records what the dialog showed"
    );

    let wanted = format!("#{} ", a.id);
    while c.ui.focus != Pane::Log {
        c.press(KeyCode::Tab);
    }
    c.press(KeyCode::Char('G'));
    for _ in 0..lines_back(&c.s.log, &wanted) {
        c.press(KeyCode::Char('k'));
    }
    c.press(KeyCode::Enter);
    assert!(matches!(c.ui.dialog, Some(Dialog::Record { .. })));
    let live = frame(&c.s.rb, &c.s.st, &c.s.log, &c.ui, 240, 67);
    let expect = |text: &str, at: &str| {
        for want in [
            format!("#{} {}", a.id, a.action.label()),
            "Evidence: rollout 0 %".to_string(),
            "Dry run the dialog showed".to_string(),
            format!("  {}", shown[0]),
            "Gate checks".to_string(),
            "✓ PASS".to_string(),
        ] {
            assert!(text.contains(&want), "{at}: `{want}`\n{text}");
        }
    };
    expect(&live, "live");
    c.s.close().await;

    // Replay of the same log: the same record, through replay's key path.
    let recs = warroom::audit::read_all(&audit).expect("the log reads");
    let mut rp = Replay::new(rb.clone(), &recs, 1.0).expect("replay");
    let mut ui = Ui::new(Mode::Replay);
    let key = |ui: &mut Ui, rp: &mut Replay, k: KeyCode| {
        warroom::ui::replay::handle_key(ui, rp, KeyEvent::new(k, KeyModifiers::NONE));
    };
    key(&mut ui, &mut rp, KeyCode::End);
    while ui.focus != Pane::Log {
        key(&mut ui, &mut rp, KeyCode::Tab);
    }
    for _ in 0..lines_back(&rp.lines(), &wanted) {
        key(&mut ui, &mut rp, KeyCode::Char('k'));
    }
    key(&mut ui, &mut rp, KeyCode::Enter);
    assert!(matches!(ui.dialog, Some(Dialog::Record { .. })));
    let replayed = frame(&rp.rb, &rp.st, &rp.lines(), &ui, 240, 67);
    expect(&replayed, "replay");
}
