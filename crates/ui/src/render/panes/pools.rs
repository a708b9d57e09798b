//! The pools: traffic share, health, each server.

use crate::render::prelude::*;

pub(crate) fn pools_pane(
    f: &mut Frame,
    area: Rect,
    rb: &Runbook,
    st: &State,
    th: &Theme,
    big: bool,
) {
    let mut lines = Vec::new();
    let addr_w = (area.width as usize).saturating_sub(16).clamp(10, 40);
    let active = st.pools.active.unwrap_or(rb.pools.active);
    for p in [PoolName::Blue, PoolName::Green] {
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
        lines.push(Line::from(head));
        for s in st.pools.servers(p) {
            let detail = match (&s.error, s.latency_ms) {
                (Some(e), _) => clean(e).into_owned(),
                (None, Some(l)) => format!("{:.0}ms", l),
                (None, None) => String::new(),
            };
            lines.push(Line::from(vec![
                Span::styled(
                    if s.healthy { "  ● " } else { "  ✗ " },
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
    let title = format!("Pools  traffic · health{age}");
    f.render_widget(Rows::new(lines).block(block(&title, false, th)), area);
}
