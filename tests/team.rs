//! Team mode on a real PostgreSQL (the throwaway cluster of tests/support/pg.rs): the same
//! log in PostgreSQL as in SQLite (verify, export, copy both ways), append-only in the
//! database, tampering caught, a watcher following the lead's console, one console writing a
//! rollout, and the store going away mid-session.

mod common;
mod support;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::pg::{self, PASSWORD};
use warroom::audit::{self, Location, Verdict};
use warroom::engine::State;
use warroom::runbook::{self, Loaded};
use warroom::session::{Session, Wake};
use warroom::sim::Scenario;
use warroom::team::{Opening, survey};
use warroom::ui::app::{Intent, Ui, current_items};
use warroom::ui::keymap::Mode;
use warroom::watch::{Watch, Watched};

fn seed() -> Loaded {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/unified-attributes.yaml");
    runbook::load(&p).unwrap_or_else(|e| panic!("the seed runbook must load: {e}"))
}

/// A fresh cluster (with its temp dir), its URL and the seed plan; `None` (said) when
/// PostgreSQL is not installed.
fn cluster() -> Option<(tempfile::TempDir, pg::Cluster, String, Loaded)> {
    let (dir, cluster) = pg::fresh()?;
    let url = cluster.url();
    Some((dir, cluster, url, seed()))
}

fn pg_at(url: &str, rollout: &str) -> Location {
    Location::Postgres {
        url: url.to_string(),
        rollout: Some(rollout.to_string()),
    }
}

/// The lead's console without a terminal: a session and its UI, keys pressed as the terminal
/// loop presses them.
struct Lead {
    s: Session,
    ui: Ui,
}

impl Lead {
    async fn open(loaded: &Loaded, at: Location, operator: &str) -> Result<Lead, String> {
        let s = Session::start_demo(loaded, at, operator, 10.0, Scenario::Healthy).await?;
        Ok(Lead {
            s,
            ui: Ui::new(Mode::Live),
        })
    }

    fn press(&mut self, code: KeyCode) {
        let op = self.s.operator.clone();
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        warroom::ui::live::handle_key(&mut self.ui, &mut self.s, &op, key);
    }

    /// Items ticked on the checklist shown.
    fn ticked(&self) -> usize {
        ticked(&self.s.st, &self.s.rb)
    }
}

fn ticked(st: &State, rb: &runbook::Runbook) -> usize {
    current_items(st, rb)
        .iter()
        .filter(|(l, i, _)| st.ticked(l, i).is_some())
        .count()
}

/// Handle the lead's and (if any) the watcher's wake-ups until `cond` holds; false after
/// `secs` (a guard against a hang, not a speed claim).
async fn pump(
    lead: &mut Lead,
    mut watch: Option<&mut Watch>,
    secs: u64,
    mut cond: impl FnMut(&Lead, Option<&Watch>) -> bool,
) -> bool {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if cond(lead, watch.as_deref()) {
            return true;
        }
        if tokio::time::Instant::now() >= end {
            return false;
        }
        let tick = tokio::time::sleep(Duration::from_millis(100));
        match watch.as_deref_mut() {
            Some(w) => {
                tokio::select! {
                    _ = lead.s.next() => {}
                    _ = w.next() => {}
                    _ = tick => {}
                }
            }
            None => {
                tokio::select! {
                    _ = lead.s.next() => {}
                    _ = tick => {}
                }
            }
        }
    }
}

fn warroom(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(args)
        .output()
        .expect("run warroom");
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(
        !o.contains(PASSWORD) && !e.contains(PASSWORD),
        "the password leaked: {o}{e}"
    );
    (out.status.code().unwrap_or(-1), o, e)
}

/// `warroom audit export URL --rollout R --format F`.
fn export(url: &str, rollout: &str, format: &str) -> (i32, String, String) {
    warroom(&[
        "audit",
        "export",
        url,
        "--rollout",
        rollout,
        "--format",
        format,
    ])
}

async fn sql(url: &str, q: &str) -> Result<u64, String> {
    use sqlx::Connection;
    let mut c = sqlx::postgres::PgConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(q.to_string()))
        .execute(&mut c)
        .await
        .map(|r| r.rows_affected())
        .map_err(|e| e.to_string())
}

/// Bob's tick, from a UI without the read-only note (it gets past the keys): the engine
/// refuses it, and says why.
fn bobs_tick_refused(w: &Watch) -> String {
    let mut raw = Ui::new(Mode::Live);
    let intents = raw.on_key(
        KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE),
        &w.st,
        &w.rb,
        "bob",
    );
    let Some(Intent::Write(evs)) = intents.into_iter().next() else {
        panic!("a tick asks to write")
    };
    w.command(evs)
        .expect_err("the engine refuses an observer's tick")
}

/// A console opens the rollout and waits until its lead is recorded.
async fn takes_the_lead(loaded: &Loaded, url: &str, rollout: &str, who: &str) -> Lead {
    let mut l = Lead::open(loaded, pg_at(url, rollout), who)
        .await
        .unwrap_or_else(|e| panic!("{who} takes the lead: {e}"));
    assert!(
        pump(&mut l, None, 30, |l, _| l
            .s
            .st
            .lead
            .as_ref()
            .is_some_and(|x| x.operator == who))
        .await
    );
    l
}

/// A console leads, ticks one item, and dies (dropped: no session end is recorded).
async fn console_dies(loaded: &Loaded, url: &str, rollout: &str, who: &str) {
    let mut l = takes_the_lead(loaded, url, rollout, who).await;
    l.press(KeyCode::Char(' '));
    assert!(pump(&mut l, None, 30, |l, _| l.ticked() == 1).await);
    drop(l);
}

/// A lead writes a rollout through its console; every tick is a record.
async fn lead_writes(loaded: &Loaded, at: Location, ticks: usize) {
    let mut lead = Lead::open(loaded, at, "alice").await.expect("lead opens");
    for _ in 0..ticks {
        let before = lead.ticked();
        lead.press(KeyCode::Char(' '));
        assert!(
            pump(&mut lead, None, 30, |l, _| l.ticked() > before).await,
            "the tick was not committed"
        );
    }
    lead.s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_in_postgres_verifies_exports_and_copies_as_the_same_log_in_sqlite() {
    let Some((dir, _cluster, url, loaded)) = cluster() else {
        return;
    };
    lead_writes(&loaded, pg_at(&url, "seed"), 3).await;
    // A second rollout in the same database is its own chain.
    lead_writes(&loaded, pg_at(&url, "other"), 1).await;

    let (code, pg_ok, e) = warroom(&["audit", "verify", &url, "--rollout", "seed"]);
    assert_eq!(code, 0, "{pg_ok}{e}");
    assert!(pg_ok.starts_with("ok "), "{pg_ok}");
    // Several rollouts: one must be named.
    let (code, _, e) = warroom(&["audit", "verify", &url]);
    assert_eq!(code, 2, "{e}");
    assert!(
        e.contains("several rollouts") && e.contains("seed") && e.contains("other"),
        "{e}"
    );

    // PostgreSQL → SQLite: every hash kept; verify and export agree.
    let file = dir.path().join("copy.audit");
    let f = file.display().to_string();
    let (code, out, e) = warroom(&["audit", "copy", &url, &f, "--rollout", "seed"]);
    assert_eq!(code, 0, "{out}{e}");
    assert!(out.contains("both verify"), "{out}");
    let (code, file_ok, _) = warroom(&["audit", "verify", &f]);
    assert_eq!(code, 0);
    assert_eq!(file_ok, pg_ok, "the same records, the same head");
    for format in ["jsonl", "markdown"] {
        let (_, from_pg, _) = warroom(&[
            "audit",
            "export",
            "--store",
            &url,
            "--rollout",
            "seed",
            "--format",
            format,
        ]);
        let (_, from_file, _) = warroom(&["audit", "export", &f, "--format", format]);
        assert_eq!(from_pg, from_file, "{format} export differs");
        assert!(from_pg.contains("alice"), "{from_pg}");
    }

    // SQLite → PostgreSQL, into a new rollout: the same head again.
    let (code, out, e) = warroom(&["audit", "copy", &f, &url, "--to-rollout", "back"]);
    assert_eq!(code, 0, "{out}{e}");
    let (_, back_ok, _) = warroom(&["audit", "verify", &url, "--rollout", "back"]);
    assert_eq!(back_ok, pg_ok);
    // Never over a log that holds records.
    let (code, _, e) = warroom(&["audit", "copy", &f, &url, "--to-rollout", "back"]);
    assert_eq!(code, 1);
    assert!(e.contains("already holds"), "{e}");

    // The database refuses changes; the superuser who bypasses the triggers is caught.
    for q in [
        "UPDATE warroom.audit SET operator = 'mallory' WHERE rollout = 'seed' AND seq = 3",
        "DELETE FROM warroom.audit WHERE rollout = 'seed' AND seq = 3",
        "TRUNCATE warroom.audit",
    ] {
        let e = sql(&url, q).await.expect_err(q);
        assert!(e.contains("append-only"), "{q}: {e}");
    }
    sql(
        &url,
        "SET session_replication_role = replica;
         UPDATE warroom.audit SET operator = 'mallory' WHERE rollout = 'seed' AND seq = 3",
    )
    .await
    .expect("the superuser bypasses the triggers");
    let (code, out, _) = warroom(&["audit", "verify", &url, "--rollout", "seed"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TAMPERED at seq 3"), "{out}");
    assert!(out.contains("postgres:***@"), "{out}");
    sql(
        &url,
        "ALTER TABLE warroom.audit DISABLE TRIGGER USER;
         DELETE FROM warroom.audit WHERE rollout = 'other' AND seq = 2;
         ALTER TABLE warroom.audit ENABLE TRIGGER USER",
    )
    .await
    .expect("the superuser disables the triggers");
    let (code, out, _) = warroom(&["audit", "verify", &url, "--rollout", "other"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TAMPERED at seq 2"), "{out}");
    // A copy of a log that does not verify is refused.
    let (code, _, e) = warroom(&[
        "audit",
        "copy",
        &url,
        &dir.path().join("x.audit").display().to_string(),
        "--rollout",
        "seed",
    ]);
    assert_eq!(code, 1);
    assert!(e.contains("does not verify"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_role_with_insert_and_select_only_writes_and_cannot_change_the_log() {
    let Some((_dir, _cluster, url, loaded)) = cluster() else {
        return;
    };
    // The schema is created once by its owner (the first console, here as the superuser).
    lead_writes(&loaded, pg_at(&url, "seed"), 1).await;
    // The GRANTs of the README's team-mode section.
    sql(
        &url,
        "CREATE ROLE warroom_console LOGIN PASSWORD 'console-pw';
         GRANT USAGE ON SCHEMA warroom TO warroom_console;
         GRANT SELECT, INSERT ON warroom.audit, warroom.leases, warroom.snapshots TO warroom_console;
         GRANT SELECT ON warroom.meta TO warroom_console;
         CREATE ROLE warroom_older LOGIN PASSWORD 'older-pw';
         GRANT USAGE ON SCHEMA warroom TO warroom_older;
         GRANT SELECT, INSERT ON warroom.audit, warroom.leases TO warroom_older;
         GRANT SELECT ON warroom.meta TO warroom_older;",
    )
    .await
    .expect("grants");
    let console = url.replace("postgres:pw-Zx81-secret", "warroom_console:console-pw");
    lead_writes(&loaded, pg_at(&console, "seed"), 1).await;
    // A role granted as before snapshots existed still leads (it keeps and reads none).
    let older = url.replace("postgres:pw-Zx81-secret", "warroom_older:older-pw");
    lead_writes(&loaded, pg_at(&older, "seed"), 1).await;
    let e = sql(&console, "UPDATE warroom.audit SET operator = 'x'")
        .await
        .expect_err("no UPDATE");
    assert!(e.contains("permission denied"), "{e}");
    let e = sql(&console, "DELETE FROM warroom.audit")
        .await
        .expect_err("no DELETE");
    assert!(e.contains("permission denied"), "{e}");
    assert_eq!(
        audit::Location::verify(&pg_at(&console, "seed"), None)
            .await
            .map(|v| matches!(v, Verdict::Ok { .. })),
        Ok(true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_follows_the_lead_and_cannot_act() {
    let Some((_dir, cluster, url, loaded)) = cluster() else {
        return;
    };
    let mut lead = Lead::open(&loaded, pg_at(&url, "room"), "alice")
        .await
        .expect("lead");
    assert!(pump(&mut lead, None, 30, |l, _| l.s.st.events >= 1).await);
    let l = loaded.clone();
    let mut w = Watch::open(&url, Some("room"), "bob", move |_| Ok(l))
        .await
        .expect("watch opens");
    assert_eq!(w.st.operator, "alice", "the lead's session, as recorded");
    // The lead's lease, renewed by its heartbeat, is what the watcher reads when notified.
    assert!(
        pump(&mut lead, Some(&mut w), 30, |_, w| w
            .expect("w")
            .lease
            .as_ref()
            .is_some_and(|l| l.operator == "alice"))
        .await
    );
    let words = w.lease_words(chrono::Utc::now()).unwrap_or_default();
    assert!(words.contains("alice's lease renewed"), "{words}");

    // A tick on the lead's console appears on the watcher's, through NOTIFY.
    lead.press(KeyCode::Char(' '));
    assert!(
        pump(&mut lead, Some(&mut w), 30, |l, w| {
            let w = w.expect("watch");
            l.ticked() == 1 && ticked(&w.st, &w.rb) == 1 && w.seq >= l.s.st.events as i64
        })
        .await,
        "the watcher did not see the tick"
    );
    assert_eq!(w.head, lead.s.head, "the same head");

    // The watcher's action keys are absent from its hints and help, and say why.
    let mut ui = warroom::ui::watch::ui(&w);
    for k in ['a', ' ', 'f', 'g', 'r', 's'] {
        let quit = warroom::ui::watch::handle_key(
            &mut ui,
            &w,
            KeyEvent::new(KeyCode::Char(k), KeyModifiers::NONE),
        );
        assert!(!quit);
        assert!(ui.dialog.is_none(), "{k} opened a dialog");
        let m = ui.message.clone().unwrap_or_default();
        assert!(m.contains("read-only") && m.contains("alice"), "{k}: {m}");
    }
    let help = warroom::ui::keymap::help_keys(Mode::Live, true, true);
    let acting: Vec<&str> = warroom::ui::keymap::bindings(Mode::Live)
        .filter(|b| b.cmd.acts() && !b.help.is_empty())
        .map(|b| b.help)
        .collect();
    assert!(!acting.is_empty());
    assert!(
        help.iter().all(|(_, what)| !acting.contains(what)),
        "{help:?}"
    );
    assert!(help.iter().any(|(k, _)| k == "q"));

    // The engine refuses an observer's command, not only its keys: a UI without the
    // read-only note still gets nowhere.
    assert_eq!(
        w.st.lead.as_ref().map(|l| l.operator.as_str()),
        Some("alice")
    );
    let e = bobs_tick_refused(&w);
    assert!(
        e.contains("alice leads") && e.contains("bob may watch"),
        "{e}"
    );

    // A second console on the same rollout opens as an observer, naming who leads; opened
    // anyway, its store is refused.
    match survey(&url, "room", "carol", &loaded).await {
        Ok(Opening::Observer(h, lease)) => {
            assert_eq!(h.operator, "alice", "{h:?}");
            assert!(lease.is_some_and(|l| l.operator == "alice"));
        }
        other => panic!("carol should observe: {other:?}"),
    }
    // A live lease is never taken over.
    let e = warroom::audit::pg::end_expired_lead(&url, "room")
        .await
        .expect_err("alice's lease is alive");
    assert!(e.contains("has not ended"), "{e}");
    let e = Lead::open(&loaded, pg_at(&url, "room"), "carol")
        .await
        .err()
        .expect("a second console is refused");
    assert!(
        e.contains("open in another console") && e.contains("alice"),
        "{e}"
    );
    assert!(!e.contains(PASSWORD), "{e}");

    // PostgreSQL goes away: the lead's intent is not stored, so not taken; the watcher says
    // the connection is lost.
    cluster.stop();
    let before = lead.ticked();
    lead.press(KeyCode::Char(' '));
    let mut failed = None;
    let end = tokio::time::Instant::now() + Duration::from_secs(60);
    while failed.is_none() && tokio::time::Instant::now() < end {
        tokio::select! {
            wk = lead.s.next() => if let Wake::WriteFailed(e) = wk { failed = Some(e) },
            _ = w.next() => {}
        }
    }
    let failed = failed.expect("the write failed");
    assert!(!failed.contains(PASSWORD), "{failed}");
    assert_eq!(lead.ticked(), before, "nothing applied that was not stored");
    assert_eq!(
        ticked(&lead.s.ahead, &lead.s.rb),
        before,
        "nor decided ahead"
    );
    assert!(
        lead.s.log.iter().any(|l| l.contains("AUDIT WRITE FAILED")),
        "{:?}",
        lead.s.log
    );
    assert!(
        pump(&mut lead, Some(&mut w), 30, |_, w| w
            .expect("w")
            .lost
            .is_some())
        .await,
        "the watcher did not notice"
    );
    assert!(
        warroom::ui::watch::clock_label(&w).contains("CONNECTION LOST — last record at"),
        "{}",
        warroom::ui::watch::clock_label(&w)
    );

    // Back: both recover by themselves; the next tick is stored and seen.
    cluster.restart();
    let back = {
        let end = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut back = false;
        while !back && tokio::time::Instant::now() < end {
            if let Ok(Watched::Back) = tokio::time::timeout(Duration::from_secs(1), w.next()).await
            {
                back = true;
            }
        }
        back
    };
    assert!(back, "the watcher did not reconnect");
    assert!(w.lost.is_none());
    let before = lead.ticked();
    lead.press(KeyCode::Char(' '));
    assert!(
        pump(&mut lead, Some(&mut w), 60, |l, w| {
            let w = w.expect("w");
            l.ticked() == before + 1 && ticked(&w.st, &w.rb) == before + 1
        })
        .await,
        "no recovery after PostgreSQL came back: {:?}",
        &lead.s.log[lead.s.log.len().saturating_sub(5)..]
    );
    // The lead's heartbeat took its lock back after the restart: a console opening now
    // still observes.
    let mut held = None;
    for _ in 0..100 {
        held = warroom::audit::pg::writer_holder(&url, "room")
            .await
            .expect("survey");
        if held.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(held.map(|(h, _)| h.operator), Some("alice".to_string()));
    lead.s.close().await;
    // Quitting ends the lease at once.
    assert!(
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                w.next().await;
                if w.lease
                    .as_ref()
                    .is_some_and(|l| l.expired(chrono::Utc::now()))
                {
                    break;
                }
            }
        })
        .await
        .is_ok(),
        "the watcher did not see the lease end"
    );
    let v = pg_at(&url, "room").verify(None).await.expect("verify");
    assert!(matches!(v, Verdict::Ok { .. }), "{v:?}");
}

#[tokio::test]
async fn copy_between_files_keeps_every_hash_and_urls_are_never_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.audit");
    {
        let (mut store, _) = audit::Store::open(&a, "alice").await.expect("open");
        let at = chrono::Utc::now();
        store
            .append(&[(
                at,
                warroom::engine::Event::SessionEnded {
                    operator: "alice".into(),
                },
            )])
            .await
            .expect("append");
        store.close().await;
    }
    let b = dir.path().join("b.audit");
    audit::copy(&Location::File(a.clone()), &Location::File(b.clone()))
        .await
        .expect("copy");
    assert_eq!(
        audit::read_all(&a).expect("a"),
        audit::read_all(&b).expect("b")
    );
    let url = format!("postgres://u:{PASSWORD}@127.0.0.1:1/db");
    let at = Location::parse(&url, Some("r")).expect("url");
    assert!(!at.shown().contains(PASSWORD), "{}", at.shown());
    assert!(Location::parse("x.audit", Some("r")).is_err());
    // A URL nobody answers: the error is bounded and masked.
    let e = at.verify(None).await.expect_err("nothing listens");
    assert!(!e.contains(PASSWORD), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_whose_console_stopped_is_taken_over_and_both_names_are_recorded() {
    let Some((_dir, _cluster, url, loaded)) = cluster() else {
        return;
    };
    // Nobody has opened the rollout: the first console leads it.
    assert_eq!(
        survey(&url, "relay", "alice", &loaded).await,
        Ok(Opening::Lead {
            take_over_from: None
        })
    );
    // Alice's console dies after a tick: no session end is recorded, and its lock goes with
    // its connection.
    console_dies(&loaded, &url, "relay", "alice").await;
    let taken = {
        let end = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let s = survey(&url, "relay", "bob", &loaded).await;
            if matches!(s, Ok(Opening::Lead { .. })) || tokio::time::Instant::now() >= end {
                break s;
            }
            // The old connection closes in the background: its lock is released with it.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    assert_eq!(
        taken,
        Ok(Opening::Lead {
            take_over_from: Some("alice".into())
        })
    );
    let mut bob = takes_the_lead(&loaded, &url, "relay", "bob").await;
    assert!(warroom::engine::may_act(&bob.s.st, "alice").is_err());
    let before = bob.ticked();
    bob.press(KeyCode::Char(' '));
    assert!(pump(&mut bob, None, 30, |l, _| l.ticked() == before + 1).await);
    bob.s.close().await;

    let export = |format: &str| export(&url, "relay", format);
    let (code, jsonl, e) = export("jsonl");
    assert_eq!(code, 0, "{e}");
    let taken: Vec<serde_json::Value> = jsonl
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "lead_taken")
        .collect();
    assert_eq!(taken.len(), 2, "{jsonl}");
    assert_eq!(taken[0]["payload"]["operator"], "alice");
    assert_eq!(taken[1]["payload"]["operator"], "bob");
    assert_eq!(taken[1]["payload"]["previous"], "alice");
    assert_eq!(taken[1]["operator"], "bob");
    let (_, md, _) = export("markdown");
    assert!(md.contains("alice") && md.contains("bob"), "{md}");
    let (code, ok, _) = warroom(&["audit", "verify", &url, "--rollout", "relay"]);
    assert_eq!(code, 0, "{ok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_cut_off_after_its_lease_ended_is_taken_over_by_ending_its_connection() {
    use sqlx::ConnectOptions;
    let Some((_dir, _cluster, url, loaded)) = cluster() else {
        return;
    };
    // Alice's console dies after a tick: no session end is recorded, and its lock goes with
    // its connection.
    console_dies(&loaded, &url, "cut", "alice").await;
    // What a closed laptop leaves: alice's connection still holding the rollout's lock, her
    // lease no longer renewed.
    let opts: sqlx::postgres::PgConnectOptions = url.parse().expect("url");
    let mut zombie = opts
        .application_name("warroom: alice")
        .connect()
        .await
        .expect("connect");
    let mut locked = false;
    for _ in 0..100 {
        locked = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
            .bind(warroom::audit::pg::WRITER_LOCK)
            .bind("cut")
            .fetch_one(&mut zombie)
            .await
            .expect("lock");
        if locked {
            break;
        }
        // Alice's own connection closes in the background.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(locked);
    match survey(&url, "cut", "bob", &loaded).await {
        Ok(Opening::TakeOverExpired(h, lease)) => {
            assert_eq!(h.operator, "alice");
            assert_eq!(lease.operator, "alice");
        }
        other => panic!("bob should be offered a take-over: {other:?}"),
    }
    assert!(
        Lead::open(&loaded, pg_at(&url, "cut"), "bob")
            .await
            .is_err()
    );
    let said = warroom::audit::pg::end_expired_lead(&url, "cut")
        .await
        .expect("ended");
    assert!(said.contains("alice"), "{said}");
    assert!(
        sqlx::query("SELECT 1").execute(&mut zombie).await.is_err(),
        "the half-open connection was ended"
    );
    let bob = takes_the_lead(&loaded, &url, "cut", "bob").await;
    assert!(
        bob.s
            .log
            .iter()
            .any(|l| l.contains("bob took the lead from alice")),
        "{:?}",
        bob.s.log
    );
    bob.s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_asks_to_lead_and_the_lead_hands_over_with_a_key() {
    let Some((_dir, _cluster, url, loaded)) = cluster() else {
        return;
    };
    let mut alice = takes_the_lead(&loaded, &url, "relay", "alice").await;
    let l = loaded.clone();
    let mut w = Watch::open(&url, Some("relay"), "bob", move |_| Ok(l))
        .await
        .expect("watch opens");
    // Bob presses L on his console; the lead's console hears it and says so. (A request sent
    // before the lead's listener is connected is lost: bob presses again, as a user would.)
    let mut ui = warroom::ui::watch::ui(&w);
    let mut heard = false;
    for _ in 0..30 {
        warroom::ui::watch::handle_key(
            &mut ui,
            &w,
            KeyEvent::new(KeyCode::Char('L'), KeyModifiers::NONE),
        );
        let m = ui.message.clone().unwrap_or_default();
        assert!(m.contains("asked alice"), "{m}");
        if pump(&mut alice, Some(&mut w), 1, |l, _| {
            l.s.asked.as_deref() == Some("bob")
        })
        .await
        {
            heard = true;
            break;
        }
    }
    assert!(heard, "the lead did not hear bob");
    assert!(alice.s.log.iter().any(|l| l.contains("bob asks to lead")));
    // Bob's H is the lead's key: refused on his console.
    warroom::ui::watch::handle_key(
        &mut ui,
        &w,
        KeyEvent::new(KeyCode::Char('H'), KeyModifiers::NONE),
    );
    assert!(ui.message.clone().unwrap_or_default().contains("read-only"));
    // Alice accepts with H: recorded with both names; she no longer acts; bob's console sees
    // that the lead is his.
    alice.press(KeyCode::Char('H'));
    // Bob hears it through NOTIFY; alice's own screen once her store has committed it (the
    // two may come in either order).
    assert!(
        pump(&mut alice, Some(&mut w), 30, |a, w| w
            .expect("w")
            .handed_to_me()
            && warroom::engine::may_act(&a.s.st, "alice").is_err())
        .await,
        "the hand-over did not reach bob and alice's state"
    );
    alice.press(KeyCode::Char(' '));
    assert!(
        alice
            .ui
            .message
            .clone()
            .unwrap_or_default()
            .contains("may watch, not act"),
        "{:?}",
        alice.ui.message
    );
    alice.s.close().await;
    // Bob's console opens as the lead.
    let bob = takes_the_lead(&loaded, &url, "relay", "bob").await;
    bob.s.close().await;
    let (_, jsonl, _) = export(&url, "relay", "jsonl");
    let handed = jsonl
        .lines()
        .find(|l| l.contains("\"lead_handed_over\""))
        .expect("the hand-over is recorded");
    assert!(
        handed.contains("\"to\":\"bob\"") && handed.contains("\"operator\":\"alice\""),
        "{handed}"
    );
}

/// The seed plan with one `approval: two-person` added (`from` replaced by `to`), written next
/// to the seed as `name` (a runbook's relative paths are its own directory's).
fn marked_seed(dir: &Path, from: &str, to: &str, name: &str) -> Loaded {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/unified-attributes.yaml");
    let text = std::fs::read_to_string(&seed).expect("seed");
    let marked = text.replacen(from, to, 1);
    assert_ne!(
        marked, text,
        "the seed moved: mark another place than {from:?}"
    );
    let p = dir.join(name);
    std::fs::write(&p, marked).expect("write");
    runbook::load(&p).unwrap_or_else(|e| panic!("the marked runbook loads: {e}"))
}

/// The seed plan with `approval: two-person` on a flag (`fallback_enabled`).
fn with_two_person_flag(dir: &Path) -> Loaded {
    marked_seed(
        dir,
        "    env: UNIFIED_ATTRIBUTES_FALLBACK\n",
        "    env: UNIFIED_ATTRIBUTES_FALLBACK\n    approval: two-person\n",
        "two-person.yaml",
    )
}

const FLAG: &str = "fallback_enabled";

fn fallback(st: &State) -> Option<bool> {
    st.flags.get(FLAG).and_then(|v| v.as_bool())
}

impl Lead {
    fn typing(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    /// Select the two-person flag and press `f`: the flip's dialog, as proposed.
    fn open_marked_flip(&mut self) -> warroom::engine::Proposal {
        let i = self
            .s
            .rb
            .flags
            .iter()
            .position(|f| f.id.value == FLAG)
            .expect("flag");
        self.ui.flag_sel = i;
        self.press(KeyCode::Char('f'));
        match self.ui.proposal(&self.s.ahead, &self.s.rb) {
            Some(p) => p,
            None => panic!("f opens the flip's dialog: {:?}", self.ui.message),
        }
    }

    /// The two-person flip, once its gate passes: Enter submits it.
    fn flip_marked_flag(&mut self) {
        let p = self.open_marked_flip();
        assert!(
            p.checks
                .iter()
                .any(|c| c.name == "a second operator approves" && c.pass),
            "{:?}",
            p.checks
        );
        self.press(KeyCode::Enter);
    }
}

/// An observer's key, as its console's loop hands it over.
fn observer_keys(ui: &mut Ui, w: &Watch, keys: &str) {
    for c in keys.chars() {
        let code = if c == '\n' {
            KeyCode::Enter
        } else {
            KeyCode::Char(c)
        };
        warroom::ui::watch::handle_key(ui, w, KeyEvent::new(code, KeyModifiers::NONE));
    }
}

/// The flip's gate passes on the lead's state (its sources have answered).
fn flip_allowed(l: &Lead, _: Option<&Watch>) -> bool {
    let to = serde_json::Value::Bool(!fallback(&l.s.st).unwrap_or(true));
    let a = warroom::engine::Action::FlipFlag {
        flag: FLAG.into(),
        to,
    };
    warroom::engine::propose(&l.s.ahead, &l.s.rb, a)
        .checks
        .iter()
        .all(|c| c.pass)
        && fallback(&l.s.st).is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_comments_and_acknowledges_an_alert_on_the_leads_screen_and_in_the_export() {
    let Some((_dir, _cluster, url, loaded)) = cluster() else {
        return;
    };
    // A lead with no source to read (its alerts stay as the engine wrote them).
    let at = pg_at(&url, "notes");
    let how = warroom::session::Start::real(&loaded, &at, "alice", "run");
    let s = Session::start(how, |_, jobs, reports| {
        let held = tokio::spawn(async move {
            let _held = (jobs, reports);
            std::future::pending::<()>().await
        });
        (
            warroom::clock::Clock::new(chrono::Utc::now(), 1.0),
            vec![held],
        )
    })
    .await
    .expect("lead");
    let mut lead = Lead {
        s,
        ui: Ui::new(Mode::Live),
    };
    assert!(pump(&mut lead, None, 30, |l, _| l.s.st.lead.is_some()).await);
    let l = loaded.clone();
    let mut w = Watch::open(&url, Some("notes"), "bob", move |_| Ok(l))
        .await
        .expect("watch opens");
    // An alert fires on the lead's console (as the engine writes it when a metric holds
    // beyond its threshold).
    let metric = loaded.runbook.metrics[0].id.value.clone();
    lead.s.write(vec![warroom::engine::Event::AlertFired {
        metric: metric.clone(),
        level: warroom::engine::Level::Critical,
        value: Some(9.0),
        threshold: 1.0,
    }]);
    assert!(
        pump(&mut lead, Some(&mut w), 30, |_, w| w
            .expect("w")
            .st
            .unacknowledged_alerts()
            .count()
            == 1)
        .await
    );
    // Bob, watching, acknowledges it (X) and comments (C, words, Enter): his console writes
    // both, with his name; alice's console shows them.
    let mut ui = warroom::ui::watch::ui(&w);
    assert!(
        !warroom::ui::keymap::help_keys(Mode::Live, true, true)
            .iter()
            .any(|(k, _)| k == "a"),
        "no action key in an observer's help"
    );
    observer_keys(&mut ui, &w, "X");
    assert!(
        ui.message
            .as_deref()
            .is_some_and(|m| !m.contains("refused")),
        "{:?}",
        ui.message
    );
    observer_keys(&mut ui, &w, "C");
    assert!(ui.dialog.is_some(), "C opens the remark's prompt");
    observer_keys(&mut ui, &w, "db replica lag looks fine from here\x1b[2J\n");
    assert!(ui.dialog.is_none(), "{:?}", ui.dialog);
    let seen = pump(&mut lead, Some(&mut w), 30, |l, _| {
        l.s.st
            .alerts
            .iter()
            .any(|a| a.acknowledged_by.as_deref() == Some("bob"))
            && l.s
                .log
                .iter()
                .any(|x| x.contains("bob says: db replica lag"))
    })
    .await;
    assert!(
        seen,
        "the lead did not see bob's ack and remark: {:?}",
        lead.s.log
    );
    let line = lead
        .s
        .log
        .iter()
        .find(|x| x.contains("bob says"))
        .cloned()
        .unwrap_or_default();
    assert!(!line.contains('\x1b'), "a remark is cleaned: {line:?}");
    // The lead keeps writing after bob's records: one chain, verified.
    let before = lead.ticked();
    lead.press(KeyCode::Char(' '));
    assert!(pump(&mut lead, Some(&mut w), 30, |l, _| l.ticked() == before + 1).await);
    // An observer still cannot act: the engine refuses bob's tick.
    bobs_tick_refused(&w);
    lead.s.close().await;
    let (code, md, e) = export(&url, "notes", "markdown");
    assert_eq!(code, 0, "{e}");
    assert!(md.contains("bob says: db replica lag looks fine"), "{md}");
    assert!(md.contains("acknowledged by bob"), "{md}");
    let (code, out, _) = warroom(&["audit", "verify", &url, "--rollout", "notes"]);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_person_flip_waits_for_a_second_operator_who_approves_or_rejects_it() {
    let Some((dir, _cluster, url, _)) = cluster() else {
        return;
    };
    let loaded = with_two_person_flag(dir.path());
    let mut lead = takes_the_lead(&loaded, &url, "pair", "alice").await;
    assert!(
        pump(&mut lead, None, 30, flip_allowed).await,
        "the flip's gate never passed"
    );
    let was = fallback(&lead.s.st);
    lead.flip_marked_flag();
    assert!(
        pump(&mut lead, None, 30, |l, _| l
            .s
            .st
            .awaiting_approval()
            .is_some())
        .await,
        "{:?}",
        lead.ui.message
    );
    let next = warroom::engine::next_move(&lead.s.st, &lead.s.rb);
    assert!(
        next.text.contains("awaiting approval by another operator"),
        "{next:?}"
    );
    assert_eq!(
        warroom::engine::action_status(&lead.s.st).map(|a| a.stage),
        Some(warroom::engine::ActionStage::AwaitingApproval),
        "the status bar says it waits"
    );
    // The requester cannot approve her own request: the engine says so on her screen.
    lead.press(KeyCode::Char('A'));
    let m = lead.ui.message.clone().unwrap_or_default();
    assert!(m.contains("another operator approves"), "{m}");
    assert!(lead.ui.dialog.is_none());
    let a = lead.s.st.awaiting_approval().cloned().expect("awaiting");
    let own = warroom::engine::Event::ApprovalGiven {
        id: a.id,
        operator: "alice".into(),
        checks: Vec::new(),
    };
    assert!(lead.s.command(vec![own]).is_err());
    // Nothing ran meanwhile.
    for _ in 0..5 {
        pump(&mut lead, None, 1, |_, _| false).await;
    }
    assert_eq!(fallback(&lead.s.st), was, "the flag moved before approval");
    assert!(lead.s.st.awaiting_approval().is_some());

    // Bob approves from his console with the typed phrase: the lead's console carries it out.
    let l = loaded.clone();
    let mut w = Watch::open(&url, Some("pair"), "bob", move |_| Ok(l))
        .await
        .expect("watch opens");
    let mut ui = warroom::ui::watch::ui(&w);
    let (yes, no) = warroom::engine::approval_phrases(&a.action);
    observer_keys(&mut ui, &w, "A");
    assert!(ui.dialog.is_some(), "{:?}", ui.message);
    observer_keys(&mut ui, &w, "approve it\n");
    assert!(ui.dialog.is_some(), "a wrong phrase approves nothing");
    for _ in 0.."approve it".len() {
        warroom::ui::watch::handle_key(
            &mut ui,
            &w,
            KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
        );
    }
    observer_keys(&mut ui, &w, &format!("{yes}\n"));
    assert!(ui.dialog.is_none(), "{:?}", ui.dialog);
    let done = pump(&mut lead, Some(&mut w), 30, |l, _| {
        l.s.st
            .actions
            .iter()
            .any(|x| x.id == a.id && x.outcome != warroom::engine::Outcome::Running)
    })
    .await;
    assert!(done, "the approved flip did not run: {:?}", lead.s.log);
    let x = lead
        .s
        .st
        .actions
        .iter()
        .find(|x| x.id == a.id)
        .cloned()
        .expect("action");
    assert!(
        matches!(x.outcome, warroom::engine::Outcome::Succeeded(_)),
        "{:?}",
        x.outcome
    );
    match &x.approval {
        Some(warroom::engine::ApprovalState::Approved {
            operator, checks, ..
        }) => {
            assert_eq!(operator, "bob");
            assert!(
                !checks.is_empty(),
                "the approver's view of the checks is recorded"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        pump(&mut lead, Some(&mut w), 30, |l, _| fallback(&l.s.st) != was).await,
        "the flag did not move"
    );

    // Flipped back, bob rejects it: the action is not taken.
    let now = fallback(&lead.s.st);
    assert!(pump(&mut lead, Some(&mut w), 30, flip_allowed).await);
    lead.flip_marked_flag();
    assert!(
        pump(&mut lead, Some(&mut w), 30, |_, w| w
            .expect("w")
            .st
            .awaiting_approval()
            .is_some())
        .await
    );
    let id = w.st.awaiting_approval().map(|a| a.id).expect("awaiting");
    observer_keys(&mut ui, &w, &format!("A{no}\n"));
    let rejected = pump(&mut lead, Some(&mut w), 30, |l, _| {
        l.s.st
            .actions
            .iter()
            .any(|x| x.id == id && matches!(x.outcome, warroom::engine::Outcome::Cancelled(_)))
    })
    .await;
    assert!(rejected, "{:?}", lead.s.log);
    for _ in 0..5 {
        pump(&mut lead, Some(&mut w), 1, |_, _| false).await;
    }
    assert_eq!(fallback(&lead.s.st), now, "a rejected flip moved the flag");
    assert!(lead.s.log.iter().any(|l| l.contains("rejected by bob")));

    // A rollback whose procedure is not marked never waits, in the same runbook.
    lead.press(KeyCode::Char('r'));
    lead.press(KeyCode::Enter);
    if let Some(p) = lead.ui.proposal(&lead.s.ahead, &lead.s.rb)
        && let Some(phrase) = p.phrase.clone()
    {
        lead.typing(&phrase);
    }
    lead.press(KeyCode::Enter);
    let rolled = pump(&mut lead, Some(&mut w), 60, |l, _| {
        l.s.st.actions.iter().any(|x| {
            matches!(x.action, warroom::engine::Action::Rollback { .. })
                && x.approval.is_none()
                && matches!(x.outcome, warroom::engine::Outcome::Succeeded(_))
        })
    })
    .await;
    assert!(rolled, "{:?} {:?}", lead.ui.message, lead.s.log);
    lead.s.close().await;
    let (code, md, e) = export(&url, "pair", "markdown");
    assert_eq!(code, 0, "{e}");
    for want in ["awaiting approval", "approved by bob", "rejected by bob"] {
        assert!(md.contains(want), "{want}: {md}");
    }
    let (code, out, _) = warroom(&["audit", "verify", &url, "--rollout", "pair"]);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_person_action_on_a_console_alone_says_it_needs_a_second_operator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loaded = with_two_person_flag(dir.path());
    let at = Location::File(dir.path().join("alone.audit"));
    let mut lead = Lead::open(&loaded, at, "alice").await.expect("opens");
    assert!(pump(&mut lead, None, 30, |l, _| fallback(&l.s.st).is_some()).await);
    let was = fallback(&lead.s.st);
    let p = lead.open_marked_flip();
    let c = p
        .checks
        .iter()
        .find(|c| c.name == "a second operator approves")
        .expect("the two-person check");
    assert!(!c.pass && !c.overridable, "{c:?}");
    assert!(c.evidence.contains("team mode"), "{}", c.evidence);
    // Enter records the blocked attempt; Ctrl-o cannot pass it.
    lead.press(KeyCode::Enter);
    assert!(
        pump(&mut lead, None, 30, |l, _| !l
            .s
            .st
            .blocked_attempts
            .is_empty())
        .await
    );
    assert_eq!(fallback(&lead.s.st), was);
    assert!(lead.s.st.actions.is_empty(), "nothing ran");
    // A is team mode's, and not in a console alone's help.
    lead.press(KeyCode::Char('A'));
    let m = lead.ui.message.clone().unwrap_or_default();
    assert!(m.contains("team mode"), "{m}");
    for k in ["A", "H", "L"] {
        assert!(
            !warroom::ui::keymap::help_keys(Mode::Live, false, false)
                .iter()
                .any(|(l, _)| l == k),
            "{k} in a console alone's help"
        );
        assert!(
            !warroom::ui::keymap::palette(Mode::Live, "", false)
                .iter()
                .any(|b| b.label == k),
            "{k} in a console alone's palette"
        );
    }
    lead.s.close().await;
}

/// The seed plan with `approval: two-person` on its go/no-go (a GO waits for a second
/// operator; a NO-GO never does).
fn with_two_person_go(dir: &Path) -> Loaded {
    marked_seed(
        dir,
        "go_no_go:\n  by: product\n",
        "go_no_go:\n  by: product\n  approval: two-person\n",
        "two-person-go.yaml",
    )
}

fn go() -> warroom::engine::Action {
    warroom::engine::Action::GoNoGo { go: true }
}

impl Lead {
    /// Tick the checklist shown with Space until a GO's own checks pass (the two-person
    /// check aside), then sign GO: g, Enter on GO, type `go`, Enter.
    async fn sign_go(&mut self) {
        let ready = |l: &Lead, _: Option<&Watch>| {
            warroom::engine::propose(&l.s.ahead, &l.s.rb, go())
                .checks
                .iter()
                .all(|c| c.pass)
        };
        for _ in 0..40 {
            if ready(self, None) {
                break;
            }
            let before = self.ticked();
            self.press(KeyCode::Char(' '));
            assert!(
                pump(self, None, 30, |l, _| l.ticked() != before).await,
                "a tick was not committed"
            );
        }
        assert!(
            pump(self, None, 30, ready).await,
            "{:?}",
            warroom::engine::propose(&self.s.ahead, &self.s.rb, go()).checks
        );
        self.press(KeyCode::Char('g'));
        self.press(KeyCode::Enter);
        self.typing("go");
        self.press(KeyCode::Enter);
        assert!(self.ui.dialog.is_none(), "{:?}", self.ui.message);
    }
}

/// A watcher's screen at 120×40, as text, one line per row.
fn frame(w: &Watch, ui: &Ui) -> String {
    let term = common::draw(&w.rb, &w.st, &[], ui, "default", 120, 40);
    common::screen::rows(term.backend().buffer()).join("\n")
}

/// Alice leads `rollout` and signs GO, which waits for another operator.
async fn go_awaiting(loaded: &Loaded, url: &str, rollout: &str) -> Lead {
    let mut alice = takes_the_lead(loaded, url, rollout, "alice").await;
    alice.sign_go().await;
    assert!(
        pump(&mut alice, None, 30, |l, _| l
            .s
            .st
            .awaiting_approval()
            .is_some())
        .await,
        "{:?} {:?}",
        alice.ui.message,
        alice.s.log
    );
    alice
}

/// Handle a watcher's wake-ups until `cond` holds; false after `secs` (a guard against a
/// hang, not a speed claim).
async fn watch_until(w: &mut Watch, secs: u64, mut cond: impl FnMut(&Watch) -> bool) -> bool {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond(w) {
        if tokio::time::Instant::now() >= end {
            return false;
        }
        let _ = tokio::time::timeout(Duration::from_millis(100), w.next()).await;
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_person_go_approved_while_no_lead_runs_expires_and_one_approved_live_is_carried_out()
{
    let Some((dir, _cluster, url, _)) = cluster() else {
        return;
    };
    let loaded = with_two_person_go(dir.path());
    let rollout = "gate";
    // Alice signs GO: it waits for another operator, and nothing is signed meanwhile.
    let alice = go_awaiting(&loaded, &url, rollout).await;
    assert!(alice.s.st.decision.is_none(), "GO signed before approval");
    let id = alice.s.st.awaiting_approval().map(|a| a.id).expect("id");
    // Her console dies; bob approves from his (nobody leads to carry it out).
    drop(alice);
    let mut w = Watch::open(&url, Some(rollout), "bob", {
        let l = loaded.clone();
        move |_| Ok(l)
    })
    .await
    .expect("watch opens");
    let mut ui = warroom::ui::watch::ui(&w);
    assert!(watch_until(&mut w, 30, |w| w.st.awaiting_approval().is_some()).await);
    // Bob's screen says the move is his: `A` on the Next line.
    let screen = frame(&w, &ui);
    let next = screen.lines().last().unwrap_or_default().to_string();
    assert!(
        next.contains("LEAD NEXT") && next.contains("awaiting approval") && next.contains("(A)"),
        "{next}"
    );
    // A shows the gate's checks as his console sees them, each name apart from its evidence.
    observer_keys(&mut ui, &w, "A");
    let screen = frame(&w, &ui);
    assert!(
        screen.contains("  16/16 ticked") && !screen.contains("complet16/16"),
        "the check's name runs into its evidence:\n{screen}"
    );
    observer_keys(&mut ui, &w, "approve go\n");
    assert!(ui.dialog.is_none(), "{:?} {:?}", ui.dialog, ui.message);
    assert!(
        watch_until(&mut w, 30, |w| w.st.awaiting_approval().is_none()).await,
        "the approval was not recorded"
    );
    // Carol takes the lead: the approval nobody carried out expires, said and recorded; no
    // GO is signed under her.
    let mut carol = takes_the_lead(&loaded, &url, rollout, "carol").await;
    assert!(
        pump(&mut carol, None, 30, |l, _| l.s.st.running().is_none()).await,
        "{:?}",
        carol.s.log
    );
    let a = carol.s.st.actions.iter().find(|a| a.id == id).expect("#id");
    assert!(
        matches!(&a.outcome, warroom::engine::Outcome::Cancelled(r) if r.contains("approval expired") && r.contains("approved by bob")),
        "{:?}",
        a.outcome
    );
    assert!(
        carol.s.st.decision.is_none(),
        "an expired approval signed GO"
    );
    assert!(
        carol.s.log.iter().any(|l| l.contains("approval expired")),
        "{:?}",
        carol.s.log
    );
    // Carol asks again while her console runs: bob's approval is carried out by it at once.
    carol.sign_go().await;
    assert!(watch_until(&mut w, 30, |w| w.st.awaiting_approval().is_some()).await);
    observer_keys(&mut ui, &w, "Aapprove go\n");
    assert!(ui.dialog.is_none(), "{:?}", ui.message);
    let signed = pump(&mut carol, Some(&mut w), 30, |l, _| {
        l.s.st.decision.as_ref().is_some_and(|d| d.is_go())
    })
    .await;
    assert!(signed, "{:?}", carol.s.log);
    assert_eq!(
        carol.s.st.decision.as_ref().map(|d| d.operator.as_str()),
        Some("carol")
    );
    carol.s.close().await;
    let (code, md, e) = export(&url, rollout, "markdown");
    assert_eq!(code, 0, "{e}");
    for want in [
        "approval expired",
        "carried out by carol",
        "alice",
        "bob",
        "carol",
    ] {
        assert!(md.contains(want), "{want}: {md}");
    }
    let (code, out, _) = warroom(&["audit", "verify", &url, "--rollout", rollout]);
    assert_eq!(code, 0, "{out}");
    // `warroom status` reads the rollout from the shared store: who leads, what is signed.
    let (code, json, e) = warroom(&[
        "status",
        "--runbook",
        &loaded.path.display().to_string(),
        "--store",
        &url,
        "--rollout",
        rollout,
        "--format",
        "json",
    ]);
    assert!(code == 0 || code == 1, "{code}: {e}");
    let v: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(v["lead"]["operator"], "carol", "{v}");
    assert_eq!(v["lead"]["ended"], true, "{v}");
    assert!(v.get("awaiting_approval").is_none(), "{v}");
    let (_, text, _) = warroom(&[
        "status",
        "--runbook",
        &loaded.path.display().to_string(),
        "--store",
        &url,
        "--rollout",
        rollout,
    ]);
    assert!(text.contains("lead: carol"), "{text}");
    // --rollout without a store is refused, naming the fix.
    let (code, _, e) = warroom(&[
        "status",
        "--runbook",
        &loaded.path.display().to_string(),
        "--rollout",
        rollout,
    ]);
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("--store postgres://"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_an_action_awaiting_approval_and_a_rollout_that_does_not_verify_is_continued_only_when_asked()
 {
    let Some((dir, _cluster, url, _)) = cluster() else {
        return;
    };
    let loaded = with_two_person_go(dir.path());
    let rollout = "knowingly";
    let alice = go_awaiting(&loaded, &url, rollout).await;
    let path = loaded.path.display().to_string();
    let (_, json, e) = warroom(&[
        "status",
        "--runbook",
        &path,
        "--store",
        &url,
        "--rollout",
        rollout,
        "--format",
        "json",
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|x| panic!("{x}: {json} {e}"));
    assert_eq!(v["awaiting_approval"]["action"], "sign GO", "{v}");
    assert_eq!(v["awaiting_approval"]["requested_by"], "alice", "{v}");
    assert_eq!(v["lead"]["operator"], "alice", "{v}");
    assert_eq!(v["lead"]["ended"], false, "{v}");
    alice.s.close().await;
    // A record changed behind the triggers' back: the rollout no longer verifies.
    sql(
        &url,
        "SET session_replication_role = replica;
         UPDATE warroom.audit SET operator = 'mallory' WHERE rollout = 'knowingly' AND seq = 3",
    )
    .await
    .expect("the superuser bypasses the triggers");
    let refused = Lead::open(&loaded, pg_at(&url, rollout), "alice").await;
    let Err(e) = refused else {
        panic!("a rollout that does not verify was continued")
    };
    assert!(
        e.contains("does not verify") && e.contains("--continue-unverified"),
        "{e}"
    );
    // Continued knowingly (what `--continue-unverified` does for a PostgreSQL store): the
    // session record says what verify found.
    warroom::audit::continue_rollout_unverified(&url, rollout);
    let again = takes_the_lead(&loaded, &url, rollout, "alice").await;
    again.s.close().await;
    let (code, jsonl, e) = export(&url, rollout, "jsonl");
    assert_eq!(code, 0, "{e}");
    let noted = jsonl
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "session_started")
        .filter_map(|v| {
            v["payload"]["continued_unverified"]
                .as_str()
                .map(String::from)
        })
        .collect::<Vec<_>>();
    assert_eq!(noted.len(), 1, "{jsonl}");
    assert!(noted[0].contains("at seq 3"), "{noted:?}");
}
