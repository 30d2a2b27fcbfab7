//! A file's content (a figure, a grid's columns, a document) and what the store keeps of it in
//! memory: its outline, the little that listings, searches and links read. The content itself
//! lives in the database and is read per request, through a cache bounded in bytes.

use std::sync::Arc;

use chart_studio_models::{Fid, FileType};
use serde_json::Value;

/// One stored column of a grid.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct StoredColumn {
    pub name: String,
    pub uid: String,
    pub data: Vec<Value>,
}

/// What a file holds besides its metadata. Content is shared, so that a reader takes it without
/// copying and builds its answer after the store's lock is released; a change copies it first
/// if a reader still holds it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) enum Body {
    Plot {
        figure: Arc<Value>,
    },
    Grid {
        columns: Arc<Vec<StoredColumn>>,
    },
    Folder,
    /// A dashboard's JSON document, kept as it was sent.
    Dashboard {
        content: Arc<str>,
    },
    /// A spectacle presentation's JSON document, kept as it was sent.
    Presentation {
        content: Arc<str>,
    },
}

impl Body {
    pub(crate) fn plot(figure: Value) -> Self {
        Self::Plot { figure: Arc::new(figure) }
    }

    pub(crate) fn grid(columns: Vec<StoredColumn>) -> Self {
        Self::Grid { columns: Arc::new(columns) }
    }

    /// The kind of file that holds this content.
    pub(crate) fn kind(&self) -> FileType {
        match self {
            Self::Plot { .. } => FileType::Plot,
            Self::Grid { .. } => FileType::Grid,
            Self::Folder => FileType::Folder,
            Self::Dashboard { .. } => FileType::Dashboard,
            Self::Presentation { .. } => FileType::Presentation,
        }
    }

    /// A dashboard or presentation (`kind`) holding `content`; `None` for other kinds.
    pub(crate) fn document(kind: &FileType, content: &str) -> Option<Self> {
        match kind {
            FileType::Dashboard => Some(Self::Dashboard { content: content.into() }),
            FileType::Presentation => Some(Self::Presentation { content: content.into() }),
            _ => None,
        }
    }

    /// A dashboard's or presentation's document.
    pub(crate) fn content(&self) -> Option<&Arc<str>> {
        match self {
            Self::Dashboard { content } | Self::Presentation { content } => Some(content),
            _ => None,
        }
    }

    /// About how many bytes of memory the content takes, for the cache's bound.
    pub(crate) fn memory(&self) -> usize {
        match self {
            Self::Plot { figure } => value_memory(figure),
            Self::Grid { columns } => columns
                .iter()
                .map(|c| {
                    size_of::<StoredColumn>()
                        + c.name.len()
                        + c.uid.len()
                        + c.data.iter().map(value_memory).sum::<usize>()
                })
                .sum(),
            Self::Folder => 0,
            Self::Dashboard { content } | Self::Presentation { content } => content.len(),
        }
    }

    /// A plot's figure.
    pub(crate) fn figure(&self) -> Option<&Arc<Value>> {
        match self {
            Self::Plot { figure } => Some(figure),
            _ => None,
        }
    }
}

/// About how many bytes of memory `value` takes: its own slot and what it points to.
fn value_memory(value: &Value) -> usize {
    let slot = size_of::<Value>();
    let mut total = 0;
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        total += slot;
        match value {
            Value::String(text) => total += text.len(),
            Value::Array(items) => pending.extend(items),
            Value::Object(fields) => {
                for (key, item) in fields {
                    // A map entry keeps its key and a few words of bookkeeping.
                    total += key.len() + 4 * size_of::<usize>();
                    pending.push(item);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    total
}

/// A sorted set of fids in a vector: most files link to none or a few.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub(crate) struct Links(Vec<Fid>);

impl Links {
    /// Adds `fid`; false when it was there.
    pub(crate) fn insert(&mut self, fid: Fid) -> bool {
        match self.0.binary_search(&fid) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, fid);
                true
            }
        }
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Fid> {
        self.0.iter()
    }
}

impl FromIterator<Fid> for Links {
    fn from_iter<I: IntoIterator<Item = Fid>>(fids: I) -> Self {
        let mut fids: Vec<Fid> = fids.into_iter().collect();
        fids.sort_unstable();
        fids.dedup();
        fids.shrink_to_fit();
        Self(fids)
    }
}

impl<'a> IntoIterator for &'a Links {
    type Item = &'a Fid;
    type IntoIter = std::slice::Iter<'a, Fid>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A grid column's name and uid, without its data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ColumnName {
    pub name: String,
    pub uid: String,
}

/// What the store keeps in memory of a file's content, kept in the file's record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(crate) enum Outline {
    Plot {
        /// The `type` of each trace, for `plottype:` searches.
        trace_types: Vec<String>,
        /// The grids the figure's column references name (existing or not).
        grids: Links,
    },
    Grid {
        columns: Vec<ColumnName>,
    },
    Folder,
    Dashboard,
    Presentation,
}

impl Outline {
    /// The outline of `body`.
    pub(crate) fn of(body: &Body) -> Self {
        match body {
            Body::Plot { figure } => Self::Plot {
                trace_types: chart_studio_models::traces(figure)
                    .into_iter()
                    .filter_map(|(_, trace)| trace.get("type")?.as_str().map(str::to_owned))
                    .collect(),
                grids: chart_studio_models::referenced_grids(figure).into_iter().collect(),
            },
            Body::Grid { columns } => Self::Grid {
                columns: columns
                    .iter()
                    .map(|c| ColumnName { name: c.name.clone(), uid: c.uid.clone() })
                    .collect(),
            },
            Body::Folder => Self::Folder,
            Body::Dashboard { .. } => Self::Dashboard,
            Body::Presentation { .. } => Self::Presentation,
        }
    }

    /// The kind of file.
    pub(crate) fn kind(&self) -> FileType {
        match self {
            Self::Plot { .. } => FileType::Plot,
            Self::Grid { .. } => FileType::Grid,
            Self::Folder => FileType::Folder,
            Self::Dashboard => FileType::Dashboard,
            Self::Presentation => FileType::Presentation,
        }
    }

    /// A grid's column names and uids (none for other kinds).
    pub(crate) fn columns(&self) -> &[ColumnName] {
        match self {
            Self::Grid { columns } => columns,
            _ => &[],
        }
    }
}

/// A content's place in the cache: its file's owner, idlocal and modification time, so that a
/// content read before a change never stands for the content after it.
pub(crate) type CacheKey = (String, u64, i64);

/// The cache as the store and the readers it hands contents to share it.
pub(crate) type SharedCache = Arc<std::sync::Mutex<Cache>>;

/// A content handed out by the store: ready, or its stored JSON, read under the store's lock
/// and decoded by [`ContentRead::load`] after the lock is released, so that decoding a large
/// grid holds up no other request.
#[derive(Debug)]
pub(crate) enum ContentRead {
    Ready(Body),
    Stored { text: String, key: CacheKey, cache: SharedCache },
}

impl ContentRead {
    /// The content, decoded (and cached) if it was read as JSON. The error is the decoder's.
    pub(crate) fn load(self) -> Result<Body, String> {
        match self {
            Self::Ready(body) => Ok(body),
            Self::Stored { text, key, cache } => {
                let body: Body = serde_json::from_str(&text)
                    .map_err(|err| format!("{}:{}: {err}", key.0, key.1))?;
                drop(text);
                lock(&cache).put(key, body.clone());
                Ok(body)
            }
        }
    }
}

/// A grid's stored JSON and where each column stands in it, read without decoding the data
/// (a decoded number takes about 30 bytes): answers are written with slices of it.
#[derive(Debug)]
pub(crate) struct SlicedGrid {
    /// The stored JSON.
    pub text: bytes::Bytes,
    /// Each column's name, uid, and where its data (a JSON array) stands in `text`, in order.
    pub columns: Vec<(String, String, std::ops::Range<usize>)>,
}

impl SlicedGrid {
    /// Slices the stored JSON `text` of the grid at `key`.
    pub(crate) fn of(text: String, key: &CacheKey) -> Result<Self, String> {
        let text = bytes::Bytes::from(text.into_bytes());
        let unreadable = |err: &dyn std::fmt::Display| format!("{}:{}: {err}", key.0, key.1);
        let whole = std::str::from_utf8(&text).map_err(|err| unreadable(&err))?;
        let StoredGrid::Grid { columns } =
            serde_json::from_str(whole).map_err(|err| unreadable(&err))?;
        let at = |data: &str| {
            let start = data.as_ptr().addr() - whole.as_ptr().addr();
            start..start + data.len()
        };
        let columns = columns
            .iter()
            .map(|c| (c.name.to_string(), c.uid.to_string(), at(c.data.get())))
            .collect();
        Ok(Self { text, columns })
    }

    /// Column `index`'s data, a JSON array: a slice of the stored JSON.
    pub(crate) fn data(&self, index: usize) -> Option<bytes::Bytes> {
        self.columns.get(index).map(|(_, _, range)| self.text.slice(range.clone()))
    }
}

/// A stored grid read without decoding its data: each column's data stays the stored JSON
/// text.
#[derive(Debug, serde::Deserialize)]
enum StoredGrid<'a> {
    Grid {
        #[serde(borrow)]
        columns: Vec<RawColumn<'a>>,
    },
}

/// A column of a [`StoredGrid`].
#[derive(Debug, serde::Deserialize)]
struct RawColumn<'a> {
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    uid: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    data: &'a serde_json::value::RawValue,
}

/// The cache, locked; a reader that panicked does not poison it for the others.
pub(crate) fn lock(cache: &SharedCache) -> std::sync::MutexGuard<'_, Cache> {
    cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Recently read contents, least recently used first out, holding at most a number of bytes
/// of memory (as [`Body::memory`] estimates it).
#[derive(Debug)]
pub(crate) struct Cache {
    entries: lru::LruCache<CacheKey, (Body, usize)>,
    bytes: usize,
    limit: usize,
}

impl Cache {
    /// A cache of at most `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        Self { entries: lru::LruCache::unbounded(), bytes: 0, limit }
    }

    /// The content of `key`, if cached (it becomes the most recently used).
    pub(crate) fn get(&mut self, key: &CacheKey) -> Option<Body> {
        self.entries.get(key).map(|(body, _)| body.clone())
    }

    /// Keeps `body`, unless it alone is larger than the cache.
    pub(crate) fn put(&mut self, key: CacheKey, body: Body) {
        self.remove(&key);
        let bytes = body.memory();
        if bytes > self.limit {
            return;
        }
        self.bytes += bytes;
        self.entries.put(key, (body, bytes));
        while self.bytes > self.limit {
            let Some((_, (_, size))) = self.entries.pop_lru() else { break };
            self.bytes -= size;
        }
    }

    /// Forgets `key`.
    pub(crate) fn remove(&mut self, key: &CacheKey) {
        if let Some((_, size)) = self.entries.pop(key) {
            self.bytes -= size;
        }
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// Bytes held.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u64) -> CacheKey {
        ("alice".to_owned(), id, 0)
    }

    #[test]
    fn the_cache_keeps_the_recently_used_within_its_bytes() {
        // A document's memory is its length.
        let sized = |bytes: usize| Body::Dashboard { content: "x".repeat(bytes).into() };
        let mut cache = Cache::new(100);
        cache.put(key(1), sized(40));
        cache.put(key(2), sized(40));
        assert!(cache.get(&key(1)).is_some(), "1 is now the most recent");
        cache.put(key(3), sized(40));
        assert!(cache.get(&key(2)).is_none(), "2 was the least recently used");
        assert!(cache.get(&key(1)).is_some() && cache.get(&key(3)).is_some());
        assert_eq!(cache.bytes(), 80);
        cache.put(key(4), sized(101));
        assert!(cache.get(&key(4)).is_none(), "larger than the whole cache");
        cache.put(key(1), sized(10));
        assert_eq!(cache.bytes(), 50, "a replaced entry counts once");
        cache.remove(&key(3));
        cache.clear();
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn links_stay_a_sorted_set() {
        let fid = |n| Fid::new("alice", n).unwrap();
        let mut links: Links = [fid(3), fid(1), fid(3)].into_iter().collect();
        assert_eq!(links.iter().cloned().collect::<Vec<_>>(), [fid(1), fid(3)]);
        assert!(links.insert(fid(2)) && !links.insert(fid(2)));
        assert_eq!(links.iter().cloned().collect::<Vec<_>>(), [fid(1), fid(2), fid(3)]);
        let text = serde_json::to_string(&links).unwrap();
        assert_eq!(text, r#"["alice:1","alice:2","alice:3"]"#, "stored as a list, as the set was");
        assert_eq!(serde_json::from_str::<Links>(&text).unwrap(), links);
    }

    #[test]
    fn a_grid_counts_the_memory_of_its_values() {
        let numbers = (0..1000).map(Value::from).collect();
        let grid =
            Body::grid(vec![StoredColumn { name: "x".into(), uid: "a".into(), data: numbers }]);
        let slot = size_of::<Value>();
        assert!(grid.memory() >= 1000 * slot, "{}", grid.memory());
        assert!(grid.memory() < 1000 * slot + 1024, "{}", grid.memory());
    }

    #[test]
    fn an_outline_keeps_what_listings_read() {
        let figure = serde_json::json!({"data": [{"type": "bar", "xsrc": "bob:3:abcdef"}]});
        let Outline::Plot { trace_types, grids } = Outline::of(&Body::plot(figure)) else {
            panic!("a plot's outline")
        };
        assert_eq!(trace_types, ["bar"]);
        assert_eq!(grids, Links::from_iter([Fid::new("bob", 3).unwrap()]));
        let columns = vec![StoredColumn { name: "x".into(), uid: "aaaaaa".into(), data: vec![] }];
        let outline = Outline::of(&Body::grid(columns));
        assert_eq!(outline.columns(), [ColumnName { name: "x".into(), uid: "aaaaaa".into() }]);
        assert_eq!(outline.kind(), FileType::Grid);
    }
}
