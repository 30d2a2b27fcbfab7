//! Managing the accounts of a server's data (`chart-studio-server user ...`). While a server
//! runs on the data folder, each change goes through it (its control socket) and takes effect
//! at once; otherwise it is made in the database: under the folder's lock (see `control.rs`),
//! or on PostgreSQL under the lock for writes, where the servers sharing the database read it
//! before their next request.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub use crate::control::AccountSummary;
use crate::control::{Answer, Request, apply, ask, try_lock};
use crate::db::Db;
use crate::store::Store;

/// Where a server keeps its data: a data folder (SQLite, or the lock and control socket of a
/// server on PostgreSQL), a PostgreSQL database, or both.
#[derive(Debug, Clone, Default)]
pub struct Data {
    /// The data folder.
    pub folder: Option<PathBuf>,
    /// The PostgreSQL connection string.
    pub database: Option<crate::DatabaseUrl>,
}

impl Data {
    /// The data folder `dir` alone.
    pub fn folder(dir: &Path) -> Self {
        Self { folder: Some(dir.to_owned()), database: None }
    }

    /// How messages name it.
    fn name(&self) -> String {
        match &self.folder {
            Some(dir) => dir.display().to_string(),
            None => "the database".to_owned(),
        }
    }
}

/// Makes the account `username` with a new random key, and returns the key: it is shown once,
/// since only its hash is kept.
pub fn add_user(data: &Data, username: &str) -> Result<String> {
    key(run(data, &Request::Add { user: username.to_owned() })?)
}

/// Every account of the data folder.
pub fn list_users(data: &Data) -> Result<Vec<AccountSummary>> {
    match run(data, &Request::List)? {
        Answer::Accounts { accounts } => Ok(accounts),
        other => bail!("unexpected answer {other:?}"),
    }
}

/// Gives `username` a new random key and returns it; the old key stops working at once.
pub fn rotate_key(data: &Data, username: &str) -> Result<String> {
    key(run(data, &Request::RotateKey { user: username.to_owned() })?)
}

/// Removes `username` and every file of theirs, for good.
pub fn remove_user(data: &Data, username: &str) -> Result<()> {
    match run(data, &Request::Remove { user: username.to_owned() })? {
        Answer::Removed => Ok(()),
        other => bail!("unexpected answer {other:?}"),
    }
}

/// What [`backup`] copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupDone {
    /// Accounts in the copy.
    pub accounts: u64,
    /// Files in the copy (trash included).
    pub files: u64,
}

/// Copies the database of data folder `data` to the new file `to`, consistently, while a server
/// may be using it, and checks the copy. To restore it, stop the server and put the copy in an
/// empty data folder as `chart-studio.sqlite3`.
pub fn backup(data: &Path, to: &Path) -> Result<BackupDone> {
    let (accounts, files) = crate::db::backup(data, to)?;
    Ok(BackupDone { accounts, files })
}

/// What [`copy`] copied: the same in the source and the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyDone {
    /// Accounts copied.
    pub accounts: u64,
    /// Files copied (trash included).
    pub files: u64,
    /// Contents copied (figures, grids, documents).
    pub contents: u64,
    /// SHA-256 (hex) over every row of both, in order.
    pub checksum: String,
}

impl Data {
    /// A data folder, or a PostgreSQL connection string (`postgres://...`,
    /// `postgresql://...`, or `key=value ...`), as `copy` takes them.
    pub fn parse(text: &str) -> Self {
        let postgres = text.starts_with("postgres://")
            || text.starts_with("postgresql://")
            || text.contains('=');
        match text.parse::<crate::DatabaseUrl>() {
            Ok(url) if postgres => Self { folder: None, database: Some(url) },
            _ => Self::folder(Path::new(text)),
        }
    }
}

/// Copies every account and file of `from` into `to`, which must hold no account (SQLite to
/// PostgreSQL, back, or to another folder), and checks that both hold the same: counts and a
/// checksum of every row. No server may run on either; `from` is only read. `progress` hears,
/// after each transaction, how many files and bytes of contents are copied.
pub fn copy(from: &Data, to: &Data, progress: impl FnMut(u64, u64)) -> Result<CopyDone> {
    if from.folder == to.folder && from.database == to.database {
        bail!("the source and the target are the same");
    }
    let mut locks = Vec::new();
    for data in [from, to] {
        if let Some(dir) = &data.folder {
            let lock = try_lock(dir)?.with_context(|| {
                format!("a chart-studio-server runs on {}; stop it first", dir.display())
            })?;
            locks.push(lock);
        }
    }
    if let (Some(dir), None) = (&from.folder, &from.database)
        && !crate::db::sqlite::is_in(dir)
    {
        bail!("{} holds no chart-studio database", dir.display());
    }
    let source = Db::at(from.folder.as_deref(), from.database.as_ref())
        .context("could not open the source")?;
    source.claim().context("the source")?;
    let mut target =
        Db::at(to.folder.as_deref(), to.database.as_ref()).context("could not open the target")?;
    target.claim().context("the target")?;
    let done = source.copy_to(&mut target, progress)?;
    drop(locks);
    Ok(CopyDone {
        accounts: done.accounts,
        files: done.files,
        contents: done.contents,
        checksum: done.checksum,
    })
}

fn key(answer: Answer) -> Result<String> {
    match answer {
        Answer::Key { key } => Ok(key),
        other => bail!("unexpected answer {other:?}"),
    }
}

/// Runs `request` through the server running on `data`'s folder, or, with none, on the
/// database, under the folder's lock. A refusal is an error naming the data.
fn run(data: &Data, request: &Request) -> Result<Answer> {
    let lock = match &data.folder {
        Some(dir) => match try_lock(dir)? {
            None => return refused(data, ask(dir, request)?),
            lock => lock,
        },
        None if data.database.is_none() => bail!("give the data folder or the database"),
        None => None,
    };
    let answer = on_store(data, |store| {
        let answer = apply(store, request);
        store.commit()?;
        Ok(answer)
    })?;
    drop(lock);
    refused(data, answer)
}

/// Runs `work` on the store of `data`'s database, whose folder's lock (if any) the caller
/// holds; on PostgreSQL under the lock for writes of every account, which the servers sharing
/// the database take too (they read the change before their next request). Files that do not
/// read back stay in the database as they are: `start` reports them.
pub(crate) fn on_store<T>(data: &Data, work: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
    let db = Db::at(data.folder.as_deref(), data.database.as_ref())?;
    let writing =
        db.write_locker().map(|locker| locker.lock(None)).transpose()?.map(|(lock, _)| lock);
    let (mut store, _) = Store::open(db, 0, 0)?;
    let done = work(&mut store)?;
    if let Some(writing) = writing {
        writing.unlock()?;
    }
    Ok(done)
}

fn refused(data: &Data, answer: Answer) -> Result<Answer> {
    match answer {
        Answer::Refused { error } => bail!("{error} in {}", data.name()),
        answer => Ok(answer),
    }
}
