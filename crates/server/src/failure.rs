//! Error answers, in the API's wrapper: `{"errors": [{code, message, path, field}], "detail": ...}`.

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use chart_studio_models::ErrorBody;
use http::{HeaderValue, StatusCode, header};

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum Failure {
    /// 400 with an optional offending field.
    #[error("{message}")]
    BadRequest { message: String, field: Option<String> },
    /// 401.
    #[error("{0}")]
    Unauthorized(String),
    /// 403.
    #[error("You do not have permission to perform this action.")]
    Forbidden,
    /// 403: a change another site asked a browser to send.
    #[error("Requests from other sites are refused.")]
    CrossSite,
    /// 404 (also for files the requester may not see).
    #[error("Not found.")]
    NotFound,
    /// 405.
    #[error("Method \"{0}\" not allowed.")]
    MethodNotAllowed(String),
    /// 409.
    #[error("{0}")]
    Conflict(String),
    /// 408: the body did not arrive within the limit, in seconds.
    #[error("The request body did not arrive within {0} seconds.")]
    TimedOut(u64),
    /// 415: a body of a type the API does not read.
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMedia(String),
    /// 413.
    #[error("Request body is too large (the limit is {0} bytes).")]
    TooLarge(usize),
    /// 429, a short throttle.
    #[error("Request was throttled. Expected available in {}.0 seconds.", .0.as_secs().max(1))]
    Throttled(Duration),
    /// 429: too many failed credentials from one address; try again after the wait.
    #[error("Too many failed sign-ins from this address; try again in {} seconds.", .0.as_secs().max(1))]
    TooManyFailures(Duration),
    /// 429, the daily quota.
    #[error(
        "Hi there, you've reached the threshold of {0} combined image exports and chart saves per 24h period. If you need to raise your daily limit, please consider upgrading to a paid plan"
    )]
    Quota(u64),
    /// 503: a part of the server cannot serve this now (images without a browser, or every
    /// renderer busy); `retry_after` seconds, when waiting helps.
    #[error("{message}")]
    Unavailable { message: String, retry_after: Option<u64> },
    /// 5xx injected on purpose.
    #[error("{1}")]
    Injected(StatusCode, &'static str),
}

impl Failure {
    pub(crate) fn bad(message: impl Into<String>) -> Self {
        Self::BadRequest { message: message.into(), field: None }
    }

    pub(crate) fn bad_field(field: &str, message: impl Into<String>) -> Self {
        Self::BadRequest { message: message.into(), field: Some(field.to_owned()) }
    }

    /// The conflict of a filename taken in the same folder.
    pub(crate) fn exists(name: &str) -> Self {
        Self::Conflict(format!("Sorry, a file named '{name}' already exists"))
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::CrossSite => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Throttled(_) | Self::TooManyFailures(_) | Self::Quota(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Injected(status, _) => *status,
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = ErrorBody::message(self.to_string());
        if let (Self::BadRequest { field: Some(field), .. }, Some(item)) =
            (&self, body.errors.first_mut())
        {
            item.field = Some(field.clone());
        }
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            Self::Unavailable { retry_after: Some(wait), .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*wait));
            }
            Self::Throttled(wait) | Self::TooManyFailures(wait) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
            }
            Self::Quota(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(86_400u32));
            }
            // The rest of the body may still come: the connection is not reused.
            Self::TimedOut(_) => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            // A challenge a browser does not know: it never shows its sign-in prompt, so it
            // never keeps credentials that another site could make it send.
            Self::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Plotly-Basic realm=\"api\""),
                );
            }
            _ => {}
        }
        response
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(err: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match err {
            StoreError::NotFound => Self::NotFound,
            StoreError::Exists(name) => Self::exists(&name),
            StoreError::Conflict(message) => Self::Conflict(message),
            StoreError::Invalid { field, message } => Self::bad_field(field, message),
            StoreError::Storage(reason) => {
                tracing::error!(%reason, "the storage failed");
                Self::Injected(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The file could not be read from storage; try again.",
                )
            }
        }
    }
}
