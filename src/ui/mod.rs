//! The console: UI state and keys (app), drawing (render), themes, and the live loop.

pub mod app;
pub mod keymap;
pub mod live;
pub mod render;
pub mod replay;
pub mod theme;
