//! Webhooks: what the room tells the company chat. One task per target (the runbook's
//! `communication.webhooks`), each with its own bounded queue, posting in order with retries
//! and backoff; the session hands a notice to each target that hears its topic without
//! waiting (a full queue drops it, and says so), so a slow or dead receiver never delays an
//! action. Each delivery's outcome is reported, to be recorded under the target's name.
//!
//! A target's URL may hold a token: it is a secret. It is kept here only to post to, never
//! shown, logged, reported or recorded (errors are stripped of it).

use crate::adapters::{Report, ReportTx};
use crate::clock::Clock;
use crate::runbook::{Runbook, Topic, WebhookFormat, expand, redact};
use std::time::Duration;
use tokio::sync::mpsc::{Receiver, Sender, channel, error::TrySendError};
use tokio::task::JoinHandle;

/// How many notices may wait for one target; more are dropped (and said so).
pub const NOTICE_QUEUE: usize = 64;
/// Attempts per notice, and the first wait between them (doubling).
pub const ATTEMPTS: u32 = 4;
pub const BACKOFF: Duration = Duration::from_millis(500);
/// How long one attempt may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// What a webhook posts: the record it is about, its topic and its words.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub seq: i64,
    pub topic: Topic,
    pub text: String,
}

/// The session's side: each target's name, the topics it hears, and its queue; and the
/// notices handed to a target whose delivery has not been reported yet (queued, or being
/// posted or retried), oldest first.
pub struct Notifier {
    targets: Vec<(String, Vec<Topic>, Sender<Notice>)>,
    waiting: Vec<(String, i64)>,
}

impl Notifier {
    /// Hand a notice to every target that hears its topic, without waiting. Returns the
    /// names of the targets whose queue was full (the notice is dropped for them).
    pub fn notify(&mut self, n: &Notice) -> Vec<String> {
        let mut full = Vec::new();
        for (name, topics, tx) in &self.targets {
            if !topics.is_empty() && !topics.contains(&n.topic) {
                continue;
            }
            match tx.try_send(n.clone()) {
                Ok(()) => self.waiting.push((name.clone(), n.seq)),
                Err(TrySendError::Full(_)) => full.push(name.clone()),
                Err(TrySendError::Closed(_)) => {}
            }
        }
        full
    }

    /// A target reported its delivery of record `seq` (delivered or given up).
    pub fn reported(&mut self, target: &str, seq: i64) {
        if let Some(i) = self
            .waiting
            .iter()
            .position(|(t, s)| t == target && *s == seq)
        {
            self.waiting.remove(i);
        }
    }

    /// The notices handed to a target and not yet reported: `(target, seq)`, oldest first.
    pub fn waiting(&self) -> &[(String, i64)] {
        &self.waiting
    }
}

/// One target, as its task holds it.
struct Target {
    name: String,
    /// Secret: posted to, never shown.
    url: String,
    format: WebhookFormat,
    rollout: String,
}

/// Start a task per webhook target the runbook names, its URL expanded from the environment.
/// Returns the notifier (none when the runbook names no target), the tasks, and why any
/// target was left out (no URL in the words).
pub fn spawn(
    rb: &Runbook,
    env: &dyn Fn(&str) -> Option<String>,
    clock: Clock,
    reports: ReportTx,
) -> (Option<Notifier>, Vec<JoinHandle<()>>, Vec<String>) {
    let mut targets = Vec::new();
    let mut tasks = Vec::new();
    let mut left_out = Vec::new();
    for w in &rb.communication.webhooks {
        let name = crate::text::clean(&w.name.value).into_owned();
        let url = match expand(&w.url, env) {
            Ok(e) if !e.unset.is_empty() => {
                left_out.push(format!(
                    "webhook {name} left out: its URL names unset variables ({})",
                    e.unset.join(", ")
                ));
                continue;
            }
            Ok(e) => e.value,
            Err(e) => {
                left_out.push(format!("webhook {name} left out: its URL: {}", redact(&e)));
                continue;
            }
        };
        match reqwest::Url::parse(url.trim()) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
            _ => {
                left_out.push(format!(
                    "webhook {name} left out: its URL is not an http(s) URL"
                ));
                continue;
            }
        }
        let (tx, rx) = channel(NOTICE_QUEUE);
        let t = Target {
            name: name.clone(),
            url: url.trim().to_string(),
            format: w.format,
            rollout: rb.name.clone(),
        };
        tasks.push(tokio::spawn(deliver(t, rx, clock, reports.clone())));
        targets.push((name, w.events.clone(), tx));
    }
    let notifier = (!targets.is_empty()).then_some(Notifier {
        targets,
        waiting: Vec::new(),
    });
    (notifier, tasks, left_out)
}

/// The body of a notice in a target's format.
fn body(t: &Target, n: &Notice) -> serde_json::Value {
    match t.format {
        WebhookFormat::Slack => serde_json::json!({ "text": n.text }),
        WebhookFormat::Json => serde_json::json!({
            "rollout": t.rollout,
            "seq": n.seq,
            "topic": n.topic.as_str(),
            "text": n.text,
        }),
    }
}

/// A target's task: post each notice in order, retrying with backoff; report each outcome.
async fn deliver(t: Target, mut rx: Receiver<Notice>, clock: Clock, reports: ReportTx) {
    let client = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(_) => return,
    };
    while let Some(n) = rx.recv().await {
        let (ok, attempts, detail) = post(&client, &t, &n).await;
        let r = Report::Notified {
            at: clock.now(),
            target: t.name.clone(),
            seq: n.seq,
            ok,
            attempts,
            detail,
        };
        if reports.send(r).await.is_err() {
            return;
        }
    }
}

/// Post one notice: up to [`ATTEMPTS`], waiting [`BACKOFF`] doubling between them; a 4xx
/// other than 429 is not retried (the receiver refuses it). Returns whether it was
/// delivered, the attempts made, and what answered last (no URL in it).
async fn post(client: &reqwest::Client, t: &Target, n: &Notice) -> (bool, u32, String) {
    let body = body(t, n);
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match client.post(&t.url).json(&body).send().await {
            Ok(r) if r.status().is_success() => {
                return (true, attempt, format!("HTTP {}", r.status().as_u16()));
            }
            Ok(r) => {
                let s = r.status();
                last = format!("HTTP {}", s.as_u16());
                if s.is_client_error() && s.as_u16() != 429 {
                    return (false, attempt, last);
                }
            }
            Err(e) => last = secret_free(&t.url, &e),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(BACKOFF * 2u32.pow(attempt - 1)).await;
        }
    }
    (false, ATTEMPTS, last)
}

/// An HTTP error in words without the target's URL (a secret).
fn secret_free(url: &str, e: &reqwest::Error) -> String {
    let words = super::http::http_error(e, TIMEOUT);
    let words = words.replace(url, "the webhook's URL");
    match reqwest::Url::parse(url) {
        Ok(u) => words.replace(u.as_str(), "the webhook's URL"),
        Err(_) => words,
    }
}
