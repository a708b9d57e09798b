//! Reading a log for replay, a page at a time: the state at any record without holding the
//! log in memory. A seek starts from the nearest known state — the one on screen when the
//! target is ahead of it, a state this reader folded (one every [`MARK_EVERY`] records it
//! passed), or a stored snapshot that matches the chain and the runbook — and folds the
//! records up to the target with the same `apply`: at most [`SNAPSHOT_EVERY`] records where
//! the log's stored snapshots reach, [`MARK_EVERY`] where this reader has been.
//! A log without snapshots (written before them) is folded once as far as a seek goes, and
//! marked on the way.
//!
//! The log's chain is not checked here: `warroom replay` verifies it beside the replay, in a
//! streamed pass of its own (`Location::verify`).

use super::*;
use crate::engine::{self, EventKind, State, Time};
use crate::runbook::Runbook;
use std::collections::{BTreeMap, HashSet, VecDeque};

/// Log lines a replay keeps up to its cursor: as many as the live console's log keeps.
pub const LINES: usize = 2000;
/// A state kept in memory every this many records a replay folds past: a seek folds at most
/// this many from one.
pub const MARK_EVERY: i64 = 1000;
/// How far back before a seek's start a replay looks for log lines (a seek that starts
/// from a known state reads these records as well as the ones it folds).
const LINES_BACK: i64 = 2 * MARK_EVERY;
/// Recorded times after the cursor handed to playback at once.
const UPCOMING: i64 = 1000;

/// Where a replay goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// The state after the first `n` records (0: the start).
    Seq(i64),
    /// The end of the log.
    End,
    /// The first record at or after this time.
    Time(Time),
    /// The next (or previous) record that is not an observation.
    Event { forward: bool },
    /// The next (or previous) record of an operator's own action.
    Action { forward: bool },
}

/// What a replay shows at its cursor.
#[derive(Debug, Clone)]
pub struct View {
    /// How many records are applied.
    pub cursor: i64,
    /// How many records the log holds.
    pub len: i64,
    pub state: State,
    /// The log lines up to the cursor (at most [`LINES`]).
    pub lines: Vec<String>,
    /// The recorded times of the records after the cursor (a page of them), for playback.
    pub upcoming: Vec<Time>,
    /// Stored snapshots found not to match, and why (each said once).
    pub notes: Vec<String>,
}

/// The kinds a step selects.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kinds {
    NotObserved,
    OperatorActions,
}

impl Kinds {
    /// As an SQL condition on the `kind` column. The words are the engine's own kinds
    /// (ASCII snake case), never text from outside.
    fn sql(self) -> String {
        match self {
            Kinds::NotObserved => {
                let observed: &str = EventKind::Observed.into();
                format!("kind <> '{observed}'")
            }
            Kinds::OperatorActions => format!(
                "kind IN ({})",
                EventKind::operator_actions()
                    .iter()
                    .map(|k| format!("'{k}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The query for the `seq` of the first record after (or the last before) the `seq`
    /// bound to `from`, of these kinds, in `table`, within `scope` (the rollout, or `TRUE`).
    pub(crate) fn find_sql(self, forward: bool, table: &str, scope: &str, from: &str) -> String {
        let (cmp, order) = if forward { (">", "") } else { ("<", " DESC") };
        format!(
            "SELECT seq FROM {table} WHERE {scope} AND seq {cmp} {from} AND {} ORDER BY seq{order} LIMIT 1",
            self.sql()
        )
    }

    fn matches(self, kind: &str) -> bool {
        let observed: &str = EventKind::Observed.into();
        match self {
            Kinds::NotObserved => kind != observed,
            Kinds::OperatorActions => EventKind::operator_actions().contains(&kind),
        }
    }
}

/// What a replay reads beyond a resume's needs: the head, the stored snapshots at or before
/// a record, records' times, the next record of some kinds.
pub(crate) trait PageSource: SnapshotSource {
    /// The newest record's `seq` (0 when empty).
    fn len(&mut self) -> impl std::future::Future<Output = Result<i64, String>> + Send;
    /// The `seq`s of the newest stored snapshots at or before `seq` (at most [`TRIED`]),
    /// newest first.
    fn snapshots_upto(
        &mut self,
        seq: i64,
    ) -> impl std::future::Future<Output = Result<Vec<i64>, String>> + Send;
    /// The recorded times (as stored) of up to `limit` records after `after`.
    fn times(
        &mut self,
        after: i64,
        limit: i64,
    ) -> impl std::future::Future<Output = Result<Vec<(i64, String)>, String>> + Send;
    /// The first record after `from` (or the last before it) whose kind is `kinds`.
    fn find(
        &mut self,
        from: i64,
        forward: bool,
        kinds: Kinds,
    ) -> impl std::future::Future<Output = Result<Option<i64>, String>> + Send;
}

/// A log held in memory (a test's, or one already read).
pub(crate) struct MemSource(Vec<Record>);

impl MemSource {
    fn after(&self, seq: i64) -> usize {
        self.0.partition_point(|r| r.seq <= seq)
    }
}

impl SnapshotSource for MemSource {
    async fn newest(&mut self) -> Result<Vec<i64>, String> {
        Ok(Vec::new())
    }
    async fn snapshot(&mut self, _: i64) -> Result<Option<Snapshot>, String> {
        Ok(None)
    }
    async fn hash_at(&mut self, seq: i64) -> Result<Option<String>, String> {
        Ok(self.0.iter().find(|r| r.seq == seq).map(|r| r.hash.clone()))
    }
    async fn page(&mut self, after: i64, limit: i64) -> Result<Vec<Record>, String> {
        let i = MemSource::after(self, after);
        let end = (i + limit.max(0) as usize).min(self.0.len());
        Ok(self.0[i..end].to_vec())
    }
}

impl PageSource for MemSource {
    async fn len(&mut self) -> Result<i64, String> {
        Ok(self.0.last().map_or(0, |r| r.seq))
    }
    async fn snapshots_upto(&mut self, _: i64) -> Result<Vec<i64>, String> {
        Ok(Vec::new())
    }
    async fn times(&mut self, after: i64, limit: i64) -> Result<Vec<(i64, String)>, String> {
        let i = MemSource::after(self, after);
        Ok(self.0[i..]
            .iter()
            .take(limit.max(0) as usize)
            .map(|r| (r.seq, r.at.clone()))
            .collect())
    }
    async fn find(&mut self, from: i64, forward: bool, k: Kinds) -> Result<Option<i64>, String> {
        Ok(if forward {
            self.0
                .iter()
                .find(|r| r.seq > from && k.matches(&r.kind))
                .map(|r| r.seq)
        } else {
            self.0
                .iter()
                .rev()
                .find(|r| r.seq < from && k.matches(&r.kind))
                .map(|r| r.seq)
        })
    }
}

/// A replay's reader over one log (see the module's words).
struct Reader<S> {
    src: S,
    rb: Runbook,
    runbook_sha256: String,
    shown: String,
    len: i64,
    /// Known states by the record they follow: the start, and every one folded or trusted.
    marks: BTreeMap<i64, State>,
    /// Stored snapshots already looked at.
    looked: HashSet<i64>,
    /// The state on screen, after the record `cursor`, and its log lines.
    cursor: i64,
    st: State,
    lines: VecDeque<String>,
    notes: Vec<String>,
}

impl<S: PageSource> Reader<S> {
    async fn new(
        mut src: S,
        rb: Runbook,
        runbook_sha256: String,
        shown: String,
    ) -> Result<Self, String> {
        let len = src.len().await?;
        let st = State::new(&rb);
        Ok(Reader {
            src,
            marks: BTreeMap::from([(0, st.clone())]),
            looked: HashSet::new(),
            cursor: 0,
            st,
            lines: VecDeque::new(),
            notes: Vec::new(),
            rb,
            runbook_sha256,
            shown,
            len,
        })
    }

    /// Go to a target and say what is there.
    async fn view(&mut self, t: Target) -> Result<View, String> {
        // Records appended since (a rollout still being written) come into reach.
        self.len = self.src.len().await?;
        let n = match t {
            Target::Seq(n) => n,
            Target::End => self.len,
            Target::Time(at) => self.first_at_or_after(at).await?,
            Target::Event { forward } => self.step(forward, Kinds::NotObserved).await?,
            Target::Action { forward } => self.step(forward, Kinds::OperatorActions).await?,
        };
        self.goto(n.clamp(0, self.len)).await?;
        let mut upcoming = Vec::new();
        for (seq, at) in self.src.times(self.cursor, UPCOMING).await? {
            upcoming.push(parse_time(seq, &at)?);
        }
        Ok(View {
            cursor: self.cursor,
            len: self.len,
            state: self.st.clone(),
            lines: self.lines.iter().cloned().collect(),
            upcoming,
            notes: std::mem::take(&mut self.notes),
        })
    }

    async fn step(&mut self, forward: bool, kinds: Kinds) -> Result<i64, String> {
        let found = self.src.find(self.cursor, forward, kinds).await?;
        Ok(found.unwrap_or(if forward { self.len } else { 0 }))
    }

    /// How many records were written before `at` (their times only are read, by halving).
    async fn first_at_or_after(&mut self, at: Time) -> Result<i64, String> {
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let t = match self.src.times(mid, 1).await?.into_iter().next() {
                Some((seq, text)) => parse_time(seq, &text)?,
                None => break,
            };
            if t < at {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// The state after the record `n`, from the nearest known state.
    async fn goto(&mut self, n: i64) -> Result<(), String> {
        let mark = self.marks.range(..=n).next_back().map_or(0, |(m, _)| *m);
        self.trust_stored(n, mark.max(if self.cursor <= n { self.cursor } else { 0 }))
            .await?;
        let mark = self.marks.range(..=n).next_back().map_or(0, |(m, _)| *m);
        if !(self.cursor <= n && self.cursor >= mark) {
            self.st = self
                .marks
                .get(&mark)
                .cloned()
                .unwrap_or_else(|| State::new(&self.rb));
            self.cursor = mark;
            self.lines = self.lines_before(mark).await?;
        }
        self.fold_to(n).await
    }

    /// A stored snapshot at or before `n` and after `from` that belongs to the chain and was
    /// folded with this runbook becomes a mark; one that does not is noted and not used.
    async fn trust_stored(&mut self, n: i64, from: i64) -> Result<(), String> {
        for seq in self.src.snapshots_upto(n).await? {
            if seq <= from {
                break;
            }
            if !self.looked.insert(seq) {
                continue;
            }
            let Some(s) = self.src.snapshot(seq).await? else {
                continue;
            };
            let chained = self.src.hash_at(s.seq).await?;
            match s.check(chained.as_deref(), &self.runbook_sha256) {
                Ok(st) => {
                    self.marks.insert(s.seq, st);
                    return Ok(());
                }
                Err(why) => self.notes.push(format!(
                    "{}: a state snapshot ignored, the records are folded instead: {why}",
                    self.shown
                )),
            }
        }
        Ok(())
    }

    /// Apply the records after the cursor up to `n`, keeping their log lines and a mark
    /// every [`MARK_EVERY`] records.
    async fn fold_to(&mut self, n: i64) -> Result<(), String> {
        while self.cursor < n {
            let page = self
                .src
                .page(self.cursor, PAGE.min(n - self.cursor))
                .await?;
            if page.is_empty() {
                break;
            }
            for r in page {
                let (at, ev) = (r.time()?, r.event()?);
                engine::apply(&mut self.st, &self.rb, at, &ev);
                if let Some(l) = engine::log_line(&self.rb, at, &ev) {
                    if self.lines.len() == LINES {
                        self.lines.pop_front();
                    }
                    self.lines.push_back(l);
                }
                self.cursor = r.seq;
                if r.seq % MARK_EVERY == 0 {
                    self.marks.entry(r.seq).or_insert_with(|| self.st.clone());
                }
            }
        }
        Ok(())
    }

    /// The log lines of the records up to `seq`, from at most [`LINES_BACK`] records before.
    async fn lines_before(&mut self, seq: i64) -> Result<VecDeque<String>, String> {
        let from = (seq - LINES_BACK).max(0);
        let mut lines = VecDeque::new();
        let mut at = from;
        while at < seq {
            let page = self.src.page(at, PAGE.min(seq - at)).await?;
            let Some(last) = page.last() else { break };
            at = last.seq;
            for r in &page {
                if let Some(l) = engine::log_line(&self.rb, r.time()?, &r.event()?) {
                    if lines.len() == LINES {
                        lines.pop_front();
                    }
                    lines.push_back(l);
                }
            }
        }
        Ok(lines)
    }
}

fn parse_time(seq: i64, at: &str) -> Result<Time, String> {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("seq {seq}: bad timestamp `{}`: {e}", crate::text::clean(at)))
}

/// A log opened for replay, before its runbook is known: its first records (which name the
/// runbook it was written with) and its head.
pub struct Opened {
    /// The first records (a page).
    pub first: Vec<Record>,
    /// The newest record's `seq` and hash.
    pub head: (i64, String),
    shown: String,
    src: Src,
}

enum Src {
    Memory(MemSource),
    File(FileSource),
    Postgres(pg::PgPages),
}

impl Opened {
    /// Open a log where it is kept, reading only its first page and its head.
    pub async fn open(at: &Location) -> Result<Opened, String> {
        let shown = at.shown();
        let ((first, head), src) = match at {
            Location::File(p) => {
                let p = p.clone();
                tokio::task::spawn_blocking(move || {
                    let mut s = FileSource::open(&p)?;
                    Ok::<_, String>((block_on_file(first_and_head(&mut s))?, Src::File(s)))
                })
                .await
                .map_err(|e| format!("reading the log stopped: {e}"))??
            }
            Location::Postgres { url, rollout } => {
                let mut s = pg::PgPages::open(url, rollout.as_deref()).await?;
                (first_and_head(&mut s).await?, Src::Postgres(s))
            }
        };
        Ok(Opened {
            first,
            head,
            shown,
            src,
        })
    }

    /// When the first record was written (none in an empty log).
    pub fn first_at(&self) -> Result<Option<Time>, String> {
        self.first.first().map(Record::time).transpose()
    }

    /// A log already in memory.
    pub fn memory(records: Vec<Record>) -> Opened {
        let head = records
            .last()
            .map_or((0, GENESIS.to_string()), |r| (r.seq, r.hash.clone()));
        Opened {
            first: records.iter().take(PAGE as usize).cloned().collect(),
            head,
            shown: "the log".into(),
            src: Src::Memory(MemSource(records)),
        }
    }

    /// The reader, folding with this runbook (`runbook_sha256`: its SHA-256, which a stored
    /// snapshot must have been folded with).
    pub async fn reader(self, rb: Runbook, runbook_sha256: &str) -> Result<ReplayLog, String> {
        let sha = runbook_sha256.to_string();
        Ok(match self.src {
            Src::Memory(s) => ReplayLog(Log::Memory(Reader::new(s, rb, sha, self.shown).await?)),
            Src::File(s) => ReplayLog(Log::File(Reader::new(s, rb, sha, self.shown).await?)),
            Src::Postgres(s) => {
                ReplayLog(Log::Postgres(Reader::new(s, rb, sha, self.shown).await?))
            }
        })
    }
}

async fn first_and_head<S: PageSource>(s: &mut S) -> Result<(Vec<Record>, (i64, String)), String> {
    let first = s.page(0, PAGE).await?;
    let len = s.len().await?;
    let hash = if len == 0 {
        GENESIS.to_string()
    } else {
        s.hash_at(len).await?.unwrap_or_default()
    };
    Ok((first, (len, hash)))
}

/// A replay's reader over a log in memory, in a file or in PostgreSQL.
pub struct ReplayLog(Log);

enum Log {
    Memory(Reader<MemSource>),
    File(Reader<FileSource>),
    Postgres(Reader<pg::PgPages>),
}

impl ReplayLog {
    /// A reader over records in memory (no snapshots: the ones it folds past are its own).
    pub fn memory(rb: Runbook, records: Vec<Record>) -> Result<ReplayLog, String> {
        block_on_file(Opened::memory(records).reader(rb, ""))
    }

    /// Go to a target and say what is there. A file's reads block the thread (SQLite's calls
    /// are synchronous): run it where that is allowed.
    pub async fn view(&mut self, t: Target) -> Result<View, String> {
        match &mut self.0 {
            Log::Memory(r) => r.view(t).await,
            Log::File(r) => r.view(t).await,
            Log::Postgres(r) => r.view(t).await,
        }
    }

    /// [`ReplayLog::view`] on this thread, for a log in memory or in a file (which wait on
    /// nothing but the disk); a PostgreSQL log is read by a task (`view`).
    pub fn view_now(&mut self, t: Target) -> Result<View, String> {
        match &mut self.0 {
            Log::Memory(r) => block_on_file(r.view(t)),
            Log::File(r) => block_on_file(r.view(t)),
            Log::Postgres(_) => {
                Err("a PostgreSQL log is read by a task, not on this thread".into())
            }
        }
    }
}
