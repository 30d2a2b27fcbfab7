//! `/v2/plots`: the public list and the feed (cursor pages), and plot creation.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chart_studio_models::{Created, CursorPage, Plot};
use http::HeaderMap;

use super::common::{Params, check_figure, request_url};
use crate::access::View;
use crate::auth::Viewer;
use crate::body::Payload;
use crate::clock;
use crate::failure::Failure;
use crate::pages::Cursor;
use crate::state::Shared;
use crate::store::{Body, Store};

/// Plots per cursor page, as on the real server.
const PAGE_SIZE: usize = 10;

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v2/plots", get(|s, q, u, h| list(s, q, u, h, false)).post(create))
        .route("/v2/plots/feed", get(|s, q, u, h| list(s, q, u, h, true)))
}

/// One public plot and its place in the list order.
struct Entry {
    plot: Plot,
    created: i64,
    views: u64,
}

async fn list(
    State(app): State<Shared>,
    Query(params): Params,
    uri: http::Uri,
    headers: HeaderMap,
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
    let mut entries: Vec<Entry> = {
        let store = app.store();
        public_plots(&app, &store, feed, min_quality, max_quality)
    };
    match by_views {
        Some(most_first) => entries.sort_by_key(|e| {
            if most_first { (u64::MAX - e.views, -e.created) } else { (e.views, -e.created) }
        }),
        None => entries.sort_by_key(|e| -e.created),
    }
    let position = |index: usize, entry: &Entry| match by_views {
        Some(_) => index.to_string(),
        None => drf_time(entry.created),
    };
    let cursor = params
        .get("cursor")
        .map(|c| Cursor::decode(c).ok_or_else(|| Failure::bad_field("cursor", "Invalid cursor")))
        .transpose()?;
    let index_of = |p: &str| -> usize {
        match by_views {
            Some(_) => p.parse::<usize>().map_or(0, |i| i.saturating_add(1)),
            None => entries
                .iter()
                .position(|e| drf_time(e.created).as_str() < p)
                .unwrap_or(entries.len()),
        }
    };
    let (start, end) = match &cursor {
        None => (0, PAGE_SIZE.min(entries.len())),
        Some(Cursor::After(p)) => {
            let start = index_of(p).min(entries.len());
            (start, (start + PAGE_SIZE).min(entries.len()))
        }
        Some(Cursor::Before(p)) => {
            let end = match by_views {
                Some(_) => p.parse::<usize>().unwrap_or(0),
                None => entries
                    .iter()
                    .position(|e| drf_time(e.created).as_str() <= p.as_str())
                    .unwrap_or(entries.len()),
            }
            .min(entries.len());
            (end.saturating_sub(PAGE_SIZE), end)
        }
    };
    let url = request_url(&app, &headers, &uri);
    let link = |cursor: Cursor| url.with("cursor", Some(&cursor.encode()));
    let next = (end < entries.len() && end > start)
        .then(|| link(Cursor::After(position(end - 1, &entries[end - 1]))));
    let previous = (start > 0).then(|| link(Cursor::Before(position(start, &entries[start]))));
    let results = entries.drain(start..end).map(|e| e.plot).collect();
    Ok(Json(CursorPage::new(results, next, previous)))
}

/// A creation time as the real cursors spell it: `2019-06-17 22:53:08.896500+00:00`.
fn drf_time(micros: i64) -> String {
    clock::creation_time(micros).replace('T', " ").replace('Z', "+00:00")
}

fn public_plots(
    app: &Shared,
    store: &Store,
    feed: bool,
    min_quality: Option<u32>,
    max_quality: Option<u32>,
) -> Vec<Entry> {
    let mut found = Vec::new();
    for account in store.accounts() {
        for record in account.files.values() {
            let wanted = matches!(record.body, Body::Plot { .. })
                && record.world_readable
                && !record.deleted
                && (!feed || record.featured)
                && min_quality.is_none_or(|q| record.quality >= q)
                && max_quality.is_none_or(|q| record.quality <= q);
            if wanted {
                let mut plot = app.urls.plot(account, record, View::Reader);
                crate::render::as_listed(&mut plot.file);
                if feed {
                    plot.file.comments = None;
                    plot.file.stars = None;
                    plot.file.references = None;
                    plot.file.referencers = None;
                }
                found.push(Entry { plot, created: record.created, views: record.views });
            }
        }
    }
    found
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
    let mut store = app.store();
    check_figure(&store, &viewer, &figure)?;
    let idlocal = store.create(&owner, body.new_file(Body::Plot { figure })?)?;
    let account = store.account(&owner).ok_or(Failure::NotFound)?;
    let record = account.files.get(&idlocal).ok_or(Failure::NotFound)?;
    Ok(Json(Created::new(app.urls.plot(account, record, View::Owner))))
}
