//! The engine: pure functions over the runbook and recorded events. No IO, no wall clock.

mod abort;
mod action;
mod alerts;
mod apply;
mod approval;
mod describe;
mod effects;
mod event;
mod gate;
mod hold;
mod next;
mod notify;
mod observation;
mod observe;
mod rules;
mod state;
#[cfg(test)]
mod test_support;

pub use abort::{AUTO_ABORT, abort_transitions, cancel_abort};
pub use action::*;
pub use alerts::*;
pub use apply::apply;
pub use approval::*;
pub use describe::{describe, log_line};
pub use event::*;
pub use gate::*;
pub use hold::*;
pub use next::*;
pub use notify::*;
pub use observation::*;
pub use rules::*;
pub use state::*;
