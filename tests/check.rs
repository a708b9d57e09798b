//! `warroom check FILE…` on the real binary: every shipped runbook passes; each bad runbook in
//! tests/fixtures/bad/ fails with exit 2 and a `FILE:LINE:COL: error: …` naming the problem;
//! files that are not runbooks at all (missing, directory, empty, binary, non-UTF-8, huge,
//! deeply nested, alias bomb) fail with exit 2 and a clear message, never a panic nor a hang.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// No `warroom check` may take longer than this; the test fails rather than hang.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Variables the fixtures name in `${…}`; removed from the child's environment.
const UNSET_VARS: &[&str] = &[
    "WARROOM_TEST_UNSET_PROMETHEUS_URL",
    "WARROOM_TEST_UNSET_FLAGS_URL",
    "WARROOM_TEST_EMPTY_GREEN",
];

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn all(&self) -> String {
        format!(
            "exit {:?} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }
    fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked") && !self.stdout.contains("panicked"),
            "warroom panicked:\n{}",
            self.all()
        );
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run `warroom check ARGS…` in the crate root, killing it after `TIMEOUT`.
fn check(args: &[&Path]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warroom"));
    cmd.current_dir(root())
        .arg("check")
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for v in UNSET_VARS {
        cmd.env_remove(v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn warroom");
    // Read both pipes on threads so that a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for warroom") {
            break st;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`warroom check {}` did not finish within {TIMEOUT:?} (hang)",
                args.iter()
                    .map(|a| a.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = start.elapsed();
    Run {
        code: status.code(),
        stdout: t_out.join().expect("stdout reader"),
        stderr: t_err.join().expect("stderr reader"),
        took,
    }
}

fn check1(path: &Path) -> Run {
    check(&[path])
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from("tests/fixtures").join(name)
}

fn bad(name: &str) -> PathBuf {
    PathBuf::from("tests/fixtures/bad").join(format!("{name}.yaml"))
}

/// The diagnostics `FILE:LINE:COL: error: message` (and their hint lines) of a failed check.
#[derive(Debug)]
struct Diag {
    line: u64,
    col: u64,
    severity: String,
    message: String,
    hint: Option<String>,
}

fn diags(file: &Path, text: &str) -> Vec<Diag> {
    let prefix = format!("{}:", file.display());
    let mut out: Vec<Diag> = Vec::new();
    for l in text.lines() {
        if let Some(h) = l.strip_prefix("    hint: ") {
            if let Some(d) = out.last_mut() {
                d.hint = Some(h.to_string());
            }
            continue;
        }
        let Some(rest) = l.strip_prefix(&prefix) else {
            continue;
        };
        let mut parts = rest.splitn(3, ':');
        let (Some(line), Some(col), Some(tail)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(line), Ok(col)) = (line.parse(), col.parse()) else {
            continue;
        };
        let tail = tail.trim_start();
        let (severity, message) = tail.split_once(": ").unwrap_or((tail, ""));
        out.push(Diag {
            line,
            col,
            severity: severity.to_string(),
            message: message.to_string(),
            hint: None,
        });
    }
    out
}

/// Check a bad fixture: exit 2, exactly one error, at `line` (and `col` when given), whose
/// message holds every piece of `message` and whose hint holds `hint`. Returns the diagnostic.
fn expect_error(
    name: &str,
    line: Option<u64>,
    col: Option<u64>,
    message: &[&str],
    hint: Option<&str>,
) -> Diag {
    let file = bad(name);
    let r = check1(&file);
    r.assert_no_panic();
    assert_eq!(r.code, Some(2), "{name}: exit code\n{}", r.all());
    assert!(
        r.stdout.trim().is_empty(),
        "{name}: nothing on stdout\n{}",
        r.all()
    );
    let mut ds = diags(&file, &r.stderr);
    assert_eq!(
        ds.len(),
        1,
        "{name}: exactly one `FILE:LINE:COL: error: …`\n{}",
        r.all()
    );
    let d = ds.remove(0);
    assert_eq!(d.severity, "error", "{name}\n{}", r.all());
    if let Some(line) = line {
        assert_eq!(d.line, line, "{name}: line\n{}", r.all());
    }
    if let Some(col) = col {
        assert_eq!(d.col, col, "{name}: column\n{}", r.all());
    }
    for m in message {
        assert!(
            d.message.contains(m),
            "{name}: message should contain {m:?}\n{}",
            r.all()
        );
    }
    if let Some(h) = hint {
        let got = d.hint.as_deref().unwrap_or("");
        assert!(
            got.contains(h),
            "{name}: hint should contain {h:?}\n{}",
            r.all()
        );
    }
    assert!(
        r.stderr
            .contains(&format!("{}: 1 error found", file.display())),
        "{name}: summary line\n{}",
        r.all()
    );
    d
}

// ---------------------------------------------------------------------------------------------
// Valid runbooks.

#[test]
fn every_shipped_runbook_passes_with_one_summary_line() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("runbooks"))
        .expect("runbooks/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .map(|p| {
            p.strip_prefix(root())
                .expect("under the root")
                .to_path_buf()
        })
        .collect();
    files.sort();
    assert!(
        files.contains(&PathBuf::from("runbooks/unified-attributes.yaml")),
        "the seed runbook is shipped: {files:?}"
    );
    for f in &files {
        let r = check1(f);
        r.assert_no_panic();
        assert_eq!(r.code, Some(0), "{}\n{}", f.display(), r.all());
        // Warnings are only for variables the runbook reads from the environment; then
        // one summary line.
        let lines: Vec<&str> = r
            .stdout
            .lines()
            .filter(|l| !l.starts_with("    hint:"))
            .collect();
        let (summary, warnings) = lines.split_last().expect("output");
        for w in warnings {
            assert!(
                w.contains(": warning: ") && w.contains("is not set"),
                "{w}\n{}",
                r.all()
            );
        }
        let lines = [*summary];
        assert!(
            lines[0].starts_with(&format!("{}: ok", f.display())),
            "{}",
            r.all()
        );
        assert!(r.stderr.trim().is_empty(), "{}", r.all());
    }
}

#[test]
fn seed_runbook_summary_counts_what_it_holds() {
    let f = PathBuf::from("runbooks/unified-attributes.yaml");
    let r = check1(&f);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let line = r.stdout.trim();
    for part in [
        "6 phases",
        "rollout 10%→25%→50%→100%",
        "4 flags",
        "3 procedures",
    ] {
        assert!(line.contains(part), "{part:?} in {line:?}");
    }
}

#[test]
fn minimal_fixture_passes() {
    let f = fixture("minimal.yaml");
    let r = check1(&f);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(
        r.stdout.trim(),
        format!(
            "{}: ok — 2 phases, rollout 10%→50%→100%, 2 flags, 2 metrics, 1 procedures",
            f.display()
        ),
        "{}",
        r.all()
    );
}

#[test]
fn unset_variable_in_targets_is_a_warning_not_an_error() {
    let f = fixture("unset-var.yaml");
    let r = check1(&f);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.all());
    let ds = diags(&f, &r.stdout);
    assert_eq!(ds.len(), 1, "one warning\n{}", r.all());
    let w = &ds[0];
    assert_eq!(w.severity, "warning", "{}", r.all());
    assert!(
        w.message
            .contains("targets.prometheus: ${WARROOM_TEST_UNSET_PROMETHEUS_URL} is not set"),
        "{}",
        r.all()
    );
    assert!(
        w.hint
            .as_deref()
            .is_some_and(|h| h.contains("WARROOM_TEST_UNSET_PROMETHEUS_URL:-")),
        "the hint suggests a default\n{}",
        r.all()
    );
    // The variable with a default is no warning.
    assert!(
        !r.stdout.contains("WARROOM_TEST_UNSET_FLAGS_URL"),
        "{}",
        r.all()
    );
    let summary = r.stdout.lines().last().unwrap_or("");
    assert!(
        summary.starts_with(&format!("{}: ok", f.display())) && summary.ends_with("1 warning(s)"),
        "{}",
        r.all()
    );
}

#[test]

fn unset_variable_warning_points_at_the_target() {
    let f = fixture("unset-var.yaml");
    let r = check1(&f);
    let ds = diags(&f, &r.stdout);
    assert_eq!(ds.len(), 1, "{}", r.all());
    assert_eq!(
        ds[0].line,
        70,
        "the line of targets.prometheus\n{}",
        r.all()
    );
}

// ---------------------------------------------------------------------------------------------
// Bad runbooks: one mistake each on top of tests/fixtures/minimal.yaml.

#[test]
fn unknown_key_names_the_key_and_the_one_it_is_near() {
    expect_error(
        "unknown-key",
        Some(33),
        Some(5),
        &["unknown field `chekclist`"],
        Some("did you mean `checklist`?"),
    );
}

/// A key one slip away from a known one is named ("did you mean"); a key like nothing known
/// keeps the list of every key.
#[test]
fn a_misspelt_key_is_answered_with_the_key_it_is_near() {
    let dir = tempfile::tempdir().expect("tmp");
    let starter = std::fs::read_to_string(root().join("runbooks/starter.yaml")).expect("starter");
    let near = dir.path().join("near.yaml");
    std::fs::write(&near, starter.replace("\nmonitoring:", "\nmonitorng:")).expect("write");
    let r = check1(&near);
    assert_eq!(r.code, Some(2), "{}", r.all());
    let d = diags(&near, &r.stderr);
    assert_eq!(d.len(), 1, "{}", r.all());
    assert_eq!(d[0].message, "unknown field `monitorng`");
    assert_eq!(
        d[0].hint.as_deref(),
        Some("fix its spelling: did you mean `monitoring`?")
    );
    let far = dir.path().join("far.yaml");
    std::fs::write(&far, starter.replace("\nmonitoring:", "\nxyzzy:")).expect("write");
    let r = check1(&far);
    let d = diags(&far, &r.stderr);
    assert!(
        d[0].message.contains("expected one of") && d[0].message.contains("success_criteria"),
        "{}",
        r.all()
    );
}

#[test]
fn wrong_type_points_at_the_value() {
    expect_error("wrong-type", Some(30), Some(10), &["u32"], None);
}

#[test]

fn wrong_type_has_a_hint() {
    expect_error(
        "wrong-type",
        Some(30),
        Some(10),
        &["u32"],
        Some("check the value's type"),
    );
}

/// A missing key names the item it is missing from and points at the item's first line.
#[test]
fn missing_key_names_the_key_and_its_item() {
    expect_error(
        "missing-key",
        Some(12),
        Some(5),
        &["flags[0] (id: pct) is missing `kind`"],
        Some("add the key"),
    );
    // Not at the last key of the plan (where the YAML reader notices), at the third phase.
    expect_error(
        "phase-missing-name",
        Some(40),
        Some(5),
        &["phases[2] (id: cutover) is missing `name`"],
        Some("add the key"),
    );
}

#[test]

fn missing_top_level_key_points_at_the_document() {
    let d = expect_error(
        "missing-name",
        None,
        None,
        &["the runbook is missing `name`"],
        Some("add the key"),
    );
    assert!(
        d.line <= 4,
        "line {} is not where the runbook starts",
        d.line
    );
}

#[test]
fn invalid_duration_says_how_to_write_one() {
    expect_error(
        "bad-duration",
        Some(24),
        Some(28),
        &["`half an hour` is not a duration", "30s, 15m, 4h or 1h30m"],
        None,
    );
}

#[test]
fn rollout_flag_naming_an_unknown_flag() {
    expect_error(
        "rollout-unknown-flag",
        Some(19),
        Some(9),
        &["rollout.flag names unknown flag `pcnt`"],
        Some("known flags: enabled, pct"),
    );
}

#[test]
fn rollout_gate_naming_an_unknown_metric() {
    expect_error(
        "gate-unknown-metric",
        Some(26),
        Some(10),
        &["rollout.gate names unknown metric `error_rat`"],
        Some("known metrics: cache_hit_rate, error_rate"),
    );
}

#[test]
fn rollout_steps_not_increasing() {
    expect_error(
        "steps-not-increasing",
        Some(24),
        Some(18),
        &["rollout step 5 % does not increase on the step before (10 %)"],
        Some("increasing order"),
    );
}

#[test]
fn rollout_step_above_100() {
    expect_error(
        "step-above-100",
        Some(25),
        Some(18),
        &["rollout step percent 150 is outside 1..=100"],
        None,
    );
}

#[test]
fn warning_beyond_critical_when_higher_is_worse() {
    expect_error(
        "warning-beyond-critical-above",
        Some(52),
        Some(14),
        &["metric `error_rate`: warning threshold 2 is beyond its critical threshold 1"],
        Some("warning must be below critical"),
    );
}

#[test]
fn warning_beyond_critical_when_lower_is_worse() {
    expect_error(
        "warning-beyond-critical-below",
        Some(60),
        Some(14),
        &["metric `cache_hit_rate`: warning threshold 60 is beyond its critical threshold 70"],
        Some("warning must be above critical"),
    );
}

#[test]
fn duplicate_flag_id() {
    expect_error(
        "duplicate-flag",
        Some(18),
        Some(9),
        &["duplicate flag id `enabled`"],
        Some("the first `enabled` is at line 15"),
    );
}

#[test]
fn duplicate_phase_id() {
    expect_error(
        "duplicate-phase",
        Some(40),
        Some(9),
        &["duplicate phase id `prepare`"],
        Some("the first `prepare` is at line 28"),
    );
}

#[test]
fn duplicate_metric_id() {
    expect_error(
        "duplicate-metric",
        Some(62),
        Some(9),
        &["duplicate metric id `error_rate`"],
        Some("the first `error_rate` is at line 48"),
    );
}

#[test]
fn procedure_step_with_two_actions() {
    expect_error(
        "step-two-actions",
        None,
        None,
        &[
            "procedure `flag-off`, step `Disable the feature`",
            "has 2 actions, needs exactly one",
        ],
        Some("set_flag"),
    );
}

#[test]
fn procedure_step_with_no_action() {
    expect_error(
        "step-no-action",
        None,
        None,
        &[
            "procedure `flag-off`, step `Disable the feature`",
            "has 0 actions, needs exactly one",
        ],
        Some("one of: switch_pool, set_flag"),
    );
}

#[test]
fn set_flag_step_naming_an_unknown_flag() {
    expect_error(
        "set-flag-unknown",
        None,
        None,
        &[
            "procedure `flag-off`, step `Disable the feature`",
            "names unknown flag `enabeld`",
        ],
        Some("known flags:"),
    );
}

#[test]

fn procedure_step_errors_point_at_the_step() {
    expect_error("step-two-actions", Some(67), None, &["2 actions"], None);
    expect_error("step-no-action", Some(67), None, &["0 actions"], None);
    // A `set_flag` error points at the flag it names, on the line after the step's name.
    expect_error(
        "set-flag-unknown",
        Some(68),
        Some(27),
        &["unknown flag `enabeld`"],
        None,
    );
}

/// A `set_flag` written as a block mapping: the error points at the offending value (the flag
/// it names, the value it sets), not at its first key.
#[test]
fn a_block_set_flag_is_pointed_at_its_offending_value() {
    expect_error(
        "set-flag-block-unknown",
        Some(70),
        Some(17),
        &["names unknown flag `enabeld`"],
        Some("known flags: pct, enabled"),
    );
    expect_error(
        "set-flag-block-bad-value",
        Some(70),
        Some(18),
        &["value 7 does not fit flag `enabled`"],
        None,
    );
}

#[test]
fn checklist_id_equal_to_a_phase_id() {
    expect_error(
        "checklist-is-phase",
        Some(41),
        Some(9),
        &["checklist id `prepare` is also a phase id"],
        Some("`prepare-checklist`"),
    );
}

/// Only the demo and rehearsals read `sim:`: an unknown signal (a typo, or a name from an
/// earlier version) is a warning at its place, and the runbook loads.
#[test]
fn unknown_simulator_signal_is_a_warning_at_its_place() {
    let f = fixture("unknown-signal.yaml");
    let r = check1(&f);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.all());
    let ds = diags(&f, &r.stdout);
    assert_eq!(ds.len(), 1, "one warning\n{}", r.all());
    let w = &ds[0];
    assert_eq!(
        (w.severity.as_str(), w.line, w.col),
        ("warning", 55, 10),
        "{}",
        r.all()
    );
    assert!(
        w.message
            .contains("metric `error_rate`: unknown simulator signal `eror_rate`; the demo and rehearsals show it as stale"),
        "{}",
        r.all()
    );
    assert!(
        w.hint
            .as_deref()
            .is_some_and(|h| h.contains("signals: request_rate, error_rate")),
        "{}",
        r.all()
    );
}

#[test]
fn phase_owner_naming_an_unknown_team() {
    expect_error(
        "unknown-owner",
        Some(39),
        Some(12),
        &["phase `canary` owner names unknown team `opps`"],
        Some("known teams: ops"),
    );
}

#[test]
fn every_bad_fixture_fails_with_exit_2_and_a_located_error() {
    let dir = root().join("tests/fixtures/bad");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("tests/fixtures/bad") {
        let p = e.expect("dir entry").path();
        if p.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let rel = p
            .strip_prefix(root())
            .expect("under the root")
            .to_path_buf();
        let r = check1(&rel);
        r.assert_no_panic();
        assert_eq!(r.code, Some(2), "{}\n{}", rel.display(), r.all());
        let ds = diags(&rel, &r.stderr);
        assert!(
            !ds.is_empty() && ds.iter().all(|d| d.line >= 1 && d.col >= 1),
            "{}: FILE:LINE:COL: error\n{}",
            rel.display(),
            r.all()
        );
        n += 1;
    }
    assert!(n >= 18, "only {n} bad fixtures");
}

#[test]
fn several_files_check_each_and_fail_if_any_fails() {
    let good = fixture("minimal.yaml");
    let badf = bad("duplicate-flag");
    let r = check(&[&good, &badf]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(
        r.stdout.starts_with(&format!("{}: ok", good.display())),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.starts_with(&format!(
            "{}:18:9: error: duplicate flag id",
            badf.display()
        )),
        "{}",
        r.all()
    );
}

// ---------------------------------------------------------------------------------------------
// Files that are not runbooks at all.

/// Expect exit 2, a message on stderr that names the file and holds `needle`, no panic, and a
/// quick answer.
fn expect_file_error(path: &Path, needle: &str) -> Run {
    let r = check1(path);
    r.assert_no_panic();
    assert_eq!(r.code, Some(2), "{}\n{}", path.display(), r.all());
    assert!(
        r.stderr.starts_with(&format!("{}:", path.display())),
        "the message names the file\n{}",
        r.all()
    );
    assert!(
        r.stderr.contains(needle),
        "the message should contain {needle:?}\n{}",
        r.all()
    );
    r
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[test]
fn missing_file() {
    let d = tmp();
    expect_file_error(
        &d.path().join("no-such-runbook.yaml"),
        ": error: no such file",
    );
}

#[test]
fn a_directory() {
    let d = tmp();
    expect_file_error(d.path(), ": error: is a directory");
}

#[test]
fn an_empty_file() {
    let d = tmp();
    let p = d.path().join("empty.yaml");
    std::fs::write(&p, "").unwrap();
    expect_file_error(&p, ": error: is empty");
    let p = d.path().join("blank.yaml");
    std::fs::write(&p, "  \n\n\t\n").unwrap();
    expect_file_error(&p, ": error: is empty");
}

#[test]
fn a_binary_file() {
    let d = tmp();
    let p = d.path().join("runbook.yaml");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    std::fs::write(&p, bytes).unwrap();
    expect_file_error(&p, ": error: looks binary (it contains NUL bytes)");
}

#[test]
fn non_utf8_bytes() {
    let d = tmp();
    let p = d.path().join("latin1.yaml");
    // "name: café" in Latin-1.
    std::fs::write(&p, b"name: caf\xe9\n").unwrap();
    expect_file_error(&p, ": error: is not UTF-8 (invalid byte at offset 9)");
}

#[test]
fn a_huge_file() {
    let d = tmp();
    let p = d.path().join("huge.yaml");
    let line = format!("# {}\n", "x".repeat(1021));
    let text = line.repeat(4 * 1024 + 1);
    assert!(text.len() as u64 > 4 * 1024 * 1024);
    std::fs::write(&p, &text).unwrap();
    expect_file_error(&p, "larger than the 4194304-byte limit");
}

#[test]
fn a_deeply_nested_file() {
    let d = tmp();
    let p = d.path().join("deep.yaml");
    std::fs::write(&p, format!("{}\n", "[".repeat(10_000))).unwrap();
    let r = expect_file_error(&p, ": error: ");
    let ds = diags(&p, &r.stderr);
    assert_eq!(ds.len(), 1, "{}", r.all());
    let m = ds[0].message.to_lowercase();
    assert!(
        m.contains("recursion") || m.contains("depth") || m.contains("nest"),
        "says it is too deep\n{}",
        r.all()
    );
    // Closed brackets and nesting inside a value that takes any YAML (a flag's `initial`).
    let p = d.path().join("deep-closed.yaml");
    std::fs::write(
        &p,
        format!("{}{}\n", "[".repeat(10_000), "]".repeat(10_000)),
    )
    .unwrap();
    expect_file_error(&p, ": error: ");
    let minimal = std::fs::read_to_string(root().join("tests/fixtures/minimal.yaml")).unwrap();
    let p = d.path().join("deep-value.yaml");
    std::fs::write(
        &p,
        minimal.replace(
            "    initial: 0\n",
            &format!(
                "    initial: {}{}\n",
                "[".repeat(10_000),
                "]".repeat(10_000)
            ),
        ),
    )
    .unwrap();
    expect_file_error(&p, ":14:");
}

#[test]

fn a_deeply_nested_file_has_a_hint() {
    let d = tmp();
    let p = d.path().join("deep.yaml");
    std::fs::write(&p, format!("{}\n", "[".repeat(10_000))).unwrap();
    let r = expect_file_error(&p, ": error: ");
    assert!(
        r.stderr.contains("hint: the file is too deeply nested"),
        "{}",
        r.all()
    );
}

/// "Billion laughs": nine levels of nine aliases, 9^9 leaves once expanded.
fn alias_bomb(indent: &str) -> String {
    let mut s = format!("{indent}a: &a [{}]\n", ["\"lol\""; 9].join(", "));
    let mut prev = 'a';
    for c in "bcdefghi".chars() {
        s.push_str(&format!(
            "{indent}{c}: &{c} [{}]\n",
            vec![format!("*{prev}"); 9].join(", ")
        ));
        prev = c;
    }
    s
}

#[test]
fn an_alias_bomb() {
    let d = tmp();
    // At the top level: the keys are unknown, but the check must not expand them first.
    let p = d.path().join("bomb-top.yaml");
    std::fs::write(&p, format!("{}name: *i\n", alias_bomb(""))).unwrap();
    expect_file_error(&p, ": error: ");
    // Inside a key that takes any YAML value (rollout.requires_flags), so it is expanded.
    let minimal = std::fs::read_to_string(root().join("tests/fixtures/minimal.yaml")).unwrap();
    let p = d.path().join("bomb.yaml");
    std::fs::write(
        &p,
        minimal.replace(
            "  gate: [error_rate]\n",
            &format!(
                "  gate: [error_rate]\n  requires_flags:\n{}",
                alias_bomb("    ")
            ),
        ),
    )
    .unwrap();
    let r = expect_file_error(&p, ": error: ");
    assert!(
        r.stderr
            .contains("hint: the file is too deeply nested or expands too many aliases"),
        "{}",
        r.all()
    );
}

#[test]
fn an_sql_check_that_writes_is_refused() {
    let line = std::fs::read_to_string(bad("sql-writes"))
        .expect("fixture")
        .lines()
        .position(|l| l.contains("sql: \"DELETE"))
        .map(|i| i as u64 + 1);
    expect_error(
        "sql-writes",
        line,
        None,
        &["`sql` must be a read-only query"],
        Some("read-only transaction"),
    );
}

#[test]
fn no_override_naming_an_unknown_check() {
    expect_error(
        "no-override-unknown-check",
        Some(69),
        Some(14),
        &["no_override names unknown check `critical_alert`"],
        Some("no_critical_alert"),
    );
}

#[test]
fn abort_on_with_a_zero_countdown() {
    expect_error(
        "abort-zero-countdown",
        Some(70),
        Some(16),
        &["abort_on[1]: countdown is zero"],
        Some("the lead needs time"),
    );
}

#[test]
fn a_success_criterion_window_without_a_metric() {
    expect_error(
        "criterion-window-without-metric",
        Some(70),
        Some(53),
        &["success criterion `No complaints`: a window without a metric"],
        Some("add `metric:`"),
    );
}

// ---------------------------------------------------------------------------------------------
// targets.load_balancer: a URL (kind http) or a mapping with a kind.

#[test]
fn load_balancer_unknown_kind_lists_the_kinds() {
    expect_error(
        "lb-unknown-kind",
        Some(71),
        None,
        &["targets.load_balancer.kind", "unknown kind `envoy`"],
        Some("http, haproxy, nginx"),
    );
}

#[test]
fn load_balancer_missing_key_is_named_with_a_hint() {
    expect_error(
        "lb-haproxy-no-socket",
        Some(71),
        None,
        &["kind haproxy needs `socket`"],
        Some("stats socket"),
    );
}

#[test]
fn load_balancer_key_of_another_kind_is_an_error() {
    expect_error(
        "lb-nginx-foreign-key",
        Some(71),
        None,
        &["`socket` is not a key of kind nginx"],
        Some("include, config"),
    );
}

#[test]
fn load_balancer_http_mapping_passes() {
    let f = fixture("lb-http.yaml");
    let r = check1(&f);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.all());
}

#[test]
fn load_balancer_nginx_mapping_passes() {
    let f = fixture("lb-nginx.yaml");
    let r = check1(&f);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.all());
}

#[test]
fn server_state_names_backend_and_server() {
    expect_error(
        "server-state-no-backend",
        None,
        None,
        &[
            "step `Disable the feature`",
            "server_state names `b0`, not BACKEND/SERVER",
        ],
        Some("e.g. blue/b0"),
    );
}

// targets.flags: a URL (kind http) or a mapping with a kind.

#[test]
fn flags_unknown_kind_lists_the_kinds() {
    expect_error(
        "flags-unknown-kind",
        Some(71),
        None,
        &["targets.flags.kind", "unknown kind `launchdarkly`"],
        Some("http, unleash"),
    );
}

#[test]
fn unleash_without_a_token_is_named_with_a_hint() {
    expect_error(
        "flags-unleash-no-token",
        Some(71),
        None,
        &["kind unleash needs `token`"],
        Some("${UNLEASH_ADMIN_TOKEN}"),
    );
}

/// A token written in the runbook is refused, and `check` does not repeat it.
#[test]
fn unleash_refuses_a_literal_token_without_showing_it() {
    let d = expect_error(
        "flags-unleash-literal-token",
        Some(71),
        None,
        &["targets.flags.token: a token written in the runbook"],
        Some("from the environment"),
    );
    assert!(!format!("{d:?}").contains("s3cret"), "{d:?}");
    let r = check1(&bad("flags-unleash-literal-token"));
    assert!(!r.all().contains("s3cret"), "{}", r.all());
}

#[test]
fn unleash_mapping_passes() {
    let f = fixture("flags-unleash.yaml");
    let r = check1(&f);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.all());
}

/// Values that load but make no sense are warnings at their place: a step with no bake before
/// another step, a procedure whose target is zero or that waits for a second operator, sources
/// read more often than every second. An `approval` other than `two-person` is an error.
#[test]
fn values_that_make_no_sense_are_warnings() {
    let text = std::fs::read_to_string(fixture("minimal.yaml")).expect("fixture");
    let text = text
        .replace("{ percent: 10, bake: 15m }", "{ percent: 10, bake: 0s }")
        .replace("target: 30s", "target: 0s\n    approval: two-person")
        + "\nmonitoring: { interval: 0s }\n";
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("odd.yaml");
    std::fs::write(&f, &text).expect("write");
    let r = check1(&f);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "warnings do not fail check\n{}", r.all());
    let ds = diags(&f, &r.stdout);
    let find = |needle: &str| {
        ds.iter()
            .find(|d| d.severity == "warning" && d.message.contains(needle))
            .unwrap_or_else(|| panic!("no warning with {needle:?}\n{}", r.all()))
    };
    let bake = find("rollout step 10 % has no bake: 50 % may follow at once");
    assert_eq!(bake.line, 23, "at the step\n{}", r.all());
    let target = find("has a target of 0s: every run of it will be over target");
    assert!(target.line > 23, "at the procedure\n{}", r.all());
    let interval = find("monitoring.interval is 0s: every source is read every 100ms");
    assert_eq!(
        interval.line as usize,
        text.lines().count(),
        "at the monitoring mapping, the last line\n{}",
        r.all()
    );
    // A rollback that waits for a second operator: said, at its procedure.
    let waits = find("procedure `flag-off` has approval: two-person: this rollback waits");
    assert_eq!(waits.line, target.line, "{}", r.all());
    // The last step's zero bake is no warning: nothing follows it.
    assert!(!r.stdout.contains("rollout step 100 %"), "{}", r.all());
    let typo = text.replace("approval: two-person", "approval: two-people");
    std::fs::write(&f, &typo).expect("write");
    let r = check1(&f);
    r.assert_no_panic();
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains("two-person"), "{}", r.all());
}

/// `approval: two-person` on a pool marks `s` to that pool: on the pool the deployment starts
/// from (the way back) it is a warning at its line, on the other pool it is not.
#[test]
fn a_two_person_switch_back_to_the_starting_pool_is_a_warning() {
    let text = std::fs::read_to_string(fixture("minimal.yaml")).expect("fixture");
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("pools.yaml");
    for (pool, warned) in [("blue", true), ("green", false)] {
        let marked = text.replacen(
            &format!("  {pool}:\n    servers: [{pool}-1:3000]\n"),
            &format!("  {pool}:\n    servers: [{pool}-1:3000]\n    approval: two-person\n"),
            1,
        );
        assert_ne!(marked, text, "the fixture's {pool} pool moved");
        std::fs::write(&f, &marked).expect("write");
        let r = check1(&f);
        r.assert_no_panic();
        assert_eq!(r.code, Some(0), "{}", r.all());
        let ds = diags(&f, &r.stdout);
        let w = ds
            .iter()
            .find(|d| d.severity == "warning" && d.message.contains("pool `blue` has approval"));
        assert_eq!(w.is_some(), warned, "{pool}: {}", r.all());
        if let Some(w) = w {
            assert_eq!(w.line, 9, "at the pool's approval\n{}", r.all());
        }
    }
}

fn minimal_with_metric(dir: &Path, metric: &str) -> PathBuf {
    let text = std::fs::read_to_string(fixture("minimal.yaml")).expect("fixture");
    let text = text.replace("metrics:\n", &format!("metrics:\n{metric}"));
    let f = dir.join("m.yaml");
    std::fs::write(&f, text).expect("write");
    f
}

/// Where a metric's value comes from is stated: `from: postgres_replication` for the replica's
/// lag; with a `query` too it has two sources, an error at `from`. A runbook from before `from`
/// whose `replication_lag` had neither query nor sql still loads, with a warning saying so.
#[test]
fn a_metric_says_where_its_value_comes_from() {
    let dir = tempfile::tempdir().expect("tmp");
    let stated = "  - { id: replica_behind, name: Replica behind, group: db, unit: s, from: postgres_replication }\n";
    let r = check1(&minimal_with_metric(dir.path(), stated));
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(!r.stdout.contains("warning"), "{}", r.all());

    let both = "  - { id: replica_behind, name: Replica behind, group: db, from: postgres_replication, query: up }\n";
    let f = minimal_with_metric(dir.path(), both);
    let r = check1(&f);
    assert_eq!(r.code, Some(2), "{}", r.all());
    let ds = diags(&f, &r.stderr);
    assert!(
        ds.iter().any(|d| d.line == 48
            && d.message
                .contains("metric `replica_behind` has `from` and also `query`")),
        "{}",
        r.all()
    );

    let legacy = "  - { id: replication_lag, name: Replication lag, group: db, unit: s }\n";
    let f = minimal_with_metric(dir.path(), legacy);
    let r = check1(&f);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let ds = diags(&f, &r.stdout);
    assert!(
        ds.iter().any(|d| d.severity == "warning"
            && d.line == 48
            && d.message
                .contains("read from PostgreSQL's replication because of its id")
            && d.hint.as_deref() == Some("say so: from: postgres_replication")),
        "{}",
        r.all()
    );
}

// ---------------------------------------------------------------------------------------------
// What the simulator plays: a metric's own signal, the plan's own scenarios.

/// A rollout gate metric with no simulated signal: the demo's gate could never open. A warning
/// at the gate's entry, and the runbook loads.
#[test]
fn a_gate_metric_without_a_simulated_signal_is_a_warning_at_the_gate() {
    let f = fixture("gate-without-signal.yaml");
    let r = check1(&f);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.all());
    let ds = diags(&f, &r.stdout);
    assert_eq!(ds.len(), 1, "one warning\n{}", r.all());
    let w = &ds[0];
    assert_eq!(
        (w.severity.as_str(), w.line),
        ("warning", 25),
        "{}",
        r.all()
    );
    assert!(
        w.message
            .contains("rollout.gate metric `error_rate` has no simulated signal")
            && w.message.contains("the gate never opens"),
        "{}",
        r.all()
    );
    assert!(
        w.hint.as_deref().is_some_and(|h| h.contains("simulate:")),
        "{}",
        r.all()
    );
}

/// A metric's own `simulate:` signal and a scenario of the plan's own pass `check`.
#[test]
fn a_plans_own_signal_and_scenario_pass() {
    let f = fixture("own-signal.yaml");
    let r = check1(&f);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(diags(&f, &r.stdout).is_empty(), "{}", r.all());
}

#[test]
fn a_scenario_that_plays_nothing() {
    expect_error(
        "scenario-plays-nothing",
        Some(69),
        None,
        &["scenario `quiet` plays nothing"],
        Some("server_down: green"),
    );
}

#[test]
fn a_scenario_with_a_built_in_name() {
    expect_error(
        "scenario-built-in-name",
        Some(69),
        None,
        &["scenario `bad-canary` has the name of a built-in scenario"],
        Some("built-in scenarios: healthy, bad-canary"),
    );
}

#[test]
fn a_scenario_from_a_phase_the_simulator_cannot_see_start() {
    expect_error(
        "scenario-from-phase-without-steps",
        Some(72),
        None,
        &["scenario `late` starts with phase `canary`, which runs no steps"],
        Some("first on_start step"),
    );
}

/// Webhooks: a name given twice is an error, an unset `${VAR}` in a URL a warning — and what
/// check says names the webhook, never its URL (a secret).
#[test]
fn webhook_urls_are_checked_and_never_shown() {
    let text = std::fs::read_to_string(fixture("minimal.yaml")).expect("fixture");
    let secret = "hooks/T0KEN-s3cret";
    let text = format!(
        "{text}\ncommunication:\n  webhooks:\n    - {{ name: chat, url: \"https://chat.example/{secret}/${{WARROOM_TEST_UNSET_HOOK}}\" }}\n    - {{ name: chat, url: \"https://chat.example/{secret}\", format: json, events: [rollback, alert] }}\n"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("hooks.yaml");
    std::fs::write(&f, &text).expect("write");
    let r = check1(&f);
    r.assert_no_panic();
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(
        r.all().contains("webhook `chat` is named twice"),
        "{}",
        r.all()
    );
    assert!(
        r.all()
            .contains("${WARROOM_TEST_UNSET_HOOK}, which is not set"),
        "{}",
        r.all()
    );
    assert!(
        !r.all().contains(secret),
        "a webhook URL shown\n{}",
        r.all()
    );
    // An event kind a webhook cannot hear is an error.
    std::fs::write(&f, text.replace("[rollback, alert]", "[rollbacks]")).expect("write");
    let r = check1(&f);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.all().contains("rollbacks"), "{}", r.all());
}

#[test]
fn a_flag_s_initial_and_a_requires_flags_entry_are_pointed_at_exactly() {
    expect_error(
        "flag-initial-does-not-fit",
        Some(17),
        Some(14),
        &["flag `enabled`: initial value 3 does not fit its kind"],
        None,
    );
    // The second entry, not `rollout.flag` nor the first entry.
    expect_error(
        "requires-flags-unknown",
        Some(29),
        Some(5),
        &["rollout.requires_flags names unknown flag `enabeld`"],
        None,
    );
}

#[test]
fn a_pool_server_s_variable_is_pointed_at_its_entry() {
    expect_error(
        "pool-server-bad-variable",
        Some(12),
        Some(9),
        &["pools.green.servers: `${` without a closing `}`"],
        None,
    );
}

/// Servers written as a `${…}` that expands to nothing (`${VAR:-}`, empty on purpose) leave
/// the pool with nothing to health-check: a warning at that entry, not at the top of the file.
#[test]
fn a_pool_whose_servers_expand_to_nothing_is_pointed_at_the_variable() {
    let f = fixture("pool-servers-expand-to-nothing.yaml");
    let r = check1(&f);
    assert_eq!(r.code, Some(0), "a warning only: {}", r.all());
    let ds = diags(&f, &r.stdout);
    assert!(
        ds.iter().any(|d| (d.line, d.col) == (10, 15)
            && d.severity == "warning"
            && d.message.starts_with(
                "pools.green has no servers: `${WARROOM_TEST_EMPTY_GREEN:-}` expands to nothing"
            )),
        "{}",
        r.all()
    );
    // A pool with neither servers nor a deployment: at the pool's own line.
    let text = std::fs::read_to_string(fixture("minimal.yaml")).expect("fixture");
    let text = text.replace(
        "  green:\n    servers: [green-1:3000]",
        "  green:\n    health_path: /up",
    );
    let dir = tmp();
    let f = dir.path().join("no-servers.yaml");
    std::fs::write(&f, text).expect("write");
    let r = check1(&f);
    assert_eq!(r.code, Some(2), "{}", r.all());
    let ds = diags(&f, &r.stderr);
    assert!(
        ds.iter().any(|d| (d.line, d.col) == (10, 5)
            && d.message == "pools.green has no servers and no deployment"),
        "{}",
        r.all()
    );
}

/// Write `text` to a file and check it: exit 2 and its one error.
fn one_error(name: &str, text: &str) -> (Diag, Run) {
    let dir = tmp();
    let f = dir.path().join(name);
    std::fs::write(&f, text).expect("write");
    let r = check1(&f);
    r.assert_no_panic();
    assert_eq!(r.code, Some(2), "{}", r.all());
    let mut ds = diags(&f, &r.stderr);
    assert_eq!(ds.len(), 1, "{}", r.all());
    (ds.remove(0), r)
}

/// Mistakes YAML makes easy, said in words: text with a comma inside `{ … }` (the rest reads
/// as a key), an alias inside the anchor it names, a negative duration.
#[test]
fn yaml_slips_are_said_in_words() {
    let minimal = std::fs::read_to_string(fixture("minimal.yaml")).expect("fixture");
    let (d, r) = one_error(
        "comma.yaml",
        &minimal.replace("text: Backup done }", "text: Backup done, then verified }"),
    );
    assert_eq!((d.line, d.col), (34, 47), "{}", r.all());
    assert!(
        d.message.contains("unknown field `then verified`"),
        "{}",
        r.all()
    );
    assert_eq!(
        d.hint.as_deref(),
        Some(
            "inside `{ … }` a comma ends a value: if `then verified` belongs to the text before it, put that text in quotes, e.g. text: \"Backup done, then verified\""
        ),
        "{}",
        r.all()
    );
    // Outside a flow mapping an unknown key keeps the list of the keys there are.
    let (d, r) = one_error(
        "block.yaml",
        &minimal.replace(
            "    owner: ops\n    checklist:",
            "    owner: ops\n    then verified: x\n    checklist:",
        ),
    );
    assert!(d.message.contains("expected one of"), "{}", r.all());
    assert!(!r.stderr.contains("comma"), "{}", r.all());

    let (d, r) = one_error(
        "alias.yaml",
        &minimal.replace(
            "teams:\n  - { id: ops, name: Ops Team }",
            "teams: &crew\n  - { id: ops, name: Ops Team, responsibilities: *crew }",
        ),
    );
    assert_eq!((d.line, d.col), (5, 50), "at the alias\n{}", r.all());
    assert_eq!(
        d.message,
        "the alias `*crew` refers to itself: it is inside the value anchored as `&crew`, which would contain itself forever",
        "{}",
        r.all()
    );
    assert!(!r.stderr.contains("weak"), "{}", r.all());

    let (d, r) = one_error(
        "negative.yaml",
        &minimal.replace("target: 30s", "target: -30s"),
    );
    assert!(
        d.message
            .contains("`-30s` is negative: a duration says how long"),
        "{}",
        r.all()
    );
}
