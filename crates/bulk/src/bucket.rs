//! A token bucket: a pure state machine that is told the time.

use std::time::Duration;

/// Allows `rate` events per second on average, in bursts of up to `burst`.
///
/// It is told the time, so it never sleeps itself:
///
/// ```
/// use std::time::Duration;
/// use chart_studio_bulk::TokenBucket;
///
/// let mut bucket = TokenBucket::new(2.0, 2.0);
/// let start = Duration::ZERO;
/// assert!(bucket.try_acquire(start).is_ok() && bucket.try_acquire(start).is_ok(), "a burst of 2");
/// let wait = bucket.try_acquire(start).unwrap_err();
/// assert_eq!(wait, Duration::from_millis(500), "then one every half second");
/// assert!(bucket.try_acquire(start + wait).is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Duration,
}

impl TokenBucket {
    /// A full bucket. A rate that is not a finite number above [`TokenBucket::MIN_RATE`] is
    /// taken as that minimum (callers validate it first; this keeps the arithmetic sound).
    pub fn new(rate: f64, burst: f64) -> Self {
        let burst = if burst.is_finite() { burst.max(1.0) } else { 1.0 };
        let rate = if rate.is_finite() { rate.max(Self::MIN_RATE) } else { Self::MIN_RATE };
        Self { rate, burst, tokens: burst, last: Duration::ZERO }
    }

    /// Events per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Changes the rate, keeping the tokens there are.
    pub fn set_rate(&mut self, rate: f64) {
        self.rate = if rate.is_finite() { rate.max(Self::MIN_RATE) } else { Self::MIN_RATE };
    }

    /// The slowest rate: one event an hour.
    pub const MIN_RATE: f64 = 1.0 / 3600.0;

    /// Takes a token at `now`, or says how long until one is available.
    pub fn try_acquire(&mut self, now: Duration) -> Result<(), Duration> {
        let elapsed = now.saturating_sub(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = self.last.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_paces() {
        let mut bucket = TokenBucket::new(10.0, 3.0);
        let t0 = Duration::ZERO;
        assert!((0..3).all(|_| bucket.try_acquire(t0).is_ok()));
        let wait = bucket.try_acquire(t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-9, "{wait:?}");
        assert!(bucket.try_acquire(Duration::from_millis(100)).is_ok());
        assert!(bucket.try_acquire(Duration::from_millis(100)).is_err());
        assert!(bucket.try_acquire(Duration::from_secs(10)).is_ok(), "refills");
        assert!((0..2).all(|_| bucket.try_acquire(Duration::from_secs(10)).is_ok()));
        assert!(bucket.try_acquire(Duration::from_secs(10)).is_err(), "but never above the burst");
    }

    proptest::proptest! {
        #[test]
        fn any_rate_and_time_give_a_bounded_wait(
            rate in proptest::num::f64::ANY,
            burst in proptest::num::f64::ANY,
            nows in proptest::collection::vec(0u64..u64::MAX, 1..20),
        ) {
            let mut bucket = TokenBucket::new(rate, burst);
            for now in nows {
                if let Err(wait) = bucket.try_acquire(Duration::from_nanos(now)) {
                    proptest::prop_assert!(wait <= Duration::from_secs(3600));
                }
            }
        }
    }
}
