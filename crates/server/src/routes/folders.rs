//! `/v2/folders`: creation (`mkdir -p`), the home folder and the list of all a user's files.

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chart_studio_models::{Created, Folder, HOME_FOLDER, Listing};
use http::StatusCode;

use super::common::{Params, created, listed, paging, request_url};
use crate::access::View;
use crate::auth::Viewer;
use crate::body::Payload;
use crate::db::Scope;
use crate::failure::Failure;
use crate::state::Shared;

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v2/folders", post(create))
        .route(
            "/v2/folders/home",
            get(|s, v, q, u| listing(s, v, q, u, Scope::Folder(HOME_FOLDER))),
        )
        .route("/v2/folders/all", get(|s, v, q, u| listing(s, v, q, u, Scope::Live)))
        .route("/v2/folders/trashed", get(|s, v, q, u| listing(s, v, q, u, Scope::Trash)))
}

/// Creates the folders of `path` (from `parent`, or home); 409 when the last one exists already.
async fn create(
    State(app): State<Shared>,
    viewer: Viewer,
    body: Payload,
) -> Result<(StatusCode, Json<Created<Folder>>), Failure> {
    let owner = viewer.require()?.to_owned();
    let path =
        body.text("path")?.ok_or_else(|| Failure::bad_field("path", "This field is required."))?;
    let path = path.trim_matches('/').to_owned();
    if path.is_empty() {
        return Err(Failure::bad_field("path", "path must name a folder"));
    }
    let parent = body.integer("parent")?;
    if parent.is_some() && path.contains('/') {
        return Err(Failure::bad_field("path", "with `parent`, path must be a single folder name"));
    }
    let mut store = app.store();
    let parent = parent.unwrap_or(HOME_FOLDER);
    if store.lookup(&owner, &path, parent)?.is_some() {
        return Err(Failure::exists(path.rsplit('/').next().unwrap_or(&path)));
    }
    let folder = store.mkdir_p(&owner, &path, parent)?;
    let idlocal = u64::try_from(folder).map_err(|_| Failure::NotFound)?;
    let (account, record) = created(&store, &owner, idlocal)?;
    let folder = app.urls.folder(
        &store,
        account,
        &record,
        View::Owner,
        chart_studio_models::FolderChildren::default(),
    )?;
    Ok((StatusCode::CREATED, Json(Created::new(folder))))
}

/// `home`, `all` or `trashed` (owner only), as page-number pages: queries of the database.
async fn listing(
    State(app): State<Shared>,
    viewer: Viewer,
    Query(params): Params,
    uri: http::Uri,
    scope: Scope,
) -> Result<Json<Listing>, Failure> {
    let user = match params.get("user") {
        Some(user) => user.clone(),
        None => viewer.require()?.to_owned(),
    };
    let (page, size) = paging(&app, &params, 100)?;
    let url = request_url(&app, &uri);
    let store = app.store();
    let account = store.account(&user).ok_or(Failure::NotFound)?;
    if scope == Scope::Trash && !viewer.is(&user) {
        viewer.require()?;
        return Err(Failure::Forbidden);
    }
    let kind = params.get("filetype").map(String::as_str);
    let page = listed(&app, &store, &viewer, (account, scope, kind), (page, size, &url))?;
    Ok(Json(Listing::new(page)))
}
