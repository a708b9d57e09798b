//! Reading a rollout's log from PostgreSQL: what follows a `seq`, the whole log streamed
//! through the verifier, and the rollouts a database holds.

use super::*;
use futures_util::TryStreamExt;

const SELECT_AFTER: &str = "SELECT seq, at, operator, kind, payload, prev_hash, hash
    FROM warroom.audit WHERE rollout = $1 AND seq > $2 ORDER BY seq";

type Row = (i64, String, String, String, String, String, String);

fn record((seq, at, operator, kind, payload, prev_hash, hash): Row) -> Record {
    Record {
        seq,
        at,
        operator,
        kind,
        payload,
        prev_hash,
        hash,
    }
}

/// The records of a rollout after `after`, in order.
pub(crate) async fn read_after(
    c: &mut PgConnection,
    url: &str,
    rollout: &str,
    after: i64,
) -> Result<Vec<Record>, String> {
    let rows: Vec<Row> = sqlx::query_as(SELECT_AFTER)
        .bind(rollout)
        .bind(after)
        .fetch_all(&mut *c)
        .await
        .map_err(|e| failed(url, "cannot read the audit log", &e))?;
    Ok(rows.into_iter().map(record).collect())
}

/// A rollout's log, for reading (verify, export, replay, copy, watch).
pub struct PgLog {
    url: String,
    pub rollout: String,
    conn: PgConnection,
}

impl PgLog {
    /// Connect and find the rollout: the one named, or the only one the database holds.
    /// Refused when the database has no warroom schema, or the rollout no records.
    pub async fn open(url: &str, rollout: Option<&str>) -> Result<PgLog, String> {
        let mut conn = connect(url, "warroom: reader").await?;
        let fail = |e: sqlx::Error| failed(url, "cannot read the audit log", &e);
        if !has_schema(&mut conn).await.map_err(fail)? {
            return Err(format!(
                "{}: holds no warroom audit log (no schema `warroom`); a console creates it: `warroom demo --store URL`",
                redact(url)
            ));
        }
        check_format(&mut conn, url).await?;
        // A rollout named and there is found by its key; listing them all reads every record.
        if let Some(r) = rollout {
            let r = rollout_name(r)?;
            let held: Option<i64> =
                sqlx::query_scalar("SELECT max(seq) FROM warroom.audit WHERE rollout = $1")
                    .bind(&r)
                    .fetch_one(&mut conn)
                    .await
                    .map_err(fail)?;
            if held.is_some() {
                return Ok(PgLog {
                    url: url.to_string(),
                    rollout: r,
                    conn,
                });
            }
        }
        let known = rollouts(&mut conn, url).await?;
        let names = || {
            known
                .iter()
                .map(|(r, n)| format!("{} ({n} records)", crate::text::clean(r)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let rollout = match rollout {
            Some(r) => {
                let r = rollout_name(r)?;
                if !known.iter().any(|(k, _)| *k == r) {
                    return Err(format!(
                        "{}: no rollout `{}` here; the database holds: {}",
                        redact(url),
                        crate::text::clean(&r),
                        if known.is_empty() {
                            "none".into()
                        } else {
                            names()
                        }
                    ));
                }
                r
            }
            None => match known.as_slice() {
                [(only, _)] => only.clone(),
                [] => {
                    return Err(format!("{}: holds no rollout yet", redact(url)));
                }
                _ => {
                    return Err(format!(
                        "{}: holds several rollouts; name one with --rollout NAME: {}",
                        redact(url),
                        names()
                    ));
                }
            },
        };
        Ok(PgLog {
            url: url.to_string(),
            rollout,
            conn,
        })
    }

    /// Every record of the rollout.
    pub async fn read_all(&mut self) -> Result<Vec<Record>, String> {
        self.read_after(0).await
    }

    /// The first records (a page): the session record names the runbook.
    pub async fn first_page(&mut self) -> Result<Vec<Record>, String> {
        let mut src = PgSource {
            c: &mut self.conn,
            url: &self.url,
            rollout: &self.rollout,
            snapshots: false,
        };
        src.page(0, PAGE).await
    }

    /// The records after `seq`.
    pub async fn read_after(&mut self, seq: i64) -> Result<Vec<Record>, String> {
        read_after(&mut self.conn, &self.url, &self.rollout, seq).await
    }

    /// Verify the rollout's chain in one streamed pass (the records are not kept).
    pub async fn verify(&mut self, expect: Option<&str>) -> Result<Verdict, String> {
        let mut v = Verifier::new(expect, None);
        let mut rows = sqlx::query_as::<_, Row>(SELECT_AFTER)
            .bind(&self.rollout)
            .bind(0_i64)
            .fetch(&mut self.conn);
        while let Some(r) = rows
            .try_next()
            .await
            .map_err(|e| failed(&self.url, "cannot read the audit log", &e))?
        {
            let (seq, at, operator, kind, payload, prev_hash, hash) = r;
            if !v.push(seq, &at, &operator, &kind, &payload, &prev_hash, &hash) {
                break;
            }
        }
        Ok(v.finish())
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// The rollouts a database holds, with their record counts, by name.
pub(crate) async fn rollouts(
    c: &mut PgConnection,
    url: &str,
) -> Result<Vec<(String, i64)>, String> {
    sqlx::query_as("SELECT rollout, max(seq) FROM warroom.audit GROUP BY rollout ORDER BY rollout")
        .fetch_all(&mut *c)
        .await
        .map_err(|e| failed(url, "cannot list the rollouts", &e))
}

/// A rollout read for a resume (snapshots, the chain at a `seq`, the records after one).
pub(crate) struct PgSource<'a> {
    c: &'a mut PgConnection,
    url: &'a str,
    rollout: &'a str,
    snapshots: bool,
}

impl<'a> PgSource<'a> {
    pub(crate) async fn new(
        c: &'a mut PgConnection,
        url: &'a str,
        rollout: &'a str,
    ) -> Result<PgSource<'a>, String> {
        // A schema that predates snapshots has no table for them, and a role granted before
        // them may not read it: the whole log is folded then.
        let snapshots = has_snapshots(c).await
            && sqlx::query_scalar::<_, bool>(
                "SELECT has_table_privilege('warroom.snapshots', 'SELECT')",
            )
            .fetch_one(&mut *c)
            .await
            .unwrap_or(false);
        Ok(PgSource {
            c,
            url,
            rollout,
            snapshots,
        })
    }

    fn fail(&self) -> impl Fn(sqlx::Error) -> String + '_ {
        |e| failed(self.url, "cannot read the audit log", &e)
    }
}

impl SnapshotSource for PgSource<'_> {
    async fn newest(&mut self) -> Result<Vec<i64>, String> {
        if !self.snapshots {
            return Ok(Vec::new());
        }
        let r = sqlx::query_scalar(
            "SELECT seq FROM warroom.snapshots WHERE rollout = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(self.rollout)
        .bind(TRIED)
        .fetch_all(&mut *self.c)
        .await;
        r.map_err(self.fail())
    }

    async fn snapshot(&mut self, seq: i64) -> Result<Option<Snapshot>, String> {
        type Row = (i64, String, String, String, String, String);
        let r: Result<Option<Row>, _> = sqlx::query_as(
            "SELECT seq, hash, runbook_sha256, format, state, digest
               FROM warroom.snapshots WHERE rollout = $1 AND seq = $2",
        )
        .bind(self.rollout)
        .bind(seq)
        .fetch_optional(&mut *self.c)
        .await;
        Ok(r.map_err(self.fail())?
            .map(
                |(seq, hash, runbook_sha256, format, state, digest)| Snapshot {
                    seq,
                    hash,
                    runbook_sha256,
                    format,
                    state,
                    digest,
                },
            ))
    }

    async fn hash_at(&mut self, seq: i64) -> Result<Option<String>, String> {
        let r =
            sqlx::query_scalar("SELECT hash FROM warroom.audit WHERE rollout = $1 AND seq = $2")
                .bind(self.rollout)
                .bind(seq)
                .fetch_optional(&mut *self.c)
                .await;
        r.map_err(self.fail())
    }

    async fn page(&mut self, after: i64, limit: i64) -> Result<Vec<Record>, String> {
        let rows: Result<Vec<Row>, _> = sqlx::query_as(
            "SELECT seq, at, operator, kind, payload, prev_hash, hash
               FROM warroom.audit WHERE rollout = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(self.rollout)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *self.c)
        .await;
        Ok(rows.map_err(self.fail())?.into_iter().map(record).collect())
    }
}

impl PgLog {
    /// The rollout's state as a console resumes it (`snapshot.rs`): for a console about to
    /// open it (who led it?) and for `status`.
    pub async fn resume(&mut self, basis: Basis<'_>) -> Result<Resumed, String> {
        let shown = format!(
            "{} rollout {}",
            redact(&self.url),
            crate::text::clean(&self.rollout)
        );
        match self.resume_checked(basis).await? {
            Ok(r) => Ok(r),
            Err((seq, problem)) => Err(format!("{shown}: does not verify at seq {seq}: {problem}")),
        }
    }

    /// [`PgLog::resume`], or the first bad record from the snapshot on and what is wrong.
    pub(crate) async fn resume_checked(
        &mut self,
        basis: Basis<'_>,
    ) -> Result<Result<Resumed, (i64, String)>, String> {
        let shown = format!(
            "{} rollout {}",
            redact(&self.url),
            crate::text::clean(&self.rollout)
        );
        let mut src = PgSource::new(&mut self.conn, &self.url, &self.rollout).await?;
        resume_from(&mut src, basis, None, &shown).await
    }
}

/// A rollout read for a replay, a page at a time (`replay.rs`).
pub struct PgPages {
    log: PgLog,
    snapshots: bool,
}

impl PgPages {
    pub(crate) async fn open(url: &str, rollout: Option<&str>) -> Result<PgPages, String> {
        let mut log = PgLog::open(url, rollout).await?;
        let snapshots = PgSource::new(&mut log.conn, &log.url, &log.rollout)
            .await?
            .snapshots;
        Ok(PgPages { log, snapshots })
    }

    fn src(&mut self) -> PgSource<'_> {
        PgSource {
            c: &mut self.log.conn,
            url: &self.log.url,
            rollout: &self.log.rollout,
            snapshots: self.snapshots,
        }
    }
}

impl SnapshotSource for PgPages {
    async fn newest(&mut self) -> Result<Vec<i64>, String> {
        self.src().newest().await
    }
    async fn snapshot(&mut self, seq: i64) -> Result<Option<Snapshot>, String> {
        self.src().snapshot(seq).await
    }
    async fn hash_at(&mut self, seq: i64) -> Result<Option<String>, String> {
        self.src().hash_at(seq).await
    }
    async fn page(&mut self, after: i64, limit: i64) -> Result<Vec<Record>, String> {
        self.src().page(after, limit).await
    }
}

impl crate::replay::PageSource for PgPages {
    async fn len(&mut self) -> Result<i64, String> {
        let s = self.src();
        let r = sqlx::query_scalar(
            "SELECT coalesce(max(seq), 0) FROM warroom.audit WHERE rollout = $1",
        )
        .bind(s.rollout)
        .fetch_one(&mut *s.c)
        .await;
        r.map_err(s.fail())
    }

    async fn snapshots_upto(&mut self, seq: i64) -> Result<Vec<i64>, String> {
        let s = self.src();
        if !s.snapshots {
            return Ok(Vec::new());
        }
        let r = sqlx::query_scalar(
            "SELECT seq FROM warroom.snapshots WHERE rollout = $1 AND seq <= $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(s.rollout)
        .bind(seq)
        .bind(TRIED)
        .fetch_all(&mut *s.c)
        .await;
        r.map_err(s.fail())
    }

    async fn times(&mut self, after: i64, limit: i64) -> Result<Vec<(i64, String)>, String> {
        let s = self.src();
        let r = sqlx::query_as(
            "SELECT seq, at FROM warroom.audit WHERE rollout = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(s.rollout)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *s.c)
        .await;
        r.map_err(s.fail())
    }

    async fn find(
        &mut self,
        from: i64,
        forward: bool,
        kinds: crate::replay::Kinds,
    ) -> Result<Option<i64>, String> {
        let s = self.src();
        let sql = kinds.find_sql(forward, "warroom.audit", "rollout = $1", "$2");
        let r = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(s.rollout)
            .bind(from)
            .fetch_optional(&mut *s.c)
            .await;
        r.map_err(s.fail())
    }
}
