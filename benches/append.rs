//! Durable append latency: one event per transaction, WAL with synchronous=FULL, the head
//! file rewritten each time. Prints p50/p99/max over 2,000 appends. Target: p99 ≤ 5 ms.
//! (Percentiles, which criterion does not report, hence a plain harness.)

use chrono::TimeZone;
use std::time::Instant;
use warroom::audit::Store;
use warroom::engine::Event;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("append.audit");
    let t0 = chrono::Utc
        .with_ymd_and_hms(2026, 11, 26, 9, 0, 0)
        .single()
        .expect("time");
    let mut lat = rt.block_on(async {
        let (mut store, _) = Store::open(&path, "alice").await.expect("open");
        let mut lat = Vec::with_capacity(2000);
        for i in 0..2000i64 {
            let ev = Event::ChecklistTicked {
                checklist: "pre-deployment-checklist".into(),
                item: format!("item{i}"),
                operator: "alice".into(),
            };
            let start = Instant::now();
            store
                .append(&[(t0 + chrono::Duration::seconds(i), ev)])
                .await
                .expect("append");
            lat.push(start.elapsed());
        }
        store.close().await;
        lat
    });
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "durable append (WAL, synchronous=FULL, head file): n={} p50={:?} p99={:?} max={:?}",
        lat.len(),
        pct(0.50),
        pct(0.99),
        lat[lat.len() - 1]
    );
}
