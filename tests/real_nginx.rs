//! The `nginx` load balancer kind against a real nginx (Debian's package), started here with
//! its own prefix on a free loopback port and six loopback backends, driven through
//! runbooks/local-lab-nginx.yaml and the executor, and measured by sending requests through it.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{Pools, assert_share, count_pools, find_binary, free_port, require};
use warroom::adapters::{Job, Report};
use warroom::engine::PlannedStep;
use warroom::real::{Endpoints, Source, balancer::Balancer};
use warroom::runbook::{PoolName, StepKind};

const REQUESTS: usize = 400;

struct Lab {
    dir: tempfile::TempDir,
    port: u16,
    pools: Pools,
    child: Option<tokio::process::Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        // SIGTERM to the master: it stops its workers (SIGKILL would orphan them).
        if let Some(pid) = self.child.as_ref().and_then(|c| c.id()) {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Lab {
    fn prefix(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
    fn config(&self) -> PathBuf {
        self.dir.path().join("nginx.conf")
    }
    fn include(&self) -> PathBuf {
        self.dir.path().join("warroom-split.conf")
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn nginx_conf(&self, extra: &str) -> String {
        let d = self.dir.path().display();
        let servers = |list: &[support::Server]| -> String {
            list.iter()
                .map(|s| format!("server {}; ", s.host_port()))
                .collect()
        };
        format!(
            "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n{user}\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n\
             \x20 client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             \x20 fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             \x20 upstream backend_blue {{ {blue}}}\n  upstream backend_green {{ {green}}}\n\
             \x20 include {include};\n{extra}\
             \x20 server {{\n    listen 127.0.0.1:{port};\n\
             \x20   location / {{ proxy_pass http://$backend_pool; }}\n  }}\n}}\n",
            user = if support::is_root() {
                "user root;\n"
            } else {
                ""
            },
            blue = servers(&self.pools.blue),
            green = servers(&self.pools.green),
            include = self.include().display(),
            port = self.port,
        )
    }

    async fn start() -> Option<Lab> {
        let nginx = require(
            "nginx",
            find_binary(&["/usr/sbin/nginx", "/usr/local/sbin/nginx"]),
        )?;
        let mut lab = Lab {
            dir: tempfile::tempdir().expect("tempdir"),
            port: free_port(),
            pools: Pools::start().await,
            child: None,
        };
        std::fs::write(lab.config(), lab.nginx_conf("")).expect("nginx.conf");
        // Before the first start: green at 0 %, version 0 (what runbooks/local-lab-nginx.yaml shows).
        std::fs::write(lab.include(), warroom::real::nginx::render(0, 0)).expect("include");
        let child = tokio::process::Command::new(nginx)
            .arg("-p")
            .arg(lab.prefix())
            .arg("-c")
            .arg(lab.config())
            .arg("-e")
            .arg(lab.dir.path().join("error.log"))
            .arg("-g")
            .arg("daemon off;")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start nginx");
        lab.child = Some(child);
        let url = lab.url();
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if count_pools(&url, 1, None).await.0 == 1 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await
        .expect("nginx answers through blue");
        Some(lab)
    }

    fn endpoints(&self) -> Endpoints {
        let rb = runbook();
        let (prefix, config, include, url) = (
            format!("{}/", self.prefix().display()),
            self.config().display().to_string(),
            self.include().display().to_string(),
            self.url(),
        );
        let (blue, green) = self.pools.lists();
        let lookup = move |k: &str| match k {
            "WARROOM_NGINX_PREFIX" => Some(prefix.clone()),
            "WARROOM_NGINX_CONFIG" => Some(config.clone()),
            "WARROOM_NGINX_INCLUDE" => Some(include.clone()),
            "WARROOM_NGINX_URL" => Some(url.clone()),
            "WARROOM_BLUE_SERVERS" => Some(blue.clone()),
            "WARROOM_GREEN_SERVERS" => Some(green.clone()),
            _ => None,
        };
        Endpoints::resolve(&rb, &lookup)
    }
}

fn runbook() -> warroom::runbook::Runbook {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/local-lab-nginx.yaml");
    let mut rb = warroom::runbook::load(&path)
        .expect("the nginx lab runbook loads")
        .runbook;
    rb.monitoring.interval = Duration::from_millis(300);
    rb
}

async fn job(
    tx: &tokio::sync::mpsc::Sender<Job>,
    rx: &mut tokio::sync::mpsc::Receiver<Report>,
    id: u64,
    kind: StepKind,
    preview: bool,
) -> (bool, String) {
    let steps = vec![PlannedStep {
        name: "lb".into(),
        kind,
    }];
    tx.send(if preview {
        Job::Preview { id, steps }
    } else {
        Job::Run { id, steps }
    })
    .await
    .expect("send");
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(r) = rx.recv().await {
            match r {
                Report::StepFinished {
                    id: i, ok, output, ..
                } if i == id => return (ok, output),
                Report::Previewed { id: i, lines } if i == id => return (true, lines.join("\n")),
                _ => {}
            }
        }
        (false, "executor gone".into())
    })
    .await
    .expect("the step finished")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_canary_switch_and_rollback_are_measured_through_the_balancer() {
    let Some(lab) = Lab::start().await else {
        return;
    };
    let rb = runbook();
    let ((job_tx, job_rx), (rep_tx, mut rep_rx)) = warroom::adapters::channels();
    let (_clock, tasks) = warroom::real::spawn_with(&rb, lab.endpoints(), job_rx, rep_tx);

    // The dry run shows the diff of the included file and changes nothing.
    let (_, preview) = job(
        &job_tx,
        &mut rep_rx,
        1,
        StepKind::SetWeights { green: 10 },
        true,
    )
    .await;
    assert!(
        preview.contains("+    10% backend_green;")
            && preview.contains("-add_header X-Config-Version 0 always;"),
        "{preview}"
    );
    assert_share(count_pools(&lab.url(), 100, None).await, 0);

    let mut id = 1;
    for percent in [10, 25, 100] {
        id += 1;
        let (ok, out) = job(
            &job_tx,
            &mut rep_rx,
            id,
            StepKind::SetWeights { green: percent },
            false,
        )
        .await;
        assert!(ok, "canary {percent}%: {out}");
        assert!(out.contains(&format!("serves green {percent}%")), "{out}");
        assert_share(count_pools(&lab.url(), REQUESTS, None).await, percent);
    }
    // The cookie overrides the split.
    let (blue, green, _) = count_pools(&lab.url(), 20, Some("blue")).await;
    assert_eq!((blue, green), (20, 0), "canary=blue cookie pins blue");
    id += 1;
    let (ok, out) = job(
        &job_tx,
        &mut rep_rx,
        id,
        StepKind::SwitchPool(PoolName::Blue),
        false,
    )
    .await;
    assert!(ok, "rollback: {out}");
    assert_share(count_pools(&lab.url(), REQUESTS, None).await, 0);
    id += 1;
    let (ok, out) = job(
        &job_tx,
        &mut rep_rx,
        id,
        StepKind::SwitchPool(PoolName::Green),
        false,
    )
    .await;
    assert!(ok, "switch: {out}");
    assert_share(count_pools(&lab.url(), REQUESTS, None).await, 100);
    for t in tasks {
        t.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_refused_config_fails_the_step_and_the_old_split_keeps_serving() {
    let Some(lab) = Lab::start().await else {
        return;
    };
    // The reload command leaves a mark, to see whether it ran.
    let mark = lab.dir.path().join("reloaded");
    let mut ep = lab.endpoints();
    let Some(warroom::real::balancer::LbConfig::Nginx(cfg)) = ep.balancer.as_mut() else {
        panic!("an nginx balancer from the runbook");
    };
    let reload = cfg.reload.join(" ");
    cfg.reload = vec![
        "sh".into(),
        "-c".into(),
        format!("touch {} && {reload}", mark.display()),
    ];
    let b = Balancer::new(None, ep.balancer.as_ref(), Duration::from_secs(5))
        .expect("an nginx balancer")
        .expect("built");
    let (r, _) = b.set_weights(25).await.expect("sent");
    assert!(r.is_ok(), "{r:?}");
    assert!(mark.exists(), "a good configuration is reloaded");
    std::fs::remove_file(&mark).expect("remove the mark");
    let before = std::fs::read_to_string(lab.include()).expect("include");
    // Someone breaks nginx.conf: nginx -t refuses it, so warroom must not reload.
    std::fs::write(lab.config(), lab.nginx_conf("  bogus_directive on;\n")).expect("break");
    let (r, _) = b.set_weights(100).await.expect("an outcome");
    let e = r.expect_err("a refused configuration fails the step");
    assert!(
        e.contains("unknown directive") && e.contains("bogus_directive"),
        "nginx's own message: {e}"
    );
    assert!(e.contains("old configuration keeps serving"), "{e}");
    assert!(!mark.exists(), "a refused configuration is never reloaded");
    assert_eq!(
        std::fs::read_to_string(lab.include()).expect("include"),
        before,
        "the old file is back"
    );
    assert_share(count_pools(&lab.url(), REQUESTS, None).await, 25);
    let o = b.read().await;
    assert_eq!(
        o.pools.and_then(|p| p.green_share),
        Some(25),
        "{:?}",
        o.errors
    );
}

/// The share shown is the split of the configuration nginx serves, read from its answers
/// (the included file's X-Green-Share header), not the file on disk: a file changed and not
/// reloaded shows the old share, with the difference said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_share_is_read_from_what_nginx_serves_not_the_file() {
    let Some(lab) = Lab::start().await else {
        return;
    };
    let ep = lab.endpoints();
    let b = Balancer::new(None, ep.balancer.as_ref(), Duration::from_secs(5))
        .expect("an nginx balancer")
        .expect("built");
    let (r, _) = b.set_weights(10).await.expect("sent");
    let out = r.expect("a served split");
    assert!(out.contains("serves green 10% / blue 90%"), "{out}");
    // The file now says 100 %, but nobody reloaded nginx.
    std::fs::write(lab.include(), warroom::real::nginx::render(100, 99)).expect("write");
    let o = b.read().await;
    assert_eq!(o.pools.as_ref().and_then(|p| p.green_share), Some(10));
    assert_eq!(
        o.pools.as_ref().and_then(|p| p.active),
        Some(PoolName::Blue)
    );
    let said: Vec<&str> = o.errors.iter().map(|e| e.message.as_str()).collect();
    assert!(
        said.iter()
            .any(|m| m.contains("serves configuration version 1, the file is version 99")),
        "{said:?}"
    );
    assert_share(count_pools(&lab.url(), REQUESTS, None).await, 10);
}

/// nginx (open source) has no API for its upstream servers' state: the pools' health comes
/// from the health source, which checks each server the runbook lists. A stopped green server
/// is seen down there while nginx keeps serving through the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_a_server_taken_down_is_seen_down_by_the_pools_health() {
    let Some(mut lab) = Lab::start().await else {
        return;
    };
    let rb = runbook();
    let ((job_tx, job_rx), (rep_tx, mut rep_rx)) = warroom::adapters::channels();
    let (_clock, tasks) = warroom::real::spawn_with(&rb, lab.endpoints(), job_rx, rep_tx);
    let (ok, out) = job(
        &job_tx,
        &mut rep_rx,
        1,
        StepKind::SetWeights { green: 100 },
        false,
    )
    .await;
    assert!(ok, "{out}");
    let gone = lab.pools.green.remove(0);
    let addr = gone.host_port();
    drop(gone);
    let seen = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(r) = rep_rx.recv().await {
            if let Report::Observed { observation, .. } = r
                && observation.source.to_string() == "health"
                && let Some(p) = &observation.pools
                && p.green
                    .iter()
                    .any(|s| s.address.contains(&addr) && !s.healthy)
                && p.green.iter().filter(|s| s.healthy).count() == 2
            {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(
        seen,
        "the stopped green server {addr} is seen down, the other two up"
    );
    for t in tasks {
        t.abort();
    }
}

/// A reload that hangs makes the step fail within its bound, with a clear message, and the
/// old file is put back: the configuration nginx serves and the file agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_slow_reload_times_out_the_step() {
    let Some(lab) = Lab::start().await else {
        return;
    };
    let mut ep = lab.endpoints();
    let Some(warroom::real::balancer::LbConfig::Nginx(cfg)) = ep.balancer.as_mut() else {
        panic!("an nginx balancer from the runbook");
    };
    cfg.reload = vec!["sleep".into(), "30".into()];
    let n = warroom::real::nginx::Nginx::new(cfg.clone(), Duration::from_secs(2))
        .with_write_timeout(Duration::from_millis(500));
    let before = std::fs::read_to_string(lab.include()).expect("include");
    let (r, _) = n.set_share(25, "canary 25%").await;
    let e = r.expect_err("a hung reload fails the step");
    assert!(
        e.contains("reload") && e.contains("did not finish within 500ms"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(lab.include()).expect("include"),
        before
    );
    assert_share(count_pools(&lab.url(), 100, None).await, 0);
}
