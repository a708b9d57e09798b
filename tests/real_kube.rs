//! The Kubernetes adapter through the real kube client, with a kubeconfig pointing at a
//! loopback server that speaks the subset used: apps/v1 Deployments get and patch
//! (strategic merge, `dryRun=All`), with a rollout that progresses, one that exceeds its
//! deadline, and faults (down, slow, 500, malformed JSON, a server that ignores writes).

mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;
use warroom::real::Endpoints;
use warroom::real::kube::Kube;
use warroom::runbook::{SetImage, StepAction};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Ok,
    Stuck,
    IgnoreWrites,
    Fail,
    Slow,
    Malformed,
}

#[derive(Default)]
struct Cluster {
    deployments: BTreeMap<String, Value>,
    patches: Vec<(String, String)>,
}

fn deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "prod", "generation": 1, "resourceVersion": "1"},
        "spec": {
            "replicas": 3,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [
                    {"name": "backend", "image": "backend:v1.0.0",
                     "env": [{"name": "USE_UNIFIED_ATTRIBUTES", "value": "true"}]},
                    {"name": "sidecar", "image": "envoy:1.30"}
                ]}
            }
        },
        "status": {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3,
                   "readyReplicas": 3, "availableReplicas": 3}
    })
}

/// Strategic merge as the API server does it for the fields we patch: objects merge, lists
/// of containers and env vars merge by `name`, null deletes.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else if (k == "containers" || k == "env") && v.is_array() {
                    let list = t.entry(k.clone()).or_insert_with(|| json!([]));
                    for item in v.as_array().into_iter().flatten() {
                        let name = item.get("name").cloned();
                        let arr = match list.as_array_mut() {
                            Some(a) => a,
                            None => continue,
                        };
                        match arr.iter_mut().find(|x| x.get("name") == name.as_ref()) {
                            Some(existing) => merge(existing, item),
                            None => arr.push(item.clone()),
                        }
                    }
                } else {
                    match t.get_mut(k) {
                        Some(existing) if existing.is_object() && v.is_object() => {
                            merge(existing, v)
                        }
                        _ => {
                            t.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn status(code: u16, reason: &str, message: &str) -> Resp {
    Resp::json(
        code,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
               "reason": reason, "message": message, "code": code}),
    )
}

async fn api_server(mode: Arc<Mutex<Mode>>, cluster: Arc<Mutex<Cluster>>) -> Server {
    Server::start(move |r| {
        let m = *mode.lock().expect("mode");
        match m {
            Mode::Fail => return status(500, "InternalError", "etcdserver: request timed out"),
            Mode::Slow => return Resp::json(200, json!({})).after(Duration::from_secs(3)),
            Mode::Malformed => return Resp::malformed(),
            _ => {}
        }
        let Some(name) = r
            .path
            .strip_prefix("/apis/apps/v1/namespaces/prod/deployments/")
            .map(String::from)
        else {
            return status(404, "NotFound", &format!("the server could not find {}", r.path));
        };
        let mut c = cluster.lock().expect("cluster");
        let Some(current) = c.deployments.get(&name).cloned() else {
            return status(404, "NotFound", &format!("deployments.apps \"{name}\" not found"));
        };
        match r.method.as_str() {
            "GET" => {
                let mut d = current;
                // Each read moves a rollout along by one replica, unless it is stuck.
                let st = d["status"].clone();
                let want = d["spec"]["replicas"].as_i64().unwrap_or(1);
                let updated = st["updatedReplicas"].as_i64().unwrap_or(0);
                if m == Mode::Stuck {
                    d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                        "message": format!("ReplicaSet \"{name}-7d9\" has timed out progressing.")}]);
                } else if updated < want {
                    d["status"]["updatedReplicas"] = json!(updated + 1);
                    d["status"]["readyReplicas"] = json!(updated + 1);
                    d["status"]["availableReplicas"] = json!(updated + 1);
                    d["status"]["replicas"] = json!(want + 1);
                    if updated + 1 == want {
                        d["status"]["replicas"] = json!(want);
                    }
                }
                c.deployments.insert(name, d.clone());
                Resp::json(200, d)
            }
            "PATCH" => {
                let ct = r.header("content-type").unwrap_or_default().to_string();
                if ct != "application/strategic-merge-patch+json" {
                    return status(415, "UnsupportedMediaType", &ct);
                }
                c.patches.push((name.clone(), r.query.clone()));
                if m == Mode::IgnoreWrites {
                    return Resp::json(200, current);
                }
                let mut d = current.clone();
                merge(&mut d, &r.json());
                if d["spec"] != current["spec"] {
                    let g = d["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
                    d["metadata"]["generation"] = json!(g);
                    d["status"] = json!({"observedGeneration": g, "replicas": 3,
                        "updatedReplicas": 0, "readyReplicas": 3, "availableReplicas": 3});
                }
                if !r.query.contains("dryRun=All") {
                    c.deployments.insert(name, d.clone());
                }
                Resp::json(200, d)
            }
            other => status(405, "MethodNotAllowed", other),
        }
    })
    .await
}

struct Fixture {
    _srv: Server,
    _dir: tempfile::TempDir,
    ep: Endpoints,
    mode: Arc<Mutex<Mode>>,
    cluster: Arc<Mutex<Cluster>>,
}

fn kubeconfig(dir: &std::path::Path, server: &str) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster:\n    server: {server}\n\
             contexts:\n- name: lab\n  context:\n    cluster: lab\n    user: lab\n    namespace: prod\n\
             current-context: lab\nusers:\n- name: lab\n  user:\n    token: test-token\n"
        ),
    )
    .expect("write kubeconfig");
    path
}

async fn fixture() -> Fixture {
    let mode = Arc::new(Mutex::new(Mode::Ok));
    let cluster = Arc::new(Mutex::new(Cluster::default()));
    for n in ["backend-blue", "backend-green"] {
        cluster
            .lock()
            .expect("cluster")
            .deployments
            .insert(n.into(), deployment(n));
    }
    let srv = api_server(mode.clone(), cluster.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ep = Endpoints {
        kubeconfig: vec![kubeconfig(dir.path(), &srv.url())],
        ..Default::default()
    };
    Fixture {
        _srv: srv,
        _dir: dir,
        ep,
        mode,
        cluster,
    }
}

async fn client(f: &Fixture) -> Kube {
    Kube::connect(&f.ep, Duration::from_millis(800))
        .await
        .expect("kube client")
        .with_poll_interval(Duration::from_millis(20))
}

fn image(f: &Fixture, name: &str) -> Value {
    f.cluster.lock().expect("cluster").deployments[name]["spec"]["template"]["spec"]["containers"]
        [0]["image"]
        .clone()
}

#[tokio::test]
async fn set_image_env_restart_and_wait_like_kubectl() {
    let f = fixture().await;
    let k = client(&f).await;
    assert_eq!(k.namespace(), "prod");

    // A server-side dry run first: the answer says what would change, nothing changes.
    let preview = k
        .preview(&StepAction::SetImage(SetImage {
            deployment: "backend-green".into(),
            container: "backend".into(),
            image: "backend:v2.0.0".into(),
        }))
        .await
        .expect("a kube step")
        .expect("dry run");
    assert!(
        preview.contains("backend:v1.0.0 → backend:v2.0.0") && preview.contains("dry run"),
        "{preview}"
    );
    assert_eq!(image(&f, "backend-green"), json!("backend:v1.0.0"));
    assert!(
        f.cluster.lock().expect("cluster").patches[0]
            .1
            .contains("dryRun=All")
    );

    let out = k
        .set_image("backend-green", "backend", "backend:v2.0.0", false)
        .await
        .expect("set image");
    assert_eq!(
        out,
        "deployment/backend-green: container backend image backend:v1.0.0 → backend:v2.0.0 (generation 2)"
    );
    assert_eq!(image(&f, "backend-green"), json!("backend:v2.0.0"));
    {
        let c = f.cluster.lock().expect("cluster");
        let d = &c.deployments["backend-green"];
        // The other container is untouched by the strategic merge.
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][1]["image"],
            json!("envoy:1.30")
        );
        assert!(c.patches[1].1.contains("fieldManager=warroom"));
        assert!(!c.patches[1].1.contains("dryRun"));
    }

    // The rollout progresses one replica per read.
    let out = k
        .wait_rollout("backend-green", None)
        .await
        .expect("rolled out");
    assert!(
        out.starts_with("deployment/backend-green rolled out: 3 updated"),
        "{out}"
    );

    let out = k
        .set_env(
            "backend-green",
            "backend",
            "USE_UNIFIED_ATTRIBUTES",
            "false",
            false,
        )
        .await
        .expect("set env");
    assert!(
        out.contains("env USE_UNIFIED_ATTRIBUTES true → false"),
        "{out}"
    );

    let out = k.restart("backend-blue", false).await.expect("restart");
    assert!(
        out.starts_with("deployment/backend-blue: restarted at "),
        "{out}"
    );
    let c = f.cluster.lock().expect("cluster");
    assert!(
        c.deployments["backend-blue"]["spec"]["template"]["metadata"]["annotations"]
            ["kubectl.kubernetes.io/restartedAt"]
            .is_string()
    );
}

#[tokio::test]
async fn wrong_container_stuck_rollout_and_ignored_writes_fail_the_step() {
    let f = fixture().await;
    let k = client(&f).await;

    let e = k
        .set_image("backend-green", "app", "backend:v2.0.0", false)
        .await
        .expect_err("no such container");
    assert_eq!(
        e,
        "deployment/backend-green has no container `app` (containers: backend, sidecar)"
    );
    let e = k
        .set_image("backend-purple", "backend", "x", false)
        .await
        .expect_err("no such deployment");
    assert!(e.contains("404") && e.contains("not found"), "{e}");

    *f.mode.lock().expect("mode") = Mode::Stuck;
    let e = k
        .wait_rollout("backend-green", None)
        .await
        .expect_err("stuck");
    assert!(
        e.contains("deployment/backend-green exceeded its progress deadline"),
        "{e}"
    );

    // A server that answers a patch with the unchanged object: the read-back disagrees.
    *f.mode.lock().expect("mode") = Mode::IgnoreWrites;
    let e = k
        .set_image("backend-blue", "backend", "backend:v9", false)
        .await
        .expect_err("ignored");
    assert_eq!(
        e,
        "set deployment/backend-blue backend image backend:v9, read back backend:v1.0.0"
    );
}

#[tokio::test]
async fn api_server_faults_are_bounded_errors() {
    let f = fixture().await;
    let k = client(&f).await;
    for (mode, want) in [
        (Mode::Fail, "500"),
        (Mode::Malformed, "patch deployment/backend-green"),
        (Mode::Slow, "deployment/backend-green"),
    ] {
        *f.mode.lock().expect("mode") = mode;
        let started = Instant::now();
        let e = k
            .set_env("backend-green", "backend", "X", "1", false)
            .await
            .expect_err("fault");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{mode:?} bounded"
        );
        // A malformed GET fails first, at the get.
        let e2 = if mode == Mode::Malformed {
            e.replace("get deployment", "patch deployment")
        } else {
            e.clone()
        };
        assert!(e2.contains(want), "{mode:?}: {e}");
    }
    // A bounded wait on a failing server ends with the last error.
    *f.mode.lock().expect("mode") = Mode::Fail;
    let e = k
        .wait_rollout("backend-green", Some(Duration::from_millis(300)))
        .await
        .expect_err("never rolled out");
    assert!(
        e.contains("not rolled out within 300ms") && e.contains("500"),
        "{e}"
    );

    // Down.
    let dir = tempfile::tempdir().expect("tempdir");
    let ep = Endpoints {
        kubeconfig: vec![kubeconfig(dir.path(), &dead_url().await)],
        ..Default::default()
    };
    let k = Kube::connect(&ep, Duration::from_millis(500))
        .await
        .expect("client");
    let e = k.get("backend-green").await.expect_err("down");
    assert!(e.starts_with("get deployment/backend-green:"), "{e}");
}

#[tokio::test]
async fn no_kubeconfig_is_not_configured() {
    let e = Kube::connect(&Endpoints::default(), Duration::from_secs(1))
        .await
        .expect_err("not configured");
    assert_eq!(e, "not configured");
    let dir = tempfile::tempdir().expect("tempdir");
    let ep = Endpoints {
        kubeconfig: vec![dir.path().join("missing-kubeconfig")],
        ..Default::default()
    };
    let e = Kube::connect(&ep, Duration::from_secs(1))
        .await
        .expect_err("missing file");
    assert!(e.contains("missing-kubeconfig"), "{e}");
}

#[tokio::test]
async fn the_executor_answers_a_preview_with_a_server_side_dry_run() {
    let f = fixture().await;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/unified-attributes.yaml");
    let rb = warroom::runbook::load(&path).expect("seed").runbook;
    let (job_tx, job_rx) = tokio::sync::mpsc::unbounded_channel();
    let (rep_tx, mut rep_rx) = tokio::sync::mpsc::unbounded_channel();
    let (_clock, tasks) = warroom::real::spawn_with(&rb, f.ep.clone(), job_rx, rep_tx);
    let steps = vec![
        warroom::engine::PlannedStep {
            name: "Deploy to green".into(),
            action: StepAction::SetImage(SetImage {
                deployment: "backend-green".into(),
                container: "backend".into(),
                image: "backend:v2.0.0".into(),
            }),
        },
        warroom::engine::PlannedStep {
            name: "Switch to blue".into(),
            action: StepAction::SwitchPool(warroom::runbook::PoolName::Blue),
        },
    ];
    job_tx
        .send(warroom::adapters::Job {
            id: 9,
            steps,
            preview: true,
        })
        .expect("send");
    let lines = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(r) = rep_rx.recv().await {
            if let warroom::adapters::Report::Previewed { id: 9, lines } = r {
                return lines;
            }
        }
        Vec::new()
    })
    .await
    .expect("answered in time");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("Deploy to green: ")
            && lines[0].contains("backend:v1.0.0 → backend:v2.0.0")
            && lines[0].contains("dry run"),
        "{lines:?}"
    );
    assert!(lines[1].contains("no dry run for this step"), "{lines:?}");
    assert_eq!(
        image(&f, "backend-green"),
        json!("backend:v1.0.0"),
        "nothing changed"
    );
    for t in tasks {
        t.abort();
    }
}
