//! The text of `warroom status`: the report as a few lines for a terminal or a chat message.
//! It only formats; what is healthy, critical or firing is in the report already.

use super::report::{PoolStatus, StatusReport};
use crate::engine::{MetricLevel, fmt_num};
use crate::runbook::fmt_duration;

/// A few lines for a terminal or a chat message. Every line passes through
/// [`crate::text::clean`]: what a server, the runbook or the log says can neither add a line
/// nor carry a control, bidi or zero-width character.
pub(super) fn text(r: &StatusReport) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&crate::text::clean(&s));
        out.push('\n');
    };
    line(format!(
        "{} — {}",
        r.runbook,
        r.at.format("%Y-%m-%d %H:%M:%S UTC")
    ));
    line(format!(
        "phase: {}   rollout flag: {}",
        r.phase.as_deref().unwrap_or("none started"),
        r.rollout_percent
            .map(|p| format!("{p} %"))
            .unwrap_or_else(|| "unknown".into())
    ));
    if let Some(l) = &r.lead {
        line(format!(
            "lead: {}{}{}",
            l.operator,
            l.since
                .map(|t| format!(" since {}", t.format("%H:%M:%S UTC")))
                .unwrap_or_default(),
            if l.ended {
                " (quit: nobody leads until a console opens)"
            } else {
                ""
            }
        ));
    }
    if let Some(a) = &r.awaiting_approval {
        line(format!(
            "awaiting approval: #{} {} (requested by {}; another operator approves with A)",
            a.id, a.action, a.requested_by
        ));
    }
    if r.flags.is_empty() {
        line("flags: unknown".into());
    } else {
        line(format!(
            "flags: {}",
            r.flags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for (flag, v) in &r.flag_views {
        line(format!(
            "  {flag}: {} in {}: {}",
            v.feature,
            v.place(),
            v.state()
        ));
    }
    line("pools:".into());
    let served_total: u64 = r.pools.iter().filter_map(|q| q.served).sum();
    for p in &r.pools {
        pool(p, served_total, &mut line);
    }
    line("metrics:".into());
    let w = r.metrics.iter().map(|m| m.id.len()).max().unwrap_or(0);
    for m in &r.metrics {
        let value = match m.value {
            Some(v) if m.state != MetricLevel::Stale => format!("{} {}", fmt_num(v), m.unit),
            _ => "—".into(),
        };
        line(format!(
            "  {:<w$}  {:<16}{}",
            m.id,
            value.trim_end(),
            m.state.as_str().to_uppercase()
        ));
    }
    if r.alerts.is_empty() {
        line("alerts: none".into());
    } else {
        line("alerts:".into());
        for a in &r.alerts {
            let unit = r
                .metrics
                .iter()
                .find(|m| m.id == a.metric)
                .map(|m| format!(" {}", m.unit))
                .unwrap_or_default();
            line(format!(
                "  {} {} {}{unit} (threshold {}{unit}){}",
                a.level.as_str().to_uppercase(),
                a.metric,
                a.value.map(fmt_num).unwrap_or_else(|| "—".into()),
                fmt_num(a.threshold),
                a.fires_in
                    .map(|d| format!(", pending: fires in {} if it holds", fmt_duration(d)))
                    .unwrap_or_default()
            ));
        }
    }
    line(format!(
        "migrations: {}   replication lag: {}",
        match &r.migration {
            Some(m) => format!(
                "version {}{}{}",
                m.version
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "none".into()),
                if m.dirty { " DIRTY" } else { "" },
                if m.in_progress {
                    " (migration in progress)"
                } else {
                    ""
                }
            ),
            None => "unknown".into(),
        },
        r.replication_lag_seconds
            .map(|l| format!("{} s", fmt_num(l)))
            .unwrap_or_else(|| "unknown".into())
    ));
    if !r.unreadable.is_empty() {
        line(format!(
            "GATE UNKNOWN: cannot read {}",
            r.unreadable.join(", ")
        ));
    }
    if !r.errors.is_empty() {
        line("sources:".into());
        for e in &r.errors {
            line(format!("  {}: {}", e.source, e.message));
        }
    }
    out
}

/// A pool's line, what it served (of `served_total`), and a line per server.
fn pool(p: &PoolStatus, served_total: u64, line: &mut impl FnMut(String)) {
    line(format!(
        "  {:<6}{:<8}weight {:<7}{}",
        p.name.as_str(),
        match p.active {
            Some(true) => "ACTIVE",
            Some(false) => "",
            None => "?",
        },
        p.weight
            .map(|w| format!("{w} %"))
            .unwrap_or_else(|| "?".into()),
        if p.servers.is_empty() {
            "no health reading".to_string()
        } else {
            format!("{}/{} healthy", p.healthy, p.servers.len())
        }
    ));
    if let Some(n) = p.served {
        line(format!(
            "    served {n} since the load balancer started{}",
            if served_total > 0 {
                format!(
                    " ({:.0} % of its traffic)",
                    n as f64 * 100.0 / served_total as f64
                )
            } else {
                String::new()
            }
        ));
    }
    if let Some(n) = p.served_since_change {
        line(format!(
            "    served {n} since the load balancer's last change"
        ));
    }
    // The address column fits the longest (HAProxy's rows are `backend/name ADDRESS`).
    let w = p
        .servers
        .iter()
        .map(|s| s.address.chars().count())
        .max()
        .unwrap_or(0)
        .max(23);
    for s in &p.servers {
        line(format!(
            "    {:<w$} {:<6}{}",
            s.address,
            if s.healthy { "ok" } else { "DOWN" },
            match (&s.error, s.latency_ms) {
                (Some(e), _) => e.clone(),
                (None, Some(l)) => format!("{l:.1} ms"),
                (None, None) => String::new(),
            }
        ));
    }
}
