//! Charts as images: `POST /v2/images` draws a figure it is sent; `/~USER/N.png` (and `.jpeg`,
//! `.webp`, `.svg`, `.pdf`) and `/v2/files/FID/image` draw a stored plot, under the same access
//! rules as its page, from a cache keyed by what the image shows.

mod cache;
mod emf;
mod format;
mod renderer;

use std::path::Path;

use axum::response::{IntoResponse, Response};
use base64::Engine;
use chart_studio_models::Fid;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::Value;

pub(crate) use format::{Format, Size};
pub(crate) use renderer::RenderError;
pub use renderer::RendererConfig;
pub use renderer::find_chromium;

use crate::auth::Viewer;
use crate::failure::Failure;
use crate::render::PlotSources;
use crate::state::Shared;
use crate::store::Body;

/// How a server draws images.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageConfig {
    /// The browser and its pool.
    pub renderer: RendererConfig,
    /// The most pixels one image may have (`width × height × scale²`).
    pub max_pixels: u64,
    /// The largest figure drawn, as JSON with its data, in bytes.
    pub max_figure_bytes: usize,
    /// The most bytes of images kept.
    pub cache_bytes: u64,
    /// Start the browser with the server (else at the first image).
    pub warm: bool,
}

impl Default for ImageConfig {
    fn default() -> Self {
        Self {
            renderer: RendererConfig::default(),
            max_pixels: 36_000_000,
            max_figure_bytes: 8 * 1024 * 1024,
            cache_bytes: 256 * 1024 * 1024,
            warm: false,
        }
    }
}

/// A server's images: the renderer and the cache.
#[derive(Debug)]
pub(crate) struct Images {
    renderer: renderer::Renderer,
    cache: cache::ImageCache,
    max_pixels: u64,
    max_figure_bytes: usize,
}

impl Images {
    pub(crate) fn new(config: ImageConfig, data: Option<&Path>) -> anyhow::Result<Self> {
        Ok(Self {
            renderer: renderer::Renderer::new(config.renderer, crate::web::plotly_js()),
            cache: cache::ImageCache::open(data, config.cache_bytes)?,
            max_pixels: config.max_pixels,
            max_figure_bytes: config.max_figure_bytes,
        })
    }

    /// Starts the browser now rather than at the first image.
    pub(crate) async fn warm(&self) -> Result<(), String> {
        self.renderer.warm().await
    }

    /// Stops the browser.
    pub(crate) async fn stop(&self) {
        self.renderer.stop().await;
    }

    /// The size of an image of `figure`, checked against the pixel limit.
    pub(crate) fn size(
        &self,
        figure: &Value,
        width: Option<f64>,
        height: Option<f64>,
        scale: Option<f64>,
    ) -> Result<Size, Failure> {
        Size::of(figure, width, height, scale, self.max_pixels)
    }

    /// Draws `figure`, checked against the size limit first.
    pub(crate) async fn draw(
        &self,
        figure: &Value,
        format: Format,
        size: Size,
    ) -> Result<Vec<u8>, Failure> {
        let text = figure.to_string();
        if text.len() > self.max_figure_bytes {
            return Err(Failure::bad_field(
                "figure",
                format!(
                    "the figure is {} bytes with its data; images are drawn of figures up to {} bytes",
                    text.len(),
                    self.max_figure_bytes
                ),
            ));
        }
        self.renderer.render(text, format, size).await.map_err(Failure::from)
    }
}

impl From<RenderError> for Failure {
    fn from(err: RenderError) -> Self {
        match err {
            RenderError::Off(message) => Self::Unavailable { message, retry_after: None },
            RenderError::Busy => {
                Self::Unavailable { message: err.to_string(), retry_after: Some(1) }
            }
            RenderError::TimedOut(_) | RenderError::Failed(_) => {
                Self::bad_field("figure", err.to_string())
            }
        }
    }
}

/// The answer holding an image: its bytes, or their base64 text for `encoded` requests, with
/// the format's `Content-Type`.
pub(crate) fn answer(bytes: Vec<u8>, format: Format, encoded: bool) -> Response {
    let body = if encoded {
        base64::engine::general_purpose::STANDARD.encode(bytes).into_bytes()
    } else {
        bytes
    };
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

/// The picture sizes of `img_url` and `image_urls`.
pub(crate) fn thumbnail(name: &str) -> Option<(u32, u32)> {
    match name {
        "default" => Some(format::DEFAULT_SIZE),
        "block-thumb" => Some((400, 300)),
        "list-thumb" => Some((120, 90)),
        _ => None,
    }
}

/// What a stored plot's image is asked as: format, CSS size (`None`: the figure's own) and
/// scale.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wanted {
    pub format: Format,
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub scale: Option<f64>,
}

/// An image of the stored plot `fid` as `viewer` may see it (a secret one with `share_key`),
/// from the cache when it holds one; `None` when the viewer may not read the plot, so that the
/// caller answers as it answers any unknown file. `If-None-Match` is answered with 304.
pub(crate) async fn of_stored_plot(
    app: &Shared,
    viewer: &Viewer,
    fid: &Fid,
    share_key: Option<&str>,
    wanted: Wanted,
    headers: &HeaderMap,
) -> Option<Result<Response, Failure>> {
    let (sources, revision) = {
        let store = app.store();
        let kind = chart_studio_models::FileType::Plot;
        let (_, record, _) =
            crate::access::readable(&store, viewer, fid, Some(&kind), share_key).ok()?;
        let Body::Plot { figure } = &record.body else { return None };
        if record.deleted {
            return None;
        }
        let sources = PlotSources::gather(&store, viewer, fid.owner(), figure);
        let revision = format!("{fid}@{};{}", record.modified, sources.revision());
        (sources, revision)
    };
    let images = &app.images;
    Some(
        async move {
            let figure = sources.content(true, false);
            let size = images.size(&figure, wanted.width, wanted.height, wanted.scale)?;
            let key = cache_key(&revision, wanted.format, size);
            let tag = format!("\"{key}\"");
            let personal = !matches!(viewer, Viewer::Anonymous) || share_key.is_some();
            let revalidate = |mut response: Response| {
                let headers = response.headers_mut();
                if let Ok(tag) = HeaderValue::from_str(&tag) {
                    headers.insert(header::ETAG, tag);
                }
                // Public images are checked again each time (cheaply, by their tag); the layer
                // marks images for one reader `private, no-store`.
                if !personal {
                    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                }
                response
            };
            let matches = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|given| given.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
            if matches {
                return Ok(revalidate(StatusCode::NOT_MODIFIED.into_response()));
            }
            let bytes = match images.cache.get(&key) {
                Some(bytes) => bytes,
                None => {
                    let bytes = images.draw(&figure, wanted.format, size).await?;
                    images.cache.put(&key, &bytes);
                    bytes
                }
            };
            Ok(revalidate(answer(bytes, wanted.format, false)))
        }
        .await,
    )
}

/// The name an image is kept under: a hash of everything it shows.
fn cache_key(revision: &str, format: Format, size: Size) -> String {
    use sha2::Digest;
    let described =
        format!("{revision}|{}|{}x{}@{}", format.name(), size.width, size.height, size.scale);
    sha2::Sha256::digest(described.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Images of a server without a browser: every drawing answers 503.
    pub(crate) fn images_off() -> Images {
        let renderer = RendererConfig {
            chromium: Some("/nonexistent/chromium".into()),
            ..RendererConfig::default()
        };
        Images::new(ImageConfig { renderer, ..ImageConfig::default() }, None).unwrap()
    }
}
