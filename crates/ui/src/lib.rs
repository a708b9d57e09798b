//! The console: UI state and keys (app), drawing (render), themes, and the live and replay
//! loops. It draws state and maps keys to intents; it never starts an adapter.

pub mod app;
pub mod keymap;
pub mod live;
pub mod rehearse;
pub mod render;
pub mod replay;
pub mod theme;

// The layers below, by the names the code has always used.
use warroom_app::session;
use warroom_core::{engine, runbook, text};
use warroom_store as audit;
