//! Plots: the file object plus the figure and its display settings.

use serde::{Deserialize, Serialize};

use crate::File;

/// A plot as `/v2/plots` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plot {
    /// The metadata every file has (unknown fields end up in `file.extra`).
    #[serde(flatten)]
    pub file: File,
    /// The figure, whose traces refer to grid columns through `*src` attributes.
    #[serde(default)]
    pub figure: Option<serde_json::Value>,
    /// Whether the plot resizes with its container.
    #[serde(default)]
    pub autosize: Option<bool>,
    /// A caption.
    #[serde(default)]
    pub caption: Option<String>,
    /// Fixed width in pixels.
    #[serde(default)]
    pub width: Option<u32>,
    /// Fixed height in pixels.
    #[serde(default)]
    pub height: Option<u32>,
}

impl Plot {
    /// A plot around a file object with no figure yet.
    pub fn new(file: File) -> Self {
        Self { file, figure: None, autosize: None, caption: None, width: None, height: None }
    }
}
