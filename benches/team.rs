//! Team mode on PostgreSQL: the lead's append latency (one event per transaction: the advisory
//! lock, the head read back, the insert, the NOTIFY trigger, the commit), and how long a record
//! takes from the lead's append to an observer's follower (woken by NOTIFY, reading what
//! follows its last seq), with 1 and 10 observers — and the lead's append again with 10
//! observers following. Prints p50/p95/p99/max. Targets: append p99 ≤ 10 ms; an observer has
//! the record within 250 ms p95 (the frame it is drawn in takes under 1 ms more).
//!
//! Needs a PostgreSQL: `WARROOM_BENCH_PG=postgres://…` (scripts/measure-team starts a
//! throwaway cluster and sets it). Without it, says so and measures nothing.

use chrono::TimeZone;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use warroom::audit::PgStore;
use warroom::audit::pg::{Followed, follow};
use warroom::engine::Event;

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

fn report(what: &str, mut v: Vec<Duration>) {
    let max = v.iter().max().copied().unwrap_or_default();
    println!(
        "{what}: n={} p50={:?} p95={:?} p99={:?} max={max:?}",
        v.len(),
        pct(&mut v, 0.50),
        pct(&mut v, 0.95),
        pct(&mut v, 0.99)
    );
}

fn event(i: u64) -> Event {
    Event::ActionSucceeded {
        id: i,
        detail: format!("step {i} done: flag API ok; read back unified_attributes_percentage = 10"),
    }
}

/// `n` appends to a new rollout, each with `observers` followers; the append latencies and
/// the lags (append start → a follower has the record), every follower's counted.
async fn run(url: &str, rollout: &str, n: u64, observers: usize) -> (Vec<Duration>, Vec<Duration>) {
    let t0 = chrono::Utc
        .with_ymd_and_hms(2026, 11, 26, 9, 0, 0)
        .single()
        .expect("time");
    let (mut store, _) = PgStore::open(url, rollout, "bench").await.expect("open");
    // The first record creates the rollout, so that the followers find it.
    store
        .append_batches(&[[(t0, event(0))]])
        .await
        .expect("append");
    let (seen_tx, mut seen_rx) = mpsc::channel::<(i64, Instant)>(1024);
    let mut tasks = Vec::new();
    for _ in 0..observers {
        let (tx, mut rx) = mpsc::channel(64);
        tasks.push(tokio::spawn(follow(
            url.to_string(),
            rollout.to_string(),
            1,
            tx,
        )));
        let seen = seen_tx.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(f) = rx.recv().await {
                if let Followed::Records(recs) = f
                    && let Some(last) = recs.last()
                    && seen.send((last.seq, Instant::now())).await.is_err()
                {
                    return;
                }
            }
        }));
    }
    // Let every follower connect and catch up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut appends, mut lags) = (Vec::new(), Vec::new());
    for i in 1..=n {
        let start = Instant::now();
        let recs = store
            .append_batches(&[[(t0 + chrono::Duration::seconds(i as i64), event(i))]])
            .await
            .expect("append");
        appends.push(start.elapsed());
        let seq = recs[0][0].seq;
        let mut got = 0;
        while got < observers {
            let (s, at) = seen_rx.recv().await.expect("a follower stopped");
            if s >= seq {
                lags.push(at - start);
                got += 1;
            }
        }
    }
    for t in tasks {
        t.abort();
    }
    store.close().await;
    (appends, lags)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let Ok(url) = std::env::var("WARROOM_BENCH_PG") else {
        println!(
            "SKIP: set WARROOM_BENCH_PG=postgres://… (scripts/measure-team starts a throwaway PostgreSQL and sets it)"
        );
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let tag = std::process::id();
    rt.block_on(async {
        let (appends, _) = run(&url, &format!("bench-append-{tag}"), 2000, 0).await;
        report("PostgreSQL append, no observer", appends);
        let (_, lags) = run(&url, &format!("bench-lag1-{tag}"), 500, 1).await;
        report("observer lag, 1 observer", lags);
        let (appends, lags) = run(&url, &format!("bench-lag10-{tag}"), 500, 10).await;
        report("observer lag, 10 observers (each counted)", lags);
        report("PostgreSQL append, 10 observers following", appends);
    });
}
