//! The sharing audit: how many of a user's files are public, private and secret, in all, per
//! type and per folder, and which public files were viewed most. It only reads, streaming the
//! listing, and keeps only the top files.

use std::collections::BTreeMap;

use chart_studio_bulk::{Engine, listed};
use chart_studio_models::Fid;
use chart_studio_sharing::{Observed, Sharing, file_link};
use futures_util::TryStreamExt;
use serde::Serialize;

use crate::Error;

/// The audit of one user's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// Whose files.
    pub user: String,
    /// Counts per mode: all files, then per type, then per folder.
    pub counts: Vec<Counts>,
    /// The most viewed public files, most viewed first.
    pub most_viewed_public: Vec<TopFile>,
}

/// How many files of a group are in each mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// `all`, `type` or `folder`.
    pub group: &'static str,
    /// The type or folder path (`(home)` for the home folder); empty for `all`.
    pub name: String,
    /// Public files.
    pub public: u64,
    /// Private files.
    pub private: u64,
    /// Files with a secret link.
    pub secret: u64,
    /// Files whose mode the listing does not show.
    pub unknown: u64,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopFile {
    /// The file.
    pub fid: Fid,
    /// Its name.
    pub filename: String,
    /// Its views.
    pub views: u64,
    /// Its link.
    pub link: String,
}

/// Audits `user`'s files through `engine`, keeping the `top` most viewed public ones.
pub async fn audit(engine: &Engine, user: &str, top: usize) -> Result<Audit, Error> {
    let mut files = std::pin::pin!(listed(engine, user, false).await?);
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
    most_viewed_first(&mut public);
    public.truncate(top);
    let mut counts = vec![total];
    counts.extend(by_type.into_values());
    counts.extend(by_folder.into_values());
    let most_viewed_public = public;
    Ok(Audit { user: user.to_owned(), counts, most_viewed_public })
}
