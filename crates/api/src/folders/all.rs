//! `GET /v2/folders/all?user=&filetype=&page_size=`: every file of a user, as page-number pages.

use chart_studio_models::Listing;
use serde::{Deserialize, Serialize};

use crate::Paginated;

/// Lists all of a user's files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct All {
    /// Whose files (default: the requester's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Only files of this type (`plot`, `grid`, `fold`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filetype: Option<String>,
    /// Files per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// The page number, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

crate::endpoint::query_endpoint!(All => Listing, "/v2/folders/all");

impl Paginated for All {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        let all = All {
            user: Some("a".to_owned()),
            filetype: Some("plot".to_owned()),
            page_size: Some(500),
            page: None,
        };
        assert_eq!(built(&all).1, "/v2/folders/all?user=a&filetype=plot&page_size=500");
    }
}
