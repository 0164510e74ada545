//! The working area of the desktop in a real browser, without a server:
//! offers, the chat panel (sending, typing), transfer validation, the
//! disposition and the properties. Each test mounts `<Desk/>` over a plain
//! `DeskView` built by feeding `Chats` the same events the server sends.
//!
//! Run with `wasm-pack test --headless --chrome .` (see README).
#![cfg(target_arch = "wasm32")]

use switchboard_app::desk::chats::Chats;
use switchboard_app::desk::{DeskView, SessionView, UserAction};
use switchboard_protocol::ids::RequestId;
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::agent::{AgentState, LabelledCode};
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::time::Timestamp;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{
    Element, HtmlButtonElement, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement, KeyboardEvent,
    KeyboardEventInit,
};

wasm_bindgen_test_configure!(run_in_browser);

mod desk_support;

use desk_support::{Mounted, bubbling, label_for, settle};

fn keydown(key: &str, shift: bool) -> KeyboardEvent {
    let init = KeyboardEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_key(key);
    init.set_shift_key(shift);
    KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()
}

fn now() -> u64 {
    js_sys::Date::now() as u64
}

fn session_view(disposition_required: bool) -> SessionView {
    SessionView {
        agent_id: "alice".into(),
        agent_name: "Alice Martin".into(),
        session_id: "S0123".into(),
        state: AgentState::Ready,
        state_since: Timestamp::from_millis(now()),
        not_ready_reasons: vec![LabelledCode { code: "lunch".into(), label: "Lunch".into() }],
        dispositions: vec![
            LabelledCode { code: "resolved".into(), label: "Resolved".into() },
            LabelledCode { code: "follow-up".into(), label: "Needs follow-up".into() },
        ],
        disposition_required,
        groups: vec!["Billing".into(), "Sales".into()],
        changing: false,
        error: None,
    }
}

fn feed(chats: &mut Chats, seq: u64, name: &str, data: &str) {
    let frame = format!(r#"{{"seq":{seq},"target":"S0123.I7","time":{},"event":"{name}","data":{data}}}"#, now());
    match ServerMessage::from_json(&frame).expect("test event parses") {
        ServerMessage::Event(event) => chats.apply(&event),
        other => panic!("not an event: {other:?}"),
    }
}

fn offered() -> Chats {
    let mut chats = Chats::new("alice");
    let expires = now() + 25_500;
    feed(
        &mut chats,
        1,
        "interaction.offered",
        &format!(
            r#"{{"customer":{{"kind":"customer","name":"James Bond"}},"queue":"Billing","subject":"New gadget",
                "applicationData":{{"language":"French"}},"expiresAt":{expires}}}"#
        ),
    );
    chats
}

fn chatting() -> Chats {
    let mut chats = offered();
    feed(
        &mut chats,
        2,
        "interaction.added",
        r#"{"customer":{"kind":"customer","name":"James Bond"},"queue":"Billing",
            "properties":{"Queue":"Billing","language":"French","OP-Session-ID":"S0123"},"version":2}"#,
    );
    feed(
        &mut chats,
        3,
        "chat.transcript",
        r#"{"messages":[{"messageId":1,"clientId":"w-1","from":{"kind":"customer","name":"James Bond"},
            "text":"<b>Hi</b> there","time":1000}]}"#,
    );
    feed(
        &mut chats,
        4,
        "chat.message",
        r#"{"messageId":2,"from":{"kind":"system","name":"Switchboard"},"text":"Alice Martin joined the chat.","time":2000}"#,
    );
    chats
}

async fn desk_with(chats: Chats, disposition_required: bool) -> Mounted {
    Mounted::new(DeskView { session: Some(session_view(disposition_required)), chats, ..DeskView::default() }).await
}

#[wasm_bindgen_test]
async fn an_offer_shows_who_where_and_what_and_can_be_accepted_or_rejected() {
    let desk = desk_with(offered(), false).await;
    assert_eq!(desk.text("offer-customer"), "James Bond");
    assert_eq!(desk.text("offer-queue"), "Billing");
    assert_eq!(desk.text("offer-subject"), "New gadget");
    assert_eq!(desk.text("offer-details"), "languageFrench");
    assert_eq!(desk.text("offer-countdown"), "Expires in 26 s");
    assert_eq!(desk.text("announcer"), "New chat offer from James Bond in queue Billing: New gadget.");
    assert_eq!(desk.get("announcer").get_attribute("aria-live").as_deref(), Some("polite"));

    desk.button("offer-accept").click();
    desk.button("offer-reject").click();
    assert_eq!(desk.take_actions(), [UserAction::AcceptOffer("I7".into()), UserAction::RejectOffer("I7".into())]);

    desk.update(|view| {
        view.chats.track(&RequestId::new("5"), switchboard_app::desk::chats::Tracked::Accept("I7".into()))
    })
    .await;
    assert!(desk.button("offer-accept").disabled(), "no second answer while one is in flight");
}

#[wasm_bindgen_test]
async fn the_accepted_chat_shows_its_transcript_as_text() {
    let desk = desk_with(chatting(), false).await;
    assert!(desk.find("offer").is_none(), "the offer became a chat");
    assert_eq!(desk.text("chat-customer"), "James Bond");
    let transcript = desk.get("transcript");
    assert_eq!(transcript.get_attribute("role").as_deref(), Some("log"));
    let lines = transcript.query_selector_all("[data-testid=line]").unwrap();
    assert_eq!(lines.length(), 2);
    let first: Element = lines.get(0).unwrap().unchecked_into();
    assert_eq!(first.get_attribute("data-author").as_deref(), Some("customer"));
    assert!(first.query_selector("b").unwrap().is_none(), "never HTML");
    assert!(first.text_content().unwrap().contains("<b>Hi</b> there"));
    let second: Element = lines.get(1).unwrap().unchecked_into();
    assert_eq!(second.get_attribute("data-author").as_deref(), Some("system"), "system messages stand apart");
    assert_eq!(desk.button("chat-row").get_attribute("aria-current").as_deref(), Some("true"));
}

#[wasm_bindgen_test]
async fn enter_sends_shift_enter_does_not_and_delivery_is_shown() {
    let desk = desk_with(chatting(), false).await;
    let composer: HtmlTextAreaElement = desk.get("composer-text").unchecked_into();
    assert_eq!(label_for(&composer.id()), "Message");
    composer.set_value("Hello James");
    composer.dispatch_event(&bubbling("input")).unwrap();
    settle().await;
    composer.dispatch_event(&keydown("Enter", true)).unwrap();
    assert_eq!(
        desk.take_actions(),
        [UserAction::Typing { chat: "I7".into(), active: true }],
        "typing is announced; Shift+Enter does not send"
    );
    composer.dispatch_event(&keydown("Enter", false)).unwrap();
    settle().await;
    assert_eq!(
        desk.take_actions(),
        [
            UserAction::Typing { chat: "I7".into(), active: false },
            UserAction::SendMessage { chat: "I7".into(), text: "Hello James".into() },
        ]
    );
    assert_eq!(composer.value(), "", "the composer is cleared");

    // What the connection does with it: Sending…, then Sent.
    desk.update(|view| {
        let id = view.chats.compose("I7", "Hello James", Timestamp::from_millis(now())).unwrap();
        view.chats.track(
            &RequestId::new("9"),
            switchboard_app::desk::chats::Tracked::Send { chat: "I7".into(), client_id: id.to_string() },
        );
    })
    .await;
    assert_eq!(desk.text("delivery"), "Sending…");
    desk.update(|view| {
        view.chats.settle(&RequestId::new("9"), Ok(()));
    })
    .await;
    assert_eq!(desk.text("delivery"), "Sent");
}

#[wasm_bindgen_test]
async fn the_customer_typing_is_shown() {
    let desk = desk_with(chatting(), false).await;
    assert_eq!(desk.text("customer-typing"), "");
    desk.update(|view| {
        feed(&mut view.chats, 5, "chat.typing", r#"{"from":{"kind":"customer","name":"James Bond"},"typing":true}"#)
    })
    .await;
    assert_eq!(desk.text("customer-typing"), "James Bond is typing…");
}

#[wasm_bindgen_test]
async fn unread_messages_and_the_waiting_alarm_show_in_the_list() {
    let mut chats = chatting();
    chats.selected = None;
    let long_ago = now() - 90_000;
    feed(
        &mut chats,
        5,
        "chat.message",
        &format!(
            r#"{{"messageId":3,"clientId":"w-2","from":{{"kind":"customer","name":"James Bond"}},"text":"Hello?","time":{long_ago}}}"#
        ),
    );
    let desk = desk_with(chats, false).await;
    assert_eq!(desk.text("chat-unread"), "1");
    let row = desk.button("chat-row");
    assert!(row.get_attribute("class").unwrap().contains("alarm"), "waited longer than the threshold");
    row.click();
    assert_eq!(desk.take_actions(), [UserAction::OpenChat("I7".into())]);
}

#[wasm_bindgen_test]
async fn transfer_targets_are_validated_live_by_the_address_parser() {
    let desk = desk_with(chatting(), false).await;
    let field = desk.input("transfer-target");
    assert_eq!(label_for(&field.id()), "Agent, group, queue or address");
    assert!(desk.button("transfer-submit").disabled());

    field.set_value(" bob");
    field.dispatch_event(&bubbling("input")).unwrap();
    settle().await;
    assert_eq!(desk.text("transfer-error"), "Not a valid target: the text starts or ends with whitespace; remove it.");
    assert_eq!(field.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert!(desk.button("transfer-submit").disabled());

    // The pick list: the chat's queue and the agent's groups.
    let picks = desk.root.query_selector_all("[data-testid=transfer-pick]").unwrap();
    let labels: Vec<String> = (0..picks.length()).map(|i| picks.get(i).unwrap().text_content().unwrap()).collect();
    assert_eq!(labels, ["Queue Billing", "Group Billing", "Group Sales"]);
    let sales: HtmlButtonElement = picks.get(2).unwrap().unchecked_into();
    sales.click();
    settle().await;
    assert_eq!(field.value(), "Sales@StatServer.GA");
    assert_eq!(desk.text("transfer-error"), "");
    desk.button("transfer-submit").click();
    let actions = desk.take_actions();
    assert!(
        matches!(&actions[..], [UserAction::Transfer { chat, to }] if chat == "I7" && to.to_string() == "Sales@StatServer.GA"),
        "{actions:?}"
    );
}

#[wasm_bindgen_test]
async fn a_required_disposition_must_be_chosen_before_mark_done() {
    let desk = desk_with(chatting(), true).await;
    let select: HtmlSelectElement = desk.get("disposition").unchecked_into();
    assert_eq!(label_for(&select.id()), "Disposition (required)");
    assert_eq!(select.length(), 3, "a placeholder and the configured codes");
    assert!(desk.button("mark-done").disabled());
    assert_eq!(desk.text("disposition-hint"), "Choose a disposition to mark the chat done.");

    select.set_value("follow-up");
    select.dispatch_event(&bubbling("change")).unwrap();
    settle().await;
    assert!(!desk.button("mark-done").disabled());
    desk.button("mark-done").click();
    desk.button("leave").click();
    assert_eq!(
        desk.take_actions(),
        [
            UserAction::MarkDone { chat: "I7".into(), disposition: Some("follow-up".into()) },
            UserAction::Leave("I7".into())
        ]
    );

    desk.update(|view| {
        view.chats.track(&RequestId::new("8"), switchboard_app::desk::chats::Tracked::MarkDone("I7".into()));
        let failure = Failure::new(FailureCode::InvalidValue, "unknown disposition `x`");
        view.chats.settle(&RequestId::new("8"), Err(&failure));
    })
    .await;
    assert_eq!(desk.text("chat-error"), "unknown disposition `x`");
}

#[wasm_bindgen_test]
async fn an_optional_disposition_can_be_left_out() {
    let desk = desk_with(chatting(), false).await;
    assert!(!desk.button("mark-done").disabled());
    desk.button("mark-done").click();
    assert_eq!(desk.take_actions(), [UserAction::MarkDone { chat: "I7".into(), disposition: None }]);
}

#[wasm_bindgen_test]
async fn properties_are_shown_edited_and_updated_live() {
    let desk = desk_with(chatting(), false).await;
    assert_eq!(desk.text("properties-version"), "v2");
    let language = desk.root.query_selector("[data-name=language] input").unwrap().unwrap();
    let language: HtmlInputElement = language.unchecked_into();
    assert_eq!(language.value(), "French");
    let session = desk.root.query_selector("[data-name=OP-Session-ID] input").unwrap().unwrap();
    assert!(session.unchecked_into::<HtmlInputElement>().read_only(), "OP-Session-ID is read-only");

    language.set_value("German");
    let save: HtmlButtonElement =
        desk.root.query_selector("[data-name=language] [data-testid=property-save]").unwrap().unwrap().unchecked_into();
    save.click();
    assert_eq!(
        desk.take_actions(),
        [UserAction::SetProperty { chat: "I7".into(), name: "language".into(), value: "German".into() }]
    );

    desk.update(|view| {
        feed(
            &mut view.chats,
            5,
            "EventPropertiesChanged",
            r#"{"version":3,"changed":{"language":"Spanish"},"by":"bob"}"#,
        )
    })
    .await;
    assert_eq!(desk.text("properties-version"), "v3");
    let language = desk.root.query_selector("[data-name=language] input").unwrap().unwrap();
    assert_eq!(language.unchecked_into::<HtmlInputElement>().value(), "Spanish", "edits by others show live");

    desk.update(|view| {
        view.chats.track(&RequestId::new("7"), switchboard_app::desk::chats::Tracked::Properties("I7".into()));
        let stale = Failure::new(FailureCode::StaleVersion, "the properties changed since version 2 (now 3)");
        view.chats.settle(&RequestId::new("7"), Err(&stale));
    })
    .await;
    assert!(desk.text("properties-error").contains("someone changed the properties meanwhile (now version 3)"));
}
