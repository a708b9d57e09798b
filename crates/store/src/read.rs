//! The bulk reader (rusqlite, read-only): resume, replay, verify and export read through it.

use super::*;
use std::path::Path;
/// Open an audit log read-only for bulk reading (rusqlite lends rows without copying them; a
/// million records read in well under a second).
pub(crate) fn open_bulk(path: &Path) -> Result<rusqlite::Connection, String> {
    if !exists_nonempty(path)? {
        return Err(format!(
            "{}: no such audit log (or it is empty)",
            path.display()
        ));
    }
    let c = rusqlite::Connection::open_with_flags(
        path,
        // One thread at a time uses a reading connection: SQLite's own locks are not needed.
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
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

pub(crate) fn bulk_record(r: &rusqlite::Row) -> rusqlite::Result<Record> {
    let mut rec = Record {
        seq: 0,
        at: String::new(),
        operator: String::new(),
        kind: String::new(),
        payload: String::new(),
        prev_hash: String::new(),
        hash: String::new(),
    };
    refill(&mut rec, r)?;
    Ok(rec)
}

/// A row read into a record, its strings reused (the bulk verifier refills its batches).
pub(crate) fn refill(rec: &mut Record, r: &rusqlite::Row) -> rusqlite::Result<()> {
    rec.seq = r.get(0)?;
    for (i, field) in [
        (1, &mut rec.at),
        (2, &mut rec.operator),
        (3, &mut rec.kind),
        (4, &mut rec.payload),
        (5, &mut rec.prev_hash),
        (6, &mut rec.hash),
    ] {
        let text = r.get_ref(i)?.as_str().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })?;
        field.clear();
        field.push_str(text);
    }
    Ok(())
}

pub(crate) const SELECT_ALL: &str =
    "SELECT seq, at, operator, kind, payload, prev_hash, hash FROM audit ORDER BY seq";

/// Read every record of an audit log, read-only.
pub fn read_all(path: &Path) -> Result<Vec<Record>, String> {
    let c = open_bulk(path)?;
    let err = |e: rusqlite::Error| format!("{}: cannot read audit log: {e}", path.display());
    let mut stmt = c.prepare(SELECT_ALL).map_err(err)?;
    let rows = stmt.query_map([], bulk_record).map_err(err)?;
    rows.map(|r| r.map_err(err)).collect()
}

/// A log file read for a resume (snapshots, the chain at a `seq`, the records after one).
pub(crate) struct FileSource {
    c: rusqlite::Connection,
    path: std::path::PathBuf,
    snapshots: bool,
}

impl FileSource {
    pub(crate) fn open(path: &Path) -> Result<FileSource, String> {
        let c = open_bulk(path)?;
        // A log written before snapshots existed has no table for them.
        let snapshots = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'snapshot'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(|e| format!("{}: cannot read audit log: {e}", path.display()))?
            > 0;
        Ok(FileSource {
            c,
            path: path.to_path_buf(),
            snapshots,
        })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> String + '_ {
        |e| format!("{}: cannot read audit log: {e}", self.path.display())
    }
}

impl SnapshotSource for FileSource {
    async fn newest(&mut self) -> Result<Vec<i64>, String> {
        if !self.snapshots {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .c
            .prepare("SELECT seq FROM snapshot ORDER BY seq DESC LIMIT ?1")
            .map_err(self.err())?;
        let rows = stmt.query_map([TRIED], |r| r.get(0)).map_err(self.err())?;
        rows.map(|r| r.map_err(self.err())).collect()
    }

    async fn snapshot(&mut self, seq: i64) -> Result<Option<Snapshot>, String> {
        use rusqlite::OptionalExtension;
        self.c
            .query_row(
                "SELECT seq, hash, runbook_sha256, format, state, digest FROM snapshot WHERE seq = ?1",
                [seq],
                |r| {
                    Ok(Snapshot {
                        seq: r.get(0)?,
                        hash: r.get(1)?,
                        runbook_sha256: r.get(2)?,
                        format: r.get(3)?,
                        state: r.get(4)?,
                        digest: r.get(5)?,
                    })
                },
            )
            .optional()
            .map_err(self.err())
    }

    async fn hash_at(&mut self, seq: i64) -> Result<Option<String>, String> {
        use rusqlite::OptionalExtension;
        self.c
            .query_row("SELECT hash FROM audit WHERE seq = ?1", [seq], |r| r.get(0))
            .optional()
            .map_err(self.err())
    }

    async fn page(&mut self, after: i64, limit: i64) -> Result<Vec<Record>, String> {
        let mut stmt = self
            .c
            .prepare_cached(
                "SELECT seq, at, operator, kind, payload, prev_hash, hash FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([after, limit], bulk_record)
            .map_err(self.err())?;
        rows.map(|r| r.map_err(self.err())).collect()
    }
}

/// Run a resume's reads of a file to the end on this thread (they block: SQLite's calls are
/// synchronous, and never wait on anything else).
pub(crate) fn block_on_file<T>(f: impl std::future::Future<Output = T>) -> T {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(t) = f.as_mut().poll(&mut cx) {
            return t;
        }
    }
}

impl crate::replay::PageSource for FileSource {
    async fn len(&mut self) -> Result<i64, String> {
        self.c
            .query_row("SELECT coalesce(max(seq), 0) FROM audit", [], |r| r.get(0))
            .map_err(self.err())
    }

    async fn snapshots_upto(&mut self, seq: i64) -> Result<Vec<i64>, String> {
        if !self.snapshots {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .c
            .prepare_cached("SELECT seq FROM snapshot WHERE seq <= ?1 ORDER BY seq DESC LIMIT ?2")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([seq, TRIED], |r| r.get(0))
            .map_err(self.err())?;
        rows.map(|r| r.map_err(self.err())).collect()
    }

    async fn times(&mut self, after: i64, limit: i64) -> Result<Vec<(i64, String)>, String> {
        let mut stmt = self
            .c
            .prepare_cached("SELECT seq, at FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([after, limit], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?;
        rows.map(|r| r.map_err(self.err())).collect()
    }

    async fn find(
        &mut self,
        from: i64,
        forward: bool,
        kinds: crate::replay::Kinds,
    ) -> Result<Option<i64>, String> {
        use rusqlite::OptionalExtension;
        let sql = kinds.find_sql(forward, "audit", "TRUE", "?1");
        self.c
            .query_row(&sql, [from], |r| r.get(0))
            .optional()
            .map_err(self.err())
    }
}
