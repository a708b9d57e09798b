//! The adapters: tasks that carry out jobs and report readings over channels — the embedded
//! simulator and the real systems. They depend on the core, never on the store or the UI.

pub mod adapters;
pub mod clock;
pub mod real;
pub mod sim;

// The core's modules, by the names the code has always used.
use warroom_core::{engine, runbook, text};
