//! Adaptive concurrency: halve the number of requests in flight when the server throttles, and
//! add one back after a run of successes (additive increase, multiplicative decrease).

use std::sync::Mutex;

use tokio::sync::Notify;

/// Successes needed before the limit grows by one.
const GROW_AFTER: usize = 8;

#[derive(Debug)]
struct State {
    limit: usize,
    in_flight: usize,
    successes: usize,
}

/// A gate that lets at most `limit` requests through at once; the limit adapts between 1 and `max`.
#[derive(Debug)]
pub struct Limiter {
    max: usize,
    state: Mutex<State>,
    freed: Notify,
}

impl Limiter {
    /// A gate that starts fully open at `max`.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            max,
            state: Mutex::new(State { limit: max, in_flight: 0, successes: 0 }),
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
        tracing::info!(limit = state.limit, "throttled: fewer requests at once");
    }

    /// A request went through: after enough of them, allow one more at once.
    pub fn succeeded(&self) {
        let grew = {
            let mut state = self.state();
            state.successes += 1;
            let grow = state.successes >= GROW_AFTER && state.limit < self.max;
            if grow {
                state.limit += 1;
                state.successes = 0;
            }
            grow
        };
        if grew {
            self.freed.notify_waiters();
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
        (0..GROW_AFTER * 3).for_each(|_| limiter.succeeded());
        assert_eq!(limiter.limit(), 7);
        (0..10).for_each(|_| limiter.throttled());
        assert_eq!(limiter.limit(), 1, "never below one");
        (0..GROW_AFTER * 100).for_each(|_| limiter.succeeded());
        assert_eq!(limiter.limit(), 16, "never above the maximum");
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
