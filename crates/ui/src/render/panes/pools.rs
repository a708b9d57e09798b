//! The pools: traffic share, health, each server.

use crate::render::prelude::*;

pub(crate) fn pools_pane(
    f: &mut Frame,
    area: Rect,
    rb: &Runbook,
    st: &State,
    ui: &Ui,
    th: &Theme,
    density: Density,
) {
    let (big, compact) = (density == Density::Big, density == Density::Compact);
    let mut lines = Vec::new();
    let addr_w = (area.width as usize).saturating_sub(16).clamp(10, 40);
    let active = st.pools.active.unwrap_or(rb.pools.active);
    lines.push(ladder(rb, st, th, area.width.saturating_sub(2)));
    // What each pool really took since the load balancer's last change (HAProxy counts it),
    // under the shares asked for (not in the compact layout's one line a pool).
    if let Some(served) = st.pools.served.filter(|_| !compact) {
        let total = served.blue + served.green;
        let text = if total == 0 {
            "served since the change: none yet".to_string()
        } else {
            let pct = |p: PoolName| served.of(p) as f64 * 100.0 / total as f64;
            format!(
                "served: blue {:.0} % · green {:.0} % (of {total})",
                pct(PoolName::Blue),
                pct(PoolName::Green)
            )
        };
        lines.push(Line::from(Span::styled(
            fit_name(&text, area.width.saturating_sub(2) as usize),
            th.get(StyleName::Muted),
        )));
    }
    let focused = ui.focus == Pane::Pools;
    let (mut shown, mut all) = (0, 0);
    for (row, p) in [PoolName::Blue, PoolName::Green].into_iter().enumerate() {
        let (ok, n) = st.pools.healthy(p);
        let traffic = st
            .pools
            .traffic(p)
            .map(|t| format!("{t:>3} %"))
            .unwrap_or_else(|| "  ? %".into());
        let mut head = vec![
            Span::styled(
                format!("{:<6}", p.as_str().to_uppercase()),
                th.get(pool_style(p)),
            ),
            Span::styled(format!(" {traffic} "), th.get(StyleName::Text)),
            Span::styled(
                format!(" {ok}/{n} healthy "),
                th.get(if engine::pool_healthy(st, p) {
                    StyleName::PoolHealthy
                } else {
                    StyleName::PoolDown
                }),
            ),
        ];
        if p == active {
            head.push(Span::styled(" ACTIVE ", th.get(StyleName::PoolActive)));
        } else if p == rb.rollout.pool {
            head.push(Span::styled(" CANARY", th.get(StyleName::Muted)));
        }
        if focused {
            head.insert(
                0,
                Span::styled(
                    if row == ui.pool_sel { "▸" } else { " " },
                    th.get(StyleName::Key),
                ),
            );
        }
        lines.push(Line::from(head));
        if compact {
            // One line a pool: a server down is on the alert banner.
            continue;
        }
        let filter = ui.filter_of(Pane::Pools).unwrap_or_default();
        for s in st.pools.servers(p) {
            all += 1;
            if !crate::app::filter_holds(&s.address, filter) {
                continue;
            }
            shown += 1;
            let detail = match (&s.error, s.latency_ms) {
                (Some(e), _) => clean(e).into_owned(),
                (None, Some(l)) => format!("{:.0}ms", l),
                (None, None) => String::new(),
            };
            lines.push(Line::from(vec![
                Span::styled(
                    if s.healthy { "  ✓ " } else { "  ✗ " },
                    th.get(if s.healthy {
                        StyleName::PoolHealthy
                    } else {
                        StyleName::PoolDown
                    }),
                ),
                Span::styled(
                    format!("{} ", fit(&clean(&s.address), addr_w)),
                    th.get(StyleName::Text),
                ),
                Span::styled(
                    detail,
                    th.get(if s.healthy {
                        StyleName::Muted
                    } else {
                        StyleName::PoolDown
                    }),
                ),
            ]));
        }
        if st.pools.servers(p).is_empty() {
            lines.push(Line::from(Span::styled(
                "  no health reading yet",
                th.get(StyleName::MetricStale),
            )));
        }
    }
    if big && let Some(rule) = &rb.pools.canary_rule {
        lines.push(Line::from(Span::styled(
            format!("canary rule: {rule}"),
            th.get(StyleName::Muted),
        )));
    }
    let age = st
        .age(st.pools.observed_at)
        .map(|a| format!(" ({} ago)", fmt_duration(a)))
        .unwrap_or_default();
    let note = filter_note(ui, Pane::Pools, shown, all);
    // A flag-only canary: the pools' shares are the load balancer's, the flag splits inside.
    let lb = if st.split_by_flag(rb) { "LB " } else { "" };
    let title = cut(
        &format!("Pools{note}  {lb}traffic · health{age}"),
        (area.width as usize).saturating_sub(4),
    );
    f.render_widget(Rows::new(lines).block(block(&title, focused, th)), area);
}

/// The canary ladder, `✓ 0 → ▶ 10 now → ○ 25 next → ○ 50 → ○ 100`: glyphs and words, so it
/// reads without colour.
/// Narrower than `width`, the arrows lose their spaces.
pub(crate) fn ladder(rb: &Runbook, st: &State, th: &Theme, width: u16) -> Line<'static> {
    let mut wide = ladder_in(rb, st, th, " → ");
    if wide.width() > width as usize {
        wide = ladder_in(rb, st, th, "→");
    }
    // A flag-only canary climbs by the flag, not by the load balancer's shares beside it.
    if st.split_by_flag(rb) {
        wide.spans
            .insert(0, Span::styled("flag ", th.get(StyleName::Muted)));
    }
    wide
}

fn ladder_in(rb: &Runbook, st: &State, th: &Theme, arrow: &'static str) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (p, rung)) in engine::rollout_ladder(st, rb).into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(arrow, th.get(StyleName::Muted)));
        }
        let (text, style) = match rung {
            engine::Rung::Done => (format!("✓{p}"), StyleName::PhaseDone),
            engine::Rung::Current => (format!("▶{p} % now"), StyleName::PhaseActive),
            engine::Rung::Next => (format!("○{p} next"), StyleName::Key),
            engine::Rung::Later => (format!("○{p}"), StyleName::PhasePending),
        };
        spans.push(Span::styled(text, th.get(style)));
    }
    Line::from(spans)
}
