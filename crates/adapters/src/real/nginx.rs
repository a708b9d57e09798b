//! nginx, as the seed plan runs it: the split between the upstreams `backend_blue` and
//! `backend_green` lives in ONE included file that warroom owns (`split_clients` for the
//! percentage, `map $cookie_canary` for the cookie override, and an `X-Config-Version` header
//! naming the file's version). A change rewrites the file atomically, runs the test command
//! (`nginx -t`) BEFORE the reload — a refused configuration fails the step with nginx's message
//! and the old file is put back, so the old configuration keeps serving — then the reload
//! command, then waits (bounded) until responses carry the new version: old workers drain.
//! The file also adds an `X-Green-Share` header: the split is read from what nginx answers,
//! so what is shown is the configuration serving, and a refused one leaves the old share.
//!
//! The included file's text is in `nginx/include.rs`.

mod include;

pub use include::{SHARE_HEADER, Split, VERSION_HEADER, diff, parse, render};

use super::files::write_atomic;
use super::http::{http_client, http_error, server_text};
use super::{Source, fmt_secs};
use crate::engine::SourceId;
use crate::engine::{Observation, PoolsObs, SourceError};
use crate::runbook::PoolName;
use std::path::PathBuf;
use std::time::Duration;

/// What a response says of the configuration that answered it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Served {
    version: Option<u64>,
    green: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The included file warroom owns.
    pub include: PathBuf,
    /// The main configuration (for the default test and reload commands).
    pub config: PathBuf,
    pub reload: Vec<String>,
    pub test: Vec<String>,
    /// A URL whose `X-Config-Version` header names the configuration serving it.
    pub version_url: Option<String>,
}

#[derive(Clone)]
pub struct Nginx {
    cfg: Config,
    timeout: Duration,
    /// How long the test, the reload and the wait for the new version may each take.
    write_timeout: Duration,
    client: Option<reqwest::Client>,
}

impl std::fmt::Debug for Nginx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nginx").field("cfg", &self.cfg).finish()
    }
}

/// Server text, safe for the screen and the log (nginx's messages are longer).
fn safe(s: &str) -> String {
    server_text(s, 600)
}

impl Nginx {
    pub fn new(cfg: Config, timeout: Duration) -> Self {
        let client = cfg
            .version_url
            .as_ref()
            .and_then(|_| http_client(timeout).ok());
        Nginx {
            cfg,
            timeout,
            write_timeout: super::WRITE_TIMEOUT,
            client,
        }
    }

    /// Bound the test, the reload and the wait for the new version by `t` (default 10 s).
    pub fn with_write_timeout(mut self, t: Duration) -> Self {
        self.write_timeout = t;
        self
    }

    fn include(&self) -> String {
        self.cfg.include.display().to_string()
    }

    async fn current(&self) -> Result<Option<String>, String> {
        match tokio::fs::read_to_string(&self.cfg.include).await {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("nginx: cannot read {}: {e}", self.include())),
        }
    }

    /// Run one of the runbook's commands, bounded; its error is nginx's own message.
    async fn run(&self, argv: &[String], what: &str) -> Result<(), String> {
        let Some((prog, args)) = argv.split_first() else {
            return Err(format!("nginx: no {what} command"));
        };
        let mut cmd = tokio::process::Command::new(prog);
        cmd.args(args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        match tokio::time::timeout(self.write_timeout, cmd.output()).await {
            Err(_) => Err(format!(
                "nginx: {what} (`{}`) did not finish within {}",
                safe(&argv.join(" ")),
                fmt_secs(self.write_timeout)
            )),
            Ok(Err(e)) => Err(format!("nginx: cannot run {what} `{}`: {e}", safe(prog))),
            Ok(Ok(o)) if o.status.success() => Ok(()),
            Ok(Ok(o)) => {
                let err = String::from_utf8_lossy(&o.stderr);
                let out = String::from_utf8_lossy(&o.stdout);
                let lines: Vec<&str> = err
                    .lines()
                    .chain(out.lines())
                    .filter(|l| !l.trim().is_empty())
                    .collect();
                Err(format!(
                    "nginx: {what} failed ({}): {}",
                    o.status,
                    safe(&lines.join(" | "))
                ))
            }
        }
    }

    /// Put the old file back (or remove the new one when there was none).
    async fn restore(&self, old: &Option<String>) -> String {
        let r = match old {
            Some(text) => write_atomic(&self.cfg.include, text.as_bytes()).await,
            None => tokio::fs::remove_file(&self.cfg.include)
                .await
                .map_err(|e| e.to_string()),
        };
        match r {
            Ok(()) => "the old file is back; the old configuration keeps serving".into(),
            Err(e) => format!("and the old file could not be put back: {}", safe(&e)),
        }
    }

    /// What the configuration answering now says of itself: its version and green's share,
    /// from the headers the included file adds (`None` without a `version_url`).
    async fn serving(&self) -> Result<Option<Served>, String> {
        let (Some(url), Some(client)) = (&self.cfg.version_url, &self.client) else {
            return Ok(None);
        };
        let resp = client
            .get(url)
            .header(reqwest::header::CONNECTION, "close")
            .send()
            .await
            .map_err(|e| format!("nginx: version_url: {}", http_error(&e, self.timeout)))?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
        };
        Ok(Some(Served {
            version: header(VERSION_HEADER).and_then(|v| v.parse().ok()),
            green: header(SHARE_HEADER)
                .and_then(|v| v.parse::<u32>().ok())
                .filter(|g| *g <= 100),
        }))
    }

    /// Wait until `version` serves: several answers in a row carry it (old workers drained).
    /// Gives what that configuration says of its split.
    async fn wait_serving(&self, version: u64) -> Result<Option<Served>, String> {
        if self.cfg.version_url.is_none() {
            return Ok(None);
        }
        let wait = async {
            let mut in_a_row = 0;
            loop {
                match self.serving().await {
                    Ok(Some(s)) if s.version == Some(version) => {
                        in_a_row += 1;
                        if in_a_row >= 5 {
                            return Some(s);
                        }
                    }
                    // An old worker's answer, or none yet: start counting again.
                    _ => in_a_row = 0,
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(self.write_timeout, wait)
            .await
            .map_err(|_| {
                format!(
                    "nginx: reloaded, but version {version} was not serving within {}",
                    fmt_secs(self.write_timeout)
                )
            })
    }

    /// Rewrite the included file for `green` percent, test, reload, wait for it to serve.
    pub async fn set_share(
        &self,
        green: u32,
        what: &str,
    ) -> (Result<String, String>, Option<Observation>) {
        let green = green.min(100);
        let old = match self.current().await {
            Ok(o) => o,
            Err(e) => return (Err(format!("{what}: nothing changed: {e}")), None),
        };
        let version = old
            .as_deref()
            .and_then(|t| parse(t).ok())
            .map(|s| s.version + 1)
            .unwrap_or(1);
        let text = render(green, version);
        if let Err(e) = write_atomic(&self.cfg.include, text.as_bytes()).await {
            return (
                Err(format!("{what}: nothing changed: nginx: {}", safe(&e))),
                None,
            );
        }
        if let Err(e) = self.run(&self.cfg.test, "configuration test").await {
            let back = self.restore(&old).await;
            return (Err(format!("{what}: refused: {e}; {back}")), None);
        }
        if let Err(e) = self.run(&self.cfg.reload, "reload").await {
            let back = self.restore(&old).await;
            return (Err(format!("{what}: {e}; {back}")), None);
        }
        let served = self.wait_serving(version).await;
        let obs = self.read().await;
        let result = match served {
            Err(e) => Err(format!("{what}: {e}")),
            // What nginx serves, read over HTTP: the outcome.
            Ok(Some(Served { green: Some(g), .. })) if g == green => Ok(format!(
                "nginx: {what}: tested, reloaded; version {version} serves green {g}% / blue {}%",
                100 - g
            )),
            Ok(Some(Served { green: Some(g), .. })) => Err(format!(
                "nginx: {what}: wrote green {green}%, version {version} serves green {g}%"
            )),
            Ok(Some(Served { green: None, .. })) => Err(format!(
                "nginx: {what}: reloaded, but version {version} answers with no {SHARE_HEADER} header"
            )),
            // No version_url: the file is all there is to read back.
            Ok(None) => match self.current().await {
                Ok(Some(t)) => match parse(&t) {
                    Ok(b) if b.green == green => Ok(format!(
                        "nginx: {what}: tested, reloaded (not waited for: no version_url); \
                         the file reads green {}% / blue {}%",
                        b.green,
                        100 - b.green
                    )),
                    Ok(b) => Err(format!(
                        "nginx: {what}: wrote green {green}%, the file reads {}%",
                        b.green
                    )),
                    Err(e) => Err(format!(
                        "{what}: reloaded, but the read-back failed: {}",
                        safe(&e)
                    )),
                },
                Ok(None) => Err(format!("{what}: reloaded, but the included file is gone")),
                Err(e) => Err(format!("{what}: reloaded, but the read-back failed: {e}")),
            },
        };
        (result, Some(obs))
    }

    /// The dry run: the diff of the included file.
    pub async fn preview(&self, green: u32) -> String {
        let old = match self.current().await {
            Ok(o) => o,
            Err(e) => return e,
        };
        let version = old
            .as_deref()
            .and_then(|t| parse(t).ok())
            .map(|s| s.version + 1)
            .unwrap_or(1);
        format!(
            "nginx: {} would become (then `{}`, then `{}`):\n{}",
            self.include(),
            safe(&self.cfg.test.join(" ")),
            safe(&self.cfg.reload.join(" ")),
            diff(old.as_deref().unwrap_or(""), &render(green, version))
        )
    }
}

impl Source for Nginx {
    fn name(&self) -> SourceId {
        SourceId::Lb
    }

    /// With a `version_url`, the split is what the configuration answering there says of
    /// itself (the headers the included file adds): the split nginx serves. The file on disk
    /// only tells whether a newer one waits for a reload. Without one, the file's split.
    async fn read(&self) -> Observation {
        let file = match self.current().await {
            Ok(Some(t)) => parse(&t).map_err(|e| format!("nginx: {}: {e}", self.include())),
            Ok(None) => Err(format!("nginx: {} does not exist yet", self.include())),
            Err(e) => Err(e),
        };
        let mut errors = Vec::new();
        let mut error = |message: String| {
            errors.push(SourceError {
                source: SourceId::Lb.into(),
                message: safe(&message),
            })
        };
        let green = match self.serving().await {
            Err(e) => return self.failed(e),
            Ok(None) => match file {
                Ok(f) => f.green,
                Err(e) => return self.failed(e),
            },
            Ok(Some(served)) => {
                let Some(green) = served.green else {
                    return self.failed(format!(
                        "nginx: no {SHARE_HEADER} header at version_url: the configuration \
                         serving predates warroom's included file (reload nginx), or a \
                         location's own add_header hides the http block's"
                    ));
                };
                match (&file, served.version) {
                    (Ok(f), Some(v)) if f.version != v => error(format!(
                        "nginx serves configuration version {v}, the file is version {} \
                         (not reloaded yet?)",
                        f.version
                    )),
                    (Ok(_), None) => {
                        error(format!("nginx: no {VERSION_HEADER} header at version_url"))
                    }
                    (Err(e), _) => error(e.clone()),
                    _ => {}
                }
                green
            }
        };
        Observation {
            source: SourceId::Lb.into(),
            pools: Some(PoolsObs {
                active: Some(if green >= 100 {
                    PoolName::Green
                } else {
                    PoolName::Blue
                }),
                green_share: Some(green),
                blue: Vec::new(),
                green: Vec::new(),
                complete: Vec::new(),
                served: None,
            }),
            errors,
            ..Default::default()
        }
    }

    fn failed(&self, message: String) -> Observation {
        super::failure(SourceId::Lb, &safe(&message))
    }
}
