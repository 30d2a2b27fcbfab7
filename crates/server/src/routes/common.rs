//! The handlers every collection shares: retrieve, update, content, trash, restore, permanent
//! delete and lookup, for `/v2/files` (any kind) and `/v2/{plots,grids,folders}` (one kind each).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use axum::{Json, Router};
use bytes::Bytes;
use chart_studio_models::{ColumnRef, File, FileType, HOME_FOLDER, NumberedPage};
use http::StatusCode;
use serde_json::{Value, json};

use crate::access::View;
use crate::access::{owned, parse_fid, readable};
use crate::auth::Viewer;
use crate::body::Payload;
use crate::content::SlicedGrid;
use crate::db::Scope;
use crate::failure::Failure;
use crate::pages::{RequestUrl, numbered_window};
use crate::render::PlotSources;
use crate::state::Shared;
use crate::store::{Account, Body, Changes, ContentRead, FileRecord, Store, StoreError};

/// Query parameters, read leniently.
pub(crate) type Params = Query<BTreeMap<String, String>>;

/// A collection under `/v2/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Collection {
    Files,
    Plots,
    Grids,
    Folders,
    Dashboards,
    Presentations,
}

impl Collection {
    fn kind(self) -> Option<FileType> {
        match self {
            Self::Files => None,
            Self::Plots => Some(FileType::Plot),
            Self::Grids => Some(FileType::Grid),
            Self::Folders => Some(FileType::Folder),
            Self::Dashboards => Some(FileType::Dashboard),
            Self::Presentations => Some(FileType::Presentation),
        }
    }
}

/// The shared routes of `collection`, to be merged at `/v2/{segment}`.
pub(crate) fn routes(collection: Collection, segment: &str) -> Router<Shared> {
    let at = |rest: &str| format!("/v2/{segment}{rest}");
    let detail: MethodRouter<Shared> =
        get(move |s, v, p, q, u| retrieve(collection, s, v, p, q, u))
            .put(move |s, v, p, u, b| update(collection, s, v, p, u, b))
            .patch(move |s, v, p, u, b| update(collection, s, v, p, u, b));
    Router::new()
        .route(&at("/lookup"), get(move |s, v, q, u| lookup(collection, s, v, q, u)))
        .route(&at("/{fid}"), detail)
        .route(&at("/{fid}/content"), get(move |s, v, p, q| content(collection, s, v, p, q)))
        .route(&at("/{fid}/trash"), post(move |s, v, p| set_trashed(collection, s, v, p, true)))
        .route(&at("/{fid}/restore"), post(move |s, v, p| set_trashed(collection, s, v, p, false)))
        .route(
            &at("/{fid}/permanent_delete"),
            delete(move |s, v, p| permanent_delete(collection, s, v, p)),
        )
}

/// The request's own address, for pagination links.
/// Links name the server's own address, never the request's `Host` header, which a client
/// chooses.
pub(crate) fn request_url(app: &Shared, uri: &http::Uri) -> RequestUrl {
    RequestUrl::new(&app.urls.api, uri)
}

/// A `page` / `page_size` pair from the query.
pub(crate) fn paging(
    app: &Shared,
    params: &BTreeMap<String, String>,
    default_size: u32,
) -> Result<(u32, u32), Failure> {
    let number = |name: &str, default: u32| match params.get(name) {
        None => Ok(default),
        Some(text) => text.parse::<u32>().map_err(|_| {
            Failure::bad_field(name, format!("{name} must be a positive whole number"))
        }),
    };
    Ok((number("page", 1)?, number("page_size", default_size)?.clamp(1, app.limits.max_page_size)))
}

/// A boolean query parameter (`true` / `false`, any case).
pub(crate) fn flag_param(
    params: &BTreeMap<String, String>,
    name: &str,
) -> Result<Option<bool>, Failure> {
    match params.get(name).map(|v| v.to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) if v == "true" || v == "1" => Ok(Some(true)),
        Some(v) if v == "false" || v == "0" => Ok(Some(false)),
        Some(v) => {
            Err(Failure::bad_field(name, format!("{name} must be true or false, not {v:?}")))
        }
    }
}

/// A file as its collection shows it, taken under the store's lock; a plot's figure is copied
/// only by [`Answer::into_json`], after the lock is released.
#[derive(Debug)]
pub(crate) enum Answer {
    File(File),
    Plot(crate::render::PlotView),
    Grid(chart_studio_models::Grid),
    Folder(chart_studio_models::Folder),
    Document(chart_studio_models::Document),
}

impl Answer {
    pub(crate) fn into_json(self) -> Value {
        match self {
            Self::File(file) => serde_json::to_value(file),
            Self::Plot(plot) => serde_json::to_value(plot.into_plot()),
            Self::Grid(grid) => serde_json::to_value(grid),
            Self::Folder(folder) => serde_json::to_value(folder),
            Self::Document(document) => serde_json::to_value(document),
        }
        .unwrap_or_default()
    }
}

/// The account and the record, with its links, of the file `owner` just created.
pub(crate) fn created<'a>(
    store: &'a Store,
    owner: &str,
    idlocal: u64,
) -> Result<(&'a Account, FileRecord), Failure> {
    let account = store.account(owner).ok_or(Failure::NotFound)?;
    let mut record = store.file(owner, idlocal)?.ok_or(Failure::NotFound)?;
    store.link(owner, &mut record, |_, _| true)?;
    Ok((account, record))
}

/// `record` as its collection shows it; folders carry one page of children.
pub(crate) fn render(
    app: &Shared,
    store: &Store,
    viewer: &Viewer,
    collection: Collection,
    (account, mut record, view): (&Account, FileRecord, View),
    children: (u32, u32, &RequestUrl),
) -> Result<Answer, StoreError> {
    let urls = &app.urls;
    // Only the live files the viewer may read, so that a grid's page never reveals another
    // account's private plots.
    store.link(&account.username, &mut record, |owner, file| {
        !file.deleted && crate::access::can_read(viewer, owner, file, None)
    })?;
    let record = &record;
    Ok(match (collection, record.kind()) {
        (Collection::Files, _) => Answer::File(urls.file(store, account, record, view)?),
        (_, FileType::Plot) => Answer::Plot(urls.plot(store, account, record, view)?),
        (_, FileType::Grid) => Answer::Grid(urls.grid(store, account, record, view)?),
        (_, FileType::Dashboard | FileType::Presentation) => {
            Answer::Document(urls.document(store, account, record, view)?)
        }
        (_, FileType::Folder | FileType::Other(_)) => {
            let inside = i64::try_from(record.idlocal).unwrap_or(i64::MAX);
            let page =
                listed(app, store, viewer, (account, Scope::Folder(inside), None), children)?;
            Answer::Folder(urls.folder(store, account, record, view, page)?)
        }
    })
}

/// One page of `account`'s files in `scope` (of type `kind` when given) that `viewer` may see
/// in a listing, read from the database's listing queries.
pub(crate) fn listed(
    app: &Shared,
    store: &Store,
    viewer: &Viewer,
    (account, scope, kind): (&Account, Scope, Option<&str>),
    (page, size, url): (u32, u32, &RequestUrl),
) -> Result<NumberedPage<File>, StoreError> {
    let listing = crate::db::Listing {
        owner: &account.username,
        scope,
        kind,
        public_only: !viewer.is(&account.username),
    };
    let (window, offset) = numbered_window(store.count(&listing)?, page, size, url);
    let records = store.page(&listing, offset, u64::from(size))?;
    let files = records.into_iter().map(|record| (account, record)).collect();
    render_page(app, store, viewer, window, files)
}

/// One page of `files`; only the files on the page are rendered.
pub(crate) fn page_of(
    app: &Shared,
    store: &Store,
    viewer: &Viewer,
    files: Vec<(&Account, FileRecord)>,
    (page, size, url): (u32, u32, &RequestUrl),
) -> Result<NumberedPage<File>, StoreError> {
    let (window, offset) = numbered_window(files.len() as u64, page, size, url);
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let on_page = files.into_iter().skip(offset).take(size.max(1) as usize).collect();
    render_page(app, store, viewer, window, on_page)
}

/// `window` (a page's links and count) with `files`, its files, rendered as listings show them.
pub(crate) fn render_page(
    app: &Shared,
    store: &Store,
    viewer: &Viewer,
    mut window: NumberedPage<File>,
    files: Vec<(&Account, FileRecord)>,
) -> Result<NumberedPage<File>, StoreError> {
    let view =
        |account: &Account| if viewer.is(&account.username) { View::Owner } else { View::Reader };
    window.results = files
        .iter()
        .map(|(account, f)| {
            let mut file = app.urls.file(store, account, f, view(account))?;
            crate::render::as_listed(&mut file);
            Ok(file)
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(window)
}

async fn retrieve(
    collection: Collection,
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
    Query(params): Params,
    uri: http::Uri,
) -> Result<Json<Value>, Failure> {
    let fid = parse_fid(&fid)?;
    let (page, size) = paging(&app, &params, 100)?;
    let url = request_url(&app, &uri);
    let answer = {
        let store = app.store();
        let found = readable(
            &store,
            &viewer,
            &fid,
            collection.kind().as_ref(),
            params.get("share_key").map(String::as_str),
        )?;
        render(&app, &store, &viewer, collection, found, (page, size, &url))?
    };
    Ok(Json(answer.into_json()))
}

async fn update(
    collection: Collection,
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
    uri: http::Uri,
    body: Payload,
) -> Result<Json<Value>, Failure> {
    let fid = parse_fid(&fid)?;
    let figure = body.json_or_text("figure")?;
    let content = body.document("content")?;
    let mut changes = Changes {
        filename: body.text("filename")?,
        parent: body.integer("parent")?,
        parent_path: body.text("parent_path")?,
        world_readable: body.flag("world_readable")?,
        share_key_enabled: body.flag("share_key_enabled")?,
        metadata: body.value("metadata").cloned(),
        body: None,
    };
    let url = request_url(&app, &uri);
    let answer = {
        let mut store = app.store();
        let kind = owned(&store, &viewer, &fid, collection.kind().as_ref())?.kind();
        changes.body = match (figure, content) {
            // INFER: the real update changed metadata only; accepting a figure lets a plot be
            // replaced in place (same fid and URL), which is what clients that PUT one expect.
            (Some(figure), _) => {
                check_figure(&store, &viewer, &figure)?;
                Some(Body::plot(figure))
            }
            (None, Some(content)) => Some(Body::document(&kind, &content).ok_or_else(|| {
                Failure::bad_field("content", format!("a {kind} has no content"))
            })?),
            (None, None) => None,
        };
        store.update(fid.owner(), fid.idlocal(), changes)?;
        let found = readable(&store, &viewer, &fid, None, None)?;
        render(&app, &store, &viewer, collection, found, (1, 100, &url))?
    };
    Ok(Json(answer.into_json()))
}

async fn set_trashed(
    collection: Collection,
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
    trashed: bool,
) -> Result<Json<Value>, Failure> {
    let fid = parse_fid(&fid)?;
    let mut store = app.store();
    owned(&store, &viewer, &fid, collection.kind().as_ref())?;
    store.set_trashed(fid.owner(), fid.idlocal(), trashed)?;
    Ok(Json(json!({})))
}

async fn permanent_delete(
    collection: Collection,
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
) -> Result<StatusCode, Failure> {
    let fid = parse_fid(&fid)?;
    let mut store = app.store();
    owned(&store, &viewer, &fid, collection.kind().as_ref())?;
    store.permanent_delete(fid.owner(), fid.idlocal())?;
    Ok(StatusCode::NO_CONTENT)
}

async fn lookup(
    collection: Collection,
    State(app): State<Shared>,
    viewer: Viewer,
    Query(params): Params,
    uri: http::Uri,
) -> Result<Response, Failure> {
    let path = params.get("path").ok_or_else(|| Failure::bad_field("path", "path is required"))?;
    let owner = match params.get("user") {
        Some(user) => user.clone(),
        None => viewer.require()?.to_owned(),
    };
    let parent = match params.get("parent") {
        Some(text) => text
            .parse()
            .map_err(|_| Failure::bad_field("parent", "parent must be a folder idlocal"))?,
        None => HOME_FOLDER,
    };
    let exists_only = flag_param(&params, "exists")?.unwrap_or(false);
    let url = request_url(&app, &uri);
    let answer = {
        let store = app.store();
        // Another reader finds a file by path only through folders they may read, so that a
        // lookup never confirms the names of private folders.
        let found = match store.lookup(&owner, path, parent)? {
            Some(idlocal) => {
                let through = store.folders_above(&owner, idlocal, parent)?;
                let fid = chart_studio_models::Fid::new(owner.clone(), idlocal).ok();
                match fid {
                    Some(fid)
                        if through.iter().all(|folder| {
                            crate::access::can_read(&viewer, &owner, folder, None)
                        }) =>
                    {
                        match readable(&store, &viewer, &fid, collection.kind().as_ref(), None) {
                            Ok(found) => Some(found),
                            Err(Failure::NotFound) => None,
                            Err(other) => return Err(other),
                        }
                    }
                    _ => None,
                }
            }
            None => None,
        };
        if exists_only {
            return Ok(Json(json!({"exists": found.is_some()})).into_response());
        }
        let found = found.ok_or(Failure::NotFound)?;
        render(&app, &store, &viewer, collection, found, (1, 100, &url))?
    };
    Ok(Json(answer.into_json()).into_response())
}

async fn content(
    collection: Collection,
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
    Query(params): Params,
) -> Result<Response, Failure> {
    let fid = parse_fid(&fid)?;
    let inline = flag_param(&params, "inline_data")?.unwrap_or(false);
    let map_unreadable = params.get("map_data").is_some_and(|v| v == "unreadable");
    // The content is taken under the lock and built after it is released.
    let content = {
        let mut store = app.store();
        let (_, record, view) = readable(
            &store,
            &viewer,
            &fid,
            collection.kind().as_ref(),
            params.get("share_key").map(String::as_str),
        )?;
        let content = match record.kind() {
            FileType::Plot => Content::Plot(
                PlotSources::of(&store, &viewer, fid.owner(), record.idlocal)?
                    .ok_or(Failure::NotFound)?,
            ),
            FileType::Grid => Content::Grid(store.read_of(fid.owner(), &record)?),
            _ => return Err(Failure::NotFound),
        };
        if view == View::Reader {
            store.count_view(fid.owner(), fid.idlocal());
        }
        content
    };
    match content {
        Content::Plot(sources) if inline && !map_unreadable => {
            let pieces = crate::render::off_the_workers(move || sources.inlined_pieces()).await??;
            Ok(crate::render::json_in_pieces(pieces))
        }
        Content::Plot(sources) => {
            json_off_the_workers(move || {
                Ok(serde_json::to_vec(&sources.content(inline, map_unreadable)?))
            })
            .await
        }
        Content::Grid(read) => {
            let pieces = crate::render::off_the_workers(move || grid_json(read)).await??;
            let pieces = pieces.map_err(|_| {
                Failure::Injected(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The answer could not be written.",
                )
            })?;
            Ok(crate::render::json_in_pieces(pieces))
        }
    }
}

/// A grid's content answer, in pieces: from its decoded columns when a change or the cache
/// holds them, else straight from the stored JSON, each column's data a slice of the stored
/// text (never decoded into a JSON tree, nor copied into the answer).
fn grid_json(read: ContentRead) -> Result<serde_json::Result<Vec<Bytes>>, Failure> {
    match read {
        ContentRead::Ready(Body::Grid { columns }) => {
            let columns = columns
                .iter()
                .map(|c| GridColumn {
                    name: &c.name,
                    uid: &c.uid,
                    data: ColumnData::Decoded(&c.data),
                })
                .collect::<Vec<_>>();
            Ok(grid_pieces(&columns, &Bytes::new()))
        }
        ContentRead::Ready(_) => Err(Failure::NotFound),
        ContentRead::Stored { text, key, .. } => {
            let grid = SlicedGrid::of(text, &key).map_err(StoreError::Storage)?;
            let columns = grid
                .columns
                .iter()
                .map(|(name, uid, range)| GridColumn {
                    name,
                    uid,
                    data: ColumnData::Stored(range.clone()),
                })
                .collect::<Vec<_>>();
            Ok(grid_pieces(&columns, &grid.text))
        }
    }
}

/// A grid's content, `{"cols": {name: {data, order, uid}}}` with the names in order, as the
/// pieces of its answer: the text around each column's data, and the data, written from its
/// decoded values or a slice of `stored`.
fn grid_pieces(columns: &[GridColumn<'_>], stored: &Bytes) -> serde_json::Result<Vec<Bytes>> {
    let mut by_name: Vec<(usize, &GridColumn<'_>)> = columns.iter().enumerate().collect();
    by_name.sort_by(|a, b| a.1.name.cmp(b.1.name));
    let mut pieces = Vec::with_capacity(by_name.len() * 2 + 1);
    let mut text = String::from(r#"{"cols":{"#);
    for (n, (order, column)) in by_name.into_iter().enumerate() {
        if n > 0 {
            text.push(',');
        }
        text.push_str(&serde_json::to_string(column.name)?);
        text.push_str(r#":{"data":"#);
        pieces.push(Bytes::from(std::mem::take(&mut text)));
        pieces.push(match &column.data {
            ColumnData::Decoded(values) => Bytes::from(serde_json::to_vec(values)?),
            ColumnData::Stored(range) => stored.slice(range.clone()),
        });
        text.push_str(&format!(
            r#","order":{order},"uid":{}}}"#,
            serde_json::to_string(column.uid)?
        ));
    }
    text.push_str("}}");
    pieces.push(Bytes::from(text));
    Ok(pieces)
}

/// A JSON answer made by `work` on a thread for blocking work: decoding and writing a large
/// grid takes long enough to hold up the other requests of an async worker.
pub(crate) async fn json_off_the_workers(
    work: impl FnOnce() -> Result<serde_json::Result<Vec<u8>>, Failure> + Send + 'static,
) -> Result<Response, Failure> {
    let written = crate::render::off_the_workers(work).await??;
    let bytes = written.map_err(|_| {
        Failure::Injected(StatusCode::INTERNAL_SERVER_ERROR, "The answer could not be written.")
    })?;
    Ok(([(http::header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// A file's content, taken under the store's lock without copying or decoding its data.
enum Content {
    Plot(PlotSources),
    Grid(ContentRead),
}

/// A grid's column as its content answer writes it.
struct GridColumn<'a> {
    name: &'a str,
    uid: &'a str,
    data: ColumnData<'a>,
}

/// A column's data: decoded, or where it stands in the stored JSON.
enum ColumnData<'a> {
    Decoded(&'a [Value]),
    Stored(std::ops::Range<usize>),
}

/// Refuses figures without `data` or `layout`, raw data arrays, and references to columns that
/// do not exist or cannot be read.
pub(crate) fn check_figure(store: &Store, viewer: &Viewer, figure: &Value) -> Result<(), Failure> {
    if !figure.is_object()
        || !(figure.get("data").is_some_and(Value::is_array)
            || figure.get("layout").is_some_and(Value::is_object))
    {
        return Err(Failure::bad_field(
            "figure",
            "figure must be an object with a `data` array or a `layout` object",
        ));
    }
    for (trace_path, trace) in chart_studio_models::traces(figure) {
        if let Some(raw) = chart_studio_models::data_arrays(trace).first() {
            return Err(Failure::bad_field(
                "figure",
                format!(
                    "{trace_path}.{} holds raw data; plots may only reference grid columns: upload the data as a grid and set {}src",
                    raw.path, raw.path
                ),
            ));
        }
        for attribute in chart_studio_models::source_refs(trace) {
            let text = attribute.value.as_str().unwrap_or_default();
            let reference: ColumnRef = text.parse().map_err(|err| {
                Failure::bad_field("figure", format!("{trace_path}.{}: {err}", attribute.path))
            })?;
            let readable = store.column_grid(&reference)?.is_some_and(|grid| {
                crate::access::can_read(viewer, reference.grid.owner(), &grid, None)
            });
            if !readable {
                return Err(Failure::bad_field(
                    "figure",
                    format!(
                        "{trace_path}.{} refers to {reference}, which does not exist or which you cannot read",
                        attribute.path
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::grid_json;
    use crate::content::Cache;
    use crate::store::{Body, ContentRead, StoredColumn};

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("JSON numbers are finite", |f| f.is_finite())
                .prop_map(Value::from),
            "[a-z\"\\\\\u{e9}\u{1F600}\n]{0,6}".prop_map(Value::from),
        ]
    }

    proptest! {
        /// A grid's content answer written from its stored JSON, without decoding it, is the
        /// one written from its decoded columns, byte for byte.
        #[test]
        fn a_grid_answers_the_same_from_its_stored_json(
            columns in proptest::collection::vec(
                ("[a-zA-Z \"\\\\\u{e9}]{0,6}", "[a-z]{6}", proptest::collection::vec(value(), 0..8)),
                0..5,
            ),
        ) {
            let columns: Vec<StoredColumn> = columns
                .into_iter()
                .map(|(name, uid, data)| StoredColumn { name, uid, data })
                .collect();
            let body = Body::grid(columns);
            let text = serde_json::to_string(&body).unwrap();
            let expected: serde_json::Map<String, Value> = match &body {
                Body::Grid { columns } => columns
                    .iter()
                    .enumerate()
                    .map(|(order, c)| {
                        (c.name.clone(), json!({"data": c.data, "order": order, "uid": c.uid}))
                    })
                    .collect(),
                _ => unreachable!(),
            };
            let unique = expected.len() == match &body { Body::Grid { columns } => columns.len(), _ => 0 };
            let whole = |pieces: Vec<bytes::Bytes>| String::from_utf8(pieces.concat()).unwrap();
            let decoded = whole(grid_json(ContentRead::Ready(body)).unwrap().unwrap());
            let cache = Arc::new(Mutex::new(Cache::new(0)));
            let stored = ContentRead::Stored { text, key: ("alice".to_owned(), 1, 0), cache };
            let raw = whole(grid_json(stored).unwrap().unwrap());
            prop_assert_eq!(&raw, &decoded);
            if unique {
                prop_assert_eq!(raw, json!({"cols": expected}).to_string());
            }
        }
    }
}
