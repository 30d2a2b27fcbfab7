//! The client follows `next` links of both page shapes, skips empty pages and stops on a
//! repeated link, checked against a replay transport that fails on any unexpected request.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

use std::sync::Arc;

use chart_studio_api::test_util::{Exchange, RecordedRequest, RecordedResponse, ReplayTransport};
use chart_studio_api::{Client, Config, Error, folders, plots};
use futures_util::TryStreamExt;
use serde_json::json;

fn file(fid: &str) -> serde_json::Value {
    json!({"fid": fid, "filename": fid, "filetype": "plot"})
}

fn get(path: &str, query: Option<&str>, body: serde_json::Value) -> Exchange {
    Exchange {
        request: RecordedRequest {
            method: "GET".to_owned(),
            path: path.to_owned(),
            query: query.map(str::to_owned),
            ..RecordedRequest::default()
        },
        response: RecordedResponse::json(200, body),
    }
}

fn client(replay: &Arc<ReplayTransport>) -> Client {
    let config = Config::new("https://api.plotly.com", None, false).unwrap();
    Client::new(Arc::clone(replay), config)
}

fn fids(items: &[chart_studio_models::File]) -> Vec<String> {
    items.iter().map(|f| f.fid.to_string()).collect()
}

#[test]
fn folder_pages_are_followed_and_empty_pages_skipped() {
    let replay = Arc::new(ReplayTransport::new([
        get(
            "/v2/folders/all",
            Some("user=a&page_size=2"),
            json!({"children": {"count": 3, "next": "https://api.plotly.com/v2/folders/all?user=a&page_size=2&page=2", "results": [file("a:0"), file("a:1")]}}),
        ),
        get(
            "/v2/folders/all",
            Some("user=a&page_size=2&page=2"),
            json!({"children": {"count": 3, "next": "https://api.plotly.com/v2/folders/all?user=a&page_size=2&page=3", "results": []}}),
        ),
        get(
            "/v2/folders/all",
            Some("user=a&page_size=2&page=3"),
            json!({"children": {"count": 3, "next": null, "results": [file("a:2")]}}),
        ),
    ]));
    let client = client(&replay);
    let all = folders::All { user: Some("a".to_owned()), page_size: Some(2), ..Default::default() };
    let pages: Vec<_> =
        futures_executor::block_on(client.pages(all.clone()).try_collect()).unwrap();
    assert_eq!(pages.len(), 2, "the empty page is skipped");
    replay.verify().unwrap();

    let replay = Arc::new(ReplayTransport::new([
        get(
            "/v2/folders/all",
            Some("user=a&page_size=2"),
            json!({"children": {"next": "/v2/folders/all?page=2", "results": [file("a:0")]}}),
        ),
        get(
            "/v2/folders/all",
            Some("page=2"),
            json!({"children": {"next": null, "results": [file("a:1")]}}),
        ),
    ]));
    let items: Vec<_> = futures_executor::block_on(client_items(&replay, all)).unwrap();
    assert_eq!(fids(&items), ["a:0", "a:1"]);
    replay.verify().unwrap();
}

async fn client_items(
    replay: &Arc<ReplayTransport>,
    all: folders::All,
) -> Result<Vec<chart_studio_models::File>, Error> {
    client(replay).items(all).try_collect().await
}

#[test]
fn cursor_pages_stop_on_a_repeated_link() {
    let page =
        |fid: &str, next: &str| json!({"next": next, "previous": null, "results": [file(fid)]});
    let replay = Arc::new(ReplayTransport::new([
        get("/v2/plots", None, page("a:0", "https://api.plot.ly/v2/plots?cursor=B")),
        get("/v2/plots", Some("cursor=B"), page("a:1", "https://api.plot.ly/v2/plots?cursor=C")),
        get("/v2/plots", Some("cursor=C"), page("a:2", "https://api.plot.ly/v2/plots?cursor=B")),
    ]));
    let plots: Vec<_> = futures_executor::block_on(
        client(&replay).items(plots::List::default()).try_collect::<Vec<_>>(),
    )
    .unwrap();
    let fids: Vec<String> = plots.iter().map(|p| p.file.fid.to_string()).collect();
    assert_eq!(fids, ["a:0", "a:1", "a:2"]);
    replay.verify().unwrap();
}

#[test]
fn an_error_page_ends_the_stream_with_the_error() {
    let replay = Arc::new(ReplayTransport::new([
        get(
            "/v2/plots/feed",
            None,
            json!({"next": "https://api.plotly.com/v2/plots/feed?cursor=X", "previous": null, "results": [file("a:0")]}),
        ),
        Exchange {
            request: RecordedRequest {
                method: "GET".to_owned(),
                path: "/v2/plots/feed".to_owned(),
                query: Some("cursor=X".to_owned()),
                ..Default::default()
            },
            response: RecordedResponse::json(503, json!({"detail": "down for maintenance"})),
        },
    ]));
    let result: Result<Vec<_>, Error> =
        futures_executor::block_on(client(&replay).items(plots::Feed::default()).try_collect());
    let err = result.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert!(err.is_retryable());
    assert!(err.to_string().contains("down for maintenance"), "{err}");
    replay.verify().unwrap();
}

#[test]
fn a_truncated_success_body_is_a_decode_error_naming_the_request() {
    let replay = Arc::new(ReplayTransport::new([Exchange {
        request: RecordedRequest {
            method: "GET".to_owned(),
            path: "/v2/users/current".to_owned(),
            ..Default::default()
        },
        response: RecordedResponse {
            status: 200,
            headers: Default::default(),
            body: None,
            body_text: Some("{\"username\": \"al".to_owned()),
        },
    }]));
    let err =
        futures_executor::block_on(client(&replay).send(&chart_studio_api::users::Current {}))
            .unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("GET https://api.plotly.com/v2/users/current answered 200 OK"), "{text}");
    assert!(text.contains("EOF"), "{text}");
}

#[test]
fn the_replay_transport_reports_unexpected_requests() {
    let replay = Arc::new(ReplayTransport::new([get("/v2/plots", None, json!({}))]));
    let err =
        futures_executor::block_on(client(&replay).send(&plots::Feed::default())).unwrap_err();
    assert!(matches!(err, Error::Transport(_)));
    assert!(replay.verify().unwrap_err().contains("path: sent /v2/plots/feed, expected /v2/plots"));
}
