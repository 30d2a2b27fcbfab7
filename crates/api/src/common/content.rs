//! `GET /v2/{collection}/{fid}/content`: a file's content (a figure, a grid's columns, ...).

use std::marker::PhantomData;

use chart_studio_models::{DecodeError, Fid};
use serde::{Deserialize, Serialize};

use super::{Collection, file_path};
use crate::{BuildError, Endpoint, endpoint::json, query};

/// Reads the content of a file of collection `C`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Content<C> {
    /// The file.
    pub fid: Fid,
    /// A secret-link key that grants read access to a private file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_key: Option<String>,
    /// Plots: replace `*src` references by the referenced data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_data: Option<bool>,
    /// Plots: `unreadable` adds the data of grids the requester cannot read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_data: Option<String>,
    #[serde(skip)]
    collection: PhantomData<C>,
}

impl<C: Collection> Content<C> {
    /// Reads the content of `fid`.
    pub fn new(fid: Fid) -> Self {
        Self { fid, share_key: None, inline_data: None, map_data: None, collection: PhantomData }
    }

    /// Reads through a secret link's key.
    pub fn share_key(mut self, key: impl Into<String>) -> Self {
        self.share_key = Some(key.into());
        self
    }

    /// Plots: inline the referenced grid data (`inline_data=true`).
    pub fn inline_data(mut self, inline: bool) -> Self {
        self.inline_data = Some(inline);
        self
    }

    /// Plots: `map_data=unreadable`.
    pub fn map_unreadable(mut self) -> Self {
        self.map_data = Some("unreadable".to_owned());
        self
    }
}

#[derive(Serialize)]
struct Query<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    inline_data: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    map_data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    share_key: Option<&'a str>,
}

impl<C: Collection> Endpoint for Content<C> {
    type Output = C::Content;

    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        file_path::<C>(&self.fid, Some("content"))
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        query::encode(&Query {
            inline_data: self.inline_data,
            map_data: self.map_data.as_deref(),
            share_key: self.share_key.as_deref(),
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
    use crate::{Grids, Plots};

    #[test]
    fn builds() {
        let fid: Fid = "a:1".parse().unwrap();
        assert_eq!(built(&Content::<Grids>::new(fid.clone())).1, "/v2/grids/a:1/content");
        assert_eq!(
            built(&Content::<Plots>::new(fid).inline_data(true).map_unreadable().share_key("k")).1,
            "/v2/plots/a:1/content?inline_data=true&map_data=unreadable&share_key=k"
        );
    }
}
