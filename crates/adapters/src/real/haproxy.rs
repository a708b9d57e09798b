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

use super::http::server_text;
use super::{MAX_REPLY, Source, TOO_LARGE, fmt_secs};
use crate::engine::{Observation, PoolsObs, ServerObs, SourceError};
use crate::runbook::PoolName;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

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

/// One server as `show stat` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerStat {
    pub backend: String,
    pub name: String,
    pub addr: String,
    /// UP, DOWN, MAINT, DRAIN, "UP 1/3" …
    pub status: String,
    pub check: String,
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

/// The traffic each pool took between two readings.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Split {
    pub blue: u64,
    pub green: u64,
}

impl Split {
    pub fn describe(&self) -> String {
        let total = self.blue + self.green;
        if total == 0 {
            return "no traffic".into();
        }
        format!(
            "blue {} / green {} ({}% green)",
            self.blue,
            self.green,
            (self.green as f64 * 100.0 / total as f64).round()
        )
    }
}

#[derive(Default)]
struct Memory {
    last: Option<Reading>,
    /// Traffic between the last two readings.
    split: Option<Split>,
    /// The reading taken right after the last change: a change's output reports the traffic
    /// since the one before, whatever the poller read in between.
    at_change: Option<Reading>,
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

    /// Remember `r`; a restart since the last reading is returned as a message.
    fn remember(&self, r: &Reading) -> Option<String> {
        let mut m = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        let mut restart = None;
        if let Some(last) = &m.last {
            let pid_changed = last.pid.is_some() && r.pid.is_some() && last.pid != r.pid;
            let went_back = matches!((last.uptime, r.uptime), (Some(a), Some(b)) if b < a);
            if pid_changed || went_back {
                restart = Some(format!(
                    "HAProxy restarted (pid {} → {}); it came back with green at {}",
                    last.pid.as_deref().unwrap_or("?"),
                    r.pid.as_deref().unwrap_or("?"),
                    r.share
                        .map(|s| format!("{s}%"))
                        .unwrap_or_else(|| "an unreadable share".into())
                ));
                m.split = None;
            } else {
                m.split = Some(Split {
                    blue: r.sessions.0.saturating_sub(last.sessions.0),
                    green: r.sessions.1.saturating_sub(last.sessions.1),
                });
            }
        }
        m.last = Some(r.clone());
        restart
    }

    /// The traffic each pool took since the reading after the last change (none across a
    /// restart, whose counters start again); `r` becomes that reading.
    fn since_last_change(&self, r: &Reading, restarted: bool) -> Option<Split> {
        let mut m = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        let split = m.at_change.as_ref().filter(|_| !restarted).map(|c| Split {
            blue: r.sessions.0.saturating_sub(c.sessions.0),
            green: r.sessions.1.saturating_sub(c.sessions.1),
        });
        m.at_change = Some(r.clone());
        split
    }

    /// The traffic each pool took between the last two readings.
    pub fn measured(&self) -> Option<Split> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner()).split
    }

    /// The sessions each pool took since HAProxy started, as last read.
    pub fn since_start(&self) -> Option<Split> {
        let m = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        m.last.as_ref().map(|r| Split {
            blue: r.sessions.0,
            green: r.sessions.1,
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
            source: "lb".into(),
            pools: Some(PoolsObs {
                active: r.share.map(|s| {
                    if s >= 100 {
                        PoolName::Green
                    } else {
                        PoolName::Blue
                    }
                }),
                green_weight: r.share,
                blue,
                green,
                complete: vec![PoolName::Blue, PoolName::Green],
            }),
            errors: if r.share.is_none() {
                vec![SourceError {
                    source: "lb".into(),
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
            .command_within(&format!("set map {map} {key} {green}"), self.write_timeout)
            .await
        {
            Ok(a) => a,
            Err(e) => return (Err(format!("{what}: nothing changed: {e}")), None),
        };
        if answer.contains("entry not found") {
            // The key is not in the map yet.
            answer = match self
                .command_within(&format!("add map {map} {key} {green}"), self.write_timeout)
                .await
            {
                Ok(a) => a,
                Err(e) => return (Err(format!("{what}: nothing changed: {e}")), None),
            };
        }
        if !answer.trim().is_empty() {
            return (
                Err(format!("{what}: HAProxy refused: {}", safe(&answer))),
                None,
            );
        }
        let mut notes = Vec::new();
        if let Err(e) = save_map(Path::new(map), key, green).await {
            notes.push(format!(
                "not saved to {}: {e} (a restart would lose it)",
                safe(map)
            ));
        }
        if let Some(state) = &self.cfg.state_file {
            match self
                .command_within("show servers state", self.write_timeout)
                .await
            {
                Ok(s) => {
                    if let Err(e) = write_atomic(state, s.as_bytes()).await {
                        notes.push(format!("server states not saved: {e}"));
                    }
                }
                Err(e) => notes.push(format!("server states not saved: {e}")),
            }
        }
        let r = match self.reading_within(self.write_timeout).await {
            Ok(r) => r,
            Err(e) => {
                return (
                    Err(format!("{what} sent, but the read-back failed: {e}")),
                    None,
                );
            }
        };
        let restart = self.remember(&r);
        let mut obs = self.observation(&r);
        let traffic = self
            .since_last_change(&r, restart.is_some())
            .map(|s| format!("; traffic since the last change: {}", s.describe()))
            .unwrap_or_default();
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("; {}", notes.join("; "))
        };
        if let Some(msg) = restart {
            obs.errors.push(SourceError {
                source: "lb".into(),
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
    fn name(&self) -> &'static str {
        "lb"
    }

    async fn read(&self) -> Observation {
        match self.reading().await {
            Ok(r) => {
                let restart = self.remember(&r);
                let mut o = self.observation(&r);
                if let Some(msg) = restart {
                    o.errors.push(SourceError {
                        source: "lb".into(),
                        message: msg,
                    });
                }
                o
            }
            Err(e) => self.failed(e),
        }
    }

    fn failed(&self, message: String) -> Observation {
        super::failure("lb", &safe(&message))
    }
}

/// `show map FILE`: lines `0x55d0… KEY VALUE`.
pub fn parse_map(out: &str, key: &str) -> Result<u32, String> {
    for line in out.lines() {
        let mut w = line.split_whitespace();
        let (Some(_), Some(k), Some(v)) = (w.next(), w.next(), w.next()) else {
            continue;
        };
        if k == key {
            return v.parse::<u32>().map(|v| v.min(100)).map_err(|_| {
                format!(
                    "map value for {} is not a percentage: {}",
                    safe(key),
                    safe(v)
                )
            });
        }
    }
    if out.trim().is_empty() {
        Err(format!("the map has no key {}", safe(key)))
    } else if !out.starts_with("0x") && !out.contains(" 0x") {
        Err(safe(out))
    } else {
        Err(format!("the map has no key {}", safe(key)))
    }
}

/// `show info`: `Pid: 123`, `Uptime_sec: 45`.
pub fn parse_info(out: &str) -> (Option<String>, Option<u64>) {
    let mut pid = None;
    let mut uptime = None;
    for line in out.lines() {
        if let Some((k, v)) = line.split_once(':') {
            match k.trim() {
                "Pid" => pid = Some(v.trim().to_string()),
                "Uptime_sec" => uptime = v.trim().parse().ok(),
                _ => {}
            }
        }
    }
    (pid, uptime)
}

/// `show stat` (CSV with a `# pxname,svname,…` header): the servers of the two backends and
/// the sessions each backend took.
pub fn parse_stat(
    out: &str,
    blue: &str,
    green: &str,
) -> Result<(Vec<ServerStat>, (u64, u64)), String> {
    let mut lines = out.lines();
    let header = lines
        .next()
        .and_then(|h| h.strip_prefix("# "))
        .ok_or_else(|| {
            format!(
                "`show stat` answered {}",
                safe(out.lines().next().unwrap_or(""))
            )
        })?;
    let cols: Vec<&str> = header.split(',').collect();
    let col = |name: &str| cols.iter().position(|c| *c == name);
    let (Some(px), Some(sv), Some(status), Some(stot)) =
        (col("pxname"), col("svname"), col("status"), col("stot"))
    else {
        return Err("`show stat` without pxname, svname, status or stot".into());
    };
    let (addr, check) = (col("addr"), col("check_status"));
    let mut servers = Vec::new();
    let mut sessions = (0u64, 0u64);
    let (mut seen_blue, mut seen_green) = (false, false);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let get = |i: Option<usize>| i.and_then(|i| f.get(i)).copied().unwrap_or("");
        let backend = get(Some(px));
        if backend != blue && backend != green {
            continue;
        }
        let name = get(Some(sv));
        match name {
            "FRONTEND" => continue,
            "BACKEND" => {
                let n = get(Some(stot)).parse().unwrap_or(0);
                if backend == blue {
                    sessions.0 = n;
                    seen_blue = true;
                } else {
                    sessions.1 = n;
                    seen_green = true;
                }
            }
            _ => servers.push(ServerStat {
                backend: backend.to_string(),
                name: name.to_string(),
                addr: get(addr).to_string(),
                status: get(Some(status)).to_string(),
                check: get(check).to_string(),
            }),
        }
    }
    if !seen_blue || !seen_green {
        return Err(format!(
            "no backend named {} in `show stat`",
            safe(if seen_blue { green } else { blue })
        ));
    }
    Ok((servers, sessions))
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

/// Write a temporary file beside `path`, then rename it over `path`.
pub(crate) async fn write_atomic(path: &Path, data: &[u8]) -> Result<(), String> {
    let name = path
        .file_name()
        .ok_or_else(|| format!("{} is not a file path", path.display()))?
        .to_string_lossy()
        .into_owned();
    let tmp = path.with_file_name(format!(".{name}.warroom-tmp"));
    let write = async {
        let mut f = tokio::fs::File::create(&tmp).await?;
        f.write_all(data).await?;
        f.sync_all().await?;
        drop(f);
        tokio::fs::rename(&tmp, path).await
    };
    match write.await {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            Err(format!("{}: {e}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_map_info_and_stat() {
        assert_eq!(parse_map("0x55d0a1 canary 25\n\n", "canary"), Ok(25));
        assert!(parse_map("0x55d0a1 other 25\n", "canary").is_err());
        assert!(
            parse_map(
                "Unknown map identifier. Please use #<id> or <file>.\n",
                "canary"
            )
            .is_err_and(|e| e.contains("Unknown map"))
        );
        assert_eq!(
            parse_info("Name: HAProxy\nPid: 42\nUptime_sec: 7\n"),
            (Some("42".into()), Some(7))
        );
        let stat = "# pxname,svname,qcur,stot,status,check_status,addr\n\
                    fe,FRONTEND,0,9,OPEN,,\n\
                    blue,b1,0,3,UP,L7OK,127.0.0.1:1\n\
                    blue,b2,0,2,MAINT,,127.0.0.1:2\n\
                    blue,BACKEND,0,5,UP,,\n\
                    green,g1,0,1,DOWN,L4CON,127.0.0.1:3\n\
                    green,BACKEND,0,1,DOWN,,\n";
        let (servers, sessions) = parse_stat(stat, "blue", "green").expect("parses");
        assert_eq!(sessions, (5, 1));
        assert_eq!(servers.len(), 3);
        assert_eq!(servers[2].check, "L4CON");
        assert!(parse_stat(stat, "blue", "canary").is_err());
        assert!(parse_stat("Permission denied\n", "blue", "green").is_err());
    }
}
