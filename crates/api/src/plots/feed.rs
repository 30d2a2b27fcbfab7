//! `GET /v2/plots/feed`: hand-picked public plots, as cursor pages.

use chart_studio_models::{CursorPage, DecodeError, Plot};
use serde::{Deserialize, Serialize};

use crate::{BuildError, Endpoint, Paginated, endpoint::json, query};

/// Lists the feed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Feed {
    /// `views` or `-views`; random order when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<String>,
}

impl Endpoint for Feed {
    type Output = CursorPage<Plot>;

    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        "/v2/plots/feed".to_owned()
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        query::encode(self)
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
        json(response)
    }
}

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
