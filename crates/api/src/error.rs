//! Errors, classified by where the failure happened.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use chart_studio_models::{DecodeError, ErrorBody};
use http::StatusCode;

/// Any failure of [`crate::Client::send`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be built; nothing was sent.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// No complete response arrived.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The server answered with success, but the body was not what the endpoint returns.
    #[error(transparent)]
    Decode(Box<ResponseDecodeError>),
}

impl From<ApiError> for Error {
    fn from(err: ApiError) -> Self {
        Self::Api(Box::new(err))
    }
}

impl From<ResponseDecodeError> for Error {
    fn from(err: ResponseDecodeError) -> Self {
        Self::Decode(Box::new(err))
    }
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(err) => Some(err.status),
            Self::Decode(err) => Some(err.status),
            Self::Build(_) | Self::Transport(_) => None,
        }
    }

    /// Whether sending the same request again may succeed: no response, a 5xx, or a short throttle.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(err) => err.kind != TransportErrorKind::Certificate,
            Self::Api(err) => err.is_retryable(),
            Self::Build(_) | Self::Decode(_) => false,
        }
    }

    /// How long the server asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api(err) => err.retry_after(),
            _ => None,
        }
    }

    /// The API error, when the server answered with an error status.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(err) => Some(err),
            _ => None,
        }
    }
}

/// A request that could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The query parameters could not be encoded.
    #[error("could not encode the query: {0}")]
    Query(String),
    /// The body could not be encoded.
    #[error("could not encode the request body: {0}")]
    Body(String),
    /// The assembled address is not a valid URL.
    #[error("invalid request address {0:?}: {1}")]
    Url(String, String),
    /// A header value held characters a header cannot hold.
    #[error("invalid {0} header value")]
    Header(&'static str),
    /// An extra header whose name or value HTTP does not allow.
    #[error(
        "invalid header {0:?}: a name of letters, digits and dashes, and a value of visible characters"
    )]
    ExtraHeader(String),
    /// A method name that HTTP does not allow.
    #[error("invalid HTTP method {0:?}")]
    Method(String),
}

/// The method and address of a request, with secrets such as `share_key` values hidden.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestLine {
    /// The HTTP method.
    pub method: String,
    /// The address, with `share_key` values replaced by `***`.
    pub url: String,
}

impl RequestLine {
    /// The request line of `request`.
    pub fn of<B>(request: &http::Request<B>) -> Self {
        Self { method: request.method().to_string(), url: redact_url(&request.uri().to_string()) }
    }
}

/// `url` with its secrets masked as `***`: the password of `user:password@` (a proxy's) and a
/// `share_key` parameter. Text that is not a URL is returned as it is.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else { return url.to_owned() };
    let has_key = parsed.query_pairs().any(|(key, _)| key == "share_key");
    if !has_key && parsed.password().is_none() {
        return url.to_owned();
    }
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if has_key {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if key == "share_key" { "***".to_owned() } else { value.into_owned() };
                (key.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

impl fmt::Display for RequestLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)
    }
}

/// What kind of transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be opened.
    Connect,
    /// The request or response took too long.
    Timeout,
    /// The connection broke before the whole response arrived.
    Interrupted,
    /// The server's TLS certificate is not trusted (or not valid for its name).
    Certificate,
    /// Anything else (redirects, proxies, ...).
    Other,
}

/// No complete response arrived. The cause is its [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
pub struct TransportError {
    kind: TransportErrorKind,
    request: Option<RequestLine>,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl TransportError {
    /// A transport failure of `kind` caused by `source`.
    pub fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self { kind, request: None, source: source.into() }
    }

    /// Records which request failed.
    pub fn with_request(mut self, request: RequestLine) -> Self {
        self.request = Some(request);
        self
    }

    /// What kind of failure it was.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The request that failed, when known.
    pub fn request(&self) -> Option<&RequestLine> {
        self.request.as_ref()
    }

    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }

    /// Whether no connection could be made.
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }

    /// Whether the server's certificate was refused.
    pub fn is_certificate(&self) -> bool {
        self.kind == TransportErrorKind::Certificate
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(request) = &self.request {
            write!(f, "{request}: ")?;
        }
        let what = match self.kind {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Interrupted => {
                "the connection broke before the response was complete"
            }
            TransportErrorKind::Certificate => "the server's certificate is not trusted",
            TransportErrorKind::Other => "request failed",
        };
        // The cause is reported by `source()`, so that error chains do not repeat it.
        f.write_str(what)
    }
}

/// The server answered with a status of 400 or more.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The request that failed.
    pub request: RequestLine,
    /// The status.
    pub status: StatusCode,
    /// The texts of `errors[].message` (or `detail`), empty when the body had none.
    pub messages: Vec<String>,
    /// The response's `content-type`.
    pub content_type: Option<String>,
    /// The raw body, never lost.
    pub body: Bytes,
    retry_after_header: Option<Duration>,
}

/// Words that tell a daily quota apart from a short throttle (reference §3.5).
const QUOTA_MARKERS: [&str; 4] = ["threshold", "per 24h", "per day", "daily limit"];

impl ApiError {
    /// Reads an error response. JSON error bodies give their messages; anything else is kept raw.
    pub fn from_response(request: RequestLine, response: &http::Response<Bytes>) -> Self {
        let body = response.body().clone();
        let content_type = header_text(response, http::header::CONTENT_TYPE);
        let messages =
            serde_json::from_slice::<ErrorBody>(&body).map(|b| b.messages()).unwrap_or_default();
        let retry_after_header = header_text(response, http::header::RETRY_AFTER)
            .and_then(|value| server_wait(value.trim()));
        Self {
            request,
            status: response.status(),
            messages,
            content_type,
            body,
            retry_after_header,
        }
    }

    /// The messages joined by newlines, or a readable stand-in for a body that had none.
    pub fn message(&self) -> String {
        if !self.messages.is_empty() {
            return self.messages.join("\n");
        }
        describe_body(&self.body, self.content_type.as_deref())
    }

    /// A daily or plan quota was reached: retrying will not help for hours.
    pub fn is_quota(&self) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS && {
            let text = self.message().to_lowercase();
            QUOTA_MARKERS.iter().any(|marker| text.contains(marker))
        }
    }

    /// A short throttle: retrying after [`ApiError::retry_after`] should work.
    pub fn is_throttle(&self) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS && !self.is_quota()
    }

    /// The credentials were missing or refused.
    pub fn is_auth(&self) -> bool {
        matches!(self.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
    }

    /// A 5xx or a short throttle.
    pub fn is_retryable(&self) -> bool {
        self.status.is_server_error() || self.is_throttle()
    }

    /// The wait the server asked for: `Retry-After`, else "Expected available in N seconds".
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after_header.or_else(|| expected_available_in(&self.message()))
    }
}

fn header_text(response: &http::Response<Bytes>, name: http::header::HeaderName) -> Option<String> {
    response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
}

/// Parses DRF's "Expected available in 5.0 seconds." into a duration.
fn expected_available_in(message: &str) -> Option<Duration> {
    let rest = message.split("Expected available in ").nth(1)?;
    server_wait(rest.split_whitespace().next()?)
}

/// The longest wait a server's hint is taken at; a larger one is clamped to it.
const MAX_SERVER_WAIT: Duration = Duration::from_secs(600);

/// A server's wait in seconds (`5`, `7.0`), clamped to [`MAX_SERVER_WAIT`]; `None` for anything
/// that is not a finite, non-negative number.
fn server_wait(text: &str) -> Option<Duration> {
    let secs: f64 = text.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| {
        Duration::try_from_secs_f64(secs).map_or(MAX_SERVER_WAIT, |d| d.min(MAX_SERVER_WAIT))
    })
}

/// A readable one-line summary of a body that is not a JSON error body.
fn describe_body(body: &[u8], content_type: Option<&str>) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return "No Content".to_owned();
    }
    let is_html = content_type.is_some_and(|ct| ct.contains("html"))
        || trimmed
            .get(..15)
            .is_some_and(|head| head.to_ascii_lowercase().starts_with("<!doctype html"))
        || trimmed.get(..5).is_some_and(|head| head.eq_ignore_ascii_case("<html"));
    if is_html {
        let title = html_title(trimmed);
        return match title {
            Some(title) => {
                format!("the server sent an HTML page instead of JSON, titled {title:?}")
            }
            None => "the server sent an HTML page instead of JSON".to_owned(),
        };
    }
    snippet(trimmed, 300)
}

fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower.get(start..)?.find("</title>")?;
    let title = html.get(start..end)?.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

/// At most `max` characters of `text`, marked when cut.
pub(crate) fn snippet(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} answered {}: {}", self.request, self.status, self.message())
    }
}

impl std::error::Error for ApiError {}

/// A successful response whose body was not what the endpoint returns.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{request} answered {status} with a body that could not be read: {error}; body starts with {snippet:?}"
)]
pub struct ResponseDecodeError {
    /// The request.
    pub request: RequestLine,
    /// The (successful) status.
    pub status: StatusCode,
    /// What failed and where.
    pub error: DecodeError,
    /// The start of the body.
    pub snippet: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, content_type: Option<&str>, body: &str) -> http::Response<Bytes> {
        let mut builder = http::Response::builder().status(status);
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(Bytes::from(body.to_owned())).unwrap()
    }

    fn api_error(status: u16, content_type: Option<&str>, body: &str) -> ApiError {
        let line = RequestLine {
            method: "GET".to_owned(),
            url: "https://api.example/v2/files/a:1".to_owned(),
        };
        ApiError::from_response(line, &response(status, content_type, body))
    }

    #[test]
    fn json_error_messages_are_joined() {
        let err = api_error(
            400,
            Some("application/json"),
            r#"{"errors":[{"code":"UNKNOWN","message":"first","path":null,"field":null},{"message":"second"}],"detail":"first"}"#,
        );
        assert_eq!(err.messages, ["first", "second"]);
        assert_eq!(
            err.to_string(),
            "GET https://api.example/v2/files/a:1 answered 400 Bad Request: first\nsecond"
        );
    }

    #[test]
    fn empty_body_reads_no_content() {
        let err = api_error(404, None, "");
        assert_eq!(err.message(), "No Content");
        assert!(err.messages.is_empty());
    }

    #[test]
    fn non_json_body_is_kept_and_shown() {
        let err = api_error(502, Some("text/plain"), "upstream connect error");
        assert_eq!(err.message(), "upstream connect error");
        assert_eq!(&err.body[..], b"upstream connect error");
        assert!(err.is_retryable());
    }

    #[test]
    fn html_body_becomes_a_readable_message() {
        let err = api_error(
            500,
            Some("text/html; charset=utf-8"),
            "<!DOCTYPE html><html><head><title>Server Error\n (500)</title></head><body>...</body></html>",
        );
        assert_eq!(
            err.message(),
            "the server sent an HTML page instead of JSON, titled \"Server Error (500)\""
        );
        let untyped = api_error(404, None, "<html><body>nope</body></html>");
        assert_eq!(untyped.message(), "the server sent an HTML page instead of JSON");
    }

    #[test]
    fn array_and_odd_json_bodies_do_not_panic() {
        let err = api_error(400, Some("application/json"), r#"["a", "b"]"#);
        assert_eq!(err.message(), r#"["a", "b"]"#);
        let err = api_error(400, Some("application/json"), r#"{"detail": {"why": 1}}"#);
        assert_eq!(err.messages, [r#"{"why":1}"#]);
    }

    #[test]
    fn throttle_and_quota_are_told_apart() {
        let throttle = api_error(
            429,
            Some("application/json"),
            r#"{"errors":[{"message":"Request was throttled. Expected available in 5.0 seconds."}]}"#,
        );
        assert!(throttle.is_throttle() && !throttle.is_quota() && throttle.is_retryable());
        assert_eq!(throttle.retry_after(), Some(Duration::from_secs(5)));

        let quota = api_error(
            429,
            Some("application/json"),
            r#"{"errors":[{"message":"Hi there, you've reached the threshold of 100 combined image exports and chart saves per 24h period. If you need to raise your daily limit, please consider upgrading to a paid plan"}]}"#,
        );
        assert!(quota.is_quota() && !quota.is_throttle() && !quota.is_retryable());
    }

    #[test]
    fn retry_after_header_wins() {
        let line = RequestLine::default();
        let resp = http::Response::builder()
            .status(429)
            .header("retry-after", "2")
            .body(Bytes::new())
            .unwrap();
        assert_eq!(
            ApiError::from_response(line, &resp).retry_after(),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn proxy_passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("http://me:hunter2@proxy.example:3128"),
            "http://me:***@proxy.example:3128/"
        );
        assert_eq!(redact_url("http://proxy.example:3128"), "http://proxy.example:3128");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn share_keys_are_redacted_from_request_lines() {
        let request = http::Request::get("https://api.example/v2/plots/a:1?share_key=SECRET&x=1")
            .body(())
            .unwrap();
        let line = RequestLine::of(&request);
        assert!(!line.url.contains("SECRET"), "{line}");
        assert!(
            line.url.contains("share_key=***") || line.url.contains("share_key=%2A%2A%2A"),
            "{line}"
        );
    }

    #[test]
    fn huge_or_odd_server_waits_are_clamped_or_ignored() {
        let throttle = |retry_after: &str, seconds: &str| {
            let resp = http::Response::builder()
                .status(429)
                .header("retry-after", retry_after)
                .body(Bytes::from(format!(
                    r#"{{"detail": "Request was throttled. Expected available in {seconds} seconds."}}"#
                )))
                .unwrap();
            ApiError::from_response(RequestLine::default(), &resp)
        };
        assert_eq!(throttle("1e300", "1").retry_after(), Some(MAX_SERVER_WAIT));
        assert_eq!(throttle("x", "1e30").retry_after(), Some(MAX_SERVER_WAIT));
        assert_eq!(throttle("-1", "NaN").retry_after(), None);
        assert_eq!(throttle("inf", "3").retry_after(), Some(Duration::from_secs(3)));
    }

    proptest::proptest! {
        #[test]
        fn any_retry_hint_parses_without_panicking(header in ".{0,40}", message in ".{0,80}") {
            let resp = http::Response::builder()
                .status(429)
                .header("retry-after", header.replace(['\r', '\n'], " ").as_str())
                .body(Bytes::from(message))
                .ok();
            if let Some(resp) = resp {
                let wait = ApiError::from_response(RequestLine::default(), &resp).retry_after();
                proptest::prop_assert!(wait.is_none_or(|wait| wait <= MAX_SERVER_WAIT));
            }
        }

        #[test]
        fn any_number_of_seconds_is_clamped(secs in proptest::num::f64::ANY) {
            let text = format!("Request was throttled. Expected available in {secs} seconds.");
            let wait = expected_available_in(&text);
            proptest::prop_assert!(wait.is_none_or(|wait| wait <= MAX_SERVER_WAIT));
        }
    }
}
