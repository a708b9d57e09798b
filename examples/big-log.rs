//! Writes a large audit log for `scripts/measure-resume`: a session record naming the runbook,
//! then the simulator's readings (one a second of recorded time, about 1 KB each) with a
//! checklist tick every 50th record — through the store a console writes with (`Store` for a
//! file, `PgStore` for a rollout in PostgreSQL), in batches of 20,000, its state snapshots
//! taken as a console's store task takes them (`--no-snapshots`: a log as written before
//! snapshots existed).
//!
//! ```text
//! cargo run --release --example big-log -- --store PATH|postgres://… [--rollout NAME]
//!     [--records N] [--runbook PATH] [--no-snapshots]
//! ```

use chrono::TimeZone;
use warroom::audit::{self, AuditStore, Location, PgStore, Snapshotter, Store};
use warroom::engine::{Event, Observation, Time};
use warroom::sim::{Scenario, World};

const BATCH: usize = 20_000;

struct Args {
    store: String,
    rollout: Option<String>,
    records: usize,
    runbook: String,
    snapshots: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        store: String::new(),
        rollout: None,
        records: 1_000_000,
        runbook: "runbooks/unified-attributes.yaml".into(),
        snapshots: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{k} needs a value"));
        match k.as_str() {
            "--store" => a.store = val()?,
            "--rollout" => a.rollout = Some(val()?),
            "--records" => a.records = val()?.parse().map_err(|e| format!("--records: {e}"))?,
            "--runbook" => a.runbook = val()?,
            "--no-snapshots" => a.snapshots = false,
            _ => return Err(format!("unknown argument {k}")),
        }
    }
    if a.store.is_empty() {
        return Err("give --store PATH or --store postgres://…".into());
    }
    Ok(a)
}

/// The `i`-th event after the session record.
fn event(w: &mut World, i: usize, t: Time) -> Event {
    if i.is_multiple_of(50) {
        Event::ChecklistTicked {
            checklist: "pre-deployment-checklist".into(),
            item: format!("i{}", i % 16),
            operator: "alice".into(),
        }
    } else {
        let mut o: Observation = w.sample(t);
        o.pools = None; // keep records near a realistic 1 KB
        Event::Observed(o)
    }
}

async fn write(mut store: impl AuditStore, a: &Args, loaded: &warroom::runbook::Loaded) {
    let rb = &loaded.runbook;
    let t0 = chrono::Utc
        .with_ymd_and_hms(2026, 11, 26, 9, 0, 0)
        .single()
        .expect("time");
    let mut w = World::new(rb, Scenario::Healthy, 7);
    let mut snaps = Snapshotter::new(rb, &loaded.sha256, warroom::engine::State::new(rb));
    let mut batch = vec![(
        t0,
        Event::SessionStarted {
            operator: "alice".into(),
            mode: "demo".into(),
            runbook: a.runbook.clone(),
            runbook_sha256: loaded.sha256.clone(),
            scenario: Some("healthy".into()),
            speed: Some(30.0),
            continued_unverified: None,
        },
    )];
    let started = std::time::Instant::now();
    for i in 1..a.records {
        let t = t0 + chrono::Duration::seconds(i as i64);
        batch.push((t, event(&mut w, i, t)));
        if batch.len() == BATCH || i + 1 == a.records {
            let recs = store
                .append_batches(&[std::mem::take(&mut batch)])
                .await
                .expect("append");
            if a.snapshots {
                for r in recs.iter().flatten() {
                    if let Some(s) = snaps.fold(r) {
                        store.write_snapshot(&s).await.expect("snapshot");
                    }
                }
            }
            eprint!("\rbig-log: {} records", i + 1);
        }
    }
    eprintln!(" in {:.1} s", started.elapsed().as_secs_f64());
    store.close().await;
}

fn main() -> std::process::ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("big-log: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let loaded = match warroom::runbook::load(std::path::Path::new(&a.runbook)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("big-log: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let at = match Location::parse(&a.store, a.rollout.as_deref()) {
        Ok(l) => l.or_rollout(&audit::default_rollout(std::path::Path::new(&a.runbook))),
        Err(e) => {
            eprintln!("big-log: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let r = rt.block_on(async {
        match &at {
            Location::File(p) => {
                let (s, _) = Store::open(p, "alice").await?;
                write(s, &a, &loaded).await;
            }
            Location::Postgres { url, rollout } => {
                let (s, _) =
                    PgStore::open(url, rollout.as_deref().unwrap_or("big"), "alice").await?;
                write(s, &a, &loaded).await;
            }
        }
        Ok::<(), String>(())
    });
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("big-log: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
