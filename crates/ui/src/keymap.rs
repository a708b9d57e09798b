//! The keymap: one table that dispatches keys, fills the key-hint bar and builds the help
//! overlay, so the three can never disagree.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Tick,
    Advance,
    Flip,
    Rollback,
    GoNoGo,
    SwitchPool,
    Retry,
    CancelAbort,
    Acknowledge,
    HandOver,
    AskLead,
    FocusNext,
    FocusPrev,
    Up,
    Down,
    Help,
    Quit,
    PlayPause,
    Faster,
    Slower,
    PrevEvent,
    NextEvent,
    PrevAction,
    NextAction,
    Start,
    End,
    JumpTime,
}

impl Cmd {
    /// Whether the command acts on the rollout (writes to its log): the lead's alone. An
    /// observer's console leaves these out of its hints and help, and says why when pressed.
    pub fn acts(self) -> bool {
        matches!(
            self,
            Cmd::Tick
                | Cmd::Advance
                | Cmd::Flip
                | Cmd::Rollback
                | Cmd::GoNoGo
                | Cmd::SwitchPool
                | Cmd::Retry
                | Cmd::CancelAbort
                | Cmd::Acknowledge
                | Cmd::HandOver
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Replay,
}

pub struct Binding {
    pub keys: &'static [KeyCode],
    /// How the key is written in hints and help.
    pub label: &'static str,
    pub cmd: Cmd,
    pub help: &'static str,
    pub mode: Mode,
    /// Shown in the one-line hint bar.
    pub hint: bool,
}

impl Binding {
    /// The word shown next to the key in the hint bar.
    pub fn short(&self) -> &'static str {
        match self.cmd {
            Cmd::Tick => "tick",
            Cmd::Advance => "advance",
            Cmd::Flip => "flip flag",
            Cmd::Rollback => "rollback",
            Cmd::GoNoGo => "go/no-go",
            Cmd::SwitchPool => "switch pool",
            Cmd::Retry => "retry/skip",
            Cmd::CancelAbort => "cancel abort",
            Cmd::Acknowledge => "acknowledge",
            Cmd::HandOver => "hand over",
            Cmd::AskLead => "ask to lead",
            Cmd::FocusNext | Cmd::FocusPrev => "focus",
            Cmd::Up | Cmd::Down => "move",
            Cmd::Help => "help",
            Cmd::Quit => "quit",
            Cmd::PlayPause => "play/pause",
            Cmd::Faster | Cmd::Slower => "speed",
            Cmd::PrevEvent | Cmd::NextEvent => "event",
            Cmd::PrevAction | Cmd::NextAction => "action",
            Cmd::Start | Cmd::End => "start/end",
            Cmd::JumpTime => "jump",
        }
    }
}

const fn b(
    keys: &'static [KeyCode],
    label: &'static str,
    cmd: Cmd,
    help: &'static str,
    mode: Mode,
    hint: bool,
) -> Binding {
    Binding {
        keys,
        label,
        cmd,
        help,
        mode,
        hint,
    }
}

use KeyCode::*;
use Mode::*;

pub const BINDINGS: &[Binding] = &[
    b(
        &[Char(' ')],
        "Space",
        Cmd::Tick,
        "tick / untick the selected checklist item",
        Live,
        true,
    ),
    b(
        &[Char('a')],
        "a",
        Cmd::Advance,
        "advance: next rollout step, or complete the phase and start the next",
        Live,
        true,
    ),
    b(
        &[Char('f')],
        "f",
        Cmd::Flip,
        "flip the selected flag",
        Live,
        true,
    ),
    b(
        &[Char('r')],
        "r",
        Cmd::Rollback,
        "rollback: choose instant, database or feature-flag procedure",
        Live,
        true,
    ),
    b(
        &[Char('g')],
        "g",
        Cmd::GoNoGo,
        "go/no-go: sign the decision",
        Live,
        true,
    ),
    b(
        &[Char('s')],
        "s",
        Cmd::SwitchPool,
        "switch all traffic to the other pool",
        Live,
        true,
    ),
    b(
        &[Char('R')],
        "R",
        Cmd::Retry,
        "a failed phase step: retry it, or skip it with a reason",
        Live,
        false,
    ),
    b(
        &[Char('c')],
        "c",
        Cmd::CancelAbort,
        "cancel the auto-abort countdown (with a reason)",
        Live,
        false,
    ),
    b(
        &[Char('x')],
        "x",
        Cmd::Acknowledge,
        "acknowledge a rollback's result (clears it from the banner)",
        Live,
        false,
    ),
    b(
        &[Char('H')],
        "H",
        Cmd::HandOver,
        "team mode: hand the lead to the observer who asked (L)",
        Live,
        false,
    ),
    b(
        &[Char('L')],
        "L",
        Cmd::AskLead,
        "team mode, an observer: ask the lead to hand over",
        Live,
        false,
    ),
    b(
        &[Tab],
        "Tab",
        Cmd::FocusNext,
        "focus the next / previous pane",
        Live,
        true,
    ),
    b(&[BackTab], "Shift-Tab", Cmd::FocusPrev, "", Live, false),
    b(
        &[Up, Char('k')],
        "↑/k",
        Cmd::Up,
        "move up in the focused pane",
        Live,
        false,
    ),
    b(
        &[Down, Char('j')],
        "↓/j",
        Cmd::Down,
        "move down in the focused pane",
        Live,
        false,
    ),
    b(
        &[Char(' ')],
        "Space",
        Cmd::PlayPause,
        "play / pause",
        Replay,
        true,
    ),
    b(
        &[Char('+'), Char('=')],
        "+/-",
        Cmd::Faster,
        "faster / slower (1x to 1000x)",
        Replay,
        true,
    ),
    b(&[Char('-')], "-", Cmd::Slower, "", Replay, false),
    b(
        &[Left],
        "←/→",
        Cmd::PrevEvent,
        "previous / next event",
        Replay,
        true,
    ),
    b(&[Right], "→", Cmd::NextEvent, "", Replay, false),
    b(
        &[Char('[')],
        "[/]",
        Cmd::PrevAction,
        "previous / next operator action",
        Replay,
        true,
    ),
    b(&[Char(']')], "]", Cmd::NextAction, "", Replay, false),
    b(
        &[Char('g'), Home],
        "g/G",
        Cmd::Start,
        "start / end of the log",
        Replay,
        true,
    ),
    b(&[Char('G'), End], "G", Cmd::End, "", Replay, false),
    b(
        &[Char('/')],
        "/",
        Cmd::JumpTime,
        "jump to a time (HH:MM or HH:MM:SS)",
        Replay,
        true,
    ),
    b(
        &[Tab],
        "Tab",
        Cmd::FocusNext,
        "focus the next pane",
        Replay,
        false,
    ),
    b(
        &[Up, Char('k')],
        "↑/k",
        Cmd::Up,
        "move up in the focused pane",
        Replay,
        false,
    ),
    b(
        &[Down, Char('j')],
        "↓/j",
        Cmd::Down,
        "move down in the focused pane",
        Replay,
        false,
    ),
    b(
        &[Char('?')],
        "?",
        Cmd::Help,
        "show / hide this help",
        Live,
        true,
    ),
    b(
        &[Char('?')],
        "?",
        Cmd::Help,
        "show / hide this help",
        Replay,
        true,
    ),
    b(
        &[Char('q')],
        "q",
        Cmd::Quit,
        "quit (asks first while an action runs)",
        Live,
        true,
    ),
    b(&[Char('q')], "q", Cmd::Quit, "quit", Replay, true),
];

/// The command a key means in a mode: the first matching binding wins.
pub fn command(key: KeyEvent, mode: Mode) -> Option<Cmd> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == Char('c') {
        return Some(Cmd::Quit);
    }
    BINDINGS
        .iter()
        .filter(|b| b.mode == mode)
        .find(|b| b.keys.contains(&key.code))
        .map(|b| b.cmd)
}

pub fn bindings(mode: Mode) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| b.mode == mode)
}

/// The bindings the help overlay lists: one line per command pair (a binding whose help is
/// empty is the second half of the line before). Read-only (an observer): without the
/// commands that act.
pub fn help_lines(mode: Mode, read_only: bool) -> impl Iterator<Item = &'static Binding> {
    bindings(mode).filter(move |b| !(b.help.is_empty() || read_only && b.cmd.acts()))
}
