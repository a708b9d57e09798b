//! The audit log: an append-only, hash-chained SQLite file. Every event is written here before
//! it is applied; the state is the fold of these records.

pub mod export;

use crate::engine::{Event, Time};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
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

/// Check that a file is an SQLite database before handing it to SQLite.
fn looks_like_sqlite(path: &Path) -> Result<bool, String> {
    use std::io::Read;
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(format!("{}: cannot open: {e}", path.display())),
    };
    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(format!(
            "{}: is a directory, not an audit log",
            path.display()
        ));
    }
    let mut magic = [0u8; 16];
    match f.read(&mut magic) {
        Ok(0) => Ok(false),
        Ok(16) if &magic == b"SQLite format 3\0" => Ok(true),
        _ => Err(format!(
            "{}: is not a warroom audit log (not an SQLite file); give the path of a file written by `warroom demo --audit` or `warroom run --audit`",
            path.display()
        )),
    }
}

async fn connect(path: &Path, read_only: bool) -> Result<SqlitePool, String> {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(!read_only)
        .read_only(read_only)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    SqlitePoolOptions::new()
        .max_connections(1)
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
}

impl Store {
    /// Open (or create) an audit log for appending, returning the store and the records it
    /// already holds.
    pub async fn open(path: &Path, operator: &str) -> Result<(Store, Vec<Record>), String> {
        let existed = looks_like_sqlite(path)?;
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("{}: cannot create directory: {e}", dir.display()))?;
        }
        let pool = connect(path, false).await?;
        if existed {
            check_format(&pool, path).await?;
        } else {
            for &stmt in SCHEMA {
                sqlx::query(stmt)
                    .execute(&pool)
                    .await
                    .map_err(|e| format!("{}: cannot create audit log: {e}", path.display()))?;
            }
        }
        let records = load_records(&pool, path).await?;
        let (last_seq, last_hash) = records
            .last()
            .map(|r| (r.seq, r.hash.clone()))
            .unwrap_or((0, GENESIS.to_string()));
        Ok((
            Store {
                pool,
                path: path.to_path_buf(),
                operator: clean(operator),
                last_seq,
                last_hash,
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
        let mut tx = self.pool.begin().await.map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(events.len());
        let (mut seq, mut prev) = (self.last_seq, self.last_hash.clone());
        for (at, ev) in events {
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

/// Operator names go into the hash encoding and on screen: no control characters.
fn clean(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    if s.trim().is_empty() {
        "unknown".into()
    } else {
        s.trim().to_string()
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

async fn check_format(pool: &SqlitePool, path: &Path) -> Result<(), String> {
    let not_ours = || {
        format!(
            "{}: is an SQLite file but not a warroom audit log (no `{FORMAT}` format marker)",
            path.display()
        )
    };
    let row = sqlx::query("SELECT value FROM meta WHERE key = 'format'")
        .fetch_optional(pool)
        .await
        .map_err(|_| not_ours())?;
    match row {
        Some(r) if r.try_get::<String, _>(0).ok().as_deref() == Some(FORMAT) => Ok(()),
        _ => Err(not_ours()),
    }
}

async fn load_records(pool: &SqlitePool, path: &Path) -> Result<Vec<Record>, String> {
    let rows = sqlx::query(
        "SELECT seq, at, operator, kind, payload, prev_hash, hash FROM audit ORDER BY seq",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| format!("{}: cannot read audit log: {e}", path.display()))?;
    rows.iter()
        .map(|r| row_record(r).map_err(|e| format!("{}: {e}", path.display())))
        .collect()
}

fn row_record(r: &sqlx::sqlite::SqliteRow) -> Result<Record, String> {
    let get = |i: usize| {
        r.try_get::<String, _>(i)
            .map_err(|e| format!("bad column {i}: {e}"))
    };
    Ok(Record {
        seq: r.try_get(0).map_err(|e| format!("bad seq: {e}"))?,
        at: get(1)?,
        operator: get(2)?,
        kind: get(3)?,
        payload: get(4)?,
        prev_hash: get(5)?,
        hash: get(6)?,
    })
}

/// Read every record of an audit log, read-only.
pub async fn read_all(path: &Path) -> Result<Vec<Record>, String> {
    if !looks_like_sqlite(path)? {
        return Err(format!(
            "{}: no such audit log (or it is empty)",
            path.display()
        ));
    }
    let pool = connect(path, true).await?;
    check_format(&pool, path).await?;
    let r = load_records(&pool, path).await;
    pool.close().await;
    r
}

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

/// Check the chain record by record, then the head against `expect` (a hash or a prefix of at
/// least 8 hex digits) or, without one, against the sidecar file.
pub fn verify(records: &[Record], expect: Option<&str>, sidecar: Option<(i64, String)>) -> Verdict {
    let mut prev = GENESIS.to_string();
    for (want_seq, r) in (1i64..).zip(records.iter()) {
        if r.seq != want_seq {
            let problem = if r.seq > want_seq {
                format!("records {want_seq}..{} are missing (deleted)", r.seq - 1)
            } else {
                "sequence goes backwards (inserted or reordered)".to_string()
            };
            return Verdict::Bad {
                seq: want_seq.min(r.seq),
                problem,
            };
        }
        if r.prev_hash != prev {
            return Verdict::Bad {
                seq: r.seq,
                problem:
                    "prev_hash does not match the record before (inserted, deleted or reordered)"
                        .into(),
            };
        }
        let h = chain_hash(&prev, r.seq, &r.at, &r.operator, &r.kind, &r.payload);
        if h != r.hash {
            return Verdict::Bad {
                seq: r.seq,
                problem: "contents do not match its hash (edited)".into(),
            };
        }
        match serde_json::from_str::<serde_json::Value>(&r.payload) {
            Ok(v) if v.get("kind").and_then(|k| k.as_str()) == Some(r.kind.as_str()) => {}
            _ => {
                return Verdict::Bad {
                    seq: r.seq,
                    problem: format!("payload is not a `{}` event", r.kind),
                };
            }
        }
        prev = h;
    }
    let last = records.last().map(|r| r.seq).unwrap_or(0);
    if let Some(x) = expect {
        let x = x.trim().to_ascii_lowercase();
        if x.len() < 8 || !x.chars().all(|c| c.is_ascii_hexdigit()) {
            return Verdict::Bad {
                seq: last,
                problem: format!("--expect-head `{x}` is not a hash (give at least 8 hex digits)"),
            };
        }
        match records.iter().find(|r| r.hash.starts_with(&x)) {
            None => {
                return Verdict::Bad {
                    seq: last + 1,
                    problem: format!(
                        "the expected head {x} is not in the log: records were removed from the end (truncated) or the log was rewritten"
                    ),
                };
            }
            Some(r) if r.seq != last => {
                // Records after the expected head are new appends: fine.
            }
            Some(_) => {}
        }
    } else if let Some((seq, hash)) = sidecar {
        if seq > last {
            return Verdict::Bad {
                seq: last + 1,
                problem: format!(
                    "the log ends at seq {last} but its head file says seq {seq}: truncated"
                ),
            };
        }
        if let Some(r) = records.iter().find(|r| r.seq == seq)
            && r.hash != hash
        {
            return Verdict::Bad {
                seq,
                problem: "does not match the hash in the head file (rewritten)".into(),
            };
        }
    }
    Verdict::Ok {
        records: last,
        head: prev,
    }
}
