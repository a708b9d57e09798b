//! The lead's lease: rows per rollout (`warroom.leases`: who, since, renewed, expires), one
//! appended by the lead's heartbeat every few seconds (the newest is the lease: the table is
//! append-only like the log, and a console's role needs no UPDATE), so that everyone sees
//! whether the lead is alive.
//! The heartbeat owns the connection that holds the rollout's writer lock: when PostgreSQL
//! restarts, it connects again and takes the lock back — unless another console took it
//! meanwhile, which it then says. Each renewal notifies the rollout's channel (`lease`), so
//! observers read the row when it changes, without polling.

use super::*;
use tokio::sync::watch;

/// How often the lead renews its lease, and how long a renewal holds.
pub const LEASE_RENEW: Duration = Duration::from_secs(5);
pub const LEASE_TTL: Duration = Duration::from_secs(15);

/// The payload of a lease notification (a record's is its `seq`).
pub const LEASE_PAYLOAD: &str = "lease";

/// A rollout's lease as the table holds it (times in UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub operator: String,
    pub since: Time,
    pub renewed: Time,
    pub expires: Time,
}

impl Lease {
    pub fn expired(&self, now: Time) -> bool {
        now >= self.expires
    }
}

/// What the heartbeat knows of this console's lead.
#[derive(Debug, Clone, PartialEq)]
pub enum LeaseState {
    /// Held and renewed.
    Held,
    /// The connection is lost; the lease runs out unless it comes back (why).
    Lost(String),
    /// Another console holds the rollout now: this one no longer leads.
    TakenBy(String),
}

fn time(secs: f64) -> Time {
    chrono::DateTime::from_timestamp_millis((secs * 1000.0) as i64).unwrap_or_default()
}

/// Renew the lease for [`LEASE_TTL`] (or, with `end`, end it now) and notify observers. The
/// lease keeps its `since` while the same operator holds it without a break.
pub(crate) async fn renew(
    c: &mut PgConnection,
    rollout: &str,
    operator: &str,
    end: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO warroom.leases (rollout, operator, since, renewed, expires)
         VALUES ($1, $2,
            coalesce((SELECT CASE WHEN operator = $2 AND expires > now() THEN since END
                        FROM warroom.leases WHERE rollout = $1 ORDER BY renewed DESC LIMIT 1),
                     now()),
            now(), now() + make_interval(secs => $3))",
    )
    .bind(rollout)
    .bind(operator)
    .bind(if end { 0.0 } else { LEASE_TTL.as_secs_f64() })
    .execute(&mut *c)
    .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel(rollout))
        .bind(LEASE_PAYLOAD)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// A rollout's lease, if one was ever taken.
pub(crate) async fn read_lease(
    c: &mut PgConnection,
    rollout: &str,
) -> Result<Option<Lease>, sqlx::Error> {
    let row: Option<(String, f64, f64, f64)> = sqlx::query_as(
        "SELECT operator, extract(epoch FROM since)::float8, extract(epoch FROM renewed)::float8,
                extract(epoch FROM expires)::float8
           FROM warroom.leases WHERE rollout = $1 ORDER BY renewed DESC LIMIT 1",
    )
    .bind(rollout)
    .fetch_optional(&mut *c)
    .await?;
    Ok(row.map(|(operator, since, renewed, expires)| Lease {
        operator: crate::text::clean(&operator).into_owned(),
        since: time(since),
        renewed: time(renewed),
        expires: time(expires),
    }))
}

/// The heartbeat of the lead's console: renews the lease on `conn` (which holds the writer
/// lock) every [`LEASE_RENEW`]; after a lost connection, connects again, takes the lock back
/// and renews — or, when another console took the rollout meanwhile, stops and says so.
pub(crate) async fn heartbeat(
    url: String,
    rollout: String,
    operator: String,
    mut conn: Option<PgConnection>,
    state: watch::Sender<LeaseState>,
) {
    let mut tick = tokio::time::interval(LEASE_RENEW);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if state.is_closed() {
            return;
        }
        let c = match conn.as_mut() {
            Some(c) => c,
            None => {
                // Back: a new connection, the lock taken again (nobody else may have it).
                let mut c = match connect(&url, &format!("warroom: {operator}")).await {
                    Ok(c) => c,
                    Err(e) => {
                        state.send_replace(LeaseState::Lost(e));
                        continue;
                    }
                };
                if let Err(e) = take_writer_lock(&mut c, &url, &rollout).await {
                    let who = holder(&mut c, &url, &rollout)
                        .await
                        .ok()
                        .flatten()
                        .map(|h| h.operator)
                        .unwrap_or_else(|| e.clone());
                    state.send_replace(LeaseState::TakenBy(who));
                    return;
                }
                conn.insert(c)
            }
        };
        match renew(c, &rollout, &operator, false).await {
            Ok(()) => {
                state.send_if_modified(|s| {
                    let changed = *s != LeaseState::Held;
                    *s = LeaseState::Held;
                    changed
                });
            }
            Err(e) => {
                conn = None;
                state.send_replace(LeaseState::Lost(failed(&url, "lease not renewed", &e)));
            }
        }
    }
}

/// The payload prefix of an observer's request to lead (`handover:OPERATOR`): a wake-up for
/// the lead's console, not a record (the lead records the hand-over it accepts).
pub const HAND_OVER_PREFIX: &str = "handover:";

/// An observer asks the lead of `rollout` to hand it over.
pub async fn ask_hand_over(url: &str, rollout: &str, operator: &str) -> Result<(), String> {
    let mut c = connect(url, "warroom: ask").await?;
    let r = sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel(rollout))
        .bind(format!("{HAND_OVER_PREFIX}{operator}"))
        .execute(&mut c)
        .await
        .map_err(|e| failed(url, "cannot ask the lead", &e));
    let _ = c.close().await;
    r.map(|_| ())
}

/// The lead's side: who asks to lead `rollout`, as they ask, until the receiver is dropped;
/// and a nudge on `appended` whenever a record is appended (an observer's remark, alert
/// acknowledged or approval: the lead's store reads what it did not write), and after every
/// reconnect (a notification sent meanwhile is gone). Reconnects by itself (a request sent
/// meanwhile is lost: asking again is one key).
pub(crate) async fn hand_over_requests(
    url: String,
    rollout: String,
    tx: tokio::sync::mpsc::Sender<String>,
    appended: tokio::sync::mpsc::Sender<()>,
) {
    use sqlx::postgres::PgListener;
    let chan = channel(&rollout);
    let mut failures = 0u32;
    loop {
        let listener = match options(&url, "warroom: requests") {
            Ok(opts) => {
                let one = PgPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(CONNECT_TIMEOUT)
                    .connect_lazy_with(opts);
                PgListener::connect_with(&one).await.ok()
            }
            Err(_) => return,
        };
        if let Some(mut l) = listener
            && l.listen(&chan).await.is_ok()
        {
            failures = 0;
            // One nudge is enough: a full queue already holds one.
            let _ = appended.try_send(());
            loop {
                tokio::select! {
                    _ = tx.closed() => return,
                    n = l.try_recv() => match n {
                        Ok(Some(n)) => {
                            if let Some(who) = n.payload().strip_prefix(HAND_OVER_PREFIX) {
                                let who = crate::text::clean(who).trim().to_string();
                                if !who.is_empty() && tx.send(who).await.is_err() {
                                    return;
                                }
                            } else if n.payload().parse::<i64>().is_ok() {
                                let _ = appended.try_send(());
                            }
                        }
                        Ok(None) | Err(_) => break,
                    }
                }
            }
        }
        tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep(Duration::from_millis(250 << failures.min(4))) => {}
        }
        failures = failures.saturating_add(1);
    }
}
