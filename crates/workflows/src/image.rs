//! Charts as images: a figure, or a stored plot (its figure with its data, read with its
//! secret link's key when it has one), drawn by the server's `POST /v2/images`.

use chart_studio_api::images::{self, Image, ImageFormat};
use chart_studio_api::{Client, plots};
use chart_studio_models::Fid;
use serde_json::Value;

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// A figure (`data` and `layout`).
    Figure(Value),
    /// A stored plot; a secret one needs its link's key.
    Plot {
        /// The plot.
        fid: Fid,
        /// The key of its secret link.
        share_key: Option<String>,
    },
}

/// How to draw it: the format, and the size in CSS pixels and scale (`None`: the server's
/// choice, which is the figure's own size, else 700 × 500, at scale 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drawing {
    /// The format.
    pub format: ImageFormat,
    /// Width in CSS pixels.
    pub width: Option<u32>,
    /// Height in CSS pixels.
    pub height: Option<u32>,
    /// Pixels per CSS pixel.
    pub scale: Option<f64>,
}

/// Draws `chart`: a plot's figure is read first, with its data inlined, so that any Chart
/// Studio server can draw it.
pub async fn draw(client: &Client, chart: Chart, drawing: Drawing) -> Result<Image, crate::Error> {
    let figure = match chart {
        Chart::Figure(figure) => {
            chart_studio_models::check_traces(&figure)?;
            figure
        }
        Chart::Plot { fid, share_key } => {
            let mut request = plots::Content::new(fid).inline_data(true);
            request.share_key = share_key;
            let mut figure = client.send(&request).await?;
            chart_studio_models::clean_legacy(&mut figure);
            figure
        }
    };
    let request = images::Create::new(figure, drawing.format).size(
        drawing.width,
        drawing.height,
        drawing.scale,
    );
    Ok(client.send(&request).await?)
}
