//! The router: every v2 endpoint, tolerant of trailing slashes, with DRF-style 404 and 405 bodies.

mod common;
mod copy;
mod documents;
mod folders;
mod grids;
mod images;
mod plots;
mod root;
mod users;
mod v1;

use axum::Router;
use axum::extract::Request;

use crate::failure::Failure;
use crate::state::Shared;
use common::Collection;

/// Every route of the API.
pub(crate) fn router(app: Shared) -> Router {
    Router::new()
        .merge(plots::routes())
        .merge(grids::routes())
        .merge(folders::routes())
        .merge(users::routes())
        .merge(root::routes())
        .merge(copy::routes())
        .merge(images::routes())
        .merge(documents::routes())
        .merge(v1::routes())
        .merge(common::routes(Collection::Files, "files"))
        .merge(common::routes(Collection::Plots, "plots"))
        .merge(common::routes(Collection::Grids, "grids"))
        .merge(common::routes(Collection::Folders, "folders"))
        .merge(common::routes(Collection::Dashboards, "dashboards"))
        .merge(common::routes(Collection::Presentations, "spectacle-presentations"))
        .route(
            "/healthz",
            axum::routing::get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .merge(crate::web::routes())
        .merge(crate::old_links::routes())
        .fallback(crate::web::unknown)
        .method_not_allowed_fallback(|request: Request| async move {
            Failure::MethodNotAllowed(request.method().to_string())
        })
        .layer(axum::middleware::from_fn_with_state(app.clone(), crate::layer::middleware))
        .with_state(app)
}
