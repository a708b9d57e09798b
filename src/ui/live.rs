//! The live console: one loop that selects over keys, adapter reports, audit commits and a
//! tick; it applies only what the audit store has committed and draws once per wake-up.

use super::app::{Intent, Ui};
use super::keymap::Mode;
use super::render::{Chrome, render};
use super::theme::Theme;
use crate::adapters::{Job, Report};
use crate::audit::{Record, Store};
use crate::clock::Clock;
use crate::engine::{self, Event, Outcome, State, Time};
use crate::runbook::Runbook;
use crate::sim::{self, Scenario, World};
use ratatui::crossterm::event::{self as cevent, Event as TermEvent, KeyEventKind};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

pub struct DemoOptions {
    pub runbook: crate::runbook::Loaded,
    pub audit: PathBuf,
    pub operator: String,
    pub theme: Theme,
    pub speed: f64,
    pub scenario: Scenario,
}

/// One line for the log pane and the tracing log.
pub fn describe(rb: &Runbook, ev: &Event) -> Option<String> {
    Some(match ev {
        Event::SessionStarted {
            operator,
            mode,
            scenario,
            ..
        } => format!(
            "session started by {operator} ({mode}{})",
            scenario
                .as_ref()
                .map(|s| format!(", scenario {s}"))
                .unwrap_or_default()
        ),
        Event::SessionEnded { operator } => format!("session ended by {operator}"),
        Event::Observed(o) => {
            if o.errors.is_empty() {
                return None;
            }
            o.errors
                .iter()
                .map(|e| format!("{}: {}", e.source, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        }
        Event::ChecklistTicked {
            checklist,
            item,
            by,
        } => format!("{by} ticked {checklist}/{item}"),
        Event::ChecklistUnticked {
            checklist,
            item,
            by,
        } => format!("{by} unticked {checklist}/{item}"),
        Event::ActionRequested {
            id,
            action,
            by,
            checks,
            ..
        } => {
            let failing = checks.iter().filter(|c| !c.pass).count();
            format!(
                "#{id} {} requested by {by} ({} checks, {failing} failing)",
                action.label(),
                checks.len()
            )
        }
        Event::ActionConfirmed { id, phrase } => format!("#{id} confirmed: typed \"{phrase}\""),
        Event::ActionOverridden { id, reason } => format!("#{id} OVERRIDE: {reason}"),
        Event::ActionBlocked {
            action, by, checks, ..
        } => {
            let failing: Vec<&str> = checks
                .iter()
                .filter(|c| !c.pass)
                .map(|c| c.name.as_str())
                .collect();
            format!("BLOCKED {} ({by}): {}", action.label(), failing.join(", "))
        }
        Event::StepFinished {
            id,
            name,
            ok,
            output,
            ..
        } => {
            format!(
                "#{id} {} {name}: {}",
                if *ok { "✓" } else { "✗" },
                output.lines().last().unwrap_or("")
            )
        }
        Event::ActionSucceeded { id, detail } => format!("#{id} succeeded: {detail}"),
        Event::ActionFailed { id, error } => format!("#{id} FAILED: {error}"),
        Event::ActionOutcomeUnknown { id } => {
            format!("#{id} outcome unknown — verify (no outcome recorded before the restart)")
        }
        Event::Decision { go, by, role } => format!(
            "go/no-go: {} signed by {by} for {role}",
            if *go { "GO" } else { "NO-GO" }
        ),
        Event::PhaseStarted { phase } => format!("phase {} started", phase_name(rb, phase)),
        Event::PhaseCompleted { phase } => format!("phase {} completed", phase_name(rb, phase)),
        Event::AlertFired {
            metric,
            level,
            value,
            threshold,
        } => format!(
            "ALERT {} {metric} = {} (threshold {})",
            level.as_str().to_uppercase(),
            value.map(engine::fmt_num).unwrap_or_else(|| "?".into()),
            engine::fmt_num(*threshold)
        ),
        Event::AlertResolved { metric, level, .. } => {
            format!("resolved {} {metric}", level.as_str())
        }
    })
}

fn phase_name(rb: &Runbook, id: &str) -> String {
    rb.phase_index(id)
        .map(|i| rb.phases[i].name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Events to write when a session opens on an existing log: the session record, and a finding
/// for every action whose outcome was never recorded.
pub fn startup_events(
    st: &State,
    operator: &str,
    mode: &str,
    loaded: &crate::runbook::Loaded,
    scenario: Option<&str>,
    speed: Option<f64>,
) -> Vec<Event> {
    let mut evs = vec![Event::SessionStarted {
        operator: operator.to_string(),
        mode: mode.to_string(),
        runbook: loaded.path.display().to_string(),
        runbook_sha256: loaded.sha256.clone(),
        scenario: scenario.map(|s| s.to_string()),
        speed,
    }];
    for a in &st.actions {
        if a.outcome == Outcome::Running {
            evs.push(Event::ActionOutcomeUnknown { id: a.id });
        }
    }
    evs
}

fn short(h: &str) -> String {
    h.chars().take(12).collect()
}

/// Keys come from a thread that blocks on the terminal; the loop never does.
fn spawn_input() -> mpsc::Receiver<TermEvent> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        loop {
            match cevent::poll(Duration::from_millis(200)) {
                Ok(true) => match cevent::read() {
                    Ok(ev) => {
                        if tx.blocking_send(ev).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Ok(false) => {
                    if tx.is_closed() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    });
    rx
}

pub async fn run_demo(opts: DemoOptions) -> color_eyre::Result<()> {
    let rb = opts.runbook.runbook.clone();
    let (store, records) = Store::open(&opts.audit, &opts.operator)
        .await
        .map_err(|e| color_eyre::eyre::eyre!(e))?;
    let mut st = State::new(&rb);
    for r in &records {
        let (at, ev) = (r.time(), r.event());
        match (at, ev) {
            (Ok(at), Ok(ev)) => engine::apply(&mut st, &rb, at, &ev),
            (Err(e), _) | (_, Err(e)) => {
                return Err(color_eyre::eyre::eyre!("{}: {e}", opts.audit.display()));
            }
        }
    }
    let resumed = !records.is_empty();
    let origin = st.now.unwrap_or_else(chrono::Utc::now);
    let clock = Clock::new(origin, opts.speed);
    let mut world = World::new(&rb, opts.scenario, 0x5eed_2026);
    world.resume(&st);

    let (store_tx, store_rx) = mpsc::channel::<Vec<(Time, Event)>>(256);
    let (commit_tx, mut commit_rx) = mpsc::channel::<Result<Vec<Record>, String>>(256);
    let store_task = tokio::spawn(store_loop(store, store_rx, commit_tx));
    let (job_tx, job_rx) = mpsc::channel::<Job>(16);
    let (report_tx, mut report_rx) = mpsc::channel::<Report>(256);
    let sim_task = tokio::spawn(sim::run(
        world,
        clock,
        rb.monitoring.interval,
        job_rx,
        report_tx,
    ));

    let first = startup_events(
        &st,
        &opts.operator,
        "demo",
        &opts.runbook,
        Some(opts.scenario.name()),
        Some(opts.speed),
    );
    let _ = store_tx
        .send(first.into_iter().map(|e| (clock.now(), e)).collect())
        .await;
    if resumed {
        tracing::info!(
            "resumed from {} ({} records)",
            opts.audit.display(),
            records.len()
        );
    }

    let audit_label = opts.audit.display().to_string();
    let mut head = records
        .last()
        .map(|r| short(&r.hash))
        .unwrap_or_else(|| "-".into());
    let mut ui = Ui::new(Mode::Live);
    let mut input = spawn_input();
    let mut terminal = ratatui::init();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut quitting = false;
    let clock_label = format!("SIM ×{}", opts.speed);
    let result: color_eyre::Result<()> = loop {
        let chrome = Chrome {
            audit: &audit_label,
            head: &head,
            clock: clock_label.clone(),
            log: None,
        };
        if let Err(e) = terminal.draw(|f| render(f, &rb, &st, &ui, &opts.theme, &chrome)) {
            break Err(e.into());
        }
        let mut writes: Vec<Event> = Vec::new();
        tokio::select! {
            ev = input.recv() => match ev {
                Some(TermEvent::Key(k)) if k.kind == KeyEventKind::Press => {
                    for intent in ui.on_key(k, &st, &rb, &opts.operator) {
                        match intent {
                            Intent::Write(evs) => writes.extend(evs),
                            Intent::Quit => quitting = true,
                            Intent::Replay(_) | Intent::JumpTo(_) => {}
                        }
                    }
                }
                Some(_) => {}
                None => break Ok(()),
            },
            r = report_rx.recv() => match r {
                Some(Report::Observed(o)) => writes.push(Event::Observed(o)),
                Some(Report::StepFinished { id, step, name, ok, output }) => writes.push(Event::StepFinished { id, step, name, ok, output }),
                Some(Report::Finished { id, ok: true, detail }) => writes.push(Event::ActionSucceeded { id, detail }),
                Some(Report::Finished { id, ok: false, detail }) => writes.push(Event::ActionFailed { id, error: detail }),
                None => {}
            },
            c = commit_rx.recv() => match c {
                Some(Ok(recs)) => {
                    for r in &recs {
                        let (Ok(at), Ok(ev)) = (r.time(), r.event()) else { continue };
                        engine::apply(&mut st, &rb, at, &ev);
                        log_event(&rb, &ev);
                        if let Event::ActionRequested { id, steps, .. } = &ev
                            && !steps.is_empty()
                        {
                            let _ = job_tx.send(Job { id: *id, steps: steps.clone() }).await;
                        }
                    }
                    if let Some(r) = recs.last() {
                        head = short(&r.hash);
                    }
                    writes.extend(engine::alert_transitions(&st, &rb));
                }
                Some(Err(e)) => {
                    tracing::error!("audit write failed, nothing was applied: {e}");
                    ui.message = Some(format!("AUDIT WRITE FAILED: {e}"));
                }
                None => break Err(color_eyre::eyre::eyre!("the audit store stopped")),
            },
            _ = tick.tick() => {}
        }
        if quitting {
            writes.push(Event::SessionEnded {
                operator: opts.operator.clone(),
            });
        }
        if !writes.is_empty() {
            let now = clock.now();
            if store_tx
                .send(writes.into_iter().map(|e| (now, e)).collect())
                .await
                .is_err()
            {
                break Err(color_eyre::eyre::eyre!("the audit store stopped"));
            }
        }
        if quitting {
            break Ok(());
        }
    };
    ratatui::restore();
    sim_task.abort();
    drop(store_tx);
    // Let the store write what is queued (the session end) before we leave.
    let _ = tokio::time::timeout(Duration::from_secs(5), store_task).await;
    while let Ok(c) = commit_rx.try_recv() {
        if let Err(e) = c {
            eprintln!("warroom: audit write failed: {e}");
        }
    }
    println!("audit log: {}", opts.audit.display());
    if let Some((seq, hash)) = crate::audit::read_head(&opts.audit) {
        println!("head: seq {seq} {hash}");
    }
    result
}

fn log_event(rb: &Runbook, ev: &Event) {
    let Some(line) = describe(rb, ev) else { return };
    match ev {
        Event::ActionFailed { .. }
        | Event::AlertFired {
            level: engine::Level::Critical,
            ..
        } => tracing::error!("{line}"),
        Event::ActionBlocked { .. }
        | Event::AlertFired { .. }
        | Event::ActionOutcomeUnknown { .. }
        | Event::Observed(_) => tracing::warn!("{line}"),
        _ => tracing::info!("{line}"),
    }
}

/// The audit store task: appends each batch in one transaction and reports what was
/// committed, in order.
pub async fn store_loop(
    mut store: Store,
    mut rx: mpsc::Receiver<Vec<(Time, Event)>>,
    tx: mpsc::Sender<Result<Vec<Record>, String>>,
) {
    while let Some(batch) = rx.recv().await {
        let r = store.append(&batch).await;
        if tx.send(r).await.is_err() {
            break;
        }
    }
    store.close().await;
}
