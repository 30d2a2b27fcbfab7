//! `folders ls | create`.

use anyhow::Result;
use chart_studio_api::folders;
use futures_util::TryStreamExt;

use super::username;
use crate::cli::{FileTypeArg, FoldersCommand};
use crate::output::{FILE_HEADERS, Output, file_row};
use crate::settings::Settings;

pub(super) async fn run(command: FoldersCommand, settings: &Settings, out: Output) -> Result<()> {
    let client = settings.client()?;
    match command {
        FoldersCommand::Ls { user, filetype, page_size } => {
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
            if out.json || out.tty {
                let files: Vec<_> = items.try_collect().await?;
                return if out.json {
                    out.json(&files)
                } else {
                    out.rows(&FILE_HEADERS, &files.iter().map(file_row).collect::<Vec<_>>())
                };
            }
            while let Some(file) = items.try_next().await? {
                out.rows(&FILE_HEADERS, &[file_row(&file)])?;
            }
            Ok(())
        }
        FoldersCommand::Create { path } => {
            username(settings)?;
            let created = client.send(&folders::Create::new(path.trim_matches('/'))).await?;
            if out.json {
                return out.json(&created.file);
            }
            out.line(&format!("Created folder {} ({path})", created.file.file.fid))
        }
    }
}
