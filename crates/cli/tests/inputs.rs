//! End to end: what the official Python client accepts works here too; creation never
//! overwrites by surprise; and messages say what happened.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use common::{CLI, KEY, Server, code, json_as, run, run_with_env, stderr, stdout};
use serde_json::{Value, json};

fn write(home: &std::path::Path, name: &str, value: &Value) -> String {
    std::fs::write(home.join(name), value.to_string()).unwrap();
    name.to_owned()
}

#[test]
fn the_python_client_s_inputs_work() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();

    // A bare list of traces, a path with extra slashes, a legacy trace with a streaming token.
    let traces = json!([{"type": "histogramx", "x": [1, 2, 2], "stream": {"token": "t0k3n"}}]);
    let figure = write(home.path(), "traces.json", &traces);
    let made = json_as(
        &server,
        home.path(),
        CLI,
        &["plots", "create", &figure, "--filename", "/reports//2024/sales/"],
    );
    assert_eq!(
        (made["action"].as_str(), made["path"].as_str()),
        (Some("created"), Some("reports/2024/sales"))
    );
    let fid = made["fid"].as_str().unwrap();
    let content = json_as(&server, home.path(), CLI, &["plots", "content", fid, "--inline-data"]);
    assert_eq!(content["data"][0]["type"], "histogram", "legacy types are mapped: {content}");
    assert!(content["data"][0].get("stream").is_none(), "streaming tokens are removed: {content}");
    assert_eq!(content["data"][0]["x"], json!([1, 2, 2]));
    // The grid's columns are named as the Python client names them.
    let grid = made["grid"].as_str().unwrap();
    let csv = run(&server, home.path(), CLI, &["grids", "get", grid], "");
    assert!(stdout(&csv).starts_with("data.0.x\n"), "{}", stdout(&csv));
    let lookup =
        json_as(&server, home.path(), CLI, &["files", "lookup", "/reports/2024/sales_grid"]);
    assert_eq!(lookup["fid"], grid, "the grid sits beside the plot as NAME_grid");

    // Credentials in PLOTLY_DIR, as the Python client keeps them there.
    let dir = home.path().join("elsewhere");
    std::fs::create_dir_all(&dir).unwrap();
    let creds =
        json!({"username": "cli", "api_key": KEY, "proxy_username": "p", "proxy_password": "pw"});
    std::fs::write(dir.join(".credentials"), creds.to_string()).unwrap();
    let plotly_dir = [("PLOTLY_DIR", dir.to_str().unwrap())];
    let status = run_with_env(&server, home.path(), None, &["auth", "status"], "", &plotly_dir);
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    assert!(
        stdout(&status).contains(&format!("{}/.credentials", dir.display())),
        "{}",
        stdout(&status)
    );
    let logout = run_with_env(&server, home.path(), None, &["auth", "logout"], "", &plotly_dir);
    assert_eq!(code(&logout), 0, "{}", stderr(&logout));
    let left: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(".credentials")).unwrap()).unwrap();
    assert_eq!(
        left,
        json!({"proxy_username": "p", "proxy_password": "pw"}),
        "only the account is removed"
    );
    let login = run_with_env(
        &server,
        home.path(),
        None,
        &["auth", "login", "--username", "cli"],
        KEY,
        &plotly_dir,
    );
    assert_eq!(code(&login), 0, "{}", stderr(&login));
    let back: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(".credentials")).unwrap()).unwrap();
    assert_eq!(
        (back["username"].as_str(), back["proxy_username"].as_str()),
        (Some("cli"), Some("p"))
    );

    // A secret link with two keys: the last one counts.
    let secret = json_as(
        &server,
        home.path(),
        CLI,
        &["plots", "create", &figure, "--filename", "s", "--sharing", "secret"],
    );
    let url = secret["url"].as_str().unwrap();
    let (base, key) = url.split_once("?share_key=").unwrap();
    let twice = format!("{base}?share_key=stale&share_key={key}");
    let other = Some(("other", "other-key"));
    let read = run(&server, home.path(), other, &["files", "get", &twice], "");
    assert_eq!(code(&read), 0, "{}", stderr(&read));
    let wrong_last = format!("{base}?share_key={key}&share_key=stale");
    assert_eq!(code(&run(&server, home.path(), other, &["files", "get", &wrong_last], "")), 1);

    // A link to another server is refused before anything is sent.
    let foreign = run(
        &server,
        home.path(),
        CLI,
        &["files", "trash", "https://elsewhere.example/~cli/3/"],
        "",
    );
    assert_eq!(code(&foreign), 2, "{}", stderr(&foreign));
    assert!(stderr(&foreign).contains("not to the configured server"), "{}", stderr(&foreign));
}

#[test]
fn creation_never_overwrites_by_surprise() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let figure = write(home.path(), "f.json", &json!({"data": [{"y": [1, 2]}], "layout": {}}));
    let create = |extra: &[&str]| -> std::process::Output {
        let mut args = vec!["--json", "plots", "create", &figure];
        args.extend_from_slice(extra);
        run(&server, home.path(), CLI, &args, "")
    };
    let parse = |output: &std::process::Output| -> Value {
        assert_eq!(code(output), 0, "{}", stderr(output));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let first = parse(&create(&["--filename", "a/b"]));
    assert_eq!(first["action"], "created");
    let same = parse(&create(&["--filename", "a//b/"]));
    assert_eq!(
        (same["action"].as_str(), same["fid"].clone()),
        (Some("updated"), first["fid"].clone()),
        "a//b/ is a/b"
    );

    let refused = create(&["--filename", "a/b", "--if-exists", "fail"]);
    assert_eq!(code(&refused), 1);
    assert!(stderr(&refused).contains("a/b already holds"), "{}", stderr(&refused));
    let fresh = parse(&create(&["--filename", "a/b", "--if-exists", "new"]));
    assert_eq!(
        (fresh["action"].as_str(), fresh["path"].as_str()),
        (Some("created"), Some("a/b (1)"))
    );
    assert_ne!(fresh["fid"], first["fid"]);
    let next = parse(&create(&["--filename", "a/b", "--if-exists", "new"]));
    assert_eq!(next["path"], "a/b (2)");

    // On a terminal-less run, the row says what happened too.
    let piped = run(
        &server,
        home.path(),
        CLI,
        &["plots", "create", "-", "--if-exists", "new"],
        r#"{"data": [{"y": [1]}]}"#,
    );
    assert_eq!(code(&piped), 0, "{}", stderr(&piped));
    let row: Vec<String> = stdout(&piped).trim_end().split('\t').map(str::to_owned).collect();
    assert_eq!((row[1].as_str(), row[2].as_str()), ("created", "untitled"), "{row:?}");
    let again =
        run(&server, home.path(), CLI, &["plots", "create", "-"], r#"{"data": [{"y": [1]}]}"#);
    assert!(stdout(&again).contains("\tupdated\tuntitled\t"), "{}", stdout(&again));
}

#[test]
fn messages_say_what_happened() {
    let server = Server::start_with(chart_studio_server::ServerConfig {
        limits: chart_studio_server::Limits {
            max_body_bytes: 20_000,
            ..chart_studio_server::Limits::default()
        },
        ..chart_studio_server::ServerConfig::default()
    });
    let plots = server.handle().add_plots("cli", 1, "m", false).unwrap();
    let fid = plots[0].as_str();
    let path = format!("/v2/files/{fid}");
    let home = tempfile::tempdir().unwrap();

    // A body over the server's limit: the server's own 413 text, not a broken connection.
    let numbers: Vec<u32> = (0..50_000).collect();
    let big = write(home.path(), "big.json", &json!({"data": [{"y": numbers}]}));
    let refused = run(&server, home.path(), CLI, &["plots", "create", &big], "");
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("413")
            && stderr(&refused).contains("too large (the limit is 20000 bytes)"),
        "{}",
        stderr(&refused)
    );
    assert!(!stderr(&refused).to_lowercase().contains("broken pipe"), "{}", stderr(&refused));

    // Settings that contradict each other are refused, naming both; unset removes one.
    assert_eq!(
        code(&run(&server, home.path(), CLI, &["config", "set", "sharing", "private"], "")),
        0
    );
    let clash = run(&server, home.path(), CLI, &["config", "set", "world_readable", "true"], "");
    assert_eq!(code(&clash), 2);
    assert!(
        stderr(&clash).contains("sharing") && stderr(&clash).contains("world_readable"),
        "{}",
        stderr(&clash)
    );
    assert_eq!(code(&run(&server, home.path(), CLI, &["config", "unset", "sharing"], "")), 0);
    let now = run(&server, home.path(), CLI, &["config", "set", "world_readable", "true"], "");
    assert_eq!(code(&now), 0, "{}", stderr(&now));

    // `api`: a page-less answer with --paginate, a full URL on the server, headers.
    let file = json_as(&server, home.path(), CLI, &["api", "GET", &path, "--paginate"]);
    assert_eq!(file["fid"], fid, "an answer that is not a list is printed as it is");
    let full = format!("{}{path}", server.url);
    assert_eq!(json_as(&server, home.path(), CLI, &["api", "GET", &full])["fid"], fid);
    let away = run(
        &server,
        home.path(),
        CLI,
        &["api", "GET", &format!("https://elsewhere.example{path}")],
        "",
    );
    assert_eq!(code(&away), 2);
    assert!(stderr(&away).contains("not on the configured API server"), "{}", stderr(&away));
    let replaced = run(
        &server,
        home.path(),
        CLI,
        &["api", "GET", "/v2/users/current", "-H", "Authorization: Basic bm9uZTpub25l"],
        "",
    );
    assert_eq!(
        code(&replaced),
        4,
        "the header given replaces the standard one: {}",
        stderr(&replaced)
    );
    let listed = json_as(
        &server,
        home.path(),
        CLI,
        &["api", "GET", "/v2/folders/all", "--paginate", "-f", "user=cli", "-f", "page_size=1"],
    );
    assert!(listed.as_array().unwrap().len() > 1, "pages are followed: {listed}");

    // Colour on stderr only on a terminal, unless CLICOLOR_FORCE asks for it.
    let forced = run_with_env(
        &server,
        home.path(),
        CLI,
        &["-vv", "auth", "status"],
        "",
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(stderr(&forced).contains('\u{1b}'), "{}", stderr(&forced));
    let plain = run(&server, home.path(), CLI, &["-vv", "auth", "status"], "");
    assert!(!stderr(&plain).contains('\u{1b}'), "{}", stderr(&plain));
}
