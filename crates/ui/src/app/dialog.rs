//! A dialog: what it is (confirm an action, cancel the auto-abort, choose, quit, jump), how it
//! opens at the right stage, its dry run, and how it follows the state while it is open.

use super::Ui;
use crate::engine::{self, Action, Proposal, State, Verdict};
use crate::runbook::Runbook;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the preview and checks; Enter confirms (or records a blocked attempt). No text
    /// field: letters do nothing here.
    Review,
    /// Typing the override phrase (`override <action>`), after Ctrl-O on a blocked action.
    Override,
    /// Typing the reason for overriding the failed checks.
    OverrideReason,
    /// Typing the confirmation phrase.
    Phrase,
    /// Typing the reason the action asks for (a NO-GO, skipping a failed step).
    Reason,
}

/// A dialog's dry run: what the systems say the steps would change.
#[derive(Debug, Clone, PartialEq)]
pub enum DryRun {
    NotAsked,
    Waiting(u64),
    Answered(Vec<String>),
}

#[derive(Debug, Clone)]
pub enum Dialog {
    /// An action's preview, checks and confirmation. The proposal is rebuilt from the live
    /// state every frame, so the checks shown are always current.
    Confirm {
        action: Action,
        stage: Stage,
        reason: String,
        typed: String,
        error: Option<String>,
        dry_run: DryRun,
        /// The verdict when the dialog last looked: a change clears what was typed.
        blocked: bool,
        /// The optional steps chosen to run (by name), and the one the mark is on (Tab moves
        /// it, Ctrl-t chooses it or not).
        chosen: Vec<String>,
        optional_sel: usize,
        /// The one-shot SQL checks its gate needs were asked for (once per dialog).
        once_asked: bool,
    },
    /// A remark for the log and the audit (`C`): type it.
    Comment { text: String, error: Option<String> },
    /// Approve or reject the action awaiting a second operator (`A`): type the phrase.
    Approve {
        typed: String,
        error: Option<String>,
    },
    /// Cancel the auto-abort countdown: type the reason.
    CancelAbort {
        reason: String,
        error: Option<String>,
    },
    /// Pick one of several actions (rollback procedures, go/no-go).
    Choose {
        title: String,
        items: Vec<(String, Action)>,
        sel: usize,
    },
    /// A log line's record: for an action, its checks with their evidence, the phrase, the
    /// reasons and the steps, drawn from the state (so a running one follows it).
    Record { line: String, scroll: usize },
    /// A phase's or a pool's detail, drawn from the state.
    Detail { what: super::Detail, scroll: usize },
    /// The command palette (`:`): every action the keymap has, filtered by what is typed.
    Palette { typed: String, sel: usize },
    /// Quit while something is in flight (an action, an auto-abort, a critical alert)?
    Quit,
    /// Replay: type a time to jump to.
    Jump {
        typed: String,
        error: Option<String>,
    },
}

impl Ui {
    /// The steps to dry-run for the open dialog, if it has steps and has not asked yet.
    pub fn wants_preview(
        &self,
        st: &State,
        rb: &Runbook,
    ) -> Option<Vec<crate::engine::PlannedStep>> {
        match &self.dialog {
            Some(Dialog::Confirm {
                action,
                dry_run: DryRun::NotAsked,
                chosen,
                ..
            }) => {
                let steps = engine::propose_chosen(st, rb, action.clone(), chosen).steps;
                (!steps.is_empty()).then_some(steps)
            }
            _ => None,
        }
    }

    /// The one-shot SQL checks to run for the open dialog (completing a phase that has some),
    /// once per dialog: their answers come back as readings, and the gate reads them.
    pub fn wants_once(&mut self, rb: &Runbook) -> Option<Vec<String>> {
        let Some(Dialog::Confirm {
            action: Action::PhaseChange { from: Some(f), .. },
            once_asked: asked @ false,
            ..
        }) = self.dialog.as_mut()
        else {
            return None;
        };
        *asked = true;
        let ids: Vec<String> = rb.once_checks(f).map(|m| m.id.value.clone()).collect();
        (!ids.is_empty()).then_some(ids)
    }

    pub fn preview_asked(&mut self, id: u64) {
        if let Some(Dialog::Confirm { dry_run, .. }) = self.dialog.as_mut() {
            *dry_run = DryRun::Waiting(id);
        }
    }

    /// A dry run answered; kept only if it is the one the open dialog asked for.
    pub fn previewed(&mut self, id: u64, lines: Vec<String>) {
        if let Some(Dialog::Confirm { dry_run, .. }) = self.dialog.as_mut()
            && *dry_run == DryRun::Waiting(id)
        {
            *dry_run = DryRun::Answered(lines);
        }
    }

    pub(super) fn dry_run_lines(&self) -> Vec<String> {
        match &self.dialog {
            Some(Dialog::Confirm {
                dry_run: DryRun::Answered(l),
                ..
            }) => l.clone(),
            _ => Vec::new(),
        }
    }

    pub fn proposal(&self, st: &State, rb: &Runbook) -> Option<Proposal> {
        match &self.dialog {
            Some(Dialog::Confirm { action, chosen, .. }) => {
                Some(engine::propose_chosen(st, rb, action.clone(), chosen))
            }
            _ => None,
        }
    }

    pub(super) fn open(&mut self, st: &State, rb: &Runbook, action: Action) {
        let p = engine::propose(st, rb, action.clone());
        let verdict = p.verdict();
        self.dialog = Some(Dialog::Confirm {
            action,
            stage: first_stage(&p),
            reason: String::new(),
            typed: String::new(),
            error: None,
            dry_run: DryRun::NotAsked,
            blocked: verdict == Verdict::Blocked,
            chosen: Vec::new(),
            optional_sel: 0,
            once_asked: false,
        });
    }

    /// Follow the state: a dialog whose verdict changed (blocked ↔ allowed) clears what was
    /// typed and says so, so that nothing typed for one verdict is taken for the other.
    pub fn sync(&mut self, st: &State, rb: &Runbook) {
        if self.until_committed.is_some_and(|n| st.events >= n) {
            self.until_committed = None;
            self.message = None;
        }
        // A countdown that ended (ran out, stood down, or a rollback took over) leaves nothing
        // to cancel: its dialog closes rather than keep taking keys.
        if matches!(self.dialog, Some(Dialog::Quit)) && st.in_flight(rb).is_none() {
            self.dialog = None;
            self.message = Some("nothing is in flight now: q quits".into());
            return;
        }
        if matches!(self.dialog, Some(Dialog::Approve { .. })) && st.awaiting_approval().is_none() {
            self.dialog = None;
            self.message = Some("no action awaits approval any more".into());
            return;
        }
        if matches!(self.dialog, Some(Dialog::CancelAbort { .. })) && st.abort.is_none() {
            self.dialog = None;
            self.message = Some("the auto-abort countdown ended: nothing to cancel".into());
            return;
        }
        let Some(Dialog::Confirm {
            action,
            stage,
            reason,
            typed,
            error,
            blocked,
            chosen,
            ..
        }) = self.dialog.as_mut()
        else {
            return;
        };
        let p = engine::propose_chosen(st, rb, action.clone(), chosen);
        let now_blocked = p.verdict() == Verdict::Blocked;
        if now_blocked != *blocked {
            *blocked = now_blocked;
            typed.clear();
            reason.clear();
            *stage = first_stage(&p);
            *error = Some(if now_blocked {
                "the checks changed: now BLOCKED — what you typed was cleared".into()
            } else {
                "the checks changed: now allowed — what you typed was cleared".into()
            });
        }
    }
}

/// The first stage of an action's dialog: the override path starts from Review.
pub(super) fn first_stage(p: &Proposal) -> Stage {
    match p.verdict() {
        Verdict::Blocked => Stage::Review,
        Verdict::NeedsConfirmation { .. } => Stage::Phrase,
        Verdict::Allowed if p.reason_required => Stage::Reason,
        Verdict::Allowed => Stage::Review,
    }
}
