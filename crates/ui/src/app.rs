//! UI state and key handling. Pure: a key and the current state give new UI state and
//! intents (events to write, a job to run); the loop carries the intents out.

use super::keymap::{self, Cmd, Mode};
use crate::engine::{self, Action, Event, Proposal, State, Submission, SubmitError, Verdict};
use crate::runbook::{FlagKind, Runbook};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Checklist,
    Flags,
    Metrics,
    Log,
}

const PANES: [Pane; 4] = [Pane::Checklist, Pane::Flags, Pane::Metrics, Pane::Log];

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
    /// Quit while an action runs?
    Quit,
    /// Replay: type a time to jump to.
    Jump {
        typed: String,
        error: Option<String>,
    },
}

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
}

/// What the loop must do after a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Write these events (in order); then, if the first is an `ActionRequested` with steps,
    /// run them.
    Write(Vec<Event>),
    Quit,
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
        }
    }

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
                ..
            }) => {
                let steps = engine::propose(st, rb, action.clone()).steps;
                (!steps.is_empty()).then_some(steps)
            }
            _ => None,
        }
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

    fn dry_run_lines(&self) -> Vec<String> {
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
            Some(Dialog::Confirm { action, .. }) => Some(engine::propose(st, rb, action.clone())),
            _ => None,
        }
    }

    fn open(&mut self, st: &State, rb: &Runbook, action: Action) {
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
        });
    }

    /// Follow the state: a dialog whose verdict changed (blocked ↔ allowed) clears what was
    /// typed and says so, so that nothing typed for one verdict is taken for the other.
    pub fn sync(&mut self, st: &State, rb: &Runbook) {
        // A countdown that ended (ran out, stood down, or a rollback took over) leaves nothing
        // to cancel: its dialog closes rather than keep taking keys.
        if matches!(self.dialog, Some(Dialog::Quit)) && st.running().is_none() {
            self.dialog = None;
            self.message = Some("the action finished: q quits".into());
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
            ..
        }) = self.dialog.as_mut()
        else {
            return;
        };
        let p = engine::propose(st, rb, action.clone());
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

    /// Handle one key press.
    pub fn on_key(
        &mut self,
        key: KeyEvent,
        st: &State,
        rb: &Runbook,
        operator: &str,
    ) -> Vec<Intent> {
        self.follow_checklist(st, rb);
        self.sync(st, rb);
        if self.help {
            if matches!(
                key.code,
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter
            ) {
                self.help = false;
            }
            return Vec::new();
        }
        if self.dialog.is_some() {
            return self.on_dialog_key(key, st, rb, operator);
        }
        let Some(cmd) = keymap::command(key, self.mode) else {
            return Vec::new();
        };
        self.message = None;
        match cmd {
            Cmd::Help => self.help = true,
            Cmd::Quit => {
                if self.mode == Mode::Live && st.running().is_some() {
                    self.dialog = Some(Dialog::Quit);
                } else {
                    return vec![Intent::Quit];
                }
            }
            Cmd::FocusNext | Cmd::FocusPrev => {
                let i = PANES.iter().position(|p| *p == self.focus).unwrap_or(0);
                let n = PANES.len();
                let j = if cmd == Cmd::FocusNext {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.focus = PANES[j];
            }
            Cmd::Up | Cmd::Down => {
                let down = cmd == Cmd::Down;
                let (sel, len) = match self.focus {
                    Pane::Checklist => (&mut self.checklist_sel, current_items(st, rb).len()),
                    Pane::Flags => (&mut self.flag_sel, rb.flags.len()),
                    Pane::Metrics => (&mut self.metric_scroll, rb.metrics.len()),
                    Pane::Log => (&mut self.log_scroll, usize::MAX),
                };
                if down {
                    if *sel + 1 < len {
                        *sel += 1;
                    }
                } else {
                    *sel = sel.saturating_sub(1);
                }
            }
            Cmd::Tick => {
                let items = current_items(st, rb);
                if let Some((list, item, _)) = items.get(self.checklist_sel) {
                    // Ticking moves on to the next item, as one reads down a checklist.
                    if st.ticked(list, item).is_none() && self.checklist_sel + 1 < items.len() {
                        self.checklist_sel += 1;
                    }
                    return vec![Intent::Write(engine::tick(st, rb, list, item, operator))];
                }
                self.message = Some("no checklist item here".into());
            }
            Cmd::Advance => match engine::next_advance(st, rb) {
                Some(a) => self.open(st, rb, a),
                None => self.message = Some("every phase is done: nothing to advance".into()),
            },
            Cmd::Flip => {
                if let Some(f) = rb.flags.get(self.flag_sel) {
                    let cur = st.flags.get(&f.id.value);
                    let to = match f.kind {
                        FlagKind::Bool => {
                            serde_json::Value::Bool(!cur.and_then(|v| v.as_bool()).unwrap_or(false))
                        }
                        FlagKind::Percent => cur.cloned().unwrap_or(serde_json::json!(0)),
                    };
                    self.open(
                        st,
                        rb,
                        Action::FlipFlag {
                            flag: f.id.value.clone(),
                            to,
                        },
                    );
                }
            }
            Cmd::Rollback => {
                let items = rb
                    .procedures
                    .iter()
                    .map(|p| {
                        (
                            format!(
                                "{} — target < {}",
                                p.name,
                                crate::runbook::fmt_duration(p.target)
                            ),
                            Action::Rollback {
                                procedure: p.id.value.clone(),
                            },
                        )
                    })
                    .collect::<Vec<_>>();
                if items.is_empty() {
                    self.message = Some("the runbook has no rollback procedures".into());
                } else {
                    self.dialog = Some(Dialog::Choose {
                        title: "Rollback — choose a procedure".into(),
                        items,
                        sel: 0,
                    });
                }
            }
            Cmd::GoNoGo => {
                self.dialog = Some(Dialog::Choose {
                    title: "Go/no-go decision".into(),
                    items: vec![
                        (
                            "GO — the deployment may start".into(),
                            Action::GoNoGo { go: true },
                        ),
                        (
                            "NO-GO — the deployment does not start".into(),
                            Action::GoNoGo { go: false },
                        ),
                    ],
                    sel: 0,
                });
            }
            Cmd::SwitchPool => {
                let to = st.pools.active.unwrap_or(rb.pools.active).other();
                self.open(st, rb, Action::SwitchPool { to });
            }
            Cmd::Retry => {
                let failed = st.current_phase().and_then(|i| {
                    st.phases[i]
                        .failed
                        .clone()
                        .map(|f| (rb.phases[i].id.value.clone(), f))
                });
                match failed {
                    Some((phase, f)) => {
                        self.dialog = Some(Dialog::Choose {
                            title: format!("Step {} ({}) failed", f.step + 1, f.name),
                            items: vec![
                                (
                                    format!("Retry from step {}", f.step + 1),
                                    Action::RetryPhase {
                                        phase: phase.clone(),
                                        from: f.step,
                                    },
                                ),
                                (
                                    format!("Skip step {} (give a reason)", f.step + 1),
                                    Action::SkipStep {
                                        phase,
                                        step: f.step,
                                    },
                                ),
                            ],
                            sel: 0,
                        })
                    }
                    None => self.message = Some("no failed step to retry or skip".into()),
                }
            }
            Cmd::CancelAbort => {
                if st.abort.is_some() {
                    self.dialog = Some(Dialog::CancelAbort {
                        reason: String::new(),
                        error: None,
                    });
                } else {
                    self.message = Some("no auto-abort countdown is running".into());
                }
            }
            Cmd::Acknowledge => match st.unacknowledged_rollback() {
                Some(a) => {
                    return vec![Intent::Write(vec![Event::RollbackAcknowledged {
                        id: a.id,
                        by: operator.to_string(),
                    }])];
                }
                None => self.message = Some("no rollback result to acknowledge".into()),
            },
            Cmd::JumpTime => {
                self.dialog = Some(Dialog::Jump {
                    typed: String::new(),
                    error: None,
                })
            }
            c => return vec![Intent::Replay(c)],
        }
        Vec::new()
    }

    fn on_dialog_key(
        &mut self,
        key: KeyEvent,
        st: &State,
        rb: &Runbook,
        operator: &str,
    ) -> Vec<Intent> {
        let preview = self.dry_run_lines();
        let Some(dialog) = self.dialog.as_mut() else {
            return Vec::new();
        };
        match dialog {
            Dialog::Quit => match key.code {
                KeyCode::Char('y') => return vec![Intent::Quit],
                _ => self.dialog = None,
            },
            Dialog::Jump { typed, .. } => match key.code {
                KeyCode::Esc => self.dialog = None,
                KeyCode::Enter => {
                    let t = typed.clone();
                    self.dialog = None;
                    return vec![Intent::JumpTo(t)];
                }
                KeyCode::Backspace => {
                    typed.pop();
                }
                KeyCode::Char(c) if printable(&key) && typed.chars().count() < 32 => typed.push(c),
                _ => {}
            },
            Dialog::Choose { items, sel, .. } => match key.code {
                KeyCode::Esc | KeyCode::Char('q') => self.dialog = None,
                KeyCode::Up | KeyCode::Char('k') => *sel = sel.saturating_sub(1),
                KeyCode::Down | KeyCode::Char('j') if *sel + 1 < items.len() => *sel += 1,
                KeyCode::Enter => {
                    if let Some((_, a)) = items.get(*sel).cloned() {
                        self.open(st, rb, a);
                    }
                }
                _ => {}
            },
            Dialog::CancelAbort { reason, error } => match key.code {
                KeyCode::Esc => self.dialog = None,
                KeyCode::Enter => {
                    if !engine::is_reason(reason) {
                        *error = Some(SubmitError::ReasonRequired.to_string());
                    } else {
                        let ev = engine::cancel_abort(st, operator, reason);
                        self.dialog = None;
                        return ev.map(|e| vec![Intent::Write(vec![e])]).unwrap_or_default();
                    }
                }
                KeyCode::Backspace => {
                    reason.pop();
                }
                KeyCode::Char(c) if printable(&key) && reason.chars().count() < 300 => {
                    reason.push(c)
                }
                _ => {}
            },
            Dialog::Confirm {
                action,
                stage,
                reason,
                typed,
                error,
                ..
            } => {
                let p = engine::propose(st, rb, action.clone());
                let verdict = p.verdict();
                let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
                match (key.code, *stage) {
                    (KeyCode::Esc, _) => {
                        self.dialog = None;
                        self.message = Some("cancelled: nothing was done".into());
                    }
                    // Overriding starts with a key that no phrase contains.
                    (KeyCode::Char('o'), Stage::Review) if ctrl && verdict == Verdict::Blocked => {
                        if p.overridable() {
                            *stage = Stage::Override;
                            typed.clear();
                            *error = None;
                        } else {
                            let hard: Vec<&str> = p
                                .checks
                                .iter()
                                .filter(|c| !c.pass && !c.overridable)
                                .map(|c| c.name.as_str())
                                .collect();
                            *error = Some(format!("no override may pass: {}", hard.join(", ")));
                        }
                    }
                    (KeyCode::Enter, Stage::Review) => {
                        if verdict == Verdict::Blocked {
                            // Record the attempt: the gate said no, and that is evidence too.
                            let evs = engine::submit(st, rb, &p, operator, &Submission::default());
                            self.dialog = None;
                            self.message =
                                Some("blocked: the attempt is recorded; nothing ran".into());
                            return evs.map(|e| vec![Intent::Write(e)]).unwrap_or_default();
                        }
                        *stage = first_stage(&p);
                        if *stage == Stage::Review {
                            let sub = Submission {
                                preview,
                                ..Default::default()
                            };
                            return self.finish(st, rb, &p, operator, sub);
                        }
                    }
                    (KeyCode::Enter, Stage::Override) => {
                        if typed.trim() == p.override_phrase() {
                            *stage = Stage::OverrideReason;
                            *error = None;
                        } else {
                            *error = Some(format!("type `{}` to override", p.override_phrase()));
                        }
                    }
                    (KeyCode::Enter, Stage::OverrideReason) => {
                        if !engine::is_reason(reason) {
                            *error = Some(SubmitError::ReasonRequired.to_string());
                        } else {
                            let sub = Submission {
                                typed: p.override_phrase(),
                                override_reason: Some(reason.clone()),
                                preview,
                                ..Default::default()
                            };
                            return self.finish(st, rb, &p, operator, sub);
                        }
                    }
                    (KeyCode::Enter, Stage::Phrase) => {
                        if p.reason_required && p.phrase.as_deref() == Some(typed.trim()) {
                            *stage = Stage::Reason;
                            *error = None;
                        } else {
                            let sub = Submission {
                                typed: typed.clone(),
                                preview,
                                ..Default::default()
                            };
                            return self.finish(st, rb, &p, operator, sub);
                        }
                    }
                    (KeyCode::Enter, Stage::Reason) => {
                        let sub = Submission {
                            typed: typed.clone(),
                            reason: Some(reason.clone()),
                            preview,
                            ..Default::default()
                        };
                        return self.finish(st, rb, &p, operator, sub);
                    }
                    (KeyCode::Backspace, Stage::OverrideReason | Stage::Reason) => {
                        reason.pop();
                    }
                    (KeyCode::Backspace, Stage::Override | Stage::Phrase) => {
                        typed.pop();
                    }
                    (KeyCode::Char(c), Stage::OverrideReason | Stage::Reason)
                        if printable(&key) && reason.chars().count() < 500 =>
                    {
                        reason.push(c)
                    }
                    (KeyCode::Char(c), Stage::Override | Stage::Phrase)
                        if printable(&key) && typed.chars().count() < 100 =>
                    {
                        typed.push(c)
                    }
                    // No text field here: a letter is not a command.
                    (KeyCode::Char(_), Stage::Review) if !ctrl => {
                        *error = Some(if verdict == Verdict::Blocked {
                            "Enter records the attempt · Ctrl-O overrides · Esc cancels".into()
                        } else {
                            "Enter confirms · Esc cancels".into()
                        });
                    }
                    _ => {}
                }
            }
        }
        Vec::new()
    }

    fn finish(
        &mut self,
        st: &State,
        rb: &Runbook,
        p: &Proposal,
        operator: &str,
        sub: Submission,
    ) -> Vec<Intent> {
        match engine::submit(st, rb, p, operator, &sub) {
            Ok(evs) => {
                self.dialog = None;
                self.message = Some(format!("{}: requested", p.action.label()));
                vec![Intent::Write(evs)]
            }
            Err(e) => {
                if let Some(Dialog::Confirm { error, .. }) = self.dialog.as_mut() {
                    *error = Some(e.to_string());
                }
                Vec::new()
            }
        }
    }
}

/// The first stage of an action's dialog: the override path starts from Review.
fn first_stage(p: &Proposal) -> Stage {
    match p.verdict() {
        Verdict::Blocked => Stage::Review,
        Verdict::NeedsConfirmation { .. } => Stage::Phrase,
        Verdict::Allowed if p.reason_required => Stage::Reason,
        Verdict::Allowed => Stage::Review,
    }
}

/// A key that types a character (no Ctrl or Alt).
fn printable(key: &KeyEvent) -> bool {
    !key.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

pub use crate::engine::{current_checklist, current_items};
