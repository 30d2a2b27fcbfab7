//! `/v2/grids`: creation, columns (`/col`), rows (`/row`) and destroy.

use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chart_studio_models::{ColumnInfo, ColumnList, Created, Grid};
use http::StatusCode;
use serde_json::{Value, json};

use super::common::{Params, created};
use crate::access::View;
use crate::access::{owned, parse_fid, readable};
use crate::auth::Viewer;
use crate::body::Payload;
use crate::failure::Failure;
use crate::state::Shared;
use crate::store::{Body, NewFile, StoreError, StoredColumn};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v2/grids", post(create))
        .route("/v2/grids/{fid}", delete(destroy))
        .route(
            "/v2/grids/{fid}/col",
            get(columns_get).post(columns_append).put(columns_replace).delete(columns_delete),
        )
        .route("/v2/grids/{fid}/row", post(rows_append))
}

/// `{"cols": {name: {data: [...], order: n}}}` (or that as a JSON string) into ordered columns.
fn parse_grid_data(data: &Value) -> Result<Vec<(String, Vec<Value>)>, Failure> {
    let cols = data.get("cols").and_then(Value::as_object).ok_or_else(|| {
        Failure::bad_field(
            "data",
            "data must look like {\"cols\": {\"name\": {\"data\": [...], \"order\": 0}}}",
        )
    })?;
    let mut columns = Vec::new();
    for (name, column) in cols {
        let values = column.get("data").and_then(Value::as_array).ok_or_else(|| {
            Failure::bad_field("data", format!("column {name:?} has no `data` array"))
        })?;
        let order = column.get("order").and_then(Value::as_u64).unwrap_or(u64::MAX);
        columns.push((order, name.clone(), values.clone()));
    }
    columns.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(columns.into_iter().map(|(_, name, values)| (name, values)).collect())
}

async fn create(
    State(app): State<Shared>,
    viewer: Viewer,
    body: Payload,
) -> Result<(StatusCode, Json<Created<Grid>>), Failure> {
    let owner = viewer.require()?.to_owned();
    let data = body
        .json_or_text("data")?
        .ok_or_else(|| Failure::bad_field("data", "This field is required."))?;
    let parsed = parse_grid_data(&data)?;
    let mut store = app.store();
    let mut taken = BTreeSet::new();
    let mut columns = Vec::new();
    for (name, data) in parsed {
        let uid = store.column_uid(&taken);
        taken.insert(uid.clone());
        columns.push(StoredColumn { name, uid, data });
    }
    let new = NewFile {
        metadata: body.value("metadata").cloned(),
        ..body.new_file(Body::grid(columns))?
    };
    let idlocal = store.create(&owner, new)?;
    let (account, record) = created(&store, &owner, idlocal)?;
    let grid = app.urls.grid(&store, account, &record, View::Owner)?;
    Ok((StatusCode::CREATED, Json(Created::new(grid))))
}

async fn destroy(
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
) -> Result<StatusCode, Failure> {
    let fid = parse_fid(&fid)?;
    let mut store = app.store();
    owned(&store, &viewer, &fid, Some(&chart_studio_models::FileType::Grid))?;
    store.remove(fid.owner(), fid.idlocal())?;
    Ok(StatusCode::NO_CONTENT)
}

/// The `uid` query parameter, split on commas.
fn uids(params: &std::collections::BTreeMap<String, String>) -> Result<Vec<String>, Failure> {
    let list: Vec<String> = params
        .get("uid")
        .map(|u| u.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    if list.is_empty() {
        return Err(Failure::bad_field(
            "uid",
            "uid is required: a comma-separated list of column uids",
        ));
    }
    Ok(list)
}

fn find_column(columns: &[StoredColumn], uid: &str) -> Result<usize, Failure> {
    columns
        .iter()
        .position(|c| c.uid == uid)
        .ok_or_else(|| Failure::bad_field("uid", format!("the grid has no column {uid:?}")))
}

/// A column sent in a `cols` body: its name, if given, and its data.
type SentColumn = (Option<String>, Vec<Value>);

/// The `cols` body: a list of `{name, data}` (or that as a JSON string).
fn new_columns(body: &Payload) -> Result<Vec<SentColumn>, Failure> {
    let cols = body
        .json_or_text("cols")?
        .ok_or_else(|| Failure::bad_field("cols", "This field is required."))?;
    let list = cols
        .as_array()
        .ok_or_else(|| Failure::bad_field("cols", "cols must be a list of {name, data}"))?;
    list.iter()
        .map(|col| {
            let data = col
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| Failure::bad_field("cols", "each column needs a `data` array"))?;
            Ok((col.get("name").and_then(Value::as_str).map(str::to_owned), data.clone()))
        })
        .collect()
}

fn listing(columns: &[StoredColumn], with_data: bool) -> ColumnList {
    ColumnList::new(
        columns
            .iter()
            .map(|c| {
                let mut info = ColumnInfo::new(&c.name, &c.uid);
                if with_data {
                    info.data = Some(c.data.clone());
                }
                info
            })
            .collect(),
    )
}

async fn columns_get(
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
    Query(params): Params,
) -> Result<axum::response::Response, Failure> {
    let fid = parse_fid(&fid)?;
    let wanted = uids(&params)?;
    // The columns are read under the lock, and decoded and copied after it is released.
    let read = {
        let store = app.store();
        let (_, record, _) = readable(
            &store,
            &viewer,
            &fid,
            Some(&chart_studio_models::FileType::Grid),
            params.get("share_key").map(String::as_str),
        )?;
        store.read_of(fid.owner(), &record)?
    };
    super::common::json_off_the_workers(move || {
        let Body::Grid { columns } = read.load().map_err(StoreError::Storage)? else {
            return Err(Failure::NotFound);
        };
        let chosen: Vec<StoredColumn> = wanted
            .iter()
            .map(|uid| find_column(&columns, uid).map(|i| columns[i].clone()))
            .collect::<Result<_, _>>()?;
        Ok(serde_json::to_vec(&listing(&chosen, true)))
    })
    .await
}

async fn columns_append(
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
    body: Payload,
) -> Result<Json<ColumnList>, Failure> {
    let fid = parse_fid(&fid)?;
    let added = new_columns(&body)?;
    let mut store = app.store();
    let grid = owned(&store, &viewer, &fid, Some(&chart_studio_models::FileType::Grid))?;
    let mut taken: BTreeSet<String> =
        grid.outline.columns().iter().map(|c| c.uid.clone()).collect();
    let mut names: BTreeSet<String> =
        grid.outline.columns().iter().map(|c| c.name.clone()).collect();
    let mut created = Vec::new();
    for (name, data) in added {
        let name =
            name.ok_or_else(|| Failure::bad_field("cols", "each new column needs a `name`"))?;
        if !names.insert(name.clone()) {
            return Err(Failure::bad_field(
                "cols",
                format!("a column named {name:?} already exists"),
            ));
        }
        let uid = store.column_uid(&taken);
        taken.insert(uid.clone());
        created.push(StoredColumn { name, uid, data });
    }
    store.change_columns(fid.owner(), fid.idlocal(), |columns| {
        columns.extend(created.iter().cloned());
        Ok::<_, Failure>(())
    })?;
    Ok(Json(listing(&created, false)))
}

async fn columns_replace(
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
    Query(params): Params,
    body: Payload,
) -> Result<Json<ColumnList>, Failure> {
    let fid = parse_fid(&fid)?;
    let wanted = uids(&params)?;
    let replacements = new_columns(&body)?;
    if replacements.len() != wanted.len() {
        return Err(Failure::bad_field(
            "cols",
            format!("{} uids but {} columns given", wanted.len(), replacements.len()),
        ));
    }
    let mut store = app.store();
    owned(&store, &viewer, &fid, Some(&chart_studio_models::FileType::Grid))?;
    let changed = store.change_columns(fid.owner(), fid.idlocal(), |columns| {
        // Every uid and every new name is checked before anything changes.
        let mut names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let mut indexes = Vec::new();
        for (uid, (name, _)) in wanted.iter().zip(&replacements) {
            let index = find_column(columns, uid)?;
            if indexes.contains(&index) {
                return Err(Failure::bad_field(
                    "uid",
                    format!("the column {uid:?} is given twice"),
                ));
            }
            indexes.push(index);
            if let Some(name) = name {
                names[index] = name;
            }
        }
        let mut seen = BTreeSet::new();
        if let Some(taken) = names.iter().find(|name| !seen.insert(**name)) {
            return Err(Failure::bad_field(
                "cols",
                format!("a column named {taken:?} already exists"),
            ));
        }
        let mut changed = Vec::new();
        for (index, (name, data)) in indexes.into_iter().zip(replacements) {
            if let Some(name) = name {
                columns[index].name = name;
            }
            columns[index].data = data;
            changed.push(columns[index].clone());
        }
        Ok(changed)
    })?;
    Ok(Json(listing(&changed, false)))
}

async fn columns_delete(
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
    Query(params): Params,
) -> Result<StatusCode, Failure> {
    let fid = parse_fid(&fid)?;
    let wanted = uids(&params)?;
    let mut store = app.store();
    owned(&store, &viewer, &fid, Some(&chart_studio_models::FileType::Grid))?;
    store.change_columns(fid.owner(), fid.idlocal(), |columns| {
        for uid in &wanted {
            find_column(columns, uid)?;
        }
        columns.retain(|c| !wanted.contains(&c.uid));
        Ok::<_, Failure>(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rows_append(
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
    body: Payload,
) -> Result<(StatusCode, Json<Value>), Failure> {
    let fid = parse_fid(&fid)?;
    let rows = body
        .value("rows")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| Failure::bad_field("rows", "rows must be a list of rows"))?;
    let mut store = app.store();
    owned(&store, &viewer, &fid, Some(&chart_studio_models::FileType::Grid))?;
    store.change_columns(fid.owner(), fid.idlocal(), |columns| {
        for (index, row) in rows.iter().enumerate() {
            let cells = row
                .as_array()
                .ok_or_else(|| Failure::bad_field("rows", format!("row {index} is not a list")))?;
            if cells.len() != columns.len() {
                return Err(Failure::bad_field(
                    "rows",
                    format!(
                        "row {index} has {} values; the grid has {} columns",
                        cells.len(),
                        columns.len()
                    ),
                ));
            }
        }
        for row in rows.iter().filter_map(Value::as_array) {
            for (column, cell) in columns.iter_mut().zip(row) {
                column.data.push(cell.clone());
            }
        }
        Ok(())
    })?;
    Ok((StatusCode::CREATED, Json(json!({}))))
}
