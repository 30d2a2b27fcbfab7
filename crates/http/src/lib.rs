//! The reqwest transport for [`chart_studio_api`]: rustls (no OpenSSL), timeouts,
//! `HTTP(S)_PROXY` / `NO_PROXY` or an explicit proxy, a custom CA bundle, and redirects that
//! never leave the original host (so credentials never follow a redirect elsewhere).
//!
//! This is the only crate of the workspace that speaks reqwest; it knows no endpoints.
//!
//! ```
//! use std::time::Duration;
//! use chart_studio_api::{Client, Config};
//! use chart_studio_http::{HttpSettings, HttpTransport};
//!
//! let mut settings = HttpSettings::default();
//! settings.timeout = Duration::from_secs(30);
//! settings.proxy = Some("http://proxy-user:secret@proxy.example.com:3128".into());
//! assert!(!format!("{settings:?}").contains("secret"), "Debug hides the proxy's password");
//! let transport = HttpTransport::new(&settings)?;
//! let client = Client::new(transport, Config::new("https://api.example.com", None, false)?);
//! # let _ = client;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use chart_studio_api::{BoxFuture, Transport, TransportError, TransportErrorKind};

/// How the HTTP client connects. `Debug` hides a password in the proxy address.
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpSettings {
    /// Limit for a whole request, connect to last byte.
    pub timeout: Duration,
    /// Limit for opening a connection.
    pub connect_timeout: Duration,
    /// A proxy for every request (`http://user:pass@host:port`); `None` uses `HTTP(S)_PROXY` / `NO_PROXY`.
    pub proxy: Option<String>,
    /// A PEM file of extra certificate authorities to trust (on-prem servers).
    pub ca_bundle: Option<PathBuf>,
    /// Check TLS certificates. Turning this off is dangerous and logs a warning on every start.
    pub verify_tls: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            proxy: None,
            ca_bundle: None,
            verify_tls: true,
        }
    }
}

impl std::fmt::Debug for HttpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let proxy = self.proxy.as_deref().map(chart_studio_api::redact_url);
        f.debug_struct("HttpSettings")
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("proxy", &proxy)
            .field("ca_bundle", &self.ca_bundle)
            .field("verify_tls", &self.verify_tls)
            .finish()
    }
}

/// A transport setting that could not be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The CA bundle could not be read.
    #[error("could not read the CA bundle {path}: {source}")]
    CaBundleRead {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The CA bundle is not PEM certificates.
    #[error("the CA bundle {path} holds no valid PEM certificate: {source}")]
    CaBundleParse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: reqwest::Error,
    },
    /// The proxy address is not valid.
    #[error("invalid proxy address: {0}")]
    Proxy(reqwest::Error),
    /// The client could not be built.
    #[error("could not set up the HTTP client: {0}")]
    Client(reqwest::Error),
}

/// Sends requests with reqwest.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    /// A transport with `settings`.
    pub fn new(settings: &HttpSettings) -> Result<Self, SetupError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .redirect(same_host_redirects());
        if let Some(proxy) = &settings.proxy {
            builder = builder.proxy(reqwest::Proxy::all(proxy).map_err(SetupError::Proxy)?);
        }
        if let Some(path) = &settings.ca_bundle {
            let pem = std::fs::read(path)
                .map_err(|source| SetupError::CaBundleRead { path: path.clone(), source })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|source| SetupError::CaBundleParse { path: path.clone(), source })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if !settings.verify_tls {
            tracing::warn!(
                "TLS certificate verification is OFF: anyone on the network path can read and change \
                 this traffic, API key included. Prefer a CA bundle (ca_bundle) for self-signed servers."
            );
            builder = builder.danger_accept_invalid_certs(true);
        }
        Ok(Self { client: builder.build().map_err(SetupError::Client)? })
    }
}

/// Follows up to 5 redirects, and only those that stay on the same scheme, host and port.
fn same_host_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt.previous().first().is_some_and(|first| {
            first.scheme() == attempt.url().scheme()
                && first.host_str() == attempt.url().host_str()
                && first.port_or_known_default() == attempt.url().port_or_known_default()
        });
        if attempt.previous().len() >= 5 || !same_origin {
            tracing::warn!(to = %attempt.url(), "not following a redirect to another address; check the configured API domain");
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

fn classify(err: reqwest::Error) -> TransportError {
    let kind = if refused_certificate(&err) {
        TransportErrorKind::Certificate
    } else if err.is_timeout() {
        TransportErrorKind::Timeout
    } else if err.is_connect() {
        TransportErrorKind::Connect
    } else if err.is_body() || err.is_decode() || err.is_request() {
        TransportErrorKind::Interrupted
    } else {
        TransportErrorKind::Other
    };
    TransportError::new(kind, root_cause(&err))
}

/// Whether TLS refused the server's certificate: a `rustls` certificate error somewhere in the
/// causes (hyper hands it over inside an `io::Error`, whose `source` skips it, so its text is
/// read as well).
fn refused_certificate(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(current) = cause {
        let inner = current.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref);
        let rustls = current
            .downcast_ref::<rustls::Error>()
            .or_else(|| inner.and_then(|inner| inner.downcast_ref::<rustls::Error>()));
        if matches!(rustls, Some(rustls::Error::InvalidCertificate(_)))
            || current.to_string().starts_with("invalid peer certificate")
        {
            return true;
        }
        cause = current.source();
    }
    false
}

/// The innermost cause's text: reqwest and hyper wrap the same failure several times.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

impl Transport for HttpTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        Box::pin(async move {
            // One line per request at `info` (`chart-studio -v`): method, path without its query
            // (which may hold a share key), status and time.
            let (method, path) = (request.method().clone(), request.uri().path().to_owned());
            let started = tokio::time::Instant::now();
            let request = reqwest::Request::try_from(request).map_err(classify)?;
            let response = self.client.execute(request).await.map_err(classify)?;
            tracing::info!(
                %method,
                %path,
                status = response.status().as_u16(),
                ms = started.elapsed().as_millis() as u64,
                "request"
            );
            let mut builder =
                http::Response::builder().status(response.status()).version(response.version());
            if let Some(headers) = builder.headers_mut() {
                headers.extend(
                    response.headers().iter().map(|(name, value)| (name.clone(), value.clone())),
                );
            }
            let body = response.bytes().await.map_err(classify)?;
            builder.body(body).map_err(|err| TransportError::new(TransportErrorKind::Other, err))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves one connection with `reply`, returning the address.
    async fn one_shot(reply: &'static [u8]) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = socket.read(&mut buf).await;
            socket.write_all(reply).await.unwrap();
            socket.shutdown().await.ok();
        });
        addr
    }

    fn get(addr: std::net::SocketAddr) -> http::Request<Bytes> {
        http::Request::get(format!("http://{addr}/v2/users/current")).body(Bytes::new()).unwrap()
    }

    #[tokio::test]
    async fn reads_a_whole_response() {
        let addr = one_shot(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
        )
        .await;
        let transport = HttpTransport::new(&HttpSettings::default()).unwrap();
        let response = transport.send(get(addr)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(&response.body()[..], b"{}");
        assert_eq!(response.headers()["content-type"], "application/json");
    }

    #[tokio::test]
    async fn a_truncated_body_is_an_interrupted_transfer() {
        let addr = one_shot(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"partial\":").await;
        let transport = HttpTransport::new(&HttpSettings::default()).unwrap();
        let err = transport.send(get(addr)).await.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Interrupted, "{err}");
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let transport = HttpTransport::new(&HttpSettings::default()).unwrap();
        let err = transport.send(get(addr)).await.unwrap_err();
        assert!(err.is_connect(), "{err}");
    }

    #[tokio::test]
    async fn redirects_to_another_host_are_not_followed() {
        let addr = one_shot(b"HTTP/1.1 301 Moved\r\nlocation: http://127.0.0.2:9/v2/users/current\r\ncontent-length: 0\r\n\r\n").await;
        let transport = HttpTransport::new(&HttpSettings::default()).unwrap();
        let response = transport.send(get(addr)).await.unwrap();
        assert_eq!(response.status(), 301);
    }

    #[test]
    fn debug_hides_the_proxy_password() {
        let settings = HttpSettings {
            proxy: Some("http://user:hunter2@proxy.example:3128".to_owned()),
            ..HttpSettings::default()
        };
        let text = format!("{settings:?}");
        assert!(!text.contains("hunter2") && text.contains("user:***@proxy.example"), "{text}");
    }

    #[test]
    fn a_missing_ca_bundle_is_reported_with_its_path() {
        let settings = HttpSettings {
            ca_bundle: Some("/nonexistent/ca.pem".into()),
            ..HttpSettings::default()
        };
        let err = HttpTransport::new(&settings).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }
}
