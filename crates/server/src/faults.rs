//! The layer around every route: it tells who is asking, injects faults on demand (latency, 5xx
//! answers, dropped connections, throttling, a daily quota and a per-account request rate) and
//! logs one line per request. Random choices come from a seeded generator, so a run is
//! repeatable.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{Method, StatusCode, header};
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::failure::Failure;
use crate::state::Shared;

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
}

impl FaultState {
    pub(crate) fn new(seed: u64) -> Self {
        Self { rng: StdRng::seed_from_u64(seed), quota: BTreeMap::new(), buckets: BTreeMap::new() }
    }

    /// Reseeds the generator and forgets quotas and buckets (new fault settings).
    pub(crate) fn reset(&mut self, seed: u64) {
        *self = Self::new(seed);
    }
}

/// What happens to one request.
enum Decision {
    Pass,
    Fail(Failure),
    BadGateway,
    Drop,
}

/// Whom a request counts against.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Requester {
    /// A verified account: its daily quota and its rate.
    Account(String),
    /// Anonymous requests, and credentials that do not check out: the client's address's rate.
    Address(String),
}

/// Decides the fate of one request of `who`.
fn decide(
    state: &mut FaultState,
    faults: &Faults,
    who: &Requester,
    method: &Method,
) -> (Duration, Decision) {
    let mut delay = faults.latency;
    if !faults.jitter.is_zero() {
        delay += faults.jitter.mul_f64(state.rng.random::<f64>());
    }
    if let (Some(quota), Requester::Account(user), false) =
        (faults.daily_quota, who, method == Method::GET || method == Method::HEAD)
    {
        let day = crate::clock::now_micros() / 86_400_000_000;
        let used = state.quota.entry(user.clone()).or_insert((day, 0));
        if used.0 != day {
            *used = (day, 0);
        }
        if used.1 >= quota {
            return (delay, Decision::Fail(Failure::Quota(quota)));
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
            let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / rate);
            return (delay, Decision::Fail(Failure::Throttled(wait)));
        }
        bucket.tokens -= 1.0;
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

/// The layer around every route: faults, then the route, then the change written to the
/// database (with `--data`) before the answer goes out, then one log line (method, path without
/// its query, status, time, account; never a key or a share key).
pub(crate) async fn middleware(
    State(app): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let started = tokio::time::Instant::now();
    let faults = app.faults();
    let who = match crate::auth::identify(&app, request.headers()) {
        Ok(crate::auth::Viewer::User(name)) => Requester::Account(name),
        _ => Requester::Address(
            request
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip().to_string())
                .unwrap_or_default(),
        ),
    };
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let (delay, decision) = {
        let mut state = app.fault_state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        decide(&mut state, &faults, &who, request.method())
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut response = match decision {
        Decision::Pass => next.run(request).await,
        Decision::Fail(failure) => failure.into_response(),
        Decision::BadGateway => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
        )
            .into_response(),
        Decision::Drop => cut_off(next.run(request).await).await,
    };
    if let Err(err) = app.persist() {
        tracing::error!(error = %format!("{err:#}"), "could not save a change");
        response = Failure::Injected(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The change could not be saved; try again.",
        )
        .into_response();
    }
    let user = match &who {
        Requester::Account(name) => name.as_str(),
        Requester::Address(_) => "-",
    };
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        user,
        "request"
    );
    response
}

/// Sends the status, headers and half the body, then breaks the connection.
async fn cut_off(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.insert(header::CONTENT_LENGTH, bytes.len().max(1).into());
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "fault injection: connection dropped",
        )),
    ];
    Response::from_parts(parts, Body::from_stream(futures_util::stream::iter(chunks)))
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
                    &Requester::Account("u".to_owned()),
                    &Method::PATCH,
                )
                .1
                {
                    Decision::Pass => "pass",
                    Decision::Fail(Failure::Quota(_)) => "quota",
                    Decision::Fail(Failure::Throttled(_)) => "throttle",
                    Decision::Fail(_) | Decision::BadGateway => "error",
                    Decision::Drop => "drop",
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
    fn the_quota_stops_changes_but_not_reads() {
        let faults = Faults { daily_quota: Some(3), ..Faults::default() };
        assert_eq!(outcomes(&faults, 5), ["pass", "pass", "pass", "quota", "quota"]);
        let mut state = FaultState::new(0);
        for _ in 0..5 {
            assert!(matches!(
                decide(&mut state, &faults, &Requester::Account("u".to_owned()), &Method::GET).1,
                Decision::Pass
            ));
        }
    }
}
