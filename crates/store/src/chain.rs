//! The hash chain: a record, how it is hashed, how its time is written.

use crate::engine::{Event, Time};
use sha2::{Digest, Sha256};
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
pub(crate) const FORMAT: &str = "warroom-audit-1";

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

/// Records per batch, the new head (`seq`, hash), and whether a note was stamped.
pub(crate) type Stamped = (Vec<Vec<Record>>, i64, String, bool);

/// Batches of events as records chained after `head` (`seq`, hash), written by `operator`:
/// what every store appends. The first `session_started` carries `continued_unverified` when
/// given (a log continued knowingly). Returns the records per batch, the new head and whether
/// the note was stamped.
pub(crate) fn stamp<B: AsRef<[(Time, Event)]>>(
    head: (i64, &str),
    operator: &str,
    batches: &[B],
    continued_unverified: Option<&str>,
) -> Result<Stamped, String> {
    let mut out = Vec::with_capacity(batches.len());
    let (mut seq, mut prev) = (head.0, head.1.to_string());
    let mut stamped = false;
    for events in batches {
        let events = events.as_ref();
        let mut recs = Vec::with_capacity(events.len());
        for (at, ev) in events {
            // The first session record on a log continued unverified says so.
            let with_note;
            let ev = match (ev, continued_unverified) {
                (Event::SessionStarted { .. }, Some(note)) if !stamped => {
                    let mut e = ev.clone();
                    if let Event::SessionStarted {
                        continued_unverified,
                        ..
                    } = &mut e
                    {
                        *continued_unverified = Some(note.to_string());
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
            let hash = chain_hash(&prev, seq, &at, operator, kind, &payload);
            recs.push(Record {
                seq,
                at,
                operator: operator.to_string(),
                kind: kind.to_string(),
                payload,
                prev_hash: prev,
                hash: hash.clone(),
            });
            prev = hash;
        }
        out.push(recs);
    }
    Ok((out, seq, prev, stamped))
}
