//! The post-mortem's words, once for every format: its sections, lists and tables, built from
//! the gathered log and the engine's judgements. Markdown and HTML each write this document
//! their way (and the HTML adds its charts), so the two never tell different stories.

use super::data::{Postmortem, dur, failing, ts};
use crate::engine::{self, Action, Event, Outcome, PhaseStatus};
use crate::runbook::fmt_duration;

/// A run of text, plain or stressed. Text from the log or the runbook is kept as it is here;
/// each format cleans and escapes it when it writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    Plain(String),
    Strong(String),
}

/// One line of text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Line(pub Vec<Span>);

impl Line {
    pub fn new(s: impl Into<String>) -> Line {
        Line(vec![Span::Plain(s.into())])
    }
    pub fn strong(s: impl Into<String>) -> Line {
        Line(vec![Span::Strong(s.into())])
    }
    pub fn and(mut self, s: impl Into<String>) -> Line {
        self.0.push(Span::Plain(s.into()));
        self
    }
    pub fn and_strong(mut self, s: impl Into<String>) -> Line {
        self.0.push(Span::Strong(s.into()));
        self
    }
}

impl From<String> for Line {
    fn from(s: String) -> Line {
        Line::new(s)
    }
}

impl From<&str> for Line {
    fn from(s: &str) -> Line {
        Line::new(s)
    }
}

/// A list item, with the items under it.
pub struct Item {
    pub line: Line,
    pub sub: Vec<Line>,
}

impl Item {
    fn new(line: impl Into<Line>) -> Item {
        Item {
            line: line.into(),
            sub: Vec::new(),
        }
    }
}

pub enum Block {
    Para(Line),
    List(Vec<Item>),
    Table {
        head: Vec<&'static str>,
        rows: Vec<Vec<Line>>,
    },
}

pub struct Section {
    /// A stable name (the HTML's anchor; the place a format adds its own parts).
    pub id: &'static str,
    pub title: &'static str,
    pub blocks: Vec<Block>,
}

pub struct Doc {
    pub title: String,
    pub sections: Vec<Section>,
}

const NONE: &str = "—";

fn or_none(s: Option<String>) -> Line {
    Line::new(s.unwrap_or_else(|| NONE.into()))
}

pub fn document(pm: &Postmortem) -> Doc {
    Doc {
        title: format!("Post-mortem draft: {}", pm.rb.name),
        sections: vec![
            summary(pm),
            phases(pm),
            checklists(pm),
            timeline(pm),
            alerts(pm),
            rollout_steps(pm),
            rollbacks(pm),
            criteria(pm),
        ],
    }
}

/// `label` and a count, stressed when there is something to count.
fn count(label: &str, n: usize) -> Line {
    if n == 0 {
        Line::new(format!("{label}0"))
    } else {
        Line::new(label).and_strong(n.to_string())
    }
}

fn summary(pm: &Postmortem) -> Section {
    let st = &pm.st;
    let rb = pm.rb;
    let mut items = Vec::new();
    if let (Some(a), Some(b)) = (pm.first, pm.last) {
        items.push(Item::new(format!(
            "Window: {} → {} ({}); all times UTC",
            ts(a),
            ts(b),
            dur(a, b)
        )));
    }
    let operators: std::collections::BTreeSet<&str> =
        pm.records.iter().map(|r| r.operator.as_str()).collect();
    items.push(Item::new(format!(
        "Operators: {}",
        operators.into_iter().collect::<Vec<_>>().join(", ")
    )));
    items.push(Item::new(format!(
        "Mode: {}{}",
        st.mode,
        st.scenario
            .as_ref()
            .map(|s| format!(" (scenario {s})"))
            .unwrap_or_default()
    )));
    let done = st
        .phases
        .iter()
        .filter(|p| p.status == PhaseStatus::Done)
        .count();
    items.push(Item::new(format!(
        "Phases completed: {done} of {}",
        rb.phases.len()
    )));
    let highest = match engine::highest_share(&pm.shares) {
        Some((at, share)) if share > 0 => format!("{share} % (first at {})", ts(at)),
        _ => "0 % (no traffic moved)".into(),
    };
    items.push(Item::new(
        Line::new("Highest rollout share reached: ")
            .and_strong(highest)
            .and(format!("; at the end: {} %", st.traffic_share(rb))),
    ));
    let rollbacks = st
        .actions
        .iter()
        .filter(|a| matches!(a.action, Action::Rollback { .. }))
        .count();
    items.push(Item::new(format!(
        "Operator actions: {} ({rollbacks} rollback(s))",
        st.actions.len()
    )));
    let overridden: Vec<&engine::ActionRecord> = st
        .actions
        .iter()
        .filter(|a| a.override_reason.is_some())
        .collect();
    items.push(Item {
        line: count("Overrides: ", overridden.len()),
        sub: overridden
            .iter()
            .map(|a| {
                Line::new(format!("#{} ", a.id))
                    .and_strong(a.action.label())
                    .and(format!(
                        " by {} at {}: \"{}\"",
                        a.by,
                        ts(a.requested_at),
                        a.override_reason.as_deref().unwrap_or_default()
                    ))
            })
            .collect(),
    });
    items.push(Item {
        line: count("Blocked attempts: ", pm.blocked.len()),
        sub: pm
            .blocked
            .iter()
            .map(|b| {
                Line::strong(b.action.label()).and(format!(
                    " by {} at {}: {}",
                    b.operator,
                    ts(b.at),
                    b.failing.join("; ")
                ))
            })
            .collect(),
    });
    items.push(Item::new(format!("Alerts fired: {}", st.alerts.len())));
    if let Some(r) = pm.records.last() {
        items.push(Item::new(format!(
            "Audit head: seq {} hash {}",
            r.seq, r.hash
        )));
    }
    Section {
        id: "summary",
        title: "Summary",
        blocks: vec![Block::List(items)],
    }
}

fn phases(pm: &Postmortem) -> Section {
    let (st, rb) = (&pm.st, pm.rb);
    let rows = rb
        .phases
        .iter()
        .zip(&st.phases)
        .enumerate()
        .map(|(i, (p, s))| {
            let took = st.phase_took(i);
            vec![
                Line::new(p.name.clone()),
                Line::new(format!("Day {}", p.day)),
                Line::new(fmt_duration(p.duration)),
                or_none(s.started.map(ts)),
                or_none(s.ended.map(ts)),
                or_none(took.map(fmt_duration)),
                match took {
                    None => Line::new(NONE),
                    Some(_) if engine::phase_overrun(st, rb, i) => Line::strong("overrun"),
                    Some(_) => Line::new("within plan"),
                },
                Line::new(match s.status {
                    PhaseStatus::Pending => "not started",
                    PhaseStatus::Active => "in progress",
                    PhaseStatus::Done => "done",
                }),
            ]
        })
        .collect();
    Section {
        id: "phases",
        title: "Phases",
        blocks: vec![Block::Table {
            head: vec![
                "Phase",
                "Planned day",
                "Planned duration",
                "Actual start",
                "Actual end",
                "Actual duration",
                "Against plan",
                "Status",
            ],
            rows,
        }],
    }
}

fn checklists(pm: &Postmortem) -> Section {
    let (st, rb) = (&pm.st, pm.rb);
    let mut rows = Vec::new();
    let mut row = |list: &str, label: String, id: (&str, &str)| {
        let tick = st.ticked(id.0, id.1);
        rows.push(vec![
            Line::new(list),
            Line::new(label),
            match tick {
                Some(t) => Line::new(t.by.clone()),
                None => Line::strong("not ticked"),
            },
            or_none(tick.map(|t| ts(t.at))),
        ]);
    };
    for c in &rb.checklists {
        for s in &c.sections {
            for it in &s.items {
                row(
                    &c.name,
                    format!("{}: {}", s.name, it.text),
                    (&c.id.value, &it.id.value),
                );
            }
        }
    }
    for p in &rb.phases {
        for it in &p.checklist {
            row(
                &format!("{} validation", p.name),
                it.text.clone(),
                (&p.id.value, &it.id.value),
            );
        }
    }
    let mut blocks = Vec::new();
    if let Some(d) = &st.decision {
        let mut line = Line::new("Go/no-go: ")
            .and_strong(if d.go { "GO" } else { "NO-GO" })
            .and(format!(
                " signed by {} for {} at {}",
                d.by,
                d.role,
                ts(d.at)
            ));
        if let Some(r) = &d.reason {
            line = line.and(format!(": \"{r}\""));
        }
        if let Some(w) = &d.withdrawn {
            line = line.and("; ").and_strong(format!("withdrawn: {w}"));
        }
        blocks.push(Block::Para(line));
    }
    if rows.is_empty() {
        blocks.push(Block::Para(Line::new("The runbook has no checklist.")));
    } else {
        blocks.push(Block::Table {
            head: vec!["Checklist", "Item", "Ticked by", "At"],
            rows,
        });
    }
    Section {
        id: "checklists",
        title: "Checklist ticks",
        blocks,
    }
}

fn timeline(pm: &Postmortem) -> Section {
    let rb = pm.rb;
    let mut items = Vec::new();
    for r in pm.records {
        let (Ok(ev), Ok(at)) = (r.event(), r.time()) else {
            continue;
        };
        let who = r.operator.as_str();
        let line = match &ev {
            Event::SessionStarted { mode, .. } => {
                Line::new(format!("session started by {who} ({mode})"))
            }
            Event::SessionEnded { .. } => Line::new(format!("session ended by {who}")),
            Event::Decision {
                go, role, reason, ..
            } => Line::new("go/no-go: ")
                .and_strong(if *go { "GO" } else { "NO-GO" })
                .and(format!(
                    " signed by {who} for {role}{}",
                    reason
                        .as_ref()
                        .map(|r| format!(": \"{r}\""))
                        .unwrap_or_default()
                )),
            Event::ActionRequested {
                id,
                action,
                checks,
                evidence,
                ..
            } => {
                let failing = failing(checks);
                let mut rest = format!(
                    " requested by {who}; rollout {} %",
                    evidence.rollout_percent
                );
                if !evidence.alerts_firing.is_empty() {
                    rest.push_str(&format!(
                        "; alerts firing: {}",
                        evidence.alerts_firing.join(", ")
                    ));
                }
                if failing.is_empty() {
                    rest.push_str(&format!("; all {} checks passed", checks.len()));
                } else {
                    rest.push_str(&format!("; failing checks: {}", failing.join("; ")));
                }
                Line::new(format!("#{id} "))
                    .and_strong(action.label())
                    .and(rest)
            }
            Event::ActionOverridden { id, reason } => Line::new(format!("#{id} gate "))
                .and_strong("overridden")
                .and(format!(": \"{reason}\"")),
            Event::ActionBlocked { action, checks, .. } => {
                let failing = failing(checks);
                Line::strong(action.label()).and(format!(
                    " attempted by {who} and blocked: {}",
                    failing.join("; ")
                ))
            }
            Event::ActionSucceeded { id, detail } => {
                Line::new(format!("#{id} succeeded: {detail}"))
            }
            Event::ActionFailed { id, error } => Line::new(format!("#{id} "))
                .and_strong("failed")
                .and(format!(": {error}")),
            Event::ActionOutcomeUnknown { id } => {
                Line::new(format!("#{id} outcome unknown after restart — verify"))
            }
            Event::PhaseStarted { phase } => Line::new(format!("phase {phase} started")),
            Event::PhaseCompleted { phase } => Line::new(format!("phase {phase} completed")),
            Event::ActionCancelled { .. }
            | Event::DecisionWithdrawn { .. }
            | Event::AbortArmed { .. }
            | Event::AbortCancelled { .. }
            | Event::AbortExpired { .. }
            | Event::ServerDown { .. } => match engine::describe(rb, &ev) {
                Some(l) => Line::new(l),
                None => continue,
            },
            _ => continue,
        };
        let mut line = line;
        line.0.insert(0, Span::Plain(format!("{} — ", ts(at))));
        items.push(Item::new(line));
    }
    Section {
        id: "timeline",
        title: "Timeline of operator actions",
        blocks: vec![Block::List(items)],
    }
}

fn alerts(pm: &Postmortem) -> Section {
    let st = &pm.st;
    let blocks = if st.alerts.is_empty() {
        vec![Block::Para(Line::new("No alert fired."))]
    } else {
        let rows = st
            .alerts
            .iter()
            .map(|a| {
                let peak = engine::alert_peak(pm.rb, pm.readings(&a.metric), a);
                vec![
                    Line::new(a.metric.clone()),
                    Line::new(a.level.as_str()),
                    or_none(a.value.map(engine::fmt_num)),
                    match peak {
                        Some((at, v)) => {
                            Line::strong(engine::fmt_num(v)).and(format!(" at {}", ts(at)))
                        }
                        None => Line::new(NONE),
                    },
                    Line::new(engine::fmt_num(a.threshold)),
                    Line::new(ts(a.fired_at)),
                    match a.resolved_at {
                        Some(t) => Line::new(format!("{} (after {})", ts(t), dur(a.fired_at, t))),
                        None => Line::strong("still firing"),
                    },
                ]
            })
            .collect();
        vec![Block::Table {
            head: vec![
                "Metric",
                "Level",
                "At firing",
                "Peak",
                "Threshold",
                "Fired",
                "Resolved",
            ],
            rows,
        }]
    };
    Section {
        id: "alerts",
        title: "Alerts",
        blocks,
    }
}

fn rollout_steps(pm: &Postmortem) -> Section {
    let periods = engine::rollout_periods(&pm.st);
    let end = pm.end();
    let blocks = if periods.is_empty() {
        vec![Block::Para(Line::new("The rollout did not start."))]
    } else {
        let rows = periods
            .iter()
            .map(|p| {
                vec![
                    Line::new(format!("{} %", p.percent)),
                    Line::new(ts(p.from)),
                    match p.until {
                        Some(t) => Line::new(ts(t)),
                        None => Line::new("the end of the log"),
                    },
                    Line::new(fmt_duration(p.lasted(end))),
                    match (&p.ended_by, p.until) {
                        (Some(r), _) => Line::new("rollback ").and_strong(r.clone()),
                        (None, Some(_)) => Line::new("the next step"),
                        (None, None) => Line::new("still at this step"),
                    },
                ]
            })
            .collect();
        vec![Block::Table {
            head: vec!["Step", "From", "Until", "Lasted", "Ended by"],
            rows,
        }]
    };
    Section {
        id: "rollout-steps",
        title: "Time at each rollout step",
        blocks,
    }
}

fn rollbacks(pm: &Postmortem) -> Section {
    let (st, rb) = (&pm.st, pm.rb);
    let mut blocks = Vec::new();
    for a in &st.actions {
        let Action::Rollback { procedure } = &a.action else {
            continue;
        };
        let timing = engine::rollback_timing(st, rb, a);
        let target = timing.and_then(|t| t.target);
        let took = timing.filter(|t| t.finished).map(|t| t.took);
        let verdict = match timing {
            Some(t) if t.finished && t.target.is_some() && !t.over_target() => {
                Line::new("within target")
            }
            Some(t) if t.finished && t.target.is_some() => Line::strong("missed target"),
            Some(t) if t.finished => Line::new("no target"),
            _ => Line::strong("did not finish"),
        };
        let outcome = match &a.outcome {
            Outcome::Succeeded(_) => "succeeded".to_string(),
            Outcome::Failed(e) => format!("failed ({e})"),
            Outcome::Running => "running".into(),
            Outcome::Cancelled(e) => format!("cancelled ({e})"),
            Outcome::Unknown => "unknown".into(),
        };
        let mut line = Line::new(format!(
            "Rollback {procedure} by {} at {}: took {} against a target of {} — ",
            a.by,
            ts(a.requested_at),
            took.map(fmt_duration).unwrap_or_else(|| NONE.into()),
            target.map(fmt_duration).unwrap_or_else(|| NONE.into()),
        ));
        line.0.extend(verdict.0);
        line = line.and(format!("; outcome: {outcome}"));
        if let Some(r) = &a.override_reason {
            line = line.and(format!("; override reason: \"{r}\""));
        }
        blocks.push(Block::Para(line));
        let mut rows: Vec<Vec<Line>> = a
            .steps_done
            .iter()
            .enumerate()
            .map(|(n, (name, ok, output))| {
                let at = pm.step_at.get(&(a.id, n)).copied();
                vec![
                    Line::new((n + 1).to_string()),
                    Line::new(name.clone()),
                    if *ok {
                        Line::new("ok")
                    } else {
                        Line::strong("FAILED")
                    },
                    Line::new(if output.trim().is_empty() {
                        NONE.to_string()
                    } else {
                        output.clone()
                    }),
                    or_none(at.map(|t| format!("{} (+{})", ts(t), dur(a.requested_at, t)))),
                ]
            })
            .collect();
        for (n, s) in a.steps.iter().enumerate().skip(a.steps_done.len()) {
            rows.push(vec![
                Line::new((n + 1).to_string()),
                Line::new(s.name.clone()),
                Line::strong("not run"),
                Line::new(NONE),
                Line::new(NONE),
            ]);
        }
        blocks.push(Block::Table {
            head: vec!["#", "Step", "Result", "Answered", "At"],
            rows,
        });
    }
    if blocks.is_empty() {
        blocks.push(Block::Para(Line::new("No rollback.")));
    }
    Section {
        id: "rollbacks",
        title: "Rollbacks",
        blocks,
    }
}

fn criteria(pm: &Postmortem) -> Section {
    let rows: Vec<Vec<Line>> = pm
        .rb
        .success_criteria
        .iter()
        .map(|c| {
            let judged = c
                .metric
                .as_ref()
                .map(|m| engine::judge_criterion(c, pm.readings(&m.value)));
            let (over, verdict) = match judged {
                None => (Line::new(NONE), Line::new("to be judged by the team")),
                Some(None) => (Line::new(NONE), Line::strong("no reading recorded")),
                Some(Some(v)) => {
                    let over = match v.window {
                        Some(w) => format!(
                            "the last {} ({} reading(s), {} → {})",
                            fmt_duration(w),
                            v.readings,
                            ts(v.from),
                            ts(v.to)
                        ),
                        None => format!("the last reading ({})", ts(v.to)),
                    };
                    let word = if v.window.is_some() { "worst" } else { "last" };
                    let value = engine::fmt_num(v.value);
                    let verdict = if v.met {
                        Line::new(format!("met ({word} {value})"))
                    } else {
                        Line::strong("missed").and(format!(" ({word} {value} at {})", ts(v.at)))
                    };
                    (Line::new(over), verdict)
                }
            };
            vec![
                Line::new(c.group.clone()),
                Line::new(c.text.clone()),
                over,
                verdict,
            ]
        })
        .collect();
    let blocks = if rows.is_empty() {
        vec![Block::Para(Line::new(
            "The runbook states no success criteria.",
        ))]
    } else {
        vec![Block::Table {
            head: vec!["Group", "Criterion", "Judged over", "Verdict"],
            rows,
        }]
    };
    Section {
        id: "criteria",
        title: "Success criteria",
        blocks,
    }
}
