//! The customer widget's panel in a real browser, without a server: each
//! test mounts `<Panel/>` over a plain `WidgetView` signal and a callback
//! that records the `WidgetAction`s, then checks the DOM.
//!
//! Run with `wasm-pack test --headless --chrome .` (see README).
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use switchboard_app::widget::session::{Author, Delivery, Details, Line, QueueFigures, Stage};
use switchboard_app::widget::texts::T;
use switchboard_app::widget::{Panel, WidgetAction, WidgetConfig, WidgetView, embed, json, provide_widget_with};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, Event, EventInit, HtmlElement, HtmlInputElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

struct Mounted {
    view: RwSignal<WidgetView>,
    actions: Rc<RefCell<Vec<WidgetAction>>>,
    root: HtmlElement,
    handle: Option<Box<dyn Any>>,
}

impl Mounted {
    async fn new(initial: WidgetView, config: WidgetConfig) -> Self {
        let document = document();
        let root: HtmlElement = document.create_element("div").unwrap().unchecked_into();
        document.body().unwrap().append_child(&root).unwrap();
        let view = RwSignal::new(initial);
        let actions = Rc::new(RefCell::new(Vec::new()));
        let recorded = Rc::clone(&actions);
        let handle = leptos::mount::mount_to(root.clone(), move || {
            let record = UnsyncCallback::new(move |action: WidgetAction| recorded.borrow_mut().push(action));
            provide_widget_with(view.read_only(), record);
            view! { <Panel config/> }
        });
        let mounted = Self { view, actions, root, handle: Some(Box::new(handle)) };
        settle().await;
        mounted
    }

    async fn at(stage: Stage) -> Self {
        Self::new(WidgetView { stage: Some(stage), ..WidgetView::default() }, WidgetConfig::default()).await
    }

    async fn update(&self, change: impl FnOnce(&mut WidgetView)) {
        self.view.update(change);
        settle().await;
    }

    fn get(&self, test_id: &str) -> HtmlElement {
        self.root
            .query_selector(&format!("[data-testid=\"{test_id}\"]"))
            .unwrap()
            .unwrap_or_else(|| panic!("no element with data-testid={test_id}"))
            .unchecked_into()
    }

    fn shown(&self, test_id: &str) -> bool {
        !self.get(test_id).hidden()
    }

    fn text(&self, test_id: &str) -> String {
        self.get(test_id).text_content().unwrap_or_default()
    }

    fn input(&self, test_id: &str) -> HtmlInputElement {
        self.get(test_id).unchecked_into()
    }

    fn take_actions(&self) -> Vec<WidgetAction> {
        std::mem::take(&mut self.actions.borrow_mut())
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        drop(self.handle.take());
        self.root.remove();
    }
}

async fn settle() {
    for _ in 0..8 {
        leptos::task::tick().await;
    }
}

fn submit(form: &HtmlElement) {
    let init = EventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    form.dispatch_event(&Event::new_with_event_init_dict("submit", &init).unwrap()).unwrap();
}

fn key(target: &Element, key: &str, shift: bool) {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_shift_key(shift);
    init.set_bubbles(true);
    init.set_cancelable(true);
    target.dispatch_event(&KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()).unwrap();
}

fn line(key: &str, author: Author, name: &str, text: &str, delivery: Delivery) -> Line {
    Line { key: key.into(), author, name: name.into(), text: text.into(), delivery, message_id: 0 }
}

#[wasm_bindgen_test]
async fn the_pre_chat_form_asks_for_the_configured_fields() {
    let config = WidgetConfig { fields: vec!["name".into(), "subject".into()], ..WidgetConfig::default() };
    let panel = Mounted::new(WidgetView::default(), config).await;
    assert!(panel.shown("prechat"));
    assert!(!panel.shown("waiting") && !panel.shown("chat") && !panel.shown("agent-available"));
    assert!(panel.shown("prechat-name") && panel.shown("prechat-subject"));
    assert!(!panel.shown("prechat-email"), "not configured");
    panel.input("prechat-name").set_value(" James ");
    panel.input("prechat-subject").set_value("Pen");
    submit(&panel.get("prechat"));
    assert_eq!(
        panel.take_actions(),
        [WidgetAction::Start(Details { name: "James".into(), email: String::new(), subject: "Pen".into() })]
    );
}

#[wasm_bindgen_test]
async fn waiting_shows_the_dialog_the_queue_and_what_happens_next() {
    let panel = Mounted::at(Stage::Waiting { text: "We will notify you when agent is available".into() }).await;
    assert!(panel.shown("waiting") && !panel.shown("prechat"));
    assert_eq!(panel.text("confirmation-text"), "We will notify you when agent is available");
    assert_eq!(panel.text("queue-status"), "");
    panel.update(|v| v.queue = Some(QueueFigures { position: 2, waiting: 5, estimate_secs: Some(150) })).await;
    assert_eq!(panel.text("queue-status"), "You are number 2 in line (5 waiting). Estimated wait: about 3 minutes.");
    panel.update(|v| v.notice = Some("You did not confirm in time. You keep your place.".into())).await;
    assert_eq!(panel.text("notice"), "You did not confirm in time. You keep your place.");
    panel.get("cancel").click();
    assert_eq!(panel.take_actions(), [WidgetAction::Leave]);
}

#[wasm_bindgen_test]
async fn the_agent_available_prompt_is_an_alert_and_confirms() {
    let panel = Mounted::at(Stage::Waiting { text: "Wait".into() }).await;
    panel.update(|v| v.stage = Some(Stage::Notified { alert: "Agent is available.".into(), confirm_by: 1 })).await;
    assert!(panel.shown("agent-available") && !panel.shown("waiting"));
    assert_eq!(panel.text("alert-text"), "Agent is available.");
    assert_eq!(panel.get("agent-available").get_attribute("role").as_deref(), Some("alert"));
    // The driver focuses the first control of the shown section.
    switchboard_app::widget::embed::focus_first();
    let focused = document().active_element().unwrap();
    assert_eq!(focused.get_attribute("data-testid").as_deref(), Some("confirm"));
    panel.get("confirm").click();
    assert_eq!(panel.take_actions(), [WidgetAction::Confirm]);
}

#[wasm_bindgen_test]
async fn the_chat_renders_text_only_with_delivery_and_typing() {
    let panel = Mounted::at(Stage::Chatting).await;
    panel
        .update(|v| {
            v.transcript = vec![
                line("m1", Author::System, "Switchboard", "Alice joined the chat.", Delivery::Sent),
                line("w-1", Author::Customer, "James", "<img src=x onerror=alert(1)>", Delivery::Sending),
            ];
            v.agent_typing = Some("Alice".into());
        })
        .await;
    let log = panel.get("transcript");
    assert_eq!(log.get_attribute("role").as_deref(), Some("log"));
    assert_eq!(log.get_attribute("aria-live").as_deref(), Some("polite"));
    assert_eq!(log.query_selector("img").unwrap(), None, "text, never HTML");
    let lines = log.query_selector_all("[data-testid=message]").unwrap();
    assert_eq!(lines.length(), 2);
    assert!(lines.item(1).unwrap().text_content().unwrap().contains("<img src=x onerror=alert(1)>"));
    assert!(lines.item(1).unwrap().text_content().unwrap().ends_with("Sending…"));
    assert_eq!(panel.text("typing"), "Alice is typing…");

    panel.update(|v| v.transcript[1].delivery = Delivery::Sent).await;
    assert!(panel.get("transcript").text_content().unwrap().ends_with("Sent"));
    panel.update(|v| v.transcript[1].delivery = Delivery::Delivered).await;
    assert!(panel.get("transcript").text_content().unwrap().ends_with("Delivered"));
    panel.update(|v| v.transcript[1].delivery = Delivery::Seen).await;
    assert!(panel.get("transcript").text_content().unwrap().ends_with("Seen"));

    let composer = panel.input("composer");
    composer.set_value("Hello");
    composer.dispatch_event(&Event::new("input").unwrap()).unwrap();
    submit(&panel.get("chat"));
    assert_eq!(
        panel.take_actions(),
        [WidgetAction::Typing(true), WidgetAction::Send("Hello".into()), WidgetAction::Typing(false)]
    );
    assert_eq!(composer.value(), "");
    let href = panel.get("download").get_attribute("href").unwrap();
    assert!(href.starts_with("data:text/plain;charset=utf-8,Switchboard%3A%20Alice%20joined"), "{href}");
}

#[wasm_bindgen_test]
async fn a_dropped_connection_shows_the_banner() {
    let panel = Mounted::at(Stage::Chatting).await;
    assert!(!panel.shown("offline-banner"));
    panel.update(|v| v.reconnecting = true).await;
    assert!(panel.shown("offline-banner"));
    assert!(panel.text("offline-banner").contains("reconnecting"));
}

#[wasm_bindgen_test]
async fn keyboard_focus_stays_in_the_panel_and_escape_minimises() {
    let panel = Mounted::at(Stage::Chatting).await;
    let first = panel.get("minimise");
    let last = panel.get("leave");
    last.focus().unwrap();
    key(&last, "Tab", false);
    assert_eq!(document().active_element().unwrap(), *first.unchecked_ref::<Element>());
    key(&first, "Tab", true);
    assert_eq!(document().active_element().unwrap(), *last.unchecked_ref::<Element>());
    key(&last, "Escape", false);
    assert_eq!(panel.take_actions(), [WidgetAction::Minimize]);
}

#[wasm_bindgen_test]
async fn the_end_tells_why_and_offers_a_new_chat() {
    let panel = Mounted::at(Stage::Ended { reason: "You left the chat.".into() }).await;
    assert!(panel.shown("ended-reason") && !panel.shown("chat"));
    assert_eq!(panel.text("ended-reason"), "You left the chat.");
    panel.get("start-over").click();
    assert_eq!(panel.take_actions(), [WidgetAction::StartOver]);
}

#[wasm_bindgen_test]
async fn a_german_widget_shows_german_texts() {
    let options = json::parse(r#"{"lang":"de","texts":{"title":"Acme-Hilfe"}}"#).unwrap();
    let german = json::parse(include_str!("../www/i18n/de.json")).unwrap();
    let config = WidgetConfig::from_json(&options, Some(&german));
    let panel = Mounted::new(WidgetView::default(), config).await;
    assert_eq!(
        panel.root.query_selector("h1").unwrap().unwrap().text_content().unwrap(),
        "Acme-Hilfe",
        "the snippet wins"
    );
    assert_eq!(panel.text("greeting"), "Fragen? Wir helfen Ihnen gerne.");
    assert_eq!(panel.root.query_selector("label[for=sb-name]").unwrap().unwrap().text_content().unwrap(), "Ihr Name");
    assert_eq!(panel.text("prechat-submit"), "Chat starten");
    assert_eq!(panel.get("minimise").get_attribute("aria-label").as_deref(), Some("Chat minimieren"));
    assert_eq!(panel.input("composer").placeholder(), "Nachricht schreiben…");

    panel
        .update(|v| {
            v.stage = Some(Stage::Waiting { text: "Wir benachrichtigen Sie.".into() });
            v.queue = Some(QueueFigures { position: 2, waiting: 5, estimate_secs: Some(150) });
        })
        .await;
    assert_eq!(
        panel.text("queue-status"),
        "Sie sind Nummer 2 in der Warteschlange (5 Wartende). Geschätzte Wartezeit: etwa 3 Minuten."
    );
    assert_eq!(panel.text("cancel"), "Anfrage abbrechen");

    panel
        .update(|v| {
            v.stage = Some(Stage::Chatting);
            v.transcript = vec![line("w-1", Author::Customer, "Sie", "Hallo", Delivery::Sending)];
            v.agent_typing = Some("Alice".into());
        })
        .await;
    assert_eq!(panel.text("typing"), "Alice schreibt…");
    assert!(panel.text("transcript").ends_with("Wird gesendet…"));
    assert_eq!(panel.text("send"), "Senden");
    assert_eq!(panel.text("download"), "Verlauf herunterladen");
}

#[wasm_bindgen_test]
async fn the_frame_reads_its_options_and_the_texts_the_server_put_in_the_page() {
    let root = document().document_element().unwrap();
    let location = window().location();
    location
        .set_hash(
            &js_sys::encode_uri_component(r#"{"lang":"fr","service":"sales","texts":{"send":"Go"}}"#)
                .as_string()
                .unwrap(),
        )
        .unwrap();
    root.set_attribute("data-texts", include_str!("../www/i18n/fr.json")).unwrap();
    let config = embed::config_from_page();
    assert_eq!(config.service, "sales");
    assert_eq!(config.texts.get(T::Greeting), "Des questions ? Nous sommes là pour vous aider.");
    assert_eq!(config.texts.get(T::Send), "Go", "the snippet wins over the language");

    // The server had no such language: English (the widget warns in the console).
    root.remove_attribute("data-texts").unwrap();
    location.set_hash(&js_sys::encode_uri_component(r#"{"lang":"xx"}"#).as_string().unwrap()).unwrap();
    let config = embed::config_from_page();
    assert_eq!(config.texts.get(T::Greeting), "Questions? We are here to help.");
    location.set_hash("").unwrap();
}
