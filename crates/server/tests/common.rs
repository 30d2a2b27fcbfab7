//! Shared helpers: a server on 127.0.0.1 with two accounts, and clients over real HTTP.

#![allow(dead_code, reason = "each test binary uses a different part")]

use chart_studio_api::{Client, Config, Credentials};
use chart_studio_http::{HttpSettings, HttpTransport};
use chart_studio_server::{ServerConfig, ServerHandle};

pub(crate) const ALICE: (&str, &str) = ("alice", "alice-test-key");
pub(crate) const BOB: (&str, &str) = ("bob", "bob-test-key");

/// A server with alice and bob (and any `config` tweaks).
pub(crate) async fn server_with(config: ServerConfig) -> ServerHandle {
    let users =
        vec![(ALICE.0.to_owned(), ALICE.1.to_owned()), (BOB.0.to_owned(), BOB.1.to_owned())];
    chart_studio_server::start(ServerConfig { users, ..config }).await.expect("the server starts")
}

pub(crate) async fn server() -> ServerHandle {
    server_with(ServerConfig::default()).await
}

/// A client of `server`, as `who` or anonymous.
pub(crate) fn client(server: &ServerHandle, who: Option<(&str, &str)>) -> Client {
    let creds = who.map(|(user, key)| Credentials::new(user, key));
    let config = Config::new(server.url(), creds, false).expect("a valid config");
    Client::new(HttpTransport::new(&HttpSettings::default()).expect("a transport"), config)
}

/// The status of a failed call.
pub(crate) fn status<T: std::fmt::Debug>(result: Result<T, chart_studio_api::Error>) -> u16 {
    result.expect_err("the call should fail").status().map_or(0, |s| s.as_u16())
}

/// A running `chart-studio-server` process, killed when dropped.
pub(crate) struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
