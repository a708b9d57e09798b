//! The console without a terminal: a real `Session` (store, simulator) driven by key presses
//! through the same `Ui::on_key` the terminal loop calls. Tests that use it go the way a
//! lead goes: keys, dialogs, typed phrases.
#![allow(dead_code)]

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::Path;
use warroom::engine::{Event, PhaseStatus, State, Verdict};
use warroom::session::Session;
use warroom::sim::Scenario;
use warroom::ui::app::{Dialog, Stage, Ui};
use warroom::ui::keymap::Mode;

pub struct Console {
    pub s: Session,
    pub ui: Ui,
    pub operator: String,
}

impl Console {
    /// The seed plan on the simulator on virtual time, writing to `audit`: the test's runtime
    /// must start paused (`#[tokio::test(start_paused = true)]`).
    pub async fn demo(audit: &Path, scenario: Scenario, speed: f64) -> Console {
        let loaded = super::seed();
        Console::demo_with(&loaded, audit, scenario, speed).await
    }

    pub async fn demo_with(
        loaded: &warroom::runbook::Loaded,
        audit: &Path,
        scenario: Scenario,
        speed: f64,
    ) -> Console {
        // Virtual time: the test runs on a paused clock, and bakes pass as soon as nothing
        // is left to do.
        let s = match Session::start_rehearsal(loaded, audit, "alice", speed, scenario).await {
            Ok(s) => s,
            Err(e) => panic!("the demo session must start: {e}"),
        };
        let mut c = Console {
            s,
            ui: Ui::new(Mode::Live),
            operator: "alice".into(),
        };
        c.settle().await;
        c
    }

    /// One key, as the terminal loop handles it.
    pub fn key(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        let key = KeyEvent::new(code, modifiers);
        warroom::ui::live::handle_key(&mut self.ui, &mut self.s, &self.operator, key);
    }

    pub fn press(&mut self, code: KeyCode) {
        self.key(code, KeyModifiers::NONE);
    }

    pub fn ctrl(&mut self, c: char) {
        self.key(KeyCode::Char(c), KeyModifiers::CONTROL);
    }

    /// Type text, one key per character.
    pub fn type_str(&mut self, s: &str) {
        for c in s.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    /// Handle wake-ups (as the loop does, with `sync` after commits) until `cond` holds;
    /// false after `secs` (a guard against a hang: a generous limit, never a speed claim).
    pub async fn until(&mut self, secs: u64, mut cond: impl FnMut(&Session, &Ui) -> bool) -> bool {
        let end = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        while !cond(&self.s, &self.ui) {
            let left = end.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            // Look again at least every 50 ms: a condition may be on something outside the
            // session (a file a command wrote) while nothing wakes it.
            let wait = left.min(std::time::Duration::from_millis(50));
            if let Ok(warroom::session::Wake::Previewed(id, lines)) =
                tokio::time::timeout(wait, self.s.next()).await
            {
                self.ui.previewed(id, lines);
            }
            self.ui.sync(&self.s.st, &self.s.rb);
        }
        true
    }

    /// Let what is queued commit.
    pub async fn settle(&mut self) {
        let want = self.s.ahead.events;
        assert!(
            self.until(60, |s, _| s.st.events >= want).await,
            "the store did not commit what was queued"
        );
        // With nothing in flight, what was decided ahead is exactly what the store committed.
        if self.s.ahead.events == self.s.st.events {
            assert!(
                self.s.ahead == self.s.st,
                "the state ahead and the committed state differ"
            );
        }
    }

    /// The open confirm dialog's stage, if any.
    pub fn stage(&self) -> Option<Stage> {
        match &self.ui.dialog {
            Some(Dialog::Confirm { stage, .. }) => Some(*stage),
            _ => None,
        }
    }

    pub fn dialog_error(&self) -> Option<String> {
        match &self.ui.dialog {
            Some(Dialog::Confirm { error, .. }) => error.clone(),
            _ => None,
        }
    }

    pub fn verdict(&self) -> Option<Verdict> {
        self.ui
            .proposal(&self.s.st, &self.s.rb)
            .map(|p| p.verdict())
    }

    /// Events of the audit log so far (committed), in order.
    pub fn events(&self) -> Vec<Event> {
        let Some(path) = self.s.audit.path() else {
            panic!("the console's log is not a file")
        };
        match warroom::audit::read_all(path) {
            Ok(recs) => recs.iter().filter_map(|r| r.event().ok()).collect(),
            Err(e) => panic!("read the audit log: {e}"),
        }
    }

    /// The id of the running action, if any.
    pub fn running(&self) -> Option<u64> {
        self.s.st.running().map(|a| a.id)
    }

    /// Wait until what is queued has committed and no action runs.
    pub async fn idle(&mut self, secs: u64) -> bool {
        self.settle().await;
        self.until(secs, |s, _| s.st.running().is_none()).await
    }

    /// Follow the plan the way a lead does, by keys only, until `stop` holds: tick what is
    /// open, sign GO, advance (typing each phrase), waiting out bakes. Panics when a gate
    /// blocks for longer than `secs`.
    pub async fn follow_plan(&mut self, secs: u64, mut stop: impl FnMut(&State) -> bool) {
        let end = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            self.settle().await;
            if !self.idle(600).await {
                panic!("an action never finished");
            }
            if stop(&self.s.st) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < end,
                "the plan did not get there in time; last log lines: {:#?}",
                &self.s.log[self.s.log.len().saturating_sub(8)..]
            );
            // Tick the open items of the checklist shown.
            let items = warroom::ui::app::current_items(&self.s.st, &self.s.rb);
            if let Some(i) = items
                .iter()
                .position(|(l, i, _)| self.s.st.ticked(l, i).is_none())
            {
                self.ui.checklist_sel = i;
                self.press(KeyCode::Char(' '));
                continue;
            }
            let started = self
                .s
                .st
                .phases
                .iter()
                .any(|p| p.status != PhaseStatus::Pending);
            if !started && !self.s.st.decision.as_ref().is_some_and(|d| d.is_go()) {
                self.press(KeyCode::Char('g'));
                self.press(KeyCode::Enter); // GO
                if !self.confirm().await {
                    continue;
                }
                continue;
            }
            // The rollout wants its feature flags first.
            let in_rollout = self
                .s
                .st
                .current_phase()
                .is_some_and(|i| self.s.rb.phases[i].id.value == self.s.rb.rollout.phase.value);
            if in_rollout {
                let rb = self.s.rb.clone();
                if let Some((flag, want)) = rb
                    .rollout
                    .requires_flags
                    .iter()
                    .find(|(f, v)| self.s.st.flags.get(*f) != Some(*v))
                    && let Some(idx) = rb.flags.iter().position(|f| &f.id.value == flag)
                    && want.as_bool().is_some()
                {
                    self.ui.flag_sel = idx;
                    self.press(KeyCode::Char('f'));
                    self.confirm().await;
                    continue;
                }
            }
            self.press(KeyCode::Char('a'));
            self.confirm().await;
        }
    }

    /// Confirm the open dialog the way a lead does (type the phrase, Enter) once its gate
    /// allows it; false (and the dialog closed with Esc) when it stays blocked for long.
    pub async fn confirm(&mut self) -> bool {
        if self.ui.dialog.is_none() {
            return false;
        }
        let ok = self
            .until(600, |s, ui| match ui.proposal(&s.st, &s.rb) {
                Some(p) => p.verdict() != Verdict::Blocked,
                None => true,
            })
            .await;
        let _ = ok;
        let Some(p) = self.ui.proposal(&self.s.st, &self.s.rb) else {
            return false;
        };
        if p.verdict() == Verdict::Blocked {
            self.press(KeyCode::Esc);
            return false;
        }
        if let Some(phrase) = &p.phrase {
            if self.stage() != Some(Stage::Phrase) {
                self.press(KeyCode::Enter);
            }
            self.type_str(phrase);
        }
        self.press(KeyCode::Enter);
        let closed = self.ui.dialog.is_none();
        if !closed {
            panic!(
                "the dialog did not take the confirmation: {:?}",
                self.dialog_error()
            );
        }
        self.settle().await;
        true
    }
}

/// The action kinds recorded, in order, for assertions that read like the log.
pub fn kinds(evs: &[Event]) -> Vec<&'static str> {
    evs.iter().map(|e| e.kind()).collect()
}

pub fn is_override(e: &Event) -> bool {
    matches!(e, Event::ActionOverridden { .. })
}

impl Console {
    /// `warroom run` without a terminal: the real adapters on the given endpoints.
    pub async fn real(
        loaded: &warroom::runbook::Loaded,
        audit: &Path,
        ep: warroom::real::Endpoints,
    ) -> Console {
        let at = warroom::audit::Location::from(audit);
        let how = warroom::session::Start {
            loaded,
            audit: &at,
            operator: "alice",
            mode: "run",
            scenario: None,
            speed: None,
            virtual_time: false,
        };
        let rb = loaded.runbook.clone();
        let s = match Session::start(how, move |_st, jobs, reports| {
            warroom::real::spawn_with(&rb, ep, jobs, reports)
        })
        .await
        {
            Ok(s) => s,
            Err(e) => panic!("the run session must start: {e}"),
        };
        let mut c = Console {
            s,
            ui: Ui::new(Mode::Live),
            operator: "alice".into(),
        };
        c.settle().await;
        c
    }
}

impl Console {
    /// A left click at a cell of a `w`×`h` terminal, as the terminal loop hands it over.
    pub fn click(&mut self, x: u16, y: u16, w: u16, h: u16) {
        let th = warroom::ui::theme::Theme::load("default").expect("theme");
        let ev = ratatui::crossterm::event::MouseEvent {
            kind: ratatui::crossterm::event::MouseEventKind::Down(
                ratatui::crossterm::event::MouseButton::Left,
            ),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        };
        let area = ratatui::layout::Rect::new(0, 0, w, h);
        warroom::ui::live::handle_mouse(&mut self.ui, &self.s, ev, area, &th);
    }
}

impl Console {
    /// Tick the open items of the checklist shown, by keys (Space on each).
    pub async fn tick_shown(&mut self) {
        let items = warroom::ui::app::current_items(&self.s.st, &self.s.rb);
        for (i, (list, item, _)) in items.iter().enumerate() {
            if self.s.st.ticked(list, item).is_none() {
                self.ui.checklist_sel = i;
                self.press(KeyCode::Char(' '));
            }
        }
        self.settle().await;
    }
}
