//! `warroom watch`: follow a rollout in PostgreSQL, read-only.

use crate::{Failure, init_tracing, runbook_for, runtime};
use std::path::PathBuf;
use std::process::ExitCode;
use warroom::audit;
use warroom::ui::theme::Theme;
use warroom::ui::watch::WatchEnd;
use warroom::watch::Watch;

/// `warroom watch`: exit 0 when the observer quits; when the lead hands the rollout over,
/// says how to open the lead's console.
pub fn watch(
    store: &str,
    rollout: Option<String>,
    operator: &str,
    runbook: Option<PathBuf>,
    theme: &str,
) -> Result<ExitCode, Failure> {
    match observe(store, rollout, operator, runbook, theme)? {
        WatchEnd::Quit => {}
        WatchEnd::HandedToMe => eprintln!(
            "warroom: the lead handed the rollout to you: open your console to lead it (warroom demo|run --store URL --operator {operator})"
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// The observer's console until it quits or is handed the lead.
pub fn observe(
    store: &str,
    rollout: Option<String>,
    operator: &str,
    runbook: Option<PathBuf>,
    theme: &str,
) -> Result<WatchEnd, Failure> {
    if !audit::pg::is_url(store) {
        return Err(Failure::config(format!(
            "watch follows a rollout in PostgreSQL: give a postgres:// URL, not {} (a file log is replayed: `warroom replay`)",
            warroom::runbook::redact(store)
        )));
    }
    let theme = Theme::load(theme).map_err(Failure::config)?;
    let rt = runtime();
    let w = rt
        .block_on(Watch::open(
            store,
            rollout.as_deref(),
            operator,
            |records| runbook_for(records, runbook),
        ))
        .map_err(Failure::config)?;
    init_tracing();
    rt.block_on(warroom::ui::watch::run_watch(w, &theme))
        .map_err(Failure::run)
}
