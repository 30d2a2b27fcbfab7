//! Work with Plotly Chart Studio servers from Rust: one dependency for what the `chart-studio`
//! CLI is built from.
//!
//! | module | what it holds | feature |
//! |---|---|---|
//! | [`models`] | the v2 JSON as types: files, plots, grids, folders, fids | always |
//! | [`api`] | endpoints as values, the [`api::Client`], errors, pagination, retries | always |
//! | [`http`] | the reqwest transport (rustls, proxies, CA bundles, timeouts) | `http` |
//! | [`sharing`] | public / private / secret, update plans, secret links | `workflows` |
//! | [`bulk`] | selection, the concurrent engine, journals, backups, import | `workflows` |
//! | [`workflows`] | sharing changes with read-back, plot creation, images, run plans and runs, the CLI's settings | `workflows` |
//!
//! The examples below run against a local `chart-studio-server` started in the test; against
//! a real server, only the address and the credentials change.
//!
//! # Connect and send one request
//!
//! A [`api::Client`] is a transport plus a [`api::Config`]: the API address and the account.
//! Credentials never go over plain `http` to another machine unless the config allows it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! # let server = chart_studio_server::start(chart_studio_server::ServerConfig {
//! #     users: vec![("alice".into(), "alice-key-1".into())], ..Default::default() }).await?;
//! # let address = server.url();
//! use chart_studio::api::{Client, Config, Credentials, users};
//! use chart_studio::http::{HttpSettings, HttpTransport};
//!
//! let config = Config::new(address, Some(Credentials::new("alice", "alice-key-1")), false)?;
//! let client = Client::new(HttpTransport::new(&HttpSettings::default())?, config);
//! let me = client.send(&users::Current {}).await?;
//! assert_eq!(me.username, "alice");
//! # Ok(()) }
//! ```
//!
//! # Connect with the settings the CLI uses
//!
//! [`workflows::settings::Settings`] layers what the `chart-studio` CLI reads, lowest first:
//! `~/.plotly/.credentials` and `.config` (the files the Python and R clients write), a profile
//! of the CLI's TOML file, the environment (`PLOTLY_USERNAME`, `PLOTLY_API_KEY`,
//! `PLOTLY_API_DOMAIN`, ...) and explicit values; each value remembers where it came from.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! # let server = chart_studio_server::start(chart_studio_server::ServerConfig {
//! #     users: vec![("alice".into(), "alice-key-1".into())], ..Default::default() }).await?;
//! # let plotly_dir = tempfile::tempdir()?;
//! # std::fs::write(plotly_dir.path().join(".credentials"),
//! #     r#"{"username": "alice", "api_key": "alice-key-1"}"#)?;
//! use chart_studio::api::users;
//! use chart_studio::workflows::settings::{Inputs, Settings};
//!
//! // What `py.sign_in` saved, with the server address from the environment on top.
//! let inputs = Inputs {
//!     plotly_dir: Some(plotly_dir.path().to_owned()),
//!     env: [("PLOTLY_API_DOMAIN".to_owned(), server.url().to_owned())].into(),
//!     ..Inputs::default()
//! };
//! let settings = Settings::load(&inputs)?;
//! assert_eq!(settings.origin("api_domain"), Some("environment (PLOTLY_API_DOMAIN)"));
//! let me = settings.client()?.send(&users::Current {}).await?;
//! assert_eq!(me.username, "alice");
//! # Ok(()) }
//! ```
//!
//! # List every file, page by page
//!
//! [`api::Client::items`] follows the `next` links of any paginated endpoint as one stream.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! # let server = chart_studio_server::start(chart_studio_server::ServerConfig {
//! #     users: vec![("alice".into(), "alice-key-1".into())], ..Default::default() }).await?;
//! # server.add_plots("alice", 30, "reports", true)?;
//! # let client = chart_studio::api::Client::new(
//! #     chart_studio::http::HttpTransport::new(&Default::default())?,
//! #     chart_studio::api::Config::new(server.url(), Some(chart_studio::api::Credentials::new("alice", "alice-key-1")), false)?);
//! use chart_studio::api::folders;
//! use futures_util::TryStreamExt;
//!
//! let all = folders::All { user: Some("alice".into()), page_size: Some(10), ..Default::default() };
//! let files: Vec<_> = client.items(all).try_collect().await?;
//! assert_eq!(files.len(), 61, "a folder, 30 plots and their 30 grids, over seven pages");
//! # Ok(()) }
//! ```
//!
//! # Change who can see a plot, and check it took
//!
//! [`workflows::share`] plans the change (a plot's grids follow it), sends it, and reads every
//! file back until the server shows the new mode.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! # let server = chart_studio_server::start(chart_studio_server::ServerConfig {
//! #     users: vec![("alice".into(), "alice-key-1".into())], ..Default::default() }).await?;
//! # let plots = server.add_plots("alice", 1, "", true)?;
//! # let client = chart_studio::api::Client::new(
//! #     chart_studio::http::HttpTransport::new(&Default::default())?,
//! #     chart_studio::api::Config::new(server.url(), Some(chart_studio::api::Credentials::new("alice", "alice-key-1")), false)?);
//! use chart_studio::bulk::TokioClock;
//! use chart_studio::sharing::Sharing;
//! use chart_studio::workflows::share;
//!
//! let plot = plots[0].parse()?;
//! let (plan, _notes) = share::plan_change(&client, "alice", &[plot], Sharing::Secret, true).await?;
//! let applied = share::apply(&client, &TokioClock::default(), &plan).await;
//! assert!(applied.iter().all(|file| file.reached), "the plot and its grid are secret");
//! assert!(applied[0].url.contains("share_key="), "{}", applied[0].url);
//! # Ok(()) }
//! ```
//!
//! # Draw a chart as an image
//!
//! [`workflows::image::draw`] draws a figure, or a stored plot with its data, through the
//! server's `POST /v2/images` (the local server draws with a headless Chromium).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! # let server = chart_studio_server::start(chart_studio_server::ServerConfig {
//! #     users: vec![("alice".into(), "alice-key-1".into())], ..Default::default() }).await?;
//! # let plots = server.add_plots("alice", 1, "", true)?;
//! # let client = chart_studio::api::Client::new(
//! #     chart_studio::http::HttpTransport::new(&Default::default())?,
//! #     chart_studio::api::Config::new(server.url(), Some(chart_studio::api::Credentials::new("alice", "alice-key-1")), false)?);
//! use chart_studio::api::images::ImageFormat;
//! use chart_studio::workflows::image::{Chart, Drawing, draw};
//!
//! let chart = Chart::Plot { fid: plots[0].parse()?, share_key: None };
//! let drawing = Drawing { format: ImageFormat::Svg, width: Some(400), height: Some(300), scale: None };
//! let image = draw(&client, chart, drawing).await?;
//! assert_eq!(image.content_type.as_deref(), Some("image/svg+xml"));
//! assert!(image.bytes.starts_with(b"<svg"));
//! # Ok(()) }
//! ```
//!
//! # A bulk run with a journal
//!
//! A run is planned ([`workflows::plans::Planner`]) into a plan on disk, written to a journal
//! before anything is sent, then executed concurrently, reading its operations back from the
//! journal as they start; a killed run continues from its journal.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! # let server = chart_studio_server::start(chart_studio_server::ServerConfig {
//! #     users: vec![("alice".into(), "alice-key-1".into())], ..Default::default() }).await?;
//! # server.add_plots("alice", 5, "drafts", true)?;
//! # let client = chart_studio::api::Client::new(
//! #     chart_studio::http::HttpTransport::new(&Default::default())?,
//! #     chart_studio::api::Config::new(server.url(), Some(chart_studio::api::Credentials::new("alice", "alice-key-1")), false)?);
//! # let folder = tempfile::tempdir()?;
//! use std::sync::Arc;
//! use chart_studio::bulk::{Engine, EngineConfig, Filter, SilentProgress, TokioClock};
//! use chart_studio::workflows::plans::{Planner, Selection};
//! use chart_studio::workflows::runs::{self, Account};
//!
//! let config = EngineConfig { jobs: 64, auto: true, ..EngineConfig::default() };
//! let engine = Engine::new(client.clone(), Arc::new(TokioClock::default()), config);
//! let planner = Planner { engine: &engine, me: "alice", scratch: folder.path() };
//! let drafts = Filter { folder: Some("drafts".into()), ..Filter::default() };
//! let mut plan = planner.trash(&Selection::Matching(drafts)).await?;
//! assert_eq!(plan.summary().ops, 10, "five plots and their grids");
//!
//! let api = client.config().api_base().to_string();
//! let journal = folder.path().join("trash.jsonl");
//! let account = Account { api: &api, user: "alice" };
//! let run = runs::prepare(account, "trash", &journal, None, &mut plan)?;
//! let report = runs::run(&engine, &run, |_| true, &SilentProgress, std::future::pending()).await;
//! assert_eq!(report.totals().done, 10, "five plots and their grids");
//! # Ok(()) }
//! ```
//!
//! # Errors by kind
//!
//! An [`api::Error`] says where a request failed: building it, the transport (with a
//! [`api::TransportErrorKind`]), the server's answer (an [`api::ApiError`] with its status and
//! message), or decoding.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! # let server = chart_studio_server::start(chart_studio_server::ServerConfig {
//! #     users: vec![("alice".into(), "alice-key-1".into())], ..Default::default() }).await?;
//! use chart_studio::api::{Client, Config, Credentials, Error, files};
//! use chart_studio::http::{HttpSettings, HttpTransport};
//!
//! let wrong = Config::new(server.url(), Some(Credentials::new("alice", "not-the-key")), false)?;
//! let client = Client::new(HttpTransport::new(&HttpSettings::default())?, wrong);
//! match client.send(&files::Retrieve::new("alice:0".parse()?)).await {
//!     Err(Error::Api(answer)) if answer.is_auth() => {
//!         assert_eq!(answer.status, 401);
//!     }
//!     other => panic!("expected a refused key: {other:?}"),
//! }
//! # Ok(()) }
//! ```

pub use chart_studio_api as api;
#[cfg(feature = "workflows")]
pub use chart_studio_bulk as bulk;
#[cfg(feature = "http")]
pub use chart_studio_http as http;
pub use chart_studio_models as models;
#[cfg(feature = "workflows")]
pub use chart_studio_sharing as sharing;
#[cfg(feature = "workflows")]
pub use chart_studio_workflows as workflows;
