//! Events: every change of state, as recorded in the audit log. The `kind` tag is the audit
//! record's kind, so code, screen and log use one name for one thing. `EventKind` is that kind
//! without the event's data, derived from `Event` so that a new variant has its kind.

use super::action::{Action, Check, Evidence, PlannedStep};
use super::observation::Observation;
use crate::runbook::PoolName;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{EnumDiscriminants, EnumIter, IntoStaticStr};

pub type Time = DateTime<Utc>;

/// One recorded change. Serialised with its kind first: `{"kind":"action_requested",…}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, EnumDiscriminants)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[strum_discriminants(
    name(EventKind),
    doc = "The kind of an event, as the audit record's `kind` column stores it.",
    derive(Hash, IntoStaticStr, EnumIter),
    strum(serialize_all = "snake_case")
)]
pub enum Event {
    SessionStarted {
        operator: String,
        mode: String,
        runbook: String,
        runbook_sha256: String,
        #[serde(default)]
        scenario: Option<String>,
        #[serde(default)]
        speed: Option<f64>,
        /// The log did not verify and was continued knowingly (`--continue-unverified`):
        /// what verify said, and where the old head file went.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        continued_unverified: Option<String>,
    },
    SessionEnded {
        operator: String,
    },
    /// What the sources reported: metric values, pools, flags, migrations.
    Observed(Observation),
    ChecklistTicked {
        checklist: String,
        item: String,
        /// Who decided (read from `by` in logs written before the rename).
        #[serde(alias = "by")]
        operator: String,
    },
    ChecklistUnticked {
        checklist: String,
        item: String,
        /// Who decided (read from `by` in logs written before the rename).
        #[serde(alias = "by")]
        operator: String,
    },
    /// Intent: written before the action runs, with the gate's checks and the evidence.
    ActionRequested {
        id: u64,
        action: Action,
        /// Who decided (read from `by` in logs written before the rename).
        #[serde(alias = "by")]
        operator: String,
        checks: Vec<Check>,
        evidence: Evidence,
        /// What will run, in order.
        steps: Vec<PlannedStep>,
        /// What a dry run said the steps would change, as the dialog showed it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        preview: Vec<String>,
        /// The operator's reason, for actions that ask for one (skipping a failed step).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The optional steps the operator chose to run (they are among `steps`); absent when
        /// none was chosen, and in logs written before optional steps could run.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        optional: Vec<String>,
    },
    /// The operator typed the confirmation phrase.
    ActionConfirmed {
        id: u64,
        phrase: String,
    },
    /// The operator overrode failing checks, with a reason.
    ActionOverridden {
        id: u64,
        reason: String,
    },
    /// A running action was stopped before it finished (a rollback took over); the steps
    /// recorded before this are what was done.
    ActionCancelled {
        id: u64,
        /// Who decided (read from `by` in logs written before the rename).
        #[serde(alias = "by")]
        operator: String,
        reason: String,
    },
    /// The operator tried an action whose gate failed; nothing ran.
    ActionBlocked {
        action: Action,
        /// Who decided (read from `by` in logs written before the rename).
        #[serde(alias = "by")]
        operator: String,
        checks: Vec<Check>,
        evidence: Evidence,
        /// What a dry run said the steps would change, as the dialog showed it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        preview: Vec<String>,
    },
    StepFinished {
        id: u64,
        step: usize,
        name: String,
        ok: bool,
        output: String,
    },
    ActionSucceeded {
        id: u64,
        detail: String,
    },
    ActionFailed {
        id: u64,
        error: String,
    },
    /// Found on start: an action was requested but no outcome was recorded.
    ActionOutcomeUnknown {
        id: u64,
    },
    /// Go/no-go signed.
    Decision {
        go: bool,
        /// Who decided (read from `by` in logs written before the rename).
        #[serde(alias = "by")]
        operator: String,
        role: String,
        /// Why (a NO-GO asks for one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The GO no longer holds: an item of a checklist it was signed on was unticked.
    DecisionWithdrawn {
        /// Who decided (read from `by` in logs written before the rename).
        #[serde(alias = "by")]
        operator: String,
        reason: String,
    },
    /// An auto-abort rule's condition held: its procedure runs when the countdown ends,
    /// unless the lead cancels it.
    AbortArmed {
        rule: usize,
        procedure: String,
        /// What triggered it, in words (metric, value, threshold).
        cause: String,
        countdown_secs: u64,
    },
    /// The lead stopped the countdown, with a reason.
    AbortCancelled {
        rule: usize,
        /// Who decided (read from `by` in logs written before the rename).
        #[serde(alias = "by")]
        operator: String,
        reason: String,
    },
    /// The countdown ran out: the procedure's request follows.
    AbortExpired {
        rule: usize,
    },
    /// The lead saw how a rollback ended (clears its result from the banner).
    RollbackAcknowledged {
        id: u64,
        /// Who decided (read from `by` in logs written before the rename).
        #[serde(alias = "by")]
        operator: String,
    },
    /// A pool server stopped answering its health check.
    ServerDown {
        pool: PoolName,
        address: String,
        error: String,
    },
    /// A server that was down answers again.
    ServerUp {
        pool: PoolName,
        address: String,
    },
    PhaseStarted {
        phase: String,
    },
    PhaseCompleted {
        phase: String,
    },
    AlertFired {
        metric: String,
        level: Level,
        value: Option<f64>,
        threshold: f64,
    },
    AlertResolved {
        metric: String,
        level: Level,
        value: Option<f64>,
    },
    /// Team mode: this operator's console leads the rollout from now on (it holds the
    /// rollout's writer lock). `previous`: the lead whose console stopped without ending its
    /// session, taken over after a typed confirmation.
    LeadTaken {
        operator: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<String>,
    },
    /// Team mode: the lead handed the rollout to the operator who asked for it (`L`, then `H`
    /// on the lead's console); the lead's console closes, the other's leads next.
    LeadHandedOver {
        operator: String,
        to: String,
    },
    /// An operator's remark (the lead's or an observer's): a line in the log. Foreign text,
    /// cleaned (`text::clean`) before it is recorded.
    Commented {
        operator: String,
        text: String,
    },
    /// An operator saw a firing alert (the lead or an observer): recorded with their name.
    AlertAcknowledged {
        metric: String,
        level: Level,
        operator: String,
    },
    /// Two-person rule: the action `id` (requested just before, by `operator`) waits for
    /// another operator's approval; nothing of it runs until then.
    ApprovalRequested {
        id: u64,
        operator: String,
    },
    /// Another operator approved the action `id`, with its gate's checks as their own console
    /// showed them; the lead's console then carries it out.
    ApprovalGiven {
        id: u64,
        operator: String,
        checks: Vec<Check>,
    },
    /// Another operator rejected the action `id`: it is not taken.
    ApprovalRejected {
        id: u64,
        operator: String,
    },
    /// A webhook's delivery of what record `seq` said: to which target (its name — never its
    /// URL, a secret), whether it was delivered, after how many attempts, and what answered.
    NotificationSent {
        target: String,
        seq: i64,
        ok: bool,
        attempts: u32,
        detail: String,
    },
    /// The operator asked to complete a phase with one-shot SQL checks: these are run now,
    /// and only an answer after this counts for the phase's gate.
    SqlCheckAsked {
        metrics: Vec<String>,
        operator: String,
    },
    /// Two-person rule: the lead's console (`operator`) carries out the approved action `id`.
    /// Written before anything of it runs — with what takes effect at once, for an action
    /// without steps (a GO, a phase change with none) — so that a console that starts later
    /// knows an approval nobody carried out from one whose steps may have run.
    ApprovalCarriedOut {
        id: u64,
        operator: String,
    },
    /// Two-person rule: an approved action that no lead's console carried out (approved while
    /// none ran) is not: the next lead's console (`operator`) records why when it opens. The
    /// action is not taken; it may be requested again.
    ApprovalExpired {
        id: u64,
        operator: String,
        reason: String,
    },
}

impl EventKind {
    /// What an operator did themselves — asked for an action, ticked an item, decided,
    /// stopped an abort, acknowledged a rollback: replay's `[` / `]` step between these.
    pub fn is_operator_action(self) -> bool {
        matches!(
            self,
            EventKind::ActionRequested
                | EventKind::ActionBlocked
                | EventKind::ChecklistTicked
                | EventKind::ChecklistUnticked
                | EventKind::Decision
                | EventKind::AbortCancelled
                | EventKind::RollbackAcknowledged
        )
    }

    /// The stored kinds of [`EventKind::is_operator_action`], for a reader that selects
    /// records by kind.
    pub fn operator_actions() -> Vec<&'static str> {
        use strum::IntoEnumIterator;
        EventKind::iter()
            .filter(|k| k.is_operator_action())
            .map(Into::into)
            .collect()
    }
}

impl Event {
    /// The audit kind, as stored in the `kind` column: the same word as the serialised
    /// event's `kind` tag (both are the variant's name in snake_case).
    pub fn kind(&self) -> &'static str {
        EventKind::from(self).into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Ok,
    Warning,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    /// Every kind, as the audit log has always written it: part of the audit format. A new
    /// variant fails here until its word is added.
    const KINDS: &[&str] = &[
        "session_started",
        "session_ended",
        "observed",
        "checklist_ticked",
        "checklist_unticked",
        "action_requested",
        "action_confirmed",
        "action_overridden",
        "action_cancelled",
        "action_blocked",
        "step_finished",
        "action_succeeded",
        "action_failed",
        "action_outcome_unknown",
        "decision",
        "decision_withdrawn",
        "abort_armed",
        "abort_cancelled",
        "abort_expired",
        "rollback_acknowledged",
        "server_down",
        "server_up",
        "phase_started",
        "phase_completed",
        "alert_fired",
        "alert_resolved",
        "lead_taken",
        "lead_handed_over",
        "commented",
        "alert_acknowledged",
        "approval_requested",
        "approval_given",
        "approval_rejected",
        "notification_sent",
        "sql_check_asked",
        "approval_carried_out",
        "approval_expired",
    ];

    /// One event of each kind, in the order of the variants.
    fn one_of_each() -> Vec<Event> {
        let s = String::new;
        let action = || Action::GoNoGo { go: true };
        vec![
            Event::SessionStarted {
                operator: s(),
                mode: s(),
                runbook: s(),
                runbook_sha256: s(),
                scenario: None,
                speed: None,
                continued_unverified: None,
            },
            Event::SessionEnded { operator: s() },
            Event::Observed(Observation::default()),
            Event::ChecklistTicked {
                checklist: s(),
                item: s(),
                operator: s(),
            },
            Event::ChecklistUnticked {
                checklist: s(),
                item: s(),
                operator: s(),
            },
            Event::ActionRequested {
                id: 1,
                action: action(),
                operator: s(),
                checks: Vec::new(),
                evidence: Evidence::default(),
                steps: Vec::new(),
                preview: Vec::new(),
                reason: None,
                optional: Vec::new(),
            },
            Event::ActionConfirmed { id: 1, phrase: s() },
            Event::ActionOverridden { id: 1, reason: s() },
            Event::ActionCancelled {
                id: 1,
                operator: s(),
                reason: s(),
            },
            Event::ActionBlocked {
                action: action(),
                operator: s(),
                checks: Vec::new(),
                evidence: Evidence::default(),
                preview: Vec::new(),
            },
            Event::StepFinished {
                id: 1,
                step: 0,
                name: s(),
                ok: true,
                output: s(),
            },
            Event::ActionSucceeded { id: 1, detail: s() },
            Event::ActionFailed { id: 1, error: s() },
            Event::ActionOutcomeUnknown { id: 1 },
            Event::Decision {
                go: true,
                operator: s(),
                role: s(),
                reason: None,
            },
            Event::DecisionWithdrawn {
                operator: s(),
                reason: s(),
            },
            Event::AbortArmed {
                rule: 0,
                procedure: s(),
                cause: s(),
                countdown_secs: 60,
            },
            Event::AbortCancelled {
                rule: 0,
                operator: s(),
                reason: s(),
            },
            Event::AbortExpired { rule: 0 },
            Event::RollbackAcknowledged {
                id: 1,
                operator: s(),
            },
            Event::ServerDown {
                pool: PoolName::Blue,
                address: s(),
                error: s(),
            },
            Event::ServerUp {
                pool: PoolName::Blue,
                address: s(),
            },
            Event::PhaseStarted { phase: s() },
            Event::PhaseCompleted { phase: s() },
            Event::AlertFired {
                metric: s(),
                level: Level::Critical,
                value: None,
                threshold: 1.0,
            },
            Event::AlertResolved {
                metric: s(),
                level: Level::Critical,
                value: None,
            },
            Event::LeadTaken {
                operator: s(),
                previous: None,
            },
            Event::LeadHandedOver {
                operator: s(),
                to: s(),
            },
            Event::Commented {
                operator: s(),
                text: s(),
            },
            Event::AlertAcknowledged {
                metric: s(),
                level: Level::Critical,
                operator: s(),
            },
            Event::ApprovalRequested {
                id: 1,
                operator: s(),
            },
            Event::ApprovalGiven {
                id: 1,
                operator: s(),
                checks: Vec::new(),
            },
            Event::ApprovalRejected {
                id: 1,
                operator: s(),
            },
            Event::NotificationSent {
                target: s(),
                seq: 1,
                ok: true,
                attempts: 1,
                detail: s(),
            },
            Event::SqlCheckAsked {
                metrics: Vec::new(),
                operator: s(),
            },
            Event::ApprovalCarriedOut {
                id: 1,
                operator: s(),
            },
            Event::ApprovalExpired {
                id: 1,
                operator: s(),
                reason: s(),
            },
        ]
    }

    #[test]
    fn every_kind_is_the_word_the_audit_log_has_always_written() {
        let kinds: Vec<&str> = EventKind::iter().map(<&str>::from).collect();
        assert_eq!(kinds, KINDS);
    }

    #[test]
    fn the_kind_column_is_the_serialised_kind_tag() {
        let events = one_of_each();
        let kinds: Vec<EventKind> = events.iter().map(EventKind::from).collect();
        assert_eq!(
            kinds,
            EventKind::iter().collect::<Vec<_>>(),
            "one event of each kind"
        );
        for ev in &events {
            let json = match serde_json::to_string(ev) {
                Ok(j) => j,
                Err(e) => panic!("{ev:?}: {e}"),
            };
            // The verifier reads a record's payload as `{"kind":"<kind column>",…}`.
            let tag = format!("{{\"kind\":\"{}\"", ev.kind());
            assert!(json.starts_with(&tag), "{json} does not start with {tag}");
        }
    }
}
