//! Where a log is (`--store`): an SQLite file's path, or a rollout in a PostgreSQL database.
//! Reading, verifying and copying a log go through here, so that every command takes either.

use super::*;
use crate::runbook::redact;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    /// An SQLite file (the default).
    File(PathBuf),
    /// A rollout in a PostgreSQL database. Without a name, the only rollout the database
    /// holds (a reader) — a console always names it.
    Postgres {
        url: String,
        rollout: Option<String>,
    },
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Location {
        Location::File(p.to_path_buf())
    }
}

impl From<&PathBuf> for Location {
    fn from(p: &PathBuf) -> Location {
        Location::File(p.clone())
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Location {
        Location::File(p)
    }
}

/// A rollout's default name: the runbook file's name without its extension
/// (`runbooks/checkout-v2.yaml` → `checkout-v2`).
pub fn default_rollout(runbook: &Path) -> String {
    runbook
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "rollout".into())
}

impl Location {
    /// `--store` as given: a `postgres://` URL, or a path. `--rollout` applies to a URL only.
    pub fn parse(store: &str, rollout: Option<&str>) -> Result<Location, String> {
        if pg::is_url(store) {
            let rollout = rollout.map(pg::rollout_name).transpose()?;
            Ok(Location::Postgres {
                url: store.to_string(),
                rollout,
            })
        } else if rollout.is_some() {
            Err(format!(
                "--rollout names a rollout in a PostgreSQL store; {} is a file (one log)",
                redact(store)
            ))
        } else {
            Ok(Location::File(PathBuf::from(store)))
        }
    }

    /// A PostgreSQL location without a rollout gets `name`.
    pub fn or_rollout(self, name: &str) -> Location {
        match self {
            Location::Postgres { url, rollout: None } => Location::Postgres {
                url,
                rollout: Some(name.to_string()),
            },
            l => l,
        }
    }

    /// The file, for a file.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Postgres { .. } => None,
        }
    }

    pub fn rollout(&self) -> Option<&str> {
        match self {
            Location::File(_) => None,
            Location::Postgres { rollout, .. } => rollout.as_deref(),
        }
    }

    /// How the location is shown: the password masked, a URL without its parameters, the
    /// rollout named.
    pub fn shown(&self) -> String {
        match self {
            Location::File(p) => redact(&p.display().to_string()),
            Location::Postgres { url, rollout } => {
                let base = redact(url.split('?').next().unwrap_or_default());
                match rollout {
                    Some(r) => format!("{base} rollout {}", crate::text::clean(r)),
                    None => base,
                }
            }
        }
    }

    /// Every record of the log, and the head kept beside it (a file's head file).
    pub async fn read(&self) -> Result<(Vec<Record>, Option<(i64, String)>), String> {
        match self {
            Location::File(p) => {
                let p = p.clone();
                tokio::task::spawn_blocking(move || {
                    let records = read_all(&p)?;
                    Ok((records, read_head(&p)))
                })
                .await
                .map_err(|e| format!("reading the log stopped: {e}"))?
            }
            Location::Postgres { url, rollout } => {
                let mut log = pg::PgLog::open(url, rollout.as_deref()).await?;
                let records = log.read_all().await;
                log.close().await;
                Ok((records?, None))
            }
        }
    }

    /// The log's state as a console would resume it, read-only: the newest stored snapshot
    /// that matches the chain and the runbook, and the records after it, checked to chain on
    /// it (and to reach a file's head file). Else the first bad record from there and what
    /// is wrong. Walking the whole chain is [`Location::verify`]'s.
    pub async fn resume(&self, basis: Basis<'_>) -> Result<Result<Resumed, (i64, String)>, String> {
        match self {
            Location::File(p) => {
                let (p, rb, sha) = (
                    p.clone(),
                    basis.rb.clone(),
                    basis.runbook_sha256.to_string(),
                );
                tokio::task::spawn_blocking(move || {
                    let shown = p.display().to_string();
                    block_on_file(async {
                        let mut src = FileSource::open(&p)?;
                        let basis = Basis {
                            rb: &rb,
                            runbook_sha256: &sha,
                        };
                        resume_from(&mut src, basis, read_head(&p), &shown).await
                    })
                })
                .await
                .map_err(|e| format!("reading the log stopped: {e}"))?
            }
            Location::Postgres { url, rollout } => {
                let mut log = pg::PgLog::open(url, rollout.as_deref()).await?;
                let r = log.resume_checked(basis).await;
                log.close().await;
                r
            }
        }
    }

    /// Verify the log in one streamed pass: against `expect`, else against the head kept
    /// beside it (a file's head file; PostgreSQL keeps none).
    pub async fn verify(&self, expect: Option<&str>) -> Result<Verdict, String> {
        match self {
            Location::File(p) => {
                let (p, expect) = (p.clone(), expect.map(str::to_string));
                tokio::task::spawn_blocking(move || verify_file(&p, expect.as_deref()))
                    .await
                    .map_err(|e| format!("verifying stopped: {e}"))?
            }
            Location::Postgres { url, rollout } => {
                let mut log = pg::PgLog::open(url, rollout.as_deref()).await?;
                let v = log.verify(expect).await;
                log.close().await;
                v
            }
        }
    }

    /// Write records as they are into a new log here (a new file, or a rollout that holds
    /// none).
    pub async fn import(&self, records: &[Record]) -> Result<(), String> {
        match self {
            Location::File(p) => {
                let (p, records) = (p.clone(), records.to_vec());
                tokio::task::spawn_blocking(move || import(&p, &records))
                    .await
                    .map_err(|e| format!("copying stopped: {e}"))?
            }
            Location::Postgres { url, rollout } => {
                let rollout = rollout.as_deref().ok_or_else(|| {
                    format!(
                        "{}: name the rollout to copy into (--rollout NAME)",
                        redact(url)
                    )
                })?;
                pg::import(url, rollout, records).await
            }
        }
    }
}

/// `warroom audit copy`: the log at `from` written as it is to `to`, then both ends verified.
/// A source that does not verify is not copied. Returns both verdicts' summary.
pub async fn copy(from: &Location, to: &Location) -> Result<(i64, String), String> {
    let (records, head) = from.read().await?;
    if records.is_empty() {
        return Err(format!(
            "{}: the log is empty: nothing to copy",
            from.shown()
        ));
    }
    let (n, hash) = match verify(&records, None, head) {
        Verdict::Ok { records, head } => (records, head),
        Verdict::Bad { seq, problem } => {
            return Err(format!(
                "{}: does not verify at seq {seq}: {problem}; not copied",
                from.shown()
            ));
        }
    };
    to.import(&records).await?;
    match to.verify(Some(&hash)).await? {
        Verdict::Ok { records, head } if records == n && head == hash => Ok((n, hash)),
        Verdict::Ok { records, head } => Err(format!(
            "{}: the copy verifies but ends elsewhere ({records} records, head {head}; the source has {n}, head {hash})",
            to.shown()
        )),
        Verdict::Bad { seq, problem } => Err(format!(
            "{}: the copy does not verify at seq {seq}: {problem}",
            to.shown()
        )),
    }
}
