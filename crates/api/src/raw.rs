//! Any call, described at run time: the `api` passthrough.

use bytes::Bytes;
use chart_studio_models::DecodeError;
use serde::{Deserialize, Serialize};

use crate::{BuildError, Endpoint, Paginated, endpoint::any_json, endpoint::json_body};

/// A request to any path. The answer is JSON when it parses as JSON, else a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Raw {
    /// The HTTP method, such as `GET`.
    pub method: String,
    /// The path: `/v2/files/a:1`, `v2/files/a:1` and `files/a:1` all mean the same; a query may follow `?`.
    pub path: String,
    /// Extra query parameters, appended after any query in `path`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<(String, String)>,
    /// A JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// Headers sent besides the standard ones, replacing standard ones of the same name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

impl Raw {
    /// A `method` request to `path`.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            params: Vec::new(),
            body: None,
            headers: Vec::new(),
        }
    }

    fn split_path(&self) -> (String, Option<&str>) {
        let (path, query) = match self.path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (self.path.as_str(), None),
        };
        let path = path.trim_start_matches('/');
        let path = if path.starts_with("v2/") || path == "v2" {
            format!("/{path}")
        } else {
            format!("/v2/{path}")
        };
        (path, query)
    }
}

impl Endpoint for Raw {
    type Output = serde_json::Value;

    fn method(&self) -> http::Method {
        http::Method::from_bytes(self.method.to_ascii_uppercase().as_bytes())
            .unwrap_or(http::Method::GET)
    }
    /// Safe methods, `PUT`, `DELETE` and `PATCH` (the API's partial updates set fields to values).
    fn idempotent(&self) -> bool {
        let method = self.method();
        method.is_idempotent() || method == http::Method::PATCH
    }
    fn path(&self) -> String {
        self.split_path().0
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        http::Method::from_bytes(self.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| BuildError::Method(self.method.clone()))?;
        let mut parts: Vec<String> =
            self.split_path().1.filter(|q| !q.is_empty()).map(str::to_owned).into_iter().collect();
        if !self.params.is_empty() {
            parts.push(
                serde_urlencoded::to_string(&self.params)
                    .map_err(|err| BuildError::Query(err.to_string()))?,
            );
        }
        Ok((!parts.is_empty()).then(|| parts.join("&")))
    }
    fn body(&self) -> Result<Option<Bytes>, BuildError> {
        match &self.body {
            Some(body) => json_body(body),
            None => Ok(None),
        }
    }
    fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
    fn parse(&self, response: &http::Response<Bytes>) -> Result<Self::Output, DecodeError> {
        Ok(any_json(response))
    }
}

impl Paginated for Raw {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn paths_are_relative_to_v2() {
        for path in ["/v2/files/a:1", "v2/files/a:1", "files/a:1", "/files/a:1"] {
            assert_eq!(built(&Raw::new("get", path)).1, "/v2/files/a:1", "{path}");
        }
    }

    #[test]
    fn query_and_params_combine() {
        let mut raw = Raw::new("GET", "folders/all?user=a");
        raw.params.push(("page_size".to_owned(), "500".to_owned()));
        assert_eq!(built(&raw).1, "/v2/folders/all?user=a&page_size=500");
    }

    #[test]
    fn body_and_method() {
        let mut raw = Raw::new("patch", "files/a:1");
        raw.body = Some(serde_json::json!({"world_readable": false}));
        assert_eq!(
            built(&raw),
            ("PATCH".into(), "/v2/files/a:1".into(), r#"{"world_readable":false}"#.into())
        );
        assert!(raw.idempotent());
        assert!(!Raw::new("POST", "plots").idempotent());
    }

    #[test]
    fn extra_headers_replace_standard_ones() {
        let config = crate::Config::new("https://api.example.com", None, false).unwrap();
        let mut raw = Raw::new("GET", "files");
        raw.headers.push(("Plotly-Client-Platform".to_owned(), "python 5.0".to_owned()));
        raw.headers.push(("X-Trace".to_owned(), "1".to_owned()));
        let request = crate::build_request(&raw, &config).unwrap();
        let platforms: Vec<_> =
            request.headers().get_all("plotly-client-platform").iter().collect();
        assert_eq!(platforms, ["python 5.0"]);
        assert_eq!(request.headers()["x-trace"], "1");
        raw.headers.push(("bad header".to_owned(), "x".to_owned()));
        assert!(crate::build_request(&raw, &config).is_err());
    }

    #[test]
    fn invalid_methods_are_refused() {
        let config = crate::Config::new("https://api.example.com", None, false).unwrap();
        let err = crate::build_request(&Raw::new("GE T", "files"), &config).unwrap_err();
        assert!(err.to_string().contains("GE T"), "{err}");
    }
}
