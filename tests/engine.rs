//! The engine on its own: the seed runbook, hand-made events at fixed times (time is data), and
//! the pure functions `apply`, `alert_transitions`, `next_advance`, `propose` and `submit`.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use warroom::engine::SourceId;
use warroom::engine::SourceRef;
use warroom::engine::{
    Action, Check, Event, Level, MetricLevel, Observation, Outcome, PhaseStatus, PoolsObs,
    Proposal, ServerObs, State, Submission, SubmitError, Verdict, alert_transitions, apply,
    next_advance, propose, submit,
};
use warroom::runbook::{self, PoolName, Runbook, StepKind};

type Time = DateTime<Utc>;

const LEAD: &str = "lead";

fn seed() -> Runbook {
    plan(PLANS[0])
}

/// Both shipped plans: the seed, and a second one written from runbooks/README.md alone
/// (other phases, no migration, a flag-only canary, other metrics). The tests that say what
/// any plan does run over both.
const PLANS: [&str; 2] = [
    "runbooks/unified-attributes.yaml",
    "runbooks/checkout-v2.yaml",
];

fn plan(path: &str) -> Runbook {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    match runbook::load(&p) {
        Ok(l) => l.runbook,
        Err(e) => panic!("{path} must load: {e}"),
    }
}

/// A plan's rollout phase running, its pools healthy (blue active), the flags its rollout
/// requires set, the canary at 0 % and every gate metric well inside its thresholds, at `t(0)`.
fn in_rollout_of(rb: Runbook) -> Harness {
    let mut h = Harness::of(rb);
    let phase = h.rb.rollout.phase.value.clone();
    h.apply(t(0), Event::PhaseStarted { phase });
    let mut flags: BTreeMap<String, serde_json::Value> =
        h.rb.rollout
            .requires_flags
            .iter()
            .map(|(f, v)| (f.clone(), v.clone()))
            .collect();
    flags.insert(h.rb.rollout.flag.value.clone(), json!(0));
    h.apply(
        t(0),
        Event::Observed(Observation {
            source: SourceId::Sim.into(),
            pools: Some(PoolsObs {
                active: Some(PoolName::Blue),
                green_share: Some(0),
                blue: servers("blue", true),
                green: servers("green", true),
                complete: vec![PoolName::Blue, PoolName::Green],
                served: None,
            }),
            flags: Some(flags),
            ..Default::default()
        }),
    );
    h.apply(t(0), healthy(&h.rb));
    h
}

/// Every gate metric well inside its thresholds, and a fresh reading of the pools (healthy).
fn healthy(rb: &Runbook) -> Event {
    let metrics: Vec<(&str, Option<f64>)> = rb
        .rollout
        .gate
        .iter()
        .filter_map(|g| rb.metric(&g.value))
        .map(|m| {
            let w = m.warning.as_ref().or(m.critical.as_ref()).map(|w| w.value);
            let v = match (m.direction, w) {
                (runbook::Direction::Below, Some(w)) => w * 2.0,
                (_, Some(w)) => w / 4.0,
                (_, None) => 0.0,
            };
            (m.id.value.as_str(), Some(v))
        })
        .collect();
    with_healthy_pools(&metrics)
}

/// 2025-09-15 09:00:00 UTC plus `s` seconds.
fn t(s: i64) -> Time {
    Utc.with_ymd_and_hms(2025, 9, 15, 9, 0, 0).unwrap() + chrono::Duration::seconds(s)
}

const M: i64 = 60;
const H: i64 = 3600;

/// A state, its runbook and every event applied so far.
struct Harness {
    rb: Runbook,
    st: State,
    log: Vec<(Time, Event)>,
}

impl Harness {
    fn new() -> Harness {
        Harness::of(seed())
    }

    fn of(rb: Runbook) -> Harness {
        let st = State::new(&rb);
        Harness {
            rb,
            st,
            log: Vec::new(),
        }
    }

    fn apply(&mut self, at: Time, ev: Event) {
        apply(&mut self.st, &self.rb, at, &ev);
        self.log.push((at, ev));
    }

    fn apply_all(&mut self, at: Time, evs: Vec<Event>) {
        for e in evs {
            self.apply(at, e);
        }
    }

    fn propose(&self, a: Action) -> Proposal {
        propose(&self.st, &self.rb, a)
    }

    fn submit(
        &self,
        p: &Proposal,
        typed: &str,
        reason: Option<&str>,
    ) -> Result<Vec<Event>, SubmitError> {
        submit(
            &self.st,
            &self.rb,
            p,
            LEAD,
            &Submission {
                typed: typed.to_string(),
                override_reason: reason.map(str::to_string),
                ..Default::default()
            },
        )
    }

    /// Propose `a`, type its phrase, write the events and, as the adapters would, finish every
    /// step and the action at `at`.
    fn run(&mut self, at: Time, a: Action) {
        let p = self.propose(a);
        assert_ne!(p.verdict(), Verdict::Blocked, "{:#?}", failing(&p));
        let evs = self
            .submit(&p, p.phrase.as_deref().unwrap_or(""), None)
            .expect("submit");
        let id = evs
            .iter()
            .find_map(|e| match e {
                Event::ActionRequested { id, .. } => Some(*id),
                _ => None,
            })
            .expect("an ActionRequested");
        let done = evs
            .iter()
            .any(|e| matches!(e, Event::ActionSucceeded { .. }));
        self.apply_all(at, evs);
        if !done {
            for (i, s) in p.steps.iter().enumerate() {
                self.apply(
                    at,
                    Event::StepFinished {
                        id,
                        step: i,
                        name: s.name.clone(),
                        ok: true,
                        output: String::new(),
                    },
                );
            }
            self.apply(
                at,
                Event::ActionSucceeded {
                    id,
                    detail: "done".into(),
                },
            );
        }
    }

    fn tick(&mut self, at: Time, list: &str, item: &str, operator: &str) {
        self.apply(
            at,
            Event::ChecklistTicked {
                checklist: list.into(),
                item: item.into(),
                operator: operator.into(),
            },
        );
    }

    fn pre_items(&self) -> Vec<String> {
        self.rb
            .checklist("pre-deployment-checklist")
            .expect("the pre-deployment checklist")
            .sections
            .iter()
            .flat_map(|s| s.items.iter().map(|i| i.id.value.clone()))
            .collect()
    }

    fn phase_items(&self, phase: &str) -> Vec<String> {
        let i = self.rb.phase_index(phase).expect("phase");
        self.rb.phases[i]
            .checklist
            .iter()
            .map(|c| c.id.value.clone())
            .collect()
    }

    fn metric(&mut self, at: Time, id: &str, v: Option<f64>) {
        self.apply(at, observed(&[(id, v)]));
    }

    /// Apply the alert transitions due now; return them.
    fn alerts(&mut self, at: Time) -> Vec<Event> {
        let evs = alert_transitions(&self.st, &self.rb);
        self.apply_all(at, evs.clone());
        evs
    }
}

fn check<'a>(p: &'a Proposal, name: &str) -> &'a Check {
    p.checks
        .iter()
        .find(|c| c.name.starts_with(name))
        .unwrap_or_else(|| panic!("no check {name:?} in {:#?}", p.checks))
}

fn failing(p: &Proposal) -> Vec<&Check> {
    p.checks.iter().filter(|c| !c.pass).collect()
}

fn observed(metrics: &[(&str, Option<f64>)]) -> Event {
    Event::Observed(Observation {
        source: SourceId::Sim.into(),
        metrics: metrics
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<BTreeMap<_, _>>(),
        ..Default::default()
    })
}

/// The gate metrics at healthy values, and a fresh reading of the pools (healthy).
fn fresh() -> Event {
    with_healthy_pools(&[
        ("error_rate", Some(0.1)),
        ("green_error_rate", Some(0.1)),
        ("latency_p95", Some(40.0)),
        ("replication_lag", Some(0.2)),
    ])
}

/// These readings, and a fresh reading of the pools (healthy).
fn with_healthy_pools(metrics: &[(&str, Option<f64>)]) -> Event {
    let Event::Observed(mut o) = observed(metrics) else {
        unreachable!("observed() makes an observation")
    };
    o.pools = Some(PoolsObs {
        blue: servers("blue", true),
        green: servers("green", true),
        ..Default::default()
    });
    Event::Observed(o)
}

fn servers(pool: &str, healthy: bool) -> Vec<ServerObs> {
    (1..=3)
        .map(|i| ServerObs {
            address: format!("backend-{pool}-{i}.svetu.rs:3000"),
            healthy,
            latency_ms: Some(3.0),
            error: None,
        })
        .collect()
}

/// Pools healthy (blue active), the feature switched on, the canary at 0 %.
fn systems(blue_healthy: bool) -> Event {
    Event::Observed(Observation {
        source: SourceId::Sim.into(),
        pools: Some(PoolsObs {
            active: Some(PoolName::Blue),
            green_share: Some(0),
            blue: servers("blue", blue_healthy),
            green: servers("green", true),
            complete: vec![PoolName::Blue, PoolName::Green],
            served: None,
        }),
        flags: Some(
            [
                ("unified_attributes_enabled".to_string(), json!(true)),
                ("unified_attributes_percentage".to_string(), json!(0)),
            ]
            .into_iter()
            .collect(),
        ),
        ..Default::default()
    })
}

/// The seed's rollout phase (green deployment) running, the systems healthy, at `t(0)`.
fn in_rollout() -> Harness {
    in_rollout_of(seed())
}

/// Tick the pre-deployment checklist and sign GO at `t(0)`.
fn signed_go(h: &mut Harness) {
    for i in h.pre_items() {
        h.tick(t(0), "pre-deployment-checklist", &i, LEAD);
    }
    h.run(t(0), Action::GoNoGo { go: true });
}

// ---------------------------------------------------------------------------------------------
// Phases, go/no-go and checklists.

#[test]
fn next_advance_starts_at_phase_one_and_waits_for_go() {
    let mut h = Harness::new();
    let a = next_advance(&h.st, &h.rb).expect("something to do");
    assert_eq!(
        a,
        Action::PhaseChange {
            from: None,
            to: Some("pre-deployment".into())
        }
    );
    let p = h.propose(a.clone());
    assert_eq!(p.verdict(), Verdict::Blocked);
    let go = check(&p, "go/no-go signed GO");
    assert_eq!(go.name, "go/no-go signed GO by Product Team");
    assert!(!go.pass);
    assert_eq!(go.evidence, "not signed (press g)");

    // A NO-GO keeps it blocked and says so.
    let p = h.propose(Action::GoNoGo { go: false });
    assert_eq!(p.verdict(), Verdict::Allowed, "{:#?}", p.checks);
    assert!(p.reason_required, "a NO-GO asks for its reason");
    assert_eq!(h.submit(&p, "", None), Err(SubmitError::ReasonRequired));
    let evs = submit(
        &h.st,
        &h.rb,
        &p,
        LEAD,
        &Submission {
            reason: Some("staging soak not finished".into()),
            ..Default::default()
        },
    )
    .expect("sign NO-GO");
    h.apply_all(t(10), evs);
    let p = h.propose(a.clone());
    assert_eq!(p.verdict(), Verdict::Blocked);
    let go = check(&p, "go/no-go signed GO");
    assert!(!go.pass);
    assert_eq!(go.evidence, "NO-GO by lead: staging soak not finished");

    signed_go(&mut h);
    let d = h.st.decision.as_ref().expect("a decision");
    assert!(d.go);
    assert_eq!(
        (d.operator.as_str(), d.role.as_str()),
        (LEAD, "Product Team")
    );
    let p = h.propose(a.clone());
    let go = check(&p, "go/no-go signed GO");
    assert!(go.pass);
    assert_eq!(go.evidence, "GO by lead");
    assert_eq!(p.verdict(), Verdict::Allowed, "{:#?}", failing(&p));

    h.run(t(60), a);
    assert_eq!(h.st.current_phase(), Some(0));
    assert_eq!(h.st.phases[0].status, PhaseStatus::Active);
    assert_eq!(h.st.phases[0].started, Some(t(60)));
    assert!(
        h.st.phases[1..]
            .iter()
            .all(|p| p.status == PhaseStatus::Pending)
    );
}

#[test]
fn go_needs_the_pre_deployment_checklist_and_lists_the_open_items() {
    let mut h = Harness::new();
    let items = h.pre_items();
    assert_eq!(items.len(), 16);
    let p = h.propose(Action::GoNoGo { go: true });
    assert_eq!(p.verdict(), Verdict::Blocked);
    let c = check(&p, "checklist pre-deployment-checklist complete");
    assert!(!c.pass);
    assert_eq!(
        c.evidence,
        format!("0/16 ticked; open: {}", items.join(", "))
    );

    for i in &items {
        if i != "support_briefed" && i != "postmortem_template_ready" {
            h.tick(t(5), "pre-deployment-checklist", i, "qa");
        }
    }
    let p = h.propose(Action::GoNoGo { go: true });
    assert_eq!(p.verdict(), Verdict::Blocked);
    assert_eq!(
        check(&p, "checklist pre-deployment-checklist").evidence,
        "14/16 ticked; open: support_briefed, postmortem_template_ready"
    );
    // Blocked and no reason: the attempt is recorded, nothing is decided.
    let evs = h.submit(&p, "", None).expect("record the attempt");
    assert!(matches!(evs.as_slice(), [Event::ActionBlocked { .. }]));

    h.tick(t(6), "pre-deployment-checklist", "support_briefed", "qa");
    h.tick(
        t(7),
        "pre-deployment-checklist",
        "postmortem_template_ready",
        "qa",
    );
    let p = h.propose(Action::GoNoGo { go: true });
    let c = check(&p, "checklist pre-deployment-checklist");
    assert!(c.pass);
    assert_eq!(c.evidence, "16/16 ticked");
    assert_eq!(
        p.verdict(),
        Verdict::NeedsConfirmation {
            phrase: "go".into()
        }
    );
    assert_eq!(
        h.submit(&p, "yes", None),
        Err(SubmitError::WrongPhrase {
            expected: "go".into()
        })
    );
    let evs = h.submit(&p, "go", None).expect("sign GO");
    assert!(
        matches!(
            evs.as_slice(),
            [
                Event::ActionRequested { id: 1, .. },
                Event::ActionConfirmed { id: 1, .. },
                Event::Decision { go: true, .. },
                Event::ActionSucceeded { id: 1, .. },
            ]
        ),
        "{evs:#?}"
    );
    h.apply_all(t(8), evs);
    assert!(h.st.decision.as_ref().is_some_and(|d| d.go && d.at == t(8)));
    assert!(h.st.running().is_none());
}

#[test]
fn ticking_then_unticking() {
    let mut h = Harness::new();
    let list = "pre-deployment-checklist";
    h.tick(t(10), list, "ci_tests_passing", "alice");
    let tk = h.st.ticked(list, "ci_tests_passing").expect("ticked");
    assert_eq!((tk.operator.as_str(), tk.at), ("alice", t(10)));
    let p = h.propose(Action::GoNoGo { go: true });
    assert!(
        check(&p, "checklist")
            .evidence
            .starts_with("1/16 ticked; open: staging_validated,")
    );

    h.apply(
        t(20),
        Event::ChecklistUnticked {
            checklist: list.into(),
            item: "ci_tests_passing".into(),
            operator: "alice".into(),
        },
    );
    assert!(h.st.ticked(list, "ci_tests_passing").is_none());
    let p = h.propose(Action::GoNoGo { go: true });
    assert!(
        check(&p, "checklist")
            .evidence
            .starts_with("0/16 ticked; open: ci_tests_passing,")
    );

    // Ticked again by someone else: the new tick is who and when.
    h.tick(t(30), list, "ci_tests_passing", "bob");
    let tk = h.st.ticked(list, "ci_tests_passing").expect("ticked again");
    assert_eq!((tk.operator.as_str(), tk.at), ("bob", t(30)));
    // A tick of one list is not a tick of another.
    assert!(h.st.ticked("pre-deployment", "ci_tests_passing").is_none());
}

#[test]
fn completing_a_phase_needs_its_checklist() {
    let mut h = Harness::new();
    signed_go(&mut h);
    h.run(t(60), next_advance(&h.st, &h.rb).unwrap());
    let a = next_advance(&h.st, &h.rb).unwrap();
    assert_eq!(
        a,
        Action::PhaseChange {
            from: Some("pre-deployment".into()),
            to: Some("database-migration".into())
        }
    );
    let p = h.propose(a.clone());
    assert_eq!(p.verdict(), Verdict::Blocked);
    let c = check(&p, "checklist pre-deployment complete");
    assert!(!c.pass);
    assert_eq!(
        c.evidence,
        "0/4 ticked; open: staging_tests_pass, backup_verified, monitoring_ready, team_briefed"
    );

    for i in h.phase_items("pre-deployment") {
        h.tick(t(2 * H), "pre-deployment", &i, "devops");
    }
    let p = h.propose(a.clone());
    assert_eq!(check(&p, "checklist pre-deployment").evidence, "4/4 ticked");
    assert_eq!(p.verdict(), Verdict::Allowed, "{:#?}", failing(&p));
    // The migrations run when the phase starts.
    assert_eq!(p.steps.len(), 2);
    assert!(p.steps.iter().all(|s| matches!(s.kind, StepKind::Run(_))));

    h.run(t(4 * H), a);
    assert_eq!(h.st.phases[0].status, PhaseStatus::Done);
    assert_eq!(h.st.phases[0].started, Some(t(60)));
    assert_eq!(h.st.phases[0].ended, Some(t(4 * H)));
    assert_eq!(h.st.phases[1].status, PhaseStatus::Active);
    assert_eq!(h.st.phases[1].started, Some(t(4 * H)));
    assert_eq!(h.st.current_phase(), Some(1));
}

#[test]
fn an_action_without_outcome_stays_running() {
    let mut h = Harness::new();
    signed_go(&mut h);
    h.run(t(60), next_advance(&h.st, &h.rb).unwrap());
    for i in h.phase_items("pre-deployment") {
        h.tick(t(120), "pre-deployment", &i, "devops");
    }
    let p = h.propose(next_advance(&h.st, &h.rb).unwrap());
    let evs = h.submit(&p, "", None).expect("submit");
    // Steps to run: no outcome is written with the request.
    assert!(!evs.iter().any(|e| matches!(
        e,
        Event::ActionSucceeded { .. } | Event::ActionFailed { .. }
    )));
    h.apply_all(t(180), evs);
    let r = h.st.running().expect("the advance is running");
    assert_eq!(r.id, 3, "#1 signed GO, #2 started phase 1");
    assert_eq!(r.outcome, Outcome::Running);
    assert_eq!(r.requested_at, t(180));
    assert_eq!(r.finished_at, None);
    assert_eq!(r.steps.len(), 2);
    assert_eq!(h.st.next_action_id(), 4);

    // Anything else waits for it (but a rollback, which takes over).
    let p = h.propose(Action::FlipFlag {
        flag: "dual_write_enabled".into(),
        to: json!(false),
    });
    let idle = check(&p, "no other action running");
    assert!(!idle.pass);
    assert_eq!(
        idle.evidence,
        "#3 complete pre-deployment, start database-migration is running"
    );
    assert_eq!(p.verdict(), Verdict::Blocked);

    // A step finishing does not end it; its outcome does.
    h.apply(
        t(200),
        Event::StepFinished {
            id: 3,
            step: 0,
            name: "Apply migration 000034 (schema)".into(),
            ok: true,
            output: String::new(),
        },
    );
    assert_eq!(h.st.running().map(|a| a.id), Some(3));
    h.apply(
        t(300),
        Event::ActionFailed {
            id: 3,
            error: "migration 000035 failed".into(),
        },
    );
    assert!(h.st.running().is_none());
    let a = &h.st.actions[2];
    assert_eq!(a.outcome, Outcome::Failed("migration 000035 failed".into()));
    assert_eq!(a.finished_at, Some(t(300)));
    assert_eq!(a.steps_done.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Alerts.

#[test]
fn an_alert_fires_after_its_for_duration_and_resolves_when_back() {
    for path in PLANS {
        // The plan's first gate metric, between its warning and its critical.
        let mut h = Harness::of(plan(path));
        let id = h.rb.rollout.gate[0].value.clone();
        let m = h.rb.metric(&id).expect("gate metric").clone();
        let (w, c) = (
            m.warning.as_ref().expect("a warning").value,
            m.critical.as_ref().expect("a critical").value,
        );
        let f = m.r#for.as_secs() as i64;
        assert!(f >= 20, "{path}: `for` of {f}s");
        let (mid, low) = ((w + c) / 2.0, w / 4.0);
        for s in (0..f).step_by(10) {
            h.metric(t(s), &id, Some(mid));
            assert_eq!(h.alerts(t(s)), vec![], "{path}: not held {f}s yet at +{s}s");
        }
        assert_eq!(h.st.metric_level(&h.rb, &id), MetricLevel::Warning);
        h.metric(t(f), &id, Some(mid));
        assert_eq!(
            h.alerts(t(f)),
            vec![Event::AlertFired {
                metric: id.clone(),
                level: Level::Warning,
                value: Some(mid),
                threshold: w,
            }],
            "{path}"
        );
        assert_eq!(h.st.firing().count(), 1);
        assert_eq!(h.st.metrics[&id].firing, Level::Warning);
        // Held: no second event.
        h.metric(t(f + 10), &id, Some(mid));
        assert_eq!(h.alerts(t(f + 10)), vec![], "{path}");

        h.metric(t(f + 20), &id, Some(low));
        assert_eq!(
            h.alerts(t(f + 20)),
            vec![Event::AlertResolved {
                metric: id.clone(),
                level: Level::Warning,
                value: Some(low),
            }],
            "{path}"
        );
        assert_eq!(h.st.firing().count(), 0);
        let a = &h.st.alerts[0];
        assert_eq!((a.fired_at, a.resolved_at), (t(f), Some(t(f + 20))));

        // A breach that ends before its `for` never fires; one that starts again counts from
        // its new start.
        let b = f + 30;
        h.metric(t(b), &id, Some(mid));
        h.metric(t(b + 10), &id, Some(low));
        h.metric(t(b + 20), &id, Some(mid));
        assert_eq!(h.alerts(t(b + 20)), vec![], "{path}");
        h.metric(t(b + 20 + f - 10), &id, Some(mid));
        assert_eq!(
            h.alerts(t(b + 20 + f - 10)),
            vec![],
            "{path}: the breach restarted at +{}s",
            b + 20
        );
        h.metric(t(b + 20 + f), &id, Some(mid));
        assert_eq!(h.alerts(t(b + 20 + f)).len(), 1, "{path}");
    }
}

#[test]
fn a_missing_value_neither_fires_nor_resolves() {
    let mut h = Harness::new();
    // Never seen, then missing for a long time: nothing fires.
    for s in (0..=600).step_by(10) {
        h.metric(t(s), "error_rate", None);
        assert_eq!(h.alerts(t(s)), vec![]);
    }
    assert_eq!(h.st.metric_level(&h.rb, "error_rate"), MetricLevel::Stale);

    // A breach, then the source fails before the `for` is over: no alert while unknown.
    h.metric(t(1000), "error_rate", Some(0.7));
    for s in [1010, 1020, 1030, 1040] {
        h.metric(t(s), "error_rate", None);
        assert_eq!(h.alerts(t(s)), vec![], "unknown at +{s}s");
    }
    // The value is back and still beyond: the breach counted from its start.
    h.metric(t(1050), "error_rate", Some(0.7));
    let evs = h.alerts(t(1050));
    assert!(
        matches!(
            evs.as_slice(),
            [Event::AlertFired {
                level: Level::Warning,
                ..
            }]
        ),
        "{evs:?}"
    );

    // Firing, then the source fails: the alert stays.
    for s in [1060, 1070, 1200] {
        h.metric(t(s), "error_rate", None);
        assert_eq!(h.alerts(t(s)), vec![], "still firing at +{s}s");
    }
    assert_eq!(h.st.firing().count(), 1);
    assert_eq!(h.st.metric_level(&h.rb, "error_rate"), MetricLevel::Stale);
    h.metric(t(1210), "error_rate", Some(0.1));
    assert!(matches!(
        h.alerts(t(1210)).as_slice(),
        [Event::AlertResolved {
            level: Level::Warning,
            ..
        }]
    ));
    assert_eq!(h.st.firing().count(), 0);
}

#[test]
fn a_critical_supersedes_the_warning() {
    let mut h = Harness::new();
    for s in [0, 10, 20, 30] {
        h.metric(t(s), "error_rate", Some(0.7));
    }
    assert_eq!(h.alerts(t(30)).len(), 1);
    for s in [40, 50, 60] {
        h.metric(t(s), "error_rate", Some(1.5));
        assert_eq!(h.alerts(t(s)), vec![], "critical not held yet at +{s}s");
    }
    assert_eq!(
        h.st.metric_level(&h.rb, "error_rate"),
        MetricLevel::Critical
    );
    h.metric(t(70), "error_rate", Some(1.5));
    assert_eq!(
        h.alerts(t(70)),
        vec![Event::AlertFired {
            metric: "error_rate".into(),
            level: Level::Critical,
            value: Some(1.5),
            threshold: 1.0,
        }]
    );
    let firing: Vec<_> = h.st.firing().collect();
    assert_eq!(firing.len(), 1, "the warning is closed: {firing:?}");
    assert_eq!(firing[0].level, Level::Critical);
    assert_eq!(h.st.alerts[0].level, Level::Warning);
    assert_eq!(h.st.alerts[0].resolved_at, Some(t(70)));
    assert_eq!(h.st.critical_firing().count(), 1);

    // Back to the warning band: the critical resolves, then the warning (held all along) fires.
    h.metric(t(80), "error_rate", Some(0.7));
    assert!(matches!(
        h.alerts(t(80)).as_slice(),
        [Event::AlertResolved {
            level: Level::Critical,
            ..
        }]
    ));
    assert!(matches!(
        h.alerts(t(80)).as_slice(),
        [Event::AlertFired {
            level: Level::Warning,
            ..
        }]
    ));
    assert_eq!(h.st.critical_firing().count(), 0);
    assert_eq!(h.st.firing().count(), 1);

    // A critical firing blocks advancing and names the metric.
    let mut h = in_rollout();
    for s in [0, 10, 20, 30] {
        h.metric(t(s), "green_error_rate", Some(2.0));
    }
    h.alerts(t(30));
    let p = h.propose(next_advance(&h.st, &h.rb).unwrap());
    assert_eq!(p.verdict(), Verdict::Blocked);
    let c = check(&p, "no critical alert firing");
    assert!(!c.pass);
    assert_eq!(c.evidence, "firing: green_error_rate 2.00 %");
    let c = check(&p, "Green error rate not critical");
    assert!(!c.pass);
    // The value and the threshold, in the metric's unit (spacing is the screen's business).
    assert!(
        c.evidence.starts_with("2.00") && c.evidence.contains("(critical > 1.00"),
        "{}",
        c.evidence
    );
}

// ---------------------------------------------------------------------------------------------
// The rollout.

#[test]
fn a_rollout_step_needs_the_previous_step_baked() {
    for path in PLANS {
        let mut h = in_rollout_of(plan(path));
        let (first, second) = (&h.rb.rollout.steps[0], &h.rb.rollout.steps[1]);
        let (p1, p2, bake) = (first.percent.value, second.percent.value, first.bake);
        let bake_s = bake.as_secs() as i64;
        assert!(bake_s > 5 * M, "{path}: the first step bakes {bake_s}s");
        let a = next_advance(&h.st, &h.rb).unwrap();
        assert_eq!(
            a,
            Action::RolloutStep {
                step: 1,
                percent: p1
            },
            "{path}"
        );
        let p = h.propose(a.clone());
        assert_eq!(p.verdict(), Verdict::Allowed, "{path}: {:#?}", failing(&p));
        assert!(
            !p.checks.iter().any(|c| c.name.starts_with("bake")),
            "{path}: the first step has nothing to bake"
        );
        h.run(t(M), a);
        assert_eq!(h.st.rollout_step, 1);
        assert_eq!(h.st.rollout_step_at, Some(t(M)));
        assert_eq!(h.st.rollout_percent(&h.rb), p1, "{path}");

        h.apply(t(6 * M), healthy(&h.rb));
        let a = next_advance(&h.st, &h.rb).unwrap();
        assert_eq!(
            a,
            Action::RolloutStep {
                step: 2,
                percent: p2
            },
            "{path}"
        );
        let p = h.propose(a.clone());
        assert_eq!(p.verdict(), Verdict::Blocked, "{path}");
        let name = format!("bake at {p1} % for {}", runbook::fmt_duration(bake));
        let c = check(&p, &name);
        assert!(!c.pass);
        assert_eq!(
            c.evidence,
            format!("baked 5m of {}", runbook::fmt_duration(bake)),
            "{path}"
        );
        assert_eq!(failing(&p).len(), 1, "{path}: {:#?}", failing(&p));

        h.apply(t(M + bake_s - 1), healthy(&h.rb));
        assert!(!check(&h.propose(a.clone()), &name).pass, "{path}");

        h.apply(t(M + bake_s), healthy(&h.rb));
        let p = h.propose(a.clone());
        let c = check(&p, &name);
        assert!(c.pass, "{path}");
        assert_eq!(
            c.evidence,
            format!("baked {0} of {0}", runbook::fmt_duration(bake)),
            "{path}"
        );
        assert_eq!(p.verdict(), Verdict::Allowed, "{path}: {:#?}", failing(&p));
    }
}

#[test]
fn rollout_gate_needs_fresh_metrics_and_the_feature_on() {
    let mut h = Harness::new();
    h.apply(
        t(0),
        Event::PhaseStarted {
            phase: "green-deployment".into(),
        },
    );
    let p = h.propose(next_advance(&h.st, &h.rb).unwrap());
    assert_eq!(p.verdict(), Verdict::Blocked);
    let c = check(&p, "flag unified_attributes_enabled = true");
    assert_eq!(
        (c.pass, c.evidence.as_str()),
        (false, "unified_attributes_enabled is false")
    );
    let c = check(&p, "Error rate not critical");
    assert_eq!(
        (c.pass, c.evidence.as_str()),
        (false, "no fresh value (stale)")
    );
    let c = check(&p, "green pool healthy");
    assert_eq!(
        (c.pass, c.evidence.as_str()),
        (false, "no health reading yet")
    );

    h.apply(t(0), systems(true));
    h.apply(t(0), fresh());
    let p = h.propose(next_advance(&h.st, &h.rb).unwrap());
    assert_eq!(p.verdict(), Verdict::Allowed, "{:#?}", failing(&p));
    let e = &check(&p, "Error rate not critical").evidence;
    assert!(
        e.starts_with("0.10") && e.contains("%") && e.contains("(critical > 1.00"),
        "{e}"
    );
    assert_eq!(check(&p, "green pool healthy").evidence, "3/3 healthy");

    // Older than three monitoring intervals (3 × 10s): stale again.
    h.apply(t(31), observed(&[("request_rate", Some(100.0))]));
    let p = h.propose(next_advance(&h.st, &h.rb).unwrap());
    assert!(!check(&p, "Error rate not critical").pass);
}

/// The rollout at 50 %, baked since `t(46m)`.
fn at_fifty() -> Harness {
    let mut h = in_rollout();
    h.run(
        t(M),
        Action::RolloutStep {
            step: 1,
            percent: 10,
        },
    );
    h.apply(t(16 * M), fresh());
    h.run(
        t(16 * M),
        Action::RolloutStep {
            step: 2,
            percent: 25,
        },
    );
    h.apply(t(46 * M), fresh());
    h.run(
        t(46 * M),
        Action::RolloutStep {
            step: 3,
            percent: 50,
        },
    );
    assert_eq!(h.st.rollout_percent(&h.rb), 50);
    h
}

#[test]
fn rollout_to_100_needs_the_typed_phrase() {
    let mut h = at_fifty();
    h.apply(t(H + 46 * M), fresh());
    let a = next_advance(&h.st, &h.rb).unwrap();
    assert_eq!(
        a,
        Action::RolloutStep {
            step: 4,
            percent: 100
        }
    );
    let p = h.propose(a);
    assert_eq!(check(&p, "bake at 50 % for 1h").evidence, "baked 1h of 1h");
    assert_eq!(p.phrase.as_deref(), Some("rollout 100"));
    assert_eq!(
        p.verdict(),
        Verdict::NeedsConfirmation {
            phrase: "rollout 100".into()
        }
    );
    assert!(
        p.steps
            .iter()
            .any(|s| s.kind == StepKind::SwitchPool(PoolName::Green)),
        "{:#?}",
        p.steps
    );
    for wrong in ["", "rollout 50", "rollout100", "ROLLOUT 100", "yes"] {
        assert_eq!(
            h.submit(&p, wrong, None),
            Err(SubmitError::WrongPhrase {
                expected: "rollout 100".into()
            }),
            "typed {wrong:?}"
        );
    }
    let evs = h.submit(&p, " rollout 100 ", None).expect("the phrase");
    assert!(
        matches!(
            evs.as_slice(),
            [
                Event::ActionRequested { id: 4, .. },
                Event::ActionConfirmed { id: 4, phrase }
            ] if phrase == "rollout 100"
        ),
        "{evs:#?}"
    );
    h.run(
        t(2 * H),
        Action::RolloutStep {
            step: 4,
            percent: 100,
        },
    );
    assert_eq!(h.st.rollout_step, 4);
    assert_eq!(h.st.pools.active, Some(PoolName::Green));
    assert_eq!(h.st.pools.green_share, Some(100));
    // The rollout is done: advance now completes the phase.
    assert!(matches!(
        next_advance(&h.st, &h.rb),
        Some(Action::PhaseChange { from: Some(f), to: Some(t) }) if f == "green-deployment" && t == "finalization"
    ));
}

#[test]
fn a_blocked_action_is_recorded_or_overridden_with_a_reason() {
    let mut h = in_rollout();
    h.run(
        t(M),
        Action::RolloutStep {
            step: 1,
            percent: 10,
        },
    );
    h.apply(t(6 * M), fresh());
    let p = h.propose(Action::RolloutStep {
        step: 2,
        percent: 25,
    });
    assert_eq!(p.verdict(), Verdict::Blocked);

    let evs = h.submit(&p, "", None).expect("record the attempt");
    assert_eq!(evs.len(), 1, "{evs:#?}");
    match &evs[0] {
        Event::ActionBlocked {
            action,
            operator,
            checks,
            evidence,
            ..
        } => {
            assert_eq!(action, &p.action);
            assert_eq!(operator, LEAD);
            assert_eq!(checks, &p.checks);
            assert_eq!(evidence.rollout_percent, 10);
            assert_eq!(evidence.phase.as_deref(), Some("green-deployment"));
        }
        e => panic!("not ActionBlocked: {e:?}"),
    }
    let actions = h.st.actions.len();
    h.apply_all(t(6 * M), evs);
    assert_eq!(h.st.blocked, 1);
    assert_eq!(
        h.st.actions.len(),
        actions,
        "a blocked attempt runs nothing"
    );
    assert_eq!(h.st.rollout_step, 1);

    // Overriding takes its own phrase, then a reason in words.
    assert_eq!(
        h.submit(&p, "", Some("QA watched the canary by hand")),
        Err(SubmitError::WrongPhrase {
            expected: "override rollout 25".into()
        })
    );
    for poor in ["", "   ", "x", "ok", "a b c"] {
        assert_eq!(
            h.submit(&p, "override rollout 25", Some(poor)),
            Err(SubmitError::ReasonRequired),
            "{poor:?}"
        );
    }
    let evs = h
        .submit(
            &p,
            "override rollout 25",
            Some("  QA watched the canary by hand  "),
        )
        .expect("override");
    assert!(
        matches!(
            evs.as_slice(),
            [
                Event::ActionRequested { id: 2, .. },
                Event::ActionConfirmed { id: 2, phrase: confirmed },
                Event::ActionOverridden { id: 2, reason }
            ] if reason == "QA watched the canary by hand" && confirmed == "override rollout 25"
        ),
        "{evs:#?}"
    );
    h.apply_all(t(7 * M), evs);
    let r = h.st.running().expect("the overridden step runs");
    assert_eq!(
        r.override_reason.as_deref(),
        Some("QA watched the canary by hand")
    );
    assert!(
        r.checks.iter().any(|c| !c.pass),
        "the failing checks are kept"
    );

    // Overriding a destructive action still takes its phrase.
    let mut h = at_fifty();
    h.apply(t(76 * M), fresh());
    let p = h.propose(Action::RolloutStep {
        step: 4,
        percent: 100,
    });
    assert_eq!(p.verdict(), Verdict::Blocked);
    assert_eq!(check(&p, "bake at 50 %").evidence, "baked 30m of 1h");
    assert_eq!(
        h.submit(&p, "rollout 100", Some("incident: must finish")),
        Err(SubmitError::WrongPhrase {
            expected: "override rollout 100".into()
        })
    );
    let evs = h
        .submit(&p, "override rollout 100", Some("incident: must finish"))
        .expect("override with the phrase");
    assert!(matches!(
        evs.as_slice(),
        [
            Event::ActionRequested { .. },
            Event::ActionConfirmed { .. },
            Event::ActionOverridden { .. }
        ]
    ));
    // Without a reason a blocked destructive action is recorded as blocked, phrase or not.
    assert!(matches!(
        h.submit(&p, "", None).as_deref(),
        Ok([Event::ActionBlocked { .. }])
    ));
}

// ---------------------------------------------------------------------------------------------
// Rollbacks.

#[test]
fn rollback_always_needs_the_typed_phrase() {
    for (path, (healthy, running)) in PLANS
        .into_iter()
        .flat_map(|p| [(true, false), (false, false), (true, true)].map(|c| (p, c)))
    {
        let mut h = in_rollout_of(plan(path));
        if !healthy {
            h.apply(
                t(0),
                Event::Observed(Observation {
                    source: SourceId::Sim.into(),
                    pools: Some(PoolsObs {
                        blue: servers("blue", false),
                        green: servers("green", true),
                        complete: vec![PoolName::Blue, PoolName::Green],
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            );
        }
        if running {
            let p = h.propose(next_advance(&h.st, &h.rb).expect("the first step"));
            let evs = h.submit(&p, "", None).unwrap();
            h.apply_all(t(1), evs);
            assert!(h.st.running().is_some(), "{path}");
        }
        let targets: Vec<(String, u64)> =
            h.rb.procedures
                .iter()
                .map(|p| (p.id.value.clone(), p.target.as_secs()))
                .collect();
        assert!(targets.len() >= 3, "{path}");
        for (id, secs) in targets {
            let id = id.as_str();
            let p = h.propose(Action::Rollback {
                procedure: id.into(),
            });
            let phrase = format!("rollback {id}");
            assert_eq!(p.phrase.as_deref(), Some(phrase.as_str()), "{id}");
            assert_eq!(p.target, Some(std::time::Duration::from_secs(secs)), "{id}");
            let blocked = p.verdict() == Verdict::Blocked;
            if !blocked {
                assert_eq!(
                    p.verdict(),
                    Verdict::NeedsConfirmation {
                        phrase: phrase.clone()
                    }
                );
            }
            let typed = if blocked {
                format!("override {phrase}")
            } else {
                phrase.clone()
            };
            let want = Err(SubmitError::WrongPhrase {
                expected: typed.clone(),
            });
            for wrong in ["", "rollback", "yes", "go"] {
                if blocked {
                    assert_eq!(h.submit(&p, wrong, Some("site is down")), want, "{id}");
                } else {
                    assert_eq!(h.submit(&p, wrong, None), want, "{id}");
                }
            }
            let evs = h
                .submit(&p, &typed, blocked.then_some("site is down"))
                .expect("the phrase");
            // A rollback takes over from a running action: that one is cancelled first.
            let cancels = h.st.running().is_some();
            let rest = if cancels {
                assert!(
                    matches!(evs.first(), Some(Event::ActionCancelled { .. })),
                    "{id}: {evs:#?}"
                );
                &evs[1..]
            } else {
                &evs[..]
            };
            assert!(
                matches!(
                    rest,
                    [Event::ActionRequested { .. }, Event::ActionConfirmed { phrase: ph, .. }, ..] if *ph == typed
                ),
                "{id}: {evs:#?}"
            );
        }
        // A rollback that switches to blue checks that pool.
        for pr in &h.rb.procedures {
            if pr
                .steps
                .iter()
                .any(|s| s.kind() == StepKind::SwitchPool(PoolName::Blue))
            {
                let p = h.propose(Action::Rollback {
                    procedure: pr.id.value.clone(),
                });
                assert_eq!(check(&p, "blue pool healthy").pass, healthy, "{path}");
            }
        }
    }

    // The optional database step is shown, not run.
    let h = in_rollout();
    let p = h.propose(Action::Rollback {
        procedure: "database".into(),
    });
    assert_eq!(p.steps.len(), 3, "{:#?}", p.steps);
    assert!(
        p.preview
            .iter()
            .any(|l| l.contains("(optional, not run: Restore from backup if needed)"))
    );
    // An unknown procedure is blocked, and still asks for the phrase.
    let p = h.propose(Action::Rollback {
        procedure: "nope".into(),
    });
    assert_eq!(p.verdict(), Verdict::Blocked);
    assert_eq!(p.phrase.as_deref(), Some("rollback nope"));
}

// ---------------------------------------------------------------------------------------------
// Determinism.

/// A session's worth of events: sign-off, phases, alerts, a rollout, an override, a rollback.
fn a_session() -> Harness {
    let mut h = Harness::new();
    h.apply(
        t(0),
        Event::SessionStarted {
            operator: LEAD.into(),
            mode: "demo".into(),
            runbook: "runbooks/unified-attributes.yaml".into(),
            runbook_sha256: "00".into(),
            scenario: Some("healthy".into()),
            speed: Some(30.0),
            continued_unverified: None,
        },
    );
    signed_go(&mut h);
    h.run(t(10), next_advance(&h.st, &h.rb).unwrap());
    h.apply(t(20), systems(true));
    for s in (20..200).step_by(10) {
        let err = if s < 120 { 0.7 } else { 0.1 };
        h.apply(
            t(s),
            observed(&[
                ("error_rate", Some(err)),
                ("green_error_rate", Some(0.1)),
                ("latency_p95", Some(40.0)),
                ("replication_lag", Some(0.2)),
            ]),
        );
        h.alerts(t(s));
    }
    for i in h.phase_items("pre-deployment") {
        h.tick(t(200), "pre-deployment", &i, "devops");
    }
    h.run(t(300), next_advance(&h.st, &h.rb).unwrap());
    for phase in [
        "database-migration",
        "blue-update",
        "performance-optimizations",
    ] {
        h.apply(
            t(400),
            Event::PhaseCompleted {
                phase: phase.into(),
            },
        );
    }
    h.apply(
        t(400),
        Event::PhaseStarted {
            phase: "green-deployment".into(),
        },
    );
    h.apply(t(400), fresh());
    h.run(t(400), next_advance(&h.st, &h.rb).unwrap());
    h.apply(t(500), fresh());
    let p = h.propose(next_advance(&h.st, &h.rb).unwrap());
    let evs = h
        .submit(&p, &p.override_phrase(), Some("test of the override path"))
        .unwrap();
    h.apply_all(t(500), evs);
    h.apply(
        t(600),
        Event::ActionOutcomeUnknown {
            id: h.st.running().unwrap().id,
        },
    );
    h.run(
        t(700),
        Action::Rollback {
            procedure: "feature-flag".into(),
        },
    );
    h.apply(
        t(800),
        Event::SessionEnded {
            operator: LEAD.into(),
        },
    );
    h
}

fn fold(rb: &Runbook, log: &[(Time, Event)]) -> State {
    let mut st = State::new(rb);
    for (at, e) in log {
        apply(&mut st, rb, *at, e);
    }
    st
}

#[test]
fn apply_is_deterministic() {
    let h = a_session();
    assert!(h.log.len() > 60, "{} events", h.log.len());
    assert!(!h.st.alerts.is_empty(), "{:?}", h.st.alerts);
    assert_eq!(h.st.actions.len(), 6, "{:#?}", h.st.actions);
    let a = fold(&h.rb, &h.log);
    let b = fold(&h.rb, &h.log);
    assert_eq!(a, b);
    assert_eq!(a, h.st, "folding the log gives the live state");
    assert_eq!(a.events, h.log.len() as u64);
    assert_eq!(a.now, Some(t(800)));

    // Through the audit log's JSON and back: the same state.
    let json: Vec<(Time, String)> = h
        .log
        .iter()
        .map(|(at, e)| (*at, serde_json::to_string(e).expect("serialize")))
        .collect();
    let back: Vec<(Time, Event)> = json
        .iter()
        .map(|(at, s)| (*at, serde_json::from_str(s).expect("deserialize")))
        .collect();
    assert_eq!(back, h.log);
    assert_eq!(fold(&h.rb, &back), a);

    // Gates are pure too: the same state, the same proposal.
    let act = Action::Rollback {
        procedure: "instant".into(),
    };
    assert_eq!(propose(&a, &h.rb, act.clone()), propose(&b, &h.rb, act));
    assert_eq!(alert_transitions(&a, &h.rb), alert_transitions(&b, &h.rb));
}

#[test]
fn time_is_the_events_time() {
    let mut h = Harness::new();
    assert_eq!(h.st.now, None);
    h.metric(t(100), "error_rate", Some(0.1));
    assert_eq!(h.st.now, Some(t(100)));
    // An older event does not move the clock back.
    h.metric(t(50), "error_rate", Some(0.1));
    assert_eq!(h.st.now, Some(t(100)));
    assert_eq!(h.st.metrics["error_rate"].last_at, Some(t(50)));
}

#[test]
fn history_from_a_range_query_fills_the_sparkline_in_front_without_a_current_value() {
    let mut h = Harness::new();
    let one = |v: f64| Observation {
        source: SourceId::Prometheus.into(),
        metrics: BTreeMap::from([("error_rate".to_string(), Some(v))]),
        ..Default::default()
    };
    h.apply(t(100), Event::Observed(one(0.3)));
    let past = Observation {
        source: SourceRef::part(SourceId::Prometheus, "history"),
        history: BTreeMap::from([(
            "error_rate".to_string(),
            vec![Some(0.1), None, Some(f64::NAN), Some(0.2)],
        )]),
        ..Default::default()
    };
    h.apply(t(101), Event::Observed(past));
    let m = &h.st.metrics["error_rate"];
    assert_eq!(
        m.history.iter().copied().collect::<Vec<_>>(),
        vec![Some(0.1), None, None, Some(0.2), Some(0.3)]
    );
    assert_eq!(m.last, Some(0.3), "history sets no current value");
    assert_eq!(m.last_at, Some(t(100)));
}

#[test]
fn a_source_error_clears_when_the_source_that_reported_it_reads_again() {
    // The simulator reports the flag API failing (flaky-flags); its next good reading clears it.
    let mut h = Harness::new();
    let bad = Observation {
        source: SourceId::Sim.into(),
        errors: vec![warroom::engine::SourceError {
            source: SourceId::Flags.into(),
            message: "503".into(),
        }],
        ..Default::default()
    };
    h.apply(t(10), Event::Observed(bad));
    h.apply(
        t(20),
        Event::Observed(Observation {
            source: SourceId::Sim.into(),
            ..Default::default()
        }),
    );
    assert!(h.st.source_errors.is_empty(), "{:?}", h.st.source_errors);
}

#[test]
fn the_next_move_follows_the_plan_from_the_gates() {
    let mut h = Harness::new();
    let n = warroom::engine::next_move(&h.st, &h.rb);
    assert_eq!((n.text.as_str(), n.key), ("tick 16 items", Some("Space")));
    for i in h.pre_items() {
        h.tick(t(0), "pre-deployment-checklist", &i, LEAD);
    }
    let n = warroom::engine::next_move(&h.st, &h.rb);
    assert_eq!((n.text.as_str(), n.key), ("sign GO", Some("g")));
    h.run(t(0), Action::GoNoGo { go: true });
    let n = warroom::engine::next_move(&h.st, &h.rb);
    assert_eq!(n.key, Some("a"), "{n:?}");
    assert!(n.text.starts_with("start phase"), "{n:?}");

    // In the canary: the bake says when; a critical alert says what blocks.
    let mut h = in_rollout();
    h.run(
        t(0),
        Action::FlipFlag {
            flag: "unified_attributes_enabled".into(),
            to: json!(true),
        },
    );
    h.apply(t(0), fresh());
    let n = warroom::engine::next_move(&h.st, &h.rb);
    assert_eq!((n.text.as_str(), n.key), ("go to 10 %", Some("a")), "{n:?}");
    h.run(t(60), next_advance(&h.st, &h.rb).expect("step"));
    h.apply(t(5 * 60), fresh());
    let n = warroom::engine::next_move(&h.st, &h.rb);
    assert_eq!(n.text, "25 % possible in 11m", "{n:?}");
    assert_eq!(n.key, None);

    // A critical alert once the canary took traffic: the next move is a rollback, with the
    // procedure the menu suggests.
    h.metric(t(5 * 60), "green_error_rate", Some(2.5));
    h.metric(t(8 * 60), "green_error_rate", Some(2.6));
    assert!(!h.alerts(t(8 * 60)).is_empty(), "the alert fired");
    let n = warroom::engine::next_move(&h.st, &h.rb);
    let suggested = warroom::engine::suggested_procedure(&h.st, &h.rb).expect("a suggestion");
    assert_eq!(n.key, Some("r"), "{n:?}");
    assert_eq!(
        n.text,
        format!(
            "Green error rate critical: roll back ({} suggested)",
            suggested.procedure
        )
    );
}

/// Two sources report a pool's servers (HAProxy's `show stat` and the health checks): the
/// balancer's reading wins and the rows do not alternate; the health checks add only their
/// latency to the same server's row, and take over when the balancer has not reported for
/// three monitoring intervals.
#[test]
fn the_balancers_reading_of_a_pools_servers_wins_over_the_health_checks() {
    let mut h = Harness::new();
    let every = h.rb.monitoring.every().as_secs() as i64;
    let lb = |healthy: bool| {
        Event::Observed(Observation {
            source: SourceId::Lb.into(),
            pools: Some(PoolsObs {
                green_share: Some(0),
                blue: (0..3)
                    .map(|i| ServerObs {
                        address: format!("blue/b{i} 127.0.0.1:800{i}"),
                        // b1 is held in maintenance by the balancer.
                        healthy: healthy && i != 1,
                        latency_ms: None,
                        error: (i == 1).then(|| "maint".to_string()),
                    })
                    .collect(),
                complete: vec![PoolName::Blue, PoolName::Green],
                ..Default::default()
            }),
            ..Default::default()
        })
    };
    let probe = Event::Observed(Observation {
        source: SourceId::Health.into(),
        pools: Some(PoolsObs {
            blue: (0..3)
                .map(|i| ServerObs {
                    address: format!("127.0.0.1:800{i}"),
                    healthy: true,
                    latency_ms: Some(2.0 + f64::from(i)),
                    error: None,
                })
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    });
    h.apply(t(0), lb(true));
    let rows = |h: &Harness| {
        h.st.pools
            .blue
            .iter()
            .map(|s| (s.address.clone(), s.healthy, s.latency_ms))
            .collect::<Vec<_>>()
    };
    let balancer = vec![
        ("blue/b0 127.0.0.1:8000".to_string(), true, Some(2.0)),
        ("blue/b1 127.0.0.1:8001".to_string(), false, Some(3.0)),
        ("blue/b2 127.0.0.1:8002".to_string(), true, Some(4.0)),
    ];
    for i in 1..=3 {
        // The probe's reading, then the balancer's, in turn: the same rows every time.
        h.apply(t(i * every), probe.clone());
        assert_eq!(rows(&h), balancer, "after the probe's reading {i}");
        assert_eq!(h.st.pools.healthy(PoolName::Blue), (2, 3));
        h.apply(t(i * every + 1), lb(true));
        assert_eq!(rows(&h), balancer, "after the balancer's reading {i}");
    }
    // The balancer stops reporting (its socket is gone): after three intervals the probe's
    // rows are shown rather than old ones.
    let late = 3 * every + 1 + 3 * every + 1;
    h.apply(t(late), probe.clone());
    assert_eq!(
        rows(&h),
        vec![
            ("127.0.0.1:8000".to_string(), true, Some(2.0)),
            ("127.0.0.1:8001".to_string(), true, Some(3.0)),
            ("127.0.0.1:8002".to_string(), true, Some(4.0)),
        ]
    );
    // The balancer is back: its reading wins again at once.
    h.apply(t(late + 1), lb(true));
    assert_eq!(
        rows(&h)[1],
        ("blue/b1 127.0.0.1:8001".to_string(), false, Some(3.0))
    );
}
