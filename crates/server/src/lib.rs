//! A local Chart-Studio-compatible server for the v2 REST API, on axum.
//!
//! It is the target of the end-to-end tests, the benchmarks and the demo, and lets scripts
//! written for Chart Studio run against a machine their owner controls. It keeps its state in
//! memory and injects latency, errors, dropped connections, throttling and quotas on demand.
//!
//! Where the API reference marks a behaviour as inferred, the choice made here is noted at the
//! code that makes it (e.g. plot content, lookup answers, the feed's order).

mod access;
pub mod admin;
mod auth;
mod boards;
mod body;
mod clock;
mod content;
mod control;
mod db;
mod failure;
mod faults;
#[doc(hidden)]
pub mod fill;
#[cfg(test)]
mod fuzz;
mod html;
mod images;
mod layer;
mod old_links;
mod pages;
#[doc(hidden)]
pub mod pg_cluster;
mod record;
mod render;
pub mod restore;
mod routes;
mod security;
mod seed;
mod serve;
mod sessions;
mod state;
mod store;
mod table;
mod throttle;
mod tls;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::oneshot;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

pub use db::{DatabaseUrl, Unreadable};
pub use faults::Faults;
pub use images::{ImageConfig, RendererConfig, find_chromium};
pub use seed::DEMO_USER;
pub use state::{Limits, MAX_JSON_DEPTH};
pub use tls::{TlsFiles, kept_self_signed, self_signed};

use crate::state::{App, Shared, Urls};
use crate::store::Store;

/// How to run a server. `Debug` shows neither API keys nor the database's connection string.
#[derive(Clone)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Accounts as `(username, api_key)`; the demo account when empty.
    pub users: Vec<(String, String)>,
    /// Load the captured plots and the demo account's files.
    pub demo_data: bool,
    /// Folders of captured `/v2/plots` pages to load.
    pub seed_dirs: Vec<PathBuf>,
    /// The host of `web_url` / `embed_url` links (default: the server's own address).
    pub web_domain: Option<String>,
    /// Faults to inject.
    pub faults: Faults,
    /// Request and page limits.
    pub limits: Limits,
    /// Seed of generated column uids.
    pub seed: u64,
    /// The data folder: its lock, control socket and image cache, and (without `database`)
    /// everything in a SQLite database in it. Default: in memory only.
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL connection string (`postgres://...` or `host=... dbname=...`): keep
    /// everything there instead. One server process uses a database at a time.
    pub database: Option<DatabaseUrl>,
    /// MiB of recently read contents (figures, grids, documents) kept in memory.
    pub cache_mb: usize,
    /// Serve HTTPS with this certificate and key (default: plain HTTP).
    pub tls: Option<TlsFiles>,
    /// How images are drawn.
    pub images: ImageConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            users: Vec::new(),
            demo_data: false,
            seed_dirs: Vec::new(),
            web_domain: None,
            faults: Faults::default(),
            limits: Limits::default(),
            seed: 0,
            data_dir: None,
            database: None,
            cache_mb: DEFAULT_CACHE_MB,
            tls: None,
            images: ImageConfig::default(),
        }
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let users: Vec<&str> = self.users.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("users", &users)
            .field("demo_data", &self.demo_data)
            .field("seed_dirs", &self.seed_dirs)
            .field("web_domain", &self.web_domain)
            .field("faults", &self.faults)
            .field("limits", &self.limits)
            .field("seed", &self.seed)
            .field("data_dir", &self.data_dir)
            .field("database", &self.database)
            .field("cache_mb", &self.cache_mb)
            .field("tls", &self.tls)
            .field("images", &self.images)
            .finish()
    }
}

/// The default bound of the content cache, in MiB (`--cache-mb`).
pub const DEFAULT_CACHE_MB: usize = 64;

/// A running server.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    url: String,
    app: Shared,
    unreadable: Vec<Unreadable>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    /// With `--data`: the data folder, its lock (held while the server runs) and the task
    /// answering its control socket.
    data: Option<DataFolder>,
}

/// The data folder a server holds.
#[derive(Debug)]
struct DataFolder {
    dir: PathBuf,
    _lock: std::fs::File,
    control: tokio::task::JoinHandle<()>,
}

impl Drop for DataFolder {
    fn drop(&mut self) {
        self.control.abort();
        control::remove_socket(&self.dir);
    }
}

impl ServerHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the API base to point clients at.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Replaces the fault settings (and restarts their random sequence, quotas and rates).
    pub fn set_faults(&self, faults: Faults) {
        self.app
            .fault_state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .reset(faults.seed);
        *self.app.faults.write().unwrap_or_else(std::sync::PoisonError::into_inner) = faults;
        self.app.changes_answered.send_replace(0);
        self.app.fault_settings.send_modify(|settings| *settings += 1);
    }

    /// Waits until at least `count` requests are held (`Faults::hold_changes_after`) and every
    /// change let through before them is answered: the client that sent them is stopped at a
    /// known point, with exactly that many changes made.
    pub async fn until_held(&self, count: u64) {
        let let_through = self.app.faults().hold_changes_after.unwrap_or(0);
        let mut held = self.app.held.subscribe();
        let _ = held.wait_for(|held| *held >= count).await;
        let mut answered = self.app.changes_answered.subscribe();
        let _ = answered.wait_for(|answered| *answered >= let_through).await;
    }

    /// Requests answered so far (faults and throttles included).
    pub fn requests_served(&self) -> u64 {
        self.app.served.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The stored files that did not read back at start (each also logged): they stay in the
    /// database as they are and are not served.
    pub fn unreadable(&self) -> &[Unreadable] {
        &self.unreadable
    }

    /// Requests whose route panicked so far (each was answered 500 and logged).
    pub fn panics(&self) -> u64 {
        self.app.panics.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Adds an account (or changes its key).
    pub fn add_user(&self, username: &str, api_key: &str) -> Result<()> {
        Ok(self.app.store().add_account(username, api_key)?)
    }

    /// Adds `count` plots to `user`'s account, each with its own grid, in `folder` (created
    /// when missing; `""` for home), named `plot N` and `grid N`: test and benchmark data made
    /// without requests. Returns the plots' fids.
    pub fn add_plots(
        &self,
        user: &str,
        count: usize,
        folder: &str,
        public: bool,
    ) -> Result<Vec<String>> {
        let made = seed::plots(&mut self.app.store(), user, count, folder, public)?;
        self.app.persist()?;
        Ok(made)
    }

    /// Starts the image renderer now rather than at the first image; an error says why images
    /// are off.
    pub async fn warm_images(&self) -> std::result::Result<(), String> {
        self.app.images.warm().await
    }

    /// Stops accepting requests, waits for those in flight ([`STOP_GRACE`] at most), and stops
    /// the image renderer.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let stopped = tokio::time::timeout(STOP_GRACE, &mut self.task).await;
        self.app.images.stop().await;
        // The data folder is free for another server or a `user` command from now on.
        drop(self.data.take());
        match stopped {
            Ok(finished) => finished.context("the server task panicked"),
            Err(_) => {
                self.task.abort();
                tracing::warn!(?STOP_GRACE, "requests still in flight were cut off");
                Ok(())
            }
        }
    }
}

/// Adds the configured accounts and the demo data. Accounts kept in the data folder stay: one
/// given again with the same key is fine, with another key it is refused; `--demo` is skipped
/// when an earlier run made the demo account, and refused when the account `demo` is another.
/// A server left with no account at all gets the demo account.
fn accounts(store: &mut Store, config: &ServerConfig) -> Result<()> {
    let mut given = std::collections::BTreeSet::new();
    for (user, key) in &config.users {
        if !given.insert(user) {
            anyhow::bail!("the account {user} is given twice");
        }
        match store.account(user) {
            Some(kept) if kept.key_hash == store::key_hash(key) => {}
            Some(_) => anyhow::bail!(
                "the account {user} in the data folder has another key; give its key, or a new name"
            ),
            None => {
                store.add_account(user, key).with_context(|| format!("the account {user:?}"))?;
            }
        }
    }
    let demo = store.account(DEMO_USER.0).map(|a| a.key_hash == store::key_hash(DEMO_USER.1));
    match (config.demo_data, demo) {
        (true, None) => seed::demo(store)?,
        (true, Some(true)) => {}
        (true, Some(false)) => anyhow::bail!(
            "--demo makes the account demo with a public key, and there is another account named demo"
        ),
        // A server with no account at all (none given, none kept) gets the demo account.
        (false, _) if store.accounts().next().is_none() => {
            store.add_account(DEMO_USER.0, DEMO_USER.1)?;
        }
        (false, _) => {}
    }
    Ok(())
}

/// How long a stopping server waits for the requests in flight.
pub const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// The whole HTTP service: the routes, tolerant of trailing slashes.
fn service(app: Shared) -> tower_http::normalize_path::NormalizePath<axum::Router> {
    NormalizePathLayer::trim_trailing_slash().layer(routes::router(app))
}

/// How often a server on a shared database reads the log of changes while it gets no request.
const QUIET_SYNC: std::time::Duration = std::time::Duration::from_secs(60);

/// Reads what other processes changed every [`QUIET_SYNC`], so that a quiet server stays
/// within the log's reach and its first request after a pause need not read everything again.
/// Ends with the server.
async fn keep_synced(app: std::sync::Weak<App>) {
    let mut every = tokio::time::interval(QUIET_SYNC);
    loop {
        every.tick().await;
        let Some(app) = app.upgrade() else { return };
        let synced = tokio::task::spawn_blocking(move || app.store().sync()).await;
        if let Ok(Err(err)) = synced {
            tracing::warn!(error = %format!("{err:#}"), "could not read the log of changes");
        }
    }
}

/// Binds and starts a server in the background of the current tokio runtime.
pub async fn start(config: ServerConfig) -> Result<ServerHandle> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("could not listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{addr}");
    config.limits.check()?;
    // One writer per data folder: this server, until it stops.
    let lock = match config.data_dir.as_deref() {
        Some(dir) => Some(control::try_lock(dir)?.with_context(|| {
            format!("another chart-studio-server uses {}; stop it first", dir.display())
        })?),
        None => None,
    };
    let db = db::Db::at(config.data_dir.as_deref(), config.database.as_ref())?;
    let (mut store, unreadable) =
        Store::open(db, config.seed, config.cache_mb.saturating_mul(1 << 20))
            .context("could not load the database")?;
    for file in &unreadable {
        tracing::error!(
            file = %file.fid,
            reason = %file.reason,
            "a stored file does not read back: it stays in the database and is not served"
        );
    }
    // Processes started at once on one PostgreSQL database add the accounts and seeds once.
    let setting_up = match store.write_locker() {
        Some(locker) => {
            let (lock, _) = locker.lock(None)?;
            store.reload()?;
            Some(lock)
        }
        None => None,
    };
    accounts(&mut store, &config)?;
    for dir in &config.seed_dirs {
        seed::directory(&mut store, dir)?;
    }
    let web = config.web_domain.clone().unwrap_or_else(|| url.clone());
    let urls = Urls { api: url.clone(), web: web.trim_end_matches('/').to_owned() };
    let images =
        images::Images::new(config.images.clone(), web::plotly_js(), config.data_dir.as_deref())?;
    let app: Shared = Arc::new(App::new(store, urls, config.limits, config.faults.clone(), images));
    if config.images.warm {
        let app = app.clone();
        tokio::spawn(async move {
            if let Err(off) = app.images.warm().await {
                tracing::warn!(%off, "images are off");
            }
        });
    }
    app.persist().context("could not save the accounts and seeded files")?;
    if let Some(lock) = setting_up {
        lock.unlock()?;
        tokio::spawn(keep_synced(Arc::downgrade(&app)));
    }
    let router = service(app.clone());
    let (shutdown, signal) = oneshot::channel::<()>();
    let stopped = async move {
        let _ = signal.await;
    };
    let gate = serve::Gate::new(config.limits.max_connections_per_address);
    let head_timeout = config.limits.head_timeout;
    let task = match config.tls.clone() {
        None => {
            let listener = serve::GatedTcp::new(listener, gate);
            tokio::spawn(serve::serve(listener, router, head_timeout, stopped))
        }
        Some(files) => {
            let listener = tls::TlsListener::new(listener, files, gate)?;
            tokio::spawn(serve::serve(listener, router, head_timeout, stopped))
        }
    };
    let data = match (config.data_dir, lock) {
        (Some(dir), Some(lock)) => {
            let control = control::serve(app.clone(), &dir)?;
            Some(DataFolder { dir, _lock: lock, control })
        }
        _ => None,
    };
    tracing::info!(%url, "chart-studio-server listening");
    Ok(ServerHandle { addr, url, app, unreadable, shutdown: Some(shutdown), task, data })
}
