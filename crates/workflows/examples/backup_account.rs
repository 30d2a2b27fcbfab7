//! Export every file of the account (folders, grids, plots with their figures and data) to a
//! folder with a checksummed manifest, as `chart-studio bulk export DIR` does; `chart-studio
//! bulk import DIR` re-creates them on any server.
//!
//! ```sh
//! PLOTLY_USERNAME=alice PLOTLY_API_KEY=... cargo run -p chart-studio-workflows --example backup_account -- backup/
//! ```

#![allow(clippy::print_stdout, reason = "an example shows what it did")]

mod common;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chart_studio_bulk::{Filter, SilentProgress, read_manifest};
use chart_studio_workflows::plans::{Planner, Selection};
use chart_studio_workflows::runs::{self, Account};

#[tokio::main]
async fn main() -> Result<()> {
    let dir: PathBuf =
        std::env::args().nth(1).context("give the folder to write, e.g. backup/")?.into();
    let (client, user) = common::connect()?;
    let engine = common::engine(&client);
    let scratch = std::env::temp_dir();
    let planner = Planner { engine: &engine, me: &user, scratch: &scratch };
    let mut plan = planner.export(&Selection::Matching(Filter::default()), &[]).await?;
    let journal = dir.with_extension("jsonl");
    let api = client.config().api_base().to_string();
    let account = Account { api: &api, user: &user };
    let prepared = runs::prepare(account, "export", &journal, Some(dir.clone()), &mut plan)?;
    let report =
        runs::run(&engine, &prepared, |_| true, &SilentProgress, std::future::pending()).await;
    if report.has_failures() || report.stopped.is_some() {
        bail!(
            "some files were not exported: {:?}; resume with `chart-studio bulk resume {}`",
            report.failures,
            journal.display()
        );
    }
    let manifest = read_manifest(&dir).map_err(anyhow::Error::msg)?;
    println!("{} file(s) exported to {} (manifest checked)", manifest.files.len(), dir.display());
    Ok(())
}
