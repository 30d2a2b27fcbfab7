//! Make every plot of the account private, and the grids they draw from with them, as one
//! journaled run; then read every changed file back and print it.
//!
//! ```sh
//! PLOTLY_USERNAME=alice PLOTLY_API_KEY=... PLOTLY_API_DOMAIN=https://plotly.example.com \
//!     cargo run -p chart-studio-workflows --example make_all_private
//! ```

#![allow(clippy::print_stdout, reason = "an example shows what it did")]

mod common;

use anyhow::{Result, bail};
use chart_studio_api::files;
use chart_studio_bulk::{Filter, SilentProgress};
use chart_studio_models::FileType;
use chart_studio_sharing::{Observed, Sharing};
use chart_studio_workflows::plans::{Planner, Selection};
use chart_studio_workflows::runs::{self, Account};

#[tokio::main]
async fn main() -> Result<()> {
    let (client, user) = common::connect()?;
    let engine = common::engine(&client);
    // Plots only; their grids follow them (the `true`).
    let plots = Filter { filetypes: vec![FileType::Plot], ..Filter::default() };
    let scratch = std::env::temp_dir();
    let planner = Planner { engine: &engine, me: &user, scratch: &scratch };
    let (mut plan, _notes) =
        planner.share(&Selection::Matching(plots), Sharing::Private, true).await?;
    if plan.summary().ops == 0 {
        println!("nothing to change: no plot of {user} is public or secret");
        return Ok(());
    }
    // The plan goes to a journal first: a kill at any point can be resumed with
    // `chart-studio bulk resume JOURNAL`.
    let journal =
        std::env::temp_dir().join(format!("make-all-private-{}.jsonl", std::process::id()));
    let api = client.config().api_base().to_string();
    let account = Account { api: &api, user: &user };
    let prepared = runs::prepare(account, "share private", &journal, None, &mut plan)?;
    let report =
        runs::run(&engine, &prepared, |_| true, &SilentProgress, std::future::pending()).await;
    // Read every changed file back, from the plan.
    for op in plan.ops()? {
        let op = op?;
        let file = client.send(&files::Retrieve::new(op.fid.clone())).await?;
        let now = Sharing::of(&file);
        println!("{} {} {:?}: now {now}", op.fid, op.filetype, op.filename);
        if now != Observed::Known(Sharing::Private) {
            bail!("{} is {now}, not private", op.fid);
        }
    }
    println!("{} file(s) made private; journal {}", report.totals().done, journal.display());
    Ok(())
}
