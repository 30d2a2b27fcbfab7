//! `image FIGURE.json|FID|LINK [-o FILE]`: a chart drawn by the server, written to a file (its
//! extension gives the format) or to standard output when that is not a terminal.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chart_studio_api::images::ImageFormat;
use chart_studio_workflows::image::{Chart, Drawing, draw};
use serde::Serialize;

use crate::cli::ImageArgs;
use crate::exit::UsageError;
use crate::output::{Human, Output, Render};
use crate::settings::Settings;

/// `image -o FILE`: the image written.
#[derive(Debug, Serialize)]
pub(crate) struct ImageWritten {
    /// Where it went.
    path: PathBuf,
    /// Its format.
    format: ImageFormat,
    /// Its size in bytes.
    bytes: usize,
}

impl Render for ImageWritten {
    const FIELDS: &'static [&'static str] = &["path", "format", "bytes"];

    fn human(&self) -> Human {
        Human::Sentence {
            text: format!("Wrote {} ({}, {} bytes)", self.path.display(), self.format, self.bytes),
            row: vec![
                self.path.display().to_string(),
                self.format.to_string(),
                self.bytes.to_string(),
            ],
        }
    }
}

pub(super) async fn run(args: ImageArgs, settings: &Settings, out: Output) -> Result<()> {
    let format = match (args.format, &args.output) {
        (Some(format), _) => format,
        (None, Some(path)) => ImageFormat::of_path(path).ok_or_else(|| {
            UsageError(format!(
                "{} has no image extension (png, jpeg, webp, svg, pdf, emf); give --format",
                path.display()
            ))
        })?,
        (None, None) => ImageFormat::Png,
    };
    let printer = match &args.output {
        Some(_) => Some(out.of::<ImageWritten>()?),
        // The image itself goes to standard output: nothing else may.
        None if out.tty => {
            return Err(UsageError(
                "an image would go to the terminal: give -o FILE, or pipe it (chart-studio image ... > chart.png)"
                    .to_owned(),
            )
            .into());
        }
        None => None,
    };
    let client = settings.client()?;
    let chart = chart(&args.chart, &client).await?;
    let drawing = Drawing { format, width: args.width, height: args.height, scale: args.scale };
    let image = draw(&client, chart, drawing).await.context("could not draw the chart")?;
    match (printer, args.output) {
        (Some(printer), Some(path)) => {
            write_atomically(&path, &image.bytes)?;
            printer.print(&ImageWritten { path, format, bytes: image.bytes.len() })
        }
        _ => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&image.bytes)?;
            Ok(stdout.flush()?)
        }
    }
}

/// A figure file (or `-`), else a plot's fid, link or path in the account.
async fn chart(text: &str, client: &chart_studio_api::Client) -> Result<Chart> {
    let path = Path::new(text);
    if text == "-" || path.is_file() {
        return Ok(Chart::Figure(super::create::read_figure(path)?));
    }
    let file = crate::cli::file_ref(text).map_err(|why| {
        UsageError(format!("{text:?} is neither a figure file nor a plot: {why}"))
    })?;
    let fid = file.fid(client).await.map_err(|err| {
        err.context(format!("{text:?} is neither a figure file nor a plot of yours"))
    })?;
    Ok(Chart::Plot { fid, share_key: file.share_key })
}

/// Writes `bytes` to `path` through a temporary file beside it, so that a failure leaves no
/// half-written image.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("could not write into {}", dir.display()))?;
    file.write_all(bytes)?;
    file.persist(path).with_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}
