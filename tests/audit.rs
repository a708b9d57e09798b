//! The audit log as evidence: the chain catches every kind of tampering, the store refuses
//! changes, a crash between intent and outcome is found on restart, and replay and export
//! rebuild what happened with the same `apply`.

mod common;
mod support;
use common::harness::Rehearsal;
use common::*;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use std::path::Path;
use std::process::Command;
use warroom::audit::{self, Store, Verdict};
use warroom::engine::{Action, Event, Outcome};
use warroom::session::Session;
use warroom::sim::Scenario;

/// A real log: a rehearsal's events appended through the store.
async fn write_log(path: &Path) -> Vec<(warroom::engine::Time, Event)> {
    let mut r = Rehearsal::new(seed().runbook, Scenario::BadCanary);
    r.run_to_phase("database-migration");
    let (mut store, _) = Store::open(path, "alice").await.expect("open");
    for chunk in r.events.chunks(7) {
        store.append(chunk).await.expect("append");
    }
    store.close().await;
    r.events
}

async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(path))
        .await
        .expect("raw connect")
}

async fn exec(c: &mut SqliteConnection, sql: &'static str) {
    sqlx::query(sql).execute(&mut *c).await.expect(sql);
}

/// An attacker with write access drops the triggers first.
async fn attacker(path: &Path) -> SqliteConnection {
    let mut c = raw(path).await;
    exec(&mut c, "DROP TRIGGER audit_no_update").await;
    exec(&mut c, "DROP TRIGGER audit_no_delete").await;
    c
}

async fn verdict(path: &Path, expect: Option<&str>) -> Verdict {
    let records = audit::read_all(path).expect("read");
    audit::verify(&records, expect, audit::read_head(path))
}

fn bad_seq(v: Verdict) -> (i64, String) {
    match v {
        Verdict::Bad { seq, problem } => (seq, problem),
        Verdict::Ok { .. } => panic!("tampering not detected"),
    }
}

#[tokio::test]
async fn an_untouched_log_verifies_and_the_store_refuses_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("a.audit");
    let evs = write_log(&p).await;
    match verdict(&p, None).await {
        Verdict::Ok { records, head } => {
            assert_eq!(records as usize, evs.len());
            assert_eq!(audit::read_head(&p).map(|h| h.1), Some(head));
        }
        v => panic!("{v:?}"),
    }
    let mut c = raw(&p).await;
    for sql in [
        "UPDATE audit SET payload = '{}' WHERE seq = 3",
        "DELETE FROM audit WHERE seq = 3",
    ] {
        let e = sqlx::query(sql).execute(&mut c).await.expect_err("refused");
        assert!(e.to_string().contains("append-only"), "{e}");
    }
}

#[tokio::test]
async fn an_edited_record_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("a.audit");
    write_log(&p).await;
    let mut c = attacker(&p).await;
    // One byte: alice becomes alicf in a tick.
    exec(&mut c, "UPDATE audit SET payload = replace(payload, '\"operator\":\"alice\"', '\"operator\":\"alicf\"') WHERE seq = (SELECT min(seq) FROM audit WHERE kind = 'checklist_ticked')").await;
    let first_tick: i64 =
        sqlx::query_scalar("SELECT min(seq) FROM audit WHERE kind = 'checklist_ticked'")
            .fetch_one(&mut c)
            .await
            .expect("seq");
    let (seq, problem) = bad_seq(verdict(&p, None).await);
    assert_eq!(seq, first_tick);
    assert!(problem.contains("edited"), "{problem}");
}

#[tokio::test]
async fn a_deleted_record_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("a.audit");
    write_log(&p).await;
    let mut c = attacker(&p).await;
    exec(&mut c, "DELETE FROM audit WHERE seq = 10").await;
    let (seq, problem) = bad_seq(verdict(&p, None).await);
    assert_eq!(seq, 10);
    assert!(problem.contains("missing"), "{problem}");
}

#[tokio::test]
async fn an_inserted_record_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("a.audit");
    write_log(&p).await;
    let mut c = attacker(&p).await;
    // Make room after seq 5 and forge a tick there, hashed as the attacker pleases.
    exec(&mut c, "UPDATE audit SET seq = seq + 1000000 WHERE seq > 5").await;
    exec(
        &mut c,
        "UPDATE audit SET seq = seq - 999999 WHERE seq > 1000000",
    )
    .await;
    exec(&mut c, "INSERT INTO audit (seq, at, operator, kind, payload, prev_hash, hash) SELECT 6, at, operator, 'checklist_ticked', '{\"kind\":\"checklist_ticked\",\"checklist\":\"x\",\"item\":\"y\",\"by\":\"mallory\"}', hash, hash FROM audit WHERE seq = 5").await;
    let (seq, _) = bad_seq(verdict(&p, None).await);
    assert_eq!(seq, 6);
}

#[tokio::test]
async fn reordered_records_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("a.audit");
    write_log(&p).await;
    let mut c = attacker(&p).await;
    exec(&mut c, "UPDATE audit SET seq = -1 WHERE seq = 3").await;
    exec(&mut c, "UPDATE audit SET seq = 3 WHERE seq = 4").await;
    exec(&mut c, "UPDATE audit SET seq = 4 WHERE seq = -1").await;
    let (seq, _) = bad_seq(verdict(&p, None).await);
    assert_eq!(seq, 3);
}

#[tokio::test]
async fn truncation_is_caught_by_the_head_file_and_by_an_earlier_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("a.audit");
    write_log(&p).await;
    let (n, head) = audit::read_head(&p).expect("head file");
    let mut c = attacker(&p).await;
    exec(
        &mut c,
        "DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)",
    )
    .await;
    let (seq, problem) = bad_seq(verdict(&p, None).await);
    assert_eq!(seq, n);
    assert!(problem.contains("truncated"), "{problem}");
    // The attacker also rewrites the head file: the head posted in chat still catches it.
    std::fs::remove_file(audit::head_path(&p)).expect("rm head");
    assert!(
        matches!(verdict(&p, None).await, Verdict::Ok { .. }),
        "without any head, truncation is invisible"
    );
    let (_, problem) = bad_seq(verdict(&p, Some(&head[..12])).await);
    assert!(problem.contains("truncated"), "{problem}");
}

#[tokio::test]
async fn verify_command_exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("a.audit");
    write_log(&p).await;
    let bin = env!("CARGO_BIN_EXE_warroom");
    let out = Command::new(bin)
        .args(["audit", "verify"])
        .arg(&p)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("ok ") && stdout.contains(" records, head "),
        "{stdout}"
    );

    let mut c = attacker(&p).await;
    exec(
        &mut c,
        "UPDATE audit SET operator = 'mallory' WHERE seq = 4",
    )
    .await;
    let out = Command::new(bin)
        .args(["audit", "verify"])
        .arg(&p)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("seq 4"));

    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, "not an audit log").expect("write");
    let out = Command::new(bin)
        .args(["audit", "verify"])
        .arg(&junk)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a warroom audit log"));
    let out = Command::new(bin)
        .args(["audit", "verify"])
        .arg(dir.path().join("missing.audit"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_a_crash_between_intent_and_outcome() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("crash.audit");
    let loaded = seed();
    // A session that requested a rollback and died before the outcome was written.
    let mut r = Rehearsal::new(loaded.runbook.clone(), Scenario::Healthy);
    r.wait(60);
    let id = r.act(
        Action::Rollback {
            procedure: "feature-flag".into(),
        },
        false,
    );
    let (mut store, _) = Store::open(&p, "alice").await.expect("open");
    store.append(&r.events).await.expect("append");
    store.close().await;

    let mut s = Session::start_demo(&loaded, &p, "bob", 1000.0, Scenario::Healthy)
        .await
        .expect("resume");
    assert!(
        until(&mut s, 10, |st| st
            .actions
            .iter()
            .any(|a| a.id == id && a.outcome == Outcome::Unknown))
        .await
    );
    assert!(s.log.iter().any(|l| l.contains("outcome unknown — verify")));
    // The same chain continues.
    let before = s.st.events;
    s.close().await;
    let records = audit::read_all(&p).expect("read");
    assert!(records.len() as u64 > before);
    assert!(matches!(
        audit::verify(&records, None, audit::read_head(&p)),
        Verdict::Ok { .. }
    ));
    assert!(records.iter().any(|r| r.kind == "action_outcome_unknown"));
    assert_eq!(
        records
            .iter()
            .filter(|r| r.kind == "session_started")
            .count(),
        2
    );
}

#[tokio::test]
async fn replay_rebuilds_the_live_state_and_export_tells_the_story() {
    let loaded = seed();
    let mut r = Rehearsal::new(loaded.runbook.clone(), Scenario::BadCanary);
    r.run_to_phase("green-deployment");
    r.canary_to(10);
    r.act(
        Action::Rollback {
            procedure: "instant".into(),
        },
        true,
    );
    r.wait(120);
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("pm.audit");
    let (mut store, _) = Store::open(&p, "alice").await.expect("open");
    store.append(&r.events).await.expect("append");
    store.close().await;
    let records = audit::read_all(&p).expect("read");

    // Replay equivalence: the folded log equals the state the console had.
    let folded = audit::export::fold(&loaded.runbook, &records).expect("fold");
    assert_eq!(folded.phases, r.st.phases);
    assert_eq!(folded.actions, r.st.actions);
    assert_eq!(folded.alerts, r.st.alerts);
    assert_eq!(folded.flags, r.st.flags);
    assert_eq!(folded.pools, r.st.pools);
    assert_eq!(folded.metrics, r.st.metrics);
    assert_eq!(folded, r.st);
    let mut rp =
        warroom::ui::replay::Replay::new(loaded.runbook.clone(), &records, 10.0).expect("replay");
    rp.seek(rp.len());
    assert_eq!(rp.st, r.st);
    // Seeking back and forth lands on the same states.
    rp.seek(37);
    let mid = rp.st.clone();
    rp.seek(rp.len());
    rp.seek(37);
    assert_eq!(rp.st, mid);

    let md = audit::export::markdown(&loaded.runbook, &records).expect("markdown");
    for section in [
        "## Summary",
        "## Phases",
        "## Timeline of operator actions",
        "## Alerts",
        "## Time at each rollout step",
        "## Rollbacks",
        "## Success criteria",
    ] {
        assert!(md.contains(section), "{section}");
    }
    assert!(md.contains("| green_error_rate | critical |"));
    assert!(
        md.contains("Rollback instant by alice")
            && md.contains("against a target of 1m — within target")
    );
    assert!(
        md.lines()
            .any(|l| l.starts_with("| 10 % |") && l.ends_with("| rollback **instant** |")),
        "time at the first step, ending at the rollback"
    );
    // Timestamps differ run to run only through the rehearsal's fixed clock: snapshot it.
    insta::assert_snapshot!("postmortem", md);

    let jsonl = audit::export::jsonl(&records);
    assert_eq!(jsonl.lines().count(), records.len());
    for (line, rec) in jsonl.lines().zip(&records) {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        assert_eq!(v["seq"], rec.seq);
        assert_eq!(v["hash"], rec.hash.as_str());
        assert_eq!(v["payload"]["kind"], rec.kind.as_str());
    }
}

/// Resuming a log keeps every SQLite lock the writer holds: another process that reads the
/// log while the console runs (the sqlite3 shell here, as an operator might) cannot take the
/// live write-ahead log away, so every record committed after that read is in the file for
/// whoever opens it next, and would survive a crash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_during_a_resumed_session_loses_no_committed_record() {
    let Some(sqlite3) = support::require("the sqlite3 shell", support::on_path("sqlite3")) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("resumed.audit");
    write_log(&p).await;
    let loaded = seed();
    let mut s = Session::start_demo(&loaded, &p, "bob", 1000.0, Scenario::Healthy)
        .await
        .expect("resume");
    settle(&mut s).await;
    let read = Command::new(&sqlite3)
        .arg(&p)
        .arg("SELECT count(*) FROM audit")
        .output()
        .expect("sqlite3");
    assert!(read.status.success(), "{read:?}");
    s.write(vec![Event::ChecklistTicked {
        checklist: "pre-flight".into(),
        item: "after-the-read".into(),
        operator: "bob".into(),
    }]);
    let n = s.st.events;
    assert!(until(&mut s, 10, |st| st.events > n).await, "committed");
    let head = s.head.clone();
    // Another process opens the file: the newest committed record is there, and the chain
    // and the head file agree.
    let bin = env!("CARGO_BIN_EXE_warroom");
    let out = Command::new(bin)
        .args(["audit", "verify", "--expect-head", &head])
        .arg(&p)
        .output()
        .expect("verify");
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let out = Command::new(bin)
        .args(["audit", "verify"])
        .arg(&p)
        .output()
        .expect("verify");
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    s.close().await;
}

fn warroom(args: &[&str], audit: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .arg(audit)
        .output()
        .expect("run warroom");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A log whose last record was removed: the head file says so.
async fn truncated_log(path: &Path) {
    write_log(path).await;
    let mut c = attacker(path).await;
    exec(
        &mut c,
        "DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)",
    )
    .await;
    c.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_that_does_not_verify_is_refused_unless_continued_knowingly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("cut.audit");
    truncated_log(&p).await;
    let head_before = std::fs::read_to_string(audit::head_path(&p)).expect("head");
    let n = audit::read_all(&p).expect("read").len();

    // The console refuses, with verify's message, and touches nothing.
    let (code, _, err) = warroom(&["demo", "--operator", "bob", "--audit"], &p);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("does not verify") && err.contains("truncated"),
        "{err}"
    );
    assert!(err.contains("--continue-unverified"), "{err}");
    assert_eq!(audit::read_all(&p).expect("read").len(), n);
    assert_eq!(
        std::fs::read_to_string(audit::head_path(&p)).ok(),
        Some(head_before.clone())
    );
    // So does the store itself, for any caller.
    let loaded = seed();
    let e = Session::start_demo(&loaded, &p, "bob", 1000.0, Scenario::Healthy)
        .await
        .err()
        .expect("refused");
    assert!(e.contains("does not verify"), "{e}");

    // Continued knowingly: the head file is moved aside, not rewritten, and the session
    // record says what verify said.
    let said = audit::prepare_resume(&p, true).expect("continue");
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|f| f.display().to_string().contains(".head.unverified-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read_to_string(&aside[0]).ok(), Some(head_before));
    assert!(
        said.iter()
            .any(|l| l.contains(&aside[0].display().to_string())),
        "{said:?}"
    );
    let mut s = Session::start_demo(&loaded, &p, "bob", 1000.0, Scenario::Healthy)
        .await
        .expect("continued");
    settle(&mut s).await;
    s.close().await;
    let records = audit::read_all(&p).expect("read");
    let started = records
        .iter()
        .rev()
        .find(|r| r.kind == "session_started")
        .expect("session record");
    match started.event().expect("event") {
        Event::SessionStarted {
            continued_unverified: Some(note),
            ..
        } => assert!(
            note.contains("truncated") && note.contains(".head.unverified-"),
            "{note}"
        ),
        e => panic!("not recorded: {e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_console_on_one_log_is_refused_with_who_holds_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("shared.audit");
    let loaded = seed();
    let s = Session::start_demo(&loaded, &p, "alice", 1000.0, Scenario::Healthy)
        .await
        .expect("first console");
    let (code, _, err) = warroom(&["demo", "--operator", "carol", "--audit"], &p);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("open in another console")
            && err.contains("operator alice")
            && err.contains(&format!("pid {}", std::process::id()))
            && err.contains("since 20"),
        "{err}"
    );
    let e = Store::open(&p, "carol").await.err().expect("refused");
    assert!(e.contains("operator alice"), "{e}");
    s.close().await;
    // Once the first console has closed, the log is free.
    let (store, _) = Store::open(&p, "carol").await.expect("free again");
    store.close().await;
}

#[tokio::test]
async fn export_warns_on_the_first_line_when_the_log_does_not_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.audit");
    write_log(&good).await;
    let (code, out, _) = warroom(&["audit", "export"], &good);
    assert_eq!(code, Some(0));
    let first: serde_json::Value =
        serde_json::from_str(out.lines().next().expect("a line")).expect("json");
    assert_eq!(first["seq"], 1, "no warning on a good log");
    let (_, md, _) = warroom(&["audit", "export", "--format", "markdown"], &good);
    assert!(md.starts_with("# Post-mortem draft"), "{md}");
    let (_, page, _) = warroom(&["audit", "export", "--format", "html"], &good);
    assert!(
        !page.contains("class=\"warning\""),
        "no banner on a good log"
    );

    let bad = dir.path().join("cut.audit");
    truncated_log(&bad).await;
    let (code, out, _) = warroom(&["audit", "export"], &bad);
    assert_eq!(code, Some(0), "still exported: it is evidence");
    let first: serde_json::Value =
        serde_json::from_str(out.lines().next().expect("a line")).expect("json");
    let w = first["warning"].as_str().expect("a warning object first");
    assert!(
        w.contains("does not verify") && w.contains("truncated"),
        "{w}"
    );
    assert_eq!(
        out.lines().nth(1).map(|l| l.contains("\"seq\":1")),
        Some(true)
    );
    let (_, md, _) = warroom(&["audit", "export", "--format", "markdown"], &bad);
    let first = md.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("> ") && first.contains("does not verify"),
        "{md}"
    );
    assert!(md.contains("# Post-mortem draft"));
    let (code, page, _) = warroom(&["audit", "export", "--format", "html"], &bad);
    assert_eq!(code, Some(0), "still exported: it is evidence");
    let banner = page
        .split("<p class=\"warning\" role=\"alert\"><strong>")
        .nth(1)
        .expect("a banner");
    let h1 = page.find("<h1>").expect("a title");
    let at = page.find("<p class=\"warning\"").expect("a banner");
    assert!(
        at > h1 && at < page.find("<h2>").expect("a section"),
        "at the top"
    );
    assert!(
        banner.starts_with("WARNING: this audit log does not verify"),
        "{banner}"
    );
}

#[tokio::test]
async fn expect_head_is_checked_before_the_log_and_takes_the_head_files_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("a.audit");
    write_log(&p).await;
    for bad in ["zzzzzzzz", "3f9a", "", "1 2 3", "seq xyz"] {
        let (code, _, err) = warroom(&["audit", "verify", "--expect-head", bad], &p);
        assert_eq!(code, Some(2), "{bad:?}: {err}");
        assert!(err.contains("--expect-head"), "{err}");
    }
    // Checked before the log is read: a missing log still names the bad head.
    let (code, _, err) = warroom(
        &["audit", "verify", "--expect-head", "nothex!"],
        &dir.path().join("missing.audit"),
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("--expect-head"), "{err}");
    // What the head file holds, as it holds it.
    let head = std::fs::read_to_string(audit::head_path(&p)).expect("head file");
    let (code, out, err) = warroom(&["audit", "verify", "--expect-head", head.trim()], &p);
    assert_eq!(code, Some(0), "{out}{err}");
    let (seq, hash) = audit::read_head(&p).expect("head");
    let (code, out, _) = warroom(
        &[
            "audit",
            "verify",
            "--expect-head",
            &format!("{seq} {}", &hash[..12]),
        ],
        &p,
    );
    assert_eq!(code, Some(0), "{out}");
    let (code, _, _) = warroom(
        &[
            "audit",
            "verify",
            "--expect-head",
            &format!("{seq} {}", "0".repeat(12)),
        ],
        &p,
    );
    assert_eq!(code, Some(1), "a head that is not in the log");
}

#[tokio::test]
async fn replay_refuses_out_of_range_speeds_as_demo_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("a.audit");
    write_log(&p).await;
    for speed in ["NaN", "0", "-1", "0.5", "1001", "inf", "-inf"] {
        let (code, _, err) = warroom(&["replay", &format!("--speed={speed}")], &p);
        assert_eq!(code, Some(2), "--speed {speed}: {err}");
        assert!(err.contains("--speed must be between 1 and 1000"), "{err}");
    }
}

#[tokio::test]
async fn operator_names_are_bounded_and_cleaned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("op.audit");
    let long = "a".repeat(65);
    for bad in [long.as_str(), "\u{1b}\u{202e} \u{200b}"] {
        let (code, _, err) = warroom(&["demo", "--operator", bad, "--audit"], &p);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("--operator"), "{err}");
        assert!(!p.exists(), "nothing was created");
    }
    let (mut store, _) = Store::open(&p, "ali\u{1b}[31mce\u{202e}\u{200b}")
        .await
        .expect("open");
    let recs = store
        .append(&[(
            chrono::Utc::now(),
            Event::SessionEnded {
                operator: "x".into(),
            },
        )])
        .await
        .expect("append");
    store.close().await;
    assert_eq!(recs[0].operator, "ali[31mce");
    assert!(Store::open(&p, &"b".repeat(65)).await.is_err());
}

#[tokio::test]
async fn the_exports_carry_no_control_bidi_or_zero_width_character_nor_markup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("evil.audit");
    let evil = "boom\u{1b}[2J\u{1b}]0;owned\u{7}\n## Injected heading\r\n- forged\u{202e}txt\u{2066}\u{200b}\u{feff}\
        <script>alert(1)</script>\"><img src=x onerror=alert(2)>&amp;";
    let (mut store, _) = Store::open(&p, "alice").await.expect("open");
    let t = chrono::Utc::now();
    store
        .append(&[
            (
                t,
                Event::SessionStarted {
                    operator: evil.into(),
                    mode: "demo".into(),
                    runbook: "runbooks/unified-attributes.yaml".into(),
                    runbook_sha256: "0".repeat(64),
                    scenario: None,
                    speed: None,
                    continued_unverified: None,
                },
            ),
            (
                t,
                Event::ActionFailed {
                    id: 1,
                    error: evil.into(),
                },
            ),
            (
                t,
                Event::Decision {
                    go: true,
                    operator: evil.into(),
                    role: evil.into(),
                    reason: None,
                },
            ),
        ])
        .await
        .expect("append");
    store.close().await;
    let (code, md, err) = warroom(&["audit", "export", "--format", "markdown"], &p);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        !md.chars().any(|c| c != '\n' && warroom::text::is_unsafe(c)),
        "{md:?}"
    );
    assert!(!md.lines().any(|l| l.starts_with("## Injected")), "{md}");
    assert!(!md.lines().any(|l| l.starts_with("- forged")), "{md}");
    assert!(
        md.contains("boom\\[2J\\]0;owned ## Injected heading  - forgedtxt"),
        "{md}"
    );
    assert!(
        md.contains("\\<script>alert(1)\\</script>\">\\<img src=x"),
        "no tag opens in the markdown: {md}"
    );

    // The HTML page: every string escaped, nothing of the log becomes an element.
    let (code, page, err) = warroom(&["audit", "export", "--format", "html"], &p);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        !page
            .chars()
            .any(|c| c != '\n' && warroom::text::is_unsafe(c)),
        "{page:?}"
    );
    for element in ["<script", "<img"] {
        assert!(!page.contains(element), "{element} in the page");
    }
    assert!(page.contains(
        "forgedtxt&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;"
    ));
}

/// Batches queued while the store was writing go to disk in one transaction: each comes back
/// as its own records, numbered on from the last, and the log verifies with the head file.
#[tokio::test]
async fn queued_batches_are_committed_together_and_chain_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("batches.audit");
    let mut r = Rehearsal::new(seed().runbook, Scenario::Healthy);
    r.run_to_phase("database-migration");
    assert!(r.events.len() >= 6, "a rehearsal writes something");
    let (mut store, _) = Store::open(&p, "alice").await.expect("open");
    store.append(&r.events[..1]).await.expect("append");
    let batches = [&r.events[1..3], &r.events[3..4], &r.events[4..]];
    let out = store
        .append_batches(&batches)
        .await
        .expect("append batches");
    assert_eq!(
        out.iter().map(|b| b.len()).collect::<Vec<_>>(),
        vec![2, 1, r.events.len() - 4]
    );
    let seqs: Vec<i64> = out.iter().flatten().map(|rec| rec.seq).collect();
    assert_eq!(seqs, (2..=r.events.len() as i64).collect::<Vec<_>>());
    let head = out
        .last()
        .and_then(|b| b.last())
        .map(|rec| rec.hash.clone());
    store.close().await;
    assert_eq!(audit::read_head(&p).map(|h| h.1), head);
    assert_eq!(
        audit::verify_file(&p, None).expect("verify"),
        Verdict::Ok {
            records: r.events.len() as i64,
            head: head.expect("a head")
        }
    );
}

/// A log written before the glossary renamed `green_weight` (the share green takes, as the
/// load balancer reports it) to `green_share` still verifies, folds and exports: the old key is
/// read as the new one, and its records keep their hashes.
#[test]
fn a_log_written_with_the_old_green_weight_key_verifies_and_replays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("old.audit");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs");
    std::fs::copy(fixture.join("green-weight.audit"), &p).expect("copy");
    std::fs::copy(
        fixture.join("green-weight.audit.head"),
        dir.path().join("old.audit.head"),
    )
    .expect("copy head");
    let records = audit::read_all(&p).expect("read");
    assert!(
        records
            .iter()
            .any(|r| r.payload.contains("\"green_weight\"")),
        "the fixture is in the old format"
    );
    assert!(matches!(
        audit::verify_file(&p, None).expect("verify"),
        Verdict::Ok { .. }
    ));
    let rb = seed().runbook;
    let st = audit::export::fold(&rb, &records).expect("fold");
    assert_eq!(st.pools.green_share, Some(10));
    assert_eq!(st.traffic_share(&rb), 10);
    let md = audit::export::markdown(&rb, &records).expect("export");
    assert!(md.contains("Highest rollout share reached: **10 %"), "{md}");
    // Every format still exports it.
    let page = audit::export::html(&rb, &records, None).expect("html export");
    assert!(page.contains("<figure class=\"chart\" id=\"chart-rollout-share\">"));
    assert!(page.contains("Highest share: 10 %"));
    assert_eq!(
        audit::export::jsonl(&records).lines().count(),
        records.len()
    );
}

/// The same old log names who decided `by`, a phase change `advance` and what a step does
/// `action`; the glossary's `operator`, `phase_change` and `kind` read them, so the fold knows
/// who ticked, who signed and which phases ran — and new records are written with the new names.
#[test]
fn a_log_written_with_by_advance_and_step_action_reads_with_the_glossary_names() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs");
    let records = audit::read_all(&fixture.join("green-weight.audit")).expect("read");
    let old = |needle: &str| records.iter().any(|r| r.payload.contains(needle));
    assert!(
        old("\"by\":\"alice\""),
        "the fixture names who decided `by`"
    );
    assert!(old("\"action\":\"advance\""), "the fixture has `advance`");
    assert!(
        old("\"action\":{\"set_flag\""),
        "the fixture's steps say `action`"
    );
    let rb = seed().runbook;
    let st = audit::export::fold(&rb, &records).expect("fold");
    let ticks: Vec<&str> = st.ticks.values().map(|t| t.operator.as_str()).collect();
    assert!(
        !ticks.is_empty() && ticks.iter().all(|o| *o == "alice"),
        "{ticks:?}"
    );
    assert_eq!(
        st.decision.as_ref().map(|d| d.operator.as_str()),
        Some("alice")
    );
    let events: Vec<Event> = records
        .iter()
        .filter_map(|r| serde_json::from_str(&r.payload).ok())
        .collect();
    let phase_changes = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::ActionRequested {
                    action: Action::PhaseChange { .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(phase_changes, 5, "every `advance` reads as a phase change");
    let tick = events
        .iter()
        .find(|e| matches!(e, Event::ChecklistTicked { .. }))
        .expect("a tick");
    let fresh = serde_json::to_string(tick).expect("json");
    assert!(
        fresh.contains("\"operator\":\"alice\"") && !fresh.contains("\"by\""),
        "{fresh}"
    );
    let md = audit::export::markdown(&rb, &records).expect("export");
    assert!(md.contains("signed by alice"), "{md}");
}
