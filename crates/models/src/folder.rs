//! Folders and their paged children.

use serde::{Deserialize, Serialize};

use crate::{Extra, File, NumberedPage};

/// A folder's children: a page-number page of file objects.
pub type FolderChildren = NumberedPage<File>;

/// A folder as `/v2/folders/{fid}` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Folder {
    /// The folder's own metadata.
    #[serde(flatten)]
    pub file: File,
    /// The files inside, one page at a time.
    #[serde(default)]
    pub children: FolderChildren,
}

impl Folder {
    /// A folder with one page of children.
    pub fn new(file: File, children: FolderChildren) -> Self {
        Self { file, children }
    }
}

/// A listing that is not one folder: `/v2/folders/home` and `/v2/folders/all`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Listing {
    /// The files, one page at a time.
    #[serde(default)]
    pub children: FolderChildren,
    /// Everything else the server says about the listing.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Listing {
    /// A listing of one page of children.
    pub fn new(children: FolderChildren) -> Self {
        Self { children, extra: Extra::new() }
    }
}
