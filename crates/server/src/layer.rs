//! The layer around every route: it tells who is asking, applies the faults `faults.rs`
//! decides, runs the route, saves the change to the database (with `--data`) before the answer
//! goes out, and logs one line per request.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{StatusCode, header};

use crate::failure::Failure;
use crate::faults::{Decision, Requester, decide};
use crate::state::Shared;

/// The layer around every route: faults, then the route, then the change written to the
/// database (with `--data`) before the answer goes out, then one log line (method, path without
/// its query, status, time, account; never a key or a share key).
pub(crate) async fn middleware(
    State(app): State<Shared>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = tokio::time::Instant::now();
    let faults = app.faults();
    // Identified once: the routes' `Viewer` extractor takes it from the request.
    let identified = crate::auth::identify(&app, request.headers());
    let who = match &identified {
        Ok(crate::auth::Viewer::User(name)) => Requester::Account(name.clone()),
        _ => Requester::Address(
            request
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip().to_string())
                .unwrap_or_default(),
        ),
    };
    if let Ok(viewer) = identified {
        request.extensions_mut().insert(viewer);
    }
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let (delay, decision) = {
        let mut state = app.fault_state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        decide(&mut state, &faults, &who, request.method())
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut response = match decision {
        Decision::Pass => next.run(request).await,
        Decision::Fail(failure) => failure.into_response(),
        Decision::BadGateway => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
        )
            .into_response(),
        Decision::Drop => cut_off(next.run(request).await).await,
    };
    if let Err(err) = app.persist() {
        tracing::error!(error = %format!("{err:#}"), "could not save a change");
        response = Failure::Injected(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The change could not be saved; try again.",
        )
        .into_response();
    }
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
