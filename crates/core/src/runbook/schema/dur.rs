//! Durations are written as the plan writes them: `30s`, `15m`, `4h`, `1h30m`.

use serde::{Deserialize, Deserializer, Serializer};
use std::time::Duration;

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).map_err(serde::de::Error::custom)
}

pub fn serialize<S: Serializer>(v: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::runbook::fmt_duration(*v))
}

pub fn parse(s: &str) -> Result<Duration, String> {
    if s.trim().starts_with('-') {
        return Err(format!(
            "`{s}` is negative: a duration says how long; write e.g. 30s, 15m, 4h or 1h30m"
        ));
    }
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. 30s, 15m, 4h or 1h30m"))
}
