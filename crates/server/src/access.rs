//! Who may read and change which file.

use chart_studio_models::{Fid, FileType};
use chart_studio_sharing::Sharing;
use subtle::ConstantTimeEq;

use crate::auth::Viewer;
use crate::failure::Failure;
use crate::store::{Account, FileRecord, Store};

/// How a file is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// The owner: admin fields included.
    Owner,
    /// Anyone else who may read the file.
    Reader,
}

/// Whether `viewer` may read `record` (owned by `owner`), given an optional share key.
pub(crate) fn can_read(
    viewer: &Viewer,
    owner: &str,
    record: &FileRecord,
    share_key: Option<&str>,
) -> bool {
    if viewer.is(owner) {
        return true;
    }
    if record.deleted {
        return false;
    }
    match Sharing::from_fields(record.world_readable, record.share_key_enabled) {
        Sharing::Public => true,
        Sharing::Secret => key_matches(record.share_key.as_deref(), share_key),
        Sharing::Private => false,
    }
}

/// Whether `viewer`, who may read a plot of `plot_owner`, may see the data of `grid` (owned by
/// `grid_owner`) through it, decided each time the data is served: the grid is not in the trash,
/// and it is the plot owner's own (sharing a plot shares its data) or the viewer may read it
/// (another account's grid made private stops showing through plots that use it).
pub(crate) fn may_serve_data(
    viewer: &Viewer,
    plot_owner: &str,
    grid_owner: &str,
    grid: &FileRecord,
) -> bool {
    !grid.deleted && (grid_owner == plot_owner || can_read(viewer, grid_owner, grid, None))
}

/// Constant-time comparison of a stored share key with a given one.
fn key_matches(stored: Option<&str>, given: Option<&str>) -> bool {
    match (stored, given) {
        (Some(stored), Some(given)) => bool::from(stored.as_bytes().ct_eq(given.as_bytes())),
        _ => false,
    }
}

/// A file id from a path segment (400 when malformed).
pub(crate) fn parse_fid(text: &str) -> Result<Fid, Failure> {
    text.parse().map_err(|err: chart_studio_models::FidError| Failure::bad(err.to_string()))
}

/// A file the viewer may read, of kind `kind` (any kind for `None`); 404 otherwise.
pub(crate) fn readable<'a>(
    store: &'a Store,
    viewer: &Viewer,
    fid: &Fid,
    kind: Option<&FileType>,
    share_key: Option<&str>,
) -> Result<(&'a Account, FileRecord, View), Failure> {
    let account = store.account(fid.owner()).ok_or(Failure::NotFound)?;
    let record = store.file(fid.owner(), fid.idlocal())?.ok_or(Failure::NotFound)?;
    if kind.is_some_and(|kind| *kind != record.kind())
        || !can_read(viewer, fid.owner(), &record, share_key)
    {
        return Err(Failure::NotFound);
    }
    let view = if viewer.is(fid.owner()) { View::Owner } else { View::Reader };
    Ok((account, record, view))
}

/// A file the viewer owns: 401 anonymous, 404 when not readable, 403 when readable but not theirs.
pub(crate) fn owned(
    store: &Store,
    viewer: &Viewer,
    fid: &Fid,
    kind: Option<&FileType>,
) -> Result<FileRecord, Failure> {
    viewer.require()?;
    let (_, record, view) = readable(store, viewer, fid, kind, None)?;
    if view != View::Owner {
        return Err(Failure::Forbidden);
    }
    Ok(record)
}
