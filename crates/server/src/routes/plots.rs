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
use crate::db::{PublicPlots, Window};
use crate::failure::Failure;
use crate::pages::Cursor;
use crate::state::Shared;
use crate::store::{Body, FileRecord, Store, StoreError};

/// Plots per cursor page, as on the real server.
const PAGE_SIZE: usize = 10;

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v2/plots", get(|s, q, u| list(s, q, u, false)).post(create))
        .route("/v2/plots/feed", get(|s, q, u| list(s, q, u, true)))
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
    let views_order = match params.get("order_by").map(String::as_str) {
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
    let plots = PublicPlots { featured: feed, min_quality, max_quality };
    let url = request_url(&app, &uri);
    let link = |cursor: Cursor| url.with("cursor", Some(&cursor.encode()));
    let (plots, next, previous) = match views_order {
        Some(most_first) => by_views(&app, plots, most_first, cursor.as_ref()).await?,
        None => newest_first(&app.store(), &plots, cursor.as_ref())?,
    };
    let (page, next, previous) = {
        let store = app.store();
        // Only the page is taken, and its figures are copied once the lock is released.
        let mut page = Vec::with_capacity(plots.len());
        for (owner, record) in &plots {
            // A plot made private or trashed since it was listed is left out.
            let public = record.world_readable && !record.deleted;
            if let Some(account) = store.account(owner).filter(|_| public) {
                page.push(app.urls.plot(&store, account, record, View::Reader)?);
            }
        }
        (page, next.map(link), previous.map(link))
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

/// A page of plots and the cursors of the pages after and before it.
type Paged = (Vec<(String, FileRecord)>, Option<Cursor>, Option<Cursor>);

/// The page of `plots` newest first that `cursor` asks for (empty past either end). Cursors
/// spell positions as creation times, as the real ones do.
fn newest_first(
    store: &Store,
    plots: &PublicPlots,
    cursor: Option<&Cursor>,
) -> Result<Paged, Failure> {
    let time = |position: &str| {
        clock::parse_creation_time(&position.replacen(' ', "T", 1))
            .ok_or_else(|| Failure::bad_field("cursor", "Invalid cursor"))
    };
    // Whether a plot lies in `window`: its key is enough.
    let any = |window| {
        let keys = store.committed().public_page(plots, window, 1);
        keys.map(|keys| !keys.is_empty()).map_err(|err| StoreError::Storage(format!("{err:#}")))
    };
    // One plot more than a page tells whether another page follows in the window's order.
    let (window, other_side) = match cursor {
        None => (Window::Older(i64::MAX, true), None),
        Some(Cursor::After(position)) => {
            let at = time(position)?;
            (Window::Older(at, false), Some(Window::Newer(at, true)))
        }
        Some(Cursor::Before(position)) => {
            let at = time(position)?;
            (Window::Newer(at, false), Some(Window::Older(at, true)))
        }
    };
    let mut page = store.public_plots(plots, window, PAGE_SIZE as u64 + 1)?;
    let further = page.len() > PAGE_SIZE;
    page.truncate(PAGE_SIZE);
    let back = match other_side {
        Some(window) if !page.is_empty() => any(window)?,
        _ => false,
    };
    let (older, newer) = match window {
        Window::Newer(..) => {
            page.reverse();
            (back, further)
        }
        _ => (further, back),
    };
    let position = |(_, record): &(String, FileRecord)| drf_time(record.created);
    let next = page.last().filter(|_| older).map(|last| Cursor::After(position(last)));
    let previous = page.first().filter(|_| newer).map(|first| Cursor::Before(position(first)));
    Ok((page, next, previous))
}

/// The page of `plots` by views (the most first, when `most_first`), then newest first, that
/// `cursor` asks for (empty past either end). Ordering by views reads every plot of the list
/// (there is no index by views): that is done without the store's lock ([`App::long_read`]).
async fn by_views(
    app: &Shared,
    plots: PublicPlots,
    most_first: bool,
    cursor: Option<&Cursor>,
) -> Result<Paged, Failure> {
    let len = app.long_read(move |db| db.public_count(&plots)).await?;
    let (start, end) = views_window(len, cursor);
    let window = Window::Views(most_first, start);
    let keys = app.long_read(move |db| db.public_page(&plots, window, end - start)).await?;
    let (next, previous) = views_links(len, (start, end));
    Ok((app.store().records(keys)?, next, previous))
}

/// The window `start..end` of a list of `len` plots by views that `cursor` asks for. Views are
/// not unique, so cursors spell positions as indexes in this order.
fn views_window(len: u64, cursor: Option<&Cursor>) -> (u64, u64) {
    let size = PAGE_SIZE as u64;
    let index = |position: &str| position.parse::<u64>().ok();
    match cursor {
        None => (0, size.min(len)),
        Some(Cursor::After(position)) => {
            let start = index(position).map_or(0, |i| i.saturating_add(1)).min(len);
            (start, start.saturating_add(size).min(len))
        }
        Some(Cursor::Before(position)) => {
            let end = index(position).unwrap_or(0).min(len);
            (end.saturating_sub(size), end)
        }
    }
}

/// The cursors of the pages after and before window `start..end` of a list of `len` plots by
/// views.
fn views_links(len: u64, (start, end): (u64, u64)) -> (Option<Cursor>, Option<Cursor>) {
    let next = (start < end && end < len).then(|| Cursor::After((end - 1).to_string()));
    let previous = (start > 0 && start < len).then(|| Cursor::Before(start.to_string()));
    (next, previous)
}

/// A creation time as the real cursors spell it: `2019-06-17 22:53:08.896500+00:00`.
fn drf_time(micros: i64) -> String {
    clock::creation_time(micros).replace('T', " ").replace('Z', "+00:00")
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Cursor, PAGE_SIZE, Paged, newest_first, views_links, views_window};
    use crate::db::{Db, PublicPlots, Window};
    use crate::store::{NewFile, Store};

    /// A plot: public, trashed, featured, quality, views.
    type Plot = (bool, bool, bool, u32, u64);

    /// Plots by (owner, idlocal).
    type Keys = Vec<(String, u64)>;

    /// A store holding `plots`, by two owners, with creation times in an order other than
    /// their numbers'; and each plot's (owner, idlocal).
    fn store_of(plots: &[Plot]) -> (Store, Keys) {
        let (mut store, _) = Store::open(Db::in_memory().unwrap(), 1, 0).unwrap();
        store.add_account("alice", "alice-key").unwrap();
        store.add_account("bob", "bob-key-1").unwrap();
        let mut keys = Vec::new();
        for (n, &(public, trashed, featured, quality, views)) in plots.iter().enumerate() {
            let owner = if n % 3 == 0 { "bob" } else { "alice" };
            let file = NewFile {
                filename: Some(format!("p{n}")),
                parent: None,
                parent_path: None,
                world_readable: public,
                share_key_enabled: false,
                metadata: None,
                body: crate::content::Body::plot(serde_json::json!({"data": []})),
                idlocal: None,
            };
            let idlocal = store.create(owner, file).unwrap();
            // Times from 1 s on, in an order the numbers do not follow.
            let created = 1_000_000 + i64::try_from((n * 7919) % 1009).unwrap() * 1000;
            store.set_seed_fields(owner, idlocal, views, quality, featured, Some(created)).unwrap();
            if trashed {
                store.set_trashed(owner, idlocal, true).unwrap();
            }
            keys.push((owner.to_owned(), idlocal));
        }
        store.commit().unwrap();
        (store, keys)
    }

    /// Every page from the first on, by next links; then every page back from the last, by
    /// previous links: both as one list.
    fn walk(page: impl Fn(Option<&Cursor>) -> Paged) -> (Keys, Keys) {
        let keys = |paged: &Paged| -> Keys {
            paged.0.iter().map(|(owner, record)| (owner.clone(), record.idlocal)).collect()
        };
        let (mut forward, mut pages) = (Vec::new(), vec![page(None)]);
        while let Some(next) = pages.last().and_then(|p| p.1.clone()) {
            assert!(pages.len() < 1000, "the pages end");
            pages.push(page(Some(&next)));
        }
        for paged in &pages {
            assert!(paged.0.len() <= PAGE_SIZE);
            forward.extend(keys(paged));
        }
        let mut backward = keys(pages.last().unwrap());
        let mut at = pages.last().unwrap().2.clone();
        while let Some(previous) = at {
            let paged = page(Some(&previous));
            assert!(!paged.0.is_empty(), "a previous link leads to plots");
            backward.splice(0..0, keys(&paged));
            at = paged.2;
        }
        (forward, backward)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The public list and the feed, read page by page in every order with every filter,
        /// both ways, hold exactly the live public plots the filters keep, in order.
        #[test]
        fn pages_hold_every_plot_the_filters_keep_in_order(
            plots in proptest::collection::vec(
                (any::<bool>(), proptest::bool::weighted(0.2), any::<bool>(), 0u32..3, 0u64..4),
                0..35,
            ),
            featured in any::<bool>(),
            min_quality in proptest::option::of(0u32..3),
            max_quality in proptest::option::of(0u32..3),
        ) {
            let (store, keys) = store_of(&plots);
            let filter = PublicPlots { featured, min_quality, max_quality };
            let kept: Vec<usize> = (0..plots.len())
                .filter(|&n| {
                    let (public, trashed, is_featured, quality, _) = plots[n];
                    public && !trashed && (!featured || is_featured)
                        && min_quality.is_none_or(|q| quality >= q)
                        && max_quality.is_none_or(|q| quality <= q)
                })
                .collect();
            let created = |n: usize| (n * 7919) % 1009;
            let in_order = |mut order: Vec<usize>, key: &dyn Fn(usize) -> (i64, i64)| {
                order.sort_by_key(|&n| key(n));
                order.into_iter().map(|n| keys[n].clone()).collect::<Vec<_>>()
            };
            let newest = in_order(kept.clone(), &|n| (0, -(created(n) as i64)));
            let (forward, backward) = walk(|c| newest_first(&store, &filter, c).unwrap());
            prop_assert_eq!(&forward, &newest);
            prop_assert_eq!(&backward, &newest);
            for most_first in [true, false] {
                let views = |n: usize| i64::try_from(plots[n].4).unwrap();
                let sign = if most_first { -1 } else { 1 };
                let expected = in_order(kept.clone(), &|n| (sign * views(n), -(created(n) as i64)));
                // As the route reads it, from the store.
                let by_views = |cursor: Option<&Cursor>| -> Paged {
                    let len = store.committed().public_count(&filter).unwrap();
                    let (start, end) = views_window(len, cursor);
                    let window = Window::Views(most_first, start);
                    let page = store.public_plots(&filter, window, end - start).unwrap();
                    let (next, previous) = views_links(len, (start, end));
                    (page, next, previous)
                };
                let (forward, backward) = walk(by_views);
                prop_assert_eq!(&forward, &expected);
                prop_assert_eq!(&backward, &expected);
            }
        }
    }
}
