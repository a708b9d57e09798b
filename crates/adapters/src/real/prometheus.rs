//! Prometheus: an instant query per metric every interval, and range queries to look back.
//!
//! A failing, slow or lying server gives `None` for the metrics it covers and a
//! `SourceError` (`prometheus` when every query failed, `prometheus:<metric>` for one), so
//! the engine shows them stale; it never blocks anything else.
//!
//! Reading the API's answers is in `prometheus/answer.rs`.

mod answer;

use super::http::{base_url, body_capped, http_client, http_error};
use super::{Source, fmt_secs};
use crate::engine::SourceId;
use crate::engine::SourceRef;
use crate::engine::{Observation, SourceError, Time};
use crate::runbook::{Runbook, redact};
use answer::{Data, data};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How many queries are in flight at once.
const CONCURRENCY: usize = 8;

/// A metric read from Prometheus: its id, PromQL and scale.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    pub id: String,
    pub query: String,
    pub scale: f64,
}

/// The runbook's metrics that have a `query`.
pub fn queries(rb: &Runbook) -> Vec<MetricQuery> {
    rb.metrics
        .iter()
        .filter_map(|m| {
            let q = m.query.as_deref()?.trim();
            (!q.is_empty()).then(|| MetricQuery {
                id: m.id.value.clone(),
                query: q.to_string(),
                scale: m.scale,
            })
        })
        .collect()
}

#[derive(Clone)]
pub struct Prometheus {
    client: reqwest::Client,
    base: String,
    timeout: Duration,
    queries: Arc<Vec<MetricQuery>>,
}

impl Prometheus {
    /// A client for the HTTP API at `base` (e.g. `http://127.0.0.1:9090`); each request is
    /// bounded by `timeout`.
    pub fn new(base: &str, timeout: Duration, queries: Vec<MetricQuery>) -> Result<Self, String> {
        Ok(Prometheus {
            client: http_client(timeout)?,
            base: base_url("prometheus", base)?,
            timeout,
            queries: Arc::new(queries),
        })
    }

    pub fn queries(&self) -> &[MetricQuery] {
        &self.queries
    }

    fn url(&self, path: &str, params: &[(&str, String)]) -> Result<reqwest::Url, String> {
        let mut u = reqwest::Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| format!("bad URL: {e}"))?;
        {
            let mut q = u.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k, v);
            }
        }
        Ok(u)
    }

    async fn get(&self, url: reqwest::Url) -> Result<Data, String> {
        let resp = self
            .client
            .get(url)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| http_error(&e, self.timeout))?;
        let status = resp.status();
        let body = body_capped(resp, self.timeout).await?;
        data(status, &body)
    }

    /// The value of an instant query that returns one series or a scalar.
    pub async fn instant(&self, query: &str) -> Result<f64, String> {
        // Ask the server to give up a little before we do, so that its error is the one seen.
        let server_timeout = format!("{}ms", (self.timeout.as_millis() * 9 / 10).max(100));
        let url = self.url(
            "/api/v1/query",
            &[("query", query.to_string()), ("timeout", server_timeout)],
        )?;
        self.get(url).await?.instant()
    }

    /// A range query: the samples of the one series it returns, `(unix seconds, value)`;
    /// non-finite values are `None`.
    pub async fn range(
        &self,
        query: &str,
        start: Time,
        end: Time,
        step: Duration,
    ) -> Result<Vec<(f64, Option<f64>)>, String> {
        let secs = |t: Time| format!("{:.3}", t.timestamp_millis() as f64 / 1000.0);
        let url = self.url(
            "/api/v1/query_range",
            &[
                ("query", query.to_string()),
                ("start", secs(start)),
                ("end", secs(end)),
                ("step", format!("{}", step.as_secs_f64().max(0.001))),
            ],
        )?;
        self.get(url).await?.range()
    }

    /// The last `points` samples of each metric, `interval` apart, ending now; for filling
    /// the sparklines when a session starts. Metrics that fail are left out.
    pub async fn history(
        &self,
        now: Time,
        interval: Duration,
        points: usize,
    ) -> BTreeMap<String, Vec<Option<f64>>> {
        let span = chrono::Duration::from_std(interval * points.saturating_sub(1) as u32)
            .unwrap_or_default();
        let mut out = BTreeMap::new();
        for q in self.queries.iter() {
            if let Ok(samples) = self.range(&q.query, now - span, now, interval).await {
                out.insert(
                    q.id.clone(),
                    samples
                        .into_iter()
                        .map(|(_, v)| v.map(|v| v * q.scale))
                        .collect(),
                );
            }
        }
        out
    }
}

impl Source for Prometheus {
    fn name(&self) -> SourceId {
        SourceId::Prometheus
    }

    async fn read(&self) -> Observation {
        let sem = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        let mut set = tokio::task::JoinSet::new();
        for (i, q) in self.queries.iter().enumerate() {
            let me = self.clone();
            let q = q.clone();
            let sem = sem.clone();
            set.spawn(async move {
                let _permit = sem.acquire().await;
                (i, me.instant(&q.query).await.map(|v| v * q.scale))
            });
        }
        let mut results: Vec<Option<Result<f64, String>>> = vec![None; self.queries.len()];
        while let Some(r) = set.join_next().await {
            if let Ok((i, v)) = r
                && let Some(slot) = results.get_mut(i)
            {
                *slot = Some(v);
            }
        }
        let mut metrics = BTreeMap::new();
        let mut failures = Vec::new();
        for (q, r) in self.queries.iter().zip(results) {
            let r = r.unwrap_or_else(|| Err("the query task failed".into()));
            match r {
                Ok(v) => {
                    metrics.insert(q.id.clone(), Some(v));
                }
                Err(e) => {
                    metrics.insert(q.id.clone(), None);
                    failures.push((q.id.clone(), e));
                }
            }
        }
        let errors = if !failures.is_empty() && failures.len() == self.queries.len() {
            // Every query failed: the server, not the queries. One error says it.
            let same = failures.iter().all(|(_, e)| *e == failures[0].1);
            vec![SourceError {
                source: SourceId::Prometheus.into(),
                message: if same {
                    failures[0].1.clone()
                } else {
                    format!("every query failed; {}: {}", failures[0].0, failures[0].1)
                },
            }]
        } else {
            failures
                .into_iter()
                .map(|(id, e)| SourceError {
                    source: SourceRef::part(SourceId::Prometheus, id),
                    message: e,
                })
                .collect()
        };
        Observation {
            source: SourceId::Prometheus.into(),
            metrics,
            errors,
            ..Default::default()
        }
    }

    fn failed(&self, message: String) -> Observation {
        Observation {
            metrics: self.queries.iter().map(|q| (q.id.clone(), None)).collect(),
            ..super::failure(SourceId::Prometheus, &message)
        }
    }
}

impl std::fmt::Debug for Prometheus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prometheus")
            .field("base", &redact(&self.base))
            .field("timeout", &fmt_secs(self.timeout))
            .field("queries", &self.queries.len())
            .finish()
    }
}
