//! The flag server by kind: the `http` flag API (flags.rs) or Unleash (unleash.rs). Whatever
//! the kind, it is the source `flags`, so the gates' capability routes hold unchanged.

use super::{Source, flags, unleash};
use crate::engine::{Observation, SourceId};
use serde_json::Value;

/// The configured flag server, whatever its kind.
#[derive(Debug, Clone)]
pub enum FlagServer {
    Http(flags::FlagApi),
    Unleash(unleash::Unleash),
}

impl FlagServer {
    /// Write one flag; the outcome is what the server says after (read back), with the
    /// reading to show at once. `Err` when nothing could be sent.
    pub async fn write(
        &self,
        flag: &str,
        value: &Value,
    ) -> Result<(Result<String, String>, Option<Observation>), String> {
        match self {
            FlagServer::Http(api) => {
                let (out, back) = api.write(flag, value).await?;
                Ok((
                    out,
                    back.map(|b| Observation {
                        source: SourceId::Flags.into(),
                        flags: Some(b),
                        ..Default::default()
                    }),
                ))
            }
            FlagServer::Unleash(u) => Ok(u.write(flag, value).await),
        }
    }
}

impl Source for FlagServer {
    fn name(&self) -> SourceId {
        SourceId::Flags
    }

    async fn read(&self) -> Observation {
        match self {
            FlagServer::Http(f) => Source::read(f).await,
            FlagServer::Unleash(u) => u.read().await,
        }
    }

    fn failed(&self, message: String) -> Observation {
        match self {
            FlagServer::Http(f) => f.failed(message),
            FlagServer::Unleash(u) => u.failed(message),
        }
    }
}
