//! What a key does on the screen (no dialog open): the command the keymap gives it, turned
//! into UI state, a dialog to open, or an intent.

use super::{Dialog, Intent, ListFilter, Pane, Ui, current_items};
use crate::engine::{self, Action, Event, State};
use crate::keymap::{self, Cmd, Mode};
use crate::runbook::{FlagKind, Runbook};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
            match key.code {
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => {
                    self.help = false;
                    self.help_scroll = 0;
                }
                KeyCode::Down | KeyCode::Char('j') => self.help_scroll += 1,
                KeyCode::Up | KeyCode::Char('k') => {
                    self.help_scroll = self.help_scroll.saturating_sub(1)
                }
                _ => {}
            }
            return Vec::new();
        }
        if self.dialog.is_some() {
            return self.on_dialog_key(key, st, rb, operator);
        }
        if self.filter_typing(key, rb) {
            return Vec::new();
        }
        if self.mode == Mode::Replay
            && let Some(b) = keymap::replay_refuses(key)
        {
            self.message = Some(format!(
                "read-only replay: {} ({}) is for the live console",
                b.label,
                b.short()
            ));
            return Vec::new();
        }
        let focus = match self.focus {
            Pane::Log => keymap::Focus::Log,
            Pane::Phases | Pane::Pools => keymap::Focus::Rows,
            _ => keymap::Focus::Other,
        };
        let Some(cmd) = keymap::command_in(key, self.mode, focus) else {
            return Vec::new();
        };
        self.message = None;
        self.until_committed = None;
        if cmd.acts()
            && let Some(why) = &self.read_only
        {
            self.message = Some(format!("read-only: {why}"));
            return Vec::new();
        }
        if cmd.team() && !self.team {
            self.message = Some(
                "team mode only: open the rollout in PostgreSQL (--store postgres://…) so that other consoles follow it"
                    .into(),
            );
            return Vec::new();
        }
        match cmd {
            Cmd::Help => self.help = true,
            Cmd::Present => self.present = !self.present,
            Cmd::Mouse => {
                self.mouse = !self.mouse;
                self.message = Some(if self.mouse {
                    "mouse on: click a pane or a row (m turns it off to select text)".into()
                } else {
                    "mouse off: the terminal selects text again".into()
                });
            }
            Cmd::Filter => {
                if matches!(self.focus, Pane::Phases | Pane::Pools | Pane::Log) {
                    self.filter = Some(ListFilter {
                        pane: self.focus,
                        text: String::new(),
                        typing: true,
                    });
                }
            }
            Cmd::ClearFilter => {
                if self.filter.as_ref().is_some_and(|f| f.pane == self.focus) {
                    self.filter = None;
                }
            }
            Cmd::Palette => {
                self.dialog = Some(Dialog::Palette {
                    typed: String::new(),
                    sel: 0,
                })
            }
            Cmd::Quit => {
                // The console that acts asks first while something is in flight; a replay or
                // an observer's console leaves nothing unattended.
                if self.mode == Mode::Live && self.read_only.is_none() && st.in_flight(rb).is_some()
                {
                    self.dialog = Some(Dialog::Quit);
                } else {
                    return vec![Intent::Quit];
                }
            }
            Cmd::FocusNext | Cmd::FocusPrev => {
                let order = self.tab_order;
                let i = order.iter().position(|p| *p == self.focus).unwrap_or(0);
                let n = order.len();
                let j = if cmd == Cmd::FocusNext {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.focus = order[j];
                if self.focus == Pane::Phases {
                    self.phase_sel = st.current_phase().unwrap_or(self.phase_sel);
                }
            }
            // The log: its cursor counts back from the newest line (the loop keeps it on a
            // line that exists).
            Cmd::Up | Cmd::Down | Cmd::PageUp | Cmd::PageDown | Cmd::Top | Cmd::Bottom
                if self.focus == Pane::Log =>
            {
                const PAGE: usize = 10;
                self.log_back = match cmd {
                    Cmd::Up => self.log_back.saturating_add(1),
                    Cmd::Down => self.log_back.saturating_sub(1),
                    Cmd::PageUp => self.log_back.saturating_add(PAGE),
                    Cmd::PageDown => self.log_back.saturating_sub(PAGE),
                    Cmd::Top => usize::MAX,
                    _ => 0,
                };
            }
            Cmd::Open => match self.focus {
                Pane::Phases => {
                    self.dialog = Some(Dialog::Detail {
                        what: super::Detail::Phase(self.phase_sel),
                        scroll: 0,
                    })
                }
                Pane::Pools => {
                    let pool = if self.pool_sel == 0 {
                        crate::runbook::PoolName::Blue
                    } else {
                        crate::runbook::PoolName::Green
                    };
                    self.dialog = Some(Dialog::Detail {
                        what: super::Detail::Pool(pool),
                        scroll: 0,
                    })
                }
                _ => return vec![Intent::OpenLog(self.log_back)],
            },
            // Phases: the next or previous row the filter shows.
            Cmd::Up | Cmd::Down if self.focus == Pane::Phases => {
                let n = rb.phases.len();
                let next = if cmd == Cmd::Down {
                    (self.phase_sel + 1..n).find(|&i| self.phase_shown(rb, i))
                } else {
                    (0..self.phase_sel.min(n))
                        .rev()
                        .find(|&i| self.phase_shown(rb, i))
                };
                if let Some(i) = next {
                    self.phase_sel = i;
                }
            }
            Cmd::Up | Cmd::Down => {
                let down = cmd == Cmd::Down;
                let (sel, len) = match self.focus {
                    Pane::Checklist => (&mut self.checklist_sel, current_items(st, rb).len()),
                    Pane::Flags => (&mut self.flag_sel, rb.flags.len()),
                    Pane::Metrics => (&mut self.metric_scroll, rb.metrics.len()),
                    Pane::Log => return Vec::new(),
                    Pane::Phases => (&mut self.phase_sel, rb.phases.len()),
                    Pane::Pools => (&mut self.pool_sel, 2),
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
                // Each procedure with what it does (its steps); the one the engine suggests
                // for the alert firing is marked and selected.
                let suggested = engine::suggested_procedure(st, rb);
                let items = rb
                    .procedures
                    .iter()
                    .map(|p| {
                        let mut label = format!(
                            "{} — target < {}",
                            p.name,
                            crate::runbook::fmt_duration(p.target)
                        );
                        if let Some(s) = suggested.as_ref().filter(|s| s.procedure == p.id.value) {
                            label.push_str(&format!("  ★ SUGGESTED\n    for {}", s.why));
                        }
                        for (i, step) in p.steps.iter().enumerate() {
                            label.push_str(&format!("\n    {}. {}", i + 1, step.name.value));
                        }
                        (
                            label,
                            Action::Rollback {
                                procedure: p.id.value.clone(),
                            },
                        )
                    })
                    .collect::<Vec<_>>();
                let sel = suggested
                    .and_then(|s| rb.procedures.iter().position(|p| p.id.value == s.procedure))
                    .unwrap_or(0);
                if items.is_empty() {
                    self.message = Some("the runbook has no rollback procedures".into());
                } else {
                    self.dialog = Some(Dialog::Choose {
                        title: "Rollback — choose a procedure".into(),
                        items,
                        sel,
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
                        operator: operator.to_string(),
                    }])];
                }
                None => self.message = Some("no rollback result to acknowledge".into()),
            },
            Cmd::Comment => {
                self.dialog = Some(Dialog::Comment {
                    text: String::new(),
                    error: None,
                })
            }
            Cmd::AckAlert => {
                let evs: Vec<Event> = st
                    .unacknowledged_alerts()
                    .map(|a| Event::AlertAcknowledged {
                        metric: a.metric.clone(),
                        level: a.level,
                        operator: operator.to_string(),
                    })
                    .collect();
                if evs.is_empty() {
                    self.message = Some("no firing alert to acknowledge".into());
                } else {
                    return vec![Intent::Write(evs)];
                }
            }
            Cmd::Approve => match engine::awaiting_for(st, operator) {
                Ok(_) => {
                    self.dialog = Some(Dialog::Approve {
                        typed: String::new(),
                        error: None,
                    })
                }
                Err(why) => self.message = Some(why),
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

    /// A key while the focused list's filter takes typing: letters narrow it, Backspace
    /// widens it, Enter keeps it, Esc clears it; the arrows still move (true when the key was
    /// taken here). Tab ends the typing and moves the focus as ever.
    fn filter_typing(&mut self, key: KeyEvent, rb: &Runbook) -> bool {
        let Some(fl) = self.filter.as_mut().filter(|f| f.typing) else {
            return false;
        };
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            return false;
        }
        match key.code {
            KeyCode::Esc => self.filter = None,
            KeyCode::Enter => fl.typing = false,
            KeyCode::Backspace => {
                fl.text.pop();
            }
            KeyCode::Char(c)
                if !key.modifiers.contains(KeyModifiers::ALT) && fl.text.chars().count() < 40 =>
            {
                fl.text.push(c)
            }
            KeyCode::Tab | KeyCode::BackTab => {
                fl.typing = false;
                return false;
            }
            KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown => return false,
            _ => return true,
        }
        // The cursor goes to a row the filter shows: the newest log line, the first phase.
        self.log_back = 0;
        if !self.phase_shown(rb, self.phase_sel)
            && let Some(i) = (0..rb.phases.len()).find(|&i| self.phase_shown(rb, i))
        {
            self.phase_sel = i;
        }
        true
    }
}
