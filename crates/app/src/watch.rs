//! An observer (`warroom watch`): a rollout in PostgreSQL followed live, read-only. The records
//! come from the store's follower task (woken by NOTIFY, catching up after a reconnect) and
//! are folded with the same `apply` as the lead's console, so the observer's screen is the
//! lead's. It starts no adapter, and writes only what any operator may (a remark, an alert
//! acknowledged, an approval: `engine::may_write`), appended by its own connection
//! (`pg::append_as`) in the background — the lead's console reads it when notified.

use crate::audit::pg::{self, Followed, PgLog};
use crate::audit::{Basis, Location, Record, Resumed, Verifier};
use crate::engine::{self, State};
use crate::runbook::{Loaded, Runbook};
use tokio::sync::mpsc::{Receiver, Sender, channel};
use tokio::task::JoinHandle;

/// What woke the observer up.
#[derive(Debug, Clone, PartialEq)]
pub enum Watched {
    /// New records were applied.
    Applied(usize),
    /// The connection to the store was lost (why); records stop until it is back.
    Lost(String),
    /// Connected again and caught up.
    Back,
    /// The lead's lease was renewed or ended.
    Lease,
    /// The follower stopped.
    Closed,
    /// This observer's write was stored (what it was), or not (why).
    Wrote(Result<String, String>),
}

pub struct Watch {
    pub rb: Runbook,
    /// The fold of every record read: the lead's committed state.
    pub st: State,
    /// The newest record's `seq` and hash.
    pub seq: i64,
    pub head: String,
    /// Lines for the log pane, as the lead's console has them.
    pub log: Vec<String>,
    /// Where the rollout is (shown with the password masked).
    pub at: Location,
    /// Who watches.
    pub operator: String,
    /// Why the store cannot be read now; `None` while connected.
    pub lost: Option<String>,
    /// Set when a record read does not chain on the one before: what is wrong.
    pub broken: Option<String>,
    /// The lead's lease as last renewed (or ended): is the lead's console alive?
    pub lease: Option<pg::Lease>,
    verifier: Verifier,
    rx: Receiver<Followed>,
    wrote_tx: Sender<Result<String, String>>,
    wrote_rx: Receiver<Result<String, String>>,
    task: JoinHandle<()>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Watch {
    /// Read the rollout's state as a console resumes it — the newest stored snapshot that
    /// matches and the records after it, checked to chain on it — and follow it. `runbook`
    /// picks the runbook from the first records (the one their session record names, or one
    /// given). A log that does not verify from there is read whole and folded as it is, and
    /// said to be broken.
    pub async fn open(
        url: &str,
        rollout: Option<&str>,
        operator: &str,
        runbook: impl FnOnce(&[Record]) -> Result<Loaded, String>,
    ) -> Result<Watch, String> {
        let mut log = PgLog::open(url, rollout).await?;
        let read = Watch::read(&mut log, runbook).await;
        let rollout = log.rollout.clone();
        log.close().await;
        let (loaded, resumed, folded) = read?;
        let at = Location::Postgres {
            url: url.to_string(),
            rollout: Some(rollout.clone()),
        };
        let (tx, rx) = channel(64);
        let task = tokio::spawn(pg::follow(url.to_string(), rollout, resumed.head.0, tx));
        let (wrote_tx, wrote_rx) = channel(8);
        // The chain is checked on from the first record kept (the newest of those the resume
        // folded, or every record read), or from the head when none came after the snapshot.
        let (from, from_hash) = match resumed.tail.first() {
            Some(r) => (r.seq - 1, r.prev_hash.clone()),
            None => resumed.head.clone(),
        };
        let mut w = Watch {
            st: resumed.state,
            rb: loaded.runbook,
            seq: from,
            head: from_hash.clone(),
            log: Vec::new(),
            at,
            operator: operator.to_string(),
            lost: None,
            broken: None,
            lease: None,
            verifier: Verifier::after(from, &from_hash, None, None),
            rx,
            wrote_tx,
            wrote_rx,
            task,
        };
        // Resumed, the state holds the records after the snapshot already: they give the log
        // its lines and move the chain's check to the head.
        w.take(&resumed.tail, !folded);
        w.log.push(format!(
            "watching {} ({} records): read-only",
            w.at.shown(),
            resumed.head.0
        ));
        Ok(w)
    }

    /// The runbook, and where to start: resumed (bounded; true: its state holds its tail),
    /// or, when the log does not verify from the newest snapshot, every record, to fold as
    /// it is (false).
    async fn read(
        log: &mut PgLog,
        runbook: impl FnOnce(&[Record]) -> Result<Loaded, String>,
    ) -> Result<(Loaded, Resumed, bool), String> {
        let first = log.first_page().await?;
        let loaded = runbook(&first)?;
        let basis = Basis {
            rb: &loaded.runbook,
            runbook_sha256: &loaded.sha256,
        };
        let resumed = log.resume(basis).await;
        let (resumed, folded) = match resumed {
            Ok(r) => (r, true),
            Err(_) => {
                let mut r = Resumed::empty(&loaded.runbook);
                r.tail = log.read_all().await?;
                if let Some(last) = r.tail.last() {
                    r.head = (last.seq, last.hash.clone());
                }
                (r, false)
            }
        };
        Ok((loaded, resumed, folded))
    }

    fn apply(&mut self, records: &[Record]) {
        self.take(records, true);
    }

    /// Records read: the chain checked on them, their log lines kept, and (`fold`) their
    /// events applied.
    fn take(&mut self, records: &[Record], fold: bool) {
        for r in records {
            if self.broken.is_none() && !self.verifier.push_record(r) {
                self.broken = Some(format!(
                    "the log does not verify from seq {}: run `warroom audit verify`",
                    r.seq
                ));
            }
            let (Ok(at), Ok(ev)) = (r.time(), r.event()) else {
                continue;
            };
            if fold {
                engine::apply(&mut self.st, &self.rb, at, &ev);
            }
            if let Some(l) = engine::log_line(&self.rb, at, &ev) {
                self.log.push(l);
            }
            self.seq = r.seq;
            self.head.clone_from(&r.hash);
        }
        if self.log.len() > 2000 {
            self.log.drain(..self.log.len() - 1000);
        }
    }

    /// Wait for the follower and apply what it read (or for this observer's write).
    pub async fn next(&mut self) -> Watched {
        let followed = tokio::select! {
            f = self.rx.recv() => f,
            Some(w) = self.wrote_rx.recv() => {
                if let Err(e) = &w {
                    self.log.push(format!("NOT RECORDED: {e}"));
                }
                return Watched::Wrote(w);
            }
        };
        match followed {
            None => Watched::Closed,
            Some(Followed::Records(recs)) => {
                // Only what follows the last record applied (a catch-up may overlap).
                let fresh: Vec<Record> = recs.into_iter().filter(|r| r.seq > self.seq).collect();
                self.apply(&fresh);
                Watched::Applied(fresh.len())
            }
            Some(Followed::Lost(why)) => {
                self.log.push(format!(
                    "connection lost — last record at {}: {why}",
                    self.last_record_at()
                ));
                self.lost = Some(why.clone());
                Watched::Lost(why)
            }
            Some(Followed::Lease(l)) => {
                self.lease = l;
                Watched::Lease
            }
            Some(Followed::Live) => {
                let was = self.lost.take();
                if was.is_some() {
                    self.log
                        .push(format!("connected again; caught up to seq {}", self.seq));
                }
                Watched::Back
            }
        }
    }

    /// Ask the lead to hand the rollout over to this observer (`L`): a notification to the
    /// lead's console, sent in the background. Says what was done.
    pub fn ask_to_lead(&self) -> String {
        let Location::Postgres {
            url,
            rollout: Some(rollout),
        } = &self.at
        else {
            return "nothing to ask: not a rollout in PostgreSQL".into();
        };
        let (url, rollout, me) = (url.clone(), rollout.clone(), self.operator.clone());
        tokio::spawn(async move {
            if let Err(e) = pg::ask_hand_over(&url, &rollout, &me).await {
                tracing::warn!("asking the lead to hand over: {e}");
            }
        });
        match self.st.lead.as_ref().filter(|l| !l.ended) {
            Some(l) => format!(
                "asked {} to hand the lead over (they accept with H)",
                l.operator
            ),
            None => {
                "nobody leads now: open the console (warroom demo|run --store …) to lead".into()
            }
        }
    }

    /// Whether the lead handed the rollout to this observer.
    pub fn handed_to_me(&self) -> bool {
        self.st
            .lead
            .as_ref()
            .and_then(|l| l.handed_to.as_deref())
            .is_some_and(|to| to == self.operator)
    }

    /// An observer's command: what any operator may write (a remark, an alert acknowledged,
    /// an approval) when the engine lets them (`engine::may_write`), appended by this
    /// console's own connection in the background (the answer comes as `Watched::Wrote`);
    /// every other command refused, the engine saying why (in team mode only the lead acts).
    pub fn command(&self, events: Vec<crate::engine::Event>) -> Result<(), String> {
        engine::may_write(&self.st, &self.operator, &events)?;
        if events.is_empty() || !events.iter().all(engine::anyone_may_write) {
            return Err(format!(
                "{} watches: an observer writes only a remark, an alert acknowledged or an approval",
                self.operator
            ));
        }
        let Location::Postgres {
            url,
            rollout: Some(rollout),
        } = &self.at
        else {
            return Err("not a rollout in PostgreSQL: nothing written".into());
        };
        let what: Vec<&str> = events.iter().map(|e| e.kind()).collect();
        let what = what.join(", ");
        let (url, rollout, me, tx) = (
            url.clone(),
            rollout.clone(),
            self.operator.clone(),
            self.wrote_tx.clone(),
        );
        tokio::spawn(async move {
            let r = pg::append_as(&url, &rollout, &me, events)
                .await
                .map(|recs| match recs.last() {
                    Some(r) => format!("{what} recorded (seq {})", r.seq),
                    None => format!("{what}: nothing to record"),
                });
            let _ = tx.send(r).await;
        });
        Ok(())
    }

    /// The lead's lease in words at `now` (the real clock): who holds it, and whether it is
    /// renewed or has run out (the lead's console stopped or lost its connection).
    pub fn lease_words(&self, now: crate::engine::Time) -> Option<String> {
        let l = self.lease.as_ref()?;
        let ago = |t: crate::engine::Time| (now - t).num_seconds().max(0);
        Some(if l.expired(now) {
            format!("{}'s lease ENDED {} s ago", l.operator, ago(l.expires))
        } else {
            format!("{}'s lease renewed {} s ago", l.operator, ago(l.renewed))
        })
    }

    /// The time of the newest record applied (`HH:MM:SS`), or `—`.
    pub fn last_record_at(&self) -> String {
        self.st
            .now
            .map(|t| t.format("%H:%M:%S").to_string())
            .unwrap_or_else(|| "—".into())
    }
}
