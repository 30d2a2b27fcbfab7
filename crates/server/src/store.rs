//! The server's state: accounts (in memory) and their files (in the database), with the rules
//! of the v2 API that do not depend on HTTP (idlocal counters, paths, filename conflicts, trash,
//! recursive folder operations, grid columns). Handlers check who may do what; the store does
//! what it is told.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::Mutex;

use chart_studio_models::{ColumnRef, Fid, FileType, HOME_FOLDER};
use rand::{Rng, RngCore, SeedableRng, rngs::StdRng};
use serde_json::Value;

pub(crate) use crate::content::{Body, ContentRead, Links, Outline, StoredColumn};
use crate::content::{Cache, SharedCache, lock};
use crate::db::{AccountRow, Batch, Db, FileRow, Listing, PublicPlots, Select, Unreadable, Window};
pub(crate) use crate::record::FileRecord;

/// The SHA-256 of an API key, in hex: what accounts keep instead of the key.
pub(crate) fn key_hash(api_key: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(api_key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a store rule refused a request; the routes turn it into an answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// No such account or file.
    #[error("not found")]
    NotFound,
    /// The folder already holds a file of that name.
    #[error("Sorry, a file named '{0}' already exists")]
    Exists(String),
    /// The request contradicts the state (a permanent delete of a file not in the trash).
    #[error("{0}")]
    Conflict(String),
    /// The storage failed (a content that does not read back, a database error).
    #[error("storage: {0}")]
    Storage(String),
    /// A field's value breaks a rule.
    #[error("{message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// The rule it breaks.
        message: String,
    },
}

impl StoreError {
    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }
}

/// The shortest API key accepted.
pub(crate) const MIN_KEY_CHARS: usize = 8;

/// Why an account could not be added.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AccountError {
    /// Not a name a fid can hold.
    #[error(transparent)]
    Name(chart_studio_models::FidError),
    /// The key is empty or too short.
    #[error("the API key of {0} is shorter than {MIN_KEY_CHARS} characters")]
    ShortKey(String),
    /// The name is taken.
    #[error("there is already an account named {0}")]
    Taken(String),
}

/// The deepest folder nesting accepted (INFER: the reference names no limit; this bounds the
/// work one request can cause).
pub(crate) const MAX_FOLDER_DEPTH: usize = 64;
/// The longest folder path accepted, in bytes (INFER, as above).
pub(crate) const MAX_PATH_BYTES: usize = 1024;

/// An account: a user and its key (its files are in the database). `Debug` does not show the
/// key.
#[derive(Clone)]
pub(crate) struct Account {
    pub username: String,
    /// The SHA-256 of the API key, in hex: keys are never kept.
    pub key_hash: String,
    pub date_joined: i64,
    next_idlocal: u64,
    /// Per folder, an n such that the default names below it (`untitled`, `untitled 2`, ...,
    /// `untitled n-1`) were taken when last looked at, so that the next default name is found
    /// without trying every name from the first (each try is still checked).
    untitled_taken_below: BTreeMap<i64, u64>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("username", &self.username)
            .field("key_hash", &"***")
            .finish_non_exhaustive()
    }
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        Self {
            username: row.username,
            key_hash: row.key_hash,
            date_joined: row.date_joined,
            next_idlocal: row.next_idlocal,
            untitled_taken_below: BTreeMap::new(),
        }
    }
}

/// A file to create.
#[derive(Debug, Clone)]
pub(crate) struct NewFile {
    pub filename: Option<String>,
    pub parent: Option<i64>,
    pub parent_path: Option<String>,
    pub world_readable: bool,
    pub share_key_enabled: bool,
    pub metadata: Option<Value>,
    pub body: Body,
    /// Use this idlocal instead of the next one (seeding captured files).
    pub idlocal: Option<u64>,
}

impl NewFile {
    /// A file named `filename` in folder `parent`, public or private, without a secret link or
    /// metadata, at its account's next idlocal.
    pub(crate) fn named(filename: &str, parent: i64, world_readable: bool, body: Body) -> Self {
        Self {
            filename: Some(filename.to_owned()),
            parent: Some(parent),
            parent_path: None,
            world_readable,
            share_key_enabled: false,
            metadata: None,
            body,
            idlocal: None,
        }
    }
}

/// Writable metadata; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Changes {
    pub filename: Option<String>,
    pub parent: Option<i64>,
    pub parent_path: Option<String>,
    pub world_readable: Option<bool>,
    pub share_key_enabled: Option<bool>,
    pub metadata: Option<Value>,
    /// New content of the file's own kind: a plot's figure, a dashboard's document.
    pub body: Option<Body>,
}

/// What changed since the last [`Store::commit`]: the rules read it over the database.
#[derive(Debug, Default)]
struct Changed {
    /// Accounts added, removed or given a key.
    accounts: BTreeSet<String>,
    /// Accounts whose idlocal counter moved on (and nothing else of their own, unless also in
    /// `accounts`).
    counters: BTreeSet<String>,
    /// Files created or changed, as they now are (`None`: deleted for good).
    files: BTreeMap<(String, u64), Option<FileRecord>>,
    /// The files of `files` created.
    created: BTreeSet<(String, u64)>,
    /// The files of `files` (not deleted for good) by owner and folder.
    in_folder: BTreeSet<(String, i64, u64)>,
    /// Views added to files' counts (and nothing else changed, unless also in `files`).
    views: BTreeMap<(String, u64), i64>,
    /// New contents, until they are in the database.
    contents: BTreeMap<(String, u64), Body>,
}

impl Changed {
    fn is_empty(&self) -> bool {
        self.accounts.is_empty()
            && self.counters.is_empty()
            && self.files.is_empty()
            && self.views.is_empty()
    }

    /// Every account with a change of its own fields.
    fn touched_accounts(&self) -> impl Iterator<Item = &String> {
        self.accounts.union(&self.counters)
    }
}

/// The whole server state: accounts in memory; files' records and contents in the database,
/// read per request; and every rule over them. Changes are kept until [`Store::commit`] writes
/// them in one transaction, and every read sees them.
#[derive(Debug)]
pub(crate) struct Store {
    accounts: BTreeMap<String, Account>,
    last_time: i64,
    /// Seeded, for reproducible column uids.
    rng: StdRng,
    changed: Changed,
    /// Recently read contents, shared with the readers it hands contents to.
    cache: SharedCache,
    db: Db,
    /// The newest change of the database's log read, and when (see [`Store::sync`]).
    synced: (i64, i64),
    /// The accounts in memory may differ from the database (a rollback could not read them
    /// back): the next [`Store::sync`] reads them all again, and fails until it can.
    stale: bool,
}

/// Bytes of randomness in a share key (192 bits).
const SHARE_KEY_BYTES: usize = 24;

impl Store {
    /// An empty store over an in-memory database.
    #[cfg(test)]
    pub(crate) fn new(seed: u64) -> Self {
        let db = Db::in_memory().expect("an in-memory SQLite database opens");
        Self::open(db, seed, crate::DEFAULT_CACHE_MB << 20).expect("an empty database loads").0
    }

    /// The store kept in `db`, with a content cache of `cache_bytes`. Files that do not read
    /// back stay in the database, unserved, and are returned with the reason, so that one bad
    /// row never keeps the server (or `user add`) from starting.
    pub(crate) fn open(
        db: Db,
        seed: u64,
        cache_bytes: usize,
    ) -> anyhow::Result<(Self, Vec<Unreadable>)> {
        if db.holds_unfinished_copy()? {
            anyhow::bail!(
                "the database holds an unfinished copy (`chart-studio-server copy` into it was \
                 stopped or failed before its check): run the copy again, it starts over"
            );
        }
        let mut store = Self {
            accounts: BTreeMap::new(),
            last_time: 0,
            rng: StdRng::seed_from_u64(seed),
            changed: Changed::default(),
            cache: Arc::new(Mutex::new(Cache::new(cache_bytes))),
            db,
            synced: (0, 0),
            stale: false,
        };
        store.load()?;
        let unreadable = store.db.files(Select::Unreadable)?.into_iter().map(|file| Unreadable {
            fid: format!("{}:{}", file.owner, file.idlocal),
            reason: serde_json::from_str::<FileRecord>(&file.record)
                .err()
                .map_or_else(|| "its columns do not match it".to_owned(), |err| err.to_string()),
        });
        Ok((store, unreadable.collect()))
    }

    /// Reads every account from the database, in place of what is held.
    fn load(&mut self) -> anyhow::Result<()> {
        // Read first: a change committed while the rest is read is read again by `sync`.
        self.synced = (self.db.newest_change()?, crate::clock::now_micros());
        self.accounts.clear();
        lock(&self.cache).clear();
        // Creation times stay unique (cursors order by them) if the wall clock steps back.
        self.last_time = self.last_time.max(self.db.newest_creation()?);
        for row in self.db.accounts()? {
            self.last_time = self.last_time.max(row.date_joined);
            self.accounts.insert(row.username.clone(), row.into());
        }
        Ok(())
    }

    /// Writes every change since the last commit in one transaction. When that fails, nothing
    /// of it is kept: the accounts it touched are read back from the database, so that what the
    /// server answers stays what is stored.
    pub(crate) fn commit(&mut self) -> anyhow::Result<()> {
        if self.changed.is_empty() {
            return Ok(());
        }
        let changed = std::mem::take(&mut self.changed);
        match self.batch(&changed).and_then(|batch| self.db.save(batch)) {
            Ok(()) => {
                let mut cache = lock(&self.cache);
                for ((owner, idlocal), body) in changed.contents {
                    let key = (owner, idlocal);
                    if let Some(Some(file)) = changed.files.get(&key) {
                        cache.put((key.0, idlocal, file.modified), body);
                    }
                }
                Ok(())
            }
            Err(err) => {
                self.undo(&changed)?;
                Err(err)
            }
        }
    }

    /// Reads again the accounts other processes sharing the database (PostgreSQL) changed
    /// since the last call, as the log of changes names them, or every account when the log
    /// may no longer reach back that far (files are read per request). What this process has
    /// not committed yet is left as it is: changes are written under a lock for writes that
    /// its writer holds, so no other process changed the same account meanwhile. On SQLite,
    /// which one process uses, there is nothing to read.
    pub(crate) fn sync(&mut self) -> anyhow::Result<()> {
        let now = crate::clock::now_micros();
        let (seen, at) = self.synced;
        let log_too_old = self
            .db
            .log_kept_micros()
            .is_some_and(|kept| now.saturating_sub(at) > kept / 2 && !self.has_changes());
        if self.stale || log_too_old {
            self.load()?;
            self.stale = false;
            return Ok(());
        }
        let (newest, changed) = self.db.changes_since(seen)?;
        self.synced = (newest, now);
        for owner in changed.into_iter().collect::<BTreeSet<_>>() {
            if !self.changed.accounts.contains(&owner) && !self.changed.counters.contains(&owner) {
                self.reload_account(&owner)?;
            }
        }
        Ok(())
    }

    /// Reads every account again from the database: for a change of every account, under
    /// the lock for writes over all of them.
    pub(crate) fn reload(&mut self) -> anyhow::Result<()> {
        self.load()
    }

    /// Takes `username`'s own fields (`None`: the account is gone) as they were read under its
    /// lock for writes, unless it has a change not committed yet: other processes move an
    /// account's idlocal counter without a row in the log of changes, under that lock.
    pub(crate) fn locked_account(&mut self, username: &str, row: Option<AccountRow>) {
        if !self.changed.touched_accounts().any(|touched| touched == username) {
            self.set_account(username, row);
        }
    }

    /// Reads an account's own fields again; an account gone from the database is forgotten.
    fn reload_account(&mut self, username: &str) -> anyhow::Result<()> {
        let row = self.db.account(username)?;
        self.set_account(username, row);
        Ok(())
    }

    /// Holds `row` as `username`'s own fields (`None`: forgets the account).
    fn set_account(&mut self, username: &str, row: Option<AccountRow>) {
        match row {
            Some(row) => {
                self.accounts.insert(username.to_owned(), row.into());
            }
            None => {
                self.accounts.remove(username);
            }
        }
    }

    /// Drops every change since the last commit.
    pub(crate) fn rollback(&mut self) -> anyhow::Result<()> {
        let changed = std::mem::take(&mut self.changed);
        self.undo(&changed)
    }

    /// Drops the changes `changed` names: the accounts they touched are read back from the
    /// database (files are read from it per request). When that read fails, the store is
    /// marked stale, so that nothing is served from it until a sync reads it all.
    fn undo(&mut self, changed: &Changed) -> anyhow::Result<()> {
        let read_back = changed.touched_accounts().try_for_each(|name| self.reload_account(name));
        if read_back.is_err() {
            self.stale = true;
        }
        read_back
    }

    /// Another connection to the database, for long reads of what is committed made without
    /// the store's lock (see [`Db::reader`]).
    pub(crate) fn reader(&self) -> anyhow::Result<Option<Db>> {
        self.db.reader()
    }

    /// The database, for long reads of what is committed when there is no [`Store::reader`].
    pub(crate) fn committed(&self) -> &Db {
        &self.db
    }

    /// The lock every change is written under, when other processes may share the database
    /// (PostgreSQL): a change is made and committed while it is held, after a [`Store::sync`].
    pub(crate) fn write_locker(&self) -> Option<crate::db::postgres::WriteLocker> {
        self.db.write_locker()
    }

    /// Starts a session of `username`, who signed in at `now` with the key whose hash is
    /// `key_hash`; returns its token (only its hash is stored).
    pub(crate) fn start_session(
        &self,
        username: &str,
        key_hash: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        let token = Self::random_key();
        let session = crate::sessions::Session::new(username, key_hash, now);
        self.db.put_session(&self::key_hash(&token), &session, now).map_err(storage)?;
        Ok(token)
    }

    /// The account signed in with session `token` at `now`, if it is live.
    pub(crate) fn session_user(&self, token: &str, now: i64) -> Result<Option<String>, StoreError> {
        let Some(session) = self.db.session(&key_hash(token)).map_err(storage)? else {
            return Ok(None);
        };
        let current = self.account(&session.username).map(|account| account.key_hash.as_str());
        Ok(session.user(now, current).map(str::to_owned))
    }

    /// Ends every session of `username`.
    pub(crate) fn end_sessions(&self, username: &str) -> Result<(), StoreError> {
        self.db.end_sessions(username).map_err(storage)
    }

    /// Whether something changed since the last commit.
    pub(crate) fn has_changes(&self) -> bool {
        !self.changed.is_empty()
    }

    /// The rows that `changed` writes (files of accounts removed meanwhile are left out).
    fn batch(&self, changed: &Changed) -> anyhow::Result<Batch> {
        let mut batch = Batch::default();
        for username in changed.counters.difference(&changed.accounts) {
            if let Some(account) = self.account(username) {
                batch.counters.push((username.clone(), account.next_idlocal));
            }
        }
        for username in &changed.accounts {
            batch.accounts.push(match self.account(username) {
                Some(account) => crate::db::AccountChange::Put(AccountRow {
                    username: username.clone(),
                    key_hash: account.key_hash.clone(),
                    date_joined: account.date_joined,
                    next_idlocal: account.next_idlocal,
                }),
                None => crate::db::AccountChange::Remove(username.clone()),
            });
        }
        for ((owner, idlocal), file) in &changed.files {
            if !self.accounts.contains_key(owner) {
                continue;
            }
            match file {
                Some(record) => batch.files.push(FileRow {
                    owner: owner.clone(),
                    idlocal: *idlocal,
                    record: serde_json::to_string(record)?,
                    columns: crate::db::FileColumns::of(record),
                    new: changed.created.contains(&(owner.clone(), *idlocal)),
                }),
                None => batch.removed.push((owner.clone(), *idlocal)),
            }
        }
        for ((owner, idlocal), body) in &changed.contents {
            if let Some(Some(_)) = changed.files.get(&(owner.clone(), *idlocal)) {
                batch.contents.push((owner.clone(), *idlocal, serde_json::to_string(body)?));
            }
        }
        // Views of a file gone meanwhile are dropped by the statement that adds them.
        for ((owner, idlocal), added) in &changed.views {
            batch.views.push((owner.clone(), *idlocal, *added));
        }
        Ok(batch)
    }

    /// How many files `listing` holds (what is committed).
    pub(crate) fn count(&self, listing: &Listing<'_>) -> Result<u64, StoreError> {
        self.db.count(listing).map_err(storage)
    }

    /// The records of `limit` files of `listing` from `offset`, in idlocal order (what is
    /// committed).
    pub(crate) fn page(
        &self,
        listing: &Listing<'_>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<FileRecord>, StoreError> {
        Ok(self
            .db
            .page(listing, offset, limit)
            .map_err(storage)?
            .into_iter()
            .filter_map(decode)
            .collect())
    }

    /// How many files `owner` has (trashed ones too), of type `kind` when given (what is
    /// committed).
    pub(crate) fn file_count(
        &self,
        owner: &str,
        kind: Option<FileType>,
    ) -> Result<u64, StoreError> {
        self.db.file_count(owner, kind.as_ref().map(FileType::as_str)).map_err(storage)
    }

    /// `owner`'s files of type `kind`, trashed ones too, by idlocal (what is committed).
    pub(crate) fn files_of_kind(
        &self,
        owner: &str,
        kind: &FileType,
    ) -> Result<Vec<FileRecord>, StoreError> {
        let rows = self.db.files(Select::OfKind(owner, kind.as_str())).map_err(storage)?;
        Ok(rows.into_iter().filter_map(decode).collect())
    }

    /// `limit` plots of `plots` in `window`, in its order, with their owners (what is
    /// committed).
    pub(crate) fn public_plots(
        &self,
        plots: &PublicPlots,
        window: Window,
        limit: u64,
    ) -> Result<Vec<(String, FileRecord)>, StoreError> {
        self.records(self.db.public_page(plots, window, limit).map_err(storage)?)
    }

    /// The records of the files `keys` (owner, idlocal) name, in order, with their owners.
    pub(crate) fn records(
        &self,
        keys: Vec<(String, u64)>,
    ) -> Result<Vec<(String, FileRecord)>, StoreError> {
        let mut records = Vec::with_capacity(keys.len());
        for (owner, idlocal) in keys {
            if let Some(record) = self.file(&owner, idlocal)? {
                records.push((owner, record));
            }
        }
        Ok(records)
    }

    /// Fills in a file's links that `keep` accepts (given each linked file's owner and
    /// record): the existing grids a plot's figure names, and the plots that name a grid.
    pub(crate) fn link(
        &self,
        owner: &str,
        record: &mut FileRecord,
        keep: impl Fn(&str, &FileRecord) -> bool,
    ) -> Result<(), StoreError> {
        if let Outline::Plot { grids, .. } = &record.outline {
            let mut kept = Links::default();
            for grid in grids {
                let file = self.file(grid.owner(), grid.idlocal())?;
                if file.is_some_and(|file| keep(grid.owner(), &file)) {
                    kept.insert(grid.clone());
                }
            }
            record.references = kept;
        }
        if record.kind() == FileType::Grid {
            let grid = fid(owner, record.idlocal);
            let rows =
                self.db.files(Select::Referencers(owner, record.idlocal)).map_err(storage)?;
            let stored = rows
                .into_iter()
                .filter(|row| !self.changed.files.contains_key(&(row.owner.clone(), row.idlocal)))
                .filter_map(|row| {
                    let owner = row.owner.clone();
                    decode(row).map(|file| (owner, file))
                });
            let changed = self.changed.files.iter().filter_map(|((owner, _), file)| {
                let file = file.as_ref()?;
                let Outline::Plot { grids, .. } = &file.outline else { return None };
                grids.iter().any(|named| *named == grid).then(|| (owner.clone(), file.clone()))
            });
            record.referencers = stored
                .chain(changed)
                .filter(|(owner, file)| keep(owner, file))
                .map(|(owner, file)| fid(&owner, file.idlocal))
                .collect();
        }
        Ok(())
    }

    /// How many folders folder `idlocal` of `owner` holds directly (trashed ones too): from the
    /// counts the database keeps, unless `owner` has files not committed yet.
    pub(crate) fn subfolder_count(&self, owner: &str, idlocal: u64) -> Result<u64, StoreError> {
        let parent = as_parent(idlocal)?;
        let key = |idlocal| (owner.to_owned(), idlocal);
        if self.changed.files.range(key(0)..=key(u64::MAX)).next().is_some() {
            return Ok(self.children(owner, parent, true)?.len() as u64);
        }
        self.db.folder_count(owner, parent).map_err(storage)
    }

    /// The content of `owner`'s file `idlocal`, decoded now (under the store's lock): for
    /// the rules and small contents. `None` when there is no such file.
    pub(crate) fn body(&self, owner: &str, idlocal: u64) -> Result<Option<Body>, StoreError> {
        let Some(record) = self.file(owner, idlocal)? else { return Ok(None) };
        self.body_of(owner, &record).map(Some)
    }

    /// The content of `owner`'s file `record`, decoded now (see [`Store::body`]).
    pub(crate) fn body_of(&self, owner: &str, record: &FileRecord) -> Result<Body, StoreError> {
        self.read_of(owner, record)?.load().map_err(StoreError::Storage)
    }

    /// The content of `owner`'s file `idlocal`: see [`Store::read_of`]. `None` when there is no
    /// such file.
    pub(crate) fn read(
        &self,
        owner: &str,
        idlocal: u64,
    ) -> Result<Option<ContentRead>, StoreError> {
        let Some(record) = self.file(owner, idlocal)? else { return Ok(None) };
        self.read_of(owner, &record).map(Some)
    }

    /// The content of `owner`'s file `record`: the change not yet committed, the cache, or the
    /// database's JSON, to be decoded with [`ContentRead::load`] once the store's lock is
    /// released.
    pub(crate) fn read_of(
        &self,
        owner: &str,
        record: &FileRecord,
    ) -> Result<ContentRead, StoreError> {
        let idlocal = record.idlocal;
        if record.kind() == FileType::Folder {
            return Ok(ContentRead::Ready(Body::Folder));
        }
        if let Some(body) = self.changed.contents.get(&(owner.to_owned(), idlocal)) {
            return Ok(ContentRead::Ready(body.clone()));
        }
        let key = (owner.to_owned(), idlocal, record.modified);
        if let Some(body) = lock(&self.cache).get(&key) {
            return Ok(ContentRead::Ready(body));
        }
        let unreadable =
            |reason: String| StoreError::Storage(format!("{owner}:{idlocal}: {reason}"));
        let text = self
            .db
            .content(owner, idlocal)
            .map_err(|err| unreadable(format!("{err:#}")))?
            .ok_or_else(|| unreadable("its content is missing".to_owned()))?;
        Ok(ContentRead::Stored { text, key, cache: Arc::clone(&self.cache) })
    }

    /// Gives `file` new content (and its outline). The content cached for the file stays under
    /// its older modification time, unused, until the cache lets it go.
    fn set_body(&mut self, owner: &str, file: &mut FileRecord, body: Body) {
        file.outline = Outline::of(&body);
        if body.kind() != FileType::Folder {
            self.changed.contents.insert((owner.to_owned(), file.idlocal), body);
        }
    }

    /// A strictly increasing timestamp, so creation times order files without ties.
    pub(crate) fn tick(&mut self) -> i64 {
        self.last_time = crate::clock::now_micros().max(self.last_time + 1);
        self.last_time
    }

    /// Adds an account. A name a fid cannot hold, a key shorter than [`MIN_KEY_CHARS`] and a
    /// name that is taken are refused.
    pub(crate) fn add_account(
        &mut self,
        username: &str,
        api_key: &str,
    ) -> Result<(), AccountError> {
        Fid::new(username, 0).map_err(AccountError::Name)?;
        if api_key.chars().count() < MIN_KEY_CHARS {
            return Err(AccountError::ShortKey(username.to_owned()));
        }
        if self.accounts.contains_key(username) {
            return Err(AccountError::Taken(username.to_owned()));
        }
        let joined = self.tick();
        let row = AccountRow {
            username: username.to_owned(),
            key_hash: key_hash(api_key),
            date_joined: joined,
            next_idlocal: 0,
        };
        self.accounts.insert(username.to_owned(), row.into());
        self.touch_account(username);
        Ok(())
    }

    /// Adds an account with a new random key, which nobody knows: for the owners of seeded
    /// files, whose keys must not be guessable.
    pub(crate) fn add_locked_account(&mut self, username: &str) -> Result<(), AccountError> {
        self.add_account(username, &Self::random_key())
    }

    /// Gives `username` the key `api_key` (kept as its hash); false when there is no such
    /// account.
    pub(crate) fn set_key(&mut self, username: &str, api_key: &str) -> bool {
        let Some(account) = self.accounts.get_mut(username) else { return false };
        account.key_hash = key_hash(api_key);
        self.touch_account(username);
        true
    }

    /// Removes `username` and every file of theirs; false when there is no such account.
    pub(crate) fn remove_account(&mut self, username: &str) -> bool {
        if self.accounts.remove(username).is_none() {
            return false;
        }
        self.changed.files.retain(|(owner, _), _| owner != username);
        self.changed.in_folder.retain(|(owner, _, _)| owner != username);
        self.touch_account(username);
        true
    }

    pub(crate) fn account(&self, username: &str) -> Option<&Account> {
        self.accounts.get(username)
    }

    pub(crate) fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    /// Keeps `file` of `owner` as it now is (`None`: deleted for good), until the next
    /// commit writes it.
    fn put(&mut self, owner: &str, idlocal: u64, file: Option<FileRecord>) {
        let changed = &mut self.changed;
        if let Some(Some(old)) = changed.files.get(&(owner.to_owned(), idlocal)) {
            changed.in_folder.remove(&(owner.to_owned(), old.parent, idlocal));
        }
        if let Some(file) = &file {
            changed.in_folder.insert((owner.to_owned(), file.parent, idlocal));
        }
        changed.files.insert((owner.to_owned(), idlocal), file);
    }

    /// Notes a change of `username`'s own stored fields other than its idlocal counter: added,
    /// removed, or given a key.
    fn touch_account(&mut self, username: &str) {
        self.changed.accounts.insert(username.to_owned());
    }

    fn account_mut(&mut self, username: &str) -> Result<&mut Account, StoreError> {
        self.accounts.get_mut(username).ok_or(StoreError::NotFound)
    }

    /// `owner`'s file `idlocal` as this process's changes leave it.
    pub(crate) fn file(&self, owner: &str, idlocal: u64) -> Result<Option<FileRecord>, StoreError> {
        if !self.accounts.contains_key(owner) {
            return Ok(None);
        }
        let key = (owner.to_owned(), idlocal);
        let file = match self.changed.files.get(&key) {
            Some(pending) => pending.clone(),
            None => {
                let rows = self.db.files(Select::One(owner, idlocal)).map_err(storage)?;
                rows.into_iter().next().and_then(decode)
            }
        };
        Ok(file.map(|mut file| {
            if let Some(added) = self.changed.views.get(&key) {
                file.views = add_views(file.views, *added);
            }
            file
        }))
    }

    /// `owner`'s file `idlocal`, which must exist.
    fn existing(&self, owner: &str, idlocal: u64) -> Result<FileRecord, StoreError> {
        self.file(owner, idlocal)?.ok_or(StoreError::NotFound)
    }

    /// The files of `owner` in folder `parent` that the database answers to `select` and `keep`
    /// accepts (it must accept only what `select` does), as this process's changes leave them,
    /// by idlocal.
    fn merged(
        &self,
        (owner, parent): (&str, i64),
        select: Select<'_>,
        keep: impl Fn(&FileRecord) -> bool,
    ) -> Result<Vec<FileRecord>, StoreError> {
        let mut found: BTreeMap<u64, FileRecord> = BTreeMap::new();
        for row in self.db.files(select).map_err(storage)? {
            if !self.changed.files.contains_key(&(owner.to_owned(), row.idlocal)) {
                found.extend(decode(row).filter(&keep).map(|file| (file.idlocal, file)));
            }
        }
        let changed = self.changed.in_folder.range((owner.to_owned(), parent, 0)..);
        for (_, _, idlocal) in changed.take_while(|(o, p, _)| o == owner && *p == parent) {
            if let Some(Some(file)) = self.changed.files.get(&(owner.to_owned(), *idlocal))
                && keep(file)
            {
                found.insert(*idlocal, file.clone());
            }
        }
        Ok(found.into_values().collect())
    }

    /// The files directly in folder `parent` (trashed ones too); only its folders when
    /// `folders_only`.
    fn children(
        &self,
        owner: &str,
        parent: i64,
        folders_only: bool,
    ) -> Result<Vec<FileRecord>, StoreError> {
        self.merged((owner, parent), Select::Children(owner, parent, folders_only), |file| {
            file.parent == parent && (!folders_only || file.kind() == FileType::Folder)
        })
    }

    /// A fresh unguessable key (192 bits, hex) from the operating system's random source: share
    /// keys, and the API keys of new and seeded accounts.
    pub(crate) fn random_key() -> String {
        let mut bytes = [0u8; SHARE_KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A column uid unused in `taken`: six lowercase hex characters, as in captured figures.
    pub(crate) fn column_uid(&mut self, taken: &BTreeSet<String>) -> String {
        loop {
            let uid = format!("{:06x}", self.rng.random_range(0..0x0100_0000u32));
            if !taken.contains(&uid) {
                return uid;
            }
        }
    }

    /// The key (owner, idlocal) of a stored file created at `micros` (changes not yet written
    /// are not looked at).
    pub(crate) fn stored_created_at(
        &self,
        micros: i64,
    ) -> Result<Option<(String, u64)>, StoreError> {
        self.db.created_at(micros).map_err(storage)
    }

    /// The live (not trashed) child of `parent` named `name` (the first, when a seed made
    /// several).
    pub(crate) fn child_named(
        &self,
        owner: &str,
        parent: i64,
        name: &str,
    ) -> Result<Option<u64>, StoreError> {
        let found = self.merged((owner, parent), Select::Named(owner, parent, name), |file| {
            file.parent == parent && !file.deleted && file.filename == name
        })?;
        Ok(found.first().map(|file| file.idlocal))
    }

    /// Resolves `a/b/c` from `parent` to an idlocal.
    pub(crate) fn lookup(
        &self,
        owner: &str,
        path: &str,
        parent: i64,
    ) -> Result<Option<u64>, StoreError> {
        if !self.accounts.contains_key(owner) {
            return Ok(None);
        }
        let mut current = parent;
        let mut found = None;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let Some(id) = self.child_named(owner, current, part)? else { return Ok(None) };
            let Ok(next) = i64::try_from(id) else { return Ok(None) };
            current = next;
            found = Some(id);
        }
        Ok(found)
    }

    /// `untitled`, `untitled 2`, ...: the first free default name in `parent`.
    fn untitled(&mut self, owner: &str, parent: i64) -> Result<String, StoreError> {
        let account = self.accounts.get(owner).ok_or(StoreError::NotFound)?;
        let mut n = account.untitled_taken_below.get(&parent).copied().unwrap_or(1);
        while self.child_named(owner, parent, &untitled_name(n))?.is_some() {
            n += 1;
        }
        self.account_mut(owner)?.untitled_taken_below.insert(parent, n);
        Ok(untitled_name(n))
    }

    /// Notes that `file` no longer holds its name in its folder, which may free a default name.
    fn free_name(&mut self, owner: &str, file: &FileRecord) {
        let Some(freed) = untitled_number(&file.filename) else { return };
        let Some(account) = self.accounts.get_mut(owner) else { return };
        if let Some(below) = account.untitled_taken_below.get_mut(&file.parent) {
            *below = (*below).min(freed);
        }
    }

    /// How many folders `folder` lies in, itself included (0 for home).
    fn depth(&self, owner: &str, folder: i64) -> Result<usize, StoreError> {
        let mut depth = 0;
        let mut current = folder;
        while let Ok(id) = u64::try_from(current) {
            let Some(file) = self.file(owner, id)? else { break };
            depth += 1;
            if depth > MAX_FOLDER_DEPTH {
                break;
            }
            current = file.parent;
        }
        Ok(depth)
    }

    /// How many levels of folders `folder` holds, itself included (1 for an empty folder).
    fn height(&self, owner: &str, folder: u64) -> Result<usize, StoreError> {
        let (mut level, mut height) = (vec![folder], 0);
        while !level.is_empty() && height <= MAX_FOLDER_DEPTH {
            height += 1;
            let mut next = Vec::new();
            for id in level {
                next.extend(self.children(owner, as_parent(id)?, true)?.iter().map(|f| f.idlocal));
            }
            level = next;
        }
        Ok(height)
    }

    /// The folders between a file and folder `root` (`root` included unless it is home), from
    /// the file's own folder up: what a path lookup from `root` passes through.
    pub(crate) fn folders_above(
        &self,
        owner: &str,
        idlocal: u64,
        root: i64,
    ) -> Result<Vec<FileRecord>, StoreError> {
        let mut found = Vec::new();
        let mut current = self.file(owner, idlocal)?.map(|file| file.parent);
        while let Some(parent) = current {
            let Ok(id) = u64::try_from(parent) else { break };
            let Some(record) = self.file(owner, id)? else { break };
            current = Some(record.parent);
            found.push(record);
            if parent == root || found.len() > MAX_FOLDER_DEPTH {
                break;
            }
        }
        Ok(found)
    }

    /// Creates the folders of `path` under `parent` that do not exist yet; returns the last one.
    /// Paths longer than [`MAX_PATH_BYTES`] or that would nest folders deeper than
    /// [`MAX_FOLDER_DEPTH`] are refused before anything is created.
    pub(crate) fn mkdir_p(
        &mut self,
        owner: &str,
        path: &str,
        parent: i64,
    ) -> Result<i64, StoreError> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        if path.len() > MAX_PATH_BYTES {
            return Err(StoreError::invalid(
                "path",
                format!("a path may be at most {MAX_PATH_BYTES} bytes long"),
            ));
        }
        if self.depth(owner, parent)? + parts.len() > MAX_FOLDER_DEPTH {
            return Err(StoreError::invalid(
                "path",
                format!("folders may be nested at most {MAX_FOLDER_DEPTH} deep"),
            ));
        }
        self.account_mut(owner)?;
        let mut current = parent;
        for part in parts {
            current = match self.child_named(owner, current, part)? {
                Some(id) if self.existing(owner, id)?.kind() == FileType::Folder => as_parent(id)?,
                Some(_) => return Err(StoreError::Exists(part.to_owned())),
                None => {
                    let new = NewFile {
                        filename: Some(part.to_owned()),
                        parent: Some(current),
                        parent_path: None,
                        world_readable: false,
                        share_key_enabled: false,
                        metadata: None,
                        body: Body::Folder,
                        idlocal: None,
                    };
                    as_parent(self.create(owner, new)?)?
                }
            };
        }
        Ok(current)
    }

    /// Checks that `parent` is one of the owner's live folders (or home).
    fn check_parent(&self, owner: &str, parent: i64) -> Result<(), StoreError> {
        if parent == HOME_FOLDER {
            return Ok(());
        }
        let folder = match u64::try_from(parent) {
            Ok(id) => self.file(owner, id)?,
            Err(_) => None,
        };
        match folder {
            Some(folder) if folder.kind() == FileType::Folder && !folder.deleted => Ok(()),
            _ => Err(StoreError::invalid(
                "parent",
                format!("{parent} is not the idlocal of one of your folders"),
            )),
        }
    }

    /// Whether `owner` has a file numbered `idlocal`, readable or not, as this process's
    /// changes leave it.
    fn is_taken(&self, owner: &str, idlocal: u64) -> Result<bool, StoreError> {
        match self.changed.files.get(&(owner.to_owned(), idlocal)) {
            Some(file) => Ok(file.is_some()),
            None => self.db.holds(owner, idlocal).map_err(storage),
        }
    }

    /// Creates a file and returns its idlocal.
    pub(crate) fn create(&mut self, owner: &str, new: NewFile) -> Result<u64, StoreError> {
        self.account_mut(owner)?;
        let parent = match (&new.parent_path, new.parent) {
            (Some(path), parent) if !path.trim_matches('/').is_empty() => {
                self.mkdir_p(owner, path, parent.unwrap_or(HOME_FOLDER))?
            }
            (_, Some(parent)) => parent,
            (_, None) => HOME_FOLDER,
        };
        self.check_parent(owner, parent)?;
        let filename = match new.filename.map(|name| name.trim().to_owned()) {
            Some(name) if name.is_empty() || name.contains('/') => {
                return Err(StoreError::invalid(
                    "filename",
                    "a filename must be non-empty and hold no `/`",
                ));
            }
            Some(name) => name,
            None => self.untitled(owner, parent)?,
        };
        if self.child_named(owner, parent, &filename)?.is_some() {
            return Err(StoreError::Exists(filename.clone()));
        }
        let idlocal = match new.idlocal {
            Some(id) if self.is_taken(owner, id)? => {
                return Err(StoreError::Conflict(format!("idlocal {id} is taken")));
            }
            Some(id) => id,
            None => self.account_mut(owner)?.next_idlocal,
        };
        let now = self.tick();
        let account = self.account_mut(owner)?;
        account.next_idlocal = account.next_idlocal.max(idlocal + 1);
        let mut record = FileRecord {
            idlocal,
            filename,
            parent,
            world_readable: new.world_readable,
            share_key_enabled: new.share_key_enabled,
            share_key: new.share_key_enabled.then(Self::random_key),
            deleted: false,
            created: now,
            modified: now,
            views: 0,
            quality: 0,
            featured: false,
            metadata: new.metadata,
            outline: Outline::Folder,
            references: Links::default(),
            referencers: Links::default(),
        };
        self.set_body(owner, &mut record, new.body);
        self.put(owner, record.idlocal, Some(record));
        self.changed.created.insert((owner.to_owned(), idlocal));
        self.changed.counters.insert(owner.to_owned());
        Ok(idlocal)
    }

    /// Moves `owner`'s idlocal counter past `idlocal`, so that no new file takes it.
    pub(crate) fn reserve_idlocal(&mut self, owner: &str, idlocal: u64) -> Result<(), StoreError> {
        let account = self.account_mut(owner)?;
        if account.next_idlocal <= idlocal {
            account.next_idlocal = idlocal.saturating_add(1);
            self.changed.counters.insert(owner.to_owned());
        }
        Ok(())
    }

    /// Puts back a file another server made, at its own idlocal with its own times, sharing,
    /// share key and views (`chart-studio-server restore`). The idlocal must be free, the
    /// parent home or one of the owner's folders, and, unless the file is in the trash, its
    /// name free in that folder.
    pub(crate) fn restore_file(
        &mut self,
        owner: &str,
        mut record: FileRecord,
        body: Body,
    ) -> Result<(), StoreError> {
        let idlocal = record.idlocal;
        if self.is_taken(owner, idlocal)? {
            return Err(StoreError::Conflict(format!("{owner}:{idlocal} is taken")));
        }
        let parent = match u64::try_from(record.parent) {
            Ok(id) => self.file(owner, id)?,
            Err(_) => None,
        };
        if record.parent != HOME_FOLDER && parent.is_none_or(|p| p.kind() != FileType::Folder) {
            return Err(StoreError::invalid(
                "parent",
                format!("{} is not the idlocal of one of {owner}'s folders", record.parent),
            ));
        }
        if !record.deleted && self.child_named(owner, record.parent, &record.filename)?.is_some() {
            return Err(StoreError::Exists(record.filename));
        }
        self.reserve_idlocal(owner, idlocal)?;
        self.last_time = self.last_time.max(record.created);
        let views = std::mem::take(&mut record.views);
        self.set_body(owner, &mut record, body);
        self.put(owner, idlocal, Some(record));
        self.changed.created.insert((owner.to_owned(), idlocal));
        if views > 0 {
            let views = i64::try_from(views).unwrap_or(i64::MAX);
            self.changed.views.insert((owner.to_owned(), idlocal), views);
        }
        Ok(())
    }

    /// Applies writable metadata.
    pub(crate) fn update(
        &mut self,
        owner: &str,
        idlocal: u64,
        changes: Changes,
    ) -> Result<(), StoreError> {
        let current = self.existing(owner, idlocal)?;
        let parent = match (&changes.parent_path, changes.parent) {
            (Some(path), _) => Some(self.mkdir_p(owner, path, HOME_FOLDER)?),
            (None, parent) => parent,
        };
        if let Some(parent) = parent {
            self.check_parent(owner, parent)?;
            if current.kind() == FileType::Folder && parent != current.parent {
                if self.is_inside(owner, parent, idlocal)? {
                    return Err(StoreError::invalid("parent", "a folder cannot move into itself"));
                }
                if self.depth(owner, parent)? + self.height(owner, idlocal)? > MAX_FOLDER_DEPTH {
                    return Err(StoreError::invalid(
                        "parent",
                        format!("folders may be nested at most {MAX_FOLDER_DEPTH} deep"),
                    ));
                }
            }
        }
        let new_parent = parent.unwrap_or(current.parent);
        let new_name = changes
            .filename
            .clone()
            .map(|n| n.trim().to_owned())
            .unwrap_or_else(|| current.filename.clone());
        if new_name.is_empty() || new_name.contains('/') {
            return Err(StoreError::invalid(
                "filename",
                "a filename must be non-empty and hold no `/`",
            ));
        }
        if let Some(body) = &changes.body
            && body.kind() != current.kind()
        {
            let field = if body.content().is_some() { "content" } else { "figure" };
            return Err(StoreError::invalid(field, format!("a {} has no {field}", current.kind())));
        }
        if (new_parent, &new_name) != (current.parent, &current.filename) {
            if self.child_named(owner, new_parent, &new_name)?.is_some_and(|other| other != idlocal)
            {
                return Err(StoreError::Exists(new_name.clone()));
            }
            self.free_name(owner, &current);
        }
        let now = self.tick();
        let mut file = current;
        file.filename = new_name;
        file.parent = new_parent;
        if let Some(public) = changes.world_readable {
            file.world_readable = public;
        }
        match changes.share_key_enabled {
            Some(true) if !file.share_key_enabled || file.share_key.is_none() => {
                file.share_key_enabled = true;
                file.share_key = Some(Self::random_key());
            }
            Some(false) => {
                file.share_key_enabled = false;
                file.share_key = None;
            }
            _ => {}
        }
        if let Some(metadata) = changes.metadata {
            file.metadata = Some(metadata);
        }
        file.modified = now;
        if let Some(body) = changes.body {
            self.set_body(owner, &mut file, body);
        }
        self.put(owner, file.idlocal, Some(file));
        Ok(())
    }

    /// Whether `folder` is `ancestor` or lies inside it.
    fn is_inside(&self, owner: &str, folder: i64, ancestor: u64) -> Result<bool, StoreError> {
        let mut current = folder;
        let mut steps = 0;
        while let Ok(id) = u64::try_from(current) {
            if id == ancestor || steps > MAX_FOLDER_DEPTH {
                return Ok(true);
            }
            let Some(file) = self.file(owner, id)? else { return Ok(false) };
            current = file.parent;
            steps += 1;
        }
        Ok(false)
    }

    /// The file and, for folders, everything inside it, at a cost in proportion to the subtree.
    fn subtree(&self, owner: &str, idlocal: u64) -> Result<Vec<FileRecord>, StoreError> {
        let mut found: Vec<FileRecord> = self.file(owner, idlocal)?.into_iter().collect();
        let mut index = 0;
        while index < found.len() {
            if found[index].kind() == FileType::Folder {
                let children = self.children(owner, as_parent(found[index].idlocal)?, false)?;
                found.extend(children);
            }
            index += 1;
        }
        Ok(found)
    }

    /// Marks a file (and a folder's contents) as trashed or not.
    pub(crate) fn set_trashed(
        &mut self,
        owner: &str,
        idlocal: u64,
        trashed: bool,
    ) -> Result<(), StoreError> {
        let files = self.subtree(owner, idlocal)?;
        let file = files.first().ok_or(StoreError::NotFound)?;
        if !trashed
            && file.deleted
            && self.child_named(owner, file.parent, &file.filename)?.is_some()
        {
            return Err(StoreError::Exists(file.filename.clone()));
        }
        let now = self.tick();
        for mut file in files {
            if trashed && !file.deleted {
                self.free_name(owner, &file);
            }
            file.deleted = trashed;
            file.modified = now;
            self.put(owner, file.idlocal, Some(file));
        }
        Ok(())
    }

    /// Deletes a trashed file (a folder with its contents) for good.
    pub(crate) fn permanent_delete(&mut self, owner: &str, idlocal: u64) -> Result<(), StoreError> {
        let file = self.existing(owner, idlocal)?;
        if !file.deleted {
            return Err(StoreError::Conflict(format!(
                "File {owner}:{idlocal} is not in the trash; trash it before deleting it permanently."
            )));
        }
        self.remove(owner, idlocal)
    }

    /// Removes a file and its subtree at once (the links from them go with them).
    pub(crate) fn remove(&mut self, owner: &str, idlocal: u64) -> Result<(), StoreError> {
        self.account_mut(owner)?;
        for file in self.subtree(owner, idlocal)? {
            let key = (owner.to_owned(), file.idlocal);
            self.changed.views.remove(&key);
            self.changed.contents.remove(&key);
            lock(&self.cache).remove(&(key.0.clone(), file.idlocal, file.modified));
            self.put(owner, file.idlocal, None);
            if !file.deleted {
                self.free_name(owner, &file);
            }
        }
        Ok(())
    }

    /// The grid a column reference points to, if it holds that column.
    pub(crate) fn column_grid(
        &self,
        reference: &ColumnRef,
    ) -> Result<Option<FileRecord>, StoreError> {
        let grid = self.file(reference.grid.owner(), reference.grid.idlocal())?;
        Ok(grid.filter(|grid| grid.outline.columns().iter().any(|c| c.uid == reference.uid)))
    }

    /// Changes a grid's columns with `change`, which may refuse by returning an error (then
    /// nothing changes).
    pub(crate) fn change_columns<T, E: From<StoreError>>(
        &mut self,
        owner: &str,
        idlocal: u64,
        change: impl FnOnce(&mut Vec<StoredColumn>) -> Result<T, E>,
    ) -> Result<T, E> {
        let Some(Body::Grid { columns }) = self.body(owner, idlocal)? else {
            return Err(StoreError::NotFound.into());
        };
        let mut columns = Arc::unwrap_or_clone(columns);
        let answer = change(&mut columns)?;
        let now = self.tick();
        let mut file = self.existing(owner, idlocal)?;
        file.modified = now;
        self.set_body(owner, &mut file, Body::grid(columns));
        self.put(owner, file.idlocal, Some(file));
        Ok(answer)
    }

    /// Counts a view: only the count changes, never the file's record.
    pub(crate) fn count_view(&mut self, owner: &str, idlocal: u64) {
        *self.changed.views.entry((owner.to_owned(), idlocal)).or_default() += 1;
    }

    /// Sets the fields only seeds set.
    pub(crate) fn set_seed_fields(
        &mut self,
        owner: &str,
        idlocal: u64,
        views: u64,
        quality: u32,
        featured: bool,
        created: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut file = self.existing(owner, idlocal)?;
        let added = i64::try_from(views).unwrap_or(i64::MAX)
            - i64::try_from(file.views).unwrap_or(i64::MAX);
        *self.changed.views.entry((owner.to_owned(), idlocal)).or_default() += added;
        file.quality = quality;
        file.featured = featured;
        if let Some(created) = created {
            file.created = created;
            file.modified = created;
        }
        self.put(owner, file.idlocal, Some(file));
        Ok(())
    }
}

/// A stored file's record, with the row's number and view count (its record's may differ);
/// `None`, logged, when the record does not read back.
fn decode(stored: crate::db::StoredFile) -> Option<FileRecord> {
    match serde_json::from_str::<FileRecord>(&stored.record) {
        Ok(record) => Some(FileRecord { idlocal: stored.idlocal, views: stored.views, ..record }),
        Err(err) => {
            let fid = format!("{}:{}", stored.owner, stored.idlocal);
            tracing::error!(file = %fid, error = %err, "a stored file does not read back");
            None
        }
    }
}

/// A view count with `added` (negative: taken away) views.
fn add_views(views: u64, added: i64) -> u64 {
    let total = i64::try_from(views).unwrap_or(i64::MAX).saturating_add(added);
    u64::try_from(total).unwrap_or(0)
}

/// A database error, as the store reports it.
fn storage(err: anyhow::Error) -> StoreError {
    StoreError::Storage(format!("{err:#}"))
}

/// The fid of a stored file (account names are checked when accounts are added).
fn fid(owner: &str, idlocal: u64) -> Fid {
    Fid::new(owner, idlocal).expect("usernames are checked when accounts are added")
}

/// A folder idlocal as a `parent` value.
fn as_parent(idlocal: u64) -> Result<i64, StoreError> {
    i64::try_from(idlocal).map_err(|_| StoreError::invalid("parent", "folder number too large"))
}

/// The `n`th default name: `untitled`, `untitled 2`, ...
fn untitled_name(n: u64) -> String {
    if n == 1 { "untitled".to_owned() } else { format!("untitled {n}") }
}

/// Which default name `name` is, if it is one.
fn untitled_number(name: &str) -> Option<u64> {
    let n = match name.strip_prefix("untitled") {
        Some("") => 1,
        Some(rest) => rest.strip_prefix(' ')?.parse().ok()?,
        None => return None,
    };
    (n >= 1 && untitled_name(n) == name).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(name: &str, body: Body) -> NewFile {
        NewFile::named(name, HOME_FOLDER, false, body)
    }

    fn store() -> Store {
        let mut store = Store::new(7);
        store.add_account("alice", "alice-key").unwrap();
        store
    }

    /// Runs a rule test on a store (with the account alice) on each engine: in-memory SQLite,
    /// SQLite on disk and PostgreSQL (a cluster of its own); on the last two, what the test
    /// leaves is committed and must read back the same from a store opened again.
    fn on_every_engine(test: impl Fn(&mut Store)) {
        let mut memory = store();
        test(&mut memory);
        memory.commit().unwrap();
        let dir = tempfile::tempdir().unwrap();
        round_trip(|| Db::open(dir.path()).unwrap(), &test);
        let cluster = crate::pg_cluster::TempCluster::start().unwrap();
        round_trip(|| Db::postgres(&cluster.url()).unwrap(), &test);
    }

    fn round_trip(open: impl Fn() -> Db, test: &impl Fn(&mut Store)) {
        let (mut store, _) = Store::open(open(), 7, 1 << 20).unwrap();
        store.add_account("alice", "alice-key").unwrap();
        test(&mut store);
        store.commit().unwrap();
        let before = snapshot(&store);
        drop(store);
        let (reopened, unreadable) = Store::open(open(), 7, 0).unwrap();
        assert!(unreadable.is_empty(), "{unreadable:?}");
        assert_eq!(snapshot(&reopened), before, "what was committed reads back the same");
    }

    /// A folder's count of folders is the same while its changes wait for their commit and
    /// after: trashed ones count, moved and deleted ones do not.
    #[test]
    fn subfolders_are_counted_before_and_after_a_commit() {
        on_every_engine(|store| {
            let id = |folder: i64| u64::try_from(folder).unwrap();
            let top = id(store.mkdir_p("alice", "top", HOME_FOLDER).unwrap());
            let inner: Vec<u64> = (0..4)
                .map(|n| id(store.mkdir_p("alice", &format!("top/{n}"), HOME_FOLDER).unwrap()))
                .collect();
            store.create("alice", new("a plot", Body::plot(Value::Null))).unwrap();
            let count = |store: &mut Store| {
                let pending = store.subfolder_count("alice", top).unwrap();
                store.commit().unwrap();
                (pending, store.subfolder_count("alice", top).unwrap())
            };
            assert_eq!(count(store), (4, 4));
            store.set_trashed("alice", inner[0], true).unwrap();
            let away = Changes { parent: Some(-1), ..Changes::default() };
            store.update("alice", inner[1], away).unwrap();
            store.set_trashed("alice", inner[2], true).unwrap();
            store.permanent_delete("alice", inner[2]).unwrap();
            assert_eq!(count(store), (2, 2));
        });
    }

    #[test]
    fn idlocals_count_from_zero_and_paths_create_folders() {
        on_every_engine(|store| {
            assert_eq!(store.create("alice", new("g", Body::grid(vec![]))).unwrap(), 0);
            let mut plot = new("p", Body::plot(Value::Null));
            plot.parent_path = Some("a/b".to_owned());
            let id = store.create("alice", plot).unwrap();
            assert_eq!(id, 3, "folders a (1) and b (2) come first");
            assert_eq!(store.lookup("alice", "a/b/p", HOME_FOLDER).unwrap(), Some(3));
            assert_eq!(store.file("alice", 3).unwrap().unwrap().parent, 2);
            assert_eq!(store.mkdir_p("alice", "a/b/c", HOME_FOLDER).unwrap(), 4);
        });
    }

    #[test]
    fn filename_conflicts_are_409s() {
        on_every_engine(|store| {
            store.create("alice", new("same", Body::Folder)).unwrap();
            let err = store.create("alice", new("same", Body::grid(vec![]))).unwrap_err();
            assert_eq!(err.to_string(), "Sorry, a file named 'same' already exists");
        });
    }

    #[test]
    fn trash_restore_and_delete_act_on_folder_contents() {
        on_every_engine(|store| {
            let mut plot = new("p", Body::plot(Value::Null));
            plot.parent_path = Some("f".to_owned());
            let plot = store.create("alice", plot).unwrap();
            assert!(
                store
                    .permanent_delete("alice", 0)
                    .unwrap_err()
                    .to_string()
                    .contains("not in the trash")
            );
            store.set_trashed("alice", 0, true).unwrap();
            assert!(store.file("alice", plot).unwrap().unwrap().deleted);
            store.set_trashed("alice", 0, false).unwrap();
            assert!(!store.file("alice", plot).unwrap().unwrap().deleted);
            store.set_trashed("alice", 0, true).unwrap();
            store.permanent_delete("alice", 0).unwrap();
            assert!(store.file("alice", plot).unwrap().is_none());
        });
    }

    #[test]
    fn share_keys_are_long_random_and_revocable() {
        on_every_engine(|store| {
            let id = store.create("alice", new("p", Body::plot(Value::Null))).unwrap();
            let on = Changes { share_key_enabled: Some(true), ..Changes::default() };
            store.update("alice", id, on.clone()).unwrap();
            let first = store.file("alice", id).unwrap().unwrap().share_key.clone().unwrap();
            assert_eq!(first.len(), SHARE_KEY_BYTES * 2);
            store
                .update(
                    "alice",
                    id,
                    Changes { share_key_enabled: Some(false), ..Changes::default() },
                )
                .unwrap();
            assert!(store.file("alice", id).unwrap().unwrap().share_key.is_none());
            store.update("alice", id, on).unwrap();
            assert_ne!(
                store.file("alice", id).unwrap().unwrap().share_key.as_deref(),
                Some(first.as_str())
            );
        });
    }

    #[test]
    fn plots_and_grids_know_each_other() {
        on_every_engine(|store| {
            let grid = store.create("alice", new("g", Body::grid(vec![]))).unwrap();
            let figure =
                serde_json::json!({"data": [{"xsrc": "alice:0:aaaaaa", "ysrc": "alice:0:bbbbbb"}]});
            let plot = store.create("alice", new("p", Body::plot(figure))).unwrap();
            let plot_fid = fid("alice", plot);
            assert_eq!(
                linked(store, "alice", grid).referencers,
                Links::from_iter([plot_fid.clone()])
            );
            assert_eq!(
                linked(store, "alice", plot).references,
                Links::from_iter([fid("alice", grid)])
            );
            let changes = Changes {
                body: Some(Body::plot(serde_json::json!({"data": []}))),
                ..Changes::default()
            };
            store.update("alice", plot, changes).unwrap();
            assert!(linked(store, "alice", grid).referencers == Links::default());
            let figure = serde_json::json!({"data": [{"xsrc": "alice:0:aaaaaa"}]});
            store
                .update(
                    "alice",
                    plot,
                    Changes { body: Some(Body::plot(figure)), ..Changes::default() },
                )
                .unwrap();
            store.remove("alice", grid).unwrap();
            assert!(linked(store, "alice", plot).references == Links::default());
        });
    }

    #[test]
    fn counting_a_view_changes_no_file_record() {
        let mut store = store();
        let id = store.create("alice", new("g", Body::grid(vec![]))).unwrap();
        store.commit().unwrap();
        store.count_view("alice", id);
        let changed = &store.changed;
        assert!(changed.files.is_empty() && changed.contents.is_empty(), "{changed:?}");
        assert_eq!(changed.views, BTreeMap::from([(("alice".to_owned(), id), 1)]));
        assert_eq!(store.file("alice", id).unwrap().unwrap().views, 1);
        // Views of files gone by the commit (deleted meanwhile, here or by another process)
        // are dropped; the rest of the commit stands.
        store.count_view("alice", id + 100);
        store.set_trashed("alice", id, true).unwrap();
        store.permanent_delete("alice", id).unwrap();
        let kept = store.create("alice", new("kept", Body::grid(vec![]))).unwrap();
        store.count_view("alice", kept);
        store.commit().unwrap();
        assert_eq!(store.file("alice", kept).unwrap().unwrap().views, 1);
        assert_eq!(store.file("alice", id).unwrap().map(|f| f.views), None);
    }

    #[test]
    fn moving_a_folder_keeps_the_depth_limit() {
        on_every_engine(|store| {
            let deep = "d/".repeat(MAX_FOLDER_DEPTH - 1);
            store.mkdir_p("alice", &deep, HOME_FOLDER).unwrap();
            let chain = store.mkdir_p("alice", "a/b", HOME_FOLDER).unwrap();
            let bottom =
                store.lookup("alice", deep.trim_end_matches('/'), HOME_FOLDER).unwrap().unwrap();
            let outer = store.lookup("alice", "a", HOME_FOLDER).unwrap().unwrap();
            let into_bottom = |parent| Changes { parent: Some(parent), ..Changes::default() };
            // `a` holds `b`: two levels under a folder 63 deep would make 65, whether the
            // folders wait for their commit or are read from the database.
            for commit in [false, true] {
                if commit {
                    store.commit().unwrap();
                }
                let err = store
                    .update("alice", outer, into_bottom(as_parent(bottom).unwrap()))
                    .unwrap_err();
                assert!(err.to_string().contains("at most 64 deep"), "{err}");
            }
            // `b` alone fits.
            let inner = u64::try_from(chain).unwrap();
            store.update("alice", inner, into_bottom(as_parent(bottom).unwrap())).unwrap();
            assert_eq!(store.depth("alice", chain).unwrap(), MAX_FOLDER_DEPTH);
        });
    }

    #[test]
    fn a_folder_cannot_move_into_itself() {
        on_every_engine(|store| {
            let outer = store.mkdir_p("alice", "a/b", HOME_FOLDER).unwrap();
            let err = store
                .update("alice", 0, Changes { parent: Some(outer), ..Changes::default() })
                .unwrap_err();
            assert!(err.to_string().contains("into itself"));
        });
    }

    /// A dropped change of each kind leaves the store as the database holds it, and the
    /// numbers and default names it took are free again.
    #[test]
    fn a_dropped_change_leaves_what_was_committed() {
        on_every_engine(|store| {
            let grid = store.create("alice", new("g", Body::grid(vec![]))).unwrap();
            let figure = serde_json::json!({"data": [{"xsrc": "alice:0:aaaaaa"}]});
            let mut plot = new("p", Body::plot(figure));
            plot.parent_path = Some("f".to_owned());
            let plot = store.create("alice", plot).unwrap();
            let viewed = store.create("alice", new("v", Body::Folder)).unwrap();
            store.commit().unwrap();
            let before = (accounts(store), snapshot(store));

            assert!(store.set_key("alice", "another-key"));
            store.add_account("bob", "bob-key-1").unwrap();
            let untitled = NewFile { filename: None, ..new("", Body::Folder) };
            let made = store.create("alice", untitled.clone()).unwrap();
            assert_eq!(store.file("alice", made).unwrap().unwrap().filename, "untitled");
            let changes = Changes {
                body: Some(Body::plot(serde_json::json!({"data": []}))),
                share_key_enabled: Some(true),
                ..Changes::default()
            };
            store.update("alice", plot, changes).unwrap();
            store.count_view("alice", viewed);
            store.set_trashed("alice", 1, true).unwrap();
            store.remove("alice", grid).unwrap();
            store.rollback().unwrap();

            assert_eq!((accounts(store), snapshot(store)), before);
            let again = store.create("alice", untitled).unwrap();
            assert_eq!(again, made, "the dropped create's number is free again");
            assert_eq!(store.file("alice", again).unwrap().unwrap().filename, "untitled");
        });
    }

    /// A change dropped while the database is away cannot be read back: nothing is served
    /// from the store until the database answers again and the store is read anew.
    #[test]
    fn a_change_dropped_while_the_database_is_away_is_forgotten_when_it_returns() {
        let cluster = crate::pg_cluster::TempCluster::start().unwrap();
        let (mut store, _) = Store::open(Db::postgres(&cluster.url()).unwrap(), 7, 0).unwrap();
        store.add_account("alice", "alice-key").unwrap();
        store.create("alice", new("kept", Body::Folder)).unwrap();
        store.commit().unwrap();
        let before = (accounts(&store), snapshot(&store));

        store.create("alice", new("lost", Body::Folder)).unwrap();
        cluster.stop().unwrap();
        assert!(store.commit().is_err());
        assert!(store.sync().is_err(), "not served while the database is away");
        cluster.start_again().unwrap();
        store.sync().unwrap();
        assert_eq!((accounts(&store), snapshot(&store)), before);
    }

    /// Every account's stored fields.
    fn accounts(store: &Store) -> Vec<(String, String, u64)> {
        let fields = |a: &Account| (a.username.clone(), a.key_hash.clone(), a.next_idlocal);
        store.accounts().map(fields).collect()
    }

    /// `owner`'s file `idlocal` with its links.
    fn linked(store: &Store, owner: &str, idlocal: u64) -> FileRecord {
        let mut file = store.file(owner, idlocal).unwrap().unwrap();
        store.link(owner, &mut file, |_, _| true).unwrap();
        file
    }

    /// Every file of `owner` the store answers, committed or not, with its links.
    fn all_files(store: &Store, owner: &str) -> Vec<FileRecord> {
        let stored = store.db.files(Select::OfOwner(owner)).unwrap();
        let mut ids: BTreeSet<u64> = stored.iter().map(|f| f.idlocal).collect();
        ids.extend(store.changed.files.keys().filter(|(o, _)| o == owner).map(|(_, id)| *id));
        let files = ids.into_iter().filter_map(|id| store.file(owner, id).unwrap());
        files
            .map(|mut file| {
                store.link(owner, &mut file, |_, _| true).unwrap();
                file
            })
            .collect()
    }

    /// Everything a store answers about its files, contents included.
    fn snapshot(store: &Store) -> Vec<String> {
        let mut seen = Vec::new();
        for account in store.accounts() {
            for record in all_files(store, &account.username) {
                let body = store.body(&account.username, record.idlocal).unwrap().unwrap();
                let links = (&record.references, &record.referencers, record.views);
                seen.push(format!(
                    "{} {} {links:?} {}",
                    account.username,
                    serde_json::to_string(&record).unwrap(),
                    serde_json::to_string(&body).unwrap()
                ));
            }
        }
        seen
    }

    /// A listing's query holds what the store's records and the reading rule say: for the
    /// owner and a stranger, each scope and file type, in idlocal order, paged.
    #[test]
    fn listings_hold_the_files_the_reader_may_see() {
        use crate::auth::Viewer;
        use crate::db::Scope;
        on_every_engine(|store| {
            let folder = store.mkdir_p("alice", "f", -1).unwrap();
            for (n, (public, parent)) in
                [(true, None), (false, None), (true, Some("f")), (false, Some("f"))]
                    .iter()
                    .enumerate()
            {
                let mut plot = new(&format!("p{n}"), Body::plot(Value::Null));
                plot.world_readable = *public;
                plot.parent_path = parent.map(str::to_owned);
                store.create("alice", plot).unwrap();
                let mut grid = new(&format!("g{n}"), Body::grid(vec![]));
                grid.world_readable = *public;
                store.create("alice", grid).unwrap();
            }
            let secret = store.create("alice", new("s", Body::plot(Value::Null))).unwrap();
            store
                .update(
                    "alice",
                    secret,
                    Changes { share_key_enabled: Some(true), ..Changes::default() },
                )
                .unwrap();
            store.set_trashed("alice", 1, true).unwrap();
            let trashed_public = store.create("alice", new("t", Body::plot(Value::Null))).unwrap();
            store
                .update(
                    "alice",
                    trashed_public,
                    Changes { world_readable: Some(true), ..Changes::default() },
                )
                .unwrap();
            store.set_trashed("alice", trashed_public, true).unwrap();
            store.commit().unwrap();
            // Counts follow moves, deletes for good and accounts that go.
            let moved = Changes { parent: Some(folder), ..Changes::default() };
            store.update("alice", 3, moved).unwrap();
            store.permanent_delete("alice", 1).unwrap();
            store.add_account("bob", "bob-key-12345").unwrap();
            store.create("bob", new("b", Body::plot(Value::Null))).unwrap();
            store.commit().unwrap();
            assert!(store.remove_account("bob"));
            store.commit().unwrap();
            store.add_account("bob", "bob-key-12345").unwrap();
            store.commit().unwrap();
            let bob = Listing { owner: "bob", scope: Scope::Live, kind: None, public_only: false };
            assert_eq!(store.count(&bob).unwrap(), 0, "a removed account's files are not counted");
            let viewers = [Viewer::User("alice".to_owned()), Viewer::Anonymous];
            let scopes = [Scope::Folder(-1), Scope::Folder(folder), Scope::Live, Scope::Trash];
            let kinds = [None, Some("plot"), Some("grid")];
            let cases = viewers.iter().flat_map(|viewer| {
                scopes.iter().flat_map(move |&scope| kinds.map(|kind| (viewer, scope, kind)))
            });
            for (viewer, scope, kind) in cases {
                let owner = viewer.is("alice");
                if scope == Scope::Trash && !owner {
                    continue;
                }
                let listing = Listing { owner: "alice", scope, kind, public_only: !owner };
                let want: Vec<u64> = all_files(store, "alice")
                    .into_iter()
                    .filter(|f| match scope {
                        Scope::Folder(parent) => !f.deleted && f.parent == parent,
                        Scope::Live => !f.deleted,
                        Scope::Trash => f.deleted,
                    })
                    .filter(|f| kind.is_none_or(|kind| f.kind().as_str() == kind))
                    .filter(|f| crate::access::can_read(viewer, "alice", f, None))
                    .map(|f| f.idlocal)
                    .collect();
                let got: Vec<u64> =
                    store.page(&listing, 0, 100).unwrap().iter().map(|f| f.idlocal).collect();
                let case = format!("{viewer:?} {scope:?} {kind:?}");
                assert_eq!(got, want, "{case}");
                assert_eq!(store.count(&listing).unwrap(), want.len() as u64, "{case}");
                let paged: Vec<u64> =
                    store.page(&listing, 1, 2).unwrap().iter().map(|f| f.idlocal).collect();
                assert_eq!(
                    paged,
                    want.iter().skip(1).take(2).copied().collect::<Vec<_>>(),
                    "{case}"
                );
            }
        });
    }

    /// A copy stopped after marking its target, or after part of its rows, leaves a target no
    /// store opens; run again, the copy starts over and ends equal to its source, which it only
    /// reads. A target with accounts of its own (no unfinished copy) is refused untouched.
    #[test]
    fn an_unfinished_copy_is_refused_until_a_copy_starts_it_over() {
        let mut source = store();
        source.create("alice", new("g", Body::grid(vec![]))).unwrap();
        source.create("alice", new("p", Body::plot(Value::Null))).unwrap();
        source.commit().unwrap();
        let want = source.db.summary().unwrap();
        let refused = |db: Db| {
            let err = Store::open(db, 7, 0).map(drop).unwrap_err().to_string();
            assert!(err.contains("unfinished copy"), "{err}");
        };
        let check = |open: &dyn Fn() -> Db| {
            let mut target = open();
            target.start_copy().unwrap();
            refused(target);
            let mut target = open();
            let mut part = Batch::default();
            part.accounts.push(crate::db::AccountChange::Put(AccountRow {
                username: "alice".to_owned(),
                key_hash: key_hash("alice-key"),
                date_joined: 0,
                next_idlocal: 9,
            }));
            target.save(part).unwrap();
            refused(target);
            let mut target = open();
            let mut heard = Vec::new();
            let copied = source.db.copy_to(&mut target, |files, _| heard.push(files)).unwrap();
            assert_eq!(copied, want);
            assert_eq!(heard.last(), Some(&want.files), "the progress ends at every file");
            assert_eq!(source.db.summary().unwrap(), want, "the source is only read");
            let (copied, _) = Store::open(target, 7, 0).unwrap();
            assert_eq!(snapshot(&copied), snapshot(&source));
            let mut target = open();
            let err = source.db.copy_to(&mut target, |_, _| ()).unwrap_err().to_string();
            assert!(err.contains("already holds accounts"), "{err}");
            assert_eq!(target.summary().unwrap(), want, "a refused target is left as it was");
        };
        let dir = tempfile::tempdir().unwrap();
        check(&|| Db::open(dir.path()).unwrap());
        let cluster = crate::pg_cluster::TempCluster::start().unwrap();
        check(&|| Db::postgres(&cluster.url()).unwrap());
    }

    #[test]
    fn what_a_store_commits_reads_back_the_same_from_disk_with_any_cache() {
        let dir = tempfile::tempdir().unwrap();
        let open = |cache| Store::open(Db::open(dir.path()).unwrap(), 7, cache).unwrap();
        let (mut store, unreadable) = open(0);
        assert!(unreadable.is_empty());
        store.add_account("alice", "alice-key").unwrap();
        store.add_account("bob", "bob-key-1").unwrap();
        let column = |name: &str, uid: &str| StoredColumn {
            name: name.into(),
            uid: uid.into(),
            data: vec![Value::from(1), Value::from(2)],
        };
        let grid = store.create("bob", new("g", Body::grid(vec![column("x", "aaaaaa")]))).unwrap();
        let figure = serde_json::json!({"data": [{"type": "bar", "xsrc": "bob:0:aaaaaa"}]});
        let mut plot = new("p", Body::plot(figure));
        plot.parent_path = Some("f/g".into());
        let plot = store.create("alice", plot).unwrap();
        let board = Body::document(&FileType::Dashboard, r#"{"layout": {}}"#).unwrap();
        store.create("alice", new("d", board)).unwrap();
        store.commit().unwrap();
        store
            .change_columns("bob", grid, |columns| {
                columns.push(column("y", "bbbbbb"));
                Ok::<_, StoreError>(())
            })
            .unwrap();
        store.count_view("alice", plot);
        store.set_trashed("alice", 0, true).unwrap();
        let refused = store.change_columns("bob", grid, |columns| {
            columns.clear();
            Err::<(), _>(StoreError::NotFound)
        });
        assert!(refused.is_err());
        store.commit().unwrap();
        let before = snapshot(&store);
        assert!(before.iter().any(|line| line.contains("bbbbbb")), "{before:?}");
        assert_eq!(lock(&store.cache).bytes(), 0, "a cache of 0 bytes keeps nothing");
        drop(store);
        for cache in [0, 1 << 20] {
            let (reopened, _) = open(cache);
            assert_eq!(snapshot(&reopened), before);
            assert_eq!(
                linked(&reopened, "bob", grid).referencers,
                Links::from_iter([fid("alice", plot)]),
                "another account's plot is linked to the grid it uses"
            );
        }
    }

    /// Two stores on one PostgreSQL database, as two server processes: what one commits, the
    /// other reads at its next sync (new files, their links across accounts, a new key, a
    /// deleted file, a removed account), and a change it has not committed yet is left alone.
    #[test]
    fn a_sync_reads_what_another_process_committed() {
        let cluster = crate::pg_cluster::TempCluster::start().unwrap();
        let open = || Store::open(Db::postgres(&cluster.url()).unwrap(), 7, 1 << 20).unwrap().0;
        let (mut one, mut two) = (open(), open());
        one.add_account("alice", "alice-key").unwrap();
        one.add_account("bob", "bob-key-1").unwrap();
        let column = StoredColumn { name: "x".into(), uid: "aaaaaa".into(), data: vec![] };
        let grid = one.create("bob", new("g", Body::grid(vec![column]))).unwrap();
        one.commit().unwrap();
        two.sync().unwrap();
        let figure = serde_json::json!({"data": [{"xsrc": format!("bob:{grid}:aaaaaa")}]});
        let plot = two.create("alice", new("p", Body::plot(figure))).unwrap();
        two.commit().unwrap();
        one.sync().unwrap();
        assert_eq!(one.file("alice", plot).unwrap().map(|f| f.filename), Some("p".to_owned()));
        assert_eq!(
            linked(&one, "bob", grid).referencers,
            Links::from_iter([fid("alice", plot)]),
            "a plot made by the other process is linked to the grid it uses"
        );
        assert_eq!(snapshot(&one), snapshot(&two));

        // A change not yet committed stays as it is; the other's changes arrive.
        let renamed = Changes { filename: Some("mine".into()), ..Changes::default() };
        two.update("alice", plot, renamed).unwrap();
        one.set_key("bob", "bob-key-2");
        one.remove("bob", grid).unwrap();
        one.commit().unwrap();
        two.sync().unwrap();
        assert_eq!(two.file("alice", plot).unwrap().map(|f| f.filename), Some("mine".to_owned()));
        assert!(two.file("bob", grid).unwrap().is_none(), "the deleted grid is gone");
        assert!(linked(&two, "alice", plot).references == Links::default());
        assert_eq!(two.account("bob").unwrap().key_hash, key_hash("bob-key-2"));
        two.commit().unwrap();
        one.remove_account("alice");
        one.commit().unwrap();
        two.sync().unwrap();
        assert!(two.account("alice").is_none() && two.file("alice", plot).unwrap().is_none());
        assert_eq!(snapshot(&one), snapshot(&two));
    }

    #[test]
    fn a_failed_commit_leaves_what_was_committed_before() {
        let mut store = store();
        let kept = store.create("alice", new("kept", Body::plot(Value::Null))).unwrap();
        store.commit().unwrap();
        let before = snapshot(&store);
        store.create("alice", new("lost", Body::plot(Value::Null))).unwrap();
        store.db.sqlite_for_tests().execute_batch("DROP TABLE contents").unwrap();
        assert!(store.commit().is_err());
        assert!(
            store.lookup("alice", "lost", HOME_FOLDER).unwrap().is_none(),
            "nothing half applied"
        );
        assert_eq!(store.lookup("alice", "kept", HOME_FOLDER).unwrap(), Some(kept));
        assert_eq!(store.file("alice", kept).unwrap().map(|f| f.filename), Some("kept".to_owned()));
        assert_eq!(before.len(), 1);
    }

    #[test]
    fn default_names_take_the_first_free_number_without_searching_from_the_start() {
        on_every_engine(|store| {
            let unnamed = |store: &mut Store| {
                let id = store.create("alice", NewFile { filename: None, ..new("", Body::Folder) });
                store.file("alice", id.unwrap()).unwrap().unwrap().filename.clone()
            };
            let names: Vec<String> = (0..3).map(|_| unnamed(store)).collect();
            assert_eq!(names, ["untitled", "untitled 2", "untitled 3"]);
            store.create("alice", new("untitled 4", Body::Folder)).unwrap();
            assert_eq!(unnamed(store), "untitled 5", "a name given by hand is skipped");
            let second = store.lookup("alice", "untitled 2", HOME_FOLDER).unwrap().unwrap();
            store.set_trashed("alice", second, true).unwrap();
            assert_eq!(unnamed(store), "untitled 2", "a freed number is taken again");
            assert_eq!(unnamed(store), "untitled 6");
            let renamed = Changes { filename: Some("kept".into()), ..Changes::default() };
            let first = store.lookup("alice", "untitled", HOME_FOLDER).unwrap().unwrap();
            store.update("alice", first, renamed).unwrap();
            assert_eq!(unnamed(store), "untitled");
            for (name, number) in [
                ("untitled", Some(1)),
                ("untitled 7", Some(7)),
                ("untitled 07", None),
                ("untitled 1", None),
                ("untitledx", None),
            ] {
                assert_eq!(untitled_number(name), number, "{name}");
            }
        });
    }

    /// A stored record or content, as odd or damaged as it may be.
    fn stored_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::from),
        ];
        let json = leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        });
        prop_oneof![
            ".{0,40}",
            json.clone().prop_map(|v| v.to_string()),
            json.clone().prop_map(|v| serde_json::json!({"Plot": {"figure": v}}).to_string()),
            json.clone().prop_map(|v| serde_json::json!({"Grid": {"columns": v}}).to_string()),
            // A record that reads, under another number, with any or a valid outline.
            (json, any::<bool>()).prop_map(|(v, valid)| {
                let outline = if valid { serde_json::json!({"kind": "folder"}) } else { v };
                serde_json::json!({"idlocal": 7, "filename": "x", "parent": -1,
                    "world_readable": true, "share_key_enabled": false, "share_key": null,
                    "deleted": false, "created": 1, "modified": 1, "quality": 0,
                    "featured": false, "metadata": null, "outline": outline})
                .to_string()
            }),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

        #[test]
        fn no_stored_row_makes_the_store_panic(record in stored_text(), content in stored_text()) {
            let mut store = store();
            let kept = store.create("alice", new("kept", Body::plot(Value::Null))).unwrap();
            let odd = store.create("alice", new("odd", Body::plot(Value::Null))).unwrap();
            store.commit().unwrap();
            let conn = store.db.sqlite_for_tests();
            conn.execute(
                "UPDATE files SET record = ?1 WHERE idlocal = ?2",
                rusqlite::params![record, odd as i64],
            )
            .unwrap();
            conn.execute(
                "UPDATE contents SET body = ?1 WHERE idlocal = ?2",
                rusqlite::params![content, kept as i64],
            )
            .unwrap();
            let read = |id| store.file("alice", id).unwrap().map(|f| f.idlocal);
            proptest::prop_assert_eq!(read(kept), Some(kept));
            if let Some(id) = read(odd) {
                proptest::prop_assert_eq!(id, odd, "the row's number wins");
            }
            let listing = Listing { owner: "alice", scope: crate::db::Scope::Live, kind: None, public_only: false };
            proptest::prop_assert!(store.page(&listing, 0, 10).is_ok());
            for id in [kept, odd] {
                match store.body("alice", id) {
                    Ok(_) | Err(StoreError::Storage(_)) => {}
                    Err(other) => proptest::prop_assert!(false, "{other}"),
                }
            }
        }
    }

    #[test]
    fn a_content_is_decoded_after_the_lock_and_an_old_read_never_stands_for_a_newer_content() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(Db::open(dir.path()).unwrap(), 7, 1 << 20).unwrap();
        store.add_account("alice", "alice-key").unwrap();
        let column = |value: i64| StoredColumn {
            name: "x".into(),
            uid: "aaaaaa".into(),
            data: vec![Value::from(value)],
        };
        let grid = store.create("alice", new("g", Body::grid(vec![column(1)]))).unwrap();
        store.commit().unwrap();
        lock(&store.cache).clear();
        let old = store.read("alice", grid).unwrap().unwrap();
        assert!(matches!(old, ContentRead::Stored { .. }), "not decoded under the lock");
        store
            .change_columns("alice", grid, |columns| {
                columns[0] = column(2);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        store.commit().unwrap();
        lock(&store.cache).clear();
        // The read taken before the change is decoded only now, and cached under its time.
        let Body::Grid { columns } = old.load().unwrap() else { panic!("a grid") };
        assert_eq!(columns[0].data, [Value::from(1)]);
        let Some(Body::Grid { columns }) = store.body("alice", grid).unwrap() else {
            panic!("a grid")
        };
        assert_eq!(columns[0].data, [Value::from(2)], "the newer content, not the old read");
        let again = store.read("alice", grid).unwrap().unwrap();
        assert!(matches!(again, ContentRead::Ready(_)), "read once, then from the cache");
    }
}
