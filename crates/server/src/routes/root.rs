//! `GET /v2/` (any number of trailing slashes): the API root, an index of the endpoints, each
//! name with its address, as Django REST framework's root view answers it. R's `api()` with no
//! arguments asks for it.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value};

use crate::state::Shared;

/// The endpoints the index names.
const ENDPOINTS: [(&str, &str); 7] = [
    ("files", "files"),
    ("plots", "plots"),
    ("grids", "grids"),
    ("folders", "folders"),
    ("users", "users/current"),
    ("search", "search"),
    ("feed", "plots/feed"),
];

pub(crate) fn routes() -> Router<Shared> {
    Router::new().route("/v2", get(index))
}

async fn index(State(app): State<Shared>) -> Json<Value> {
    let base = app.urls.api.trim_end_matches('/');
    let index: Map<String, Value> = ENDPOINTS
        .iter()
        .map(|(name, path)| ((*name).to_owned(), Value::String(format!("{base}/v2/{path}"))))
        .collect();
    Json(Value::Object(index))
}
