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

pub(crate) fn bulk_record(r: &rusqlite::Row) -> rusqlite::Result<Record> {
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
