//! The verifier: checks a log record by record without keeping it, in memory or streamed from the file.

use super::*;
use std::path::Path;
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

    /// Check records that follow the record `seq` with `hash` (a snapshot's): the chain
    /// from there on.
    pub fn after(
        seq: i64,
        hash: &str,
        expect: Option<&str>,
        sidecar: Option<(i64, String)>,
    ) -> Verifier {
        let mut v = Verifier::new(expect, sidecar);
        v.prev = hash.to_string();
        v.next_seq = seq + 1;
        v
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
        // Batches go to the checker and come back emptied of meaning but not of memory: the
        // reader refills their records' strings in place, so a million records cost no
        // allocation after the first few batches (and no frees across threads).
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Record>>(4);
        let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<Vec<Record>>(6);
        let checker = sc.spawn(move || {
            for batch in rx {
                for r in &batch {
                    if !v.push_record(r) {
                        return v; // dropping rx stops the reader
                    }
                }
                let _ = back_tx.try_send(batch);
            }
            v
        });
        let spare = || {
            back_rx
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(BATCH))
        };
        let mut batch = spare();
        let mut filled = 0;
        let mut read_error = None;
        loop {
            match rows.next() {
                Ok(Some(r)) => {
                    let read = match batch.get_mut(filled) {
                        Some(rec) => refill(rec, r),
                        None => bulk_record(r).map(|rec| batch.push(rec)),
                    };
                    if let Err(e) = read {
                        read_error = Some(err(e));
                        break;
                    }
                    filled += 1;
                    if filled == BATCH {
                        batch.truncate(filled);
                        if tx.send(std::mem::replace(&mut batch, spare())).is_err() {
                            break;
                        }
                        filled = 0;
                    }
                }
                Ok(None) => {
                    batch.truncate(filled);
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
