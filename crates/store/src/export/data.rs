//! What the post-mortem reads from a log: the state folded with the console's own `apply`,
//! and what a fold keeps no trace of: every reading of every metric and the traffic share
//! over the whole log (for the charts, peaks and success criteria), the blocked attempts,
//! and when each step of an action answered.

use crate::Record;
use crate::engine::{self, Action, Event, State, Time};
use crate::runbook::Runbook;
use std::collections::BTreeMap;

/// Fold records into the state, as the console does.
pub fn fold(rb: &Runbook, records: &[Record]) -> Result<State, String> {
    let mut st = State::new(rb);
    for r in records {
        engine::apply(&mut st, rb, r.time()?, &r.event()?);
    }
    Ok(st)
}

/// An attempt whose gate failed: nothing ran.
pub struct Blocked {
    pub at: Time,
    pub operator: String,
    pub action: Action,
    /// The failing checks, each with its evidence.
    pub failing: Vec<String>,
}

/// A log, read for the post-mortem.
pub struct Postmortem<'a> {
    pub rb: &'a Runbook,
    pub records: &'a [Record],
    /// The state at the end of the log.
    pub st: State,
    pub first: Option<Time>,
    pub last: Option<Time>,
    /// Metric id → every value read, oldest first.
    pub readings: BTreeMap<String, Vec<(Time, f64)>>,
    /// The rollout's traffic share each time it changed, oldest first.
    pub shares: Vec<(Time, u32)>,
    pub blocked: Vec<Blocked>,
    /// `(action id, n)` → when the action's n-th finished step (0-based) answered.
    pub step_at: BTreeMap<(u64, usize), Time>,
}

impl<'a> Postmortem<'a> {
    pub fn gather(rb: &'a Runbook, records: &'a [Record]) -> Result<Postmortem<'a>, String> {
        let mut st = State::new(rb);
        let mut readings: BTreeMap<String, Vec<(Time, f64)>> = BTreeMap::new();
        let mut shares: Vec<(Time, u32)> = Vec::new();
        let mut blocked = Vec::new();
        let mut step_at = BTreeMap::new();
        let mut steps_seen: BTreeMap<u64, usize> = BTreeMap::new();
        for r in records {
            let at = r.time()?;
            let ev = r.event()?;
            engine::apply(&mut st, rb, at, &ev);
            match &ev {
                Event::Observed(_) => {
                    for (id, m) in &st.metrics {
                        if let (Some(v), Some(t)) = (m.last, m.last_at)
                            && t == at
                        {
                            readings.entry(id.clone()).or_default().push((at, v));
                        }
                    }
                }
                Event::ActionBlocked { action, checks, .. } => blocked.push(Blocked {
                    at,
                    operator: r.operator.clone(),
                    action: action.clone(),
                    failing: failing(checks),
                }),
                Event::StepFinished { id, .. } => {
                    let n = steps_seen.entry(*id).or_default();
                    step_at.insert((*id, *n), at);
                    *n += 1;
                }
                _ => {}
            }
            let share = st.traffic_share(rb);
            if shares.last().is_none_or(|&(_, s)| s != share) {
                shares.push((at, share));
            }
        }
        Ok(Postmortem {
            rb,
            records,
            first: records.first().and_then(|r| r.time().ok()),
            last: records.last().and_then(|r| r.time().ok()),
            st,
            readings,
            shares,
            blocked,
            step_at,
        })
    }

    /// A metric's readings over the whole log (none when it was never read).
    pub fn readings(&self, metric: &str) -> &[(Time, f64)] {
        self.readings.get(metric).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The end of the log: what a stretch that still lasts is measured to.
    pub fn end(&self) -> Time {
        self.last.or(self.st.now).unwrap_or_default()
    }
}

/// The checks of a gate that failed, each with its evidence.
pub fn failing(checks: &[engine::Check]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| !c.pass)
        .map(|c| format!("{} ({})", c.name, c.evidence))
        .collect()
}

/// The one timestamp format of the post-mortem, in every format and table (UTC).
pub fn ts(t: Time) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A time of day on a chart's axis and beside its marks (UTC).
pub fn hms(t: Time) -> String {
    t.format("%H:%M:%S").to_string()
}

/// How long from `a` to `b`, as the runbook writes durations.
pub fn dur(a: Time, b: Time) -> String {
    crate::runbook::fmt_duration((b - a).to_std().unwrap_or_default())
}
