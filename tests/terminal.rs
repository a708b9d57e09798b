//! The real binary in a real terminal (tmux): a `kill -9` mid-session loses nothing that was
//! shown, even after another process read the log while it was resumed; the log resumes, and
//! quitting gives the terminal back as it was, with exit status 0.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    match Command::new("tmux").args(args).output() {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(_) => String::new(),
    }
}

fn screen(s: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", s])
}

fn wait_for(s: &str, what: &str, secs: u64) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if screen(s).contains(what) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

struct Session(String);
impl Drop for Session {
    fn drop(&mut self) {
        tmux(&["kill-session", "-t", &self.0]);
    }
}

fn start(name: &str, cmd: &str) -> Session {
    let out = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "120",
            "-y",
            "40",
            cmd,
        ])
        .status();
    assert!(out.is_ok_and(|s| s.success()), "tmux starts");
    Session(name.to_string())
}

#[test]
fn kill_9_loses_nothing_shown_and_quit_restores_the_terminal() {
    let Some(_) = support::require("tmux", support::on_path("tmux")) else {
        return;
    };
    let Some(sqlite3) = support::require("the sqlite3 shell", support::on_path("sqlite3")) else {
        return;
    };
    let bin = env!("CARGO_BIN_EXE_warroom");
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("t.audit");
    let a = audit.display().to_string();
    let tag = std::process::id();

    // `exec`: the pane's process is warroom itself, so we can kill -9 it.
    let s1 = start(
        &format!("wr-kill-{tag}"),
        &format!("cd {root} && exec {bin} demo --audit {a} --operator tess --speed 1"),
    );
    assert!(
        wait_for(&s1.0, "WARROOM", 20),
        "first screen:\n{}",
        screen(&s1.0)
    );
    for _ in 0..3 {
        tmux(&["send-keys", "-t", &s1.0, " "]);
    }
    assert!(
        wait_for(&s1.0, "3/16", 10),
        "three ticks shown:\n{}",
        screen(&s1.0)
    );
    assert_eq!(
        kill_9(&s1.0, &audit),
        3,
        "every tick shown on screen is in the log"
    );

    // Resume, and while it runs another process reads the log (as an operator with the
    // sqlite3 shell would): resuming must keep every SQLite lock, or that reader takes the
    // live write-ahead log away and what is committed next is lost at the next crash.
    let s2 = start(
        &format!("wr-resume-{tag}"),
        &format!("cd {root} && exec {bin} demo --audit {a} --operator tess --speed 1"),
    );
    assert!(
        wait_for(&s2.0, "3/16", 20),
        "resumed screen:\n{}",
        screen(&s2.0)
    );
    let read = Command::new(&sqlite3)
        .arg(&audit)
        .arg("SELECT count(*) FROM audit")
        .output()
        .expect("sqlite3");
    assert!(read.status.success(), "{read:?}");
    tmux(&["send-keys", "-t", &s2.0, " "]);
    assert!(
        wait_for(&s2.0, "4/16", 10),
        "the fourth tick shown:\n{}",
        screen(&s2.0)
    );
    assert_eq!(
        kill_9(&s2.0, &audit),
        4,
        "the tick shown after the read is in the log"
    );

    // Resume again, then quit with q: warroom itself exits 0 and the terminal is restored.
    let status = dir.path().join("status");
    let s3 = start(
        &format!("wr-quit-{tag}"),
        &format!(
            "cd {root} && {bin} demo --audit {a} --operator tess --speed 1; echo EXIT=$? > {}; stty -a | grep -o -- '-\\?icanon' | head -1; echo EXITED; sleep 30",
            status.display()
        ),
    );
    assert!(
        wait_for(&s3.0, "4/16", 20),
        "resumed screen:\n{}",
        screen(&s3.0)
    );
    tmux(&["send-keys", "-t", &s3.0, "q"]);
    assert!(wait_for(&s3.0, "EXITED", 20), "quit:\n{}", screen(&s3.0));
    assert_eq!(
        std::fs::read_to_string(&status).ok().as_deref(),
        Some("EXIT=0\n"),
        "warroom's own exit status after q:\n{}",
        screen(&s3.0)
    );
    let after = screen(&s3.0);
    assert!(
        !after.contains("WARROOM"),
        "the alternate screen is gone:\n{after}"
    );
    assert!(
        after.contains("audit log:") && after.contains("head: seq"),
        "{after}"
    );
    // The next commands for that log, ready to copy.
    assert!(
        after.contains(&format!("warroom audit verify {a}"))
            && after.contains(&format!("warroom replay {a}")),
        "{after}"
    );
    assert!(
        after.lines().any(|l| l.trim() == "icanon"),
        "the terminal is back in canonical mode:\n{after}"
    );
    assert!(Path::new(&format!("{a}.head")).exists());
}

/// `kill -9` warroom in a pane (whose process is warroom itself), then check the log from
/// outside: it verifies, and the number of ticks in it.
fn kill_9(pane: &str, audit: &Path) -> usize {
    let bin = env!("CARGO_BIN_EXE_warroom");
    let pid = tmux(&["display-message", "-p", "-t", pane, "#{pane_pid}"]);
    let killed = Command::new("kill").args(["-9", pid.trim()]).status();
    assert!(killed.is_ok_and(|s| s.success()), "kill -9 {pid}");
    std::thread::sleep(Duration::from_millis(300));
    let out = Command::new(bin)
        .args(["audit", "verify"])
        .arg(audit)
        .output()
        .expect("verify");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let jsonl = Command::new(bin)
        .args(["audit", "export"])
        .arg(audit)
        .output()
        .expect("export");
    String::from_utf8_lossy(&jsonl.stdout)
        .matches("\"kind\":\"checklist_ticked\"")
        .count()
        / 2
}
