//! Plots from figures: raw data goes into a grid (`NAME_grid`, beside the plot), the traces refer
//! to it, and the plot is created, or updated in place when one is already at that path (its fid
//! and URL stay the same). Everything is checked before anything is created, and a grid uploaded
//! for a plot that could not be saved is removed again. Dashboards and presentations are saved
//! the same way, created or updated in place at their path.

use std::collections::BTreeMap;

use chart_studio_api::{Sleeper, files, folders, grids};
use chart_studio_bulk::{
    Engine, Failure, SaveAt, check_new_path, existing, file_path, is_not_found, put_data_in_grid,
    put_document, put_plot,
};
use chart_studio_models::{ColumnRef, Fid, FileType, check_traces, source_refs, traces};
use chart_studio_sharing::Sharing;
use serde::Serialize;
use serde_json::Value;

use crate::Error;
use crate::share::{Applied, verify};

/// A plot to save.
#[derive(Debug, Clone)]
pub struct NewPlot {
    /// The figure: `data` and `layout`, with raw data, references, or both.
    pub figure: Value,
    /// Its folder's path (`""`: home); missing folders are created.
    pub folder: String,
    /// Its name.
    pub name: String,
    /// Its sharing (and its grid's).
    pub mode: Sharing,
    /// What to do when a plot is already at that path.
    pub if_exists: IfExists,
}

/// What [`save_plot`] does when a file is already at the plot's path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IfExists {
    /// Update the plot there in place: same fid, same link (what the Python client's `py.plot`
    /// does).
    #[default]
    Update,
    /// Refuse, changing nothing.
    Fail,
    /// Save under the first free name `NAME (1)`, `NAME (2)`, ...
    New,
}

/// A saved plot.
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    /// The plot.
    pub fid: Fid,
    /// Its path (`folder/name`), with the name it was saved under.
    pub path: String,
    /// Whether a plot at that path was updated in place (rather than created).
    pub updated: bool,
    /// The grid holding the figure's raw data, if it had any.
    pub grid: Option<Fid>,
    /// The mode asked for.
    pub sharing: Sharing,
    /// The plot read back: its mode on the server and its link.
    pub read_back: Applied,
}

/// Saves `plot`, then reads it back (waiting on `clock`).
pub async fn save_plot(
    engine: &Engine,
    clock: &dyn Sleeper,
    plot: NewPlot,
) -> Result<Saved, Error> {
    let NewPlot { mut figure, folder, mut name, mode, if_exists } = plot;
    check_traces(&figure)?;
    check_new_path(&file_path(&folder, &name))
        .map_err(|err| Error::Refused(format!("{err}; nothing was sent")))?;
    check_references(engine, &figure).await?;
    let mut at_path = match if_exists {
        IfExists::Update => existing(engine, &file_path(&folder, &name), &FileType::Plot).await?,
        IfExists::Fail | IfExists::New => taken(engine, &file_path(&folder, &name)).await?,
    };
    match (&at_path, if_exists) {
        (Some(file), IfExists::Fail) => {
            return Err(Error::Refused(format!(
                "{} already holds {} ({}); nothing was changed",
                file_path(&folder, &name),
                file.fid,
                file.filetype
            )));
        }
        (Some(_), IfExists::New) => {
            name = free_name(engine, &folder, &name).await?;
            at_path = None;
        }
        _ => {}
    }
    if !folder.is_empty() {
        self::folder(engine, &folder).await?;
    }
    let sharing = mode.fields();
    let grid = put_data_in_grid(engine, &mut figure, &folder, &format!("{name}_grid"), sharing)
        .await
        .map_err(|err| context("could not upload the figure's data as a grid", err.into()))?;
    let found = at_path.as_ref().map(|file| &file.fid);
    let at = SaveAt { folder: &folder, name: &name, found, sharing };
    let sent = put_plot(engine, at, figure).await;
    let fid = match sent {
        Ok(fid) => fid,
        Err(err) => {
            let made = grid.as_ref().filter(|grid| grid.created).map(|grid| grid.fid.clone());
            return Err(remove_grid(engine, made, err.into()).await);
        }
    };
    let read_back = verify(engine.client(), clock, &fid, mode).await;
    Ok(Saved {
        fid,
        path: file_path(&folder, &name),
        updated: at_path.is_some(),
        grid: grid.map(|grid| grid.fid),
        sharing: mode,
        read_back,
    })
}

/// A dashboard or presentation to save.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// [`FileType::Dashboard`] or [`FileType::Presentation`].
    pub kind: FileType,
    /// The document: a JSON object.
    pub content: Value,
    /// The folder (`""`: home).
    pub folder: String,
    /// The file name.
    pub name: String,
    /// Who can see it.
    pub mode: Sharing,
}

/// Saves `document` at its path, then reads it back (waiting on `clock`): a dashboard (or
/// presentation) already there is updated in place, keeping its fid and links, as the Python
/// client's `upload` does; another kind of file there is refused.
pub async fn save_document(
    engine: &Engine,
    clock: &dyn Sleeper,
    document: NewDocument,
) -> Result<Saved, Error> {
    let NewDocument { kind, content, folder, name, mode } = document;
    if !content.is_object() {
        return Err(Error::Refused(format!("a {kind} must be a JSON object; nothing was sent")));
    }
    let path = file_path(&folder, &name);
    check_new_path(&path).map_err(|err| Error::Refused(format!("{err}; nothing was sent")))?;
    let found = existing(engine, &path, &kind).await?;
    let at = SaveAt {
        folder: &folder,
        name: &name,
        found: found.as_ref().map(|file| &file.fid),
        sharing: mode.fields(),
    };
    let sent = put_document(engine, at, &kind, &content).await;
    let fid = sent.map_err(|err| context(&format!("could not save the {kind}"), err.into()))?;
    let read_back = verify(engine.client(), clock, &fid, mode).await;
    Ok(Saved { fid, path, updated: found.is_some(), grid: None, sharing: mode, read_back })
}

/// The file at `path`, of any type, if there is one.
async fn taken(engine: &Engine, path: &str) -> Result<Option<chart_studio_models::File>, Error> {
    match engine.send(&files::Lookup::new(path)).await {
        Ok(file) => Ok(Some(file)),
        Err(Failure::Request(err)) if is_not_found(&err) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// The most numbered names [`free_name`] tries.
const MAX_NUMBERED_NAMES: u32 = 1000;

/// The first of `NAME (1)`, `NAME (2)`, ... that no file in `folder` has.
async fn free_name(engine: &Engine, folder: &str, name: &str) -> Result<String, Error> {
    for n in 1..=MAX_NUMBERED_NAMES {
        let candidate = format!("{name} ({n})");
        if taken(engine, &file_path(folder, &candidate)).await?.is_none() {
            return Ok(candidate);
        }
    }
    Err(Error::Refused(format!(
        "{name} (1) to {name} ({MAX_NUMBERED_NAMES}) are all taken in {folder:?}; choose another name"
    )))
}

fn context(context: &str, source: Error) -> Error {
    Error::Context { context: context.to_owned(), source: Box::new(source) }
}

/// Every `*src` must name an existing column the caller can read: checked before anything is
/// created.
async fn check_references(engine: &Engine, figure: &Value) -> Result<(), Error> {
    let mut wanted: BTreeMap<Fid, Vec<(String, String)>> = BTreeMap::new();
    for (trace_path, trace) in traces(figure) {
        for attribute in source_refs(trace) {
            let at = format!("{trace_path}.{}", attribute.path);
            let reference = attribute
                .value
                .as_str()
                .and_then(|text| text.parse::<ColumnRef>().ok())
                .ok_or_else(|| Error::Refused(format!("{at} is not a column reference")))?;
            wanted.entry(reference.grid).or_default().push((at, reference.uid));
        }
    }
    for (grid, uses) in wanted {
        let columns = match engine.send(&grids::Retrieve::new(grid.clone())).await {
            Ok(found) => found.cols.unwrap_or_default(),
            Err(Failure::Request(err)) if err.status() == Some(http::StatusCode::NOT_FOUND) => {
                Vec::new()
            }
            Err(err) => return Err(err.into()),
        };
        if let Some((at, uid)) = uses.iter().find(|(_, uid)| !columns.iter().any(|c| &c.uid == uid))
        {
            return Err(Error::Refused(format!(
                "{at} refers to column {uid} of grid {grid}, which does not exist or which you cannot read; nothing was created"
            )));
        }
    }
    Ok(())
}

/// A folder at a path: made by [`folder`], or found there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Folder {
    /// The folder.
    pub fid: Fid,
    /// Whether it was made now (rather than found).
    pub created: bool,
}

/// The folder at `path`, made with any missing folders above it, or the one already there
/// (as `mkdir -p` does); another kind of file at that path is refused.
pub async fn folder(engine: &Engine, path: &str) -> Result<Folder, Error> {
    let failed = |err: Failure| context(&format!("could not create the folder {path}"), err.into());
    let exists = match engine.send(&folders::Create::new(path)).await {
        Ok(created) => return Ok(Folder { fid: created.file.file.fid, created: true }),
        Err(Failure::Request(err))
            if err.as_api().is_some_and(|api| api.message().contains("already exists")) =>
        {
            Failure::Request(err)
        }
        Err(err) => return Err(failed(err)),
    };
    match taken(engine, path).await? {
        Some(file) if file.filetype == FileType::Folder => {
            Ok(Folder { fid: file.fid, created: false })
        }
        Some(file) => Err(Error::Refused(format!(
            "{path} is a {} ({}), not a folder; nothing was changed",
            file.filetype, file.fid
        ))),
        None => Err(failed(exists)),
    }
}

/// The plot could not be saved: removes the grid made for it, or says that it is left over.
async fn remove_grid(engine: &Engine, grid: Option<Fid>, err: Error) -> Error {
    let failed = context("could not save the plot", err);
    let Some(grid) = grid else { return failed };
    let note = match engine.send(&grids::Destroy { fid: grid.clone() }).await {
        Ok(()) => format!("the grid {grid} uploaded for it was removed again"),
        Err(cleanup) => format!(
            "the grid {grid} uploaded for it is left over and could not be removed ({cleanup}); delete it with `chart-studio files delete {grid}`"
        ),
    };
    context(&note, failed)
}
