//! What an image request asks for: its format, its size in CSS pixels and its scale, read
//! from a `POST /v2/images` body or a link, and checked against the limits before anything
//! is drawn.

use serde_json::Value;

use crate::failure::Failure;

/// An image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Format {
    Png,
    Jpeg,
    Webp,
    Svg,
    Pdf,
    /// An EMF file holding the rendered bitmap, for Office.
    Emf,
}

impl Format {
    /// Every format, as the API spells them.
    pub(crate) const ALL: [Self; 6] =
        [Self::Png, Self::Jpeg, Self::Webp, Self::Svg, Self::Pdf, Self::Emf];

    /// A format by name or file extension (`jpg` is `jpeg`), any case.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.to_ascii_lowercase();
        let name = if text == "jpg" { "jpeg" } else { text.as_str() };
        Self::ALL.into_iter().find(|format| format.name() == name)
    }

    /// The API's name, also the file extension.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
            Self::Svg => "svg",
            Self::Pdf => "pdf",
            Self::Emf => "emf",
        }
    }

    /// The answer's `Content-Type`.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Svg => "image/svg+xml",
            Self::Pdf => "application/pdf",
            Self::Emf => "image/emf",
        }
    }
}

/// The size of an image in CSS pixels, and the scale of its pixels: the picture is
/// `width × scale` by `height × scale` pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Size {
    pub width: u32,
    pub height: u32,
    pub scale: f64,
}

/// The size of a chart that names none: Plotly's default.
pub(crate) const DEFAULT_SIZE: (u32, u32) = (700, 500);
/// The widest and tallest image side accepted, in CSS pixels.
const MAX_SIDE: u32 = 10_000;
/// The largest and smallest scales accepted.
const SCALES: std::ops::RangeInclusive<f64> = 0.1..=10.0;

impl Size {
    /// `width` and `height` as given, else the figure's `layout.width` / `layout.height`, else
    /// 700 × 500; `scale` as given, else 1. Refused (400) past [`MAX_SIDE`], outside
    /// [`SCALES`], or above `max_pixels` pixels in all.
    pub(crate) fn of(
        figure: &Value,
        width: Option<f64>,
        height: Option<f64>,
        scale: Option<f64>,
        max_pixels: u64,
    ) -> Result<Self, Failure> {
        let side = |given: Option<f64>, layout: &str, default: u32| -> Result<u32, Failure> {
            let value = given.or_else(|| figure.pointer(&format!("/layout/{layout}"))?.as_f64());
            match value {
                None => Ok(default),
                Some(v) if v.is_finite() && v >= 1.0 && v <= f64::from(MAX_SIDE) => {
                    Ok(v.round() as u32)
                }
                Some(v) => Err(Failure::bad_field(
                    layout,
                    format!("{layout} must be between 1 and {MAX_SIDE} pixels, not {v}"),
                )),
            }
        };
        let width = side(width, "width", DEFAULT_SIZE.0)?;
        let height = side(height, "height", DEFAULT_SIZE.1)?;
        let scale = scale.unwrap_or(1.0);
        if !scale.is_finite() || !SCALES.contains(&scale) {
            return Err(Failure::bad_field(
                "scale",
                format!(
                    "scale must be between {} and {}, not {scale}",
                    SCALES.start(),
                    SCALES.end()
                ),
            ));
        }
        let size = Self { width, height, scale };
        if size.pixels() > max_pixels {
            return Err(Failure::bad_field(
                "scale",
                format!(
                    "{}×{} at scale {scale} is {} pixels; the limit is {max_pixels}",
                    width,
                    height,
                    size.pixels()
                ),
            ));
        }
        Ok(size)
    }

    /// How many pixels the picture has.
    pub(crate) fn pixels(&self) -> u64 {
        let side = |css: u32| (f64::from(css) * self.scale).round() as u64;
        side(self.width) * side(self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_read_as_clients_spell_them() {
        assert_eq!(Format::parse("PNG"), Some(Format::Png));
        assert_eq!(Format::parse("jpg"), Some(Format::Jpeg));
        assert_eq!(Format::parse("emf").map(Format::content_type), Some("image/emf"));
        assert_eq!(Format::parse("gif"), None);
    }

    #[test]
    fn sizes_come_from_the_request_then_the_layout_then_the_default() {
        let figure = serde_json::json!({"layout": {"width": 900}});
        let size = Size::of(&figure, None, None, None, u64::MAX).unwrap();
        assert_eq!((size.width, size.height, size.scale), (900, 500, 1.0));
        let size = Size::of(&figure, Some(300.0), Some(200.0), Some(2.0), u64::MAX).unwrap();
        assert_eq!(size.pixels(), 600 * 400);
        assert!(Size::of(&figure, Some(-3.0), None, None, u64::MAX).is_err());
        assert!(Size::of(&figure, Some(f64::NAN), None, None, u64::MAX).is_err());
        assert!(Size::of(&figure, None, None, Some(0.0), u64::MAX).is_err());
        let err = Size::of(&figure, Some(1000.0), Some(1000.0), Some(4.0), 1_000_000).unwrap_err();
        assert!(err.to_string().contains("the limit is 1000000"), "{err}");
    }
}
