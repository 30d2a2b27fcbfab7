//! PostgreSQL (`--database`): the same tables as SQLite, at the same schema version. One
//! server process uses a database at a time: it holds a session-level advisory lock, which
//! PostgreSQL releases when the process's connection ends, however the process ends (a new
//! process waits up to [`LOCK_WAIT`] for a killed one's session to end).
//!
//! The `postgres` client runs its own runtime, which may not be blocked on from an async
//! worker, so the connection lives on a thread of its own and each call is sent to it.

use std::sync::mpsc;

use anyhow::{Context, Result, anyhow, bail};
use postgres::{Client, NoTls};

use super::{AccountChange, AccountRow, Batch, LoadedAccount, StoredFile, idlocal_key};

/// The advisory lock a server holds on its database (`pg_try_advisory_lock`).
const SERVER_LOCK: i64 = 0x6368_6172_7473; // "charts"

/// How long opening a database waits for another process's lock.
const LOCK_WAIT: &str = "3s";

/// The tables of the current schema version (SQLite reaches the same by its migrations).
const SCHEMA: &str = "
    CREATE TABLE chart_studio_schema (version INTEGER NOT NULL);
    CREATE TABLE accounts (
        username TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL,
        date_joined BIGINT NOT NULL,
        next_idlocal BIGINT NOT NULL
    );
    CREATE TABLE files (
        owner TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
        idlocal BIGINT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (owner, idlocal)
    );
    CREATE TABLE views (
        owner TEXT NOT NULL,
        idlocal BIGINT NOT NULL,
        views BIGINT NOT NULL,
        PRIMARY KEY (owner, idlocal),
        FOREIGN KEY (owner, idlocal) REFERENCES files(owner, idlocal) ON DELETE CASCADE
    );
    CREATE TABLE contents (
        owner TEXT NOT NULL,
        idlocal BIGINT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (owner, idlocal),
        FOREIGN KEY (owner, idlocal) REFERENCES files(owner, idlocal) ON DELETE CASCADE
    );
";

/// A PostgreSQL connection string (`postgres://...` or `host=... dbname=...`), which may hold
/// a password: `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The connection string.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseUrl(***)")
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(Self(url.to_owned()))
    }
}

type Job = Box<dyn FnOnce(&mut Client) + Send>;

/// An open PostgreSQL database, used by this process alone.
pub(crate) struct Postgres {
    /// `None` once dropped.
    jobs: Option<mpsc::Sender<Job>>,
    connection: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may hold a password: it is not kept.
        f.write_str("Postgres")
    }
}

impl Postgres {
    /// Connects to the database of connection string `url` (`postgres://...` or
    /// `host=... dbname=...`), takes the server's lock on it and creates or checks its schema.
    pub(crate) fn connect(url: &DatabaseUrl) -> Result<Self> {
        let config: postgres::Config = url
            .expose()
            .parse()
            .map_err(|err| anyhow!("the database is not a PostgreSQL connection string: {err}"))?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, connected) = mpsc::sync_channel(1);
        let connection =
            std::thread::Builder::new().name("postgres".to_owned()).spawn(move || match config
                .connect(NoTls)
            {
                Ok(mut client) => {
                    let _ = ready.send(Ok(()));
                    for job in queue {
                        job(&mut client);
                    }
                }
                Err(err) => {
                    let _ = ready.send(Err(err));
                }
            })?;
        connected
            .recv()
            .map_err(|_| anyhow!("the PostgreSQL connection thread stopped"))?
            .context("could not connect to PostgreSQL")?;
        let db = Self { jobs: Some(jobs), connection: Some(connection) };
        db.call(|client| {
            client.batch_execute(&format!("SET lock_timeout = '{LOCK_WAIT}'"))?;
            if let Err(err) = client.execute("SELECT pg_advisory_lock($1)", &[&SERVER_LOCK]) {
                if err.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
                    bail!("another chart-studio-server uses this database; stop it first");
                }
                return Err(err.into());
            }
            client.batch_execute("SET lock_timeout = 0")?;
            migrate(client)
        })?;
        Ok(db)
    }

    /// Runs `work` on the connection's thread and waits for its result.
    fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Client) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let stopped = || anyhow!("the PostgreSQL connection has stopped");
        let (answer, answered) = mpsc::sync_channel(1);
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(Box::new(move |client| {
                let _ = answer.send(work(client));
            }))
            .map_err(|_| stopped())?;
        answered.recv().map_err(|_| stopped())?
    }

    /// Reads every account and file record.
    pub(crate) fn load(&self) -> Result<Vec<LoadedAccount>> {
        self.call(|client| {
            let mut tx = client.build_transaction().read_only(true).start()?;
            let mut loaded = Vec::new();
            for row in
                tx.query("SELECT username, key_hash, date_joined, next_idlocal FROM accounts", &[])?
            {
                loaded.push(LoadedAccount {
                    row: AccountRow {
                        username: row.get(0),
                        key_hash: row.get(1),
                        date_joined: row.get(2),
                        next_idlocal: u64::try_from(row.get::<_, i64>(3)).unwrap_or(0),
                    },
                    files: Vec::new(),
                });
            }
            let files = tx.prepare(
                "SELECT idlocal, record, COALESCE(views, 0) FROM files
                 LEFT JOIN views USING (owner, idlocal) WHERE owner = $1",
            )?;
            for account in &mut loaded {
                for row in tx.query(&files, &[&account.row.username])? {
                    account.files.push(StoredFile {
                        idlocal: u64::try_from(row.get::<_, i64>(0)).unwrap_or(u64::MAX),
                        record: row.get(1),
                        views: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
                    });
                }
            }
            tx.commit()?;
            Ok(loaded)
        })
    }

    /// The stored content (JSON) of a file, if it has one.
    pub(crate) fn content(&self, owner: &str, idlocal: u64) -> Result<Option<String>> {
        let owner = owner.to_owned();
        self.call(move |client| {
            let row = client.query_opt(
                "SELECT body FROM contents WHERE owner = $1 AND idlocal = $2",
                &[&owner, &idlocal_key(idlocal)],
            )?;
            Ok(row.map(|row| row.get(0)))
        })
    }

    /// Writes `batch` in one transaction.
    pub(crate) fn save(&self, batch: Batch) -> Result<()> {
        self.call(move |client| {
            let mut tx = client.transaction()?;
            for change in &batch.accounts {
                match change {
                    AccountChange::Remove(username) => {
                        tx.execute("DELETE FROM accounts WHERE username = $1", &[username])?;
                    }
                    AccountChange::Put(account) => {
                        tx.execute(
                            "INSERT INTO accounts (username, key_hash, date_joined, next_idlocal)
                             VALUES ($1, $2, $3, $4)
                             ON CONFLICT (username) DO UPDATE
                             SET key_hash = EXCLUDED.key_hash, next_idlocal = EXCLUDED.next_idlocal",
                            &[
                                &account.username,
                                &account.key_hash,
                                &account.date_joined,
                                &idlocal_key(account.next_idlocal),
                            ],
                        )?;
                    }
                }
            }
            let record = tx.prepare(
                "INSERT INTO files (owner, idlocal, record) VALUES ($1, $2, $3)
                 ON CONFLICT (owner, idlocal) DO UPDATE SET record = EXCLUDED.record",
            )?;
            for file in &batch.files {
                tx.execute(&record, &[&file.owner, &idlocal_key(file.idlocal), &file.record])?;
            }
            let content = tx.prepare(
                "INSERT INTO contents (owner, idlocal, body) VALUES ($1, $2, $3)
                 ON CONFLICT (owner, idlocal) DO UPDATE SET body = EXCLUDED.body",
            )?;
            for (owner, idlocal, body) in &batch.contents {
                tx.execute(&content, &[owner, &idlocal_key(*idlocal), body])?;
            }
            let views = tx.prepare(
                "INSERT INTO views (owner, idlocal, views) VALUES ($1, $2, $3)
                 ON CONFLICT (owner, idlocal) DO UPDATE SET views = EXCLUDED.views",
            )?;
            for (owner, idlocal, count) in &batch.views {
                let count = i64::try_from(*count).unwrap_or(i64::MAX);
                tx.execute(&views, &[owner, &idlocal_key(*idlocal), &count])?;
            }
            let removed = tx.prepare("DELETE FROM files WHERE owner = $1 AND idlocal = $2")?;
            for (owner, idlocal) in &batch.removed {
                tx.execute(&removed, &[owner, &idlocal_key(*idlocal)])?;
            }
            tx.commit()?;
            Ok(())
        })
    }
}

impl Drop for Postgres {
    /// Gives the lock back and closes the connection before the process goes on, so that
    /// the database can be opened again at once.
    fn drop(&mut self) {
        let _ = self.call(|client| {
            client.execute("SELECT pg_advisory_unlock($1)", &[&SERVER_LOCK])?;
            Ok(())
        });
        self.jobs = None;
        if let Some(connection) = self.connection.take() {
            let _ = connection.join();
        }
    }
}

/// Creates the schema in an empty database, or checks the version of an existing one.
fn migrate(client: &mut Client) -> Result<()> {
    let current = i32::try_from(super::sqlite::SCHEMA_VERSION)?;
    let mut tx = client.transaction()?;
    let exists: bool =
        tx.query_one("SELECT to_regclass('chart_studio_schema') IS NOT NULL", &[])?.get(0);
    if !exists {
        tx.batch_execute(SCHEMA)?;
        tx.execute("INSERT INTO chart_studio_schema (version) VALUES ($1)", &[&current])?;
        return Ok(tx.commit()?);
    }
    let version: i32 = tx.query_one("SELECT version FROM chart_studio_schema", &[])?.get(0);
    if version != current {
        bail!(
            "the database has schema version {version}; this server knows version {current} on PostgreSQL"
        );
    }
    Ok(tx.commit()?)
}
