//! `GET /v2/{collection}/lookup?path=`: find a file by its folder path (404 when there is none).

use std::marker::PhantomData;

use chart_studio_models::DecodeError;
use serde::{Deserialize, Serialize};

use super::Collection;
use crate::{BuildError, Endpoint, endpoint::json, query};

/// Looks a file of collection `C` up by path, such as `reports/2024/sales`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Lookup<C> {
    /// The `/`-separated path of the file.
    pub path: String,
    /// The idlocal of the folder the path is relative to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<i64>,
    /// Whose files to search (default: the requester's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Ask only whether the file exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    #[serde(skip)]
    collection: PhantomData<C>,
}

impl<C: Collection> Lookup<C> {
    /// Looks `path` up among the requester's files.
    pub fn new(path: impl Into<String>) -> Self {
        Self { path: path.into(), parent: None, user: None, exists: None, collection: PhantomData }
    }

    /// Searches another user's files.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Makes the path relative to a folder.
    pub fn parent(mut self, parent: i64) -> Self {
        self.parent = Some(parent);
        self
    }
}

#[derive(Serialize)]
struct Query<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exists: Option<bool>,
}

impl<C: Collection> Endpoint for Lookup<C> {
    type Output = C::Object;

    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        format!("/v2/{}/lookup", C::SEGMENT)
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        query::encode(&Query {
            path: &self.path,
            parent: self.parent,
            user: self.user.as_deref(),
            exists: self.exists,
        })
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
        json(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;
    use crate::{Files, Grids};

    #[test]
    fn builds() {
        assert_eq!(built(&Lookup::<Files>::new("a/b c")).1, "/v2/files/lookup?path=a%2Fb+c");
        assert_eq!(
            built(&Lookup::<Grids>::new("g").user("bob").parent(0)).1,
            "/v2/grids/lookup?path=g&parent=0&user=bob"
        );
    }
}
