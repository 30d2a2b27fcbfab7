//! `GET /v2/folders/home?user=`: the files in a user's home folder, as page-number pages.

use chart_studio_models::Listing;
use serde::{Deserialize, Serialize};

use crate::Paginated;

/// Lists a home folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Home {
    /// Whose home folder (default: the requester's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

crate::endpoint::query_endpoint!(Home => Listing, "/v2/folders/home");

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
