//! `folders ls | create`.

use anyhow::Result;
use chart_studio_api::folders;
use chart_studio_models::{Fid, File};
use futures_util::TryStreamExt;
use serde::Serialize;

use super::username;
use crate::cli::{FileTypeArg, FoldersCommand};
use crate::output::{Human, Output, Render};
use crate::settings::Settings;

/// `folders create`: the folder made (or found, when it existed).
#[derive(Debug, Serialize)]
pub(crate) struct FolderCreated {
    /// The folder.
    fid: Fid,
    /// Its path, normalised (`a//b/` is `a/b`).
    path: String,
}

impl Render for FolderCreated {
    const FIELDS: &'static [&'static str] = &["fid", "path"];

    fn human(&self) -> Human {
        Human::Sentence {
            text: format!("Created folder {} ({})", self.fid, self.path),
            row: vec![self.fid.to_string(), self.path.clone()],
        }
    }
}

pub(super) async fn run(command: FoldersCommand, settings: &Settings, out: Output) -> Result<()> {
    let client = settings.client()?;
    match command {
        FoldersCommand::Ls { user, filetype, page_size } => {
            let printer = out.of::<Vec<File>>()?;
            let user = match user {
                Some(user) => user,
                None => username(settings)?,
            };
            let filetype = filetype.map(|kind| {
                match kind {
                    FileTypeArg::Plot => "plot",
                    FileTypeArg::Grid => "grid",
                    FileTypeArg::Fold => "fold",
                    FileTypeArg::Dashboard => "dashboard",
                }
                .to_owned()
            });
            let all =
                folders::All { user: Some(user), filetype, page_size: Some(page_size), page: None };
            let mut items = Box::pin(client.items(all));
            let mut files = Vec::new();
            while let Some(file) = items.try_next().await? {
                if !printer.stream(&file)? {
                    files.push(file);
                }
            }
            if printer.json() || printer.tty() {
                printer.print(&files)?;
            }
            Ok(())
        }
        FoldersCommand::Create { path } => {
            let printer = out.of::<FolderCreated>()?;
            username(settings)?;
            let path = chart_studio_bulk::normalise_path(&path);
            let created = client.send(&folders::Create::new(&path)).await?;
            printer.print(&FolderCreated { fid: created.file.file.fid, path })
        }
    }
}
