//! `files get | lookup | trash | restore | delete | copy | rename | move`.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use chart_studio_api::common::FileUpdate;
use chart_studio_api::files;
use chart_studio_models::{Fid, File};
use serde::Serialize;

use super::username;
use crate::cli::{FidArg, FilesCommand};
use crate::exit::UsageError;
use crate::output::{Human, Output, Render, cell};
use crate::settings::Settings;

/// `files trash | restore | rename | move`: what changed.
#[derive(Debug, Serialize)]
pub(crate) struct FileChange {
    /// The file.
    fid: Fid,
    /// `trashed`, `restored`, `renamed` or `moved`.
    action: &'static str,
    /// Its name (after a rename, the new one).
    filename: String,
    /// The folder it is in (after a move), as given.
    folder: Option<String>,
}

impl Render for FileChange {
    const FIELDS: &'static [&'static str] = &["fid", "action", "filename", "folder"];

    fn human(&self) -> Human {
        let fid = &self.fid;
        let text = match self.action {
            "trashed" => {
                format!("Moved {fid} to the trash (undo with `chart-studio files restore {fid}`)")
            }
            "restored" => format!("Restored {fid} from the trash"),
            "renamed" => format!("Renamed {fid} to {:?}", self.filename),
            _ => format!("Moved {fid} into {}", self.folder.as_deref().unwrap_or("home")),
        };
        let row = vec![
            fid.to_string(),
            self.action.to_owned(),
            self.filename.clone(),
            cell(self.folder.as_ref()),
        ];
        Human::Sentence { text, row }
    }
}

/// `files copy`: the copy made.
#[derive(Debug, Serialize)]
pub(crate) struct Copied {
    /// The copy.
    fid: Fid,
    /// The file copied.
    source: Fid,
    /// The copy's name (`NAME (copy)` when the name was taken).
    filename: String,
    /// The copy's folder path (`""`: home).
    folder: String,
    /// The copy's link.
    url: String,
}

impl Render for Copied {
    const FIELDS: &'static [&'static str] = &["fid", "source", "filename", "folder", "url"];

    fn human(&self) -> Human {
        let path = chart_studio_bulk::file_path(&self.folder, &self.filename);
        Human::Sentence {
            text: format!("Copied {} to {} ({path}): {}", self.source, self.fid, self.url),
            row: vec![
                self.fid.to_string(),
                self.source.to_string(),
                self.filename.clone(),
                self.folder.clone(),
                self.url.clone(),
            ],
        }
    }
}

pub(super) async fn run(command: FilesCommand, settings: &Settings, out: Output) -> Result<()> {
    let client = settings.client()?;
    match command {
        FilesCommand::Get { file, share_key } => {
            let printer = out.of::<File>()?;
            let mut request = files::Retrieve::new(file.fid(&client).await?);
            request.share_key = share_key.or(file.share_key);
            printer.print(&client.send(&request).await?)
        }
        FilesCommand::Lookup { path, user } => {
            let printer = out.of::<File>()?;
            let mut request = files::Lookup::new(path);
            request.user = user;
            printer.print(&client.send(&request).await?)
        }
        FilesCommand::Trash(FidArg { file }) => {
            let printer = out.of::<FileChange>()?;
            username(settings)?;
            let fid = file.fid(&client).await?;
            let file = client.send(&files::Retrieve::new(fid.clone())).await?;
            client.send(&files::Trash::new(fid.clone())).await?;
            printer.print(&FileChange {
                fid,
                action: "trashed",
                filename: file.filename,
                folder: None,
            })
        }
        FilesCommand::Restore(FidArg { file }) => {
            let printer = out.of::<FileChange>()?;
            username(settings)?;
            let fid = file.fid(&client).await?;
            let file = client.send(&files::Retrieve::new(fid.clone())).await?;
            if file.deleted == Some(false) {
                bail!("{fid} is not in the trash; nothing was restored");
            }
            client.send(&files::Restore::new(fid.clone())).await?;
            printer.print(&FileChange {
                fid,
                action: "restored",
                filename: file.filename,
                folder: None,
            })
        }
        FilesCommand::Delete { fid: FidArg { file }, yes } => {
            let fid = file.fid(&client).await?;
            let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
            if !yes && !interactive {
                return Err(UsageError(format!(
                    "refusing to delete {fid} permanently without confirmation; pass --yes when not on a terminal"
                ))
                .into());
            }
            super::bulk::delete_one(settings, out, fid, yes).await
        }
        FilesCommand::Copy { file, to } => {
            let printer = out.of::<Copied>()?;
            username(settings)?;
            let folder = to.as_deref().map(super::new_path).transpose()?.unwrap_or_default();
            let source = file.fid(&client).await?;
            let mut request = files::Copy::new(source.clone());
            request.share_key = file.share_key;
            if !folder.is_empty() {
                request = request.into_folder(&folder);
            }
            let copy = client.send(&request).await?.file;
            printer.print(&Copied {
                url: chart_studio_sharing::file_link(&copy),
                fid: copy.fid,
                source,
                filename: copy.filename,
                folder,
            })
        }
        FilesCommand::Rename { fid: FidArg { file }, name } => {
            let printer = out.of::<FileChange>()?;
            username(settings)?;
            let fid = file.fid(&client).await?;
            let file = client
                .send(&files::Update::patch(fid, FileUpdate::default().filename(&name)))
                .await?;
            printer.print(&FileChange {
                fid: file.fid,
                action: "renamed",
                filename: file.filename,
                folder: None,
            })
        }
        FilesCommand::Move { fid: FidArg { file }, folder } => {
            let printer = out.of::<FileChange>()?;
            let owner = username(settings)?;
            let fid = file.fid(&client).await?;
            let file =
                chart_studio_workflows::files::move_to(&client, &owner, fid, &folder).await?;
            printer.print(&FileChange {
                fid: file.fid,
                action: "moved",
                filename: file.filename,
                folder: Some(folder),
            })
        }
    }
}
