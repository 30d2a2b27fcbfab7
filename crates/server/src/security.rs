//! What browsers are told and asked: requests another site makes a browser send are refused,
//! and every answer carries the headers that keep a browser from sniffing, framing, leaking or
//! caching what it should not.

use http::{HeaderMap, HeaderValue, Method, header};

use crate::state::Urls;

/// Whether a request that changes something comes from another site. A browser names the
/// page's origin in `Origin` on every cross-site request it may send without asking (forms,
/// `text/plain` bodies); that origin must be this server's (as the request's `Host` names it,
/// or as the configured links do). The sign-in form, which a session cookie follows, needs an
/// `Origin` or `Referer` of this server's; API scripts send neither and are not refused.
pub(crate) fn cross_site(urls: &Urls, method: &Method, path: &str, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let ours = |origin: &str| {
        let scheme = if urls.api.starts_with("https://") { "https" } else { "http" };
        let host = headers.get(header::HOST).and_then(|host| host.to_str().ok());
        host.is_some_and(|host| origin == format!("{scheme}://{host}"))
            || [&urls.api, &urls.web].iter().any(|url| origin_of(url) == Some(origin))
    };
    let text = |name| headers.get(name).and_then(|value: &HeaderValue| value.to_str().ok());
    match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) => !ours(origin),
        (None, Some(referer)) if is_session_form(path) => !origin_of(referer).is_some_and(ours),
        (None, None) if is_session_form(path) => true,
        (None, _) => false,
    }
}

/// The pages that start or end a browser session.
fn is_session_form(path: &str) -> bool {
    matches!(path.trim_end_matches('/'), "/login" | "/logout")
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).map_or(url.len(), |at| url.len() - rest.len() + at);
    Some(&url[..end])
}

/// The Content-Security-Policy of the server's pages: scripts and styles from the server only
/// (plotly.js needs `eval` for its WebGL traces, and sets inline styles), pictures from itself
/// and data URLs, no plugins, no other site; `framable` pages (`.embed`) may be put in any
/// site's iframe, others in none.
pub(crate) fn page_policy(framable: bool) -> HeaderValue {
    let frames = if framable { "*" } else { "'none'" };
    let policy = format!(
        "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src blob:; \
         base-uri 'none'; form-action 'self'; frame-ancestors {frames}"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
}

/// Adds the headers every answer carries: no MIME sniffing, referrers only within the server,
/// a policy that runs nothing and frames nothing unless the page set its own, HSTS over TLS,
/// and `private, no-store` on answers meant for one reader (`personal`) unless the route chose.
pub(crate) fn add_headers(urls: &Urls, headers: &mut HeaderMap, personal: bool) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    let policy = headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    if policy.to_str().is_ok_and(|policy| policy.contains("frame-ancestors 'none'")) {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if urls.api.starts_with("https://") {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if personal {
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("private, no-store"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls() -> Urls {
        Urls { api: "http://127.0.0.1:9200".to_owned(), web: "https://charts.example".to_owned() }
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    #[test]
    fn changes_from_another_site_are_refused() {
        let host = (header::HOST, "charts.internal:9200");
        let cases = [
            (Method::POST, "/v2/files/a:1/trash", vec![host.clone()], false),
            (
                Method::POST,
                "/v2/files/a:1/trash",
                vec![host.clone(), (header::ORIGIN, "https://evil.example")],
                true,
            ),
            (
                Method::POST,
                "/v2/files/a:1/trash",
                vec![host.clone(), (header::ORIGIN, "null")],
                true,
            ),
            (
                Method::POST,
                "/v2/files/a:1/trash",
                vec![host.clone(), (header::ORIGIN, "http://charts.internal:9200")],
                false,
            ),
            (
                Method::PATCH,
                "/v2/files/a:1",
                vec![(header::ORIGIN, "https://charts.example")],
                false,
            ),
            (Method::GET, "/v2/files/a:1", vec![(header::ORIGIN, "https://evil.example")], false),
            (Method::POST, "/login", vec![host.clone()], true),
            (
                Method::POST,
                "/login",
                vec![host.clone(), (header::REFERER, "https://evil.example/x")],
                true,
            ),
            (
                Method::POST,
                "/login",
                vec![
                    host.clone(),
                    (header::REFERER, "http://charts.internal:9200/login?next=/~a/"),
                ],
                false,
            ),
            (
                Method::POST,
                "/logout",
                vec![host, (header::ORIGIN, "http://charts.internal:9200")],
                false,
            ),
        ];
        for (method, path, pairs, refused) in cases {
            assert_eq!(
                cross_site(&urls(), &method, path, &headers(&pairs)),
                refused,
                "{method} {path} {pairs:?}"
            );
        }
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(origin_of("https://a.example:8443/x/y?z"), Some("https://a.example:8443"));
        assert_eq!(origin_of("http://a.example"), Some("http://a.example"));
        assert_eq!(origin_of("a.example/x"), None);
    }
}
