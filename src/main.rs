//! The `warroom` command line.
//!
//! One file, over 400 lines: one thin function per command, each composing the crates below;
//! team mode's commands (`watch`, `audit copy`) and `--store` are in `src/cmd/`, where the
//! others will move, one file each.

mod cmd;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use warroom::audit;
use warroom::runbook::{self, Severity};
use warroom::session::Session;
use warroom::sim::Scenario;
use warroom::ui::theme::{self, Theme};

const DEFAULT_RUNBOOK: &str = runbook::BUILTIN_PATH;

#[derive(Parser)]
#[command(
    name = "warroom",
    version,
    about = "A war-room console that drives a production rollout from a runbook, with gated actions and a tamper-evident audit log."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Open the console on the embedded simulated production (for trying, demos and rehearsals).
    Demo {
        /// The runbook to drive, as `rehearse` and `check` take it (the same as --runbook).
        #[arg(value_name = "RUNBOOK", conflicts_with = "runbook")]
        file: Option<PathBuf>,
        /// The runbook to drive. Default: runbooks/unified-attributes.yaml here, else the copy
        /// built into warroom.
        #[arg(long, default_value = DEFAULT_RUNBOOK)]
        runbook: PathBuf,
        /// The audit log (SQLite). An existing log is resumed. Default: a new file in the user's data dir.
        #[arg(long)]
        audit: Option<PathBuf>,
        /// The audit log: a path (SQLite) or a postgres:// URL (team mode). Same as --audit.
        #[arg(long, conflicts_with = "audit")]
        store: Option<String>,
        /// The rollout in a PostgreSQL store. Default: the runbook file's name without .yaml.
        #[arg(long)]
        rollout: Option<String>,
        /// Who drives (recorded with every event). Default: the OS user.
        #[arg(long)]
        operator: Option<String>,
        /// Simulated seconds per real second. At 300 a 15-minute bake passes in 3 s, and a bad
        /// canary's alert, auto-abort and rollback in about a second: use 30 or less to watch one.
        #[arg(long, default_value_t = 30.0)]
        speed: f64,
        /// What goes wrong in the simulated production: healthy, bad-canary, replica-lag,
        /// flaky-flags, latency-spike, server-down, or one of the runbook's own `scenarios:`.
        #[arg(long, default_value = "healthy")]
        scenario: String,
        /// A built-in theme name (see `warroom themes`) or a .toml theme file.
        #[arg(long, default_value = "default")]
        theme: String,
        /// Resume a log that does not verify, knowingly: its head file is moved aside and the
        /// session record says so. Without it such a log is refused.
        #[arg(long)]
        continue_unverified: bool,
    },
    /// Open the console on the real systems named by the runbook's targets.
    Run {
        #[arg(long)]
        runbook: PathBuf,
        /// The audit log (SQLite). An existing log is resumed. Default: a new file in the user's data dir.
        #[arg(long)]
        audit: Option<PathBuf>,
        /// The audit log: a path (SQLite) or a postgres:// URL (team mode). Same as --audit.
        #[arg(long, conflicts_with = "audit")]
        store: Option<String>,
        /// The rollout in a PostgreSQL store. Default: the runbook file's name without .yaml.
        #[arg(long)]
        rollout: Option<String>,
        /// Who drives (recorded with every event). Default: the OS user.
        #[arg(long)]
        operator: Option<String>,
        /// A built-in theme name or a .toml theme file.
        #[arg(long, default_value = "default")]
        theme: String,
        /// Resume a log that does not verify, knowingly: its head file is moved aside and the
        /// session record says so. Without it such a log is refused.
        #[arg(long)]
        continue_unverified: bool,
    },
    /// One reading of every configured system, without the console: for scripts and chat
    /// bots. Exit 0 healthy, 1 when a critical threshold is crossed or what the rollout gate
    /// needs cannot be read, 2 on a configuration error.
    Status {
        #[arg(long)]
        runbook: PathBuf,
        /// An audit log to take the phase, rollout and alerts from.
        #[arg(long, conflicts_with = "store")]
        audit: Option<PathBuf>,
        /// The log as a store: a path (SQLite) or a postgres:// URL (team mode: the rollout
        /// the lead's console writes).
        #[arg(long)]
        store: Option<String>,
        /// The rollout in a PostgreSQL store. Default: the runbook file's name without
        /// `.yaml`, as a console names it.
        #[arg(long)]
        rollout: Option<String>,
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
    },
    /// Replay an audit log on the console, read-only: the war room as it was.
    Replay {
        #[command(flatten)]
        log: cmd::store::LogArg,
        /// Playback speed (1 to 1000).
        #[arg(long, default_value_t = 10.0)]
        speed: f64,
        /// The runbook the log was written with. Default: the one named in the log.
        #[arg(long)]
        runbook: Option<PathBuf>,
        /// A built-in theme name or a .toml theme file.
        #[arg(long, default_value = "default")]
        theme: String,
    },
    /// Rehearse a plan headless on the simulator, in virtual time (hours of bake in
    /// seconds), through the console's own keys and gates. Without --script it plays the
    /// straight path. Exit 0 when the plan completed (with a script: every expectation held),
    /// 1 when a gate blocked, an action failed or an expectation failed, 2 on bad input.
    Rehearse {
        /// The runbook to rehearse. Default: the built-in seed plan.
        #[arg(default_value = DEFAULT_RUNBOOK)]
        runbook: PathBuf,
        /// What goes wrong in the simulated production: healthy, bad-canary, replica-lag,
        /// flaky-flags, latency-spike, server-down, or one of the runbook's own `scenarios:`.
        #[arg(long, default_value = "healthy")]
        scenario: String,
        /// A YAML list of moves and expectations (see runbooks/README.md, "Rehearsal scripts").
        #[arg(long)]
        script: Option<PathBuf>,
        /// The audit log to write. Default: a new file in the user's data dir.
        #[arg(long)]
        audit: Option<PathBuf>,
        /// Who drives (recorded with every event). Default: the OS user.
        #[arg(long)]
        operator: Option<String>,
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
    },
    /// Check runbook files: syntax, types, unknown keys and cross-references.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a commented starter runbook that passes `check`, to edit into your own plan.
    Init {
        /// Where to write it (never over an existing file).
        #[arg(default_value = "runbook.yaml")]
        file: PathBuf,
    },
    /// Follow a rollout in a PostgreSQL store live, read-only: the lead's console as it is
    /// written, woken by PostgreSQL's notifications.
    Watch {
        /// The store: a postgres:// URL.
        store: String,
        /// The rollout. Default: the only one the database holds.
        #[arg(long)]
        rollout: Option<String>,
        /// Who watches (shown on the status bar). Default: the OS user.
        #[arg(long)]
        operator: Option<String>,
        /// The runbook the rollout runs. Default: the one named in its log.
        #[arg(long)]
        runbook: Option<PathBuf>,
        /// A built-in theme name or a .toml theme file.
        #[arg(long, default_value = "default")]
        theme: String,
    },
    /// List the built-in themes.
    Themes,
    /// Work with audit logs.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Verify the hash chain and the head. Exit 0 ok, 1 tampered or truncated, 2 not an audit
    /// log or not a head after --expect-head.
    Verify {
        #[command(flatten)]
        log: cmd::store::LogArg,
        /// The head kept elsewhere, e.g. posted in chat: its hash (or the first 8+ hex digits),
        /// or the head file's `SEQ HASH`.
        #[arg(long)]
        expect_head: Option<String>,
    },
    /// Export the log to stdout: JSON lines, or the post-mortem as markdown or as one
    /// self-contained HTML page (`> postmortem.html`). A log that does not verify is exported
    /// with a warning first (the HTML page's top).
    Export {
        #[command(flatten)]
        log: cmd::store::LogArg,
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        /// The runbook the log was written with (for markdown and html). Default: the one named
        /// in the log.
        #[arg(long)]
        runbook: Option<PathBuf>,
    },
    /// Copy a log between stores (a file and a PostgreSQL rollout, either way, or two of a
    /// kind), every record as it is; both ends are verified. Exit 0 when both verify with the
    /// same head; 1 when the copy cannot be made (the source does not verify, the destination
    /// holds records, a store cannot be reached) or does not verify; 2 on bad arguments.
    Copy {
        /// Where the log is: a path or a postgres:// URL.
        from: String,
        /// Where it goes: a new file, or a PostgreSQL rollout that holds no records.
        to: String,
        /// The rollout in the PostgreSQL store(s). Default: the source's, or the source
        /// file's name without its extension.
        #[arg(long)]
        rollout: Option<String>,
        /// The rollout to copy into, when it differs from --rollout.
        #[arg(long)]
        to_rollout: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum StatusFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Jsonl,
    Markdown,
    /// One self-contained page: charts and tables, no script, nothing fetched.
    Html,
}

/// Why a command stopped: the message to print and the exit code (2: configuration or input,
/// 1: the console or a system failed).
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// Bad input: a runbook's own report (it names the file), exit 2.
    fn input(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
    /// Bad input reported by warroom, exit 2.
    fn config(e: impl std::fmt::Display) -> Failure {
        Failure::input(format!("warroom: {e}"))
    }
    /// The command failed while running, exit 1.
    fn run(e: impl std::fmt::Display) -> Failure {
        Failure {
            code: 1,
            message: format!("warroom: {e}"),
        }
    }
}

fn main() -> ExitCode {
    if let Err(e) = color_eyre::install() {
        eprintln!("warroom: {e}");
    }
    let cli = Cli::parse();
    let done = match cli.cmd {
        Cmd::Check { files } => Ok(check(&files)),
        Cmd::Init { file } => init(&file),
        Cmd::Themes => {
            for (name, text) in theme::BUILTIN {
                match theme::parse(text, name) {
                    Ok(t) => println!("{:<14} {}", t.name, t.description),
                    Err(e) => println!("{name:<14} BROKEN: {e}"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Audit { cmd } => audit_cmd(cmd),
        Cmd::Rehearse {
            runbook,
            scenario,
            script,
            audit,
            operator,
            format,
        } => rehearse(&runbook, &scenario, script, audit, operator, format),
        Cmd::Replay {
            log,
            speed,
            runbook,
            theme,
        } => log
            .location()
            .and_then(|at| replay(at, speed, runbook, theme)),
        Cmd::Watch {
            store,
            rollout,
            operator,
            runbook,
            theme,
        } => operator_name(operator)
            .and_then(|op| cmd::watch::watch(&store, rollout, &op, runbook, &theme)),
        Cmd::Status {
            runbook,
            audit,
            store,
            rollout,
            format,
        } => status(runbook, audit, store, rollout, format),
        Cmd::Run {
            runbook,
            audit,
            store,
            rollout,
            operator,
            theme,
            continue_unverified,
        } => cmd::store::console_location(audit, store, rollout, "run")
            .and_then(|at| run(&runbook, at, operator, &theme, continue_unverified)),
        Cmd::Demo {
            file,
            runbook,
            audit,
            store,
            rollout,
            operator,
            speed,
            scenario,
            theme,
            continue_unverified,
        } => cmd::store::console_location(audit, store, rollout, "demo").and_then(|at| {
            demo(
                file.as_ref().unwrap_or(&runbook),
                at,
                operator,
                speed,
                &scenario,
                &theme,
                continue_unverified,
            )
        }),
    };
    match done {
        Ok(code) => code,
        Err(f) => {
            eprintln!("{}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// `warroom run`: the console on the real systems.
fn run(
    runbook: &std::path::Path,
    audit: audit::Location,
    operator: Option<String>,
    theme: &str,
    continue_unverified: bool,
) -> Result<ExitCode, Failure> {
    let operator = operator_name(operator)?;
    let (loaded, theme_loaded) = runbook_and_theme(runbook, theme)?;
    prepare_resume(&audit, runbook, continue_unverified)?;
    if let Some(code) = cmd::team::before_console(&audit, &loaded, &operator, theme)? {
        return Ok(code);
    }
    let theme = theme_loaded;
    init_tracing();
    runtime()
        .block_on(async {
            let session = Session::start_run(&loaded, audit, &operator)
                .await
                .map_err(|e| color_eyre::eyre::eyre!(e))?;
            warroom::ui::live::run_console(session, &theme, "LIVE".into()).await
        })
        .map_err(Failure::run)?;
    Ok(ExitCode::SUCCESS)
}

/// `warroom demo`: the console on the simulator.
fn demo(
    runbook: &std::path::Path,
    audit: audit::Location,
    operator: Option<String>,
    speed: f64,
    scenario: &str,
    theme_name: &str,
    continue_unverified: bool,
) -> Result<ExitCode, Failure> {
    let operator = operator_name(operator)?;
    let (loaded, theme) = runbook_and_theme(runbook, theme_name)?;
    let scenario = Scenario::find(scenario, &loaded.runbook).map_err(Failure::config)?;
    if !(speed.is_finite() && (0.1..=10_000.0).contains(&speed)) {
        return Err(Failure::config("--speed must be between 0.1 and 10000"));
    }
    prepare_resume(&audit, runbook, continue_unverified)?;
    if let Some(code) = cmd::team::before_console(&audit, &loaded, &operator, theme_name)? {
        return Ok(code);
    }
    init_tracing();
    runtime()
        .block_on(async {
            let session = Session::start_demo(&loaded, audit, &operator, speed, scenario)
                .await
                .map_err(|e| color_eyre::eyre::eyre!(e))?;
            let label = format!("SIM ×{speed}");
            warroom::ui::live::run_console(session, &theme, label).await
        })
        .map_err(Failure::run)?;
    Ok(ExitCode::SUCCESS)
}

/// `warroom rehearse`: the plan on the simulator, headless, on virtual time.
fn rehearse(
    runbook: &std::path::Path,
    scenario: &str,
    script: Option<PathBuf>,
    audit: Option<PathBuf>,
    operator: Option<String>,
    format: StatusFormat,
) -> Result<ExitCode, Failure> {
    use warroom::ui::rehearse;
    let operator = operator_name(operator)?;
    let loaded = runbook::load_or_builtin(runbook).map_err(|e| Failure::input(e.to_string()))?;
    let scenario = Scenario::find(scenario, &loaded.runbook).map_err(Failure::input)?;
    let moves = match &script {
        None => None,
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::config(format!("{}: cannot read: {e}", p.display())))?;
            let moves = rehearse::parse_script(&text)
                .and_then(|m| rehearse::validate(&m, &loaded.runbook).map(|_| m))
                .map_err(|e| Failure::config(format!("{}: {e}", p.display())))?;
            Some(moves)
        }
    };
    let audit = audit.unwrap_or_else(|| default_audit_path("rehearse"));
    if audit.exists() {
        return Err(Failure::config(format!(
            "{}: already exists; a rehearsal writes a new audit log",
            audit.display()
        )));
    }
    // Virtual time: one thread, the clock paused; it moves on whenever nothing is left to do.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .map_err(|e| Failure::run(format!("cannot start the async runtime: {e}")))?;
    let report = rt
        .block_on(async {
            let session =
                Session::start_rehearsal(&loaded, &audit, &operator, 1.0, scenario).await?;
            let mut driver = rehearse::Driver::new(session);
            match &moves {
                None => driver.straight().await,
                Some(moves) => {
                    for (i, m) in moves.iter().enumerate() {
                        if !driver.play(i + 1, m).await {
                            break;
                        }
                    }
                }
            }
            let report = driver.report();
            driver.s.close().await;
            Ok::<_, String>(report)
        })
        .map_err(Failure::run)?;
    match format {
        StatusFormat::Text => println!("{}", report.text()),
        StatusFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(j) => println!("{j}"),
            Err(e) => return Err(Failure::run(e)),
        },
    }
    Ok(ExitCode::from(report.exit_code(moves.is_some()) as u8))
}

/// The operator as recorded: `--operator` (or the OS user) without control, bidi or
/// zero-width characters; an empty or over-long name is a usage error.
fn operator_name(given: Option<String>) -> Result<String, Failure> {
    let raw = given.unwrap_or_else(os_user);
    audit::operator_name(&raw).map_err(|e| Failure::config(format!("--operator: {e}")))
}

/// Before a console opens an existing log: refuse one that another console holds, and one
/// that does not verify unless `--continue-unverified` (which moves its head file aside).
/// Says what it did on stderr, where it stays visible after the console closes.
fn prepare_resume(
    at: &audit::Location,
    runbook: &std::path::Path,
    continue_unverified: bool,
) -> Result<(), Failure> {
    let Some(audit) = at.path() else {
        // A rollout in PostgreSQL: its writer lock and its verification are taken on open,
        // which continues one that does not verify only when told to (said here first).
        if continue_unverified && let audit::Location::Postgres { url, .. } = at {
            let at = at.clone().or_rollout(&audit::default_rollout(runbook));
            let rollout = at.rollout().unwrap_or_default().to_string();
            if let Ok(audit::Verdict::Bad { seq, problem }) = runtime().block_on(at.verify(None)) {
                eprintln!(
                    "warroom: {}: the log does not verify: at seq {seq}: {problem}; continuing it as asked (--continue-unverified; the session record says so)",
                    at.shown()
                );
            }
            audit::continue_rollout_unverified(url, &rollout);
        }
        return Ok(());
    };
    let notes = audit::prepare_resume(audit, continue_unverified).map_err(Failure::config)?;
    for n in notes {
        eprintln!("warroom: {n}");
    }
    Ok(())
}

/// The runbook and the theme a console opens with; the error is ready to print.
fn runbook_and_theme(
    runbook: &std::path::Path,
    theme: &str,
) -> Result<(runbook::Loaded, Theme), Failure> {
    let loaded = runbook::load_or_builtin(runbook).map_err(|e| Failure::input(e.to_string()))?;
    let theme = Theme::load(theme).map_err(Failure::config)?;
    Ok((loaded, theme))
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("warroom: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::prelude::*;
    // Not `tui_logger::init_logger`: it starts a thread that wakes every 10 ms for as long as
    // the console runs (a tenth of the idle CPU). Only the tracing layer feeds the widget,
    // and the log pane moves what arrived when it draws (`tui_logger::move_events`).
    tui_logger::set_default_level(tui_logger::LevelFilter::Info);
    let _ = tracing_subscriber::registry()
        .with(tui_logger::TuiTracingSubscriberLayer)
        .try_init();
}

fn init(file: &std::path::Path) -> Result<ExitCode, Failure> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
        .map_err(|e| {
            Failure::input(if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "{}: already exists; give another name (warroom init FILE) or remove it",
                    file.display()
                )
            } else {
                format!("{}: cannot write: {e}", file.display())
            })
        })?;
    f.write_all(runbook::STARTER.as_bytes())
        .map_err(|e| Failure::input(format!("{}: cannot write: {e}", file.display())))?;
    println!(
        "wrote {} — edit it, then `warroom check {0}` and `warroom demo --runbook {0}`",
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty())
        .or_else(login_name)
        .unwrap_or_else(|| "operator".into())
}

/// The name of the user this process runs as, from the user database (when `$USER` is empty,
/// as under some service managers and containers).
fn login_name() -> Option<String> {
    #[cfg(unix)]
    {
        let mut buf = vec![0u8; 4096];
        // SAFETY: getpwuid_r writes into `pwd` and `buf` (whose length we pass) and sets
        // `result` to `&pwd` on success; `pw_name` then points into `buf`, which outlives its
        // use here.
        unsafe {
            let mut pwd: libc::passwd = std::mem::zeroed();
            let mut result: *mut libc::passwd = std::ptr::null_mut();
            let rc = libc::getpwuid_r(
                libc::getuid(),
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            );
            if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
                return None;
            }
            let name = std::ffi::CStr::from_ptr(pwd.pw_name).to_string_lossy();
            Some(name.trim().to_string()).filter(|n| !n.is_empty())
        }
    }
    #[cfg(not(unix))]
    None
}

pub(crate) fn default_audit_path(mode: &str) -> PathBuf {
    let dir = dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("warroom");
    dir.join(format!(
        "{mode}-{}.audit",
        chrono::Local::now().format("%Y%m%d-%H%M%S")
    ))
}

fn status(
    path: PathBuf,
    audit: Option<PathBuf>,
    store: Option<String>,
    rollout: Option<String>,
    format: StatusFormat,
) -> Result<ExitCode, Failure> {
    let loaded = runbook::load(&path).map_err(|e| Failure::input(e.to_string()))?;
    let rb = &loaded.runbook;
    // The log the state is rebuilt from: `--audit` (a file, as before) or `--store`, a rollout
    // in PostgreSQL named as a console names it.
    let at = if store.is_some() || rollout.is_some() {
        Some(
            cmd::store::console_location(audit, store, rollout, "status")?
                .or_rollout(&audit::default_rollout(&path)),
        )
    } else {
        audit.map(audit::Location::File)
    };
    let base = match &at {
        None => warroom::engine::State::new(rb),
        // As a console resumes it: the newest snapshot that matches and the records after it
        // (a log of any length read in bounded time); one that does not verify from there is
        // said, and folded whole as it is.
        Some(at) => {
            let basis = audit::Basis {
                rb,
                runbook_sha256: &loaded.sha256,
            };
            match runtime()
                .block_on(at.resume(basis))
                .map_err(Failure::config)?
            {
                Ok(resumed) => {
                    for n in &resumed.notes {
                        eprintln!("warroom: note: {n}");
                    }
                    resumed.state
                }
                Err((seq, problem)) => {
                    eprintln!(
                        "warroom: warning: {}: the log does not verify at seq {seq}: {problem}",
                        at.shown()
                    );
                    let (records, _) = runtime().block_on(at.read()).map_err(Failure::config)?;
                    audit::export::fold(rb, &records)
                        .map_err(|e| Failure::config(format!("{}: {e}", at.shown())))?
                }
            }
        }
    };
    let endpoints = warroom::real::Endpoints::from_env(rb);
    let collect = warroom::status::collect_with(rb, base, &endpoints, warroom::status::TIMEOUT);
    let report = runtime().block_on(collect);
    match format {
        StatusFormat::Json => println!("{:#}", warroom::status::to_json(&report)),
        StatusFormat::Text => print!("{}", warroom::status::to_text(&report)),
    }
    Ok(ExitCode::from(warroom::status::exit_code(&report)))
}

/// The runbook a log was written with: as given, or as its first session record names it.
/// Warns when the file changed since.
pub(crate) fn runbook_for(
    records: &[audit::Record],
    given: Option<PathBuf>,
) -> Result<runbook::Loaded, String> {
    let first = records.iter().find_map(|r| match r.event() {
        Ok(warroom::engine::Event::SessionStarted {
            runbook,
            runbook_sha256,
            ..
        }) => Some((runbook, runbook_sha256)),
        _ => None,
    });
    let path = match (&given, &first) {
        (Some(p), _) => p.clone(),
        (None, Some((p, _))) => PathBuf::from(p),
        (None, None) => PathBuf::from(DEFAULT_RUNBOOK),
    };
    let loaded = runbook::load_or_builtin(&path).map_err(|e| match (&given, &first) {
        // The path the log recorded, relative to where its console ran: say how to give it.
        (None, Some((p, _))) => format!(
            "{e}\n  hint: the log was written with the runbook `{p}`, a path from where that console ran; give the runbook with --runbook PATH"
        ),
        _ => e.to_string(),
    })?;
    if let Some((_, sha)) = first
        && sha != loaded.sha256
    {
        eprintln!(
            "warroom: warning: {} has changed since the log was written (sha256 {} then, {} now)",
            path.display(),
            sha.chars().take(12).collect::<String>(),
            loaded.sha256.chars().take(12).collect::<String>()
        );
    }
    Ok(loaded)
}

fn replay(
    at: audit::Location,
    speed: f64,
    runbook: Option<PathBuf>,
    theme: String,
) -> Result<ExitCode, Failure> {
    if !(speed.is_finite() && (1.0..=1000.0).contains(&speed)) {
        return Err(Failure::config("--speed must be between 1 and 1000"));
    }
    // The log is read a page at a time as the replay moves (`audit::ReplayLog`), and its
    // chain verified beside it: a log of any length opens at once.
    let rt = runtime();
    let opened = rt
        .block_on(audit::Opened::open(&at))
        .map_err(Failure::config)?;
    let loaded = runbook_for(&opened.first, runbook).map_err(Failure::input)?;
    let theme = Theme::load(&theme).map_err(Failure::config)?;
    let head = opened.head.1.chars().take(12).collect();
    let label = at.shown();
    let first_at = opened
        .first_at()
        .map_err(|e| Failure::config(format!("{label}: {e}")))?;
    let len = opened.head.0;
    let unverified = rt.block_on(async {
        let log = opened
            .reader(loaded.runbook.clone(), &loaded.sha256)
            .await
            .map_err(Failure::config)?;
        let (ask, replies) = warroom::replay::spawn(log, Some(at.clone())).map_err(Failure::run)?;
        let rp = warroom::ui::replay::Replay::following(loaded.runbook, ask, first_at, len, speed);
        warroom::ui::replay::run_replay(rp, theme, label.clone(), head, Some(replies))
            .await
            .map_err(Failure::run)
    })?;
    if let Some(words) = unverified {
        eprintln!("warroom: warning: {}: {words}", at.shown());
    }
    Ok(ExitCode::SUCCESS)
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for f in files {
        match runbook::load(f) {
            Ok(l) => {
                for w in &l.warnings {
                    println!("{}", w.render(f));
                }
                let rb = &l.runbook;
                let warnings = l
                    .warnings
                    .iter()
                    .filter(|d| d.severity == Severity::Warning)
                    .count();
                println!(
                    "{}: ok — {} phases, rollout {}, {} flags, {} metrics, {} procedures{}",
                    f.display(),
                    rb.phases.len(),
                    rb.rollout
                        .steps
                        .iter()
                        .map(|s| format!("{}%", s.percent.value))
                        .collect::<Vec<_>>()
                        .join("→"),
                    rb.flags.len(),
                    rb.metrics.len(),
                    rb.procedures.len(),
                    if warnings > 0 {
                        format!(", {warnings} warning(s)")
                    } else {
                        String::new()
                    }
                );
            }
            Err(e) => {
                failed = true;
                eprintln!("{e}");
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn audit_cmd(cmd: AuditCmd) -> Result<ExitCode, Failure> {
    match cmd {
        AuditCmd::Verify { log, expect_head } => {
            let at = log.location()?;
            let expect = expect_head
                .as_deref()
                .map(audit::parse_expected_head)
                .transpose()
                .map_err(Failure::config)?;
            verify(&at, expect.as_deref())
        }
        AuditCmd::Copy {
            from,
            to,
            rollout,
            to_rollout,
        } => cmd::store::copy(&from, &to, rollout, to_rollout),
        AuditCmd::Export {
            log,
            format,
            runbook: given,
        } => {
            let at = log.location()?;
            let (records, head) = runtime().block_on(at.read()).map_err(Failure::config)?;
            // A log that does not verify is still exported (it is evidence), but says so first.
            let warning = match audit::verify(&records, None, head) {
                audit::Verdict::Ok { .. } => None,
                audit::Verdict::Bad { seq, problem } => Some(format!(
                    "WARNING: this audit log does not verify: at seq {seq}: {problem}"
                )),
            };
            match format {
                Format::Jsonl => {
                    if let Some(w) = &warning {
                        println!("{}", serde_json::json!({ "warning": w }));
                    }
                    print!("{}", audit::export::jsonl(&records));
                }
                Format::Markdown => {
                    let loaded = runbook_for(&records, given).map_err(Failure::input)?;
                    let md = audit::export::markdown(&loaded.runbook, &records)
                        .map_err(|e| Failure::config(format!("{}: {e}", at.shown())))?;
                    if let Some(w) = &warning {
                        println!("> **{}**", warroom::text::clean(w));
                        println!();
                    }
                    print!("{md}");
                }
                Format::Html => {
                    let loaded = runbook_for(&records, given).map_err(Failure::input)?;
                    let page = audit::export::html(&loaded.runbook, &records, warning.as_deref())
                        .map_err(|e| Failure::config(format!("{}: {e}", at.shown())))?;
                    print!("{page}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `warroom audit verify`: exit 0 ok, 1 tampered or truncated.
fn verify(at: &audit::Location, expect: Option<&str>) -> Result<ExitCode, Failure> {
    match runtime()
        .block_on(at.verify(expect))
        .map_err(Failure::config)?
    {
        audit::Verdict::Ok { records, head } => {
            println!("ok {records} records, head {head}");
            Ok(ExitCode::SUCCESS)
        }
        audit::Verdict::Bad { seq, problem } => {
            println!("{}: TAMPERED at seq {seq}: {problem}", at.shown());
            Ok(ExitCode::from(1))
        }
    }
}
