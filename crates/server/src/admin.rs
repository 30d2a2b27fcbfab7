//! Managing the accounts of a data folder (`chart-studio-server user ...`). While a server runs
//! on the folder, each change goes through it (its control socket) and takes effect at once;
//! otherwise it is made in the database, under the folder's lock (see `control.rs`).

use std::path::Path;

use anyhow::{Result, bail};

pub use crate::control::AccountSummary;
use crate::control::{Answer, Request, apply, ask, try_lock};
use crate::db::Db;
use crate::store::Store;

/// Makes the account `username` with a new random key, and returns the key: it is shown once,
/// since only its hash is kept.
pub fn add_user(data: &Path, username: &str) -> Result<String> {
    key(run(data, &Request::Add { user: username.to_owned() })?)
}

/// Every account of the data folder.
pub fn list_users(data: &Path) -> Result<Vec<AccountSummary>> {
    match run(data, &Request::List)? {
        Answer::Accounts { accounts } => Ok(accounts),
        other => bail!("unexpected answer {other:?}"),
    }
}

/// Gives `username` a new random key and returns it; the old key stops working at once.
pub fn rotate_key(data: &Path, username: &str) -> Result<String> {
    key(run(data, &Request::RotateKey { user: username.to_owned() })?)
}

/// Removes `username` and every file of theirs, for good.
pub fn remove_user(data: &Path, username: &str) -> Result<()> {
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

fn key(answer: Answer) -> Result<String> {
    match answer {
        Answer::Key { key } => Ok(key),
        other => bail!("unexpected answer {other:?}"),
    }
}

/// Runs `request` through the server running on `data`, or, with none, on the database under
/// the folder's lock. A refusal is an error naming the data folder.
fn run(data: &Path, request: &Request) -> Result<Answer> {
    let answer = match try_lock(data)? {
        None => ask(data, request)?,
        Some(_lock) => {
            // Files that do not read back stay in the database as they are: `start` reports them.
            let (mut store, _) = Store::open(Db::open(data)?, 0, 0)?;
            let answer = apply(&mut store, request);
            store.commit()?;
            answer
        }
    };
    match answer {
        Answer::Refused { error } => bail!("{error} in {}", data.display()),
        answer => Ok(answer),
    }
}
