//! The shared screen: presentation mode (`p`), the canary ladder and bake gauge, small
//! terminals — pressed as a user presses keys (the console driver), drawn at 80x24, 120x40 and
//! 240x67 in every theme, with each state checked cell by cell for a glyph or a word.

mod common;

use common::console::Console;
use common::harness::Rehearsal;
use common::{draw, seed};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;
use warroom::engine::{self, Action, MetricLevel, State, describe};
use warroom::sim::Scenario;
use warroom::ui::app::Ui;
use warroom::ui::keymap::Mode;
use warroom::ui::render::MIN_SIZE;
use warroom::ui::theme::{StyleName, Theme};

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (240, 67)];
const THEMES: [&str; 3] = ["default", "light", "high-contrast"];

fn log_of(r: &Rehearsal) -> Vec<String> {
    r.events
        .iter()
        .filter_map(|(at, e)| describe(&r.rb, e).map(|l| format!("{} {l}", at.format("%H:%M:%S"))))
        .collect()
}

fn draw_r(r: &Rehearsal, ui: &Ui, theme: &str, w: u16, h: u16) -> Terminal<TestBackend> {
    draw(&r.rb, &r.st, &log_of(r), ui, theme, w, h)
}

fn press(ui: &mut Ui, r: &Rehearsal, c: KeyCode) {
    ui.on_key(KeyEvent::new(c, KeyModifiers::NONE), &r.st, &r.rb, "alice");
}

fn rows(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect()
        })
        .collect()
}

/// The meaning a cell's colour carries in a theme: `C` critical, `W` warning, `K` ok, else
/// none. Block letters and bars count too.
fn class(th: &Theme, fg: Color, bg: Color) -> Option<char> {
    let text = th.get(StyleName::Text);
    let is = |n: StyleName| {
        let s = th.get(n);
        // A style's signal: its background when it has one (a banner), else its foreground;
        // a colour the plain text also has carries nothing.
        match s.bg.filter(|b| Some(*b) != text.bg && *b != th.background) {
            Some(b) => b == bg,
            None => s.fg.is_some_and(|f| f == fg && Some(f) != text.fg),
        }
    };
    if is(StyleName::MetricCritical) || is(StyleName::AlertCritical) {
        Some('C')
    } else if is(StyleName::MetricWarning) || is(StyleName::AlertWarning) {
        Some('W')
    } else if is(StyleName::MetricOk) {
        Some('K')
    } else {
        None
    }
}

/// Words and glyphs that say each meaning without colour.
fn says(class: char, text: &str) -> bool {
    let words: &[&str] = match class {
        'C' => &[
            "CRITICAL",
            "●",
            "✗",
            "FAIL",
            "AUTO-ABORT",
            "OVER",
            "DOWN",
            "DIRTY",
        ],
        // Amber also marks what wants attention: a running action, the Next line, replay.
        'W' => &[
            "WARNING", "▲", "⚠", "STALE", "OVER", "running", "NEXT", "REPLAY",
        ],
        _ => &["OK", "✓", "clean", "●", "healthy", "[x]", "ON", "GO signed"],
    };
    words.iter().any(|w| text.contains(w))
}

/// Every cell whose colour means critical, warning or ok has the word or glyph for it on its
/// row, or — for block letters, which are drawn above their card's words — in the card under
/// it (the next 10 rows of its columns).
fn meaning_never_by_colour_alone(buf: &Buffer, th: &Theme, what: &str) {
    let rows = rows(buf);
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let cell = &buf[(x, y)];
            if cell.symbol().trim().is_empty() {
                continue;
            }
            let Some(c) = class(th, cell.fg, cell.bg) else {
                continue;
            };
            if says(c, &rows[y as usize]) {
                continue;
            }
            // A card: the words under the figure, in the card's columns (for its border,
            // above it too).
            let border = cell
                .symbol()
                .chars()
                .all(|ch| ('\u{2500}'..='\u{257f}').contains(&ch));
            // The focused pane's border says it by its thickness (┏━┓), whatever its colour.
            if border && th.get(StyleName::BorderFocus).fg == Some(cell.fg) {
                continue;
            }
            let reach = if border { buf.area.width } else { 40 };
            let x0 = x.saturating_sub(reach);
            let x1 = (x + reach).min(buf.area.width);
            let from = if border { y.saturating_sub(12) } else { y + 1 };
            let below = (from..(y + 12).min(buf.area.height)).any(|yy| {
                let s: String = (x0..x1).map(|xx| buf[(xx, yy)].symbol()).collect();
                says(c, &s)
            });
            assert!(
                below,
                "{what}: the cell at {x},{y} ({:?}) says {c} by colour only:\n{}",
                cell.symbol(),
                rows.join("\n")
            );
        }
    }
}

fn bad_canary() -> Rehearsal {
    let mut r = Rehearsal::new(seed().runbook, Scenario::BadCanary);
    r.run_to_phase("green-deployment");
    r.canary_to(10);
    r
}

#[test]
fn presentation_mode_shows_the_figures_for_the_wall_in_every_theme_and_size() {
    let r = bad_canary();
    let mut ui = Ui::new(Mode::Live);
    press(&mut ui, &r, KeyCode::Char('p'));
    assert!(ui.present, "p opens presentation mode");
    for theme in THEMES {
        let th = Theme::load(theme).expect("theme");
        for (w, h) in SIZES {
            let term = draw_r(&r, &ui, theme, w, h);
            let buf = term.backend().buffer();
            let text = rows(buf).join("\n");
            let at = format!("{theme} {w}x{h}");
            // Block letters: more of them than any pane draws.
            let blocks = text
                .chars()
                .filter(|c| "█▀▄▌▐▘▝▖▗▚▞▛▜▙▟".contains(*c))
                .count();
            assert!(blocks > 60, "{at}: block letters drawn ({blocks})\n{text}");
            for want in [
                "Rollout",
                "Active pool",
                "● CRITICAL Green error rate",
                "NEXT",
                "Alerts (1 firing)",
                "▶10 % now",
                "○25 next",
            ] {
                assert!(text.contains(want), "{at}: `{want}` shown\n{text}");
            }
            // The gate's metrics with thresholds, each with its state word.
            let gate: Vec<_> =
                r.rb.rollout
                    .gate
                    .iter()
                    .filter_map(|m| r.rb.metric(&m.value))
                    .filter(|m| m.critical.is_some() || m.warning.is_some())
                    .collect();
            let critical = gate
                .iter()
                .filter(|m| r.st.metric_level(&r.rb, &m.id.value) == MetricLevel::Critical)
                .count();
            assert!(critical >= 1, "the bad canary's metric is critical");
            assert!(
                text.matches("● CRITICAL").count() > critical,
                "{at}: each critical card says so, and the alert\n{text}"
            );
            meaning_never_by_colour_alone(buf, &th, &at);
            if theme == "default" {
                insta::assert_snapshot!(format!("present_bad_canary_{w}x{h}"), term.backend());
            }
        }
    }
    press(&mut ui, &r, KeyCode::Char('p'));
    assert!(!ui.present, "p again returns");
    let text = format!("{}", draw_r(&r, &ui, "default", 120, 40).backend());
    assert!(
        text.contains("Phases") && text.contains("Metrics"),
        "{text}"
    );
}

/// Presentation mode follows the state: the auto-abort countdown, then the rollback's
/// stopwatch, then its result, in block letters.
#[test]
fn presentation_mode_follows_an_auto_abort_and_a_rollback() {
    let mut r = bad_canary();
    r.wait(180);
    for e in engine::abort_transitions(&r.st, &r.rb) {
        r.event(e);
    }
    assert!(r.st.abort.is_some(), "the countdown runs");
    let mut ui = Ui::new(Mode::Live);
    press(&mut ui, &r, KeyCode::Char('p'));
    for (w, h) in SIZES {
        let term = draw_r(&r, &ui, "high-contrast", w, h);
        let text = format!("{}", term.backend());
        assert!(
            text.contains("⚠ AUTO-ABORT") && text.contains("c cancel"),
            "{w}x{h}\n{text}"
        );
        if (w, h) == (120, 40) {
            insta::assert_snapshot!("present_auto_abort_120x40", term.backend());
        }
    }
    let id = r.act(
        Action::Rollback {
            procedure: "instant".into(),
        },
        false,
    );
    r.run_steps(id, 1);
    r.wait(20);
    for (w, h) in SIZES {
        let term = draw_r(&r, &ui, "high-contrast", w, h);
        let text = format!("{}", term.backend());
        assert!(
            text.contains("Rollback instant") && text.contains("⏱ running / target 1:00"),
            "{w}x{h}\n{text}"
        );
        let th = Theme::load("high-contrast").expect("theme");
        meaning_never_by_colour_alone(term.backend().buffer(), &th, &format!("{w}x{h}"));
    }
    r.run_steps(id, 100);
    let text = format!("{}", draw_r(&r, &ui, "default", 120, 40).backend());
    assert!(text.contains("rolled back"), "{text}");
    assert!(text.contains("Rollout 0 %"), "{text}");
}

/// The main screen at each size in each theme: every state has its word or glyph, the
/// ladder and the bake are on it, and at 80x24 the compact layout keeps the header, the
/// alerts, the Next line, the pools and each metric's state word.
#[test]
fn every_size_and_theme_keeps_each_state_in_words() {
    let mut r = bad_canary();
    // Into the next step's bake: a healthy run at 25 %.
    let mut healthy = Rehearsal::new(seed().runbook, Scenario::Healthy);
    healthy.run_to_phase("green-deployment");
    healthy.canary_to(10);
    let step = engine::next_advance(&healthy.st, &healthy.rb).expect("the 25 % step");
    healthy.act(step, true);
    healthy.wait(120);
    r.wait(10);
    let ui = Ui::new(Mode::Live);
    for (name, r) in [("bad_canary", &r), ("baking_25", &healthy)] {
        for theme in THEMES {
            let th = Theme::load(theme).expect("theme");
            for (w, h) in SIZES {
                let term = draw_r(r, &ui, theme, w, h);
                let buf = term.backend().buffer();
                let text = rows(buf).join("\n");
                let at = format!("{name} {theme} {w}x{h}");
                meaning_never_by_colour_alone(buf, &th, &at);
                for want in [
                    "Rollout",
                    "Active BLUE",
                    "GO signed",
                    "NEXT",
                    "BLUE",
                    "GREEN",
                ] {
                    assert!(text.contains(want), "{at}: `{want}`\n{text}");
                }
                // The selected checklist row has its glyph.
                assert!(text.contains("▸[ ]"), "{at}: the cursor's glyph\n{text}");
                // Each metric shown has a state word; no name is cut into another meaning.
                let shown = text
                    .lines()
                    .filter(|l| r.rb.metrics.iter().any(|m| l.contains(&m.name)) && l.contains('│'))
                    .count();
                assert!(shown > 0, "{at}");
                let panes = text
                    .lines()
                    .filter(|l| l.contains('│') && !l.contains("NEXT"));
                for l in panes.filter(|l| l.contains(" ms ") || l.contains(" % ")) {
                    if r.rb.metrics.iter().any(|m| l.contains(&m.name)) {
                        assert!(
                            ["OK", "WARNING", "CRITICAL", "STALE"]
                                .iter()
                                .any(|w| l.contains(w)),
                            "{at}: a metric without its word: {l}"
                        );
                    }
                }
                assert!(
                    !text.contains("p9 ") && !text.contains("p9│"),
                    "{at}\n{text}"
                );
                if name == "baking_25" {
                    assert!(
                        text.contains("▶25 % now") && text.contains("○50 next"),
                        "{at}: the ladder\n{text}"
                    );
                    assert!(
                        text.contains("Rollout 25 % · bake 2m / 30m"),
                        "{at}: the bake beside the share\n{text}"
                    );
                }
                if theme == "default" {
                    insta::assert_snapshot!(format!("main_{name}_{w}x{h}"), term.backend());
                }
            }
        }
    }
}

/// Below 80x24 a notice says what is needed; back at 80x24 everything returns.
#[test]
fn a_terminal_too_small_says_so_and_resizing_back_restores() {
    let r = bad_canary();
    let mut ui = Ui::new(Mode::Live);
    for present in [false, true] {
        ui.present = present;
        for (w, h) in [(79, 24), (80, 23), (40, 10)] {
            let text = format!("{}", draw_r(&r, &ui, "default", w, h).backend());
            let (mw, mh) = MIN_SIZE;
            assert!(
                text.contains("terminal too small") && text.contains(&format!("need ≥ {mw}×{mh}")),
                "{w}x{h}\n{text}"
            );
        }
        let text = format!("{}", draw_r(&r, &ui, "default", 80, 24).backend());
        assert!(
            !text.contains("too small") && text.contains("NEXT"),
            "{text}"
        );
    }
}

/// The way a lead presses it, on a real session: `p`, the big figures; `?` lists `p`; `p`
/// returns; action keys still work from presentation mode.
#[tokio::test(start_paused = true)]
async fn p_through_the_console_shows_the_wall_and_returns() {
    let dir = tempfile::tempdir().expect("tmp");
    let audit = dir.path().join("wall.audit");
    let mut c = Console::demo(&audit, Scenario::Healthy, 600.0).await;
    c.press(KeyCode::Char('p'));
    assert!(c.ui.present);
    let frame = |c: &Console| {
        format!(
            "{}",
            draw(&c.s.rb, &c.s.st, &c.s.log, &c.ui, "high-contrast", 120, 40).backend()
        )
    };
    let text = frame(&c);
    assert!(
        text.contains("Active pool") && text.contains("NEXT"),
        "{text}"
    );
    assert!(text.contains("sign GO") || text.contains("tick"), "{text}");
    // An action key from the wall: the go/no-go dialog opens over it.
    c.press(KeyCode::Char('g'));
    assert!(c.ui.dialog.is_some());
    c.press(KeyCode::Esc);
    c.press(KeyCode::Char('?'));
    let text = frame(&c);
    assert!(text.contains("presentation mode"), "{text}");
    c.press(KeyCode::Esc);
    c.press(KeyCode::Char('p'));
    assert!(!c.ui.present);
    assert!(frame(&c).contains("Phases"));
}

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
    c.press(KeyCode::Tab);
    assert_eq!(c.ui.focus, warroom::ui::app::Pane::Pools);
    c.press(KeyCode::Char('j'));
    c.press(KeyCode::Enter);
    let text = frame(&c, 120, 40);
    assert!(
        text.contains("Pool GREEN") && text.contains("● up") && text.contains("Down now (0)"),
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
        if (w, h) == (120, 40) {
            insta::assert_snapshot!("detail_phase_120x40", text);
        }
    }
}

/// At 80x24 the compact layout draws the phases pane — the phase now with its `n/m`, or the
/// one selected while it has the focus — and the flags pane keeps the migration and backup
/// lines when the left column has room for them.
#[test]
fn the_compact_layout_keeps_the_phase_now_and_the_migration_and_backup() {
    let r = bad_canary();
    let mut ui = Ui::new(Mode::Live);
    let n = r.rb.phases.len();
    let now = r.st.current_phase().expect("a phase runs") + 1;
    for theme in THEMES {
        let text = rows(draw_r(&r, &ui, theme, 80, 24).backend().buffer()).join("\n");
        assert!(text.contains("Phases"), "{theme}\n{text}");
        assert!(text.contains(&format!("▶ {now}/{n} ")), "{theme}\n{text}");
        assert!(
            text.contains("migration 35 clean"),
            "{theme}: the flags pane keeps it\n{text}"
        );
        // The checklist keeps its items in view first.
        for (_, _, item) in warroom::ui::app::current_items(&r.st, &r.rb) {
            let head: String = item.chars().take(20).collect();
            assert!(text.contains(&head), "{theme}: {item}\n{text}");
        }
    }
    while ui.focus != warroom::ui::app::Pane::Phases {
        press(&mut ui, &r, KeyCode::Tab);
    }
    press(&mut ui, &r, KeyCode::Char('k'));
    let text = rows(draw_r(&r, &ui, "default", 80, 24).backend().buffer()).join("\n");
    assert!(
        text.contains(&format!("▸✓ {}/{n} ", now - 1)),
        "the selected phase\n{text}"
    );
    press(&mut ui, &r, KeyCode::Enter);
    let text = rows(draw_r(&r, &ui, "default", 80, 24).backend().buffer()).join("\n");
    assert!(text.contains(&format!("Phase {} — ", now - 1)), "{text}");
}

/// On the wall, a bake counts down: the big figure is the time left, the words what has baked.
#[test]
fn presentation_counts_the_bake_down() {
    let mut r = Rehearsal::new(seed().runbook, Scenario::Healthy);
    r.run_to_phase("green-deployment");
    r.canary_to(10);
    let step = engine::next_advance(&r.st, &r.rb).expect("the 25 % step");
    r.act(step, true);
    r.wait(120);
    let mut ui = Ui::new(Mode::Live);
    press(&mut ui, &r, KeyCode::Char('p'));
    let text = rows(draw_r(&r, &ui, "default", 120, 40).backend().buffer()).join("\n");
    assert!(
        text.contains("Bake at 25 % — left") && text.contains("2m baked of 30m"),
        "{text}"
    );
}
