//! Saving files at a path, for `plots create`, `dashboards create` and imports alike: the one
//! way a figure's raw data goes into a grid and its traces come to refer to it, and the one rule
//! that updates the file already at a path in place or creates one.

use chart_studio_api::common::FileUpdate;
use chart_studio_api::documents::DocumentCreate;
use chart_studio_api::{dashboards, files, grids, plots, presentations};
use chart_studio_models::{
    ColumnInfo, Fid, File, FileType, GridContent, data_columns, use_reference,
};
use serde_json::Value;

use crate::engine::{Engine, Failure, is_not_found};

/// The file at `path` (the caller's), if it is a `kind`; a file of another kind there is an
/// error naming it.
pub async fn existing(
    engine: &Engine,
    path: &str,
    kind: &FileType,
) -> Result<Option<File>, Failure> {
    match engine.send(&files::Lookup::new(path)).await {
        Ok(file) if &file.filetype == kind => Ok(Some(file)),
        Ok(file) => Err(Failure::Local(format!(
            "{path} is a {} ({}), not a {kind}; choose another name or delete it first",
            file.filetype, file.fid
        ))),
        Err(Failure::Request(err)) if is_not_found(&err) => Ok(None),
        Err(err) => Err(err),
    }
}

/// A grid that holds a figure's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataGrid {
    /// The grid.
    pub fid: Fid,
    /// Whether it was made now (rather than the grid already at its path, refilled).
    pub created: bool,
}

/// Moves every raw data array of `figure` into the grid `name` in the folder `parent` (`""`:
/// home) and points the traces at its columns. The grid already at that path keeps its fid and
/// gets the new columns; otherwise a grid is created. Both get `sharing` (`world_readable`,
/// `share_key_enabled`). `None` when the figure holds no raw data.
pub async fn put_data_in_grid(
    engine: &Engine,
    figure: &mut Value,
    parent: &str,
    name: &str,
    (world_readable, share_key_enabled): (bool, bool),
) -> Result<Option<DataGrid>, Failure> {
    let columns = data_columns(figure);
    if columns.is_empty() {
        return Ok(None);
    }
    let path = crate::select::file_path(parent, name);
    let (fid, cols, created) = match existing(engine, &path, &FileType::Grid).await? {
        Some(grid) => {
            let cols =
                refill_grid(engine, &grid.fid, &columns, (world_readable, share_key_enabled))
                    .await?;
            (grid.fid, cols, false)
        }
        None => {
            let data = GridContent::from_columns(columns.iter().cloned());
            let mut body = grids::GridCreate::new(data)
                .filename(name)
                .sharing(world_readable, share_key_enabled);
            if !parent.is_empty() {
                body = body.parent_path(parent);
            }
            let made = engine.send(&grids::Create::new(body)).await?.file;
            (made.file.fid, made.cols.unwrap_or_default(), true)
        }
    };
    for (path, _) in &columns {
        let uid = uid_of(&cols, path).ok_or_else(|| {
            Failure::Local(format!("the server did not return column {path} of grid {fid}"))
        })?;
        use_reference(figure, path, &format!("{fid}:{uid}"));
    }
    Ok(Some(DataGrid { fid, created }))
}

/// Replaces the columns of grid `fid` with `columns` (name, values), keeping its fid, and sets
/// its sharing. Returns the new columns with their uids.
pub(crate) async fn refill_grid(
    engine: &Engine,
    fid: &Fid,
    columns: &[(String, Vec<Value>)],
    (world_readable, share_key_enabled): (bool, bool),
) -> Result<Vec<ColumnInfo>, Failure> {
    let old: Vec<String> = engine
        .send(&grids::Retrieve::new(fid.clone()))
        .await?
        .cols
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.uid)
        .collect();
    if !old.is_empty() {
        engine.send(&grids::ColumnsDelete { fid: fid.clone(), uids: old }).await?;
    }
    let new = columns
        .iter()
        .map(|(name, data)| grids::NewColumn { name: name.clone(), data: data.clone() })
        .collect();
    let added = engine.send(&grids::ColumnsAppend { fid: fid.clone(), columns: new }).await?;
    let sharing = FileUpdate::default().sharing(world_readable, share_key_enabled);
    engine.send(&files::Update::patch(fid.clone(), sharing)).await?;
    Ok(added.cols)
}

fn uid_of<'a>(cols: &'a [ColumnInfo], name: &str) -> Option<&'a str> {
    cols.iter().find(|c| c.name == name).map(|c| c.uid.as_str())
}

/// Where a file is saved: its folder (`""`: home, missing folders are made), its name, the file
/// already at that path (updated in place, keeping its fid and links) if any, and its sharing
/// (`world_readable`, `share_key_enabled`).
#[derive(Debug, Clone, Copy)]
pub struct SaveAt<'a> {
    /// The folder's path.
    pub folder: &'a str,
    /// The file name.
    pub name: &'a str,
    /// The file of the same kind already at that path.
    pub found: Option<&'a Fid>,
    /// `world_readable` and `share_key_enabled`.
    pub sharing: (bool, bool),
}

/// The one rule for saving a plot at a path, for `plots create` and imports alike: the plot
/// already there gets the figure (same fid and link), otherwise one is created. Returns its fid.
pub async fn put_plot(engine: &Engine, at: SaveAt<'_>, figure: Value) -> Result<Fid, Failure> {
    let (world_readable, share_key_enabled) = at.sharing;
    if let Some(fid) = at.found {
        let changes =
            FileUpdate::default().figure(figure).sharing(world_readable, share_key_enabled);
        return Ok(engine.send(&plots::Update::put(fid.clone(), changes)).await?.file.fid);
    }
    let mut body =
        plots::PlotCreate::new(figure).filename(at.name).sharing(world_readable, share_key_enabled);
    if !at.folder.is_empty() {
        body = body.parent_path(at.folder);
    }
    Ok(engine.send(&plots::Create::new(body)).await?.file.file.fid)
}

/// The same rule for a dashboard or presentation (`kind`) and its document.
pub async fn put_document(
    engine: &Engine,
    at: SaveAt<'_>,
    kind: &FileType,
    content: &Value,
) -> Result<Fid, Failure> {
    let (world_readable, share_key_enabled) = at.sharing;
    if let Some(fid) = at.found {
        let changes =
            FileUpdate::default().content(content).sharing(world_readable, share_key_enabled);
        return Ok(engine.send(&files::Update::put(fid.clone(), changes)).await?.fid);
    }
    let mut body =
        DocumentCreate::new(content).filename(at.name).sharing(world_readable, share_key_enabled);
    if !at.folder.is_empty() {
        body = body.parent_path(at.folder);
    }
    let made = match kind {
        FileType::Presentation => engine.send(&presentations::Create::new(body)).await?,
        _ => engine.send(&dashboards::Create::new(body)).await?,
    };
    Ok(made.file.file.fid)
}
