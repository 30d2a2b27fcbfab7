//! Draw every plot of the account as a PNG into a folder, as `chart-studio image FID -o
//! FILE` does for one: each plot's figure is read with its data and drawn by the server
//! (`POST /v2/images`). `chart-studio bulk export DIR --images png` does the same as a
//! journaled, resumable run beside each plot's figure.
//!
//! ```sh
//! PLOTLY_USERNAME=alice PLOTLY_API_KEY=... cargo run -p chart-studio-workflows --example export_images -- charts/
//! ```

#![allow(clippy::print_stdout, reason = "an example shows what it did")]

mod common;

use std::path::PathBuf;

use anyhow::{Context, Result};
use chart_studio_api::folders;
use chart_studio_api::images::ImageFormat;
use chart_studio_models::FileType;
use chart_studio_workflows::image::{Chart, Drawing, draw};
use futures_util::TryStreamExt;

#[tokio::main]
async fn main() -> Result<()> {
    let dir: PathBuf =
        std::env::args().nth(1).context("give the folder to write, e.g. charts/")?.into();
    std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    let (client, user) = common::connect()?;
    let all = folders::All { user: Some(user), ..Default::default() };
    let plots: Vec<_> = client
        .items(all)
        .try_filter(|file| std::future::ready(file.filetype == FileType::Plot))
        .try_collect()
        .await?;
    let drawing = Drawing { format: ImageFormat::Png, width: None, height: None, scale: Some(2.0) };
    for plot in &plots {
        let chart = Chart::Plot { fid: plot.fid.clone(), share_key: None };
        let image = draw(&client, chart, drawing).await?;
        let path = dir.join(format!("{}.png", plot.fid.idlocal()));
        std::fs::write(&path, &image.bytes)?;
        println!("{} {} -> {}", plot.fid, plot.filename, path.display());
    }
    println!("{} plot(s) drawn into {}", plots.len(), dir.display());
    Ok(())
}
