//! The audit log in PostgreSQL (team mode): one database holds many rollouts, each its own
//! chain of the same records, with the same hashes, as the SQLite file — a log copied between
//! them keeps every hash, and verify and export give the same answers from either.
//!
//! - Append-only in the database: triggers raise on `UPDATE`, `DELETE` and `TRUNCATE` of
//!   `warroom.audit` (and a console's role is given `INSERT` and `SELECT` only: README).
//! - Appends to one rollout are serialised by a transaction-level advisory lock; inside it the
//!   head is read back and must be the one this console chained on, so `seq` has no gaps and
//!   no two writers fork a chain.
//! - Every insert notifies (a statement trigger): channel [`channel`] of the rollout, payload
//!   the new `seq` — never the record. Readers fetch what follows the last `seq` they applied.
//! - The console that writes a rollout holds a session-level advisory lock on it for as long
//!   as it runs; a second one is refused, naming the holder.
//!
//! The connection URL holds a password: every message goes through `redact`.

mod follow;
mod lease;
mod read;

pub use follow::*;
pub use lease::*;
pub use read::*;

use super::*;
use crate::engine::{Event, Time};
use crate::runbook::redact;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};
use std::time::Duration;

/// Advisory lock classes (the first key of `pg_advisory_lock(int, int)`; the second is
/// `hashtext(rollout)`): appends (transaction level) and the console that writes a rollout
/// (session level).
const APPEND_LOCK: i32 = 0x5741_5201;
pub const WRITER_LOCK: i32 = 0x5741_5202;
/// Held while the schema is created.
const SCHEMA_LOCK: i64 = 0x5741_5200;

/// How long connecting (or waiting for a pooled connection) may take before an append or a
/// read fails and says so.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether a `--store` value is a PostgreSQL URL (anything else is an SQLite file's path).
pub fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The NOTIFY channel of a rollout: `warroom_` and the first 16 hex digits of the SHA-256 of
/// its name (a channel is an identifier of at most 63 bytes; a rollout's name is any text).
/// The insert trigger computes the same name in SQL.
pub fn channel(rollout: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = hex::encode(Sha256::digest(rollout.as_bytes()));
    format!("warroom_{}", h.get(..16).unwrap_or(&h))
}

/// The connect options of a URL: statements are not logged (the console's log pane shows
/// tracing), and the session names itself.
pub(crate) fn options(url: &str, name: &str) -> Result<PgConnectOptions, String> {
    let opts: PgConnectOptions = url
        .parse()
        .map_err(|e| redact(&format!("{}: not a PostgreSQL URL: {e}", redact(url))))?;
    Ok(opts.disable_statement_logging().application_name(name))
}

/// A lazily connecting pool; a connection that died is replaced when next needed.
pub(crate) fn pool(url: &str, max: u32) -> Result<PgPool, String> {
    Ok(PgPoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .acquire_timeout(CONNECT_TIMEOUT)
        .test_before_acquire(true)
        .connect_lazy_with(options(url, "warroom")?))
}

/// One connection of its own (for a session-level lock), bounded by [`CONNECT_TIMEOUT`].
pub(crate) async fn connect(url: &str, name: &str) -> Result<PgConnection, String> {
    let opts = options(url, name)?;
    match tokio::time::timeout(CONNECT_TIMEOUT, opts.connect()).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(failed(url, "cannot connect", &e)),
        Err(_) => Err(format!(
            "{}: cannot connect within {} s",
            redact(url),
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// `URL: what: error`, the password masked (in the URL and in anything the error quotes).
pub(crate) fn failed(url: &str, what: &str, e: &sqlx::Error) -> String {
    let e = match e {
        sqlx::Error::PoolTimedOut => format!(
            "cannot connect within {} s (is PostgreSQL running?)",
            CONNECT_TIMEOUT.as_secs()
        ),
        e => e.to_string(),
    };
    redact(&format!("{}: {what}: {e}", redact(url)))
}

/// The schema, created once in one transaction. The notify trigger names the channel as
/// [`channel`] does.
const SCHEMA: &[&str] = &[
    "CREATE SCHEMA IF NOT EXISTS warroom",
    "CREATE TABLE warroom.meta (key text PRIMARY KEY, value text NOT NULL)",
    "INSERT INTO warroom.meta (key, value) VALUES ('format', 'warroom-audit-1')",
    "CREATE TABLE warroom.audit (
        rollout text NOT NULL CHECK (rollout <> ''),
        seq bigint NOT NULL CHECK (seq > 0),
        at text NOT NULL,
        operator text NOT NULL,
        kind text NOT NULL,
        payload text NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        PRIMARY KEY (rollout, seq)
    )",
    "CREATE FUNCTION warroom.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
        RAISE EXCEPTION 'the warroom audit log is append-only: % on %.% refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME;
     END $$",
    "CREATE TRIGGER audit_no_update_or_delete BEFORE UPDATE OR DELETE ON warroom.audit
        FOR EACH ROW EXECUTE FUNCTION warroom.append_only()",
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON warroom.audit
        FOR EACH STATEMENT EXECUTE FUNCTION warroom.append_only()",
    "CREATE TRIGGER meta_no_change BEFORE UPDATE OR DELETE ON warroom.meta
        FOR EACH ROW EXECUTE FUNCTION warroom.append_only()",
    "CREATE TRIGGER meta_no_truncate BEFORE TRUNCATE ON warroom.meta
        FOR EACH STATEMENT EXECUTE FUNCTION warroom.append_only()",
    "CREATE FUNCTION warroom.notify_appended() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
        PERFORM pg_notify('warroom_' || substr(encode(sha256(convert_to(a.rollout, 'UTF8')), 'hex'), 1, 16), a.seq::text)
        FROM (SELECT rollout, max(seq) AS seq FROM appended GROUP BY rollout) a;
        RETURN NULL;
     END $$",
    "CREATE TRIGGER audit_notify AFTER INSERT ON warroom.audit
        REFERENCING NEW TABLE AS appended
        FOR EACH STATEMENT EXECUTE FUNCTION warroom.notify_appended()",
    "CREATE TABLE warroom.leases (
        rollout text NOT NULL,
        operator text NOT NULL,
        since timestamptz NOT NULL,
        renewed timestamptz NOT NULL,
        expires timestamptz NOT NULL
    )",
    "CREATE INDEX leases_newest ON warroom.leases (rollout, renewed DESC)",
    "CREATE TRIGGER leases_no_update_or_delete BEFORE UPDATE OR DELETE ON warroom.leases
        FOR EACH ROW EXECUTE FUNCTION warroom.append_only()",
];

/// State snapshots beside the chains (`snapshot.rs`): part of a new schema, and added to one
/// that predates them (`ensure_snapshots`). Insert-only, like the log.
const SNAPSHOT_SCHEMA: &[&str] = &[
    "CREATE TABLE warroom.snapshots (
        rollout text NOT NULL,
        seq bigint NOT NULL,
        hash text NOT NULL,
        runbook_sha256 text NOT NULL,
        format text NOT NULL,
        state text NOT NULL,
        digest text NOT NULL,
        PRIMARY KEY (rollout, seq)
    )",
    "CREATE TRIGGER snapshots_no_update_or_delete BEFORE UPDATE OR DELETE ON warroom.snapshots
        FOR EACH ROW EXECUTE FUNCTION warroom.append_only()",
];

/// Whether the database holds warroom's schema.
pub(crate) async fn has_schema(c: &mut PgConnection) -> Result<bool, sqlx::Error> {
    let t: Option<String> = sqlx::query_scalar("SELECT to_regclass('warroom.audit')::text")
        .fetch_one(&mut *c)
        .await?;
    Ok(t.is_some())
}

/// Create the schema when the database has none (as a role that may: README); check its
/// format marker.
pub(crate) async fn ensure_schema(c: &mut PgConnection, url: &str) -> Result<(), String> {
    let fail = |e: sqlx::Error| failed(url, "cannot create the audit schema", &e);
    if !has_schema(c).await.map_err(fail)? {
        let all: Vec<&'static str> = SCHEMA.iter().chain(SNAPSHOT_SCHEMA).copied().collect();
        create_once(c, "warroom.audit", &all).await.map_err(fail)?;
    }
    check_format(c, url).await
}

pub(crate) async fn check_format(c: &mut PgConnection, url: &str) -> Result<(), String> {
    let format: Option<String> =
        sqlx::query_scalar("SELECT value FROM warroom.meta WHERE key = 'format'")
            .fetch_optional(&mut *c)
            .await
            .map_err(|e| failed(url, "cannot read the audit schema", &e))?;
    if format.as_deref() == Some(FORMAT) {
        Ok(())
    } else {
        Err(format!(
            "{}: the schema `warroom` is not a warroom audit log (no `{FORMAT}` format marker)",
            redact(url)
        ))
    }
}

/// Take the rollout's writer lock on `c` (held as long as `c` lives); refused, naming the
/// holder, when another console holds it.
pub(crate) async fn take_writer_lock(
    c: &mut PgConnection,
    url: &str,
    rollout: &str,
) -> Result<(), String> {
    let fail = |e: sqlx::Error| failed(url, "cannot lock the rollout", &e);
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
        .bind(WRITER_LOCK)
        .bind(rollout)
        .fetch_one(&mut *c)
        .await
        .map_err(fail)?;
    if got {
        return Ok(());
    }
    let h = holder(c, url, rollout).await?.unwrap_or(Holder {
        operator: "unknown".into(),
        from: "unknown".into(),
        since: "unknown".into(),
        pid: 0,
    });
    Err(format!(
        "{}: rollout `{}` is open in another console: operator {}, from {}, since {}",
        redact(url),
        crate::text::clean(rollout),
        h.operator,
        h.from,
        h.since
    ))
}

/// The console that holds a rollout's writer lock: its operator, address and since when
/// (UTC), as far as this role may see (another role's sessions show no name).
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    pub operator: String,
    pub from: String,
    pub since: String,
    /// Its server process (a take-over after the lease ended terminates it).
    pub pid: i32,
}

async fn holder(c: &mut PgConnection, url: &str, rollout: &str) -> Result<Option<Holder>, String> {
    type Row = (Option<String>, Option<String>, Option<String>, i32);
    let row: Option<Row> = sqlx::query_as(
        "SELECT a.application_name, a.client_addr::text,
                to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), l.pid
           FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
            AND l.classid = $1::int4::oid AND l.objid = hashtext($2)::oid
          LIMIT 1",
    )
    .bind(WRITER_LOCK)
    .bind(rollout)
    .fetch_optional(&mut *c)
    .await
    .map_err(|e| failed(url, "cannot see who holds the rollout", &e))?;
    Ok(row.map(|(who, from, since, pid)| Holder {
        operator: who
            .as_deref()
            .and_then(|n| n.strip_prefix("warroom: "))
            .map(|n| crate::text::clean(n).into_owned())
            .unwrap_or_else(|| "unknown (another role)".into()),
        from: from.unwrap_or_else(|| "unknown".into()),
        since: since.unwrap_or_else(|| "unknown".into()),
        pid,
    }))
}

/// Who holds a rollout's writer lock now, if anyone, and the newest lease: a console
/// opening it then observes — or, when that lease has ended while the lock is still held (a
/// connection left half-open: a laptop closed), may take over.
pub async fn writer_holder(
    url: &str,
    rollout: &str,
) -> Result<Option<(Holder, Option<Lease>)>, String> {
    let mut c = connect(url, "warroom: survey").await?;
    let h = holder(&mut c, url, rollout).await;
    let lease = match &h {
        Ok(Some(_)) if has_lease_table(&mut c).await => read_lease(&mut c, rollout)
            .await
            .map_err(|e| failed(url, "cannot read the lease", &e)),
        _ => Ok(None),
    };
    let _ = c.close().await;
    Ok(h?.map(|h| (h, lease.ok().flatten())))
}

async fn has_lease_table(c: &mut PgConnection) -> bool {
    sqlx::query_scalar::<_, Option<String>>("SELECT to_regclass('warroom.leases')::text")
        .fetch_one(&mut *c)
        .await
        .is_ok_and(|t| t.is_some())
}

/// End the connection of a lead whose lease has ended but which still holds the rollout's
/// lock (half-open), so that a console can take over. Refused when the lease is alive, or the
/// holder is not the lease's operator. Waits (up to 5 s) for the lock to be released.
pub async fn end_expired_lead(url: &str, rollout: &str) -> Result<String, String> {
    let Some((h, lease)) = writer_holder(url, rollout).await? else {
        return Ok("nobody holds the rollout".into());
    };
    let now = chrono::Utc::now();
    match lease {
        Some(l) if l.expired(now) && l.operator == h.operator => {}
        _ => {
            return Err(format!(
                "{}: {} holds rollout `{}` and its lease has not ended: it leads",
                redact(url),
                h.operator,
                crate::text::clean(rollout)
            ));
        }
    }
    let mut c = connect(url, "warroom: take over").await?;
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 5000)")
        .bind(h.pid)
        .fetch_one(&mut c)
        .await
        .map_err(|e| failed(url, "cannot end the old lead's connection", &e))?;
    let _ = c.close().await;
    if ended {
        Ok(format!(
            "ended {}'s connection (from {}, since {})",
            h.operator, h.from, h.since
        ))
    } else {
        Err(format!(
            "{}: {}'s connection did not end within 5 s",
            redact(url),
            h.operator
        ))
    }
}

/// A rollout's name as given: 1 to 128 characters, no control characters.
pub fn rollout_name(raw: &str) -> Result<String, String> {
    let name = crate::text::clean(raw).trim().to_string();
    let n = name.chars().count();
    if n == 0 || n > 128 {
        Err(format!(
            "--rollout `{name}`: a rollout's name is 1 to 128 characters"
        ))
    } else {
        Ok(name)
    }
}

/// Insert records as they are, in one statement (arrays unnested): the notify trigger fires
/// once for them.
pub(crate) async fn insert(
    c: &mut PgConnection,
    rollout: &str,
    records: &[&Record],
) -> Result<(), sqlx::Error> {
    let col = |f: fn(&Record) -> &str| records.iter().map(|r| f(r)).collect::<Vec<&str>>();
    let seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
    sqlx::query(
        "INSERT INTO warroom.audit (rollout, seq, at, operator, kind, payload, prev_hash, hash)
         SELECT $1, * FROM UNNEST($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])",
    )
    .bind(rollout)
    .bind(&seqs)
    .bind(col(|r| &r.at))
    .bind(col(|r| &r.operator))
    .bind(col(|r| &r.kind))
    .bind(col(|r| &r.payload))
    .bind(col(|r| &r.prev_hash))
    .bind(col(|r| &r.hash))
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Take the rollout's append lock for the transaction and read its head.
pub(crate) async fn lock_head(
    c: &mut PgConnection,
    rollout: &str,
) -> Result<(i64, String), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(APPEND_LOCK)
        .bind(rollout)
        .execute(&mut *c)
        .await?;
    let head: Option<(i64, String)> = sqlx::query_as(
        "SELECT seq, hash FROM warroom.audit WHERE rollout = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(rollout)
    .fetch_optional(&mut *c)
    .await?;
    Ok(head.unwrap_or((0, GENESIS.to_string())))
}

/// The writer of one rollout. One task owns it.
pub struct PgStore {
    pool: PgPool,
    /// The lease's heartbeat, which owns the connection holding the rollout's writer lock.
    heartbeat: tokio::task::JoinHandle<()>,
    lease: tokio::sync::watch::Receiver<LeaseState>,
    /// Observers asking to lead, until the session takes the receiver.
    requests: Option<tokio::sync::mpsc::Receiver<String>>,
    /// Nudged when a record was appended (by anyone): what another operator appended is
    /// read and handed on (`arrived`).
    appended: tokio::sync::mpsc::Receiver<()>,
    nudged: bool,
    listener: tokio::task::JoinHandle<()>,
    url: String,
    rollout: String,
    operator: String,
    last_seq: i64,
    last_hash: String,
    /// Continued although it does not verify (`--continue-unverified`): what verify said,
    /// until the next session record carries it.
    unverified: Option<String>,
}

impl PgStore {
    /// Open a rollout for appending (created with the schema when new), returning the store
    /// and the records it already holds. Refused when another console writes the rollout, and
    /// when its log does not verify.
    pub async fn open(
        url: &str,
        rollout: &str,
        operator: &str,
    ) -> Result<(PgStore, Vec<Record>), String> {
        let operator = operator_name(operator)?;
        let rollout = rollout_name(rollout)?;
        let mut writer = connect(url, &format!("warroom: {operator}")).await?;
        ensure_schema(&mut writer, url).await?;
        take_writer_lock(&mut writer, url, &rollout).await?;
        let records = read_after(&mut writer, url, &rollout, 0).await?;
        // A rollout that does not verify is continued only when asked (`--continue-unverified`):
        // its next session record then says what verify found.
        let mut unverified = None;
        if let Verdict::Bad { seq, problem } = verify(&records, None, None) {
            if !crate::resume::take_continue_rollout(url, &rollout) {
                return Err(not_continued(url, &rollout, seq, &problem));
            }
            unverified = Some(format!("at seq {seq}: {problem}"));
        }
        let head = records
            .last()
            .map(|r| (r.seq, r.hash.clone()))
            .unwrap_or((0, GENESIS.to_string()));
        let store = PgStore::lead(url, rollout, operator, writer, head, unverified).await?;
        Ok((store, records))
    }

    /// Open a rollout for appending as a console does (created with the schema when new): the
    /// state it holds is the newest state snapshot that matches the chain and the fold of the
    /// records after it (the whole log without one), the chain checked from that snapshot to
    /// the head. Refused when another console writes the rollout, and when that check fails.
    pub async fn resume(
        url: &str,
        rollout: &str,
        operator: &str,
        basis: Basis<'_>,
    ) -> Result<(PgStore, Resumed), String> {
        let operator = operator_name(operator)?;
        let rollout = rollout_name(rollout)?;
        let mut writer = connect(url, &format!("warroom: {operator}")).await?;
        ensure_schema(&mut writer, url).await?;
        take_writer_lock(&mut writer, url, &rollout).await?;
        let mut notes = Vec::new();
        if let Err(e) = ensure_snapshots(&mut writer, url).await {
            notes.push(e);
        }
        let shown = format!("{} rollout {}", redact(url), crate::text::clean(&rollout));
        let continue_asked = crate::resume::take_continue_rollout(url, &rollout);
        let checked = {
            let mut src = PgSource::new(&mut writer, url, &rollout).await?;
            resume_from(&mut src, basis, None, &shown).await?
        };
        let mut unverified = None;
        let mut resumed = match checked {
            Ok(r) => r,
            Err((seq, problem)) if !continue_asked => {
                return Err(not_continued(url, &rollout, seq, &problem));
            }
            // Continued knowingly: every record, folded as it is.
            Err((seq, problem)) => {
                unverified = Some(format!("at seq {seq}: {problem}"));
                let records = read_after(&mut writer, url, &rollout, 0).await?;
                Resumed::whole(basis.rb, records, &shown)?
            }
        };
        resumed.notes.splice(0..0, notes);
        let head = resumed.head.clone();
        let store = PgStore::lead(url, rollout, operator, writer, head, unverified).await?;
        Ok((store, resumed))
    }

    /// The store of the console that holds the rollout's writer lock on `writer`: the lease
    /// taken, its heartbeat and the listener started.
    async fn lead(
        url: &str,
        rollout: String,
        operator: String,
        mut writer: PgConnection,
        (last_seq, last_hash): (i64, String),
        unverified: Option<String>,
    ) -> Result<PgStore, String> {
        renew(&mut writer, &rollout, &operator, false)
            .await
            .map_err(|e| failed(url, "cannot take the lease", &e))?;
        let (lease_tx, lease) = tokio::sync::watch::channel(LeaseState::Held);
        let heartbeat = tokio::spawn(lease::heartbeat(
            url.to_string(),
            rollout.clone(),
            operator.clone(),
            Some(writer),
            lease_tx,
        ));
        let (req_tx, requests) = tokio::sync::mpsc::channel(8);
        let (appended_tx, appended) = tokio::sync::mpsc::channel(1);
        let listener = tokio::spawn(lease::hand_over_requests(
            url.to_string(),
            rollout.clone(),
            req_tx,
            appended_tx,
        ));
        Ok(PgStore {
            pool: pool(url, 2)?,
            heartbeat,
            lease,
            requests: Some(requests),
            appended,
            nudged: false,
            listener,
            url: url.to_string(),
            rollout,
            operator,
            last_seq,
            last_hash,
            unverified,
        })
    }

    /// Keep a state snapshot beside the rollout's chain (one already kept after that record
    /// stays). A database whose schema predates snapshots, created by a role this console's
    /// cannot create tables as, keeps none: said once, when the console opens.
    pub async fn write_snapshot(&mut self, s: &Snapshot) -> Result<(), String> {
        let mut c = self
            .pool
            .acquire()
            .await
            .map_err(|e| failed(&self.url, "cannot keep a state snapshot", &e))?;
        insert_snapshot(&mut c, &self.rollout, s)
            .await
            .map_err(|e| failed(&self.url, "cannot keep a state snapshot", &e))
    }

    pub fn head(&self) -> (i64, &str) {
        (self.last_seq, &self.last_hash)
    }

    pub fn rollout(&self) -> &str {
        &self.rollout
    }

    /// Append batches in one transaction; each batch's records as stored.
    ///
    /// Records other operators appended since this console's last (an observer's remark,
    /// alert acknowledged or approval: `engine::anyone_may_write`) are read inside the same
    /// transaction and come first in the first batch's records, so that the session applies
    /// the rollout in `seq` order; this console's records chain after them.
    pub async fn append_batches<B: AsRef<[(Time, Event)]>>(
        &mut self,
        batches: &[B],
    ) -> Result<Vec<Vec<Record>>, String> {
        if batches.iter().all(|b| b.as_ref().is_empty()) {
            return Ok(batches.iter().map(|_| Vec::new()).collect());
        }
        if let LeaseState::TakenBy(who) = &*self.lease.borrow() {
            return Err(format!(
                "{}: {who} took rollout `{}` while this console was cut off: nothing written; this console no longer leads",
                redact(&self.url),
                crate::text::clean(&self.rollout)
            ));
        }
        let fail = |e: sqlx::Error| failed(&self.url, "append failed, nothing written", &e);
        let mut c = self.pool.acquire().await.map_err(fail)?;
        let mut tx = c.begin().await.map_err(fail)?;
        let head = lock_head(&mut tx, &self.rollout).await.map_err(fail)?;
        let foreign = if head.0 != self.last_seq || head.1 != self.last_hash {
            let recs = read_after(&mut tx, &self.url, &self.rollout, self.last_seq).await?;
            self.foreign(&recs).map_err(|why| {
                format!(
                    "{}: rollout `{}` was written by another console (its head is seq {}, this console's seq {}): {why}: nothing written",
                    redact(&self.url),
                    crate::text::clean(&self.rollout),
                    head.0,
                    self.last_seq
                )
            })?;
            recs
        } else {
            Vec::new()
        };
        let (mut out, seq, prev, noted) = stamp(
            (head.0, &head.1),
            &self.operator,
            batches,
            self.unverified.as_deref(),
        )?;
        let records: Vec<&Record> = out.iter().flatten().collect();
        insert(&mut tx, &self.rollout, &records)
            .await
            .map_err(fail)?;
        tx.commit()
            .await
            .map_err(|e| failed(&self.url, "commit failed", &e))?;
        self.last_seq = seq;
        self.last_hash = prev;
        if noted {
            self.unverified = None;
        }
        if let Some(first) = out.first_mut() {
            first.splice(0..0, foreign);
        }
        Ok(out)
    }

    /// Whether records another console appended after this one's head may be taken: each
    /// chains on the one before (from this console's head), and each is one that any
    /// operator may write (`engine::anyone_may_write`) — a lead's record means another
    /// console leads, and its records are not continued.
    fn foreign(&self, recs: &[Record]) -> Result<(), String> {
        let (mut seq, mut prev) = (self.last_seq, self.last_hash.as_str());
        for r in recs {
            let hash = chain_hash(prev, r.seq, &r.at, &r.operator, &r.kind, &r.payload);
            if r.seq != seq + 1 || r.prev_hash != prev || r.hash != hash {
                return Err(format!("seq {} does not chain on seq {seq}", r.seq));
            }
            match r.event() {
                Ok(ev) if engine::anyone_may_write(&ev) => {}
                _ => {
                    return Err(format!(
                        "seq {} is a {} by {}",
                        r.seq,
                        crate::text::clean(&r.kind),
                        crate::text::clean(&r.operator)
                    ));
                }
            }
            seq = r.seq;
            prev = &r.hash;
        }
        Ok(())
    }

    /// What other operators appended since this console's last record (an observer's
    /// remark, alert acknowledged or approval), as soon as the rollout's channel says a record
    /// was appended: for the session to apply in order. Waits for the next append when there
    /// is nothing new, or what is new is not theirs to write (the next append then refuses).
    pub async fn arrived(&mut self) -> Vec<Record> {
        loop {
            // A nudge taken is kept until its read is done: this future may be dropped
            // while reading (the session's write came first), and the nudge must not be lost.
            if !self.nudged {
                if self.appended.recv().await.is_none() {
                    return std::future::pending().await;
                }
                self.nudged = true;
            }
            let read = async {
                let mut c = self.pool.acquire().await.ok()?;
                read_after(&mut c, &self.url, &self.rollout, self.last_seq)
                    .await
                    .ok()
            };
            let recs = read.await;
            self.nudged = false;
            let Some(recs) = recs.filter(|r| !r.is_empty()) else {
                continue;
            };
            // Records not theirs to write (another console leads) are left: the next append
            // refuses, and says so.
            if self.foreign(&recs).is_ok() {
                if let Some(r) = recs.last() {
                    self.last_seq = r.seq;
                    self.last_hash.clone_from(&r.hash);
                }
                return recs;
            }
        }
    }

    /// Observers asking this console to hand the lead over: for the session to follow.
    pub fn take_requests(&mut self) -> Option<tokio::sync::mpsc::Receiver<String>> {
        self.requests.take()
    }

    /// What the heartbeat knows of this console's lease.
    pub fn lease(&self) -> LeaseState {
        self.lease.borrow().clone()
    }

    /// Let go of the rollout (its lease ends now; its lock goes with the heartbeat's
    /// connection) and the connections.
    pub async fn close(self) {
        // A console another took the rollout from has no lease left to end.
        let ours = !matches!(self.lease(), LeaseState::TakenBy(_));
        if ours && let Ok(mut c) = self.pool.acquire().await {
            let _ = renew(&mut c, &self.rollout, &self.operator, true).await;
        }
        self.listener.abort();
        self.heartbeat.abort();
        let _ = self.heartbeat.await;
        self.pool.close().await;
    }
}

/// Why a rollout that does not verify is not continued.
fn not_continued(url: &str, rollout: &str, seq: i64, problem: &str) -> String {
    format!(
        "{}: rollout `{}` does not verify: at seq {seq}: {problem}. It is not continued: check it with `warroom audit verify`, or continue it knowingly with --continue-unverified (recorded in the session record)",
        redact(url),
        crate::text::clean(rollout)
    )
}

/// Create the snapshots' table in a database whose schema predates it (as a role that may:
/// README); a role that may not is told so, and snapshots are not kept.
pub(crate) async fn ensure_snapshots(c: &mut PgConnection, url: &str) -> Result<(), String> {
    if has_snapshots(c).await {
        return Ok(());
    }
    let fail = |e: sqlx::Error| {
        failed(
            url,
            "no state snapshots are kept (the schema predates them; a role that may create tables creates them when it next opens a rollout)",
            &e,
        )
    };
    create_once(c, "warroom.snapshots", SNAPSHOT_SCHEMA)
        .await
        .map_err(fail)
}

/// Run `stmts` in one transaction under the schema lock, unless `table` exists by then
/// (another console created it meanwhile).
async fn create_once(
    c: &mut PgConnection,
    table: &str,
    stmts: &[&'static str],
) -> Result<(), sqlx::Error> {
    let mut tx = c.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SCHEMA_LOCK)
        .execute(&mut *tx)
        .await?;
    let there: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
        .bind(table)
        .fetch_one(&mut *tx)
        .await?;
    if there.is_none() {
        for &stmt in stmts {
            sqlx::query(stmt).execute(&mut *tx).await?;
        }
    }
    tx.commit().await
}

pub(crate) async fn has_snapshots(c: &mut PgConnection) -> bool {
    sqlx::query_scalar::<_, Option<String>>("SELECT to_regclass('warroom.snapshots')::text")
        .fetch_one(&mut *c)
        .await
        .is_ok_and(|t| t.is_some())
}

async fn insert_snapshot(
    c: &mut PgConnection,
    rollout: &str,
    s: &Snapshot,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO warroom.snapshots (rollout, seq, hash, runbook_sha256, format, state, digest)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(rollout)
    .bind(s.seq)
    .bind(&s.hash)
    .bind(&s.runbook_sha256)
    .bind(&s.format)
    .bind(&s.state)
    .bind(&s.digest)
    .execute(&mut *c)
    .await
    .map(|_| ())
}

impl AuditStore for PgStore {
    fn head(&self) -> (i64, &str) {
        PgStore::head(self)
    }

    fn append_batches<B: AsRef<[(engine::Time, engine::Event)]> + Sync>(
        &mut self,
        batches: &[B],
    ) -> impl std::future::Future<Output = Result<Vec<Vec<Record>>, String>> + Send {
        PgStore::append_batches(self, batches)
    }

    fn write_snapshot(
        &mut self,
        s: &Snapshot,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send {
        PgStore::write_snapshot(self, s)
    }

    fn close(self) -> impl std::future::Future<Output = ()> + Send {
        PgStore::close(self)
    }

    fn arrived(&mut self) -> impl std::future::Future<Output = Vec<Record>> + Send {
        PgStore::arrived(self)
    }
}

/// An operator who does not lead appends events to a rollout (`engine::anyone_may_write`:
/// a remark, an alert acknowledged, an approval) from their own console, chained after the
/// head under the rollout's append lock — the database serialises every writer, so the chain
/// never forks; the lead's console reads them when notified and applies them in order. Their
/// time is the newest record's or the real clock's, whichever is later (a log's time only
/// moves forward).
pub async fn append_as(
    url: &str,
    rollout: &str,
    operator: &str,
    events: Vec<Event>,
) -> Result<Vec<Record>, String> {
    if let Some(e) = events.iter().find(|e| !engine::anyone_may_write(e)) {
        return Err(format!(
            "{}: only the lead writes a {}",
            redact(url),
            e.kind()
        ));
    }
    let operator = operator_name(operator)?;
    let rollout = rollout_name(rollout)?;
    let mut c = connect(url, &format!("warroom: {operator} (observer)")).await?;
    let fail = |e: sqlx::Error| failed(url, "append failed, nothing written", &e);
    let mut tx = c.begin().await.map_err(fail)?;
    let head = lock_head(&mut tx, &rollout).await.map_err(fail)?;
    let last: Option<String> =
        sqlx::query_scalar("SELECT at FROM warroom.audit WHERE rollout = $1 AND seq = $2")
            .bind(&rollout)
            .bind(head.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(fail)?;
    let now = chrono::Utc::now();
    let at = last
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map_or(now, |t| now.max(t.with_timezone(&chrono::Utc)));
    let batch: Vec<(Time, Event)> = events.into_iter().map(|e| (at, e)).collect();
    let (out, _, _, _) = stamp((head.0, &head.1), &operator, &[batch], None)?;
    let records: Vec<&Record> = out.iter().flatten().collect();
    insert(&mut tx, &rollout, &records).await.map_err(fail)?;
    tx.commit()
        .await
        .map_err(|e| failed(url, "commit failed", &e))?;
    let _ = c.close().await;
    Ok(out.into_iter().flatten().collect())
}

/// Write records exactly as they are into a rollout that holds none: `warroom audit copy`
/// into PostgreSQL. The rollout's writer lock is held meanwhile, so no console writes it.
pub async fn import(url: &str, rollout: &str, records: &[Record]) -> Result<(), String> {
    let rollout = rollout_name(rollout)?;
    let mut c = connect(url, "warroom: audit copy").await?;
    ensure_schema(&mut c, url).await?;
    take_writer_lock(&mut c, url, &rollout).await?;
    let fail = |e: sqlx::Error| failed(url, "copy failed, nothing written", &e);
    let mut tx = c.begin().await.map_err(fail)?;
    let head = lock_head(&mut tx, &rollout).await.map_err(fail)?;
    if head.0 != 0 {
        return Err(format!(
            "{}: rollout `{}` already holds {} records; copy into a new rollout (--rollout NAME)",
            redact(url),
            crate::text::clean(&rollout),
            head.0
        ));
    }
    for chunk in records.chunks(5000) {
        let refs: Vec<&Record> = chunk.iter().collect();
        insert(&mut tx, &rollout, &refs).await.map_err(fail)?;
    }
    tx.commit()
        .await
        .map_err(|e| failed(url, "commit failed", &e))?;
    let _ = c.close().await;
    Ok(())
}
