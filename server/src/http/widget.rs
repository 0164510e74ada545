//! HTTP for the customer chat widget: the frame page at `/widget/` with a
//! strict Content-Security-Policy, its static files (and the embed loader,
//! `/widget/loader.js`), and in demo mode a fake shop that uses the snippet.
//!
//! trunk's build puts a small inline module script in the page (it imports
//! the JS glue and starts the wasm). Rather than `'unsafe-inline'`, the page
//! is read once at start-up and the SHA-256 of each inline script goes into
//! `script-src`, so the policy always matches the build that is served.
//!
//! `/widget/?lang=de` serves the page with that language's texts in it
//! (see [`i18n`]); the demo shop takes `?lang=` too, to show it.

pub mod i18n;

use crate::config::WidgetSection;
use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The demo host page: a fake shop with the one-tag snippet.
pub const DEMO_SHOP: &str = include_str!("../../../www/demo/shop.html");

/// The demo shop's own policy: an ordinary strict site that allows the
/// widget's frame and the loader, and no `'wasm-unsafe-eval'`.
pub const DEMO_SHOP_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                                 img-src 'self' data:; frame-src 'self'; base-uri 'none'";

/// `sha256-…` sources for every inline `<script>` of `html` (CSP hash syntax).
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let tag = &after[..open_end];
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</script>") else { break };
        if !tag.contains(" src=") {
            let digest = Sha256::digest(&body.as_bytes()[..close]);
            hashes.push(format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest)));
        }
        rest = &body[close..];
    }
    hashes
}

/// The widget page's Content-Security-Policy.
pub fn widget_csp(html: &str, frame_ancestors: &[String]) -> String {
    let mut scripts = vec!["'self'".to_owned(), "'wasm-unsafe-eval'".to_owned()];
    scripts.extend(inline_script_hashes(html));
    let ancestors = if frame_ancestors.is_empty() { "'none'".to_owned() } else { frame_ancestors.join(" ") };
    format!(
        "default-src 'none'; script-src {}; style-src 'self'; connect-src 'self'; img-src 'self' data:; \
         base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}",
        scripts.join(" ")
    )
}

/// `?lang=` of the widget page and the demo shop (other members ignored).
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// The widget page in the asked language if there is one, else English.
fn widget_page(pages: &HashMap<String, String>, english: &'static str, query: &LangQuery) -> String {
    let lang = query.lang.as_deref().and_then(i18n::primary_language);
    lang.and_then(|lang| pages.get(&lang)).map_or_else(|| english.to_owned(), Clone::clone)
}

/// The demo shop with its snippet (and the copy shown) in the asked
/// language (`?lang=de`).
pub fn demo_shop(query: &LangQuery) -> String {
    match query.lang.as_deref().and_then(i18n::primary_language) {
        Some(lang) => DEMO_SHOP.replace("data-lang=\"en\"", &format!("data-lang=\"{lang}\"")),
        None => DEMO_SHOP.to_owned(),
    }
}

fn page(html: impl Into<String>, csp: HeaderValue) -> Response {
    let mut response = Html(html.into()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The widget's routes. Served only when `static_dir` holds the widget
/// build (`widget/index.html`); the demo shop only when configured. These
/// routes carry no `X-Frame-Options` (the widget is meant to be framed by
/// the allowed ancestors), so the caller merges them after its own layers.
pub fn routes(config: &WidgetSection, static_dir: Option<&Path>) -> Router {
    let mut router = Router::new();
    if let Some(dir) = static_dir
        && let Ok(html) = std::fs::read_to_string(dir.join("widget").join("index.html"))
    {
        let csp = widget_csp(&html, &config.frame_ancestors);
        let (pages, skipped) = i18n::localized_pages(&html, &dir.join("widget").join("i18n"));
        for error in skipped {
            tracing::warn!(%error, "a widget language is not served");
        }
        let pages = Arc::new(pages);
        let html: &'static str = Box::leak(html.into_boxed_str());
        match HeaderValue::from_str(&csp) {
            Ok(csp) => {
                let served = csp.clone();
                let serve = move |Query(query): Query<LangQuery>| {
                    let (pages, csp) = (pages.clone(), served.clone());
                    async move { page(widget_page(&pages, html, &query), csp) }
                };
                router = router
                    .route("/widget", get(|| async { Redirect::permanent("/widget/") }))
                    .route("/widget/", get(serve.clone()))
                    .route("/widget/index.html", get(serve))
                    .route_service("/widget/{*file}", ServeDir::new(dir));
                router = router.layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, csp));
            }
            Err(error) => tracing::error!(%error, "the widget's CSP is not a valid header; not serving the widget"),
        }
    }
    if config.demo_shop {
        // The shop's one-line service worker for Web Push (see `http::push`).
        router = router.route(
            "/demo/switchboard-sw.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript"))],
                    "importScripts('/push-sw.js');\n",
                )
            }),
        );
        router = router.route(
            "/demo/shop.html",
            get(|Query(query): Query<LangQuery>| async move {
                page(demo_shop(&query), HeaderValue::from_static(DEMO_SHOP_CSP))
            }),
        );
    }
    router
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_cover_inline_scripts_only() {
        let html = r#"<script src="/a.js"></script><script type="module">go()</script>"#;
        let hashes = inline_script_hashes(html);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"go()"));
        assert_eq!(hashes, [format!("'sha256-{expected}'")]);
    }

    #[test]
    fn policy_is_strict_and_lists_the_ancestors() {
        let csp = widget_csp("<p>no scripts</p>", &["'self'".into(), "https://shop.example".into()]);
        assert!(csp.starts_with("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self';"));
        assert!(csp.ends_with("frame-ancestors 'self' https://shop.example"));
        assert!(widget_csp("", &[]).ends_with("frame-ancestors 'none'"));
    }
}
