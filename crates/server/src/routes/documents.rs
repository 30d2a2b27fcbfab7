//! `/v2/dashboards` and `/v2/spectacle-presentations`: the user's own list (trashed ones
//! included, marked `deleted`, as the Python client expects), creation, and the dashboard
//! schema. Retrieve, update, trash, restore, permanent delete and lookup are the shared file
//! verbs (`common.rs`).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chart_studio_models::{Created, Document, File, FileType, NumberedPage};
use serde_json::{Value, json};

use super::common::{Params, created, page_of, paging, request_url};
use crate::access::View;
use crate::auth::Viewer;
use crate::body::Payload;
use crate::failure::Failure;
use crate::state::Shared;
use crate::store::Body;

pub(crate) fn routes() -> Router<Shared> {
    let collection = |kind: FileType| {
        let listed = kind.clone();
        get(move |s, v, q, u| list(listed.clone(), s, v, q, u))
            .post(move |s, v, b| create(kind.clone(), s, v, b))
    };
    Router::new()
        .route("/v2/dashboards", collection(FileType::Dashboard))
        .route("/v2/dashboards/schema", get(|| async { Json(schema()) }))
        .route("/v2/spectacle-presentations", collection(FileType::Presentation))
}

/// The requester's own dashboards (or presentations), trashed ones too, oldest first, in
/// numbered pages (INFER: the client only follows `next`).
async fn list(
    kind: FileType,
    State(app): State<Shared>,
    viewer: Viewer,
    Query(params): Params,
    uri: http::Uri,
) -> Result<Json<NumberedPage<File>>, Failure> {
    let owner = viewer.require()?.to_owned();
    let (page, size) = paging(&app, &params, 100)?;
    let url = request_url(&app, &uri);
    let store = app.store();
    let account = store.account(&owner).ok_or(Failure::NotFound)?;
    let files = store.files_of_kind(&owner, &kind)?.into_iter().map(|f| (account, f)).collect();
    Ok(Json(page_of(&app, &store, &viewer, files, (page, size, &url))?))
}

/// `POST`: `content` (the document, a JSON string or object) is required; the other fields
/// are every create's (`filename`, `parent_path`, `world_readable`, ...).
async fn create(
    kind: FileType,
    State(app): State<Shared>,
    viewer: Viewer,
    body: Payload,
) -> Result<Json<Created<Document>>, Failure> {
    let owner = viewer.require()?.to_owned();
    let content = body
        .document("content")?
        .ok_or_else(|| Failure::bad_field("content", "This field is required."))?;
    let new = body.new_file(Body::document(&kind, &content).ok_or(Failure::NotFound)?)?;
    let mut store = app.store();
    let idlocal = store.create(&owner, new)?;
    let (account, record) = created(&store, &owner, idlocal)?;
    Ok(Json(Created::new(app.urls.document(&store, account, &record, View::Owner)?)))
}

/// `GET /v2/dashboards/schema`: the shape of a dashboard's `content`, as a JSON Schema.
fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "dashboard content",
        "type": "object",
        "required": ["layout", "settings", "version"],
        "properties": {
            "version": {"type": "integer"},
            "settings": {"type": "object"},
            "layout": {"$ref": "#/$defs/node"}
        },
        "$defs": {
            "node": {"oneOf": [
                {"type": "null"},
                {"type": "object", "required": ["type", "first", "second"], "properties": {
                    "type": {"const": "split"},
                    "direction": {"enum": ["horizontal", "vertical"]},
                    "size": {"type": "number"},
                    "sizeUnit": {"enum": ["%", "px"]},
                    "first": {"$ref": "#/$defs/node"},
                    "second": {"$ref": "#/$defs/node"}
                }},
                {"type": "object", "required": ["type", "boxType"], "properties": {
                    "type": {"const": "box"},
                    "boxType": {"enum": ["plot", "text", "empty"]},
                    "fileId": {"type": "string"},
                    "shareKey": {"type": ["string", "null"]},
                    "title": {"type": "string"},
                    "text": {"type": "string"}
                }}
            ]}
        }
    })
}
