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
            Span::styled(format!(" {traffic} "), th.get("text")),
            Span::styled(
                format!(" {ok}/{n} healthy "),
                th.get(if engine::pool_healthy(st, p) {
                    "pool.healthy"
                } else {
                    "pool.down"
                }),
            ),
        ];
        if p == active {
            head.push(Span::styled(" ACTIVE ", th.get("pool.active")));
        } else if p == rb.rollout.pool {
            head.push(Span::styled(" CANARY", th.get("muted")));
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
                        "pool.healthy"
                    } else {
                        "pool.down"
                    }),
                ),
                Span::styled(
                    format!(
                        "{:<addr_w$} ",
                        clean(&s.address).chars().take(addr_w).collect::<String>()
                    ),
                    th.get("text"),
                ),
                Span::styled(
                    detail,
                    th.get(if s.healthy { "muted" } else { "pool.down" }),
                ),
            ]));
        }
        if st.pools.servers(p).is_empty() {
            lines.push(Line::from(Span::styled(
                "  no health reading yet",
                th.get("metric.stale"),
            )));
        }
    }
    if big && let Some(rule) = &rb.pools.canary_rule {
        lines.push(Line::from(Span::styled(
            format!("canary rule: {rule}"),
            th.get("muted"),
        )));
    }
    let age = st
        .age(st.pools.observed_at)
        .map(|a| format!(" ({} ago)", fmt_duration(a)))
        .unwrap_or_default();
    let title = format!("Pools  traffic · health{age}");
    f.render_widget(Rows::new(lines).block(block(&title, false, th)), area);
}
