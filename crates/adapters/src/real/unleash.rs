//! Unleash as the flag server (`targets.flags.kind: unleash`), through its Admin API.
//!
//! A bool flag is its feature's on/off in one environment; a percent flag is the `rollout` of
//! the feature's `flexibleRollout` strategy in that environment (created when missing, as is
//! the feature itself). Every write is read back (`GET …/features/F/environments/ENV`), and a
//! disagreement fails the step. Each reading also says what the server sees of each feature
//! (environment, on or off, rollout): the flags pane and `warroom status` show it.
//!
//! The admin token is a secret: it goes only into the `Authorization` header (marked
//! sensitive), never into a message — text the server sends back is scrubbed of it too.

use super::http::{MAX_REPLY, TOO_LARGE, base_url, http_client, http_error, server_text};
use super::{Source, fmt_secs};
use crate::engine::{FlagView, Observation, SourceError, SourceId};
use crate::runbook::{Flag, FlagKind};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The server kind, as a flag's view names it.
pub const KIND: &str = "unleash";

/// A secret that never prints.
#[derive(Clone, PartialEq)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// `targets.flags` of kind `unleash`, `${VAR}` expanded.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub url: String,
    pub token: Token,
    pub environment: String,
    pub project: String,
    /// Flag id → feature name, for flags not named like their feature.
    pub features: BTreeMap<String, String>,
}

impl Config {
    /// Expand a mapping of kind `unleash`; an error names the key (never the token's value).
    pub fn resolve(
        spec: &crate::runbook::FlagsSpec,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, String> {
        let keys = super::balancer::Keys {
            target: "targets.flags",
            lookup,
        };
        let (one, need) = (
            |key: &str, v: &Option<String>| keys.one(key, v),
            |key: &str, v: &Option<String>| keys.need(key, v),
        );
        Ok(Config {
            url: need("url", &spec.url)?,
            // The token's error names the key only: `expand` never echoes a value.
            token: Token(need("token", &spec.token)?),
            environment: need("environment", &spec.environment)?,
            project: one("project", &spec.project)?.unwrap_or_else(|| "default".into()),
            features: spec.features.clone(),
        })
    }
}

/// What the server says of one feature in the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub enabled: bool,
    /// The `flexibleRollout` strategy: its id and rollout.
    pub rollout: Option<(String, u32)>,
}

/// Why a feature could not be read.
#[derive(Debug, Clone, PartialEq)]
enum Miss {
    /// HTTP 404: no such feature (or environment, or project).
    NotFound(String),
    Failed(String),
}

impl Miss {
    fn message(self) -> String {
        match self {
            Miss::NotFound(m) | Miss::Failed(m) => m,
        }
    }
}

#[derive(Clone)]
pub struct Unleash {
    client: reqwest::Client,
    base: String,
    cfg: Arc<Config>,
    /// Each request of a reading.
    timeout: Duration,
    /// Each request of a change (and its read-back).
    write_timeout: Duration,
    /// The runbook's flags: (id, kind, feature).
    flags: Arc<Vec<(String, FlagKind, String)>>,
}

impl std::fmt::Debug for Unleash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unleash")
            .field("base", &crate::runbook::redact(&self.base))
            .field("environment", &self.cfg.environment)
            .finish()
    }
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl Unleash {
    pub fn new(cfg: Config, timeout: Duration, flags: &[Flag]) -> Result<Self, String> {
        let flags = flags
            .iter()
            .map(|f| {
                let id = f.id.value.clone();
                let feature = cfg.features.get(&id).cloned().unwrap_or_else(|| id.clone());
                (id, f.kind, feature)
            })
            .collect();
        Ok(Unleash {
            client: http_client(timeout)?,
            base: base_url("flags", &cfg.url)?,
            cfg: Arc::new(cfg),
            timeout,
            write_timeout: super::WRITE_TIMEOUT,
            flags: Arc::new(flags),
        })
    }

    /// Bound each request of a change by `t` (default 10 s, as every write).
    pub fn with_write_timeout(mut self, t: Duration) -> Self {
        self.write_timeout = t;
        self
    }

    pub fn environment(&self) -> &str {
        &self.cfg.environment
    }

    /// Text for a message, without the token (also when the server echoes it), cleaned.
    fn scrub(&self, s: &str) -> String {
        let tok = &self.cfg.token.0;
        let mut out = s.replace(tok.as_str(), "***");
        // A token `project:env.secret`: its secret alone is a secret too.
        if let Some((_, secret)) = tok.rsplit_once('.')
            && secret.len() >= 8
        {
            out = out.replace(secret, "***");
        }
        server_text(&out, 300)
    }

    fn features_path(&self) -> String {
        format!(
            "{}/api/admin/projects/{}/features",
            self.base,
            enc(&self.cfg.project)
        )
    }

    fn env_path(&self, feature: &str) -> String {
        format!(
            "{}/{}/environments/{}",
            self.features_path(),
            enc(feature),
            enc(&self.cfg.environment)
        )
    }

    /// One request: its status and JSON body (`Null` when it has none). A transport error,
    /// a time-out or a body over the size limit is `Err`.
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
        limit: Duration,
    ) -> Result<(reqwest::StatusCode, Value), String> {
        let mut auth = reqwest::header::HeaderValue::from_str(&self.cfg.token.0)
            .map_err(|_| "the token has characters an HTTP header cannot carry".to_string())?;
        auth.set_sensitive(true);
        let mut req = self
            .client
            .request(method, url)
            .timeout(limit)
            .header(reqwest::header::AUTHORIZATION, auth);
        if let Some(b) = body {
            req = req.json(b);
        }
        let run = async {
            let mut resp = req.send().await.map_err(|e| http_error(&e, limit))?;
            let status = resp.status();
            let mut bytes = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| http_error(&e, limit))? {
                if bytes.len() + chunk.len() > MAX_REPLY {
                    return Err(TOO_LARGE.to_string());
                }
                bytes.extend_from_slice(&chunk);
            }
            let v = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&bytes).chars().take(200).collect())
            });
            Ok((status, v))
        };
        // A backstop over reqwest's own time-out (a body that trickles).
        match tokio::time::timeout(limit + Duration::from_millis(200), run).await {
            Ok(r) => r.map_err(|e| self.scrub(&e)),
            Err(_) => Err(format!("timed out after {}", fmt_secs(limit))),
        }
    }

    /// What a refusal says: the status and the server's message, scrubbed.
    fn refusal(&self, status: reqwest::StatusCode, v: &Value) -> String {
        let msg = match v.get("message") {
            Some(Value::String(m)) => m.clone(),
            _ => match v {
                Value::String(s) => s.clone(),
                _ => String::new(),
            },
        };
        let hint = match status.as_u16() {
            401 => " (the token is not valid: check the admin API token)",
            403 => " (the token may not do this: use an admin API token)",
            _ => "",
        };
        self.scrub(format!("HTTP {status} {msg}{hint}").trim())
    }

    /// A feature in the environment, as the server says it now.
    async fn feature(&self, feature: &str, limit: Duration) -> Result<Feature, Miss> {
        let (status, v) = self
            .call(reqwest::Method::GET, &self.env_path(feature), None, limit)
            .await
            .map_err(|e| Miss::Failed(format!("Unleash: read {feature}: {e}")))?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(Miss::NotFound(format!(
                "Unleash: read {feature}: {}",
                self.refusal(status, &v)
            )));
        }
        if !status.is_success() {
            return Err(Miss::Failed(format!(
                "Unleash: read {feature}: {}",
                self.refusal(status, &v)
            )));
        }
        parse_feature(&v).map_err(|e| Miss::Failed(self.scrub(&format!("Unleash: {feature}: {e}"))))
    }

    /// Every runbook flag's feature, read at once; the flags' values, their views, and what
    /// failed.
    async fn read_all(&self, limit: Duration) -> Observation {
        let mut features: Vec<String> = self.flags.iter().map(|(_, _, f)| f.clone()).collect();
        features.sort();
        features.dedup();
        let mut set = tokio::task::JoinSet::new();
        for f in features {
            let me = self.clone();
            set.spawn(async move {
                let r = me.feature(&f, limit).await;
                (f, r)
            });
        }
        let mut read: BTreeMap<String, Result<Feature, Miss>> = BTreeMap::new();
        while let Some(j) = set.join_next().await {
            if let Ok((f, r)) = j {
                read.insert(f, r);
            }
        }
        self.observation(&read)
    }

    fn observation(&self, read: &BTreeMap<String, Result<Feature, Miss>>) -> Observation {
        let mut flags = BTreeMap::new();
        let mut views = BTreeMap::new();
        let mut errors = Vec::new();
        let mut said = std::collections::BTreeSet::new();
        for (id, kind, feature) in self.flags.iter() {
            match read.get(feature) {
                Some(Ok(f)) => {
                    views.insert(id.clone(), self.view(feature, f));
                    match (kind, &f.rollout) {
                        (FlagKind::Bool, _) => {
                            flags.insert(id.clone(), Value::Bool(f.enabled));
                        }
                        (FlagKind::Percent, Some((_, r))) => {
                            flags.insert(id.clone(), Value::from(*r));
                        }
                        (FlagKind::Percent, None) => errors.push(format!(
                            "Unleash: {feature} has no flexibleRollout strategy in {} (the first write of {id} creates it)",
                            self.cfg.environment
                        )),
                    }
                }
                Some(Err(m)) => {
                    if said.insert(feature.clone()) {
                        errors.push(m.clone().message());
                    }
                }
                None => {
                    if said.insert(feature.clone()) {
                        errors.push(format!("Unleash: read {feature}: no answer"));
                    }
                }
            }
        }
        Observation {
            source: SourceId::Flags.into(),
            flags: Some(flags),
            flag_views: views,
            errors: errors
                .into_iter()
                .map(|m| SourceError {
                    source: SourceId::Flags.into(),
                    message: self.scrub(&m),
                })
                .collect(),
            ..Default::default()
        }
    }

    fn view(&self, feature: &str, f: &Feature) -> FlagView {
        FlagView {
            server: KIND.into(),
            feature: feature.to_string(),
            environment: self.cfg.environment.clone(),
            enabled: f.enabled,
            rollout: f.rollout.as_ref().map(|(_, r)| *r),
        }
    }

    /// Create `feature` in the project (a `release` feature).
    async fn create(&self, feature: &str) -> Result<(), String> {
        let body = serde_json::json!({ "name": feature, "type": "release" });
        let (status, v) = self
            .call(
                reqwest::Method::POST,
                &self.features_path(),
                Some(&body),
                self.write_timeout,
            )
            .await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("create the feature: {}", self.refusal(status, &v)))
        }
    }

    /// The feature as it is before a change, created when missing.
    async fn before_change(&self, feature: &str) -> Result<Feature, String> {
        match self.feature(feature, self.write_timeout).await {
            Ok(f) => Ok(f),
            Err(Miss::NotFound(_)) => {
                self.create(feature).await?;
                self.feature(feature, self.write_timeout)
                    .await
                    .map_err(Miss::message)
            }
            Err(Miss::Failed(e)) => Err(e),
        }
    }

    /// Give `feature` a `flexibleRollout` strategy at `percent` in the environment.
    async fn add_rollout(&self, feature: &str, percent: u64) -> Result<(), String> {
        let body = serde_json::json!({
            "name": "flexibleRollout",
            "parameters": {"rollout": percent.to_string(), "stickiness": "default", "groupId": feature}
        });
        let url = format!("{}/strategies", self.env_path(feature));
        let (status, v) = self
            .call(reqwest::Method::POST, &url, Some(&body), self.write_timeout)
            .await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!(
                "{}: add a flexibleRollout strategy: {}",
                self.cfg.environment,
                self.refusal(status, &v)
            ))
        }
    }

    /// Change what `flag` is to `value`: nothing is sent until the feature was read.
    async fn change(&self, kind: FlagKind, feature: &str, value: &Value) -> Result<(), String> {
        let before = self.before_change(feature).await?;
        let env = &self.cfg.environment;
        let (method, url, body) = match kind {
            FlagKind::Bool => {
                let Some(on) = value.as_bool() else {
                    return Err(format!("{value} is not true or false"));
                };
                // Unleash gives a feature switched on without a strategy a rollout of 100 %:
                // when a percent flag is this feature's rollout, it starts at 0 instead.
                let shared = self
                    .flags
                    .iter()
                    .any(|(_, k, f)| *k == FlagKind::Percent && f == feature);
                if on && shared && before.rollout.is_none() {
                    self.add_rollout(feature, 0).await?;
                }
                let url = format!(
                    "{}/{}",
                    self.env_path(feature),
                    if on { "on" } else { "off" }
                );
                (reqwest::Method::POST, url, None)
            }
            FlagKind::Percent => {
                let Some(p) = value.as_u64().filter(|p| *p <= 100) else {
                    return Err(format!("{value} is not a percent from 0 to 100"));
                };
                let strategies = format!("{}/strategies", self.env_path(feature));
                match &before.rollout {
                    Some((id, _)) => (
                        reqwest::Method::PATCH,
                        format!("{strategies}/{}", enc(id)),
                        Some(serde_json::json!([
                            {"op": "replace", "path": "/parameters/rollout", "value": p.to_string()}
                        ])),
                    ),
                    None => return self.add_rollout(feature, p).await,
                }
            }
        };
        let (status, v) = self
            .call(method, &url, body.as_ref(), self.write_timeout)
            .await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{env}: {}", self.refusal(status, &v)))
        }
    }

    /// What writing `flag` = `value` would do, from the feature as it is now (a dry run: it
    /// only reads).
    pub async fn preview(&self, flag: &str, value: &Value) -> String {
        let Some((_, kind, feature)) = self.flags.iter().find(|(id, _, _)| id == flag).cloned()
        else {
            return format!("Unleash: {flag} is not a flag of the runbook");
        };
        let env = &self.cfg.environment;
        let now = match self.feature(&feature, self.timeout).await {
            Ok(f) => f,
            Err(Miss::NotFound(_)) => {
                return format!(
                    "Unleash: would create the feature {feature}, then set it in {env}"
                );
            }
            Err(Miss::Failed(e)) => return format!("no dry run: {e}"),
        };
        let out = match kind {
            FlagKind::Bool => format!(
                "Unleash: would switch {feature} {} in {env} (now {})",
                if value.as_bool() == Some(true) {
                    "on"
                } else {
                    "off"
                },
                if now.enabled { "on" } else { "off" }
            ),
            FlagKind::Percent => match &now.rollout {
                Some((_, r)) => format!(
                    "Unleash: would set the rollout of {feature} in {env} to {value} % (now {r} %)"
                ),
                None => format!(
                    "Unleash: would give {feature} a flexibleRollout strategy at {value} % in {env}"
                ),
            },
        };
        self.scrub(&out)
    }

    /// Write one flag and read every flag back. `Ok` says what was written and read back;
    /// `Err` what failed or disagreed. The reading comes with either when it worked.
    pub async fn write(
        &self,
        flag: &str,
        value: &Value,
    ) -> (Result<String, String>, Option<Observation>) {
        let Some((_, kind, feature)) = self.flags.iter().find(|(id, _, _)| id == flag).cloned()
        else {
            return (
                Err(format!("Unleash: {flag} is not a flag of the runbook")),
                None,
            );
        };
        let env = self.cfg.environment.clone();
        let what = format!("write {flag}={value} ({feature} in {env})");
        if let Err(e) = self.change(kind, &feature, value).await {
            return (Err(self.scrub(&format!("Unleash: {what}: {e}"))), None);
        }
        let back = self.read_all(self.write_timeout).await;
        let view = back.flag_views.get(flag);
        let got = back.flags.as_ref().and_then(|f| f.get(flag));
        let described = view
            .map(|v| {
                format!(
                    "{} in {}: {}{}",
                    v.feature,
                    v.environment,
                    if v.enabled { "on" } else { "off" },
                    v.rollout
                        .map(|r| format!(", rollout {r}%"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default();
        let out = match got {
            Some(b) if super::flags::same(b, value) => Ok(format!(
                "Unleash: wrote {flag}={value}, read back {described}"
            )),
            Some(b) => Err(format!(
                "Unleash: wrote {flag}={value}, read back {flag}={b} ({described})"
            )),
            None => Err(format!(
                "Unleash: wrote {flag}={value}, but the read-back failed: {}",
                back.errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_else(|| "no value".into())
            )),
        };
        (
            out.map(|s| self.scrub(&s)).map_err(|s| self.scrub(&s)),
            Some(back),
        )
    }
}

/// `{"enabled": true, "strategies": [{"id", "name": "flexibleRollout", "parameters": {"rollout": "25"}}]}`.
pub fn parse_feature(v: &Value) -> Result<Feature, String> {
    let Some(enabled) = v.get("enabled").and_then(Value::as_bool) else {
        return Err("the server's answer has no boolean \"enabled\"".into());
    };
    let strategies = match v.get("strategies") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err("the server's \"strategies\" is not a list".into()),
    };
    let mut rollout = None;
    for s in strategies {
        if s.get("name").and_then(Value::as_str) != Some("flexibleRollout") {
            continue;
        }
        let Some(id) = s.get("id").and_then(Value::as_str) else {
            return Err("a flexibleRollout strategy without an id".into());
        };
        let r = match s.get("parameters").and_then(|p| p.get("rollout")) {
            Some(Value::String(r)) => r.trim().parse::<u32>().ok(),
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            _ => None,
        };
        let Some(r) = r.filter(|r| *r <= 100) else {
            return Err("a flexibleRollout strategy whose rollout is not a percent".into());
        };
        rollout = Some((id.to_string(), r));
        break;
    }
    Ok(Feature { enabled, rollout })
}

impl Source for Unleash {
    fn name(&self) -> SourceId {
        SourceId::Flags
    }

    async fn read(&self) -> Observation {
        self.read_all(self.timeout).await
    }

    fn failed(&self, message: String) -> Observation {
        super::failure(SourceId::Flags, &self.scrub(&message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_feature_in_an_environment() {
        let f = parse_feature(&json!({"enabled": true, "strategies": [
            {"id": "a", "name": "default", "parameters": {}},
            {"id": "b", "name": "flexibleRollout", "parameters": {"rollout": "25"}}
        ]}));
        assert_eq!(
            f,
            Ok(Feature {
                enabled: true,
                rollout: Some(("b".into(), 25))
            })
        );
        assert_eq!(
            parse_feature(&json!({"enabled": false, "strategies": []})),
            Ok(Feature {
                enabled: false,
                rollout: None
            })
        );
        assert!(parse_feature(&json!({"enabled": "yes"})).is_err());
        assert!(parse_feature(&json!([true])).is_err());
        assert!(
            parse_feature(&json!({"enabled": true, "strategies": [
                {"id": "b", "name": "flexibleRollout", "parameters": {"rollout": "250"}}
            ]}))
            .is_err()
        );
    }

    #[test]
    fn the_token_never_prints() {
        let cfg = Config {
            url: "http://127.0.0.1:1".into(),
            token: Token("*:*.s3cr3t-token-value".into()),
            environment: "production".into(),
            project: "default".into(),
            features: BTreeMap::new(),
        };
        assert!(!format!("{cfg:?}").contains("s3cr3t"));
        let u = Unleash::new(cfg, Duration::from_secs(1), &[]).expect("client");
        assert!(!format!("{u:?}").contains("s3cr3t"));
        let echoed = u.scrub("bad token *:*.s3cr3t-token-value and s3cr3t-token-value");
        assert!(!echoed.contains("s3cr3t"), "{echoed}");
    }
}
