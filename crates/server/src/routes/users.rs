//! `/v2/users` and `/v2/search`.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chart_studio_models::{File, NumberedPage, User};

use super::common::{Params, page_of, paging, request_url};
use crate::auth::Viewer;
use crate::failure::Failure;
use crate::state::Shared;
use crate::store::Outline;

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v2/users/current", get(current))
        .route("/v2/users/{username}", get(by_name))
        .route("/v2/search", get(search))
}

async fn current(State(app): State<Shared>, viewer: Viewer) -> Result<Json<User>, Failure> {
    let name = viewer.require()?;
    let store = app.store();
    let account = store.account(name).ok_or(Failure::NotFound)?;
    let plots = store.file_count(name, Some(chart_studio_models::FileType::Plot))?;
    Ok(Json(app.urls.user(account, Some(plots))))
}

async fn by_name(
    State(app): State<Shared>,
    viewer: Viewer,
    Path(username): Path<String>,
) -> Result<Json<User>, Failure> {
    let store = app.store();
    let account = store.account(&username).ok_or(Failure::NotFound)?;
    let plots = match viewer.is(&username) {
        true => Some(store.file_count(&username, Some(chart_studio_models::FileType::Plot))?),
        false => None,
    };
    Ok(Json(app.urls.user(account, plots)))
}

/// The most terms a search query may have (INFER: bounds the work of one search).
const MAX_QUERY_TERMS: usize = 16;
/// The longest search query, in bytes.
const MAX_QUERY_BYTES: usize = 512;

/// `q` words match filenames (case-insensitive); `plottype:TYPE` keeps plots with such a trace;
/// `filetype:TYPE` keeps one kind of file. Only files the requester may read are found.
async fn search(
    State(app): State<Shared>,
    viewer: Viewer,
    Query(params): Params,
    uri: http::Uri,
) -> Result<Json<NumberedPage<File>>, Failure> {
    let query =
        params.get("q").ok_or_else(|| Failure::bad_field("q", "q is required"))?.to_lowercase();
    if query.len() > MAX_QUERY_BYTES || query.split_whitespace().count() > MAX_QUERY_TERMS {
        return Err(Failure::bad_field(
            "q",
            format!("a query may have at most {MAX_QUERY_TERMS} terms and {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let (mut words, mut plot_types, mut file_types) = (Vec::new(), Vec::new(), Vec::new());
    for token in query.split_whitespace() {
        if let Some(kind) = token.strip_prefix("plottype:") {
            plot_types.push(kind.to_owned());
        } else if let Some(kind) = token.strip_prefix("filetype:") {
            file_types.push(kind.to_owned());
        } else {
            words.push(token.to_owned());
        }
    }
    let (page, size) = paging(&app, &params, 20)?;
    let url = request_url(&app, &uri);
    let store = app.store();
    let keep = |f: &crate::store::FileRecord| {
        let name = f.filename.to_lowercase();
        file_types.iter().all(|t| f.kind().as_str() == t)
            && words.iter().all(|w| name.contains(w.as_str()))
            && (plot_types.is_empty() || {
                let trace_types = match &f.outline {
                    Outline::Plot { trace_types, .. } => trace_types.as_slice(),
                    _ => &[],
                };
                plot_types.iter().all(|t| trace_types.contains(t))
            })
    };
    let mut found = Vec::new();
    for (owner, file) in store.findable(viewer.require().ok())? {
        let Some(account) = store.account(&owner) else { continue };
        if keep(&file) && crate::access::can_read(&viewer, &owner, &file, None) {
            found.push((account, file));
        }
    }
    Ok(Json(page_of(&app, &store, &viewer, found, (page, size, &url))?))
}
