//! The writer: one task owns it; it appends batches in one transaction each and keeps the head.

use super::*;
use crate::engine::{Event, Time};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
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

pub(crate) async fn connect(path: &Path, read_only: bool) -> Result<SqlitePool, String> {
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
        let pool = connect(path, false).await?;
        if !existed {
            // One transaction: one sync to disk instead of one per statement.
            let fail = |e: sqlx::Error| format!("{}: cannot create audit log: {e}", path.display());
            let mut tx = pool.begin().await.map_err(fail)?;
            for &stmt in SCHEMA {
                sqlx::query(stmt).execute(&mut *tx).await.map_err(fail)?;
            }
            tx.commit().await.map_err(fail)?;
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
        let mut out = Vec::with_capacity(batches.len());
        let (mut seq, mut prev) = (self.last_seq, self.last_hash.clone());
        let mut stamped = false;
        for events in batches {
            let events = events.as_ref();
            let mut recs = Vec::with_capacity(events.len());
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
                recs.push(Record {
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
            out.push(recs);
        }
        tx.commit()
            .await
            .map_err(|e| format!("{}: commit failed: {e}", self.path.display()))?;
        self.last_seq = seq;
        self.last_hash = prev;
        if stamped {
            self.continued_unverified = None;
        }
        // The head file is written (and, after a synced commit, synced) off the runtime's
        // threads.
        let (path, head_seq, head_hash) =
            (self.path.clone(), self.last_seq, self.last_hash.clone());
        tokio::task::spawn_blocking(move || write_head(&path, head_seq, &head_hash, full))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
            .map_err(|e| {
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
