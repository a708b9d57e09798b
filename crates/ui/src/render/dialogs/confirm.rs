//! An action's dialog: what will be done, the gate checks with their evidence, the dry run, and at its foot the verdict, the field and the keys.

use crate::render::prelude::*;

pub(crate) fn draw(
    f: &mut Frame,
    area: Rect,
    rb: &Runbook,
    st: &State,
    ui: &Ui,
    d: &Dialog,
    th: &Theme,
) {
    let w = (area.width * 7 / 10)
        .max(100)
        .min(area.width.saturating_sub(2));
    let dstyle = th.get(StyleName::Dialog);
    let Dialog::Confirm {
        stage,
        reason,
        typed,
        error,
        ..
    } = d
    else {
        return;
    };
    let Some(p) = ui.proposal(st, rb) else { return };
    let verdict = p.verdict();
    let mut head: Vec<Line> = Vec::new();
    head.push(Line::from(Span::styled(
        "What will be done",
        th.get(StyleName::DialogTitle),
    )));
    for l in &p.preview {
        head.push(Line::from(Span::styled(
            clean(l).into_owned(),
            th.get(StyleName::Text),
        )));
    }
    // The optional steps, each chosen to run or not; the mark is where Ctrl-t acts.
    if let Dialog::Confirm { optional_sel, .. } = d
        && !p.optional.is_empty()
    {
        head.push(Line::from(Span::styled(
            "Optional steps (Tab next · Ctrl-t run it or not)",
            th.get(StyleName::DialogTitle),
        )));
        let sel = (*optional_sel).min(p.optional.len() - 1);
        for (i, o) in p.optional.iter().enumerate() {
            head.push(Line::from(vec![
                Span::styled(if i == sel { "▸" } else { " " }, th.get(StyleName::Key)),
                Span::styled(
                    format!(
                        "[{}] {} — {}",
                        if o.chosen { "x" } else { " " },
                        clean(&o.name),
                        if o.chosen { "runs" } else { "not run" }
                    ),
                    th.get(StyleName::Text),
                ),
            ]));
        }
    }
    if let Dialog::Confirm { dry_run, .. } = d {
        match dry_run {
            crate::app::DryRun::NotAsked => {}
            crate::app::DryRun::Waiting(_) => head.push(Line::from(Span::styled(
                "Dry run: asking the systems…",
                th.get(StyleName::Muted),
            ))),
            crate::app::DryRun::Answered(lines) => {
                head.push(Line::from(Span::styled(
                    "Dry run (nothing was changed)",
                    th.get(StyleName::DialogTitle),
                )));
                // A step's answer may have lines of its own (nginx's diff of the included
                // file): each is drawn on its own line, under the step's.
                for l in lines {
                    for (i, part) in l.lines().enumerate() {
                        let indent = if i == 0 { "  " } else { "    " };
                        head.push(Line::from(Span::styled(
                            format!("{indent}{}", clean(part)),
                            th.get(StyleName::Text),
                        )));
                    }
                }
            }
        }
    }
    head.push(Line::from(""));
    head.push(Line::from(Span::styled(
        "Gate checks",
        th.get(StyleName::DialogTitle),
    )));
    let name_w = p.checks.iter().map(|c| c.name.width()).max().unwrap_or(0) + 2;
    let check_line = |c: &crate::engine::Check| super::check_line(c, name_w, th);
    let all_checks: Vec<Line> = p.checks.iter().map(check_line).collect();
    // The verdict, the field and the keys: always drawn, at the dialog's foot.
    let mut tail: Vec<Line> = vec![Line::from("")];
    let field = |label: String, text: &str| {
        Line::from(vec![
            Span::styled(label, th.get(StyleName::Text)),
            Span::styled(format!("{text}▏"), th.get(StyleName::Input)),
        ])
    };
    let keys = |s: &str| Line::from(Span::styled(s.to_string(), th.get(StyleName::Muted)));
    match verdict {
        Verdict::Blocked => {
            let n = p.checks.iter().filter(|c| !c.pass).count();
            tail.push(Line::from(Span::styled(
                format!("BLOCKED by {n} failing check(s)."),
                th.get(StyleName::GateBlocked),
            )));
        }
        Verdict::NeedsConfirmation { .. } => tail.push(Line::from(Span::styled(
            format!("{}: type the phrase to confirm.", p.action.phrase_reason()),
            th.get(StyleName::GateConfirm),
        ))),
        Verdict::Allowed => tail.push(Line::from(Span::styled(
            "All checks pass.",
            th.get(StyleName::GatePass),
        ))),
    }
    match stage {
        Stage::Review if verdict == Verdict::Blocked => {
            if p.overridable() {
                tail.push(keys(
                    "Enter record the attempt and close · Ctrl-o override · Esc cancel",
                ));
            } else {
                tail.push(keys("Enter record the attempt and close · Esc cancel · no override may pass a check marked so by the runbook"));
            }
        }
        Stage::Review => tail.push(keys("Enter confirm · Esc cancel")),
        Stage::Override => {
            tail.push(field(
                format!("type `{}` to override: ", p.override_phrase()),
                typed,
            ));
            tail.push(keys("Enter continue to the reason · Esc cancel"));
        }
        Stage::OverrideReason => {
            tail.push(field("override reason (words): ".into(), reason));
            tail.push(keys(
                "Enter override and run · Esc cancel · the reason is recorded in the audit log",
            ));
        }
        Stage::Phrase => {
            tail.push(field(
                format!(
                    "type `{}` to confirm: ",
                    p.phrase.clone().unwrap_or_default()
                ),
                typed,
            ));
            tail.push(keys("Enter confirm · Esc cancel"));
        }
        Stage::Reason => {
            tail.push(field("reason (words): ".into(), reason));
            tail.push(keys(
                "Enter confirm · Esc cancel · the reason is recorded in the audit log",
            ));
        }
    }
    if let Some(e) = error {
        tail.push(Line::from(Span::styled(
            e.clone(),
            th.get(StyleName::GateBlocked),
        )));
    }
    let inner_w = w.saturating_sub(2);
    let tail_h = wrapped_height(&tail, inner_w);
    // The body fits what is left: failing checks always show; passing ones fold into
    // one line, then the preview folds.
    let room = (area.height.saturating_sub(2 + tail_h)) as usize;
    let mut checks = all_checks;
    let body_h = |head: &[Line], checks: &[Line]| {
        wrapped_height(head, inner_w) as usize + wrapped_height(checks, inner_w) as usize
    };
    if body_h(&head, &checks) > room {
        let passing = p.checks.iter().filter(|c| c.pass).count();
        checks = p
            .checks
            .iter()
            .filter(|c| !c.pass)
            .map(check_line)
            .collect();
        let failing = checks.len();
        if passing > 0 {
            checks.push(Line::from(Span::styled(
                if failing == 0 {
                    format!(" ✓ all {passing} checks pass (listed on a taller screen)")
                } else {
                    format!(" ✓ {passing} more check(s) pass (listed on a taller screen)")
                },
                th.get(StyleName::GatePass),
            )));
        }
    }
    if body_h(&head, &checks) > room {
        // Fold the preview from its end; the checks' title stays.
        let title = head.pop();
        let checks_h = wrapped_height(&checks, inner_w) as usize;
        let budget = room.saturating_sub(checks_h + 2);
        let mut dropped = 0;
        while wrapped_height(&head, inner_w) as usize > budget && head.len() > 1 {
            head.pop();
            dropped += 1;
        }
        if dropped > 0 {
            head.push(Line::from(Span::styled(
                format!("  … {dropped} more line(s) on a taller screen"),
                th.get(StyleName::Muted),
            )));
        }
        head.extend(title);
    }
    let mut body = head;
    body.extend(checks);
    let want = body_h(&body, &[]) as u16 + tail_h + 2;
    let h = want.min(area.height);
    let r = area.centered(Constraint::Length(w), Constraint::Length(h));
    f.render_widget(Clear, r);
    let title = format!(
        "{} — {}",
        p.action.label(),
        match verdict {
            Verdict::Allowed => "allowed",
            Verdict::NeedsConfirmation { .. } => "needs confirmation",
            Verdict::Blocked => "BLOCKED",
        }
    );
    let outer = block(&title, true, th).style(dstyle);
    let inner = outer.inner(r);
    f.render_widget(outer, r);
    let [top, foot] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(tail_h)]).areas(inner);
    f.render_widget(
        Paragraph::new(body)
            .style(dstyle)
            .wrap(Wrap { trim: false }),
        top,
    );
    f.render_widget(
        Paragraph::new(tail)
            .style(dstyle)
            .wrap(Wrap { trim: false }),
        foot,
    );
}
