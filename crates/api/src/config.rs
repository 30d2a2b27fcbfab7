//! Where requests go and how they authenticate.

use std::net::IpAddr;

use url::Url;

use crate::Credentials;

/// Which header carries the Chart Studio credentials.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AuthPlacement {
    /// `authorization: Basic ...` (the default).
    #[default]
    Authorization,
    /// `plotly-authorization: Basic ...`, for proxies that take `authorization` for themselves;
    /// the proxy's own credentials, when given, then go in `authorization`.
    PlotlyAuthorization {
        /// The proxy's user and password.
        proxy: Option<Credentials>,
    },
}

/// The settings every request is built with.
#[derive(Debug, Clone)]
pub struct Config {
    api_base: Url,
    /// The account to act as; `None` sends anonymous requests.
    pub credentials: Option<Credentials>,
    /// Which header carries the credentials.
    pub placement: AuthPlacement,
}

/// A configuration that would be unsafe or cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The API address is not a URL.
    #[error("the API domain {0:?} is not a valid URL: {1}")]
    BadUrl(String, String),
    /// The API address is not http or https.
    #[error("the API domain {0:?} must start with https:// (or http:// for a local server)")]
    BadScheme(String),
    /// Credentials would travel in clear text to another machine.
    #[error(
        "refusing to send credentials over plain http to {0}; use https, or allow it explicitly (--allow-insecure-http)"
    )]
    InsecureHttp(String),
}

/// Whether `host` names this machine (`localhost`, 127.0.0.0/8 or `::1`).
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Config {
    /// A configuration for the API at `api_base` (such as `https://api.plotly.com`).
    ///
    /// Credentials over plain http are refused unless the host is this machine or
    /// `allow_insecure_http` is set.
    ///
    /// ```
    /// use chart_studio_api::{Config, Credentials};
    ///
    /// let alice = || Some(Credentials::new("alice", "k3y"));
    /// assert!(Config::new("https://plotly.example.com", alice(), false).is_ok());
    /// assert!(Config::new("http://127.0.0.1:9200", alice(), false).is_ok(), "this machine");
    /// let refused = Config::new("http://plotly.example.com", alice(), false).unwrap_err();
    /// assert!(!refused.to_string().contains("k3y"), "{refused}");
    /// assert!(Config::new("http://plotly.example.com", alice(), true).is_ok(), "when asked");
    /// ```
    pub fn new(
        api_base: &str,
        credentials: Option<Credentials>,
        allow_insecure_http: bool,
    ) -> Result<Self, ConfigError> {
        let mut url = Url::parse(api_base)
            .map_err(|err| ConfigError::BadUrl(api_base.to_owned(), err.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError::BadScheme(api_base.to_owned()));
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        if url.scheme() == "http"
            && credentials.is_some()
            && !allow_insecure_http
            && !is_loopback_host(&host)
        {
            return Err(ConfigError::InsecureHttp(host));
        }
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&path);
        url.set_query(None);
        url.set_fragment(None);
        Ok(Self { api_base: url, credentials, placement: AuthPlacement::Authorization })
    }

    /// Moves the credentials to `plotly-authorization`, with optional proxy credentials.
    pub fn with_proxy_authorization(mut self, proxy: Option<Credentials>) -> Self {
        self.placement = AuthPlacement::PlotlyAuthorization { proxy };
        self
    }

    /// The API base address, without a trailing slash.
    pub fn api_base(&self) -> &Url {
        &self.api_base
    }

    /// The base address's path prefix (`""` for a server at the root).
    pub fn base_path(&self) -> &str {
        self.api_base.path().trim_end_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.9.9.9", "[::1]", "::1"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["example.com", "10.0.0.1", "localhost.example.com"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn refuses_credentials_over_plain_http_to_other_hosts() {
        let creds = || Some(Credentials::new("a", "b"));
        let err = Config::new("http://plotly.example.com", creds(), false).unwrap_err();
        assert_eq!(err, ConfigError::InsecureHttp("plotly.example.com".to_owned()));
        assert!(Config::new("http://plotly.example.com", creds(), true).is_ok());
        assert!(Config::new("http://plotly.example.com", None, false).is_ok());
        assert!(Config::new("http://127.0.0.1:9200", creds(), false).is_ok());
        assert!(Config::new("https://plotly.example.com", creds(), false).is_ok());
    }

    #[test]
    fn rejects_bad_addresses() {
        assert!(matches!(Config::new("api.plotly.com", None, false), Err(ConfigError::BadUrl(..))));
        assert!(matches!(Config::new("ftp://x", None, false), Err(ConfigError::BadScheme(_))));
    }

    #[test]
    fn proxy_credentials_go_out_without_user_credentials() {
        let proxy = Some(Credentials::new("proxyuser", "proxypass"));
        let anonymous = Config::new("https://api.example.com", None, false)
            .unwrap()
            .with_proxy_authorization(proxy.clone());
        let request =
            crate::build_request(&crate::raw::Raw::new("GET", "plots"), &anonymous).unwrap();
        let proxy_header = proxy.as_ref().unwrap().basic_header();
        assert_eq!(request.headers()[http::header::AUTHORIZATION], proxy_header.as_str());
        assert!(request.headers().get("plotly-authorization").is_none());

        let signed_in =
            Config::new("https://api.example.com", Some(Credentials::new("a", "b")), false)
                .unwrap()
                .with_proxy_authorization(proxy);
        let request =
            crate::build_request(&crate::raw::Raw::new("GET", "plots"), &signed_in).unwrap();
        assert_eq!(request.headers()[http::header::AUTHORIZATION], proxy_header.as_str());
        assert_eq!(request.headers()["plotly-authorization"], "Basic YTpi");
    }

    #[test]
    fn keeps_a_path_prefix() {
        let config = Config::new("https://corp.example/plotly/api/", None, false).unwrap();
        assert_eq!(config.base_path(), "/plotly/api");
    }
}
