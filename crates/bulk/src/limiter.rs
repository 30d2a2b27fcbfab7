//! Adaptive concurrency. A fixed limit (`--jobs N`) starts fully open, halves when the server
//! throttles and adds one back after a run of successes (additive increase, multiplicative
//! decrease). An automatic one (`--jobs auto`) starts small and doubles each round of successes
//! while answers come as fast as the fastest seen (slow start), then grows by one per round; it
//! shrinks by a quarter when answers take twice as long as the fastest, and halves on a throttle.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

/// Successes needed before a fixed limit grows by one.
const GROW_AFTER: usize = 8;
/// Where an automatic limit starts.
pub(crate) const AUTO_START: usize = 4;
/// How much slower than the fastest answer an answer may be before an automatic limit shrinks.
const SLOWER: f64 = 2.0;

#[derive(Debug)]
struct State {
    limit: usize,
    in_flight: usize,
    successes: usize,
    /// For an automatic limit: still doubling.
    slow_start: bool,
    /// For an automatic limit: the fastest answer seen, and a moving average of recent ones.
    fastest: Option<Duration>,
    recent: Option<f64>,
}

/// A gate that lets at most `limit` requests through at once; the limit adapts between 1 and `max`.
#[derive(Debug)]
pub struct Limiter {
    max: usize,
    auto: bool,
    state: Mutex<State>,
    freed: Notify,
}

impl Limiter {
    /// A fixed limit: a gate that starts fully open at `max`.
    pub fn new(max: usize) -> Self {
        Self::with(max, false)
    }

    /// An automatic limit: starts at 4 and finds its level, up to `max`.
    pub fn auto(max: usize) -> Self {
        Self::with(max, true)
    }

    fn with(max: usize, auto: bool) -> Self {
        let max = max.max(1);
        let limit = if auto { AUTO_START.min(max) } else { max };
        Self {
            max,
            auto,
            state: Mutex::new(State {
                limit,
                in_flight: 0,
                successes: 0,
                slow_start: auto,
                fastest: None,
                recent: None,
            }),
            freed: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for a place.
    pub async fn acquire(&self) {
        loop {
            let notified = self.freed.notified();
            {
                let mut state = self.state();
                if state.in_flight < state.limit {
                    state.in_flight += 1;
                    return;
                }
            }
            notified.await;
        }
    }

    /// Gives a place back.
    pub fn release(&self) {
        self.state().in_flight -= 1;
        self.freed.notify_waiters();
    }

    /// The server throttled: halve the limit.
    pub fn throttled(&self) {
        let mut state = self.state();
        state.limit = (state.limit / 2).max(1);
        state.successes = 0;
        state.slow_start = false;
        tracing::info!(limit = state.limit, "throttled: fewer requests at once");
    }

    /// A request went through in `latency`: after enough of them, allow more at once (or, for
    /// an automatic limit whose answers slow down, fewer).
    pub fn succeeded(&self, latency: Duration) {
        let grew = {
            let mut state = self.state();
            state.successes += 1;
            let before = state.limit;
            if self.auto {
                self.adapt(&mut state, latency);
            } else if state.successes >= GROW_AFTER && state.limit < self.max {
                state.limit += 1;
                state.successes = 0;
            }
            state.limit > before
        };
        if grew {
            self.freed.notify_waiters();
        }
    }

    /// The automatic limit's rule, after one success.
    fn adapt(&self, state: &mut State, latency: Duration) {
        let seconds = latency.as_secs_f64();
        let fastest = state.fastest.map_or(latency, |fastest| fastest.min(latency));
        state.fastest = Some(fastest);
        let recent = state.recent.map_or(seconds, |recent| 0.8 * recent + 0.2 * seconds);
        state.recent = Some(recent);
        if state.successes < state.limit {
            return;
        }
        // One round of answers at this limit: decide.
        state.successes = 0;
        if recent > SLOWER * fastest.as_secs_f64().max(1e-3) {
            state.limit = (state.limit * 3 / 4).max(1);
            state.slow_start = false;
            tracing::debug!(limit = state.limit, "answers slow down: fewer requests at once");
        } else if state.slow_start {
            state.limit = (state.limit * 2).min(self.max);
        } else {
            state.limit = (state.limit + 1).min(self.max);
        }
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.state().limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_on_throttle_and_grows_back() {
        let limiter = Limiter::new(16);
        limiter.throttled();
        limiter.throttled();
        assert_eq!(limiter.limit(), 4);
        let ms = Duration::from_millis;
        (0..GROW_AFTER * 3).for_each(|_| limiter.succeeded(ms(20)));
        assert_eq!(limiter.limit(), 7);
        (0..10).for_each(|_| limiter.throttled());
        assert_eq!(limiter.limit(), 1, "never below one");
        (0..GROW_AFTER * 100).for_each(|_| limiter.succeeded(ms(20)));
        assert_eq!(limiter.limit(), 16, "never above the maximum");
    }

    #[test]
    fn an_automatic_limit_doubles_while_answers_hold_then_backs_off() {
        let ms = Duration::from_millis;
        let limiter = Limiter::auto(64);
        assert_eq!(limiter.limit(), AUTO_START);
        let round = |limiter: &Limiter, latency| {
            (0..limiter.limit()).for_each(|_| limiter.succeeded(latency));
        };
        round(&limiter, ms(20));
        round(&limiter, ms(20));
        assert_eq!(limiter.limit(), 16, "slow start doubles each round");
        (0..5).for_each(|_| round(&limiter, ms(80)));
        assert!(limiter.limit() < 16, "slower answers shrink it: {}", limiter.limit());
        let shrunk = limiter.limit();
        (0..40).for_each(|_| round(&limiter, ms(20)));
        assert!(limiter.limit() > shrunk && limiter.limit() <= 64, "{}", limiter.limit());
        limiter.throttled();
        let halved = limiter.limit();
        round(&limiter, ms(20));
        assert_eq!(limiter.limit(), halved + 1, "after a throttle it grows by one a round");
        (0..200).for_each(|_| round(&limiter, ms(20)));
        assert_eq!(limiter.limit(), 64, "never above the maximum");
    }

    #[tokio::test]
    async fn lets_limit_through() {
        let limiter = std::sync::Arc::new(Limiter::new(2));
        limiter.acquire().await;
        limiter.acquire().await;
        let waiter = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire().await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        limiter.release();
        waiter.await.unwrap();
    }
}
