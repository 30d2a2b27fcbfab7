//! The store's storage: SQLite (a file in the data folder, or in memory) or PostgreSQL
//! (`--database`). Accounts are read at start; file records (metadata and outlines) and
//! contents are read per request, by the indexed queries of [`Select`]. Every change is written in one transaction before its answer
//! goes out (see the layer in `faults.rs`), so a 2xx answer survives a `kill -9`. Both engines
//! hold the same tables at the same schema version.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use anyhow::{Context, Result, bail};

pub use postgres::DatabaseUrl;
pub(crate) use sqlite::backup;

/// An account's stored fields.
#[derive(Debug, Clone)]
pub(crate) struct AccountRow {
    pub username: String,
    pub key_hash: String,
    pub date_joined: i64,
    pub next_idlocal: u64,
}

/// A change of an account.
#[derive(Debug)]
pub(crate) enum AccountChange {
    /// Created or changed.
    Put(AccountRow),
    /// Removed, with its files.
    Remove(String),
}

/// A file's record, as JSON, and the fields queries select on.
#[derive(Debug)]
pub(crate) struct FileRow {
    pub owner: String,
    pub idlocal: u64,
    pub record: String,
    pub columns: FileColumns,
    /// A new file: writing it fails, with its whole batch, if the row exists (a create never
    /// writes over a file); it has no links to take away first.
    pub new: bool,
}

/// The statement that writes a file's row: [`PUT_FILE`], without its `ON CONFLICT` clause for
/// a `new` file.
fn file_statement(new: bool) -> &'static str {
    match new {
        true => PUT_FILE.split(" ON CONFLICT").next().unwrap_or(PUT_FILE),
        false => PUT_FILE,
    }
}

/// The fields of a file's record that queries select on, kept in columns (and the `links`
/// table) beside the record (always derived from it, here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileColumns {
    pub parent: i64,
    pub filename: String,
    /// The file type's API name, or [`UNREADABLE`].
    pub kind: String,
    pub deleted: bool,
    pub world_readable: bool,
    /// Creation time (microseconds): the public list's order.
    pub created: i64,
    pub featured: bool,
    pub quality: i64,
    /// The filename in lower case, as search matches words in it.
    pub search_name: String,
    /// The trace types a search term can name (lower case, no whitespace), each between
    /// single spaces (`" bar scatter "`); empty for a plot without traces and other files.
    pub plot_types: String,
    /// A plot's figure's grids (existing or not), as (owner, idlocal).
    pub grids: Vec<(String, i64)>,
}

/// The kind of a folder, as the API names it.
const FOLDER: &str = "fold";

/// The kind of a record that does not read back: no listing holds it.
const UNREADABLE: &str = "unreadable";

impl FileColumns {
    /// The columns of `record`.
    pub(crate) fn of(record: &crate::record::FileRecord) -> Self {
        let (grids, plot_types) = match &record.outline {
            crate::content::Outline::Plot { grids, trace_types } => {
                let grids = grids
                    .iter()
                    .map(|grid| (grid.owner().to_owned(), idlocal_key(grid.idlocal())))
                    .collect();
                // Search terms are lower case and hold no whitespace: other types match none.
                let named: Vec<&str> = trace_types
                    .iter()
                    .filter(|t| **t == t.to_lowercase() && !t.contains(char::is_whitespace))
                    .map(String::as_str)
                    .collect();
                let types =
                    if named.is_empty() { String::new() } else { format!(" {} ", named.join(" ")) };
                (grids, types)
            }
            _ => (Vec::new(), String::new()),
        };
        Self {
            parent: record.parent,
            filename: record.filename.clone(),
            kind: record.kind().as_str().to_owned(),
            deleted: record.deleted,
            world_readable: record.world_readable,
            created: record.created,
            featured: record.featured,
            quality: i64::from(record.quality),
            search_name: record.filename.to_lowercase(),
            plot_types,
            grids,
        }
    }

    /// The values of [`PUT_FILE`] for `owner`'s file `idlocal` with `record`.
    fn put_values(&self, owner: &str, idlocal: u64, record: &str) -> Vec<Param> {
        let mut values = vec![
            Param::Text(owner.to_owned()),
            Param::Integer(idlocal_key(idlocal)),
            Param::Text(record.to_owned()),
            Param::Integer(self.parent),
            Param::Text(self.kind.clone()),
            Param::Bool(self.deleted),
            Param::Bool(self.world_readable),
            Param::Text(self.filename.clone()),
        ];
        values.extend(self.found_values());
        values
    }

    /// The values of the columns the public list and search select on ([`FOUND_COLUMNS`]),
    /// in their order.
    fn found_values(&self) -> [Param; 5] {
        [
            Param::Integer(self.created),
            Param::Bool(self.featured),
            Param::Integer(self.quality),
            Param::Text(self.search_name.clone()),
            Param::Text(self.plot_types.clone()),
        ]
    }

    /// The columns of a stored record (JSON); one that does not read is [`UNREADABLE`].
    pub(crate) fn of_stored(record: &str) -> Self {
        match serde_json::from_str::<crate::record::FileRecord>(record) {
            Ok(record) => Self::of(&record),
            Err(_) => Self {
                parent: -1,
                filename: String::new(),
                kind: UNREADABLE.to_owned(),
                deleted: true,
                world_readable: false,
                created: 0,
                featured: false,
                quality: 0,
                search_name: String::new(),
                plot_types: String::new(),
                grids: Vec::new(),
            },
        }
    }
}

/// What listings read, the same on both engines: indexes that hold every column a listing
/// selects on (so a page reads no record), and how many files each account has per folder,
/// trash, type and sharing (kept by each engine's triggers), so that a listing's count costs
/// the number of its groups, not of its files. Made after the columns are filled.
const LISTING_TABLES: &str = "
    CREATE INDEX files_by_folder ON files (owner, deleted, parent, idlocal, kind, world_readable);
    CREATE INDEX files_in_order ON files (owner, deleted, idlocal, kind, world_readable);
    CREATE TABLE file_counts (
        owner TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
        deleted BOOLEAN NOT NULL,
        parent BIGINT NOT NULL,
        kind TEXT NOT NULL,
        world_readable BOOLEAN NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (owner, deleted, parent, kind, world_readable)
    );
    INSERT INTO file_counts (owner, deleted, parent, kind, world_readable, n)
        SELECT owner, deleted, parent, kind, world_readable, count(*) FROM files
        GROUP BY owner, deleted, parent, kind, world_readable;
";

/// Which of an account's files a listing holds, in idlocal order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The live files directly in a folder (`-1`: home).
    Folder(i64),
    /// Every live file.
    Live,
    /// The files in the trash.
    Trash,
}

/// A listing of one account's files.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Listing<'a> {
    pub owner: &'a str,
    pub scope: Scope,
    /// Only files of this type (its API name).
    pub kind: Option<&'a str>,
    /// Only public files (the reader is not the owner: see [`crate::access::can_read`]).
    pub public_only: bool,
}

impl Listing<'_> {
    /// The condition of the listing's rows (in `files` and in `file_counts`): `$1` the owner,
    /// then the type and the folder when given; and the values those take.
    fn condition(&self) -> (String, Vec<Param>) {
        let mut sql = format!("owner = $1 AND kind <> '{UNREADABLE}'");
        let mut params = vec![Param::Text(self.owner.to_owned())];
        sql.push_str(match self.scope {
            Scope::Trash => " AND deleted = TRUE",
            Scope::Folder(_) | Scope::Live => " AND deleted = FALSE",
        });
        if self.public_only {
            sql.push_str(" AND world_readable = TRUE");
        }
        if let Some(kind) = self.kind {
            params.push(Param::Text(kind.to_owned()));
            sql.push_str(&format!(" AND kind = ${}", params.len()));
        }
        if let Scope::Folder(parent) = self.scope {
            params.push(Param::Integer(parent));
            sql.push_str(&format!(" AND parent = ${}", params.len()));
        }
        (sql, params)
    }

    /// The query that counts the listing's files.
    fn count(&self) -> (String, Vec<Param>) {
        let (condition, params) = self.condition();
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM file_counts WHERE {condition}"
        );
        (sql, params)
    }

    /// The query of `limit` of the listing's files from `offset`.
    fn page(&self, offset: u64, limit: u64) -> (String, Vec<Param>) {
        let (condition, params) = self.condition();
        limited(format!("{SELECT_FILES} WHERE {condition} ORDER BY idlocal"), params, offset, limit)
    }
}

/// The columns of a [`StoredFile`], from `files` and `views`.
const SELECT_FILES: &str = "SELECT owner, idlocal, record, COALESCE(views, 0) FROM files \
     LEFT JOIN views USING (owner, idlocal)";

/// The files a request reads, each an indexed query.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Select<'a> {
    /// One file.
    One(&'a str, u64),
    /// The files of a folder (owner, folder, name) named so, trashed ones too (seeds may hold
    /// several live ones).
    Named(&'a str, i64, &'a str),
    /// The files of a folder (owner, folder), trashed ones too; only its folders when `true`.
    Children(&'a str, i64, bool),
    /// The plots whose figures name the grid (owner, idlocal).
    Referencers(&'a str, u64),
    /// An account's files of one type (its API name), trashed ones too.
    OfKind(&'a str, &'a str),
    /// Every file of an account.
    OfOwner(&'a str),
    /// The files whose records do not read back.
    Unreadable,
}

impl Select<'_> {
    /// The query and its values.
    fn query(&self) -> (String, Vec<Param>) {
        let text = |text: &str| Param::Text(text.to_owned());
        let (condition, params) = match *self {
            Self::One(owner, idlocal) => (
                "owner = $1 AND idlocal = $2".to_owned(),
                vec![text(owner), Param::Integer(idlocal_key(idlocal))],
            ),
            // Trashed ones too (left to the caller): a condition on `deleted` would lead
            // SQLite to `files_by_folder`, which holds the whole folder.
            Self::Named(owner, parent, name) => (
                "owner = $1 AND parent = $2 AND filename = $3".to_owned(),
                vec![text(owner), Param::Integer(parent), text(name)],
            ),
            Self::Children(owner, parent, false) => {
                ("owner = $1 AND parent = $2".to_owned(), vec![text(owner), Param::Integer(parent)])
            }
            Self::Children(owner, parent, true) => (
                "owner = $1 AND parent = $2 AND kind = $3".to_owned(),
                vec![text(owner), Param::Integer(parent), text(FOLDER)],
            ),
            Self::Referencers(owner, idlocal) => (
                "(owner, idlocal) IN \
                 (SELECT owner, idlocal FROM links WHERE grid_owner = $1 AND grid_idlocal = $2)"
                    .to_owned(),
                vec![text(owner), Param::Integer(idlocal_key(idlocal))],
            ),
            Self::OfKind(owner, kind) => {
                ("owner = $1 AND kind = $2".to_owned(), vec![text(owner), text(kind)])
            }
            Self::OfOwner(owner) => ("owner = $1".to_owned(), vec![text(owner)]),
            Self::Unreadable => (format!("kind = '{UNREADABLE}'"), Vec::new()),
        };
        // Unordered: an order would lead SQLite to the index that gives it, over the one that
        // finds the rows.
        (format!("{SELECT_FILES} WHERE {condition}"), params)
    }
}

/// Which plots' figures name which grids (existing or not), kept beside each plot's record.
const LINKS_TABLE: &str = "
    CREATE TABLE links (
        owner TEXT NOT NULL,
        idlocal BIGINT NOT NULL,
        grid_owner TEXT NOT NULL,
        grid_idlocal BIGINT NOT NULL,
        PRIMARY KEY (owner, idlocal, grid_owner, grid_idlocal),
        FOREIGN KEY (owner, idlocal) REFERENCES files(owner, idlocal) ON DELETE CASCADE
    );
";

/// What the lookups read: a folder's files by name, a grid's plots, and the records that do
/// not read back (reported at start). Made after `filename` and `links` are filled.
const LOOKUP_INDEXES: &str = "
    CREATE INDEX files_by_name ON files (owner, parent, filename);
    CREATE INDEX links_to_grid ON links (grid_owner, grid_idlocal);
    CREATE INDEX files_unreadable ON files (owner, idlocal) WHERE kind = 'unreadable';
";

/// What the public list, the feed and search select on (schema v8), filled from each record
/// by [`FILL_FOUND_COLUMNS`]; the indexes of [`FOUND_INDEXES`] are made after.
const FOUND_COLUMNS: &str = "
    ALTER TABLE files ADD COLUMN created BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN featured BOOLEAN NOT NULL DEFAULT FALSE;
    ALTER TABLE files ADD COLUMN quality BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN search_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE files ADD COLUMN plot_types TEXT NOT NULL DEFAULT '';
";

/// Sets a file's [`FOUND_COLUMNS`] (`$1` owner, `$2` idlocal, then [`FileColumns::found_values`]).
const FILL_FOUND_COLUMNS: &str = "UPDATE files SET created = $3, featured = $4, quality = $5, \
     search_name = $6, plot_types = $7 WHERE owner = $1 AND idlocal = $2";

/// The public list's and the feed's plots newest first, whatever the size of the rest; the
/// newest creation time (a start's clock goes on from it); and what a search reads of every
/// findable file (a covering index: a search reads no record but those of its page).
const FOUND_INDEXES: &str = "
    CREATE INDEX public_plots ON files (created)
        WHERE kind = 'plot' AND world_readable = TRUE AND deleted = FALSE;
    CREATE INDEX featured_plots ON files (created)
        WHERE kind = 'plot' AND world_readable = TRUE AND deleted = FALSE AND featured = TRUE;
    CREATE INDEX files_by_created ON files (created);
    CREATE INDEX files_found
        ON files (owner, idlocal, deleted, world_readable, kind, search_name, plot_types);
";

/// Writes an account's row (`$1`... username, key hash, join time, idlocal counter). The
/// counter never goes back: another process may have moved it further meanwhile.
const PUT_ACCOUNT: &str = "INSERT INTO accounts (username, key_hash, date_joined, next_idlocal) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO UPDATE SET key_hash = EXCLUDED.key_hash, \
     next_idlocal = CASE WHEN accounts.next_idlocal > EXCLUDED.next_idlocal \
     THEN accounts.next_idlocal ELSE EXCLUDED.next_idlocal END";

/// Moves an account's idlocal counter (`$1` username) up to `$2`, never back. Only the
/// account's writer, which holds its lock for writes and reads the counter under it, needs
/// the counter: this change is not in the log of changes.
const RAISE_COUNTER: &str = "UPDATE accounts SET next_idlocal = \
     CASE WHEN next_idlocal > $2 THEN next_idlocal ELSE $2 END WHERE username = $1";

/// Adds `$3` views to the count of `$1`'s file `$2`, if the file exists (it may have been
/// deleted since it was viewed).
const ADD_VIEWS: &str = "INSERT INTO views (owner, idlocal, views) \
     SELECT owner, idlocal, CAST($3 AS BIGINT) FROM files WHERE owner = $1 AND idlocal = $2 \
     ON CONFLICT (owner, idlocal) DO UPDATE SET views = views.views + EXCLUDED.views";

/// Writes a file's row (`$1`... [`FileColumns::put_values`]), the same on both engines.
const PUT_FILE: &str = "INSERT INTO files (owner, idlocal, record, parent, kind, deleted, \
     world_readable, filename, created, featured, quality, search_name, plot_types) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (owner, idlocal) DO UPDATE SET record = EXCLUDED.record, \
     parent = EXCLUDED.parent, kind = EXCLUDED.kind, deleted = EXCLUDED.deleted, \
     world_readable = EXCLUDED.world_readable, filename = EXCLUDED.filename, \
     created = EXCLUDED.created, featured = EXCLUDED.featured, quality = EXCLUDED.quality, \
     search_name = EXCLUDED.search_name, plot_types = EXCLUDED.plot_types";

/// The live public plots the public list (or, `featured`, the feed) holds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PublicPlots {
    /// Only featured plots.
    pub featured: bool,
    pub min_quality: Option<u32>,
    pub max_quality: Option<u32>,
}

/// Where a page of [`PublicPlots`] lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    /// Created before the time (at it too, when `true`), newest first.
    Older(i64, bool),
    /// Created after the time (at it too, when `true`), oldest first.
    Newer(i64, bool),
    /// Ordered by views (the most first, when `true`), then newest first: `offset` plots on.
    Views(bool, u64),
}

impl PublicPlots {
    /// The condition of the plots (the one of the partial indexes of [`FOUND_INDEXES`]).
    fn condition(&self) -> (String, Vec<Param>) {
        let mut sql = "kind = 'plot' AND world_readable = TRUE AND deleted = FALSE".to_owned();
        if self.featured {
            sql.push_str(" AND featured = TRUE");
        }
        let mut params = Vec::new();
        for (bound, op) in [(self.min_quality, ">="), (self.max_quality, "<=")] {
            if let Some(quality) = bound {
                params.push(Param::Integer(i64::from(quality)));
                sql.push_str(&format!(" AND quality {op} ${}", params.len()));
            }
        }
        (sql, params)
    }

    /// The query that counts the plots.
    fn count(&self) -> (String, Vec<Param>) {
        counted(self.condition())
    }

    /// The query of the keys of `limit` plots of `window`.
    fn page(&self, window: Window, limit: u64) -> (String, Vec<Param>) {
        let (mut condition, mut params) = self.condition();
        let (from, order, offset) = match window {
            Window::Older(at, inclusive) | Window::Newer(at, inclusive) => {
                let older = matches!(window, Window::Older(..));
                let op = match (older, inclusive) {
                    (true, false) => "<",
                    (true, true) => "<=",
                    (false, false) => ">",
                    (false, true) => ">=",
                };
                params.push(Param::Integer(at));
                condition.push_str(&format!(" AND created {op} ${}", params.len()));
                ("files", if older { "created DESC" } else { "created ASC" }, 0)
            }
            Window::Views(most_first, offset) => (
                "files LEFT JOIN views USING (owner, idlocal)",
                if most_first {
                    "COALESCE(views, 0) DESC, created DESC"
                } else {
                    "COALESCE(views, 0) ASC, created DESC"
                },
                offset,
            ),
        };
        let sql = format!("SELECT owner, idlocal FROM {from} WHERE {condition} ORDER BY {order}");
        limited(sql, params, offset, limit)
    }
}

/// The query that counts the files of `condition` (with its values).
fn counted((condition, params): (String, Vec<Param>)) -> (String, Vec<Param>) {
    (format!("SELECT count(*) FROM files WHERE {condition}"), params)
}

/// `sql` limited to `limit` rows from `offset`.
fn limited(sql: String, mut params: Vec<Param>, offset: u64, limit: u64) -> (String, Vec<Param>) {
    params.push(Param::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    params.push(Param::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
    let sql = format!("{sql} LIMIT ${} OFFSET ${}", params.len() - 1, params.len());
    (sql, params)
}

/// A search: the live files a reader may find (their own and the public ones) whose names
/// hold every word, of every type named and with a trace of every trace type named (all lower
/// case).
#[derive(Debug, Clone, Default)]
pub(crate) struct Search {
    /// The reader (`""`: anyone).
    pub reader: String,
    pub words: Vec<String>,
    pub kinds: Vec<String>,
    pub plot_types: Vec<String>,
}

impl Search {
    /// The condition of the files found.
    fn condition(&self) -> (String, Vec<Param>) {
        let mut sql = "deleted = FALSE AND (world_readable = TRUE OR owner = $1)".to_owned();
        let mut params = vec![Param::Text(self.reader.clone())];
        let mut add = |sql_of: &dyn Fn(usize) -> String, value: String| {
            params.push(Param::Text(value));
            sql.push_str(&sql_of(params.len()));
        };
        for kind in &self.kinds {
            add(&|n| format!(" AND kind = ${n}"), kind.clone());
        }
        for word in &self.words {
            add(
                &|n| format!(" AND search_name LIKE ${n} ESCAPE '\\'"),
                format!("%{}%", like(word)),
            );
        }
        for kind in &self.plot_types {
            add(
                &|n| format!(" AND plot_types LIKE ${n} ESCAPE '\\'"),
                format!("% {} %", like(kind)),
            );
        }
        (sql, params)
    }

    /// The query that counts the files found.
    fn count(&self) -> (String, Vec<Param>) {
        counted(self.condition())
    }

    /// The query of the keys of `limit` files found from `offset`, by owner and idlocal.
    fn page(&self, offset: u64, limit: u64) -> (String, Vec<Param>) {
        let (condition, params) = self.condition();
        limited(
            format!("SELECT owner, idlocal FROM files WHERE {condition} ORDER BY owner, idlocal"),
            params,
            offset,
            limit,
        )
    }
}

/// `text` matched literally by `LIKE ... ESCAPE '\'`.
fn like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A value of a query.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Integer(i64),
    Bool(bool),
}

/// The changes one commit writes, in one transaction.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub accounts: Vec<AccountChange>,
    /// Accounts' idlocal counters, moved on by creates (see [`RAISE_COUNTER`]).
    pub counters: Vec<(String, u64)>,
    pub files: Vec<FileRow>,
    /// New contents (owner, idlocal, JSON) of files in `files`.
    pub contents: Vec<(String, u64, String)>,
    /// Views to add to files' counts (negative: to take away).
    pub views: Vec<(String, u64, i64)>,
    /// Files deleted for good.
    pub removed: Vec<(String, u64)>,
}

/// A file's record (JSON) and view count.
#[derive(Debug)]
pub(crate) struct StoredFile {
    pub owner: String,
    pub idlocal: u64,
    pub record: String,
    pub views: u64,
}

/// An account and its files, as a copy reads them.
#[derive(Debug)]
pub(crate) struct LoadedAccount {
    pub row: AccountRow,
    pub files: Vec<StoredFile>,
}

/// A stored file that does not read back: its fid and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// `owner:idlocal`.
    pub fid: String,
    /// The decoder's message.
    pub reason: String,
}

/// An open database of either engine.
#[derive(Debug)]
pub(crate) enum Db {
    /// SQLite, in a data folder or in memory.
    Sqlite(sqlite::Sqlite),
    /// PostgreSQL.
    Postgres(postgres::Postgres),
}

/// The newest seq of the log of changes read, and each account changed, oldest first.
pub(crate) type Changes = (i64, Vec<String>);

/// What a database holds, to compare two after a copy: counts, and a SHA-256 over every row
/// in order (accounts; each file's record, view count and content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub accounts: u64,
    pub files: u64,
    pub contents: u64,
    /// Hex SHA-256.
    pub checksum: String,
}

/// Why a copy refuses its target.
const NOT_EMPTY: &str = "the target already holds accounts: a copy goes into an empty database";

/// Contents written per transaction by a copy, in bytes (about).
const COPY_BATCH_BYTES: usize = 64 << 20;

/// The file a data folder holds when its server keeps its data in PostgreSQL, so that the
/// folder is never mistaken for an empty SQLite one.
const POSTGRES_MARK: &str = "database-is-postgresql";

impl Db {
    /// The database of a server with data folder `folder` and PostgreSQL connection string
    /// `database` (each optional): PostgreSQL when given (marked in the folder), else the
    /// folder's SQLite, else SQLite in memory. A folder marked for PostgreSQL is refused
    /// without `database`.
    pub(crate) fn at(
        folder: Option<&std::path::Path>,
        database: Option<&DatabaseUrl>,
    ) -> Result<Self> {
        match (folder, database) {
            (Some(dir), Some(url)) => {
                let db = Self::postgres(url)?;
                let mark = dir.join(POSTGRES_MARK);
                if !mark.exists() {
                    std::fs::write(
                        &mark,
                        "this server keeps its data in PostgreSQL (--database)\n",
                    )
                    .with_context(|| format!("could not write {}", mark.display()))?;
                }
                Ok(db)
            }
            (None, Some(url)) => Self::postgres(url),
            (Some(dir), None) if dir.join(POSTGRES_MARK).exists() => bail!(
                "the server of {} keeps its data in PostgreSQL: give its --database (or \
                 CHART_STUDIO_DATABASE)",
                dir.display()
            ),
            (Some(dir), None) => Self::open(dir),
            (None, None) => Self::in_memory(),
        }
    }

    /// The SQLite database of data folder `dir` (see [`sqlite::Sqlite::open`]).
    pub(crate) fn open(dir: &std::path::Path) -> Result<Self> {
        sqlite::Sqlite::open(dir).map(Self::Sqlite)
    }

    /// The PostgreSQL database of connection string `url`, used by this process alone (see
    /// [`postgres::Postgres::connect`]).
    pub(crate) fn postgres(url: &DatabaseUrl) -> Result<Self> {
        postgres::Postgres::connect(url).map(Self::Postgres)
    }

    /// A SQLite database in memory, gone with the process.
    pub(crate) fn in_memory() -> Result<Self> {
        sqlite::Sqlite::in_memory().map(Self::Sqlite)
    }

    /// Another connection to the same database, for long reads (search, the public list by
    /// views) made without the store's lock while it serves other requests; `None` for SQLite
    /// in memory.
    pub(crate) fn reader(&self) -> Result<Option<Self>> {
        Ok(match self {
            Self::Sqlite(db) => db.reader()?.map(Self::Sqlite),
            Self::Postgres(db) => Some(Self::Postgres(db.reader()?)),
        })
    }

    /// The SQLite connection, for tests that break the database on purpose.
    #[cfg(test)]
    pub(crate) fn sqlite_for_tests(&self) -> &rusqlite::Connection {
        match self {
            Self::Sqlite(db) => db.conn_for_tests(),
            Self::Postgres(_) => panic!("not a SQLite database"),
        }
    }

    /// Reads every account and file record.
    pub(crate) fn load(&self) -> Result<Vec<LoadedAccount>> {
        match self {
            Self::Sqlite(db) => db.load(),
            Self::Postgres(db) => db.load(),
        }
    }

    /// The stored content (JSON) of a file, if it has one.
    pub(crate) fn content(&self, owner: &str, idlocal: u64) -> Result<Option<String>> {
        match self {
            Self::Sqlite(db) => db.content(owner, idlocal),
            Self::Postgres(db) => db.content(owner, idlocal),
        }
    }

    /// Writes `batch` in one transaction.
    pub(crate) fn save(&mut self, batch: Batch) -> Result<()> {
        match self {
            Self::Sqlite(db) => db.save(&batch),
            Self::Postgres(db) => db.save(batch),
        }
    }

    /// The log of changes past `seq` (see [`postgres`]): the newest seq and each account
    /// changed. SQLite is used by one process, which made every change itself: nothing.
    pub(crate) fn changes_since(&self, seq: i64) -> Result<Changes> {
        match self {
            Self::Sqlite(_) => Ok((seq, Vec::new())),
            Self::Postgres(db) => db.changes_since(seq),
        }
    }

    /// The newest seq of the log of changes.
    pub(crate) fn newest_change(&self) -> Result<i64> {
        match self {
            Self::Sqlite(_) => Ok(0),
            Self::Postgres(db) => db.newest_change(),
        }
    }

    /// How long the log of changes keeps a row, in microseconds (`None`: there is no log).
    pub(crate) fn log_kept_micros(&self) -> Option<i64> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(_) => Some(postgres::LOG_KEPT_MINUTES * 60 * 1_000_000),
        }
    }

    /// An account's stored fields, if it exists.
    pub(crate) fn account(&self, username: &str) -> Result<Option<AccountRow>> {
        match self {
            Self::Sqlite(db) => db.account(username),
            Self::Postgres(db) => db.account(username),
        }
    }

    /// Every account's stored fields.
    pub(crate) fn accounts(&self) -> Result<Vec<AccountRow>> {
        match self {
            Self::Sqlite(db) => db.accounts(),
            Self::Postgres(db) => db.accounts(),
        }
    }

    /// The files `select` names, by owner and idlocal.
    pub(crate) fn files(&self, select: Select<'_>) -> Result<Vec<StoredFile>> {
        let mut files = self.select_files(select.query())?;
        files.sort_unstable_by(|a, b| (&a.owner, a.idlocal).cmp(&(&b.owner, b.idlocal)));
        Ok(files)
    }

    /// How many files `listing` holds.
    pub(crate) fn count(&self, listing: &Listing<'_>) -> Result<u64> {
        self.select_count(listing.count())
    }

    /// How many plots `plots` holds.
    pub(crate) fn public_count(&self, plots: &PublicPlots) -> Result<u64> {
        self.select_count(plots.count())
    }

    /// The keys (owner, idlocal) of `limit` plots of `plots` in `window`, in its order.
    pub(crate) fn public_page(
        &self,
        plots: &PublicPlots,
        window: Window,
        limit: u64,
    ) -> Result<Vec<(String, u64)>> {
        self.select_keys(plots.page(window, limit))
    }

    /// How many files `search` finds.
    pub(crate) fn found_count(&self, search: &Search) -> Result<u64> {
        self.select_count(search.count())
    }

    /// The keys (owner, idlocal) of `limit` files `search` finds from `offset`, in order.
    pub(crate) fn found_page(
        &self,
        search: &Search,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<(String, u64)>> {
        self.select_keys(search.page(offset, limit))
    }

    /// The newest creation time of a file (0 without files).
    pub(crate) fn newest_creation(&self) -> Result<i64> {
        let sql = "SELECT COALESCE(MAX(created), 0) FROM files".to_owned();
        Ok(self.select_integers((sql, Vec::new()))?.first().copied().unwrap_or(0))
    }

    /// `limit` files of `listing` from `offset`, in idlocal order.
    pub(crate) fn page(
        &self,
        listing: &Listing<'_>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<StoredFile>> {
        self.select_files(listing.page(offset, limit))
    }

    /// How many files `owner` has (trashed ones too), of type `kind` (its API name) when given.
    pub(crate) fn file_count(&self, owner: &str, kind: Option<&str>) -> Result<u64> {
        let mut params = vec![Param::Text(owner.to_owned())];
        let mut sql = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM file_counts \
                       WHERE owner = $1"
            .to_owned();
        if let Some(kind) = kind {
            params.push(Param::Text(kind.to_owned()));
            sql.push_str(" AND kind = $2");
        }
        self.select_count((sql, params))
    }

    /// How many folders `owner` has directly in folder `parent` (trashed ones too).
    pub(crate) fn folder_count(&self, owner: &str, parent: i64) -> Result<u64> {
        let sql = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM file_counts \
                   WHERE owner = $1 AND parent = $2 AND kind = $3";
        let text = |text: &str| Param::Text(text.to_owned());
        self.select_count((sql.to_owned(), vec![text(owner), Param::Integer(parent), text(FOLDER)]))
    }

    /// The key (owner, idlocal) of a file created at `micros`, if one was.
    pub(crate) fn created_at(&self, micros: i64) -> Result<Option<(String, u64)>> {
        let sql = "SELECT owner, idlocal FROM files WHERE created = $1 LIMIT 1".to_owned();
        Ok(self.select_keys((sql, vec![Param::Integer(micros)]))?.into_iter().next())
    }

    /// Whether `owner` has a row numbered `idlocal`, readable or not.
    pub(crate) fn holds(&self, owner: &str, idlocal: u64) -> Result<bool> {
        let sql = "SELECT idlocal FROM files WHERE owner = $1 AND idlocal = $2".to_owned();
        let params = vec![Param::Text(owner.to_owned()), Param::Integer(idlocal_key(idlocal))];
        Ok(!self.select_integers((sql, params))?.is_empty())
    }

    /// The first column, an integer, of each row `sql` answers (`$1`... the `params`).
    fn select_integers(&self, (sql, params): (String, Vec<Param>)) -> Result<Vec<i64>> {
        match self {
            Self::Sqlite(db) => db.select_integers(&sql, params),
            Self::Postgres(db) => db.select_integers(sql, params),
        }
    }

    /// The count `sql` (`$1`... the `params`) answers, as its first row's first column.
    fn select_count(&self, query: (String, Vec<Param>)) -> Result<u64> {
        let values = self.select_integers(query)?;
        Ok(values.first().map_or(0, |&n| u64::try_from(n).unwrap_or(0)))
    }

    /// The keys (owner, idlocal) of the files `sql` (`$1`... the `params`) answers.
    fn select_keys(&self, (sql, params): (String, Vec<Param>)) -> Result<Vec<(String, u64)>> {
        match self {
            Self::Sqlite(db) => db.select_keys(&sql, params),
            Self::Postgres(db) => db.select_keys(sql, params),
        }
    }

    /// The files `sql` (a [`SELECT_FILES`] query, `$1`... the `params`) answers.
    fn select_files(&self, (sql, params): (String, Vec<Param>)) -> Result<Vec<StoredFile>> {
        match self {
            Self::Sqlite(db) => db.select_files(&sql, params),
            Self::Postgres(db) => db.select_files(sql, params),
        }
    }

    /// The lock every change is written under, when other processes may share the database.
    pub(crate) fn write_locker(&self) -> Option<postgres::WriteLocker> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(db) => Some(db.write_locker()),
        }
    }

    /// Makes sure no other process uses the database (a data folder's lock does it for SQLite).
    pub(crate) fn claim(&self) -> Result<()> {
        match self {
            Self::Sqlite(_) => Ok(()),
            Self::Postgres(db) => db.claim(),
        }
    }

    /// Keeps a session under the hash of its token, and forgets those that ended by `now`.
    pub(crate) fn put_session(
        &self,
        token_hash: &str,
        session: &crate::sessions::Session,
        now: i64,
    ) -> Result<()> {
        match self {
            Self::Sqlite(db) => db.put_session(token_hash, session, now),
            Self::Postgres(db) => db.put_session(token_hash, session, now),
        }
    }

    /// The session of a token's hash.
    pub(crate) fn session(&self, token_hash: &str) -> Result<Option<crate::sessions::Session>> {
        match self {
            Self::Sqlite(db) => db.session(token_hash),
            Self::Postgres(db) => db.session(token_hash),
        }
    }

    /// Ends every session of `username`.
    pub(crate) fn end_sessions(&self, username: &str) -> Result<()> {
        match self {
            Self::Sqlite(db) => db.end_sessions(username),
            Self::Postgres(db) => db.end_sessions(username),
        }
    }

    /// Whether a copy into this database started and was not checked (it was killed or
    /// failed): such a database holds part of its source and is not served.
    pub(crate) fn holds_unfinished_copy(&self) -> Result<bool> {
        match self {
            Self::Sqlite(db) => db.holds_unfinished_copy(),
            Self::Postgres(db) => db.holds_unfinished_copy(),
        }
    }

    /// Marks this database as the target of an unfinished copy and empties it, in one
    /// transaction. It must hold no account, or an unfinished copy (which a copy run again
    /// starts over).
    pub(crate) fn start_copy(&mut self) -> Result<()> {
        let now = crate::clock::now_micros();
        match self {
            Self::Sqlite(db) => db.start_copy(now),
            Self::Postgres(db) => db.start_copy(now),
        }
    }

    /// Takes away the mark of [`Db::start_copy`]: the copy is checked.
    fn finish_copy(&mut self) -> Result<()> {
        match self {
            Self::Sqlite(db) => db.finish_copy(),
            Self::Postgres(db) => db.finish_copy(),
        }
    }

    /// Counts and checksums everything stored.
    pub(crate) fn summary(&self) -> Result<Summary> {
        self.walk(|_, _| Ok(()))
    }

    /// Hands every account (with `None`), then each of its files with its content, to `visit`,
    /// in order (accounts by name, files by number), and counts and checksums them.
    fn walk(
        &self,
        mut visit: impl FnMut(&AccountRow, Option<(StoredFile, Option<String>)>) -> Result<()>,
    ) -> Result<Summary> {
        use sha2::Digest;
        let mut hash = sha2::Sha256::new();
        let mut field = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        };
        let mut loaded = self.load()?;
        loaded.sort_by(|a, b| a.row.username.cmp(&b.row.username));
        let (accounts, mut files, mut contents) = (loaded.len() as u64, 0, 0);
        for mut account in loaded {
            let row = &account.row;
            field(row.username.as_bytes());
            field(row.key_hash.as_bytes());
            field(&row.date_joined.to_le_bytes());
            field(&row.next_idlocal.to_le_bytes());
            visit(row, None)?;
            account.files.sort_by_key(|file| file.idlocal);
            for file in account.files {
                files += 1;
                field(&file.idlocal.to_le_bytes());
                field(file.record.as_bytes());
                field(&file.views.to_le_bytes());
                let content = self.content(&row.username, file.idlocal)?;
                contents += u64::from(content.is_some());
                field(content.as_deref().unwrap_or_default().as_bytes());
                visit(row, Some((file, content)))?;
            }
        }
        let checksum = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(Summary { accounts, files, contents, checksum })
    }

    /// Copies everything stored into `target`, which must hold no account (or an unfinished
    /// copy, dropped first), in transactions of about [`COPY_BATCH_BYTES`] of contents, reading
    /// each row once; then checks that the target's summary equals this one's. This database is
    /// only read. The target is marked unfinished from its first write until the check passes,
    /// so a copy killed or failed at any point leaves a target no server starts on, and running
    /// the copy again starts it over.
    ///
    /// `progress` hears, after each transaction, how many files and bytes of contents are
    /// in the target so far.
    pub(crate) fn copy_to(
        &self,
        target: &mut Db,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Summary> {
        target.start_copy()?;
        let mut batch = Batch::default();
        let (mut bytes, mut files, mut copied_bytes) = (0, 0, 0);
        let source = self.walk(|row, file| {
            let Some((file, content)) = file else {
                batch.accounts.push(AccountChange::Put(row.clone()));
                return Ok(());
            };
            let (owner, idlocal) = (&row.username, file.idlocal);
            let columns = FileColumns::of_stored(&file.record);
            batch.files.push(FileRow {
                owner: owner.clone(),
                idlocal,
                record: file.record,
                columns,
                new: true,
            });
            if file.views > 0 {
                let views = i64::try_from(file.views).unwrap_or(i64::MAX);
                batch.views.push((owner.clone(), idlocal, views));
            }
            if let Some(body) = content {
                bytes += body.len();
                batch.contents.push((owner.clone(), idlocal, body));
            }
            files += 1;
            if bytes >= COPY_BATCH_BYTES {
                target.save(std::mem::take(&mut batch))?;
                copied_bytes += bytes as u64;
                bytes = 0;
                progress(files, copied_bytes);
            }
            Ok(())
        })?;
        target.save(batch)?;
        progress(files, copied_bytes + bytes as u64);
        let copied = target.summary()?;
        if copied != source {
            bail!("the copy does not match its source: source {source:?}, copy {copied:?}");
        }
        target.finish_copy()?;
        Ok(copied)
    }
}

/// An idlocal as the databases store it.
fn idlocal_key(idlocal: u64) -> i64 {
    i64::try_from(idlocal).unwrap_or(i64::MAX)
}

/// An idlocal as the databases store it, back.
fn idlocal_of(key: i64) -> u64 {
    u64::try_from(key).unwrap_or(u64::MAX)
}
