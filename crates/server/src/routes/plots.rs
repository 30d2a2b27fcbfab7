//! `/v2/plots`: the public list and the feed (cursor pages), and plot creation.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chart_studio_models::{Created, CursorPage, Plot};

use super::common::{Params, check_figure, created, request_url};
use crate::access::View;
use crate::auth::Viewer;
use crate::body::Payload;
use crate::clock;
use crate::failure::Failure;
use crate::pages::Cursor;
use crate::render::PlotView;
use crate::state::Shared;
use crate::store::{Account, Body, FileRecord, Store, StoreError};

/// Plots per cursor page, as on the real server.
const PAGE_SIZE: usize = 10;

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v2/plots", get(|s, q, u| list(s, q, u, false)).post(create))
        .route("/v2/plots/feed", get(|s, q, u| list(s, q, u, true)))
}

/// One public plot's place in the list order.
struct Entry<'a> {
    account: &'a Account,
    record: FileRecord,
}

async fn list(
    State(app): State<Shared>,
    Query(params): Params,
    uri: http::Uri,
    feed: bool,
) -> Result<Json<CursorPage<Plot>>, Failure> {
    let quality = |name: &str| -> Result<Option<u32>, Failure> {
        params
            .get(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| Failure::bad_field(name, format!("{name} must be a whole number")))
            })
            .transpose()
    };
    let (min_quality, max_quality) = (quality("min_quality")?, quality("max_quality")?);
    let by_views = match params.get("order_by").map(String::as_str) {
        None => None,
        Some("-views") => Some(true),
        Some("views") if feed => Some(false),
        Some(other) => {
            return Err(Failure::bad_field(
                "order_by",
                format!("ordering by {other:?} is not supported; use -views"),
            ));
        }
    };
    let cursor = params
        .get("cursor")
        .map(|c| Cursor::decode(c).ok_or_else(|| Failure::bad_field("cursor", "Invalid cursor")))
        .transpose()?;
    let url = request_url(&app, &uri);
    let link = |cursor: Cursor| url.with("cursor", Some(&cursor.encode()));
    let (page, next, previous) = {
        let store = app.store();
        let mut entries = public_plots(&store, feed, min_quality, max_quality)?;
        match by_views {
            Some(most_first) => entries.sort_by_key(|e| {
                let (views, created) = (e.record.views, e.record.created);
                if most_first { (u64::MAX - views, -created) } else { (views, -created) }
            }),
            None => entries.sort_by_key(|e| -e.record.created),
        }
        let order = Order { by_views: by_views.is_some() };
        let (start, end) = order.page(&entries, cursor.as_ref());
        let next = (start < end && end < entries.len())
            .then(|| link(Cursor::After(order.position(&entries, end - 1))));
        let previous = (start > 0 && start < entries.len())
            .then(|| link(Cursor::Before(order.position(&entries, start))));
        // Only the page is taken, and its figures are copied once the lock is released.
        let page: Vec<PlotView> = entries[start..end]
            .iter()
            .map(|e| app.urls.plot(&store, e.account, &e.record, View::Reader))
            .collect::<Result<_, _>>()?;
        (page, next, previous)
    };
    let results = page
        .into_iter()
        .map(|view| {
            let mut plot = view.into_plot();
            crate::render::as_listed(&mut plot.file);
            if feed {
                plot.file.comments = None;
                plot.file.stars = None;
                plot.file.references = None;
                plot.file.referencers = None;
            }
            plot
        })
        .collect();
    Ok(Json(CursorPage::new(results, next, previous)))
}

/// How positions in the list are spelled in cursors: by creation time (as the real cursors
/// are), or by index when the list is ordered by views (which are not unique).
struct Order {
    by_views: bool,
}

impl Order {
    /// The position of entry `index`, as a cursor spells it.
    fn position(&self, entries: &[Entry<'_>], index: usize) -> String {
        if self.by_views { index.to_string() } else { drf_time(entries[index].record.created) }
    }

    /// The index of the first entry after position `p` (`inclusive`: at or after it).
    fn index_after(&self, entries: &[Entry<'_>], p: &str, inclusive: bool) -> usize {
        let index = if self.by_views {
            p.parse::<usize>().map_or(0, |i| if inclusive { i } else { i.saturating_add(1) })
        } else {
            entries
                .iter()
                .position(|e| {
                    let at = drf_time(e.record.created);
                    if inclusive { at.as_str() <= p } else { at.as_str() < p }
                })
                .unwrap_or(entries.len())
        };
        index.min(entries.len())
    }

    /// The page a cursor asks for, as `start..end` (empty past either end, never out of range).
    fn page(&self, entries: &[Entry<'_>], cursor: Option<&Cursor>) -> (usize, usize) {
        match cursor {
            None => (0, PAGE_SIZE.min(entries.len())),
            Some(Cursor::After(p)) => {
                let start = self.index_after(entries, p, false);
                (start, (start + PAGE_SIZE).min(entries.len()))
            }
            Some(Cursor::Before(p)) => {
                let end = self.index_after(entries, p, true);
                (end.saturating_sub(PAGE_SIZE), end)
            }
        }
    }
}

/// A creation time as the real cursors spell it: `2019-06-17 22:53:08.896500+00:00`.
fn drf_time(micros: i64) -> String {
    clock::creation_time(micros).replace('T', " ").replace('Z', "+00:00")
}

/// The live public plots (featured ones for the feed) within the quality bounds, unordered.
fn public_plots(
    store: &Store,
    feed: bool,
    min_quality: Option<u32>,
    max_quality: Option<u32>,
) -> Result<Vec<Entry<'_>>, StoreError> {
    let plots = store.public_plots()?.into_iter().filter(|(_, record)| {
        (!feed || record.featured)
            && min_quality.is_none_or(|q| record.quality >= q)
            && max_quality.is_none_or(|q| record.quality <= q)
    });
    let entries = plots.filter_map(|(owner, record)| {
        store.account(&owner).map(|account| Entry { account, record })
    });
    Ok(entries.collect())
}

/// `POST /v2/plots`: the figure may hold only references to grid columns the creator can read.
async fn create(
    State(app): State<Shared>,
    viewer: Viewer,
    body: Payload,
) -> Result<Json<Created<Plot>>, Failure> {
    let owner = viewer.require()?.to_owned();
    let figure = body
        .json_or_text("figure")?
        .ok_or_else(|| Failure::bad_field("figure", "This field is required."))?;
    let plot = {
        let mut store = app.store();
        check_figure(&store, &viewer, &figure)?;
        let idlocal = store.create(&owner, body.new_file(Body::plot(figure))?)?;
        let (account, record) = created(&store, &owner, idlocal)?;
        app.urls.plot(&store, account, &record, View::Owner)?
    };
    Ok(Json(Created::new(plot.into_plot())))
}
