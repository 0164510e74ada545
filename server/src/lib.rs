//! Switchboard's thin server: the interaction processor browser clients talk
//! to. It holds no UI logic and speaks only the protocol crate's messages,
//! validating everything a client sends with the same crate.
//!
//! The layers (see `docs/architecture.md` for the map and the import rules):
//! - [`core`]: the pure contact center (sessions, chat requests,
//!   interactions, timers): inputs in, outputs out; no I/O, no clock.
//! - [`routing`]: the pure routing engine (which agent gets which chat).
//! - [`hours`]: the pure opening-hours calendar of a chat service;
//!   [`identity`]: the pure check of a host page's signed customer identity.
//! - [`services`]: the third-party services the center can call.
//! - [`storage`]: the typed storage boundary and its backends (SQLite, memory).
//! - [`delivery`]: outbound queues, stream windows, resume by `seq`.
//! - [`driver`]: the tokio driver of the core (its lock, storage, delivery, spawned work).
//! - [`gateway`]: how the endpoints reach the center (here, or over the
//!   cluster's bus), and [`inbound`], what they hand it;
//!   [`cluster`]: several nodes of one instance-domain on PostgreSQL and NATS.
//! - [`ws`]: the WebSocket endpoints; [`http`]: the built web apps, each page
//!   under a strict Content-Security-Policy.
//! - [`observe`]: `/healthz`, `/readyz`, `/metrics` and the metrics' names.
//! - [`access`]: the guards in front of the core (client address, login
//!   throttle, password checks, per-address limits); [`serve`]: the HTTP
//!   server loop (header-read timeout, peer addresses, graceful stop).
//! - [`config`], [`auth`], [`clock`]: configuration, passwords and tokens,
//!   the one clock read.

pub mod access;
pub mod auth;
pub mod center_status;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod core;
pub mod delivery;
pub mod driver;
pub mod gateway;
pub mod hours;
pub mod http;
pub mod identity;
pub mod inbound;
pub mod memory;
pub mod notify;
pub mod observe;
pub mod routing;
pub mod serve;
pub mod services;
pub mod storage;
pub mod ws;

use access::Access;
use axum::Router;
use axum::extract::FromRef;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get;
pub use driver::Driver;
pub use gateway::Gateway;
pub use serve::{ServeOptions, serve};
use std::path::Path;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

/// What the endpoints share: the way to the center, and the access guards.
#[derive(Clone)]
pub struct AppState {
    pub gateway: Gateway,
    pub access: Arc<Access>,
    /// The answers of `/widget/availability`, shared for a few seconds.
    pub availability: Arc<http::availability::Cache>,
}

impl FromRef<AppState> for Gateway {
    fn from_ref(state: &AppState) -> Self {
        state.gateway.clone()
    }
}

/// The serve options the configuration asks for.
pub fn serve_options(config: &config::Config) -> ServeOptions {
    ServeOptions { header_read_timeout: config.limits.header_read_timeout() }
}

/// `listener`, with Nagle's algorithm off on every connection it accepts.
/// Chat frames are small and latency-bound: with Nagle on, a frame written
/// while the previous one is not yet acknowledged waits for the peer's
/// delayed ACK (about 40 ms on Linux), which showed as a 40 ms p99 in the
/// relay benchmark. Browsers turn it off on their side too.
pub fn without_nagle(
    listener: tokio::net::TcpListener,
) -> impl axum::serve::Listener<Io = tokio::net::TcpStream, Addr = std::net::SocketAddr> {
    use axum::serve::ListenerExt;
    listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not turn Nagle's algorithm off for a connection");
        }
    })
}

/// The whole HTTP surface: WebSocket endpoints plus the built web app from
/// `static_dir` (trunk's `dist/`), when given. Serve it with [`serve`]: the
/// endpoints need each request's peer address.
pub fn app(gateway: impl Into<Gateway>, static_dir: Option<&Path>) -> Router {
    let gateway = gateway.into();
    let widget = http::widget::routes(&gateway.config().widget, static_dir);
    let push = http::push::routes(gateway.config());
    let access = Arc::new(Access::new(gateway.config()));
    // The recorder before the first connection counts anything.
    observe::handle();
    let mut router = Router::new()
        .route("/ws/agent", get(ws::agent::upgrade))
        .route("/ws/customer", get(ws::customer::upgrade))
        .route("/ws/supervisor", get(ws::supervisor::upgrade))
        .route("/supervisor/intervals.csv", get(http::intervals::download))
        .route("/widget/availability", get(http::availability::availability))
        .route("/healthz", get(observe::healthz))
        .route("/readyz", get(observe::readyz))
        .route("/metrics", get(observe::metrics_page))
        // Browsers ask every origin for one; the apps have none. No content
        // rather than 404, which a browser reports as a console error.
        .route("/favicon.ico", get(|| async { axum::http::StatusCode::NO_CONTENT }))
        .with_state(AppState { gateway, access, availability: Default::default() })
        .merge(push);
    match static_dir {
        Some(dir) => router = router.merge(http::desktop::routes(dir)),
        None => router = router.fallback(http::not_found),
    }
    router
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        // After the layers above: the widget's frame may be embedded.
        .merge(widget)
}

/// Runs the center's timers, and the metrics' upkeep, until the process stops.
pub async fn run_timers(driver: Driver) {
    tokio::join!(driver.run_timers(), observe::keep_up());
}
