//! `sharing audit`: how many files are public, private and secret, in all, per type and per
//! folder, and which public files were viewed most. It only reads, so it never asks.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Result;
use chart_studio_bulk::{Engine, EngineConfig, TokioClock, listed};
use chart_studio_models::Fid;
use chart_studio_sharing::{Observed, Sharing, file_link};
use futures_util::TryStreamExt;
use serde::Serialize;

use super::username;
use crate::cli::SharingCommand;
use crate::output::{Human, Output, Render};
use crate::settings::Settings;
use crate::waiting::{self, Spinner};

/// The audit of one user's files.
#[derive(Debug, Serialize)]
pub(crate) struct Audit {
    /// Whose files.
    user: String,
    /// Counts per mode: all files, then per type, then per folder.
    counts: Vec<Counts>,
    /// The most viewed public files, most viewed first.
    most_viewed_public: Vec<TopFile>,
}

/// How many files of a group are in each mode.
#[derive(Debug, Serialize)]
pub(crate) struct Counts {
    /// `all`, `type` or `folder`.
    group: &'static str,
    /// The type or folder path (`(home)` for the home folder); empty for `all`.
    name: String,
    /// Public files.
    public: u64,
    /// Private files.
    private: u64,
    /// Files with a secret link.
    secret: u64,
    /// Files whose mode the listing does not show.
    unknown: u64,
}

impl Counts {
    fn new(group: &'static str, name: String) -> Self {
        Self { group, name, public: 0, private: 0, secret: 0, unknown: 0 }
    }

    fn add(&mut self, mode: Observed) {
        match mode {
            Observed::Known(Sharing::Public) => self.public += 1,
            Observed::Known(Sharing::Private) => self.private += 1,
            Observed::Known(Sharing::Secret) => self.secret += 1,
            Observed::Unknown => self.unknown += 1,
        }
    }
}

/// A public file and how often it was viewed.
#[derive(Debug, Serialize)]
pub(crate) struct TopFile {
    /// The file.
    fid: Fid,
    /// Its name.
    filename: String,
    /// Its views.
    views: u64,
    /// Its link.
    link: String,
}

impl Render for Audit {
    const FIELDS: &'static [&'static str] = &["user", "counts", "most_viewed_public"];

    /// One table: a SECTION column says which part each row belongs to.
    fn human(&self) -> Human {
        let mut rows: Vec<Vec<String>> = self
            .counts
            .iter()
            .map(|c| {
                vec![
                    c.group.to_owned(),
                    c.name.clone(),
                    c.public.to_string(),
                    c.private.to_string(),
                    c.secret.to_string(),
                    c.unknown.to_string(),
                    String::new(),
                    String::new(),
                ]
            })
            .collect();
        rows.extend(self.most_viewed_public.iter().map(|top| {
            let mut row = vec!["most viewed public".to_owned(), top.filename.clone()];
            row.extend(std::iter::repeat_n(String::new(), 4));
            row.extend([top.views.to_string(), top.link.clone()]);
            row
        }));
        Human::Table {
            headers: &[
                "SECTION", "NAME", "PUBLIC", "PRIVATE", "SECRET", "UNKNOWN", "VIEWS", "LINK",
            ],
            rows,
            empty: None,
        }
    }
}

pub(super) async fn run(command: SharingCommand, settings: &Settings, out: Output) -> Result<()> {
    let SharingCommand::Audit { user, top } = command;
    let printer = out.of::<Audit>()?;
    let user = match user {
        Some(user) => user,
        None => username(settings)?,
    };
    let engine =
        Engine::new(settings.client()?, Arc::new(TokioClock::default()), EngineConfig::default());
    let reading = Spinner::new(waiting::shown(&out), format!("Reading the files of {user}"));
    let mut files = std::pin::pin!(listed(&engine, &user, false).await?);
    let mut total = Counts::new("all", String::new());
    let mut by_type: BTreeMap<String, Counts> = BTreeMap::new();
    let mut by_folder: BTreeMap<String, Counts> = BTreeMap::new();
    // The most viewed public files so far: a few more than `top` are kept between trims.
    let mut public: Vec<TopFile> = Vec::new();
    let most_viewed_first = |files: &mut Vec<TopFile>| {
        files.sort_by_key(|f| (std::cmp::Reverse(f.views), f.fid.clone()));
    };
    while let Some(selected) = files.try_next().await? {
        let mode = Sharing::of(&selected.file);
        total.add(mode);
        let kind = selected.file.filetype.to_string();
        by_type.entry(kind.clone()).or_insert_with(|| Counts::new("type", kind)).add(mode);
        let folder = if selected.path.is_empty() { "(home)".to_owned() } else { selected.path };
        by_folder.entry(folder.clone()).or_insert_with(|| Counts::new("folder", folder)).add(mode);
        if mode == Observed::Known(Sharing::Public) {
            let file = &selected.file;
            public.push(TopFile {
                fid: file.fid.clone(),
                filename: file.filename.clone(),
                views: file.views.unwrap_or(0),
                link: file_link(file),
            });
            if public.len() > 2 * top + 64 {
                most_viewed_first(&mut public);
                public.truncate(top);
            }
        }
    }
    drop(reading);
    most_viewed_first(&mut public);
    public.truncate(top);
    let mut counts = vec![total];
    counts.extend(by_type.into_values());
    counts.extend(by_folder.into_values());
    let most_viewed_public = public;
    printer.print(&Audit { user, counts, most_viewed_public })
}
