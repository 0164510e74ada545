//! Association of interactions with sessions (`seeds/interaction-interface.txt`)
//! over real WebSockets and SQLite: `OP-Session-ID`, the exact event order
//! of a move (new owner: added then present; old owner: deleted then
//! notcontrolled), one session holding many interactions, and deleting an
//! interaction without ending its session.

use crate::common::{TestServer, sql};
use crate::journey::{Desk, QUIET, config, started_chat};
use serde_json::{Value, json};

fn stored_owner(server: &TestServer, interaction: &str) -> (Value, Value) {
    let rows = sql(&server.db, "SELECT owner_session, properties FROM interactions WHERE id = ?1", &[interaction]);
    let properties: Value = serde_json::from_str(rows[0][1].as_str().unwrap()).unwrap();
    (rows[0][0].clone(), properties["OP-Session-ID"].clone())
}

#[tokio::test]
async fn a_transfer_moves_the_association_with_the_events_in_the_seed_order() {
    let server = TestServer::start_with(config("")).await;
    let mut alice = Desk::login(&server, "alice").await;
    let mut bob = Desk::login(&server, "bob").await;
    alice.ready().await;
    let (_james, _chat) = started_chat(&server, "jamesbond", "Billing").await;
    let (interaction, _) = alice.take_next().await;
    assert_eq!(stored_owner(&server, &interaction), (json!(alice.session), json!(alice.session)));
    alice.client.drain(QUIET).await;
    bob.ready().await;

    alice.client.ok(alice.command("transfer", &interaction, json!({"to": "bob"}))).await;
    // Until bob accepts, the chat stays alice's: she is told the transfer waits.
    let waiting = alice.client.expect_event("consult.updated").await;
    assert_eq!(waiting["data"], json!({"phase": "waiting", "to": "bob"}));
    assert_eq!(stored_owner(&server, &interaction), (json!(alice.session), json!(alice.session)));
    // Routing chose bob: alice, the holder, sees `RouteTarget` name him.
    let routed = alice.client.expect_event("EventPropertiesChanged").await;
    assert_eq!(routed["data"]["changed"]["RouteTarget"]["agent"], "bob", "{routed}");
    alice.client.drain(QUIET).await;

    // Bob's accept is the move: he gets interaction.added then
    // interaction.present (OP-Session-ID naming his session); alice then
    // gets exactly interaction.deleted and interaction.notcontrolled, back to back.
    assert_eq!(bob.offered().await, interaction);
    let added = bob.accept(&interaction).await;
    assert_eq!(added["data"]["properties"]["OP-Session-ID"], bob.session.as_str());
    let old: Vec<Value> = alice.client.drain(QUIET).await;
    let names: Vec<&str> = old.iter().map(|event| event["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["interaction.deleted", "interaction.notcontrolled"], "{old:?}");
    assert_eq!(old[0]["data"], json!({"reason": "moved"}));
    assert_eq!(old[1]["data"], json!({"movedTo": "bob"}));
    assert_eq!(old[1]["seq"], old[0]["seq"].as_u64().unwrap() + 1);
    // One commit: alice's side carries the same time as bob's.
    assert_eq!(old[0]["time"], added["time"]);
    assert_eq!(stored_owner(&server, &interaction), (json!(bob.session), json!(bob.session)));
    // Alice's session is unaffected and no longer hears of the chat.
    alice.client.ok(json!({"command": "notReady", "target": alice.session, "data": {"reason": "lunch"}})).await;
    let later = alice.event_names().await;
    assert_eq!(later, ["session.state"], "nothing about the moved chat reaches its old owner");
    // A command on the chat from the old owner is refused: it is not hers.
    alice
        .client
        .fails(alice.command("sendMessage", &interaction, json!({"clientId": "a1", "text": "hi"})), "not-found")
        .await;
}

#[tokio::test]
async fn one_session_holds_many_and_deleting_one_does_not_end_the_session() {
    let server = TestServer::start_with(config("")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (_james, _first_chat) = started_chat(&server, "jamesbond", "Billing").await;
    let (first, _) = alice.take_next().await;
    let (_eve, _second_chat) = started_chat(&server, "eve", "Invoice").await;
    let (second, _) = alice.take_next().await;
    assert_ne!(first, second);
    for interaction in [&first, &second] {
        assert_eq!(stored_owner(&server, interaction), (json!(alice.session), json!(alice.session)));
    }
    alice.client.drain(QUIET).await;

    alice.client.ok(alice.command("markDone", &first, json!({"disposition": "resolved"}))).await;
    let done: Vec<Value> = alice.client.drain(QUIET).await;
    let names: Vec<&str> = done.iter().map(|event| event["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["chat.left", "interaction.deleted", "interaction.notcontrolled"], "{done:?}");
    assert_eq!(done[1]["data"], json!({"reason": "done"}));
    assert_eq!(done[2]["data"], json!({}));

    // The session lives on, holding the other chat.
    let ended = sql(&server.db, "SELECT ended_at FROM agent_sessions WHERE id = ?1", &[&alice.session]);
    assert_eq!(ended[0][0], Value::Null, "deleting an interaction does not end its session");
    assert!(done.iter().all(|event| event["event"] != "session.ended"));
    alice.client.ok(alice.command("sendMessage", &second, json!({"clientId": "a1", "text": "Still here"}))).await;
    assert_eq!(stored_owner(&server, &second), (json!(alice.session), json!(alice.session)));
    // Logging out is refused while it still holds one.
    alice.client.fails(json!({"command": "endSession", "target": alice.session}), "invalid-state").await;
    alice.client.ok(alice.command("markDone", &second, json!({"disposition": "resolved"}))).await;
    alice.client.ok(json!({"command": "endSession", "target": alice.session})).await;
}

#[tokio::test]
async fn a_takeover_moves_every_held_interaction_to_the_new_session() {
    let server = TestServer::start_with(config("")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (_james, _chat) = started_chat(&server, "jamesbond", "Billing").await;
    let (interaction, version) = alice.take_next().await;
    alice.client.drain(QUIET).await;

    let mut second = server.agent().await;
    let response = second.prepare("alice", true).await;
    let session = response["resource"]["id"].as_str().unwrap().to_owned();
    let token = response["resource"]["token"].as_str().unwrap().to_owned();
    let old: Vec<Value> = alice.client.drain(QUIET).await;
    let names: Vec<&str> = old.iter().map(|event| event["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["interaction.deleted", "interaction.notcontrolled", "session.ended"], "{old:?}");
    assert_eq!(old[1]["data"], json!({"movedTo": "alice"}));

    let bound = second.ok(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
    // The snapshot lists the chat; the first bind replays the move from the start.
    assert_eq!(bound["data"]["interactions"], json!([interaction]), "{bound}");
    assert_eq!(bound["data"]["lastSeq"], 0);
    let added = second.next_event().await;
    assert_eq!(added["event"], "interaction.added", "{added}");
    assert_eq!(added["target"], format!("{session}.{interaction}"));
    assert_eq!(added["data"]["properties"]["OP-Session-ID"], session.as_str());
    // Moving the association is one property change: OP-Session-ID names the new session.
    assert_eq!(added["data"]["version"], version + 1);
    assert_eq!(second.next_event().await["event"], "interaction.present");
    assert_eq!(stored_owner(&server, &interaction), (json!(session), json!(session)));
}
