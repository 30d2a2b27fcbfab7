//! Shared helpers: a server on its own runtime and a way to run the real binary.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use chart_studio_server::{ServerConfig, ServerHandle, start};

pub(crate) const KEY: &str = "s3cret-cli-test-key";

/// A server with the demo data and the accounts `cli` and `other`, on its own runtime.
pub(crate) struct Server {
    pub(crate) url: String,
    handle: Option<ServerHandle>,
    runtime: tokio::runtime::Runtime,
}

impl Server {
    pub(crate) fn start() -> Self {
        Self::start_with(ServerConfig::default())
    }

    /// A server with `config`'s faults and limits (the accounts and demo data are added).
    pub(crate) fn start_with(config: ServerConfig) -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let config = ServerConfig {
            users: vec![
                ("cli".to_owned(), KEY.to_owned()),
                ("other".to_owned(), "other-key".to_owned()),
            ],
            demo_data: true,
            ..config
        };
        let handle = runtime.block_on(start(config)).expect("server starts");
        Self { url: handle.url().to_owned(), handle: Some(handle), runtime }
    }

    /// The running server.
    pub(crate) fn handle(&self) -> &ServerHandle {
        self.handle.as_ref().expect("the server runs")
    }

    /// Waits until `count` requests are held (`Faults::hold_changes_after`): the client that
    /// sent them is stopped at a known point. A minute without it fails the test.
    pub(crate) fn until_held(&self, count: u64) {
        let held = self.handle().until_held(count);
        let waited = self
            .runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(60), held).await });
        assert!(waited.is_ok(), "no request was held within a minute");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            let _ = self.runtime.block_on(handle.stop());
        }
    }
}

/// Runs the binary with a private HOME, the server's address and, for `Some(user)`, credentials.
pub(crate) fn run(
    server: &Server,
    home: &Path,
    user: Option<(&str, &str)>,
    args: &[&str],
    stdin: &str,
) -> Output {
    run_with_env(server, home, user, args, stdin, &[])
}

/// [`run`] with more environment variables.
pub(crate) fn run_with_env(
    server: &Server,
    home: &Path,
    user: Option<(&str, &str)>,
    args: &[&str],
    stdin: &str,
    env: &[(&str, &str)],
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chart-studio"));
    command
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(home)
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PLOTLY_API_DOMAIN", &server.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some((name, key)) = user {
        command.env("PLOTLY_USERNAME", name).env("PLOTLY_API_KEY", key);
    }
    let mut child = command.spawn().expect("the binary runs");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("the binary finishes")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub(crate) fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

pub(crate) const CLI: Option<(&str, &str)> = Some(("cli", KEY));

/// Runs `chart-studio --json ARGS` as `user`, which must succeed, and parses its output.
pub(crate) fn json_as(
    server: &Server,
    home: &Path,
    user: Option<(&str, &str)>,
    args: &[&str],
) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let output = run(server, home, user, &all, "");
    assert_eq!(code(&output), 0, "{args:?}: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("JSON output")
}
