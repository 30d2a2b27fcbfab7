//! The sharing workflow against the replay transport: no server, every request checked.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

use std::sync::Arc;

use chart_studio_api::test_util::{Exchange, RecordedRequest, RecordedResponse, ReplayTransport};
use chart_studio_api::{Client, Config};
use chart_studio_sharing::Sharing;
use chart_studio_workflows::{Error, share};
use serde_json::json;

fn get(path: &str, body: serde_json::Value) -> Exchange {
    Exchange {
        request: RecordedRequest {
            method: "GET".to_owned(),
            path: path.to_owned(),
            ..RecordedRequest::default()
        },
        response: RecordedResponse::json(200, body),
    }
}

fn file(fid: &str, filetype: &str) -> serde_json::Value {
    json!({"fid": fid, "filename": fid, "filetype": filetype, "world_readable": true, "referencers": []})
}

#[test]
fn another_users_file_is_refused_naming_its_owner_and_nothing_is_sent() {
    let replay = Arc::new(ReplayTransport::new([
        get("/v2/files/alice:1", file("alice:1", "plot")),
        get("/v2/plots/alice:1/content", json!({"data": [{"ysrc": "alice:2:ab12cd"}]})),
        get("/v2/files/alice:2", file("alice:2", "grid")),
    ]));
    let config = Config::new("https://api.plotly.com", None, false).unwrap();
    let client = Client::new(Arc::clone(&replay), config);
    let fids = ["alice:1".parse().unwrap()];
    let planned = share::plan_change(&client, "bob", &fids, Sharing::Private, true);
    let err = futures_executor::block_on(planned).unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "alice:1 belongs to alice; only its owner can change its sharing; nothing was changed"
    );
    replay.verify().unwrap();
}

#[test]
fn a_plots_grids_come_from_its_figure() {
    let replay = Arc::new(ReplayTransport::new([
        get(
            "/v2/files/bob:1",
            json!({"fid": "bob:1", "filename": "p", "filetype": "plot",
            "world_readable": true, "share_key_enabled": false, "references": []}),
        ),
        get("/v2/plots/bob:1/content", json!({"data": [{"xsrc": "bob:2:aa", "ysrc": "bob:2:bb"}]})),
        get(
            "/v2/files/bob:2",
            json!({"fid": "bob:2", "filename": "g", "filetype": "grid",
            "world_readable": true, "share_key_enabled": false, "referencers": []}),
        ),
    ]));
    let config = Config::new("https://api.plotly.com", None, false).unwrap();
    let client = Client::new(Arc::clone(&replay), config);
    let fids = ["bob:1".parse().unwrap()];
    let planned = share::plan_change(&client, "bob", &fids, Sharing::Private, true);
    let (plan, _) = futures_executor::block_on(planned).unwrap();
    let steps: Vec<String> = plan.steps.iter().map(|s| s.fid.to_string()).collect();
    assert_eq!(steps, ["bob:1", "bob:2"], "the plot closes first, then the grid its figure uses");
    replay.verify().unwrap();
}
