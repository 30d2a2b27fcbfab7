//! Exit codes, in one place: 0 success, 1 failure, 2 usage, 3 partial bulk failure,
//! 4 authentication, 5 daily quota.

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

/// Some operations of a bulk run failed (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("{failed} operation(s) failed; fix the cause and run `chart-studio bulk resume {}` to retry them", journal.display())]
pub(crate) struct PartialFailure {
    /// How many failed.
    pub failed: u64,
    /// The run's journal.
    pub journal: std::path::PathBuf,
}

/// A bulk run stopped at the daily quota (exit code 5).
#[derive(Debug, thiserror::Error)]
#[error("stopped at the daily quota; run `chart-studio bulk resume {}` when the quota resets", .0.display())]
pub(crate) struct QuotaStopped(pub std::path::PathBuf);

/// Success.
pub(crate) const OK: u8 = 0;
/// Any failure not listed below.
pub(crate) const FAILURE: u8 = 1;
/// Wrong usage: bad arguments, or a confirmation that could not be asked.
pub(crate) const USAGE: u8 = 2;
/// Some items of a bulk run failed.
pub(crate) const PARTIAL: u8 = 3;
/// Authentication needed or refused (401 / 403).
pub(crate) const AUTH: u8 = 4;
/// The daily quota is used up (a bulk run stopped, or a single request was refused).
pub(crate) const QUOTA: u8 = 5;

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
        if cause.is::<PartialFailure>() {
            return PARTIAL;
        }
        if cause.is::<QuotaStopped>() {
            return QUOTA;
        }
        let api = cause
            .downcast_ref::<chart_studio_api::Error>()
            .and_then(chart_studio_api::Error::as_api)
            .or_else(|| cause.downcast_ref::<chart_studio_api::ApiError>());
        if api.is_some_and(chart_studio_api::ApiError::is_auth) {
            return AUTH;
        }
        if api.is_some_and(chart_studio_api::ApiError::is_quota) {
            return QUOTA;
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
