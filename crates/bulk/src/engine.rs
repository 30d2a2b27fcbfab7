//! The engine: sends endpoints with bounded, adaptive concurrency, a token-bucket rate and
//! retries with exponential backoff and jitter that honour the server's requested waits; a daily
//! quota stops everything at once.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chart_studio_api::{
    ApiError, Client, Endpoint, Error, Page, Paginated, RetryPolicy, Verdict, page_stream,
};
use futures_util::{Stream, TryStreamExt, stream};

use crate::{Clock, Limiter, TokenBucket};

/// How the engine sends.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Requests in flight at most (the limit drops while the server throttles).
    pub jobs: usize,
    /// Find the number of requests in flight (up to `jobs`) and, once the server throttles,
    /// the pace it allows (see [`Limiter::auto`]).
    pub auto: bool,
    /// Requests per second at most, if limited.
    pub rate: Option<f64>,
    /// How failed requests are retried.
    pub retry: RetryPolicy,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { jobs: 8, auto: false, rate: None, retry: RetryPolicy::default() }
    }
}

/// Why a request did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The account's daily quota is used up: the run stops, and can be resumed later.
    #[error("the daily quota is used up ({0}); resume the run later")]
    Quota(String),
    /// Not sent, because the run stopped (see [`Engine::stopped`]).
    #[error("not sent: the run stopped")]
    Stopped,
    /// The request failed (after any retries).
    #[error(transparent)]
    Request(#[from] Error),
    /// Something local failed (a backup, an export file).
    #[error("{0}")]
    Local(String),
}

/// Whether the server said the file is not there.
pub fn is_not_found(err: &Error) -> bool {
    err.status() == Some(http::StatusCode::NOT_FOUND)
}

/// Why a run stopped before its end. Operations not started get no outcome, so a resumed run
/// does them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
#[non_exhaustive]
pub enum Stop {
    /// The account's daily quota is used up.
    Quota,
    /// The user interrupted the run (Ctrl-C).
    Interrupted,
    /// An outcome could not be written to the journal, so nothing more may be done.
    Journal(String),
}

/// Hears about progress, to show it.
pub trait Progress: Send + Sync {
    /// `total` operations are about to run.
    fn start(&self, total: u64);
    /// One operation finished.
    fn advance(&self, label: &str);
    /// The run is over.
    fn finish(&self);
}

/// Progress that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct SilentProgress;

impl Progress for SilentProgress {
    fn start(&self, _total: u64) {}
    fn advance(&self, _label: &str) {}
    fn finish(&self) {}
}

/// Sends requests for a bulk run.
///
/// A throttle is waited out as the server asks, on the engine's clock (here a manual one, so
/// nothing really sleeps):
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use chart_studio_api::test_util::{Exchange, RecordedRequest, RecordedResponse, ReplayTransport};
/// use chart_studio_api::{Client, Config, users};
/// use chart_studio_bulk::{Engine, EngineConfig, ManualClock};
/// use serde_json::json;
///
/// let ask = || RecordedRequest { method: "GET".into(), path: "/v2/users/current".into(), ..Default::default() };
/// let throttled = json!({"errors": [{"message": "Request was throttled. Expected available in 3.0 seconds."}]});
/// let replay = Arc::new(ReplayTransport::new([
///     Exchange { request: ask(), response: RecordedResponse::json(429, throttled) },
///     Exchange { request: ask(), response: RecordedResponse::json(200, json!({"username": "alice"})) },
/// ]));
/// let client = Client::new(Arc::clone(&replay), Config::new("https://api.example.com", None, false)?);
/// let clock = ManualClock::default();
/// let engine = Engine::new(client, Arc::new(clock.clone()), EngineConfig::default());
///
/// let me = engine.send(&users::Current {}).await?;
/// assert_eq!(me.username, "alice");
/// assert!(clock.elapsed() >= Duration::from_secs(3), "waited as the server asked");
/// assert_eq!(engine.requests_sent(), 2);
/// replay.verify()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Engine {
    client: Client,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    limiter: Limiter,
    bucket: Mutex<Option<TokenBucket>>,
    pacer: Mutex<Pacer>,
    stop: Mutex<Option<Stop>>,
    sent: AtomicU64,
}

/// How long the window is in which [`Pacer`] counts what the server let through.
const PACE_WINDOW: Duration = Duration::from_secs(1);

/// For `--jobs auto`: the pace a throttling server allows, learned from what it let through.
/// The first throttle sets the pace to the answers of the last second; each further throttle
/// lowers it by 15% (throttles within half a second of a change count once), and each second
/// without one raises it by 5%.
#[derive(Debug, Default)]
struct Pacer {
    answered: VecDeque<Duration>,
    bucket: Option<TokenBucket>,
    changed_at: Duration,
}

impl Pacer {
    fn answered(&mut self, now: Duration) {
        self.answered.push_back(now);
        self.forget_before(now);
    }

    /// Keeps only the answers of the window that ends `now`.
    fn forget_before(&mut self, now: Duration) {
        while self.answered.front().is_some_and(|at| now.saturating_sub(*at) > PACE_WINDOW) {
            self.answered.pop_front();
        }
    }

    fn throttled(&mut self, now: Duration) {
        self.forget_before(now);
        let rate = match &self.bucket {
            // Throttles of requests sent together count once, as one signal.
            Some(_) if now.saturating_sub(self.changed_at) < PACE_WINDOW / 2 => return,
            Some(bucket) => bucket.rate() * 0.85,
            None => self.answered.len() as f64,
        }
        .max(1.0);
        tracing::info!(rate, "throttled: pacing requests");
        self.bucket = Some(TokenBucket::new(rate, (rate / 10.0).max(1.0)));
        self.changed_at = now;
    }

    /// Waits needed before the next request, raising the pace after a quiet second.
    fn wait(&mut self, now: Duration) -> Option<Duration> {
        let bucket = self.bucket.as_mut()?;
        if now.saturating_sub(self.changed_at) >= PACE_WINDOW {
            bucket.set_rate(bucket.rate() * 1.05);
            self.changed_at = now;
        }
        bucket.try_acquire(now).err()
    }
}

impl Engine {
    /// An engine sending through `client`, sleeping on `clock`.
    pub fn new(client: Client, clock: Arc<dyn Clock>, config: EngineConfig) -> Self {
        let bucket = config.rate.map(|rate| TokenBucket::new(rate, rate.max(1.0)));
        Self {
            client,
            clock,
            limiter: if config.auto {
                Limiter::auto(config.jobs)
            } else {
                Limiter::new(config.jobs)
            },
            pacer: Mutex::new(Pacer::default()),
            config,
            bucket: Mutex::new(bucket),
            stop: Mutex::new(None),
            sent: AtomicU64::new(0),
        }
    }

    /// The client requests go through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// How many operations run at once.
    pub fn jobs(&self) -> usize {
        self.config.jobs.max(1)
    }

    /// Stops the run: requests in flight finish, no new one is sent. The first reason stays.
    pub fn stop(&self, why: Stop) {
        self.stop.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_or_insert(why);
    }

    /// Why the run stopped, if it did.
    pub fn stopped(&self) -> Option<Stop> {
        self.stop.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Whether the run stopped.
    pub fn is_stopped(&self) -> bool {
        self.stopped().is_some()
    }

    /// Requests sent so far (tries included).
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// Sends `endpoint`, retrying as the [`RetryPolicy`] says, with the engine's concurrency
    /// and rate. A throttle halves the requests in flight; a daily quota stops the run.
    pub async fn send<E: Endpoint>(&self, endpoint: &E) -> Result<E::Output, Failure> {
        let mut delays = self.config.retry.delays();
        loop {
            if self.is_stopped() {
                return Err(Failure::Stopped);
            }
            self.limiter.acquire().await;
            self.pace().await;
            self.sent.fetch_add(1, Ordering::SeqCst);
            let started = self.clock.now();
            let result = self.client.send_once(endpoint).await;
            self.limiter.release();
            let err = match result {
                Ok(output) => {
                    let now = self.clock.now();
                    self.limiter.succeeded(now.saturating_sub(started));
                    if self.config.auto {
                        self.pacer().answered(now);
                    }
                    return Ok(output);
                }
                Err(err) => err,
            };
            match RetryPolicy::verdict(&err, endpoint.idempotent()) {
                Verdict::Quota => {
                    self.stop(Stop::Quota);
                    let message = err.as_api().map(ApiError::message).unwrap_or_default();
                    return Err(Failure::Quota(message));
                }
                Verdict::GiveUp => return Err(err.into()),
                Verdict::Retry { throttled } => {
                    if throttled {
                        self.limiter.throttled();
                        if self.config.auto {
                            self.pacer().throttled(self.clock.now());
                        }
                    }
                    let Some(delay) = delays.next() else { return Err(err.into()) };
                    let wait = self.config.retry.wait(&err, delay);
                    tracing::debug!(error = %err, ?wait, "retrying");
                    self.clock.sleep(wait).await;
                }
            }
        }
    }

    /// Every item of every page of `first`, each page fetched with [`Engine::send`]'s retries.
    pub fn items<E: Paginated>(
        &self,
        first: E,
    ) -> impl Stream<Item = Result<<E::Output as Page>::Item, Failure>> + '_ {
        let config = Arc::new(self.client.config().clone());
        page_stream(first, config, move |request| async move {
            let page = self.send(&request).await?;
            Ok::<_, Failure>((request, page))
        })
        .map_ok(|page| stream::iter(page.into_items().into_iter().map(Ok)))
        .try_flatten()
    }

    /// Waits for the rate limit.
    async fn pace(&self) {
        loop {
            let wait = {
                let mut bucket =
                    self.bucket.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match bucket.as_mut() {
                    Some(bucket) => bucket.try_acquire(self.clock.now()).err(),
                    None => self.pacer().wait(self.clock.now()),
                }
            };
            match wait {
                Some(wait) => self.clock.sleep(wait).await,
                None => return,
            }
        }
    }

    fn pacer(&self) -> std::sync::MutexGuard<'_, Pacer> {
        self.pacer.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_learns_the_pace_a_throttling_server_allows() {
        let ms = Duration::from_millis;
        let mut pacer = Pacer::default();
        assert_eq!(pacer.wait(ms(0)), None, "no pace before a throttle");
        (0..=120).for_each(|i| pacer.answered(ms(i * 10)));
        pacer.throttled(ms(1400));
        let rate = pacer.bucket.as_ref().unwrap().rate();
        assert_eq!(rate, 81.0, "the answers of the last second (400 ms to 1.2 s)");
        let waits = (0..20).filter(|_| pacer.wait(ms(1400)).is_some()).count();
        assert!(waits > 0, "a burst beyond a tenth of a second's worth waits");
        pacer.throttled(ms(1500));
        assert_eq!(pacer.bucket.as_ref().unwrap().rate(), rate, "too soon after the last change");
        pacer.throttled(ms(2000));
        let lower = pacer.bucket.as_ref().unwrap().rate();
        assert!((lower - rate * 0.85).abs() < 1e-9);
        pacer.wait(ms(3100));
        assert!(
            (pacer.bucket.as_ref().unwrap().rate() - lower * 1.05).abs() < 1e-9,
            "a quiet second raises it"
        );
    }
    use crate::ManualClock;
    use chart_studio_api::test_util::{
        Exchange, RecordedRequest, RecordedResponse, ReplayTransport,
    };
    use chart_studio_api::{Config, files, users};
    use serde_json::json;
    use std::time::Duration;

    fn exchange(method: &str, path: &str, response: RecordedResponse) -> Exchange {
        Exchange {
            request: RecordedRequest {
                method: method.to_owned(),
                path: path.to_owned(),
                ..Default::default()
            },
            response,
        }
    }

    fn user() -> RecordedResponse {
        RecordedResponse::json(200, json!({"username": "a"}))
    }

    fn error(status: u16, message: &str) -> RecordedResponse {
        RecordedResponse::json(status, json!({"errors": [{"message": message}]}))
    }

    fn engine(replay: &Arc<ReplayTransport>, clock: &ManualClock, config: EngineConfig) -> Engine {
        let client = Client::new(
            Arc::clone(replay),
            Config::new("https://api.example.com", None, false).unwrap(),
        );
        Engine::new(client, Arc::new(clock.clone()), config)
    }

    #[tokio::test]
    async fn retries_5xx_and_honours_the_servers_wait() {
        let replay = Arc::new(ReplayTransport::new([
            exchange("GET", "/v2/users/current", error(503, "down")),
            exchange(
                "GET",
                "/v2/users/current",
                error(429, "Request was throttled. Expected available in 7.0 seconds."),
            ),
            exchange("GET", "/v2/users/current", user()),
        ]));
        let clock = ManualClock::default();
        let engine = engine(&replay, &clock, EngineConfig::default());
        engine.send(&users::Current {}).await.unwrap();
        replay.verify().unwrap();
        assert!(clock.elapsed() >= Duration::from_secs(7), "waited {:?}", clock.elapsed());
        assert!(
            clock.elapsed() < Duration::from_secs(9),
            "no real sleep, no extra wait: {:?}",
            clock.elapsed()
        );
        assert_eq!(engine.requests_sent(), 3);
    }

    #[tokio::test]
    async fn the_quota_stops_at_once() {
        let replay = Arc::new(ReplayTransport::new([exchange(
            "GET",
            "/v2/users/current",
            error(
                429,
                "Hi there, you've reached the threshold of 100 combined image exports and chart saves per 24h period.",
            ),
        )]));
        let clock = ManualClock::default();
        let engine = engine(&replay, &clock, EngineConfig::default());
        assert!(matches!(engine.send(&users::Current {}).await, Err(Failure::Quota(_))));
        assert!(
            matches!(engine.send(&users::Current {}).await, Err(Failure::Stopped)),
            "nothing more is sent"
        );
        replay.verify().unwrap();
        assert_eq!(clock.elapsed(), Duration::ZERO);
    }

    #[tokio::test]
    async fn creates_are_not_retried_after_a_server_error_but_are_after_a_throttle() {
        let create = || chart_studio_api::folders::Create::new("f");
        let post = |response| {
            let mut exchange = exchange("POST", "/v2/folders", response);
            exchange.request.body = Some(json!({"path": "f"}));
            exchange
        };
        let replay = Arc::new(ReplayTransport::new([post(error(500, "boom"))]));
        let clock = ManualClock::default();
        assert!(engine(&replay, &clock, EngineConfig::default()).send(&create()).await.is_err());
        replay.verify().unwrap();

        let created = RecordedResponse::json(
            201,
            json!({"file": {"fid": "a:1", "filename": "f", "filetype": "fold"}}),
        );
        let replay = Arc::new(ReplayTransport::new([
            post(error(429, "Request was throttled. Expected available in 1.0 seconds.")),
            post(created),
        ]));
        engine(&replay, &clock, EngineConfig::default()).send(&create()).await.unwrap();
        replay.verify().unwrap();
    }

    #[tokio::test]
    async fn gives_up_after_the_retry_budget() {
        let replay = Arc::new(ReplayTransport::new(
            (0..3).map(|_| exchange("POST", "/v2/files/a:1/trash", error(502, "bad gateway"))),
        ));
        let clock = ManualClock::default();
        let retry = RetryPolicy { max_retries: 2, ..RetryPolicy::default() };
        let config = EngineConfig { retry, ..EngineConfig::default() };
        let err = engine(&replay, &clock, config)
            .send(&files::Trash::new("a:1".parse().unwrap()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("502"), "{err}");
        replay.verify().unwrap();
    }

    #[tokio::test]
    async fn the_rate_paces_requests_on_the_clock() {
        let replay = Arc::new(ReplayTransport::new(
            (0..5).map(|_| exchange("GET", "/v2/users/current", user())),
        ));
        let clock = ManualClock::default();
        let engine =
            engine(&replay, &clock, EngineConfig { rate: Some(2.0), ..EngineConfig::default() });
        for _ in 0..5 {
            engine.send(&users::Current {}).await.unwrap();
        }
        let elapsed = clock.elapsed().as_secs_f64();
        assert!((1.4..1.6).contains(&elapsed), "2 at once, then one every 0.5 s: {elapsed}");
    }
}
