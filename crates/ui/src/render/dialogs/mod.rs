//! One file per dialog.

mod cancel_abort;
mod choose;
mod confirm;
mod detail;
mod jump;
mod palette;
mod quit;
mod record;
mod team;

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
        Dialog::Quit => quit::draw(f, area, rb, st, th),
        Dialog::Record { .. } => record::draw(f, area, st, d, th),
        Dialog::Palette { .. } => palette::draw(f, area, ui.mode, ui.team, d, th),
        Dialog::Comment { .. } => team::comment(f, area, d, th),
        Dialog::Approve { .. } => team::approve(f, area, rb, st, d, th),
        Dialog::Detail { .. } => detail::draw(f, area, rb, st, d, th),
        Dialog::Jump { .. } => jump::draw(f, area, d, th),
        Dialog::Choose { .. } => choose::draw(f, area, d, th),
        Dialog::Confirm { .. } => confirm::draw(f, area, rb, st, ui, d, th),
        Dialog::CancelAbort { .. } => cancel_abort::draw(f, area, st, d, th),
    }
}

/// One gate check: `✓ PASS` or `✗ FAIL`, its name in `name_w` columns (a gap of two
/// included), its evidence. The
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
        // A name longer than its column is cut with `…`, and a gap always parts it from
        // the evidence.
        Span::styled(
            fit(&cut(&clean(&c.name), name_w.saturating_sub(2)), name_w),
            th.get(StyleName::Text),
        ),
        Span::styled(clean(&c.evidence).into_owned(), th.get(StyleName::Muted)),
    ])
}

/// A read-only text in a box of most of the screen, wrapped, scrolled `scroll` lines (a log
/// line's record, a detail view), with how to scroll and close it at its foot.
pub(crate) fn scrolling_text(
    f: &mut Frame,
    area: Rect,
    title: &str,
    mut lines: Vec<Line<'_>>,
    scroll: usize,
    th: &Theme,
) {
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "j/k scroll · any other key closes",
        th.get(StyleName::Muted),
    )));
    let w = (area.width * 9 / 10).max(60).min(area.width);
    text_box(f, area, title, lines, w, scroll, th);
}

/// Lines in a box `w` wide (and as high as they wrap to, up to the screen), centred, titled,
/// scrolled `scroll` lines. Every span goes through `text::clean` here, once for every text
/// box: a detail or a record holds runbook text, server answers and operators' words, and
/// their own code does not clean them.
pub(crate) fn text_box(
    f: &mut Frame,
    area: Rect,
    title: &str,
    mut lines: Vec<Line<'_>>,
    w: u16,
    scroll: usize,
    th: &Theme,
) {
    for span in lines.iter_mut().flat_map(|l| l.spans.iter_mut()) {
        if span.content.chars().any(crate::text::is_unsafe) {
            span.content = clean(&span.content).into_owned().into();
        }
    }
    let title = clean(title);
    let title = title.as_ref();
    let h = (wrapped_height(&lines, w.saturating_sub(2)) + 2).min(area.height);
    let r = area.centered(Constraint::Length(w), Constraint::Length(h));
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .style(th.get(StyleName::Dialog))
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
            .block(block(title, true, th)),
        r,
    );
}
