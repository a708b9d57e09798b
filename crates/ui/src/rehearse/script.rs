//! Rehearsal scripts: a YAML list of moves and expectations, checked against the runbook
//! before they run.

use crate::runbook::{PoolName, Runbook};
use serde::Deserialize;
use std::time::Duration;

/// One move or expectation of a script.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Move {
    /// Tick every open item of the checklist shown (`all`).
    Tick(String),
    /// Sign the go/no-go: `GO` or `NO-GO` (a NO-GO gives the script's reason).
    Go(String),
    /// `a` once: the next rollout step or the next phase.
    Advance,
    /// Advance until the rollout reaches this percent.
    AdvanceTo(u32),
    /// Follow the plan to its end.
    CompletePlan,
    /// Flip a flag (`f` on it): the value it must flip to.
    Flip { flag: String, to: serde_json::Value },
    /// Switch all traffic to a pool (`s`).
    Switch(PoolName),
    /// Run a rollback procedure (`r`, then the procedure).
    Rollback(String),
    /// Override the move that was blocked last, with this reason.
    Override(String),
    /// Choose an optional step (by name) to run when a dialog next lists it (`Tab` to it,
    /// `Ctrl-t`).
    Choose(String),
    /// Let virtual time pass (`30m`, `2h`).
    #[serde(with = "humantime_serde_dur")]
    Wait(Duration),
    /// What must hold now.
    Expect(Expect),
}

mod humantime_serde_dur {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(s.trim()).map_err(|e| {
            serde::de::Error::custom(format!("`{s}` is not a duration (e.g. 30s, 10m, 2h): {e}"))
        })
    }
}

/// An expectation: any subset of these.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub rollout_percent: Option<u32>,
    pub active_pool: Option<PoolName>,
    pub phase: Option<String>,
    pub blocked: Option<bool>,
    /// A failing check of the last blocked move whose name contains this.
    pub failing_check: Option<String>,
    pub alert_firing: Option<String>,
    /// This metric's alert is not firing now (it never fired, or it resolved).
    pub alert_not_firing: Option<String>,
    pub next_rollout_percent: Option<u32>,
}

/// A script: the moves, in order.
pub fn parse_script(text: &str) -> Result<Vec<Move>, String> {
    serde_saphyr::from_str(text).map_err(|e| e.to_string())
}

/// Check a runbook's id-like words against it before a script runs.
pub fn validate(moves: &[Move], rb: &Runbook) -> Result<(), String> {
    for (i, m) in moves.iter().enumerate() {
        let bad = match m {
            Move::Rollback(p) if rb.procedure(p).is_none() => Some(format!(
                "rollback `{p}`: the runbook's procedures are {}",
                rb.procedures
                    .iter()
                    .map(|p| p.id.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Move::Flip { flag, .. } if !rb.flags.iter().any(|f| &f.id.value == flag) => {
                Some(format!(
                    "flip `{flag}`: the runbook's flags are {}",
                    rb.flags
                        .iter()
                        .map(|f| f.id.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
            Move::Expect(e) => [&e.alert_firing, &e.alert_not_firing]
                .into_iter()
                .flatten()
                .find(|m| rb.metric(m).is_none())
                .map(|m| format!("expect: no metric `{m}` in the runbook")),
            Move::Choose(name)
                if !rb
                    .phases
                    .iter()
                    .flat_map(|p| p.on_start.iter())
                    .chain(rb.procedures.iter().flat_map(|p| p.steps.iter()))
                    .any(|s| s.optional && s.name.value == *name) =>
            {
                Some(format!(
                    "choose `{name}`: the runbook has no optional step of that name"
                ))
            }
            Move::Tick(w) if w != "all" => Some(format!("tick `{w}`: only `tick: all` is known")),
            Move::Go(w) if !["go", "no-go"].contains(&w.trim().to_lowercase().as_str()) => {
                Some(format!("go `{w}`: say GO or NO-GO"))
            }
            _ => None,
        };
        if let Some(b) = bad {
            return Err(format!("move {}: {b}", i + 1));
        }
    }
    Ok(())
}

impl super::Driver {
    /// Whether an expectation holds, and what was found.
    pub(super) fn check(&self, e: &Expect) -> (bool, String) {
        let (st, rb) = (&self.s.st, &self.s.rb);
        let mut found = Vec::new();
        let mut ok = true;
        let mut see = |name: &str, want: String, got: String| {
            let hold = want == got;
            ok &= hold;
            found.push(format!(
                "{name} {got}{}",
                if hold {
                    String::new()
                } else {
                    format!(" (expected {want})")
                }
            ));
        };
        if let Some(w) = e.rollout_percent {
            see(
                "rollout_percent",
                w.to_string(),
                st.rollout_percent(rb).to_string(),
            );
        }
        if let Some(w) = e.active_pool {
            see(
                "active_pool",
                w.to_string(),
                st.pools.active.map(|p| p.to_string()).unwrap_or("?".into()),
            );
        }
        if let Some(w) = &e.phase {
            let cur = st
                .current_phase()
                .map(|i| rb.phases[i].id.value.clone())
                .unwrap_or_else(|| "none".into());
            see("phase", w.clone(), cur);
        }
        if let Some(w) = e.blocked {
            see("blocked", w.to_string(), self.blocked.is_some().to_string());
        }
        if let Some(w) = &e.failing_check {
            let failing: Vec<&str> = self
                .blocked
                .iter()
                .flat_map(|b| b.checks.iter().filter(|c| !c.pass))
                .map(|c| c.name.as_str())
                .collect();
            let hit = failing
                .iter()
                .find(|n| n.to_lowercase().contains(&w.to_lowercase()));
            see(
                "failing_check",
                w.clone(),
                match hit {
                    Some(_) => w.clone(),
                    None => format!("[{}]", failing.join("; ")),
                },
            );
        }
        if let Some(w) = &e.alert_firing {
            let firing: Vec<String> = st.firing().map(|a| a.metric.clone()).collect();
            see(
                "alert_firing",
                w.clone(),
                if firing.contains(w) {
                    w.clone()
                } else {
                    format!("[{}]", firing.join(", "))
                },
            );
        }
        if let Some(w) = &e.alert_not_firing {
            let firing = st.firing().any(|a| &a.metric == w);
            see(
                "alert_not_firing",
                format!("{w} not firing"),
                if firing {
                    format!("{w} firing")
                } else {
                    format!("{w} not firing")
                },
            );
        }
        if let Some(w) = e.next_rollout_percent {
            let next = rb
                .rollout
                .steps
                .get(if st.rearm { 0 } else { st.rollout_step })
                .map(|s| s.percent.value.to_string())
                .unwrap_or_else(|| "none".into());
            see("next_rollout_percent", w.to_string(), next);
        }
        (ok, found.join(", "))
    }
}
