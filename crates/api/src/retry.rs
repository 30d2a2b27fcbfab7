//! The one retry policy of every client: which failures are retried, and how long to wait.
//! Pure decisions; the waiting itself goes through an injected [`Sleeper`].

use std::fmt::Debug;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::{BoxFuture, Error};

/// Waits, for whoever retries: real time in programs, virtual time in tests.
pub trait Sleeper: Send + Sync + Debug {
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// What to do after a failed try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Try again: the failure is passing and the request is safe to repeat.
    Retry {
        /// The server said the request was throttled (it was not processed).
        throttled: bool,
    },
    /// The daily quota is used up: retrying will not help for hours.
    Quota,
    /// Give up: the failure is final, or repeating the request could do it twice.
    GiveUp,
}

/// How requests are retried: 5xx answers, throttles, timeouts and dropped connections, with
/// exponential backoff and jitter, honouring the server's wait (clamped to `max_delay`), at
/// most `max_retries` times. A daily quota is never retried. A request that is not idempotent
/// (a create) is retried only when it provably did not reach the server: a throttle (a 429 is
/// not processed) or a connection that could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first try.
    pub max_retries: usize,
    /// The first backoff delay.
    pub min_delay: Duration,
    /// The longest single wait.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Eight retries from 200 ms, no wait over a minute.
    fn default() -> Self {
        Self {
            max_retries: 8,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub const NONE: Self =
        Self { max_retries: 0, min_delay: Duration::ZERO, max_delay: Duration::ZERO };

    /// What to do after `err`, for a request that is `idempotent` or not.
    pub fn verdict(err: &Error, idempotent: bool) -> Verdict {
        if err.as_api().is_some_and(crate::ApiError::is_quota) {
            return Verdict::Quota;
        }
        let throttled = err.as_api().is_some_and(crate::ApiError::is_throttle);
        let not_sent = matches!(err, Error::Transport(t) if t.is_connect());
        if throttled || not_sent || (idempotent && err.is_retryable()) {
            Verdict::Retry { throttled }
        } else {
            Verdict::GiveUp
        }
    }

    /// The backoff delays, one per retry, with jitter.
    pub fn delays(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay.max(self.min_delay))
            .with_jitter()
            .with_max_times(self.max_retries)
            .build()
    }

    /// The wait before the next try: the server's, when it named one (at most `max_delay`),
    /// else the backoff `delay`.
    pub fn wait(&self, err: &Error, delay: Duration) -> Duration {
        err.retry_after().map_or(delay, |asked| asked.min(self.max_delay))
    }
}
