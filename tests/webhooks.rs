//! Webhooks (the runbook's `communication.webhooks`): loopback receivers get what the room
//! did — Slack's `{"text": …}` and the generic JSON body, each target only the kinds of event
//! it names — while a dead or a slow receiver delays nothing; every delivery's outcome is in the audit
//! log under the target's name, and the URL (a secret) nowhere.

mod support;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Req, Resp, Server, dead_url};
use warroom::engine::{Action, Event, Outcome};
use warroom::runbook::{self, Loaded};
use warroom::session::Session;
use warroom::sim::Scenario;
use warroom::ui::app::Ui;
use warroom::ui::keymap::Mode;

/// A secret in every URL's path: it must never reach the log, the screen or the audit.
const TOKEN: &str = "T0KEN-s3cret";

/// The seed plan, with four webhook targets after its communication channels.
fn with_webhooks(dir: &Path, slack: &str, json: &str, dead: &str, slow: &str) -> Loaded {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/unified-attributes.yaml");
    let text = std::fs::read_to_string(&seed).expect("seed");
    let hooks = format!(
        "  webhooks:\n    - {{ name: room-chat, url: \"{slack}/hooks/{TOKEN}\", events: [rollback, blocked] }}\n    - {{ name: bot, url: \"{json}/hooks/{TOKEN}\", format: json }}\n    - {{ name: dead, url: \"{dead}/hooks/{TOKEN}\" }}\n    - {{ name: slow, url: \"{slow}/hooks/{TOKEN}\" }}\n\nmonitoring:\n"
    );
    let marked = text.replacen("\nmonitoring:\n", &format!("\n{hooks}"), 1);
    assert_ne!(marked, text, "the seed's monitoring section moved");
    let p = dir.join("hooks.yaml");
    std::fs::write(&p, marked).expect("write");
    runbook::load(&p).unwrap_or_else(|e| panic!("the runbook with webhooks loads: {e}"))
}

/// A receiver that keeps each request it gets and answers 200.
async fn receiver() -> (Server, Arc<Mutex<Vec<Req>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    let s = Server::start(move |r| {
        keep.lock().expect("lock").push(r);
        Resp::text(200, "ok")
    })
    .await;
    (s, got)
}

fn press(ui: &mut Ui, s: &mut Session, code: KeyCode) {
    let op = s.operator.clone();
    warroom::ui::live::handle_key(ui, s, &op, KeyEvent::new(code, KeyModifiers::NONE));
}

/// Handle the session's wake-ups until `cond` holds; false after `secs` (a guard against a
/// hang, not a speed claim).
async fn until(s: &mut Session, secs: u64, mut cond: impl FnMut(&Session) -> bool) -> bool {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond(s) {
        if tokio::time::Instant::now() >= end {
            return false;
        }
        let _ = tokio::time::timeout(Duration::from_millis(100), s.next()).await;
    }
    true
}

fn texts(got: &Arc<Mutex<Vec<Req>>>) -> Vec<serde_json::Value> {
    got.lock().expect("lock").iter().map(|r| r.json()).collect()
}

fn sent(s: &Session, target: &str) -> Vec<(bool, u32, String)> {
    match &s.audit {
        warroom::audit::Location::File(p) => sent_in(p, target),
        _ => panic!("a file"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_hears_what_the_room_did_and_a_dead_receiver_delays_nothing() {
    let (slack, slack_got) = receiver().await;
    let (json, json_got) = receiver().await;
    let dir = tempfile::tempdir().expect("tmp");
    // A receiver that never answers in time: each attempt waits out the webhook's timeout.
    let slow = Server::start(|_| Resp::text(200, "late").after(Duration::from_secs(120))).await;
    let loaded = with_webhooks(
        dir.path(),
        &slack.url(),
        &json.url(),
        &dead_url().await,
        &slow.url(),
    );
    let audit = dir.path().join("hooks.audit");
    // A demo posts nothing (it must not tell the chat production rolled back).
    let demo = Session::start_demo(&loaded, audit.as_path(), "alice", 10.0, Scenario::Healthy)
        .await
        .expect("demo");
    assert!(
        demo.log
            .iter()
            .any(|l| l.contains("4 webhooks not used in a demo")),
        "{:?}",
        demo.log
    );
    demo.close().await;
    // `warroom run`'s session, its systems simulated.
    let mut s = run_session(&loaded, &audit).await;
    assert!(
        texts(&slack_got).is_empty() && texts(&json_got).is_empty(),
        "the demo posted"
    );
    let mut ui = Ui::new(Mode::Live);

    // A blocked GO (the checklist is open): Enter records the attempt.
    press(&mut ui, &mut s, KeyCode::Char('g'));
    press(&mut ui, &mut s, KeyCode::Enter);
    press(&mut ui, &mut s, KeyCode::Enter);
    assert!(until(&mut s, 30, |s| !s.st.blocked_attempts.is_empty()).await);
    // A rollback, typed: it runs at once, whatever the dead receiver does.
    let procedure = loaded.runbook.procedures[0].id.value.clone();
    press(&mut ui, &mut s, KeyCode::Char('r'));
    let i = loaded
        .runbook
        .procedures
        .iter()
        .position(|p| p.id.value == procedure)
        .expect("procedure");
    for _ in 0..i {
        press(&mut ui, &mut s, KeyCode::Down);
    }
    press(&mut ui, &mut s, KeyCode::Enter);
    for c in format!("rollback {procedure}").chars() {
        press(&mut ui, &mut s, KeyCode::Char(c));
    }
    press(&mut ui, &mut s, KeyCode::Enter);
    let rolled = until(&mut s, 60, |s| {
        s.st.actions.iter().any(|a| {
            matches!(a.action, Action::Rollback { .. })
                && matches!(a.outcome, Outcome::Succeeded(_))
        })
    })
    .await;
    assert!(rolled, "{:?} {:?}", ui.message, s.log);
    // The slow receiver has not answered the first notice yet (its attempts wait out their
    // timeouts): the GO attempt and the rollback never waited for it.
    assert!(
        sent(&s, "slow").is_empty(),
        "the rollback waited for the slow receiver"
    );

    // Slack's target hears the rollback (requested, then rolled back against its target) and
    // the blocked GO, in `{"text": …}`; nothing else.
    let heard = until(&mut s, 30, |_| {
        let t = texts(&slack_got);
        t.iter().any(|v| {
            v["text"]
                .as_str()
                .is_some_and(|x| x.contains("rolled back"))
        })
    })
    .await;
    assert!(heard, "{:?}", texts(&slack_got));
    let slack_texts: Vec<String> = texts(&slack_got)
        .iter()
        .map(|v| v["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        slack_texts
            .iter()
            .any(|t| t.contains("sign GO") && t.contains("BLOCKED")),
        "{slack_texts:?}"
    );
    assert!(
        slack_texts
            .iter()
            .any(|t| t.contains(&format!("ROLLBACK {procedure} requested by alice"))),
        "{slack_texts:?}"
    );
    assert!(
        slack_texts
            .iter()
            .any(|t| t.contains("rolled back") && t.contains("/ target")),
        "{slack_texts:?}"
    );
    assert!(
        texts(&slack_got)
            .iter()
            .all(|v| v.as_object().is_some_and(|o| o.len() == 1)),
        "Slack's body is {{\"text\": …}} alone"
    );
    // The generic JSON target hears every kind, with the record's seq and the topic.
    let bot = texts(&json_got);
    assert!(
        bot.iter()
            .any(|v| v["topic"] == "rollback" && v["seq"].as_i64().is_some_and(|n| n > 0)),
        "{bot:?}"
    );
    assert!(
        bot.iter()
            .all(|v| v["rollout"].is_string() && v["text"].is_string())
    );

    // Every delivery's outcome is recorded; the dead one's after its retries.
    let dead = until(&mut s, 60, |s| {
        sent(s, "dead")
            .iter()
            .any(|(ok, attempts, _)| !ok && *attempts == warroom::real::webhook::ATTEMPTS)
    })
    .await;
    assert!(dead, "{:?}", sent(&s, "dead"));
    assert!(sent(&s, "room-chat").iter().all(|(ok, _, _)| *ok));
    assert!(!sent(&s, "room-chat").is_empty());
    assert!(
        s.log.iter().all(|l| !l.contains(TOKEN)),
        "the webhook URL reached the console's log"
    );
    s.close().await;

    // The URL is a secret: not in the audit log, nor in what the console said.
    let bytes = std::fs::read(&audit).expect("audit");
    let log = String::from_utf8_lossy(&bytes);
    assert!(
        !log.contains(TOKEN),
        "the webhook URL reached the audit log"
    );
    let (_, md) = {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
            .args(["audit", "export"])
            .arg(&audit)
            .args(["--runbook"])
            .arg(dir.path().join("hooks.yaml"))
            .args(["--format", "markdown"])
            .output()
            .expect("export");
        (out.status, String::from_utf8_lossy(&out.stdout).to_string())
    };
    assert!(!md.contains(TOKEN), "the webhook URL reached the export");
}

/// The seed plan with one webhook target that hears every kind of event.
fn with_one_webhook(dir: &Path, name: &str, url: &str) -> Loaded {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/unified-attributes.yaml");
    let text = std::fs::read_to_string(&seed).expect("seed");
    let hooks = format!(
        "  webhooks:\n    - {{ name: {name}, url: \"{url}/hooks/{TOKEN}\" }}\n\nmonitoring:\n"
    );
    let marked = text.replacen("\nmonitoring:\n", &format!("\n{hooks}"), 1);
    assert_ne!(marked, text, "the seed's monitoring section moved");
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, marked).expect("write");
    runbook::load(&p).unwrap_or_else(|e| panic!("the runbook with a webhook loads: {e}"))
}

/// `warroom run`'s session on `audit`, its systems simulated.
async fn run_session(loaded: &Loaded, audit: &Path) -> Session {
    let at = warroom::audit::Location::File(audit.to_path_buf());
    let how = warroom::session::Start::real(loaded, &at, "alice", "run");
    let rb = loaded.runbook.clone();
    let mut s = Session::start(how, move |st, jobs, reports| {
        let clock = warroom::clock::Clock::new(st.now.unwrap_or_else(chrono::Utc::now), 10.0);
        let mut world = warroom::sim::World::new(&rb, Scenario::Healthy, 7);
        world.resume(st);
        let every = rb.monitoring.every();
        let task = tokio::spawn(warroom::sim::run(world, clock, every, jobs, reports));
        (clock, vec![task])
    })
    .await
    .expect("session");
    assert!(until(&mut s, 30, |s| s.st.events > 2).await);
    s
}

/// Three blocked GO attempts (the checklist is open), each a notice for the chat.
async fn three_blocked_gos(s: &mut Session) {
    let mut ui = Ui::new(Mode::Live);
    for n in 1..=3 {
        press(&mut ui, s, KeyCode::Char('g'));
        press(&mut ui, s, KeyCode::Enter);
        press(&mut ui, s, KeyCode::Enter);
        assert!(until(s, 30, |s| s.st.blocked_attempts.len() == n).await);
    }
}

type Keys = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = std::io::Result<ratatui::crossterm::event::Event>>>,
>;

/// No key is pressed while quitting waits.
fn no_keys() -> Keys {
    Box::pin(futures_util::stream::pending())
}

/// `q` is pressed while quitting waits.
fn q_pressed() -> Keys {
    use futures_util::StreamExt;
    let q = ratatui::crossterm::event::Event::Key(KeyEvent::new(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
    ));
    Box::pin(futures_util::stream::iter([Ok(q)]).chain(futures_util::stream::pending()))
}

/// What quitting said on the screen while it waited, and the notices it left.
async fn quit(s: &mut Session, keys: &mut Keys, wait: Duration) -> Vec<String> {
    let mut said = Vec::new();
    let mut ui = Ui::new(Mode::Live);
    warroom::ui::live::flush_notices(s, &mut ui, keys, wait, |_, ui| {
        said.extend(ui.message.clone());
        Ok(())
    })
    .await
    .expect("the wait ends");
    said
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_sends_the_queued_notices_first_and_records_what_it_could_not_send() {
    let dir = tempfile::tempdir().expect("tmp");
    // A receiver that takes a while over each notice: quitting waits until it has them all.
    let got = Arc::new(Mutex::new(0usize));
    let count = got.clone();
    let late = Server::start(move |_| {
        *count.lock().expect("lock") += 1;
        Resp::text(200, "ok").after(Duration::from_millis(300))
    })
    .await;
    let loaded = with_one_webhook(dir.path(), "late", &late.url());
    let audit = dir.path().join("late.audit");
    let mut s = run_session(&loaded, &audit).await;
    three_blocked_gos(&mut s).await;
    assert!(
        !s.notices_waiting().is_empty(),
        "the notices were all sent before quitting: nothing to wait for"
    );
    let said = quit(&mut s, &mut no_keys(), Duration::from_secs(600)).await;
    assert!(
        said.iter()
            .any(|m| m.contains("quitting: sending") && m.contains("webhook notice")),
        "{said:?}"
    );
    assert!(s.notices_waiting().is_empty(), "{:?}", s.notices_waiting());
    s.close().await;
    let records = sent_in(&audit, "late");
    assert!(records.len() >= 3, "{records:?}");
    assert!(records.iter().all(|(ok, _, _)| *ok), "{records:?}");
    assert!(*got.lock().expect("lock") >= 3);

    // A receiver that never answers in time: the wait is bounded, and `q` cuts it short;
    // either way what was not delivered is recorded as such.
    let stuck = Server::start(|_| Resp::text(200, "late").after(Duration::from_secs(120))).await;
    for (name, mut keys, wait) in [
        ("stuck", no_keys(), Duration::from_secs(1)),
        ("cut", q_pressed(), Duration::from_secs(600)),
    ] {
        let loaded = with_one_webhook(dir.path(), name, &stuck.url());
        let audit = dir.path().join(format!("{name}.audit"));
        let mut s = run_session(&loaded, &audit).await;
        three_blocked_gos(&mut s).await;
        let waiting = s.notices_waiting().len();
        assert!(waiting >= 3, "{waiting}");
        quit(&mut s, &mut keys, wait).await;
        assert_eq!(s.notices_waiting().len(), waiting, "{name}: one was sent");
        s.close().await;
        let records = sent_in(&audit, name);
        assert_eq!(records.len(), waiting, "{name}: {records:?}");
        assert!(
            records
                .iter()
                .all(|(ok, _, d)| !ok && d.contains("the console quit")),
            "{name}: {records:?}"
        );
        let (_, md) = {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
                .args(["audit", "export"])
                .arg(&audit)
                .args(["--runbook"])
                .arg(dir.path().join(format!("{name}.yaml")))
                .args(["--format", "markdown"])
                .output()
                .expect("export");
            (out.status, String::from_utf8_lossy(&out.stdout).to_string())
        };
        assert!(!md.contains(TOKEN), "the webhook URL reached the export");
    }
}

/// The deliveries a log records for `target`: whether delivered, attempts, detail.
fn sent_in(audit: &Path, target: &str) -> Vec<(bool, u32, String)> {
    warroom::audit::read_all(audit)
        .expect("read")
        .iter()
        .filter_map(|r| match r.event() {
            Ok(Event::NotificationSent {
                target: t,
                ok,
                attempts,
                detail,
                ..
            }) if t == target => Some((ok, attempts, detail)),
            _ => None,
        })
        .collect()
}
