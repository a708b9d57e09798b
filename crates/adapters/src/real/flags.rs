//! The feature-flag HTTP API: `GET {base}/internal/feature-flags` answers a JSON object of
//! flag values; `POST` to the same path with a JSON object of changes writes them. Every write
//! is read back, and a disagreement fails the step.
//!
//! Only the runbook's own flags are kept from an answer (an API may list thousands, and each
//! reading is recorded), and a percent flag reads as a whole number however the API spells
//! it (`10`, `10.0`, `"10"`).

use super::Source;
use super::http::{base_url, http_client, http_error, json_body, reply_text};
use crate::engine::Observation;
use crate::engine::SourceId;
use crate::runbook::{Flag, FlagKind, redact};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

pub const PATH: &str = "/internal/feature-flags";

pub type Flags = BTreeMap<String, Value>;

#[derive(Clone)]
pub struct FlagApi {
    client: reqwest::Client,
    url: String,
    timeout: Duration,
    /// The runbook's flags: the only ones kept from an answer.
    kinds: std::sync::Arc<BTreeMap<String, FlagKind>>,
}

impl std::fmt::Debug for FlagApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlagApi")
            .field("url", &redact(&self.url))
            .finish()
    }
}

impl FlagApi {
    /// A client for the API at `base` that keeps the runbook's `flags` from its answers.
    pub fn new(base: &str, timeout: Duration, flags: &[Flag]) -> Result<Self, String> {
        FlagApi::at(base, PATH, timeout, flags)
    }

    /// The same, with the flags at `path` under `base` (`targets.flags.path`).
    pub fn at(base: &str, path: &str, timeout: Duration, flags: &[Flag]) -> Result<Self, String> {
        Ok(FlagApi {
            client: http_client(timeout)?,
            url: format!("{}{path}", base_url("flags", base)?),
            timeout,
            kinds: std::sync::Arc::new(
                flags.iter().map(|f| (f.id.value.clone(), f.kind)).collect(),
            ),
        })
    }

    /// The runbook's flags as the API says them now (flags it does not list are absent).
    pub async fn read(&self) -> Result<Flags, String> {
        let resp = self
            .client
            .get(&self.url)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| format!("flag API: {}", http_error(&e, self.timeout)))?;
        let v = json_body(resp, self.timeout)
            .await
            .map_err(|e| format!("flag API: {e}"))?;
        match v {
            Value::Object(m) => Ok(m
                .into_iter()
                .filter_map(|(k, v)| {
                    let kind = self.kinds.get(&k)?;
                    let v = match kind {
                        FlagKind::Percent => percent(v),
                        FlagKind::Bool => v,
                    };
                    Some((k, v))
                })
                .collect()),
            other => Err(format!(
                "flag API: expected a JSON object of flags, got {}",
                kind(&other)
            )),
        }
    }

    /// Write one flag and read it back. `Ok` says what was written and read back; `Err` says
    /// what failed or disagreed. The flags read back come with either when the read worked.
    pub async fn write(
        &self,
        flag: &str,
        value: &Value,
    ) -> Result<(Result<String, String>, Option<Flags>), String> {
        let body = serde_json::json!({ flag: value });
        let resp = self
            .client
            .post(&self.url)
            .timeout(self.timeout)
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "flag API: write {flag}={value}: {}",
                    http_error(&e, self.timeout)
                )
            })?;
        let status = resp.status();
        if !status.is_success() {
            let text = reply_text(resp, self.timeout).await;
            return Err(redact(
                format!("flag API: write {flag}={value}: HTTP {status} {text}").trim(),
            ));
        }
        let back = match self.read().await {
            Ok(b) => b,
            Err(e) => {
                return Ok((
                    Err(format!(
                        "wrote {flag}={value}, but the read-back failed: {e}"
                    )),
                    None,
                ));
            }
        };
        let out = match back.get(flag) {
            Some(b) if same(b, value) => Ok(format!(
                "flag API: wrote {flag}={value}, read back {flag}={b}"
            )),
            Some(b) => Err(format!("wrote {flag}={value}, read back {flag}={b}")),
            None => Err(format!(
                "wrote {flag}={value}, read back no {flag} (the API does not list it)"
            )),
        };
        Ok((out, Some(back)))
    }
}

/// A percent as a whole number when the API spells it `10.0` or `"10"`; anything else as it
/// came (the screen then shows what the API said).
fn percent(v: Value) -> Value {
    let n = match &v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(x) if x.fract() == 0.0 && (0.0..=100.0).contains(&x) => Value::from(x as u64),
        _ => v,
    }
}

/// JSON equality, with numbers compared by value (25 and 25.0 agree).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Source for FlagApi {
    fn name(&self) -> SourceId {
        SourceId::Flags
    }

    async fn read(&self) -> Observation {
        match FlagApi::read(self).await {
            Ok(f) => Observation {
                source: SourceId::Flags.into(),
                flags: Some(f),
                ..Default::default()
            },
            Err(e) => self.failed(e),
        }
    }

    fn failed(&self, message: String) -> Observation {
        super::failure(SourceId::Flags, &message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_percent_reads_as_a_whole_number() {
        assert_eq!(percent(json!(10.0)), json!(10));
        assert_eq!(percent(json!("10")), json!(10));
        assert_eq!(percent(json!(" 25 ")), json!(25));
        assert_eq!(percent(json!(10)), json!(10));
        assert_eq!(percent(json!(10.5)), json!(10.5));
        assert_eq!(percent(json!("ten")), json!("ten"));
        assert_eq!(percent(json!(true)), json!(true));
    }

    #[test]
    fn numbers_agree_by_value() {
        assert!(same(&json!(25), &json!(25.0)));
        assert!(!same(&json!(25), &json!("25")));
        assert!(same(&json!(true), &json!(true)));
        assert!(!same(&json!(true), &json!(false)));
    }
}
