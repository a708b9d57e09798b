//! warroom: a full-screen terminal console that drives a production rollout from a runbook,
//! with gated actions and a tamper-evident audit log.

pub mod adapters;
pub mod audit;
pub mod clock;
pub mod engine;
pub mod real;
pub mod runbook;
pub mod session;
pub mod sim;
pub mod status;
pub mod text;
pub mod ui;
