//! `GET /v2/{collection}/{fid}[?share_key=]`: a file's metadata.

use std::marker::PhantomData;

use chart_studio_models::{DecodeError, Fid};
use serde::{Deserialize, Serialize};

use super::{Collection, file_path};
use crate::{BuildError, Endpoint, endpoint::json, query};

/// Retrieves one file of collection `C`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Retrieve<C> {
    /// The file.
    pub fid: Fid,
    /// A secret-link key that grants read access to a private file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_key: Option<String>,
    #[serde(skip)]
    collection: PhantomData<C>,
}

impl<C: Collection> Retrieve<C> {
    /// Retrieves `fid`.
    pub fn new(fid: Fid) -> Self {
        Self { fid, share_key: None, collection: PhantomData }
    }

    /// Reads through a secret link's key.
    pub fn share_key(mut self, key: impl Into<String>) -> Self {
        self.share_key = Some(key.into());
        self
    }
}

#[derive(Serialize)]
struct Query<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    share_key: Option<&'a str>,
}

impl<C: Collection> Endpoint for Retrieve<C> {
    type Output = C::Object;

    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        file_path::<C>(&self.fid, None)
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        query::encode(&Query { share_key: self.share_key.as_deref() })
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
        json(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;
    use crate::{Files, Folders, Grids, Plots};

    #[test]
    fn builds_for_every_collection() {
        let fid: Fid = "alice:3".parse().unwrap();
        assert_eq!(built(&Retrieve::<Files>::new(fid.clone())).1, "/v2/files/alice:3");
        assert_eq!(built(&Retrieve::<Plots>::new(fid.clone())).1, "/v2/plots/alice:3");
        assert_eq!(built(&Retrieve::<Grids>::new(fid.clone())).1, "/v2/grids/alice:3");
        assert_eq!(built(&Retrieve::<Folders>::new(fid.clone())).1, "/v2/folders/alice:3");
        let (method, target, body) = built(&Retrieve::<Plots>::new(fid).share_key("k1"));
        assert_eq!(
            (method.as_str(), target.as_str(), body.as_str()),
            ("GET", "/v2/plots/alice:3?share_key=k1", "")
        );
    }
}
