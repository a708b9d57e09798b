//! Which item of the runbook a place is in: `phases[2] (id: cutover)`, `rollout`, the runbook
//! itself. A key missing from a mapping is reported by the YAML reader at a place inside it;
//! `check` names the item and points at its first line.

use serde_saphyr::granit_parser::{Event, Marker, Parser, StructureStyle};

/// The innermost mapping around a place: how to name it and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    /// `phases[2] (id: cutover)`, `rollout`, `pools.green`; `the runbook` for the document.
    pub label: String,
    /// Its first line and column (1-based).
    pub at: (u64, u64),
    /// Written as a flow mapping, `{ … }`.
    pub flow: bool,
    /// The last key before the place with the text it was given, if it was given text.
    pub before: Option<(String, String)>,
}

/// A mapping being read: its path, where it starts, the key whose value comes next (if a
/// value comes next), and its `id` or `name` as written.
struct Map {
    path: String,
    start: (u64, u64),
    flow: bool,
    key: Option<String>,
    id: Option<(&'static str, String)>,
    before: Option<(String, String)>,
}

enum Frame {
    Map(Map),
    Seq { path: String, next: usize },
}

fn place(m: &Marker) -> (u64, u64) {
    (m.line() as u64, m.col() as u64 + 1)
}

/// The innermost mapping of `text` whose span holds `at` (line, 1-based column), if the text
/// parses that far.
pub(crate) fn around(text: &str, at: (u64, u64)) -> Option<Item> {
    let mut stack: Vec<Frame> = Vec::new();
    for ev in Parser::new_from_str(text) {
        let (ev, span) = ev.ok()?;
        // The path of a node starting here, told by its parent; a mapping's key is no node.
        let child_path = match stack.last_mut() {
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                if !matches!(ev, Event::SequenceEnd) {
                    *next += 1;
                }
                Some(p)
            }
            Some(Frame::Map(m)) if !matches!(ev, Event::MappingEnd) => match m.key.take() {
                Some(k) => Some(if m.path.is_empty() {
                    k
                } else {
                    format!("{}.{k}", m.path)
                }),
                None => {
                    // A key: the next node is its value. A runbook's keys are plain words.
                    let Event::Scalar(k, ..) = &ev else {
                        return None;
                    };
                    m.key = Some(k.to_string());
                    continue;
                }
            },
            _ => None,
        };
        match ev {
            Event::MappingStart(style, ..) => stack.push(Frame::Map(Map {
                path: child_path.unwrap_or_default(),
                start: place(&span.start),
                flow: style == StructureStyle::Flow,
                key: None,
                id: None,
                before: None,
            })),
            Event::SequenceStart(..) => stack.push(Frame::Seq {
                path: child_path.unwrap_or_default(),
                next: 0,
            }),
            Event::Scalar(v, ..) => {
                // An `id` (or, lacking one, a `name`) names the mapping it is in.
                if let (Some(p), Some(Frame::Map(m))) = (&child_path, stack.last_mut()) {
                    let v = || crate::text::clean(&v).into_owned();
                    let key = p.rsplit('.').next().unwrap_or_default();
                    match key {
                        "id" => m.id = Some(("id", v())),
                        "name" if m.id.is_none() => m.id = Some(("name", v())),
                        _ => {}
                    }
                    if place(&span.start) < at {
                        m.before = Some((key.to_string(), v()));
                    }
                }
            }
            Event::MappingEnd => {
                let Some(Frame::Map(m)) = stack.pop() else {
                    return None;
                };
                let end = place(&span.end);
                if m.start <= at && at < end {
                    let label = if m.path.is_empty() {
                        "the runbook".to_string()
                    } else {
                        match &m.id {
                            Some((k, v)) => format!("{} ({k}: {v})", m.path),
                            None => m.path.clone(),
                        }
                    };
                    return Some(Item {
                        label,
                        at: m.start,
                        flow: m.flow,
                        before: m.before,
                    });
                }
            }
            Event::SequenceEnd => {
                stack.pop();
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# a comment
name: Plan
rollout:
  flag: pct
phases:
  - id: prepare
    name: Prepare
  - { id: canary, day: 1 }
  - name: Cutover
    day: 2
    checks:
      - { metric: lag }
";

    fn label(at: (u64, u64)) -> Option<(String, (u64, u64))> {
        around(TEXT, at).map(|i| (i.label, i.at))
    }

    #[test]
    fn says_whether_the_item_is_a_flow_mapping_and_what_came_before_the_place() {
        let block = around(TEXT, (7, 5)).expect("phases[0]");
        assert!(!block.flow);
        assert_eq!(block.before, Some(("id".into(), "prepare".into())));
        let flow = around(TEXT, (8, 19)).expect("phases[1]");
        assert!(flow.flow);
        assert_eq!(flow.before, Some(("id".into(), "canary".into())));
    }

    #[test]
    fn names_the_innermost_item_with_its_id_or_name() {
        assert_eq!(label((2, 1)), Some(("the runbook".into(), (2, 1))));
        assert_eq!(label((4, 3)), Some(("rollout".into(), (4, 3))));
        assert_eq!(
            label((7, 5)),
            Some(("phases[0] (id: prepare)".into(), (6, 5)))
        );
        assert_eq!(
            label((8, 15)),
            Some(("phases[1] (id: canary)".into(), (8, 5)))
        );
        assert_eq!(
            label((10, 5)),
            Some(("phases[2] (name: Cutover)".into(), (9, 5)))
        );
        assert_eq!(
            label((12, 11)),
            Some(("phases[2].checks[0]".into(), (12, 9)))
        );
    }

    #[test]
    fn text_that_does_not_parse_names_nothing() {
        assert_eq!(around("a: [b\n", (1, 1)), None);
    }
}
