//! A LAB, not a product: the small HTTP services that `runbooks/local-lab.yaml` talks to, in
//! one process on free loopback ports, so that `warroom status` and `warroom run` can be tried
//! on a laptop. `scripts/local-lab` starts it next to a throwaway PostgreSQL and Prometheus.
//!
//! ```text
//! cargo run --example lab -- [--port-file FILE]
//! ```
//!
//! It prints (and with `--port-file`, writes) shell `export` lines:
//!
//! - `WARROOM_FLAGS_URL`: the seed's flag API, `GET|POST /internal/feature-flags` with a JSON
//!   object. State is kept in memory; the initial values are the seed plan's.
//! - `WARROOM_LB_URL`: the seed's load balancer, `POST /switch-to-blue`, `/switch-to-green`,
//!   `POST /weights {"green": n}`, `GET /status`.
//! - `WARROOM_BLUE_SERVERS`, `WARROOM_GREEN_SERVERS`: three `GET /health` servers per pool,
//!   always 200.
//! - `WARROOM_LAB_METRICS`: `host:port` of a Prometheus exporter (`GET /metrics`).
//!
//! Nothing here serves real traffic. The exporter's counters are *made up*: a generator adds
//! about 200 requests a second, split between the pools by the load balancer's weights (plus
//! 5 % of "canary cookie" requests that the seed's nginx map always sends to green, so green's
//! metrics exist before it takes traffic), with a small fixed, evenly spread share of 5xx
//! (blue 0.2 %, green 0.1 %), log-normal latencies (green a little faster than blue), and a
//! cache hit ratio of about 78 %. So the metrics move when the pool switches, and nothing else
//! about them means anything. It stops on Ctrl-C or SIGTERM.
//!
//! With `--frontend URL` (a real load balancer in front of the pools, as `scripts/local-lab
//! --lb haproxy|nginx` starts), the pool is no longer drawn from the lab's own weights: every
//! tick sends `REAL_PER_TICK` real `GET`s to URL and each answer is counted as `PER_TICK /
//! REAL_PER_TICK` made-up requests of the pool that really answered. So the balancer's own
//! counters see traffic, and the metrics follow the split it really serves. The canary-cookie
//! share (the testers) goes straight to a green server, not through the balancer: what the
//! balancer serves is its split alone. An answer that fails is not counted.

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Req, Resp, Server};
use tokio::signal::unix::{SignalKind, signal};

/// Histogram bucket bounds, seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5];
/// Made-up requests per generator tick (every 100 ms): about 200 req/s.
const PER_TICK: u32 = 20;
/// Share of requests carrying the canary cookie (always routed to green).
const CANARY_SHARE: f64 = 0.05;
/// Real requests per generator tick through a `--frontend`: 20 a second.
const REAL_PER_TICK: u32 = 2;

#[derive(Clone, Copy, PartialEq)]
enum Pool {
    Blue,
    Green,
}

impl Pool {
    fn name(self) -> &'static str {
        match self {
            Pool::Blue => "blue",
            Pool::Green => "green",
        }
    }
    /// (median latency in seconds, share of 5xx)
    fn profile(self) -> (f64, f64) {
        match self {
            Pool::Blue => (0.018, 0.002),
            Pool::Green => (0.012, 0.001),
        }
    }
}

#[derive(Default)]
struct PoolCounters {
    ok: u64,
    err: u64,
    /// Cumulative counts per `BUCKETS` bound; `count` is the `+Inf` bucket.
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
    /// Errors owed: each request adds the pool's 5xx share, and a whole one fails a request
    /// (evenly spread errors, so a quiet pool's error rate does not jump about).
    err_debt: f64,
}

struct Lb {
    active: Pool,
    /// Green's weight in percent; blue has the rest.
    green: u32,
}

struct Lab {
    flags: Map<String, Value>,
    lb: Lb,
    blue: PoolCounters,
    green: PoolCounters,
    cache_hits: u64,
    cache_requests: u64,
    rng: u64,
}

impl Lab {
    fn new() -> Lab {
        let flags = json!({
            "unified_attributes_enabled": false,
            "unified_attributes_percentage": 0,
            "dual_write_enabled": true,
            "fallback_enabled": true,
        });
        let Value::Object(flags) = flags else {
            unreachable!("a JSON object literal")
        };
        Lab {
            flags,
            lb: Lb {
                active: Pool::Blue,
                green: 0,
            },
            blue: PoolCounters::default(),
            green: PoolCounters::default(),
            cache_hits: 0,
            cache_requests: 0,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// xorshift64*: a uniform number in [0, 1). Good enough for made-up traffic.
    fn uniform(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn lb_status(&self) -> Value {
        json!({
            "active": self.lb.active.name(),
            "weights": {"blue": 100 - self.lb.green, "green": self.lb.green},
        })
    }

    /// One generator tick: `PER_TICK` made-up requests, split by the lab's own weights.
    fn traffic(&mut self) {
        for _ in 0..PER_TICK {
            let canary = self.uniform() < CANARY_SHARE;
            let pool = if canary || self.uniform() * 100.0 < f64::from(self.lb.green) {
                Pool::Green
            } else {
                Pool::Blue
            };
            self.request(pool);
        }
    }

    /// One made-up request served by `pool`.
    fn request(&mut self, pool: Pool) {
        let (median, err_share) = pool.profile();
        // Log-normal latency: median * exp(0.5 * N(0, 1)), N by Box-Muller.
        let (u1, u2) = (self.uniform().max(1e-12), self.uniform());
        let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let latency = median * (0.5 * normal).exp();
        let hit = self.uniform() < 0.78;
        let c = match pool {
            Pool::Blue => &mut self.blue,
            Pool::Green => &mut self.green,
        };
        c.err_debt += err_share;
        if c.err_debt >= 1.0 {
            c.err_debt -= 1.0;
            c.err += 1;
        } else {
            c.ok += 1;
        }
        for (i, le) in BUCKETS.iter().enumerate() {
            if latency <= *le {
                c.buckets[i] += 1;
            }
        }
        c.sum += latency;
        c.count += 1;
        self.cache_requests += 1;
        self.cache_hits += u64::from(hit);
    }

    /// The Prometheus text exposition format.
    fn metrics(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let pools = [(Pool::Blue, &self.blue), (Pool::Green, &self.green)];
        let _ = writeln!(
            s,
            "# HELP http_requests_total Made-up requests (warroom lab)."
        );
        let _ = writeln!(s, "# TYPE http_requests_total counter");
        for (p, c) in pools {
            let p = p.name();
            let _ = writeln!(
                s,
                "http_requests_total{{pool=\"{p}\",code=\"200\"}} {}",
                c.ok
            );
            let _ = writeln!(
                s,
                "http_requests_total{{pool=\"{p}\",code=\"500\"}} {}",
                c.err
            );
        }
        let _ = writeln!(
            s,
            "# HELP http_request_duration_seconds Made-up latencies (warroom lab)."
        );
        let _ = writeln!(s, "# TYPE http_request_duration_seconds histogram");
        for (p, c) in pools {
            let p = p.name();
            for (le, n) in BUCKETS.iter().zip(c.buckets) {
                let _ = writeln!(
                    s,
                    "http_request_duration_seconds_bucket{{pool=\"{p}\",le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                s,
                "http_request_duration_seconds_bucket{{pool=\"{p}\",le=\"+Inf\"}} {}",
                c.count
            );
            let _ = writeln!(
                s,
                "http_request_duration_seconds_sum{{pool=\"{p}\"}} {}",
                c.sum
            );
            let _ = writeln!(
                s,
                "http_request_duration_seconds_count{{pool=\"{p}\"}} {}",
                c.count
            );
        }
        let _ = writeln!(
            s,
            "# HELP cache_hits_total Made-up cache hits (warroom lab)."
        );
        let _ = writeln!(s, "# TYPE cache_hits_total counter");
        let _ = writeln!(s, "cache_hits_total {}", self.cache_hits);
        let _ = writeln!(
            s,
            "# HELP cache_requests_total Made-up cache lookups (warroom lab)."
        );
        let _ = writeln!(s, "# TYPE cache_requests_total counter");
        let _ = writeln!(s, "cache_requests_total {}", self.cache_requests);
        s
    }
}

type Shared = Arc<Mutex<Lab>>;

fn lock(lab: &Shared) -> std::sync::MutexGuard<'_, Lab> {
    // A panicked handler cannot leave the counters half-written in a way that matters here.
    lab.lock().unwrap_or_else(|e| e.into_inner())
}

fn not_found(r: &Req) -> Resp {
    Resp::json(
        404,
        json!({"error": format!("no route {} {}", r.method, r.path)}),
    )
}

fn flags(lab: &Shared, r: Req) -> Resp {
    if r.path != "/internal/feature-flags" {
        return not_found(&r);
    }
    match r.method.as_str() {
        "GET" => Resp::json(200, Value::Object(lock(lab).flags.clone())),
        "POST" => match serde_json::from_slice::<Value>(&r.body) {
            Ok(Value::Object(changes)) => {
                let mut l = lock(lab);
                for (k, v) in changes {
                    println!("lab: flag {k} = {v}");
                    l.flags.insert(k, v);
                }
                Resp::json(200, Value::Object(l.flags.clone()))
            }
            _ => Resp::json(400, json!({"error": "expected a JSON object of flags"})),
        },
        _ => Resp::json(405, json!({"error": "GET or POST"})),
    }
}

fn lb(lab: &Shared, r: Req) -> Resp {
    let mut l = lock(lab);
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/status") => Resp::json(200, l.lb_status()),
        ("POST", "/switch-to-blue") | ("POST", "/switch-to-green") => {
            let to = if r.path.ends_with("green") {
                Pool::Green
            } else {
                Pool::Blue
            };
            l.lb.active = to;
            l.lb.green = if to == Pool::Green { 100 } else { 0 };
            println!("lab: load balancer switched to {}", to.name());
            Resp::json(200, l.lb_status())
        }
        ("POST", "/weights") => match r.json().get("green").and_then(Value::as_u64) {
            Some(g) if g <= 100 => {
                l.lb.green = g as u32;
                println!("lab: load balancer weights green {g}");
                Resp::json(200, l.lb_status())
            }
            _ => Resp::json(
                400,
                json!({"error": "expected {\"green\": n} with n in 0..=100"}),
            ),
        },
        _ => not_found(&r),
    }
}

fn metrics(lab: &Shared, r: Req) -> Resp {
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/metrics") => Resp::text(200, &lock(lab).metrics()),
        _ => not_found(&r),
    }
}

fn health(pool: Pool, r: Req) -> Resp {
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/health") => Resp::json(200, json!({"status": "ok", "pool": pool.name()})),
        _ => not_found(&r),
    }
}

/// One tick through a real load balancer: `REAL_PER_TICK` requests to `url`, each answer
/// counted for the pool that gave it. The testers' requests (`CANARY_SHARE`, which the seed's
/// cookie rule sends to green) go straight to a green server instead, so that green's metrics
/// exist before it takes traffic while what the balancer serves is its split alone.
async fn through(lab: &Shared, client: &reqwest::Client, url: &str, testers: &[String]) {
    let mut urls = Vec::new();
    for _ in 0..REAL_PER_TICK {
        let (tester, pick) = {
            let mut l = lock(lab);
            (l.uniform() < CANARY_SHARE, l.uniform())
        };
        let direct = testers
            .get((pick * testers.len() as f64) as usize)
            .filter(|_| tester);
        urls.push(direct.map_or_else(|| url.to_string(), |t| format!("http://{t}/health")));
    }
    for u in urls {
        let answer = async {
            let body = client
                .get(&u)
                .send()
                .await
                .ok()?
                .json::<Value>()
                .await
                .ok()?;
            match body.get("pool").and_then(Value::as_str) {
                Some("blue") => Some(Pool::Blue),
                Some("green") => Some(Pool::Green),
                _ => None,
            }
        };
        if let Some(pool) = answer.await {
            let mut l = lock(lab);
            for _ in 0..PER_TICK / REAL_PER_TICK {
                l.request(pool);
            }
        }
    }
}

fn usage() -> ! {
    eprintln!("usage: lab [--port-file FILE] [--frontend URL]");
    std::process::exit(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut port_file = None;
    let mut frontend: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port-file" => port_file = Some(args.next().unwrap_or_else(|| usage())),
            "--frontend" => frontend = Some(args.next().unwrap_or_else(|| usage())),
            _ => usage(),
        }
    }

    // Before anything is served, so that a signal sent as soon as the ports are known is
    // handled.
    let (mut int, mut term) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("lab: cannot listen for signals: {e}");
            std::process::exit(1);
        }
    };

    let lab: Shared = Arc::new(Mutex::new(Lab::new()));
    let l = lab.clone();
    let flag_srv = Server::start(move |r| flags(&l, r)).await;
    let l = lab.clone();
    let lb_srv = Server::start(move |r| lb(&l, r)).await;
    let l = lab.clone();
    let metrics_srv = Server::start(move |r| metrics(&l, r)).await;
    let mut blue = Vec::new();
    let mut green = Vec::new();
    for _ in 0..3 {
        blue.push(Server::start(|r| health(Pool::Blue, r)).await);
        green.push(Server::start(|r| health(Pool::Green, r)).await);
    }
    let list = |servers: &[Server]| {
        servers
            .iter()
            .map(Server::host_port)
            .collect::<Vec<_>>()
            .join(",")
    };
    let exports = format!(
        "export WARROOM_FLAGS_URL={}\nexport WARROOM_LB_URL={}\nexport WARROOM_BLUE_SERVERS={}\nexport WARROOM_GREEN_SERVERS={}\nexport WARROOM_LAB_METRICS={}\n",
        flag_srv.url(),
        lb_srv.url(),
        list(&blue),
        list(&green),
        metrics_srv.host_port(),
    );
    print!("{exports}");
    if let Some(f) = &port_file {
        // Written whole, then renamed, so a reader never sees half of it.
        let tmp = format!("{f}.tmp");
        if let Err(e) = std::fs::write(&tmp, &exports).and_then(|()| std::fs::rename(&tmp, f)) {
            eprintln!("lab: cannot write {f}: {e}");
            std::process::exit(1);
        }
    }
    println!("lab: serving on 127.0.0.1; Ctrl-C stops it");

    let gen_lab = lab.clone();
    let testers: Vec<String> = green.iter().map(Server::host_port).collect();
    let client = frontend.as_ref().map(|_| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap_or_else(|e| {
                eprintln!("lab: cannot build an HTTP client: {e}");
                std::process::exit(1)
            })
    });
    let generator = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            match (&frontend, &client) {
                (Some(url), Some(client)) => through(&gen_lab, client, url, &testers).await,
                _ => lock(&gen_lab).traffic(),
            }
        }
    });

    tokio::select! {
        _ = int.recv() => {},
        _ = term.recv() => {},
    }
    generator.abort();
    if let Some(f) = &port_file {
        let _ = std::fs::remove_file(f);
    }
    // Dropping the servers stops them.
    drop((flag_srv, lb_srv, metrics_srv, blue, green));
    println!("lab: stopped");
}
