//! The console: UI state and keys (app), drawing (render), themes, and the live, replay and
//! watch loops. It draws state and maps keys to intents; it never starts an adapter or opens
//! a store.

pub mod app;
pub mod keymap;
pub mod live;
pub mod rehearse;
pub mod render;
pub mod replay;
pub mod theme;
pub mod watch;

// The layers below, by the names the code has always used.
use warroom_app::session;
use warroom_app::watch as observer;
use warroom_core::{engine, runbook, text};
use warroom_store as audit;
