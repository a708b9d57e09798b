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
