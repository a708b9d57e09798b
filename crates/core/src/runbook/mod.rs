//! Runbooks: load a YAML file, check it, and report problems as `FILE:LINE:COL: message`.

mod envexp;
mod item;
mod load;
mod schema;
mod validate;

pub use envexp::{Expanded, expand, redact, server_list};
pub use load::*;
pub use schema::*;

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding of `warroom check`, with its place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diag {
    pub severity: Severity,
    pub line: u64,
    pub col: u64,
    pub message: String,
    pub hint: Option<String>,
}

impl Diag {
    pub fn error(at: (u64, u64), message: impl Into<String>) -> Self {
        Diag {
            severity: Severity::Error,
            line: at.0,
            col: at.1,
            message: message.into(),
            hint: None,
        }
    }
    pub fn warning(at: (u64, u64), message: impl Into<String>) -> Self {
        Diag {
            severity: Severity::Warning,
            ..Diag::error(at, message)
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// `FILE:LINE:COL: error: message` and, indented, the hint.
    pub fn render(&self, file: &Path) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut s = format!(
            "{}:{}:{}: {sev}: {}",
            file.display(),
            self.line,
            self.col,
            self.message
        );
        if let Some(h) = &self.hint {
            s.push_str("\n    hint: ");
            s.push_str(h);
        }
        s
    }
}

/// Format a duration the way the plan writes them: `4h`, `30m`, `1h30m`, `45s`.
pub fn fmt_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 || out.is_empty() {
        out.push_str(&format!("{sec}s"));
    }
    out
}

impl Runbook {
    pub fn flag(&self, id: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.id.value == id)
    }
    pub fn metric(&self, id: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.id.value == id)
    }
    pub fn phase_index(&self, id: &str) -> Option<usize> {
        self.phases.iter().position(|p| p.id.value == id)
    }
    /// A phase's name, or its id when there is no such phase.
    pub fn phase_name(&self, id: &str) -> String {
        self.phase_index(id)
            .map(|i| self.phases[i].name.clone())
            .unwrap_or_else(|| id.to_string())
    }
    pub fn procedure(&self, id: &str) -> Option<&Procedure> {
        self.procedures.iter().find(|p| p.id.value == id)
    }
    pub fn checklist(&self, id: &str) -> Option<&Checklist> {
        self.checklists.iter().find(|c| c.id.value == id)
    }
    /// A day number as the plan says it, with its date when the runbook gives Day 1's:
    /// `Day 14 (Thu 2025-08-27)`, else `Day 14`.
    pub fn day_words(&self, day: u32) -> String {
        match self
            .day_one
            .and_then(|d| d.checked_add_days(chrono::Days::new(u64::from(day.saturating_sub(1)))))
        {
            Some(date) => format!("Day {day} ({})", date.format("%a %Y-%m-%d")),
            None => format!("Day {day}"),
        }
    }
    /// The plan's schedule for a day (`timeline`), if it has one.
    pub fn schedule(&self, day: u32) -> Option<&TimelineDay> {
        self.timeline.iter().find(|t| t.day == day)
    }
    pub fn team_name(&self, id: &str) -> String {
        self.teams
            .iter()
            .find(|t| t.id.value == id)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| id.to_string())
    }
    /// The one-shot SQL checks (`once: true`) scoped to a phase.
    pub fn once_checks<'a>(&'a self, phase: &'a str) -> impl Iterator<Item = &'a Metric> + 'a {
        self.metrics
            .iter()
            .filter(move |m| m.once_check().is_some_and(|(p, _)| p == phase))
    }
    /// The percent of the canary at rollout step `i` (0 = before the first step).
    pub fn step_percent(&self, i: usize) -> u32 {
        if i == 0 {
            0
        } else {
            self.rollout
                .steps
                .get(i - 1)
                .map(|s| s.percent.value)
                .unwrap_or(100)
        }
    }
}
