//! `POST /v2/images`: a figure drawn as an image, as the Python client's `py.image.get` and R's
//! `plotly_IMAGE` ask for it. Drawing stores nothing, so the call is retried like a read.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// An image format the API draws in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    Webp,
    /// SVG.
    Svg,
    /// PDF.
    Pdf,
    /// EMF, for Office.
    Emf,
}

impl ImageFormat {
    /// Every format.
    pub const ALL: [Self; 6] = [Self::Png, Self::Jpeg, Self::Webp, Self::Svg, Self::Pdf, Self::Emf];

    /// The API's name, also the usual file extension.
    pub fn name(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
            Self::Svg => "svg",
            Self::Pdf => "pdf",
            Self::Emf => "emf",
        }
    }

    /// The format a file name's extension names (`chart.jpg` is JPEG), any case.
    ///
    /// ```
    /// use chart_studio_api::images::ImageFormat;
    /// assert_eq!(ImageFormat::of_path("report/chart.JPG".as_ref()), Some(ImageFormat::Jpeg));
    /// assert_eq!(ImageFormat::of_path("chart.gif".as_ref()), None);
    /// ```
    pub fn of_path(path: &std::path::Path) -> Option<Self> {
        path.extension()?.to_str()?.parse().ok()
    }
}

impl std::str::FromStr for ImageFormat {
    type Err = String;

    /// A format by name or extension (`jpg` is `jpeg`), any case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.to_ascii_lowercase();
        let name = if lower == "jpg" { "jpeg" } else { lower.as_str() };
        Self::ALL.into_iter().find(|format| format.name() == name).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
            format!("{text:?} is not an image format; use one of {}", known.join(", "))
        })
    }
}

impl std::fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Draws a figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Create {
    /// The figure (`data` and `layout`), with its data inlined.
    pub figure: serde_json::Value,
    /// The format.
    pub format: ImageFormat,
    /// Width in CSS pixels (default: the layout's, else 700).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in CSS pixels (default: the layout's, else 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Pixels per CSS pixel (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
}

impl Create {
    /// `figure` drawn as `format` at its own size.
    pub fn new(figure: serde_json::Value, format: ImageFormat) -> Self {
        Self { figure, format, width: None, height: None, scale: None }
    }

    /// Sets the size in CSS pixels and the scale; `None` leaves each to the server.
    pub fn size(mut self, width: Option<u32>, height: Option<u32>, scale: Option<f64>) -> Self {
        self.width = width;
        self.height = height;
        self.scale = scale;
        self
    }
}

/// An image, as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Its `Content-Type`.
    pub content_type: Option<String>,
    /// The image itself.
    pub bytes: Vec<u8>,
}

impl crate::Endpoint for Create {
    type Output = Image;

    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        "/v2/images".to_owned()
    }
    fn body(&self) -> Result<Option<Bytes>, crate::BuildError> {
        crate::endpoint::json_body(self)
    }
    fn parse(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<Self::Output, chart_studio_models::DecodeError> {
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Ok(Image { content_type, bytes: response.body().to_vec() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds_the_body_the_clients_send() {
        let create = Create::new(serde_json::json!({"data": []}), ImageFormat::Svg).size(
            Some(300),
            None,
            Some(2.0),
        );
        let body = serde_json::to_value(&create).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"figure": {"data": []}, "format": "svg", "width": 300, "scale": 2.0})
        );
        assert_eq!(built(&create).1, "/v2/images");
    }

    #[test]
    fn formats_read_as_users_write_them() {
        assert_eq!("JPG".parse::<ImageFormat>(), Ok(ImageFormat::Jpeg));
        assert!("eps".parse::<ImageFormat>().unwrap_err().contains("png, jpeg"));
    }
}
