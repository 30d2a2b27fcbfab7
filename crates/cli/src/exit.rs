//! Exit codes, in one place: 0 success, 1 failure, 2 usage, 3 partial bulk failure,
//! 4 authentication, 5 daily quota, 130 interrupted.

use std::process::ExitCode;

/// The command was used wrongly (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub String);

/// `--json=` with no fields, or with a field the command's JSON does not have: a usage error
/// printed as text that lists the fields, one per line (as gh does), even under `--json`.
#[derive(Debug)]
pub(crate) struct FieldList {
    /// What was wrong.
    pub problem: String,
    /// The fields there are.
    pub fields: &'static [&'static str],
}

impl std::fmt::Display for FieldList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.fields.is_empty() {
            return write!(
                f,
                "{}; this command's JSON has no fixed fields: use --jq to pick from it",
                self.problem
            );
        }
        write!(f, "{}; the fields are (--json=FIELD,...):", self.problem)?;
        for field in self.fields {
            write!(f, "\n  {field}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldList {}

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

/// A bulk run stopped before its end: at the daily quota (exit code 5), on Ctrl-C (130), or
/// because its journal could not be written (1).
#[derive(Debug)]
pub(crate) struct RunStopped {
    /// Why.
    pub why: chart_studio_bulk::Stop,
    /// The run's journal.
    pub journal: std::path::PathBuf,
}

impl std::fmt::Display for RunStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let resume = format!("chart-studio bulk resume {}", self.journal.display());
        match &self.why {
            chart_studio_bulk::Stop::Quota => {
                write!(f, "stopped at the daily quota; run `{resume}` when the quota resets")
            }
            chart_studio_bulk::Stop::Interrupted => write!(
                f,
                "interrupted; the requests in flight finished and were journaled; run `{resume}` to go on"
            ),
            chart_studio_bulk::Stop::Journal(why) => {
                write!(f, "stopped: {why}; fix that, then run `{resume}`")
            }
            _ => write!(f, "stopped; run `{resume}` to go on"),
        }
    }
}

impl std::error::Error for RunStopped {}

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
/// Interrupted by Ctrl-C (128 + SIGINT, as shells report it).
pub(crate) const INTERRUPTED: u8 = 130;

/// What an error means for a script: the exit code, a stable kind and the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The exit code.
    pub code: u8,
    /// `usage`, `auth`, `forbidden`, `not_found`, `quota`, `partial`, `interrupted`, `api`,
    /// `network` or `failure`.
    pub kind: &'static str,
    /// The server's HTTP status, when the server answered with an error.
    pub status: Option<u16>,
}

impl Verdict {
    const fn new(code: u8, kind: &'static str) -> Self {
        Self { code, kind, status: None }
    }
}

/// The verdict on an error, found by walking its chain.
pub(crate) fn classify(err: &anyhow::Error) -> Verdict {
    for cause in err.chain() {
        let io_kind =
            cause.downcast_ref::<std::io::Error>().map(std::io::Error::kind).or_else(|| {
                cause.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind)
            });
        if io_kind == Some(std::io::ErrorKind::BrokenPipe) {
            return Verdict::new(OK, "ok");
        }
        if cause.is::<UsageError>()
            || cause.is::<FieldList>()
            || matches!(
                cause.downcast_ref::<chart_studio_workflows::settings::Error>(),
                Some(chart_studio_workflows::settings::Error::Usage(_))
            )
            || matches!(
                cause.downcast_ref::<chart_studio_workflows::Error>(),
                Some(chart_studio_workflows::Error::Figure(_))
            )
        {
            return Verdict::new(USAGE, "usage");
        }
        if cause.is::<NoCredentials>() {
            return Verdict::new(AUTH, "auth");
        }
        if cause.is::<PartialFailure>() {
            return Verdict::new(PARTIAL, "partial");
        }
        if let Some(stopped) = cause.downcast_ref::<RunStopped>() {
            return match stopped.why {
                chart_studio_bulk::Stop::Quota => Verdict::new(QUOTA, "quota"),
                chart_studio_bulk::Stop::Interrupted => Verdict::new(INTERRUPTED, "interrupted"),
                _ => Verdict::new(FAILURE, "failure"),
            };
        }
        let workflow = cause.downcast_ref::<chart_studio_workflows::Error>();
        if matches!(
            workflow,
            Some(chart_studio_workflows::Error::Run(chart_studio_bulk::Failure::Quota(_)))
        ) {
            return Verdict::new(QUOTA, "quota");
        }
        let api = cause
            .downcast_ref::<chart_studio_api::Error>()
            .and_then(chart_studio_api::Error::as_api)
            .or_else(|| cause.downcast_ref::<chart_studio_api::ApiError>())
            .or_else(|| workflow.and_then(chart_studio_workflows::Error::as_api));
        if let Some(api) = api {
            let (code, kind) = if api.status == http::StatusCode::FORBIDDEN {
                (AUTH, "forbidden")
            } else if api.is_auth() {
                (AUTH, "auth")
            } else if api.is_quota() {
                (QUOTA, "quota")
            } else if api.status == http::StatusCode::NOT_FOUND {
                (FAILURE, "not_found")
            } else {
                (FAILURE, "api")
            };
            return Verdict { code, kind, status: Some(api.status.as_u16()) };
        }
        if cause
            .downcast_ref::<chart_studio_api::Error>()
            .is_some_and(|e| matches!(e, chart_studio_api::Error::Transport(_)))
        {
            return Verdict::new(FAILURE, "network");
        }
    }
    Verdict::new(FAILURE, "failure")
}

/// An error in words: each step of its chain, a server's answer named by what was being done
/// (`could not read demo:99: Not found. (404)`), not by the request that carried it.
pub(crate) fn message(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let api = cause.downcast_ref::<chart_studio_api::Error>().or_else(|| {
            // A workflow's cause comes boxed (`Error::Context`).
            let workflow = cause.downcast_ref::<chart_studio_workflows::Error>().or_else(|| {
                cause.downcast_ref::<Box<chart_studio_workflows::Error>>().map(AsRef::as_ref)
            });
            match workflow {
                Some(chart_studio_workflows::Error::Request(err)) => Some(err),
                _ => None,
            }
        });
        let part = match api {
            Some(chart_studio_api::Error::Api(answer)) => answered(answer),
            Some(chart_studio_api::Error::Transport(failure)) => {
                let what = match failure.kind() {
                    chart_studio_api::TransportErrorKind::Connect => {
                        "the server could not be reached"
                    }
                    chart_studio_api::TransportErrorKind::Timeout => {
                        "the server did not answer in time"
                    }
                    chart_studio_api::TransportErrorKind::Certificate => {
                        "the server's certificate is not trusted"
                    }
                    chart_studio_api::TransportErrorKind::Interrupted => {
                        "the connection broke before the answer was complete"
                    }
                    _ => "the request failed",
                };
                match failure.request() {
                    Some(request) => format!("{}: {what} ({})", action(request), request.url),
                    None => what.to_owned(),
                }
            }
            _ => match cause.downcast_ref::<chart_studio_api::ApiError>() {
                Some(answer) => answered(answer),
                None => cause.to_string(),
            },
        };
        // A wrapper that says what its cause says adds nothing.
        if parts.last().is_none_or(|last| !last.ends_with(&part)) {
            parts.push(part);
        }
        // A server's answer says it all; a failed connection's cause follows.
        if matches!(api, Some(chart_studio_api::Error::Api(_)))
            || cause.is::<chart_studio_api::ApiError>()
        {
            break;
        }
    }
    parts.join(": ")
}

/// What the server answered to what was being done, in brief.
fn answered(answer: &chart_studio_api::ApiError) -> String {
    let said = answer.message();
    let said = said.lines().next().unwrap_or_default().trim();
    format!("{}: {said} ({})", action(&answer.request), answer.status.as_u16())
}

/// What a request was for, in words.
fn action(request: &chart_studio_api::RequestLine) -> String {
    let path = url::Url::parse(&request.url).map(|url| url.path().to_owned()).unwrap_or_default();
    let parts: Vec<&str> =
        path.trim_start_matches("/v2").split('/').filter(|p| !p.is_empty()).collect();
    let method = request.method.as_str();
    let file = parts.get(1).copied().unwrap_or_default();
    match (method, parts.as_slice()) {
        ("GET", ["users", "current"]) => "could not check the credentials".to_owned(),
        ("GET", ["plots"] | ["plots", "feed"]) => "could not list the public plots".to_owned(),
        ("GET", ["folders", "all" | "home" | "trashed"]) => "could not list the files".to_owned(),
        ("GET", ["search"]) => "could not search".to_owned(),
        ("GET", [_, "lookup"]) => "could not look up that path".to_owned(),
        ("GET", [_, _, "content"]) => format!("could not read the content of {file}"),
        ("GET", [_, _, "col"]) => format!("could not read the columns of {file}"),
        ("GET", [_, _]) => format!("could not read {file}"),
        ("POST", ["images"]) => "could not draw the image".to_owned(),
        ("POST", ["plots"]) => "could not create the plot".to_owned(),
        ("POST", ["grids"]) => "could not create the grid".to_owned(),
        ("POST", ["folders"]) => "could not create the folder".to_owned(),
        ("POST", [_, _, "trash"]) => format!("could not move {file} to the trash"),
        ("POST", [_, _, "restore"]) => format!("could not restore {file}"),
        ("POST", [_, _, "copy"]) => format!("could not copy {file}"),
        ("POST", [_, _, "row"]) => format!("could not add rows to {file}"),
        ("DELETE", [_, _, "permanent_delete"]) => format!("could not delete {file} for good"),
        ("PATCH" | "PUT", [_, _]) => format!("could not change {file}"),
        (_, [_, _, "col"]) => format!("could not change the columns of {file}"),
        _ => format!("{method} {path} failed"),
    }
}

/// The error document printed on stderr under `--json`.
pub(crate) fn json_error(message: &str, status: Option<u16>, kind: &str) -> String {
    serde_json::json!({"error": {"message": message, "status": status, "kind": kind}}).to_string()
}

/// What to suggest after an error, if anything.
pub(crate) fn hint(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|cause| {
        let api = cause.downcast_ref::<chart_studio_api::Error>()?;
        match api {
            chart_studio_api::Error::Api(api) if api.status == http::StatusCode::FORBIDDEN => Some(
                "your credentials were accepted, but this file is another account's; only its owner may do that",
            ),
            chart_studio_api::Error::Api(api) if api.is_auth() => {
                Some("check the username and API key with `chart-studio auth status`")
            }
            chart_studio_api::Error::Api(api) if api.is_quota() => {
                Some("the account's daily quota is used up; retrying now will not help")
            }
            chart_studio_api::Error::Transport(transport) if transport.is_certificate() => Some(
                "trust the server's certificate with --ca-bundle PATH (chart-studio-server prints the path of a certificate it made), or `chart-studio config set ca_bundle PATH`",
            ),
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
