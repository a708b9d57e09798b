//! What the console remembers besides the state: which pane has the focus, where each cursor
//! is, the open dialog, the help overlay and the last message, and what the loop must do after
//! a key (`Intent`). Pure: a key and the current state give new UI state and intents; the loop
//! carries the intents out.
//!
//! The rest is split by reason to change: what a dialog is and how it follows the state
//! (`dialog`), what a key does on the screen (`keys`), how an open dialog takes keys
//! (`dialog_keys`).

mod dialog;
mod dialog_keys;
mod keys;
mod mouse;

pub use crate::engine::{current_checklist, current_items};
pub use dialog::{Dialog, DryRun, Stage};

use super::keymap::{Cmd, Mode};
use crate::engine::{Event, State};
use crate::runbook::Runbook;

/// A pane that takes the focus (Tab): the arrows move its cursor or scroll it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Checklist,
    Flags,
    Metrics,
    Log,
    Phases,
    Pools,
}

/// The panes in the order Tab visits them until a frame says the screen's own order (the
/// normal layout's: the left column, the right column, the log).
pub const PANES: [Pane; 6] = [
    Pane::Phases,
    Pane::Checklist,
    Pane::Pools,
    Pane::Metrics,
    Pane::Flags,
    Pane::Log,
];

/// What a detail view shows (Enter on a focused phase or pool).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Phase(usize),
    Pool(crate::runbook::PoolName),
}

/// A focused list's filter (`/`): the pane it narrows, what was typed, and whether keys still
/// type into it (until Enter; Esc clears it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    pub pane: Pane,
    pub text: String,
    pub typing: bool,
}

/// Whether a row's text holds what the filter says (any case; an empty filter holds all).
pub fn filter_holds(text: &str, filter: &str) -> bool {
    filter.is_empty() || text.to_lowercase().contains(&filter.to_lowercase())
}

/// The UI state: drawn with the domain state, changed only by keys and by `sync`.
#[derive(Debug, Clone)]
pub struct Ui {
    pub mode: Mode,
    pub focus: Pane,
    pub checklist_sel: usize,
    pub flag_sel: usize,
    /// The selected phase and pool (when their panes have the focus).
    pub phase_sel: usize,
    pub pool_sel: usize,
    pub metric_scroll: usize,
    /// The log's selected line, counted back from the newest (0: the newest, followed).
    pub log_back: usize,
    pub dialog: Option<Dialog>,
    pub help: bool,
    /// How far the help overlay is scrolled (on a screen shorter than it).
    pub help_scroll: usize,
    /// Presentation mode (`p`): the big figures instead of the panes.
    pub present: bool,
    /// A one-line message for the operator (last error, what happened).
    pub message: Option<String>,
    /// The message says what was handed to the store; once the store has committed this many
    /// events it clears, and the status bar follows the action from the state.
    pub until_committed: Option<u64>,
    /// The checklist the cursor belongs to; when another is shown, the cursor moves to its
    /// first open item.
    pub checklist_title: String,
    /// An observer's console: why it cannot act (who leads). Its action keys are left out of
    /// the hints and the help, and say this when pressed.
    pub read_only: Option<String>,
    /// Team mode: the console follows a rollout in PostgreSQL that other consoles follow too
    /// (its team keys — hand over, ask to lead, approve — are in its help and palette).
    pub team: bool,
    /// The focused list's filter (`/`), if one is set.
    pub filter: Option<ListFilter>,
    /// Mouse capture (`m`): clicks focus a pane and select a row. Off by default, so that
    /// the terminal selects text (the audit head, to paste in chat).
    pub mouse: bool,
    /// The order Tab visits the panes: the screen's, as the last frame laid them out
    /// (`render::follow_layout`; the compact layout puts them elsewhere).
    pub tab_order: [Pane; 6],
}

/// What the loop must do after a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Write these events (in order); then, if the first is an `ActionRequested` with steps,
    /// run them.
    Write(Vec<Event>),
    Quit,
    /// Team mode: hand the lead to the observer who asked.
    HandOver,
    /// Team mode: ask the lead to hand over (an observer).
    AskLead,
    /// Replay navigation.
    Replay(Cmd),
    JumpTo(String),
    /// Open the record of the log's line this many back from the newest (the loop has the
    /// lines: `Ui::open_log_record`).
    OpenLog(usize),
}

impl Ui {
    pub fn new(mode: Mode) -> Self {
        Ui {
            mode,
            focus: Pane::Checklist,
            checklist_sel: 0,
            flag_sel: 0,
            phase_sel: 0,
            pool_sel: 0,
            metric_scroll: 0,
            log_back: 0,
            dialog: None,
            help: false,
            help_scroll: 0,
            present: false,
            message: None,
            until_committed: None,
            checklist_title: String::new(),
            read_only: None,
            team: false,
            filter: None,
            mouse: false,
            tab_order: PANES,
        }
    }

    /// What a pane's rows are filtered by, if anything.
    pub fn filter_of(&self, pane: Pane) -> Option<&str> {
        self.filter
            .as_ref()
            .filter(|f| f.pane == pane)
            .map(|f| f.text.as_str())
    }

    /// Whether phase `i` is shown: its number, name or owner holds the phases' filter.
    pub fn phase_shown(&self, rb: &Runbook, i: usize) -> bool {
        match (self.filter_of(Pane::Phases), rb.phases.get(i)) {
            (Some(f), Some(p)) => filter_holds(
                &format!("{} {} {}", i + 1, p.name, rb.team_name(&p.owner.value)),
                f,
            ),
            (None, Some(_)) => true,
            _ => false,
        }
    }

    /// Which of `n` log lines a pane of `h` rows shows — `start..end` — and the cursor's line:
    /// focused, the cursor's page; unfocused, the newest lines.
    pub fn log_window(&self, n: usize, h: usize, focused: bool) -> (usize, usize, usize) {
        let back = if focused {
            self.log_back.min(n.saturating_sub(1))
        } else {
            0
        };
        let sel = n.saturating_sub(1 + back);
        let end = (sel + 1).max(h.min(n)).min(n);
        (end.saturating_sub(h), end, sel)
    }

    /// The log's lines as the pane shows them: folded, and narrowed by its filter.
    pub fn log_lines<'a>(&self, lines: &'a [String]) -> Vec<(&'a str, usize)> {
        let mut folded = fold_log(lines);
        if let Some(f) = self.filter_of(Pane::Log) {
            folded.retain(|(l, _)| filter_holds(l, f));
        }
        folded
    }

    /// Open the record of a log line (`OpenLog`): the folded lines as the log pane shows them.
    pub fn open_log_record(&mut self, lines: &[String], back: usize) {
        let folded = self.log_lines(lines);
        self.log_back = back.min(folded.len().saturating_sub(1));
        if let Some(i) = folded.len().checked_sub(1 + self.log_back) {
            self.dialog = Some(Dialog::Record {
                line: folded[i].0.to_string(),
                scroll: 0,
            });
        }
    }

    /// Keep the log's cursor on a line that exists.
    pub fn clamp_log(&mut self, lines: &[String]) {
        self.log_back = self
            .log_back
            .min(self.log_lines(lines).len().saturating_sub(1));
    }

    /// Keep the checklist cursor on the checklist that is shown.
    pub(super) fn follow_checklist(&mut self, st: &State, rb: &Runbook) {
        let (title, items) = current_checklist(st, rb);
        if title != self.checklist_title {
            self.checklist_sel = items
                .iter()
                .position(|(l, i, _)| st.ticked(l, i).is_none())
                .unwrap_or(0);
            self.checklist_title = title;
        }
    }
}

/// The log's lines with repeats folded: a line that says what the one before it said (its
/// time aside) is counted, not shown again. Each entry is the last such line and how many.
pub fn fold_log(lines: &[String]) -> Vec<(&str, usize)> {
    let mut out: Vec<(&str, usize)> = Vec::new();
    for l in lines {
        match out.last_mut() {
            Some((last, n)) if untimed(last) == untimed(l) => {
                *last = l;
                *n += 1;
            }
            _ => out.push((l, 1)),
        }
    }
    out
}

/// A log line without its leading `HH:MM:SS `.
fn untimed(l: &str) -> &str {
    match l.split_once(' ') {
        Some((t, rest)) if t.len() == 8 && t.chars().all(|c| c.is_ascii_digit() || c == ':') => {
            rest
        }
        _ => l,
    }
}
