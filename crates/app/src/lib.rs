//! The composition root: which store and adapters a command wires, and the session that owns
//! them (`session`), an observer following a rollout in PostgreSQL (`watch`), whether a
//! console leads or observes a rollout (`team`), and `warroom status` (`status`).

pub mod replay;
pub mod session;
pub mod status;
pub mod team;
pub mod watch;

// The layers below, by the names the code has always used.
use warroom_adapters::{adapters, clock, real, sim};
use warroom_core::{engine, runbook, text};
use warroom_store as audit;
