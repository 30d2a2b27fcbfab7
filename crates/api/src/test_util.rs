//! Test support (feature `test-util`): recorded exchanges, a transport that replays them and
//! checks every request, and the fixture checker behind `cargo xtask fixtures`.
//!
//! A fixture is one JSON document (the caller reads the file; this module does no I/O):
//!
//! ```json
//! { "version": 1, "source": "capture" | "written from docs", "docs": "...",
//!   "endpoint": "files.retrieve", "args": { "fid": "alice:3" },
//!   "request":  { "method": "GET", "path": "/v2/files/alice:3", "query": null, "headers": {}, "body": null },
//!   "response": { "status": 200, "headers": { "content-type": "application/json" }, "body": { ... } } }
//! ```
//!
//! `args` is the endpoint's request value; `page_link` (optional) makes it a later page. The
//! request is rebuilt from `args` and compared with `request`; the response is parsed by the
//! endpoint and, on success, must serialize back to the same JSON (lossless round trip); on an
//! error status, `expect_message` (optional) is compared with the error's message.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{
    BoxFuture, Config, Credentials, Endpoint, Error, PageLink, Paged, RequestLine, Transport,
    TransportError, TransportErrorKind, build_request, files, folders, grids, images,
    parse_response, plots, raw, search, users,
};

/// A recorded request: what a test expects the client to send.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// The method.
    pub method: String,
    /// The path, from `/v2`.
    pub path: String,
    /// The query string without `?`.
    #[serde(default)]
    pub query: Option<String>,
    /// Headers that must be present with these values (`rust <version>` stands for [`crate::CLIENT_PLATFORM`]).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The JSON body.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
}

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    /// The status code.
    pub status: u16,
    /// Response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// A body that is not JSON (HTML, plain text), sent verbatim.
    #[serde(default)]
    pub body_text: Option<String>,
}

impl RecordedResponse {
    /// A JSON response.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        let headers = BTreeMap::from([("content-type".to_owned(), "application/json".to_owned())]);
        Self { status, headers, body: Some(body), body_text: None }
    }

    /// The response as the transport would hand it over.
    pub fn to_http(&self) -> Result<http::Response<Bytes>, String> {
        let body = match (&self.body_text, &self.body) {
            (Some(text), _) => Bytes::from(text.clone()),
            (None, Some(value)) => {
                Bytes::from(serde_json::to_vec(value).map_err(|e| e.to_string())?)
            }
            (None, None) => Bytes::new(),
        };
        let mut builder = http::Response::builder().status(self.status);
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        builder.body(body).map_err(|err| err.to_string())
    }
}

/// One request and the response to give it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// What the client must send.
    pub request: RecordedRequest,
    /// What it gets back.
    pub response: RecordedResponse,
}

/// Differences between a built request and a recorded one (empty when they match).
pub fn request_differences(
    actual: &http::Request<Bytes>,
    expected: &RecordedRequest,
) -> Vec<String> {
    let mut diffs = Vec::new();
    if actual.method().as_str() != expected.method {
        diffs.push(format!("method: sent {}, expected {}", actual.method(), expected.method));
    }
    if actual.uri().path() != expected.path {
        diffs.push(format!("path: sent {}, expected {}", actual.uri().path(), expected.path));
    }
    if actual.uri().query() != expected.query.as_deref() {
        diffs.push(format!(
            "query: sent {:?}, expected {:?}",
            actual.uri().query(),
            expected.query
        ));
    }
    for (name, value) in &expected.headers {
        let value = value.replace("rust <version>", crate::CLIENT_PLATFORM);
        let sent = actual.headers().get(name.as_str()).and_then(|v| v.to_str().ok());
        if sent != Some(value.as_str()) {
            diffs.push(format!("header {name}: sent {sent:?}, expected {value:?}"));
        }
    }
    let sent_body: Option<serde_json::Value> = (!actual.body().is_empty())
        .then(|| serde_json::from_slice(actual.body()).unwrap_or_default());
    if sent_body != expected.body {
        diffs.push(format!("body: sent {sent_body:?}, expected {:?}", expected.body));
    }
    diffs
}

/// A transport that answers from recorded exchanges, in order, and checks every request.
#[derive(Debug, Default)]
pub struct ReplayTransport {
    pending: Mutex<VecDeque<Exchange>>,
    problems: Mutex<Vec<String>>,
}

impl ReplayTransport {
    /// Replays `exchanges` in order.
    pub fn new(exchanges: impl IntoIterator<Item = Exchange>) -> Self {
        Self { pending: Mutex::new(exchanges.into_iter().collect()), problems: Mutex::default() }
    }

    /// Fails when a request did not match or an exchange was not used.
    pub fn verify(&self) -> Result<(), String> {
        let mut problems = self.problems.lock().map_err(|e| e.to_string())?.clone();
        let left = self.pending.lock().map_err(|e| e.to_string())?.len();
        if left > 0 {
            problems.push(format!("{left} recorded exchange(s) were never requested"));
        }
        if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
    }
}

impl Transport for ReplayTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        let outcome = (|| {
            let next = self.pending.lock().map_err(|e| e.to_string())?.pop_front();
            let exchange =
                next.ok_or_else(|| format!("unexpected request {}", RequestLine::of(&request)))?;
            let diffs = request_differences(&request, &exchange.request);
            if !diffs.is_empty() {
                return Err(format!("{}: {}", RequestLine::of(&request), diffs.join("; ")));
            }
            exchange.response.to_http()
        })();
        if let Err(problem) = &outcome
            && let Ok(mut problems) = self.problems.lock()
        {
            problems.push(problem.clone());
        }
        Box::pin(async move {
            outcome.map_err(|problem| TransportError::new(TransportErrorKind::Other, problem))
        })
    }
}

/// The settings a fixture's request is built with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FixtureConfig {
    /// The API base.
    #[serde(default = "default_base")]
    pub api_base: String,
    /// A username (fixtures use obviously fake credentials).
    #[serde(default)]
    pub username: Option<String>,
    /// An API key.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Send the credentials in `plotly-authorization`.
    #[serde(default)]
    pub proxy_authorization: bool,
}

fn default_base() -> String {
    "https://api.plotly.com".to_owned()
}

impl Default for FixtureConfig {
    fn default() -> Self {
        Self { api_base: default_base(), username: None, api_key: None, proxy_authorization: false }
    }
}

/// One fixture file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fixture {
    /// Format version, 1.
    pub version: u32,
    /// `capture` or `written from docs`.
    pub source: String,
    /// What the fixture shows and where its facts come from.
    pub docs: String,
    /// The endpoint name, such as `files.retrieve` (see [`ENDPOINTS`]).
    pub endpoint: String,
    /// The endpoint's request value.
    #[serde(default)]
    pub args: serde_json::Value,
    /// Makes the request a later page.
    #[serde(default)]
    pub page_link: Option<PageLink>,
    /// Build settings.
    #[serde(default)]
    pub config: FixtureConfig,
    /// The expected request.
    pub request: RecordedRequest,
    /// The recorded response.
    pub response: RecordedResponse,
    /// For error statuses: the message the client must extract.
    #[serde(default)]
    pub expect_message: Option<String>,
}

impl Fixture {
    /// Parses a fixture document.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let fixture: Self =
            chart_studio_models::from_json_slice(text.as_bytes()).map_err(|e| e.to_string())?;
        if fixture.version != 1 {
            return Err(format!("unsupported fixture version {}", fixture.version));
        }
        if !matches!(fixture.source.as_str(), "capture" | "written from docs") {
            return Err(format!(
                "source must be `capture` or `written from docs`, not {:?}",
                fixture.source
            ));
        }
        Ok(fixture)
    }

    /// Rebuilds the request, compares it, parses the response and checks the round trip.
    pub fn check(&self) -> Result<(), String> {
        dispatch(self)
    }

    fn client_config(&self) -> Result<Config, String> {
        let creds = match (&self.config.username, &self.config.api_key) {
            (Some(user), Some(key)) => Some(Credentials::new(user, key)),
            _ => None,
        };
        let config = Config::new(&self.config.api_base, creds, false).map_err(|e| e.to_string())?;
        Ok(if self.config.proxy_authorization {
            config.with_proxy_authorization(None)
        } else {
            config
        })
    }
}

fn check_endpoint<E>(fixture: &Fixture) -> Result<(), String>
where
    E: Endpoint + DeserializeOwned,
    E::Output: Serialize,
{
    let endpoint: E =
        serde_json::from_value(fixture.args.clone()).map_err(|e| format!("args: {e}"))?;
    let endpoint = Paged { first: endpoint, link: fixture.page_link.clone() };
    let request = build_request(&endpoint, &fixture.client_config()?).map_err(|e| e.to_string())?;
    let diffs = request_differences(&request, &fixture.request);
    if !diffs.is_empty() {
        return Err(diffs.join("; "));
    }
    let response = fixture.response.to_http()?;
    match parse_response(&endpoint, RequestLine::of(&request), &response) {
        Ok(output) => {
            let Some(expected) = &fixture.response.body else { return Ok(()) };
            let back = serde_json::to_value(&output).map_err(|e| e.to_string())?;
            if &back != expected {
                return Err(format!(
                    "round trip changed the body:\n  sent back: {back}\n  recorded:  {expected}"
                ));
            }
            Ok(())
        }
        Err(Error::Api(err)) if fixture.response.status >= 400 => match &fixture.expect_message {
            Some(message) if &err.message() != message => {
                Err(format!("error message {:?}, expected {message:?}", err.message()))
            }
            _ => Ok(()),
        },
        Err(err) => Err(format!("unexpected error: {err}")),
    }
}

macro_rules! registry {
    ($($name:literal => $endpoint:ty),* $(,)?) => {
        /// Every endpoint name a fixture may use.
        pub const ENDPOINTS: &[&str] = &[$($name),*];

        fn dispatch(fixture: &Fixture) -> Result<(), String> {
            match fixture.endpoint.as_str() {
                $($name => check_endpoint::<$endpoint>(fixture),)*
                other => Err(format!("unknown endpoint {other:?}; known: {}", ENDPOINTS.join(", "))),
            }
        }
    };
}

registry! {
    "files.retrieve" => files::Retrieve,
    "files.content" => files::Content,
    "files.update" => files::Update,
    "files.trash" => files::Trash,
    "files.restore" => files::Restore,
    "files.permanent_delete" => files::PermanentDelete,
    "files.lookup" => files::Lookup,
    "plots.list" => plots::List,
    "plots.feed" => plots::Feed,
    "plots.create" => plots::Create,
    "plots.retrieve" => plots::Retrieve,
    "plots.content" => plots::Content,
    "plots.update" => plots::Update,
    "plots.trash" => plots::Trash,
    "plots.restore" => plots::Restore,
    "plots.permanent_delete" => plots::PermanentDelete,
    "plots.lookup" => plots::Lookup,
    "grids.create" => grids::Create,
    "grids.retrieve" => grids::Retrieve,
    "grids.content" => grids::Content,
    "grids.update" => grids::Update,
    "grids.col_get" => grids::ColumnsGet,
    "grids.col_append" => grids::ColumnsAppend,
    "grids.col_replace" => grids::ColumnsReplace,
    "grids.col_delete" => grids::ColumnsDelete,
    "grids.row" => grids::AppendRows,
    "grids.trash" => grids::Trash,
    "grids.restore" => grids::Restore,
    "grids.permanent_delete" => grids::PermanentDelete,
    "grids.destroy" => grids::Destroy,
    "grids.lookup" => grids::Lookup,
    "folders.create" => folders::Create,
    "folders.retrieve" => folders::Retrieve,
    "folders.home" => folders::Home,
    "folders.all" => folders::All,
    "folders.trashed" => folders::Trashed,
    "folders.trash" => folders::Trash,
    "folders.restore" => folders::Restore,
    "folders.permanent_delete" => folders::PermanentDelete,
    "folders.lookup" => folders::Lookup,
    "users.current" => users::Current,
    "users.by_name" => users::ByName,
    "search" => search::Search,
    "images.create" => images::Create,
    "raw" => raw::Raw,
}
