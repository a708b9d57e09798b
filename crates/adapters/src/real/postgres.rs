//! PostgreSQL: golang-migrate's `schema_migrations` (version, dirty), a migration in
//! progress (an advisory lock held by another session), and replication lag.
//!
//! Replication lag is read from the database in `targets.database`: on a primary, the largest
//! `replay_lag` in `pg_stat_replication` (no row means no replica is connected: unknown, not
//! 0); on a replica, `now() - pg_last_xact_replay_timestamp()`. It is the value of every metric
//! that says `from: postgres_replication`.
//!
//! The connection URL holds a password: it is never shown; every message goes through
//! `redact`.
//!
//! The SQL checks are in `postgres/check.rs`.

mod check;

pub use check::{once_checks, once_observation, sql_checks};

use super::{Source, fmt_secs};
use crate::engine::{MigrationObs, Observation, SourceError};
use crate::engine::{SourceId, SourceRef};
use crate::runbook::{Runbook, redact};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::sync::Arc;
use std::time::Duration;

/// The runbook's metrics that this source fills with the replication lag: those that say
/// `from: postgres_replication`.
pub fn metric_ids(rb: &Runbook) -> Vec<String> {
    rb.metrics
        .iter()
        .filter(|m| m.builtin() == Some(crate::runbook::Builtin::PostgresReplication))
        .map(|m| m.id.value.clone())
        .collect()
}

/// One reading of the database.
#[derive(Debug, Clone, PartialEq)]
pub struct DbReading {
    pub migration: Result<MigrationObs, String>,
    /// Seconds.
    pub lag: Result<f64, String>,
    /// Each SQL check's value: `(metric id, value or error)`.
    pub checks: Vec<(String, Result<f64, String>)>,
}

#[derive(Clone)]
pub struct Postgres {
    pool: PgPool,
    timeout: Duration,
    /// golang-migrate's table, quoted (`"schema_migrations"`, or `x-migrations-table`).
    table: String,
    metrics: Arc<Vec<String>>,
    /// SQL checks: `(metric id, query)`.
    checks: Arc<Vec<(String, String)>>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("table", &self.table)
            .finish()
    }
}

/// Quote a table name (`name` or `schema.name`); None when it is not a plain identifier.
fn quote_table(name: &str) -> Option<String> {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.is_empty() || parts.len() > 2 {
        return None;
    }
    let ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    parts.iter().all(|p| ok(p)).then(|| {
        parts
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect::<Vec<_>>()
            .join(".")
    })
}

impl Postgres {
    /// A lazily connecting pool for `url` (`postgres://user:password@host:port/db?…`). Each
    /// query is bounded by `timeout`.
    pub fn new(url: &str, timeout: Duration, metrics: Vec<String>) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| format!("postgres: the database URL is not a URL: {e}"))?;
        if parsed.scheme() != "postgres" && parsed.scheme() != "postgresql" {
            return Err(format!(
                "postgres: the database URL must start with postgres:// (it starts with {}://)",
                parsed.scheme()
            ));
        }
        let table = match parsed
            .query_pairs()
            .find(|(k, _)| k == "x-migrations-table")
            .map(|(_, v)| v.to_string())
        {
            None => "\"schema_migrations\"".to_string(),
            Some(t) => quote_table(&t)
                .ok_or_else(|| format!("postgres: x-migrations-table `{t}` is not a table name"))?,
        };
        // golang-migrate's own parameters mean nothing to PostgreSQL.
        let mut clean = parsed.clone();
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| !k.starts_with("x-"))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        clean.set_query(None);
        if !kept.is_empty() {
            clean.query_pairs_mut().extend_pairs(kept);
        }
        let opts: PgConnectOptions = clean
            .as_str()
            .parse()
            .map_err(|e: sqlx::Error| redact(&format!("postgres: bad database URL: {e}")))?;
        let opts = opts.application_name("warroom").disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .acquire_timeout(timeout)
            .idle_timeout(Some(Duration::from_secs(60)))
            .connect_lazy_with(opts);
        Ok(Postgres {
            pool,
            timeout,
            table,
            metrics: Arc::new(metrics),
            checks: Arc::new(Vec::new()),
        })
    }

    fn err(&self, what: &str, e: sqlx::Error) -> String {
        let msg = match &e {
            sqlx::Error::PoolTimedOut => {
                return format!("cannot connect within {}", fmt_secs(self.timeout));
            }
            sqlx::Error::Database(d) => d.message().to_string(),
            other => other.to_string(),
        };
        redact(&format!("{what}: {msg}"))
    }

    async fn bounded<T>(
        &self,
        what: &str,
        f: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, String> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.err(what, e)),
            Err(_) => Err(format!(
                "{what}: no answer within {}",
                fmt_secs(self.timeout)
            )),
        }
    }

    /// The schema version and its dirty bit; `None` when nothing was ever applied (no table,
    /// or an empty one).
    pub async fn schema_version(&self) -> Result<(Option<i64>, bool), String> {
        let sql = format!("SELECT version, dirty FROM {} LIMIT 1", self.table);
        let r = tokio::time::timeout(
            self.timeout,
            sqlx::query_as::<_, (i64, bool)>(sqlx::AssertSqlSafe(sql)).fetch_optional(&self.pool),
        )
        .await;
        match r {
            Err(_) => Err(format!(
                "schema_migrations: no answer within {}",
                fmt_secs(self.timeout)
            )),
            Ok(Ok(Some((v, dirty)))) => Ok((Some(v), dirty)),
            Ok(Ok(None)) => Ok((None, false)),
            // 42P01: undefined_table: no migration ever ran here.
            Ok(Err(sqlx::Error::Database(d))) if d.code().as_deref() == Some("42P01") => {
                Ok((None, false))
            }
            Ok(Err(e)) => Err(self.err("schema_migrations", e)),
        }
    }

    /// Whether another session holds an advisory lock (golang-migrate holds one while it
    /// migrates).
    pub async fn migration_in_progress(&self) -> Result<bool, String> {
        let n: i64 = self
            .bounded(
                "pg_locks",
                sqlx::query_scalar(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()",
                )
                .fetch_one(&self.pool),
            )
            .await?;
        Ok(n > 0)
    }

    pub async fn migration(&self) -> Result<MigrationObs, String> {
        let (version, dirty) = self.schema_version().await?;
        let in_progress = self.migration_in_progress().await?;
        Ok(MigrationObs {
            version,
            dirty,
            in_progress,
        })
    }

    /// Replication lag in seconds, from the primary or the replica.
    pub async fn replication_lag(&self) -> Result<f64, String> {
        let replica: bool = self
            .bounded(
                "pg_is_in_recovery",
                sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&self.pool),
            )
            .await?;
        if replica {
            let lag: Option<f64> = self
                .bounded(
                    "replica lag",
                    sqlx::query_scalar(
                        "SELECT EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))::float8",
                    )
                    .fetch_one(&self.pool),
                )
                .await?;
            return lag
                .map(|l| l.max(0.0))
                .ok_or_else(|| "replica: no transaction replayed yet".to_string());
        }
        let rows: Vec<(Option<String>, Option<f64>)> = self
            .bounded(
                "pg_stat_replication",
                sqlx::query_as(
                    "SELECT state::text, EXTRACT(EPOCH FROM replay_lag)::float8 FROM pg_stat_replication",
                )
                .fetch_all(&self.pool),
            )
            .await?;
        if rows.is_empty() {
            return Err("no replica connected (pg_stat_replication is empty)".into());
        }
        if rows.iter().all(|(state, _)| state.is_none()) {
            return Err("pg_stat_replication is hidden from this role; grant it pg_monitor".into());
        }
        // A NULL replay_lag on a connected replica means it has caught up and WAL is idle.
        Ok(rows
            .iter()
            .map(|(_, lag)| lag.unwrap_or(0.0).max(0.0))
            .fold(0.0, f64::max))
    }

    /// One reading: the migration state and the replication lag.
    pub async fn reading(&self) -> DbReading {
        // Connect once first, so that a dead server gives one error, not one per query.
        let conn = tokio::time::timeout(self.timeout, self.pool.acquire()).await;
        let down = match conn {
            Ok(Ok(c)) => {
                drop(c);
                None
            }
            Ok(Err(e)) => Some(self.err("cannot connect", e)),
            Err(_) => Some(format!("cannot connect within {}", fmt_secs(self.timeout))),
        };
        if let Some(e) = down {
            return DbReading {
                migration: Err(e.clone()),
                lag: Err(e.clone()),
                checks: self
                    .checks
                    .iter()
                    .map(|(id, _)| (id.clone(), Err(e.clone())))
                    .collect(),
            };
        }
        let (migration, lag) = tokio::join!(self.migration(), self.replication_lag());
        let mut checks = Vec::with_capacity(self.checks.len());
        for (id, q) in self.checks.iter() {
            checks.push((id.clone(), self.check(q).await));
        }
        DbReading {
            migration,
            lag,
            checks,
        }
    }

    pub fn observation(&self, r: &DbReading) -> Observation {
        let mut errors = Vec::new();
        let connect_failed = matches!((&r.migration, &r.lag), (Err(a), Err(b)) if a == b);
        if connect_failed {
            if let Err(e) = &r.migration {
                errors.push(SourceError {
                    source: SourceId::Postgres.into(),
                    message: e.clone(),
                });
            }
        } else {
            if let Err(e) = &r.migration {
                errors.push(SourceError {
                    source: SourceRef::part(SourceId::Postgres, "migrations"),
                    message: e.clone(),
                });
            }
            if let Err(e) = &r.lag {
                errors.push(SourceError {
                    source: SourceRef::part(SourceId::Postgres, "replication"),
                    message: e.clone(),
                });
            }
        }
        if !connect_failed {
            for (id, v) in &r.checks {
                if let Err(e) = v {
                    errors.push(SourceError {
                        source: SourceRef::part(SourceId::Postgres, format!("check:{id}")),
                        message: e.clone(),
                    });
                }
            }
        }
        let mut metrics: std::collections::BTreeMap<String, Option<f64>> = self
            .metrics
            .iter()
            .map(|id| (id.clone(), r.lag.as_ref().ok().copied()))
            .collect();
        for (id, v) in &r.checks {
            metrics.insert(id.clone(), v.as_ref().ok().copied());
        }
        Observation {
            source: SourceId::Postgres.into(),
            metrics,
            migration: r.migration.as_ref().ok().cloned(),
            errors,
            ..Default::default()
        }
    }
}

impl Source for Postgres {
    fn name(&self) -> SourceId {
        SourceId::Postgres
    }

    async fn read(&self) -> Observation {
        let r = self.reading().await;
        self.observation(&r)
    }

    fn failed(&self, message: String) -> Observation {
        Observation {
            source: SourceId::Postgres.into(),
            metrics: self
                .metrics
                .iter()
                .chain(self.checks.iter().map(|(id, _)| id))
                .map(|id| (id.clone(), None))
                .collect(),
            ..super::failure(SourceId::Postgres, &message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const LAG: &str = "lag_metric";

    #[test]
    fn table_names_are_quoted_or_refused() {
        assert_eq!(
            quote_table("schema_migrations").as_deref(),
            Some("\"schema_migrations\"")
        );
        assert_eq!(quote_table("app.migs").as_deref(), Some("\"app\".\"migs\""));
        assert_eq!(quote_table("x; drop table y"), None);
        assert_eq!(quote_table("a.b.c"), None);
    }

    #[tokio::test]
    async fn a_bad_url_never_shows_its_password() {
        let e = Postgres::new("mysql://u:hunter2@h/db", Duration::from_secs(1), vec![])
            .err()
            .unwrap_or_default();
        assert!(!e.is_empty() && !e.contains("hunter2"), "{e}");
        let e = Postgres::new(
            "postgres://u:hunter2@h/db?x-migrations-table=bad;name",
            Duration::from_secs(1),
            vec![],
        )
        .err()
        .unwrap_or_default();
        assert!(!e.is_empty() && !e.contains("hunter2"), "{e}");
    }

    #[tokio::test]
    async fn a_dead_server_is_one_error_without_the_password() {
        // Port 1 on loopback: nothing listens there.
        let pg = match Postgres::new(
            "postgres://app:hunter2@127.0.0.1:1/db",
            Duration::from_millis(800),
            vec![LAG.into()],
        ) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        let o = pg.read().await;
        assert_eq!(o.errors.len(), 1, "{:?}", o.errors);
        assert_eq!(o.errors[0].source.to_string(), "postgres");
        assert!(!o.errors[0].message.contains("hunter2"));
        assert_eq!(o.metrics.get(LAG), Some(&None));
        assert_eq!(o.migration, None);
    }
}
