//! Before `demo` or `run` opens a rollout in PostgreSQL: lead it, take it over (typed
//! confirmation), or open as an observer when another console leads it.

use crate::{Failure, runtime};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use warroom::audit::{self, Location};
use warroom::runbook::Loaded;
use warroom::team::{Opening, TAKE_OVER_PHRASE, survey};

/// `Some(exit code)` when the console opened as an observer instead (and has closed); `None`
/// when this console is to lead (a take-over confirmed).
pub fn before_console(
    at: &Location,
    loaded: &Loaded,
    operator: &str,
    theme: &str,
) -> Result<Option<ExitCode>, Failure> {
    let Location::Postgres { url, rollout } = at else {
        return Ok(None);
    };
    let rollout = rollout
        .clone()
        .unwrap_or_else(|| audit::default_rollout(&loaded.path));
    let opening = runtime()
        .block_on(survey(url, &rollout, operator, &loaded.runbook))
        .map_err(Failure::config)?;
    match opening {
        Opening::Observer(h) => {
            eprintln!(
                "warroom: {} leads rollout {} (from {}, since {}): opening as an observer",
                h.operator,
                warroom::text::clean(&rollout),
                h.from,
                h.since
            );
            super::watch::watch(
                url,
                Some(rollout),
                operator,
                Some(loaded.path.clone()),
                theme,
            )
            .map(Some)
        }
        Opening::Lead {
            take_over_from: None,
        } => Ok(None),
        Opening::Lead {
            take_over_from: Some(prev),
        } => {
            eprint!(
                "warroom: {prev}'s console stopped without ending its session (its lock was released). \
                 Type `{TAKE_OVER_PHRASE}` to lead rollout {} (recorded with both names): ",
                warroom::text::clean(&rollout)
            );
            let _ = std::io::stderr().flush();
            let mut typed = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut typed)
                .map_err(|e| Failure::config(format!("cannot read the confirmation: {e}")))?;
            if typed.trim() == TAKE_OVER_PHRASE {
                Ok(None)
            } else {
                Err(Failure::config(format!(
                    "not taken over: `{TAKE_OVER_PHRASE}` was not typed; {prev} still leads rollout {} in its log",
                    warroom::text::clean(&rollout)
                )))
            }
        }
    }
}
