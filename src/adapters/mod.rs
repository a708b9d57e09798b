//! Adapters run as tasks. They receive jobs (an action's steps) and send back observations
//! and step outcomes over channels; nobody shares state with the UI.

use crate::engine::{Observation, PlannedStep, Time};

/// An action's steps, to run in order after the request is in the audit log.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub steps: Vec<PlannedStep>,
    /// Only say what the steps would do (a server-side dry run) and change nothing; answered
    /// with `Report::Previewed`.
    pub preview: bool,
}

/// What adapters report. Each report carries the source clock's time of what it reports.
#[derive(Debug, Clone)]
pub enum Report {
    Observed {
        at: Time,
        observation: Observation,
    },
    StepFinished {
        id: u64,
        at: Time,
        step: usize,
        name: String,
        ok: bool,
        output: String,
    },
    /// What a preview job's steps would do, one line each.
    Previewed {
        id: u64,
        lines: Vec<String>,
    },
    /// All steps ran (ok) or one failed (not ok, with the error).
    Finished {
        id: u64,
        at: Time,
        ok: bool,
        detail: String,
    },
}
