//! The live console: one loop that selects over keys, adapter reports, audit commits and a
//! tick; it applies only what the audit store has committed and draws once per wake-up.

use super::app::{Intent, Ui};
use super::keymap::Mode;
use super::render::pane_areas;
use super::render::{Chrome, render};
use super::theme::Theme;
use crate::session::{Session, Wake};
use futures_util::StreamExt;
use ratatui::crossterm::event::{
    Event as TermEvent, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use std::time::Duration;

/// A path as a shell word: quoted when it holds anything but plain path characters.
fn shell_quote(p: &str) -> String {
    if !p.is_empty()
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%".contains(c))
    {
        p.to_string()
    } else {
        format!("'{}'", p.replace('\'', "'\\''"))
    }
}

fn short(h: &str) -> String {
    h.chars().take(12).collect()
}

/// The terminal's events, from crossterm's async reader: the loop awaits them with
/// everything else, and nothing polls. An error when there is no terminal to read from.
pub fn input() -> std::io::Result<crossterm::event::EventStream> {
    // The stream panics when crossterm could not open the terminal; its `poll` says so.
    crossterm::event::poll(Duration::ZERO)?;
    Ok(crossterm::event::EventStream::new())
}

/// The terminal, set up for the console, and its events.
pub fn open_terminal()
-> color_eyre::Result<(ratatui::DefaultTerminal, crossterm::event::EventStream)> {
    let no_terminal = |e: std::io::Error| {
        color_eyre::eyre::eyre!("warroom needs a terminal (stdin and stdout on a TTY): {e}")
    };
    let terminal = ratatui::try_init().map_err(no_terminal)?;
    match input() {
        Ok(events) => Ok((terminal, events)),
        Err(e) => {
            ratatui::restore();
            Err(no_terminal(e))
        }
    }
}

/// One key on a live session, as the console handles it (and the rehearsal and the tests,
/// which press keys the same way): its intents written, a dry run asked for a dialog that
/// just opened. True when the key quits.
pub fn handle_key(ui: &mut Ui, session: &mut Session, operator: &str, key: KeyEvent) -> bool {
    ui.team = session.team();
    // Decisions are taken on what is already on its way to the store too.
    let mut quit = false;
    for intent in ui.on_key(key, &session.ahead, &session.rb, operator) {
        match intent {
            Intent::Write(evs) => {
                if let Err(why) = session.command(evs) {
                    ui.message = Some(why);
                }
            }
            Intent::Quit => quit = true,
            Intent::OpenLog(back) => ui.open_log_record(&session.log, back),
            Intent::HandOver => {
                ui.message = Some(session.hand_over().unwrap_or_else(|e| e));
            }
            Intent::AskLead => ui.message = Some("this console leads the rollout".into()),
            Intent::Replay(_) | Intent::JumpTo(_) => {}
        }
    }
    ui.clamp_log(&session.log);
    if let Some(steps) = ui.wants_preview(&session.ahead, &session.rb) {
        let id = session.preview(steps);
        ui.preview_asked(id);
    }
    if let Some(metrics) = ui.wants_once(&session.rb) {
        session.ask_once(metrics);
    }
    quit
}

/// One mouse event on a live session, as the console handles it (and the tests): a left
/// click on a screen of `area` focuses the pane under it and selects the row, as drawn from
/// the committed state. Only while mouse capture is on (`m`).
pub fn handle_mouse(
    ui: &mut Ui,
    session: &Session,
    ev: MouseEvent,
    area: ratatui::layout::Rect,
    th: &Theme,
) {
    if ev.kind == MouseEventKind::Down(MouseButton::Left) {
        let areas = pane_areas(area, &session.rb, &session.st, th);
        ui.on_click(
            ev.column,
            ev.row,
            &areas,
            &session.st,
            &session.rb,
            &session.log,
        );
        ui.clamp_log(&session.log);
    }
}

/// Turn the terminal's mouse capture on or off as `m` asked: off, the terminal selects text.
pub fn follow_mouse(captured: &mut bool, wanted: bool) -> std::io::Result<()> {
    if *captured != wanted {
        if wanted {
            crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)?;
        } else {
            crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture)?;
        }
        *captured = wanted;
    }
    Ok(())
}

/// How many readings the screen has a value for: metrics with a value, and whether the pools
/// have reported.
fn readings_known(st: &crate::engine::State) -> usize {
    st.metrics.values().filter(|m| m.last.is_some()).count()
        + usize::from(st.pools.observed_at.is_some())
}

/// One frame of the live console.
fn draw(
    terminal: &mut ratatui::DefaultTerminal,
    session: &Session,
    ui: &Ui,
    theme: &Theme,
    audit_label: &str,
    clock_label: &str,
) -> std::io::Result<()> {
    let head = short(&session.head);
    let chrome = Chrome {
        audit: audit_label,
        head: &head,
        clock: clock_label.to_string(),
        // The log of record: what the audit log says, its history after a resume included.
        log: Some(&session.log),
        now: Some(session.clock.now()),
    };
    terminal
        .draw(|f| render(f, &session.rb, &session.st, ui, theme, &chrome))
        .map(|_| ())
}

/// The console loop over a started session.
pub async fn run_console(
    mut session: Session,
    theme: &Theme,
    clock_label: String,
) -> color_eyre::Result<()> {
    let audit_label = session.audit.shown();
    let operator = session.operator.clone();
    let mut ui = Ui::new(Mode::Live);
    ui.team = session.team();
    let (mut terminal, mut input) = open_terminal()?;
    // Readings, the clock and stopwatches are drawn on the tick; keys, actions, alerts and
    // failures redraw at once. Frames stay cheap however fast the source clock runs.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut shown = readings_known(&session.st);
    // Mouse capture, as `m` last set it (off at start).
    let mut captured = false;
    let result: color_eyre::Result<()> = loop {
        // Draw only when something changed since the last frame.
        if std::mem::take(&mut dirty) {
            // Tab follows the panes in the order this frame lays them out.
            if let Ok(size) = terminal.size() {
                super::render::follow_layout(&mut ui, size, &session.rb, &session.st, theme);
            }
            if let Err(e) = draw(
                &mut terminal,
                &session,
                &ui,
                theme,
                &audit_label,
                &clock_label,
            ) {
                break Err(e.into());
            }
        }
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => {
                    dirty = true;
                    if handle_key(&mut ui, &mut session, &operator, k) {
                        break Ok(());
                    }
                    if let Err(e) = follow_mouse(&mut captured, ui.mouse) {
                        break Err(e.into());
                    }
                }
                Some(Ok(TermEvent::Mouse(m))) => {
                    dirty = true;
                    match terminal.size() {
                        Ok(s) => handle_mouse(&mut ui, &session, m, s.into(), theme),
                        Err(e) => break Err(e.into()),
                    }
                }
                // A resize (or anything else from the terminal) redraws.
                Some(Ok(_)) => dirty = true,
                Some(Err(e)) => break Err(e.into()),
                None => break Ok(()),
            },
            w = session.next() => match w {
                Wake::WriteFailed(e) => {
                    ui.message = Some(format!("AUDIT WRITE FAILED: {e}"));
                    dirty = true;
                }
                Wake::Closed => break Err(color_eyre::eyre::eyre!("a background task stopped")),
                Wake::Previewed(id, lines) => {
                    ui.previewed(id, lines);
                    dirty = true;
                }
                Wake::HandOverAsked(who) => {
                    ui.message = Some(format!("{who} asks to lead: H hands the lead over"));
                    dirty = true;
                }
                Wake::Committed(recs) => {
                    // Handed over: this console no longer leads, and closes.
                    if recs.iter().any(|r| r.kind == "lead_handed_over") {
                        break Ok(());
                    }
                    // Readings wait for the tick, unless they show something for the first
                    // time (the first readings after start are on screen at once).
                    let known = readings_known(&session.st);
                    dirty |= recs.iter().any(|r| r.kind != "observed") || known != shown;
                    shown = known;
                    // A dialog whose verdict changed clears what was typed, and says so.
                    ui.sync(&session.st, &session.rb);
                }
                Wake::Reported => {}
            },
            _ = tick.tick() => dirty = true,
        }
    };
    // The webhooks' notices still queued go out first, for a bounded wait the screen counts
    // down (`q` stops waiting); what is left is recorded as not delivered.
    let result = match result {
        Ok(()) => {
            let draw = |s: &Session, ui: &Ui| {
                draw(&mut terminal, s, ui, theme, &audit_label, &clock_label)
            };
            flush_notices(&mut session, &mut ui, &mut input, FLUSH_WAIT, draw)
                .await
                .map_err(Into::into)
        }
        e => e,
    };
    let _ = follow_mouse(&mut captured, false);
    ratatui::restore();
    let location = session.audit.clone();
    let head = session.close().await;
    println!("audit log: {audit_label}");
    if let Some((seq, hash)) = head {
        println!("head: seq {seq} {hash}");
    }
    // What to do with the log next, ready to copy.
    println!("next:");
    for line in next_commands(&location) {
        println!("  {line}");
    }
    result
}

/// How long quitting waits for the webhooks' notices still queued.
pub const FLUSH_WAIT: Duration = Duration::from_secs(10);

/// Quitting with webhook notices still queued or being retried: the session keeps running
/// (recording each delivery) until every one is reported, `wait` has passed, or `q`, `Esc` or
/// `Ctrl-c` says not to wait; the screen says how many are left and how long it still waits.
/// What is left is recorded as not delivered when the session closes (`Session::close`).
/// Returns at once when nothing waits.
pub async fn flush_notices<S>(
    session: &mut Session,
    ui: &mut Ui,
    input: &mut S,
    wait: Duration,
    mut draw: impl FnMut(&Session, &Ui) -> std::io::Result<()>,
) -> std::io::Result<()>
where
    S: futures_util::Stream<Item = std::io::Result<TermEvent>> + Unpin,
{
    use crossterm::event::{KeyCode, KeyModifiers};
    let end = tokio::time::Instant::now() + wait;
    loop {
        let n = session.notices_waiting().len();
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        if n == 0 || left.is_zero() {
            return Ok(());
        }
        ui.dialog = None;
        ui.message = Some(format!(
            "quitting: sending {n} webhook notice{} — waiting {} s more at most (q: quit now, recording {} as not delivered)",
            if n == 1 { "" } else { "s" },
            left.as_secs_f64().ceil() as u64,
            if n == 1 { "it" } else { "them" },
        ));
        draw(session, ui)?;
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press
                    && (matches!(k.code, KeyCode::Char('q') | KeyCode::Esc)
                        || (k.code == KeyCode::Char('c')
                            && k.modifiers.contains(KeyModifiers::CONTROL))) => return Ok(()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
            w = session.next() => if w == Wake::Closed {
                return Ok(());
            },
            // The countdown on screen moves on even when nothing is reported.
            _ = tokio::time::sleep(Duration::from_millis(250).min(left)) => {}
        }
    }
}

/// The commands to verify, replay and export a log, as a shell takes them. A PostgreSQL URL
/// is shown with its password masked: the operator puts theirs back.
pub fn next_commands(at: &crate::audit::Location) -> Vec<String> {
    use crate::audit::Location;
    let store = match at {
        Location::File(p) => shell_quote(&crate::runbook::redact(&p.display().to_string())),
        Location::Postgres { url, rollout } => format!(
            "{} --rollout {}",
            shell_quote(&crate::runbook::redact(url)),
            shell_quote(&crate::text::clean(rollout.as_deref().unwrap_or_default()))
        ),
    };
    let mut lines = vec![
        format!("warroom audit verify {store}"),
        format!("warroom replay {store}"),
        format!("warroom audit export {store} --format markdown > postmortem.md"),
        format!("warroom audit export {store} --format html > postmortem.html"),
    ];
    if matches!(at, Location::Postgres { .. }) {
        lines.push("(the password is masked: put yours back in the URL)".into());
    }
    lines
}
