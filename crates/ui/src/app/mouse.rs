//! What a click does (mouse capture on, `m`): the pane under it takes the focus, and the row
//! under it is selected — a checklist item, a flag, a phase, a pool, a log line — as the
//! arrows would select it.

use super::{Pane, Ui, current_items, filter_holds};
use crate::engine::State;
use crate::render::{Density, PaneAreas};
use crate::runbook::{PoolName, Runbook};

impl Ui {
    /// A left click at a cell of the main screen laid out as `areas`; `log` is the log's
    /// lines as drawn. Nothing happens over a dialog, the help, or presentation mode.
    pub fn on_click(
        &mut self,
        x: u16,
        y: u16,
        areas: &PaneAreas,
        st: &State,
        rb: &Runbook,
        log: &[String],
    ) {
        if !self.mouse || self.dialog.is_some() || self.help || self.present {
            return;
        }
        let Some(pane) = areas.at(x, y) else { return };
        let was_focused = self.focus == pane;
        self.focus = pane;
        let rect = match pane {
            Pane::Checklist => areas.checklist,
            Pane::Flags => areas.flags,
            Pane::Metrics => areas.metrics,
            Pane::Log => areas.log,
            Pane::Phases => areas.phases,
            Pane::Pools => areas.pools,
        };
        // The row inside the pane's border; a click on the border only focuses.
        let inner_h = rect.height.saturating_sub(2) as usize;
        let Some(row) = y.checked_sub(rect.y + 1).map(usize::from) else {
            return;
        };
        if row >= inner_h {
            return;
        }
        match pane {
            Pane::Checklist => {
                self.follow_checklist(st, rb);
                let items = current_items(st, rb);
                let offset = self.checklist_sel.saturating_sub(inner_h.saturating_sub(1));
                if offset + row < items.len() {
                    self.checklist_sel = offset + row;
                }
            }
            Pane::Flags => {
                // A flag whose server says more (Unleash) takes a second line for it, when
                // the pane has room for them.
                let views = crate::render::panes::flags::views_fit(rb, st, rect.height);
                let mut top = 0;
                for (i, fl) in rb.flags.iter().enumerate() {
                    let h = 1 + usize::from(views && st.flag_views.contains_key(&fl.id.value));
                    if row < top + h {
                        self.flag_sel = i;
                        break;
                    }
                    top += h;
                }
            }
            Pane::Phases => {
                let per = if areas.density == Some(Density::Big) {
                    2
                } else {
                    1
                };
                let shown: Vec<usize> = (0..rb.phases.len())
                    .filter(|&i| self.phase_shown(rb, i))
                    .collect();
                // One line for many phases (compact): a click only focuses.
                if inner_h < shown.len() * per {
                    return;
                }
                if let Some(&i) = shown.get(row / per) {
                    self.phase_sel = i;
                }
            }
            Pane::Pools => {
                // The ladder, what each pool served (when counted), then blue's line and its
                // servers, then green's.
                let compact = areas.density == Some(Density::Compact);
                let top = 1 + usize::from(st.pools.served.is_some() && !compact);
                let filter = self.filter_of(Pane::Pools).unwrap_or_default();
                let servers = st.pools.servers(PoolName::Blue);
                let blue_lines = if compact {
                    1
                } else if servers.is_empty() {
                    2
                } else {
                    1 + servers
                        .iter()
                        .filter(|s| filter_holds(&s.address, filter))
                        .count()
                };
                match row {
                    r if r < top => {}
                    r if r < top + blue_lines => self.pool_sel = 0,
                    _ => self.pool_sel = 1,
                }
            }
            Pane::Log => {
                // The lines as the pane showed them (unfocused, it followed the newest).
                let n = self.log_lines(log).len();
                let (start, _, _) = self.log_window(n, inner_h, was_focused);
                if start + row < n {
                    self.log_back = n - 1 - (start + row);
                }
            }
            Pane::Metrics => {}
        }
    }
}
