//! Stored records as the API's JSON models, from one requester's point of view.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chart_studio_models::{
    ColumnInfo, ColumnRef, Counted, Document, Fid, File, Folder, FolderChildren, Grid, Plot, User,
    replace_attribute,
};
use serde_json::Value;

use crate::access::View;
use crate::auth::Viewer;
use crate::clock;
use crate::content::SlicedGrid;
use crate::state::Urls;
use crate::store::{Account, Body, ContentRead, FileRecord, Outline, Store, StoreError};
use chart_studio_models::FileType;

/// Makes a file look as listings show it: the real service leaves `references` and
/// `referencers` empty in every listing, even for plots whose figure uses grids (the captured
/// `/v2/plots` page; reference section 5), so clients must find a plot's grids in its figure.
pub(crate) fn as_listed(file: &mut File) {
    file.references = Some(Vec::new());
    file.referencers = Some(Vec::new());
}

impl Urls {
    /// A user's public profile, or, with the number of plots they made, their private one.
    pub(crate) fn user(&self, account: &Account, private: Option<u64>) -> User {
        let mut user = User::new(&account.username);
        user.profile_url = Some(format!("{}/~{}", self.web, account.username));
        user.avatar_url = Some(format!("{}/static/avatar.png", self.web));
        user.background_url = Some(format!("{}/static/background.png", self.web));
        user.bio = Some(String::new());
        user.nickname = Some(String::new());
        user.website = Some(String::new());
        user.date_joined = Some(clock::date_joined(account.date_joined));
        if let Some(plots) = private {
            user.email = Some(format!("{}@localhost", account.username));
            user.is_active = Some(true);
            user.readonly = Some(false);
            user.has_password = Some(true);
            user.is_chart_creator = Some(true);
            user.charts_created_count = Some(plots);
            user.is_dash_creator = Some(false);
            user.dash_created_count = Some(0);
        }
        user
    }

    /// The metadata every file has.
    pub(crate) fn file(
        &self,
        store: &Store,
        account: &Account,
        record: &FileRecord,
        view: View,
    ) -> Result<File, StoreError> {
        let owner = &account.username;
        let id = record.idlocal;
        let fid =
            Fid::new(owner.clone(), id).expect("usernames are checked when accounts are added");
        let kind = record.kind();
        let mut file = File::new(fid.clone(), record.filename.clone(), kind.clone());
        let web = format!("{}/~{owner}/{id}/", self.web);
        let api = |rest: &str| format!("{}/v2/{rest}", self.api);
        file.parent = Some(record.parent);
        file.parented = Some(record.parent != chart_studio_models::HOME_FOLDER);
        file.world_readable = Some(record.world_readable);
        file.title = Some(String::new());
        file.views = Some(record.views);
        file.creation_time = Some(clock::creation_time(record.created));
        file.date_modified = Some(clock::date_modified(record.modified));
        file.web_url = Some(web.clone());
        file.organize_view_url = Some(web);
        file.embed_url = Some(format!("{}/~{owner}/{id}.embed", self.web));
        file.img_url = Some(api(&format!("files/{fid}/image?image_name=list-thumb")));
        file.image_urls = Some(
            ["default", "block-thumb", "list-thumb"]
                .into_iter()
                .map(|size| (size.to_owned(), api(&format!("files/{fid}/image?image_name={size}"))))
                .collect(),
        );
        let parent = if record.parent < 0 {
            api(&format!("folders/home?user={owner}"))
        } else {
            api(&format!("folders/{owner}:{}", record.parent))
        };
        file.api_urls = Some(
            [
                ("files".to_owned(), api(&format!("files/{fid}"))),
                (kind.collection().to_owned(), api(&format!("{}/{fid}", kind.collection()))),
                ("parent".to_owned(), parent),
            ]
            .into_iter()
            .collect(),
        );
        file.preview = Some(String::new());
        // INFER: the read-only `references` / `referencers` list the grids a plot uses and the
        // plots that use a grid, by fid (the captured public list shows them empty).
        let fids = |links: &crate::store::Links| {
            links.iter().map(|f| Value::String(f.to_string())).collect()
        };
        file.references = Some(fids(&record.references));
        file.referencers = Some(fids(&record.referencers));
        file.comments = Some(Counted::default());
        file.stars = Some(Counted::default());
        file.collaborators = Some(Counted::default());
        file.subfolder_count = match record.kind() {
            FileType::Folder => Some(store.subfolder_count(owner, id)?),
            _ => None,
        };
        file.current_user_permission =
            Some(if view == View::Owner { "admin" } else { "read" }.to_owned());
        file.user = Some(self.user(account, None));
        if view == View::Owner {
            file.share_key_enabled = Some(record.share_key_enabled);
            file.share_key = Some(record.share_key.clone());
            file.deleted = Some(record.deleted);
        }
        if let Some(metadata) = &record.metadata {
            file.extra.insert("metadata".to_owned(), metadata.clone());
        }
        Ok(file)
    }

    /// A plot with its figure, which is copied only once the store's lock is released.
    pub(crate) fn plot(
        &self,
        store: &Store,
        account: &Account,
        record: &FileRecord,
        view: View,
    ) -> Result<PlotView, StoreError> {
        let figure = store.body_of(&account.username, record)?;
        let figure = figure.figure().cloned();
        Ok(PlotView { file: self.file(store, account, record, view)?, figure })
    }

    /// A grid with its column names and uids.
    pub(crate) fn grid(
        &self,
        store: &Store,
        account: &Account,
        record: &FileRecord,
        view: View,
    ) -> Result<Grid, StoreError> {
        let mut grid = Grid::new(self.file(store, account, record, view)?);
        if let Outline::Grid { columns } = &record.outline {
            grid.cols = Some(columns.iter().map(|c| ColumnInfo::new(&c.name, &c.uid)).collect());
        }
        Ok(grid)
    }

    /// A dashboard or presentation with its document.
    pub(crate) fn document(
        &self,
        store: &Store,
        account: &Account,
        record: &FileRecord,
        view: View,
    ) -> Result<Document, StoreError> {
        let mut document = Document::new(self.file(store, account, record, view)?);
        let body = store.body_of(&account.username, record)?;
        document.content = body.content().map(|content| content.to_string());
        Ok(document)
    }

    /// A folder with one page of its children.
    pub(crate) fn folder(
        &self,
        store: &Store,
        account: &Account,
        record: &FileRecord,
        view: View,
        children: FolderChildren,
    ) -> Result<Folder, StoreError> {
        Ok(Folder::new(self.file(store, account, record, view)?, children))
    }
}

/// A plot's metadata and its shared figure, taken under the store's lock without copying the
/// figure: [`PlotView::into_plot`] makes the copy after the lock is released.
#[derive(Debug)]
pub(crate) struct PlotView {
    pub file: File,
    figure: Option<Arc<Value>>,
}

impl PlotView {
    /// The plot as the API shows it.
    pub(crate) fn into_plot(self) -> Plot {
        let mut plot = Plot::new(self.file);
        if let Some(figure) = self.figure {
            plot.figure = Some(Arc::unwrap_or_clone(figure));
            plot.autosize = Some(true);
            plot.caption = Some(String::new());
        }
        plot
    }
}

/// One `*src` attribute whose data the viewer may see: where it is, what it refers to, the
/// grid's shared columns, and whether the viewer may read that grid itself.
#[derive(Debug)]
struct Source {
    path: String,
    reference: ColumnRef,
    /// The column's place in its grid.
    column: usize,
    grid_readable: bool,
    /// When the grid last changed.
    grid_modified: i64,
}

/// What a plot's content is made of, gathered under the store's lock without copying or
/// decoding any grid; [`PlotSources::content`] decodes the grids and builds the answer after
/// the lock is released.
///
/// Whoever may read a plot may see the data of its owner's live grids, as a shared chart would
/// show it (INFER); another account's grid shows only while the viewer may read it.
#[derive(Debug)]
pub(crate) struct PlotSources {
    figure: Arc<Value>,
    sources: Vec<Source>,
    /// Each grid the sources draw from, once.
    grids: BTreeMap<Fid, ContentRead>,
}

impl PlotSources {
    /// The figure of plot `owner`:`idlocal` and the columns of it `viewer` may see (`None`:
    /// not a plot).
    pub(crate) fn of(
        store: &Store,
        viewer: &Viewer,
        owner: &str,
        idlocal: u64,
    ) -> Result<Option<Self>, StoreError> {
        let Some(Body::Plot { figure }) = store.body(owner, idlocal)? else { return Ok(None) };
        Self::gather(store, viewer, owner, figure).map(Some)
    }

    /// The figure of a plot of `plot_owner`, and the columns of it `viewer` may see.
    pub(crate) fn gather(
        store: &Store,
        viewer: &Viewer,
        plot_owner: &str,
        figure: Arc<Value>,
    ) -> Result<Self, StoreError> {
        let mut sources = Vec::new();
        let mut grids = BTreeMap::new();
        for (trace_path, trace) in chart_studio_models::traces(&figure) {
            for attribute in chart_studio_models::source_refs(trace) {
                let Some(reference) =
                    attribute.value.as_str().and_then(|text| text.parse::<ColumnRef>().ok())
                else {
                    continue;
                };
                let grid_owner = reference.grid.owner();
                let Some(grid) = store.column_grid(&reference)? else { continue };
                if !crate::access::may_serve_data(viewer, plot_owner, grid_owner, &grid) {
                    continue;
                }
                let Some(column) =
                    grid.outline.columns().iter().position(|c| c.uid == reference.uid)
                else {
                    continue;
                };
                if !grids.contains_key(&reference.grid) {
                    let Some(read) = store.read(grid_owner, grid.idlocal)? else { continue };
                    grids.insert(reference.grid.clone(), read);
                }
                sources.push(Source {
                    path: format!("{trace_path}.{}", attribute.path),
                    grid_readable: crate::access::can_read(viewer, grid_owner, &grid, None),
                    grid_modified: grid.modified,
                    reference,
                    column,
                });
            }
        }
        Ok(Self { figure, sources, grids })
    }

    /// The figure with its data inlined, as [`PlotSources::content`] gives it, written as the
    /// pieces of a JSON answer: the figure's own JSON around each column's data
    /// ([`PlotSources::placeheld`]).
    pub(crate) fn inlined_pieces(self) -> Result<Vec<Bytes>, StoreError> {
        let json_error = |err: serde_json::Error| StoreError::Storage(err.to_string());
        let Placeheld { figure, data } = self.placeheld()?;
        let text = serde_json::to_string(&figure).map_err(json_error)?;
        let mut slots = Vec::with_capacity(data.len());
        for (placeholder, data) in data {
            slots.push((serde_json::to_string(&[placeholder]).map_err(json_error)?, vec![data]));
        }
        Ok(spliced(text, slots))
    }

    /// The figure with its data inlined as placeholders, and that data as JSON: a slice of its
    /// grid's stored JSON (the grids are never decoded), or written from decoded columns when a
    /// change or the cache holds them.
    pub(crate) fn placeheld(self) -> Result<Placeheld, StoreError> {
        let mut grids = BTreeMap::new();
        for (fid, read) in self.grids {
            let data = match read {
                ContentRead::Ready(Body::Grid { columns }) => GridData::Decoded(columns),
                ContentRead::Ready(_) => continue,
                ContentRead::Stored { text, key, .. } => {
                    GridData::Sliced(SlicedGrid::of(text, &key).map_err(StoreError::Storage)?)
                }
            };
            grids.insert(fid, data);
        }
        // Each placeholder is a string no figure holds (a random nonce).
        let nonce = Store::random_key();
        let mut figure = Arc::unwrap_or_clone(self.figure);
        let mut placed = BTreeMap::new();
        for source in self.sources {
            let data = match grids.get(&source.reference.grid) {
                Some(GridData::Sliced(grid)) => grid.data(source.column),
                Some(GridData::Decoded(columns)) => match columns.get(source.column) {
                    Some(column) => Some(
                        serde_json::to_vec(&column.data)
                            .map_err(|err| StoreError::Storage(err.to_string()))?
                            .into(),
                    ),
                    None => None,
                },
                None => None,
            };
            let Some(data) = data else { continue };
            let placeholder = format!("\u{0}{nonce}:{}\u{0}", placed.len());
            let key = inlined_key(&source.path);
            let stand_in = Value::Array(vec![Value::String(placeholder.clone())]);
            replace_attribute(&mut figure, &source.path, &key, stand_in);
            placed.insert(placeholder, data);
        }
        Ok(Placeheld { figure, data: placed })
    }

    /// The figure as stored: `*src` references, no data.
    pub(crate) fn figure(&self) -> &Value {
        &self.figure
    }

    /// What the content depends on besides the plot itself: each column the viewer sees, with
    /// when its grid last changed.
    pub(crate) fn revision(&self) -> String {
        self.sources
            .iter()
            .map(|source| format!("{}@{};", source.reference, source.grid_modified))
            .collect()
    }

    /// The figure; with `inline`, every `*src` reference replaced by the data it points to;
    /// with `map_unreadable`, a `map_data` object holding the data of grids the viewer cannot
    /// read.
    pub(crate) fn content(self, inline: bool, map_unreadable: bool) -> Result<Value, StoreError> {
        let mut columns = BTreeMap::new();
        for (grid, read) in self.grids {
            if let Body::Grid { columns: stored } = read.load().map_err(StoreError::Storage)? {
                columns.insert(grid, stored);
            }
        }
        let mut figure = Arc::unwrap_or_clone(self.figure);
        let mut mapped = serde_json::Map::new();
        let wanted = |source: &Source| inline || (map_unreadable && !source.grid_readable);
        // The last source of a column takes its data, unless the grid is shared (cached);
        // the others copy it.
        let mut uses: BTreeMap<(Fid, usize), usize> = BTreeMap::new();
        for source in self.sources.iter().filter(|source| wanted(source)) {
            *uses.entry((source.reference.grid.clone(), source.column)).or_default() += 1;
        }
        for source in self.sources.into_iter().filter(|source| wanted(source)) {
            let uses_left = uses.entry((source.reference.grid.clone(), source.column)).or_default();
            *uses_left = uses_left.saturating_sub(1);
            let Some(grid) = columns.get_mut(&source.reference.grid) else { continue };
            let data = match (*uses_left, Arc::get_mut(grid)) {
                (0, Some(grid)) => {
                    grid.get_mut(source.column).map(|column| std::mem::take(&mut column.data))
                }
                _ => grid.get(source.column).map(|column| column.data.clone()),
            };
            let Some(data) = data else { continue };
            let data = Value::Array(data);
            if inline {
                replace_attribute(&mut figure, &source.path, &inlined_key(&source.path), data);
            } else {
                mapped.insert(source.reference.to_string(), data);
            }
        }
        if !mapped.is_empty()
            && let Value::Object(object) = &mut figure
        {
            object.insert("map_data".to_owned(), Value::Object(mapped));
        }
        Ok(figure)
    }
}

/// A plot's figure with each column's data standing as a placeholder: a one-item array
/// holding a string no figure holds.
pub(crate) struct Placeheld {
    /// The figure.
    pub figure: Value,
    /// Each placeholder's data, a JSON array.
    pub data: BTreeMap<String, Bytes>,
}

impl Placeheld {
    /// The data `value` stands for, when it is a placeholder.
    pub(crate) fn data_of(&self, value: &Value) -> Option<&Bytes> {
        match value.as_array().map(Vec::as_slice) {
            Some([Value::String(placeholder)]) => self.data.get(placeholder),
            _ => None,
        }
    }
}

/// A grid's columns as a plot's content reads them.
enum GridData {
    Sliced(SlicedGrid),
    Decoded(Arc<Vec<crate::store::StoredColumn>>),
}

/// The attribute that holds the data a `*src` reference at `path` points to: `x` for `...xsrc`.
fn inlined_key(path: &str) -> String {
    path.rsplit('.').next().unwrap_or_default().trim_end_matches("src").to_owned()
}

/// `text` with each slot's placeholder (found once, or not at all) replaced by its pieces, as
/// pieces: slices of `text` around the slots' own pieces, which are not copied.
pub(crate) fn spliced(
    text: String,
    slots: impl IntoIterator<Item = (String, Vec<Bytes>)>,
) -> Vec<Bytes> {
    let mut found: Vec<(usize, usize, Vec<Bytes>)> = slots
        .into_iter()
        .filter_map(|(placeholder, pieces)| {
            text.find(&placeholder).map(|at| (at, at + placeholder.len(), pieces))
        })
        .collect();
    found.sort_by_key(|(at, ..)| *at);
    let text = Bytes::from(text);
    let mut spliced = Vec::with_capacity(found.len() * 2 + 1);
    let mut written = 0;
    for (at, end, pieces) in found {
        spliced.push(text.slice(written..at));
        spliced.extend(pieces);
        written = end;
    }
    spliced.push(text.slice(written..));
    spliced
}

/// An answer of type `content_type` written in `pieces`, one after the other, with its length.
pub(crate) fn in_pieces(content_type: &'static str, pieces: Vec<Bytes>) -> Response {
    let length = pieces.iter().map(Bytes::len).sum::<usize>();
    let stream =
        futures_util::stream::iter(pieces.into_iter().map(Ok::<_, std::convert::Infallible>));
    (
        [
            (http::header::CONTENT_TYPE, content_type.to_owned()),
            (http::header::CONTENT_LENGTH, length.to_string()),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// A JSON answer written in `pieces` ([`in_pieces`]).
pub(crate) fn json_in_pieces(pieces: Vec<Bytes>) -> Response {
    in_pieces("application/json", pieces)
}

/// Runs `work` on a thread for blocking work, so that it holds up no async worker.
pub(crate) async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| StoreError::Storage(format!("a blocking task stopped: {err}")))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use chart_studio_models::HOME_FOLDER;

    use super::PlotSources;
    use crate::auth::Viewer;
    use crate::content::Body;
    use crate::db::Db;
    use crate::store::{NewFile, Store, StoredColumn};

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            "[a-z\"\\\\\u{0}\u{e9}\n]{0,6}".prop_map(Value::from),
        ]
    }

    /// A column that several attributes read is in each of them, whether the grid is read
    /// from the database (the last attribute takes the decoded data) or from a change, and
    /// whether or not the cache holds it.
    #[test]
    fn a_column_read_by_several_attributes_is_in_each() {
        for cache_bytes in [0, 1 << 20] {
            let (mut store, _) = Store::open(Db::in_memory().unwrap(), 1, cache_bytes).unwrap();
            store.add_account("alice", "alice-key").unwrap();
            let column = StoredColumn {
                name: "c".into(),
                uid: "u0001".into(),
                data: vec![json!(1), json!(2)],
            };
            let grid = store
                .create("alice", NewFile::named("g", HOME_FOLDER, true, Body::grid(vec![column])))
                .unwrap();
            let src = format!("alice:{grid}:u0001");
            let figure = json!({"data": [{"xsrc": src, "ysrc": src, "marker": {"colorsrc": src}}]});
            let plot = store
                .create("alice", NewFile::named("p", HOME_FOLDER, true, Body::plot(figure)))
                .unwrap();
            for committed in [false, true, true] {
                if committed {
                    store.commit().unwrap();
                }
                let sources =
                    PlotSources::of(&store, &Viewer::Anonymous, "alice", plot).unwrap().unwrap();
                let trace = sources.content(true, false).unwrap()["data"][0].clone();
                let data = json!([1, 2]);
                assert_eq!(
                    (&trace["x"], &trace["y"], &trace["marker"]["color"]),
                    (&data, &data, &data),
                    "cache {cache_bytes}, committed {committed}"
                );
            }
        }
    }

    proptest! {
        /// A plot's content with its data inlined, written in pieces around slices of its
        /// grid's stored JSON (or its decoded columns, before a commit), is the content
        /// written whole, byte for byte; strings in the figure that look like the placeholders
        /// change nothing.
        #[test]
        fn inlined_pieces_write_the_inlined_content(
            columns in proptest::collection::vec(proptest::collection::vec(value(), 0..6), 1..4),
            refs in proptest::collection::vec((0usize..4, 0usize..3, "[a-z\u{0}:0-9]{0,8}"), 0..5),
            committed in any::<bool>(),
        ) {
            let (mut store, _) = Store::open(Db::in_memory().unwrap(), 1, 0).unwrap();
            store.add_account("alice", "alice-key").unwrap();
            let stored: Vec<StoredColumn> = columns
                .into_iter()
                .enumerate()
                .map(|(n, data)| StoredColumn { name: format!("c{n}"), uid: format!("u{n:05}"), data })
                .collect();
            let count = stored.len();
            let grid = store.create("alice", NewFile::named("g", HOME_FOLDER, true, Body::grid(stored))).unwrap();
            let attributes = ["xsrc", "ysrc", "textsrc"];
            let traces: Vec<Value> = refs
                .iter()
                .map(|(column, attribute, text)| {
                    let mut trace = json!({"type": "scatter", "name": text});
                    trace[attributes[*attribute]] = json!(format!("alice:{grid}:u{:05}", column % count));
                    trace["marker"] = json!({"colorsrc": format!("alice:{grid}:u{:05}", (column + 1) % count)});
                    trace
                })
                .collect();
            let figure = json!({"data": traces, "layout": {"title": "\u{0}0:0\u{0}"}});
            let plot = store.create("alice", NewFile::named("p", HOME_FOLDER, true, Body::plot(figure))).unwrap();
            let sources = |store: &Store| {
                PlotSources::of(store, &Viewer::Anonymous, "alice", plot).unwrap().unwrap()
            };
            // Written whole from the columns as they were given (decoding stored JSON may
            // round a float's last digit; the pieces keep it as stored).
            let whole = serde_json::to_string(&sources(&store).content(true, false).unwrap());
            if committed {
                store.commit().unwrap();
            }
            let pieces = sources(&store).inlined_pieces().unwrap().concat();
            prop_assert_eq!(String::from_utf8(pieces).unwrap(), whole.unwrap());
        }
    }
}
