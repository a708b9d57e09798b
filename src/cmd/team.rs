//! Before `demo` or `run` opens a rollout in PostgreSQL: lead it, take it over (typed
//! confirmation), or open as an observer when another console leads it.

use crate::{Failure, runtime};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use warroom::audit::{self, Location};
use warroom::runbook::Loaded;
use warroom::team::{Opening, TAKE_OVER_PHRASE, survey};
use warroom::ui::watch::WatchEnd;

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
        .block_on(survey(url, &rollout, operator, loaded))
        .map_err(Failure::config)?;
    match opening {
        Opening::Observer(h, lease) => {
            // Another role's session shows no start: the lease says since when it leads.
            let since = match lease.filter(|l| l.operator == h.operator) {
                Some(l) => format!("{} UTC", l.since.format("%Y-%m-%d %H:%M:%S")),
                None => h.since.clone(),
            };
            eprintln!(
                "warroom: {} leads rollout {} (from {}, since {since}): opening as an observer",
                h.operator,
                warroom::text::clean(&rollout),
                h.from,
            );
            let end = super::watch::observe(
                url,
                Some(rollout.clone()),
                operator,
                Some(loaded.path.clone()),
                theme,
            )?;
            if end == WatchEnd::Quit {
                return Ok(Some(ExitCode::SUCCESS));
            }
            // Handed over: this console leads once the old lead's has let go of the rollout.
            eprintln!("warroom: the lead handed the rollout to you: opening it as its lead");
            for _ in 0..50 {
                let held = runtime()
                    .block_on(audit::pg::writer_holder(url, &rollout))
                    .map_err(Failure::config)?;
                if held.is_none() {
                    return Ok(None);
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Err(Failure::config(
                "the old lead's console still holds the rollout after 10 s: open your console again",
            ))
        }
        Opening::Lead {
            take_over_from: None,
        } => Ok(None),
        Opening::Lead {
            take_over_from: Some(prev),
        } => {
            confirm(
                &format!(
                    "{prev}'s console stopped without ending its session (its lock was released)"
                ),
                &prev,
                &rollout,
            )?;
            Ok(None)
        }
        Opening::TakeOverExpired(h, lease) => {
            confirm(
                &format!(
                    "{}'s lease ended at {} UTC, but its connection (from {}) still holds the rollout: a console cut off, a laptop closed. Taking over ends that connection",
                    h.operator,
                    lease.expires.format("%H:%M:%S"),
                    h.from
                ),
                &h.operator,
                &rollout,
            )?;
            let said = runtime()
                .block_on(audit::pg::end_expired_lead(url, &rollout))
                .map_err(Failure::config)?;
            eprintln!("warroom: {said}");
            Ok(None)
        }
    }
}

/// Ask for the take-over phrase on the terminal; refused unless it is typed.
fn confirm(why: &str, prev: &str, rollout: &str) -> Result<(), Failure> {
    let rollout = warroom::text::clean(rollout);
    eprint!(
        "warroom: {why}. Type `{TAKE_OVER_PHRASE}` to lead rollout {rollout} (recorded with both names): "
    );
    let _ = std::io::stderr().flush();
    let mut typed = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut typed)
        .map_err(|e| Failure::config(format!("cannot read the confirmation: {e}")))?;
    if typed.trim() == TAKE_OVER_PHRASE {
        Ok(())
    } else {
        Err(Failure::config(format!(
            "not taken over: `{TAKE_OVER_PHRASE}` was not typed; {prev} still leads rollout {rollout}"
        )))
    }
}
