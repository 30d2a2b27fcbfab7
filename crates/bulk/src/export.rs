//! The export format (also used for backups before deletes), and import.
//!
//! A folder holds `manifest.jsonl` and one `files/OWNER/IDLOCAL.json` per file: its metadata,
//! its folder path, and its content (a plot's figure with references and with the data inlined,
//! a grid's columns). An export may also hold pictures of its plots, `files/OWNER/IDLOCAL.png`
//! (or `.svg`, ...), each in the manifest with its checksum (format version 3), and a dashboard's
//! or presentation's document (version 4; earlier backups hold only their metadata, and an
//! import says so and leaves them out). The folder is append-only: a document is never replaced (another version
//! of the same file is written beside it as `IDLOCAL.N.json`), and the manifest gains one line,
//! flushed to disk, as each document is verified, so whatever was verified before a kill can
//! be imported. `manifest.json`, the whole-run manifest of earlier versions, is still read.

use std::collections::BTreeMap;
use std::fs::File as FsFile;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chart_studio_api::common::FileUpdate;
use chart_studio_api::documents::DocumentCreate;
use chart_studio_api::images::{self, ImageFormat};
use chart_studio_api::{dashboards, files, folders, grids, plots, presentations};
use chart_studio_models::{
    ColumnRef, Fid, File, FileType, GridContent, PlotLink, plots_in, referenced_grids, source_refs,
    traces, visit_plots,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::{Engine, Failure, is_not_found};
use crate::fid_set::FidSet;
use crate::figure::{existing, put_data_in_grid, refill_grid};
use crate::files::{
    append_line, complete_lines, create_private_dir, end_torn_line, is_cut, private_options,
    write_private,
};
use crate::plan::restorable;
use crate::select::file_path;

/// The manifest's first line, which marks a folder as a backup or export.
const MANIFEST_HEADER: &str = r#"{"format":"chart-studio-backup","version":4}"#;
/// The first lines of versions 2 (without pictures) and 3 (without documents), which read the
/// same.
const OLDER_HEADERS: [&str; 2] = [
    r#"{"format":"chart-studio-backup","version":2}"#,
    r#"{"format":"chart-studio-backup","version":3}"#,
];
const MANIFEST: &str = "manifest.jsonl";
const LEGACY_MANIFEST: &str = "manifest.json";

/// One exported file in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The file's id on the server it came from.
    pub fid: Fid,
    /// Its kind.
    pub filetype: FileType,
    /// Its name.
    pub filename: String,
    /// Its folder's path (`""` for home).
    pub path: String,
    /// The exported document, relative to the folder.
    pub file: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, in hex.
    pub sha256: String,
    /// For a picture of a plot: its format (an import leaves pictures alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageFormat>,
}

/// What a backup or export folder holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The files, each document once, in the order they were written.
    pub files: Vec<ManifestEntry>,
}

/// `manifest.json` of earlier versions.
#[derive(Debug, Deserialize)]
struct LegacyManifest {
    files: Vec<ManifestEntry>,
}

/// One exported file's document.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Document {
    version: u32,
    path: String,
    meta: File,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    figure: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inline_figure: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    grid: Option<GridContent>,
    /// A dashboard's or presentation's document, as the server keeps it (a JSON string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content: Option<String>,
}

/// A manifest entry whose file was read back and matched its checksum.
#[derive(Debug, Clone)]
pub(crate) struct Verified(pub ManifestEntry);

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn local(what: &str, path: &Path, err: impl std::fmt::Display) -> Failure {
    Failure::Local(format!("{what} {}: {err}", path.display()))
}

/// An open backup or export folder that a run adds to.
#[derive(Debug)]
pub struct BackupDir {
    dir: PathBuf,
    manifest: Mutex<FsFile>,
    /// The files this run has a verified backup of.
    verified: Mutex<FidSet>,
    /// The files this run backs up: a plot whose grids are all among them is backed up with
    /// its references only (the grids' backups hold the data).
    companions: FidSet,
}

/// Creates backup folder `dir` with its manifest's header, whole or not at all (a kill never
/// leaves a folder without a manifest): it is made aside, then renamed. A folder that appeared
/// meanwhile is left to [`BackupDir::open`].
fn create_with_manifest(dir: &Path) -> std::io::Result<()> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let aside = dir.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    create_private_dir(&aside)?;
    write_private(&aside.join(MANIFEST), format!("{MANIFEST_HEADER}\n").as_bytes())?;
    if std::fs::rename(&aside, dir).is_err() {
        std::fs::remove_dir_all(&aside)?;
        create_private_dir(dir)?;
    }
    Ok(())
}

impl BackupDir {
    /// Opens `dir` to add to it, creating it (0700) if needed. A folder that holds anything but
    /// is not a backup or export is refused, so nothing of the user's is mixed in or replaced.
    pub fn open(dir: &Path) -> Result<Self, Failure> {
        if !dir.exists() {
            create_with_manifest(dir).map_err(|err| local("could not create", dir, err))?;
        }
        let manifest = dir.join(MANIFEST);
        let is_backup = manifest.exists() || dir.join(LEGACY_MANIFEST).exists();
        let empty = std::fs::read_dir(dir)
            .map_err(|err| local("could not read", dir, err))?
            .next()
            .is_none();
        if !is_backup && !empty {
            return Err(Failure::Local(format!(
                "{} is not a backup or export folder (it has no {MANIFEST}); choose a new or empty folder",
                dir.display()
            )));
        }
        let mut file = private_options()
            .append(true)
            .read(true)
            .create(true)
            .open(&manifest)
            .map_err(|err| local("could not open", &manifest, err))?;
        // Two runs may start on one folder at once: the header is written once.
        file.lock().map_err(|err| local("could not lock", &manifest, err))?;
        let written = if file.metadata().map(|m| m.len() == 0).unwrap_or(false) {
            append_line(&mut file, MANIFEST_HEADER)
        } else {
            Ok(())
        };
        let _ = file.unlock();
        written.map_err(|err| local("could not write", &manifest, err))?;
        Ok(Self {
            dir: dir.to_owned(),
            manifest: Mutex::new(file),
            verified: Mutex::default(),
            companions: FidSet::default(),
        })
    }

    /// The files this run backs up (see [`crate::Op::backs_up`]).
    pub fn with_companions(mut self, fids: impl IntoIterator<Item = Fid>) -> Self {
        self.companions = fids.into_iter().collect();
        self
    }

    /// Records that this run has a verified backup of `fid` (on a resume, from its journal).
    pub fn remember(&self, fid: &Fid) {
        self.verified.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(fid);
    }

    /// Whether this run has a verified backup of `fid`.
    pub fn has_verified(&self, fid: &Fid) -> bool {
        self.verified.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(fid)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Fetches the file `fid` (a `filetype`) and its content, writes its document beside any earlier ones, reads it
    /// back to verify it, and adds it to the manifest.
    pub(crate) async fn write(
        &self,
        engine: &Engine,
        fid: &Fid,
        filetype: &FileType,
        path: &str,
        listed: Option<&File>,
    ) -> Result<Verified, Failure> {
        let meta = match listed {
            Some(meta) => meta.clone(),
            None => engine.send(&files::Retrieve::new(fid.clone())).await?,
        };
        let mut document = Document {
            version: 1,
            path: path.to_owned(),
            meta,
            figure: None,
            inline_figure: None,
            grid: None,
            content: None,
        };
        match filetype {
            FileType::Plot => {
                let figure = engine.send(&plots::Content::new(fid.clone())).await?;
                // The data itself is needed only where a grid is not backed up by this run.
                if !referenced_grids(&figure).iter().all(|grid| self.companions.contains(grid)) {
                    document.inline_figure = Some(
                        engine.send(&plots::Content::new(fid.clone()).inline_data(true)).await?,
                    );
                }
                document.figure = Some(figure);
            }
            FileType::Grid => {
                document.grid = Some(engine.send(&grids::Content::new(fid.clone())).await?);
            }
            FileType::Dashboard => {
                document.content =
                    engine.send(&dashboards::Retrieve::new(fid.clone())).await?.content;
            }
            FileType::Presentation => {
                document.content =
                    engine.send(&presentations::Retrieve::new(fid.clone())).await?.content;
            }
            _ => {}
        }
        let bytes =
            serde_json::to_vec_pretty(&document).map_err(|err| Failure::Local(err.to_string()))?;
        let checksum = sha256_hex(&bytes);
        let relative = self.store(fid, &bytes, &checksum)?;
        let entry = ManifestEntry {
            fid: fid.clone(),
            filetype: filetype.clone(),
            filename: document.meta.filename,
            path: path.to_owned(),
            file: relative,
            bytes: bytes.len() as u64,
            sha256: checksum,
            image: None,
        };
        self.add_to_manifest(&entry)?;
        self.remember(fid);
        Ok(Verified(entry))
    }

    /// Draws the plot `fid` (its figure with its data) as `format` on the server, and writes
    /// the picture beside its document, verified and in the manifest.
    pub(crate) async fn write_image(
        &self,
        engine: &Engine,
        op: &crate::Op,
        path: &str,
        format: ImageFormat,
    ) -> Result<Verified, Failure> {
        let figure = engine.send(&plots::Content::new(op.fid.clone()).inline_data(true)).await?;
        let image = engine.send(&images::Create::new(figure, format)).await?;
        let checksum = sha256_hex(&image.bytes);
        let file = self.store_as(&op.fid, format.name(), &image.bytes, &checksum)?;
        let entry = ManifestEntry {
            fid: op.fid.clone(),
            filetype: op.filetype.clone(),
            filename: op.filename.clone(),
            path: path.to_owned(),
            file,
            bytes: image.bytes.len() as u64,
            sha256: checksum,
            image: Some(format),
        };
        self.add_to_manifest(&entry)?;
        Ok(Verified(entry))
    }

    /// Appends `entry` to the manifest, flushed.
    fn add_to_manifest(&self, entry: &ManifestEntry) -> Result<(), Failure> {
        let line = serde_json::to_string(entry).map_err(|err| Failure::Local(err.to_string()))?;
        let manifest = self.dir.join(MANIFEST);
        let mut file = self.manifest.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        file.lock().map_err(|err| local("could not lock", &manifest, err))?;
        let appended = end_torn_line(&mut file, false).and_then(|()| append_line(&mut file, &line));
        let _ = file.unlock();
        appended.map_err(|err| local("could not write", &manifest, err))
    }

    /// Writes a document under a name no other document has (an identical one is reused),
    /// verifies it, and returns its path relative to the folder.
    fn store(&self, fid: &Fid, bytes: &[u8], checksum: &str) -> Result<String, Failure> {
        let stored = self.store_as(fid, "json", bytes, checksum)?;
        let target = self.dir.join(&stored);
        let written =
            std::fs::read(&target).map_err(|err| local("could not read back", &target, err))?;
        if serde_json::from_slice::<Document>(&written).is_err() {
            return Err(local("the backup did not verify:", &target, "it does not read back"));
        }
        Ok(stored)
    }

    /// Writes `bytes` as `files/OWNER/IDLOCAL.EXTENSION`, or `IDLOCAL.N.EXTENSION` beside other
    /// content of that name (an identical file is reused), reads it back against `checksum`,
    /// and returns its path relative to the folder.
    fn store_as(
        &self,
        fid: &Fid,
        extension: &str,
        bytes: &[u8],
        checksum: &str,
    ) -> Result<String, Failure> {
        let folder = self.dir.join("files").join(fid.owner());
        create_private_dir(&folder).map_err(|err| local("could not create", &folder, err))?;
        let temp = folder.join(format!("{}.{extension}.{}.tmp", fid.idlocal(), std::process::id()));
        write_private(&temp, bytes).map_err(|err| local("could not write", &temp, err))?;
        let stored = (0u32..)
            .map(|n| match n {
                0 => format!("{}.{extension}", fid.idlocal()),
                n => format!("{}.{n}.{extension}", fid.idlocal()),
            })
            .find_map(|name| {
                let target = folder.join(&name);
                match std::fs::hard_link(&temp, &target) {
                    Ok(()) => Some(Ok(name)),
                    Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                        let same = std::fs::read(&target)
                            .is_ok_and(|existing| sha256_hex(&existing) == checksum);
                        same.then_some(Ok(name))
                    }
                    Err(err) => Some(Err(local("could not write", &target, err))),
                }
            })
            .unwrap_or_else(|| Err(Failure::Local("no free document name".to_owned())));
        let _ = std::fs::remove_file(&temp);
        let name = stored?;
        let target = folder.join(&name);
        let written =
            std::fs::read(&target).map_err(|err| local("could not read back", &target, err))?;
        if sha256_hex(&written) != checksum {
            return Err(local(
                "the backup did not verify:",
                &target,
                "its content differs from what was written",
            ));
        }
        Ok(format!("files/{}/{name}", fid.owner()))
    }
}

/// Reads a backup or export folder's manifest and checks every file against its checksum.
pub fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let mut files = Vec::new();
    let legacy = dir.join(LEGACY_MANIFEST);
    if legacy.exists() {
        let text = std::fs::read(&legacy)
            .map_err(|err| format!("could not read {}: {err}", legacy.display()))?;
        let manifest: LegacyManifest = chart_studio_models::from_json_slice(&text)
            .map_err(|err| format!("{}: {err}", legacy.display()))?;
        files.extend(manifest.files);
    }
    let path = dir.join(MANIFEST);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            for (number, line) in complete_lines(&text) {
                if number == 1 {
                    if line != MANIFEST_HEADER && !OLDER_HEADERS.contains(&line) {
                        return Err(format!("{} is not a backup manifest", path.display()));
                    }
                    continue;
                }
                match chart_studio_models::from_json_slice::<ManifestEntry>(line.as_bytes()) {
                    Ok(entry) => files.push(entry),
                    // A line a kill cut short: its file was never confirmed, nor deleted.
                    Err(_) if is_cut(line) => {}
                    Err(err) => return Err(format!("{} line {number}: {err}", path.display())),
                }
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && legacy.exists() => {}
        Err(err) => return Err(format!("could not read {}: {err}", path.display())),
    }
    let mut seen = std::collections::BTreeSet::new();
    files.retain(|entry| seen.insert(entry.file.clone()));
    let bad: Vec<String> = files
        .iter()
        .filter(|entry| {
            std::fs::read(dir.join(&entry.file)).map(|bytes| sha256_hex(&bytes)).ok().as_deref()
                != Some(entry.sha256.as_str())
        })
        .map(|entry| entry.file.clone())
        .collect();
    if !bad.is_empty() {
        return Err(format!(
            "{} file(s) are missing or do not match the manifest's checksums: {}",
            bad.len(),
            bad.join(", ")
        ));
    }
    Ok(Manifest { files })
}

/// What an import does with a file whose path holds other content on the target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// Leave it as it is and report a conflict.
    #[default]
    Skip,
    /// Replace its content (and sharing) with the backup's, keeping its fid.
    Overwrite,
}

/// What importing one file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedAs {
    /// Its fid on the target.
    pub new: Fid,
    /// How it got there.
    pub result: ImportResult,
    /// For a grid: each column's uid in the backup → its uid on the target (plots need them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, String>,
    /// For a dashboard or presentation: the plots it shows that are not in the backup (left
    /// as they were, pointing at their fids on the server they came from).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_plots: Vec<Fid>,
}

/// How an imported file got to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportResult {
    /// Created.
    Created,
    /// Found at its path with the same content, and reused.
    Unchanged,
    /// Found at its path with other content, replaced in place (same fid) by the backup's.
    Overwritten,
}

/// What an import run shares between its operations: the folder it reads, and the new fid (and
/// a grid's new column uids) of each file imported so far, which plots need. A resumed run
/// starts from what its journal says was imported.
#[derive(Debug)]
pub struct Importing {
    dir: PathBuf,
    /// The backup's files this run imports.
    planned: std::collections::BTreeSet<Fid>,
    done: Mutex<ImportMap>,
}

#[derive(Debug, Default)]
struct ImportMap {
    fids: BTreeMap<Fid, Fid>,
    columns: BTreeMap<(Fid, String), String>,
}

impl Importing {
    /// An import of the files `planned` from the backup or export folder `dir`.
    pub fn new(dir: PathBuf, planned: impl IntoIterator<Item = Fid>) -> Self {
        Self { dir, planned: planned.into_iter().collect(), done: Mutex::new(ImportMap::default()) }
    }

    /// The folder imported from.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Remembers that `old` was imported as `imported`.
    pub fn remember(&self, old: &Fid, imported: &ImportedAs) {
        let mut done = self.done.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        done.fids.insert(old.clone(), imported.new.clone());
        for (old_uid, uid) in &imported.columns {
            done.columns.insert((old.clone(), old_uid.clone()), uid.clone());
        }
    }

    /// The new fid of the backup's file `old`, if imported.
    fn fid(&self, old: &Fid) -> Option<Fid> {
        let done = self.done.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        done.fids.get(old).cloned()
    }

    /// The new fid and column uid of column `uid` of the backup's grid `grid`, if imported.
    fn column(&self, grid: &Fid, uid: &str) -> Option<(Fid, String)> {
        let done = self.done.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let new = done.fids.get(grid)?.clone();
        let uid = done.columns.get(&(grid.clone(), uid.to_owned()))?.clone();
        Some((new, uid))
    }
}

/// The phase of a file's import: folders by depth (parents first), then grids, then plots,
/// which refer to the grids, then dashboards and presentations, which show the plots.
fn import_phase(entry: &ManifestEntry) -> u8 {
    match entry.filetype {
        FileType::Folder => u8::try_from(entry.path.split('/').filter(|p| !p.is_empty()).count())
            .unwrap_or(u8::MAX - 4)
            .min(u8::MAX - 4),
        FileType::Grid => u8::MAX - 3,
        FileType::Plot => u8::MAX - 2,
        FileType::Dashboard | FileType::Presentation => u8::MAX - 1,
        _ => u8::MAX,
    }
}

/// The operations that re-create a backup or export folder (only the files `only` names, if
/// given; the latest version of each), in dependency order. The manifest's checksums are
/// checked first.
pub fn import_ops(
    dir: &Path,
    only: Option<&std::collections::BTreeSet<Fid>>,
    on_conflict: OnConflict,
) -> Result<Vec<crate::Op>, Failure> {
    let manifest = read_manifest(dir).map_err(Failure::Local)?;
    let latest: BTreeMap<&Fid, &ManifestEntry> = manifest
        .files
        .iter()
        .filter(|entry| entry.image.is_none())
        .filter(|entry| only.is_none_or(|only| only.contains(&entry.fid)))
        .map(|entry| (&entry.fid, entry))
        .collect();
    let mut entries: Vec<&ManifestEntry> = latest.into_values().collect();
    entries.sort_by_key(|entry| import_phase(entry));
    Ok(entries
        .into_iter()
        .zip(0..)
        .map(|(entry, id)| crate::Op {
            id,
            phase: import_phase(entry),
            fid: entry.fid.clone(),
            filetype: entry.filetype.clone(),
            filename: entry.filename.clone(),
            created: None,
            kind: crate::OpKind::Import { entry: entry.clone(), on_conflict },
        })
        .collect())
}

/// A file of the backup whose path holds different content on the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The file in the backup.
    pub fid: Fid,
    /// The file now at its path.
    pub found: Fid,
    /// Its path.
    pub path: String,
}

/// Whether `found`, at the path of `doc`'s file, holds the same content.
async fn same_content(
    engine: &Engine,
    doc: &Document,
    found: &File,
    importing: &Importing,
) -> Result<bool, Failure> {
    let data = |grid: &GridContent| -> BTreeMap<String, Vec<serde_json::Value>> {
        grid.cols.iter().map(|(name, column)| (name.clone(), column.data.clone())).collect()
    };
    Ok(match found.filetype {
        FileType::Dashboard | FileType::Presentation => {
            let there = document_content(engine, &found.filetype, &found.fid).await?;
            let (mine, _) = mapped_document(engine, doc, &found.filetype, importing).await?;
            there.is_some_and(|there| {
                serde_json::from_str::<serde_json::Value>(&there).ok() == Some(mine)
            })
        }
        FileType::Grid => {
            let there = engine.send(&grids::Content::new(found.fid.clone())).await?;
            doc.grid.as_ref().map(data) == Some(data(&there))
        }
        FileType::Plot => match &doc.inline_figure {
            Some(inline) => {
                let there =
                    engine.send(&plots::Content::new(found.fid.clone()).inline_data(true)).await?;
                *inline == there
            }
            // Backed up with its grids: the same references, once mapped, mean the same data.
            None => match mapped_figure(engine, doc, importing).await? {
                Some(figure) => {
                    engine.send(&plots::Content::new(found.fid.clone())).await? == figure
                }
                None => false,
            },
        },
        _ => true,
    })
}

fn sharing_of(meta: &File) -> (bool, bool) {
    (meta.world_readable.unwrap_or(true), meta.share_key_enabled.unwrap_or(false))
}

/// Imports one file of the backup (`entry`), as `import_ops` planned it. A file already at its
/// path with the same content is reused, so an import can be run again after an interruption;
/// one with other content is handled as `on_conflict` says.
pub(crate) async fn import_one(
    engine: &Engine,
    importing: &Importing,
    entry: &ManifestEntry,
    on_conflict: OnConflict,
) -> Result<crate::Outcome, Failure> {
    let bytes = std::fs::read(importing.dir.join(&entry.file))
        .map_err(|err| local("could not read", &importing.dir.join(&entry.file), err))?;
    if sha256_hex(&bytes) != entry.sha256 {
        return Err(Failure::Local(format!("{} does not match its checksum", entry.file)));
    }
    let doc: Document = serde_json::from_slice(&bytes)
        .map_err(|err| Failure::Local(format!("{}: {err}", entry.file)))?;
    let full = file_path(&entry.path, &entry.filename);
    let (world_readable, share_key_enabled) = sharing_of(&doc.meta);
    // A grid's create answer names its columns' new uids; a grid found is asked for them.
    let mut new_columns = None;
    let mut missing_plots = Vec::new();
    let is_document = matches!(entry.filetype, FileType::Dashboard | FileType::Presentation);
    if is_document && doc.content.is_none() {
        return Ok(crate::Outcome::Skipped {
            reason: format!(
                "the backup holds only this {}'s metadata (it was exported before format version 4)",
                entry.filetype
            ),
        });
    }
    let (new, result) = match (&entry.filetype, existing(engine, &full, &entry.filetype).await?) {
        (_, Some(found))
            if restorable(&entry.filetype)
                && same_content(engine, &doc, &found, importing).await? =>
        {
            (found, ImportResult::Unchanged)
        }
        (_, Some(found)) if on_conflict == OnConflict::Skip => {
            return Ok(crate::Outcome::Conflict {
                conflict: Conflict { fid: entry.fid.clone(), found: found.fid, path: full },
            });
        }
        (FileType::Grid, Some(found)) => {
            let mut cols: Vec<(&String, &chart_studio_models::Column)> =
                doc.grid.iter().flat_map(|g| g.cols.iter()).collect();
            cols.sort_by_key(|(_, column)| column.order);
            let cols: Vec<(String, Vec<serde_json::Value>)> =
                cols.into_iter().map(|(name, c)| (name.clone(), c.data.clone())).collect();
            refill_grid(engine, &found.fid, &cols, (world_readable, share_key_enabled)).await?;
            (found, ImportResult::Overwritten)
        }
        (FileType::Plot, Some(found)) => {
            let figure = plot_figure(engine, &doc, entry, importing).await?;
            let changes =
                FileUpdate::default().figure(figure).sharing(world_readable, share_key_enabled);
            engine.send(&plots::Update::put(found.fid.clone(), changes)).await?;
            (found, ImportResult::Overwritten)
        }
        (FileType::Folder, None) => {
            let created = engine.send(&folders::Create::new(&full)).await?.file.file;
            let sharing = FileUpdate::default().sharing(world_readable, share_key_enabled);
            (
                engine.send(&files::Update::patch(created.fid.clone(), sharing)).await?,
                ImportResult::Created,
            )
        }
        (FileType::Grid, None) => {
            let mut data = doc.grid.clone().unwrap_or_default();
            data.cols.values_mut().for_each(|column| column.uid = None);
            let mut body = grids::GridCreate::new(data)
                .filename(&entry.filename)
                .sharing(world_readable, share_key_enabled);
            if !entry.path.is_empty() {
                body = body.parent_path(&entry.path);
            }
            let made = engine.send(&grids::Create::new(body)).await?.file;
            new_columns = made.cols.filter(|cols| !cols.is_empty());
            (made.file, ImportResult::Created)
        }
        (FileType::Plot, None) => {
            let figure = plot_figure(engine, &doc, entry, importing).await?;
            let mut body = plots::PlotCreate::new(figure)
                .filename(&entry.filename)
                .sharing(world_readable, share_key_enabled);
            if !entry.path.is_empty() {
                body = body.parent_path(&entry.path);
            }
            (engine.send(&plots::Create::new(body)).await?.file.file, ImportResult::Created)
        }
        (kind @ (FileType::Dashboard | FileType::Presentation), found) => {
            let (content, missing) = mapped_document(engine, &doc, kind, importing).await?;
            missing_plots = missing;
            let sharing = FileUpdate::default().sharing(world_readable, share_key_enabled);
            match found {
                Some(found) => {
                    let update = files::Update::put(found.fid.clone(), sharing.content(&content));
                    engine.send(&update).await?;
                    (found, ImportResult::Overwritten)
                }
                None => {
                    let mut body = DocumentCreate::new(&content)
                        .filename(&entry.filename)
                        .sharing(world_readable, share_key_enabled);
                    if !entry.path.is_empty() {
                        body = body.parent_path(&entry.path);
                    }
                    let made = match kind {
                        FileType::Dashboard => {
                            engine.send(&dashboards::Create::new(body)).await?.file.file
                        }
                        _ => engine.send(&presentations::Create::new(body)).await?.file.file,
                    };
                    (made, ImportResult::Created)
                }
            }
        }
        (other, _) => {
            return Ok(crate::Outcome::Skipped {
                reason: format!("{other} files are not imported"),
            });
        }
    };
    let mut columns = BTreeMap::new();
    if entry.filetype == FileType::Grid {
        let cols = match new_columns {
            Some(cols) => cols,
            None => {
                engine.send(&grids::Retrieve::new(new.fid.clone())).await?.cols.unwrap_or_default()
            }
        };
        let names: BTreeMap<String, String> = cols.into_iter().map(|c| (c.name, c.uid)).collect();
        for (name, column) in doc.grid.iter().flat_map(|g| g.cols.iter()) {
            if let (Some(old), Some(uid)) = (&column.uid, names.get(name)) {
                columns.insert(old.clone(), uid.clone());
            }
        }
    }
    let imported = ImportedAs { new: new.fid, result, columns, missing_plots };
    importing.remember(&entry.fid, &imported);
    Ok(crate::Outcome::Done { written: None, already_gone: false, imported: Some(imported) })
}

/// The backup's figure with each column reference mapped to the imported grid's, if every
/// reference resolves: to an imported grid, or to a grid already on the target (a restore).
async fn mapped_figure(
    engine: &Engine,
    doc: &Document,
    importing: &Importing,
) -> Result<Option<serde_json::Value>, Failure> {
    let mut figure = doc.figure.clone().unwrap_or_default();
    let mut mapped = Vec::new();
    let mut present: BTreeMap<Fid, Vec<String>> = BTreeMap::new();
    for (trace_path, trace) in traces(&figure) {
        for attribute in source_refs(trace) {
            let Some(reference) =
                attribute.value.as_str().and_then(|t| t.parse::<ColumnRef>().ok())
            else {
                return Ok(None);
            };
            let at = format!("{trace_path}.{}", attribute.path);
            if let Some((grid, uid)) = importing.column(&reference.grid, &reference.uid) {
                mapped.push((at, format!("{grid}:{uid}")));
                continue;
            }
            if importing.planned.contains(&reference.grid) {
                return Err(Failure::Local(format!(
                    "its grid {} was not imported (see its own failure); a resume imports both",
                    reference.grid
                )));
            }
            // Not part of the import: still fine if the grid is on the target (a restore).
            if !present.contains_key(&reference.grid) {
                let uids = match engine.send(&grids::Retrieve::new(reference.grid.clone())).await {
                    Ok(grid) => grid.cols.unwrap_or_default().into_iter().map(|c| c.uid).collect(),
                    Err(Failure::Request(err)) if is_not_found(&err) => Vec::new(),
                    Err(err) => return Err(err),
                };
                present.insert(reference.grid.clone(), uids);
            }
            if !present[&reference.grid].contains(&reference.uid) {
                return Ok(None);
            }
        }
    }
    for (path, reference) in mapped {
        if let Some(value) = chart_studio_models::value_at_mut(&mut figure, &path) {
            *value = serde_json::Value::String(reference);
        }
    }
    Ok(Some(figure))
}

/// A dashboard's or presentation's document on the target, as a JSON string.
async fn document_content(
    engine: &Engine,
    kind: &FileType,
    fid: &Fid,
) -> Result<Option<String>, Failure> {
    Ok(match kind {
        FileType::Presentation => engine.send(&presentations::Retrieve::new(fid.clone())).await?,
        _ => engine.send(&dashboards::Retrieve::new(fid.clone())).await?,
    }
    .content)
}

/// The backup's document (of kind `kind`) with every plot it shows that was imported mapped to
/// its new fid, and a secret plot's share key to the imported plot's; and the plots it shows
/// that are not in the backup, which are left as they were.
async fn mapped_document(
    engine: &Engine,
    doc: &Document,
    kind: &FileType,
    importing: &Importing,
) -> Result<(serde_json::Value, Vec<Fid>), Failure> {
    let text = doc.content.as_deref().unwrap_or("{}");
    let mut content: serde_json::Value = serde_json::from_str(text)
        .map_err(|err| Failure::Local(format!("its document is not JSON: {err}")))?;
    let mut links: BTreeMap<Fid, PlotLink> = BTreeMap::new();
    let mut missing = Vec::new();
    for link in plots_in(kind, &content) {
        if links.contains_key(&link.fid) || missing.contains(&link.fid) {
            continue;
        }
        let Some(new) = importing.fid(&link.fid) else {
            if importing.planned.contains(&link.fid) {
                return Err(Failure::Local(format!(
                    "its plot {} was not imported (see its own failure); a resume imports both",
                    link.fid
                )));
            }
            missing.push(link.fid);
            continue;
        };
        let share_key = match link.share_key {
            Some(_) => engine
                .send(&files::Retrieve::new(new.clone()))
                .await?
                .share_key()
                .map(str::to_owned),
            None => None,
        };
        links.insert(link.fid, PlotLink { fid: new, share_key });
    }
    visit_plots(kind, &mut content, |link| {
        if let Some(new) = links.get(&link.fid) {
            *link = new.clone();
        }
    });
    Ok((content, missing))
}

/// The figure to create: references mapped to the imported grids, or, when a grid is neither
/// imported nor on the target, the inlined data moved into a new grid.
async fn plot_figure(
    engine: &Engine,
    doc: &Document,
    entry: &ManifestEntry,
    importing: &Importing,
) -> Result<serde_json::Value, Failure> {
    if let Some(figure) = mapped_figure(engine, doc, importing).await? {
        return Ok(figure);
    }
    let Some(mut inline) = doc.inline_figure.clone() else {
        return Err(Failure::Local(format!(
            "{}: its data is in grids that are neither in the backup nor on this server",
            entry.file
        )));
    };
    let grid_name = format!("{}_grid", entry.filename);
    put_data_in_grid(engine, &mut inline, &entry.path, &grid_name, sharing_of(&doc.meta)).await?;
    Ok(inline)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn any_manifest_is_read_or_refused_never_a_panic(
            lines in proptest::collection::vec(".{0,120}", 0..6),
            header in proptest::bool::ANY,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut text = if header { format!("{MANIFEST_HEADER}\n") } else { String::new() };
            for line in lines {
                text.push_str(&line);
                text.push('\n');
            }
            std::fs::write(dir.path().join(MANIFEST), text).unwrap();
            let _ = read_manifest(dir.path());
            let _ = BackupDir::open(dir.path());
        }
    }

    #[test]
    fn a_line_cut_by_a_kill_is_skipped_and_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST);
        std::fs::write(&path, format!("{MANIFEST_HEADER}\n{{\"fid\": \"a:1\", \"filet\n")).unwrap();
        assert_eq!(read_manifest(dir.path()).unwrap().files.len(), 0);
        std::fs::write(&path, format!("{MANIFEST_HEADER}\n{{\"fid\": 3}}\n")).unwrap();
        assert!(read_manifest(dir.path()).unwrap_err().contains("line 2"));
        std::fs::write(&path, "{}\n").unwrap();
        assert!(read_manifest(dir.path()).unwrap_err().contains("not a backup manifest"));
    }
}
