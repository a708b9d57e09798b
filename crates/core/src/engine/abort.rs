//! Auto-abort: a runbook rule (`abort_on`) that starts a rollback by itself when a critical
//! alert holds, after a countdown on the banner that the lead can cancel with a reason.

use super::action::*;
use super::event::*;
use super::gate::{Submission, Verdict, propose, submit};
use super::state::*;
use crate::runbook::{AbortLevel, AbortRule, Runbook, fmt_duration};

/// Who the record names when a countdown ran out and its procedure started.
pub const AUTO_ABORT: &str = "auto-abort";

fn min_level(rule: &AbortRule) -> Level {
    match rule.level {
        AbortLevel::Warning => Level::Warning,
        AbortLevel::Critical => Level::Critical,
    }
}

/// What makes rule `i` hold now, in words; `None` when it does not hold.
fn abort_cause(st: &State, rb: &Runbook, i: usize) -> Option<String> {
    let rule: &AbortRule = rb.abort_on.get(i)?;
    let now = st.now?;
    if !rule.phases.is_empty() {
        let cur = st.current_phase().map(|p| rb.phases[p].id.value.as_str())?;
        if !rule.phases.iter().any(|p| p.value == cur) {
            return None;
        }
    }
    if !rule.percents.is_empty() {
        let at = (st.rollout_step > 0).then(|| rb.step_percent(st.rollout_step))?;
        if !rule.percents.contains(&at) {
            return None;
        }
    }
    let min = min_level(rule);
    let since = st.abort_latched.get(&i).copied();
    st.firing().find_map(|a| {
        let named = rule.metrics.iter().any(|m| m.value == a.metric);
        let held = (now - a.fired_at).to_std().unwrap_or_default() >= rule.r#for;
        let fresh = since.is_none_or(|s| a.fired_at > s);
        (named && a.level >= min && held && fresh).then(|| {
            let m = rb.metric(&a.metric);
            let value = st.metrics.get(&a.metric).and_then(|m| m.last).or(a.value);
            format!(
                "{} {} {} for {}",
                m.map(|m| m.name.as_str()).unwrap_or(&a.metric),
                value.map(super::fmt_num).unwrap_or_else(|| "?".into()),
                a.level.as_str(),
                fmt_duration((now - a.fired_at).to_std().unwrap_or_default())
            )
        })
    })
}

/// Auto-abort transitions due at `st.now`: a rule that holds arms its countdown; a countdown
/// whose cause cleared stands down; one that ran out runs its procedure as if the lead had
/// confirmed it.
pub fn abort_transitions(st: &State, rb: &Runbook) -> Vec<Event> {
    let Some(now) = st.now else {
        return Vec::new();
    };
    if let Some(c) = &st.abort {
        let still = rb.abort_on.get(c.rule).is_some_and(|r| {
            st.firing()
                .any(|a| a.level >= min_level(r) && r.metrics.iter().any(|m| m.value == a.metric))
        });
        if !still {
            // The alert resolved before the countdown ended.
            return vec![Event::AbortCancelled {
                rule: c.rule,
                operator: AUTO_ABORT.into(),
                reason: "the alert that armed it resolved".into(),
            }];
        }
        if now < c.deadline {
            return Vec::new();
        }
        let mut out = vec![Event::AbortExpired { rule: c.rule }];
        let p = propose(
            st,
            rb,
            Action::Rollback {
                procedure: c.procedure.clone(),
            },
        );
        let blocked = p.verdict() == Verdict::Blocked;
        let sub = Submission {
            typed: if blocked {
                p.override_phrase()
            } else {
                p.phrase.clone().unwrap_or_default()
            },
            override_reason: blocked.then(|| format!("auto-abort countdown ran out: {}", c.cause)),
            ..Default::default()
        };
        match submit(st, rb, &p, AUTO_ABORT, &sub) {
            // Nobody typed anything: the expiry above is the confirmation.
            Ok(evs) => out.extend(
                evs.into_iter()
                    .filter(|e| !matches!(e, Event::ActionConfirmed { .. })),
            ),
            // A check no override may pass: the attempt is recorded, nothing runs.
            Err(_) => out
                .extend(submit(st, rb, &p, AUTO_ABORT, &Submission::default()).unwrap_or_default()),
        }
        return out;
    }
    // A rollback already running needs no countdown.
    if st
        .running()
        .is_some_and(|a| matches!(a.action, Action::Rollback { .. }))
    {
        return Vec::new();
    }
    for (i, rule) in rb.abort_on.iter().enumerate() {
        if let Some(cause) = abort_cause(st, rb, i) {
            return vec![Event::AbortArmed {
                rule: i,
                procedure: rule.procedure.value.clone(),
                cause,
                countdown_secs: rule.countdown.as_secs().max(1),
            }];
        }
    }
    Vec::new()
}

/// Cancelling the countdown: the lead's reason, recorded.
pub fn cancel_abort(st: &State, operator: &str, reason: &str) -> Option<Event> {
    let c = st.abort.as_ref()?;
    Some(Event::AbortCancelled {
        rule: c.rule,
        operator: operator.to_string(),
        reason: reason.trim().to_string(),
    })
}
