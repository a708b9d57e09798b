//! The composition root: which store and adapters a command wires, and the session that owns
//! them (`session`), and `warroom status` (`status`).

pub mod session;
pub mod status;

// The layers below, by the names the code has always used.
use warroom_adapters::{adapters, clock, real, sim};
use warroom_core::{engine, runbook, text};
use warroom_store as audit;
