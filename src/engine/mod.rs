//! The engine: pure functions over the runbook and recorded events. No IO, no wall clock.

mod apply;
mod describe;
mod event;
mod gate;
mod state;

pub use apply::{alert_transitions, apply};
pub use describe::{describe, log_line};
pub use event::*;
pub use gate::*;
pub use state::*;
