//! Who is asking: HTTP Basic in `plotly-authorization` (preferred) or `authorization`.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use base64::Engine;
use http::request::Parts;
use subtle::ConstantTimeEq;
use tokio::time::Instant;

use crate::failure::Failure;
use crate::state::Shared;

/// The requester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Viewer {
    /// No credentials: may read public files only.
    Anonymous,
    /// A signed-in user.
    User(String),
}

impl Viewer {
    /// The username, or 401 when anonymous.
    pub(crate) fn require(&self) -> Result<&str, Failure> {
        match self {
            Self::User(name) => Ok(name),
            Self::Anonymous => Err(Failure::Unauthorized(
                "Authentication credentials were not provided.".to_owned(),
            )),
        }
    }

    /// Whether this is `username`.
    pub(crate) fn is(&self, username: &str) -> bool {
        matches!(self, Self::User(name) if name == username)
    }
}

/// The `username:key` pair of a Basic header, if the request carries one (not yet checked).
pub(crate) fn basic_credentials(
    parts: &http::HeaderMap,
) -> Option<Result<(String, String), Failure>> {
    let header =
        parts.get("plotly-authorization").or_else(|| parts.get(http::header::AUTHORIZATION))?;
    Some(decode(header))
}

fn decode(header: &http::HeaderValue) -> Result<(String, String), Failure> {
    let invalid = || {
        Failure::Unauthorized(
            "Invalid basic header. Credentials not correctly base64 encoded.".to_owned(),
        )
    };
    let text = header.to_str().map_err(|_| invalid())?;
    let Some(encoded) = text.strip_prefix("Basic ").or_else(|| text.strip_prefix("basic ")) else {
        return Err(Failure::Unauthorized(
            "Unsupported authorization scheme; use HTTP Basic with username:api_key.".to_owned(),
        ));
    };
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| invalid())?;
    let pair = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (user, key) = pair.split_once(':').ok_or_else(invalid)?;
    Ok((user.to_owned(), key.to_owned()))
}

/// Who is asking: the account whose key the request carries, or anonymous when it carries none;
/// a credential that does not check out is an error (401). `peer` is the client's address,
/// whose failed tries are counted.
pub(crate) fn identify(
    app: &Shared,
    headers: &http::HeaderMap,
    peer: Option<IpAddr>,
) -> Result<Viewer, Failure> {
    let Some(credentials) = basic_credentials(headers) else {
        return Ok(Viewer::Anonymous);
    };
    let refused = |failure: Failure| {
        if let Some(ip) = peer {
            app.failed_keys.failed(ip, Instant::now());
        }
        failure
    };
    let (username, key) = credentials.map_err(refused)?;
    check_key(app, peer, &username, &key).map(|()| Viewer::User(username))
}

/// Checks a username and API key, for the API and the sign-in form alike. An address that
/// used up its failed tries is refused without a check until it may try again; an unknown
/// user and a wrong key get the same answer, so a reply never tells which accounts exist.
pub(crate) fn check_key(
    app: &Shared,
    peer: Option<IpAddr>,
    username: &str,
    key: &str,
) -> Result<(), Failure> {
    let now = Instant::now();
    if let Some(wait) = peer.and_then(|ip| app.failed_keys.wait(ip, now)) {
        return Err(Failure::TooManyFailures(wait));
    }
    let given = crate::store::key_hash(key);
    let matches = app
        .store()
        .account(username)
        .is_some_and(|account| bool::from(account.key_hash.as_bytes().ct_eq(given.as_bytes())));
    if matches {
        return Ok(());
    }
    if let Some(ip) = peer {
        app.failed_keys.failed(ip, now);
    }
    Err(Failure::Unauthorized("Bad API key".to_owned()))
}

impl FromRequestParts<Shared> for Viewer {
    type Rejection = Failure;

    /// The viewer the request layer identified, else (credentials that did not check out, or
    /// an address that must wait) the error that gave.
    async fn from_request_parts(parts: &mut Parts, _: &Shared) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Identified>().map_or(Ok(Self::Anonymous), |found| found.0.clone())
    }
}

/// The client's address, when the connection gave one (not in tests that call the service
/// directly).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub Option<IpAddr>);

impl<S: Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(peer(&parts.extensions)))
    }
}

/// The client's address in a request's extensions.
pub(crate) fn peer(extensions: &http::Extensions) -> Option<IpAddr> {
    extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip())
}

/// What the request layer found out about who is asking, for the routes' [`Viewer`].
#[derive(Debug, Clone)]
pub(crate) struct Identified(pub Result<Viewer, Failure>);
