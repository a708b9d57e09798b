//! warroom: a full-screen terminal console that drives a production rollout from a runbook,
//! with gated actions and a tamper-evident audit log.
//!
//! The code lives in the workspace's crates, one per layer (see ARCHITECTURE.md); this crate
//! is the binary and a facade that names each module where it has always been.

pub use warroom_adapters::{adapters, clock, real, sim};
pub use warroom_app::{replay, session, status, team, watch};
pub use warroom_core::{engine, runbook, text};
pub use warroom_store as audit;
pub use warroom_ui as ui;
