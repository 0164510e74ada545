//! The widget's HTTP surface: the frame page's strict CSP (with the hash of
//! trunk's inline loader and the configured frame ancestors), its files,
//! and the demo shop; the desktop keeps `X-Frame-Options: DENY`.

use crate::common::http::{get, header, serve_dist};
use crate::common::test_config;

const PAGE: &str = "<!doctype html><html><head><script type=\"module\">import init from '/widget/w.js';\nawait init();</script>\
                    <script src=\"/widget/other.js\"></script></head><body></body></html>";

fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<p>desktop</p>").unwrap();
    std::fs::create_dir(dir.path().join("widget")).unwrap();
    std::fs::write(dir.path().join("widget").join("index.html"), PAGE).unwrap();
    std::fs::write(dir.path().join("widget").join("loader.js"), "/* loader */").unwrap();
    dir
}

#[tokio::test]
async fn the_widget_page_has_a_strict_policy_and_the_configured_ancestors() {
    let dist = dist();
    let addr =
        serve_dist("[widget]\nframe_ancestors = [\"'self'\", \"https://shop.example.com\"]\n", dist.path()).await;
    let (status, headers, body) = get(addr, "/widget/").await;
    assert!(status.contains("200"), "{status}");
    assert_eq!(body, PAGE);
    let csp = header(&headers, "content-security-policy").expect("a CSP");
    let inline = "import init from '/widget/w.js';\nawait init();";
    let hash = switchboard_server::http::widget::inline_script_hashes(&format!("<script>{inline}</script>"));
    assert_eq!(hash.len(), 1);
    assert_eq!(
        csp,
        format!(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {}; style-src 'self'; connect-src 'self'; \
             img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self' https://shop.example.com",
            hash[0]
        )
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(header(&headers, "x-frame-options"), None, "the widget is meant to be framed");
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));

    let (status, headers, body) = get(addr, "/widget/loader.js").await;
    assert!(status.contains("200"), "{status}");
    assert_eq!(body, "/* loader */");
    assert!(header(&headers, "content-type").unwrap().contains("javascript"));
    assert_eq!(header(&headers, "x-frame-options"), None);

    let (status, headers, _) = get(addr, "/widget").await;
    assert!(status.contains("308"), "{status}");
    assert_eq!(header(&headers, "location"), Some("/widget/"));

    // The desktop still refuses to be framed, and there is no demo shop.
    let (_, headers, body) = get(addr, "/").await;
    assert_eq!(body, "<p>desktop</p>");
    assert_eq!(header(&headers, "x-frame-options"), Some("DENY"));
    let (status, _, body) = get(addr, "/demo/shop.html").await;
    assert!(status.contains("404") && !body.contains("desktop"), "no shop unless configured: {status}");
}

#[tokio::test]
async fn the_default_allows_only_this_server_and_demo_mode_serves_the_shop() {
    let dist = dist();
    let addr = serve_dist("[widget]\ndemo_shop = true\n", dist.path()).await;
    let (_, headers, _) = get(addr, "/widget/index.html").await;
    assert!(header(&headers, "content-security-policy").unwrap().ends_with("frame-ancestors 'self'"));
    let (status, headers, body) = get(addr, "/demo/shop.html").await;
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("src=\"/widget/loader.js\""), "the shop uses the snippet");
    let csp = header(&headers, "content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self';") && !csp.contains("wasm-unsafe-eval"), "{csp}");
}

#[test]
fn a_bad_frame_ancestor_is_refused_at_start() {
    let text = format!("{}\n[widget]\nframe_ancestors = [\"https://a.example; script-src *\"]\n", "");
    let result = std::panic::catch_unwind(|| test_config(&text));
    assert!(result.is_err(), "the configuration is refused");
}

#[tokio::test]
async fn a_language_the_build_has_comes_in_the_page_and_others_get_english() {
    let dist = dist();
    let i18n = dist.path().join("widget").join("i18n");
    std::fs::create_dir(&i18n).unwrap();
    std::fs::write(i18n.join("de.json"), r#"{"greeting":"Fragen? Wir helfen Ihnen gerne.","send":"Senden"}"#).unwrap();
    std::fs::write(i18n.join("fr.json"), "not json").unwrap();
    let addr = serve_dist("[widget]\ndemo_shop = true\n", dist.path()).await;
    let (_, english_headers, english) = get(addr, "/widget/").await;
    assert_eq!(english, PAGE);

    let (status, headers, body) = get(addr, "/widget/?lang=de-AT&x=1").await;
    assert!(status.contains("200"), "{status}");
    assert!(
        body.starts_with(
            "<!doctype html><html lang=\"de\" data-texts=\"{&quot;greeting&quot;:&quot;Fragen? Wir helfen Ihnen \
             gerne.&quot;,&quot;send&quot;:&quot;Senden&quot;}\"><head><script type=\"module\">"
        ),
        "{body}"
    );
    assert_eq!(
        header(&headers, "content-security-policy"),
        header(&english_headers, "content-security-policy"),
        "the same scripts, the same policy"
    );
    let (_, _, body) = get(addr, "/widget/index.html?lang=de").await;
    assert!(body.contains("data-texts="));

    for unknown in ["/widget/?lang=fr", "/widget/?lang=xx", "/widget/?lang=..%2Fetc", "/widget/?lang="] {
        let (status, _, body) = get(addr, unknown).await;
        assert!(status.contains("200"), "{unknown}: {status}");
        assert_eq!(body, PAGE, "{unknown}: English (a broken file is not served)");
    }

    let (_, _, shop) = get(addr, "/demo/shop.html?lang=es").await;
    assert!(
        shop.contains("data-lang=\"es\"") && !shop.contains("data-lang=\"en\""),
        "the shop's snippet asks for Spanish"
    );
    let (_, _, shop) = get(addr, "/demo/shop.html?lang=%3Cscript%3E").await;
    assert!(shop.contains("data-lang=\"en\"") && !shop.contains("<script>"), "not a language: unchanged");
}
