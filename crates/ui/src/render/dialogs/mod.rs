//! One file per dialog.

mod cancel_abort;
mod choose;
mod confirm;
mod jump;
mod palette;
mod quit;
mod record;

use crate::render::prelude::*;

/// Draw the open dialog over the screen.
pub(crate) fn draw(
    f: &mut Frame,
    area: Rect,
    rb: &Runbook,
    st: &State,
    ui: &Ui,
    d: &Dialog,
    th: &Theme,
) {
    match d {
        Dialog::Quit => quit::draw(f, area, th),
        Dialog::Record { .. } => record::draw(f, area, st, d, th),
        Dialog::Palette { .. } => palette::draw(f, area, ui.mode, d, th),
        Dialog::Jump { .. } => jump::draw(f, area, d, th),
        Dialog::Choose { .. } => choose::draw(f, area, d, th),
        Dialog::Confirm { .. } => confirm::draw(f, area, rb, st, ui, d, th),
        Dialog::CancelAbort { .. } => cancel_abort::draw(f, area, st, d, th),
    }
}

/// One gate check: `✓ PASS` or `✗ FAIL`, its name in `name_w` columns, its evidence. The
/// confirm dialog and a log line's record show checks alike.
pub(crate) fn check_line(c: &engine::Check, name_w: usize, th: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(
            if c.pass { " ✓ PASS " } else { " ✗ FAIL " },
            th.get(if c.pass {
                StyleName::GatePass
            } else {
                StyleName::GateBlocked
            }),
        ),
        Span::styled(fit(&clean(&c.name), name_w), th.get(StyleName::Text)),
        Span::styled(clean(&c.evidence).into_owned(), th.get(StyleName::Muted)),
    ])
}
