//! Opening an existing log to continue it: the lock between consoles, and the refusal of a log that does not verify.

use super::*;
use std::path::{Path, PathBuf};
/// The lock file beside a log (`AUDIT.lock`): held by the console that has the log open, and
/// saying who that is. The database file itself is never locked or opened outside SQLite.
pub fn lock_path(audit: &Path) -> PathBuf {
    let mut s = audit.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Take the log's lock for this process and write who holds it; refused (naming the holder)
/// when another console has it.
pub(crate) fn lock(audit: &Path, operator: &str) -> Result<std::fs::File, String> {
    use std::io::Write;
    let p = lock_path(audit);
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&p)
        .map_err(|e| format!("{}: cannot open: {e}", p.display()))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(in_use(audit, &mut f)),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(format!("{}: cannot lock: {e}", p.display()));
        }
    }
    let holder = format!(
        "operator: {operator}\npid: {}\nsince: {}\n",
        std::process::id(),
        fmt_time(chrono::Utc::now())
    );
    f.set_len(0)
        .and_then(|()| f.write_all(holder.as_bytes()))
        .map_err(|e| format!("{}: cannot write: {e}", p.display()))?;
    Ok(f)
}

/// "… is open in another console: operator alice, pid 4242, since …", from the lock file.
pub(crate) fn in_use(audit: &Path, f: &mut std::fs::File) -> String {
    use std::io::Read;
    let mut text = String::new();
    let _ = f.take(4096).read_to_string(&mut text);
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| crate::text::clean(v.trim()).into_owned())
            .unwrap_or_else(|| "unknown".into())
    };
    format!(
        "{}: is open in another console: operator {}, pid {}, since {}",
        audit.display(),
        field("operator:"),
        field("pid:"),
        field("since:")
    )
}

/// Why a log that does not verify is not continued.
pub(crate) fn refusal(audit: &Path, seq: i64, problem: &str) -> String {
    format!(
        "{}: the log does not verify: at seq {seq}: {problem}. It is not continued: check it with `warroom audit verify`, or continue it knowingly with --continue-unverified (recorded in the session record)",
        audit.display()
    )
}

/// Logs this process was told to continue although they do not verify, with what verify
/// said: taken by the next [`Store::open`] of that log.
static CONTINUE_UNVERIFIED: std::sync::Mutex<Vec<(PathBuf, String)>> =
    std::sync::Mutex::new(Vec::new());

pub(crate) fn log_key(audit: &Path) -> PathBuf {
    std::fs::canonicalize(audit).unwrap_or_else(|_| audit.to_path_buf())
}

pub(crate) fn take_continue_unverified(audit: &Path) -> Option<String> {
    let key = log_key(audit);
    let mut list = CONTINUE_UNVERIFIED
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let i = list.iter().position(|(p, _)| *p == key)?;
    Some(list.swap_remove(i).1)
}

/// Before a console opens `audit` (`warroom demo` and `run`): refused when another console
/// holds the log, and when it does not verify from its newest state snapshot to its head (the
/// whole log without one), unless `continue_unverified`: then the head
/// file (the evidence of a truncation) is moved aside, never rewritten, and the next
/// [`Store::open`] of the log continues it, recording what verify said in the session record.
/// Returns what was done, for the operator to read.
pub fn prepare_resume(audit: &Path, continue_unverified: bool) -> Result<Vec<String>, String> {
    if let Ok(mut f) = std::fs::File::open(lock_path(audit))
        && let Err(std::fs::TryLockError::WouldBlock) = f.try_lock()
    {
        return Err(in_use(audit, &mut f));
    }
    if !exists_nonempty(audit)? {
        return Ok(Vec::new());
    }
    // The chain from the newest snapshot to the head (all of it without one): walking the
    // whole chain is `warroom audit verify`'s.
    let verdict = block_on_file(async {
        let mut src = FileSource::open(audit)?;
        verify_resumable(&mut src, read_head(audit)).await
    })?;
    let (seq, problem) = match verdict {
        Verdict::Ok { .. } => return Ok(Vec::new()),
        Verdict::Bad { seq, problem } => (seq, problem),
    };
    if !continue_unverified {
        return Err(refusal(audit, seq, &problem));
    }
    let mut note = format!("at seq {seq}: {problem}");
    let mut said = vec![format!(
        "{}: the log does not verify: {note}; continuing it as asked (--continue-unverified)",
        audit.display()
    )];
    let head = head_path(audit);
    if head.exists() {
        let mut aside = head.as_os_str().to_owned();
        aside.push(format!(
            ".unverified-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
        ));
        let aside = PathBuf::from(aside);
        std::fs::rename(&head, &aside)
            .map_err(|e| format!("{}: cannot move the head file aside: {e}", head.display()))?;
        said.push(format!(
            "moved the head file aside to {} (it is evidence; a new head file starts)",
            aside.display()
        ));
        note.push_str(&format!("; head file moved aside to {}", aside.display()));
    }
    CONTINUE_UNVERIFIED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((log_key(audit), note));
    Ok(said)
}

/// Rollouts in PostgreSQL (`url`, rollout) this process was told to continue although they may
/// not verify (`--continue-unverified`): taken by the next [`PgStore::open`](crate::PgStore::open)
/// of that rollout, which then records what verify said in the session record.
static CONTINUE_ROLLOUTS: std::sync::Mutex<Vec<(String, String)>> =
    std::sync::Mutex::new(Vec::new());

/// Continue the rollout `rollout` in the PostgreSQL store `url` even if it does not verify
/// (`--continue-unverified`, as for a file): the next console that opens it records what
/// verify said in its session record. PostgreSQL keeps no head file to move aside.
pub fn continue_rollout_unverified(url: &str, rollout: &str) {
    CONTINUE_ROLLOUTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((url.to_string(), rollout.to_string()));
}

pub(crate) fn take_continue_rollout(url: &str, rollout: &str) -> bool {
    let mut list = CONTINUE_ROLLOUTS.lock().unwrap_or_else(|e| e.into_inner());
    match list.iter().position(|(u, r)| u == url && r == rollout) {
        Some(i) => {
            list.swap_remove(i);
            true
        }
        None => false,
    }
}
