//! Accepting connections and serving HTTP/1.1 on them, with what one client may hold: a
//! deadline for each request's head (which also closes a keep-alive connection left idle), and
//! a cap on the connections one address keeps open. Request bodies have their own deadline
//! (`body.rs`); TLS handshakes theirs (`tls.rs`).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use std::convert::Infallible;

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The connections each client address holds open.
#[derive(Debug)]
pub(crate) struct Gate {
    max_per_address: usize,
    open: Mutex<BTreeMap<IpAddr, usize>>,
    /// Connections refused so far, to log the first of a burst and then every thousandth.
    refused: std::sync::atomic::AtomicU64,
}

impl Gate {
    pub(crate) fn new(max_per_address: usize) -> Arc<Self> {
        Arc::new(Self {
            max_per_address,
            open: Mutex::new(BTreeMap::new()),
            refused: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// A place for one more connection from `peer`, unless it holds its share already.
    pub(crate) fn admit(self: &Arc<Self>, peer: SocketAddr) -> Option<Permit> {
        let ip = peer.ip();
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(ip).or_insert(0);
        if *count >= self.max_per_address {
            let refused = self.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if refused.is_multiple_of(1000) {
                tracing::warn!(%ip, limit = self.max_per_address, "too many connections from one address; refused");
            }
            return None;
        }
        *count += 1;
        Some(Permit { gate: Arc::clone(self), ip })
    }
}

/// One admitted connection's place; given back when the connection ends.
#[derive(Debug)]
pub(crate) struct Permit {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.gate.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// A connection holding its place at the gate.
#[derive(Debug)]
pub(crate) struct Admitted<S> {
    stream: S,
    _permit: Permit,
}

impl<S> Admitted<S> {
    pub(crate) fn new(stream: S, permit: Permit) -> Self {
        Self { stream, _permit: permit }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Admitted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Admitted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Accepts a TCP connection the gate admits; refused ones are closed at once.
pub(crate) async fn accept_admitted(
    tcp: &TcpListener,
    gate: &Arc<Gate>,
) -> (TcpStream, SocketAddr, Permit) {
    loop {
        match tcp.accept().await {
            Ok((stream, peer)) => {
                if let Some(permit) = gate.admit(peer) {
                    return (stream, peer, permit);
                }
            }
            Err(err) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!(error = %err, "could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Plain TCP connections, through the gate.
#[derive(Debug)]
pub(crate) struct GatedTcp {
    tcp: TcpListener,
    gate: Arc<Gate>,
}

impl GatedTcp {
    pub(crate) fn new(tcp: TcpListener, gate: Arc<Gate>) -> Self {
        Self { tcp, gate }
    }
}

impl Listener for GatedTcp {
    type Io = Admitted<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, peer, permit) = accept_admitted(&self.tcp, &self.gate).await;
        (Admitted::new(stream, permit), peer)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Serves `service` on every connection `listener` hands out until `stop` resolves, then waits
/// for the requests in flight (the caller bounds the wait). A connection whose next request
/// head does not arrive within `head_timeout` is closed.
pub(crate) async fn serve<L, S>(
    mut listener: L,
    service: S,
    head_timeout: Duration,
    stop: impl Future<Output = ()>,
) where
    L: Listener<Addr = SocketAddr>,
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let service = service.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            tower::ServiceExt::oneshot(service.clone(), request.map(axum::body::Body::new))
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(head_timeout)
            .serve_connection(TokioIo::new(io), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "a connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
}
