//! Replay: the same screen rebuilt from an audit log with the same `apply`. Seeking restores
//! the nearest snapshot and applies forward; playback runs the recorded clock × speed with
//! long idle gaps capped.

use super::app::{Intent, Ui};
use super::keymap::{Cmd, Mode};
use super::render::{Chrome, render};
use super::theme::Theme;
use crate::audit::Record;
use crate::engine::{self, Event, State, Time};
use crate::runbook::Runbook;
use futures_util::StreamExt;
use ratatui::crossterm::event::{
    Event as TermEvent, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use std::time::{Duration, Instant};

/// A snapshot every this many events bounds the cost of a seek.
pub const SNAPSHOT_EVERY: usize = 1000;
/// Playback never waits longer than this (real time) for the next event.
const MAX_GAP: Duration = Duration::from_secs(2);
pub const SPEEDS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 1000.0];

pub struct Replay {
    pub rb: Runbook,
    events: Vec<(Time, Event)>,
    /// Log lines: (event index, text), in order.
    lines: Vec<(usize, String)>,
    snapshots: Vec<State>,
    /// How many events are applied.
    pub cursor: usize,
    pub st: State,
    pub playing: bool,
    pub speed: f64,
    /// The recorded time playback has reached.
    clock: Option<Time>,
}

fn is_operator_action(ev: &Event) -> bool {
    matches!(
        ev,
        Event::ActionRequested { .. }
            | Event::ActionBlocked { .. }
            | Event::ChecklistTicked { .. }
            | Event::ChecklistUnticked { .. }
            | Event::Decision { .. }
            | Event::AbortCancelled { .. }
            | Event::RollbackAcknowledged { .. }
    )
}

impl Replay {
    /// Parse the records and build snapshots. The log must already be verified or trusted.
    pub fn new(rb: Runbook, records: &[Record], speed: f64) -> Result<Replay, String> {
        let mut events = Vec::with_capacity(records.len());
        for r in records {
            events.push((r.time()?, r.event()?));
        }
        Ok(Replay::from_events(rb, events, speed))
    }

    pub fn from_events(rb: Runbook, events: Vec<(Time, Event)>, speed: f64) -> Replay {
        let mut st = State::new(&rb);
        let mut snapshots = vec![st.clone()];
        let mut lines = Vec::new();
        for (i, (at, ev)) in events.iter().enumerate() {
            engine::apply(&mut st, &rb, *at, ev);
            if let Some(l) = engine::log_line(&rb, *at, ev) {
                lines.push((i, l));
            }
            if (i + 1) % SNAPSHOT_EVERY == 0 {
                snapshots.push(st.clone());
            }
        }
        let first = State::new(&rb);
        Replay {
            rb,
            events,
            lines,
            snapshots,
            cursor: 0,
            st: first,
            playing: false,
            speed: speed.clamp(1.0, 1000.0),
            clock: None,
        }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The state after the first `n` events: nearest snapshot, then apply forward.
    pub fn seek(&mut self, n: usize) {
        let n = n.min(self.events.len());
        if n < self.cursor || n - self.cursor > SNAPSHOT_EVERY {
            let k = n / SNAPSHOT_EVERY;
            self.st = self.snapshots[k.min(self.snapshots.len() - 1)].clone();
            self.cursor = k * SNAPSHOT_EVERY;
        }
        while self.cursor < n {
            let (at, ev) = &self.events[self.cursor];
            engine::apply(&mut self.st, &self.rb, *at, ev);
            self.cursor += 1;
        }
        self.clock = self.st.now;
    }

    /// The next (or previous) event that is not an observation.
    fn step_to(&self, forward: bool, pred: impl Fn(&Event) -> bool) -> usize {
        if forward {
            (self.cursor..self.events.len())
                .find(|&i| pred(&self.events[i].1))
                .map(|i| i + 1)
                .unwrap_or(self.events.len())
        } else {
            (0..self.cursor.saturating_sub(1))
                .rev()
                .find(|&i| pred(&self.events[i].1))
                .map(|i| i + 1)
                .unwrap_or(0)
        }
    }

    pub fn command(&mut self, cmd: Cmd) {
        let not_observed = |e: &Event| !matches!(e, Event::Observed(_));
        match cmd {
            Cmd::PlayPause => {
                self.playing = !self.playing;
                if self.cursor >= self.events.len() && self.playing {
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
            Cmd::NextEvent => self.seek(self.step_to(true, not_observed)),
            Cmd::PrevEvent => self.seek(self.step_to(false, not_observed)),
            Cmd::NextAction => self.seek(self.step_to(true, is_operator_action)),
            Cmd::PrevAction => self.seek(self.step_to(false, is_operator_action)),
            Cmd::Start => self.seek(0),
            Cmd::End => self.seek(self.events.len()),
            _ => {}
        }
    }

    /// Jump to the first event at or after a time of day (`HH:MM` or `HH:MM:SS`) on the
    /// log's first day.
    pub fn jump(&mut self, text: &str) -> Result<(), String> {
        let t = chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M:%S")
            .or_else(|_| chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M"))
            .map_err(|_| format!("`{text}` is not a time; write HH:MM or HH:MM:SS"))?;
        let Some((first, _)) = self.events.first() else {
            return Err("the log is empty".into());
        };
        let mut target = first.date_naive().and_time(t).and_utc();
        if target < *first {
            target += chrono::Duration::days(1);
        }
        let i = self.events.partition_point(|(at, _)| *at < target);
        self.seek(i);
        Ok(())
    }

    /// Advance playback by `dt` of real time.
    /// Move the replay clock on by `dt` of real time; whether it was playing (the screen
    /// changed).
    pub fn play(&mut self, dt: Duration) -> bool {
        if !self.playing {
            return false;
        }
        let Some((next_at, _)) = self.events.get(self.cursor) else {
            self.playing = false;
            return true;
        };
        let clock = self.clock.unwrap_or(*next_at);
        let mut to = clock + chrono::Duration::from_std(dt.mul_f64(self.speed)).unwrap_or_default();
        // Cap idle gaps: never wait longer than MAX_GAP for the next event.
        let gap = (*next_at - clock).to_std().unwrap_or_default();
        if gap > MAX_GAP.mul_f64(self.speed) {
            to = *next_at;
        }
        let n = self.events.partition_point(|(at, _)| *at <= to);
        self.seek(n.max(self.cursor));
        self.clock = Some(to);
        true
    }

    /// The log lines up to the cursor.
    pub fn lines(&self) -> Vec<String> {
        let end = self.lines.partition_point(|(i, _)| *i < self.cursor);
        // As many as the live log keeps: the log pane scrolls back through them.
        self.lines[end.saturating_sub(2000)..end]
            .iter()
            .map(|(_, l)| l.clone())
            .collect()
    }

    pub fn clock_label(&self) -> String {
        format!(
            "REPLAY {}/{} ×{} {}",
            self.cursor,
            self.events.len(),
            self.speed,
            if self.playing { "▶" } else { "⏸" }
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
            Intent::OpenLog(back) => ui.open_log_record(&rp.lines(), back),
            Intent::Write(_) | Intent::HandOver | Intent::AskLead => {}
        }
    }
    ui.clamp_log(&rp.lines());
    quit
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
        ui.on_click(ev.column, ev.row, &areas, &rp.st, &rp.rb, &lines);
        ui.clamp_log(&lines);
    }
}

pub async fn run_replay(
    mut rp: Replay,
    theme: Theme,
    audit_label: String,
    head: String,
) -> color_eyre::Result<()> {
    let mut ui = Ui::new(Mode::Replay);
    let (mut terminal, mut input) = super::live::open_terminal()?;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last = Instant::now();
    // Drawn after a key, and on the tick while playing; a paused replay costs nothing.
    let mut dirty = true;
    let mut captured = false;
    let result: color_eyre::Result<()> = loop {
        if std::mem::take(&mut dirty) {
            let lines = rp.lines();
            let chrome = Chrome {
                audit: &audit_label,
                head: &head,
                clock: rp.clock_label(),
                log: Some(&lines),
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
            _ = tick.tick() => {
                let now = Instant::now();
                dirty |= rp.play(now - last);
                last = now;
            }
        }
    };
    let _ = super::live::follow_mouse(&mut captured, false);
    ratatui::restore();
    result
}
