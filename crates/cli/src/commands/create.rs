//! `plots create FIGURE.json`: raw data goes into a grid, the traces refer to it, and the plot is
//! created, or updated in place when one already exists at that path (its URL stays the same).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use chart_studio_api::common::FileUpdate;
use chart_studio_api::{Client, Error, files, folders, grids, plots};
use chart_studio_models::{
    ColumnRef, Fid, FileType, GridContent, data_columns, source_refs, traces, use_reference,
};
use chart_studio_sharing::{Layer, Sharing, resolve};
use serde_json::Value;

use super::share::verify;
use super::username;
use crate::cli::SharingArg;
use crate::output::Output;
use crate::settings::Settings;

/// What `plots create` was asked to do.
pub(super) struct CreateArgs<'a> {
    pub figure: &'a Path,
    pub filename: Option<String>,
    pub sharing: Option<SharingArg>,
    pub open: bool,
}

pub(super) async fn run(args: CreateArgs<'_>, settings: &Settings, out: &Output) -> Result<()> {
    username(settings)?;
    let client = settings.client()?;
    let mut figure = read_figure(args.figure)?;
    let mut layers = settings.sharing_layers();
    if let Some(flag) = args.sharing {
        let mode = Sharing::from(flag);
        layers.push(Layer {
            sharing: Some((mode.to_string(), "flag --sharing".to_owned())),
            world_readable: None,
        });
    }
    let mode = resolve(&layers)?.sharing;
    let (parent, name) = split_path(args.filename.as_deref(), args.figure)?;
    let full_path = join(&parent, &name);

    let columns = data_columns(&figure);
    check_references(&client, &figure).await?;
    let existing = existing(&client, &full_path, FileType::Plot).await?;
    if !parent.is_empty() {
        ensure_folder(&client, &parent).await?;
    }
    let (world_readable, share_key_enabled) = mode.fields();
    let mut created_grid = None;
    let mut grid_fid = None;
    if !columns.is_empty() {
        let grid_name = format!("{name}_grid");
        let (fid, uids, created) =
            upload_grid(&client, &parent, &grid_name, &columns, mode).await?;
        for ((path, _), uid) in columns.iter().zip(&uids) {
            use_reference(&mut figure, path, &format!("{fid}:{uid}"));
        }
        created_grid = created.then(|| fid.clone());
        grid_fid = Some(fid);
    }
    let sent = match &existing {
        Some(fid) => {
            let changes =
                FileUpdate::default().figure(figure).sharing(world_readable, share_key_enabled);
            client.send(&plots::Update::put(fid.clone(), changes)).await.map(|plot| plot.file.fid)
        }
        None => {
            let mut body = plots::PlotCreate::new(figure)
                .filename(&name)
                .sharing(world_readable, share_key_enabled);
            if !parent.is_empty() {
                body = body.parent_path(&parent);
            }
            client.send(&plots::Create::new(body)).await.map(|created| created.file.file.fid)
        }
    };
    let fid = match sent {
        Ok(fid) => fid,
        Err(err) => return Err(undo_grid(&client, created_grid, err).await),
    };
    let applied = verify(&client, &fid, mode).await;
    if !applied.reached {
        bail!(
            "{fid} was saved, but the server shows it as {} instead of {mode}; run `chart-studio share {fid} {mode}`",
            applied.observed
        );
    }
    if out.json {
        out.json(&serde_json::json!({
            "fid": fid, "url": applied.url, "sharing": mode, "grid": grid_fid, "updated": existing.is_some(),
        }))?;
    } else {
        out.line(&applied.url)?;
    }
    if args.open
        && let Err(err) = webbrowser::open(&applied.url)
    {
        writeln!(std::io::stderr().lock(), "warning: could not open a browser: {err}")?;
    }
    Ok(())
}

/// Reads and checks the figure file (`-` is stdin).
fn read_figure(path: &Path) -> Result<Value> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("could not read the figure from stdin")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read {}", path.display()))?;
    }
    let figure: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    if !figure.get("data").is_some_and(Value::is_array) {
        bail!(
            "{} has no `data` list of traces; a figure looks like {{\"data\": [...], \"layout\": {{...}}}}",
            path.display()
        );
    }
    Ok(figure)
}

/// `reports/2024/sales` into (`reports/2024`, `sales`); the figure file's name by default.
fn split_path(filename: Option<&str>, figure: &Path) -> Result<(String, String)> {
    let default = figure
        .file_stem()
        .and_then(|stem| stem.to_str())
        .filter(|stem| *stem != "-")
        .unwrap_or("untitled");
    let path = filename.unwrap_or(default).trim_matches('/');
    let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
    if name.is_empty() {
        bail!("--filename {path:?} names no file");
    }
    Ok((parent.to_owned(), name.to_owned()))
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() { name.to_owned() } else { format!("{parent}/{name}") }
}

/// Every `*src` must name an existing column: checked before anything is created.
async fn check_references(client: &Client, figure: &Value) -> Result<()> {
    let mut wanted: BTreeMap<Fid, Vec<(String, String)>> = BTreeMap::new();
    for (trace_path, trace) in traces(figure) {
        for attribute in source_refs(trace) {
            let at = format!("{trace_path}.{}", attribute.path);
            let text = attribute
                .value
                .as_str()
                .with_context(|| format!("{at} must be a column reference string"))?;
            let reference: ColumnRef =
                text.parse().with_context(|| format!("{at} is not a column reference"))?;
            wanted.entry(reference.grid).or_default().push((at, reference.uid));
        }
    }
    for (grid, uses) in wanted {
        let columns = match client.send(&grids::Retrieve::new(grid.clone())).await {
            Ok(found) => found.cols.unwrap_or_default(),
            Err(Error::Api(err)) if err.status == http::StatusCode::NOT_FOUND => Vec::new(),
            Err(err) => return Err(err.into()),
        };
        if let Some((at, uid)) = uses.iter().find(|(_, uid)| !columns.iter().any(|c| &c.uid == uid))
        {
            bail!(
                "{at} refers to column {uid} of grid {grid}, which does not exist or which you cannot read; nothing was created"
            );
        }
    }
    Ok(())
}

/// The file at `path`, if any: its fid when it is a `kind`, an error when it is something else.
async fn existing(client: &Client, path: &str, kind: FileType) -> Result<Option<Fid>> {
    match client.send(&files::Lookup::new(path)).await {
        Ok(file) if file.filetype == kind => Ok(Some(file.fid)),
        Ok(file) => bail!(
            "{path} is a {} ({}), not a {kind}; choose another --filename or delete it first",
            file.filetype,
            file.fid
        ),
        Err(Error::Api(err)) if err.status == http::StatusCode::NOT_FOUND => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Creates the folders of `path`; folders that exist already are fine.
async fn ensure_folder(client: &Client, path: &str) -> Result<()> {
    match client.send(&folders::Create::new(path)).await {
        Ok(_) => Ok(()),
        Err(Error::Api(err)) if err.message().contains("already exists") => Ok(()),
        Err(err) => {
            Err(anyhow::Error::new(err).context(format!("could not create the folder {path}")))
        }
    }
}

/// Uploads the columns: into the grid at `name` when there is one (same fid), else a new grid.
/// Returns the grid, the uids in column order, and whether it was created.
async fn upload_grid(
    client: &Client,
    parent: &str,
    name: &str,
    columns: &[(String, Vec<Value>)],
    mode: Sharing,
) -> Result<(Fid, Vec<String>, bool)> {
    let (world_readable, share_key_enabled) = mode.fields();
    let uid_of = |cols: &[chart_studio_models::ColumnInfo], name: &str| {
        cols.iter()
            .find(|c| c.name == name)
            .map(|c| c.uid.clone())
            .with_context(|| format!("the server did not return column {name}"))
    };
    if let Some(grid) = existing(client, &join(parent, name), FileType::Grid).await? {
        let old: Vec<String> = client
            .send(&grids::Retrieve::new(grid.clone()))
            .await?
            .cols
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.uid)
            .collect();
        if !old.is_empty() {
            client.send(&grids::ColumnsDelete { fid: grid.clone(), uids: old }).await?;
        }
        let new = columns
            .iter()
            .map(|(name, data)| grids::NewColumn { name: name.clone(), data: data.clone() })
            .collect();
        let added = client.send(&grids::ColumnsAppend { fid: grid.clone(), columns: new }).await?;
        let uids =
            columns.iter().map(|(name, _)| uid_of(&added.cols, name)).collect::<Result<_>>()?;
        client
            .send(&files::Update::patch(
                grid.clone(),
                FileUpdate::default().sharing(world_readable, share_key_enabled),
            ))
            .await?;
        return Ok((grid, uids, false));
    }
    let data = GridContent::from_columns(columns.iter().cloned());
    let mut body =
        grids::GridCreate::new(data).filename(name).sharing(world_readable, share_key_enabled);
    if !parent.is_empty() {
        body = body.parent_path(parent);
    }
    let created = client
        .send(&grids::Create::new(body))
        .await
        .context("could not upload the figure's data as a grid")?;
    let cols = created.file.cols.unwrap_or_default();
    let uids = columns.iter().map(|(name, _)| uid_of(&cols, name)).collect::<Result<_>>()?;
    Ok((created.file.file.fid, uids, true))
}

/// The plot failed: remove the grid made for it, or say that it is left over.
async fn undo_grid(client: &Client, grid: Option<Fid>, err: Error) -> anyhow::Error {
    let failed = anyhow::Error::new(err).context("could not save the plot");
    let Some(grid) = grid else { return failed };
    match client.send(&grids::Destroy { fid: grid.clone() }).await {
        Ok(()) => failed.context(format!("the grid {grid} uploaded for it was removed again")),
        Err(cleanup) => failed.context(format!("the grid {grid} uploaded for it is left over and could not be removed ({cleanup}); delete it with `chart-studio files delete {grid}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_columns() {
        assert_eq!(
            split_path(Some("a/b/c"), Path::new("x.json")).unwrap(),
            ("a/b".to_owned(), "c".to_owned())
        );
        assert_eq!(
            split_path(None, Path::new("dir/fig.json")).unwrap(),
            (String::new(), "fig".to_owned())
        );
        assert!(
            split_path(Some("a/"), Path::new("x.json")).is_ok(),
            "trailing slashes are trimmed"
        );
    }
}
