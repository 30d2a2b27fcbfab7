//! `GET /v2/folders/home?user=`: the files in a user's home folder, as page-number pages.

use chart_studio_models::{DecodeError, Listing};
use serde::{Deserialize, Serialize};

use crate::{BuildError, Endpoint, Paginated, endpoint::json, query};

/// Lists a home folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Home {
    /// Whose home folder (default: the requester's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl Endpoint for Home {
    type Output = Listing;

    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        "/v2/folders/home".to_owned()
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        query::encode(self)
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
        json(response)
    }
}

impl Paginated for Home {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        assert_eq!(
            built(&Home { user: Some("bcowden".to_owned()) }).1,
            "/v2/folders/home?user=bcowden"
        );
    }
}
