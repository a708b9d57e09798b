//! Adapters run as tasks. They receive jobs (an action's steps) and send back observations
//! and step outcomes over channels; nobody shares state with the UI.

use crate::engine::{Observation, PlannedStep, Time};
use tokio::sync::mpsc;

/// How many reports may wait for the session. An adapter this far ahead waits for it (a
/// reading is taken later, never lost in a queue that grows without bound).
pub const REPORT_QUEUE: usize = 256;
/// How many jobs may wait for the adapter that runs them.
pub const JOB_QUEUE: usize = 64;

/// Where an adapter sends its reports.
pub type ReportTx = mpsc::Sender<Report>;
/// Where an adapter receives its jobs.
pub type JobRx = mpsc::Receiver<Job>;

/// The channels between a session and its adapters: (jobs in, reports out) for the adapters,
/// (jobs out, reports in) for the session.
pub fn channels() -> (
    (mpsc::Sender<Job>, JobRx),
    (ReportTx, mpsc::Receiver<Report>),
) {
    (mpsc::channel(JOB_QUEUE), mpsc::channel(REPORT_QUEUE))
}

/// What the session asks of the adapter that carries out actions.
#[derive(Debug, Clone)]
pub enum Job {
    /// An action's steps, to run in order after the request is in the audit log.
    Run { id: u64, steps: Vec<PlannedStep> },
    /// The rest of action `id`'s steps, from step `from` on: after a step the engine ended
    /// (a `wait_until` whose condition held). An adapter stops at a step the engine ends and
    /// reports nothing of it: the engine writes its outcome from the readings.
    Continue {
        id: u64,
        steps: Vec<PlannedStep>,
        from: usize,
    },
    /// Only say what the steps would do (a server-side dry run) and change nothing; answered
    /// with `Report::Previewed`, at once, even while an action runs.
    Preview { id: u64, steps: Vec<PlannedStep> },
    /// Run these one-shot SQL checks (metrics with `once`) now, and report each answer as a
    /// reading of `<source>:once:<id>` (its error likewise). Nothing is changed.
    Once { metrics: Vec<String> },
    /// Stop action `id` where it is (a rollback took over): the step in progress is
    /// abandoned (a command's process group is killed) and nothing more of it runs.
    Cancel { id: u64 },
}

/// What adapters report. Each report carries the source clock's time of what it reports.
#[derive(Debug, Clone)]
// Readings are the common case: they travel by value through one channel, and boxing them
// would only add an allocation to each.
#[allow(clippy::large_enum_variant)]
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
    /// A webhook's delivery of record `seq`: its target's name, whether it was delivered,
    /// after how many attempts, what answered (never the URL).
    Notified {
        at: Time,
        target: String,
        seq: i64,
        ok: bool,
        attempts: u32,
        detail: String,
    },
}
