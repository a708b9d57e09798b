//! The engine: pure functions over the runbook and recorded events. No IO, no wall clock.

mod abort;
mod action;
mod apply;
mod describe;
mod event;
mod gate;
mod observation;
mod rules;
mod state;

pub use abort::{AUTO_ABORT, abort_transitions, cancel_abort};
pub use action::*;
pub use apply::{alert_transitions, apply};
pub use describe::{describe, log_line};
pub use event::*;
pub use gate::*;
pub use observation::*;
pub use rules::*;
pub use state::*;
