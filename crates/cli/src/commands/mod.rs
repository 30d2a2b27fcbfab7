//! One module per noun. Each verb parses its arguments, calls the library crates, and prints
//! one typed result through [`Output`] (see `output.rs` for the contract).

mod api;
mod audit;
mod auth;
mod bulk;
mod completion;
mod config;
mod create;
mod documents;
mod files;
mod folders;
mod grids;
mod image;
mod plots;
mod relink;
mod run_output;
mod share;

use anyhow::Result;

use crate::cli::Command;
use crate::exit::NoCredentials;
use crate::output::Output;
use crate::settings::Settings;

/// Runs one command.
pub(crate) async fn run(command: Command, settings: &Settings, out: Output) -> Result<()> {
    match command {
        Command::Auth(command) => auth::run(command, settings, out).await,
        Command::Files(command) => files::run(command, settings, out).await,
        Command::Plots(command) => plots::run(command, settings, out).await,
        Command::Folders(command) => folders::run(command, settings, out).await,
        Command::Grids(command) => grids::run(command, settings, out).await,
        Command::Dashboards(command) => {
            documents::run(chart_studio_models::FileType::Dashboard, command, settings, out).await
        }
        Command::Presentations(command) => {
            documents::run(chart_studio_models::FileType::Presentation, command, settings, out)
                .await
        }
        Command::Share(args) => share::run(args, settings, out).await,
        Command::Config(command) => config::run(command, settings, out).await,
        Command::Bulk(command) => bulk::run(command, settings, out).await,
        Command::Sharing(command) => audit::run(command, settings, out).await,
        Command::Api(args) => api::run(args, settings, out).await,
        Command::Image(args) => image::run(args, settings, out).await,
        Command::Relink(args) => relink::run(args, settings, out).await,
        Command::Completion { shell } => completion::run(shell, &out),
    }
}

/// A path to make something at, normalised; one holding `.` or `..` is a usage error.
fn new_path(given: &str) -> Result<String> {
    chart_studio_bulk::check_new_path(given)
        .map_err(|err| crate::exit::UsageError(err.to_string()))?;
    Ok(chart_studio_bulk::normalise_path(given))
}

/// The configured username, or the "no credentials" error (exit code 4).
fn username(settings: &Settings) -> Result<String> {
    settings.credentials().map(|creds| creds.username).ok_or_else(|| NoCredentials.into())
}
