//! The source clock: real time, or simulated time running `speed` times faster. The engine
//! never reads a clock; the app stamps events with this one. It runs on tokio's clock, so a
//! test that pauses tokio's time (`tokio::time::pause`) drives it: hours of bake pass in an
//! instant, and nothing depends on how fast the machine is.

use crate::engine::Time;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Time,
    started: Instant,
    speed: f64,
}

impl Clock {
    /// A clock that reads `origin` now and runs `speed` times real time.
    pub fn new(origin: Time, speed: f64) -> Self {
        Clock {
            origin,
            started: Instant::now(),
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }
    pub fn real() -> Self {
        Clock::new(chrono::Utc::now(), 1.0)
    }
    pub fn speed(&self) -> f64 {
        self.speed
    }
    pub fn now(&self) -> Time {
        let real = self.started.elapsed().as_secs_f64() * self.speed;
        self.origin + chrono::Duration::milliseconds((real * 1000.0) as i64)
    }
    /// The real time until `d` of this clock's time has passed.
    pub fn real_for(&self, d: std::time::Duration) -> std::time::Duration {
        d.div_f64(self.speed)
    }
}
