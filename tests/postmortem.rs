//! The post-mortem a reviewer reads: a log written the way a user writes one (`warroom
//! rehearse` with a script that rolls back a bad canary), exported with `warroom audit export`
//! as markdown and as HTML, and the HTML page opened in a real headless Chromium.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn warroom(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run warroom");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A plan, its first rollout step, the rollback procedure a lead would pick, and the metric
/// the bad canary breaks.
struct Plan {
    path: &'static str,
    first: u32,
    next: u32,
    procedure: &'static str,
    metric: &'static str,
}

const SEED: Plan = Plan {
    path: "runbooks/unified-attributes.yaml",
    first: 10,
    next: 25,
    procedure: "instant",
    metric: "green_error_rate",
};

const CHECKOUT: Plan = Plan {
    path: "runbooks/checkout-v2.yaml",
    first: 5,
    next: 20,
    procedure: "flag-off",
    metric: "v2_errors",
};

/// Rehearse the bad canary to its first step, let its alert fire, try the next step (its gate
/// blocks it), pass the gate with an override, then roll back; the audit log it wrote.
fn rolled_back(dir: &Path, plan: &Plan) -> PathBuf {
    let script = dir.join("rollback.yaml");
    std::fs::write(
        &script,
        format!(
            "- advance_to: {first}\n\
             - wait: 2m\n\
             - expect: {{alert_firing: {metric}}}\n\
             - advance\n\
             - expect: {{blocked: true}}\n\
             - override: \"rehearsal: the canary goes on despite the alert\"\n\
             - rollback: {procedure}\n\
             - wait: 5m\n",
            first = plan.first,
            metric = plan.metric,
            procedure = plan.procedure,
        ),
    )
    .expect("write the script");
    let audit = dir.join("bad.audit");
    let (code, out, err) = warroom(&[
        "rehearse",
        plan.path,
        "--scenario",
        "bad-canary",
        "--script",
        script.to_str().expect("utf-8"),
        "--operator",
        "alice",
        "--audit",
        audit.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        code,
        Some(0),
        "{}: every expectation holds\n{out}{err}",
        plan.path
    );
    audit
}

fn export(audit: &Path, format: &str) -> String {
    let (code, out, err) = warroom(&[
        "audit",
        "export",
        "--format",
        format,
        audit.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(0), "{err}");
    out
}

/// Whether `s` holds an RFC 3339 timestamp (`2026-11-26T10:03:44…`): the post-mortem writes
/// every time one way (`2026-11-26 10:03:44`).
fn has_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(11).any(|w| {
        w[..4].iter().all(u8::is_ascii_digit)
            && w[4] == b'-'
            && w[5..7].iter().all(u8::is_ascii_digit)
            && w[7] == b'-'
            && w[8..10].iter().all(u8::is_ascii_digit)
            && w[10] == b'T'
    })
}

/// The part of `page` from `start` to the first `end` after it.
fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let Some(i) = page.find(start) else {
        panic!("`{start}` is not in the page");
    };
    let rest = &page[i..];
    match rest.find(end) {
        Some(j) => &rest[..j],
        None => rest,
    }
}

#[test]
fn markdown_and_html_tell_the_same_post_mortem_on_both_plans() {
    for plan in [&SEED, &CHECKOUT] {
        let dir = tempfile::tempdir().expect("tmp");
        let audit = rolled_back(dir.path(), plan);
        let md = export(&audit, "markdown");
        let page = export(&audit, "html");
        let ctx = plan.path;
        for (md_head, title) in [
            ("## Summary", "Summary"),
            ("## Phases", "Phases"),
            ("## Checklist ticks", "Checklist ticks"),
            (
                "## Timeline of operator actions",
                "Timeline of operator actions",
            ),
            ("## Alerts", "Alerts"),
            ("## Time at each rollout step", "Time at each rollout step"),
            ("## Rollbacks", "Rollbacks"),
            ("## Success criteria", "Success criteria"),
            // The plan's own notes: owners and tasks on both plans.
            ("## Owners and tasks", "Owners and tasks"),
        ] {
            assert!(md.contains(md_head), "{ctx}: {md_head}\n{md}");
            assert!(
                page.contains(&format!("<h2>{title}</h2>")),
                "{ctx}: {title}"
            );
        }
        // The seed plan gives Day 1's date, a schedule, channels and what follows the last
        // phase: each is in both formats, the day numbers with their dates.
        if plan.path == SEED.path {
            for (md_says, html_says) in [
                ("## Schedule as planned", "<h2>Schedule as planned</h2>"),
                (
                    "## Communication channels",
                    "<h2>Communication channels</h2>",
                ),
                ("## Post-deployment tasks", "<h2>Post-deployment tasks</h2>"),
                ("Day 21 (Wed 2025-09-03)", "Day 21 (Wed 2025-09-03)"),
                (
                    "| Day 13 (Tue 2025-08-26) |",
                    "<td>Day 13 (Tue 2025-08-26)</td>",
                ),
                ("#deployment-unified-attrs", "#deployment-unified-attrs"),
                ("Remove feature flags", "Remove feature flags"),
            ] {
                assert!(md.contains(md_says), "{ctx}: markdown says {md_says}\n{md}");
                assert!(page.contains(html_says), "{ctx}: html says {html_says}");
            }
        }
        let first = plan.first;
        for (md_says, html_says) in [
            (
                format!("Highest rollout share reached: **{} %", plan.next),
                format!("Highest rollout share reached: <strong>{} %", plan.next),
            ),
            (
                "- Overrides: **1**".into(),
                "Overrides: <strong>1</strong>".into(),
            ),
            (
                "rehearsal: the canary goes on despite the alert".into(),
                "rehearsal: the canary goes on despite the alert".into(),
            ),
            ("- Blocked attempts:".into(), "Blocked attempts:".into()),
            (
                "| Checklist | Item | Ticked by | At |".into(),
                "<th>Ticked by</th>".into(),
            ),
            (
                format!("| {} | critical |", plan.metric),
                format!("<td>{}</td><td>critical</td>", plan.metric),
            ),
            (
                "| Step | Result | Answered | At |".into(),
                "<th>Answered</th>".into(),
            ),
            (
                format!("rollback **{}** |", plan.procedure),
                format!("rollback <strong>{}</strong>", plan.procedure),
            ),
            ("the last 15m (".into(), "the last 15m (".into()),
            ("against a target of".into(), "against a target of".into()),
        ] {
            assert!(
                md.contains(&md_says),
                "{ctx}: markdown says {md_says}\n{md}"
            );
            assert!(page.contains(&html_says), "{ctx}: html says {html_says}");
        }
        // Ticks say who and when.
        assert!(
            md.lines()
                .any(|l| l.contains("| alice | ") && l.starts_with('|')),
            "{ctx}: a tick by alice\n{md}"
        );
        // The alert's peak is at least its value at firing.
        let alert_row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {} | critical |", plan.metric)))
            .expect("the alert's row");
        let cells: Vec<&str> = alert_row.split(" | ").collect();
        let at_firing: f64 = cells[2].parse().expect("the value at firing");
        let peak: f64 = cells[3]
            .trim_start_matches("**")
            .split("**")
            .next()
            .and_then(|v| v.parse().ok())
            .expect("the peak");
        assert!(peak >= at_firing, "{ctx}: {alert_row}");
        assert!(!has_rfc3339(&md), "{ctx}: one timestamp format\n{md}");
        assert!(!has_rfc3339(&page), "{ctx}: one timestamp format");
        // A chart for the metric the canary broke, with its critical threshold, the alert and
        // the rollback marked on it.
        let fig = between(
            &page,
            &format!("<figure class=\"chart\" id=\"chart-{}\">", plan.metric),
            "</figure>",
        );
        for mark in [
            "critical ",
            "alert critical",
            &format!("rollback {}", plan.procedure),
            &format!("step {first} %"),
            &format!("override rollout {}", plan.next),
        ] {
            assert!(fig.contains(mark), "{ctx}: `{mark}` on the chart");
        }
        // A metric with thresholds has a worst reading; one only watched, a highest.
        assert!(page.contains("Worst reading (higher is worse)"), "{ctx}");
        if plan.path.contains("unified") {
            let rate = between(&page, ">Request rate", "</figure>");
            assert!(
                rate.contains("Highest reading") && !rate.contains("Worst"),
                "{ctx}: {rate}"
            );
        }
    }
}

/// The page asks for nothing: no script, no external resource, and a policy that would
/// refuse one.
fn self_contained(page: &str) {
    assert!(page.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
    ));
    for needle in [
        "<script", " src=\"", " href=\"", "url(", "@import", "<link", "<iframe", "<img",
    ] {
        assert!(!page.contains(needle), "`{needle}` in the page");
    }
}

#[test]
fn the_html_post_mortem_of_a_rolled_back_canary_renders_in_a_real_browser() {
    let Some(chromium) = support::require(
        "Chromium (Debian's chromium package)",
        support::find_binary(&["/usr/bin/chromium", "/usr/bin/chromium-browser"])
            .or_else(|| support::on_path("chromium")),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let audit = rolled_back(dir.path(), &SEED);
    let page = export(&audit, "html");
    self_contained(&page);
    let file = dir.path().join("postmortem.html");
    std::fs::write(&file, &page).expect("write the page");
    let url = format!("file://{}", file.display());
    let browser = |extra: &[&str]| {
        let profile = tempfile::tempdir().expect("a fresh browser profile");
        let out = Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("run chromium");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "chromium failed: {stderr}");
        (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
    };

    // The DOM as the browser built it from the file, with the page's console on stderr: a
    // resource the page asked for would be refused by its policy, and said so there.
    let (dom, stderr) = browser(&["--dump-dom", "--enable-logging=stderr", "--v=0"]);
    assert!(
        !stderr.contains("Content Security Policy") && !stderr.contains(":CONSOLE"),
        "the page asked for something, or said something on its console: {stderr}"
    );
    assert!(dom.contains("<h2>Metrics over the rollout</h2>"), "{dom}");
    let fig = between(
        &dom,
        "<figure class=\"chart\" id=\"chart-green_error_rate\">",
        "</figure>",
    );
    assert!(fig.contains("<svg"), "the chart is drawn inline");
    for mark in [
        "critical 1.00",
        "warning 0.50",
        "alert critical",
        "rollback instant",
        "step 10 %",
        "override rollout 25",
    ] {
        assert!(
            fig.contains(&format!(">{mark}")) || fig.contains(mark),
            "`{mark}` on the rendered error-rate chart"
        );
    }
    let share = between(
        &dom,
        "<figure class=\"chart\" id=\"chart-rollout-share\">",
        "</figure>",
    );
    assert!(share.contains("Highest share: 25 %"), "{share}");

    // A screenshot: the page paints (not a blank or an error page).
    let png = dir.path().join("postmortem.png");
    browser(&[
        "--window-size=1200,2400",
        &format!("--screenshot={}", png.display()),
    ]);
    let bytes = std::fs::read(&png).expect("the screenshot");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    assert!(
        bytes.len() > 50_000,
        "a painted page, {} bytes",
        bytes.len()
    );
    if let Ok(keep) = std::env::var("WARROOM_KEEP_SCREENSHOT") {
        std::fs::copy(&png, keep).expect("keep the screenshot");
    }
}
