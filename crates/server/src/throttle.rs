//! Failed credentials, counted per client address. Each address has a bucket of tries that
//! refills slowly; one that has used them up is refused (429) without its credentials being
//! checked until the bucket refills, so keys cannot be guessed faster than the refill. The API
//! and the sign-in form share the buckets.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Failed tries an address may make in a burst.
const BURST: f64 = 20.0;
/// Tries given back per second: ten a minute.
const REFILL_PER_SECOND: f64 = 1.0 / 6.0;
/// Addresses tracked before full buckets are forgotten.
const TRACKED: usize = 10_000;

/// One address's tries left, as of `at`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tries: f64,
    at: Instant,
}

impl Bucket {
    fn refilled(self, now: Instant) -> f64 {
        let refill = now.saturating_duration_since(self.at).as_secs_f64() * REFILL_PER_SECOND;
        (self.tries + refill).min(BURST)
    }
}

/// The failed tries of every address.
#[derive(Debug, Default)]
pub(crate) struct FailedKeys {
    buckets: Mutex<BTreeMap<IpAddr, Bucket>>,
}

impl FailedKeys {
    /// How long `ip` must wait before its credentials are checked again, if it must.
    pub(crate) fn wait(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let tries = buckets.get(&ip)?.refilled(now);
        (tries < 1.0).then(|| Duration::from_secs_f64((1.0 - tries) / REFILL_PER_SECOND))
    }

    /// Counts a failed try of `ip`.
    pub(crate) fn failed(&self, ip: IpAddr, now: Instant) {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= TRACKED {
            buckets.retain(|_, bucket| bucket.refilled(now) < BURST);
        }
        let bucket = buckets.entry(ip).or_insert(Bucket { tries: BURST, at: now });
        *bucket = Bucket { tries: (bucket.refilled(now) - 1.0).max(0.0), at: now };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_that_used_its_tries_waits_for_the_refill() {
        let keys = FailedKeys::default();
        let (ip, other): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let start = Instant::now();
        for _ in 0..20 {
            assert_eq!(keys.wait(ip, start), None);
            keys.failed(ip, start);
        }
        let wait = keys.wait(ip, start).unwrap();
        assert_eq!(wait.as_secs(), 6, "one try comes back every six seconds");
        assert_eq!(keys.wait(other, start), None, "other addresses are not held up");
        assert_eq!(keys.wait(ip, start + wait), None);
        keys.failed(ip, start + wait);
        assert!(keys.wait(ip, start + wait).is_some(), "and is used up again at once");
        assert_eq!(keys.wait(ip, start + Duration::from_secs(3600)), None);
    }
}
