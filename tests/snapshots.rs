//! State snapshots beside the chain: a console resumes from the newest one that matches the
//! chain and folds what follows — the same state as folding the whole log; a snapshot that was
//! edited, belongs to another chain or another runbook is ignored with a note; a log written
//! before snapshots resumes, replays, verifies and exports as before. On both shipped plans,
//! in a file and (tests/team.rs's cluster) in PostgreSQL.

mod common;
mod support;

use common::*;
use std::path::{Path, PathBuf};
use warroom::audit::{self, Basis, Location, Record, SNAPSHOT_EVERY, Snapshot, Store, Verdict};
use warroom::engine::State;
use warroom::runbook::{self, Loaded};
use warroom::session::Session;
use warroom::sim::Scenario;

fn plan(name: &str) -> Loaded {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("runbooks")
        .join(name);
    runbook::load(&p).unwrap_or_else(|e| panic!("{name} must load: {e}"))
}

fn basis(l: &Loaded) -> Basis<'_> {
    Basis {
        rb: &l.runbook,
        runbook_sha256: &l.sha256,
    }
}

/// A real session's log: `warroom rehearse` of a plan under a scenario (the CLI, as a user
/// runs it), its records.
fn session_log(dir: &Path, plan: &str, scenario: &str) -> (PathBuf, Vec<Record>) {
    let p = dir.join(format!("{plan}-{scenario}.audit"));
    let runbook = format!("runbooks/{plan}");
    let (code, text, _) = rehearse_log(&[&runbook, "--scenario", scenario], &p);
    assert!(code.is_some(), "rehearse ran: {text}");
    let records = audit::read_all(&p).expect("read");
    assert!(records.len() > 50, "a real session: {text}");
    (p, records)
}

/// A copy of a log (and its head file) to change.
fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).expect("copy");
    let mut h = from.as_os_str().to_owned();
    h.push(".head");
    let mut th = to.as_os_str().to_owned();
    th.push(".head");
    std::fs::copy(PathBuf::from(h), PathBuf::from(th)).expect("copy head");
}

/// Keep a snapshot in a log through the store, as the console's store task does.
async fn keep(p: &Path, l: &Loaded, s: &Snapshot) {
    let (mut store, _) = Store::resume(p, "alice", basis(l)).await.expect("open");
    store.write_snapshot(s).await.expect("snapshot kept");
    store.close().await;
}

/// `n` more readings after a session's `records` (its last reading, told again), appended
/// through the store.
async fn lengthen(p: &Path, records: &[Record], n: usize) {
    let (mut store, _) = Store::open(p, "alice").await.expect("open");
    let last = records.last().expect("records").time().expect("time");
    let reading = records
        .iter()
        .rev()
        .find(|r| r.kind == "observed")
        .expect("a reading")
        .event()
        .expect("event");
    let batch: Vec<_> = (1..=n)
        .map(|i| {
            (
                last + chrono::Duration::milliseconds(i as i64),
                reading.clone(),
            )
        })
        .collect();
    store.append(&batch).await.expect("append");
    store.close().await;
}

fn fold(l: &Loaded, records: &[Record]) -> State {
    audit::export::fold(&l.runbook, records).expect("fold")
}

/// The property: for a cut anywhere in a real session's log (every record of it, on both
/// shipped plans and three scenarios), a snapshot taken there and the records after it fold to
/// exactly the state of the whole log.
#[tokio::test(flavor = "multi_thread")]
async fn resuming_from_a_snapshot_anywhere_gives_the_state_of_the_whole_fold() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (plan_file, scenario) in [
        ("unified-attributes.yaml", "bad-canary"),
        ("unified-attributes.yaml", "healthy"),
        ("checkout-v2.yaml", "bad-canary"),
        ("checkout-v2.yaml", "healthy"),
    ] {
        let l = plan(plan_file);
        let (log, records) = session_log(dir.path(), plan_file, scenario);
        let whole = fold(&l, &records);
        // The serialised state of every cut reads back as that state.
        let mut st = State::new(&l.runbook);
        for r in &records {
            warroom::engine::apply(
                &mut st,
                &l.runbook,
                r.time().expect("t"),
                &r.event().expect("e"),
            );
            let s = Snapshot::take(&st, r.seq, &r.hash, &l.sha256).expect("take");
            let back = s.check(Some(&r.hash), &l.sha256).expect("trusted");
            assert_eq!(
                back, st,
                "{plan_file} {scenario}: the snapshot after seq {}",
                r.seq
            );
        }
        // And through the store, resumed as a console resumes, at cuts spread over the log.
        let n = records.len();
        for k in [1, 2, n / 7, n / 3, n / 2, n - 1, n] {
            let p = dir.path().join(format!("cut-{k}.audit"));
            copy(&log, &p);
            let st = fold(&l, &records[..k]);
            let r = &records[k - 1];
            keep(
                &p,
                &l,
                &Snapshot::take(&st, r.seq, &r.hash, &l.sha256).expect("take"),
            )
            .await;
            let (store, resumed) = Store::resume(&p, "alice", basis(&l)).await.expect("resume");
            store.close().await;
            assert_eq!(
                resumed.snapshot,
                Some(r.seq),
                "{plan_file}: resumed from the snapshot"
            );
            assert_eq!(
                resumed.tail.len(),
                n - k,
                "only the records after it are read"
            );
            assert!(resumed.notes.is_empty(), "{:?}", resumed.notes);
            assert_eq!(resumed.head.0, n as i64);
            assert_eq!(
                resumed.state, whole,
                "{plan_file} {scenario}: cut after seq {}",
                r.seq
            );
        }
    }
}

/// The console's store task keeps a snapshot after every `SNAPSHOT_EVERY`th record it
/// commits; the next console resumes from it, to the state of the whole fold; the log still
/// verifies, with the same records (the snapshot is not in the chain).
#[tokio::test(flavor = "multi_thread")]
async fn a_console_keeps_snapshots_and_the_next_resumes_from_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let l = plan("checkout-v2.yaml");
    let (log, records) = session_log(dir.path(), "checkout-v2.yaml", "bad-canary");
    // The real session's log, then readings up to a few records short of a snapshot.
    let p = dir.path().join("long.audit");
    copy(&log, &p);
    lengthen(&p, &records, SNAPSHOT_EVERY as usize - 3 - records.len()).await;
    // A console continues it past the snapshot's record.
    let mut s = Session::start_demo(&l, &p, "bob", 50.0, Scenario::Healthy)
        .await
        .expect("resume");
    assert!(
        until(&mut s, 60, |st| st.events > SNAPSHOT_EVERY as u64 + 5).await,
        "the console wrote past seq {SNAPSHOT_EVERY}"
    );
    s.close().await;
    let all = audit::read_all(&p).expect("read");
    assert!(matches!(
        audit::verify_file(&p, None).expect("verify"),
        Verdict::Ok { .. }
    ));
    let (store, resumed) = Store::resume(&p, "carol", basis(&l)).await.expect("resume");
    store.close().await;
    assert_eq!(
        resumed.snapshot,
        Some(SNAPSHOT_EVERY),
        "{:?}",
        resumed.notes
    );
    assert_eq!(resumed.tail.len(), all.len() - SNAPSHOT_EVERY as usize);
    assert_eq!(resumed.state, fold(&l, &all));
    // The console says where it resumed from.
    let s = Session::start_demo(&l, &p, "carol", 10.0, Scenario::Healthy)
        .await
        .expect("resume again");
    assert!(
        s.log
            .iter()
            .any(|x| x.contains(&format!("the state snapshot after seq {SNAPSHOT_EVERY}"))),
        "{:?}",
        s.log
    );
    s.close().await;
}

fn raw(p: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(p).expect("open raw")
}

/// A snapshot edited, one of another chain (stale: it follows a record this log does not hold),
/// one folded with another runbook: each is ignored with a note naming why, and the state is
/// the whole fold; an older good one is used instead of a newer bad one.
#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_stale_or_foreign_snapshot_is_ignored_with_a_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let l = plan("unified-attributes.yaml");
    let other = plan("checkout-v2.yaml");
    let (log, records) = session_log(dir.path(), "unified-attributes.yaml", "bad-canary");
    let whole = fold(&l, &records);
    let n = records.len();
    let at = |k: usize, rb: &Loaded| {
        let r = &records[k - 1];
        Snapshot::take(&fold(rb, &records[..k]), r.seq, &r.hash, &rb.sha256).expect("take")
    };
    type Spoil = fn(&mut Snapshot);
    let cases: [(&str, Spoil, &str); 4] = [
        (
            "edited",
            |s| s.state = s.state.replacen("\"sessions\":1", "\"sessions\":7", 1),
            "do not match its digest (edited)",
        ),
        (
            "edited with its digest",
            |s| {
                s.state = s.state.replacen("\"sessions\":1", "\"sessions\":7", 1);
                s.digest = "0".repeat(64);
            },
            "do not match its digest (edited)",
        ),
        (
            "stale",
            |s| s.hash = "f".repeat(64),
            "follows another record than the chain's",
        ),
        (
            "of a later record",
            |s| s.seq += 100_000,
            "holds no such record",
        ),
    ];
    for (i, (what, spoil, why)) in cases.into_iter().enumerate() {
        let p = dir.path().join(format!("bad-{i}.audit"));
        copy(&log, &p);
        let good = at(n / 3, &l);
        keep(&p, &l, &good).await;
        let mut bad = at(n / 2, &l);
        spoil(&mut bad);
        keep(&p, &l, &bad).await;
        let (store, resumed) = Store::resume(&p, "alice", basis(&l)).await.expect("resume");
        store.close().await;
        assert_eq!(resumed.state, whole, "{what}: the state is the fold's");
        assert_eq!(
            resumed.snapshot,
            Some(good.seq),
            "{what}: the older good one is used"
        );
        assert!(
            resumed
                .notes
                .iter()
                .any(|n| n.contains("snapshot ignored") && n.contains(why)),
            "{what}: {:?}",
            resumed.notes
        );
    }
    // Folded with another runbook: ignored; and a row edited in the file directly.
    let p = dir.path().join("foreign.audit");
    copy(&log, &p);
    keep(&p, &l, &at(n / 2, &other)).await;
    let (store, resumed) = Store::resume(&p, "alice", basis(&l)).await.expect("resume");
    store.close().await;
    assert_eq!(resumed.snapshot, None);
    assert_eq!(resumed.state, whole);
    assert!(
        resumed.notes.iter().any(|n| n.contains("another runbook")),
        "{:?}",
        resumed.notes
    );
    let p = dir.path().join("edited-row.audit");
    copy(&log, &p);
    keep(&p, &l, &at(n / 2, &l)).await;
    raw(&p)
        .execute_batch(
            "UPDATE snapshot SET state = replace(state, '\"sessions\":1', '\"sessions\":3')",
        )
        .expect("edit");
    // The console says so in its log, and its state is the fold's (and its own session's).
    let s = Session::start_demo(&l, &p, "alice", 10.0, Scenario::Healthy)
        .await
        .expect("resume");
    assert!(
        s.log
            .iter()
            .any(|x| x.contains("snapshot ignored") && x.contains("edited")),
        "{:?}",
        s.log
    );
    assert_eq!(s.st.sessions, whole.sessions);
    s.close().await;
}

/// A log written before snapshots (no table for them): it resumes as before, replays,
/// verifies and exports; a console continuing it adds the table and its records keep their
/// hashes.
#[tokio::test(flavor = "multi_thread")]
async fn an_old_log_without_snapshots_resumes_replays_and_exports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("old.audit");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs");
    copy(&fixture.join("green-weight.audit"), &p);
    let has_table = |p: &Path| {
        rusqlite::Connection::open(p)
            .expect("open")
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'snapshot'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .expect("query")
            > 0
    };
    assert!(!has_table(&p), "the fixture predates snapshots");
    let before = audit::read_all(&p).expect("read");
    let l = seed();
    let (store, resumed) = Store::resume(&p, "alice", basis(&l)).await.expect("resume");
    store.close().await;
    assert_eq!(resumed.snapshot, None);
    assert!(resumed.notes.is_empty());
    assert_eq!(resumed.tail, before);
    assert_eq!(resumed.state, fold(&l, &before));
    let mut rp =
        warroom::ui::replay::Replay::new(l.runbook.clone(), &before, 10.0).expect("replay");
    rp.seek(rp.len());
    assert_eq!(rp.st, resumed.state);
    assert!(audit::export::markdown(&l.runbook, &before).is_ok());
    // A console continues it: the old records are untouched and the whole log verifies.
    let mut s = Session::start_demo(&l, &p, "bob", 10.0, Scenario::Healthy)
        .await
        .expect("resume");
    settle(&mut s).await;
    s.close().await;
    let after = audit::read_all(&p).expect("read");
    assert_eq!(&after[..before.len()], &before[..]);
    assert!(has_table(&p));
    assert!(matches!(
        audit::verify_file(&p, None).expect("verify"),
        Verdict::Ok { .. }
    ));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["audit", "export"])
        .arg(&p)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("warroom runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The same in PostgreSQL: snapshots kept beside the rollout's chain, resumed from, and one
/// edited ignored (the table refuses UPDATE: a forged row is inserted instead). Skips (said)
/// without PostgreSQL; fails under WARROOM_REQUIRE_REAL=1.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_keeps_snapshots_beside_the_chain_and_ignores_a_bad_one() {
    let Some((_dir, cluster)) = support::pg::fresh() else {
        return;
    };
    let url = cluster.url();
    let dir = tempfile::tempdir().expect("tempdir");
    let l = plan("unified-attributes.yaml");
    let (log, records) = session_log(dir.path(), "unified-attributes.yaml", "bad-canary");
    let at = Location::Postgres {
        url: url.clone(),
        rollout: Some("snap".into()),
    };
    audit::copy(&Location::File(log), &at).await.expect("copy");
    let whole = fold(&l, &records);
    let n = records.len();
    let snap = |k: usize| {
        let r = &records[k - 1];
        Snapshot::take(&fold(&l, &records[..k]), r.seq, &r.hash, &l.sha256).expect("take")
    };
    let (mut store, resumed) = audit::PgStore::resume(&url, "snap", "alice", basis(&l))
        .await
        .expect("resume");
    assert_eq!(resumed.snapshot, None);
    assert_eq!(resumed.state, whole);
    store.write_snapshot(&snap(n / 3)).await.expect("kept");
    let mut bad = snap(n / 2);
    bad.state = bad.state.replacen("\"sessions\":1", "\"sessions\":5", 1);
    store.write_snapshot(&bad).await.expect("kept");
    store.close().await;
    let (store, resumed) = audit::PgStore::resume(&url, "snap", "alice", basis(&l))
        .await
        .expect("resume");
    store.close().await;
    assert_eq!(resumed.snapshot, Some(records[n / 3 - 1].seq));
    assert_eq!(resumed.tail.len(), n - n / 3);
    assert_eq!(resumed.state, whole);
    assert!(
        resumed.notes.iter().any(|x| x.contains("edited")),
        "{:?}",
        resumed.notes
    );
    // Replay reads the rollout a page at a time, from the snapshot that matches.
    let opened = audit::Opened::open(&at).await.expect("open");
    assert_eq!(opened.head.0, n as i64);
    let mut rp = opened
        .reader(l.runbook.clone(), &l.sha256)
        .await
        .expect("reader");
    let end = rp.view(audit::Target::End).await.expect("view");
    assert_eq!((end.cursor, &end.state), (n as i64, &whole));
    assert!(
        end.notes.iter().any(|x| x.contains("edited")),
        "{:?}",
        end.notes
    );
    let back = rp
        .view(audit::Target::Seq(n as i64 / 4))
        .await
        .expect("view");
    assert_eq!(back.state, fold(&l, &records[..n / 4]));
    let step = rp
        .view(audit::Target::Event { forward: true })
        .await
        .expect("view");
    let next = records[n / 4..]
        .iter()
        .find(|r| r.kind != "observed")
        .expect("an event");
    assert_eq!(step.cursor, next.seq);
    // The table is insert-only, like the log; verify still walks the whole chain.
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("connect");
    let upd = sqlx::query("UPDATE warroom.snapshots SET state = '{}'")
        .execute(&mut c)
        .await;
    assert!(upd.is_err(), "snapshots are insert-only");
    assert!(matches!(
        at.verify(None).await.expect("verify"),
        Verdict::Ok { records, .. } if records == n as i64
    ));
}

/// A long log without snapshots (written before them, or copied): the console that resumes it
/// folds it whole once and keeps a snapshot at its head at once, which the next one resumes from.
#[tokio::test(flavor = "multi_thread")]
async fn a_long_log_without_snapshots_gets_one_when_a_console_resumes_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let l = plan("unified-attributes.yaml");
    let (log, records) = session_log(dir.path(), "unified-attributes.yaml", "healthy");
    let p = dir.path().join("long.audit");
    copy(&log, &p);
    lengthen(&p, &records, SNAPSHOT_EVERY as usize + 10).await;
    let all = audit::read_all(&p).expect("read");
    let head = all.len() as i64;
    assert!(head % SNAPSHOT_EVERY != 0);
    // Read a page at a time: every record folded, only the newest kept for the log pane.
    let (store, first) = Store::resume(&p, "bob", basis(&l)).await.expect("resume");
    store.close().await;
    assert_eq!(first.folded, head);
    assert_eq!(first.tail.len(), audit::TAIL_KEPT);
    assert_eq!(first.tail[..], all[all.len() - audit::TAIL_KEPT..]);
    assert_eq!(first.state, fold(&l, &all));
    let s = Session::start_demo(&l, &p, "bob", 10.0, Scenario::Healthy)
        .await
        .expect("resume");
    s.close().await;
    let (store, resumed) = Store::resume(&p, "carol", basis(&l)).await.expect("resume");
    store.close().await;
    assert_eq!(resumed.snapshot, Some(head), "{:?}", resumed.notes);
    assert_eq!(resumed.state, fold(&l, &audit::read_all(&p).expect("read")));
}

/// The honest snapshot after the first `k` records, then edited (a session count changed):
/// its digest no longer matches.
fn edited(l: &Loaded, all: &[Record], k: usize) -> Snapshot {
    let r = &all[k - 1];
    let mut s = Snapshot::take(&fold(l, &all[..k]), r.seq, &r.hash, &l.sha256).expect("take");
    s.state = s.state.replacen("\"sessions\":1", "\"sessions\":5", 1);
    s
}

/// The log lines of the first records, as the replay shows them (the newest `LINES`).
fn lines_of(l: &Loaded, records: &[Record]) -> Vec<String> {
    let all: Vec<String> = records
        .iter()
        .filter_map(|r| {
            warroom::engine::log_line(&l.runbook, r.time().expect("t"), &r.event().expect("e"))
        })
        .collect();
    all[all.len().saturating_sub(audit::LINES)..].to_vec()
}

/// Replay reads a long log a page at a time: wherever it goes — the end, back, forward, a
/// time, the next event or operator action — it shows the state of folding every record up to
/// there, with the log's lines leading to it; a stored snapshot it passes is where it starts
/// from, and one that does not match is ignored with a note. Through the reader the console
/// uses, over the file as `warroom replay FILE` opens it.
#[tokio::test(flavor = "multi_thread")]
async fn a_long_log_replays_a_page_at_a_time_to_the_states_of_the_whole_fold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let l = plan("checkout-v2.yaml");
    let (log, records) = session_log(dir.path(), "checkout-v2.yaml", "bad-canary");
    let p = dir.path().join("long.audit");
    copy(&log, &p);
    lengthen(&p, &records, 2 * SNAPSHOT_EVERY as usize + 500).await;
    let all = audit::read_all(&p).expect("read");
    let n = all.len();
    let k = 2 * SNAPSHOT_EVERY as usize;
    let honest = Snapshot::take(
        &fold(&l, &all[..k]),
        all[k - 1].seq,
        &all[k - 1].hash,
        &l.sha256,
    )
    .expect("take");
    keep(&p, &l, &honest).await;
    // One at the first mark that was edited: ignored, said once.
    let j = SNAPSHOT_EVERY as usize;
    keep(&p, &l, &edited(&l, &all, j)).await;

    let opened = audit::Opened::open(&Location::File(p.clone()))
        .await
        .expect("open");
    assert_eq!(opened.head, (n as i64, all[n - 1].hash.clone()));
    assert_eq!(
        opened.first.first(),
        all.first(),
        "the first page names the runbook"
    );
    let mut rp = opened
        .reader(l.runbook.clone(), &l.sha256)
        .await
        .expect("reader");
    let mut notes = Vec::new();
    let mut at = |v: audit::View, want: usize, why: &str| {
        assert_eq!(v.cursor, want as i64, "{why}");
        assert_eq!(v.len, n as i64);
        assert!(
            v.state == fold(&l, &all[..want]),
            "{why}: the state of the fold"
        );
        let full = lines_of(&l, &all[..want]);
        assert!(
            full.ends_with(&v.lines),
            "{why}: the log's own lines, in order"
        );
        let next: Vec<_> = all[want..]
            .iter()
            .take(v.upcoming.len())
            .map(|r| r.time().expect("t"))
            .collect();
        assert_eq!(v.upcoming, next, "{why}: the times playback moves by");
        notes.extend(v.notes);
    };
    use audit::Target::*;
    at(rp.view(Seq(0)).await.expect("view"), 0, "the start");
    // Forward from the start: every line up to there.
    let v = rp.view(Seq(records.len() as i64)).await.expect("view");
    assert_eq!(v.lines, lines_of(&l, &records), "the session's lines");
    at(v, records.len(), "the end of the session");
    at(rp.view(End).await.expect("view"), n, "the end");
    at(
        rp.view(Seq(j as i64 + 7)).await.expect("view"),
        j + 7,
        "back past the edited snapshot",
    );
    at(
        rp.view(Seq(k as i64 + 3)).await.expect("view"),
        k + 3,
        "just past the kept snapshot",
    );
    at(rp.view(Seq(5)).await.expect("view"), 5, "near the start");
    // Steps: the next record that is not a reading; the last operator action before the end.
    let first_event = all
        .iter()
        .skip(5)
        .find(|r| r.kind != "observed")
        .expect("an event");
    at(
        rp.view(Event { forward: true }).await.expect("view"),
        first_event.seq as usize,
        "the next event",
    );
    rp.view(End).await.expect("view");
    let last_action = all
        .iter()
        .rev()
        .find(|r| warroom::engine::EventKind::from(&r.event().expect("e")).is_operator_action())
        .expect("an operator action");
    at(
        rp.view(Action { forward: false }).await.expect("view"),
        last_action.seq as usize,
        "the previous operator action",
    );
    // A time: the first record at or after it.
    let t = all[n - 200].time().expect("t");
    let want = all.partition_point(|r| r.time().expect("t") < t);
    at(rp.view(Time(t)).await.expect("view"), want, "a time");
    assert_eq!(notes.len(), 1, "the edited snapshot said once: {notes:?}");
    assert!(notes[0].contains("edited"), "{notes:?}");

    // The kept snapshot is where a seek past it starts: one that holds another state (forged
    // with a valid digest, which verify would not catch but the chain hash does not cover)
    // shows through — so the records before it were not folded again.
    let q = dir.path().join("forged.audit");
    copy(&p, &q);
    let mut other = fold(&l, &all[..3 * SNAPSHOT_EVERY as usize / 2]);
    other.events += 1_000_000;
    let r = &all[k + 100 - 1];
    keep(
        &q,
        &l,
        &Snapshot::take(&other, r.seq, &r.hash, &l.sha256).expect("take"),
    )
    .await;
    let opened = audit::Opened::open(&Location::File(q)).await.expect("open");
    let mut rq = opened
        .reader(l.runbook.clone(), &l.sha256)
        .await
        .expect("reader");
    let v = rq.view(End).await.expect("view");
    assert!(
        v.state.events > 1_000_000,
        "the replay started from the snapshot"
    );
}

/// The console's replay through its keys: `G` goes to the end, `g` to the start and `]` to the
/// next operator action, each answered by the reader task while the screen keeps drawing
/// (`seeking…`); an edited snapshot is said on the message line.
#[tokio::test(flavor = "multi_thread")]
async fn replay_keys_ask_the_reader_and_the_screen_shows_its_answer() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use warroom::ui::app::Ui;
    use warroom::ui::keymap::Mode;
    let dir = tempfile::tempdir().expect("tempdir");
    let l = plan("unified-attributes.yaml");
    let (log, records) = session_log(dir.path(), "unified-attributes.yaml", "healthy");
    let p = dir.path().join("keys.audit");
    copy(&log, &p);
    lengthen(&p, &records, SNAPSHOT_EVERY as usize + 10).await;
    let all = audit::read_all(&p).expect("read");
    let j = SNAPSHOT_EVERY as usize;
    keep(&p, &l, &edited(&l, &all, j)).await;
    let at = Location::File(p.clone());
    let opened = audit::Opened::open(&at).await.expect("open");
    let first_at = opened.first_at().expect("time");
    let len = opened.head.0;
    let log = opened
        .reader(l.runbook.clone(), &l.sha256)
        .await
        .expect("reader");
    let (ask, mut replies) = warroom::replay::spawn(log, Some(at)).expect("reader task");
    let mut rp =
        warroom::ui::replay::Replay::following(l.runbook.clone(), ask, first_at, len, 10.0);
    let mut ui = Ui::new(Mode::Replay);
    let mut verified = false;
    // Wait for every answer due, as the console's loop does.
    let mut settle = async |rp: &mut warroom::ui::replay::Replay, ui: &mut Ui| {
        while rp.seeking() {
            match replies.recv().await.expect("the reader answers") {
                warroom::replay::Reply::View(v) => rp.show(*v),
                warroom::replay::Reply::Verified(v) => {
                    assert!(matches!(v, Ok(Verdict::Ok { .. })), "{v:?}");
                    verified = true;
                }
            }
            warroom::ui::replay::follow_view(ui, rp);
        }
    };
    settle(&mut rp, &mut ui).await;
    assert_eq!((rp.cursor, rp.len()), (0, all.len()));
    let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
    warroom::ui::replay::handle_key(&mut ui, &mut rp, key(KeyCode::Char('G')));
    assert!(
        rp.clock_label().contains("seeking…"),
        "{}",
        rp.clock_label()
    );
    settle(&mut rp, &mut ui).await;
    assert_eq!(rp.cursor, all.len());
    assert!(rp.st == fold(&l, &all), "the end: the whole fold");
    assert!(
        ui.message.as_deref().is_some_and(|m| m.contains("edited")),
        "{:?}",
        ui.message
    );
    warroom::ui::replay::handle_key(&mut ui, &mut rp, key(KeyCode::Char('g')));
    settle(&mut rp, &mut ui).await;
    assert_eq!(rp.cursor, 0);
    warroom::ui::replay::handle_key(&mut ui, &mut rp, key(KeyCode::Char(']')));
    settle(&mut rp, &mut ui).await;
    let first_action = all
        .iter()
        .find(|r| warroom::engine::EventKind::from(&r.event().expect("e")).is_operator_action())
        .expect("an operator action");
    assert_eq!(rp.cursor, first_action.seq as usize);
    assert!(rp.st == fold(&l, &all[..rp.cursor]));
    // The verdict comes too, in its own time.
    while !verified {
        if let warroom::replay::Reply::Verified(v) = replies.recv().await.expect("verdict") {
            assert!(matches!(v, Ok(Verdict::Ok { .. })), "{v:?}");
            verified = true;
        }
    }
}
