//! Pool health: an HTTP GET of each server's health path, all at once, each bounded by a
//! timeout. A server is healthy when it answers 2xx in time.

use super::http::{body_capped, http_client, http_error};
use super::{Endpoints, Source, fmt_secs};
use crate::engine::SourceId;
use crate::engine::{Observation, PoolsObs, ServerObs, SourceError};
use crate::runbook::redact;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Health {
    client: reqwest::Client,
    timeout: Duration,
    blue: Vec<(String, String)>,
    green: Vec<(String, String)>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("blue", &self.blue.len())
            .field("green", &self.green.len())
            .finish()
    }
}

/// The URL of a server's health check: `host:port` gets `http://`; a full URL is kept.
pub fn health_url(server: &str, path: &str) -> String {
    let base = if server.contains("://") {
        server.trim_end_matches('/').to_string()
    } else {
        format!("http://{}", server.trim_end_matches('/'))
    };
    if path.is_empty() {
        base
    } else if path.starts_with('/') {
        format!("{base}{path}")
    } else {
        format!("{base}/{path}")
    }
}

impl Health {
    pub fn new(ep: &Endpoints, timeout: Duration) -> Result<Self, String> {
        let urls = |servers: &[String], path: &str| {
            servers
                .iter()
                .map(|s| (s.clone(), health_url(s, path)))
                .collect()
        };
        Ok(Health {
            client: http_client(timeout)?,
            timeout,
            blue: urls(&ep.blue, &ep.blue_health_path),
            green: urls(&ep.green, &ep.green_health_path),
        })
    }

    /// Check one server.
    pub async fn check(
        client: &reqwest::Client,
        address: &str,
        url: &str,
        timeout: Duration,
    ) -> ServerObs {
        let started = Instant::now();
        let r = client.get(url).timeout(timeout).send().await;
        let latency = started.elapsed().as_secs_f64() * 1000.0;
        match r {
            Ok(resp) if resp.status().is_success() => {
                // Drain the (small) body so the connection can be reused; a slow body is a
                // slow server, and a huge one a broken one.
                let body = tokio::time::timeout(
                    timeout.saturating_sub(started.elapsed()),
                    body_capped(resp, timeout),
                )
                .await;
                match body {
                    Ok(Ok(_)) => ServerObs {
                        address: address.to_string(),
                        healthy: true,
                        latency_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
                        error: None,
                    },
                    Ok(Err(e)) => unhealthy(address, Some(latency), e),
                    Err(_) => unhealthy(
                        address,
                        None,
                        format!("timed out after {}", fmt_secs(timeout)),
                    ),
                }
            }
            Ok(resp) => unhealthy(address, Some(latency), format!("HTTP {}", resp.status())),
            Err(e) => unhealthy(address, None, http_error(&e, timeout)),
        }
    }

    async fn pool(&self, servers: &[(String, String)]) -> Vec<ServerObs> {
        let mut set = tokio::task::JoinSet::new();
        for (i, (address, url)) in servers.iter().enumerate() {
            let client = self.client.clone();
            let (address, url) = (address.clone(), url.clone());
            let timeout = self.timeout;
            set.spawn(async move { (i, Health::check(&client, &address, &url, timeout).await) });
        }
        let mut out: Vec<Option<ServerObs>> = vec![None; servers.len()];
        while let Some(r) = set.join_next().await {
            if let Ok((i, obs)) = r
                && let Some(slot) = out.get_mut(i)
            {
                *slot = Some(obs);
            }
        }
        out.into_iter()
            .zip(servers)
            .map(|(o, (address, _))| {
                o.unwrap_or_else(|| unhealthy(address, None, "the check failed to run".into()))
            })
            .collect()
    }

    /// Check both pools.
    pub async fn check_all(&self) -> (Vec<ServerObs>, Vec<ServerObs>) {
        tokio::join!(self.pool(&self.blue), self.pool(&self.green))
    }
}

fn unhealthy(address: &str, latency_ms: Option<f64>, error: String) -> ServerObs {
    ServerObs {
        address: address.to_string(),
        healthy: false,
        latency_ms,
        error: Some(redact(&error)),
    }
}

impl Source for Health {
    fn name(&self) -> SourceId {
        SourceId::Health
    }

    async fn read(&self) -> Observation {
        let (blue, green) = self.check_all().await;
        Observation {
            source: SourceId::Health.into(),
            pools: Some(PoolsObs {
                active: None,
                green_share: None,
                blue,
                green,
                complete: Vec::new(),
                served: None,
            }),
            ..Default::default()
        }
    }

    fn failed(&self, message: String) -> Observation {
        let down = |servers: &[(String, String)]| {
            servers
                .iter()
                .map(|(a, _)| unhealthy(a, None, message.clone()))
                .collect()
        };
        Observation {
            source: SourceId::Health.into(),
            pools: Some(PoolsObs {
                active: None,
                green_share: None,
                blue: down(&self.blue),
                green: down(&self.green),
                complete: Vec::new(),
                served: None,
            }),
            errors: vec![SourceError {
                source: SourceId::Health.into(),
                message: redact(&message),
            }],
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_urls() {
        assert_eq!(
            health_url("127.0.0.1:3000", "/health"),
            "http://127.0.0.1:3000/health"
        );
        assert_eq!(health_url("h:1", "healthz"), "http://h:1/healthz");
        assert_eq!(
            health_url("https://h.example/", "/health"),
            "https://h.example/health"
        );
    }
}
