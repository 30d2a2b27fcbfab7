//! Selection: a user's files, streamed page by page from `folders/all`, filtered as they come.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;

use chart_studio_api::{files, folders};
use chart_studio_models::{Fid, File, FileType, HOME_FOLDER};
use futures_util::{Stream, TryStreamExt};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{Engine, Failure};

/// Files per listing request.
const PAGE_SIZE: u32 = 500;

/// A condition on a file, given by the caller.
pub type Matcher = Arc<dyn Fn(&File) -> bool + Send + Sync>;

/// Which files to select; every condition that is set must hold.
#[derive(Clone, Default)]
pub struct Filter {
    /// Only these kinds.
    pub filetypes: Vec<FileType>,
    /// Only files inside this folder path (at any depth).
    pub folder: Option<String>,
    /// Only file names matching this glob.
    pub name: Option<glob::Pattern>,
    /// Created before / after.
    pub created_before: Option<OffsetDateTime>,
    /// Created after.
    pub created_after: Option<OffsetDateTime>,
    /// Modified before.
    pub modified_before: Option<OffsetDateTime>,
    /// Modified after.
    pub modified_after: Option<OffsetDateTime>,
    /// At least this many views.
    pub min_views: Option<u64>,
    /// At most this many views.
    pub max_views: Option<u64>,
    /// A condition of the caller's, such as a sharing mode.
    pub matches: Option<Matcher>,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("filetypes", &self.filetypes)
            .field("folder", &self.folder)
            .field("name", &self.name.as_ref().map(glob::Pattern::as_str))
            .field("matches", &self.matches.is_some())
            .finish_non_exhaustive()
    }
}

fn parse_time(text: Option<&str>) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text?, &Rfc3339).ok()
}

impl Filter {
    /// Whether `file`, whose folder path is `path`, is selected.
    pub fn accepts(&self, file: &File, path: &str) -> bool {
        let inside = |folder: &str| {
            let folder = folder.trim_matches('/');
            folder.is_empty() || path == folder || path.starts_with(&format!("{folder}/"))
        };
        let created = parse_time(file.creation_time.as_deref());
        let modified = parse_time(file.date_modified.as_deref());
        let views = file.views.unwrap_or(0);
        (self.filetypes.is_empty() || self.filetypes.contains(&file.filetype))
            && self.folder.as_deref().is_none_or(inside)
            && self.name.as_ref().is_none_or(|glob| glob.matches(&file.filename))
            && self.created_before.is_none_or(|t| created.is_some_and(|c| c < t))
            && self.created_after.is_none_or(|t| created.is_some_and(|c| c > t))
            && self.modified_before.is_none_or(|t| modified.is_some_and(|m| m < t))
            && self.modified_after.is_none_or(|t| modified.is_some_and(|m| m > t))
            && self.min_views.is_none_or(|min| views >= min)
            && self.max_views.is_none_or(|max| views <= max)
            && self.matches.as_ref().is_none_or(|matches| matches(file))
    }
}

/// A selected file and the path of the folder it is in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Selected {
    /// Its metadata.
    pub file: File,
    /// Its folder's path (`""` for home).
    pub path: String,
}

/// A folder path as the server stores it: no empty parts, so `/a//b/` is `a/b` (the Python
/// client strips the slashes of `filename='/reports/2024/'` too).
///
/// ```
/// assert_eq!(chart_studio_bulk::normalise_path("/reports//2024/"), "reports/2024");
/// ```
pub fn normalise_path(path: &str) -> String {
    path.split('/').filter(|part| !part.is_empty()).collect::<Vec<_>>().join("/")
}

/// A path that holds a `.` or `..` segment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{path:?}: a path may not hold {segment:?} (Chart Studio would make a folder of that name)"
)]
pub struct DotSegment {
    /// The path.
    pub path: String,
    /// The segment.
    pub segment: String,
}

/// Refuses a path to make something at that holds a `.` or `..` segment: Chart Studio paths
/// have no such links, so the server would make a folder of that name.
///
/// ```
/// assert!(chart_studio_bulk::check_new_path("a/../b").is_err());
/// assert!(chart_studio_bulk::check_new_path("a/.b/c").is_ok());
/// ```
pub fn check_new_path(path: &str) -> Result<(), DotSegment> {
    match path.split('/').find(|segment| matches!(*segment, "." | "..")) {
        Some(segment) => Err(DotSegment { path: path.to_owned(), segment: segment.to_owned() }),
        None => Ok(()),
    }
}

/// The path of file `name` in folder `parent`: `parent/name`, or `name` at home (`""`).
pub fn file_path(parent: &str, name: &str) -> String {
    if parent.is_empty() { name.to_owned() } else { format!("{parent}/{name}") }
}

/// Folder paths by folder idlocal, from the folders of a listing.
pub fn folder_paths<'a>(folders: impl IntoIterator<Item = &'a File>) -> BTreeMap<i64, String> {
    let by_id: BTreeMap<i64, (&str, i64)> = folders
        .into_iter()
        .filter(|f| f.filetype == FileType::Folder)
        .filter_map(|f| {
            Some((
                i64::try_from(f.fid.idlocal()).ok()?,
                (f.filename.as_str(), f.parent.unwrap_or(HOME_FOLDER)),
            ))
        })
        .collect();
    by_id
        .keys()
        .map(|id| {
            let mut parts = Vec::new();
            let mut current = *id;
            while let Some((name, parent)) = by_id.get(&current) {
                parts.push(*name);
                if parts.len() > by_id.len() {
                    break;
                }
                current = *parent;
            }
            parts.reverse();
            (*id, parts.join("/"))
        })
        .collect()
}

/// Streams `user`'s files (or those in the trash, with `trashed`) with their folder paths,
/// page by page, each file without what a run never uses: links the server makes anew,
/// the owner's profile, comments, stars, collaborators and previews.
pub async fn listed<'a>(
    engine: &'a Engine,
    user: &str,
    trashed: bool,
) -> Result<impl Stream<Item = Result<Selected, Failure>> + Send + 'a, Failure> {
    let paths = folder_paths_of(engine, user).await?;
    let files: Pin<Box<dyn Stream<Item = Result<File, Failure>> + Send + 'a>> = if trashed {
        Box::pin(engine.items(folders::Trashed {
            user: Some(user.to_owned()),
            page_size: Some(PAGE_SIZE),
            page: None,
        }))
    } else {
        Box::pin(engine.items(folders::All {
            user: Some(user.to_owned()),
            filetype: None,
            page_size: Some(PAGE_SIZE),
            page: None,
        }))
    };
    Ok(files.map_ok(move |file| {
        let path = file.parent.and_then(|p| paths.get(&p)).cloned().unwrap_or_default();
        Selected { file: essentials(file), path }
    }))
}

/// A listed file without what a run never uses, so that a run over a large account holds
/// less: the links and image addresses a server makes anew, the owner's profile, comments,
/// stars, collaborators, previews and the (always empty) references of listings. A file's
/// identity, name, place, sharing, dates and views stay, and so do fields not described in
/// [`File`].
fn essentials(mut file: File) -> File {
    file.embed_url = None;
    file.organize_view_url = None;
    file.img_url = None;
    file.image_urls = None;
    file.api_urls = None;
    file.preview = None;
    file.references = None;
    file.referencers = None;
    file.comments = None;
    file.stars = None;
    file.collaborators = None;
    file.user = None;
    file
}

/// The folder paths of `user`'s folders, by idlocal.
async fn folder_paths_of(engine: &Engine, user: &str) -> Result<BTreeMap<i64, String>, Failure> {
    let folders_only = folders::All {
        user: Some(user.to_owned()),
        filetype: Some("fold".to_owned()),
        page_size: Some(PAGE_SIZE),
        page: None,
    };
    let folder_list: Vec<File> = engine.items(folders_only).try_collect().await?;
    Ok(folder_paths(&folder_list))
}

/// Reads explicitly named files, with their folder paths.
pub async fn select_fids(
    engine: &Engine,
    user: &str,
    fids: &[Fid],
) -> Result<Vec<Selected>, Failure> {
    let paths = folder_paths_of(engine, user).await?;
    let mut selected = Vec::new();
    for fid in fids {
        let file = engine.send(&files::Retrieve::new(fid.clone())).await?;
        let path = file.parent.and_then(|p| paths.get(&p)).cloned().unwrap_or_default();
        selected.push(Selected { file, path });
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_empty_parts() {
        assert_eq!(normalise_path("/a//b/"), "a/b");
        assert_eq!(normalise_path("a/b"), "a/b");
        assert_eq!(normalise_path("//"), "");
    }

    fn file(fid: &str, name: &str, kind: FileType, parent: i64) -> File {
        let mut file = File::new(fid.parse().unwrap(), name, kind);
        file.parent = Some(parent);
        file.creation_time = Some("2024-05-02T10:11:12.123456Z".to_owned());
        file.views = Some(7);
        file
    }

    #[test]
    fn folder_paths_follow_parents() {
        let folders = [
            file("a:0", "reports", FileType::Folder, -1),
            file("a:1", "2024", FileType::Folder, 0),
            file("a:2", "x", FileType::Plot, 1),
        ];
        let paths = folder_paths(&folders);
        assert_eq!(
            paths,
            BTreeMap::from([(0, "reports".to_owned()), (1, "reports/2024".to_owned())])
        );
    }

    #[test]
    fn every_filter() {
        let plot = file("a:5", "sales q1", FileType::Plot, 1);
        let at = |text: &str| Some(OffsetDateTime::parse(text, &Rfc3339).unwrap());
        let cases: Vec<(Filter, bool)> = vec![
            (Filter::default(), true),
            (Filter { filetypes: vec![FileType::Grid], ..Filter::default() }, false),
            (Filter { folder: Some("reports".to_owned()), ..Filter::default() }, true),
            (Filter { folder: Some("report".to_owned()), ..Filter::default() }, false),
            (Filter { name: glob::Pattern::new("sales*").ok(), ..Filter::default() }, true),
            (Filter { name: glob::Pattern::new("*q2").ok(), ..Filter::default() }, false),
            (Filter { created_before: at("2025-01-01T00:00:00Z"), ..Filter::default() }, true),
            (Filter { created_after: at("2025-01-01T00:00:00Z"), ..Filter::default() }, false),
            (Filter { modified_after: at("2000-01-01T00:00:00Z"), ..Filter::default() }, false),
            (Filter { min_views: Some(7), max_views: Some(7), ..Filter::default() }, true),
            (Filter { min_views: Some(8), ..Filter::default() }, false),
            (
                Filter {
                    matches: Some(Arc::new(|f: &File| f.filename.len() > 20)),
                    ..Filter::default()
                },
                false,
            ),
        ];
        for (index, (filter, expected)) in cases.into_iter().enumerate() {
            assert_eq!(filter.accepts(&plot, "reports/2024"), expected, "case {index}: {filter:?}");
        }
    }
}
