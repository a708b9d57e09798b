//! The post-mortem's words, once for every format: its sections, lists and tables, built from
//! the gathered log and the engine's judgements. Markdown and HTML each write this document
//! their way (and the HTML adds its charts), so the two never tell different stories.
//!
//! Here: the document's shape. The sections about the plan (summary, phases, checklists,
//! success criteria, and the plan's own notes: owners and tasks, schedule, channels,
//! post-deployment tasks) are in `plan.rs`, those about what happened (timeline, alerts, rollout
//! steps, rollbacks) in `events.rs`.

mod events;
mod plan;

use super::data::Postmortem;

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
    pub(super) fn new(line: impl Into<Line>) -> Item {
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

/// What a cell says when there is nothing to say.
const NONE: &str = "—";

fn or_none(s: Option<String>) -> Line {
    Line::new(s.unwrap_or_else(|| NONE.into()))
}

pub fn document(pm: &Postmortem) -> Doc {
    Doc {
        title: format!("Post-mortem draft: {}", pm.rb.name),
        sections: [
            plan::summary(pm),
            plan::phases(pm),
            plan::checklists(pm),
            events::timeline(pm),
            events::alerts(pm),
            events::rollout_steps(pm),
            events::rollbacks(pm),
            plan::criteria(pm),
        ]
        .into_iter()
        .chain(plan::notes(pm))
        .collect(),
    }
}
