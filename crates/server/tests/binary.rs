//! The `chart-studio-server` binary: its first line, `--users`, `--seed` and bad flags.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use chart_studio_api::{Client, Config, Credentials, plots, users};
use chart_studio_http::{HttpSettings, HttpTransport};
use common::{Running, start, start_with_note};

/// A plain HTTP/1.1 GET of `path`: the status line, headers and body as text.
fn http_get(url: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

fn client(url: &str, creds: Option<(&str, &str)>) -> Client {
    let config = Config::new(url, creds.map(|(u, k)| Credentials::new(u, k)), false).unwrap();
    Client::new(HttpTransport::new(&HttpSettings::default()).unwrap(), config)
}

#[tokio::test]
async fn users_file_and_seed_folder() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.toml");
    std::fs::write(&users, "[[users]]\nusername = \"carol\"\napi_key = \"carol-key\"\n").unwrap();
    let seed = dir.path().join("seed");
    std::fs::create_dir(&seed).unwrap();
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../../fixtures/plots/list/captured_page.json"))
            .unwrap();
    std::fs::write(seed.join("page.json"), fixture["response"]["body"].to_string()).unwrap();

    let (_server, url) =
        start(&["--users", users.to_str().unwrap(), "--seed", seed.to_str().unwrap()]);
    let carol = client(&url, Some(("carol", "carol-key")));
    assert_eq!(carol.send(&users::Current {}).await.unwrap().username, "carol");
    let demo = client(&url, Some(("demo", "demo-api-key"))).send(&users::Current {}).await;
    assert!(demo.is_err(), "the demo account exists only when no account is given");
    let seeded = client(&url, None)
        .send(&plots::Retrieve::new("bcowden:30".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(seeded.file.filename, "basic_sunburst_chart");
}

#[test]
fn bad_flags_are_refused_with_a_reason() {
    let output = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .args(["--listen", "127.0.0.1:0", "--error-rate", "2"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--error-rate must be between 0 and 1")
    );
    let output = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .args(["--listen", "127.0.0.1:0", "--user", "no-colon"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("must be NAME:API_KEY"));
}

#[test]
fn unsafe_accounts_are_refused_with_a_reason() {
    let refused = |args: &[&str], reason: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    };
    refused(&["--user", "alice:"], "shorter than 8 characters");
    refused(&["--user", "alice:short"], "shorter than 8 characters");
    refused(&["--user", "alice:first-key", "--user", "alice:second-key"], "alice is given twice");
    refused(&["--user", "demo:my-secret-key", "--demo"], "there is another account named demo");
}

#[tokio::test]
async fn seeded_owners_get_keys_nobody_can_guess() {
    let (_server, url) = start(&["--demo"]);
    let guessed =
        client(&url, Some(("bcowden", "bcowden-demo-key"))).send(&users::Current {}).await;
    assert_eq!(guessed.unwrap_err().status().map(|s| s.as_u16()), Some(401));
    let demo = client(&url, Some(("demo", "demo-api-key"))).send(&users::Current {}).await;
    assert_eq!(demo.unwrap().username, "demo", "the demo account's key is the documented one");
}

#[cfg(unix)]
#[tokio::test]
async fn one_log_line_per_request_without_secrets_and_sigterm_stops_cleanly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .args(["--listen", "127.0.0.1:0", "--user", "erin:erin-secret-key"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap().to_owned();
    let erin = client(&url, Some(("erin", "erin-secret-key")));
    assert_eq!(erin.send(&users::Current {}).await.unwrap().username, "erin");
    let mut secret = plots::Retrieve::new("erin:7".parse().unwrap());
    secret.share_key = Some("my-share-key-value".to_owned());
    assert!(client(&url, None).send(&secret).await.is_err());
    let answer = http_get(&url, "/healthz");
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with(r#"{"status":"ok"}"#),
        "{answer}"
    );

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "SIGTERM is a clean stop: {:?}", output.status);
    let logs = String::from_utf8_lossy(&output.stderr);
    let requests: Vec<&str> = logs.lines().filter(|l| l.contains("request")).collect();
    let logged = |path: &str, status: &str, user: &str| {
        requests.iter().any(|l| l.contains(path) && l.contains(status) && l.contains(user))
    };
    assert!(logged("path=/v2/users/current", "status=200", "user=\"erin\""), "{logs}");
    assert!(logged("path=/healthz", "status=200", "user=\"-\""), "{logs}");
    assert!(logged("path=/v2/plots/erin:7", "status=404", "user=\"-\""), "{logs}");
    for secret in ["erin-secret-key", "my-share-key-value", "Basic "] {
        assert!(!logs.contains(secret), "{secret} in the logs: {logs}");
    }
}

#[tokio::test]
async fn with_data_files_fids_share_keys_trash_and_counters_survive_kill_9() {
    use chart_studio_api::common::FileUpdate;
    use chart_studio_api::{files, folders};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = ["--data", data.to_str().unwrap(), "--user", "erin:erin-secret-key"];
    let (server, url, note) = start_with_note(&args);
    assert_eq!(note, format!("data: kept in {}", data.display()));
    let erin = client(&url, Some(("erin", "erin-secret-key")));
    let folder = erin.send(&folders::Create::new("reports/2024")).await.unwrap().file.file.fid;
    let secret = FileUpdate::default().sharing(false, true);
    let before = erin.send(&files::Update::patch(folder.clone(), secret)).await.unwrap();
    let trashed = erin.send(&folders::Create::new("old")).await.unwrap().file.file.fid;
    erin.send(&files::Trash::new(trashed.clone())).await.unwrap();
    let mut server = server;
    server.0.kill().unwrap(); // SIGKILL: no chance to flush anything
    server.0.wait().unwrap();

    let (_server, url, _) = start_with_note(&args);
    let erin = client(&url, Some(("erin", "erin-secret-key")));
    let after = erin.send(&files::Retrieve::new(folder.clone())).await.unwrap();
    assert_eq!((&after.fid, &after.filename), (&before.fid, &before.filename));
    assert_eq!(after.share_key(), before.share_key(), "the secret link still works");
    let old = erin.send(&files::Retrieve::new(trashed.clone())).await.unwrap();
    assert_eq!(old.deleted, Some(true), "still in the trash");
    let next = erin.send(&folders::Create::new("new")).await.unwrap().file.file.fid;
    assert_eq!(next.idlocal(), 3, "the counter went on after reports, 2024 and old: {next}");
    let wrong = client(&url, Some(("erin", "guess"))).send(&users::Current {}).await;
    assert!(wrong.is_err());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("chart-studio.sqlite3")), 0o600);
        let stored = std::fs::read(data.join("chart-studio.sqlite3")).unwrap();
        let text = String::from_utf8_lossy(&stored);
        assert!(!text.contains("erin-secret-key"), "keys are stored hashed");
    }
    let (_memory, _, note) = start_with_note::<&str>(&[]);
    assert!(note.contains("in memory only") && note.contains("--data DIR"), "{note}");
}

/// `user` verbs change a data folder's accounts: through the running server, which then
/// serves the change at once (and keeps it over a kill -9 and a restart), or, with no server,
/// in the database. A second server on the same folder is refused.
#[tokio::test]
async fn user_verbs_manage_the_accounts_of_a_data_folder() {
    user_verbs_manage_the_accounts(None).await;
}

/// The same with the data in PostgreSQL (the data folder holds the lock and control socket);
/// a second server on the same database, with a folder of its own, serves the same accounts,
/// and the folder alone is not taken for an empty SQLite one.
#[tokio::test]
async fn user_verbs_manage_the_accounts_of_a_postgresql_database() {
    let cluster = chart_studio_server::pg_cluster::TempCluster::start().unwrap();
    user_verbs_manage_the_accounts(Some(cluster.url().expose())).await;
}

async fn user_verbs_manage_the_accounts(database: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let mut storage = vec!["--data", data];
    storage.extend(database.iter().flat_map(|url| ["--database", url]));
    let verb = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
            .args(["user"])
            .args(args)
            .args(&storage)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.success(), stdout, String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let key_of = |printed: &str| printed.trim().strip_prefix("gina\t").unwrap().to_owned();
    let (ok, added, _) = verb(&["add", "gina"]);
    assert!(ok);
    let key = key_of(&added);
    assert_eq!(key.len(), 48, "192 random bits");
    let (ok, _, err) = verb(&["add", "gina"]);
    assert!(!ok && err.contains("already an account named gina"), "{err}");

    // With the server running, each change goes through it and is served at once.
    let (server, url) = start(&storage);
    let me = |key: &str| client(&url, Some(("gina", key)));
    assert_eq!(me(&key).send(&users::Current {}).await.unwrap().username, "gina");
    let (ok, rotated, err) = verb(&["rotate-key", "gina"]);
    assert!(ok, "{err}");
    let new_key = key_of(&rotated);
    assert!(me(&key).send(&users::Current {}).await.is_err(), "the old key is refused at once");
    me(&new_key).send(&chart_studio_api::folders::Create::new("made")).await.unwrap();
    let (ok, added, _) = verb(&["add", "hal"]);
    assert!(ok);
    let hal = added.trim().strip_prefix("hal\t").unwrap().to_owned();
    client(&url, Some(("hal", &hal))).send(&users::Current {}).await.unwrap();
    let second = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .args(["--listen", "127.0.0.1:0", "--data", data])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success() && said.contains("another chart-studio-server uses"),
        "{said}"
    );
    if let Some(database) = database {
        // A second server on the same database, with a folder of its own, serves the same
        // accounts, and a change made through it is served by the first at once.
        let elsewhere = dir.path().join("elsewhere");
        let (_other, other_url) =
            start(&["--database", database, "--data", elsewhere.to_str().unwrap()]);
        let there = client(&other_url, Some(("gina", &new_key)));
        assert_eq!(there.send(&users::Current {}).await.unwrap().username, "gina");
        there.send(&chart_studio_api::folders::Create::new("made there")).await.unwrap();
        let here = me(&new_key).send(&chart_studio_api::files::Lookup::new("made there")).await;
        assert!(here.is_ok(), "{here:?}");
    }
    drop(server); // kill -9

    let (server, url) = start(&storage);
    let me = |key: &str| client(&url, Some(("gina", key)));
    assert!(me(&key).send(&users::Current {}).await.is_err(), "the old key stays refused");
    me(&new_key).send(&users::Current {}).await.unwrap();
    let (_, listed, _) = verb(&["list"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed.starts_with("gina\t")
            && listed.lines().next().unwrap().ends_with(if database.is_some() {
                "\t2"
            } else {
                "\t1"
            }),
        "{listed}"
    );
    let (ok, _, _) = verb(&["remove", "hal"]);
    assert!(ok);
    assert!(client(&url, Some(("hal", &hal))).send(&users::Current {}).await.is_err());
    drop(server);

    // With no server, the database itself.
    let (ok, _, _) = verb(&["remove", "gina"]);
    assert!(ok);
    let (_, listed, _) = verb(&["list"]);
    assert_eq!(listed, "");
    let (ok, _, err) = verb(&["remove", "gina"]);
    assert!(!ok && err.contains("no account named gina"), "{err}");
    if database.is_some() {
        let alone = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
            .args(["user", "list", "--data", data])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&alone.stderr);
        assert!(!alone.status.success() && said.contains("in PostgreSQL"), "{said}");
        assert!(!std::path::Path::new(data).join("chart-studio.sqlite3").exists());
    }
}

/// `backup` copies a data folder's database while its server runs, as one checked snapshot;
/// the copy, put in an empty data folder, serves the same files; a backup never replaces a file.
#[tokio::test]
async fn a_backup_of_a_running_server_restores_into_a_new_data_folder() {
    use chart_studio_api::{files, folders};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = ["--data", data.to_str().unwrap(), "--user", "ida:ida-secret-key"];
    let (_server, url) = start(&args);
    let ida = client(&url, Some(("ida", "ida-secret-key")));
    let folder = ida.send(&folders::Create::new("kept/here")).await.unwrap().file.file.fid;

    let copy = dir.path().join("copy.sqlite3");
    let backup = |to: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
            .args(["backup", "--data", data.to_str().unwrap(), "--to", to.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let made = backup(&copy);
    let said = String::from_utf8_lossy(&made.stdout);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(said.ends_with("\t1 accounts\t2 files\n"), "{said}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let again = backup(&copy);
    assert!(!again.status.success(), "a backup never replaces a file");
    assert!(String::from_utf8_lossy(&again.stderr).contains("never replaces"));

    let restored = dir.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    std::fs::copy(&copy, restored.join("chart-studio.sqlite3")).unwrap();
    let (_other, url) = start(&["--data", restored.to_str().unwrap()]);
    let ida = client(&url, Some(("ida", "ida-secret-key")));
    let found = ida.send(&files::Lookup::new("kept/here")).await.unwrap();
    assert_eq!(found.fid, folder);
}

/// `copy` moves a stopped server's data from SQLite to PostgreSQL and back: every file, share
/// key, view count and content answers the same from a server on the copy, and both ends
/// print the same counts and checksum. It refuses a running source and a target with accounts.
#[tokio::test]
async fn copy_moves_a_server_between_sqlite_and_postgresql_and_back() {
    use chart_studio_api::raw::Raw;
    use serde_json::{Value, json};
    let cluster = chart_studio_server::pg_cluster::TempCluster::start().unwrap();
    let postgres = cluster.url().expose().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let user = ["--user", "ida:ida-secret-key"];
    let copy = |from: &str, to: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
            .args(["copy", "--from", from, "--to", to])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success(), said, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // What a client sees of a plot, its grid and the home folder, server links aside.
    let seen = |url: String, grid: String, plot: String| async move {
        let ida = client(&url, Some(("ida", "ida-secret-key")));
        let get = |path: String| {
            let ida = &ida;
            async move { ida.send(&Raw::new("GET", path)).await.unwrap() }
        };
        let file = get(format!("files/{plot}")).await;
        let fields = ["filename", "share_key", "views", "date_modified", "world_readable"];
        let kept: Vec<&Value> = fields.iter().map(|field| &file[*field]).collect();
        let listing = get("folders/home?page_size=100".to_owned()).await;
        let names: Vec<&Value> = listing["children"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|child| &child["filename"])
            .collect();
        let grid = get(format!("grids/{grid}/content")).await;
        let plot = get(format!("plots/{plot}/content?inline_data=true")).await;
        format!("{kept:?} {names:?} {grid} {plot}")
    };

    let (server, url) = start(&[&["--data", data], &user[..]].concat());
    let ida = client(&url, Some(("ida", "ida-secret-key")));
    let mut grid = Raw::new("POST", "grids");
    grid.body =
        Some(json!({"filename": "g", "data": {"cols": {"x": {"data": [1, 2], "order": 0}}}}));
    let grid: Value = ida.send(&grid).await.unwrap();
    let grid_fid = grid["file"]["fid"].as_str().unwrap().to_owned();
    let uid = grid["file"]["cols"][0]["uid"].as_str().unwrap();
    let mut plot = Raw::new("POST", "plots");
    plot.body = Some(json!({"filename": "p", "world_readable": false, "figure": {"data": [
        {"type": "bar", "xsrc": format!("{grid_fid}:{uid}")}]}}));
    let plot: Value = ida.send(&plot).await.unwrap();
    let plot_fid = plot["file"]["fid"].as_str().unwrap().to_owned();
    let mut secret = Raw::new("PATCH", format!("files/{plot_fid}"));
    secret.body = Some(json!({"share_key_enabled": true}));
    let shared: Value = ida.send(&secret).await.unwrap();
    let share_key = shared["share_key"].as_str().unwrap().to_owned();
    let mut folder = Raw::new("POST", "folders");
    folder.body = Some(json!({"path": "old"}));
    let folder: Value = ida.send(&folder).await.unwrap();
    let folder_fid = folder["file"]["fid"].as_str().unwrap();
    ida.send(&Raw::new("POST", format!("folders/{folder_fid}/trash"))).await.unwrap();
    let (ok, _, err) = copy(data, &postgres);
    assert!(!ok && err.contains("runs on"), "a running source is refused: {err}");
    let before = seen(url, grid_fid.clone(), plot_fid.clone()).await;
    assert!(before.contains(&share_key) && before.contains(r#""x":[1,2]"#), "{before}");
    drop(server);

    let (ok, there, err) = copy(data, &postgres);
    assert!(ok, "{err}");
    assert!(err.contains("copied 3 files"), "the progress is told on stderr: {err}");
    assert!(there.starts_with("copied 1 accounts, 3 files, 2 contents; sha256 "), "{there}");
    let (ok, _, err) = copy(data, &postgres);
    assert!(!ok && err.contains("already holds accounts"), "{err}");
    let (server, url) = start(&[&["--database", postgres.as_str()], &user[..]].concat());
    assert_eq!(seen(url, grid_fid.clone(), plot_fid.clone()).await, before);
    let elsewhere = dir.path().join("elsewhere");
    let (ok, _, err) = copy(&postgres, elsewhere.to_str().unwrap());
    assert!(!ok && err.contains("uses this database"), "a database in use is refused: {err}");
    drop(server);

    let back = dir.path().join("back");
    let (ok, again, err) = copy(&postgres, back.to_str().unwrap());
    assert!(ok, "{err}");
    assert_eq!(again, there, "the same counts and checksum at each end");
    let (_server, url) = start(&[&["--data", back.to_str().unwrap()], &user[..]].concat());
    assert_eq!(seen(url, grid_fid, plot_fid).await, before);
}

/// A `copy` killed (`kill -9`) while it runs leaves a target that neither a server nor a user
/// command opens, saying why; the same copy run again starts over and the target then serves
/// what the source held.
#[tokio::test]
async fn a_killed_copy_is_refused_until_it_is_run_again() {
    use chart_studio_api::raw::Raw;
    use serde_json::{Value, json};
    let cluster = chart_studio_server::pg_cluster::TempCluster::start().unwrap();
    let postgres = cluster.url().expose().to_owned();
    let (server, url) = start(&["--database", postgres.as_str(), "--user", "ida:ida-secret-key"]);
    let ida = client(&url, Some(("ida", "ida-secret-key")));
    let mut grid = Raw::new("POST", "grids");
    grid.body =
        Some(json!({"filename": "g", "data": {"cols": {"y": {"data": [4, 2], "order": 0}}}}));
    let grid: Value = ida.send(&grid).await.unwrap();
    let fid = grid["file"]["fid"].as_str().unwrap().to_owned();
    drop(server);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    let target = target.to_str().unwrap();
    let copy = || {
        Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
            .args(["copy", "--from", postgres.as_str(), "--to", target])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };

    // Holding the source's contents stops the copy after it marked its target: it waits there
    // until it is killed. (The blocking PostgreSQL client runs off the test's runtime.)
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut holder = postgres::Client::connect(&postgres, postgres::NoTls).unwrap();
            let mut watcher = postgres::Client::connect(&postgres, postgres::NoTls).unwrap();
            let mut held = holder.transaction().unwrap();
            held.batch_execute("LOCK TABLE contents IN ACCESS EXCLUSIVE MODE").unwrap();
            let mut copying = copy();
            let waits = (0..100_000).any(|_| {
                let waiting = watcher
                    .query_one(
                        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation IS NOT NULL",
                        &[],
                    )
                    .unwrap();
                waiting.get::<_, i64>(0) > 0
            });
            assert!(waits, "the copy never reached the source's contents");
            copying.kill().unwrap();
            copying.wait().unwrap();
            held.rollback().unwrap();
        });
    });

    let mut serve = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .args(["--listen", "127.0.0.1:0", "--data", target])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = BufReader::new(serve.stdout.take().unwrap()).lines().next();
    if let Some(Ok(line)) = first {
        serve.kill().unwrap();
        panic!("a server started on the unfinished copy: {line}");
    }
    let serve = serve.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&serve.stderr);
    assert!(!serve.status.success() && said.contains("unfinished copy"), "{said}");
    let list = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .args(["user", "list", "--data", target])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&list.stderr);
    assert!(!list.status.success() && said.contains("unfinished copy"), "{said}");

    assert!(copy().wait().unwrap().success(), "the copy run again passes its check");
    let (_server, url) = start(&["--data", target]);
    let ida = client(&url, Some(("ida", "ida-secret-key")));
    let content: Value = ida.send(&Raw::new("GET", format!("grids/{fid}/content"))).await.unwrap();
    assert_eq!(content["cols"]["y"]["data"], json!([4, 2]));
}

/// A server reaches PostgreSQL over TCP with TLS (the cluster lets in nothing else there),
/// checking its certificate against `PGSSLROOTCERT`; without the authority, commands refuse the
/// connection and say why.
#[tokio::test]
async fn a_server_reaches_postgresql_over_tls() {
    use chart_studio_api::raw::Raw;
    use serde_json::Value;
    let cluster = chart_studio_server::pg_cluster::TempCluster::start_with_tls().unwrap();
    let url = cluster.tls_url().unwrap().expose().to_owned();
    let list = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .args(["user", "list", "--database", url.as_str()])
        .env_remove("PGSSLROOTCERT")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&list.stderr);
    assert!(!list.status.success() && said.contains("certificate"), "{said}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .args(["--listen", "127.0.0.1:0", "--database", url.as_str()])
        .args(["--user", "ida:ida-secret-key"])
        .env("PGSSLROOTCERT", cluster.authority())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let first = BufReader::new(child.stdout.take().unwrap()).lines().next().unwrap().unwrap();
    let _server = Running(child);
    let url = first.strip_prefix("listening on ").unwrap();
    let ida = client(url, Some(("ida", "ida-secret-key")));
    let me: Value = ida.send(&Raw::new("GET", "users/current")).await.unwrap();
    assert_eq!(me["username"], "ida");
}

/// Two servers on one PostgreSQL database, as behind a load balancer: a file made through one
/// is at once readable, listed, shared and deleted through the other; creates sent to both at
/// once get distinct fids and names; a sign-in works on both; a `kill -9` of one loses
/// nothing the other or a restart does not serve.
#[tokio::test]
async fn two_servers_on_one_postgresql_database_serve_the_same_files() {
    use chart_studio_api::raw::Raw;
    use serde_json::{Value, json};
    let cluster = chart_studio_server::pg_cluster::TempCluster::start().unwrap();
    let url = cluster.url().expose().to_owned();
    let args =
        ["--database", url.as_str(), "--user", "ida:ida-secret-key", "--user", "jo:jo-secret-key"];
    let (first, one_url) = start(&args);
    let (_second, two_url) = start(&args);
    let one = client(&one_url, Some(("ida", "ida-secret-key")));
    let two = client(&two_url, Some(("ida", "ida-secret-key")));
    let jo = [&one_url, &two_url].map(|url| client(url, Some(("jo", "jo-secret-key"))));
    let send = |client: &Client, method: &str, path: String, body: Option<Value>| {
        let mut request = Raw::new(method, path);
        request.body = body;
        let client = client.clone();
        async move { client.send(&request).await }
    };

    let made =
        send(&one, "POST", "folders".into(), Some(json!({"path": "made/here"}))).await.unwrap();
    let fid = made["file"]["fid"].as_str().unwrap().to_owned();
    let read = send(&two, "GET", format!("files/{fid}"), None).await.unwrap();
    assert_eq!(read["filename"], "here");
    let found = send(&two, "GET", "files/lookup?path=made/here".into(), None).await.unwrap();
    assert_eq!(found["fid"], fid.as_str());
    let shared =
        send(&two, "PATCH", format!("files/{fid}"), Some(json!({"share_key_enabled": true})))
            .await
            .unwrap();
    let key = shared["share_key"].as_str().unwrap().to_owned();
    let again = send(&one, "GET", format!("files/{fid}"), None).await.unwrap();
    assert_eq!(again["share_key"], key.as_str(), "shared through the other server");
    send(&two, "POST", format!("folders/{fid}/trash"), None).await.unwrap();
    send(&one, "DELETE", format!("folders/{fid}/permanent_delete"), None).await.unwrap();
    let gone = send(&two, "GET", format!("files/{fid}"), None).await;
    assert!(gone.is_err(), "deleted through the other server: {gone:?}");

    // Creates sent to both at once, by two accounts: each account's creates take turns under
    // its lock for writes, whichever server they reach; the other account's go on meanwhile.
    let creates = (0..60).map(|n| {
        let client = match n % 3 {
            0 => &one,
            1 => &two,
            _ => &jo[n % 2],
        };
        send(client, "POST", "folders".into(), Some(json!({"path": format!("batch/{n}")})))
    });
    let (made, by_jo): (Vec<Value>, Vec<Value>) = futures_util::future::join_all(creates)
        .await
        .into_iter()
        .map(Result::unwrap)
        .partition(|made| made["file"]["owner"] == "ida");
    let mut jo_fids: Vec<&str> = by_jo.iter().map(|m| m["file"]["fid"].as_str().unwrap()).collect();
    jo_fids.sort_unstable();
    jo_fids.dedup();
    assert_eq!(jo_fids.len(), 20, "distinct fids of the other account: {jo_fids:?}");
    let unnamed = (0..10).map(|n| {
        let client = if n % 2 == 0 { &one } else { &two };
        send(client, "POST", "grids".into(), Some(json!({"data": {"cols": {"x": {"data": [n]}}}})))
    });
    let grids: Vec<Value> =
        futures_util::future::join_all(unnamed).await.into_iter().map(Result::unwrap).collect();
    let mut fids: Vec<&str> =
        made.iter().chain(&grids).map(|m| m["file"]["fid"].as_str().unwrap()).collect();
    fids.sort_unstable();
    fids.dedup();
    assert_eq!(fids.len(), 50, "distinct fids");
    let listed = send(&jo[0], "GET", "folders/all?page_size=100".into(), None).await.unwrap();
    // Its 20 folders and `batch`, made once.
    assert_eq!(listed["children"]["count"], 21, "every folder of the other account: {listed}");
    let mut names: Vec<&str> =
        grids.iter().map(|g| g["file"]["filename"].as_str().unwrap()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 10, "distinct default names: {names:?}");
    // Search and the public list are queries on PostgreSQL as on SQLite.
    let found = send(&two, "GET", "search?q=UNTITLED%20filetype:grid".into(), None).await.unwrap();
    assert_eq!(found["count"], 10, "{found}");
    let shared = grids[0]["file"]["fid"].as_str().unwrap();
    let figure = json!({"data": [{"type": "bar", "ysrc": format!("{shared}:{}", grids[0]["file"]["cols"][0]["uid"].as_str().unwrap())}]});
    let public = json!({"figure": figure, "filename": "public 50%", "world_readable": true});
    let plot = send(&one, "POST", "plots".into(), Some(public)).await.unwrap();
    for query in ["plots", "plots?order_by=-views", "search?q=50%25%20plottype:bar"] {
        let listed = send(&two, "GET", query.into(), None).await.unwrap();
        assert_eq!(listed["results"][0]["fid"], plot["file"]["fid"], "{query}: {listed}");
    }

    // A sign-in through one server is a session on the other; signing out there ends it.
    let form = "username=ida&api_key=ida-secret-key&next=/~ida/";
    let (status, head, _) = common::http(
        &one_url,
        "POST",
        "/login",
        &[("Origin", &one_url), ("Content-Type", "application/x-www-form-urlencoded")],
        form,
    );
    assert_eq!(status, 303, "{head}");
    let cookie = common::header(&head, "set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let page = |url: &str| common::http(url, "GET", "/~ida/", &[("Cookie", &cookie)], "").2;
    assert!(page(&two_url).contains("Signed in"), "the session is known to the other server");
    let headers = [("Origin", two_url.as_str()), ("Cookie", cookie.as_str())];
    assert_eq!(common::http(&two_url, "POST", "/logout", &headers, "").0, 303);
    assert!(!page(&one_url).contains("Signed in"), "signed out through the other server");

    drop(first); // kill -9
    send(&two, "POST", "folders".into(), Some(json!({"path": "after"}))).await.unwrap();
    let (_first, one) = start(&args);
    let one = client(&one, Some(("ida", "ida-secret-key")));
    let listed = send(&one, "GET", "folders/home?page_size=100".into(), None).await.unwrap();
    let children = listed["children"]["results"].as_array().unwrap();
    let names: Vec<&str> = children.iter().map(|c| c["filename"].as_str().unwrap()).collect();
    assert!(names.contains(&"after") && names.contains(&"batch"), "{names:?}");
    let batch = send(&one, "GET", "files/lookup?path=batch/39".into(), None).await.unwrap();
    assert_eq!(batch["filename"], "39");
    assert_eq!(names.iter().filter(|n| n.starts_with("untitled")).count(), 10, "{names:?}");
}

/// A server on PostgreSQL outlives a restart of PostgreSQL: the request the restart cut off
/// fails, the next ones open a new connection and go on, reads and changes alike.
#[tokio::test]
async fn a_server_on_postgresql_reconnects_after_postgresql_restarts() {
    use chart_studio_api::folders;
    let cluster = chart_studio_server::pg_cluster::TempCluster::start().unwrap();
    let url = cluster.url().expose().to_owned();
    let (_server, api) = start(&["--database", &url, "--user", "ida:ida-secret-key"]);
    let ida = client(&api, Some(("ida", "ida-secret-key")));
    ida.send(&folders::Create::new("before")).await.unwrap();
    cluster.restart().unwrap();
    let first = ida.send(&users::Current {}).await;
    let again = ida.send(&users::Current {}).await.unwrap();
    assert_eq!(again.username, "ida", "the next request is served ({first:?} before it)");
    let made = ida.send(&folders::Create::new("after")).await;
    if made.is_err() {
        // The lock connection learns of the restart on its first call.
        ida.send(&folders::Create::new("after")).await.unwrap();
    }
    let found = ida.send(&chart_studio_api::files::Lookup::new("before")).await.unwrap();
    assert_eq!(found.filename, "before");
    ida.send(&chart_studio_api::files::Lookup::new("after")).await.unwrap();
}
