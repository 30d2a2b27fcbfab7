//! What every page shares: rendering with the pages' security policy, JSON inside a script
//! element, and query values in links.

use askama::Template;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
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
    rendered_with_json(page, framable, Vec::new())
}

/// A page as [`rendered_framable`] makes it, with JSON in script elements: each slot's
/// placeholder in the page's text is replaced by its JSON, written in pieces and made
/// [`script_safe`]. The page is answered in pieces, so that a large figure is never copied
/// whole.
pub(crate) fn rendered_with_json(
    page: &impl Template,
    framable: bool,
    slots: Vec<(String, Vec<Bytes>)>,
) -> Response {
    let html = match page.render() {
        Ok(html) => html,
        Err(err) => {
            tracing::error!(%err, "a page did not render");
            return Failure::Injected(StatusCode::INTERNAL_SERVER_ERROR, "A page did not render.")
                .into_response();
        }
    };
    let slots = slots
        .into_iter()
        .map(|(placeholder, json)| (placeholder, json.into_iter().map(script_safe).collect()));
    let pieces = crate::render::spliced(html, slots);
    let mut response = crate::render::in_pieces("text/html; charset=utf-8", pieces);
    let policy = crate::security::page_policy(framable);
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    response
}

/// JSON that is safe inside a `<script>` element: no `<`, `>` or `&` is left to open a tag or a
/// comment, close the element or start an entity (each becomes a `\\u` escape, which only JSON
/// strings can hold). JSON without them is kept as it is, not copied.
pub(crate) fn script_safe(json: Bytes) -> Bytes {
    if memchr::memchr3(b'<', b'>', b'&', &json).is_none() {
        return json;
    }
    let mut safe = Vec::with_capacity(json.len() + 64);
    let mut written = 0;
    for at in memchr::memchr3_iter(b'<', b'>', b'&', &json) {
        safe.extend_from_slice(&json[written..at]);
        safe.extend_from_slice(match json[at] {
            b'<' => b"\\u003c",
            b'>' => b"\\u003e",
            _ => b"\\u0026",
        });
        written = at + 1;
    }
    safe.extend_from_slice(&json[written..]);
    safe.into()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use proptest::prelude::*;

    use super::script_safe;

    proptest! {
        /// Any text, as JSON cut anywhere into two pieces, is made safe piece by piece: the
        /// pieces hold no `<`, `>` or `&` and parse back to the text.
        #[test]
        fn script_safe_json_keeps_the_text_and_no_markup(text in "[<>&a\"\\\\é\u{2028}]{0,24}", cut in any::<usize>()) {
            let json = serde_json::to_string(&text).unwrap();
            let mut cut = cut % (json.len() + 1);
            while !json.is_char_boundary(cut) {
                cut -= 1;
            }
            let (first, second) = json.split_at(cut);
            let safe = [first, second]
                .map(|piece| script_safe(Bytes::copy_from_slice(piece.as_bytes())))
                .concat();
            prop_assert!(!safe.iter().any(|byte| matches!(byte, b'<' | b'>' | b'&')));
            prop_assert_eq!(serde_json::from_slice::<String>(&safe).unwrap(), text);
        }
    }
}
