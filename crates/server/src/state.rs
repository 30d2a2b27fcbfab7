//! The shared state of a running server.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use crate::db::postgres::{WriteLock, WriteLocker};
use crate::faults::{FaultState, Faults};
use crate::store::Store;

/// Size limits of requests and pages.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body, in bytes (413 above).
    pub max_body_bytes: usize,
    /// Deepest accepted JSON nesting (400 above).
    pub max_json_depth: usize,
    /// Largest `page_size` honoured by page-number listings.
    pub max_page_size: u32,
    /// How long a connection may take to send a request's head; also how long a keep-alive
    /// connection may sit idle between requests.
    pub head_timeout: Duration,
    /// How long a request's body may take to arrive (408 after).
    pub body_timeout: Duration,
    /// Connections one client address may hold open at once; more are closed at once.
    pub max_connections_per_address: usize,
}

/// The deepest JSON nesting a server may accept. Whatever is stored must read back, and JSON
/// readers stop at 128 levels (serde_json's default, in the server's storage and in clients):
/// storage wraps a figure in three more levels, and an answer's page in three more.
pub const MAX_JSON_DEPTH: usize = 100;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024 * 1024,
            max_json_depth: MAX_JSON_DEPTH,
            max_page_size: 10_000,
            head_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(60),
            max_connections_per_address: 256,
        }
    }
}

impl Limits {
    /// Refuses limits a server cannot keep.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        if self.head_timeout.is_zero() || self.body_timeout.is_zero() {
            anyhow::bail!("timeouts must be longer than zero");
        }
        if self.max_connections_per_address == 0 {
            anyhow::bail!("each address must be allowed at least one connection");
        }
        if !(1..=MAX_JSON_DEPTH).contains(&self.max_json_depth) {
            anyhow::bail!(
                "the JSON depth limit must be between 1 and {MAX_JSON_DEPTH}, not {}: deeper documents would not read back",
                self.max_json_depth
            );
        }
        Ok(())
    }
}

/// Where generated links point.
#[derive(Debug, Clone)]
pub(crate) struct Urls {
    /// The API host, for `api_urls` and `img_url` (`http://127.0.0.1:9200`).
    pub api: String,
    /// The web host, for `web_url` and `embed_url`.
    pub web: String,
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct App {
    store: Mutex<Store>,
    pub urls: Urls,
    pub limits: Limits,
    pub faults: RwLock<Faults>,
    pub fault_state: Mutex<FaultState>,
    /// Requests answered since the start, for benchmarks that compute their ideal time.
    pub served: std::sync::atomic::AtomicU64,
    /// The image renderer and its cache.
    pub images: crate::images::Images,
    /// Failed credentials per client address.
    pub failed_keys: crate::throttle::FailedKeys,
    /// Requests whose route panicked (each answered 500).
    pub panics: std::sync::atomic::AtomicU64,
    /// How many times the faults were set: held requests wait for it to change.
    pub fault_settings: tokio::sync::watch::Sender<u64>,
    /// Requests held now (`Faults::hold_changes_after`).
    pub held: tokio::sync::watch::Sender<u64>,
    /// Requests that changed something answered since the faults were last set.
    pub changes_answered: tokio::sync::watch::Sender<u64>,
    /// The locks changes are written under when other processes share the database.
    writes: Option<WriteLocker>,
    /// Turns to hold or wait for a lock for writes ([`LOCKED_WRITES`]).
    writers: Arc<tokio::sync::Semaphore>,
    /// A connection of its own for long reads (see [`App::long_read`]), when the database
    /// has one.
    reader: Option<Mutex<crate::db::Db>>,
}

/// How many changes at once may hold or wait for a lock for writes, each on a PostgreSQL
/// connection of its own; more wait for one of them to finish first.
const LOCKED_WRITES: usize = 8;

/// The lock for writes a change holds until it is committed; given back when dropped.
#[derive(Debug)]
pub(crate) struct Writing {
    lock: Option<WriteLock>,
    _turn: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Writing {
    fn drop(&mut self) {
        if let Some(Err(err)) = self.lock.take().map(WriteLock::unlock) {
            tracing::error!(error = %format!("{err:#}"), "could not give back the lock for writes");
        }
    }
}

/// The state handed to handlers.
pub(crate) type Shared = Arc<App>;

impl App {
    pub(crate) fn new(
        store: Store,
        urls: Urls,
        limits: Limits,
        faults: Faults,
        images: crate::images::Images,
    ) -> Self {
        let fault_state = FaultState::new(faults.seed);
        let writes = store.write_locker();
        let reader = store.reader().unwrap_or_else(|err| {
            tracing::warn!(error = %format!("{err:#}"), "long reads will hold up other requests: no second connection to the database");
            None
        });
        Self {
            writes,
            reader: reader.map(Mutex::new),
            writers: Arc::new(tokio::sync::Semaphore::new(LOCKED_WRITES)),
            store: Mutex::new(store),
            urls,
            limits,
            faults: RwLock::new(faults),
            fault_state: Mutex::new(fault_state),
            served: std::sync::atomic::AtomicU64::new(0),
            images,
            failed_keys: crate::throttle::FailedKeys::default(),
            panics: std::sync::atomic::AtomicU64::new(0),
            fault_settings: tokio::sync::watch::Sender::new(0),
            held: tokio::sync::watch::Sender::new(0),
            changes_answered: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Commits every change since the last call to the database. The store stays locked
    /// meanwhile, so an answer that follows a change always follows its write. When the write
    /// fails, the change is dropped (see [`Store::commit`]), so that what the server answers
    /// stays what is stored: the change is not half applied.
    pub(crate) fn persist(&self) -> anyhow::Result<()> {
        let mut store = self.store();
        if self.faults().fail_saves && store.has_changes() {
            store.rollback()?;
            anyhow::bail!("saving is failed on purpose (Faults::fail_saves)");
        }
        store.commit()
    }

    /// Reads what other processes sharing the database committed ([`Store::sync`]): done
    /// before every request.
    pub(crate) fn sync(&self) -> anyhow::Result<()> {
        self.store().sync()
    }

    /// For a change on a shared database: takes the lock for writes of `account` (`""`: of
    /// requests without an account; `None`: of every account) that the other processes also
    /// take, held until the returned guard is dropped (after [`App::persist`]); then takes the
    /// account's own fields as read under the lock (every account's, for `None`), as another
    /// process may have moved an idlocal counter on (under the same lock).
    pub(crate) async fn lock_writes(
        &self,
        account: Option<&str>,
    ) -> anyhow::Result<Option<Writing>> {
        let Some(locker) = &self.writes else { return Ok(None) };
        let turn = self.writers.clone().acquire_owned().await?;
        let (locker, key) = (locker.clone(), account.map(str::to_owned));
        // The guard is made where the lock is taken: a request dropped while waiting (its
        // client went away) drops the guard with the task's output, giving the lock back,
        // instead of leaving it held for every other process.
        let taken = tokio::task::spawn_blocking(move || {
            let (lock, row) = locker.lock(key.as_deref())?;
            anyhow::Ok((Writing { lock: Some(lock), _turn: turn }, row))
        });
        let (writing, row) = taken.await??;
        match account {
            None => self.store().reload()?,
            Some("") => {}
            Some(name) => self.store().locked_account(name, row),
        }
        Ok(Some(writing))
    }

    /// Runs `read`, a long read of what is committed (search, the public list by views), on a
    /// thread for blocking work and a connection of its own when the database has one, so that
    /// the store serves other requests meanwhile; on the store's connection, locked, otherwise.
    pub(crate) async fn long_read<T: Send + 'static>(
        self: &Arc<Self>,
        read: impl FnOnce(&crate::db::Db) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, crate::store::StoreError> {
        let app = Arc::clone(self);
        let done = tokio::task::spawn_blocking(move || match &app.reader {
            Some(reader) => read(&reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner)),
            None => read(app.store().committed()),
        });
        let storage = |err: String| crate::store::StoreError::Storage(err);
        done.await
            .map_err(|err| storage(err.to_string()))?
            .map_err(|err| storage(format!("{err:#}")))
    }

    /// The store, locked. A handler that panicked does not poison it for the others.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current fault settings.
    pub(crate) fn faults(&self) -> Faults {
        self.faults.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Counts a request of `who` against its limits, for a route that names its account where
    /// the request layer does not look (see [`crate::faults::charge`]).
    pub(crate) fn charge(
        &self,
        who: &crate::faults::Requester,
        method: &http::Method,
    ) -> Result<(), crate::failure::Failure> {
        let faults = self.faults();
        let mut state = self.fault_state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        crate::faults::charge(&mut state, &faults, who, method)
    }
}
