//! A figure with raw data becomes a plot with a secret link: the data goes into a grid beside
//! the plot (`examples/sales_grid`), the plot refers to it, and both are secret. Run twice, it
//! updates the same plot in place.
//!
//! ```sh
//! PLOTLY_USERNAME=alice PLOTLY_API_KEY=... cargo run -p chart-studio-workflows --example create_secret_plot
//! ```

#![allow(clippy::print_stdout, reason = "an example shows what it did")]

mod common;

use anyhow::{Result, bail};
use chart_studio_bulk::TokioClock;
use chart_studio_sharing::Sharing;
use chart_studio_workflows::create::{IfExists, NewPlot, save_plot};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<()> {
    let (client, _user) = common::connect()?;
    let engine = common::engine(&client);
    let figure = json!({
        "data": [{"type": "bar", "x": ["north", "south", "east"], "y": [12, 7, 9]}],
        "layout": {"title": {"text": "Sales by region"}},
    });
    let plot = NewPlot {
        figure,
        folder: "examples".to_owned(),
        name: "sales".to_owned(),
        mode: Sharing::Secret,
        if_exists: IfExists::Update,
    };
    let saved = save_plot(&engine, &TokioClock::default(), plot).await?;
    if !saved.read_back.reached {
        bail!("{} was saved but shows as {}", saved.fid, saved.read_back.observed);
    }
    let verb = if saved.updated { "updated" } else { "created" };
    let grid = saved.grid.map_or_else(|| "no grid".to_owned(), |grid| format!("grid {grid}"));
    println!("{verb} {} ({}), data in {grid}", saved.fid, saved.path);
    println!("secret link: {}", saved.read_back.url);
    Ok(())
}
