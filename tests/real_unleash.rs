//! The `unleash` flag server kind against a real Unleash 8 (npm `unleash-server`, on the Node 22
//! that scripts/unleash/install puts in .cache/unleash), started here on a free loopback port
//! with its own throwaway PostgreSQL, driven through runbooks/local-lab-real.yaml by the
//! executor and read by `warroom status`; every outcome checked against the Admin API itself.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use support::step;
use support::unleash::Unleash;
use warroom::adapters::{Report, channels};
use warroom::engine::{Observation, SourceId, State};
use warroom::real::Endpoints;
use warroom::runbook::{SetFlag, StepKind};

/// The lab's feature for both the master switch and the canary.
const FEATURE: &str = "unified-attributes";
const ENV: &str = "production";

fn runbook() -> warroom::runbook::Runbook {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/local-lab-real.yaml");
    let mut rb = warroom::runbook::load(&path)
        .expect("the real lab runbook loads")
        .runbook;
    rb.monitoring.interval = Duration::from_millis(300);
    rb
}

fn endpoints(rb: &warroom::runbook::Runbook, url: &str, token: &str) -> Endpoints {
    let (url, token) = (url.to_string(), token.to_string());
    Endpoints::resolve(rb, &move |k: &str| match k {
        "WARROOM_UNLEASH_URL" => Some(url.clone()),
        "WARROOM_UNLEASH_TOKEN" => Some(token.clone()),
        "WARROOM_UNLEASH_ENVIRONMENT" => Some(ENV.into()),
        _ => None,
    })
}

/// The adapters on `ep`: pollers and the executor, stopped when dropped.
struct Adapters {
    jobs: tokio::sync::mpsc::Sender<warroom::adapters::Job>,
    reports: tokio::sync::mpsc::Receiver<Report>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    id: u64,
}

impl Adapters {
    fn spawn(rb: &warroom::runbook::Runbook, ep: Endpoints) -> Adapters {
        let ((jobs, job_rx), (rep_tx, reports)) = channels();
        let (_clock, tasks) = warroom::real::spawn_with(rb, ep, job_rx, rep_tx);
        Adapters {
            jobs,
            reports,
            tasks,
            id: 0,
        }
    }

    /// Set `flag` to `value` through the executor: the step's (ok, output).
    async fn set(&mut self, flag: &str, value: Value) -> (bool, String) {
        self.id += 1;
        let kind = StepKind::SetFlag(SetFlag {
            flag: flag.into(),
            value,
        });
        step(&self.jobs, &mut self.reports, self.id, kind).await
    }

    /// The dry run of setting `flag` to `value`: its lines.
    async fn preview(&mut self, flag: &str, value: Value) -> Vec<String> {
        self.id += 1;
        let id = self.id;
        let steps = vec![warroom::engine::PlannedStep {
            name: flag.into(),
            kind: StepKind::SetFlag(SetFlag {
                flag: flag.into(),
                value,
            }),
        }];
        self.jobs
            .send(warroom::adapters::Job::Preview { id, steps })
            .await
            .expect("send");
        tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(r) = self.reports.recv().await {
                if let Report::Previewed { id: i, lines } = r
                    && i == id
                {
                    return lines;
                }
            }
            panic!("the adapters stopped");
        })
        .await
        .expect("a dry run")
    }
}

impl Drop for Adapters {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The feature's on/off and flexibleRollout rollout, as the Admin API says them.
async fn server_view(u: &Unleash) -> (bool, Option<String>) {
    let f = u.feature(FEATURE, ENV).await;
    let rollout = f["strategies"].as_array().and_then(|s| {
        s.iter()
            .find(|s| s["name"] == "flexibleRollout")
            .and_then(|s| s["parameters"]["rollout"].as_str().map(String::from))
    });
    (f["enabled"] == true, rollout)
}

/// The next reading of the flags source that `ok` accepts, within `limit`.
async fn flags_reading(
    rx: &mut tokio::sync::mpsc::Receiver<Report>,
    limit: Duration,
    ok: impl Fn(&Observation) -> bool,
) -> Observation {
    tokio::time::timeout(limit, async {
        while let Some(r) = rx.recv().await {
            if let Report::Observed { observation, .. } = r
                && observation.source.source == SourceId::Flags
                && ok(&observation)
            {
                return observation;
            }
        }
        panic!("the adapters stopped");
    })
    .await
    .expect("a flags reading")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unleash_flip_and_canary_are_what_the_server_reads_back() {
    let Some(u) = Unleash::start().await else {
        return;
    };
    let rb = runbook();
    let ep = endpoints(&rb, &u.url, &u.token);
    let mut a = Adapters::spawn(&rb, ep.clone());

    // The feature does not exist yet: the flip creates it, switches it on, and (its rollout
    // being a percent flag) gives it a rollout strategy at 0 %, not Unleash's 100 %.
    let dry = a.preview("unified_attributes_enabled", json!(true)).await;
    assert!(
        dry[0].contains("would create the feature unified-attributes"),
        "{dry:?}"
    );
    let (ok, out) = a.set("unified_attributes_enabled", json!(true)).await;
    assert!(ok, "{out}");
    assert!(out.contains("read back") && out.contains(ENV), "{out}");
    let dry = a.preview("unified_attributes_percentage", json!(10)).await;
    assert!(
        dry[0].contains(
            "would set the rollout of unified-attributes in production to 10 % (now 0 %)"
        ),
        "{dry:?}"
    );
    assert_eq!(
        server_view(&u).await,
        (true, Some("0".into())),
        "a dry run changes nothing"
    );
    assert_eq!(server_view(&u).await, (true, Some("0".into())));

    for percent in [10, 25, 100] {
        let (ok, out) = a.set("unified_attributes_percentage", json!(percent)).await;
        assert!(ok, "{percent}: {out}");
        assert!(out.contains(&format!("rollout {percent}%")), "{out}");
        assert_eq!(server_view(&u).await, (true, Some(percent.to_string())));
    }

    // The poller reads the server's own view.
    let o = flags_reading(&mut a.reports, Duration::from_secs(30), |o| {
        o.flag_views
            .get("unified_attributes_percentage")
            .is_some_and(|v| v.rollout == Some(100))
    })
    .await;
    let flags = o.flags.as_ref().expect("flags read");
    assert_eq!(flags["unified_attributes_enabled"], json!(true));
    assert_eq!(flags["unified_attributes_percentage"], json!(100));
    let v = &o.flag_views["unified_attributes_enabled"];
    assert_eq!(
        (v.feature.as_str(), v.environment.as_str(), v.enabled),
        (FEATURE, ENV, true)
    );

    // `warroom status` says what the server says, and never the token.
    let r = warroom::status::collect_with(&rb, State::new(&rb), &ep, Duration::from_secs(3)).await;
    let j = warroom::status::to_json(&r);
    assert_eq!(j["flags"]["unified_attributes_percentage"], 100, "{j:#}");
    assert_eq!(
        j["flag_server"]["unified_attributes_percentage"],
        json!({"server": "unleash", "feature": FEATURE, "environment": ENV, "enabled": true, "rollout": 100}),
        "{j:#}"
    );
    assert_eq!(j["rollout_percent"], 100);
    let text = warroom::status::to_text(&r);
    assert!(
        text.contains("unified_attributes_percentage: unified-attributes in unleash production: on, rollout 100 %"),
        "{text}"
    );
    let secret = u.token.rsplit_once('.').map(|(_, s)| s).unwrap_or(&u.token);
    assert!(!j.to_string().contains(secret) && !text.contains(secret));

    // Off again: the feature's off, its rollout kept.
    let (ok, out) = a.set("unified_attributes_enabled", json!(false)).await;
    assert!(ok, "{out}");
    assert_eq!(server_view(&u).await, (false, Some("100".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_a_clear_failed_step_and_changes_nothing() {
    let Some(u) = Unleash::start().await else {
        return;
    };
    let rb = runbook();
    // The canary at 10 %, set with the good token.
    let good = endpoints(&rb, &u.url, &u.token);
    let mut a = Adapters::spawn(&rb, good);
    let (ok, out) = a.set("unified_attributes_percentage", json!(10)).await;
    assert!(ok, "{out}");

    drop(a);

    let wrong = "*:*.not-the-token-0f9e8d7c6b5a";
    let mut a = Adapters::spawn(&rb, endpoints(&rb, &u.url, wrong));
    let (ok, out) = a.set("unified_attributes_percentage", json!(25)).await;
    assert!(!ok, "a refused token fails the step: {out}");
    assert!(
        out.contains("401") && out.contains("token is not valid"),
        "says why: {out}"
    );
    assert!(!out.contains("0f9e8d7c6b5a"), "never the token: {out}");
    assert_eq!(
        server_view(&u).await,
        (false, Some("10".into())),
        "nothing changed"
    );
    // Its readings fail the same way, and say so without the token.
    let o = flags_reading(&mut a.reports, Duration::from_secs(30), |o| {
        !o.errors.is_empty()
    })
    .await;
    let msg = &o.errors[0].message;
    assert!(
        msg.contains("401") && !msg.contains("0f9e8d7c6b5a"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_or_gone_unleash_makes_the_flags_stale_and_its_steps_fail() {
    let Some(mut u) = Unleash::start().await else {
        return;
    };
    let rb = runbook();
    let ep = endpoints(&rb, &u.url, &u.token);
    let mut a = Adapters::spawn(&rb, ep);
    let (ok, out) = a.set("unified_attributes_percentage", json!(10)).await;
    assert!(ok, "{out}");

    // Hung (stopped, its socket still accepting): readings time out, a step times out.
    u.signal("STOP");
    let o = flags_reading(&mut a.reports, Duration::from_secs(30), |o| {
        !o.errors.is_empty()
    })
    .await;
    assert!(
        o.flags.as_ref().is_none_or(|f| f.is_empty()),
        "no value from a hung server: {o:?}"
    );
    assert!(
        o.errors[0].message.contains("timed out") || o.errors[0].message.contains("no answer"),
        "{:?}",
        o.errors
    );
    let (ok, out) = a.set("unified_attributes_percentage", json!(25)).await;
    assert!(!ok && out.contains("timed out"), "{out}");

    // Gone: refused at once, said as such.
    u.kill().await;
    let (ok, out) = a.set("unified_attributes_percentage", json!(25)).await;
    assert!(!ok && out.contains("cannot connect"), "{out}");
}
