//! The audit log: an append-only, hash-chained log, in an SQLite file or in PostgreSQL (team
//! mode: one database, many rollouts). Every event is written here before it is applied; the
//! state is the fold of these records.
//!
//! `chain` (records and their hashes), `head` (the head kept elsewhere), `writer` (the SQLite
//! appender), `verify`, `read` (the bulk reader), `resume` (locks and refusals), `replay` (a log read a page at a time for replay), `snapshot`
//! (state snapshots beside the chain, and the bounded resume), `export`,
//! `pg` (the PostgreSQL store, reader and follower), `location` (`--store`: which of them).

mod chain;
pub mod export;
mod head;
mod location;
pub mod pg;
mod read;
mod replay;
mod resume;
mod snapshot;
mod verify;
mod writer;

pub use chain::*;
pub use head::*;
pub use location::*;
pub use pg::PgStore;
pub use read::*;
pub use replay::{LINES, Opened, ReplayLog, Target, View};
pub use resume::*;
pub use snapshot::*;
pub use verify::*;
pub use writer::*;

/// An append-only, hash-chained audit store: what a session writes through. The SQLite file
/// ([`Store`]) is one; a rollout in PostgreSQL ([`PgStore`], team mode) is another, of the same
/// contract: records numbered without gaps, each hash chaining the previous one, committed
/// before they are applied.
pub trait AuditStore: Send + 'static {
    /// The newest record's sequence number and hash (`0` and the genesis hash when empty).
    fn head(&self) -> (i64, &str);

    /// Append batches, in order, in one transaction; each batch's records as stored.
    fn append_batches<B: AsRef<[(engine::Time, engine::Event)]> + Sync>(
        &mut self,
        batches: &[B],
    ) -> impl std::future::Future<Output = Result<Vec<Vec<Record>>, String>> + Send;

    /// Keep a state snapshot beside the chain (never in it: `snapshot.rs`).
    fn write_snapshot(
        &mut self,
        s: &Snapshot,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;

    /// Let go of the store (its connections and locks).
    fn close(self) -> impl std::future::Future<Output = ()> + Send;

    /// Records other operators appended (team mode: an observer's remark, alert acknowledged
    /// or approval), as they arrive, in order; a store only this console writes never has any.
    fn arrived(&mut self) -> impl std::future::Future<Output = Vec<Record>> + Send {
        std::future::pending()
    }
}

impl AuditStore for Store {
    fn head(&self) -> (i64, &str) {
        Store::head(self)
    }

    fn append_batches<B: AsRef<[(engine::Time, engine::Event)]> + Sync>(
        &mut self,
        batches: &[B],
    ) -> impl std::future::Future<Output = Result<Vec<Vec<Record>>, String>> + Send {
        Store::append_batches(self, batches)
    }

    fn write_snapshot(
        &mut self,
        s: &Snapshot,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send {
        Store::write_snapshot(self, s)
    }

    fn close(self) -> impl std::future::Future<Output = ()> + Send {
        Store::close(self)
    }
}

// The core's modules, by the names the code has always used.
use warroom_core::{engine, runbook, text};
