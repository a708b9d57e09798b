//! `run` steps: argv without a shell, env and `${VAR}` expansion, exit code and output tail,
//! the timeout (the command and its children killed), and secrets masked.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use warroom::real::shell;
use warroom::runbook::RunStep;

fn step(argv: &[&str], env: &[(&str, &str)], timeout: Duration) -> RunStep {
    RunStep {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        timeout,
        expect_migration_version: None,
    }
}

fn env(k: &str) -> Option<String> {
    match k {
        "WHO" => Some("operator".into()),
        "DATABASE_URL" => Some("postgres://app:Sup3rSecret@127.0.0.1:5432/app".into()),
        _ => None,
    }
}

#[tokio::test]
async fn output_tail_exit_code_and_expansion() {
    let s = step(
        &[
            "sh",
            "-c",
            "echo \"$GREETING $1\"; for i in $(seq 1 25); do echo line $i; done",
            "sh",
            "${WHO}",
        ],
        &[("GREETING", "${NOT_SET_ANYWHERE:-hello}")],
        Duration::from_secs(10),
    );
    let out = shell::run(&s, &env, None).await.expect("exit 0");
    assert!(out.starts_with("exit 0 after"), "{out}");
    // The last 20 lines only: the greeting and lines 1..5 are gone.
    assert!(!out.contains("hello operator"), "{out}");
    assert!(
        !out.contains("line 5\n") && out.contains("line 6\n") && out.ends_with("line 25"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1 + shell::TAIL_LINES);

    let s = step(
        &[
            "sh",
            "-c",
            "echo \"$GREETING $1\"; echo oops >&2; exit 3",
            "sh",
            "${WHO}",
        ],
        &[("GREETING", "${NOT_SET_ANYWHERE:-hello}")],
        Duration::from_secs(10),
    );
    let e = shell::run(&s, &env, None).await.expect_err("exit 3");
    assert!(e.starts_with("exit 3 after"), "{e}");
    assert!(e.contains("hello operator") && e.contains("oops"), "{e}");
}

#[tokio::test]
async fn a_command_past_its_timeout_is_killed_with_its_children() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("child.pid");
    let script = format!(
        "sleep 30 & echo $! > {}; echo started; wait",
        pidfile.display()
    );
    let s = step(&["sh", "-c", &script], &[], Duration::from_millis(700));
    let e = shell::run(&s, &env, None).await.expect_err("timed out");
    assert!(e.starts_with("killed after the 700ms timeout"), "{e}");
    assert!(e.contains("started"), "{e}");
    let pid = std::fs::read_to_string(&pidfile)
        .expect("pid")
        .trim()
        .to_string();
    // The background sleep went with its shell (same process group).
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false);
        if !alive {
            break;
        }
        assert!(Instant::now() < until, "sleep {pid} survived the timeout");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn secrets_in_urls_are_masked_and_unset_variables_stop_the_step() {
    let s = step(
        &[
            "sh",
            "-c",
            "echo connecting to $1; echo password is $PGPASSWORD",
            "sh",
            "${DATABASE_URL}",
        ],
        &[("PGPASSWORD", "hunter22")],
        Duration::from_secs(10),
    );
    let out = shell::run(&s, &env, None).await.expect("exit 0");
    assert!(
        out.contains("connecting to postgres://app:***@127.0.0.1:5432/app"),
        "{out}"
    );
    assert!(out.contains("password is ***"), "{out}");
    assert!(
        !out.contains("Sup3rSecret") && !out.contains("hunter22"),
        "{out}"
    );

    let s = step(
        &["migrate", "-database", "${MISSING_DB_URL}", "up"],
        &[],
        Duration::from_secs(1),
    );
    let e = shell::run(&s, &env, None).await.expect_err("unset");
    assert_eq!(e, "not run: ${MISSING_DB_URL} not set");

    let s = step(
        &["/nonexistent/migrate-xyz", "up"],
        &[],
        Duration::from_secs(1),
    );
    let e = shell::run(&s, &env, None)
        .await
        .expect_err("no such binary");
    assert!(e.contains("cannot start `/nonexistent/migrate-xyz`"), "{e}");

    let mut s = step(&["true"], &[], Duration::from_secs(5));
    s.expect_migration_version = Some(35);
    let out = shell::run(&s, &env, None).await.expect("exit 0");
    assert!(
        out.contains("schema version 35 not checked: no database target"),
        "{out}"
    );
}
