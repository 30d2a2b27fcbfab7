//! `dashboards list | get | create` and `presentations list | get | create`.

use std::sync::Arc;

use anyhow::Result;
use chart_studio_api::{Client, Collection, Paginated, dashboards, presentations};
use chart_studio_bulk::{Engine, EngineConfig, TokioClock};
use chart_studio_models::{Document, File, FileType};
use chart_studio_workflows::create::{NewDocument, save_document};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::create::{FileSaved, open, read_json, sharing_mode, split_path};
use super::username;
use crate::cli::DocumentsCommand;
use crate::output::Output;
use crate::settings::Settings;

pub(super) async fn run(
    kind: FileType,
    command: DocumentsCommand,
    settings: &Settings,
    out: Output,
) -> Result<()> {
    let client = settings.client()?;
    match command {
        DocumentsCommand::List { limit } => {
            let printer = out.of::<Vec<File>>()?;
            let files = match kind {
                FileType::Presentation => {
                    list(&client, presentations::List::default(), limit).await
                }
                _ => list(&client, dashboards::List::default(), limit).await,
            }?;
            printer.print(&files)
        }
        DocumentsCommand::Get { fid } => {
            let printer = out.of::<Value>()?;
            let share_key = fid.file.share_key.clone();
            let fid = fid.file.fid(&client).await?;
            let document = match kind {
                FileType::Presentation => {
                    get(&client, presentations::Retrieve::new(fid), share_key).await
                }
                _ => get(&client, dashboards::Retrieve::new(fid), share_key).await,
            }?;
            let content = document.content.as_deref().unwrap_or("{}");
            printer.print(&serde_json::from_str::<Value>(content)?)
        }
        DocumentsCommand::Create { file, filename, sharing, open: open_it } => {
            let printer = out.of::<FileSaved>()?;
            username(settings)?;
            let content = read_json(&file)?;
            let mode = sharing_mode(settings, sharing)?;
            let (folder, name) = split_path(filename.as_deref(), &file)?;
            let clock = Arc::new(TokioClock::default());
            let config = EngineConfig { jobs: 1, ..EngineConfig::default() };
            let engine = Engine::new(client, clock.clone(), config);
            let document = NewDocument { kind, content, folder, name, mode };
            let saved = FileSaved::of(save_document(&engine, clock.as_ref(), document).await?)?;
            printer.print(&saved)?;
            if open_it {
                open(&saved.url)?;
            }
            Ok(())
        }
    }
}

async fn list<E>(client: &Client, first: E, limit: usize) -> Result<Vec<File>>
where
    E: Paginated<Output = chart_studio_models::NumberedPage<File>>,
{
    let limit = if limit == 0 { usize::MAX } else { limit };
    Ok(client.items(first).take(limit).try_collect().await?)
}

async fn get<C: Collection<Object = Document>>(
    client: &Client,
    mut request: chart_studio_api::common::Retrieve<C>,
    share_key: Option<String>,
) -> Result<Document> {
    request.share_key = share_key;
    Ok(client.send(&request).await?)
}
