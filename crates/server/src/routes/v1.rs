//! The v1 API that old clients still call (MATLAB, Node's `plotly` package, early R):
//!
//! - `POST /clientresp` (a form: `un`, `key`, `origin=plot`, `platform`, `version`, `args`: the
//!   traces as JSON, `kwargs`: `filename`, `fileopt`, `world_readable`, `layout`) makes a plot,
//!   or with `fileopt=overwrite` replaces the one of that name; the traces' data goes into a grid
//!   beside it, `NAME_grid`, as the v2 clients do. It answers `url`, `filename`, `message`,
//!   `warning` and `error`, always with 200: v1 told errors by a non-empty `error`.
//! - `GET /apigetfile/USER/N` with the `plotly-username`, `plotly-apikey`, `plotly-version` and
//!   `plotly-platform` headers answers `{"payload": {"figure": ...}}`, the figure with its data,
//!   with the service's statuses: 422 when a header is missing, 404 for an unknown account or
//!   file, 401 for a wrong key, 403 for a file the account may not read.
//!
//! Not served: `fileopt` `append` and `extend`, `origin`s other than `plot` (the v1 style and
//! layout calls), and `/apigenimage` (`/v2/images` and `/~USER/N.png` draw images); each such
//! call gets an answer that says so.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use chart_studio_models::{Fid, FileType, HOME_FOLDER, data_columns, use_reference};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use crate::auth::{Peer, Viewer};
use crate::body::Payload;
use crate::failure::Failure;
use crate::faults::Requester;
use crate::state::Shared;
use crate::store::{Body, Changes, NewFile, Store, StoreError, StoredColumn};

/// The routes.
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route(crate::layer::CLIENTRESP, post(clientresp))
        .route(&format!("{}{{user}}/{{id}}", crate::layer::APIGETFILE), get(apigetfile))
        .route("/apigenimage", post(apigenimage))
}

/// The service's answer to a request from an account it does not have.
fn no_account(username: &str) -> String {
    format!(
        "Aw, snap! We don't have an account for {username}. Want to try again? Sign in is not case sensitive."
    )
}

/// The service's answer to a key that is not the account's.
fn wrong_key(username: &str) -> String {
    format!(
        "Aw, snap! You tried to use our API as the user '{username}', but the supplied API key doesn't match our records."
    )
}

const NO_FILE: &str = "Aw, snap! It looks like this file does not exist. Want to try again?";

/// A v1 error: `{"error": message}` with `status`.
fn failed(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": message.into()}))).into_response()
}

/// Checks `username` and `key` as v1 did: an unknown account and a wrong key are told apart
/// (the account pages show which accounts exist anyway). Failed tries count as for v2.
fn check(
    app: &Shared,
    peer: Option<std::net::IpAddr>,
    username: &str,
    key: &str,
) -> Result<(), (StatusCode, String)> {
    match crate::auth::check_key(app, peer, username, key) {
        Ok(()) => Ok(()),
        Err(Failure::TooManyFailures(wait)) => {
            Err((StatusCode::TOO_MANY_REQUESTS, Failure::TooManyFailures(wait).to_string()))
        }
        Err(_) if app.store().account(username).is_none() => {
            Err((StatusCode::NOT_FOUND, no_account(username)))
        }
        Err(_) => Err((StatusCode::UNAUTHORIZED, wrong_key(username))),
    }
}

async fn apigetfile(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Path((owner, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let names = ["plotly-username", "plotly-apikey", "plotly-version", "plotly-platform"];
    let missing: Vec<&str> = names.into_iter().filter(|name| header(name).is_none()).collect();
    if !missing.is_empty() {
        return failed(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Aw, snap! This request is missing the {} header(s).", missing.join(", ")),
        );
    }
    let (username, key) = (header(names[0]).unwrap_or(""), header(names[1]).unwrap_or(""));
    // Empty credentials read as anonymous: public plots only.
    let (viewer, who) = if username.is_empty() && key.is_empty() {
        let address = peer.map(|ip| ip.to_string()).unwrap_or_default();
        (Viewer::Anonymous, Requester::Address(address))
    } else {
        if let Err((status, message)) = check(&app, peer, username, key) {
            return failed(status, message);
        }
        (Viewer::User(username.to_owned()), Requester::Account(username.to_owned()))
    };
    if let Err(failure) = app.charge(&who, &Method::GET) {
        return failure.into_response();
    }
    let Some(fid) = id.parse::<u64>().ok().and_then(|id| Fid::new(&owner, id).ok()) else {
        return failed(StatusCode::NOT_FOUND, NO_FILE);
    };
    let sources = {
        let store = app.store();
        let record = match store.file(fid.owner(), fid.idlocal()) {
            Ok(Some(record)) if !record.deleted => record,
            Ok(_) => return failed(StatusCode::NOT_FOUND, NO_FILE),
            Err(err) => return Failure::from(err).into_response(),
        };
        if !crate::access::can_read(&viewer, fid.owner(), &record, None) {
            return failed(
                StatusCode::FORBIDDEN,
                "Aw, snap! You don't have permission to view this file.",
            );
        }
        if record.kind() != FileType::Plot {
            return failed(
                StatusCode::BAD_REQUEST,
                format!("Aw, snap! {fid} is a {}: apigetfile gets plots.", record.kind()),
            );
        }
        match crate::render::PlotSources::of(&store, &viewer, fid.owner(), fid.idlocal()) {
            Ok(Some(sources)) => sources,
            Ok(None) => return failed(StatusCode::NOT_FOUND, NO_FILE),
            Err(err) => return Failure::from(err).into_response(),
        }
    };
    match crate::render::off_the_workers(move || sources.inlined_pieces()).await {
        Ok(Ok(figure)) => {
            let mut pieces = vec![Bytes::from_static(br#"{"payload":{"figure":"#)];
            pieces.extend(figure);
            pieces.push(Bytes::from_static(b"}}"));
            crate::render::json_in_pieces(pieces)
        }
        Ok(Err(err)) | Err(err) => Failure::from(err).into_response(),
    }
}

async fn apigenimage() -> Response {
    failed(
        StatusCode::NOT_FOUND,
        "Aw, snap! /apigenimage is not served by this server: draw images with POST /v2/images or /~USER/N.png.",
    )
}

/// What `/clientresp` answers: v1 always answered 200, with the error in `error`.
fn answer(url: &str, filename: &str, error: &str) -> Response {
    axum::Json(json!({
        "url": url,
        "filename": filename,
        "message": "",
        "warning": "",
        "error": error,
    }))
    .into_response()
}

async fn clientresp(State(app): State<Shared>, Peer(peer): Peer, body: Payload) -> Response {
    match make_plot(&app, peer, &body).await {
        Ok((url, filename)) => answer(&url, &filename, ""),
        Err(message) => answer("", "", &message),
    }
}

/// How `/clientresp` saves a plot whose name is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileOpt {
    /// A new plot; a taken name gets a number: `NAME (2)`.
    New,
    /// The plot of that name gets the new figure (and its grid the new data).
    Overwrite,
}

/// The plot a `/clientresp` form asks for, saved and committed under its account's lock for
/// writes (taken here: the account is named in the body, so the request layer takes no lock
/// for this route); its page's address and its name.
async fn make_plot(
    app: &Shared,
    peer: Option<std::net::IpAddr>,
    body: &Payload,
) -> Result<(String, String), String> {
    let field = |name: &str| body.text(name).ok().flatten().unwrap_or_default();
    let (username, key) = (field("un"), field("key"));
    if username.is_empty() || key.is_empty() {
        return Err("Aw, snap! Both un (your username) and key (your API key) are required.".into());
    }
    check(app, peer, &username, &key).map_err(|(_, message)| message)?;
    let account = Requester::Account(username.clone());
    app.charge(&account, &Method::POST).map_err(|failure| failure.to_string())?;
    match field("origin").as_str() {
        "plot" | "" => {}
        other => {
            return Err(format!(
                "Aw, snap! origin {other:?} is not served by this server: only plot is."
            ));
        }
    }
    let Ok(Some(Value::Array(traces))) = body.json_or_text("args") else {
        return Err("Aw, snap! args must be a JSON list of traces.".into());
    };
    let kwargs = match body.json_or_text("kwargs") {
        Ok(Some(Value::Object(kwargs))) => kwargs,
        Ok(None) => serde_json::Map::new(),
        _ => return Err("Aw, snap! kwargs must be a JSON object.".into()),
    };
    let fileopt = match kwargs.get("fileopt").and_then(Value::as_str).unwrap_or("new") {
        "new" => FileOpt::New,
        "overwrite" => FileOpt::Overwrite,
        other => {
            return Err(format!(
                "Aw, snap! fileopt {other:?} is not served by this server: use new or overwrite."
            ));
        }
    };
    let world_readable = match kwargs.get("world_readable") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(public)) => *public,
        Some(Value::String(text)) => !text.eq_ignore_ascii_case("false"),
        Some(_) => return Err("Aw, snap! world_readable must be true or false.".into()),
    };
    let layout = kwargs.get("layout").cloned().unwrap_or_else(|| json!({}));
    let name = match kwargs.get("filename").and_then(Value::as_str).map(str::trim) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => "untitled".to_owned(),
    };
    // A `/` in the name makes folders, as v1 did.
    let (folder, name) = match name.rsplit_once('/') {
        Some((folder, name)) => (folder.trim_matches('/').to_owned(), name.trim().to_owned()),
        None => (String::new(), name),
    };
    let mut figure = json!({"data": traces, "layout": layout});
    let writing = app.lock_writes(Some(&username)).await.map_err(|err| {
        format!("Aw, snap! The server could not take the lock for writes: {err:#}")
    })?;
    let saved =
        save(&mut app.store(), &username, (&folder, &name), fileopt, world_readable, &mut figure);
    let (idlocal, filename) = saved.map_err(|err| format!("Aw, snap! {err}"))?;
    app.persist().map_err(|err| format!("Aw, snap! The plot could not be saved: {err:#}"))?;
    drop(writing);
    Ok((format!("{}/~{username}/{idlocal}", app.urls.web.trim_end_matches('/')), filename))
}

/// Saves `figure` (raw data) as the plot `name` in `folder` of `owner` with its data in the grid
/// `NAME_grid` beside it: new ones, or with [`FileOpt::Overwrite`] the ones of those names.
/// Everything that can refuse is checked before anything but the folders is changed.
fn save(
    store: &mut Store,
    owner: &str,
    (folder, name): (&str, &str),
    fileopt: FileOpt,
    world_readable: bool,
    figure: &mut Value,
) -> Result<(u64, String), StoreError> {
    let parent =
        if folder.is_empty() { HOME_FOLDER } else { store.mkdir_p(owner, folder, HOME_FOLDER)? };
    let existing = |store: &Store, name: &str| store.child_named(owner, parent, name);
    let name = match fileopt {
        FileOpt::Overwrite => name.to_owned(),
        FileOpt::New => {
            let mut free = name.to_owned();
            let mut n = 1;
            while existing(store, &free)?.is_some()
                || existing(store, &format!("{free}_grid"))?.is_some()
            {
                n += 1;
                free = format!("{name} ({n})");
            }
            free
        }
    };
    let grid_name = format!("{name}_grid");
    let kind_at = |store: &Store, name: &str, kind: FileType| -> Result<Option<u64>, StoreError> {
        let Some(idlocal) = existing(store, name)? else { return Ok(None) };
        let found = store.file(owner, idlocal)?.map(|file| file.kind());
        match found {
            None => Ok(None),
            Some(found) if found == kind => Ok(Some(idlocal)),
            Some(found) => Err(StoreError::Conflict(format!(
                "{name} is a {found}, not a {kind}: choose another filename"
            ))),
        }
    };
    let (plot, grid) = match fileopt {
        FileOpt::Overwrite => {
            (kind_at(store, &name, FileType::Plot)?, kind_at(store, &grid_name, FileType::Grid)?)
        }
        FileOpt::New => (None, None),
    };
    let columns = data_columns(figure);
    if !columns.is_empty() {
        let mut taken = std::collections::BTreeSet::new();
        let mut stored = Vec::new();
        for (path, data) in &columns {
            let uid = store.column_uid(&taken);
            taken.insert(uid.clone());
            stored.push(StoredColumn { name: path.clone(), uid, data: data.clone() });
        }
        let uids: Vec<String> = stored.iter().map(|column| column.uid.clone()).collect();
        let body = Body::grid(stored);
        let grid = match grid {
            Some(grid) => {
                store.update(owner, grid, replacing(body, world_readable))?;
                grid
            }
            None => {
                store.create(owner, NewFile::named(&grid_name, parent, world_readable, body))?
            }
        };
        for ((path, _), uid) in columns.iter().zip(&uids) {
            use_reference(figure, path, &format!("{owner}:{grid}:{uid}"));
        }
    }
    let body = Body::plot(figure.clone());
    let idlocal = match plot {
        Some(plot) => {
            store.update(owner, plot, replacing(body, world_readable))?;
            plot
        }
        None => store.create(owner, NewFile::named(&name, parent, world_readable, body))?,
    };
    Ok((idlocal, name))
}

/// The change that gives a file new content and sharing.
fn replacing(body: Body, world_readable: bool) -> Changes {
    Changes { world_readable: Some(world_readable), body: Some(body), ..Changes::default() }
}
