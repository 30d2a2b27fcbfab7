//! PostgreSQL (`--database`): the same tables as SQLite, at the same schema version, and a log
//! of changes, so that several server processes can share one database:
//!
//! - A change by an account is written under that account's advisory lock for writes
//!   ([`WriteLocker`], each lock on a connection of its own so that waiting for one holds up
//!   no read and no other account's change); a change of every account takes one lock over
//!   all. Under its lock a change reads its account's row again (another process may have
//!   moved its idlocal counter on).
//! - An added or removed account and a new key get a row in `changes`; those changes commit in
//!   the log's order. Before each request a process reads the log past what it has seen and
//!   reads those accounts again ([`Postgres::changes_since`]); files are read per request. So
//!   what another process committed is served at once. Rows older than [`LOG_KEPT_MINUTES`]
//!   are pruned; a process that has not read the log for half that long reads everything
//!   again.
//! - Servers hold a shared advisory lock while they run; `copy` takes it exclusively, so it
//!   never copies a database a server is changing.
//!
//! Connections to another machine are encrypted (TLS, the server's certificate checked against
//! the system's authorities and `PGSSLROOTCERT`) unless the connection string says
//! `sslmode=disable`; on this machine (a unix socket or loopback) only `sslmode=require` asks
//! for TLS. See [`tls_for`].
//!
//! The `postgres` client runs its own runtime, which may not be blocked on from an async
//! worker, so each connection lives on a thread of its own and each call is sent to it. A
//! connection that closes (PostgreSQL restarted) is opened again by the next call.

use std::sync::{Arc, Mutex, mpsc};

use anyhow::{Context, Result, anyhow, bail};
use postgres::config::{Host, SslMode};
use postgres::types::ToSql;
use postgres::{Client, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::sessions::Session;

use super::{
    AccountChange, AccountRow, Batch, Changes, LoadedAccount, StoredFile, idlocal_key, idlocal_of,
};

/// The advisory lock servers hold shared while they run, and `copy` exclusively.
const PRESENCE_LOCK: i64 = 0x6368_6172_7473; // "charts"
/// The advisory lock a change of every account takes exclusively (a start's accounts and
/// seeds, the `user` commands), and a change of one account shared, beside that account's own
/// lock in [`ACCOUNT_LOCKS`].
const WRITE_LOCK: i64 = PRESENCE_LOCK + 1;
/// The space (first key) of the advisory locks of one account's changes; the second key is
/// the hash of the account's name.
const ACCOUNT_LOCKS: i32 = 0x6368_6172; // "char"
/// The advisory lock the schema is made or checked under.
const SCHEMA_LOCK: i64 = PRESENCE_LOCK + 2;
/// The advisory lock a transaction that logs changes commits under, so that the log's rows
/// become visible in the order of their numbers.
const COMMIT_LOCK: i64 = PRESENCE_LOCK + 3;

/// How long the log of changes keeps a row.
pub(crate) const LOG_KEPT_MINUTES: i64 = 10;

/// The tables of [`FIRST_VERSION`]; a new database then takes every upgrade, as SQLite takes
/// its migrations.
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
    CREATE TABLE changes (
        seq BIGSERIAL PRIMARY KEY,
        owner TEXT NOT NULL,
        -- NULL: the account's own row.
        idlocal BIGINT,
        at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX changes_at ON changes (at);
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
        key_hash TEXT NOT NULL,
        ends BIGINT NOT NULL
    );
    CREATE TABLE contents (
        owner TEXT NOT NULL,
        idlocal BIGINT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (owner, idlocal),
        FOREIGN KEY (owner, idlocal) REFERENCES files(owner, idlocal) ON DELETE CASCADE
    );
";

/// The schema version the first PostgreSQL servers made.
const FIRST_VERSION: i32 = 4;

/// A step of the schema.
enum Upgrade {
    Sql(&'static str),
    Code(fn(&mut postgres::Transaction<'_>) -> Result<()>),
}

/// Each step brings a database made at [`FIRST_VERSION`] (plus its index) one version up, as
/// SQLite's migration of the same number does.
const UPGRADES: &[Upgrade] = &[
    Upgrade::Sql("CREATE TABLE unfinished_copy (started BIGINT NOT NULL);"),
    Upgrade::Code(add_file_columns),
    Upgrade::Code(add_lookups),
    Upgrade::Code(add_found_columns),
];

/// Adds the columns of [`super::FileColumns`] to `files`, filled from each record.
fn add_file_columns(tx: &mut postgres::Transaction<'_>) -> Result<()> {
    tx.batch_execute(
        "ALTER TABLE files ADD COLUMN parent BIGINT NOT NULL DEFAULT -1,
             ADD COLUMN kind TEXT NOT NULL DEFAULT '',
             ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE,
             ADD COLUMN world_readable BOOLEAN NOT NULL DEFAULT FALSE;",
    )?;
    let update = tx.prepare(
        "UPDATE files SET parent = $3, kind = $4, deleted = $5, world_readable = $6
         WHERE owner = $1 AND idlocal = $2",
    )?;
    for row in tx.query("SELECT owner, idlocal, record FROM files", &[])? {
        let (owner, idlocal, record): (String, i64, String) = (row.get(0), row.get(1), row.get(2));
        let c = super::FileColumns::of_stored(&record);
        tx.execute(
            &update,
            &[&owner, &idlocal, &c.parent, &c.kind, &c.deleted, &c.world_readable],
        )?;
    }
    tx.batch_execute(super::LISTING_TABLES)?;
    tx.batch_execute(COUNT_TRIGGER)?;
    Ok(())
}

/// Adds `filename` to `files` and the `links` table, filled from each record, and their
/// indexes. Files are read per request from now on, so the log of changes names accounts only.
fn add_lookups(tx: &mut postgres::Transaction<'_>) -> Result<()> {
    tx.batch_execute(
        "ALTER TABLE files ADD COLUMN filename TEXT NOT NULL DEFAULT '';
         ALTER TABLE changes DROP COLUMN IF EXISTS idlocal;",
    )?;
    tx.batch_execute(super::LINKS_TABLE)?;
    let update = tx.prepare("UPDATE files SET filename = $3 WHERE owner = $1 AND idlocal = $2")?;
    let link = tx.prepare(LINK)?;
    for row in tx.query("SELECT owner, idlocal, record FROM files", &[])? {
        let (owner, idlocal, record): (String, i64, String) = (row.get(0), row.get(1), row.get(2));
        let c = super::FileColumns::of_stored(&record);
        tx.execute(&update, &[&owner, &idlocal, &c.filename])?;
        for (grid_owner, grid_idlocal) in &c.grids {
            tx.execute(&link, &[&owner, &idlocal, grid_owner, grid_idlocal])?;
        }
    }
    tx.batch_execute(super::LOOKUP_INDEXES)?;
    Ok(())
}

/// Adds the columns of [`super::FOUND_COLUMNS`] to `files`, filled from each record, and
/// their indexes.
fn add_found_columns(tx: &mut postgres::Transaction<'_>) -> Result<()> {
    tx.batch_execute(super::FOUND_COLUMNS)?;
    let update = tx.prepare(super::FILL_FOUND_COLUMNS)?;
    for row in tx.query("SELECT owner, idlocal, record FROM files", &[])? {
        let (owner, idlocal, record): (String, i64, String) = (row.get(0), row.get(1), row.get(2));
        let mut params = vec![super::Param::Text(owner), super::Param::Integer(idlocal)];
        params.extend(super::FileColumns::of_stored(&record).found_values());
        let params = values(params);
        tx.execute(&update, &borrowed(&params))?;
    }
    tx.batch_execute(super::FOUND_INDEXES)?;
    Ok(())
}

/// Links a plot to a grid its figure names.
const LINK: &str = "INSERT INTO links (owner, idlocal, grid_owner, grid_idlocal)
    VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";

/// Keeps `file_counts` (see [`super::LISTING_TABLES`]) as files come, change and go.
const COUNT_TRIGGER: &str = "
    CREATE FUNCTION chart_studio_count_files() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE file_counts SET n = n - 1
            WHERE owner = OLD.owner AND deleted = OLD.deleted AND parent = OLD.parent
                AND kind = OLD.kind AND world_readable = OLD.world_readable;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO file_counts (owner, deleted, parent, kind, world_readable, n)
            VALUES (NEW.owner, NEW.deleted, NEW.parent, NEW.kind, NEW.world_readable, 1)
            ON CONFLICT (owner, deleted, parent, kind, world_readable)
            DO UPDATE SET n = file_counts.n + 1;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER files_counted
        AFTER INSERT OR DELETE OR UPDATE OF parent, deleted, kind, world_readable ON files
        FOR EACH ROW EXECUTE FUNCTION chart_studio_count_files();
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

type Job = Box<dyn FnOnce(Result<&mut Connected>) + Send>;

/// A connection and the statements prepared on it (a statement is parsed once, then each call
/// is one round trip).
struct Connected {
    client: Client,
    prepared: std::collections::BTreeMap<String, postgres::Statement>,
}

impl Connected {
    /// The rows `sql` (prepared once) answers.
    fn query(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let statement = self.prepared(sql)?;
        Ok(self.client.query(&statement, params)?)
    }

    /// The row `sql` (prepared once) answers, if any.
    fn query_opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>> {
        let statement = self.prepared(sql)?;
        Ok(self.client.query_opt(&statement, params)?)
    }

    /// The one row `sql` (prepared once) answers.
    fn query_one(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
        let statement = self.prepared(sql)?;
        Ok(self.client.query_one(&statement, params)?)
    }

    /// Runs `sql` (prepared once); how many rows it changed.
    fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let statement = self.prepared(sql)?;
        Ok(self.client.execute(&statement, params)?)
    }

    /// `sql`, prepared on this connection once.
    fn prepared(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// A connection on a thread of its own, taking calls in order.
struct Connection {
    /// `None` once dropped.
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Connection {
    /// Connects on a thread named `name`, running `setup` on the new connection. A connection
    /// that closes (PostgreSQL restarted, the network failed) is opened again, with `setup`, by
    /// the next call: the call it closed under fails, the later ones go on.
    fn open(
        (config, tls): (postgres::Config, MakeRustlsConnect),
        name: &str,
        setup: fn(&mut Client) -> Result<()>,
    ) -> Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, connected) = mpsc::sync_channel(1);
        let connect = move || -> Result<Connected> {
            let mut client =
                config.connect(tls.clone()).context("could not connect to PostgreSQL")?;
            setup(&mut client)?;
            Ok(Connected { client, prepared: std::collections::BTreeMap::new() })
        };
        let thread = std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            let mut connected = match connect() {
                Ok(connected) => connected,
                Err(err) => {
                    let _ = ready.send(Err(err));
                    return;
                }
            };
            let _ = ready.send(Ok(()));
            for job in queue {
                if connected.client.is_closed() {
                    match connect() {
                        Ok(again) => connected = again,
                        Err(err) => {
                            job(Err(err));
                            continue;
                        }
                    }
                }
                job(Ok(&mut connected));
            }
        })?;
        connected.recv().map_err(|_| anyhow!("the PostgreSQL connection thread stopped"))??;
        Ok(Self { jobs: Some(jobs), thread: Some(thread) })
    }

    /// Runs `work` on the connection's thread and waits for its result.
    fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connected) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let stopped = || anyhow!("the PostgreSQL connection has stopped");
        let (answer, answered) = mpsc::sync_channel(1);
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(Box::new(move |connected| {
                let _ = answer.send(connected.and_then(work));
            }))
            .map_err(|_| stopped())?;
        answered.recv().map_err(|_| stopped())?
    }
}

impl Drop for Connection {
    /// Closes the connection before the process goes on, so that its locks are free at once.
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Takes the locks changes are written under, each on a connection of its own that is kept
/// for a later lock, so that a change waiting for one account's lock holds up no other change.
/// Clones share the connections.
#[derive(Clone)]
pub(crate) struct WriteLocker {
    connect: Arc<(postgres::Config, MakeRustlsConnect)>,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl std::fmt::Debug for WriteLocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The configuration may hold a password.
        f.write_str("WriteLocker")
    }
}

impl WriteLocker {
    /// Waits (blocking) for the lock for changes of `account`, or of every account (`None`);
    /// returns it with the account's row as read once it is held (`None`: no such account).
    pub(crate) fn lock(&self, account: Option<&str>) -> Result<(WriteLock, Option<AccountRow>)> {
        let idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => Connection::open((*self.connect).clone(), "postgres-lock", |_| Ok(()))?,
        };
        let account = account.map(str::to_owned);
        let row = connection.call(move |db| {
            let Some(name) = &account else {
                db.execute("SELECT pg_advisory_lock($1)", &[&WRITE_LOCK])?;
                return Ok(None);
            };
            db.execute(
                "SELECT pg_advisory_lock_shared($1), pg_advisory_lock($2, hashtext($3))",
                &[&WRITE_LOCK, &ACCOUNT_LOCKS, name],
            )?;
            // A statement of its own: its snapshot is taken once the lock is held.
            Ok(db.query_opt(SELECT_ACCOUNT, &[name])?.as_ref().map(account_row))
        })?;
        Ok((WriteLock { connection, idle: self.idle.clone() }, row))
    }
}

/// A lock for writes, held until [`WriteLock::unlock`], or until dropped (its connection
/// closes, which gives it back).
pub(crate) struct WriteLock {
    connection: Connection,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl std::fmt::Debug for WriteLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteLock")
    }
}

impl WriteLock {
    /// Gives the lock back; its connection waits for a later lock.
    pub(crate) fn unlock(self) -> Result<()> {
        self.connection.call(|db| {
            db.execute("SELECT pg_advisory_unlock_all()", &[])?;
            Ok(())
        })?;
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(self.connection);
        Ok(())
    }
}

/// An open PostgreSQL database.
pub(crate) struct Postgres {
    queries: Connection,
    writes: WriteLocker,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may hold a password: it is not kept.
        f.write_str("Postgres")
    }
}

impl Postgres {
    /// Connects to the database of connection string `url` (`postgres://...` or
    /// `host=... dbname=...`), takes the servers' shared lock on it and creates or checks its
    /// schema.
    pub(crate) fn connect(url: &DatabaseUrl) -> Result<Self> {
        let mut config: postgres::Config = url
            .expose()
            .parse()
            .map_err(|err| anyhow!("the database is not a PostgreSQL connection string: {err}"))?;
        let roots = std::env::var_os("PGSSLROOTCERT").map(std::path::PathBuf::from);
        let tls = tls_for(&mut config, roots.as_deref())?;
        let queries = Connection::open((config.clone(), tls.clone()), "postgres", |client| {
            client.execute("SELECT pg_advisory_lock_shared($1)", &[&PRESENCE_LOCK])?;
            Ok(())
        })?;
        let writes = WriteLocker { connect: Arc::new((config, tls)), idle: Arc::default() };
        queries.call(|db| migrate(&mut db.client))?;
        Ok(Self { queries, writes })
    }

    /// Another connection to the same database, for long reads made beside this one's.
    pub(crate) fn reader(&self) -> Result<Self> {
        let connect = (*self.writes.connect).clone();
        let queries = Connection::open(connect, "postgres-reader", |_| Ok(()))?;
        Ok(Self { queries, writes: self.writes.clone() })
    }

    /// Makes sure no other process uses the database (for `copy`): takes the presence lock
    /// exclusively, which fails while any server holds it.
    pub(crate) fn claim(&self) -> Result<()> {
        self.queries.call(|db| {
            let claimed: bool =
                db.client.query_one("SELECT pg_try_advisory_lock($1)", &[&PRESENCE_LOCK])?.get(0);
            if !claimed {
                bail!("a chart-studio-server uses this database; stop it first");
            }
            Ok(())
        })
    }

    /// Whether a copy into this database has not been checked.
    pub(crate) fn holds_unfinished_copy(&self) -> Result<bool> {
        self.call(|db| {
            Ok(db.query_one("SELECT EXISTS (SELECT 1 FROM unfinished_copy)", &[])?.get(0))
        })
    }

    /// See [`super::Db::start_copy`].
    pub(crate) fn start_copy(&self, now: i64) -> Result<()> {
        self.call(move |db| {
            let mut tx = db.client.transaction()?;
            let row = tx.query_one(
                "SELECT EXISTS (SELECT 1 FROM accounts), EXISTS (SELECT 1 FROM unfinished_copy)",
                &[],
            )?;
            if row.get::<_, bool>(0) && !row.get::<_, bool>(1) {
                bail!(super::NOT_EMPTY);
            }
            // The foreign keys cascade to files, views, contents and sessions.
            tx.batch_execute(
                "DELETE FROM accounts; DELETE FROM changes; DELETE FROM unfinished_copy;",
            )?;
            tx.execute("INSERT INTO unfinished_copy (started) VALUES ($1)", &[&now])?;
            Ok(tx.commit()?)
        })
    }

    /// See [`super::Db::finish_copy`].
    pub(crate) fn finish_copy(&self) -> Result<()> {
        self.call(|db| {
            db.execute("DELETE FROM unfinished_copy", &[])?;
            Ok(())
        })
    }

    /// The lock every change is written under.
    pub(crate) fn write_locker(&self) -> WriteLocker {
        self.writes.clone()
    }

    fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connected) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.queries.call(work)
    }

    /// The log of changes past `seq`: the newest seq and each account changed, oldest first.
    pub(crate) fn changes_since(&self, seq: i64) -> Result<Changes> {
        self.call(move |db| {
            let mut newest = seq;
            let mut changed = Vec::new();
            for row in
                db.query("SELECT seq, owner FROM changes WHERE seq > $1 ORDER BY seq", &[&seq])?
            {
                newest = newest.max(row.get(0));
                changed.push(row.get(1));
            }
            Ok((newest, changed))
        })
    }

    /// The newest seq of the log.
    pub(crate) fn newest_change(&self) -> Result<i64> {
        self.call(|db| Ok(db.query_one("SELECT COALESCE(max(seq), 0) FROM changes", &[])?.get(0)))
    }

    /// An account's stored fields, if it exists.
    pub(crate) fn account(&self, username: &str) -> Result<Option<AccountRow>> {
        let username = username.to_owned();
        self.call(move |db| {
            let row = db.query_opt(SELECT_ACCOUNT, &[&username])?;
            Ok(row.as_ref().map(account_row))
        })
    }

    /// Every account's stored fields.
    pub(crate) fn accounts(&self) -> Result<Vec<AccountRow>> {
        self.call(|db| {
            let rows = db
                .query("SELECT username, key_hash, date_joined, next_idlocal FROM accounts", &[])?;
            Ok(rows.iter().map(account_row).collect())
        })
    }

    /// Reads every account and file record, as one snapshot.
    pub(crate) fn load(&self) -> Result<Vec<LoadedAccount>> {
        self.call(|db| {
            let mut tx = db.client.build_transaction().read_only(true).start()?;
            let rows = tx
                .query("SELECT username, key_hash, date_joined, next_idlocal FROM accounts", &[])?;
            let (sql, _) = super::Select::OfOwner("").query();
            let files = tx.prepare(&sql)?;
            let mut loaded = Vec::new();
            for row in rows.iter().map(account_row) {
                let files = tx.query(&files, &[&row.username])?.iter().map(stored_file).collect();
                loaded.push(LoadedAccount { row, files });
            }
            tx.commit()?;
            Ok(loaded)
        })
    }

    /// The first column, an integer, of each row `sql` (`$1`... the `params`) answers.
    pub(crate) fn select_integers(
        &self,
        sql: String,
        params: Vec<super::Param>,
    ) -> Result<Vec<i64>> {
        self.select(sql, params, |row| row.get(0))
    }

    /// The keys (owner, idlocal) of the files `sql` (`$1`... the `params`) answers.
    pub(crate) fn select_keys(
        &self,
        sql: String,
        params: Vec<super::Param>,
    ) -> Result<Vec<(String, u64)>> {
        self.select(sql, params, |row| (row.get(0), idlocal_of(row.get(1))))
    }

    /// The files `sql` (`$1`... the `params`) answers.
    pub(crate) fn select_files(
        &self,
        sql: String,
        params: Vec<super::Param>,
    ) -> Result<Vec<StoredFile>> {
        self.select(sql, params, stored_file)
    }

    /// Each row `sql` (`$1`... the `params`) answers, as `read` makes it.
    fn select<T: Send + 'static>(
        &self,
        sql: String,
        params: Vec<super::Param>,
        read: fn(&Row) -> T,
    ) -> Result<Vec<T>> {
        self.call(move |db| {
            let statement = db.prepared(&sql)?;
            let values = values(params);
            Ok(db.client.query(&statement, &borrowed(&values))?.iter().map(read).collect())
        })
    }

    /// Keeps a session under the hash of its token, and forgets those that ended by `now`.
    pub(crate) fn put_session(&self, token_hash: &str, session: &Session, now: i64) -> Result<()> {
        let (token_hash, session) = (token_hash.to_owned(), session.clone());
        self.call(move |db| {
            let mut tx = db.client.transaction()?;
            tx.execute("DELETE FROM sessions WHERE ends <= $1", &[&now])?;
            tx.execute(
                "INSERT INTO sessions (token_hash, username, key_hash, ends) VALUES ($1, $2, $3, $4)",
                &[&token_hash, &session.username, &session.key_hash, &session.ends],
            )?;
            Ok(tx.commit()?)
        })
    }

    /// The session of a token's hash.
    pub(crate) fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let token_hash = token_hash.to_owned();
        self.call(move |db| {
            let row = db.query_opt(
                "SELECT username, key_hash, ends FROM sessions WHERE token_hash = $1",
                &[&token_hash],
            )?;
            Ok(row.map(|row| Session {
                username: row.get(0),
                key_hash: row.get(1),
                ends: row.get(2),
            }))
        })
    }

    /// Ends every session of `username`.
    pub(crate) fn end_sessions(&self, username: &str) -> Result<()> {
        let username = username.to_owned();
        self.call(move |db| {
            db.execute("DELETE FROM sessions WHERE username = $1", &[&username])?;
            Ok(())
        })
    }

    /// The stored content (JSON) of a file, if it has one.
    pub(crate) fn content(&self, owner: &str, idlocal: u64) -> Result<Option<String>> {
        let owner = owner.to_owned();
        self.call(move |db| {
            let row = db.query_opt(
                "SELECT body FROM contents WHERE owner = $1 AND idlocal = $2",
                &[&owner, &idlocal_key(idlocal)],
            )?;
            Ok(row.map(|row| row.get(0)))
        })
    }

    /// Writes `batch` in one transaction, with a row in the log of changes for each account
    /// added, removed or given a key (files are read per request, and idlocal counters under
    /// their account's lock: neither is logged).
    pub(crate) fn save(&self, batch: Batch) -> Result<()> {
        self.call(move |db| {
            let log = db.prepared("INSERT INTO changes (owner) VALUES ($1)")?;
            let put_account = db.prepared(super::PUT_ACCOUNT)?;
            let raise = db.prepared(super::RAISE_COUNTER)?;
            let put_file = db.prepared(super::file_statement(false))?;
            let insert_file = db.prepared(super::file_statement(true))?;
            let unlink = db.prepared("DELETE FROM links WHERE owner = $1 AND idlocal = $2")?;
            let link = db.prepared(LINK)?;
            let content = db.prepared(
                "INSERT INTO contents (owner, idlocal, body) VALUES ($1, $2, $3)
                 ON CONFLICT (owner, idlocal) DO UPDATE SET body = EXCLUDED.body",
            )?;
            let views = db.prepared(super::ADD_VIEWS)?;
            let removed = db.prepared("DELETE FROM files WHERE owner = $1 AND idlocal = $2")?;
            let mut tx = db.client.transaction()?;
            if !batch.accounts.is_empty() {
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK])?;
                tx.execute(
                    "DELETE FROM changes WHERE at < now() - make_interval(mins => $1)",
                    &[&(LOG_KEPT_MINUTES as i32)],
                )?;
                for change in &batch.accounts {
                    let username = match change {
                        AccountChange::Remove(username) => username,
                        AccountChange::Put(account) => &account.username,
                    };
                    tx.execute(&log, &[username])?;
                }
            }
            for change in &batch.accounts {
                match change {
                    AccountChange::Remove(username) => {
                        tx.execute("DELETE FROM accounts WHERE username = $1", &[username])?;
                    }
                    AccountChange::Put(account) => {
                        tx.execute(
                            &put_account,
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
            for (username, next) in &batch.counters {
                tx.execute(&raise, &[username, &idlocal_key(*next)])?;
            }
            for file in &batch.files {
                let (c, idlocal) = (&file.columns, idlocal_key(file.idlocal));
                let put = values(c.put_values(&file.owner, file.idlocal, &file.record));
                let record = if file.new { &insert_file } else { &put_file };
                tx.execute(record, &borrowed(&put))?;
                if !file.new {
                    tx.execute(&unlink, &[&file.owner, &idlocal])?;
                }
                for (grid_owner, grid_idlocal) in &c.grids {
                    tx.execute(&link, &[&file.owner, &idlocal, grid_owner, grid_idlocal])?;
                }
            }
            for (owner, idlocal, body) in &batch.contents {
                tx.execute(&content, &[owner, &idlocal_key(*idlocal), body])?;
            }
            for (owner, idlocal, added) in &batch.views {
                tx.execute(&views, &[owner, &idlocal_key(*idlocal), added])?;
            }
            for (owner, idlocal) in &batch.removed {
                tx.execute(&removed, &[owner, &idlocal_key(*idlocal)])?;
            }
            tx.commit()?;
            Ok(())
        })
    }
}

/// The row of account `$1`, as [`account_row`] reads it.
const SELECT_ACCOUNT: &str =
    "SELECT username, key_hash, date_joined, next_idlocal FROM accounts WHERE username = $1";

/// An account's row.
fn account_row(row: &Row) -> AccountRow {
    AccountRow {
        username: row.get(0),
        key_hash: row.get(1),
        date_joined: row.get(2),
        next_idlocal: u64::try_from(row.get::<_, i64>(3)).unwrap_or(0),
    }
}

/// A row of a [`super::Select`] query.
fn stored_file(row: &Row) -> StoredFile {
    StoredFile {
        owner: row.get(0),
        idlocal: idlocal_of(row.get(1)),
        record: row.get(2),
        views: u64::try_from(row.get::<_, i64>(3)).unwrap_or(0),
    }
}

/// A query's values.
fn values(params: Vec<super::Param>) -> Vec<Box<dyn ToSql + Sync>> {
    params
        .into_iter()
        .map(|param| -> Box<dyn ToSql + Sync> {
            match param {
                super::Param::Text(text) => Box::new(text),
                super::Param::Integer(n) => Box::new(n),
                super::Param::Bool(b) => Box::new(b),
            }
        })
        .collect()
}

/// `values` as a statement takes them.
fn borrowed(values: &[Box<dyn ToSql + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(AsRef::as_ref).collect()
}

/// Whether every host of `config` is on this machine: a unix socket or a loopback address.
fn is_local(config: &postgres::Config) -> bool {
    let host_is_local = |host: &Host| match host {
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
    };
    config.get_hosts().iter().all(host_is_local)
        && config.get_hostaddrs().iter().all(std::net::IpAddr::is_loopback)
}

/// Sets how `config` encrypts, and makes the TLS it uses: to another machine, TLS is required
/// (`sslmode` `prefer`, the default, becomes `require`; only `sslmode=disable` sends in the
/// clear); on this machine, TLS only with `sslmode=require`. A certificate is always checked,
/// against the system's authorities and those of the PEM file `roots` (`PGSSLROOTCERT`).
fn tls_for(
    config: &mut postgres::Config,
    roots: Option<&std::path::Path>,
) -> Result<MakeRustlsConnect> {
    if config.get_ssl_mode() == SslMode::Prefer {
        config.ssl_mode(if is_local(config) { SslMode::Disable } else { SslMode::Require });
    }
    let mut store = rustls::RootCertStore::empty();
    store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = roots {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|err| anyhow!("could not read PGSSLROOTCERT {}: {err}", path.display()))?;
        let (added, _) = store.add_parsable_certificates(certs);
        if added == 0 {
            bail!("PGSSLROOTCERT {} holds no certificate", path.display());
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(tls))
}

/// Creates the schema in an empty database, or checks the version of an existing one.
fn migrate(client: &mut Client) -> Result<()> {
    let current = i32::try_from(super::sqlite::SCHEMA_VERSION)?;
    let mut tx = client.transaction()?;
    // Servers started at once make the schema once.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
    let exists: bool =
        tx.query_one("SELECT to_regclass('chart_studio_schema') IS NOT NULL", &[])?.get(0);
    if !exists {
        tx.batch_execute(SCHEMA)?;
        tx.execute("INSERT INTO chart_studio_schema (version) VALUES ($1)", &[&FIRST_VERSION])?;
    }
    let version: i32 = tx.query_one("SELECT version FROM chart_studio_schema", &[])?.get(0);
    if !(FIRST_VERSION..=current).contains(&version) {
        bail!(
            "the database has schema version {version}; this server knows versions \
             {FIRST_VERSION} to {current} on PostgreSQL"
        );
    }
    // A server of an older version would go on writing rows the new schema reads wrong: an
    // existing database is upgraded only by a process alone on it.
    let upgrading = exists && version < current;
    if upgrading {
        let alone: bool =
            tx.query_one("SELECT pg_try_advisory_lock($1)", &[&PRESENCE_LOCK])?.get(0);
        if !alone {
            bail!(
                "the database has schema version {version} and other processes use it (servers \
                 of an older version?): stop them, start one server to upgrade it to version \
                 {current}, then the others"
            );
        }
    }
    for step in (version..current).map(|from| from - FIRST_VERSION) {
        match &UPGRADES[usize::try_from(step)?] {
            Upgrade::Sql(sql) => tx.batch_execute(sql)?,
            Upgrade::Code(step) => step(&mut tx)?,
        }
    }
    tx.execute("UPDATE chart_studio_schema SET version = $1", &[&current])?;
    tx.commit()?;
    if upgrading {
        client.execute("SELECT pg_advisory_unlock($1)", &[&PRESENCE_LOCK])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The tables both engines hold (PostgreSQL adds its log of changes and schema version).
    const SHARED: [&str; 8] = [
        "accounts",
        "contents",
        "file_counts",
        "files",
        "links",
        "sessions",
        "unfinished_copy",
        "views",
    ];

    /// To another machine TLS is required unless the connection string says otherwise; on
    /// this machine it is used when asked for.
    #[test]
    fn another_machine_gets_tls_this_one_when_asked() {
        let mode = |url: &str| {
            let mut config: postgres::Config = url.parse().unwrap();
            tls_for(&mut config, None).unwrap();
            config.get_ssl_mode()
        };
        for remote in [
            "host=db.example.com user=charts",
            "postgres://charts:secret@10.0.0.5/charts",
            "host=localhost hostaddr=10.0.0.5 user=charts",
            "host=/run/postgresql,db.example.com user=charts",
            "host=localhost sslmode=require",
        ] {
            assert_eq!(mode(remote), SslMode::Require, "{remote}");
        }
        for local in [
            "host=/run/postgresql user=charts",
            "host=localhost user=charts",
            "postgres://charts@127.0.0.1/charts",
            "postgres://charts@[::1]/charts",
            "host=db.example.com sslmode=disable",
        ] {
            assert_eq!(mode(local), SslMode::Disable, "{local}");
        }
    }

    /// Over TCP with TLS the server's certificate is checked: without its authority the
    /// connection is refused; with it (`PGSSLROOTCERT`) it is encrypted.
    #[test]
    fn a_tls_connection_checks_the_certificate() {
        let cluster = crate::pg_cluster::TempCluster::start_with_tls().unwrap();
        let mut config: postgres::Config = cluster.tls_url().unwrap().expose().parse().unwrap();
        let unknown = tls_for(&mut config, None).unwrap();
        let Err(err) = config.connect(unknown) else { panic!("an unknown authority is accepted") };
        let err = format!("{:#}", anyhow::Error::from(err));
        assert!(err.contains("certificate"), "{err}");
        let known = tls_for(&mut config, Some(&cluster.authority())).unwrap();
        let mut client = config.connect(known).unwrap();
        let row = client.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]);
        assert!(row.unwrap().get::<_, bool>(0), "the connection is encrypted");
    }

    /// A database made at an older schema version is brought up to the current one; one older
    /// than the first PostgreSQL schema is refused.
    #[test]
    fn an_older_schema_is_upgraded() {
        let cluster = crate::pg_cluster::TempCluster::start().unwrap();
        let version = |db: &Postgres| {
            db.call(|db| Ok(db.client.query_one("SELECT version FROM chart_studio_schema", &[])?))
                .map(|row| row.get::<_, i32>(0))
                .unwrap()
        };
        let set_back = |db: &Postgres, sql: &'static str| {
            db.call(|db| Ok(db.client.batch_execute(sql)?)).unwrap();
        };
        let (mut store, _) =
            crate::store::Store::open(super::super::Db::postgres(&cluster.url()).unwrap(), 7, 0)
                .unwrap();
        store.add_account("alice", "alice-key").unwrap();
        let mut plot = crate::store::NewFile {
            filename: Some("p".to_owned()),
            parent: None,
            parent_path: Some("a".to_owned()),
            world_readable: true,
            share_key_enabled: false,
            metadata: None,
            body: crate::content::Body::plot(
                serde_json::json!({"data": [{"type": "bar", "xsrc": "bob:3:aaaaaa"}]}),
            ),
            idlocal: None,
        };
        store.create("alice", plot.clone()).unwrap();
        plot.world_readable = false;
        plot.parent_path = None;
        store.create("alice", plot).unwrap();
        store.commit().unwrap();
        drop(store);
        let db = Postgres::connect(&cluster.url()).unwrap();
        set_back(
            &db,
            "DROP INDEX public_plots; DROP INDEX featured_plots; DROP INDEX files_by_created;
             DROP INDEX files_found;
             ALTER TABLE files DROP COLUMN created, DROP COLUMN featured, DROP COLUMN quality,
                 DROP COLUMN search_name, DROP COLUMN plot_types;
             DROP TABLE links; DROP INDEX files_by_name; DROP INDEX files_unreadable;
             ALTER TABLE files DROP COLUMN filename;
             DROP TABLE unfinished_copy; DROP TABLE file_counts;
             DROP TRIGGER files_counted ON files; DROP FUNCTION chart_studio_count_files();
             DROP INDEX files_by_folder; DROP INDEX files_in_order;
             ALTER TABLE files DROP COLUMN parent, DROP COLUMN kind,
                 DROP COLUMN deleted, DROP COLUMN world_readable;
             UPDATE chart_studio_schema SET version = 4;",
        );
        drop(db);
        // A process of an older version still on the database holds the upgrade off.
        let config: postgres::Config = cluster.url().expose().parse().unwrap();
        let mut older = config.connect(postgres::NoTls).unwrap();
        older.execute("SELECT pg_advisory_lock_shared($1)", &[&PRESENCE_LOCK]).unwrap();
        let err = Postgres::connect(&cluster.url()).map(drop).unwrap_err().to_string();
        assert!(err.contains("other processes use it"), "{err}");
        drop(older);
        let db = Postgres::connect(&cluster.url()).unwrap();
        assert_eq!(version(&db), i32::try_from(super::super::sqlite::SCHEMA_VERSION).unwrap());
        let mut another = config.connect(postgres::NoTls).unwrap();
        let shared = another.query_one("SELECT pg_try_advisory_lock_shared($1)", &[&PRESENCE_LOCK]);
        assert!(shared.unwrap().get::<_, bool>(0), "the upgrade gave its exclusive lock back");
        assert!(!db.holds_unfinished_copy().unwrap());
        let columns = db
            .call(|db| {
                let rows = db.client.query(
                    "SELECT idlocal, parent, kind, deleted, world_readable, filename,
                         (SELECT string_agg(grid_owner || ':' || grid_idlocal, ',') FROM links
                          WHERE links.owner = files.owner AND links.idlocal = files.idlocal),
                         search_name || '|' || plot_types || '|' || (created > 0)
                     FROM files ORDER BY idlocal",
                    &[],
                )?;
                Ok(rows
                    .iter()
                    .map(|row| {
                        let (id, parent, kind): (i64, i64, String) =
                            (row.get(0), row.get(1), row.get(2));
                        let (deleted, public): (bool, bool) = (row.get(3), row.get(4));
                        let (name, links): (String, Option<String>) = (row.get(5), row.get(6));
                        let (links, found): (_, String) = (links.unwrap_or_default(), row.get(7));
                        format!("{id} {parent} {kind} {deleted} {public} {name} [{links}] {found}")
                    })
                    .collect::<Vec<_>>())
            })
            .unwrap();
        assert_eq!(
            columns,
            [
                "0 -1 fold false false a [] a||true",
                "1 0 plot false true p [bob:3] p| bar |true",
                "2 -1 plot false false p [bob:3] p| bar |true"
            ],
            "the new columns are filled from each record"
        );
        let counts = db
            .call(|db| {
                let rows = db.client.query(
                    "SELECT parent, kind, world_readable, n FROM file_counts ORDER BY parent, n",
                    &[],
                )?;
                Ok(rows
                    .iter()
                    .map(|row| {
                        let (parent, kind): (i64, String) = (row.get(0), row.get(1));
                        let (public, n): (bool, i64) = (row.get(2), row.get(3));
                        format!("{parent} {kind} {public} {n}")
                    })
                    .collect::<Vec<_>>())
            })
            .unwrap();
        assert_eq!(counts, ["-1 fold false 1", "-1 plot false 1", "0 plot true 1"]);
        set_back(&db, "UPDATE chart_studio_schema SET version = 3;");
        drop(db);
        let err = Postgres::connect(&cluster.url()).map(drop).unwrap_err().to_string();
        assert!(err.contains("schema version 3"), "{err}");
    }

    #[test]
    fn both_engines_hold_the_same_tables_and_columns() {
        let sqlite = super::super::sqlite::Sqlite::in_memory().unwrap();
        let mut in_sqlite = BTreeSet::new();
        for table in SHARED {
            let conn = sqlite.conn_for_tests();
            let mut columns = conn.prepare(&format!("PRAGMA table_info({table})")).unwrap();
            let names = columns.query_map([], |row| row.get::<_, String>(1)).unwrap();
            in_sqlite.extend(names.map(|name| (table.to_owned(), name.unwrap())));
        }
        let cluster = crate::pg_cluster::TempCluster::start().unwrap();
        let postgres = Postgres::connect(&cluster.url()).unwrap();
        let in_postgres: BTreeSet<(String, String)> = postgres
            .call(|db| {
                let rows = db.client.query(
                    "SELECT table_name::text, column_name::text FROM information_schema.columns
                     WHERE table_schema = 'public' AND table_name = ANY($1)",
                    &[&SHARED.to_vec()],
                )?;
                Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
            })
            .unwrap();
        assert_eq!(in_postgres, in_sqlite);
        assert_eq!(in_sqlite.len(), 38, "{in_sqlite:?}");
    }
}
