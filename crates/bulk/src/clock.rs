//! Injected time: the engine asks a [`Clock`] for the time and for sleeps.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chart_studio_api::{BoxFuture, Sleeper};

/// A monotonic clock that can sleep (its [`Sleeper`] side also serves a retrying client).
pub trait Clock: Sleeper {
    /// Time since an arbitrary fixed start.
    fn now(&self) -> Duration;
}

/// Real time, through tokio.
#[derive(Debug, Clone)]
pub struct TokioClock {
    start: tokio::time::Instant,
}

impl Default for TokioClock {
    fn default() -> Self {
        Self { start: tokio::time::Instant::now() }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

impl Sleeper for TokioClock {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Virtual time for tests: a sleep returns at once and moves the clock forward.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// Moves time forward.
    pub fn advance(&self, duration: Duration) {
        self.nanos
            .fetch_add(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    /// The total time slept so far.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        self.elapsed()
    }
}

impl Sleeper for ManualClock {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.advance(duration);
        Box::pin(std::future::ready(()))
    }
}
