//! Bulk operations on Chart Studio files, safely: select files from a streamed listing, run
//! many requests with bounded (and adaptive) concurrency, a token-bucket rate and retries, record
//! every step in an append-only journal that a killed run resumes from, back files up before
//! deleting them, and export or import whole accounts.
//!
//! This is the only client crate that sleeps, and it sleeps through an injected [`Clock`], so
//! its tests need no real time. It runs endpoints; it knows nothing of sharing policy: callers
//! hand it the update requests to send.
//!
//! A plan goes to disk as it is made, then into a sealed journal; a run appends each outcome,
//! and a resumed run does what is still pending:
//!
//! ```
//! use chart_studio_bulk::{Journal, Op, OpKind, Outcome, PlanWriter, Record, RunHeader};
//! use chart_studio_models::{File, FileType};
//!
//! let dir = tempfile::tempdir()?;
//! let mut plan = PlanWriter::new_in(dir.path())?;
//! for fid in ["alice:1", "alice:2"] {
//!     let file = File::new(fid.parse()?, "draft", FileType::Plot);
//!     plan.push(Op::of(0, 0, &file, OpKind::Trash))?;
//! }
//! let mut plan = plan.finish()?;
//! assert_eq!(plan.summary().counts[&("trash".to_owned(), "plot".to_owned())], 2);
//!
//! let header = RunHeader {
//!     version: 1,
//!     command: "trash".into(),
//!     api: "https://api.example.com".into(),
//!     user: "alice".into(),
//!     dir: None,
//!     plan: None,
//! };
//! let path = dir.path().join("trash.jsonl");
//! let journal = Journal::create(&path, &header, &mut plan)?;
//! let done = Outcome::Done { written: None, already_gone: false, imported: None };
//! journal.append(&Record::Outcome { op: 0, outcome: done })?;
//! drop(journal);
//!
//! let state = Journal::load(&path)?;
//! assert_eq!((state.planned, state.pending()), (2, 1));
//! assert!(!state.is_pending(0) && state.is_pending(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backup;
mod bucket;
mod clock;
mod engine;
mod fid_set;
mod figure;
mod files;
mod import;
mod journal;
mod limiter;
mod op;
mod plan;
mod planned;
mod record;
mod report;
mod run;
mod select;
mod spill;

pub use backup::{BackupDir, ExportedFile, Manifest, ManifestEntry, latest_entries, read_manifest};
pub use bucket::TokenBucket;
pub use clock::{Clock, ManualClock, TokioClock};
pub use engine::{Engine, EngineConfig, Failure, Progress, SilentProgress, Stop, is_not_found};
pub use fid_set::FidSet;
pub use figure::{DataGrid, SaveAt, existing, put_data_in_grid, put_document, put_plot};
pub use files::create_private_dir;
pub use import::{Importing, import_ops, import_phase};
pub use journal::{Journal, JournalState, read_ops};
pub use limiter::Limiter;
pub use op::{Conflict, ImportResult, ImportedAs, OnConflict, Op, OpKind, Outcome, Subtree};
pub use plan::{
    DeleteRules, FolderTree, delete_ops, export_ops, grids_of, restorable, restore_ops, trash_ops,
};
pub use planned::{FIRST_SHOWN, PlanFile, PlanSummary, PlanWriter};
pub use record::{PlanSeal, Record, RunHeader};
pub use report::{ActionCounts, Report};
pub use run::{Run, execute, undo_ops};
pub use select::{
    DotSegment, Filter, Matcher, Selected, check_new_path, file_path, folder_paths, listed,
    normalise_path, select_fids,
};
pub use spill::Spill;
