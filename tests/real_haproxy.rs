//! The `haproxy` load balancer kind against a real HAProxy (Debian's package), started here on
//! a free loopback port with six loopback backends, driven through runbooks/local-lab-haproxy.yaml
//! and the executor, and measured by sending requests through it.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{Pools, assert_share, count_pools, find_binary, free_port, require, step};
use warroom::adapters::Report;
use warroom::engine::{Observation, SourceId};
use warroom::real::{Endpoints, Source, balancer::Balancer};
use warroom::runbook::{AdminState, PoolName, ServerState, StepKind};

const REQUESTS: usize = 400;

struct Lab {
    dir: tempfile::TempDir,
    port: u16,
    pools: Pools,
    child: Option<tokio::process::Child>,
    haproxy: PathBuf,
}

impl Lab {
    fn socket(&self) -> PathBuf {
        self.dir.path().join("admin.sock")
    }
    fn map(&self) -> PathBuf {
        self.dir.path().join("canary.map")
    }
    fn state_file(&self) -> PathBuf {
        self.dir.path().join("servers.state")
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    async fn start() -> Option<Lab> {
        let haproxy = require(
            "haproxy",
            find_binary(&["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]),
        )?;
        let dir = tempfile::tempdir().expect("tempdir");
        let pools = Pools::start().await;
        let mut lab = Lab {
            dir,
            port: free_port(),
            pools,
            child: None,
            haproxy,
        };
        std::fs::write(lab.map(), "canary 0\n").expect("map file");
        let servers = |name: &str, list: &[support::Server]| -> String {
            list.iter()
                .enumerate()
                .map(|(i, s)| {
                    format!(
                        "    server {name}{i} {} check inter 100ms fall 1 rise 1\n",
                        s.host_port()
                    )
                })
                .collect()
        };
        let cfg = format!(
            "global\n    stats socket {sock} mode 600 level admin\n    server-state-file {state}\n\
             defaults\n    mode http\n    load-server-state-from-file global\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\
             frontend web\n    bind 127.0.0.1:{port}\n\
             \x20   acl cookie_green req.cook(canary) -m str green\n\
             \x20   acl cookie_blue req.cook(canary) -m str blue\n\
             \x20   http-request set-var(txn.green_share) str(canary),map_str_int({map},0)\n\
             \x20   acl to_green rand(100),sub(txn.green_share) lt 0\n\
             \x20   use_backend green if cookie_green\n\
             \x20   use_backend blue if cookie_blue\n\
             \x20   use_backend green if to_green\n\
             \x20   default_backend blue\n\
             backend blue\n    option httpchk GET /health\n{blue}\
             backend green\n    option httpchk GET /health\n{green}",
            sock = lab.socket().display(),
            state = lab.state_file().display(),
            port = lab.port,
            map = lab.map().display(),
            blue = servers("b", &lab.pools.blue),
            green = servers("g", &lab.pools.green),
        );
        std::fs::write(lab.dir.path().join("haproxy.cfg"), cfg).expect("config");
        lab.spawn().await;
        Some(lab)
    }

    /// Start (or restart) HAProxy and wait until its socket answers and every server is up.
    async fn spawn(&mut self) {
        self.spawn_until(|s| s.healthy).await;
    }

    /// Start (or restart) HAProxy and wait until its socket answers and every server is as
    /// `ready` wants it.
    async fn spawn_until(&mut self, ready: impl Fn(&warroom::engine::ServerObs) -> bool) {
        let _ = std::fs::remove_file(self.socket());
        let child = tokio::process::Command::new(&self.haproxy)
            .arg("-db")
            .arg("-f")
            .arg(self.dir.path().join("haproxy.cfg"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start haproxy");
        self.child = Some(child);
        let b = self.balancer();
        let last = std::sync::Mutex::new(None);
        let up = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let o = b.read().await;
                *last.lock().unwrap_or_else(|p| p.into_inner()) = Some(o.clone());
                if let Some(p) = &o.pools
                    && o.errors.is_empty()
                    && p.blue.len() == 3
                    && p.green.len() == 3
                    && p.blue.iter().chain(&p.green).all(&ready)
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        assert!(
            up.is_ok(),
            "HAProxy up with its six servers as wanted; last read: {:?}",
            last.lock().unwrap_or_else(|p| p.into_inner())
        );
    }

    async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
    }

    fn endpoints(&self) -> Endpoints {
        let rb = runbook();
        let (sock, map) = (self.socket(), self.map());
        let lookup = move |k: &str| match k {
            "WARROOM_HAPROXY_SOCKET" => Some(sock.display().to_string()),
            "WARROOM_HAPROXY_MAP" => Some(map.display().to_string()),
            _ => None,
        };
        Endpoints::resolve(&rb, &lookup)
    }

    fn balancer(&self) -> Balancer {
        let mut ep = self.endpoints();
        // Server states are saved where this HAProxy loads them from at start.
        if let Some(warroom::real::balancer::LbConfig::Haproxy(c)) = ep.balancer.as_mut() {
            c.state_file = Some(self.state_file());
        }
        Balancer::new(None, ep.balancer.as_ref(), Duration::from_secs(3))
            .expect("a haproxy balancer")
            .expect("built")
    }
}

fn runbook() -> warroom::runbook::Runbook {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/local-lab-haproxy.yaml");
    let mut rb = warroom::runbook::load(&path)
        .expect("the HAProxy lab runbook loads")
        .runbook;
    rb.monitoring.interval = Duration::from_millis(300);
    rb
}

fn map_file(lab: &Lab) -> String {
    std::fs::read_to_string(lab.map()).expect("map file")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_canary_switch_and_rollback_are_measured_through_the_balancer() {
    let Some(mut lab) = Lab::start().await else {
        return;
    };
    let rb = runbook();
    let ((job_tx, job_rx), (rep_tx, mut rep_rx)) = warroom::adapters::channels();
    let (_clock, tasks) = warroom::real::spawn_with(&rb, lab.endpoints(), job_rx, rep_tx);

    assert_share(count_pools(&lab.url(), 100, None).await, 0);
    let mut id = 0;
    for percent in [10, 25, 100] {
        id += 1;
        let (ok, out) = step(
            &job_tx,
            &mut rep_rx,
            id,
            StepKind::SetWeights { green: percent },
        )
        .await;
        assert!(ok, "canary {percent}%: {out}");
        assert!(out.contains(&format!("read back {percent}")), "{out}");
        assert_eq!(
            map_file(&lab),
            format!("canary {percent}\n"),
            "saved to disk"
        );
        assert_share(count_pools(&lab.url(), REQUESTS, None).await, percent);
        // What HAProxy counted since the change is the split as served, beside the share.
        let o = observe(&mut rep_rx, |o| {
            o.pools
                .as_ref()
                .and_then(|p| p.served)
                .is_some_and(|s| s.blue + s.green >= REQUESTS as u64)
        })
        .await;
        let served = o.pools.and_then(|p| p.served).expect("served");
        assert_eq!(served.blue + served.green, REQUESTS as u64, "{served:?}");
        assert_share((served.blue as usize, served.green as usize, 0), percent);
    }
    // The cookie overrides the share.
    let (blue, green, _) = count_pools(&lab.url(), 20, Some("blue")).await;
    assert_eq!((blue, green), (20, 0), "canary=blue cookie pins blue");

    // A rollback: all traffic back on blue, then a switch to green and back.
    id += 1;
    let (ok, out) = step(
        &job_tx,
        &mut rep_rx,
        id,
        StepKind::SwitchPool(PoolName::Blue),
    )
    .await;
    assert!(ok, "{out}");
    assert_share(count_pools(&lab.url(), REQUESTS, None).await, 0);
    id += 1;
    let (ok, out) = step(
        &job_tx,
        &mut rep_rx,
        id,
        StepKind::SwitchPool(PoolName::Green),
    )
    .await;
    assert!(ok, "{out}");
    assert_share(count_pools(&lab.url(), REQUESTS, None).await, 100);
    id += 1;
    let (ok, out) = step(&job_tx, &mut rep_rx, id, StepKind::SetWeights { green: 25 }).await;
    assert!(ok, "{out}");
    // The step after traffic went through reports the split HAProxy's counters measured.
    let _ = count_pools(&lab.url(), 200, None).await;
    id += 1;
    let (ok, out) = step(&job_tx, &mut rep_rx, id, StepKind::SetWeights { green: 25 }).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("traffic since the last change: blue"),
        "measured split: {out}"
    );

    // A restart comes back with the share saved to the map file, and is reported.
    lab.stop().await;
    lab.spawn().await;
    assert_share(count_pools(&lab.url(), REQUESTS, None).await, 25);
    let restarted = observe(&mut rep_rx, |o| {
        o.errors
            .iter()
            .any(|e| e.message.contains("HAProxy restarted"))
    })
    .await;
    assert!(
        restarted
            .errors
            .iter()
            .any(|e| e.message.contains("came back with green at 25%")),
        "{restarted:?}"
    );
    for t in tasks {
        t.abort();
    }
    lab.stop().await;
}

/// The next `lb` observation that `pred` accepts, within 15 s.
async fn observe(
    rx: &mut tokio::sync::mpsc::Receiver<Report>,
    pred: impl Fn(&Observation) -> bool,
) -> Observation {
    tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(r) = rx.recv().await {
            if let Report::Observed { observation, .. } = r
                && observation.source == SourceId::Lb.into()
                && pred(&observation)
            {
                return Some(observation);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("an lb observation in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_a_server_taken_down_is_seen_down() {
    let Some(mut lab) = Lab::start().await else {
        return;
    };
    let b = lab.balancer();
    let o = b.read().await;
    let pools = o.pools.expect("pools");
    assert_eq!(pools.green_share, Some(0));
    assert_eq!(pools.active, Some(PoolName::Blue));
    // Stop one green backend: its health check fails and HAProxy marks it down.
    let gone = lab.pools.green.remove(1);
    let addr = gone.host_port();
    drop(gone);
    let down = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let o = b.read().await;
            if let Some(p) = o.pools
                && let Some(s) = p
                    .green
                    .iter()
                    .find(|s| s.address.contains(&addr) && !s.healthy)
            {
                return s.clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the stopped server is seen down");
    assert!(
        down.error.as_deref().is_some_and(|e| e.contains("down")),
        "{down:?}"
    );
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_socket_gone_fails_the_step_and_changes_nothing() {
    let Some(mut lab) = Lab::start().await else {
        return;
    };
    let b = lab.balancer();
    let (r, _) = b.set_weights(10).await.expect("sent");
    assert!(r.is_ok(), "{r:?}");
    lab.stop().await;
    let (r, obs) = b.set_weights(25).await.expect("an outcome");
    let e = r.expect_err("no HAProxy: the step fails");
    assert!(
        e.contains("nothing changed") && e.contains("cannot connect"),
        "{e}"
    );
    assert!(obs.is_none());
    assert_eq!(
        map_file(&lab),
        "canary 10\n",
        "the saved share is untouched"
    );
    let o = b.read().await;
    assert!(o.pools.is_none() && !o.errors.is_empty(), "{o:?}");
}

/// A socket that accepts and never answers (a hung HAProxy): the step times out with a clear
/// message instead of waiting, and nothing is written to the map file.
#[tokio::test]
async fn haproxy_hung_socket_times_out_the_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("hung.sock");
    let map = dir.path().join("canary.map");
    std::fs::write(&map, "canary 10\n").expect("map");
    let listener = tokio::net::UnixListener::bind(&sock).expect("bind");
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let b = warroom::real::haproxy::Haproxy::new(
        warroom::real::haproxy::Config {
            socket: sock,
            map: map.display().to_string(),
            map_key: "canary".into(),
            blue_backend: "blue".into(),
            green_backend: "green".into(),
            state_file: None,
        },
        Duration::from_millis(300),
    )
    .with_write_timeout(Duration::from_millis(300));
    let (r, obs) = b.set_share(25, "canary 25%").await;
    let e = r.expect_err("a hung socket fails the step");
    assert!(
        e.contains("no answer within 300ms") && e.contains("nothing changed"),
        "{e}"
    );
    assert!(obs.is_none());
    assert_eq!(std::fs::read_to_string(&map).expect("map"), "canary 10\n");
    let o = b.read().await;
    assert!(
        o.errors
            .iter()
            .any(|e| e.message.contains("no answer within")),
        "{o:?}"
    );
    hold.abort();
}

/// `warroom status` reports the pools as HAProxy sees them: green's share from the map, each
/// server, and what each backend really served (its session counter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_status_reports_the_share_and_the_split_as_served() {
    let Some(mut lab) = Lab::start().await else {
        return;
    };
    let (r, _) = lab.balancer().set_weights(25).await.expect("sent");
    assert!(r.is_ok(), "{r:?}");
    let counts = count_pools(&lab.url(), REQUESTS, None).await;
    assert_share(counts, 25);
    let rb = runbook();
    let report = warroom::status::collect_with(
        &rb,
        warroom::engine::State::new(&rb),
        &lab.endpoints(),
        Duration::from_secs(3),
    )
    .await;
    let json = warroom::status::to_json(&report);
    let pools = &json["pools"];
    assert_eq!(pools["green"]["weight"], 25, "{json}");
    assert_eq!(pools["blue"]["weight"], 75, "{json}");
    // The health checks use their own connections, not the frontend's: the counters are
    // exactly the requests sent through the balancer.
    assert_eq!(
        pools["blue"]["served_since_start"], counts.0 as u64,
        "{json}"
    );
    assert_eq!(
        pools["green"]["served_since_start"], counts.1 as u64,
        "{json}"
    );
    assert_eq!(
        pools["green"]["servers"].as_array().map(Vec::len),
        Some(3),
        "{json}"
    );
    assert!(
        warroom::status::to_text(&report).contains("since the load balancer started"),
        "{}",
        warroom::status::to_text(&report)
    );
    lab.stop().await;
}

/// A map without the key yet: the first change adds it (`add map`), saved and read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_a_missing_map_key_is_added() {
    let Some(mut lab) = Lab::start().await else {
        return;
    };
    let warroom::real::balancer::Balancer::Haproxy(h) = lab.balancer() else {
        panic!("a haproxy balancer");
    };
    let map = lab.map().display().to_string();
    let out = h
        .command(&format!("del map {map} canary"))
        .await
        .expect("del");
    assert!(out.trim().is_empty(), "{out}");
    std::fs::write(lab.map(), "").expect("empty map file");
    let (r, _) = h.set_share(10, "canary 10%").await;
    assert!(
        r.as_ref().is_ok_and(|o| o.contains("read back 10")),
        "{r:?}"
    );
    assert_eq!(map_file(&lab), "canary 10\n");
    assert_share(count_pools(&lab.url(), REQUESTS, None).await, 10);
    lab.stop().await;
}

/// A server drained, then put in maintenance, as steps: each read back from `show stat`, shown
/// per server, saved to the state file so that a restarted HAProxy keeps it; then back in
/// service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_drains_and_maintains_a_server_and_a_restart_keeps_it() {
    let Some(mut lab) = Lab::start().await else {
        return;
    };
    let b = lab.balancer();
    let state = |server: &str, s: AdminState| ServerState {
        server: server.into(),
        state: s,
    };
    let blue0 = |o: &Observation| -> warroom::engine::ServerObs {
        o.pools
            .as_ref()
            .and_then(|p| p.blue.iter().find(|s| s.address.starts_with("blue/b0 ")))
            .cloned()
            .expect("blue/b0 listed")
    };

    let (r, obs) = b
        .server_state(&state("blue/b0", AdminState::Drain))
        .await
        .expect("sent");
    assert!(r.as_ref().is_ok_and(|o| o.contains("reads DRAIN")), "{r:?}");
    let s = blue0(&obs.expect("read back"));
    assert!(
        !s.healthy
            && s.error
                .as_deref()
                .is_some_and(|e| e.starts_with("drain (L7")),
        "drain, with its check status: {s:?}"
    );

    let (r, _) = b
        .server_state(&state("blue/b0", AdminState::Maint))
        .await
        .expect("sent");
    assert!(r.as_ref().is_ok_and(|o| o.contains("reads MAINT")), "{r:?}");
    let saved = std::fs::read_to_string(lab.state_file()).expect("states saved");
    assert!(saved.contains(" b0 "), "{saved}");
    // All the traffic still goes to blue, through its two other servers.
    assert_share(count_pools(&lab.url(), 40, None).await, 0);

    // A restart loads the saved states: b0 is still in maintenance.
    lab.stop().await;
    lab.spawn_until(|s| s.healthy || s.address.starts_with("blue/b0 "))
        .await;
    let s = blue0(&b.read().await);
    assert_eq!(
        s.error.as_deref(),
        Some("maint"),
        "kept across the restart: {s:?}"
    );

    // Back in service.
    let (r, obs) = b
        .server_state(&state("blue/b0", AdminState::Ready))
        .await
        .expect("sent");
    assert!(r.is_ok(), "{r:?}");
    let s = blue0(&obs.expect("read back"));
    assert!(
        !s.error.as_deref().is_some_and(|e| e.starts_with("maint")),
        "back in service: {s:?}"
    );

    // A server that is not there, and a name that is not BACKEND/SERVER: refused, said.
    let (r, _) = b
        .server_state(&state("blue/nope", AdminState::Drain))
        .await
        .expect("sent");
    assert!(r.is_err_and(|e| e.contains("refused") || e.contains("No such server")));
    let (r, _) = b
        .server_state(&state("b0", AdminState::Drain))
        .await
        .expect("sent");
    assert!(r.is_err_and(|e| e.contains("BACKEND/SERVER")));
    lab.stop().await;
}

/// The lab's real trio (runbooks/local-lab-real.yaml: Unleash and HAProxy): the feature on and
/// the canary at 25 %, then the runbook's instant rollback as written. All traffic is back on
/// blue, the rollout flag is back to 0 % in Unleash, and `warroom status` says both as the
/// servers see them: no rollout of 25 % beside a pool that takes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_instant_rollback_puts_the_traffic_and_the_rollout_flag_back() {
    let Some(mut lab) = Lab::start().await else {
        return;
    };
    let Some(unleash) = support::unleash::Unleash::start().await else {
        return;
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/local-lab-real.yaml");
    let mut rb = warroom::runbook::load(&path)
        .expect("the real lab runbook loads")
        .runbook;
    rb.monitoring.interval = Duration::from_millis(300);
    let (sock, map, url, token) = (
        lab.socket().display().to_string(),
        lab.map().display().to_string(),
        unleash.url.clone(),
        unleash.token.clone(),
    );
    let (blue, green) = lab.pools.lists();
    let ep = Endpoints::resolve(&rb, &move |k: &str| match k {
        "WARROOM_HAPROXY_SOCKET" => Some(sock.clone()),
        "WARROOM_HAPROXY_MAP" => Some(map.clone()),
        "WARROOM_UNLEASH_URL" => Some(url.clone()),
        "WARROOM_UNLEASH_TOKEN" => Some(token.clone()),
        "WARROOM_BLUE_SERVERS" => Some(blue.clone()),
        "WARROOM_GREEN_SERVERS" => Some(green.clone()),
        _ => None,
    });
    let ((job_tx, job_rx), (rep_tx, mut rep_rx)) = warroom::adapters::channels();
    let (_clock, tasks) = warroom::real::spawn_with(&rb, ep.clone(), job_rx, rep_tx);
    let flag = |flag: &str, value: serde_json::Value| {
        StepKind::SetFlag(warroom::runbook::SetFlag {
            flag: flag.into(),
            value,
        })
    };
    // The feature on, then the canary at 25 %: the flag and the balancer's share.
    for (id, kind) in [
        flag("unified_attributes_enabled", serde_json::json!(true)),
        flag("unified_attributes_percentage", serde_json::json!(25)),
        StepKind::SetWeights { green: 25 },
    ]
    .into_iter()
    .enumerate()
    {
        let (ok, out) = step(&job_tx, &mut rep_rx, id as u64 + 1, kind).await;
        assert!(ok, "{out}");
    }
    assert_share(count_pools(&lab.url(), REQUESTS, None).await, 25);

    // The instant rollback, as the runbook writes it, in one job as the session sends it.
    let instant = rb.procedure("instant").expect("an instant rollback");
    let steps: Vec<warroom::engine::PlannedStep> = instant
        .steps
        .iter()
        .map(|s| warroom::engine::PlannedStep {
            name: s.name.value.clone(),
            kind: s.kind(),
        })
        .collect();
    let n = steps.len();
    job_tx
        .send(warroom::adapters::Job::Run { id: 10, steps })
        .await
        .expect("send");
    let mut finished = Vec::new();
    while finished.len() < n {
        match tokio::time::timeout(Duration::from_secs(30), rep_rx.recv()).await {
            Ok(Some(Report::StepFinished {
                id: 10, ok, output, ..
            })) => {
                assert!(ok, "rollback step {}: {output}", finished.len() + 1);
                finished.push(output);
            }
            Ok(Some(_)) => {}
            other => panic!("the rollback did not finish: {other:?} after {finished:?}"),
        }
    }
    assert_share(count_pools(&lab.url(), REQUESTS, None).await, 0);

    let report = warroom::status::collect_with(
        &rb,
        warroom::engine::State::new(&rb),
        &ep,
        Duration::from_secs(3),
    )
    .await;
    let j = warroom::status::to_json(&report);
    assert_eq!(j["rollout_percent"], 0, "{j:#}");
    assert_eq!(j["flags"]["unified_attributes_percentage"], 0, "{j:#}");
    assert_eq!(
        j["flag_server"]["unified_attributes_percentage"]["rollout"], 0,
        "{j:#}"
    );
    assert_eq!(j["pools"]["green"]["weight"], 0, "{j:#}");
    assert_eq!(j["pools"]["blue"]["weight"], 100, "{j:#}");
    assert_eq!(j["pools"]["blue"]["active"], true, "{j:#}");
    for t in tasks {
        t.abort();
    }
    lab.stop().await;
}
