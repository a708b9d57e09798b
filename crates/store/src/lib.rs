//! The audit log: an append-only, hash-chained SQLite file. Every event is written here before
//! it is applied; the state is the fold of these records.

pub mod export;

// The core's modules, by the names the code has always used.
use warroom_core::{engine, runbook, text};

use crate::engine::{Event, Time};
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const FORMAT: &str = "warroom-audit-1";

/// One stored record, exactly as hashed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub seq: i64,
    pub at: String,
    pub operator: String,
    pub kind: String,
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Record {
    pub fn time(&self) -> Result<Time, String> {
        chrono::DateTime::parse_from_rfc3339(&self.at)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| format!("seq {}: bad timestamp `{}`: {e}", self.seq, self.at))
    }
    pub fn event(&self) -> Result<Event, String> {
        serde_json::from_str(&self.payload).map_err(|e| {
            format!(
                "seq {}: payload is not a {} event: {e}",
                self.seq, self.kind
            )
        })
    }
}

/// SHA-256 over the previous hash and the record's fields, each length-prefixed so that no
/// two different records encode alike.
pub fn chain_hash(
    prev: &str,
    seq: i64,
    at: &str,
    operator: &str,
    kind: &str,
    payload: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(seq.to_be_bytes());
    for field in [at, operator, kind, payload] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

pub fn fmt_time(t: Time) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The sidecar that keeps the head (`seq hash`) outside the database: `AUDIT.head`.
pub fn head_path(audit: &Path) -> PathBuf {
    let mut s = audit.as_os_str().to_owned();
    s.push(".head");
    PathBuf::from(s)
}

pub fn read_head(audit: &Path) -> Option<(i64, String)> {
    let text = std::fs::read_to_string(head_path(audit)).ok()?;
    let mut it = text.split_whitespace();
    let seq = it.next()?.parse().ok()?;
    let hash = it.next()?.to_string();
    Some((seq, hash))
}

fn write_head(audit: &Path, seq: i64, hash: &str) -> std::io::Result<()> {
    let p = head_path(audit);
    let tmp = {
        let mut s = p.as_os_str().to_owned();
        s.push(".tmp");
        PathBuf::from(s)
    };
    std::fs::write(&tmp, format!("{seq} {hash}\n"))?;
    std::fs::rename(&tmp, &p)
}

/// Whether a log exists and holds something, found with `stat` alone. The database file is
/// never opened except by SQLite: on Linux, closing any descriptor of a file drops every
/// POSIX lock this process holds on it, SQLite's included, and without them another process
/// (the sqlite3 shell, say) can checkpoint and delete the live write-ahead log under a
/// running console. Whether the file is an SQLite database is SQLite's to say.
fn exists_nonempty(path: &Path) -> Result<bool, String> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!("{}: cannot open: {e}", path.display())),
        Ok(m) if m.is_dir() => Err(format!(
            "{}: is a directory, not an audit log",
            path.display()
        )),
        Ok(m) => Ok(m.len() > 0),
    }
}

fn not_sqlite(path: &Path) -> String {
    format!(
        "{}: is not a warroom audit log (not an SQLite file); give the path of a file written by `warroom demo --audit` or `warroom run --audit`",
        path.display()
    )
}

async fn connect(path: &Path, read_only: bool) -> Result<SqlitePool, String> {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(!read_only)
        .read_only(read_only)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    // One connection, owned by the one store task: acquiring it never waits on another user,
    // so it needs neither a ping nor a deadline of its own (tokio's clock may be paused in
    // tests, and a deadline on it would then fire while SQLite works).
    SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(std::time::Duration::from_secs(365 * 24 * 3600))
        .connect_with(opts)
        .await
        .map_err(|e| format!("{}: cannot open audit log: {e}", path.display()))
}

/// The writer. One task owns it.
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    operator: String,
    last_seq: i64,
    last_hash: String,
    /// The `synchronous` setting in force on the connection.
    synchronous_full: bool,
    /// For a log continued with `--continue-unverified`: what verify said, until the session
    /// record that carries it (`continued_unverified`) is written.
    continued_unverified: Option<String>,
    /// `AUDIT.lock`, locked for as long as the store lives: one console per log.
    _lock: std::fs::File,
}

impl Store {
    /// Open (or create) an audit log for appending, returning the store and the records it
    /// already holds. Refused when another console holds the log, and when the log does not
    /// verify unless [`prepare_resume`] was told to continue it.
    pub async fn open(path: &Path, operator: &str) -> Result<(Store, Vec<Record>), String> {
        let operator = operator_name(operator)?;
        if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
            return Err(format!(
                "{}: is a directory, not an audit log",
                path.display()
            ));
        }
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("{}: cannot create directory: {e}", dir.display()))?;
        }
        let lock = lock(path, &operator)?;
        let existed = exists_nonempty(path)?;
        // Existing records are read through SQLite with the bulk reader (the same one verify
        // uses), before the writer connects.
        let records = if existed { read_all(path)? } else { Vec::new() };
        let continued_unverified = take_continue_unverified(path);
        if existed
            && continued_unverified.is_none()
            && let Verdict::Bad { seq, problem } = verify(&records, None, read_head(path))
        {
            return Err(refusal(path, seq, &problem));
        }
        let pool = connect(path, false).await?;
        if !existed {
            for &stmt in SCHEMA {
                sqlx::query(stmt)
                    .execute(&pool)
                    .await
                    .map_err(|e| format!("{}: cannot create audit log: {e}", path.display()))?;
            }
        }
        let (last_seq, last_hash) = records
            .last()
            .map(|r| (r.seq, r.hash.clone()))
            .unwrap_or((0, GENESIS.to_string()));
        Ok((
            Store {
                pool,
                path: path.to_path_buf(),
                operator,
                last_seq,
                last_hash,
                synchronous_full: true,
                continued_unverified,
                _lock: lock,
            },
            records,
        ))
    }

    pub fn head(&self) -> (i64, &str) {
        (self.last_seq, &self.last_hash)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append events in one transaction; returns the records as stored.
    pub async fn append(&mut self, events: &[(Time, Event)]) -> Result<Vec<Record>, String> {
        // Operator actions, decisions and alerts are synced to disk before they take effect
        // (synchronous=FULL). A batch of plain readings is committed to the WAL without its own
        // fsync (synchronous=NORMAL): it survives a crash of warroom, and the next FULL commit
        // makes it durable against power loss too. Readings arrive several times a second in a
        // fast demo; this keeps the console's idle cost low.
        let full = events.iter().any(|(_, e)| !matches!(e, Event::Observed(_)));
        if full != self.synchronous_full {
            let pragma = if full {
                "PRAGMA synchronous = FULL"
            } else {
                "PRAGMA synchronous = NORMAL"
            };
            sqlx::query(pragma)
                .execute(&self.pool)
                .await
                .map_err(|e| format!("{}: {e}", self.path.display()))?;
            self.synchronous_full = full;
        }
        let mut tx = self.pool.begin().await.map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(events.len());
        let (mut seq, mut prev) = (self.last_seq, self.last_hash.clone());
        let mut stamped = false;
        for (at, ev) in events {
            // The first session record on a log continued unverified says so.
            let with_note;
            let ev = match (ev, &self.continued_unverified) {
                (Event::SessionStarted { .. }, Some(note)) if !stamped => {
                    let mut e = ev.clone();
                    if let Event::SessionStarted {
                        continued_unverified,
                        ..
                    } = &mut e
                    {
                        *continued_unverified = Some(note.clone());
                    }
                    stamped = true;
                    with_note = e;
                    &with_note
                }
                _ => ev,
            };
            seq += 1;
            let at = fmt_time(*at);
            let kind = ev.kind();
            let payload = serde_json::to_string(ev).map_err(|e| e.to_string())?;
            let hash = chain_hash(&prev, seq, &at, &self.operator, kind, &payload);
            sqlx::query("INSERT INTO audit (seq, at, operator, kind, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(seq)
                .bind(&at)
                .bind(&self.operator)
                .bind(kind)
                .bind(&payload)
                .bind(&prev)
                .bind(&hash)
                .execute(&mut *tx)
                .await
                .map_err(|e| format!("{}: append failed: {e}", self.path.display()))?;
            out.push(Record {
                seq,
                at,
                operator: self.operator.clone(),
                kind: kind.to_string(),
                payload,
                prev_hash: prev,
                hash: hash.clone(),
            });
            prev = hash;
        }
        tx.commit()
            .await
            .map_err(|e| format!("{}: commit failed: {e}", self.path.display()))?;
        self.last_seq = seq;
        self.last_hash = prev;
        if stamped {
            self.continued_unverified = None;
        }
        write_head(&self.path, self.last_seq, &self.last_hash).map_err(|e| {
            format!(
                "{}: cannot write head: {e}",
                head_path(&self.path).display()
            )
        })?;
        Ok(out)
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// The longest operator name, in characters.
pub const OPERATOR_MAX: usize = 64;

/// An operator's name as recorded (it goes into the hash encoding and on every screen):
/// without control, bidi or zero-width characters, trimmed, 1 to [`OPERATOR_MAX`] characters.
pub fn operator_name(raw: &str) -> Result<String, String> {
    let name = crate::text::clean(raw).trim().to_string();
    let n = name.chars().count();
    if n == 0 {
        Err("the operator's name is empty".into())
    } else if n > OPERATOR_MAX {
        Err(format!(
            "the operator's name is {n} characters long; at most {OPERATOR_MAX}"
        ))
    } else {
        Ok(name)
    }
}

/// `--expect-head` as given: a hash (or its first 8+ hex digits), or the head file's own
/// `SEQ HASH`. Returns the hash, lowercase.
pub fn parse_expected_head(given: &str) -> Result<String, String> {
    let words: Vec<&str> = given.split_whitespace().collect();
    let hash = match words.as_slice() {
        [h] => Some(*h),
        [seq, h] if seq.parse::<u64>().is_ok() => Some(*h),
        _ => None,
    };
    match hash {
        Some(h) if (8..=64).contains(&h.len()) && h.chars().all(|c| c.is_ascii_hexdigit()) => {
            Ok(h.to_ascii_lowercase())
        }
        _ => Err(format!(
            "--expect-head `{}` is not a head: give its hash (at least 8 hex digits) or the head file's `SEQ HASH`",
            crate::text::clean(given)
        )),
    }
}

const SCHEMA: &[&str] = &[
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT INTO meta (key, value) VALUES ('format', 'warroom-audit-1')",
    "CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        operator TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )",
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
];

/// The verdict of `warroom audit verify`.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Ok {
        records: i64,
        head: String,
    },
    /// The first bad record and what is wrong with it.
    Bad {
        seq: i64,
        problem: String,
    },
}

/// Checks a log record by record, in order, without keeping the records: the chain (`seq`
/// without gaps, each `prev_hash` the hash before, each hash its contents') and the head.
pub struct Verifier {
    prev: String,
    next_seq: i64,
    bad: Option<(i64, String)>,
    expect: Option<String>,
    expect_found: bool,
    sidecar: Option<(i64, String)>,
    sidecar_mismatch: bool,
}

impl Verifier {
    /// `expect`: a head hash (or a prefix of 8+ hex digits) kept elsewhere; without one, the
    /// sidecar head file's `(seq, hash)`.
    pub fn new(expect: Option<&str>, sidecar: Option<(i64, String)>) -> Verifier {
        Verifier {
            prev: GENESIS.to_string(),
            next_seq: 1,
            bad: None,
            expect: expect.map(|x| x.trim().to_ascii_lowercase()),
            expect_found: false,
            sidecar,
            sidecar_mismatch: false,
        }
    }

    /// Check the next record; false once something is wrong (the rest need not be read).
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        seq: i64,
        at: &str,
        operator: &str,
        kind: &str,
        payload: &str,
        prev_hash: &str,
        hash: &str,
    ) -> bool {
        if self.bad.is_some() {
            return false;
        }
        let want = self.next_seq;
        let problem = if seq != want {
            Some((
                want.min(seq),
                if seq > want {
                    format!("records {want}..{} are missing (deleted)", seq - 1)
                } else {
                    "sequence goes backwards (inserted or reordered)".to_string()
                },
            ))
        } else if prev_hash != self.prev {
            Some((
                seq,
                "prev_hash does not match the record before (inserted, deleted or reordered)"
                    .into(),
            ))
        } else if chain_hash(prev_hash, seq, at, operator, kind, payload) != hash {
            Some((seq, "contents do not match its hash (edited)".into()))
        } else if !payload
            .strip_prefix("{\"kind\":\"")
            .and_then(|rest| rest.strip_prefix(kind))
            .is_some_and(|rest| rest.starts_with('"'))
        {
            // The payload is the event serialised with its kind first: `{"kind":"…"`.
            Some((seq, format!("payload is not a `{kind}` event")))
        } else {
            None
        };
        if let Some(p) = problem {
            self.bad = Some(p);
            return false;
        }
        if let Some(x) = &self.expect
            && hash.starts_with(x.as_str())
        {
            self.expect_found = true;
        }
        if let Some((s, h)) = &self.sidecar
            && *s == seq
            && h != hash
        {
            self.sidecar_mismatch = true;
        }
        self.prev.clear();
        self.prev.push_str(hash);
        self.next_seq += 1;
        true
    }

    /// `push` a stored record.
    pub fn push_record(&mut self, r: &Record) -> bool {
        self.push(
            r.seq,
            &r.at,
            &r.operator,
            &r.kind,
            &r.payload,
            &r.prev_hash,
            &r.hash,
        )
    }

    pub fn finish(self) -> Verdict {
        if let Some((seq, problem)) = self.bad {
            return Verdict::Bad { seq, problem };
        }
        let last = self.next_seq - 1;
        if let Some(x) = &self.expect {
            if x.len() < 8 || !x.chars().all(|c| c.is_ascii_hexdigit()) {
                return Verdict::Bad {
                    seq: last,
                    problem: format!(
                        "--expect-head `{x}` is not a hash (give at least 8 hex digits)"
                    ),
                };
            }
            if !self.expect_found {
                return Verdict::Bad {
                    seq: last + 1,
                    problem: format!(
                        "the expected head {x} is not in the log: records were removed from the end (truncated) or the log was rewritten"
                    ),
                };
            }
        } else if let Some((seq, _)) = &self.sidecar {
            if *seq > last {
                return Verdict::Bad {
                    seq: last + 1,
                    problem: format!(
                        "the log ends at seq {last} but its head file says seq {seq}: truncated"
                    ),
                };
            }
            if self.sidecar_mismatch {
                return Verdict::Bad {
                    seq: *seq,
                    problem: "does not match the hash in the head file (rewritten)".into(),
                };
            }
        }
        Verdict::Ok {
            records: last,
            head: self.prev,
        }
    }
}

/// Verify records already in memory.
pub fn verify(records: &[Record], expect: Option<&str>, sidecar: Option<(i64, String)>) -> Verdict {
    let mut v = Verifier::new(expect, sidecar);
    for r in records {
        if !v.push_record(r) {
            break;
        }
    }
    v.finish()
}

/// Open an audit log read-only for bulk reading. sqlx (the writer) costs about 4 µs a row,
/// which makes a million-record read take seconds; rusqlite reads the same file, through the
/// same linked SQLite, about three times faster and can lend rows without copying them.
fn open_bulk(path: &Path) -> Result<rusqlite::Connection, String> {
    if !exists_nonempty(path)? {
        return Err(format!(
            "{}: no such audit log (or it is empty)",
            path.display()
        ));
    }
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("{}: cannot open audit log: {e}", path.display()))?;
    let format = c.query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
        r.get::<_, String>(0)
    });
    match format {
        Ok(f) if f == FORMAT => Ok(c),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(not_sqlite(path))
        }
        _ => Err(format!(
            "{}: is an SQLite file but not a warroom audit log (no `{FORMAT}` format marker)",
            path.display()
        )),
    }
}

fn bulk_record(r: &rusqlite::Row) -> rusqlite::Result<Record> {
    Ok(Record {
        seq: r.get(0)?,
        at: r.get(1)?,
        operator: r.get(2)?,
        kind: r.get(3)?,
        payload: r.get(4)?,
        prev_hash: r.get(5)?,
        hash: r.get(6)?,
    })
}

const SELECT_ALL: &str =
    "SELECT seq, at, operator, kind, payload, prev_hash, hash FROM audit ORDER BY seq";

/// Verify an audit log file in one streaming pass: this thread reads batches of rows while
/// another checks the chain, so reading and hashing overlap.
pub fn verify_file(path: &Path, expect: Option<&str>) -> Result<Verdict, String> {
    let c = open_bulk(path)?;
    let err = |e: rusqlite::Error| format!("{}: cannot read audit log: {e}", path.display());
    let mut v = Verifier::new(
        expect,
        if expect.is_some() {
            None
        } else {
            read_head(path)
        },
    );
    let mut stmt = c.prepare(SELECT_ALL).map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    const BATCH: usize = 2048;
    std::thread::scope(|sc| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Record>>(4);
        let checker = sc.spawn(move || {
            for batch in rx {
                for r in &batch {
                    if !v.push_record(r) {
                        return v; // dropping rx stops the reader
                    }
                }
            }
            v
        });
        let mut batch = Vec::with_capacity(BATCH);
        let mut read_error = None;
        loop {
            match rows.next() {
                Ok(Some(r)) => {
                    let rec = bulk_record(r);
                    match rec {
                        Ok(rec) => batch.push(rec),
                        Err(e) => {
                            read_error = Some(err(e));
                            break;
                        }
                    }
                    if batch.len() == BATCH
                        && tx
                            .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                            .is_err()
                    {
                        break;
                    }
                }
                Ok(None) => {
                    let _ = tx.send(std::mem::take(&mut batch));
                    break;
                }
                Err(e) => {
                    read_error = Some(err(e));
                    break;
                }
            }
        }
        drop(tx);
        let v = checker
            .join()
            .map_err(|_| format!("{}: the checker thread failed", path.display()))?;
        match read_error {
            Some(e) => Err(e),
            None => Ok(v.finish()),
        }
    })
}

/// Read every record of an audit log, read-only.
pub fn read_all(path: &Path) -> Result<Vec<Record>, String> {
    let c = open_bulk(path)?;
    let err = |e: rusqlite::Error| format!("{}: cannot read audit log: {e}", path.display());
    let mut stmt = c.prepare(SELECT_ALL).map_err(err)?;
    let rows = stmt.query_map([], bulk_record).map_err(err)?;
    rows.map(|r| r.map_err(err)).collect()
}

/// The lock file beside a log (`AUDIT.lock`): held by the console that has the log open, and
/// saying who that is. The database file itself is never locked or opened outside SQLite.
pub fn lock_path(audit: &Path) -> PathBuf {
    let mut s = audit.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Take the log's lock for this process and write who holds it; refused (naming the holder)
/// when another console has it.
fn lock(audit: &Path, operator: &str) -> Result<std::fs::File, String> {
    use std::io::Write;
    let p = lock_path(audit);
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&p)
        .map_err(|e| format!("{}: cannot open: {e}", p.display()))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(in_use(audit, &mut f)),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(format!("{}: cannot lock: {e}", p.display()));
        }
    }
    let holder = format!(
        "operator: {operator}\npid: {}\nsince: {}\n",
        std::process::id(),
        fmt_time(chrono::Utc::now())
    );
    f.set_len(0)
        .and_then(|()| f.write_all(holder.as_bytes()))
        .map_err(|e| format!("{}: cannot write: {e}", p.display()))?;
    Ok(f)
}

/// "… is open in another console: operator alice, pid 4242, since …", from the lock file.
fn in_use(audit: &Path, f: &mut std::fs::File) -> String {
    use std::io::Read;
    let mut text = String::new();
    let _ = f.take(4096).read_to_string(&mut text);
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| crate::text::clean(v.trim()).into_owned())
            .unwrap_or_else(|| "unknown".into())
    };
    format!(
        "{}: is open in another console: operator {}, pid {}, since {}",
        audit.display(),
        field("operator:"),
        field("pid:"),
        field("since:")
    )
}

/// Why a log that does not verify is not continued.
fn refusal(audit: &Path, seq: i64, problem: &str) -> String {
    format!(
        "{}: the log does not verify: at seq {seq}: {problem}. It is not continued: check it with `warroom audit verify`, or continue it knowingly with --continue-unverified (recorded in the session record)",
        audit.display()
    )
}

/// Logs this process was told to continue although they do not verify, with what verify
/// said: taken by the next [`Store::open`] of that log.
static CONTINUE_UNVERIFIED: std::sync::Mutex<Vec<(PathBuf, String)>> =
    std::sync::Mutex::new(Vec::new());

fn log_key(audit: &Path) -> PathBuf {
    std::fs::canonicalize(audit).unwrap_or_else(|_| audit.to_path_buf())
}

fn take_continue_unverified(audit: &Path) -> Option<String> {
    let key = log_key(audit);
    let mut list = CONTINUE_UNVERIFIED
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let i = list.iter().position(|(p, _)| *p == key)?;
    Some(list.swap_remove(i).1)
}

/// Before a console opens `audit` (`warroom demo` and `run`): refused when another console
/// holds the log, and when it does not verify, unless `continue_unverified`: then the head
/// file (the evidence of a truncation) is moved aside, never rewritten, and the next
/// [`Store::open`] of the log continues it, recording what verify said in the session record.
/// Returns what was done, for the operator to read.
pub fn prepare_resume(audit: &Path, continue_unverified: bool) -> Result<Vec<String>, String> {
    if let Ok(mut f) = std::fs::File::open(lock_path(audit))
        && let Err(std::fs::TryLockError::WouldBlock) = f.try_lock()
    {
        return Err(in_use(audit, &mut f));
    }
    if !exists_nonempty(audit)? {
        return Ok(Vec::new());
    }
    let (seq, problem) = match verify_file(audit, None)? {
        Verdict::Ok { .. } => return Ok(Vec::new()),
        Verdict::Bad { seq, problem } => (seq, problem),
    };
    if !continue_unverified {
        return Err(refusal(audit, seq, &problem));
    }
    let mut note = format!("at seq {seq}: {problem}");
    let mut said = vec![format!(
        "{}: the log does not verify: {note}; continuing it as asked (--continue-unverified)",
        audit.display()
    )];
    let head = head_path(audit);
    if head.exists() {
        let mut aside = head.as_os_str().to_owned();
        aside.push(format!(
            ".unverified-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
        ));
        let aside = PathBuf::from(aside);
        std::fs::rename(&head, &aside)
            .map_err(|e| format!("{}: cannot move the head file aside: {e}", head.display()))?;
        said.push(format!(
            "moved the head file aside to {} (it is evidence; a new head file starts)",
            aside.display()
        ));
        note.push_str(&format!("; head file moved aside to {}", aside.display()));
    }
    CONTINUE_UNVERIFIED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((log_key(audit), note));
    Ok(said)
}
