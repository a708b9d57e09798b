//! The traffic each pool really took, from the backends' session counters: between two
//! readings, and since the last change; a restart (pid changed, uptime went back) is told
//! apart, since its counters start again.

use super::{Haproxy, Reading};

/// The traffic each pool took between two readings.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Split {
    pub blue: u64,
    pub green: u64,
}

impl Split {
    pub fn describe(&self) -> String {
        let total = self.blue + self.green;
        if total == 0 {
            return "no traffic".into();
        }
        format!(
            "blue {} / green {} ({}% green)",
            self.blue,
            self.green,
            (self.green as f64 * 100.0 / total as f64).round()
        )
    }
}

/// What the readings and the changes remember between one and the next.
#[derive(Default)]
pub(super) struct Memory {
    last: Option<Reading>,
    /// Traffic between the last two readings.
    split: Option<Split>,
    /// The reading taken right after the last change: a change's output reports the traffic
    /// since the one before, whatever the poller read in between.
    at_change: Option<Reading>,
}

impl Haproxy {
    /// Remember `r`; a restart since the last reading is returned as a message.
    pub(super) fn remember(&self, r: &Reading) -> Option<String> {
        let mut m = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        let mut restart = None;
        if let Some(last) = &m.last {
            let pid_changed = last.pid.is_some() && r.pid.is_some() && last.pid != r.pid;
            let went_back = matches!((last.uptime, r.uptime), (Some(a), Some(b)) if b < a);
            if pid_changed || went_back {
                restart = Some(format!(
                    "HAProxy restarted (pid {} → {}); it came back with green at {}",
                    last.pid.as_deref().unwrap_or("?"),
                    r.pid.as_deref().unwrap_or("?"),
                    r.share
                        .map(|s| format!("{s}%"))
                        .unwrap_or_else(|| "an unreadable share".into())
                ));
                m.split = None;
                // The counters start again: what was served since the last change is gone.
                m.at_change = Some(r.clone());
            } else {
                m.split = Some(Split {
                    blue: r.sessions.0.saturating_sub(last.sessions.0),
                    green: r.sessions.1.saturating_sub(last.sessions.1),
                });
            }
        }
        m.last = Some(r.clone());
        restart
    }

    /// The traffic each pool took since the reading after the last change (none across a
    /// restart, whose counters start again); `r` becomes that reading.
    pub(super) fn since_last_change(&self, r: &Reading, restarted: bool) -> Option<Split> {
        let mut m = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        let split = m.at_change.as_ref().filter(|_| !restarted).map(|c| Split {
            blue: r.sessions.0.saturating_sub(c.sessions.0),
            green: r.sessions.1.saturating_sub(c.sessions.1),
        });
        m.at_change = Some(r.clone());
        split
    }

    /// What each pool took since the reading after the last change, to `r`; `None` before
    /// any change (of this console's).
    pub(super) fn served(&self, r: &Reading) -> Option<crate::engine::Served> {
        let m = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        m.at_change.as_ref().map(|c| crate::engine::Served {
            blue: r.sessions.0.saturating_sub(c.sessions.0),
            green: r.sessions.1.saturating_sub(c.sessions.1),
        })
    }

    /// The traffic each pool took between the last two readings.
    pub fn measured(&self) -> Option<Split> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner()).split
    }

    /// The sessions each pool took since HAProxy started, as last read.
    pub fn since_start(&self) -> Option<Split> {
        let m = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        m.last.as_ref().map(|r| Split {
            blue: r.sessions.0,
            green: r.sessions.1,
        })
    }
}
