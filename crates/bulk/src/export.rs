//! The export format (also used for backups before deletes), and import.
//!
//! A directory holds `manifest.json` and one `files/OWNER/IDLOCAL.json` per file: its metadata,
//! its folder path, and its content (a plot's figure with references and with the data inlined,
//! a grid's columns). The manifest lists every file with its size and SHA-256.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chart_studio_api::common::FileUpdate;
use chart_studio_api::{Error, files, folders, grids, plots};
use chart_studio_models::{
    ColumnRef, Fid, File, FileType, GridContent, data_columns, source_refs, traces, use_reference,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::{Engine, Failure};
use crate::ops::Op;

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
    /// The exported document, relative to the directory.
    pub file: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, in hex.
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version, 1.
    pub version: u32,
    /// The API the files came from.
    pub api: String,
    /// Their owner.
    pub user: String,
    /// The files, folders first.
    pub files: Vec<ManifestEntry>,
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

/// Fetches `op`'s file and content, writes its document under `dir`, and reads it back to
/// verify it.
pub(crate) async fn write_entry(
    engine: &Engine,
    dir: &Path,
    op: &Op,
    path: &str,
    listed: Option<&File>,
) -> Result<Verified, Failure> {
    let meta = match listed {
        Some(meta) => meta.clone(),
        None => engine.send(&files::Retrieve::new(op.fid.clone())).await?,
    };
    let mut document = Document {
        version: 1,
        path: path.to_owned(),
        meta,
        figure: None,
        inline_figure: None,
        grid: None,
    };
    match op.filetype {
        FileType::Plot => {
            document.figure = Some(engine.send(&plots::Content::new(op.fid.clone())).await?);
            document.inline_figure =
                Some(engine.send(&plots::Content::new(op.fid.clone()).inline_data(true)).await?);
        }
        FileType::Grid => {
            document.grid = Some(engine.send(&grids::Content::new(op.fid.clone())).await?);
        }
        _ => {}
    }
    let bytes =
        serde_json::to_vec_pretty(&document).map_err(|err| Failure::Local(err.to_string()))?;
    let relative = format!("files/{}/{}.json", op.fid.owner(), op.fid.idlocal());
    let target = dir.join(&relative);
    write_synced(&target, &bytes)?;
    let written =
        std::fs::read(&target).map_err(|err| local("could not read back", &target, err))?;
    let checksum = sha256_hex(&bytes);
    if sha256_hex(&written) != checksum || serde_json::from_slice::<Document>(&written).is_err() {
        return Err(local(
            "the backup did not verify:",
            &target,
            "its content differs from what was written",
        ));
    }
    Ok(Verified(ManifestEntry {
        fid: op.fid.clone(),
        filetype: op.filetype.clone(),
        filename: document.meta.filename,
        path: path.to_owned(),
        file: relative,
        bytes: bytes.len() as u64,
        sha256: checksum,
    }))
}

/// Writes a file atomically and flushes it to disk.
fn write_synced(target: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let parent = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|err| local("could not create", parent, err))?;
    let temp = target.with_extension("json.tmp");
    let mut file =
        std::fs::File::create(&temp).map_err(|err| local("could not write", &temp, err))?;
    std::io::Write::write_all(&mut file, bytes)
        .map_err(|err| local("could not write", &temp, err))?;
    file.sync_all().map_err(|err| local("could not flush", &temp, err))?;
    std::fs::rename(&temp, target).map_err(|err| local("could not replace", target, err))
}

/// Writes `manifest.json` (folders first, then by fid).
pub fn write_manifest(
    dir: &Path,
    api: &str,
    user: &str,
    mut entries: Vec<ManifestEntry>,
) -> Result<PathBuf, Failure> {
    entries.sort_by(|a, b| {
        ((a.filetype != FileType::Folder), &a.fid).cmp(&((b.filetype != FileType::Folder), &b.fid))
    });
    entries.dedup_by(|a, b| a.fid == b.fid);
    let manifest =
        Manifest { version: 1, api: api.to_owned(), user: user.to_owned(), files: entries };
    let bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|err| Failure::Local(err.to_string()))?;
    let path = dir.join("manifest.json");
    write_synced(&path, &bytes)?;
    Ok(path)
}

/// Reads `manifest.json` and checks every file against its checksum.
pub fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let path = dir.join("manifest.json");
    let text =
        std::fs::read(&path).map_err(|err| format!("could not read {}: {err}", path.display()))?;
    let manifest: Manifest = chart_studio_models::from_json_slice(&text)
        .map_err(|err| format!("{}: {err}", path.display()))?;
    let bad: Vec<String> = manifest
        .files
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
    Ok(manifest)
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Imported {
    /// Old fid → new fid, for every file now on the target server.
    pub fids: BTreeMap<Fid, Fid>,
    /// Files that already existed at their path and were reused.
    pub reused: Vec<Fid>,
    /// Files left out, and why.
    pub skipped: Vec<(Fid, String)>,
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() { name.to_owned() } else { format!("{parent}/{name}") }
}

/// The file at `path` on the target, if it is a `kind`.
async fn existing(engine: &Engine, path: &str, kind: &FileType) -> Result<Option<File>, Failure> {
    match engine.send(&files::Lookup::new(path)).await {
        Ok(file) if &file.filetype == kind => Ok(Some(file)),
        Ok(file) => Err(Failure::Local(format!(
            "{path} exists on the target as a {}, not a {kind}",
            file.filetype
        ))),
        Err(Failure::Request(err)) if err.status() == Some(http::StatusCode::NOT_FOUND) => Ok(None),
        Err(err) => Err(err),
    }
}

fn sharing_of(meta: &File) -> (bool, bool) {
    (meta.world_readable.unwrap_or(true), meta.share_key_enabled.unwrap_or(false))
}

/// Re-creates an exported directory: folders, then grids, then plots with references mapped to
/// the new grids, each with its sharing. A file already at its path is reused, so an import can
/// be run again after an interruption.
pub async fn import(engine: &Engine, dir: &Path) -> Result<Imported, Failure> {
    let manifest = read_manifest(dir).map_err(Failure::Local)?;
    let mut imported = Imported::default();
    let mut columns: BTreeMap<(Fid, String), String> = BTreeMap::new();
    let mut docs = Vec::new();
    for entry in &manifest.files {
        let bytes = std::fs::read(dir.join(&entry.file))
            .map_err(|err| local("could not read", &dir.join(&entry.file), err))?;
        let doc: Document = serde_json::from_slice(&bytes)
            .map_err(|err| Failure::Local(format!("{}: {err}", entry.file)))?;
        docs.push((entry, doc));
    }
    docs.sort_by_key(|(entry, _)| match entry.filetype {
        FileType::Folder => (0, entry.path.matches('/').count()),
        FileType::Grid => (1, 0),
        FileType::Plot => (2, 0),
        _ => (3, 0),
    });
    for (entry, doc) in docs {
        let full = join(&entry.path, &entry.filename);
        let (world_readable, share_key_enabled) = sharing_of(&doc.meta);
        let new = match (&entry.filetype, existing(engine, &full, &entry.filetype).await?) {
            (FileType::Folder | FileType::Grid | FileType::Plot, Some(found)) => {
                imported.reused.push(entry.fid.clone());
                found
            }
            (FileType::Folder, None) => {
                let created = engine.send(&folders::Create::new(&full)).await?.file.file;
                let sharing = FileUpdate::default().sharing(world_readable, share_key_enabled);
                engine.send(&files::Update::patch(created.fid.clone(), sharing)).await?
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
                engine.send(&grids::Create::new(body)).await?.file.file
            }
            (FileType::Plot, None) => {
                let figure = plot_figure(engine, &doc, entry, &imported, &columns).await?;
                let mut body = plots::PlotCreate::new(figure)
                    .filename(&entry.filename)
                    .sharing(world_readable, share_key_enabled);
                if !entry.path.is_empty() {
                    body = body.parent_path(&entry.path);
                }
                engine.send(&plots::Create::new(body)).await?.file.file
            }
            (other, _) => {
                imported
                    .skipped
                    .push((entry.fid.clone(), format!("{other} files are not imported")));
                continue;
            }
        };
        if entry.filetype == FileType::Grid {
            let names: BTreeMap<String, String> = engine
                .send(&grids::Retrieve::new(new.fid.clone()))
                .await?
                .cols
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c.name, c.uid))
                .collect();
            for (name, column) in doc.grid.iter().flat_map(|g| g.cols.iter()) {
                if let (Some(old), Some(uid)) = (&column.uid, names.get(name)) {
                    columns.insert((entry.fid.clone(), old.clone()), uid.clone());
                }
            }
        }
        imported.fids.insert(entry.fid.clone(), new.fid);
    }
    Ok(imported)
}

/// The figure to create: references mapped to the imported grids, or, when a grid is not part
/// of the export, the inlined data moved into a new grid.
async fn plot_figure(
    engine: &Engine,
    doc: &Document,
    entry: &ManifestEntry,
    imported: &Imported,
    columns: &BTreeMap<(Fid, String), String>,
) -> Result<serde_json::Value, Failure> {
    let mut figure = doc.figure.clone().unwrap_or_default();
    let mut complete = true;
    let mut mapped = Vec::new();
    let mut present: BTreeMap<Fid, Vec<String>> = BTreeMap::new();
    for (trace_path, trace) in traces(&figure) {
        for attribute in source_refs(trace) {
            let Some(reference) =
                attribute.value.as_str().and_then(|t| t.parse::<ColumnRef>().ok())
            else {
                complete = false;
                continue;
            };
            let at = format!("{trace_path}.{}", attribute.path);
            let imported_column = imported
                .fids
                .get(&reference.grid)
                .zip(columns.get(&(reference.grid.clone(), reference.uid.clone())));
            if let Some((grid, uid)) = imported_column {
                mapped.push((at, format!("{grid}:{uid}")));
                continue;
            }
            // Not part of the export: still fine if the grid is on the target (a restore).
            if !present.contains_key(&reference.grid) {
                let uids = match engine.send(&grids::Retrieve::new(reference.grid.clone())).await {
                    Ok(grid) => grid.cols.unwrap_or_default().into_iter().map(|c| c.uid).collect(),
                    Err(Failure::Request(err))
                        if err.status() == Some(http::StatusCode::NOT_FOUND) =>
                    {
                        Vec::new()
                    }
                    Err(err) => return Err(err),
                };
                present.insert(reference.grid.clone(), uids);
            }
            if !present[&reference.grid].contains(&reference.uid) {
                complete = false;
            }
        }
    }
    if complete {
        for (path, reference) in mapped {
            if let Some(value) = chart_studio_models::value_at_mut(&mut figure, &path) {
                *value = serde_json::Value::String(reference);
            }
        }
        return Ok(figure);
    }
    let mut inline = doc.inline_figure.clone().unwrap_or_default();
    let data = data_columns(&inline);
    if data.is_empty() {
        return Ok(inline);
    }
    let (world_readable, share_key_enabled) = sharing_of(&doc.meta);
    let grid_name = format!("{}_grid", entry.filename);
    let content = GridContent::from_columns(data.iter().cloned());
    let mut body = grids::GridCreate::new(content)
        .filename(&grid_name)
        .sharing(world_readable, share_key_enabled);
    if !entry.path.is_empty() {
        body = body.parent_path(&entry.path);
    }
    let grid = match existing(engine, &join(&entry.path, &grid_name), &FileType::Grid).await? {
        Some(found) => engine.send(&grids::Retrieve::new(found.fid)).await?,
        None => engine.send(&grids::Create::new(body)).await?.file,
    };
    let cols = grid.cols.unwrap_or_default();
    for (path, _) in &data {
        let uid =
            cols.iter().find(|c| &c.name == path).map(|c| c.uid.clone()).ok_or_else(|| {
                Failure::Request(Error::Build(chart_studio_api::BuildError::Body(format!(
                    "grid {} has no column {path}",
                    grid.file.fid
                ))))
            })?;
        use_reference(&mut inline, path, &format!("{}:{uid}", grid.file.fid));
    }
    Ok(inline)
}
