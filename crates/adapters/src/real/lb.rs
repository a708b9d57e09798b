//! The load balancer's control API: `POST {base}/switch-to-blue` and `/switch-to-green`,
//! `POST {base}/weights` with `{"green": 25}`, and `GET {base}/status` answering
//! `{"active": "blue", "weights": {"blue": 90, "green": 10}}`. The active pool and the
//! weights are read back after every change.

use super::Source;
use super::http::{base_url, get_json, http_client, http_error, reply_text};
use super::reply::{Field, Obj, decode};
use crate::engine::SourceId;
use crate::engine::{Observation, PoolsObs};
use crate::runbook::{PoolName, redact};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// What `GET /status` says.
#[derive(Debug, Clone, PartialEq)]
pub struct LbStatus {
    pub active: PoolName,
    pub blue: f64,
    pub green: f64,
}

impl LbStatus {
    /// Green's share of the traffic in percent (the weights need not add up to 100).
    pub fn green_percent(&self) -> u32 {
        let total = self.blue + self.green;
        if total <= 0.0 {
            return 0;
        }
        ((self.green / total) * 100.0).round().clamp(0.0, 100.0) as u32
    }

    fn describe(&self) -> String {
        format!(
            "active {}, weights blue {} / green {}",
            self.active,
            num(self.blue),
            num(self.green)
        )
    }
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// The status as an observation of the pools (active pool and green's weight only).
pub fn observation(s: &LbStatus) -> Observation {
    Observation {
        source: SourceId::Lb.into(),
        pools: Some(PoolsObs {
            active: Some(s.active),
            green_share: Some(s.green_percent()),
            blue: Vec::new(),
            green: Vec::new(),
            complete: Vec::new(),
            served: None,
        }),
        ..Default::default()
    }
}

/// What `GET /status` answers: `{"active": "blue", "weights": {"blue": 90, "green": 10}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StatusReply {
    active: Field<String>,
    weights: Field<Obj<Weights>>,
}

/// The weights of the two pools, as the load balancer gives them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Weights {
    blue: Field<f64>,
    green: Field<f64>,
}

/// Parse `{"active": "blue", "weights": {"blue": 90, "green": 10}}`.
pub fn parse_status(v: &Value) -> Result<LbStatus, String> {
    let reply: StatusReply = decode(v);
    let active = match reply.active.get().map(String::as_str) {
        Some("blue") => PoolName::Blue,
        Some("green") => PoolName::Green,
        Some(other) => {
            return Err(format!(
                "status names an unknown active pool `{}`",
                other.chars().take(40).collect::<String>()
            ));
        }
        None => return Err("status without \"active\"".into()),
    };
    let Some(Obj(w)) = reply.weights.get() else {
        return Err("status without \"weights\"".into());
    };
    let weight = |k: &str, x: &Field<f64>| -> Result<f64, String> {
        let x = *x
            .get()
            .ok_or_else(|| format!("status without a numeric weights.{k}"))?;
        if x.is_finite() && x >= 0.0 {
            Ok(x)
        } else {
            Err(format!("status has a negative weights.{k}"))
        }
    };
    Ok(LbStatus {
        active,
        blue: weight("blue", &w.blue)?,
        green: weight("green", &w.green)?,
    })
}

type Written = (Result<String, String>, Option<LbStatus>);

/// Where the control API's calls go under its base URL (`targets.load_balancer`'s
/// `status_path`, `weights_path`, `switch_path`); the seed system's by default.
#[derive(Debug, Clone, PartialEq)]
pub struct Paths {
    pub status: String,
    pub weights: String,
    /// `{pool}` stands for `blue` or `green`.
    pub switch: String,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            status: "/status".into(),
            weights: "/weights".into(),
            switch: "/switch-to-{pool}".into(),
        }
    }
}

#[derive(Clone)]
pub struct LoadBalancer {
    client: reqwest::Client,
    base: String,
    timeout: Duration,
    paths: Paths,
}

impl std::fmt::Debug for LoadBalancer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadBalancer")
            .field("base", &redact(&self.base))
            .finish()
    }
}

impl LoadBalancer {
    pub fn new(base: &str, timeout: Duration) -> Result<Self, String> {
        Ok(LoadBalancer {
            client: http_client(timeout)?,
            base: base_url("lb", base)?,
            timeout,
            paths: Paths::default(),
        })
    }

    /// The same API with its calls at `paths`.
    pub fn with_paths(mut self, paths: Paths) -> Self {
        self.paths = paths;
        self
    }

    pub async fn status(&self) -> Result<LbStatus, String> {
        let v = get_json(
            &self.client,
            &format!("{}{}", self.base, self.paths.status),
            self.timeout,
        )
        .await
        .map_err(|e| format!("load balancer: {e}"))?;
        parse_status(&v).map_err(|e| format!("load balancer: {e}"))
    }

    async fn post(&self, path: &str, body: Option<Value>, what: &str) -> Result<(), String> {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .timeout(self.timeout);
        req = match body {
            Some(b) => req.json(&b),
            None => req.header(reqwest::header::CONTENT_LENGTH, "0"),
        };
        let resp = req
            .send()
            .await
            .map_err(|e| format!("load balancer: {what}: {}", http_error(&e, self.timeout)))?;
        let status = resp.status();
        if !status.is_success() {
            let text = reply_text(resp, self.timeout).await;
            return Err(redact(
                format!("load balancer: {what}: HTTP {status} {text}").trim(),
            ));
        }
        Ok(())
    }

    /// Point all traffic at `to`, then read the status back.
    pub async fn switch(&self, to: PoolName) -> Result<Written, String> {
        let what = format!("switch to {to}");
        let path = self.paths.switch.replace("{pool}", to.as_str());
        self.post(&path, None, &what).await?;
        Ok(match self.status().await {
            Err(e) => (
                Err(format!("{what} sent, but the read-back failed: {e}")),
                None,
            ),
            Ok(s) if s.active == to => (
                Ok(format!(
                    "load balancer: switched to {to}; read back {}",
                    s.describe()
                )),
                Some(s),
            ),
            Ok(s) => (
                Err(format!(
                    "switched to {to}, read back {} (the load balancer did not switch)",
                    s.describe()
                )),
                Some(s),
            ),
        })
    }

    /// Send `green` percent of the traffic to green, then read the weights back.
    pub async fn set_weights(&self, green: u32) -> Result<Written, String> {
        let green = green.min(100);
        let what = format!("set weights green {green}");
        self.post(
            &self.paths.weights,
            Some(serde_json::json!({ "green": green })),
            &what,
        )
        .await?;
        Ok(match self.status().await {
            Err(e) => (
                Err(format!("{what} sent, but the read-back failed: {e}")),
                None,
            ),
            Ok(s) if s.green == green as f64 || s.green_percent() == green => (
                Ok(format!(
                    "load balancer: wrote weights green={green}; read back {}",
                    s.describe()
                )),
                Some(s),
            ),
            Ok(s) => (
                Err(format!(
                    "wrote weights green={green}, read back {}",
                    s.describe()
                )),
                Some(s),
            ),
        })
    }
}

impl Source for LoadBalancer {
    fn name(&self) -> SourceId {
        SourceId::Lb
    }

    async fn read(&self) -> Observation {
        match self.status().await {
            Ok(s) => observation(&s),
            Err(e) => self.failed(e),
        }
    }

    fn failed(&self, message: String) -> Observation {
        super::failure(SourceId::Lb, &message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_status() {
        let s = parse_status(&json!({"active": "blue", "weights": {"blue": 90, "green": 10}}));
        assert_eq!(
            s,
            Ok(LbStatus {
                active: PoolName::Blue,
                blue: 90.0,
                green: 10.0
            })
        );
        assert_eq!(s.map(|s| s.green_percent()), Ok(10));
        let odd = parse_status(&json!({"active": "green", "weights": {"blue": 1, "green": 3}}));
        assert_eq!(odd.map(|s| s.green_percent()), Ok(75));
        assert!(parse_status(&json!({"active": "red", "weights": {}})).is_err());
        assert!(parse_status(&json!({"active": "blue"})).is_err());
        assert!(
            parse_status(&json!({"active": "blue", "weights": {"blue": "x", "green": 1}})).is_err()
        );
        assert!(parse_status(&json!([])).is_err());
    }

    #[test]
    fn a_bad_or_hostile_status_says_what_is_wrong() {
        for (status, want) in [
            (
                json!(["blue", {"blue": 1, "green": 0}]),
                r#"status without "active""#,
            ),
            (json!({"active": 1}), r#"status without "active""#),
            (
                json!({"active": "red", "weights": {}}),
                "status names an unknown active pool `red`",
            ),
            (
                json!({"active": "blue", "weights": [90, 10]}),
                r#"status without "weights""#,
            ),
            (
                json!({"active": "blue", "weights": {"blue": "x", "green": 1}}),
                "status without a numeric weights.blue",
            ),
            (
                json!({"active": "blue", "weights": {"blue": 1}}),
                "status without a numeric weights.green",
            ),
            (
                json!({"active": "blue", "weights": {"blue": 1, "green": -1}}),
                "status has a negative weights.green",
            ),
        ] {
            assert_eq!(parse_status(&status), Err(want.to_string()), "{status}");
        }
    }
}
