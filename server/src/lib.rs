//! Switchboard's thin server: the interaction processor browser clients talk
//! to. It holds no UI logic and speaks only the protocol crate's messages,
//! validating everything a client sends with the same crate.
//!
//! - [`config`]: the TOML configuration (agents, codes, queues, services, limits).
//! - [`center`]: the live contact center (sessions, chat requests,
//!   interactions, timers) under one lock.
//! - [`routing`]: the pure routing engine (which agent gets which chat).
//! - [`stream`]: numbered, durable, resumable event streams.
//! - [`store`] and [`records`]: SQLite (WAL) with group commit, and what is stored.
//! - [`ws`]: the WebSocket endpoints.
//! - [`desktop_http`] and [`widget_http`]: the built web apps, each page
//!   under a strict Content-Security-Policy.

pub mod auth;
pub mod center;
pub mod clock;
pub mod config;
pub mod desktop_http;
pub mod records;
pub mod reporting;
pub mod routing;
pub mod seq_log;
pub mod services;
pub mod storage;
pub mod store;
pub mod stream;
pub mod widget_http;
pub mod ws;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get;
use center::{Center, StartError};
use config::Config;
use std::path::Path;
use std::sync::Arc;
use store::Store;
use tower_http::set_header::SetResponseHeaderLayer;

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

/// Everything a request handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub center: Arc<Center>,
}

impl AppState {
    /// Starts the contact center, rebuilding what `store` holds.
    pub fn new(config: Config, store: Store) -> Result<Self, StartError> {
        Ok(Self { center: Arc::new(Center::start(config, store, clock::now())?) })
    }
}

/// The whole HTTP surface: WebSocket endpoints plus the built web app from
/// `static_dir` (trunk's `dist/`), when given.
pub fn app(state: AppState, static_dir: Option<&Path>) -> Router {
    let widget = widget_http::routes(&state.center.config.widget, static_dir);
    let mut router = Router::new()
        .route("/ws/agent", get(ws::agent::upgrade))
        .route("/ws/customer", get(ws::customer::upgrade))
        .route("/ws/supervisor", get(ws::supervisor::upgrade))
        .with_state(state);
    if let Some(dir) = static_dir {
        router = router.merge(desktop_http::routes(dir));
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

/// How often timers (offer and confirmation deadlines, session expiry) run.
pub const TICK: std::time::Duration = std::time::Duration::from_millis(200);

/// Runs the center's timers until the process stops.
pub async fn run_timers(state: AppState) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = state.center.tick(clock::now()).await {
            tracing::error!(%error, "could not store what the timers changed");
        }
    }
}
