//! End-to-end: creating plots from figures, sharing modes and secret links, through the real
//! binary against the local server.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::path::Path;

use common::{CLI, Server, code, json_as, run, stderr, stdout};
use serde_json::{Value, json};

const OTHER: Option<(&str, &str)> = Some(("other", "other-key"));

fn figure_file(dir: &Path, name: &str, figure: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, figure.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

fn bars() -> Value {
    json!({"data": [{"type": "bar", "x": ["a", "b", "c"], "y": [1, 2, 3], "marker": {"color": ["red", "green", "blue"]}}], "layout": {"title": {"text": "bars"}}})
}

#[test]
fn public_private_and_secret_plots_from_a_figure() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let figure = figure_file(home.path(), "bars.json", &bars());
    let mut made = Vec::new();
    for mode in ["public", "private", "secret"] {
        let path = format!("shared/{mode}");
        let created = json_as(
            &server,
            home.path(),
            CLI,
            &["plots", "create", &figure, "--filename", &path, "--sharing", mode],
        );
        assert_eq!(created["sharing"], mode);
        made.push((
            mode,
            created["fid"].as_str().unwrap().to_owned(),
            created["url"].as_str().unwrap().to_owned(),
        ));
    }
    for (mode, fid, url) in &made {
        let owner = run(&server, home.path(), CLI, &["files", "get", fid], "");
        assert!(stdout(&owner).contains(&format!("sharing\t{mode}")), "{}", stdout(&owner));
        let other =
            run(&server, home.path(), OTHER, &["plots", "content", fid, "--inline-data"], "");
        let anonymous =
            run(&server, home.path(), None, &["plots", "content", fid, "--inline-data"], "");
        let readable = *mode == "public";
        assert_eq!(code(&other) == 0, readable, "{mode} read by another user");
        assert_eq!(code(&anonymous) == 0, readable, "{mode} read anonymously");
        if *mode == "secret" {
            assert!(url.contains("/?share_key="), "the secret link keeps web_url's slash: {url}");
            let by_link = run(&server, home.path(), None, &["--json", "grids", "get", url], "");
            assert_eq!(code(&by_link), 1, "a plot link is not a grid");
            let figure = run(
                &server,
                home.path(),
                None,
                &[
                    "plots",
                    "content",
                    fid,
                    "--inline-data",
                    "--share-key",
                    url.split("share_key=").nth(1).unwrap(),
                ],
                "",
            );
            assert_eq!(code(&figure), 0, "{}", stderr(&figure));
            let figure: Value = serde_json::from_slice(&figure.stdout).unwrap();
            assert_eq!(figure["data"][0]["y"], json!([1, 2, 3]));
            assert_eq!(figure["data"][0]["marker"]["color"], json!(["red", "green", "blue"]));
            let shown = run(&server, home.path(), None, &["files", "get", url], "");
            assert!(
                stdout(&shown).contains(fid),
                "files get accepts a secret link: {}",
                stderr(&shown)
            );
        }
    }
    let grid = json_as(&server, home.path(), CLI, &["files", "lookup", "shared/secret_grid"]);
    assert_eq!(
        (grid["world_readable"].as_bool(), grid["share_key_enabled"].as_bool()),
        (Some(false), Some(true)),
        "the grid follows its plot"
    );
}

#[test]
fn switching_modes_is_verified_and_grids_follow() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let figure = figure_file(home.path(), "bars.json", &bars());
    let created = json_as(
        &server,
        home.path(),
        CLI,
        &["plots", "create", &figure, "--filename", "p", "--sharing", "public"],
    );
    let fid = created["fid"].as_str().unwrap().to_owned();
    let grid = created["grid"].as_str().unwrap().to_owned();

    let private = json_as(&server, home.path(), CLI, &["share", &fid, "private"]);
    let steps: Vec<&str> =
        private["changes"].as_array().unwrap().iter().map(|s| s["fid"].as_str().unwrap()).collect();
    assert_eq!(steps, [fid.as_str(), grid.as_str()], "closing down: the plot first, then its grid");
    assert!(private["changes"].as_array().unwrap().iter().all(|r| r["result"] == "done"));

    // The mode first, as in `bulk share`; the plot named is reported first (its secret link
    // is `.changes[0].link`), whatever order the changes were sent in.
    let secret = run(&server, home.path(), CLI, &["share", "secret", &fid], "");
    assert_eq!(code(&secret), 0, "{}", stderr(&secret));
    assert!(!stderr(&secret).contains("the mode comes first"), "{}", stderr(&secret));
    let lines = stdout(&secret);
    assert!(lines.lines().next().unwrap().starts_with(&format!("{fid}\t")), "{lines}");
    assert!(lines.lines().nth(1).unwrap().starts_with(&format!("{grid}\t")), "{lines}");
    assert!(lines.contains("private -> secret\tdone") && lines.contains("?share_key="), "{lines}");

    // The old order still works, with a note.
    let again = run(&server, home.path(), CLI, &["share", &fid, "secret"], "");
    assert!(stderr(&again).contains("note: the mode comes first now"), "{}", stderr(&again));
    assert!(stdout(&again).is_empty(), "{}", stdout(&again));
    assert!(stderr(&again).contains("Nothing to change"), "{}", stderr(&again));
    assert!(
        stderr(&again).contains(&format!("note: {fid} is already secret")),
        "{}",
        stderr(&again)
    );

    let plot_only = json_as(&server, home.path(), CLI, &["share", &fid, "public", "--no-grids"]);
    assert_eq!(plot_only["changes"].as_array().unwrap().len(), 1);
    let shown = json_as(&server, home.path(), CLI, &["share", "show", &fid]);
    assert_eq!(shown["sharing"], "public");
    assert_eq!(shown["grids"][&grid], "secret");

    let dry = json_as(&server, home.path(), CLI, &["share", &fid, "private", "--dry-run"]);
    assert_eq!(
        dry["changes"][0]["request"]["changes"],
        json!({"world_readable": false, "share_key_enabled": false})
    );
    let still = json_as(&server, home.path(), CLI, &["share", "show", &fid]);
    assert_eq!(still["sharing"], "public", "a dry run changes nothing");

    // Another user's public plot: an error naming the owner, never "nothing to change".
    let theirs = run(&server, home.path(), OTHER, &["share", &fid, "private"], "");
    assert_eq!(code(&theirs), 1, "{}", stderr(&theirs));
    assert!(
        stderr(&theirs).contains(&format!("{fid} belongs to cli; only its owner can change"))
            && stderr(&theirs).contains("nothing was changed"),
        "{}",
        stderr(&theirs)
    );
    assert!(!stdout(&theirs).contains("Nothing to change"), "{}", stdout(&theirs));
    let unchanged = json_as(&server, home.path(), CLI, &["share", "show", &fid]);
    assert_eq!(unchanged["sharing"], "public");
}

#[test]
fn a_grid_used_by_a_plot_in_another_mode_is_left_alone() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let figure = figure_file(home.path(), "bars.json", &bars());
    let first = json_as(
        &server,
        home.path(),
        CLI,
        &["plots", "create", &figure, "--filename", "first", "--sharing", "public"],
    );
    let grid = first["grid"].as_str().unwrap().to_owned();
    let content =
        json_as(&server, home.path(), CLI, &["plots", "content", first["fid"].as_str().unwrap()]);
    let second = figure_file(home.path(), "second.json", &content);
    let second = json_as(
        &server,
        home.path(),
        CLI,
        &["plots", "create", &second, "--filename", "second", "--sharing", "public"],
    );
    assert!(second["grid"].is_null(), "a figure of references needs no grid");
    let output =
        run(&server, home.path(), CLI, &["share", second["fid"].as_str().unwrap(), "private"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "grid {grid} is also used by {} (public)",
            first["fid"].as_str().unwrap()
        )),
        "{}",
        stderr(&output)
    );
    let grid_now = json_as(&server, home.path(), CLI, &["files", "get", &grid]);
    assert_eq!(grid_now["world_readable"], true);
}

#[test]
fn recreating_at_the_same_path_keeps_the_fid_and_url() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let figure = figure_file(home.path(), "bars.json", &bars());
    let first =
        json_as(&server, home.path(), CLI, &["plots", "create", &figure, "--filename", "keep/me"]);
    let mut changed = bars();
    changed["data"][0]["y"] = json!([7, 8, 9]);
    let changed = figure_file(home.path(), "changed.json", &changed);
    let second =
        json_as(&server, home.path(), CLI, &["plots", "create", &changed, "--filename", "keep/me"]);
    assert_eq!(second["fid"], first["fid"]);
    assert_eq!(second["url"], first["url"]);
    assert_eq!(second["grid"], first["grid"], "the grid is refilled in place too");
    assert_eq!(second["action"], "updated");
    assert_eq!(first["action"], "created");
    assert_eq!(first["path"], "keep/me");
    let fid = first["fid"].as_str().unwrap();
    let read = json_as(&server, home.path(), CLI, &["plots", "content", fid, "--inline-data"]);
    assert_eq!(read["data"][0]["y"], json!([7, 8, 9]));

    // The inline figure is accepted again (round trip), and a grid reads back as CSV.
    let again = figure_file(home.path(), "again.json", &read);
    let copy =
        json_as(&server, home.path(), CLI, &["plots", "create", &again, "--filename", "copy"]);
    let copy_read = json_as(
        &server,
        home.path(),
        CLI,
        &["plots", "content", copy["fid"].as_str().unwrap(), "--inline-data"],
    );
    assert_eq!(copy_read["data"], read["data"]);
    let csv = run(&server, home.path(), CLI, &["grids", "get", copy["grid"].as_str().unwrap()], "");
    assert_eq!(
        stdout(&csv),
        "data.0.marker.color,data.0.x,data.0.y\nred,a,7\ngreen,b,8\nblue,c,9\n"
    );

    let folder = json_as(&server, home.path(), CLI, &["files", "lookup", "keep"]);
    let clash =
        run(&server, home.path(), CLI, &["plots", "create", &figure, "--filename", "keep"], "");
    assert_eq!(code(&clash), 1);
    assert!(
        stderr(&clash).contains(&format!("keep is a fold ({})", folder["fid"].as_str().unwrap())),
        "{}",
        stderr(&clash)
    );
}

#[test]
fn bad_figures_are_refused_and_nothing_is_half_created() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let not_json = home.path().join("broken.json");
    std::fs::write(&not_json, "{\"data\": [").unwrap();
    let output =
        run(&server, home.path(), CLI, &["plots", "create", not_json.to_str().unwrap()], "");
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("broken.json is not JSON"), "{}", stderr(&output));

    // Figures with nothing to draw, refused before anything is sent (exit 2), as the Python
    // client refuses them.
    for (name, figure, says) in [
        ("nodata", json!({"layout": {}}), "has no `data` list of traces"),
        ("empty", json!({"data": []}), "`data` list is empty"),
        ("values", json!([1, 2, 3]), "holds values ([1, 2, 3]) where its traces go"),
        ("mixed", json!({"data": [{"y": [1]}, "y"]}), "data.1 is a string, not a trace"),
    ] {
        let file = figure_file(home.path(), &format!("{name}.json"), &figure);
        let output = run(&server, home.path(), CLI, &["plots", "create", &file], "");
        assert_eq!(code(&output), 2, "{name}: {}", stderr(&output));
        assert!(stderr(&output).contains(says), "{name}: {}", stderr(&output));
    }
    let good = figure_file(home.path(), "good.json", &bars());
    for path in ["a/../b", "./b", "a/.."] {
        let output =
            run(&server, home.path(), CLI, &["plots", "create", &good, "--filename", path], "");
        assert_eq!(code(&output), 2, "{path}: {}", stderr(&output));
        assert!(stderr(&output).contains("a path may not hold"), "{path}: {}", stderr(&output));
    }
    let output = run(&server, home.path(), CLI, &["folders", "create", "x/../y"], "");
    assert_eq!(code(&output), 2, "{}", stderr(&output));

    let dangling = figure_file(
        home.path(),
        "dangling.json",
        &json!({"data": [{"x": [1, 2], "y": [3, 4]}, {"xsrc": "cli:40:abcdef", "y": [5, 6]}]}),
    );
    let output =
        run(&server, home.path(), CLI, &["plots", "create", &dangling, "--filename", "dir/d"], "");
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).contains("data.1.xsrc refers to column abcdef of grid cli:40"),
        "{}",
        stderr(&output)
    );
    let malformed =
        figure_file(home.path(), "malformed.json", &json!({"data": [{"ysrc": "not-a-ref"}]}));
    let output = run(&server, home.path(), CLI, &["plots", "create", &malformed], "");
    assert!(
        stderr(&output).contains("data.0.ysrc is not a column reference"),
        "{}",
        stderr(&output)
    );

    let listed = run(&server, home.path(), CLI, &["folders", "ls"], "");
    assert_eq!(stdout(&listed), "", "no grid, folder or plot was left behind");
}

#[test]
fn the_sharing_setting_and_its_conflicts() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let figure = figure_file(home.path(), "bars.json", &bars());
    let set = run(&server, home.path(), CLI, &["config", "set", "sharing", "private"], "");
    assert_eq!(code(&set), 0, "{}", stderr(&set));
    let get = run(&server, home.path(), CLI, &["config", "get", "sharing"], "");
    assert!(
        stdout(&get).starts_with("sharing\tprivate\t")
            && stdout(&get).contains("[profiles.default]"),
        "{}",
        stdout(&get)
    );
    let created = json_as(
        &server,
        home.path(),
        CLI,
        &["plots", "create", &figure, "--filename", "by-default"],
    );
    assert_eq!(created["sharing"], "private", "config set sharing private makes new plots private");
    let flagged = json_as(
        &server,
        home.path(),
        CLI,
        &["plots", "create", &figure, "--filename", "flagged", "--sharing", "public"],
    );
    assert_eq!(flagged["sharing"], "public", "the flag wins");

    std::fs::create_dir_all(home.path().join(".plotly")).unwrap();
    std::fs::write(
        home.path().join(".plotly/.config"),
        r#"{"sharing": "secret", "world_readable": true}"#,
    )
    .unwrap();
    let output =
        run(&server, home.path(), CLI, &["plots", "create", &figure, "--filename", "conflict"], "");
    assert_eq!(code(&output), 1);
    let err = stderr(&output);
    assert!(
        err.contains("sharing = secret (from")
            && err.contains("world_readable = true (from")
            && err.contains(".plotly/.config"),
        "{err}"
    );
}
