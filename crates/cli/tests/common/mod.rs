//! Shared helpers: a server on its own runtime thread and a way to run the real binary.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;

use chart_studio_server::{ServerConfig, start};

pub(crate) const KEY: &str = "s3cret-cli-test-key";

/// A server with the demo data and the account `cli`, on its own runtime thread.
pub(crate) struct Server {
    pub(crate) url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub(crate) fn start() -> Self {
        let (url_tx, url_rx) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async move {
                let config = ServerConfig {
                    users: vec![
                        ("cli".to_owned(), KEY.to_owned()),
                        ("other".to_owned(), "other-key".to_owned()),
                    ],
                    demo_data: true,
                    ..ServerConfig::default()
                };
                let server = start(config).await.expect("server starts");
                url_tx.send(server.url().to_owned()).expect("send url");
                let _ = stopped.await;
                server.stop().await.expect("server stops");
            });
        });
        Self { url: url_rx.recv().expect("server url"), stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
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
    let mut command = Command::new(env!("CARGO_BIN_EXE_chart-studio"));
    command
        .args(args)
        .env_clear()
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
