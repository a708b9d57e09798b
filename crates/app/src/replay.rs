//! A replay's reader as a task: the console asks for a place in the log (`Target`) and draws
//! the `View` that comes back; it never waits on the store. The log is read a page at a time
//! (`audit::ReplayLog`) on a thread of its own — a file's reads are synchronous — and the
//! log's chain is verified beside it, in one streamed pass.

use crate::audit::{Location, ReplayLog, Target, Verdict, View};
use tokio::sync::mpsc;

/// What the reader says back.
#[derive(Debug)]
pub enum Reply {
    /// The view at a target, or why it could not be read.
    View(Box<Result<View, String>>),
    /// The chain's verdict (once), or why it could not be verified.
    Verified(Result<Verdict, String>),
}

/// Targets waiting at most: a console sends one at a time per key, and playback one at a
/// time.
const QUEUE: usize = 64;

/// Start the reader over `log` (and the verifier over `at`, where it is kept). It ends when
/// the sender is dropped. Needs a tokio runtime.
pub fn spawn(
    log: ReplayLog,
    at: Option<Location>,
) -> Result<(mpsc::Sender<Target>, mpsc::Receiver<Reply>), String> {
    let (tx, mut rx) = mpsc::channel::<Target>(QUEUE);
    let (out, replies) = mpsc::channel(QUEUE);
    let handle = tokio::runtime::Handle::current();
    let mut log = log;
    let reader = out.clone();
    std::thread::Builder::new()
        .name("warroom-replay".into())
        .spawn(move || {
            while let Some(t) = rx.blocking_recv() {
                let v = handle.block_on(log.view(t));
                if reader.blocking_send(Reply::View(Box::new(v))).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| format!("cannot start the replay's reader: {e}"))?;
    if let Some(at) = at {
        tokio::spawn(async move {
            let _ = out.send(Reply::Verified(at.verify(None).await)).await;
        });
    }
    Ok((tx, replies))
}
