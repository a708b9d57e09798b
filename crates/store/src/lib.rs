//! The audit log: an append-only, hash-chained SQLite file. Every event is written here before
//! it is applied; the state is the fold of these records.
//!
//! `chain` (records and their hashes), `head` (the head kept elsewhere), `writer` (the one
//! appender), `verify`, `read` (the bulk reader), `resume` (locks and refusals), `export`.

mod chain;
pub mod export;
mod head;
mod read;
mod resume;
mod verify;
mod writer;

pub use chain::*;
pub use head::*;
pub use read::*;
pub use resume::*;
pub use verify::*;
pub use writer::*;

// The core's modules, by the names the code has always used.
use warroom_core::{engine, runbook, text};
