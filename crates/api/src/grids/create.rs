//! `POST /v2/grids`: upload a grid (answers 201 with `{"file": {..., "cols": [{name, uid}]}}`).

use chart_studio_models::{Created, Grid, GridContent};
use serde::{Deserialize, Serialize};

/// The body of a grid create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GridCreate {
    /// The columns.
    pub data: GridContent,
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
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

impl GridCreate {
    /// A create body for `data`.
    pub fn new(data: GridContent) -> Self {
        Self {
            data,
            filename: None,
            parent: None,
            parent_path: None,
            world_readable: None,
            share_key_enabled: None,
            metadata: None,
        }
    }
}

crate::common::placement_builders!(GridCreate, "grid");

/// Uploads a grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Create {
    /// What to upload.
    pub grid: GridCreate,
}

impl Create {
    /// Uploads `grid`.
    pub fn new(grid: GridCreate) -> Self {
        Self { grid }
    }
}

crate::endpoint::create_endpoint!(Create => Created<Grid>, "/v2/grids", |request| &request.grid);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        let data = GridContent::from_columns([("x".to_owned(), vec![1.into(), 2.into()])]);
        let (method, target, body) = built(&Create::new(GridCreate::new(data).filename("g")));
        assert_eq!((method.as_str(), target.as_str()), ("POST", "/v2/grids"));
        assert_eq!(body, r#"{"data":{"cols":{"x":{"data":[1,2],"order":0}}},"filename":"g"}"#);
    }
}
