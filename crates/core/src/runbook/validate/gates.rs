//! Checks of what gates and aborts: `no_override` names known checks and actions, each
//! `abort_on` rule names metrics, phases and a procedure that exist, and the rollout names its
//! flag, phase and gate metrics, with steps that increase.

use super::{Ids, at, value_fits};
use crate::runbook::{ActionKind, CheckKey, Diag, FlagKind, Runbook};
use strum::IntoEnumIterator;

/// Each `no_override` entry names a kind of check (and of action) that exists.
pub(super) fn no_override(rb: &Runbook, out: &mut Vec<Diag>) {
    for n in &rb.no_override {
        if !n
            .key()
            .is_some_and(|k| CheckKey::nameable().any(|x| x == k))
        {
            out.push(
                Diag::error(
                    at(&n.check),
                    format!("no_override names unknown check `{}`", n.check.value),
                )
                .hint(format!(
                    "checks: {}",
                    CheckKey::nameable()
                        .map(CheckKey::name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
        if let Some(a) = &n.action
            && a.value.parse::<ActionKind>().is_err()
        {
            out.push(
                Diag::error(
                    at(a),
                    format!("no_override names unknown action `{}`", a.value),
                )
                .hint(format!(
                    "actions: {}",
                    ActionKind::iter()
                        .map(ActionKind::name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
    }
}

/// Each `abort_on` rule names what exists, has a countdown, and percents that are rollout steps.
pub(super) fn abort_on(
    rb: &Runbook,
    metrics: &Ids,
    phases: &Ids,
    procedures: &Ids,
    out: &mut Vec<Diag>,
) {
    for (i, r) in rb.abort_on.iter().enumerate() {
        let what = format!("abort_on[{}]", i + 1);
        if r.metrics.is_empty() {
            out.push(
                Diag::error(at(&r.procedure), format!("{what} names no metrics"))
                    .hint("e.g. metrics: [error_rate]"),
            );
        }
        for m in &r.metrics {
            metrics.check_ref(m, &format!("{what}.metrics"), out);
        }
        for p in &r.phases {
            phases.check_ref(p, &format!("{what}.phases"), out);
        }
        procedures.check_ref(&r.procedure, &format!("{what}.procedure"), out);
        if r.countdown.is_zero() {
            out.push(
                Diag::error(at(&r.procedure), format!("{what}: countdown is zero"))
                    .hint("the lead needs time to read and cancel it: e.g. countdown: 60s"),
            );
        }
        for p in &r.percents {
            if !rb.rollout.steps.iter().any(|s| s.percent.value == *p) {
                out.push(Diag::error(
                    at(&r.procedure),
                    format!("{what}.percents: {p} % is not a rollout step"),
                ));
            }
        }
    }
}

/// The rollout: its flag is a percent flag, its phase exists, its steps increase within
/// 1..=100, its gate names metrics, the flags it requires exist and fit.
pub(super) fn rollout(rb: &Runbook, flags: &Ids, phases: &Ids, metrics: &Ids, out: &mut Vec<Diag>) {
    let ro = &rb.rollout;
    flags.check_ref(&ro.flag, "rollout.flag", out);
    if let Some(f) = rb.flag(&ro.flag.value)
        && f.kind != FlagKind::Percent
    {
        out.push(Diag::error(
            at(&ro.flag),
            format!(
                "rollout.flag `{}` is a {:?} flag; the rollout needs a percent flag",
                ro.flag.value, f.kind
            )
            .to_lowercase(),
        ));
    }
    phases.check_ref(&ro.phase, "rollout.phase", out);
    if ro.steps.is_empty() {
        out.push(
            Diag::error((1, 1), "rollout has no steps")
                .hint("e.g. steps: [{percent: 10, bake: 15m}, …, {percent: 100, bake: 0s}]"),
        );
    }
    let mut prev = 0u32;
    for s in &ro.steps {
        let p = s.percent.value;
        if p == 0 || p > 100 {
            out.push(Diag::error(
                at(&s.percent),
                format!("rollout step percent {p} is outside 1..=100"),
            ));
        } else if p <= prev {
            out.push(
                Diag::error(
                    at(&s.percent),
                    format!("rollout step {p} % does not increase on the step before ({prev} %)"),
                )
                .hint("list the steps in increasing order, e.g. 10, 25, 50, 100"),
            );
        }
        prev = prev.max(p);
    }
    // A step with no bake lets the next follow at once, before a single reading of it.
    for (s, next) in ro.steps.iter().zip(ro.steps.iter().skip(1)) {
        if s.bake.is_zero() {
            out.push(
                Diag::warning(
                    at(&s.percent),
                    format!(
                        "rollout step {} % has no bake: {} % may follow at once, before any reading of it",
                        s.percent.value, next.percent.value
                    ),
                )
                .hint("give it a bake the gate metrics can be watched for, e.g. bake: 15m"),
            );
        }
    }
    for g in &ro.gate {
        metrics.check_ref(g, "rollout.gate", out);
    }
    for (flag, value) in &ro.requires_flags {
        // The entry itself (its id's place), else `rollout.flag`.
        let place = ro
            .requires_flags
            .place(flag)
            .map(|l| (l.line().max(1), l.column().max(1)))
            .unwrap_or_else(|| at(&ro.flag));
        match rb.flag(flag) {
            None => out.push(Diag::error(
                place,
                format!("rollout.requires_flags names unknown flag `{flag}`"),
            )),
            Some(f) if !value_fits(f.kind, value) => out.push(Diag::error(
                place,
                format!("rollout.requires_flags: value {value} does not fit flag `{flag}`"),
            )),
            _ => {}
        }
    }
}
