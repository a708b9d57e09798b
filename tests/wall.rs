//! The shared screen: presentation mode (`p`), the canary ladder and bake gauge, small
//! terminals — pressed as a user presses keys (the console driver), drawn at 80x24, 120x40 and
//! 240x67 in every theme, with each state checked cell by cell for a glyph or a word.

mod common;

use common::console::Console;
use common::harness::Rehearsal;
use common::screen::{bad_canary, draw_r, press, rows};
use common::{draw, seed};
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::Color;
use warroom::engine::{self, Action, MetricLevel};
use warroom::sim::Scenario;
use warroom::ui::app::Ui;
use warroom::ui::keymap::Mode;
use warroom::ui::render::MIN_SIZE;
use warroom::ui::theme::{StyleName, Theme};

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (240, 67)];
const THEMES: [&str; 3] = ["default", "light", "high-contrast"];

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
        _ => &["OK", "✓", "clean", "healthy", "[x]", "ON", "GO signed"],
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

/// A flag-only canary (the second plan): before its own switch step the share is the flag's
/// and the active pool the load balancer's, and the screen says so in words — "Rollout 10 %
/// by flag" beside "LB active BLUE" and the pools' "LB traffic", not the contradiction
/// "Rollout 10 %" beside "Active BLUE" taking 100 %.
#[tokio::test(start_paused = true)]
async fn a_flag_only_canary_says_the_share_is_the_flags() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/checkout-v2.yaml");
    let loaded = warroom::runbook::load(&p).expect("checkout-v2");
    let audit = dir.path().join("flag.audit");
    let mut c = Console::demo_with(&loaded, &audit, Scenario::Healthy, 600.0).await;
    c.follow_plan(900, |st| st.rollout_step >= 1).await;
    for (w, h) in SIZES {
        let text = format!(
            "{}",
            draw(&c.s.rb, &c.s.st, &c.s.log, &c.ui, "default", w, h).backend()
        );
        let header = text.lines().next().unwrap_or_default();
        assert!(
            header.contains("by flag") && header.contains("LB active BLUE"),
            "{w}x{h}: {header}"
        );
        assert!(text.contains("Pools  LB traffic"), "{w}x{h}:\n{text}");
    }
}
