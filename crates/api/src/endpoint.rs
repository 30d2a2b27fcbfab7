//! The [`Endpoint`] trait and the two functions that turn endpoints into requests and responses
//! into results.

use bytes::Bytes;
use http::{HeaderValue, Method, header};
use serde::de::DeserializeOwned;

use crate::error::snippet;
use crate::{ApiError, AuthPlacement, BuildError, Config, Error, RequestLine, ResponseDecodeError};

/// One API call, described as a value.
///
/// `method` and `idempotent` are methods rather than constants so that [`crate::raw::Raw`] can
/// describe any call.
pub trait Endpoint: Send + Sync {
    /// What a successful response parses into.
    type Output: Send + 'static;

    /// The HTTP method.
    fn method(&self) -> Method;

    /// Whether sending the request twice has the same effect as once (bulk retries only these).
    fn idempotent(&self) -> bool;

    /// The path below the API base, such as `/v2/files/alice:3`.
    fn path(&self) -> String;

    /// The encoded query string, without `?`.
    fn query(&self) -> Result<Option<String>, BuildError> {
        Ok(None)
    }

    /// The request body.
    fn body(&self) -> Result<Option<Bytes>, BuildError> {
        Ok(None)
    }

    /// Headers to send besides the standard ones (replacing a standard one of the same name).
    fn headers(&self) -> &[(String, String)] {
        &[]
    }

    /// Parses a successful (2xx) response.
    fn parse(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<Self::Output, chart_studio_models::DecodeError>;
}

/// Builds the full HTTP request for `endpoint`: address, query, body and headers.
pub fn build_request<E: Endpoint + ?Sized>(
    endpoint: &E,
    config: &Config,
) -> Result<http::Request<Bytes>, BuildError> {
    let mut address =
        format!("{}{}", config.api_base().as_str().trim_end_matches('/'), endpoint.path());
    if let Some(query) = endpoint.query()?.filter(|q| !q.is_empty()) {
        address.push('?');
        address.push_str(&query);
    }
    let uri: http::Uri = address
        .parse()
        .map_err(|err: http::uri::InvalidUri| BuildError::Url(address.clone(), err.to_string()))?;
    let mut builder = http::Request::builder()
        .method(endpoint.method())
        .uri(uri)
        .header("plotly-client-platform", crate::CLIENT_PLATFORM)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json");
    let user = config.credentials.as_ref().map(|c| secret_header(&c.basic_header())).transpose()?;
    match (&config.placement, user) {
        (AuthPlacement::Authorization, Some(user)) => {
            builder = builder.header(header::AUTHORIZATION, user);
        }
        (AuthPlacement::Authorization, None) => {}
        // The proxy's credentials go out even without the user's, as the Python client sends them.
        (AuthPlacement::PlotlyAuthorization { proxy }, user) => {
            if let Some(user) = user {
                builder = builder.header("plotly-authorization", user);
            }
            if let Some(proxy) = proxy {
                builder =
                    builder.header(header::AUTHORIZATION, secret_header(&proxy.basic_header())?);
            }
        }
    }
    let mut request = builder
        .body(endpoint.body()?.unwrap_or_default())
        .map_err(|err| BuildError::Url(address, err.to_string()))?;
    for (name, value) in endpoint.headers() {
        let invalid = || BuildError::ExtraHeader(name.clone());
        let name = header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let mut value = HeaderValue::from_str(value).map_err(|_| invalid())?;
        value.set_sensitive(
            name == header::AUTHORIZATION || name.as_str() == "plotly-authorization",
        );
        request.headers_mut().insert(name, value);
    }
    Ok(request)
}

fn secret_header(value: &str) -> Result<HeaderValue, BuildError> {
    let mut value =
        HeaderValue::from_str(value).map_err(|_| BuildError::Header("authorization"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// Checks the status once, then parses: an error status becomes [`Error::Api`], an unreadable
/// success body [`Error::Decode`].
pub fn parse_response<E: Endpoint + ?Sized>(
    endpoint: &E,
    request: RequestLine,
    response: &http::Response<Bytes>,
) -> Result<E::Output, Error> {
    let status = response.status();
    if status.is_client_error()
        || status.is_server_error()
        || status.is_redirection()
        || status.is_informational()
    {
        return Err(ApiError::from_response(request, response).into());
    }
    endpoint.parse(response).map_err(|error| {
        let text = String::from_utf8_lossy(response.body());
        Error::from(ResponseDecodeError {
            request,
            status,
            error,
            snippet: snippet(text.trim(), 200),
        })
    })
}

/// Parses a JSON body into `T`; used by most endpoints.
pub(crate) fn json<T: DeserializeOwned>(
    response: &http::Response<Bytes>,
) -> Result<T, chart_studio_models::DecodeError> {
    chart_studio_models::from_json_slice(response.body())
}

/// Parses a JSON body into a value; an empty body is `null` and a non-JSON body a string.
pub(crate) fn any_json(response: &http::Response<Bytes>) -> serde_json::Value {
    let body = response.body();
    if body.iter().all(u8::is_ascii_whitespace) {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into_owned()))
}

/// Serializes a request body as JSON.
pub(crate) fn json_body<T: serde::Serialize>(value: &T) -> Result<Option<Bytes>, BuildError> {
    serde_json::to_vec(value)
        .map(|bytes| Some(Bytes::from(bytes)))
        .map_err(|err| BuildError::Body(err.to_string()))
}

/// Implements [`Endpoint`] for a `GET` whose query string is the request value itself and whose
/// answer is JSON: `query_endpoint!(List => CursorPage<Plot>, "/v2/plots");`.
macro_rules! query_endpoint {
    ($request:ty => $output:ty, $path:literal) => {
        impl $crate::Endpoint for $request {
            type Output = $output;

            fn method(&self) -> http::Method {
                http::Method::GET
            }
            fn idempotent(&self) -> bool {
                true
            }
            fn path(&self) -> String {
                $path.to_owned()
            }
            fn query(&self) -> Result<Option<String>, $crate::BuildError> {
                $crate::query::encode(self)
            }
            fn parse(
                &self,
                response: &http::Response<bytes::Bytes>,
            ) -> Result<Self::Output, chart_studio_models::DecodeError> {
                $crate::endpoint::json(response)
            }
        }
    };
}

/// Implements [`Endpoint`] for a `POST` of a JSON body that creates something (so it is not
/// retried blindly), answered with JSON: `create_endpoint!(Create => Created<Plot>, "/v2/plots", |c| &c.plot);`.
macro_rules! create_endpoint {
    ($request:ty => $output:ty, $path:literal, |$this:ident| $body:expr) => {
        impl $crate::Endpoint for $request {
            type Output = $output;

            fn method(&self) -> http::Method {
                http::Method::POST
            }
            fn idempotent(&self) -> bool {
                false
            }
            fn path(&self) -> String {
                $path.to_owned()
            }
            fn body(&self) -> Result<Option<bytes::Bytes>, $crate::BuildError> {
                let $this = self;
                $crate::endpoint::json_body($body)
            }
            fn parse(
                &self,
                response: &http::Response<bytes::Bytes>,
            ) -> Result<Self::Output, chart_studio_models::DecodeError> {
                $crate::endpoint::json(response)
            }
        }
    };
}

pub(crate) use {create_endpoint, query_endpoint};
