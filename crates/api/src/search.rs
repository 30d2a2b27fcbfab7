//! `GET /v2/search?q=`: search files (the only way to query grid metadata).

use chart_studio_models::{DecodeError, File, NumberedPage};
use serde::{Deserialize, Serialize};

use crate::{BuildError, Endpoint, Paginated, endpoint::json, query};

/// Searches files, such as `q=plottype:pie sales`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// The query.
    pub q: String,
}

impl Endpoint for Search {
    type Output = NumberedPage<File>;

    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        "/v2/search".to_owned()
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        query::encode(self)
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
        json(response)
    }
}

impl Paginated for Search {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        assert_eq!(
            built(&Search { q: "plottype:pie trump".to_owned() }).1,
            "/v2/search?q=plottype%3Apie+trump"
        );
    }
}
