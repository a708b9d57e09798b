//! `warroom rehearse`: game day as code. The plan is driven headless through the console's
//! own path — key presses through `Ui::on_key`, typed phrases, a `Session` on the simulator —
//! on virtual time (the runtime's clock paused), so hours of bake pass in a moment. Without a
//! script it plays the straight path; a script is a list of moves and expectations
//! (`script`), and what was found is a `Report` (`report`). The driver stays one file (a
//! little over 400 lines): its moves are one sequence of keys and waits over one dialog.

use crate::app::{Dialog, Stage, Ui, current_items};
use crate::engine::{Action, Outcome, PhaseStatus, Proposal, Verdict};
use crate::keymap::Mode;
use crate::runbook::CheckKey;
use crate::session::{Session, Wake};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;

mod report;
mod script;
pub use report::*;
pub use script::*;

/// How long (virtual) an action may run.
const ACTION_PATIENCE: Duration = Duration::from_secs(6 * 3600);

/// Checks that may pass by themselves as time goes on: a move blocked only by these waits —
/// for a bake or an exit gate's hold, its time; for a one-shot SQL check, its answer; for a
/// pool's health reading or a system that stopped answering, a few readings (see
/// `gate_patience`).
const TIME_CHECKS: &[CheckKey] = &[
    CheckKey::Bake,
    CheckKey::ExitGate,
    CheckKey::SqlCheck,
    CheckKey::PoolHealthy,
    CheckKey::Route,
];

/// The console without a terminal, on a session whose clock is virtual.
pub struct Driver {
    pub s: Session,
    pub ui: Ui,
    operator: String,
    started: tokio::time::Instant,
    /// The last move the gate refused, with its checks.
    blocked: Option<Blocked>,
    failed: Option<String>,
    expectations: Vec<ExpectationOut>,
    /// Optional steps to choose when a dialog lists them (`choose`).
    choose: Vec<String>,
}

fn check_out(p: &Proposal) -> Vec<CheckOut> {
    p.checks
        .iter()
        .map(|c| CheckOut {
            name: crate::text::clean(&c.name).into_owned(),
            pass: c.pass,
            evidence: crate::text::clean(&c.evidence).into_owned(),
        })
        .collect()
}

impl Driver {
    pub fn new(s: Session) -> Driver {
        let operator = s.operator.clone();
        Driver {
            s,
            ui: Ui::new(Mode::Live),
            operator,
            started: tokio::time::Instant::now(),
            blocked: None,
            failed: None,
            expectations: Vec::new(),
            choose: Vec::new(),
        }
    }

    fn key(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        let key = KeyEvent::new(code, modifiers);
        crate::live::handle_key(&mut self.ui, &mut self.s, &self.operator, key);
    }

    fn press(&mut self, code: KeyCode) {
        self.key(code, KeyModifiers::NONE);
    }

    fn type_str(&mut self, s: &str) {
        for c in s.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    /// Handle wake-ups as the console loop does until `cond` holds; false when `limit` of
    /// virtual time passed first.
    async fn until(
        &mut self,
        limit: Duration,
        mut cond: impl FnMut(&Session, &Ui) -> bool,
    ) -> bool {
        let end = tokio::time::Instant::now() + limit;
        while !cond(&self.s, &self.ui) {
            let left = end.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            match tokio::time::timeout(left, self.s.next()).await {
                Ok(Wake::Previewed(id, lines)) => self.ui.previewed(id, lines),
                Ok(Wake::Closed) => return false,
                Ok(Wake::WriteFailed(e)) => {
                    self.failed = Some(format!("audit write failed: {e}"));
                    return false;
                }
                _ => {}
            }
            self.ui.sync(&self.s.st, &self.s.rb);
        }
        true
    }

    /// Wait until what is queued is committed and no action runs; false when an action
    /// never ends.
    async fn idle(&mut self) -> bool {
        let want = self.s.ahead.events;
        self.until(ACTION_PATIENCE, |s, _| {
            s.st.events >= want && s.st.running().is_none()
        })
        .await
    }

    fn proposal(&self) -> Option<Proposal> {
        self.ui.proposal(&self.s.st, &self.s.rb)
    }

    /// Confirm the open dialog as a lead does — wait while only time stands in the way, then
    /// type the phrase and press Enter. False when it stays blocked (recorded as blocked,
    /// the dialog left open for an `override`).
    async fn confirm(&mut self) -> bool {
        if let Some(Dialog::Choose { .. }) = &self.ui.dialog {
            self.press(KeyCode::Enter);
        }
        if self.ui.dialog.is_none() {
            return true;
        }
        self.choose_optional();
        let waitable = |p: &Proposal| {
            p.checks
                .iter()
                .filter(|c| !c.pass)
                .all(|c| c.key.is_some_and(|k| TIME_CHECKS.contains(&k)))
        };
        let patience = self.gate_patience();
        self.until(patience, |s, ui| match ui.proposal(&s.st, &s.rb) {
            Some(p) => p.verdict() != Verdict::Blocked || !waitable(&p),
            None => true,
        })
        .await;
        let Some(p) = self.proposal() else {
            return self.ui.dialog.is_none();
        };
        if p.verdict() == Verdict::Blocked {
            self.blocked = Some(Blocked {
                action: p.action.label(),
                checks: check_out(&p),
            });
            return false;
        }
        self.blocked = None;
        if let Some(phrase) = &p.phrase {
            if self.stage() != Some(Stage::Phrase) {
                self.press(KeyCode::Enter);
            }
            self.type_str(phrase);
        }
        if p.reason_required {
            if self.stage() != Some(Stage::Reason) {
                self.press(KeyCode::Enter);
            }
            self.type_str("rehearsal script decision");
        }
        self.press(KeyCode::Enter);
        if self.ui.dialog.is_some() {
            self.failed = Some(format!(
                "the console did not take the confirmation of {}: {}",
                p.action.label(),
                self.dialog_error().unwrap_or_default()
            ));
            self.press(KeyCode::Esc);
            return false;
        }
        self.idle().await
    }

    /// In the open dialog, choose the optional steps the script named, as a lead does: `Tab`
    /// to each, `Ctrl-t`.
    fn choose_optional(&mut self) {
        let Some(p) = self.proposal() else { return };
        for (k, o) in p.optional.iter().enumerate() {
            if o.chosen || !self.choose.contains(&o.name) {
                continue;
            }
            for _ in 0..p.optional.len() {
                match &self.ui.dialog {
                    Some(Dialog::Confirm { optional_sel, .. }) if *optional_sel != k => {
                        self.press(KeyCode::Tab)
                    }
                    _ => break,
                }
            }
            self.key(KeyCode::Char('t'), KeyModifiers::CONTROL);
            self.choose.retain(|c| *c != o.name);
        }
    }

    /// How long (virtual) a move waits for its gate before it counts as blocked: the plan's
    /// longest bake or exit-gate hold, then ten readings (at least five minutes) for a pool or a system to come
    /// back — a server that stays down blocks the move then, not after days.
    fn gate_patience(&self) -> Duration {
        let rb = &self.s.rb;
        let bake = rb
            .rollout
            .steps
            .iter()
            .map(|s| s.bake)
            .chain(
                rb.phases
                    .iter()
                    .flat_map(|p| p.exit_gate.iter().map(|h| h.value.r#for)),
            )
            .max()
            .unwrap_or_default();
        bake + (rb.monitoring.every() * 10).max(Duration::from_secs(300))
    }

    fn stage(&self) -> Option<Stage> {
        match &self.ui.dialog {
            Some(Dialog::Confirm { stage, .. }) => Some(*stage),
            _ => None,
        }
    }

    fn dialog_error(&self) -> Option<String> {
        match &self.ui.dialog {
            Some(Dialog::Confirm { error, .. }) => error.clone(),
            _ => None,
        }
    }

    /// Close a dialog left open by a blocked move (Esc steps back a stage at a time).
    fn dismiss(&mut self) {
        for _ in 0..4 {
            if self.ui.dialog.is_none() {
                return;
            }
            self.press(KeyCode::Esc);
        }
    }

    fn phase_started(&self) -> bool {
        self.s
            .st
            .phases
            .iter()
            .any(|p| p.status != PhaseStatus::Pending)
    }

    /// Tick the open items of the checklist shown; whether there were any.
    fn tick_all(&mut self) -> bool {
        let mut any = false;
        loop {
            let items = current_items(&self.s.ahead, &self.s.rb);
            let Some(i) = items
                .iter()
                .position(|(l, i, _)| self.s.ahead.ticked(l, i).is_none())
            else {
                return any;
            };
            self.ui.checklist_sel = i;
            let before = self.s.ahead.events;
            self.press(KeyCode::Char(' '));
            if self.s.ahead.events == before {
                return any;
            }
            any = true;
        }
    }

    /// The straight path, one move: tick, sign GO, flip what the rollout needs, advance.
    /// False when the plan is complete or a move could not be made.
    async fn step_plan(&mut self) -> bool {
        if !self.idle().await {
            self.failed = Some("an action never finished".into());
            return false;
        }
        if let Some(a) = self.s.st.actions.last()
            && let Outcome::Failed(e) = &a.outcome
            && a.finished_at.is_some()
            && self.failed.is_none()
            && !matches!(a.action, Action::Rollback { .. })
            && self
                .s
                .st
                .current_phase()
                .is_some_and(|i| self.s.st.phases[i].failed.is_some())
        {
            self.failed = Some(format!(
                "{} failed: {}",
                a.action.label(),
                crate::text::clean(e)
            ));
            return false;
        }
        if self.plan_complete() {
            return false;
        }
        if self.tick_all() {
            return self.idle().await;
        }
        if !self.phase_started() && !self.s.st.decision.as_ref().is_some_and(|d| d.is_go()) {
            self.press(KeyCode::Char('g'));
            return self.confirm().await;
        }
        let rb = self.s.rb.clone();
        let in_rollout = self
            .s
            .st
            .current_phase()
            .is_some_and(|i| rb.phases[i].id.value == rb.rollout.phase.value);
        if in_rollout
            && let Some((flag, want)) = rb
                .rollout
                .requires_flags
                .iter()
                .find(|(f, v)| self.s.st.flags.get(*f) != Some(*v))
        {
            return self.flip(flag, want).await;
        }
        self.press(KeyCode::Char('a'));
        if self.ui.dialog.is_none() {
            self.failed = Some(format!(
                "advance (a) opened nothing: {}",
                self.ui.message.clone().unwrap_or_default()
            ));
            return false;
        }
        self.confirm().await
    }

    fn plan_complete(&self) -> bool {
        self.s
            .st
            .phases
            .iter()
            .all(|p| p.status == PhaseStatus::Done)
    }

    async fn flip(&mut self, flag: &str, to: &serde_json::Value) -> bool {
        let Some(i) = self.s.rb.flags.iter().position(|f| f.id.value == flag) else {
            self.failed = Some(format!("the runbook has no flag `{flag}`"));
            return false;
        };
        self.ui.flag_sel = i;
        self.press(KeyCode::Char('f'));
        match self.proposal().map(|p| p.action) {
            Some(Action::FlipFlag { to: ref v, .. }) if v == to => self.confirm().await,
            other => {
                self.dismiss();
                self.failed = Some(format!(
                    "f on `{flag}` would not set it to {to} ({}); the console flips booleans",
                    other.map(|a| a.label()).unwrap_or_else(|| "nothing".into())
                ));
                false
            }
        }
    }

    async fn rollback(&mut self, procedure: &str) -> bool {
        let Some(i) = self
            .s
            .rb
            .procedures
            .iter()
            .position(|p| p.id.value == procedure)
        else {
            self.failed = Some(format!("the runbook has no procedure `{procedure}`"));
            return false;
        };
        self.dismiss();
        self.press(KeyCode::Char('r'));
        for _ in 0..i {
            self.press(KeyCode::Down);
        }
        self.press(KeyCode::Enter);
        self.confirm().await
    }

    async fn override_blocked(&mut self, reason: &str) -> bool {
        let Some(p) = self.proposal().filter(|p| p.verdict() == Verdict::Blocked) else {
            self.failed = Some("override: no blocked move to override".into());
            return false;
        };
        self.key(KeyCode::Char('o'), KeyModifiers::CONTROL);
        if self.stage() != Some(Stage::Override) {
            self.failed = Some(format!(
                "override refused: {}",
                self.dialog_error().unwrap_or_default()
            ));
            self.dismiss();
            return false;
        }
        self.type_str(&p.override_phrase());
        self.press(KeyCode::Enter);
        self.type_str(reason);
        self.press(KeyCode::Enter);
        if self.ui.dialog.is_some() {
            self.failed = Some(format!(
                "override refused: {}",
                self.dialog_error().unwrap_or_default()
            ));
            self.dismiss();
            return false;
        }
        self.blocked = None;
        self.idle().await
    }

    /// Play one move; false stops the script (a failure; a blocked move does not stop it).
    pub async fn play(&mut self, index: usize, m: &Move) -> bool {
        match m {
            Move::Tick(_) => {
                self.dismiss();
                self.tick_all();
                self.idle().await
            }
            Move::Go(word) => {
                self.dismiss();
                self.press(KeyCode::Char('g'));
                if word.trim().eq_ignore_ascii_case("no-go") {
                    self.press(KeyCode::Down);
                }
                self.confirm().await;
                self.failed.is_none()
            }
            Move::Advance => {
                self.dismiss();
                self.press(KeyCode::Char('a'));
                self.confirm().await;
                self.failed.is_none()
            }
            Move::AdvanceTo(pct) => {
                self.dismiss();
                while self.s.st.rollout_percent(&self.s.rb) < *pct {
                    let before = self.s.st.events;
                    if !self.step_plan().await || self.s.st.events == before {
                        break;
                    }
                }
                self.failed.is_none()
            }
            Move::CompletePlan => {
                self.dismiss();
                while self.step_plan().await {}
                self.failed.is_none()
            }
            Move::Flip { flag, to } => {
                self.dismiss();
                self.flip(flag, to).await;
                self.failed.is_none()
            }
            Move::Switch(pool) => {
                self.dismiss();
                if self.s.st.pools.active == Some(*pool) {
                    return true;
                }
                self.press(KeyCode::Char('s'));
                self.confirm().await;
                self.failed.is_none()
            }
            Move::Rollback(p) => {
                self.rollback(p).await;
                self.failed.is_none()
            }
            Move::Override(reason) => self.override_blocked(reason).await,
            Move::Choose(name) => {
                self.choose.push(name.clone());
                true
            }
            Move::Wait(d) => {
                let end = tokio::time::Instant::now() + *d;
                self.until(*d, |_, _| tokio::time::Instant::now() >= end)
                    .await;
                self.failed.is_none()
            }
            Move::Expect(e) => {
                let (ok, detail) = self.check(e);
                self.expectations.push(ExpectationOut { index, ok, detail });
                true
            }
        }
    }

    /// The straight path to the end, or to where a gate blocks.
    pub async fn straight(&mut self) {
        while self.step_plan().await {}
    }
}
