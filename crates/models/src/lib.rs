//! Typed serde models for the JSON that the Plotly Chart Studio REST API v2 returns and accepts.
//!
//! Every model keeps the fields it does not know in an `extra` map, so parsing a response and
//! serializing it again gives back the same JSON value. Nullable fields are `Option`s; fields that a
//! server only sends sometimes (admin-only fields, plot-only fields) are skipped when absent.
//! This crate knows nothing about HTTP.

mod decode;
mod error_body;
mod fid;
mod figure;
mod file;
mod folder;
mod grid;
mod page;
mod plot;
mod user;

pub use decode::{DecodeError, from_json_slice};
pub use error_body::{ErrorBody, ErrorItem};
pub use fid::{ColumnRef, Fid, FidError, HOME_FOLDER};
pub use figure::{
    TraceAttribute, clean_legacy, column_refs, data_arrays, data_columns, referenced_grids,
    replace_attribute, source_refs, traces, use_reference, value_at_mut,
};
pub use file::{Counted, Created, File, FileType};
pub use folder::{Folder, FolderChildren, Listing};
pub use grid::{Column, ColumnInfo, ColumnList, Grid, GridContent};
pub use page::{CursorPage, NumberedPage};
pub use plot::Plot;
pub use user::User;

/// Unknown JSON fields, kept verbatim so that a model round-trips losslessly.
pub type Extra = serde_json::Map<String, serde_json::Value>;
