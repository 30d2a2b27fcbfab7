//! Keeping the store in SQLite (`--data DIR`): accounts and files are loaded at start, and every
//! change is written before its answer goes out (see the layer in `faults.rs`), so a 2xx answer
//! survives a `kill -9`. The schema is versioned (`PRAGMA user_version`) and migrated forward.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, params};

use crate::store::{Changed, FileRecord, Store};

/// The database file in the data folder.
const FILE: &str = "chart-studio.sqlite3";

/// Each migration brings the schema from its index to the next version.
const MIGRATIONS: &[&str] = &[
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
    // View counts move out of the records: SQLite rewrites a whole row to change one field,
    // and a view must not rewrite a file.
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
];

/// A stored file that does not read back: its fid and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// `owner:idlocal`.
    pub fid: String,
    /// The decoder's message.
    pub reason: String,
}

/// An open database.
#[derive(Debug)]
pub(crate) struct Db {
    conn: Connection,
    path: PathBuf,
}

impl Db {
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
        let mut conn = Connection::open(&path)
            .with_context(|| format!("could not open {}", path.display()))?;
        // WAL: a commit is in the log before it returns, so a killed process loses nothing.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let version = usize::try_from(version).unwrap_or(usize::MAX);
        if version > MIGRATIONS.len() {
            bail!(
                "{} has schema version {version}; this server knows versions up to {}",
                path.display(),
                MIGRATIONS.len()
            );
        }
        for (at, migration) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction()?;
            tx.execute_batch(migration)
                .with_context(|| format!("migration to schema version {}", at + 1))?;
            tx.pragma_update(None, "user_version", i64::try_from(at + 1)?)?;
            tx.commit()?;
        }
        Ok(Self { conn, path })
    }

    /// Where it is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Loads every account and file into `store`. A file that does not read back is left in
    /// the database, unserved, and returned with the reason, so that one bad row never keeps
    /// the server (or `user add`) from starting.
    pub(crate) fn load(&self, store: &mut Store) -> Result<Vec<Unreadable>> {
        let mut accounts = self
            .conn
            .prepare("SELECT username, key_hash, date_joined, next_idlocal FROM accounts")?;
        let rows = accounts.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?;
        let mut files = self.conn.prepare(
            "SELECT idlocal, record, COALESCE(views, 0) FROM files LEFT JOIN views USING (owner, idlocal)
             WHERE owner = ?1",
        )?;
        let mut unreadable = Vec::new();
        for row in rows {
            let (username, key_hash, date_joined, next_idlocal) = row?;
            let mut records = Vec::new();
            for file in files.query_map([&username], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?))
            })? {
                let (idlocal, text, views) = file?;
                match serde_json::from_str::<FileRecord>(&text) {
                    Ok(record) => {
                        records.push(FileRecord {
                            views: u64::try_from(views).unwrap_or(0),
                            ..record
                        });
                    }
                    Err(err) => unreadable.push(Unreadable {
                        fid: format!("{username}:{idlocal}"),
                        reason: err.to_string(),
                    }),
                }
            }
            let next = u64::try_from(next_idlocal).unwrap_or(0);
            store.restore_account(&username, key_hash, date_joined, next, records);
        }
        Ok(unreadable)
    }

    /// Writes what changed, in one transaction.
    pub(crate) fn save(&mut self, store: &Store, changed: &Changed) -> Result<()> {
        let tx = self.conn.transaction()?;
        for username in &changed.accounts {
            let Some(account) = store.account(username) else {
                // Removed, with its files (the foreign keys cascade).
                tx.execute("DELETE FROM accounts WHERE username = ?1", [username])?;
                continue;
            };
            tx.execute(
                "INSERT INTO accounts (username, key_hash, date_joined, next_idlocal)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(username) DO UPDATE SET key_hash = ?2, next_idlocal = ?4",
                params![
                    username,
                    account.key_hash,
                    account.date_joined,
                    i64::try_from(account.next_idlocal()).unwrap_or(i64::MAX)
                ],
            )?;
        }
        for (owner, idlocal) in &changed.files {
            let Some(record) = store.file(owner, *idlocal) else { continue };
            tx.execute(
                "INSERT INTO files (owner, idlocal, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT(owner, idlocal) DO UPDATE SET record = ?3",
                params![owner, idlocal_key(*idlocal), serde_json::to_string(record)?],
            )?;
        }
        for (owner, idlocal) in &changed.views {
            let Some(record) = store.file(owner, *idlocal) else { continue };
            tx.execute(
                "INSERT INTO views (owner, idlocal, views) VALUES (?1, ?2, ?3)
                 ON CONFLICT(owner, idlocal) DO UPDATE SET views = ?3",
                params![
                    owner,
                    idlocal_key(*idlocal),
                    i64::try_from(record.views).unwrap_or(i64::MAX)
                ],
            )?;
        }
        for (owner, idlocal) in &changed.removed {
            tx.execute(
                "DELETE FROM files WHERE owner = ?1 AND idlocal = ?2",
                params![owner, idlocal_key(*idlocal)],
            )?;
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

fn idlocal_key(idlocal: u64) -> i64 {
    i64::try_from(idlocal).unwrap_or(i64::MAX)
}
