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
    let closed = run(&server, home.path(), CLI, &["bulk", "share", "private", "--yes"], "");
    assert_eq!(code(&closed), 0, "{}", stderr(&closed));
    let listed = json_as(&server, home.path(), CLI, &["dashboards", "list"]);
    let sharing = (&listed[0]["world_readable"], &listed[0]["share_key_enabled"]);
    assert_eq!(sharing, (&json!(false), &json!(false)), "bulk share private includes it: {listed}");

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

/// The boxes of the `cli` account's dashboards: (file id, share key) of each plot.
fn boxes(server: &Server, home: &std::path::Path) -> Vec<(String, Option<String>)> {
    let listed = json_as(server, home, CLI, &["dashboards", "list"]);
    let live: Vec<&serde_json::Value> =
        listed.as_array().unwrap().iter().filter(|f| f["deleted"] != true).collect();
    assert_eq!(live.len(), 1, "{listed}");
    let board =
        json_as(server, home, CLI, &["dashboards", "get", live[0]["fid"].as_str().unwrap()]);
    let mut found = Vec::new();
    let mut stack = vec![board["layout"].clone()];
    while let Some(node) = stack.pop() {
        if !node.is_object() {
            continue;
        }
        if node["boxType"] == "plot" {
            found.push((
                node["fileId"].as_str().unwrap().to_owned(),
                node["shareKey"].as_str().map(str::to_owned),
            ));
        }
        stack.extend([node["first"].clone(), node["second"].clone()]);
    }
    found.sort();
    found
}

/// A dashboard over three plots (one secret, its box holding the key) and another account's
/// plot: deleted with the account (backed up first) and brought back by `bulk undo`, then
/// deleted again and imported from an export, its boxes point at the new plots with the new
/// key, and the plot that is not in the backup is named.
#[test]
fn a_dashboard_comes_back_from_a_backup_pointing_at_the_new_plots() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let plots = server.handle().add_plots("cli", 3, "charts", true).unwrap();
    let elsewhere = server.handle().add_plots("other", 1, "theirs", true).unwrap().remove(0);
    let secret = json_as(&server, home.path(), CLI, &["share", "secret", &plots[2], "--no-grids"]);
    let key = secret["changes"][0]["link"]
        .as_str()
        .unwrap()
        .split("share_key=")
        .nth(1)
        .unwrap()
        .to_owned();
    let plot_box = |fid: &str, key: Option<&str>| json!({"type": "box", "boxType": "plot", "fileId": fid, "shareKey": key});
    let split = |first, second| json!({"type": "split", "direction": "vertical", "first": first, "second": second});
    let layout = split(
        split(plot_box(&plots[0], None), plot_box(&plots[1], None)),
        split(plot_box(&plots[2], Some(&key)), plot_box(&elsewhere, None)),
    );
    let file = home.path().join("board.json");
    std::fs::write(&file, json!({"layout": layout, "settings": {}, "version": 2}).to_string())
        .unwrap();
    json_as(
        &server,
        home.path(),
        CLI,
        &["dashboards", "create", file.to_str().unwrap(), "--filename", "boards/sales"],
    );
    let before = boxes(&server, home.path());

    let export = home.path().join("export");
    let exported =
        run(&server, home.path(), CLI, &["bulk", "export", export.to_str().unwrap(), "--yes"], "");
    assert_eq!(code(&exported), 0, "{}", stderr(&exported));

    // Deleted with everything else (backed up first), and brought back by undo.
    let journal = home.path().join("delete.jsonl");
    let delete = ["bulk", "delete", "--yes", "--journal", journal.to_str().unwrap()];
    let deleted = run(&server, home.path(), CLI, &delete, "");
    assert_eq!(code(&deleted), 0, "{}", stderr(&deleted));
    let left = json_as(&server, home.path(), CLI, &["folders", "ls"]);
    assert_eq!(left.as_array().unwrap().len(), 0, "the account is empty: {left}");
    let undone =
        run(&server, home.path(), CLI, &["bulk", "undo", journal.to_str().unwrap(), "--yes"], "");
    assert_eq!(code(&undone), 0, "{}", stderr(&undone));
    let after_undo = boxes(&server, home.path());
    assert_eq!(after_undo.len(), 4);
    assert!(after_undo.iter().all(|(fid, _)| !plots.contains(fid)), "new plots: {after_undo:?}");
    assert!(
        after_undo.contains(&(elsewhere.clone(), None)),
        "the plot not in the backup stays: {after_undo:?}"
    );

    // Deleted again, then imported from the export (an older format's header reads the same).
    let journal = home.path().join("again.jsonl");
    let delete = ["bulk", "delete", "--yes", "--journal", journal.to_str().unwrap()];
    assert_eq!(code(&run(&server, home.path(), CLI, &delete, "")), 0);
    let manifest = export.join("manifest.jsonl");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let (header, rest) = text.split_once('\n').unwrap();
    assert!(header.starts_with(r#"{"format":"chart-studio-backup","version":5,"secrets":"#));
    std::fs::write(
        &manifest,
        format!("{}\n{rest}", r#"{"format":"chart-studio-backup","version":3}"#),
    )
    .unwrap();
    let imported =
        json_as(&server, home.path(), CLI, &["bulk", "import", export.to_str().unwrap()]);
    let dashboard = imported["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| !f["missing_plots"].as_array().unwrap().is_empty());
    assert_eq!(dashboard.unwrap()["missing_plots"], json!([elsewhere]), "{imported}");
    let after = boxes(&server, home.path());
    let new_plots: Vec<String> =
        json_as(&server, home.path(), CLI, &["folders", "ls", "--filetype", "plot"])
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["fid"].as_str().unwrap().to_owned())
            .collect();
    assert_eq!(new_plots.len(), 3);
    for (fid, key) in after.iter().filter(|(fid, _)| *fid != elsewhere) {
        assert!(new_plots.contains(fid), "{fid} is one of the imported plots {new_plots:?}");
        if let Some(key) = key {
            let shown = json_as(&server, home.path(), CLI, &["share", "show", fid]);
            assert!(
                shown["link"].as_str().unwrap().ends_with(&format!("share_key={key}")),
                "the box holds the new key: {shown}"
            );
        }
    }
    assert_eq!(after.iter().filter(|(_, key)| key.is_some()).count(), 1);
    assert_eq!(before.len(), after.len());
}
