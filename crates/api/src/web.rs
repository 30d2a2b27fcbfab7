//! The web side of a server, beside its API: whether a link (a chart's page, picture or embed,
//! a dashboard) answers.

use chart_studio_models::DecodeError;

use crate::{BuildError, Endpoint};

/// `GET` of a web link of the server (its path and query below the client's base address),
/// answered as a browser would be; succeeds when the link answers with 2xx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
}

impl Link {
    /// The link at `path` (starting with `/`), with its `query` (without `?`), if any.
    pub fn new(path: impl Into<String>, query: Option<String>) -> Self {
        let accept = ("accept".to_owned(), "text/html,*/*".to_owned());
        Self { path: path.into(), query, headers: vec![accept] }
    }
}

impl Endpoint for Link {
    type Output = ();

    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        self.path.clone()
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        Ok(self.query.clone())
    }
    fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
    fn parse(&self, _: &http::Response<bytes::Bytes>) -> Result<(), DecodeError> {
        Ok(())
    }
}
