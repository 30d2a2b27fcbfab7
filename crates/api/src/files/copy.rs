//! `POST /v2/files/{fid}/copy`: a copy of a plot or grid the caller may read, owned by the
//! caller (a plot's copy draws from copies of its grids).

use bytes::Bytes;
use chart_studio_models::{Created, DecodeError, Fid, File};
use serde::{Deserialize, Serialize};

use crate::{BuildError, Endpoint};

/// Copies a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Copy {
    /// The file to copy.
    pub fid: Fid,
    /// The folder for the copy, as a `/`-separated path (default: home).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_path: Option<String>,
    /// The key of a secret link, to copy a file shared that way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_key: Option<String>,
}

#[derive(Serialize)]
struct Query<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    share_key: Option<&'a str>,
}

impl Copy {
    /// Copies `fid` into the caller's home folder.
    pub fn new(fid: Fid) -> Self {
        Self { fid, parent_path: None, share_key: None }
    }

    /// Puts the copy in the folder at `path`.
    pub fn into_folder(mut self, path: impl Into<String>) -> Self {
        self.parent_path = Some(path.into());
        self
    }
}

impl Endpoint for Copy {
    type Output = Created<File>;

    fn method(&self) -> http::Method {
        http::Method::POST
    }
    /// Each call makes another copy.
    fn idempotent(&self) -> bool {
        false
    }
    fn path(&self) -> String {
        crate::common::file_path::<crate::Files>(&self.fid, Some("copy"))
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        crate::query::encode(&Query { share_key: self.share_key.as_deref() })
    }
    fn body(&self) -> Result<Option<Bytes>, BuildError> {
        let mut body = serde_json::Map::new();
        if let Some(path) = &self.parent_path {
            body.insert("parent_path".to_owned(), path.clone().into());
        }
        crate::endpoint::json_body(&body)
    }
    fn parse(&self, response: &http::Response<Bytes>) -> Result<Self::Output, DecodeError> {
        crate::endpoint::json(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        let copy = Copy::new("bob:3".parse().unwrap()).into_folder("mine/copies");
        assert_eq!(
            built(&copy),
            (
                "POST".into(),
                "/v2/files/bob:3/copy".into(),
                r#"{"parent_path":"mine/copies"}"#.into()
            )
        );
        assert_eq!(built(&Copy::new("bob:3".parse().unwrap())).2, "{}");
        assert!(!copy.idempotent());
    }
}
