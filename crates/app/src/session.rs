//! A session: the audit store and the adapters as tasks, and the state rebuilt from what the
//! store committed. The console drives one; so do the end-to-end tests, without a terminal.
//!
//! Events go to the store first; only committed records are applied to `st`, the state on
//! screen. Decisions that depend on what is already on its way to the store (alert
//! transitions, action ids, the auto-abort countdown) are taken on `ahead`: the committed
//! state with every queued batch applied. Every channel is bounded, and handling a message
//! never awaits one: writes to the store and jobs to the adapters are `try_send` (a queue that
//! full means the other side has stopped: the write is refused and said so), so `next()` is
//! safe to cancel in a `select!`; adapters wait on a full report queue instead of growing it.
//!
//! One file, over 400 lines: the write path, the commit path and the store task keep one
//! invariant between them (`ahead` is `st` plus what is queued), which is checked by reading
//! them together.

use crate::adapters::{Job, Report};
use crate::audit::{
    AuditStore, Location, PgStore, Record, Resumed, SNAPSHOT_EVERY, Snapshot, Snapshotter, Store,
};
use crate::clock::Clock;
use crate::engine::{self, Event, State, Time};
use crate::runbook::{Loaded, Runbook};
use crate::sim::{self, Scenario, World};
use chrono::Timelike;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::{Receiver, Sender, channel};
use tokio::task::JoinHandle;

/// A batch of events on its way to the store, stamped.
type Batch = std::sync::Arc<Vec<(Time, Event)>>;

/// How many batches may wait for the store. A store this far behind is stuck: readings are
/// then dropped (and said so), and an operator's action is refused, since its intent could
/// not be recorded before it takes effect.
pub const STORE_QUEUE: usize = 256;

/// What woke the session up.
#[derive(Debug, Clone, PartialEq)]
pub enum Wake {
    /// Records were committed and applied.
    Committed(Vec<Record>),
    /// An adapter reported; its events are on their way to the store.
    Reported,
    /// A dry run answered: `(preview id, lines)`.
    Previewed(u64, Vec<String>),
    /// The store failed to write; nothing of that batch was applied.
    WriteFailed(String),
    /// Team mode: an observer asks this console (the lead) to hand the rollout over.
    HandOverAsked(String),
    /// A task stopped.
    Closed,
}

/// How a session starts: which runbook, log and operator, and what the session record says.
pub struct Start<'a> {
    pub loaded: &'a Loaded,
    /// The log: an SQLite file, or a rollout in PostgreSQL.
    pub audit: &'a Location,
    pub operator: &'a str,
    /// `demo` or `run`.
    pub mode: &'a str,
    pub scenario: Option<&'a str>,
    pub speed: Option<f64>,
    /// The source clock runs on tokio's paused clock (a rehearsal, a test): the store then
    /// writes on the session's own thread, so that no virtual time passes while SQLite works.
    pub virtual_time: bool,
}

impl<'a> Start<'a> {
    /// A start on the real clock, with no scenario or speed recorded (`run`, and a test's own
    /// adapters).
    pub fn real(loaded: &'a Loaded, audit: &'a Location, operator: &'a str, mode: &'a str) -> Self {
        Start {
            loaded,
            audit,
            operator,
            mode,
            scenario: None,
            speed: None,
            virtual_time: false,
        }
    }
}

pub struct Session {
    pub rb: Runbook,
    /// What the store has committed: what the screen shows.
    pub st: State,
    /// `st` with every batch still on its way to the store applied: what decisions are
    /// taken on, so that nothing is decided twice.
    pub ahead: State,
    /// Batches sent to the store and not yet committed, oldest first.
    pending: std::collections::VecDeque<Batch>,
    pub clock: Clock,
    pub operator: String,
    pub audit: Location,
    /// The newest record's hash.
    pub head: String,
    /// Lines for the log pane (what happened, in the source clock's time).
    pub log: Vec<String>,
    store_tx: Sender<Batch>,
    commit_rx: Receiver<Stored>,
    /// Readings dropped because the store was behind, not yet said in the log.
    dropped: usize,
    job_tx: Sender<Job>,
    report_rx: Receiver<Report>,
    tasks: Vec<JoinHandle<()>>,
    store_task: Option<JoinHandle<()>>,
    previews: u64,
    /// Team mode: observers asking to lead (from the store's listener).
    requests: Option<Receiver<String>>,
    /// The operator who asked last, for `H` to hand the lead to.
    pub asked: Option<String>,
    /// The webhooks' queues (none when the runbook names no target).
    notifier: Option<crate::real::webhook::Notifier>,
}

/// Events to write when a session opens: the session record, and a finding for every action
/// whose outcome was never recorded (a crash between intent and outcome).
pub fn startup_events(
    st: &State,
    operator: &str,
    mode: &str,
    loaded: &Loaded,
    scenario: Option<&str>,
    speed: Option<f64>,
) -> Vec<Event> {
    let mut evs = vec![Event::SessionStarted {
        operator: operator.to_string(),
        mode: mode.to_string(),
        runbook: loaded.path.display().to_string(),
        runbook_sha256: loaded.sha256.clone(),
        scenario: scenario.map(|s| s.to_string()),
        speed,
        continued_unverified: None,
    }];
    evs.extend(engine::found_on_open(st, operator));
    evs
}

impl Session {
    /// Open (or resume) an audit log and start the simulator.
    pub async fn start_demo(
        loaded: &Loaded,
        audit: impl Into<Location>,
        operator: &str,
        speed: f64,
        scenario: Scenario,
    ) -> Result<Session, String> {
        Session::start_sim(loaded, audit, operator, speed, scenario, "demo", false).await
    }

    /// The simulator on virtual time (`warroom rehearse`): the runtime's clock must be
    /// paused (a current-thread runtime started paused), so that hours of bake pass as soon
    /// as nothing is left to do. Recorded as mode `rehearse`. `speed` maps the runtime's
    /// clock to the source clock as in a demo (1 for the finest timing).
    pub async fn start_rehearsal(
        loaded: &Loaded,
        audit: impl Into<Location>,
        operator: &str,
        speed: f64,
        scenario: Scenario,
    ) -> Result<Session, String> {
        Session::start_sim(loaded, audit, operator, speed, scenario, "rehearse", true).await
    }

    async fn start_sim(
        loaded: &Loaded,
        audit: impl Into<Location>,
        operator: &str,
        speed: f64,
        scenario: Scenario,
        mode: &str,
        virtual_time: bool,
    ) -> Result<Session, String> {
        let audit = audit.into();
        let label = scenario.label(&loaded.runbook);
        let how = Start {
            loaded,
            audit: &audit,
            operator,
            mode,
            scenario: Some(&label),
            speed: Some(speed),
            virtual_time,
        };
        Session::start(how, |st, jobs, reports| {
            // Simulated time continues from the last record when a log is resumed.
            let clock = Clock::new(st.now.unwrap_or_else(chrono::Utc::now), speed);
            let mut world = World::new(&loaded.runbook, scenario, 0x5eed_2026);
            world.resume(st);
            let task = tokio::spawn(sim::run(
                world,
                clock,
                loaded.runbook.monitoring.every(),
                jobs,
                reports,
            ));
            (clock, vec![task])
        })
        .await
    }

    /// Open (or resume) an audit log and start the real systems the runbook's targets name
    /// (`warroom run`), on the real clock.
    pub async fn start_run(
        loaded: &Loaded,
        audit: impl Into<Location>,
        operator: &str,
    ) -> Result<Session, String> {
        let audit = audit.into();
        let how = Start::real(loaded, &audit, operator, "run");
        let rb = loaded.runbook.clone();
        Session::start(how, move |st, jobs, reports| {
            crate::real::spawn(&rb, st, jobs, reports)
        })
        .await
    }

    /// Open (or resume) an audit log and start the adapters `spawn` returns, with the clock
    /// they run on.
    pub async fn start(
        how: Start<'_>,
        spawn: impl FnOnce(
            &State,
            crate::adapters::JobRx,
            crate::adapters::ReportTx,
        ) -> (Clock, Vec<JoinHandle<()>>),
    ) -> Result<Session, String> {
        let rb = how.loaded.runbook.clone();
        let (store_tx, store_rx) = channel(STORE_QUEUE);
        let (commit_tx, commit_rx) = channel(STORE_QUEUE);
        // A rollout in PostgreSQL is named after the runbook unless told otherwise.
        let audit = how
            .audit
            .clone()
            .or_rollout(&crate::audit::default_rollout(&how.loaded.path));
        // The store task writes through whichever store the location names.
        let mut requests = None;
        // The state is the newest state snapshot that matches the chain and the records after
        // it, folded; the store task keeps taking snapshots as it commits.
        let basis = crate::audit::Basis {
            rb: &rb,
            runbook_sha256: &how.loaded.sha256,
        };
        let sha = &how.loaded.sha256;
        let (resumed, store_task) = match &audit {
            Location::File(path) => {
                let (store, resumed) = Store::resume(path, how.operator, basis).await?;
                let store = if how.virtual_time {
                    store.write_inline()
                } else {
                    store
                };
                let snaps = Snapshots::after(&rb, sha, &resumed);
                let task = tokio::spawn(store_loop(store, snaps, store_rx, commit_tx));
                (resumed, task)
            }
            Location::Postgres { url, rollout } => {
                let rollout = rollout.as_deref().unwrap_or_default();
                let (mut store, resumed) =
                    PgStore::resume(url, rollout, how.operator, basis).await?;
                requests = store.take_requests();
                let snaps = Snapshots::after(&rb, sha, &resumed);
                let task = tokio::spawn(store_loop(store, snaps, store_rx, commit_tx));
                (resumed, task)
            }
        };
        let st = resumed.state;
        let records = resumed.tail;
        let ((job_tx, job_rx), (report_tx, report_rx)) = crate::adapters::channels();
        let notified = report_tx.clone();
        let (clock, mut tasks) = spawn(&st, job_rx, report_tx);
        // Webhooks: a task per target, told what was committed without waiting — from
        // `warroom run` only: a demo or a rehearsal must not tell the company chat that
        // production rolled back.
        let (notifier, webhooks, mut left_out) = if how.mode == "run" {
            crate::real::webhook::spawn(&rb, &|v| std::env::var(v).ok(), clock, notified)
        } else {
            (None, Vec::new(), Vec::new())
        };
        let n = rb.communication.webhooks.len();
        if n > 0 && how.mode != "run" {
            left_out.push(format!(
                "{n} webhook{} not used in a {}: they post from `warroom run`",
                if n == 1 { "" } else { "s" },
                how.mode
            ));
        }
        tasks.extend(webhooks);
        let head = if resumed.head.0 > 0 {
            resumed.head.1.clone()
        } else {
            String::new()
        };
        let mut s = Session {
            log: records.iter().filter_map(|r| line(&rb, r)).collect(),
            rb,
            ahead: st.clone(),
            pending: Default::default(),
            st,
            clock,
            operator: how.operator.to_string(),
            audit: audit.clone(),
            head,
            store_tx,
            commit_rx,
            job_tx,
            report_rx,
            tasks,
            store_task: Some(store_task),
            previews: 0,
            dropped: 0,
            requests,
            asked: None,
            notifier,
        };
        s.log.extend(left_out);
        s.log.extend(resumed.notes);
        if resumed.head.0 > 0 {
            s.log.push(match resumed.snapshot {
                Some(seq) => format!(
                    "resumed from {} ({} records; the state snapshot after seq {seq} and the {} records after it — the log above starts there)",
                    audit.shown(),
                    resumed.head.0,
                    records.len()
                ),
                None => format!("resumed from {} ({} records)", audit.shown(), resumed.head.0),
            });
        }
        let mut first = startup_events(
            &s.st,
            how.operator,
            how.mode,
            how.loaded,
            how.scenario,
            how.speed,
        );
        // Team mode: this console holds the rollout's writer lock, so it leads (taking over
        // from a lead whose console stopped). So does a console on a file someone led before.
        if matches!(audit, Location::Postgres { .. }) || s.st.lead.is_some() {
            first.push(Event::LeadTaken {
                operator: how.operator.to_string(),
                previous: engine::lead_to_take_over(&s.st, how.operator)
                    .map(|l| l.operator.clone()),
            });
        }
        s.write(first);
        Ok(s)
    }

    /// Team mode: the session writes a rollout in PostgreSQL, which other consoles follow.
    pub fn team(&self) -> bool {
        matches!(self.audit, Location::Postgres { .. })
    }

    /// Hand the lead to the operator who asked (`H`): recorded with both names; once it is
    /// committed this console no longer acts, and closes.
    pub fn hand_over(&mut self) -> Result<String, String> {
        let Some(to) = self.asked.clone() else {
            return Err("nobody has asked to lead (an observer asks with L)".into());
        };
        self.command(vec![Event::LeadHandedOver {
            operator: self.operator.clone(),
            to: to.clone(),
        }])?;
        Ok(format!("handing the lead to {to}"))
    }

    /// An operator's command (what a key asks for): written when the engine lets this
    /// console's operator act — in team mode, only the lead — else refused with why.
    pub fn command(&mut self, events: Vec<Event>) -> Result<(), String> {
        if let Err(why) = engine::may_write(&self.ahead, &self.operator, &events) {
            self.log.push(format!("refused: {why}"));
            return Err(why);
        }
        self.write(events);
        Ok(())
    }

    /// Send events to the store, stamped with the source clock. They take effect when the
    /// store has committed them.
    pub fn write(&mut self, events: Vec<Event>) {
        let now = self.clock.now();
        self.write_at(now, events);
    }

    /// Send events stamped with a given time (an adapter's own reading of the clock); never
    /// earlier than what is already applied, so the log's time only moves forward. The
    /// alert and auto-abort transitions they make due go with them.
    pub fn write_at(&mut self, at: Time, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        // To the millisecond, as the store writes it: what is applied ahead is then exactly
        // what the commit applies.
        let at = at
            .with_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(at);
        let now = self.ahead.now.map_or(at, |n| n.max(at));
        let mut batch: Vec<(Time, Event)> = Vec::with_capacity(events.len());
        for e in events {
            engine::apply(&mut self.ahead, &self.rb, now, &e);
            batch.push((now, e));
        }
        // Transitions are decided on everything already queued, so none is written twice.
        for _ in 0..4 {
            let mut due = engine::alert_transitions(&self.ahead, &self.rb);
            due.extend(engine::abort_transitions(&self.ahead, &self.rb));
            due.extend(engine::wait_transitions(&self.ahead, &self.rb));
            if due.is_empty() {
                break;
            }
            for e in due {
                engine::apply(&mut self.ahead, &self.rb, now, &e);
                batch.push((now, e));
            }
        }
        // Shared with the store task: the batch is kept for a rebuild, never copied.
        let batch: Batch = std::sync::Arc::new(batch);
        match self.store_tx.try_send(batch.clone()) {
            Ok(()) => self.pending.push_back(batch),
            Err(TrySendError::Closed(_)) => {
                self.log
                    .push("the audit store has stopped: nothing more can be recorded".into());
                self.ahead = self.st.clone();
            }
            Err(TrySendError::Full(_)) => {
                // Not recorded, so not applied: what is ahead is rebuilt without it.
                if batch.iter().all(|(_, e)| matches!(e, Event::Observed(_))) {
                    self.dropped += 1;
                } else {
                    let what = batch
                        .iter()
                        .find(|(_, e)| !matches!(e, Event::Observed(_)))
                        .map(|(_, e)| e.kind())
                        .unwrap_or_default();
                    self.log.push(format!(
                        "the audit store is {STORE_QUEUE} writes behind: {what} not recorded, so not taken"
                    ));
                    tracing::error!("audit store {STORE_QUEUE} writes behind: {what} refused");
                }
                self.rebuild_ahead();
            }
        }
    }

    /// Record a reading: when the source answered exactly what it answered last time, only
    /// that (a small record) is stored.
    pub fn observe_at(&mut self, at: Time, o: crate::engine::Observation) {
        let same = o.history.is_empty()
            && !o.unchanged
            && self.ahead.last_reading.get(&o.source) == Some(&o);
        let o = if same {
            crate::engine::Observation::unchanged(o.source.clone())
        } else {
            o
        };
        self.write_at(at, vec![Event::Observed(o)]);
    }

    /// Events due now on the source clock without any new reading (an auto-abort countdown
    /// that ran out, a `wait_until` step that timed out).
    pub fn due(&mut self) {
        let now = self.clock.now();
        let mut probe = self.ahead.clone();
        probe.now = Some(probe.now.map_or(now, |n| n.max(now)));
        let mut due = engine::abort_transitions(&probe, &self.rb);
        due.extend(engine::wait_transitions(&probe, &self.rb));
        if !due.is_empty() {
            self.write_at(now, due);
        }
    }

    /// When `due` has something to do next, on the real clock.
    fn next_due(&self) -> Option<std::time::Duration> {
        let abort = self.ahead.abort.as_ref().map(|c| c.deadline);
        let wait = engine::wait_deadline(&self.ahead);
        let deadline = match (abort, wait) {
            (Some(a), Some(w)) => a.min(w),
            (a, w) => a.or(w)?,
        };
        let left = (deadline - self.clock.now()).to_std().unwrap_or_default();
        Some(self.clock.real_for(left))
    }

    /// Ask the adapters what `steps` would do (a dry run); the answer comes back as
    /// `Wake::Previewed` with the id returned here.
    pub fn preview(&mut self, steps: Vec<crate::engine::PlannedStep>) -> u64 {
        self.previews += 1;
        let id = self.previews;
        self.job(Job::Preview { id, steps });
        id
    }

    /// Ask for one-shot SQL checks: recorded (`sql_check_asked`), then run by the adapters
    /// once that is committed; each answer comes back as a reading.
    pub fn ask_once(&mut self, metrics: Vec<String>) {
        if !metrics.is_empty() {
            let _ = self.command(vec![Event::SqlCheckAsked {
                metrics,
                operator: self.operator.clone(),
            }]);
        }
    }

    /// Wait for one report or commit and handle it.
    pub async fn next(&mut self) -> Wake {
        let due = self.next_due();
        tokio::select! {
            _ = tokio::time::sleep(due.unwrap_or_default()), if due.is_some() => {
                self.due();
                Wake::Reported
            }
            r = self.report_rx.recv() => {
                let Some(r) = r else { return Wake::Closed };
                let (at, ev) = match r {
                    Report::Previewed { id, lines } => return Wake::Previewed(id, lines),
                    Report::Observed { at, observation } => {
                        self.observe_at(at, observation);
                        return Wake::Reported;
                    }
                    Report::StepFinished { id, at, step, name, ok, output } => (at, Event::StepFinished { id, step, name, ok, output }),
                    Report::Finished { id, at, ok: true, detail } => (at, Event::ActionSucceeded { id, detail }),
                    Report::Finished { id, at, ok: false, detail } => (at, Event::ActionFailed { id, error: detail }),
                    Report::Notified { at, target, seq, ok, attempts, detail } => {
                        if let Some(n) = &mut self.notifier {
                            n.reported(&target, seq);
                        }
                        (at, Event::NotificationSent { target, seq, ok, attempts, detail })
                    }
                };
                self.write_at(at, vec![ev]);
                Wake::Reported
            }
            Some(who) = recv(&mut self.requests) => {
                if who == self.operator {
                    return Wake::Reported;
                }
                self.log.push(format!("{who} asks to lead: H hands the lead over"));
                self.asked = Some(who.clone());
                Wake::HandOverAsked(who)
            }
            c = self.commit_rx.recv() => match c {
                None => Wake::Closed,
                Some(Stored::Arrived(recs)) => {
                    // Others' records, after everything this console committed: what is
                    // ahead is rebuilt on them.
                    self.commit(&recs);
                    self.rebuild_ahead();
                    Wake::Committed(recs)
                }
                Some(Stored::Batch(Err(e))) => {
                    self.log.push(format!("AUDIT WRITE FAILED, nothing applied: {e}"));
                    tracing::error!("audit write failed, nothing was applied: {e}");
                    // That batch will never be applied: what is ahead is rebuilt without it.
                    self.pending.pop_front();
                    self.rebuild_ahead();
                    Wake::WriteFailed(e)
                }
                Some(Stored::Batch(Ok(recs))) => {
                    let sent = self.pending.pop_front().map_or(0, |b| b.len());
                    if self.dropped > 0 && self.pending.is_empty() {
                        self.log.push(format!(
                            "{} readings not recorded while the audit store was behind",
                            std::mem::take(&mut self.dropped)
                        ));
                    }
                    self.commit(&recs);
                    // Others' records came first (chained before this batch): what is ahead
                    // is rebuilt on them.
                    if recs.len() != sent {
                        self.rebuild_ahead();
                    }
                    Wake::Committed(recs)
                }
            },
        }
    }

    /// Hand a job to the adapters without waiting. A queue of jobs this long means the
    /// adapter that runs them has stopped; the job is then failed in the log, not lost.
    fn job(&mut self, job: Job) {
        if let Err(e) = self.job_tx.try_send(job) {
            let what = match e.into_inner() {
                Job::Run { id, .. } | Job::Continue { id, .. } => format!("action {id}"),
                Job::Preview { .. } => "a dry run".into(),
                Job::Cancel { id } => format!("cancelling action {id}"),
                Job::Once { .. } => "a one-shot SQL check".into(),
            };
            self.log.push(format!(
                "the adapters are not taking jobs: {what} was not sent"
            ));
            tracing::error!("adapters not taking jobs: {what} not sent");
        }
    }

    fn rebuild_ahead(&mut self) {
        let mut ahead = self.st.clone();
        for batch in &self.pending {
            for (at, e) in batch.iter() {
                engine::apply(&mut ahead, &self.rb, *at, e);
            }
        }
        self.ahead = ahead;
    }

    fn commit(&mut self, recs: &[Record]) {
        let mut run = Vec::new();
        let mut approved = Vec::new();
        for r in recs {
            let (Ok(at), Ok(ev)) = (r.time(), r.event()) else {
                continue;
            };
            engine::apply(&mut self.st, &self.rb, at, &ev);
            if let Some(l) = engine::log_line(&self.rb, at, &ev) {
                log_event(&ev, &l);
                self.log.push(l);
            }
            // The chat hears it: handed to the webhooks' queues, never waited for.
            if let Some(n) = &mut self.notifier
                && let Some((topic, text)) = engine::notification(&self.st, &self.rb, &ev)
            {
                let notice = crate::real::webhook::Notice {
                    seq: r.seq,
                    topic,
                    text,
                };
                for full in n.notify(&notice) {
                    self.log.push(format!(
                        "webhook {full} is {} notices behind: seq {} not sent to it",
                        crate::real::webhook::NOTICE_QUEUE,
                        r.seq
                    ));
                }
            }
            // Effects follow their committed intent.
            match &ev {
                Event::ActionCancelled { id, .. } => {
                    self.job(Job::Cancel { id: *id });
                }
                Event::ActionRequested { id, .. } | Event::ApprovalCarriedOut { id, .. }
                    if !run.contains(id) =>
                {
                    run.push(*id)
                }
                // Two-person rule: the lead's console carries out what was approved — it
                // records so first, and the steps run once that is committed.
                Event::ApprovalGiven { id, .. }
                    if engine::may_act(&self.st, &self.operator).is_ok() =>
                {
                    approved.push(*id)
                }
                Event::SqlCheckAsked { metrics, .. } => {
                    self.job(Job::Once {
                        metrics: metrics.clone(),
                    });
                }
                // A step the engine ended (a `wait_until` that held): the adapter runs the rest.
                Event::StepFinished {
                    id, step, ok: true, ..
                } => {
                    let rest = self.st.running().filter(|a| a.id == *id).and_then(|a| {
                        let s = a.steps.get(*step)?;
                        (engine::engine_step(s) && *step + 1 < a.steps.len())
                            .then(|| a.steps.clone())
                    });
                    if let Some(steps) = rest {
                        self.job(Job::Continue {
                            id: *id,
                            steps,
                            from: step + 1,
                        });
                    }
                }
                _ => {}
            }
        }
        // An action runs once its request is committed — or, when it awaited a second
        // operator, once this console recorded that it carries out the approval.
        for id in run {
            let Some(a) = self.st.running().filter(|a| a.id == id) else {
                continue;
            };
            if !a.steps.is_empty() && engine::may_run(a) {
                let steps = a.steps.clone();
                self.job(Job::Run { id, steps });
            }
        }
        let mut taken = Vec::new();
        for id in approved {
            taken.extend(
                engine::carry_out(&self.st, &self.rb, id, &self.operator).unwrap_or_default(),
            );
        }
        if !taken.is_empty() {
            self.write(taken);
        }
        if self.log.len() > 2000 {
            self.log.drain(..self.log.len() - 1000);
        }
        if let Some(r) = recs.last() {
            self.head = r.hash.clone();
        }
    }

    /// The webhooks' notices handed on and not yet delivered or given up: `(target, seq)`,
    /// oldest first. Quitting waits for them a while (`live::FLUSH_WAIT`).
    pub fn notices_waiting(&self) -> &[(String, i64)] {
        self.notifier.as_ref().map_or(&[], |n| n.waiting())
    }

    /// Record the session's end — after a record of each webhook notice still waiting, not
    /// sent since the console quits first — and wait (a little) for the store to write
    /// everything. Returns the log's head as committed last (`seq`, hash), to show after
    /// the console.
    pub async fn close(mut self) -> Option<(i64, String)> {
        let mut last = Vec::new();
        for (target, seq) in self.notices_waiting() {
            last.push(Event::NotificationSent {
                target: target.clone(),
                seq: *seq,
                ok: false,
                attempts: 0,
                detail: "not delivered: the console quit while it was queued or being retried"
                    .into(),
            });
        }
        last.push(Event::SessionEnded {
            operator: self.operator.clone(),
        });
        self.write(last);
        for t in &self.tasks {
            t.abort();
        }
        let Session {
            store_tx,
            store_task,
            mut commit_rx,
            st,
            head,
            ..
        } = self;
        let mut last = (!head.is_empty()).then_some((st.events as i64, head));
        drop(store_tx);
        // Commits are taken as they come, so that the store task never waits on a full
        // queue while it finishes.
        let wait = async {
            while let Some(c) = commit_rx.recv().await {
                match c {
                    Stored::Batch(Err(e)) => eprintln!("warroom: audit write failed: {e}"),
                    Stored::Batch(Ok(recs)) | Stored::Arrived(recs) => {
                        if let Some(r) = recs.last() {
                            last = Some((r.seq, r.hash.clone()));
                        }
                    }
                }
            }
            if let Some(t) = store_task {
                let _ = t.await;
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), wait).await;
        last
    }
}

/// The next message of a receiver that may be absent (never, when it is).
async fn recv<T>(rx: &mut Option<Receiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// One log line for a record, stamped with its time.
fn line(rb: &Runbook, r: &Record) -> Option<String> {
    let ev = r.event().ok()?;
    let at = r.time().ok()?;
    engine::log_line(rb, at, &ev)
}

fn log_event(ev: &Event, line: &str) {
    match ev {
        Event::ActionFailed { .. }
        | Event::AlertFired {
            level: engine::Level::Critical,
            ..
        } => tracing::error!("{line}"),
        Event::ActionBlocked { .. }
        | Event::AlertFired { .. }
        | Event::ActionOutcomeUnknown { .. }
        | Event::Observed(_) => tracing::warn!("{line}"),
        _ => tracing::info!("{line}"),
    }
}

/// What the store task reports: a batch's commit (in the order they were sent; its records
/// may begin with others' records it chained after), or records other operators appended.
#[derive(Debug, Clone)]
enum Stored {
    Batch(Result<Vec<Record>, String>),
    Arrived(Vec<Record>),
}

/// What the store task snapshots with: the fold it continues, and a snapshot of the resumed
/// state to keep at once when the resume folded [`SNAPSHOT_EVERY`] records or more (a log
/// written before snapshots, or copied: the next resume then starts there).
struct Snapshots {
    snaps: Snapshotter,
    first: Option<Snapshot>,
}

impl Snapshots {
    fn after(rb: &Runbook, runbook_sha256: &str, r: &Resumed) -> Snapshots {
        let first = (r.folded >= SNAPSHOT_EVERY)
            .then(|| Snapshot::take(&r.state, r.head.0, &r.head.1, runbook_sha256).ok())
            .flatten();
        Snapshots {
            snaps: Snapshotter::new(rb, runbook_sha256, r.state.clone()),
            first,
        }
    }
}

/// The audit store task: appends what is queued in one transaction (readings that arrived
/// while the last write was on disk go together) and reports each batch's commit, in order;
/// between writes, hands on what other operators appended (team mode), so that the session
/// applies the rollout in `seq` order.
///
/// It folds what it commits (`snaps`) and keeps a state snapshot beside the chain every
/// `audit::SNAPSHOT_EVERY` records, after the commit; one that cannot be kept is only missed
/// by the next resume, which folds more records.
async fn store_loop(
    mut store: impl AuditStore,
    snaps: Snapshots,
    mut rx: Receiver<Batch>,
    tx: Sender<Stored>,
) {
    let Snapshots { mut snaps, first } = snaps;
    if let Some(s) = first
        && let Err(e) = store.write_snapshot(&s).await
    {
        tracing::warn!("{e}");
    }
    enum Woke {
        Queued(usize),
        Arrived(Vec<Record>),
    }
    let mut queued: Vec<Batch> = Vec::new();
    loop {
        let woke = tokio::select! {
            n = rx.recv_many(&mut queued, STORE_QUEUE) => Woke::Queued(n),
            recs = store.arrived() => Woke::Arrived(recs),
        };
        let results = match woke {
            Woke::Queued(0) => break,
            Woke::Arrived(recs) => vec![Stored::Arrived(recs)],
            Woke::Queued(_) => {
                let slices: Vec<&[(Time, Event)]> = queued.iter().map(|b| b.as_slice()).collect();
                let results = match store.append_batches(&slices).await {
                    Ok(per_batch) => per_batch
                        .into_iter()
                        .map(|r| Stored::Batch(Ok(r)))
                        .collect(),
                    // Nothing of the transaction was written: each batch in it failed.
                    Err(e) => vec![Stored::Batch(Err(e)); queued.len()],
                };
                drop(slices);
                queued.clear();
                results
            }
        };
        let mut due = Vec::new();
        for r in &results {
            if let Stored::Batch(Ok(recs)) | Stored::Arrived(recs) = r {
                due.extend(recs.iter().filter_map(|r| snaps.fold(r)));
            }
        }
        for r in results {
            if tx.send(r).await.is_err() {
                store.close().await;
                return;
            }
        }
        for snap in due {
            if let Err(e) = store.write_snapshot(&snap).await {
                tracing::warn!("{e}");
            }
        }
    }
    store.close().await;
}
