//! The agent desktop's HTTP surface: `/` and `/index.html` (and the app's
//! own paths) carry a strict CSP with the hash of trunk's inline script; the
//! desktop's files are served under it and the page refuses to be framed.

use crate::common::http::{get, header, serve_dist};
use switchboard_server::http::widget::inline_script_hashes;

const SCRIPT: &str = "import init from '/switchboard-desktop.js';\nawait init();";

fn page() -> String {
    format!("<!doctype html><html><head><script type=\"module\">{SCRIPT}</script></head><body></body></html>")
}

#[tokio::test]
async fn the_desktop_page_has_a_strict_policy_with_the_inline_scripts_hash() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), page()).unwrap();
    std::fs::write(dist.path().join("switchboard-desktop.js"), "export default async function init() {}").unwrap();
    let addr = serve_dist("", dist.path()).await;
    let hash = inline_script_hashes(&page()).remove(0);

    for path in ["/", "/index.html"] {
        let (status, headers, body) = get(addr, path).await;
        assert!(status.contains("200"), "{path}: {status}");
        assert_eq!(body, page(), "{path} serves the desktop page");
        let csp = header(&headers, "content-security-policy").unwrap_or_else(|| panic!("{path} has a CSP"));
        assert!(csp.starts_with("default-src 'none'; "), "{path}: {csp}");
        assert!(csp.contains(&format!("script-src 'self' 'wasm-unsafe-eval' {hash};")), "{path}: {csp}");
        for directive in ["style-src 'self';", "connect-src 'self';", "base-uri 'none';", "frame-ancestors 'none'"] {
            assert!(csp.contains(directive), "{path}: {directive} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(header(&headers, "x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"), "{path}");
    }

    // The apps do not route by path: a path nobody serves is not the page.
    let (status, headers, _) = get(addr, "/some/app/path").await;
    assert!(status.contains("404"), "{status}");
    assert!(header(&headers, "content-security-policy").is_some(), "a 404 is under the policy too");

    let (status, headers, body) = get(addr, "/switchboard-desktop.js").await;
    assert!(status.contains("200") && body.contains("init"), "{status}");
    assert!(header(&headers, "content-security-policy").is_some(), "the app's files are served under the policy too");
}

#[tokio::test]
async fn a_changed_build_changes_the_hash() {
    let dist = tempfile::tempdir().unwrap();
    let other = "<script type=\"module\">other()</script>";
    std::fs::write(dist.path().join("index.html"), other).unwrap();
    let addr = serve_dist("", dist.path()).await;
    let (_, headers, _) = get(addr, "/").await;
    let csp = header(&headers, "content-security-policy").unwrap();
    assert!(csp.contains(&inline_script_hashes(other)[0]), "{csp}");
    assert!(!csp.contains(&inline_script_hashes(&page())[0]), "{csp}");
}

#[tokio::test]
async fn the_supervisor_page_is_served_under_the_same_policy_with_its_own_script_allowed() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), page()).unwrap();
    let supervisor = "<script type=\"module\">import init from '/supervisor/switchboard-supervisor.js';</script>";
    std::fs::create_dir(dist.path().join("supervisor")).unwrap();
    std::fs::write(dist.path().join("supervisor").join("index.html"), supervisor).unwrap();
    let addr = serve_dist("", dist.path()).await;

    let (status, headers, body) = get(addr, "/supervisor/").await;
    assert!(status.contains("200"), "{status}");
    assert_eq!(body, supervisor, "the wallboard's own page");
    let csp = header(&headers, "content-security-policy").expect("the wallboard has a CSP");
    for page in [supervisor.to_owned(), page()] {
        let hash = &inline_script_hashes(&page)[0];
        assert!(csp.contains(hash.as_str()), "{hash} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}
