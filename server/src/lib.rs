//! Switchboard's thin server: the interaction processor browser clients talk
//! to. It holds no UI logic and speaks only the protocol crate's messages,
//! validating everything a client sends with the same crate.
//!
//! - [`config`]: the TOML configuration (agents, codes, queues, limits).
//! - [`sessions`]: agent session resources, bindings and event logs.
//! - [`store`]: SQLite (WAL) with group commit.
//! - [`ws`]: the WebSocket endpoints.

pub mod auth;
pub mod clock;
pub mod config;
pub mod sessions;
pub mod store;
pub mod ws;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get;
use config::Config;
use sessions::Sessions;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::Store;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// Everything a request handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub sessions: Arc<Sessions>,
}

impl AppState {
    pub fn new(config: Config, store: Store) -> Self {
        let stale_after = config.limits.stale_after();
        Self { config: Arc::new(config), sessions: Arc::new(Sessions::new(store, stale_after)) }
    }
}

/// The whole HTTP surface: WebSocket endpoints plus the built web app from
/// `static_dir` (trunk's `dist/`), when given.
pub fn app(state: AppState, static_dir: Option<&Path>) -> Router {
    let mut router = Router::new().route("/ws/agent", get(ws::agent::upgrade)).with_state(state);
    if let Some(dir) = static_dir {
        let index = ServeFile::new(dir.join("index.html"));
        router = router.fallback_service(ServeDir::new(dir).fallback(index));
    }
    router
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
}

/// Ends sessions whose client has been gone longer than the grace period.
/// Runs until the process stops.
pub async fn expire_sessions(state: AppState) {
    let grace = state.config.limits.resume_grace();
    let mut tick =
        tokio::time::interval(std::time::Duration::from_secs(1).min(grace.max(std::time::Duration::from_millis(100))));
    loop {
        tick.tick().await;
        for write in state.sessions.expire_unbound(clock::now(), grace) {
            if let Err(error) = write.await {
                tracing::error!(%error, "could not store a session expiry");
            }
        }
    }
}

/// Where the built app lives by default: `dist/` beside the workspace root.
pub fn default_static_dir() -> PathBuf {
    PathBuf::from("dist")
}
