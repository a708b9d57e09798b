//! `run` steps: an argv list (no shell), extra environment, a timeout after which the
//! command is killed, the output streamed to the log and its tail with the exit code in the
//! step's output; `expect_migration_version` is checked against the database afterwards.
//!
//! `${VAR}` and `${VAR:-default}` are expanded in argv and env values when the step runs.
//! Passwords of URLs in them, and values of variables named like secrets, are masked in
//! everything shown or recorded.

use super::fmt_secs;
use super::postgres::Postgres;
use crate::runbook::{RunStep, expand, redact};
use std::collections::{BTreeMap, VecDeque};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc;

/// Lines of output kept for the step's record.
pub const TAIL_LINES: usize = 20;
/// Characters kept per output line.
const LINE_CHARS: usize = 400;

/// Masks secrets: `redact`, then every known secret value.
#[derive(Debug, Default, Clone)]
pub struct Scrubber {
    secrets: Vec<String>,
}

impl Scrubber {
    /// Learn the secrets in an expanded value: a URL's password, or the whole value of a
    /// variable whose name says it is secret.
    pub fn learn(&mut self, name: Option<&str>, value: &str) {
        if let Some(n) = name {
            let n = n.to_ascii_uppercase();
            if ["PASSWORD", "TOKEN", "SECRET", "KEY", "CREDENTIAL"]
                .iter()
                .any(|w| n.contains(w))
                && value.len() >= 3
            {
                self.secrets.push(value.to_string());
            }
        }
        for word in value.split_whitespace() {
            if let Ok(u) = reqwest::Url::parse(word)
                && let Some(p) = u.password()
                && p.len() >= 3
            {
                self.secrets.push(p.to_string());
                if let Ok(decoded) = percent_encoding::percent_decode_str(p).decode_utf8() {
                    self.secrets.push(decoded.into_owned());
                }
            }
        }
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.secrets.dedup();
    }

    pub fn scrub(&self, s: &str) -> String {
        let mut out = redact(s);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

/// A step's argv and env, expanded, and what to mask in its output.
pub type Prepared = (Vec<String>, BTreeMap<String, String>, Scrubber);

/// The argv and env of a step with `${VAR}` expanded; an unset variable without a default
/// is an error (a command run with an empty database URL does harm).
pub fn prepare(
    step: &RunStep,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Prepared, String> {
    let mut scrub = Scrubber::default();
    let mut unset = Vec::new();
    let mut one = |s: &str, name: Option<&str>| -> Result<String, String> {
        let e = expand(s, lookup).map_err(|e| redact(&e))?;
        unset.extend(e.unset);
        scrub.learn(name, &e.value);
        Ok(e.value)
    };
    let argv = step
        .argv
        .iter()
        .map(|a| one(a, None))
        .collect::<Result<Vec<_>, _>>()?;
    let env = step
        .env
        .iter()
        .map(|(k, v)| Ok((k.clone(), one(v, Some(k))?)))
        .collect::<Result<BTreeMap<_, _>, String>>()?;
    if !unset.is_empty() {
        unset.sort();
        unset.dedup();
        return Err(format!(
            "not run: {} not set",
            unset
                .iter()
                .map(|v| format!("${{{v}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if argv.first().is_none_or(|a| a.trim().is_empty()) {
        return Err("not run: the argv is empty".into());
    }
    Ok((argv, env, scrub))
}

/// What a finished command did.
#[derive(Debug, Clone, PartialEq)]
pub struct Ran {
    /// The exit code; `None` when killed (timeout) or ended by a signal.
    pub code: Option<i32>,
    pub timed_out: bool,
    pub elapsed: Duration,
    /// The last lines of stdout and stderr, interleaved as they came, secrets masked.
    pub tail: Vec<String>,
}

/// Run a prepared command.
pub async fn exec(
    argv: &[String],
    env: &BTreeMap<String, String>,
    timeout: Duration,
    scrub: &Scrubber,
) -> Result<Ran, String> {
    let Some((prog, args)) = argv.split_first() else {
        return Err("not run: the argv is empty".into());
    };
    let mut cmd = tokio::process::Command::new(prog);
    cmd.args(args)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| scrub.scrub(&format!("cannot start `{prog}`: {e}")))?;
    let pid = child.id();
    // Until the command has exited, dropping this future (a rollback cancelled the action,
    // the console exits) kills the command's whole process group.
    let mut group = GroupGuard(pid);
    // Bounded: a command that prints faster than its lines are kept waits on its pipe.
    let (tx, mut rx) = mpsc::channel::<String>(256);
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(lines(out, tx.clone())));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(lines(err, tx.clone())));
    }
    drop(tx);
    let mut tail: VecDeque<String> = VecDeque::new();
    let keep = |line: String, tail: &mut VecDeque<String>| {
        let line = scrub.scrub(&line);
        tracing::info!(target: "warroom::shell", "{prog}: {line}");
        tail.push_back(line.chars().take(LINE_CHARS).collect());
        while tail.len() > TAIL_LINES {
            tail.pop_front();
        }
    };
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut open = true;
    let (status, timed_out) = loop {
        tokio::select! {
            line = rx.recv(), if open => match line {
                Some(l) => keep(l, &mut tail),
                None => open = false,
            },
            st = child.wait() => {
                group.0 = None;
                break (st.ok(), false)
            }
            _ = &mut deadline => {
                kill_group(pid).await;
                group.0 = None;
                let _ = child.start_kill();
                let st = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
                break (st.ok().and_then(|s| s.ok()), true);
            }
        }
    };
    // The rest of the output; a grandchild that keeps the pipes open is not waited for long.
    let drain_until = Instant::now() + Duration::from_secs(1);
    while open {
        let left = drain_until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(l)) => keep(l, &mut tail),
            _ => open = false,
        }
    }
    for r in readers {
        r.abort();
    }
    Ok(Ran {
        code: status.and_then(|s| s.code()),
        timed_out,
        elapsed: started.elapsed(),
        tail: tail.into(),
    })
}

/// Kills a command's process group when dropped, unless the command has exited.
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.0.and_then(|p| i32::try_from(p).ok())
            && pid > 0
        {
            // SAFETY: kill(2) with a negative pid signals that process group; no memory is
            // shared. The group is the one the command leads (`process_group(0)`).
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

/// Kill the command's process group (it may have started children of its own).
async fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        let _ = tokio::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
    }
    #[cfg(not(unix))]
    let _ = pid;
}

async fn lines(r: impl AsyncRead + Unpin, tx: mpsc::Sender<String>) {
    let mut r = BufReader::new(r);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                if tx.send(line).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Run a `run` step: `Ok` with the exit code and output tail when it exits 0 (and the schema
/// is at the expected version), `Err` with the same otherwise.
pub async fn run(
    step: &RunStep,
    lookup: &(dyn Fn(&str) -> Option<String> + Sync),
    db: Option<&Postgres>,
) -> Result<String, String> {
    let (argv, env, scrub) = prepare(step, lookup)?;
    let ran = exec(&argv, &env, step.timeout, &scrub).await?;
    let tail = if ran.tail.is_empty() {
        "(no output)".to_string()
    } else {
        ran.tail.join("\n")
    };
    let head = if ran.timed_out {
        let t = if step.timeout >= Duration::from_secs(1) {
            crate::runbook::fmt_duration(step.timeout)
        } else {
            fmt_secs(step.timeout)
        };
        format!("killed after the {t} timeout")
    } else {
        match ran.code {
            Some(c) => format!("exit {c} after {}", fmt_secs(round(ran.elapsed))),
            None => format!("ended by a signal after {}", fmt_secs(round(ran.elapsed))),
        }
    };
    if ran.timed_out || ran.code != Some(0) {
        return Err(format!("{head}\n{tail}"));
    }
    let check = match (step.expect_migration_version, db) {
        (None, _) => String::new(),
        (Some(v), None) => {
            format!("\nschema version {v} not checked: no database target is configured")
        }
        (Some(want), Some(db)) => match db.schema_version().await {
            Ok((Some(have), false)) if have == want => {
                format!("\nschema version {have}, as expected")
            }
            Ok((have, dirty)) => {
                return Err(format!(
                    "{head}, but the schema is at version {}{}, expected {want}\n{tail}",
                    have.map(|v| v.to_string()).unwrap_or_else(|| "none".into()),
                    if dirty { " (dirty)" } else { "" }
                ));
            }
            Err(e) => {
                return Err(format!(
                    "{head}, but the schema version could not be read: {e}\n{tail}"
                ));
            }
        },
    };
    Ok(format!("{head}{check}\n{tail}"))
}

fn round(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64 / 100 * 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_url_passwords_and_secret_vars() {
        let mut s = Scrubber::default();
        s.learn(None, "postgres://app:p%40ss@h/db");
        s.learn(Some("API_TOKEN"), "tok-123");
        assert_eq!(s.scrub("using p@ss and tok-123"), "using *** and ***");
        assert_eq!(
            s.scrub("dial postgres://app:p%40ss@h/db"),
            "dial postgres://app:***@h/db"
        );
    }

    #[test]
    fn unset_variables_stop_the_step() {
        let step = RunStep {
            argv: vec!["migrate".into(), "-database".into(), "${NOPE_DB}".into()],
            env: Default::default(),
            timeout: Duration::from_secs(1),
            expect_migration_version: None,
        };
        let e = prepare(&step, &|_| None).err().unwrap_or_default();
        assert!(e.contains("${NOPE_DB}"), "{e}");
    }
}
