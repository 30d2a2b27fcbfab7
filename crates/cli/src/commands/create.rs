//! `plots create FIGURE.json`: reads the figure and the sharing, saves the plot through the
//! workflow (raw data into a grid; created, updated in place, or saved under a free name), and
//! prints what it did with the plot's link.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chart_studio_bulk::{Engine, EngineConfig, TokioClock};
use chart_studio_models::Fid;
use chart_studio_sharing::{Layer, Sharing, resolve};
use chart_studio_workflows::create::{IfExists, NewPlot, Saved, save_plot};
use serde::Serialize;
use serde_json::Value;

use super::username;
use crate::cli::{IfExistsArg, SharingArg};
use crate::output::{Human, Output, Render, cell};
use crate::settings::Settings;

/// What `plots create` was asked to do.
pub(super) struct CreateArgs<'a> {
    pub figure: &'a Path,
    pub filename: Option<String>,
    pub sharing: Option<SharingArg>,
    pub if_exists: IfExistsArg,
    pub open: bool,
}

/// `plots create`, `dashboards create`, `presentations create`: the file saved.
#[derive(Debug, Serialize)]
pub(crate) struct FileSaved {
    /// The file.
    pub fid: Fid,
    /// `created`, or `updated` (a file at that path was updated in place: same fid and link).
    pub action: &'static str,
    /// Its path, normalised, with the name it was saved under.
    pub path: String,
    /// Its link (the secret link of a secret file).
    pub url: String,
    /// Its sharing.
    pub sharing: Sharing,
    /// The grid that holds a figure's raw data, if it had any.
    pub grid: Option<Fid>,
}

impl Render for FileSaved {
    const FIELDS: &'static [&'static str] = &["fid", "action", "path", "url", "sharing", "grid"];

    fn human(&self) -> Human {
        let verb = if self.action == "updated" { "Updated" } else { "Created" };
        Human::Sentence {
            text: format!("{verb} {} {} ({}): {}", self.sharing, self.path, self.fid, self.url),
            row: vec![
                self.fid.to_string(),
                self.action.to_owned(),
                self.path.clone(),
                self.url.clone(),
                self.sharing.to_string(),
                cell(self.grid.as_ref()),
            ],
        }
    }
}

pub(super) async fn run(args: CreateArgs<'_>, settings: &Settings, out: &Output) -> Result<()> {
    let printer = out.of::<FileSaved>()?;
    username(settings)?;
    let client = settings.client()?;
    let figure = read_figure(args.figure)?;
    let mode = sharing_mode(settings, args.sharing)?;
    let (folder, name) = split_path(args.filename.as_deref(), args.figure)?;
    let if_exists = match args.if_exists {
        IfExistsArg::Update => IfExists::Update,
        IfExistsArg::Fail => IfExists::Fail,
        IfExistsArg::New => IfExists::New,
    };
    let clock = Arc::new(TokioClock::default());
    let engine =
        Engine::new(client, clock.clone(), EngineConfig { jobs: 1, ..EngineConfig::default() });
    let plot = NewPlot { figure, folder, name, mode, if_exists };
    let saved = save_plot(&engine, clock.as_ref(), plot).await?;
    let saved = FileSaved::of(saved)?;
    printer.print(&saved)?;
    if args.open {
        open(&saved.url)?;
    }
    Ok(())
}

/// The sharing new files get: `--sharing`, else the settings'.
pub(super) fn sharing_mode(settings: &Settings, flag: Option<SharingArg>) -> Result<Sharing> {
    let mut layers = settings.sharing_layers();
    if let Some(flag) = flag {
        let mode = Sharing::from(flag);
        layers.push(Layer {
            sharing: Some((mode.to_string(), "flag --sharing".to_owned())),
            world_readable: None,
        });
    }
    Ok(resolve(&layers)?.sharing)
}

impl FileSaved {
    /// What the workflow saved, unless the server shows it with another sharing than asked.
    pub(super) fn of(saved: Saved) -> Result<Self> {
        let (fid, mode) = (&saved.fid, saved.sharing);
        if !saved.read_back.reached {
            bail!(
                "{fid} was saved, but the server shows it as {} instead of {mode}; run `chart-studio share {mode} {fid}`",
                saved.read_back.observed
            );
        }
        Ok(Self {
            fid: saved.fid,
            action: if saved.updated { "updated" } else { "created" },
            path: saved.path,
            url: saved.read_back.url,
            sharing: mode,
            grid: saved.grid,
        })
    }
}

/// Opens `url` in the browser; a failure is a warning.
pub(super) fn open(url: &str) -> Result<()> {
    if let Err(err) = webbrowser::open(url) {
        writeln!(std::io::stderr().lock(), "warning: could not open a browser: {err}")?;
    }
    Ok(())
}

/// Reads the figure file (`-` is stdin); a bare list is the figure's `data`. The workflows
/// check its traces.
pub(super) fn read_figure(path: &Path) -> Result<Value> {
    let mut figure = read_json(path)?;
    if figure.is_array() {
        // A bare list of traces, as the Python client's `py.plot(data)` takes it.
        figure = serde_json::json!({ "data": figure });
    }
    Ok(figure)
}

/// Reads a JSON file (`-` is stdin).
pub(super) fn read_json(path: &Path) -> Result<Value> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).context("could not read stdin")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read {}", path.display()))?;
    }
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// `reports/2024/sales` into (`reports/2024`, `sales`); the figure file's name by default.
pub(super) fn split_path(filename: Option<&str>, figure: &Path) -> Result<(String, String)> {
    let default = figure
        .file_stem()
        .and_then(|stem| stem.to_str())
        .filter(|stem| *stem != "-")
        .unwrap_or("untitled");
    let given = filename.unwrap_or(default);
    let path = super::new_path(given)?;
    let (parent, name) = path.rsplit_once('/').unwrap_or(("", &path));
    if name.is_empty() {
        bail!("--filename {given:?} names no file");
    }
    Ok((parent.to_owned(), name.to_owned()))
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
        assert_eq!(
            split_path(Some("/a//b/"), Path::new("x.json")).unwrap(),
            ("a".to_owned(), "b".to_owned()),
            "empty parts are dropped"
        );
        assert!(split_path(Some("//"), Path::new("x.json")).is_err());
    }
}
