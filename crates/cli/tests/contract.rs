//! The output contract, end to end: every subcommand in clap's command tree prints exactly one
//! JSON document with `--json`, and only fields its `--json=` list names; `--jq` filters lists and
//! objects; errors under `--json` are JSON on stderr; completions load in bash.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{CLI, Server, code, run, stderr, stdout};
use serde_json::Value;

/// Every leaf command path of the command tree (a command with a subcommand and arguments of
/// its own, like `share`, counts itself too).
fn leaves(command: &clap::Command, path: &mut Vec<String>, found: &mut Vec<String>) {
    let runs_itself = command.get_subcommands().next().is_none()
        || command.get_arguments().any(|arg| arg.is_positional());
    if runs_itself && !path.is_empty() {
        found.push(path.join(" "));
    }
    for sub in command.get_subcommands().filter(|sub| sub.get_name() != "help") {
        path.push(sub.get_name().to_owned());
        leaves(sub, path, found);
        path.pop();
    }
}

/// The only JSON document on `output`'s stdout.
fn one_document(args: &[&str], output: &std::process::Output) -> Value {
    let documents: Vec<Value> = serde_json::Deserializer::from_slice(&output.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|err| panic!("{args:?}: stdout is not JSON ({err}): {}", stdout(output)));
    assert_eq!(documents.len(), 1, "{args:?}: one document, not {}", documents.len());
    documents.into_iter().next().unwrap()
}

/// The fields `--json=` lists for a command (empty: the document has no fixed fields).
fn listed_fields(server: &Server, home: &Path, args: &[&str]) -> BTreeSet<String> {
    let mut all = vec!["--json="];
    all.extend_from_slice(args);
    let output = run(server, home, CLI, &all, "");
    assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
    assert!(output.stdout.is_empty(), "{args:?}: nothing on stdout");
    let text = stderr(&output);
    assert!(text.starts_with("error: name the fields after --json="), "{args:?}: {text}");
    if text.contains("no fixed fields") {
        return BTreeSet::new();
    }
    // Text, one field per line, as gh lists them: a list is for reading, even under --json.
    let (_, list) = text.split_once("(--json=FIELD,...):\n").expect("the fields follow");
    list.lines().map(|line| line.trim().to_owned()).collect()
}

/// The top-level keys of a document, or of each object of a list.
fn keys(document: &Value) -> BTreeSet<String> {
    match document {
        Value::Object(object) => object.keys().cloned().collect(),
        Value::Array(items) => items.iter().flat_map(keys).collect(),
        _ => BTreeSet::new(),
    }
}

#[test]
fn every_subcommand_prints_one_json_document_with_the_fields_it_lists() {
    let server = Server::start();
    let plots = server.handle().add_plots("cli", 3, "j", false).unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("figure.json"), r#"[{"type": "bar", "y": [1, 2]}]"#).unwrap();
    let board =
        format!(r#"{{"layout": {{"type": "box", "boxType": "plot", "fileId": "{}"}}}}"#, plots[0]);
    std::fs::write(home.path().join("board.json"), board).unwrap();
    std::fs::write(home.path().join("deck.json"), r#"{"presentation": {"slides": []}}"#).unwrap();
    std::fs::write(home.path().join("notes.md"), "[chart](https://plot.ly/~cli/0/)\n").unwrap();
    let grids =
        run(&server, home.path(), CLI, &["--json", "folders", "ls", "--filetype", "grid"], "");
    let grid = one_document(&[], &grids)[0]["fid"].as_str().unwrap().to_owned();
    let (kept, other, doomed) = (plots[0].as_str(), plots[1].as_str(), plots[2].as_str());

    // Each command with arguments that work on this account, in an order that keeps them working.
    let commands: Vec<(&str, Vec<&str>, &str)> = vec![
        ("auth status", vec![], ""),
        ("auth login", vec!["--username", "cli"], common::KEY),
        ("auth logout", vec![], ""),
        ("files get", vec![kept], ""),
        ("files lookup", vec!["j/plot 0"], ""),
        ("files trash", vec![other], ""),
        ("files restore", vec![other], ""),
        ("files rename", vec![other, "renamed"], ""),
        ("files move", vec![other, "home"], ""),
        ("files copy", vec![kept, "--to", "copies"], ""),
        ("plots list", vec![], ""),
        ("plots feed", vec![], ""),
        ("plots create", vec!["figure.json", "--filename", "made"], ""),
        ("plots content", vec![kept], ""),
        ("folders ls", vec![], ""),
        ("folders create", vec!["/x//y/"], ""),
        ("grids get", vec![&grid], ""),
        ("dashboards create", vec!["board.json"], ""),
        ("dashboards list", vec![], ""),
        ("dashboards get", vec!["board"], ""),
        ("presentations create", vec!["deck.json"], ""),
        ("presentations list", vec![], ""),
        ("presentations get", vec!["deck"], ""),
        ("share", vec![kept, "secret"], ""),
        ("share show", vec![kept], ""),
        ("config set", vec!["sharing", "private"], ""),
        ("config get", vec!["sharing"], ""),
        ("config list", vec![], ""),
        ("config unset", vec!["sharing"], ""),
        ("bulk share", vec!["public", "--folder", "j", "--yes", "--journal", "share.jsonl"], ""),
        ("bulk plan", vec!["share.jsonl"], ""),
        ("bulk runs", vec![], ""),
        ("bulk resume", vec!["share.jsonl"], ""),
        ("bulk undo", vec!["share.jsonl", "--yes"], ""),
        ("bulk trash", vec!["--name", "renamed", "--yes"], ""),
        ("bulk restore", vec!["--name", "renamed", "--yes"], ""),
        ("bulk export", vec!["out", "--folder", "j"], ""),
        ("bulk import", vec!["out"], ""),
        ("bulk delete", vec!["--name", "renamed", "--yes"], ""),
        ("files delete", vec![doomed, "--yes"], ""),
        ("sharing audit", vec![], ""),
        ("api", vec!["GET", "/v2/files/cli:0"], ""),
        ("image", vec![kept, "-o", "chart.svg"], ""),
        ("relink", vec!["notes.md", "--to", server.url.as_str()], ""),
        ("completion", vec!["bash"], ""),
    ];
    let mut tree = Vec::new();
    leaves(&chart_studio_cli::command(), &mut Vec::new(), &mut tree);
    let covered: BTreeSet<&str> = commands.iter().map(|(name, ..)| *name).collect();
    let tree: BTreeSet<&str> = tree.iter().map(String::as_str).collect();
    assert_eq!(covered, tree, "every subcommand is checked, and only those");

    for (name, args, stdin) in &commands {
        let mut all: Vec<&str> = name.split(' ').collect();
        all.extend(args.iter().copied());
        let fields = listed_fields(&server, home.path(), &all);
        let mut with_json = vec!["--json"];
        with_json.extend(all.iter().copied());
        let output = run(&server, home.path(), CLI, &with_json, stdin);
        assert_eq!(code(&output), 0, "{with_json:?}: {}", stderr(&output));
        let document = one_document(&with_json, &output);
        if !fields.is_empty() {
            let extra: Vec<String> = keys(&document).difference(&fields).cloned().collect();
            assert!(extra.is_empty(), "{name}: fields {extra:?} are not listed by --json=");
        }
    }
}

#[test]
fn fields_and_jq_pick_from_lists_and_objects() {
    let server = Server::start();
    let plots = server.handle().add_plots("cli", 2, "q", true).unwrap();
    let home = tempfile::tempdir().unwrap();
    let picked =
        run(&server, home.path(), CLI, &["--json=fid,filename", "files", "get", &plots[0]], "");
    assert_eq!(
        one_document(&[], &picked),
        serde_json::json!({"fid": plots[0], "filename": "plot 0"})
    );

    let listed = run(
        &server,
        home.path(),
        CLI,
        &["folders", "ls", "--filetype", "plot", "--jq", ".[].fid"],
        "",
    );
    assert_eq!(code(&listed), 0, "{}", stderr(&listed));
    assert_eq!(stdout(&listed), format!("{}\n{}\n", plots[0], plots[1]), "strings print raw");
    let counted = run(
        &server,
        home.path(),
        CLI,
        &["files", "get", &plots[1], "--jq", "{name: .filename, public: .world_readable}"],
        "",
    );
    assert_eq!(stdout(&counted), "{\"name\":\"plot 1\",\"public\":true}\n");

    let bad = run(&server, home.path(), CLI, &["--jq", ".[", "files", "trash", &plots[0]], "");
    assert_eq!(code(&bad), 2, "a bad expression is a usage error before anything changes");
    let still = run(&server, home.path(), CLI, &["--json", "files", "get", &plots[0]], "");
    assert_eq!(one_document(&[], &still)["deleted"], false, "{}", stderr(&bad));

    let unknown =
        run(&server, home.path(), CLI, &["--json=fid,nope", "files", "trash", &plots[0]], "");
    assert_eq!(code(&unknown), 2);
    assert!(
        stderr(&unknown).starts_with("error: unknown JSON field \"nope\"; the fields are"),
        "{}",
        stderr(&unknown)
    );
    let still = run(&server, home.path(), CLI, &["--json", "files", "get", &plots[0]], "");
    assert_eq!(one_document(&[], &still)["deleted"], false, "an unknown field changes nothing");
}

#[test]
fn errors_under_json_are_json_on_stderr_with_the_same_exit_codes() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let missing = run(&server, home.path(), CLI, &["--json", "files", "get", "cli:999"], "");
    assert_eq!(code(&missing), 1);
    assert!(missing.stdout.is_empty());
    let error: Value = serde_json::from_slice(&missing.stderr).unwrap();
    assert_eq!(error["error"]["status"], 404);
    assert_eq!(error["error"]["kind"], "not_found");
    assert!(error["error"]["message"].as_str().unwrap().contains("cli:999"), "{error}");

    let refused = run(
        &server,
        home.path(),
        Some(("cli", "wrong-key")),
        &["--json", "files", "get", "cli:0"],
        "",
    );
    assert_eq!(code(&refused), 4);
    let error: Value = serde_json::from_slice(&refused.stderr).unwrap();
    assert_eq!(
        (error["error"]["status"].as_u64(), error["error"]["kind"].as_str()),
        (Some(401), Some("auth"))
    );

    let usage = run(&server, home.path(), CLI, &["--json", "bulk", "share", "everyone"], "");
    assert_eq!(code(&usage), 2);
    let error: Value = serde_json::from_slice(&usage.stderr).unwrap();
    assert_eq!(error["error"]["kind"], "usage", "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("everyone"), "{error}");
}
