//! The writer: one task owns it; it appends batches in one transaction and keeps the head.
//!
//! It writes through rusqlite, the driver the bulk reader uses: one SQLite driver for the
//! store. SQLite's calls block, so they run on a blocking thread — or, for a rehearsal on a
//! paused clock ([`Store::write_inline`]), on the caller's, so that no virtual time passes
//! while SQLite works.

use super::*;
use crate::engine::{Event, Time};
use rusqlite::{Connection, OpenFlags, params};
use std::path::{Path, PathBuf};

/// Whether a log exists and holds something, found with `stat` alone. The database file is
/// never opened except by SQLite: on Linux, closing any descriptor of a file drops every
/// POSIX lock this process holds on it, SQLite's included, and without them another process
/// (the sqlite3 shell, say) can checkpoint and delete the live write-ahead log under a
/// running console. Whether the file is an SQLite database is SQLite's to say.
pub(crate) fn exists_nonempty(path: &Path) -> Result<bool, String> {
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

pub(crate) fn not_sqlite(path: &Path) -> String {
    format!(
        "{}: is not a warroom audit log (not an SQLite file); give the path of a file written by `warroom demo --audit` or `warroom run --audit`",
        path.display()
    )
}

/// Open the log for writing: WAL, every commit synced unless told otherwise; a new log gets
/// its schema in one transaction.
fn open_writer(path: &Path, create: bool) -> Result<Connection, String> {
    let fail = |e: rusqlite::Error| format!("{}: cannot open audit log: {e}", path.display());
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | if create {
            OpenFlags::SQLITE_OPEN_CREATE
        } else {
            OpenFlags::empty()
        };
    let c = Connection::open_with_flags(path, flags).map_err(fail)?;
    // Another reader (verify, the sqlite3 shell) may hold a lock for a moment.
    c.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(fail)?;
    let mode: String = c
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
                not_sqlite(path)
            }
            e => fail(e),
        })?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!(
            "{}: cannot open audit log: SQLite would not use a write-ahead log (journal mode {mode})",
            path.display()
        ));
    }
    c.pragma_update(None, "synchronous", "FULL").map_err(fail)?;
    if create {
        let fail = |e: rusqlite::Error| format!("{}: cannot create audit log: {e}", path.display());
        let tx = c.unchecked_transaction().map_err(fail)?;
        for &stmt in SCHEMA {
            tx.execute_batch(stmt).map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
    }
    c.execute_batch(SNAPSHOT_SCHEMA).map_err(fail)?;
    Ok(c)
}

/// Insert records in one transaction, then replace the head file; both block.
fn insert<R: AsRef<[Record]>>(
    c: &Connection,
    path: &Path,
    records: &[R],
    full: bool,
    synchronous_full: &mut bool,
) -> Result<(), String> {
    if full != *synchronous_full {
        c.pragma_update(None, "synchronous", if full { "FULL" } else { "NORMAL" })
            .map_err(|e| format!("{}: {e}", path.display()))?;
        *synchronous_full = full;
    }
    let tx = c
        .unchecked_transaction()
        .map_err(|e| format!("{}: append failed: {e}", path.display()))?;
    {
        let mut stmt = tx
            .prepare_cached("INSERT INTO audit (seq, at, operator, kind, payload, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .map_err(|e| format!("{}: append failed: {e}", path.display()))?;
        for r in records.iter().flat_map(|b| b.as_ref()) {
            stmt.execute(params![
                r.seq,
                r.at,
                r.operator,
                r.kind,
                r.payload,
                r.prev_hash,
                r.hash
            ])
            .map_err(|e| format!("{}: append failed: {e}", path.display()))?;
        }
    }
    tx.commit()
        .map_err(|e| format!("{}: commit failed: {e}", path.display()))?;
    if let Some(last) = records.iter().flat_map(|b| b.as_ref()).last() {
        // Synced (with its directory) after a synced commit, so that the head never points
        // past what is durable.
        write_head(path, last.seq, &last.hash, full)
            .map_err(|e| format!("{}: cannot write head: {e}", head_path(path).display()))?;
    }
    Ok(())
}

/// Before a log is opened for appending: the operator's name as recorded, the log's lock (its
/// directory created), and whether the log holds anything yet.
fn take(path: &Path, operator: &str) -> Result<(String, std::fs::File, bool), String> {
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
    Ok((operator, lock, existed))
}

/// The writer. One task owns it.
pub struct Store {
    /// `None` only while a write is on a blocking thread.
    conn: Option<Connection>,
    /// Write on the caller's thread ([`Store::write_inline`]).
    inline: bool,
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
    /// Open (or create) an audit log for appending, returning the store and every record it
    /// already holds (a console resumes with [`Store::resume`], which reads no more than the
    /// records after the newest state snapshot). Refused when another console holds the log,
    /// and when the log does not verify unless [`prepare_resume`] was told to continue it.
    pub async fn open(path: &Path, operator: &str) -> Result<(Store, Vec<Record>), String> {
        let (operator, lock, existed) = take(path, operator)?;
        // Existing records are read through SQLite with the bulk reader (the same one verify
        // uses), before the writer connects.
        // Reading a large log takes a while: off the async runtime's threads.
        let records = if existed {
            let p = path.to_path_buf();
            tokio::task::spawn_blocking(move || read_all(&p))
                .await
                .map_err(|e| format!("{}: reading the log stopped: {e}", path.display()))??
        } else {
            Vec::new()
        };
        let continued_unverified = take_continue_unverified(path);
        if existed
            && continued_unverified.is_none()
            && let Verdict::Bad { seq, problem } = verify(&records, None, read_head(path))
        {
            return Err(refusal(path, seq, &problem));
        }
        let head = records
            .last()
            .map(|r| (r.seq, r.hash.clone()))
            .unwrap_or((0, GENESIS.to_string()));
        let store = Store::connect(path, operator, lock, existed, head, continued_unverified);
        Ok((store.await?, records))
    }

    /// The writer's connection (the schema created in a new log), after the log was read.
    async fn connect(
        path: &Path,
        operator: String,
        lock: std::fs::File,
        existed: bool,
        (last_seq, last_hash): (i64, String),
        continued_unverified: Option<String>,
    ) -> Result<Store, String> {
        let p = path.to_path_buf();
        let conn = tokio::task::spawn_blocking(move || open_writer(&p, !existed))
            .await
            .map_err(|e| format!("{}: opening stopped: {e}", path.display()))??;
        Ok(Store {
            conn: Some(conn),
            inline: false,
            path: path.to_path_buf(),
            operator,
            last_seq,
            last_hash,
            synchronous_full: true,
            continued_unverified,
            _lock: lock,
        })
    }

    /// Open (or create) an audit log for appending, as a console does: the state it holds
    /// is the newest state snapshot that matches the chain and the fold of the records after
    /// it (the whole log without one), the chain checked from that snapshot to the head and
    /// against the head file. Refused when another console holds the log, and when that check
    /// fails unless [`prepare_resume`] was told to continue it (the whole log is then read and
    /// folded, as before snapshots).
    pub async fn resume(
        path: &Path,
        operator: &str,
        basis: Basis<'_>,
    ) -> Result<(Store, Resumed), String> {
        let (operator, lock, existed) = take(path, operator)?;
        let continued_unverified = take_continue_unverified(path);
        let resumed = if existed {
            let shown = path.display().to_string();
            // SQLite's reads block, and wait on nothing else: run on this thread to the end.
            let r = block_on_file(async {
                let mut src = FileSource::open(path)?;
                resume_from(&mut src, basis, read_head(path), &shown).await
            })?;
            match (r, &continued_unverified) {
                (Ok(r), _) => r,
                (Err((seq, problem)), None) => return Err(refusal(path, seq, &problem)),
                // Continued knowingly: every record, folded as it is.
                (Err(_), Some(_)) => Resumed::whole(basis.rb, read_all(path)?, &shown)?,
            }
        } else {
            Resumed::empty(basis.rb)
        };
        let head = resumed.head.clone();
        let store = Store::connect(path, operator, lock, existed, head, continued_unverified);
        Ok((store.await?, resumed))
    }

    /// Keep a state snapshot beside the chain (one already kept after that record stays).
    pub async fn write_snapshot(&mut self, s: &Snapshot) -> Result<(), String> {
        let Some(conn) = self.conn.take() else {
            return Err(format!(
                "{}: the audit log was lost by an earlier failed write",
                self.path.display()
            ));
        };
        let (path, s) = (self.path.clone(), s.clone());
        let put = move |c: &Connection| {
            c.execute(
                "INSERT OR IGNORE INTO snapshot (seq, hash, runbook_sha256, format, state, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![s.seq, s.hash, s.runbook_sha256, s.format, s.state, s.digest],
            )
            .map(|_| ())
            .map_err(|e| format!("{}: cannot keep a state snapshot: {e}", path.display()))
        };
        let (conn, r) = if self.inline {
            let r = put(&conn);
            (conn, r)
        } else {
            tokio::task::spawn_blocking(move || {
                let r = put(&conn);
                (conn, r)
            })
            .await
            .map_err(|e| format!("{}: the write stopped: {e}", self.path.display()))?
        };
        self.conn = Some(conn);
        r
    }

    pub fn head(&self) -> (i64, &str) {
        (self.last_seq, &self.last_hash)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append events in one transaction; returns the records as stored.
    pub async fn append(&mut self, events: &[(Time, Event)]) -> Result<Vec<Record>, String> {
        let mut out = self.append_batches(&[events]).await?;
        Ok(out.pop().unwrap_or_default())
    }

    /// Append several batches, in order, in one transaction (one sync to disk for all of
    /// them); returns each batch's records as stored.
    pub async fn append_batches<B: AsRef<[(Time, Event)]>>(
        &mut self,
        batches: &[B],
    ) -> Result<Vec<Vec<Record>>, String> {
        // Operator actions, decisions and alerts are synced to disk before they take effect
        // (synchronous=FULL). A batch of plain readings is committed to the WAL without its own
        // fsync (synchronous=NORMAL): it survives a crash of warroom, and the next FULL commit
        // makes it durable against power loss too. Readings arrive several times a second in a
        // fast demo; this keeps the console's idle cost low.
        let full = batches
            .iter()
            .flat_map(|b| b.as_ref())
            .any(|(_, e)| !matches!(e, Event::Observed(_)));
        // The records and their chain first; the store's head moves only once they are
        // committed.
        let (out, seq, prev, stamped) = stamp(
            (self.last_seq, &self.last_hash),
            &self.operator,
            batches,
            self.continued_unverified.as_deref(),
        )?;
        let Some(conn) = self.conn.take() else {
            return Err(format!(
                "{}: the audit log was lost by an earlier failed write",
                self.path.display()
            ));
        };
        let (path, mut sync) = (self.path.clone(), self.synchronous_full);
        let (conn, out, sync, result) = if self.inline {
            let r = insert(&conn, &path, &out, full, &mut sync);
            (conn, out, sync, r)
        } else {
            tokio::task::spawn_blocking(move || {
                let r = insert(&conn, &path, &out, full, &mut sync);
                (conn, out, sync, r)
            })
            .await
            .map_err(|e| format!("{}: the write stopped: {e}", self.path.display()))?
        };
        self.conn = Some(conn);
        self.synchronous_full = sync;
        result?;
        self.last_seq = seq;
        self.last_hash = prev;
        if stamped {
            self.continued_unverified = None;
        }
        Ok(out)
    }

    /// Write on the caller's thread instead of a blocking thread: for a rehearsal on a
    /// paused clock, where no (virtual) time may pass while SQLite works.
    pub fn write_inline(mut self) -> Store {
        self.inline = true;
        self
    }

    /// Close the log (SQLite checkpoints its write-ahead log into the file).
    pub async fn close(mut self) {
        if let Some(conn) = self.conn.take() {
            if self.inline {
                drop(conn);
            } else {
                let _ = tokio::task::spawn_blocking(move || drop(conn)).await;
            }
        }
    }
}

/// Write records exactly as they are (their operators, times and hashes) to a new log, with
/// its head file: `warroom audit copy` into a file. Refused when the file already holds
/// records, or another console holds it.
pub fn import(path: &Path, records: &[Record]) -> Result<(), String> {
    if exists_nonempty(path)? {
        return Err(format!(
            "{}: already holds an audit log; copy into a new file",
            path.display()
        ));
    }
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot create directory: {e}", dir.display()))?;
    }
    let _lock = lock(path, "warroom audit copy")?;
    let c = open_writer(path, true)?;
    let mut full = true;
    insert(&c, path, &[records], true, &mut full)
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

/// State snapshots, beside the chain (`snapshot.rs`): created in a new log, and added to a log
/// written before they existed when a console next writes it.
const SNAPSHOT_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS snapshot (
        seq INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        runbook_sha256 TEXT NOT NULL,
        format TEXT NOT NULL,
        state TEXT NOT NULL,
        digest TEXT NOT NULL
    )";
