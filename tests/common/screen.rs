//! What the screen tests share: a rehearsal's log lines, a frame of it, a key pressed on its
//! UI, a buffer's rows, the bad-canary rehearsal at 10 %.

use super::draw;
use super::harness::Rehearsal;
use super::seed;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use warroom::engine::describe;
use warroom::sim::Scenario;
use warroom::ui::app::Ui;

pub fn log_of(r: &Rehearsal) -> Vec<String> {
    r.events
        .iter()
        .filter_map(|(at, e)| describe(&r.rb, e).map(|l| format!("{} {l}", at.format("%H:%M:%S"))))
        .collect()
}

pub fn draw_r(r: &Rehearsal, ui: &Ui, theme: &str, w: u16, h: u16) -> Terminal<TestBackend> {
    draw(&r.rb, &r.st, &log_of(r), ui, theme, w, h)
}

pub fn press(ui: &mut Ui, r: &Rehearsal, c: KeyCode) {
    ui.on_key(KeyEvent::new(c, KeyModifiers::NONE), &r.st, &r.rb, "alice");
}

pub fn rows(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect()
        })
        .collect()
}

pub fn bad_canary() -> Rehearsal {
    let mut r = Rehearsal::new(seed().runbook, Scenario::BadCanary);
    r.run_to_phase("green-deployment");
    r.canary_to(10);
    r
}
