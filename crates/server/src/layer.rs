//! The layer around every route: it tells who is asking, refuses changes other sites ask for,
//! applies the faults `faults.rs` decides, runs the route, saves the change to the database
//! (with `--data`) before the answer goes out, adds the security headers, and logs one line per
//! request.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{StatusCode, header};

use crate::failure::Failure;
use crate::faults::{Decision, Requester, decide};
use crate::state::Shared;

/// The v1 route that names its account in its body, not its headers: it takes that account's
/// lock for writes itself, so the layer takes none for it.
pub(crate) const CLIENTRESP: &str = "/clientresp";
/// The v1 route that names its account in `plotly-*` headers.
pub(crate) const APIGETFILE: &str = "/apigetfile/";

/// Whether the route at `path` names its account where the layer does not look (the v1
/// routes): the route then counts the account against the limits itself.
fn names_its_account(path: &str) -> bool {
    path.trim_end_matches('/') == CLIENTRESP || path.starts_with(APIGETFILE)
}

/// The layer around every route: faults, then the route, then the change written to the
/// database (with `--data`) before the answer goes out, then one log line (method, path without
/// its query, status, time, account; never a key or a share key).
pub(crate) async fn middleware(
    State(app): State<Shared>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = tokio::time::Instant::now();
    // `/clientresp` names its account in its body and takes the account's lock itself.
    let change = !matches!(*request.method(), http::Method::GET | http::Method::HEAD)
        && request.uri().path().trim_end_matches('/') != CLIENTRESP;
    let unavailable = |err: anyhow::Error| {
        tracing::error!(error = %format!("{err:#}"), "could not read the database");
        let mut response = Failure::Injected(
            StatusCode::SERVICE_UNAVAILABLE,
            "The database could not be read; try again.",
        )
        .into_response();
        crate::security::add_headers(&app.urls, response.headers_mut(), true);
        response
    };
    if let Err(err) = app.sync() {
        return unavailable(err);
    }
    let faults = app.faults();
    let peer = crate::auth::peer(request.extensions());
    // Identified once: the routes' `Viewer` extractor takes it from the request.
    let identified = crate::auth::identify(&app, request.headers(), peer);
    let who = match &identified {
        Ok(crate::auth::Viewer::User(name)) => Requester::Account(name.clone()),
        _ => Requester::Address(peer.map(|ip| ip.to_string()).unwrap_or_default()),
    };
    // Held until the change is committed, below.
    let account = match &who {
        Requester::Account(name) => name.as_str(),
        Requester::Address(_) => "",
    };
    let _writing = match change {
        true => match app.lock_writes(Some(account)).await {
            Ok(writing) => writing,
            Err(err) => return unavailable(err),
        },
        false => None,
    };
    request.extensions_mut().insert(crate::auth::Identified(identified));
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    // Answers for one reader: a signed-in account, or a secret link.
    let personal = matches!(who, Requester::Account(_))
        || crate::web::has_session_cookie(request.headers())
        || request.uri().query().is_some_and(|query| query.contains("share_key="));
    let cross_site = crate::security::cross_site(&app.urls, &method, &path, request.headers());
    let (delay, decision) = {
        let mut state = app.fault_state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let charged = (!names_its_account(request.uri().path())).then_some(&who);
        decide(&mut state, &faults, charged, request.method())
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut response = match decision {
        Decision::Pass if cross_site => Failure::CrossSite.into_response(),
        Decision::Pass => {
            let answer = caught(&app, &method, &path, next.run(request)).await;
            if method != http::Method::GET && method != http::Method::HEAD {
                app.changes_answered.send_modify(|answered| *answered += 1);
            }
            answer
        }
        Decision::Fail(failure) => failure.into_response(),
        Decision::BadGateway => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
        )
            .into_response(),
        Decision::Drop => cut_off(next.run(request).await).await,
        Decision::Hold => held(&app).await,
    };
    if let Err(err) = app.persist() {
        tracing::error!(error = %format!("{err:#}"), "could not save a change");
        response = Failure::Injected(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The change could not be saved; try again.",
        )
        .into_response();
    }
    crate::security::add_headers(&app.urls, response.headers_mut(), personal);
    app.served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let user = match &who {
        Requester::Account(name) => name.as_str(),
        Requester::Address(_) => "-",
    };
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        user,
        "request"
    );
    response
}

/// Waits, counted as held, until the faults are set again; then a 503 with no effect.
async fn held(app: &Shared) -> Response {
    let mut settings = app.fault_settings.subscribe();
    app.held.send_modify(|held| *held += 1);
    let _ = settings.changed().await;
    app.held.send_modify(|held| *held = held.saturating_sub(1));
    Failure::Injected(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service temporarily unavailable, try again later.",
    )
    .into_response()
}

/// The route's answer, or a 500 when it panicked: the panic is logged with the request line and
/// counted ([`crate::ServerHandle::panics`]), and the connection and the other requests go on.
async fn caught(
    app: &Shared,
    method: &http::Method,
    path: &str,
    route: impl Future<Output = Response>,
) -> Response {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(route).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            app.panics.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let message = panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(%method, %path, panic = %message, "a request panicked");
            Failure::Injected(StatusCode::INTERNAL_SERVER_ERROR, "A server error occurred.")
                .into_response()
        }
    }
}

/// Sends the status, headers and half the body, then breaks the connection.
async fn cut_off(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.insert(header::CONTENT_LENGTH, bytes.len().max(1).into());
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "fault injection: connection dropped",
        )),
    ];
    Response::from_parts(parts, Body::from_stream(futures_util::stream::iter(chunks)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;
    use crate::state::{App, Urls};
    use crate::store::Store;

    async fn boom() -> &'static str {
        panic!("a route fails")
    }

    #[tokio::test]
    async fn a_panicking_route_answers_500_is_counted_and_the_server_goes_on() {
        let urls =
            Urls { api: "http://127.0.0.1:9".to_owned(), web: "http://127.0.0.1:9".to_owned() };
        let app: Shared = Arc::new(App::new(
            Store::new(0),
            urls,
            crate::Limits::default(),
            crate::Faults::default(),
            crate::images::tests::images_off(),
        ));
        let router = axum::Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "fine" }))
            .layer(axum::middleware::from_fn_with_state(app.clone(), middleware))
            .with_state(app.clone());
        let request = |path: &str| Request::builder().uri(path).body(Body::empty()).unwrap();
        let answer = router.clone().oneshot(request("/boom")).await.unwrap();
        assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(app.panics.load(Ordering::Relaxed), 1);
        let answer = router.oneshot(request("/fine")).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(app.served.load(Ordering::Relaxed), 2, "both requests are logged and counted");
    }
}
