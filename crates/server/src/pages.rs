//! Both pagination schemes: page numbers (folder children) and cursors (`/v2/plots`).

use base64::Engine;
use chart_studio_models::NumberedPage;

/// The absolute address of this request with some query parameters replaced or removed.
#[derive(Debug, Clone)]
pub(crate) struct RequestUrl {
    /// `http://host:port/v2/...`, on the server's own address.
    pub base: String,
    /// The query parameters, in order.
    pub params: Vec<(String, String)>,
}

impl RequestUrl {
    /// `uri` on the server at `origin` (`http://127.0.0.1:9200`).
    pub(crate) fn new(origin: &str, uri: &http::Uri) -> Self {
        let params = uri
            .query()
            .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
            .unwrap_or_default();
        Self { base: format!("{}{}", origin.trim_end_matches('/'), uri.path()), params }
    }

    /// This address with `key` set to `value` (or removed for `None`).
    pub(crate) fn with(&self, key: &str, value: Option<&str>) -> String {
        let mut params: Vec<(String, String)> =
            self.params.iter().filter(|(k, _)| k != key).cloned().collect();
        if let Some(value) = value {
            params.push((key.to_owned(), value.to_owned()));
        }
        match serde_urlencoded::to_string(&params) {
            Ok(query) if !query.is_empty() => format!("{}?{query}", self.base),
            _ => self.base.clone(),
        }
    }
}

/// Page `page` (from 1; past the last: the last) of `page_size` of `count` items, without its
/// results, and the position of its first item.
pub(crate) fn numbered_window<T>(
    count: u64,
    page: u32,
    page_size: u32,
    url: &RequestUrl,
) -> (NumberedPage<T>, u64) {
    let size = u64::from(page_size.max(1));
    let last = count.div_ceil(size).max(1);
    let page = u64::from(page.max(1)).min(last);
    let link = |n: u64| url.with("page", Some(&n.to_string()));
    let mut out = NumberedPage::default();
    out.count = Some(count);
    out.next = (page < last).then(|| link(page + 1));
    out.previous = (page > 1).then(|| link(page - 1));
    out.first = Some(link(1));
    out.last = Some(link(last));
    (out, (page - 1) * size)
}

/// A decoded cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cursor {
    /// Items strictly after position `p` in the list order (`p=...`).
    After(String),
    /// Items strictly before position `p`, for the previous page (`r=1&p=...`).
    Before(String),
}

impl Cursor {
    /// Encodes as the server does: base64 of a URL-encoded query.
    pub(crate) fn encode(&self) -> String {
        let query = match self {
            Self::After(p) => serde_urlencoded::to_string([("p", p)]),
            Self::Before(p) => serde_urlencoded::to_string([("r", "1"), ("p", p)]),
        };
        base64::engine::general_purpose::STANDARD.encode(query.unwrap_or_default())
    }

    /// Decodes a cursor; `None` for anything malformed.
    pub(crate) fn decode(text: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).ok()?;
        let position = pairs.iter().find(|(k, _)| k == "p")?.1.clone();
        let reverse = pairs.iter().any(|(k, v)| k == "r" && v == "1");
        Some(if reverse { Self::Before(position) } else { Self::After(position) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_captured_cursors() {
        assert_eq!(
            Cursor::decode("cD0yMDE5LTA2LTE3KzIyJTNBNTMlM0EwOC44OTY1MDAlMkIwMCUzQTAw"),
            Some(Cursor::After("2019-06-17 22:53:08.896500+00:00".to_owned()))
        );
        assert_eq!(
            Cursor::decode("cj0xJnA9MjAxOS0wNi0xNysyMiUzQTUxJTNBNDUuODU2OTM2JTJCMDAlM0EwMA=="),
            Some(Cursor::Before("2019-06-17 22:51:45.856936+00:00".to_owned()))
        );
        let cursor = Cursor::After("x y".to_owned());
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("!!"), None);
    }

    #[test]
    fn numbered_pages_link_to_their_neighbours() {
        let uri: http::Uri = "/v2/folders/all?user=a&page_size=2".parse().unwrap();
        let url = RequestUrl::new("http://127.0.0.1:9", &uri);
        let (page, offset) = numbered_window::<u8>(5, 2, 2, &url);
        assert_eq!(offset, 2);
        assert_eq!(page.count, Some(5));
        assert_eq!(
            page.next.as_deref(),
            Some("http://127.0.0.1:9/v2/folders/all?user=a&page_size=2&page=3")
        );
        assert_eq!(
            page.previous.as_deref(),
            Some("http://127.0.0.1:9/v2/folders/all?user=a&page_size=2&page=1")
        );
        assert_eq!(
            page.last.as_deref(),
            Some("http://127.0.0.1:9/v2/folders/all?user=a&page_size=2&page=3")
        );
        let (empty, offset) = numbered_window::<u8>(0, 1, 2, &url);
        assert_eq!((empty.next, empty.count, offset), (None, Some(0), 0));
        let (past, offset) = numbered_window::<u8>(5, 9, 2, &url);
        assert_eq!((past.next, offset), (None, 4), "a page past the end is the last");
    }
}
