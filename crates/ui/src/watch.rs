//! The observer's console (`warroom watch`): the lead's screen, drawn from the records the
//! observer follows, read-only. One loop selects over keys, the follower and a tick; nothing
//! here reads the store (the observer in `crates/app` does).

use super::app::{Intent, Ui};
use super::keymap::Mode;
use super::live::open_terminal;
use super::render::{Chrome, render};
use super::theme::Theme;
use crate::observer::{Watch, Watched};
use futures_util::StreamExt;
use ratatui::crossterm::event::{Event as TermEvent, KeyEvent, KeyEventKind};
use std::time::Duration;

/// Why an observer cannot act, as its console says it (short: it goes on the status bar).
pub fn read_only_reason(w: &Watch) -> String {
    let lead = if w.st.operator.is_empty() {
        "the lead's console acts".to_string()
    } else {
        format!("{} leads", w.st.operator)
    };
    format!("{lead}, {} watches", w.operator)
}

/// A new observer UI.
pub fn ui(w: &Watch) -> Ui {
    let mut ui = Ui::new(Mode::Live);
    ui.read_only = Some(read_only_reason(w));
    ui.team = true;
    ui
}

/// One key on an observer's console: what the UI does with it (navigation, help, a
/// "read-only" message). A write that gets past the keys goes to the observer, which the
/// engine refuses. True when the key quits.
pub fn handle_key(ui: &mut Ui, w: &Watch, key: KeyEvent) -> bool {
    ui.read_only = Some(read_only_reason(w));
    let mut quit = false;
    for intent in ui.on_key(key, &w.st, &w.rb, &w.operator) {
        match intent {
            Intent::Quit => quit = true,
            Intent::Write(evs) => match w.command(evs) {
                Ok(()) => ui.message = Some("sent to the rollout's log…".into()),
                Err(why) => ui.message = Some(format!("refused: {why}")),
            },
            Intent::AskLead => ui.message = Some(w.ask_to_lead()),
            Intent::OpenLog(back) => ui.open_log_record(&w.log, back),
            Intent::HandOver | Intent::Replay(_) | Intent::JumpTo(_) => {}
        }
    }
    quit
}

/// The clock label of an observer's status bar: whose console it follows, or that the
/// connection is lost and since which record.
pub fn clock_label(w: &Watch) -> String {
    match (&w.lost, &w.broken) {
        (Some(_), _) => format!(
            "CONNECTION LOST — last record at {}; reconnecting",
            w.last_record_at()
        ),
        (None, Some(b)) => format!("WATCH — {b}"),
        (None, None) => match w.lease_words(chrono::Utc::now()) {
            Some(l) => format!("WATCH as {} · {l}", w.operator),
            None => format!("WATCH as {}", w.operator),
        },
    }
}

/// How an observer's console ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEnd {
    Quit,
    /// The lead handed the rollout to this observer: its console leads next.
    HandedToMe,
}

/// The observer's console loop.
pub async fn run_watch(mut w: Watch, theme: &Theme) -> color_eyre::Result<WatchEnd> {
    let audit_label = w.at.shown();
    let mut ui = ui(&w);
    let (mut terminal, mut input) = open_terminal()?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let result: color_eyre::Result<WatchEnd> = loop {
        if std::mem::take(&mut dirty) {
            let head: String = w.head.chars().take(12).collect();
            let chrome = Chrome {
                audit: &audit_label,
                head: &head,
                clock: clock_label(&w),
                log: Some(&w.log),
                now: None,
            };
            if let Ok(size) = terminal.size() {
                super::render::follow_layout(&mut ui, size, &w.rb, &w.st, theme);
            }
            if let Err(e) = terminal.draw(|f| render(f, &w.rb, &w.st, &ui, theme, &chrome)) {
                break Err(e.into());
            }
        }
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => {
                    dirty = true;
                    if handle_key(&mut ui, &w, k) {
                        break Ok(WatchEnd::Quit);
                    }
                }
                Some(Ok(_)) => dirty = true,
                Some(Err(e)) => break Err(e.into()),
                None => break Ok(WatchEnd::Quit),
            },
            woke = w.next() => {
                dirty = true;
                match woke {
                    Watched::Closed => break Err(color_eyre::eyre::eyre!("the follower stopped")),
                    Watched::Applied(_) if w.handed_to_me() => break Ok(WatchEnd::HandedToMe),
                    Watched::Applied(_) => ui.sync(&w.st, &w.rb),
                    Watched::Wrote(r) => ui.message = Some(r.unwrap_or_else(|e| format!("NOT RECORDED: {e}"))),
                    Watched::Lost(_) | Watched::Back | Watched::Lease => {}
                }
            }
            _ = tick.tick() => dirty = true,
        }
    };
    ratatui::restore();
    println!(
        "watched {audit_label} to seq {} (head {})",
        w.seq,
        w.head.chars().take(12).collect::<String>()
    );
    result
}
