//! `warroom rehearse`: the plan driven headless through the console's keys and gates, on
//! virtual time, from the command line as a team's CI would run it.

use std::path::Path;
use std::process::Command;

/// Run `warroom rehearse ARGS --format json --audit DIR/NAME`; the exit code and the report.
fn rehearse(dir: &Path, name: &str, args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let audit = dir.join(name);
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("rehearse")
        .args(args)
        .args(["--format", "json", "--operator", "ci"])
        .arg("--audit")
        .arg(&audit)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("warroom runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), report, format!("{stdout}{stderr}"))
}

fn verifies(audit: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["audit", "verify"])
        .arg(audit)
        .output()
        .expect("warroom runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn the_straight_path_completes_the_seed_plan_and_its_log_verifies() {
    let dir = tempfile::tempdir().expect("tmp");
    let (code, r, out) = rehearse(
        dir.path(),
        "ok.audit",
        &["runbooks/unified-attributes.yaml"],
    );
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(r["completed"], true, "{out}");
    assert_eq!(r["rollout_percent"], 100);
    assert_eq!(r["rollout_percent_max"], 100);
    assert_eq!(r["active_pool"], "green");
    assert_eq!(r["blocked"], serde_json::Value::Null);
    assert_eq!(r["phases_completed"].as_array().map(|a| a.len()), Some(6));
    // Hours of bake, in virtual time.
    assert!(
        r["virtual_seconds"].as_f64().is_some_and(|s| s > 3600.0),
        "{out}"
    );
    verifies(&dir.path().join("ok.audit"));
}

/// Both shipped plans: the seed, and a second one written from runbooks/README.md alone
/// (other phases, no migration, other metrics and steps).
const PLANS: &[(&str, u64)] = &[
    ("runbooks/unified-attributes.yaml", 10),
    ("runbooks/checkout-v2.yaml", 5),
];

#[test]
fn the_second_plan_completes_on_the_straight_path_too() {
    let dir = tempfile::tempdir().expect("tmp");
    let (code, r, out) = rehearse(dir.path(), "c.audit", &["runbooks/checkout-v2.yaml"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(r["completed"], true, "{out}");
    assert_eq!(
        r["phases_completed"],
        serde_json::json!(["shadow", "canary", "retire-v1"])
    );
    assert_eq!(r["rollout_percent"], 100);
    // Its canary moves only the flag, and its 100 % step leaves the pools as they are: the
    // load balancer moves to the v2 pool in the retire-v1 phase's own step.
    assert_eq!(r["active_pool"], "green", "{out}");
    verifies(&dir.path().join("c.audit"));
}

fn script(dir: &Path, text: &str) -> String {
    let p = dir.join("script.yaml");
    std::fs::write(&p, text).expect("write script");
    p.to_str().expect("utf-8").to_string()
}

#[test]
fn a_flag_only_canary_reaches_100_percent_without_switching_the_pool() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(
        dir.path(),
        "- tick: all\n- go: GO\n- advance_to: 20\n\
         - expect: {rollout_percent: 20, active_pool: blue}\n\
         - advance_to: 100\n\
         - expect: {rollout_percent: 100, active_pool: blue, phase: canary}\n",
    );
    let (code, r, out) = rehearse(
        dir.path(),
        "f.audit",
        &["runbooks/checkout-v2.yaml", "--script", &s],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        r["expectations"]
            .as_array()
            .is_some_and(|e| e.len() == 2 && e.iter().all(|x| x["ok"] == true)),
        "{out}"
    );
    verifies(&dir.path().join("f.audit"));
}

#[test]
fn setting_the_rollout_flag_to_0_ends_a_bad_canary_s_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(
        dir.path(),
        "- tick: all\n- go: GO\n- advance_to: 5\n- wait: 3m\n\
         - expect: {rollout_percent: 5, alert_firing: v2_errors}\n\
         - rollback: pause\n- wait: 5m\n\
         - expect: {rollout_percent: 0, alert_not_firing: v2_errors}\n",
    );
    let (code, r, out) = rehearse(
        dir.path(),
        "b.audit",
        &[
            "runbooks/checkout-v2.yaml",
            "--scenario",
            "bad-canary",
            "--script",
            &s,
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    // Only the share went to 0: the feature flag is still on, and green's errors ended.
    assert_eq!(r["rollbacks"][0]["procedure"], "pause", "{out}");
    verifies(&dir.path().join("b.audit"));
}

#[test]
fn a_bad_canary_stops_at_the_first_rollout_step_with_the_failing_error_rate() {
    for (plan, first) in PLANS {
        let dir = tempfile::tempdir().expect("tmp");
        let (code, r, out) = rehearse(dir.path(), "bad.audit", &[plan, "--scenario", "bad-canary"]);
        assert_eq!(code, Some(1), "{plan}: {out}");
        assert_eq!(r["completed"], false);
        assert_eq!(r["rollout_percent"], *first, "{plan}: {out}");
        assert_eq!(r["active_pool"], "blue");
        let failing: Vec<String> = r["blocked"]["checks"]
            .as_array()
            .expect("the blocked move's checks")
            .iter()
            .filter(|c| c["pass"] == false)
            .map(|c| c["name"].as_str().unwrap_or_default().to_lowercase())
            .collect();
        assert!(
            failing.iter().any(|n| n.contains("error rate")),
            "{plan}: {failing:?}"
        );
        verifies(&dir.path().join("bad.audit"));
    }
}

#[test]
fn a_script_rolls_back_at_25_percent_and_its_expectations_are_checked() {
    let dir = tempfile::tempdir().expect("tmp");
    let script = dir.path().join("rollback.yaml");
    std::fs::write(
        &script,
        "- advance_to: 25\n\
         - expect: {rollout_percent: 25, active_pool: blue}\n\
         - rollback: instant\n\
         - expect: {rollout_percent: 0, next_rollout_percent: 10, active_pool: blue}\n\
         - expect: {rollout_percent: 50}\n",
    )
    .expect("write script");
    let script = script.to_str().expect("utf-8");
    let (code, r, out) = rehearse(dir.path(), "s.audit", &["--script", script]);
    // The last expectation is wrong on purpose: the exit code says so.
    assert_eq!(code, Some(1), "{out}");
    let ex = r["expectations"].as_array().expect("expectations");
    let oks: Vec<bool> = ex.iter().map(|e| e["ok"] == true).collect();
    assert_eq!(oks, vec![true, true, false], "{out}");
    assert!(
        ex[2]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("expected 50"))
    );
    let rb = &r["rollbacks"][0];
    assert_eq!(rb["procedure"], "instant");
    assert_eq!(rb["within_target"], true, "{out}");
    assert_eq!(r["rollout_percent_max"], 25);
}

/// The issue's own check, as written: a script that rolls back at 25 % and expects the rollout
/// at 0 % with the first step next passes, and `rehearse` says so with exit 0.
#[test]
fn a_script_that_rolls_back_at_25_percent_passes_with_exit_0() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(
        dir.path(),
        "- advance_to: 25\n- rollback: instant\n\
         - expect: {rollout_percent: 0, next_rollout_percent: 10}\n",
    );
    let (code, r, out) = rehearse(
        dir.path(),
        "pass.audit",
        &["runbooks/unified-attributes.yaml", "--script", &s],
    );
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(r["rollout_percent"], 0, "{out}");
    assert_eq!(r["rollout_percent_max"], 25, "{out}");
    assert_eq!(
        r["expectations"],
        serde_json::json!([{
            "index": 3,
            "ok": true,
            "detail": "rollout_percent 0, next_rollout_percent 10"
        }]),
        "{out}"
    );
    verifies(&dir.path().join("pass.audit"));
}

#[test]
fn a_broken_script_is_refused_with_its_place() {
    let dir = tempfile::tempdir().expect("tmp");
    let script = dir.path().join("bad.yaml");
    std::fs::write(&script, "- advance\n- rollback: nowhere\n").expect("write");
    let s = script.to_str().expect("utf-8");
    let (code, _, out) = rehearse(dir.path(), "x.audit", &["--script", s]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("bad.yaml") && out.contains("move 2") && out.contains("instant"),
        "{out}"
    );
    assert!(!dir.path().join("x.audit").exists(), "nothing written");
    std::fs::write(&script, "- jump: 3\n").expect("write");
    let (code, _, out) = rehearse(dir.path(), "y.audit", &["--script", s]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("bad.yaml"), "{out}");
}

/// A log names its runbook by the path its console was given: exported from elsewhere, a
/// relative path is not found, and the error says how to give the runbook.
#[test]
fn exporting_a_log_from_elsewhere_says_how_to_give_its_runbook() {
    let dir = tempfile::tempdir().expect("tmp");
    let (code, _, out) = rehearse(dir.path(), "e.audit", &["runbooks/checkout-v2.yaml"]);
    assert_eq!(code, Some(0), "{out}");
    let export = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_warroom"))
            .args(["audit", "export", "e.audit", "--format", "markdown"])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .expect("warroom runs")
    };
    let o = export(&[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("runbooks/checkout-v2.yaml") && err.contains("--runbook PATH"),
        "{err}"
    );
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/checkout-v2.yaml");
    let o = export(&["--runbook", plan.to_str().expect("utf-8")]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A plan's own scenario (`scenarios:` in checkout-v2): v2's p99 climbs once it takes its
/// first share, and the rehearsal stops at the next step with the p99 check failing.
#[test]
fn a_plans_own_scenario_plays_and_blocks_the_gate() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = "runbooks/checkout-v2.yaml";
    let (code, r, out) = rehearse(dir.path(), "slow.audit", &[plan, "--scenario", "slow-v2"]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(r["rollout_percent"], 5, "{out}");
    let failing: Vec<String> = r["blocked"]["checks"]
        .as_array()
        .expect("the blocked move's checks")
        .iter()
        .filter(|c| c["pass"] == false)
        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        failing.iter().any(|n| n.contains("Checkout p99")),
        "{failing:?}"
    );
    verifies(&dir.path().join("slow.audit"));
    // The session line names the scenario played.
    let md = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["audit", "export", "--format", "markdown", "--runbook", plan])
        .arg(dir.path().join("slow.audit"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("warroom runs");
    assert!(
        String::from_utf8_lossy(&md.stdout).contains("slow-v2"),
        "{}",
        String::from_utf8_lossy(&md.stdout)
    );
}

/// An unknown scenario is bad input: exit 2, and the names there are, the plan's own too.
#[test]
fn an_unknown_scenario_lists_the_built_in_and_the_plans_own() {
    let dir = tempfile::tempdir().expect("tmp");
    let (code, _, out) = rehearse(
        dir.path(),
        "x.audit",
        &["runbooks/checkout-v2.yaml", "--scenario", "slow-v3"],
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("no scenario `slow-v3`")
            && out.contains("bad-canary")
            && out.contains("the runbook's own: slow-v2, v2-server-down"),
        "{out}"
    );
}
