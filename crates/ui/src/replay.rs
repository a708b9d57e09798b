//! Replay: the same screen rebuilt from an audit log with the same `apply`. The log is read a
//! page at a time (`audit::ReplayLog`): a seek starts from the nearest known state and folds
//! forward, so a log of any length opens at once and never sits in memory whole. On the
//! console the reader is a task (`app::replay`): a key asks it for a place in the log and the
//! screen draws what comes back, saying `seeking…` meanwhile; a log already in memory (the
//! tests') is read on the spot. Playback runs the recorded clock × speed with long idle gaps
//! capped.

use super::app::{Intent, Ui};
use super::keymap::{Cmd, Mode};
use super::render::{Chrome, render};
use super::theme::Theme;
use crate::audit::{self, Record, ReplayLog, Target, View};
use crate::engine::{State, Time};
use crate::runbook::Runbook;
use futures_util::StreamExt;
use ratatui::crossterm::event::{
    Event as TermEvent, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use warroom_app::replay::Reply;

/// Playback never waits longer than this (real time) for the next event.
const MAX_GAP: Duration = Duration::from_secs(2);
pub const SPEEDS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 1000.0];

/// Where the views come from.
enum Reader {
    /// Read on the spot (a log in memory).
    Here(Box<ReplayLog>),
    /// Asked of the reader task; how many answers are due.
    Task {
        ask: mpsc::Sender<Target>,
        due: usize,
    },
}

pub struct Replay {
    pub rb: Runbook,
    /// How many records are applied.
    pub cursor: usize,
    pub st: State,
    len: usize,
    /// Log lines up to the cursor.
    lines: Vec<String>,
    /// The recorded times of the records after the cursor (a page of them).
    upcoming: Vec<Time>,
    /// The first record's time: a jump's day.
    first_at: Option<Time>,
    pub playing: bool,
    pub speed: f64,
    /// The recorded time playback has reached.
    clock: Option<Time>,
    /// The next view sets the clock to its own time (a seek, not playback).
    reset_clock: bool,
    reader: Reader,
    /// What the screen should say once: a read that failed, a snapshot ignored.
    note: Option<String>,
}

impl Replay {
    /// A replay of records in memory, read on the spot. The log must already be verified or
    /// trusted.
    pub fn new(rb: Runbook, records: &[Record], speed: f64) -> Result<Replay, String> {
        let first_at = records.first().map(|r| r.time()).transpose()?;
        let log = ReplayLog::memory(rb.clone(), records.to_vec())?;
        let mut rp = Replay::with(rb, Reader::Here(Box::new(log)), first_at, speed);
        rp.ask(Target::Seq(0));
        match rp.note.take() {
            Some(e) => Err(e),
            None => Ok(rp),
        }
    }

    /// A replay whose views a reader task sends (`app::replay::spawn`) for a log of `len`
    /// records whose first was written at `first_at`; the first view is asked for here.
    pub fn following(
        rb: Runbook,
        ask: mpsc::Sender<Target>,
        first_at: Option<Time>,
        len: i64,
        speed: f64,
    ) -> Replay {
        let mut rp = Replay::with(rb, Reader::Task { ask, due: 0 }, first_at, speed);
        rp.len = usize::try_from(len).unwrap_or(0);
        rp.ask(Target::Seq(0));
        rp
    }

    fn with(rb: Runbook, reader: Reader, first_at: Option<Time>, speed: f64) -> Replay {
        Replay {
            st: State::new(&rb),
            rb,
            cursor: 0,
            len: 0,
            lines: Vec::new(),
            upcoming: Vec::new(),
            first_at,
            playing: false,
            speed: speed.clamp(1.0, 1000.0),
            clock: None,
            reset_clock: true,
            reader,
            note: None,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a view is on its way.
    pub fn seeking(&self) -> bool {
        matches!(self.reader, Reader::Task { due, .. } if due > 0)
    }

    /// Go to a place in the log: at once for a log in memory, else when the reader answers.
    fn ask(&mut self, t: Target) {
        match &mut self.reader {
            Reader::Here(log) => {
                let v = log.view_now(t);
                self.show(v);
            }
            Reader::Task { ask, due } => match ask.try_send(t) {
                Ok(()) => *due += 1,
                Err(_) => self.note = Some("the replay's reader is busy: try again".into()),
            },
        }
    }

    /// A view arrived (or why none could be read): it is what the screen shows.
    pub fn show(&mut self, v: Result<View, String>) {
        if let Reader::Task { due, .. } = &mut self.reader {
            *due = due.saturating_sub(1);
        }
        match v {
            Ok(v) => {
                self.cursor = usize::try_from(v.cursor).unwrap_or(0);
                self.len = usize::try_from(v.len).unwrap_or(0);
                self.st = v.state;
                self.lines = v.lines;
                self.upcoming = v.upcoming;
                if let Some(n) = v.notes.into_iter().last() {
                    self.note = Some(n);
                }
                if std::mem::take(&mut self.reset_clock) || !self.playing {
                    self.clock = self.st.now;
                }
            }
            Err(e) => {
                self.playing = false;
                self.note = Some(format!("cannot replay that far: {e}"));
            }
        }
    }

    /// What the screen should say once, if anything.
    pub fn take_note(&mut self) -> Option<String> {
        self.note.take()
    }

    /// The state after the first `n` records.
    pub fn seek(&mut self, n: usize) {
        self.reset_clock = true;
        self.ask(Target::Seq(i64::try_from(n).unwrap_or(i64::MAX)));
    }

    fn go(&mut self, t: Target) {
        self.reset_clock = true;
        self.ask(t);
    }

    pub fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::PlayPause => {
                self.playing = !self.playing;
                if self.cursor >= self.len && self.playing {
                    self.seek(0);
                }
            }
            Cmd::Faster => {
                self.speed = SPEEDS
                    .iter()
                    .copied()
                    .find(|s| *s > self.speed)
                    .unwrap_or(1000.0)
            }
            Cmd::Slower => {
                self.speed = SPEEDS
                    .iter()
                    .rev()
                    .copied()
                    .find(|s| *s < self.speed)
                    .unwrap_or(1.0)
            }
            Cmd::NextEvent => self.go(Target::Event { forward: true }),
            Cmd::PrevEvent => self.go(Target::Event { forward: false }),
            Cmd::NextAction => self.go(Target::Action { forward: true }),
            Cmd::PrevAction => self.go(Target::Action { forward: false }),
            Cmd::Start => self.go(Target::Seq(0)),
            Cmd::End => self.go(Target::End),
            _ => {}
        }
    }

    /// Jump to the first event at or after a time of day (`HH:MM` or `HH:MM:SS`) on the
    /// log's first day.
    pub fn jump(&mut self, text: &str) -> Result<(), String> {
        let t = chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M:%S")
            .or_else(|_| chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M"))
            .map_err(|_| format!("`{text}` is not a time; write HH:MM or HH:MM:SS"))?;
        let Some(first) = self.first_at else {
            return Err("the log is empty".into());
        };
        let mut target = first.date_naive().and_time(t).and_utc();
        if target < first {
            target += chrono::Duration::days(1);
        }
        self.go(Target::Time(target));
        Ok(())
    }

    /// Move the replay clock on by `dt` of real time; whether it was playing (the screen
    /// changed). While a view is on its way the clock waits for it.
    pub fn play(&mut self, dt: Duration) -> bool {
        if !self.playing || self.seeking() {
            return false;
        }
        let Some(next_at) = self.upcoming.first().copied() else {
            if self.cursor >= self.len {
                self.playing = false;
                return true;
            }
            // More of the log than this view knew of: ask where it stands.
            self.ask(Target::Seq(i64::try_from(self.cursor).unwrap_or(i64::MAX)));
            return false;
        };
        let clock = self.clock.unwrap_or(next_at);
        let mut to = clock + chrono::Duration::from_std(dt.mul_f64(self.speed)).unwrap_or_default();
        // Cap idle gaps: never wait longer than MAX_GAP for the next event.
        let gap = (next_at - clock).to_std().unwrap_or_default();
        if gap > MAX_GAP.mul_f64(self.speed) {
            to = next_at;
        }
        let n = self.upcoming.partition_point(|at| *at <= to);
        if n > 0 {
            self.ask(Target::Seq(
                i64::try_from(self.cursor + n).unwrap_or(i64::MAX),
            ));
        }
        self.clock = Some(to);
        true
    }

    /// The log lines up to the cursor.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn clock_label(&self) -> String {
        format!(
            "REPLAY {}/{} ×{} {}{}",
            self.cursor,
            self.len,
            self.speed,
            if self.playing { "▶" } else { "⏸" },
            if self.seeking() { " seeking…" } else { "" }
        )
    }
}

/// One key on a replay, as the console handles it (and the tests): navigation carried out, a
/// log line's record opened. True when the key quits.
pub fn handle_key(ui: &mut Ui, rp: &mut Replay, key: KeyEvent) -> bool {
    let st = rp.st.clone();
    let mut quit = false;
    for intent in ui.on_key(key, &st, &rp.rb, "") {
        match intent {
            Intent::Quit => quit = true,
            Intent::Replay(c) => rp.command(c),
            Intent::JumpTo(t) => {
                if let Err(e) = rp.jump(&t) {
                    ui.message = Some(e);
                }
            }
            Intent::OpenLog(back) => ui.open_log_record(rp.lines(), back),
            Intent::Write(_) | Intent::HandOver | Intent::AskLead => {}
        }
    }
    follow_view(ui, rp);
    quit
}

/// After a view arrived or a key moved the replay: the log pane's place kept in range, and
/// what the replay has to say on the message line.
pub fn follow_view(ui: &mut Ui, rp: &mut Replay) {
    ui.clamp_log(rp.lines());
    if let Some(n) = rp.take_note() {
        ui.message = Some(n);
    }
}

/// One mouse event on a replay: a left click focuses the pane under it and selects the row
/// (mouse capture on, `m`).
pub fn handle_mouse(
    ui: &mut Ui,
    rp: &Replay,
    ev: MouseEvent,
    area: ratatui::layout::Rect,
    th: &Theme,
) {
    if ev.kind == MouseEventKind::Down(MouseButton::Left) {
        let lines = rp.lines();
        let areas = super::render::pane_areas(area, &rp.rb, &rp.st, th);
        ui.on_click(ev.column, ev.row, &areas, &rp.st, &rp.rb, lines);
        ui.clamp_log(lines);
    }
}

/// The replay console: draws the replay, hands it keys, and shows the views the reader task
/// (`replies`, when the replay follows one) sends. Returns the chain's verdict when one came,
/// for the words after the screen closes.
pub async fn run_replay(
    mut rp: Replay,
    theme: Theme,
    audit_label: String,
    head: String,
    mut replies: Option<mpsc::Receiver<Reply>>,
) -> color_eyre::Result<Option<String>> {
    let mut ui = Ui::new(Mode::Replay);
    let (mut terminal, mut input) = super::live::open_terminal()?;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last = Instant::now();
    // Drawn after a key or a view, and on the tick while playing; a paused replay costs
    // nothing.
    let mut dirty = true;
    let mut captured = false;
    let mut unverified = None;
    let result: color_eyre::Result<()> = loop {
        if std::mem::take(&mut dirty) {
            let chrome = Chrome {
                audit: &audit_label,
                head: &head,
                clock: rp.clock_label(),
                log: Some(rp.lines()),
                now: None,
            };
            if let Ok(size) = terminal.size() {
                super::render::follow_layout(&mut ui, size, &rp.rb, &rp.st, &theme);
            }
            if let Err(e) = terminal.draw(|f| render(f, &rp.rb, &rp.st, &ui, &theme, &chrome)) {
                break Err(e.into());
            }
        }
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => {
                    dirty = true;
                    if handle_key(&mut ui, &mut rp, k) {
                        break Ok(());
                    }
                    if let Err(e) = super::live::follow_mouse(&mut captured, ui.mouse) {
                        break Err(e.into());
                    }
                }
                Some(Ok(TermEvent::Mouse(m))) => {
                    dirty = true;
                    match terminal.size() {
                        Ok(s) => handle_mouse(&mut ui, &rp, m, s.into(), &theme),
                        Err(e) => break Err(e.into()),
                    }
                }
                Some(Ok(_)) => dirty = true,
                Some(Err(e)) => break Err(e.into()),
                None => break Ok(()),
            },
            Some(reply) = async {
                match replies.as_mut() {
                    Some(r) => r.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                dirty = true;
                match reply {
                    Reply::View(v) => rp.show(*v),
                    Reply::Verified(Ok(audit::Verdict::Ok { .. })) => {}
                    Reply::Verified(Ok(audit::Verdict::Bad { seq, problem })) => {
                        let words = format!("the log does not verify at seq {seq}: {problem}");
                        ui.message = Some(format!("warning: {words}"));
                        unverified = Some(words);
                    }
                    Reply::Verified(Err(e)) => {
                        let words = format!("the log could not be verified: {e}");
                        ui.message = Some(format!("warning: {words}"));
                        unverified = Some(words);
                    }
                }
                follow_view(&mut ui, &mut rp);
            }
            _ = tick.tick() => {
                let now = Instant::now();
                dirty |= rp.play(now - last);
                last = now;
            }
        }
    };
    let _ = super::live::follow_mouse(&mut captured, false);
    ratatui::restore();
    result.map(|()| unverified)
}
