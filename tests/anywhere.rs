//! warroom from any directory: the seed plan is built in, `init` writes a starter that passes
//! `check`, and without a terminal the console says so instead of panicking.

use std::process::{Command, Stdio};

fn warroom(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run warroom");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn init_writes_a_starter_that_checks_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tmp");
    let (code, out, err) = warroom(dir.path(), &["init", "plan.yaml"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = warroom(dir.path(), &["check", "plan.yaml"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("plan.yaml: ok"), "{out}");
    let before = std::fs::read(dir.path().join("plan.yaml")).expect("written");
    let (code, _, err) = warroom(dir.path(), &["init", "plan.yaml"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("plan.yaml")).expect("still there"),
        before
    );
}

#[test]
fn the_demo_finds_its_plan_from_any_directory_and_needs_a_terminal_not_a_checkout() {
    let dir = tempfile::tempdir().expect("tmp");
    let audit = dir.path().join("d.audit");
    let audit = audit.to_str().expect("utf-8 path");
    let (code, out, err) = warroom(dir.path(), &["demo", "--audit", audit]);
    // No terminal here: a clear error, after the runbook was found (built in).
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.contains("needs a terminal"), "{err}");
    assert!(!err.contains("no such file"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The log it began names the built-in plan and verifies.
    let (code, out, err) = warroom(dir.path(), &["audit", "verify", audit]);
    assert_eq!(code, Some(0), "{out}{err}");
}
