//! The runbook file's types. Keys are the plan's own words: phase, step, gate, check, pool,
//! flag, procedure. Unknown keys are errors so that a typo never silently disables a gate.
//!
//! Here: the document (`Runbook`, every top-level key). Its parts are in the files named after
//! what they describe: the plan, its steps, the systems, the metrics, the safety rules (gates)
//! and the reference notes; `dur` reads and writes durations.

pub mod dur;
mod gates;
mod metrics;
mod notes;
mod plan;
mod sim;
mod steps;
mod systems;

pub use gates::*;
pub use metrics::*;
pub use notes::*;
pub use plan::*;
pub use sim::*;
pub use steps::*;
pub use systems::*;

use serde::Deserialize;
use serde_saphyr::Spanned;

/// A reference to another thing in the runbook (a flag, a metric, a team …), with the place it
/// was written so that `warroom check` can point at it.
pub type Ref = Spanned<String>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runbook {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub objectives: Vec<String>,
    #[serde(default)]
    pub teams: Vec<Team>,
    #[serde(default)]
    pub infrastructure: Infrastructure,
    pub pools: Pools,
    pub flags: Vec<Flag>,
    pub rollout: Rollout,
    pub phases: Vec<Phase>,
    #[serde(default)]
    pub checklists: Vec<Checklist>,
    #[serde(default)]
    pub go_no_go: Option<GoNoGo>,
    pub metrics: Vec<Metric>,
    /// Faults of the plan's own for the simulator, next to the built-in scenarios.
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
    #[serde(default)]
    pub success_criteria: Vec<Criterion>,
    #[serde(default)]
    pub procedures: Vec<Procedure>,
    /// The calendar date of the plan's Day 1: the phases' and the timeline's day numbers are
    /// then shown as dates too.
    #[serde(default)]
    pub day_one: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub timeline: Vec<TimelineDay>,
    #[serde(default)]
    pub post_deployment: Vec<PostDeployment>,
    #[serde(default)]
    pub risks: Vec<Risk>,
    #[serde(default)]
    pub dashboards: Vec<Link>,
    #[serde(default)]
    pub communication: Communication,
    #[serde(default)]
    pub monitoring: Placed<Monitoring>,
    /// Where the real systems are (`warroom run`); the simulator ignores it.
    #[serde(default)]
    pub targets: Targets,
    /// Gate checks that no override may pass while they fail.
    #[serde(default)]
    pub no_override: Vec<NoOverride>,
    /// Auto-abort: rollback procedures that start by themselves when a rule holds, after a
    /// countdown the lead can cancel.
    #[serde(default)]
    pub abort_on: Vec<AbortRule>,
}
