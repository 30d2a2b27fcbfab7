//! Credentials: a username and an API key that never prints.

use std::fmt;

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

/// An API key. `Debug` and `Display` print `***`; only [`ApiKey::expose`] gives the text.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(SecretString::from(key.into()))
    }

    /// The key itself, for building an authorization header or writing a credentials file.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl PartialEq for ApiKey {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

/// A username with its API key (or a proxy user with its password).
#[derive(Debug, Clone, PartialEq)]
pub struct Credentials {
    /// The username.
    pub username: String,
    /// The key or password.
    pub api_key: ApiKey,
}

impl Credentials {
    /// Credentials from a username and a key.
    pub fn new(username: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self { username: username.into(), api_key: ApiKey::new(api_key) }
    }

    /// The HTTP Basic header value, `Basic base64(username:api_key)`.
    pub fn basic_header(&self) -> String {
        let pair = format!("{}:{}", self.username, self.api_key.expose());
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_matches_the_python_client() {
        assert_eq!(Credentials::new("foo", "bar").basic_header(), "Basic Zm9vOmJhcg==");
    }

    #[test]
    fn the_key_never_prints() {
        let creds = Credentials::new("alice", "s3cr3t-key-value");
        for text in [format!("{creds:?}"), format!("{:#?}", creds), creds.api_key.to_string()] {
            assert!(!text.contains("s3cr3t"), "{text}");
        }
        assert!(format!("{creds:?}").contains("***"));
    }
}
