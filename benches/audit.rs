//! The audit log at scale: verify 1,000,000 records (target ≤ 2 s, read from SQLite and
//! checked); open a 1,000,000-record file for replay (its first page and head: the first
//! frame's share) and seek to any point of it (target ≤ 50 ms), read a page at a time.

use chrono::TimeZone;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use warroom::audit::{self, Store};
use warroom::engine::{Event, Observation, Time};
use warroom::sim::{Scenario, World};

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
    drop(evs);
    let at = audit::Location::File(log.clone());
    g.bench_function("replay_open_1m", |b| {
        b.iter(|| {
            let opened = rt.block_on(audit::Opened::open(&at)).expect("open");
            let mut log = rt
                .block_on(opened.reader(rb.clone(), "bench"))
                .expect("reader");
            black_box(log.view_now(audit::Target::Seq(0)).expect("first view"))
        })
    });
    let opened = rt.block_on(audit::Opened::open(&at)).expect("open");
    let mut log = rt
        .block_on(opened.reader(rb.clone(), "bench"))
        .expect("reader");
    // The first seek to the end folds the log once (it has no stored snapshots), leaving a
    // mark every thousand records; the seeks after start from the nearest.
    log.view_now(audit::Target::End).expect("end");
    let mut k = 0usize;
    g.bench_function("seek_anywhere_1m", |b| {
        b.iter(|| {
            // Points spread over the log, forwards and backwards.
            k = (k + 377_771) % N;
            black_box(log.view_now(audit::Target::Seq(k as i64)).expect("seek"))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
