//! End-to-end: the real `chart-studio` binary against the local server over real HTTP.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::process::Command;

use common::{CLI, KEY, Server, code, run, stderr, stdout};

#[test]
fn auth_status_names_sources_and_checks_the_key() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let ok = run(&server, home.path(), CLI, &["auth", "status"], "");
    assert_eq!(code(&ok), 0, "{}", stderr(&ok));
    let text = stdout(&ok);
    assert!(text.contains("username\tcli\tenvironment (PLOTLY_USERNAME)"), "{text}");
    assert!(text.contains("api_key\t***\tenvironment (PLOTLY_API_KEY)"), "{text}");
    assert!(stderr(&ok).contains(&format!("Logged in to {}/ as cli", server.url)), "{text}");
    assert!(!text.contains(KEY));

    let refused = run(&server, home.path(), Some(("cli", "wrong-key")), &["auth", "status"], "");
    assert_eq!(code(&refused), 4, "{}", stderr(&refused));
    assert!(stderr(&refused).contains("Bad API key"), "{}", stderr(&refused));

    let login = ["auth", "login", "--username", "cli"];
    let wrong = run(&server, home.path(), None, &login, "wrong-key\n");
    assert_eq!(code(&wrong), 4, "{}", stderr(&wrong));
    assert_eq!(
        stderr(&wrong).lines().next().unwrap(),
        format!(
            "error: {}/ did not accept this username and key; nothing was saved: could not check the credentials: Bad API key (401)",
            server.url
        ),
        "the action in words, then the server's answer in brief"
    );

    let missing = run(&server, home.path(), None, &["auth", "status"], "");
    assert_eq!(code(&missing), 4);
    assert!(stderr(&missing).contains("no credentials"), "{}", stderr(&missing));

    let json = run(&server, home.path(), CLI, &["--json", "auth", "status"], "");
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["user"]["username"], "cli");
    let api_key = value["settings"].as_array().unwrap().iter().find(|s| s["key"] == "api_key");
    assert_eq!(api_key.unwrap()["value"], "***");
    assert_eq!(api_key.unwrap()["source"], "environment (PLOTLY_API_KEY)");
}

#[test]
fn a_proxy_password_is_never_shown() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let proxy = "http://me:hunter2@127.0.0.1:9";
    let set = run(&server, home.path(), CLI, &["config", "set", "proxy", proxy], "");
    assert_eq!(code(&set), 0, "{}", stderr(&set));
    for args in [&["config", "list"][..], &["auth", "status"], &["-vvv", "config", "get", "proxy"]]
    {
        let output = run(&server, home.path(), CLI, args, "");
        let text = format!("{}{}", stdout(&output), stderr(&output));
        assert!(!text.contains("hunter2"), "{args:?}: {text}");
        if args[0] == "config" && args[1] == "list" {
            assert!(text.contains("http://me:***@127.0.0.1:9"), "{text}");
        }
    }
}

#[test]
fn auth_login_writes_a_private_credentials_file_that_later_runs_use() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let bad = run(&server, home.path(), None, &["auth", "login", "--username", "cli"], "nope\n");
    assert_eq!(code(&bad), 4, "{}", stderr(&bad));
    assert!(!home.path().join(".plotly/.credentials").exists(), "nothing saved for a refused key");

    let login = run(
        &server,
        home.path(),
        None,
        &["auth", "login", "--username", "cli"],
        &format!("{KEY}\n"),
    );
    assert_eq!(code(&login), 0, "{}", stderr(&login));
    let path = home.path().join(".plotly/.credentials");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let status = run(&server, home.path(), None, &["auth", "status"], "");
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    assert!(stdout(&status).contains(".plotly/.credentials"), "{}", stdout(&status));
}

#[test]
fn usage_errors_exit_2_with_one_clear_line() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    // What is not a fid is a path in the account: one that names nothing says what a fid
    // looks like and how to list the folder.
    for bad in ["foo", "foo:", "foo:-3", "a/b:1"] {
        let output = run(&server, home.path(), CLI, &["files", "get", bad], "");
        assert_eq!(code(&output), 2, "{bad}");
        let first = stderr(&output).lines().next().unwrap_or_default().to_owned();
        assert!(
            first.starts_with(&format!("error: no file at {bad:?}"))
                && first.contains("a fid looks like alice:12")
                && first.contains("folders ls"),
            "{first}"
        );
    }
    let output = run(&server, home.path(), CLI, &["files", "delete", "cli:0"], "");
    assert_eq!(code(&output), 2, "no terminal and no --yes: {}", stderr(&output));
    // A listing asked of `files` or `grids` points at `folders ls`.
    for args in [["files", "ls"], ["grids", "list"]] {
        let output = run(&server, home.path(), CLI, &args, "");
        assert_eq!(code(&output), 2, "{args:?}");
        assert!(
            stderr(&output).contains("tip: list files with `chart-studio folders ls"),
            "{args:?}"
        );
    }
}

#[test]
fn files_lifecycle_through_the_cli() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let body = r#"{"data": {"cols": {"x": {"data": [1, 2], "order": 0}}}, "filename": "numbers", "world_readable": false}"#;
    let input = home.path().join("grid.json");
    std::fs::write(&input, body).unwrap();
    let created = run(
        &server,
        home.path(),
        CLI,
        &["api", "POST", "grids", "--input", input.to_str().unwrap()],
        "",
    );
    assert_eq!(code(&created), 0, "{}", stderr(&created));
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    assert_eq!(created["file"]["fid"], "cli:0");

    let folder = run(&server, home.path(), CLI, &["folders", "create", "keep/here"], "");
    assert_eq!(code(&folder), 0, "{}", stderr(&folder));
    // As `mkdir -p`: a folder there already is found, once, not an error.
    let again = run(&server, home.path(), CLI, &["folders", "create", "keep/here"], "");
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    let (made, found) = (stdout(&folder), stdout(&again));
    assert_eq!(made.split('\t').next(), found.split('\t').next(), "the same folder: {found}");
    assert!(found.contains("\tfound\tkeep/here"), "{found}");
    let over_a_file = run(&server, home.path(), CLI, &["folders", "create", "numbers"], "");
    assert_eq!(code(&over_a_file), 1, "{}", stderr(&over_a_file));
    let said = stderr(&over_a_file);
    assert_eq!(said.matches("not a folder").count(), 1, "said once: {said}");

    let get = run(&server, home.path(), CLI, &["files", "get", "cli:0"], "");
    assert!(stdout(&get).contains("sharing\tprivate"), "{}", stdout(&get));
    let other =
        run(&server, home.path(), Some(("other", "other-key")), &["files", "get", "cli:0"], "");
    assert_eq!(code(&other), 1);
    assert_eq!(
        stderr(&other).lines().next(),
        Some("error: could not read cli:0: Not found. (404)")
    );

    assert_eq!(
        code(&run(&server, home.path(), CLI, &["files", "rename", "cli:0", "renamed"], "")),
        0
    );
    let moved = run(&server, home.path(), CLI, &["files", "move", "cli:0", "/keep//here/"], "");
    assert_eq!(code(&moved), 0, "a folder path is normalised: {}", stderr(&moved));
    let found =
        run(&server, home.path(), CLI, &["--json", "files", "lookup", "keep/here/renamed"], "");
    let found: serde_json::Value = serde_json::from_slice(&found.stdout).unwrap();
    assert_eq!(found["fid"], "cli:0");
    let missing_folder = run(&server, home.path(), CLI, &["files", "move", "cli:0", "nowhere"], "");
    assert!(
        stderr(&missing_folder).contains("folders create nowhere"),
        "{}",
        stderr(&missing_folder)
    );

    assert_eq!(code(&run(&server, home.path(), CLI, &["files", "trash", "cli:0"], "")), 0);
    assert_eq!(code(&run(&server, home.path(), CLI, &["files", "restore", "cli:0"], "")), 0);
    let deleted = run(&server, home.path(), CLI, &["files", "delete", "cli:0", "--yes"], "");
    assert_eq!(code(&deleted), 0, "{}", stderr(&deleted));
    assert!(stdout(&deleted).starts_with("delete\t1\t0\t0\t0"), "{}", stdout(&deleted));
    assert!(
        stderr(&deleted).contains(".local/state/chart-studio/runs/delete-"),
        "journals go to the user's state folder: {}",
        stderr(&deleted)
    );
    assert!(
        stderr(&deleted).contains("undo with `chart-studio bulk undo "),
        "a delete says how to undo it: {}",
        stderr(&deleted)
    );
    let gone = run(&server, home.path(), CLI, &["files", "get", "cli:0"], "");
    assert_eq!(code(&gone), 1);

    // Another user's file is refused before anything is sent: no journal, no backup.
    let runs = home.path().join(".local/state/chart-studio/runs");
    let kept: Vec<_> = std::fs::read_dir(&runs).unwrap().collect();
    let theirs = run(&server, home.path(), CLI, &["files", "delete", "bcowden:30", "--yes"], "");
    assert_eq!(code(&theirs), 1, "{}", stderr(&theirs));
    assert!(
        stderr(&theirs).contains("bcowden:30 belongs to bcowden; only its owner can delete it"),
        "{}",
        stderr(&theirs)
    );
    assert!(!stderr(&theirs).contains("resume"), "{}", stderr(&theirs));
    assert_eq!(std::fs::read_dir(&runs).unwrap().count(), kept.len(), "no journal, no backup");

    let listed = run(&server, home.path(), CLI, &["folders", "ls"], "");
    let lines: Vec<String> = stdout(&listed).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "the two folders: {lines:?}");
    assert!(lines[0].starts_with("cli:1\tfold\tprivate\tkeep\t"), "{lines:?}");
}

#[test]
fn public_listings_and_figures() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let list = run(&server, home.path(), None, &["plots", "list", "--limit", "3"], "");
    assert_eq!(code(&list), 0, "{}", stderr(&list));
    assert_eq!(stdout(&list).lines().count(), 3);
    let all = run(&server, home.path(), None, &["--json", "plots", "list", "--limit", "0"], "");
    let all: Vec<serde_json::Value> = serde_json::from_slice(&all.stdout).unwrap();
    assert_eq!(all.len(), 11, "ten captured plots and the demo's public one");
    let feed = run(&server, home.path(), None, &["plots", "feed", "--order", "most-viewed"], "");
    assert_eq!(stdout(&feed).lines().count(), 10);
    let figure =
        run(&server, home.path(), None, &["plots", "content", "bcowden:30", "--inline-data"], "");
    let figure: serde_json::Value = serde_json::from_slice(&figure.stdout).unwrap();
    assert!(figure["data"][0]["labels"].is_array());
    let demo = run(
        &server,
        home.path(),
        None,
        &["folders", "ls", "--user", "demo", "--filetype", "plot"],
        "",
    );
    assert_eq!(
        stdout(&demo).lines().count(),
        1,
        "others see only the public plot: {}",
        stdout(&demo)
    );
}

#[test]
fn api_passthrough_with_fields_and_pagination() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let user = run(&server, home.path(), CLI, &["api", "GET", "users/current"], "");
    let user: serde_json::Value = serde_json::from_slice(&user.stdout).unwrap();
    assert_eq!(user["username"], "cli");
    let all = run(
        &server,
        home.path(),
        None,
        &["api", "GET", "/v2/folders/all", "-f", "user=demo", "-f", "page_size=1", "--paginate"],
        "",
    );
    assert_eq!(code(&all), 0, "{}", stderr(&all));
    let items: Vec<serde_json::Value> = serde_json::from_slice(&all.stdout).unwrap();
    assert_eq!(items.len(), 1, "anonymous sees the demo's one public plot");
    let created =
        run(&server, home.path(), CLI, &["api", "POST", "folders", "-f", "path=made/by/api"], "");
    assert_eq!(code(&created), 0, "{}", stderr(&created));
    let patched = run(
        &server,
        home.path(),
        CLI,
        &["api", "PATCH", "files/cli:2", "-F", "world_readable=true"],
        "",
    );
    let patched: serde_json::Value = serde_json::from_slice(&patched.stdout).unwrap();
    assert_eq!(patched["world_readable"], true);
    let refused = run(&server, home.path(), CLI, &["api", "POST", "plots", "--paginate"], "");
    assert_eq!(code(&refused), 2);
}

#[test]
fn the_api_key_never_reaches_the_logs() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["-vvv", "auth", "status"][..],
        &["-vvv", "files", "get", "cli:999"],
        &["-vvv", "api", "GET", "users/current"],
    ] {
        let output = run(&server, home.path(), CLI, args, "");
        assert!(!stderr(&output).contains(KEY) && !stdout(&output).contains(KEY), "{args:?}");
        assert!(!stderr(&output).contains("czNjcmV0"), "nor its base64 form");
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_chart-studio"));
    let output = command
        .args(["auth", "status"])
        .env("HOME", home.path())
        .env("RUST_LOG", "trace")
        .env("PLOTLY_API_DOMAIN", &server.url)
        .env("PLOTLY_USERNAME", "cli")
        .env("PLOTLY_API_KEY", KEY)
        .output()
        .unwrap();
    let logs = stderr(&output);
    assert!(logs.len() > 1000, "trace logging is on");
    assert!(
        !logs.contains(KEY) && !logs.contains("Basic Y2xp"),
        "the key or its header leaked into trace logs"
    );
}

#[test]
fn credentials_are_not_sent_over_plain_http_to_other_hosts() {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_chart-studio"))
        .args(["auth", "status"])
        .env("HOME", home.path())
        .env("PLOTLY_API_DOMAIN", "http://plotly.example.invalid")
        .env("PLOTLY_USERNAME", "cli")
        .env("PLOTLY_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("refusing to send credentials over plain http"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn json_is_always_json_reads_need_no_confirmation_and_restore_is_honest() {
    let server = Server::start();
    server.handle().add_plots("cli", 1, "j", false).unwrap();
    let home = tempfile::tempdir().unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let output = run(&server, home.path(), CLI, &all, "");
        assert_eq!(code(&output), 0, "{args:?}: {}", stderr(&output));
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|err| panic!("{args:?}: {err}: {}", stdout(&output)))
    };
    assert_eq!(
        json(&["files", "trash", "cli:2"]),
        serde_json::json!({"fid": "cli:2", "action": "trashed", "filename": "plot 0", "folder": null})
    );
    assert_eq!(
        json(&["files", "restore", "cli:2"]),
        serde_json::json!({"fid": "cli:2", "action": "restored", "filename": "plot 0", "folder": null})
    );
    let again = run(&server, home.path(), CLI, &["files", "restore", "cli:2"], "");
    assert_eq!(code(&again), 1);
    assert!(
        stderr(&again).contains("cli:2 is not in the trash; nothing was restored"),
        "{}",
        stderr(&again)
    );
    assert_eq!(json(&["files", "rename", "cli:2", "renamed"])["filename"], "renamed");
    let nothing = json(&["bulk", "trash", "--name", "no such file", "--yes"]);
    assert_eq!(nothing["actions"], serde_json::json!([]), "{nothing}");
    assert_eq!(nothing["journal"], serde_json::Value::Null, "{nothing}");

    // An export only reads: no confirmation needed, even off a terminal.
    let export =
        run(&server, home.path(), CLI, &["bulk", "export", "out", "--journal", "e.jsonl"], "");
    assert_eq!(code(&export), 0, "{}", stderr(&export));
    // A journal is a local file: showing it needs no account and no server.
    let plan = run(&server, home.path(), None, &["--json", "bulk", "plan", "e.jsonl"], "");
    assert_eq!(code(&plan), 0, "{}", stderr(&plan));
    let shown: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(shown["operations"].as_array().unwrap().len(), 3);
}

#[test]
fn errors_say_what_went_wrong() {
    let server = Server::start();
    server.handle().add_plots("cli", 1, "e", true).unwrap();
    let home = tempfile::tempdir().unwrap();
    let theirs =
        run(&server, home.path(), Some(("other", "other-key")), &["files", "trash", "cli:2"], "");
    assert_eq!(code(&theirs), 4);
    assert!(
        stderr(&theirs).contains("this file is another account's")
            && !stderr(&theirs).contains("check the username and API key"),
        "{}",
        stderr(&theirs)
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let status = run(&server, home.path(), CLI, &["auth", "status", "--api-domain", &dead], "");
    assert_eq!(code(&status), 1, "{}", stderr(&status));
    assert!(
        stderr(&status).contains("could not be reached")
            && !stderr(&status).contains("not accepted"),
        "{}",
        stderr(&status)
    );
}

#[test]
fn timeout_bounds_the_wait_for_a_slow_server_and_logs_are_plain_text() {
    let server = Server::start_with(chart_studio_server::ServerConfig {
        faults: chart_studio_server::Faults {
            latency: std::time::Duration::from_millis(1500),
            ..chart_studio_server::Faults::default()
        },
        ..chart_studio_server::ServerConfig::default()
    });
    let home = tempfile::tempdir().unwrap();
    let slow = run(&server, home.path(), CLI, &["-v", "--timeout", "0.2", "auth", "status"], "");
    assert_eq!(code(&slow), 1, "{}", stderr(&slow));
    assert!(stderr(&slow).contains("timed out"), "{}", stderr(&slow));
    assert!(!stderr(&slow).contains('\u{1b}'), "no colour codes in a file: {}", stderr(&slow));
    let patient = run(&server, home.path(), CLI, &["-v", "--timeout", "5", "auth", "status"], "");
    assert_eq!(code(&patient), 0, "{}", stderr(&patient));
    assert!(
        stderr(&patient).contains("request method=GET path=/v2/users/current status=200 ms="),
        "-v shows each request: {}",
        stderr(&patient)
    );
    let bad = run(&server, home.path(), CLI, &["--timeout", "0", "auth", "status"], "");
    assert_eq!(code(&bad), 2);
}

#[test]
fn files_copy_makes_an_independent_private_copy_of_what_you_may_read() {
    let server = Server::start();
    let public = server.handle().add_plots("other", 1, "theirs", true).unwrap();
    let private = server.handle().add_plots("other", 1, "hidden", false).unwrap();
    let home = tempfile::tempdir().unwrap();
    let json = |user, args: &[&str]| common::json_as(&server, home.path(), user, args);
    let other = Some(("other", "other-key"));
    let source_data = json(CLI, &["plots", "content", &public[0], "--inline-data"]);

    let copied = json(CLI, &["files", "copy", &public[0], "--to", "/copies/"]);
    assert_eq!(
        (copied["source"].as_str(), copied["folder"].as_str()),
        (Some(public[0].as_str()), Some("copies"))
    );
    let fid = copied["fid"].as_str().unwrap().to_owned();
    assert!(fid.starts_with("cli:"), "owned by the caller: {copied}");
    assert_eq!(
        json(CLI, &["files", "get", &fid])["world_readable"],
        false,
        "a copy starts private"
    );
    let refs = json(CLI, &["plots", "content", &fid]);
    let src = refs["data"][0]["ysrc"].as_str().unwrap();
    assert!(src.starts_with("cli:"), "the copy draws from its own grid: {refs}");
    assert_eq!(
        json(CLI, &["plots", "content", &fid, "--inline-data"])["data"],
        source_data["data"]
    );

    // Changing the source leaves the copy as it was.
    let deleted =
        run(&server, home.path(), other, &["bulk", "delete", "--folder", "theirs", "--yes"], "");
    assert_eq!(code(&deleted), 0, "{}", stderr(&deleted));
    assert_eq!(
        json(CLI, &["plots", "content", &fid, "--inline-data"])["data"],
        source_data["data"]
    );

    // A second copy gets a name of its own; a private file cannot be copied by others.
    let again = json(CLI, &["files", "copy", &fid, "--to", "copies"]);
    assert_eq!(again["filename"], "plot 0 (copy)");
    let refused = run(&server, home.path(), CLI, &["files", "copy", &private[0]], "");
    assert_eq!(code(&refused), 1, "{}", stderr(&refused));
    assert!(stderr(&refused).contains("404"), "{}", stderr(&refused));
}

#[test]
fn the_api_root_lists_the_endpoints() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    for path in ["/v2/", "/v2//", "/v2"] {
        let index = common::json_as(&server, home.path(), None, &["api", "GET", path]);
        assert_eq!(index["files"], format!("{}/v2/files", server.url), "{path}: {index}");
        assert_eq!(index["plots"], format!("{}/v2/plots", server.url), "{path}: {index}");
    }
}
