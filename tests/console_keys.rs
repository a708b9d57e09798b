//! The console's ways around the screen, pressed as a lead presses them: the help and its
//! legend, the rollback menu, the log (focus, scroll, records, folding), the status bar
//! following an action, the palette, a phase's and a pool's detail.

mod common;

use common::console::Console;
use common::harness::Rehearsal;
use common::screen::{bad_canary, draw_r, press};
use common::{draw, seed};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use warroom::engine::{self, State};
use warroom::sim::Scenario;
use warroom::ui::app::Ui;
use warroom::ui::keymap::Mode;

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (240, 67)];

/// Help lists every key from the keymap — Shift-Tab, Esc, Ctrl-o, p, the log's keys — and
/// a legend of the glyphs; replay's help speaks of replay, and an action key there says
/// "read-only replay".
#[test]
fn help_lists_every_key_and_the_legend_and_replay_is_read_only() {
    let r = bad_canary();
    for (w, h) in [(120, 40), (240, 67)] {
        let mut ui = Ui::new(Mode::Live);
        press(&mut ui, &r, KeyCode::Char('?'));
        let text = format!("{}", draw_r(&r, &ui, "high-contrast", w, h).backend());
        for want in [
            "Tab/Shift-Tab",
            "Esc",
            "Ctrl-o",
            "  p  presentation mode",
            "  :  command palette",
            "PgUp/PgDn",
            "g/G",
            "Legend",
            "w> c>",
        ] {
            assert!(text.contains(want), "{w}x{h}: `{want}`\n{text}");
        }
        for (label, what) in warroom::ui::keymap::help_keys(Mode::Live, false, false) {
            assert!(
                text.contains(&label) && text.contains(what),
                "{w}x{h}: `{label}` {what}\n{text}"
            );
        }
        for g in ["✓", "▶", "○", "●", "✗", "▲", "▸"] {
            assert!(
                text.contains(&format!("{g}  ")),
                "{w}x{h}: legend {g}\n{text}"
            );
        }
        if (w, h) == (120, 40) {
            insta::assert_snapshot!("help_live_120x40", text);
        }
    }
    // Replay: its own keys, the action keys refused in words, no dialog keys.
    let mut ui = Ui::new(Mode::Replay);
    press(&mut ui, &r, KeyCode::Char('a'));
    assert!(ui.dialog.is_none());
    assert!(
        ui.message
            .as_deref()
            .is_some_and(|m| m.starts_with("read-only replay")),
        "{:?}",
        ui.message
    );
    press(&mut ui, &r, KeyCode::Char('?'));
    let text = format!("{}", draw_r(&r, &ui, "default", 120, 40).backend());
    assert!(
        text.contains("Keys — replay") && text.contains("read-only replay"),
        "{text}"
    );
    assert!(
        !text.contains("Ctrl-o") && !text.contains("go/no-go"),
        "{text}"
    );
    // At 80x24 the help scrolls rather than losing its end.
    let mut ui = Ui::new(Mode::Live);
    press(&mut ui, &r, KeyCode::Char('?'));
    let text = format!("{}", draw_r(&r, &ui, "default", 80, 24).backend());
    assert!(text.contains("(j/k scroll)"), "{text}");
    for _ in 0..40 {
        press(&mut ui, &r, KeyCode::Char('j'));
    }
    let text = format!("{}", draw_r(&r, &ui, "default", 80, 24).backend());
    assert!(
        text.contains("bake done / to go"),
        "the legend's end\n{text}"
    );
}

/// `r` lists each procedure with its steps, and marks and selects the one whose risk names
/// the metric firing (the engine's rule); the second plan suggests through its abort rule.
#[test]
fn the_rollback_menu_says_what_each_procedure_does_and_suggests_one() {
    let r = bad_canary();
    let mut ui = Ui::new(Mode::Live);
    press(&mut ui, &r, KeyCode::Char('r'));
    let s = engine::suggested_procedure(&r.st, &r.rb).expect("a suggestion");
    let Some(warroom::ui::app::Dialog::Choose { items, sel, .. }) = &ui.dialog else {
        panic!("the rollback menu opens");
    };
    let want =
        r.rb.procedures
            .iter()
            .position(|p| p.id.value == s.procedure)
            .expect("a procedure");
    assert_eq!(*sel, want, "the suggested procedure is selected");
    assert!(items[want].0.contains("★ SUGGESTED"), "{:?}", items[want]);
    for (p, (label, _)) in r.rb.procedures.iter().zip(items) {
        for step in &p.steps {
            assert!(label.contains(&step.name.value), "{label}");
        }
    }
    for (w, h) in SIZES {
        let text = format!("{}", draw_r(&r, &ui, "default", w, h).backend());
        assert!(text.contains("★ SUGGESTED"), "{w}x{h}\n{text}");
        assert!(text.contains("1. "), "{w}x{h}: the steps\n{text}");
        if (w, h) == (120, 40) {
            insta::assert_snapshot!("rollback_menu_120x40", text);
        }
    }
    // The second plan has no risks with metrics: its abort rule's metric suggests its
    // procedure.
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/checkout-v2.yaml");
    let rb = warroom::runbook::load(&p).expect("checkout-v2").runbook;
    let mut st = State::new(&rb);
    let rule = &rb.abort_on[0];
    st.alerts.push(engine::AlertRecord {
        metric: rule.metrics[0].value.clone(),
        level: engine::Level::Critical,
        fired_at: chrono::Utc::now(),
        value: None,
        threshold: 1.0,
        resolved_at: None,
        acknowledged_by: None,
    });
    let s = engine::suggested_procedure(&st, &rb).expect("a suggestion");
    assert_eq!(s.procedure, rule.procedure.value);
    assert!(s.why.starts_with("auto-abort rule"), "{s:?}");
}

/// The log takes the focus and scrolls; Enter on an action's line opens what the operator
/// saw (checks, evidence, phrase); its history is there after a resume; repeats fold.
#[tokio::test(start_paused = true)]
async fn the_log_scrolls_opens_a_record_and_keeps_its_history_after_a_resume() {
    let dir = tempfile::tempdir().expect("tmp");
    let audit = dir.path().join("log.audit");
    let mut c = Console::demo(&audit, Scenario::Healthy, 600.0).await;
    c.follow_plan(600, |st| st.decision.as_ref().is_some_and(|d| d.is_go()))
        .await;
    // Tab to the log, as a user does.
    while c.ui.focus != warroom::ui::app::Pane::Log {
        c.press(KeyCode::Tab);
    }
    let folded = warroom::ui::app::fold_log(&c.s.log);
    let go = folded
        .iter()
        .rposition(|(l, _)| l.contains("#1 ") && l.contains("requested"))
        .expect("the go/no-go's request in the log");
    let n = folded.len();
    c.press(KeyCode::Char('G'));
    for _ in 0..(n - 1 - go) {
        c.press(KeyCode::Char('k'));
    }
    let frame = |c: &Console| {
        format!(
            "{}",
            draw(&c.s.rb, &c.s.st, &c.s.log, &c.ui, "default", 120, 40).backend()
        )
    };
    let text = frame(&c);
    assert!(text.contains(&format!("Log  {}/{n}", go + 1)), "{text}");
    c.press(KeyCode::Enter);
    assert!(
        matches!(c.ui.dialog, Some(warroom::ui::app::Dialog::Record { .. })),
        "{:?}",
        c.ui.dialog
    );
    let text = frame(&c);
    for want in [
        "#1 ",
        "Gate checks",
        "✓ PASS",
        "Phrase typed: go",
        "requested by alice",
    ] {
        assert!(text.contains(want), "`{want}`\n{text}");
    }
    c.press(KeyCode::Esc);
    assert!(c.ui.dialog.is_none());
    // g: the oldest line; PgDn pages back towards the newest.
    c.press(KeyCode::Char('g'));
    assert!(
        c.ui.dialog.is_none(),
        "g on the focused log is not go/no-go"
    );
    assert!(frame(&c).contains("Log  1/"), "{}", frame(&c));
    c.press(KeyCode::PageDown);
    assert!(frame(&c).contains("Log  11/"), "{}", frame(&c));
    let before = c.s.log.clone();
    c.s.close().await;
    // Resumed: the history is on the log.
    let mut c = Console::demo(&audit, Scenario::Healthy, 600.0).await;
    c.settle().await;
    for l in before.iter().filter(|l| l.contains("#1 ")) {
        assert!(c.s.log.contains(l), "{l} after the resume");
    }
    while c.ui.focus != warroom::ui::app::Pane::Log {
        c.press(KeyCode::Tab);
    }
    c.press(KeyCode::Char('g'));
    let text = format!(
        "{}",
        draw(&c.s.rb, &c.s.st, &c.s.log, &c.ui, "default", 120, 40).backend()
    );
    assert!(text.contains("session started"), "{text}");
}

#[test]
fn repeated_log_lines_fold_with_their_count() {
    let lines: Vec<String> = ["10:00:00 a", "10:00:10 flags: 503", "10:00:20 flags: 503"]
        .iter()
        .map(|s| s.to_string())
        .chain((0..10).map(|i| format!("10:01:{i:02} flags: 503")))
        .chain(["10:02:00 b".to_string()])
        .collect();
    let folded = warroom::ui::app::fold_log(&lines);
    assert_eq!(
        folded,
        vec![
            ("10:00:00 a", 1),
            ("10:01:09 flags: 503", 12),
            ("10:02:00 b", 1)
        ]
    );
    let r = bad_canary();
    let text = format!(
        "{}",
        draw(
            &r.rb,
            &r.st,
            &lines,
            &Ui::new(Mode::Live),
            "default",
            120,
            40
        )
        .backend()
    );
    assert!(text.contains("10:01:09 flags: 503 … ×12"), "{text}");
}

/// The status bar follows an action from its request to its end, says how it ended, then
/// clears; a blocked attempt says BLOCKED.
#[tokio::test(start_paused = true)]
async fn the_status_bar_follows_each_action_to_its_end_then_clears() {
    let dir = tempfile::tempdir().expect("tmp");
    let audit = dir.path().join("status.audit");
    let mut c = Console::demo(&audit, Scenario::Healthy, 600.0).await;
    let bar = |c: &Console| {
        let text = format!(
            "{}",
            draw(&c.s.rb, &c.s.st, &c.s.log, &c.ui, "default", 120, 40).backend()
        );
        text.lines().nth(38).unwrap_or_default().to_string()
    };
    c.follow_plan(600, |st| st.rollout_step >= 1).await;
    let a =
        c.s.st
            .actions
            .last()
            .expect("the first rollout step")
            .clone();
    assert!(
        bar(&c).contains(&format!("✓ #{} {} succeeded", a.id, a.action.label())),
        "{}",
        bar(&c)
    );
    // 25 % before the bake: blocked, and said so.
    c.press(KeyCode::Char('a'));
    c.press(KeyCode::Enter);
    c.settle().await;
    assert!(bar(&c).contains("BLOCKED"), "{}", bar(&c));
    // Its line in the log opens the checks that refused it.
    while c.ui.focus != warroom::ui::app::Pane::Log {
        c.press(KeyCode::Tab);
    }
    let folded = warroom::ui::app::fold_log(&c.s.log);
    let n = folded.len();
    let at = folded
        .iter()
        .rposition(|(l, _)| l.contains(" BLOCKED "))
        .expect("the blocked attempt's line");
    c.press(KeyCode::Char('G'));
    for _ in 0..(n - 1 - at) {
        c.press(KeyCode::Char('k'));
    }
    c.press(KeyCode::Enter);
    let text = format!(
        "{}",
        draw(&c.s.rb, &c.s.st, &c.s.log, &c.ui, "default", 120, 40).backend()
    );
    for want in [
        "BLOCKED rollout to",
        "attempted by alice",
        "✗ FAIL",
        "✓ PASS",
    ] {
        assert!(text.contains(want), "`{want}`\n{text}");
    }
    c.press(KeyCode::Esc);
    while c.ui.focus != warroom::ui::app::Pane::Checklist {
        c.press(KeyCode::Tab);
    }
    // A minute of the source's time later, the bar is clear of it.
    assert!(
        c.until(60, |s, _| engine::action_status(&s.st).is_none())
            .await
    );
    let b = bar(&c);
    assert!(!b.contains("BLOCKED") && !b.contains("succeeded"), "{b}");
    // A rollback runs: the bar says so while it runs.
    c.press(KeyCode::Char('r'));
    c.press(KeyCode::Enter);
    c.until(60, |s, ui| {
        ui.proposal(&s.st, &s.rb)
            .is_some_and(|p| p.verdict() != engine::Verdict::Blocked)
    })
    .await;
    if let Some(p) = c.ui.proposal(&c.s.st, &c.s.rb).and_then(|p| p.phrase) {
        c.press(KeyCode::Enter);
        c.type_str(&p);
    }
    c.press(KeyCode::Enter);
    c.settle().await;
    let running = c.s.st.running().is_some();
    let b = bar(&c);
    if running {
        assert!(b.contains("running, step"), "{b}");
    }
    assert!(c.idle(600).await);
    assert!(bar(&c).contains("succeeded"), "{}", bar(&c));
}

/// `:` lists every action the keymap has with its key; typing filters; Enter runs the chosen
/// one as its key would.
#[tokio::test(start_paused = true)]
async fn the_palette_lists_every_action_and_runs_the_chosen_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let audit = dir.path().join("palette.audit");
    let mut c = Console::demo(&audit, Scenario::Healthy, 600.0).await;
    c.press(KeyCode::Char(':'));
    let text = format!(
        "{}",
        draw(&c.s.rb, &c.s.st, &c.s.log, &c.ui, "default", 120, 40).backend()
    );
    for b in warroom::ui::keymap::bindings(Mode::Live)
        .filter(|b| !b.help.is_empty() && b.cmd != warroom::ui::keymap::Cmd::Palette)
    {
        // A console alone (an SQLite log) lists no team mode command.
        assert_eq!(
            text.contains(b.help),
            !b.cmd.team(),
            "the palette lists `{}` (team mode's: {})\n{text}",
            b.help,
            b.cmd.team()
        );
    }
    c.type_str("presentation");
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_none() && c.ui.present, "Enter ran `p`");
    c.press(KeyCode::Char(':'));
    c.type_str("go/no-go");
    c.press(KeyCode::Enter);
    assert!(
        matches!(&c.ui.dialog, Some(warroom::ui::app::Dialog::Choose { title, .. }) if title.contains("Go/no-go")),
        "{:?}",
        c.ui.dialog
    );
    c.press(KeyCode::Esc);
    // Nothing matches: Enter does nothing but close.
    c.press(KeyCode::Char(':'));
    c.type_str("zzz");
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_none() && c.ui.present);
}

/// Phases and pools take the focus: Enter on a phase shows its owner, planned and actual
/// duration, tasks, checklist and the steps its start ran with their answers; on a pool, its
/// servers and their health.
#[tokio::test(start_paused = true)]
async fn enter_on_a_focused_phase_or_pool_shows_its_detail() {
    let dir = tempfile::tempdir().expect("tmp");
    let audit = dir.path().join("detail.audit");
    let mut c = Console::demo(&audit, Scenario::Healthy, 600.0).await;
    // Into the second phase: the first completed, the second's steps ran.
    c.follow_plan(600, |st| {
        st.phases
            .get(1)
            .is_some_and(|p| p.status != warroom::engine::PhaseStatus::Pending)
    })
    .await;
    assert!(c.idle(600).await);
    while c.ui.focus != warroom::ui::app::Pane::Phases {
        c.press(KeyCode::Tab);
    }
    assert_eq!(c.ui.phase_sel, 1, "the focus starts on the running phase");
    let frame = |c: &Console, w: u16, h: u16| {
        format!(
            "{}",
            draw(&c.s.rb, &c.s.st, &c.s.log, &c.ui, "default", w, h).backend()
        )
    };
    assert!(
        frame(&c, 120, 40).contains("▸▶ 2"),
        "{}",
        frame(&c, 120, 40)
    );
    c.press(KeyCode::Enter);
    let p = c.s.rb.phases[1].clone();
    let text = frame(&c, 120, 40);
    for want in [
        format!("Phase 2 — {}", p.name),
        "▶ running".to_string(),
        format!("Tasks ({})", p.tasks.len()),
        format!("Checklist ({})", p.checklist.len()),
        format!("Steps ({})", p.on_start.len()),
    ] {
        assert!(text.contains(&want), "`{want}`\n{text}");
    }
    if let Some(step) = p.on_start.first() {
        assert!(
            text.contains(&format!("✓ 1. {}", step.name.value)),
            "the first step's answer\n{text}"
        );
    }
    c.press(KeyCode::Esc);
    // k: the phase before it, done.
    c.press(KeyCode::Char('k'));
    c.press(KeyCode::Enter);
    assert!(
        frame(&c, 120, 40).contains("✓ done"),
        "{}",
        frame(&c, 120, 40)
    );
    c.press(KeyCode::Esc);
    while c.ui.focus != warroom::ui::app::Pane::Pools {
        c.press(KeyCode::Tab);
    }
    c.press(KeyCode::Char('j'));
    c.press(KeyCode::Enter);
    let text = frame(&c, 120, 40);
    assert!(
        text.contains("Pool GREEN") && text.contains("✓ up") && text.contains("Down now (0)"),
        "{text}"
    );
}

/// The palette and a phase's detail, drawn from a rehearsal on fixed time (the console tests
/// above run on the session's clock, so their frames are not snapshotted).
#[test]
fn the_palette_and_a_phase_detail_as_drawn() {
    let mut r = Rehearsal::new(seed().runbook, Scenario::Healthy);
    r.run_to_phase("database-migration");
    let mut ui = Ui::new(Mode::Live);
    press(&mut ui, &r, KeyCode::Char(':'));
    insta::assert_snapshot!(
        "palette_120x40",
        format!("{}", draw_r(&r, &ui, "default", 120, 40).backend())
    );
    press(&mut ui, &r, KeyCode::Esc);
    while ui.focus != warroom::ui::app::Pane::Phases {
        press(&mut ui, &r, KeyCode::Tab);
    }
    press(&mut ui, &r, KeyCode::Enter);
    for (w, h) in SIZES {
        let text = format!("{}", draw_r(&r, &ui, "default", w, h).backend());
        assert!(
            text.contains("Phase 2 — ") && text.contains("Steps ("),
            "{w}x{h}\n{text}"
        );
        if h >= 40 {
            // The plan's notes: the day with its date (`day_one`) and the channels.
            assert!(
                text.contains("Day 13 (Tue 2025-08-26)") && text.contains("Communication ("),
                "{w}x{h}\n{text}"
            );
        }
        if (w, h) == (120, 40) {
            insta::assert_snapshot!("detail_phase_120x40", text);
        }
    }
    // The last phase's detail also says what follows it (`post_deployment`).
    press(&mut ui, &r, KeyCode::Esc);
    for _ in 0..r.rb.phases.len() {
        press(&mut ui, &r, KeyCode::Down);
    }
    press(&mut ui, &r, KeyCode::Enter);
    let text = format!("{}", draw_r(&r, &ui, "default", 240, 67).backend());
    assert!(
        text.contains(&format!("Phase {} — ", r.rb.phases.len()))
            && text.contains("After the last phase")
            && text.contains("Remove feature flags"),
        "{text}"
    );
}

/// Tab visits the panes in the order the screen shows them, column by column and the log
/// last, at each size: the compact layout at 80x24 puts the checklist, flags and pools on
/// the left. The order is the one the loop learns from each frame's layout.
#[test]
fn tab_follows_the_screen_at_each_size() {
    use ratatui::layout::Size;
    use warroom::ui::app::Pane::*;
    let r = Rehearsal::new(seed().runbook, Scenario::Healthy);
    let th = warroom::ui::theme::Theme::load("default").expect("theme");
    for (w, h, order) in [
        (80, 24, [Checklist, Flags, Pools, Phases, Metrics, Log]),
        (120, 40, [Phases, Checklist, Pools, Metrics, Flags, Log]),
        (240, 67, [Phases, Checklist, Pools, Metrics, Flags, Log]),
    ] {
        let mut ui = Ui::new(Mode::Live);
        warroom::ui::render::follow_layout(&mut ui, Size::new(w, h), &r.rb, &r.st, &th);
        let mut seen = vec![ui.focus];
        for _ in 1..order.len() {
            press(&mut ui, &r, KeyCode::Tab);
            seen.push(ui.focus);
        }
        // From the checklist, where a console opens, round the screen's order.
        let start = order.iter().position(|p| *p == Checklist).unwrap_or(0);
        let want: Vec<_> = order
            .iter()
            .cycle()
            .skip(start)
            .take(order.len())
            .copied()
            .collect();
        assert_eq!(seen, want, "{w}x{h}");
        press(&mut ui, &r, KeyCode::BackTab);
        assert_eq!(
            ui.focus,
            want[want.len() - 2],
            "{w}x{h}: Shift-Tab goes back"
        );
    }
}

/// In the high-contrast theme every text is bold, so the Next line stands out otherwise: its
/// label is a block of its own colour and its words are underlined (a mark, not a colour).
#[test]
fn next_stands_out_in_high_contrast() {
    use ratatui::style::Modifier;
    let r = bad_canary();
    let ui = Ui::new(Mode::Live);
    let term = draw_r(&r, &ui, "high-contrast", 120, 40);
    let buf = term.backend().buffer();
    let y = buf.area.height - 1;
    let row: String = (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol().to_string())
        .collect();
    assert!(row.starts_with(" NEXT "), "{row}");
    let label = &buf[(1, y)];
    let words = &buf[(7, y)];
    let plain = &buf[(1, y - 1)];
    assert_ne!(label.bg, plain.bg, "the label is a block of its own");
    assert!(
        words.modifier.contains(Modifier::UNDERLINED) && words.symbol() != " ",
        "the words are underlined: {row}"
    );
}

/// `q` on the lead's console quits at once while nothing is in flight, and asks first while a
/// critical alert fires (the engine says what is in flight): any other key stays, `y` quits.
#[tokio::test(start_paused = true)]
async fn quit_asks_first_while_a_critical_alert_fires() {
    let dir = tempfile::tempdir().expect("tmp");
    let audit = dir.path().join("quit.audit");
    let mut c = Console::demo(&audit, Scenario::BadCanary, 600.0).await;
    let quits = |c: &mut Console, ch: char| {
        let key = KeyEvent::new(KeyCode::Char(ch), KeyModifiers::NONE);
        warroom::ui::live::handle_key(&mut c.ui, &mut c.s, "alice", key)
    };
    assert!(quits(&mut c, 'q'), "nothing in flight: q quits at once");
    c.follow_plan(600, |st| st.rollout_step >= 1).await;
    assert!(
        c.until(120, |s, _| s.st.critical_firing().next().is_some())
            .await,
        "the bad canary's alert fires"
    );
    assert!(!quits(&mut c, 'q'), "q asks first while the alert fires");
    let text = format!(
        "{}",
        draw(&c.s.rb, &c.s.st, &c.s.log, &c.ui, "default", 120, 40).backend()
    );
    let why = c.s.st.in_flight(&c.s.rb).expect("something is in flight");
    assert!(text.contains(&format!("{why}. Quit anyway?")), "{text}");
    assert!(!quits(&mut c, 'n'), "any other key stays");
    assert!(c.ui.dialog.is_none());
    assert!(!quits(&mut c, 'q'));
    assert!(quits(&mut c, 'y'), "y quits");
}
