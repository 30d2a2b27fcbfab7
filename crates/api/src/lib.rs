//! The sans-io core of the Chart Studio REST API v2 client.
//!
//! Every endpoint is a plain request value implementing [`Endpoint`]: it knows its method, path,
//! query and body, and how to parse a successful response. [`build_request`] turns one into an
//! [`http::Request`] with the right headers and authentication; [`parse_response`] checks the
//! status once and turns an error status into an [`ApiError`] that keeps the raw body.
//! A [`Client`] sends endpoints through any [`Transport`] and follows pagination links.
//!
//! This crate does no I/O: no sockets, no runtime, no clock, no environment, no files.

mod client;
mod config;
mod credentials;
mod endpoint;
mod error;
mod paginate;
mod query;
mod retry;
mod transport;

pub mod common;
pub mod files;
pub mod folders;
pub mod grids;
pub mod plots;
pub mod raw;
pub mod search;
pub mod users;

#[cfg(feature = "test-util")]
pub mod test_util;

pub use client::Client;
pub use common::{Collection, Files, Folders, Grids, Plots};
pub use config::{AuthPlacement, Config, ConfigError, is_loopback_host};
pub use credentials::{ApiKey, Credentials};
pub use endpoint::{Endpoint, build_request, parse_response};
pub use error::{
    ApiError, BuildError, Error, RequestLine, ResponseDecodeError, TransportError,
    TransportErrorKind, redact_url,
};
pub use paginate::{Page, PageLink, Paged, Paginated, page_stream};
pub use retry::{RetryPolicy, Sleeper, Verdict};
pub use transport::{BoxFuture, SharedTransport, Transport};

/// The value of the `plotly-client-platform` header this crate sends.
pub const CLIENT_PLATFORM: &str = concat!("rust ", env!("CARGO_PKG_VERSION"));
