//! Charts as images: the renderer, the formats and sizes it draws, and the cache of stored
//! plots' images, keyed by what each image shows. `POST /v2/images` (in `routes/`) draws a
//! figure it is sent; the pages' `/~USER/N.png` links and `/v2/files/FID/image` draw a stored
//! plot under the page's access rules (`web.rs`).

mod cache;
mod emf;
mod format;
mod renderer;

use std::path::Path;

use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use http::header;
use serde_json::Value;

pub(crate) use format::{Format, Size};
pub(crate) use renderer::RenderError;
pub use renderer::RendererConfig;
pub use renderer::find_chromium;

use crate::failure::Failure;

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
    /// Images drawn with `plotly_js`, kept in the data folder `data` (else a temporary one).
    pub(crate) fn new(
        config: ImageConfig,
        plotly_js: &'static str,
        data: Option<&Path>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            renderer: renderer::Renderer::new(config.renderer, plotly_js),
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

    /// An image kept under `key`, if any.
    pub(crate) fn cached(&self, key: &str) -> Option<Vec<u8>> {
        self.cache.get(key)
    }

    /// Keeps an image under `key`.
    pub(crate) fn keep(&self, key: &str, bytes: &[u8]) {
        self.cache.put(key, bytes);
    }

    /// Draws `figure`, JSON written in pieces ([`crate::render::PlotSources::inlined_pieces`]),
    /// checked against the size limit before it is put together.
    pub(crate) async fn draw(
        &self,
        figure: Vec<Bytes>,
        format: Format,
        size: Size,
    ) -> Result<Vec<u8>, Failure> {
        let length = figure.iter().map(Bytes::len).sum::<usize>();
        if length > self.max_figure_bytes {
            return Err(Failure::bad_field(
                "figure",
                format!(
                    "the figure is {length} bytes with its data; images are drawn of figures up to {} bytes",
                    self.max_figure_bytes
                ),
            ));
        }
        let text = String::from_utf8(figure.concat())
            .map_err(|err| Failure::bad_field("figure", err.to_string()))?;
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

/// The name an image is kept under: a hash of everything it shows.
pub(crate) fn cache_key(revision: &str, format: Format, size: Size) -> String {
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
        Images::new(ImageConfig { renderer, ..ImageConfig::default() }, "", None).unwrap()
    }
}
