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
    Comment,
    AckAlert,
    Approve,
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
    Present,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Palette,
    Filter,
    ClearFilter,
    Mouse,
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

    /// Whether the command is team mode's (a rollout in PostgreSQL, other consoles following
    /// it): a console alone leaves these out of its help and palette.
    pub fn team(self) -> bool {
        matches!(self, Cmd::HandOver | Cmd::AskLead | Cmd::Approve)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Replay,
}

#[derive(Clone, Copy)]
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
            Cmd::Comment => "comment",
            Cmd::AckAlert => "acknowledge alerts",
            Cmd::Approve => "approve/reject",
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
            Cmd::Present => "big figures",
            Cmd::PageUp | Cmd::PageDown => "page",
            Cmd::Top | Cmd::Bottom => "oldest/newest",
            Cmd::Open => "open record",
            Cmd::Palette => "palette",
            Cmd::Filter => "filter",
            Cmd::ClearFilter => "clear filter",
            Cmd::Mouse => "mouse",
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
        "rollback: choose one of the runbook's procedures (the one for a firing alert is suggested)",
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
        &[Char('C')],
        "C",
        Cmd::Comment,
        "comment: a line in the log and the audit, with your name (observers too)",
        Live,
        false,
    ),
    b(
        &[Char('X')],
        "X",
        Cmd::AckAlert,
        "acknowledge the firing alerts: say you saw them, with your name (observers too)",
        Live,
        false,
    ),
    b(
        &[Char('A')],
        "A",
        Cmd::Approve,
        "team mode: approve or reject the action awaiting a second operator (typed phrase)",
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
        "move up / down in the focused pane",
        Live,
        false,
    ),
    b(&[Down, Char('j')], "↓/j", Cmd::Down, "", Live, false),
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
        "focus the next / previous pane",
        Replay,
        false,
    ),
    b(&[BackTab], "Shift-Tab", Cmd::FocusPrev, "", Replay, false),
    b(
        &[Up, Char('k')],
        "↑/k",
        Cmd::Up,
        "move up / down in the focused pane",
        Replay,
        false,
    ),
    b(&[Down, Char('j')], "↓/j", Cmd::Down, "", Replay, false),
    b(
        &[Char(':')],
        ":",
        Cmd::Palette,
        "command palette: every action with its key (type to filter, Enter runs it)",
        Live,
        false,
    ),
    b(
        &[Char(':')],
        ":",
        Cmd::Palette,
        "command palette: every action with its key (type to filter, Enter runs it)",
        Replay,
        false,
    ),
    b(
        &[Char('p')],
        "p",
        Cmd::Present,
        "presentation mode: big figures for the wall (p again returns)",
        Live,
        true,
    ),
    b(
        &[Char('p')],
        "p",
        Cmd::Present,
        "presentation mode: big figures for the wall (p again returns)",
        Replay,
        true,
    ),
    b(&[Char('m')], "m", Cmd::Mouse, MOUSE_HELP, Live, false),
    b(&[Char('m')], "m", Cmd::Mouse, MOUSE_HELP, Replay, false),
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
        "quit (asks first while something is in flight: an action, an auto-abort, a critical alert)",
        Live,
        true,
    ),
    b(&[Char('q')], "q", Cmd::Quit, "quit", Replay, true),
];

/// The keys the log takes while it has the focus, before the table above: it scrolls, and
/// Enter opens a line's record. (In replay `g`/`G` stay the start and end of the log.)
pub const LOG_BINDINGS: &[Binding] = &[
    b(
        &[PageUp],
        "PgUp/PgDn",
        Cmd::PageUp,
        "log focused: a page older / newer",
        Live,
        false,
    ),
    b(&[PageDown], "PgDn", Cmd::PageDown, "", Live, false),
    b(
        &[Char('g'), Home],
        "g/G",
        Cmd::Top,
        "log focused: the oldest / newest line (elsewhere g is go/no-go)",
        Live,
        false,
    ),
    b(&[Char('G'), End], "G", Cmd::Bottom, "", Live, false),
    b(
        &[Enter],
        "Enter",
        Cmd::Open,
        "log focused: open the line's record (an action: its checks, evidence, dry run, phrase, reason)",
        Live,
        false,
    ),
    FILTER[0],
    FILTER[1],
    b(
        &[PageUp],
        "PgUp/PgDn",
        Cmd::PageUp,
        "log focused: a page older / newer",
        Replay,
        false,
    ),
    b(&[PageDown], "PgDn", Cmd::PageDown, "", Replay, false),
    b(
        &[Enter],
        "Enter",
        Cmd::Open,
        "log focused: open the line's record",
        Replay,
        false,
    ),
    FILTER[2],
    FILTER[3],
];

/// `m`: mouse capture on and off.
const MOUSE_HELP: &str =
    "mouse on / off: a click focuses a pane and selects a row (off: the terminal selects text)";

/// `/` on a focused list (phases, pools' servers, log lines), live and in replay: the log's
/// table and the rows' table both hold these.
const FILTER_HELP: &str =
    "phases, pools or log focused: / filters the list as you type (Enter keeps it), Esc clears it";
const FILTER: [Binding; 4] = [
    b(&[Char('/')], "/ Esc", Cmd::Filter, FILTER_HELP, Live, false),
    b(&[Esc], "Esc", Cmd::ClearFilter, "", Live, false),
    b(
        &[Char('/')],
        "/ Esc",
        Cmd::Filter,
        FILTER_HELP,
        Replay,
        false,
    ),
    b(&[Esc], "Esc", Cmd::ClearFilter, "", Replay, false),
];

/// What has the focus, as far as keys go: the log (it scrolls), a list whose rows open
/// (phases, pools: Enter shows a row's detail), or another pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Log,
    Rows,
    Other,
}

/// Enter on a focused phase or pool: its detail.
pub const ROW_BINDINGS: &[Binding] = &[
    b(
        &[Enter],
        "Enter",
        Cmd::Open,
        "phases or pools focused: the row's detail (a phase's tasks, checklist, steps; a pool's servers)",
        Live,
        false,
    ),
    b(
        &[Enter],
        "Enter",
        Cmd::Open,
        "phases or pools focused: the row's detail",
        Replay,
        false,
    ),
    FILTER[0],
    FILTER[1],
    FILTER[2],
    FILTER[3],
];

/// The command a key means in a mode, the focused pane's own keys first.
pub fn command_in(key: KeyEvent, mode: Mode, focus: Focus) -> Option<Cmd> {
    let table = match focus {
        Focus::Log => LOG_BINDINGS,
        Focus::Rows => ROW_BINDINGS,
        Focus::Other => &[],
    };
    if !key.modifiers.contains(KeyModifiers::CONTROL)
        && let Some(b) = table
            .iter()
            .find(|b| b.mode == mode && b.keys.contains(&key.code))
    {
        return Some(b.cmd);
    }
    command(key, mode)
}

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

/// The help overlay's lines for a mode: each key (a pair's keys joined, `Tab/Shift-Tab`) and
/// what it does.
pub fn help_keys(mode: Mode, read_only: bool, team: bool) -> Vec<(String, &'static str)> {
    let all: Vec<&Binding> = bindings(mode)
        .filter(|b| !(read_only && b.cmd.acts()) && (team || !b.cmd.team()))
        .chain(LOG_BINDINGS.iter().filter(|b| b.mode == mode))
        .chain(ROW_BINDINGS.iter().filter(|b| b.mode == mode))
        .collect();
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let mut repeat = false;
    for b in all {
        // A key that the log and the rows share (`/ Esc`) is listed once, its pair too.
        if !b.help.is_empty() {
            repeat = out.iter().any(|(l, h)| l == b.label && *h == b.help);
        }
        if repeat {
            continue;
        }
        match out.last_mut() {
            // The second half of a pair: its key joins the line before, unless that line's
            // label already names it (`+/-`, `/ Esc`).
            Some((label, _)) if b.help.is_empty() => {
                if !label.contains(b.label) {
                    label.push('/');
                    label.push_str(b.label);
                }
            }
            _ => out.push((b.label.to_string(), b.help)),
        }
    }
    out
}

/// The keys a dialog takes, for the help overlay (dispatched, by the dialog's stage, in
/// `app/dialog_keys.rs`): letters there only ever type into the dialog's field.
pub const DIALOG_KEYS: &[(&str, &str)] = &[
    (
        "Enter",
        "in a dialog: confirm (on a blocked action: record the attempt)",
    ),
    (
        "Ctrl-o",
        "in a blocked dialog: override (type `override …`, then a reason)",
    ),
    (
        "Tab",
        "in an action's dialog: move the mark to the next optional step",
    ),
    (
        "Ctrl-t",
        "in an action's dialog: run the marked optional step, or not (recorded with the request)",
    ),
    ("Esc", "close a dialog or this help: nothing is done"),
];

/// The live action keys replay leaves unbound (`a f r s R c x`, the commands that act, as an
/// observer's are): pressed in replay they say "read-only replay".
pub fn replay_refuses(key: KeyEvent) -> Option<&'static Binding> {
    if command(key, Mode::Replay).is_some() {
        return None;
    }
    bindings(Mode::Live).find(|b| b.cmd.acts() && b.keys.contains(&key.code))
}

/// What the command palette lists in a mode: each command the keymap has, with its key (a
/// pair's second half and the palette itself left out), those whose key, word or help holds
/// `filter` (any case); team mode's commands only on a console in team mode.
pub fn palette(mode: Mode, filter: &str, team: bool) -> Vec<&'static Binding> {
    let f = filter.to_lowercase();
    bindings(mode)
        .filter(|b| !b.help.is_empty() && b.cmd != Cmd::Palette)
        .filter(|b| team || !b.cmd.team())
        .filter(|b| {
            f.is_empty()
                || b.help.to_lowercase().contains(&f)
                || b.short().contains(&f)
                || b.label.to_lowercase() == f
        })
        .collect()
}
