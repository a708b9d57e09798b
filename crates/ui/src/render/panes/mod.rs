//! One file per pane.

pub(crate) mod banner;
pub(crate) mod checklist;
pub(crate) mod flags;
pub(crate) mod header;
pub(crate) mod log;
pub(crate) mod metrics;
pub(crate) mod phases;
pub(crate) mod pools;
pub(crate) mod status;
