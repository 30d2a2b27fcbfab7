//! `GET /v2/plots`: every public plot, newest first, as cursor pages.

use chart_studio_models::{CursorPage, Plot};
use serde::{Deserialize, Serialize};

use crate::Paginated;

/// Lists public plots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct List {
    /// Only `-views` (most viewed first) is supported by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<String>,
    /// Only plots of at least this quality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_quality: Option<u32>,
    /// Only plots of at most this quality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_quality: Option<u32>,
}

crate::endpoint::query_endpoint!(List => CursorPage<Plot>, "/v2/plots");

impl Paginated for List {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        assert_eq!(built(&List::default()).1, "/v2/plots");
        let list = List {
            order_by: Some("-views".to_owned()),
            min_quality: Some(0),
            max_quality: Some(5),
        };
        assert_eq!(built(&list).1, "/v2/plots?order_by=-views&min_quality=0&max_quality=5");
    }
}
