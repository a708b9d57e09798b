//! The lab's real-server runbooks (runbooks/local-lab-{haproxy,nginx,real,real-nginx}.yaml) are
//! ones the lab can carry out end to end: no step asks for a system `scripts/local-lab` does
//! not start (Kubernetes, golang-migrate), and their migrations and database rollback really
//! move a PostgreSQL set up as the lab sets it up (version 33 → 34 → 35 → 33), through the
//! executor as `warroom run` drives it.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;
use warroom::adapters::{Job, Report};
use warroom::engine::PlannedStep;
use warroom::runbook::{self, PoolName, Runbook, StepKind};

const LAB: [&str; 4] = [
    "runbooks/local-lab-haproxy.yaml",
    "runbooks/local-lab-nginx.yaml",
    "runbooks/local-lab-real.yaml",
    "runbooks/local-lab-real-nginx.yaml",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &Path) -> Runbook {
    runbook::load(path)
        .unwrap_or_else(|e| panic!("{} loads: {e}", path.display()))
        .runbook
}

/// Every step of the runbook: the phases' `on_start`, then the procedures'.
fn steps(rb: &Runbook) -> Vec<(String, StepKind)> {
    let phases = rb.phases.iter().flat_map(|p| p.on_start.iter());
    let procedures = rb.procedures.iter().flat_map(|p| p.steps.iter());
    phases
        .chain(procedures)
        .map(|s| (s.name.value.clone(), s.kind()))
        .collect()
}

#[test]
fn the_lab_runbooks_ask_only_what_the_lab_has() {
    for f in LAB {
        let rb = load(&root().join(f));
        for (name, kind) in steps(&rb) {
            match &kind {
                StepKind::SetImage(_)
                | StepKind::SetEnv(_)
                | StepKind::Restart { .. }
                | StepKind::WaitRollout { .. } => {
                    panic!("{f}: {name:?} needs Kubernetes, which the lab does not start")
                }
                StepKind::Run(r) => {
                    assert_eq!(
                        r.argv.first().map(String::as_str),
                        Some("psql"),
                        "{f}: {name}"
                    );
                    // Every file it applies is shipped (found from the root, as when
                    // WARROOM_LAB_MIGRATIONS is unset).
                    let files: Vec<&String> = r
                        .argv
                        .windows(2)
                        .filter(|w| w[0] == "-f")
                        .map(|w| &w[1])
                        .collect();
                    assert!(!files.is_empty(), "{f}: {name}");
                    for file in files {
                        let path = runbook::expand(file, &|_| None).expect("expands").value;
                        assert!(root().join(&path).is_file(), "{f}: {name}: {path}");
                    }
                    assert!(r.expect_migration_version.is_some(), "{f}: {name}");
                }
                _ => {}
            }
        }
        assert!(
            rb.targets.kubeconfig.is_none(),
            "{f}: the lab has no Kubernetes"
        );
        // The instant rollback puts the traffic on blue and the rollout flag back to 0 %.
        let instant = rb.procedure("instant").expect("an instant rollback");
        let kinds: Vec<StepKind> = instant.steps.iter().map(|s| s.kind()).collect();
        assert!(kinds.contains(&StepKind::SwitchPool(PoolName::Blue)), "{f}");
        assert!(
            kinds.iter().any(|k| matches!(k, StepKind::SetFlag(s)
                if s.flag == rb.rollout.flag.value && s.value == serde_json::json!(0))),
            "{f}: {kinds:?}"
        );
    }
}

/// The lab's schema at version 33, as scripts/local-lab creates it.
const BASELINE: &str = "
CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
INSERT INTO schema_migrations VALUES (33, false);
CREATE TABLE legacy_attributes (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE unified_attributes (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO legacy_attributes SELECT i, 'attr' || i FROM generate_series(1, 1000) i;
INSERT INTO unified_attributes SELECT id, name FROM legacy_attributes WHERE id <= 900;
";

fn psql(url: &str, sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .args([
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn run(
    tx: &tokio::sync::mpsc::Sender<Job>,
    rx: &mut tokio::sync::mpsc::Receiver<Report>,
    id: u64,
    steps: Vec<PlannedStep>,
) -> Vec<(bool, String)> {
    let n = steps.len();
    tx.send(Job::Run { id, steps }).await.expect("send");
    let mut done = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(r) = rx.recv().await {
            if let Report::StepFinished {
                id: i, ok, output, ..
            } = r
                && i == id
            {
                done.push((ok, output));
                if done.len() == n || !done.last().is_some_and(|d| d.0) {
                    return;
                }
            }
        }
    })
    .await
    .expect("the steps finished");
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_migrations_and_the_database_rollback_move_the_schema() {
    let Some((dir, cluster)) = support::pg::fresh() else {
        return;
    };
    let url = cluster.url();
    psql(&url, BASELINE);
    // The runbook as `warroom run` reads it once the lab's env file is sourced: a copy with
    // the two variables its steps expand written in (the executor expands the process's own).
    let text = std::fs::read_to_string(root().join("runbooks/local-lab-real.yaml")).expect("read");
    let text = text.replace("${WARROOM_DATABASE_URL}", &url).replace(
        "${WARROOM_LAB_MIGRATIONS:-runbooks/local-lab-migrations}",
        &root()
            .join("runbooks/local-lab-migrations")
            .display()
            .to_string(),
    );
    let copy = dir.path().join("local-lab-real.yaml");
    std::fs::write(&copy, text).expect("write the copy");
    let rb = load(&copy);
    let ep = warroom::real::Endpoints::resolve(&rb, &|_| None);
    let ((job_tx, job_rx), (rep_tx, mut rep_rx)) = warroom::adapters::channels();
    let (_clock, tasks) = warroom::real::spawn_with(&rb, ep, job_rx, rep_tx);
    let planned = |steps: &[runbook::ProcedureStep]| -> Vec<PlannedStep> {
        steps
            .iter()
            .map(|s| PlannedStep {
                name: s.name.value.clone(),
                kind: s.kind(),
            })
            .collect()
    };
    let phase = &rb.phases[rb.phase_index("database-migration").expect("phase 2")];
    let done = run(&job_tx, &mut rep_rx, 1, planned(&phase.on_start)).await;
    assert_eq!(done.len(), 2, "{done:?}");
    assert!(done.iter().all(|d| d.0), "{done:?}");
    assert!(done[1].1.contains("35"), "{done:?}");
    assert_eq!(
        psql(
            &url,
            "SELECT version || ' ' || dirty FROM schema_migrations"
        ),
        "35 false"
    );
    // The data migration copied what was missing, and stamped every row.
    assert_eq!(
        psql(
            &url,
            "SELECT count(*) FROM legacy_attributes l WHERE NOT EXISTS \
             (SELECT 1 FROM unified_attributes u WHERE u.id = l.id)"
        ),
        "0"
    );
    assert_eq!(
        psql(
            &url,
            "SELECT count(*) FROM unified_attributes WHERE migrated_at IS NULL"
        ),
        "0"
    );
    // Running phase 2 again is refused by the migration itself: nothing changes.
    let again = run(&job_tx, &mut rep_rx, 2, planned(&phase.on_start[..1])).await;
    assert!(!again[0].0, "{again:?}");
    assert!(again[0].1.contains("migration 34 needs 33"), "{again:?}");
    assert_eq!(psql(&url, "SELECT version FROM schema_migrations"), "35");

    let database = rb.procedure("database").expect("the database rollback");
    let done = run(&job_tx, &mut rep_rx, 3, planned(&database.steps)).await;
    assert!(done.iter().all(|d| d.0), "{done:?}");
    assert_eq!(
        psql(
            &url,
            "SELECT version || ' ' || dirty FROM schema_migrations"
        ),
        "33 false"
    );
    assert_eq!(
        psql(
            &url,
            "SELECT count(*) FROM information_schema.columns \
             WHERE table_name = 'unified_attributes' AND column_name = 'migrated_at'"
        ),
        "0"
    );
    for t in tasks {
        t.abort();
    }
}
