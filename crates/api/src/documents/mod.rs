//! `/v2/dashboards` and `/v2/spectacle-presentations`: the requester's own list, creating a
//! document, and the shared file operations. [`crate::dashboards`] and [`crate::presentations`]
//! name them for each collection.

use std::marker::PhantomData;

use chart_studio_models::{Created, DecodeError, File, NumberedPage};
use serde::{Deserialize, Serialize};

use crate::endpoint::{json, json_body};
use crate::{BuildError, Collection, Endpoint};

/// Lists the requester's own documents of collection `C` (trashed ones too, marked `deleted`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct List<C> {
    /// Files per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    #[serde(skip)]
    collection: PhantomData<C>,
}

impl<C: Collection> Endpoint for List<C> {
    type Output = NumberedPage<File>;

    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        format!("/v2/{}", C::SEGMENT)
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        crate::query::encode(self)
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
        json(response)
    }
}

impl<C: Collection> crate::Paginated for List<C> {}

/// The body of a dashboard or presentation create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DocumentCreate {
    /// The document, as a JSON string (as the service stores it).
    pub content: String,
    /// The file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The containing folder's path, created when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_path: Option<String>,
    /// Public or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world_readable: Option<bool>,
    /// Secret link on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_key_enabled: Option<bool>,
}

impl DocumentCreate {
    /// A create body for `content`.
    pub fn new(content: &serde_json::Value) -> Self {
        Self {
            content: content.to_string(),
            filename: None,
            parent_path: None,
            world_readable: None,
            share_key_enabled: None,
        }
    }
}

crate::common::placement_builders!(DocumentCreate, "document");

/// Creates a document of collection `C`; the answer is `{"file": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Create<C> {
    /// What to create.
    pub document: DocumentCreate,
    #[serde(skip)]
    collection: PhantomData<C>,
}

impl<C: Collection> Create<C> {
    /// Creates `document`.
    pub fn new(document: DocumentCreate) -> Self {
        Self { document, collection: PhantomData }
    }
}

impl<C: Collection> Endpoint for Create<C> {
    type Output = Created<C::Object>;

    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn idempotent(&self) -> bool {
        false
    }
    fn path(&self) -> String {
        format!("/v2/{}", C::SEGMENT)
    }
    fn body(&self) -> Result<Option<bytes::Bytes>, BuildError> {
        json_body(&self.document)
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
        json(response)
    }
}

#[cfg(test)]
mod tests {
    use crate::common::tests::built;
    use crate::{dashboards, presentations};

    use super::DocumentCreate;

    #[test]
    fn builds() {
        let content = serde_json::json!({"layout": null, "settings": {}, "version": 2});
        let create = DocumentCreate::new(&content).filename("board").sharing(false, true);
        let (method, target, body) = built(&dashboards::Create::new(create.clone()));
        assert_eq!((method.as_str(), target.as_str()), ("POST", "/v2/dashboards"));
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["content"], content.to_string());
        assert_eq!(
            (body["world_readable"].clone(), body["share_key_enabled"].clone()),
            (false.into(), true.into())
        );
        assert_eq!(built(&presentations::Create::new(create)).1, "/v2/spectacle-presentations");
        assert_eq!(built(&presentations::List::default()).1, "/v2/spectacle-presentations");
    }
}
