//! Checks of each metric that its type cannot express: thresholds in order and finite, one
//! source, a read-only SQL check, a simulator signal that exists.

use super::at;
use crate::runbook::{Diag, Direction, Metric};

/// The checks of one metric.
pub(super) fn metric(m: &Metric, out: &mut Vec<Diag>) {
    if let (Some(w), Some(c)) = (&m.warning, &m.critical) {
        let beyond = match m.direction {
            Direction::Above => w.value >= c.value,
            Direction::Below => w.value <= c.value,
        };
        if beyond {
            out.push(
                Diag::error(
                    at(w),
                    format!(
                        "metric `{}`: warning threshold {} is beyond its critical threshold {}",
                        m.id.value, w.value, c.value
                    ),
                )
                .hint(match m.direction {
                    Direction::Above => "for a metric where higher is worse, warning must be below critical",
                    Direction::Below => "for a metric where lower is worse (direction: below), warning must be above critical",
                }),
            );
        }
    }
    for t in [&m.warning, &m.critical].into_iter().flatten() {
        if !t.value.is_finite() {
            out.push(Diag::error(
                at(t),
                format!("metric `{}`: threshold must be a finite number", m.id.value),
            ));
        }
    }
    if let Some(f) = &m.from
        && (m.query.is_some() || m.sql.is_some())
    {
        out.push(
            Diag::error(
                at(f),
                format!(
                    "metric `{}` has `from` and also `{}`",
                    m.id.value,
                    if m.query.is_some() { "query" } else { "sql" }
                ),
            )
            .hint("a metric has one source: PromQL (`query`), SQL (`sql`) or a built-in reading (`from`)"),
        );
    }
    if m.legacy_lag() {
        out.push(
            Diag::warning(
                at(&m.id),
                format!(
                    "metric `{}` has no `query`, `sql` or `from`: it is read from PostgreSQL's replication because of its id",
                    m.id.value
                ),
            )
            .hint("say so: from: postgres_replication"),
        );
    }
    if let Some(sql) = &m.sql {
        if m.query.is_some() {
            out.push(
                Diag::error(
                    at(sql),
                    format!("metric `{}` has both `query` and `sql`", m.id.value),
                )
                .hint("a metric has one source: PromQL (`query`) or SQL (`sql`)"),
            );
        }
        let head = sql.value.trim_start().to_ascii_lowercase();
        if !(head.starts_with("select") || head.starts_with("with")) {
            out.push(
                Diag::error(
                    at(sql),
                    format!(
                        "metric `{}`: `sql` must be a read-only query (SELECT or WITH)",
                        m.id.value
                    ),
                )
                .hint("checks only read; it also runs in a read-only transaction"),
            );
        }
    }
    // Only the demo and rehearsals read `sim:`, so an unknown signal does not stop a runbook
    // from loading (signals renamed since an earlier version among them): the metric has no
    // simulated value, which `check` says.
    if let Some(sig) = &m.sim
        && !crate::sim_signals::SIGNALS.contains(&sig.value.as_str())
    {
        out.push(
            Diag::warning(
                at(sig),
                format!(
                    "metric `{}`: unknown simulator signal `{}`; the demo and rehearsals show it as stale",
                    m.id.value, sig.value
                ),
            )
            .hint(format!(
                "signals: {} (renamed signals: runbooks/README.md)",
                crate::sim_signals::SIGNALS.join(", ")
            )),
        );
    }
}
