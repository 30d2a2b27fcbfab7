//! `plots create FIGURE.json`: reads the figure and the sharing, saves the plot through the
//! workflow (raw data into a grid, created or updated in place), prints its link.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chart_studio_bulk::{Engine, EngineConfig, TokioClock};
use chart_studio_sharing::{Layer, Sharing, resolve};
use chart_studio_workflows::create::{NewPlot, save_plot};
use serde_json::Value;

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
    let figure = read_figure(args.figure)?;
    let mut layers = settings.sharing_layers();
    if let Some(flag) = args.sharing {
        let mode = Sharing::from(flag);
        layers.push(Layer {
            sharing: Some((mode.to_string(), "flag --sharing".to_owned())),
            world_readable: None,
        });
    }
    let mode = resolve(&layers)?.sharing;
    let (folder, name) = split_path(args.filename.as_deref(), args.figure)?;
    let clock = Arc::new(TokioClock::default());
    let engine =
        Engine::new(client, clock.clone(), EngineConfig { jobs: 1, ..EngineConfig::default() });
    let saved = save_plot(&engine, clock.as_ref(), NewPlot { figure, folder, name, mode }).await?;
    let fid = &saved.fid;
    if !saved.read_back.reached {
        bail!(
            "{fid} was saved, but the server shows it as {} instead of {mode}; run `chart-studio share {fid} {mode}`",
            saved.read_back.observed
        );
    }
    let url = &saved.read_back.url;
    if out.json {
        out.json(&serde_json::json!({
            "fid": fid, "url": url, "sharing": mode, "grid": saved.grid, "updated": saved.updated,
        }))?;
    } else {
        out.line(url)?;
    }
    if args.open
        && let Err(err) = webbrowser::open(url)
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
