//! Typed serde models for the JSON that the Plotly Chart Studio REST API v2 returns and accepts.
//!
//! Every model keeps the fields it does not know in an `extra` map, so parsing a response and
//! serializing it again gives back the same JSON value. Nullable fields are `Option`s; fields that a
//! server only sends sometimes (admin-only fields, plot-only fields) are skipped when absent.
//! This crate knows nothing about HTTP.
//!
//! ```
//! use chart_studio_models::{Fid, File, FileType, from_json_slice, referenced_grids};
//!
//! // A listing entry, as the server sends it; fields this crate does not name stay in `extra`.
//! let body = br#"{"fid": "alice:12", "filename": "sales", "filetype": "plot",
//!                 "world_readable": false, "share_key_enabled": true, "badge": "new"}"#;
//! let file: File = from_json_slice(body)?;
//! assert_eq!((file.fid.owner(), file.fid.idlocal()), ("alice", 12));
//! assert_eq!(file.filetype, FileType::Plot);
//! assert_eq!(file.extra["badge"], "new");
//!
//! // A plot's figure names its grids' columns in `*src` attributes.
//! let figure = serde_json::json!({"data": [{"type": "bar", "xsrc": "alice:7:1a2b3c", "ysrc": "alice:7:4d5e6f"}]});
//! let grids: Vec<Fid> = referenced_grids(&figure).into_iter().collect();
//! assert_eq!(grids, ["alice:7".parse::<Fid>()?]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod decode;
mod document;
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
pub use document::{Document, PlotLink, plot_link_in_url, plots_in, visit_plots};
pub use error_body::{ErrorBody, ErrorItem};
pub use fid::{ColumnRef, Fid, FidError, HOME_FOLDER};
pub use figure::{
    FigureError, TraceAttribute, check_traces, clean_legacy, column_refs, data_arrays,
    data_columns, referenced_grids, replace_attribute, source_refs, traces, use_reference,
    value_at_mut,
};
pub use file::{Counted, Created, File, FileType};
pub use folder::{Folder, FolderChildren, Listing};
pub use grid::{Column, ColumnInfo, ColumnList, Grid, GridContent, cell_text};
pub use page::{CursorPage, NumberedPage};
pub use plot::Plot;
pub use user::User;

/// Unknown JSON fields, kept verbatim so that a model round-trips losslessly.
pub type Extra = serde_json::Map<String, serde_json::Value>;
