//! Drawing: a pure function of the runbook, the state, the UI state and the theme. It never
//! awaits and never changes domain state.
//!
//! One file per pane (`panes/`) and per dialog (`dialogs/`), the help overlay, and one
//! formatting module (`fmt`) for times, durations, names and sparklines.

mod dialogs;
mod fmt;
mod help;
pub(crate) mod panes;
mod prelude;
mod present;

pub use fmt::sparkline;
pub use panes::banner::emergency;

use prelude::*;
use ratatui::buffer::Buffer;
use ratatui::layout::Alignment;
use ratatui::text::Text;
use ratatui::widgets::Widget;

/// What the frame shows besides the state: where the log is, its head, the clock.
pub struct Chrome<'a> {
    pub audit: &'a str,
    pub head: &'a str,
    /// `SIM ×30`, `LIVE`, `REPLAY 120/480 ×10 ▶`.
    pub clock: String,
    /// The log pane's lines; `None` shows the live tracing log (tui-logger).
    pub log: Option<&'a [String]>,
    /// The source clock now (live); `None` shows the time of the last event (replay).
    pub now: Option<crate::engine::Time>,
}

pub fn render(f: &mut Frame, rb: &Runbook, st: &State, ui: &Ui, th: &Theme, ch: &Chrome) {
    let area = f.area();
    f.render_widget(
        Block::default().style(
            Style::default()
                .bg(th.background)
                .fg(th.get(StyleName::Text).fg.unwrap_or_default()),
        ),
        area,
    );
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        too_small(f, area, th);
        return;
    }
    if ui.present {
        present::presentation(f, area, rb, st, ui, th, ch);
    } else {
        panes(f, area, rb, st, ui, th, ch);
    }
    if let Some(d) = &ui.dialog {
        dialogs::draw(f, area, rb, st, ui, d, th);
    }
    if ui.help {
        help::help(f, area, ui, th);
    }
}

/// How much a pane shows: one line a pool under 100×30, more on the room's screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Density {
    Compact,
    Normal,
    Big,
}

/// The smallest terminal the console draws on (columns, rows); below it, a notice saying so.
pub const MIN_SIZE: (u16, u16) = (80, 24);

fn too_small(f: &mut Frame, area: Rect, th: &Theme) {
    let (w, h) = MIN_SIZE;
    let lines = vec![
        Line::from(Span::styled(
            "terminal too small",
            th.get(StyleName::AlertWarning),
        ))
        .centered(),
        Line::from(Span::styled(
            format!("need ≥ {w}×{h}, have {}×{}", area.width, area.height),
            th.get(StyleName::Text),
        ))
        .centered(),
        Line::from(Span::styled("q quits", th.get(StyleName::Muted))).centered(),
    ];
    let [_, mid, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(3),
        Constraint::Fill(1),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), mid);
}

/// Where each pane of the main screen is on a screen of `area` (what a click lands on); the
/// log's rows; the layout `panes` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaneAreas {
    pub title: Rect,
    pub urgent: Rect,
    pub banner: Rect,
    pub phases: Rect,
    pub checklist: Rect,
    pub flags: Rect,
    pub metrics: Rect,
    pub pools: Rect,
    pub log: Rect,
    pub status: Rect,
    pub hints: Rect,
    pub density: Option<Density>,
}

impl PaneAreas {
    /// Each pane that takes the focus, with its area.
    fn panes(&self) -> [(Rect, Pane); 6] {
        [
            (self.phases, Pane::Phases),
            (self.checklist, Pane::Checklist),
            (self.flags, Pane::Flags),
            (self.metrics, Pane::Metrics),
            (self.pools, Pane::Pools),
            (self.log, Pane::Log),
        ]
    }

    /// The panes as a reader meets them: column by column, each top to bottom, the log (the
    /// whole width, under them) last. None without a layout (presentation mode, too small).
    pub fn tab_order(&self) -> Option<[Pane; 6]> {
        self.density?;
        let mut panes = self.panes();
        panes.sort_by_key(|(r, p)| (*p == Pane::Log, r.x, r.y));
        Some(panes.map(|(_, p)| p))
    }

    /// The pane at a cell, if any.
    pub fn at(&self, x: u16, y: u16) -> Option<Pane> {
        let p = ratatui::layout::Position { x, y };
        self.panes()
            .into_iter()
            .find(|(r, _)| r.contains(p))
            .map(|(_, pane)| pane)
    }
}

/// Before a frame: Tab follows the panes in the order this screen shows them.
pub fn follow_layout(
    ui: &mut Ui,
    size: ratatui::layout::Size,
    rb: &Runbook,
    st: &State,
    th: &Theme,
) {
    let area = Rect::from((ratatui::layout::Position::ORIGIN, size));
    if let Some(order) = pane_areas(area, rb, st, th).tab_order() {
        ui.tab_order = order;
    }
}

/// The main screen's layout on `area` (none below the smallest size, or in presentation mode).
pub fn pane_areas(area: Rect, rb: &Runbook, st: &State, th: &Theme) -> PaneAreas {
    let urgent = panes::banner::emergency(rb, st, th).is_some();
    layout(area, rb, st, urgent)
}

/// The layout, given whether the emergency line is shown.
fn layout(area: Rect, rb: &Runbook, st: &State, urgent: bool) -> PaneAreas {
    let big = area.height >= 55 && area.width >= 200;
    // Under 30 rows or 100 columns (80x24): the phase timeline in one line (the phase now,
    // or the one selected), the pools in one line each, the flags under the checklist.
    let compact = area.height < 30 || area.width < 100;
    let density = if big {
        Density::Big
    } else if compact {
        Density::Compact
    } else {
        Density::Normal
    };
    // A short screen gives the log fewer rows before anything else loses one.
    let log_h = if big {
        14
    } else if compact {
        3
    } else {
        7
    };
    let [title, urgent_area, banner, body, log, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(urgent)),
        Constraint::Length(1),
        Constraint::Min(10),
        Constraint::Length(log_h),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let left_w = if big {
        70
    } else if compact {
        // The metrics' names need the columns more than the checklist's items.
        (area.width * 45 / 100).max(36)
    } else {
        (area.width * 38 / 100).max(40)
    };
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_w), Constraint::Min(38)]).areas(body);
    // Room for every server the runbook names or the sources report (a `${VAR}` list in the
    // runbook expands to several); compact, one line a pool.
    let servers = |n: usize, seen: usize| n.max(seen) as u16;
    let pools_h = if compact {
        5
    } else {
        3 + servers(rb.pools.blue.servers.len(), st.pools.blue.len())
            + servers(rb.pools.green.servers.len(), st.pools.green.len())
            + if big { 3 } else { 2 }
    };
    let mut a = PaneAreas {
        title,
        urgent: urgent_area,
        banner,
        log,
        status,
        hints,
        density: Some(density),
        ..Default::default()
    };
    if compact {
        // The checklist, the flags and the pools on the left; the phase now (one line) over
        // the metrics on the right. The flags keep the migration and backup lines (and a
        // source's error) in what is left once the checklist shows up to four items.
        let extra = u16::from(st.migration.is_some())
            + u16::from(st.backup.is_some())
            + st.source_errors.len() as u16;
        let flags_h = rb.flags.len() as u16 + 2;
        let checklist_h = crate::app::current_items(st, rb).len().clamp(2, 4) as u16 + 2;
        let room = left.height.saturating_sub(checklist_h + flags_h + pools_h);
        let flags_h = flags_h + extra.min(room);
        [a.checklist, a.flags, a.pools] = Layout::vertical([
            Constraint::Min(4),
            Constraint::Length(flags_h),
            Constraint::Length(pools_h),
        ])
        .areas(left);
        [a.phases, a.metrics] =
            Layout::vertical([Constraint::Length(3), Constraint::Min(8)]).areas(right);
    } else {
        // Pools sit under the checklist; flags take the right column's width under the
        // metrics.
        let phases_h = rb.phases.len() as u16 * if big { 2 } else { 1 } + 2;
        [a.phases, a.checklist, a.pools] = Layout::vertical([
            Constraint::Length(phases_h),
            Constraint::Min(5),
            Constraint::Length(pools_h),
        ])
        .areas(left);
        let flags_h = rb.flags.len() as u16 + if big { 6 } else { 5 };
        [a.metrics, a.flags] =
            Layout::vertical([Constraint::Min(8), Constraint::Length(flags_h)]).areas(right);
    }
    a
}

/// The panes: the main screen.
fn panes(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, ui: &Ui, th: &Theme, ch: &Chrome) {
    let urgent = panes::banner::emergency(rb, st, th);
    let a = layout(area, rb, st, urgent.is_some());
    let density = a.density.unwrap_or(Density::Normal);
    let big = density == Density::Big;
    panes::header::title_bar(f, a.title, rb, st, th, ui);
    if let Some(line) = urgent {
        f.render_widget(Rows::new(line), a.urgent);
    }
    panes::banner::alert_banner(f, a.banner, rb, st, th);
    panes::phases::phase_pane(f, a.phases, rb, st, ui, th, big);
    panes::checklist::checklist_pane(f, a.checklist, rb, st, ui, th);
    panes::metrics::metrics_pane(f, a.metrics, rb, st, ui, th, big);
    panes::pools::pools_pane(f, a.pools, rb, st, ui, th, density);
    panes::flags::flags_pane(f, a.flags, rb, st, ui, th);
    panes::log::log_pane(f, a.log, ui, th, ch);
    panes::status::status_bar(f, a.status, st, ui, th, ch);
    let next = (ui.mode == Mode::Live).then(|| engine::next_move(st, rb));
    panes::status::hint_bar(f, a.hints, next.as_ref(), ui, th);
}

pub(crate) fn block<'a>(title: &'a str, focused: bool, th: &Theme) -> Block<'a> {
    Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(th.get(if focused {
            StyleName::BorderFocus
        } else {
            StyleName::Border
        }))
        .title(Span::styled(format!(" {title} "), th.get(StyleName::Title)))
}

/// A filtered list's title note: ` /mig 1/6` (what is typed, with the cursor while it is
/// typed, and how many rows of how many it shows), empty when the pane has no filter.
pub(crate) fn filter_note(ui: &Ui, pane: Pane, shown: usize, of: usize) -> String {
    match ui.filter.as_ref().filter(|f| f.pane == pane) {
        Some(f) => format!(
            " /{}{} {shown}/{of}",
            clean(&f.text),
            if f.typing { "▏" } else { "" }
        ),
        None => String::new(),
    }
}

pub(crate) fn pool_style(p: PoolName) -> StyleName {
    match p {
        PoolName::Blue => StyleName::PoolBlue,
        PoolName::Green => StyleName::PoolGreen,
    }
}

/// Lines drawn one to a row inside an optional block, each cut at the right edge: what
/// every pane is. It writes the cells directly; a `Paragraph` composes each grapheme through
/// its truncator first, which took three quarters of a 240x67 frame.
pub(crate) struct Rows<'a> {
    lines: Vec<Line<'a>>,
    block: Option<Block<'a>>,
    style: Style,
}

impl<'a> Rows<'a> {
    pub(crate) fn new(text: impl Into<Text<'a>>) -> Self {
        let text = text.into();
        Rows {
            lines: text.lines,
            block: None,
            style: text.style,
        }
    }

    pub(crate) fn block(mut self, block: Block<'a>) -> Self {
        self.block = Some(block);
        self
    }

    /// The style of the whole area (a bar's background).
    pub(crate) fn style(mut self, style: Style) -> Self {
        self.style = style;
        self
    }
}

impl Widget for Rows<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        buf.set_style(area, self.style);
        let inner = match &self.block {
            Some(b) => {
                let inner = b.inner(area);
                b.render(area, buf);
                inner
            }
            None => area,
        };
        for (line, y) in self.lines.iter().zip(inner.top()..inner.bottom()) {
            let w = u16::try_from(line.width()).unwrap_or(u16::MAX);
            let x = match line.alignment {
                Some(Alignment::Center) => inner.x + inner.width.saturating_sub(w) / 2,
                Some(Alignment::Right) => inner.x + inner.width.saturating_sub(w),
                _ => inner.x,
            };
            let room = inner.right().saturating_sub(x);
            buf.set_line(x, y, line, room);
            // A line cut at the pane's edge says so: its last cell becomes `…` (trailing
            // padding does not count as cut).
            if w > room && room > 0 {
                let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
                if text.trim_end().width() > room as usize
                    && let Some(cell) = buf.cell_mut((x + room - 1, y))
                {
                    cell.set_symbol("…");
                }
            }
        }
    }
}

/// Rows that lines take once wrapped at `width` columns.
pub(crate) fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    let w = width.max(1) as usize;
    lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(w) as u16)
        .sum()
}

#[cfg(test)]
mod tests {
    use ratatui::layout::{Constraint, Rect};

    /// Dialogs are placed with `Rect::centered`; one larger than the screen takes the screen
    /// and no more.
    #[test]
    fn a_dialog_larger_than_the_screen_stays_on_it() {
        let screen = Rect::new(0, 0, 80, 24);
        let big = screen.centered(Constraint::Length(84), Constraint::Length(30));
        assert_eq!(big, screen);
        let quit = screen.centered(Constraint::Length(60), Constraint::Length(5));
        assert_eq!(quit, Rect::new(10, 10, 60, 5));
    }
}
