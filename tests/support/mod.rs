//! Loopback servers for the real-adapter tests: a tiny HTTP/1.1 server (one request per
//! connection, `Connection: close`) whose answers a closure decides, with delays for "slow",
//! plus helpers for a port nobody listens on and for optional system binaries.
#![allow(dead_code)]

pub mod pg;
pub mod unleash;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Resp {
    pub fn json(status: u16, v: serde_json::Value) -> Resp {
        Resp {
            status,
            content_type: "application/json",
            body: v.to_string().into_bytes(),
            delay: Duration::ZERO,
        }
    }
    pub fn text(status: u16, s: &str) -> Resp {
        Resp {
            status,
            content_type: "text/plain; version=0.0.4",
            body: s.as_bytes().to_vec(),
            delay: Duration::ZERO,
        }
    }
    /// A 200 whose body is not JSON at all.
    pub fn malformed() -> Resp {
        Resp {
            status: 200,
            content_type: "application/json",
            body: b"{\"oops\": [1, 2".to_vec(),
            delay: Duration::ZERO,
        }
    }
    pub fn after(mut self, d: Duration) -> Resp {
        self.delay = d;
        self
    }
}

type Handler = Arc<dyn Fn(Req) -> Resp + Send + Sync>;

/// Requests being answered at once, across the servers that share it: shows that a client
/// sent its requests concurrently, without timing anything.
#[derive(Debug, Default)]
pub struct Gauge {
    now: std::sync::atomic::AtomicUsize,
    max: std::sync::atomic::AtomicUsize,
}

impl Gauge {
    pub fn max(&self) -> usize {
        self.max.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn enter(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        let n = self.now.fetch_add(1, SeqCst) + 1;
        self.max.fetch_max(n, SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A server on 127.0.0.1 with a free port; stopped when dropped.
pub struct Server {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub async fn start(handler: impl Fn(Req) -> Resp + Send + Sync + 'static) -> Server {
        Server::start_gauged(handler, Arc::new(Gauge::default())).await
    }

    /// A server whose requests in flight count on `gauge`.
    pub async fn start_gauged(
        handler: impl Fn(Req) -> Resp + Send + Sync + 'static,
        gauge: Arc<Gauge>,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local addr");
        let handler: Handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let h = handler.clone();
                let g = gauge.clone();
                conns.spawn(async move {
                    let _ = serve(sock, h, &g).await;
                });
                while conns.try_join_next().is_some() {}
            }
        });
        Server { addr, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `host:port`, as a pool server entry.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }
}

async fn serve(mut sock: TcpStream, h: Handler, gauge: &Gauge) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 1 << 20 {
            return Ok(());
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.clone(), String::new()),
    };
    let resp = h(Req {
        method,
        path,
        query,
        headers,
        body,
    });
    gauge.enter();
    if !resp.delay.is_zero() {
        tokio::time::sleep(resp.delay).await;
    }
    gauge.leave();
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        resp.status,
        reason(resp.status),
        resp.content_type,
        resp.body.len()
    );
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(&resp.body).await?;
    sock.flush().await?;
    let _ = sock.shutdown().await;
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        404 => "Not Found",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A loopback URL where nothing listens (a port bound and released).
pub async fn dead_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}")
}

/// A free loopback port (bound and released; the caller binds it soon after).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The first existing file of `candidates` (glob-free; `*` in a directory part is expanded
/// one level).
pub fn find_binary(candidates: &[&str]) -> Option<PathBuf> {
    for c in candidates {
        if let Some((dir, rest)) = c.split_once('*') {
            // e.g. /usr/lib/postgresql/*/bin/initdb
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join(rest.trim_start_matches('/')))
                .filter(|p| p.is_file())
                .collect();
            found.sort();
            if let Some(p) = found.pop() {
                return Some(p);
            }
        } else if Path::new(c).is_file() {
            return Some(PathBuf::from(c));
        }
    }
    None
}

/// A system program a real-system test needs (PostgreSQL, Prometheus, tmux, sqlite3), as
/// found. Without it the test is skipped (it says so), unless `WARROOM_REQUIRE_REAL=1` is set
/// (as `.ci/run` does): then a missing program fails the test instead of skipping it silently.
#[track_caller]
pub fn require<T>(what: &str, found: Option<T>) -> Option<T> {
    if found.is_some() {
        return found;
    }
    if std::env::var("WARROOM_REQUIRE_REAL").is_ok_and(|v| v == "1") {
        panic!("WARROOM_REQUIRE_REAL=1, but {what} is not installed: this test cannot run");
    }
    println!("SKIP: {what} not installed; the test that needs it is skipped");
    None
}

/// A program on the PATH, by name.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Whether this process runs as root (tests then run servers as another user).
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Six loopback backends, three per pool, each answering its pool's name (`blue` or
/// `green`) to every request. Stopped when dropped.
pub struct Pools {
    pub blue: Vec<Server>,
    pub green: Vec<Server>,
}

impl Pools {
    pub async fn start() -> Pools {
        let mut blue = Vec::new();
        let mut green = Vec::new();
        for _ in 0..3 {
            blue.push(Server::start(|_| Resp::text(200, "blue")).await);
            green.push(Server::start(|_| Resp::text(200, "green")).await);
        }
        Pools { blue, green }
    }

    /// The pools' servers as `WARROOM_BLUE_SERVERS` and `WARROOM_GREEN_SERVERS` give them:
    /// comma-separated `host:port`.
    pub fn lists(&self) -> (String, String) {
        let list = |l: &[Server]| {
            l.iter()
                .map(Server::host_port)
                .collect::<Vec<_>>()
                .join(",")
        };
        (list(&self.blue), list(&self.green))
    }
}

/// Send `n` requests to `url` (a few at a time, each on a new connection, optionally with a
/// `canary` cookie) and count which pool answered: `(blue, green, other)`.
pub async fn count_pools(url: &str, n: usize, cookie: Option<&str>) -> (usize, usize, usize) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let (mut blue, mut green, mut other) = (0, 0, 0);
    let mut left = n;
    while left > 0 {
        let batch = left.min(8);
        left -= batch;
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..batch {
            let mut req = client.get(url);
            if let Some(c) = cookie {
                req = req.header("Cookie", format!("canary={c}"));
            }
            set.spawn(async move {
                match req.send().await {
                    Ok(r) => r.text().await.unwrap_or_default(),
                    Err(e) => format!("error: {e}"),
                }
            });
        }
        while let Some(r) = set.join_next().await {
            match r.as_deref().map(str::trim) {
                Ok("blue") => blue += 1,
                Ok("green") => green += 1,
                _ => other += 1,
            }
        }
    }
    (blue, green, other)
}

/// Assert that `green` of `n` answers is what a share of `percent` gives, within 4.5 sigma of
/// the binomial (exactly all or none at 100 % and 0 %).
#[track_caller]
pub fn assert_share(counts: (usize, usize, usize), percent: u32) {
    let (blue, green, other) = counts;
    let n = (blue + green + other) as f64;
    assert_eq!(other, 0, "every request answered by a pool: {counts:?}");
    let p = f64::from(percent) / 100.0;
    let expected = n * p;
    let sigma = (n * p * (1.0 - p)).sqrt();
    let tolerance = 4.5 * sigma;
    assert!(
        (green as f64 - expected).abs() <= tolerance,
        "green answered {green} of {n} requests; at {percent}% expected {expected:.0} ± {tolerance:.1}: {counts:?}"
    );
}

/// Run one step through the executor; its (ok, output).
pub async fn step(
    tx: &tokio::sync::mpsc::Sender<warroom::adapters::Job>,
    rx: &mut tokio::sync::mpsc::Receiver<warroom::adapters::Report>,
    id: u64,
    kind: warroom::runbook::StepKind,
) -> (bool, String) {
    tx.send(warroom::adapters::Job::Run {
        id,
        steps: vec![warroom::engine::PlannedStep {
            name: "step".into(),
            kind,
        }],
    })
    .await
    .expect("send");
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(r) = rx.recv().await {
            if let warroom::adapters::Report::StepFinished {
                id: i, ok, output, ..
            } = r
                && i == id
            {
                return (ok, output);
            }
        }
        (false, "executor gone".into())
    })
    .await
    .expect("the step finished")
}
