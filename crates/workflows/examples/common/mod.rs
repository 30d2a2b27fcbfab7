//! What the examples share: a client for the account in the environment, as the CLI reads it
//! (`PLOTLY_USERNAME`, `PLOTLY_API_KEY`, `PLOTLY_API_DOMAIN`), and an engine that finds its own
//! concurrency.

#![allow(dead_code, reason = "each example uses a different part")]

use std::sync::Arc;

use anyhow::{Context, Result};
use chart_studio_api::{Client, Config, Credentials};
use chart_studio_bulk::{Engine, EngineConfig, TokioClock};
use chart_studio_http::{HttpSettings, HttpTransport};

/// The account's client and its username.
pub(crate) fn connect() -> Result<(Client, String)> {
    let user = std::env::var("PLOTLY_USERNAME").context("set PLOTLY_USERNAME")?;
    let key = std::env::var("PLOTLY_API_KEY").context("set PLOTLY_API_KEY")?;
    let api =
        std::env::var("PLOTLY_API_DOMAIN").unwrap_or_else(|_| "https://api.plotly.com".to_owned());
    let config = Config::new(&api, Some(Credentials::new(&user, key)), false)?;
    let transport = HttpTransport::new(&HttpSettings::default())?;
    Ok((Client::new(transport, config), user))
}

/// A bulk engine over `client` that keeps as many requests in flight as the server answers
/// without slowing down (`--jobs auto`).
pub(crate) fn engine(client: &Client) -> Engine {
    let config = EngineConfig { jobs: 64, auto: true, ..EngineConfig::default() };
    Engine::new(client.clone(), Arc::new(TokioClock::default()), config)
}
