//! The sections about the plan: the summary, the phases against their plan, the checklists'
//! ticks and the success criteria.

use super::{Block, Item, Line, NONE, Section, or_none};
use crate::engine::{self, Action, PhaseStatus};
use crate::export::data::{Postmortem, dur, ts};
use crate::runbook::fmt_duration;

/// `label` and a count, stressed when there is something to count.
fn count(label: &str, n: usize) -> Line {
    if n == 0 {
        Line::new(format!("{label}0"))
    } else {
        Line::new(label).and_strong(n.to_string())
    }
}

pub(super) fn summary(pm: &Postmortem) -> Section {
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
                        a.operator,
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

pub(super) fn phases(pm: &Postmortem) -> Section {
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
                Line::new(rb.day_words(p.day)),
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

pub(super) fn checklists(pm: &Postmortem) -> Section {
    let (st, rb) = (&pm.st, pm.rb);
    let mut rows = Vec::new();
    let mut row = |list: &str, label: String, id: (&str, &str)| {
        let tick = st.ticked(id.0, id.1);
        rows.push(vec![
            Line::new(list),
            Line::new(label),
            match tick {
                Some(t) => Line::new(t.operator.clone()),
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
                d.operator,
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

pub(super) fn criteria(pm: &Postmortem) -> Section {
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

/// The plan's own notes, as the runbook gives them (never acted on): each phase's owner and
/// tasks, the schedule by day, the communication channels and what follows the last phase.
/// A section the runbook leaves empty is left out.
pub(super) fn notes(pm: &Postmortem) -> Vec<Section> {
    let rb = pm.rb;
    let mut out = Vec::new();
    let owners = rb
        .phases
        .iter()
        .map(|p| Item {
            line: Line::strong(p.name.clone()).and(format!(
                " — {}, {}",
                rb.team_name(&p.owner.value),
                rb.day_words(p.day)
            )),
            sub: p.tasks.iter().map(|t| Line::new(t.clone())).collect(),
        })
        .collect();
    out.push(Section {
        id: "owners",
        title: "Owners and tasks",
        blocks: vec![Block::List(owners)],
    });
    if !rb.timeline.is_empty() {
        let days = rb
            .timeline
            .iter()
            .map(|d| Item {
                line: Line::strong(rb.day_words(d.day)).and(
                    d.title
                        .as_deref()
                        .map(|t| format!(": {t}"))
                        .unwrap_or_default(),
                ),
                sub: d
                    .slots
                    .iter()
                    .map(|s| Line::new(format!("{}–{} {}", s.from, s.to, s.what)))
                    .collect(),
            })
            .collect();
        out.push(Section {
            id: "schedule",
            title: "Schedule as planned",
            blocks: vec![Block::List(days)],
        });
    }
    let c = &rb.communication;
    if !c.internal.is_empty() || !c.external.is_empty() {
        let rows = c
            .internal
            .iter()
            .map(|ch| ("internal", ch))
            .chain(c.external.iter().map(|ch| ("external", ch)))
            .map(|(side, ch)| {
                vec![
                    Line::new(side),
                    Line::new(ch.kind.clone()),
                    Line::new(ch.address.clone()),
                    or_none(ch.when.clone()),
                ]
            })
            .collect();
        out.push(Section {
            id: "communication",
            title: "Communication channels",
            blocks: vec![Block::Table {
                head: vec!["Side", "Kind", "Where", "When"],
                rows,
            }],
        });
    }
    if !rb.post_deployment.is_empty() {
        let items = rb
            .post_deployment
            .iter()
            .map(|pd| Item {
                line: Line::strong(pd.when.clone()),
                sub: pd.items.iter().map(|t| Line::new(t.clone())).collect(),
            })
            .collect();
        out.push(Section {
            id: "post-deployment",
            title: "Post-deployment tasks",
            blocks: vec![Block::List(items)],
        });
    }
    out
}
