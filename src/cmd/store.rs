//! `--store` (a path or a `postgres://` URL, with `--rollout`) and `warroom audit copy`.

use crate::{Failure, runtime};
use std::process::ExitCode;
use warroom::audit::{self, Location};

/// The log a reading command (replay, verify, export) names.
#[derive(clap::Args)]
pub struct LogArg {
    /// The log: a path (SQLite) or a postgres:// URL.
    #[arg(required_unless_present = "store")]
    audit: Option<String>,
    /// The log, as --store (instead of the positional argument).
    #[arg(long, conflicts_with = "audit")]
    store: Option<String>,
    /// The rollout in a PostgreSQL store. Default: the only one it holds.
    #[arg(long)]
    rollout: Option<String>,
}

impl LogArg {
    /// Where the log is: the positional argument or `--store`.
    pub fn location(self) -> Result<Location, Failure> {
        let Some(given) = self.audit.or(self.store) else {
            return Err(Failure::config(
                "name the log: a path or a postgres:// URL (or --store)",
            ));
        };
        Location::parse(&given, self.rollout.as_deref()).map_err(Failure::config)
    }
}

/// The log a console writes: `--store`, else `--audit`, else a new file in the user's data
/// directory.
pub fn console_location(
    audit: Option<std::path::PathBuf>,
    store: Option<String>,
    rollout: Option<String>,
    mode: &str,
) -> Result<Location, Failure> {
    match (store, audit) {
        (Some(s), _) => Location::parse(&s, rollout.as_deref()).map_err(Failure::config),
        (None, audit) => {
            if rollout.is_some() {
                return Err(Failure::config(
                    "--rollout names a rollout in a PostgreSQL store: give --store postgres://…",
                ));
            }
            Ok(Location::File(
                audit.unwrap_or_else(|| crate::default_audit_path(mode)),
            ))
        }
    }
}

/// `warroom audit copy FROM TO`: every record as it is; both ends verified.
pub fn copy(
    from: &str,
    to: &str,
    rollout: Option<String>,
    to_rollout: Option<String>,
) -> Result<ExitCode, Failure> {
    let from_at = Location::parse(
        from,
        if audit::pg::is_url(from) {
            rollout.as_deref()
        } else {
            None
        },
    )
    .map_err(Failure::config)?;
    // The copy's rollout: as told, else the source's, else the source file's name.
    let default_name = match &from_at {
        Location::File(p) => Some(audit::default_rollout(p)),
        Location::Postgres { rollout, .. } => rollout.clone(),
    };
    let to_name = to_rollout.or(rollout).or(default_name);
    let to_at = if audit::pg::is_url(to) {
        Location::parse(to, to_name.as_deref())
    } else {
        Location::parse(to, None)
    }
    .map_err(Failure::config)?;
    if from_at == to_at {
        return Err(Failure::config(
            "the source and the destination are the same log",
        ));
    }
    match runtime().block_on(audit::copy(&from_at, &to_at)) {
        Ok((n, head)) => {
            println!(
                "copied {n} records from {} to {}; both verify, head {head}",
                from_at.shown(),
                to_at.shown()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("warroom: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
