//! The gate's checks: one function each, of a kind (`runbook::CheckKey`) that a runbook's
//! `no_override` names, with the evidence behind its verdict.

use crate::engine::action::Check;
use crate::engine::alerts::{MetricLevel, alert_value};
use crate::engine::rules::pool_healthy;
use crate::engine::state::{ApprovalState, State, percent_of};
use crate::runbook::{CheckKey, Direction, Metric, PoolName, Runbook, StepKind, fmt_duration};

/// A check of kind `key`.
pub(super) fn check(
    key: CheckKey,
    name: impl Into<String>,
    pass: bool,
    evidence: impl Into<String>,
) -> Check {
    Check {
        name: name.into(),
        pass,
        evidence: evidence.into(),
        key: Some(key),
        overridable: true,
    }
}

/// A check that no override may ever pass: what it guards cannot be wished away (another
/// action running, a procedure that does not exist).
pub(super) fn hard(mut c: Check) -> Check {
    c.overridable = false;
    c
}

pub(super) fn checklist_check<'a>(
    st: &State,
    list: &str,
    items: impl Iterator<Item = &'a str>,
) -> Check {
    let items: Vec<&str> = items.collect();
    let missing: Vec<&str> = items
        .iter()
        .copied()
        .filter(|i| st.ticked(list, i).is_none())
        .collect();
    check(
        CheckKey::Checklist,
        format!("checklist {list} complete"),
        missing.is_empty(),
        if missing.is_empty() {
            format!("{}/{} ticked", items.len(), items.len())
        } else {
            format!(
                "{}/{} ticked; open: {}",
                items.len() - missing.len(),
                items.len(),
                missing.join(", ")
            )
        },
    )
}

pub(super) fn metric_check(st: &State, rb: &Runbook, id: &str) -> Check {
    let def = rb.metric(id);
    let level = st.metric_level(rb, id);
    let value = st.metrics.get(id).and_then(|m| m.last);
    let name = def.map(|d| d.name.as_str()).unwrap_or(id);
    let unit = def.map(|d| d.unit.as_str()).unwrap_or("");
    let crit = def
        .and_then(|d| d.critical.as_ref())
        .map(|c| format!(" (critical {} {} {unit})", cmp_word(def), fmt_num(c.value)))
        .unwrap_or_default();
    check(
        CheckKey::Metric,
        format!("{name} not critical"),
        matches!(level, MetricLevel::Ok | MetricLevel::Warning),
        match value {
            Some(v) if level != MetricLevel::Stale => format!("{} {unit}{crit}", fmt_num(v)),
            _ => "no fresh value (stale)".into(),
        },
    )
}

fn cmp_word(def: Option<&Metric>) -> &'static str {
    match def.map(|d| d.direction) {
        Some(Direction::Below) => "<",
        _ => ">",
    }
}

pub fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The part of a source that answers one-shot SQL check `id`: its readings and errors are
/// named `<source>:once:<id>`.
pub fn once_part(id: &str) -> String {
    format!("once:{id}")
}

/// Whether one-shot SQL check `id` has answered (or failed to) since it was last asked for,
/// and was asked since `since` (the phase's start).
pub fn once_answered(st: &State, id: &str, since: Option<crate::engine::Time>) -> bool {
    let Some(asked) = st
        .sql_asked
        .get(id)
        .filter(|a| since.is_none_or(|p| **a >= p))
    else {
        return false;
    };
    st.metrics
        .get(id)
        .is_some_and(|s| s.last_at.is_some_and(|at| at >= *asked))
}

/// A one-shot SQL check on completing its phase: passes when it answered since the phase
/// started and the answer meets its condition; the answer (or the error) is the evidence.
pub(super) fn once_check(
    st: &State,
    rb: &Runbook,
    m: &Metric,
    since: Option<crate::engine::Time>,
) -> Check {
    let id = &m.id.value;
    let cond = m
        .once_check()
        .map(|(_, h)| crate::engine::condition_words(rb, &h))
        .unwrap_or_else(|| id.clone());
    let answer = once_answered(st, id, since)
        .then(|| st.metrics.get(id).map(|s| (s.last, s.last_at)))
        .flatten();
    // Whichever source answers it reports its failure under `once:<id>`.
    let part = once_part(id);
    let error = st
        .source_errors
        .iter()
        .find(|(k, _)| k.part.as_deref() == Some(part.as_str()))
        .map(|(_, e)| e)
        .filter(|_| once_answered(st, id, since));
    let met = |v: f64| m.once_check().is_some_and(|(_, h)| h.met(v));
    let (pass, evidence) = match (answer, error) {
        (Some((Some(v), Some(at))), _) => (
            met(v),
            format!(
                "answered {} at {}{}",
                if v.fract() == 0.0 && v.abs() < 1e15 {
                    format!("{v:.0}")
                } else {
                    fmt_num(v)
                },
                at.format("%H:%M:%S"),
                if met(v) { "" } else { ": not met" }
            ),
        ),
        (_, Some((e, _, _))) => (false, format!("no answer: {e}")),
        _ => (
            false,
            "not answered yet: it runs when the phase's completion is asked".into(),
        ),
    };
    check(
        CheckKey::SqlCheck,
        format!("{cond} (SQL, once)"),
        pass,
        evidence,
    )
}

/// A pool is healthy when a fresh reading lists servers and every one answers.
pub(super) fn pool_check(st: &State, rb: &Runbook, pool: PoolName) -> Check {
    let (ok, n) = st.pools.healthy(pool);
    let fresh = st.pools_fresh(rb);
    let age = st
        .age(st.pools.observed_at)
        .map(|a| format!(", read {} ago (stale)", fmt_duration(a)))
        .unwrap_or_default();
    check(
        CheckKey::PoolHealthy,
        format!("{pool} pool healthy"),
        fresh && pool_healthy(st, pool),
        match (st.pools.observed_at, fresh) {
            (None, _) => "no health reading yet".to_string(),
            (Some(_), true) => format!("{ok}/{n} healthy"),
            (Some(_), false) => format!("{ok}/{n} healthy{age}"),
        },
    )
}

/// No critical alert firing: each with the metric's value now, not at firing.
pub(super) fn no_critical(st: &State, rb: &Runbook) -> Check {
    let firing: Vec<String> = st
        .critical_firing()
        .map(|a| {
            let now = alert_value(st, a);
            let unit = rb.metric(&a.metric).map(|m| m.unit.as_str()).unwrap_or("");
            format!(
                "{} {}{}{unit}",
                a.metric,
                now.map(fmt_num).unwrap_or_else(|| "?".into()),
                if unit.is_empty() { "" } else { " " }
            )
            .trim_end()
            .to_string()
        })
        .collect();
    check(
        CheckKey::NoCriticalAlert,
        "no critical alert firing",
        firing.is_empty(),
        if firing.is_empty() {
            "none firing".into()
        } else {
            format!("firing: {}", firing.join(", "))
        },
    )
}

pub(super) fn idle_check(st: &State) -> Check {
    let running = st.running();
    hard(check(
        CheckKey::Idle,
        "no other action running",
        running.is_none(),
        match running {
            Some(a) if a.approval == Some(ApprovalState::Awaiting) => {
                format!("#{} {} awaits approval", a.id, a.action.label())
            }
            Some(a) => format!("#{} {} is running", a.id, a.action.label()),
            None => "idle".to_string(),
        },
    ))
}

/// Where a step moves traffic: the pool that gains it.
pub(super) fn traffic_to(step: &StepKind, rb: &Runbook) -> Option<PoolName> {
    match step {
        StepKind::SwitchPool(p) => Some(*p),
        StepKind::SetWeights { green } => Some(if *green > 0 {
            PoolName::Green
        } else {
            PoolName::Blue
        }),
        StepKind::SetFlag(f) if f.flag == rb.rollout.flag.value => {
            Some(if percent_of(&f.value).unwrap_or(0) > 0 {
                rb.rollout.pool
            } else {
                rb.rollout.pool.other()
            })
        }
        _ => None,
    }
}

/// The checks every move of traffic passes, whichever key asked for it (a rollout step, a
/// switch, a phase that switches): the pool that gains traffic is healthy by a fresh reading
/// and, when it is the rollout's pool, its gate metrics are not critical and no critical alert
/// is firing.
pub(super) fn traffic_checks(st: &State, rb: &Runbook, to: PoolName) -> Vec<Check> {
    let mut checks = vec![pool_check(st, rb, to)];
    if to == rb.rollout.pool {
        for m in &rb.rollout.gate {
            checks.push(metric_check(st, rb, &m.value));
        }
        checks.push(no_critical(st, rb));
    }
    checks
}
