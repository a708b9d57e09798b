//! Following a rollout as it is written (`warroom watch`): LISTEN on the rollout's channel,
//! and on every notification — and after every (re)connect, since notifications sent while
//! disconnected are gone — read the records after the last `seq` read. Nothing polls: the
//! task sleeps on the connection until PostgreSQL speaks, and waits between reconnects.

use super::*;
use sqlx::postgres::PgListener;
use tokio::sync::mpsc::Sender;

/// What a follower hears.
#[derive(Debug, Clone, PartialEq)]
pub enum Followed {
    /// New records, in order, each after the last one sent.
    Records(Vec<Record>),
    /// The connection was lost (or could not be made): why. Said once per outage.
    Lost(String),
    /// Connected (again) and caught up: every record up to now has been sent.
    Live,
    /// The lead's lease, as renewed (or ended) last.
    Lease(Option<Lease>),
}

/// How long to wait before connecting again: doubling from 250 ms to 4 s.
fn backoff(failures: u32) -> Duration {
    Duration::from_millis(250 << failures.min(4))
}

/// Follow `rollout` after `seq` until the receiver is dropped.
pub async fn follow(url: String, rollout: String, mut seq: i64, tx: Sender<Followed>) {
    let chan = channel(&rollout);
    let mut failures = 0u32;
    let mut lost = false;
    loop {
        let mut live = false;
        let Err(e) = follow_once(&url, &rollout, &chan, &mut seq, &tx, &mut live).await else {
            return; // the receiver is gone
        };
        if live {
            // A connection held: this outage is new, and starts from the shortest wait.
            lost = false;
            failures = 0;
        }
        if !lost {
            lost = true;
            if tx.send(Followed::Lost(e)).await.is_err() {
                return;
            }
        }
        tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep(backoff(failures)) => {}
        }
        failures = failures.saturating_add(1);
    }
}

/// Read what follows `seq` and send it; `seq` moves to the last record sent. False when the
/// receiver is gone.
async fn catch_up(
    reader: &mut PgConnection,
    url: &str,
    rollout: &str,
    seq: &mut i64,
    tx: &Sender<Followed>,
) -> Result<bool, String> {
    let recs = read_after(reader, url, rollout, *seq).await?;
    let Some(last) = recs.last() else {
        return Ok(true);
    };
    *seq = last.seq;
    Ok(tx.send(Followed::Records(recs)).await.is_ok())
}

/// Read the lease and send it; false when the receiver is gone.
async fn send_lease(
    reader: &mut PgConnection,
    url: &str,
    rollout: &str,
    tx: &Sender<Followed>,
) -> Result<bool, String> {
    let lease = read_lease(reader, rollout)
        .await
        .map_err(|e| failed(url, "cannot read the lease", &e))?;
    Ok(tx.send(Followed::Lease(lease)).await.is_ok())
}

/// One connection: listen, catch up, then read after every notification. `Ok` when the
/// receiver is gone; the error when the connection is lost. `live` is set once caught up.
async fn follow_once(
    url: &str,
    rollout: &str,
    chan: &str,
    seq: &mut i64,
    tx: &Sender<Followed>,
    live: &mut bool,
) -> Result<(), String> {
    let opts = options(url, "warroom: watch")?;
    let one = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_lazy_with(opts);
    let mut listener =
        match tokio::time::timeout(CONNECT_TIMEOUT, PgListener::connect_with(&one)).await {
            Ok(Ok(l)) => l,
            Ok(Err(e)) => return Err(failed(url, "cannot connect", &e)),
            Err(_) => {
                return Err(format!(
                    "{}: cannot connect within {} s",
                    redact(url),
                    CONNECT_TIMEOUT.as_secs()
                ));
            }
        };
    listener.ignore_pool_close_event(true);
    // Listening first, then reading: a record committed in between is read now, and its
    // notification finds nothing new.
    listener
        .listen(chan)
        .await
        .map_err(|e| failed(url, "cannot listen", &e))?;
    let mut reader = connect(url, "warroom: watch").await?;
    if !catch_up(&mut reader, url, rollout, seq, tx).await?
        || !send_lease(&mut reader, url, rollout, tx).await?
    {
        return Ok(());
    }
    if tx.send(Followed::Live).await.is_err() {
        return Ok(());
    }
    *live = true;
    loop {
        tokio::select! {
            _ = tx.closed() => return Ok(()),
            n = listener.try_recv() => match n {
                Ok(Some(n)) if n.payload() == LEASE_PAYLOAD => {
                    if !send_lease(&mut reader, url, rollout, tx).await? {
                        return Ok(());
                    }
                }
                // An observer asking the lead: for the lead's console, not a record.
                Ok(Some(n)) if n.payload().starts_with(HAND_OVER_PREFIX) => {}
                Ok(Some(n)) => {
                    // The payload is the new seq: nothing to read when it is not past ours.
                    let notified: i64 = n.payload().parse().unwrap_or(i64::MAX);
                    if notified > *seq && !catch_up(&mut reader, url, rollout, seq, tx).await? {
                        return Ok(());
                    }
                }
                Ok(None) => return Err(format!("{}: connection lost", redact(url))),
                Err(e) => return Err(failed(url, "connection lost", &e)),
            }
        }
    }
}
