//! The audit log at scale: verify 1,000,000 records (target ≤ 2 s, read from SQLite and
//! checked), and seek to any point of a 1,000,000-event replay (target ≤ 50 ms).

use chrono::TimeZone;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use warroom::audit::{self, Store};
use warroom::engine::{Event, Observation, Time};
use warroom::sim::{Scenario, World};
use warroom::ui::replay::Replay;

const N: usize = 1_000_000;

fn events(rb: &warroom::runbook::Runbook) -> Vec<(Time, Event)> {
    let t0 = chrono::Utc
        .with_ymd_and_hms(2026, 11, 26, 9, 0, 0)
        .single()
        .expect("time");
    let mut w = World::new(rb, Scenario::Healthy, 7);
    let mut out = Vec::with_capacity(N);
    for i in 0..N {
        let t = t0 + chrono::Duration::seconds(i as i64);
        // Mostly observations, as in a real log; every 50th a tick by the operator.
        let ev = if i % 50 == 0 {
            Event::ChecklistTicked {
                checklist: "pre-deployment-checklist".into(),
                item: format!("i{}", i % 16),
                operator: "alice".into(),
            }
        } else {
            let mut o: Observation = w.sample(t);
            o.pools = None; // keep records near a realistic 1 KB
            Event::Observed(o)
        };
        out.push((t, ev));
    }
    out
}

fn bench(c: &mut Criterion) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/unified-attributes.yaml");
    let rb = warroom::runbook::load(&path).expect("seed runbook").runbook;
    let evs = events(&rb);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("big.audit");
    rt.block_on(async {
        let (mut store, _) = Store::open(&log, "alice").await.expect("open");
        for chunk in evs.chunks(20_000) {
            store.append(chunk).await.expect("append");
        }
        store.close().await;
    });
    let mut g = c.benchmark_group("audit_1m");
    g.sample_size(10);
    g.bench_function("verify_file_1m", |b| {
        b.iter(|| {
            let v = audit::verify_file(&log, None).expect("verify");
            assert!(matches!(v, audit::Verdict::Ok { .. }));
            black_box(v)
        })
    });
    let records = audit::read_all(&log).expect("read");
    g.bench_function("verify_chain_only_1m", |b| {
        b.iter(|| black_box(audit::verify(&records, None, None)))
    });
    drop(records);
    let mut rp = Replay::from_events(rb, evs, 10.0);
    let mut k = 0usize;
    g.bench_function("seek_anywhere_1m", |b| {
        b.iter(|| {
            // Points spread over the log, forwards and backwards.
            k = (k + 377_771) % N;
            rp.seek(black_box(k));
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
