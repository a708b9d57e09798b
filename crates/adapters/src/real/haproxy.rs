//! HAProxy through its runtime API (`stats socket PATH level admin`): one command per
//! connection, each bounded by the timeout.
//!
//! Green's share of the traffic is a map value (`set map FILE KEY VALUE`) that an ACL reads,
//! e.g. `use_backend green if { rand(100),sub(... ) }` — see runbooks/local-lab-haproxy.yaml for
//! the configuration. A full switch sets it to 0 or 100. Runtime changes are lost when HAProxy
//! restarts, so every change is also written to the map file on disk (atomically); a restart
//! (its pid changed or its uptime went back) is reported with the share it came back with.
//! The pools come from `show stat`: each server's status, and each backend's session counter,
//! whose growth between two readings is the traffic each pool really took.
//!
//! Reading the runtime API's answers is in `haproxy/parse.rs`, the traffic each pool took in
//! `haproxy/traffic.rs`.

mod parse;
mod traffic;

pub use parse::{ServerStat, parse_info, parse_map, parse_stat};
pub use traffic::Split;

use super::files::write_atomic;
use super::http::server_text;
use super::{MAX_REPLY, Source, TOO_LARGE, fmt_secs};
use crate::engine::SourceId;
use crate::engine::{Observation, PoolsObs, ServerObs, SourceError};
use crate::runbook::{AdminState, PoolName};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use traffic::Memory;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub socket: PathBuf,
    /// The map file as HAProxy loaded it (`map(FILE)` in the configuration).
    pub map: String,
    pub map_key: String,
    pub blue_backend: String,
    pub green_backend: String,
    /// Where `show servers state` is saved after each change (HAProxy's
    /// `server-state-file`), when given.
    pub state_file: Option<PathBuf>,
}

/// What one reading of HAProxy says.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub pid: Option<String>,
    pub uptime: Option<u64>,
    /// Green's share, read back from the map.
    pub share: Option<u32>,
    pub servers: Vec<ServerStat>,
    /// Sessions each backend took since HAProxy started: (blue, green).
    pub sessions: (u64, u64),
}

#[derive(Clone)]
pub struct Haproxy {
    cfg: Config,
    /// Each command of a reading.
    timeout: Duration,
    /// Each command of a change (and its read-back).
    write_timeout: Duration,
    memory: Arc<Mutex<Memory>>,
}

impl std::fmt::Debug for Haproxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Haproxy").field("cfg", &self.cfg).finish()
    }
}

/// Server text, safe for the screen and the log.
fn safe(s: &str) -> String {
    server_text(s, 300)
}

impl Haproxy {
    pub fn new(cfg: Config, timeout: Duration) -> Self {
        Haproxy {
            cfg,
            timeout,
            write_timeout: super::WRITE_TIMEOUT,
            memory: Arc::default(),
        }
    }

    /// Bound each command of a change by `t` (default 10 s, as every write).
    pub fn with_write_timeout(mut self, t: Duration) -> Self {
        self.write_timeout = t;
        self
    }

    /// One runtime API command, its whole answer, within the reading timeout.
    pub async fn command(&self, cmd: &str) -> Result<String, String> {
        self.command_within(cmd, self.timeout).await
    }

    async fn command_within(&self, cmd: &str, limit: Duration) -> Result<String, String> {
        let path = self.cfg.socket.display().to_string();
        let run = async {
            let mut s = UnixStream::connect(&self.cfg.socket)
                .await
                .map_err(|e| format!("HAProxy: cannot connect to its socket {path}: {e}"))?;
            s.write_all(format!("{cmd}\n").as_bytes())
                .await
                .map_err(|e| format!("HAProxy: {path}: {e}"))?;
            let mut out = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                let n = s
                    .read(&mut buf)
                    .await
                    .map_err(|e| format!("HAProxy: {path}: {e}"))?;
                if n == 0 {
                    break;
                }
                if out.len() + n > MAX_REPLY {
                    return Err(format!("HAProxy: {TOO_LARGE}"));
                }
                out.extend_from_slice(&buf[..n]);
            }
            Ok(String::from_utf8_lossy(&out).into_owned())
        };
        match tokio::time::timeout(limit, run).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "HAProxy: `{}` had no answer within {} (socket {path})",
                cmd.split_whitespace().take(2).collect::<Vec<_>>().join(" "),
                fmt_secs(limit)
            )),
        }
    }

    /// Green's share as the map holds it now.
    pub async fn share(&self) -> Result<u32, String> {
        self.share_within(self.timeout).await
    }

    async fn share_within(&self, limit: Duration) -> Result<u32, String> {
        let out = self
            .command_within(&format!("show map {}", self.cfg.map), limit)
            .await?;
        parse_map(&out, &self.cfg.map_key).map_err(|e| format!("HAProxy: {e}"))
    }

    /// A reading: process, map, servers.
    pub async fn reading(&self) -> Result<Reading, String> {
        self.reading_within(self.timeout).await
    }

    async fn reading_within(&self, limit: Duration) -> Result<Reading, String> {
        let info = self.command_within("show info", limit).await?;
        let (pid, uptime) = parse_info(&info);
        let share = self.share_within(limit).await.ok();
        let stat = self.command_within("show stat", limit).await?;
        let (servers, sessions) =
            parse_stat(&stat, &self.cfg.blue_backend, &self.cfg.green_backend)
                .map_err(|e| format!("HAProxy: {e}"))?;
        Ok(Reading {
            pid,
            uptime,
            share,
            servers,
            sessions,
        })
    }

    fn observation(&self, r: &Reading) -> Observation {
        let mut blue = Vec::new();
        let mut green = Vec::new();
        for s in &r.servers {
            let up = s.status.starts_with("UP");
            let obs = ServerObs {
                address: safe(&format!("{}/{} {}", s.backend, s.name, s.addr)),
                healthy: up,
                latency_ms: None,
                error: (!up).then(|| {
                    safe(&format!(
                        "{}{}",
                        s.status.to_lowercase(),
                        if s.check.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", s.check)
                        }
                    ))
                }),
            };
            if s.backend == self.cfg.blue_backend {
                blue.push(obs);
            } else {
                green.push(obs);
            }
        }
        Observation {
            source: SourceId::Lb.into(),
            pools: Some(PoolsObs {
                active: r.share.map(|s| {
                    if s >= 100 {
                        PoolName::Green
                    } else {
                        PoolName::Blue
                    }
                }),
                green_share: r.share,
                blue,
                green,
                complete: vec![PoolName::Blue, PoolName::Green],
                served: self.served(r),
            }),
            errors: if r.share.is_none() {
                vec![SourceError {
                    source: SourceId::Lb.into(),
                    message: format!(
                        "HAProxy: map {} has no key {}",
                        safe(&self.cfg.map),
                        safe(&self.cfg.map_key)
                    ),
                }]
            } else {
                Vec::new()
            },
            ..Default::default()
        }
    }

    /// Set green's share at runtime, save it to the map file, read it back. Nothing is written
    /// to disk when HAProxy refuses (or cannot be reached).
    pub async fn set_share(
        &self,
        green: u32,
        what: &str,
    ) -> (Result<String, String>, Option<Observation>) {
        let green = green.min(100);
        let (map, key) = (&self.cfg.map, &self.cfg.map_key);
        let mut answer = match self
            .change(&format!("set map {map} {key} {green}"), what)
            .await
        {
            Ok(a) => a,
            Err(e) => return (Err(e), None),
        };
        if answer.contains("entry not found") {
            // The key is not in the map yet.
            answer = match self
                .change(&format!("add map {map} {key} {green}"), what)
                .await
            {
                Ok(a) => a,
                Err(e) => return (Err(e), None),
            };
        }
        if let Some(e) = refused(what, &answer) {
            return (Err(e), None);
        }
        let mut notes = Vec::new();
        if let Err(e) = save_map(Path::new(map), key, green).await {
            notes.push(format!(
                "not saved to {}: {e} (a restart would lose it)",
                safe(map)
            ));
        }
        notes.extend(self.save_states().await);
        let r = match self.read_back(what).await {
            Ok(r) => r,
            Err(e) => return (Err(e), None),
        };
        let restart = self.remember(&r);
        // This reading is the new change's start: what it serves is counted from here.
        let traffic = self
            .since_last_change(&r, restart.is_some())
            .map(|s| format!("; traffic since the last change: {}", s.describe()))
            .unwrap_or_default();
        let mut obs = self.observation(&r);
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("; {}", notes.join("; "))
        };
        if let Some(msg) = restart {
            obs.errors.push(SourceError {
                source: SourceId::Lb.into(),
                message: msg,
            });
        }
        let result = match r.share {
            Some(s) if s == green => Ok(format!(
                "HAProxy: {what}: map {key} read back {s} (green {s}%, blue {}%){traffic}{notes}",
                100 - s
            )),
            Some(s) => Err(format!(
                "HAProxy: {what}: wrote {green}, map {key} read back {s}{notes}"
            )),
            None => Err(format!(
                "HAProxy: {what}: the map no longer has {key} after the change{notes}"
            )),
        };
        (result.map(|s| safe(&s)), Some(obs))
    }

    /// Send a change's command; its answer, or what kept it from being sent (nothing changed).
    async fn change(&self, cmd: &str, what: &str) -> Result<String, String> {
        self.command_within(cmd, self.write_timeout)
            .await
            .map_err(|e| format!("{what}: nothing changed: {e}"))
    }

    /// The reading after a change was sent.
    async fn read_back(&self, what: &str) -> Result<Reading, String> {
        self.reading_within(self.write_timeout)
            .await
            .map_err(|e| format!("{what} sent, but the read-back failed: {e}"))
    }

    /// Save `show servers state` to the state file (HAProxy's `server-state-file`), when
    /// there is one, so that a restart keeps what the runtime API changed; what failed, said.
    async fn save_states(&self) -> Option<String> {
        let state = self.cfg.state_file.as_ref()?;
        match self
            .command_within("show servers state", self.write_timeout)
            .await
        {
            Ok(s) => write_atomic(state, s.as_bytes())
                .await
                .err()
                .map(|e| format!("server states not saved: {e}")),
            Err(e) => Some(format!("server states not saved: {e}")),
        }
    }

    /// Drain a server, put it in maintenance or back in service (`set server B/S state …`),
    /// save the states, and read `show stat` back: the step's outcome is the status HAProxy
    /// gives the server after the change.
    pub async fn set_server_state(
        &self,
        server: &str,
        state: AdminState,
    ) -> (Result<String, String>, Option<Observation>) {
        let what = format!("{} {}", safe(server), state.as_str());
        let Some((backend, name)) = server.split_once('/') else {
            return (
                Err(format!(
                    "HAProxy: {what}: name the server as BACKEND/SERVER (e.g. blue/b0)"
                )),
                None,
            );
        };
        if backend != self.cfg.blue_backend && backend != self.cfg.green_backend {
            return (
                Err(format!(
                    "HAProxy: {what}: {} is neither pool's backend ({}, {})",
                    safe(backend),
                    safe(&self.cfg.blue_backend),
                    safe(&self.cfg.green_backend)
                )),
                None,
            );
        }
        let cmd = format!("set server {backend}/{name} state {}", state.as_str());
        if let Err(e) = self
            .change(&cmd, &what)
            .await
            .and_then(|a| refused(&what, &a).map_or(Ok(()), Err))
        {
            return (Err(e), None);
        }
        let notes = self
            .save_states()
            .await
            .map(|n| format!("; {n}"))
            .unwrap_or_default();
        let r = match self.read_back(&what).await {
            Ok(r) => r,
            Err(e) => return (Err(e), None),
        };
        self.remember(&r);
        let obs = self.observation(&r);
        let Some(s) = r
            .servers
            .iter()
            .find(|s| s.backend == backend && s.name == name)
        else {
            return (
                Err(format!(
                    "HAProxy: {what}: `show stat` no longer lists it{notes}"
                )),
                Some(obs),
            );
        };
        let status = s.status.to_ascii_uppercase();
        let agrees = match state {
            AdminState::Drain => status.starts_with("DRAIN"),
            AdminState::Maint => status.starts_with("MAINT"),
            // Back in service: up, or down (or going up) by its own health check.
            AdminState::Ready => !status.starts_with("MAINT") && !status.starts_with("DRAIN"),
        };
        let said = format!("HAProxy: {what}: `show stat` reads {}", safe(&s.status));
        let result = if agrees {
            Ok(format!("{said}{notes}"))
        } else {
            Err(format!("{said}, not {}{notes}", state.as_str()))
        };
        (result, Some(obs))
    }

    /// What a change would do, without doing it.
    pub fn preview(&self, green: u32) -> String {
        format!(
            "HAProxy: would run `set map {} {} {green}` and save it to the map file",
            safe(&self.cfg.map),
            safe(&self.cfg.map_key)
        )
    }
}

impl Source for Haproxy {
    fn name(&self) -> SourceId {
        SourceId::Lb
    }

    async fn read(&self) -> Observation {
        match self.reading().await {
            Ok(r) => {
                let restart = self.remember(&r);
                let mut o = self.observation(&r);
                if let Some(msg) = restart {
                    o.errors.push(SourceError {
                        source: SourceId::Lb.into(),
                        message: msg,
                    });
                }
                o
            }
            Err(e) => self.failed(e),
        }
    }

    fn failed(&self, message: String) -> Observation {
        super::failure(SourceId::Lb, &safe(&message))
    }
}

/// A change's answer: HAProxy answers nothing when it did what it was asked.
fn refused(what: &str, answer: &str) -> Option<String> {
    (!answer.trim().is_empty()).then(|| format!("{what}: HAProxy refused: {}", safe(answer)))
}

/// Write `key value` into the map file (other entries kept), atomically.
async fn save_map(path: &Path, key: &str, value: u32) -> Result<(), String> {
    let old = match tokio::fs::read_to_string(path).await {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e.to_string()),
    };
    let mut out = String::new();
    let mut found = false;
    for line in old.lines() {
        if line.split_whitespace().next() == Some(key) {
            if !found {
                out.push_str(&format!("{key} {value}\n"));
            }
            found = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !found {
        out.push_str(&format!("{key} {value}\n"));
    }
    write_atomic(path, out.as_bytes()).await
}
