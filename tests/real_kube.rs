//! The Kubernetes adapter through the real kube client, with a kubeconfig pointing at a
//! loopback server that speaks the subset used: apps/v1 Deployments get and patch
//! (strategic merge, `dryRun=All`), with a rollout that progresses, one that exceeds its
//! deadline, and faults (down, slow, 500, malformed JSON, a server that ignores writes);
//! core/v1 Services get and patch (switching a selector blue ↔ green); core/v1 Pods list and
//! watch (JSON-lines events since a resource version), for pool health from pod readiness.

mod common;
mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;
use warroom::engine::{SourceId, SourceRef};
use warroom::real::Endpoints;
use warroom::real::kube::Kube;
use warroom::runbook::{CheckKey, SetImage, StepKind};

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
    services: BTreeMap<String, Value>,
    service_patches: Vec<(String, String)>,
    pods: BTreeMap<String, Value>,
    /// Pods deleted, as the watch reports them (each with the version of its deletion).
    deleted: Vec<Value>,
    /// The cluster's resource version: bumped by every pod change.
    rv: u64,
}

impl Cluster {
    /// Delete a pod: the watch reports it `DELETED`.
    fn remove_pod(&mut self, name: &str) {
        self.rv += 1;
        if let Some(mut p) = self.pods.remove(name) {
            p["metadata"]["resourceVersion"] = json!(self.rv.to_string());
            self.deleted.push(p);
        }
    }

    /// Add or change a pod: ready, or not with a container waiting for `reason`.
    fn set_pod(&mut self, name: &str, color: &str, ready: bool, reason: Option<&str>) {
        self.rv += 1;
        let mut statuses = json!([{"name": "backend", "ready": ready, "restartCount": 0,
            "image": "backend:v1.0.0", "imageID": "", "state": {"running": {}}}]);
        if let Some(r) = reason {
            statuses[0]["state"] = json!({"waiting": {"reason": r,
                "message": "back-off 10s restarting failed container=backend"}});
            statuses[0]["restartCount"] = json!(3);
        }
        let mut ready_cond =
            json!({"type": "Ready", "status": if ready { "True" } else { "False" }});
        if !ready {
            ready_cond["reason"] = json!("ContainersNotReady");
        }
        self.pods.insert(
            name.into(),
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "prod",
                    "resourceVersion": self.rv.to_string(),
                    "labels": {"app": "backend", "color": color}},
                "spec": {"containers": [{"name": "backend", "image": "backend:v1.0.0"}]},
                "status": {"phase": "Running", "conditions": [ready_cond],
                    "containerStatuses": statuses}
            }),
        );
    }
}

fn service(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "prod", "resourceVersion": "1"},
        "spec": {"selector": {"app": "backend", "color": "blue"},
                 "ports": [{"port": 80, "targetPort": 8080}]}
    })
}

/// `a%3Db%2Cc%3Dd` → `a=b,c=d`.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("-"), 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_param(q: &str, key: &str) -> Option<String> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| percent_decode(v))
}

fn selects(selector: &str, pod: &Value) -> bool {
    selector
        .split(',')
        .filter(|s| !s.is_empty())
        .all(|kv| match kv.split_once('=') {
            Some((k, v)) => pod["metadata"]["labels"][k] == json!(v),
            None => false,
        })
}

/// core/v1 Pods: a list, or a watch answering the changes since `resourceVersion` as
/// JSON lines (then ending, so the watcher watches again), or after a pause when none.
fn pods_request(r: &Req, c: &Cluster) -> Resp {
    let selector = query_param(&r.query, "labelSelector").unwrap_or_default();
    let matching = c.pods.values().filter(|p| selects(&selector, p));
    if query_param(&r.query, "watch").as_deref() == Some("true") {
        let since: u64 = query_param(&r.query, "resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = String::new();
        for p in matching {
            let rv: u64 = p["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if rv > since {
                body.push_str(&json!({"type": "MODIFIED", "object": p}).to_string());
                body.push('\n');
            }
        }
        for p in c.deleted.iter().filter(|p| selects(&selector, p)) {
            let rv: u64 = p["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if rv > since {
                body.push_str(&json!({"type": "DELETED", "object": p}).to_string());
                body.push('\n');
            }
        }
        let resp = Resp {
            status: 200,
            content_type: "application/json",
            delay: Duration::ZERO,
            body: body.clone().into_bytes(),
        };
        return if body.is_empty() {
            resp.after(Duration::from_millis(150))
        } else {
            resp
        };
    }
    let items: Vec<Value> = matching.cloned().collect();
    Resp::json(
        200,
        json!({"apiVersion": "v1", "kind": "PodList",
               "metadata": {"resourceVersion": c.rv.to_string()}, "items": items}),
    )
}

/// core/v1 Services: get and patch (strategic merge, `dryRun=All`).
fn services_request(r: &Req, m: Mode, c: &mut Cluster, name: String) -> Resp {
    let Some(current) = c.services.get(&name).cloned() else {
        return status(404, "NotFound", &format!("services \"{name}\" not found"));
    };
    match r.method.as_str() {
        "GET" => Resp::json(200, current),
        "PATCH" => {
            let ct = r.header("content-type").unwrap_or_default().to_string();
            if ct != "application/strategic-merge-patch+json" {
                return status(415, "UnsupportedMediaType", &ct);
            }
            c.service_patches.push((name.clone(), r.query.clone()));
            if m == Mode::IgnoreWrites {
                return Resp::json(200, current);
            }
            let mut s = current;
            merge(&mut s, &r.json());
            if !r.query.contains("dryRun=All") {
                c.services.insert(name, s.clone());
            }
            Resp::json(200, s)
        }
        other => status(405, "MethodNotAllowed", other),
    }
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
        if r.path == "/api/v1/namespaces/prod/pods" {
            return pods_request(&r, &cluster.lock().expect("cluster"));
        }
        if let Some(name) = r.path.strip_prefix("/api/v1/namespaces/prod/services/") {
            let mut c = cluster.lock().expect("cluster");
            return services_request(&r, m, &mut c, name.to_string());
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
    cluster
        .lock()
        .expect("cluster")
        .services
        .insert("backend".into(), service("backend"));
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
        .preview(&StepKind::SetImage(SetImage {
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
        let e = k
            .set_env("backend-green", "backend", "X", "1", false)
            .await
            .expect_err("fault");
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
    let ((job_tx, job_rx), (rep_tx, mut rep_rx)) = warroom::adapters::channels();
    let (_clock, tasks) = warroom::real::spawn_with(&rb, f.ep.clone(), job_rx, rep_tx);
    let steps = vec![
        warroom::engine::PlannedStep {
            name: "Deploy to green".into(),
            kind: StepKind::SetImage(SetImage {
                deployment: "backend-green".into(),
                container: "backend".into(),
                image: "backend:v2.0.0".into(),
            }),
        },
        warroom::engine::PlannedStep {
            name: "Switch to blue".into(),
            kind: StepKind::SwitchPool(warroom::runbook::PoolName::Blue),
        },
    ];
    job_tx
        .send(warroom::adapters::Job::Preview { id: 9, steps })
        .await
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

fn labels(color: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app".to_string(), "backend".to_string()),
        ("color".to_string(), color.to_string()),
    ])
}

fn selector_of(f: &Fixture) -> Value {
    f.cluster.lock().expect("cluster").services["backend"]["spec"]["selector"].clone()
}

/// The seed runbook with its pools behind a Service and labelled pods; `pods`: no servers,
/// so that their health comes from the pods.
fn lab_runbook(pods: bool) -> warroom::runbook::Runbook {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/unified-attributes.yaml");
    let mut rb = warroom::runbook::load(&path).expect("seed").runbook;
    rb.pools.service = Some("backend".into());
    rb.pools.blue.labels = labels("blue");
    rb.pools.green.labels = labels("green");
    rb.pools.blue.deployment = Some("backend-blue".into());
    rb.pools.green.deployment = Some("backend-green".into());
    if pods {
        rb.pools.blue.servers.clear();
        rb.pools.green.servers.clear();
    }
    rb.monitoring.interval = Duration::from_millis(300);
    rb
}

#[tokio::test]
async fn switch_service_selector_green_then_blue_with_read_back() {
    let f = fixture().await;
    let k = client(&f).await;

    let out = k
        .switch_service("backend", &labels("green"), false)
        .await
        .expect("switch to green");
    assert_eq!(
        out,
        "service/backend: selector app=backend,color=blue → app=backend,color=green (read back)"
    );
    assert_eq!(selector_of(&f), json!({"app": "backend", "color": "green"}));
    let out = k
        .switch_service("backend", &labels("blue"), false)
        .await
        .expect("switch to blue");
    assert!(
        out.ends_with("→ app=backend,color=blue (read back)"),
        "{out}"
    );
    assert_eq!(selector_of(&f), json!({"app": "backend", "color": "blue"}));
    {
        let c = f.cluster.lock().expect("cluster");
        assert_eq!(c.service_patches.len(), 2);
        assert!(c.service_patches[0].1.contains("fieldManager=warroom"));
        assert!(!c.service_patches[0].1.contains("dryRun"));
    }

    // A selector key the pool's labels lack is removed, not left behind by the merge.
    f.cluster
        .lock()
        .expect("cluster")
        .services
        .get_mut("backend")
        .expect("svc")["spec"]["selector"]["track"] = json!("stable");
    k.switch_service("backend", &labels("green"), false)
        .await
        .expect("switch");
    assert_eq!(selector_of(&f), json!({"app": "backend", "color": "green"}));

    // A dry run says what would change and changes nothing.
    let out = k
        .switch_service("backend", &labels("blue"), true)
        .await
        .expect("dry run");
    assert!(
        out.contains("color=green → app=backend,color=blue") && out.contains("dry run"),
        "{out}"
    );
    assert_eq!(selector_of(&f), json!({"app": "backend", "color": "green"}));
    assert!(
        f.cluster.lock().expect("cluster").service_patches[3]
            .1
            .contains("dryRun=All")
    );

    // A server that ignores the write: the read-back disagrees and the switch fails.
    *f.mode.lock().expect("mode") = Mode::IgnoreWrites;
    let e = k
        .switch_service("backend", &labels("blue"), false)
        .await
        .expect_err("ignored");
    assert_eq!(
        e,
        "set service/backend selector app=backend,color=blue, read back selector app=backend,color=green"
    );
    // Unknown Service, no labels.
    *f.mode.lock().expect("mode") = Mode::Ok;
    let e = k
        .switch_service("frontend", &labels("blue"), false)
        .await
        .expect_err("no such service");
    assert!(e.contains("404") && e.contains("not found"), "{e}");
    let e = k
        .switch_service("backend", &BTreeMap::new(), false)
        .await
        .expect_err("no labels");
    assert!(e.contains("no labels"), "{e}");
}

async fn run_job(
    tx: &tokio::sync::mpsc::Sender<warroom::adapters::Job>,
    rx: &mut tokio::sync::mpsc::Receiver<warroom::adapters::Report>,
    id: u64,
    kind: StepKind,
    preview: bool,
) -> Vec<(bool, String)> {
    let steps = vec![warroom::engine::PlannedStep {
        name: "Switch".into(),
        kind,
    }];
    tx.send(if preview {
        warroom::adapters::Job::Preview { id, steps }
    } else {
        warroom::adapters::Job::Run { id, steps }
    })
    .await
    .expect("send");
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut steps = Vec::new();
        while let Some(r) = rx.recv().await {
            match r {
                warroom::adapters::Report::StepFinished {
                    id: i, ok, output, ..
                } if i == id => steps.push((ok, output)),
                warroom::adapters::Report::Finished { id: i, .. } if i == id => return steps,
                warroom::adapters::Report::Previewed { id: i, lines } if i == id => {
                    return lines.into_iter().map(|l| (true, l)).collect();
                }
                _ => {}
            }
        }
        steps
    })
    .await
    .expect("answered in time")
}

#[tokio::test]
async fn the_executor_switches_the_service_and_previews_it() {
    use warroom::runbook::PoolName;
    let f = fixture().await;
    let rb = lab_runbook(false);
    let ((job_tx, job_rx), (rep_tx, mut rep_rx)) = warroom::adapters::channels();
    // No load balancer: the Service alone is switched.
    let (_clock, tasks) = warroom::real::spawn_with(&rb, f.ep.clone(), job_rx, rep_tx);

    let lines = run_job(
        &job_tx,
        &mut rep_rx,
        1,
        StepKind::SwitchPool(PoolName::Green),
        true,
    )
    .await;
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].1.contains("color=blue → app=backend,color=green")
            && lines[0].1.contains("dry run"),
        "{lines:?}"
    );
    assert_eq!(selector_of(&f), json!({"app": "backend", "color": "blue"}));

    let steps = run_job(
        &job_tx,
        &mut rep_rx,
        2,
        StepKind::SwitchPool(PoolName::Green),
        false,
    )
    .await;
    assert_eq!(steps.len(), 1);
    assert!(
        steps[0].0 && steps[0].1.contains("(read back)"),
        "{steps:?}"
    );
    assert_eq!(selector_of(&f), json!({"app": "backend", "color": "green"}));
    let steps = run_job(
        &job_tx,
        &mut rep_rx,
        3,
        StepKind::SwitchPool(PoolName::Blue),
        false,
    )
    .await;
    assert!(steps[0].0, "{steps:?}");
    assert_eq!(selector_of(&f), json!({"app": "backend", "color": "blue"}));

    *f.mode.lock().expect("mode") = Mode::IgnoreWrites;
    let steps = run_job(
        &job_tx,
        &mut rep_rx,
        4,
        StepKind::SwitchPool(PoolName::Green),
        false,
    )
    .await;
    assert!(
        !steps[0].0
            && steps[0]
                .1
                .contains("read back selector app=backend,color=blue"),
        "{steps:?}"
    );
    for t in tasks {
        t.abort();
    }
}

#[tokio::test]
async fn the_executor_switches_the_load_balancer_then_the_service() {
    use warroom::runbook::PoolName;
    let f = fixture().await;
    let active = Arc::new(Mutex::new("blue".to_string()));
    let a = active.clone();
    let lb = Server::start(move |r| {
        let mut act = a.lock().expect("lb");
        match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/switch-to-green") => *act = "green".into(),
            ("POST", "/switch-to-blue") => *act = "blue".into(),
            ("GET", "/status") => {}
            _ => return Resp::json(404, json!({})),
        }
        let green = if *act == "green" { 100 } else { 0 };
        Resp::json(
            200,
            json!({"active": *act, "weights": {"blue": 100 - green, "green": green}}),
        )
    })
    .await;
    let rb = lab_runbook(false);
    let mut ep = f.ep.clone();
    ep.load_balancer = Some(lb.url());
    let ((job_tx, job_rx), (rep_tx, mut rep_rx)) = warroom::adapters::channels();
    let (_clock, tasks) = warroom::real::spawn_with(&rb, ep, job_rx, rep_tx);
    let steps = run_job(
        &job_tx,
        &mut rep_rx,
        1,
        StepKind::SwitchPool(PoolName::Green),
        false,
    )
    .await;
    assert!(steps[0].0, "{steps:?}");
    let out = &steps[0].1;
    let (lb_at, svc_at) = (
        out.find("load balancer: switched to green"),
        out.find("service/backend: selector"),
    );
    assert!(
        matches!((lb_at, svc_at), (Some(l), Some(s)) if l < s),
        "both, LB first: {out}"
    );
    assert_eq!(*active.lock().expect("lb"), "green");
    assert_eq!(selector_of(&f), json!({"app": "backend", "color": "green"}));
    for t in tasks {
        t.abort();
    }
}

/// The next pod-watch observation that `pred` accepts, within 10 s.
async fn pods_obs(
    rx: &mut tokio::sync::mpsc::Receiver<warroom::adapters::Report>,
    pred: impl Fn(&warroom::engine::Observation) -> bool,
) -> warroom::engine::Observation {
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(r) = rx.recv().await {
            if let warroom::adapters::Report::Observed { observation, .. } = r
                && observation.source.to_string() == "kube:pods"
                && pred(&observation)
            {
                return Some(observation);
            }
        }
        None
    })
    .await
    .expect("observed in time")
    .expect("reports still flowing")
}

fn green_pods(o: &warroom::engine::Observation) -> Vec<(String, bool, Option<String>)> {
    o.pools
        .as_ref()
        .map(|p| {
            p.green
                .iter()
                .map(|s| (s.address.clone(), s.healthy, s.error.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn pool_health_follows_the_pods_by_watch() {
    let f = fixture().await;
    {
        let mut c = f.cluster.lock().expect("cluster");
        c.set_pod("backend-green-a", "green", true, None);
        c.set_pod("backend-green-b", "green", true, None);
        c.set_pod("backend-blue-a", "blue", true, None);
    }
    let rb = lab_runbook(true);
    let ((_job_tx, job_rx), (rep_tx, mut rep_rx)) = warroom::adapters::channels();
    let (_clock, tasks) = warroom::real::spawn_with(&rb, f.ep.clone(), job_rx, rep_tx);

    // Both pods listed and ready: 2/2 healthy, no latency (not an HTTP check).
    let o = pods_obs(&mut rep_rx, |o| {
        green_pods(o).len() == 2 && o.pools.as_ref().is_some_and(|p| !p.blue.is_empty())
    })
    .await;
    assert!(green_pods(&o).iter().all(|(_, ok, _)| *ok), "{o:?}");
    let p = o.pools.as_ref().expect("pools");
    assert!(p.active.is_none() && p.green_share.is_none());
    assert!(p.green.iter().all(|s| s.latency_ms.is_none()));
    // Each pool's own pods: blue's watch lists blue's.
    assert_eq!(p.blue.len(), 1, "{o:?}");
    assert_eq!(p.blue[0].address, "backend-blue-a");

    // One pod crash-loops: the watch brings it, unhealthy with its reason.
    f.cluster.lock().expect("cluster").set_pod(
        "backend-green-b",
        "green",
        false,
        Some("CrashLoopBackOff"),
    );
    let o = pods_obs(&mut rep_rx, |o| {
        green_pods(o)
            .iter()
            .any(|(n, ok, _)| n == "backend-green-b" && !ok)
    })
    .await;
    let pods = green_pods(&o);
    assert_eq!(pods.len(), 2);
    assert_eq!(pods[0], ("backend-green-a".to_string(), true, None));
    let why = pods[1].2.clone().unwrap_or_default();
    assert!(why.starts_with("CrashLoopBackOff"), "{why}");
    assert!(o.errors.is_empty(), "{o:?}");

    // The API server fails: a kube:pods source error, no panic, and the watch goes on.
    *f.mode.lock().expect("mode") = Mode::Fail;
    let o = pods_obs(&mut rep_rx, |o| !o.errors.is_empty()).await;
    assert_eq!(o.errors[0].source.to_string(), "kube:pods");
    assert!(o.errors[0].message.contains("500"), "{o:?}");
    assert!(tasks.iter().all(|t| !t.is_finished()), "no task ended");
    // A reading of the kube poller (its own source) does not hide the watch's error.
    let mut st = warroom::engine::State::new(&rb);
    let t0 = chrono::Utc::now();
    warroom::engine::apply(
        &mut st,
        &rb,
        t0,
        &warroom::engine::Event::Observed(o.clone()),
    );
    let poller = warroom::engine::Observation {
        source: SourceId::Kube.into(),
        ..Default::default()
    };
    warroom::engine::apply(&mut st, &rb, t0, &warroom::engine::Event::Observed(poller));
    assert!(
        st.source_errors
            .contains_key(&SourceRef::part(SourceId::Kube, "pods")),
        "{:?}",
        st.source_errors
    );

    // Back up: the watcher retries (default backoff) and the error clears.
    *f.mode.lock().expect("mode") = Mode::Ok;
    f.cluster
        .lock()
        .expect("cluster")
        .set_pod("backend-green-b", "green", true, None);
    let o = pods_obs(&mut rep_rx, |o| {
        o.errors.is_empty()
            && green_pods(o).iter().all(|(_, ok, _)| *ok)
            && green_pods(o).len() == 2
    })
    .await;
    assert!(o.errors.is_empty());
    for t in tasks {
        t.abort();
    }
}

#[tokio::test]
async fn pools_with_servers_keep_their_http_checks() {
    let f = fixture().await;
    f.cluster
        .lock()
        .expect("cluster")
        .set_pod("backend-green-a", "green", true, None);
    let health = Server::start(|_| Resp::text(200, "ok")).await;
    let rb = lab_runbook(true);
    let mut ep = f.ep.clone();
    // Blue lists a server: HTTP checks for blue, pods for green only.
    ep.blue = vec![health.host_port()];
    let ((_job_tx, job_rx), (rep_tx, mut rep_rx)) = warroom::adapters::channels();
    let (_clock, tasks) = warroom::real::spawn_with(&rb, ep, job_rx, rep_tx);
    let o = pods_obs(&mut rep_rx, |o| green_pods(o).len() == 1).await;
    assert!(o.pools.as_ref().expect("pools").blue.is_empty(), "{o:?}");
    let mut saw_health = false;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(r) = rep_rx.recv().await {
            if let warroom::adapters::Report::Observed { observation, .. } = r
                && let Some(p) = &observation.pools
            {
                match observation.source.to_string().as_str() {
                    "health" => {
                        assert!(p.green.is_empty(), "{observation:?}");
                        saw_health |= p.blue.len() == 1 && p.blue[0].healthy;
                    }
                    "kube:pods" => assert!(p.blue.is_empty(), "{observation:?}"),
                    _ => {}
                }
            }
        }
    })
    .await;
    assert!(saw_health, "blue's HTTP check ran");
    for t in tasks {
        t.abort();
    }
}

fn pod_value(v: Value) -> k8s_openapi::api::core::v1::Pod {
    match serde_json::from_value(v) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_pod_is_a_healthy_server_when_ready() {
    let ok = pod_value(
        json!({"metadata": {"name": "g-1"}, "status": {"phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}]}}),
    );
    let s = warroom::real::pods::pod_server(&ok);
    assert!(s.healthy && s.error.is_none() && s.address == "g-1");
    let crash = pod_value(
        json!({"metadata": {"name": "g-2"}, "status": {"phase": "Running",
        "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
        "containerStatuses": [{"name": "backend", "ready": false, "restartCount": 5, "image": "b",
            "imageID": "", "state": {"waiting": {"reason": "CrashLoopBackOff",
            "message": "back-off 5m0s restarting failed container"}}}]}}),
    );
    let s = warroom::real::pods::pod_server(&crash);
    assert!(!s.healthy);
    assert_eq!(
        s.error.as_deref(),
        Some("CrashLoopBackOff: back-off 5m0s restarting failed container")
    );
    let pending = pod_value(json!({"metadata": {"name": "g-3"}, "status": {"phase": "Pending"}}));
    assert_eq!(
        warroom::real::pods::pod_server(&pending).error.as_deref(),
        Some("Pending")
    );
    let bare = pod_value(
        json!({"metadata": {"name": "g-4"}, "status": {"phase": "Running",
        "conditions": [{"type": "Ready", "status": "False"}]}}),
    );
    assert_eq!(
        warroom::real::pods::pod_server(&bare).error.as_deref(),
        Some("not ready")
    );
}

#[tokio::test]
async fn pods_read_once_for_status() {
    use warroom::real::pods::{PodPool, read_once};
    use warroom::runbook::PoolName;
    let f = fixture().await;
    {
        let mut c = f.cluster.lock().expect("cluster");
        c.set_pod("backend-green-a", "green", true, None);
        c.set_pod("backend-green-b", "green", false, Some("CrashLoopBackOff"));
        c.set_pod("backend-blue-a", "blue", true, None);
    }
    let k = client(&f).await;
    let pools = vec![PodPool {
        pool: PoolName::Green,
        selector: "app=backend,color=green".into(),
    }];
    let o = read_once(&k, &pools, Duration::from_secs(2)).await;
    assert!(o.errors.is_empty(), "{o:?}");
    let p = o.pools.expect("pools");
    assert!(p.blue.is_empty());
    assert_eq!(p.green.len(), 2);
    assert!(p.green[0].healthy && !p.green[1].healthy);
    *f.mode.lock().expect("mode") = Mode::Fail;
    let o = read_once(&k, &pools, Duration::from_secs(2)).await;
    assert_eq!(o.errors.len(), 1);
    assert!(
        o.errors[0]
            .message
            .starts_with("green: list pods: HTTP 500"),
        "{o:?}"
    );
}

#[tokio::test]
async fn status_reports_the_pods_of_a_pool_without_servers() {
    let f = fixture().await;
    {
        let mut c = f.cluster.lock().expect("cluster");
        c.set_pod("backend-green-a", "green", true, None);
        c.set_pod("backend-green-b", "green", false, Some("CrashLoopBackOff"));
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/unified-attributes.yaml");
    let mut rb = warroom::runbook::load(&path).expect("seed").runbook;
    // Green lists no servers: its health is its pods'.
    rb.pools.green.servers.clear();
    rb.pools.green.labels = [
        ("app".to_string(), "backend".to_string()),
        ("color".to_string(), "green".to_string()),
    ]
    .into();
    let ep = f.ep.clone();
    let st = warroom::engine::State::new(&rb);
    let report = warroom::status::collect_with(&rb, st, &ep, Duration::from_secs(2)).await;
    let green = report
        .pools
        .iter()
        .find(|p| p.name == warroom::runbook::PoolName::Green)
        .expect("green");
    let names: Vec<(&str, bool)> = green
        .servers
        .iter()
        .map(|s| (s.address.as_str(), s.healthy))
        .collect();
    assert_eq!(
        names,
        vec![("backend-green-a", true), ("backend-green-b", false)],
        "{report:?}"
    );
    assert!(
        green.servers[1]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("CrashLoopBackOff"))
    );
    let j = warroom::status::to_json(&report);
    assert_eq!(j["pools"]["green"]["servers"][1]["healthy"], json!(false));
}

#[tokio::test]
async fn without_a_flag_api_a_flag_is_set_as_its_env_var_on_the_deployments() {
    let f = fixture().await;
    let rb = lab_runbook(false);
    let ((job_tx, job_rx), (rep_tx, mut rep_rx)) = warroom::adapters::channels();
    let (_clock, tasks) = warroom::real::spawn_with(&rb, f.ep.clone(), job_rx, rep_tx);
    let steps = run_job(
        &job_tx,
        &mut rep_rx,
        1,
        StepKind::SetFlag(warroom::runbook::SetFlag {
            flag: "unified_attributes_enabled".into(),
            value: json!(false),
        }),
        false,
    )
    .await;
    assert_eq!(steps.len(), 1);
    assert!(steps[0].0, "{steps:?}");
    for d in ["backend-blue", "backend-green"] {
        assert!(
            steps[0].1.contains(&format!(
                "deployment/{d}: container backend env USE_UNIFIED_ATTRIBUTES true → false"
            )),
            "{steps:?}"
        );
        let env = f.cluster.lock().expect("cluster").deployments[d]["spec"]["template"]["spec"]["containers"][0]["env"].clone();
        assert!(env.to_string().contains("\"value\":\"false\""), "{env}");
    }
    // A flag with no env twin still needs the flag API.
    let steps = run_job(
        &job_tx,
        &mut rep_rx,
        2,
        StepKind::SetFlag(warroom::runbook::SetFlag {
            flag: "no_such_flag".into(),
            value: json!(true),
        }),
        false,
    )
    .await;
    assert!(
        !steps[0].0 && steps[0].1.contains("flags: not configured"),
        "{steps:?}"
    );
    for t in tasks {
        t.abort();
    }
}

/// The gates ask for capabilities, not source names: with no flag API and no load balancer, a
/// flag with an env twin is set on the Deployments and traffic moves by the Service selector —
/// both through the dialog and its gate, end to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_flag_api_or_load_balancer_the_gates_pass_through_kubernetes() {
    use ratatui::crossterm::event::KeyCode;
    let f = fixture().await;
    {
        let mut c = f.cluster.lock().expect("cluster");
        c.set_pod("backend-green-a", "green", true, None);
        c.set_pod("backend-blue-a", "blue", true, None);
    }
    let mut rb = lab_runbook(true);
    // No Prometheus here: the switch's metric checks would be unknown.
    rb.rollout.gate.clear();
    let dir = tempfile::tempdir().expect("tempdir");
    let loaded = warroom::runbook::Loaded {
        path: dir.path().join("lab.yaml"),
        runbook: rb,
        warnings: Vec::new(),
        sha256: "0".repeat(64),
    };
    let mut c =
        common::console::Console::real(&loaded, &dir.path().join("k.audit"), f.ep.clone()).await;
    assert!(
        c.until(20, |s, _| s
            .st
            .pools
            .healthy(warroom::runbook::PoolName::Green)
            == (1, 1)
            && s.st.source_errors.contains_key(&SourceId::Flags.into())
            && s.st.source_errors.contains_key(&SourceId::Lb.into()))
            .await,
        "pods read, flag API and load balancer not configured: {:?}",
        c.s.st.source_errors
    );
    // Flip the feature flag: the route is its env twin on the Deployments.
    let i =
        c.s.rb
            .flags
            .iter()
            .position(|x| x.id.value == "unified_attributes_enabled")
            .expect("the flag");
    c.ui.flag_sel = i;
    c.press(KeyCode::Char('f'));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("the flip dialog");
    let route = p
        .checks
        .iter()
        .find(|x| x.key == Some(CheckKey::Route))
        .expect("a route check");
    assert!(route.pass && route.evidence == "through kube", "{route:?}");
    if let Some(ph) = &p.phrase {
        c.type_str(ph);
    }
    c.press(KeyCode::Enter);
    assert!(c.ui.dialog.is_none(), "{:?}", c.dialog_error());
    assert!(c.idle(20).await);
    assert!(
        matches!(
            c.s.st.actions.last().map(|a| &a.outcome),
            Some(warroom::engine::Outcome::Succeeded(_))
        ),
        "{:?}",
        c.s.st.actions.last()
    );
    // Switch all traffic to green: the route is the Service selector. Mid-canary only the
    // ladder holds it back (all traffic to green is its last rung): the lead overrides.
    c.press(KeyCode::Char('s'));
    let p = c.ui.proposal(&c.s.st, &c.s.rb).expect("the switch dialog");
    let failing: Vec<_> = p.checks.iter().filter(|x| !x.pass).collect();
    assert!(
        failing.len() == 1 && failing[0].key == Some(CheckKey::RolloutComplete),
        "{failing:#?}"
    );
    assert!(
        p.checks
            .iter()
            .any(|x| x.key == Some(CheckKey::Route) && x.pass && x.evidence == "through kube")
    );
    c.ctrl('o');
    c.type_str("override switch green");
    c.press(KeyCode::Enter);
    c.type_str("testing the selector route");
    c.press(KeyCode::Enter);
    if c.stage() == Some(warroom::ui::app::Stage::Phrase) {
        c.type_str("switch to green");
        c.press(KeyCode::Enter);
    }
    assert!(c.ui.dialog.is_none(), "{:?}", c.dialog_error());
    assert!(c.idle(20).await);
    assert_eq!(selector_of(&f)["color"], "green");
    // The pods of green all go away: the pool reads 0/0, not its last list.
    f.cluster
        .lock()
        .expect("cluster")
        .remove_pod("backend-green-a");
    assert!(
        c.until(20, |s, _| s
            .st
            .pools
            .healthy(warroom::runbook::PoolName::Green)
            == (0, 0))
            .await,
        "{:?}",
        c.s.st.pools.green
    );
}
