//! HTTP for the agent desktop: trunk's `dist/` (the page, its JS glue,
//! wasm and stylesheet), every response with a strict Content-Security-Policy.
//!
//! Like the widget page (see `http::widget`), the desktop's `index.html` is
//! read once at start-up and the SHA-256 of trunk's inline start-up script
//! goes into `script-src`, so no `'unsafe-inline'` is needed and the policy
//! matches the build that is served (rebuild → restart). The desktop talks
//! only to its own origin (`connect-src 'self'` covers the same-origin
//! WebSocket), draws no remote images or fonts (system fonts), plays its
//! offer chime with WebAudio (no media element: no `media-src`), and sets
//! styles only through its stylesheet and the CSSOM (no `style` attributes),
//! so `style-src 'self'` is enough. Unknown paths answer 404 (the apps do
//! not route by path), under the same policy.

use super::widget::inline_script_hashes;
use axum::Router;
use axum::http::{HeaderValue, header};
use std::path::Path;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The desktop page's Content-Security-Policy for the page `html`.
pub fn desktop_csp(html: &str) -> String {
    let mut scripts = vec!["'self'".to_owned(), "'wasm-unsafe-eval'".to_owned()];
    scripts.extend(inline_script_hashes(html));
    format!(
        "default-src 'none'; script-src {}; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'",
        scripts.join(" ")
    )
}

/// The pages served from `dir` besides the widget's: the desktop and the
/// supervisor wallboard. One policy covers both, with both start-up scripts.
const PAGES: [&str; 2] = ["index.html", "supervisor/index.html"];

/// The desktop's files from `dir` (and the supervisor page in its
/// `supervisor/`), as a router with only a fallback (merge it into the app
/// before the app-wide layers).
pub fn routes(dir: &Path) -> Router {
    // No fallback to the page: neither app routes by path, and a probe or
    // scraper that asks for a path nobody serves must learn so (404).
    let files =
        ServeDir::new(dir).not_found_service(axum::handler::HandlerWithoutStateExt::into_service(super::not_found));
    let mut html = String::new();
    for page in PAGES {
        match std::fs::read_to_string(dir.join(page)) {
            Ok(text) => html.push_str(&text),
            // Served anyway (404s, other files) under a policy that allows no
            // inline script of that page.
            Err(error) => tracing::warn!(%error, dir = %dir.display(), page, "no page to hash for the CSP"),
        }
    }
    let router = Router::new().fallback_service(files);
    match HeaderValue::from_str(&desktop_csp(&html)) {
        Ok(csp) => router.layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, csp)),
        Err(error) => {
            // Cannot happen (hashes are base64); refuse to serve the page without its policy.
            tracing::error!(%error, "the desktop's CSP is not a valid header; not serving the desktop");
            Router::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_strict_and_hashes_trunks_inline_script() {
        let csp = desktop_csp(r#"<script type="module">start()</script><link rel="stylesheet" href="/s.css">"#);
        let hash = &inline_script_hashes("<script>start()</script>")[0];
        assert!(csp.starts_with(&format!("default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {hash};")), "{csp}");
        for directive in ["style-src 'self';", "connect-src 'self';", "img-src 'self' data:;", "frame-ancestors 'none'"]
        {
            assert!(csp.contains(directive), "{directive} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
    }
}
