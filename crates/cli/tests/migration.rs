//! Moving off a Chart Studio server, end to end through the real binaries: two accounts'
//! files (plots in folders, a secret plot, a dashboard) are exported with `bulk export`, put
//! into a fresh data folder with `chart-studio-server restore`, and served by a new
//! `chart-studio-server`: every old link (page, `.png`, `.embed`, `.json`, secret link,
//! dashboard) answers there as it did, and the pages draw in headless Chromium. Then `relink
//! --write` rewrites a README and a notebook to the new server, and `--check` finds no dead link.
//!
//! The server binary is the workspace's (built beside this crate's binary by `cargo build
//! --workspace`, as `cargo xtask ci` does).

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{CLI, Server, code, json_as, run, stderr, stdout};
use serde_json::{Value, json};

const OTHER: Option<(&str, &str)> = Some(("other", "other-key"));

/// The workspace's `chart-studio-server`, beside this crate's binary.
fn server_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_chart-studio")).with_file_name("chart-studio-server");
    assert!(path.is_file(), "{} is missing: build the workspace first", path.display());
    path
}

/// A `chart-studio-server` process, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A GET of `path`: status, content type and body.
fn get(url: &str, path: &str) -> (u16, String, Vec<u8>) {
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    (status, content_type, answer[split + 4..].to_vec())
}

/// The DOM of `url` in headless Chromium once its scripts ran.
fn dom(url: &str, profile: &Path) -> String {
    let browser = ["chromium-headless-shell", "chromium"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
        .expect("no headless browser: apt-get install chromium-headless-shell (.ci/run does)");
    let output = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        .args(["--disable-background-networking", "--virtual-time-budget=15000"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The path (with its query) of `link`.
fn path_of(link: &str) -> String {
    let url = url::Url::parse(link).unwrap();
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

#[test]
fn a_server_moved_with_export_restore_and_relink_keeps_every_link() {
    let old = Server::start();
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    std::fs::write(dir.join("figure.json"), r#"{"data": [{"type": "scatter", "y": [3, 1, 2]}]}"#)
        .unwrap();
    let create = |user, name: &str, sharing: &str| {
        let args = ["plots", "create", "figure.json", "--filename", name, "--sharing", sharing];
        json_as(&old, dir, user, &args)["fid"].as_str().unwrap().to_owned()
    };
    let public = create(CLI, "reports/2024/sales", "public");
    let secret = create(CLI, "reports/secret plan", "secret");
    let theirs = create(OTHER, "mine", "public");
    let board = json!({"layout": {"type": "split", "direction": "horizontal", "first":
        {"type": "box", "boxType": "plot", "fileId": public, "title": "sales"}, "second":
        {"type": "box", "boxType": "text", "text": "Notes"}}, "settings": {}, "version": 2});
    std::fs::write(dir.join("board.json"), board.to_string()).unwrap();
    let board =
        json_as(&old, dir, CLI, &["dashboards", "create", "board.json", "--filename", "board"]);
    let board = board["fid"].as_str().unwrap().to_owned();
    let meta = |user, fid: &str| json_as(&old, dir, user, &["files", "get", fid]);
    let secret_key = meta(CLI, &secret)["share_key"].as_str().unwrap().to_owned();

    // Export each account, then restore both into a fresh data folder.
    let exports = [dir.join("cli-export"), dir.join("other-export")];
    for (user, export) in [(CLI, &exports[0]), (OTHER, &exports[1])] {
        let exported = run(&old, dir, user, &["bulk", "export", export.to_str().unwrap()], "");
        assert_eq!(code(&exported), 0, "{}", stderr(&exported));
    }
    let manifest = std::fs::read_to_string(exports[0].join("manifest.jsonl")).unwrap();
    assert!(manifest.lines().next().unwrap().contains("secrets"), "the manifest warns: {manifest}");
    let data = dir.join("new-data");
    let restored = Command::new(server_binary())
        .arg("restore")
        .args(&exports)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&restored.stdout).into_owned();
    assert!(restored.status.success(), "{printed}{}", String::from_utf8_lossy(&restored.stderr));
    let key_of = |name: &str| {
        let prefix = format!("made the account {name}; its API key (shown once): ");
        printed.lines().find_map(|line| line.strip_prefix(&prefix)).unwrap().to_owned()
    };
    let (cli_key, _) = (key_of("cli"), key_of("other"));

    let mut child = Command::new(server_binary())
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = BufReader::new(child.stdout.take().unwrap()).lines().next().unwrap().unwrap();
    let _new_server = Running(child);
    let new = first.strip_prefix("listening on ").unwrap().to_owned();

    // Every old link answers the same on the new server.
    let id = |fid: &str| fid.rsplit(':').next().unwrap().to_owned();
    let (p, s, t, b) = (id(&public), id(&secret), id(&theirs), id(&board));
    let links = [
        format!("/~cli/{p}/"),
        format!("/~cli/{p}/sales-title-slug/"),
        format!("/~cli/{p}.embed"),
        format!("/~cli/{p}.json"),
        format!("/~cli/{p}.png"),
        format!("/~cli/{s}/?share_key={secret_key}"),
        format!("/~cli/{s}.json?share_key={secret_key}"),
        format!("/~cli/{s}/"),
        format!("/~other/{t}/"),
        format!("/dashboard/cli:{b}/"),
        format!("/dashboard/cli:{b}/present"),
        format!("/~cli/{b}/"),
    ];
    for link in &links {
        let (old_status, old_type, old_body) = get(&old.url, link);
        let (new_status, new_type, new_body) = get(&new, link);
        assert_eq!((old_status, &old_type), (new_status, &new_type), "{link}");
        if old_type.starts_with("image/") {
            assert!(new_body.starts_with(b"\x89PNG"), "{link}");
        } else {
            let old_body = String::from_utf8_lossy(&old_body).replace(&old.url, &new);
            assert_eq!(old_body, String::from_utf8_lossy(&new_body), "{link}");
        }
    }
    let new_meta: Value = {
        let who = chart_studio_api::Credentials::new("cli", &cli_key);
        let config = chart_studio_api::Config::new(&new, Some(who), false).unwrap();
        let settings = chart_studio_http::HttpSettings::default();
        let client = chart_studio_api::Client::new(
            chart_studio_http::HttpTransport::new(&settings).unwrap(),
            config,
        );
        let retrieve = chart_studio_api::files::Retrieve::new(secret.parse().unwrap());
        let file =
            tokio::runtime::Runtime::new().unwrap().block_on(client.send(&retrieve)).unwrap();
        serde_json::to_value(file).unwrap()
    };
    let old_meta = meta(CLI, &secret);
    for field in ["filename", "share_key", "world_readable", "creation_time", "views", "parent"] {
        assert_eq!(old_meta[field], new_meta[field], "{field}");
    }
    let profile = dir.join("profile");
    for link in [
        format!("/~cli/{p}/"),
        format!("/~cli/{s}/?share_key={secret_key}"),
        format!("/dashboard/cli:{b}/"),
    ] {
        let page = dom(&format!("{new}{link}"), &profile);
        assert!(page.contains("class=\"main-svg\""), "{link} draws no chart:\n{page}");
    }

    // Old links in a README and a notebook, rewritten to the new server, all answer there.
    let docs = dir.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    let old_host = old.url.trim_start_matches("http://").to_owned();
    std::fs::write(
        docs.join("README.md"),
        format!(
            "# Sales\n\n[Chart](https://plot.ly/~cli/{p}/sales/) ![chart](https://chart-studio.plotly.com/~cli/{p}.png)\n\
             Secret: https://plotly.com/~cli/{s}/?share_key={secret_key}.\n\
             Board: <https://plot.ly/dashboard/cli:{b}/present>\n\
             <script data-plotly=\"other:{t}\" src=\"https://plot.ly/embed.js\" async></script>\n\
             Served here first: {}/~cli/{p}.embed\n\
             Docs stay: https://plotly.com/python/\n",
            old.url
        ),
    )
    .unwrap();
    let notebook = format!(
        "{{\n \"cells\": [\n  {{\n   \"cell_type\": \"markdown\",\n   \"metadata\": {{}},\n   \"source\": [\n    \"![c](https://plot.ly/~cli/{p}.png)\\n\"\n   ]\n  }},\n  {{\n   \"cell_type\": \"code\",\n   \"execution_count\": 1,\n   \"metadata\": {{}},\n   \"outputs\": [\n    {{\n     \"data\": {{\"text/html\": [\"<iframe src=\\\"https://plot.ly/~cli/{p}.embed\\\"></iframe>\"]}},\n     \"metadata\": {{}},\n     \"output_type\": \"display_data\"\n    }}\n   ],\n   \"source\": [\"py.iplot(fig)\"]\n  }}\n ],\n \"metadata\": {{}},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}}\n"
    );
    std::fs::write(docs.join("analysis.ipynb"), &notebook).unwrap();
    let docs_arg = docs.to_str().unwrap();
    let relink = |extra: &[&str]| {
        let mut args = vec!["relink", docs_arg, "--to", new.as_str(), "--from", old_host.as_str()];
        args.extend_from_slice(extra);
        run(&old, dir, None, &args, "")
    };
    let shown = relink(&[]);
    assert_eq!(code(&shown), 0, "{}", stderr(&shown));
    assert!(
        stdout(&shown).contains("8 link(s) in 2 file(s) would be rewritten"),
        "{}",
        stdout(&shown)
    );
    assert!(
        std::fs::read_to_string(docs.join("README.md")).unwrap().contains("https://plot.ly/"),
        "nothing written yet"
    );
    let written = relink(&["--write", "--check"]);
    assert_eq!(code(&written), 0, "{}{}", stdout(&written), stderr(&written));
    assert!(
        stdout(&written).contains("every link to the new server answers"),
        "{}",
        stdout(&written)
    );
    let readme = std::fs::read_to_string(docs.join("README.md")).unwrap();
    assert!(readme.contains(&format!("{new}/~cli/{s}/?share_key={secret_key}.")), "{readme}");
    assert!(
        readme.contains("https://plotly.com/python/") && !readme.contains("plot.ly"),
        "{readme}"
    );
    let rewritten = std::fs::read_to_string(docs.join("analysis.ipynb")).unwrap();
    assert_eq!(rewritten, notebook.replace("https://plot.ly", &new), "only the links changed");
    for link in readme.split_whitespace().filter_map(|word| word.find(&new).map(|at| &word[at..])) {
        let link = link.trim_end_matches(['.', ')', '>', '"']).split('"').next().unwrap();
        let (status, _, _) = get(&new, &path_of(link));
        assert_eq!(status, 200, "{link}");
    }

    // A link to a file the new server does not have is listed as dead (exit code 1).
    std::fs::write(docs.join("more.md"), "Gone: https://plot.ly/~cli/999/\n").unwrap();
    let checked = relink(&["--check", "--json"]);
    assert_eq!(code(&checked), 1, "{}", stderr(&checked));
    let report: Value = serde_json::from_slice(&checked.stdout).unwrap();
    let dead: Vec<&str> =
        report["dead"].as_array().unwrap().iter().map(|d| d["link"].as_str().unwrap()).collect();
    assert_eq!(dead, [format!("{new}/~cli/999/")], "{report}");
}
