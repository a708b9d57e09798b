//! The runbook's SQL checks (metrics with `sql`): each query run in a read-only transaction,
//! its one value read as a number.

use super::Postgres;
use crate::real::fmt_secs;
use crate::runbook::Runbook;
use std::sync::Arc;

/// The runbook's polled SQL checks: metrics with `sql` (a one-shot check, `once`, is run
/// only when asked), as `(metric id, query)`.
pub fn sql_checks(rb: &Runbook) -> Vec<(String, String)> {
    rb.metrics
        .iter()
        .filter(|m| !m.is_once())
        .filter_map(|m| {
            m.sql
                .as_ref()
                .map(|q| (m.id.value.clone(), q.value.clone()))
        })
        .collect()
}

/// The runbook's one-shot SQL checks (`once`), as `(metric id, query)`.
pub fn once_checks(rb: &Runbook) -> std::collections::BTreeMap<String, String> {
    rb.metrics
        .iter()
        .filter(|m| m.is_once())
        .filter_map(|m| {
            m.sql
                .as_ref()
                .map(|q| (m.id.value.clone(), q.value.clone()))
        })
        .collect()
}

/// One one-shot SQL check's answer (or why there is none) as a reading of
/// `<source>:once:<id>`.
pub fn once_observation(
    source: crate::engine::SourceId,
    id: &str,
    answer: Result<f64, String>,
) -> crate::engine::Observation {
    let part = crate::engine::SourceRef::part(source, crate::engine::once_part(id));
    crate::engine::Observation {
        source: part.clone(),
        metrics: [(id.to_string(), answer.as_ref().ok().copied())].into(),
        errors: answer
            .err()
            .map(|message| crate::engine::SourceError {
                source: part,
                message,
            })
            .into_iter()
            .collect(),
        ..Default::default()
    }
}

impl Postgres {
    /// With SQL checks (metrics with `sql`) to run at every reading.
    pub fn with_checks(mut self, checks: Vec<(String, String)>) -> Self {
        self.checks = Arc::new(checks);
        self
    }

    /// Run one SQL check in a read-only transaction; its one value as a number.
    pub async fn check(&self, query: &str) -> Result<f64, String> {
        let run = async {
            let mut tx = self
                .pool
                .begin()
                .await
                .map_err(|e| self.err("cannot begin", e))?;
            sqlx::query("SET TRANSACTION READ ONLY")
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err("cannot make the check read-only", e))?;
            // The runbook's query, as a scalar subquery cast to a number.
            let wrapped = format!(
                "SELECT (({}))::double precision",
                query.trim().trim_end_matches(';')
            );
            let v: Option<f64> = sqlx::query_scalar(sqlx::AssertSqlSafe(wrapped))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| self.err("check failed", e))?;
            let _ = tx.rollback().await;
            v.filter(|v| v.is_finite())
                .ok_or_else(|| "the check returned no number (NULL)".to_string())
        };
        match tokio::time::timeout(self.timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "check did not answer within {}",
                fmt_secs(self.timeout)
            )),
        }
    }
}
