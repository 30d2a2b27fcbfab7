//! Managing the accounts of a data folder (`chart-studio-server user ...`). A running server
//! reads its accounts at start: restart it after a change.

use std::path::Path;

use anyhow::{Result, bail};

pub use crate::db::AccountSummary;
use crate::db::Db;
use crate::store::{Store, key_hash};

/// Makes the account `username` with a new random key, and returns the key: it is shown once,
/// since only its hash is kept.
pub fn add_user(data: &Path, username: &str) -> Result<String> {
    let mut db = Db::open(data)?;
    let mut store = Store::new(0);
    // Files that do not read back stay in the database as they are: `start` reports them.
    db.load(&mut store)?;
    store.track_changes();
    let key = Store::random_key();
    store.add_account(username, &key)?;
    let changed = store.take_changed();
    db.save(&store, &changed)?;
    Ok(key)
}

/// Every account of the data folder.
pub fn list_users(data: &Path) -> Result<Vec<AccountSummary>> {
    Db::open(data)?.accounts()
}

/// Gives `username` a new random key and returns it; the old key stops working.
pub fn rotate_key(data: &Path, username: &str) -> Result<String> {
    let key = Store::random_key();
    if !Db::open(data)?.set_key_hash(username, &key_hash(&key))? {
        bail!("there is no account named {username} in {}", data.display());
    }
    Ok(key)
}

/// Removes `username` and every file of theirs, for good.
pub fn remove_user(data: &Path, username: &str) -> Result<()> {
    if !Db::open(data)?.remove_account(username)? {
        bail!("there is no account named {username} in {}", data.display());
    }
    Ok(())
}
