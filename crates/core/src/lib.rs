//! The core of warroom: the runbook (schema, `${VAR}` expansion, validation with locations) and
//! the engine (state, events, gates, the fold). Pure: no IO beyond reading a runbook file, no
//! async runtime, no database, HTTP or terminal crate — its dependencies make that a build
//! error, not a convention.

pub mod engine;
pub mod runbook;
pub mod sim_signals;
pub mod text;
