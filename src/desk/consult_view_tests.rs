//! The desktop's view of agents working together, folded from the events
//! the server sends: a consult offer is marked, the colleague sees the chat
//! as a consult with the private thread marked, the owner sees the consult's
//! steps, and a completed transfer makes the colleague the owner.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::chats::{Author, Chats};
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::event::{ConsultPhase, Event, PrivateKind, Role};

fn event(seq: u64, name: &str, data: &str) -> Event {
    let json = format!(r#"{{"seq":{seq},"target":"S2.I7","time":{},"event":"{name}","data":{data}}}"#, seq * 1000);
    match ServerMessage::from_json(&json).expect("test event parses") {
        ServerMessage::Event(event) => event,
        other => panic!("not an event: {other:?}"),
    }
}

const ALICE: &str = r#"{"kind":"agent","id":"alice","name":"Alice Martin"}"#;
const BOB: &str = r#"{"kind":"agent","id":"bob","name":"Bob Okafor"}"#;

fn added(role: &str) -> String {
    format!(
        r#"{{"customer":{{"kind":"customer","name":"James Bond"}},"queue":"Billing","properties":{{}},"version":3{role}}}"#
    )
}

#[test]
fn the_colleague_sees_a_marked_offer_then_the_chat_as_a_consult_then_owns_it() {
    let mut chats = Chats::new("bob");
    let offer = format!(
        r#"{{"customer":{{"kind":"customer","name":"James Bond"}},"queue":"Billing","expiresAt":31000,"consult":{{"from":{ALICE}}}}}"#
    );
    chats.apply(&event(1, "interaction.offered", &offer));
    assert_eq!(chats.offers[0].consult_from.as_deref(), Some("Alice Martin"));
    assert!(chats.announcement.contains("asks you to consult"), "{}", chats.announcement);

    chats.apply(&event(2, "interaction.added", &added(r#","role":"consult""#)));
    chats.apply(&event(3, "interaction.present", "{}"));
    let transcript = format!(
        r#"{{"messages":[{{"messageId":1,"from":{{"kind":"customer","name":"James Bond"}},"text":"Hello","time":1000}}],
            "private":[{{"messageId":2,"kind":"line","from":{ALICE},"text":"Can you refund?","time":1500}}]}}"#
    );
    chats.apply(&event(4, "chat.transcript", &transcript));
    let chat = chats.chat("I7").expect("the chat");
    assert_eq!(chat.role, Role::Consult);
    assert_eq!(chat.lines.len(), 2);
    assert_eq!((chat.lines[0].private, chat.lines[1].private), (None, Some(PrivateKind::Line)));

    let note = format!(r#"{{"messageId":3,"kind":"note","from":{BOB},"text":"Refund ok","time":2000}}"#);
    chats.apply(&event(5, "chat.private", &note));
    let line = chats.chat("I7").expect("the chat").lines.last().cloned().expect("a line");
    assert_eq!((line.private, line.author), (Some(PrivateKind::Note), Author::Me));

    let conference = format!(r#"{{"phase":"conference","colleague":{ALICE},"to":"bob"}}"#);
    chats.apply(&event(6, "consult.updated", &conference));
    assert_eq!(chats.chat("I7").expect("the chat").role, Role::Conference);

    // Complete transfer: added again, without a role: Bob owns it.
    chats.apply(&event(7, "interaction.added", &added("")));
    chats.apply(&event(8, "interaction.present", "{}"));
    let chat = chats.chat("I7").expect("the chat");
    assert_eq!(chat.role, Role::Owner);
    assert_eq!(chat.lines.last().map(|line| line.text.as_str()), Some("The chat is yours now."));
}

#[test]
fn the_owner_follows_the_consult_until_it_ends() {
    let mut chats = Chats::new("alice");
    chats.apply(&event(1, "interaction.added", &added("")));
    chats.apply(&event(2, "consult.updated", r#"{"phase":"waiting","to":"bob"}"#));
    assert_eq!(chats.chat("I7").and_then(|chat| chat.consult.clone()).map(|c| c.phase), Some(ConsultPhase::Waiting));
    chats.apply(&event(3, "consult.updated", &format!(r#"{{"phase":"accepted","colleague":{BOB},"to":"bob"}}"#)));
    let consult = chats.chat("I7").and_then(|chat| chat.consult.clone()).expect("a consult");
    assert_eq!((consult.phase, consult.with.as_str()), (ConsultPhase::Accepted, "Bob Okafor"));
    chats.apply(&event(4, "consult.updated", r#"{"phase":"cancelled","to":"bob"}"#));
    let chat = chats.chat("I7").expect("the chat");
    assert!(chat.consult.is_none());
    assert_eq!(chat.lines.last().map(|line| line.text.as_str()), Some("The consult was cancelled."));
}
