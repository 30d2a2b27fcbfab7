//! Who is asking: HTTP Basic in `plotly-authorization` (preferred) or `authorization`.

use axum::extract::FromRequestParts;
use base64::Engine;
use http::request::Parts;
use subtle::ConstantTimeEq;

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
/// a credential that does not check out is an error (401).
pub(crate) fn identify(app: &Shared, headers: &http::HeaderMap) -> Result<Viewer, Failure> {
    let Some(credentials) = basic_credentials(headers) else {
        return Ok(Viewer::Anonymous);
    };
    let (username, key) = credentials?;
    let store = app.store();
    let Some(account) = store.account(&username) else {
        return Err(Failure::Unauthorized(format!("We don't have an account for '{username}'.")));
    };
    if bool::from(account.key_hash.as_bytes().ct_eq(crate::store::key_hash(&key).as_bytes())) {
        Ok(Viewer::User(username))
    } else {
        Err(Failure::Unauthorized("Bad API key".to_owned()))
    }
}

impl FromRequestParts<Shared> for Viewer {
    type Rejection = Failure;

    /// The viewer the request layer identified, else (credentials that did not check out)
    /// the error they give.
    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Self>() {
            Some(viewer) => Ok(viewer.clone()),
            None => identify(app, &parts.headers),
        }
    }
}
