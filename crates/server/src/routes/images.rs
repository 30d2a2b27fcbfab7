//! `POST /v2/images` (a figure sent by a client, drawn as the Python, R and Julia clients ask)
//! and `GET /v2/files/{fid}/image` (the thumbnails `img_url` and `image_urls` link to).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use http::HeaderMap;
use serde_json::Value;

use super::common::Params;
use crate::access::parse_fid;
use crate::auth::Viewer;
use crate::body::Payload;
use crate::failure::Failure;
use crate::images::{Format, Wanted};
use crate::render::PlotSources;
use crate::state::Shared;

pub(crate) fn routes() -> Router<Shared> {
    Router::new().route("/v2/images", post(create)).route("/v2/files/{fid}/image", get(thumbnail))
}

/// Draws the figure of the body: `figure` (an object or JSON text, with `data` to draw or a
/// `layout`), `format` (png by default), `width`, `height`, `scale`, and `encoded` for base64
/// text. Column references the requester may read are filled in with their data.
async fn create(
    State(app): State<Shared>,
    viewer: Viewer,
    body: Payload,
) -> Result<Response, Failure> {
    let owner = viewer.require().map_err(|_| {
        Failure::Unauthorized("You must be authenticated to generate an image via json.".to_owned())
    })?;
    let figure = body
        .json_or_text("figure")?
        .ok_or_else(|| Failure::bad_field("figure", "This field is required."))?;
    let has_traces = figure.get("data").and_then(Value::as_array).is_some_and(|d| !d.is_empty());
    if !figure.is_object() || !(has_traces || figure.get("layout").is_some_and(Value::is_object)) {
        return Err(Failure::bad_field(
            "figure",
            "figure must be an object with traces in `data` or a `layout` object",
        ));
    }
    let format = match body.text("format")? {
        None => Format::Png,
        Some(name) => Format::parse(&name).ok_or_else(|| {
            let known: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            Failure::bad_field(
                "format",
                format!(
                    "{name:?} is not a format images are drawn in; use one of {}",
                    known.join(", ")
                ),
            )
        })?,
    };
    let size = app.images.size(
        &figure,
        body.number("width")?,
        body.number("height")?,
        body.number("scale")?,
    )?;
    let encoded = body.flag("encoded")?.unwrap_or(false);
    let sources = {
        let store = app.store();
        PlotSources::gather(&store, &viewer, owner, std::sync::Arc::new(figure))?
    };
    let figure = crate::render::off_the_workers(move || sources.inlined_pieces()).await??;
    let bytes = app.images.draw(figure, format, size).await?;
    Ok(crate::images::answer(bytes, format, encoded))
}

/// A thumbnail of a plot: `image_name` is `default` (the chart's own size), `block-thumb` or
/// `list-thumb`; a secret plot's needs `share_key`.
async fn thumbnail(
    State(app): State<Shared>,
    viewer: Viewer,
    Path(fid): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    let fid = parse_fid(&fid)?;
    let name = params.get("image_name").map_or("default", String::as_str);
    let (width, height) = match (name, crate::images::thumbnail(name)) {
        ("default", _) => (None, None),
        (_, Some((width, height))) => (Some(f64::from(width)), Some(f64::from(height))),
        (_, None) => {
            return Err(Failure::bad_field(
                "image_name",
                "image_name is default, block-thumb or list-thumb",
            ));
        }
    };
    let wanted = Wanted { format: Format::Png, width, height, scale: None };
    let share_key = params.get("share_key").map(String::as_str);
    crate::web::stored_image(&app, &viewer, &fid, share_key, wanted, &headers)
        .await
        .unwrap_or(Err(Failure::NotFound))
}
