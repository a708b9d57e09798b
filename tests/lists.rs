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

/// A replay of a log at its end, and its UI, as `warroom replay` opens it and `End` moves.
fn replay_at_end(audit: &std::path::Path, rb: &Runbook) -> (Replay, Ui) {
    let recs = warroom::audit::read_all(audit).expect("the log reads");
    let mut rp = Replay::new(rb.clone(), &recs, 1.0).expect("replay");
    let mut ui = Ui::new(Mode::Replay);
    key(&mut ui, &mut rp, KeyCode::End);
    (rp, ui)
}

/// One key on a replay, through replay's own key path.
fn key(ui: &mut Ui, rp: &mut Replay, k: KeyCode) {
    warroom::ui::replay::handle_key(ui, rp, KeyEvent::new(k, KeyModifiers::NONE));
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
    open_phase_change(&mut c).await;
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
    let (mut rp, mut ui) = replay_at_end(&audit, &rb);
    while ui.focus != Pane::Log {
        key(&mut ui, &mut rp, KeyCode::Tab);
    }
    for _ in 0..lines_back(rp.lines(), &wanted) {
        key(&mut ui, &mut rp, KeyCode::Char('k'));
    }
    key(&mut ui, &mut rp, KeyCode::Enter);
    assert!(matches!(ui.dialog, Some(Dialog::Record { .. })));
    let replayed = frame(&rp.rb, &rp.st, rp.lines(), &ui, 240, 67);
    expect(&replayed, "replay");
}

fn rows_with(text: &str, pane_title: &str) -> Vec<String> {
    // The lines of the frame from under a pane's title to the bottom border at the left
    // edge (the left column's panes, and the log).
    let mut out = Vec::new();
    let mut inside = false;
    for l in text.lines() {
        if l.contains(pane_title) {
            inside = true;
            continue;
        }
        if inside {
            if l.trim_start_matches('"').starts_with(['└', '┗']) {
                break;
            }
            out.push(l.to_string());
        }
    }
    out
}

/// `/` on a focused list narrows it as one types, Enter keeps it, Esc clears it: the phases,
/// the pools' servers and the log's lines; the cursor stays on a row the filter shows, and
/// Enter opens that row.
#[tokio::test(start_paused = true)]
async fn slash_filters_the_focused_list_and_esc_clears_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let audit = dir.path().join("filter.audit");
    let mut c = Console::demo(&audit, Scenario::Healthy, 600.0).await;
    c.follow_plan(600, |st| st.phases[0].status == PhaseStatus::Active)
        .await;
    let show = |c: &Console| frame(&c.s.rb, &c.s.st, &c.s.log, &c.ui, 120, 40);
    let rb = c.s.rb.clone();
    // Phases: the second phase's name, typed in another case.
    while c.ui.focus != Pane::Phases {
        c.press(KeyCode::Tab);
    }
    let second = rb.phases[1].name.clone();
    let word = second
        .split_whitespace()
        .last()
        .expect("a word")
        .to_uppercase();
    c.press(KeyCode::Char('/'));
    c.type_str(&word);
    let text = show(&c);
    let phases = rows_with(&text, "Phases");
    assert!(
        phases.iter().any(|l| l.contains(&format!(
            "▸○ 2 {}",
            second.chars().take(12).collect::<String>()
        ))),
        "{text}"
    );
    let shown = phases.iter().filter(|l| l.contains(" D")).count();
    let holding = rb
        .phases
        .iter()
        .filter(|p| p.name.to_uppercase().contains(&word))
        .count();
    assert_eq!(shown, holding, "only the phases holding `{word}`\n{text}");
    assert!(
        text.contains(&format!("/{word}▏ {holding}/{}", rb.phases.len())),
        "the title says what is filtered\n{text}"
    );
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_none(), "the first Enter keeps the filter");
    assert_eq!(
        c.ui.phase_sel, 1,
        "the cursor is on a phase the filter shows"
    );
    c.press(KeyCode::Enter);
    assert!(
        show(&c).contains(&format!("Phase 2 — {second}")),
        "{}",
        show(&c)
    );
    c.press(KeyCode::Esc);
    c.press(KeyCode::Esc);
    assert!(c.ui.filter.is_none(), "Esc clears the filter");
    let text = show(&c);
    assert_eq!(
        rows_with(&text, "Phases")
            .iter()
            .filter(|l| l.contains(" D"))
            .count(),
        rb.phases.len(),
        "{text}"
    );

    // Pools: one server's address.
    while c.ui.focus != Pane::Pools {
        c.press(KeyCode::Tab);
    }
    let server = c.s.st.pools.servers(warroom::runbook::PoolName::Green)[1]
        .address
        .clone();
    c.press(KeyCode::Char('/'));
    c.type_str(&server);
    c.press(KeyCode::Enter);
    let text = show(&c);
    let pools = rows_with(&text, "Pools");
    let servers: Vec<&String> = pools.iter().filter(|l| l.contains("✓ ")).collect();
    assert_eq!(servers.len(), 1, "{text}");
    assert!(servers[0].contains(&server), "{text}");
    assert!(
        pools.iter().any(|l| l.contains("BLUE")) && pools.iter().any(|l| l.contains("GREEN")),
        "the pools themselves stay\n{text}"
    );
    c.press(KeyCode::Esc);
    assert!(c.ui.filter.is_none());

    // The log: the ticks only; Enter opens the selected one.
    while c.ui.focus != Pane::Log {
        c.press(KeyCode::Tab);
    }
    c.press(KeyCode::Char('/'));
    c.type_str("ticked");
    c.press(KeyCode::Enter);
    let text = show(&c);
    let log: Vec<String> = rows_with(&text, "Log /ticked")
        .into_iter()
        .filter(|l| l.contains(':'))
        .collect();
    assert!(!log.is_empty(), "{text}");
    for l in &log {
        assert!(l.contains("ticked"), "only the ticks: {l}\n{text}");
    }
    let ticks = fold_log(&c.s.log)
        .iter()
        .filter(|(l, _)| l.contains("ticked"))
        .count();
    assert!(
        text.contains("Log /ticked  ") && text.contains(&format!("/{ticks} · Enter")),
        "{text}"
    );
    c.press(KeyCode::Char('k'));
    c.press(KeyCode::Enter);
    let Some(Dialog::Record { line, .. }) = &c.ui.dialog else {
        panic!("Enter opens the filtered line's record: {:?}", c.ui.dialog)
    };
    assert!(line.contains("ticked"), "{line}");
    c.press(KeyCode::Esc);
    c.press(KeyCode::Esc);
    assert!(c.ui.filter.is_none());
    c.s.close().await;

    // Replay: `/` filters a focused list; elsewhere it still jumps to a time.
    let (mut rp, mut ui) = replay_at_end(&audit, &rb);
    key(&mut ui, &mut rp, KeyCode::Char('/'));
    assert!(matches!(ui.dialog, Some(Dialog::Jump { .. })));
    key(&mut ui, &mut rp, KeyCode::Esc);
    while ui.focus != Pane::Log {
        key(&mut ui, &mut rp, KeyCode::Tab);
    }
    key(&mut ui, &mut rp, KeyCode::Char('/'));
    for ch in "ticked".chars() {
        key(&mut ui, &mut rp, KeyCode::Char(ch));
    }
    assert!(ui.dialog.is_none());
    let text = frame(&rp.rb, &rp.st, rp.lines(), &ui, 120, 40);
    assert!(text.contains("/ticked▏"), "{text}");
}

/// With mouse capture on (`m`; off by default so the terminal selects text), a click focuses
/// the pane under it and selects the row under it, as the arrows would; Enter then opens it.
#[tokio::test(start_paused = true)]
async fn a_click_focuses_a_pane_and_selects_its_row_once_m_turns_the_mouse_on() {
    let dir = tempfile::tempdir().expect("tmp");
    let audit = dir.path().join("mouse.audit");
    let mut c = Console::demo(&audit, Scenario::Healthy, 600.0).await;
    c.follow_plan(600, |st| st.phases[0].status == PhaseStatus::Active)
        .await;
    let (w, h) = (120, 40);
    let th = warroom::ui::theme::Theme::load("default").expect("theme");
    let areas = warroom::ui::render::pane_areas(
        ratatui::layout::Rect::new(0, 0, w, h),
        &c.s.rb,
        &c.s.st,
        &th,
    );
    let row = |r: ratatui::layout::Rect, n: u16| (r.x + 3, r.y + 1 + n);
    // Off: a click does nothing (the terminal would select text).
    let (x, y) = row(areas.phases, 1);
    c.click(x, y, w, h);
    assert_eq!(c.ui.focus, Pane::Checklist);
    c.press(KeyCode::Char('?'));
    let help = frame(&c.s.rb, &c.s.st, &c.s.log, &c.ui, w, h);
    assert!(help.contains("mouse on / off"), "help lists m\n{help}");
    c.press(KeyCode::Esc);
    c.press(KeyCode::Char('m'));
    assert!(c.ui.mouse);
    // The second phase's row.
    c.click(x, y, w, h);
    assert_eq!((c.ui.focus, c.ui.phase_sel), (Pane::Phases, 1));
    let text = frame(&c.s.rb, &c.s.st, &c.s.log, &c.ui, w, h);
    assert!(
        text.lines()
            .nth(y as usize)
            .is_some_and(|l| l.contains("▸○ 2")),
        "{text}"
    );
    // The third checklist item, the second flag.
    let (x, y) = row(areas.checklist, 2);
    c.click(x, y, w, h);
    assert_eq!((c.ui.focus, c.ui.checklist_sel), (Pane::Checklist, 2));
    let (x, y) = row(areas.flags, 1);
    c.click(x, y, w, h);
    assert_eq!((c.ui.focus, c.ui.flag_sel), (Pane::Flags, 1));
    // Green's line in the pools (under the ladder, blue and blue's servers); Enter opens it.
    let blue = c.s.st.pools.servers(warroom::runbook::PoolName::Blue).len() as u16;
    let (x, y) = row(areas.pools, 2 + blue);
    c.click(x, y, w, h);
    assert_eq!((c.ui.focus, c.ui.pool_sel), (Pane::Pools, 1));
    c.press(KeyCode::Enter);
    assert!(frame(&c.s.rb, &c.s.st, &c.s.log, &c.ui, w, h).contains("Pool GREEN"));
    c.press(KeyCode::Esc);
    // A log line: Enter opens the line that was clicked.
    let (x, y) = row(areas.log, 1);
    let shown = frame(&c.s.rb, &c.s.st, &c.s.log, &c.ui, w, h)
        .lines()
        .nth(y as usize)
        .map(|l| l.trim_matches('"').trim_matches('│').trim().to_string())
        .expect("the clicked row");
    c.click(x, y, w, h);
    assert_eq!(c.ui.focus, Pane::Log);
    c.press(KeyCode::Enter);
    let Some(Dialog::Record { line, .. }) = &c.ui.dialog else {
        panic!("Enter opens the clicked line: {:?}", c.ui.dialog)
    };
    assert_eq!(line, &shown);
    c.press(KeyCode::Esc);
    // Off again: clicks do nothing.
    c.press(KeyCode::Char('m'));
    let (x, y) = row(areas.phases, 0);
    c.click(x, y, w, h);
    assert_eq!(c.ui.focus, Pane::Log);
}

/// Phase 1 running with its validation checklist ticked, then `a`: the dialog of the phase
/// change that starts phase 2 (whose start runs the migrations), its dry run answered.
async fn open_phase_change(c: &mut Console) {
    let rb = c.s.rb.clone();
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
}

/// A step whose dry run answers in several lines (nginx's diff of its included file) is drawn
/// line by line in the dialog, not run together into one.
#[tokio::test(start_paused = true)]
async fn a_dry_run_of_several_lines_is_drawn_line_by_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Console::demo(&dir.path().join("lines.audit"), Scenario::Healthy, 600.0).await;
    open_phase_change(&mut c).await;
    if let Some(Dialog::Confirm { dry_run, .. }) = c.ui.dialog.as_mut() {
        *dry_run = DryRun::Answered(vec![
            "weights: nginx: split.conf would become:\n-    10% backend_green;\n+    25% backend_green;"
                .into(),
        ]);
    }
    let text = frame(&c.s.rb, &c.s.st, &c.s.log, &c.ui, 120, 40);
    let line_of = |want: &str| {
        text.lines()
            .position(|l| l.contains(want))
            .unwrap_or_else(|| panic!("`{want}` drawn:\n{text}"))
    };
    let (head, old, new) = (
        line_of("weights: nginx: split.conf would become:"),
        line_of("-    10% backend_green;"),
        line_of("+    25% backend_green;"),
    );
    assert_eq!((old, new), (head + 1, head + 2), "{text}");
}
