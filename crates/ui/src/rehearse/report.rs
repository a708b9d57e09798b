//! What a rehearsal found, as `--format json` prints it and as text.

use crate::engine::{self, Action, PhaseStatus};
use crate::runbook::PoolName;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckOut {
    pub name: String,
    pub pass: bool,
    pub evidence: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Blocked {
    pub action: String,
    pub checks: Vec<CheckOut>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RollbackOut {
    pub procedure: String,
    pub seconds: f64,
    pub target_seconds: Option<f64>,
    pub within_target: Option<bool>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ExpectationOut {
    pub index: usize,
    pub ok: bool,
    pub detail: String,
}

/// What a rehearsal found: `--format json` prints it as it is.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub completed: bool,
    pub phases_completed: Vec<String>,
    pub rollout_percent: u32,
    pub rollout_percent_max: u32,
    pub active_pool: Option<PoolName>,
    pub blocked: Option<Blocked>,
    /// An action that failed or a move the console could not make.
    pub failed: Option<String>,
    pub alerts_fired: Vec<String>,
    pub rollbacks: Vec<RollbackOut>,
    pub expectations: Vec<ExpectationOut>,
    pub virtual_seconds: f64,
    pub audit: String,
}

impl Report {
    /// 0 when the plan completed (or, with a script, every expectation held); 1 otherwise.
    pub fn exit_code(&self, scripted: bool) -> i32 {
        let ok = if scripted {
            self.failed.is_none() && self.expectations.iter().all(|e| e.ok)
        } else {
            self.completed && self.failed.is_none()
        };
        if ok { 0 } else { 1 }
    }

    pub fn text(&self) -> String {
        let mut out = vec![format!(
            "{} after {} (virtual): phases completed {}; rollout {} % (max {} %); active pool {}",
            if self.completed {
                "plan completed"
            } else {
                "plan not completed"
            },
            crate::runbook::fmt_duration(Duration::from_secs_f64(self.virtual_seconds)),
            if self.phases_completed.is_empty() {
                "none".to_string()
            } else {
                self.phases_completed.join(", ")
            },
            self.rollout_percent,
            self.rollout_percent_max,
            self.active_pool
                .map(|p| p.to_string())
                .unwrap_or("?".into()),
        )];
        if let Some(b) = &self.blocked {
            out.push(format!("BLOCKED: {}", b.action));
            for c in b.checks.iter().filter(|c| !c.pass) {
                out.push(format!("  ✗ {}: {}", c.name, c.evidence));
            }
        }
        if let Some(f) = &self.failed {
            out.push(format!("FAILED: {f}"));
        }
        if !self.alerts_fired.is_empty() {
            out.push(format!("alerts fired: {}", self.alerts_fired.join(", ")));
        }
        for r in &self.rollbacks {
            out.push(format!(
                "rollback {}: {:.0} s{}",
                r.procedure,
                r.seconds,
                match (r.target_seconds, r.within_target) {
                    (Some(t), Some(ok)) =>
                        format!(" (target {t:.0} s: {})", if ok { "within" } else { "OVER" }),
                    _ => String::new(),
                }
            ));
        }
        for e in &self.expectations {
            out.push(format!(
                "expect #{}: {} {}",
                e.index,
                if e.ok { "ok" } else { "FAILED" },
                e.detail
            ));
        }
        out.push(format!("audit log: {}", self.audit));
        out.join("\n")
    }
}

impl super::Driver {
    /// What the rehearsal found.
    pub fn report(&self) -> Report {
        let (st, rb) = (&self.s.st, &self.s.rb);
        let mut alerts: Vec<String> = Vec::new();
        for a in &st.alerts {
            if !alerts.contains(&a.metric) {
                alerts.push(a.metric.clone());
            }
        }
        Report {
            completed: self.plan_complete(),
            phases_completed: st
                .phases
                .iter()
                .zip(&rb.phases)
                .filter(|(p, _)| p.status == PhaseStatus::Done)
                .map(|(_, d)| d.id.value.clone())
                .collect(),
            rollout_percent: st.rollout_percent(rb),
            rollout_percent_max: st.rollout_max,
            active_pool: st.pools.active,
            blocked: self.blocked.clone(),
            failed: self.failed.clone(),
            alerts_fired: alerts,
            rollbacks: st
                .actions
                .iter()
                .filter_map(|a| {
                    let t = engine::rollback_timing(st, rb, a)?;
                    let Action::Rollback { procedure } = &a.action else {
                        return None;
                    };
                    Some(RollbackOut {
                        procedure: procedure.clone(),
                        seconds: t.took.as_secs_f64(),
                        target_seconds: t.target.map(|d| d.as_secs_f64()),
                        within_target: t.target.map(|_| !t.over_target()),
                    })
                })
                .collect(),
            expectations: self.expectations.clone(),
            virtual_seconds: self.started.elapsed().as_secs_f64() * self.s.clock.speed(),
            audit: self.s.audit.shown(),
        }
    }
}
