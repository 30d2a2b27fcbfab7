//! The sans-io core of the Chart Studio REST API v2 client.
//!
//! Every endpoint is a plain request value implementing [`Endpoint`]: it knows its method, path,
//! query and body, and how to parse a successful response. [`build_request`] turns one into an
//! [`http::Request`] with the right headers and authentication; [`parse_response`] checks the
//! status once and turns an error status into an [`ApiError`] that keeps the raw body.
//! A [`Client`] sends endpoints through any [`Transport`] and follows pagination links.
//!
//! This crate does no I/O: no sockets, no runtime, no clock, no environment, no files.
//!
//! ```
//! use chart_studio_api::{Config, Credentials, Error, RequestLine, build_request, files, parse_response};
//!
//! let config = Config::new("https://api.example.com", Some(Credentials::new("alice", "k3y")), false)?;
//! let endpoint = files::Retrieve::new("alice:12".parse()?);
//! let request = build_request(&endpoint, &config)?;
//! assert_eq!(request.uri(), "https://api.example.com/v2/files/alice:12");
//! assert!(request.headers()["authorization"].is_sensitive(), "never logged");
//!
//! // Any transport sends it; the answer is checked once.
//! let answer = http::Response::builder()
//!     .status(404)
//!     .body(bytes::Bytes::from_static(br#"{"errors": [{"message": "Not found."}]}"#))?;
//! match parse_response(&endpoint, RequestLine::of(&request), &answer) {
//!     Err(Error::Api(err)) => assert_eq!((err.status.as_u16(), err.message()), (404, "Not found.".to_owned())),
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `test-util`: the `test_util` module, a replay transport that answers recorded exchanges in order and
//!   checks every request, and the fixture checker `cargo xtask fixtures` uses.

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
pub mod dashboards;
pub mod documents;
pub mod files;
pub mod folders;
pub mod grids;
pub mod images;
pub mod plots;
pub mod presentations;
pub mod raw;
pub mod search;
pub mod users;
pub mod web;

#[cfg(feature = "test-util")]
pub mod test_util;

pub use client::Client;
pub use common::{Collection, Dashboards, Files, Folders, Grids, Plots, Presentations};
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
