//! Team mode's dialogs: a remark (`C`), and approving or rejecting the action that awaits a
//! second operator (`A`), with its request and the gate's checks as this console sees them.

use super::{check_line, text_box};
use crate::render::prelude::*;

/// A box of `lines`, wrapped, centred, titled.
fn boxed(f: &mut Frame, area: Rect, title: &str, lines: Vec<Line<'_>>, th: &Theme) {
    let w = (area.width * 7 / 10)
        .max(100)
        .min(area.width.saturating_sub(2))
        .min(100);
    text_box(f, area, title, lines, w, 0, th);
}

fn error_line(error: &Option<String>, th: &Theme) -> Option<Line<'static>> {
    error.as_ref().map(|e| {
        Line::from(Span::styled(
            clean(e).into_owned(),
            th.get(StyleName::GateBlocked),
        ))
    })
}

pub(crate) fn comment(f: &mut Frame, area: Rect, d: &Dialog, th: &Theme) {
    let Dialog::Comment { text, error } = d else {
        return;
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("remark: ", th.get(StyleName::Text)),
            Span::styled(format!("{}▏", clean(text)), th.get(StyleName::Input)),
        ]),
        Line::from(Span::styled(
            "Enter records it (a line in the log and the audit, with your name) · Esc nothing",
            th.get(StyleName::Muted),
        )),
    ];
    lines.extend(error_line(error, th));
    boxed(f, area, "Comment", lines, th);
}

pub(crate) fn approve(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, d: &Dialog, th: &Theme) {
    let Dialog::Approve { typed, error } = d else {
        return;
    };
    let Some(a) = st.awaiting_approval() else {
        return;
    };
    let (yes, no) = engine::approval_phrases(&a.action);
    let checks = engine::approval_checks(st, rb, a.id);
    let name_w = checks
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0)
        .min(40)
        + 2;
    let mut lines = vec![
        Line::from(Span::styled(
            format!(
                "#{} {} — requested by {} at {}",
                a.id,
                a.action.label(),
                clean(&a.operator),
                a.requested_at.format("%H:%M:%S")
            ),
            th.get(StyleName::GateConfirm),
        )),
        Line::from(Span::styled(
            "The gate's checks as this console sees them now (recorded with your decision):",
            th.get(StyleName::Text),
        )),
    ];
    lines.extend(checks.iter().map(|c| check_line(c, name_w, th)));
    if let Some(r) = &a.override_reason {
        lines.push(Line::from(Span::styled(
            format!("the request OVERRODE failing checks: {}", clean(r)),
            th.get(StyleName::GateBlocked),
        )));
    }
    lines.push(Line::from(vec![
        Span::styled(
            format!("type `{yes}` to approve or `{no}` to reject: "),
            th.get(StyleName::Text),
        ),
        Span::styled(format!("{}▏", clean(typed)), th.get(StyleName::Input)),
    ]));
    lines.push(Line::from(Span::styled(
        "Enter records your decision (the lead's console then carries out an approved action) · Esc nothing",
        th.get(StyleName::Muted),
    )));
    lines.extend(error_line(error, th));
    boxed(f, area, "Approve — two-person rule", lines, th);
}
