//! The frame's side of the host page: the snippet's options (in the URL
//! fragment, so they never reach server logs) and the texts of the language
//! they ask for, `postMessage` both ways with the origin checked, the alert
//! (sound; the loader flags the host's title), the transcript download and
//! the focus trap.

use super::WidgetConfig;
use super::json::{Json, Parsed};
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlElement, MessageEvent};

/// The options the loader put in `#…` (parsed JSON).
fn page_options() -> Option<Parsed> {
    let hash = window().location().hash().unwrap_or_default();
    let json = js_sys::decode_uri_component(hash.trim_start_matches('#')).ok().and_then(|text| text.as_string());
    json.and_then(|json| super::json::parse(&json))
}

/// The config: the options the loader put in `#…` over the defaults, and
/// the language's texts if the server put them in the page (it does for
/// `/widget/?lang=de` when it has `i18n/de.json`, as `<html lang="de"
/// data-texts="{…}">`: data sent only to those who ask for it, and no fetch
/// code in the widget). A language the server lacks leaves the widget in
/// English, with a console warning.
pub fn config_from_page() -> WidgetConfig {
    let Some(options) = page_options() else {
        return WidgetConfig::default();
    };
    let root = document().document_element();
    let texts = root.and_then(|root| root.get_attribute("data-texts")).and_then(|texts| super::json::parse(&texts));
    let wanted = options.text("lang").unwrap_or_default();
    if texts.is_none() && !wanted.is_empty() && !wanted.starts_with("en") {
        leptos::logging::warn!("switchboard: the server has no texts for this language; showing English");
    }
    WidgetConfig::from_json(&options, texts.as_ref())
}

/// A colour is accepted only if it looks like one (`#fff`, `rgb(…)`, `teal`).
pub fn is_safe_color(color: &str) -> bool {
    !color.is_empty()
        && color.len() <= 40
        && color.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '#' | '(' | ')' | ',' | '.' | '%' | ' '))
}

pub fn apply_theme(config: &WidgetConfig) {
    if !is_safe_color(&config.color) {
        return;
    }
    if let Some(root) = document().document_element().and_then(|root| root.dyn_into::<HtmlElement>().ok()) {
        let _ = root.style().set_property("--sb-accent", &config.color);
    }
}

/// Posts to the host page at `origin`, the one the loader declared
/// ([`WidgetConfig::origin`]). The server's `frame-ancestors` decides which
/// hosts may embed the frame at all; posting to the declared origin means a
/// false declaration only loses the messages.
pub fn post_to_host(origin: &str, message: &str) {
    if !(origin.starts_with("https://") || origin.starts_with("http://")) {
        return;
    }
    if let Ok(Some(parent)) = window().parent() {
        let _ = parent.post_message(&message.into(), origin);
    }
}

/// Listens for the host's messages, from its origin and its window only.
pub fn listen_to_host(origin: &str, act: UnsyncCallback<super::WidgetAction>) {
    let origin = origin.to_owned();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let from_parent = match (event.source(), window().parent()) {
            (Some(source), Ok(Some(parent))) => JsValue::from(source) == JsValue::from(parent),
            _ => false,
        };
        if !from_parent || event.origin() != origin {
            return;
        }
        let data = event.data().as_string().unwrap_or_default();
        if data == "sb:open" {
            focus_first();
        } else if let Some(subscription) = data.strip_prefix("sb:push:") {
            act.run(super::WidgetAction::PushSubscription(subscription.to_owned()));
        }
    });
    let _ = window().add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    on_message.forget();
}

fn focusables(root: &Element) -> Vec<HtmlElement> {
    let Ok(list) = root.query_selector_all("button:not([disabled]),input:not([disabled]),a[href]") else {
        return Vec::new();
    };
    // Sections of other stages stay in the DOM, hidden: skip what they hold.
    (0..list.length())
        .filter_map(|index| list.item(index)?.dyn_into::<HtmlElement>().ok())
        .filter(|item| item.closest("[hidden]").ok().flatten().is_none())
        .collect()
}

/// Focus goes to the first control of the shown section.
pub fn focus_first() {
    if let Some(body) = document().query_selector(".body").ok().flatten()
        && let Some(first) = focusables(&body).first()
    {
        let _ = first.focus();
    }
}

/// Tab and Shift+Tab cycle inside the open panel.
pub fn trap_focus(root: &Element, event: &web_sys::KeyboardEvent) {
    let items = focusables(root);
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return;
    };
    let active = document().active_element();
    let at = |item: &HtmlElement| active.as_ref().is_some_and(|active| active == item.unchecked_ref::<Element>());
    if event.shift_key() && at(first) {
        event.prevent_default();
        let _ = last.focus();
    } else if !event.shift_key() && at(last) {
        event.prevent_default();
        let _ = first.focus();
    }
}

/// "An agent is available": the loader on the host page plays a chime and
/// flags the page title while the tab is hidden (the host page is what the
/// customer sees, and it had the customer's click, so it may play sound).
pub fn alert(origin: &str, text: &str) {
    post_to_host(origin, &format!("sb:alert:{text}"));
}

/// The transcript as a `data:` URL for a download link (no Blob or object
/// URL bindings to ship).
pub fn transcript_href(text: &str) -> String {
    format!("data:text/plain;charset=utf-8,{}", String::from(js_sys::encode_uri_component(text)))
}
