//! State snapshots: the engine's state after a record, kept beside the chain — in a table of
//! their own, never in it — so that a console resumes a long log from the newest snapshot and
//! folds only the records after it.
//!
//! A snapshot is keyed to the chain: the `seq` and the hash of the record it follows, the
//! runbook's SHA-256 (the fold depends on the runbook), the state's format, and a digest over
//! all of them and the state. One that does not match the chain, the runbook or its digest,
//! or does not read as a state, is ignored with a note — never trusted — and the next older
//! one is tried; without any, the whole log is folded, as before snapshots existed.

use super::*;
use crate::engine::{self, State};
use crate::runbook::Runbook;
use sha2::{Digest, Sha256};

/// A snapshot after every this many records (at the record whose `seq` is a multiple of it):
/// a resume folds at most this many records after the newest one.
pub const SNAPSHOT_EVERY: i64 = 10_000;

/// The serialised state's format. Changed whenever `State`'s serialised form changes: a
/// snapshot of another format is ignored (the log is folded instead).
pub const STATE_FORMAT: &str = "warroom-state-1";

/// How many of the newest snapshots a resume tries before folding the whole log.
pub(crate) const TRIED: i64 = 4;

/// Records read from a store at once: a resume, a verification from a snapshot and a replay
/// hold at most a page of records besides what they keep.
pub(crate) const PAGE: i64 = 1000;

/// The newest records a resume keeps (for the log pane), of those it folds.
pub const TAIL_KEPT: usize = SNAPSHOT_EVERY as usize;

/// The state after a record, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The record it follows.
    pub seq: i64,
    /// That record's hash.
    pub hash: String,
    /// The runbook the state was folded with.
    pub runbook_sha256: String,
    pub format: String,
    /// The state, serialised (JSON).
    pub state: String,
    /// SHA-256 over the fields above, each length-prefixed.
    pub digest: String,
}

fn digest(seq: i64, hash: &str, runbook_sha256: &str, format: &str, state: &str) -> String {
    let mut h = Sha256::new();
    h.update(seq.to_be_bytes());
    for field in [hash, runbook_sha256, format, state] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

impl Snapshot {
    /// The state `st` after the record `seq` with `hash`, folded with the runbook whose
    /// SHA-256 is `runbook_sha256`.
    pub fn take(
        st: &State,
        seq: i64,
        hash: &str,
        runbook_sha256: &str,
    ) -> Result<Snapshot, String> {
        let state = serde_json::to_string(st)
            .map_err(|e| format!("seq {seq}: cannot serialise the state: {e}"))?;
        Ok(Snapshot {
            digest: digest(seq, hash, runbook_sha256, STATE_FORMAT, &state),
            seq,
            hash: hash.to_string(),
            runbook_sha256: runbook_sha256.to_string(),
            format: STATE_FORMAT.to_string(),
            state,
        })
    }

    /// Whether it belongs to this chain: it follows the record whose hash the chain holds at
    /// its `seq` (`chained`), and its digest matches its contents. Otherwise why not.
    pub fn check_chain(&self, chained: Option<&str>) -> Result<(), String> {
        match chained {
            None => return Err(format!("seq {}: the log holds no such record", self.seq)),
            Some(h) if h != self.hash => {
                return Err(format!(
                    "seq {}: it follows another record than the chain's (hash {} here, {} in the chain)",
                    self.seq,
                    short(&self.hash),
                    short(h)
                ));
            }
            Some(_) => {}
        }
        let want = digest(
            self.seq,
            &self.hash,
            &self.runbook_sha256,
            &self.format,
            &self.state,
        );
        if want != self.digest {
            return Err(format!(
                "seq {}: its contents do not match its digest (edited)",
                self.seq
            ));
        }
        Ok(())
    }

    /// The state it holds, when it may be trusted: it belongs to this chain
    /// ([`Snapshot::check_chain`]), was folded with this runbook and in this format, and reads
    /// as a state. Otherwise why not, for the note that says it is ignored.
    pub fn check(&self, chained: Option<&str>, runbook_sha256: &str) -> Result<State, String> {
        self.check_chain(chained)?;
        if self.format != STATE_FORMAT {
            return Err(format!(
                "seq {}: its state is of format `{}`, this warroom reads `{STATE_FORMAT}`",
                self.seq,
                crate::text::clean(&self.format)
            ));
        }
        if self.runbook_sha256 != runbook_sha256 {
            return Err(format!(
                "seq {}: it was folded with another runbook (sha256 {}, now {})",
                self.seq,
                short(&self.runbook_sha256),
                short(runbook_sha256)
            ));
        }
        serde_json::from_str(&self.state)
            .map_err(|e| format!("seq {}: its state does not read: {e}", self.seq))
    }
}

fn short(h: &str) -> String {
    crate::text::clean(h).chars().take(12).collect()
}

/// Folds what a store committed, as a console's store task sees it, and says when a snapshot
/// is due (after every [`SNAPSHOT_EVERY`]th record).
pub struct Snapshotter {
    rb: Runbook,
    runbook_sha256: String,
    st: State,
    /// A record that does not read stops the snapshots (the fold would be wrong).
    broken: bool,
}

impl Snapshotter {
    /// Continuing from `st`, the state of the log so far.
    pub fn new(rb: &Runbook, runbook_sha256: &str, st: State) -> Snapshotter {
        Snapshotter {
            rb: rb.clone(),
            runbook_sha256: runbook_sha256.to_string(),
            st,
            broken: false,
        }
    }

    /// Fold one committed record (records come in `seq` order); a snapshot when one is due.
    pub fn fold(&mut self, r: &Record) -> Option<Snapshot> {
        if self.broken {
            return None;
        }
        match (r.time(), r.event()) {
            (Ok(at), Ok(ev)) => engine::apply(&mut self.st, &self.rb, at, &ev),
            _ => {
                self.broken = true;
                return None;
            }
        }
        if r.seq % SNAPSHOT_EVERY != 0 {
            return None;
        }
        Snapshot::take(&self.st, r.seq, &r.hash, &self.runbook_sha256).ok()
    }
}

/// What a console resumes from: the newest snapshot that matches the chain and the fold of
/// the records after it (the whole log when none does).
#[derive(Debug, Clone)]
pub struct Resumed {
    pub state: State,
    /// The newest records folded (at most [`TAIL_KEPT`]): the log pane's lines. The log
    /// holds them at `seq`s up to the head.
    pub tail: Vec<Record>,
    /// How many records were folded: those after the snapshot (all of them without one),
    /// checked to chain on it.
    pub folded: i64,
    /// The record the snapshot follows, when one was used.
    pub snapshot: Option<i64>,
    /// How many records the log holds (its head's `seq`) and the head's hash.
    pub head: (i64, String),
    /// Snapshots ignored, and why.
    pub notes: Vec<String>,
}

impl Resumed {
    /// A log continued knowingly although it does not verify (`--continue-unverified`): every
    /// record folded as it is, no snapshot.
    pub(crate) fn whole(
        rb: &Runbook,
        records: Vec<Record>,
        shown: &str,
    ) -> Result<Resumed, String> {
        let state = crate::export::fold(rb, &records).map_err(|e| format!("{shown}: {e}"))?;
        let head = records
            .last()
            .map_or((0, GENESIS.to_string()), |r| (r.seq, r.hash.clone()));
        Ok(Resumed {
            state,
            folded: records.len() as i64,
            tail: records,
            snapshot: None,
            head,
            notes: Vec::new(),
        })
    }

    /// An empty log.
    pub fn empty(rb: &Runbook) -> Resumed {
        Resumed {
            state: State::new(rb),
            tail: Vec::new(),
            folded: 0,
            snapshot: None,
            head: (0, GENESIS.to_string()),
            notes: Vec::new(),
        }
    }
}

/// The runbook a resume folds with, and its SHA-256 (a snapshot must have been folded with it).
#[derive(Clone, Copy)]
pub struct Basis<'a> {
    pub rb: &'a Runbook,
    pub runbook_sha256: &'a str,
}

/// Where a resume reads: the candidate snapshots' keys, newest first; one snapshot in full;
/// the hash the chain holds at a `seq`; the records after a `seq`. (A store whose log predates
/// snapshots has none.) Each store answers these
/// in its own way; [`resume_from`] decides.
pub(crate) trait SnapshotSource {
    /// The `seq`s of the newest snapshots (at most [`TRIED`]), newest first.
    fn newest(&mut self) -> impl std::future::Future<Output = Result<Vec<i64>, String>> + Send;
    fn snapshot(
        &mut self,
        seq: i64,
    ) -> impl std::future::Future<Output = Result<Option<Snapshot>, String>> + Send;
    fn hash_at(
        &mut self,
        seq: i64,
    ) -> impl std::future::Future<Output = Result<Option<String>, String>> + Send;
    /// Up to `limit` records after `after`, in order.
    fn page(
        &mut self,
        after: i64,
        limit: i64,
    ) -> impl std::future::Future<Output = Result<Vec<Record>, String>> + Send;
}

/// The chain from the record `from` (with `hash`; `0` and the genesis hash for the start)
/// to the head, read a page at a time, each record handed to `each` once it is checked to
/// chain (`each` may refuse it, saying why); then the head kept beside the log (`sidecar`, a
/// file's head file), which the log must reach and hold. The head `(seq, hash)`; else the
/// first bad record and what is wrong.
async fn walk(
    src: &mut impl SnapshotSource,
    from: (i64, &str),
    sidecar: Option<(i64, String)>,
    mut each: impl FnMut(&Record) -> Result<(), String>,
) -> Result<Result<(i64, String), (i64, String)>, String> {
    let mut v = Verifier::after(from.0, from.1, None, None);
    let mut at = from.0;
    'pages: loop {
        let page = src.page(at, PAGE).await?;
        let Some(last) = page.last() else { break };
        at = last.seq;
        for r in &page {
            if !v.push_record(r) {
                break 'pages;
            }
            if let Err(e) = each(r) {
                return Ok(Err((r.seq, e)));
            }
        }
    }
    let (count, head) = match v.finish() {
        Verdict::Ok { records, head } => (records, head),
        Verdict::Bad { seq, problem } => return Ok(Err((seq, problem))),
    };
    if let Some((seq, hash)) = sidecar {
        if seq > count {
            return Ok(Err((
                count + 1,
                format!("the log ends at seq {count} but its head file says seq {seq}: truncated"),
            )));
        }
        if src.hash_at(seq).await?.as_deref() != Some(hash.as_str()) {
            return Ok(Err((
                seq,
                "does not match the hash in the head file (rewritten)".into(),
            )));
        }
    }
    Ok(Ok((count, head)))
}

/// The newest snapshot `accept` takes (of the newest [`TRIED`]), with what `accept` made of
/// it; the others tried leave a note saying why they were ignored.
async fn newest_accepted<T>(
    src: &mut impl SnapshotSource,
    shown: &str,
    notes: &mut Vec<String>,
    accept: impl Fn(&Snapshot, Option<&str>) -> Result<T, String>,
) -> Result<Option<(i64, String, T)>, String> {
    for seq in src.newest().await? {
        let Some(s) = src.snapshot(seq).await? else {
            continue;
        };
        let chained = src.hash_at(s.seq).await?;
        match accept(&s, chained.as_deref()) {
            Ok(t) => return Ok(Some((s.seq, s.hash, t))),
            Err(why) => notes.push(format!(
                "{shown}: a state snapshot ignored, the records are folded instead: {why}"
            )),
        }
    }
    Ok(None)
}

/// The newest snapshot that may be trusted (see [`Snapshot::check`]), then the records after
/// it, checked to chain on it from its record's hash up to the head, and folded. A snapshot
/// ignored leaves a note; without one, every record is read, verified and folded as before.
/// `sidecar`: the head kept beside the log (a file's head file), which must be in the chain.
/// An error reading; else the resumed state, or the first bad record and what is wrong.
pub(crate) async fn resume_from(
    src: &mut impl SnapshotSource,
    basis: Basis<'_>,
    sidecar: Option<(i64, String)>,
    shown: &str,
) -> Result<Result<Resumed, (i64, String)>, String> {
    let mut notes = Vec::new();
    let base = newest_accepted(src, shown, &mut notes, |s, chained| {
        s.check(chained, basis.runbook_sha256)
    })
    .await?;
    let (from, hash) = base
        .as_ref()
        .map_or((0, GENESIS), |(seq, hash, _)| (*seq, hash.as_str()));
    let mut state = match &base {
        Some((_, _, st)) => st.clone(),
        None => State::new(basis.rb),
    };
    let mut tail = std::collections::VecDeque::new();
    let mut folded = 0;
    let walked = walk(src, (from, hash), sidecar, |r| {
        engine::apply(&mut state, basis.rb, r.time()?, &r.event()?);
        folded += 1;
        if tail.len() == TAIL_KEPT {
            tail.pop_front();
        }
        tail.push_back(r.clone());
        Ok(())
    })
    .await?;
    let head = match walked {
        Ok(head) => head,
        Err(bad) => return Ok(Err(bad)),
    };
    Ok(Ok(Resumed {
        state,
        tail: tail.into(),
        folded,
        snapshot: (from > 0).then_some(from),
        head,
        notes,
    }))
}

/// Before a console continues a log: the chain from the newest snapshot that belongs to it
/// ([`Snapshot::check_chain`]; from the start without one) to the head, and the head file.
/// Walking the whole chain is `warroom audit verify`'s.
pub(crate) async fn verify_resumable(
    src: &mut impl SnapshotSource,
    sidecar: Option<(i64, String)>,
) -> Result<Verdict, String> {
    let mut notes = Vec::new();
    let base = newest_accepted(src, "", &mut notes, |s, chained| s.check_chain(chained)).await?;
    let (from, hash) = base
        .as_ref()
        .map_or((0, GENESIS), |(seq, hash, _)| (*seq, hash.as_str()));
    Ok(match walk(src, (from, hash), sidecar, |_| Ok(())).await? {
        Ok((records, head)) => Verdict::Ok { records, head },
        Err((seq, problem)) => Verdict::Bad { seq, problem },
    })
}
