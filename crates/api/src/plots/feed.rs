//! `GET /v2/plots/feed`: hand-picked public plots, as cursor pages.

use chart_studio_models::{CursorPage, Plot};
use serde::{Deserialize, Serialize};

use crate::Paginated;

/// Lists the feed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Feed {
    /// `views` or `-views`; random order when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<String>,
}

crate::endpoint::query_endpoint!(Feed => CursorPage<Plot>, "/v2/plots/feed");

impl Paginated for Feed {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        assert_eq!(
            built(&Feed { order_by: Some("views".to_owned()) }).1,
            "/v2/plots/feed?order_by=views"
        );
    }
}
