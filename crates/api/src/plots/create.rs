//! `POST /v2/plots`: create a plot from a figure whose traces refer to grid columns.

use chart_studio_models::{Created, Plot};
use serde::{Deserialize, Serialize};

/// The body of a plot create. The figure may hold only `*src` references, no raw data arrays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlotCreate {
    /// The figure (`data`, `layout`, `frames`).
    pub figure: serde_json::Value,
    /// The file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The containing folder's idlocal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<i64>,
    /// The containing folder's path, created when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_path: Option<String>,
    /// Public or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world_readable: Option<bool>,
    /// Secret link on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_key_enabled: Option<bool>,
    /// The plot this one was copied from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_fid: Option<String>,
}

impl PlotCreate {
    /// A create body for `figure`.
    pub fn new(figure: serde_json::Value) -> Self {
        Self {
            figure,
            filename: None,
            parent: None,
            parent_path: None,
            world_readable: None,
            share_key_enabled: None,
            source_fid: None,
        }
    }
}

crate::common::placement_builders!(PlotCreate, "plot");

/// Creates a plot; the answer is `{"file": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Create {
    /// What to create.
    pub plot: PlotCreate,
}

impl Create {
    /// Creates `plot`.
    pub fn new(plot: PlotCreate) -> Self {
        Self { plot }
    }
}

crate::endpoint::create_endpoint!(Create => Created<Plot>, "/v2/plots", |request| &request.plot);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        let plot = PlotCreate::new(serde_json::json!({"data": [{"ysrc": "sven:88:u8nd62"}]}))
            .filename("f")
            .parent_path("a/b")
            .sharing(false, true);
        let (method, target, body) = built(&Create::new(plot));
        assert_eq!((method.as_str(), target.as_str()), ("POST", "/v2/plots"));
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"figure": {"data": [{"ysrc": "sven:88:u8nd62"}]}, "filename": "f", "parent_path": "a/b", "world_readable": false, "share_key_enabled": true})
        );
    }
}
