//! The desktop's speed tools in a real browser, without a server: the "/"
//! list of canned responses in the composer (keyboard only, announced,
//! filled from the chat) and the chat panel's services menu.
//!
//! Run with `wasm-pack test --headless --chrome .` (see README).
#![cfg(target_arch = "wasm32")]

use serde_json::{Map, json};
use switchboard_app::desk::chats::{Chats, Tracked};
use switchboard_app::desk::{DeskView, SessionView, UserAction};
use switchboard_protocol::ids::RequestId;
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::agent::AgentState;
use switchboard_protocol::message::agent_tools::{CannedResponse, ServiceAction};
use switchboard_protocol::time::Timestamp;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlTextAreaElement, KeyboardEvent, KeyboardEventInit, MouseEvent, MouseEventInit};

wasm_bindgen_test_configure!(run_in_browser);

mod desk_support;

use desk_support::{Mounted, bubbling, settle};

fn keydown(key: &str) -> KeyboardEvent {
    let init = KeyboardEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_key(key);
    KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()
}

fn feed(chats: &mut Chats, seq: u64, name: &str, data: &str) {
    let frame = format!(r#"{{"seq":{seq},"target":"S0123.I7","time":1000,"event":"{name}","data":{data}}}"#);
    match ServerMessage::from_json(&frame).expect("test event parses") {
        ServerMessage::Event(event) => chats.apply(&event),
        other => panic!("not an event: {other:?}"),
    }
}

fn response(shortcut: &str, title: &str, text: &str, queues: &[&str]) -> CannedResponse {
    CannedResponse {
        shortcut: shortcut.into(),
        title: title.into(),
        text: text.into(),
        queues: queues.iter().map(|queue| (*queue).to_owned()).collect(),
    }
}

fn menu_entry(label: &str, service: &str, template: Option<&str>) -> ServiceAction {
    let data = template.map(|name| Map::from_iter([("template".to_owned(), json!(name))])).unwrap_or_default();
    ServiceAction { label: label.into(), service: service.into(), method: None, data }
}

fn chatting() -> Chats {
    let mut chats = Chats::new("alice");
    chats.responses = vec![
        response("refund", "Refund on its way", "Hi {CustomerName}, {Amount|your money} is on its way.", &["Billing"]),
        response("hours", "Opening hours", "We are open 9 to 5.", &[]),
        response("sales", "Sales only", "Ask Sales.", &["Sales"]),
    ];
    chats.services = vec![
        menu_entry("autoresponse: send “ack”", "autoresponse", Some("ack")),
        menu_entry("classification: classify the chat", "classification", None),
    ];
    feed(
        &mut chats,
        1,
        "interaction.added",
        r#"{"customer":{"kind":"customer","name":"James Bond"},"queue":"Billing",
            "properties":{"Queue":"Billing","Amount":"12 EUR"},"version":2}"#,
    );
    chats.select("I7");
    chats
}

fn session_view() -> SessionView {
    SessionView {
        agent_id: "alice".into(),
        agent_name: "Alice Martin".into(),
        session_id: "S0123".into(),
        state: AgentState::Ready,
        state_since: Timestamp::from_millis(0),
        not_ready_reasons: vec![],
        dispositions: vec![],
        disposition_required: false,
        groups: vec![],
        changing: false,
        error: None,
    }
}

async fn desk_with(chats: Chats) -> Mounted {
    Mounted::new(DeskView { session: Some(session_view()), chats, ..DeskView::default() }).await
}

async fn desk() -> Mounted {
    desk_with(chatting()).await
}

fn composer(desk: &Mounted) -> HtmlTextAreaElement {
    desk.get("composer-text").unchecked_into()
}

async fn type_text(desk: &Mounted, text: &str) {
    let composer = composer(desk);
    composer.set_value(text);
    composer.dispatch_event(&bubbling("input")).unwrap();
    settle().await;
}

async fn press(desk: &Mounted, key: &str) {
    composer(desk).dispatch_event(&keydown(key)).unwrap();
    settle().await;
}

fn options(desk: &Mounted) -> Vec<(String, bool)> {
    let found = desk.root.query_selector_all("[data-testid=canned-option]").unwrap();
    (0..found.length())
        .map(|index| {
            let option: Element = found.get(index).unwrap().unchecked_into();
            (
                option.text_content().unwrap_or_default(),
                option.get_attribute("aria-selected").as_deref() == Some("true"),
            )
        })
        .collect()
}

fn list_hidden(desk: &Mounted) -> bool {
    desk.get("canned-list").has_attribute("hidden")
}

#[wasm_bindgen_test]
async fn slash_opens_the_list_for_this_queue_and_the_keyboard_picks_a_filled_response() {
    let desk = desk().await;
    assert!(list_hidden(&desk), "closed until a leading slash");
    assert_eq!(composer(&desk).get_attribute("aria-autocomplete").as_deref(), Some("list"));

    type_text(&desk, "/").await;
    assert!(!list_hidden(&desk));
    assert_eq!(
        options(&desk),
        [("/refund Refund on its way".into(), true), ("/hours Opening hours".into(), false)],
        "the Sales-only response is not listed in a Billing chat"
    );
    let list = desk.get("canned-list");
    assert_eq!(list.get_attribute("role").as_deref(), Some("listbox"));
    assert_eq!(composer(&desk).get_attribute("aria-controls"), list.get_attribute("id"));
    let first_id = desk.root.query_selector("[data-testid=canned-option]").unwrap().unwrap().id();
    assert_eq!(composer(&desk).get_attribute("aria-activedescendant"), Some(first_id));
    assert_eq!(
        desk.text("canned-status"),
        "2 canned responses. Refund on its way (1 of 2). Enter inserts, Escape closes."
    );

    press(&desk, "ArrowDown").await;
    assert!(options(&desk)[1].1, "the second is highlighted");
    assert!(desk.text("canned-status").contains("Opening hours (2 of 2)"));
    press(&desk, "ArrowDown").await;
    assert!(options(&desk)[0].1, "wraps around");
    press(&desk, "ArrowUp").await;
    press(&desk, "ArrowUp").await;
    assert!(options(&desk)[0].1);

    press(&desk, "Enter").await;
    assert_eq!(composer(&desk).value(), "Hi James Bond, 12 EUR is on its way.", "filled from the chat");
    assert!(list_hidden(&desk), "closed after the pick");
    assert!(composer(&desk).get_attribute("aria-activedescendant").is_none());
    assert!(
        !desk.take_actions().iter().any(|action| matches!(action, UserAction::SendMessage { .. })),
        "Enter inserted; it did not send"
    );
    // Still editable; the next Enter sends the edited text.
    type_text(&desk, "Hi James Bond, 12 EUR is on its way today.").await;
    press(&desk, "Enter").await;
    assert!(desk.take_actions().contains(&UserAction::SendMessage {
        chat: "I7".into(),
        text: "Hi James Bond, 12 EUR is on its way today.".into()
    }));
}

#[wasm_bindgen_test]
async fn the_search_narrows_escape_closes_and_no_match_sends_as_typed() {
    let desk = desk().await;
    type_text(&desk, "/hou").await;
    assert_eq!(options(&desk), [("/hours Opening hours".into(), true)]);
    press(&desk, "Escape").await;
    assert!(list_hidden(&desk), "Escape closes");
    assert_eq!(composer(&desk).value(), "/hou", "and leaves the text");
    assert_eq!(desk.text("canned-status"), "");
    type_text(&desk, "/hour").await;
    assert!(!list_hidden(&desk), "typing opens it again");

    type_text(&desk, "/shrug").await;
    assert!(list_hidden(&desk), "nothing matches");
    desk.take_actions();
    press(&desk, "Enter").await;
    assert!(
        desk.take_actions().contains(&UserAction::SendMessage { chat: "I7".into(), text: "/shrug".into() }),
        "with nothing to pick, Enter sends"
    );
}

#[wasm_bindgen_test]
async fn a_click_on_an_option_inserts_it_too() {
    let desk = desk().await;
    type_text(&desk, "/").await;
    let second: Element =
        desk.root.query_selector_all("[data-testid=canned-option]").unwrap().get(1).unwrap().unchecked_into();
    let init = MouseEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    second.dispatch_event(&MouseEvent::new_with_mouse_event_init_dict("mousedown", &init).unwrap()).unwrap();
    settle().await;
    assert_eq!(composer(&desk).value(), "We are open 9 to 5.");
}

#[wasm_bindgen_test]
async fn the_services_menu_calls_a_service_and_shows_its_answer_in_the_panel() {
    let desk = desk().await;
    let buttons = desk.root.query_selector_all("[data-testid=service-action]").unwrap();
    assert_eq!(buttons.length(), 2);
    let classify: web_sys::HtmlButtonElement = buttons.get(1).unwrap().unchecked_into();
    assert_eq!(classify.text_content().as_deref(), Some("classification: classify the chat"));
    classify.click();
    assert_eq!(
        desk.take_actions(),
        [UserAction::CallService {
            chat: "I7".into(),
            action: menu_entry("classification: classify the chat", "classification", None)
        }]
    );

    // What the connection does with it: pending, then the answer in the transcript.
    desk.update(|view| {
        view.chats.track(
            &RequestId::new("8"),
            Tracked::Service { chat: "I7".into(), label: "classification: classify the chat".into() },
        )
    })
    .await;
    assert_eq!(desk.text("service-pending"), "Asking classification: classify the chat…");
    assert!(classify.disabled(), "one call at a time");
    desk.update(|view| {
        feed(
            &mut view.chats,
            2,
            "Event3rdServerResponse",
            r#"{"service":"classification","request":"8","result":{"Category":"billing","CategoryConfidence":0.5}}"#,
        )
    })
    .await;
    assert_eq!(desk.text("service-pending"), "");
    assert!(!classify.disabled());
    let lines = desk.root.query_selector_all("[data-testid=line]").unwrap();
    let last: Element = lines.get(lines.length() - 1).unwrap().unchecked_into();
    assert_eq!(last.get_attribute("data-author").as_deref(), Some("system"));
    assert_eq!(
        last.text_content().as_deref(),
        Some("classification answered — Category: billing; CategoryConfidence: 0.5")
    );

    desk.update(|view| {
        feed(
            &mut view.chats,
            3,
            "Event3rdServerFault",
            r#"{"service":"autoresponse","reason":"service-error","message":"template `ack` needs the property `FirstName`"}"#,
        )
    })
    .await;
    assert!(
        desk.text("transcript")
            .contains("autoresponse failed (service-error): template `ack` needs the property `FirstName`")
    );
}

#[wasm_bindgen_test]
async fn without_configured_services_there_is_no_menu() {
    let mut chats = chatting();
    chats.services.clear();
    let desk = desk_with(chats).await;
    assert!(desk.find("chat-panel").is_some(), "the chat is open");
    assert!(desk.find("services-menu").is_none());
}
