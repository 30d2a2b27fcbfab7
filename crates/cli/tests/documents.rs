//! `dashboards` and `presentations` against the local server, through the real binary: create
//! from a file, update in place by path, list, get back, share, and list with `folders ls`.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use common::{CLI, Server, code, json_as, run, stderr};
use serde_json::json;

#[test]
fn dashboards_are_created_updated_in_place_listed_read_and_shared() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let figure = home.path().join("figure.json");
    std::fs::write(&figure, r#"{"data": [{"type": "bar", "y": [1, 2]}]}"#).unwrap();
    let figure = figure.to_str().unwrap();
    let plot = json_as(&server, home.path(), CLI, &["plots", "create", figure, "--filename", "p"]);
    let plot = plot["fid"].as_str().unwrap().to_owned();
    let board = |title: &str| {
        json!({"layout": {"type": "box", "boxType": "plot", "fileId": plot, "title": title},
               "settings": {}, "version": 2})
    };
    let file = home.path().join("board.json");
    std::fs::write(&file, board("first").to_string()).unwrap();
    let file = file.to_str().unwrap();
    let create = ["dashboards", "create", file, "--filename", "team/board", "--sharing", "private"];
    let made = json_as(&server, home.path(), CLI, &create);
    assert_eq!(
        (made["action"].as_str(), made["sharing"].as_str()),
        (Some("created"), Some("private"))
    );
    let fid = made["fid"].as_str().unwrap().to_owned();

    std::fs::write(file, board("second").to_string()).unwrap();
    let again = json_as(&server, home.path(), CLI, &create);
    assert_eq!(
        (again["action"].as_str(), again["fid"].as_str()),
        (Some("updated"), Some(fid.as_str()))
    );

    let got = json_as(&server, home.path(), CLI, &["dashboards", "get", "team/board"]);
    assert_eq!(got, board("second"), "read back by path, as it was saved");
    let listed = json_as(&server, home.path(), CLI, &["dashboards", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["fid"], fid.as_str());
    let folders = ["folders", "ls", "--filetype", "dashboard", "-r"];
    let listed = json_as(&server, home.path(), CLI, &folders);
    assert_eq!(
        listed.as_array().unwrap().iter().map(|f| f["fid"].clone()).collect::<Vec<_>>(),
        [json!(fid)]
    );

    let shared = json_as(&server, home.path(), CLI, &["share", "secret", &fid]);
    let link = shared["changes"][0]["link"].as_str().unwrap().to_owned();
    assert!(link.contains("share_key="), "{shared}");
    let other = tempfile::tempdir().unwrap();
    let read = run(
        &server,
        other.path(),
        Some(("other", "other-key")),
        &["--json", "dashboards", "get", &link],
        "",
    );
    assert_eq!(code(&read), 0, "the secret link opens it: {}", stderr(&read));

    // A figure is no dashboard; a file of another kind at the path is refused.
    let not_object = home.path().join("list.json");
    std::fs::write(&not_object, "[1, 2]").unwrap();
    let refused =
        run(&server, home.path(), CLI, &["dashboards", "create", not_object.to_str().unwrap()], "");
    assert_ne!(code(&refused), 0);
    assert!(stderr(&refused).contains("JSON object"), "{}", stderr(&refused));
    let over_plot =
        run(&server, home.path(), CLI, &["presentations", "create", file, "--filename", "p"], "");
    assert_ne!(code(&over_plot), 0);
    assert!(stderr(&over_plot).contains("not a spectacle_presentation"), "{}", stderr(&over_plot));

    let deck = home.path().join("deck.json");
    std::fs::write(&deck, r#"{"presentation": {"slides": []}}"#).unwrap();
    let made =
        json_as(&server, home.path(), CLI, &["presentations", "create", deck.to_str().unwrap()]);
    assert_eq!(made["path"], "deck");
    let listed = json_as(&server, home.path(), CLI, &["presentations", "list"]);
    assert_eq!(listed[0]["filetype"], "spectacle_presentation");
}
