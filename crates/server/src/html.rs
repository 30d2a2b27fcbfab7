//! What every page shares: rendering with the pages' security policy, JSON inside a script
//! element, and query values in links.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use http::{StatusCode, header};

use crate::failure::Failure;

/// A query value, percent-encoded.
pub(crate) fn percent_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A page, with the pages' security policy.
pub(crate) fn rendered(page: &impl Template) -> Response {
    rendered_framable(page, false)
}

/// A page, with the pages' security policy; `framable` pages may be put in other sites' frames.
pub(crate) fn rendered_framable(page: &impl Template, framable: bool) -> Response {
    match page.render() {
        Ok(html) => {
            let policy = crate::security::page_policy(framable);
            ([(header::CONTENT_SECURITY_POLICY, policy)], Html(html)).into_response()
        }
        Err(err) => {
            tracing::error!(%err, "a page did not render");
            Failure::Injected(StatusCode::INTERNAL_SERVER_ERROR, "A page did not render.")
                .into_response()
        }
    }
}

/// JSON that is safe inside a `<script>` element: no `<`, `>` or `&` is left to open a tag or a
/// comment, close the element or start an entity (each becomes a `\\u` escape, which only JSON
/// strings can hold).
pub(crate) fn script_json(value: &serde_json::Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}
