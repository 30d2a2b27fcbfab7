//! SQLite: a file in the data folder (`--data DIR`), or in memory without one. The schema is
//! versioned (`PRAGMA user_version`) and migrated forward.

use std::path::Path;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, params};

use super::{AccountChange, AccountRow, Batch, LoadedAccount, StoredFile, idlocal_key, idlocal_of};
use crate::content::{Body, Outline};
use crate::sessions::Session;

/// The database file in the data folder.
const FILE: &str = "chart-studio.sqlite3";

/// How many prepared statements a connection keeps.
const STATEMENTS_KEPT: usize = 128;

/// A step of the schema.
enum Migration {
    Sql(&'static str),
    Code(fn(&rusqlite::Transaction<'_>) -> Result<()>),
}

/// Each migration brings the schema from its index to the next version.
const MIGRATIONS: &[Migration] = &[
    Migration::Sql(
        "
    CREATE TABLE accounts (
        username TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL,
        date_joined INTEGER NOT NULL,
        next_idlocal INTEGER NOT NULL
    );
    CREATE TABLE files (
        owner TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
        idlocal INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (owner, idlocal)
    );
    ",
    ),
    // View counts move out of the records: SQLite rewrites a whole row to change one field,
    // and a view must not rewrite a file.
    Migration::Sql(
        "
    CREATE TABLE views (
        owner TEXT NOT NULL,
        idlocal INTEGER NOT NULL,
        views INTEGER NOT NULL,
        PRIMARY KEY (owner, idlocal),
        FOREIGN KEY (owner, idlocal) REFERENCES files(owner, idlocal) ON DELETE CASCADE
    );
    INSERT INTO views (owner, idlocal, views)
        SELECT owner, idlocal, json_extract(record, '$.views') FROM files
        WHERE json_valid(record) AND json_extract(record, '$.views') > 0;
    ",
    ),
    // Contents move out of the records, which keep an outline: a server reads the records at
    // start and a content when a request needs it.
    Migration::Code(split_contents),
    // Sign-in sessions move out of the process's memory (by the hash of their token).
    Migration::Sql(
        "
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
        key_hash TEXT NOT NULL,
        ends INTEGER NOT NULL
    );
    ",
    ),
    // A copy into the database marks it until the copy is checked (see `Db::start_copy`).
    Migration::Sql(
        "
    CREATE TABLE unfinished_copy (started INTEGER NOT NULL);
    ",
    ),
    // Listings become queries: the fields they select on get columns of their own.
    Migration::Code(add_file_columns),
    // Records leave the server's memory: lookups by name and plot-grid links become queries.
    Migration::Code(add_lookups),
    // The public list, the feed and search become queries.
    Migration::Code(add_found_columns),
];

/// The schema version the migrations reach.
pub(super) const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Moves each record's `body` into `contents`, leaving its outline in the record. A record that
/// does not read is left as it is (the server reports it at start).
fn split_contents(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    tx.execute_batch(
        "CREATE TABLE contents (
            owner TEXT NOT NULL,
            idlocal INTEGER NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (owner, idlocal),
            FOREIGN KEY (owner, idlocal) REFERENCES files(owner, idlocal) ON DELETE CASCADE
        );",
    )?;
    let mut content =
        tx.prepare("INSERT INTO contents (owner, idlocal, body) VALUES (?1, ?2, ?3)")?;
    let mut record =
        tx.prepare("UPDATE files SET record = ?3 WHERE owner = ?1 AND idlocal = ?2")?;
    for (owner, idlocal, text) in every_record(tx)? {
        let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_str(&text) else {
            continue;
        };
        let Some(body) = fields.remove("body") else { continue };
        let Ok(decoded) = serde_json::from_value::<Body>(body.clone()) else { continue };
        fields.insert("outline".to_owned(), serde_json::to_value(Outline::of(&decoded))?);
        if !matches!(decoded, Body::Folder) {
            content.execute(params![owner, idlocal, body.to_string()])?;
        }
        record.execute(params![owner, idlocal, serde_json::Value::Object(fields).to_string()])?;
    }
    Ok(())
}

/// Every file's owner, idlocal and record, for a migration that rewrites them.
fn every_record(tx: &rusqlite::Transaction<'_>) -> Result<Vec<(String, i64, String)>> {
    let mut rows = tx.prepare("SELECT owner, idlocal, record FROM files")?;
    let all = rows.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    Ok(all.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Adds the columns of [`super::FileColumns`] to `files`, filled from each record.
fn add_file_columns(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    tx.execute_batch(
        "ALTER TABLE files ADD COLUMN parent INTEGER NOT NULL DEFAULT -1;
         ALTER TABLE files ADD COLUMN kind TEXT NOT NULL DEFAULT '';
         ALTER TABLE files ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
         ALTER TABLE files ADD COLUMN world_readable BOOLEAN NOT NULL DEFAULT FALSE;",
    )?;
    let mut update = tx.prepare(
        "UPDATE files SET parent = ?3, kind = ?4, deleted = ?5, world_readable = ?6
         WHERE owner = ?1 AND idlocal = ?2",
    )?;
    for (owner, idlocal, record) in every_record(tx)? {
        let c = super::FileColumns::of_stored(&record);
        update.execute(params![owner, idlocal, c.parent, c.kind, c.deleted, c.world_readable])?;
    }
    tx.execute_batch(super::LISTING_TABLES)?;
    tx.execute_batch(COUNT_TRIGGERS)?;
    Ok(())
}

/// Adds `filename` to `files` and the `links` table, filled from each record, and their
/// indexes.
fn add_lookups(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    tx.execute_batch("ALTER TABLE files ADD COLUMN filename TEXT NOT NULL DEFAULT '';")?;
    tx.execute_batch(super::LINKS_TABLE)?;
    let mut update =
        tx.prepare("UPDATE files SET filename = ?3 WHERE owner = ?1 AND idlocal = ?2")?;
    let mut link = tx.prepare(LINK)?;
    for (owner, idlocal, record) in every_record(tx)? {
        let c = super::FileColumns::of_stored(&record);
        update.execute(params![owner, idlocal, c.filename])?;
        for (grid_owner, grid_idlocal) in &c.grids {
            link.execute(params![owner, idlocal, grid_owner, grid_idlocal])?;
        }
    }
    tx.execute_batch(super::LOOKUP_INDEXES)?;
    Ok(())
}

/// Adds the columns of [`super::FOUND_COLUMNS`] to `files`, filled from each record, and
/// their indexes.
fn add_found_columns(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    tx.execute_batch(super::FOUND_COLUMNS)?;
    let mut update = tx.prepare(&super::FILL_FOUND_COLUMNS.replace('$', "?"))?;
    for (owner, idlocal, record) in every_record(tx)? {
        let mut params = vec![super::Param::Text(owner), super::Param::Integer(idlocal)];
        params.extend(super::FileColumns::of_stored(&record).found_values());
        update.execute(values(params))?;
    }
    tx.execute_batch(super::FOUND_INDEXES)?;
    Ok(())
}

/// Links a plot to a grid its figure names.
const LINK: &str = "INSERT INTO links (owner, idlocal, grid_owner, grid_idlocal)
    VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";

/// Keep `file_counts` (see [`super::LISTING_TABLES`]) as files come, change and go.
const COUNT_TRIGGERS: &str = "
    CREATE TRIGGER files_counted AFTER INSERT ON files BEGIN
        INSERT INTO file_counts (owner, deleted, parent, kind, world_readable, n)
        VALUES (NEW.owner, NEW.deleted, NEW.parent, NEW.kind, NEW.world_readable, 1)
        ON CONFLICT (owner, deleted, parent, kind, world_readable) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER files_uncounted AFTER DELETE ON files BEGIN
        UPDATE file_counts SET n = n - 1
        WHERE owner = OLD.owner AND deleted = OLD.deleted AND parent = OLD.parent
            AND kind = OLD.kind AND world_readable = OLD.world_readable;
    END;
    CREATE TRIGGER files_recounted
    AFTER UPDATE OF parent, deleted, kind, world_readable ON files BEGIN
        UPDATE file_counts SET n = n - 1
        WHERE owner = OLD.owner AND deleted = OLD.deleted AND parent = OLD.parent
            AND kind = OLD.kind AND world_readable = OLD.world_readable;
        INSERT INTO file_counts (owner, deleted, parent, kind, world_readable, n)
        VALUES (NEW.owner, NEW.deleted, NEW.parent, NEW.kind, NEW.world_readable, 1)
        ON CONFLICT (owner, deleted, parent, kind, world_readable) DO UPDATE SET n = n + 1;
    END;
";

/// An account's row.
fn account_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AccountRow> {
    Ok(AccountRow {
        username: row.get(0)?,
        key_hash: row.get(1)?,
        date_joined: row.get(2)?,
        next_idlocal: u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
    })
}

/// A query's values.
fn values(params: Vec<super::Param>) -> impl rusqlite::Params {
    use rusqlite::types::Value;
    rusqlite::params_from_iter(params.into_iter().map(|param| match param {
        super::Param::Text(text) => Value::Text(text),
        super::Param::Integer(n) => Value::Integer(n),
        super::Param::Bool(b) => Value::Integer(i64::from(b)),
    }))
}

/// Keeps every query a request makes prepared (listings make one per scope and type), with
/// its plan: values bound to it never make SQLite plan it again.
fn keep_plans(conn: &Connection) -> Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// Whether data folder `dir` holds a database.
pub(crate) fn is_in(dir: &Path) -> bool {
    dir.join(FILE).is_file()
}

/// An open SQLite database.
#[derive(Debug)]
pub(crate) struct Sqlite {
    conn: Connection,
    /// The database file (`None` in memory).
    path: Option<std::path::PathBuf>,
}

impl Sqlite {
    /// Opens (creating, 0700) the data folder `dir` and its database, migrated to the current
    /// schema. A database newer than this server is refused.
    pub(crate) fn open(dir: &Path) -> Result<Self> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).with_context(|| format!("could not create {}", dir.display()))?;
        let path = dir.join(FILE);
        // The file holds private data and key hashes: the owner's only (SQLite gives its
        // journal files the same mode).
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&path).with_context(|| format!("could not create {}", path.display()))?;
        let conn = Connection::open(&path)
            .with_context(|| format!("could not open {}", path.display()))?;
        // WAL: a commit is in the log before it returns, so a killed process loses nothing.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut db = Self::migrated(conn, &path.display().to_string())?;
        db.path = Some(path);
        Ok(db)
    }

    /// A database in memory, gone with the process.
    pub(crate) fn in_memory() -> Result<Self> {
        Self::migrated(Connection::open_in_memory()?, "the in-memory database")
    }

    /// `conn` (`name` in messages) with foreign keys on, migrated to the current schema.
    fn migrated(mut conn: Connection, name: &str) -> Result<Self> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        keep_plans(&conn)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let version = usize::try_from(version).unwrap_or(usize::MAX);
        if version > MIGRATIONS.len() {
            bail!(
                "{name} has schema version {version}; this server knows versions up to {}",
                MIGRATIONS.len()
            );
        }
        for (at, migration) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction()?;
            match migration {
                Migration::Sql(sql) => tx.execute_batch(sql).map_err(anyhow::Error::from),
                Migration::Code(step) => step(&tx),
            }
            .with_context(|| format!("migration of {name} to schema version {}", at + 1))?;
            tx.pragma_update(None, "user_version", i64::try_from(at + 1)?)?;
            tx.commit()?;
        }
        Ok(Self { conn, path: None })
    }

    /// A read-only connection to the same file, for long reads made beside this connection's
    /// writes (WAL lets them run at once); `None` in memory, where another connection would
    /// open another database.
    pub(crate) fn reader(&self) -> Result<Option<Self>> {
        let Some(path) = &self.path else { return Ok(None) };
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .with_context(|| format!("could not open {} to read", path.display()))?;
        keep_plans(&conn)?;
        Ok(Some(Self { conn, path: None }))
    }

    /// The connection, for tests that break the database on purpose.
    #[cfg(test)]
    pub(crate) fn conn_for_tests(&self) -> &Connection {
        &self.conn
    }

    /// Every account's stored fields.
    pub(crate) fn accounts(&self) -> Result<Vec<AccountRow>> {
        let mut accounts = self
            .conn
            .prepare_cached("SELECT username, key_hash, date_joined, next_idlocal FROM accounts")?;
        let rows = accounts.query_map([], account_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Reads every account and file record.
    pub(crate) fn load(&self) -> Result<Vec<LoadedAccount>> {
        let mut loaded = Vec::new();
        for row in self.accounts()? {
            let select = super::Select::OfOwner(&row.username).query();
            let files = self.select_files(&select.0, select.1)?;
            loaded.push(LoadedAccount { row, files });
        }
        Ok(loaded)
    }

    /// An account's stored fields, if it exists.
    pub(crate) fn account(&self, username: &str) -> Result<Option<AccountRow>> {
        let mut query = self.conn.prepare_cached(
            "SELECT username, key_hash, date_joined, next_idlocal FROM accounts WHERE username = ?1",
        )?;
        let mut rows = query.query_map([username], account_row)?;
        Ok(rows.next().transpose()?)
    }

    /// The first column, an integer, of each row `sql` (`$1`... the `params`) answers.
    pub(crate) fn select_integers(&self, sql: &str, params: Vec<super::Param>) -> Result<Vec<i64>> {
        self.select(sql, params, |row| row.get(0))
    }

    /// The keys (owner, idlocal) of the files `sql` (`$1`... the `params`) answers.
    pub(crate) fn select_keys(
        &self,
        sql: &str,
        params: Vec<super::Param>,
    ) -> Result<Vec<(String, u64)>> {
        self.select(sql, params, |row| Ok((row.get(0)?, idlocal_of(row.get(1)?))))
    }

    /// The files `sql` (`$1`... the `params`) answers.
    pub(crate) fn select_files(
        &self,
        sql: &str,
        params: Vec<super::Param>,
    ) -> Result<Vec<StoredFile>> {
        self.select(sql, params, |row| {
            Ok(StoredFile {
                owner: row.get(0)?,
                idlocal: idlocal_of(row.get(1)?),
                record: row.get(2)?,
                views: u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
            })
        })
    }

    /// Each row `sql` (`$1`... the `params`) answers, as `read` makes it.
    fn select<T>(
        &self,
        sql: &str,
        params: Vec<super::Param>,
        read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut query = self.conn.prepare_cached(&sql.replace('$', "?"))?;
        let rows = query.query_map(values(params), read)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Keeps a session under the hash of its token, and forgets those that ended by `now`.
    pub(crate) fn put_session(&self, token_hash: &str, session: &Session, now: i64) -> Result<()> {
        self.conn.execute("DELETE FROM sessions WHERE ends <= ?1", [now])?;
        self.conn.execute(
            "INSERT INTO sessions (token_hash, username, key_hash, ends) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash, session.username, session.key_hash, session.ends],
        )?;
        Ok(())
    }

    /// The session of a token's hash.
    pub(crate) fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let mut query = self.conn.prepare_cached(
            "SELECT username, key_hash, ends FROM sessions WHERE token_hash = ?1",
        )?;
        let mut rows = query.query([token_hash])?;
        let Some(row) = rows.next()? else { return Ok(None) };
        Ok(Some(Session { username: row.get(0)?, key_hash: row.get(1)?, ends: row.get(2)? }))
    }

    /// Ends every session of `username`.
    pub(crate) fn end_sessions(&self, username: &str) -> Result<()> {
        self.conn.execute("DELETE FROM sessions WHERE username = ?1", [username])?;
        Ok(())
    }

    /// The stored content (JSON) of a file, if it has one, read straight into one buffer
    /// (SQLite's incremental I/O: a large grid is not first assembled by SQLite, then copied).
    pub(crate) fn content(&self, owner: &str, idlocal: u64) -> Result<Option<String>> {
        let mut query = self
            .conn
            .prepare_cached("SELECT rowid FROM contents WHERE owner = ?1 AND idlocal = ?2")?;
        let mut rows = query.query(params![owner, idlocal_key(idlocal)])?;
        let Some(row) = rows.next()? else { return Ok(None) };
        let rowid: i64 = row.get(0)?;
        let mut blob = self.conn.blob_open(rusqlite::MAIN_DB, "contents", "body", rowid, true)?;
        let mut bytes = Vec::with_capacity(blob.len());
        std::io::Read::read_to_end(&mut blob, &mut bytes)?;
        Ok(Some(String::from_utf8(bytes)?))
    }

    /// Writes `batch` in one transaction.
    /// Whether a copy into this database has not been checked.
    pub(crate) fn holds_unfinished_copy(&self) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM unfinished_copy)", [], |row| row.get(0))?)
    }

    /// See [`super::Db::start_copy`].
    pub(crate) fn start_copy(&mut self, now: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        let (accounts, marked): (bool, bool) = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM accounts), EXISTS (SELECT 1 FROM unfinished_copy)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        if accounts && !marked {
            bail!(super::NOT_EMPTY);
        }
        // The foreign keys cascade to files, views, contents and sessions.
        tx.execute_batch("DELETE FROM accounts; DELETE FROM unfinished_copy;")?;
        tx.execute("INSERT INTO unfinished_copy (started) VALUES (?1)", [now])?;
        Ok(tx.commit()?)
    }

    /// See [`super::Db::finish_copy`].
    pub(crate) fn finish_copy(&mut self) -> Result<()> {
        self.conn.execute("DELETE FROM unfinished_copy", [])?;
        Ok(())
    }

    pub(crate) fn save(&mut self, batch: &Batch) -> Result<()> {
        let tx = self.conn.transaction()?;
        for change in &batch.accounts {
            match change {
                AccountChange::Remove(username) => {
                    // The foreign keys cascade to its files.
                    tx.execute("DELETE FROM accounts WHERE username = ?1", [username])?;
                }
                AccountChange::Put(account) => {
                    tx.prepare_cached(&super::PUT_ACCOUNT.replace('$', "?"))?.execute(params![
                        account.username,
                        account.key_hash,
                        account.date_joined,
                        idlocal_key(account.next_idlocal)
                    ])?;
                }
            }
        }
        {
            let mut raise = tx.prepare_cached(&super::RAISE_COUNTER.replace('$', "?"))?;
            for (username, next) in &batch.counters {
                raise.execute(params![username, idlocal_key(*next)])?;
            }
            let mut unlink =
                tx.prepare_cached("DELETE FROM links WHERE owner = ?1 AND idlocal = ?2")?;
            let mut link = tx.prepare_cached(LINK)?;
            for file in &batch.files {
                let (c, idlocal) = (&file.columns, idlocal_key(file.idlocal));
                let mut record =
                    tx.prepare_cached(&super::file_statement(file.new).replace('$', "?"))?;
                record.execute(values(c.put_values(&file.owner, file.idlocal, &file.record)))?;
                if !file.new {
                    unlink.execute(params![file.owner, idlocal])?;
                }
                for (grid_owner, grid_idlocal) in &c.grids {
                    link.execute(params![file.owner, idlocal, grid_owner, grid_idlocal])?;
                }
            }
            let mut content = tx.prepare_cached(
                "INSERT INTO contents (owner, idlocal, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT(owner, idlocal) DO UPDATE SET body = ?3",
            )?;
            for (owner, idlocal, body) in &batch.contents {
                content.execute(params![owner, idlocal_key(*idlocal), body])?;
            }
            let mut views = tx.prepare_cached(&super::ADD_VIEWS.replace('$', "?"))?;
            for (owner, idlocal, added) in &batch.views {
                views.execute(params![owner, idlocal_key(*idlocal), added])?;
            }
            let mut removed =
                tx.prepare_cached("DELETE FROM files WHERE owner = ?1 AND idlocal = ?2")?;
            for (owner, idlocal) in &batch.removed {
                removed.execute(params![owner, idlocal_key(*idlocal)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// Copies the database of data folder `dir` to `target` (a new file, 0600) while a server may
/// be using it, through a read-only connection (a backup never writes the folder), as one
/// consistent snapshot (`VACUUM INTO`), and checks the copy: it must pass SQLite's integrity
/// check. Returns how many accounts and files the copy holds; a copy that fails is removed.
pub(crate) fn backup(dir: &Path, target: &Path) -> Result<(u64, u64)> {
    let path = dir.join(FILE);
    if !path.is_file() {
        bail!("{} holds no chart-studio database", dir.display());
    }
    let source = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("could not open {}", path.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(target).with_context(|| {
        format!("could not create {} (a backup never replaces a file)", target.display())
    })?;
    let copied = source
        .execute("VACUUM INTO ?1", [target.to_string_lossy()])
        .with_context(|| format!("could not copy {} to {}", path.display(), target.display()));
    let copy = copied.and_then(|_| {
        let copy = Connection::open(target)?;
        let check: String = copy.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        if check != "ok" {
            bail!("the copy does not pass SQLite's integrity check: {check}");
        }
        counts(&copy)
    });
    if copy.is_err() {
        let _ = std::fs::remove_file(target);
    }
    copy
}

/// How many accounts and files a database holds.
fn counts(conn: &Connection) -> Result<(u64, u64)> {
    let count = |table: &str| -> Result<u64> {
        let n: i64 =
            conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| row.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    Ok((count("accounts")?, count("files")?))
}

#[cfg(test)]
mod tests {
    use super::super::{Param, PublicPlots, Search, Select, UNREADABLE, Window};

    /// How SQLite plans `select`'s query.
    fn plan(db: &super::Sqlite, select: Select<'_>) -> String {
        plan_of(db, select.query())
    }

    /// How SQLite plans query `sql` with `params`.
    fn plan_of(db: &super::Sqlite, (sql, params): (String, Vec<Param>)) -> String {
        let mut query =
            db.conn.prepare(&format!("EXPLAIN QUERY PLAN {}", sql.replace('$', "?"))).unwrap();
        let rows = query.query_map(super::values(params), |row| row.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }

    /// A request's lookups read the index that finds their rows, never a whole account or
    /// folder (a plan that walks an account's files makes each create cost the account's size).
    #[test]
    fn lookups_read_the_index_that_finds_their_rows() {
        let db = super::Sqlite::in_memory().unwrap();
        for (select, index) in [
            (
                Select::Named("alice", -1, "p"),
                "files_by_name (owner=? AND parent=? AND filename=?)",
            ),
            (Select::Children("alice", 3, false), "files_by_name (owner=? AND parent=?)"),
            (Select::Children("alice", 3, true), "files_by_name (owner=? AND parent=?)"),
            (Select::One("alice", 3), "(owner=? AND idlocal=?)"),
            (Select::Referencers("alice", 3), "links_to_grid (grid_owner=? AND grid_idlocal=?)"),
            (Select::Unreadable, "files_unreadable"),
        ] {
            let plan = plan(&db, select);
            assert!(plan.contains(index), "{select:?}: {plan}");
            // The partial index of unreadable records holds only them.
            let walks = plan.contains("(owner=?)")
                || plan
                    .replace("SCAN files USING INDEX files_unreadable", "")
                    .contains("SCAN files");
            assert!(!walks, "{select:?}: {plan}");
        }
        assert_eq!(UNREADABLE, "unreadable", "the partial index names the same kind");
        assert_eq!(super::super::FOLDER, chart_studio_models::FileType::Folder.as_str());
    }

    /// A new file's row never writes over a stored one (a create whose idlocal is taken): its
    /// whole batch fails, and what was stored stays. An idlocal counter never goes back.
    #[test]
    fn a_new_file_never_writes_over_a_stored_one() {
        use super::super::{AccountChange, AccountRow, Batch, FileColumns, FileRow};
        let mut db = super::Sqlite::in_memory().unwrap();
        let row = |record: &str, new| FileRow {
            owner: "alice".to_owned(),
            idlocal: 0,
            record: record.to_owned(),
            columns: FileColumns::of_stored(record),
            new,
        };
        let account = |next_idlocal| AccountRow {
            username: "alice".to_owned(),
            key_hash: String::new(),
            date_joined: 0,
            next_idlocal,
        };
        let first = Batch {
            accounts: vec![AccountChange::Put(account(5))],
            files: vec![row("first", true)],
            ..Batch::default()
        };
        db.save(&first).unwrap();
        let over = Batch {
            counters: vec![("alice".to_owned(), 9)],
            files: vec![row("second", true)],
            ..Batch::default()
        };
        assert!(db.save(&over).is_err());
        let stored = |db: &super::Sqlite| {
            let select = Select::One("alice", 0).query();
            db.select_files(&select.0, select.1).unwrap().remove(0).record
        };
        assert_eq!(stored(&db), "first");
        assert_eq!(db.account("alice").unwrap().unwrap().next_idlocal, 5, "nothing of it was kept");
        // A change of the file writes over it; a counter moves on, never back.
        let change = Batch {
            accounts: vec![AccountChange::Put(account(3))],
            counters: vec![("alice".to_owned(), 4)],
            files: vec![row("changed", false)],
            ..Batch::default()
        };
        db.save(&change).unwrap();
        assert_eq!(stored(&db), "changed");
        assert_eq!(db.account("alice").unwrap().unwrap().next_idlocal, 5);
        db.save(&Batch { counters: vec![("alice".to_owned(), 8)], ..Batch::default() }).unwrap();
        assert_eq!(db.account("alice").unwrap().unwrap().next_idlocal, 8);
    }

    /// The public list and the feed read their partial index in order, whatever the size of
    /// the rest; search reads its covering index, not the records; a start finds the newest
    /// creation time in its index.
    #[test]
    fn the_public_list_and_search_read_their_indexes() {
        let db = super::Sqlite::in_memory().unwrap();
        let all = PublicPlots::default();
        let featured = PublicPlots { featured: true, min_quality: Some(1), max_quality: Some(2) };
        for (plots, index) in [(all, "public_plots"), (featured, "featured_plots")] {
            for window in [Window::Older(5, false), Window::Newer(5, true)] {
                let plan = plan_of(&db, plots.page(window, 11));
                assert!(plan.contains(&format!("files USING INDEX {index} (created")), "{plan}");
                assert!(!plan.contains("TEMP B-TREE"), "in the index's order: {plan}");
            }
            let plan = plan_of(&db, plots.page(Window::Views(true, 20), 10));
            assert!(plan.contains(index), "{plan}");
            let plan = plan_of(&db, plots.count());
            assert!(plan.contains(index), "{plan}");
        }
        let words = vec!["a_b".to_owned()];
        let search = Search { reader: "alice".to_owned(), words, ..Search::default() };
        for query in [search.count(), search.page(20, 10)] {
            let plan = plan_of(&db, query);
            assert!(plan.contains("COVERING INDEX files_found"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "in the index's order: {plan}");
        }
        let newest = ("SELECT COALESCE(MAX(created), 0) FROM files".to_owned(), Vec::new());
        let plan = plan_of(&db, newest);
        assert!(plan.contains("files_by_created"), "{plan}");
    }
}
