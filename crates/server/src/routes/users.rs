//! `/v2/users` and `/v2/search`.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chart_studio_models::{File, NumberedPage, User};

use super::common::{Params, paging, render_page, request_url};
use crate::auth::Viewer;
use crate::db::Search;
use crate::failure::Failure;
use crate::pages::numbered_window;
use crate::state::Shared;

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v2/users/current", get(current))
        .route("/v2/users/{username}", get(by_name))
        .route("/v2/search", get(search))
}

async fn current(State(app): State<Shared>, viewer: Viewer) -> Result<Json<User>, Failure> {
    let name = viewer.require()?;
    let store = app.store();
    let account = store.account(name).ok_or(Failure::NotFound)?;
    let plots = store.file_count(name, Some(chart_studio_models::FileType::Plot))?;
    Ok(Json(app.urls.user(account, Some(plots))))
}

async fn by_name(
    State(app): State<Shared>,
    viewer: Viewer,
    Path(username): Path<String>,
) -> Result<Json<User>, Failure> {
    let store = app.store();
    let account = store.account(&username).ok_or(Failure::NotFound)?;
    let plots = match viewer.is(&username) {
        true => Some(store.file_count(&username, Some(chart_studio_models::FileType::Plot))?),
        false => None,
    };
    Ok(Json(app.urls.user(account, plots)))
}

/// The most terms a search query may have (INFER: bounds the work of one search).
const MAX_QUERY_TERMS: usize = 16;
/// The longest search query, in bytes.
const MAX_QUERY_BYTES: usize = 512;

/// `q` words match filenames (case-insensitive); `plottype:TYPE` keeps plots with such a trace;
/// `filetype:TYPE` keeps one kind of file. Only files the requester may read are found.
async fn search(
    State(app): State<Shared>,
    viewer: Viewer,
    Query(params): Params,
    uri: http::Uri,
) -> Result<Json<NumberedPage<File>>, Failure> {
    let query =
        params.get("q").ok_or_else(|| Failure::bad_field("q", "q is required"))?.to_lowercase();
    if query.len() > MAX_QUERY_BYTES || query.split_whitespace().count() > MAX_QUERY_TERMS {
        return Err(Failure::bad_field(
            "q",
            format!("a query may have at most {MAX_QUERY_TERMS} terms and {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let (mut words, mut plot_types, mut file_types) = (Vec::new(), Vec::new(), Vec::new());
    for token in query.split_whitespace() {
        if let Some(kind) = token.strip_prefix("plottype:") {
            plot_types.push(kind.to_owned());
        } else if let Some(kind) = token.strip_prefix("filetype:") {
            file_types.push(kind.to_owned());
        } else {
            words.push(token.to_owned());
        }
    }
    let (page, size) = paging(&app, &params, 20)?;
    let url = request_url(&app, &uri);
    let reader = viewer.require().unwrap_or_default().to_owned();
    let search = Search { reader, words, kinds: file_types, plot_types };
    // Finding reads every findable file's columns: without the store's lock.
    let count = {
        let search = search.clone();
        app.long_read(move |db| db.found_count(&search)).await?
    };
    let (window, offset) = numbered_window(count, page, size, &url);
    let keys = app.long_read(move |db| db.found_page(&search, offset, u64::from(size))).await?;
    let store = app.store();
    let mut found = Vec::new();
    for (owner, file) in store.records(keys)? {
        // A file made private or trashed since it was found is left out.
        let readable = !file.deleted && crate::access::can_read(&viewer, &owner, &file, None);
        if let Some(account) = store.account(&owner).filter(|_| readable) {
            found.push((account, file));
        }
    }
    Ok(Json(render_page(&app, &store, &viewer, window, found)?))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::content::{Body, Outline};
    use crate::db::{Db, Search};
    use crate::store::{NewFile, Store};

    /// Names and terms made of what a `LIKE` pattern or a lower-case mapping could get wrong.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            proptest::sample::select(vec![
                'a', 'A', 'b', '%', '_', '\\', ' ', 'É', 'é', '\u{212A}',
            ]),
            0..5,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    fn trace_type() -> impl Strategy<Value = String> {
        proptest::sample::select(vec!["bar", "Bar", "scatter", "x y", "", "a%", "_"])
            .prop_map(str::to_owned)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Search finds what matching each record in memory finds: the live files the reader
        /// may read whose lower-case names hold every word, of the types and trace types named.
        #[test]
        fn search_finds_what_the_records_match(
            files in proptest::collection::vec(
                (any::<bool>(), any::<bool>(), any::<bool>(), proptest::bool::weighted(0.2),
                 text(), proptest::collection::vec(trace_type(), 0..3)),
                0..25,
            ),
            words in proptest::collection::vec(text(), 0..3),
            kinds in proptest::collection::vec(proptest::sample::select(vec!["plot", "fold"]), 0..2),
            plot_types in proptest::collection::vec(
                proptest::sample::select(vec!["bar", "Bar", "", "a%", "_"]).prop_map(str::to_owned),
                0..2,
            ),
            anonymous in any::<bool>(),
        ) {
            let (mut store, _) = Store::open(Db::in_memory().unwrap(), 1, 0).unwrap();
            store.add_account("alice", "alice-key").unwrap();
            store.add_account("bob", "bob-key-1").unwrap();
            let mut made = Vec::new();
            for (bob, folder, public, trashed, name, types) in &files {
                let owner = if *bob { "bob" } else { "alice" };
                let data: Vec<_> = types.iter().map(|t| serde_json::json!({"type": t})).collect();
                let body = if *folder {
                    Body::Folder
                } else {
                    Body::plot(serde_json::json!({"data": data}))
                };
                let file = NewFile {
                    filename: Some(format!("{name}{}", made.len())),
                    parent: None,
                    parent_path: None,
                    world_readable: *public,
                    share_key_enabled: false,
                    metadata: None,
                    body,
                    idlocal: None,
                };
                let idlocal = store.create(owner, file).unwrap();
                if *trashed {
                    store.set_trashed(owner, idlocal, true).unwrap();
                }
                made.push((owner.to_owned(), idlocal));
            }
            store.commit().unwrap();
            // Terms as the route makes them: lower case, split at whitespace.
            let terms = |texts: Vec<String>| -> Vec<String> {
                texts.join(" ").to_lowercase().split_whitespace().map(str::to_owned).collect()
            };
            let (words, plot_types) = (terms(words), terms(plot_types));
            let kinds: Vec<String> = kinds.into_iter().map(str::to_owned).collect();
            let reader = if anonymous { "" } else { "alice" };
            let mut expected = Vec::new();
            for (owner, idlocal) in &made {
                let record = store.file(owner, *idlocal).unwrap().unwrap();
                let name = record.filename.to_lowercase();
                let traces = match &record.outline {
                    Outline::Plot { trace_types, .. } => trace_types.clone(),
                    _ => Vec::new(),
                };
                if !record.deleted
                    && (record.world_readable || owner == reader)
                    && kinds.iter().all(|k| record.kind().as_str() == k)
                    && words.iter().all(|w| name.contains(w.as_str()))
                    && plot_types.iter().all(|t| traces.contains(t))
                {
                    expected.push((owner.clone(), *idlocal));
                }
            }
            expected.sort();
            let reader = reader.to_owned();
            let search = Search { reader, words, kinds, plot_types };
            let db = store.committed();
            prop_assert_eq!(db.found_page(&search, 0, 1000).unwrap(), expected.clone());
            prop_assert_eq!(db.found_count(&search).unwrap(), expected.len() as u64);
            // A page from an offset is the same run of files.
            let page = db.found_page(&search, 1, 2).unwrap();
            prop_assert_eq!(page, expected.into_iter().skip(1).take(2).collect::<Vec<_>>());
        }
    }
}
