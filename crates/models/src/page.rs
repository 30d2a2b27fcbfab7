//! The two pagination shapes: cursor pages and page-number pages.

use serde::{Deserialize, Serialize};

use crate::Extra;

/// A cursor page (`/v2/plots`, `/v2/plots/feed`): `{next, previous, results}`, no count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CursorPage<T> {
    /// Absolute address of the next page; `None` on the last page.
    pub next: Option<String>,
    /// Absolute address of the previous page; `None` on the first page.
    pub previous: Option<String>,
    /// The items of this page.
    pub results: Vec<T>,
    /// Fields not described here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl<T> CursorPage<T> {
    /// A page of items with its links.
    pub fn new(results: Vec<T>, next: Option<String>, previous: Option<String>) -> Self {
        Self { next, previous, results, extra: Extra::new() }
    }
}

/// A page-number page (folder children): `{count, next, previous, first, last, results}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NumberedPage<T> {
    /// How many items all pages hold together.
    #[serde(default)]
    pub count: Option<u64>,
    /// Absolute address of the next page; `None` on the last page.
    #[serde(default)]
    pub next: Option<String>,
    /// Absolute address of the previous page; `None` on the first page.
    #[serde(default)]
    pub previous: Option<String>,
    /// Absolute address of the first page.
    #[serde(default)]
    pub first: Option<String>,
    /// Absolute address of the last page.
    #[serde(default)]
    pub last: Option<String>,
    /// The items of this page.
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    /// Fields not described here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl<T> Default for NumberedPage<T> {
    fn default() -> Self {
        Self {
            count: None,
            next: None,
            previous: None,
            first: None,
            last: None,
            results: Vec::new(),
            extra: Extra::new(),
        }
    }
}
