//! The PostgreSQL adapter against a throwaway cluster (initdb in a temp dir, on a free
//! loopback port, run as the `postgres` user when the tests run as root), with a streaming
//! replica for replication lag; and, always, against a server that is down, silent or speaks
//! garbage. The connection URL's password never appears in what the adapter says.

mod support;

use std::time::{Duration, Instant};
use support::pg::*;
use support::*;
use tokio::io::AsyncWriteExt;
use warroom::engine::MigrationObs;
use warroom::real::Source;
use warroom::real::postgres::Postgres;

/// A metric id the tests give the lag reading (any id: `from` says what a metric reads).
const LAG_METRIC: &str = "replica_behind";
use warroom::real::shell;
use warroom::runbook::RunStep;

async fn exec(url: &str, sql: &'static str) {
    let mut c = sqlx::postgres::PgConnection::connect_with_url(url).await;
    sqlx::query(sql).execute(&mut c).await.expect(sql);
}

trait ConnectUrl {
    async fn connect_with_url(url: &str) -> Self;
}
impl ConnectUrl for sqlx::postgres::PgConnection {
    async fn connect_with_url(url: &str) -> Self {
        use sqlx::Connection;
        sqlx::postgres::PgConnection::connect(url)
            .await
            .expect("connect")
    }
}

fn no_password(s: &str) {
    assert!(!s.contains(PASSWORD), "the password leaked: {s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_locks_and_replication_lag_on_a_real_cluster() {
    let Some(bins) = require(
        "the PostgreSQL server binaries (apt-get install postgresql)",
        Bins::find(),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("primary");
    std::fs::create_dir(&data).expect("mkdir");
    chown_postgres(dir.path());
    initdb(&bins, &data);
    let primary = start(&bins, &data, dir.path());
    let url = primary.url();
    let pg = Postgres::new(&url, Duration::from_secs(3), vec![LAG_METRIC.into()]).expect("pool");

    // A fresh database: no migration ever ran; a primary without replicas has no lag reading.
    assert_eq!(pg.schema_version().await, Ok((None, false)));
    let o = Source::read(&pg).await;
    assert_eq!(
        o.migration,
        Some(MigrationObs {
            version: None,
            dirty: false,
            in_progress: false
        })
    );
    assert_eq!(o.metrics.get(LAG_METRIC), Some(&None));
    assert_eq!(o.errors.len(), 1, "{:?}", o.errors);
    assert_eq!(o.errors[0].source.to_string(), "postgres:replication");
    assert!(o.errors[0].message.contains("no replica connected"));

    // A runbook's SQL check ("no data loss"): legacy and unified row counts, in a read-only
    // transaction. Equal counts read 0; a missing row reads 1; a check that writes is refused.
    exec(&url, "CREATE TABLE legacy_attributes (id int)").await;
    exec(&url, "CREATE TABLE unified_attributes (id int)").await;
    exec(
        &url,
        "INSERT INTO legacy_attributes SELECT generate_series(1, 5)",
    )
    .await;
    exec(
        &url,
        "INSERT INTO unified_attributes SELECT generate_series(1, 5)",
    )
    .await;
    let diff = "SELECT abs((SELECT count(*) FROM legacy_attributes) - (SELECT count(*) FROM unified_attributes))";
    // A write hidden in a function call: only the read-only transaction stops it.
    exec(&url, "CREATE SEQUENCE attr_seq").await;
    let writes = "SELECT nextval('attr_seq')";
    let pgc = Postgres::new(&url, Duration::from_secs(3), vec![])
        .expect("pool")
        .with_checks(vec![
            ("rows_missing".into(), diff.into()),
            ("sneaky".into(), writes.into()),
        ]);
    let o = Source::read(&pgc).await;
    assert_eq!(o.metrics.get("rows_missing"), Some(&Some(0.0)));
    assert_eq!(o.metrics.get("sneaky"), Some(&None));
    let refused = o
        .errors
        .iter()
        .find(|e| e.source.to_string() == "postgres:check:sneaky")
        .expect("the writing check fails");
    assert!(refused.message.contains("read-only"), "{}", refused.message);
    exec(&url, "DELETE FROM unified_attributes WHERE id = 3").await;
    let o = Source::read(&pgc).await;
    assert_eq!(o.metrics.get("rows_missing"), Some(&Some(1.0)));
    assert_eq!(
        pgc.check("SELECT is_called::int FROM attr_seq").await,
        Ok(0.0),
        "the sequence never moved"
    );
    let cte = pgc
        .check("WITH d AS (DELETE FROM legacy_attributes RETURNING 1) SELECT count(*) FROM d")
        .await;
    assert!(cte.is_err(), "{cte:?}");
    assert_eq!(
        pgc.check("SELECT count(*) FROM legacy_attributes").await,
        Ok(5.0),
        "no check deleted anything"
    );
    assert!(pgc.check("SELECT NULL::int").await.is_err());

    // golang-migrate's table: empty, then at 35, then dirty.
    exec(
        &url,
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)",
    )
    .await;
    assert_eq!(pg.schema_version().await, Ok((None, false)));
    exec(&url, "INSERT INTO schema_migrations VALUES (35, false)").await;
    assert_eq!(pg.schema_version().await, Ok((Some(35), false)));

    // A migration in progress holds an advisory lock in another session.
    {
        use sqlx::Connection;
        let mut holder = sqlx::postgres::PgConnection::connect(&url)
            .await
            .expect("connect");
        sqlx::query("SELECT pg_advisory_lock(4242)")
            .execute(&mut holder)
            .await
            .expect("lock");
        assert_eq!(pg.migration_in_progress().await, Ok(true));
        sqlx::query("SELECT pg_advisory_unlock(4242)")
            .execute(&mut holder)
            .await
            .expect("unlock");
        assert_eq!(pg.migration_in_progress().await, Ok(false));
    }

    // A run step's expected version is checked against the database afterwards.
    let step = |argv: Vec<&str>, want: i64| RunStep {
        argv: argv.into_iter().map(String::from).collect(),
        env: Default::default(),
        timeout: Duration::from_secs(20),
        expect_migration_version: Some(want),
    };
    let lookup = |k: &str| (k == "TEST_DATABASE_URL").then(|| url.clone());
    let psql = bins.bin("psql").display().to_string();
    let migrate = step(
        vec![
            &psql,
            "${TEST_DATABASE_URL}",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "UPDATE schema_migrations SET version = 36",
        ],
        36,
    );
    let out = shell::run(&migrate, &lookup, Some(&pg))
        .await
        .expect("migrated");
    assert!(
        out.contains("exit 0") && out.contains("schema version 36, as expected"),
        "{out}"
    );
    assert!(out.contains("UPDATE 1"), "{out}");
    let wrong = step(vec!["true"], 37);
    let e = shell::run(&wrong, &lookup, Some(&pg))
        .await
        .expect_err("wrong version");
    assert!(
        e.contains("the schema is at version 36, expected 37"),
        "{e}"
    );
    exec(&url, "UPDATE schema_migrations SET dirty = true").await;
    let e = shell::run(&step(vec!["true"], 36), &lookup, Some(&pg))
        .await
        .expect_err("dirty");
    assert!(e.contains("version 36 (dirty)"), "{e}");
    // A failing command's output tail (psql's error) is in the step, the password is not.
    let bad = step(
        vec![&psql, "${TEST_DATABASE_URL}", "-c", "SELECT * FROM nope"],
        36,
    );
    let e = shell::run(&bad, &lookup, Some(&pg))
        .await
        .expect_err("bad SQL");
    assert!(e.starts_with("exit 1"), "{e}");
    assert!(e.contains("relation \"nope\" does not exist"), "{e}");
    no_password(&e);

    // A streaming replica: lag from both ends.
    let rdata = dir.path().join("replica");
    let r = rdata.display().to_string();
    let port = primary.port.to_string();
    run_ok(
        pg_cmd(
            &bins.bin("pg_basebackup"),
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &r,
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        ),
        "pg_basebackup",
    );
    let replica = start(&bins, &rdata, dir.path());
    let until = Instant::now() + Duration::from_secs(30);
    let lag = loop {
        match pg.replication_lag().await {
            Ok(l) => break l,
            Err(e) => {
                assert!(Instant::now() < until, "the replica never connected: {e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    };
    assert!((0.0..5.0).contains(&lag), "primary-side lag {lag}");
    let rpg = Postgres::new(
        &replica.url(),
        Duration::from_secs(3),
        vec![LAG_METRIC.into()],
    )
    .expect("replica pool");
    exec(&url, "CREATE TABLE after_replica (x int)").await;
    let until = Instant::now() + Duration::from_secs(30);
    let rlag = loop {
        match rpg.replication_lag().await {
            Ok(l) => break l,
            Err(e) => {
                assert!(e.contains("no transaction replayed"), "{e}");
                assert!(Instant::now() < until, "the replica never replayed: {e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    };
    assert!((0.0..30.0).contains(&rlag), "replica-side lag {rlag}");
    let o = Source::read(&rpg).await;
    assert!(matches!(o.metrics.get(LAG_METRIC), Some(Some(_))), "{o:?}");
    assert_eq!(o.migration.and_then(|m| m.version), Some(36));

    // Stopped: one error, no password, nothing known.
    drop(replica);
    drop(primary);
    let o = Source::read(&pg).await;
    assert_eq!(o.errors.len(), 1, "{:?}", o.errors);
    assert_eq!(o.errors[0].source.to_string(), "postgres");
    no_password(&o.errors[0].message);
    assert_eq!(o.migration, None);
}

#[tokio::test]
async fn a_silent_or_garbled_server_is_a_bounded_error() {
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = silent.local_addr().expect("addr");
    let hold = tokio::spawn(async move {
        let mut keep = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            keep.push(s);
        }
    });
    let pg = Postgres::new(
        &format!("postgres://app:{PASSWORD}@{addr}/db"),
        Duration::from_millis(700),
        vec![LAG_METRIC.into()],
    )
    .expect("pool");
    // A server that accepts and never answers: the reading ends with the connect timeout.
    let o = Source::read(&pg).await;
    assert_eq!(o.errors.len(), 1, "{:?}", o.errors);
    assert!(
        o.errors[0].message.contains("cannot connect"),
        "{:?}",
        o.errors
    );
    no_password(&o.errors[0].message);
    hold.abort();

    // Answers HTTP to the PostgreSQL protocol.
    let garbage = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = garbage.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = garbage.accept().await {
            let _ = s
                .write_all(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
                .await;
        }
    });
    let pg = Postgres::new(
        &format!("postgres://app:{PASSWORD}@{addr}/db"),
        Duration::from_millis(700),
        vec![],
    )
    .expect("pool");
    let o = Source::read(&pg).await;
    assert_eq!(o.errors.len(), 1, "{:?}", o.errors);
    no_password(&o.errors[0].message);
    task.abort();

    let dead = dead_url().await.replace("http://", "");
    let pg = Postgres::new(
        &format!("postgres://app:{PASSWORD}@{dead}/db"),
        Duration::from_millis(700),
        vec![],
    )
    .expect("pool");
    let e = pg.schema_version().await.expect_err("down");
    no_password(&e);
}

/// The PostgreSQL source fills the metrics that say `from: postgres_replication`, whatever
/// their id; a metric with the old id and no source of its own is filled as before.
#[test]
fn the_lag_fills_the_metrics_that_say_so() {
    let dir = tempfile::tempdir().expect("tmp");
    let base = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minimal.yaml"),
    )
    .expect("fixture");
    let with = |metric: &str| {
        let p = dir.path().join("m.yaml");
        std::fs::write(
            &p,
            base.replace("metrics:\n", &format!("metrics:\n{metric}")),
        )
        .expect("write");
        match warroom::runbook::load(&p) {
            Ok(l) => warroom::real::postgres::metric_ids(&l.runbook),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(
        with("  - { id: replica_behind, name: R, group: db, from: postgres_replication }\n"),
        vec!["replica_behind".to_string()]
    );
    assert_eq!(
        with("  - { id: replication_lag, name: R, group: db }\n"),
        vec!["replication_lag".to_string()]
    );
    assert!(with("  - { id: replication_lag, name: R, group: db, query: up }\n").is_empty());
}
