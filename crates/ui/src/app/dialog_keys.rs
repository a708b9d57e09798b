//! How an open dialog takes keys: typing into its field, choosing, confirming, overriding a
//! blocked gate with a phrase and a reason, and submitting to the engine.

use super::dialog::first_stage;
use super::{Dialog, Intent, Stage, Ui};
use crate::engine::{self, Proposal, State, Submission, SubmitError, Verdict};
use crate::runbook::Runbook;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

impl Ui {
    /// A key while a dialog is open: the dialog takes it (no key is a screen command then).
    pub(super) fn on_dialog_key(
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
            Dialog::Record { scroll, .. } | Dialog::Detail { scroll, .. } => match key.code {
                KeyCode::Down | KeyCode::Char('j') | KeyCode::PageDown => *scroll += 1,
                KeyCode::Up | KeyCode::Char('k') | KeyCode::PageUp => {
                    *scroll = scroll.saturating_sub(1)
                }
                _ => self.dialog = None,
            },
            Dialog::Palette { typed, sel } => match key.code {
                KeyCode::Esc => self.dialog = None,
                KeyCode::Up => *sel = sel.saturating_sub(1),
                KeyCode::Down => *sel += 1,
                KeyCode::Backspace => {
                    typed.pop();
                    *sel = 0;
                }
                KeyCode::Enter => {
                    // Run the chosen command as its key would: the same path, the same gates.
                    let chosen = crate::keymap::palette(self.mode, typed, self.team)
                        .get(*sel)
                        .and_then(|b| b.keys.first().copied());
                    self.dialog = None;
                    if let Some(code) = chosen {
                        return self.on_key(
                            KeyEvent::new(code, KeyModifiers::NONE),
                            st,
                            rb,
                            operator,
                        );
                    }
                }
                KeyCode::Char(c) if printable(&key) && typed.chars().count() < 32 => {
                    typed.push(c);
                    *sel = 0;
                }
                _ => {}
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
            Dialog::Comment { text, error } => match key.code {
                KeyCode::Esc => self.dialog = None,
                KeyCode::Enter => {
                    // Foreign text: cleaned before it is recorded or drawn.
                    let text = crate::text::clean(text.trim()).into_owned();
                    let ev = engine::Event::Commented {
                        operator: operator.to_string(),
                        text,
                    };
                    match engine::may_write(st, operator, std::slice::from_ref(&ev)) {
                        Ok(()) => {
                            self.dialog = None;
                            return vec![Intent::Write(vec![ev])];
                        }
                        Err(e) => *error = Some(e),
                    }
                }
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c)
                    if printable(&key) && text.chars().count() < engine::COMMENT_MAX =>
                {
                    text.push(c)
                }
                _ => {}
            },
            Dialog::Approve { typed, error } => match key.code {
                KeyCode::Esc => self.dialog = None,
                KeyCode::Enter => match engine::decide_approval(st, rb, operator, typed) {
                    Ok(ev) => {
                        self.dialog = None;
                        return vec![Intent::Write(vec![ev])];
                    }
                    Err(e) => *error = Some(e),
                },
                KeyCode::Backspace => {
                    typed.pop();
                }
                KeyCode::Char(c) if printable(&key) && typed.chars().count() < 64 => typed.push(c),
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
                chosen,
                optional_sel,
                dry_run,
                ..
            } => {
                let p = engine::propose_chosen(st, rb, action.clone(), chosen);
                let verdict = p.verdict();
                let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
                match (key.code, *stage) {
                    (KeyCode::Esc, _) => {
                        self.dialog = None;
                        self.message = Some("cancelled: nothing was done".into());
                    }
                    // The optional steps: Tab moves the mark, Ctrl-t chooses the marked one to
                    // run or not (at any stage: neither key types into a field). The dry run
                    // is asked again for the new steps.
                    (KeyCode::Tab, _) if !p.optional.is_empty() => {
                        *optional_sel = (*optional_sel + 1) % p.optional.len();
                    }
                    (KeyCode::Char('t'), _) if ctrl && !p.optional.is_empty() => {
                        let name = &p.optional[(*optional_sel).min(p.optional.len() - 1)].name;
                        if let Some(i) = chosen.iter().position(|c| c == name) {
                            chosen.remove(i);
                        } else {
                            chosen.push(name.clone());
                        }
                        *dry_run = super::DryRun::NotAsked;
                        *error = None;
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
                            let sub = Submission {
                                preview: preview.clone(),
                                ..Default::default()
                            };
                            let evs = engine::submit(st, rb, &p, operator, &sub);
                            self.dialog = None;
                            self.message =
                                Some("blocked: the attempt is recorded; nothing ran".into());
                            if let Ok(e) = &evs {
                                self.until_committed = Some(st.events + e.len() as u64);
                            }
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
                self.until_committed = Some(st.events + evs.len() as u64);
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

/// A key that types a character (no Ctrl or Alt).
fn printable(key: &KeyEvent) -> bool {
    !key.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}
