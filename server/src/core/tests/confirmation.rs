//! The agent-available confirmation's timer, in virtual time: what a
//! customer who does not confirm (or confirms but never starts) keeps or
//! loses. The integration test `chat_journey::a_customer_who_does_not_confirm_in_time_keeps_their_place`
//! proves the same timer fires through the driver on the wall clock; these
//! prove the rules without waiting for it.

use super::{ConnectionId, HASH, Harness, config, events, responses};
use crate::core::Endpoint;
use serde_json::{Value, json};

/// `routing` settings, and Dave: a Billing agent who takes one chat at a time.
fn config_with(routing: &str) -> crate::config::Config {
    config(&format!(
        "[[agents]]\nid = \"dave\"\nname = \"Dave Lee\"\npassword_hash = \"{HASH}\"\ngroups = [\"Billing\"]\ncapacity = 1\n\n[routing]\n{routing}"
    ))
}

/// A customer asks for a chat: the connection and what it was sent.
fn arrive(harness: &mut Harness, user: &str) -> (ConnectionId, Vec<Value>) {
    let connection = harness.connect(Endpoint::Customer);
    harness.customer(
        connection,
        json!({"command": "requestChat", "data": {"service": "chat-delay", "appdata": {"userId": user}}}),
    );
    let frames = harness.frames(connection);
    assert_eq!(responses(&frames)[0]["result"], "success", "{frames:?}");
    (connection, frames)
}

/// The last place in line (`pos`, `calls`) among `frames`, if any was told.
fn place(frames: &[Value]) -> Option<(u64, u64)> {
    let status = events(frames, "queue.status").pop()?;
    Some((status["data"]["pos"].as_u64()?, status["data"]["calls"].as_u64()?))
}

/// Dave (one chat at a time) is Ready; James is told an agent is available,
/// then Felix and Tiffany line up behind him. Returns the connections.
fn james_reserved_felix_and_tiffany_waiting(harness: &mut Harness) -> [ConnectionId; 4] {
    let (dave, session) = harness.desk("dave");
    harness.agent(dave, json!({"command": "ready", "target": session}));
    harness.frames(dave);
    let (james, told) = arrive(harness, "jamesbond");
    assert_eq!(events(&told, "notification").len(), 1, "{told:?}");
    let (felix, told) = arrive(harness, "felix");
    assert_eq!(place(&told), Some((1, 1)), "{told:?}");
    let (tiffany, told) = arrive(harness, "tiffany");
    assert_eq!(place(&told), Some((2, 2)), "{told:?}");
    assert_eq!(place(&harness.frames(felix)), Some((1, 2)));
    [dave, james, felix, tiffany]
}

#[test]
fn a_customer_who_does_not_confirm_in_time_keeps_their_place() {
    let mut harness = Harness::new(config_with("confirm_timeout_secs = 2"));
    let [dave, james, felix, tiffany] = james_reserved_felix_and_tiffany_waiting(&mut harness);

    harness.advance(1_900);
    assert!(harness.frames(james).is_empty(), "not before its time");
    harness.advance(200);
    let told = harness.frames(james);
    let expired = events(&told, "notification.expired");
    assert_eq!(expired.len(), 1, "{told:?}");
    assert_eq!(expired[0]["data"]["keptPlace"], true);
    assert_eq!(place(&told), Some((1, 2)), "James keeps the head of the line");
    // The agent goes to Felix, whom he was not held for before.
    assert_eq!(events(&harness.frames(felix), "notification").len(), 1);
    assert_eq!(place(&harness.frames(tiffany)), None, "Tiffany is still second: nothing to tell her");
    assert!(events(&harness.frames(dave), "interaction.offered").is_empty());
    // A late connect is refused; the request still waits.
    harness.customer(james, json!({"command": "connect"}));
    let refused = harness.frames(james);
    assert_eq!(responses(&refused)[0]["failure"]["code"], "invalid-state", "{refused:?}");
}

#[test]
fn with_requeue_a_customer_who_does_not_confirm_goes_to_the_back() {
    let mut harness = Harness::new(config_with("confirm_timeout_secs = 2\nmissed_confirmation = \"requeue\""));
    let [_, james, felix, tiffany] = james_reserved_felix_and_tiffany_waiting(&mut harness);

    harness.advance(2_100);
    let told = harness.frames(james);
    let expired = events(&told, "notification.expired");
    assert_eq!(expired.len(), 1, "{told:?}");
    assert_eq!(expired[0]["data"]["keptPlace"], false);
    assert_eq!(place(&told), Some((2, 2)), "behind Tiffany now");
    assert_eq!(events(&harness.frames(felix), "notification").len(), 1);
    assert_eq!(place(&harness.frames(tiffany)), Some((1, 2)));
}

#[test]
fn a_customer_who_confirms_but_never_starts_releases_the_agent() {
    let mut harness = Harness::new(config_with("confirm_timeout_secs = 1"));
    let (dave, session) = harness.desk("dave");
    harness.agent(dave, json!({"command": "ready", "target": session}));
    harness.frames(dave);
    let (james, told) = arrive(&mut harness, "jamesbond");
    assert_eq!(events(&told, "notification").len(), 1, "{told:?}");
    harness.customer(james, json!({"command": "connect"}));
    assert_eq!(events(&harness.frames(james), "dialog").len(), 1);

    // No startChat: after the deadline the reservation lapses and James is
    // told. He kept the head of the line, so the freed agent is reserved for
    // him again and he is asked again; the agent was never offered the chat.
    harness.advance(1_100);
    let told = harness.frames(james);
    let expired = events(&told, "notification.expired");
    assert_eq!(expired.len(), 1, "{told:?}");
    assert_eq!(expired[0]["data"]["keptPlace"], true);
    let names: Vec<&str> = told.iter().filter_map(|frame| frame["event"].as_str()).collect();
    let expired_at = names.iter().position(|name| *name == "notification.expired").expect("expired");
    assert!(names[expired_at..].contains(&"notification"), "asked again after the expiry: {names:?}");
    assert!(events(&harness.frames(dave), "interaction.offered").is_empty(), "no offer reached the agent");
}
