//! What the engine's unit tests share: the built-in runbook and a clock.

use super::Time;
use crate::runbook::Runbook;

/// The built-in runbook.
pub(super) fn seed() -> Runbook {
    let path = std::path::Path::new(crate::runbook::BUILTIN_PATH);
    match crate::runbook::load_or_builtin(path) {
        Ok(l) => l.runbook,
        Err(e) => panic!("{e}"),
    }
}

/// `s` seconds after the epoch.
pub(super) fn t(s: i64) -> Time {
    chrono::DateTime::UNIX_EPOCH + chrono::Duration::seconds(s)
}
