//! One file per dialog.

mod cancel_abort;
mod choose;
mod confirm;
mod jump;
mod quit;

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
        Dialog::Jump { .. } => jump::draw(f, area, d, th),
        Dialog::Choose { .. } => choose::draw(f, area, d, th),
        Dialog::Confirm { .. } => confirm::draw(f, area, rb, st, ui, d, th),
        Dialog::CancelAbort { .. } => cancel_abort::draw(f, area, st, d, th),
    }
}
