//! What an agent sees (issue 18, item 9), in a real browser without a
//! server: properties as words, each once; accepting an offer shows its
//! chat; an offer card readable from its first frame.
//!
//! Run with `wasm-pack test --headless --chrome .` (see README).
#![cfg(target_arch = "wasm32")]

use switchboard_app::desk::chats::{Chats, Tracked};
use switchboard_app::desk::{DeskView, SessionView, UserAction};
use switchboard_protocol::ids::RequestId;
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::agent::AgentState;
use switchboard_protocol::time::Timestamp;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{HtmlButtonElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

mod desk_support;

use desk_support::Mounted;

fn now() -> u64 {
    js_sys::Date::now() as u64
}

fn feed(chats: &mut Chats, seq: u64, chat: &str, name: &str, data: &str) {
    let frame = format!(r#"{{"seq":{seq},"target":"S0123.{chat}","time":{},"event":"{name}","data":{data}}}"#, now());
    match ServerMessage::from_json(&frame).expect("test event parses") {
        ServerMessage::Event(event) => chats.apply(&event),
        other => panic!("not an event: {other:?}"),
    }
}

fn offer(customer: &str) -> String {
    format!(
        r#"{{"customer":{{"kind":"customer","name":"{customer}"}},"queue":"Billing","subject":"Refund",
            "applicationData":{{"subject":"Refund","language":"French"}},"expiresAt":{}}}"#,
        now() + 25_000
    )
}

fn added(customer: &str) -> String {
    format!(
        r#"{{"customer":{{"kind":"customer","name":"{customer}"}},"queue":"Billing",
            "properties":{{"Queue":"Billing","Subject":"Refund","subject":"Refund","OP-Session-ID":"S0123",
                           "RouteTarget":{{"type":"A","agent":"alice","place":"Place1","dn":"7001","vq":"Billing"}}}},
            "version":2}}"#
    )
}

/// James Bond's chat, open.
fn chatting() -> Chats {
    let mut chats = Chats::new("alice");
    feed(&mut chats, 1, "I7", "interaction.offered", &offer("James Bond"));
    feed(&mut chats, 2, "I7", "interaction.added", &added("James Bond"));
    chats
}

async fn desk_with(chats: Chats) -> Mounted {
    let session = SessionView {
        agent_id: "alice".into(),
        agent_name: "Alice Martin".into(),
        session_id: "S0123".into(),
        state: AgentState::Ready,
        state_since: Timestamp::from_millis(now()),
        not_ready_reasons: Vec::new(),
        dispositions: Vec::new(),
        disposition_required: false,
        groups: vec!["Billing".into()],
        changing: false,
        error: None,
    };
    Mounted::new(DeskView { session: Some(session), chats, ..DeskView::default() }).await
}

#[wasm_bindgen_test]
async fn properties_read_as_words_and_each_is_listed_once() {
    let desk = desk_with(chatting()).await;
    let field = |name: &str| -> Option<HtmlInputElement> {
        desk.root
            .query_selector(&format!("[data-name=\"{name}\"] [data-testid=property-value]"))
            .unwrap()
            .map(|element| element.unchecked_into())
    };
    let route = field("RouteTarget").expect("RouteTarget is listed");
    assert_eq!(route.value(), "Agent alice via Billing", "not JSON");
    assert!(route.read_only(), "routing's own value");
    assert_eq!(field("Subject").expect("Subject is listed").value(), "Refund");
    assert!(field("subject").is_none(), "the same property is not listed twice");
    let names: Vec<String> = (0..desk.root.query_selector_all("[data-testid=property]").unwrap().length())
        .filter_map(|index| desk.root.query_selector_all("[data-testid=property]").unwrap().get(index))
        .filter_map(|node| node.unchecked_into::<web_sys::Element>().get_attribute("data-name"))
        .collect();
    assert_eq!(names, ["OP-Session-ID", "Queue", "RouteTarget", "Subject"]);
}

#[wasm_bindgen_test]
async fn an_offer_lists_its_subject_once() {
    let mut chats = Chats::new("alice");
    feed(&mut chats, 1, "I8", "interaction.offered", &offer("Miss Moneypenny"));
    let desk = desk_with(chats).await;
    assert_eq!(desk.text("offer-subject"), "Refund");
    assert_eq!(desk.text("offer-details"), "languageFrench", "the subject is in the first line already");
}

#[wasm_bindgen_test]
async fn accepting_an_offer_shows_its_chat() {
    let mut chats = chatting();
    feed(&mut chats, 3, "I8", "interaction.offered", &offer("Miss Moneypenny"));
    let desk = desk_with(chats).await;
    assert_eq!(desk.text("chat-customer"), "James Bond", "the open chat");

    let accept: HtmlButtonElement =
        desk.root.query_selector("[data-offer=I8] [data-testid=offer-accept]").unwrap().unwrap().unchecked_into();
    accept.click();
    let actions = desk.take_actions();
    assert_eq!(actions, [UserAction::AcceptOffer("I8".into())]);

    // What the session does with that action, then the server's answer.
    desk.update(|view| {
        view.chats.accepted_by_agent("I8");
        view.chats.track(&RequestId::new("5"), Tracked::Accept("I8".into()));
        feed(&mut view.chats, 4, "I8", "interaction.added", &added("Miss Moneypenny"));
    })
    .await;
    assert_eq!(desk.text("chat-customer"), "Miss Moneypenny", "the accepted chat is shown");
}

#[wasm_bindgen_test]
async fn an_offer_card_is_readable_from_its_first_frame() {
    // The desktop's own style sheet, so the card's animation runs.
    let document = leptos::prelude::document();
    let style = document.create_element("style").unwrap();
    style.set_text_content(Some(include_str!("../www/style.css")));
    document.head().unwrap().append_child(&style).unwrap();

    let mut chats = Chats::new("alice");
    feed(&mut chats, 1, "I8", "interaction.offered", &offer("Miss Moneypenny"));
    let desk = desk_with(chats).await;
    let card = desk.get("offer");
    let window = leptos::prelude::window();
    let opacity = window.get_computed_style(&card).unwrap().unwrap().get_property_value("opacity").unwrap();
    style.remove();
    assert_eq!(opacity, "1", "no fade-in: the agent reads the offer at once");
}
