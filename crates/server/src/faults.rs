//! Faults on demand: latency, 5xx answers, dropped connections, throttling, a daily quota and a
//! per-account request rate, decided per request (the request layer in `layer.rs` applies them).
//! Random choices come from a seeded generator, so a run is repeatable.

use std::collections::BTreeMap;
use std::time::Duration;

use http::{Method, StatusCode};
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::failure::Failure;

/// What to inject. All rates are fractions of requests, from 0 to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Added to every request.
    pub latency: Duration,
    /// Up to this much more, uniformly at random.
    pub jitter: Duration,
    /// Answered 500, 502 (an HTML page, as a proxy would) or 503.
    pub error_rate: f64,
    /// Cut off halfway through the response body (after the request took effect).
    pub drop_rate: f64,
    /// Answered 429 "Request was throttled" with `Retry-After`.
    pub throttle_rate: f64,
    /// The wait a throttle asks for.
    pub throttle_wait: Duration,
    /// Requests that change something (not GET) allowed per user per day; then a quota 429.
    pub daily_quota: Option<u64>,
    /// Requests per second allowed per user (bursts up to one second's worth); then a throttle 429.
    pub rate_limit: Option<f64>,
    /// After this many requests that change something (not GET), hold every further one:
    /// unanswered and not applied until the faults are set again, then answered 503 with no
    /// effect. Tests stop a client at a known point with it ([`crate::ServerHandle::until_held`]).
    pub hold_changes_after: Option<u64>,
    /// Every write to the database fails (with `--data`): tests check that the change is then
    /// not half applied.
    pub fail_saves: bool,
    /// Seed of the random choices.
    pub seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            error_rate: 0.0,
            drop_rate: 0.0,
            throttle_rate: 0.0,
            throttle_wait: Duration::from_secs(1),
            daily_quota: None,
            rate_limit: None,
            hold_changes_after: None,
            fail_saves: false,
            seed: 0,
        }
    }
}

/// A token bucket of one user.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: tokio::time::Instant,
}

/// The mutable side of fault injection.
#[derive(Debug)]
pub(crate) struct FaultState {
    rng: StdRng,
    quota: BTreeMap<String, (i64, u64)>,
    buckets: BTreeMap<Requester, Bucket>,
    /// Requests that change something, counted for `hold_changes_after`.
    changes: u64,
}

impl FaultState {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            quota: BTreeMap::new(),
            buckets: BTreeMap::new(),
            changes: 0,
        }
    }

    /// Reseeds the generator and forgets quotas and buckets (new fault settings).
    pub(crate) fn reset(&mut self, seed: u64) {
        *self = Self::new(seed);
    }
}

/// What happens to one request.
pub(crate) enum Decision {
    Pass,
    Fail(Failure),
    BadGateway,
    Drop,
    /// Held until the faults change, then answered 503 with no effect.
    Hold,
}

/// Whom a request counts against.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Requester {
    /// A verified account: its daily quota and its rate.
    Account(String),
    /// Anonymous requests, and credentials that do not check out: the client's address's rate.
    Address(String),
}

/// Counts one request of `who` against its daily quota (a change of an account) and its rate;
/// the failure when it is over either.
pub(crate) fn charge(
    state: &mut FaultState,
    faults: &Faults,
    who: &Requester,
    method: &Method,
) -> Result<(), Failure> {
    if let (Some(quota), Requester::Account(user), false) =
        (faults.daily_quota, who, method == Method::GET || method == Method::HEAD)
    {
        let day = crate::clock::now_micros() / 86_400_000_000;
        let used = state.quota.entry(user.clone()).or_insert((day, 0));
        if used.0 != day {
            *used = (day, 0);
        }
        if used.1 >= quota {
            return Err(Failure::Quota(quota));
        }
        used.1 += 1;
    }
    if let Some(rate) = faults.rate_limit {
        let now = tokio::time::Instant::now();
        let bucket =
            state.buckets.entry(who.clone()).or_insert(Bucket { tokens: rate.max(1.0), at: now });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(rate.max(1.0));
        bucket.at = now;
        if bucket.tokens < 1.0 {
            return Err(Failure::Throttled(Duration::from_secs_f64((1.0 - bucket.tokens) / rate)));
        }
        bucket.tokens -= 1.0;
    }
    Ok(())
}

/// Decides the fate of one request of `who`; `None`: a route that names its account itself
/// counts it against the limits ([`charge`]).
pub(crate) fn decide(
    state: &mut FaultState,
    faults: &Faults,
    who: Option<&Requester>,
    method: &Method,
) -> (Duration, Decision) {
    let mut delay = faults.latency;
    if !faults.jitter.is_zero() {
        delay += faults.jitter.mul_f64(state.rng.random::<f64>());
    }
    let is_change = method != Method::GET && method != Method::HEAD;
    if let (Some(after), true) = (faults.hold_changes_after, is_change) {
        state.changes += 1;
        if state.changes > after {
            return (delay, Decision::Hold);
        }
    }
    if let Some(Err(failure)) = who.map(|who| charge(state, faults, who, method)) {
        return (delay, Decision::Fail(failure));
    }
    let roll: f64 = state.rng.random();
    let decision = if roll < faults.throttle_rate {
        Decision::Fail(Failure::Throttled(faults.throttle_wait))
    } else if roll < faults.throttle_rate + faults.error_rate {
        match state.rng.random_range(0..3) {
            0 => Decision::Fail(Failure::Injected(
                StatusCode::INTERNAL_SERVER_ERROR,
                "A server error occurred.",
            )),
            1 => Decision::BadGateway,
            _ => Decision::Fail(Failure::Injected(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable, try again later.",
            )),
        }
    } else if roll < faults.throttle_rate + faults.error_rate + faults.drop_rate {
        Decision::Drop
    } else {
        Decision::Pass
    };
    (delay, decision)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(faults: &Faults, n: usize) -> Vec<&'static str> {
        let mut state = FaultState::new(faults.seed);
        (0..n)
            .map(|_| {
                match decide(
                    &mut state,
                    faults,
                    Some(&Requester::Account("u".to_owned())),
                    &Method::PATCH,
                )
                .1
                {
                    Decision::Pass => "pass",
                    Decision::Fail(Failure::Quota(_)) => "quota",
                    Decision::Fail(Failure::Throttled(_)) => "throttle",
                    Decision::Fail(_) | Decision::BadGateway => "error",
                    Decision::Drop => "drop",
                    Decision::Hold => "hold",
                }
            })
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let faults = Faults {
            error_rate: 0.2,
            drop_rate: 0.1,
            throttle_rate: 0.1,
            seed: 42,
            ..Faults::default()
        };
        let first = outcomes(&faults, 1000);
        assert_eq!(first, outcomes(&faults, 1000));
        let errors = first.iter().filter(|o| **o == "error").count();
        assert!((150..250).contains(&errors), "{errors} errors of 1000 at a rate of 0.2");
        assert!(first.contains(&"drop") && first.contains(&"throttle"));
    }

    #[test]
    fn changes_after_the_count_are_held_and_reads_pass() {
        let faults = Faults { hold_changes_after: Some(2), ..Faults::default() };
        assert_eq!(outcomes(&faults, 4), ["pass", "pass", "hold", "hold"]);
        let mut state = FaultState::new(0);
        let read =
            decide(&mut state, &faults, Some(&Requester::Account("u".to_owned())), &Method::GET);
        assert!(matches!(read.1, Decision::Pass));
    }

    #[test]
    fn the_quota_stops_changes_but_not_reads() {
        let faults = Faults { daily_quota: Some(3), ..Faults::default() };
        assert_eq!(outcomes(&faults, 5), ["pass", "pass", "pass", "quota", "quota"]);
        let mut state = FaultState::new(0);
        for _ in 0..5 {
            assert!(matches!(
                decide(
                    &mut state,
                    &faults,
                    Some(&Requester::Account("u".to_owned())),
                    &Method::GET
                )
                .1,
                Decision::Pass
            ));
        }
    }
}
