//! Screens and dialogs as a user sees them, at 120x40 (a laptop) and 240x67 (the room's
//! screen), with the colours that carry meaning checked cell by cell.

mod common;
use common::harness::Rehearsal;
use common::{PLANS, seed};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;
use warroom::engine::describe;
use warroom::engine::{self, Action, SourceId};
use warroom::sim::Scenario;
use warroom::ui::app::Ui;
use warroom::ui::keymap::Mode;
use warroom::ui::render::{Chrome, render};
use warroom::ui::theme::Theme;

const SIZES: [(u16, u16); 2] = [(120, 40), (240, 67)];

fn draw(r: &Rehearsal, ui: &Ui, theme: &str, w: u16, h: u16) -> Terminal<TestBackend> {
    let th = Theme::load(theme).expect("theme");
    let log: Vec<String> = r
        .events
        .iter()
        .filter_map(|(at, e)| describe(&r.rb, e).map(|l| format!("{} {l}", at.format("%H:%M:%S"))))
        .collect();
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let chrome = Chrome {
        audit: &r.audit,
        head: "3f9a0c1e77b2",
        clock: if ui.mode == Mode::Replay {
            "REPLAY 812/2650 ×10 ⏸".into()
        } else {
            "SIM ×30".into()
        },
        log: Some(&log),
        now: None,
    };
    term.draw(|f| render(f, &r.rb, &r.st, ui, &th, &chrome))
        .expect("draw");
    term
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn typed(ui: &mut Ui, r: &Rehearsal, s: &str) {
    for ch in s.chars() {
        ui.on_key(key(KeyCode::Char(ch)), &r.st, &r.rb, "alice");
    }
}

/// The style of the first cell of the first occurrence of `text`.
fn style_of(buf: &Buffer, text: &str) -> Option<(Color, Color)> {
    let w = buf.area.width as usize;
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if let Some(byte) = row.find(text) {
            let x = row[..byte].chars().count().min(w - 1) as u16;
            let c = &buf[(x, y)];
            return Some((c.fg, c.bg));
        }
    }
    None
}

fn reddish(c: Color) -> bool {
    match c {
        Color::Rgb(r, g, _) => r > 150 && g < 120,
        Color::Red | Color::LightRed => true,
        _ => false,
    }
}

fn greenish(c: Color) -> bool {
    match c {
        Color::Rgb(r, g, b) => g >= 90 && u16::from(g) > u16::from(r) + 40 && g > b,
        Color::Green | Color::LightGreen => true,
        _ => false,
    }
}

#[test]
fn before_the_start() {
    for (plan, tag) in PLANS {
        let mut r = Rehearsal::plan(plan, Scenario::Healthy);
        r.wait(120);
        let ui = Ui::new(Mode::Live);
        for (w, h) in SIZES {
            insta::assert_snapshot!(
                format!("{tag}start_{w}x{h}"),
                draw(&r, &ui, "default", w, h).backend()
            );
        }
    }
}

/// On both plans: the bad canary at the rollout's first step, a gate metric critical.
fn at_the_first_step_of_a_bad_canary(plan: &str) -> Rehearsal {
    let mut r = Rehearsal::plan(plan, Scenario::BadCanary);
    let phase = r.rb.rollout.phase.value.clone();
    r.run_to_phase(&phase);
    let first = r.rb.rollout.steps[0].percent.value;
    r.canary_to(first);
    assert_eq!(r.st.rollout_percent(&r.rb), first, "{plan}");
    assert!(
        r.st.critical_firing()
            .any(|a| r.rb.rollout.gate.iter().any(|g| g.value == a.metric)),
        "{plan}: a gate metric is critical"
    );
    r
}

#[test]
fn bad_canary_at_the_first_step_shows_the_critical_alert_and_blocks() {
    for (plan, tag) in PLANS {
        let r = at_the_first_step_of_a_bad_canary(plan);
        let mut ui = Ui::new(Mode::Live);
        for (w, h) in SIZES {
            insta::assert_snapshot!(
                format!("{tag}canary_critical_{w}x{h}"),
                draw(&r, &ui, "default", w, h).backend()
            );
        }
        // `a` opens the gate dialog: blocked, with each failing check and its evidence.
        ui.on_key(key(KeyCode::Char('a')), &r.st, &r.rb, "alice");
        for (w, h) in SIZES {
            let term = draw(&r, &ui, "default", w, h);
            insta::assert_snapshot!(format!("{tag}advance_blocked_{w}x{h}"), term.backend());
        }
        // Critical is never green, in any theme: the banner, the metric's state, the FAIL mark.
        for theme in ["default", "light", "high-contrast"] {
            let term = draw(&r, &ui, theme, 240, 67);
            let buf = term.backend().buffer();
            let (_, bg) = style_of(buf, "● CRITICAL").expect("critical banner");
            assert!(
                reddish(bg),
                "{plan} {theme}: critical banner background {bg:?} is red"
            );
            let (fg, _) = style_of(buf, "CRITICAL│")
                .or_else(|| style_of(buf, "CRITICAL"))
                .expect("metric state");
            assert!(
                !greenish(fg),
                "{plan} {theme}: critical metric is never green ({fg:?})"
            );
            let (fg, _) = style_of(buf, "✗ FAIL").expect("failing check");
            assert!(
                reddish(fg),
                "{plan} {theme}: a failing check is red ({fg:?})"
            );
            let (fg, _) = style_of(buf, "✓ PASS").expect("passing check");
            assert!(
                greenish(fg),
                "{plan} {theme}: a passing check is green ({fg:?})"
            );
        }
    }
}

#[test]
fn going_to_100_percent_asks_for_the_phrase() {
    let mut r = Rehearsal::new(seed().runbook, Scenario::Healthy);
    r.run_to_phase("green-deployment");
    r.canary_to(50);
    let mut ui = Ui::new(Mode::Live);
    ui.on_key(key(KeyCode::Char('a')), &r.st, &r.rb, "alice");
    typed(&mut ui, &r, "rollout 1");
    // The dry run the systems answered is shown (and would be recorded with the request).
    assert!(ui.wants_preview(&r.st, &r.rb).is_some());
    ui.preview_asked(7);
    ui.previewed(
        7,
        vec!["set unified_attributes_percentage = 100: flag API: ok (simulated dry run)".into()],
    );
    assert!(ui.wants_preview(&r.st, &r.rb).is_none(), "asked once");
    for (w, h) in SIZES {
        insta::assert_snapshot!(
            format!("confirm_100_{w}x{h}"),
            draw(&r, &ui, "default", w, h).backend()
        );
    }
    // A wrong phrase does nothing but say so.
    let out = ui.on_key(key(KeyCode::Enter), &r.st, &r.rb, "alice");
    assert!(out.is_empty());
    let term = draw(&r, &ui, "default", 120, 40);
    assert!(format!("{}", term.backend()).contains("type `rollout 100` exactly to confirm"));
}

#[test]
fn a_running_rollback_shows_its_stopwatch_against_the_target() {
    // The seed's instant switch back; the second plan's flag off (its canary moves a flag).
    for ((plan, tag), procedure) in PLANS.into_iter().zip(["instant", "flag-off"]) {
        let mut r = at_the_first_step_of_a_bad_canary(plan);
        let target =
            r.rb.procedure(procedure)
                .expect("procedure")
                .target
                .as_secs();
        let id = r.act(
            Action::Rollback {
                procedure: procedure.into(),
            },
            false,
        );
        r.run_steps(id, 1);
        r.wait(20);
        let ui = Ui::new(Mode::Live);
        for (w, h) in SIZES {
            let term = draw(&r, &ui, "default", w, h);
            let text = format!("{}", term.backend());
            let running = format!("ROLLBACK {} running", procedure.to_uppercase());
            assert!(text.contains(&running), "{plan}: stopwatch shown\n{text}");
            let target = format!("target {}:{:02}", target / 60, target % 60);
            assert!(text.contains(&target), "{plan}: {target} shown\n{text}");
            insta::assert_snapshot!(format!("{tag}rollback_running_{w}x{h}"), term.backend());
        }
    }
}

#[test]
fn help_overlay_is_built_from_the_keymap() {
    let r = Rehearsal::new(seed().runbook, Scenario::Healthy);
    for mode in [Mode::Live, Mode::Replay] {
        let mut ui = Ui::new(mode);
        ui.on_key(key(KeyCode::Char('?')), &r.st, &r.rb, "alice");
        let term = draw(&r, &ui, "default", 120, 40);
        let text = format!("{}", term.backend());
        for (_, what) in warroom::ui::keymap::help_keys(mode, false, false) {
            assert!(text.contains(what), "help lists `{what}`");
        }
        insta::assert_snapshot!(format!("help_{mode:?}_120x40"), term.backend());
    }
}

#[test]
fn every_theme_renders_the_room_screen() {
    let mut r = Rehearsal::new(seed().runbook, Scenario::BadCanary);
    r.run_to_phase("green-deployment");
    r.canary_to(10);
    let ui = Ui::new(Mode::Replay);
    for theme in ["light", "high-contrast"] {
        let term = draw(&r, &ui, theme, 240, 67);
        let text = format!("{}", term.backend());
        assert!(text.contains("REPLAY") && text.contains("CRITICAL"));
        insta::assert_snapshot!(format!("replay_{theme}_240x67"), term.backend());
    }
    // In replay no action key is bound: `a` does nothing.
    let mut ui = Ui::new(Mode::Replay);
    assert!(
        ui.on_key(key(KeyCode::Char('a')), &r.st, &r.rb, "alice")
            .is_empty()
    );
    assert!(ui.dialog.is_none());
    let _ = engine::next_advance(&r.st, &r.rb);
}

#[test]
fn after_a_phase_change_space_ticks_the_new_checklists_first_open_item() {
    let mut r = Rehearsal::new(seed().runbook, Scenario::Healthy);
    let mut ui = Ui::new(Mode::Live);
    // The operator was at the end of the 16-item pre-deployment checklist.
    ui.on_key(key(KeyCode::Down), &r.st, &r.rb, "alice");
    ui.checklist_sel = 15;
    r.run_to_phase("database-migration");
    let out = ui.on_key(key(KeyCode::Char(' ')), &r.st, &r.rb, "alice");
    let first = r.rb.phases[1].checklist[0].id.value.clone();
    assert!(
        matches!(out.as_slice(), [warroom::ui::app::Intent::Write(evs)]
            if matches!(&evs[..], [engine::Event::ChecklistTicked { checklist, item, .. }] if checklist == "database-migration" && *item == first)),
        "{out:?}"
    );
}

#[test]
fn no_control_bidi_or_zero_width_character_from_a_server_reaches_the_screen() {
    let mut r = Rehearsal::new(seed().runbook, Scenario::Healthy);
    r.wait(30);
    let evil = "backend\u{202E}txt.exe\u{1b}[2J\u{200B}\u{7}";
    let server = |healthy: bool| warroom::engine::ServerObs {
        address: format!("{evil}:3000"),
        healthy,
        latency_ms: None,
        error: (!healthy).then(|| format!("refused: {evil}")),
    };
    r.event(warroom::engine::Event::Observed(
        warroom::engine::Observation {
            source: SourceId::Health.into(),
            pools: Some(warroom::engine::PoolsObs {
                blue: vec![server(true)],
                green: vec![server(false)],
                complete: vec![
                    warroom::runbook::PoolName::Blue,
                    warroom::runbook::PoolName::Green,
                ],
                ..Default::default()
            }),
            flags: Some(
                [(
                    "dual_write_enabled".to_string(),
                    serde_json::json!(format!("on{evil}")),
                )]
                .into(),
            ),
            errors: vec![warroom::engine::SourceError {
                source: SourceId::Flags.into(),
                message: format!("503 {evil}"),
            }],
            ..Default::default()
        },
    ));
    let ui = Ui::new(Mode::Live);
    for (w, h) in SIZES {
        let term = draw(&r, &ui, "default", w, h);
        let text = format!("{}", term.backend());
        let bad: Vec<char> = text
            .chars()
            .filter(|c| *c != '\n' && warroom::text::is_unsafe(*c))
            .collect();
        assert!(bad.is_empty(), "{w}x{h}: {bad:?}");
        assert!(text.contains("SERVER DOWN"), "{w}x{h}");
    }
}

/// At 80x24 the header keeps the traffic share, the active pool and the go/no-go (the plan's
/// name gives way first), and the auto-abort line keeps its key.
#[test]
fn a_small_screen_keeps_the_header_and_the_emergency_line_whole() {
    let mut r = Rehearsal::new(seed().runbook, Scenario::BadCanary);
    r.run_to_phase("green-deployment");
    r.canary_to(10);
    // Green critical long enough for the seed's auto-abort rule.
    r.wait(180);
    for e in engine::abort_transitions(&r.st, &r.rb) {
        r.event(e);
    }
    assert!(r.st.abort.is_some(), "the countdown runs");
    let ui = Ui::new(Mode::Live);
    let term = draw(&r, &ui, "default", 80, 24);
    let text = format!("{}", term.backend());
    assert!(text.contains("Rollout 10 %"), "{text}");
    assert!(text.contains("Active BLUE"), "{text}");
    assert!(text.contains("GO signed"), "{text}");
    assert!(
        text.contains("AUTO-ABORT in") && text.contains("c cancel"),
        "{text}"
    );
    // The Next line names `r` besides its own key: the hint bar keeps it at 80 columns.
    let hints = text.lines().last().unwrap_or_default();
    assert!(
        hints.contains("NEXT") && hints.contains(" r rollback "),
        "{hints}"
    );
    insta::assert_snapshot!("abort_countdown_80x24", term.backend());
    // After the rollback: 0 % and BLUE, still on the header.
    let id = r.act(
        Action::Rollback {
            procedure: "instant".into(),
        },
        true,
    );
    let _ = id;
    r.wait(20);
    let term = draw(&r, &ui, "default", 80, 24);
    let text = format!("{}", term.backend());
    assert!(
        text.contains("Rollout 0 %") && text.contains("Active BLUE"),
        "{text}"
    );
    assert!(text.contains("x acknowledge"), "{text}");
    insta::assert_snapshot!("rolled_back_80x24", term.backend());
}

/// A flag server that says more than the values (Unleash) shows it: its kind and environment
/// in the flags pane's title, and under each flag its feature's on/off and rollout while the
/// pane has room, never at the cost of the migration line.
#[test]
fn an_unleash_flag_shows_its_feature_as_the_server_sees_it() {
    let rb = seed().runbook;
    let (flag, percent) = (rb.flags[0].id.value.clone(), rb.rollout.flag.value.clone());
    let mut r = Rehearsal::new(rb, Scenario::Healthy);
    r.wait(30);
    let view = |enabled: bool, rollout: Option<u32>| warroom::engine::FlagView {
        server: "unleash".into(),
        feature: "the-feature".into(),
        environment: "production".into(),
        enabled,
        rollout,
    };
    r.event(warroom::engine::Event::Observed(
        warroom::engine::Observation {
            source: SourceId::Flags.into(),
            flags: Some(
                [
                    (flag.clone(), serde_json::json!(true)),
                    (percent.clone(), serde_json::json!(25)),
                ]
                .into(),
            ),
            flag_views: [
                (flag.clone(), view(true, Some(25))),
                (percent.clone(), view(true, Some(25))),
            ]
            .into(),
            ..Default::default()
        },
    ));
    let ui = Ui::new(Mode::Live);
    for (w, h) in SIZES {
        let text = format!("{}", draw(&r, &ui, "default", w, h).backend());
        assert!(
            text.contains("Flags · unleash production"),
            "{w}x{h}\n{text}"
        );
        assert!(
            text.contains("migration"),
            "{w}x{h}: the migration line stays\n{text}"
        );
    }
    let text = format!("{}", draw(&r, &ui, "default", 240, 67).backend());
    assert!(
        text.contains("the-feature: on, rollout 25 %"),
        "room for the views at 240x67\n{text}"
    );
}

/// What each pool really took since the load balancer's last change (HAProxy's counters) is
/// on the pools pane, beside the share asked for.
#[test]
fn the_pools_pane_shows_what_each_pool_really_served() {
    let mut r = Rehearsal::new(seed().runbook, Scenario::Healthy);
    r.wait(30);
    r.event(warroom::engine::Event::Observed(
        warroom::engine::Observation {
            source: SourceId::Lb.into(),
            pools: Some(warroom::engine::PoolsObs {
                green_share: Some(10),
                served: Some(warroom::engine::Served {
                    blue: 912,
                    green: 88,
                }),
                ..Default::default()
            }),
            ..Default::default()
        },
    ));
    let ui = Ui::new(Mode::Live);
    for (w, h) in SIZES {
        let text = format!("{}", draw(&r, &ui, "default", w, h).backend());
        assert!(
            text.contains("served: blue 91 % · green 9 % (of 1000)"),
            "{w}x{h}\n{text}"
        );
    }
}

/// Runbook text is foreign text too: a plan from elsewhere whose phase name, tasks and
/// checklist items hold control, bidi-override and zero-width characters shows none of them,
/// on the screen or in a phase's detail (Enter on the phases pane).
#[test]
fn no_control_bidi_or_zero_width_character_from_the_runbook_reaches_the_screen() {
    let evil = "\u{202E}txt.exe\u{1b}[2J\u{200B}\u{7}";
    let mut rb = seed().runbook;
    for p in &mut rb.phases {
        p.name.push_str(evil);
        p.tasks.iter_mut().for_each(|t| t.push_str(evil));
        p.checklist.iter_mut().for_each(|it| it.text.push_str(evil));
    }
    let r = Rehearsal::new(rb, Scenario::Healthy);
    let mut ui = Ui::new(Mode::Live);
    ui.focus = warroom::ui::app::Pane::Phases;
    ui.on_key(key(KeyCode::Enter), &r.st, &r.rb, "alice");
    let mut presented = ui.clone();
    presented.on_key(key(KeyCode::Esc), &r.st, &r.rb, "alice");
    presented.on_key(key(KeyCode::Char('p')), &r.st, &r.rb, "alice");
    for (w, h) in SIZES {
        let text = format!("{}", draw(&r, &presented, "default", w, h).backend());
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && warroom::text::is_unsafe(c)),
            "{w}x{h}, presentation mode:\n{text}"
        );
        let text = format!("{}", draw(&r, &ui, "default", w, h).backend());
        let bad: Vec<char> = text
            .chars()
            .filter(|c| *c != '\n' && warroom::text::is_unsafe(*c))
            .collect();
        assert!(
            bad.is_empty(),
            "{w}x{h}: {bad:?}\n{}",
            text.lines()
                .filter(|l| l.chars().any(warroom::text::is_unsafe))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            text.contains("Tasks ("),
            "{w}x{h}: the detail is open\n{text}"
        );
    }
}
