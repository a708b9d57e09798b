//! A full frame of the console at 240x67 (the room's screen), 120x40 and 80x24 (the compact
//! layout), mid-rollout with a critical alert: the panes, a blocked gate dialog open, and
//! presentation mode (`p`, block letters). Target: ≤ 1 ms per frame.

#[path = "../tests/common/harness.rs"]
mod harness;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::hint::black_box;
use warroom::sim::Scenario;
use warroom::ui::app::Ui;
use warroom::ui::keymap::Mode;
use warroom::ui::render::{Chrome, render};
use warroom::ui::theme::Theme;

fn bench(c: &mut Criterion) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/unified-attributes.yaml");
    let rb = warroom::runbook::load(&path).expect("seed runbook").runbook;
    let mut r = harness::Rehearsal::new(rb, Scenario::BadCanary);
    r.run_to_phase("green-deployment");
    r.canary_to(10);
    let th = Theme::load("default").expect("theme");
    let log: Vec<String> = (0..200)
        .map(|i| format!("10:{:02}:00 line {i} of the log", i % 60))
        .collect();
    for (w, h, dialog, present) in [
        (240u16, 67u16, false, false),
        (240, 67, true, false),
        (240, 67, false, true),
        (120, 40, false, false),
        (80, 24, false, false),
    ] {
        let mut ui = Ui::new(Mode::Live);
        ui.present = present;
        if dialog {
            ui.on_key(
                KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE),
                &r.st,
                &r.rb,
                "alice",
            );
        }
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        let name = format!(
            "frame_{w}x{h}{}{}",
            if dialog { "_dialog" } else { "" },
            if present { "_presentation" } else { "" }
        );
        c.bench_function(&name, |b| {
            b.iter(|| {
                let chrome = Chrome {
                    audit: "/var/lib/warroom/x.audit",
                    head: "3f9a0c1e77b2",
                    clock: "SIM ×30".into(),
                    log: Some(&log),
                    now: None,
                };
                term.draw(|f| render(f, black_box(&r.rb), black_box(&r.st), &ui, &th, &chrome))
                    .expect("draw");
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
