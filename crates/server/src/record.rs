//! A file's record: its metadata and the outline of its content, as the store holds it and
//! the database keeps it (as JSON).

use chart_studio_models::FileType;
use serde_json::Value;

use crate::content::{Links, Outline};

/// One file's metadata and the outline of its content (the content is in the database).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct FileRecord {
    pub idlocal: u64,
    pub filename: String,
    pub parent: i64,
    pub world_readable: bool,
    pub share_key_enabled: bool,
    pub share_key: Option<String>,
    pub deleted: bool,
    /// Creation time in microseconds since the epoch; unique across the server (cursor order).
    pub created: i64,
    pub modified: i64,
    /// Kept beside the record, not in it, so that counting a view never rewrites the file.
    #[serde(skip)]
    pub views: u64,
    pub quality: u32,
    pub featured: bool,
    pub metadata: Option<Value>,
    pub outline: Outline,
    /// Plots: the grids the figure refers to that exist. Kept up to date by the store (not stored).
    #[serde(skip)]
    pub references: Links,
    /// Grids: the plots that refer to this grid. Kept up to date by the store (not stored).
    #[serde(skip)]
    pub referencers: Links,
}

impl FileRecord {
    pub(crate) fn kind(&self) -> FileType {
        self.outline.kind()
    }
}
