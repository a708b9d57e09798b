//! A synchronous rehearsal: the engine, the simulator's world and fixed timestamps, with no
//! tasks and no clock. Deterministic, so screens can be snapshotted.
#![allow(dead_code)]

use chrono::TimeZone;
use warroom::engine::{self, Action, Event, State, Submission, Time};
use warroom::runbook::Runbook;
use warroom::sim::{Scenario, World};

pub struct Rehearsal {
    pub rb: Runbook,
    pub st: State,
    pub world: World,
    pub t: Time,
    pub events: Vec<(Time, Event)>,
    /// The audit log's path the screen's status line shows.
    pub audit: String,
}

impl Rehearsal {
    /// A rehearsal of the seed plan (or a variant of it).
    pub fn new(rb: Runbook, scenario: Scenario) -> Self {
        Rehearsal::at(Self::SEED, rb, scenario)
    }

    const SEED: &str = "runbooks/unified-attributes.yaml";

    /// A rehearsal of a shipped plan, by its path in the repository.
    pub fn plan(path: &str, scenario: Scenario) -> Self {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        let rb = match warroom::runbook::load(&p) {
            Ok(l) => l.runbook,
            Err(e) => panic!("{path} must load: {e}"),
        };
        Rehearsal::at(path, rb, scenario)
    }

    fn at(path: &str, rb: Runbook, scenario: Scenario) -> Self {
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 26, 9, 0, 0)
            .single()
            .expect("valid time");
        let world = World::new(&rb, scenario, 42);
        let st = State::new(&rb);
        let mut r = Rehearsal {
            rb,
            st,
            world,
            t,
            events: Vec::new(),
            // The seed's screens have always shown this one.
            audit: if path == Self::SEED {
                "/var/lib/warroom/unified.audit".into()
            } else {
                let stem = std::path::Path::new(path)
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("rollout");
                format!("/var/lib/warroom/{stem}.audit")
            },
        };
        r.event(Event::SessionStarted {
            operator: "alice".into(),
            mode: "demo".into(),
            runbook: path.into(),
            runbook_sha256: "0".repeat(64),
            scenario: Some(scenario.label(&r.rb)),
            speed: Some(30.0),
            continued_unverified: None,
        });
        r
    }

    /// Apply one event now, then any alert transitions it makes due.
    pub fn event(&mut self, e: Event) {
        engine::apply(&mut self.st, &self.rb, self.t, &e);
        self.events.push((self.t, e));
        for a in engine::alert_transitions(&self.st, &self.rb) {
            engine::apply(&mut self.st, &self.rb, self.t, &a);
            self.events.push((self.t, a));
        }
    }

    /// Let `secs` of simulated time pass, sampling every interval.
    pub fn wait(&mut self, secs: i64) {
        let step = self.rb.monitoring.interval.as_secs().max(1) as i64;
        let mut left = secs;
        while left > 0 {
            let d = step.min(left);
            self.t += chrono::Duration::seconds(d);
            left -= d;
            let o = self.world.sample(self.t);
            self.event(Event::Observed(o));
        }
    }

    pub fn tick_all(&mut self, list: &str, items: &[String]) {
        for i in items {
            self.event(Event::ChecklistTicked {
                checklist: list.into(),
                item: i.clone(),
                operator: "alice".into(),
            });
            self.t += chrono::Duration::seconds(20);
        }
    }

    /// Submit an action (typing its phrase) and, if `finish`, run all its steps. The gate must
    /// allow it: the rehearsal never overrides on its own.
    pub fn act(&mut self, action: Action, finish: bool) -> u64 {
        let p = engine::propose(&self.st, &self.rb, action);
        assert!(
            p.verdict() != engine::Verdict::Blocked,
            "the rehearsal hit a blocked gate for {}: {:#?}",
            p.action.label(),
            p.checks.iter().filter(|c| !c.pass).collect::<Vec<_>>()
        );
        let typed = p.phrase.clone().unwrap_or_default();
        let evs = engine::submit(
            &self.st,
            &self.rb,
            &p,
            "alice",
            &Submission {
                typed,
                ..Default::default()
            },
        )
        .expect("submit");
        let id = self.st.next_action_id();
        for e in evs {
            self.event(e);
        }
        if finish {
            self.run_steps(id, usize::MAX);
        }
        id
    }

    /// Run up to `n` steps of action `id` on the world.
    pub fn run_steps(&mut self, id: u64, n: usize) {
        let Some(a) = self.st.actions.iter().find(|a| a.id == id).cloned() else {
            return;
        };
        if a.steps.is_empty() {
            return; // recorded as succeeded with the request
        }
        let start = a.steps_done.len();
        for (i, s) in a.steps.iter().enumerate().skip(start).take(n) {
            self.t += chrono::Duration::from_std(World::duration(&s.kind)).unwrap_or_default();
            let r = self.world.execute(s, self.t);
            let ok = r.is_ok();
            let output = match r {
                Ok(x) | Err(x) => x,
            };
            self.event(Event::StepFinished {
                id,
                step: i,
                name: s.name.clone(),
                ok,
                output,
            });
            if !ok {
                self.event(Event::ActionFailed {
                    id,
                    error: "step failed".into(),
                });
                return;
            }
        }
        if start + n >= a.steps.len() {
            self.event(Event::ActionSucceeded {
                id,
                detail: format!("{} step(s) done", a.steps.len()),
            });
        }
    }

    /// Tick the checklists the go/no-go requires, sign GO and run phases up to (and including
    /// starting) `phase`, ticking each phase's checklist and waiting out its exit gate.
    pub fn run_to_phase(&mut self, phase: &str) {
        let lists: Vec<String> = self
            .rb
            .go_no_go
            .iter()
            .flat_map(|g| g.requires.iter().map(|r| r.value.clone()))
            .collect();
        for list in lists {
            let items: Vec<String> = self
                .rb
                .checklist(&list)
                .expect("checklist")
                .sections
                .iter()
                .flat_map(|s| s.items.iter().map(|i| i.id.value.clone()))
                .collect();
            self.tick_all(&list, &items);
        }
        self.wait(30);
        self.act(Action::GoNoGo { go: true }, true);
        loop {
            let cur = self
                .st
                .current_phase()
                .map(|i| self.rb.phases[i].id.value.clone());
            if cur.as_deref() == Some(phase) {
                return;
            }
            if let Some(i) = self.st.current_phase() {
                let p = self.rb.phases[i].clone();
                let items: Vec<String> = p.checklist.iter().map(|c| c.id.value.clone()).collect();
                self.tick_all(&p.id.value, &items);
            }
            let a = engine::next_advance(&self.st, &self.rb).expect("advance");
            // A phase's exit gate holds for a time: wait it out (at most a day).
            for _ in 0..24 * 60 {
                if engine::propose(&self.st, &self.rb, a.clone()).verdict()
                    != engine::Verdict::Blocked
                {
                    break;
                }
                self.wait(60);
            }
            self.act(a, true);
            self.wait(600);
        }
    }

    /// Set the flags the rollout requires and step the canary to `percent`, baking each step.
    pub fn canary_to(&mut self, percent: u32) {
        let required: Vec<(String, serde_json::Value)> = self
            .rb
            .rollout
            .requires_flags
            .iter()
            .map(|(f, v)| (f.clone(), v.clone()))
            .collect();
        for (flag, to) in required {
            self.act(Action::FlipFlag { flag, to }, true);
        }
        self.wait(60);
        while self.st.rollout_percent(&self.rb) < percent {
            let a = engine::next_advance(&self.st, &self.rb).expect("step");
            self.act(a, true);
            let bake = self.rb.rollout.steps[self.st.rollout_step.saturating_sub(1)]
                .bake
                .as_secs() as i64;
            self.wait(bake.max(60));
        }
    }
}
