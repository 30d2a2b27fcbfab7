//! `sharing audit`: how many files are public, private and secret, per type and per folder,
//! and which public files were viewed most.

use std::collections::BTreeMap;

use anyhow::Result;
use std::sync::Arc;

use chart_studio_bulk::{Engine, EngineConfig, Filter, TokioClock, select};
use chart_studio_sharing::{Observed, Sharing};
use serde::Serialize;

use super::username;
use crate::cli::SharingCommand;
use crate::output::{Output, file_link};
use crate::settings::Settings;

/// Counts per sharing mode.
#[derive(Debug, Default, Clone, Serialize)]
struct Counts {
    public: u64,
    private: u64,
    secret: u64,
    unknown: u64,
}

impl Counts {
    fn add(&mut self, mode: Observed) {
        match mode {
            Observed::Known(Sharing::Public) => self.public += 1,
            Observed::Known(Sharing::Private) => self.private += 1,
            Observed::Known(Sharing::Secret) => self.secret += 1,
            Observed::Unknown => self.unknown += 1,
        }
    }

    fn row(&self, label: String) -> Vec<String> {
        vec![
            label,
            self.public.to_string(),
            self.private.to_string(),
            self.secret.to_string(),
            self.unknown.to_string(),
        ]
    }
}

pub(super) async fn run(command: SharingCommand, settings: &Settings, out: Output) -> Result<()> {
    let SharingCommand::Audit { user, top } = command;
    let user = match user {
        Some(user) => user,
        None => username(settings)?,
    };
    let engine =
        Engine::new(settings.client()?, Arc::new(TokioClock::default()), EngineConfig::default());
    let files = select(&engine, &user, &Filter::default(), false).await?;
    let mut by_type: BTreeMap<String, Counts> = BTreeMap::new();
    let mut by_folder: BTreeMap<String, Counts> = BTreeMap::new();
    let mut total = Counts::default();
    let mut public = Vec::new();
    for selected in &files {
        let mode = Sharing::of(&selected.file);
        total.add(mode);
        by_type.entry(selected.file.filetype.to_string()).or_default().add(mode);
        let folder =
            if selected.path.is_empty() { "(home)".to_owned() } else { selected.path.clone() };
        by_folder.entry(folder).or_default().add(mode);
        if mode == Observed::Known(Sharing::Public) {
            public.push(&selected.file);
        }
    }
    public.sort_by_key(|file| (std::cmp::Reverse(file.views.unwrap_or(0)), file.fid.clone()));
    public.truncate(top);
    if out.json {
        let top: Vec<serde_json::Value> = public
            .iter()
            .map(|f| serde_json::json!({"fid": f.fid, "filename": f.filename, "views": f.views, "url": file_link(f)}))
            .collect();
        return out.json(&serde_json::json!({"user": user, "total": total, "by_type": by_type, "by_folder": by_folder, "most_viewed_public": top}));
    }
    let headers = ["", "PUBLIC", "PRIVATE", "SECRET", "UNKNOWN"];
    let mut rows = vec![total.row("all files".to_owned())];
    rows.extend(by_type.iter().map(|(kind, counts)| counts.row(kind.clone())));
    out.rows(&headers, &rows)?;
    out.line("")?;
    let folder_rows: Vec<Vec<String>> =
        by_folder.iter().map(|(folder, counts)| counts.row(folder.clone())).collect();
    out.rows(&["FOLDER", "PUBLIC", "PRIVATE", "SECRET", "UNKNOWN"], &folder_rows)?;
    if !public.is_empty() {
        out.line("")?;
        let top_rows: Vec<Vec<String>> = public
            .iter()
            .map(|f| {
                vec![
                    f.fid.to_string(),
                    f.filename.clone(),
                    f.views.unwrap_or(0).to_string(),
                    file_link(f),
                ]
            })
            .collect();
        out.rows(&["MOST VIEWED PUBLIC", "NAME", "VIEWS", "LINK"], &top_rows)?;
    }
    Ok(())
}
