//! Exit codes, in one place: 0 success, 1 failure, 2 usage, 4 authentication.

use std::process::ExitCode;

/// The command was used wrongly (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub String);

/// Credentials are missing or were refused (exit code 4).
#[derive(Debug, thiserror::Error)]
#[error(
    "no credentials: set PLOTLY_USERNAME and PLOTLY_API_KEY, or run `chart-studio auth login --username NAME` and paste the key"
)]
pub(crate) struct NoCredentials;

/// Success.
pub(crate) const OK: u8 = 0;
/// Any failure not listed below.
pub(crate) const FAILURE: u8 = 1;
/// Wrong usage: bad arguments, or a confirmation that could not be asked.
pub(crate) const USAGE: u8 = 2;
/// Authentication needed or refused (401 / 403).
pub(crate) const AUTH: u8 = 4;

/// The exit code for an error, found by walking its chain.
pub(crate) fn code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        let io_kind =
            cause.downcast_ref::<std::io::Error>().map(std::io::Error::kind).or_else(|| {
                cause.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind)
            });
        if io_kind == Some(std::io::ErrorKind::BrokenPipe) {
            return OK;
        }
        if cause.is::<UsageError>() {
            return USAGE;
        }
        if cause.is::<NoCredentials>() {
            return AUTH;
        }
        let api = cause
            .downcast_ref::<chart_studio_api::Error>()
            .and_then(chart_studio_api::Error::as_api)
            .or_else(|| cause.downcast_ref::<chart_studio_api::ApiError>());
        if api.is_some_and(chart_studio_api::ApiError::is_auth) {
            return AUTH;
        }
    }
    FAILURE
}

/// What to suggest after an error, if anything.
pub(crate) fn hint(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|cause| {
        let api = cause.downcast_ref::<chart_studio_api::Error>()?;
        match api {
            chart_studio_api::Error::Api(api) if api.is_auth() => {
                Some("check the username and API key with `chart-studio auth status`")
            }
            chart_studio_api::Error::Api(api) if api.is_quota() => {
                Some("the account's daily quota is used up; retrying now will not help")
            }
            chart_studio_api::Error::Transport(transport) if transport.is_connect() => {
                Some("is the server running, and is api_domain right? (`chart-studio auth status`)")
            }
            _ => None,
        }
    })
}

/// Converts a code into the process exit code.
pub(crate) fn exit(code: u8) -> ExitCode {
    ExitCode::from(code)
}
