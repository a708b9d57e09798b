//! `warroom watch`: follow a rollout in PostgreSQL, read-only.

use crate::{Failure, init_tracing, runbook_for, runtime};
use std::path::PathBuf;
use std::process::ExitCode;
use warroom::audit;
use warroom::ui::theme::Theme;
use warroom::watch::Watch;

pub fn watch(
    store: &str,
    rollout: Option<String>,
    operator: &str,
    runbook: Option<PathBuf>,
    theme: &str,
) -> Result<ExitCode, Failure> {
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
            |records| runbook_for(records, runbook).map(|l| l.runbook),
        ))
        .map_err(Failure::config)?;
    init_tracing();
    rt.block_on(warroom::ui::watch::run_watch(w, &theme))
        .map_err(Failure::run)?;
    Ok(ExitCode::SUCCESS)
}
