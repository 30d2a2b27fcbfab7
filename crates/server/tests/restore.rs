//! `chart-studio-server restore`, through the binary: export folders (written here in the
//! export format) go back into a data folder at their fids, with their folders, sharing, share
//! keys, times, views and column uids; a conflict restores nothing; a second run changes
//! nothing; a running server's folder is refused.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Running, http, start};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SHARE_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";

/// Writes an export folder holding `files`: (fid, type, folder path, metadata, content fields).
fn export(dir: &Path, files: &[(&str, &str, &str, Value, Value)]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut manifest = String::from(
        r#"{"format":"chart-studio-backup","version":5,"secrets":"the share keys of secret files: keep this folder private"}"#,
    );
    manifest.push('\n');
    for (fid, filetype, path, meta, content) in files {
        let (owner, idlocal) = fid.split_once(':').unwrap();
        let mut document = json!({"version": 1, "path": path, "meta": meta});
        document["meta"]["fid"] = json!(fid);
        document["meta"]["filetype"] = json!(filetype);
        for (field, value) in content.as_object().unwrap() {
            document[field] = value.clone();
        }
        let bytes = serde_json::to_vec_pretty(&document).unwrap();
        let relative = format!("files/{owner}/{idlocal}.json");
        std::fs::create_dir_all(dir.join("files").join(owner)).unwrap();
        std::fs::write(dir.join(&relative), &bytes).unwrap();
        let sha256: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        let entry = json!({
            "fid": fid, "filetype": filetype, "filename": meta["filename"], "path": path,
            "file": relative, "bytes": bytes.len(), "sha256": sha256,
        });
        manifest.push_str(&entry.to_string());
        manifest.push('\n');
    }
    std::fs::write(dir.join("manifest.jsonl"), manifest).unwrap();
}

fn meta(filename: &str, parent: i64, public: bool, created: &str) -> Value {
    json!({
        "filename": filename, "parent": parent, "world_readable": public,
        "share_key_enabled": false, "share_key": null, "deleted": false, "views": 0,
        "creation_time": created, "date_modified": "2020-02-02T10:00:00.000Z",
    })
}

/// Two accounts' exports: alice's folder `team` (1) with a grid (2) and a secret plot (3) of
/// it, viewed 42 times, and a dashboard (5) showing the plot; bob's public plot (7) of his grid
/// (6).
fn two_exports(root: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let grid =
        |uid: &str| json!({"grid": {"cols": {"y": {"data": [3, 1, 2], "order": 0, "uid": uid}}}});
    let plot = |fid: &str| json!({"figure": {"data": [{"type": "bar", "ysrc": fid}]}});
    let mut secret = meta("sales", 1, false, "2019-06-17T22:51:45.856936Z");
    secret["share_key_enabled"] = json!(true);
    secret["share_key"] = json!(SHARE_KEY);
    secret["views"] = json!(42);
    let board = json!({"layout": {"type": "box", "boxType": "plot", "fileId": "alice:3",
        "shareKey": SHARE_KEY, "title": "sales"}, "settings": {}, "version": 2});
    let alice = root.join("alice-export");
    export(
        &alice,
        &[
            (
                "alice:1",
                "fold",
                "",
                meta("team", -1, false, "2019-06-17T22:50:00.000001Z"),
                json!({}),
            ),
            (
                "alice:2",
                "grid",
                "team",
                meta("sales data", 1, false, "2019-06-17T22:51:00Z"),
                grid("a1b2c3"),
            ),
            ("alice:3", "plot", "team", secret, plot("alice:2:a1b2c3")),
            (
                "alice:5",
                "dashboard",
                "",
                meta("board", -1, true, "2019-06-18T08:00:00Z"),
                json!({"content": board.to_string()}),
            ),
        ],
    );
    let bob = root.join("bob-export");
    export(
        &bob,
        &[
            (
                "bob:6",
                "grid",
                "",
                meta("numbers", -1, true, "2018-01-01T00:00:00Z"),
                grid("d4e5f6"),
            ),
            (
                "bob:7",
                "plot",
                "",
                meta("public chart", -1, true, "2018-01-01T00:00:01Z"),
                plot("bob:6:d4e5f6"),
            ),
        ],
    );
    (alice, bob)
}

/// Where the data goes: `--data DIR`, or `--database URL`.
fn storage(data: &Path, database: Option<&str>) -> Vec<std::ffi::OsString> {
    match database {
        Some(url) => vec!["--database".into(), url.into()],
        None => vec!["--data".into(), data.into()],
    }
}

fn restore(args: &[&Path], data: &Path) -> Output {
    restore_into(args, &storage(data, None))
}

fn restore_into(args: &[&Path], storage: &[std::ffi::OsString]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .arg("restore")
        .args(args)
        .args(storage)
        .output()
        .unwrap()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The key `restore` printed for `name`.
fn key_of(stdout: &str, name: &str) -> String {
    let prefix = format!("made the account {name}; its API key (shown once): ");
    stdout.lines().find_map(|line| line.strip_prefix(&prefix)).unwrap().to_owned()
}

fn serve(data: &Path) -> (Running, String) {
    serve_from(&storage(data, None))
}

fn serve_from(storage: &[std::ffi::OsString]) -> (Running, String) {
    let mut args: Vec<std::ffi::OsString> =
        vec!["--chromium".into(), "/nonexistent/no-images-here".into()];
    args.extend_from_slice(storage);
    start(&args)
}

fn basic(user: &str, key: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{key}")))
}

fn get_json(url: &str, path: &str, auth: Option<&str>) -> (u16, Value) {
    let headers: Vec<(&str, &str)> = auth.map(|auth| ("Authorization", auth)).into_iter().collect();
    let (status, _, body) = http(url, "GET", path, &headers, "");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[test]
fn exports_go_back_at_their_fids_and_a_second_run_changes_nothing() {
    restored_at_their_fids(None);
}

/// The same into PostgreSQL.
#[test]
fn exports_go_back_into_postgresql() {
    let cluster = chart_studio_server::pg_cluster::TempCluster::start().unwrap();
    restored_at_their_fids(Some(cluster.url().expose()));
}

fn restored_at_their_fids(database: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = two_exports(dir.path());
    let data = storage(&dir.path().join("data"), database);

    let dry = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .args(["restore".as_ref(), alice.as_os_str(), bob.as_os_str(), "--dry-run".as_ref()])
        .args(&data)
        .output()
        .unwrap();
    let (said, err) = text(&dry);
    assert!(dry.status.success(), "{err}");
    assert!(
        said.contains("would make the account alice") && said.contains("would restore 6 files"),
        "{said}"
    );
    let (printed, err) = text(&restore_into(&[&alice, &bob], &data));
    assert!(printed.contains("restored 6 files; 0 already there"), "{printed}{err}");
    let alice_key = key_of(&printed, "alice");
    let bob_key = key_of(&printed, "bob");
    assert_eq!(alice_key.len(), 48, "192 random bits");

    let (server, url) = serve_from(&data);
    let alice_auth = basic("alice", &alice_key);
    let (status, plot) = get_json(&url, "/v2/files/alice:3", Some(&alice_auth));
    assert_eq!(status, 200, "{plot}");
    assert_eq!(
        (&plot["filename"], &plot["parent"], &plot["share_key"], &plot["world_readable"]),
        (&json!("sales"), &json!(1), &json!(SHARE_KEY), &json!(false))
    );
    assert_eq!(plot["creation_time"], "2019-06-17T22:51:45.856936Z");
    assert_eq!(plot["views"], 42);
    let (_, grid) = get_json(&url, "/v2/grids/alice:2/content", Some(&alice_auth));
    assert_eq!(grid["cols"]["y"]["uid"], "a1b2c3", "{grid}");
    let (status, figure) = get_json(&url, &format!("/~alice/3.json?share_key={SHARE_KEY}"), None);
    assert_eq!(
        (status, &figure["data"][0]["y"]),
        (200, &json!([3, 1, 2])),
        "the secret link reads"
    );
    let (status, _, _) = http(&url, "GET", "/~alice/3/", &[], "");
    assert_eq!(status, 404, "without the key, a secret plot is not there");
    let (status, _, page) = http(&url, "GET", "/dashboard/alice:5/", &[], "");
    assert_eq!(status, 200, "{page}");
    let (status, _, _) = http(&url, "GET", "/~bob/7/public-chart/", &[], "");
    assert_eq!(status, 200);
    let bob_auth = basic("bob", &bob_key);
    let (_, made) = {
        let headers = [("Authorization", bob_auth.as_str()), ("Content-Type", "application/json")];
        let (status, _, body) =
            http(&url, "POST", "/v2/folders", &headers, r#"{"path": "new folder"}"#);
        (status, serde_json::from_str::<Value>(&body).unwrap())
    };
    assert_eq!(made["file"]["fid"], "bob:8", "new files come after the restored ones: {made}");
    drop(server);

    let (printed, err) = text(&restore_into(&[&alice, &bob], &data));
    assert!(printed.contains("restored 0 files; 6 already there"), "{printed}{err}");
    assert!(!printed.contains("made the account"), "{printed}");
}

/// Restores into `data` a public plot with no traces at `fid`, made at `created` (an export
/// of its own, written under `root`): a file the data holds before the restore under test.
fn data_holds_a_plot(root: &Path, data: &Path, fid: &str, created: &str) {
    let other = root.join(format!("{fid}-export"));
    let plot = json!({"figure": {"data": []}});
    export(&other, &[(fid, "plot", "", meta("something else", -1, true, created), plot)]);
    assert!(restore(&[&other], data).status.success());
}

#[test]
fn a_fid_taken_by_another_file_is_listed_and_nothing_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = two_exports(dir.path());
    let data = dir.path().join("data");
    // bob:7 is already another file: a plot made on the new server first.
    data_holds_a_plot(dir.path(), &data, "bob:7", "2021-01-01T00:00:00Z");

    let refused = restore(&[&alice, &bob], &data);
    let (printed, err) = text(&refused);
    assert!(!refused.status.success(), "{printed}");
    assert!(err.contains("nothing was restored") && err.contains("bob:7"), "{err}");
    assert!(!err.contains("alice:"), "only the conflict is listed: {err}");
    let (server, url) = serve(&data);
    let (status, _, _) = http(&url, "GET", "/~alice/", &[], "");
    assert_eq!(status, 404, "alice was not made: nothing was written");
    drop(server);

    // A running server's folder is refused.
    let (_server, _url) = serve(&data);
    let (_, err) = text(&restore(&[&alice], &data));
    assert!(err.contains("stop it first"), "{err}");
}

/// A creation time another file of the data already has moves on by a microsecond (lists page
/// by creation time, so times stay unique), and a second run finds the file it restored.
#[test]
fn a_creation_time_the_data_holds_moves_on_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bob) = two_exports(dir.path());
    let data = dir.path().join("data");
    data_holds_a_plot(dir.path(), &data, "carol:1", "2018-01-01T00:00:01Z");
    let (printed, err) = text(&restore(&[&bob], &data));
    assert!(printed.contains("restored 2 files; 0 already there"), "{printed}{err}");
    let (printed, err) = text(&restore(&[&bob], &data));
    assert!(printed.contains("restored 0 files; 2 already there"), "{printed}{err}");

    let (_server, url) = serve(&data);
    let time =
        |fid: &str| get_json(&url, &format!("/v2/files/{fid}"), None).1["creation_time"].clone();
    assert_eq!(time("carol:1"), "2018-01-01T00:00:01.000000Z");
    assert_eq!(time("bob:7"), "2018-01-01T00:00:01.000001Z");
    assert_eq!(time("bob:6"), "2018-01-01T00:00:00.000000Z");
}
