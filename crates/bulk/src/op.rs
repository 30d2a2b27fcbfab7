//! Operations: what a bulk run does to each file, as planned and journaled, and what can come
//! of each.

use std::collections::BTreeMap;

use chart_studio_api::files;
use chart_studio_models::{Fid, File, FileType};
use serde::{Deserialize, Serialize};

use crate::backup::ManifestEntry;
use crate::fid_set::FidSet;

/// One operation on one file, as planned and journaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    /// Its number in the run.
    pub id: u64,
    /// Operations of a phase all finish before the next phase starts (plots before grids).
    pub phase: u8,
    /// The file.
    pub fid: Fid,
    /// Its kind.
    pub filetype: FileType,
    /// Its name.
    pub filename: String,
    /// When it was created, as the server said: with the fid and name, it tells a resumed run
    /// whether the fid still names the file that was planned (fids can be reused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// What to do.
    #[serde(flatten)]
    pub kind: OpKind,
}

impl Op {
    /// Whether it writes a backup or export of its file.
    pub fn backs_up(&self) -> bool {
        match &self.kind {
            OpKind::Export { .. } | OpKind::Backup { .. } => true,
            OpKind::Delete { backup, .. } => *backup,
            _ => false,
        }
    }

    /// Operation `id` of `phase`: `kind` on `file`.
    pub fn of(id: u64, phase: u8, file: &File, kind: OpKind) -> Self {
        Self {
            id,
            phase,
            fid: file.fid.clone(),
            filetype: file.filetype.clone(),
            filename: file.filename.clone(),
            created: file.creation_time.clone(),
            kind,
        }
    }
}

/// The files and folders planned inside a folder that is deleted whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subtree {
    /// Its files, at any depth.
    pub files: FidSet,
    /// Its folders, at any depth.
    pub folders: FidSet,
}

/// What an operation does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[allow(
    clippy::large_enum_variant,
    reason = "built once per file and journaled; moving them is not hot"
)]
pub enum OpKind {
    /// Send a metadata update (such as a sharing change); `undo` puts the file back.
    Update {
        /// The update.
        request: files::Update,
        /// The update that restores the state before.
        undo: files::Update,
    },
    /// Move to the trash.
    Trash,
    /// Take out of the trash.
    Restore,
    /// Back up (unless `backup` is false), trash, then delete permanently.
    Delete {
        /// Write and verify a backup first; no verified backup, no delete.
        backup: bool,
        /// The file's folder path, for the backup.
        path: String,
        /// The file's metadata from the listing, which the backup then need not fetch again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        meta: Option<Box<File>>,
        /// For a folder deleted whole: every file planned inside it (at any depth). Before the
        /// folder goes, the server must show nothing else inside, and each file must have a
        /// verified backup from this run.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subtree: Option<Subtree>,
    },
    /// Back up a file that goes with its folder, which a later operation deletes whole.
    Backup {
        /// The file's folder path.
        path: String,
        /// The file's metadata from the listing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        meta: Option<Box<File>>,
        /// The folder whose deletion takes the file with it.
        folder: Fid,
    },
    /// Write the file's metadata and content to the run's directory.
    Export {
        /// The file's folder path.
        path: String,
        /// The file's metadata from the listing, which the export then need not fetch again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        meta: Option<Box<File>>,
    },
    /// Draw a plot as a picture into the run's directory, beside its export.
    Image {
        /// The plot's folder path.
        path: String,
        /// The picture's format.
        format: chart_studio_api::images::ImageFormat,
    },
    /// Re-create a file of a backup or export folder on this server.
    Import {
        /// The file in the folder's manifest.
        entry: ManifestEntry,
        /// What to do when its path holds other content.
        on_conflict: OnConflict,
    },
    /// Planned, but left alone.
    Skip {
        /// Why.
        reason: String,
    },
}

impl OpKind {
    /// Whether it changes or removes what is on the server, so that a run asks first. Exports
    /// and skips only read or do nothing; an import only adds, unless it overwrites.
    pub fn changes_state(&self) -> bool {
        match self {
            Self::Export { .. } | Self::Image { .. } | Self::Backup { .. } | Self::Skip { .. } => {
                false
            }
            Self::Import { on_conflict, .. } => *on_conflict == OnConflict::Overwrite,
            _ => true,
        }
    }

    /// The action's name in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Update { .. } => "update",
            Self::Trash => "trash",
            Self::Restore => "restore",
            Self::Delete { .. } => "delete",
            Self::Export { .. } => "export",
            Self::Image { .. } => "image",
            Self::Backup { .. } => "backup",
            Self::Import { .. } => "import",
            Self::Skip { .. } => "skip",
        }
    }
}

/// What happened to an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// It took effect.
    Done {
        /// The backup or export written first, for deletes and exports.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        written: Option<ManifestEntry>,
        /// The file was gone already, so there was nothing to do.
        #[serde(default, skip_serializing_if = "is_false")]
        already_gone: bool,
        /// For an import: the file's fid on this server, and how it got there.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        imported: Option<ImportedAs>,
    },
    /// Not imported: the path holds a file with other content, left as it is.
    Conflict {
        /// The file, the file found and the path.
        #[serde(flatten)]
        conflict: Conflict,
    },
    /// It was left alone on purpose.
    Skipped {
        /// Why.
        reason: String,
    },
    /// It failed; a resumed run tries it again.
    Failed {
        /// Why.
        reason: String,
    },
}

fn is_false(value: &bool) -> bool {
    !value
}

/// What an import does with a file whose path holds other content on the target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// Leave it as it is and report a conflict.
    #[default]
    Skip,
    /// Replace its content (and sharing) with the backup's, keeping its fid.
    Overwrite,
}

/// What importing one file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedAs {
    /// Its fid on the target.
    pub new: Fid,
    /// How it got there.
    pub result: ImportResult,
    /// For a grid: each column's uid in the backup → its uid on the target (plots need them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, String>,
    /// For a dashboard or presentation: the plots it shows that are not in the backup (left
    /// as they were, pointing at their fids on the server they came from).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_plots: Vec<Fid>,
}

/// How an imported file got to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportResult {
    /// Created.
    Created,
    /// Found at its path with the same content, and reused.
    Unchanged,
    /// Found at its path with other content, replaced in place (same fid) by the backup's.
    Overwritten,
}

/// A file of the backup whose path holds different content on the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The file in the backup.
    pub fid: Fid,
    /// The file now at its path.
    pub found: Fid,
    /// Its path.
    pub path: String,
}
