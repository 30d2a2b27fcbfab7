//! The captured `/v2/plots` page parses into typed models and serializes back unchanged.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

use chart_studio_models::{CursorPage, FileType, Plot, from_json_slice};

const FIXTURE: &str = include_str!("../../../fixtures/plots/list/captured_page.json");

fn captured_body() -> Vec<u8> {
    let fixture: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    assert_eq!(fixture["source"], "capture");
    serde_json::to_vec(&fixture["response"]["body"]).unwrap()
}

#[test]
fn captured_plots_page_round_trips() {
    let body = captured_body();
    let page: CursorPage<Plot> = from_json_slice(&body).expect("the captured page parses");
    assert_eq!(page.results.len(), 10);
    let first = &page.results[0];
    assert_eq!(first.file.fid.to_string(), "bcowden:30");
    assert_eq!(first.file.filetype, FileType::Plot);
    assert_eq!(first.file.parent, Some(-1));
    assert_eq!(first.file.user.as_ref().map(|u| u.username.as_str()), Some("bcowden"));
    assert_eq!(first.autosize, Some(true));
    assert!(first.file.share_key.is_none(), "anonymous readers do not see admin fields");
    assert!(page.results.iter().all(|plot| plot.file.world_readable == Some(true)));
    assert!(page.results.iter().all(|plot| plot.file.extra.is_empty()), "every field is typed");

    let original: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let back = serde_json::to_value(&page).unwrap();
    assert_eq!(back, original);
}
