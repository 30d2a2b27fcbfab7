//! The export format, also used for backups before deletes.
//!
//! A folder holds `manifest.jsonl` and one `files/OWNER/IDLOCAL.json` per file: its metadata,
//! its folder path, and its content (a plot's figure with references and with the data inlined,
//! a grid's columns). An export may also hold pictures of its plots, `files/OWNER/IDLOCAL.png`
//! (or `.svg`, ...), each in the manifest with its checksum (format version 3), and a dashboard's
//! or presentation's document (version 4; earlier backups hold only their metadata, and an
//! import says so and leaves them out). The folder is append-only: a document is never
//! replaced (another version of the same file is written beside it as `IDLOCAL.N.json`), and
//! the manifest gains one line, flushed to disk, as each document is verified, so whatever was
//! verified before a kill can be imported (`import.rs`). `manifest.json`, the whole-run
//! manifest of earlier versions, is still read.

use std::collections::BTreeMap;
use std::fs::File as FsFile;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chart_studio_api::images::{self, ImageFormat};
use chart_studio_api::{dashboards, files, grids, plots, presentations};
use chart_studio_models::{Fid, File, FileType, GridContent, referenced_grids};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::{Engine, Failure};
use crate::fid_set::FidSet;
use crate::files::{
    append_line, complete_lines, create_private_dir, end_torn_line, is_cut, private_options,
    write_private,
};

/// The manifest's first line, which marks a folder as a backup or export, and warns that it
/// holds the share keys of secret files.
const MANIFEST_HEADER: &str = r#"{"format":"chart-studio-backup","version":5,"secrets":"the share keys of secret files: keep this folder private"}"#;
/// The first lines of versions 2 (without pictures), 3 (without documents) and 4 (share keys
/// only where a listing showed them), which read the same.
const OLDER_HEADERS: [&str; 3] = [
    r#"{"format":"chart-studio-backup","version":2}"#,
    r#"{"format":"chart-studio-backup","version":3}"#,
    r#"{"format":"chart-studio-backup","version":4}"#,
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
pub(crate) struct Document {
    pub(crate) version: u32,
    pub(crate) path: String,
    pub(crate) meta: File,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) figure: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) inline_figure: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) grid: Option<GridContent>,
    /// A dashboard's or presentation's document, as the server keeps it (a JSON string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) content: Option<String>,
}

impl Document {
    /// Reads the document of `entry` in folder `dir`, which must match its checksum.
    pub(crate) fn read(dir: &Path, entry: &ManifestEntry) -> Result<Self, String> {
        let path = dir.join(&entry.file);
        let bytes = std::fs::read(&path)
            .map_err(|err| format!("could not read {}: {err}", path.display()))?;
        if sha256_hex(&bytes) != entry.sha256 {
            return Err(format!("{} does not match its checksum", entry.file));
        }
        serde_json::from_slice(&bytes).map_err(|err| format!("{}: {err}", entry.file))
    }
}

/// One file of a backup or export folder as it was exported, read back and checked against
/// its checksum: what `chart-studio-server restore` puts back at the same fid.
#[derive(Debug, Clone)]
pub struct ExportedFile {
    /// Its manifest entry (fid, type, name, folder path).
    pub entry: ManifestEntry,
    /// Its metadata as the server showed it to its owner (sharing, share key, times, views).
    pub meta: File,
    /// A plot's figure, referring to its grids' columns.
    pub figure: Option<serde_json::Value>,
    /// A grid's columns, with their uids.
    pub grid: Option<GridContent>,
    /// A dashboard's or presentation's document (a JSON string).
    pub content: Option<String>,
}

impl ExportedFile {
    /// Reads the document of `entry` in folder `dir`.
    pub fn read(dir: &Path, entry: &ManifestEntry) -> Result<Self, String> {
        let document = Document::read(dir, entry)?;
        Ok(Self {
            entry: entry.clone(),
            meta: document.meta,
            figure: document.figure,
            grid: document.grid,
            content: document.content,
        })
    }
}

/// The entry of the latest version of each file of `manifest`, pictures left out, by fid.
pub fn latest_entries(manifest: &Manifest) -> BTreeMap<Fid, ManifestEntry> {
    manifest
        .files
        .iter()
        .filter(|entry| entry.image.is_none())
        .map(|entry| (entry.fid.clone(), entry.clone()))
        .collect()
}

/// A manifest entry whose file was read back and matched its checksum.
#[derive(Debug, Clone)]
pub(crate) struct Verified(pub ManifestEntry);

/// Whether `meta` has its secret link turned on but does not show its key.
fn lacks_share_key(meta: &File) -> bool {
    meta.share_key_enabled == Some(true)
        && !matches!(&meta.share_key, Some(Some(key)) if !key.is_empty())
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn local(what: &str, path: &Path, err: impl std::fmt::Display) -> Failure {
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

    /// The files this run backs up (see `Op::backs_up`).
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
        // A listing may leave a secret file's share key out: the file itself shows it.
        let meta = match listed {
            Some(meta) if !lacks_share_key(meta) => meta.clone(),
            _ => engine.send(&files::Retrieve::new(fid.clone())).await?,
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
        plot: &File,
        path: &str,
        format: ImageFormat,
    ) -> Result<Verified, Failure> {
        let figure = engine.send(&plots::Content::new(plot.fid.clone()).inline_data(true)).await?;
        let image = engine.send(&images::Create::new(figure, format)).await?;
        let checksum = sha256_hex(&image.bytes);
        let file = self.store_as(&plot.fid, format.name(), &image.bytes, &checksum)?;
        let entry = ManifestEntry {
            fid: plot.fid.clone(),
            filetype: plot.filetype.clone(),
            filename: plot.filename.clone(),
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
