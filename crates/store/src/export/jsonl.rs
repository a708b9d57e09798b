//! JSON lines: one record per line, exactly as stored, with its hashes.

use crate::Record;

pub fn jsonl(records: &[Record]) -> String {
    let mut out = String::new();
    for r in records {
        let payload: serde_json::Value = serde_json::from_str(&r.payload)
            .unwrap_or(serde_json::Value::String(r.payload.clone()));
        let line = serde_json::json!({
            "seq": r.seq, "at": r.at, "operator": r.operator, "kind": r.kind,
            "payload": payload, "prev_hash": r.prev_hash, "hash": r.hash,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}
