//! A token bucket: a pure state machine that is told the time.

use std::time::Duration;

/// Allows `rate` events per second on average, in bursts of up to `burst`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Duration,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64) -> Self {
        let burst = burst.max(1.0);
        Self { rate: rate.max(f64::MIN_POSITIVE), burst, tokens: burst, last: Duration::ZERO }
    }

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
}
