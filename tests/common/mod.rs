//! Helpers for driving a session the way the console does, without a terminal.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use warroom::engine::{self, Action, Event, Outcome, State, Submission, Verdict};
use warroom::runbook::{self, Loaded};
use warroom::session::Session;

pub fn seed() -> Loaded {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/unified-attributes.yaml");
    match runbook::load(&p) {
        Ok(l) => l,
        Err(e) => panic!("the seed runbook must load: {e}"),
    }
}

/// Both shipped plans: the seed, and a second one written from runbooks/README.md alone
/// (other phases, no migration, a flag-only canary, other metrics). The tag names a plan's
/// snapshots: the seed's keep their names from before the second plan.
pub const PLANS: [(&str, &str); 2] = [
    ("runbooks/unified-attributes.yaml", ""),
    ("runbooks/checkout-v2.yaml", "checkout-v2_"),
];

pub fn tmp_audit(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// Handle session wake-ups until `cond` holds; false after `secs`.
pub async fn until(s: &mut Session, secs: u64, mut cond: impl FnMut(&State) -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while !cond(&s.st) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let _ = tokio::time::timeout(left, s.next()).await;
    }
    true
}

/// Let every queued write commit.
pub async fn settle(s: &mut Session) {
    let n = s.st.events;
    let _ = until(s, 5, |st| st.events > n).await;
}

/// Tick every item of a checklist, as the operator would with Space.
pub async fn tick_all(s: &mut Session, list: &str, items: &[String]) {
    let operator = s.operator.clone();
    let evs = items
        .iter()
        .map(|i| Event::ChecklistTicked {
            checklist: list.into(),
            item: i.clone(),
            operator: operator.clone(),
        })
        .collect();
    s.write(evs);
    let want: Vec<String> = items.to_vec();
    let list = list.to_string();
    assert!(
        until(s, 10, |st| want
            .iter()
            .all(|i| st.ticked(&list, i).is_some()))
        .await,
        "ticks not committed"
    );
}

/// Wait until the gate allows `action` (bake times, fresh readings), then submit it with its
/// phrase and wait for its outcome. Returns the outcome.
pub async fn act(s: &mut Session, action: Action, wait_secs: u64) -> Outcome {
    let ok = until(s, wait_secs, |st| {
        engine::propose(st, &s_rb(st), action.clone()).verdict() != Verdict::Blocked
    })
    .await;
    let p = engine::propose(&s.st, &s.rb, action.clone());
    assert!(
        ok,
        "gate stayed blocked for {action:?}: {:#?}",
        p.checks.iter().filter(|c| !c.pass).collect::<Vec<_>>()
    );
    let typed = p.phrase.clone().unwrap_or_default();
    let evs = engine::submit(
        &s.st,
        &s.rb,
        &p,
        &s.operator.clone(),
        &Submission {
            typed,
            override_reason: None,
            ..Default::default()
        },
    )
    .expect("submit");
    let id = s.st.next_action_id();
    s.write(evs);
    assert!(
        until(s, 60, |st| st
            .actions
            .iter()
            .any(|a| a.id == id && a.outcome != Outcome::Running))
        .await,
        "no outcome for {action:?}"
    );
    s.st.actions
        .iter()
        .find(|a| a.id == id)
        .map(|a| a.outcome.clone())
        .unwrap_or(Outcome::Unknown)
}

// `until` hands us only the state; the runbook is the seed's.
thread_local! {
    static RB: runbook::Runbook = seed().runbook;
}
fn s_rb(_st: &State) -> runbook::Runbook {
    RB.with(|r| r.clone())
}
pub mod console;
pub mod harness;
pub mod screen;

/// A frame of the console as the terminal would show it, on a fixed audit path, head and clock.
pub fn draw(
    rb: &warroom::runbook::Runbook,
    st: &State,
    log: &[String],
    ui: &warroom::ui::app::Ui,
    theme: &str,
    w: u16,
    h: u16,
) -> ratatui::Terminal<ratatui::backend::TestBackend> {
    let th = warroom::ui::theme::Theme::load(theme).expect("theme");
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("terminal");
    let chrome = warroom::ui::render::Chrome {
        audit: "/var/lib/warroom/unified.audit",
        head: "3f9a0c1e77b2",
        clock: "SIM ×30".into(),
        log: Some(log),
        now: None,
    };
    term.draw(|f| warroom::ui::render::render(f, rb, st, ui, &th, &chrome))
        .expect("draw");
    term
}

/// `warroom rehearse ARGS --audit AUDIT` in the crate root: its exit code, its stdout and
/// stderr, and the events of the log it wrote (none when it wrote none).
pub fn rehearse_log(args: &[&str], audit: &Path) -> (Option<i32>, String, Vec<Event>) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("rehearse")
        .args(args)
        .arg("--audit")
        .arg(audit)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("warroom runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let events = warroom::audit::read_all(audit)
        .map(|recs| recs.iter().filter_map(|r| r.event().ok()).collect())
        .unwrap_or_default();
    (out.status.code(), text, events)
}
