//! `/v2/folders`: creation (`mkdir -p`), the home folder and the list of all a user's files.

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chart_studio_models::{Created, Folder, HOME_FOLDER, Listing};
use http::StatusCode;

use super::common::{Params, page_of, paging, request_url, visible};
use crate::access::View;
use crate::auth::Viewer;
use crate::body::Payload;
use crate::failure::Failure;
use crate::state::Shared;

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v2/folders", post(create))
        .route("/v2/folders/home", get(|s, v, q, u| listing(s, v, q, u, Scope::Home)))
        .route("/v2/folders/all", get(|s, v, q, u| listing(s, v, q, u, Scope::All)))
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
    if store.lookup(&owner, &path, parent).is_some() {
        return Err(Failure::exists(path.rsplit('/').next().unwrap_or(&path)));
    }
    let folder = store.mkdir_p(&owner, &path, parent)?;
    let account = store.account(&owner).ok_or(Failure::NotFound)?;
    let record = u64::try_from(folder)
        .ok()
        .and_then(|id| account.files.get(&id))
        .ok_or(Failure::NotFound)?;
    let folder = app.urls.folder(
        account,
        record,
        View::Owner,
        chart_studio_models::FolderChildren::default(),
    );
    Ok((StatusCode::CREATED, Json(Created::new(folder))))
}

/// Which files a listing holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The live files at the root.
    Home,
    /// Every live file.
    All,
    /// The files in the trash (owner only).
    Trash,
}

/// `home`, `all` or `trashed`, as page-number pages.
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
    let filetype = params.get("filetype").cloned();
    let (page, size) = paging(&app, &params, 100)?;
    let url = request_url(&app, &uri);
    let store = app.store();
    let account = store.account(&user).ok_or(Failure::NotFound)?;
    let of_type =
        |f: &crate::store::FileRecord| filetype.as_deref().is_none_or(|t| f.kind().as_str() == t);
    let files = match scope {
        Scope::Home => visible(&viewer, account, |f| f.parent == HOME_FOLDER && of_type(f)),
        Scope::All => visible(&viewer, account, of_type),
        Scope::Trash => {
            if !viewer.is(&user) {
                viewer.require()?;
                return Err(Failure::Forbidden);
            }
            account
                .files
                .values()
                .filter(|f| f.deleted && of_type(f))
                .map(|f| (account, f))
                .collect()
        }
    };
    Ok(Json(Listing::new(page_of(&app, &viewer, files, (page, size, &url)))))
}
