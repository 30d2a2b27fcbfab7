//! `PUT` / `PATCH /v2/{collection}/{fid}`: change a file's writable metadata.

use std::marker::PhantomData;

use chart_studio_models::{DecodeError, Fid};
use serde::{Deserialize, Serialize};

use super::{Collection, file_path};
use crate::{BuildError, Endpoint, endpoint::json, endpoint::json_body};

/// The writable metadata of a file; fields left `None` are not sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileUpdate {
    /// A new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// A new containing folder, by idlocal (-1 for home).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<i64>,
    /// A new containing folder, by path (created when missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_path: Option<String>,
    /// Public (`true`) or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world_readable: Option<bool>,
    /// Secret link on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_key_enabled: Option<bool>,
    /// Grid metadata (grids only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// A new figure (plots only; the local server accepts it, keeping the plot's fid and URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<serde_json::Value>,
    /// A new document (dashboards and presentations), as a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

impl FileUpdate {
    /// Renames the file.
    pub fn filename(mut self, name: impl Into<String>) -> Self {
        self.filename = Some(name.into());
        self
    }

    /// Moves the file into the folder with this idlocal.
    pub fn parent(mut self, parent: i64) -> Self {
        self.parent = Some(parent);
        self
    }

    /// Moves the file into the folder at this path.
    pub fn parent_path(mut self, path: impl Into<String>) -> Self {
        self.parent_path = Some(path.into());
        self
    }

    /// Sets `world_readable` and `share_key_enabled` together.
    pub fn sharing(mut self, world_readable: bool, share_key_enabled: bool) -> Self {
        self.world_readable = Some(world_readable);
        self.share_key_enabled = Some(share_key_enabled);
        self
    }

    /// Replaces a plot's figure.
    pub fn figure(mut self, figure: serde_json::Value) -> Self {
        self.figure = Some(figure);
        self
    }

    /// Replaces a dashboard's or presentation's document.
    pub fn content(mut self, content: &serde_json::Value) -> Self {
        self.content = Some(content.to_string());
        self
    }

    /// Sets grid metadata.
    pub fn metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

/// Updates a file of collection `C`: `PUT` by default, `PATCH` for [`Update::patch`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Update<C> {
    /// The file.
    pub fid: Fid,
    /// The new values.
    pub changes: FileUpdate,
    /// Send a partial update (`PATCH`) instead of `PUT`.
    #[serde(default)]
    pub partial: bool,
    #[serde(skip)]
    collection: PhantomData<C>,
}

impl<C: Collection> Update<C> {
    /// `PUT` of `changes`.
    pub fn put(fid: Fid, changes: FileUpdate) -> Self {
        Self { fid, changes, partial: false, collection: PhantomData }
    }

    /// `PATCH` of `changes`.
    pub fn patch(fid: Fid, changes: FileUpdate) -> Self {
        Self { fid, changes, partial: true, collection: PhantomData }
    }
}

impl<C: Collection> Endpoint for Update<C> {
    type Output = C::Object;

    fn method(&self) -> http::Method {
        if self.partial { http::Method::PATCH } else { http::Method::PUT }
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        file_path::<C>(&self.fid, None)
    }
    fn body(&self) -> Result<Option<bytes::Bytes>, BuildError> {
        json_body(&self.changes)
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
        json(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;
    use crate::{Files, Plots};

    #[test]
    fn put_and_patch_send_json_booleans() {
        let fid: Fid = "a:2".parse().unwrap();
        let (method, target, body) =
            built(&Update::<Plots>::put(fid.clone(), FileUpdate::default().sharing(false, true)));
        assert_eq!((method.as_str(), target.as_str()), ("PUT", "/v2/plots/a:2"));
        assert_eq!(body, r#"{"world_readable":false,"share_key_enabled":true}"#);
        let (method, _, body) =
            built(&Update::<Files>::patch(fid, FileUpdate::default().filename("new")));
        assert_eq!((method.as_str(), body.as_str()), ("PATCH", r#"{"filename":"new"}"#));
    }
}
