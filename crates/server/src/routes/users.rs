//! `/v2/users` and `/v2/search`.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chart_studio_models::{File, NumberedPage, User};
use http::HeaderMap;

use super::common::{Params, page_of, paging, request_url, visible};
use crate::auth::Viewer;
use crate::failure::Failure;
use crate::state::Shared;
use crate::store::Body;

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
    Ok(Json(app.urls.user(account, true)))
}

async fn by_name(
    State(app): State<Shared>,
    viewer: Viewer,
    Path(username): Path<String>,
) -> Result<Json<User>, Failure> {
    let store = app.store();
    let account = store.account(&username).ok_or(Failure::NotFound)?;
    Ok(Json(app.urls.user(account, viewer.is(&username))))
}

/// `q` words match filenames (case-insensitive); `plottype:TYPE` keeps plots with such a trace;
/// `filetype:TYPE` keeps one kind of file. Only files the requester may read are found.
async fn search(
    State(app): State<Shared>,
    viewer: Viewer,
    Query(params): Params,
    uri: http::Uri,
    headers: HeaderMap,
) -> Result<Json<NumberedPage<File>>, Failure> {
    let query =
        params.get("q").ok_or_else(|| Failure::bad_field("q", "q is required"))?.to_lowercase();
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
    let url = request_url(&app, &headers, &uri);
    let store = app.store();
    let mut found = Vec::new();
    for account in store.accounts() {
        found.extend(visible(&viewer, account, |f| {
            let name = f.filename.to_lowercase();
            let trace_types = match &f.body {
                Body::Plot { figure } => chart_studio_models::traces(figure)
                    .into_iter()
                    .filter_map(|(_, t)| t.get("type").and_then(|v| v.as_str()).map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            words.iter().all(|w| name.contains(w.as_str()))
                && plot_types.iter().all(|t| trace_types.iter().any(|have| have == t))
                && file_types.iter().all(|t| f.kind().as_str() == t)
        }));
    }
    Ok(Json(page_of(&app, &viewer, found, (page, size, &url))))
}
