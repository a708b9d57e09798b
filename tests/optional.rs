//! Optional steps: listed in the action's dialog, chosen with Tab and Ctrl-t, run when chosen,
//! recorded with the request and shown by the dry run — through the console's keys on the
//! simulator in virtual time, on the second shipped plan and on the seed's rollback.

mod common;
use common::console::Console;
use ratatui::crossterm::event::{KeyCode, KeyModifiers};
use std::path::Path;
use warroom::engine::{Action, Event, PhaseStatus};
use warroom::runbook;
use warroom::sim::Scenario;
use warroom::ui::app::{Dialog, DryRun};

const SNAPSHOT: &str = "Snapshot v1's routing config";

async fn second_plan(dir: &Path) -> Console {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/checkout-v2.yaml");
    let loaded = runbook::load(&p).expect("the second plan loads");
    Console::demo_with(&loaded, &dir.join("o.audit"), Scenario::Healthy, 1.0).await
}

/// The second plan to its last rollout step, with the canary's checklist ticked and the
/// dialog that completes it and starts `retire-v1` open.
async fn retire_dialog(c: &mut Console) {
    let last = c.s.rb.rollout.steps.len();
    c.follow_plan(6 * 3600, |st| st.rollout_step == last).await;
    c.tick_shown().await;
    c.press(KeyCode::Char('a'));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("the dialog is open");
    assert!(
        matches!(&p.action, Action::PhaseChange { to: Some(t), .. } if t == "retire-v1"),
        "{:?}",
        p.action
    );
}

fn dry_run(c: &Console) -> Option<Vec<String>> {
    match &c.ui.dialog {
        Some(Dialog::Confirm {
            dry_run: DryRun::Answered(l),
            ..
        }) => Some(l.clone()),
        _ => None,
    }
}

#[tokio::test(start_paused = true)]
async fn an_optional_step_chosen_in_the_dialog_runs_is_dry_run_and_is_recorded() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = second_plan(dir.path()).await;
    retire_dialog(&mut c).await;
    // Listed, not chosen: not among the steps, said so in the preview.
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("dialog");
    assert_eq!(p.optional.len(), 1);
    assert!(!p.optional[0].chosen && p.optional[0].name == SNAPSHOT);
    assert!(!p.steps.iter().any(|s| s.name == SNAPSHOT));
    assert!(
        p.preview
            .contains(&format!("  (optional, not run: {SNAPSHOT})")),
        "{:#?}",
        p.preview
    );
    // Tab marks it (the only one), Ctrl-t chooses it: first among the steps, as the runbook
    // orders them, and the dry run is asked again and shows it.
    c.press(KeyCode::Tab);
    c.key(KeyCode::Char('t'), KeyModifiers::CONTROL);
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("dialog");
    assert!(p.optional[0].chosen);
    assert_eq!(p.steps[0].name, SNAPSHOT);
    assert!(
        p.preview
            .contains(&format!("  (optional, chosen to run: {SNAPSHOT})"))
    );
    assert!(
        c.until(600, |_, ui| matches!(
            &ui.dialog,
            Some(Dialog::Confirm {
                dry_run: DryRun::Answered(l),
                ..
            }) if l.iter().any(|l| l.starts_with(SNAPSHOT))
        ))
        .await,
        "the dry run shows the chosen step: {:?}",
        dry_run(&c)
    );
    assert!(c.confirm().await);
    assert!(c.idle(3600).await);
    let requested = c
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::ActionRequested {
                action: Action::PhaseChange { to: Some(t), .. },
                optional,
                steps,
                ..
            } if t == "retire-v1" => Some((optional, steps)),
            _ => None,
        })
        .expect("the request");
    assert_eq!(requested.0, vec![SNAPSHOT.to_string()]);
    assert_eq!(requested.1.len(), 3);
    let a = c.s.st.actions.last().expect("the phase change");
    assert_eq!(a.steps_done[0].0, SNAPSHOT);
    assert!(a.steps_done.iter().all(|s| s.1), "{:?}", a.steps_done);
    assert_eq!(c.s.st.phases[2].status, PhaseStatus::Active);
    assert!(
        c.s.log
            .iter()
            .any(|l| l.contains(&format!("optional steps chosen: {SNAPSHOT}"))),
        "the log line says what was chosen"
    );
}

#[tokio::test(start_paused = true)]
async fn an_optional_step_left_unchosen_never_runs_and_ctrl_t_twice_unchooses_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = second_plan(dir.path()).await;
    retire_dialog(&mut c).await;
    c.key(KeyCode::Char('t'), KeyModifiers::CONTROL);
    c.key(KeyCode::Char('t'), KeyModifiers::CONTROL);
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("dialog");
    assert!(!p.optional[0].chosen);
    assert!(c.confirm().await);
    assert!(c.idle(3600).await);
    let a = c.s.st.actions.last().expect("the phase change");
    assert!(!a.steps.iter().any(|s| s.name == SNAPSHOT));
    let recorded = c
        .events()
        .into_iter()
        .any(|e| matches!(e, Event::ActionRequested { optional, .. } if !optional.is_empty()));
    assert!(!recorded, "no choice recorded");
}

#[tokio::test(start_paused = true)]
async fn a_rollback_s_optional_step_is_chosen_the_same_way() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&dir.path().join("r.audit"), Scenario::Healthy, 1.0).await;
    // The seed's procedures: the one with an optional step (a restore from backup).
    let (i, proc_id, name) =
        c.s.rb
            .procedures
            .iter()
            .enumerate()
            .find_map(|(i, p)| {
                p.steps
                    .iter()
                    .find(|s| s.optional)
                    .map(|s| (i, p.id.value.clone(), s.name.value.clone()))
            })
            .expect("the seed has a procedure with an optional step");
    c.press(KeyCode::Char('r'));
    for _ in 0..i {
        c.press(KeyCode::Down);
    }
    c.press(KeyCode::Enter);
    let p =
        c.ui.proposal(&c.s.st, &c.s.rb)
            .expect("the rollback dialog");
    assert!(matches!(&p.action, Action::Rollback { procedure } if *procedure == proc_id));
    let k = p
        .optional
        .iter()
        .position(|o| o.name == name)
        .expect("listed");
    for _ in 0..k {
        c.press(KeyCode::Tab);
    }
    // In the phrase stage too: Ctrl-t types nothing into the phrase.
    c.key(KeyCode::Char('t'), KeyModifiers::CONTROL);
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("dialog");
    assert!(p.steps.iter().any(|s| s.name == name), "{:?}", p.steps);
    assert!(c.confirm().await);
    assert!(c.idle(3600).await);
    let a = c.s.st.actions.last().expect("the rollback");
    assert!(a.steps_done.iter().any(|s| s.0 == name && s.1));
}

#[test]
fn a_rehearsal_script_chooses_an_optional_step_and_the_log_records_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let script = dir.path().join("s.yaml");
    std::fs::write(
        &script,
        format!("- choose: \"{SNAPSHOT}\"\n- complete_plan\n- expect: {{ active_pool: green }}\n"),
    )
    .expect("write script");
    let audit = dir.path().join("s.audit");
    let script_arg = script.display().to_string();
    let (code, text, events) = common::rehearse_log(
        &[
            "runbooks/checkout-v2.yaml",
            "--format",
            "json",
            "--script",
            &script_arg,
        ],
        &audit,
    );
    assert_eq!(code, Some(0), "{text}");
    let chosen = events.into_iter().find_map(|e| match e {
        Event::ActionRequested {
            optional, steps, ..
        } if !optional.is_empty() => Some((optional, steps.len())),
        _ => None,
    });
    assert_eq!(chosen, Some((vec![SNAPSHOT.to_string()], 3)));
    // A name the runbook does not have is refused before anything runs.
    std::fs::write(&script, "- choose: No such step\n").expect("write script");
    let (code, text, _) = common::rehearse_log(
        &["runbooks/checkout-v2.yaml", "--script", &script_arg],
        &dir.path().join("t.audit"),
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("no optional step of that name"), "{text}");
}
