//! On a real PostgreSQL (a throwaway cluster from tests/support), through `warroom run`'s
//! session, its real executor and the console's keys: a one-shot SQL check (`once: true`) is
//! not polled while its phase runs, is run read-only when the operator asks to complete the
//! phase, and its answer is the gate check's evidence; a `wait_until` step on a polled SQL
//! check ends when a reading meets it, and the executor then runs the steps after it. Skips
//! loudly without PostgreSQL, fails under `WARROOM_REQUIRE_REAL=1`.

mod common;
mod support;

use common::console::Console;
use ratatui::crossterm::event::KeyCode;
use std::collections::BTreeMap;
use std::path::Path;
use support::pg::{PASSWORD, fresh};
use warroom::engine::{Check, PhaseStatus, Verdict};
use warroom::real::Endpoints;
use warroom::runbook::CheckKey;

fn plan(dir: &Path) -> warroom::runbook::Loaded {
    let text = r#"
name: Orphan check
teams:
  - { id: ops, name: Ops }
pools:
  blue: { servers: ["${ONCE_NO_SERVERS:-}"] }
  green: { servers: ["${ONCE_NO_SERVERS:-}"] }
flags:
  - { id: pct, kind: percent, initial: 0 }
rollout:
  flag: pct
  pool: green
  phase: canary
  steps:
    - { percent: 100, bake: 0s }
phases:
  - { id: backfill, name: Backfill, day: 1, duration: 1h, owner: ops }
  - { id: canary, name: Canary, day: 1, duration: 1h, owner: ops }
metrics:
  - id: orphans
    name: Orphaned rows
    group: database
    sql: SELECT count(*) FROM attributes WHERE product_id IS NULL
    once: true
    phase: backfill
    below: 1
monitoring: { interval: 1s }
targets:
  database: "${ONCE_DB}"
"#;
    let p = dir.join("plan.yaml");
    std::fs::write(&p, text).expect("write plan");
    warroom::runbook::load(&p).unwrap_or_else(|e| panic!("the plan must load: {e}"))
}

async fn exec(url: &str, sql: &str) {
    use sqlx::Connection;
    let mut c = sqlx::postgres::PgConnection::connect(url)
        .await
        .expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut c)
        .await
        .expect(sql);
}

fn sql_check(c: &Console) -> Option<Check> {
    let p = c.ui.proposal(&c.s.st, &c.s.rb)?;
    p.checks
        .into_iter()
        .find(|x| x.key == Some(CheckKey::SqlCheck))
}

/// Press `a` and wait until the dialog's SQL check has an answer (to this ask: the ask is
/// committed first).
async fn ask(c: &mut Console) -> Check {
    c.press(KeyCode::Char('a'));
    c.settle().await;
    assert!(
        c.until(30, |s, ui| ui
            .proposal(&s.st, &s.rb)
            .and_then(|p| p
                .checks
                .into_iter()
                .find(|x| x.key == Some(CheckKey::SqlCheck)))
            .is_some_and(|x| !x.evidence.starts_with("not answered")))
            .await,
        "the check answers"
    );
    sql_check(c).expect("the SQL check")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_shot_sql_check_runs_on_postgres_when_its_phase_completes() {
    let Some((_pgdir, cluster)) = fresh() else {
        return;
    };
    let url = cluster.url();
    exec(&url, "CREATE TABLE attributes (id int, product_id int)").await;
    exec(
        &url,
        "INSERT INTO attributes VALUES (1, 10), (2, NULL), (3, NULL)",
    )
    .await;
    let dir = tempfile::tempdir().expect("tmp");
    let loaded = plan(dir.path());
    let env = BTreeMap::from([("ONCE_DB".to_string(), url.clone())]);
    let ep = Endpoints::resolve(&loaded.runbook, &|k| env.get(k).cloned());
    let mut c = Console::real(&loaded, &dir.path().join("a.audit"), ep).await;

    // Start the phase; while it runs the database is read (the migration state) but the
    // one-shot check is not.
    c.press(KeyCode::Char('a'));
    assert!(c.confirm().await);
    assert_eq!(c.s.st.phases[0].status, PhaseStatus::Active);
    let n = c.s.st.events;
    assert!(
        c.until(30, |s, _| s.st.migration.is_some() && s.st.events > n + 3)
            .await
    );
    assert!(c.s.st.metrics["orphans"].last_at.is_none(), "not polled");

    // Completing it runs the query: two orphans, blocked, the answer as evidence.
    let x = ask(&mut c).await;
    assert!(!x.pass, "{x:?}");
    assert!(
        x.evidence.starts_with("answered 2 at ") && x.evidence.ends_with(": not met"),
        "{x:?}"
    );
    assert_eq!(x.name, "Orphaned rows < 1 (SQL, once)");
    assert_eq!(c.verdict(), Some(Verdict::Blocked));
    c.press(KeyCode::Esc);

    // Fixed: asked again with the next completion, it passes and the phase completes.
    exec(&url, "UPDATE attributes SET product_id = 10").await;
    let x = ask(&mut c).await;
    assert!(x.pass && x.evidence.starts_with("answered 0 at "), "{x:?}");
    assert!(c.confirm().await);
    assert!(c.idle(30).await);
    assert_eq!(c.s.st.phases[0].status, PhaseStatus::Done);
    // The password never reaches the log.
    let all = c.s.log.join("\n");
    assert!(!all.contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_database_the_one_shot_check_says_so_and_blocks() {
    let dir = tempfile::tempdir().expect("tmp");
    let loaded = plan(dir.path());
    let ep = Endpoints::resolve(&loaded.runbook, &|_| None);
    let mut c = Console::real(&loaded, &dir.path().join("b.audit"), ep).await;
    c.press(KeyCode::Char('a'));
    assert!(c.confirm().await);
    let x = ask(&mut c).await;
    assert!(
        !x.pass
            && x.evidence
                .starts_with("no answer: postgres: not configured"),
        "{x:?}"
    );
}

/// A plan whose phase runs a command, waits until a polled SQL check sees a row, then runs
/// another command (`{d}` is where the commands write).
fn wait_plan(dir: &Path) -> warroom::runbook::Loaded {
    let d = dir.display();
    let text = format!(
        r#"
name: Wait for a row
teams:
  - {{ id: ops, name: Ops }}
pools:
  blue: {{ servers: ["${{ONCE_NO_SERVERS:-}}"] }}
  green: {{ servers: ["${{ONCE_NO_SERVERS:-}}"] }}
flags:
  - {{ id: pct, kind: percent, initial: 0 }}
rollout:
  flag: pct
  pool: green
  phase: canary
  steps:
    - {{ percent: 100, bake: 0s }}
phases:
  - id: backfill
    name: Backfill
    day: 1
    duration: 1h
    owner: ops
    on_start:
      - name: Before
        run: {{ argv: ["sh", "-c", "echo before > {d}/before"] }}
      - name: A row arrives
        wait_until: {{ metric: rows, above: 0, timeout: 2m }}
      - name: After
        run: {{ argv: ["sh", "-c", "echo after > {d}/after"] }}
  - {{ id: canary, name: Canary, day: 1, duration: 1h, owner: ops }}
metrics:
  - {{ id: rows, name: Rows, group: database, sql: "SELECT count(*) FROM arrivals" }}
monitoring: {{ interval: 1s }}
targets:
  database: "${{ONCE_DB}}"
"#
    );
    let p = dir.join("plan.yaml");
    std::fs::write(&p, text).expect("write plan");
    warroom::runbook::load(&p).unwrap_or_else(|e| panic!("the plan must load: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_until_step_on_the_real_executor_waits_for_the_readings_then_runs_the_rest() {
    let Some((_pgdir, cluster)) = fresh() else {
        return;
    };
    let url = cluster.url();
    exec(&url, "CREATE TABLE arrivals (id int)").await;
    let dir = tempfile::tempdir().expect("tmp");
    let loaded = wait_plan(dir.path());
    let env = BTreeMap::from([("ONCE_DB".to_string(), url.clone())]);
    let ep = Endpoints::resolve(&loaded.runbook, &|k| env.get(k).cloned());
    let mut c = Console::real(&loaded, &dir.path().join("w.audit"), ep).await;
    c.press(KeyCode::Char('a'));
    assert!(c.confirm().await);
    // The first command ran; the executor stopped at the wait, and the engine waits.
    assert!(
        c.until(30, |s, _| warroom::engine::waiting(&s.st, &s.rb).is_some())
            .await
    );
    assert!(dir.path().join("before").exists());
    assert!(!dir.path().join("after").exists());
    let n = c.s.st.events;
    assert!(
        c.until(30, |s, _| s.st.events > n + 3).await,
        "readings go on"
    );
    assert!(warroom::engine::waiting(&c.s.st, &c.s.rb).is_some());
    // A row arrives: the next reading ends the wait, and the executor runs the rest.
    exec(&url, "INSERT INTO arrivals VALUES (1)").await;
    assert!(c.idle(30).await);
    let a = c.s.st.actions.last().expect("the phase start");
    assert_eq!(
        a.outcome,
        warroom::engine::Outcome::Succeeded("3 step(s) done".into())
    );
    assert!(
        a.steps_done[1].2.starts_with("Rows > 0: held 0s"),
        "{:?}",
        a.steps_done
    );
    assert!(dir.path().join("after").exists());
}
