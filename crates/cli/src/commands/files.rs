//! `files get | lookup | trash | restore | delete | rename | move`.

use std::io::IsTerminal;

use anyhow::{Context, Result, bail};
use chart_studio_api::common::FileUpdate;
use chart_studio_api::{Client, Error, files, folders};
use chart_studio_models::{Fid, File, FileType, HOME_FOLDER};
use http::StatusCode;

use super::username;
use crate::cli::FilesCommand;
use crate::exit::UsageError;
use crate::output::{Output, file_details};
use crate::settings::Settings;

pub(super) async fn run(command: FilesCommand, settings: &Settings, out: Output) -> Result<()> {
    let client = settings.client()?;
    match command {
        FilesCommand::Get { file, share_key } => {
            let mut request = files::Retrieve::new(file.fid);
            request.share_key = share_key.or(file.share_key);
            show(&out, &client.send(&request).await?)
        }
        FilesCommand::Lookup { path, user } => {
            let mut request = files::Lookup::new(path);
            request.user = user;
            show(&out, &client.send(&request).await?)
        }
        FilesCommand::Trash(fid) => {
            username(settings)?;
            client.send(&files::Trash::new(fid.fid.clone())).await?;
            done(
                &out,
                &fid.fid,
                "trashed",
                &format!(
                    "Moved {} to the trash (undo with `chart-studio files restore {}`)",
                    fid.fid, fid.fid
                ),
            )
        }
        FilesCommand::Restore(fid) => {
            username(settings)?;
            let file = client.send(&files::Retrieve::new(fid.fid.clone())).await?;
            if file.deleted == Some(false) {
                bail!("{} is not in the trash; nothing was restored", fid.fid);
            }
            client.send(&files::Restore::new(fid.fid.clone())).await?;
            done(&out, &fid.fid, "restored", &format!("Restored {} from the trash", fid.fid))
        }
        FilesCommand::Delete { fid, yes } => {
            let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
            if !yes && !interactive {
                return Err(UsageError(format!(
                    "refusing to delete {} permanently without confirmation; pass --yes when not on a terminal",
                    fid.fid
                ))
                .into());
            }
            super::bulk::delete_one(settings, out, fid.fid, yes).await
        }
        FilesCommand::Rename { fid, name } => {
            username(settings)?;
            let file = client
                .send(&files::Update::patch(fid.fid, FileUpdate::default().filename(&name)))
                .await?;
            if out.json {
                return out.json(&file);
            }
            out.line(&format!("Renamed {} to {:?}", file.fid, file.filename))
        }
        FilesCommand::Move { fid, folder } => {
            let owner = username(settings)?;
            let parent = resolve_folder(&client, &owner, &folder).await?;
            let file = client
                .send(&files::Update::patch(fid.fid, FileUpdate::default().parent(parent)))
                .await?;
            if out.json {
                return out.json(&file);
            }
            out.line(&format!("Moved {} into {folder}", file.fid))
        }
    }
}

/// Reports a change: `{"fid": ..., "<what>": true}` with `--json`, else `text`.
fn done(out: &Output, fid: &Fid, what: &str, text: &str) -> Result<()> {
    if out.json {
        return out.json(&serde_json::json!({"fid": fid, what: true}));
    }
    out.line(text)
}

fn show(out: &Output, file: &File) -> Result<()> {
    if out.json { out.json(file) } else { out.rows(&["FIELD", "VALUE"], &file_details(file)) }
}

/// Trash (unless already trashed), then permanent delete, after a confirmation.
async fn resolve_folder(client: &Client, owner: &str, folder: &str) -> Result<i64> {
    if matches!(folder, "home" | "/" | "-1") {
        return Ok(HOME_FOLDER);
    }
    if let Ok(fid) = folder.parse::<Fid>() {
        if fid.owner() != owner {
            bail!("{fid} belongs to {}; files can only move into your own folders", fid.owner());
        }
        return i64::try_from(fid.idlocal()).context("folder number too large");
    }
    let found = client.send(&folders::Lookup::new(folder.trim_matches('/'))).await;
    match found {
        Ok(found) if found.file.filetype == FileType::Folder => {
            i64::try_from(found.file.fid.idlocal()).context("folder number too large")
        }
        Ok(found) => bail!("{folder} is a {}, not a folder", found.file.filetype),
        Err(Error::Api(err)) if err.status == StatusCode::NOT_FOUND => {
            bail!(
                "there is no folder {folder:?}; create it with `chart-studio folders create {folder}`"
            )
        }
        Err(err) => Err(err.into()),
    }
}
