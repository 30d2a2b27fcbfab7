//! The CLI as a person meets it at a terminal: a login that keeps its server, a key prompt
//! that does not echo (under a real pseudo-terminal), and completion scripts run by bash.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{KEY, Server, code, stderr};

/// Runs the binary with only a private HOME (no server address in the environment).
fn bare(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chart-studio"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// `auth login --api-domain URL` keeps the address in the profile, so that the next command
/// reaches the same server with no flag; a server that cannot be reached is said to be so,
/// and nothing is saved.
#[test]
fn a_login_keeps_the_server_it_was_given() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let key = format!("{KEY}\n");

    let unreachable = bare(
        home.path(),
        &["--api-domain", "http://127.0.0.1:9", "auth", "login", "--username", "cli"],
        &key,
    );
    assert_ne!(code(&unreachable), 0);
    let said = stderr(&unreachable);
    assert!(
        said.contains("could not check the key") && said.contains("nothing was saved"),
        "{said}"
    );
    assert!(!said.contains("did not accept"), "nothing was checked: {said}");
    assert!(!home.path().join(".plotly/.credentials").exists());

    let login = bare(
        home.path(),
        &["--api-domain", &server.url, "auth", "login", "--username", "cli"],
        &key,
    );
    assert_eq!(code(&login), 0, "{}", stderr(&login));
    let config =
        std::fs::read_to_string(home.path().join(".config/chart-studio/config.toml")).unwrap();
    assert!(config.contains(&format!("api_domain = \"{}\"", server.url)), "{config}");

    let status = bare(home.path(), &["auth", "status"], "");
    assert_eq!(code(&status), 0, "the next command reaches the same server: {}", stderr(&status));
    assert!(
        stderr(&status).contains(&format!("Logged in to {}", server.url)),
        "{}",
        stderr(&status)
    );
}

/// Runs the binary under a real pseudo-terminal (Python's pty module) with `env`, typing
/// `reply` once `prompt` has been shown (nothing, for an empty prompt; with `HIDDEN` in `env`,
/// once the program has also turned echo off, as a person types after the prompt); returns
/// everything the terminal showed.
fn at_terminal(args: &[&str], env: &[(&str, &str)], prompt: &str, reply: &str) -> String {
    let script = r#"
import os, pty, select, sys, termios
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
shown = b""
typed = False
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    shown += chunk
    if not typed and os.environ["PROMPT"] and os.environ["PROMPT"].encode() in shown:
        # A hidden reply is typed once the program has turned the terminal's echo off.
        while os.environ.get("HIDDEN") and termios.tcgetattr(fd)[3] & termios.ECHO:
            select.select([], [], [], 0.005)
        os.write(fd, os.environ["REPLY"].encode() + b"\r")
        typed = True
os.waitpid(pid, 0)
sys.stdout.write(shown.decode(errors="replace"))
"#;
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_chart-studio"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .envs(env.iter().copied())
        .env("PROMPT", prompt)
        .env("REPLY", reply)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// At a terminal the key is read without echo: what the terminal shows holds the prompt but
/// not the key typed.
#[test]
fn the_key_prompt_does_not_echo() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_str().unwrap();
    let shown = at_terminal(
        &["--api-domain", &server.url, "auth", "login", "--username", "cli"],
        &[("HOME", home), ("HIDDEN", "1")],
        "API key",
        KEY,
    );
    assert!(shown.contains("Paste the API key for cli"), "{shown}");
    assert!(!shown.contains(KEY), "the key was echoed: {shown}");
    assert!(shown.contains("Saved the credentials of cli"), "{shown}");
}

/// A bulk change at a terminal asks `[y/N]`: `y` goes on, anything else changes nothing.
#[test]
fn a_bulk_change_asks_y_or_n_at_a_terminal() {
    let server = Server::start();
    server.handle().add_plots("cli", 3, "", true).unwrap();
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("HOME", home.path().to_str().unwrap()),
        ("PLOTLY_API_DOMAIN", server.url.as_str()),
        ("PLOTLY_USERNAME", "cli"),
        ("PLOTLY_API_KEY", KEY),
    ];
    let public = || {
        let out = common::run(&server, home.path(), common::CLI, &["--json", "folders", "ls"], "");
        let files: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        files.iter().filter(|f| f["world_readable"] == true).count()
    };
    let args = ["bulk", "share", "private", "--filetype", "plot"];
    let refused = at_terminal(&args, &env, "[y/N]", "n");
    assert!(refused.contains("not confirmed; nothing was changed"), "{refused}");
    assert_eq!(public(), 6);
    let done = at_terminal(&args, &env, "[y/N]", "y");
    assert!(done.contains("share private 6 file(s)? [y/N]"), "the plots and their grids: {done}");
    assert_eq!(public(), 0, "{done}");
}

/// What bash offers after `words` (the last one being completed), with the script sourced.
fn bash_completes(home: &Path, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let probe = format!(
        r#"source ./chart-studio.bash
COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}
complete -p chart-studio >/dev/null || exit 3
_chart__studio chart-studio '{current}' '{previous}'
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = quoted.join(" "),
        cword = words.len() - 1,
        current = words[words.len() - 1],
        previous = words[words.len() - 2],
    );
    let output = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &probe])
        .current_dir(home)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect()
}

/// The bash script, run by a real bash, completes a command, a subcommand below it, a flag
/// and a flag's value.
#[test]
fn bash_completes_commands_subcommands_flags_and_values() {
    let home = tempfile::tempdir().unwrap();
    let script = bare(home.path(), &["completion", "bash"], "");
    assert_eq!(code(&script), 0, "{}", stderr(&script));
    std::fs::write(home.path().join("chart-studio.bash"), &script.stdout).unwrap();

    assert_eq!(bash_completes(home.path(), &["chart-studio", "bu"]), ["bulk"]);
    let files = bash_completes(home.path(), &["chart-studio", "files", ""]);
    assert!(
        files.contains(&"lookup".to_owned()) && files.contains(&"trash".to_owned()),
        "{files:?}"
    );
    let flags = bash_completes(home.path(), &["chart-studio", "bulk", "share", "--no-"]);
    assert_eq!(flags, ["--no-grids"], "{flags:?}");
    let values = bash_completes(home.path(), &["chart-studio", "bulk", "delete", "--filetype", ""]);
    assert!(
        values.contains(&"plot".to_owned()) && values.contains(&"grid".to_owned()),
        "{values:?}"
    );
}

/// Journals go to the user's state folder, not the folder a command runs in (which may be
/// read-only), and `bulk runs` lists them with where each stands.
#[test]
fn runs_keep_their_journals_in_the_state_folder_and_are_listed() {
    let server = Server::start();
    server.handle().add_plots("cli", 2, "r", true).unwrap();
    let home = tempfile::tempdir().unwrap();
    let cwd = home.path().join("read-only");
    std::fs::create_dir(&cwd).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&cwd, std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
    let in_cwd = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chart-studio"));
        command
            .args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PLOTLY_API_DOMAIN", &server.url)
            .env("PLOTLY_USERNAME", "cli")
            .env("PLOTLY_API_KEY", KEY)
            .current_dir(&cwd);
        command.output().unwrap()
    };
    let shared = in_cwd(&["bulk", "share", "private", "--folder", "r", "--yes"]);
    assert_eq!(code(&shared), 0, "{}", stderr(&shared));
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0, "nothing written where it ran");
    let runs_dir = home.path().join(".local/state/chart-studio/runs");
    let journal = std::fs::read_dir(&runs_dir).unwrap().next().unwrap().unwrap().path();
    let undo = in_cwd(&["bulk", "undo", journal.to_str().unwrap(), "--yes"]);
    assert_eq!(code(&undo), 0, "{}", stderr(&undo));

    let listed = in_cwd(&["--json", "bulk", "runs"]);
    assert_eq!(code(&listed), 0, "{}", stderr(&listed));
    let runs: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "the run and its undo: {runs:?}");
    let shared = runs.iter().find(|r| r["command"] == "share private").unwrap();
    assert_eq!(shared["state"], "undone", "{shared}");
    assert!(shared["done"].as_u64().unwrap() >= 4, "{shared}");
    let undo = runs.iter().find(|r| r["command"] == "undo of share private").unwrap();
    assert_eq!(undo["state"], "done", "{undo}");

    // A state folder that cannot be made is said to be, with what to do, before anything is sent.
    let blocker = home.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let state = blocker.join("state");
    let env = [("XDG_STATE_HOME", state.to_str().unwrap())];
    let args = ["bulk", "share", "private", "--folder", "r", "--yes"];
    let refused = common::run_with_env(&server, home.path(), common::CLI, &args, "", &env);
    assert_eq!(code(&refused), 1, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("for the run's journal")
            && stderr(&refused).contains("set XDG_STATE_HOME to a folder you can write"),
        "{}",
        stderr(&refused)
    );
    let after =
        common::run(&server, home.path(), common::CLI, &["--json", "folders", "ls", "r"], "");
    let files: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert!(files.as_array().unwrap().iter().all(|f| f["world_readable"] == true), "{files}");
}

/// Wherever a file is asked for, its path in the account works too; `share FILE` alone shows
/// who can see it.
#[test]
fn paths_work_where_fids_do_and_share_shows_one_file() {
    let server = Server::start();
    let plots = server.handle().add_plots("cli", 1, "reports/2024", false).unwrap();
    let home = tempfile::tempdir().unwrap();
    let as_cli = |args: &[&str]| common::run(&server, home.path(), common::CLI, args, "");
    let got = as_cli(&["--json", "files", "get", "reports/2024/plot 0"]);
    assert_eq!(code(&got), 0, "{}", stderr(&got));
    let file: serde_json::Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(file["fid"], plots[0].as_str());

    let shared = as_cli(&["--json", "share", "public", "reports/2024/plot 0"]);
    assert_eq!(code(&shared), 0, "{}", stderr(&shared));
    let report: serde_json::Value = serde_json::from_slice(&shared.stdout).unwrap();
    assert_eq!(report["changes"][0]["fid"], plots[0].as_str(), "the file named comes first");

    let shown = as_cli(&["--json", "share", "reports/2024/plot 0"]);
    assert_eq!(code(&shown), 0, "{}", stderr(&shown));
    let view: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(view["sharing"], "public", "{view}");

    let missing = as_cli(&["files", "trash", "reports/2024/nothing"]);
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("folders ls reports/2024"), "{}", stderr(&missing));
    let modeless = as_cli(&["share", "cli:0", "cli:1"]);
    assert_eq!(code(&modeless), 2);
    assert!(
        stderr(&modeless).contains("share public|private|secret FILE"),
        "{}",
        stderr(&modeless)
    );
}

/// `folders ls PATH` lists one folder (with `-r`, everything under it too), each file with its
/// path; a folder that does not exist is a usage error, not an empty list.
#[test]
fn folders_ls_lists_one_folder_or_a_tree_with_paths() {
    let server = Server::start();
    server.handle().add_plots("cli", 2, "reports", false).unwrap();
    server.handle().add_plots("cli", 1, "reports/2024", false).unwrap();
    server.handle().add_plots("cli", 1, "", false).unwrap();
    let home = tempfile::tempdir().unwrap();
    let listed = |args: &[&str]| {
        let out = common::run(&server, home.path(), common::CLI, args, "");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let files: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let mut seen: Vec<String> = files
            .iter()
            .map(|f| format!("{}|{}", f["path"].as_str().unwrap(), f["filename"].as_str().unwrap()))
            .collect();
        seen.sort();
        seen
    };
    assert_eq!(
        listed(&["folders", "ls", "reports", "--json=path,filename"]),
        ["reports|2024", "reports|grid 0", "reports|grid 1", "reports|plot 0", "reports|plot 1"]
    );
    assert_eq!(
        listed(&["folders", "ls", "reports", "-r", "--json=path,filename", "--filetype", "plot"]),
        ["reports/2024|plot 0", "reports|plot 0", "reports|plot 1"]
    );
    assert_eq!(
        listed(&["folders", "ls", "/", "--json=path,filename"]),
        ["|grid 0", "|plot 0", "|reports"]
    );
    assert_eq!(listed(&["folders", "ls", "--json=path,filename"]).len(), 10, "no path: every file");

    let missing = common::run(&server, home.path(), common::CLI, &["folders", "ls", "nowhere"], "");
    assert_eq!(code(&missing), 2, "{}", stderr(&missing));
    assert!(stderr(&missing).contains("no folder \"nowhere\""), "{}", stderr(&missing));
}

/// At a terminal, a spinner says what the CLI waits for: a plan being made from a slow server,
/// and the waits before a request to an unreachable server is sent again. In a pipe, nothing.
#[test]
fn waits_show_a_spinner_at_a_terminal_only() {
    let server = Server::start_with(chart_studio_server::ServerConfig {
        faults: chart_studio_server::Faults {
            latency: std::time::Duration::from_millis(300),
            ..chart_studio_server::Faults::default()
        },
        ..chart_studio_server::ServerConfig::default()
    });
    server.handle().add_plots("cli", 2, "", true).unwrap();
    let home = tempfile::tempdir().unwrap();
    let home_dir = home.path().to_str().unwrap();
    let env = |api: &'static str| {
        [
            ("HOME", home_dir),
            ("PLOTLY_API_DOMAIN", api),
            ("PLOTLY_USERNAME", "cli"),
            ("PLOTLY_API_KEY", KEY),
        ]
    };
    let api: &'static str = server.url.clone().leak();
    let args = ["bulk", "share", "private", "--dry-run"];
    let shown = at_terminal(&args, &env(api), "", "");
    assert!(shown.contains("Planning: reading the files of cli"), "{shown}");
    let piped = common::run(&server, home.path(), common::CLI, &args, "");
    assert!(!stderr(&piped).contains("Planning"), "{}", stderr(&piped));

    // A port nothing listens on: the single command retries, and says so while it waits.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere: &'static str = format!("http://{}", closed.local_addr().unwrap()).leak();
    drop(closed);
    let shown = at_terminal(&["folders", "ls"], &env(nowhere), "", "");
    assert!(shown.contains("no answer from the server; trying again in"), "{shown}");
    assert!(shown.contains("the server could not be reached"), "{shown}");
}
