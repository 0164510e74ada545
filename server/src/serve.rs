//! The HTTP server loop: accepts TCP connections and serves the router on
//! each with HTTP/1.1 (WebSocket upgrades included).
//!
//! Written out (instead of `axum::serve`) for what an exposed server needs:
//! - a **header-read timeout**: a client that connects and never finishes
//!   its request (or its upgrade) headers is cut off after
//!   `limits.header_read_timeout_secs`; `axum::serve` has no timer on the
//!   first bytes, so half-open connections were held forever;
//! - the **peer address** of every request ([`ConnectInfo`]), from which
//!   `access` finds the client address;
//! - Nagle's algorithm off on every connection (see [`crate::without_nagle`]);
//! - a **graceful stop**: when `shutdown` resolves, no connection is
//!   accepted any more and HTTP connections finish the request under way.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// How the loop serves connections.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// A client must have sent a request's headers this long after it
    /// connected (or after its previous request).
    pub header_read_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves. Returns once
/// the listener is closed and every plain HTTP connection has finished
/// (upgraded WebSockets are the driver's to close).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(options.header_read_timeout);
    let (stopping, stop) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            // A finished connection's task is freed at once, not at the next
            // accept (after a burst, that could be long after).
            Some(_) = connections.join_next() => continue,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: the listener is
                    // fine, the moment is not. Do not spin on it.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not turn Nagle's algorithm off for a connection");
        }
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let connection = http.serve_connection(TokioIo::new(stream), service).with_upgrades();
        let mut stop = stop.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            tokio::select! {
                served = connection.as_mut() => log_end(served, peer),
                () = stopped(&mut stop) => {
                    connection.as_mut().graceful_shutdown();
                    log_end(connection.await, peer);
                }
            }
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Resolves once the loop stops (or is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it here.
    let _ = stop.wait_for(|stop| *stop).await.map(|_| ());
}

fn log_end(served: Result<(), hyper::Error>, peer: SocketAddr) {
    if let Err(error) = served {
        // Timeouts, resets and garbage from clients: worth a debug line only.
        tracing::debug!(%peer, %error, "HTTP connection ended with an error");
    }
}
