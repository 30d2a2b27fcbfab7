//! `folders ls | create`.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use chart_studio_api::folders;
use chart_studio_bulk::{Engine, EngineConfig, TokioClock};
use chart_studio_models::{Fid, File, FileType};
use chart_studio_workflows::create;
use futures_util::TryStreamExt;
use serde::Serialize;

use super::username;
use crate::cli::FoldersCommand;
use crate::exit::UsageError;
use crate::output::{Human, Output, Render};
use crate::settings::Settings;
use crate::views::ListedFile;
use crate::waiting::{self, Spinner};

/// Files asked for per page when listing.
const LIST_PAGE: u32 = 500;

/// `folders create`: the folder made, or found when it was there already (as `mkdir -p`).
#[derive(Debug, Serialize)]
pub(crate) struct FolderCreated {
    /// The folder.
    fid: Fid,
    /// `created`, or `found` (it was there already).
    action: &'static str,
    /// Its path, normalised (`a//b/` is `a/b`).
    path: String,
}

impl Render for FolderCreated {
    const FIELDS: &'static [&'static str] = &["fid", "action", "path"];

    fn human(&self) -> Human {
        let text = if self.action == "created" {
            format!("Created folder {} ({})", self.path, self.fid)
        } else {
            format!("Folder {} ({}) was there already", self.path, self.fid)
        };
        Human::Sentence {
            text,
            row: vec![self.fid.to_string(), self.action.to_owned(), self.path.clone()],
        }
    }
}

pub(super) async fn run(command: FoldersCommand, settings: &Settings, out: Output) -> Result<()> {
    let client = settings.client()?;
    match command {
        FoldersCommand::Ls { path, folder, recursive, user, filetype } => {
            let printer = out.of::<Vec<ListedFile>>()?;
            let user = match user {
                Some(user) => user,
                None => username(settings)?,
            };
            let filetype = filetype.map(FileType::from);
            let folder = path.or(folder).map(|path| chart_studio_bulk::normalise_path(&path));
            let inside = |at: &str| match folder.as_deref() {
                None | Some("") => recursive || folder.is_none() || at.is_empty(),
                Some(folder) => {
                    at == folder || (recursive && at.starts_with(&format!("{folder}/")))
                }
            };
            // The folders' paths first (one listing of folders), then every file as the
            // server shows it, page by page.
            let folders_only = folders::All {
                user: Some(user.clone()),
                filetype: Some("fold".to_owned()),
                page_size: Some(LIST_PAGE),
                page: None,
            };
            // At a terminal the rows wait for the table; a spinner says what is happening.
            let spinner = Spinner::new(
                printer.tty() && waiting::shown(&out),
                format!("Listing the files of {user}"),
            );
            let folder_list: Vec<File> = client.items(folders_only).try_collect().await?;
            let paths = chart_studio_bulk::folder_paths(&folder_list);
            let folder_seen = match folder.as_deref() {
                None | Some("") => true,
                Some(folder) => paths.values().any(|path| path == folder),
            };
            if !folder_seen {
                let folder = folder.unwrap_or_default();
                return Err(UsageError(format!("{user} has no folder {folder:?}")).into());
            }
            let all = folders::All {
                user: Some(user),
                filetype: None,
                page_size: Some(LIST_PAGE),
                page: None,
            };
            let mut listed = Box::pin(client.items(all));
            let mut files = Vec::new();
            while let Some(file) = listed.try_next().await? {
                let path = file.parent.and_then(|p| paths.get(&p)).cloned().unwrap_or_default();
                if !inside(&path) || filetype.as_ref().is_some_and(|t| *t != file.filetype) {
                    continue;
                }
                let item = ListedFile { file, path };
                if !printer.stream(&item)? {
                    files.push(item);
                }
            }
            drop(spinner);
            if files.is_empty() && printer.tty() {
                let place = folder.map_or_else(String::new, |f| format!(" in {f}"));
                writeln!(std::io::stderr().lock(), "No files{place}")?;
            }
            if printer.json() || printer.tty() {
                printer.print(&files)?;
            }
            Ok(())
        }
        FoldersCommand::Create { path } => {
            let printer = out.of::<FolderCreated>()?;
            username(settings)?;
            let path = super::new_path(&path)?;
            let clock = Arc::new(TokioClock::default());
            let config = EngineConfig { jobs: 1, ..EngineConfig::default() };
            let folder = create::folder(&Engine::new(client, clock, config), &path).await?;
            let action = if folder.created { "created" } else { "found" };
            printer.print(&FolderCreated { fid: folder.fid, action, path })
        }
    }
}
