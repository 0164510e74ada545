//! The two scripts of Web Push (`notify`): `/push.js`, which the loader
//! loads on the shop's page when the customer asks to be notified (with
//! this server's VAPID public key written in), and `/push-sw.js`, which the
//! shop's one-line service worker imports. Served whether or not `[push]`
//! is configured: without it the key is empty and `push.js` answers "no push".

use crate::config::Config;
use crate::notify::vapid::VapidKey;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

const PUSH_JS: &str = include_str!("../../../www/push.js");
const PUSH_SW_JS: &str = include_str!("../../../www/push-sw.js");
const KEY_SLOT: &str = "__VAPID_PUBLIC_KEY__";

/// `push.js` with the public key of `config`'s VAPID key pair ('' without `[push]`).
pub fn push_script(config: &Config) -> String {
    let key = match &config.push {
        Some(push) => match VapidKey::load_or_create(&push.key_file) {
            Ok(key) => key.public_base64(),
            Err(error) => {
                tracing::error!(%error, "Web Push is configured but its key cannot be read; push.js offers none");
                String::new()
            }
        },
        None => String::new(),
    };
    PUSH_JS.replace(KEY_SLOT, &key)
}

pub fn routes(config: &Config) -> Router {
    let script: &'static str = Box::leak(push_script(config).into_boxed_str());
    Router::new()
        .route("/push.js", get(move || async move { javascript(script) }))
        .route("/push-sw.js", get(|| async { javascript(PUSH_SW_JS) }))
}

fn javascript(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            // A new key or handler reaches browsers at once.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        body,
    )
}
