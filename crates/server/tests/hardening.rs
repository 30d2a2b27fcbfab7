//! What one request must not do to the server: panic a handler, make stored data unreadable,
//! stall other readers, hold a connection open, or slip past the browser's protections. Each
//! test reproduces a finding of an attack run against the release binary.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use chart_studio_api::raw::Raw;
use common::{ALICE, client, server};
use serde_json::Value;

/// Cursors past either end of the public list, in both orders and on the feed, give an empty
/// page or the right one, never a cut connection.
#[tokio::test]
async fn cursors_past_the_end_answer_an_empty_page() {
    let server = server().await;
    server.add_plots(ALICE.0, 5, "public", true).unwrap();
    let anonymous = client(&server, None);
    // `p=0` (base64 `cD0w`): every creation time sorts before "0", so nothing comes after it.
    for query in [
        "plots?cursor=cD0w",
        "plots?cursor=cD05OTk5OTk5OQ%3D%3D&order_by=-views",
        "plots/feed?cursor=cD0w",
        "plots/feed?cursor=cD05OTk5OTk5OQ%3D%3D&order_by=views",
    ] {
        let page: Value = anonymous.send(&Raw::new("GET", query)).await.unwrap();
        assert_eq!(page["results"], Value::Array(Vec::new()), "{query}: {page}");
        assert_eq!(page["next"], Value::Null, "{query}");
    }
    // By views, `p=0` is the first plot: the page holds the other four, and its previous link
    // leads back to the first.
    let page: Value =
        anonymous.send(&Raw::new("GET", "plots?cursor=cD0w&order_by=-views")).await.unwrap();
    assert_eq!(page["results"].as_array().unwrap().len(), 4, "{page}");
    let previous = page["previous"].as_str().unwrap();
    let back: Value =
        anonymous.send(&Raw::new("GET", previous.split("/v2/").nth(1).unwrap())).await.unwrap();
    assert_eq!(back["results"].as_array().unwrap().len(), 1, "{back}");
    assert_eq!(server.panics(), 0);
}
