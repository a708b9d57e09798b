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
}

const PANES: [Pane; 4] = [Pane::Checklist, Pane::Flags, Pane::Metrics, Pane::Log];

/// The UI state: drawn with the domain state, changed only by keys and by `sync`.
#[derive(Debug, Clone)]
pub struct Ui {
    pub mode: Mode,
    pub focus: Pane,
    pub checklist_sel: usize,
    pub flag_sel: usize,
    pub metric_scroll: usize,
    pub log_scroll: usize,
    pub dialog: Option<Dialog>,
    pub help: bool,
    /// A one-line message for the operator (last error, what happened).
    pub message: Option<String>,
    /// The checklist the cursor belongs to; when another is shown, the cursor moves to its
    /// first open item.
    pub checklist_title: String,
    /// An observer's console: why it cannot act (who leads). Its action keys are left out of
    /// the hints and the help, and say this when pressed.
    pub read_only: Option<String>,
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
}

impl Ui {
    pub fn new(mode: Mode) -> Self {
        Ui {
            mode,
            focus: Pane::Checklist,
            checklist_sel: 0,
            flag_sel: 0,
            metric_scroll: 0,
            log_scroll: 0,
            dialog: None,
            help: false,
            message: None,
            checklist_title: String::new(),
            read_only: None,
        }
    }

    /// Keep the checklist cursor on the checklist that is shown.
    fn follow_checklist(&mut self, st: &State, rb: &Runbook) {
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
