//! Reading a source: the `Source` trait, one reading bounded in time, the poller that reads
//! a source every interval, and how long a reading or a write may take.

use crate::adapters::Report;
use crate::clock::Clock;
use crate::engine::{Observation, SourceError, SourceId};
use crate::runbook::redact;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// What a source says when it has no target.
pub const NOT_CONFIGURED: &str = "not configured";

/// How long one reading of a source may take: most of an interval, within 0.5 to 10 s, so
/// that rounds do not pile up behind a slow source.
pub fn poll_timeout(interval: Duration) -> Duration {
    interval
        .mul_f64(0.8)
        .clamp(Duration::from_millis(500), Duration::from_secs(10))
}

/// How long a single write (flag, load balancer) may take.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// A source that can be read once. Pollers read it every interval; `warroom status` reads
/// each once.
pub trait Source: Send + Sync + 'static {
    /// The source's name, as the observation and its errors carry it.
    fn name(&self) -> SourceId;
    /// One reading. Failures are in the observation's `errors`, never a panic.
    fn read(&self) -> impl Future<Output = Observation> + Send;
    /// What to report when a reading did not finish in time: every value it covers unknown.
    fn failed(&self, message: String) -> Observation;
}

/// One reading, bounded by `limit`: a source that hangs gives `failed`.
pub async fn read_within<S: Source>(src: &S, limit: Duration) -> Observation {
    match tokio::time::timeout(limit, src.read()).await {
        Ok(o) => o,
        Err(_) => src.failed(format!("no answer within {}", fmt_secs(limit))),
    }
}

/// A source that is named in the runbook but has no target: reported once.
pub fn not_configured(source: SourceId) -> Observation {
    failure(source, NOT_CONFIGURED)
}

/// A reading of `source` that failed: its one error, with any secret redacted.
pub fn failure(source: SourceId, message: &str) -> Observation {
    only_error(SourceError {
        source: source.into(),
        message: redact(message),
    })
}

/// An observation that is only `error`, under the error's own source name.
pub(crate) fn only_error(error: SourceError) -> Observation {
    Observation {
        source: error.source.clone(),
        errors: vec![error],
        ..Default::default()
    }
}

/// Report `observation` at the clock's time now (waiting while the session's queue is full);
/// false when nobody listens any more.
pub(crate) async fn report(
    out: &crate::adapters::ReportTx,
    clock: Clock,
    observation: Observation,
) -> bool {
    out.send(Report::Observed {
        at: clock.now(),
        observation,
    })
    .await
    .is_ok()
}

/// Report `observation` from code that cannot wait (start-up, before the session reads):
/// dropped when the queue is full.
pub(crate) fn report_now(out: &crate::adapters::ReportTx, clock: Clock, observation: Observation) {
    let _ = out.try_send(Report::Observed {
        at: clock.now(),
        observation,
    });
}

/// A tick every `every` (at least 100 ms); a tick missed while busy is delayed, not bunched.
pub(crate) fn ticker(every: Duration) -> tokio::time::Interval {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

/// Read `src` every `interval` and report what it says, until the session stops listening.
pub async fn poll<S: Source>(
    src: Arc<S>,
    clock: Clock,
    interval: Duration,
    out: crate::adapters::ReportTx,
) {
    let mut tick = ticker(interval);
    // A little more than the source's own request timeout, as a backstop.
    let limit = poll_timeout(interval) + Duration::from_secs(1);
    loop {
        tick.tick().await;
        let observation = read_within(src.as_ref(), limit).await;
        if !report(&out, clock, observation).await {
            return;
        }
    }
}

/// `2s`, `1.5s`, `250ms`.
pub fn fmt_secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_timeout_is_bounded() {
        assert_eq!(
            poll_timeout(Duration::from_secs(10)),
            Duration::from_secs(8)
        );
        assert_eq!(
            poll_timeout(Duration::from_millis(100)),
            Duration::from_millis(500)
        );
        assert_eq!(
            poll_timeout(Duration::from_secs(60)),
            Duration::from_secs(10)
        );
    }
}
