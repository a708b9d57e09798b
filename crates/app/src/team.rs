//! Before a console opens a rollout in PostgreSQL: does it lead, take over, or observe?
//! Another console holding the rollout's writer lock leads it: this one then observes. A lead
//! recorded in the log whose session never ended (its console was killed, or lost its
//! connection, and so its lock) is taken over, after the operator confirms.

use crate::audit::pg::{self, PgLog};
use crate::engine;
use crate::runbook::Loaded;

/// What a console opening a rollout does.
#[derive(Debug, Clone, PartialEq)]
pub enum Opening {
    /// It leads; `take_over_from` names the lead whose console stopped.
    Lead { take_over_from: Option<String> },
    /// Another console leads: who, from where, since when (UTC), and its lease.
    Observer(pg::Holder, Option<pg::Lease>),
    /// A console holds the rollout's lock but its lease has ended (its connection is left
    /// half-open: a laptop closed): it may be taken over, after the operator confirms, by
    /// ending that connection (`pg::end_expired_lead`).
    TakeOverExpired(pg::Holder, pg::Lease),
}

/// The phrase a take-over asks for.
pub const TAKE_OVER_PHRASE: &str = "take over";

pub async fn survey(
    url: &str,
    rollout: &str,
    operator: &str,
    loaded: &Loaded,
) -> Result<Opening, String> {
    match pg::writer_holder(url, rollout).await? {
        Some((h, Some(l))) if l.expired(chrono::Utc::now()) && l.operator == h.operator => {
            return Ok(Opening::TakeOverExpired(h, l));
        }
        Some((h, l)) => return Ok(Opening::Observer(h, l)),
        None => {}
    }
    // Nobody holds it. A rollout (or a database) with no log yet has no lead to take over.
    // Its state as the console will resume it: the newest snapshot and what follows.
    let basis = crate::audit::Basis {
        rb: &loaded.runbook,
        runbook_sha256: &loaded.sha256,
    };
    let st = match PgLog::open(url, Some(rollout)).await {
        Ok(mut log) => {
            let r = log.resume(basis).await;
            log.close().await;
            r?.state
        }
        Err(_) => engine::State::new(&loaded.runbook),
    };
    Ok(Opening::Lead {
        take_over_from: engine::lead_to_take_over(&st, operator).map(|l| l.operator.clone()),
    })
}
