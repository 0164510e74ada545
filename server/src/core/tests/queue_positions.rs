//! A customer's place in line (`queue.status`: `pos`, `calls`) while a
//! consult waits on the same line: the consult is the agents' work, not a
//! customer ahead, so it neither adds to a customer's position nor moves it
//! when it is offered, taken back or cancelled.

use super::journeys::chat_with;
use super::{ConnectionId, HASH, Harness, config, events, responses};
use crate::core::Endpoint;
use serde_json::{Value, json};

/// A customer asks for a chat: the connection and what it was told.
fn arrive(harness: &mut Harness, user: &str) -> (ConnectionId, Vec<Value>) {
    let connection = harness.connect(Endpoint::Customer);
    let request = json!({"command": "requestChat", "data": {"service": "chat-delay", "appdata": {"userId": user}}});
    harness.customer(connection, request);
    let frames = harness.frames(connection);
    assert_eq!(responses(&frames)[0]["result"], "success", "{frames:?}");
    (connection, frames)
}

/// The places told among `frames`, in order: `(pos, calls)`.
fn places(frames: &[Value]) -> Vec<(u64, u64)> {
    events(frames, "queue.status")
        .iter()
        .filter_map(|status| Some((status["data"]["pos"].as_u64()?, status["data"]["calls"].as_u64()?)))
        .collect()
}

/// Alice holds a chat and is Not Ready (she takes nothing new): `(alice,
/// her session, the chat)`.
fn alice_busy(harness: &mut Harness) -> (ConnectionId, String, String) {
    let (alice, session) = harness.desk("alice");
    let (customer, _, _) = harness.new_customer("ana");
    harness.agent(alice, json!({"command": "ready", "target": session}));
    let interaction = chat_with(harness, customer, alice, &session);
    harness.agent(alice, json!({"command": "notReady", "target": session, "data": {"reason": "lunch"}}));
    harness.frames(alice);
    (alice, session, interaction)
}

#[test]
fn a_consult_waiting_on_the_customers_line_is_not_a_place_in_it() {
    let mut harness = Harness::new(config(""));
    let (alice, session, interaction) = alice_busy(&mut harness);
    let target = format!("{session}.{interaction}");

    // James waits first; then Alice asks the Billing group (the Billing
    // queue's target: the same line) for a consult, which waits behind him.
    let (james, told) = arrive(&mut harness, "james");
    assert_eq!(places(&told), [(1, 1)]);
    harness.agent(alice, json!({"command": "consult", "target": target, "data": {"to": "Billing@StatServer.GA"}}));
    assert_eq!(responses(&harness.frames(alice))[0]["result"], "success");
    assert_eq!(places(&harness.frames(james)), [], "James's place did not change");

    // Felix comes after the consult: second, of two customers.
    let (felix, told) = arrive(&mut harness, "felix");
    assert_eq!(places(&told), [(2, 2)], "{told:?}");
    assert_eq!(places(&harness.frames(james)), [(1, 2)], "James at the head is told the customers behind him");

    // Alice cancels the consult: nobody's place changes.
    harness.agent(alice, json!({"command": "cancelConsult", "target": target}));
    assert_eq!(responses(&harness.frames(alice))[0]["result"], "success");
    assert_eq!(places(&harness.frames(james)), []);
    assert_eq!(places(&harness.frames(felix)), []);
}

/// Dave, in Billing, takes one chat (or consult) at a time.
fn with_dave() -> crate::config::Config {
    config(&format!(
        "[[agents]]\nid = \"dave\"\nname = \"Dave Lee\"\npassword_hash = \"{HASH}\"\ngroups = [\"Billing\"]\ncapacity = 1\n"
    ))
}

#[test]
fn a_consult_offered_and_taken_back_does_not_move_the_customer_behind_it() {
    let mut harness = Harness::new(with_dave());
    let (alice, session, interaction) = alice_busy(&mut harness);
    let target = format!("{session}.{interaction}");
    harness.agent(alice, json!({"command": "consult", "target": target, "data": {"to": "Billing@StatServer.GA"}}));
    harness.frames(alice);

    // Felix waits behind the consult: first of one.
    let (felix, told) = arrive(&mut harness, "felix");
    assert_eq!(places(&told), [(1, 1)], "{told:?}");

    // Dave goes Ready: the consult, first in line, is offered to him (his
    // one slot); Felix is not told he moved, since he did not.
    let (dave, dave_session) = harness.desk("dave");
    harness.agent(dave, json!({"command": "ready", "target": dave_session}));
    assert_eq!(events(&harness.frames(dave), "interaction.offered").len(), 1);
    let told = harness.frames(felix);
    assert!(told.is_empty(), "the consult's offer moved Felix: {told:?}");

    // The offer times out: the consult waits again, ahead of Felix, who
    // still did not move.
    harness.advance(with_dave().routing.offer_timeout().as_millis() as u64 + 1);
    assert_eq!(events(&harness.frames(dave), "interaction.revoked").len(), 1);
    let told = harness.frames(felix);
    assert_eq!(places(&told), [], "the consult's return moved Felix: {told:?}");
}
