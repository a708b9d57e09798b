//! The post-mortem as markdown: a draft to paste into a review document.

use super::data::Postmortem;
use super::doc::{Block, Doc, Line, Span, document};
use crate::Record;
use crate::runbook::Runbook;

pub fn markdown(rb: &Runbook, records: &[Record]) -> Result<String, String> {
    let pm = Postmortem::gather(rb, records)?;
    Ok(write(&document(&pm)))
}

/// Text from the log or the runbook in markdown: through [`crate::text::clean`] (it can
/// neither start a line of its own — a heading, a forged record — nor carry a control, bidi
/// or zero-width character), with what markdown would read as markup escaped: a table's `|`,
/// emphasis, code, links and the `<` that would open an HTML tag.
fn escape(s: &str) -> String {
    let cleaned = crate::text::clean(s);
    let mut out = String::with_capacity(cleaned.len());
    let mut chars = cleaned.chars().peekable();
    while let Some(c) = chars.next() {
        let tag = c == '<'
            && chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'));
        if tag || matches!(c, '\\' | '|' | '*' | '`' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn line(l: &Line) -> String {
    l.0.iter()
        .map(|s| match s {
            Span::Plain(t) => escape(t),
            Span::Strong(t) => format!("**{}**", escape(t)),
        })
        .collect()
}

fn write(doc: &Doc) -> String {
    let mut o = format!("# {}\n", escape(&doc.title));
    for s in &doc.sections {
        o.push_str(&format!("\n## {}\n", s.title));
        for b in &s.blocks {
            o.push('\n');
            match b {
                Block::Para(l) => o.push_str(&format!("{}\n", line(l))),
                Block::List(items) => {
                    for it in items {
                        o.push_str(&format!("- {}\n", line(&it.line)));
                        for sub in &it.sub {
                            o.push_str(&format!("  - {}\n", line(sub)));
                        }
                    }
                }
                Block::Table { head, rows } => {
                    o.push_str(&format!("| {} |\n", head.join(" | ")));
                    o.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                    for r in rows {
                        let cells: Vec<String> = r.iter().map(line).collect();
                        o.push_str(&format!("| {} |\n", cells.join(" | ")));
                    }
                }
            }
        }
    }
    o
}
