//! What every pane and dialog draws with.

pub(crate) use super::Chrome;
pub(crate) use super::fmt::*;
pub(crate) use super::{Density, Rows, block, filter_note, pool_style, wrapped_height};
pub(crate) use crate::app::{Dialog, Pane, Stage, Ui, current_checklist};
pub(crate) use crate::engine::{self, Level, MetricLevel, PhaseStatus, State, Verdict, fmt_num};
pub(crate) use crate::keymap::{self, Mode};
pub(crate) use crate::runbook::{Direction, PoolName, Runbook, fmt_duration};
pub(crate) use crate::text::clean;
pub(crate) use crate::theme::{StyleName, Theme};
pub(crate) use ratatui::Frame;
pub(crate) use ratatui::layout::{Constraint, Layout, Rect};
pub(crate) use ratatui::style::{Modifier, Style};
pub(crate) use ratatui::text::{Line, Span};
pub(crate) use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};
pub(crate) use unicode_width::UnicodeWidthStr;
