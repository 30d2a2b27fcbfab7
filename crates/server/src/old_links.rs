//! Addresses that links made on a Chart Studio server still point to, beside the chart pages of
//! `web.rs`:
//!
//! - `/embed.js`: the embed script of `<script data-plotly="USER:N" sharekey-plotly="KEY"
//!   src="https://HOST/embed.js" async></script>`; it puts the chart's `.embed` frame where each
//!   such tag is;
//! - `/404.png`: the picture shown where a chart is missing;
//! - `/static/avatar.png` and `/static/background.png`: the pictures user objects point to.

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header;

use crate::state::Shared;

/// The routes.
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/embed.js", get(|| async { crate::web::script(EMBED_JS) }))
        .route("/404.png", get(|| async { picture(&MISSING) }))
        .route("/static/avatar.png", get(|| async { picture(&AVATAR) }))
        .route("/static/background.png", get(|| async { picture(&BACKGROUND) }))
}

/// Replaces each `<script data-plotly="USER:N">` tag (with `sharekey-plotly="KEY"` for a secret
/// chart) by a frame of the chart, from the server that served this script. A tag whose value
/// is not `USER:N` is left alone.
const EMBED_JS: &str = r#"(function () {
  var source = document.currentScript && document.currentScript.src;
  var origin = new URL(source || "/embed.js", window.location.href).origin;
  var tags = document.querySelectorAll("script[data-plotly]");
  for (var i = 0; i < tags.length; i++) {
    var tag = tags[i];
    if (tag.getAttribute("data-plotly-embedded")) continue;
    var match = /^([A-Za-z0-9_.-]+):([0-9]+)$/.exec(tag.getAttribute("data-plotly") || "");
    if (!match) continue;
    tag.setAttribute("data-plotly-embedded", "1");
    var key = tag.getAttribute("sharekey-plotly");
    var frame = document.createElement("iframe");
    frame.src = origin + "/~" + encodeURIComponent(match[1]) + "/" + match[2] + ".embed" +
      (key ? "?share_key=" + encodeURIComponent(key) : "");
    frame.title = "Chart " + match[1] + ":" + match[2];
    frame.width = tag.getAttribute("data-width") || "100%";
    frame.height = tag.getAttribute("data-height") || "525";
    frame.style.border = "none";
    tag.parentNode.insertBefore(frame, tag);
  }
})();
"#;

fn picture(png: &'static [u8]) -> Response {
    ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=86400")], png)
        .into_response()
}

/// A grey frame with three pale bars: a chart that is not there.
static MISSING: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    drawn(400, 300, |x, y| {
        let bar = |left: u32, top: u32| (left..left + 60).contains(&x) && (top..250).contains(&y);
        if x < 4 || y < 4 || x >= 396 || y >= 296 {
            [200, 200, 200, 255]
        } else if bar(80, 150) || bar(170, 90) || bar(260, 190) {
            [225, 225, 225, 255]
        } else {
            [247, 247, 247, 255]
        }
    })
});

/// A grey disc on a clear ground.
static AVATAR: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    drawn(64, 64, |x, y| {
        let (dx, dy) = (f64::from(x) - 31.5, f64::from(y) - 31.5);
        if dx * dx + dy * dy <= 30.0 * 30.0 { [180, 186, 196, 255] } else { [0, 0, 0, 0] }
    })
});

/// A plain pale ground.
static BACKGROUND: std::sync::LazyLock<Vec<u8>> =
    std::sync::LazyLock::new(|| drawn(16, 16, |_, _| [240, 242, 245, 255]));

/// A `width` × `height` RGBA PNG whose pixel at (x, y) is `paint(x, y)`.
fn drawn(width: u32, height: u32, paint: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
    let pixels: Vec<u8> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .flat_map(|(x, y)| paint(x, y))
        .collect();
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    // Writing to memory fails only on wrong sizes, which these are not.
    if let Ok(mut writer) = encoder.write_header() {
        let _ = writer.write_image_data(&pixels);
    }
    png
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pictures_decode_at_their_sizes() {
        for (png, size) in [(&*MISSING, (400, 300)), (&*AVATAR, (64, 64)), (&*BACKGROUND, (16, 16))]
        {
            let decoder = png::Decoder::new(std::io::Cursor::new(png.as_slice()));
            let reader = decoder.read_info().unwrap();
            assert_eq!((reader.info().width, reader.info().height), size);
        }
    }
}
