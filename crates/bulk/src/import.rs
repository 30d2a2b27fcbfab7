//! Import: re-creating the files of a backup or export folder on a server, in dependency
//! order, each old fid mapped to its new one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chart_studio_api::common::FileUpdate;
use chart_studio_api::{dashboards, files, folders, grids, plots, presentations};
use chart_studio_models::{
    ColumnRef, Fid, File, FileType, GridContent, PlotLink, plots_in, source_refs, traces,
    visit_plots,
};

use crate::backup::{Document, ManifestEntry, latest_entries, read_manifest};
use crate::engine::{Engine, Failure, is_not_found};
use crate::figure::{SaveAt, existing, put_data_in_grid, put_document, put_plot, refill_grid};
use crate::op::{Conflict, ImportResult, ImportedAs, OnConflict, Op, OpKind, Outcome};
use crate::plan::restorable;
use crate::select::file_path;

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

/// The phase of a file's import (or restore): folders by depth (parents first), then grids,
/// then plots, which refer to the grids, then dashboards and presentations, which show the
/// plots.
pub fn import_phase(entry: &ManifestEntry) -> u8 {
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
) -> Result<Vec<Op>, Failure> {
    let manifest = read_manifest(dir).map_err(Failure::Local)?;
    let mut entries: Vec<ManifestEntry> = latest_entries(&manifest)
        .into_values()
        .filter(|entry| only.is_none_or(|only| only.contains(&entry.fid)))
        .collect();
    entries.sort_by_key(import_phase);
    Ok(entries
        .into_iter()
        .zip(0..)
        .map(|(entry, id)| Op {
            id,
            phase: import_phase(&entry),
            fid: entry.fid.clone(),
            filetype: entry.filetype.clone(),
            filename: entry.filename.clone(),
            created: None,
            kind: OpKind::Import { entry, on_conflict },
        })
        .collect())
}

/// Whether `found`, at the path of `doc`'s file, holds the same content (for a dashboard or
/// presentation: the backup's document `mapped` to the imported plots).
async fn same_content(
    engine: &Engine,
    (doc, mapped): (&Document, Option<&serde_json::Value>),
    found: &File,
    importing: &Importing,
) -> Result<bool, Failure> {
    let data = |grid: &GridContent| -> BTreeMap<String, Vec<serde_json::Value>> {
        grid.cols.iter().map(|(name, column)| (name.clone(), column.data.clone())).collect()
    };
    Ok(match found.filetype {
        FileType::Dashboard | FileType::Presentation => {
            let there = document_content(engine, &found.filetype, &found.fid).await?;
            there.is_some_and(|there| {
                serde_json::from_str::<serde_json::Value>(&there).ok().as_ref() == mapped
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
) -> Result<Outcome, Failure> {
    let doc = Document::read(&importing.dir, entry).map_err(Failure::Local)?;
    let full = file_path(&entry.path, &entry.filename);
    let (world_readable, share_key_enabled) = sharing_of(&doc.meta);
    // A grid's create answer names its columns' new uids; a grid found is asked for them.
    let mut new_columns = None;
    let mut missing_plots = Vec::new();
    // A dashboard's or presentation's document, mapped to the imported plots once.
    let mut mapped = None;
    if matches!(entry.filetype, FileType::Dashboard | FileType::Presentation) {
        if doc.content.is_none() {
            return Ok(Outcome::Skipped {
                reason: format!(
                    "the backup holds only this {}'s metadata (it was exported before format version 4)",
                    entry.filetype
                ),
            });
        }
        mapped = Some(mapped_document(engine, &doc, &entry.filetype, importing).await?);
    }
    let (new, result) = match (&entry.filetype, existing(engine, &full, &entry.filetype).await?) {
        (_, Some(found))
            if restorable(&entry.filetype)
                && same_content(
                    engine,
                    (&doc, mapped.as_ref().map(|(content, _)| content)),
                    &found,
                    importing,
                )
                .await? =>
        {
            (found.fid, ImportResult::Unchanged)
        }
        (_, Some(found)) if on_conflict == OnConflict::Skip => {
            return Ok(Outcome::Conflict {
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
            (found.fid, ImportResult::Overwritten)
        }
        (FileType::Folder, None) => {
            let created = engine.send(&folders::Create::new(&full)).await?.file.file;
            let sharing = FileUpdate::default().sharing(world_readable, share_key_enabled);
            engine.send(&files::Update::patch(created.fid.clone(), sharing)).await?;
            (created.fid, ImportResult::Created)
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
            (made.file.fid, ImportResult::Created)
        }
        (FileType::Plot, found) => {
            let figure = plot_figure(engine, &doc, entry, importing).await?;
            let found = found.map(|found| found.fid);
            let at = save_at(entry, found.as_ref(), (world_readable, share_key_enabled));
            (put_plot(engine, at, figure).await?, overwritten_or_created(found.as_ref()))
        }
        (kind @ (FileType::Dashboard | FileType::Presentation), found) => {
            let (content, missing) = mapped.take().unwrap_or_default();
            missing_plots = missing;
            let found = found.map(|found| found.fid);
            let at = save_at(entry, found.as_ref(), (world_readable, share_key_enabled));
            (
                put_document(engine, at, kind, &content).await?,
                overwritten_or_created(found.as_ref()),
            )
        }
        (other, _) => {
            return Ok(Outcome::Skipped { reason: format!("{other} files are not imported") });
        }
    };
    let mut columns = BTreeMap::new();
    if entry.filetype == FileType::Grid {
        let cols = match new_columns {
            Some(cols) => cols,
            None => engine.send(&grids::Retrieve::new(new.clone())).await?.cols.unwrap_or_default(),
        };
        let names: BTreeMap<String, String> = cols.into_iter().map(|c| (c.name, c.uid)).collect();
        for (name, column) in doc.grid.iter().flat_map(|g| g.cols.iter()) {
            if let (Some(old), Some(uid)) = (&column.uid, names.get(name)) {
                columns.insert(old.clone(), uid.clone());
            }
        }
    }
    let imported = ImportedAs { new, result, columns, missing_plots };
    importing.remember(&entry.fid, &imported);
    Ok(Outcome::Done { written: None, already_gone: false, imported: Some(imported) })
}

/// Where `entry` is saved, over the file `found` at its path.
fn save_at<'a>(
    entry: &'a ManifestEntry,
    found: Option<&'a Fid>,
    sharing: (bool, bool),
) -> SaveAt<'a> {
    SaveAt { folder: &entry.path, name: &entry.filename, found, sharing }
}

fn overwritten_or_created(found: Option<&Fid>) -> ImportResult {
    if found.is_some() { ImportResult::Overwritten } else { ImportResult::Created }
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
