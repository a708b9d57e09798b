//! What a key does on the screen (no dialog open): the command the keymap gives it, turned
//! into UI state, a dialog to open, or an intent.

use super::{Dialog, Intent, PANES, Pane, Ui, current_items};
use crate::engine::{self, Action, Event, State};
use crate::keymap::{self, Cmd, Mode};
use crate::runbook::{FlagKind, Runbook};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

impl Ui {
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
        if cmd.acts()
            && let Some(why) = &self.read_only
        {
            self.message = Some(format!("read-only: {why}"));
            return Vec::new();
        }
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
            Cmd::HandOver => return vec![Intent::HandOver],
            Cmd::AskLead => return vec![Intent::AskLead],
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
}
