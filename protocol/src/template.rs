//! Message templates with `{Key}` placeholders: the one filler behind the
//! server's autoresponse service and the desktop's canned responses, so a
//! template reads the same wherever it is filled.
//!
//! `{Key}` is looked up in the interaction's properties, then in the names
//! the caller adds (`{CustomerName}`); a string property is inserted as is,
//! any other value as its JSON text. `{Key|fallback}` gives the text to use
//! when the key is missing. `{{` and `}}` are literal braces.
//!
//! What a missing key without fallback means depends on who fills: the
//! autoresponse service must not send half a message, so [`Missing::Refuse`]
//! fails; an agent can still edit a canned response before sending it, so
//! [`Missing::Keep`] leaves the placeholder in the text for them to see.

use serde_json::{Map, Value};

/// What to do with a placeholder whose key is missing and has no fallback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// Fail with [`TemplateError::MissingKey`].
    Refuse,
    /// Leave `{Key}` in the text as written.
    Keep,
}

/// Why a template could not be filled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template needs `{0}`, which this interaction does not have")]
    MissingKey(String),
    #[error("the template has an unmatched `{{` or `}}` (write `{{{{` or `}}}}` for a literal brace)")]
    Unbalanced,
}

/// Where placeholders are looked up: the interaction's properties, then
/// extra names the caller knows (the customer's display name).
#[derive(Clone, Copy, Debug)]
pub struct Values<'a> {
    pub properties: &'a Map<String, Value>,
    pub customer_name: Option<&'a str>,
}

impl Values<'_> {
    fn lookup(&self, key: &str) -> Option<String> {
        match self.properties.get(key) {
            Some(Value::String(text)) => Some(text.clone()),
            Some(Value::Null) | None => match key {
                "CustomerName" => self.customer_name.map(str::to_owned),
                _ => None,
            },
            Some(other) => Some(other.to_string()),
        }
    }
}

/// Fills `template`'s placeholders from `values`.
pub fn fill(template: &str, values: Values<'_>, missing: Missing) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        let brace = &rest[open..];
        if brace.starts_with("{{") || brace.starts_with("}}") {
            out.push_str(&brace[..1]);
            rest = &brace[2..];
            continue;
        }
        if brace.starts_with('}') {
            return Err(TemplateError::Unbalanced);
        }
        let close = brace.find('}').ok_or(TemplateError::Unbalanced)?;
        let placeholder = &brace[1..close];
        let (key, fallback) = match placeholder.split_once('|') {
            Some((key, fallback)) => (key.trim(), Some(fallback)),
            None => (placeholder.trim(), None),
        };
        match (values.lookup(key).or(fallback.map(str::to_owned)), missing) {
            (Some(value), _) => out.push_str(&value),
            (None, Missing::Keep) => out.push_str(&brace[..=close]),
            (None, Missing::Refuse) => return Err(TemplateError::MissingKey(key.to_owned())),
        }
        rest = &brace[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use serde_json::json;

    fn properties() -> Map<String, Value> {
        let mut properties = Map::new();
        properties.insert("Subject".into(), json!("Refund"));
        properties.insert("Priority".into(), json!(2));
        properties
    }

    fn values(properties: &Map<String, Value>) -> Values<'_> {
        Values { properties, customer_name: Some("James Bond") }
    }

    #[test]
    fn placeholders_are_filled_from_properties_and_the_customer_name() {
        let properties = properties();
        let text =
            fill("Hi {CustomerName}, about {Subject} (p{Priority}) {{ok}}", values(&properties), Missing::Refuse);
        assert_eq!(text.unwrap(), "Hi James Bond, about Refund (p2) {ok}");
    }

    #[test]
    fn a_missing_key_refuses_or_stays_unless_a_fallback_is_given() {
        let properties = properties();
        let values = values(&properties);
        assert_eq!(
            fill("Hi {FirstName}!", values, Missing::Refuse),
            Err(TemplateError::MissingKey("FirstName".into()))
        );
        assert_eq!(fill("Hi {FirstName}!", values, Missing::Keep).unwrap(), "Hi {FirstName}!");
        assert_eq!(fill("Hi {FirstName|there}!", values, Missing::Refuse).unwrap(), "Hi there!");
        assert_eq!(fill("Hi {FirstName|there}!", values, Missing::Keep).unwrap(), "Hi there!");
    }

    #[test]
    fn unbalanced_braces_are_an_error_either_way() {
        let properties = properties();
        for missing in [Missing::Refuse, Missing::Keep] {
            assert_eq!(fill("Hi {Subject", values(&properties), missing), Err(TemplateError::Unbalanced));
            assert_eq!(fill("Hi } there", values(&properties), missing), Err(TemplateError::Unbalanced));
        }
    }

    #[test]
    fn text_without_placeholders_is_unchanged() {
        let properties = Map::new();
        let values = Values { properties: &properties, customer_name: None };
        assert_eq!(fill("Plain text, ünïcode ✓", values, Missing::Refuse).unwrap(), "Plain text, ünïcode ✓");
        assert_eq!(fill("Hi {CustomerName|there}", values, Missing::Refuse).unwrap(), "Hi there");
    }
}
