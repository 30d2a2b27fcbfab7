//! `GET /v2/search?q=`: search files (the only way to query grid metadata).

use chart_studio_models::{File, NumberedPage};
use serde::{Deserialize, Serialize};

use crate::Paginated;

/// Searches files, such as `q=plottype:pie sales`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// The query.
    pub q: String,
}

crate::endpoint::query_endpoint!(Search => NumberedPage<File>, "/v2/search");

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
