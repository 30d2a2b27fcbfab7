//! A client with a retry policy retries what is safe and passing, waits as the server asks
//! (clamped), never repeats a create the server may have processed, and never retries a quota.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chart_studio_api::test_util::{Exchange, RecordedRequest, RecordedResponse, ReplayTransport};
use chart_studio_api::{BoxFuture, Client, Config, RetryPolicy, Sleeper, folders, users};
use serde_json::json;

/// Records the waits instead of sleeping.
#[derive(Debug, Default)]
struct Waits(Mutex<Vec<Duration>>);

impl Sleeper for Waits {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.0.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }
}

fn exchange(method: &str, path: &str, response: RecordedResponse) -> Exchange {
    Exchange {
        request: RecordedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            body: (method == "POST").then(|| json!({"path": "f"})),
            ..RecordedRequest::default()
        },
        response,
    }
}

fn error(status: u16, message: &str) -> RecordedResponse {
    RecordedResponse::json(status, json!({"errors": [{"message": message}]}))
}

fn client(replay: &Arc<ReplayTransport>, waits: &Arc<Waits>) -> Client {
    let config = Config::new("https://api.plotly.com", None, false).unwrap();
    Client::new(Arc::clone(replay), config).with_retries(RetryPolicy::default(), waits.clone())
}

#[test]
fn reads_are_retried_through_5xx_and_throttles_with_the_servers_wait() {
    let replay = Arc::new(ReplayTransport::new([
        exchange("GET", "/v2/users/current", error(502, "bad gateway")),
        exchange(
            "GET",
            "/v2/users/current",
            error(429, "Request was throttled. Expected available in 1e300 seconds."),
        ),
        exchange("GET", "/v2/users/current", RecordedResponse::json(200, json!({"username": "a"}))),
    ]));
    let waits = Arc::new(Waits::default());
    futures_executor::block_on(client(&replay, &waits).send(&users::Current {})).unwrap();
    replay.verify().unwrap();
    let waits = waits.0.lock().unwrap().clone();
    assert_eq!(waits.len(), 2);
    assert_eq!(waits[1], RetryPolicy::default().max_delay, "a huge wait is clamped");
}

#[test]
fn a_create_is_not_repeated_after_a_5xx_but_is_after_a_throttle() {
    let create = folders::Create::new("f");
    let replay =
        Arc::new(ReplayTransport::new([exchange("POST", "/v2/folders", error(500, "boom"))]));
    let waits = Arc::new(Waits::default());
    assert!(futures_executor::block_on(client(&replay, &waits).send(&create)).is_err());
    replay.verify().unwrap();

    let created = RecordedResponse::json(
        201,
        json!({"file": {"fid": "a:1", "filename": "f", "filetype": "fold"}}),
    );
    let replay = Arc::new(ReplayTransport::new([
        exchange("POST", "/v2/folders", error(429, "Request was throttled.")),
        exchange("POST", "/v2/folders", created),
    ]));
    futures_executor::block_on(client(&replay, &waits).send(&create)).unwrap();
    replay.verify().unwrap();
}

#[test]
fn a_quota_is_never_retried_and_the_budget_ends() {
    let quota =
        "you've reached the threshold of 100 combined image exports and chart saves per 24h period";
    let replay =
        Arc::new(ReplayTransport::new([exchange("GET", "/v2/users/current", error(429, quota))]));
    let waits = Arc::new(Waits::default());
    assert!(futures_executor::block_on(client(&replay, &waits).send(&users::Current {})).is_err());
    replay.verify().unwrap();
    assert!(waits.0.lock().unwrap().is_empty());

    let policy = RetryPolicy { max_retries: 2, ..RetryPolicy::default() };
    let replay = Arc::new(ReplayTransport::new(
        (0..3).map(|_| exchange("GET", "/v2/users/current", error(503, "down"))),
    ));
    let config = Config::new("https://api.plotly.com", None, false).unwrap();
    let client = Client::new(Arc::clone(&replay), config).with_retries(policy, waits.clone());
    assert!(futures_executor::block_on(client.send(&users::Current {})).is_err());
    replay.verify().unwrap();
    assert_eq!(waits.0.lock().unwrap().len(), 2);
}
