//! `POST /v2/files/{fid}/copy`: a copy of a plot or grid the caller may read, owned by the
//! caller, in their home folder unless `parent_path` or `parent` says otherwise. A plot's copy
//! gets copies of the grids it draws from that the caller may read, and refers to those; a
//! reference to a grid the caller may not read stays as it is (its data shows to nobody who
//! could not see it before). A copy is private unless `world_readable` or `share_key_enabled`
//! say otherwise; its name is the source's, or `NAME (copy)`, `NAME (copy 2)`, ... when taken.
//! The answer has the shape of a create's: `{"file": {...}}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::post;
use axum::{Json, Router};
use chart_studio_models::{ColumnRef, Created, Fid, FileType, source_refs, traces, value_at_mut};
use serde_json::Value;

use super::common::{Params, created};
use crate::access::{View, can_read, parse_fid, readable};
use crate::auth::Viewer;
use crate::body::Payload;
use crate::failure::Failure;
use crate::state::Shared;
use crate::store::{Body, NewFile, Store, StoreError, StoredColumn};

/// A grid's copy: its fid, and each old column uid with its new one.
type GridCopy = (Fid, BTreeMap<String, String>);

/// How many `NAME (copy N)` names are tried before the copy is refused.
const COPY_NAMES: u32 = 100;

pub(crate) fn routes() -> Router<Shared> {
    Router::new().route("/v2/files/{fid}/copy", post(copy))
}

async fn copy(
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
    Query(params): Params,
    body: Payload,
) -> Result<Json<Created<Value>>, Failure> {
    let owner = viewer.require()?.to_owned();
    let fid = parse_fid(&fid)?;
    let mut store = app.store();
    let share_key = params.get("share_key").map(String::as_str);
    let source = readable(&store, &viewer, &fid, None, share_key)?.1.clone();
    let mut target = body.new_file(Body::Folder)?;
    target.filename = None;
    if body.flag("world_readable")?.is_none() {
        target.world_readable = false;
    }
    let body = match store.body(fid.owner(), fid.idlocal())? {
        Some(Body::Grid { columns }) => Body::grid(fresh_uids(&mut store, &columns).0),
        Some(Body::Plot { figure }) => {
            let mut figure = Arc::unwrap_or_clone(figure);
            let mut grids: BTreeMap<Fid, GridCopy> = BTreeMap::new();
            let references: Vec<(String, ColumnRef)> = traces(&figure)
                .into_iter()
                .flat_map(|(trace_path, trace)| {
                    source_refs(trace).into_iter().filter_map(move |attribute| {
                        let reference = attribute.value.as_str()?.parse().ok()?;
                        Some((format!("{trace_path}.{}", attribute.path), reference))
                    })
                })
                .collect();
            for (at, reference) in references {
                if !grids.contains_key(&reference.grid) {
                    let Some(copied) =
                        copy_grid(&mut store, &viewer, &owner, &target, &reference.grid)?
                    else {
                        continue;
                    };
                    grids.insert(reference.grid.clone(), copied);
                }
                let (grid, uids) = &grids[&reference.grid];
                if let (Some(uid), Some(value)) =
                    (uids.get(&reference.uid), value_at_mut(&mut figure, &at))
                {
                    *value = Value::String(format!("{grid}:{uid}"));
                }
            }
            Body::plot(figure)
        }
        _ => return Err(Failure::bad("Only plots and grids can be copied.")),
    };
    let idlocal = create_named(&mut store, &owner, &source.filename, NewFile { body, ..target })?;
    let (account, record) = created(&store, &owner, idlocal)?;
    let rendered = match record.kind() {
        FileType::Plot => {
            serde_json::to_value(app.urls.plot(&store, account, &record, View::Owner)?.into_plot())
        }
        _ => serde_json::to_value(app.urls.grid(&store, account, &record, View::Owner)?),
    };
    Ok(Json(Created::new(rendered.unwrap_or_default())))
}

/// A copy of grid `fid` for `owner` beside the plot's copy, if the viewer may read it: its
/// fid, and each old column uid with its new one.
fn copy_grid(
    store: &mut Store,
    viewer: &Viewer,
    owner: &str,
    target: &NewFile,
    fid: &Fid,
) -> Result<Option<GridCopy>, Failure> {
    let Some(record) = store.file(fid.owner(), fid.idlocal())? else {
        return Ok(None);
    };
    if !can_read(viewer, fid.owner(), &record, None) {
        return Ok(None);
    }
    let name = record.filename.clone();
    let Some(Body::Grid { columns }) = store.body(fid.owner(), fid.idlocal())? else {
        return Ok(None);
    };
    let (columns, uids) = fresh_uids(store, &columns);
    let new = NewFile { body: Body::grid(columns), ..target.clone() };
    let idlocal = create_named(store, owner, &name, new)?;
    let new_fid = Fid::new(owner, idlocal).map_err(|_| Failure::NotFound)?;
    Ok(Some((new_fid, uids)))
}

/// The columns with new uids, and each old uid with its new one.
fn fresh_uids(
    store: &mut Store,
    columns: &[StoredColumn],
) -> (Vec<StoredColumn>, BTreeMap<String, String>) {
    let mut taken = std::collections::BTreeSet::new();
    let mut uids = BTreeMap::new();
    let columns = columns
        .iter()
        .map(|column| {
            let uid = store.column_uid(&taken);
            taken.insert(uid.clone());
            uids.insert(column.uid.clone(), uid.clone());
            StoredColumn { uid, ..column.clone() }
        })
        .collect();
    (columns, uids)
}

/// Creates `new` as `name`, or `name (copy)`, `name (copy 2)`, ... when the name is taken.
fn create_named(store: &mut Store, owner: &str, name: &str, new: NewFile) -> Result<u64, Failure> {
    for n in 0..COPY_NAMES {
        let filename = match n {
            0 => name.to_owned(),
            1 => format!("{name} (copy)"),
            n => format!("{name} (copy {n})"),
        };
        match store.create(owner, NewFile { filename: Some(filename), ..new.clone() }) {
            Err(StoreError::Exists(_)) => continue,
            result => return Ok(result?),
        }
    }
    Err(Failure::bad(format!(
        "{name} and its first {COPY_NAMES} copies exist already; rename one first"
    )))
}
