//! The widget page in other languages.
//!
//! The widget shows English built in. The loader asks for the page as
//! `/widget/?lang=de`; when the build has `widget/i18n/de.json` (trunk
//! copies `www/i18n/`), the page is served as `<html lang="de"
//! data-texts="{…}">` and the widget reads its texts from that attribute.
//! So the texts are data sent only to those who ask for that language, and
//! the widget ships no fetch code. A language without a file gets the
//! English page (the widget warns in the console).
//!
//! The files are read and checked once, at start-up: a file that is not a
//! JSON object of strings is reported and skipped, never served.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Why a language file was skipped.
#[derive(Debug, thiserror::Error)]
pub enum LanguageFileError {
    #[error("cannot read the widget language file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the widget language file {path} is not a JSON object of strings ({detail}); fix it or remove it")]
    NotTexts { path: String, detail: String },
}

/// The language a `lang` tag asks for, reduced to its primary subtag
/// (`de-AT` → `de`: the files are per language), or `None` when it is not
/// a language tag (so it can never name another file).
pub fn primary_language(tag: &str) -> Option<String> {
    let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
    let letters = (2..=3).contains(&primary.len()) && primary.bytes().all(|byte| byte.is_ascii_lowercase());
    letters.then_some(primary)
}

/// `html` with its `<html …>` tag replaced by `<html lang="…"
/// data-texts="…">` (the texts as JSON, escaped for an attribute).
pub fn localized_page(html: &str, lang: &str, texts: &BTreeMap<String, String>) -> String {
    let json = serde_json::to_string(texts).unwrap_or_else(|_| "{}".to_owned());
    let attribute = json.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
    let tag = format!("<html lang=\"{lang}\" data-texts=\"{attribute}\">");
    match html.find("<html").and_then(|start| Some((start, start + html[start..].find('>')? + 1))) {
        Some((start, end)) => format!("{}{tag}{}", &html[..start], &html[end..]),
        None => format!("{tag}{html}"),
    }
}

/// Reads one language file: a JSON object whose members are all strings.
pub fn read_texts(path: &Path) -> Result<BTreeMap<String, String>, LanguageFileError> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|source| LanguageFileError::Read { path: shown.clone(), source })?;
    serde_json::from_str(&text).map_err(|error| LanguageFileError::NotTexts { path: shown, detail: error.to_string() })
}

/// The page for every `<lang>.json` in `dir` (none if `dir` is missing),
/// by language, and the files that were skipped.
pub fn localized_pages(html: &str, dir: &Path) -> (HashMap<String, String>, Vec<LanguageFileError>) {
    let mut pages = HashMap::new();
    let mut skipped = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (pages, skipped);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let stem = path.file_stem().and_then(|stem| stem.to_str()).unwrap_or_default();
        let Some(lang) =
            primary_language(stem).filter(|lang| lang == stem && path.extension() == Some("json".as_ref()))
        else {
            continue;
        };
        match read_texts(&path) {
            Ok(texts) => {
                pages.insert(lang.clone(), localized_page(html, &lang, &texts));
            }
            Err(error) => skipped.push(error),
        }
    }
    (pages, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_reduce_to_their_language() {
        assert_eq!(primary_language("de").as_deref(), Some("de"));
        assert_eq!(primary_language("de-AT").as_deref(), Some("de"));
        assert_eq!(primary_language("FR_ca").as_deref(), Some("fr"));
        assert_eq!(primary_language("ast").as_deref(), Some("ast"));
        assert_eq!(primary_language(""), None);
        assert_eq!(primary_language("../../x"), None, "never a path");
        assert_eq!(primary_language("deutsch"), None);
    }

    #[test]
    fn the_page_carries_the_language_and_its_escaped_texts() {
        let texts = BTreeMap::from([("greeting".to_owned(), "\"Hallo\" & <b>willkommen</b>".to_owned())]);
        let page = localized_page("<!doctype html>\n<html lang=\"en\">\n<head></head></html>", "de", &texts);
        assert_eq!(
            page,
            "<!doctype html>\n<html lang=\"de\" data-texts=\"{&quot;greeting&quot;:&quot;\\&quot;Hallo\\&quot; \
             &amp; &lt;b&gt;willkommen&lt;/b&gt;&quot;}\">\n<head></head></html>"
        );
    }

    #[test]
    fn only_good_language_files_make_pages() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("de.json"), r#"{"greeting":"Hallo"}"#).unwrap();
        std::fs::write(dir.path().join("fr.json"), r#"{"greeting":3}"#).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a language").unwrap();
        std::fs::write(dir.path().join("de-AT.json"), r#"{"greeting":"Servus"}"#).unwrap();
        let (pages, skipped) = localized_pages("<html><body></body></html>", dir.path());
        assert_eq!(pages.keys().collect::<Vec<_>>(), ["de"]);
        assert!(pages["de"].starts_with("<html lang=\"de\" data-texts="));
        assert_eq!(skipped.len(), 1);
        let message = skipped[0].to_string();
        assert!(message.contains("fr.json") && message.contains("not a JSON object of strings"), "{message}");
        let (pages, skipped) = localized_pages("<html>", &dir.path().join("missing"));
        assert!(pages.is_empty() && skipped.is_empty());
    }
}
