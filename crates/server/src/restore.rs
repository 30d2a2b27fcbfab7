//! `chart-studio-server restore`: puts the files of `bulk export` folders into a server's data
//! at their own fids, so that every old link (page, picture, embed, secret link, dashboard)
//! keeps working: owner, folder, name, sharing, share key, creation and modification times,
//! views and grid column uids (which figures' `fid:uid` references name) are kept.
//!
//! Everything is checked before anything is written: a fid the data already uses for another
//! file, a name taken in a folder, or a file the export cannot re-create is listed, and nothing
//! is restored. A file the data already holds from an earlier restore (same fid, type and
//! creation time) is left as it is, so the same restore run twice changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chart_studio_bulk::{ExportedFile, ManifestEntry, import_phase, latest_entries, read_manifest};
use chart_studio_models::{Fid, FileType, HOME_FOLDER};
use serde_json::Value;

use crate::admin::Data;
use crate::control::try_lock;
use crate::store::{Body, FileRecord, Links, Outline, Store, StoredColumn};

/// The most content bytes written in one transaction: a large restore commits as it goes (a
/// restore stopped halfway is finished by running it again).
const COMMIT_BYTES: u64 = 64 << 20;

/// What a restore did (or, for a dry run, would do).
#[derive(Default)]
pub struct Restored {
    /// The owners the data has no account of: each gets one.
    pub new_accounts: Vec<String>,
    /// Their new keys, shown once (empty for a dry run).
    pub keys: Vec<(String, String)>,
    /// Files put back.
    pub restored: u64,
    /// Files the data already held from an earlier restore, left as they are.
    pub unchanged: u64,
    /// What was restored otherwise than exported (a secret link the export holds no key of
    /// gets a new one), one line per file.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Restored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Restored")
            .field("new_accounts", &self.new_accounts)
            .field("keys", &format_args!("[{} hidden]", self.keys.len()))
            .field("restored", &self.restored)
            .field("unchanged", &self.unchanged)
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// Why nothing was restored: each file that cannot be put back, and why.
#[derive(Debug, thiserror::Error)]
#[error("nothing was restored: {} file(s) cannot be put back:\n{}", .0.len(), .0.join("\n"))]
pub struct Conflicts(pub Vec<String>);

/// One exported file, read and checked, as it will be put back.
struct Planned {
    dir: PathBuf,
    entry: ManifestEntry,
    created: i64,
    modified: i64,
}

/// Restores the files of the export folders `exports` into `data` (later folders win for a
/// fid several hold). No server may run on a data folder; on PostgreSQL the restore holds the
/// lock for writes of every account, and the servers sharing the database see the files at
/// once. With `dry_run`, everything is checked and nothing is written. A [`Conflicts`] error
/// lists what stops the restore.
pub fn restore(data: &Data, exports: &[PathBuf], dry_run: bool) -> Result<Restored> {
    let entries = read_exports(exports)?;
    let _lock = match &data.folder {
        Some(dir) => Some(try_lock(dir)?.with_context(|| {
            format!("a chart-studio-server runs on {}; stop it first", dir.display())
        })?),
        None if data.database.is_none() => bail!("give the data folder or the database"),
        None => None,
    };
    crate::admin::on_store(data, |store| {
        let (planned, mut done) = plan(store, entries)?;
        if !dry_run {
            write(store, &planned, &mut done)?;
        }
        Ok(done)
    })
}

/// The latest entry of each fid of `exports`, each manifest checked against its files.
fn read_exports(exports: &[PathBuf]) -> Result<BTreeMap<Fid, (PathBuf, ManifestEntry)>> {
    let mut entries = BTreeMap::new();
    for dir in exports {
        let manifest = read_manifest(dir).map_err(anyhow::Error::msg)?;
        for (fid, entry) in latest_entries(&manifest) {
            entries.insert(fid, (dir.clone(), entry));
        }
    }
    Ok(entries)
}

/// Reads every exported file and checks it against the data and the other files: what to put
/// back, in order (folders by depth, grids, plots, then documents), and how many are already
/// there. A creation time the export shares, or another file of the data has, moves on by a
/// microsecond, in fid order, so that times stay unique (lists page by them) and a second run
/// finds the same ones.
fn plan(
    store: &Store,
    entries: BTreeMap<Fid, (PathBuf, ManifestEntry)>,
) -> Result<(Vec<Planned>, Restored)> {
    let mut problems = Vec::new();
    let mut planned = Vec::new();
    let mut done = Restored::default();
    let mut times_taken = BTreeSet::new();
    let restored_folders: BTreeSet<Fid> = entries
        .values()
        .filter(|(_, entry)| entry.filetype == FileType::Folder)
        .map(|(_, entry)| entry.fid.clone())
        .collect();
    // Live names per owner and folder, of the files to put back.
    let mut names: BTreeSet<(String, i64, String)> = BTreeSet::new();
    for (fid, (dir, entry)) in entries {
        let file = ExportedFile::read(&dir, &entry).map_err(anyhow::Error::msg)?;
        let owner = fid.owner();
        let mut created = file
            .meta
            .creation_time
            .as_deref()
            .and_then(crate::clock::parse_creation_time)
            .with_context(|| format!("{fid}: the export holds no creation time"))?;
        // Unique among the export's files and the data's others; a file restored before is
        // found at the time it got then.
        let key = (owner.to_owned(), fid.idlocal());
        while times_taken.contains(&created)
            || store.stored_created_at(created)?.is_some_and(|holder| holder != key)
        {
            created += 1;
        }
        times_taken.insert(created);
        let modified = file
            .meta
            .date_modified
            .as_deref()
            .and_then(crate::clock::parse_creation_time)
            .unwrap_or(created);
        let stored = store.file(owner, fid.idlocal())?;
        match stored {
            Some(stored) if stored.kind() == entry.filetype && stored.created == created => {
                done.unchanged += 1;
                continue;
            }
            Some(stored) => {
                problems.push(format!(
                    "{fid}: the data holds another file there ({} {:?}); the export has {} {:?}",
                    stored.kind(),
                    stored.filename,
                    entry.filetype,
                    entry.filename
                ));
                continue;
            }
            None => {}
        }
        if let Err(problem) = body_of(&file) {
            problems.push(format!("{fid}: {problem}"));
            continue;
        }
        let parent = file.meta.parent.unwrap_or(HOME_FOLDER);
        if let Ok(folder) = u64::try_from(parent) {
            let folder = Fid::new(owner, folder).map_err(anyhow::Error::msg)?;
            let in_data = store
                .file(owner, folder.idlocal())?
                .is_some_and(|found| found.kind() == FileType::Folder);
            if !in_data && !restored_folders.contains(&folder) {
                problems.push(format!(
                    "{fid}: its folder {folder} ({:?}) is neither in the export nor in the data",
                    entry.path
                ));
                continue;
            }
        }
        if !file.meta.deleted.unwrap_or(false) {
            let taken = store.account(owner).is_some()
                && store.child_named(owner, parent, &entry.filename)?.is_some();
            if taken || !names.insert((owner.to_owned(), parent, entry.filename.clone())) {
                problems.push(format!(
                    "{fid}: its folder {:?} already holds a file named {:?}",
                    entry.path, entry.filename
                ));
                continue;
            }
        }
        if file.meta.share_key_enabled == Some(true) && share_key(&file).is_none() {
            done.warnings.push(format!(
                "{fid}: the export holds no share key of this secret file: its secret link is new"
            ));
        }
        planned.push(Planned { dir, entry, created, modified });
    }
    if !problems.is_empty() {
        return Err(Conflicts(problems).into());
    }
    planned.sort_by_key(|file| (import_phase(&file.entry), file.entry.fid.clone()));
    done.restored = planned.len() as u64;
    let owners: BTreeSet<&str> = planned.iter().map(|file| file.entry.fid.owner()).collect();
    done.new_accounts = owners
        .into_iter()
        .filter(|owner| store.account(owner).is_none())
        .map(str::to_owned)
        .collect();
    Ok((planned, done))
}

/// Puts back the `planned` files, making the accounts the data lacks; commits as it goes.
fn write(store: &mut Store, planned: &[Planned], done: &mut Restored) -> Result<()> {
    for owner in &done.new_accounts {
        let key = Store::random_key();
        store.add_account(owner, &key).map_err(|err| anyhow::anyhow!("{err}"))?;
        done.keys.push((owner.clone(), key));
    }
    let owners: BTreeSet<&str> = planned.iter().map(|file| file.entry.fid.owner()).collect();
    for owner in owners {
        let last = planned.iter().filter(|file| file.entry.fid.owner() == owner);
        if let Some(last) = last.map(|file| file.entry.fid.idlocal()).max() {
            store.reserve_idlocal(owner, last)?;
        }
    }
    store.commit()?;
    let mut pending = 0;
    for file in planned {
        let exported = ExportedFile::read(&file.dir, &file.entry).map_err(anyhow::Error::msg)?;
        let body = body_of(&exported).map_err(anyhow::Error::msg)?;
        let record = record_of(&exported, file, &body);
        let fid = &file.entry.fid;
        store
            .restore_file(fid.owner(), record, body)
            .with_context(|| format!("could not restore {fid}"))?;
        pending += std::fs::metadata(file.dir.join(&file.entry.file))?.len();
        if pending >= COMMIT_BYTES {
            store.commit()?;
            pending = 0;
        }
    }
    store.commit()
}

/// The share key `file` was exported with, if any.
fn share_key(file: &ExportedFile) -> Option<String> {
    file.meta.share_key.clone().flatten().filter(|key| !key.is_empty())
}

/// The record of the exported `file`, as planned.
fn record_of(file: &ExportedFile, planned: &Planned, body: &Body) -> FileRecord {
    let meta = &file.meta;
    let share_key_enabled = meta.share_key_enabled.unwrap_or(false);
    FileRecord {
        idlocal: planned.entry.fid.idlocal(),
        filename: planned.entry.filename.clone(),
        parent: meta.parent.unwrap_or(HOME_FOLDER),
        // A file whose export does not say is kept private.
        world_readable: meta.world_readable.unwrap_or(false),
        share_key_enabled,
        share_key: share_key(file).or_else(|| share_key_enabled.then(Store::random_key)),
        deleted: meta.deleted.unwrap_or(false),
        created: planned.created,
        modified: planned.modified,
        views: meta.views.unwrap_or(0),
        quality: 0,
        featured: false,
        metadata: meta.extra.get("metadata").cloned(),
        outline: Outline::of(body),
        references: Links::default(),
        referencers: Links::default(),
    }
}

/// The content the exported `file` holds, as the server keeps it.
fn body_of(file: &ExportedFile) -> Result<Body, String> {
    let kind = &file.entry.filetype;
    match kind {
        FileType::Folder => Ok(Body::Folder),
        FileType::Plot => match &file.figure {
            Some(figure) => Ok(Body::plot(figure.clone())),
            None => Err("the export holds no figure of this plot".to_owned()),
        },
        FileType::Grid => {
            let grid = file.grid.as_ref().ok_or("the export holds no columns of this grid")?;
            let mut columns: Vec<_> = grid.cols.iter().collect();
            columns.sort_by_key(|(name, column)| (column.order, name.as_str()));
            let mut uids = BTreeSet::new();
            columns
                .into_iter()
                .map(|(name, column)| match &column.uid {
                    Some(uid) if uids.insert(uid.clone()) => Ok(StoredColumn {
                        name: name.clone(),
                        uid: uid.clone(),
                        data: column.data.clone(),
                    }),
                    _ => Err(format!("column {name:?} has no uid of its own")),
                })
                .collect::<Result<_, _>>()
                .map(Body::grid)
        }
        FileType::Dashboard | FileType::Presentation => {
            let content = file.content.as_deref().ok_or_else(|| {
                format!("the export holds no document of this {kind} (it was exported before format version 4)")
            })?;
            serde_json::from_str::<Value>(content)
                .map_err(|err| format!("its document is not JSON: {err}"))?;
            Body::document(kind, content).ok_or_else(|| format!("a {kind} has no document"))
        }
        other => Err(format!("a {other} cannot be restored")),
    }
}
