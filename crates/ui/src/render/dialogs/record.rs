//! A log line's record (Enter on the focused log): for an action, what the operator saw and
//! did — the evidence it was taken on, the dry run the dialog showed, its gate checks with
//! their evidence, the phrase typed, an override's and a reason's
//! words, the steps and what each answered, the outcome; for a blocked attempt, the checks
//! that refused it. Drawn from the state, so an action still running follows it. Any other
//! line is shown whole.

use crate::render::prelude::*;

pub(crate) fn draw(f: &mut Frame, area: Rect, st: &State, d: &Dialog, th: &Theme) {
    let Dialog::Record { line, scroll } = d else {
        return;
    };
    let text = th.get(StyleName::Text);
    let muted = th.get(StyleName::Muted);
    let mut lines = vec![Line::from(Span::styled(line.clone(), muted))];
    let mut title = "Log record".to_string();
    if let Some(a) = action_of(line).and_then(|id| st.actions.iter().find(|a| a.id == id)) {
        title = format!("#{} {}", a.id, a.action.label());
        let (outcome, bad) = match &a.outcome {
            engine::Outcome::Running => ("▶ running".to_string(), false),
            engine::Outcome::Succeeded(d) => (format!("✓ succeeded: {d}"), false),
            engine::Outcome::Failed(e) => (format!("✗ FAILED: {e}"), true),
            engine::Outcome::Cancelled(e) => (format!("✗ CANCELLED: {e}"), true),
            engine::Outcome::Unknown => ("⚠ outcome unknown — verify".to_string(), true),
        };
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "requested by {} at {} — ",
                    a.operator,
                    hms(Some(a.requested_at))
                ),
                text,
            ),
            Span::styled(
                outcome,
                th.get(if bad {
                    StyleName::ActionFailed
                } else {
                    StyleName::GatePass
                }),
            ),
        ]));
        evidence(&mut lines, &a.evidence, th);
        dry_run(&mut lines, &a.preview, !a.steps.is_empty(), th);
        checks(&mut lines, &a.checks, th);
        for (what, words) in [
            ("Phrase typed", &a.confirmed),
            ("OVERRIDDEN — reason", &a.override_reason),
            ("Reason", &a.reason),
        ] {
            if let Some(w) = words {
                lines.push(Line::from(vec![
                    Span::styled(format!("{what}: "), th.get(StyleName::Key)),
                    Span::styled(w.clone(), text),
                ]));
            }
        }
        if !a.steps.is_empty() {
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                format!("Steps ({} of {} done)", a.steps_done.len(), a.steps.len()),
                th.get(StyleName::DialogTitle),
            )));
            for (i, s) in a.steps.iter().enumerate() {
                let (mark, answer, style) = match a.steps_done.get(i) {
                    Some((_, true, out)) => ("✓", out.as_str(), StyleName::GatePass),
                    Some((_, false, out)) => ("✗", out.as_str(), StyleName::GateBlocked),
                    None => ("○", "not run", StyleName::PhasePending),
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {mark} {}. ", i + 1), th.get(style)),
                    Span::styled(format!("{}: {answer}", s.name), text),
                ]));
            }
        }
    }
    if let Some(b) = blocked_of(line, st) {
        title = format!("BLOCKED {}", b.action.label());
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled(
                format!("attempted by {} at {} — ", b.operator, hms(Some(b.at))),
                text,
            ),
            Span::styled("✗ BLOCKED: nothing ran", th.get(StyleName::GateBlocked)),
        ]));
        evidence(&mut lines, &b.evidence, th);
        dry_run(&mut lines, &b.preview, !b.preview.is_empty(), th);
        checks(&mut lines, &b.checks, th);
    }
    super::scrolling_text(f, area, &title, lines, *scroll, th);
}

/// The blocked attempt a `HH:MM:SS BLOCKED <action> …` line is about: the last one at that
/// time for that action.
fn blocked_of<'a>(line: &str, st: &'a State) -> Option<&'a engine::BlockedAttempt> {
    let (time, rest) = line.split_once(' ')?;
    let rest = rest.strip_prefix("BLOCKED ")?;
    st.blocked_attempts
        .iter()
        .rev()
        .find(|b| hms(Some(b.at)) == time && rest.starts_with(&b.action.label()))
}

/// The action a log line is about: its `#N` (the first word after the time).
fn action_of(line: &str) -> Option<u64> {
    line.split_whitespace()
        .take(2)
        .find_map(|w| w.strip_prefix('#'))
        .and_then(|n| n.parse().ok())
}

/// What the room stood at when the decision was taken, as recorded.
fn evidence(lines: &mut Vec<Line<'_>>, ev: &engine::Evidence, th: &Theme) {
    lines.push(Line::from(vec![
        Span::styled("Evidence: ", th.get(StyleName::Key)),
        Span::styled(ev.summary(), th.get(StyleName::Text)),
    ]));
}

/// The dry run the dialog showed, as recorded with the decision; an action with steps whose
/// dry run had not answered says so.
fn dry_run(lines: &mut Vec<Line<'_>>, preview: &[String], had_steps: bool, th: &Theme) {
    if preview.is_empty() {
        if had_steps {
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                "Dry run: none recorded (the systems had not answered when it was confirmed)",
                th.get(StyleName::Muted),
            )));
        }
        return;
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Dry run the dialog showed (nothing was changed by it)",
        th.get(StyleName::DialogTitle),
    )));
    lines.extend(
        preview
            .iter()
            .map(|l| Line::from(Span::styled(format!("  {l}"), th.get(StyleName::Text)))),
    );
}

/// The gate checks, as the operator saw them in the dialog.
fn checks(lines: &mut Vec<Line<'_>>, checks: &[engine::Check], th: &Theme) {
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        format!("Gate checks ({}), as the operator saw them", checks.len()),
        th.get(StyleName::DialogTitle),
    )));
    let name_w = checks.iter().map(|c| c.name.width()).max().unwrap_or(0) + 2;
    lines.extend(checks.iter().map(|c| super::check_line(c, name_w, th)));
}
