//! Pagination: cursor pages, page-number pages and raw JSON pages, followed as one stream.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use chart_studio_models::{CursorPage, DecodeError, Listing, NumberedPage};
use futures_core::Stream;
use futures_util::stream;
use serde::{Deserialize, Serialize};

use crate::{BuildError, Config, Endpoint};

/// A response that is one page of a longer list.
pub trait Page {
    /// One entry of the list.
    type Item: Send + 'static;
    /// The absolute address of the next page, if any.
    fn next_link(&self) -> Option<&str>;
    /// How many entries this page holds.
    fn item_count(&self) -> usize;
    /// The entries.
    fn into_items(self) -> Vec<Self::Item>;
}

/// `Page` for the two typed shapes that hold `results` and `next` at the top.
macro_rules! results_page {
    ($page:ident) => {
        impl<T: Send + 'static> Page for $page<T> {
            type Item = T;
            fn next_link(&self) -> Option<&str> {
                self.next.as_deref().filter(|link| !link.is_empty())
            }
            fn item_count(&self) -> usize {
                self.results.len()
            }
            fn into_items(self) -> Vec<T> {
                self.results
            }
        }
    };
}

results_page!(CursorPage);
results_page!(NumberedPage);

/// `Page` for the two shapes whose files are a page of `children`.
macro_rules! children_page {
    ($page:ty) => {
        impl Page for $page {
            type Item = chart_studio_models::File;
            fn next_link(&self) -> Option<&str> {
                self.children.next_link()
            }
            fn item_count(&self) -> usize {
                self.children.item_count()
            }
            fn into_items(self) -> Vec<Self::Item> {
                self.children.into_items()
            }
        }
    };
}

children_page!(Listing);
children_page!(chart_studio_models::Folder);

/// A JSON page of any of the three shapes: top-level `results` / `next`, or `children.results` / `children.next`.
impl Page for serde_json::Value {
    type Item = serde_json::Value;
    fn next_link(&self) -> Option<&str> {
        self.get("next")
            .or_else(|| self.get("children")?.get("next"))?
            .as_str()
            .filter(|link| !link.is_empty())
    }
    fn item_count(&self) -> usize {
        self.get("results")
            .or_else(|| self.get("children")?.get("results"))
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len)
    }
    fn into_items(mut self) -> Vec<Self::Item> {
        let results = match self.get_mut("results") {
            Some(results) => results.take(),
            None => self
                .get_mut("children")
                .and_then(|c| c.get_mut("results"))
                .map(serde_json::Value::take)
                .unwrap_or_default(),
        };
        match results {
            serde_json::Value::Array(items) => items,
            _ => Vec::new(),
        }
    }
}

/// An endpoint whose answer is a [`Page`]; [`crate::Client::pages`] follows its `next` links.
pub trait Paginated: Endpoint<Output: Page> + Clone + 'static {}

/// Where the next page is: the path and query of a `next` link, relative to the API base.
///
/// Links are re-rooted on the configured API base, so credentials never follow a link to another host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PageLink {
    /// The path below the API base.
    pub path: String,
    /// The query string, without `?`.
    pub query: Option<String>,
}

impl PageLink {
    /// Reads a `next` link (absolute or relative) against `config`'s API base.
    pub fn parse(link: &str, config: &Config) -> Option<Self> {
        let url = config.api_base().join(link).ok()?;
        let path = url.path();
        let path = path
            .strip_prefix(config.base_path())
            .filter(|rest| rest.starts_with('/'))
            .unwrap_or(path);
        Some(Self { path: path.to_owned(), query: url.query().map(str::to_owned) })
    }
}

/// An endpoint, or one of its later pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paged<E> {
    /// The request for the first page.
    pub first: E,
    /// Where the current page is; `None` for the first page.
    pub link: Option<PageLink>,
}

impl<E: Endpoint> Endpoint for Paged<E> {
    type Output = E::Output;

    fn method(&self) -> http::Method {
        self.first.method()
    }
    fn idempotent(&self) -> bool {
        self.first.idempotent()
    }
    fn path(&self) -> String {
        match &self.link {
            Some(link) => link.path.clone(),
            None => self.first.path(),
        }
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        match &self.link {
            Some(link) => Ok(link.query.clone()),
            None => self.first.query(),
        }
    }
    fn body(&self) -> Result<Option<Bytes>, BuildError> {
        self.first.body()
    }
    fn parse(&self, response: &http::Response<Bytes>) -> Result<Self::Output, DecodeError> {
        self.first.parse(response)
    }
}

/// Every page of `first`, each fetched by `fetch` (which hands the request back with its page):
/// `next` links are followed, re-rooted on `config`'s API base; empty pages are skipped; a link
/// seen before ends the stream, so it cannot loop forever. [`crate::Client::pages`] fetches with
/// the client; callers with their own retries pass their own `fetch`.
pub fn page_stream<E, F, Fut, Err>(
    first: E,
    config: Arc<Config>,
    fetch: F,
) -> impl Stream<Item = Result<E::Output, Err>>
where
    E: Paginated,
    F: Fn(Paged<E>) -> Fut,
    Fut: Future<Output = Result<(Paged<E>, E::Output), Err>>,
{
    struct State<E> {
        next: Option<Paged<E>>,
        seen: BTreeSet<PageLink>,
    }
    let start = State { next: Some(Paged { first, link: None }), seen: BTreeSet::new() };
    let fetch = Arc::new(fetch);
    stream::try_unfold(start, move |mut state| {
        let config = Arc::clone(&config);
        let fetch = Arc::clone(&fetch);
        async move {
            while let Some(request) = state.next.take() {
                let (request, page) = fetch(request).await?;
                let link = page.next_link().and_then(|link| PageLink::parse(link, &config));
                state.next = match link {
                    Some(link) if state.seen.insert(link.clone()) => {
                        Some(Paged { first: request.first, link: Some(link) })
                    }
                    Some(link) => {
                        tracing::warn!(path = %link.path, "the server repeated a page link; stopping");
                        None
                    }
                    None => None,
                };
                if page.item_count() > 0 {
                    return Ok(Some((page, state)));
                }
            }
            Ok(None)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_rerooted_on_the_api_base() {
        let config = Config::new("https://api.plotly.com", None, false).unwrap();
        let link =
            PageLink::parse("https://api.plot.ly/v2/plots?cursor=abc%3D&format=api", &config)
                .unwrap();
        assert_eq!(
            link,
            PageLink {
                path: "/v2/plots".to_owned(),
                query: Some("cursor=abc%3D&format=api".to_owned())
            }
        );
        let prefixed = Config::new("https://corp.example/plotly", None, false).unwrap();
        let link = PageLink::parse("https://corp.example/plotly/v2/folders/all?page=2", &prefixed)
            .unwrap();
        assert_eq!(link.path, "/v2/folders/all");
        let relative = PageLink::parse("/v2/search?q=x&page=3", &config).unwrap();
        assert_eq!(relative.query.as_deref(), Some("q=x&page=3"));
    }

    #[test]
    fn value_pages_of_both_shapes() {
        let top = serde_json::json!({"next": "n1", "results": [1, 2]});
        assert_eq!((top.next_link(), top.item_count()), (Some("n1"), 2));
        let nested = serde_json::json!({"children": {"next": null, "results": [1]}});
        assert_eq!((nested.next_link(), nested.item_count()), (None, 1));
        assert_eq!(nested.into_items(), vec![serde_json::json!(1)]);
        let neither = serde_json::json!({"fid": "a:1"});
        assert_eq!(neither.item_count(), 0);
    }
}
