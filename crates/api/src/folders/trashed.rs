//! `GET /v2/folders/trashed?user=`: the files in a user's trash, as page-number pages.

use chart_studio_models::Listing;
use serde::{Deserialize, Serialize};

use crate::Paginated;

/// Lists a user's trashed files (owner only). Named after the `folder_trashed` call of the
/// Julia client; the local server implements it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trashed {
    /// Whose trash (default: the requester's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Files per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// The page number, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

crate::endpoint::query_endpoint!(Trashed => Listing, "/v2/folders/trashed");

impl Paginated for Trashed {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        let trashed = Trashed { user: Some("a".to_owned()), page_size: Some(500), page: None };
        assert_eq!(built(&trashed).1, "/v2/folders/trashed?user=a&page_size=500");
    }
}
